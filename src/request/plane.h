/* The request plane as offered to pga-node: PhoenixGenApi.Executor served
 * over RPC (request-plane.md §3, §8, §9), plus the pure term helpers the
 * pipeline is built from (response.c), exposed for unit tests. */
#ifndef PGA_REQUEST_PLANE_H
#define PGA_REQUEST_PLANE_H

#include <stddef.h>
#include <stdint.h>

#include "pga/node.h"
#include "request/request.h"

struct pga_conffile_s;

/* Starts the request plane on node (after pga_config_plane_start, before
 * pga_node_start): registers 'Elixir.PhoenixGenApi.Executor':execute!/1
 * and execute_params!/1. conf (may be NULL = the library's defaults) gives
 * detail_error, rate_limiter, worker_pool, request and argument_handler
 * settings; it is read during the call only. 0, or a negative PGA_E* with
 * err filled. */
int pga_request_plane_start(pga_node_t *node,
                            const struct pga_conffile_s *conf, char *err,
                            size_t errlen);
/* Frees the plane and the requests still running (their deferred calls,
 * outgoing calls and relays went with pga_node_run's teardown; nothing is
 * sent). After pga_node_run returned (or when it never ran), before
 * pga_node_free. Unknown nodes are ignored. */
void pga_request_plane_stop(pga_node_t *node);

/* ---- Pure helpers (response.c) ---- */

#define PGA_REQUEST_DECODE_ERROR "Elixir.PhoenixGenApi.Errors.DecodeError"

/* A %Response{} map with exactly the 8 keys of §1.2. id/result NULL or
 * .buf NULL mean nil; error NULL means nil. */
void pga_request_response(pga_tb_t *tb, const pga_term_t *id,
                          const pga_term_t *result, int success,
                          const char *error, int async, int has_more,
                          int can_retry);
/* error_response(id, msg, can_retry). */
void pga_request_error_response(pga_tb_t *tb, const pga_term_t *id,
                                const char *error, int can_retry);

/* The exception struct an rpc caller sees as erpc's reason:
 * %{__struct__: <kind's module>, __exception__: true, message: ...}. */
void pga_request_exc_term(pga_tb_t *tb, const pga_request_exc_t *exc);

/* :erlang.external_size/1 of t as the library's runtime computes it from
 * the decoded term (§1.1.1), whatever encoding the sender used. Atoms
 * count PGA_REQUEST_ATOM_HEAD + name bytes: 3 (ATOM_EXT, OTP 25, this
 * cluster's release; OTP 26+ would give 2; docs/compat.md R20). Recursion
 * is capped at 256 levels (deeper terms count as received). Can't fail. */
#define PGA_REQUEST_ATOM_HEAD 3
uint64_t pga_request_external_size(const pga_term_t *t);

/* Request.decode!/1 (§1.1.1). etf_size is external_size(params) (1 + the
 * encoded length as received). 0 with the Request struct map written to
 * req; PGA_EINVAL with the DecodeError exception struct written to exc
 * (code :invalid_payload or :missing_field). Bounded by the size of
 * params; never crashes on any term. */
int pga_request_decode_params(const pga_term_t *params, uint64_t etf_size,
                              uint64_t max, pga_tb_t *req, pga_tb_t *exc);

/* E1 ("unsupported function: <rt> version <v>") or, with disabled, E2.
 * malloc'ed; NULL on ENOMEM. */
char *pga_request_config_error(const pga_request_t *req, int disabled);
/* prefix followed by inspected, or else inspect(term): E3, E7d.
 * malloc'ed; NULL on ENOMEM. */
char *pga_request_detail_error(const char *prefix, const pga_term_t *term,
                               const char *inspected);

/* The sync result mapping of §3.3. */
typedef enum {
  PGA_MAP_OK = 0,     /* sync_response(id, *value) */
  PGA_MAP_ERROR,      /* {:error, _}: E7 / E7d */
  PGA_MAP_UNEXPECTED  /* another tuple: E8 */
} pga_sync_map_t;
pga_sync_map_t pga_request_map_result(const pga_term_t *raw,
                                      pga_term_t *value);

/* ---- Hooks (hooks.c, §10) ---- */

#define PGA_REQUEST_HOOK_TIMEOUT_MS 5000
#define PGA_REQUEST_HOOK_TIMEOUT "hook timed out after 5000ms"
/* {:ok, req2, cfg2} that is not a Request and a FunConfig (R14). */
#define PGA_REQUEST_E3_INVALID "hook rejected: :invalid_hook_result"

/* A hook config value: 2 for {m, f}, 3 for {m, f, extra} (*extra set),
 * with m and f written (atom texts, len bytes each); 0 for anything else
 * (nil included: no hook). */
int pga_request_hook_of(const pga_term_t *hook, char *m, char *f,
                        size_t len, pga_term_t *extra);
/* The same over a hook of fc's compiled form (config/funconfig.h): *m
 * and *f point at fc's texts (valid while fc is). */
struct pga_funconfig_s;
struct pga_fc_call_s;
int pga_request_hook_compiled(const struct pga_funconfig_s *fc,
                              const struct pga_fc_call_s *hook,
                              const char **m, const char **f,
                              pga_term_t *extra);

typedef enum {
  PGA_HOOK_CONTINUE = 0, /* any other value: original request and config */
  PGA_HOOK_REPLACE,      /* {:ok, req2, cfg2}: *req2, *cfg2 (views) */
  PGA_HOOK_REJECT        /* *e3 malloc'ed (NULL on ENOMEM) */
} pga_hook_step_t;
/* A before hook's rpc:call-style result (value or {badrpc, R}; NULL =
 * it ran past 5000 ms): {:error, r} gives "hook rejected: <inspect(r)>";
 * a raise, throw or exit gives the library's double-inspected text;
 * {badrpc, timeout} and NULL "hook rejected: \"hook timed out after
 * 5000ms\"". Can't fail (ENOMEM: REJECT with *e3 NULL). */
pga_hook_step_t pga_request_hook_before_result(const pga_term_t *result,
                                               pga_term_t *req2,
                                               pga_term_t *cfg2, char **e3);
/* Did a hook fail (rpc:call-style result; NULL = past 5000 ms)? For a
 * failure *text is the telemetry reason (malloc'ed; NULL on ENOMEM): the
 * timeout text, the inspected exception message, or inspect({:exit, r})
 * / inspect({:throw, v}), i.e. E3 without its second inspect. */
#define PGA_HOOK_RAN 0
#define PGA_HOOK_FAIL_ERROR 1
#define PGA_HOOK_FAIL_TIMEOUT 2
int pga_request_hook_failure(const pga_term_t *result, char **text);
#define PGA_REQUEST_E4 "Permission denied"
#define PGA_REQUEST_E7 "Internal Server Error"
#define PGA_REQUEST_E8 "Unexpected execution result"
#define PGA_REQUEST_E9 "Service temporarily unavailable"

/* ---- For the ops plane (ops_api.c) ---- */

/* The rate limiter of the plane on node (thread-safe object), or NULL. */
pga_request_limiter_t *pga_request_plane_limiter(pga_node_t *node);

/* WorkerPool.status(pool) figures (ops-plane.md §4.7). */
typedef struct pga_pool_status_s {
  uint64_t size;     /* configured workers */
  uint64_t idle, busy, queued;
  int circuit_open;
  uint64_t executed, failed;
} pga_pool_status_t;
#define PGA_POOL_ASYNC 0
#define PGA_POOL_STREAM 1
/* Any thread. 0, PGA_EINVAL for another pool, or PGA_ENOTFOUND when no
 * plane runs on node. */
int pga_request_plane_pool_status(pga_node_t *node, int pool,
                                  pga_pool_status_t *out);

/* Live figures for diagnostics (any thread; atomics). */
typedef struct pga_request_stats_s {
  uint64_t inflight;   /* requests being executed */
  uint64_t streams;    /* active stream relays */
  uint64_t work_units; /* pipeline stages run since start */
} pga_request_stats_t;
int pga_request_plane_stats(pga_node_t *node, pga_request_stats_t *out);

/* stop_stream/1 (ops-plane.md §9.3): target a relay pid (0 whether or not
 * it is a live stream) or a binary request_id (0, or PGA_ENOTFOUND when no
 * active stream has it); PGA_EINVAL for another term. Loop thread
 * only. */
int pga_request_plane_stop_stream(pga_node_t *node, const pga_term_t *target);

/* ---- Observer (ops-plane.md §9.2 tracing) ---- */

/* One request as an observer sees it; views valid during the callback. */
typedef struct pga_request_probe_s {
  /* The request's pseudo-process: a pid id of the node's dist, 0 until an
   * observer mints one (pga__dist_next_pid) the first time it reports on
   * the request; kept for the request's lifetime. */
  uint64_t *pid_id;
  const pga_term_t *request;    /* the %Request{} map */
  const pga_term_t *request_id; /* .buf NULL: nil */
} pga_request_probe_t;

/* Callbacks run on the loop thread, for every request, so each must
 * return at once when it has nothing to report. Any may be NULL. */
typedef struct pga_request_observer_s {
  /* The request entered the pipeline (a stream's lasts until it ends). */
  void (*on_start)(void *ud, const pga_request_probe_t *r);
  /* A pipeline step of ops-plane.md §4.4 begins ("config_lookup",
   * "hooks_before", "permission", "rate_limit", "argument_validation",
   * "node_selection", "execution", "retry", "hooks_after", "response"). */
  void (*on_phase)(void *ud, const pga_request_probe_t *r, const char *phase);
  /* The target function was called: mfa the FunConfig's {m, f, _}, args
   * the final argument list. */
  void (*on_call)(void *ud, const pga_request_probe_t *r,
                  const pga_term_t *mfa, const pga_term_t *args);
  /* That call's result, as rpc:call returns it (value or {badrpc, R}). */
  void (*on_return)(void *ud, const pga_request_probe_t *r,
                    const pga_term_t *mfa, size_t arity,
                    const pga_term_t *result);
  /* The request is over (its pseudo-process exits). */
  void (*on_end)(void *ud, const pga_request_probe_t *r);
} pga_request_observer_t;

/* Sets (obs NULL: removes) the one observer of the plane on node; obs is
 * copied. Not while pga_node_run runs. 0, or PGA_ENOTFOUND when no plane
 * runs on node. */
int pga_request_plane_set_observer(pga_node_t *node,
                                   const pga_request_observer_t *obs,
                                   void *ud);

#endif
