/* The tracers (ops-plane.md §9.2): one record per tracer pid with its
 * monitor and its rate window. A DOWN or the loss of the tracer's node
 * clears the tracer's entries, as the BEAM stops a dead tracer's traces.
 * A tracer that cannot be monitored (not a remote pid: our stand-in for
 * the library's short-lived rpc worker, a bad node) counts as dead.
 * Loop thread, but for pga__ops_trace_watch_post; callbacks find the
 * plane through its node, as it may have stopped. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "ops/trace_int.h"
#include "pga/errno.h"

typedef struct tracer_s {
  struct tracer_s *next;
  pga_tb_t pid;
  erlang_ref mon;
  uint64_t conn_id;
  int monitored;
  int listed; /* has entries (mark of the last sync) */
  pga_ops_trace_rate_t rate;
  int64_t warned_window; /* the window whose drops were logged */
} tracer_t;

struct pga_ops_trace_watch_s {
  pga_proc_t *proc;
  tracer_t *tracers;
};

static pga_ops_trace_watch_t *watch_of(pga_ops_t *ops) {
  pga_ops_trace_t *st = ops ? ops->trace : NULL;
  return st ? st->watch : NULL;
}

static tracer_t *find(pga_ops_trace_watch_t *w, const pga_term_t *pid) {
  for (tracer_t *t = w->tracers; t; t = t->next) {
    pga_term_t mine = pga_tb_data(&t->pid);
    if (pga_term_equal(&mine, pid)) return t;
  }
  return NULL;
}

static tracer_t *add(pga_ops_trace_watch_t *w, const pga_term_t *pid) {
  tracer_t *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  pga__tb_init(&t->pid, 0);
  pga_tb_term(&t->pid, pid);
  t->warned_window = -1;
  t->next = w->tracers;
  w->tracers = t;
  return t;
}

static void unwatch(pga_ops_t *ops, tracer_t *t) {
  if (!t->monitored) return;
  pga_conn_t *c = pga_dist_conn_by_id(ops->d, t->conn_id);
  pga_term_t pid = pga_tb_data(&t->pid);
  if (c && pga_conn_is_up(c))
    (void)pga_dist_demonitor(ops->d, watch_of(ops)->proc, c, &pid, &t->mon);
  t->monitored = 0;
}

/* Unlinks and frees t (its monitor is the caller's business). */
static void drop(pga_ops_trace_watch_t *w, tracer_t *t) {
  tracer_t **pp = &w->tracers;
  while (*pp && *pp != t) pp = &(*pp)->next;
  if (*pp) *pp = t->next;
  pga__tb_destroy(&t->pid);
  free(t);
}

/* The tracer is gone: its entries go, then its record. */
static void bury(pga_ops_t *ops, tracer_t *t) {
  pga_term_t pid = pga_tb_data(&t->pid);
  size_t n = pga__ops_trace_forget(ops, &pid);
  pga_debug("trace: tracer gone, %zu entries cleared", n);
  drop(watch_of(ops), t);
}

static int watch(pga_ops_t *ops, tracer_t *t) {
  pga_term_t pid = pga_tb_data(&t->pid);
  erlang_pid ep;
  pga_conn_t *c;
  if (pga__term_get_pid(&pid, &ep) != 0 ||
      pga_dist_local_pid_id(ops->d, &pid) != 0 ||
      !(c = pga_dist_conn_get(ops->d, ep.node)))
    return -1;
  pga_dist_make_ref(ops->d, &t->mon);
  if (pga_dist_monitor(ops->d, watch_of(ops)->proc, c, &pid, &t->mon) != 0)
    return -1;
  t->conn_id = pga_conn_id(c);
  t->monitored = 1;
  return 0;
}

/* Marks the tracers that have entries, monitoring new ones. */
static void mark_listed(pga_ops_t *ops, const pga_term_t *list) {
  pga_ops_trace_watch_t *w = watch_of(ops);
  pga_term_iter_t it;
  pga_term_t pid;
  if (pga_term_iter_init(&it, list) != 0) return;
  while (pga_term_iter_next(&it, &pid)) {
    tracer_t *t = find(w, &pid);
    if (!t && !(t = add(w, &pid))) continue;
    t->listed = 1;
    if (!t->monitored && watch(ops, t) != 0) bury(ops, t);
  }
}

static void sync_tracers(pga_ops_t *ops) {
  pga_ops_trace_watch_t *w = watch_of(ops);
  pga_tb_t tb;
  for (tracer_t *t = w->tracers; t; t = t->next) t->listed = 0;
  pga__tb_init(&tb, 0);
  pga__ops_trace_tracers(ops, &tb);
  pga_term_t list = pga_tb_data(&tb);
  if (!pga_tb_error(&tb)) mark_listed(ops, &list);
  pga__tb_destroy(&tb);
  for (tracer_t *t = w->tracers, *next; t; t = next) {
    next = t->next;
    if (t->listed) continue;
    unwatch(ops, t);
    drop(w, t);
  }
}

static void sync_post(pga_loop_t *loop, void *ud) {
  pga_ops_t *ops = pga__ops_of(ud);
  (void)loop;
  if (watch_of(ops)) sync_tracers(ops);
}

int pga__ops_trace_watch_post(pga_ops_t *ops) {
  if (!ops->loop || pga_loop_post(ops->loop, sync_post, ops->node) == 0)
    return 0;
  pga_warn("trace: tracer sync not queued (out of memory)");
  return PGA_ENOMEM;
}

/* ---- the watcher process ---- */

static void on_down(pga_proc_t *p, pga_conn_t *c, const pga_term_t *ref,
                    const pga_term_t *reason) {
  pga_ops_t *ops = pga__ops_of(pga_proc_data(p));
  pga_ops_trace_watch_t *w = watch_of(ops);
  erlang_ref r;
  (void)c, (void)reason;
  if (!w || pga__term_get_ref(ref, &r) != 0) return;
  for (tracer_t *t = w->tracers; t; t = t->next)
    if (t->monitored && pga_dist_ref_equal(&t->mon, &r)) {
      bury(ops, t);
      return;
    }
}

static const pga_proc_ops_t proc_ops = {.on_down = on_down};

static void on_nodedown(void *ud, pga_conn_t *c) {
  pga_ops_t *ops = pga__ops_of(ud);
  pga_ops_trace_watch_t *w = watch_of(ops);
  if (!w) return;
  for (tracer_t *t = w->tracers, *next; t; t = next) {
    next = t->next;
    if (t->monitored && t->conn_id == pga_conn_id(c)) bury(ops, t);
  }
}

int pga__ops_trace_watch_init(pga_ops_t *ops) {
  pga_ops_trace_t *st = ops->trace;
  if (!ops->d) return 0; /* unit tests without a node */
  if (!(st->watch = calloc(1, sizeof *st->watch))) return PGA_ENOMEM;
  /* data is the node: the plane may be gone when the process hears */
  if (!(st->watch->proc = pga_proc_new(ops->d, &proc_ops, ops->node)))
    return PGA_ENOMEM;
  return pga_dist_on_nodedown(ops->d, on_nodedown, ops->node);
}

void pga__ops_trace_watch_fini(pga_ops_t *ops) {
  pga_ops_trace_watch_t *w = watch_of(ops);
  if (!w) return;
  /* After the loop: monitors went with the connections, and the process
   * goes with the node. */
  while (w->tracers) drop(w, w->tracers);
  free(w);
  ((pga_ops_trace_t *)ops->trace)->watch = NULL;
}

uint64_t pga__ops_trace_parent(pga_ops_t *ops) {
  pga_ops_trace_watch_t *w = watch_of(ops);
  return w && w->proc ? pga_proc_id(w->proc) : 0;
}

int pga__ops_trace_admit(pga_ops_t *ops, const pga_term_t *tracer) {
  pga_ops_trace_watch_t *w = watch_of(ops);
  tracer_t *t;
  if (!w) return 0;
  /* not synced yet: the queued sync monitors it */
  if (!(t = find(w, tracer)) && !(t = add(w, tracer))) return 0;
  if (pga_ops_trace_rate_admit(&t->rate, pga__ops_mono_ms())) return 1;
  if (t->warned_window != t->rate.window_ms) {
    t->warned_window = t->rate.window_ms;
    pga_warn("trace: a tracer gets over %d messages/s; %llu dropped so far",
             PGA_OPS_TRACE_RATE_MAX, (unsigned long long)t->rate.dropped);
  }
  return 0;
}
