/* Permission (request-plane.md §6): the callback-or-mode precedence and
 * the check_permission modes. Callbacks are not run here: the caller gets
 * PGA_PERM_CALLBACK with the {m, f, a} to call (locally or over RPC) and
 * judges its answer with pga_request_permission_callback_allows. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "request/request_int.h"

/* {m, f, a} with atom m and f and a list a: the callback decides alone. */
static int is_mfa(const pga_term_t *t) {
  pga_term_t el[3];
  pga_term_type_t at;

  if (!pga__rq_tuple(t, 3, el))
    return 0;
  at = pga__rq_type(&el[2]);
  return pga__rq_type(&el[0]) == PGA_T_ATOM &&
         pga__rq_type(&el[1]) == PGA_T_ATOM &&
         (at == PGA_T_LIST || at == PGA_T_NIL);
}

static int truthy(const pga_term_t *t) {
  return !pga__rq_is_nil(t) &&
         !(pga__rq_type(t) == PGA_T_ATOM && pga_term_is_atom(t, "false"));
}

/* The first non-nil, non-false value[name] among the map values of args,
 * in the library's map order (one level only). */
static int find_in_maps(const pga_term_t *args, const pga_term_t *name,
                        pga_term_t *out) {
  pga__term_pair_t *pairs;
  pga_term_t v;
  size_t n;
  int found = 0;

  if (pga__term_map_pairs(args, &pairs, &n) != 0)
    return 0;
  for (size_t i = 0; i < n && !found; i++) {
    if (pga__rq_map_get(&pairs[i].value, name, &v) && truthy(&v)) {
      *out = v;
      found = 1;
    }
  }
  free(pairs);
  return found;
}

/* {:arg, name}: the argument must be exactly the (non-empty) user_id. */
static pga_perm_result_t check_arg(const pga_perm_input_t *in,
                                   const pga_term_t *name,
                                   pga_request_exc_t *exc) {
  const pga_request_t *req = in->req;
  pga_term_t v;
  int found;

  if (!pga__rq_is_nonempty_binary(&req->user_id))
    return PGA_PERM_DENY;
  if (pga__rq_type(&req->args) != PGA_T_MAP) {
    /* Map.get/2 on a non-map raises BadMapError, which is not a
     * PermissionDenied: it escapes (§3.4). */
    pga__rq_exc_badmap(exc, &req->args);
    return PGA_PERM_RAISE;
  }
  found = pga__rq_map_get(&req->args, name, &v);
  if (pga_term_is_atom(&in->arg_orders, "map") &&
      pga__rq_type(&in->arg_orders) == PGA_T_ATOM &&
      (!found || !truthy(&v)))
    found = find_in_maps(&req->args, name, &v);
  if (!found || pga__rq_is_nil(&v))
    return PGA_PERM_DENY;
  return pga_term_equal(&v, &req->user_id) ? PGA_PERM_ALLOW : PGA_PERM_DENY;
}

/* {:role, allowed}: user_roles and allowed share an element (exact). */
static pga_perm_result_t check_role(const pga_request_t *req,
                                    const pga_term_t *allowed) {
  pga_term_iter_t ir, ia;
  pga_term_t r, a;

  if (!pga__rq_proper_list(&req->user_roles, NULL) ||
      !pga__rq_proper_list(allowed, NULL) ||
      pga_term_iter_init(&ir, &req->user_roles) != 0)
    return PGA_PERM_DENY;
  while (pga_term_iter_next(&ir, &r)) {
    if (pga_term_iter_init(&ia, allowed) != 0)
      return PGA_PERM_DENY;
    while (pga_term_iter_next(&ia, &a))
      if (pga_term_equal(&r, &a))
        return PGA_PERM_ALLOW;
  }
  return PGA_PERM_DENY;
}

/* The check_permission mode (§6.2). */
static pga_perm_result_t check_mode(const pga_perm_input_t *in,
                                    pga_request_exc_t *exc) {
  const pga_term_t *mode = &in->check_permission;
  pga_term_t el[2];

  if (pga__rq_type(mode) == PGA_T_ATOM) {
    if (pga_term_is_atom(mode, "false"))
      return PGA_PERM_ALLOW;
    if (pga_term_is_atom(mode, "any_authenticated"))
      return pga__rq_is_nonempty_binary(&in->req->user_id) ? PGA_PERM_ALLOW
                                                           : PGA_PERM_DENY;
    return PGA_PERM_DENY;
  }
  if (pga__rq_tuple(mode, 2, el) && pga__rq_type(&el[0]) == PGA_T_ATOM) {
    if (pga_term_is_atom(&el[0], "arg"))
      return check_arg(in, &el[1], exc);
    if (pga_term_is_atom(&el[0], "role"))
      return check_role(in->req, &el[1]);
  }
  return PGA_PERM_DENY;
}

pga_perm_result_t pga_request_permission_check(const pga_perm_input_t *in,
                                               pga_term_t *callback,
                                               pga_request_exc_t *exc) {
  const pga_term_t *cb = &in->permission_callback;

  if (is_mfa(cb)) {
    if (callback != NULL)
      *callback = *cb;
    return PGA_PERM_CALLBACK;
  }
  if (!in->local && pga__rq_tuple(cb, 2, NULL)) {
    /* The executor's needs_remote_permission_check?/1 has no clause for a
     * 2-tuple (§6.1, §3.4). */
    pga__rq_exc_clause(exc, "PhoenixGenApi.Executor",
                       "needs_remote_permission_check?", 1);
    return PGA_PERM_RAISE;
  }
  /* nil, or any other value (logged and ignored by the library). */
  return check_mode(in, exc);
}

int pga_request_permission_callback_allows(const pga_term_t *result) {
  return pga__rq_type(result) == PGA_T_ATOM &&
         pga_term_is_atom(result, "true");
}

char *pga_request_permission_denied_message(const pga_perm_input_t *in) {
  pga__rq_text_t t;
  const pga_request_t *req = in->req;

  pga__rq_text_init(&t);
  pga__rq_text_str(&t, "Permission denied for user: ");
  pga__rq_text_inspect(&t, &req->user_id);
  pga__rq_text_str(&t, ", request: ");
  pga__rq_text_inspect(&t, &req->request_id);
  pga__rq_text_str(&t, ", type: ");
  pga__rq_text_inspect(&t, &req->request_type);
  pga__rq_text_str(&t, ", mode: ");
  if (is_mfa(&in->permission_callback)) {
    pga__rq_text_str(&t, "{:callback, ");
    pga__rq_text_inspect(&t, &in->permission_callback);
    pga__rq_text_str(&t, "}");
  } else {
    pga__rq_text_inspect(&t, &in->check_permission);
  }
  return pga__rq_text_take(&t);
}
