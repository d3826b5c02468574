/* The executor's state, shared by the files that drive one request:
 * executor.c (the pipeline and its RPC functions), exec_inv.c (native or
 * remote invocations), exec_nodes.c (node selection, fallback, retry),
 * exec_deliver.c (answering), exec_stream.c (the stream relay),
 * exec_plane.c (plane lifetime), resolver.c ({m, f, a} node lists),
 * reqevents.c (telemetry), streams.c (stop_stream) and ops_api.c.
 * Everything here is loop-thread state unless marked atomic. */
#ifndef PGA_REQUEST_EXEC_INT_H
#define PGA_REQUEST_EXEC_INT_H

#include <stdatomic.h>
#include <stdint.h>

#include "config/config.h"
#include "dist/dist.h"
#include "request/plane.h"
#include "request/request_int.h"
#include "request/workpool.h"
#include "rpc/rpc.h"
#include "telemetry/telemetry.h"
#include "term/term.h"

#define MAX_NODES 256
#define PGA_REQUEST_CLEANUP_MS 60000 /* rate-limiter cleanup period */

typedef enum { RT_SYNC, RT_ASYNC, RT_NONE, RT_STREAM } rtype_t;

typedef struct fnctx_s fnctx_t;
typedef struct exec_s exec_t;
typedef struct inv_s inv_t;
typedef struct resolve_s resolve_t;

typedef struct plane_s {
  pga_node_t *node;
  pga_rpc_t *rpc;
  pga_dist_t *d;
  pga_loop_t *loop;
  pga_config_plane_t *cfg;
  pga_request_selector_t *sel;
  pga_request_limiter_t *lim;
  pga_telemetry_t *tel;
  pga__wp_t *pools[2]; /* PGA_POOL_ASYNC, PGA_POOL_STREAM */
  int limiter_on;      /* rate_limiter.enabled (no :check events when off) */
  uint64_t cleanup_timer;
  int detail;
  uint64_t max_payload;
  pga_args_limits_t limits;
  exec_t *execs;
  exec_t *spare_execs; /* freed execs kept for reuse (executor.c) */
  size_t nspare_execs;
  inv_t *invs;
  pga_request_observer_t obs; /* reqtrace.c; callbacks NULL: none */
  void *obs_ud;
  /* figures for the ops plane, read from any thread */
  _Atomic uint64_t n_execs, n_streams, work_units;
  struct plane_s *next;
} plane_t;

/* One hook, local permission callback or local function in flight
 * (docs/compat.md R14, R15): a registered native function run as a job
 * (pga_rpc_run), else an outgoing call. Bounded by a timer; a native job
 * cannot be stopped, so an inv whose owner went (timeout, exec freed)
 * stays listed until the job reports, then is freed unseen. */
typedef void (*inv_done_fn)(void *owner, const pga_term_t *result);
struct inv_s {
  inv_t *prev, *next;
  plane_t *pl;
  void *owner;        /* NULL once abandoned */
  inv_done_fn done;   /* result NULL: timed out */
  void (*drop)(void *owner); /* frees the owner at plane teardown */
  uint64_t call_id, timer;
  int native, starting, have_early;
  pga_tb_t early;     /* a job that reported inside pga_rpc_run */
};

/* The RPC function's frame while the pipeline runs inside it: a reply
 * made then becomes the function's return value (executor.c run()). */
struct fnctx_s {
  pga_tb_t *out;
  pga_outcome_t outcome;
  int replied;
};

struct exec_s {
  exec_t *prev, *next;
  plane_t *pl;
  pga_call_t *call; /* until reply() */
  fnctx_t *fn;      /* while inside the RPC function */
  rtype_t rt;
  pga__wp_task_t task; /* background work: its pool slot */
  int pool;            /* -1, or the pool the task was admitted to */
  char *fail_reason;   /* the task's failure, for the pool (malloc'ed) */
  const char *fail_kind; /* NULL: the task succeeded */
  int64_t t0_us;       /* request start (telemetry durations) */
  int64_t hook_t0_us;
  pga_tb_t reqtb;
  pga_request_t req;
  pga_funconfig_t *fc;
  pga_tb_t fctb;      /* fc as a %FunConfig{} term: pga__ex_fc_term */
  inv_t *inv;         /* hook, local callback or local call in flight */
  resolve_t *resolve; /* {m, f, a} resolution in flight */
  int local;          /* nodes: :local */
  int relay_builtin;  /* :local PhoenixGenApi.Relay.handle_relay: the
                         built-in gets (request, fun_config) and its
                         Response is the answer (ops-plane.md §7.3) */
  int after;          /* an after hook is configured */
  pga_tb_t caller;
  pga_tb_t nodes_tb;
  pga_term_t nodes;
  size_t norder, idx;
  pga_tb_t args;
  pga_tb_t last; /* remembered error, or the stopping result */
  int have_last;
  pga_retry_t retry;
  int64_t retry_attempt, retry_backoff; /* the pending retry's figures */
  unsigned t_ms;
  uint64_t call_id;
  uint64_t timer;     /* backoff, or the stream's timeout */
  uint64_t end_timer; /* a stream's end found in a callback (0 ms) */
  /* :stream */
  pga_proc_t *relay;
  int live;           /* first chunk sent: relay messages go through */
  pga_tb_t **buf;
  size_t nbuf, bufcap;
  uint64_t rcv_conn;           /* its connection's id */
  /* tracing (reqtrace.c) */
  uint64_t trace_pid;  /* pseudo-process pid id; 0: not minted */
  size_t trace_arity;  /* the traced call's argument count */
  /* Large parts, last: exec_new zeroes only what comes before hook_node
   * (9 KB of zeroes per request cost more than the pipeline's work);
   * each string starts empty and the rest is written before it is read. */
  char hook_node[PGA_ATOM_BUF]; /* where hooks without a native fn run */
  char node[PGA_ATOM_BUF];
  char svc_node[PGA_ATOM_BUF];
  char rcv_node[PGA_ATOM_BUF]; /* the receiver's node, once monitored */
  erlang_ref rcv_ref;          /* set when the receiver is monitored */
  pga_term_t order[MAX_NODES]; /* the first norder are set */
};

/* ---- executor.c: exec lifetime, the pipeline, the RPC functions ---- */

/* Wall-clock milliseconds, the node selector's clock. */
int64_t pga__ex_wall_ms(void);
/* Frees a request with all it holds (calls, timers, relay, pool slot);
 * the object itself may be kept for the next request. */
void pga__ex_exec_free(exec_t *e);
/* Frees the execs kept for reuse (plane teardown). */
void pga__ex_spares_free(plane_t *pl);
/* Registers execute!/1 and execute_params!/1 for pl. 0 or PGA_E*. */
int pga__ex_register_fns(plane_t *pl);

/* ---- exec_plane.c: plane lifetime ---- */

/* The node's plane; NULL when none runs. */
plane_t *pga__ex_plane_of(pga_node_t *node);

/* ---- exec_inv.c: native-or-remote invocations (R14, R15) ---- */

/* See inv_t. 0, or a negative PGA_E* (done never runs). */
int pga__ex_inv_start(plane_t *pl, void *owner, inv_done_fn done,
                      void (*drop)(void *), const char *node, const char *m,
                      const char *f, const pga_term_t *args, size_t argc,
                      unsigned timeout_ms, int native_only, inv_t **out);
/* The owner goes first: the inv's result will not be seen. */
void pga__ex_inv_abandon(inv_t *v);
/* Unlinks and frees v at once (plane teardown: no owner is told). */
void pga__ex_inv_free(inv_t *v);

/* ---- exec_stream.c: the stream relay (§9.3) ---- */

/* The relay process of e's stream (pga_proc_new): NULL on failure. */
pga_proc_t *pga__ex_relay_new(exec_t *e);
/* Ends e's relay, if any (exit normal, receiver demonitored). */
void pga__ex_relay_free(exec_t *e);
/* A message for a stream's relay, as if sent to its pid (buffered until
 * the stream is live, §9.3). e may be freed by the call. */
void pga__ex_relay_message(exec_t *e, const pga_term_t *msg);
/* Monitors the caller from the relay, so an unread stream ends (R19). */
void pga__ex_monitor_receiver(exec_t *e);
/* The call's Response is in: first chunk, then the buffer (ok 0: the
 * error Response ends the stream). e may be freed by the call. */
void pga__ex_stream_first(exec_t *e, pga_tb_t *resp, int ok);
/* The dist layer's nodedown observer (ud: the node): ends the streams
 * whose receiver or service node went (R18, R19). */
void pga__ex_on_nodedown(void *ud, pga_conn_t *c);

/* ---- exec_deliver.c: answering the request (§3.3) ---- */

/* Completes the RPC call once with tb (enomem when tb failed). */
void pga__ex_reply_tb(exec_t *e, pga_outcome_t oc, pga_tb_t *tb);
/* Replies with error_response(id, msg, can_retry) and frees e. */
void pga__ex_reply_error(exec_t *e, const char *msg, int can_retry);
/* Sends {tag, a} or {tag, a, b} to the caller (from the relay, if any). */
void pga__ex_send_caller(exec_t *e, const char *tag, const pga_term_t *a,
                         const pga_term_t *b);
/* The error Response for a failed call into tb: E7, or E7d with detail. */
void pga__ex_error_resp(exec_t *e, pga_tb_t *tb, const pga_term_t *term,
                        const char *inspected);
/* Marks the background task failed (first failure wins). */
void pga__ex_task_failed(exec_t *e, const char *kind, const pga_term_t *term,
                         const char *text);
/* The final result raw, as the response_type says (e may be freed). */
void pga__ex_deliver(exec_t *e, const pga_term_t *raw);
/* Delivers {:error, text} (text non-NULL) or {:error, t}. */
void pga__ex_deliver_error(exec_t *e, const char *text, const pga_term_t *t);

/* ---- exec_nodes.c: node selection, fallback, retry (§8) ---- */

/* A node term's name ("a@b" from an atom or, R15, a binary). */
int pga__ex_node_name(const pga_term_t *t, char *out, size_t len);
/* Node selection, then the first pass of calls (§8). */
void pga__ex_select_and_call(exec_t *e);

/* ---- resolver.c: {m, f, a} nodes (docs/compat.md R15) ---- */

/* Resolves e->nodes, an {m, f, a}: the C function registered under {m, f,
 * length(a)} runs natively; else m:f(a) is called by RPC on the service's
 * own nodes (its pushed config's nodes, then its pull config's), the
 * first that answers deciding. done runs exactly once on the loop thread
 * (possibly inside this call): list is the returned list, or NULL with
 * reason the dynamic_node_resolution_failed term. */
typedef void (*pga__ex_resolved_fn)(exec_t *e, const pga_term_t *list,
                                    const pga_term_t *reason);
void pga__ex_resolve(exec_t *e, pga__ex_resolved_fn done);
/* Stops a resolution in flight (exec freed); done will not run. */
void pga__ex_resolve_cancel(exec_t *e);

/* ---- reqevents.c: telemetry (ops-plane.md §6.1 events 1-15) ---- */

void pga__ex_ev_request_start(exec_t *e);
/* The immediate answer of execute!: a Response map, or anything else
 * (counts as success: true, async: false). */
void pga__ex_ev_request_stop(exec_t *e, const pga_term_t *reply);
/* An exception escapes execute! (reason: the exception struct). */
void pga__ex_ev_request_exception(exec_t *e, const pga_term_t *exc);
void pga__ex_ev_retry(exec_t *e);
void pga__ex_ev_retry_exhausted(exec_t *e, const pga_term_t *last);
/* Around pga_request_limiter_check: result is its term. */
void pga__ex_ev_limiter(exec_t *e, int64_t duration_us,
                        const pga_term_t *result);
/* type "before" or "after"; result NULL = the hook timed out. */
void pga__ex_ev_hook_start(plane_t *pl, const char *type, const char *m,
                           const char *f);
void pga__ex_ev_hook_end(plane_t *pl, const char *type, const char *m,
                         const char *f, int64_t t0_us,
                         const pga_term_t *result);
/* A hook that could not be called (as {:badrpc, :nodedown}). */
void pga__ex_ev_hook_nodedown(plane_t *pl, const char *type, const char *m,
                              const char *f, int64_t t0_us);
/* ---- reqtrace.c: the plane's observer (plane.h, ops-plane.md §9.2) ---- */

void pga__ex_tr_start(exec_t *e);
void pga__ex_tr_phase(exec_t *e, const char *phase);
/* "node_selection", for requests that go to other nodes. */
void pga__ex_tr_selection(exec_t *e);
/* The result has been reached: "hooks_after", then "response". */
void pga__ex_tr_deliver(exec_t *e);
/* The target function was called with args. */
void pga__ex_tr_call(exec_t *e, const pga_term_t *args);
void pga__ex_tr_return(exec_t *e, const pga_term_t *result);
void pga__ex_tr_end(exec_t *e);

/* The periodic rate-limiter cleanup (every 60 000 ms, §7.3). */
int64_t pga__ex_cleanup_timer(pga_loop_t *loop, uint64_t id, void *ud);

/* fc as a %FunConfig{} term, encoded on first use (hooks, the relay's
 * built-in): most requests never need it. Valid until fc changes. */
pga_term_t pga__ex_fc_term(exec_t *e);

#endif
