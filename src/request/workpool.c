/* Worker pools and their circuit breaker (workpool.h). */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request/workpool.h"
#include "term/term.h"

enum { TASK_IDLE = 0, TASK_QUEUED, TASK_RUNNING };

struct pga__wp_s {
  pga__wp_opts_t o;
  char name[32];
  pga_loop_t *loop;
  pga_telemetry_t *tel;
  pga__wp_task_t *head, *tail; /* FIFO of queued tasks */
  unsigned consecutive;        /* failures since the last success */
  int64_t opened_ms;
  uint64_t pump_timer, close_timer;
  /* read by pga__wp_status from any thread */
  _Atomic uint64_t busy, queued, executed, failed;
  _Atomic int open;
};

/* ---- telemetry (ops-plane.md §6.1, events 16-21) ---- */

/* Emits ev with measurements {mkey: mval} (mkey NULL: %{}) and metadata
 * %{pool_name} plus the pairs extra writes (n_extra of them). */
static void emit(pga__wp_t *p, pga_event_t ev, const char *mkey, int64_t mval,
                 size_t n_extra, void (*extra)(pga_tb_t *, const void *),
                 const void *ud) {
  pga_tb_t meas, meta;

  if (!pga_telemetry_wants(p->tel, ev)) return;
  pga__tb_init(&meas, 0);
  pga__tb_init(&meta, 0);
  pga_tb_map(&meas, mkey ? 1 : 0);
  if (mkey) {
    pga_tb_atom(&meas, mkey);
    pga_tb_int(&meas, mval);
  }
  pga_tb_map(&meta, 1 + n_extra);
  pga_tb_atom(&meta, "pool_name");
  pga_tb_atom(&meta, p->name);
  if (extra) extra(&meta, ud);
  if (!pga_tb_error(&meas) && !pga_tb_error(&meta)) {
    pga_term_t m = pga_tb_data(&meas), d = pga_tb_data(&meta);
    pga_telemetry_emit(p->tel, ev, &m, &d);
  }
  pga__tb_destroy(&meas);
  pga__tb_destroy(&meta);
}

static void put_rejected(pga_tb_t *tb, const void *ud) {
  (void)ud;
  pga_tb_atom(tb, "reason");
  pga_tb_atom(tb, "circuit_open");
}

static void put_failures(pga_tb_t *tb, const void *ud) {
  pga_tb_atom(tb, "consecutive_failures");
  pga_tb_int(tb, *(const unsigned *)ud);
}

typedef struct failure_s {
  const char *kind, *reason;
} failure_t;

static void put_failure(pga_tb_t *tb, const void *ud) {
  const failure_t *f = ud;
  pga_tb_atom(tb, "kind");
  pga_tb_atom(tb, f->kind);
  pga_tb_atom(tb, "reason");
  pga_tb_string(tb, f->reason ? f->reason : "");
  pga_tb_atom(tb, "stacktrace");
  pga_tb_atom(tb, "nil");
}

/* ---- the breaker ---- */

static void breaker_close(pga__wp_t *p) {
  if (p->close_timer) pga_loop_timer_cancel(p->loop, p->close_timer);
  p->close_timer = 0;
  p->consecutive = 0;
  if (!atomic_load(&p->open)) return;
  atomic_store(&p->open, 0);
  emit(p, PGA_EV_WORKER_POOL_CIRCUIT_BREAKER_CLOSE, NULL, 0, 0, NULL, NULL);
}

static int64_t cooldown_over(pga_loop_t *loop, uint64_t id, void *ud) {
  pga__wp_t *p = ud;
  (void)loop, (void)id;
  p->close_timer = 0;
  breaker_close(p);
  return PGA_TIMER_NOMORE;
}

static void breaker_fail(pga__wp_t *p, int64_t now_ms) {
  p->consecutive++;
  if (atomic_load(&p->open) || p->consecutive < p->o.threshold) return;
  atomic_store(&p->open, 1);
  p->opened_ms = now_ms;
  emit(p, PGA_EV_WORKER_POOL_CIRCUIT_BREAKER_OPEN, NULL, 0, 1, put_failures,
       &p->consecutive);
  if (p->loop)
    p->close_timer = pga_loop_timer(p->loop, p->o.cooldown_ms, cooldown_over,
                                    p);
}

/* Open, unless the cooldown is over (strict, as the library's worker). */
static int breaker_open(pga__wp_t *p, int64_t now_ms) {
  if (!atomic_load(&p->open)) return 0;
  if (now_ms - p->opened_ms < (int64_t)p->o.cooldown_ms) return 1;
  breaker_close(p);
  return 0;
}

/* ---- slots and the queue ---- */

static void task_run(pga__wp_t *p, pga__wp_task_t *t) {
  t->state = TASK_RUNNING;
  t->started_us = pga_telemetry_monotonic_us();
  atomic_fetch_add(&p->busy, 1);
  emit(p, PGA_EV_WORKER_POOL_TASK_START, "system_time",
       pga_telemetry_system_time(), 0, NULL, NULL);
}

pga__wp_t *pga__wp_new(const pga__wp_opts_t *opts, pga_loop_t *loop,
                       pga_telemetry_t *tel) {
  pga__wp_t *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->o = *opts;
  if (p->o.size == 0) p->o.size = 1;
  if (p->o.threshold == 0) p->o.threshold = 1;
  snprintf(p->name, sizeof p->name, "%s", opts->name ? opts->name : "pool");
  p->o.name = p->name;
  p->loop = loop;
  p->tel = tel;
  return p;
}

void pga__wp_free(pga__wp_t *p) {
  if (!p) return;
  if (p->loop && p->pump_timer) pga_loop_timer_cancel(p->loop, p->pump_timer);
  if (p->loop && p->close_timer)
    pga_loop_timer_cancel(p->loop, p->close_timer);
  for (pga__wp_task_t *t = p->head; t; t = t->next) t->state = TASK_IDLE;
  free(p);
}

pga__wp_admit_t pga__wp_submit(pga__wp_t *p, pga__wp_task_t *t,
                               int64_t now_ms) {
  if (breaker_open(p, now_ms)) {
    emit(p, PGA_EV_WORKER_POOL_TASK_REJECTED, "system_time",
         pga_telemetry_system_time(), 1, put_rejected, NULL);
    return PGA__WP_OPEN;
  }
  if (atomic_load(&p->busy) < p->o.size && !p->head) {
    task_run(p, t);
    return PGA__WP_RUN;
  }
  if (atomic_load(&p->queued) >= p->o.max_queue) return PGA__WP_FULL;
  t->state = TASK_QUEUED;
  t->next = NULL;
  t->prev = p->tail;
  if (p->tail) p->tail->next = t;
  else p->head = t;
  p->tail = t;
  atomic_fetch_add(&p->queued, 1);
  return PGA__WP_QUEUED;
}

void pga__wp_pump(pga__wp_t *p) {
  while (p->head && atomic_load(&p->busy) < p->o.size) {
    pga__wp_task_t *t = p->head;
    p->head = t->next;
    if (p->head) p->head->prev = NULL;
    else p->tail = NULL;
    t->next = NULL;
    atomic_fetch_sub(&p->queued, 1);
    task_run(p, t);
    t->start(t); /* may end the task (and free it) at once */
  }
}

static int64_t pump_timer(pga_loop_t *loop, uint64_t id, void *ud) {
  pga__wp_t *p = ud;
  (void)loop, (void)id;
  p->pump_timer = 0;
  pga__wp_pump(p);
  return PGA_TIMER_NOMORE;
}

/* A slot freed: queued tasks start from a 0 ms timer (invariant 2). */
static void slot_free(pga__wp_t *p, pga__wp_task_t *t) {
  t->state = TASK_IDLE;
  atomic_fetch_sub(&p->busy, 1);
  if (p->head && p->loop && !p->pump_timer)
    p->pump_timer = pga_loop_timer(p->loop, 0, pump_timer, p);
}

void pga__wp_done(pga__wp_t *p, pga__wp_task_t *t, const char *fail_kind,
                  const char *reason, int64_t now_ms) {
  if (t->state != TASK_RUNNING) {
    pga__wp_cancel(p, t);
    return;
  }
  int64_t us = pga_telemetry_monotonic_us() - t->started_us;
  atomic_fetch_add(&p->executed, 1);
  if (fail_kind) {
    failure_t f = {fail_kind, reason};
    atomic_fetch_add(&p->failed, 1);
    emit(p, PGA_EV_WORKER_POOL_TASK_EXCEPTION, "duration_us", us, 3,
         put_failure, &f);
    breaker_fail(p, now_ms);
  } else {
    emit(p, PGA_EV_WORKER_POOL_TASK_STOP, "duration_us", us, 0, NULL, NULL);
    breaker_close(p);
  }
  slot_free(p, t);
}

void pga__wp_cancel(pga__wp_t *p, pga__wp_task_t *t) {
  if (t->state == TASK_RUNNING) {
    slot_free(p, t);
    return;
  }
  if (t->state != TASK_QUEUED) return;
  if (t->prev) t->prev->next = t->next;
  else p->head = t->next;
  if (t->next) t->next->prev = t->prev;
  else p->tail = t->prev;
  t->prev = NULL;
  t->next = NULL;
  t->state = TASK_IDLE;
  atomic_fetch_sub(&p->queued, 1);
}

void pga__wp_status(const pga__wp_t *p, pga_pool_status_t *out) {
  pga__wp_t *q = (pga__wp_t *)p; /* atomics only */
  uint64_t busy = atomic_load(&q->busy);
  memset(out, 0, sizeof *out);
  out->size = p->o.size;
  out->busy = busy;
  out->idle = busy < p->o.size ? p->o.size - busy : 0;
  out->queued = atomic_load(&q->queued);
  out->circuit_open = atomic_load(&q->open);
  out->executed = atomic_load(&q->executed);
  out->failed = atomic_load(&q->failed);
}
