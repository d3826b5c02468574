## tests/unit: one Check suite per module (tests/unit/check_<module>.c).
unit_libs = libpga_core.la $(CHECK_LIBS)
unit_cflags = $(AM_CFLAGS) $(CHECK_CFLAGS)

UNIT_TESTS = tests/unit/check_loop tests/unit/check_pool \
	tests/unit/check_dict tests/unit/check_dynbuf tests/unit/check_errors \
	tests/unit/check_term tests/unit/check_dist tests/unit/check_rpc \
	tests/unit/check_plugin tests/unit/check_dist_tls
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)

tests_unit_check_dist_tls_SOURCES = tests/unit/check_dist_tls.c
tests_unit_check_dist_tls_CFLAGS = $(unit_cflags)
tests_unit_check_dist_tls_LDADD = $(unit_libs)
tests_unit_check_loop_SOURCES = tests/unit/check_loop.c
tests_unit_check_loop_CFLAGS = $(unit_cflags)
tests_unit_check_loop_LDADD = $(unit_libs)
tests_unit_check_pool_SOURCES = tests/unit/check_pool.c
tests_unit_check_pool_CFLAGS = $(unit_cflags)
tests_unit_check_pool_LDADD = $(unit_libs)
tests_unit_check_dict_SOURCES = tests/unit/check_dict.c
tests_unit_check_dict_CFLAGS = $(unit_cflags)
tests_unit_check_dict_LDADD = $(unit_libs)
tests_unit_check_dynbuf_SOURCES = tests/unit/check_dynbuf.c
tests_unit_check_dynbuf_CFLAGS = $(unit_cflags)
tests_unit_check_dynbuf_LDADD = $(unit_libs)
tests_unit_check_errors_SOURCES = tests/unit/check_errors.c
tests_unit_check_errors_CFLAGS = $(unit_cflags)
tests_unit_check_errors_LDADD = $(unit_libs)
tests_unit_check_term_SOURCES = tests/unit/check_term.c
tests_unit_check_term_CFLAGS = $(unit_cflags) \
	-DPGA_TEST_DATA_DIR='"$(abs_top_srcdir)/tests/data"'
tests_unit_check_term_LDADD = $(unit_libs)
tests_unit_check_dist_SOURCES = tests/unit/check_dist.c
tests_unit_check_dist_CFLAGS = $(unit_cflags)
tests_unit_check_dist_LDADD = $(unit_libs)
tests_unit_check_rpc_SOURCES = tests/unit/check_rpc.c
tests_unit_check_rpc_CFLAGS = $(unit_cflags)
tests_unit_check_rpc_LDADD = $(unit_libs)

## config plane (src/config) and Elixir inspect (src/term/inspect.c)
CONFIG_UNIT_TESTS = tests/unit/check_config_validate \
	tests/unit/check_config_compiled \
	tests/unit/check_config_store tests/unit/check_config_receiver \
	tests/unit/check_config_failed tests/unit/check_inspect \
	tests/unit/check_config_model tests/unit/check_config_puller \
	tests/unit/check_config_file tests/unit/check_config_durable
check_PROGRAMS += $(CONFIG_UNIT_TESTS)
TESTS += $(CONFIG_UNIT_TESTS)
EXTRA_DIST += tests/unit/config_terms.h tests/unit/config_plane_fixture.h \
	tests/unit/check_main.h
tests_unit_check_config_validate_SOURCES = tests/unit/check_config_validate.c
tests_unit_check_config_validate_CFLAGS = $(unit_cflags)
tests_unit_check_config_validate_LDADD = $(unit_libs)
tests_unit_check_config_compiled_SOURCES = tests/unit/check_config_compiled.c
tests_unit_check_config_compiled_CFLAGS = $(unit_cflags)
tests_unit_check_config_compiled_LDADD = $(unit_libs)
tests_unit_check_config_store_SOURCES = tests/unit/check_config_store.c
tests_unit_check_config_store_CFLAGS = $(unit_cflags)
tests_unit_check_config_store_LDADD = $(unit_libs)
tests_unit_check_config_receiver_SOURCES = tests/unit/check_config_receiver.c
tests_unit_check_config_receiver_CFLAGS = $(unit_cflags)
tests_unit_check_config_receiver_LDADD = $(unit_libs)
tests_unit_check_config_failed_SOURCES = tests/unit/check_config_failed.c
tests_unit_check_config_failed_CFLAGS = $(unit_cflags)
tests_unit_check_config_failed_LDADD = $(unit_libs)
tests_unit_check_inspect_SOURCES = tests/unit/check_inspect.c
tests_unit_check_inspect_CFLAGS = $(unit_cflags)
tests_unit_check_inspect_LDADD = $(unit_libs)
tests_unit_check_config_model_SOURCES = tests/unit/check_config_model.c
tests_unit_check_config_model_CFLAGS = $(unit_cflags)
tests_unit_check_config_model_LDADD = $(unit_libs)
tests_unit_check_config_puller_SOURCES = tests/unit/check_config_puller.c
tests_unit_check_config_puller_CFLAGS = $(unit_cflags)
tests_unit_check_config_puller_LDADD = $(unit_libs)
tests_unit_check_config_file_SOURCES = tests/unit/check_config_file.c
tests_unit_check_config_file_CFLAGS = $(unit_cflags)
tests_unit_check_config_file_LDADD = $(unit_libs)
tests_unit_check_config_durable_SOURCES = tests/unit/check_config_durable.c
tests_unit_check_config_durable_CFLAGS = $(unit_cflags)
tests_unit_check_config_durable_LDADD = $(unit_libs)

## plugin layer (src/plugin): check_plugin loads the plugins of
## tests/plugins and examples, which resolve the pga_* API from this binary
## (-export-dynamic).
tests_unit_check_plugin_SOURCES = tests/unit/check_plugin.c
tests_unit_check_plugin_CFLAGS = $(unit_cflags) \
	-DPGA_TEST_BUILDDIR='"$(abs_top_builddir)"' \
	-DPGA_TEST_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_check_plugin_LDFLAGS = $(AM_LDFLAGS) -export-dynamic
tests_unit_check_plugin_LDADD = $(unit_libs)

## request plane (src/request): phash2 against BEAM vectors, node
## selection, arguments, permission, rate limiter, retry. Every suite
## reads tests/data (BEAM and Elixir vectors, fuzz inputs).
REQUEST_UNIT_TESTS = tests/unit/check_phash2 tests/unit/check_selector \
	tests/unit/check_args tests/unit/check_permission \
	tests/unit/check_limiter tests/unit/check_retry \
	tests/unit/check_executor tests/unit/check_workpool
check_PROGRAMS += $(REQUEST_UNIT_TESTS)
TESTS += $(REQUEST_UNIT_TESTS)
EXTRA_DIST += tests/unit/request_fixtures.h
request_unit_cflags = $(unit_cflags) \
	-DPGA_TEST_DATA_DIR='"$(abs_top_srcdir)/tests/data"'
tests_unit_check_phash2_SOURCES = tests/unit/check_phash2.c
tests_unit_check_phash2_CFLAGS = $(request_unit_cflags)
tests_unit_check_phash2_LDADD = $(unit_libs)
tests_unit_check_selector_SOURCES = tests/unit/check_selector.c
tests_unit_check_selector_CFLAGS = $(request_unit_cflags)
tests_unit_check_selector_LDADD = $(unit_libs)
tests_unit_check_args_SOURCES = tests/unit/check_args.c
tests_unit_check_args_CFLAGS = $(request_unit_cflags)
tests_unit_check_args_LDADD = $(unit_libs)
tests_unit_check_permission_SOURCES = tests/unit/check_permission.c
tests_unit_check_permission_CFLAGS = $(request_unit_cflags)
tests_unit_check_permission_LDADD = $(unit_libs)
tests_unit_check_limiter_SOURCES = tests/unit/check_limiter.c
tests_unit_check_limiter_CFLAGS = $(request_unit_cflags)
tests_unit_check_limiter_LDADD = $(unit_libs)
tests_unit_check_retry_SOURCES = tests/unit/check_retry.c
tests_unit_check_retry_CFLAGS = $(request_unit_cflags)
tests_unit_check_retry_LDADD = $(unit_libs)
tests_unit_check_executor_SOURCES = tests/unit/check_executor.c
tests_unit_check_executor_CFLAGS = $(request_unit_cflags)
tests_unit_check_executor_LDADD = $(unit_libs)
tests_unit_check_workpool_SOURCES = tests/unit/check_workpool.c
tests_unit_check_workpool_CFLAGS = $(request_unit_cflags)
tests_unit_check_workpool_LDADD = $(unit_libs)

## PhoenixGenApi.JsonConfig (src/config/json_export.c)
check_PROGRAMS += tests/unit/check_config_json
TESTS += tests/unit/check_config_json
tests_unit_check_config_json_SOURCES = tests/unit/check_config_json.c
tests_unit_check_config_json_CFLAGS = $(unit_cflags)
tests_unit_check_config_json_LDADD = $(unit_libs)

## telemetry (src/telemetry): catalogue, handler ids, delivery queue
check_PROGRAMS += tests/unit/check_telemetry
TESTS += tests/unit/check_telemetry
tests_unit_check_telemetry_SOURCES = tests/unit/check_telemetry.c
tests_unit_check_telemetry_CFLAGS = $(unit_cflags)
tests_unit_check_telemetry_LDADD = $(unit_libs)

## relay groups (src/relay): model, permission matrix, Elixir terms
check_PROGRAMS += tests/unit/check_relay
TESTS += tests/unit/check_relay
tests_unit_check_relay_SOURCES = tests/unit/check_relay.c
tests_unit_check_relay_CFLAGS = $(unit_cflags)
tests_unit_check_relay_LDADD = $(unit_libs)

## ops diagnostics (src/ops: renderers, /proc parsing, status, print text)
check_PROGRAMS += tests/unit/check_ops_diag
TESTS += tests/unit/check_ops_diag
tests_unit_check_ops_diag_SOURCES = tests/unit/check_ops_diag.c
tests_unit_check_ops_diag_CFLAGS = $(unit_cflags)
tests_unit_check_ops_diag_LDADD = $(unit_libs)

## ops plane: call flows and tracing (src/ops/callflow*.c, trace_args.c)
OPS_FLOW_UNIT_TESTS = tests/unit/check_ops_callflow
check_PROGRAMS += $(OPS_FLOW_UNIT_TESTS)
TESTS += $(OPS_FLOW_UNIT_TESTS)
tests_unit_check_ops_callflow_SOURCES = tests/unit/check_ops_callflow.c
tests_unit_check_ops_callflow_CFLAGS = $(unit_cflags)
tests_unit_check_ops_callflow_LDADD = $(unit_libs)

## ops plane: trace messages and their rate cap (src/ops/trace_msg.c)
check_PROGRAMS += tests/unit/check_ops_trace
TESTS += tests/unit/check_ops_trace
tests_unit_check_ops_trace_SOURCES = tests/unit/check_ops_trace.c
tests_unit_check_ops_trace_CFLAGS = $(unit_cflags)
tests_unit_check_ops_trace_LDADD = $(unit_libs)

## ops plane: rate-limit operator API, pools, config-plane prints
## (src/ops/limiter_*.c, pools.c, failed_print.c, eval.c, facade.c)
check_PROGRAMS += tests/unit/check_ops_limiter
TESTS += tests/unit/check_ops_limiter
tests_unit_check_ops_limiter_SOURCES = tests/unit/check_ops_limiter.c
tests_unit_check_ops_limiter_CFLAGS = $(unit_cflags)
tests_unit_check_ops_limiter_LDADD = $(unit_libs)

## the Phoenix Channels endpoint's codecs (src/endpoints)
check_PROGRAMS += tests/unit/check_endpoint
TESTS += tests/unit/check_endpoint
tests_unit_check_endpoint_SOURCES = tests/unit/check_endpoint.c
tests_unit_check_endpoint_CFLAGS = $(unit_cflags)
tests_unit_check_endpoint_LDADD = $(unit_libs)
