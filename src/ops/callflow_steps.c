/* The descriptive parts of a call flow (ops-plane.md §4.4): permission,
 * hooks and retry descriptions and the ordered step list, as pure
 * functions of the stored FunConfig's field terms. Wording and the
 * library's quirks (Elixir. prefixes kept, :any_authenticated unknown)
 * are replicated; tuple node modes are inspected instead of raising. */
#include "ops/callflow_int.h"

#include <string.h>

/* nil as SMALL_ATOM_UTF8_EXT, for absent fields. */
static const char nil_buf[] = {119, 3, 'n', 'i', 'l'};
static const pga_term_t nil_term = {nil_buf, sizeof nil_buf};

pga_term_t pga_ops_flow_field(const pga_term_t *fc, const char *name) {
  pga_term_t v;
  return pga_term_map_get_atom(fc, name, &v) == 0 ? v : nil_term;
}

int pga_ops_flow_truthy(const pga_term_t *t) {
  return !pga_term_is_atom(t, "nil") && !pga_term_is_atom(t, "false");
}

static int tuple_of(const pga_term_t *t, size_t arity, pga_term_t *el) {
  size_t n;
  if (pga_term_tuple_arity(t, &n) != 0 || n != arity) return 0;
  for (size_t i = 0; i < arity; i++)
    if (pga_term_tuple_get(t, i, &el[i]) != 0) return 0;
  return 1;
}

static int is_atom(const pga_term_t *t) {
  return pga_term_type(t) == PGA_T_ATOM;
}

static int is_integer(const pga_term_t *t) {
  pga_term_type_t ty = pga_term_type(t);
  return ty == PGA_T_INTEGER || ty == PGA_T_BIGINT;
}

/* Length of a proper list, or -1. */
static long proper_length(const pga_term_t *t) {
  pga_term_iter_t it;
  pga_term_t el, tail;
  long n = 0;
  if (pga_term_iter_init(&it, t) != 0) return -1;
  while (pga_term_iter_next(&it, &el)) n++;
  pga_term_iter_tail(&it, &tail);
  return pga_term_type(&tail) == PGA_T_NIL ? n : -1;
}

/* Moves the text into tb as a binary and frees it. */
static void put_text(pga_tb_t *tb, pga_ops_text_t *t) {
  pga_tb_binary(tb, pga_ops_text_str(t), pga_ops_text_len(t));
  pga_ops_text_free(t);
}

static void kv_atom(pga_tb_t *tb, const char *key, const char *atom) {
  pga_tb_atom(tb, key);
  pga_tb_atom(tb, atom);
}

static void kv_string(pga_tb_t *tb, const char *key, const char *s) {
  pga_tb_atom(tb, key);
  pga_tb_string(tb, s);
}

static void kv_term(pga_tb_t *tb, const char *key, const pga_term_t *v) {
  pga_tb_atom(tb, key);
  pga_tb_term(tb, v);
}

/* ---- permission ---- */

/* %{strategy: s, <key>: v, description: "<prefix><v rendered>"}. */
static void permission3(pga_tb_t *tb, const char *strategy, const char *key,
                        const pga_term_t *v, const char *prefix, int inspect,
                        const char *suffix) {
  pga_ops_text_t t;
  pga_ops_text_init(&t);
  pga_ops_put(&t, prefix);
  if (inspect)
    pga_ops_i(&t, v);
  else
    pga_ops_s(&t, v);
  pga_ops_put(&t, suffix);
  pga_tb_map(tb, 3);
  kv_atom(tb, "strategy", strategy);
  kv_term(tb, key, v);
  pga_tb_atom(tb, "description");
  put_text(tb, &t);
}

static void custom_mfa(pga_tb_t *tb, const pga_term_t *v,
                       const pga_term_t *el) {
  pga_ops_text_t t;
  pga_ops_text_init(&t);
  pga_ops_put(&t, "Custom permission check: ");
  pga_ops_s(&t, &el[0]);
  pga_ops_put(&t, ".");
  pga_ops_s(&t, &el[1]);
  pga_ops_put(&t, "/2");
  pga_tb_map(tb, 3);
  kv_atom(tb, "strategy", "custom_mfa");
  kv_term(tb, "mfa", v);
  pga_tb_atom(tb, "description");
  put_text(tb, &t);
}

void pga_ops_flow_permission(pga_tb_t *tb, const pga_term_t *check) {
  pga_term_t el[2];
  if (pga_term_is_atom(check, "false") || pga_term_is_atom(check, "true")) {
    int auth = pga_term_is_atom(check, "true");
    pga_tb_map(tb, 2);
    kv_atom(tb, "strategy", auth ? "authenticated" : "none");
    kv_string(tb, "description", auth ? "Requires authenticated user_id"
                                      : "No permission check");
  } else if (tuple_of(check, 2, el) && pga_term_is_atom(&el[0], "arg")) {
    permission3(tb, "arg_based", "field", &el[1],
                "Checks permission via request arg '", 0, "'");
  } else if (tuple_of(check, 2, el) && pga_term_is_atom(&el[0], "role")) {
    permission3(tb, "role_based", "roles", &el[1],
                "Requires one of roles: ", 1, "");
  } else if (tuple_of(check, 2, el) && is_atom(&el[0]) && is_atom(&el[1])) {
    custom_mfa(tb, check, el);
  } else {
    permission3(tb, "unknown", "raw", check, "Unknown permission config: ",
                1, "");
  }
}

/* ---- hooks ---- */

/* "<m>.<f>/<arity>" for {m, f} and {m, f, extra}; 0 for other shapes. */
static int hook_name(pga_ops_text_t *t, const pga_term_t *hook, long *arity,
                     pga_term_t *mf) {
  pga_term_t el[3];
  long extra = 0;
  int pair = tuple_of(hook, 2, el);
  if (!pair && !(tuple_of(hook, 3, el) && (extra = proper_length(&el[2])) >= 0))
    return 0;
  mf[0] = el[0];
  mf[1] = el[1];
  *arity = 2 + extra;
  pga_ops_s(t, &el[0]);
  pga_ops_put(t, ".");
  pga_ops_s(t, &el[1]);
  pga_ops_putf(t, "/%ld", *arity);
  return 1;
}

void pga_ops_flow_hook(pga_tb_t *tb, const pga_term_t *hook) {
  pga_ops_text_t t;
  pga_term_t mf[2];
  long arity;
  if (pga_term_is_atom(hook, "nil")) {
    pga_tb_map(tb, 2);
    kv_atom(tb, "configured", "false");
    kv_string(tb, "description", "No hook configured");
    return;
  }
  pga_ops_text_init(&t);
  if (!hook_name(&t, hook, &arity, mf)) {
    pga_ops_i(&t, hook);
    pga_tb_map(tb, 3);
    kv_atom(tb, "configured", "true");
    kv_term(tb, "raw", hook);
    pga_tb_atom(tb, "description");
    put_text(tb, &t);
    return;
  }
  pga_ops_put(&t, arity == 2 ? "(request, fun_config)"
                             : "(request, fun_config, ...)");
  pga_tb_map(tb, 4);
  kv_atom(tb, "configured", "true");
  pga_tb_atom(tb, "mfa");
  pga_tb_tuple(tb, 2);
  pga_tb_term(tb, &mf[0]);
  pga_tb_term(tb, &mf[1]);
  pga_tb_atom(tb, "args");
  pga_tb_int(tb, arity);
  pga_tb_atom(tb, "description");
  put_text(tb, &t);
}

/* ---- retry ---- */

/* The retry mode and count: 1 for an integer n or {:same_node|:all_nodes,
 * n}; 0 for anything else. */
static int retry_parts(const pga_term_t *retry, int *same_node,
                       pga_term_t *n) {
  pga_term_t el[2];
  if (is_integer(retry)) {
    *same_node = 0;
    *n = *retry;
    return 1;
  }
  if (!tuple_of(retry, 2, el)) return 0;
  if (!pga_term_is_atom(&el[0], "same_node") &&
      !pga_term_is_atom(&el[0], "all_nodes"))
    return 0;
  *same_node = pga_term_is_atom(&el[0], "same_node");
  *n = el[1];
  return 1;
}

void pga_ops_flow_retry(pga_tb_t *tb, const pga_term_t *retry) {
  pga_ops_text_t t;
  pga_term_t n;
  int same;
  if (pga_term_is_atom(retry, "nil")) {
    pga_tb_map(tb, 2);
    kv_atom(tb, "configured", "false");
    kv_string(tb, "description", "No retry");
    return;
  }
  pga_ops_text_init(&t);
  if (!retry_parts(retry, &same, &n)) { /* the library raises here */
    pga_ops_i(&t, retry);
    pga_tb_map(tb, 3);
    kv_atom(tb, "configured", "true");
    kv_term(tb, "raw", retry);
    pga_tb_atom(tb, "description");
    put_text(tb, &t);
    return;
  }
  pga_ops_put(&t, "Retry up to ");
  pga_ops_s(&t, &n);
  pga_ops_put(&t, same ? " times on the same node" : " times across all nodes");
  pga_tb_map(tb, 4);
  kv_atom(tb, "configured", "true");
  kv_atom(tb, "mode", same ? "same_node" : "all_nodes");
  kv_term(tb, "attempts", &n);
  pga_tb_atom(tb, "description");
  put_text(tb, &t);
}

/* ---- steps ---- */

static void step_lit(pga_tb_t *tb, const char *phase, const char *desc) {
  pga_tb_map(tb, 2);
  kv_atom(tb, "phase", phase);
  kv_string(tb, "desc", desc);
}

static void step_text(pga_tb_t *tb, const char *phase, pga_ops_text_t *t) {
  pga_tb_map(tb, 2);
  kv_atom(tb, "phase", phase);
  pga_tb_atom(tb, "desc");
  put_text(tb, t);
}

static void step_hook(pga_tb_t *tb, const char *phase, const char *which,
                      const pga_term_t *hook) {
  pga_ops_text_t t;
  pga_term_t mf[2];
  long arity;
  pga_ops_text_init(&t);
  pga_ops_put(&t, which);
  if (!pga_ops_flow_truthy(hook)) {
    pga_ops_put(&t, " hooks (none configured)");
  } else {
    pga_ops_put(&t, " hook: ");
    if (!hook_name(&t, hook, &arity, mf)) pga_ops_i(&t, hook);
  }
  step_text(tb, phase, &t);
}

static void step_execution_local(pga_tb_t *tb, const pga_term_t *fc) {
  pga_term_t timeout = pga_ops_flow_field(fc, "timeout");
  pga_ops_text_t t;
  pga_ops_text_init(&t);
  pga_ops_put(&t, "Local execution via Task.async (timeout: ");
  pga_ops_s(&t, &timeout);
  pga_ops_put(&t, "ms)");
  step_text(tb, "execution", &t);
}

/* ":random" for atoms; tuples such as {:sticky, "user_id"} inspected
 * (the library raises on them: ops-plane.md §11, deviate). */
static void put_mode(pga_ops_text_t *t, const pga_term_t *mode) {
  if (pga_term_type(mode) == PGA_T_TUPLE) {
    pga_ops_i(t, mode);
    return;
  }
  pga_ops_put(t, ":");
  pga_ops_s(t, mode);
}

static void step_remote(pga_tb_t *tb, const pga_term_t *fc,
                        const pga_ops_flow_route_t *route) {
  pga_term_t mode = pga_ops_flow_field(fc, "choose_node_mode"), node;
  pga_term_iter_t it;
  size_t total = 0;
  pga_ops_text_t t;
  pga_ops_text_init(&t);
  pga_ops_put(&t, "NodeSelector picks ");
  put_mode(&t, &mode);
  pga_ops_put(&t, " from [");
  if (pga_term_iter_init(&it, route->nodes) == 0) {
    while (pga_term_iter_next(&it, &node)) {
      if (total++) pga_ops_put(&t, ", ");
      pga_ops_i(&t, &node);
    }
  }
  pga_ops_put(&t, "]");
  step_text(tb, "node_selection", &t);
  pga_ops_text_init(&t);
  pga_ops_putf(&t, "RPC to target node(s) \xE2\x80\x94 %zu/%zu reachable",
               route->reachable, total);
  step_text(tb, "execution", &t);
}

static void step_retry(pga_tb_t *tb, const pga_term_t *retry) {
  pga_term_t n;
  int same;
  pga_ops_text_t t;
  pga_ops_text_init(&t);
  pga_ops_put(&t, "Retry on failure: ");
  if (retry_parts(retry, &same, &n)) {
    pga_ops_s(&t, &n);
    pga_ops_put(&t, same ? " attempts (same node)" : " attempts (all nodes)");
  } else {
    pga_ops_i(&t, retry);
  }
  step_text(tb, "retry", &t);
}

static void step_response(pga_tb_t *tb, const pga_term_t *rtype) {
  static const struct {
    const char *type, *desc;
  } known[] = {
      {"sync", "Sync result pushed back to client via WebSocket"},
      {"async", "Async result pushed to client when ready"},
      {"none", "Fire-and-forget (no response to client)"},
      {"stream", "Stream chunks pushed to client until complete"}};
  for (size_t i = 0; i < sizeof known / sizeof *known; i++)
    if (pga_term_is_atom(rtype, known[i].type)) {
      step_lit(tb, "response", known[i].desc);
      return;
    }
  pga_ops_text_t t;
  pga_ops_text_init(&t);
  pga_ops_put(&t, "Response type: ");
  pga_ops_i(&t, rtype);
  step_text(tb, "response", &t);
}

void pga_ops_flow_steps(pga_tb_t *tb, const pga_term_t *fc,
                        const pga_ops_flow_route_t *route) {
  pga_term_t rtype = pga_ops_flow_field(fc, "response_type");
  pga_term_t retry = pga_ops_flow_field(fc, "retry");
  pga_term_t before = pga_ops_flow_field(fc, "before_execute");
  pga_term_t after = pga_ops_flow_field(fc, "after_execute");
  int has_retry = pga_ops_flow_truthy(&retry);
  int deferred = pga_term_is_atom(&rtype, "async") ||
                 pga_term_is_atom(&rtype, "none");

  pga_tb_list(tb, 10 + (route->local ? 0 : 1) + (has_retry ? 1 : 0));
  step_lit(tb, "channel", "WebSocket handle_in receives payload on channel");
  step_lit(tb, "decode", "Payload decoded into %Request{} via Nestru");
  step_lit(tb, "config_lookup",
           "ConfigDb.get(service, request_type, version) \xE2\x80\x94 "
           "direct ETS read");
  step_hook(tb, "hooks_before", "before_execute", &before);
  step_lit(tb, "permission", "Permission.check_permission!/2");
  step_lit(tb, "rate_limit",
           "RateLimiter.check_rate_limit/1 \xE2\x80\x94 sliding window check");
  step_lit(tb, "argument_validation",
           deferred ? "ArgumentHandler.convert_args!/2 (deferred to worker pool)"
                    : "ArgumentHandler.convert_args!/2");
  if (route->local)
    step_execution_local(tb, fc);
  else
    step_remote(tb, fc, route);
  if (has_retry) step_retry(tb, &retry);
  step_hook(tb, "hooks_after", "after_execute", &after);
  step_response(tb, &rtype);
  pga_tb_nil(tb);
}

void pga_ops_flow_error_map(pga_tb_t *tb, const pga_term_t *service,
                            const pga_term_t *request_type,
                            const pga_term_t *reason, size_t extra) {
  pga_ops_text_t t;
  pga_ops_text_init(&t);
  pga_ops_put(&t, "ConfigDb.get(");
  pga_ops_i(&t, service);
  pga_ops_put(&t, ", ");
  pga_ops_i(&t, request_type);
  pga_ops_put(&t, ") \xE2\x86\x92 ");
  pga_ops_i(&t, reason);
  pga_tb_map(tb, 5 + extra);
  kv_term(tb, "service", service);
  kv_term(tb, "request_type", request_type);
  kv_atom(tb, "config", "nil");
  kv_term(tb, "error", reason);
  pga_tb_atom(tb, "steps");
  pga_tb_list(tb, 1);
  step_text(tb, "config_lookup", &t);
  pga_tb_nil(tb);
}
