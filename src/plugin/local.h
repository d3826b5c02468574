/* local_services: the FunConfigs that loaded plugins declare, registered
 * in this node's own gateway (its config plane) as `nodes: :local`
 * configs, so a lone pga-node serves its plugins' requests through
 * PhoenixGenApi.Executor with nothing else running. */
#ifndef PGA_PLUGIN_LOCAL_H
#define PGA_PLUGIN_LOCAL_H

#include <stddef.h>

#include "config/config.h"
#include "pga/plugin.h"

/* Writes the list of every loaded plugin's FunConfigs (load order) with
 * nodes set to :local. 0 or PGA_ENOMEM. */
int pga_plugin_local_configs(const pga_plugin_host_t *h, pga_tb_t *out);

/* Stores those configs in plane through ConfigDb.batch_add (the same
 * admission as any add: allowlist, validation, failed log, journal).
 * Call after the plugins are loaded, before the node serves. *stored gets
 * how many were stored. 0 (also when there is nothing to register), or a
 * negative PGA_E* with err filled. */
int pga_plugin_register_local(const pga_plugin_host_t *h,
                              pga_config_plane_t *plane, size_t *stored,
                              char *err, size_t errlen);

#endif
