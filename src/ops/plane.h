/* The ops plane as offered to pga-node (ops-plane.md): the operator API of
 * PhoenixGenApi's top-level module and the modules it delegates to
 * (Diagnostics, Security, WorkerPool, RateLimiter, tracing), served over
 * RPC with the library's term shapes, and the shell print helpers. */
#ifndef PGA_OPS_PLANE_H
#define PGA_OPS_PLANE_H

#include <stddef.h>

#include "pga/node.h"
#include "pga/term.h"

struct pga_conffile_s;

/* Starts the ops plane on node: after the config and request planes,
 * before pga_node_start. conf (NULL = the library's defaults) gives
 * admin_actions, detail_error and the settings the helpers report; it is
 * read during the call only. 0, or a negative PGA_E* with err filled. */
int pga_ops_plane_start(pga_node_t *node, const struct pga_conffile_s *conf,
                        char *err, size_t errlen);
/* After pga_node_run returned, before the planes below stop. */
void pga_ops_plane_stop(pga_node_t *node);

/* Figures of the Phoenix Channels endpoint (src/endpoints, a layer above
 * this plane): while set, health_check, statistics and debug_report carry
 * what fn writes (a map) under :endpoint. fn runs on the thread of the
 * ops call, with the plane's lock held. fn NULL removes it. 0, or
 * PGA_ENOTFOUND when no ops plane runs on node. */
typedef void (*pga_ops_figures_fn)(void *ud, pga_tb_t *tb);
int pga_ops_plane_set_endpoint(pga_node_t *node, pga_ops_figures_fn fn,
                               void *ud);

#endif
