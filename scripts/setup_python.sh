#!/usr/bin/env bash
# Builds the tessera Python package and installs it into the project-local venv
# build/python-venv with NumPy and pytest (scripts/python-requirements.txt): what
# tests/python run in. `pip install .` rebuilds only what changed since the last run
# (build/python-wheel/, pyproject.toml), so a second run takes seconds.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$root/build/python-venv
"$root/scripts/pinned_venv.sh" "$venv" "$root/scripts/python-requirements.txt" setup_python
echo "setup_python: building and installing the tessera package into build/python-venv"
# Without build isolation the build uses the venv's pinned backend, whose paths stay the
# same between runs, so the CMake build directory is reused.
CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} \
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-build-isolation \
  --no-deps "$root" </dev/null
"$venv/bin/python" -c 'import tessera; print("setup_python: tessera", tessera.Device("sim").info()["version"], "engine in build/python-venv")'
