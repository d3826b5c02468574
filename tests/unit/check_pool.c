/* Unit tests for src/base/pool.c: completions on the loop, the bounded
 * queue, and cancellation when the pool is freed. */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/loop.h"
#include "base/pool.h"
#include "pga/errno.h"
#include "check_main.h"

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static pga_loop_t *new_loop(void) {
  pga_loop_t *loop = NULL;

  ck_assert_int_eq(pga_loop_new(&loop), 0);
  return loop;
}

static pga_pool_t *new_pool(pga_loop_t *loop, unsigned threads, size_t max) {
  pga_pool_t *pool = NULL;

  ck_assert_int_eq(pga_pool_new(loop, threads, max, &pool), 0);
  ck_assert_ptr_nonnull(pool);
  return pool;
}

static int64_t stop_timer(pga_loop_t *loop, uint64_t id, void *data) {
  (void)id, (void)data;
  pga_loop_stop(loop);
  return PGA_TIMER_NOMORE;
}

/* Waits (briefly sleeping) until no work is queued or running. */
static void wait_idle(pga_pool_t *pool) {
  for (int i = 0; i < 5000 && pga_pool_pending(pool) != 0; i++)
    sleep_ms(1);
  ck_assert_uint_eq(pga_pool_pending(pool), 0);
}

/* One job's record: what ran, where, and with which status. */
struct job {
  atomic_int worked;
  int done_calls;
  int status;
  int order; /* position among done calls */
  pthread_t done_thread;
};

struct jobs {
  struct job *job;
  int n, ndone;
  int stop_at; /* stop the loop after this many done calls (0: never) */
  pga_loop_t *loop;
};

struct job_arg {
  struct jobs *js;
  int index;
};

static void mark_work(void *data) {
  struct job_arg *a = data;
  atomic_fetch_add(&a->js->job[a->index].worked, 1);
}

static void mark_done(void *data, int status) {
  struct job_arg *a = data;
  struct job *j = &a->js->job[a->index];

  j->done_calls++;
  j->status = status;
  j->order = a->js->ndone++;
  j->done_thread = pthread_self();
  if (a->js->ndone == a->js->stop_at)
    pga_loop_stop(a->js->loop);
}

static struct job_arg *make_jobs(struct jobs *js, pga_loop_t *loop, int n) {
  struct job_arg *args = calloc((size_t)n, sizeof *args);

  memset(js, 0, sizeof *js);
  js->job = calloc((size_t)n, sizeof *js->job);
  ck_assert_ptr_nonnull(args);
  ck_assert_ptr_nonnull(js->job);
  js->n = n;
  js->loop = loop;
  for (int i = 0; i < n; i++) {
    args[i].js = js;
    args[i].index = i;
  }
  return args;
}

static void free_jobs(struct jobs *js, struct job_arg *args) {
  free(js->job);
  free(args);
}

/* A job that blocks until released, saying when it has started. */
struct gate {
  sem_t started, release;
  int done_calls, status;
};

static void gate_work(void *data) {
  struct gate *g = data;

  sem_post(&g->started);
  sem_wait(&g->release);
}

static void gate_done(void *data, int status) {
  struct gate *g = data;

  g->done_calls++;
  g->status = status;
}

static void gate_init(struct gate *g) {
  ck_assert_int_eq(sem_init(&g->started, 0, 0), 0);
  ck_assert_int_eq(sem_init(&g->release, 0, 0), 0);
  g->done_calls = 0;
  g->status = 1;
}

static void gate_destroy(struct gate *g) {
  sem_destroy(&g->started);
  sem_destroy(&g->release);
}

START_TEST(pool_new_zero_threads_returns_einval) {
  pga_loop_t *loop = new_loop();
  pga_pool_t *pool = (pga_pool_t *)&pool;

  ck_assert_int_eq(pga_pool_new(loop, 0, 10, &pool), PGA_EINVAL);
  ck_assert_int_eq(pga_pool_new(NULL, 2, 10, &pool), PGA_EINVAL);
  pga_loop_free(loop);
}
END_TEST

START_TEST(pool_submit_null_work_returns_einval) {
  pga_loop_t *loop = new_loop();
  pga_pool_t *pool = new_pool(loop, 1, 10);

  ck_assert_int_eq(pga_pool_submit(pool, NULL, gate_done, NULL), PGA_EINVAL);
  ck_assert_uint_eq(pga_pool_pending(pool), 0);
  pga_pool_free(pool);
  pga_loop_free(loop);
}
END_TEST

START_TEST(pool_completions_run_once_each_on_loop_thread) {
  enum { N = 2000 };
  pga_loop_t *loop = new_loop();
  pga_pool_t *pool = new_pool(loop, 4, N);
  struct jobs js;
  struct job_arg *args = make_jobs(&js, loop, N);

  js.stop_at = N;
  for (int i = 0; i < N; i++)
    ck_assert_int_eq(pga_pool_submit(pool, mark_work, mark_done, &args[i]), 0);
  pga_loop_timer(loop, 20000, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(js.ndone, N);
  for (int i = 0; i < N; i++) {
    ck_assert_int_eq(atomic_load(&js.job[i].worked), 1);
    ck_assert_int_eq(js.job[i].done_calls, 1);
    ck_assert_int_eq(js.job[i].status, 0);
    ck_assert(pthread_equal(js.job[i].done_thread, pthread_self()));
  }
  ck_assert_uint_eq(pga_pool_pending(pool), 0);
  pga_pool_free(pool);
  free_jobs(&js, args);
  pga_loop_free(loop);
}
END_TEST

START_TEST(pool_single_thread_completes_in_submit_order) {
  enum { N = 200 };
  pga_loop_t *loop = new_loop();
  pga_pool_t *pool = new_pool(loop, 1, 0); /* 0: no queue limit */
  struct jobs js;
  struct job_arg *args = make_jobs(&js, loop, N);

  js.stop_at = N;
  for (int i = 0; i < N; i++)
    ck_assert_int_eq(pga_pool_submit(pool, mark_work, mark_done, &args[i]), 0);
  pga_loop_timer(loop, 20000, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  for (int i = 0; i < N; i++)
    ck_assert_int_eq(js.job[i].order, i);
  pga_pool_free(pool);
  free_jobs(&js, args);
  pga_loop_free(loop);
}
END_TEST

START_TEST(pool_submit_full_queue_returns_ebusy) {
  pga_loop_t *loop = new_loop();
  pga_pool_t *pool = new_pool(loop, 1, 2);
  struct gate g;
  struct jobs js;
  struct job_arg *args = make_jobs(&js, loop, 3);

  gate_init(&g);
  ck_assert_int_eq(pga_pool_submit(pool, gate_work, gate_done, &g), 0);
  sem_wait(&g.started); /* the only thread is now busy */
  ck_assert_int_eq(pga_pool_submit(pool, mark_work, mark_done, &args[0]), 0);
  ck_assert_int_eq(pga_pool_submit(pool, mark_work, mark_done, &args[1]), 0);
  ck_assert_int_eq(pga_pool_submit(pool, mark_work, mark_done, &args[2]),
                   PGA_EBUSY);
  ck_assert_uint_eq(pga_pool_pending(pool), 3);

  js.stop_at = 2;
  sem_post(&g.release);
  pga_loop_timer(loop, 5000, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(g.done_calls, 1);
  ck_assert_int_eq(js.job[0].done_calls, 1);
  ck_assert_int_eq(js.job[1].done_calls, 1);
  ck_assert_int_eq(js.job[2].done_calls, 0); /* refused: never runs */
  ck_assert_int_eq(atomic_load(&js.job[2].worked), 0);
  ck_assert_uint_eq(pga_pool_pending(pool), 0);
  pga_pool_free(pool);
  gate_destroy(&g);
  free_jobs(&js, args);
  pga_loop_free(loop);
}
END_TEST

START_TEST(pool_pending_counts_queued_and_running) {
  pga_loop_t *loop = new_loop();
  pga_pool_t *pool = new_pool(loop, 1, 10);
  struct gate g;
  struct jobs js;
  struct job_arg *args = make_jobs(&js, loop, 2);

  gate_init(&g);
  ck_assert_uint_eq(pga_pool_pending(pool), 0);
  ck_assert_int_eq(pga_pool_submit(pool, gate_work, gate_done, &g), 0);
  sem_wait(&g.started);
  ck_assert_uint_eq(pga_pool_pending(pool), 1);
  ck_assert_int_eq(pga_pool_submit(pool, mark_work, mark_done, &args[0]), 0);
  ck_assert_int_eq(pga_pool_submit(pool, mark_work, mark_done, &args[1]), 0);
  ck_assert_uint_eq(pga_pool_pending(pool), 3);
  sem_post(&g.release);
  wait_idle(pool);
  pga_pool_free(pool);
  gate_destroy(&g);
  free_jobs(&js, args);
  pga_loop_free(loop);
}
END_TEST

/* Cancelled jobs' done calls release the blocker, which proves they run
 * synchronously inside pga_pool_free before it waits for running work. */
struct cancel_ctx {
  struct gate *gate;
  int order[5], n;
  int status[5];
  int submit_rc;
  pga_pool_t *pool;
};

struct cancel_arg {
  struct cancel_ctx *c;
  int index;
};

static void never_work(void *data) {
  (void)data;
  abort(); /* cancelled work must not run */
}

static void cancelled_done(void *data, int status) {
  struct cancel_arg *a = data;
  struct cancel_ctx *c = a->c;

  c->status[a->index] = status;
  c->order[c->n++] = a->index;
  if (c->n == 1) {
    c->submit_rc = pga_pool_submit(c->pool, never_work, NULL, NULL);
    sem_post(&c->gate->release);
  }
}

START_TEST(pool_free_cancels_queued_work) {
  pga_loop_t *loop = new_loop();
  pga_pool_t *pool = new_pool(loop, 1, 10);
  struct gate g;
  struct cancel_ctx c;
  struct cancel_arg a[5];

  gate_init(&g);
  memset(&c, 0, sizeof c);
  c.gate = &g;
  c.pool = pool;
  ck_assert_int_eq(pga_pool_submit(pool, gate_work, gate_done, &g), 0);
  sem_wait(&g.started);
  for (int i = 0; i < 5; i++) {
    a[i].c = &c;
    a[i].index = i;
    ck_assert_int_eq(pga_pool_submit(pool, never_work, cancelled_done, &a[i]), 0);
  }
  pga_pool_free(pool);

  ck_assert_int_eq(c.n, 5);
  for (int i = 0; i < 5; i++) {
    ck_assert_int_eq(c.status[i], PGA_ECANCELED);
    ck_assert_int_eq(c.order[i], i);
  }
  ck_assert_int_eq(c.submit_rc, PGA_ECANCELED); /* submit during free */
  ck_assert_int_eq(g.done_calls, 1);            /* running work: done, 0 */
  ck_assert_int_eq(g.status, 0);
  gate_destroy(&g);
  pga_loop_free(loop);
}
END_TEST

struct slow {
  sem_t started;
  atomic_int finished;
  int done_calls, bad_status;
};

static void slow_work(void *data) {
  struct slow *s = data;

  sem_post(&s->started);
  sleep_ms(40);
  atomic_fetch_add(&s->finished, 1);
}

static void slow_done(void *data, int status) {
  struct slow *s = data;

  s->done_calls++;
  if (status != 0 || atomic_load(&s->finished) == 0)
    s->bad_status++;
}

START_TEST(pool_free_waits_for_running_work_and_delivers_done) {
  pga_loop_t *loop = new_loop();
  pga_pool_t *pool = new_pool(loop, 2, 10);
  struct slow s;

  memset(&s, 0, sizeof s);
  ck_assert_int_eq(sem_init(&s.started, 0, 0), 0);
  ck_assert_int_eq(pga_pool_submit(pool, slow_work, slow_done, &s), 0);
  ck_assert_int_eq(pga_pool_submit(pool, slow_work, slow_done, &s), 0);
  sem_wait(&s.started);
  sem_wait(&s.started);
  pga_pool_free(pool);
  ck_assert_int_eq(atomic_load(&s.finished), 2);
  ck_assert_int_eq(s.done_calls, 2);
  ck_assert_int_eq(s.bad_status, 0);
  sem_destroy(&s.started);
  pga_loop_free(loop);
}
END_TEST

START_TEST(pool_free_delivers_finished_undrained_work) {
  enum { N = 10 };
  pga_loop_t *loop = new_loop();
  pga_pool_t *pool = new_pool(loop, 2, N);
  struct jobs js;
  struct job_arg *args = make_jobs(&js, loop, N);

  for (int i = 0; i < N; i++)
    ck_assert_int_eq(pga_pool_submit(pool, mark_work, mark_done, &args[i]), 0);
  wait_idle(pool); /* all worked; the loop never ran to drain them */
  ck_assert_int_eq(js.ndone, 0);
  pga_pool_free(pool);
  ck_assert_int_eq(js.ndone, N);
  for (int i = 0; i < N; i++) {
    ck_assert_int_eq(js.job[i].done_calls, 1);
    ck_assert_int_eq(js.job[i].status, 0);
  }
  pga_loop_free(loop); /* drops the stale drain post: valgrind-clean */
  free_jobs(&js, args);
}
END_TEST

START_TEST(pool_drain_after_free_is_noop) {
  enum { N = 10 };
  pga_loop_t *loop = new_loop();
  pga_pool_t *pool = new_pool(loop, 2, N);
  struct jobs js;
  struct job_arg *args = make_jobs(&js, loop, N);

  for (int i = 0; i < N; i++)
    ck_assert_int_eq(pga_pool_submit(pool, mark_work, mark_done, &args[i]), 0);
  wait_idle(pool);
  pga_pool_free(pool);
  /* The drain post queued by the workers now runs against a freed pool. */
  pga_loop_timer(loop, 20, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(js.ndone, N);
  for (int i = 0; i < N; i++)
    ck_assert_int_eq(js.job[i].done_calls, 1);
  free_jobs(&js, args);
  pga_loop_free(loop);
}
END_TEST

/* A done callback that frees its own pool: every job still gets exactly
 * one done call (0, or PGA_ECANCELED if it never started). */
struct self_free {
  pga_pool_t *pool;
  int calls[50];
  int total, freed;
};

struct self_free_arg {
  struct self_free *s;
  int index;
};

static void noop_work(void *data) {
  (void)data;
  sleep_ms(1);
}

static void free_pool_done(void *data, int status) {
  struct self_free_arg *a = data;
  struct self_free *s = a->s;

  (void)status;
  s->calls[a->index]++;
  s->total++;
  if (!s->freed) {
    s->freed = 1;
    pga_pool_free(s->pool);
  }
}

START_TEST(pool_done_may_free_its_pool) {
  pga_loop_t *loop = new_loop();
  struct self_free s;
  struct self_free_arg a[50];

  memset(&s, 0, sizeof s);
  s.pool = new_pool(loop, 2, 50);
  for (int i = 0; i < 50; i++) {
    a[i].s = &s;
    a[i].index = i;
    ck_assert_int_eq(pga_pool_submit(s.pool, noop_work, free_pool_done, &a[i]), 0);
  }
  pga_loop_timer(loop, 500, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(s.freed, 1);
  ck_assert_int_eq(s.total, 50);
  for (int i = 0; i < 50; i++)
    ck_assert_int_eq(s.calls[i], 1);
  pga_loop_free(loop);
}
END_TEST

START_TEST(pool_two_pools_share_one_loop) {
  enum { N = 100 };
  pga_loop_t *loop = new_loop();
  pga_pool_t *p1 = new_pool(loop, 2, N), *p2 = new_pool(loop, 3, N);
  struct jobs js;
  struct job_arg *args = make_jobs(&js, loop, 2 * N);

  js.stop_at = 2 * N;
  for (int i = 0; i < N; i++) {
    ck_assert_int_eq(pga_pool_submit(p1, mark_work, mark_done, &args[i]), 0);
    ck_assert_int_eq(pga_pool_submit(p2, mark_work, mark_done, &args[N + i]), 0);
  }
  pga_loop_timer(loop, 10000, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(js.ndone, 2 * N);
  for (int i = 0; i < 2 * N; i++)
    ck_assert_int_eq(js.job[i].done_calls, 1);
  pga_pool_free(p2);
  pga_pool_free(p1);
  free_jobs(&js, args);
  pga_loop_free(loop);
}
END_TEST

static Suite *pool_suite(void) {
  Suite *s = suite_create("pool");
  TCase *tc = tcase_create("core");

  /* Thread-heavy: generous under valgrind. */
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, pool_new_zero_threads_returns_einval);
  tcase_add_test(tc, pool_submit_null_work_returns_einval);
  tcase_add_test(tc, pool_completions_run_once_each_on_loop_thread);
  tcase_add_test(tc, pool_single_thread_completes_in_submit_order);
  tcase_add_test(tc, pool_submit_full_queue_returns_ebusy);
  tcase_add_test(tc, pool_pending_counts_queued_and_running);
  tcase_add_test(tc, pool_free_cancels_queued_work);
  tcase_add_test(tc, pool_free_waits_for_running_work_and_delivers_done);
  tcase_add_test(tc, pool_free_delivers_finished_undrained_work);
  tcase_add_test(tc, pool_drain_after_free_is_noop);
  tcase_add_test(tc, pool_done_may_free_its_pool);
  tcase_add_test(tc, pool_two_pools_share_one_loop);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(pool_suite)
