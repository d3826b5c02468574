/* Pid handlers are monitored (ops-plane.md §6.3 item 2): the telemetry
 * process holds one monitor per pid handler, and a DOWN or the loss of
 * the pid's node detaches the handler. Loop thread. */
#include "config.h"

#include <string.h>

#include "pga/errno.h"
#include "telemetry/telemetry_int.h"

static int monitored_by(void *ud, const pga_th_t *h) {
  return h->monitored && pga_dist_ref_equal(&h->mon, ud);
}

static void on_down(pga_proc_t *p, pga_conn_t *c, const pga_term_t *ref,
                    const pga_term_t *reason) {
  pga_telemetry_t *t = pga_proc_data(p);
  erlang_ref r;
  (void)c, (void)reason;
  if (pga__term_get_ref(ref, &r) == 0)
    (void)pga__tel_detach_if(t, monitored_by, &r);
}

static const pga_proc_ops_t ops = {.on_down = on_down};

static int pid_on_node(void *ud, const pga_th_t *h) {
  return h->kind == PGA_TH_PID && !strcmp(h->home, ud);
}

/* ud is the node: telemetry may have stopped when observers run. */
static void on_nodedown(void *ud, pga_conn_t *c) {
  pga_telemetry_t *t = pga_telemetry_of(ud);
  if (t) (void)pga__tel_detach_if(t, pid_on_node, (void *)pga_conn_node(c));
}

int pga__tel_watch_init(pga_telemetry_t *t) {
  t->proc = pga_proc_new(t->d, &ops, t);
  if (!t->proc) return PGA_ENOMEM;
  return pga_dist_on_nodedown(t->d, on_nodedown, t->node);
}

void pga__tel_watch(pga_telemetry_t *t, pga_th_t *h) {
  pga_term_t pid = pga__th_target(h);
  erlang_pid ep;
  pga_conn_t *c;
  if (h->kind != PGA_TH_PID || !t->d || !t->proc ||
      pga__term_get_pid(&pid, &ep) != 0 ||
      pga_dist_local_pid_id(t->d, &pid) != 0 ||
      !(c = pga_dist_conn_get(t->d, ep.node)))
    return;
  pga_dist_make_ref(t->d, &h->mon);
  if (pga_dist_monitor(t->d, t->proc, c, &pid, &h->mon) == 0) {
    h->mon_conn = pga_conn_id(c);
    h->monitored = 1;
  }
}

void pga__tel_unwatch(pga_telemetry_t *t, pga_th_t *h) {
  if (!h->monitored || !t->d || !t->proc) return;
  pga_conn_t *c = pga_dist_conn_by_id(t->d, h->mon_conn);
  pga_term_t pid = pga__th_target(h);
  if (c && pga_conn_is_up(c))
    (void)pga_dist_demonitor(t->d, t->proc, c, &pid, &h->mon);
  h->monitored = 0;
}
