#!/usr/bin/env bash
# Installs the Debian 12 packages Tessera needs. Idempotent and non-interactive: CI runs it
# on a fresh machine with no stdin, developers run it on every `make build` (a no-op then).
set -euo pipefail

packages=(
  build-essential     # g++, make
  cmake               # the build (and ctest)
  pkg-config          # the installed package's .pc files, checked by ctest package_install
  doxygen             # make docs: the API reference from the public headers
  verilator           # RTL -> C++ model, RTL lint
  libboost-dev        # Boost.Asio (TCP sim server, serial transport)
  nlohmann-json3-dev  # JSON (configs, reports)
  libcli11-dev        # command-line parsing of the tessera tool
  catch2              # unit/system tests (v2 in bookworm)
  gtkwave             # waveform viewing, headless PNG capture
  xvfb                # headless X for gtkwave in CI
  xauth               # xvfb-run needs it, but xvfb only Recommends it
  python3             # regression runner, vector generation
  zlib1g-dev          # Verilator FST tracing
  lcov                # genhtml: the HTML report of `make coverage`
  libonnx-dev         # the ONNX project's C++ library: reads models for `tessera onnx`
  libprotobuf-dev     # its protobuf headers (libonnx-dev does not depend on them)
  python3-venv        # the project-local Python environments (ONNX Runtime, YoWASP tools)
  python3-dev         # Python.h: the tessera Python extension (pip install ., make python)
)

missing=()
for pkg in "${packages[@]}"; do
  # Ask dpkg for the exact install state; a removed-but-configured package reads as missing.
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=()
if ((EUID != 0)); then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi

# noninteractive + -y: never prompt (tzdata and friends), CI has no stdin.
# --no-install-recommends: keep the install lean and deterministic; real needs are listed above.
# apt's chatter goes to a log that is shown only if something fails.
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { "${sudo[@]}" apt-get update -q &&
       "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; } </dev/null >"$log" 2>&1; then
  cat "$log" >&2
  echo "setup: FAILED to install: ${missing[*]} (apt-get output above)" >&2
  exit 1
fi
echo "setup: installed ${missing[*]}"
