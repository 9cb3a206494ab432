#!/usr/bin/env bash
# Makes VENV hold every pin of REQUIREMENTS (creating the venv if needed); a no-op when it
# already does. Shared by the setup scripts of the project-local Python environments.
#
# Usage: scripts/pinned_venv.sh VENV REQUIREMENTS NAME   (NAME: the caller, for messages)
set -euo pipefail
venv=$1 reqs=$2 name=$3
[[ -x $venv/bin/python ]] || python3 -m venv "$venv"
want=$(grep -vE '^\s*(#|$)' "$reqs" | tr 'A-Z_' 'a-z-' | sort)
have=$("$venv/bin/python" -m pip freeze --disable-pip-version-check 2>/dev/null |
       tr 'A-Z_' 'a-z-' | sort || true)
if [[ -n $(comm -23 <(echo "$want") <(echo "$have")) ]]; then
  echo "$name: installing $(grep -cv '^$' <<<"$want") pinned packages of ${reqs##*/} into ${venv##*/build/}"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$reqs" </dev/null
fi
