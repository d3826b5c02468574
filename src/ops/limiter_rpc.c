/* PhoenixGenApi.RateLimiter over RPC and the facade's rate-limit
 * functions (ops-plane.md §2 rows 1, 6, 18-20, 29, 30, 36, 45; §3;
 * request-plane.md §7.4): guards as the library's, the admin gate of
 * update_config, the :reset event, and status/0 built from the settings
 * pga-node started with. The area's table also lists check_rate_limit/1
 * (limiter_check.c) and the rl_* helpers (limiter_print.c). */
#include <stdlib.h>
#include <unistd.h>

#include "config/file.h"
#include "ops/diag.h"
#include "ops/limiter_int.h"
#include "pga/errno.h"
#include "request/plane.h"
#include "telemetry/telemetry.h"

#define MOD_LIMITER PGA_OPS_MOD_LIMITER
#define MOD_TOP PGA_OPS_MOD_TOP

/* ---- area state ---- */

static unsigned online_cores(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (unsigned)n : 1;
}

static int limiter_init(pga_ops_t *ops) {
  pga_ops_limiter_t *s = calloc(1, sizeof *s);
  if (!s) return PGA_ENOMEM;
  const pga_conffile_t *conf = ops->conf;
  s->enabled = conf ? conf->rate_limiter.enabled : 1;
  s->fail_open = conf ? conf->rate_limiter.fail_open : 1;
  s->routing_random = conf ? conf->rate_limiter.routing_random : 0;
  s->timeout_ms = conf ? conf->rate_limiter.timeout_ms : 1000;
  s->cleanup_interval_ms = conf ? conf->rate_limiter.cleanup_interval_ms
                                : 60000;
  /* The library's :auto is schedulers online, one per core on the BEAM. */
  s->instance_count = conf && conf->rate_limiter.instance_count
                          ? conf->rate_limiter.instance_count
                          : online_cores();
  ops->limiter = s;
  return 0;
}

static void limiter_fini(pga_ops_t *ops) {
  free(ops->limiter);
  ops->limiter = NULL;
}

const pga_ops_limiter_t *pga__ops_limiter_settings(const pga_ops_t *ops) {
  return ops->limiter;
}

static const pga_ops_limiter_t *settings(const pga_ops_t *ops) {
  return pga__ops_limiter_settings(ops);
}

pga_request_limiter_t *pga__ops_limiter_of(pga_ops_t *ops) {
  return pga_request_plane_limiter(ops->node);
}

/* GenServer.call to an instance that is not registered exits noproc. */
pga_outcome_t pga__ops_limiter_noproc(pga_tb_t *out) {
  pga_tb_reset(out);
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "noproc");
  pga_tb_tuple(out, 3);
  pga_tb_atom(out, "Elixir.GenServer");
  pga_tb_atom(out, "call");
  pga_tb_list(out, 1);
  pga_tb_atom(out, "rate_limiter_instance_0");
  pga_tb_nil(out);
  return PGA_EXIT;
}

/* A limiter operation that failed: the library crashes its GenServer
 * call on malformed limits; ENOMEM is ours. */
pga_outcome_t pga__ops_limiter_failed(int rc, pga_tb_t *out) {
  pga_tb_reset(out);
  pga_tb_atom(out, rc == PGA_ENOMEM ? "enomem" : "badarg");
  return PGA_ERROR;
}

static int is_scope(const pga_term_t *scope) {
  size_t arity;
  return pga_term_is_atom(scope, "global") ||
         (pga_term_tuple_arity(scope, &arity) == 0 && arity == 2);
}

/* ---- reading the limits ---- */

static pga_outcome_t fn_configured_limits(pga_ops_t *ops, pga_call_t *call,
                                          const pga_term_t *argv,
                                          pga_tb_t *out) {
  (void)call;
  (void)argv;
  pga_request_limiter_t *l = pga__ops_limiter_of(ops);
  if (!l) return pga__ops_limiter_noproc(out);
  pga_request_limiter_config(l, out);
  return PGA_RETURN;
}

static pga_outcome_t fn_global_limits(pga_ops_t *ops, pga_call_t *call,
                                      const pga_term_t *argv, pga_tb_t *out) {
  (void)call;
  (void)argv;
  pga_request_limiter_t *l = pga__ops_limiter_of(ops);
  if (!l) return pga__ops_limiter_noproc(out);
  pga_request_limiter_global_limits(l, out);
  return PGA_RETURN;
}

static pga_outcome_t fn_rate_limit_status(pga_ops_t *ops, pga_call_t *call,
                                          const pga_term_t *argv,
                                          pga_tb_t *out) {
  (void)call;
  pga_request_limiter_t *l = pga__ops_limiter_of(ops);
  if (!l) return pga__ops_limiter_noproc(out);
  if (!is_scope(&argv[1])) return pga__ops_function_clause(out);
  int rc = pga_request_limiter_status(l, &argv[0], &argv[1],
                                      pga__ops_mono_ms(), out);
  return rc ? pga__ops_limiter_failed(rc, out) : PGA_RETURN;
}

/* ---- changing the global limits (ungated, as in the library) ---- */

static pga_outcome_t fn_set_global(pga_ops_t *ops, pga_call_t *call,
                                   const pga_term_t *argv, pga_tb_t *out) {
  (void)call;
  pga_term_type_t type = pga_term_type(&argv[0]);
  if (type != PGA_T_LIST && type != PGA_T_NIL)
    return pga__ops_function_clause(out);
  pga_request_limiter_t *l = pga__ops_limiter_of(ops);
  if (!l) return pga__ops_limiter_noproc(out);
  int rc = pga_request_limiter_set_global(l, &argv[0], out);
  return rc ? pga__ops_limiter_failed(rc, out) : PGA_RETURN;
}

static pga_outcome_t fn_add_global(pga_ops_t *ops, pga_call_t *call,
                                   const pga_term_t *argv, pga_tb_t *out) {
  (void)call;
  if (pga_term_type(&argv[0]) != PGA_T_MAP)
    return pga__ops_function_clause(out);
  pga_request_limiter_t *l = pga__ops_limiter_of(ops);
  if (!l) return pga__ops_limiter_noproc(out);
  int rc = pga_request_limiter_add_global(l, &argv[0], out);
  return rc ? pga__ops_limiter_failed(rc, out) : PGA_RETURN;
}

static pga_outcome_t fn_remove_global(pga_ops_t *ops, pga_call_t *call,
                                      const pga_term_t *argv, pga_tb_t *out) {
  (void)call;
  pga_request_limiter_t *l = pga__ops_limiter_of(ops);
  if (!l) return pga__ops_limiter_noproc(out);
  int rc = pga_request_limiter_remove_global(l, &argv[0], out);
  return rc ? pga__ops_limiter_failed(rc, out) : PGA_RETURN;
}

/* update_config/1: the gate comes first (a denial never reaches the
 * instances); :change_detail_error is asked only when the map has the
 * key, as the library's short-circuit `or` does. */
static pga_outcome_t fn_update_config(pga_ops_t *ops, pga_call_t *call,
                                      const pga_term_t *argv, pga_tb_t *out) {
  (void)call;
  pga_term_t v;
  if (pga_term_type(&argv[0]) != PGA_T_MAP)
    return pga__ops_function_clause(out);
  int allow_update =
      pga__ops_admin_allowed(ops, PGA_ADMIN_UPDATE_RATE_LIMIT_CONFIG);
  int allow_detail = 1;
  if (allow_update && pga_term_map_get_atom(&argv[0], "detail_error", &v) == 0)
    allow_detail = pga__ops_admin_allowed(ops, PGA_ADMIN_CHANGE_DETAIL_ERROR);
  if (!allow_update || !allow_detail)
    return pga__ops_error_atom(out, "admin_action_denied");
  pga_request_limiter_t *l = pga__ops_limiter_of(ops);
  if (!l) return pga__ops_limiter_noproc(out);
  int rc = pga_request_limiter_update(l, &argv[0], 1, 1, out);
  return rc ? pga__ops_limiter_failed(rc, out) : PGA_RETURN;
}

/* ---- counters ---- */

static void emit_reset(pga_ops_t *ops, const pga_term_t *argv) {
  pga_telemetry_t *tm = pga_telemetry_of(ops->node);
  if (!pga_telemetry_wants(tm, PGA_EV_RATE_LIMITER_RESET)) return;
  pga_tb_t meas, meta;
  pga__tb_init(&meas, 0);
  pga__tb_init(&meta, 0);
  pga_tb_map(&meas, 0);
  pga_tb_map(&meta, 3);
  pga_tb_atom(&meta, "key");
  pga_tb_term(&meta, &argv[0]);
  pga_tb_atom(&meta, "scope");
  pga_tb_term(&meta, &argv[1]);
  pga_tb_atom(&meta, "rate_limit_key");
  pga_tb_term(&meta, &argv[2]);
  pga_term_t m1 = pga_tb_data(&meas), m2 = pga_tb_data(&meta);
  if (m1.len && m2.len) pga_telemetry_emit(tm, PGA_EV_RATE_LIMITER_RESET, &m1, &m2);
  pga__tb_destroy(&meas);
  pga__tb_destroy(&meta);
}

static pga_outcome_t fn_reset(pga_ops_t *ops, pga_call_t *call,
                              const pga_term_t *argv, pga_tb_t *out) {
  (void)call;
  pga_request_limiter_t *l = pga__ops_limiter_of(ops);
  if (!l) return pga__ops_limiter_noproc(out);
  if (!is_scope(&argv[1])) return pga__ops_function_clause(out);
  int rc = pga_request_limiter_reset(l, &argv[0], &argv[1], out);
  if (rc) return pga__ops_limiter_failed(rc, out);
  emit_reset(ops, argv);
  return PGA_RETURN;
}

static pga_outcome_t fn_check_direct(pga_ops_t *ops, pga_call_t *call,
                                     const pga_term_t *argv, pga_tb_t *out) {
  (void)call;
  if (!settings(ops)->enabled) return pga__ops_ok(out);
  pga_request_limiter_t *l = pga__ops_limiter_of(ops);
  if (!l) return pga__ops_limiter_noproc(out);
  if (!is_scope(&argv[1])) return pga__ops_function_clause(out);
  int rc = pga_request_limiter_check_direct(l, &argv[0], &argv[1], &argv[2],
                                            pga__ops_mono_ms(), out);
  return rc ? pga__ops_limiter_failed(rc, out) : PGA_RETURN;
}

/* clear/0: every log goes; a cleanup at the end of time drops them all. */
static pga_outcome_t fn_clear(pga_ops_t *ops, pga_call_t *call,
                              const pga_term_t *argv, pga_tb_t *out) {
  (void)call;
  (void)argv;
  pga_request_limiter_t *l = pga__ops_limiter_of(ops);
  if (!l) return pga__ops_limiter_noproc(out);
  (void)pga_request_limiter_cleanup(l, INT64_MAX / 2);
  return pga__ops_ok(out);
}

/* ---- status ---- */

static pga_outcome_t fn_instance_count(pga_ops_t *ops, pga_call_t *call,
                                       const pga_term_t *argv,
                                       pga_tb_t *out) {
  (void)call;
  (void)argv;
  pga_tb_uint(out, pga__ops_limiter_of(ops) ? settings(ops)->instance_count
                                            : 0);
  return PGA_RETURN;
}

static pga_outcome_t fn_routing_strategy(pga_ops_t *ops, pga_call_t *call,
                                         const pga_term_t *argv,
                                         pga_tb_t *out) {
  (void)call;
  (void)argv;
  pga_tb_atom(out, settings(ops)->routing_random ? "random" : "hash");
  return PGA_RETURN;
}

static void put_instance(pga_ops_t *ops, pga_tb_t *out, unsigned index,
                         const pga_term_t *config, const size_t logs[2]) {
  pga_term_t global, api;
  if (pga_term_map_get_atom(config, "global", &global) != 0 ||
      pga_term_map_get_atom(config, "api", &api) != 0)
    global = api = (pga_term_t){"j", 1}; /* [] */
  uint64_t owner =
      ((pga_ops_diag_t *)ops->diag)->pid_ids[PGA_SUB_LIMITER_INSTANCE];
  pga_tb_map(out, 6);
  pga_tb_atom(out, "status");
  pga_tb_atom(out, "ok");
  pga_tb_atom(out, "instance_index");
  pga_tb_uint(out, index);
  pga_tb_atom(out, "global_limits");
  pga_tb_term(out, &global);
  pga_tb_atom(out, "api_limits");
  pga_tb_term(out, &api);
  pga_tb_atom(out, "cleanup_interval");
  pga_tb_uint(out, settings(ops)->cleanup_interval_ms);
  pga_tb_atom(out, "ets");
  pga_tb_map(out, 2);
  /* One limiter object holds every shard's logs: shard 0 shows them. */
  pga_tb_atom(out, "global");
  pga__ops_put_table_info(ops, out, 1, "rate_limiter_global",
                          index ? 0 : logs[0], 0, owner);
  pga_tb_atom(out, "api");
  pga__ops_put_table_info(ops, out, 1, "rate_limiter_api",
                          index ? 0 : logs[1], 0, owner);
}

unsigned pga__ops_limiter_instances(pga_ops_t *ops) {
  return pga__ops_limiter_of(ops) ? settings(ops)->instance_count : 0;
}

void pga__ops_limiter_status(pga_ops_t *ops, pga_tb_t *out) {
  pga_request_limiter_t *l = pga__ops_limiter_of(ops);
  unsigned n = pga__ops_limiter_instances(ops);
  size_t logs[2] = {0, 0};
  pga_tb_t cfg;
  pga__tb_init(&cfg, 0);
  if (l) {
    pga_request_limiter_config(l, &cfg);
    pga_request_limiter_table_logs(l, &logs[0], &logs[1]);
  }
  pga_term_t config = pga_tb_data(&cfg);
  pga_tb_map(out, 3);
  pga_tb_atom(out, "status");
  pga_tb_atom(out, "ok");
  pga_tb_atom(out, "instance_count");
  pga_tb_uint(out, n);
  pga_tb_atom(out, "instances");
  pga_tb_list_head(out, n);
  for (unsigned i = 0; i < n; i++) put_instance(ops, out, i, &config, logs);
  pga_tb_nil(out);
  pga__tb_destroy(&cfg);
}

static pga_outcome_t fn_status(pga_ops_t *ops, pga_call_t *call,
                               const pga_term_t *argv, pga_tb_t *out) {
  (void)call;
  (void)argv;
  pga__ops_limiter_status(ops, out);
  return PGA_RETURN;
}

static const pga_ops_fn_def_t fns[] = {
    {MOD_LIMITER, "status", 0, fn_status, 0},
    {MOD_LIMITER, "instance_count", 0, fn_instance_count, 0},
    {MOD_LIMITER, "routing_strategy", 0, fn_routing_strategy, 0},
    {MOD_LIMITER, "get_configured_limits", 0, fn_configured_limits, 0},
    {MOD_LIMITER, "get_global_limits", 0, fn_global_limits, 0},
    {MOD_LIMITER, "set_global_limits", 1, fn_set_global, 0},
    {MOD_LIMITER, "add_global_limit", 1, fn_add_global, 0},
    {MOD_LIMITER, "remove_global_limit", 1, fn_remove_global, 0},
    {MOD_LIMITER, "update_config", 1, fn_update_config, 0},
    {MOD_LIMITER, "reset_rate_limit", 3, fn_reset, 0},
    {MOD_LIMITER, "get_rate_limit_status", 3, fn_rate_limit_status, 0},
    {MOD_LIMITER, "check_rate_limit", 1, pga__ops_fn_check_request, 0},
    {MOD_LIMITER, "check_rate_limit", 3, fn_check_direct, 0},
    {MOD_LIMITER, "clear", 0, fn_clear, 0},
    {MOD_TOP, "add_global_limit", 1, fn_add_global, 0},
    {MOD_TOP, "check_rate_limit", 1, pga__ops_fn_check_request, 0},
    {MOD_TOP, "get_global_limits", 0, fn_global_limits, 0},
    {MOD_TOP, "get_rate_limit_config", 0, fn_configured_limits, 0},
    {MOD_TOP, "get_rate_limit_status", 3, fn_rate_limit_status, 0},
    {MOD_TOP, "remove_global_limit", 1, fn_remove_global, 0},
    {MOD_TOP, "reset_rate_limit", 3, fn_reset, 0},
    {MOD_TOP, "set_global_limits", 1, fn_set_global, 0},
    {MOD_TOP, "update_rate_limit_config", 1, fn_update_config, 0},
    {MOD_TOP, "rl_status", 1, pga__ops_fn_rl_status, 0},
    {MOD_TOP, "rl_global", 0, pga__ops_fn_rl_global0, 0},
    {MOD_TOP, "rl_global", 1, pga__ops_fn_rl_global1, 0},
    {MOD_TOP, "rl_global", 2, pga__ops_fn_rl_global2, 0},
    {MOD_TOP, "rl_config", 0, pga__ops_fn_rl_config, 0},
    {NULL, NULL, 0, NULL, 0}};

const pga_ops_area_t pga_ops_area_limiter = {"limiter", fns, limiter_init,
                                             limiter_fini};
