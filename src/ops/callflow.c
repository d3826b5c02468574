/* Diagnostics.call_flow/2,3, inspect_request/1 and list_call_flows/0,1
 * (ops-plane.md §4.4), served under PhoenixGenApi and Diagnostics, with
 * the print helpers of callflow_print.c. The stored FunConfig comes from
 * the config plane's own ConfigDb functions, so `config` is the struct
 * exactly as stored. */
#include "ops/callflow_int.h"

#include <stdlib.h>
#include <string.h>

#include "request/plane.h"
#include "term/term.h"

#define MOD_DB "Elixir.PhoenixGenApi.ConfigDb"
#define FLOW_PAIRS 17

/* ---- config resolution ---- */

typedef enum { FOUND, MISSING, FAILED } lookup_t;

/* Runs ConfigDb.fn(argv) into res; FOUND with *fc set from {:ok, fc},
 * MISSING with *reason from {:error, reason}, FAILED when the call raised
 * (res holds the reason). */
static lookup_t db_get(pga_ops_t *ops, const char *fn, size_t argc,
                       const pga_term_t *argv, pga_tb_t *res,
                       pga_term_t *fc, pga_term_t *reason) {
  pga_term_t el[2];
  size_t arity;
  pga_tb_reset(res);
  if (pga_config_call(ops->cfg, MOD_DB, fn, argc, argv, res) != PGA_RETURN)
    return FAILED;
  pga_term_t r = pga_tb_data(res);
  if (pga_term_tuple_arity(&r, &arity) != 0 || arity != 2 ||
      pga_term_tuple_get(&r, 0, &el[0]) != 0 ||
      pga_term_tuple_get(&r, 1, &el[1]) != 0)
    return FAILED;
  if (pga_term_is_atom(&el[0], "ok")) {
    *fc = el[1];
    return FOUND;
  }
  *reason = el[1];
  return MISSING;
}

/* nil and "0.0.0" both mean "the unversioned config". */
static int unversioned(const pga_term_t *v) {
  const char *p;
  size_t n;
  if (pga_term_is_atom(v, "nil")) return 1;
  return pga_term_get_binary(v, &p, &n) == 0 && n == 5 &&
         memcmp(p, "0.0.0", 5) == 0;
}

static const char nil_buf[] = {119, 3, 'n', 'i', 'l'};
static const char not_found_buf[] = {119, 9, 'n', 'o', 't', '_',
                                     'f', 'o', 'u', 'n', 'd'};

/* The exact version, else the latest enabled versioned one. */
static lookup_t resolve(pga_ops_t *ops, const pga_term_t *svc,
                        const pga_term_t *rt, const pga_term_t *version,
                        pga_tb_t *res, pga_term_t *fc, pga_term_t *reason) {
  pga_term_t nil = {nil_buf, sizeof nil_buf};
  pga_term_t argv[3] = {*svc, *rt, unversioned(version) ? nil : *version};
  if (!ops->cfg) {
    if (pga_term_type(rt) != PGA_T_BINARY) return FAILED;
    reason->buf = not_found_buf;
    reason->len = sizeof not_found_buf;
    return MISSING;
  }
  lookup_t l = db_get(ops, "get", 3, argv, res, fc, reason);
  if (l == MISSING && pga_term_is_atom(reason, "not_found"))
    l = db_get(ops, "get_latest", 2, argv, res, fc, reason);
  return l;
}

/* ---- the found map ---- */

static void rate_limit_entry(pga_tb_t *tb, const char *scope,
                             const pga_term_t *limit) {
  static const char *const keys[] = {"key", "max_requests", "window_ms"};
  pga_tb_map(tb, 4);
  pga_tb_atom(tb, "scope");
  pga_tb_atom(tb, scope);
  for (size_t i = 0; i < 3; i++) {
    pga_term_t v = pga_ops_flow_field(limit, keys[i]);
    pga_tb_atom(tb, keys[i]);
    pga_tb_term(tb, &v);
  }
}

static int api_limit_matches(const pga_term_t *limit, const pga_term_t *svc,
                             const pga_term_t *rt) {
  pga_term_t s = pga_ops_flow_field(limit, "service");
  pga_term_t r = pga_ops_flow_field(limit, "request_type");
  return pga_term_equal(&s, svc) && pga_term_equal(&r, rt);
}

/* One scope's entries; api limits filtered by service and request_type. */
static void rate_limit_list(pga_tb_t *tb, const pga_term_t *limits,
                            const char *scope, const pga_term_t *svc,
                            const pga_term_t *rt) {
  pga_term_iter_t it;
  pga_term_t l;
  size_t n = 0;
  int api = svc != NULL;
  if (pga_term_iter_init(&it, limits) == 0)
    while (pga_term_iter_next(&it, &l))
      n += !api || api_limit_matches(&l, svc, rt);
  pga_tb_list(tb, n);
  if (n == 0) return;
  pga_term_iter_init(&it, limits);
  while (pga_term_iter_next(&it, &l))
    if (!api || api_limit_matches(&l, svc, rt)) rate_limit_entry(tb, scope, &l);
  pga_tb_nil(tb);
}

static void put_rate_limit(pga_ops_t *ops, pga_tb_t *tb,
                           const pga_term_t *svc, const pga_term_t *rt) {
  pga_request_limiter_t *l = pga_request_plane_limiter(ops->node);
  pga_tb_t cfg;
  pga__tb_init(&cfg, 0);
  if (l) pga_request_limiter_config(l, &cfg);
  pga_term_t conf = pga_tb_data(&cfg);
  pga_term_t global = pga_ops_flow_field(&conf, "global");
  pga_term_t api = pga_ops_flow_field(&conf, "api");
  pga_tb_map(tb, 2);
  pga_tb_atom(tb, "global");
  rate_limit_list(tb, &global, "global", NULL, NULL);
  pga_tb_atom(tb, "api");
  rate_limit_list(tb, &api, "api", svc, rt);
  pga__tb_destroy(&cfg);
}

/* reachable_nodes (want_up) or unreachable_nodes, order kept. */
static size_t put_nodes_where(pga_ops_t *ops, pga_tb_t *tb,
                              const pga_ops_reach_t *r,
                              const pga_term_t *nodes, int want_up) {
  pga_term_iter_t it;
  pga_term_t el;
  size_t n = 0;
  pga_term_iter_init(&it, nodes);
  while (pga_term_iter_next(&it, &el))
    n += pga_ops_reach_is_up(ops, r, &el) == want_up;
  pga_tb_list(tb, n);
  if (n == 0) return 0;
  pga_term_iter_init(&it, nodes);
  while (pga_term_iter_next(&it, &el))
    if (pga_ops_reach_is_up(ops, r, &el) == want_up) pga_tb_term(tb, &el);
  pga_tb_nil(tb);
  return n;
}

static void kv_field(pga_tb_t *tb, const char *key, const pga_term_t *fc,
                     const char *field) {
  pga_term_t v = pga_ops_flow_field(fc, field);
  pga_tb_atom(tb, key);
  pga_tb_term(tb, &v);
}

/* The 17 pairs (after a header the caller wrote). r holds probe answers
 * covering this config's nodes. */
static void put_found_pairs(pga_ops_t *ops, pga_tb_t *tb,
                            const pga_term_t *svc, const pga_term_t *rt,
                            const pga_term_t *fc, const pga_ops_reach_t *r) {
  pga_term_t nodes_field = pga_ops_flow_field(fc, "nodes");
  pga_term_t perm = pga_ops_flow_field(fc, "check_permission");
  pga_term_t before = pga_ops_flow_field(fc, "before_execute");
  pga_term_t after = pga_ops_flow_field(fc, "after_execute");
  pga_term_t retry = pga_ops_flow_field(fc, "retry");
  pga_tb_t nb;
  pga__tb_init(&nb, 0);
  pga_ops_flow_nodes(&nb, &nodes_field);
  pga_term_t nodes = pga_tb_data(&nb);
  pga_ops_flow_route_t route = {pga_term_is_atom(&nodes_field, "local"),
                                &nodes, 0};

  pga_tb_atom(tb, "service");
  pga_tb_term(tb, svc);
  pga_tb_atom(tb, "request_type");
  pga_tb_term(tb, rt);
  kv_field(tb, "version", fc, "version");
  pga_tb_atom(tb, "config");
  pga_tb_term(tb, fc);
  pga_tb_atom(tb, "local?");
  pga_tb_bool(tb, route.local);
  pga_tb_atom(tb, "nodes");
  pga_tb_term(tb, &nodes);
  pga_tb_atom(tb, "reachable_nodes");
  route.reachable = put_nodes_where(ops, tb, r, &nodes, 1);
  pga_tb_atom(tb, "unreachable_nodes");
  put_nodes_where(ops, tb, r, &nodes, 0);
  kv_field(tb, "response_type", fc, "response_type");
  kv_field(tb, "choose_node_mode", fc, "choose_node_mode");
  kv_field(tb, "timeout", fc, "timeout");
  pga_tb_atom(tb, "rate_limit");
  put_rate_limit(ops, tb, svc, rt);
  pga_tb_atom(tb, "permission");
  pga_ops_flow_permission(tb, &perm);
  pga_tb_atom(tb, "hooks");
  pga_tb_map(tb, 2);
  pga_tb_atom(tb, "before_execute");
  pga_ops_flow_hook(tb, &before);
  pga_tb_atom(tb, "after_execute");
  pga_ops_flow_hook(tb, &after);
  pga_tb_atom(tb, "retry");
  pga_ops_flow_retry(tb, &retry);
  kv_field(tb, "mfa", fc, "mfa");
  pga_tb_atom(tb, "steps");
  pga_ops_flow_steps(tb, fc, &route);
  pga__tb_destroy(&nb);
}

/* Probes the nodes of fc's `nodes` field into r. */
static void probe_config(pga_ops_t *ops, pga_ops_reach_t *r,
                         const pga_term_t *fc) {
  pga_term_t field = pga_ops_flow_field(fc, "nodes");
  pga_tb_t nb;
  pga__tb_init(&nb, 0);
  pga_ops_flow_nodes(&nb, &field);
  pga_term_t nodes = pga_tb_data(&nb);
  pga_ops_reach_add_list(ops, r, &nodes);
  pga__tb_destroy(&nb);
}

static pga_outcome_t builder_error(pga_tb_t *out) {
  pga_tb_reset(out);
  pga_tb_atom(out, "enomem");
  return PGA_ERROR;
}

pga_outcome_t pga_ops_flow_call(pga_ops_t *ops, const pga_term_t *service,
                                const pga_term_t *request_type,
                                const pga_term_t *version, size_t extra,
                                pga_tb_t *out) {
  pga_tb_t res;
  pga_term_t fc, reason;
  pga__tb_init(&res, 0);
  lookup_t l = resolve(ops, service, request_type, version, &res, &fc, &reason);
  pga_outcome_t o = PGA_RETURN;
  if (l == FAILED) {
    pga_term_t why = pga_tb_data(&res);
    pga_tb_reset(out);
    if (why.len)
      pga_tb_term(out, &why);
    else
      pga_tb_atom(out, "function_clause");
    o = PGA_ERROR;
  } else if (l == MISSING) {
    pga_ops_flow_error_map(out, service, request_type, &reason, extra);
  } else {
    pga_ops_reach_t r;
    pga_ops_reach_init(&r);
    probe_config(ops, &r, &fc);
    pga_ops_reach_probe(ops, &r);
    pga_tb_map(out, FLOW_PAIRS + extra);
    put_found_pairs(ops, out, service, request_type, &fc, &r);
    pga_ops_reach_free(&r);
  }
  pga__tb_destroy(&res);
  return o;
}

/* ---- inspect_request ---- */

/* Map.get(req, :key) || Map.get(req, "key"). */
static pga_term_t req_field(const pga_term_t *req, const char *key) {
  pga_term_t v = pga_ops_flow_field(req, key);
  pga_term_t b;
  if (!pga_ops_flow_truthy(&v) && pga_term_map_get_binary(req, key, &b) == 0)
    return b;
  return v;
}

/* BadMapError, as the library's Map.get raises on a non-map. */
static pga_outcome_t bad_map(pga_tb_t *out, const pga_term_t *term) {
  pga_tb_reset(out);
  pga_tb_map(out, 3);
  pga_tb_atom(out, "__struct__");
  pga_tb_atom(out, "Elixir.BadMapError");
  pga_tb_atom(out, "__exception__");
  pga_tb_bool(out, 1);
  pga_tb_atom(out, "term");
  pga_tb_term(out, term);
  return PGA_ERROR;
}

pga_outcome_t pga_ops_flow_inspect(pga_ops_t *ops, const pga_term_t *req,
                                   pga_tb_t *out) {
  static const char *const keys[] = {"service", "request_type", "version",
                                     "user_id", "device_id", "request_id"};
  if (pga_term_type(req) != PGA_T_MAP) return bad_map(out, req);
  pga_term_t v[6];
  for (size_t i = 0; i < 6; i++) v[i] = req_field(req, keys[i]);
  pga_outcome_t o = pga_ops_flow_call(ops, &v[0], &v[1], &v[2], 1, out);
  if (o != PGA_RETURN) return o;
  pga_tb_atom(out, "request");
  pga_tb_map(out, 6);
  for (size_t i = 0; i < 6; i++) {
    pga_tb_atom(out, keys[i]);
    pga_tb_term(out, &v[i]);
  }
  return pga_tb_error(out) ? builder_error(out) : PGA_RETURN;
}

/* ---- list_call_flows ---- */

typedef struct stored_s {
  pga_term_t version; /* the store's key version */
  pga_term_t fc;
  pga_term_t service, request_type;
} stored_t;

static int stored_cmp(const void *pa, const void *pb) {
  const stored_t *a = pa, *b = pb;
  int c = pga__term_compare(&a->service, &b->service);
  if (!c) c = pga__term_compare(&a->request_type, &b->request_type);
  return c ? c : pga__term_compare(&a->version, &b->version);
}

/* The snapshot's {version_key, fc} pairs, sorted. NULL with *n 0 when
 * empty; NULL with *n 1 on ENOMEM. */
static stored_t *stored_sorted(const pga_term_t *list, size_t *n) {
  pga_term_iter_t it;
  pga_term_t el;
  size_t k = 0;
  *n = 0;
  if (pga_term_list_length(list, n) != 0 || *n == 0) return NULL;
  stored_t *v = calloc(*n, sizeof *v);
  if (!v) return NULL;
  pga_term_iter_init(&it, list);
  while (k < *n && pga_term_iter_next(&it, &el)) {
    if (pga_term_tuple_get(&el, 0, &v[k].version) != 0 ||
        pga_term_tuple_get(&el, 1, &v[k].fc) != 0)
      continue;
    v[k].service = pga_ops_flow_field(&v[k].fc, "service");
    v[k].request_type = pga_ops_flow_field(&v[k].fc, "request_type");
    k++;
  }
  *n = k;
  qsort(v, k, sizeof *v, stored_cmp);
  return v;
}

static void put_disabled_entry(pga_tb_t *out, const stored_t *s) {
  pga_tb_map(out, 5);
  pga_tb_atom(out, "service");
  pga_tb_term(out, &s->service);
  pga_tb_atom(out, "request_type");
  pga_tb_term(out, &s->request_type);
  pga_tb_atom(out, "version");
  pga_tb_term(out, &s->version);
  pga_tb_atom(out, "status");
  pga_tb_atom(out, "disabled");
  pga_tb_atom(out, "disabled");
  pga_tb_bool(out, 1);
}

static int listed(const stored_t *s, int include_disabled) {
  pga_term_t d = pga_ops_flow_field(&s->fc, "disabled");
  return include_disabled || !pga_ops_flow_truthy(&d);
}

static void put_flows(pga_ops_t *ops, pga_tb_t *out, const stored_t *v,
                      size_t n, int include_disabled) {
  size_t shown = 0;
  pga_ops_reach_t r;
  pga_ops_reach_init(&r);
  for (size_t i = 0; i < n; i++)
    if (listed(&v[i], include_disabled)) {
      shown++;
      probe_config(ops, &r, &v[i].fc);
    }
  pga_ops_reach_probe(ops, &r); /* every node of every flow at once */
  pga_tb_list(out, shown);
  for (size_t i = 0; i < n; i++) {
    if (!listed(&v[i], include_disabled)) continue;
    pga_term_t d = pga_ops_flow_field(&v[i].fc, "disabled");
    if (pga_ops_flow_truthy(&d)) {
      put_disabled_entry(out, &v[i]);
      continue;
    }
    pga_tb_map(out, FLOW_PAIRS + 1);
    put_found_pairs(ops, out, &v[i].service, &v[i].request_type, &v[i].fc,
                    &r);
    pga_tb_atom(out, "disabled");
    pga_tb_term(out, &d);
  }
  if (shown) pga_tb_nil(out);
  pga_ops_reach_free(&r);
}

pga_outcome_t pga_ops_flow_list(pga_ops_t *ops, const pga_term_t *opts,
                                pga_tb_t *out) {
  pga_term_t inc;
  int include_disabled = opts && pga__ops_kw_get(opts, "include_disabled", &inc)
                             ? pga_ops_flow_truthy(&inc)
                             : 0;
  pga_tb_t snap;
  pga__tb_init(&snap, 0);
  if (ops->cfg && pga_config_list_stored(ops->cfg, &snap) != 0) {
    pga__tb_destroy(&snap);
    return builder_error(out);
  }
  pga_term_t list = pga_tb_data(&snap);
  size_t n = 0;
  stored_t *v = ops->cfg ? stored_sorted(&list, &n) : NULL;
  if (!v && n) {
    pga__tb_destroy(&snap);
    return builder_error(out);
  }
  put_flows(ops, out, v, n, include_disabled);
  free(v);
  pga__tb_destroy(&snap);
  return pga_tb_error(out) ? builder_error(out) : PGA_RETURN;
}

/* ---- served functions ---- */

static pga_outcome_t finish(pga_outcome_t o, pga_tb_t *out) {
  return o == PGA_RETURN && pga_tb_error(out) ? builder_error(out) : o;
}

static pga_outcome_t fn_call_flow2(pga_ops_t *ops, pga_call_t *call,
                                   const pga_term_t *argv, pga_tb_t *out) {
  pga_term_t nil = {nil_buf, sizeof nil_buf};
  (void)call;
  return finish(pga_ops_flow_call(ops, &argv[0], &argv[1], &nil, 0, out), out);
}

static pga_outcome_t fn_call_flow3(pga_ops_t *ops, pga_call_t *call,
                                   const pga_term_t *argv, pga_tb_t *out) {
  (void)call;
  return finish(pga_ops_flow_call(ops, &argv[0], &argv[1], &argv[2], 0, out),
                out);
}

static pga_outcome_t fn_inspect_request(pga_ops_t *ops, pga_call_t *call,
                                        const pga_term_t *argv,
                                        pga_tb_t *out) {
  (void)call;
  return pga_ops_flow_inspect(ops, &argv[0], out);
}

static pga_outcome_t fn_list0(pga_ops_t *ops, pga_call_t *call,
                              const pga_term_t *argv, pga_tb_t *out) {
  (void)call;
  (void)argv;
  return pga_ops_flow_list(ops, NULL, out);
}

static pga_outcome_t fn_list1(pga_ops_t *ops, pga_call_t *call,
                              const pga_term_t *argv, pga_tb_t *out) {
  (void)call;
  pga_term_type_t ty = pga_term_type(&argv[0]);
  if (ty != PGA_T_NIL && ty != PGA_T_LIST)
    return pga__ops_function_clause(out); /* Keyword.get needs a list */
  return pga_ops_flow_list(ops, &argv[0], out);
}

static const pga_ops_fn_def_t fns[] = {
    PGA_OPS_TOP_AND_DIAG("call_flow", 2, fn_call_flow2),
    PGA_OPS_TOP_AND_DIAG("call_flow", 3, fn_call_flow3),
    PGA_OPS_TOP_AND_DIAG("inspect_request", 1, fn_inspect_request),
    PGA_OPS_TOP_AND_DIAG("list_call_flows", 0, fn_list0),
    PGA_OPS_TOP_AND_DIAG("list_call_flows", 1, fn_list1),
    {PGA_OPS_MOD_TOP, "call_flow_print", 2, pga_ops_call_flow_print, 0},
    {PGA_OPS_MOD_TOP, "call_flow_print", 3, pga_ops_call_flow_print3, 0},
    {PGA_OPS_MOD_TOP, "flows_print", 0, pga_ops_flows_print0, 0},
    {PGA_OPS_MOD_TOP, "flows_print", 1, pga_ops_flows_print1, 0},
    {PGA_OPS_MOD_TOP, "inspect_print", 1, pga_ops_inspect_print, 0},
    {NULL, NULL, 0, NULL, 0}};

const pga_ops_area_t pga_ops_area_callflow = {"callflow", fns, NULL, NULL};
