/* Telemetry (ops-plane.md §6): the library's 30 events, a handler table
 * keyed by handler id, and delivery of each event to BEAM subscribers
 * (pids, funs run on their home node, {m, f} applied on the attaching
 * node). Sits above rpc and below the gateway planes: the config and
 * request planes emit, the ops plane serves PhoenixGenApi.Telemetry and
 * the attach/detach functions over RPC.
 *
 * Invariants:
 *   1. Emitting never blocks and never fails the caller: with no handler
 *      attached to an event, pga_telemetry_wants() is one atomic load and
 *      the caller builds no terms. Delivery is asynchronous (queued to the
 *      loop thread), FIFO per handler, bounded (10 000 queued events per
 *      handler; the excess is dropped and counted).
 *   2. Any thread may emit. Handler-table changes are serialised.
 *   3. A NULL pga_telemetry_t is valid everywhere and does nothing (unit
 *      tests, planes started without telemetry). */
#ifndef PGA_TELEMETRY_TELEMETRY_H
#define PGA_TELEMETRY_TELEMETRY_H

#include <stddef.h>
#include <stdint.h>

#include "pga/node.h"
#include "pga/term.h"

/* §6.1, in list_events/0 order. Append only. */
typedef enum {
  PGA_EV_EXECUTOR_REQUEST_START = 0,
  PGA_EV_EXECUTOR_REQUEST_STOP,
  PGA_EV_EXECUTOR_REQUEST_EXCEPTION,
  PGA_EV_EXECUTOR_RETRY,
  PGA_EV_EXECUTOR_RETRY_EXHAUSTED,
  PGA_EV_RATE_LIMITER_CHECK,
  PGA_EV_RATE_LIMITER_EXCEEDED,
  PGA_EV_RATE_LIMITER_RESET,
  PGA_EV_RATE_LIMITER_CLEANUP,
  PGA_EV_HOOK_BEFORE_START,
  PGA_EV_HOOK_BEFORE_STOP,
  PGA_EV_HOOK_BEFORE_EXCEPTION,
  PGA_EV_HOOK_AFTER_START,
  PGA_EV_HOOK_AFTER_STOP,
  PGA_EV_HOOK_AFTER_EXCEPTION,
  PGA_EV_WORKER_POOL_TASK_START,
  PGA_EV_WORKER_POOL_TASK_STOP,
  PGA_EV_WORKER_POOL_TASK_EXCEPTION,
  PGA_EV_WORKER_POOL_TASK_REJECTED,
  PGA_EV_WORKER_POOL_CIRCUIT_BREAKER_OPEN,
  PGA_EV_WORKER_POOL_CIRCUIT_BREAKER_CLOSE,
  PGA_EV_CONFIG_PULL_START,
  PGA_EV_CONFIG_PULL_STOP,
  PGA_EV_CONFIG_PUSH,
  PGA_EV_CONFIG_ADD,
  PGA_EV_CONFIG_BATCH_ADD,
  PGA_EV_CONFIG_DELETE,
  PGA_EV_CONFIG_CLEAR,
  PGA_EV_CONFIG_DISABLE,
  PGA_EV_CONFIG_ENABLE,
  PGA_EV_COUNT /* 30 */
} pga_event_t;

typedef struct pga_telemetry_s pga_telemetry_t;

/* Creates the telemetry of node and registers its RPC functions
 * (PhoenixGenApi.Telemetry, the attach/detach functions of PhoenixGenApi,
 * Executor and RateLimiter). Before pga_node_run; before the planes that
 * emit. 0, or a negative PGA_E* with err filled. */
int pga_telemetry_start(pga_node_t *node, char *err, size_t errlen);
/* After pga_node_run returned; after the planes that emit stopped. */
void pga_telemetry_stop(pga_node_t *node);
/* The telemetry started on node, or NULL. */
pga_telemetry_t *pga_telemetry_of(pga_node_t *node);

/* The event's name segments after :phoenix_gen_api (e.g. "executor",
 * "request", "start"), NULL-terminated; NULL for an unknown event. */
const char *const *pga_telemetry_event_name(pga_event_t ev);

/* 1 if at least one handler is attached to ev (cheap; build the maps only
 * then). 0 for a NULL t. */
int pga_telemetry_wants(const pga_telemetry_t *t, pga_event_t ev);

/* Emits ev with two map terms (copied; the caller keeps its buffers).
 * Any thread. Never blocks; a NULL t or no handler does nothing. */
void pga_telemetry_emit(pga_telemetry_t *t, pga_event_t ev,
                        const pga_term_t *measurements,
                        const pga_term_t *metadata);

/* Clocks used in measurements: system_time in ns since the epoch
 * (native units), durations in us from a monotonic clock. */
int64_t pga_telemetry_system_time(void);
int64_t pga_telemetry_monotonic_us(void);

#endif
