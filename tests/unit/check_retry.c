/* Unit tests for the remote-call rules (src/request/retry.c): retry
 * normalisation, the backoff formula, the retry loop's steps and remote
 * finalisation (request-plane.md §8.5), the per-node fallback outcome and
 * the RPC timeout (§8.4). The loops below drive the functions the way the
 * pipeline will, with scripted call results.
 *
 * §13 cases covered: 26, 27, 29 (fallback and masking), 85, 87, 88. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "request/request.h"
#include "request/request_int.h"
#include "config_terms.h"
#include "check_main.h"

static pga_retry_t norm(const char *text) {
  pga_term_t t = T(text);
  pga_retry_t r;

  ck_assert_int_eq(pga_request_retry_normalize(&t, &r), 0);
  return r;
}

/* Runs one remote call with retries over scripted results (one per pass,
 * the last one repeating): returns the passes made and whether the answer
 * was masked as {:error, :retry_exhausted}. */
static int run_passes(pga_retry_t *r, const char *const *results, int n,
                      int *masked) {
  int passes = 0;
  int64_t attempt;
  pga_term_t res;

  for (;;) {
    res = T(results[passes < n ? passes : n - 1]);
    passes++;
    if (!pga_request_retry_next(r, &res, &attempt))
      break;
    ck_assert_int_eq(attempt, r->n + 1);
  }
  *masked = pga_request_retry_final(&res);
  return passes;
}

START_TEST(retry_normalize_shapes) {
  pga_retry_t r;
  pga_term_t bad;
  const char *invalid[] = {"\"2\"", "{:same_node}", "{:other, 1}",
                           "{:same_node, \"1\"}", "[1]"};

  r = norm("nil");
  ck_assert_int_eq(r.mode, PGA_RETRY_NONE);
  r = norm("2");
  ck_assert(r.mode == PGA_RETRY_ALL_NODES && r.n == 2);
  r = norm("2.7");
  ck_assert(r.mode == PGA_RETRY_ALL_NODES && r.n == 2);
  r = norm("{:same_node, 1.9}");
  ck_assert(r.mode == PGA_RETRY_SAME_NODE && r.n == 1);
  r = norm("{:all_nodes, 5}");
  ck_assert(r.mode == PGA_RETRY_ALL_NODES && r.n == 5);
  r = norm("{:same_node, 0}");
  ck_assert(r.mode == PGA_RETRY_SAME_NODE && r.n == 0);
  for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++) {
    bad = T(invalid[i]);
    ck_assert_int_eq(pga_request_retry_normalize(&bad, &r), PGA_EINVAL);
  }
  tt_reset();
}
END_TEST

START_TEST(retry_encode_gives_telemetry_mode) {
  pga_retry_t none = {PGA_RETRY_NONE, 0}, same = {PGA_RETRY_SAME_NODE, 0};
  pga_tb_t *tb = pga_tb_new(0);
  pga_term_t got, want;

  pga_request_retry_encode(tb, &none);
  got = pga_tb_data(tb);
  want = T("nil");
  ck_assert(pga_term_equal(&got, &want));
  pga_tb_reset(tb);
  pga_request_retry_encode(tb, &same);
  got = pga_tb_data(tb);
  want = T("{:same_node, 0}");
  ck_assert(pga_term_equal(&got, &want));
  pga_tb_free(tb);
  tt_reset();
}
END_TEST

START_TEST(retry_backoff_doubles_and_caps) {
  static const int64_t want[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000};
  int64_t ms;

  for (int n = 1; n <= 8; n++) { /* 87 */
    ck_assert_int_eq(pga_request_retry_backoff(n, -1, &ms), 0);
    ck_assert_int_eq(ms, want[n - 1]);
  }
  ck_assert_int_eq(pga_request_retry_backoff(1, 0.0, &ms), 0);
  ck_assert_int_eq(ms, 50);
  ck_assert_int_eq(pga_request_retry_backoff(1, 0.999999, &ms), 0);
  ck_assert_int_eq(ms, 149);
  ck_assert_int_eq(pga_request_retry_backoff(3, 0.25, &ms), 0);
  ck_assert_int_eq(ms, 300);
  ck_assert_int_eq(pga_request_retry_backoff(0, -1, &ms), PGA_EINVAL);
  ck_assert_int_eq(pga_request_retry_backoff(1018, -1, &ms), 0);
  ck_assert_int_eq(ms, 5000);
  /* 100 * 2^1018 overflows: the library raises ArithmeticError. */
  ck_assert_int_eq(pga_request_retry_backoff(1019, -1, &ms), PGA_ERANGE);
}
END_TEST

START_TEST(retry_retryable_is_error_tuples_only) {
  const char *yes[] = {"{:error, :x}", "{:error, :a, :b}"};
  const char *no[] = {"{:ok, 1}", ":error", "{:error}", "{:error, 1, 2, 3}",
                      "\"error\"", "{\"error\", 1}"};
  pga_term_t t;

  for (size_t i = 0; i < 2; i++) {
    t = T(yes[i]);
    ck_assert(pga_request_retryable(&t));
  }
  for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
    t = T(no[i]);
    ck_assert_msg(!pga_request_retryable(&t), "%s", no[i]);
  }
  tt_reset();
}
END_TEST

START_TEST(retry_loop_runs_until_success) {
  const char *twice[] = {"{:error, :a}", "{:error, :b}", "{:ok, 1}"};
  const char *once[] = {"{:error, :a}", "{:ok, 2}"};
  pga_retry_t r = norm("2");
  int masked;

  ck_assert_int_eq(run_passes(&r, twice, 3, &masked), 3); /* 85 */
  ck_assert(!masked);
  r = norm("{:same_node, 1}");
  ck_assert_int_eq(run_passes(&r, once, 2, &masked), 2);
  ck_assert(!masked);
  tt_reset();
}
END_TEST

START_TEST(retry_exhausted_masks_the_error) {
  const char *always[] = {"{:error, :x}"};
  pga_retry_t r = norm("{:same_node, 2}");
  pga_tb_t *tb = pga_tb_new(0);
  pga_term_t mode, want = T("{:same_node, 0}");
  int masked;

  ck_assert_int_eq(run_passes(&r, always, 1, &masked), 3); /* 88 */
  ck_assert(masked);
  pga_request_retry_encode(tb, &r);
  mode = pga_tb_data(tb);
  ck_assert(pga_term_equal(&mode, &want));
  /* No retry configured: one pass, and still masked (§8.5). */
  r = norm("nil");
  ck_assert_int_eq(run_passes(&r, always, 1, &masked), 1); /* 27 */
  ck_assert(masked);
  pga_tb_free(tb);
  tt_reset();
}
END_TEST

/* §8.4 over a scripted node list: the first result that is not
 * {:badrpc, _} stops; otherwise the last remembered error is the answer. */
static void fallback(const char *const *results, int n, pga_tb_t *answer) {
  for (int i = 0; i < n; i++) {
    pga_term_t res = T(results[i]);

    pga_tb_reset(answer);
    if (pga_request_rpc_outcome(&res, answer)) {
      pga_tb_reset(answer);
      pga_tb_term(answer, &res);
      return;
    }
  }
}

START_TEST(rpc_outcome_falls_back_over_nodes) {
  const char *timeout_then_ok[] = {"{:badrpc, :timeout}", "{:ok, 1}"};
  const char *down[] = {"{:badrpc, :nodedown}"};
  const char *crash[] = {"{:badrpc, {:EXIT, {:badarith, []}}}",
                         "{:badrpc, :timeout}"};
  const char *business[] = {"{:error, :not_found}", "{:ok, 9}"};
  pga_tb_t *tb = pga_tb_new(0);
  pga_term_t got, want;

  fallback(timeout_then_ok, 2, tb); /* 29 */
  got = pga_tb_data(tb);
  want = T("{:ok, 1}");
  ck_assert(pga_term_equal(&got, &want));
  fallback(down, 1, tb); /* 26 */
  got = pga_tb_data(tb);
  want = T("{:error, :nodedown}");
  ck_assert(pga_term_equal(&got, &want));
  ck_assert(pga_request_retry_final(&got));
  fallback(crash, 1, tb);
  got = pga_tb_data(tb);
  want = T("{:error, :rpc_exit}");
  ck_assert(pga_term_equal(&got, &want));
  fallback(crash, 2, tb);
  got = pga_tb_data(tb);
  want = T("{:error, :timeout}");
  ck_assert(pga_term_equal(&got, &want));
  fallback(business, 2, tb); /* 27: the function's own error stops */
  got = pga_tb_data(tb);
  want = T("{:error, :not_found}");
  ck_assert(pga_term_equal(&got, &want));
  pga_tb_free(tb);
  tt_reset();
}
END_TEST

START_TEST(rpc_timeout_defaults) {
  pga_term_t t;

  t = T("3000");
  ck_assert_int_eq(pga_request_rpc_timeout(&t), 3000);
  t = T(":infinity");
  ck_assert_int_eq(pga_request_rpc_timeout(&t), 25000);
  t = T("nil");
  ck_assert_int_eq(pga_request_rpc_timeout(&t), 5000);
  t = T("0");
  ck_assert_int_eq(pga_request_rpc_timeout(&t), 5000);
  t = T("1.5");
  ck_assert_int_eq(pga_request_rpc_timeout(&t), 5000);
  tt_reset();
}
END_TEST

static Suite *retry_suite(void) {
  Suite *s = suite_create("retry");
  TCase *tc = tcase_create("retry");

  tcase_add_test(tc, retry_normalize_shapes);
  tcase_add_test(tc, retry_encode_gives_telemetry_mode);
  tcase_add_test(tc, retry_backoff_doubles_and_caps);
  tcase_add_test(tc, retry_retryable_is_error_tuples_only);
  tcase_add_test(tc, retry_loop_runs_until_success);
  tcase_add_test(tc, retry_exhausted_masks_the_error);
  tcase_add_test(tc, rpc_outcome_falls_back_over_nodes);
  tcase_add_test(tc, rpc_timeout_defaults);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(retry_suite)
