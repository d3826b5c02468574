#!/bin/bash
# The soak benchmark (bench/soak.exs; `make bench-soak`, 10 minutes by
# default): a private epmd, pga-node, then the driver, which starts the
# service and client nodes itself. Environment: PGA_NODE, ELIXIR, EPMD, BENCH_SOAK_SECONDS,
# BENCH_SOAK_WORKERS.
set -u
here=$(cd "$(dirname "$0")" && pwd)
PGA_NODE=${PGA_NODE:-$here/../src/pga-node}
ELIXIR=${ELIXIR:-elixir}
EPMD=${EPMD:-epmd}
host=$(hostname -s)
cookie="pga_soakb_$$_$RANDOM"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pga-soakb.XXXXXX") || exit 1
epmd_port=$((20000 + RANDOM % 40000))
pga_pid=
cleanup() {
  [ -n "$pga_pid" ] && kill -TERM "$pga_pid" 2>/dev/null && wait "$pga_pid" 2>/dev/null
  "$EPMD" -port "$epmd_port" -kill >/dev/null 2>&1
  [ "${BENCH_KEEP_LOGS:-0}" = 1 ] && echo "logs in $tmp" >&2 || rm -rf "$tmp"
}
trap cleanup EXIT
export ERL_EPMD_PORT=$epmd_port
"$EPMD" -daemon -port "$epmd_port" -relaxed_command_check || exit 1
sleep 0.3
${PGA_WRAPPER:-} "$PGA_NODE" --sname pga_soak --cookie "$cookie" --log-level warn \
  >"$tmp/pga.log" 2>&1 </dev/null &
pga_pid=$!
for _ in $(seq 100); do grep -q "^pga-node ready" "$tmp/pga.log" && break; sleep 0.1; done
BENCH_PGA_NODE=pga_soak@$host BENCH_PGA_OSPID=$pga_pid BENCH_ELIXIR=$(command -v "$ELIXIR") \
BENCH_COOKIE=$cookie "$ELIXIR" --sname pga_soakb_driver --cookie "$cookie" \
  "$here/soak.exs" </dev/null
