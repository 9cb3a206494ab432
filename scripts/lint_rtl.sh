#!/usr/bin/env bash
# Lints every RTL module on its own with `verilator --lint-only -Wall`, using its default
# parameters, so each block stays clean when reused or tested alone (CONVENTIONS.md rule 6).
# Then lints tsr_top once more at 4x4, the small config the tests use.
# Waivers live only in rtl/lint_waivers.vlt. Exit 1 on any warning or error.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rtl=${RTL_DIR:-$root/rtl}   # overridable so the script can be tried on a scratch tree
waivers=$rtl/lint_waivers.vlt

# Packages must be parsed before their users: tsr_pkg first, then any other package (the
# board bridge's among them). Everything else is one module per file, named like the file.
mapfile -t pkgs < <(ls "$rtl/pkg/tsr_pkg.sv" 2>/dev/null
                    find "$rtl/pkg" -name '*.sv' ! -name tsr_pkg.sv | sort
                    find "$rtl" -name '*_pkg.sv' ! -path "$rtl/pkg/*" | sort)
mapfile -t mods < <(find "$rtl" -name '*.sv' ! -path "$rtl/pkg/*" ! -name '*_pkg.sv' | sort)
# Board tops instantiate vendor PLL primitives: their simulation models (sim/board/) stand
# in for them, as in the board simulation. They are parsed, never linted as modules.
mapfile -t models < <(find "${SIM_BOARD_DIR:-$root/sim/board}" -name '*.sv' 2>/dev/null | sort)

((${#pkgs[@]})) || { echo "lint: no package found in $rtl/pkg" >&2; exit 1; }
vlt=()
[[ -f $waivers ]] && vlt=("$waivers")   # config file first so its waivers apply to every source

# lint NAME ARGS...: one Verilator run; prints its output and returns 1 on any message.
lint() {
  local name=$1 out; shift
  out=$(verilator --lint-only -Wall "${vlt[@]}" "${pkgs[@]}" "${mods[@]}" "${models[@]}" "$@" 2>&1)
  # Non-zero exit or any %Warning/%Error counts: -Wall warnings are fatal by default anyway.
  if (($? != 0)) || grep -q '^%\(Warning\|Error\)' <<<"$out"; then
    echo "lint: FAIL $name"
    echo "$out"
    return 1
  fi
}

failed=0 clean=0
for f in "${mods[@]}"; do
  m=$(basename "$f" .sv)
  if lint "$m" --top-module "$m"; then ((clean++)); else ((failed++)); fi
done
if [[ -f $rtl/top/tsr_top.sv ]]; then
  lint "tsr_top (Rows=4 Cols=4)" --top-module tsr_top -GRows=4 -GCols=4 || ((failed++))
  # The sparse path's scratchpads deeper than ACT and WGT widen the load unit's addresses.
  lint "tsr_top (4x4, META/GBUF deepest)" --top-module tsr_top -GRows=4 -GCols=4 \
       -GActDepth=256 -GWgtDepth=128 -GMetaDepth=4096 || ((failed++))
  lint "tsr_top (4x4, no sparse path)" --top-module tsr_top -GRows=4 -GCols=4 -GSparse=0 ||
    ((failed++))

  # Illegal configurations must stop at elaboration, with the check's message.
  rejected=0
  while read -r why params; do
    # shellcheck disable=SC2086  # the parameter list is meant to split
    out=$(verilator --lint-only -Wall "${vlt[@]}" "${pkgs[@]}" "${mods[@]}" --top-module tsr_top \
          -GRows=4 -GCols=4 $params 2>&1)
    if (($? == 0)) || ! grep -q '\(USERERROR\|%Error\).*\(must\|too small\)' <<<"$out"; then
      echo "lint: FAIL tsr_top accepted an illegal configuration ($why: $params)"
      echo "$out" | head -5
      ((failed++))
    else
      ((rejected++))
    fi
  done <<'CONFIGS'
fifo-not-pow2 -GCmdFifoDepth=12
fifo-too-deep -GCmdFifoDepth=256
fifo-too-small -GCmdFifoDepth=1
act-not-pow2 -GActDepth=100
param-below-cols -GParamDepth=2
array-too-small -GRows=1
wgt-below-rows -GWgtDepth=2
rq-lanes-not-divisor -GRqLanes=3
rq-lanes-zero -GRqLanes=0
lut-mul-cols-over -GLutMulCols=5
sparse-not-bit -GSparse=2
gbuf-not-pow2 -GGbufDepth=100
meta-too-small -GMetaDepth=1
sparse-acc-below-rows -GAccDepth=2
acc-write-reg-no-forward -GAccWriteReg=1 -GAccForward=0
rq-deep-lean -GRqDeep=1 -GRqLean=1
csr-reg-not-bit -GCsrReg=2
serial-mul-not-bit -GSerialMul=2
CONFIGS
  echo "lint: tsr_top rejects $rejected illegal configurations at elaboration"
fi

if ((failed)); then
  echo "lint: $failed run(s) failed, $clean modules clean"
  exit 1
fi
echo "lint: $clean modules clean"
