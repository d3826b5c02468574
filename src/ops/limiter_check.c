/* RateLimiter.check_rate_limit/1 (and the facade's) over RPC: one slot
 * of every applicable limit (request-plane.md §7.3), with the :check and
 * :exceeded events the library emits from this function (§7.5). */
#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"
#include "ops/eval.h"
#include "ops/limiter_int.h"
#include "pga/errno.h"
#include "telemetry/telemetry.h"
#include "term/inspect.h"
#include "term/term.h"

/* The shard the library routes the request to (select_instance): only
 * its name shows, in the :check event. */
static unsigned route_index(const pga_ops_limiter_t *s,
                            const pga_request_t *req) {
  static const pga_term_t empty = {"m\0\0\0\0", 5}; /* <<>> */
  uint32_t h = 0;
  if (s->instance_count <= 1) return 0;
  if (s->routing_random) return (unsigned)rand() % s->instance_count;
  const pga_term_t *v = pga__ops_truthy(&req->user_id)      ? &req->user_id
                        : pga__ops_truthy(&req->request_id) ? &req->request_id
                                                            : &empty;
  if (pga_request_phash2(v, s->instance_count, &h) != 0) h = 0;
  return h;
}

static void emit(pga_telemetry_t *tm, pga_event_t ev, pga_tb_t *meas,
                 pga_tb_t *meta) {
  pga_term_t m1 = pga_tb_data(meas), m2 = pga_tb_data(meta);
  if (m1.len && m2.len) pga_telemetry_emit(tm, ev, &m1, &m2);
  pga__tb_destroy(meas);
  pga__tb_destroy(meta);
}

static void emit_check(pga_telemetry_t *tm, const pga_request_t *req,
                       unsigned instance, int64_t duration_us,
                       const pga_term_t *result) {
  char name[48];
  pga_tb_t meas, meta;
  snprintf(name, sizeof name, "rate_limiter_instance_%u", instance);
  pga__tb_init(&meas, 0);
  pga__tb_init(&meta, 0);
  pga_tb_map(&meas, 1);
  pga_tb_atom(&meas, "duration_us");
  pga_tb_int(&meas, duration_us);
  pga_tb_map(&meta, 6);
  pga_tb_atom(&meta, "request_id");
  pga_tb_term(&meta, &req->request_id);
  pga_tb_atom(&meta, "user_id");
  pga_tb_term(&meta, &req->user_id);
  pga_tb_atom(&meta, "instance");
  pga_tb_atom(&meta, name);
  pga_tb_atom(&meta, "service");
  pga_tb_term(&meta, &req->service);
  pga_tb_atom(&meta, "request_type");
  pga_tb_term(&meta, &req->request_type);
  pga_tb_atom(&meta, "result");
  pga_tb_term(&meta, result);
  emit(tm, PGA_EV_RATE_LIMITER_CHECK, &meas, &meta);
}

static void put_detail(pga_tb_t *tb, const pga_term_t *details,
                       const char *key) {
  pga_term_t v;
  pga_tb_atom(tb, key);
  if (pga_term_map_get_atom(details, key, &v) == 0)
    pga_tb_term(tb, &v);
  else
    pga_tb_atom(tb, "nil");
}

/* denial = {:error, :rate_limited, details}. */
static void emit_exceeded(pga_telemetry_t *tm, const pga_request_t *req,
                          const pga_term_t *denial) {
  pga_term_t details;
  pga_tb_t meas, meta;
  if (pga_term_tuple_get(denial, 2, &details) != 0) return;
  pga__tb_init(&meas, 0);
  pga__tb_init(&meta, 0);
  pga_tb_map(&meas, 1);
  put_detail(&meas, &details, "retry_after_ms");
  pga_tb_map(&meta, 6);
  put_detail(&meta, &details, "key");
  put_detail(&meta, &details, "scope");
  put_detail(&meta, &details, "max_requests");
  put_detail(&meta, &details, "current_requests");
  pga_tb_atom(&meta, "request_id");
  pga_tb_term(&meta, &req->request_id);
  pga_tb_atom(&meta, "user_id");
  pga_tb_term(&meta, &req->user_id);
  emit(tm, PGA_EV_RATE_LIMITER_EXCEEDED, &meas, &meta);
}

/* A request that is not a map: the library's Map.get raises BadMapError
 * inside its rescue, so fail_open decides. */
static pga_outcome_t not_a_map(const pga_ops_limiter_t *s,
                               const pga_term_t *request, pga_tb_t *out) {
  static const char prefix[] = "expected a map, got: ";
  if (s->fail_open) return pga__ops_ok(out);
  char *shown = pga_term_inspect_dup(request);
  if (!shown) return pga__ops_limiter_failed(PGA_ENOMEM, out);
  pga_ops_text_t msg;
  pga_ops_text_init(&msg);
  pga_ops_put(&msg, prefix);
  pga_ops_put(&msg, shown);
  free(shown);
  pga_tb_reset(out);
  pga_tb_tuple(out, 3);
  pga_tb_atom(out, "error");
  pga_tb_atom(out, "rate_limiter_error");
  pga_tb_map(out, 1);
  pga_tb_atom(out, "message");
  pga_tb_binary(out, pga_ops_text_str(&msg), pga_ops_text_len(&msg));
  pga_ops_text_free(&msg);
  return PGA_RETURN;
}

/* The limiter's GenServer call died on the request (reason in out):
 * the caller exits as GenServer.call makes it, with
 * {{Reason, Stack}, {GenServer, :call, [instance, msg, timeout]}}. The
 * stack names the function the library dies in, without file and line. */
static pga_outcome_t call_died(const pga_ops_limiter_t *s,
                               const pga_term_t *request, unsigned instance,
                               pga_tb_t *out) {
  char name[48];
  pga_term_t reason = pga_tb_data(out);
  pga_tb_t exit;
  pga__tb_init(&exit, 0);
  snprintf(name, sizeof name, "rate_limiter_instance_%u", instance);
  pga_tb_tuple(&exit, 2);
  pga_tb_tuple(&exit, 2);
  pga_tb_term(&exit, &reason);
  pga_tb_list(&exit, 1);
  pga_tb_tuple(&exit, 4);
  pga_tb_atom(&exit, "Elixir.PhoenixGenApi.RateLimiter");
  pga_tb_atom(&exit, "handle_call");
  pga_tb_int(&exit, 3);
  pga_tb_nil(&exit);
  pga_tb_nil(&exit);
  pga_tb_tuple(&exit, 3);
  pga_tb_atom(&exit, "Elixir.GenServer");
  pga_tb_atom(&exit, "call");
  pga_tb_list(&exit, 3);
  pga_tb_atom(&exit, name);
  pga_tb_tuple(&exit, 2);
  pga_tb_atom(&exit, "check_rate_limit");
  pga_tb_term(&exit, request);
  pga_tb_int(&exit, s->timeout_ms);
  pga_tb_nil(&exit);
  pga_term_t t = pga_tb_data(&exit);
  pga_tb_reset(out);
  if (t.len) pga_tb_term(out, &t);
  pga__tb_destroy(&exit);
  return t.len ? PGA_EXIT : pga__ops_limiter_failed(PGA_ENOMEM, out);
}

/* After its call the library reads request.request_id, .user_id,
 * .service and .request_type for the :check event; a missing key raises
 * a KeyError inside its rescue, so fail_open decides. The first missing
 * key, or NULL. */
static const char *event_field_missing(const pga_term_t *request) {
  static const char *const read[] = {"request_id", "user_id", "service",
                                     "request_type"};
  pga_term_t v;
  for (size_t i = 0; i < sizeof read / sizeof *read; i++)
    if (pga_term_map_get_atom(request, read[i], &v) != 0) return read[i];
  return NULL;
}

static pga_outcome_t key_error(const pga_ops_limiter_t *s, const char *key,
                               const pga_term_t *request, pga_tb_t *out) {
  if (s->fail_open) {
    pga_warn("check_rate_limit: key :%s missing from the "
                          "request map, allowed (fail_open)", key);
    return pga__ops_ok(out);
  }
  char *shown = pga_term_inspect_dup(request);
  if (!shown) return pga__ops_limiter_failed(PGA_ENOMEM, out);
  pga_ops_text_t msg;
  pga_ops_text_init(&msg);
  pga_ops_put(&msg, "key :");
  pga_ops_put(&msg, key);
  pga_ops_put(&msg, " not found in: ");
  pga_ops_put(&msg, shown);
  free(shown);
  pga_tb_reset(out);
  pga_tb_tuple(out, 3);
  pga_tb_atom(out, "error");
  pga_tb_atom(out, "rate_limiter_error");
  pga_tb_map(out, 1);
  pga_tb_atom(out, "message");
  pga_tb_binary(out, pga_ops_text_str(&msg), pga_ops_text_len(&msg));
  pga_ops_text_free(&msg);
  return PGA_RETURN;
}

pga_outcome_t pga__ops_fn_check_request(pga_ops_t *ops, pga_call_t *call,
                                        const pga_term_t *argv,
                                        pga_tb_t *out) {
  (void)call;
  const pga_ops_limiter_t *s = pga__ops_limiter_settings(ops);
  pga_request_t req;
  if (!s->enabled) return pga__ops_ok(out);
  if (pga_request_from_struct(&argv[0], &req) != 0)
    return not_a_map(s, &argv[0], out);
  pga_request_limiter_t *l = pga__ops_limiter_of(ops);
  if (!l) return pga__ops_limiter_noproc(out);
  int64_t started = pga_telemetry_monotonic_us();
  pga_limit_status_t st =
      pga_request_limiter_check_map(l, &argv[0], pga__ops_mono_ms(), out,
                                    NULL);
  pga_term_t result = pga_tb_data(out);
  if (!result.len) return pga__ops_limiter_failed(PGA_ENOMEM, out);
  if (st == PGA_LIMIT_RAISED)
    return call_died(s, &argv[0], route_index(s, &req), out);
  const char *missing = event_field_missing(&argv[0]);
  if (missing) return key_error(s, missing, &argv[0], out);
  pga_telemetry_t *tm = pga_telemetry_of(ops->node);
  if (pga_telemetry_wants(tm, PGA_EV_RATE_LIMITER_CHECK))
    emit_check(tm, &req, route_index(s, &req),
               pga_telemetry_monotonic_us() - started, &result);
  if (st == PGA_LIMIT_EXCEEDED &&
      pga_telemetry_wants(tm, PGA_EV_RATE_LIMITER_EXCEEDED))
    emit_exceeded(tm, &req, &result);
  return PGA_RETURN;
}
