#!/usr/bin/env bash
# Installs ONNX Runtime, onnx, numpy and scikit-learn (scripts/onnx-requirements.txt) into
# the project-local venv build/onnx-venv: the reference the ONNX tests compare against.
# Idempotent and non-interactive: a no-op when every pin is installed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$root/build/onnx-venv
reqs=$root/scripts/onnx-requirements.txt

[[ -x $venv/bin/python ]] || python3 -m venv "$venv"
want=$(grep -vE '^\s*(#|$)' "$reqs" | tr 'A-Z_' 'a-z-' | sort)
have=$("$venv/bin/python" -m pip freeze --disable-pip-version-check 2>/dev/null |
       tr 'A-Z_' 'a-z-' | sort || true)
if [[ -n $(comm -23 <(echo "$want") <(echo "$have")) ]]; then
  echo "setup_onnx: installing onnxruntime, onnx, numpy, scikit-learn into build/onnx-venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$reqs" </dev/null
fi
"$venv/bin/python" -c 'import onnxruntime, onnx, sklearn; print(
    f"setup_onnx: onnxruntime {onnxruntime.__version__}, onnx {onnx.__version__} in build/onnx-venv")'
