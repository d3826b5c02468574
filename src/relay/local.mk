## src/relay: relay groups (ops-plane.md §7): the pure model and
## permission matrix (groups.c), its Elixir terms (terms.c), the served
## functions (relay_rpc.c), monitors and DOWN handling (monitor.c),
## handle_relay delivery (deliver.c) and the lifecycle (relay.c).
libpga_core_la_SOURCES += src/relay/relay.c src/relay/groups.c \
	src/relay/terms.c src/relay/relay_rpc.c src/relay/monitor.c \
	src/relay/deliver.c
noinst_HEADERS += src/relay/relay.h src/relay/relay_int.h \
	src/relay/groups.h
