#!/usr/bin/env bash
# The interop connect/rpc/request subset over TLS distribution (issue 11):
# run.sh with PGA_INTEROP_TLS=1 (see its opening comment). The scenarios
# are PGA_INTEROP_TLS_ONLY (default: connect, rpc, outgoing calls, config
# push, requests on a TLS service node, streams). The BEAM stand-in has no
# TLS mode: skipped (77) with PGA_NODE=standin.
set -u
if [ "${PGA_NODE:-}" = standin ]; then
  echo "# TLS subset skipped for the BEAM stand-in"
  exit 77
fi
export PGA_INTEROP_TLS=1
export PGA_INTEROP_ONLY="${PGA_INTEROP_TLS_ONLY:-000,010,040,100,300,340}"
exec "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/run.sh"
