/* Unit tests for the request plane's worker pools and circuit breaker
 * (src/request/workpool.c; request-plane.md §9.4, ops-plane.md §4.7,
 * docs/compat.md R16, R24). Pools run without a loop here: queued tasks
 * start through pga__wp_pump(). */
#include <check.h>
#include <stdlib.h>

#include "request/workpool.h"
#include "check_main.h"

static int started[16];
static int nstarted;

static void record_start(pga__wp_task_t *t) { started[nstarted++] = t->state; }

static pga__wp_t *pool(unsigned size, unsigned queue, unsigned threshold) {
  pga__wp_opts_t o = {"async_pool", size, queue, threshold, 1000};
  pga__wp_t *p = pga__wp_new(&o, NULL, NULL);
  ck_assert_ptr_nonnull(p);
  nstarted = 0;
  return p;
}

static void status_is(pga__wp_t *p, uint64_t busy, uint64_t queued,
                      int open, uint64_t executed, uint64_t failed) {
  pga_pool_status_t st;
  pga__wp_status(p, &st);
  ck_assert_uint_eq(st.busy, busy);
  ck_assert_uint_eq(st.idle, st.size - busy);
  ck_assert_uint_eq(st.queued, queued);
  ck_assert_int_eq(st.circuit_open, open);
  ck_assert_uint_eq(st.executed, executed);
  ck_assert_uint_eq(st.failed, failed);
}

START_TEST(workpool_runs_queues_then_refuses) {
  pga__wp_t *p = pool(2, 1, 5);
  pga__wp_task_t t[4] = {{0}};
  for (int i = 0; i < 4; i++) t[i].start = record_start;

  ck_assert_int_eq(pga__wp_submit(p, &t[0], 0), PGA__WP_RUN);
  ck_assert_int_eq(pga__wp_submit(p, &t[1], 0), PGA__WP_RUN);
  ck_assert_int_eq(pga__wp_submit(p, &t[2], 0), PGA__WP_QUEUED);
  ck_assert_int_eq(pga__wp_submit(p, &t[3], 0), PGA__WP_FULL);
  status_is(p, 2, 1, 0, 0, 0);
  pga__wp_done(p, &t[0], NULL, NULL, 1);
  ck_assert_int_eq(nstarted, 0); /* never inside the call that freed */
  pga__wp_pump(p);
  ck_assert_int_eq(nstarted, 1);
  status_is(p, 2, 0, 0, 1, 0);
  pga__wp_done(p, &t[1], "error", "x", 2);
  pga__wp_done(p, &t[2], NULL, NULL, 3);
  status_is(p, 0, 0, 0, 3, 1);
  pga__wp_free(p);
}
END_TEST

START_TEST(workpool_cancel_leaves_queue_in_order) {
  pga__wp_t *p = pool(1, 3, 5);
  pga__wp_task_t t[4] = {{0}};
  for (int i = 0; i < 4; i++) t[i].start = record_start;

  for (int i = 0; i < 4; i++)
    ck_assert_int_eq(pga__wp_submit(p, &t[i], 0),
                     i == 0 ? PGA__WP_RUN : PGA__WP_QUEUED);
  pga__wp_cancel(p, &t[2]);
  status_is(p, 1, 2, 0, 0, 0);
  pga__wp_cancel(p, &t[0]); /* a running task goes without an outcome */
  pga__wp_pump(p);
  status_is(p, 1, 1, 0, 0, 0);
  pga__wp_done(p, &t[1], NULL, NULL, 0);
  pga__wp_pump(p);
  pga__wp_done(p, &t[3], NULL, NULL, 0);
  ck_assert_int_eq(nstarted, 2);
  status_is(p, 0, 0, 0, 2, 0);
  pga__wp_free(p);
}
END_TEST

/* Opens after `threshold` consecutive failures; refuses while open;
 * closes after the cooldown (strictly: open at opened + cooldown - 1). */
START_TEST(workpool_breaker_opens_and_closes_after_cooldown) {
  pga__wp_t *p = pool(10, 10, 3);
  pga__wp_task_t t[5] = {{0}};

  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(pga__wp_submit(p, &t[i], 100), PGA__WP_RUN);
    pga__wp_done(p, &t[i], i == 1 ? "timeout" : "error", "boom", 100);
  }
  status_is(p, 0, 0, 1, 3, 3);
  ck_assert_int_eq(pga__wp_submit(p, &t[3], 1099), PGA__WP_OPEN);
  ck_assert_int_eq(pga__wp_submit(p, &t[3], 1100), PGA__WP_RUN);
  status_is(p, 1, 0, 0, 3, 3);
  /* the count started again from zero */
  pga__wp_done(p, &t[3], "error", NULL, 1101);
  status_is(p, 0, 0, 0, 4, 4);
  pga__wp_free(p);
}
END_TEST

/* A success resets the count; a task admitted before the breaker opened
 * that then succeeds closes it. */
START_TEST(workpool_breaker_closes_on_next_success) {
  pga__wp_t *p = pool(10, 10, 2);
  pga__wp_task_t slow = {0}, t[3] = {{0}};

  ck_assert_int_eq(pga__wp_submit(p, &slow, 0), PGA__WP_RUN);
  ck_assert_int_eq(pga__wp_submit(p, &t[0], 0), PGA__WP_RUN);
  pga__wp_done(p, &t[0], "error", NULL, 0);
  ck_assert_int_eq(pga__wp_submit(p, &t[1], 0), PGA__WP_RUN);
  pga__wp_done(p, &t[1], NULL, NULL, 0); /* reset */
  ck_assert_int_eq(pga__wp_submit(p, &t[0], 0), PGA__WP_RUN);
  pga__wp_done(p, &t[0], "error", NULL, 0);
  status_is(p, 1, 0, 0, 3, 2);
  ck_assert_int_eq(pga__wp_submit(p, &t[1], 0), PGA__WP_RUN);
  pga__wp_done(p, &t[1], "error", NULL, 0);
  status_is(p, 1, 0, 1, 4, 3);
  ck_assert_int_eq(pga__wp_submit(p, &t[2], 5), PGA__WP_OPEN);
  pga__wp_done(p, &slow, NULL, NULL, 10);
  status_is(p, 0, 0, 0, 5, 3);
  ck_assert_int_eq(pga__wp_submit(p, &t[2], 11), PGA__WP_RUN);
  pga__wp_done(p, &t[2], NULL, NULL, 11);
  pga__wp_free(p);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("workpool");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, workpool_runs_queues_then_refuses);
  tcase_add_test(tc, workpool_cancel_leaves_queue_in_order);
  tcase_add_test(tc, workpool_breaker_opens_and_closes_after_cooldown);
  tcase_add_test(tc, workpool_breaker_closes_on_next_success);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(suite)
