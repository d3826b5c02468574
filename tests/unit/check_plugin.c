/* Unit tests of the plugin layer: loading and refusing plugin files, the
 * FunConfigs built from their declarations (checked by pga's own config
 * plane, as a gateway would), the pull supporter, the pusher's pieces,
 * deadlines, failing handlers and the module probes.
 *
 * The plugins are the ones tests/plugins/local.mk builds; this binary is
 * linked with -export-dynamic so they resolve the pga_* API from it. */
#include <check.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "base/loop.h"
#include "config/config.h"
#include "plugin/local.h"
#include "plugin/plugin_int.h"
#include "rpc/rpc_int.h"
#include "term/term.h"

#define EXAMPLE PGA_TEST_BUILDDIR "/examples/.libs/pga_example.so"
#define TEST_SO PGA_TEST_BUILDDIR "/tests/plugins/.libs/pga_test.so"
#define BAD(kind) PGA_TEST_BUILDDIR "/tests/plugins/.libs/bad_" kind ".so"

static pga_node_t *node;
static pga_plugin_host_t *host;
static char err[1024];

static void setup(void) {
  pga_node_opts_t o = {.struct_version = PGA_NODE_OPTS_VERSION,
                       .name = "unit@127.0.0.1",
                       .cookie = "c",
                       .workers = 2};
  ck_assert_int_eq(pga_node_new(&o, &node, err, sizeof err), 0);
  ck_assert_int_eq(pga_plugin_host_new(node, &host), 0);
  err[0] = '\0';
}

static int64_t stop_loop(pga_loop_t *loop, uint64_t id, void *data) {
  pga_loop_stop(loop);
  return PGA_TIMER_NOMORE;
}

/* Runs the loop until every job's worker is done (work_done ran), so no
 * worker runs plugin code when the host unloads the files. */
static void drain(void) {
  pga_loop_t *loop = pga__node_loop(node);
  for (int i = 0;
       i < 500 && ((struct pga_rpc_s *)pga__node_rpc(node))->job_list; i++) {
    pga_loop_timer(loop, 10, stop_loop, NULL);
    pga_loop_run(loop);
  }
  ck_assert_ptr_null(((struct pga_rpc_s *)pga__node_rpc(node))->job_list);
}

static void teardown(void) {
  drain();
  pga_plugin_host_free(host);
  pga_node_free(node);
}

static pga_rpc_t *rpc(void) { return pga__node_rpc(node); }

static const char *fmt(const pga_term_t *t) {
  static char buf[8192];
  pga_term_format(t, buf, sizeof buf);
  return buf;
}

static const char *fmt_tb(const pga_tb_t *tb) {
  pga_term_t t = pga_tb_data(tb);
  return fmt(&t);
}

/* ---- running a function as a caller would (rpc:call result) ---- */

typedef struct result_s {
  pga_tb_t tb;
  int done;
} result_t;

static void on_done(void *ud, const pga_term_t *r) {
  result_t *res = ud;
  pga_tb_term(&res->tb, r);
  res->done = 1;
  pga_loop_stop(pga__node_loop(node));
}

static int64_t on_guard(pga_loop_t *loop, uint64_t id, void *data) {
  pga_loop_stop(loop);
  return PGA_TIMER_NOMORE;
}

/* Runs m:f(args) (args: a list term in text form built by the caller) and
 * returns the rpc:call result's text; *ms gets the time it took. */
static const char *call(const char *m, const char *f, const pga_term_t *args,
                        uint64_t *ms) {
  static char text[8192];
  result_t res = {.done = 0};
  pga__tb_init(&res.tb, 0);
  pga_loop_t *loop = pga__node_loop(node);
  uint64_t t0 = pga_clock_ms();
  ck_assert_int_eq(
      pga_rpc_run(rpc(), NULL, NULL, NULL, m, f, args, on_done, &res), 0);
  /* An inline function finished inside pga_rpc_run: its stop request is
   * pending, and a run consumes it (and returns at once). */
  if (res.done) pga_loop_run(loop);
  uint64_t guard = pga_loop_timer(loop, 10000, on_guard, NULL);
  while (!res.done) {
    ck_assert_int_eq(pga_loop_run(loop), 0);
    if (!res.done) break; /* the guard fired */
  }
  pga_loop_timer_cancel(loop, guard);
  if (ms) *ms = pga_clock_ms() - t0;
  ck_assert_msg(res.done, "%s:%s did not finish in 10 s", m, f);
  snprintf(text, sizeof text, "%s", fmt_tb(&res.tb));
  pga__tb_destroy(&res.tb);
  return text;
}

static pga_term_t list1_atom(pga_tb_t *tb, const char *a) {
  pga_tb_reset(tb);
  pga_tb_list(tb, 1);
  pga_tb_atom(tb, a);
  pga_tb_nil(tb);
  return pga_tb_data(tb);
}

static pga_term_t nil_list(pga_tb_t *tb) {
  pga_tb_reset(tb);
  pga_tb_list(tb, 0);
  return pga_tb_data(tb);
}

/* ---- loading ---- */

START_TEST(plugin_load_example_registers_its_functions) {
  ck_assert_int_eq(pga_plugin_load(host, EXAMPLE, err, sizeof err), 0);
  ck_assert_uint_eq(pga_plugin_count(host), 1);
  ck_assert_ptr_nonnull(
      pga_rpc_lookup(rpc(), "Elixir.PgaExample.Math", "add", 2));
  ck_assert_ptr_nonnull(
      pga_rpc_lookup(rpc(), "Elixir.PgaExample.Math", "echo", 1));
  ck_assert_ptr_nonnull(
      pga_rpc_lookup(rpc(), "Elixir.PgaExample.Ticker", "ticks", 2));
  /* the deadline comes from the config's timeout */
  ck_assert_uint_eq(
      pga_rpc_lookup(rpc(), "Elixir.PgaExample.Ticker", "ticks", 2)
          ->timeout_ms,
      10000);
}
END_TEST

/* Each refusal: the code, the file named first, the reason, and nothing
 * of the plugin left registered. */
static void refused(const char *path, int code, const char *why) {
  size_t before = pga_plugin_count(host);
  ck_assert_int_eq(pga_plugin_load(host, path, err, sizeof err), code);
  char head[1100];
  snprintf(head, sizeof head, "plugin %s: ", path);
  ck_assert_msg(!strncmp(err, head, strlen(head)), "err: %s", err);
  ck_assert_msg(strstr(err, why) != NULL, "err: %s (wanted \"%s\")", err, why);
  ck_assert_uint_eq(pga_plugin_count(host), before);
  ck_assert_ptr_null(pga_rpc_lookup(rpc(), "Elixir.PgaBad", "f", 0));
  ck_assert(!pga_rpc_module_known(rpc(), "Elixir.PgaBad"));
}

START_TEST(plugin_load_missing_file_is_refused) {
  refused(PGA_TEST_BUILDDIR "/no/such/plugin.so", PGA_ENOTFOUND,
          "cannot load it");
}
END_TEST

START_TEST(plugin_load_text_file_is_refused) {
  refused(PGA_TEST_SRCDIR "/tests/plugins/not_a_plugin.so", PGA_ENOTFOUND,
          "cannot load it");
}
END_TEST

START_TEST(plugin_load_missing_descriptor_is_refused) {
  refused(BAD("nosym"), PGA_ENOTFOUND, "no \"pga_plugin\" symbol");
}
END_TEST

START_TEST(plugin_load_wrong_abi_version_is_refused) {
  refused(BAD("abi"), PGA_EABI,
          "plugin ABI version 2, this pga-node speaks "
          "version 1");
}
END_TEST

START_TEST(plugin_load_wrong_signature_is_refused) {
  refused(BAD("sig"), PGA_EABI, "is not binary compatible");
}
END_TEST

START_TEST(plugin_load_duplicate_name_is_refused) {
  ck_assert_int_eq(pga_plugin_load(host, TEST_SO, err, sizeof err), 0);
  refused(BAD("dup"), PGA_EEXIST,
          "a plugin named \"pga_test\" is already loaded (from " TEST_SO ")");
}
END_TEST

START_TEST(plugin_load_same_file_twice_is_refused) {
  ck_assert_int_eq(pga_plugin_load(host, EXAMPLE, err, sizeof err), 0);
  refused(EXAMPLE, PGA_EEXIST, "already loaded");
  /* the first load still serves */
  ck_assert_ptr_nonnull(
      pga_rpc_lookup(rpc(), "Elixir.PgaExample.Math", "add", 2));
}
END_TEST

START_TEST(plugin_load_bad_name_is_refused) {
  refused(BAD("name"), PGA_EINVAL, "its name must be");
}
END_TEST

START_TEST(plugin_load_stream_without_request_info_is_refused) {
  refused(BAD("table"), PGA_EINVAL,
          "function Elixir.PgaBad:f/2: a stream function needs request_info");
  ck_assert_ptr_null(pga_rpc_lookup(rpc(), "Elixir.PgaBad", "f", 2));
}
END_TEST

START_TEST(plugin_load_arity_unlike_config_is_refused) {
  refused(BAD("arity"), PGA_EINVAL,
          "function Elixir.PgaBad:f/1: a gateway calls it with 2 arguments");
}
END_TEST

START_TEST(plugin_load_failing_init_is_refused_with_its_reason) {
  refused(BAD("init"), PGA_EINVAL,
          "its init hook failed: no licence for "
          "pga_bad");
}
END_TEST

START_TEST(plugin_load_denied_module_is_refused) {
  refused(BAD("module"), PGA_EINVAL, "module os is refused by every gateway");
  ck_assert_ptr_null(pga_rpc_lookup(rpc(), "os", "f", 0));
}
END_TEST

START_TEST(plugin_load_builtin_clash_is_refused) {
  const pga_fn_entry_t *echo = pga_rpc_lookup(rpc(), "pga_node", "echo", 1);
  refused(BAD("clash"), PGA_EEXIST,
          "function pga_node:echo/1 is already "
          "served");
  ck_assert_ptr_eq(pga_rpc_lookup(rpc(), "pga_node", "echo", 1), echo);
}
END_TEST

START_TEST(plugin_host_twice_on_one_node_is_refused) {
  pga_plugin_host_t *other = NULL;
  ck_assert_int_eq(pga_plugin_host_new(node, &other), PGA_EEXIST);
  ck_assert_ptr_null(other);
}
END_TEST

START_TEST(plugin_hooks_run_in_lifecycle_order) {
  ck_assert_int_eq(pga_plugin_load(host, TEST_SO, err, sizeof err), 0);
  /* keep the file mapped past the host to read what its hooks recorded */
  void *keep = dlopen(TEST_SO, RTLD_NOW | RTLD_LOCAL);
  ck_assert_ptr_nonnull(keep);
  const char *hooks = dlsym(keep, "pga_test_hooks");
  ck_assert_ptr_nonnull(hooks);
  ck_assert_str_eq(hooks, "init");
  ck_assert_int_eq(pga_plugin_host_start(host, err, sizeof err), 0);
  ck_assert_str_eq(hooks, "init,start");
  pga_plugin_host_free(host);
  host = NULL;
  ck_assert_str_eq(hooks, "init,start,stop,exit");
  ck_assert_ptr_null(pga_rpc_lookup(rpc(), "Elixir.PgaTest.Fns", "fail", 1));
  ck_assert_ptr_null(pga_rpc_lookup(rpc(), "pga_node", "get_config", 0));
  dlclose(keep);
}
END_TEST

START_TEST(plugin_host_free_unregisters_and_allows_a_new_host) {
  ck_assert_int_eq(pga_plugin_load(host, EXAMPLE, err, sizeof err), 0);
  pga_plugin_host_free(host);
  host = NULL;
  ck_assert(!pga_rpc_module_known(rpc(), "Elixir.PgaExample.Math"));
  ck_assert_int_eq(pga_plugin_host_new(node, &host), 0);
  ck_assert_int_eq(pga_plugin_load(host, EXAMPLE, err, sizeof err), 0);
}
END_TEST

/* ---- FunConfigs ---- */

/* The FunConfig list of {ok, List}. */
static void configs_of(const char *service, pga_tb_t *out, pga_term_t *list) {
  pga_tb_t s;
  pga__tb_init(&s, 0);
  if (service) pga_tb_string(&s, service);
  pga_term_t st = pga_tb_data(&s);
  pga__supporter_configs(host, service ? &st : NULL, out);
  pga_term_t ok = pga_tb_data(out), tag;
  ck_assert_int_eq(pga_term_tuple_get(&ok, 0, &tag), 0);
  ck_assert_msg(pga_term_is_atom(&tag, "ok"), "%s", fmt(&ok));
  ck_assert_int_eq(pga_term_tuple_get(&ok, 1, list), 0);
  pga__tb_destroy(&s);
}

static const char *field(const pga_term_t *fc, const char *key) {
  pga_term_t v;
  ck_assert_int_eq(pga_term_map_get_atom(fc, key, &v), 0);
  return fmt(&v);
}

START_TEST(funconfigs_are_complete_structs_on_this_node) {
  ck_assert_int_eq(pga_plugin_load(host, EXAMPLE, err, sizeof err), 0);
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_term_t list, fc;
  configs_of("pga_example", &tb, &list);
  size_t n;
  ck_assert_int_eq(pga_term_list_length(&list, &n), 0);
  ck_assert_uint_eq(n, 4);
  pga_term_iter_t it;
  ck_assert_int_eq(pga_term_iter_init(&it, &list), 0);
  while (pga_term_iter_next(&it, &fc)) {
    size_t keys;
    ck_assert_int_eq(pga_term_map_size(&fc, &keys), 0);
    ck_assert_uint_eq(keys, 19);
    ck_assert(pga_funconfig_is_struct(&fc));
    ck_assert_str_eq(field(&fc, "nodes"), "['unit@127.0.0.1']");
    ck_assert_str_eq(field(&fc, "service"), "<<\"pga_example\">>");
    ck_assert_str_eq(field(&fc, "disabled"), "false");
    ck_assert_str_eq(field(&fc, "hook_timeout"), "5000");
  }
  ck_assert_int_eq(pga_term_iter_init(&it, &list), 0);
  ck_assert(pga_term_iter_next(&it, &fc));
  ck_assert_str_eq(field(&fc, "request_type"), "<<\"add\">>");
  ck_assert_str_eq(field(&fc, "mfa"), "{'Elixir.PgaExample.Math',add,[]}");
  ck_assert_str_eq(field(&fc, "arg_types"),
                   "#{<<\"a\">> => num,<<\"b\">> => num}");
  ck_assert_str_eq(field(&fc, "arg_orders"), "[<<\"a\">>,<<\"b\">>]");
  ck_assert_str_eq(field(&fc, "response_type"), "sync");
  ck_assert_str_eq(field(&fc, "choose_node_mode"), "random");
  ck_assert(pga_term_iter_next(&it, &fc));
  ck_assert_str_eq(field(&fc, "arg_types"),
                   "#{<<\"value\">> => [{type,string},{max_bytes,1024}]}");
  ck_assert(pga_term_iter_next(&it, &fc));
  ck_assert_str_eq(field(&fc, "request_type"), "<<\"fib\">>");
  ck_assert_str_eq(field(&fc, "response_type"), "async");
  ck_assert(pga_term_iter_next(&it, &fc));
  ck_assert_str_eq(field(&fc, "request_type"), "<<\"ticks\">>");
  ck_assert_str_eq(field(&fc, "response_type"), "stream");
  ck_assert_str_eq(field(&fc, "request_info"), "true");
  ck_assert_str_eq(field(&fc, "timeout"), "10000");
  pga__tb_destroy(&tb);
}
END_TEST

START_TEST(funconfigs_carry_every_declared_option) {
  ck_assert_int_eq(pga_plugin_load(host, TEST_SO, err, sizeof err), 0);
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_term_t list, fc;
  configs_of("pga_test", &tb, &list);
  pga_term_iter_t it;
  ck_assert_int_eq(pga_term_iter_init(&it, &list), 0);
  ck_assert(pga_term_iter_next(&it, &fc)); /* notify */
  ck_assert_str_eq(field(&fc, "response_type"), "async");
  ck_assert_str_eq(field(&fc, "version"), "<<\"1.0.0\">>");
  ck_assert_str_eq(field(&fc, "check_permission"), "any_authenticated");
  ck_assert_str_eq(field(&fc, "arg_types"),
                   "#{<<\"value\">> => [{type,string},{'allow_nil?',true}]}");
  ck_assert(pga_term_iter_next(&it, &fc)); /* fire */
  ck_assert_str_eq(field(&fc, "response_type"), "none");
  ck_assert_str_eq(field(&fc, "choose_node_mode"), "{hash,<<\"value\">>}");
  ck_assert(pga_term_iter_next(&it, &fc)); /* fail */
  ck_assert_str_eq(field(&fc, "check_permission"), "{role,[<<\"admin\">>]}");
  ck_assert(pga_term_iter_next(&it, &fc)); /* refuse */
  ck_assert_str_eq(field(&fc, "arg_orders"), "map");
  ck_assert_str_eq(field(&fc, "check_permission"), "{arg,<<\"value\">>}");
  ck_assert(pga_term_iter_next(&it, &fc)); /* slow */
  ck_assert_str_eq(field(&fc, "timeout"), "300");
  ck_assert_str_eq(field(&fc, "choose_node_mode"), "round_robin");
  ck_assert(pga_term_iter_next(&it, &fc)); /* forever */
  ck_assert_str_eq(field(&fc, "timeout"), "infinity");
  ck_assert_str_eq(field(&fc, "mfa"), "{'Elixir.PgaTest.Stream',forever,[]}");
  ck_assert(pga_term_iter_next(&it, &fc)); /* last */
  ck_assert(pga_term_iter_next(&it, &fc)); /* oops */
  ck_assert(!pga_term_iter_next(&it, &fc));
  pga__tb_destroy(&tb);
}
END_TEST

START_TEST(get_config_selects_by_service_binary_or_atom) {
  ck_assert_int_eq(pga_plugin_load(host, EXAMPLE, err, sizeof err), 0);
  ck_assert_int_eq(pga_plugin_load(host, TEST_SO, err, sizeof err), 0);
  pga_tb_t tb, s;
  pga__tb_init(&tb, 0);
  pga__tb_init(&s, 0);
  pga_term_t list;
  size_t n;
  configs_of(NULL, &tb, &list);
  ck_assert_int_eq(pga_term_list_length(&list, &n), 0);
  ck_assert_uint_eq(n, 4 + 8);
  pga_tb_reset(&tb);
  pga_tb_atom(&s, "pga_test");
  pga_term_t st = pga_tb_data(&s);
  pga__supporter_configs(host, &st, &tb);
  pga_term_t ok = pga_tb_data(&tb), l;
  ck_assert_int_eq(pga_term_tuple_get(&ok, 1, &l), 0);
  ck_assert_int_eq(pga_term_list_length(&l, &n), 0);
  ck_assert_uint_eq(n, 8);
  pga_tb_reset(&tb);
  pga_tb_reset(&s);
  pga_tb_string(&s, "nobody");
  st = pga_tb_data(&s);
  pga__supporter_configs(host, &st, &tb);
  ck_assert_str_eq(fmt_tb(&tb), "{error,not_found}");
  pga_tb_reset(&tb);
  pga__supporter_version(host, &st, &tb);
  ck_assert_str_eq(fmt_tb(&tb), "nil");
  pga__tb_destroy(&tb);
  pga__tb_destroy(&s);
}
END_TEST

static void version_of(const char *service, char *out, size_t outlen) {
  pga_tb_t tb, s;
  pga__tb_init(&tb, 0);
  pga__tb_init(&s, 0);
  if (service) pga_tb_string(&s, service);
  pga_term_t st = pga_tb_data(&s);
  pga__supporter_version(host, service ? &st : NULL, &tb);
  ck_assert_int_lt(snprintf(out, outlen, "%s", fmt_tb(&tb)), (int)outlen);
  pga__tb_destroy(&tb);
  pga__tb_destroy(&s);
}

START_TEST(config_version_changes_with_the_set_only) {
  char empty[64], one[64], one_svc[64], two[64], two_svc[64], again[64];
  version_of(NULL, empty, sizeof empty);
  ck_assert_int_eq(pga_plugin_load(host, EXAMPLE, err, sizeof err), 0);
  version_of(NULL, one, sizeof one);
  version_of("pga_example", one_svc, sizeof one_svc);
  ck_assert_int_eq(pga_plugin_load(host, TEST_SO, err, sizeof err), 0);
  version_of(NULL, two, sizeof two);
  version_of("pga_example", two_svc, sizeof two_svc);
  ck_assert_str_ne(empty, one);
  ck_assert_str_ne(one, two);
  ck_assert_str_eq(one_svc, two_svc);     /* another service changed */
  ck_assert_uint_eq(strlen(one), 16 + 6); /* <<"16 hex digits">> */
  /* deterministic: another host with the same plugin agrees */
  pga_plugin_host_free(host);
  ck_assert_int_eq(pga_plugin_host_new(node, &host), 0);
  ck_assert_int_eq(pga_plugin_load(host, EXAMPLE, err, sizeof err), 0);
  version_of("pga_example", again, sizeof again);
  ck_assert_str_eq(again, one_svc);
}
END_TEST

/* pga's own config plane plays the gateway: every announced FunConfig
 * passes ConfigDb.add/1 (MFA checks and §2.1 validation), and the pushed
 * PushConfig is accepted by ConfigReceiver.push/2. */
START_TEST(funconfigs_and_push_config_pass_a_gateways_validation) {
  ck_assert_int_eq(pga_plugin_load(host, EXAMPLE, err, sizeof err), 0);
  ck_assert_int_eq(pga_plugin_load(host, TEST_SO, err, sizeof err), 0);
  pga_config_plane_t *plane = NULL;
  pga_config_opts_t co = {.struct_version = PGA_CONFIG_OPTS_VERSION};
  ck_assert_int_eq(pga_config_plane_new(NULL, &co, &plane, err, sizeof err),
                   0);
  pga_tb_t tb, out;
  pga__tb_init(&tb, 0);
  pga__tb_init(&out, 0);
  pga_term_t list, fc;
  configs_of(NULL, &tb, &list);
  pga_term_iter_t it;
  ck_assert_int_eq(pga_term_iter_init(&it, &list), 0);
  while (pga_term_iter_next(&it, &fc)) {
    pga_tb_reset(&out);
    pga_outcome_t o = pga_config_call(plane, "Elixir.PhoenixGenApi.ConfigDb",
                                      "add", 1, &fc, &out);
    ck_assert_msg(o == PGA_RETURN && !strcmp(fmt_tb(&out), "ok"),
                  "ConfigDb.add(%s) -> %s", field(&fc, "request_type"),
                  fmt_tb(&out));
  }
  pga__push_opts_t po;
  int bad;
  pga_tb_t opts;
  pga__tb_init(&opts, 0);
  pga_term_t none = nil_list(&opts);
  ck_assert_int_eq(pga__push_opts(&none, &po, &bad), 0);
  po.has_service = 1;
  snprintf(po.service, sizeof po.service, "pga_test");
  pga_tb_reset(&tb);
  pga__push_config(host, &po, &tb);
  pga_term_t argv[2];
  argv[0] = pga_tb_data(&tb);
  size_t keys;
  ck_assert_int_eq(pga_term_map_size(&argv[0], &keys), 0);
  ck_assert_uint_eq(keys, 12);
  pga_tb_reset(&opts);
  pga_tb_list(&opts, 1);
  pga_tb_tuple(&opts, 2);
  pga_tb_atom(&opts, "force");
  pga_tb_bool(&opts, 0);
  pga_tb_nil(&opts);
  argv[1] = pga_tb_data(&opts);
  pga_tb_reset(&out);
  pga_outcome_t o = pga_config_call(
      plane, "Elixir.PhoenixGenApi.ConfigReceiver", "push", 2, argv, &out);
  ck_assert_int_eq(o, PGA_RETURN);
  ck_assert_str_eq(fmt_tb(&out), "{ok,accepted}");
  pga_tb_reset(&out);
  o = pga_config_call(plane, "Elixir.PhoenixGenApi.ConfigReceiver", "push", 2,
                      argv, &out);
  ck_assert_str_eq(fmt_tb(&out), "{ok,skipped,version_matches}");
  pga_config_plane_free(plane);
  pga__tb_destroy(&tb);
  pga__tb_destroy(&out);
  pga__tb_destroy(&opts);
}
END_TEST

/* ---- the pusher's pieces ---- */

static const char *push_config_field(const char *key) {
  static char text[4096];
  pga__push_opts_t po;
  int bad;
  pga_tb_t tb, o;
  pga__tb_init(&tb, 0);
  pga__tb_init(&o, 0);
  pga_term_t none = nil_list(&o);
  ck_assert_int_eq(pga__push_opts(&none, &po, &bad), 0);
  ck_assert_int_eq(pga__push_service(host, &po, &tb), 0);
  pga__push_config(host, &po, &tb);
  pga_term_t pc = pga_tb_data(&tb);
  snprintf(text, sizeof text, "%s", field(&pc, key));
  pga__tb_destroy(&tb);
  pga__tb_destroy(&o);
  return text;
}

START_TEST(push_config_names_the_pull_supporter) {
  ck_assert_int_eq(pga_plugin_load(host, EXAMPLE, err, sizeof err), 0);
  ck_assert_str_eq(push_config_field("__struct__"),
                   "'Elixir.PhoenixGenApi.Structs.PushConfig'");
  ck_assert_str_eq(push_config_field("service"), "<<\"pga_example\">>");
  ck_assert_str_eq(push_config_field("nodes"), "['unit@127.0.0.1']");
  ck_assert_str_eq(push_config_field("module"), "pga_node");
  ck_assert_str_eq(push_config_field("function"), "get_config");
  ck_assert_str_eq(push_config_field("version_module"), "pga_node");
  ck_assert_str_eq(push_config_field("version_function"),
                   "get_config_version");
  ck_assert_str_eq(push_config_field("args"), "[<<\"pga_example\">>]");
  ck_assert_str_eq(push_config_field("version_args"), "[<<\"pga_example\">>]");
  ck_assert_str_eq(push_config_field("push_token"), "nil");
  char v[64];
  version_of("pga_example", v, sizeof v);
  ck_assert_str_eq(push_config_field("config_version"), v);
}
END_TEST

static char opt_version[64];

static int opts_of(const char *key, int kind, int64_t n, pga__push_opts_t *o) {
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_tb_list(&tb, 1);
  pga_tb_tuple(&tb, 2);
  pga_tb_atom(&tb, key);
  if (kind == 0) pga_tb_int(&tb, n);
  if (kind == 1) pga_tb_atom(&tb, n ? "true" : "yes");
  if (kind == 2) pga_tb_string(&tb, n ? "v9" : "");
  pga_tb_nil(&tb);
  pga_term_t t = pga_tb_data(&tb);
  int bad, rc = pga__push_opts(&t, o, &bad);
  /* config_version is a view into the options: read it while they live */
  opt_version[0] = '\0';
  if (o->config_version.len)
    pga_term_format(&o->config_version, opt_version, sizeof opt_version);
  pga__tb_destroy(&tb);
  return rc;
}

START_TEST(push_opts_parse_defaults_and_reject_bad_values) {
  pga__push_opts_t o;
  ck_assert_int_eq(opts_of("unknown", 0, 1, &o), 0);
  ck_assert_int_eq(o.force, 0);
  ck_assert_uint_eq(o.timeout_ms, 5000);
  ck_assert_uint_eq(o.retries, 3);
  ck_assert_uint_eq(o.backoff_ms, 500);
  ck_assert_int_eq(opts_of("force", 1, 1, &o), 0);
  ck_assert_int_eq(o.force, 1);
  ck_assert_int_eq(opts_of("force", 1, 0, &o), 0); /* not true: false */
  ck_assert_int_eq(o.force, 0);
  ck_assert_int_eq(opts_of("timeout", 0, 0, &o), PGA_EINVAL);
  ck_assert_int_eq(opts_of("timeout", 0, 1200, &o), 0);
  ck_assert_uint_eq(o.timeout_ms, 1200);
  ck_assert_int_eq(opts_of("retries", 0, -1, &o), PGA_EINVAL);
  ck_assert_int_eq(opts_of("retries", 0, 101, &o), PGA_EINVAL);
  ck_assert_int_eq(opts_of("config_version", 2, 0, &o), PGA_EINVAL);
  ck_assert_int_eq(opts_of("config_version", 2, 1, &o), 0);
  ck_assert_str_eq(opt_version, "<<\"v9\">>");
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  int bad;
  pga_tb_atom(&tb, "force"); /* not a list */
  pga_term_t t = pga_tb_data(&tb);
  ck_assert_int_eq(pga__push_opts(&t, &o, &bad), PGA_EINVAL);
  pga_tb_reset(&tb);
  pga_tb_list(&tb, 1); /* improper: [force | true] */
  pga_tb_atom(&tb, "force");
  pga_tb_atom(&tb, "true");
  t = pga_tb_data(&tb);
  ck_assert_int_eq(pga__push_opts(&t, &o, &bad), PGA_EINVAL);
  pga__tb_destroy(&tb);
}
END_TEST

START_TEST(push_service_needs_a_choice_among_several) {
  pga__push_opts_t o;
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  ck_assert_int_eq(opts_of("x", 0, 0, &o), 0);
  ck_assert_int_eq(pga__push_service(host, &o, &tb), PGA_EINVAL);
  ck_assert_str_eq(fmt_tb(&tb), "{error,no_services}");
  ck_assert_int_eq(pga_plugin_load(host, EXAMPLE, err, sizeof err), 0);
  ck_assert_int_eq(pga_plugin_load(host, TEST_SO, err, sizeof err), 0);
  pga_tb_reset(&tb);
  ck_assert_int_eq(pga__push_service(host, &o, &tb), PGA_EINVAL);
  ck_assert_str_eq(fmt_tb(&tb), "{error,service_required}");
  o.has_service = 1;
  snprintf(o.service, sizeof o.service, "nope");
  pga_tb_reset(&tb);
  ck_assert_int_eq(pga__push_service(host, &o, &tb), PGA_EINVAL);
  ck_assert_str_eq(fmt_tb(&tb), "{error,{unknown_service,<<\"nope\">>}}");
  snprintf(o.service, sizeof o.service, "pga_test");
  ck_assert_int_eq(pga__push_service(host, &o, &tb), 0);
  pga__tb_destroy(&tb);
}
END_TEST

/* reply (built by the callback), verify?, expected text, retry? */
static void interpret(void (*build)(pga_tb_t *), int verify, const char *want,
                      int want_retry) {
  pga_tb_t in, out;
  pga__tb_init(&in, 0);
  pga__tb_init(&out, 0);
  build(&in);
  pga_term_t t = pga_tb_data(&in);
  int retry = -1;
  pga__push_interpret(&t, verify, &out, &retry);
  ck_assert_str_eq(fmt_tb(&out), want);
  ck_assert_int_eq(retry, want_retry);
  pga__tb_destroy(&in);
  pga__tb_destroy(&out);
}

static void r_accepted(pga_tb_t *tb) {
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, "ok");
  pga_tb_atom(tb, "accepted");
}
static void r_skipped(pga_tb_t *tb) {
  pga_tb_tuple(tb, 3);
  pga_tb_atom(tb, "ok");
  pga_tb_atom(tb, "skipped");
  pga_tb_atom(tb, "version_matches");
}
static void r_error(pga_tb_t *tb) {
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, "error");
  pga_tb_atom(tb, "invalid_push_token");
}
static void r_nodedown(pga_tb_t *tb) {
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, "badrpc");
  pga_tb_atom(tb, "nodedown");
}
static void r_timeout(pga_tb_t *tb) {
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, "badrpc");
  pga_tb_atom(tb, "timeout");
}
static void r_bare(pga_tb_t *tb) { pga_tb_atom(tb, "ok"); }
/* {badrpc, {'EXIT', {undef, [{Mod, push, [], []}]}}} */
static void undef_of(pga_tb_t *tb, const char *mod) {
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, "badrpc");
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, "EXIT");
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, "undef");
  pga_tb_list(tb, 1);
  pga_tb_tuple(tb, 4);
  pga_tb_atom(tb, mod);
  pga_tb_atom(tb, "push");
  pga_tb_list(tb, 0);
  pga_tb_list(tb, 0);
  pga_tb_nil(tb);
}
static void r_undef_receiver(pga_tb_t *tb) {
  undef_of(tb, "Elixir.PhoenixGenApi.ConfigReceiver");
}
static void r_undef_other(pga_tb_t *tb) { undef_of(tb, "Elixir.Other"); }
static void r_noproc(pga_tb_t *tb) {
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, "badrpc");
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, "EXIT");
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, "noproc");
  pga_tb_atom(tb, "x");
}
static void r_matched(pga_tb_t *tb) {
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, "ok");
  pga_tb_atom(tb, "matched");
}
static void r_mismatch(pga_tb_t *tb) {
  pga_tb_tuple(tb, 3);
  pga_tb_atom(tb, "ok");
  pga_tb_atom(tb, "mismatch");
  pga_tb_string(tb, "1");
}

START_TEST(push_replies_are_interpreted_as_the_library_pusher_does) {
  interpret(r_accepted, 0, "{ok,accepted}", 0);
  interpret(r_skipped, 0, "{ok,skipped,version_matches}", 0);
  interpret(r_error, 0, "{error,invalid_push_token}", 0);
  interpret(r_nodedown, 0, "{error,{badrpc,nodedown}}", 1);
  interpret(r_timeout, 0, "{error,{badrpc,timeout}}", 0);
  interpret(r_bare, 0, "{error,{unexpected_reply,ok}}", 0);
  interpret(r_matched, 0, "{error,{unexpected_reply,{ok,matched}}}", 0);
  interpret(r_matched, 1, "{ok,matched}", 0);
  interpret(r_mismatch, 1, "{ok,mismatch,<<\"1\">>}", 0);
  interpret(r_accepted, 1, "{error,{unexpected_reply,{ok,accepted}}}", 0);
  interpret(r_nodedown, 1, "{error,{badrpc,nodedown}}", 1);
  /* a gateway node up before PhoenixGenApi is: retried too */
  interpret(r_undef_receiver, 0,
            "{error,{badrpc,{'EXIT',{undef,[{'Elixir.PhoenixGenApi."
            "ConfigReceiver',push,[],[]}]}}}}",
            1);
  interpret(r_undef_other, 0,
            "{error,{badrpc,{'EXIT',{undef,[{'Elixir.Other',push,[],[]}]}}}}",
            0);
  interpret(r_noproc, 0, "{error,{badrpc,{'EXIT',{noproc,x}}}}", 1);
}
END_TEST

/* Log lines say why in words, never a raw term cut short. */
static void r_long_error(pga_tb_t *tb) {
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, "error");
  pga_tb_list(tb, 100);
  for (int i = 0; i < 100; i++) pga_tb_atom(tb, "invalid_config_entry");
  pga_tb_nil(tb);
}

START_TEST(push_reasons_are_one_readable_phrase) {
  static const struct {
    void (*build)(pga_tb_t *);
    int verify;
    const char *want;
  } cases[] = {
      {r_accepted, 0, "accepted"},
      {r_skipped, 0, "skipped (:version_matches)"},
      {r_mismatch, 1, "mismatch (\"1\")"},
      {r_error, 0, "refused: :invalid_push_token"},
      {r_nodedown, 0, "gateway down or unreachable (nodedown)"},
      {r_timeout, 0, "no answer within 5000 ms (timeout)"},
      {r_undef_receiver, 0,
       "PhoenixGenApi is not loaded there (ConfigReceiver undefined)"},
      {r_noproc, 0, "PhoenixGenApi is not started there (noproc)"},
      {r_bare, 0, "refused: {:unexpected_reply, :ok}"},
  };
  pga_tb_t in, out;
  pga__tb_init(&in, 0);
  pga__tb_init(&out, 0);
  char text[256];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int retry;
    pga_tb_reset(&in);
    pga_tb_reset(&out);
    cases[i].build(&in);
    pga_term_t t = pga_tb_data(&in);
    pga__push_interpret(&t, cases[i].verify, &out, &retry);
    pga_term_t o = pga_tb_data(&out);
    pga__push_reason(&o, 5000, text, sizeof text);
    ck_assert_str_eq(text, cases[i].want);
  }
  /* a long reason is cut, visibly */
  pga_tb_reset(&in);
  r_long_error(&in);
  pga_term_t t = pga_tb_data(&in);
  pga__push_reason(&t, 5000, text, sizeof text);
  ck_assert_uint_le(strlen(text), 9 + 160 + 3);
  ck_assert_str_eq(text + strlen(text) - 3, "...");
  ck_assert_ptr_nonnull(strstr(text, "refused: [:invalid_config_entry,"));
  pga__tb_destroy(&in);
  pga__tb_destroy(&out);
}
END_TEST

START_TEST(push_config_to_a_bad_gateway_name_reports_nodedown) {
  ck_assert_int_eq(pga_plugin_load(host, EXAMPLE, err, sizeof err), 0);
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_tb_list(&tb, 2);
  pga_tb_atom(&tb, "not_a_node_name");
  pga_tb_list(&tb, 1);
  pga_tb_tuple(&tb, 2);
  pga_tb_atom(&tb, "retries");
  pga_tb_int(&tb, 0);
  pga_tb_nil(&tb);
  pga_tb_nil(&tb);
  pga_term_t args = pga_tb_data(&tb);
  ck_assert_str_eq(call("pga_node", "push_config", &args, NULL),
                   "{error,{badrpc,nodedown}}");
  pga_tb_reset(&tb);
  pga_tb_list(&tb, 2);
  pga_tb_atom(&tb, "gw@host");
  pga_tb_atom(&tb, "force");
  pga_tb_nil(&tb);
  args = pga_tb_data(&tb);
  ck_assert_str_eq(call("pga_node", "push_config", &args, NULL),
                   "{error,{badarg,opts}}");
  pga__tb_destroy(&tb);
}
END_TEST

/* ---- running plugin functions ---- */

START_TEST(handler_error_reaches_the_caller_as_an_rpc_exit) {
  ck_assert_int_eq(pga_plugin_load(host, TEST_SO, err, sizeof err), 0);
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_term_t args = list1_atom(&tb, "boom");
  ck_assert_str_eq(
      call("Elixir.PgaTest.Fns", "fail", &args, NULL),
      "{badrpc,{'EXIT',{boom,[{'Elixir.PgaTest.Fns',fail,[boom],[]}]}}}");
  ck_assert_str_eq(call("Elixir.PgaTest.Fns", "refuse", &args, NULL),
                   "{error,boom}");
  args = nil_list(&tb);
  ck_assert_str_eq(call("Elixir.PgaTest.Fns", "bad_result", &args, NULL),
                   "{badrpc,{'EXIT',{pga_bad_result,[{'Elixir.PgaTest.Fns',"
                   "bad_result,[],[]}]}}}");
  pga__tb_destroy(&tb);
}
END_TEST

START_TEST(deadline_ends_the_call_with_timeout_and_cancels_the_handler) {
  ck_assert_int_eq(pga_plugin_load(host, TEST_SO, err, sizeof err), 0);
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_tb_list(&tb, 1);
  pga_tb_int(&tb, 5000);
  pga_tb_nil(&tb);
  pga_term_t args = pga_tb_data(&tb);
  uint64_t ms;
  ck_assert_str_eq(
      call("Elixir.PgaTest.Fns", "slow", &args, &ms),
      "{badrpc,{'EXIT',{timeout,{'Elixir.PgaTest.Fns',slow,1}}}}");
  ck_assert_msg(ms >= 290 && ms < 2000, "took %llu ms",
                (unsigned long long)ms);
  /* the handler saw pga_call_cancelled() and stopped: its count shows
   * once its worker is done (stats runs inline, so poll a few times) */
  const char *s = "";
  pga_term_t none = nil_list(&tb);
  for (int i = 0; i < 100; i++) {
    s = call("Elixir.PgaTest.Fns", "stats", &none, NULL);
    if (strstr(s, "cancelled => 1")) break;
    struct timespec ts = {0, 10000000};
    nanosleep(&ts, NULL);
  }
  ck_assert_msg(strstr(s, "cancelled => 1") != NULL, "%s", s);
  /* under the deadline it returns normally */
  pga_tb_reset(&tb);
  pga_tb_list(&tb, 1);
  pga_tb_int(&tb, 20);
  pga_tb_nil(&tb);
  args = pga_tb_data(&tb);
  ck_assert_str_eq(call("Elixir.PgaTest.Fns", "slow", &args, NULL), "ok");
  pga__tb_destroy(&tb);
}
END_TEST

/* A pid of ours with no process behind it: nobody would relay. */
START_TEST(stream_to_a_dead_local_pid_is_refused) {
  ck_assert_int_eq(pga_plugin_load(host, TEST_SO, err, sizeof err), 0);
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_tb_list(&tb, 2);
  pga_tb_int(&tb, 0);
  pga_tb_map(&tb, 1);
  pga_tb_atom(&tb, "stream_pid");
  pga_dist_put_pid(pga__node_dist(node), &tb, 1u << 30); /* ours, unused */
  pga_tb_nil(&tb);
  pga_term_t args = pga_tb_data(&tb);
  ck_assert_str_eq(call("Elixir.PgaTest.Stream", "forever", &args, NULL),
                   "{error,no_stream}");
  pga_tb_reset(&tb);
  pga_tb_list(&tb, 2);
  pga_tb_int(&tb, 0);
  pga_tb_map(&tb, 0); /* no stream_pid */
  pga_tb_nil(&tb);
  args = pga_tb_data(&tb);
  ck_assert_str_eq(call("Elixir.PgaTest.Stream", "forever", &args, NULL),
                   "{error,no_stream}");
  pga__tb_destroy(&tb);
}
END_TEST

/* A relay of our own (the gateway running a :local stream config): the
 * chunks are delivered in-process; once it is gone, the next send cancels
 * the call. */
static int local_relay_got;

static void local_relay_message(pga_proc_t *p, pga_conn_t *c,
                                const pga_term_t *from,
                                const pga_term_t *msg) {
  pga_term_t tag;
  if (pga_term_tuple_get(msg, 0, &tag) == 0 &&
      pga_term_is_atom(&tag, "result"))
    local_relay_got++;
}

static const pga_proc_ops_t local_relay_ops = {
    .on_message = local_relay_message};

static void run_loop_ms(unsigned ms) {
  pga_loop_t *loop = pga__node_loop(node);
  pga_loop_timer(loop, ms, stop_loop, NULL);
  pga_loop_run(loop);
}

START_TEST(stream_to_a_live_local_process_is_delivered) {
  ck_assert_int_eq(pga_plugin_load(host, TEST_SO, err, sizeof err), 0);
  pga_dist_t *d = pga__node_dist(node);
  pga_proc_t *relay = pga_proc_new(d, &local_relay_ops, NULL);
  ck_assert_ptr_nonnull(relay);
  local_relay_got = 0;
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_tb_list(&tb, 2);
  pga_tb_int(&tb, 1); /* a chunk every ms */
  pga_tb_map(&tb, 1);
  pga_tb_atom(&tb, "stream_pid");
  pga_dist_put_pid(d, &tb, pga_proc_id(relay));
  pga_tb_nil(&tb);
  pga_term_t args = pga_tb_data(&tb);
  ck_assert_str_eq(call("Elixir.PgaTest.Stream", "forever", &args, NULL),
                   "streaming");
  for (int i = 0; i < 100 && local_relay_got < 3; i++) run_loop_ms(10);
  ck_assert_int_ge(local_relay_got, 3);
  pga_proc_free(relay); /* the relay ends: the function is cancelled */
  drain();
  pga_tb_t st;
  pga__tb_init(&st, 0);
  pga_tb_nil(&st);
  pga_term_t none = pga_tb_data(&st);
  ck_assert_ptr_nonnull(
      strstr(call("Elixir.PgaTest.Fns", "stats", &none, NULL),
             "stream_stops => 1"));
  pga__tb_destroy(&st);
  pga__tb_destroy(&tb);
}
END_TEST

START_TEST(probes_answer_for_plugin_and_builtin_modules) {
  ck_assert_int_eq(pga_plugin_load(host, EXAMPLE, err, sizeof err), 0);
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_term_t a = list1_atom(&tb, "Elixir.PgaExample.Math");
  ck_assert_str_eq(call("Elixir.Code", "ensure_loaded?", &a, NULL), "true");
  ck_assert_str_eq(call("Elixir.Code", "ensure_loaded", &a, NULL),
                   "{module,'Elixir.PgaExample.Math'}");
  ck_assert_str_eq(call("Elixir.Code", "ensure_compiled", &a, NULL),
                   "{module,'Elixir.PgaExample.Math'}");
  ck_assert_str_eq(call("code", "ensure_loaded", &a, NULL),
                   "{module,'Elixir.PgaExample.Math'}");
  ck_assert_str_eq(call("erlang", "module_loaded", &a, NULL), "true");
  a = list1_atom(&tb, "pga_node");
  ck_assert_str_eq(call("Elixir.Code", "ensure_loaded?", &a, NULL), "true");
  a = list1_atom(&tb, "Elixir.Nope");
  ck_assert_str_eq(call("Elixir.Code", "ensure_loaded?", &a, NULL), "false");
  ck_assert_str_eq(call("Elixir.Code", "ensure_compiled", &a, NULL),
                   "{error,nofile}");
  pga_tb_reset(&tb);
  pga_tb_list(&tb, 1);
  pga_tb_string(&tb, "Elixir.PgaExample.Math");
  pga_tb_nil(&tb);
  a = pga_tb_data(&tb);
  ck_assert_str_eq(
      call("Elixir.Code", "ensure_loaded?", &a, NULL),
      "{badrpc,{'EXIT',{function_clause,[{'Elixir.Code',"
      "'ensure_loaded?',[<<\"Elixir.PgaExample.Math\">>],[]}]}}}");
  pga_tb_reset(&tb);
  pga_tb_list(&tb, 3);
  pga_tb_atom(&tb, "Elixir.PgaExample.Math");
  pga_tb_atom(&tb, "add");
  pga_tb_int(&tb, 2);
  pga_tb_nil(&tb);
  a = pga_tb_data(&tb);
  ck_assert_str_eq(call("erlang", "function_exported", &a, NULL), "true");
  pga_tb_reset(&tb);
  pga_tb_list(&tb, 3);
  pga_tb_atom(&tb, "Elixir.PgaExample.Math");
  pga_tb_atom(&tb, "add");
  pga_tb_int(&tb, -1);
  pga_tb_nil(&tb);
  a = pga_tb_data(&tb);
  ck_assert_str_eq(call("erlang", "function_exported", &a, NULL), "false");
  pga__tb_destroy(&tb);
}
END_TEST

START_TEST(example_add_and_echo_answer) {
  ck_assert_int_eq(pga_plugin_load(host, EXAMPLE, err, sizeof err), 0);
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_tb_list(&tb, 2);
  pga_tb_int(&tb, 40);
  pga_tb_int(&tb, 2);
  pga_tb_nil(&tb);
  pga_term_t a = pga_tb_data(&tb);
  ck_assert_str_eq(call("Elixir.PgaExample.Math", "add", &a, NULL), "42");
  pga_tb_reset(&tb);
  pga_tb_list(&tb, 2);
  pga_tb_double(&tb, 0.5);
  pga_tb_int(&tb, 2);
  pga_tb_nil(&tb);
  a = pga_tb_data(&tb);
  ck_assert_str_eq(call("Elixir.PgaExample.Math", "add", &a, NULL), "2.5");
  pga_tb_reset(&tb);
  pga_tb_list(&tb, 2);
  pga_tb_int(&tb, INT64_MAX);
  pga_tb_string(&tb, "1");
  pga_tb_nil(&tb);
  a = pga_tb_data(&tb);
  ck_assert_str_eq(call("Elixir.PgaExample.Math", "add", &a, NULL),
                   "{badrpc,{'EXIT',{badarith,[{'Elixir.PgaExample.Math',add,"
                   "[9223372036854775807,<<\"1\">>],[]}]}}}");
  pga_tb_reset(&tb);
  pga_tb_list(&tb, 1);
  pga_tb_string(&tb, "hé");
  pga_tb_nil(&tb);
  a = pga_tb_data(&tb);
  ck_assert_str_eq(call("Elixir.PgaExample.Math", "echo", &a, NULL),
                   "<<\"hé\"/utf8>>");
  pga__tb_destroy(&tb);
}
END_TEST

START_TEST(example_fib_answers_and_refuses) {
  static const struct {
    int64_t n;
    const char *want;
  } cases[] = {
      {0, "0"},
      {1, "1"},
      {50, "12586269025"},
      {92, "7540113804746346429"}, /* the largest that fits int64 */
      {93, "{error,bad_number}"},
      {-1, "{error,bad_number}"},
  };
  ck_assert_int_eq(pga_plugin_load(host, EXAMPLE, err, sizeof err), 0);
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    pga_tb_reset(&tb);
    pga_tb_list(&tb, 1);
    pga_tb_int(&tb, cases[i].n);
    pga_tb_nil(&tb);
    pga_term_t a = pga_tb_data(&tb);
    ck_assert_str_eq(call("Elixir.PgaExample.Math", "fib", &a, NULL),
                     cases[i].want);
  }
  pga__tb_destroy(&tb);
}
END_TEST

/* ---- local_services (plugin/local.h) ---- */

START_TEST(local_configs_are_the_declared_ones_with_nodes_local) {
  ck_assert_int_eq(pga_plugin_load(host, EXAMPLE, err, sizeof err), 0);
  ck_assert_int_eq(pga_plugin_load(host, TEST_SO, err, sizeof err), 0);
  pga_tb_t local, declared;
  pga__tb_init(&local, 0);
  pga__tb_init(&declared, 0);
  pga_term_t want, got, a, b;
  configs_of(NULL, &declared, &want);
  ck_assert_int_eq(pga_plugin_local_configs(host, &local), 0);
  got = pga_tb_data(&local);
  size_t n1, n2;
  ck_assert_int_eq(pga_term_list_length(&want, &n1), 0);
  ck_assert_int_eq(pga_term_list_length(&got, &n2), 0);
  ck_assert_uint_eq(n1, n2);
  pga_term_iter_t i1, i2;
  ck_assert_int_eq(pga_term_iter_init(&i1, &want), 0);
  ck_assert_int_eq(pga_term_iter_init(&i2, &got), 0);
  while (pga_term_iter_next(&i1, &a) && pga_term_iter_next(&i2, &b)) {
    static const char *const same[] = {"request_type", "service", "mfa",
                                       "arg_types", "response_type",
                                       "timeout", "request_info"};
    ck_assert_str_eq(field(&b, "nodes"), "local");
    for (size_t k = 0; k < sizeof same / sizeof same[0]; k++) {
      char text[4096];
      snprintf(text, sizeof text, "%s", field(&a, same[k]));
      ck_assert_str_eq(field(&b, same[k]), text);
    }
  }
  pga__tb_destroy(&local);
  pga__tb_destroy(&declared);
}
END_TEST

/* Stored through ConfigDb.batch_add: the node's own executor finds them. */
START_TEST(register_local_stores_them_in_the_gateway) {
  ck_assert_int_eq(pga_plugin_load(host, EXAMPLE, err, sizeof err), 0);
  pga_config_plane_t *plane = NULL;
  pga_config_opts_t co = {.struct_version = PGA_CONFIG_OPTS_VERSION};
  ck_assert_int_eq(pga_config_plane_new(node, &co, &plane, err, sizeof err),
                   0);
  size_t stored = 99;
  ck_assert_int_eq(
      pga_plugin_register_local(host, plane, &stored, err, sizeof err), 0);
  ck_assert_uint_eq(stored, 4);
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_tb_string(&tb, "pga_example");
  size_t svc_len = pga_tb_data(&tb).len;
  pga_tb_string(&tb, "fib");
  pga_term_t all = pga_tb_data(&tb);
  pga_term_t svc = {all.buf, svc_len};
  pga_term_t rt = {all.buf + svc_len, all.len - svc_len};
  pga_funconfig_t *fc = NULL;
  ck_assert_int_eq(pga_config_lookup(plane, &svc, &rt, NULL, &fc), 0);
  pga_term_t nodes = pga_funconfig_get(fc, PGA_FC_NODES);
  ck_assert(pga_term_is_atom(&nodes, "local"));
  pga_funconfig_free(fc);
  pga__tb_destroy(&tb);
  pga_config_plane_free(plane);
}
END_TEST

/* mfa_allowlist: [] denies every module: nothing stored, an error that
 * says so (pga-node logs it and serves on). */
START_TEST(register_local_refused_by_the_allowlist_is_an_error) {
  ck_assert_int_eq(pga_plugin_load(host, EXAMPLE, err, sizeof err), 0);
  pga_config_plane_t *plane = NULL;
  pga_config_opts_t co = {.struct_version = PGA_CONFIG_OPTS_VERSION,
                          .mfa_allowlist = "\x6a", /* [] */
                          .mfa_allowlist_len = 1};
  ck_assert_int_eq(pga_config_plane_new(node, &co, &plane, err, sizeof err),
                   0);
  size_t stored = 99;
  ck_assert_int_lt(
      pga_plugin_register_local(host, plane, &stored, err, sizeof err), 0);
  ck_assert_uint_eq(stored, 0);
  ck_assert_str_eq(err,
                   "local services: no FunConfig stored ({:error, :all_invalid})");
  pga_config_plane_free(plane);
}
END_TEST

START_TEST(register_local_without_plugins_stores_nothing) {
  pga_config_plane_t *plane = NULL;
  pga_config_opts_t co = {.struct_version = PGA_CONFIG_OPTS_VERSION};
  ck_assert_int_eq(pga_config_plane_new(node, &co, &plane, err, sizeof err),
                   0);
  size_t stored = 99;
  ck_assert_int_eq(
      pga_plugin_register_local(host, plane, &stored, err, sizeof err), 0);
  ck_assert_uint_eq(stored, 0);
  pga_tb_t out;
  pga__tb_init(&out, 0);
  pga_config_call(plane, "Elixir.PhoenixGenApi.ConfigDb", "count", 0, NULL,
                  &out);
  ck_assert_str_eq(fmt_tb(&out), "0");
  pga__tb_destroy(&out);
  pga_config_plane_free(plane);
}
END_TEST

int main(void) {
  Suite *s = suite_create("plugin");
  TCase *tc = tcase_create("loader");
  tcase_set_timeout(tc, 30);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, plugin_load_example_registers_its_functions);
  tcase_add_test(tc, plugin_load_missing_file_is_refused);
  tcase_add_test(tc, plugin_load_text_file_is_refused);
  tcase_add_test(tc, plugin_load_missing_descriptor_is_refused);
  tcase_add_test(tc, plugin_load_wrong_abi_version_is_refused);
  tcase_add_test(tc, plugin_load_wrong_signature_is_refused);
  tcase_add_test(tc, plugin_load_duplicate_name_is_refused);
  tcase_add_test(tc, plugin_load_same_file_twice_is_refused);
  tcase_add_test(tc, plugin_load_bad_name_is_refused);
  tcase_add_test(tc, plugin_load_stream_without_request_info_is_refused);
  tcase_add_test(tc, plugin_load_arity_unlike_config_is_refused);
  tcase_add_test(tc, plugin_load_failing_init_is_refused_with_its_reason);
  tcase_add_test(tc, plugin_load_denied_module_is_refused);
  tcase_add_test(tc, plugin_load_builtin_clash_is_refused);
  tcase_add_test(tc, plugin_host_twice_on_one_node_is_refused);
  tcase_add_test(tc, plugin_hooks_run_in_lifecycle_order);
  tcase_add_test(tc, plugin_host_free_unregisters_and_allows_a_new_host);
  suite_add_tcase(s, tc);

  tc = tcase_create("configs");
  tcase_set_timeout(tc, 30);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, funconfigs_are_complete_structs_on_this_node);
  tcase_add_test(tc, funconfigs_carry_every_declared_option);
  tcase_add_test(tc, get_config_selects_by_service_binary_or_atom);
  tcase_add_test(tc, config_version_changes_with_the_set_only);
  tcase_add_test(tc, funconfigs_and_push_config_pass_a_gateways_validation);
  suite_add_tcase(s, tc);

  tc = tcase_create("pusher");
  tcase_set_timeout(tc, 30);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, push_config_names_the_pull_supporter);
  tcase_add_test(tc, push_opts_parse_defaults_and_reject_bad_values);
  tcase_add_test(tc, push_service_needs_a_choice_among_several);
  tcase_add_test(tc, push_replies_are_interpreted_as_the_library_pusher_does);
  tcase_add_test(tc, push_reasons_are_one_readable_phrase);
  tcase_add_test(tc, push_config_to_a_bad_gateway_name_reports_nodedown);
  suite_add_tcase(s, tc);

  tc = tcase_create("calls");
  tcase_set_timeout(tc, 30);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, handler_error_reaches_the_caller_as_an_rpc_exit);
  tcase_add_test(tc,
                 deadline_ends_the_call_with_timeout_and_cancels_the_handler);
  tcase_add_test(tc, stream_to_a_dead_local_pid_is_refused);
  tcase_add_test(tc, stream_to_a_live_local_process_is_delivered);
  tcase_add_test(tc, probes_answer_for_plugin_and_builtin_modules);
  tcase_add_test(tc, example_add_and_echo_answer);
  tcase_add_test(tc, example_fib_answers_and_refuses);
  tcase_add_test(tc, local_configs_are_the_declared_ones_with_nodes_local);
  tcase_add_test(tc, register_local_stores_them_in_the_gateway);
  tcase_add_test(tc, register_local_without_plugins_stores_nothing);
  tcase_add_test(tc, register_local_refused_by_the_allowlist_is_an_error);
  suite_add_tcase(s, tc);

  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
