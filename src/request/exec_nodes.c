/* Node selection and the calls on the chosen nodes (§8): fallback to the
 * next node, retry passes after a backoff, the :local function (R15) and
 * {m, f, a} node lists resolved first (resolver.c). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "request/exec_int.h"

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
  pga_term_t rq = pga_tb_data(&e->reqtb), fc = pga__ex_fc_term(e);
  pga_tb_list(tb, 2);
  pga_tb_term(tb, &rq);
  pga_tb_term(tb, &fc);
  pga_tb_nil(tb);
}

static void next_node(exec_t *e) {
  /* m and f were split out when the FunConfig was compiled */
  const pga_fc_call_t *mfa = &pga_funconfig_compiled(e->fc)->mfa;
  const char *m = pga_funconfig_text(e->fc, mfa->m);
  const char *f = pga_funconfig_text(e->fc, mfa->f);
  pga_term_t args = pga_tb_data(&e->args);

  if (mfa->arity < 2) {
    /* validated configs: never */
    pga__ex_deliver_error(e, "invalid mfa", NULL);
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
    pga__ex_deliver_error(e, NULL, &why);
    pga__tb_destroy(&tb);
    return;
  }
  pga__ex_deliver(e, &result);
}

/* "node selection failed: <inspect(reason)>" (§8.4), no retry. */
static void selection_failed(exec_t *e, pga_tb_t *reason, int rc) {
  if (pga_tb_data(reason).len == 0) /* ETOOBIG, ENOMEM...: no term */
    pga_tb_atom(reason, rc == PGA_ETOOBIG ? "too_many_nodes" : "error");
  pga_term_t r = pga_tb_data(reason);
  char *s = pga_request_detail_error("node selection failed: ", &r, NULL);
  pga__ex_deliver_error(e, s ? s : "node selection failed", NULL);
  free(s);
}

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
    pga__ex_select_and_call(e);
  }
  pga__tb_destroy(&why);
}

/* Node selection, then the first pass (§8). */
void pga__ex_select_and_call(exec_t *e) {
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
                                  pga__ex_wall_ms(), e->order, MAX_NODES,
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
  pga_request_retry_of(pga_funconfig_compiled(e->fc), &e->retry);
  pass_start(e);
}

