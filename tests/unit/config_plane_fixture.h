/* Test helper for the config-plane suites that go through the served
 * functions: a plane without a node, calls by module/function with
 * arguments written as text (config_terms.h), and the §12 fixtures. */
#ifndef PGA_TESTS_CONFIG_PLANE_FIXTURE_H
#define PGA_TESTS_CONFIG_PLANE_FIXTURE_H

#include "config/plane_int.h"
#include "config_terms.h"

#define DB "Elixir.PhoenixGenApi.ConfigDb"
#define RECV "Elixir.PhoenixGenApi.ConfigReceiver"
#define FAILED "Elixir.PhoenixGenApi.ConfigFailed"
#define PULLER "Elixir.PhoenixGenApi.ConfigPuller"
#define TOP "Elixir.PhoenixGenApi"

/* Fixture F and P of §12 (node() is a fixed atom here). */
#define F                                                                  \
  "request_type: \"test_request\", service: \"test_service\", "           \
  "nodes: [:\"t@127.0.0.1\"], choose_node_mode: :random, timeout: 5000, "  \
  "mfa: {String, :upcase, []}, arg_types: %{}, arg_orders: [], "           \
  "response_type: :sync, version: \"1.0.0\""
#define P "service: \"test_service\", nodes: [:\"t@127.0.0.1\"], " \
          "config_version: \"1.0.0\""
#define G F ", service: \"Test\", version: nil"

static pga_config_plane_t *plane;
static pga_outcome_t last_outcome;

static __attribute__((unused)) void plane_setup_opts(const pga_config_opts_t *o) {
  char err[256];
  ck_assert_int_eq(pga_config_plane_new(NULL, o, &plane, err, sizeof err), 0);
}

static __attribute__((unused)) void plane_setup(void) { plane_setup_opts(NULL); }

static __attribute__((unused)) void plane_teardown(void) {
  pga_config_plane_free(plane);
  plane = NULL;
  tt_reset();
}

/* Calls module.fn with up to three text arguments (NULL = absent). */
static __attribute__((unused)) pga_term_t C(const char *mod, const char *fn, const char *a0,
                    const char *a1, const char *a2) {
  pga_term_t argv[3];
  size_t argc = 0;
  const char *a[3] = {a0, a1, a2};
  for (; argc < 3 && a[argc]; argc++) argv[argc] = T(a[argc]);
  pga_tb_t *out = pga_tb_new(0);
  ck_assert_ptr_nonnull(out);
  last_outcome = pga_config_call(plane, mod, fn, argc, argv, out);
  ck_assert_int_eq(pga_tb_error(out), 0);
  ck_assert_uint_lt(tt_n, TT_MAX);
  tt_pool[tt_n++] = out;
  return pga_tb_data(out);
}

/* Element i of a tuple. */
static __attribute__((unused)) pga_term_t el(pga_term_t t, size_t i) {
  pga_term_t e;
  ck_assert_int_eq(pga_term_tuple_get(&t, i, &e), 0);
  return e;
}

/* Map value under an atom key. */
static __attribute__((unused)) pga_term_t key(pga_term_t map, const char *k) {
  pga_term_t v;
  ck_assert_msg(pga_term_map_get_atom(&map, k, &v) == 0, "no key %s in %s",
                k, tt_show(&map));
  return v;
}

static __attribute__((unused)) size_t len(pga_term_t list) {
  size_t n;
  ck_assert_int_eq(pga_term_list_length(&list, &n), 0);
  return n;
}

/* Builds "%FC{" F ", over}" style texts without printf (F holds %{}). */
static __attribute__((unused)) const char *cat(const char *a, const char *b,
                                                const char *c) {
  static char buf[8][8192];
  static int i;
  i = (i + 1) % 8;
  snprintf(buf[i], sizeof buf[i], "%s%s%s", a, b, c ? c : "");
  return buf[i];
}

#endif
