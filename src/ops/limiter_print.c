/* The rate-limit shell helpers rl_status/1, rl_global/0,1,2 and
 * rl_config/0 (ops-plane.md §5): the library's text, evaluated in its
 * order, so a malformed limit (set_global_limits takes any list) prints
 * the lines before it and then fails the call as the library raises. */
#include "ops/eval.h"
#include "ops/limiter_int.h"
#include "pga/errno.h"
#include "term/term.h"

/* "Key: #{inspect(l.key)} | Max: #{l.max_requests} | Window: #{l.window_ms}ms" */
static int key_max_window(pga_ops_text_t *line, const pga_term_t *limit,
                          pga_tb_t *raised) {
  pga_term_t key, max, window;
  if (pga__ops_dot(limit, "key", &key, raised)) return -1;
  pga_ops_put(line, "Key: ");
  pga_ops_i(line, &key);
  pga_ops_put(line, " | Max: ");
  if (pga__ops_dot(limit, "max_requests", &max, raised) ||
      pga__ops_interp(line, &max, raised))
    return -1;
  pga_ops_put(line, " | Window: ");
  if (pga__ops_dot(limit, "window_ms", &window, raised) ||
      pga__ops_interp(line, &window, raised))
    return -1;
  pga_ops_put(line, "ms\n");
  return 0;
}

static int global_line(pga_ops_text_t *line, const pga_term_t *limit,
                       pga_tb_t *raised) {
  pga_ops_put(line, "  ");
  return key_max_window(line, limit, raised);
}

/* "#{l.service}/#{l.request_type}" */
static int service_slash_type(pga_ops_text_t *line, const pga_term_t *service,
                              const pga_term_t *request_type,
                              pga_tb_t *raised) {
  if (pga__ops_interp(line, service, raised)) return -1;
  pga_ops_put(line, "/");
  return pga__ops_interp(line, request_type, raised);
}

static int api_line(pga_ops_text_t *line, const pga_term_t *limit,
                    pga_tb_t *raised) {
  pga_term_t service, request_type;
  pga_ops_put(line, "  ");
  if (pga__ops_dot(limit, "service", &service, raised) ||
      pga__ops_dot(limit, "request_type", &request_type, raised) ||
      service_slash_type(line, &service, &request_type, raised))
    return -1;
  pga_ops_put(line, " | ");
  return key_max_window(line, limit, raised);
}

typedef int (*line_fn)(pga_ops_text_t *line, const pga_term_t *el,
                       pga_tb_t *raised);

/* Enum.each(list, &IO.puts(line(&1))): complete lines only. */
static int each_line(pga_ops_text_t *t, const pga_term_t *list, line_fn fn,
                     pga_tb_t *raised) {
  pga_term_iter_t it;
  pga_term_t el;
  pga_ops_text_t line;
  int rc = 0;
  if (pga_term_iter_init(&it, list) != 0) {
    pga_tb_reset(raised);
    pga_tb_atom(raised, "badarg");
    return -1;
  }
  pga_ops_text_init(&line);
  while (rc == 0 && pga_term_iter_next(&it, &el)) {
    rc = fn(&line, &el, raised);
    if (rc == 0) pga__ops_line_commit(t, &line);
  }
  pga_ops_text_free(&line);
  return rc;
}

int pga__ops_rl_global_text(pga_ops_text_t *t, const pga_term_t *limits,
                            pga_tb_t *raised) {
  pga_ops_put(t, "\n=== Global Rate Limits ===\n\n");
  return each_line(t, limits, global_line, raised);
}

int pga__ops_rl_config_text(pga_ops_text_t *t, const pga_term_t *config,
                            pga_tb_t *raised) {
  pga_term_t global, api;
  if (pga__ops_dot(config, "global", &global, raised)) return -1;
  pga_ops_put(t, "\n=== Rate Limit Configuration ===\n\n");
  pga_ops_put(t, "Global Limits:\n");
  if (each_line(t, &global, global_line, raised)) return -1;
  pga_ops_put(t, "\nAPI Limits:\n");
  if (pga__ops_dot(config, "api", &api, raised)) return -1;
  return each_line(t, &api, api_line, raised);
}

/* ---- rl_status ---- */

typedef struct status_ctx_s {
  pga_request_limiter_t *l;
  const pga_term_t *user_id;
  int64_t now_ms;
  pga_tb_t *raised;
} status_ctx_t;

/* "Used: #{current}/#{max} | Remaining: #{remaining}" of one status
 * entry (built by the limiter: integers). */
static void put_usage(pga_ops_text_t *line, const pga_term_t *entry) {
  static const char *const keys[] = {"current_requests", "max_requests",
                                     "remaining"};
  static const char *const before[] = {"Used: ", "/", " | Remaining: "};
  pga_term_t v;
  for (size_t i = 0; i < 3; i++) {
    pga_ops_put(line, before[i]);
    if (pga_term_map_get_atom(entry, keys[i], &v) == 0) pga_ops_s(line, &v);
  }
  pga_ops_put(line, "\n");
}

/* get_rate_limit_status(user_id, scope, :user_id) into tb. */
static int read_status(const status_ctx_t *c, const pga_term_t *scope,
                       pga_tb_t *tb) {
  int rc = pga_request_limiter_status(c->l, c->user_id, scope, c->now_ms, tb);
  if (rc == 0 && pga_tb_error(tb)) rc = pga_tb_error(tb);
  if (rc != 0) {
    pga_tb_reset(c->raised);
    pga_tb_atom(c->raised, rc == PGA_ENOMEM ? "enomem" : "badarg");
    return -1;
  }
  return 0;
}

static int global_status(pga_ops_text_t *t, const status_ctx_t *c) {
  pga_tb_t tb;
  pga_term_iter_t it;
  pga_term_t entries, entry, scope;
  static const pga_term_t global = {"w\6global", 8};
  pga__tb_init(&tb, 0);
  int rc = read_status(c, &global, &tb);
  entries = pga_tb_data(&tb);
  if (rc == 0 && pga_term_iter_init(&it, &entries) == 0) {
    while (pga_term_iter_next(&it, &entry)) {
      pga_ops_put(t, "  Scope: ");
      if (pga_term_map_get_atom(&entry, "scope", &scope) == 0)
        pga_ops_i(t, &scope);
      pga_ops_put(t, " | ");
      put_usage(t, &entry);
    }
  }
  pga__tb_destroy(&tb);
  return rc;
}

/* The lines of one api limit: "  svc/rt | Used: ..." per status entry of
 * its {service, request_type}. */
static int api_status(pga_ops_text_t *t, const status_ctx_t *c,
                      const pga_term_t *limit) {
  pga_term_t service, request_type, entries, entry;
  pga_term_iter_t it;
  pga_ops_text_t prefix;
  pga_tb_t scope, tb;
  if (pga__ops_dot(limit, "service", &service, c->raised) ||
      pga__ops_dot(limit, "request_type", &request_type, c->raised))
    return -1;
  pga__tb_init(&scope, 0);
  pga__tb_init(&tb, 0);
  pga_ops_text_init(&prefix);
  pga_tb_tuple(&scope, 2);
  pga_tb_term(&scope, &service);
  pga_tb_term(&scope, &request_type);
  pga_term_t scope_term = pga_tb_data(&scope);
  int rc = read_status(c, &scope_term, &tb);
  entries = pga_tb_data(&tb);
  if (rc == 0 && pga_term_iter_init(&it, &entries) == 0) {
    while (rc == 0 && pga_term_iter_next(&it, &entry)) {
      /* Interpolated per entry: no entry, no raise. */
      pga_ops_put(&prefix, "  ");
      rc = service_slash_type(&prefix, &service, &request_type, c->raised);
      pga_ops_put(&prefix, " | ");
      put_usage(&prefix, &entry);
      if (rc == 0) pga__ops_line_commit(t, &prefix);
    }
  }
  pga_ops_text_free(&prefix);
  pga__tb_destroy(&scope);
  pga__tb_destroy(&tb);
  return rc;
}

/* get_rate_limit_config().api |> Enum.filter(&(&1.key == :user_id)):
 * the filter reads every limit's key before any line prints. */
static int api_statuses(pga_ops_text_t *t, const status_ctx_t *c) {
  pga_tb_t cfg;
  pga_term_t config, api, limit, key;
  pga_term_iter_t it;
  int rc = 0;
  pga__tb_init(&cfg, 0);
  pga_request_limiter_config(c->l, &cfg);
  config = pga_tb_data(&cfg);
  if (pga_term_map_get_atom(&config, "api", &api) != 0 ||
      pga_term_iter_init(&it, &api) != 0) {
    pga__tb_destroy(&cfg);
    return 0;
  }
  while (rc == 0 && pga_term_iter_next(&it, &limit))
    rc = pga__ops_dot(&limit, "key", &key, c->raised);
  (void)pga_term_iter_init(&it, &api);
  while (rc == 0 && pga_term_iter_next(&it, &limit)) {
    (void)pga_term_map_get_atom(&limit, "key", &key);
    if (pga_term_is_atom(&key, "user_id")) rc = api_status(t, c, &limit);
  }
  pga__tb_destroy(&cfg);
  return rc;
}

int pga__ops_rl_status_text(pga_ops_text_t *t, pga_request_limiter_t *l,
                            const pga_term_t *user_id, int64_t now_ms,
                            pga_tb_t *raised) {
  status_ctx_t c = {l, user_id, now_ms, raised};
  pga_ops_put(t, "\n=== Rate Limit Status for ");
  pga_ops_s(t, user_id);
  pga_ops_put(t, " ===\n\n");
  pga_ops_put(t, "Global Limits:\n");
  if (global_status(t, &c)) return -1;
  pga_ops_put(t, "\nAPI Limits:\n");
  return api_statuses(t, &c);
}

/* ---- served functions ---- */

typedef enum { BEFORE_NONE, BEFORE_SET, BEFORE_ADD, BEFORE_REMOVE } before_t;

/* rl_global/0,1,2: the change's message, then the block of the limits
 * as they are after it. */
static pga_outcome_t print_global(pga_request_limiter_t *l, pga_call_t *call,
                                  before_t before, const pga_term_t *arg,
                                  pga_tb_t *out) {
  pga_ops_text_t t;
  pga_tb_t limits, raised;
  pga_ops_text_init(&t);
  pga__tb_init(&limits, 0);
  pga__tb_init(&raised, 0);
  if (before == BEFORE_SET) pga_ops_put(&t, "\nGlobal rate limits updated.\n\n");
  if (before == BEFORE_ADD) pga_ops_put(&t, "\nGlobal rate limit added/updated: ");
  if (before == BEFORE_REMOVE)
    pga_ops_put(&t, "\nGlobal rate limit removed for key: ");
  if (before == BEFORE_ADD || before == BEFORE_REMOVE) {
    pga_ops_i(&t, arg);
    pga_ops_put(&t, "\n\n");
  }
  pga_request_limiter_global_limits(l, &limits);
  pga_term_t list = pga_tb_data(&limits);
  (void)pga__ops_rl_global_text(&t, &list, &raised);
  pga_outcome_t o = pga__ops_print_end(call, &t, &raised, out);
  pga_ops_text_free(&t);
  pga__tb_destroy(&limits);
  pga__tb_destroy(&raised);
  return o;
}

pga_outcome_t pga__ops_fn_rl_global0(pga_ops_t *ops, pga_call_t *call,
                                     const pga_term_t *argv, pga_tb_t *out) {
  (void)argv;
  pga_request_limiter_t *l = pga__ops_limiter_of(ops);
  if (!l) return pga__ops_limiter_noproc(out);
  return print_global(l, call, BEFORE_NONE, NULL, out);
}

pga_outcome_t pga__ops_fn_rl_global1(pga_ops_t *ops, pga_call_t *call,
                                     const pga_term_t *argv, pga_tb_t *out) {
  pga_term_type_t type = pga_term_type(&argv[0]);
  if (type != PGA_T_LIST && type != PGA_T_NIL)
    return pga__ops_function_clause(out);
  pga_request_limiter_t *l = pga__ops_limiter_of(ops);
  if (!l) return pga__ops_limiter_noproc(out);
  int rc = pga_request_limiter_set_global(l, &argv[0], out);
  if (rc) return pga__ops_limiter_failed(rc, out);
  return print_global(l, call, BEFORE_SET, NULL, out);
}

pga_outcome_t pga__ops_fn_rl_global2(pga_ops_t *ops, pga_call_t *call,
                                     const pga_term_t *argv, pga_tb_t *out) {
  int add = pga_term_is_atom(&argv[0], "add");
  int remove = pga_term_is_atom(&argv[0], "remove");
  if ((!add && !remove) || (add && pga_term_type(&argv[1]) != PGA_T_MAP))
    return pga__ops_function_clause(out);
  pga_request_limiter_t *l = pga__ops_limiter_of(ops);
  if (!l) return pga__ops_limiter_noproc(out);
  int rc = add ? pga_request_limiter_add_global(l, &argv[1], out)
               : pga_request_limiter_remove_global(l, &argv[1], out);
  if (rc) return pga__ops_limiter_failed(rc, out);
  return print_global(l, call, add ? BEFORE_ADD : BEFORE_REMOVE, &argv[1],
                      out);
}

pga_outcome_t pga__ops_fn_rl_config(pga_ops_t *ops, pga_call_t *call,
                                    const pga_term_t *argv, pga_tb_t *out) {
  (void)argv;
  pga_request_limiter_t *l = pga__ops_limiter_of(ops);
  if (!l) return pga__ops_limiter_noproc(out);
  pga_ops_text_t t;
  pga_tb_t cfg, raised;
  pga_ops_text_init(&t);
  pga__tb_init(&cfg, 0);
  pga__tb_init(&raised, 0);
  pga_request_limiter_config(l, &cfg);
  pga_term_t config = pga_tb_data(&cfg);
  (void)pga__ops_rl_config_text(&t, &config, &raised);
  pga_outcome_t o = pga__ops_print_end(call, &t, &raised, out);
  pga_ops_text_free(&t);
  pga__tb_destroy(&cfg);
  pga__tb_destroy(&raised);
  return o;
}

pga_outcome_t pga__ops_fn_rl_status(pga_ops_t *ops, pga_call_t *call,
                                    const pga_term_t *argv, pga_tb_t *out) {
  if (pga_term_type(&argv[0]) != PGA_T_BINARY)
    return pga__ops_function_clause(out);
  pga_request_limiter_t *l = pga__ops_limiter_of(ops);
  if (!l) return pga__ops_limiter_noproc(out);
  pga_ops_text_t t;
  pga_tb_t raised;
  pga_ops_text_init(&t);
  pga__tb_init(&raised, 0);
  (void)pga__ops_rl_status_text(&t, l, &argv[0], pga__ops_mono_ms(), &raised);
  pga_outcome_t o = pga__ops_print_end(call, &t, &raised, out);
  pga_ops_text_free(&t);
  pga__tb_destroy(&raised);
  return o;
}
