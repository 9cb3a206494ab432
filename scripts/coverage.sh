#!/usr/bin/env bash
# Coverage of tsr_top under the constrained-random command-stream testbench
# (tests/rtl/cmd_stream_tb.cpp): Verilator --coverage (line, toggle and user coverage, i.e.
# the RTL's SVA `cover property` points), on the 4x4 and 8x4 engines the testbench is built
# for, several seeds each. Writes under build/coverage/:
#   coverage.dat     merged Verilator coverage data
#   annotated/       the RTL sources annotated with counts (verilator_coverage --annotate)
#   html/            an lcov genhtml report, when genhtml is installed (scripts/setup.sh)
#   cover_points.txt every functional cover point (name ending _C) with its count
# and prints a one-line summary. Exit 0 when every run passed and every cover point was hit,
# 1 when a run failed or a cover point stayed at 0, 2 on a build error.
#
# Environment: COV_SEEDS (default 4), COV_COMMANDS (commands per run, default 5000),
# COV_CONFIGS (default "4x4 8x4"), COV_TB_ARGS (more testbench flags, e.g. the triage flag
# --no-overflow), BUILD (default build).
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
self=$root/scripts/coverage.sh
build=${BUILD:-$root/build}
out=$build/coverage
seeds=${COV_SEEDS:-4}
commands=${COV_COMMANDS:-5000}
configs=${COV_CONFIGS:-4x4 8x4}
tb_args=${COV_TB_ARGS:-}
mkdir -p "$out"
cd "$out" || exit 2

rtl=$root/rtl
sources=("$rtl/pkg/tsr_pkg.sv")
for f in "$rtl"/*/*.sv; do
  case $f in */pkg/*|*/board/*) ;; *) sources+=("$f") ;; esac
done

declare -A params=(
  [4x4]="-GRows=4 -GCols=4 -GActDepth=64 -GWgtDepth=64 -GAccDepth=16 -GParamDepth=16"
  [8x4]="-GRows=8 -GCols=4 -GActDepth=128 -GWgtDepth=128 -GAccDepth=32 -GParamDepth=16 -GCmdFifoDepth=4"
)
declare -A prefix=([4x4]=Vtsr_top [8x4]=Vtsr_top_8x4)

# ---- build: both models with coverage, one testbench binary (rebuilt when inputs change) ----
stamp_want=$(cat "${sources[@]}" "$root"/tests/rtl/{cmd_stream_tb.cpp,top_host.hpp,isa_model.cpp,isa_model.hpp} \
             "$root"/sw/src/{golden.cpp,isa.cpp} "$self" | md5sum | cut -d' ' -f1)
binary=$out/cmd_stream_tb_cov
if [[ ! -x $binary || ! -f stamp || $(cat stamp) != "$stamp_want" ]]; then
  rm -rf obj_* stamp
  echo "coverage: Verilating tsr_top (4x4, 8x4) with --coverage --assert"
  start=$SECONDS
  for config in 4x4 8x4; do
    # shellcheck disable=SC2086
    verilator --cc --build -j 1 -O2 --assert --coverage -Wno-fatal -Wno-lint -Wno-style \
      --top-module tsr_top --prefix "${prefix[$config]}" --Mdir "obj_$config" \
      ${params[$config]} "${sources[@]}" >"verilator_$config.log" 2>&1 &
  done
  wait
  for config in 4x4 8x4; do
    if [[ ! -f obj_$config/${prefix[$config]}__ALL.a ]]; then
      echo "coverage: Verilator build FAILED ($config); last lines of verilator_$config.log:" >&2
      tail -n 20 "verilator_$config.log" >&2
      exit 2
    fi
  done
  inc=/usr/share/verilator/include
  if ! g++ -std=c++20 -O2 -I"$inc" -I"$inc/vltstd" -Iobj_4x4 -Iobj_8x4 -I"$root/tests/rtl" \
      -I"$root/sw/include" -DVM_COVERAGE=1 -DVM_SC=0 -DVM_TRACE=0 -DVM_TRACE_FST=0 \
      -DVM_TRACE_VCD=0 "$root/tests/rtl/cmd_stream_tb.cpp" "$root/tests/rtl/isa_model.cpp" \
      "$root/sw/src/golden.cpp" "$root/sw/src/isa.cpp" obj_4x4/Vtsr_top__ALL.a \
      obj_8x4/Vtsr_top_8x4__ALL.a "$inc/verilated.cpp" "$inc/verilated_threads.cpp" \
      "$inc/verilated_cov.cpp" -lpthread -o "$binary" 2>compile.log; then
    echo "coverage: testbench compile FAILED; last lines of compile.log:" >&2
    tail -n 20 compile.log >&2
    exit 2
  fi
  echo "$stamp_want" >stamp
  echo "coverage: built in $((SECONDS - start)) s"
fi

# ---- run ------------------------------------------------------------------------------------
rm -f run_*.dat
failed=0
runs=0
for config in $configs; do
  for ((seed = 1; seed <= seeds; seed++)); do
    runs=$((runs + 1))
    # shellcheck disable=SC2086
    if ! TSR_COVERAGE_FILE=run_${config}_$seed.dat "$binary" --config "$config" --seed "$seed" \
        --commands "$commands" --quiet $tb_args >"run_${config}_$seed.log" 2>&1; then
      failed=$((failed + 1))
      echo "coverage: run FAILED (its coverage still counts):"
      grep -E "^FAIL|reproduce|%Error" "run_${config}_$seed.log" | sed 's/^/  /'
    fi
  done
done

# ---- reports --------------------------------------------------------------------------------
verilator_coverage --write coverage.dat run_*.dat >merge.log 2>&1 || { cat merge.log; exit 2; }
rm -rf annotated
verilator_coverage --annotate annotated coverage.dat >annotate.log 2>&1
if command -v genhtml >/dev/null; then
  verilator_coverage --write-info coverage.info coverage.dat >/dev/null 2>&1 &&
    genhtml --quiet --output-directory html coverage.info >genhtml.log 2>&1 ||
    echo "coverage: genhtml failed (see $out/genhtml.log)"
fi

python3 - "$out" "$runs" "$failed" <<'EOF'
import os, re, sys
out, runs, failed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
kinds = {}  # line / toggle / branch / user: [points, hit]
covers = {}  # hierarchical name -> count
with open(os.path.join(out, "coverage.dat"), encoding="latin-1") as f:
    for line in f:
        m = re.match(r"C '(.*)' (\d+)\s*$", line)
        if not m:
            continue
        fields = dict(kv.split("\x02", 1) for kv in m.group(1).split("\x01") if "\x02" in kv)
        count = int(m.group(2))
        kind = fields.get("page", "").split("/")[0].replace("v_", "")
        bucket = kinds.setdefault(kind, [0, 0])
        bucket[0] += 1
        bucket[1] += count > 0
        if kind == "user":
            name = fields.get("h", fields.get("o", "?"))
            covers[name] = covers.get(name, 0) + count
functional = {n: c for n, c in covers.items() if n.endswith("_C")}
with open(os.path.join(out, "cover_points.txt"), "w") as f:
    for name in sorted(functional):
        f.write(f"{functional[name]:10d}  {name}\n")
print("coverage: functional cover points (count, name):")
for name in sorted(functional):
    print(f"  {functional[name]:10d}  {name}{'   <-- NEVER HIT' if functional[name] == 0 else ''}")
zero = [n for n, c in functional.items() if c == 0]
def pct(kind):
    points, hit = kinds.get(kind, [0, 0])
    return f"{kind} {hit}/{points} ({100.0 * hit / points:.1f}%)" if points else f"{kind} n/a"
print(f"coverage: {pct('line')}, {pct('toggle')}, {pct('branch')}, "
      f"cover points {len(functional) - len(zero)}/{len(functional)} hit; "
      f"{runs - failed}/{runs} runs passed; report in {out}/"
      f"{'html/index.html' if os.path.isdir(os.path.join(out, 'html')) else 'annotated/'}")
if not functional:
    print("coverage: no cover points named *_C found in the RTL")
sys.exit(1 if zero or failed or not functional else 0)
EOF
