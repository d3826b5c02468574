/* The request plane's observer (plane.h): the pipeline reports each
 * request's start, phases, target call and end, and the ops plane turns
 * them into trace messages (ops-plane.md §9.2). Loop thread. Nothing is
 * built here: with no observer each report is one test; the observer
 * itself returns at once when nothing is traced. */
#include "config.h"

#include "request/exec_int.h"

int pga_request_plane_set_observer(pga_node_t *node,
                                   const pga_request_observer_t *obs,
                                   void *ud) {
  plane_t *pl = pga__ex_plane_of(node);
  if (!pl) return PGA_ENOTFOUND;
  pl->obs = obs ? *obs : (pga_request_observer_t){0};
  pl->obs_ud = obs ? ud : NULL;
  return 0;
}

static pga_request_probe_t probe_of(exec_t *e, pga_term_t *rq) {
  *rq = pga_tb_data(&e->reqtb);
  return (pga_request_probe_t){&e->trace_pid, rq, &e->req.request_id};
}

void pga__ex_tr_start(exec_t *e) {
  pga_term_t rq;
  if (!e->pl->obs.on_start) return;
  pga_request_probe_t p = probe_of(e, &rq);
  e->pl->obs.on_start(e->pl->obs_ud, &p);
}

void pga__ex_tr_phase(exec_t *e, const char *phase) {
  pga_term_t rq;
  if (!e->pl->obs.on_phase) return;
  pga_request_probe_t p = probe_of(e, &rq);
  e->pl->obs.on_phase(e->pl->obs_ud, &p, phase);
}

void pga__ex_tr_selection(exec_t *e) {
  if (!e->local) pga__ex_tr_phase(e, "node_selection");
}

void pga__ex_tr_deliver(exec_t *e) {
  pga__ex_tr_phase(e, "hooks_after");
  pga__ex_tr_phase(e, "response");
}

void pga__ex_tr_call(exec_t *e, const pga_term_t *args) {
  pga_term_t rq, mfa;
  if (!e->pl->obs.on_call) return;
  if (pga_term_list_length(args, &e->trace_arity) != 0) e->trace_arity = 0;
  mfa = pga_funconfig_get(e->fc, PGA_FC_MFA);
  pga_request_probe_t p = probe_of(e, &rq);
  e->pl->obs.on_call(e->pl->obs_ud, &p, &mfa, args);
}

void pga__ex_tr_return(exec_t *e, const pga_term_t *result) {
  pga_term_t rq, mfa;
  if (!e->pl->obs.on_return) return;
  mfa = pga_funconfig_get(e->fc, PGA_FC_MFA);
  pga_request_probe_t p = probe_of(e, &rq);
  e->pl->obs.on_return(e->pl->obs_ud, &p, &mfa, e->trace_arity, result);
}

void pga__ex_tr_end(exec_t *e) {
  pga_term_t rq;
  if (!e->pl->obs.on_end) return;
  pga_request_probe_t p = probe_of(e, &rq);
  e->pl->obs.on_end(e->pl->obs_ud, &p);
}
