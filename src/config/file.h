/* pga-node's configuration file (--config FILE): a JSON object with the
 * library's settings under their library names (config-plane.md §8,
 * request-plane.md §5.2, §7.1, §9.4, ops-plane.md §8), read with jansson.
 *
 *   {"gen_api": {"pull_timeout": 5000, "pull_interval": 30000,
 *                "service_configs": [...]},
 *    "push_token": "...", "mfa_allowlist": [...], "detail_error": false,
 *    "admin_actions": [...], "client_mode": false,
 *    "rate_limiter": {...}, "worker_pool": {...},
 *    "request": {"max_payload_bytes": ...}, "argument_handler": {...},
 *    "dist": {"interface": ..., "port_min": ..., "port_max": ..., "port": ...},
 *    "local_services": true}
 *
 * Every key is optional; a missing key or null means the library's
 * default. An unknown key, a wrong type or a value out of range is an
 * error naming the key by its path ("gen_api.pull_timeout",
 * "mfa_allowlist[2]"). README "Configuration file" and pga-node(1) list
 * every key; docs/compat.md C22-C26 record the decisions. */
#ifndef PGA_CONFIG_FILE_H
#define PGA_CONFIG_FILE_H

#include <stddef.h>

#include "config/config.h"
#include "dist/tls_conf.h"
#include "pga/term.h"

/* Admin actions (ops-plane.md §8.1), as bits of admin_actions. */
#define PGA_ADMIN_CHANGE_DETAIL_ERROR 0x01u
#define PGA_ADMIN_UPDATE_RATE_LIMIT_CONFIG 0x02u
#define PGA_ADMIN_PUSH_CONFIG 0x04u
#define PGA_ADMIN_ENABLE_TRACING 0x08u
#define PGA_ADMIN_DISABLE_TRACING 0x10u

/* Largest file read (bytes). */
#define PGA_CONFFILE_MAX_BYTES (16u * 1024u * 1024u)

typedef struct pga_conffile_s {
  /* The config plane's options; their buffers point into this struct. */
  pga_config_opts_t config;
  /* Stored for the request and ops planes (defaults as the library's). */
  int detail_error;                /* false */
  unsigned admin_actions;          /* PGA_ADMIN_* bits; none */
  struct {
    int enabled;                   /* true */
    int fail_open;                 /* true */
    unsigned timeout_ms;           /* 1000 */
    unsigned cleanup_interval_ms;  /* 60000 (reported only) */
    unsigned instance_count;       /* 0 = schedulers online */
    int routing_random;            /* 0 = :hash, 1 = :random */
    pga_tb_t *global_limits;       /* list of %{key, max_requests, window_ms} */
    pga_tb_t *api_limits;          /* list of %{service, request_type, key,
                                      max_requests, window_ms} */
  } rate_limiter;
  struct {
    unsigned async_pool_size;           /* 1000 */
    unsigned stream_pool_size;          /* 500 */
    unsigned max_queue_size;            /* 10000 */
    unsigned circuit_breaker_threshold; /* 5 */
    unsigned circuit_breaker_cooldown_ms; /* 60000 */
  } worker_pool;
  size_t max_payload_bytes;        /* request.max_payload_bytes 1000000 */
  size_t max_term_bytes;           /* pga's own: 0 = the node's default
                                      (64 MiB); see pga-node(1) */
  struct {
    size_t string_max_bytes;       /* 3000 */
    size_t list_max_items;         /* 1000 */
    size_t map_max_items;          /* 1000 */
  } argument_handler;
  /* config_pusher: pga pushes its own PushConfig (plugin functions) to
   * these gateways at start-up, as the library's ConfigPusher does. */
  pga_tb_t *pusher_gateways;       /* list of node atoms, or NULL */
  pga_tb_t *pusher_opts;           /* keyword list for pga_node:push_config/2 */
  int push_on_startup;             /* true */
  /* "dist": the distribution's network surface, as pga-node's --dist-*
   * options (which replace them when given). 0/NULL = not set. */
  struct {
    char *interface;               /* IPv4 or IPv6 literal (owned) */
    unsigned port_min, port_max;   /* listen port range */
    unsigned port;                 /* fixed port without epmd */
    /* proto and TLS settings (file_dist.c) */
    int tls;                       /* proto "inet_tls" */
    char *optfile;                 /* ssl_dist_optfile, or NULL */
    int has_ssl;                   /* ssl given: settings in ssl */
    pga_tls_conf_t ssl;
  } dist;
  /* local_services: the plugins' FunConfigs are stored in this node's own
   * gateway as nodes: :local configs at start-up (src/plugin/local.h). */
  int local_services;              /* true */
  /* The "endpoint" object as compact JSON text, or NULL; pga-node reads
   * it (src/node/endpoint_conf.c), errors naming "endpoint.KEY". */
  char *endpoint_json;
  /* Advice that is not an error (binary node names...), one per line. */
  char *warnings;
  /* owned storage behind config */
  char *push_token;
  pga_tb_t *allowlist;
  pga_tb_t *service_configs;
} pga_conffile_t;

/* The defaults (as if an empty object were read). Can't fail. */
void pga_conffile_init(pga_conffile_t *cf);
/* Reads path into cf (initialised by pga_conffile_init). 0, or -1 with
 * err filled ("FILE: gen_api.pull_timeout: ..."); cf then holds only
 * defaults and must still be freed. */
int pga_conffile_load(pga_conffile_t *cf, const char *path, char *err,
                      size_t errlen);
/* The same from text in memory (name is used in messages). */
int pga_conffile_parse(pga_conffile_t *cf, const char *name,
                       const char *text, size_t len, char *err,
                       size_t errlen);
void pga_conffile_free(pga_conffile_t *cf);
/* file_dist.c: the "dist" object (NULL = absent). 0, or -1 with err. */
struct json_t;
int pga__conffile_dist(pga_conffile_t *cf, const char *name,
                       struct json_t *dist,
                       char *err, size_t errlen);

#endif
