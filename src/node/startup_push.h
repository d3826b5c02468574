/* The start-up push of pga's own PushConfig (config_pusher). */
#ifndef PGA_NODE_STARTUP_PUSH_H
#define PGA_NODE_STARTUP_PUSH_H

#include "config/file.h"
#include "pga/node.h"

/* Starts one push per configured gateway; results are logged. Call on the
 * loop thread (before pga_node_run), after the plugins are loaded. */
void pga_startup_push(pga_node_t *node, const pga_conffile_t *conf);

#endif
