#!/bin/bash
# The benchmark harness behind `make bench` and `make bench-gateway`: starts
# a private epmd, pga-node, the BEAM baseline node (bench/target.exs) and the
# drivers, waits for each to be ready, and stops everything it started,
# whatever happens. `make bench` (BENCH_SUITE=echo) runs the echo driver
# (bench/driver.exs) and then the gateway driver (bench/gateway.exs, not
# with BENCH_BASELINE_ONLY=1). `make bench-gateway` (BENCH_SUITE=gateway-cpu)
# also starts the BEAM gateway stand-in (bench/beam_gateway.exs) and, when
# ERL_LIBS holds PhoenixGenApi, a gateway running the library
# (bench/library_gateway.exs), and runs bench/gateway_cpu.exs, which
# documents its own settings (BENCH_ONLY, BENCH_TARGETS, BENCH_CALLERS,
# BENCH_REQUESTS, BENCH_SECONDS, ...). `make bench-bigterm`
# (BENCH_SUITE=bigterm) runs bench/bigterm.exs: a big echo while a
# bystander node echoes small terms (its own settings: BENCH_BIG_*).
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
#   BENCH_CHANNELS       0 = skip the Phoenix Channels endpoint benchmark
#                        (bench/channels.exs with the C driver
#                        BENCH_WS_LOAD, default bench/ws_load beside the
#                        build's pga-node)
#   BENCH_KEEP_LOGS      1 = keep the node logs (their folder is printed)
#   BENCH_SUITE          echo (default), gateway-cpu, bigterm or push (the
#                        config push benchmark: bench/push.exs against
#                        bench/push_target.exs, which runs the library when
#                        ERL_LIBS holds it, as BENCH_LIBRARY says, else a
#                        BEAM stand-in)
#   BENCH_DATA_DIR       push: 1 = pga-node runs with a --data-dir
#                        (durable pushes); default in memory
#   BENCH_PGA_ARGS       extra words for pga-node's command line
#   BENCH_SERVER_NICE    run pga-node and the BEAM baseline node under
#                        `nice -n N` (e.g. -10 on a machine busy with other
#                        work, so the servers' own scheduling is measured)
#   BENCH_LIBRARY        gateway-cpu: auto (default: when ERL_LIBS holds
#                        phoenix_gen_api), 1 (required) or 0 (never)
#   BENCH_BEAM_FLAGS     gateway-cpu: emulator flags of the BEAM gateways
#                        (e.g. "+sbwt none" to stop schedulers busy-waiting)
set -u

here=$(cd "$(dirname "$0")" && pwd)
PGA_NODE=${PGA_NODE:-$here/../src/pga-node}
ELIXIR=${ELIXIR:-elixir}
EPMD=${EPMD:-epmd}
HOST=127.0.0.1
SUITE=${BENCH_SUITE:-echo}
case $SUITE in
  echo|gateway-cpu|bigterm|push) ;;
  *) echo "pga-bench: BENCH_SUITE must be echo, gateway-cpu, bigterm or push, not '$SUITE'" >&2; exit 2 ;;
esac
# Only the library gateway runs with the caller's ERL_LIBS: the stand-in
# defines modules of the same names.
library_libs=${ERL_LIBS:-}
unset ERL_LIBS
cookie="pga_bench_$$_$RANDOM$RANDOM"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pga-bench.XXXXXX") || exit 1
epmd_port=
pga_pid=
target_pid=
standin_pid=
library_pid=
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
  stop_pid "$standin_pid"
  stop_pid "$library_pid"
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

server_nice=
if [ -n "${BENCH_SERVER_NICE:-}" ]; then
  server_nice="nice -n $BENCH_SERVER_NICE"
fi

# ---- pga-node ----
pga_name=
if [ "${BENCH_BASELINE_ONLY:-0}" != 1 ]; then
  pga_name="pga_bench_pga@$HOST"
  read -r -a pga_args <<<"${BENCH_PGA_ARGS:-}"
  if [ "${BENCH_DATA_DIR:-0}" = 1 ]; then
    mkdir -p "$tmp/data"
    pga_args+=(--data-dir "$tmp/data")
  fi
  # the big-term suite reads the loop's CPU per iteration too
  loop_env=()
  [ "$SUITE" != bigterm ] || loop_env=(env PGA_LOOP_CPU_STATS=1)
  # the channels benchmark's endpoint (bench/channels.exs)
  ws_port=$(free_port) || fail "no free port for the endpoint"
  printf '{"endpoint": {"listen": "%s:%s", "topics": ["gen_api:*"], "auth": "none", "require_verified_user_id": false}}\n' \
    "$HOST" "$ws_port" >"$tmp/pga.json"
  $server_nice "${loop_env[@]}" "$PGA_NODE" --name "$pga_name" --cookie "$cookie" --log-level warn \
    --config "$tmp/pga.json" "${pga_args[@]}" >"$tmp/pga.log" 2>&1 </dev/null &
  pga_pid=$!
  wait_for_line "$tmp/pga.log" "^pga-node ready" 15 "$pga_pid" \
    || fail "pga-node did not get ready"
fi

# ---- the BEAM baseline ----
beam_name="pga_bench_beam@$HOST"
$server_nice "$ELIXIR" --name "$beam_name" --cookie "$cookie" "$here/target.exs" \
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

# ---- the gateway CPU suite ----
# True when the library gateway should run (BENCH_LIBRARY, ERL_LIBS).
want_library() {
  case ${BENCH_LIBRARY:-auto} in
    0) return 1 ;;
    1) [ -n "$library_libs" ] || fail "BENCH_LIBRARY=1 but ERL_LIBS is empty"; return 0 ;;
  esac
  local d
  for d in ${library_libs//:/ }; do
    compgen -G "$d/phoenix_gen_api-*" >/dev/null && return 0
  done
  return 1
}

# Starts the BEAM gateway script $1 as node $2 (extra env in $3), its pid in
# started_pid.
start_gateway() {
  local flags=()
  [ -z "${BENCH_BEAM_FLAGS:-}" ] || flags=(--erl "$BENCH_BEAM_FLAGS")
  env $3 "$ELIXIR" --name "$2@$HOST" --cookie "$cookie" "${flags[@]}" \
    "$here/$1" >"$tmp/$2.log" 2>&1 </dev/null &
  started_pid=$!
  wait_for_line "$tmp/$2.log" "^pga-bench gateway ready" 60 "$started_pid" \
    || fail "$1 did not get ready"
}

if [ "$SUITE" = push ]; then
  [ -n "$pga_name" ] || fail "the push suite needs pga-node"
  push_libs=
  ! want_library || push_libs=$library_libs
  base_name="pga_bench_base@$HOST"
  ERL_LIBS=$push_libs "$ELIXIR" --name "$base_name" --cookie "$cookie" \
    "$here/push_target.exs" >"$tmp/push_base.log" 2>&1 </dev/null &
  library_pid=$!
  wait_for_line "$tmp/push_base.log" "^pga-bench push target ready" 60 \
    "$library_pid" || fail "the push baseline node did not get ready"
  label=" (in memory)"
  [ "${BENCH_DATA_DIR:-0}" = 1 ] && label=" (--data-dir)"
  BENCH_BASE_NODE=$base_name BENCH_PGA_PID=$pga_pid BENCH_PGA_LABEL=$label \
    run_driver push.exs pga_bench_push
  [ "$rc" = 0 ] || fail "the push driver failed (exit $rc)"
  exit 0
fi

if [ "$SUITE" = gateway-cpu ]; then
  start_gateway beam_gateway.exs pga_bench_gw ""
  standin_pid=$started_pid
  library_name=
  if want_library; then
    start_gateway library_gateway.exs pga_bench_library "ERL_LIBS=$library_libs"
    library_pid=$started_pid
    library_name="pga_bench_library@$HOST"
    log "library gateway: $(grep '^pga-bench gateway ready' "$tmp/pga_bench_library.log")"
  else
    log "no library gateway (ERL_LIBS has no phoenix_gen_api; see bench/library_gateway.exs)"
  fi
  [ -z "$pga_pid" ] || log "pga-node OS pid $pga_pid (perf record -p $pga_pid)"
  BENCH_SERVICE_NODE=$beam_name BENCH_BEAM_GW_NODE="pga_bench_gw@$HOST" \
    BENCH_LIBRARY_NODE=$library_name BENCH_PGA_OSPID=$pga_pid \
    BENCH_CLK_TCK=$(getconf CLK_TCK) run_driver gateway_cpu.exs pga_bench_cpu
  [ "$rc" = 0 ] || fail "the gateway CPU driver failed (exit $rc)"
  exit 0
fi

if [ "$SUITE" = bigterm ]; then
  BENCH_PGA_OSPID=$pga_pid run_driver bigterm.exs pga_bench_bigterm
  [ "$rc" = 0 ] || fail "the large-term driver failed (exit $rc)"
  exit 0
fi

run_driver driver.exs pga_bench_driver
echo_rc=$rc
gw_rc=0
if [ -n "$pga_name" ] && [ "${BENCH_GATEWAY:-1}" != 0 ]; then
  run_driver gateway.exs pga_bench_gateway
  gw_rc=$rc
fi
ch_rc=0
if [ -n "$pga_name" ] && [ "${BENCH_CHANNELS:-1}" != 0 ]; then
  export BENCH_PGA_OSPID=$pga_pid BENCH_WS_PORT=$ws_port
  export BENCH_WS_LOAD=${BENCH_WS_LOAD:-$(dirname "$PGA_NODE")/../bench/ws_load}
  run_driver channels.exs pga_bench_channels
  ch_rc=$rc
fi
[ "$ch_rc" = 0 ] || fail "the channels driver failed (exit $ch_rc)"
[ "$echo_rc" = 0 ] || fail "the echo driver failed (exit $echo_rc)"
[ "$gw_rc" = 0 ] || fail "the gateway driver failed (exit $gw_rc)"
exit 0
