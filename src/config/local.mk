## src/config: the config plane (ConfigDb, ConfigReceiver, ConfigFailed,
## ConfigPuller, JsonConfig over RPC; config-plane.md).
libpga_core_la_SOURCES += src/config/cterm.c src/config/record.c \
	src/config/funconfig.c src/config/fcscan.c src/config/pushconfig.c \
	src/config/serviceconfig.c src/config/validate.c src/config/token.c \
	src/config/version.c src/config/store.c src/config/failed.c \
	src/config/db.c src/config/failed_rpc.c src/config/receiver.c \
	src/config/puller.c src/config/pull.c src/config/plane.c \
	src/config/durable.c src/config/file.c src/config/json_export.c \
	src/config/events.c src/config/file_dist.c \
	src/config/journal.c src/config/datadir_check.c
noinst_HEADERS += src/config/config.h src/config/config_int.h \
	src/config/plane_int.h src/config/puller_int.h \
	src/config/funconfig.h src/config/file.h src/config/durable.h \
	src/config/journal.h
