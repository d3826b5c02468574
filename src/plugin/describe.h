/* One line about the loaded plugins, for pga-node's start-up summary. */
#ifndef PGA_PLUGIN_DESCRIBE_H
#define PGA_PLUGIN_DESCRIBE_H

#include <stddef.h>

#include "pga/plugin.h"

/* Writes "NAME VERSION (Module.function/arity, ...); ..." for every
 * loaded plugin, load order, module names without "Elixir.", into out
 * (always NUL-terminated, cut with "..." when too long), or "none". */
void pga_plugin_describe(const pga_plugin_host_t *h, char *out,
                         size_t outlen);

#endif
