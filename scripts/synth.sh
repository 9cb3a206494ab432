#!/usr/bin/env bash
# Synthesizes the engine with Yosys 0.23 as a synthesizability gate: no multiple drivers,
# no combinational loops, no undriven wires, no latches. Writes the gate-level netlist to
# build/synth/<top>_netlist.v so tests can simulate it (Yosys 0.23's SV frontend can
# mis-synthesize silently, so the netlist must be checked against the RTL, not trusted).
#
# Usage: scripts/synth.sh [--ice40] [NAME=VALUE ...]
#   NAME=VALUE     override/add a top-level parameter (e.g. Rows=8 Cols=8)
#   --ice40        map to iCE40 (synth_ice40 -dsp) and print cell usage instead
# Environment: SYNTH_TOP (default tsr_top), SYNTH_PARAMS (replaces the default parameter
#   list), RTL_DIR (default rtl/), SYNTH_OUT (default build/synth).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rtl=${RTL_DIR:-$root/rtl}
out=${SYNTH_OUT:-$root/build/synth}
top=${SYNTH_TOP:-tsr_top}

# Small default config: generic synth flattens everything, and a 16x16 array with full-size
# buffers takes far too long on a 2-core CI machine. The 4x4 config exercises every path.
default_params=""
[[ $top == tsr_top ]] && default_params="Rows=4 Cols=4 ActDepth=64 WgtDepth=64 AccDepth=16 ParamDepth=16"
read -ra params <<<"${SYNTH_PARAMS-$default_params}"

ice40=0
for arg in "$@"; do
  case $arg in
    --ice40) ice40=1 ;;
    *=*) params+=("$arg") ;;
    *) echo "usage: $0 [--ice40] [NAME=VALUE ...]" >&2; exit 2 ;;
  esac
done

# Later NAME=VALUE wins (arguments override the defaults); keep first-seen order for the log.
declare -A value=(); order=()
for p in "${params[@]}"; do
  [[ -v value[${p%%=*}] ]] || order+=("${p%%=*}")
  value[${p%%=*}]=${p#*=}
done
chparams="" shown=""
for n in "${order[@]}"; do chparams+=" -set $n ${value[$n]}"; shown+=" $n=${value[$n]}"; done

# Package first (Yosys resolves tsr_pkg::X at parse time), then every module file.
# Board tops are excluded: they instantiate vendor primitives and belong to the FPGA flow.
mapfile -t pkgs < <(ls "$rtl/pkg/tsr_pkg.sv" 2>/dev/null; find "$rtl/pkg" -name '*.sv' ! -name tsr_pkg.sv | sort)
mapfile -t mods < <(find "$rtl" -name '*.sv' ! -path "$rtl/pkg/*" ! -path "$rtl/board/*" | sort)

mkdir -p "$out"
# The iCE40 run keeps its own files so it never clobbers the generic netlist or its log.
sfx=""
if ((ice40)); then sfx=_ice40; fi
log=$out/yosys$sfx.log
stat_file=$out/stat$sfx.txt
ys=$out/$top$sfx.ys

# -defer: elaborate only the parameterization asked for, not every module at its (large)
# defaults first. Parameters go through `chparam -set`, not `hierarchy -chparam`: in Yosys
# 0.23 the latter dies on an internal assert (rtlil.cc:663) as soon as the top instantiates
# a module whose port widths depend on a parameter.
# check -assert turns check's warnings (multiple drivers, logic loops, undriven wires) into
# errors. It runs right after proc because synth's opt passes silently turn an undriven
# wire into a constant, and again on the mapped netlist. proc is where latches are born, so
# select -assert-none rejects them there (and again after synth, for $_DLATCH_* cells).
latches='t:$dlatch t:$adlatch t:$dlatchsr t:$_DLATCH_* t:$_DLATCHSR_*'
script="read_verilog -sv -defer ${pkgs[*]} ${mods[*]}
${chparams:+chparam$chparams $top}
hierarchy -check -top $top
proc
flatten
check -assert
select -assert-none $latches
"
if ((ice40)); then
  product=$out/${top}_ice40.json
  script+="synth_ice40 -dsp -top $top -json $product
check -assert
tee -q -o $stat_file stat"
else
  product=$out/${top}_netlist.v
  script+="synth -flatten -top $top
check -assert
select -assert-none $latches
tee -q -o $stat_file stat
write_verilog -noattr $product"
fi
# Never leave a stale netlist behind a failed run: tests would simulate the old one.
rm -f "$product"
# Kept as a file so a failure can be reproduced by hand: yosys -s build/synth/<top>.ys
echo "$script" >"$ys"

echo "synth: $top${sfx:+ [iCE40]}${shown:+ with$shown}, log in $log"
if ! yosys -q -l "$log" -s "$ys" >/dev/null 2>&1; then
  echo "synth: FAILED ($top); last lines of $log:" >&2
  tail -n 30 "$log" >&2
  exit 1
fi
# Warnings do not fail the run, but they are worth a look.
warnings=$(grep -c '^Warning:' "$log" || true)
((warnings == 0)) || echo "synth: $warnings warning(s), see $log"
# stat: the cell counts show at a glance whether the design blew up or lost logic.
sed -n '/Number of cells/,$p' "$stat_file"
echo "synth: clean, ${sfx:+iCE40 }netlist in $product"
