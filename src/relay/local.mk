## src/relay: relay groups (ops-plane.md §7).
libpga_core_la_SOURCES += src/relay/relay.c
noinst_HEADERS += src/relay/relay.h
