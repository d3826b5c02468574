/* Folder-private interfaces of the ops plane: the plane object, the
 * function tables each file serves, and shared helpers. Each area (one
 * file or a small group) exports a pga_ops_area_t: its RPC functions and
 * optional init/fini for its own state, hung off the plane. */
#ifndef PGA_OPS_OPS_INT_H
#define PGA_OPS_OPS_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "dist/dist.h"
#include "ops/render.h"
#include "pga/node.h"
#include "ops/plane.h"
#include "rpc/rpc.h"

#define PGA_OPS_MOD_TOP "Elixir.PhoenixGenApi"
#define PGA_OPS_MOD_DIAG "Elixir.PhoenixGenApi.Diagnostics"
#define PGA_OPS_MOD_SECURITY "Elixir.PhoenixGenApi.Security"
#define PGA_OPS_MOD_POOL "Elixir.PhoenixGenApi.WorkerPool"
#define PGA_OPS_MOD_LIMITER "Elixir.PhoenixGenApi.RateLimiter"

typedef struct pga_ops_s pga_ops_t;

/* A served function: argv has arity terms; writes one term to out. */
typedef pga_outcome_t (*pga_ops_fn)(pga_ops_t *ops, pga_call_t *call,
                                    const pga_term_t *argv, pga_tb_t *out);

typedef struct pga_ops_fn_def_s {
  const char *module; /* NULL ends a table */
  const char *function;
  unsigned arity;
  pga_ops_fn fn;
  unsigned flags; /* PGA_FN_*: 0 (a worker) for anything that prints,
                     calls out or takes another plane's lock */
} pga_ops_fn_def_t;

/* Two table rows: the function under PhoenixGenApi and under
 * PhoenixGenApi.Diagnostics, which the facade delegates to. */
#define PGA_OPS_TOP_AND_DIAG(function, arity, fn)  \
  {PGA_OPS_MOD_TOP, function, arity, fn, 0},       \
  {PGA_OPS_MOD_DIAG, function, arity, fn, 0}

typedef struct pga_ops_area_s {
  const char *name;
  const pga_ops_fn_def_t *fns;
  int (*init)(pga_ops_t *ops); /* may be NULL; 0 or PGA_E* */
  void (*fini)(pga_ops_t *ops); /* may be NULL; also after a failed init */
} pga_ops_area_t;

/* Areas, registered in this order (plane.c). */
extern const pga_ops_area_t pga_ops_area_security; /* security.c */
extern const pga_ops_area_t pga_ops_area_diag;     /* health.c stats.c debug.c */
extern const pga_ops_area_t pga_ops_area_cluster;  /* cluster.c */
extern const pga_ops_area_t pga_ops_area_callflow; /* callflow*.c */
extern const pga_ops_area_t pga_ops_area_trace;    /* trace.c */
extern const pga_ops_area_t pga_ops_area_limiter;  /* limiter_rpc.c limiter_print.c */
extern const pga_ops_area_t pga_ops_area_pools;    /* pools.c */
extern const pga_ops_area_t pga_ops_area_failed;   /* failed_print.c */
extern const pga_ops_area_t pga_ops_area_facade;   /* facade.c (module_info) */

struct pga_ops_s {
  pga_node_t *node;
  pga_rpc_t *rpc;
  pga_dist_t *d;
  pga_loop_t *loop;
  pga_config_plane_t *cfg;
  unsigned admin_actions; /* PGA_ADMIN_* bits (config/file.h) */
  int detail_error;
  /* pga-node's settings, only while pga_ops_plane_start runs the areas'
   * init (they copy what they report); NULL otherwise. */
  const struct pga_conffile_s *conf;
  int64_t started_mono_ms;
  /* Guards the small shared state below and in the areas' slots. */
  pthread_mutex_t lock;
  /* Per-area state (owned by the area's init/fini). */
  void *diag;
  void *trace;
  void *limiter;
  void *pools;
  /* the endpoint's figures (pga_ops_plane_set_endpoint), under lock */
  pga_ops_figures_fn endpoint_fn;
  void *endpoint_ud;
};

/* Writes :endpoint => the endpoint's figures when one is set; returns 1
 * if it wrote the pair (count it in the map's size first with
 * pga__ops_has_endpoint). */
int pga__ops_has_endpoint(pga_ops_t *ops);
void pga__ops_put_endpoint(pga_ops_t *ops, pga_tb_t *tb);

/* ---- shared helpers (plane.c) ---- */

/* {function_clause} as erpc reports a failed guard: outcome ERROR. */
pga_outcome_t pga__ops_function_clause(pga_tb_t *out);
/* {:error, reason} with an atom reason: outcome RETURN. */
pga_outcome_t pga__ops_error_atom(pga_tb_t *out, const char *reason);
pga_outcome_t pga__ops_ok(pga_tb_t *out);
/* Keyword.get(opts, key): 1 found (*value set), 0 absent or opts not a
 * list of pairs. */
int pga__ops_kw_get(const pga_term_t *opts, const char *key,
                    pga_term_t *value);
/* Wall-clock and monotonic milliseconds. */
int64_t pga__ops_wall_ms(void);
int64_t pga__ops_mono_ms(void);
/* The ops plane running on node, or NULL (loop-thread callbacks whose
 * plane may have stopped). */
pga_ops_t *pga__ops_of(pga_node_t *node);

/* ---- Security (security.c), used by other areas ---- */

/* Security.admin_action_allowed?/1 for a known action bit; logs as the
 * library does. */
int pga__ops_admin_allowed(pga_ops_t *ops, unsigned action_bit);

#endif
