/* The worker pool: N threads take work from a bounded FIFO queue, and each
 * completion runs on the loop thread through pga_loop_post.
 *
 * Invariants:
 *   1. Every accepted job ends in exactly one done call: status 0 from the
 *      loop thread after its work ran, or PGA_ECANCELED from pga_pool_free
 *      if no thread took it.
 *   2. Finished jobs wait in the done list; at most one drain post is in
 *      flight per pool (drain_posted), and it takes the whole list.
 *   3. A drain post carries the pool's registry id, never its address: the
 *      loop may run the post after pga_pool_free (which delivers the list
 *      itself), or drop it unrun in pga_loop_free. An unknown id is a
 *      no-op, so neither case touches freed memory or leaks.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "base/dict.h"
#include "base/log.h"
#include "base/pool.h"
#include "pga/errno.h"

struct job {
  struct job *next;
  pga_work_fn work;
  pga_done_fn done;
  void *data;
};

struct pga_pool_s {
  pga_loop_t *loop;
  uint64_t id; /* registry key (invariant 3) */
  pthread_mutex_t mu;
  pthread_cond_t work_cv;
  struct job *queue_head, *queue_tail;
  size_t queued, max_queued, running;
  struct job *done_head, *done_tail; /* invariant 2 */
  int drain_posted;
  atomic_int stopping;
  unsigned nthreads; /* started */
  pthread_t *threads;
};

#define BACKGROUND_NICE 10

void pga_thread_background(void) {
#ifdef __linux__
  static __thread int lowered;
  if (lowered) return;
  lowered = 1;
  /* Linux: a thread id names one thread for setpriority. */
  (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), BACKGROUND_NICE);
#endif
}

/* ---- Registry of live pools (invariant 3) ----------------------------- */

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static pga_dict_t *registry; /* id -> pool; freed when empty */
static uint64_t registry_last_id;

static int registry_add(pga_pool_t *pool) {
  int rc = 0;

  pthread_mutex_lock(&registry_mu);
  if (registry == NULL)
    registry = pga_dict_new(&pga_dict_u64_type);
  if (registry == NULL) {
    rc = PGA_ENOMEM;
  } else {
    pool->id = ++registry_last_id;
    rc = pga_dict_add(registry, PGA_U64_KEY(pool->id), pool);
  }
  pthread_mutex_unlock(&registry_mu);
  return rc;
}

static void registry_remove(uint64_t id) {
  pthread_mutex_lock(&registry_mu);
  if (registry != NULL) {
    (void)pga_dict_delete(registry, PGA_U64_KEY(id));
    /* Freed when empty so a process that has closed its pools holds no
     * memory for them (and valgrind sees none). */
    if (pga_dict_size(registry) == 0) {
      pga_dict_free(registry);
      registry = NULL;
    }
  }
  pthread_mutex_unlock(&registry_mu);
}

static pga_pool_t *registry_find(uint64_t id) {
  pga_pool_t *pool = NULL;

  pthread_mutex_lock(&registry_mu);
  if (registry != NULL)
    pool = pga_dict_get(registry, PGA_U64_KEY(id));
  pthread_mutex_unlock(&registry_mu);
  return pool;
}

/* ---- Completions ------------------------------------------------------ */

/* Calls done for each job of list, in order, freeing each first: a done
 * callback may free the pool, which must not find these jobs again. */
static void deliver(struct job *list, int status) {
  while (list != NULL) {
    struct job *next = list->next;
    pga_done_fn done = list->done;
    void *data = list->data;
    free(list);
    if (done != NULL)
      done(data, status);
    list = next;
  }
}

/* Loop thread. Safe to run after the pool is gone (invariant 3); the pool
 * cannot be freed between lookup and use, since pga_pool_free also runs
 * only on this thread. */
static void drain(pga_loop_t *loop, void *data) {
  pga_pool_t *pool = registry_find((uint64_t)(uintptr_t)data);

  (void)loop;
  if (pool == NULL)
    return;
  pthread_mutex_lock(&pool->mu);
  struct job *list = pool->done_head;
  pool->done_head = pool->done_tail = NULL;
  pool->drain_posted = 0;
  pthread_mutex_unlock(&pool->mu);
  deliver(list, 0);
}

/* Worker thread, without the lock. A post only fails on ENOMEM; rather
 * than lose completions (invariant 1), retry until memory comes back or
 * the pool is stopping, in which case pga_pool_free delivers the list. */
static void post_drain(pga_pool_t *pool) {
  const struct timespec pause = {0, 1000000};

  while (pga_loop_post(pool->loop, drain, PGA_U64_KEY(pool->id)) != 0) {
    if (atomic_load(&pool->stopping))
      return;
    pga_warn("pool: cannot post completions (out of memory), retrying");
    nanosleep(&pause, NULL);
  }
}

/* ---- Workers ---------------------------------------------------------- */

/* Takes the next job, waiting for one; NULL once the pool is stopping and
 * the queue is empty. Called and returns with the lock held. */
static struct job *take_job(pga_pool_t *pool) {
  while (pool->queue_head == NULL && !atomic_load(&pool->stopping))
    pthread_cond_wait(&pool->work_cv, &pool->mu);
  struct job *job = pool->queue_head;
  if (job == NULL)
    return NULL;
  pool->queue_head = job->next;
  if (pool->queue_head == NULL)
    pool->queue_tail = NULL;
  pool->queued--;
  pool->running++;
  job->next = NULL;
  return job;
}

/* Queues a finished job for the loop; returns whether this caller must
 * post the drain (invariant 2). Lock held. */
static int finish_job(pga_pool_t *pool, struct job *job) {
  pool->running--;
  if (pool->done_tail != NULL)
    pool->done_tail->next = job;
  else
    pool->done_head = job;
  pool->done_tail = job;
  if (pool->drain_posted || atomic_load(&pool->stopping))
    return 0;
  pool->drain_posted = 1;
  return 1;
}

static void *worker(void *arg) {
  pga_pool_t *pool = arg;
  struct job *job;

  pthread_mutex_lock(&pool->mu);
  while ((job = take_job(pool)) != NULL) {
    pthread_mutex_unlock(&pool->mu);
    job->work(job->data);
    pthread_mutex_lock(&pool->mu);
    if (finish_job(pool, job)) {
      pthread_mutex_unlock(&pool->mu);
      post_drain(pool);
      pthread_mutex_lock(&pool->mu);
    }
  }
  pthread_mutex_unlock(&pool->mu);
  return NULL;
}

/* Stops and joins the started threads. */
static void stop_threads(pga_pool_t *pool) {
  pthread_mutex_lock(&pool->mu);
  atomic_store(&pool->stopping, 1);
  pthread_cond_broadcast(&pool->work_cv);
  pthread_mutex_unlock(&pool->mu);
  for (unsigned i = 0; i < pool->nthreads; i++)
    pthread_join(pool->threads[i], NULL);
  pool->nthreads = 0;
}

/* Workers block every asynchronous signal so SIGINT/SIGTERM reach the
 * loop thread's handlers; faults stay deliverable for crash reports. */
static int start_threads(pga_pool_t *pool, unsigned n) {
  sigset_t all, old;
  int rc = 0;

  sigfillset(&all);
  sigdelset(&all, SIGSEGV);
  sigdelset(&all, SIGBUS);
  sigdelset(&all, SIGFPE);
  sigdelset(&all, SIGILL);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  for (unsigned i = 0; i < n; i++) {
    if (pthread_create(&pool->threads[i], NULL, worker, pool) != 0) {
      rc = PGA_ESYS;
      break;
    }
    pool->nthreads++;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return rc;
}

/* ---- API -------------------------------------------------------------- */

static void destroy(pga_pool_t *pool) {
  pthread_cond_destroy(&pool->work_cv);
  pthread_mutex_destroy(&pool->mu);
  free(pool->threads);
  free(pool);
}

int pga_pool_new(pga_loop_t *loop, unsigned threads, size_t max_queued,
                 pga_pool_t **out) {
  if (loop == NULL || out == NULL || threads == 0)
    return PGA_EINVAL;
  *out = NULL;
  pga_pool_t *pool = calloc(1, sizeof *pool);
  if (pool == NULL)
    return PGA_ENOMEM;
  pool->threads = calloc(threads, sizeof *pool->threads);
  if (pool->threads == NULL) {
    free(pool);
    return PGA_ENOMEM;
  }
  pool->loop = loop;
  pool->max_queued = max_queued ? max_queued : SIZE_MAX;
  atomic_init(&pool->stopping, 0);
  if (pthread_mutex_init(&pool->mu, NULL) != 0) {
    free(pool->threads);
    free(pool);
    return PGA_ESYS;
  }
  if (pthread_cond_init(&pool->work_cv, NULL) != 0) {
    pthread_mutex_destroy(&pool->mu);
    free(pool->threads);
    free(pool);
    return PGA_ESYS;
  }
  int rc = registry_add(pool);
  if (rc == 0)
    rc = start_threads(pool, threads);
  if (rc != 0) {
    stop_threads(pool);
    registry_remove(pool->id);
    destroy(pool);
    return rc;
  }
  *out = pool;
  return 0;
}

int pga_pool_submit(pga_pool_t *pool, pga_work_fn work, pga_done_fn done,
                    void *data) {
  if (work == NULL)
    return PGA_EINVAL;
  struct job *job = malloc(sizeof *job);
  if (job == NULL)
    return PGA_ENOMEM;
  job->next = NULL;
  job->work = work;
  job->done = done;
  job->data = data;

  int rc = 0;
  pthread_mutex_lock(&pool->mu);
  if (atomic_load(&pool->stopping)) {
    rc = PGA_ECANCELED;
  } else if (pool->queued >= pool->max_queued) {
    rc = PGA_EBUSY;
  } else {
    if (pool->queue_tail != NULL)
      pool->queue_tail->next = job;
    else
      pool->queue_head = job;
    pool->queue_tail = job;
    pool->queued++;
    pthread_cond_signal(&pool->work_cv);
  }
  pthread_mutex_unlock(&pool->mu);
  if (rc != 0)
    free(job);
  return rc;
}

size_t pga_pool_pending(const pga_pool_t *pool) {
  /* The lock is state, not value: taking it changes nothing callers see. */
  pga_pool_t *p = (pga_pool_t *)pool;

  pthread_mutex_lock(&p->mu);
  size_t n = p->queued + p->running;
  pthread_mutex_unlock(&p->mu);
  return n;
}

void pga_pool_free(pga_pool_t *pool) {
  if (pool == NULL)
    return;
  registry_remove(pool->id);

  pthread_mutex_lock(&pool->mu);
  atomic_store(&pool->stopping, 1);
  struct job *cancelled = pool->queue_head;
  pool->queue_head = pool->queue_tail = NULL;
  pool->queued = 0;
  pthread_cond_broadcast(&pool->work_cv);
  pthread_mutex_unlock(&pool->mu);

  deliver(cancelled, PGA_ECANCELED);
  /* Joining is the wait for running work; after it no thread touches the
   * done list, which now holds everything finished and not yet drained. */
  stop_threads(pool);
  deliver(pool->done_head, 0);
  destroy(pool);
}
