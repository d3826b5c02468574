/* PhoenixGenApi.Executor served over RPC: the request pipeline of
 * request-plane.md §3 assembled from the building blocks (request.h) and
 * driven on the node's loop thread with non-blocking outgoing calls.
 *
 * Invariants:
 *   1. execute!/1 and execute_params!/1 are PGA_FN_ASYNC: every stage runs
 *      on the loop thread; waiting (permission callback, hook, remote call,
 *      backoff) is an outgoing call, a job or a timer, never a sleep.
 *      Registered C functions (hooks, :local, local permission callbacks)
 *      run as jobs on the worker pool (inv_t, R14/R15).
 *   2. One exec_t per request. It owns copies of everything it reads
 *      later (Request map, FunConfig, caller pid, final arguments), so no
 *      view outlives the RPC arguments.
 *   3. A deferred call is completed exactly once (reply()); :async, :none
 *      and :stream complete it with the ack and go on in the background
 *      as a task of async_pool or stream_pool (workpool.h): E9 when the
 *      pool is full or its breaker open (docs/compat.md R16, R24).
 *      With an after hook, reply() hands the call and the Response to an
 *      after_t that completes it when the hook ends (§10).
 *   4. Every background request ends with a message to the caller
 *      (:async) or the stream's end: each remote call is bounded by its
 *      timeout t, so nothing is killed silently (R17).
 *   5. A stream relay buffers the service's messages until the call's
 *      reply is in, then sends the first chunk and the buffered messages
 *      in arrival order (§9.3). */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "config/file.h"
#include "request/exec_int.h"

#define STREAM_BUF_MAX 10000 /* messages held before the call's reply */

/* The Response of a request whose after hook runs: the call completes
 * when the hook ends, whatever it does (§10). */
typedef struct after_s {
  pga_call_t *call;
  pga_tb_t resp;
  plane_t *pl;
  char m[PGA_ATOM_BUF], f[PGA_ATOM_BUF];
  int64_t t0_us;
} after_t;

struct fnctx_s {
  pga_tb_t *out;
  pga_outcome_t outcome;
  int replied;
};

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static plane_t *planes; /* one per node; started before the loop runs */

plane_t *pga__ex_plane_of(pga_node_t *node) {
  for (plane_t *p = planes; p; p = p->next)
    if (p->node == node) return p;
  return NULL;
}

/* ---- native-or-remote invocations (R14, R15) ---- */

static void inv_free(inv_t *v) {
  plane_t *pl = v->pl;
  if (v->call_id) pga_rpc_call_cancel(pl->rpc, v->call_id);
  if (v->timer) pga_loop_timer_cancel(pl->loop, v->timer);
  if (v->prev) v->prev->next = v->next;
  else pl->invs = v->next;
  if (v->next) v->next->prev = v->prev;
  pga__tb_destroy(&v->early);
  free(v);
}

/* Detaches the owner, runs its done (which must forget v first: it may
 * free the owner), then frees v unless a native job still runs. */
static void inv_fire(inv_t *v, const pga_term_t *result) {
  void *owner = v->owner;
  inv_done_fn done = v->done;
  v->owner = NULL;
  if (v->timer) pga_loop_timer_cancel(v->pl->loop, v->timer);
  v->timer = 0;
  if (owner) done(owner, result);
  if (!v->native) inv_free(v);
}

/* The owner goes first: v's result will not be seen. */
void pga__ex_inv_abandon(inv_t *v) {
  v->owner = NULL;
  if (v->timer) pga_loop_timer_cancel(v->pl->loop, v->timer);
  v->timer = 0;
  if (!v->native) inv_free(v);
}

static void inv_call_done(void *ud, const pga_term_t *result) {
  inv_t *v = ud;
  v->call_id = 0;
  inv_fire(v, result);
}

static int64_t inv_timeout(pga_loop_t *loop, uint64_t id, void *ud) {
  inv_t *v = ud;
  (void)loop, (void)id;
  v->timer = 0;
  if (v->have_early) {
    pga_term_t r = pga_tb_data(&v->early);
    v->native = 0;
    inv_fire(v, &r);
    return PGA_TIMER_NOMORE;
  }
  inv_fire(v, NULL);
  return PGA_TIMER_NOMORE;
}

static void inv_job_done(void *ud, const pga_term_t *result) {
  inv_t *v = ud;
  if (v->starting) { /* inside pga_rpc_run: report from a 0 ms timer */
    pga_tb_term(&v->early, result);
    v->have_early = 1;
    return;
  }
  v->native = 0;
  if (v->owner) inv_fire(v, result);
  else inv_free(v);
}

/* Runs m:f(args): natively when {m, f, length(args)} is registered (or
 * native_only), else by rpc on node. timeout_ms 0 = none. 0, or a
 * negative PGA_E* (done never runs; no native function with native_only
 * gives PGA_ENOTFOUND). */
int pga__ex_inv_start(plane_t *pl, void *owner, inv_done_fn done,
                      void (*drop)(void *), const char *node, const char *m,
                      const char *f, const pga_term_t *args, size_t argc,
                      unsigned timeout_ms, int native_only, inv_t **out) {
  inv_t *v = calloc(1, sizeof *v);
  int rc;
  if (!v) return PGA_ENOMEM;
  v->pl = pl;
  v->owner = owner;
  v->done = done;
  v->drop = drop;
  pga__tb_init(&v->early, 0);
  v->next = pl->invs;
  if (pl->invs) pl->invs->prev = v;
  pl->invs = v;
  if (pga_rpc_lookup(pl->rpc, m, f, (unsigned)argc)) {
    v->native = v->starting = 1;
    rc = pga_rpc_run(pl->rpc, NULL, NULL, NULL, m, f, args, inv_job_done, v);
    v->starting = 0;
    if (rc != 0) v->native = 0;
    else if (v->have_early) timeout_ms = 0, v->native = 0;
    if (rc == 0 && (timeout_ms || v->have_early)) {
      v->timer = pga_loop_timer(pl->loop, timeout_ms, inv_timeout, v);
      if (!v->timer && v->have_early) rc = PGA_ENOMEM;
    }
  } else if (native_only) {
    rc = PGA_ENOTFOUND;
  } else {
    rc = pga_rpc_call(pl->rpc, node, m, f, args, timeout_ms, inv_call_done,
                      v, &v->call_id);
  }
  if (rc != 0) {
    v->call_id = 0;
    if (v->native) v->owner = NULL; /* the job reports later */
    else inv_free(v);
    return rc;
  }
  *out = v;
  return 0;
}

/* ---- exec lifetime ---- */

/* The relay exits with reason normal (a monitoring channel sees DOWN). */
static void relay_free(exec_t *e) {
  pga_tb_t r;
  if (!e->relay) return;
  if (e->rcv_node[0]) {
    /* by id: a connection that is gone must not be started again */
    pga_conn_t *c = pga_dist_conn_by_id(e->pl->d, e->rcv_conn);
    pga_term_t to = pga_tb_data(&e->caller);
    if (c && pga_conn_is_up(c)) pga_dist_demonitor(e->pl->d, e->relay, c, &to, &e->rcv_ref);
    e->rcv_node[0] = 0;
  }
  pga__tb_init(&r, 0);
  pga_tb_atom(&r, "normal");
  pga_term_t t = pga_tb_data(&r);
  pga_proc_exit(e->relay, &t);
  pga__tb_destroy(&r);
  e->relay = NULL;
  atomic_fetch_sub(&e->pl->n_streams, 1);
}

static void exec_free(exec_t *e) {
  plane_t *pl = e->pl;
  pga__ex_tr_end(e);
  if (e->call_id) pga_rpc_call_cancel(pl->rpc, e->call_id);
  if (e->timer) pga_loop_timer_cancel(pl->loop, e->timer);
  if (e->end_timer) pga_loop_timer_cancel(pl->loop, e->end_timer);
  if (e->pool >= 0)
    pga__wp_done(pl->pools[e->pool], &e->task, e->fail_kind, e->fail_reason,
                 mono_ms());
  free(e->fail_reason);
  if (e->inv) pga__ex_inv_abandon(e->inv);
  if (e->resolve) pga__ex_resolve_cancel(e);
  relay_free(e);
  atomic_fetch_sub(&pl->n_execs, 1);
  for (size_t i = 0; i < e->nbuf; i++) {
    pga__tb_destroy(e->buf[i]);
    free(e->buf[i]);
  }
  free(e->buf);
  if (e->prev) e->prev->next = e->next;
  else pl->execs = e->next;
  if (e->next) e->next->prev = e->prev;
  pga__tb_destroy(&e->reqtb);
  pga__tb_destroy(&e->caller);
  pga__tb_destroy(&e->nodes_tb);
  pga__tb_destroy(&e->args);
  pga__tb_destroy(&e->last);
  pga__tb_destroy(&e->fctb);
  pga_funconfig_free(e->fc);
  free(e);
}

/* ---- after hook (§10): runs once on the Response, result discarded ---- */

static void after_drop(void *owner) {
  after_t *a = owner;
  pga__tb_destroy(&a->resp);
  free(a);
}

static void after_done(void *owner, const pga_term_t *result) {
  after_t *a = owner;
  pga_term_t v = pga_tb_data(&a->resp);
  /* discarded, crash and timeout included */
  pga__ex_ev_hook_end(a->pl, "after", a->m, a->f, a->t0_us, result);
  pga_call_complete(a->call, PGA_RETURN, &v);
  after_drop(a);
}

/* Starts the after hook on (request, config, v); 0 when it took the call
 * over (completed when the hook ends), else nonzero: reply now. */
static int after_start(exec_t *e, const pga_term_t *v) {
  pga_term_t hook = pga_funconfig_get(e->fc, PGA_FC_AFTER_EXECUTE), extra;
  char m[PGA_ATOM_BUF], f[PGA_ATOM_BUF];
  int n = pga_request_hook_of(&hook, m, f, sizeof m, &extra);
  pga_tb_t args;
  after_t *a;
  inv_t *inv;
  int rc;

  e->after = 0; /* exactly once */
  if (!n || !(a = calloc(1, sizeof *a))) return -1;
  a->call = e->call;
  a->pl = e->pl;
  snprintf(a->m, sizeof a->m, "%s", m);
  snprintf(a->f, sizeof a->f, "%s", f);
  a->t0_us = pga_telemetry_monotonic_us();
  pga__ex_ev_hook_start(e->pl, "after", m, f);
  pga__tb_init(&a->resp, 0);
  pga_tb_term(&a->resp, v);
  pga__tb_init(&args, 0);
  pga_tb_list(&args, 3);
  pga_term_t rq = pga_tb_data(&e->reqtb), fc = pga_tb_data(&e->fctb);
  pga_tb_term(&args, &rq);
  pga_tb_term(&args, &fc);
  pga_tb_term(&args, n == 3 ? &extra : v);
  pga_tb_nil(&args);
  pga_term_t av = pga_tb_data(&args);
  rc = pga_tb_error(&args) || pga_tb_error(&a->resp)
           ? PGA_ENOMEM
           : pga__ex_inv_start(e->pl, a, after_done, after_drop, e->hook_node, m, f,
                       &av, 3, PGA_REQUEST_HOOK_TIMEOUT_MS, 0, &inv);
  pga__tb_destroy(&args);
  if (rc != 0) {
    pga_debug("after hook %s:%s not run: %s", m, f, pga_strerror(rc));
    pga__ex_ev_hook_nodedown(e->pl, "after", m, f, a->t0_us);
    after_drop(a);
    return rc;
  }
  return 0;
}

/* Ends the RPC call (once). */
static void reply(exec_t *e, pga_outcome_t oc, const pga_term_t *v) {
  if (e->call || e->fn) {
    if (oc == PGA_RETURN) pga__ex_ev_request_stop(e, v);
    else pga__ex_ev_request_exception(e, v);
  }
  if (oc == PGA_RETURN && e->after && e->call && after_start(e, v) == 0) {
    e->fn = NULL; /* run() returns PGA_DEFER; the hook completes it */
    e->call = NULL;
    return;
  }
  if (e->fn) {
    pga_tb_term(e->fn->out, v);
    e->fn->outcome = oc;
    e->fn->replied = 1;
    e->fn = NULL;
  } else if (e->call) {
    pga_call_complete(e->call, oc, v);
  }
  e->call = NULL;
}

static void reply_tb(exec_t *e, pga_outcome_t oc, pga_tb_t *tb) {
  pga_term_t v;
  if (pga_tb_error(tb)) {
    pga_tb_reset(tb);
    pga_tb_atom(tb, "enomem");
    oc = PGA_ERROR;
  }
  v = pga_tb_data(tb);
  reply(e, oc, &v);
}

/* Replies with error_response(id, msg, can_retry) and ends the request. */
static void reply_error(exec_t *e, const char *msg, int can_retry) {
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_request_error_response(&tb, &e->req.request_id, msg, can_retry);
  reply_tb(e, PGA_RETURN, &tb);
  pga__tb_destroy(&tb);
  exec_free(e);
}

/* Sends {tag, term} (or term alone when tag is NULL) to the caller. */
static void send_caller(exec_t *e, const char *tag, const pga_term_t *a,
                        const pga_term_t *b) {
  pga_tb_t msg;
  pga_term_t to = pga_tb_data(&e->caller);
  if (!to.buf || pga_term_type(&to) != PGA_T_PID) return;
  pga__tb_init(&msg, 0);
  pga__tb_version(&msg);
  pga_tb_tuple(&msg, b ? 3 : 2);
  pga_tb_atom(&msg, tag);
  pga_tb_term(&msg, a);
  if (b) pga_tb_term(&msg, b);
  if (pga_tb_error(&msg) == 0)
    pga_dist_send(e->pl->d, e->relay ? pga_proc_id(e->relay) : 0, &to, &msg);
  pga__tb_destroy(&msg);
}

/* The error Response for a failed call: E7, or E7d with detail. */
static void error_resp(exec_t *e, pga_tb_t *tb, const pga_term_t *term,
                       const char *inspected) {
  char *s = NULL;
  if (e->pl->detail)
    s = pga_request_detail_error(PGA_REQUEST_E7 ": ", term, inspected);
  pga_request_error_response(tb, &e->req.request_id, s ? s : PGA_REQUEST_E7,
                             0);
  free(s);
}

/* ---- background task outcome (workpool.h) ---- */

/* Marks the background task failed (first failure wins); reason is
 * inspect(term) or text. The pool hears of it when e is freed. */
static void task_failed(exec_t *e, const char *kind, const pga_term_t *term,
                        const char *text) {
  if (e->pool < 0 || e->fail_kind) return;
  e->fail_kind = kind;
  e->fail_reason = term ? pga_request_detail_error("", term, NULL)
                        : strdup(text ? text : "");
}

/* ---- stream relay (§9.3) ---- */

static void stream_end(exec_t *e) { exec_free(e); }

static void stream_send(exec_t *e, pga_tb_t *resp) {
  pga_term_t r = pga_tb_data(resp);
  send_caller(e, "stream_response", &r, NULL);
}

/* One relay message once the stream is live: 1 if the stream ended. */
static int stream_msg(exec_t *e, const pga_term_t *msg) {
  pga_term_t el[2];
  size_t arity = 0;
  pga_tb_t tb;
  int end = 1;
  const pga_term_t *id = &e->req.request_id;

  pga__tb_init(&tb, 0);
  if (pga_term_is_atom(msg, "complete")) {
    pga_request_response(&tb, id, NULL, 1, NULL, 1, 0, 0);
  } else if (pga_term_type(msg) == PGA_T_TUPLE &&
             pga_term_tuple_arity(msg, &arity) == 0 && arity == 2 &&
             pga_term_tuple_get(msg, 0, &el[0]) == 0 &&
             pga_term_tuple_get(msg, 1, &el[1]) == 0) {
    if (pga_term_is_atom(&el[0], "result")) {
      pga_request_response(&tb, id, &el[1], 1, NULL, 1, 1, 0);
      end = 0;
    } else if (pga_term_is_atom(&el[0], "last_result")) {
      pga_request_response(&tb, id, &el[1], 1, NULL, 1, 0, 0);
    } else if (pga_term_is_atom(&el[0], "error")) {
      error_resp(e, &tb, &el[1], NULL);
      task_failed(e, "error", &el[1], NULL);
    } else if (pga_term_is_atom(&el[0], "$gen_cast") &&
               pga_term_is_atom(&el[1], "stop")) {
      pga_request_response(&tb, id, NULL, 1, NULL, 1, 0, 0);
    } else {
      end = -1;
    }
  } else {
    end = -1; /* anything else: ignored (the library logs it) */
  }
  if (end >= 0) stream_send(e, &tb);
  pga__tb_destroy(&tb);
  if (end == 1) stream_end(e);
  return end == 1;
}

static void relay_on_message(pga_proc_t *p, pga_conn_t *c,
                             const pga_term_t *from, const pga_term_t *msg) {
  exec_t *e = pga_proc_data(p);
  (void)c, (void)from;
  if (e && e->relay == p) pga__ex_relay_message(e, msg);
}

void pga__ex_relay_message(exec_t *e, const pga_term_t *msg) {
  if (e->live) {
    stream_msg(e, msg);
    return;
  }
  if (e->nbuf == STREAM_BUF_MAX) return; /* bounded: R19 */
  if (e->nbuf == e->bufcap) {
    size_t cap = e->bufcap ? e->bufcap * 2 : 16;
    pga_tb_t **nb = realloc(e->buf, cap * sizeof *nb);
    if (!nb) return;
    e->buf = nb;
    e->bufcap = cap;
  }
  pga_tb_t *tb = malloc(sizeof *tb);
  if (!tb) return;
  pga__tb_init(tb, 0);
  pga_tb_term(tb, msg);
  e->buf[e->nbuf++] = tb;
}

static void relay_on_exit(pga_proc_t *p, pga_conn_t *c, const pga_term_t *from,
                          const pga_term_t *reason, int is_link) {
  (void)p, (void)c, (void)from, (void)reason, (void)is_link;
  /* traps exits, as a GenServer linked to nothing else would not die
   * from a stray exit/2 with reason normal; others are ignored (R19) */
}

static int64_t receiver_gone(pga_loop_t *loop, uint64_t id, void *ud);

/* The receiver died: nobody reads the stream any more (R19). */
static void relay_on_down(pga_proc_t *p, pga_conn_t *c, const pga_term_t *ref,
                          const pga_term_t *reason) {
  exec_t *e = pga_proc_data(p);
  (void)c, (void)ref, (void)reason;
  if (!e || e->relay != p) return;
  e->rcv_node[0] = 0; /* the monitor is gone */
  if (!e->end_timer)
    e->end_timer = pga_loop_timer(e->pl->loop, 0, receiver_gone, e);
}

static const pga_proc_ops_t relay_ops = {
    .on_message = relay_on_message,
    .on_exit_signal = relay_on_exit,
    .on_down = relay_on_down,
};

static int64_t stream_timeout(pga_loop_t *loop, uint64_t id, void *ud) {
  exec_t *e = ud;
  pga_tb_t tb, why;
  (void)loop, (void)id;
  e->timer = 0;
  pga__tb_init(&tb, 0);
  pga__tb_init(&why, 0);
  pga_tb_atom(&why, "timeout");
  pga_term_t w = pga_tb_data(&why);
  error_resp(e, &tb, &w, NULL);
  stream_send(e, &tb);
  {
    char text[64];
    pga_term_t to = pga_funconfig_get(e->fc, PGA_FC_TIMEOUT);
    int64_t ms = 0;
    (void)pga_term_get_int64(&to, &ms);
    snprintf(text, sizeof text, "task timed out after %lldms", (long long)ms);
    task_failed(e, "timeout", NULL, text);
  }
  pga__tb_destroy(&tb);
  pga__tb_destroy(&why);
  stream_end(e);
  return PGA_TIMER_NOMORE;
}

static int64_t receiver_gone(pga_loop_t *loop, uint64_t id, void *ud) {
  exec_t *e = ud;
  (void)loop, (void)id;
  e->end_timer = 0;
  e->rcv_node[0] = 0;
  stream_end(e);
  return PGA_TIMER_NOMORE;
}

/* Monitors the receiver from the relay, so a stream nobody reads ends and
 * frees its slot. A local or unreachable receiver is not monitored. */
static void monitor_receiver(exec_t *e) {
  pga_term_t to = pga_tb_data(&e->caller);
  erlang_pid ep;
  pga_conn_t *c;

  if (!to.buf || pga__term_get_pid(&to, &ep) != 0 ||
      pga_dist_local_pid_id(e->pl->d, &to) != 0 ||
      !(c = pga_dist_conn_get(e->pl->d, ep.node)))
    return;
  pga_dist_make_ref(e->pl->d, &e->rcv_ref);
  if (pga_dist_monitor(e->pl->d, e->relay, c, &to, &e->rcv_ref) == 0) {
    snprintf(e->rcv_node, sizeof e->rcv_node, "%s", ep.node);
    e->rcv_conn = pga_conn_id(c);
  }
}

/* The call's Response is in (§9.3 steps 2-3). */
static void stream_first(exec_t *e, pga_tb_t *resp, int ok) {
  pga_term_t r = pga_tb_data(resp);
  if (!ok) {
    pga_term_t err;
    const char *txt;
    size_t n;
    char *s = NULL;
    if (pga_term_map_get_atom(&r, "error", &err) == 0 &&
        pga_term_get_binary(&err, &txt, &n) == 0)
      s = strndup(txt, n);
    task_failed(e, "error", NULL, s ? s : PGA_REQUEST_E7);
    free(s);
    stream_send(e, resp);
    stream_end(e);
    return;
  }
  pga_tb_t chunk;
  pga__tb_init(&chunk, 0);
  pga_request_response(&chunk, &e->req.request_id, &r, 1, NULL, 1, 1, 0);
  stream_send(e, &chunk);
  pga__tb_destroy(&chunk);
  e->live = 1;
  snprintf(e->svc_node, sizeof e->svc_node, "%s", e->node);
  pga_term_t to = pga_funconfig_get(e->fc, PGA_FC_TIMEOUT);
  int64_t ms;
  if (pga_term_get_int64(&to, &ms) == 0 && ms > 0)
    e->timer = pga_loop_timer(e->pl->loop, ms, stream_timeout, e);
  /* buffered messages, in arrival order; the stream may end on any */
  pga_tb_t **buf = e->buf;
  size_t n = e->nbuf;
  e->buf = NULL;
  e->nbuf = e->bufcap = 0;
  int ended = 0;
  for (size_t i = 0; i < n; i++) {
    if (!ended) {
      pga_term_t m = pga_tb_data(buf[i]);
      ended = stream_msg(e, &m);
    }
    pga__tb_destroy(buf[i]);
    free(buf[i]);
  }
  free(buf);
}

/* Service node gone: the stream ends with an error Response (R18). The
 * end runs from a 0 ms timer: nodedown observers also run while the node
 * shuts down (loop stopped, rpc layer gone), when nothing may be sent. */
static int64_t node_dead(pga_loop_t *loop, uint64_t id, void *ud) {
  exec_t *e = ud;
  pga_tb_t tb, why;
  (void)loop, (void)id;
  e->end_timer = 0;
  pga__tb_init(&tb, 0);
  pga__tb_init(&why, 0);
  pga_tb_atom(&why, "nodedown");
  pga_term_t w = pga_tb_data(&why);
  error_resp(e, &tb, &w, NULL);
  stream_send(e, &tb);
  task_failed(e, "error", &w, NULL);
  pga__tb_destroy(&tb);
  pga__tb_destroy(&why);
  stream_end(e);
  return PGA_TIMER_NOMORE;
}

static void on_nodedown(void *ud, pga_conn_t *c) {
  plane_t *pl = pga__ex_plane_of(ud); /* NULL once the plane stopped */
  if (!pl) return;
  const char *node = pga_conn_node(c);
  for (exec_t *e = pl->execs; e; e = e->next) {
    if (e->rt != RT_STREAM) continue;
    if (e->rcv_node[0] && !strcmp(e->rcv_node, node)) {
      e->rcv_node[0] = 0; /* the monitor went with the connection */
      if (!e->end_timer)
        e->end_timer = pga_loop_timer(pl->loop, 0, receiver_gone, e);
    } else if (e->live && !strcmp(e->svc_node, node) && !e->end_timer) {
      e->end_timer = pga_loop_timer(pl->loop, 0, node_dead, e);
    }
  }
}

/* ---- delivering the final result (§3.3) ---- */

static int is_response(const pga_term_t *t) {
  pga_term_t tag;
  return pga_term_type(t) == PGA_T_MAP &&
         pga_term_map_get_atom(t, "__struct__", &tag) == 0 &&
         pga_term_is_atom(&tag, "Elixir.PhoenixGenApi.Structs.Response");
}

static void deliver(exec_t *e, const pga_term_t *raw) {
  pga_tb_t resp;
  pga_term_t v;
  int ok = 0;

  atomic_fetch_add(&e->pl->work_units, 1); /* one pipeline stage */
  pga__ex_tr_deliver(e);
  pga__tb_init(&resp, 0);
  if (e->relay_builtin && is_response(raw)) {
    pga_tb_term(&resp, raw); /* the relay's own Response, as is */
    ok = 1;
  } else switch (pga_request_map_result(raw, &v)) {
  case PGA_MAP_OK:
    pga_request_response(&resp, &e->req.request_id, &v, 1, NULL, 0, 0, 0);
    ok = 1;
    break;
  case PGA_MAP_ERROR:
    error_resp(e, &resp, raw, NULL);
    break;
  default:
    pga_request_error_response(&resp, &e->req.request_id, PGA_REQUEST_E8, 0);
  }
  if (!ok && e->rt != RT_STREAM) task_failed(e, "error", raw, NULL);
  switch (e->rt) {
  case RT_SYNC:
    reply_tb(e, PGA_RETURN, &resp);
    exec_free(e);
    break;
  case RT_ASYNC: {
    pga_term_t r = pga_tb_data(&resp);
    send_caller(e, "async_call", &r, NULL);
    exec_free(e);
    break;
  }
  case RT_NONE:
    exec_free(e);
    break;
  case RT_STREAM:
    stream_first(e, &resp, ok);
    break;
  }
  pga__tb_destroy(&resp);
}

/* An {:error, reason} with reason a string or a term. */
static void deliver_error(exec_t *e, const char *text, const pga_term_t *t) {
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_tb_tuple(&tb, 2);
  pga_tb_atom(&tb, "error");
  if (text) pga_tb_string(&tb, text);
  else pga_tb_term(&tb, t);
  pga_term_t r = pga_tb_data(&tb);
  deliver(e, &r);
  pga__tb_destroy(&tb);
}

/* ---- remote call, fallback, retry (§8.4, §8.5) ---- */

static void next_node(exec_t *e);

static void pass_end(exec_t *e);

static void call_done(void *ud, const pga_term_t *result) {
  exec_t *e = ud;
  e->call_id = 0;
  pga__ex_tr_return(e, result);
  pga_tb_reset(&e->last);
  if (pga_request_rpc_outcome(result, &e->last)) {
    pga_tb_reset(&e->last);
    pga_tb_term(&e->last, result);
    e->have_last = 1;
    pass_end(e);
    return;
  }
  e->have_last = 1;
  e->idx++;
  next_node(e);
}

/* A local function's result: as a remote call's (NULL: past t). */
static void local_done(void *ud, const pga_term_t *result) {
  exec_t *e = ud;
  e->inv = NULL;
  if (result) {
    call_done(e, result);
    return;
  }
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_tb_tuple(&tb, 2);
  pga_tb_atom(&tb, "badrpc");
  pga_tb_atom(&tb, "timeout");
  pga_term_t r = pga_tb_data(&tb);
  call_done(e, &r);
  pga__tb_destroy(&tb);
}

/* A node term's name ("a@b" from an atom or, R15, a binary). */
int pga__ex_node_name(const pga_term_t *t, char *out, size_t len) {
  const char *p;
  size_t n;
  if (pga_term_get_atom(t, out, len) == 0) return 0;
  if (pga_term_get_binary(t, &p, &n) == 0 && n < len && !memchr(p, 0, n)) {
    memcpy(out, p, n);
    out[n] = 0;
    return 0;
  }
  return PGA_EINVAL;
}

static int is_relay(const char *m, const char *f) {
  return strcmp(m, "Elixir.PhoenixGenApi.Relay") == 0 &&
         strcmp(f, "handle_relay") == 0;
}

/* [request, fun_config] for the relay's built-in handler. */
static void relay_argv(exec_t *e, pga_tb_t *tb) {
  pga_term_t rq = pga_tb_data(&e->reqtb), fc = pga_tb_data(&e->fctb);
  pga_tb_list(tb, 2);
  pga_tb_term(tb, &rq);
  pga_tb_term(tb, &fc);
  pga_tb_nil(tb);
}

static void next_node(exec_t *e) {
  pga_term_t mfa = pga_funconfig_get(e->fc, PGA_FC_MFA), el[3];
  char m[PGA_ATOM_BUF], f[PGA_ATOM_BUF];
  pga_term_t args = pga_tb_data(&e->args);

  if (pga_term_tuple_get(&mfa, 0, &el[0]) != 0 ||
      pga_term_tuple_get(&mfa, 1, &el[1]) != 0 ||
      pga_term_get_atom(&el[0], m, sizeof m) != 0 ||
      pga_term_get_atom(&el[1], f, sizeof f) != 0) {
    deliver_error(e, "invalid mfa", NULL); /* validated configs: never */
    return;
  }
  if (e->local && e->idx < e->norder) { /* R15: the registered C fn */
    size_t argc = 0;
    pga_tb_t relay_args;
    pga__tb_init(&relay_args, 0);
    if ((e->relay_builtin = is_relay(m, f)) != 0) {
      relay_argv(e, &relay_args);
      args = pga_tb_data(&relay_args);
    }
    pga_term_list_length(&args, &argc);
    e->idx = e->norder - 1; /* one node: the gateway; call_done moves on */
    int rc = pga__ex_inv_start(e->pl, e, local_done, NULL, NULL, m, f, &args,
                               argc, e->t_ms, 1, &e->inv);
    if (rc == 0) pga__ex_tr_call(e, &args);
    pga__tb_destroy(&relay_args);
    if (rc == 0) return;
    e->inv = NULL;
    pga_tb_reset(&e->last);
    pga_tb_tuple(&e->last, 2);
    pga_tb_atom(&e->last, "error");
    pga_tb_atom(&e->last, "nodedown");
    e->have_last = 1;
    e->idx = e->norder;
    pass_end(e);
    return;
  }
  while (e->idx < e->norder) {
    if (pga__ex_node_name(&e->order[e->idx], e->node, sizeof e->node) == 0 &&
        pga_rpc_call(e->pl->rpc, e->node, m, f, &args, e->t_ms, call_done, e,
                     &e->call_id) == 0) {
      pga__ex_tr_call(e, &args); /* call_done never runs inside the call */
      return;
    }
    e->call_id = 0;
    pga_tb_reset(&e->last); /* could not be called: as :rpc.call says */
    pga_tb_tuple(&e->last, 2);
    pga_tb_atom(&e->last, "error");
    pga_tb_atom(&e->last, "nodedown");
    e->have_last = 1;
    e->idx++;
  }
  pass_end(e);
}

static void pass_start(exec_t *e) {
  pga__ex_tr_phase(e, "execution");
  e->idx = 0;
  e->have_last = 0;
  next_node(e);
}

static int64_t backoff_done(pga_loop_t *loop, uint64_t id, void *ud) {
  exec_t *e = ud;
  (void)loop, (void)id;
  e->timer = 0;
  if (e->retry.mode == PGA_RETRY_ALL_NODES &&
      pga_request_select_all(e->pl->sel, &e->nodes, e->order, MAX_NODES,
                             &e->norder) != 0)
    e->norder = 0;
  pga__ex_ev_retry(e); /* after the sleep, as the library */
  pga__ex_tr_phase(e, "retry");
  pass_start(e);
  return PGA_TIMER_NOMORE;
}

static void pass_end(exec_t *e) {
  pga_term_t result;
  int64_t attempt, ms;

  if (!e->have_last) { /* empty list */
    pga_tb_reset(&e->last);
    pga_tb_tuple(&e->last, 2);
    pga_tb_atom(&e->last, "error");
    pga_tb_string(&e->last, "no target nodes available");
  }
  result = pga_tb_data(&e->last);
  if (pga_request_retry_next(&e->retry, &result, &attempt)) {
    double u = (double)(rand() % 1000000) / 1000000.0;
    if (pga_request_retry_backoff(attempt, u, &ms) != 0) ms = 5000;
    e->retry_attempt = attempt;
    e->retry_backoff = ms;
    e->timer = pga_loop_timer(e->pl->loop, ms, backoff_done, e);
    if (e->timer) return;
  }
  if (pga_request_retry_final(&result)) {
    pga__ex_ev_retry_exhausted(e, &result);
    pga_tb_t tb;
    pga__tb_init(&tb, 0);
    pga_tb_atom(&tb, "retry_exhausted");
    pga_term_t why = pga_tb_data(&tb);
    deliver_error(e, NULL, &why);
    pga__tb_destroy(&tb);
    return;
  }
  deliver(e, &result);
}

/* "node selection failed: <inspect(reason)>" (§8.4), no retry. */
static void selection_failed(exec_t *e, pga_tb_t *reason, int rc) {
  if (pga_tb_data(reason).len == 0) /* ETOOBIG, ENOMEM...: no term */
    pga_tb_atom(reason, rc == PGA_ETOOBIG ? "too_many_nodes" : "error");
  pga_term_t r = pga_tb_data(reason);
  char *s = pga_request_detail_error("node selection failed: ", &r, NULL);
  deliver_error(e, s ? s : "node selection failed", NULL);
  free(s);
}

static void select_and_call(exec_t *e);

/* An {m, f, a} resolver answered: select among its list (§8.1). */
static void resolved(exec_t *e, const pga_term_t *list,
                     const pga_term_t *reason) {
  pga_tb_t why;
  pga__tb_init(&why, 0);
  if (!list) {
    pga_tb_term(&why, reason);
    selection_failed(e, &why, PGA_EINVAL);
  } else if (pga_request_nodes_resolved(list, &why) != 0) {
    selection_failed(e, &why, PGA_ETYPE);
  } else {
    pga_tb_reset(&e->nodes_tb);
    pga_tb_term(&e->nodes_tb, list);
    e->nodes = pga_tb_data(&e->nodes_tb);
    select_and_call(e);
  }
  pga__tb_destroy(&why);
}

/* Node selection, then the first pass (§8). */
static void select_and_call(exec_t *e) {
  pga_term_t mode = pga_funconfig_get(e->fc, PGA_FC_CHOOSE_NODE_MODE);
  pga_tb_t reason;
  int rc = PGA_EINVAL;

  atomic_fetch_add(&e->pl->work_units, 1);
  pga__ex_tr_selection(e);
  pga__tb_init(&reason, 0);
  switch (pga_request_nodes_kind(&e->nodes)) {
  case PGA_NODES_LIST:
  case PGA_NODES_LOCAL:
    rc = pga_request_select_nodes(e->pl->sel, &e->nodes, &mode, &e->req,
                                  wall_ms(), e->order, MAX_NODES,
                                  &e->norder, &reason);
    break;
  case PGA_NODES_RESOLVER: /* R15: resolved, then selected as a list */
    pga__tb_destroy(&reason);
    pga__ex_resolve(e, resolved);
    return;
  default:
    pga_request_nodes_invalid_reason(&reason, &e->nodes);
  }
  if (rc != 0) {
    selection_failed(e, &reason, rc);
    pga__tb_destroy(&reason);
    return;
  }
  pga__tb_destroy(&reason);
  pga_term_t retry = pga_funconfig_get(e->fc, PGA_FC_RETRY);
  if (pga_request_retry_normalize(&retry, &e->retry) != 0)
    e->retry.mode = PGA_RETRY_NONE, e->retry.n = 0;
  pass_start(e);
}

/* Arguments, node selection, then the first pass (§4, §8). */
static void start_call(exec_t *e) {
  pga_args_input_t in;
  pga_request_exc_t exc = {0};
  pga_term_t predefined = {NULL, 0}, el[3];
  pga_term_t mfa = pga_funconfig_get(e->fc, PGA_FC_MFA);
  pga_term_t ri = pga_funconfig_get(e->fc, PGA_FC_REQUEST_INFO);
  pga_tb_t pid;
  pga_term_t pidv;
  int rc;

  atomic_fetch_add(&e->pl->work_units, 1); /* one pipeline stage */
  pga__ex_tr_phase(e, "argument_validation");
  if (pga_term_tuple_get(&mfa, 2, &el[2]) == 0) predefined = el[2];
  pga_request_args_input_of(e->fc, &e->req, &e->pl->limits, &in);
  pga__tb_init(&pid, 0);
  if (e->relay) pga_dist_put_pid(e->pl->d, &pid, pga_proc_id(e->relay));
  pidv = pga_tb_data(&pid);
  rc = pga_request_args_build(&in, &predefined,
                              pga_term_is_atom(&ri, "true"),
                              e->relay ? &pidv : NULL, &e->args, &exc);
  pga__tb_destroy(&pid);
  if (rc != 0) {
    if (e->rt == RT_SYNC && rc == PGA_EINVAL) { /* §3.4: escapes */
      pga_tb_t tb;
      pga__tb_init(&tb, 0);
      pga_request_exc_term(&tb, &exc);
      reply_tb(e, PGA_ERROR, &tb);
      pga__tb_destroy(&tb);
      pga_request_exc_clear(&exc);
      exec_free(e);
      return;
    }
    pga_tb_t tb;
    pga__tb_init(&tb, 0);
    if (rc == PGA_EINVAL) {
      error_resp(e, &tb, NULL, exc.inspect ? exc.inspect : "");
    } else {
      pga_tb_t why;
      pga__tb_init(&why, 0);
      pga_tb_atom(&why, "badarg");
      pga_term_t w = pga_tb_data(&why);
      error_resp(e, &tb, &w, NULL);
      pga__tb_destroy(&why);
    }
    if (e->rt != RT_STREAM)
      task_failed(e, "error", NULL, exc.inspect ? exc.inspect : "badarg");
    pga_request_exc_clear(&exc);
    if (e->rt == RT_SYNC) {
      reply_tb(e, PGA_RETURN, &tb);
      exec_free(e);
    } else if (e->rt == RT_STREAM) {
      stream_first(e, &tb, 0);
    } else {
      pga_term_t r = pga_tb_data(&tb);
      if (e->rt == RT_ASYNC) send_caller(e, "async_call", &r, NULL);
      exec_free(e);
    }
    pga__tb_destroy(&tb);
    return;
  }

  select_and_call(e);
}

/* A queued background task got its pool slot. */
static void task_start(pga__wp_task_t *task) {
  exec_t *e = (exec_t *)((char *)task - offsetof(exec_t, task));
  start_call(e);
}

/* ---- dispatch on response_type (§3 step 5, §9) ---- */

static void dispatch(exec_t *e) {
  pga_term_t rt = pga_funconfig_get(e->fc, PGA_FC_RESPONSE_TYPE);
  pga_tb_t ack;

  atomic_fetch_add(&e->pl->work_units, 1); /* one pipeline stage */
  if (pga_term_is_atom(&rt, "sync")) {
    e->rt = RT_SYNC;
    start_call(e);
    return;
  }
  if (pga_term_is_atom(&rt, "async")) e->rt = RT_ASYNC;
  else if (pga_term_is_atom(&rt, "none")) e->rt = RT_NONE;
  else if (pga_term_is_atom(&rt, "stream")) e->rt = RT_STREAM;
  else { /* E10: unreachable for validated configs */
    char *s = pga_request_detail_error("unsupported response type: ", &rt,
                                       NULL);
    reply_error(e, s ? s : "unsupported response type", 0);
    free(s);
    return;
  }
  int pool = e->rt == RT_STREAM ? PGA_POOL_STREAM : PGA_POOL_ASYNC;
  pga__wp_admit_t admit = pga__wp_submit(e->pl->pools[pool], &e->task,
                                         mono_ms());
  if (admit == PGA__WP_FULL || admit == PGA__WP_OPEN) { /* R16, R24 */
    reply_error(e, PGA_REQUEST_E9, 1);
    return;
  }
  e->pool = pool;
  if (e->rt == RT_STREAM) {
    e->relay = pga_proc_new(e->pl->d, &relay_ops, e);
    if (!e->relay) {
      pga__wp_cancel(e->pl->pools[pool], &e->task);
      e->pool = -1;
      reply_error(e, "Failed to start stream", 0); /* E12 */
      return;
    }
    atomic_fetch_add(&e->pl->n_streams, 1);
  }
  pga__tb_init(&ack, 0);
  if (e->rt == RT_NONE) {
    pga_tb_tuple(&ack, 2);
    pga_tb_atom(&ack, "ok");
    pga_tb_atom(&ack, "no_response");
  } else if (e->rt == RT_ASYNC) {
    pga_request_response(&ack, &e->req.request_id, NULL, 1, NULL, 1, 0, 0);
  } else {
    pga_tb_t init;
    pga__tb_init(&init, 0);
    pga_tb_atom(&init, "init");
    pga_term_t i = pga_tb_data(&init);
    pga_request_response(&ack, &e->req.request_id, &i, 1, NULL, 1, 1, 0);
    pga__tb_destroy(&init);
  }
  reply_tb(e, PGA_RETURN, &ack);
  pga__tb_destroy(&ack);
  if (e->rt == RT_STREAM) {
    pga_tb_t pid;
    pga__tb_init(&pid, 0);
    pga_dist_put_pid(e->pl->d, &pid, pga_proc_id(e->relay));
    pga_term_t p = pga_tb_data(&pid);
    send_caller(e, "stream_started", &e->req.request_id, &p);
    pga__tb_destroy(&pid);
    monitor_receiver(e);
  }
  if (admit == PGA__WP_RUN) start_call(e); /* else task_start, later */
}

/* ---- rate limit (§7) ---- */

static void rate_limit(exec_t *e) {
  pga_limit_info_t info;
  char msg[96];

  pga_tb_t result;
  pga_limit_status_t st;
  int want = e->pl->limiter_on &&
             (pga_telemetry_wants(e->pl->tel, PGA_EV_RATE_LIMITER_CHECK) ||
              pga_telemetry_wants(e->pl->tel, PGA_EV_RATE_LIMITER_EXCEEDED));
  int64_t t0 = want ? pga_telemetry_monotonic_us() : 0;

  pga__ex_tr_phase(e, "rate_limit");
  pga__tb_init(&result, 0);
  st = pga_request_limiter_check(e->pl->lim, &e->req, mono_ms(),
                                 want ? &result : NULL, &info);
  if (want) {
    pga_term_t r = pga_tb_data(&result);
    pga__ex_ev_limiter(e, pga_telemetry_monotonic_us() - t0, &r);
  }
  pga__tb_destroy(&result);
  atomic_fetch_add(&e->pl->work_units, 1);
  switch (st) {
  case PGA_LIMIT_OK:
    dispatch(e);
    return;
  case PGA_LIMIT_EXCEEDED:
    pga_request_limiter_e5(info.retry_after_ms, msg, sizeof msg);
    reply_error(e, msg, 1);
    return;
  default:
    reply_error(e, PGA_LIMITER_E6, 1);
  }
}

/* ---- permission (§6) ---- */

static void perm_done(void *ud, const pga_term_t *result) {
  exec_t *e = ud;
  e->call_id = 0;
  e->inv = NULL;
  if (result && pga_request_permission_callback_allows(result)) rate_limit(e);
  else reply_error(e, PGA_REQUEST_E4, 0);
}

static void permission(exec_t *e) {
  pga_perm_input_t in;
  pga_request_exc_t exc = {0};
  pga_term_t cb, el[3], node;
  char m[PGA_ATOM_BUF], f[PGA_ATOM_BUF];

  atomic_fetch_add(&e->pl->work_units, 1); /* one pipeline stage */
  pga__ex_tr_phase(e, "permission");
  pga_request_perm_input_of(e->fc, &e->req, &in);
  switch (pga_request_permission_check(&in, &cb, &exc)) {
  case PGA_PERM_ALLOW:
    rate_limit(e);
    return;
  case PGA_PERM_RAISE: {
    pga_tb_t tb;
    pga__tb_init(&tb, 0);
    pga_request_exc_term(&tb, &exc);
    reply_tb(e, PGA_ERROR, &tb);
    pga__tb_destroy(&tb);
    pga_request_exc_clear(&exc);
    exec_free(e);
    return;
  }
  case PGA_PERM_CALLBACK:
    break;
  default:
    reply_error(e, PGA_REQUEST_E4, 0);
    return;
  }
  /* {m, f, a}: rpc on the node get_node picks, [request | a] (§6.3) */
  pga_term_t mode = pga_funconfig_get(e->fc, PGA_FC_CHOOSE_NODE_MODE);
  pga_term_t to = pga_funconfig_get(e->fc, PGA_FC_TIMEOUT);
  int64_t ms = 5000;
  pga_tb_t args;
  pga_term_iter_t it;
  size_t n = 0;

  if (pga_term_tuple_get(&cb, 0, &el[0]) ||
      pga_term_tuple_get(&cb, 1, &el[1]) ||
      pga_term_tuple_get(&cb, 2, &el[2]) ||
      pga_term_get_atom(&el[0], m, sizeof m) ||
      pga_term_get_atom(&el[1], f, sizeof f) ||
      pga_term_list_length(&el[2], &n) ||
      pga_request_nodes_kind(&e->nodes) != PGA_NODES_LIST ||
      pga_request_select_node(e->pl->sel, &e->nodes, &mode, &e->req,
                              wall_ms(), &node, NULL) != 0 ||
      pga__ex_node_name(&node, e->node, sizeof e->node) != 0) {
    reply_error(e, PGA_REQUEST_E4, 0);
    return;
  }
  if (pga_term_is_atom(&to, "infinity")) ms = 0;
  else if (pga_term_get_int64(&to, &ms) != 0 || ms <= 0 || ms > UINT32_MAX)
    ms = 5000;
  pga__tb_init(&args, 0);
  pga_tb_list(&args, n + 1);
  pga_term_t rq = pga_tb_data(&e->reqtb);
  pga_tb_term(&args, &rq);
  if (pga_term_iter_init(&it, &el[2]) == 0) {
    pga_term_t a;
    while (pga_term_iter_next(&it, &a) == 1) pga_tb_term(&args, &a);
  }
  pga_tb_nil(&args);
  pga_term_t av = pga_tb_data(&args);
  int rc;
  if (pga_tb_error(&args))
    rc = PGA_ENOMEM;
  else if (e->local) /* R15: the registered C function, on the gateway */
    rc = pga__ex_inv_start(e->pl, e, perm_done, NULL, NULL, m, f, &av, n + 1,
                   (unsigned)ms, 1, &e->inv);
  else
    rc = pga_rpc_call(e->pl->rpc, e->node, m, f, &av, (unsigned)ms,
                      perm_done, e, &e->call_id);
  pga__tb_destroy(&args);
  if (rc != 0) {
    e->call_id = 0;
    e->inv = NULL;
    reply_error(e, PGA_REQUEST_E4, 0);
  }
}

/* ---- config resolution and hooks (§3.1, §10) ---- */

/* e->nodes, local and t from e->fc. */
static void resolve_nodes(exec_t *e) {
  pga_term_t nodes = pga_funconfig_get(e->fc, PGA_FC_NODES);
  pga_tb_reset(&e->nodes_tb);
  e->nodes = nodes;
  e->local = pga_request_nodes_kind(&nodes) == PGA_NODES_LOCAL;
  if (e->local) { /* R15 */
    pga_tb_list(&e->nodes_tb, 1);
    pga_tb_atom(&e->nodes_tb, pga_node_name(e->pl->node));
    pga_tb_nil(&e->nodes_tb);
    e->nodes = pga_tb_data(&e->nodes_tb);
  }
  pga_term_t to = pga_funconfig_get(e->fc, PGA_FC_TIMEOUT);
  e->t_ms = (unsigned)pga_request_rpc_timeout(&to);
  pga_tb_reset(&e->fctb);
  pga_funconfig_encode(&e->fctb, e->fc);
}

/* {:ok, req2, cfg2}: continue with both (copies); 0 or nonzero when
 * either is not what the pipeline can use. */
static int hook_replace(exec_t *e, const pga_term_t *req2,
                        const pga_term_t *cfg2) {
  pga_funconfig_t *fc = NULL;
  pga_tb_t tb;
  pga_request_t rq;

  if (pga_funconfig_decode(cfg2, &fc) != 0) return -1;
  pga__tb_init(&tb, 0);
  pga_tb_term(&tb, req2);
  pga_term_t t = pga_tb_data(&tb);
  if (pga_tb_error(&tb) || pga_request_from_struct(&t, &rq) != 0) {
    pga__tb_destroy(&tb);
    pga_funconfig_free(fc);
    return -1;
  }
  pga__tb_destroy(&e->reqtb);
  e->reqtb = tb; /* rq views the same buffer */
  e->req = rq;
  pga_funconfig_free(e->fc);
  e->fc = fc;
  resolve_nodes(e);
  return 0;
}

static void before_done(void *ud, const pga_term_t *result) {
  exec_t *e = ud;
  pga_term_t req2, cfg2, hook, extra;
  char *e3 = NULL, m[PGA_ATOM_BUF], f[PGA_ATOM_BUF];

  e->inv = NULL;
  hook = pga_funconfig_get(e->fc, PGA_FC_BEFORE_EXECUTE);
  if (pga_request_hook_of(&hook, m, f, sizeof m, &extra))
    pga__ex_ev_hook_end(e->pl, "before", m, f, e->hook_t0_us, result);
  switch (pga_request_hook_before_result(result, &req2, &cfg2, &e3)) {
  case PGA_HOOK_REJECT:
    reply_error(e, e3 ? e3 : "hook rejected", 0);
    free(e3);
    return;
  case PGA_HOOK_REPLACE:
    if (hook_replace(e, &req2, &cfg2) != 0) { /* R14 */
      reply_error(e, PGA_REQUEST_E3_INVALID, 0);
      return;
    }
    break;
  default:
    break;
  }
  permission(e);
}

/* Where hooks without a native function run: get_node's pick (§6.3). */
static void pick_hook_node(exec_t *e) {
  pga_term_t mode = pga_funconfig_get(e->fc, PGA_FC_CHOOSE_NODE_MODE), node;
  e->hook_node[0] = 0;
  if (e->local || /* no other node to ask: the hook cannot be called */
      pga_request_nodes_kind(&e->nodes) != PGA_NODES_LIST ||
      pga_request_select_node(e->pl->sel, &e->nodes, &mode, &e->req,
                              wall_ms(), &node, NULL) != 0 ||
      pga__ex_node_name(&node, e->hook_node, sizeof e->hook_node) != 0)
    e->hook_node[0] = 0;
}

static int hook_native(exec_t *e, const pga_term_t *hook, unsigned arity) {
  char m[PGA_ATOM_BUF], f[PGA_ATOM_BUF];
  pga_term_t extra;
  return pga_request_hook_of(hook, m, f, sizeof m, &extra) &&
         pga_rpc_lookup(e->pl->rpc, m, f, arity) != NULL;
}

static void begin(exec_t *e) {
  int rc = pga_config_lookup(e->pl->cfg, &e->req.service,
                             &e->req.request_type, &e->req.version, &e->fc);
  char m[PGA_ATOM_BUF], f[PGA_ATOM_BUF];
  pga_term_t extra;
  int n;

  atomic_fetch_add(&e->pl->work_units, 1); /* one pipeline stage */
  pga__ex_tr_phase(e, "config_lookup");
  if (rc != 0) {
    char *s = pga_request_config_error(&e->req, rc == PGA_EBUSY);
    reply_error(e, s ? s : "unsupported function", 0);
    free(s);
    return;
  }
  resolve_nodes(e);
  pga__ex_tr_phase(e, "hooks_before");
  pga_term_t before = pga_funconfig_get(e->fc, PGA_FC_BEFORE_EXECUTE);
  pga_term_t after = pga_funconfig_get(e->fc, PGA_FC_AFTER_EXECUTE);
  n = pga_request_hook_of(&before, m, f, sizeof m, &extra);
  e->after = pga_request_hook_of(&after, m, f, sizeof m, &extra) != 0;
  if ((n && !hook_native(e, &before, 2)) ||
      (e->after && !hook_native(e, &after, 3)))
    pick_hook_node(e);
  if (!n) {
    permission(e);
    return;
  }
  n = pga_request_hook_of(&before, m, f, sizeof m, &extra);
  pga_tb_t args;
  pga__tb_init(&args, 0);
  pga_tb_list(&args, 2);
  pga_term_t rq = pga_tb_data(&e->reqtb), fc = pga_tb_data(&e->fctb);
  pga_tb_term(&args, &rq);
  pga_tb_term(&args, n == 3 ? &extra : &fc);
  pga_tb_nil(&args);
  pga_term_t av = pga_tb_data(&args);
  e->hook_t0_us = pga_telemetry_monotonic_us();
  pga__ex_ev_hook_start(e->pl, "before", m, f);
  rc = pga_tb_error(&args)
           ? PGA_ENOMEM
           : pga__ex_inv_start(e->pl, e, before_done, NULL, e->hook_node, m, f, &av,
                       2, PGA_REQUEST_HOOK_TIMEOUT_MS, 0, &e->inv);
  pga__tb_destroy(&args);
  if (rc != 0) { /* could not be called: as {:badrpc, :nodedown} */
    pga_tb_t r;
    e->inv = NULL;
    pga__tb_init(&r, 0);
    pga_tb_tuple(&r, 2);
    pga_tb_atom(&r, "badrpc");
    pga_tb_atom(&r, "nodedown");
    pga_term_t rv = pga_tb_data(&r);
    before_done(e, &rv);
    pga__tb_destroy(&r);
  }
}

/* ---- the RPC functions ---- */

static exec_t *exec_new(plane_t *pl, pga_call_t *call) {
  exec_t *e = calloc(1, sizeof *e);
  if (!e) return NULL;
  e->pl = pl;
  e->call = call;
  e->pool = -1;
  e->task.start = task_start;
  e->t0_us = pga_telemetry_monotonic_us();
  atomic_fetch_add(&pl->n_execs, 1);
  pga__tb_init(&e->reqtb, 0);
  pga__tb_init(&e->fctb, 0);
  pga__tb_init(&e->caller, 0);
  pga__tb_init(&e->nodes_tb, 0);
  pga__tb_init(&e->args, 0);
  pga__tb_init(&e->last, 0);
  pga_term_t caller = pga__call_caller(call);
  if (caller.buf) pga_tb_term(&e->caller, &caller);
  e->next = pl->execs;
  if (pl->execs) pl->execs->prev = e;
  pl->execs = e;
  return e;
}

static pga_outcome_t run(exec_t *e, pga_tb_t *out) {
  fnctx_t ctx = {out, PGA_RETURN, 0};
  e->fn = &ctx;
  pga_term_t rq = pga_tb_data(&e->reqtb);
  if (pga_tb_error(&e->reqtb) || pga_request_from_struct(&rq, &e->req) != 0) {
    pga_tb_atom(out, "enomem");
    exec_free(e);
    return PGA_ERROR;
  }
  pga__ex_ev_request_start(e);
  pga__ex_tr_start(e);
  begin(e);
  /* e may be gone; ctx tells whether the call was answered */
  if (ctx.replied) return ctx.outcome;
  e->fn = NULL;
  return PGA_DEFER;
}

/* execute!(request): a %Request{} map. */
static pga_outcome_t fn_execute(pga_call_t *call, size_t argc,
                                const pga_term_t *argv, pga_tb_t *out) {
  plane_t *pl = pga_call_udata(call);
  (void)argc;
  if (pga_term_type(&argv[0]) != PGA_T_MAP) {
    pga_request_exc_t exc = {PGA_EXC_FUNCTION_CLAUSE,
                             "no function clause matching in "
                             "PhoenixGenApi.Executor.execute!/1",
                             NULL};
    pga_request_exc_term(out, &exc);
    return PGA_ERROR;
  }
  exec_t *e = exec_new(pl, call);
  if (!e) {
    pga_tb_atom(out, "enomem");
    return PGA_ERROR;
  }
  pga_tb_term(&e->reqtb, &argv[0]);
  return run(e, out);
}

/* execute_params!(params): Request.decode!/1 then execute!/1. */
static pga_outcome_t fn_execute_params(pga_call_t *call, size_t argc,
                                       const pga_term_t *argv,
                                       pga_tb_t *out) {
  plane_t *pl = pga_call_udata(call);
  (void)argc;
  exec_t *e = exec_new(pl, call);
  if (!e) {
    pga_tb_atom(out, "enomem");
    return PGA_ERROR;
  }
  if (pga_request_decode_params(&argv[0], pga_request_external_size(&argv[0]),
                                pl->max_payload, &e->reqtb, out) != 0) {
    exec_free(e);
    return PGA_ERROR;
  }
  return run(e, out);
}

static const pga_fn_def_t fns[] = {
    {"Elixir.PhoenixGenApi.Executor", "execute!", 1, fn_execute, PGA_FN_ASYNC,
     NULL, 0, {0}},
    {"Elixir.PhoenixGenApi.Executor", "execute_params!", 1, fn_execute_params,
     PGA_FN_ASYNC, NULL, 0, {0}},
};

/* ---- plane lifetime ---- */

static void plane_free(plane_t *pl) {
  pl->obs = (pga_request_observer_t){0}; /* nothing is sent at teardown */
  while (pl->execs) {
    exec_t *e = pl->execs;
    /* After pga_node_run: the rpc layer freed the deferred jobs and the
     * outgoing calls, the dist layer every process (relays too). */
    e->call = NULL;
    e->call_id = 0;
    e->relay = NULL;
    e->rcv_node[0] = 0;
    if (e->pool >= 0) /* no outcome, no telemetry */
      pga__wp_cancel(pl->pools[e->pool], &e->task);
    e->pool = -1;
    exec_free(e);
  }
  while (pl->invs) { /* jobs and calls went with the teardown */
    inv_t *v = pl->invs;
    v->call_id = 0;
    if (v->owner && v->drop) v->drop(v->owner);
    inv_free(v);
  }
  if (pl->cleanup_timer) pga_loop_timer_cancel(pl->loop, pl->cleanup_timer);
  pga__wp_free(pl->pools[PGA_POOL_ASYNC]);
  pga__wp_free(pl->pools[PGA_POOL_STREAM]);
  pga_request_selector_free(pl->sel);
  pga_request_limiter_free(pl->lim);
  free(pl);
}

static unsigned or_default(unsigned v, unsigned dflt) { return v ? v : dflt; }

/* async_pool and stream_pool with the worker_pool settings (§9.4). */
static int pools_new(plane_t *pl, const pga_conffile_t *conf) {
  pga__wp_opts_t o = {"async_pool", 1000, 10000, 5, 60000};
  if (conf) {
    o.size = or_default(conf->worker_pool.async_pool_size, o.size);
    o.max_queue = or_default(conf->worker_pool.max_queue_size, o.max_queue);
    o.threshold =
        or_default(conf->worker_pool.circuit_breaker_threshold, o.threshold);
    o.cooldown_ms = or_default(conf->worker_pool.circuit_breaker_cooldown_ms,
                               o.cooldown_ms);
  }
  pl->pools[PGA_POOL_ASYNC] = pga__wp_new(&o, pl->loop, pl->tel);
  o.name = "stream_pool";
  o.size = conf ? or_default(conf->worker_pool.stream_pool_size, 500) : 500;
  pl->pools[PGA_POOL_STREAM] = pga__wp_new(&o, pl->loop, pl->tel);
  return pl->pools[PGA_POOL_ASYNC] && pl->pools[PGA_POOL_STREAM]
             ? 0
             : PGA_ENOMEM;
}

int pga_request_plane_start(pga_node_t *node, const pga_conffile_t *conf,
                            char *err, size_t errlen) {
  plane_t *pl = calloc(1, sizeof *pl);
  pga_limiter_opts_t lo = {PGA_LIMITER_OPTS_VERSION, 0, 0, {NULL, 0},
                           {NULL, 0}, 0};
  int rc;

  if (!pl) {
    snprintf(err, errlen, "request plane: %s", pga_strerror(PGA_ENOMEM));
    return PGA_ENOMEM;
  }
  pl->node = node;
  pl->rpc = pga__node_rpc(node);
  pl->d = pga__node_dist(node);
  pl->loop = pga__node_loop(node);
  pl->cfg = pga_config_plane_of(node);
  pl->tel = pga_telemetry_of(node);
  pl->max_payload = 1000000;
  pl->limiter_on = 1;
  if (conf) {
    pl->detail = conf->detail_error;
    if (conf->max_payload_bytes) pl->max_payload = conf->max_payload_bytes;
    pl->limits.string_max_bytes = conf->argument_handler.string_max_bytes;
    pl->limits.list_max_items = conf->argument_handler.list_max_items;
    pl->limits.map_max_items = conf->argument_handler.map_max_items;
    pl->limiter_on = conf->rate_limiter.enabled;
    lo.disabled = !conf->rate_limiter.enabled;
    lo.fail_closed = !conf->rate_limiter.fail_open;
    if (conf->rate_limiter.global_limits)
      lo.global_limits = pga_tb_data(conf->rate_limiter.global_limits);
    if (conf->rate_limiter.api_limits)
      lo.api_limits = pga_tb_data(conf->rate_limiter.api_limits);
  }
  if (!pl->cfg) {
    snprintf(err, errlen, "request plane: start the config plane first");
    free(pl);
    return PGA_EINVAL;
  }
  rc = pga_request_selector_new(NULL, &pl->sel);
  if (rc == 0) rc = pga_request_limiter_new(&lo, &pl->lim);
  if (rc == 0) rc = pools_new(pl, conf);
  if (rc == 0 &&
      !(pl->cleanup_timer = pga_loop_timer(pl->loop, PGA_REQUEST_CLEANUP_MS,
                                           pga__ex_cleanup_timer, pl)))
    rc = PGA_ENOMEM;
  if (rc == 0) rc = pga_dist_on_nodedown(pl->d, on_nodedown, node);
  for (size_t i = 0; rc == 0 && i < sizeof fns / sizeof *fns; i++) {
    pga_fn_def_t def = fns[i];
    def.udata = pl;
    rc = pga_rpc_register(pl->rpc, &def);
  }
  if (rc != 0) {
    snprintf(err, errlen, "request plane: %s", pga_strerror(rc));
    plane_free(pl);
    return rc;
  }
  pl->next = planes;
  planes = pl;
  return 0;
}

void pga_request_plane_stop(pga_node_t *node) {
  plane_t **pp = &planes;
  while (*pp && (*pp)->node != node) pp = &(*pp)->next;
  if (!*pp) return;
  plane_t *pl = *pp;
  *pp = pl->next;
  plane_free(pl);
}
