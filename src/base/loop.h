/* The event loop: fd readiness, timers, cross-thread posts, before-sleep.
 * One loop per thread; everything but pga_loop_post/pga_loop_stop must be
 * called from the loop's own thread. The backend (epoll, or poll where epoll
 * is missing) lives in its own file behind the same static api_* set.
 *
 * One iteration: before-sleep hook, wait (bounded by the nearest timer),
 * cache the time, fd callbacks, due timers, then the posts queued so far.
 *
 * Reentrancy: callbacks may watch/unwatch any fd, arm or cancel any timer
 * (their own included), post and stop. They must not call pga_loop_run
 * (no nesting) or pga_loop_free on their own loop. */
#ifndef PGA_BASE_LOOP_H
#define PGA_BASE_LOOP_H

#include <stdint.h>

typedef struct pga_loop_s pga_loop_t;

#define PGA_READABLE 0x1
#define PGA_WRITABLE 0x2

/* events: PGA_READABLE | PGA_WRITABLE as ready, limited to the watched
 * mask (errors and hang-ups are reported as readable so the read shows
 * them, and as writable to a watcher that waits for writability). */
typedef void (*pga_io_cb)(pga_loop_t *loop, int fd, int events, void *data);
/* Returns the delay in ms until the timer fires again, or PGA_TIMER_NOMORE
 * to end it (the id is then dead). */
#define PGA_TIMER_NOMORE (-1)
typedef int64_t (*pga_timer_cb)(pga_loop_t *loop, uint64_t id, void *data);
typedef void (*pga_loop_cb)(pga_loop_t *loop, void *data);

/* 0 or PGA_ENOMEM / PGA_ESYS. */
int pga_loop_new(pga_loop_t **out);
/* Frees the loop; posts still queued are dropped without running, as are
 * timers. Watched fds are not closed. Not from the loop's callbacks. */
void pga_loop_free(pga_loop_t *loop);

/* Sets the interest mask of fd (replacing any earlier one; mask 0 keeps the
 * fd registered but idle). 0, PGA_ENOMEM or PGA_ESYS (PGA_EINVAL for fd < 0
 * or cb NULL); on error the earlier watch, if any, is unchanged. Unwatch
 * before close(fd): the loop cannot see a close. */
int pga_loop_watch(pga_loop_t *loop, int fd, int mask, pga_io_cb cb,
                   void *data);
/* Stops watching fd (safe on an fd that is not watched). Callbacks for fd
 * pending in the current iteration are not delivered, even if the number
 * is watched again (a reused fd) before the loop gets to them. */
void pga_loop_unwatch(pga_loop_t *loop, int fd);

/* A one-shot (or re-arming, see pga_timer_cb) timer; returns its id (> 0)
 * or 0 on ENOMEM (or cb NULL). O(log n). The delay counts from
 * pga_loop_now() when called from a callback (so timers armed in one
 * iteration with equal delays fire in the order armed), and from the
 * current time outside pga_loop_run. A negative delay is 0. A timer armed
 * or re-armed while timers run fires in a later iteration at the earliest,
 * so a 0 ms re-arm cannot starve fds and posts. */
uint64_t pga_loop_timer(pga_loop_t *loop, int64_t delay_ms, pga_timer_cb cb,
                        void *data);
/* Cancels a timer; a dead or unknown id is ignored. O(log n). Safe from
 * the timer's own callback (its return value is then ignored). */
void pga_loop_timer_cancel(pga_loop_t *loop, uint64_t id);

/* Runs cb(loop, data) on the loop thread soon. Safe from any thread (not
 * from a signal handler: it allocates and locks). 0, PGA_ENOMEM or
 * PGA_EINVAL (cb NULL). Posts run in FIFO order; one queued by a post
 * runs in the next iteration. */
int pga_loop_post(pga_loop_t *loop, pga_loop_cb cb, void *data);

/* Called before every wait (to flush write queues). One hook; a later
 * call replaces it, cb NULL removes it. */
void pga_loop_before_sleep(pga_loop_t *loop, pga_loop_cb cb, void *data);

/* Runs until pga_loop_stop(). 0, or PGA_ESYS if the poller failed. A stop
 * requested before the call makes it return at once; either way the
 * request is consumed, and the loop may be run again. */
int pga_loop_run(pga_loop_t *loop);
/* Makes pga_loop_run return after the current iteration. Safe from any
 * thread and from a signal handler (only write(2) on an eventfd/pipe). */
void pga_loop_stop(pga_loop_t *loop);

/* The longest iteration (wall µs from the poller's return to its next
 * call: callbacks, timers, posts, before-sleep) since the previous call,
 * which starts a new window. Loop thread only. */
uint64_t pga_loop_busy_max_us(pga_loop_t *loop);
/* The same in the loop thread's CPU time (preemption excluded), when the
 * environment has PGA_LOOP_CPU_STATS at pga_loop_new (it costs a system
 * call per iteration): 0, or PGA_ENOTFOUND when not measured. */
int pga_loop_busy_cpu_max_us(pga_loop_t *loop, uint64_t *max_us);

/* Monotonic milliseconds, cached once per iteration. */
uint64_t pga_loop_now(const pga_loop_t *loop);
/* Monotonic milliseconds, read now. */
uint64_t pga_clock_ms(void);

#endif
