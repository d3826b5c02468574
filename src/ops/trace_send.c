/* Trace messages on requests (ops-plane.md §9.2): the ops plane is the
 * request plane's observer. Each request is a pseudo-process whose pid is
 * minted the first time a trace reports on it; the watcher process
 * (trace_watch.c) is the parent in :spawn messages. Process traces give
 * :spawn/:exit (:procs) and one :call per pipeline phase (:call); function
 * patterns give :call and :return_from on the request's target
 * {m, f, arity}. Loop thread; with no entry at all every callback returns
 * after one atomic load. Matching entries are copied under ops->lock and
 * sent after it is released (a send may run nodedown observers). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/trace_int.h"
#include "pga/errno.h"
#include "request/plane.h"

#define SINKS_MAX 64 /* distinct tracers one event goes to */

/* The tracers one event goes to (copies), each with its option: the
 * :timestamp flag (process traces) or return tracing (patterns). */
typedef struct sinks_s {
  pga_tb_t tb;
  size_t off[SINKS_MAX], len[SINKS_MAX];
  int opt[SINKS_MAX];
  size_t n;
} sinks_t;

static pga_term_t sink_tracer(const sinks_t *s, size_t i) {
  pga_term_t all = pga_tb_data(&s->tb);
  return (pga_term_t){all.buf + s->off[i], s->len[i]};
}

/* One message per tracer: a tracer met again keeps its first option. */
static void sinks_add(sinks_t *s, const pga_term_t *tracer, int opt) {
  for (size_t i = 0; i < s->n; i++) {
    pga_term_t t = sink_tracer(s, i);
    if (pga_term_equal(&t, tracer)) return;
  }
  if (s->n == SINKS_MAX) return;
  s->off[s->n] = pga_tb_data(&s->tb).len;
  pga_tb_term(&s->tb, tracer);
  s->len[s->n] = pga_tb_data(&s->tb).len - s->off[s->n];
  s->opt[s->n++] = opt;
}

static int entry_parts(const pga_ops_trace_entry_t *e, pga_term_t *tracer,
                       pga_term_t *how, pga_term_t *key) {
  pga_term_t t = {e->buf, e->len};
  return pga_term_tuple_get(&t, 0, tracer) == 0 &&
         pga_term_tuple_get(&t, 1, how) == 0 &&
         pga_term_tuple_get(&t, 2, key) == 0;
}

/* Process traces with flag whose target covers subject (NULL: a request
 * nobody has seen yet, which only :all covers). */
static void proc_sinks(pga_ops_t *ops, const pga_term_t *subject,
                       const char *flag, sinks_t *s) {
  pga_ops_trace_t *st = ops->trace;
  pga_term_t tracer, flags, target;
  pthread_mutex_lock(&ops->lock);
  for (size_t i = 0; i < st->procs.n; i++) {
    if (!entry_parts(&st->procs.v[i], &tracer, &flags, &target) ||
        !pga_ops_trace_has_flag(&flags, flag))
      continue;
    if (pga_term_is_atom(&target, "all") ||
        (subject && pga_term_equal(&target, subject)))
      sinks_add(s, &tracer, pga_ops_trace_has_flag(&flags, "timestamp"));
  }
  pthread_mutex_unlock(&ops->lock);
}

/* Does a pattern's {match_spec, flags, return_from?} ask for it? */
static int returns(const pga_term_t *how) {
  pga_term_t r;
  return pga_term_tuple_get(how, 2, &r) == 0 && pga_term_is_atom(&r, "true");
}

/* Patterns covering {m, f, arity}; only_returns: those that ask for
 * :return_from. */
static void func_sinks(pga_ops_t *ops, const pga_term_t *mfa, size_t arity,
                       int only_returns, sinks_t *s) {
  pga_ops_trace_t *st = ops->trace;
  pga_term_t tracer, how, pattern, n;
  pga_tb_t target, ar;
  pga__tb_init(&target, 0);
  pga__tb_init(&ar, 0);
  pga_tb_uint(&ar, arity);
  n = pga_tb_data(&ar);
  int ok = pga_ops_trace_mfa_with(&target, mfa, &n) == 0;
  pga_term_t t = pga_tb_data(&target);
  pthread_mutex_lock(&ops->lock);
  for (size_t i = 0; ok && i < st->funcs.n; i++) {
    if (!entry_parts(&st->funcs.v[i], &tracer, &how, &pattern) ||
        !pga_ops_trace_mfa_covers(&pattern, &t))
      continue;
    int r = returns(&how);
    if (r || !only_returns) sinks_add(s, &tracer, r);
  }
  pthread_mutex_unlock(&ops->lock);
  pga__tb_destroy(&ar);
  pga__tb_destroy(&target);
}

static int64_t wall_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* {tag, pid, what, a[, b][, ts]} to every sink the cap lets through;
 * with_ts: -1 never, 1 always, 0 as the sink's option says. */
static void send_all(pga_ops_t *ops, const sinks_t *s, int with_ts,
                     const pga_term_t *pid, const char *what,
                     const pga_term_t *a, const pga_term_t *b) {
  int64_t now = wall_us();
  for (size_t i = 0; i < s->n; i++) {
    pga_term_t to = sink_tracer(s, i);
    if (!pga__ops_trace_admit(ops, &to)) continue;
    int ts = with_ts > 0 || (with_ts == 0 && s->opt[i]);
    pga_tb_t msg;
    pga__tb_init(&msg, 0);
    pga__tb_version(&msg);
    pga_ops_trace_msg(&msg, pid, what, a, b, ts ? now : -1);
    if (!pga_tb_error(&msg)) (void)pga_dist_send(ops->d, 0, &to, &msg);
    pga__tb_destroy(&msg);
  }
}

static void sinks_init(sinks_t *s) {
  pga__tb_init(&s->tb, 0);
  s->n = 0;
}

static int active(pga_ops_t *ops) {
  pga_ops_trace_t *st = ops->trace;
  return st && atomic_load(&st->active);
}

/* The request's pid into tb, minted on first use. */
static pga_term_t request_pid(pga_ops_t *ops, const pga_request_probe_t *r,
                              pga_tb_t *tb) {
  if (!*r->pid_id) *r->pid_id = pga__dist_next_pid(ops->d);
  pga_dist_put_pid(ops->d, tb, *r->pid_id);
  return pga_tb_data(tb);
}

/* The request's pid if it has one (into tb), else NULL. */
static const pga_term_t *known_pid(pga_ops_t *ops,
                                   const pga_request_probe_t *r, pga_tb_t *tb,
                                   pga_term_t *out) {
  if (!*r->pid_id) return NULL;
  *out = request_pid(ops, r, tb);
  return out;
}

/* ---- the observer's callbacks ---- */

static void on_start(void *ud, const pga_request_probe_t *r) {
  pga_ops_t *ops = ud;
  pga_tb_t parent, child, mfa;
  sinks_t s;
  if (!active(ops)) return;
  pga__tb_init(&parent, 0);
  pga_dist_put_pid(ops->d, &parent, pga__ops_trace_parent(ops));
  pga_term_t pp = pga_tb_data(&parent);
  sinks_init(&s);
  proc_sinks(ops, &pp, "procs", &s);
  if (s.n) {
    pga__tb_init(&child, 0);
    pga__tb_init(&mfa, 0);
    pga_term_t cp = request_pid(ops, r, &child);
    pga_tb_tuple(&mfa, 3); /* the pseudo-process's initial call */
    pga_tb_atom(&mfa, "Elixir.PhoenixGenApi.Executor");
    pga_tb_atom(&mfa, "execute!");
    pga_tb_list(&mfa, 1);
    pga_tb_term(&mfa, r->request);
    pga_tb_nil(&mfa);
    pga_term_t m = pga_tb_data(&mfa);
    send_all(ops, &s, 0, &pp, "spawn", &cp, &m);
    pga__tb_destroy(&mfa);
    pga__tb_destroy(&child);
  }
  pga__tb_destroy(&s.tb);
  pga__tb_destroy(&parent);
}

static void on_phase(void *ud, const pga_request_probe_t *r,
                     const char *phase) {
  pga_ops_t *ops = ud;
  pga_tb_t pid, call;
  pga_term_t known;
  sinks_t s;
  if (!active(ops)) return;
  pga__tb_init(&pid, 0);
  sinks_init(&s);
  proc_sinks(ops, known_pid(ops, r, &pid, &known), "call", &s);
  if (s.n) {
    pga_tb_reset(&pid);
    pga_term_t p = request_pid(ops, r, &pid);
    pga__tb_init(&call, 0);
    pga_ops_trace_phase_call(&call, phase, r->request_id);
    pga_term_t c = pga_tb_data(&call);
    send_all(ops, &s, 0, &p, "call", &c, NULL);
    pga__tb_destroy(&call);
  }
  pga__tb_destroy(&s.tb);
  pga__tb_destroy(&pid);
}

static void on_end(void *ud, const pga_request_probe_t *r) {
  pga_ops_t *ops = ud;
  pga_tb_t pid, why;
  pga_term_t p;
  sinks_t s;
  if (!active(ops) || !*r->pid_id) return; /* nobody saw it live */
  pga__tb_init(&pid, 0);
  sinks_init(&s);
  proc_sinks(ops, known_pid(ops, r, &pid, &p), "procs", &s);
  if (s.n) {
    pga__tb_init(&why, 0);
    pga_tb_atom(&why, "normal");
    pga_term_t w = pga_tb_data(&why);
    send_all(ops, &s, 0, &p, "exit", &w, NULL);
    pga__tb_destroy(&why);
  }
  pga__tb_destroy(&s.tb);
  pga__tb_destroy(&pid);
}

static void on_call(void *ud, const pga_request_probe_t *r,
                    const pga_term_t *mfa, const pga_term_t *args) {
  pga_ops_t *ops = ud;
  pga_tb_t pid, what;
  size_t arity = 0;
  sinks_t s;
  if (!active(ops) || pga_term_list_length(args, &arity) != 0) return;
  sinks_init(&s);
  func_sinks(ops, mfa, arity, 0, &s);
  pga__tb_init(&pid, 0);
  pga__tb_init(&what, 0);
  if (s.n && pga_ops_trace_mfa_with(&what, mfa, args) == 0) {
    pga_term_t p = request_pid(ops, r, &pid), w = pga_tb_data(&what);
    send_all(ops, &s, 1, &p, "call", &w, NULL);
  }
  pga__tb_destroy(&what);
  pga__tb_destroy(&pid);
  pga__tb_destroy(&s.tb);
}

static void on_return(void *ud, const pga_request_probe_t *r,
                      const pga_term_t *mfa, size_t arity,
                      const pga_term_t *result) {
  pga_ops_t *ops = ud;
  pga_tb_t pid, what, n;
  sinks_t s;
  if (!active(ops)) return;
  sinks_init(&s);
  func_sinks(ops, mfa, arity, 1, &s);
  pga__tb_init(&pid, 0);
  pga__tb_init(&what, 0);
  pga__tb_init(&n, 0);
  pga_tb_uint(&n, arity);
  pga_term_t nt = pga_tb_data(&n);
  if (s.n && pga_ops_trace_mfa_with(&what, mfa, &nt) == 0) {
    pga_term_t p = request_pid(ops, r, &pid), w = pga_tb_data(&what);
    send_all(ops, &s, 1, &p, "return_from", &w, result);
  }
  pga__tb_destroy(&n);
  pga__tb_destroy(&what);
  pga__tb_destroy(&pid);
  pga__tb_destroy(&s.tb);
}

static const pga_request_observer_t observer = {on_start, on_phase, on_call,
                                                on_return, on_end};

int pga__ops_trace_observe(pga_ops_t *ops) {
  if (!ops->node || !ops->d) return 0;
  int rc = pga_request_plane_set_observer(ops->node, &observer, ops);
  return rc == PGA_ENOTFOUND ? 0 : rc; /* no request plane: no requests */
}

void pga__ops_trace_unobserve(pga_ops_t *ops) {
  if (ops->node) (void)pga_request_plane_set_observer(ops->node, NULL, NULL);
}
