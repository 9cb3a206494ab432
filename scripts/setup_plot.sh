#!/usr/bin/env bash
# Installs the pinned plotting library of scripts/plot-requirements.txt into its own venv
# (build/venv-plot) for `make bench-sparse`. Idempotent: a no-op once it is in place.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/pinned_venv.sh" "$root/build/venv-plot" "$root/scripts/plot-requirements.txt" setup_plot
