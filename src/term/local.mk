## src/term: external term format over ei (checked reading, building).
libpga_core_la_SOURCES += src/term/term_check.c src/term/term_skip.c src/term/term_read.c \
	src/term/term_build.c src/term/term_format.c
noinst_HEADERS += src/term/term.h
## Elixir inspect/1 rendering and Erlang term order for the planes.
libpga_core_la_SOURCES += src/term/inspect.c src/term/order.c \
	src/term/utf8.c
noinst_HEADERS += src/term/inspect.h
