/* The endpoint's lifetime on a node: options, the listener, the list of
 * endpoints by node, figures. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "endpoints/ep_int.h"
#include "ops/plane.h"
#include "pga/errno.h"

static ep_t *endpoints; /* started from the main thread, one per node */

void pga_endpoint_opts_init(pga_endpoint_opts_t *o) {
  memset(o, 0, sizeof *o);
  o->port = 4000;
  o->max_age_s = 86400;
  o->max_frame_bytes = 1048576;
  o->heartbeat_timeout_ms = 60000;
  o->override_user_id = 1;
  o->require_verified_user_id = 1;
  o->max_connections = 100000;
  o->max_out_bytes = 8u * 1024u * 1024u;
  o->max_channels = 100;
  o->rpc_timeout_ms = 5000;
}

static void strv_free(char **v, size_t n) {
  for (size_t i = 0; i < n; i++) free(v[i]);
  free(v);
}

void pga_endpoint_opts_free(pga_endpoint_opts_t *o) {
  free(o->host);
  free(o->path);
  free(o->event);
  free(o->secret_key_base);
  free(o->salt);
  free(o->certfile);
  free(o->keyfile);
  strv_free(o->topics, o->ntopics);
  strv_free(o->origins, o->norigins);
  free(o->rpc_node);
  free(o->rpc_module);
  free(o->rpc_function);
  strv_free(o->rpc_headers, o->nrpc_headers);
  pga_endpoint_opts_init(o);
}

static char *dup_or(const char *s, const char *dflt) {
  return strdup(s ? s : dflt);
}

static char **strv_dup(char *const *v, size_t n) {
  char **out = calloc(n ? n : 1, sizeof *out);
  if (!out) return NULL;
  for (size_t i = 0; i < n; i++)
    if (!(out[i] = strdup(v[i]))) {
      strv_free(out, i);
      return NULL;
    }
  return out;
}

static int copy_opts(pga_endpoint_opts_t *d, const pga_endpoint_opts_t *s) {
  *d = *s;
  d->host = dup_or(s->host, "127.0.0.1");
  d->path = dup_or(s->path, "/socket");
  d->event = dup_or(s->event, "phoenix_gen_api");
  d->secret_key_base = s->secret_key_base ? strdup(s->secret_key_base) : NULL;
  d->salt = s->salt ? strdup(s->salt) : NULL;
  d->certfile = s->certfile ? strdup(s->certfile) : NULL;
  d->keyfile = s->keyfile ? strdup(s->keyfile) : NULL;
  if ((s->certfile && !d->certfile) || (s->keyfile && !d->keyfile))
    return PGA_ENOMEM;
  d->topics = strv_dup(s->topics, s->ntopics);
  d->origins = strv_dup(s->origins, s->norigins);
  d->rpc_node = s->rpc_node ? strdup(s->rpc_node) : NULL;
  d->rpc_module = s->rpc_module ? strdup(s->rpc_module) : NULL;
  d->rpc_function = s->rpc_function ? strdup(s->rpc_function) : NULL;
  d->rpc_headers = strv_dup(s->rpc_headers, s->nrpc_headers);
  if (!d->rpc_headers ||
      (s->auth == PGA_EP_AUTH_RPC &&
       (!d->rpc_node || !d->rpc_module || !d->rpc_function)))
    return PGA_ENOMEM;
  if (!d->host || !d->path || !d->event || !d->topics || !d->origins ||
      (s->secret_key_base && !d->secret_key_base) || (s->salt && !d->salt))
    return PGA_ENOMEM;
  /* a trailing slash would make PATH//websocket */
  size_t n = strlen(d->path);
  if (n > 1 && d->path[n - 1] == '/') d->path[n - 1] = 0;
  return 0;
}

static ep_t *ep_of(pga_node_t *node) {
  for (ep_t *ep = endpoints; ep; ep = ep->next)
    if (ep->node == node) return ep;
  return NULL;
}

static void ep_free(ep_t *ep) {
  pga__ep_close_all(ep);
  if (ep->tls) pga__ep_tls_ctx_free(ep->tls);
  pga__ep_stops_free(ep);
  if (ep->lfd >= 0) {
    pga_loop_unwatch(ep->loop, ep->lfd);
    close(ep->lfd);
  }
  pga_endpoint_opts_free(&ep->o);
  free(ep);
}

/* health_check, statistics and debug_report (ops plane): %{status: :ok,
 * url, connections, joins, accepted, refused, bytes_in, bytes_out,
 * requests}. Counters are read as they are (loop-thread figures). */
static void figures(void *ud, pga_tb_t *tb) {
  ep_t *ep = ud;
  char url[400];
  snprintf(url, sizeof url, "%s://%s:%u%s/websocket", ep->tls ? "wss" : "ws",
           ep->o.host,
           (unsigned)ep->port, ep->o.path);
  pga_endpoint_stats_t st = ep->st;
  static const char *const names[] = {"connections", "joins", "accepted",
                                      "refused", "bytes_in", "bytes_out",
                                      "requests"};
  const uint64_t v[] = {st.connections, st.joins, st.accepted, st.refused,
                        st.bytes_in, st.bytes_out, st.requests};
  pga_tb_map(tb, 9);
  pga_tb_atom(tb, "status");
  pga_tb_atom(tb, "ok");
  pga_tb_atom(tb, "url");
  pga_tb_string(tb, url);
  for (size_t i = 0; i < 7; i++) {
    pga_tb_atom(tb, names[i]);
    pga_tb_uint(tb, v[i]);
  }
}

int pga_endpoint_start(pga_node_t *node, const pga_endpoint_opts_t *o,
                       char *err, size_t errlen) {
  ep_t *ep = calloc(1, sizeof *ep);
  int rc;
  if (!ep) {
    snprintf(err, errlen, "endpoint: out of memory");
    return PGA_ENOMEM;
  }
  ep->lfd = -1;
  ep->node = node;
  ep->loop = pga__node_loop(node);
  ep->d = pga__node_dist(node);
  ep->rpc = pga__node_rpc(node);
  if ((rc = copy_opts(&ep->o, o)) != 0) {
    snprintf(err, errlen, "endpoint: out of memory");
    ep_free(ep);
    return rc;
  }
  if (ep->o.auth == PGA_EP_AUTH_PHOENIX_TOKEN &&
      (!ep->o.secret_key_base || !ep->o.salt ||
       pga__ep_token_key(ep->o.secret_key_base, ep->o.salt, ep->key) != 0)) {
    snprintf(err, errlen, "endpoint.auth: cannot derive the token key");
    ep_free(ep);
    return PGA_EINVAL;
  }
  if (ep->o.certfile &&
      !(ep->tls = pga__ep_tls_ctx(ep->o.certfile, ep->o.keyfile, err, errlen))) {
    ep_free(ep);
    return PGA_EINVAL;
  }
  if ((rc = pga__ep_listen(ep, err, errlen)) != 0) {
    ep_free(ep);
    return rc;
  }
  ep->next = endpoints;
  endpoints = ep;
  pga_ops_plane_set_endpoint(node, figures, ep); /* no ops plane: none */
  pga_info("endpoint: listening on %s://%s:%u%s/websocket",
           ep->tls ? "wss" : "ws", ep->o.host,
           (unsigned)ep->port, ep->o.path);
  return 0;
}

int pga_endpoint_tls_check(const char *certfile, const char *keyfile,
                           char *err, size_t errlen) {
  void *ctx = pga__ep_tls_ctx(certfile, keyfile, err, errlen);
  if (!ctx) return -1;
  pga__ep_tls_ctx_free(ctx);
  return 0;
}

uint16_t pga_endpoint_port(pga_node_t *node) {
  ep_t *ep = ep_of(node);
  return ep ? ep->port : 0;
}

void pga_endpoint_stop(pga_node_t *node) {
  for (ep_t **pe = &endpoints; *pe; pe = &(*pe)->next)
    if ((*pe)->node == node) {
      ep_t *ep = *pe;
      *pe = ep->next;
      pga_ops_plane_set_endpoint(node, NULL, NULL);
      ep_free(ep);
      return;
    }
}

int pga_endpoint_stats(pga_node_t *node, pga_endpoint_stats_t *out) {
  ep_t *ep = ep_of(node);
  if (!ep) return PGA_ENOTFOUND;
  *out = ep->st;
  return 0;
}
