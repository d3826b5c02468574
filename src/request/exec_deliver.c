/* Answering a request (§3.3): completing the RPC call (through the after
 * hook, §10), messages to the caller, error Responses, the background
 * task's outcome, and turning the final result into a Response for each
 * response_type. */
#include "config.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "request/exec_int.h"

/* The Response of a request whose after hook runs: the call completes
 * when the hook ends, whatever it does (§10). */
typedef struct after_s {
  pga_call_t *call;
  pga_tb_t resp;
  plane_t *pl;
  char m[PGA_ATOM_BUF], f[PGA_ATOM_BUF];
  int64_t t0_us;
} after_t;

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
  pga_term_t extra;
  const char *m, *f;
  int n = pga_request_hook_compiled(
      e->fc, &pga_funconfig_compiled(e->fc)->after, &m, &f, &extra);
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
  pga_term_t rq = pga_tb_data(&e->reqtb), fc = pga__ex_fc_term(e);
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

void pga__ex_reply_tb(exec_t *e, pga_outcome_t oc, pga_tb_t *tb) {
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
void pga__ex_reply_error(exec_t *e, const char *msg, int can_retry) {
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_request_error_response(&tb, &e->req.request_id, msg, can_retry);
  pga__ex_reply_tb(e, PGA_RETURN, &tb);
  pga__tb_destroy(&tb);
  pga__ex_exec_free(e);
}

/* Sends {tag, term} (or term alone when tag is NULL) to the caller. */
void pga__ex_send_caller(exec_t *e, const char *tag, const pga_term_t *a,
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
void pga__ex_error_resp(exec_t *e, pga_tb_t *tb, const pga_term_t *term,
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
void pga__ex_task_failed(exec_t *e, const char *kind,
                         const pga_term_t *term, const char *text) {
  if (e->pool < 0 || e->fail_kind) return;
  e->fail_kind = kind;
  e->fail_reason = term ? pga_request_detail_error("", term, NULL)
                        : strdup(text ? text : "");
}

/* ---- delivering the final result (§3.3) ---- */

static int is_response(const pga_term_t *t) {
  pga_term_t tag;
  return pga_term_type(t) == PGA_T_MAP &&
         pga_term_map_get_atom(t, "__struct__", &tag) == 0 &&
         pga_term_is_atom(&tag, "Elixir.PhoenixGenApi.Structs.Response");
}

void pga__ex_deliver(exec_t *e, const pga_term_t *raw) {
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
    pga__ex_error_resp(e, &resp, raw, NULL);
    break;
  default:
    pga_request_error_response(&resp, &e->req.request_id, PGA_REQUEST_E8, 0);
  }
  if (!ok && e->rt != RT_STREAM) pga__ex_task_failed(e, "error", raw, NULL);
  switch (e->rt) {
  case RT_SYNC:
    pga__ex_reply_tb(e, PGA_RETURN, &resp);
    pga__ex_exec_free(e);
    break;
  case RT_ASYNC: {
    pga_term_t r = pga_tb_data(&resp);
    pga__ex_send_caller(e, "async_call", &r, NULL);
    pga__ex_exec_free(e);
    break;
  }
  case RT_NONE:
    pga__ex_exec_free(e);
    break;
  case RT_STREAM:
    pga__ex_stream_first(e, &resp, ok);
    break;
  }
  pga__tb_destroy(&resp);
}

/* An {:error, reason} with reason a string or a term. */
void pga__ex_deliver_error(exec_t *e, const char *text, const pga_term_t *t) {
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_tb_tuple(&tb, 2);
  pga_tb_atom(&tb, "error");
  if (text) pga_tb_string(&tb, text);
  else pga_tb_term(&tb, t);
  pga_term_t r = pga_tb_data(&tb);
  pga__ex_deliver(e, &r);
  pga__tb_destroy(&tb);
}
