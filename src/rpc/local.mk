## src/rpc: serving calls (spawn_request, rex, gen_server, group-leader
## I/O), making calls, built-in functions, the embedding API.
libpga_core_la_SOURCES += src/rpc/registry.c src/rpc/server.c \
	src/rpc/rex.c src/rpc/genserver.c src/rpc/io.c src/rpc/client.c \
	src/rpc/builtins.c src/rpc/node_api.c src/rpc/stream.c
noinst_HEADERS += src/rpc/rpc.h
