/* Stub (to be written): the request plane's figures for the ops plane. */
#include "request/plane.h"

#include <string.h>

#include "pga/errno.h"

pga_request_limiter_t *pga_request_plane_limiter(pga_node_t *node) {
  (void)node;
  return NULL;
}

int pga_request_plane_pool_status(pga_node_t *node, int pool,
                                  pga_pool_status_t *out) {
  (void)node;
  (void)pool;
  memset(out, 0, sizeof *out);
  return PGA_ENOTFOUND;
}

int pga_request_plane_stats(pga_node_t *node, pga_request_stats_t *out) {
  (void)node;
  memset(out, 0, sizeof *out);
  return PGA_ENOTFOUND;
}

int pga_request_plane_stop_stream(pga_node_t *node,
                                  const pga_term_t *target) {
  (void)node;
  (void)target;
  return PGA_ENOTFOUND;
}
