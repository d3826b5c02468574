/* The ops plane object: creation from pga-node's settings, registration
 * of every area's functions, the node -> plane list behind
 * pga_ops_plane_start/stop, and the helpers the areas share. */
#include "ops/plane.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/file.h"
#include "ops/ops_int.h"
#include "pga/errno.h"

static const pga_ops_area_t *const areas[] = {
    &pga_ops_area_security, &pga_ops_area_diag,    &pga_ops_area_cluster,
    &pga_ops_area_callflow, &pga_ops_area_trace,   &pga_ops_area_limiter,
    &pga_ops_area_pools,    &pga_ops_area_failed,   &pga_ops_area_facade};
#define NAREAS (sizeof areas / sizeof *areas)

typedef struct binding_s {
  pga_ops_t *ops;
  const pga_ops_fn_def_t *def;
} binding_t;

typedef struct plane_s {
  pga_ops_t ops;
  binding_t *bindings;
  size_t inited; /* areas whose init ran */
  struct plane_s *next;
} plane_t;

static plane_t *planes; /* started before the loop runs */

static pga_outcome_t trampoline(pga_call_t *call, size_t argc,
                                const pga_term_t *argv, pga_tb_t *out) {
  const binding_t *b = pga_call_udata(call);
  (void)argc;
  return b->def->fn(b->ops, call, argv, out);
}

static int register_all(plane_t *pl) {
  size_t n = 0, k = 0;
  for (size_t a = 0; a < NAREAS; a++)
    for (const pga_ops_fn_def_t *d = areas[a]->fns; d && d->module; d++) n++;
  pl->bindings = calloc(n ? n : 1, sizeof *pl->bindings);
  if (!pl->bindings) return PGA_ENOMEM;
  for (size_t a = 0; a < NAREAS; a++) {
    for (const pga_ops_fn_def_t *d = areas[a]->fns; d && d->module; d++) {
      binding_t *b = &pl->bindings[k++];
      b->ops = &pl->ops;
      b->def = d;
      pga_fn_def_t def = {d->module, d->function, d->arity, trampoline,
                          d->flags, b, 0, {0}};
      int rc = pga_rpc_register(pl->ops.rpc, &def);
      if (rc != 0) return rc;
    }
  }
  return 0;
}

static void plane_free(plane_t *pl) {
  for (size_t a = pl->inited; a-- > 0;)
    if (areas[a]->fini) areas[a]->fini(&pl->ops);
  pthread_mutex_destroy(&pl->ops.lock);
  free(pl->bindings);
  free(pl);
}

static int init_areas(plane_t *pl, char *err, size_t errlen) {
  for (; pl->inited < NAREAS; pl->inited++) {
    const pga_ops_area_t *a = areas[pl->inited];
    int rc = a->init ? a->init(&pl->ops) : 0;
    if (rc != 0) {
      if (a->fini) a->fini(&pl->ops);
      snprintf(err, errlen, "ops plane: %s: %s", a->name, pga_strerror(rc));
      return rc;
    }
  }
  return 0;
}

int pga_ops_plane_start(pga_node_t *node, const pga_conffile_t *conf,
                        char *err, size_t errlen) {
  plane_t *pl = calloc(1, sizeof *pl);
  if (!pl) {
    snprintf(err, errlen, "ops plane: %s", pga_strerror(PGA_ENOMEM));
    return PGA_ENOMEM;
  }
  pga_ops_t *o = &pl->ops;
  pthread_mutex_init(&o->lock, NULL);
  o->node = node;
  o->rpc = pga__node_rpc(node);
  o->d = pga__node_dist(node);
  o->loop = pga__node_loop(node);
  o->cfg = pga_config_plane_of(node);
  o->started_mono_ms = pga__ops_mono_ms();
  if (conf) {
    o->admin_actions = conf->admin_actions;
    o->detail_error = conf->detail_error;
  }
  o->conf = conf;
  int rc = init_areas(pl, err, errlen);
  o->conf = NULL;
  if (rc == 0 && (rc = register_all(pl)) != 0)
    snprintf(err, errlen, "ops plane: registering functions: %s",
             pga_strerror(rc));
  if (rc != 0) {
    plane_free(pl);
    return rc;
  }
  pl->next = planes;
  planes = pl;
  return 0;
}

void pga_ops_plane_stop(pga_node_t *node) {
  plane_t **pp = &planes;
  while (*pp && (*pp)->ops.node != node) pp = &(*pp)->next;
  if (!*pp) return;
  plane_t *pl = *pp;
  *pp = pl->next;
  plane_free(pl);
}

/* ---- shared helpers ---- */

pga_ops_t *pga__ops_of(pga_node_t *node) {
  for (plane_t *pl = planes; pl; pl = pl->next)
    if (pl->ops.node == node) return &pl->ops;
  return NULL;
}

int pga_ops_plane_set_endpoint(pga_node_t *node, pga_ops_figures_fn fn,
                               void *ud) {
  pga_ops_t *ops = pga__ops_of(node);
  if (!ops) return PGA_ENOTFOUND;
  pthread_mutex_lock(&ops->lock);
  ops->endpoint_fn = fn;
  ops->endpoint_ud = ud;
  pthread_mutex_unlock(&ops->lock);
  return 0;
}

int pga__ops_has_endpoint(pga_ops_t *ops) {
  pthread_mutex_lock(&ops->lock);
  int has = ops->endpoint_fn != NULL;
  pthread_mutex_unlock(&ops->lock);
  return has;
}

void pga__ops_put_endpoint(pga_ops_t *ops, pga_tb_t *tb) {
  pthread_mutex_lock(&ops->lock);
  pga_tb_atom(tb, "endpoint");
  if (ops->endpoint_fn) ops->endpoint_fn(ops->endpoint_ud, tb);
  else pga_tb_atom(tb, "nil"); /* removed meanwhile */
  pthread_mutex_unlock(&ops->lock);
}

pga_outcome_t pga__ops_function_clause(pga_tb_t *out) {
  pga_tb_reset(out);
  pga_tb_atom(out, "function_clause");
  return PGA_ERROR;
}

pga_outcome_t pga__ops_error_atom(pga_tb_t *out, const char *reason) {
  pga_tb_reset(out);
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "error");
  pga_tb_atom(out, reason);
  return PGA_RETURN;
}

pga_outcome_t pga__ops_ok(pga_tb_t *out) {
  pga_tb_reset(out);
  pga_tb_atom(out, "ok");
  return PGA_RETURN;
}

int pga__ops_kw_get(const pga_term_t *opts, const char *key,
                    pga_term_t *value) {
  pga_term_iter_t it;
  pga_term_t el, k;
  size_t arity;
  if (pga_term_iter_init(&it, opts) != 0) return 0;
  while (pga_term_iter_next(&it, &el)) {
    if (pga_term_tuple_arity(&el, &arity) != 0 || arity != 2 ||
        pga_term_tuple_get(&el, 0, &k) != 0)
      continue;
    if (pga_term_is_atom(&k, key)) return pga_term_tuple_get(&el, 1, value) == 0;
  }
  return 0;
}

int64_t pga__ops_wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t pga__ops_mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
