## src/plugin: the plugin loader (--plugin), FunConfig declarations, the
## pull supporter and the config pusher (pga as a service node).
libpga_core_la_SOURCES += src/plugin/loader.c src/plugin/declare.c \
	src/plugin/supporter.c src/plugin/pusher.c \
	src/plugin/local.c src/plugin/describe.c
libpga_core_la_LIBADD += -ldl
noinst_HEADERS += src/plugin/plugin_int.h src/plugin/local.h \
	src/plugin/describe.h
