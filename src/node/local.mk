## src/node: the pga-node daemon.
bin_PROGRAMS += src/pga-node
src_pga_node_SOURCES = src/node/main.c src/node/options.c src/node/options.h \
	src/node/startup_push.c src/node/startup_push.h src/node/summary.c \
	src/node/summary.h
src_pga_node_LDADD = libpga_core.la
# Plugins (--plugin) resolve the pga_* API from the executable itself.
src_pga_node_LDFLAGS = $(AM_LDFLAGS) -export-dynamic

## The command line as an operator meets it (--help against pga-node(1)).
TESTS += tests/node/cli.sh
EXTRA_DIST += tests/node/cli.sh
