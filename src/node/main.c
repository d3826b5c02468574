/* pga-node: the gateway daemon. Parses the command line, starts a node,
 * prints the ready line, and runs until SIGTERM/SIGINT. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"
#include "config/config.h"
#include "config/durable.h"
#include "config/file.h"
#include "endpoints/endpoint.h"
#include "node/dist_tls.h"
#include "node/endpoint_conf.h"
#include "node/notify.h"
#include "node/options.h"
#include "node/startup_push.h"
#include "node/summary.h"
#include "pga/pga.h"
#include "ops/plane.h"
#include "plugin/local.h"
#include "relay/relay.h"
#include "request/plane.h"
#include "rpc/rpc.h"
#include "telemetry/telemetry.h"

static pga_node_t *running_node;

static void on_signal(int sig) {
  (void)sig;
  if (running_node) pga_node_stop(running_node);
}

static void install_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
}

/* --data-dir must exist (it is created if missing). */
static int check_unsupported(const pga_cli_t *cli) {
  if (cli->data_dir && mkdir(cli->data_dir, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "pga-node: cannot create data directory %s: %s\n",
            cli->data_dir, strerror(errno));
    return -1;
  }
  return 0;
}

/* --plugin PATH...: a refused file stops pga-node before it serves. */
static int load_plugins(const pga_cli_t *cli, pga_node_t *node,
                        pga_plugin_host_t **host, char *err, size_t errlen) {
  int rc = pga_plugin_host_new(node, host);
  if (rc != 0) {
    snprintf(err, errlen, "plugins: %s", pga_strerror(rc));
    return rc;
  }
  for (size_t i = 0; i < cli->nplugins; i++) {
    rc = pga_plugin_load(*host, cli->plugins[i], err, errlen);
    if (rc != 0) return rc;
  }
  return 0;
}

/* --config FILE (src/config/file.h): an error stops pga-node with exit
 * status 2, as a command-line error does; advice goes to the log. */
static int load_config(const pga_cli_t *cli, pga_conffile_t *conf) {
  char err[512];
  pga_conffile_init(conf);
  if (cli->config && pga_conffile_load(conf, cli->config, err, sizeof err)) {
    fprintf(stderr, "pga-node: config %s\n", err);
    return -1;
  }
  for (char *w = conf->warnings, *nl; w && *w; w = nl + 1) {
    if (!(nl = strchr(w, '\n'))) break;
    pga_warn("config %.*s", (int)(nl - w), w);
  }
  conf->config.data_dir = cli->data_dir;
  return 0;
}

/* local_services: the plugins' FunConfigs as :local configs of this
 * node's own gateway. A refusal (an allowlist without the plugin modules,
 * say) is logged, not fatal: the node still serves other gateways.
 * Returns how many were stored, or -1 when off. */
static long register_local(const pga_cli_t *cli, const pga_conffile_t *conf,
                           pga_node_t *node, const pga_plugin_host_t *h) {
  int on = cli->local_services >= 0 ? cli->local_services
                                    : conf->local_services;
  char err[512];
  size_t stored;
  if (!on) return -1;
  if (pga_plugin_count(h) == 0) return 0;
  if (pga_plugin_register_local(h, pga_config_plane_of(node), &stored, err,
                                sizeof err) != 0) {
    pga_warn("%s (see PhoenixGenApi.ConfigFailed)", err);
    return 0;
  }
  return (long)stored;
}

static void log_summary(const pga_cli_t *cli, const pga_conffile_t *conf,
                        pga_node_t *node, const pga_plugin_host_t *h,
                        long local) {
  pga_startup_t s = {cli, conf, node, h, local};
  char line[4096];
  pga_startup_summary(&s, line, sizeof line);
  pga_info("%s", line);
}

/* --proto-dist, --ssl-dist-optfile or the config's "dist": a bad setting
 * stops pga-node with exit status 2, naming it. */
static int setup_dist(const pga_cli_t *cli, const pga_conffile_t *conf,
                      pga_tls_t **tls) {
  char err[512];
  if (pga_node_dist_tls(cli, conf, tls, err, sizeof err) == 0) return 0;
  fprintf(stderr, "pga-node: %s\n", err);
  return -1;
}

/* Reverse start order; unknown nodes are ignored by each. */
static void stop_planes(pga_node_t *node) {
  pga_ops_plane_stop(node);
  pga_relay_stop(node);
  pga_request_plane_stop(node);
  pga_config_plane_stop(node);
  pga_telemetry_stop(node);
}

/* The listener from --dist-* or else the config's "dist": the command
 * line's interface replaces the file's, and its port options replace all
 * of the file's port keys (each set was checked on its own). */
static void dist_surface(const pga_cli_t *cli, const pga_conffile_t *conf,
                         pga_node_opts_t *opts) {
  opts->listen_addr = cli->dist_interface ? cli->dist_interface
                                          : conf->dist.interface;
  if (cli->dist_port || cli->dist_port_min) {
    opts->listen_port = cli->dist_port ? cli->dist_port : cli->dist_port_min;
    opts->listen_port_max = cli->dist_port_max;
    opts->no_epmd = cli->dist_port != 0;
  } else {
    opts->listen_port = (int)(conf->dist.port ? conf->dist.port
                                              : conf->dist.port_min);
    opts->listen_port_max = (int)conf->dist.port_max;
    opts->no_epmd = conf->dist.port != 0;
  }
}

static int start_all(const pga_cli_t *cli, const pga_conffile_t *conf,
                     pga_tls_t *tls, pga_node_t **node,
                     pga_plugin_host_t **plugins, long *local, char *err,
                     size_t errlen) {
  pga_node_opts_t opts = {.struct_version = PGA_NODE_OPTS_VERSION,
                          .name = cli->name,
                          .short_names = cli->short_names,
                          .cookie = cli->cookie,
                          /* the command line wins over the file */
                          .max_term_bytes = cli->max_term_bytes
                                                ? cli->max_term_bytes
                                                : conf->max_term_bytes};
  dist_surface(cli, conf, &opts);
  pga_config_opts_t config = conf->config;
  if (pga_node_new(&opts, node, err, errlen) != 0) {
    pga_tls_free(tls);
    return -1;
  }
  pga_dist_use_tls(pga__node_dist(*node), tls); /* the node owns tls now */
  if (pga_telemetry_start(*node, err, errlen) != 0 ||
      pga_config_plane_start(*node, &config, err, errlen) != 0 ||
      pga_request_plane_start(*node, conf, err, errlen) != 0 ||
      pga_relay_start(*node, err, errlen) != 0 ||
      pga_ops_plane_start(*node, conf, err, errlen) != 0 ||
      load_plugins(cli, *node, plugins, err, errlen) != 0)
    return -1;
  *local = register_local(cli, conf, *node, *plugins);
  if (pga_node_start(*node, err, errlen) != 0 ||
      pga_plugin_host_start(*plugins, err, errlen) != 0)
    return -1;
  return 0;
}

/* The "endpoint" object, when the config has one: 1 configured, 0 not,
 * -1 refused (exit status 2, naming the key). */
static int load_endpoint(const pga_cli_t *cli, const pga_conffile_t *conf,
                         pga_endpoint_opts_t *ep) {
  char err[512];
  pga_endpoint_opts_init(ep);
  if (!conf->endpoint_json) return 0;
  if (pga_endpoint_conf_read(conf->endpoint_json, ep, err, sizeof err) != 0) {
    fprintf(stderr, "pga-node: config %s: %s\n", cli->config, err);
    return -1;
  }
  return 1;
}

static int run(const pga_cli_t *cli, const pga_conffile_t *conf,
               pga_tls_t *tls, const pga_endpoint_opts_t *ep) {
  pga_node_t *node = NULL;
  pga_plugin_host_t *plugins = NULL;
  char err[512];
  long local = -1;
  if (start_all(cli, conf, tls, &node, &plugins, &local, err, sizeof err) !=
          0 ||
      (ep && pga_endpoint_start(node, ep, err, sizeof err) != 0)) {
    fprintf(stderr, "pga-node: %s\n", err);
    pga_endpoint_stop(node);
    pga_plugin_host_free(plugins);
    stop_planes(node);
    pga_node_free(node);
    return 1;
  }
  log_summary(cli, conf, node, plugins, local);
  pga_startup_push(node, conf);
  running_node = node;
  install_signals();
  printf("pga-node ready %s\n", pga_node_name(node));
  fflush(stdout);
  if (pga_notify("READY=1") < 0) pga_warn("systemd notification failed");
  int rc = pga_node_run(node);
  (void)pga_notify("STOPPING=1");
  running_node = NULL;
  /* pga_node_run has finished every job: no worker runs plane code. */
  pga_endpoint_stop(node);
  pga_plugin_host_free(plugins);
  stop_planes(node);
  pga_node_free(node);
  pga_info("stopped");
  return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  pga_cli_t cli;
  char err[512];
  if (pga_cli_parse(argc, argv, &cli, err, sizeof err) != 0) {
    fprintf(stderr, "pga-node: %s\n", err);
    pga_cli_usage(stderr);
    pga_cli_free(&cli);
    return 2;
  }
  if (cli.help || cli.version) {
    if (cli.help) pga_cli_help(stdout);
    if (cli.version) printf("pga-node %s\n", pga_version_string());
    pga_cli_free(&cli);
    return 0;
  }
  if (cli.check_data_dir) {
    /* Reads the data dir, reports, changes nothing (0 clean, 1 damage). */
    int st = pga_durable_check(cli.check_data_dir, stdout);
    pga_cli_free(&cli);
    return st;
  }
  pga_log_set_level(cli.log_level);
  pga_conffile_t conf;
  pga_endpoint_opts_t ep;
  int has_ep = 0;
  pga_conffile_init(&conf);
  pga_endpoint_opts_init(&ep);
  pga_tls_t *tls = NULL;
  int rc = check_unsupported(&cli) == 0 && load_config(&cli, &conf) == 0 &&
                   (has_ep = load_endpoint(&cli, &conf, &ep)) >= 0 &&
                   setup_dist(&cli, &conf, &tls) == 0
               ? run(&cli, &conf, tls, has_ep ? &ep : NULL)
               : 2;
  pga_endpoint_opts_free(&ep);
  pga_conffile_free(&conf);
  pga_cli_free(&cli);
  return rc;
}
