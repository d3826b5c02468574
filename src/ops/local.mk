## src/ops: the ops plane (ops-plane.md): PhoenixGenApi's operator API,
## diagnostics, security gate, tracing, print helpers.
libpga_core_la_SOURCES += src/ops/plane.c src/ops/render.c \
	src/ops/security.c src/ops/health.c src/ops/cluster.c \
	src/ops/callflow.c src/ops/trace.c src/ops/limiter_rpc.c \
	src/ops/pools.c src/ops/failed_print.c
noinst_HEADERS += src/ops/plane.h src/ops/ops_int.h src/ops/render.h
