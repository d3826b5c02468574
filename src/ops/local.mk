## src/ops: the ops plane (ops-plane.md): PhoenixGenApi's operator API,
## diagnostics, security gate, tracing, print helpers.
libpga_core_la_SOURCES += src/ops/plane.c src/ops/render.c \
	src/ops/security.c src/ops/health.c src/ops/cluster.c \
	src/ops/callflow.c src/ops/trace.c src/ops/limiter_rpc.c \
	src/ops/pools.c src/ops/failed_print.c src/ops/limiter_print.c \
	src/ops/limiter_check.c src/ops/eval.c src/ops/facade.c
## diagnostics (health, statistics, debug report, cluster view, prints)
libpga_core_la_SOURCES += src/ops/diag.c src/ops/stats.c src/ops/debug.c \
	src/ops/vm.c src/ops/diag_print.c src/ops/subproc.c
noinst_HEADERS += src/ops/plane.h src/ops/ops_int.h src/ops/render.h \
	src/ops/limiter_int.h src/ops/print_int.h src/ops/eval.h
noinst_HEADERS += src/ops/diag.h
## call flows (call_flow, inspect_request, list_call_flows, prints) and tracing
libpga_core_la_SOURCES += src/ops/callflow_steps.c src/ops/callflow_nodes.c \
	src/ops/callflow_print.c src/ops/trace_args.c \
	src/ops/trace_msg.c src/ops/trace_send.c src/ops/trace_watch.c
noinst_HEADERS += src/ops/callflow_int.h src/ops/trace_int.h
