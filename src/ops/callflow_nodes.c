/* A call flow's target nodes (ops-plane.md §4.4): the `nodes` value as
 * the library wraps it, and which nodes answer. "Answers" is our own
 * name or a distribution connection that comes up; the attempts to every
 * node run at once on the loop thread and the caller waits 2 s at most.
 * The probe state is shared by the waiting worker and the loop's timer,
 * reference-counted so either may finish first. */
#include "ops/callflow_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/loop.h"

#define PROBE_WAIT_MS 2000
#define PROBE_TICK_MS 25

void pga_ops_flow_nodes(pga_tb_t *tb, const pga_term_t *nodes) {
  pga_term_iter_t it;
  pga_term_t el;
  size_t arity, n = 0;
  if (pga_term_is_atom(nodes, "nil") ||
      (pga_term_tuple_arity(nodes, &arity) == 0 && arity == 3)) {
    pga_tb_list(tb, 0); /* no resolver for {m, f, a} in the C node */
    return;
  }
  if (pga_term_iter_init(&it, nodes) != 0) { /* not a list: wrapped */
    pga_tb_list(tb, 1);
    pga_tb_term(tb, nodes);
    pga_tb_nil(tb);
    return;
  }
  /* Elements only: an improper tail is dropped. */
  while (pga_term_iter_next(&it, &el)) n++;
  pga_tb_list(tb, n);
  pga_term_iter_init(&it, nodes);
  while (pga_term_iter_next(&it, &el)) pga_tb_term(tb, &el);
  if (n) pga_tb_nil(tb);
}

/* ---- the set of names ---- */

void pga_ops_reach_init(pga_ops_reach_t *r) { memset(r, 0, sizeof *r); }

void pga_ops_reach_free(pga_ops_reach_t *r) {
  for (size_t i = 0; i < r->n; i++) free(r->names[i]);
  r->n = 0;
}

/* The atom's text if it names a node ("a@b"), else 0. */
static int node_name(const pga_term_t *node, char *buf, size_t len) {
  return pga_term_get_atom(node, buf, len) == 0 && strchr(buf, '@') != NULL;
}

static int find(const pga_ops_reach_t *r, const char *name) {
  for (size_t i = 0; i < r->n; i++)
    if (strcmp(r->names[i], name) == 0) return (int)i;
  return -1;
}

void pga_ops_reach_add_list(pga_ops_t *ops, pga_ops_reach_t *r,
                            const pga_term_t *nodes) {
  char name[PGA_ATOM_BUF];
  pga_term_iter_t it;
  pga_term_t el;
  if (pga_term_iter_init(&it, nodes) != 0) return;
  while (pga_term_iter_next(&it, &el) && r->n < PGA_OPS_REACH_MAX) {
    if (!node_name(&el, name, sizeof name)) continue;
    if (strcmp(name, pga_node_name(ops->node)) == 0 || find(r, name) >= 0)
      continue;
    char *dup = strdup(name);
    if (dup) r->names[r->n++] = dup;
  }
}

int pga_ops_reach_is_up(pga_ops_t *ops, const pga_ops_reach_t *r,
                        const pga_term_t *node) {
  char name[PGA_ATOM_BUF];
  if (!node_name(node, name, sizeof name)) return 0;
  if (strcmp(name, pga_node_name(ops->node)) == 0) return 1;
  int i = find(r, name);
  return i >= 0 && r->up[i];
}

/* ---- the probe ---- */

enum { PENDING = 0, UP = 1, FAILED = 2 };

typedef struct probe_s {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int refs;      /* the worker and the loop side */
  int abandoned; /* the worker stopped waiting */
  int done;      /* every node decided */
  pga_dist_t *d;
  size_t n;
  const char *const *names; /* the worker's; read only while !abandoned */
  uint64_t conn_id[PGA_OPS_REACH_MAX];
  unsigned char state[PGA_OPS_REACH_MAX];
} probe_t;

static void probe_release(probe_t *p) {
  pthread_mutex_lock(&p->mu);
  int last = --p->refs == 0;
  pthread_mutex_unlock(&p->mu);
  if (!last) return;
  pthread_cond_destroy(&p->cv);
  pthread_mutex_destroy(&p->mu);
  free(p);
}

/* Loop thread, lock held: advances node i; 1 once it is decided. */
static int probe_node(probe_t *p, size_t i) {
  if (p->state[i] != PENDING) return 1;
  pga_conn_t *c = p->conn_id[i] ? pga_dist_conn_by_id(p->d, p->conn_id[i])
                                : pga_dist_conn_get(p->d, p->names[i]);
  if (!c)
    p->state[i] = FAILED; /* gone: the attempt failed */
  else if (pga_conn_is_up(c))
    p->state[i] = UP;
  else
    p->conn_id[i] = pga_conn_id(c);
  return p->state[i] != PENDING;
}

static int64_t probe_tick(pga_loop_t *loop, uint64_t id, void *data) {
  probe_t *p = data;
  (void)loop;
  (void)id;
  pthread_mutex_lock(&p->mu);
  int decided = 1;
  if (!p->abandoned)
    for (size_t i = 0; i < p->n; i++) decided &= probe_node(p, i);
  if (decided) {
    p->done = 1;
    pthread_cond_signal(&p->cv);
  }
  pthread_mutex_unlock(&p->mu);
  if (!decided) return PROBE_TICK_MS;
  probe_release(p);
  return PGA_TIMER_NOMORE;
}

static void probe_start(pga_loop_t *loop, void *data) {
  if (probe_tick(loop, 0, data) != PGA_TIMER_NOMORE &&
      pga_loop_timer(loop, PROBE_TICK_MS, probe_tick, data) == 0) {
    probe_t *p = data; /* no timer: give up on the pending nodes */
    pthread_mutex_lock(&p->mu);
    p->done = 1;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    probe_release(p);
  }
}

static struct timespec deadline_in(int ms) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

static probe_t *probe_new(pga_ops_t *ops, const pga_ops_reach_t *r) {
  probe_t *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&p->cv, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&p->mu, NULL);
  p->refs = 2;
  p->d = ops->d;
  p->n = r->n;
  p->names = (const char *const *)r->names;
  return p;
}

void pga_ops_reach_probe(pga_ops_t *ops, pga_ops_reach_t *r) {
  if (r->n == 0 || !ops->d || !ops->loop) return;
  probe_t *p = probe_new(ops, r);
  if (!p) return;
  if (pga_loop_post(ops->loop, probe_start, p) != 0) {
    p->refs = 1;
    probe_release(p);
    return;
  }
  struct timespec until = deadline_in(PROBE_WAIT_MS);
  pthread_mutex_lock(&p->mu);
  while (!p->done &&
         pthread_cond_timedwait(&p->cv, &p->mu, &until) != ETIMEDOUT) {
  }
  p->abandoned = 1; /* names are the caller's: never read after this */
  for (size_t i = 0; i < r->n; i++) r->up[i] = p->state[i] == UP;
  pthread_mutex_unlock(&p->mu);
  probe_release(p);
}
