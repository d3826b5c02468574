/* Call-flow area internals (ops-plane.md §4.4, §5): the pieces the
 * callflow*.c files share. Descriptions and steps are pure functions of
 * FunConfig field terms (callflow_steps.c, unit-tested); node resolution
 * and reachability probes live in callflow_nodes.c; callflow.c builds
 * the result maps and serves them; callflow_print.c renders them. */
#ifndef PGA_OPS_CALLFLOW_INT_H
#define PGA_OPS_CALLFLOW_INT_H

#include <stddef.h>

#include "ops/ops_int.h"

/* ---- FunConfig fields (callflow_steps.c) ---- */

/* Field `name` of a FunConfig map, or nil when absent. */
pga_term_t pga_ops_flow_field(const pga_term_t *fc, const char *name);
/* 1 unless t is nil or false (Elixir truthiness). */
int pga_ops_flow_truthy(const pga_term_t *t);

/* ---- Descriptions (callflow_steps.c): one map term each ---- */

/* `permission` for a check_permission value. */
void pga_ops_flow_permission(pga_tb_t *tb, const pga_term_t *check);
/* One entry of `hooks` for a before/after_execute value. */
void pga_ops_flow_hook(pga_tb_t *tb, const pga_term_t *hook);
/* `retry` for a retry value (anything unforeseen: configured + raw). */
void pga_ops_flow_retry(pga_tb_t *tb, const pga_term_t *retry);

/* What the step list needs besides the FunConfig itself. */
typedef struct pga_ops_flow_route_s {
  int local;               /* nodes == :local */
  const pga_term_t *nodes; /* the resolved node list */
  size_t reachable;        /* how many of them answer */
} pga_ops_flow_route_t;

/* `steps`: the list of %{phase, desc} maps for fc. */
void pga_ops_flow_steps(pga_tb_t *tb, const pga_term_t *fc,
                        const pga_ops_flow_route_t *route);
/* The 5-key map of a failed lookup (reason: :not_found, :disabled...),
 * as a map header of 5 + extra pairs; the caller writes the extra. */
void pga_ops_flow_error_map(pga_tb_t *tb, const pga_term_t *service,
                            const pga_term_t *request_type,
                            const pga_term_t *reason, size_t extra);

/* ---- Nodes (callflow_nodes.c) ---- */

/* The `nodes` value: a list kept, {m, f, a} -> [] (no resolver), nil ->
 * [], anything else -> [it]. */
void pga_ops_flow_nodes(pga_tb_t *tb, const pga_term_t *nodes_field);

/* Distinct node names to probe, then their answers. */
#define PGA_OPS_REACH_MAX 64 /* probes per call; more count as unreachable */
typedef struct pga_ops_reach_s {
  size_t n;
  char *names[PGA_OPS_REACH_MAX];
  unsigned char up[PGA_OPS_REACH_MAX];
} pga_ops_reach_t;

void pga_ops_reach_init(pga_ops_reach_t *r);
/* Collects the probe-worthy atoms of a node list (atoms with '@' other
 * than our own name). ENOMEM only skips a name. */
void pga_ops_reach_add_list(pga_ops_t *ops, pga_ops_reach_t *r,
                            const pga_term_t *nodes);
/* Connects to every collected node at once, 2 s at most in all (worker
 * threads only: waits on the loop thread). */
void pga_ops_reach_probe(pga_ops_t *ops, pga_ops_reach_t *r);
/* 1 for our own node name or a collected name that answered. */
int pga_ops_reach_is_up(pga_ops_t *ops, const pga_ops_reach_t *r,
                        const pga_term_t *node);
void pga_ops_reach_free(pga_ops_reach_t *r);

/* ---- Result maps (callflow.c) ---- */

/* call_flow(service, request_type, version) into out as a map header of
 * its own pairs + extra (the caller writes the extra pairs). RETURN, or
 * ERROR with the reason in out (request_type not a binary). */
pga_outcome_t pga_ops_flow_call(pga_ops_t *ops, const pga_term_t *service,
                                const pga_term_t *request_type,
                                const pga_term_t *version, size_t extra,
                                pga_tb_t *out);
/* inspect_request(request) into out. */
pga_outcome_t pga_ops_flow_inspect(pga_ops_t *ops, const pga_term_t *req,
                                   pga_tb_t *out);
/* list_call_flows(opts) into out. */
pga_outcome_t pga_ops_flow_list(pga_ops_t *ops, const pga_term_t *opts,
                                pga_tb_t *out);

/* ---- Print helpers (callflow_print.c), served by the area ---- */
pga_outcome_t pga_ops_call_flow_print(pga_ops_t *ops, pga_call_t *call,
                                      const pga_term_t *argv, pga_tb_t *out);
pga_outcome_t pga_ops_call_flow_print3(pga_ops_t *ops, pga_call_t *call,
                                       const pga_term_t *argv, pga_tb_t *out);
pga_outcome_t pga_ops_flows_print0(pga_ops_t *ops, pga_call_t *call,
                                   const pga_term_t *argv, pga_tb_t *out);
pga_outcome_t pga_ops_flows_print1(pga_ops_t *ops, pga_call_t *call,
                                   const pga_term_t *argv, pga_tb_t *out);
pga_outcome_t pga_ops_inspect_print(pga_ops_t *ops, pga_call_t *call,
                                    const pga_term_t *argv, pga_tb_t *out);

/* Renderers of the print helpers over the result maps (pure). */
void pga_ops_flow_render(pga_ops_text_t *t, const pga_term_t *service,
                         const pga_term_t *request_type,
                         const pga_term_t *flow);
void pga_ops_flows_render(pga_ops_text_t *t, const pga_term_t *flows);
void pga_ops_inspect_render(pga_ops_text_t *t, const pga_term_t *plan);

#endif
