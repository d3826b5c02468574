/* Unit tests for the rate limiter (src/request/limiter.c, ratelog.c):
 * the key rules of request-plane.md §7.2, the sliding-log algorithm of
 * §7.3 with its quirks (logs shared per key type, records kept by earlier limits, a
 * first request always passing, refusals leaving the log alone), the
 * runtime API of §7.4 with exact terms, cleanup, concurrency, and a
 * randomised comparison with a straight transcription of the library's
 * list algorithm (exactness of the ring).
 *
 * §13 cases covered: 66, 67, 68, 69, 70 (the E5 text), 71, 72, 73, 74,
 * 75. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request/request.h"
#include "request/request_int.h"
#include "config_terms.h"
#include "request_fixtures.h"
#include "check_main.h"

static pga_request_t req_of(const char *text) {
  pga_term_t t = T(text);
  pga_request_t r;

  ck_assert_int_eq(pga_request_from_struct(&t, &r), 0);
  return r;
}

static pga_request_limiter_t *limiter(const char *global, const char *api,
                                      int fail_closed) {
  pga_limiter_opts_t o = {PGA_LIMITER_OPTS_VERSION, 0, fail_closed,
                          T(global), T(api), 0};
  pga_request_limiter_t *l = NULL;

  ck_assert_int_eq(pga_request_limiter_new(&o, &l), 0);
  return l;
}

/* Checks and compares the result term with want (NULL: just :ok). */
static pga_limit_status_t check_term(pga_request_limiter_t *l,
                                     const pga_request_t *r, int64_t now,
                                     const char *want) {
  pga_tb_t *tb = pga_tb_new(0);
  pga_limit_status_t st = pga_request_limiter_check(l, r, now, tb, NULL);
  pga_term_t got = pga_tb_data(tb), w = T(want != NULL ? want : ":ok");

  ck_assert_msg(pga__term_compare(&got, &w) == 0, "got %s want %s",
                tt_show(&got), tt_show(&w));
  pga_tb_free(tb);
  return st;
}

static void expect_term(pga_tb_t *tb, const char *want) {
  pga_term_t got = pga_tb_data(tb), w = T(want);

  ck_assert_msg(pga__term_compare(&got, &w) == 0, "got %s want %s",
                tt_show(&got), want);
  pga_tb_reset(tb);
}

#define U123 "%{request_id: \"r\", user_id: \"user_123\", service: \"svc\", " \
             "request_type: \"rt\", args: %{}}"

START_TEST(limiter_global_limit_refuses_sixth) {
  pga_request_limiter_t *l =
      limiter("[%{key: :user_id, max_requests: 5, window_ms: 10000}]", "[]", 0);
  pga_request_t r = req_of(U123);
  pga_limit_info_t info;

  for (int i = 0; i < 5; i++) /* 66 */
    ck_assert_int_eq(check_term(l, &r, 1000 + i, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(
      check_term(l, &r, 1010,
                 "{:error, :rate_limited, %{max_requests: 5, current_requests: "
                 "5, retry_after_ms: 9990, key: \"user_123\", scope: :global, "
                 "window_ms: 10000}}"),
      PGA_LIMIT_EXCEEDED);
  ck_assert_int_eq(pga_request_limiter_check(l, &r, 1011, NULL, &info),
                   PGA_LIMIT_EXCEEDED);
  ck_assert_int_eq(info.retry_after_ms, 9989);
  ck_assert_int_eq(info.current_requests, 5);
  ck_assert(info.global);
  pga_request_limiter_free(l);
  tt_reset();
}
END_TEST

START_TEST(limiter_missing_key_value_skips_limit) {
  pga_request_limiter_t *l =
      limiter("[%{key: :user_id, max_requests: 1, window_ms: 10000}, "
              "%{key: :ip_address, max_requests: 1, window_ms: 10000}, "
              "%{key: \"k\", max_requests: 1, window_ms: 10000}, "
              "%{key: 5, max_requests: 1, window_ms: 10000}]",
              "[]", 0);
  pga_request_t anon = req_of("%{request_id: \"r\", user_id: nil, args: %{}}");
  pga_request_t num = req_of("%{request_id: \"r\", user_id: 7, "
                             "args: %{\"k\" => 3}}");

  for (int i = 0; i < 10; i++) { /* 67 */
    ck_assert_int_eq(check_term(l, &anon, i, NULL), PGA_LIMIT_OK);
    ck_assert_int_eq(check_term(l, &num, i, NULL), PGA_LIMIT_OK);
  }
  ck_assert_uint_eq(pga_request_limiter_logs(l), 0);
  pga_request_limiter_free(l);
  tt_reset();
}
END_TEST

START_TEST(limiter_api_limit_applies_to_its_function_only) {
  pga_request_limiter_t *l = limiter(
      "[]",
      "[%{service: \"expensive_service\", request_type: \"export\", "
      "key: :user_id, max_requests: 2, window_ms: 10000}]",
      0);
  pga_request_t exp = req_of("%{user_id: \"u\", service: \"expensive_service\", "
                             "request_type: \"export\", args: %{}}");
  pga_request_t imp = req_of("%{user_id: \"u\", service: \"expensive_service\", "
                             "request_type: \"import\", args: %{}}");

  ck_assert_int_eq(check_term(l, &exp, 0, NULL), PGA_LIMIT_OK); /* 68 */
  ck_assert_int_eq(check_term(l, &exp, 1, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(pga_request_limiter_check(l, &exp, 2, NULL, NULL),
                   PGA_LIMIT_EXCEEDED);
  for (int i = 0; i < 5; i++)
    ck_assert_int_eq(check_term(l, &imp, 3 + i, NULL), PGA_LIMIT_OK);
  pga_request_limiter_free(l);
  tt_reset();
}
END_TEST

START_TEST(limiter_api_denial_keeps_global_records) {
  pga_request_limiter_t *l = limiter(
      "[%{key: :user_id, max_requests: 10, window_ms: 60000}]",
      "[%{service: \"api_service\", request_type: \"fast_api\", "
      "key: :user_id, max_requests: 3, window_ms: 60000}]",
      0);
  pga_request_t r = req_of("%{user_id: \"user_limit\", service: \"api_service\", "
                           "request_type: \"fast_api\", args: %{}}");
  pga_term_t value = T("\"user_limit\""), global = T(":global");
  pga_tb_t *tb = pga_tb_new(0);

  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(check_term(l, &r, 100, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq( /* 69 */
      check_term(l, &r, 100,
                 "{:error, :rate_limited, %{key: \"api_service:fast_api:"
                 "user_limit\", scope: {\"api_service\", \"fast_api\"}, "
                 "max_requests: 3, current_requests: 3, window_ms: 60000, "
                 "retry_after_ms: 60000}}"),
      PGA_LIMIT_EXCEEDED);
  ck_assert_int_eq(pga_request_limiter_status(l, &value, &global, 100, tb), 0);
  expect_term(tb, "[%{key: \"user_limit\", max_requests: 10, current_requests: "
                  "4, window_ms: 60000, remaining: 6, scope: :global}]");
  size_t global_logs, api_logs; /* one log per table for this user */
  pga_request_limiter_table_logs(l, &global_logs, &api_logs);
  ck_assert_uint_eq(global_logs, 1);
  ck_assert_uint_eq(api_logs, 1);
  pga_tb_free(tb);
  pga_request_limiter_free(l);
  tt_reset();
}
END_TEST

START_TEST(limiter_e5_text_uses_whole_seconds) {
  pga_request_limiter_t *l =
      limiter("[%{key: :user_id, max_requests: 1, window_ms: 5000}]", "[]", 0);
  pga_request_t r = req_of(U123);
  pga_limit_info_t info;
  char text[128];

  ck_assert_int_eq(check_term(l, &r, 0, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(pga_request_limiter_check(l, &r, 0, NULL, &info),
                   PGA_LIMIT_EXCEEDED); /* 70 */
  pga_request_limiter_e5(info.retry_after_ms, text, sizeof text);
  ck_assert_str_eq(text, "Rate limit exceeded. Please retry after 5 seconds.");
  pga_request_limiter_e5(999, text, sizeof text);
  ck_assert_str_eq(text, "Rate limit exceeded. Please retry after 0 seconds.");
  pga_request_limiter_free(l);
  tt_reset();
}
END_TEST

START_TEST(limiter_window_slides) {
  pga_request_limiter_t *l =
      limiter("[%{key: :user_id, max_requests: 2, window_ms: 100}]", "[]", 0);
  pga_request_t r = req_of(U123);

  ck_assert_int_eq(check_term(l, &r, 0, NULL), PGA_LIMIT_OK); /* 71 */
  ck_assert_int_eq(check_term(l, &r, 10, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(pga_request_limiter_check(l, &r, 20, NULL, NULL),
                   PGA_LIMIT_EXCEEDED);
  /* At now = 100 the entry from 0 is gone (ts <= now - window). */
  ck_assert_int_eq(check_term(l, &r, 100, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(pga_request_limiter_check(l, &r, 105, NULL, NULL),
                   PGA_LIMIT_EXCEEDED);
  ck_assert_int_eq(check_term(l, &r, 150, NULL), PGA_LIMIT_OK);
  pga_request_limiter_free(l);
  tt_reset();
}
END_TEST

START_TEST(limiter_reset_deletes_the_log) {
  pga_request_limiter_t *l =
      limiter("[%{key: :user_id, max_requests: 2, window_ms: 10000}]", "[]", 0);
  pga_request_t r = req_of("%{user_id: \"user_reset\", args: %{}}");
  pga_term_t value = T("\"user_reset\""), global = T(":global");
  pga_tb_t *tb = pga_tb_new(0);

  ck_assert_int_eq(check_term(l, &r, 0, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(check_term(l, &r, 0, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(pga_request_limiter_check(l, &r, 0, NULL, NULL),
                   PGA_LIMIT_EXCEEDED);
  ck_assert_int_eq(pga_request_limiter_reset(l, &value, &global, tb), 0); /* 72 */
  expect_term(tb, ":ok");
  ck_assert_int_eq(check_term(l, &r, 0, NULL), PGA_LIMIT_OK);
  pga_tb_free(tb);
  pga_request_limiter_free(l);
  tt_reset();
}
END_TEST

START_TEST(limiter_status_is_a_list) {
  pga_request_limiter_t *l = limiter(
      "[%{key: :user_id, max_requests: 10, window_ms: 60000}]",
      "[%{service: \"s\", request_type: \"t\", key: :device_id, "
      "max_requests: 4, window_ms: 1000}]",
      0);
  pga_request_t r = req_of("%{user_id: \"user_status\", args: %{}}");
  pga_term_t value = T("\"user_status\""), global = T(":global"),
             api = T("{\"s\", \"t\"}"), other = T(":nope");
  pga_tb_t *tb = pga_tb_new(0);

  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(check_term(l, &r, 5, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(pga_request_limiter_status(l, &value, &global, 10, tb), 0);
  expect_term(tb, "[%{key: \"user_status\", max_requests: 10, " /* 73 */
                  "current_requests: 3, remaining: 7, window_ms: 60000, "
                  "scope: :global}]");
  /* API scope: every limit of that function, whatever its key. */
  ck_assert_int_eq(pga_request_limiter_status(l, &value, &api, 10, tb), 0);
  expect_term(tb, "[%{key: \"s:t:user_status\", max_requests: 4, "
                  "current_requests: 0, remaining: 4, window_ms: 1000, "
                  "scope: {\"s\", \"t\"}}]");
  ck_assert_int_eq(pga_request_limiter_status(l, &value, &other, 10, tb),
                   PGA_EINVAL);
  {
    pga_term_t none = T("{\"s\", \"none\"}"); /* no limit there */
    pga_tb_reset(tb);
    ck_assert_int_eq(pga_request_limiter_status(l, &value, &none, 10, tb), 0);
    expect_term(tb, "[]");
  }
  pga_tb_free(tb);
  pga_request_limiter_free(l);
  tt_reset();
}
END_TEST

typedef struct burst_s {
  pga_request_limiter_t *l;
  pga_request_t *r;
  int ok;
} burst_t;

static void *burst(void *arg) {
  burst_t *b = arg;

  for (int i = 0; i < 25; i++)
    if (pga_request_limiter_check(b->l, b->r, 1000, NULL, NULL) == PGA_LIMIT_OK)
      b->ok++;
  return NULL;
}

START_TEST(limiter_concurrent_requests_respect_limit_exactly) {
  pga_request_limiter_t *l =
      limiter("[%{key: :user_id, max_requests: 50, window_ms: 10000}]", "[]", 0);
  pga_request_t r = req_of(U123);
  burst_t b[4];
  pthread_t th[4];
  int ok = 0;

  for (int i = 0; i < 4; i++) { /* 74: 100 requests */
    b[i].l = l;
    b[i].r = &r;
    b[i].ok = 0;
    ck_assert_int_eq(pthread_create(&th[i], NULL, burst, &b[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    ok += b[i].ok;
  }
  ck_assert_int_eq(ok, 50);
  pga_request_limiter_free(l);
  tt_reset();
}
END_TEST

START_TEST(limiter_update_needs_admin_action) {
  pga_request_limiter_t *l = limiter("[]", "[]", 0);
  pga_term_t cfg = T("%{global_limits: [%{key: :user_id, max_requests: 1, "
                     "window_ms: 1000}]}"),
             detail = T("%{detail_error: true}");
  pga_tb_t *tb = pga_tb_new(0);

  ck_assert_int_eq(pga_request_limiter_update(l, &cfg, 0, 0, tb), 0); /* 75 */
  expect_term(tb, "{:error, :admin_action_denied}");
  ck_assert_int_eq(pga_request_limiter_update(l, &detail, 1, 0, tb), 0);
  expect_term(tb, "{:error, :admin_action_denied}");
  ck_assert_int_eq(pga_request_limiter_update(l, &cfg, 1, 0, tb), 0);
  expect_term(tb, ":ok");
  pga_request_limiter_global_limits(l, tb);
  expect_term(tb, "[%{key: :user_id, max_requests: 1, window_ms: 1000}]");
  pga_tb_free(tb);
  pga_request_limiter_free(l);
  tt_reset();
}
END_TEST

START_TEST(limiter_runtime_limit_changes) {
  pga_request_limiter_t *l =
      limiter("[%{key: :user_id, max_requests: 1, window_ms: 1000}]", "[]", 0);
  pga_term_t add = T("%{key: :device_id, max_requests: 9, window_ms: 5}"),
             repl = T("%{key: :user_id, max_requests: 2, window_ms: 7}"),
             dev = T(":device_id"), set = T("[]"), bad = T("5");
  pga_tb_t *tb = pga_tb_new(0);

  ck_assert_int_eq(pga_request_limiter_add_global(l, &add, tb), 0);
  expect_term(tb, ":ok");
  ck_assert_int_eq(pga_request_limiter_add_global(l, &repl, tb), 0);
  expect_term(tb, ":ok");
  pga_request_limiter_global_limits(l, tb);
  expect_term(tb, "[%{key: :device_id, max_requests: 9, window_ms: 5}, "
                  "%{key: :user_id, max_requests: 2, window_ms: 7}]");
  ck_assert_int_eq(pga_request_limiter_remove_global(l, &dev, tb), 0);
  expect_term(tb, ":ok");
  pga_request_limiter_config(l, tb);
  expect_term(tb, "%{global: [%{key: :user_id, max_requests: 2, window_ms: 7}], "
                  "api: []}");
  ck_assert_int_eq(pga_request_limiter_set_global(l, &set, tb), 0);
  expect_term(tb, ":ok");
  ck_assert_int_eq(pga_request_limiter_set_global(l, &bad, tb), PGA_EINVAL);
  ck_assert_int_eq(pga_request_limiter_add_global(l, &bad, tb), PGA_EINVAL);
  pga_tb_free(tb);
  pga_request_limiter_free(l);
  tt_reset();
}
END_TEST

/* §7.3: the first request of a key passes whatever max_requests says;
 * later ones are refused; once the log is empty after expiry, computing
 * retry_after fails (the library raises) and fail_open decides. */
START_TEST(limiter_zero_max_passes_first_then_fails) {
  pga_request_limiter_t *open =
      limiter("[%{key: :user_id, max_requests: 0, window_ms: 100}]", "[]", 0);
  pga_request_limiter_t *closed =
      limiter("[%{key: :user_id, max_requests: 0, window_ms: 100}]", "[]", 1);
  pga_request_t r = req_of(U123);

  ck_assert_int_eq(check_term(open, &r, 0, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(pga_request_limiter_check(open, &r, 50, NULL, NULL),
                   PGA_LIMIT_EXCEEDED);
  ck_assert_int_eq(check_term(open, &r, 500, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(check_term(closed, &r, 0, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(
      check_term(closed, &r, 500,
                 "{:error, :rate_limiter_error, %{message: \"bad argument in "
                 "arithmetic expression\"}}"),
      PGA_LIMIT_FAILED);
  pga_request_limiter_free(open);
  pga_request_limiter_free(closed);
  tt_reset();
}
END_TEST

/* Each limit's log is per key type (issue #4; docs/compat.md R6): a
 * :user_id and a :device_id limit with equal values do not share a log
 * (the library's did), two limits on one key type still do. */
START_TEST(limiter_key_types_keep_separate_logs) {
  pga_request_limiter_t *l =
      limiter("[%{key: :user_id, max_requests: 3, window_ms: 1000}, "
              "%{key: :device_id, max_requests: 3, window_ms: 1000}]",
              "[%{service: \"s\", request_type: \"t\", key: :user_id, "
              "max_requests: 2, window_ms: 1000}, "
              "%{service: \"s\", request_type: \"t\", key: \"k\", "
              "max_requests: 2, window_ms: 1000}]", 0);
  pga_request_t a = req_of("%{user_id: \"x\", device_id: \"other\", args: %{}}");
  pga_request_t b = req_of("%{user_id: \"y\", device_id: \"x\", args: %{}}");
  pga_request_t c = req_of("%{user_id: \"v\", service: \"s\", "
                           "request_type: \"t\", args: %{}}");
  pga_request_t d = req_of("%{user_id: \"w\", service: \"s\", "
                           "request_type: \"t\", args: %{\"k\" => \"v\"}}");
  pga_term_t x = T("\"x\""), global = T(":global");
  pga_tb_t *tb = pga_tb_new(0);

  ck_assert_int_eq(check_term(l, &a, 0, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(check_term(l, &a, 0, NULL), PGA_LIMIT_OK);
  /* b's device log "x" is its own: a's user log stays at two. */
  ck_assert_int_eq(check_term(l, &b, 0, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(check_term(l, &a, 0, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(pga_request_limiter_check(l, &a, 0, NULL, NULL),
                   PGA_LIMIT_EXCEEDED);
  ck_assert_int_eq(pga_request_limiter_status(l, &x, &global, 0, tb), 0);
  expect_term(tb, "[%{key: \"x\", max_requests: 3, current_requests: 3, "
                  "remaining: 0, window_ms: 1000, scope: :global}, "
                  "%{key: \"x\", max_requests: 3, current_requests: 1, "
                  "remaining: 2, window_ms: 1000, scope: :global}]");
  /* API logs "s:t:v" of a user "v" and of an argument "k" => "v". */
  ck_assert_int_eq(check_term(l, &c, 0, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(check_term(l, &c, 0, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(check_term(l, &d, 0, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(pga_request_limiter_check(l, &c, 0, NULL, NULL),
                   PGA_LIMIT_EXCEEDED);
  /* reset clears the value's log of every limit of the scope */
  ck_assert_int_eq(pga_request_limiter_reset(l, &x, &global, tb), 0);
  pga_tb_reset(tb);
  ck_assert_int_eq(pga_request_limiter_status(l, &x, &global, 0, tb), 0);
  expect_term(tb, "[%{key: \"x\", max_requests: 3, current_requests: 0, "
                  "remaining: 3, window_ms: 1000, scope: :global}, "
                  "%{key: \"x\", max_requests: 3, current_requests: 0, "
                  "remaining: 3, window_ms: 1000, scope: :global}]");
  pga_tb_free(tb);
  pga_request_limiter_free(l);
  tt_reset();
}
END_TEST

/* A refusal leaves the log untouched, not even pruned: a later check with
 * a wider window still counts the old entries. */
START_TEST(limiter_refusal_does_not_prune) {
  pga_request_limiter_t *l =
      limiter("[%{key: :user_id, max_requests: 1, window_ms: 10}, "
              "%{key: :user_id, max_requests: 5, window_ms: 1000}]",
              "[]", 0);
  pga_request_t a = req_of("%{user_id: \"k\", args: %{}}");
  pga_term_t v = T("\"k\""), global = T(":global");
  pga_tb_t *tb = pga_tb_new(0);

  /* Both limits share the :user_id log and each records: after 25 the
   * first limit kept [25] (its max is 1), the second added 25 again. */
  ck_assert_int_eq(check_term(l, &a, 0, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(check_term(l, &a, 25, NULL), PGA_LIMIT_OK);
  /* The first limit refuses at 30; the log is left as it was. */
  ck_assert_int_eq(pga_request_limiter_check(l, &a, 30, NULL, NULL),
                   PGA_LIMIT_EXCEEDED);
  ck_assert_int_eq(pga_request_limiter_status(l, &v, &global, 30, tb), 0);
  expect_term(tb, "[%{key: \"k\", max_requests: 1, current_requests: 2, "
                  "remaining: 0, window_ms: 10, scope: :global}, "
                  "%{key: \"k\", max_requests: 5, current_requests: 2, "
                  "remaining: 3, window_ms: 1000, scope: :global}]");
  pga_tb_free(tb);
  pga_request_limiter_free(l);
  tt_reset();
}
END_TEST

START_TEST(limiter_malformed_limit_fails_by_policy) {
  pga_request_limiter_t *open = limiter("[%{max_requests: 1}]", "[]", 0);
  pga_request_limiter_t *closed = limiter("[5]", "[]", 1);
  pga_request_limiter_t *nums =
      limiter("[%{key: :user_id, max_requests: 1.5, window_ms: 10}]", "[]", 1);
  pga_request_limiter_t *scope =
      limiter("[]", "[%{key: :user_id, max_requests: 1, window_ms: 10}]", 1);
  pga_request_t r = req_of(U123);
  pga_request_t anon = req_of("%{user_id: nil, args: %{}}");

  ck_assert_int_eq(check_term(open, &r, 0, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(pga_request_limiter_check(closed, &r, 0, NULL, NULL),
                   PGA_LIMIT_FAILED);
  ck_assert_int_eq(pga_request_limiter_check(nums, &r, 0, NULL, NULL),
                   PGA_LIMIT_FAILED);
  /* Skipped before its numbers are read: no user_id. */
  ck_assert_int_eq(pga_request_limiter_check(nums, &anon, 0, NULL, NULL),
                   PGA_LIMIT_OK);
  ck_assert_int_eq(pga_request_limiter_check(scope, &anon, 0, NULL, NULL),
                   PGA_LIMIT_FAILED);
  pga_request_limiter_free(open);
  pga_request_limiter_free(closed);
  pga_request_limiter_free(nums);
  pga_request_limiter_free(scope);
  tt_reset();
}
END_TEST

START_TEST(limiter_disabled_always_passes) {
  pga_limiter_opts_t o = {PGA_LIMITER_OPTS_VERSION, 1, 0,
                          T("[%{key: :user_id, max_requests: 0, window_ms: 1}]"),
                          T("[]"), 0};
  pga_request_limiter_t *l = NULL;
  pga_request_t r = req_of(U123);
  pga_term_t v = T("\"user_123\""), g = T(":global"), kt = T(":user_id");
  pga_tb_t *tb = pga_tb_new(0);

  ck_assert_int_eq(pga_request_limiter_new(&o, &l), 0);
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(check_term(l, &r, 0, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(pga_request_limiter_check_direct(l, &v, &g, &kt, 0, tb), 0);
  expect_term(tb, ":ok");
  pga_tb_free(tb);
  pga_request_limiter_free(l);
  tt_reset();
}
END_TEST

/* check_map (the rpc facade, issue 16): where the library's limiter reads
 * a field the caller's map lacks, the check stops with the error its
 * GenServer call dies of; otherwise as pga_request_limiter_check. */
static const struct {
  const char *global, *api, *map, *want;
  pga_limit_status_t st;
} raised_cases[] = {
    {"[%{key: :user_id, max_requests: 9, window_ms: 1000}]",
     "[%{service: \"s\", request_type: \"t\", key: :user_id, "
     "max_requests: 9, window_ms: 1000}]",
     "%{user_id: \"h9\"}", "{:badkey, :service, %{user_id: \"h9\"}}",
     PGA_LIMIT_RAISED},
    {"[%{key: :user_id, max_requests: 9, window_ms: 1000}]", "[]",
     "%{service: \"s\"}", "{:badkey, :user_id, %{service: \"s\"}}",
     PGA_LIMIT_RAISED},
    {"[]",
     "[%{service: \"s\", request_type: \"t\", key: :user_id, "
     "max_requests: 9, window_ms: 1000}]",
     "%{user_id: \"h9\", service: \"s\"}",
     "{:badkey, :request_type, %{user_id: \"h9\", service: \"s\"}}",
     PGA_LIMIT_RAISED},
    {"[]", /* another service: request_type is never read */
     "[%{service: \"s\", request_type: \"t\", key: :user_id, "
     "max_requests: 9, window_ms: 1000}]",
     "%{user_id: \"h9\", service: \"x\"}", ":ok", PGA_LIMIT_OK},
    {"[%{key: :device_id, max_requests: 9, window_ms: 1000}]", "[]",
     "%{user_id: \"h9\"}", "{:badkey, :device_id, %{user_id: \"h9\"}}",
     PGA_LIMIT_RAISED},
    {"[%{key: \"k\", max_requests: 9, window_ms: 1000}]", "[]",
     "%{user_id: \"h9\"}", "{:badkey, :args, %{user_id: \"h9\"}}",
     PGA_LIMIT_RAISED},
    {"[%{key: \"k\", max_requests: 9, window_ms: 1000}]", "[]",
     "%{args: nil}", "{:badmap, nil}", PGA_LIMIT_RAISED},
    {"[%{key: :ip_address, max_requests: 9, window_ms: 1000}]", "[]", "%{}",
     ":ok", PGA_LIMIT_OK}, /* Map.get: never raises */
    {"[]", "[]", "%{}", ":ok", PGA_LIMIT_OK},
    {"[%{key: :user_id, max_requests: 9, window_ms: 1000}]",
     "[%{service: \"s\", request_type: \"t\", key: :user_id, "
     "max_requests: 9, window_ms: 1000}]",
     "%{request_id: nil, user_id: nil, service: nil, request_type: nil, "
     "device_id: nil, args: nil}",
     ":ok", PGA_LIMIT_OK},
};

START_TEST(limiter_check_map_raises_as_the_library) {
  pga_request_limiter_t *l =
      limiter(raised_cases[_i].global, raised_cases[_i].api, 1);
  pga_term_t map = T(raised_cases[_i].map);
  pga_tb_t *tb = pga_tb_new(0);

  ck_assert_int_eq(pga_request_limiter_check_map(l, &map, 0, tb, NULL),
                   raised_cases[_i].st);
  expect_term(tb, raised_cases[_i].want);
  pga_tb_free(tb);
  pga_request_limiter_free(l);
  tt_reset();
}
END_TEST

/* The global slot taken before the API limit raises stays. */
START_TEST(limiter_check_map_keeps_slots_before_the_raise) {
  pga_request_limiter_t *l = limiter(
      "[%{key: :user_id, max_requests: 1, window_ms: 1000}]",
      "[%{service: \"s\", request_type: \"t\", key: :user_id, "
      "max_requests: 9, window_ms: 1000}]", 1);
  pga_term_t map = T("%{user_id: \"u\"}");

  ck_assert_int_eq(pga_request_limiter_check_map(l, &map, 0, NULL, NULL),
                   PGA_LIMIT_RAISED);
  ck_assert_int_eq(pga_request_limiter_check_map(l, &map, 1, NULL, NULL),
                   PGA_LIMIT_EXCEEDED);
  pga_request_limiter_free(l);
  tt_reset();
}
END_TEST

START_TEST(limiter_direct_check_applies_scope_limits) {
  pga_request_limiter_t *l = limiter(
      "[%{key: :user_id, max_requests: 1, window_ms: 1000}]",
      "[%{service: \"s\", request_type: \"t\", key: :user_id, max_requests: 1, "
      "window_ms: 1000}, %{service: \"s\", request_type: \"t\", key: "
      ":device_id, max_requests: 0, window_ms: 1000}]",
      0);
  pga_term_t v = T("\"u9\""), g = T(":global"), api = T("{\"s\", \"t\"}"),
             uid = T(":user_id"), bad = T("[]");
  pga_tb_t *tb = pga_tb_new(0);

  ck_assert_int_eq(pga_request_limiter_check_direct(l, &v, &g, &uid, 0, tb), 0);
  expect_term(tb, ":ok");
  ck_assert_int_eq(pga_request_limiter_check_direct(l, &v, &g, &uid, 1, tb), 0);
  expect_term(tb, "{:error, :rate_limited, %{key: \"u9\", scope: :global, "
                  "max_requests: 1, current_requests: 1, window_ms: 1000, "
                  "retry_after_ms: 999}}");
  /* API scope: only limits whose :key is the key type. */
  ck_assert_int_eq(pga_request_limiter_check_direct(l, &v, &api, &uid, 2, tb), 0);
  expect_term(tb, ":ok");
  ck_assert_int_eq(pga_request_limiter_check_direct(l, &v, &api, &uid, 3, tb), 0);
  expect_term(tb, "{:error, :rate_limited, %{key: \"s:t:u9\", "
                  "scope: {\"s\", \"t\"}, max_requests: 1, current_requests: 1, "
                  "window_ms: 1000, retry_after_ms: 999}}");
  ck_assert_int_eq(pga_request_limiter_check_direct(l, &v, &bad, &uid, 3, tb),
                   PGA_EINVAL);
  pga_tb_free(tb);
  pga_request_limiter_free(l);
  tt_reset();
}
END_TEST

/* A service holding ":" splits into a scope the library mis-reads too. */
START_TEST(limiter_api_scope_splits_on_first_colons) {
  pga_request_limiter_t *l = limiter(
      "[]",
      "[%{service: \"a:b\", request_type: \"t\", key: :user_id, "
      "max_requests: 1, window_ms: 1000}]",
      0);
  pga_request_t r = req_of("%{user_id: \"u\", service: \"a:b\", "
                           "request_type: \"t\", args: %{}}");

  ck_assert_int_eq(check_term(l, &r, 0, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(check_term(l, &r, 0,
                              "{:error, :rate_limited, %{key: \"a:b:t:u\", "
                              "scope: {\"a\", \"b\"}, max_requests: 1, "
                              "current_requests: 1, window_ms: 1000, "
                              "retry_after_ms: 1000}}"),
                   PGA_LIMIT_EXCEEDED);
  pga_request_limiter_free(l);
  tt_reset();
}
END_TEST

START_TEST(limiter_cleanup_drops_expired_logs) {
  pga_request_limiter_t *l =
      limiter("[%{key: :user_id, max_requests: 5, window_ms: 100}]", "[]", 0);
  pga_request_t a = req_of("%{user_id: \"a\", args: %{}}");
  pga_request_t b = req_of("%{user_id: \"b\", args: %{}}");

  ck_assert_int_eq(check_term(l, &a, 0, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(check_term(l, &a, 10, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(check_term(l, &b, 90, NULL), PGA_LIMIT_OK);
  ck_assert_uint_eq(pga_request_limiter_logs(l), 2);
  /* Cutoff 110 - 100 = 10: drops 0 and 10 (ts <= cutoff), keeps 90. */
  ck_assert_uint_eq(pga_request_limiter_cleanup(l, 110), 2);
  ck_assert_uint_eq(pga_request_limiter_logs(l), 1);
  ck_assert_uint_eq(pga_request_limiter_cleanup(l, 1000), 1);
  ck_assert_uint_eq(pga_request_limiter_logs(l), 0);
  pga_request_limiter_free(l);
  tt_reset();
}
END_TEST

START_TEST(limiter_full_table_fails_new_keys) {
  pga_limiter_opts_t o = {PGA_LIMITER_OPTS_VERSION, 0, 1,
                          T("[%{key: :user_id, max_requests: 5, "
                            "window_ms: 100}]"),
                          T("[]"), 2};
  pga_request_limiter_t *l = NULL;
  pga_request_t a = req_of("%{user_id: \"a\", args: %{}}");
  pga_request_t b = req_of("%{user_id: \"b\", args: %{}}");
  pga_request_t c = req_of("%{user_id: \"c\", args: %{}}");

  ck_assert_int_eq(pga_request_limiter_new(&o, &l), 0);
  ck_assert_int_eq(check_term(l, &a, 0, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(check_term(l, &b, 0, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(pga_request_limiter_check(l, &c, 0, NULL, NULL),
                   PGA_LIMIT_FAILED);
  ck_assert_int_eq(check_term(l, &a, 1, NULL), PGA_LIMIT_OK);
  pga_request_limiter_free(l);
  tt_reset();
}
END_TEST

/* A `now` older than the newest timestamp counts as that timestamp. */
START_TEST(limiter_clock_going_back_is_clamped) {
  pga_request_limiter_t *l =
      limiter("[%{key: :user_id, max_requests: 2, window_ms: 100}]", "[]", 0);
  pga_request_t r = req_of(U123);
  pga_limit_info_t info;

  ck_assert_int_eq(check_term(l, &r, 1000, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(check_term(l, &r, 900, NULL), PGA_LIMIT_OK);
  ck_assert_int_eq(pga_request_limiter_check(l, &r, 950, NULL, &info),
                   PGA_LIMIT_EXCEEDED);
  ck_assert_int_eq(info.retry_after_ms, 100);
  pga_request_limiter_free(l);
  tt_reset();
}
END_TEST

/* ---- The library's algorithm, transcribed on plain lists ---- */

#define MODEL_KEYS 4
#define MODEL_MAX 64

typedef struct model_log_s {
  int64_t ts[MODEL_MAX]; /* newest first, as the Elixir list */
  int n;
  int exists;
} model_log_t;

typedef struct model_limit_s {
  int key_kind; /* 0 user_id, 1 device_id */
  int64_t max, window;
} model_limit_t;

/* check_and_record/3: 0 ok, 1 refused (count and retry_after set). */
static int model_check(model_log_t *log, const model_limit_t *lim, int64_t now,
                       int64_t *count, int64_t *retry) {
  int64_t kept[MODEL_MAX + 1];
  int k = 0;

  if (!log->exists) {
    log->exists = 1;
    log->ts[0] = now;
    log->n = 1;
    return 0;
  }
  for (int i = 0; i < log->n; i++)
    if (log->ts[i] > now - lim->window)
      kept[k++] = log->ts[i];
  if (k >= lim->max) {
    *count = k;
    *retry = kept[k - 1] + lim->window - now;
    if (*retry < 0)
      *retry = 0;
    return 1;
  }
  log->ts[0] = now;
  for (int i = 0; i < k && i + 1 < lim->max; i++)
    log->ts[i + 1] = kept[i];
  log->n = k + 1 < lim->max ? k + 1 : (int)lim->max;
  return 0;
}

/* Random traffic over shared logs and two windows: the ring must make the
 * same decisions with the same numbers, request after request. */
START_TEST(limiter_matches_library_algorithm_on_random_traffic) {
  static const model_limit_t limits[] = {{0, 5, 50}, {1, 3, 20}, {0, 9, 200}};
  pga_request_limiter_t *l = limiter(
      "[%{key: :user_id, max_requests: 5, window_ms: 50}, "
      "%{key: :device_id, max_requests: 3, window_ms: 20}, "
      "%{key: :user_id, max_requests: 9, window_ms: 200}]",
      "[]", 0);
  model_log_t logs[2][MODEL_KEYS]; /* per key type (R6) */
  const char *names[MODEL_KEYS] = {"a", "b", "c", "d"};
  unsigned seed = 12345;
  int64_t now = 0;
  int refused = 0;

  memset(logs, 0, sizeof logs);
  for (int step = 0; step < 20000; step++) {
    int u, d, want = 0;
    int64_t count = 0, retry = 0;
    char text[128];
    pga_request_t r;
    pga_limit_info_t info;
    pga_limit_status_t st;

    seed = seed * 1103515245u + 12345u;
    now += (seed >> 16) % 7;
    u = (int)((seed >> 8) % MODEL_KEYS);
    d = (int)((seed >> 20) % MODEL_KEYS);
    snprintf(text, sizeof text, "%%{user_id: \"%s\", device_id: \"%s\", args: %%{}}",
             names[u], names[d]);
    r = req_of(text);
    for (size_t i = 0; i < 3 && !want; i++) {
      model_log_t *log = &logs[limits[i].key_kind][limits[i].key_kind == 0 ? u : d];

      want = model_check(log, &limits[i], now, &count, &retry);
    }
    st = pga_request_limiter_check(l, &r, now, NULL, &info);
    ck_assert_int_eq(st, want ? PGA_LIMIT_EXCEEDED : PGA_LIMIT_OK);
    if (want) {
      ck_assert_int_eq(info.current_requests, count);
      ck_assert_int_eq(info.retry_after_ms, retry);
      refused++;
    }
    if (step % 100 == 99)
      tt_reset();
  }
  ck_assert_int_gt(refused, 1000);
  pga_request_limiter_free(l);
  tt_reset();
}
END_TEST

/* A key hammered far past its limit stays small: the log holds at most
 * max_requests timestamps. */
START_TEST(limiter_heavy_key_stays_bounded) {
  pga_request_limiter_t *l =
      limiter("[%{key: :user_id, max_requests: 10, window_ms: 1000000}]", "[]",
              0);
  pga_request_t r = req_of(U123);
  pga_term_t v = T("\"user_123\""), g = T(":global");
  pga_tb_t *tb = pga_tb_new(0);

  for (int i = 0; i < 200000; i++)
    (void)pga_request_limiter_check(l, &r, i / 100, NULL, NULL);
  ck_assert_int_eq(pga_request_limiter_status(l, &v, &g, 2000, tb), 0);
  expect_term(tb, "[%{key: \"user_123\", max_requests: 10, current_requests: "
                  "10, remaining: 0, window_ms: 1000000, scope: :global}]");
  pga_tb_free(tb);
  pga_request_limiter_free(l);
  tt_reset();
}
END_TEST

/* Every BEAM-made term as a limit, a limit field, a key value, a scope
 * and a runtime API argument: a result, never a crash. */
START_TEST(limiter_any_term_never_crashes) {
  rf_terms_t terms;

  rf_load(&terms, 0);
  for (size_t i = 0; i < terms.n; i++) {
    pga_term_t x = terms.v[i], g = T(":global");
    pga_tb_t *list = pga_tb_new(0), *lim = pga_tb_new(0), *out = pga_tb_new(0);
    pga_request_limiter_t *l;
    pga_request_t r = req_of("%{user_id: \"u\", service: \"s\", "
                             "request_type: \"t\", args: %{}}");
    pga_limiter_opts_t o = {PGA_LIMITER_OPTS_VERSION, 0, (int)(i & 1),
                            {NULL, 0}, {NULL, 0}, 0};

    /* [x, %{key: "k", service: x, request_type: x, max_requests: x,
     * window_ms: x}] */
    pga_tb_list(list, 2);
    pga_tb_term(list, &x);
    pga_tb_map(list, 5);
    pga_tb_atom(list, "key");
    pga_tb_string(list, "k");
    pga_tb_atom(list, "service");
    pga_tb_term(list, &x);
    pga_tb_atom(list, "request_type");
    pga_tb_term(list, &x);
    pga_tb_atom(list, "max_requests");
    pga_tb_term(list, &x);
    pga_tb_atom(list, "window_ms");
    pga_tb_term(list, &x);
    pga_tb_nil(list);
    o.global_limits = pga_tb_data(list);
    o.api_limits = pga_tb_data(list);
    ck_assert_int_eq(pga_request_limiter_new(&o, &l), 0);
    r.service = x;
    r.request_type = x;
    (void)pga_request_limiter_check(l, &r, 0, out, NULL);
    r.args = x;
    r.user_id = x;
    (void)pga_request_limiter_check(l, &r, 1, out, NULL);
    pga_tb_reset(out);
    (void)pga_request_limiter_check_direct(l, &x, &g, &x, 2, out);
    pga_tb_reset(out);
    (void)pga_request_limiter_check_direct(l, &x, &x, &x, 2, out);
    pga_tb_reset(out);
    (void)pga_request_limiter_status(l, &x, &g, 3, out);
    pga_tb_reset(out);
    (void)pga_request_limiter_status(l, &x, &x, 3, out);
    pga_tb_reset(out);
    (void)pga_request_limiter_reset(l, &x, &x, out);
    pga_tb_tuple(lim, 2);
    pga_tb_term(lim, &x);
    pga_tb_term(lim, &x);
    {
      pga_term_t scope = pga_tb_data(lim);

      pga_tb_reset(out);
      (void)pga_request_limiter_status(l, &x, &scope, 3, out);
      pga_tb_reset(out);
      (void)pga_request_limiter_check_direct(l, &x, &scope, &x, 4, out);
    }
    pga_tb_reset(out);
    (void)pga_request_limiter_add_global(l, &x, out);
    pga_tb_reset(out);
    (void)pga_request_limiter_remove_global(l, &x, out);
    pga_tb_reset(out);
    (void)pga_request_limiter_set_global(l, &x, out);
    pga_tb_reset(out);
    (void)pga_request_limiter_update(l, &x, 1, 1, out);
    pga_tb_reset(out);
    pga_request_limiter_config(l, out);
    (void)pga_request_limiter_cleanup(l, 100000);
    pga_request_limiter_free(l);
    pga_tb_free(list);
    pga_tb_free(lim);
    pga_tb_free(out);
    tt_reset();
  }
  rf_free(&terms);
}
END_TEST

static Suite *limiter_suite(void) {
  Suite *s = suite_create("limiter");
  TCase *tc = tcase_create("limiter");

  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, limiter_global_limit_refuses_sixth);
  tcase_add_test(tc, limiter_missing_key_value_skips_limit);
  tcase_add_test(tc, limiter_api_limit_applies_to_its_function_only);
  tcase_add_test(tc, limiter_api_denial_keeps_global_records);
  tcase_add_test(tc, limiter_e5_text_uses_whole_seconds);
  tcase_add_test(tc, limiter_window_slides);
  tcase_add_test(tc, limiter_reset_deletes_the_log);
  tcase_add_test(tc, limiter_status_is_a_list);
  tcase_add_test(tc, limiter_concurrent_requests_respect_limit_exactly);
  tcase_add_test(tc, limiter_update_needs_admin_action);
  tcase_add_test(tc, limiter_runtime_limit_changes);
  tcase_add_test(tc, limiter_zero_max_passes_first_then_fails);
  tcase_add_test(tc, limiter_key_types_keep_separate_logs);
  tcase_add_test(tc, limiter_refusal_does_not_prune);
  tcase_add_test(tc, limiter_malformed_limit_fails_by_policy);
  tcase_add_test(tc, limiter_disabled_always_passes);
  tcase_add_test(tc, limiter_direct_check_applies_scope_limits);
  tcase_add_loop_test(tc, limiter_check_map_raises_as_the_library, 0,
                      sizeof raised_cases / sizeof *raised_cases);
  tcase_add_test(tc, limiter_check_map_keeps_slots_before_the_raise);
  tcase_add_test(tc, limiter_api_scope_splits_on_first_colons);
  tcase_add_test(tc, limiter_cleanup_drops_expired_logs);
  tcase_add_test(tc, limiter_full_table_fails_new_keys);
  tcase_add_test(tc, limiter_clock_going_back_is_clamped);
  tcase_add_test(tc, limiter_matches_library_algorithm_on_random_traffic);
  tcase_add_test(tc, limiter_heavy_key_stays_bounded);
  tcase_add_test(tc, limiter_any_term_never_crashes);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(limiter_suite)
