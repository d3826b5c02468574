## tests/plugins: plugins the unit and interop tests load: pga_test (a
## good one, service "pga_test") and one refused plugin per flaw, all
## built from bad_plugin.c with -DBAD_<KIND>. noinst modules need -rpath
## for libtool to build them shared.
test_plugin_ldflags = -module -avoid-version -shared -rpath /nowhere
test_plugin_cppflags = -I$(top_srcdir)/include
test_plugin_cflags = $(WARN_CFLAGS) $(SAN_CFLAGS) -fvisibility=hidden
BAD_PLUGINS = tests/plugins/bad_nosym.la tests/plugins/bad_abi.la \
	tests/plugins/bad_sig.la tests/plugins/bad_dup.la \
	tests/plugins/bad_name.la tests/plugins/bad_table.la \
	tests/plugins/bad_arity.la tests/plugins/bad_init.la \
	tests/plugins/bad_module.la tests/plugins/bad_clash.la
noinst_LTLIBRARIES += tests/plugins/pga_test.la $(BAD_PLUGINS)
EXTRA_DIST += tests/plugins/not_a_plugin.so

tests_plugins_pga_test_la_SOURCES = tests/plugins/test_plugin.c
tests_plugins_pga_test_la_CPPFLAGS = $(test_plugin_cppflags)
tests_plugins_pga_test_la_CFLAGS = $(test_plugin_cflags)
tests_plugins_pga_test_la_LDFLAGS = $(test_plugin_ldflags)

tests_plugins_bad_nosym_la_SOURCES = tests/plugins/bad_plugin.c
tests_plugins_bad_nosym_la_CPPFLAGS = $(test_plugin_cppflags) -DBAD_NOSYM
tests_plugins_bad_nosym_la_CFLAGS = $(test_plugin_cflags)
tests_plugins_bad_nosym_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_bad_abi_la_SOURCES = tests/plugins/bad_plugin.c
tests_plugins_bad_abi_la_CPPFLAGS = $(test_plugin_cppflags) -DBAD_ABI
tests_plugins_bad_abi_la_CFLAGS = $(test_plugin_cflags)
tests_plugins_bad_abi_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_bad_sig_la_SOURCES = tests/plugins/bad_plugin.c
tests_plugins_bad_sig_la_CPPFLAGS = $(test_plugin_cppflags) -DBAD_SIG
tests_plugins_bad_sig_la_CFLAGS = $(test_plugin_cflags)
tests_plugins_bad_sig_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_bad_dup_la_SOURCES = tests/plugins/bad_plugin.c
tests_plugins_bad_dup_la_CPPFLAGS = $(test_plugin_cppflags) -DBAD_DUP
tests_plugins_bad_dup_la_CFLAGS = $(test_plugin_cflags)
tests_plugins_bad_dup_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_bad_name_la_SOURCES = tests/plugins/bad_plugin.c
tests_plugins_bad_name_la_CPPFLAGS = $(test_plugin_cppflags) -DBAD_NAME
tests_plugins_bad_name_la_CFLAGS = $(test_plugin_cflags)
tests_plugins_bad_name_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_bad_table_la_SOURCES = tests/plugins/bad_plugin.c
tests_plugins_bad_table_la_CPPFLAGS = $(test_plugin_cppflags) -DBAD_TABLE
tests_plugins_bad_table_la_CFLAGS = $(test_plugin_cflags)
tests_plugins_bad_table_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_bad_arity_la_SOURCES = tests/plugins/bad_plugin.c
tests_plugins_bad_arity_la_CPPFLAGS = $(test_plugin_cppflags) -DBAD_ARITY
tests_plugins_bad_arity_la_CFLAGS = $(test_plugin_cflags)
tests_plugins_bad_arity_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_bad_init_la_SOURCES = tests/plugins/bad_plugin.c
tests_plugins_bad_init_la_CPPFLAGS = $(test_plugin_cppflags) -DBAD_INIT
tests_plugins_bad_init_la_CFLAGS = $(test_plugin_cflags)
tests_plugins_bad_init_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_bad_module_la_SOURCES = tests/plugins/bad_plugin.c
tests_plugins_bad_module_la_CPPFLAGS = $(test_plugin_cppflags) -DBAD_MODULE
tests_plugins_bad_module_la_CFLAGS = $(test_plugin_cflags)
tests_plugins_bad_module_la_LDFLAGS = $(test_plugin_ldflags)
tests_plugins_bad_clash_la_SOURCES = tests/plugins/bad_plugin.c
tests_plugins_bad_clash_la_CPPFLAGS = $(test_plugin_cppflags) -DBAD_CLASH
tests_plugins_bad_clash_la_CFLAGS = $(test_plugin_cflags)
tests_plugins_bad_clash_la_LDFLAGS = $(test_plugin_ldflags)

## Every public function is in pga-node's dynamic symbol table, so any
## plugin resolves what it uses (pga-node links libpga_core statically).
TESTS += tests/plugins/exports.sh
EXTRA_DIST += tests/plugins/exports.sh

## A plugin built out of tree against the installed headers with
## pga-plugin.pc (staged install), loaded and called.
TESTS += tests/plugins/installed.sh
EXTRA_DIST += tests/plugins/installed.sh pga-plugin.pc.in

## The plugin interop scenarios (run by tests/interop/run.sh with the rest).
EXTRA_DIST += tests/interop/lib/plugin.exs tests/interop/200_plugin_gateway.exs \
	tests/interop/210_plugin_push.exs tests/interop/220_plugin_refused.exs \
	tests/interop/230_plugin_startup_push.exs tests/interop/240_readme_demo.exs \
	tests/interop/250_remote_gateways.exs
