## src/node: the pga-node daemon.
bin_PROGRAMS += src/pga-node
src_pga_node_SOURCES = src/node/main.c src/node/options.c src/node/options.h
src_pga_node_LDADD = libpga_core.la
