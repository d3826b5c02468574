## src/telemetry: the library's telemetry events, the handler table and
## delivery to BEAM subscribers (ops-plane.md §6).
libpga_core_la_SOURCES += src/telemetry/telemetry.c src/telemetry/events.c \
	src/telemetry/handlers.c src/telemetry/queue.c src/telemetry/send.c \
	src/telemetry/watch.c src/telemetry/telemetry_rpc.c
noinst_HEADERS += src/telemetry/telemetry.h src/telemetry/telemetry_int.h
