/* Remote call rules as pure functions (request-plane.md §8.4, §8.5): the
 * RPC timeout, the fallback outcome of one node, retry normalisation, the
 * retry loop's step and finalisation, and the backoff formula. */
#include "config.h"

#include <math.h>

#include "config/funconfig.h"
#include "request/request_int.h"

#define DEFAULT_RPC_TIMEOUT 5000
#define INFINITY_RPC_TIMEOUT (5 * DEFAULT_RPC_TIMEOUT)
#define BACKOFF_BASE_MS 100.0
#define BACKOFF_MAX_MS 5000

/* trunc/1 of a number term, saturated to int64. */
static int trunc_number(const pga_term_t *t, int64_t *out) {
  pga__head_t h;

  if (pga__term_head(t->buf, t->len, &h) != 0)
    return PGA_EINVAL;
  switch (h.type) {
  case PGA_T_INTEGER: *out = h.i; return 0;
  case PGA_T_BIGINT: *out = h.neg ? INT64_MIN : INT64_MAX; return 0;
  case PGA_T_FLOAT:
    *out = h.d >= 9223372036854775807.0    ? INT64_MAX
           : h.d <= -9223372036854775808.0 ? INT64_MIN
                                           : (int64_t)h.d;
    return 0;
  default: return PGA_EINVAL;
  }
}

int pga_request_retry_normalize(const pga_term_t *retry, pga_retry_t *out) {
  pga_term_t el[2];

  out->mode = PGA_RETRY_NONE;
  out->n = 0;
  if (pga__rq_is_nil(retry))
    return 0;
  if (pga__rq_is_number(retry)) {
    out->mode = PGA_RETRY_ALL_NODES;
    return trunc_number(retry, &out->n);
  }
  if (!pga__rq_tuple(retry, 2, el) || pga__rq_type(&el[0]) != PGA_T_ATOM ||
      !pga__rq_is_number(&el[1]))
    return PGA_EINVAL;
  if (pga_term_is_atom(&el[0], "same_node"))
    out->mode = PGA_RETRY_SAME_NODE;
  else if (pga_term_is_atom(&el[0], "all_nodes"))
    out->mode = PGA_RETRY_ALL_NODES;
  else
    return PGA_EINVAL;
  return trunc_number(&el[1], &out->n);
}

void pga_request_retry_encode(pga_tb_t *tb, const pga_retry_t *r) {
  if (r->mode == PGA_RETRY_NONE) {
    pga_tb_atom(tb, "nil");
    return;
  }
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, r->mode == PGA_RETRY_SAME_NODE ? "same_node" : "all_nodes");
  pga_tb_int(tb, r->n);
}

int pga_request_retry_backoff(int64_t n, double u, int64_t *ms) {
  double delay;

  if (n < 1)
    return PGA_EINVAL;
  /* :math.pow(2, n - 1) * 100 overflows a double from n = 1019 on, and
   * Erlang raises ArithmeticError where C would give infinity. */
  if (n >= 1019)
    return PGA_ERANGE;
  delay = trunc(BACKOFF_BASE_MS * pow(2.0, (double)(n - 1)));
  if (delay > BACKOFF_MAX_MS)
    delay = BACKOFF_MAX_MS;
  *ms = u < 0 ? (int64_t)delay : (int64_t)trunc(delay * (0.5 + u));
  return 0;
}

int pga_request_retryable(const pga_term_t *result) {
  pga_term_t first;
  size_t arity;

  if (pga__rq_type(result) != PGA_T_TUPLE ||
      pga_term_tuple_arity(result, &arity) != 0 || (arity != 2 && arity != 3) ||
      pga_term_tuple_get(result, 0, &first) != 0)
    return 0;
  return pga__rq_type(&first) == PGA_T_ATOM && pga_term_is_atom(&first, "error");
}

int pga_request_retry_next(pga_retry_t *r, const pga_term_t *result,
                           int64_t *attempt) {
  if (r->mode == PGA_RETRY_NONE || r->n <= 0 || !pga_request_retryable(result))
    return 0;
  if (attempt != NULL)
    *attempt = r->n;
  r->n--;
  return 1;
}

int pga_request_retry_final(const pga_term_t *result) {
  return pga_request_retryable(result);
}

int pga_request_rpc_outcome(const pga_term_t *rpc_result,
                            pga_tb_t *remembered) {
  pga_term_t el[2], exit[2];

  if (!pga__rq_tuple(rpc_result, 2, el) ||
      pga__rq_type(&el[0]) != PGA_T_ATOM || !pga_term_is_atom(&el[0], "badrpc"))
    return 1; /* any other value, {:error, _} included, is the result */
  pga_tb_tuple(remembered, 2);
  pga_tb_atom(remembered, "error");
  if (pga__rq_type(&el[1]) == PGA_T_ATOM && pga_term_is_atom(&el[1], "timeout"))
    pga_tb_atom(remembered, "timeout");
  else if (pga__rq_tuple(&el[1], 2, exit) &&
           pga__rq_type(&exit[0]) == PGA_T_ATOM &&
           pga_term_is_atom(&exit[0], "EXIT"))
    pga_tb_atom(remembered, "rpc_exit");
  else
    pga_tb_term(remembered, &el[1]);
  return 0;
}

int64_t pga_request_rpc_timeout(const pga_term_t *timeout) {
  int64_t t;

  if (pga__rq_type(timeout) == PGA_T_ATOM &&
      pga_term_is_atom(timeout, "infinity"))
    return INFINITY_RPC_TIMEOUT;
  if (pga__rq_type(timeout) == PGA_T_INTEGER &&
      pga_term_get_int64(timeout, &t) == 0 && t > 0)
    return t;
  return DEFAULT_RPC_TIMEOUT;
}

void pga_request_retry_of(const pga_fc_compiled_t *c, pga_retry_t *out) {
  out->mode = PGA_RETRY_NONE;
  out->n = 0;
  if (c->retry == PGA_FC_RETRY_SAME_NODE || c->retry == PGA_FC_RETRY_ALL_NODES) {
    out->mode = c->retry == PGA_FC_RETRY_SAME_NODE ? PGA_RETRY_SAME_NODE
                                                   : PGA_RETRY_ALL_NODES;
    out->n = c->retry_n;
  }
}

int64_t pga_request_rpc_timeout_of(const pga_fc_compiled_t *c) {
  if (c->timeout == PGA_FC_TIMEOUT_INFINITY) return INFINITY_RPC_TIMEOUT;
  if (c->timeout == PGA_FC_TIMEOUT_INT && c->timeout_ms > 0)
    return c->timeout_ms;
  return DEFAULT_RPC_TIMEOUT;
}
