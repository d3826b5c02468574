/* Folder-private: the puller's round machinery shared by puller.c (state,
 * schedule, rounds) and pull.c (one service's pull), and the pure
 * functions the unit tests check (schedule, round outcome, node
 * resolution, version equality). */
#ifndef PGA_CONFIG_PULLER_INT_H
#define PGA_CONFIG_PULLER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "base/loop.h"
#include "config/plane_int.h"

/* Fixed constants of spec §8. */
#define PGA_PULL_FIRST_DELAY_MS 1000
#define PGA_PULL_BACKOFF_CAP_MS 300000
#define PGA_PULL_DEADLINE_EXTRA_MS 1000
#define PGA_PULL_DEFAULT_INTERVAL_MS 30000
#define PGA_PULL_DEFAULT_TIMEOUT_MS 5000
/* Most nodes one service is pulled from (a resolved list is cut here). */
#define PGA_PULL_MAX_NODES 64

/* ---- pure functions (unit-tested) ---- */

/* §5.2: the delay before the next round. failures 0 -> interval, else
 * min(interval * 2^failures, 300000) (the cap applies even when the
 * interval itself is larger). Can't fail. */
uint64_t pga_puller_next_delay(uint64_t interval_ms, uint64_t failures);
/* §5.2: a round succeeds iff fewer services failed than there are (an
 * empty round succeeds). */
int pga_puller_round_ok(size_t failed, size_t total);
/* §5.2: the failure count after a round. Can't fail (saturates). */
uint64_t pga_puller_next_failures(uint64_t failures, int round_ok);
/* §5.3 step 2: Erlang `==` for version terms: numbers compare by value
 * (1 == 1.0), inside tuples and lists too; everything else by exact term
 * (docs/compat.md C17). */
int pga_puller_version_equal(const pga_term_t *a, const pga_term_t *b);
/* §5.3 step 1 for a list: the atoms of `nodes` in order (binaries and
 * everything else dropped), at most max of them, as NUL-terminated
 * strings in one malloc'ed block (free(*out)). Returns the count; 0 for a
 * non-list. -1 on ENOMEM. */
int pga_puller_list_nodes(const pga_term_t *nodes, size_t max, char ***out);

/* ---- the outgoing-call seam ---- */

/* How the puller calls service nodes: pga_rpc_call on the node in
 * production, a scripted fake in unit tests (STYLE 24: fault paths by
 * hooks). call: 0 and cb later exactly once on the loop thread (never
 * inside call), or a negative PGA_E* and cb never. timeout_ms 0 never
 * reaches call (pull_timeout 0 fails the call locally, C18). */
typedef void (*pga_puller_reply_fn)(void *ud, const pga_term_t *result);
typedef struct pga_puller_io_s {
  int (*call)(void *io_ud, const char *node, const char *module,
              const char *function, const pga_term_t *args,
              unsigned timeout_ms, pga_puller_reply_fn cb, void *cb_ud,
              uint64_t *call_id);
  void (*cancel)(void *io_ud, uint64_t call_id);
  void *ud;
} pga_puller_io_t;

/* Starts rounds on loop through io: the first after first_delay_ms. Call
 * once, from the loop's thread (or before it runs). */
void pga__puller_attach(pga_puller_t *pl, pga_loop_t *loop,
                        const pga_puller_io_t *io, int64_t first_delay_ms);
/* Runs a round now (or right after the running one), as pull/0 and
 * force_pull/0 do, rescheduling the single timer. Loop thread only. */
void pga__puller_request(pga_puller_t *pl, int force);
/* Called after each round on the loop thread (tests): ok, failed
 * services, total services, and the delay armed for the next round. */
typedef void (*pga_puller_round_hook)(void *ud, int ok, size_t failed,
                                      size_t total, uint64_t next_delay);
void pga__puller_set_round_hook(pga_puller_t *pl, pga_puller_round_hook fn,
                                void *ud);

/* Lock held: a successful pull's state update (§5.3 step 5):
 * api_list[svc] := api (a list) and, unless version is NULL, the stored
 * version := *version. Nothing happens when svc is no longer registered
 * (deleted while the round ran: the delete counts as after the round).
 * 0 or PGA_ENOMEM. */
int pga__puller_set_result(pga_puller_t *pl, const pga_term_t *svc,
                           const pga_term_t *api, const pga_term_t *version);

/* ---- one service's pull (pull.c) ---- */

typedef struct pga_pull_job_s pga_pull_job_t;
typedef struct pga_round_s pga_round_t;

/* Shared by the jobs of one round. */
typedef struct pga_pull_ctx_s {
  pga_config_plane_t *plane;
  pga_loop_t *loop;
  const pga_puller_io_t *io;
  unsigned timeout_ms;  /* pull_timeout */
  int timeout_zero;     /* pull_timeout 0: every call fails at once */
  /* §5.3 step 1: the nodes of a ServiceConfig's `nodes` term, as from
   * pga_puller_list_nodes (count, -1 on ENOMEM). */
  int (*resolve)(void *ud, const pga_term_t *nodes, char ***out);
  /* A job ends: failed 0/1. The job is freed by its round later. */
  void (*done)(void *ud, pga_pull_job_t *job, int failed);
  void *ud;
} pga_pull_ctx_t;

/* A job for sc (copied) with the stored version (NULL = never stored).
 * NULL on ENOMEM. */
pga_pull_job_t *pga_pull_job_new(const pga_pull_ctx_t *ctx,
                                 const pga__rec_t *sc,
                                 const pga_term_t *stored_version);
/* Resolves the nodes and starts it; ctx->done may run inside this call
 * (no nodes, args not a list). */
void pga_pull_job_start(pga_pull_job_t *job);
/* Cancels whatever is in flight (timers, the call) and frees it. */
void pga_pull_job_free(pga_pull_job_t *job);
/* The service term and, for a failed job, its reason as text (for logs);
 * "" otherwise. */
pga_term_t pga_pull_job_service(const pga_pull_job_t *job);
const char *pga_pull_job_reason(const pga_pull_job_t *job);

#endif
