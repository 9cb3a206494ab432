#!/usr/bin/env bash
# Installs what `make synth`, `make fpga` and `make fpga-all` need into the project's one
# Python venv (build/venv, or $FORMAL_VENV): the formal tools of scripts/setup_formal.sh
# (YoWASP yosys with read_slang, sby, yices) plus the pinned nextpnr-ecp5 / nextpnr-ice40
# with ecppack / icepack of scripts/fpga-requirements.txt. Idempotent and non-interactive: a
# no-op when everything is in place, so the synthesis and FPGA scripts run it every time.
#
# Usage: scripts/setup_fpga.sh [--quiet]   (--quiet: print only what was installed)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${FORMAL_VENV:-$root/build/venv}
reqs=$root/scripts/fpga-requirements.txt
quiet=0
[[ ${1-} == --quiet ]] && quiet=1

# yosys, its runtime (yowasp-runtime, wasmtime: shared with nextpnr) and the venv itself.
formal_out=$("$root/scripts/setup_formal.sh") || { echo "$formal_out" >&2; exit 1; }
((quiet)) && formal_out=$(grep -v '^setup_formal: Yosys' <<<"$formal_out" || true)
[[ -z $formal_out ]] || echo "$formal_out"

# Current when every pin is installed (pip freeze also lists the formal tools).
want=$(grep -vE '^\s*(#|$)' "$reqs" | tr 'A-Z_' 'a-z-' | sort)
have=$("$venv/bin/python" -m pip freeze --disable-pip-version-check 2>/dev/null |
       tr 'A-Z_' 'a-z-' | sort || true)
if [[ -n $(comm -23 <(echo "$want") <(echo "$have")) ]]; then
  echo "setup_fpga: installing the pinned FPGA tools into ${venv#"$root"/}"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$reqs" </dev/null
fi

# Each YoWASP tool compiles its WebAssembly for this machine on its first call (tens of
# seconds, cached in ~/.cache/YoWASP): pay that here, once, not inside a timed build. The
# version calls are quick once cached. icepack has no --version: its usage text exits 1.
versions=()
for tool in nextpnr-ecp5 nextpnr-ice40 ecppack; do
  if ! out=$("$venv/bin/yowasp-$tool" --version 2>&1); then
    echo "$out" >&2
    echo "setup_fpga: yowasp-$tool does not run" >&2
    exit 1
  fi
  versions+=("$(sed -n '$p' <<<"$out" | tr -d '()')")
done
out=$("$venv/bin/yowasp-icepack" --help 2>&1 || true)
if [[ $out != *Usage* ]]; then
  echo "$out" >&2
  echo "setup_fpga: yowasp-icepack does not run" >&2
  exit 1
fi
((quiet)) || echo "setup_fpga: ${versions[0]##*Version }, ${versions[2]#Project Trellis }, icepack in ${venv#"$root"/}"
