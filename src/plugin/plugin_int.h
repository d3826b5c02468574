/* Folder-private: the plugin host's state, shared by loader.c (loading and
 * checking plugin files), declare.c (FunConfig declarations), supporter.c
 * (pga_node:get_config*, the pull side) and pusher.c (the push side). The
 * unit tests use these declarations too. */
#ifndef PGA_PLUGIN_PLUGIN_INT_H
#define PGA_PLUGIN_PLUGIN_INT_H

#include <stddef.h>

#include "config/funconfig.h"
#include "pga/plugin.h"
#include "rpc/rpc.h"

/* One loaded plugin. */
typedef struct pga__plugin_s {
  char *path;
  void *handle; /* dlopen handle */
  const pga_plugin_t *desc;
  unsigned struct_version; /* what the host may read of desc */
  const char *name;        /* in desc */
  const char *service;     /* desc->service, or name */
  pga_plugin_ctx_t ctx;
  size_t nfns;               /* rows registered */
  int started;               /* its start hook ran (or it has none) */
  pga_funconfig_t **configs; /* the announced FunConfigs, table order */
  size_t nconfigs;
  struct pga__plugin_s *next;
} pga__plugin_t;

struct pga_plugin_host_s {
  pga_node_t *node;
  pga_rpc_t *rpc;
  char node_name[PGA_ATOM_BUF];
  pga__plugin_t *first, *last; /* load order */
  size_t count;
  int started;
};

/* ---- declare.c ---- */

/* Checks one row's FunConfig declaration against the row (arity, fields).
 * 0, or PGA_EINVAL with the reason in err (no file or function named). */
int pga__decl_check(const pga_plugin_fn_t *row, char *err, size_t errlen);
/* Builds the FunConfig of a checked row. NULL on ENOMEM. */
pga_funconfig_t *pga__decl_funconfig(const pga_plugin_fn_t *row,
                                     const char *service,
                                     const char *node_name);

/* ---- supporter.c ---- */

/* Registers pga_node:get_config/0,1, get_config_version/0,1, plugins/0,
 * push_config/1,2 and verify_config/1,2 with udata = host. */
int pga__supporter_register(pga_plugin_host_t *h);
void pga__supporter_unregister(pga_plugin_host_t *h);

/* {ok, [FunConfig]} of one service (a binary or an atom of the same text;
 * NULL = every service), or {error, not_found} for a service nobody
 * serves. */
void pga__supporter_configs(const pga_plugin_host_t *h,
                            const pga_term_t *service, pga_tb_t *out);
/* The config version of one service (NULL = all): a binary that changes
 * when the FunConfigs change (digest of their encoding), or the atom nil
 * for a service nobody serves. */
void pga__supporter_version(const pga_plugin_host_t *h,
                            const pga_term_t *service, pga_tb_t *out);
/* 1 if some plugin serves this service (NUL-terminated name). */
int pga__supporter_has_service(const pga_plugin_host_t *h, const char *s);

/* ---- pusher.c ---- */

/* The library pusher's reply handling (config-plane.md §4.1, §9): for a
 * push, {ok, accepted}, {ok, skipped, R} and {error, R} pass through;
 * for a verify {ok, matched}, {ok, mismatch, V}, {error, R}; then
 * {badrpc, R} becomes {error, {badrpc, R}} and anything else
 * {error, {unexpected_reply, Reply}}. *retry is set to 1 when the gateway
 * is not up yet and a retry may help: {badrpc, nodedown}, or an exit
 * undef of the receiver module or noproc (PhoenixGenApi not started). */
void pga__push_interpret(const pga_term_t *reply, int verify, pga_tb_t *out,
                         int *retry);

/* The interpreted reply of a push or verify in words, for one log line:
 * "accepted", "skipped (:version_matches)", "gateway down or unreachable
 * (nodedown)", "PhoenixGenApi is not started there (noproc)", "refused:
 * <inspect>"... Terms are shown as Elixir inspects them, cut at 160
 * characters with "...". */
void pga__push_reason(const pga_term_t *reply, unsigned timeout_ms,
                      char *out, size_t outlen);

/* Push options (keyword list Opts of push_config/2). */
typedef struct pga__push_opts_s {
  int force;
  int has_service;
  char service[PGA_ATOM_BUF]; /* the service to push */
  pga_term_t config_version;  /* a binary, or len 0 = the digest */
  pga_term_t push_token;      /* a binary or nil; len 0 = nil */
  unsigned timeout_ms;        /* per call, default 5000 */
  unsigned retries;           /* while the gateway is down, default 3 */
  unsigned backoff_ms;        /* first wait, doubled, default 500 */
  unsigned max_backoff_ms;    /* cap, default 30000 */
} pga__push_opts_t;

/* Parses Opts (a proper keyword list; unknown keys are ignored);
 * config_version and push_token are views into opts. 0, or
 * PGA_EINVAL with *bad set to the offending key's index (or -1 when Opts
 * is not a list). */
int pga__push_opts(const pga_term_t *opts, pga__push_opts_t *o, int *bad);
/* Picks the service: the option, else the only one served. 0, or
 * writes {error, Reason} into out and returns PGA_EINVAL. */
int pga__push_service(const pga_plugin_host_t *h, pga__push_opts_t *o,
                      pga_tb_t *out);
/* The complete 12-key %PhoenixGenApi.Structs.PushConfig{} for o->service. */
void pga__push_config(const pga_plugin_host_t *h, const pga__push_opts_t *o,
                      pga_tb_t *out);
/* Runs a push (verify = 0) or a verify on a worker: the calls, retries
 * and interpretation; the interpreted reply goes into out. */
void pga__push_run(pga_call_t *call, const pga_plugin_host_t *h,
                   const char *gateway, const pga__push_opts_t *o, int verify,
                   pga_tb_t *out);

#endif
