/* Tracing internals (ops-plane.md §9.1): the argument checks of
 * trace_processes/trace_functions/stop_trace* as pure functions
 * (trace_args.c, unit-tested), used by the served functions (trace.c). */
#ifndef PGA_OPS_TRACE_INT_H
#define PGA_OPS_TRACE_INT_H

#include <stddef.h>

#include "ops/ops_int.h"

/* Longest target or MFA list accepted; longer lists are invalid (each
 * element becomes a result key, and keys must be distinct). */
#define PGA_OPS_TRACE_LIST_MAX 1000

/* A `flags` option: a proper list drawn from :call, :return_to,
 * :return_trace, :procs, :ports, :timestamp, :cpu_timestamp, :arity,
 * :silent. */
int pga_ops_trace_flags_valid(const pga_term_t *flags);
/* A `match_spec` option: a boolean or a list. */
int pga_ops_trace_match_spec_valid(const pga_term_t *ms);

/* Targets: :all -> [:all]; a valid target -> [it]; a list of valid
 * targets as is. Valid: the nine symbolic atoms, pids, ports. Writes the
 * list to tb; 0, or -1 for {:error, :invalid_trace_target}. */
int pga_ops_trace_targets(const pga_term_t *targets, pga_tb_t *tb);
/* MFAs: :all -> [{:_, :_, :_}]; {m, f} -> {m, f, :_}; {m, f, a} with
 * atoms m, f and a >= 0 or :_; or a list of those (where :all is also
 * allowed). Writes the normalised list; 0, or -1 for :invalid_mfa. */
int pga_ops_trace_mfas(const pga_term_t *mfas, pga_tb_t *tb);

/* Which modules count as loaded (§9.2): the caller's predicate. */
typedef int (*pga_ops_loaded_fn)(void *ud, const pga_term_t *module);

/* The atoms of a normalised target list that are not loaded modules
 * (a lone [:all] is never checked), as a list into tb; their number. */
size_t pga_ops_trace_unloaded_targets(const pga_term_t *targets,
                                      pga_ops_loaded_fn loaded, void *ud,
                                      pga_tb_t *tb);
/* The MFAs of a normalised list whose module is not loaded, into tb. */
size_t pga_ops_trace_unloaded_mfas(const pga_term_t *mfas,
                                   pga_ops_loaded_fn loaded, void *ud,
                                   pga_tb_t *tb);

/* 1 if the MFA pattern {m, f, a} (with :_ wildcards) covers mfa. */
int pga_ops_trace_mfa_covers(const pga_term_t *pattern,
                             const pga_term_t *mfa);

#endif
