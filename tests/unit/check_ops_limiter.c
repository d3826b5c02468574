/* Unit tests for the ops plane's rate-limit, pool and config-plane
 * helpers (src/ops/limiter_*.c, pools.c, failed_print.c, eval.c): the
 * exact text of rl_global/rl_config/rl_status, pool_status, cache_status,
 * failed_configs_print/summary (ops-plane.md §5), the exceptions a
 * malformed limit raises while printing, and the argument guards and admin
 * gate of §2 / §8.1 (acceptance cases 29, 31, 34, 59). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config/file.h"
#include "ops/eval.h"
#include "ops/limiter_int.h"
#include "ops/print_int.h"
#include "request/request_int.h"
#include "config_terms.h"
#include "check_main.h"

/* ---- helpers ---- */

typedef struct printed_s {
  pga_ops_text_t t;
  pga_tb_t *raised;
  int rc;
} printed_t;

static void printed_init(printed_t *p) {
  pga_ops_text_init(&p->t);
  p->raised = pga_tb_new(0);
  p->rc = 0;
}

static void printed_free(printed_t *p) {
  pga_ops_text_free(&p->t);
  pga_tb_free(p->raised);
  tt_reset();
}

static void expect_text(const printed_t *p, const char *want) {
  ck_assert_str_eq(pga_ops_text_str(&p->t), want);
}

/* The raised exception's module atom, e.g. "Elixir.KeyError". */
static void expect_raised(const printed_t *p, const char *module) {
  pga_term_t exc = pga_tb_data(p->raised), mod;
  ck_assert_int_eq(p->rc, -1);
  ck_assert_int_eq(pga_term_map_get_atom(&exc, "__struct__", &mod), 0);
  ck_assert_msg(pga_term_is_atom(&mod, module), "raised %s", tt_show(&exc));
}

static pga_request_limiter_t *limiter(const char *global, const char *api) {
  pga_limiter_opts_t o = {PGA_LIMITER_OPTS_VERSION, 0, 0, T(global), T(api), 0};
  pga_request_limiter_t *l = NULL;
  ck_assert_int_eq(pga_request_limiter_new(&o, &l), 0);
  return l;
}

/* Calls area's served function f/arity with argv (ops may be a bare
 * struct: guards and the gate run before any plane is touched). */
static pga_outcome_t call_fn(const pga_ops_area_t *area, pga_ops_t *ops,
                             const char *f, unsigned arity,
                             const pga_term_t *argv, pga_tb_t *out) {
  for (const pga_ops_fn_def_t *d = area->fns; d->module; d++)
    if (strcmp(d->module, PGA_OPS_MOD_TOP) == 0 &&
        strcmp(d->function, f) == 0 && d->arity == arity)
      return d->fn(ops, NULL, argv, out);
  ck_abort_msg("%s/%u not served", f, arity);
  return PGA_ERROR;
}

static void expect_outcome(pga_outcome_t got, pga_outcome_t want,
                           pga_tb_t *out, const char *term) {
  pga_term_t v = pga_tb_data(out), w = T(term);
  ck_assert_int_eq(got, want);
  ck_assert_msg(pga__term_compare(&v, &w) == 0, "got %s want %s", tt_show(&v),
                term);
  pga_tb_reset(out);
}

#define GLOBAL_2000 "[%{key: :user_id, max_requests: 2000, window_ms: 60000}]"

/* ---- rl_global / rl_config ---- */

START_TEST(rl_global_renders_each_limit) {
  printed_t p;
  printed_init(&p);
  pga_term_t limits =
      T("[%{key: :user_id, max_requests: 2000, window_ms: 60000},"
        " %{key: \"tenant\", max_requests: 5, window_ms: 10}]");
  p.rc = pga__ops_rl_global_text(&p.t, &limits, p.raised);
  ck_assert_int_eq(p.rc, 0);
  expect_text(&p,
              "\n=== Global Rate Limits ===\n\n"
              "  Key: :user_id | Max: 2000 | Window: 60000ms\n"
              "  Key: \"tenant\" | Max: 5 | Window: 10ms\n");
  printed_free(&p);
}
END_TEST

START_TEST(rl_global_malformed_limit_raises_after_good_lines) {
  static const struct {
    const char *limits;
    const char *module;
  } cases[] = {
      {"[%{key: :a, max_requests: 1, window_ms: 2}, %{key: :x}]",
       "Elixir.KeyError"},
      {"[%{key: :a, max_requests: 1, window_ms: 2}, 42]", "Elixir.BadMapError"},
      {"[%{key: :a, max_requests: 1, window_ms: 2},"
       " %{key: :x, max_requests: {1}, window_ms: 2}]",
       "Elixir.Protocol.UndefinedError"},
      {"[%{key: :a, max_requests: 1, window_ms: 2},"
       " %{key: :x, max_requests: [1, {2}], window_ms: 2}]",
       "Elixir.ArgumentError"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    printed_t p;
    printed_init(&p);
    pga_term_t limits = T(cases[i].limits);
    p.rc = pga__ops_rl_global_text(&p.t, &limits, p.raised);
    expect_raised(&p, cases[i].module);
    expect_text(&p, "\n=== Global Rate Limits ===\n\n"
                    "  Key: :a | Max: 1 | Window: 2ms\n");
    printed_free(&p);
  }
}
END_TEST

START_TEST(rl_config_global_then_api) {
  printed_t p;
  printed_init(&p);
  pga_term_t config =
      T("%{global: " GLOBAL_2000 ", api: [%{service: \"svc\", request_type: "
        "\"rt\", key: :device_id, max_requests: 7, window_ms: 2000}]}");
  p.rc = pga__ops_rl_config_text(&p.t, &config, p.raised);
  ck_assert_int_eq(p.rc, 0);
  expect_text(&p,
              "\n=== Rate Limit Configuration ===\n\n"
              "Global Limits:\n"
              "  Key: :user_id | Max: 2000 | Window: 60000ms\n"
              "\nAPI Limits:\n"
              "  svc/rt | Key: :device_id | Max: 7 | Window: 2000ms\n");
  printed_free(&p);
}
END_TEST

START_TEST(rl_config_without_limits_prints_headings) {
  printed_t p;
  printed_init(&p);
  pga_term_t config = T("%{global: [], api: []}");
  p.rc = pga__ops_rl_config_text(&p.t, &config, p.raised);
  ck_assert_int_eq(p.rc, 0);
  expect_text(&p, "\n=== Rate Limit Configuration ===\n\nGlobal Limits:\n"
                  "\nAPI Limits:\n");
  printed_free(&p);
}
END_TEST

/* ---- rl_status ---- */

START_TEST(rl_status_counts_global_and_user_id_api_limits) {
  pga_request_limiter_t *l = limiter(
      GLOBAL_2000,
      "[%{service: \"svc\", request_type: \"rt\", key: :user_id,"
      " max_requests: 5, window_ms: 1000},"
      " %{service: \"svc\", request_type: \"other\", key: :device_id,"
      " max_requests: 7, window_ms: 1000}]");
  pga_term_t rq = T("%{request_id: \"r\", user_id: \"u9\", service: \"svc\","
                    " request_type: \"rt\", args: %{}}");
  pga_request_t req;
  ck_assert_int_eq(pga_request_from_struct(&rq, &req), 0);
  ck_assert_int_eq(pga_request_limiter_check(l, &req, 1000, NULL, NULL),
                   PGA_LIMIT_OK);
  printed_t p;
  printed_init(&p);
  pga_term_t user = T("\"u9\"");
  p.rc = pga__ops_rl_status_text(&p.t, l, &user, 1001, p.raised);
  ck_assert_int_eq(p.rc, 0);
  expect_text(&p,
              "\n=== Rate Limit Status for u9 ===\n\n"
              "Global Limits:\n"
              "  Scope: :global | Used: 1/2000 | Remaining: 1999\n"
              "\nAPI Limits:\n"
              "  svc/rt | Used: 1/5 | Remaining: 4\n");
  printed_free(&p);
  pga_request_limiter_free(l);
}
END_TEST

START_TEST(rl_status_api_limit_without_key_raises_before_api_lines) {
  pga_request_limiter_t *l = limiter(
      GLOBAL_2000, "[%{service: \"svc\", request_type: \"rt\", max_requests: 5,"
                   " window_ms: 1000}]");
  printed_t p;
  printed_init(&p);
  pga_term_t user = T("\"u\"");
  p.rc = pga__ops_rl_status_text(&p.t, l, &user, 1, p.raised);
  expect_raised(&p, "Elixir.KeyError");
  expect_text(&p, "\n=== Rate Limit Status for u ===\n\nGlobal Limits:\n"
                  "  Scope: :global | Used: 0/2000 | Remaining: 2000\n"
                  "\nAPI Limits:\n");
  printed_free(&p);
  pga_request_limiter_free(l);
}
END_TEST

/* ---- pools and config-plane prints ---- */

START_TEST(pool_text_is_exact) {
  pga_pool_status_t async = {1000, 998, 2, 0, 0, 10, 1};
  pga_pool_status_t stream = {500, 500, 0, 3, 1, 0, 0};
  pga_ops_text_t t;
  pga_ops_text_init(&t);
  pga__ops_pool_text(&t, &async, &stream);
  ck_assert_str_eq(pga_ops_text_str(&t),
                   "\n=== Worker Pool Status ===\n\n"
                   "Async Pool:\n"
                   "  Idle: 998 | Busy: 2 | Queued: 0\n"
                   "  Circuit Open: false\n"
                   "\nStream Pool:\n"
                   "  Idle: 500 | Busy: 0 | Queued: 3\n"
                   "  Circuit Open: true\n");
  pga_ops_text_free(&t);
}
END_TEST

START_TEST(cache_text_is_exact) {
  pga_ops_text_t t;
  pga_ops_text_init(&t);
  pga_term_t count = T("2"), services = T("[\"a\", \"b\"]");
  pga__ops_cache_text(&t, &count, &services);
  ck_assert_str_eq(pga_ops_text_str(&t),
                   "\n=== ConfigDb Cache Status ===\n\n"
                   "Total cached configs: 2\n"
                   "Services: [\"a\", \"b\"]\n");
  pga_ops_text_free(&t);
  tt_reset();
}
END_TEST

#define ENTRY(id, svc, src)                                                  \
  "%{id: " id ", service: \"" svc "\", request_type: \"rt\", version: nil," \
  " source: :" src ", node: nil, reason: [\"bad\", \"worse\"], config: %{},"  \
  " inserted_at_ms: 1, expires_at_ms: 2}"

START_TEST(failed_text_empty_and_filled) {
  printed_t p;
  printed_init(&p);
  pga_term_t none = T("[]"), opts = T("[]");
  p.rc = pga__ops_failed_text(&p.t, &opts, &none, p.raised);
  ck_assert_int_eq(p.rc, 0);
  expect_text(&p, "\n=== Failed FunConfig Entries ===\n"
                  "Showing: 0 entries (limit: 100)\n"
                  "  (no failed entries)\n\n");
  printed_free(&p);

  printed_init(&p);
  pga_term_t one = T("[" ENTRY("12", "svc", "pull") "]");
  pga_term_t opts2 = T("[source: :pull, limit: 5]");
  p.rc = pga__ops_failed_text(&p.t, &opts2, &one, p.raised);
  ck_assert_int_eq(p.rc, 0);
  expect_text(&p,
              "\n=== Failed FunConfig Entries ===\n"
              "Source: pull\n"
              "Showing: 1 entries (limit: 5)\n"
              "\nID      Service             Request Type          Version   "
              "Source  Reason\n"
              "------------------------------------------------------------"
              "------------------------------\n"
              "12      \"svc\"               \"rt\"                  nil     "
              "  :pull   bad; worse\n\n");
  printed_free(&p);
}
END_TEST

START_TEST(failed_summary_sorts_services_and_shows_newest) {
  printed_t p;
  printed_init(&p);
  pga_term_t s = T("%{total: 3, pull: 1, push: 2, by_service: %{\"zeta\" => ["
                   ENTRY("1", "zeta", "push") "], \"alpha\" => [" ENTRY(
                       "2", "alpha", "push") ", " ENTRY("3", "alpha", "pull")
                   "]}, oldest: nil, newest: " ENTRY("3", "alpha", "pull") "}");
  p.rc = pga__ops_failed_summary_text(&p.t, &s, p.raised);
  ck_assert_int_eq(p.rc, 0);
  expect_text(&p, "\n=== Failed Configs Summary ===\n"
                  "Total:  3\nPull:   1\nPush:   2\n"
                  "\n--- By Service ---\n"
                  "  \"alpha\": 2 failed\n"
                  "  \"zeta\": 1 failed\n"
                  "\n--- Newest ---\n"
                  "  #3 \"alpha\"/\"rt\" [pull] bad; worse\n\n");
  printed_free(&p);
}
END_TEST

/* ---- eval ---- */

START_TEST(interp_follows_string_chars) {
  static const struct {
    const char *term;
    const char *text;
  } ok[] = {{"nil", ""},        {":abc", "abc"},  {"Foo.Bar", "Elixir.Foo.Bar"},
            {"12", "12"},       {"1.5", "1.5"},   {"\"x\"", "x"},
            {"[104, 105]", "hi"}, {"[]", ""},     {"[\"a\", 98]", "ab"}};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    printed_t p;
    printed_init(&p);
    pga_term_t x = T(ok[i].term);
    ck_assert_int_eq(pga__ops_interp(&p.t, &x, p.raised), 0);
    expect_text(&p, ok[i].text);
    printed_free(&p);
  }
  printed_t p;
  printed_init(&p);
  pga_term_t map = T("%{a: 1}");
  p.rc = pga__ops_interp(&p.t, &map, p.raised);
  expect_raised(&p, "Elixir.Protocol.UndefinedError");
  printed_free(&p);
}
END_TEST

START_TEST(map_sorted_puts_atoms_before_binaries) {
  pga_term_t m = T("%{\"b\" => 1, :z => 2, \"a\" => 3, 5 => 4}");
  pga_ops_pair_t *pairs;
  size_t n;
  ck_assert_int_eq(pga__ops_map_sorted(&m, &pairs, &n), 0);
  ck_assert_uint_eq(n, 4);
  const char *want[] = {"5", ":z", "\"a\"", "\"b\""};
  for (size_t i = 0; i < n; i++) {
    pga_term_t w = T(want[i]);
    ck_assert_msg(pga_term_equal(&pairs[i].key, &w), "pair %zu: %s", i,
                  tt_show(&pairs[i].key));
  }
  free(pairs);
  pga_term_t not_map = T("[]");
  ck_assert_int_eq(pga__ops_map_sorted(&not_map, &pairs, &n), PGA_ETYPE);
  tt_reset();
}
END_TEST

/* ---- guards and the admin gate ---- */

START_TEST(guards_give_function_clause) {
  static const struct {
    const pga_ops_area_t *area;
    const char *f;
    unsigned arity;
    const char *args[2];
  } cases[] = {
      {&pga_ops_area_limiter, "set_global_limits", 1, {":bad"}},
      {&pga_ops_area_limiter, "add_global_limit", 1, {"[]"}},
      {&pga_ops_area_limiter, "update_rate_limit_config", 1, {":bad"}},
      {&pga_ops_area_limiter, "rl_global", 1, {":bad"}},
      {&pga_ops_area_limiter, "rl_global", 2, {":add", ":not_a_map"}},
      {&pga_ops_area_limiter, "rl_global", 2, {":bogus", "%{}"}},
      {&pga_ops_area_limiter, "rl_status", 1, {":not_binary"}},
      {&pga_ops_area_pools, "stop_stream", 1, {"123"}},
      {&pga_ops_area_facade, "__info__", 1, {":bogus"}},
  };
  pga_ops_t ops;
  memset(&ops, 0, sizeof ops);
  pga_tb_t *out = pga_tb_new(0);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    pga_term_t argv[2];
    for (unsigned a = 0; a < cases[i].arity; a++) argv[a] = T(cases[i].args[a]);
    pga_outcome_t o =
        call_fn(cases[i].area, &ops, cases[i].f, cases[i].arity, argv, out);
    expect_outcome(o, PGA_ERROR, out, ":function_clause");
  }
  pga_tb_free(out);
  tt_reset();
}
END_TEST

START_TEST(update_config_gate_is_fail_closed) {
  pga_ops_t ops;
  memset(&ops, 0, sizeof ops);
  pga_tb_t *out = pga_tb_new(0);
  pga_term_t limits = T("%{global_limits: []}");
  pga_term_t detail = T("%{detail_error: true}");
  /* No admin actions: denied (case 29). */
  expect_outcome(call_fn(&pga_ops_area_limiter, &ops,
                         "update_rate_limit_config", 1, &limits, out),
                 PGA_RETURN, out, "{:error, :admin_action_denied}");
  /* Update allowed, but :detail_error also needs :change_detail_error. */
  ops.admin_actions = PGA_ADMIN_UPDATE_RATE_LIMIT_CONFIG;
  expect_outcome(call_fn(&pga_ops_area_limiter, &ops,
                         "update_rate_limit_config", 1, &detail, out),
                 PGA_RETURN, out, "{:error, :admin_action_denied}");
  /* The other actions alone never open it. */
  ops.admin_actions = PGA_ADMIN_CHANGE_DETAIL_ERROR | PGA_ADMIN_PUSH_CONFIG |
                      PGA_ADMIN_ENABLE_TRACING | PGA_ADMIN_DISABLE_TRACING;
  expect_outcome(call_fn(&pga_ops_area_limiter, &ops,
                         "update_rate_limit_config", 1, &detail, out),
                 PGA_RETURN, out, "{:error, :admin_action_denied}");
  pga_tb_free(out);
  tt_reset();
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("ops_limiter");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, rl_global_renders_each_limit);
  tcase_add_test(tc, rl_global_malformed_limit_raises_after_good_lines);
  tcase_add_test(tc, rl_config_global_then_api);
  tcase_add_test(tc, rl_config_without_limits_prints_headings);
  tcase_add_test(tc, rl_status_counts_global_and_user_id_api_limits);
  tcase_add_test(tc, rl_status_api_limit_without_key_raises_before_api_lines);
  tcase_add_test(tc, pool_text_is_exact);
  tcase_add_test(tc, cache_text_is_exact);
  tcase_add_test(tc, failed_text_empty_and_filled);
  tcase_add_test(tc, failed_summary_sorts_services_and_shows_newest);
  tcase_add_test(tc, interp_follows_string_chars);
  tcase_add_test(tc, map_sorted_puts_atoms_before_binaries);
  tcase_add_test(tc, guards_give_function_clause);
  tcase_add_test(tc, update_config_gate_is_fail_closed);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(suite)
