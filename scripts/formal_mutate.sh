#!/usr/bin/env bash
# Runs one proof against an edited copy of an RTL file, to show a property can fail (a
# mutation the proof must catch) or to try an RTL fix before it lands. The copy and a
# rewritten .sby live in build/formal/mut/<id>/; the tree is not touched.
#
# Usage: scripts/formal_mutate.sh [--expect-pass] FILE:TASK RTL_PATH SED_EXPR [ID]
#   e.g. scripts/formal_mutate.sh tsr_fifo:prove_d4 rtl/mem/tsr_fifo.sv \
#          's/assign do_push = push_i \&\& !full_o;/assign do_push = push_i;/'
# Exit 0 when the proof failed (mutation caught) — or passed, with --expect-pass.
# scripts/formal_mutate.sh --all runs every line of tests/formal/mutations.txt.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if [[ ${1:-} == --all ]]; then
  caught=0 missed=0
  while IFS='|' read -r id job rtl expr; do
    [[ -z $id || $id == \#* ]] && continue
    id=$(echo "$id" | xargs) job=$(echo "$job" | xargs) rtl=$(echo "$rtl" | xargs)
    expr=$(echo "$expr" | sed 's/^ *//; s/ *$//')
    if "$0" "$job" "$rtl" "$expr" "$id" >/dev/null 2>&1; then
      echo "CAUGHT  $id ($job)"; caught=$((caught + 1))
    else
      echo "MISSED  $id ($job): see build/formal/mut/$id.log"; missed=$((missed + 1))
    fi
  done <tests/formal/mutations.txt
  echo "formal_mutate: $caught caught, $missed missed"
  ((missed == 0))
  exit
fi

expect=fail
[[ ${1:-} == --expect-pass ]] && { expect=pass; shift; }
(($# >= 3)) || { sed -n '2,12p' "$0" >&2; exit 2; }
job=$1 rtl=$2 expr=$3 id=${4:-manual}
name=${job%%:*}

dir=build/formal/mut/$id
rm -rf "$dir"; mkdir -p "$dir/sby"
cp "$rtl" "$dir/"
sed -i -e "$expr" "$dir/$(basename "$rtl")"
if cmp -s "$rtl" "$dir/$(basename "$rtl")"; then
  echo "formal_mutate: $id: the edit changed nothing in $rtl" >&2; exit 2
fi
# Same proof, with the [files] line of that RTL file pointing at the edited copy.
sed "s#^$rtl\$#$dir/$(basename "$rtl")#" "tests/formal/$name.sby" >"$dir/sby/$name.sby"

if FORMAL_SBY_DIR=$dir/sby FORMAL_OUT=$dir scripts/formal.sh "$job" >"$dir.log" 2>&1; then
  result=pass
elif grep -qE 'Assert failed|failed assertion|unreached cover' "$dir.log"; then
  result=fail
else
  # Not a property failure: the edit broke elaboration, or a tool failed. Never "caught".
  grep -E 'ERROR' "$dir.log" | head -4 >&2 || true
  echo "formal_mutate: $id: the proof did not run (see $dir.log)" >&2
  exit 2
fi
grep -E '^(PASS|FAIL)|Assert failed|failed assertion' "$dir.log" | head -4
echo "formal_mutate: $id: proof ${result}ed (expected: $expect)"
[[ $result == "$expect" ]]
