#!/bin/bash
# The benchmark harness behind `make bench`: starts a private epmd, pga-node,
# the BEAM baseline node (bench/target.exs) and the drivers, waits for each
# to be ready, runs the echo driver (bench/driver.exs) and then the gateway
# driver (bench/gateway.exs, not with BENCH_BASELINE_ONLY=1), and stops
# everything it started, whatever happens.
#
# Environment:
#   PGA_NODE             pga-node binary (default: src/pga-node beside this
#                        script's build, as `make bench` passes it)
#   ELIXIR, EPMD         the tools (default: from PATH)
#   BENCH_SECONDS        measured seconds per run (default 5)
#   BENCH_WARMUP_SECONDS warm-up seconds before each run (default 1)
#   BENCH_CONCURRENCY    caller counts (default 1,8,64)
#   BENCH_CSV            also write the echo figures to this CSV file
#   BENCH_GATEWAY_CSV    also write the gateway figures to this CSV file
#   BENCH_GATEWAY        0 = skip the gateway benchmark
#   BENCH_BASELINE_ONLY  1 = measure the BEAM baseline only (no pga-node)
#   BENCH_KEEP_LOGS      1 = keep the node logs (their folder is printed)
set -u

here=$(cd "$(dirname "$0")" && pwd)
PGA_NODE=${PGA_NODE:-$here/../src/pga-node}
ELIXIR=${ELIXIR:-elixir}
EPMD=${EPMD:-epmd}
HOST=127.0.0.1
cookie="pga_bench_$$_$RANDOM$RANDOM"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pga-bench.XXXXXX") || exit 1
epmd_port=
pga_pid=
target_pid=
driver_pid=

log() { echo "pga-bench: $*" >&2; }

# Sends SIGTERM to pid and waits up to 5 s before SIGKILL.
stop_pid() {
  local pid=$1 i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

cleanup() {
  set +e
  trap - EXIT INT TERM
  stop_pid "$driver_pid"
  stop_pid "$target_pid"
  stop_pid "$pga_pid"
  if [ -n "$epmd_port" ]; then
    "$EPMD" -port "$epmd_port" -kill >/dev/null 2>&1
  fi
  if [ "${BENCH_KEEP_LOGS:-0}" = 1 ]; then
    log "logs kept in $tmp"
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  log "$*"
  for f in "$tmp"/*.log; do
    [ -s "$f" ] || continue
    echo "---- $(basename "$f")" >&2
    tail -n 20 "$f" >&2
  done
  exit 1
}

# A TCP port on which nothing listens now (bash's /dev/tcp connects).
free_port() {
  local p i
  for i in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/$HOST/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# Waits up to $3 seconds for the line $2 in file $1 while pid $4 lives.
wait_for_line() {
  local file=$1 pattern=$2 secs=$3 pid=$4 i
  for i in $(seq $((secs * 10))); do
    grep -q "$pattern" "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

if [ "${BENCH_BASELINE_ONLY:-0}" != 1 ] && [ ! -x "$PGA_NODE" ]; then
  fail "no pga-node at $PGA_NODE (build it, or set BENCH_BASELINE_ONLY=1)"
fi

# ---- a private epmd ----
epmd_port=$(free_port) || fail "no free port for epmd"
export ERL_EPMD_PORT=$epmd_port
"$EPMD" -daemon -port "$epmd_port" -relaxed_command_check \
  || fail "epmd -daemon failed"
for i in $(seq 50); do
  "$EPMD" -port "$epmd_port" -names >/dev/null 2>&1 && break
  sleep 0.1
done
"$EPMD" -port "$epmd_port" -names >/dev/null 2>&1 \
  || fail "epmd did not start on port $epmd_port"

# ---- pga-node ----
pga_name=
if [ "${BENCH_BASELINE_ONLY:-0}" != 1 ]; then
  pga_name="pga_bench_pga@$HOST"
  "$PGA_NODE" --name "$pga_name" --cookie "$cookie" --log-level warn \
    >"$tmp/pga.log" 2>&1 </dev/null &
  pga_pid=$!
  wait_for_line "$tmp/pga.log" "^pga-node ready" 15 "$pga_pid" \
    || fail "pga-node did not get ready"
fi

# ---- the BEAM baseline ----
beam_name="pga_bench_beam@$HOST"
"$ELIXIR" --name "$beam_name" --cookie "$cookie" "$here/target.exs" \
  >"$tmp/beam.log" 2>&1 </dev/null &
target_pid=$!
wait_for_line "$tmp/beam.log" "^pga-bench target ready" 30 "$target_pid" \
  || fail "the baseline node did not get ready"

# ---- the drivers ----
# Runs driver script $1 (node name $2) in the background and waits for it;
# its exit status in rc.
run_driver() {
  BENCH_BEAM_NODE=$beam_name BENCH_PGA_NODE=$pga_name \
    "$ELIXIR" --name "$2@$HOST" --cookie "$cookie" "$here/$1" </dev/null &
  driver_pid=$!
  wait "$driver_pid"
  rc=$?
  driver_pid=
  if [ -n "$pga_pid" ] && ! kill -0 "$pga_pid" 2>/dev/null; then
    fail "pga-node died during $1"
  fi
}

run_driver driver.exs pga_bench_driver
echo_rc=$rc
gw_rc=0
if [ -n "$pga_name" ] && [ "${BENCH_GATEWAY:-1}" != 0 ]; then
  run_driver gateway.exs pga_bench_gateway
  gw_rc=$rc
fi
[ "$echo_rc" = 0 ] || fail "the echo driver failed (exit $echo_rc)"
[ "$gw_rc" = 0 ] || fail "the gateway driver failed (exit $gw_rc)"
exit 0
