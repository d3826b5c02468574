#!/bin/bash
# Runs libFuzzer targets for a fixed time each, behind `make fuzz`:
#   run.sh SECONDS BINDIR CORPUSDIR TARGET...
# runs BINDIR/fuzz_TARGET for SECONDS over a copy of CORPUSDIR/TARGET (the
# source corpus is never written), one target after the other, and fails
# if any target finds a crash, leak, timeout or failed check. Crash inputs
# are kept as BINDIR/artifacts/TARGET-crash-* (replay one with
# `BINDIR/fuzz_TARGET FILE`); each target's log is BINDIR/fuzz_TARGET.log.
#
# FUZZ_FLAGS adds libFuzzer flags (e.g. FUZZ_FLAGS='-jobs=2').
set -u

if [ $# -lt 4 ]; then
  echo "usage: $0 SECONDS BINDIR CORPUSDIR TARGET..." >&2
  exit 2
fi
secs=$1 bindir=$2 corpus=$3
shift 3

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pga-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$bindir/artifacts" || exit 1

failed=
for t in "$@"; do
  bin=$bindir/fuzz_$t
  log=$bindir/fuzz_$t.log
  work=$tmp/$t
  mkdir -p "$work"
  if [ -d "$corpus/$t" ]; then
    cp -R "$corpus/$t/." "$work/"
  fi
  seeds=$(find "$work" -type f | wc -l)
  echo "fuzz: $t: ${secs}s from $seeds seeds"
  # -timeout: one input over 10 s is a finding (a hang); -rss_limit_mb
  # bounds memory; UBSan findings abort (built -fno-sanitize-recover).
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$bindir/artifacts/$t-" \
    ${FUZZ_FLAGS:-} "$work" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  added=$(sed -n 's/^stat::new_units_added: *//p' "$log")
  cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
  if [ "$rc" = 0 ]; then
    echo "fuzz: $t: ok: ${runs:-?} runs, ${added:-?} new units, $cov"
  else
    echo "fuzz: $t: FAILED (exit $rc), see $log" >&2
    grep -E 'ERROR: |SUMMARY: |check failed|runtime error|Test unit written' \
      "$log" | head -n 10 >&2
    failed="$failed $t"
  fi
done

if [ -n "$failed" ]; then
  echo "fuzz: failed:$failed" >&2
  exit 1
fi
exit 0
