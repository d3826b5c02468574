/* The request plane's lifetime: one plane_t per node, its selector,
 * limiter and pools, the executor's RPC functions registered at start,
 * and at stop every request and invocation still held freed. */
#include "config.h"

#include <stdlib.h>
#include <stdio.h>

#include "config/file.h"
#include "request/exec_int.h"

static plane_t *planes; /* one per node; started before the loop runs */

plane_t *pga__ex_plane_of(pga_node_t *node) {
  for (plane_t *p = planes; p; p = p->next)
    if (p->node == node) return p;
  return NULL;
}

static void plane_free(plane_t *pl) {
  pl->obs = (pga_request_observer_t){0}; /* nothing is sent at teardown */
  while (pl->execs) {
    exec_t *e = pl->execs;
    /* After pga_node_run: the rpc layer freed the deferred jobs and the
     * outgoing calls, the dist layer every process (relays too). */
    e->call = NULL;
    e->call_id = 0;
    e->relay = NULL;
    e->rcv_node[0] = 0;
    if (e->pool >= 0) /* no outcome, no telemetry */
      pga__wp_cancel(pl->pools[e->pool], &e->task);
    e->pool = -1;
    pga__ex_exec_free(e);
  }
  while (pl->invs) { /* jobs and calls went with the teardown */
    inv_t *v = pl->invs;
    v->call_id = 0;
    if (v->owner && v->drop) v->drop(v->owner);
    pga__ex_inv_free(v);
  }
  pga__ex_spares_free(pl);
  if (pl->cleanup_timer) pga_loop_timer_cancel(pl->loop, pl->cleanup_timer);
  pga__wp_free(pl->pools[PGA_POOL_ASYNC]);
  pga__wp_free(pl->pools[PGA_POOL_STREAM]);
  pga_request_selector_free(pl->sel);
  pga_request_limiter_free(pl->lim);
  free(pl);
}

static unsigned or_default(unsigned v, unsigned dflt) { return v ? v : dflt; }

/* async_pool and stream_pool with the worker_pool settings (§9.4). */
static int pools_new(plane_t *pl, const pga_conffile_t *conf) {
  pga__wp_opts_t o = {"async_pool", 1000, 10000, 5, 60000};
  if (conf) {
    o.size = or_default(conf->worker_pool.async_pool_size, o.size);
    o.max_queue = or_default(conf->worker_pool.max_queue_size, o.max_queue);
    o.threshold =
        or_default(conf->worker_pool.circuit_breaker_threshold, o.threshold);
    o.cooldown_ms = or_default(conf->worker_pool.circuit_breaker_cooldown_ms,
                               o.cooldown_ms);
  }
  pl->pools[PGA_POOL_ASYNC] = pga__wp_new(&o, pl->loop, pl->tel);
  o.name = "stream_pool";
  o.size = conf ? or_default(conf->worker_pool.stream_pool_size, 500) : 500;
  pl->pools[PGA_POOL_STREAM] = pga__wp_new(&o, pl->loop, pl->tel);
  return pl->pools[PGA_POOL_ASYNC] && pl->pools[PGA_POOL_STREAM]
             ? 0
             : PGA_ENOMEM;
}

int pga_request_plane_start(pga_node_t *node, const pga_conffile_t *conf,
                            char *err, size_t errlen) {
  plane_t *pl = calloc(1, sizeof *pl);
  pga_limiter_opts_t lo = {PGA_LIMITER_OPTS_VERSION, 0, 0, {NULL, 0},
                           {NULL, 0}, 0};
  int rc;

  if (!pl) {
    snprintf(err, errlen, "request plane: %s", pga_strerror(PGA_ENOMEM));
    return PGA_ENOMEM;
  }
  pl->node = node;
  pl->rpc = pga__node_rpc(node);
  pl->d = pga__node_dist(node);
  pl->loop = pga__node_loop(node);
  pl->cfg = pga_config_plane_of(node);
  pl->tel = pga_telemetry_of(node);
  pl->max_payload = 1000000;
  pl->limiter_on = 1;
  if (conf) {
    pl->detail = conf->detail_error;
    if (conf->max_payload_bytes) pl->max_payload = conf->max_payload_bytes;
    pl->limits.string_max_bytes = conf->argument_handler.string_max_bytes;
    pl->limits.list_max_items = conf->argument_handler.list_max_items;
    pl->limits.map_max_items = conf->argument_handler.map_max_items;
    pl->limiter_on = conf->rate_limiter.enabled;
    lo.disabled = !conf->rate_limiter.enabled;
    lo.fail_closed = !conf->rate_limiter.fail_open;
    if (conf->rate_limiter.global_limits)
      lo.global_limits = pga_tb_data(conf->rate_limiter.global_limits);
    if (conf->rate_limiter.api_limits)
      lo.api_limits = pga_tb_data(conf->rate_limiter.api_limits);
  }
  if (!pl->cfg) {
    snprintf(err, errlen, "request plane: start the config plane first");
    free(pl);
    return PGA_EINVAL;
  }
  rc = pga_request_selector_new(NULL, &pl->sel);
  if (rc == 0) rc = pga_request_limiter_new(&lo, &pl->lim);
  if (rc == 0) rc = pools_new(pl, conf);
  if (rc == 0 &&
      !(pl->cleanup_timer = pga_loop_timer(pl->loop, PGA_REQUEST_CLEANUP_MS,
                                           pga__ex_cleanup_timer, pl)))
    rc = PGA_ENOMEM;
  if (rc == 0) rc = pga_dist_on_nodedown(pl->d, pga__ex_on_nodedown, node);
  if (rc == 0) rc = pga__ex_register_fns(pl);
  if (rc != 0) {
    snprintf(err, errlen, "request plane: %s", pga_strerror(rc));
    plane_free(pl);
    return rc;
  }
  pl->next = planes;
  planes = pl;
  return 0;
}

void pga_request_plane_stop(pga_node_t *node) {
  plane_t **pp = &planes;
  while (*pp && (*pp)->node != node) pp = &(*pp)->next;
  if (!*pp) return;
  plane_t *pl = *pp;
  *pp = pl->next;
  plane_free(pl);
}
