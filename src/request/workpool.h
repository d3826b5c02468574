/* Worker pools of the request plane (request-plane.md §9.4, ops-plane.md
 * §4.7 [PROPOSAL], docs/compat.md R16, R24): a pool admits background work
 * (:async and :none requests to async_pool, :stream to stream_pool), runs
 * at most `size` tasks at once, queues up to `max_queue` more in FIFO
 * order and refuses the rest. A pool-level circuit breaker opens after
 * `threshold` consecutive failed tasks; while it is open new tasks are
 * refused (never dropped after their ack); it closes after `cooldown_ms`
 * or when a task still running succeeds.
 *
 * A "worker" is a slot, not a thread: a task's steps are non-blocking
 * calls and timers on the loop thread, so a slot stands for one task in
 * progress.
 *
 * Invariants:
 *   1. Loop thread only, except pga__wp_status() (atomics, any thread).
 *   2. Every admitted task gets exactly one pga__wp_done() or
 *      pga__wp_cancel(); queued tasks start in FIFO order, never inside
 *      the call that freed their slot (a 0 ms timer, or pga__wp_pump()
 *      when the pool has no loop).
 *   3. Telemetry (§6.1 events 16-21) is emitted for starts, ends,
 *      refusals while open, and breaker changes; none for cancels. */
#ifndef PGA_REQUEST_WORKPOOL_H
#define PGA_REQUEST_WORKPOOL_H

#include <stdint.h>

#include "base/loop.h"
#include "request/plane.h"
#include "telemetry/telemetry.h"

typedef struct pga__wp_task_s pga__wp_task_t;
struct pga__wp_task_s {
  pga__wp_task_t *next, *prev;        /* queue links (pool-owned) */
  void (*start)(pga__wp_task_t *task); /* a queued task's turn came */
  int state;                          /* pool-owned */
  int64_t started_us;                 /* pool-owned */
};

typedef struct pga__wp_s pga__wp_t;

typedef struct pga__wp_opts_s {
  const char *name;        /* "async_pool", "stream_pool" (pool_name) */
  unsigned size;           /* slots running at once (>= 1) */
  unsigned max_queue;      /* tasks waiting at most */
  unsigned threshold;      /* consecutive failures that open (>= 1) */
  unsigned cooldown_ms;    /* open this long at most */
} pga__wp_opts_t;

/* loop may be NULL (then call pga__wp_pump; the breaker closes at the
 * next submission after its cooldown). tel may be NULL. NULL on ENOMEM. */
pga__wp_t *pga__wp_new(const pga__wp_opts_t *opts, pga_loop_t *loop,
                       pga_telemetry_t *tel);
/* Tasks still admitted are forgotten (no start, no events). */
void pga__wp_free(pga__wp_t *p);

typedef enum {
  PGA__WP_RUN = 0, /* a slot is the task's: the caller starts it now */
  PGA__WP_QUEUED,  /* task->start runs when a slot frees */
  PGA__WP_FULL,    /* refused: every slot busy and the queue full (E9) */
  PGA__WP_OPEN     /* refused: the breaker is open (E9; event 19) */
} pga__wp_admit_t;

/* now_ms: monotonic milliseconds. */
pga__wp_admit_t pga__wp_submit(pga__wp_t *p, pga__wp_task_t *task,
                               int64_t now_ms);

/* The task ended: fail_kind NULL for success, else "error" or "timeout"
 * with reason (text for telemetry; may be NULL). Frees its slot. */
void pga__wp_done(pga__wp_t *p, pga__wp_task_t *task, const char *fail_kind,
                  const char *reason, int64_t now_ms);
/* The task goes without an outcome (its request was freed): leaves the
 * queue or frees its slot. No-op for a task not admitted. */
void pga__wp_cancel(pga__wp_t *p, pga__wp_task_t *task);
/* Starts queued tasks while slots are free (see invariant 2). */
void pga__wp_pump(pga__wp_t *p);

/* WorkerPool.status/1 figures. Any thread. */
void pga__wp_status(const pga__wp_t *p, pga_pool_status_t *out);

#endif
