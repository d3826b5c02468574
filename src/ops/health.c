/* health_check/0,1 (ops-plane.md §4.1, §4.9) and what the diagnostics
 * share about the running subsystems: the pseudo-processes standing for
 * the library's named processes, which of them run, worst-wins status
 * aggregation and the "since last call" counters. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ops/diag.h"
#include "ops/limiter_int.h"
#include "pga/errno.h"
#include "relay/relay.h"

const pga_ops_sub_t pga__ops_subs[PGA_SUB_COUNT] = {
    {"Elixir.PhoenixGenApi.Supervisor", "PhoenixGenApi.Supervisor",
     "supervisor", NULL},
    {"Elixir.PhoenixGenApi.ConfigDb", "PhoenixGenApi.ConfigDb", "config_db",
     "config_db"},
    {"Elixir.PhoenixGenApi.ConfigPuller", "PhoenixGenApi.ConfigPuller",
     "config_puller", "config_puller"},
    {"Elixir.PhoenixGenApi.ConfigReceiver", "PhoenixGenApi.ConfigReceiver",
     "config_receiver", "config_receiver"},
    {"Elixir.PhoenixGenApi.ConfigFailed", "PhoenixGenApi.ConfigFailed",
     "config_failed", NULL},
    {"Elixir.PhoenixGenApi.RelayRegistry", "PhoenixGenApi.RelayRegistry",
     "relay_registry", "relay_registry"},
    {"Elixir.PhoenixGenApi.RelayServer", "PhoenixGenApi.RelayServer",
     "relay_server", "relay_server"},
    {"Elixir.PhoenixGenApi.WorkerPool.WorkerPoolSupervisor",
     "PhoenixGenApi.WorkerPool.WorkerPoolSupervisor", "worker_pool_supervisor",
     "worker_pool_supervisor"},
    {"async_pool", ":async_pool", "async_pool", "async_pool"},
    {"stream_pool", ":stream_pool", "stream_pool", "stream_pool"},
    {"rate_limiter_supervisor", ":rate_limiter_supervisor",
     "rate_limiter_supervisor", "rate_limiter_supervisor"},
    {"rate_limiter_instance_0", ":rate_limiter_instance_0",
     "rate_limiter_instance", NULL},
};

/* ---- what runs ---- */

void pga__ops_live_read(pga_ops_t *ops, pga_ops_live_t *lv) {
  memset(lv, 0, sizeof *lv);
  lv->config_up = ops->cfg != NULL;
  lv->relay_up = pga_relay_running(ops->node);
  lv->limiter_up = pga_request_plane_limiter(ops->node) != NULL;
  lv->request_up = pga_request_plane_stats(ops->node, &lv->req) == 0;
  for (int p = PGA_POOL_ASYNC; p <= PGA_POOL_STREAM; p++)
    lv->pool_up[p] =
        pga_request_plane_pool_status(ops->node, p, &lv->pool[p]) == 0;
}

int pga__ops_sub_running(const pga_ops_live_t *lv, int sub) {
  switch (sub) {
    case PGA_SUB_SUPERVISOR: return 1;
    case PGA_SUB_CONFIG_DB:
    case PGA_SUB_CONFIG_PULLER:
    case PGA_SUB_CONFIG_RECEIVER:
    case PGA_SUB_CONFIG_FAILED: return lv->config_up;
    case PGA_SUB_RELAY_REGISTRY:
    case PGA_SUB_RELAY_SERVER: return lv->relay_up;
    case PGA_SUB_POOL_SUPERVISOR:
      return lv->pool_up[PGA_POOL_ASYNC] || lv->pool_up[PGA_POOL_STREAM];
    case PGA_SUB_ASYNC_POOL: return lv->pool_up[PGA_POOL_ASYNC];
    case PGA_SUB_STREAM_POOL: return lv->pool_up[PGA_POOL_STREAM];
    case PGA_SUB_LIMITER_SUPERVISOR:
    case PGA_SUB_LIMITER_INSTANCE: return lv->limiter_up;
    default: return 0;
  }
}

unsigned pga__ops_children_running(const pga_ops_live_t *lv) {
  /* rate limiter, worker pools, config db, puller, receiver, relay index,
   * relay server, failed-config store */
  static const int children[PGA_OPS_CHILDREN] = {
      PGA_SUB_LIMITER_SUPERVISOR, PGA_SUB_POOL_SUPERVISOR,
      PGA_SUB_CONFIG_DB,          PGA_SUB_CONFIG_PULLER,
      PGA_SUB_CONFIG_RECEIVER,    PGA_SUB_RELAY_REGISTRY,
      PGA_SUB_RELAY_SERVER,       PGA_SUB_CONFIG_FAILED};
  unsigned n = 0;
  for (size_t i = 0; i < PGA_OPS_CHILDREN; i++)
    n += pga__ops_sub_running(lv, children[i]) ? 1u : 0u;
  return n;
}

/* ---- status aggregation ---- */

static int severity(const char *status) {
  if (strcmp(status, "error") == 0) return 2;
  if (strcmp(status, "degraded") == 0) return 1;
  return 0;
}

const char *pga__ops_worst(const char *a, const char *b) {
  static const char *const names[] = {"ok", "degraded", "error"};
  int s = severity(a) > severity(b) ? severity(a) : severity(b);
  return names[s];
}

const char *pga__ops_status_of(const pga_term_t *map) {
  pga_term_t v;
  if (pga_term_map_get_atom(map, "status", &v) != 0) return "ok";
  if (pga_term_is_atom(&v, "error")) return "error";
  if (pga_term_is_atom(&v, "degraded")) return "degraded";
  return "ok";
}

/* ---- "since last call" ---- */

void pga__ops_put_since_last(pga_ops_t *ops, pga_tb_t *tb,
                             pga_last_kind_t kind, int64_t total) {
  pga_ops_diag_t *st = ops->diag;
  int64_t last = 0;
  pthread_mutex_lock(&ops->lock);
  switch (kind) {
    case PGA_LAST_WALL: last = st->last_wall_ms; st->last_wall_ms = total; break;
    case PGA_LAST_RUNTIME:
      last = st->last_runtime_ms;
      st->last_runtime_ms = total;
      break;
    case PGA_LAST_REDUCTIONS:
      last = (int64_t)st->last_reductions;
      st->last_reductions = (uint64_t)total;
      break;
    case PGA_LAST_EXACT:
      last = (int64_t)st->last_exact_reductions;
      st->last_exact_reductions = (uint64_t)total;
      break;
  }
  pthread_mutex_unlock(&ops->lock);
  pga_tb_tuple(tb, 2);
  pga_tb_int(tb, total);
  pga_tb_int(tb, total >= last ? total - last : 0);
}

/* ---- health_check ---- */

/* is_integer(max) and total > max, bignums included. */
static int over_memory_cap(const pga_term_t *opts, uint64_t total) {
  pga_term_t max;
  int64_t v;
  if (!pga__ops_kw_get(opts, "max_memory_bytes", &max)) return 0;
  if (pga_term_get_int64(&max, &v) == 0) return v < 0 || total > (uint64_t)v;
  if (pga_term_type(&max) != PGA_T_BIGINT || max.len < 6) return 0;
  /* SMALL_BIG_EXT: tag, n, sign; LARGE_BIG_EXT: tag, n (4), sign */
  unsigned char sign = (unsigned char)max.buf[max.buf[0] == 110 ? 2 : 5];
  return sign != 0;
}

static const char *vm_status(const pga_ops_vmfig_t *f, const pga_term_t *opts) {
  uint64_t limit = f->process_limit;
  if (limit > 0 && f->process_count >= limit * 9 / 10) return "degraded";
  if (opts && over_memory_cap(opts, f->vm.rss_bytes)) return "degraded";
  return "ok";
}

static void put_vm_check(pga_ops_t *ops, pga_tb_t *tb, const char *status,
                         const pga_ops_vmfig_t *f) {
  pga_tb_map(tb, 7);
  pga_tb_atom(tb, "status");
  pga_tb_atom(tb, status);
  pga_tb_atom(tb, "process_count");
  pga_tb_uint(tb, f->process_count);
  pga_tb_atom(tb, "process_limit");
  pga_tb_uint(tb, f->process_limit);
  pga_tb_atom(tb, "memory");
  pga__ops_put_memory(tb, f);
  pga_tb_atom(tb, "schedulers");
  pga_tb_uint(tb, f->schedulers);
  pga_tb_atom(tb, "schedulers_online");
  pga_tb_uint(tb, f->schedulers);
  pga_tb_atom(tb, "uptime");
  pga__ops_put_since_last(ops, tb, PGA_LAST_WALL,
                          pga__ops_mono_ms() - ops->started_mono_ms);
}

static void put_node_check(pga_ops_t *ops, pga_tb_t *tb,
                           const pga_ops_snap_t *snap) {
  pga_tb_map(tb, 4);
  pga_tb_atom(tb, "status");
  pga_tb_atom(tb, "ok"); /* a running C node is always alive */
  pga_tb_atom(tb, "node");
  pga_tb_atom(tb, pga_dist_name(ops->d));
  pga_tb_atom(tb, "alive?");
  pga_tb_bool(tb, 1);
  pga_tb_atom(tb, "connected_nodes");
  pga__ops_put_connected(tb, snap);
}

static void put_process_check(pga_ops_t *ops, pga_tb_t *tb, int sub,
                              const pga_ops_live_t *lv) {
  int up = pga__ops_sub_running(lv, sub);
  pga_tb_map(tb, 4);
  pga_tb_atom(tb, "status");
  pga_tb_atom(tb, up ? "ok" : "error");
  pga_tb_atom(tb, "registered_name");
  pga_tb_string(tb, pga__ops_subs[sub].shown);
  pga_tb_atom(tb, "pid");
  if (up)
    pga_dist_put_pid(ops->d, tb, ((pga_ops_diag_t *)ops->diag)->pid_ids[sub]);
  else
    pga_tb_atom(tb, "nil");
  if (up) {
    pga_tb_atom(tb, "process");
    pga__ops_put_summary(ops, tb, sub, lv, 0);
  } else {
    pga_tb_atom(tb, "reason");
    pga_tb_atom(tb, "not_registered");
  }
}

/* The shards RateLimiter.status/0 reports, alive while the limiter runs. */
static const char *put_limiter_instances(pga_ops_t *ops, pga_tb_t *tb,
                                         const pga_ops_live_t *lv) {
  if (!lv->limiter_up) {
    pga_tb_map(tb, 2);
    pga_tb_atom(tb, "status");
    pga_tb_atom(tb, "error");
    pga_tb_atom(tb, "reason");
    pga_tb_atom(tb, "not_registered");
    return "error";
  }
  pga_tb_map(tb, 3);
  pga_tb_atom(tb, "status");
  pga_tb_atom(tb, "ok");
  unsigned n = pga__ops_limiter_instances(ops);
  pga_tb_atom(tb, "instance_count");
  pga_tb_uint(tb, n);
  pga_tb_atom(tb, "alive_instances");
  pga_tb_uint(tb, n); /* shards of one object: all alive together */
  return "ok";
}

static const char *put_supervision_tree(pga_tb_t *tb,
                                        const pga_ops_live_t *lv) {
  unsigned running = pga__ops_children_running(lv);
  int all = running == PGA_OPS_CHILDREN;
  pga_tb_map(tb, all ? 2 : 4);
  pga_tb_atom(tb, "status");
  pga_tb_atom(tb, all ? "ok" : "degraded");
  pga_tb_atom(tb, "children_count");
  pga_tb_uint(tb, PGA_OPS_CHILDREN);
  if (!all) {
    pga_tb_atom(tb, "running");
    pga_tb_uint(tb, running);
    pga_tb_atom(tb, "reason");
    pga_tb_atom(tb, "partial_failure");
  }
  return all ? "ok" : "degraded";
}

/* The 11 checks; returns their worst status. */
static const char *put_pga_checks(pga_ops_t *ops, pga_tb_t *tb,
                                  const pga_ops_live_t *lv) {
  const char *worst = "ok";
  int ep = pga__ops_has_endpoint(ops);
  pga_tb_map(tb, 11 + (size_t)ep);
  if (ep) pga__ops_put_endpoint(ops, tb);
  for (int sub = 0; sub < PGA_SUB_COUNT; sub++) {
    if (!pga__ops_subs[sub].check) continue;
    pga_tb_atom(tb, pga__ops_subs[sub].check);
    put_process_check(ops, tb, sub, lv);
    if (!pga__ops_sub_running(lv, sub)) worst = "error";
  }
  pga_tb_atom(tb, "rate_limiter_instances");
  worst = pga__ops_worst(worst, put_limiter_instances(ops, tb, lv));
  pga_tb_atom(tb, "supervision_tree");
  return pga__ops_worst(worst, put_supervision_tree(tb, lv));
}

/* The checks go to a side builder so the overall status can come first. */
pga_outcome_t pga__ops_health(pga_ops_t *ops, pga_call_t *call,
                              const pga_term_t *opts, pga_tb_t *out) {
  int t = opts ? pga_term_type(opts) : PGA_T_NIL;
  if (t != PGA_T_LIST && t != PGA_T_NIL) return pga__ops_function_clause(out);
  pga_ops_live_t lv;
  pga_ops_vmfig_t fig;
  pga_ops_snap_t *snap = pga__ops_snapshot(ops, call, 0);
  pga__ops_live_read(ops, &lv);
  pga__ops_vmfig(ops, &lv, snap, &fig);
  pga_tb_t *pga = pga_tb_new(0);
  if (!pga) {
    pga__ops_snapshot_free(snap);
    pga_tb_reset(out);
    pga_tb_atom(out, "enomem");
    return PGA_ERROR;
  }
  const char *pga_status = put_pga_checks(ops, pga, &lv);
  const char *vm = vm_status(&fig, opts);
  pga_tb_reset(out);
  pga_tb_map(out, 4);
  pga_tb_atom(out, "status");
  pga_tb_atom(out, pga__ops_worst(vm, pga_status));
  pga_tb_atom(out, "node");
  pga_tb_atom(out, pga_dist_name(ops->d));
  pga_tb_atom(out, "checked_at_ms");
  pga_tb_int(out, pga__ops_wall_ms());
  pga_tb_atom(out, "checks");
  pga_tb_map(out, 3);
  pga_tb_atom(out, "vm");
  put_vm_check(ops, out, vm, &fig);
  pga_tb_atom(out, "node");
  put_node_check(ops, out, snap);
  pga_tb_atom(out, "phoenix_gen_api");
  pga_tb_map(out, 3);
  pga_tb_atom(out, "status");
  pga_tb_atom(out, pga_status);
  pga_tb_atom(out, "mode");
  pga_tb_atom(out, "gateway");
  pga_tb_atom(out, "checks");
  pga_term_t checks = pga_tb_data(pga);
  pga_tb_term(out, &checks);
  pga_tb_free(pga);
  pga__ops_snapshot_free(snap);
  return PGA_RETURN;
}
