## src/node: the pga-node daemon.
bin_PROGRAMS += src/pga-node
src_pga_node_SOURCES = src/node/main.c src/node/options.c src/node/options.h \
	src/node/startup_push.c src/node/startup_push.h src/node/summary.c \
	src/node/summary.h src/node/notify.c src/node/notify.h \
	src/node/dist_tls.c src/node/dist_tls.h \
	src/node/endpoint_conf.c src/node/endpoint_conf.h
src_pga_node_LDADD = libpga_core.la
# Plugins (--plugin) resolve the pga_* API from the executable itself.
src_pga_node_LDFLAGS = $(AM_LDFLAGS) -export-dynamic

## The command line as an operator meets it (--help against pga-node(1)).
TESTS += tests/node/cli.sh
EXTRA_DIST += tests/node/cli.sh

## systemd's notification protocol, without the network (notify.c).
UNIT_TESTS_NODE = tests/unit/check_node_notify
check_PROGRAMS += $(UNIT_TESTS_NODE)
TESTS += $(UNIT_TESTS_NODE)
tests_unit_check_node_notify_SOURCES = tests/unit/check_node_notify.c \
	src/node/notify.c
tests_unit_check_node_notify_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_check_node_notify_LDADD = $(CHECK_LIBS)

## contrib/pga-node.service: a systemd unit; @bindir@ becomes $(bindir).
## Checked by systemd-analyze verify where systemd is installed.
noinst_DATA = contrib/pga-node.service
EXTRA_DIST += contrib/pga-node.service.in
CLEANFILES += contrib/pga-node.service
contrib/pga-node.service: $(srcdir)/contrib/pga-node.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) contrib && \
	sed -e 's|@bindir[@]|$(bindir)|g' $(srcdir)/contrib/pga-node.service.in >$@.tmp && \
	mv $@.tmp $@
TESTS += tests/node/service.sh
EXTRA_DIST += tests/node/service.sh
