/* Unit tests for node selection (src/request/selector.c): the library's
 * ordered lists for every mode, the shared round-robin counter, the
 * sticky table (reuse, re-selection, TTL, capacity, purge), node
 * filtering and the down-node skipping of docs/compat.md R1.
 *
 * §13 cases covered: 28 (reason :no_nodes_available), 76, 77, 78, 79, 80,
 * 81, 82, 83, 84. */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request/request.h"
#include "config_terms.h"
#include "request_fixtures.h"
#include "check_main.h"

#define N1 "\"node1@localhost\""
#define N2 "\"node2@localhost\""
#define N3 "\"node3@localhost\""
#define NODES "[" N1 ", " N2 ", " N3 "]"
#define ARGS                                                                 \
  "%{\"session_id\" => \"session_789\", \"user_id\" => \"user_123\", "       \
  "\"n\" => 7}"

static pga_request_t req_of(const char *text) {
  pga_term_t t = T(text);
  pga_request_t r;

  ck_assert_int_eq(pga_request_from_struct(&t, &r), 0);
  return r;
}

static pga_request_t case_req(void) {
  return req_of("%{request_id: \"test_request_id\", user_id: \"user_123\", "
                "args: " ARGS "}");
}

static pga_request_selector_t *sel_new(void) {
  pga_request_selector_t *sel = NULL;

  ck_assert_int_eq(pga_request_selector_new(NULL, &sel), 0);
  return sel;
}

/* Selects and checks the order against the given node texts. */
static void expect_order(pga_request_selector_t *sel, const char *list,
                         const char *mode, const pga_request_t *req,
                         int64_t now, const char *const *want, size_t nwant) {
  pga_term_t l = T(list), m = T(mode), out[8];
  size_t n = 0;

  ck_assert_int_eq(pga_request_select_nodes(sel, &l, &m, req, now, out, 8, &n,
                                            NULL),
                   0);
  ck_assert_uint_eq(n, nwant);
  for (size_t i = 0; i < n; i++) {
    pga_term_t w = T(want[i]);

    ck_assert_msg(pga_term_equal(&out[i], &w), "position %zu: %s", i,
                  tt_show(&out[i]));
  }
}

static pga_term_t pick(pga_request_selector_t *sel, const char *list,
                       const char *mode, const pga_request_t *req,
                       int64_t now) {
  pga_term_t l = T(list), m = T(mode), node;

  ck_assert_int_eq(pga_request_select_node(sel, &l, &m, req, now, &node, NULL),
                   0);
  return node;
}

static int is(const pga_term_t *t, const char *text) {
  pga_term_t w = T(text);

  return pga_term_equal(t, &w);
}

START_TEST(select_hash_uses_request_id) {
  pga_request_selector_t *sel = sel_new();
  pga_request_t r = case_req();
  const char *want[] = {N1, N2, N3};

  expect_order(sel, NODES, ":hash", &r, 0, want, 3); /* 76 */
  pga_request_selector_free(sel);
  tt_reset();
}
END_TEST

START_TEST(select_hash_key_orders_primary_then_config) {
  pga_request_selector_t *sel = sel_new();
  pga_request_t r = case_req();
  const char *session[] = {N3, N1, N2};
  pga_term_t n;

  expect_order(sel, NODES, "{:hash, \"session_id\"}", &r, 0, session, 3); /* 77 */
  n = pick(sel, NODES, "{:hash, \"user_id\"}", &r, 0);
  ck_assert(is(&n, N3)); /* 78 */
  n = pick(sel, NODES, "{:hash, \"n\"}", &r, 0);
  ck_assert(is(&n, N1)); /* 78: phash2(7, 3) = 0 */
  pga_request_selector_free(sel);
  tt_reset();
}
END_TEST

START_TEST(select_hash_key_missing_picks_random_member) {
  pga_request_selector_t *sel = sel_new();
  pga_request_t r = case_req();

  for (int i = 0; i < 50; i++) { /* 79 */
    pga_term_t l = T(NODES), m = T("{:hash, \"nonexistent\"}"), out[3];
    size_t n;

    ck_assert_int_eq(
        pga_request_select_nodes(sel, &l, &m, &r, 0, out, 3, &n, NULL), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert(!pga_term_equal(&out[0], &out[1]) &&
              !pga_term_equal(&out[0], &out[2]));
  }
  pga_request_selector_free(sel);
  tt_reset();
}
END_TEST

/* `false` is hashed; only nil picks at random. */
START_TEST(select_hash_key_false_is_hashed) {
  pga_request_selector_t *sel = sel_new();
  pga_request_t r = req_of("%{request_id: \"r\", args: %{\"k\" => false}}");
  pga_term_t f = T("false");
  uint32_t idx;
  pga_term_t n;
  const char *names[] = {N1, N2, N3};

  ck_assert_int_eq(pga_request_phash2(&f, 3, &idx), 0);
  for (int i = 0; i < 10; i++) {
    n = pick(sel, NODES, "{:hash, \"k\"}", &r, 0);
    ck_assert(is(&n, names[idx]));
  }
  pga_request_selector_free(sel);
  tt_reset();
}
END_TEST

START_TEST(select_round_robin_cycles_from_zero) {
  pga_request_selector_t *sel = sel_new();
  pga_request_t r = case_req();
  const char *names[] = {N1, N2, N3, N1};
  const char *rotated[] = {N2, N3, N1};

  for (int i = 0; i < 4; i++) { /* 80 */
    pga_term_t n = pick(sel, NODES, ":round_robin", &r, 0);

    ck_assert_msg(is(&n, names[i]), "pick %d", i);
  }
  expect_order(sel, NODES, ":round_robin", &r, 0, rotated, 3);
  pga_request_selector_reset_round_robin(sel);
  {
    pga_term_t n = pick(sel, NODES, ":round_robin", &r, 0);

    ck_assert(is(&n, N1));
  }
  pga_request_selector_free(sel);
  tt_reset();
}
END_TEST

START_TEST(select_round_robin_single_node_keeps_counter) {
  pga_request_selector_t *sel = sel_new();
  pga_request_t r = case_req();
  pga_term_t n;

  for (int i = 0; i < 3; i++) { /* 81 */
    n = pick(sel, "[" N1 "]", ":round_robin", &r, 0);
    ck_assert(is(&n, N1));
  }
  /* The counter was not touched: a three-node list starts at node1. */
  n = pick(sel, NODES, ":round_robin", &r, 0);
  ck_assert(is(&n, N1));
  pga_request_selector_free(sel);
  tt_reset();
}
END_TEST

typedef struct rr_job_s {
  pga_request_selector_t *sel;
  int counts[3];
} rr_job_t;

static void *rr_worker(void *arg) {
  rr_job_t *job = arg;
  static const unsigned char n1[] = {109, 0, 0, 0, 1, '1'};
  static const unsigned char n2[] = {109, 0, 0, 0, 1, '2'};
  static const unsigned char n3[] = {109, 0, 0, 0, 1, '3'};
  unsigned char list[] = {108, 0, 0, 0, 3, 109, 0, 0, 0, 1, '1', 109, 0, 0, 0,
                          1,   '2', 109, 0, 0, 0, 1, '3', 106};
  static const unsigned char mode[] = {119, 11, 'r', 'o', 'u', 'n', 'd', '_',
                                       'r', 'o', 'b', 'i', 'n'};
  pga_term_t l = {(const char *)list, sizeof list},
             m = {(const char *)mode, sizeof mode}, node;
  pga_term_t names[3] = {{(const char *)n1, sizeof n1},
                         {(const char *)n2, sizeof n2},
                         {(const char *)n3, sizeof n3}};
  pga_request_t r;
  pga_term_t nil = pga_request_nil();

  r.request_id = r.request_type = r.service = r.user_id = r.device_id = nil;
  r.args = r.user_roles = r.version = nil;
  for (int i = 0; i < 3000; i++) {
    if (pga_request_select_node(job->sel, &l, &m, &r, 0, &node, NULL) != 0)
      continue;
    for (int k = 0; k < 3; k++)
      if (pga_term_equal(&node, &names[k]))
        job->counts[k]++;
  }
  return NULL;
}

/* One atomic counter: four threads together still go round exactly. */
START_TEST(select_round_robin_is_shared_across_threads) {
  pga_request_selector_t *sel = sel_new();
  rr_job_t jobs[4];
  pthread_t th[4];
  int total[3] = {0, 0, 0};

  memset(jobs, 0, sizeof jobs);
  for (int i = 0; i < 4; i++) {
    jobs[i].sel = sel;
    ck_assert_int_eq(pthread_create(&th[i], NULL, rr_worker, &jobs[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    for (int k = 0; k < 3; k++)
      total[k] += jobs[i].counts[k];
  }
  ck_assert_int_eq(total[0], 4000);
  ck_assert_int_eq(total[1], 4000);
  ck_assert_int_eq(total[2], 4000);
  pga_request_selector_free(sel);
}
END_TEST

START_TEST(select_filters_non_node_elements) {
  pga_request_selector_t *sel = sel_new();
  pga_request_t r = case_req();
  const char *want[] = {"\"a@b\"", ":\"c@d\""};

  expect_order(sel, "[1, \"a@b\", :\"c@d\", {x}]", ":hash", &r, 0, want, 2); /* 82 */
  pga_request_selector_free(sel);
  tt_reset();
}
END_TEST

START_TEST(select_empty_list_reports_no_nodes_available) {
  pga_request_selector_t *sel = sel_new();
  pga_request_t r = case_req();
  pga_term_t l = T("[1, 2]"), m = T(":hash"), out[2], reason;
  pga_tb_t *tb = pga_tb_new(0);
  size_t n;

  ck_assert_int_eq(pga_request_select_nodes(sel, &l, &m, &r, 0, out, 2, &n, tb),
                   PGA_ENOTFOUND); /* 28 */
  reason = pga_tb_data(tb);
  ck_assert(is(&reason, ":no_nodes_available"));
  pga_tb_free(tb);
  pga_request_selector_free(sel);
  tt_reset();
}
END_TEST

START_TEST(select_unknown_mode_reports_mode) {
  pga_request_selector_t *sel = sel_new();
  pga_request_t r = case_req();
  pga_term_t l = T(NODES), m = T(":fastest"), out[3], reason;
  pga_tb_t *tb = pga_tb_new(0);
  size_t n;

  ck_assert_int_eq(pga_request_select_nodes(sel, &l, &m, &r, 0, out, 3, &n, tb),
                   PGA_EINVAL);
  reason = pga_tb_data(tb);
  ck_assert(is(&reason, "{:invalid_choose_node_mode, :fastest}"));
  pga_tb_free(tb);
  pga_request_selector_free(sel);
  tt_reset();
}
END_TEST

START_TEST(nodes_resolved_rejects_non_list) {
  pga_term_t bad = T("\"not_a_list\""), ok = T("[:\"a@b\"]"), reason;
  pga_tb_t *tb = pga_tb_new(0);

  ck_assert_int_eq(pga_request_nodes_resolved(&ok, tb), 0);
  ck_assert_int_eq(pga_request_nodes_resolved(&bad, tb), PGA_ETYPE); /* 83 */
  reason = pga_tb_data(tb);
  ck_assert(is(&reason, "{:dynamic_node_resolution_failed, "
                        "{:invalid_return_type, \"not_a_list\"}}"));
  pga_tb_free(tb);
  tt_reset();
}
END_TEST

START_TEST(nodes_kind_classifies_config_values) {
  pga_term_t a = T("[:\"a@b\"]"), b = T(":local"), c = T("{M, :f, []}"),
             d = T(":other"), e = T("[]");
  pga_tb_t *tb = pga_tb_new(0);
  pga_term_t reason;

  ck_assert_int_eq(pga_request_nodes_kind(&a), PGA_NODES_LIST);
  ck_assert_int_eq(pga_request_nodes_kind(&e), PGA_NODES_LIST);
  ck_assert_int_eq(pga_request_nodes_kind(&b), PGA_NODES_LOCAL);
  ck_assert_int_eq(pga_request_nodes_kind(&c), PGA_NODES_RESOLVER);
  ck_assert_int_eq(pga_request_nodes_kind(&d), PGA_NODES_INVALID);
  pga_request_nodes_invalid_reason(tb, &d);
  reason = pga_tb_data(tb);
  ck_assert(is(&reason, "{:invalid_nodes_configuration, :other}"));
  pga_tb_reset(tb);
  c = T("{1, 2, 3}");
  pga_request_nodes_invalid_reason(tb, &c);
  reason = pga_tb_data(tb);
  ck_assert(is(&reason, "{:dynamic_node_resolution_failed, :invalid_mfa_format}"));
  pga_tb_free(tb);
  tt_reset();
}
END_TEST

START_TEST(select_sticky_reuses_then_reselects_after_removal) {
  pga_request_selector_t *sel = sel_new();
  pga_request_t r = case_req();
  pga_term_t first, again, n;
  const char *rest;

  first = pick(sel, NODES, "{:sticky, \"user_id\"}", &r, 1000); /* 84 */
  for (int i = 0; i < 20; i++) {
    again = pick(sel, NODES, "{:sticky, \"user_id\"}", &r, 1000 + i);
    ck_assert(pga_term_equal(&first, &again));
  }
  ck_assert_uint_eq(pga_request_selector_sticky_size(sel), 1);
  /* Drop the stored node from the list: a new one is chosen and kept. */
  rest = is(&first, N1)   ? "[" N2 ", " N3 "]"
         : is(&first, N2) ? "[" N1 ", " N3 "]"
                          : "[" N1 ", " N2 "]";
  n = pick(sel, rest, "{:sticky, \"user_id\"}", &r, 2000);
  ck_assert(!pga_term_equal(&n, &first));
  again = pick(sel, NODES, "{:sticky, \"user_id\"}", &r, 2001);
  ck_assert(pga_term_equal(&n, &again));
  pga_request_selector_free(sel);
  tt_reset();
}
END_TEST

static uint64_t seq_value;
static uint64_t seq_random(void *ud) {
  (void)ud;
  return seq_value++;
}

START_TEST(select_sticky_entry_expires_after_ttl) {
  pga_selector_opts_t o = {PGA_SELECTOR_OPTS_VERSION, NULL, NULL, seq_random,
                           NULL, 0, 1000};
  pga_request_selector_t *sel = NULL;
  pga_request_t r = case_req();
  pga_term_t a, b;

  ck_assert_int_eq(pga_request_selector_new(&o, &sel), 0);
  seq_value = 0; /* draws 0, 1, 2...: index 0, then 1 */
  a = pick(sel, NODES, "{:sticky, \"user_id\"}", &r, 5000);
  ck_assert(is(&a, N1));
  b = pick(sel, NODES, "{:sticky, \"user_id\"}", &r, 5999); /* age 999 */
  ck_assert(is(&b, N1));
  b = pick(sel, NODES, "{:sticky, \"user_id\"}", &r, 6000); /* age 1000 */
  ck_assert(is(&b, N2));
  ck_assert_uint_eq(pga_request_selector_purge(sel, 6999), 0);
  ck_assert_uint_eq(pga_request_selector_purge(sel, 7001), 1);
  ck_assert_uint_eq(pga_request_selector_sticky_size(sel), 0);
  pga_request_selector_free(sel);
  tt_reset();
}
END_TEST

/* No value in args nor in the request: a random node stored under the key
 * name itself; a request whose value equals that name reads it back. */
START_TEST(select_sticky_nil_value_stores_under_key_name) {
  pga_selector_opts_t o = {PGA_SELECTOR_OPTS_VERSION, NULL, NULL, seq_random,
                           NULL, 0, 0};
  pga_request_selector_t *sel = NULL;
  pga_request_t none = req_of("%{request_id: \"r\", args: %{}}");
  pga_request_t named = req_of("%{request_id: \"r\", args: %{\"sid\" => \"sid\"}}");
  pga_term_t a, b;

  ck_assert_int_eq(pga_request_selector_new(&o, &sel), 0);
  seq_value = 2; /* index 2 */
  a = pick(sel, NODES, "{:sticky, \"sid\"}", &none, 0);
  ck_assert(is(&a, N3));
  ck_assert_uint_eq(pga_request_selector_sticky_size(sel), 1);
  seq_value = 0;
  b = pick(sel, NODES, "{:sticky, \"sid\"}", &named, 1);
  ck_assert(is(&b, N3));
  pga_request_selector_free(sel);
  tt_reset();
}
END_TEST

/* args[key] nil or false: the request field of that name counts. */
START_TEST(select_sticky_falls_back_to_request_field) {
  pga_selector_opts_t o = {PGA_SELECTOR_OPTS_VERSION, NULL, NULL, seq_random,
                           NULL, 0, 0};
  pga_request_selector_t *sel = NULL;
  pga_request_t a = req_of("%{request_id: \"r1\", device_id: \"d9\", "
                           "args: %{\"device_id\" => false}}");
  pga_request_t b = req_of("%{request_id: \"r2\", device_id: \"d9\", args: %{}}");
  pga_term_t x, y;

  ck_assert_int_eq(pga_request_selector_new(&o, &sel), 0);
  seq_value = 1;
  x = pick(sel, NODES, "{:sticky, \"device_id\"}", &a, 0);
  seq_value = 2;
  y = pick(sel, NODES, "{:sticky, \"device_id\"}", &b, 1);
  ck_assert(pga_term_equal(&x, &y));
  ck_assert(is(&x, N2));
  pga_request_selector_free(sel);
  tt_reset();
}
END_TEST

START_TEST(select_sticky_full_table_evicts_one_entry) {
  pga_selector_opts_t o = {PGA_SELECTOR_OPTS_VERSION, NULL, NULL, NULL,
                           NULL, 4, 0};
  pga_request_selector_t *sel = NULL;
  char text[128];

  ck_assert_int_eq(pga_request_selector_new(&o, &sel), 0);
  for (int i = 0; i < 10; i++) {
    pga_request_t r;

    snprintf(text, sizeof text, "%%{request_id: \"r\", args: %%{\"u\" => \"v%d\"}}", i);
    r = req_of(text);
    (void)pick(sel, NODES, "{:sticky, \"u\"}", &r, i);
    ck_assert_uint_le(pga_request_selector_sticky_size(sel), 4);
  }
  ck_assert_uint_eq(pga_request_selector_sticky_size(sel), 4);
  pga_request_selector_free(sel);
  tt_reset();
}
END_TEST

START_TEST(select_random_orders_every_node_once) {
  pga_request_selector_t *sel = sel_new();
  pga_request_t r = case_req();
  int firsts[3] = {0, 0, 0};

  for (int i = 0; i < 300; i++) {
    pga_term_t l = T(NODES), m = T(":random"), out[3];
    size_t n;
    int seen[3] = {0, 0, 0};
    const char *names[] = {N1, N2, N3};

    ck_assert_int_eq(
        pga_request_select_nodes(sel, &l, &m, &r, 0, out, 3, &n, NULL), 0);
    ck_assert_uint_eq(n, 3);
    for (size_t k = 0; k < 3; k++)
      for (int j = 0; j < 3; j++)
        if (is(&out[k], names[j])) {
          seen[j]++;
          if (k == 0)
            firsts[j]++;
        }
    ck_assert(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
    tt_reset();
  }
  ck_assert(firsts[0] > 50 && firsts[1] > 50 && firsts[2] > 50);
  pga_request_selector_free(sel);
}
END_TEST

/* List.delete/2 drops the first equal node, wherever the primary was. */
START_TEST(select_duplicate_nodes_follow_list_delete) {
  pga_request_selector_t *sel = sel_new();
  pga_request_t r = req_of("%{request_id: \"test_request_id\", args: %{}}");
  const char *want[] = {N1, N2, N1};

  /* phash2("test_request_id", 3) = 0: node1; the list minus its first
   * occurrence is [node2, node1]. */
  expect_order(sel, "[" N1 ", " N2 ", " N1 "]", ":hash", &r, 0, want, 3);
  pga_request_selector_free(sel);
  tt_reset();
}
END_TEST

static int n2_down(const pga_term_t *node, void *ud) {
  pga_term_t *down = ud;

  return !pga_term_equal(node, down);
}

START_TEST(select_skips_down_nodes_and_keeps_order) {
  pga_term_t down = T(N1);
  pga_selector_opts_t o = {PGA_SELECTOR_OPTS_VERSION, n2_down, &down, NULL,
                           NULL, 0, 0};
  pga_request_selector_t *sel = NULL;
  pga_request_t r = case_req();
  const char *want[] = {N2, N3};
  pga_term_t l, m, out[3], all[3];
  size_t n;

  ck_assert_int_eq(pga_request_selector_new(&o, &sel), 0);
  /* :hash picks node1 (down); the rest keep config order. */
  expect_order(sel, NODES, ":hash", &r, 0, want, 2);
  l = T(NODES);
  ck_assert_int_eq(pga_request_select_all(sel, &l, all, 3, &n), 0);
  ck_assert_uint_eq(n, 2);
  ck_assert(is(&all[0], N2) && is(&all[1], N3));
  /* Every node down. */
  l = T("[" N1 ", " N1 "]");
  m = T(":round_robin");
  ck_assert_int_eq(
      pga_request_select_nodes(sel, &l, &m, &r, 0, out, 3, &n, NULL),
      PGA_ENODEDOWN);
  pga_request_selector_free(sel);
  tt_reset();
}
END_TEST

START_TEST(select_reports_errors_without_crashing) {
  pga_request_selector_t *sel = sel_new();
  pga_request_t bad = req_of("%{request_id: \"r\", args: [1]}");
  pga_term_t l = T(NODES), out[3], m;
  size_t n;

  m = T("{:hash, \"k\"}");
  ck_assert_int_eq(
      pga_request_select_nodes(sel, &l, &m, &bad, 0, out, 3, &n, NULL),
      PGA_ETYPE);
  m = T("{:sticky, \"k\"}");
  ck_assert_int_eq(
      pga_request_select_nodes(sel, &l, &m, &bad, 0, out, 3, &n, NULL),
      PGA_ETYPE);
  m = T(":hash");
  ck_assert_int_eq(
      pga_request_select_nodes(sel, &l, &m, &bad, 0, out, 2, &n, NULL),
      PGA_ETOOBIG);
  l = T("\"x\"");
  ck_assert_int_eq(
      pga_request_select_nodes(sel, &l, &m, &bad, 0, out, 3, &n, NULL),
      PGA_EBADTERM);
  pga_request_selector_free(sel);
  tt_reset();
}
END_TEST

/* Every BEAM-made term as node list, mode, hash value, sticky key and
 * request id: an ordered list or an error, never a crash. */
START_TEST(select_any_term_never_crashes) {
  pga_request_selector_t *sel = sel_new();
  rf_terms_t terms;

  rf_load(&terms, 0);
  for (size_t i = 0; i < terms.n; i++) {
    pga_term_t x = terms.v[i], out[64], node, l = T(NODES);
    pga_tb_t *args = rf_map1("k", &x), *sticky = pga_tb_new(0),
             *reason = pga_tb_new(0);
    pga_request_t r = case_req();
    size_t n;
    int rc;
    const char *modes[] = {":hash", "{:hash, \"k\"}", "{:sticky, \"k\"}",
                           ":random", ":round_robin"};

    r.args = pga_tb_data(args);
    r.request_id = x;
    for (size_t k = 0; k < sizeof modes / sizeof *modes; k++) {
      pga_term_t m = T(modes[k]);

      ck_assert_int_eq(pga_request_select_nodes(sel, &l, &m, &r, (int64_t)i,
                                                out, 64, &n, reason),
                       0);
    }
    pga_tb_tuple(sticky, 2);
    pga_tb_atom(sticky, "sticky");
    pga_tb_term(sticky, &x);
    {
      pga_term_t m = pga_tb_data(sticky);

      rc = pga_request_select_nodes(sel, &l, &m, &r, 0, out, 64, &n, reason);
      ck_assert(rc == 0 || rc == PGA_ETYPE);
      rc = pga_request_select_nodes(sel, &l, &x, &r, 0, out, 64, &n, reason);
      ck_assert(rc == 0 || rc == PGA_EINVAL);
      rc = pga_request_select_nodes(sel, &x, &m, &r, 0, out, 64, &n, reason);
      ck_assert(rc == 0 || rc < 0);
      rc = pga_request_select_node(sel, &x, &m, &r, 0, &node, reason);
      ck_assert(rc == 0 || rc < 0);
      r.args = x;
      m = T("{:hash, \"k\"}");
      rc = pga_request_select_nodes(sel, &l, &m, &r, 0, out, 64, &n, reason);
      ck_assert(rc == 0 || rc == PGA_ETYPE);
    }
    (void)pga_request_nodes_kind(&x);
    (void)pga_request_nodes_resolved(&x, reason);
    pga_request_nodes_invalid_reason(reason, &x);
    pga_tb_free(args);
    pga_tb_free(sticky);
    pga_tb_free(reason);
    tt_reset();
  }
  (void)pga_request_selector_purge(sel, INT64_MAX / 2);
  rf_free(&terms);
  pga_request_selector_free(sel);
}
END_TEST

static Suite *selector_suite(void) {
  Suite *s = suite_create("selector");
  TCase *tc = tcase_create("selector");

  tcase_add_test(tc, select_hash_uses_request_id);
  tcase_add_test(tc, select_hash_key_orders_primary_then_config);
  tcase_add_test(tc, select_hash_key_missing_picks_random_member);
  tcase_add_test(tc, select_hash_key_false_is_hashed);
  tcase_add_test(tc, select_round_robin_cycles_from_zero);
  tcase_add_test(tc, select_round_robin_single_node_keeps_counter);
  tcase_add_test(tc, select_round_robin_is_shared_across_threads);
  tcase_add_test(tc, select_filters_non_node_elements);
  tcase_add_test(tc, select_empty_list_reports_no_nodes_available);
  tcase_add_test(tc, select_unknown_mode_reports_mode);
  tcase_add_test(tc, nodes_resolved_rejects_non_list);
  tcase_add_test(tc, nodes_kind_classifies_config_values);
  tcase_add_test(tc, select_sticky_reuses_then_reselects_after_removal);
  tcase_add_test(tc, select_sticky_entry_expires_after_ttl);
  tcase_add_test(tc, select_sticky_nil_value_stores_under_key_name);
  tcase_add_test(tc, select_sticky_falls_back_to_request_field);
  tcase_add_test(tc, select_sticky_full_table_evicts_one_entry);
  tcase_add_test(tc, select_random_orders_every_node_once);
  tcase_add_test(tc, select_duplicate_nodes_follow_list_delete);
  tcase_add_test(tc, select_skips_down_nodes_and_keeps_order);
  tcase_add_test(tc, select_reports_errors_without_crashing);
  tcase_add_test(tc, select_any_term_never_crashes);
  tcase_set_timeout(tc, 300);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(selector_suite)
