/* The config plane as offered to the layers above (request plane, ops
 * plane, pga-node): start it on a node, look FunConfigs up.
 *
 * The plane serves PhoenixGenApi's ConfigDb, ConfigReceiver, ConfigFailed
 * and ConfigPuller over RPC (config-plane.md) under their exact module
 * atoms, plus the top-level PhoenixGenApi aliases.
 *
 * Invariants:
 *   1. One mutex per plane guards all its state (store, failed log,
 *      receiver maps, puller maps). RPC functions are registered without
 *      PGA_FN_INLINE and run on worker threads; each takes the lock for its
 *      critical section only. Nothing blocks while holding it: no RPC, and
 *      no I/O but the journal append of a change (one write(2); fsync comes
 *      after the lock, durable.h; a compaction is the exception, C30).
 *      Work that needs no state (decoding, PushConfig and FunConfig
 *      validation, token check, error strings) runs before the lock.
 *   2. A push's version check, store writes and state update happen in one
 *      critical section, so pushes are serialised (for all services, which
 *      includes "per service", spec §4).
 *   3. Every key is the exact term a peer sent (:svc and "svc" differ);
 *      only validation and "enforce service name" use same_service?.
 *   4. Network input is bounded: struct maps over 1024 pairs and
 *      fun_configs lists over max_fun_configs are refused as
 *      :invalid_push_config_data; the failed log holds at most failed_cap
 *      entries (oldest dropped first).
 *   5. The puller's rounds run on the node's loop thread with
 *      asynchronous calls (puller.c); with a data dir, a change is
 *      answered only once its journal record is on disk (durable.h). */
#ifndef PGA_CONFIG_CONFIG_H
#define PGA_CONFIG_CONFIG_H

#include <stddef.h>

#include "config/funconfig.h"
#include "pga/node.h"

typedef struct pga_config_plane_s pga_config_plane_t;

/* Zero means "the default" for every field. Fields are only appended;
 * struct_version says which exist. */
#define PGA_CONFIG_OPTS_VERSION 2
typedef struct pga_config_opts_s {
  int struct_version;
  const char *push_token;      /* NULL = no token (§7) */
  size_t push_token_len;       /* 0 with a token: strlen(push_token) */
  const char *mfa_allowlist;   /* encoded list term (no version byte), or
                                  NULL = no allowlist (§2.3) */
  size_t mfa_allowlist_len;
  unsigned pull_interval_ms;   /* 30000 */
  unsigned pull_timeout_ms;    /* 5000 (see PGA_CONFIG_F_PULL_TIMEOUT_ZERO) */
  size_t failed_cap;           /* 10000 failed-log entries */
  size_t max_fun_configs;      /* 10000 FunConfigs per push */
  /* end of version 1 */
  unsigned flags;              /* PGA_CONFIG_F_* */
  const char *service_configs; /* encoded list term (no version byte) of
                                  ServiceConfig structs or maps (§8), or
                                  NULL = none */
  size_t service_configs_len;
  const char *data_dir;        /* durable state lives here (durable.c);
                                  NULL = in memory only */
  /* end of version 2 */
} pga_config_opts_t;

/* pull_timeout is 0 (used as is, §8; docs/compat.md C18), not "default". */
#define PGA_CONFIG_F_PULL_TIMEOUT_ZERO 0x1u

#define PGA_CONFIG_DEFAULT_MAX_FUN_CONFIGS 10000

/* Creates the plane and registers its RPC functions on node. Call after
 * pga_node_new and before pga_node_run. On failure fills err and returns
 * a negative PGA_E* code (nothing registered stays usable). */
int pga_config_plane_start(pga_node_t *node, const pga_config_opts_t *opts,
                           char *err, size_t errlen);
/* Frees the plane started on node. Call after pga_node_run returned (no
 * worker runs plane code then). Unknown nodes are ignored. */
void pga_config_plane_stop(pga_node_t *node);
/* The plane started on node, or NULL. */
pga_config_plane_t *pga_config_plane_of(pga_node_t *node);

/* A plane without a node (unit tests, embedding). node may be NULL. */
int pga_config_plane_new(pga_node_t *node, const pga_config_opts_t *opts,
                         pga_config_plane_t **out, char *err, size_t errlen);
void pga_config_plane_free(pga_config_plane_t *p);

/* Runs the plane's RPC function module:function/argc as a caller would,
 * without the network: the value or exception reason goes to out and the
 * outcome is returned. PGA_ERROR with `undef` for unknown functions. */
pga_outcome_t pga_config_call(pga_config_plane_t *p, const char *module,
                              const char *function, size_t argc,
                              const pga_term_t *argv, pga_tb_t *out);

/* A C resolver for ServiceConfig nodes given as {module, function, args}
 * (spec §5.3 step 1, AMBIGUOUS; docs/compat.md C16): at the start of each
 * pull round the puller calls the resolver registered under module and
 * function (atom texts, e.g. "Elixir.ClusterHelper", "get_nodes") with
 * the args list and keeps the atoms of the list it writes into out;
 * anything else, or no resolver under that name, means no nodes. Runs on
 * the loop thread: quick, non-blocking. Register before pga_node_run (or
 * from the loop thread). 0, PGA_EINVAL, PGA_ETOOBIG (32 resolvers) or
 * PGA_ENOMEM; a second registration under one name replaces the first. */
typedef void (*pga_config_resolver_fn)(void *ud, const pga_term_t *args,
                                       pga_tb_t *out);
int pga_config_resolver_register(pga_config_plane_t *p, const char *module,
                                 const char *function,
                                 pga_config_resolver_fn fn, void *ud);

/* The request plane's lookup (§3.2): version NULL, nil or "0.0.0" uses
 * get_fast; otherwise the exact key. A shared reference on success (read
 * only; pga_funconfig_free it, from any thread);
 * PGA_ENOTFOUND, PGA_EBUSY (disabled: exact lookups only) or PGA_ENOMEM. */
int pga_config_lookup(pga_config_plane_t *p, const pga_term_t *service,
                      const pga_term_t *request_type,
                      const pga_term_t *version, pga_funconfig_t **out);

/* ---- Read-only views for the ops plane (ops-plane.md §4.4, §8) ---- */

/* Every stored FunConfig, a snapshot taken under the lock, as a list of
 * {version_key, %FunConfig{}} pairs (version_key: the effective version
 * the store files it under, or nil), order unspecified. 0 or PGA_ENOMEM. */
int pga_config_list_stored(pga_config_plane_t *p, pga_tb_t *out);
/* Security.valid_push_token?/1 against the configured push_token. */
int pga_config_push_token_valid(const pga_config_plane_t *p,
                                const pga_term_t *token);
/* The allow decision of Security.validate_mfa/1 (denylist, then the
 * configured mfa_allowlist): 1 allowed, 0 denied. */
int pga_config_mfa_valid(const pga_config_plane_t *p, const pga_term_t *mfa);

#endif
