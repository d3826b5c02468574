#!/bin/sh
# Plugins resolve the pga_* API from pga-node itself (linked statically
# with libpga_core and -export-dynamic): every PGA_EXTERN function declared
# in include/pga/ must be in its dynamic symbol table, or a plugin using it
# is refused by dlopen ("undefined symbol").
srcdir=${srcdir:-.}
bin=./src/pga-node   # (not $PGA_NODE: that may name the BEAM stand-in)
command -v nm >/dev/null 2>&1 || { echo "nm not found: skipped"; exit 77; }
[ -x "$bin" ] || { echo "exports: $bin not built"; exit 99; }
tmp=${TMPDIR:-/tmp}/pga-exports.$$
trap 'rm -f "$tmp".*' EXIT
cat "$srcdir"/include/pga/*.h | tr '\n' ' ' |
  grep -o 'PGA_EXTERN[^;(]*(' | sed 's/ *($//; s/.*[ *]//' |
  grep '^pga_' | sort -u >"$tmp.want"
nm -D --defined-only "$bin" | awk '{ print $3 }' | sort -u >"$tmp.have"
want=$(wc -l <"$tmp.want")
missing=$(comm -23 "$tmp.want" "$tmp.have")
if [ "$want" -lt 40 ]; then
  echo "exports: only $want declarations found in $srcdir/include/pga"
  echo "exports: 0 passed, 1 failed"
  exit 1
fi
if [ -n "$missing" ]; then
  echo "not exported by $bin:"
  echo "$missing" | sed 's/^/  /'
  echo "exports: 0 passed, 1 failed"
  exit 1
fi
echo "all $want public functions are exported by $bin"
echo "exports: 1 passed, 0 failed"
