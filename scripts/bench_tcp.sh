#!/usr/bin/env bash
# The TCP backend's cost: `tessera bench gemm` on the in-process engine and through a
# tessera-sim on loopback (best wall time of RUNS each), then the loopback bulk throughput
# and per-call costs of TcpTransport (test_server '[.bench]'). Called by `make bench-tcp`.
#
#   scripts/bench_tcp.sh [M K N]        # default 256 256 256
#   BUILD=build RUNS=3 scripts/bench_tcp.sh
set -euo pipefail

build="${BUILD:-build}"
runs="${RUNS:-3}"
m="${1:-256}" k="${2:-256}" n="${3:-256}"
bin="$build/bin"
for exe in tessera tessera-sim test_server; do
  [[ -x $bin/$exe ]] || { echo "bench_tcp: $bin/$exe not built (run make build)" >&2; exit 2; }
done

log=$(mktemp)
server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -f "$log"
}
trap cleanup EXIT

"$bin/tessera-sim" --listen 127.0.0.1:0 >"$log" 2>&1 &
server_pid=$!
address=
for _ in $(seq 100); do
  address=$(sed -n 's/^listening on //p' "$log")
  [[ -n $address ]] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; exit 3; }
  sleep 0.1
done
[[ -n $address ]] || { echo "bench_tcp: tessera-sim did not start" >&2; cat "$log" >&2; exit 3; }

# Best wall time of $runs runs of one backend.
best_wall() {
  local best= wall
  for _ in $(seq "$runs"); do
    wall=$("$bin/tessera" bench gemm --m "$m" --k "$k" --n "$n" --json "$@" | tail -n 1 |
      python3 -c 'import json, sys; r = json.load(sys.stdin); assert r["check"] == "PASS"; print(r["wall_s"])')
    best=$(python3 -c "print(min(float('$wall'), float('${best:-inf}')))")
  done
  echo "$best"
}

echo "bench gemm ${m}x${k}x${n}, best wall time of $runs runs:"
sim=$(best_wall --device sim)
tcp=$(best_wall --device "tcp://$address")
python3 - "$sim" "$tcp" <<'PY'
import sys
sim, tcp = map(float, sys.argv[1:])
print(f"  in-process          {sim:.4f} s")
print(f"  tcp (tessera-sim)   {tcp:.4f} s")
print(f"  overhead            {100 * (tcp / sim - 1):+.1f} %")
PY
echo "TcpTransport against an engine that only loops data back:"
"$bin/test_server" '[.bench]' | grep -E 'MB/s|round trip|posted' | sed 's/^/  /'
