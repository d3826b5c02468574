## tests/unit: one Check suite per module (tests/unit/check_<module>.c).
unit_libs = libpga_core.la $(CHECK_LIBS)
unit_cflags = $(AM_CFLAGS) $(CHECK_CFLAGS)

UNIT_TESTS = tests/unit/check_loop tests/unit/check_pool \
	tests/unit/check_dict tests/unit/check_dynbuf tests/unit/check_errors \
	tests/unit/check_term tests/unit/check_dist tests/unit/check_rpc
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)

tests_unit_check_loop_SOURCES = tests/unit/check_loop.c
tests_unit_check_loop_CFLAGS = $(unit_cflags)
tests_unit_check_loop_LDADD = $(unit_libs)
tests_unit_check_pool_SOURCES = tests/unit/check_pool.c
tests_unit_check_pool_CFLAGS = $(unit_cflags)
tests_unit_check_pool_LDADD = $(unit_libs)
tests_unit_check_dict_SOURCES = tests/unit/check_dict.c
tests_unit_check_dict_CFLAGS = $(unit_cflags)
tests_unit_check_dict_LDADD = $(unit_libs)
tests_unit_check_dynbuf_SOURCES = tests/unit/check_dynbuf.c
tests_unit_check_dynbuf_CFLAGS = $(unit_cflags)
tests_unit_check_dynbuf_LDADD = $(unit_libs)
tests_unit_check_errors_SOURCES = tests/unit/check_errors.c
tests_unit_check_errors_CFLAGS = $(unit_cflags)
tests_unit_check_errors_LDADD = $(unit_libs)
tests_unit_check_term_SOURCES = tests/unit/check_term.c
tests_unit_check_term_CFLAGS = $(unit_cflags)
tests_unit_check_term_LDADD = $(unit_libs)
tests_unit_check_dist_SOURCES = tests/unit/check_dist.c
tests_unit_check_dist_CFLAGS = $(unit_cflags)
tests_unit_check_dist_LDADD = $(unit_libs)
tests_unit_check_rpc_SOURCES = tests/unit/check_rpc.c
tests_unit_check_rpc_CFLAGS = $(unit_cflags)
tests_unit_check_rpc_LDADD = $(unit_libs)
