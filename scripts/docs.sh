#!/usr/bin/env bash
# make docs: runs Doxygen on docs/Doxyfile and fails on any warning, so that a broken
# reference in a header comment or a usage page is caught (ctest docs runs this too).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p build/docs
doxygen docs/Doxyfile
if [[ -s build/docs/warnings.log ]]; then
  cat build/docs/warnings.log >&2
  echo "docs: FAILED, Doxygen warnings above (build/docs/warnings.log)" >&2
  exit 1
fi
echo "docs: build/docs/html/index.html"
