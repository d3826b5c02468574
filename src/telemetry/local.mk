## src/telemetry: the library's telemetry events, the handler table and
## delivery to BEAM subscribers (ops-plane.md §6).
libpga_core_la_SOURCES += src/telemetry/telemetry.c
noinst_HEADERS += src/telemetry/telemetry.h
