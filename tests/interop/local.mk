## tests/interop: real erl/elixir nodes against the real pga-node.
## run.sh starts a private epmd, the gateway and one elixir node per numbered
## scenario (NNN_name.exs); see its opening comment. It finds the scenarios
## through PGA_INTEROP_SRCDIR (out-of-tree builds) and sources the env.sh that
## configure wrote (ERL, ELIXIR, EPMD, EI_CPPFLAGS). PGA_NODE may be set in
## the environment to test another binary or the BEAM stand-in:
##   PGA_NODE=standin make check TESTS=tests/interop/run.sh
TESTS += tests/interop/run.sh
## The connect/rpc/request subset again over TLS distribution (issue 11).
TESTS += tests/interop/run-tls.sh
AM_TESTS_ENVIRONMENT = \
	PGA_NODE="$${PGA_NODE:-$(abs_top_builddir)/src/pga-node}"; export PGA_NODE; \
	PGA_INTEROP_SRCDIR='$(abs_top_srcdir)/tests/interop'; export PGA_INTEROP_SRCDIR; \
	PGA_INTEROP_ENV='$(abs_top_builddir)/tests/interop/env.sh'; export PGA_INTEROP_ENV;

EXTRA_DIST += tests/interop/run.sh tests/interop/lib/check.exs \
	tests/interop/run-tls.sh \
	tests/interop/standin/pga_standin.exs \
	tests/interop/000_connect.exs tests/interop/010_rpc.exs \
	tests/interop/015_big_terms.exs \
	tests/interop/020_genserver.exs tests/interop/030_io.exs \
	tests/interop/040_outgoing.exs tests/interop/050_robustness.exs \
	tests/interop/055_admission.exs \
	tests/interop/060_load.exs tests/interop/070_monitor.exs \
	tests/interop/045_outgoing_load.exs tests/interop/080_many_nodes.exs \
	tests/interop/090_ticks.exs tests/interop/095_dist_surface.exs \
	tests/interop/900_shutdown.exs
## config-plane scenarios and their helpers
EXTRA_DIST += tests/interop/lib/config_structs.exs \
	tests/interop/lib/config_gw.exs \
	tests/interop/100_config_push.exs tests/interop/110_config_pull.exs \
	tests/interop/120_config_file.exs tests/interop/130_config_durable.exs \
	tests/interop/135_config_journal_damage.exs \
	tests/interop/140_config_json.exs
## request-plane scenarios
EXTRA_DIST += tests/interop/300_request_executor.exs \
	tests/interop/310_request_limits.exs tests/interop/320_request_adapter.exs \
	tests/interop/330_request_hooks.exs tests/interop/335_request_native.exs
EXTRA_DIST += tests/interop/340_request_streams.exs tests/interop/470_ops_hostile.exs \
	tests/interop/460_relay.exs tests/interop/480_dist_tls.exs \
	tests/interop/tls/make-certs.sh \
	tests/interop/350_request_ops.exs
## ops-plane scenarios: rate-limit operator API, shell prints
EXTRA_DIST += tests/interop/440_ops_limits.exs tests/interop/450_ops_prints.exs

## ops-plane scenarios
EXTRA_DIST += tests/interop/410_ops_diag.exs

## The Elixir adapter's ExUnit tests (erl/).
TESTS += tests/erl/run.sh
EXTRA_DIST += tests/erl/run.sh erl/mix.exs erl/.formatter.exs erl/README.md erl/lib erl/test
clean-local:
	rm -rf erl-build
## ops-plane scenarios: call flows, security gate and tracing
EXTRA_DIST += tests/interop/420_ops_callflow.exs \
	tests/interop/430_ops_security.exs tests/interop/435_ops_trace.exs
## telemetry (ops-plane.md §6)
EXTRA_DIST += tests/interop/400_telemetry.exs
## the Phoenix Channels endpoint: the real phoenix npm client (tests/clients)
EXTRA_DIST += tests/interop/500_channels.exs tests/clients/package.json \
	tests/clients/package-lock.json tests/clients/channels.test.js \
	tests/clients/demo.js
