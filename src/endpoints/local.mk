## src/endpoints: the Phoenix Channels endpoint (WebSocket clients talk to
## pga directly): connections and WebSocket framing (wslay), the HTTP
## upgrade (http_parser), the Phoenix socket/channel protocol, requests
## through the request plane, JSON <-> terms, Phoenix.Token.
libpga_core_la_SOURCES += src/endpoints/endpoint.c src/endpoints/conn.c \
	src/endpoints/upgrade.c src/endpoints/channel.c \
	src/endpoints/request.c src/endpoints/phx.c \
	src/endpoints/json_term.c src/endpoints/token.c \
	src/endpoints/msgpack.c src/endpoints/tls.c
libpga_core_la_LIBADD += $(WSLAY_LIBS) $(HTTP_PARSER_LIBS)
noinst_HEADERS += src/endpoints/endpoint.h src/endpoints/ep_int.h
