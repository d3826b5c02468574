#!/bin/sh
# A plugin author's build, as docs/plugins.md tells it: pga installed
# (headers, pkg-config files, docs; staged with DESTDIR), the example
# plugin copied out of the tree and built with
#   cc $(pkg-config --cflags --libs pga-plugin) -o pga_example.so pga_example.c
# against the INSTALLED headers only, warning-free with -Wall -Wextra.
# The plugin must need no pga library, and pga-node must load and serve
# it. Also: the man page names the installed docs.
set -u
srcdir=${srcdir:-.}
[ -f ./tests/interop/env.sh ] && . ./tests/interop/env.sh
CC=${CC:-cc}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
EPMD=${EPMD:-epmd}
ERL=${ERL:-erl}
passed=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pga-installed.XXXXXX")
epmd_pid=
node_pid=

cleanup() {
  [ -n "$node_pid" ] && kill -KILL "$node_pid" 2>/dev/null
  [ -n "$epmd_pid" ] && kill -KILL "$epmd_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; }
check() { name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
finish() { echo "installed-plugin: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }

# ---- install (staged) --------------------------------------------------------
if ! make -s DESTDIR="$tmp/root" install-pkgincludeHEADERS \
  install-pkgconfigDATA install-dist_docDATA >"$tmp/install.log" 2>&1; then
  not_ok "make install of headers, pkg-config files and docs"
  sed 's/^/#   /' "$tmp/install.log"
  finish
fi
ok "make install of headers, pkg-config files and docs"
pc=$(find "$tmp/root" -name pga-plugin.pc | head -1)
docs=$(find "$tmp/root" -path '*/doc/pga' -type d | head -1)
check "pga-plugin.pc installed" test -n "$pc"
check "docs/plugins.md and docs/compat.md installed in the doc directory" \
  test -n "$docs" -a -f "$docs/plugins.md" -a -f "$docs/compat.md"
[ -n "$pc" ] || finish
# The installed headers point to installed documents only.
only_installed_docs() {
  others=$(find "$tmp/root" -name '*.h' -exec grep -ho '[A-Za-z_-]*\.md' {} + |
    sort -u | grep -vx 'plugins.md' | grep -vx 'compat.md')
  [ -z "$others" ] || { echo "#   headers name: $others"; return 1; }
}
check "the installed headers name only installed docs" only_installed_docs

# pkg-config as an author runs it, seeing only the staged files.
pkgconf() {
  PKG_CONFIG_LIBDIR=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$tmp/root \
    "$PKG_CONFIG" "$@"
}
flags=$(pkgconf --cflags --libs pga-plugin)
echo "# pkg-config --cflags --libs pga-plugin: $flags"
links_nothing() { ! echo " $flags " | grep -Eq ' -l| -L'; }
check "pga-plugin links nothing (no -l, no -L)" links_nothing
staged_include() { echo "$flags" | grep -q -- "-I$tmp/root/"; }
check "its include path is the installed one" staged_include

# ---- build out of tree -------------------------------------------------------
mkdir "$tmp/author"
cp "$srcdir/examples/pga_example.c" "$tmp/author/"
# shellcheck disable=SC2086
if (cd "$tmp/author" && $CC $flags -Wall -Wextra -Werror \
  -o pga_example.so pga_example.c) >"$tmp/cc.log" 2>&1; then
  ok "the example builds out of tree, warning-free with -Wall -Wextra"
else
  not_ok "the example builds out of tree, warning-free with -Wall -Wextra"
  sed 's/^/#   /' "$tmp/cc.log"
  finish
fi
so=$tmp/author/pga_example.so
if command -v readelf >/dev/null 2>&1; then
  no_libpga() { ! readelf -d "$so" | grep NEEDED | grep -q libpga; }
  check "the plugin needs no pga library" no_libpga
fi

# ---- load it ---------------------------------------------------------------
# A private epmd on a free port below the ephemeral range (32768 up), where
# an outgoing connection of a parallel test may hold any port; tried until
# one answers.
for try in $(seq 20); do
  port=$((20000 + (RANDOM + $$) % 12000))
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
  ERL_EPMD_PORT=$port "$EPMD" -relaxed_command_check >/dev/null 2>&1 &
  epmd_pid=$!
  for i in $(seq 30); do
    ERL_EPMD_PORT=$port "$EPMD" -names >/dev/null 2>&1 && break 2
    kill -0 "$epmd_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$epmd_pid" 2>/dev/null
  epmd_pid=
done
export ERL_EPMD_PORT=$port
name="pgainst$$@127.0.0.1"
./src/pga-node --name "$name" --cookie inst --plugin "$so" \
  >"$tmp/node.out" 2>"$tmp/node.err" </dev/null &
node_pid=$!
i=0
while [ $i -lt 200 ] && ! grep -q "^pga-node ready" "$tmp/node.out"; do
  kill -0 "$node_pid" 2>/dev/null || break
  sleep 0.1
  i=$((i + 1))
done
if grep -q "^pga-node ready $name" "$tmp/node.out"; then
  ok "pga-node loads the plugin built against the installed headers"
else
  not_ok "pga-node loads the plugin built against the installed headers"
  sed 's/^/#   /' "$tmp/node.err"
  finish
fi
sum=$("$ERL" -noshell -name "q$$@127.0.0.1" -setcookie inst -eval \
  "io:format(\"~p\", [rpc:call('$name', 'Elixir.PgaExample.Math', add, [40, 2], 5000)]), halt()." 2>&1)
answers() { [ "$sum" = 42 ]; }
check "and serves it: add(40, 2) -> 42 (got: $sum)" answers
kill -TERM "$node_pid" 2>/dev/null
wait "$node_pid" 2>/dev/null
node_pid=

# ---- the man page names the installed docs --------------------------------
man_docdir() {
  [ -f man/pga-node.1 ] && ! grep -q '@docdir@' man/pga-node.1 &&
    grep -q "/doc/pga/plugins.md" man/pga-node.1
}
check "pga-node(1) points to the installed plugins.md" man_docdir
finish
