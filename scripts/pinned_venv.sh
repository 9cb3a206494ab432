#!/usr/bin/env bash
# Makes VENV hold every pin of REQUIREMENTS (creating the venv if needed); a no-op when it
# already does. Shared by the setup scripts of the project-local Python environments.
#
# Usage: scripts/pinned_venv.sh VENV REQUIREMENTS NAME   (NAME: the caller, for messages)
set -euo pipefail
venv=$1 reqs=$2 name=$3

# Fast path: the stamp holds the hash of the requirements last found installed in full.
stamp=$venv/.pinned-requirements.sha256
hash=$(sha256sum <"$reqs" | cut -d' ' -f1)
[[ -x $venv/bin/python && -f $stamp && $(<"$stamp") == "$hash" ]] && exit 0

# A venv without pip (an interrupted creation) is made again.
"$venv/bin/python" -m pip --version >/dev/null 2>&1 || python3 -m venv --clear "$venv"
want=$(grep -vE '^\s*(#|$)' "$reqs" | tr 'A-Z_' 'a-z-' | sort)
have=$("$venv/bin/python" -m pip freeze --disable-pip-version-check | tr 'A-Z_' 'a-z-' | sort)
if [[ -n $(comm -23 <(echo "$want") <(echo "$have")) ]]; then
  echo "$name: installing $(grep -cv '^$' <<<"$want") pinned packages of ${reqs##*/} into ${venv##*/build/}"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$reqs" </dev/null
  "$venv/bin/python" -m pip check --disable-pip-version-check >/dev/null
fi
echo "$hash" >"$stamp"
