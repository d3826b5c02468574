## src/term: external term format over ei (checked reading, building).
libpga_core_la_SOURCES += src/term/term_check.c src/term/term_read.c \
	src/term/term_build.c src/term/term_format.c
noinst_HEADERS += src/term/term.h
## Elixir inspect/1 rendering for the planes' error strings.
libpga_core_la_SOURCES += src/term/inspect.c
noinst_HEADERS += src/term/inspect.h
