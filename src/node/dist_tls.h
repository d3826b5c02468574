/* pga-node's distribution protocol: --proto-dist / --ssl-dist-optfile or
 * the --config "dist" section, turned into TLS contexts at start-up. */
#ifndef PGA_NODE_DIST_TLS_H
#define PGA_NODE_DIST_TLS_H

#include <stddef.h>

#include "config/file.h"
#include "dist/tls.h"
#include "node/options.h"

/* *out is NULL for inet_tcp. The command line wins over the file. 0, or -1
 * with err filled (a usage error: exit status 2). */
int pga_node_dist_tls(const pga_cli_t *cli, const pga_conffile_t *conf,
                      pga_tls_t **out, char *err, size_t errlen);

#endif
