#!/usr/bin/env bash
# Renders an FST trace to a PNG without a display (xvfb-run + GTKWave), for docs and CI
# artifacts.
#   scripts/wave_png.sh [TRACE.fst [VIEW.gtkw [OUT.png]]]
# TRACE  the trace; without one, a demo trace of the first GEMM command of a small
#        kernel is made with build/bin/tessera (into build/waves/demo.fst).
# VIEW   a GTKWave save file (default sim/waves/overview.gtkw); a view that sets a zoom
#        (the capture's) keeps it, others are zoomed to fit the whole trace.
# OUT    the PNG (default: TRACE with .png).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-$root/build}
trace=${1:-}
view=${2:-$root/sim/waves/overview.gtkw}

for tool in gtkwave xvfb-run; do
  command -v "$tool" >/dev/null || { echo "wave_png: $tool not found (make setup installs it)" >&2; exit 1; }
done

if [[ -z $trace ]]; then
  tessera=$build/bin/tessera
  [[ -x $tessera ]] || { echo "wave_png: $tessera not built (make build)" >&2; exit 1; }
  mkdir -p "$build/waves"
  trace=$build/waves/demo.fst
  # Commands 0-2 load ACT, WGT and PARAM; command 3 is the first GEMM.
  "$tessera" gemm --m 48 --k 40 --n 24 --seed 1 --trace "$trace" --trace-kernel 3 >/dev/null
fi
[[ -f $trace ]] || { echo "wave_png: no trace '$trace'" >&2; exit 1; }
[[ -f $view ]] || { echo "wave_png: no view '$view'" >&2; exit 1; }
out=${3:-${trace%.fst}.png}
rm -f "$out"

script=$(mktemp --suffix=.tcl)
trap 'rm -f "$script"' EXIT
{
  # A view with a zoom line ("*...") places itself; the others are zoomed to fit.
  grep -q '^\*' "$view" || echo 'gtkwave::/Time/Zoom/Zoom_Full'
  echo "gtkwave::/File/Grab_To_File {$out}"
  echo 'gtkwave::/File/Quit'
} >"$script"

log=$(mktemp)
if ! timeout 300 xvfb-run -a -s "-screen 0 1600x1000x24" \
    gtkwave --rcvar 'splash_disable on' -S "$script" "$trace" "$view" >"$log" 2>&1 || [[ ! -s $out ]]; then
  cat "$log" >&2
  rm -f "$log"
  echo "wave_png: GTKWave did not write $out" >&2
  exit 1
fi
rm -f "$log"
echo "wrote $out"
