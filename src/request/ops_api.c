/* The request plane's figures for the ops plane (plane.h): the limiter,
 * pool status and live counters. Any thread: everything read here is an
 * atomic or a thread-safe object. */
#include "config.h"

#include <string.h>

#include "request/exec_int.h"

pga_request_limiter_t *pga_request_plane_limiter(pga_node_t *node) {
  plane_t *pl = pga__ex_plane_of(node);
  return pl ? pl->lim : NULL;
}

int pga_request_plane_pool_status(pga_node_t *node, int pool,
                                  pga_pool_status_t *out) {
  plane_t *pl = pga__ex_plane_of(node);
  memset(out, 0, sizeof *out);
  if (!pl) return PGA_ENOTFOUND;
  if (pool != PGA_POOL_ASYNC && pool != PGA_POOL_STREAM) return PGA_EINVAL;
  pga__wp_status(pl->pools[pool], out);
  return 0;
}

int pga_request_plane_stats(pga_node_t *node, pga_request_stats_t *out) {
  plane_t *pl = pga__ex_plane_of(node);
  memset(out, 0, sizeof *out);
  if (!pl) return PGA_ENOTFOUND;
  out->inflight = atomic_load(&pl->n_execs);
  out->streams = atomic_load(&pl->n_streams);
  out->work_units = atomic_load(&pl->work_units);
  return 0;
}
