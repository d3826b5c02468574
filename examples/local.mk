## examples: pga_example.so, a plugin built as an outside author would
## build one (public headers only, only the descriptor exported).
## pga-node --plugin $(pkglibdir)/pga_example.so serves it.
pkglib_LTLIBRARIES = examples/pga_example.la
examples_pga_example_la_SOURCES = examples/pga_example.c
examples_pga_example_la_CPPFLAGS = -I$(top_srcdir)/include
## -Wunused-parameter: the example is held to plain -Wall -Wextra, as an
## outside author would build it.
examples_pga_example_la_CFLAGS = $(WARN_CFLAGS) -Wunused-parameter $(SAN_CFLAGS) \
	-fvisibility=hidden
examples_pga_example_la_LDFLAGS = -module -avoid-version -shared
EXTRA_DIST += examples/demo.json
