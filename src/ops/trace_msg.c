/* The terms of trace messages (ops-plane.md §9.2) and the per-tracer rate
 * cap, as pure functions. Flags and match specs come from operators over
 * RPC: every walk is bounded. */
#include "ops/trace_int.h"

#define SPEC_DEPTH_MAX 8 /* match specs nest a few levels at most */

static void put_timestamp(pga_tb_t *tb, int64_t ts_us) {
  int64_t s = ts_us / 1000000;
  pga_tb_tuple(tb, 3);
  pga_tb_int(tb, s / 1000000);
  pga_tb_int(tb, s % 1000000);
  pga_tb_int(tb, ts_us % 1000000);
}

void pga_ops_trace_msg(pga_tb_t *tb, const pga_term_t *pid, const char *what,
                       const pga_term_t *a, const pga_term_t *b,
                       int64_t ts_us) {
  pga_tb_tuple(tb, 4 + (b != NULL) + (ts_us >= 0));
  pga_tb_atom(tb, ts_us >= 0 ? "trace_ts" : "trace");
  pga_tb_term(tb, pid);
  pga_tb_atom(tb, what);
  pga_tb_term(tb, a);
  if (b) pga_tb_term(tb, b);
  if (ts_us >= 0) put_timestamp(tb, ts_us);
}

void pga_ops_trace_phase_call(pga_tb_t *tb, const char *phase,
                              const pga_term_t *request_id) {
  pga_tb_tuple(tb, 3);
  pga_tb_atom(tb, "phoenix_gen_api");
  pga_tb_atom(tb, phase);
  pga_tb_list(tb, 1);
  if (request_id && request_id->buf) pga_tb_term(tb, request_id);
  else pga_tb_atom(tb, "nil");
  pga_tb_nil(tb);
}

int pga_ops_trace_mfa_with(pga_tb_t *tb, const pga_term_t *mfa,
                           const pga_term_t *third) {
  pga_term_t m, f;
  size_t n;
  if (pga_term_tuple_arity(mfa, &n) != 0 || n < 2 ||
      pga_term_tuple_get(mfa, 0, &m) != 0 ||
      pga_term_tuple_get(mfa, 1, &f) != 0)
    return -1;
  pga_tb_tuple(tb, 3);
  pga_tb_term(tb, &m);
  pga_tb_term(tb, &f);
  pga_tb_term(tb, third);
  return 0;
}

int pga_ops_trace_has_flag(const pga_term_t *flags, const char *flag) {
  pga_term_iter_t it;
  pga_term_t el;
  if (pga_term_iter_init(&it, flags) != 0) return 0;
  while (pga_term_iter_next(&it, &el))
    if (pga_term_is_atom(&el, flag)) return 1;
  return 0;
}

static int returns_at(const pga_term_t *t, int depth) {
  pga_term_iter_t it;
  pga_term_t el;
  size_t n;
  if (depth > SPEC_DEPTH_MAX) return 0;
  if (pga_term_tuple_arity(t, &n) == 0) {
    if (n == 1 && pga_term_tuple_get(t, 0, &el) == 0 &&
        pga_term_is_atom(&el, "return_trace"))
      return 1;
    for (size_t i = 0; i < n; i++)
      if (pga_term_tuple_get(t, i, &el) == 0 && returns_at(&el, depth + 1))
        return 1;
    return 0;
  }
  if (pga_term_type(t) != PGA_T_LIST || pga_term_iter_init(&it, t) != 0)
    return 0;
  while (pga_term_iter_next(&it, &el))
    if (returns_at(&el, depth + 1)) return 1;
  return 0;
}

int pga_ops_trace_spec_returns(const pga_term_t *match_spec) {
  return returns_at(match_spec, 0);
}

int pga_ops_trace_rate_admit(pga_ops_trace_rate_t *r, int64_t now_ms) {
  if (now_ms - r->window_ms >= 1000 || now_ms < r->window_ms) {
    r->window_ms = now_ms;
    r->sent = 0;
  }
  if (r->sent >= PGA_OPS_TRACE_RATE_MAX) {
    r->dropped++;
    return 0;
  }
  r->sent++;
  return 1;
}
