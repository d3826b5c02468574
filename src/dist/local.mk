## src/dist: epmd, handshake, framing, control messages, connections,
## local processes.
libpga_core_la_SOURCES += src/dist/epmd.c src/dist/digest.c \
	src/dist/handshake.c src/dist/handshake_in.c src/dist/handshake_out.c \
	src/dist/frame.c src/dist/ctrl.c src/dist/conn.c src/dist/node.c src/dist/proc.c \
	src/dist/outq.c src/dist/packet.c \
	src/dist/transport.c src/dist/admission.c src/dist/tls.c src/dist/tls_conf.c \
	src/dist/tls_optfile.c
noinst_HEADERS += src/dist/dist.h src/dist/proto.h src/dist/handshake.h \
	src/dist/conn.h src/dist/ctrl.h src/dist/epmd.h src/dist/outq.h \
	src/dist/tls.h src/dist/tls_conf.h
