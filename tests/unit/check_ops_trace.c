/* Unit tests for the trace messages of the ops plane (src/ops/trace_msg.c,
 * with the pattern matching of trace_args.c): the :trace / :trace_ts
 * forms, the phase call term, {m, f, args | arity}, flags, match specs
 * asking for :return_from, and the per-tracer rate cap (ops-plane.md
 * §9.2). Pids are stood in for by atoms: the builders copy any term. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ops/trace_int.h"
#include "config_terms.h"
#include "check_main.h"

#define EXPECT(expected, call)                                      \
  do {                                                              \
    pga_tb_t *tb_ = pga_tb_new(0);                                  \
    call;                                                           \
    pga_term_t got_ = pga_tb_data(tb_), want_ = T(expected);        \
    char g_[4096], w_[4096];                                        \
    pga_term_format(&got_, g_, sizeof g_);                          \
    pga_term_format(&want_, w_, sizeof w_);                         \
    ck_assert_msg(pga_term_equal(&got_, &want_), "got %s\nwant %s", \
                  g_, w_);                                          \
    pga_tb_free(tb_);                                               \
  } while (0)

/* 2021-01-02T03:04:05.000006Z in microseconds. */
#define TS_US 1609556645000006LL

START_TEST(process_messages) {
  pga_term_t parent = T(":parent"), child = T(":child"), why = T(":normal");
  pga_term_t mfa = T("{PhoenixGenApi.Executor, :\"execute!\", [%{a: 1}]}");
  EXPECT("{:trace, :parent, :spawn, :child, "
         "{PhoenixGenApi.Executor, :\"execute!\", [%{a: 1}]}}",
         pga_ops_trace_msg(tb_, &parent, "spawn", &child, &mfa, -1));
  EXPECT("{:trace, :child, :exit, :normal}",
         pga_ops_trace_msg(tb_, &child, "exit", &why, NULL, -1));
  EXPECT("{:trace_ts, :child, :exit, :normal, {1609, 556645, 6}}",
         pga_ops_trace_msg(tb_, &child, "exit", &why, NULL, TS_US));
  tt_reset();
}
END_TEST

START_TEST(phase_calls) {
  pga_term_t id = T("\"r1\""), none = {NULL, 0};
  EXPECT("{:phoenix_gen_api, :permission, [\"r1\"]}",
         pga_ops_trace_phase_call(tb_, "permission", &id));
  EXPECT("{:phoenix_gen_api, :response, [nil]}",
         pga_ops_trace_phase_call(tb_, "response", &none));
  pga_tb_t *call = pga_tb_new(0);
  pga_ops_trace_phase_call(call, "execution", &id);
  pga_term_t c = pga_tb_data(call), pid = T(":req");
  EXPECT("{:trace_ts, :req, :call, {:phoenix_gen_api, :execution, "
         "[\"r1\"]}, {1609, 556645, 6}}",
         pga_ops_trace_msg(tb_, &pid, "call", &c, NULL, TS_US));
  pga_tb_free(call);
  tt_reset();
}
END_TEST

START_TEST(function_messages) {
  pga_term_t mfa = T("{Svc, :hello, [:pre]}"), args = T("[\"A\", 2]");
  pga_term_t pid = T(":req"), result = T("{:ok, \"hi A\"}");
  EXPECT("{Svc, :hello, [\"A\", 2]}",
         ck_assert_int_eq(pga_ops_trace_mfa_with(tb_, &mfa, &args), 0));
  pga_term_t bad = T("[Svc, :hello]"), one = T("{Svc}");
  pga_tb_t *tb = pga_tb_new(0);
  ck_assert_int_eq(pga_ops_trace_mfa_with(tb, &bad, &args), -1);
  ck_assert_int_eq(pga_ops_trace_mfa_with(tb, &one, &args), -1);
  /* the arity as the observer builds it matches a pattern's integer */
  pga_tb_t *n = pga_tb_new(0);
  pga_tb_uint(n, 2);
  pga_term_t two = pga_tb_data(n);
  pga_tb_reset(tb);
  pga_ops_trace_mfa_with(tb, &mfa, &two);
  pga_term_t target = pga_tb_data(tb);
  pga_term_t p_exact = T("{Svc, :hello, 2}"), p_any = T("{Svc, :_, :_}"),
             p_other = T("{Svc, :hello, 1}"), p_mod = T("{Other, :_, :_}");
  ck_assert(pga_ops_trace_mfa_covers(&p_exact, &target));
  ck_assert(pga_ops_trace_mfa_covers(&p_any, &target));
  ck_assert(!pga_ops_trace_mfa_covers(&p_other, &target));
  ck_assert(!pga_ops_trace_mfa_covers(&p_mod, &target));
  EXPECT("{:trace_ts, :req, :return_from, {Svc, :hello, 2}, "
         "{:ok, \"hi A\"}, {1609, 556645, 6}}",
         pga_ops_trace_msg(tb_, &pid, "return_from", &target, &result,
                           TS_US));
  pga_tb_free(n);
  pga_tb_free(tb);
  tt_reset();
}
END_TEST

START_TEST(flags_and_specs) {
  pga_term_t flags = T("[:call, :timestamp]"), notlist = T(":call");
  ck_assert(pga_ops_trace_has_flag(&flags, "timestamp"));
  ck_assert(!pga_ops_trace_has_flag(&flags, "procs"));
  ck_assert(!pga_ops_trace_has_flag(&notlist, "call"));
  pga_term_t yes = T("[{:_, [], [{:return_trace}]}]");
  pga_term_t message = T("[{:_, [], [{:message, false}, {:return_trace}]}]");
  pga_term_t no = T("[{:_, [], [{:message, :return_trace}]}]");
  pga_term_t t = T("true"), empty = T("[]");
  ck_assert(pga_ops_trace_spec_returns(&yes));
  ck_assert(pga_ops_trace_spec_returns(&message));
  ck_assert(!pga_ops_trace_spec_returns(&no));
  ck_assert(!pga_ops_trace_spec_returns(&t));
  ck_assert(!pga_ops_trace_spec_returns(&empty));
  /* nested deeper than any match spec: not searched */
  pga_term_t deep = T("[[[[[[[[[[{:return_trace}]]]]]]]]]]");
  ck_assert(!pga_ops_trace_spec_returns(&deep));
  tt_reset();
}
END_TEST

START_TEST(rate_cap) {
  pga_ops_trace_rate_t r = {0, 0, 0};
  int64_t t0 = 5000;
  for (int i = 0; i < PGA_OPS_TRACE_RATE_MAX; i++)
    ck_assert(pga_ops_trace_rate_admit(&r, t0 + i % 999));
  ck_assert(!pga_ops_trace_rate_admit(&r, t0 + 999));
  ck_assert(!pga_ops_trace_rate_admit(&r, t0 + 999));
  ck_assert_uint_eq(r.dropped, 2);
  ck_assert(pga_ops_trace_rate_admit(&r, t0 + 1000)); /* a new window */
  ck_assert_uint_eq(r.sent, 1);
  ck_assert(pga_ops_trace_rate_admit(&r, t0)); /* clock went back */
  ck_assert_uint_eq(r.dropped, 2);
}
END_TEST

static Suite *ops_trace_suite(void) {
  Suite *s = suite_create("ops_trace");
  TCase *tc = tcase_create("messages");
  tcase_add_test(tc, process_messages);
  tcase_add_test(tc, phase_calls);
  tcase_add_test(tc, function_messages);
  tcase_add_test(tc, flags_and_specs);
  tcase_add_test(tc, rate_cap);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(ops_trace_suite)
