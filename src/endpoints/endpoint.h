/* The Phoenix Channels endpoint: WebSocket clients (phoenix.js and the
 * clients that speak its protocol) connect to pga directly and run their
 * requests on the request plane, as a Phoenix channel that does
 * `use PhoenixGenApi` would (spec/phoenix-channels.md, request-plane.md
 * §11). Runs on the node's loop; no thread per connection.
 *
 * Layering: sits beside plugin, below node; uses the rpc layer to enter
 * the request plane (Executor.execute_params!/1 for a local process). */
#ifndef PGA_ENDPOINTS_ENDPOINT_H
#define PGA_ENDPOINTS_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "pga/node.h"

typedef enum {
  PGA_EP_AUTH_NONE = 0,     /* public endpoint: no verified user_id */
  PGA_EP_AUTH_PHOENIX_TOKEN, /* Phoenix.Token from the "token" parameter */
  PGA_EP_AUTH_RPC           /* {node, module, function}(params, info) */
} pga_ep_auth_t;

/* Settings (the "endpoint" object of --config); strings are owned by the
 * struct (pga_endpoint_opts_free). */
typedef struct pga_endpoint_opts_s {
  char *host;                 /* listen address, e.g. "127.0.0.1" */
  uint16_t port;              /* 0: an ephemeral port */
  char *path;                 /* "/socket": clients use PATH/websocket */
  char **topics;              /* exact topics or "prefix:*" */
  size_t ntopics;
  char *event;                /* "phoenix_gen_api" */
  pga_ep_auth_t auth;
  char *secret_key_base, *salt; /* phoenix_token */
  int64_t max_age_s;          /* phoenix_token max_age (86400) */
  char *rpc_node, *rpc_module, *rpc_function; /* rpc */
  char **rpc_headers;         /* rpc: headers put in the connect info */
  size_t nrpc_headers;
  unsigned rpc_timeout_ms;    /* rpc (5000) */
  int check_origin;           /* 0: any origin */
  char *certfile, *keyfile;   /* wss when set */
  char **origins;             /* allowed origins when check_origin */
  size_t norigins;
  size_t max_frame_bytes;     /* largest message accepted (1048576) */
  uint64_t heartbeat_timeout_ms; /* close after this silence (60000) */
  int override_user_id;       /* true */
  int require_verified_user_id; /* true */
  size_t max_connections;     /* 100000 */
  size_t max_out_bytes;       /* queued output per connection (8 MiB) */
  size_t max_channels;        /* joins per connection (100) */
} pga_endpoint_opts_t;

/* The defaults above (strings NULL: host "127.0.0.1", path "/socket",
 * event "phoenix_gen_api", topics none). */
void pga_endpoint_opts_init(pga_endpoint_opts_t *o);
void pga_endpoint_opts_free(pga_endpoint_opts_t *o);

/* Loads a certificate and key as the endpoint would: 0, or -1 with err
 * naming endpoint.certfile or endpoint.keyfile. */
int pga_endpoint_tls_check(const char *certfile, const char *keyfile,
                           char *err, size_t errlen);

/* Starts listening on node's loop (after pga_node_start, before
 * pga_node_run). o is copied. 0, or a negative PGA_E* with err filled. */
int pga_endpoint_start(pga_node_t *node, const pga_endpoint_opts_t *o,
                       char *err, size_t errlen);
/* The bound port of node's endpoint (0: none). */
uint16_t pga_endpoint_port(pga_node_t *node);
/* Closes every connection and the listener; after pga_node_run returned,
 * before pga_node_free. Unknown nodes are ignored. */
void pga_endpoint_stop(pga_node_t *node);

/* Live figures (loop thread or after it ended). */
typedef struct pga_endpoint_stats_s {
  uint64_t connections;   /* open WebSocket connections */
  uint64_t joins;         /* joined channels */
  uint64_t accepted, refused;
  uint64_t bytes_in, bytes_out;
  uint64_t requests;
} pga_endpoint_stats_t;
int pga_endpoint_stats(pga_node_t *node, pga_endpoint_stats_t *out);

#endif
