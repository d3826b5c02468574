/* The config plane's shell helpers (ops-plane.md §5, §4.7, §4.8):
 * failed_configs_print/0,1, failed_configs_summary/0, cache_status/0 and
 * pushed_services_status/0, reading the config plane in-process. */
#include <stdlib.h>

#include "ops/eval.h"
#include "ops/ops_int.h"
#include "ops/print_int.h"
#include "pga/errno.h"
#include "term/term.h"

#define MOD_DB "Elixir.PhoenixGenApi.ConfigDb"
#define MOD_RECEIVER "Elixir.PhoenixGenApi.ConfigReceiver"
#define MOD_FAILED "Elixir.PhoenixGenApi.ConfigFailed"

static const pga_term_t empty_list = {"j", 1};

/* ---- failed_configs_print ---- */

static int entry_line(pga_ops_text_t *line, const pga_term_t *entry,
                      pga_tb_t *raised) {
  static const char *const inspected[] = {"service", "request_type",
                                          "version", "source"};
  static const size_t widths[] = {20, 22, 10, 8};
  pga_term_t v;
  size_t mark = pga_ops_text_len(line);
  if (pga__ops_dot(entry, "id", &v, raised) ||
      pga__ops_interp(line, &v, raised))
    return -1;
  pga_ops_pad(line, mark, 8);
  for (size_t i = 0; i < 4; i++) {
    if (pga__ops_dot(entry, inspected[i], &v, raised)) return -1;
    mark = pga_ops_text_len(line);
    pga_ops_i(line, &v);
    pga_ops_pad(line, mark, widths[i]);
  }
  if (pga__ops_dot(entry, "reason", &v, raised) ||
      pga__ops_join(line, &v, "; ", raised))
    return -1;
  pga_ops_put(line, "\n");
  return 0;
}

static void put_table_head(pga_ops_text_t *t) {
  pga_ops_put(t, "\nID      Service             Request Type          "
                 "Version   Source  Reason\n");
  for (int i = 0; i < 90; i++) pga_ops_put(t, "-");
  pga_ops_put(t, "\n");
}

static int entry_lines(pga_ops_text_t *t, const pga_term_t *entries,
                       pga_tb_t *raised) {
  pga_term_iter_t it;
  pga_term_t entry;
  pga_ops_text_t line;
  int rc = 0;
  put_table_head(t);
  pga_ops_text_init(&line);
  (void)pga_term_iter_init(&it, entries);
  while (rc == 0 && pga_term_iter_next(&it, &entry)) {
    rc = entry_line(&line, &entry, raised);
    if (rc == 0) pga__ops_line_commit(t, &line);
  }
  pga_ops_text_free(&line);
  return rc;
}

int pga__ops_failed_text(pga_ops_text_t *t, const pga_term_t *opts,
                         const pga_term_t *entries, pga_tb_t *raised) {
  static const pga_term_t hundred = {"a\144", 2};
  pga_term_t source, limit = hundred;
  size_t n = 0;
  (void)pga__ops_kw_get(opts, "limit", &limit);
  pga_ops_put(t, "\n=== Failed FunConfig Entries ===\n");
  if (pga__ops_kw_get(opts, "source", &source) && pga__ops_truthy(&source)) {
    pga_ops_text_t line;
    pga_ops_text_init(&line);
    pga_ops_put(&line, "Source: ");
    int rc = pga__ops_interp(&line, &source, raised);
    pga_ops_put(&line, "\n");
    if (rc == 0) pga__ops_line_commit(t, &line);
    pga_ops_text_free(&line);
    if (rc) return -1;
  }
  (void)pga_term_list_length(entries, &n);
  pga_ops_putf(t, "Showing: %zu entries (limit: ", n);
  if (pga__ops_interp(t, &limit, raised)) return -1;
  pga_ops_put(t, ")\n");
  if (n == 0)
    pga_ops_put(t, "  (no failed entries)\n");
  else if (entry_lines(t, entries, raised))
    return -1;
  pga_ops_put(t, "\n");
  return 0;
}

/* ConfigFailed.<fn>(args) in-process; its failure is the helper's. */
static pga_outcome_t config_call(pga_ops_t *ops, const char *module,
                                 const char *fn, size_t argc,
                                 const pga_term_t *argv, pga_tb_t *result) {
  if (!ops->cfg) {
    pga_tb_atom(result, "noproc");
    return PGA_EXIT;
  }
  return pga_config_call(ops->cfg, module, fn, argc, argv, result);
}

/* Passes a failed read on as the helper's own outcome. */
static pga_outcome_t pass_failure(pga_outcome_t o, pga_tb_t *result,
                                  pga_tb_t *out) {
  pga_term_t reason = pga_tb_data(result);
  pga_tb_reset(out);
  if (reason.len)
    pga_tb_term(out, &reason);
  else
    pga_tb_atom(out, "enomem");
  return o == PGA_RETURN ? PGA_ERROR : o;
}

static pga_outcome_t print_failed(pga_ops_t *ops, pga_call_t *call,
                                  const pga_term_t *opts, pga_tb_t *out) {
  pga_tb_t entries, raised;
  pga__tb_init(&entries, 0);
  pga__tb_init(&raised, 0);
  pga_outcome_t o = config_call(ops, MOD_FAILED, "list", 1, opts, &entries);
  pga_term_t list = pga_tb_data(&entries);
  if (o != PGA_RETURN || !list.len) {
    o = pass_failure(o, &entries, out);
  } else {
    pga_ops_text_t t;
    pga_ops_text_init(&t);
    (void)pga__ops_failed_text(&t, opts, &list, &raised);
    o = pga__ops_print_end(call, &t, &raised, out);
    pga_ops_text_free(&t);
  }
  pga__tb_destroy(&entries);
  pga__tb_destroy(&raised);
  return o;
}

static pga_outcome_t fn_failed_print0(pga_ops_t *ops, pga_call_t *call,
                                      const pga_term_t *argv, pga_tb_t *out) {
  (void)argv;
  return print_failed(ops, call, &empty_list, out);
}

static pga_outcome_t fn_failed_print1(pga_ops_t *ops, pga_call_t *call,
                                      const pga_term_t *argv, pga_tb_t *out) {
  return print_failed(ops, call, &argv[0], out);
}

/* ---- failed_configs_summary ---- */

static int by_service_lines(pga_ops_text_t *t, const pga_term_t *by_service,
                            pga_tb_t *raised) {
  pga_ops_pair_t *pairs;
  size_t n, len;
  if (pga__ops_map_sorted(by_service, &pairs, &n) != 0) {
    pga_tb_reset(raised);
    pga_tb_atom(raised, "badarg");
    return -1;
  }
  if (n) pga_ops_put(t, "\n--- By Service ---\n");
  for (size_t i = 0; i < n; i++) {
    pga_ops_put(t, "  ");
    pga_ops_i(t, &pairs[i].key);
    if (pga_term_list_length(&pairs[i].value, &len) != 0) len = 0;
    pga_ops_putf(t, ": %zu failed\n", len);
  }
  free(pairs);
  return 0;
}

/* "  ##{n.id} #{inspect(n.service)}/#{inspect(n.request_type)} [#{n.source}] <reasons>" */
static int newest_line(pga_ops_text_t *line, const pga_term_t *n,
                       pga_tb_t *raised) {
  pga_term_t v;
  pga_ops_put(line, "  #");
  if (pga__ops_dot(n, "id", &v, raised) || pga__ops_interp(line, &v, raised))
    return -1;
  pga_ops_put(line, " ");
  if (pga__ops_dot(n, "service", &v, raised)) return -1;
  pga_ops_i(line, &v);
  pga_ops_put(line, "/");
  if (pga__ops_dot(n, "request_type", &v, raised)) return -1;
  pga_ops_i(line, &v);
  pga_ops_put(line, " [");
  if (pga__ops_dot(n, "source", &v, raised) ||
      pga__ops_interp(line, &v, raised))
    return -1;
  pga_ops_put(line, "] ");
  if (pga__ops_dot(n, "reason", &v, raised) ||
      pga__ops_join(line, &v, "; ", raised))
    return -1;
  pga_ops_put(line, "\n");
  return 0;
}

static int counts_lines(pga_ops_text_t *t, const pga_term_t *summary,
                        pga_tb_t *raised) {
  static const char *const keys[] = {"total", "pull", "push"};
  static const char *const labels[] = {"Total:  ", "Pull:   ", "Push:   "};
  pga_term_t v;
  for (size_t i = 0; i < 3; i++) {
    if (pga__ops_dot(summary, keys[i], &v, raised)) return -1;
    pga_ops_put(t, labels[i]);
    if (pga__ops_interp(t, &v, raised)) return -1;
    pga_ops_put(t, "\n");
  }
  return 0;
}

int pga__ops_failed_summary_text(pga_ops_text_t *t,
                                 const pga_term_t *summary,
                                 pga_tb_t *raised) {
  pga_term_t by_service, newest;
  pga_ops_put(t, "\n=== Failed Configs Summary ===\n");
  if (counts_lines(t, summary, raised) ||
      pga__ops_dot(summary, "by_service", &by_service, raised) ||
      by_service_lines(t, &by_service, raised) ||
      pga__ops_dot(summary, "newest", &newest, raised))
    return -1;
  if (pga__ops_truthy(&newest)) {
    pga_ops_text_t line;
    pga_ops_text_init(&line);
    int rc = newest_line(&line, &newest, raised);
    if (rc == 0) {
      pga_ops_put(t, "\n--- Newest ---\n");
      pga__ops_line_commit(t, &line);
    }
    pga_ops_text_free(&line);
    if (rc) return -1;
  }
  pga_ops_put(t, "\n");
  return 0;
}

static pga_outcome_t fn_failed_summary(pga_ops_t *ops, pga_call_t *call,
                                       const pga_term_t *argv,
                                       pga_tb_t *out) {
  (void)argv;
  pga_tb_t summary, raised;
  pga__tb_init(&summary, 0);
  pga__tb_init(&raised, 0);
  pga_outcome_t o = config_call(ops, MOD_FAILED, "summary", 0, NULL, &summary);
  pga_term_t s = pga_tb_data(&summary);
  if (o != PGA_RETURN || !s.len) {
    o = pass_failure(o, &summary, out);
  } else {
    pga_ops_text_t t;
    pga_ops_text_init(&t);
    (void)pga__ops_failed_summary_text(&t, &s, &raised);
    o = pga__ops_print_end(call, &t, &raised, out);
    pga_ops_text_free(&t);
  }
  pga__tb_destroy(&summary);
  pga__tb_destroy(&raised);
  return o;
}

/* ---- cache_status ---- */

void pga__ops_cache_text(pga_ops_text_t *t, const pga_term_t *count,
                         const pga_term_t *services) {
  pga_ops_put(t, "\n=== ConfigDb Cache Status ===\n\n");
  pga_ops_put(t, "Total cached configs: ");
  pga_ops_s(t, count);
  pga_ops_put(t, "\nServices: ");
  pga_ops_i(t, services);
  pga_ops_put(t, "\n");
}

static pga_outcome_t fn_cache_status(pga_ops_t *ops, pga_call_t *call,
                                     const pga_term_t *argv, pga_tb_t *out) {
  (void)argv;
  pga_tb_t count, services;
  pga__tb_init(&count, 0);
  pga__tb_init(&services, 0);
  pga_outcome_t o = config_call(ops, MOD_DB, "count", 0, NULL, &count);
  if (o == PGA_RETURN)
    o = config_call(ops, MOD_DB, "get_all_services", 0, NULL, &services);
  pga_term_t c = pga_tb_data(&count), s = pga_tb_data(&services);
  if (o != PGA_RETURN || !c.len || !s.len) {
    o = pass_failure(o, o == PGA_RETURN && c.len ? &services : &count, out);
  } else {
    pga_ops_text_t t;
    pga_ops_text_init(&t);
    pga__ops_cache_text(&t, &c, &s);
    o = pga_ops_print(call, &t, out);
    pga_ops_text_free(&t);
  }
  pga__tb_destroy(&count);
  pga__tb_destroy(&services);
  return o;
}

/* ---- pushed_services_status ---- */

/* "Yes" when the stored PushConfig has both module and function. */
static int auto_pull_line(pga_ops_t *ops, pga_ops_text_t *line,
                          const pga_ops_pair_t *svc, pga_tb_t *raised) {
  pga_tb_t cfg;
  pga_term_t module, function;
  pga__tb_init(&cfg, 0);
  pga_outcome_t o =
      config_call(ops, MOD_RECEIVER, "get_pushed_config", 1, &svc->key, &cfg);
  pga_term_t push_config = pga_tb_data(&cfg);
  int rc = 0;
  if (o != PGA_RETURN || !push_config.len) {
    pga_tb_reset(raised);
    pga_tb_atom(raised, "enomem");
    rc = -1;
  } else if (pga__ops_dot(&push_config, "module", &module, raised) ||
             (pga__ops_truthy(&module) &&
              pga__ops_dot(&push_config, "function", &function, raised))) {
    rc = -1;
  } else {
    int yes = pga__ops_truthy(&module) && pga__ops_truthy(&function);
    pga_ops_put(line, "  ");
    pga_ops_i(line, &svc->key);
    pga_ops_put(line, ": version=");
    pga_ops_i(line, &svc->value);
    pga_ops_put(line, yes ? ", auto_pull=Yes\n" : ", auto_pull=No\n");
  }
  pga__tb_destroy(&cfg);
  return rc;
}

static int pushed_lines(pga_ops_t *ops, pga_ops_text_t *t,
                        const pga_term_t *services, pga_tb_t *raised) {
  pga_ops_pair_t *pairs;
  size_t n;
  int rc = 0;
  if (pga__ops_map_sorted(services, &pairs, &n) != 0) {
    pga_tb_atom(raised, "badarg");
    return -1;
  }
  if (n == 0) pga_ops_put(t, "No pushed services registered.\n");
  pga_ops_text_t line;
  pga_ops_text_init(&line);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    rc = auto_pull_line(ops, &line, &pairs[i], raised);
    if (rc == 0) pga__ops_line_commit(t, &line);
  }
  pga_ops_text_free(&line);
  free(pairs);
  return rc;
}

static pga_outcome_t fn_pushed_status(pga_ops_t *ops, pga_call_t *call,
                                      const pga_term_t *argv, pga_tb_t *out) {
  (void)argv;
  pga_tb_t services, raised;
  pga__tb_init(&services, 0);
  pga__tb_init(&raised, 0);
  pga_outcome_t o = config_call(ops, MOD_RECEIVER, "get_all_pushed_services",
                                0, NULL, &services);
  pga_term_t s = pga_tb_data(&services);
  if (o != PGA_RETURN || !s.len) {
    o = pass_failure(o, &services, out);
  } else {
    pga_ops_text_t t;
    pga_ops_text_init(&t);
    pga_ops_put(&t, "\n=== Pushed Services Status ===\n\n");
    if (pushed_lines(ops, &t, &s, &raised) == 0) pga_ops_put(&t, "\n");
    o = pga__ops_print_end(call, &t, &raised, out);
    pga_ops_text_free(&t);
  }
  pga__tb_destroy(&services);
  pga__tb_destroy(&raised);
  return o;
}

static const pga_ops_fn_def_t fns[] = {
    {PGA_OPS_MOD_TOP, "failed_configs_print", 0, fn_failed_print0, 0},
    {PGA_OPS_MOD_TOP, "failed_configs_print", 1, fn_failed_print1, 0},
    {PGA_OPS_MOD_TOP, "failed_configs_summary", 0, fn_failed_summary, 0},
    {PGA_OPS_MOD_TOP, "cache_status", 0, fn_cache_status, 0},
    {PGA_OPS_MOD_TOP, "pushed_services_status", 0, fn_pushed_status, 0},
    {NULL, NULL, 0, NULL, 0}};

const pga_ops_area_t pga_ops_area_failed = {"failed", fns, NULL, NULL};
