#!/usr/bin/env bash
# Installs the pinned plotting library of scripts/plot-requirements.txt into its own venv
# (build/venv-plot) for `make bench-sparse`. Idempotent: a no-op once it is in place.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$root/build/venv-plot
reqs=$root/scripts/plot-requirements.txt
[[ -x $venv/bin/python ]] || python3 -m venv "$venv"
want=$(grep -vE '^\s*(#|$)' "$reqs" | tr 'A-Z_' 'a-z-' | sort)
have=$("$venv/bin/python" -m pip freeze --disable-pip-version-check 2>/dev/null |
       tr 'A-Z_' 'a-z-' | sort || true)
if [[ -n $(comm -23 <(echo "$want") <(echo "$have")) ]]; then
  echo "setup_plot: installing $(tr '\n' ' ' <<<"$want")into ${venv#"$root"/}"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$reqs" </dev/null
fi
