/* The call-flow shell helpers (ops-plane.md §5): call_flow_print/2,3,
 * flows_print/0,1 and inspect_print/1 render the result maps of
 * callflow.c and print them to the caller's group leader. Where the
 * library raises (tuple node modes, disabled rows, a found config in
 * inspect_print) the text is printed instead (§11, deviate). */
#include "ops/callflow_int.h"

#include "term/term.h"

#define CHECK "\xE2\x9D\x8C" /* ❌ */

static pga_term_t get(const pga_term_t *map, const char *key) {
  return pga_ops_flow_field(map, key);
}

static void put_s(pga_ops_text_t *t, const pga_term_t *map, const char *key) {
  pga_term_t v = get(map, key);
  pga_ops_s(t, &v);
}

static void put_i(pga_ops_text_t *t, const pga_term_t *map, const char *key) {
  pga_term_t v = get(map, key);
  pga_ops_i(t, &v);
}

static void line_s(pga_ops_text_t *t, const char *label, const pga_term_t *map,
                   const char *key, const char *suffix) {
  pga_ops_put(t, label);
  put_s(t, map, key);
  pga_ops_put(t, suffix);
  pga_ops_put(t, "\n");
}

static void line_i(pga_ops_text_t *t, const char *label, const pga_term_t *map,
                   const char *key) {
  pga_ops_put(t, label);
  put_i(t, map, key);
  pga_ops_put(t, "\n");
}

static void render_steps(pga_ops_text_t *t, const pga_term_t *flow) {
  pga_term_t steps = get(flow, "steps"), step;
  pga_term_iter_t it;
  size_t n = 0;
  if (pga_term_iter_init(&it, &steps) != 0) return;
  while (pga_term_iter_next(&it, &step)) {
    pga_ops_putf(t, "  %zu. [", ++n);
    put_s(t, &step, "phase");
    pga_ops_put(t, "] ");
    put_s(t, &step, "desc");
    pga_ops_put(t, "\n");
  }
}

static void render_limits(pga_ops_text_t *t, const pga_term_t *limits,
                          const char *label) {
  pga_term_iter_t it;
  pga_term_t l;
  if (pga_term_type(limits) != PGA_T_LIST) {
    pga_ops_putf(t, "  %s: (none)\n", label);
    return;
  }
  pga_ops_putf(t, "  %s:\n", label);
  pga_term_iter_init(&it, limits);
  while (pga_term_iter_next(&it, &l)) {
    pga_ops_put(t, "    ");
    put_s(t, &l, "key");
    pga_ops_put(t, ": ");
    put_s(t, &l, "max_requests");
    pga_ops_put(t, " req / ");
    put_s(t, &l, "window_ms");
    pga_ops_put(t, "ms\n");
  }
}

static void render_nodes(pga_ops_text_t *t, const pga_term_t *flow) {
  pga_term_t unreachable = get(flow, "unreachable_nodes");
  pga_ops_put(t, "\n--- Nodes ---\n");
  line_i(t, "  All:         ", flow, "nodes");
  line_i(t, "  Reachable:   ", flow, "reachable_nodes");
  if (pga_term_type(&unreachable) == PGA_T_LIST)
    line_i(t, "  " CHECK " Unreachable: ", flow, "unreachable_nodes");
}

static void render_found(pga_ops_text_t *t, const pga_term_t *flow) {
  pga_term_t rl = get(flow, "rate_limit"), hooks = get(flow, "hooks");
  pga_term_t perm = get(flow, "permission"), retry = get(flow, "retry");
  pga_term_t before = get(&hooks, "before_execute");
  pga_term_t after = get(&hooks, "after_execute");
  pga_term_t global = get(&rl, "global"), api = get(&rl, "api");
  line_s(t, "Service:      ", flow, "service", "");
  line_s(t, "Request Type: ", flow, "request_type", "");
  line_i(t, "Version:      ", flow, "version");
  line_s(t, "Response:     ", flow, "response_type", "");
  line_s(t, "Local:        ", flow, "local?", "");
  line_s(t, "Node Mode:    ", flow, "choose_node_mode", ""); /* tuples: i() */
  line_s(t, "Timeout:      ", flow, "timeout", "ms");
  line_i(t, "MFA:          ", flow, "mfa");
  render_nodes(t, flow);
  pga_ops_put(t, "\n--- Rate Limits ---\n");
  render_limits(t, &global, "Global");
  render_limits(t, &api, "API");
  pga_ops_put(t, "\n--- Permission ---\n");
  line_s(t, "  ", &perm, "description", "");
  pga_ops_put(t, "\n--- Hooks ---\n");
  line_s(t, "  Before: ", &before, "description", "");
  line_s(t, "  After:  ", &after, "description", "");
  pga_ops_put(t, "\n--- Retry ---\n");
  line_s(t, "  ", &retry, "description", "");
  pga_ops_put(t, "\n--- Execution Steps ---\n");
  render_steps(t, flow);
}

static int has_key(const pga_term_t *map, const char *key) {
  pga_term_t v;
  return pga_term_map_get_atom(map, key, &v) == 0;
}

void pga_ops_flow_render(pga_ops_text_t *t, const pga_term_t *service,
                         const pga_term_t *request_type,
                         const pga_term_t *flow) {
  pga_ops_put(t, "\n=== Call Flow: ");
  pga_ops_s(t, service);
  pga_ops_put(t, "/");
  pga_ops_s(t, request_type);
  pga_ops_put(t, " ===\n");
  if (has_key(flow, "error"))
    line_i(t, CHECK " Config not found: ", flow, "error");
  else
    render_found(t, flow);
  pga_ops_put(t, "\n");
}

/* ---- flows_print ---- */

static void pad_i(pga_ops_text_t *t, const pga_term_t *map, const char *key,
                  size_t width) {
  size_t mark = pga_ops_text_len(t);
  put_i(t, map, key);
  pga_ops_pad(t, mark, width);
}

static void render_flow_row(pga_ops_text_t *t, const pga_term_t *flow) {
  pga_term_t disabled = get(flow, "disabled");
  int off = pga_ops_flow_truthy(&disabled);
  pad_i(t, flow, "service", 25);
  pad_i(t, flow, "request_type", 25);
  pad_i(t, flow, "version", 12);
  size_t mark = pga_ops_text_len(t);
  if (off && !has_key(flow, "local?"))
    pga_ops_put(t, "-"); /* the library crashes on these rows */
  else
    put_s(t, flow, "local?");
  pga_ops_pad(t, mark, 8);
  if (off && !has_key(flow, "nodes"))
    pga_ops_put(t, "-");
  else
    put_i(t, flow, "nodes");
  pga_ops_put(t, off ? " [DISABLED]\n" : "\n");
}

void pga_ops_flows_render(pga_ops_text_t *t, const pga_term_t *flows) {
  pga_term_iter_t it;
  pga_term_t flow;
  size_t n = 0;
  if (pga_term_list_length(flows, &n) != 0) n = 0;
  pga_ops_putf(t, "\n=== Registered Call Flows ===\nTotal: %zu\n", n);
  if (n == 0) {
    pga_ops_put(t, "  (no registered configs)\n\n");
    return;
  }
  static const struct {
    const char *label;
    size_t width;
  } cols[] = {{"Service", 25}, {"Request Type", 25}, {"Version", 12},
              {"Local", 8}};
  pga_ops_put(t, "\n");
  for (size_t i = 0; i < sizeof cols / sizeof *cols; i++) {
    size_t mark = pga_ops_text_len(t);
    pga_ops_put(t, cols[i].label);
    pga_ops_pad(t, mark, cols[i].width);
  }
  pga_ops_put(t, "Nodes\n");
  for (int i = 0; i < 90; i++) pga_ops_put(t, "-");
  pga_ops_put(t, "\n");
  pga_term_iter_init(&it, flows);
  while (pga_term_iter_next(&it, &flow)) render_flow_row(t, &flow);
  pga_ops_put(t, "\n");
}

/* ---- inspect_print ---- */

void pga_ops_inspect_render(pga_ops_text_t *t, const pga_term_t *plan) {
  pga_term_t req = get(plan, "request"), error = get(plan, "error");
  pga_ops_put(t, "\n=== Request Inspection ===\n");
  line_i(t, "Service:      ", &req, "service");
  line_i(t, "Request Type: ", &req, "request_type");
  line_i(t, "Version:      ", &req, "version");
  line_i(t, "User ID:      ", &req, "user_id");
  line_i(t, "Device ID:    ", &req, "device_id");
  line_i(t, "Request ID:   ", &req, "request_id");
  if (pga_ops_flow_truthy(&error)) {
    line_i(t, "\n" CHECK " Config not found: ", plan, "error");
  } else { /* the library raises a KeyError here (§11, deviate) */
    pga_ops_put(t, "\n--- Execution Plan ---\n");
    render_steps(t, plan);
  }
  pga_ops_put(t, "\n");
}

/* ---- served helpers ---- */

typedef void (*render_fn)(pga_ops_text_t *t, const pga_term_t *value,
                          const pga_term_t *argv);

/* Prints what render makes of the value o/tb hold, unless o failed. */
static pga_outcome_t print_value(pga_call_t *call, pga_outcome_t o,
                                 pga_tb_t *tb, render_fn render,
                                 const pga_term_t *argv, pga_tb_t *out) {
  pga_term_t v = pga_tb_data(tb);
  if (o != PGA_RETURN || pga_tb_error(tb)) {
    pga_tb_reset(out);
    if (pga_tb_error(tb))
      pga_tb_atom(out, "enomem");
    else
      pga_tb_term(out, &v);
    return o == PGA_RETURN ? PGA_ERROR : o;
  }
  pga_ops_text_t t;
  pga_ops_text_init(&t);
  render(&t, &v, argv);
  o = pga_ops_print(call, &t, out);
  pga_ops_text_free(&t);
  return o;
}

static void render_flow(pga_ops_text_t *t, const pga_term_t *v,
                        const pga_term_t *argv) {
  pga_ops_flow_render(t, &argv[0], &argv[1], v);
}

static void render_flows(pga_ops_text_t *t, const pga_term_t *v,
                         const pga_term_t *argv) {
  (void)argv;
  pga_ops_flows_render(t, v);
}

static void render_inspect(pga_ops_text_t *t, const pga_term_t *v,
                           const pga_term_t *argv) {
  (void)argv;
  pga_ops_inspect_render(t, v);
}

static pga_outcome_t flow_print(pga_ops_t *ops, pga_call_t *call,
                                const pga_term_t *argv,
                                const pga_term_t *version, pga_tb_t *out) {
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_outcome_t o =
      pga_ops_flow_call(ops, &argv[0], &argv[1], version, 0, &tb);
  o = print_value(call, o, &tb, render_flow, argv, out);
  pga__tb_destroy(&tb);
  return o;
}

pga_outcome_t pga_ops_call_flow_print(pga_ops_t *ops, pga_call_t *call,
                                      const pga_term_t *argv, pga_tb_t *out) {
  static const char nil_buf[] = {119, 3, 'n', 'i', 'l'};
  pga_term_t nil = {nil_buf, sizeof nil_buf};
  return flow_print(ops, call, argv, &nil, out);
}

pga_outcome_t pga_ops_call_flow_print3(pga_ops_t *ops, pga_call_t *call,
                                       const pga_term_t *argv, pga_tb_t *out) {
  return flow_print(ops, call, argv, &argv[2], out);
}

static pga_outcome_t flows_print(pga_ops_t *ops, pga_call_t *call,
                                 const pga_term_t *opts, pga_tb_t *out) {
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_outcome_t o = pga_ops_flow_list(ops, opts, &tb);
  o = print_value(call, o, &tb, render_flows, NULL, out);
  pga__tb_destroy(&tb);
  return o;
}

pga_outcome_t pga_ops_flows_print0(pga_ops_t *ops, pga_call_t *call,
                                   const pga_term_t *argv, pga_tb_t *out) {
  (void)argv;
  return flows_print(ops, call, NULL, out);
}

pga_outcome_t pga_ops_flows_print1(pga_ops_t *ops, pga_call_t *call,
                                   const pga_term_t *argv, pga_tb_t *out) {
  pga_term_type_t ty = pga_term_type(&argv[0]);
  if (ty != PGA_T_NIL && ty != PGA_T_LIST)
    return pga__ops_function_clause(out);
  return flows_print(ops, call, &argv[0], out);
}

pga_outcome_t pga_ops_inspect_print(pga_ops_t *ops, pga_call_t *call,
                                    const pga_term_t *argv, pga_tb_t *out) {
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_outcome_t o = pga_ops_flow_inspect(ops, &argv[0], &tb);
  o = print_value(call, o, &tb, render_inspect, argv, out);
  pga__tb_destroy(&tb);
  return o;
}
