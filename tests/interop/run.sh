#!/usr/bin/env bash
# Interop harness: runs the numbered scenarios (tests/interop/NNN_*.exs) on
# real Elixir nodes against one pga-node, on a private epmd.
#
# Environment:
#   PGA_NODE            gateway binary, or "standin" for the BEAM stand-in
#                       (default: ../../src/pga-node beside this script)
#   PGA_NODE_WRAPPER    command words put before the binary, e.g.
#                       "valgrind --leak-check=full --error-exitcode=99"
#   PGA_GW_ARGS         extra words appended to the gateway's command line,
#                       e.g. "--config /etc/pga.json" (PGA_NODE_ARGS is read
#                       when PGA_GW_ARGS is unset); not for the stand-in.
#                       Scenarios assume a gateway without push token or
#                       allowlist: options that change answers make them fail
#   PGA_INTEROP_ONLY    scenario prefixes to run, comma/space separated
#                       (e.g. "010" or "000,040"); default: all
#   PGA_INTEROP_SRCDIR  directory holding the scenarios (default: here)
#   PGA_INTEROP_ENV     env.sh written by configure (ERL, ELIXIR, EPMD)
#   PGA_TMO_SCALE       timeout multiplier (default 1, 6 with a wrapper)
#   PGA_INTEROP_KEEP    1 = keep the run directory even when all passed
#   PGA_INTEROP_TLS     1 = the whole run over TLS distribution: certificates
#                       made with openssl (tls/make-certs.sh), the gateway
#                       started with --proto-dist inet_tls --ssl-dist-optfile,
#                       every BEAM node with -proto_dist inet_tls (ERL_AFLAGS)
#                       and short names on this host (OTP 25 checks the host
#                       name against the certificate; x@127.0.0.1 fails).
#                       erl_call speaks no TLS: its checks are skipped
#   TMPDIR              where the run directory goes (default /tmp)
#
# Output: "ok N - name" / "not ok N - name" per check, diagnostics as "# "
# lines, and the closing line "interop: N passed, N failed". Exit status 0
# only when nothing failed.
#
# Scenarios numbered 900 and up may stop the gateway themselves; they run
# after the "gateway still running" check. Everything started here (epmd,
# gateway, elixir nodes and whatever they spawn) is stopped on exit, also on
# failure and Ctrl-C.

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
srcdir=${PGA_INTEROP_SRCDIR:-$here}

if [ -n "${PGA_INTEROP_ENV:-}" ] && [ -f "$PGA_INTEROP_ENV" ]; then
  # shellcheck source=/dev/null
  . "$PGA_INTEROP_ENV"
fi
ELIXIR=${ELIXIR:-$(command -v elixir || true)}
EPMD=${EPMD:-$(command -v epmd || true)}
ERL=${ERL:-$(command -v erl || true)}

pga_node=${PGA_NODE:-$here/../../src/pga-node}
read -r -a wrapper <<<"${PGA_NODE_WRAPPER:-}"
read -r -a gw_args <<<"${PGA_GW_ARGS:-${PGA_NODE_ARGS:-}}"
if [ ${#wrapper[@]} -gt 0 ]; then
  scale=${PGA_TMO_SCALE:-6}
else
  scale=${PGA_TMO_SCALE:-1}
fi

# ---- reporting ---------------------------------------------------------------

n=0
passed=0
failed=0

ok() {
  n=$((n + 1))
  passed=$((passed + 1))
  echo "ok $n - $1"
}

not_ok() {
  n=$((n + 1))
  failed=$((failed + 1))
  echo "not ok $n - $1"
}

# check NAME COMMAND...: one harness-level check.
check() {
  local name=$1
  shift
  if "$@"; then ok "$name"; else not_ok "$name"; fi
}

diag_file() { # diag_file FILE MAXLINES: show the tail of a log as diagnostics
  [ -s "$1" ] || return 0
  echo "#   --- last lines of $(basename "$1") ---"
  tail -n "$2" "$1" | sed 's/^/#   /'
}

summary() {
  echo "interop: $passed passed, $failed failed"
}

# Seconds scaled by PGA_TMO_SCALE (integer result, at least 1).
secs() { awk -v s="$1" -v k="$scale" 'BEGIN { v = int(s * k + 0.5); print (v < 1 ? 1 : v) }'; }

# ---- process bookkeeping -----------------------------------------------------

run=
epmd_pid=
epmd_port=
gw_pid=
gw_status=
scen_pid=
prefix=

alive() { # a live process (a zombie counts as dead)
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
  local st
  st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 0
  [ "$st" != Z ]
}

# wait_exit PID SECONDS: wait for a child to exit; its status in $reaped.
reaped=
wait_exit() {
  local pid=$1 deadline=$((SECONDS + $2))
  while alive "$pid" && [ $SECONDS -lt "$deadline" ]; do
    sleep 0.1
  done
  alive "$pid" && return 1
  wait "$pid" 2>/dev/null
  reaped=$?
  return 0
}

# Kill a process group made by `timeout` (it is its own group leader).
kill_group() {
  [ -n "$1" ] || return 0
  kill -TERM -- "-$1" 2>/dev/null
  sleep 0.2
  kill -KILL -- "-$1" 2>/dev/null
  wait "$1" 2>/dev/null
  return 0
}

cleanup() {
  local st=$? pid
  trap - EXIT INT TERM
  if [ -n "$scen_pid" ]; then
    kill_group "$scen_pid"
  fi
  if [ -n "$gw_pid" ] && alive "$gw_pid"; then
    kill -TERM "$gw_pid" 2>/dev/null
    wait_exit "$gw_pid" 5 || { kill -KILL "$gw_pid" 2>/dev/null; wait "$gw_pid" 2>/dev/null; }
  fi
  # Extra nodes the scenarios started record their OS pids here; the
  # command-line check guards against a reused pid.
  if [ -n "$run" ] && [ -f "$run/pids" ]; then
    while read -r pid; do
      if alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$prefix"; then
        kill -KILL "$pid" 2>/dev/null
      fi
    done <"$run/pids"
  fi
  if [ -n "$epmd_pid" ]; then
    ERL_EPMD_PORT=$epmd_port "$EPMD" -kill >/dev/null 2>&1
    wait_exit "$epmd_pid" 3 || { kill -KILL "$epmd_pid" 2>/dev/null; wait "$epmd_pid" 2>/dev/null; }
  fi
  if [ -n "$run" ] && [ -d "$run" ]; then
    if [ "$failed" -eq 0 ] && [ "$st" -eq 0 ] && [ "${PGA_INTEROP_KEEP:-0}" != 1 ]; then
      rm -rf "$run"
    else
      echo "# logs kept in $run"
    fi
  fi
  exit "$st"
}
trap cleanup EXIT
trap 'echo "# interrupted"; summary; exit 130' INT TERM

bail() { # setup failure: report it and stop
  not_ok "$1"
  shift
  for f in "$@"; do diag_file "$f" 20; done
  summary
  exit 1
}

# ---- setup -------------------------------------------------------------------

if [ -z "$ELIXIR" ] || [ ! -x "$ELIXIR" ]; then
  bail "harness: elixir found (set ELIXIR or PGA_INTEROP_ENV)"
fi
if [ -z "$EPMD" ] || [ ! -x "$EPMD" ]; then
  bail "harness: epmd found (set EPMD or PGA_INTEROP_ENV)"
fi

if [ "$pga_node" = standin ]; then
  gw_cmd=("$ELIXIR" "$srcdir/standin/pga_standin.exs")
  wrapper=()
  gw_args=()
  scale=${PGA_TMO_SCALE:-1}
  echo "# gateway: BEAM stand-in ($srcdir/standin/pga_standin.exs)"
else
  [ -x "$pga_node" ] || bail "harness: gateway binary $pga_node is executable"
  gw_cmd=("$pga_node")
  # A libtool wrapper script would hide the real binary from valgrind:
  # let libtool run the wrapper command on the real one.
  if [ ${#wrapper[@]} -gt 0 ] && head -c 2 "$pga_node" | grep -q '#!' &&
    grep -q libtool "$pga_node" && [ -x "$(dirname "$pga_node")/../libtool" ]; then
    wrapper=("$(dirname "$pga_node")/../libtool" --mode=execute "${wrapper[@]}")
  fi
  echo "# gateway: ${wrapper[*]} $pga_node ${gw_args[*]}"
fi

# erl_call lives in erl_interface's bin directory; configure found that
# directory for the build (EI_CPPFLAGS=-I<dir>/include).
erl_call=
ei_inc=${EI_CPPFLAGS:-}
ei_inc=${ei_inc#-I}
if [ -n "$ei_inc" ] && [ -x "${ei_inc%/include}/bin/erl_call" ]; then
  erl_call=${ei_inc%/include}/bin/erl_call
elif [ -n "$ERL" ]; then
  ei_dir=$("$ERL" -noshell -eval 'io:format("~s", [code:lib_dir(erl_interface)]), halt().' 2>/dev/null </dev/null)
  [ -x "$ei_dir/bin/erl_call" ] && erl_call=$ei_dir/bin/erl_call
fi

run=$(mktemp -d "${TMPDIR:-/tmp}/pga-interop.XXXXXX") || bail "harness: run directory created"
: >"$run/pids"
prefix="pgai$$x$RANDOM"
cookie=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
node_host=127.0.0.1
name_flag=--name
tls_args=()
if [ "${PGA_INTEROP_TLS:-0}" = 1 ]; then
  node_host=$(hostname -s)
  name_flag=--sname
  "$srcdir/tls/make-certs.sh" "$run/tls" "$node_host" >"$run/tls.log" 2>&1 ||
    bail "harness: TLS certificates made with openssl" "$run/tls.log"
  export ERL_AFLAGS="-proto_dist inet_tls -ssl_dist_optfile $run/tls/dist.conf"
  export PGA_GW_TLS_ARGS="--proto-dist inet_tls --ssl-dist-optfile $run/tls/dist.conf"
  [ "$pga_node" = standin ] || read -r -a tls_args <<<"$PGA_GW_TLS_ARGS"
  gw_args+=("${tls_args[@]}")
  erl_call=
  echo "# distribution over TLS (certificates in $run/tls)"
fi
export PGA_NODE_HOST=$node_host PGA_NAME_FLAG=$name_flag
gw="${prefix}_gw@$node_host"

# A private epmd: ERL_EPMD_PORT makes every node below (and erl_call, and
# pga-node) use it, so parallel runs and a system epmd never interfere.
# Started in the foreground mode (no -daemon) so we know its pid.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _try in 1 2 3 4 5 6 7 8; do
  p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
  port_in_use "$p" && continue
  ERL_EPMD_PORT=$p "$EPMD" -relaxed_command_check >"$run/epmd.log" 2>&1 </dev/null &
  epmd_pid=$!
  epmd_port=$p
  for _w in $(seq 50); do
    alive "$epmd_pid" || break
    ERL_EPMD_PORT=$p "$EPMD" -names >/dev/null 2>&1 && break
    sleep 0.1
  done
  if alive "$epmd_pid" && ERL_EPMD_PORT=$p "$EPMD" -names >/dev/null 2>&1; then
    break
  fi
  kill "$epmd_pid" 2>/dev/null
  wait "$epmd_pid" 2>/dev/null
  epmd_pid=
done
[ -n "$epmd_pid" ] || bail "harness: private epmd started" "$run/epmd.log"
export ERL_EPMD_PORT=$epmd_port
echo "# run directory $run, epmd port $epmd_port, gateway $gw"

# ---- the gateway -------------------------------------------------------------

mkdir -p "$run/gw-data"
"${wrapper[@]}" "${gw_cmd[@]}" --name "$gw" --cookie "$cookie" \
  --data-dir "$run/gw-data" --log-level debug "${gw_args[@]}" \
  >"$run/gw.out" 2>"$run/gw.err" </dev/null &
gw_pid=$!

ready_wait=$(secs 20)
deadline=$((SECONDS + ready_wait))
ready=0
while [ $SECONDS -lt $deadline ]; do
  if grep -qxF "pga-node ready $gw" "$run/gw.out" 2>/dev/null; then
    ready=1
    break
  fi
  alive "$gw_pid" || break
  sleep 0.1
done
if [ $ready -ne 1 ]; then
  if alive "$gw_pid"; then
    echo "# no ready line within ${ready_wait}s"
  else
    wait "$gw_pid" 2>/dev/null
    echo "# gateway exited with status $? before the ready line"
    gw_pid=
  fi
  bail "gateway: prints 'pga-node ready $gw'" "$run/gw.out" "$run/gw.err"
fi
ok "gateway: prints 'pga-node ready NAME' and accepts"

# ---- scenarios -----------------------------------------------------------------

selected() { # selected BASENAME: honour PGA_INTEROP_ONLY
  local only=${PGA_INTEROP_ONLY:-} want
  [ -z "$only" ] && return 0
  for want in ${only//,/ }; do
    case $1 in "$want"*) return 0 ;; esac
  done
  return 1
}

counter=0
run_scenario() {
  local file=$1 name status line checks=0 done_n=
  name=$(basename "$file" .exs)
  counter=$((counter + 1))
  local node="${prefix}_t${counter}"
  [ "$name_flag" = --name ] && node="$node@$node_host"
  local out="$run/$name.out" err="$run/$name.err"

  # `timeout` puts itself and everything below it (the elixir node, the
  # nodes it spawns) in one process group, which kill_group ends.
  PGA_GW=$gw PGA_COOKIE=$cookie PGA_ELIXIR=$ELIXIR PGA_ERL_CALL=$erl_call \
    PGA_RUN_DIR=$run PGA_NAME_PREFIX="${prefix}_${counter}" \
    PGA_TMO_SCALE=$scale PGA_GW_OSPID=${gw_pid:-} \
    timeout -k 5 "$(secs 120)" \
    "$ELIXIR" "$name_flag" "$node" --cookie "$cookie" "$file" \
    >"$out" 2>"$err" </dev/null &
  scen_pid=$!
  wait "$scen_pid"
  status=$?
  kill_group "$scen_pid"
  scen_pid=

  local f0=$failed
  while IFS= read -r line; do
    case $line in
      "ok - "*)
        checks=$((checks + 1))
        ok "$name: ${line#ok - }"
        ;;
      "not ok - "*)
        checks=$((checks + 1))
        not_ok "$name: ${line#not ok - }"
        ;;
      "done "*) done_n=${line#done } ;;
      "#"*) echo "$line" ;;
      *) echo "#   | $line" ;;
    esac
  done <"$out"

  if [ "$status" -ne 0 ] || [ "$done_n" != "$checks" ]; then
    not_ok "$name: scenario ran to completion (status $status, $checks checks, done '${done_n}')"
  fi
  if [ "$failed" -ne "$f0" ]; then
    diag_file "$err" 30
  fi
}

# (glob order is the numeric order: the names start with three digits)
late=()
for file in "$srcdir"/[0-9][0-9][0-9]_*.exs; do
  [ -e "$file" ] || continue
  base=$(basename "$file")
  selected "$base" || continue
  case $base in
    9[0-9][0-9]_*) late+=("$file") ;;
    *) run_scenario "$file" ;;
  esac
done

if alive "$gw_pid"; then
  ok "gateway: still running after the scenarios"
else
  not_ok "gateway: still running after the scenarios"
  wait "$gw_pid" 2>/dev/null
  echo "#   exited with status $?"
  diag_file "$run/gw.err" 30
  gw_pid=
fi

for file in "${late[@]}"; do
  run_scenario "$file"
done

# ---- shutdown ----------------------------------------------------------------

if [ -n "$gw_pid" ]; then
  alive "$gw_pid" && kill -TERM "$gw_pid" 2>/dev/null
  if wait_exit "$gw_pid" "$(secs 15)"; then
    gw_status=$reaped
    gw_pid=
    if [ "$gw_status" -eq 0 ]; then
      ok "gateway: exits with status 0 on SIGTERM"
    else
      not_ok "gateway: exits with status 0 on SIGTERM"
      echo "#   exit status $gw_status"
      diag_file "$run/gw.err" 30
    fi
  else
    not_ok "gateway: exits with status 0 on SIGTERM"
    echo "#   still running $(secs 15)s after SIGTERM; killed"
    kill -KILL "$gw_pid" 2>/dev/null
    wait "$gw_pid" 2>/dev/null
    gw_pid=
  fi
  gone() { ! ERL_EPMD_PORT=$epmd_port "$EPMD" -names 2>/dev/null | grep -q "^name ${gw%@*} "; }
  check "gateway: its epmd registration is gone after exit" gone
fi

lines=$(wc -l <"$run/gw.out")
if [ "$lines" -eq 1 ]; then
  ok "gateway: stdout is exactly the ready line"
else
  not_ok "gateway: stdout is exactly the ready line"
  echo "#   $lines lines on stdout"
  diag_file "$run/gw.out" 10
fi

summary
[ "$failed" -eq 0 ]
