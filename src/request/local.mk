## src/request: the request plane's building blocks (request-plane.md):
## phash2 and node selection, arguments, permission, rate limiter, retry;
## the executor with its pools, resolvers, telemetry and stop_stream.
libpga_core_la_SOURCES += src/request/phash2.c src/request/selector.c \
	src/request/args.c src/request/argcheck.c src/request/uuid.c \
	src/request/datetime.c src/request/permission.c \
	src/request/limiter.c src/request/ratelog.c src/request/retry.c \
	src/request/reqview.c \
	src/request/key.c src/request/text.c \
	src/request/exc.c src/request/fcview.c \
	src/request/response.c src/request/hooks.c \
	src/request/executor.c src/request/ops_api.c \
	src/request/workpool.c src/request/resolver.c \
	src/request/reqevents.c src/request/streams.c \
	src/request/reqtrace.c src/request/exec_inv.c \
	src/request/exec_stream.c src/request/exec_deliver.c \
	src/request/exec_nodes.c src/request/exec_plane.c
# pow() in retry.c (backoff)
libpga_core_la_LIBADD += -lm
noinst_HEADERS += src/request/request.h src/request/request_int.h \
	src/request/args_int.h src/request/plane.h \
	src/request/exec_int.h src/request/workpool.h
