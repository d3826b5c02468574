/* Native-or-remote invocations (docs/compat.md R14, R15; inv_t in
 * exec_int.h): hooks, local permission callbacks and local functions run
 * as a registered C function on the worker pool, else by RPC, bounded by
 * a timer either way. */
#include "config.h"

#include <stdlib.h>

#include "request/exec_int.h"

void pga__ex_inv_free(inv_t *v) {
  plane_t *pl = v->pl;
  if (v->call_id) pga_rpc_call_cancel(pl->rpc, v->call_id);
  if (v->timer) pga_loop_timer_cancel(pl->loop, v->timer);
  if (v->prev) v->prev->next = v->next;
  else pl->invs = v->next;
  if (v->next) v->next->prev = v->prev;
  pga__tb_destroy(&v->early);
  free(v);
}

/* Detaches the owner, runs its done (which must forget v first: it may
 * free the owner), then frees v unless a native job still runs. */
static void inv_fire(inv_t *v, const pga_term_t *result) {
  void *owner = v->owner;
  inv_done_fn done = v->done;
  v->owner = NULL;
  if (v->timer) pga_loop_timer_cancel(v->pl->loop, v->timer);
  v->timer = 0;
  if (owner) done(owner, result);
  if (!v->native) pga__ex_inv_free(v);
}

/* The owner goes first: v's result will not be seen. */
void pga__ex_inv_abandon(inv_t *v) {
  v->owner = NULL;
  if (v->timer) pga_loop_timer_cancel(v->pl->loop, v->timer);
  v->timer = 0;
  if (!v->native) pga__ex_inv_free(v);
}

static void inv_call_done(void *ud, const pga_term_t *result) {
  inv_t *v = ud;
  v->call_id = 0;
  inv_fire(v, result);
}

static int64_t inv_timeout(pga_loop_t *loop, uint64_t id, void *ud) {
  inv_t *v = ud;
  (void)loop, (void)id;
  v->timer = 0;
  if (v->have_early) {
    pga_term_t r = pga_tb_data(&v->early);
    v->native = 0;
    inv_fire(v, &r);
    return PGA_TIMER_NOMORE;
  }
  inv_fire(v, NULL);
  return PGA_TIMER_NOMORE;
}

static void inv_job_done(void *ud, const pga_term_t *result) {
  inv_t *v = ud;
  if (v->starting) { /* inside pga_rpc_run: report from a 0 ms timer */
    pga_tb_term(&v->early, result);
    v->have_early = 1;
    return;
  }
  v->native = 0;
  if (v->owner) inv_fire(v, result);
  else pga__ex_inv_free(v);
}

/* Runs m:f(args): natively when {m, f, length(args)} is registered (or
 * native_only), else by rpc on node. timeout_ms 0 = none. 0, or a
 * negative PGA_E* (done never runs; no native function with native_only
 * gives PGA_ENOTFOUND). */
int pga__ex_inv_start(plane_t *pl, void *owner, inv_done_fn done,
                      void (*drop)(void *), const char *node, const char *m,
                      const char *f, const pga_term_t *args, size_t argc,
                      unsigned timeout_ms, int native_only, inv_t **out) {
  inv_t *v = calloc(1, sizeof *v);
  int rc;
  if (!v) return PGA_ENOMEM;
  v->pl = pl;
  v->owner = owner;
  v->done = done;
  v->drop = drop;
  pga__tb_init(&v->early, 0);
  v->next = pl->invs;
  if (pl->invs) pl->invs->prev = v;
  pl->invs = v;
  if (pga_rpc_lookup(pl->rpc, m, f, (unsigned)argc)) {
    v->native = v->starting = 1;
    rc = pga_rpc_run(pl->rpc, NULL, NULL, NULL, m, f, args, inv_job_done, v);
    v->starting = 0;
    if (rc != 0) v->native = 0;
    else if (v->have_early) timeout_ms = 0, v->native = 0;
    if (rc == 0 && (timeout_ms || v->have_early)) {
      v->timer = pga_loop_timer(pl->loop, timeout_ms, inv_timeout, v);
      if (!v->timer && v->have_early) rc = PGA_ENOMEM;
    }
  } else if (native_only) {
    rc = PGA_ENOTFOUND;
  } else {
    rc = pga_rpc_call(pl->rpc, node, m, f, args, timeout_ms, inv_call_done,
                      v, &v->call_id);
  }
  if (rc != 0) {
    v->call_id = 0;
    if (v->native) v->owner = NULL; /* the job reports later */
    else pga__ex_inv_free(v);
    return rc;
  }
  *out = v;
  return 0;
}
