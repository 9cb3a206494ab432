#!/usr/bin/env bash
# Builds the wire-protocol and tessera-sim server tests (and tessera-sim itself, when
# the engine library is configured) with AddressSanitizer + UndefinedBehaviorSanitizer
# in a separate build directory, and runs them. Called by `make test`.
#
#   scripts/sanitize.sh            # into build/asan/
#   BUILD_DIR=/tmp/asan JOBS=4 scripts/sanitize.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build/asan}"
jobs="${JOBS:-$(nproc 2>/dev/null || echo 2)}"

# Debug (-O0 -g): compiles 3-4x faster than -O2 here and the reports keep line numbers.
cmake -S "$root" -B "$build" -DTESSERA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
# test_server depends on tessera-sim when that target exists, so this builds it too.
cmake --build "$build" --parallel "$jobs" --target test_protocol test_executor test_server

# Any report fails the run: -fno-sanitize-recover=all makes UBSan fatal; ASan halts on
# the first error and LeakSanitizer checks at exit.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
ctest --test-dir "$build" --label-regex '^server$' --output-on-failure
