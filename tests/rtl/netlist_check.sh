#!/usr/bin/env bash
# Simulates Yosys's gate-level netlist of tsr_top (scripts/synth.sh) with the end-to-end
# testbench tests/rtl/netlist_tb.cpp: small GEMMs through the AXI ports, compared bit-exactly
# with the testbench's C++ reference. A synthesis frontend (Yosys's read_slang here) can
# mis-synthesize silently, so the netlist is checked, not trusted. The same testbench runs against the RTL
# as ctest's rtl_top_tb, which shows the testbench itself is right.
#
# Usage: tests/rtl/netlist_check.sh [NETLIST] [--board NAME] [--workdir DIR] [--rtl RTL_DIR]
#                                   [-- TB_ARGS...]
#   NETLIST     default build/synth/tsr_top_netlist.v (what `make synth` writes)
#   --board     a board's configuration (scripts/boards.json): the netlist defaults to
#               build/synth/NAME/tsr_top_netlist.v (scripts/synth.sh --board NAME), the
#               testbench is compiled for that board's array and buffer sizes
#   --workdir   where the Verilated netlist is built (default build/netlist_check); reused
#               while the netlist and testbench are unchanged
#   --rtl       RTL directory: skip when any of its .sv files is newer than the netlist
#   TB_ARGS     passed to the testbench, e.g. --seed 7 --verbose
# Exit: 0 all GEMMs match; 1 first mismatch printed; 2 usage, config or build error;
#       77 skipped (no netlist, or one older than the RTL: run `make synth` first).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
netlist=$root/build/synth/tsr_top_netlist.v
workdir=$root/build/netlist_check
rtl=""
tb_args=()
netlist_given=0
board=""
while (($#)); do
  case $1 in
    --board) board=${2:?--board needs a name}; shift 2 ;;
    --workdir) workdir=${2:?--workdir needs a directory}; shift 2 ;;
    --rtl) rtl=${2:?--rtl needs a directory}; shift 2 ;;
    --) shift; tb_args=("$@"); break ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "netlist_check: unknown option $1" >&2; exit 2 ;;
    *) ((netlist_given)) && { echo "netlist_check: one netlist only" >&2; exit 2; }
       netlist=$1; netlist_given=1; shift ;;
  esac
done

# The testbench's configuration: the 4x4 default of engine_bench.hpp, or the board's.
defines=()
if [[ -n $board ]]; then
  params=$(python3 "$root/scripts/boards.py" params "$board") || exit 2
  ((netlist_given)) || netlist=$root/build/synth/$board/tsr_top_netlist.v
  [[ $workdir != "$root/build/netlist_check" ]] || workdir=$root/build/netlist_check/$board
  declare -A p=()
  for word in $params; do p[${word%%=*}]=${word#*=}; done
  defines=(-CFLAGS "-DTSR_ROWS=${p[Rows]} -DTSR_COLS=${p[Cols]} -DTSR_ACT_DEPTH=${p[ActDepth]}"
           -CFLAGS "-DTSR_WGT_DEPTH=${p[WgtDepth]} -DTSR_ACC_DEPTH=${p[AccDepth]}"
           -CFLAGS "-DTSR_PARAM_DEPTH=${p[ParamDepth]} -DTSR_SPARSE=0")
fi

if [[ ! -f $netlist ]]; then
  echo "netlist_check: SKIPPED: no netlist at $netlist"
  echo "  run \`make synth\` (scripts/synth.sh${board:+ --board $board}) first; \`make test\` does."
  exit 77
fi
if [[ -n $rtl ]]; then
  newer=$(find "$rtl" -name '*.sv' -newer "$netlist" -print -quit)
  if [[ -n $newer ]]; then
    echo "netlist_check: SKIPPED: $netlist is older than $newer"
    echo "  the netlist would not show the current RTL; run \`make synth\` again."
    exit 77
  fi
fi

tb=$here/netlist_tb.cpp
# The reference's requantization and command encoding are libtessera's; these two sources
# need nothing else of it (no Boost, no JSON), so they compile straight into the testbench.
libtessera=("$root/sw/src/golden.cpp" "$root/sw/src/isa.cpp")
mkdir -p "$workdir"
workdir=$(cd "$workdir" && pwd)
binary=$workdir/obj/Vtsr_top
stamp=$workdir/stamp
# Rebuild only when the netlist, the testbench (and its bench header) or this script changed.
want=$( (cat "$netlist" "$tb" "$here/engine_bench.hpp" "${libtessera[@]}" "$0"; echo "${defines[*]}") |
       md5sum | cut -d" " -f1)
if [[ ! -x $binary || ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  rm -rf "$workdir/obj" "$stamp"
  log=$workdir/verilator.log
  echo "netlist_check: Verilating $netlist (log in $log)"
  start=$SECONDS
  # The netlist is ~80k generic gates in huge straight-line functions: g++ -O0 compiles it
  # several times faster than -Os and simulates the few thousand cycles needed in well under
  # a second. UNOPTFLAT: bit-blasted vectors look like loops to Verilator; they are not.
  # -fno-const-bit-op-tree: Verilator 5.006's bit-op-tree optimization miscompiles Yosys
  # gate netlists (the upstream bug class of verilator/verilator#4059, whose workaround this
  # is): with it, the netlist of tsr_systolic_array computes wrong column sums, which Icarus
  # and `verilator -O0` get right.
  if ! verilator --cc --exe --build -j "$(nproc)" \
      -Wno-fatal -Wno-lint -Wno-style -Wno-UNOPTFLAT -fno-const-bit-op-tree \
      --top-module tsr_top --Mdir "$workdir/obj" \
      -CFLAGS -std=c++20 -CFLAGS "-I$here" -CFLAGS "-I$root/sw/include" "${defines[@]}" \
      -MAKEFLAGS "OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O1" \
      "$netlist" "$tb" "${libtessera[@]}" >"$log" 2>&1; then
    echo "netlist_check: Verilator build FAILED; last lines of $log:" >&2
    tail -n 30 "$log" >&2
    exit 2
  fi
  echo "$want" >"$stamp"
  echo "netlist_check: built in $((SECONDS - start)) s"
fi

echo "netlist_check: simulating $netlist"
"$binary" "${tb_args[@]}"
rc=$?
case $rc in
  0) echo "netlist_check: PASS, the netlist matches the reference" ;;
  1) echo "netlist_check: FAIL, the netlist differs from the reference (see above)" ;;
  *) echo "netlist_check: ERROR (testbench exit $rc)" ;;
esac
exit "$rc"
