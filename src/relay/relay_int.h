/* Shared by the relay's files: one relay per node, its model behind one
 * lock, and the process that owns the monitors and sends the messages.
 *
 * Invariants:
 *   1. Every served function is PGA_FN_INLINE, and DOWN, nodedown and
 *      timers run on the loop thread too: all mutations happen there, in
 *      order. The lock only lets pga_relay_status read from other threads.
 *   2. Nothing is sent and no monitor is set while the lock is held: a
 *      local recipient's on_message, or a nodedown observer run by a send,
 *      may come back into the relay. */
#ifndef PGA_RELAY_RELAY_INT_H
#define PGA_RELAY_RELAY_INT_H

#include <pthread.h>

#include "dist/dist.h"
#include "relay/groups.h"
#include "relay/relay.h"
#include "rpc/rpc.h"

typedef struct relay_s relay_t;

/* What a registered module's functions get as udata. */
typedef struct relay_mod_s {
  relay_t *relay;
  int guarded; /* PhoenixGenApi.Relay: argument types else function_clause */
} relay_mod_t;

struct relay_s {
  pga_node_t *node;
  pga_rpc_t *rpc;
  pga_dist_t *d;
  pga_loop_t *loop;
  pga_proc_t *proc;       /* monitor owner and message sender */
  pthread_mutex_t lock;
  pga_relay_model_t *model;
  uint64_t sweep_timer;   /* DOWN for pids that cannot be monitored */
  relay_mod_t mods[2];
  relay_t *next;
};

/* The relay of a node, or NULL (loop thread, or under no lock for
 * pointer identity only). */
relay_t *pga__relay_of(pga_node_t *node);

/* ---- monitor.c ---- */

/* Fills mon for pid (a fresh reference, the pid's node or local id, the
 * connection to watch it on). ep holds the node name mon points to. */
void pga__relay_mon_prepare(relay_t *r, const pga_term_t *pid,
                            erlang_pid *ep, pga_relay_mon_t *mon);
/* After a successful join: sends MONITOR_P, or arms the sweep that fires
 * the DOWN of a pid that cannot be watched (dead local process, no
 * connection). */
void pga__relay_mon_start(relay_t *r, const pga_relay_mon_t *mon);
/* Demonitors and frees an entry taken out of the table (NULL: nothing). */
void pga__relay_mon_drop(relay_t *r, pga_relay_monent_t *e);
/* The relay process and the nodedown observer. */
int pga__relay_mon_init(relay_t *r);
void pga__relay_mon_fini(relay_t *r);

/* ---- deliver.c ---- */

/* handle_relay/2 and the executor's :local shapes (see deliver.c). */
pga_outcome_t pga__relay_handle(relay_t *r, size_t argc,
                                const pga_term_t *argv, pga_tb_t *out);

/* ---- relay_rpc.c ---- */

int pga__relay_rpc_register(relay_t *r);

/* Wall clock, µs since the Unix epoch. */
int64_t pga__relay_now_us(void);

#endif
