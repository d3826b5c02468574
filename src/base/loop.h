/* The event loop: fd readiness, timers, cross-thread posts, before-sleep.
 * One loop per thread; everything but pga_loop_post/pga_loop_stop must be
 * called from the loop's own thread. The backend (epoll, or poll where epoll
 * is missing) lives in its own file behind the same static api_* set. */
#ifndef PGA_BASE_LOOP_H
#define PGA_BASE_LOOP_H

#include <stdint.h>

typedef struct pga_loop_s pga_loop_t;

#define PGA_READABLE 0x1
#define PGA_WRITABLE 0x2

/* events: PGA_READABLE | PGA_WRITABLE as ready (errors and hang-ups are
 * reported as readable so the read shows them). */
typedef void (*pga_io_cb)(pga_loop_t *loop, int fd, int events, void *data);
/* Returns the delay in ms until the timer fires again, or PGA_TIMER_NOMORE
 * to end it (the id is then dead). */
#define PGA_TIMER_NOMORE (-1)
typedef int64_t (*pga_timer_cb)(pga_loop_t *loop, uint64_t id, void *data);
typedef void (*pga_loop_cb)(pga_loop_t *loop, void *data);

/* 0 or PGA_ENOMEM / PGA_ESYS. */
int pga_loop_new(pga_loop_t **out);
/* Frees the loop; posts still queued are dropped without running. */
void pga_loop_free(pga_loop_t *loop);

/* Sets the interest mask of fd (replacing any earlier one; mask 0 keeps the
 * fd registered but idle). 0, PGA_ENOMEM or PGA_ESYS. */
int pga_loop_watch(pga_loop_t *loop, int fd, int mask, pga_io_cb cb,
                   void *data);
/* Stops watching fd (safe on an fd that is not watched). Callbacks for fd
 * pending in the current iteration are not delivered. */
void pga_loop_unwatch(pga_loop_t *loop, int fd);

/* A one-shot (or re-arming, see pga_timer_cb) timer; returns its id (> 0)
 * or 0 on ENOMEM. O(log n). */
uint64_t pga_loop_timer(pga_loop_t *loop, int64_t delay_ms, pga_timer_cb cb,
                        void *data);
/* Cancels a timer; a dead or unknown id is ignored. O(log n). */
void pga_loop_timer_cancel(pga_loop_t *loop, uint64_t id);

/* Runs cb(loop, data) on the loop thread soon. Safe from any thread.
 * 0 or PGA_ENOMEM. Posts run in FIFO order. */
int pga_loop_post(pga_loop_t *loop, pga_loop_cb cb, void *data);

/* Called before every wait (to flush write queues). One hook. */
void pga_loop_before_sleep(pga_loop_t *loop, pga_loop_cb cb, void *data);

/* Runs until pga_loop_stop(). 0, or PGA_ESYS if the poller failed. */
int pga_loop_run(pga_loop_t *loop);
/* Makes pga_loop_run return after the current iteration. Safe from any
 * thread and from a signal handler (only write(2) on an eventfd/pipe). */
void pga_loop_stop(pga_loop_t *loop);

/* Monotonic milliseconds, cached once per iteration. */
uint64_t pga_loop_now(const pga_loop_t *loop);
/* Monotonic milliseconds, read now. */
uint64_t pga_clock_ms(void);

#endif
