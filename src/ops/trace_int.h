/* Tracing internals (ops-plane.md §9): the argument checks of
 * trace_processes/trace_functions/stop_trace* as pure functions
 * (trace_args.c), the trace messages' terms and rate cap (trace_msg.c;
 * both unit-tested), the stored state (trace.c), the request-plane
 * observer that sends the messages (trace_send.c) and the tracers'
 * monitors (trace_watch.c). */
#ifndef PGA_OPS_TRACE_INT_H
#define PGA_OPS_TRACE_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

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

/* ---- trace messages (trace_msg.c) ---- */

/* {:trace, pid, what, a} or {:trace, pid, what, a, b} (b NULL: absent);
 * with ts_us >= 0 (wall-clock microseconds) :trace_ts and a trailing
 * {mega, sec, micro}. */
void pga_ops_trace_msg(pga_tb_t *tb, const pga_term_t *pid, const char *what,
                       const pga_term_t *a, const pga_term_t *b,
                       int64_t ts_us);
/* {:phoenix_gen_api, phase, [request_id]} (request_id .buf NULL: nil). */
void pga_ops_trace_phase_call(pga_tb_t *tb, const char *phase,
                              const pga_term_t *request_id);
/* {m, f, third} from an {m, f, ...} tuple; -1 if mfa is not one. */
int pga_ops_trace_mfa_with(pga_tb_t *tb, const pga_term_t *mfa,
                           const pga_term_t *third);
/* 1 if the flag list holds the atom flag. */
int pga_ops_trace_has_flag(const pga_term_t *flags, const char *flag);
/* 1 if a match spec holds the action {:return_trace} (depth-bounded). */
int pga_ops_trace_spec_returns(const pga_term_t *match_spec);

/* Per-tracer cap (§9.2): messages in the current one-second window. */
#define PGA_OPS_TRACE_RATE_MAX 1000
typedef struct pga_ops_trace_rate_s {
  int64_t window_ms; /* start of the window */
  unsigned sent;
  uint64_t dropped; /* in total */
} pga_ops_trace_rate_t;
/* 1 if one more message may go at now_ms, else 0 (counted as dropped). */
int pga_ops_trace_rate_admit(pga_ops_trace_rate_t *r, int64_t now_ms);

/* ---- stored state (trace.c); ops->trace ---- */

#define PGA_OPS_TRACE_ENTRIES_MAX 1024 /* per kind; the oldest goes first */

typedef struct pga_ops_trace_entry_s {
  /* procs: {tracer, flags, target};
   * funcs: {tracer, {match_spec, flags, return_from?}, mfa pattern} */
  char *buf;
  size_t len;
} pga_ops_trace_entry_t;

typedef struct pga_ops_trace_vec_s {
  pga_ops_trace_entry_t v[PGA_OPS_TRACE_ENTRIES_MAX];
  size_t n;
} pga_ops_trace_vec_t;

typedef struct pga_ops_trace_watch_s pga_ops_trace_watch_t;

typedef struct pga_ops_trace_s {
  uint64_t default_tracer; /* stands for the library's rpc worker pid */
  /* ops->lock */
  pga_ops_trace_vec_t procs;
  pga_ops_trace_vec_t funcs;
  int sync_posted; /* a tracer sync is queued on the loop */
  /* any entry at all: the observer's fast path (any thread) */
  atomic_int active;
  pga_ops_trace_watch_t *watch; /* loop thread (trace_watch.c) */
} pga_ops_trace_t;

/* Entries changed (call without ops->lock): updates `active` and queues a
 * tracer sync on the loop. */
void pga__ops_trace_changed(pga_ops_t *ops);
/* Removes every entry of tracer (takes ops->lock); their number. */
size_t pga__ops_trace_forget(pga_ops_t *ops, const pga_term_t *tracer);
/* The distinct tracers of all entries as a list into tb (takes ops->lock;
 * the queued sync is consumed). */
void pga__ops_trace_tracers(pga_ops_t *ops, pga_tb_t *tb);

/* ---- the observer (trace_send.c) ---- */

/* Registers/unregisters the ops plane as the request plane's observer. */
int pga__ops_trace_observe(pga_ops_t *ops);
void pga__ops_trace_unobserve(pga_ops_t *ops);

/* ---- tracers (trace_watch.c); loop thread unless said ---- */

/* Makes the watcher process (its pid is every request's :spawn parent). */
int pga__ops_trace_watch_init(pga_ops_t *ops);
void pga__ops_trace_watch_fini(pga_ops_t *ops);
/* Any thread: queues a sync that monitors new tracers, forgets tracers
 * without entries and clears the entries of tracers that cannot be
 * monitored (not a remote pid). 0 or PGA_ENOMEM. */
int pga__ops_trace_watch_post(pga_ops_t *ops);
/* The watcher's pid id (0 when there is none). */
uint64_t pga__ops_trace_parent(pga_ops_t *ops);
/* Whether one more message may go to tracer now (the per-tracer cap). */
int pga__ops_trace_admit(pga_ops_t *ops, const pga_term_t *tracer);

#endif
