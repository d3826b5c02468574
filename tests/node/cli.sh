#!/bin/sh
# pga-node's command line as an operator meets it: --help names every
# option of pga-node(1) (and nothing else), the environment and the files,
# and points to the man page; -h/-V/--version exit 0; --name without a
# host on a host without a domain is refused as erl -name refuses it;
# usage errors exit 2.
set -u
srcdir=${srcdir:-.}
bin=./src/pga-node
man=$srcdir/man/pga-node.1.in
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; }
check() { name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pga-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

"$bin" --help >"$tmp/help" 2>"$tmp/help.err"
check "--help exits 0" test $? -eq 0
"$bin" -h >"$tmp/h" 2>&1
check "-h exits 0 with the same text" cmp -s "$tmp/help" "$tmp/h"

# The options of the man page's OPTIONS section, and those of --help.
sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$man" | tr -d '\\' |
  grep -o -- '--[a-z][a-z-]*' | sort -u >"$tmp/man.opts"
grep -o -- '--[a-z][a-z-]*' "$tmp/help" | sort -u >"$tmp/help.opts"
same_opts() {
  if ! cmp -s "$tmp/man.opts" "$tmp/help.opts"; then
    diff "$tmp/man.opts" "$tmp/help.opts" | sed 's/^/#   /'
    return 1
  fi
}
check "--help and pga-node(1) describe the same $(wc -l <"$tmp/man.opts") options" same_opts
for word in PGA_COOKIE ERL_EPMD_PORT .erlang.cookie "pga-node(1)" -V -h; do
  check "--help mentions $word" grep -q -- "$word" "$tmp/help"
done

v=$("$bin" -V 2>&1)
check "-V exits 0" test $? -eq 0
check "-V prints 'pga-node VERSION' ($v)" sh -c "echo '$v' | grep -Eq '^pga-node [0-9]+\.[0-9]+\.[0-9]+'"
v2=$("$bin" --version 2>&1)
check "--version prints the same" test "$v" = "$v2"

"$bin" --bogus >/dev/null 2>"$tmp/bogus"
check "an unknown option exits 2" test $? -eq 2
check "... naming it" grep -q -- "--bogus" "$tmp/bogus"

host=$(hostname)
case $host in
  *.*)
    echo "# host name '$host' is fully qualified: --name solo would be accepted (not started here)"
    ;;
  *)
    "$bin" --name solo --cookie c >/dev/null 2>"$tmp/solo"
    check "--name solo on host '$host' (no domain) exits 2, as erl -name" test $? -eq 2
    check "... saying what to give instead" grep -q -- "--name solo@HOST.*--sname solo" "$tmp/solo"
    ;;
esac

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
