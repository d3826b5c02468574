/* The "endpoint" object of pga-node's --config file (pga-node(1)). */
#ifndef PGA_NODE_ENDPOINT_CONF_H
#define PGA_NODE_ENDPOINT_CONF_H

#include <stddef.h>

#include "endpoints/endpoint.h"

/* Reads json (the object's text) into o (initialised with
 * pga_endpoint_opts_init). 0, or -1 with err filled
 * ("endpoint.KEY: ..."). */
int pga_endpoint_conf_read(const char *json, pga_endpoint_opts_t *o,
                           char *err, size_t errlen);

#endif
