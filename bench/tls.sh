#!/bin/bash
# Distribution over TLS against a BEAM-to-BEAM TLS baseline in one run
# (`make bench-tls`): certificates made with tests/interop/tls/make-certs.sh,
# a private epmd, pga-node with --proto-dist inet_tls --ssl-dist-optfile,
# the BEAM echo node (bench/target.exs) and the driver (bench/tls_driver.exs)
# with -proto_dist inet_tls. Short names on this host (OTP 25 checks host
# names against certificates). Environment: PGA_NODE, ELIXIR, EPMD,
# BENCH_SECONDS, BENCH_WARMUP_SECONDS, BENCH_CONCURRENCY.
set -u
here=$(cd "$(dirname "$0")" && pwd)
PGA_NODE=${PGA_NODE:-$here/../src/pga-node}
ELIXIR=${ELIXIR:-elixir}
EPMD=${EPMD:-epmd}
host=$(hostname -s)
cookie="pga_tls_bench_$$_$RANDOM"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pga-tls-bench.XXXXXX") || exit 1
pids=()
epmd_port=$((20000 + RANDOM % 40000))

cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  "$EPMD" -port "$epmd_port" -kill >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

wait_line() { # file pattern seconds
  for _ in $(seq $(($3 * 10))); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "pga-tls-bench: no '$2' in $1" >&2
  tail -5 "$1" >&2
  exit 1
}

"$here/../tests/interop/tls/make-certs.sh" "$tmp/tls" "$host" || exit 1
conf=$tmp/tls/dist.conf
export ERL_EPMD_PORT=$epmd_port
"$EPMD" -daemon -port "$epmd_port" -relaxed_command_check || exit 1
sleep 0.3
export ERL_AFLAGS="-proto_dist inet_tls -ssl_dist_optfile $conf"

"$PGA_NODE" --sname pga_tls_bench_pga --cookie "$cookie" --log-level warn \
  --proto-dist inet_tls --ssl-dist-optfile "$conf" >"$tmp/pga.log" 2>&1 </dev/null &
pids+=($!)
pga_ospid=$!
disown "$pga_ospid" # killed by pid at exit: no job notice
wait_line "$tmp/pga.log" "^pga-node ready" 15

"$ELIXIR" --sname pga_tls_bench_beam --cookie "$cookie" "$here/target.exs" \
  >"$tmp/beam.log" 2>&1 </dev/null &
pids+=($!)
disown "$!"
wait_line "$tmp/beam.log" "^pga-bench target ready" 30
# elixir's wrapper script execs erl: the OS process serving is the beam.smp
# child of that pid, or the pid itself.
beam_ospid=$(pgrep -P "${pids[1]}" beam.smp || echo "${pids[1]}")
[ -r "/proc/$beam_ospid/stat" ] || beam_ospid=${pids[1]}

BENCH_BEAM_NODE=pga_tls_bench_beam@$host BENCH_PGA_NODE=pga_tls_bench_pga@$host \
BENCH_BEAM_OSPID=$beam_ospid BENCH_PGA_OSPID=$pga_ospid \
  "$ELIXIR" --sname pga_tls_bench_driver --cookie "$cookie" "$here/tls_driver.exs" </dev/null
