/* The rate-limiter area of the ops plane: PhoenixGenApi.RateLimiter and
 * the facade's rate-limit functions (limiter_rpc.c), the rl_* shell
 * helpers (limiter_print.c). The limiter object itself is the request
 * plane's (request/request.h); this area only serves it. */
#ifndef PGA_OPS_LIMITER_INT_H
#define PGA_OPS_LIMITER_INT_H

#include <stdint.h>

#include "ops/ops_int.h"
#include "request/request.h"

/* The settings RateLimiter.status/0 and friends report, copied from
 * pga-node's configuration at start (the library's defaults without). */
typedef struct pga_ops_limiter_s {
  int enabled;
  int fail_open;
  unsigned timeout_ms;     /* of the library's GenServer call */
  unsigned instance_count; /* resolved: configured, else online cores */
  int routing_random;      /* :random, else :hash */
  unsigned cleanup_interval_ms;
} pga_ops_limiter_t;

/* The area's settings (limiter_rpc.c). */
const pga_ops_limiter_t *pga__ops_limiter_settings(const pga_ops_t *ops);
/* The limiter of the node's request plane, or NULL when none runs (the
 * library's instances are then not started: calls exit with noproc). */
pga_request_limiter_t *pga__ops_limiter_of(pga_ops_t *ops);
/* RateLimiter.status/0 (also statistics' rate_limiter data) and the
 * instance count it reports (0 when no limiter runs). */
void pga__ops_limiter_status(pga_ops_t *ops, pga_tb_t *out);
unsigned pga__ops_limiter_instances(pga_ops_t *ops);
/* Writes the exit reason of a call to a limiter that is not running. */
pga_outcome_t pga__ops_limiter_noproc(pga_tb_t *out);

/* check_rate_limit/1 with its telemetry (limiter_check.c). */
pga_outcome_t pga__ops_fn_check_request(pga_ops_t *ops, pga_call_t *call,
                                        const pga_term_t *argv,
                                        pga_tb_t *out);
/* A limiter operation's error (PGA_EINVAL: malformed limits, which crash
 * the library's call; PGA_ENOMEM) as the call's error reason. */
pga_outcome_t pga__ops_limiter_failed(int rc, pga_tb_t *out);

/* ---- Text of the rl_* helpers (limiter_print.c), for unit tests ---- */

/* Each appends its block to t (ops-plane.md §5); -1 with the exception
 * the library raises written to raised (the lines before it stay). */
int pga__ops_rl_global_text(pga_ops_text_t *t, const pga_term_t *limits,
                            pga_tb_t *raised);
int pga__ops_rl_config_text(pga_ops_text_t *t, const pga_term_t *config,
                            pga_tb_t *raised);
/* rl_status(user_id) read from l at now_ms (monotonic ms). */
int pga__ops_rl_status_text(pga_ops_text_t *t, pga_request_limiter_t *l,
                            const pga_term_t *user_id, int64_t now_ms,
                            pga_tb_t *raised);

/* The rl_* functions served (limiter_print.c), listed in the area table
 * of limiter_rpc.c. */
pga_outcome_t pga__ops_fn_rl_status(pga_ops_t *ops, pga_call_t *call,
                                    const pga_term_t *argv, pga_tb_t *out);
pga_outcome_t pga__ops_fn_rl_global0(pga_ops_t *ops, pga_call_t *call,
                                     const pga_term_t *argv, pga_tb_t *out);
pga_outcome_t pga__ops_fn_rl_global1(pga_ops_t *ops, pga_call_t *call,
                                     const pga_term_t *argv, pga_tb_t *out);
pga_outcome_t pga__ops_fn_rl_global2(pga_ops_t *ops, pga_call_t *call,
                                     const pga_term_t *argv, pga_tb_t *out);
pga_outcome_t pga__ops_fn_rl_config(pga_ops_t *ops, pga_call_t *call,
                                    const pga_term_t *argv, pga_tb_t *out);

#endif
