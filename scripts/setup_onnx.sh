#!/usr/bin/env bash
# Installs ONNX Runtime, onnx, numpy and scikit-learn (scripts/onnx-requirements.txt) into
# the project-local venv build/onnx-venv: the reference the ONNX tests compare against.
# Idempotent and non-interactive: a no-op when every pin is installed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$root/build/onnx-venv
"$root/scripts/pinned_venv.sh" "$venv" "$root/scripts/onnx-requirements.txt" setup_onnx
"$venv/bin/python" -c 'import onnxruntime, onnx, sklearn; print(
    f"setup_onnx: onnxruntime {onnxruntime.__version__}, onnx {onnx.__version__} in build/onnx-venv")'
