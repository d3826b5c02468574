/* Unit tests for src/base/loop.c: timers, fd readiness, posts, stop. */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/loop.h"
#include "pga/errno.h"
#include "check_main.h"

static pga_loop_t *new_loop(void) {
  pga_loop_t *loop = NULL;

  ck_assert_int_eq(pga_loop_new(&loop), 0);
  ck_assert_ptr_nonnull(loop);
  return loop;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void make_pipe(int p[2]) { ck_assert_int_eq(pipe(p), 0); }

static void close_pipe(const int p[2]) {
  close(p[0]);
  close(p[1]);
}

/* A timer that stops the loop: the safety net for tests that would
 * otherwise hang when the behaviour under test is broken. */
static int64_t stop_timer(pga_loop_t *loop, uint64_t id, void *data) {
  (void)id, (void)data;
  pga_loop_stop(loop);
  return PGA_TIMER_NOMORE;
}

static void stop_post(pga_loop_t *loop, void *data) {
  (void)data;
  pga_loop_stop(loop);
}

/* ---- Timers ----------------------------------------------------------- */

struct order {
  int fired[16];
  int n;
  int stop_at; /* stop the loop after this many */
};

struct order_arg {
  struct order *o;
  int index;
};

static int64_t record_timer(pga_loop_t *loop, uint64_t id, void *data) {
  struct order_arg *a = data;

  (void)id;
  a->o->fired[a->o->n++] = a->index;
  if (a->o->n == a->o->stop_at)
    pga_loop_stop(loop);
  return PGA_TIMER_NOMORE;
}

START_TEST(loop_new_then_free_succeeds) {
  pga_loop_t *loop = new_loop();

  pga_loop_free(loop);
  pga_loop_free(NULL);
}
END_TEST

START_TEST(timer_delays_fire_in_deadline_order) {
  pga_loop_t *loop = new_loop();
  struct order o = {.stop_at = 3};
  struct order_arg a[3] = {{&o, 30}, {&o, 10}, {&o, 20}};

  for (int i = 0; i < 3; i++)
    ck_assert_uint_ne(pga_loop_timer(loop, a[i].index, record_timer, &a[i]), 0);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(o.n, 3);
  ck_assert_int_eq(o.fired[0], 10);
  ck_assert_int_eq(o.fired[1], 20);
  ck_assert_int_eq(o.fired[2], 30);
  pga_loop_free(loop);
}
END_TEST

struct same_deadline {
  struct order o;
  struct order_arg a[8];
};

/* Armed from a callback so all eight share the iteration's cached time
 * and hence one deadline. */
static void arm_same_deadline(pga_loop_t *loop, void *data) {
  struct same_deadline *s = data;

  for (int i = 0; i < 8; i++) {
    s->a[i].o = &s->o;
    s->a[i].index = i;
    ck_assert_uint_ne(pga_loop_timer(loop, 5, record_timer, &s->a[i]), 0);
  }
}

START_TEST(timer_equal_deadlines_fire_in_creation_order) {
  pga_loop_t *loop = new_loop();
  struct same_deadline s = {.o = {.stop_at = 8}};

  ck_assert_int_eq(pga_loop_post(loop, arm_same_deadline, &s), 0);
  pga_loop_timer(loop, 2000, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(s.o.n, 8);
  for (int i = 0; i < 8; i++)
    ck_assert_int_eq(s.o.fired[i], i);
  pga_loop_free(loop);
}
END_TEST

static int64_t count_timer(pga_loop_t *loop, uint64_t id, void *data) {
  (void)loop, (void)id;
  (*(int *)data)++;
  return PGA_TIMER_NOMORE;
}

START_TEST(timer_cancel_before_fire_never_runs) {
  pga_loop_t *loop = new_loop();
  int count = 0;

  uint64_t id = pga_loop_timer(loop, 5, count_timer, &count);
  ck_assert_uint_ne(id, 0);
  pga_loop_timer_cancel(loop, id);
  pga_loop_timer(loop, 30, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(count, 0);
  pga_loop_free(loop);
}
END_TEST

/* Fires three times, then ends and stops the loop a little later, so a
 * fourth (wrong) firing would still be seen. The stop is armed only now,
 * so a stalled machine cannot stop the loop before the third firing. */
static int64_t rearm_thrice(pga_loop_t *loop, uint64_t id, void *data) {
  int *count = data;

  (void)id;
  if (++*count < 3)
    return 1;
  pga_loop_timer(loop, 20, stop_timer, NULL);
  return PGA_TIMER_NOMORE;
}

static int64_t busy_30ms(pga_loop_t *loop, uint64_t id, void *data) {
  struct timespec ts = {0, 30 * 1000 * 1000};
  nanosleep(&ts, NULL);
  return PGA_TIMER_NOMORE;
}

/* The longest iteration is reported once, then a new window starts; an
 * iteration counts when the next one begins (the last one, cut short by
 * the stop, never does). Only lower bounds: a slow machine makes
 * iterations longer, never shorter. */
START_TEST(loop_busy_max_reports_longest_iteration_once) {
  pga_loop_t *loop = new_loop();

  pga_loop_timer(loop, 0, busy_30ms, NULL);
  pga_loop_timer(loop, 50, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_uint_ge(pga_loop_busy_max_us(loop), 30000);
  ck_assert_uint_eq(pga_loop_busy_max_us(loop), 0);
  pga_loop_free(loop);
}
END_TEST

/* Spins until this thread has used 20 ms of CPU. */
static int64_t spin_20ms_cpu(pga_loop_t *loop, uint64_t id, void *data) {
  struct timespec t0, t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
  do {
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  } while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) <
           20000000L);
  return PGA_TIMER_NOMORE;
}

/* On-CPU time per iteration is measured only when asked for by the
 * environment, and then reported once like the wall time. */
START_TEST(loop_busy_cpu_max_is_opt_in) {
  uint64_t us = 1;
  unsetenv("PGA_LOOP_CPU_STATS");
  pga_loop_t *loop = new_loop();
  ck_assert_int_eq(pga_loop_busy_cpu_max_us(loop, &us), PGA_ENOTFOUND);
  pga_loop_free(loop);

  setenv("PGA_LOOP_CPU_STATS", "1", 1);
  loop = new_loop();
  unsetenv("PGA_LOOP_CPU_STATS");
  pga_loop_timer(loop, 0, spin_20ms_cpu, NULL);
  pga_loop_timer(loop, 50, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(pga_loop_busy_cpu_max_us(loop, &us), 0);
  ck_assert_uint_ge(us, 20000);
  ck_assert_int_eq(pga_loop_busy_cpu_max_us(loop, &us), 0);
  ck_assert_uint_eq(us, 0);
  pga_loop_free(loop);
}
END_TEST

START_TEST(timer_returning_delay_rearms_until_nomore) {
  pga_loop_t *loop = new_loop();
  int count = 0;

  pga_loop_timer(loop, 1, rearm_thrice, &count);
  pga_loop_timer(loop, 5000, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(count, 3);
  pga_loop_free(loop);
}
END_TEST

static int64_t cancel_self(pga_loop_t *loop, uint64_t id, void *data) {
  (*(int *)data)++;
  pga_loop_timer_cancel(loop, id);
  return 1; /* asks to re-arm; the cancel must win */
}

START_TEST(timer_cancel_self_in_callback_does_not_rearm) {
  pga_loop_t *loop = new_loop();
  int count = 0;

  pga_loop_timer(loop, 1, cancel_self, &count);
  pga_loop_timer(loop, 40, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(count, 1);
  pga_loop_free(loop);
}
END_TEST

/* Cancels itself, then arms a new timer that takes over the freed slot;
 * the old timer's "re-arm" return must not touch the new one. */
struct reuse {
  int first, second;
};

static int64_t second_timer(pga_loop_t *loop, uint64_t id, void *data) {
  (void)id;
  ((struct reuse *)data)->second++;
  pga_loop_timer(loop, 20, stop_timer, NULL); /* time for a wrong re-fire */
  return PGA_TIMER_NOMORE;
}

static int64_t cancel_self_and_rearm_other(pga_loop_t *loop, uint64_t id,
                                           void *data) {
  struct reuse *r = data;

  r->first++;
  pga_loop_timer_cancel(loop, id);
  uint64_t other = pga_loop_timer(loop, 10, second_timer, r);
  ck_assert_uint_ne(other, id);
  ck_assert_uint_eq((uint32_t)other, (uint32_t)id); /* the same slot */
  return 1;
}

START_TEST(timer_cancel_self_then_new_timer_keeps_new_timer) {
  pga_loop_t *loop = new_loop();
  struct reuse r = {0, 0};

  pga_loop_timer(loop, 1, cancel_self_and_rearm_other, &r);
  pga_loop_timer(loop, 5000, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(r.first, 1);
  ck_assert_int_eq(r.second, 1);
  pga_loop_free(loop);
}
END_TEST

struct pair {
  uint64_t victim;
  int first_count, victim_count;
};

static int64_t cancel_victim(pga_loop_t *loop, uint64_t id, void *data) {
  struct pair *p = data;

  (void)id;
  p->first_count++;
  pga_loop_timer_cancel(loop, p->victim);
  return PGA_TIMER_NOMORE;
}

static int64_t victim_timer(pga_loop_t *loop, uint64_t id, void *data) {
  (void)loop, (void)id;
  ((struct pair *)data)->victim_count++;
  return PGA_TIMER_NOMORE;
}

static void arm_pair(pga_loop_t *loop, void *data) {
  struct pair *p = data;

  pga_loop_timer(loop, 1, cancel_victim, p);
  p->victim = pga_loop_timer(loop, 1, victim_timer, p);
}

START_TEST(timer_cancel_other_due_timer_in_callback_skips_it) {
  pga_loop_t *loop = new_loop();
  struct pair p = {0, 0, 0};

  ck_assert_int_eq(pga_loop_post(loop, arm_pair, &p), 0);
  pga_loop_timer(loop, 30, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(p.first_count, 1);
  ck_assert_int_eq(p.victim_count, 0);
  pga_loop_free(loop);
}
END_TEST

static int64_t rearm_zero(pga_loop_t *loop, uint64_t id, void *data) {
  int *count = data;

  (void)id;
  if (++*count == 1)
    ck_assert_int_eq(pga_loop_post(loop, stop_post, NULL), 0);
  return 0;
}

START_TEST(timer_rearm_zero_fires_once_per_iteration) {
  pga_loop_t *loop = new_loop();
  int count = 0;

  /* If a 0 ms re-arm ran again in the same pass, the loop would spin in
   * the timer phase and never reach the stop post. */
  pga_loop_timer(loop, 0, rearm_zero, &count);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(count, 1);
  pga_loop_free(loop);
}
END_TEST

START_TEST(timer_stale_id_cancel_keeps_new_timer) {
  pga_loop_t *loop = new_loop();
  int count = 0;

  uint64_t old = pga_loop_timer(loop, 5, count_timer, &count);
  pga_loop_timer_cancel(loop, old);
  uint64_t fresh = pga_loop_timer(loop, 5, count_timer, &count);
  ck_assert_uint_ne(fresh, old);
  pga_loop_timer_cancel(loop, old); /* dead id: must not hit fresh */
  pga_loop_timer(loop, 40, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(count, 1);
  pga_loop_free(loop);
}
END_TEST

START_TEST(timer_cancel_unknown_id_is_ignored) {
  pga_loop_t *loop = new_loop();
  int count = 0;

  uint64_t id = pga_loop_timer(loop, 1, count_timer, &count);
  pga_loop_timer_cancel(loop, 0);
  pga_loop_timer_cancel(loop, UINT64_MAX);
  pga_loop_timer_cancel(loop, id + 1);
  pga_loop_timer_cancel(loop, id ^ ((uint64_t)1 << 40));
  pga_loop_timer(loop, 30, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(count, 1);
  pga_loop_timer_cancel(loop, id); /* fired and dead */
  pga_loop_free(loop);
}
END_TEST

START_TEST(timer_ids_are_positive_and_distinct) {
  pga_loop_t *loop = new_loop();
  uint64_t ids[200];
  int count = 0;

  for (int i = 0; i < 200; i++) {
    ids[i] = pga_loop_timer(loop, 1000, count_timer, &count);
    ck_assert_uint_gt(ids[i], 0);
    for (int j = 0; j < i; j++)
      ck_assert_uint_ne(ids[i], ids[j]);
  }
  for (int i = 0; i < 200; i++)
    pga_loop_timer_cancel(loop, ids[i]);
  ck_assert_uint_eq(pga_loop_timer(loop, 1, NULL, NULL), 0); /* no cb */
  pga_loop_free(loop);
  ck_assert_int_eq(count, 0);
}
END_TEST

/* 10,000 timers with random delays, a third cancelled: the rest must fire
 * sorted by (delay, creation). */
enum { MANY = 10000 };

struct many {
  int delay[MANY];
  int cancelled[MANY];
  uint64_t id[MANY];
  int fired[MANY];
  int nfired, expected;
  int args[MANY];
};

static struct many *many_ctx;

static int64_t many_timer(pga_loop_t *loop, uint64_t id, void *data) {
  struct many *m = many_ctx;

  (void)id;
  m->fired[m->nfired++] = *(int *)data;
  if (m->nfired == m->expected)
    pga_loop_stop(loop);
  return PGA_TIMER_NOMORE;
}

static void arm_many(pga_loop_t *loop, void *data) {
  struct many *m = data;
  uint32_t rng = 12345;

  for (int i = 0; i < MANY; i++) {
    rng = rng * 1103515245u + 12345u;
    m->delay[i] = (int)((rng >> 16) % 30);
    m->args[i] = i;
    m->id[i] = pga_loop_timer(loop, m->delay[i], many_timer, &m->args[i]);
    ck_assert_uint_ne(m->id[i], 0);
  }
  m->expected = MANY;
  for (int i = 0; i < MANY; i += 3) {
    pga_loop_timer_cancel(loop, m->id[i]);
    m->cancelled[i] = 1;
    m->expected--;
  }
}

static int cmp_delay_then_index(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  int dx = many_ctx->delay[x], dy = many_ctx->delay[y];

  return dx != dy ? (dx > dy) - (dx < dy) : (x > y) - (x < y);
}

START_TEST(timer_ten_thousand_fire_in_order_with_cancels) {
  pga_loop_t *loop = new_loop();
  struct many *m = calloc(1, sizeof *m);
  int *want = malloc(MANY * sizeof *want);
  int n = 0;

  ck_assert_ptr_nonnull(m);
  ck_assert_ptr_nonnull(want);
  many_ctx = m;
  ck_assert_int_eq(pga_loop_post(loop, arm_many, m), 0);
  pga_loop_timer(loop, 3000, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);

  for (int i = 0; i < MANY; i++)
    if (!m->cancelled[i])
      want[n++] = i;
  qsort(want, (size_t)n, sizeof *want, cmp_delay_then_index);
  ck_assert_int_eq(m->nfired, n);
  for (int i = 0; i < n; i++)
    ck_assert_int_eq(m->fired[i], want[i]);
  free(want);
  free(m);
  pga_loop_free(loop);
}
END_TEST

START_TEST(timer_wait_bounded_by_nearest_timer) {
  pga_loop_t *loop = new_loop();
  uint64_t start = pga_clock_ms();

  pga_loop_timer(loop, 50, stop_timer, NULL);
  pga_loop_timer(loop, 5000, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  uint64_t took = pga_clock_ms() - start;
  ck_assert_uint_ge(took, 50);
  ck_assert_uint_lt(took, 1000);
  pga_loop_free(loop);
}
END_TEST

static int64_t check_cached_now(pga_loop_t *loop, uint64_t id, void *data) {
  uint64_t before = pga_loop_now(loop);

  (void)id, (void)data;
  sleep_ms(20);
  ck_assert_uint_eq(pga_loop_now(loop), before);
  ck_assert_uint_ge(pga_clock_ms(), before + 20);
  pga_loop_stop(loop);
  return PGA_TIMER_NOMORE;
}

START_TEST(loop_now_is_cached_within_iteration) {
  pga_loop_t *loop = new_loop();

  pga_loop_timer(loop, 1, check_cached_now, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  pga_loop_free(loop);
}
END_TEST

/* ---- File descriptors ------------------------------------------------- */

struct io_seen {
  int count, fd, events;
  void *data;
};

static void record_io(pga_loop_t *loop, int fd, int events, void *data) {
  struct io_seen *s = data;

  s->count++;
  s->fd = fd;
  s->events = events;
  s->data = data;
  pga_loop_stop(loop);
}

START_TEST(io_pipe_readable_invokes_callback) {
  pga_loop_t *loop = new_loop();
  struct io_seen s = {0, -1, 0, NULL};
  int p[2];

  make_pipe(p);
  ck_assert_int_eq(write(p[1], "x", 1), 1);
  ck_assert_int_eq(pga_loop_watch(loop, p[0], PGA_READABLE, record_io, &s), 0);
  pga_loop_timer(loop, 2000, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(s.count, 1);
  ck_assert_int_eq(s.fd, p[0]);
  ck_assert_int_eq(s.events, PGA_READABLE);
  ck_assert_ptr_eq(s.data, &s);
  pga_loop_unwatch(loop, p[0]);
  close_pipe(p);
  pga_loop_free(loop);
}
END_TEST

START_TEST(io_socketpair_writable_invokes_callback) {
  pga_loop_t *loop = new_loop();
  struct io_seen s = {0, -1, 0, NULL};
  int sv[2];

  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  ck_assert_int_eq(
      pga_loop_watch(loop, sv[0], PGA_READABLE | PGA_WRITABLE, record_io, &s),
      0);
  pga_loop_timer(loop, 2000, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(s.count, 1);
  ck_assert_int_eq(s.events, PGA_WRITABLE); /* nothing to read yet */
  pga_loop_unwatch(loop, sv[0]);
  close_pipe(sv);
  pga_loop_free(loop);
}
END_TEST

START_TEST(io_socketpair_data_reported_readable) {
  pga_loop_t *loop = new_loop();
  struct io_seen s = {0, -1, 0, NULL};
  int sv[2];
  char c;

  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  ck_assert_int_eq(write(sv[1], "y", 1), 1);
  ck_assert_int_eq(pga_loop_watch(loop, sv[0], PGA_READABLE, record_io, &s), 0);
  pga_loop_timer(loop, 2000, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(s.count, 1);
  ck_assert_int_eq(s.events, PGA_READABLE);
  ck_assert_int_eq(read(sv[0], &c, 1), 1);
  ck_assert_int_eq(c, 'y');
  pga_loop_unwatch(loop, sv[0]);
  close_pipe(sv);
  pga_loop_free(loop);
}
END_TEST

START_TEST(io_hangup_reported_as_readable) {
  pga_loop_t *loop = new_loop();
  struct io_seen s = {0, -1, 0, NULL};
  int p[2];
  char c;

  make_pipe(p);
  close(p[1]);
  ck_assert_int_eq(pga_loop_watch(loop, p[0], PGA_READABLE, record_io, &s), 0);
  pga_loop_timer(loop, 2000, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(s.count, 1);
  ck_assert_int_eq(s.events, PGA_READABLE);
  ck_assert_int_eq(read(p[0], &c, 1), 0);
  pga_loop_unwatch(loop, p[0]);
  close(p[0]);
  pga_loop_free(loop);
}
END_TEST

START_TEST(io_error_reported_to_writable_only_watcher) {
  pga_loop_t *loop = new_loop();
  struct io_seen s = {0, -1, 0, NULL};
  int p[2];

  make_pipe(p);
  close(p[0]); /* writes would now fail with EPIPE */
  ck_assert_int_eq(pga_loop_watch(loop, p[1], PGA_WRITABLE, record_io, &s), 0);
  pga_loop_timer(loop, 2000, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(s.count, 1);
  ck_assert_int_eq(s.events, PGA_WRITABLE);
  pga_loop_unwatch(loop, p[1]);
  close(p[1]);
  pga_loop_free(loop);
}
END_TEST

struct idle {
  int fd;
  struct io_seen seen;
  int checked;
};

static int64_t wake_idle(pga_loop_t *loop, uint64_t id, void *data) {
  struct idle *t = data;

  (void)id;
  ck_assert_int_eq(t->seen.count, 0); /* mask 0: nothing delivered */
  t->checked = 1;
  ck_assert_int_eq(
      pga_loop_watch(loop, t->fd, PGA_READABLE, record_io, &t->seen), 0);
  return PGA_TIMER_NOMORE;
}

START_TEST(io_mask_zero_is_idle_until_rewatched) {
  pga_loop_t *loop = new_loop();
  struct idle t = {-1, {0, -1, 0, NULL}, 0};
  int p[2];

  make_pipe(p);
  t.fd = p[0];
  ck_assert_int_eq(write(p[1], "x", 1), 1);
  ck_assert_int_eq(pga_loop_watch(loop, p[0], 0, record_io, &t.seen), 0);
  pga_loop_timer(loop, 30, wake_idle, &t);
  pga_loop_timer(loop, 2000, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(t.checked, 1);
  ck_assert_int_eq(t.seen.count, 1);
  ck_assert_int_eq(t.seen.events, PGA_READABLE);
  pga_loop_unwatch(loop, p[0]);
  close_pipe(p);
  pga_loop_free(loop);
}
END_TEST

/* Two readable pipes reported by the same wait: whichever callback runs
 * first unwatches the other, whose event must then be dropped. */
struct two {
  int fd[2];
  int calls;
};

static void unwatch_both(pga_loop_t *loop, int fd, int events, void *data) {
  struct two *t = data;

  (void)fd, (void)events;
  t->calls++;
  pga_loop_unwatch(loop, t->fd[0]);
  pga_loop_unwatch(loop, t->fd[1]);
  pga_loop_stop(loop);
}

START_TEST(io_unwatch_in_callback_drops_pending_event) {
  pga_loop_t *loop = new_loop();
  int a[2], b[2];
  struct two t;

  make_pipe(a);
  make_pipe(b);
  ck_assert_int_eq(write(a[1], "x", 1), 1);
  ck_assert_int_eq(write(b[1], "x", 1), 1);
  t.fd[0] = a[0];
  t.fd[1] = b[0];
  t.calls = 0;
  ck_assert_int_eq(pga_loop_watch(loop, a[0], PGA_READABLE, unwatch_both, &t), 0);
  ck_assert_int_eq(pga_loop_watch(loop, b[0], PGA_READABLE, unwatch_both, &t), 0);
  pga_loop_timer(loop, 2000, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(t.calls, 1);
  close_pipe(a);
  close_pipe(b);
  pga_loop_free(loop);
}
END_TEST

/* As above, but the callback also closes the other fd and opens a new
 * pipe that gets the same number: the stale event must not reach the new
 * watcher (the "accept reuses the fd I just closed" case). */
struct reused {
  int fd[2];
  int calls, stale_calls;
  int closed_fd, new_pipe[2];
};

static void stale_io(pga_loop_t *loop, int fd, int events, void *data) {
  (void)loop, (void)fd, (void)events;
  ((struct reused *)data)->stale_calls++;
}

static void close_and_reuse(pga_loop_t *loop, int fd, int events, void *data) {
  struct reused *r = data;
  int other = fd == r->fd[0] ? r->fd[1] : r->fd[0];

  (void)events;
  r->calls++;
  pga_loop_unwatch(loop, fd);
  pga_loop_unwatch(loop, other);
  close(other);
  r->closed_fd = other;
  ck_assert_int_eq(pipe(r->new_pipe), 0);
  ck_assert_int_eq(
      pga_loop_watch(loop, r->new_pipe[0], PGA_READABLE, stale_io, r), 0);
  pga_loop_stop(loop);
}

START_TEST(io_fd_reused_in_same_iteration_gets_no_stale_event) {
  pga_loop_t *loop = new_loop();
  int a[2], b[2];
  struct reused r = {{-1, -1}, 0, 0, -1, {-1, -1}};

  make_pipe(a);
  make_pipe(b);
  ck_assert_int_eq(write(a[1], "x", 1), 1);
  ck_assert_int_eq(write(b[1], "x", 1), 1);
  r.fd[0] = a[0];
  r.fd[1] = b[0];
  ck_assert_int_eq(pga_loop_watch(loop, a[0], PGA_READABLE, close_and_reuse, &r), 0);
  ck_assert_int_eq(pga_loop_watch(loop, b[0], PGA_READABLE, close_and_reuse, &r), 0);
  pga_loop_timer(loop, 2000, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.new_pipe[0], r.closed_fd); /* the number was reused */
  ck_assert_int_eq(r.stale_calls, 0);
  pga_loop_unwatch(loop, r.new_pipe[0]);
  close_pipe(r.new_pipe);
  close(a[1]);
  close(b[1]);
  close(r.closed_fd == a[0] ? b[0] : a[0]);
  pga_loop_free(loop);
}
END_TEST

START_TEST(io_watch_invalid_args_returns_einval) {
  pga_loop_t *loop = new_loop();
  int p[2];

  make_pipe(p);
  ck_assert_int_eq(pga_loop_watch(loop, -1, PGA_READABLE, record_io, NULL),
                   PGA_EINVAL);
  ck_assert_int_eq(pga_loop_watch(loop, p[0], PGA_READABLE, NULL, NULL),
                   PGA_EINVAL);
  close_pipe(p);
  pga_loop_free(loop);
}
END_TEST

START_TEST(io_watch_closed_fd_returns_esys) {
  pga_loop_t *loop = new_loop();
  int p[2];

  make_pipe(p);
  close_pipe(p);
  ck_assert_int_eq(pga_loop_watch(loop, p[0], PGA_READABLE, record_io, NULL),
                   PGA_ESYS);
  pga_loop_unwatch(loop, p[0]); /* was never watched: no-op */
  pga_loop_free(loop);
}
END_TEST

START_TEST(io_unwatch_unknown_fd_is_noop) {
  pga_loop_t *loop = new_loop();

  pga_loop_unwatch(loop, -1);
  pga_loop_unwatch(loop, 0);
  pga_loop_unwatch(loop, 100000);
  pga_loop_timer(loop, 1, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0); /* the wake fd still works */
  pga_loop_free(loop);
}
END_TEST

START_TEST(io_high_fd_grows_table) {
  pga_loop_t *loop = new_loop();
  struct io_seen s = {0, -1, 0, NULL};
  int p[2];
  const int high = 700;

  make_pipe(p);
  ck_assert_int_eq(dup2(p[0], high), high);
  ck_assert_int_eq(write(p[1], "x", 1), 1);
  ck_assert_int_eq(pga_loop_watch(loop, high, PGA_READABLE, record_io, &s), 0);
  pga_loop_timer(loop, 2000, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(s.count, 1);
  ck_assert_int_eq(s.fd, high);
  pga_loop_unwatch(loop, high);
  close(high);
  close_pipe(p);
  pga_loop_free(loop);
}
END_TEST

/* ---- Posts, stop, before-sleep ---------------------------------------- */

struct fifo {
  int seen[100];
  int n;
  pthread_t loop_thread;
  int wrong_thread;
};

struct fifo_arg {
  struct fifo *f;
  int index;
};

static void record_post(pga_loop_t *loop, void *data) {
  struct fifo_arg *a = data;

  if (!pthread_equal(pthread_self(), a->f->loop_thread))
    a->f->wrong_thread = 1;
  a->f->seen[a->f->n++] = a->index;
  if (a->f->n == 100)
    pga_loop_stop(loop);
}

START_TEST(post_runs_in_fifo_order_on_loop_thread) {
  pga_loop_t *loop = new_loop();
  struct fifo f = {.n = 0, .loop_thread = pthread_self()};
  struct fifo_arg a[100];

  for (int i = 0; i < 100; i++) {
    a[i].f = &f;
    a[i].index = i;
    ck_assert_int_eq(pga_loop_post(loop, record_post, &a[i]), 0);
  }
  pga_loop_timer(loop, 2000, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(f.n, 100);
  ck_assert_int_eq(f.wrong_thread, 0);
  for (int i = 0; i < 100; i++)
    ck_assert_int_eq(f.seen[i], i);
  pga_loop_free(loop);
}
END_TEST

START_TEST(post_null_callback_returns_einval) {
  pga_loop_t *loop = new_loop();

  ck_assert_int_eq(pga_loop_post(loop, NULL, NULL), PGA_EINVAL);
  pga_loop_free(loop);
}
END_TEST

/* Many threads post many numbered callbacks while the loop runs; all must
 * arrive, each thread's in the order it posted them. */
enum { POSTERS = 8, POSTS_EACH = 20000 };

struct posters {
  pga_loop_t *loop;
  uint32_t next[POSTERS];
  long total;
  int out_of_order;
};

static struct posters *posters_ctx;

static void numbered_post(pga_loop_t *loop, void *data) {
  struct posters *p = posters_ctx;
  uintptr_t v = (uintptr_t)data;
  unsigned t = (unsigned)(v >> 24);
  uint32_t seq = (uint32_t)(v & 0xffffff);

  if (seq != p->next[t])
    p->out_of_order++;
  p->next[t] = seq + 1;
  if (++p->total == (long)POSTERS * POSTS_EACH)
    pga_loop_stop(loop);
}

static void *poster_thread(void *arg) {
  uintptr_t t = (uintptr_t)arg;

  for (uintptr_t i = 0; i < POSTS_EACH; i++)
    if (pga_loop_post(posters_ctx->loop, numbered_post,
                      (void *)((t << 24) | i)) != 0)
      abort();
  return NULL;
}

START_TEST(post_from_many_threads_keeps_per_thread_order) {
  pga_loop_t *loop = new_loop();
  struct posters p;
  pthread_t th[POSTERS];

  memset(&p, 0, sizeof p);
  p.loop = loop;
  posters_ctx = &p;
  for (uintptr_t t = 0; t < POSTERS; t++)
    ck_assert_int_eq(pthread_create(&th[t], NULL, poster_thread, (void *)t), 0);
  uint64_t start = pga_clock_ms();
  pga_loop_timer(loop, 30000, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  /* Well before the safety timer: posts woke the loop themselves. */
  ck_assert_uint_lt(pga_clock_ms() - start, 15000);
  for (int t = 0; t < POSTERS; t++)
    pthread_join(th[t], NULL);
  ck_assert_int_eq(p.total, (long)POSTERS * POSTS_EACH);
  ck_assert_int_eq(p.out_of_order, 0);
  for (int t = 0; t < POSTERS; t++)
    ck_assert_uint_eq(p.next[t], POSTS_EACH);
  pga_loop_free(loop);
}
END_TEST

static int flag_post_ran;

static void set_flag_post(pga_loop_t *loop, void *data) {
  (void)loop, (void)data;
  flag_post_ran = 1;
}

START_TEST(loop_free_drops_queued_posts) {
  pga_loop_t *loop = new_loop();

  flag_post_ran = 0;
  ck_assert_int_eq(pga_loop_post(loop, set_flag_post, NULL), 0);
  ck_assert_int_eq(pga_loop_post(loop, set_flag_post, NULL), 0);
  pga_loop_free(loop); /* valgrind: the two nodes are freed */
  ck_assert_int_eq(flag_post_ran, 0);
}
END_TEST

static void *stop_later(void *arg) {
  sleep_ms(30);
  pga_loop_stop(arg);
  return NULL;
}

START_TEST(stop_from_other_thread_ends_run) {
  pga_loop_t *loop = new_loop();
  pthread_t th;
  uint64_t start = pga_clock_ms();

  /* No timers: only the wake fd can end the wait. */
  ck_assert_int_eq(pthread_create(&th, NULL, stop_later, loop), 0);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  pthread_join(th, NULL);
  ck_assert_uint_lt(pga_clock_ms() - start, 2000);
  pga_loop_free(loop);
}
END_TEST

static pga_loop_t *signal_loop;

static void on_alarm(int sig) {
  (void)sig;
  pga_loop_stop(signal_loop);
}

START_TEST(stop_from_signal_handler_ends_run) {
  pga_loop_t *loop = new_loop();
  struct sigaction sa, old;
  struct itimerval it = {{0, 0}, {0, 30000}};

  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  signal_loop = loop;
  ck_assert_int_eq(sigaction(SIGALRM, &sa, &old), 0);
  ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  sigaction(SIGALRM, &old, NULL);
  signal_loop = NULL;
  pga_loop_free(loop);
}
END_TEST

START_TEST(stop_before_run_returns_at_once_then_run_again_works) {
  pga_loop_t *loop = new_loop();
  int count = 0;

  pga_loop_stop(loop);
  pga_loop_timer(loop, 0, count_timer, &count);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(count, 0);
  pga_loop_timer(loop, 5, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(count, 1);
  pga_loop_free(loop);
}
END_TEST

/* The hook writes to a watched pipe only once: if it ran after the wait
 * instead of before, the wait (no timers) would never end. */
struct hook {
  int p[2];
  int calls;
  struct io_seen seen;
};

static void hook_writes(pga_loop_t *loop, void *data) {
  struct hook *h = data;

  (void)loop;
  if (h->calls++ == 0)
    ck_assert_int_eq(write(h->p[1], "x", 1), 1);
}

START_TEST(before_sleep_runs_before_each_wait) {
  pga_loop_t *loop = new_loop();
  struct hook h = {{-1, -1}, 0, {0, -1, 0, NULL}};

  make_pipe(h.p);
  ck_assert_int_eq(pga_loop_watch(loop, h.p[0], PGA_READABLE, record_io, &h.seen), 0);
  pga_loop_before_sleep(loop, hook_writes, &h);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(h.calls, 1);
  ck_assert_int_eq(h.seen.count, 1);
  pga_loop_unwatch(loop, h.p[0]);
  close_pipe(h.p);
  pga_loop_free(loop);
}
END_TEST

START_TEST(before_sleep_runs_every_iteration) {
  pga_loop_t *loop = new_loop();
  struct hook h = {{-1, -1}, 0, {0, -1, 0, NULL}};
  int count = 0;

  make_pipe(h.p);
  pga_loop_before_sleep(loop, hook_writes, &h);
  pga_loop_timer(loop, 1, rearm_thrice, &count); /* three iterations */
  pga_loop_timer(loop, 5000, stop_timer, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  ck_assert_int_eq(count, 3);
  ck_assert_int_ge(h.calls, 4);
  pga_loop_before_sleep(loop, NULL, NULL);
  close_pipe(h.p);
  pga_loop_free(loop);
}
END_TEST

static Suite *loop_suite(void) {
  Suite *s = suite_create("loop");
  TCase *timers = tcase_create("timers");
  TCase *io = tcase_create("io");
  TCase *posts = tcase_create("posts");

  tcase_add_test(timers, loop_new_then_free_succeeds);
  tcase_add_test(timers, timer_delays_fire_in_deadline_order);
  tcase_add_test(timers, timer_equal_deadlines_fire_in_creation_order);
  tcase_add_test(timers, timer_cancel_before_fire_never_runs);
  tcase_add_test(timers, timer_returning_delay_rearms_until_nomore);
  tcase_add_test(timers, timer_cancel_self_in_callback_does_not_rearm);
  tcase_add_test(timers, timer_cancel_self_then_new_timer_keeps_new_timer);
  tcase_add_test(timers, timer_cancel_other_due_timer_in_callback_skips_it);
  tcase_add_test(timers, timer_rearm_zero_fires_once_per_iteration);
  tcase_add_test(timers, timer_stale_id_cancel_keeps_new_timer);
  tcase_add_test(timers, timer_cancel_unknown_id_is_ignored);
  tcase_add_test(timers, timer_ids_are_positive_and_distinct);
  tcase_add_test(timers, loop_busy_max_reports_longest_iteration_once);
  tcase_add_test(timers, loop_busy_cpu_max_is_opt_in);
  tcase_add_test(timers, timer_ten_thousand_fire_in_order_with_cancels);
  tcase_add_test(timers, timer_wait_bounded_by_nearest_timer);
  tcase_add_test(timers, loop_now_is_cached_within_iteration);
  suite_add_tcase(s, timers);

  tcase_add_test(io, io_pipe_readable_invokes_callback);
  tcase_add_test(io, io_socketpair_writable_invokes_callback);
  tcase_add_test(io, io_socketpair_data_reported_readable);
  tcase_add_test(io, io_hangup_reported_as_readable);
  tcase_add_test(io, io_error_reported_to_writable_only_watcher);
  tcase_add_test(io, io_mask_zero_is_idle_until_rewatched);
  tcase_add_test(io, io_unwatch_in_callback_drops_pending_event);
  tcase_add_test(io, io_fd_reused_in_same_iteration_gets_no_stale_event);
  tcase_add_test(io, io_watch_invalid_args_returns_einval);
  tcase_add_test(io, io_watch_closed_fd_returns_esys);
  tcase_add_test(io, io_unwatch_unknown_fd_is_noop);
  tcase_add_test(io, io_high_fd_grows_table);
  suite_add_tcase(s, io);

  /* Thread-heavy tests take longer under valgrind. */
  tcase_set_timeout(posts, 60);
  tcase_add_test(posts, post_runs_in_fifo_order_on_loop_thread);
  tcase_add_test(posts, post_null_callback_returns_einval);
  tcase_add_test(posts, post_from_many_threads_keeps_per_thread_order);
  tcase_add_test(posts, loop_free_drops_queued_posts);
  tcase_add_test(posts, stop_from_other_thread_ends_run);
  tcase_add_test(posts, stop_from_signal_handler_ends_run);
  tcase_add_test(posts, stop_before_run_returns_at_once_then_run_again_works);
  tcase_add_test(posts, before_sleep_runs_before_each_wait);
  tcase_add_test(posts, before_sleep_runs_every_iteration);
  suite_add_tcase(s, posts);
  return s;
}

PGA_CHECK_MAIN(loop_suite)
