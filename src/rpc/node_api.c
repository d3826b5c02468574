/* The embedding API (include/pga/node.h): a node is a loop, a worker
 * pool, the distribution layer and the rpc layer, started and stopped
 * together. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "rpc/rpc_int.h"


struct pga_node_s {
  pga_loop_t *loop;
  pga_pool_t *pool;
  pga_pool_t *bulk_pool;  /* big messages (dist and rpc), background */
  pga_dist_t *dist;
  pga_rpc_t *rpc;
  char name[PGA_ATOM_BUF];
  int started;
};

static void free_both(void *p) { free(p); }
static const pga_dict_type_t module_type = {pga_hash_str, pga_equal_str,
                                            free_both, free_both};

int pga_rpc_new(pga_dist_t *d, pga_pool_t *pool, size_t max_jobs,
                pga_node_t *node, pga_rpc_t **out) {
  pga_rpc_t *r = calloc(1, sizeof *r);
  if (!r) return PGA_ENOMEM;
  r->d = d;
  r->pool = pool;
  r->loop = pga_dist_loop(d);
  r->node = node;
  r->max_jobs = max_jobs;
  r->max_term = pga_dist_max_term(d);
  r->bulk = pga_dist_bulk_pool(d, &r->bulk_background);
  r->fns = pga_dict_new(&pga__fn_dict_type);
  r->modules = pga_dict_new(&module_type);
  int rc = r->fns && r->modules ? 0 : PGA_ENOMEM;
  if (rc == 0) rc = pga__client_init(r);
  if (rc == 0) rc = pga__rex_init(r);
  if (rc == 0) rc = pga_rpc_builtins_init(r);
  if (rc != 0) {
    pga_rpc_free(r);
    return rc;
  }
  pga__server_init(r);
  *out = r;
  return 0;
}

void pga_rpc_free(pga_rpc_t *r) {
  if (!r) return;
  static const char *servers[] = {"rex", "net_kernel", "pga_node"};
  for (size_t i = 0; i < sizeof servers / sizeof *servers; i++) {
    pga_proc_t *p = pga_proc_by_name(r->d, servers[i]);
    if (p) pga__gen_free(p);
  }
  pga__client_free(r);
  /* Deferred calls whose completion will never come now (their outgoing
   * calls are gone with the client). */
  while (r->job_list) pga__job_free(r->job_list);
  if (r->client) pga_proc_free(r->client);
  if (r->fns) pga_dict_free(r->fns);
  if (r->modules) pga_dict_free(r->modules);
  free(r);
}

/* "alive" alone gets this host's name, as erl does. */
static void full_name(const pga_node_opts_t *o, char *out, size_t outlen) {
  if (strchr(o->name, '@')) {
    snprintf(out, outlen, "%s", o->name);
    return;
  }
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  if (o->short_names) {
    char *dot = strchr(host, '.');
    if (dot) *dot = '\0';
  }
  snprintf(out, outlen, "%s@%s", o->name, host);
}

static unsigned default_workers(void) {
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  unsigned n = cores > 0 ? (unsigned)cores * 2 : 2;
  return n < 2 ? 2 : n;
}

/* Big messages are rare; a thread or two keep them from ever taking more
 * than that much CPU from the loop and the functions. */
static unsigned bulk_workers(void) {
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  return cores >= 4 ? (unsigned)cores / 4 : 1;
}

static int build(pga_node_t *n, const pga_node_opts_t *o, char *err,
                 size_t errlen) {
  int rc = pga_loop_new(&n->loop);
  if (rc == 0)
    rc = pga_pool_new(n->loop, o->workers ? o->workers : default_workers(),
                      o->max_jobs ? o->max_jobs : 100000, &n->pool);
  if (rc == 0) rc = pga_pool_new(n->loop, bulk_workers(), 0, &n->bulk_pool);
  if (rc != 0) {
    snprintf(err, errlen, "cannot create the event loop or worker pool");
    return rc;
  }
  pga_dist_config_t cfg = {
      .name = n->name,
      .cookie = o->cookie,
      .tick_interval_ms = o->tick_interval_ms,
      .tick_timeout_ms = o->tick_timeout_ms,
      .setup_timeout_ms = o->setup_timeout_ms,
      .max_packet = o->max_packet,
      .max_term = o->struct_version >= 2 ? o->max_term_bytes : 0,
      .listen_port = o->listen_port,
      .listen_port_max = o->struct_version >= 2 ? o->listen_port_max : 0,
      .listen_addr = o->listen_addr,
      .no_epmd = o->struct_version >= 2 ? o->no_epmd : 0,
      .pool = n->pool,
      .bulk_pool = n->bulk_pool,
  };
  rc = pga_dist_new(n->loop, &cfg, &n->dist, err, errlen);
  if (rc == 0)
    rc = pga_rpc_new(n->dist, n->pool, o->max_jobs ? o->max_jobs : 100000, n,
                     &n->rpc);
  if (rc != 0 && !err[0]) snprintf(err, errlen, "%s", pga_strerror(rc));
  return rc;
}

int pga_node_new(const pga_node_opts_t *opts, pga_node_t **out, char *err,
                 size_t errlen) {
  if (errlen) err[0] = '\0';
  if (!opts || opts->struct_version < 1 || !opts->name || !opts->cookie) {
    snprintf(err, errlen, "options need struct_version, name and cookie");
    return PGA_EINVAL;
  }
  pga_node_t *n = calloc(1, sizeof *n);
  if (!n) return PGA_ENOMEM;
  full_name(opts, n->name, sizeof n->name);
  int rc = build(n, opts, err, errlen);
  if (rc != 0) {
    pga_node_free(n);
    return rc;
  }
  *out = n;
  return 0;
}

int pga_node_start(pga_node_t *node, char *err, size_t errlen) {
  int rc = pga_dist_start(node->dist, err, errlen);
  if (rc == 0) node->started = 1;
  return rc;
}

int pga_node_run(pga_node_t *node) {
  int rc = pga_loop_run(node->loop);
  /* Unpublish, stop the running work (it sees pga_call_cancelled), drain
   * the pool, then close the connections: peers see nodedown promptly. */
  pga_dist_unpublish(node->dist);
  if (node->rpc) pga_rpc_cancel_all(node->rpc);
  /* Bulk first: its completions may still start jobs on the pool. */
  if (node->bulk_pool) pga_pool_free(node->bulk_pool);
  node->bulk_pool = NULL;
  pga_dist_drop_bulk_pool(node->dist);
  if (node->pool) pga_pool_free(node->pool);
  node->pool = NULL;
  pga_rpc_free(node->rpc);
  node->rpc = NULL;
  pga_dist_shutdown(node->dist);
  return rc;
}

void pga_node_stop(pga_node_t *node) { pga_loop_stop(node->loop); }

void pga_node_free(pga_node_t *node) {
  if (!node) return;
  if (node->bulk_pool) pga_pool_free(node->bulk_pool);
  if (node->dist) pga_dist_drop_bulk_pool(node->dist);
  if (node->pool) pga_pool_free(node->pool);
  pga_rpc_free(node->rpc);
  pga_dist_free(node->dist);
  if (node->loop) pga_loop_free(node->loop);
  free(node);
}

const char *pga_node_name(const pga_node_t *node) { return node->name; }

int pga_node_register_fn(pga_node_t *node, const pga_fn_def_t *def) {
  if (!node->rpc || !def) return PGA_EINVAL;
  pga_fn_def_t own = *def;
  own.flags &= ~PGA__FN_ANY_THREAD; /* built-ins only */
  return pga_rpc_register(node->rpc, &own);
}

pga_rpc_t *pga__node_rpc(pga_node_t *node) { return node->rpc; }
pga_dist_t *pga__node_dist(pga_node_t *node) { return node->dist; }
pga_loop_t *pga__node_loop(pga_node_t *node) { return node->loop; }
