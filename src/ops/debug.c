/* debug_report/0,1 and trace_status/0 (ops-plane.md §4.3, §4.6, §4.9):
 * process summaries of the pseudo-processes and of our registered
 * distribution processes, table infos, the trace word. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ops/diag.h"
#include "pga/errno.h"
#include "relay/relay.h"

#define DEFAULT_PROCESS_LIMIT 20

/* One row of the process list. */
typedef struct proc_row_s {
  const char *name;      /* registered name atom */
  const char *subsystem; /* current_function's middle */
  uint64_t pid_id;
  const char *status;    /* :waiting or :running */
  uint64_t queue_len, memory, reductions;
} proc_row_t;

static void put_kv_u(pga_tb_t *tb, const char *key, uint64_t v) {
  pga_tb_atom(tb, key);
  pga_tb_uint(tb, v);
}

static void put_row(pga_ops_t *ops, pga_tb_t *tb, const proc_row_t *r,
                    int with_stack) {
  pga_tb_map(tb, with_stack ? 10 : 9);
  pga_tb_atom(tb, "registered_name");
  pga_tb_atom(tb, r->name);
  pga_tb_atom(tb, "current_function");
  pga_tb_tuple(tb, 3);
  pga_tb_atom(tb, "c_node");
  pga_tb_atom(tb, r->subsystem);
  pga_tb_int(tb, 0);
  if (with_stack) {
    pga_tb_atom(tb, "current_stacktrace");
    pga_tb_list(tb, 1);
    pga_tb_tuple(tb, 4);
    pga_tb_atom(tb, "c_node");
    pga_tb_atom(tb, r->subsystem);
    pga_tb_int(tb, 0);
    pga_tb_list(tb, 0);
    pga_tb_nil(tb);
  }
  pga_tb_atom(tb, "status");
  pga_tb_atom(tb, r->status);
  put_kv_u(tb, "message_queue_len", r->queue_len);
  put_kv_u(tb, "memory", r->memory);
  put_kv_u(tb, "total_heap_size", r->memory / 8);
  put_kv_u(tb, "reductions", r->reductions);
  pga_tb_atom(tb, "node");
  pga_tb_atom(tb, pga_dist_name(ops->d));
  pga_tb_atom(tb, "pid");
  pga_dist_put_pid(ops->d, tb, r->pid_id);
}

static void sub_row(pga_ops_t *ops, int sub, const pga_ops_live_t *lv,
                    proc_row_t *r) {
  memset(r, 0, sizeof *r);
  r->name = pga__ops_subs[sub].name;
  r->subsystem = pga__ops_subs[sub].subsystem;
  r->pid_id = ((pga_ops_diag_t *)ops->diag)->pid_ids[sub];
  r->status = "waiting";
  int pool = sub == PGA_SUB_ASYNC_POOL    ? PGA_POOL_ASYNC
             : sub == PGA_SUB_STREAM_POOL ? PGA_POOL_STREAM
                                          : -1;
  if (pool >= 0 && lv->pool_up[pool]) {
    const pga_pool_status_t *ps = &lv->pool[pool];
    r->status = ps->busy ? "running" : "waiting";
    r->queue_len = ps->queued;
    r->reductions = ps->executed + ps->failed;
  }
}

void pga__ops_put_summary(pga_ops_t *ops, pga_tb_t *tb, int sub,
                          const pga_ops_live_t *lv, int with_stack) {
  proc_row_t r;
  sub_row(ops, sub, lv, &r);
  put_row(ops, tb, &r, with_stack);
}

/* A table's id as :ets.info reports it (a reference), stable per name:
 * the name's FNV-1a hash in the first two words, 0 in the third, which
 * pga_dist_make_ref never produces. */
static void put_table_id(pga_ops_t *ops, pga_tb_t *tb, const char *name) {
  uint32_t h = 2166136261u;
  for (const char *c = name; *c; c++) h = (h ^ (unsigned char)*c) * 16777619u;
  erlang_ref ref;
  memset(&ref, 0, sizeof ref);
  snprintf(ref.node, sizeof ref.node, "%s", pga_dist_name(ops->d));
  ref.creation = pga_dist_creation(ops->d);
  ref.len = 3;
  ref.n[0] = h & 0x3ffffu;
  ref.n[1] = h >> 18;
  pga__tb_ref(tb, &ref);
}

void pga__ops_put_table_info(pga_ops_t *ops, pga_tb_t *tb, int exists,
                             const char *name, uint64_t size,
                             uint64_t bytes, uint64_t owner_pid_id) {
  if (!exists) {
    pga_tb_map(tb, 1);
    pga_tb_atom(tb, "exists");
    pga_tb_bool(tb, 0);
    return;
  }
  /* Every :ets.info key of the library's tables (all :public :set
   * :named_table with read and write concurrency), plus exists. */
  pga_tb_map(tb, 16);
  pga_tb_atom(tb, "exists");
  pga_tb_bool(tb, 1);
  pga_tb_atom(tb, "id");
  put_table_id(ops, tb, name);
  pga_tb_atom(tb, "decentralized_counters");
  pga_tb_bool(tb, 0); /* false for a :set with write_concurrency: true */
  pga_tb_atom(tb, "read_concurrency");
  pga_tb_bool(tb, 1);
  pga_tb_atom(tb, "write_concurrency");
  pga_tb_bool(tb, 1);
  pga_tb_atom(tb, "compressed");
  pga_tb_bool(tb, 0);
  pga_tb_atom(tb, "heir");
  pga_tb_atom(tb, "none");
  pga_tb_atom(tb, "name");
  pga_tb_atom(tb, name);
  put_kv_u(tb, "size", size);
  put_kv_u(tb, "memory", bytes / 8);
  pga_tb_atom(tb, "type");
  pga_tb_atom(tb, "set");
  pga_tb_atom(tb, "named_table");
  pga_tb_bool(tb, 1);
  pga_tb_atom(tb, "protection");
  pga_tb_atom(tb, "public");
  pga_tb_atom(tb, "owner");
  pga_dist_put_pid(ops->d, tb, owner_pid_id);
  pga_tb_atom(tb, "node");
  pga_tb_atom(tb, pga_dist_name(ops->d));
  put_kv_u(tb, "keypos", 1);
}

void pga__ops_put_not_started(pga_tb_t *tb) {
  pga_tb_map(tb, 2);
  pga_tb_atom(tb, "status");
  pga_tb_atom(tb, "error");
  pga_tb_atom(tb, "reason");
  pga_tb_atom(tb, "not_started");
}

void pga__ops_put_trace_status(pga_ops_t *ops, pga_tb_t *tb) {
  pga_tb_map(tb, 2);
  pga_tb_atom(tb, "node");
  pga_tb_atom(tb, pga_dist_name(ops->d));
  pga_tb_atom(tb, "trace_control_word");
  pga_tb_int(tb, 0); /* no trace word unless configured (§9.2) */
}

/* ---- the process list ---- */

/* Rows of the running pseudo-processes, then of our named processes. */
static proc_row_t *collect_rows(pga_ops_t *ops, const pga_ops_live_t *lv,
                                const pga_ops_snap_t *snap, size_t *n) {
  size_t cap = PGA_SUB_COUNT + (snap ? snap->nnames : 0);
  proc_row_t *rows = calloc(cap, sizeof *rows);
  *n = 0;
  if (!rows) return NULL;
  for (int sub = 0; sub < PGA_SUB_COUNT; sub++)
    if (pga__ops_sub_running(lv, sub)) sub_row(ops, sub, lv, &rows[(*n)++]);
  for (size_t i = 0; snap && i < snap->nnames; i++) {
    proc_row_t *r = &rows[(*n)++];
    r->name = r->subsystem = snap->names[i].name;
    r->pid_id = snap->names[i].pid_id;
    r->status = "waiting";
  }
  return rows;
}

/* Enum.sort_by(&memory, :desc) keeps equal rows in order: insertion sort. */
static void sort_by_memory(proc_row_t *rows, size_t n) {
  for (size_t i = 1; i < n; i++) {
    proc_row_t r = rows[i];
    size_t j = i;
    for (; j > 0 && rows[j - 1].memory < r.memory; j--) rows[j] = rows[j - 1];
    rows[j] = r;
  }
}

/* Enum.take(list, limit): the first limit rows, or the last -limit. */
static void take_range(size_t n, int64_t limit, size_t *from, size_t *to) {
  uint64_t k = limit < 0 ? (uint64_t)-(limit + 1) + 1 : (uint64_t)limit;
  if (k > n) k = n;
  *from = limit < 0 ? n - (size_t)k : 0;
  *to = *from + (size_t)k;
}

static void put_processes(pga_ops_t *ops, pga_tb_t *tb, proc_row_t *rows,
                          size_t n, int64_t limit, int with_stack) {
  size_t from, to;
  sort_by_memory(rows, n);
  take_range(n, limit, &from, &to);
  pga_tb_list(tb, to - from);
  for (size_t i = from; i < to; i++) put_row(ops, tb, &rows[i], with_stack);
  if (to > from) pga_tb_nil(tb);
}

/* ---- tables ---- */

static int64_t map_int(const pga_term_t *map, const char *key) {
  pga_term_t v;
  int64_t n = 0;
  if (pga_term_map_get_atom(map, key, &v) == 0) (void)pga_term_get_int64(&v, &n);
  return n < 0 ? 0 : n;
}

static int64_t configdb_count(pga_ops_t *ops) {
  pga_tb_t *tb = ops->cfg ? pga_tb_new(0) : NULL;
  int64_t n = 0;
  if (tb &&
      pga_config_call(ops->cfg, "Elixir.PhoenixGenApi.ConfigDb", "count", 0,
                      NULL, tb) == PGA_RETURN) {
    pga_term_t t = pga_tb_data(tb);
    (void)pga_term_get_int64(&t, &n);
  }
  pga_tb_free(tb);
  return n;
}

static void put_table(pga_ops_t *ops, pga_tb_t *tb, const char *key,
                      int exists, const char *name, int64_t size, int sub) {
  pga_tb_string(tb, key);
  pga__ops_put_table_info(ops, tb, exists, name, (uint64_t)size, 0,
                          ((pga_ops_diag_t *)ops->diag)->pid_ids[sub]);
}

static void put_ets_tables(pga_ops_t *ops, pga_tb_t *tb,
                           const pga_ops_live_t *lv) {
  pga_tb_t *relay = pga_tb_new(0);
  pga_term_t rs = {"\x6a", 1};
  if (relay && lv->relay_up) {
    pga_relay_status(ops->node, relay);
    rs = pga_tb_data(relay);
  }
  size_t logs[2] = {0, 0}; /* global, api */
  if (lv->limiter_up)
    pga_request_limiter_table_logs(pga_request_plane_limiter(ops->node),
                                   &logs[0], &logs[1]);
  pga_tb_map(tb, 5);
  put_table(ops, tb, ":phoenix_gen_api_relay_groups", lv->relay_up,
            "phoenix_gen_api_relay_groups", map_int(&rs, "group_count"),
            PGA_SUB_RELAY_SERVER);
  put_table(ops, tb, ":rate_limiter_api", lv->limiter_up, "rate_limiter_api",
            (int64_t)logs[1], PGA_SUB_LIMITER_SUPERVISOR);
  put_table(ops, tb, ":rate_limiter_global", lv->limiter_up,
            "rate_limiter_global", (int64_t)logs[0], PGA_SUB_LIMITER_SUPERVISOR);
  put_table(ops, tb, "PhoenixGenApi.ConfigDb", lv->config_up,
            "Elixir.PhoenixGenApi.ConfigDb", configdb_count(ops),
            PGA_SUB_CONFIG_DB);
  put_table(ops, tb, "PhoenixGenApi.RelayRegistry", lv->relay_up,
            "Elixir.PhoenixGenApi.RelayRegistry",
            map_int(&rs, "monitored_memberships"), PGA_SUB_RELAY_REGISTRY);
  pga_tb_free(relay);
}

/* ---- debug_report ---- */

/* Keyword.get(opts, :process_limit, 20), which Enum.take/2 needs to be an
 * integer; a bignum takes everything (or nothing from the end). */
static int process_limit(const pga_term_t *opts, int64_t *limit) {
  pga_term_t v;
  *limit = DEFAULT_PROCESS_LIMIT;
  if (!opts || !pga__ops_kw_get(opts, "process_limit", &v)) return 0;
  if (pga_term_get_int64(&v, limit) == 0) return 0;
  if (pga_term_type(&v) != PGA_T_BIGINT) return PGA_EINVAL;
  unsigned char sign = (unsigned char)v.buf[v.buf[0] == 110 ? 2 : 5];
  *limit = sign ? INT64_MIN : INT64_MAX;
  return 0;
}

static int truthy_opt(const pga_term_t *opts, const char *key) {
  pga_term_t v;
  if (!opts || !pga__ops_kw_get(opts, key, &v)) return 0;
  return !pga_term_is_atom(&v, "false") && !pga_term_is_atom(&v, "nil");
}

pga_outcome_t pga__ops_debug_report(pga_ops_t *ops, pga_call_t *call,
                                    const pga_term_t *opts, pga_tb_t *out) {
  int64_t limit;
  int t = opts ? pga_term_type(opts) : PGA_T_NIL;
  if ((t != PGA_T_LIST && t != PGA_T_NIL) || process_limit(opts, &limit) != 0)
    return pga__ops_function_clause(out);
  pga_ops_live_t lv;
  size_t n;
  pga_ops_snap_t *snap = pga__ops_snapshot(ops, call, 0);
  pga__ops_live_read(ops, &lv);
  proc_row_t *rows = collect_rows(ops, &lv, snap, &n);
  pga_tb_reset(out);
  int ep = pga__ops_has_endpoint(ops);
  pga_tb_map(out, 5 + (size_t)ep);
  if (ep) pga__ops_put_endpoint(ops, out);
  pga_tb_atom(out, "node");
  pga_tb_atom(out, pga_dist_name(ops->d));
  pga_tb_atom(out, "collected_at_ms");
  pga_tb_int(out, pga__ops_wall_ms());
  pga_tb_atom(out, "processes");
  put_processes(ops, out, rows, rows ? n : 0, limit,
                truthy_opt(opts, "include_current_stacktrace"));
  pga_tb_atom(out, "ets_tables");
  put_ets_tables(ops, out, &lv);
  pga_tb_atom(out, "trace");
  pga__ops_put_trace_status(ops, out);
  free(rows);
  pga__ops_snapshot_free(snap);
  return PGA_RETURN;
}
