/* The relay's monitors (ops-plane.md §7.5): MONITOR_P on every joined
 * channel pid, DOWN and connection loss (DOWN :noconnection) make the
 * member leave, explicit leaves demonitor. Loop thread only. */
#include "config.h"

#include <string.h>

#include "base/log.h"
#include "relay/relay_int.h"
#include "term/term.h"

void pga__relay_mon_prepare(relay_t *r, const pga_term_t *pid,
                            erlang_pid *ep, pga_relay_mon_t *mon) {
  pga_tb_t tb;
  memset(mon, 0, sizeof *mon);
  memset(ep, 0, sizeof *ep);
  pga_dist_make_ref(r->d, &mon->ref);
  pga__tb_init(&tb, 0);
  pga__tb_ref(&tb, &mon->ref);
  pga_term_t ref = pga_tb_data(&tb);
  mon->ref_id = pga_dist_local_ref_id(r->d, &ref);
  pga__tb_destroy(&tb);
  mon->pid = *pid;
  mon->node = ep->node;
  if (pga__term_get_pid(pid, ep) != 0) return; /* checked by the caller */
  mon->local_pid = pga_dist_local_pid_id(r->d, pid);
  if (mon->local_pid) return;
  /* may start a connection: the caller's node is normally up already */
  pga_conn_t *c = pga_dist_conn_get(r->d, ep->node);
  mon->conn_id = c ? pga_conn_id(c) : 0;
}

/* A monitor nobody can set: its pid is a dead local process, or its
 * node cannot be reached (the BEAM's immediate DOWN :noproc). */
static int unwatchable(const pga_relay_mon_t *mon, const void *ud) {
  const relay_t *r = ud;
  if (mon->local_pid) return pga_proc_by_id(r->d, mon->local_pid) == NULL;
  return mon->conn_id == 0 || pga_dist_conn_by_id(r->d, mon->conn_id) == NULL;
}

/* Deferred like a DOWN message, so the join's reply comes first. */
static int64_t sweep(pga_loop_t *loop, uint64_t id, void *ud) {
  relay_t *r = ud;
  (void)loop, (void)id;
  r->sweep_timer = 0;
  pthread_mutex_lock(&r->lock);
  size_t n = pga_relay_down_where(r->model, unwatchable, r);
  pthread_mutex_unlock(&r->lock);
  if (n) pga_debug("relay: %zu member(s) with unwatchable pids left", n);
  return PGA_TIMER_NOMORE;
}

static void arm_sweep(relay_t *r) {
  if (!r->sweep_timer) r->sweep_timer = pga_loop_timer(r->loop, 0, sweep, r);
}

void pga__relay_mon_start(relay_t *r, const pga_relay_mon_t *mon) {
  if (unwatchable(mon, r)) {
    arm_sweep(r);
    return;
  }
  if (mon->local_pid) return; /* watched through pga_relay_session_ended */
  pga_conn_t *c = pga_dist_conn_by_id(r->d, mon->conn_id);
  if (!c || pga_dist_monitor(r->d, r->proc, c, &mon->pid, &mon->ref) != 0)
    arm_sweep(r);
}

void pga__relay_mon_drop(relay_t *r, pga_relay_monent_t *e) {
  if (!e) return;
  const pga_relay_mon_t *mon = pga_relay_monent_mon(e);
  pga_conn_t *c = mon->local_pid ? NULL
                                 : pga_dist_conn_by_id(r->d, mon->conn_id);
  if (c && pga_conn_is_up(c))
    pga_dist_demonitor(r->d, r->proc, c, &mon->pid, &mon->ref);
  pga_relay_monent_free(e);
}

/* ---- the relay process ---- */

static void on_down(pga_proc_t *p, pga_conn_t *c, const pga_term_t *ref,
                    const pga_term_t *reason) {
  relay_t *r = pga_proc_data(p);
  (void)c, (void)reason;
  uint64_t id = pga_dist_local_ref_id(r->d, ref);
  if (!id) return;
  pthread_mutex_lock(&r->lock);
  pga_relay_down(r->model, id); /* unknown refs are ignored */
  pthread_mutex_unlock(&r->lock);
}

/* The relay answers no messages and ignores exit signals (no callbacks):
 * like the library's RelayServer it is not linked to anything it could
 * die of. */
static const pga_proc_ops_t relay_ops = {.on_down = on_down};

/* Monitors on that node's pids are gone with the connection: each is a
 * DOWN :noconnection. ud is the node, so a stopped relay is not used. */
static void on_nodedown(void *ud, pga_conn_t *c) {
  relay_t *r = pga__relay_of(ud);
  if (!r) return;
  pthread_mutex_lock(&r->lock);
  pga_relay_down_node(r->model, pga_conn_node(c));
  pthread_mutex_unlock(&r->lock);
}

int pga__relay_mon_init(relay_t *r) {
  r->proc = pga_proc_new(r->d, &relay_ops, r);
  if (!r->proc) return PGA_ENOMEM;
  return pga_dist_on_nodedown(r->d, on_nodedown, r->node);
}

/* After pga_node_run the dist layer has freed every process; before it
 * (failed start) pga_node_free does. Only the timer is ours to end. */
void pga__relay_mon_fini(relay_t *r) {
  if (r->sweep_timer) pga_loop_timer_cancel(r->loop, r->sweep_timer);
  r->sweep_timer = 0;
  r->proc = NULL;
}
