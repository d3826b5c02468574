/* pga-node's start-up summary: one info line saying who the node is,
 * where its cookie came from, what its configuration turns on, which
 * plugins it serves and where it listens. */
#ifndef PGA_NODE_SUMMARY_H
#define PGA_NODE_SUMMARY_H

#include <stddef.h>

#include "config/file.h"
#include "node/options.h"
#include "pga/plugin.h"

typedef struct pga_startup_s {
  const pga_cli_t *cli;
  const pga_conffile_t *conf;
  pga_node_t *node;
  const pga_plugin_host_t *plugins;
  long local_stored; /* local_services: configs stored, -1 when off */
} pga_startup_t;

/* Writes the summary into out (NUL-terminated, cut when too long). */
void pga_startup_summary(const pga_startup_t *s, char *out, size_t outlen);

#endif
