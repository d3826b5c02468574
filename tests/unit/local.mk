## tests/unit: one Check suite per module.
unit_libs = libpga_core.la $(CHECK_LIBS)
unit_cflags = $(AM_CFLAGS) $(CHECK_CFLAGS)
