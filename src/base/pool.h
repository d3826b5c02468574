/* The worker pool: runs blocking work off the loop thread, then runs a
 * completion on the loop thread. Bounded queue: callers get PGA_EBUSY.
 *
 * Workers block asynchronous signals (SIGINT, SIGTERM... go to the other
 * threads). Done callbacks may submit more work and may free the pool;
 * jobs already taken for delivery are then still delivered, once each. */
#ifndef PGA_BASE_POOL_H
#define PGA_BASE_POOL_H

#include <stddef.h>

#include "base/loop.h"

typedef struct pga_pool_s pga_pool_t;

typedef void (*pga_work_fn)(void *data);
/* status: 0 after the work ran, PGA_ECANCELED when the pool was freed
 * before the work started (the work then never runs). */
typedef void (*pga_done_fn)(void *data, int status);

/* 0, PGA_EINVAL (threads == 0), PGA_ENOMEM or PGA_ESYS. max_queued bounds
 * work waiting for a thread (running work is not counted); 0 means no
 * bound. */
int pga_pool_new(pga_loop_t *loop, unsigned threads, size_t max_queued,
                 pga_pool_t **out);
/* Queues work; when it returns 0, done runs exactly once on the loop
 * thread. On error (PGA_EBUSY queue full, PGA_ENOMEM, PGA_EINVAL for work
 * NULL, PGA_ECANCELED from a done callback run by pga_pool_free) nothing
 * runs. done may be NULL. Safe from any thread. */
int pga_pool_submit(pga_pool_t *pool, pga_work_fn work, pga_done_fn done,
                    void *data);
/* Work queued or running now (finished work whose done has not run yet is
 * not counted). Safe from any thread. */
size_t pga_pool_pending(const pga_pool_t *pool);
/* Waits for running work, cancels queued work (done with PGA_ECANCELED,
 * called synchronously here), joins the threads. Loop thread only. Done
 * calls: first the cancelled jobs in queue order, then (status 0) every
 * finished job not yet delivered, all before it returns. */
void pga_pool_free(pga_pool_t *pool);

/* Lowers the calling thread's CPU priority for good (Linux: nice +10;
 * elsewhere nothing), so the loop thread wins the CPU over it. For the
 * threads of a pool that only runs bulk work; cheap after the first call. */
void pga_thread_background(void);

#endif
