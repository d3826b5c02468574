## src/base: event loop, worker pool, containers, logging, errors.
libpga_core_la_SOURCES += src/base/loop.c src/base/pool.c src/base/dict.c \
	src/base/dynbuf.c src/base/log.c src/base/errors.c
noinst_HEADERS += src/base/loop.h src/base/pool.h src/base/dict.h src/base/spares.h \
	src/base/dynbuf.h src/base/log.h src/base/loop_epoll.c src/base/loop_poll.c
