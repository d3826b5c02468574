#!/usr/bin/env bash
# Runs the ExUnit tests of the Elixir adapter in erl/ (a Mix project with
# no dependencies), building into the build tree, and prints the closing
# line "erl: N passed, N failed".
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${PGA_ERL_SRCDIR:-$here/../../erl}
build=${PGA_ERL_BUILD:-$PWD/erl-build}
mkdir -p "$build"
out=$(cd "$src" && MIX_ENV=test MIX_BUILD_PATH="$build" timeout 600 mix test 2>&1)
status=$?
printf '%s\n' "$out"
line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ tests?, [0-9]+ failures?' | tail -1)
tests=$(printf '%s' "$line" | sed -E 's/^([0-9]+) tests?.*/\1/')
failures=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failures?.*/\1/')
skipped=$(printf '%s' "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
if [ -z "$line" ]; then
  echo "erl: 0 passed, 1 failed"
  exit 1
fi
# Skipped tests (e.g. the :telemetry bridge without :telemetry on the
# code path) are said, not counted as passed.
echo "erl: $((tests - failures - ${skipped:-0})) passed, $failures failed${skipped:+, $skipped skipped}"
[ "$status" -eq 0 ] && [ "$failures" -eq 0 ]
