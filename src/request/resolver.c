/* {m, f, a} node resolvers (request-plane.md §8.1, §14.1; docs/compat.md
 * R15): the library applies m.f(a) in its own VM on every request. pga
 * runs the C function registered under {m, f, length(a)} when there is
 * one, else calls m:f(a) by RPC on the service's own nodes, those of its
 * pushed config and then of its pull config, in order; the first node
 * that answers decides (a raise or exit there is the answer, as the
 * library's apply would raise). Every call is non-blocking, bounded by the
 * request's timeout t. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "request/exec_int.h"

#define MOD_RECEIVER "Elixir.PhoenixGenApi.ConfigReceiver"
#define MOD_PULLER "Elixir.PhoenixGenApi.ConfigPuller"
#define MAX_SERVICE_NODES 64

struct resolve_s {
  exec_t *e;
  pga__ex_resolved_fn done;
  char m[PGA_ATOM_BUF], f[PGA_ATOM_BUF];
  pga_term_t args;         /* a, a view into e->fc */
  pga_tb_t service_nodes;  /* a list term, owned */
  pga_term_t nodes[MAX_SERVICE_NODES];
  size_t n, idx;
  pga_tb_t last;           /* the last node's badrpc reason */
  inv_t *inv;
  uint64_t call_id;
};

static void resolve_free(resolve_t *r) {
  if (r->call_id) pga_rpc_call_cancel(r->e->pl->rpc, r->call_id);
  if (r->inv) pga__ex_inv_abandon(r->inv);
  pga__tb_destroy(&r->service_nodes);
  pga__tb_destroy(&r->last);
  free(r);
}

/* Ends the resolution: list, or {:dynamic_node_resolution_failed, why}.
 * Neither may point into r (it is freed before done runs). */
static void finish(resolve_t *r, const pga_term_t *list,
                   const pga_term_t *why) {
  exec_t *e = r->e;
  pga__ex_resolved_fn done = r->done;
  pga_tb_t reason;

  pga__tb_init(&reason, 0);
  if (!list) {
    pga_tb_tuple(&reason, 2);
    pga_tb_atom(&reason, "dynamic_node_resolution_failed");
    pga_tb_term(&reason, why);
  }
  pga_term_t rv = pga_tb_data(&reason);
  r->call_id = 0;
  r->inv = NULL;
  e->resolve = NULL;
  resolve_free(r);
  done(e, list, list ? NULL : &rv);
  pga__tb_destroy(&reason);
}

/* {:exception, msg} for a raise ({Reason, Stack}), {:exit, R} for an
 * exit: the library's {kind, value} shapes (§8.1). */
static void failure_term(pga_tb_t *tb, const pga_term_t *exit_reason) {
  pga_term_t in[2], msg;
  const char *p;
  size_t n;

  pga_tb_tuple(tb, 2);
  if (pga__rq_tuple(exit_reason, 2, in) && pga__rq_proper_list(&in[1], NULL)) {
    pga_tb_atom(tb, "exception");
    if (pga_term_type(&in[0]) == PGA_T_MAP &&
        pga_term_map_get_atom(&in[0], "message", &msg) == 0 &&
        pga_term_get_binary(&msg, &p, &n) == 0) {
      pga_tb_binary(tb, p, n);
    } else {
      char *s = pga_request_detail_error("", &in[0], NULL);
      pga_tb_string(tb, s ? s : "");
      free(s);
    }
    return;
  }
  pga_tb_atom(tb, "exit");
  pga_tb_term(tb, exit_reason);
}

static void try_next(resolve_t *r);

/* One rpc:call-style answer. 1 when it decided (r is gone). */
static int answered(resolve_t *r, const pga_term_t *result) {
  pga_term_t el[2], ex[2];
  pga_tb_t copy;
  int failed = 0;

  pga__tb_init(&copy, 0);
  if (pga__rq_tuple(result, 2, el) && pga_term_is_atom(&el[0], "badrpc")) {
    if (!pga__rq_tuple(&el[1], 2, ex) || !pga_term_is_atom(&ex[0], "EXIT")) {
      pga_tb_reset(&r->last); /* nodedown, timeout...: no answer */
      pga_tb_term(&r->last, &el[1]);
      pga__tb_destroy(&copy);
      return 0;
    }
    failure_term(&copy, &ex[1]);
    failed = 1;
  } else {
    pga_tb_term(&copy, result);
  }
  if (pga_tb_error(&copy)) {
    pga_tb_reset(&copy);
    pga_tb_atom(&copy, "enomem");
    failed = 1;
  }
  pga_term_t v = pga_tb_data(&copy);
  finish(r, failed ? NULL : &v, failed ? &v : NULL);
  pga__tb_destroy(&copy);
  return 1;
}

static void on_call(void *ud, const pga_term_t *result) {
  resolve_t *r = ud;
  r->call_id = 0;
  if (!answered(r, result)) {
    r->idx++;
    try_next(r);
  }
}

static void on_native(void *owner, const pga_term_t *result) {
  resolve_t *r = owner;
  r->inv = NULL;
  if (result && answered(r, result)) return;
  /* past t, or a badrpc without EXIT: the native resolver failed */
  pga_tb_t why;
  pga__tb_init(&why, 0);
  pga_tb_tuple(&why, 2);
  pga_tb_atom(&why, "exit");
  if (result) {
    pga_term_t last = pga_tb_data(&r->last);
    pga_tb_term(&why, &last);
  } else {
    pga_tb_atom(&why, "timeout");
  }
  pga_term_t w = pga_tb_data(&why);
  finish(r, NULL, &w);
  pga__tb_destroy(&why);
}

static void try_next(resolve_t *r) {
  char node[PGA_ATOM_BUF];

  for (; r->idx < r->n; r->idx++) {
    if (pga__ex_node_name(&r->nodes[r->idx], node, sizeof node) == 0 &&
        pga_rpc_call(r->e->pl->rpc, node, r->m, r->f, &r->args, r->e->t_ms,
                     on_call, r, &r->call_id) == 0)
      return;
    r->call_id = 0;
    pga_tb_reset(&r->last);
    pga_tb_atom(&r->last, "nodedown");
  }
  pga_tb_t why;
  pga__tb_init(&why, 0);
  if (r->n == 0) {
    pga_tb_atom(&why, "no_service_nodes");
  } else { /* nobody answered: {:badrpc, last reason} */
    pga_term_t last = pga_tb_data(&r->last);
    pga_tb_tuple(&why, 2);
    pga_tb_atom(&why, "badrpc");
    pga_tb_term(&why, &last);
  }
  pga_term_t w = pga_tb_data(&why);
  finish(r, NULL, &w);
  pga__tb_destroy(&why);
}

/* The atom and binary nodes of list, appended to r (bounded). */
static void add_nodes(resolve_t *r, const pga_term_t *list) {
  pga_term_iter_t it;
  pga_term_t n;
  if (pga_term_iter_init(&it, list) != 0) return;
  while (r->n < MAX_SERVICE_NODES && pga_term_iter_next(&it, &n) == 1) {
    pga_term_type_t t = pga_term_type(&n);
    if (t == PGA_T_ATOM || t == PGA_T_BINARY) r->nodes[r->n++] = n;
  }
}

/* The service's nodes: its pushed config's, then its pull config's. The
 * terms are kept in r->service_nodes, a list of both lists. */
static void gather_nodes(resolve_t *r) {
  plane_t *pl = r->e->pl;
  pga_term_t svc = r->e->req.service, pc, nodes, sc;
  pga_tb_t pushed, pulled;

  pga__tb_init(&pushed, 0);
  pga__tb_init(&pulled, 0);
  pga_tb_list(&r->service_nodes, 2);
  if (pga_config_call(pl->cfg, MOD_RECEIVER, "get_pushed_config", 1, &svc,
                      &pushed) == PGA_RETURN &&
      (pc = pga_tb_data(&pushed), pga_term_type(&pc) == PGA_T_MAP) &&
      pga_term_map_get_atom(&pc, "nodes", &nodes) == 0)
    pga_tb_term(&r->service_nodes, &nodes);
  else
    pga_tb_nil(&r->service_nodes);
  pga_term_t all;
  if (pga_config_call(pl->cfg, MOD_PULLER, "get_services", 0, NULL,
                      &pulled) == PGA_RETURN &&
      (all = pga_tb_data(&pulled), pga_term_type(&all) == PGA_T_MAP) &&
      pga_term_map_get(&all, &svc, &sc) == 0 &&
      pga_term_type(&sc) == PGA_T_MAP &&
      pga_term_map_get_atom(&sc, "nodes", &nodes) == 0)
    pga_tb_term(&r->service_nodes, &nodes);
  else
    pga_tb_nil(&r->service_nodes);
  pga_tb_nil(&r->service_nodes);
  pga__tb_destroy(&pushed);
  pga__tb_destroy(&pulled);

  pga_term_t both = pga_tb_data(&r->service_nodes), list;
  pga_term_iter_t it;
  if (pga_tb_error(&r->service_nodes) || pga_term_iter_init(&it, &both) != 0)
    return;
  while (pga_term_iter_next(&it, &list) == 1) add_nodes(r, &list);
}

void pga__ex_resolve(exec_t *e, pga__ex_resolved_fn done) {
  pga_term_t el[3];
  size_t argc = 0;
  resolve_t *r = calloc(1, sizeof *r);

  if (!r) {
    pga_tb_t why;
    pga__tb_init(&why, 0);
    pga_tb_atom(&why, "enomem");
    pga_term_t w = pga_tb_data(&why);
    done(e, NULL, &w);
    pga__tb_destroy(&why);
    return;
  }
  r->e = e;
  r->done = done;
  pga__tb_init(&r->service_nodes, 0);
  pga__tb_init(&r->last, 0);
  e->resolve = r;
  /* nodes_kind said {atom, atom, list} */
  (void)pga__rq_tuple(&e->nodes, 3, el);
  (void)pga_term_get_atom(&el[0], r->m, sizeof r->m);
  (void)pga_term_get_atom(&el[1], r->f, sizeof r->f);
  r->args = el[2];
  (void)pga_term_list_length(&r->args, &argc);
  if (pga_rpc_lookup(e->pl->rpc, r->m, r->f, (unsigned)argc)) {
    if (pga__ex_inv_start(e->pl, r, on_native, NULL, NULL, r->m, r->f,
                          &r->args, argc, e->t_ms, 1, &r->inv) == 0)
      return;
    r->inv = NULL;
    on_native(r, NULL);
    return;
  }
  gather_nodes(r);
  try_next(r);
}

void pga__ex_resolve_cancel(exec_t *e) {
  resolve_t *r = e->resolve;
  if (!r) return;
  e->resolve = NULL;
  resolve_free(r);
}
