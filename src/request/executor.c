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
#include <string.h>
#include <time.h>

#include "base/spares.h"
#include "request/exec_int.h"

/* Wall-clock ms: the selector's clock (sticky node entries age on it). */
int64_t pga__ex_wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- exec lifetime ---- */

/* ---- exec objects: one per request, recycled with their builders ---- */

#define EXEC_SPARES PGA_SPARES(256)
#define EXEC_NBUILDERS 6

static void exec_builders(exec_t *e, pga_tb_t *tb[EXEC_NBUILDERS]) {
  tb[0] = &e->reqtb;
  tb[1] = &e->fctb;
  tb[2] = &e->caller;
  tb[3] = &e->nodes_tb;
  tb[4] = &e->args;
  tb[5] = &e->last;
}

/* A zeroed exec (its small fields; see exec_t) with empty builders that
 * may still hold a buffer from an earlier request. */
static exec_t *exec_alloc(plane_t *pl) {
  pga_tb_t *tb[EXEC_NBUILDERS], kept[EXEC_NBUILDERS];
  exec_t *e = pl->spare_execs;

  if (e) {
    pl->spare_execs = e->next;
    pl->nspare_execs--;
    exec_builders(e, tb);
    for (int i = 0; i < EXEC_NBUILDERS; i++) kept[i] = *tb[i];
  } else {
    if (!(e = malloc(sizeof *e))) return NULL;
    for (int i = 0; i < EXEC_NBUILDERS; i++) pga__tb_init(&kept[i], 0);
  }
  memset(e, 0, offsetof(exec_t, hook_node));
  e->hook_node[0] = e->node[0] = e->svc_node[0] = e->rcv_node[0] = '\0';
  exec_builders(e, tb);
  for (int i = 0; i < EXEC_NBUILDERS; i++) *tb[i] = kept[i];
  return e;
}

static void exec_release(plane_t *pl, exec_t *e) {
  pga_tb_t *tb[EXEC_NBUILDERS];
  int keep = pga_spares_room(pl->nspare_execs, EXEC_SPARES);

  exec_builders(e, tb);
  for (int i = 0; i < EXEC_NBUILDERS; i++) {
    if (keep) pga__tb_recycle(tb[i]);
    else pga__tb_destroy(tb[i]);
  }
  if (!keep) {
    free(e);
    return;
  }
  e->next = pl->spare_execs;
  pl->spare_execs = e;
  pl->nspare_execs++;
}

void pga__ex_spares_free(plane_t *pl) {
  pga_tb_t *tb[EXEC_NBUILDERS];

  while (pl->spare_execs) {
    exec_t *e = pl->spare_execs;
    pl->spare_execs = e->next;
    exec_builders(e, tb);
    for (int i = 0; i < EXEC_NBUILDERS; i++) pga__tb_destroy(tb[i]);
    free(e);
  }
  pl->nspare_execs = 0;
}

void pga__ex_exec_free(exec_t *e) {
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
  pga__ex_relay_free(e);
  atomic_fetch_sub(&pl->n_execs, 1);
  for (size_t i = 0; i < e->nbuf; i++) {
    pga__tb_destroy(e->buf[i]);
    free(e->buf[i]);
  }
  free(e->buf);
  if (e->prev) e->prev->next = e->next;
  else pl->execs = e->next;
  if (e->next) e->next->prev = e->prev;
  pga_funconfig_free(e->fc);
  exec_release(pl, e);
}

/* The arguments could not be built (rc, exc): the request ends, as an
 * exception for a :sync request with invalid arguments (§3.4), else with
 * the error Response its response_type sends. */
static void args_failed(exec_t *e, int rc, pga_request_exc_t *exc) {
  if (e->rt == RT_SYNC && rc == PGA_EINVAL) { /* §3.4: escapes */
    pga_tb_t tb;
    pga__tb_init(&tb, 0);
    pga_request_exc_term(&tb, exc);
    pga__ex_reply_tb(e, PGA_ERROR, &tb);
    pga__tb_destroy(&tb);
    pga_request_exc_clear(exc);
    pga__ex_exec_free(e);
    return;
  }
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  if (rc == PGA_EINVAL) {
    pga__ex_error_resp(e, &tb, NULL, exc->inspect ? exc->inspect : "");
  } else {
    pga_tb_t why;
    pga__tb_init(&why, 0);
    pga_tb_atom(&why, "badarg");
    pga_term_t w = pga_tb_data(&why);
    pga__ex_error_resp(e, &tb, &w, NULL);
    pga__tb_destroy(&why);
  }
  if (e->rt != RT_STREAM)
    pga__ex_task_failed(e, "error", NULL,
                        exc->inspect ? exc->inspect : "badarg");
  pga_request_exc_clear(exc);
  if (e->rt == RT_SYNC) {
    pga__ex_reply_tb(e, PGA_RETURN, &tb);
    pga__ex_exec_free(e);
  } else if (e->rt == RT_STREAM) {
    pga__ex_stream_first(e, &tb, 0);
  } else {
    pga_term_t r = pga_tb_data(&tb);
    if (e->rt == RT_ASYNC) pga__ex_send_caller(e, "async_call", &r, NULL);
    pga__ex_exec_free(e);
  }
  pga__tb_destroy(&tb);
}

/* Arguments, node selection, then the first pass (§4, §8). */
static void start_call(exec_t *e) {
  pga_args_input_t in;
  pga_request_exc_t exc = {0};
  pga_term_t predefined = {NULL, 0}, el[3];
  const pga_fc_compiled_t *c = pga_funconfig_compiled(e->fc);
  pga_tb_t pid;
  pga_term_t pidv;
  int rc;

  atomic_fetch_add(&e->pl->work_units, 1); /* one pipeline stage */
  pga__ex_tr_phase(e, "argument_validation");
  if (c->mfa.arity >= 3) {
    predefined = pga_funconfig_slice(e->fc, c->mfa.a, c->mfa.a_len);
  } else if (c->mfa.arity == 0) { /* not {atom, atom, ...}: as the term says */
    pga_term_t mfa = pga_funconfig_get(e->fc, PGA_FC_MFA);
    if (pga_term_tuple_get(&mfa, 2, &el[2]) == 0) predefined = el[2];
  }
  pga_request_args_input_of(e->fc, &e->req, &e->pl->limits, &in);
  pga__tb_init(&pid, 0);
  if (e->relay) pga_dist_put_pid(e->pl->d, &pid, pga_proc_id(e->relay));
  pidv = pga_tb_data(&pid);
  rc = pga_request_args_build(&in, &predefined, c->request_info,
                              e->relay ? &pidv : NULL, &e->args, &exc);
  pga__tb_destroy(&pid);
  if (rc != 0) {
    args_failed(e, rc, &exc);
    return;
  }
  pga__ex_select_and_call(e);
}

/* A queued background task got its pool slot. */
static void task_start(pga__wp_task_t *task) {
  exec_t *e = (exec_t *)((char *)task - offsetof(exec_t, task));
  start_call(e);
}

/* ---- dispatch on response_type (§3 step 5, §9) ---- */

/* A background request's immediate answer: {:ok, :no_response}, the
 * :async ack, or the stream's init chunk. */
static void reply_ack(exec_t *e) {
  pga_tb_t ack;
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
  pga__ex_reply_tb(e, PGA_RETURN, &ack);
  pga__tb_destroy(&ack);
}

/* {stream_started, request_id, relay pid} to the caller, which the relay
 * then monitors (R19). */
static void announce_stream(exec_t *e) {
  pga_tb_t pid;
  pga__tb_init(&pid, 0);
  pga_dist_put_pid(e->pl->d, &pid, pga_proc_id(e->relay));
  pga_term_t p = pga_tb_data(&pid);
  pga__ex_send_caller(e, "stream_started", &e->req.request_id, &p);
  pga__tb_destroy(&pid);
  pga__ex_monitor_receiver(e);
}

static void dispatch(exec_t *e) {
  uint8_t response = pga_funconfig_compiled(e->fc)->response;

  atomic_fetch_add(&e->pl->work_units, 1); /* one pipeline stage */
  if (response == PGA_FC_RESP_SYNC) {
    e->rt = RT_SYNC;
    start_call(e);
    return;
  }
  if (response == PGA_FC_RESP_ASYNC) e->rt = RT_ASYNC;
  else if (response == PGA_FC_RESP_NONE) e->rt = RT_NONE;
  else if (response == PGA_FC_RESP_STREAM) e->rt = RT_STREAM;
  else { /* E10: unreachable for validated configs */
    pga_term_t rt = pga_funconfig_get(e->fc, PGA_FC_RESPONSE_TYPE);
    char *s = pga_request_detail_error("unsupported response type: ", &rt,
                                       NULL);
    pga__ex_reply_error(e, s ? s : "unsupported response type", 0);
    free(s);
    return;
  }
  int pool = e->rt == RT_STREAM ? PGA_POOL_STREAM : PGA_POOL_ASYNC;
  pga__wp_admit_t admit = pga__wp_submit(e->pl->pools[pool], &e->task,
                                         mono_ms());
  if (admit == PGA__WP_FULL || admit == PGA__WP_OPEN) { /* R16, R24 */
    pga__ex_reply_error(e, PGA_REQUEST_E9, 1);
    return;
  }
  e->pool = pool;
  if (e->rt == RT_STREAM) {
    e->relay = pga__ex_relay_new(e);
    if (!e->relay) {
      pga__wp_cancel(e->pl->pools[pool], &e->task);
      e->pool = -1;
      pga__ex_reply_error(e, "Failed to start stream", 0); /* E12 */
      return;
    }
    atomic_fetch_add(&e->pl->n_streams, 1);
  }
  reply_ack(e);
  if (e->rt == RT_STREAM) announce_stream(e);
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
    pga__ex_reply_error(e, msg, 1);
    return;
  default:
    pga__ex_reply_error(e, PGA_LIMITER_E6, 1);
  }
}

/* ---- permission (§6) ---- */

static void perm_done(void *ud, const pga_term_t *result) {
  exec_t *e = ud;
  e->call_id = 0;
  e->inv = NULL;
  if (result && pga_request_permission_callback_allows(result)) rate_limit(e);
  else pga__ex_reply_error(e, PGA_REQUEST_E4, 0);
}

/* The config's permission callback {m, f, a}: rpc on the node get_node
 * picks, with [request | a] (§6.3); perm_done decides. */
static void perm_callback(exec_t *e, const pga_term_t *cb) {
  pga_term_t el[3], node;
  char m[PGA_ATOM_BUF], f[PGA_ATOM_BUF];
  pga_term_t mode = pga_funconfig_get(e->fc, PGA_FC_CHOOSE_NODE_MODE);
  const pga_fc_compiled_t *c = pga_funconfig_compiled(e->fc);
  int64_t ms = 5000;
  pga_tb_t args;
  pga_term_iter_t it;
  size_t n = 0;

  if (pga_term_tuple_get(cb, 0, &el[0]) ||
      pga_term_tuple_get(cb, 1, &el[1]) ||
      pga_term_tuple_get(cb, 2, &el[2]) ||
      pga_term_get_atom(&el[0], m, sizeof m) ||
      pga_term_get_atom(&el[1], f, sizeof f) ||
      pga_term_list_length(&el[2], &n) ||
      pga_request_nodes_kind(&e->nodes) != PGA_NODES_LIST ||
      pga_request_select_node(e->pl->sel, &e->nodes, &mode, &e->req,
                              pga__ex_wall_ms(), &node, NULL) != 0 ||
      pga__ex_node_name(&node, e->node, sizeof e->node) != 0) {
    pga__ex_reply_error(e, PGA_REQUEST_E4, 0);
    return;
  }
  if (c->timeout == PGA_FC_TIMEOUT_INFINITY) ms = 0;
  else if (c->timeout == PGA_FC_TIMEOUT_INT && c->timeout_ms > 0 &&
           c->timeout_ms <= UINT32_MAX)
    ms = c->timeout_ms;
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
    pga__ex_reply_error(e, PGA_REQUEST_E4, 0);
  }
}

static void permission(exec_t *e) {
  pga_perm_input_t in;
  pga_request_exc_t exc = {0};
  pga_term_t cb;

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
    pga__ex_reply_tb(e, PGA_ERROR, &tb);
    pga__tb_destroy(&tb);
    pga_request_exc_clear(&exc);
    pga__ex_exec_free(e);
    return;
  }
  case PGA_PERM_CALLBACK:
    perm_callback(e, &cb);
    return;
  default:
    pga__ex_reply_error(e, PGA_REQUEST_E4, 0);
    return;
  }
}

/* ---- config resolution and hooks (§3.1, §10) ---- */

/* e->nodes, local and t from e->fc. */
static void resolve_nodes(exec_t *e) {
  const pga_fc_compiled_t *c = pga_funconfig_compiled(e->fc);
  pga_tb_reset(&e->nodes_tb);
  e->nodes = pga_funconfig_get(e->fc, PGA_FC_NODES);
  e->local = c->nodes == PGA_FC_NODES_LOCAL;
  if (e->local) { /* R15 */
    pga_tb_list(&e->nodes_tb, 1);
    pga_tb_atom(&e->nodes_tb, pga_node_name(e->pl->node));
    pga_tb_nil(&e->nodes_tb);
    e->nodes = pga_tb_data(&e->nodes_tb);
  }
  e->t_ms = (unsigned)pga_request_rpc_timeout_of(c);
  pga_tb_reset(&e->fctb); /* fc may have changed: encoded again on use */
}

pga_term_t pga__ex_fc_term(exec_t *e) {
  if (pga_tb_data(&e->fctb).len == 0)
    pga_funconfig_encode(&e->fctb, e->fc);
  return pga_tb_data(&e->fctb);
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
  pga_term_t req2, cfg2, extra;
  const char *m, *f;
  char *e3 = NULL;

  e->inv = NULL;
  if (pga_request_hook_compiled(e->fc, &pga_funconfig_compiled(e->fc)->before,
                                &m, &f, &extra))
    pga__ex_ev_hook_end(e->pl, "before", m, f, e->hook_t0_us, result);
  switch (pga_request_hook_before_result(result, &req2, &cfg2, &e3)) {
  case PGA_HOOK_REJECT:
    pga__ex_reply_error(e, e3 ? e3 : "hook rejected", 0);
    free(e3);
    return;
  case PGA_HOOK_REPLACE:
    if (hook_replace(e, &req2, &cfg2) != 0) { /* R14 */
      pga__ex_reply_error(e, PGA_REQUEST_E3_INVALID, 0);
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
                              pga__ex_wall_ms(), &node, NULL) != 0 ||
      pga__ex_node_name(&node, e->hook_node, sizeof e->hook_node) != 0)
    e->hook_node[0] = 0;
}

static int hook_native(exec_t *e, const pga_fc_call_t *hook, unsigned arity) {
  const char *m, *f;
  pga_term_t extra;
  return pga_request_hook_compiled(e->fc, hook, &m, &f, &extra) &&
         pga_rpc_lookup(e->pl->rpc, m, f, arity) != NULL;
}

static void begin(exec_t *e) {
  int rc = pga_config_lookup(e->pl->cfg, &e->req.service,
                             &e->req.request_type, &e->req.version, &e->fc);
  const char *m, *f;
  pga_term_t extra;
  int n;

  atomic_fetch_add(&e->pl->work_units, 1); /* one pipeline stage */
  pga__ex_tr_phase(e, "config_lookup");
  if (rc != 0) {
    char *s = pga_request_config_error(&e->req, rc == PGA_EBUSY);
    pga__ex_reply_error(e, s ? s : "unsupported function", 0);
    free(s);
    return;
  }
  resolve_nodes(e);
  pga__ex_tr_phase(e, "hooks_before");
  /* hooks pre-split when the FunConfig was compiled: no parsing here */
  const pga_fc_compiled_t *c = pga_funconfig_compiled(e->fc);
  const char *am, *af;
  pga_term_t aextra;
  n = pga_request_hook_compiled(e->fc, &c->before, &m, &f, &extra);
  e->after = pga_request_hook_compiled(e->fc, &c->after, &am, &af, &aextra) != 0;
  if ((n && !hook_native(e, &c->before, 2)) ||
      (e->after && !hook_native(e, &c->after, 3)))
    pick_hook_node(e);
  if (!n) {
    permission(e);
    return;
  }
  pga_tb_t args;
  pga__tb_init(&args, 0);
  pga_tb_list(&args, 2);
  pga_term_t rq = pga_tb_data(&e->reqtb), fc = pga__ex_fc_term(e);
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
  exec_t *e = exec_alloc(pl);
  if (!e) return NULL;
  e->pl = pl;
  e->call = call;
  e->pool = -1;
  e->task.start = task_start;
  e->t0_us = pga_telemetry_monotonic_us();
  atomic_fetch_add(&pl->n_execs, 1);
  pga_term_t caller = pga__call_caller(call);
  /* views of the checked message the rpc layer keeps: copied as they are */
  if (caller.buf) pga__tb_raw(&e->caller, caller.buf, caller.len);
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
    pga__ex_exec_free(e);
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

/* 1 if t matches %Request{}: a map whose __struct__ is the Request
 * module (other keys are not looked at, as in the pattern). */
static int is_request_struct(const pga_term_t *t) {
  pga_term_t tag;

  return pga_term_map_get_atom(t, "__struct__", &tag) == 0 &&
         pga_term_is_atom(&tag, "Elixir.PhoenixGenApi.Structs.Request");
}

/* execute!(request): a %Request{} map. */
static pga_outcome_t fn_execute(pga_call_t *call, size_t argc,
                                const pga_term_t *argv, pga_tb_t *out) {
  plane_t *pl = pga_call_udata(call);
  (void)argc;
  if (!is_request_struct(&argv[0])) {
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
  pga__tb_raw(&e->reqtb, argv[0].buf, argv[0].len); /* checked on arrival */
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
    pga__ex_exec_free(e);
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

int pga__ex_register_fns(plane_t *pl) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < sizeof fns / sizeof *fns; i++) {
    pga_fn_def_t def = fns[i];
    def.udata = pl;
    rc = pga_rpc_register(pl->rpc, &def);
  }
  return rc;
}
