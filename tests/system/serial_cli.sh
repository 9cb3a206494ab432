#!/usr/bin/env bash
# The CLI over a serial device, as a shell user runs it: tessera-sim --pty (the engine
# behind the request executor) and --board icebreaker --pty (the board's UART bridge at
# the bit level), then `tessera gemm ... --check --device serial:///dev/pts/N`; a missing
# device exits 3 and a malformed spec exits 2 (docs/protocol.md, "Serial").
#   serial_cli.sh TESSERA_SIM TESSERA
set -u
sim_bin=$1
cli_bin=$2
failures=0
sim_pid=

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
stop_sim() {
  if [ -n "$sim_pid" ]; then
    kill -TERM "$sim_pid" 2>/dev/null
    wait "$sim_pid"
    local rc=$?
    [ "$rc" -eq 0 ] || fail "tessera-sim exited $rc after SIGTERM"
    sim_pid=
  fi
  exec 3<&- 2>/dev/null
}
trap 'stop_sim' EXIT

# Starts tessera-sim with "$@" and sets $pty from its "pty /dev/pts/N" line.
start_sim() {
  exec 3< <("$sim_bin" "$@")
  sim_pid=$!
  local line
  if ! read -r -t 120 line <&3 || [ "${line#pty /dev/}" = "$line" ]; then
    fail "tessera-sim $* printed '${line:-nothing}' instead of 'pty /dev/...'"
    return 1
  fi
  pty=${line#pty }
}

# expect CODE DESCRIPTION COMMAND...
expect() {
  local want=$1 what=$2
  shift 2
  "$@" > /tmp/serial_cli.$$ 2>&1
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    fail "$what: exit $rc, expected $want: $*"
    cat /tmp/serial_cli.$$
  else
    echo "ok: $what (exit $rc)"
  fi
  rm -f /tmp/serial_cli.$$
}

if start_sim --pty; then
  expect 0 "gemm --check over tessera-sim --pty" \
    "$cli_bin" gemm --m 8 --k 8 --n 8 --check --device "serial://$pty"
  expect 0 "a second run on the same terminal, at an explicit baud rate" \
    "$cli_bin" gemm --m 9 --k 17 --n 5 --seed 7 --check --device "serial://$pty?baud=1000000"
  stop_sim
fi

if start_sim --board icebreaker --pty; then
  expect 0 "gemm --check over the iCEBreaker's UART bridge, bit level" \
    "$cli_bin" gemm --m 8 --k 8 --n 8 --check --device "serial://$pty"
  stop_sim
fi

expect 3 "a missing serial device" \
  "$cli_bin" gemm --m 8 --k 8 --n 8 --check --device serial:///dev/tessera-no-such-tty
expect 2 "a relative serial path" \
  "$cli_bin" gemm --m 8 --k 8 --n 8 --check --device serial://ttyUSB0
expect 2 "a bad baud rate" \
  "$cli_bin" gemm --m 8 --k 8 --n 8 --check --device "serial:///dev/ttyUSB0?baud=fast"
expect 2 "--board without --pty" "$sim_bin" --board icebreaker
expect 2 "an unknown board" "$sim_bin" --board no-such-board --pty

[ "$failures" -eq 0 ] && echo "serial CLI: all passed"
exit $((failures > 0))
