#!/usr/bin/env bash
# Installs ONNX Runtime, onnx, numpy and scikit-learn (scripts/onnx-requirements.txt) into
# the project-local venv build/onnx-venv: the reference the ONNX tests compare against.
# Idempotent and non-interactive: a no-op when every pin is installed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
reqs=$root/scripts/onnx-requirements.txt
"$root/scripts/pinned_venv.sh" "$root/build/onnx-venv" "$reqs" setup_onnx
echo "setup_onnx: $(grep -E '^(onnxruntime|onnx)==' "$reqs" | paste -sd ' ') in build/onnx-venv"
