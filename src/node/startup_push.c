/* The start-up push: pga pushes its own PushConfig (the plugins'
 * functions) to the gateways named by config_pusher in the configuration
 * file, as the library's ConfigPusher.push_on_startup does. Each push runs
 * pga_node:push_config/2 as a job, so it retries with backoff on a worker
 * while a gateway is down and never delays start-up. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "node/startup_push.h"
#include "rpc/rpc.h"

/* The pusher logs each attempt and the outcome in words already. */
static void pushed(void *ud, const pga_term_t *result) {
  char text[512];
  pga_term_format(result, text, sizeof text);
  pga_debug("start-up push to %s: %s", (const char *)ud, text);
  free(ud);
}

static void push_one(pga_node_t *node, const pga_term_t *gateway,
                     const pga_term_t *opts) {
  char name[PGA_ATOM_BUF];
  pga_tb_t *args = pga_tb_new(0);
  char *label = NULL;
  if (args && pga_term_get_atom(gateway, name, sizeof name) == 0) {
    label = strdup(name);
    pga_tb_list(args, 2);
    pga_tb_term(args, gateway);
    pga_tb_term(args, opts);
    pga_tb_nil(args);
  }
  pga_term_t at = args ? pga_tb_data(args) : (pga_term_t){NULL, 0};
  int rc = label && !pga_tb_error(args)
               ? pga_rpc_run(pga__node_rpc(node), NULL, NULL, NULL,
                             "pga_node", "push_config", &at, pushed, label)
               : PGA_ENOMEM;
  if (rc != 0) {
    pga_warn("start-up push to %s not started: %s", label ? label : "?",
             pga_strerror(rc));
    free(label);
  }
  pga_tb_free(args);
}

void pga_startup_push(pga_node_t *node, const pga_conffile_t *conf) {
  if (!conf->pusher_gateways || !conf->push_on_startup) return;
  pga_term_t gws = pga_tb_data(conf->pusher_gateways);
  pga_term_t opts = pga_tb_data(conf->pusher_opts);
  pga_term_iter_t it;
  pga_term_t gw;
  if (pga_term_iter_init(&it, &gws) != 0) return;
  while (pga_term_iter_next(&it, &gw)) push_one(node, &gw, &opts);
}
