#!/bin/sh
# contrib/pga-node.service passes `systemd-analyze verify` (skipped where
# systemd-analyze is not installed), with ExecStart pointed at the pga-node
# just built, and keeps the settings an operator relies on.
set -u
srcdir=${srcdir:-.}
unit=contrib/pga-node.service
[ -f "$unit" ] || { echo "$unit not built"; echo "service: 0 passed, 1 failed"; exit 1; }
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; }
check() { name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }

for line in "Type=notify" "Restart=on-failure" "RestartPreventExitStatus=2" \
  "StateDirectory=pga-node" "Environment=HOME=/var/lib/pga-node" \
  "NoNewPrivileges=yes" "ProtectSystem=strict" "DynamicUser=yes"; do
  check "the unit sets $line" grep -qx -- "$line" "$unit"
done
check "ExecStart names the installed pga-node with --data-dir" \
  grep -Eq '^ExecStart=/.*/pga-node --name \$\{PGA_NAME\} --data-dir ' "$unit"

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "# systemd-analyze not installed: verify skipped"
  echo "service: $passed passed, $failed failed (verify skipped)"
  [ "$failed" -eq 0 ]
  exit
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pga-service.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
bin=$(cd src && pwd)/pga-node
sed "s|^ExecStart=[^ ]*pga-node|ExecStart=$bin|" "$unit" >"$tmp/pga-node.service"
# Documentation=man:pga-node(1) is checked with man(1): the page just built.
man_opt=
if command -v man >/dev/null 2>&1 && [ -f man/pga-node.1 ]; then
  mkdir -p "$tmp/man/man1"
  cp man/pga-node.1 "$tmp/man/man1/"
  MANPATH=$tmp/man
  export MANPATH
else
  man_opt=--man=no
fi
if SYSTEMD_LOG_LEVEL=warning systemd-analyze verify $man_opt "$tmp/pga-node.service" \
  >"$tmp/verify.log" 2>&1 && ! grep -q . "$tmp/verify.log"; then
  ok "systemd-analyze verify: no error, no warning"
else
  not_ok "systemd-analyze verify: no error, no warning"
  sed 's/^/#   /' "$tmp/verify.log"
fi
echo "service: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
