/* The request plane's pools and streams as the ops plane serves them:
 * PhoenixGenApi.WorkerPool.status/1 (ops-plane.md §4.7), the
 * pool_status/0 helper (§5) and stop_stream/1 (§9.3). */
#include "ops/ops_int.h"
#include "ops/print_int.h"
#include "pga/errno.h"
#include "request/plane.h"

/* GenServer.call(pool, :status) to no such process. */
static pga_outcome_t no_pool(const pga_term_t *pool, pga_tb_t *out) {
  pga_tb_reset(out);
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "noproc");
  pga_tb_tuple(out, 3);
  pga_tb_atom(out, "Elixir.GenServer");
  pga_tb_atom(out, "call");
  pga_tb_list(out, 3);
  pga_tb_term(out, pool);
  pga_tb_atom(out, "status");
  pga_tb_int(out, 5000);
  pga_tb_nil(out);
  return PGA_EXIT;
}

static int pool_index(const pga_term_t *pool) {
  if (pga_term_is_atom(pool, "async_pool")) return PGA_POOL_ASYNC;
  if (pga_term_is_atom(pool, "stream_pool")) return PGA_POOL_STREAM;
  return -1;
}

static void put_pool_map(pga_tb_t *out, const pga_pool_status_t *st) {
  pga_tb_map(out, 6);
  pga_tb_atom(out, "idle_workers");
  pga_tb_uint(out, st->idle);
  pga_tb_atom(out, "busy_workers");
  pga_tb_uint(out, st->busy);
  pga_tb_atom(out, "queued_tasks");
  pga_tb_uint(out, st->queued);
  pga_tb_atom(out, "circuit_open");
  pga_tb_bool(out, st->circuit_open);
  pga_tb_atom(out, "total_tasks_executed");
  pga_tb_uint(out, st->executed);
  pga_tb_atom(out, "total_tasks_failed");
  pga_tb_uint(out, st->failed);
}

static pga_outcome_t fn_pool_status1(pga_ops_t *ops, pga_call_t *call,
                                     const pga_term_t *argv, pga_tb_t *out) {
  (void)call;
  pga_pool_status_t st;
  int pool = pool_index(&argv[0]);
  if (pool < 0 || pga_request_plane_pool_status(ops->node, pool, &st) != 0)
    return no_pool(&argv[0], out);
  put_pool_map(out, &st);
  return PGA_RETURN;
}

static void put_pool_lines(pga_ops_text_t *t, const pga_pool_status_t *st) {
  pga_ops_putf(t, "  Idle: %llu | Busy: %llu | Queued: %llu\n",
               (unsigned long long)st->idle, (unsigned long long)st->busy,
               (unsigned long long)st->queued);
  pga_ops_putf(t, "  Circuit Open: %s\n", st->circuit_open ? "true" : "false");
}

void pga__ops_pool_text(pga_ops_text_t *t, const pga_pool_status_t *async,
                        const pga_pool_status_t *stream) {
  pga_ops_put(t, "\n=== Worker Pool Status ===\n\n");
  pga_ops_put(t, "Async Pool:\n");
  put_pool_lines(t, async);
  pga_ops_put(t, "\nStream Pool:\n");
  put_pool_lines(t, stream);
}

static pga_outcome_t fn_pool_status0(pga_ops_t *ops, pga_call_t *call,
                                     const pga_term_t *argv, pga_tb_t *out) {
  (void)argv;
  static const pga_term_t async_pool = {"w\12async_pool", 12};
  pga_pool_status_t async, stream;
  if (pga_request_plane_pool_status(ops->node, PGA_POOL_ASYNC, &async) != 0 ||
      pga_request_plane_pool_status(ops->node, PGA_POOL_STREAM, &stream) != 0)
    return no_pool(&async_pool, out);
  pga_ops_text_t t;
  pga_ops_text_init(&t);
  pga__ops_pool_text(&t, &async, &stream);
  pga_outcome_t o = pga_ops_print(call, &t, out);
  pga_ops_text_free(&t);
  return o;
}

/* Loop thread (PGA_FN_INLINE): streams live there. A pid is stopped by a
 * cast in the library, so any pid gives :ok. */
static pga_outcome_t fn_stop_stream(pga_ops_t *ops, pga_call_t *call,
                                    const pga_term_t *argv, pga_tb_t *out) {
  (void)call;
  pga_term_type_t type = pga_term_type(&argv[0]);
  if (type != PGA_T_PID && type != PGA_T_BINARY)
    return pga__ops_function_clause(out);
  int rc = pga_request_plane_stop_stream(ops->node, &argv[0]);
  if (type == PGA_T_BINARY && rc != 0)
    return pga__ops_error_atom(out, "not_found");
  return pga__ops_ok(out);
}

static const pga_ops_fn_def_t fns[] = {
    {PGA_OPS_MOD_POOL, "status", 1, fn_pool_status1, 0},
    {PGA_OPS_MOD_TOP, "pool_status", 0, fn_pool_status0, 0},
    {PGA_OPS_MOD_TOP, "stop_stream", 1, fn_stop_stream, PGA_FN_INLINE},
    {NULL, NULL, 0, NULL, 0}};

const pga_ops_area_t pga_ops_area_pools = {"pools", fns, NULL, NULL};
