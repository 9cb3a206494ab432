#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, then builds and runs a program outside
# the tree against it twice: once through find_package(tessera) (CMake), once through
# pkg-config and plain g++. Usage: check_install.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: check_install.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { echo "check_install: $*"; }
fail() { echo "check_install: FAILED: $*" >&2; exit 1; }

step "cmake --install into $work/prefix"
cmake --install "$build" --prefix "$work/prefix" >"$work/install.log" ||
  { cat "$work/install.log" >&2; fail "cmake --install"; }
for f in include/tessera/tessera.hpp lib/cmake/tessera/tesseraConfig.cmake \
         lib/cmake/tessera/tesseraConfigVersion.cmake lib/pkgconfig/tessera.pc \
         lib/pkgconfig/tessera-sim.pc; do
  [[ -f $work/prefix/$f ]] || fail "not installed: $f"
done
[[ ! -e $work/prefix/include/tessera/onnx.hpp ]] || fail "onnx.hpp installed without its library"
soname=$(objdump -p "$work/prefix/lib/libtessera.so" | awk '$1 == "SONAME" { print $2 }')
[[ $soname == libtessera.so.1 ]] || fail "libtessera SONAME is '$soname', expected libtessera.so.1"
# Private dependencies stay private: no installed header names them.
if grep -rlE '#include <(boost|nlohmann|zlib|google/protobuf)' "$work/prefix/include"; then
  fail "an installed header includes a private dependency"
fi

step "each installed header compiles on its own"
for header in "$work"/prefix/include/tessera/*.hpp; do
  echo "#include <tessera/$(basename "$header")>" |
    g++ -std=c++20 -fsyntax-only -I"$work/prefix/include" -x c++ - ||
    fail "tessera/$(basename "$header") does not compile on its own"
done

step "CMake consumer (find_package(tessera 1.0))"
cmake -S "$here/consumer" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release >"$work/configure.log" ||
  { cat "$work/configure.log" >&2; fail "configuring the CMake consumer"; }
cmake --build "$work/cmake-build" >"$work/build.log" 2>&1 ||
  { cat "$work/build.log" >&2; fail "building the CMake consumer"; }
"$work/cmake-build/consumer" || fail "the CMake consumer's GEMM"

step "pkg-config consumer (pkg-config --cflags --libs tessera-sim)"
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
flags=$(pkg-config --cflags --libs tessera-sim) || fail "pkg-config tessera-sim"
# shellcheck disable=SC2086  # the flags are words
g++ -O1 "$here/consumer/main.cpp" -o "$work/pkg-consumer" $flags \
  -Wl,-rpath,"$(pkg-config --variable=libdir tessera)" || fail "building with pkg-config flags"
"$work/pkg-consumer" || fail "the pkg-config consumer's GEMM"
step "PASS"
