/* Folder-private interfaces of the diagnostics areas (ops-plane.md §4.1-
 * §4.6, §4.9, §5): the pseudo-processes that stand for the library's
 * named processes, the figures read from /proc/self, the state behind the
 * "since last call" counters, the loop-thread snapshot of the
 * distribution, and the builders each served function and print helper
 * share. */
#ifndef PGA_OPS_DIAG_H
#define PGA_OPS_DIAG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ops/ops_int.h"
#include "request/plane.h"

/* ---- pseudo-processes (health.c) ---- */

/* The library's named processes; the C node answers for each with one
 * stable pid minted at start (§4.9). */
enum {
  PGA_SUB_SUPERVISOR = 0,
  PGA_SUB_CONFIG_DB,
  PGA_SUB_CONFIG_PULLER,
  PGA_SUB_CONFIG_RECEIVER,
  PGA_SUB_CONFIG_FAILED,
  PGA_SUB_RELAY_REGISTRY,
  PGA_SUB_RELAY_SERVER,
  PGA_SUB_POOL_SUPERVISOR,
  PGA_SUB_ASYNC_POOL,
  PGA_SUB_STREAM_POOL,
  PGA_SUB_LIMITER_SUPERVISOR,
  PGA_SUB_LIMITER_INSTANCE,
  PGA_SUB_COUNT
};

typedef struct pga_ops_sub_s {
  const char *name;      /* registered name atom */
  const char *shown;     /* inspect(name), the health check's string */
  const char *subsystem; /* current_function {:c_node, subsystem, 0} */
  const char *check;     /* key in health's checks, or NULL */
} pga_ops_sub_t;

extern const pga_ops_sub_t pga__ops_subs[PGA_SUB_COUNT];

/* What runs now, read once per served call (any thread). */
typedef struct pga_ops_live_s {
  int config_up, relay_up, limiter_up, request_up;
  int pool_up[2]; /* PGA_POOL_ASYNC, PGA_POOL_STREAM */
  pga_pool_status_t pool[2];
  pga_request_stats_t req;
} pga_ops_live_t;

void pga__ops_live_read(pga_ops_t *ops, pga_ops_live_t *lv);
int pga__ops_sub_running(const pga_ops_live_t *lv, int sub);
/* The 8 supervised subsystems of §4.9 that run now. */
unsigned pga__ops_children_running(const pga_ops_live_t *lv);
#define PGA_OPS_CHILDREN 8

/* Status atoms, worst first: "error" > "degraded" > "ok". */
const char *pga__ops_worst(const char *a, const char *b);
/* The status atom of a map term's :status key ("ok" when absent). */
const char *pga__ops_status_of(const pga_term_t *map);

/* ---- "since last call" state (health.c, under ops->lock) ---- */

typedef struct pga_ops_diag_s {
  uint64_t pid_ids[PGA_SUB_COUNT];
  _Atomic uint64_t dropped[PGA_SUB_COUNT]; /* messages each pid dropped */
  int64_t last_wall_ms;
  int64_t last_runtime_ms;
  uint64_t last_reductions;
  uint64_t last_exact_reductions;
} pga_ops_diag_t;

/* ---- the processes behind those pids (subproc.c) ---- */

/* One process of the node per named process, ids into st->pid_ids. Runs
 * before the loop does. 0 or PGA_ENOMEM. */
int pga__ops_sub_procs_start(pga_ops_t *ops, pga_ops_diag_t *st);

/* {total, total - last}; stores total as the new last. */
typedef enum {
  PGA_LAST_WALL,
  PGA_LAST_RUNTIME,
  PGA_LAST_REDUCTIONS,
  PGA_LAST_EXACT
} pga_last_kind_t;
void pga__ops_put_since_last(pga_ops_t *ops, pga_tb_t *tb,
                             pga_last_kind_t kind, int64_t total);

/* ---- VM figures (vm.c) ---- */

typedef struct pga_ops_vm_s {
  uint64_t rss_bytes;
  uint64_t text_bytes;
  uint64_t cpu_ms;       /* user + system */
  uint64_t ctx_switches; /* voluntary + involuntary */
  uint64_t threads;
  uint64_t sockets;      /* open socket descriptors */
} pga_ops_vm_t;

/* Parsers of /proc/self/status and /proc/self/stat text (pure). Fields
 * not found keep their value. 0, or PGA_EINVAL for text they cannot use. */
int pga__ops_parse_status(const char *text, pga_ops_vm_t *vm);
int pga__ops_parse_stat(const char *text, long ticks_per_s, uint64_t *cpu_ms);
/* Reads the figures of this process (getrusage where /proc is missing). */
void pga__ops_vm_read(pga_ops_vm_t *vm);

/* The figures of the VM sections that several results share. */
typedef struct pga_ops_vmfig_s {
  pga_ops_vm_t vm;
  uint64_t process_count, process_limit, schedulers;
  uint64_t heap_bytes, heap_used_bytes; /* allocator's view */
  uint64_t binary_bytes;                /* queued for peers */
  uint64_t ets_count;
} pga_ops_vmfig_t;

struct pga_ops_snap_s;
void pga__ops_vmfig(pga_ops_t *ops, const pga_ops_live_t *lv,
                    const struct pga_ops_snap_s *snap, pga_ops_vmfig_t *f);
/* The nine-key memory map of §4.1. */
void pga__ops_put_memory(pga_tb_t *tb, const pga_ops_vmfig_t *f);
#define PGA_OPS_PROCESS_LIMIT 262144u

/* ---- distribution snapshot (cluster.c) ---- */

typedef struct pga_ops_name_s {
  char *name;
  uint64_t pid_id;
} pga_ops_name_t;

typedef struct pga_ops_snap_s {
  char **connected;      /* published peers with an up connection, sorted */
  size_t nconnected;
  size_t conns_up;       /* hidden peers too */
  uint64_t queued_bytes; /* written to no socket yet */
  pga_ops_name_t *names; /* our registered processes, sorted by name */
  size_t nnames;
  /* with remote calls: per connected node, the rpc results */
  pga_tb_t **registered;
  pga_tb_t **services;
} pga_ops_snap_t;

/* Takes the snapshot on the loop thread and waits for it (worker
 * functions only); with remote, also asks every connected node for
 * :erlang.registered/0 and ConfigDb.get_all_services/0, 2 s each, in
 * parallel. NULL on ENOMEM, cancellation or a loop that does not answer. */
pga_ops_snap_t *pga__ops_snapshot(pga_ops_t *ops, pga_call_t *call,
                                  int remote);
void pga__ops_snapshot_free(pga_ops_snap_t *s);
/* Writes the connected list ([atom]). */
void pga__ops_put_connected(pga_tb_t *tb, const pga_ops_snap_t *s);

/* ---- results (health.c, stats.c, debug.c, cluster.c) ---- */

/* Each writes the function's value into out: PGA_RETURN, or the
 * library's crash (function_clause for bad opts) / {:badrpc}-bound
 * error otherwise. */
pga_outcome_t pga__ops_health(pga_ops_t *ops, pga_call_t *call,
                              const pga_term_t *opts, pga_tb_t *out);
pga_outcome_t pga__ops_statistics(pga_ops_t *ops, pga_call_t *call,
                                  pga_tb_t *out);
pga_outcome_t pga__ops_debug_report(pga_ops_t *ops, pga_call_t *call,
                                    const pga_term_t *opts, pga_tb_t *out);
pga_outcome_t pga__ops_cluster_view(pga_ops_t *ops, pga_call_t *call,
                                    pga_tb_t *out);
void pga__ops_put_trace_status(pga_ops_t *ops, pga_tb_t *tb);
/* A process summary (§4.1) of a pseudo-process. */
void pga__ops_put_summary(pga_ops_t *ops, pga_tb_t *tb, int sub,
                          const pga_ops_live_t *lv, int with_stack);
/* A table_info map (§4.9) or %{exists: false} when exists is 0. */
void pga__ops_put_table_info(pga_ops_t *ops, pga_tb_t *tb, int exists,
                             const char *name, uint64_t size,
                             uint64_t bytes, uint64_t owner_pid_id);
/* %{status: :error, reason: :not_started}. */
void pga__ops_put_not_started(pga_tb_t *tb);

/* ---- text (diag_print.c): pure renderings of the result terms ---- */
void pga__ops_render_health(pga_ops_text_t *t, const pga_term_t *report);
void pga__ops_render_stats(pga_ops_text_t *t, const pga_term_t *stats);
void pga__ops_render_debug(pga_ops_text_t *t, const pga_term_t *report,
                           const pga_term_t *process_limit);
void pga__ops_render_cluster(pga_ops_text_t *t, const pga_term_t *view);

#endif
