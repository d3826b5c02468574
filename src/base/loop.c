/* The event loop (after redis ae): fd readiness through one poller backend,
 * a timer heap, a cross-thread post queue and a before-sleep hook.
 *
 * One iteration: before-sleep hook, wait (bounded by the nearest timer),
 * cache the time, deliver fd events, run due timers, run queued posts.
 *
 * Invariants:
 *   1. io[fd].cb != NULL exactly when fd is watched. The backend holds fd
 *      only while io[fd].mask != 0, so an idle fd (mask 0) cannot wake the
 *      wait with a hang-up nobody will read.
 *   2. Each fired event carries the generation io[fd].gen had when the wait
 *      returned; unwatch bumps it, so an event for an fd unwatched (and
 *      perhaps reused by a new watch) earlier in the same iteration is
 *      dropped rather than delivered to the wrong owner.
 *   3. The heap orders live timers by (deadline, seq); seq grows with each
 *      arming, so equal deadlines fire in the order they were armed.
 *      timers[i].pos is i's heap index, or NOT_IN_HEAP while its callback
 *      runs, which makes cancel O(log n) and safe from inside a callback.
 *   4. A timer id is (slot generation << 32) | slot. Freeing a slot bumps
 *      its generation, so a dead id never cancels the slot's next timer.
 *   5. Timers armed while timers run (seq > the seq at the start of the
 *      pass) wait for the next iteration: a timer re-arming at 0 ms cannot
 *      starve fd events and posts.
 *   6. stop is the only state pga_loop_stop touches besides write(2) on the
 *      wake fd, which keeps it async-signal-safe.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(HAVE_EVENTFD) && !defined(PGA_LOOP_PORTABLE)
#include <sys/eventfd.h>
#define USE_EVENTFD 1
#endif

#include "base/loop.h"
#include "pga/errno.h"

_Static_assert(ATOMIC_INT_LOCK_FREE == 2,
               "pga_loop_stop needs a lock-free atomic int to be "
               "async-signal-safe");

#define INITIAL_SETSIZE 64
#define NOT_IN_HEAP UINT32_MAX
#define NO_SLOT UINT32_MAX
/* Far enough for any real use, small enough that now + delay cannot
 * overflow (about 142,000 years). */
#define MAX_DELAY_MS ((int64_t)1 << 52)

struct io_watch {
  pga_io_cb cb; /* NULL: not watched */
  void *data;
  int mask;     /* interest; 0 = watched but idle (invariant 1) */
  uint32_t gen; /* invariant 2 */
};

struct fired {
  int fd;
  int events;
  uint32_t gen;
};

struct timer {
  uint64_t deadline;
  uint64_t seq;
  pga_timer_cb cb; /* NULL: free slot */
  void *data;
  uint32_t gen;       /* invariant 4; never 0 */
  uint32_t pos;       /* invariant 3 */
  uint32_t next_free; /* free-list link while cb == NULL */
};

struct post {
  struct post *next;
  pga_loop_cb cb;
  void *data;
};

struct api_state;

struct pga_loop_s {
  struct io_watch *io; /* indexed by fd, setsize entries */
  struct fired *fired; /* filled by api_poll, setsize entries */
  int setsize;
  struct api_state *api;

  struct timer *timers; /* slots */
  uint32_t *heap;       /* slot indexes; same capacity as timers */
  uint32_t nslots, slots_cap, heap_len, free_head;
  uint64_t timer_seq;
  uint64_t now;
  int running; /* inside pga_loop_run */

  pthread_mutex_t post_mu;
  struct post *post_head, *post_tail;
  int wake_rfd, wake_wfd; /* the same fd for an eventfd */
  atomic_int stop;

  pga_loop_cb before_sleep;
  void *before_sleep_data;

  uint64_t busy_since_us; /* the poller returned then; 0 before the first */
  uint64_t busy_max_us;   /* longest iteration since the last read */
  int cpu_stats;          /* PGA_LOOP_CPU_STATS set: also on-CPU time */
  uint64_t cpu_since_us;  /* thread CPU clock when the poller returned */
  uint64_t cpu_max_us;    /* most CPU one iteration took since the read */
};

/* The backend defines api_create, api_free, api_resize, api_update and
 * api_poll over the struct above; the rest of this file never names the
 * poller. PGA_LOOP_PORTABLE forces the fallbacks so tests can cover them. */
#if defined(HAVE_EPOLL_CREATE1) && !defined(PGA_LOOP_PORTABLE)
#include "loop_epoll.c"
#else
#include "loop_poll.c"
#endif

uint64_t pga_clock_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t pga_loop_now(const pga_loop_t *loop) { return loop->now; }

static uint64_t clock_us(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The calling thread's CPU time; a system call, hence opt-in. */
static uint64_t thread_cpu_us(void) {
  struct timespec ts;

  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int pga_loop_busy_cpu_max_us(pga_loop_t *loop, uint64_t *max_us) {
  if (!loop->cpu_stats)
    return PGA_ENOTFOUND;
  *max_us = loop->cpu_max_us;
  loop->cpu_max_us = 0;
  return 0;
}

uint64_t pga_loop_busy_max_us(pga_loop_t *loop) {
  uint64_t max = loop->busy_max_us;

  loop->busy_max_us = 0;
  return max;
}

/* ---- Wake fd ---------------------------------------------------------- */

/* Async-signal-safe: write(2) only, errno preserved for the interrupted
 * code. A full pipe or counter (EAGAIN) already means "readable". */
static void wake(pga_loop_t *loop) {
  int saved = errno;
  uint64_t one = 1;
  ssize_t n = write(loop->wake_wfd, &one, sizeof one);

  (void)n;
  errno = saved;
}

static void wake_drain(pga_loop_t *loop, int fd, int events, void *data) {
  char buf[256];

  (void)loop, (void)events, (void)data;
  while (read(fd, buf, sizeof buf) > 0)
    ;
}

static int set_nonblock_cloexec(int fd) {
  int fl = fcntl(fd, F_GETFL);

  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
    return -1;
  return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static int open_wake_fds(pga_loop_t *loop) {
#ifdef USE_EVENTFD
  int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd >= 0) {
    loop->wake_rfd = loop->wake_wfd = efd;
    return 0;
  }
  /* ENOSYS in some sandboxes: fall through to the self-pipe. */
#endif
  int p[2];
  if (pipe(p) < 0)
    return PGA_ESYS;
  loop->wake_rfd = p[0];
  loop->wake_wfd = p[1];
  if (set_nonblock_cloexec(p[0]) < 0 || set_nonblock_cloexec(p[1]) < 0)
    return PGA_ESYS;
  return 0;
}

/* ---- Setup and teardown ----------------------------------------------- */

int pga_loop_new(pga_loop_t **out) {
  pga_loop_t *loop = calloc(1, sizeof *loop);
  int rc;

  *out = NULL;
  if (loop != NULL)
    loop->cpu_stats = getenv("PGA_LOOP_CPU_STATS") != NULL;
  if (loop == NULL)
    return PGA_ENOMEM;
  loop->wake_rfd = loop->wake_wfd = -1;
  loop->free_head = NO_SLOT;
  atomic_init(&loop->stop, 0);
  if (pthread_mutex_init(&loop->post_mu, NULL) != 0) {
    free(loop);
    return PGA_ESYS;
  }
  loop->setsize = INITIAL_SETSIZE;
  loop->io = calloc((size_t)loop->setsize, sizeof *loop->io);
  loop->fired = calloc((size_t)loop->setsize, sizeof *loop->fired);
  rc = loop->io && loop->fired ? 0 : PGA_ENOMEM;
  if (rc == 0)
    rc = api_create(loop);
  if (rc == 0)
    rc = open_wake_fds(loop);
  if (rc == 0)
    rc = pga_loop_watch(loop, loop->wake_rfd, PGA_READABLE, wake_drain, NULL);
  if (rc != 0) {
    pga_loop_free(loop);
    return rc;
  }
  loop->now = pga_clock_ms();
  *out = loop;
  return 0;
}

void pga_loop_free(pga_loop_t *loop) {
  if (loop == NULL)
    return;
  struct post *p = loop->post_head;
  while (p != NULL) {
    struct post *next = p->next;
    free(p);
    p = next;
  }
  if (loop->wake_rfd >= 0)
    close(loop->wake_rfd);
  if (loop->wake_wfd >= 0 && loop->wake_wfd != loop->wake_rfd)
    close(loop->wake_wfd);
  if (loop->api != NULL)
    api_free(loop);
  pthread_mutex_destroy(&loop->post_mu);
  free(loop->io);
  free(loop->fired);
  free(loop->timers);
  free(loop->heap);
  free(loop);
}

/* ---- File descriptors ------------------------------------------------- */

/* Grows the per-fd tables to cover fd. 0 or PGA_ENOMEM; a failure leaves
 * setsize unchanged (arrays that did grow are merely larger). */
static int grow_setsize(pga_loop_t *loop, int fd) {
  int n = loop->setsize;

  while (n <= fd)
    n = n > INT_MAX / 2 ? fd + 1 : n * 2;
  struct io_watch *io = realloc(loop->io, (size_t)n * sizeof *io);
  if (io == NULL)
    return PGA_ENOMEM;
  loop->io = io;
  memset(io + loop->setsize, 0, (size_t)(n - loop->setsize) * sizeof *io);
  struct fired *fired = realloc(loop->fired, (size_t)n * sizeof *fired);
  if (fired == NULL)
    return PGA_ENOMEM;
  loop->fired = fired;
  if (api_resize(loop, n) != 0)
    return PGA_ENOMEM;
  loop->setsize = n;
  return 0;
}

int pga_loop_watch(pga_loop_t *loop, int fd, int mask, pga_io_cb cb,
                   void *data) {
  if (fd < 0 || cb == NULL)
    return PGA_EINVAL;
  if (fd >= loop->setsize) {
    int rc = grow_setsize(loop, fd);
    if (rc != 0)
      return rc;
  }
  struct io_watch *w = &loop->io[fd];
  int old = w->cb != NULL ? w->mask : 0;
  mask &= PGA_READABLE | PGA_WRITABLE;
  if (old != mask) {
    int rc = api_update(loop, fd, old, mask);
    if (rc != 0)
      return rc;
  }
  w->cb = cb;
  w->data = data;
  w->mask = mask;
  return 0;
}

void pga_loop_unwatch(pga_loop_t *loop, int fd) {
  if (fd < 0 || fd >= loop->setsize || loop->io[fd].cb == NULL)
    return;
  struct io_watch *w = &loop->io[fd];
  /* Errors are ignored: the caller may have closed fd already, which
   * removed it from the kernel set anyway. */
  if (w->mask != 0)
    (void)api_update(loop, fd, w->mask, 0);
  w->cb = NULL;
  w->data = NULL;
  w->mask = 0;
  w->gen++;
}

/* Stamps each event with its fd's generation before any callback runs
 * (invariant 2). */
static void stamp_fired(pga_loop_t *loop, int n) {
  for (int i = 0; i < n; i++)
    loop->fired[i].gen = loop->io[loop->fired[i].fd].gen;
}

/* Callbacks may watch, unwatch and grow the tables, so nothing is cached
 * across a call: every access goes through loop again. */
static void dispatch_io(pga_loop_t *loop, int n) {
  for (int i = 0; i < n; i++) {
    struct fired f = loop->fired[i];
    struct io_watch *w = &loop->io[f.fd];
    if (w->cb == NULL || w->gen != f.gen)
      continue;
    int events = f.events & w->mask;
    if (events != 0)
      w->cb(loop, f.fd, events, w->data);
  }
}

/* ---- Timers ----------------------------------------------------------- */

static int timer_before(const pga_loop_t *loop, uint32_t a, uint32_t b) {
  const struct timer *x = &loop->timers[a], *y = &loop->timers[b];

  return x->deadline < y->deadline ||
         (x->deadline == y->deadline && x->seq < y->seq);
}

static void heap_set(pga_loop_t *loop, uint32_t pos, uint32_t slot) {
  loop->heap[pos] = slot;
  loop->timers[slot].pos = pos;
}

static void sift_up(pga_loop_t *loop, uint32_t pos) {
  uint32_t slot = loop->heap[pos];

  while (pos > 0) {
    uint32_t parent = (pos - 1) / 2;
    if (!timer_before(loop, slot, loop->heap[parent]))
      break;
    heap_set(loop, pos, loop->heap[parent]);
    pos = parent;
  }
  heap_set(loop, pos, slot);
}

static void sift_down(pga_loop_t *loop, uint32_t pos) {
  uint32_t slot = loop->heap[pos];

  for (;;) {
    uint32_t child = 2 * pos + 1;
    if (child >= loop->heap_len)
      break;
    if (child + 1 < loop->heap_len &&
        timer_before(loop, loop->heap[child + 1], loop->heap[child]))
      child++;
    if (!timer_before(loop, loop->heap[child], slot))
      break;
    heap_set(loop, pos, loop->heap[child]);
    pos = child;
  }
  heap_set(loop, pos, slot);
}

static void heap_push(pga_loop_t *loop, uint32_t slot) {
  uint32_t pos = loop->heap_len++;

  heap_set(loop, pos, slot);
  sift_up(loop, pos);
}

static void heap_remove(pga_loop_t *loop, uint32_t pos) {
  uint32_t removed = loop->heap[pos];
  uint32_t last = --loop->heap_len;

  loop->timers[removed].pos = NOT_IN_HEAP;
  if (pos == last)
    return;
  heap_set(loop, pos, loop->heap[last]);
  if (pos > 0 && timer_before(loop, loop->heap[pos], loop->heap[(pos - 1) / 2]))
    sift_up(loop, pos);
  else
    sift_down(loop, pos);
}

/* A free slot index, or NO_SLOT on ENOMEM. The heap grows with the slots
 * so a push can never fail. */
static uint32_t slot_alloc(pga_loop_t *loop) {
  if (loop->free_head != NO_SLOT) {
    uint32_t i = loop->free_head;
    loop->free_head = loop->timers[i].next_free;
    return i;
  }
  if (loop->nslots == loop->slots_cap) {
    uint32_t cap = loop->slots_cap ? loop->slots_cap * 2 : 64;
    if (cap <= loop->slots_cap || cap == NO_SLOT)
      return NO_SLOT;
    struct timer *t = realloc(loop->timers, cap * sizeof *t);
    if (t == NULL)
      return NO_SLOT;
    loop->timers = t;
    uint32_t *h = realloc(loop->heap, cap * sizeof *h);
    if (h == NULL)
      return NO_SLOT;
    loop->heap = h;
    loop->slots_cap = cap;
  }
  loop->timers[loop->nslots].gen = 1;
  return loop->nslots++;
}

static void slot_free(pga_loop_t *loop, uint32_t i) {
  struct timer *t = &loop->timers[i];

  t->cb = NULL;
  t->data = NULL;
  if (++t->gen == 0)
    t->gen = 1;
  t->next_free = loop->free_head;
  loop->free_head = i;
}

static void timer_arm(pga_loop_t *loop, uint32_t i, int64_t delay_ms) {
  struct timer *t = &loop->timers[i];

  if (delay_ms < 0)
    delay_ms = 0;
  if (delay_ms > MAX_DELAY_MS)
    delay_ms = MAX_DELAY_MS;
  t->deadline = loop->now + (uint64_t)delay_ms;
  t->seq = ++loop->timer_seq;
  heap_push(loop, i);
}

uint64_t pga_loop_timer(pga_loop_t *loop, int64_t delay_ms, pga_timer_cb cb,
                        void *data) {
  if (cb == NULL)
    return 0;
  uint32_t i = slot_alloc(loop);
  if (i == NO_SLOT)
    return 0;
  /* Outside pga_loop_run the cached time may be stale by however long
   * setup took; inside, every timer of an iteration counts from the same
   * instant so equal delays keep their arming order. */
  if (!loop->running)
    loop->now = pga_clock_ms();
  loop->timers[i].cb = cb;
  loop->timers[i].data = data;
  timer_arm(loop, i, delay_ms);
  return ((uint64_t)loop->timers[i].gen << 32) | i;
}

/* The slot of a live timer id, or NO_SLOT (invariant 4). */
static uint32_t timer_slot(const pga_loop_t *loop, uint64_t id) {
  uint32_t i = (uint32_t)id;

  if (i >= loop->nslots || loop->timers[i].cb == NULL ||
      loop->timers[i].gen != (uint32_t)(id >> 32))
    return NO_SLOT;
  return i;
}

void pga_loop_timer_cancel(pga_loop_t *loop, uint64_t id) {
  uint32_t i = timer_slot(loop, id);

  if (i == NO_SLOT)
    return;
  if (loop->timers[i].pos != NOT_IN_HEAP)
    heap_remove(loop, loop->timers[i].pos);
  slot_free(loop, i);
}

static void run_timers(pga_loop_t *loop) {
  uint64_t last_seq = loop->timer_seq; /* invariant 5 */

  while (loop->heap_len > 0) {
    uint32_t i = loop->heap[0];
    struct timer *t = &loop->timers[i];
    if (t->deadline > loop->now || t->seq > last_seq)
      break;
    heap_remove(loop, 0);
    uint32_t gen = t->gen;
    int64_t next = t->cb(loop, ((uint64_t)gen << 32) | i, t->data);
    /* The callback may have grown the slot array, or cancelled this timer
     * (and maybe reused its slot): look again before re-arming. */
    t = &loop->timers[i];
    if (t->cb == NULL || t->gen != gen)
      continue;
    if (next < 0)
      slot_free(loop, i);
    else
      timer_arm(loop, i, next);
  }
}

/* ---- Posts ------------------------------------------------------------ */

int pga_loop_post(pga_loop_t *loop, pga_loop_cb cb, void *data) {
  if (cb == NULL)
    return PGA_EINVAL;
  struct post *p = malloc(sizeof *p);
  if (p == NULL)
    return PGA_ENOMEM;
  p->next = NULL;
  p->cb = cb;
  p->data = data;

  pthread_mutex_lock(&loop->post_mu);
  int was_empty = loop->post_head == NULL;
  if (was_empty)
    loop->post_head = p;
  else
    loop->post_tail->next = p;
  loop->post_tail = p;
  pthread_mutex_unlock(&loop->post_mu);

  /* One wake per empty -> non-empty transition is enough: the loop takes
   * the whole queue at once, so later posts ride on the pending wake. */
  if (was_empty)
    wake(loop);
  return 0;
}

/* Runs the posts queued so far; those they queue wait for the next
 * iteration, so a post that re-posts itself cannot starve the fds. */
static void run_posts(pga_loop_t *loop) {
  pthread_mutex_lock(&loop->post_mu);
  struct post *p = loop->post_head;
  loop->post_head = loop->post_tail = NULL;
  pthread_mutex_unlock(&loop->post_mu);

  while (p != NULL) {
    struct post *next = p->next;
    pga_loop_cb cb = p->cb;
    void *data = p->data;
    free(p);
    cb(loop, data);
    p = next;
  }
}

/* ---- Running ---------------------------------------------------------- */

void pga_loop_before_sleep(pga_loop_t *loop, pga_loop_cb cb, void *data) {
  loop->before_sleep = cb;
  loop->before_sleep_data = data;
}

/* -1 (no timers), 0 (stop requested or a timer is due) or the ms until the
 * nearest deadline, read against a fresh clock since callbacks since the
 * cached time may have taken a while. */
static int wait_timeout(const pga_loop_t *loop) {
  if (atomic_load(&loop->stop))
    return 0;
  if (loop->heap_len == 0)
    return -1;
  uint64_t deadline = loop->timers[loop->heap[0]].deadline;
  uint64_t now = pga_clock_ms();
  if (deadline <= now)
    return 0;
  return deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
}

/* An iteration's busy time runs from the poller's return to its next
 * call (the before-sleep hook included): wall time, as a vDSO clock read
 * costs next to nothing; a thread preempted meanwhile counts as busy. */
static void busy_end(pga_loop_t *loop) {
  if (loop->busy_since_us == 0)
    return;
  uint64_t busy = clock_us() - loop->busy_since_us;
  if (busy > loop->busy_max_us)
    loop->busy_max_us = busy;
  if (!loop->cpu_stats)
    return;
  uint64_t cpu = thread_cpu_us() - loop->cpu_since_us;
  if (cpu > loop->cpu_max_us)
    loop->cpu_max_us = cpu;
}

static int iterate(pga_loop_t *loop) {
  if (loop->before_sleep != NULL)
    loop->before_sleep(loop, loop->before_sleep_data);
  busy_end(loop);
  int n = api_poll(loop, wait_timeout(loop));
  loop->busy_since_us = clock_us();
  if (loop->cpu_stats)
    loop->cpu_since_us = thread_cpu_us();
  loop->now = loop->busy_since_us / 1000u;
  if (n < 0)
    return n;
  stamp_fired(loop, n);
  dispatch_io(loop, n);
  run_timers(loop);
  run_posts(loop);
  return 0;
}

int pga_loop_run(pga_loop_t *loop) {
  int rc = 0;

  loop->running = 1;
  loop->now = pga_clock_ms();
  while (rc == 0 && !atomic_load(&loop->stop))
    rc = iterate(loop);
  /* Cleared on the way out, so a stop before run still ends the next run
   * at once (as uv_stop does) and the loop can be run again. */
  atomic_store(&loop->stop, 0);
  loop->running = 0;
  return rc;
}

void pga_loop_stop(pga_loop_t *loop) {
  atomic_store(&loop->stop, 1);
  wake(loop);
}
