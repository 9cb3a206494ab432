#!/usr/bin/env bash
# `make fpga-all`: every board of scripts/boards.json through scripts/fpga.sh (bitstream and
# report.json), then each board configuration's post-synthesis simulation (scripts/synth.sh
# --board, tests/rtl/netlist_check.sh --board: GEMMs through the generic netlist of tsr_top
# at the board's parameters), then build/fpga/summary.md, the table README shows. Goes on
# past a failing board so the table shows every board; exits 1 if any step failed.
#
# Usage: scripts/fpga_all.sh [--no-sim] [BOARD ...]   (default: every board)
#        scripts/fpga_all.sh --check   `make test`'s share, bounded for CI: every board
#          synthesized (and checked to fit), place and route, bitstream and post-synthesis
#          simulation only for the boards marked "ci": true in scripts/boards.json; a
#          board's "known_gap" (boards.json) turns its shortfall into a report line
set -uo pipefail
# One compound command: bash reads it whole before running it, so editing this file (the
# working tree is shared) cannot change a build that is already running.
{

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
sim=1 check=0
[[ ${1-} == --no-sim ]] && { sim=0; shift; }
[[ ${1-} == --check ]] && { check=1; shift; }
mapfile -t boards < <(if (($#)); then printf '%s\n' "$@"; else python3 scripts/boards.py list; fi)

# A board may carry "known_gap" (what it does not reach yet, in words) and
# "known_gap_stage" ("fit" or "timing") in scripts/boards.json. --check then reports that
# shortfall without failing, and fails as soon as the board gets past it, so the table
# cannot go stale: a "fit" gap that fits, or a board routed in time despite its gap.
# Anything else that fails (synthesis errors, a board without a gap that misses, another
# shortfall than the one recorded, the netlist simulation) fails.
board_status() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("status",""))' \
                   "build/fpga/$1/report.json" 2>/dev/null || echo none; }
if ((check)); then
  failed=() gaps=()
  for b in "${boards[@]}"; do
    start=$SECONDS
    gap=$(python3 scripts/boards.py get "$b" known_gap 2>/dev/null || true)
    if [[ $(python3 scripts/boards.py get "$b" ci 2>/dev/null) == True ]]; then
      echo "=== $b: synthesis, place and route, bitstream, post-synthesis simulation"
      scripts/fpga.sh "$b"; rc=$? full=1
      { scripts/synth.sh --board "$b" && tests/rtl/netlist_check.sh --board "$b" --rtl rtl; } ||
        failed+=("$b (post-synthesis sim)")
    else
      echo "=== $b: synthesis"
      scripts/fpga.sh "$b" --synth-only; rc=$? full=0
    fi
    status=$(board_status "$b")
    stage=$(python3 scripts/boards.py get "$b" known_gap_stage 2>/dev/null || true)
    expected=""
    [[ $stage == fit ]] && expected=does-not-fit
    [[ $stage == timing ]] && expected=timing-failed
    if [[ -n $gap && -z $expected ]]; then
      failed+=("$b (known_gap needs known_gap_stage fit or timing)")
    elif ((rc == 0)) && [[ -n $gap && ( $stage == fit || $full == 1 ) ]]; then
      failed+=("$b (gets past what boards.json calls a known gap; update \"known_gap\")")
    elif ((rc != 0)) && [[ -n $gap && $status == "$expected" ]]; then
      gaps+=("$b: $status, known gap: $gap")
    elif ((rc != 0)); then
      failed+=("$b (${status:-fpga})")
    fi
    echo "=== $b: $((SECONDS - start)) s"
  done
  for g in "${gaps[@]}"; do echo "fpga-check: KNOWN GAP $g"; done
  if ((${#failed[@]})); then
    echo "fpga-check: FAILED: ${failed[*]}" >&2
    exit 1
  fi
  echo "fpga-check: every board synthesized; ${#gaps[@]} known gap(s), none new"
  exit 0
fi

failed=()
declare -A took=()
for b in "${boards[@]}"; do
  echo "=== $b: synthesis, place and route, bitstream"
  start=$SECONDS
  scripts/fpga.sh "$b" || failed+=("$b (fpga)")
  took[$b]="fpga $((SECONDS - start)) s"
  ((sim)) || continue
  echo "=== $b: post-synthesis simulation"
  start=$SECONDS
  if scripts/synth.sh --board "$b"; then
    tests/rtl/netlist_check.sh --board "$b" --rtl rtl || failed+=("$b (netlist sim)")
  else
    failed+=("$b (generic synth)")
  fi
  took[$b]+=", post-synthesis sim $((SECONDS - start)) s"
done

mkdir -p build/fpga
python3 scripts/fpga_report.py summary "${boards[@]}" >build/fpga/summary.md
echo "=== summary (build/fpga/summary.md)"
cat build/fpga/summary.md
for b in "${boards[@]}"; do echo "$b: ${took[$b]}"; done
if ((${#failed[@]})); then
  echo "fpga-all: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fpga-all: every board built and its netlist simulated"
exit
}
