/* statistics/0,1 (ops-plane.md §4.2, §4.9): the VM section from this
 * process's figures, the PhoenixGenApi section from the planes. */
#include "config.h"

#include <string.h>

#include "ops/diag.h"
#include "ops/limiter_int.h"
#include "pga/errno.h"
#include "relay/relay.h"
#include "request/request.h"
#include "telemetry/telemetry.h"
#include "term/term.h"

#define MOD_DB "Elixir.PhoenixGenApi.ConfigDb"
#define LIMITER_CLEANUP_MS 60000 /* the library's default interval */

static void put_kv_u(pga_tb_t *tb, const char *key, uint64_t v) {
  pga_tb_atom(tb, key);
  pga_tb_uint(tb, v);
}

static void put_zero_tuple(pga_tb_t *tb, size_t arity, uint64_t first) {
  pga_tb_tuple(tb, arity);
  pga_tb_uint(tb, first);
  for (size_t i = 1; i < arity; i++) pga_tb_int(tb, 0);
}

static void put_vm(pga_ops_t *ops, pga_tb_t *tb, const pga_ops_vmfig_t *f,
                   const pga_ops_live_t *lv) {
  int64_t units = (int64_t)lv->req.work_units;
  pga_tb_map(tb, 14);
  put_kv_u(tb, "process_count", f->process_count);
  put_kv_u(tb, "process_limit", f->process_limit);
  put_kv_u(tb, "port_count", f->vm.sockets);
  put_kv_u(tb, "ets_count", f->ets_count);
  put_kv_u(tb, "schedulers", f->schedulers);
  put_kv_u(tb, "schedulers_online", f->schedulers);
  pga_tb_atom(tb, "memory");
  pga__ops_put_memory(tb, f);
  pga_tb_atom(tb, "reductions");
  pga__ops_put_since_last(ops, tb, PGA_LAST_REDUCTIONS, units);
  pga_tb_atom(tb, "exact_reductions");
  pga__ops_put_since_last(ops, tb, PGA_LAST_EXACT, units);
  pga_tb_atom(tb, "runtime");
  pga__ops_put_since_last(ops, tb, PGA_LAST_RUNTIME, (int64_t)f->vm.cpu_ms);
  pga_tb_atom(tb, "garbage_collection");
  put_zero_tuple(tb, 3, 0);
  pga_tb_atom(tb, "context_switches");
  put_zero_tuple(tb, 2, f->vm.ctx_switches);
  pga_tb_atom(tb, "scheduler_wall_time");
  pga_tb_atom(tb, "undefined");
  pga_tb_atom(tb, "uptime");
  pga__ops_put_since_last(ops, tb, PGA_LAST_WALL,
                          pga__ops_mono_ms() - ops->started_mono_ms);
}

/* Runs a config-plane function into tb; 0 when it returned exactly one
 * well-formed term (anything else must not reach our result). */
static int config_value(pga_ops_t *ops, const char *mod, const char *fn,
                        pga_tb_t *tb) {
  size_t used = 0;
  pga_tb_reset(tb);
  if (pga_config_call(ops->cfg, mod, fn, 0, NULL, tb) != PGA_RETURN ||
      pga_tb_error(tb))
    return PGA_EINVAL;
  pga_term_t t = pga_tb_data(tb);
  return pga__term_check(t.buf, t.len, &used) == 0 && used == t.len
             ? 0
             : PGA_EINVAL;
}

static void put_config_db(pga_ops_t *ops, pga_tb_t *tb, pga_tb_t *tmp) {
  int64_t count = 0;
  if (!ops->cfg || config_value(ops, MOD_DB, "count", tmp) != 0) {
    pga__ops_put_not_started(tb);
    return;
  }
  pga_term_t v = pga_tb_data(tmp);
  (void)pga_term_get_int64(&v, &count);
  pga_tb_map(tb, 4);
  pga_tb_atom(tb, "status");
  pga_tb_atom(tb, "ok");
  put_kv_u(tb, "count", count > 0 ? (uint64_t)count : 0);
  pga_tb_atom(tb, "services");
  if (config_value(ops, MOD_DB, "get_all_services", tmp) == 0) {
    v = pga_tb_data(tmp);
    pga_tb_term(tb, &v);
  } else {
    pga_tb_list(tb, 0);
  }
  pga_tb_atom(tb, "ets");
  pga__ops_put_table_info(ops, tb, 1, MOD_DB, count > 0 ? (uint64_t)count : 0,
                          0, ((pga_ops_diag_t *)ops->diag)->pid_ids[PGA_SUB_CONFIG_DB]);
}

/* The head of %{status: :ok, data: ...}: the data term comes next. */
static void put_ok_data(pga_tb_t *tb) {
  pga_tb_map(tb, 2);
  pga_tb_atom(tb, "status");
  pga_tb_atom(tb, "ok");
  pga_tb_atom(tb, "data");
}

/* %{status: :ok, data: Mod.status()} or not_started. */
static void put_status_of(pga_ops_t *ops, pga_tb_t *tb, const char *mod,
                          pga_tb_t *tmp) {
  if (!ops->cfg || config_value(ops, mod, "status", tmp) != 0) {
    pga__ops_put_not_started(tb);
    return;
  }
  pga_term_t v = pga_tb_data(tmp);
  put_ok_data(tb);
  pga_tb_term(tb, &v);
}

static void put_rate_limiter(pga_ops_t *ops, pga_tb_t *tb) {
  if (!pga_request_plane_limiter(ops->node)) {
    pga__ops_put_not_started(tb);
    return;
  }
  put_ok_data(tb);
  pga__ops_limiter_status(ops, tb);
}

static void put_pool(pga_tb_t *tb, const pga_ops_live_t *lv, int pool) {
  const pga_pool_status_t *p = &lv->pool[pool];
  if (!lv->pool_up[pool]) {
    pga__ops_put_not_started(tb);
    return;
  }
  put_ok_data(tb);
  pga_tb_map(tb, 6);
  put_kv_u(tb, "idle_workers", p->idle);
  put_kv_u(tb, "busy_workers", p->busy);
  put_kv_u(tb, "queued_tasks", p->queued);
  pga_tb_atom(tb, "circuit_open");
  pga_tb_bool(tb, p->circuit_open);
  put_kv_u(tb, "total_tasks_executed", p->executed);
  put_kv_u(tb, "total_tasks_failed", p->failed);
}

static void put_relay(pga_ops_t *ops, pga_tb_t *tb, const pga_ops_live_t *lv,
                      pga_tb_t *tmp) {
  if (!lv->relay_up) {
    pga__ops_put_not_started(tb);
    return;
  }
  pga_tb_reset(tmp);
  pga_relay_status(ops->node, tmp);
  pga_term_t v = pga_tb_data(tmp);
  put_ok_data(tb);
  pga_tb_term(tb, &v);
}

static void put_pga(pga_ops_t *ops, pga_tb_t *tb, const pga_ops_live_t *lv,
                    pga_tb_t *tmp) {
  int ep = pga__ops_has_endpoint(ops);
  pga_tb_map(tb, 8 + (size_t)ep);
  if (ep) pga__ops_put_endpoint(ops, tb);
  pga_tb_atom(tb, "client_mode");
  pga_tb_bool(tb, 0);
  pga_tb_atom(tb, "config_db");
  put_config_db(ops, tb, tmp);
  pga_tb_atom(tb, "config_puller");
  put_status_of(ops, tb, "Elixir.PhoenixGenApi.ConfigPuller", tmp);
  pga_tb_atom(tb, "config_receiver");
  put_status_of(ops, tb, "Elixir.PhoenixGenApi.ConfigReceiver", tmp);
  pga_tb_atom(tb, "rate_limiter");
  put_rate_limiter(ops, tb);
  pga_tb_atom(tb, "worker_pool");
  pga_tb_map(tb, 2);
  pga_tb_atom(tb, "async_pool");
  put_pool(tb, lv, PGA_POOL_ASYNC);
  pga_tb_atom(tb, "stream_pool");
  put_pool(tb, lv, PGA_POOL_STREAM);
  pga_tb_atom(tb, "relay");
  put_relay(ops, tb, lv, tmp);
  put_kv_u(tb, "telemetry_events", PGA_EV_COUNT);
}

pga_outcome_t pga__ops_statistics(pga_ops_t *ops, pga_call_t *call,
                                  pga_tb_t *out) {
  pga_ops_live_t lv;
  pga_ops_vmfig_t fig;
  pga_tb_t *tmp = pga_tb_new(0);
  pga_tb_reset(out);
  if (!tmp) {
    pga_tb_atom(out, "enomem");
    return PGA_ERROR;
  }
  pga_ops_snap_t *snap = pga__ops_snapshot(ops, call, 0);
  pga__ops_live_read(ops, &lv);
  pga__ops_vmfig(ops, &lv, snap, &fig);
  pga_tb_map(out, 4);
  pga_tb_atom(out, "node");
  pga_tb_atom(out, pga_dist_name(ops->d));
  pga_tb_atom(out, "collected_at_ms");
  pga_tb_int(out, pga__ops_wall_ms());
  pga_tb_atom(out, "vm");
  put_vm(ops, out, &fig, &lv);
  pga_tb_atom(out, "phoenix_gen_api");
  put_pga(ops, out, &lv, tmp);
  pga_tb_free(tmp);
  pga__ops_snapshot_free(snap);
  return PGA_RETURN;
}
