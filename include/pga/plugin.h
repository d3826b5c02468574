/* C plugins: shared objects that pga-node loads with --plugin PATH and
 * serves to Erlang/Elixir callers and PhoenixGenApi gateways, and the
 * stream API any served function may use. The guide is plugins.md in
 * pga's documentation directory (`pkg-config --variable=docdir
 * pga-plugin`; /usr/local/share/doc/pga by default).
 *
 * A plugin exports ONE symbol, `pga_plugin` (PGA_PLUGIN_SYMBOL), a
 * pga_plugin_t descriptor (nginx ngx_module_t style):
 *
 *   PGA_PLUGIN_EXPORT const pga_plugin_t pga_plugin = {
 *       PGA_PLUGIN_HEADER,
 *       .name = "pga_example",
 *       .functions = functions,     // table ending in a zero row
 *   };
 *
 * ABI rules:
 * 1. abi_version is the first member and is checked before any other is
 *    read; a plugin built for another PGA_PLUGIN_ABI_VERSION is refused.
 * 2. signature must equal the host's PGA_PLUGIN_SIGNATURE (pointer and
 *    integer sizes, byte order), else "is not binary compatible".
 * 3. Structs grow only by appending members (into their spare slots
 *    first); struct_version says which members exist, and the host reads
 *    a member only if struct_version says it does. Unset members must be
 *    zero (designated initialisers do that).
 * 4. Table rows (pga_plugin_fn_t, pga_plugin_config_t, pga_plugin_arg_t)
 *    keep their size: they grow only into their reserved slots. Any other
 *    change bumps PGA_PLUGIN_ABI_VERSION.
 * 5. Enums and PGA_* flags are append-only.
 *
 * The loader refuses, naming the file: a missing descriptor, a wrong ABI
 * version or signature, a name already loaded, an invalid function table
 * or FunConfig declaration, a {Module, Function, Arity} already served,
 * and an init hook that fails. */
#ifndef PGA_PLUGIN_H
#define PGA_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "pga/common.h"
#include "pga/node.h"
#include "pga/term.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Versions ---- */

/* The plugin ABI major: bumped by any change that is not an append. */
#define PGA_PLUGIN_ABI_VERSION 1
/* Members of pga_plugin_t that exist (see the "end of version" marks). */
#define PGA_PLUGIN_STRUCT_VERSION 1
#define PGA_PLUGIN_SYMBOL "pga_plugin"

/* clang-format off */
#define PGA__PLUGIN_STR(x) #x
#define PGA__PLUGIN_XSTR(x) PGA__PLUGIN_STR(x)
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define PGA__PLUGIN_ORDER "be"
#else
#define PGA__PLUGIN_ORDER "le"
#endif
#if defined(__SIZEOF_POINTER__) && defined(__SIZEOF_LONG__) && \
    defined(__SIZEOF_SIZE_T__)
#define PGA__PLUGIN_SIZES                            \
  "p" PGA__PLUGIN_XSTR(__SIZEOF_POINTER__) "l"       \
  PGA__PLUGIN_XSTR(__SIZEOF_LONG__) "z"              \
  PGA__PLUGIN_XSTR(__SIZEOF_SIZE_T__)
#else
#define PGA__PLUGIN_SIZES "p?l?z?"
#endif
/* What the binary layout depends on beyond the ABI version (nginx's
 * NGX_MODULE_SIGNATURE). */
#define PGA_PLUGIN_SIGNATURE \
  "pga-plugin-" PGA__PLUGIN_XSTR(PGA_PLUGIN_ABI_VERSION) ":" \
  PGA__PLUGIN_SIZES ":" PGA__PLUGIN_ORDER

/* The descriptor's first three members, for a designated initialiser. */
#define PGA_PLUGIN_HEADER                           \
  .abi_version = PGA_PLUGIN_ABI_VERSION,            \
  .struct_version = PGA_PLUGIN_STRUCT_VERSION,      \
  .signature = PGA_PLUGIN_SIGNATURE
/* clang-format on */

/* Makes the descriptor visible even when the plugin is built with
 * -fvisibility=hidden (recommended: nothing else needs exporting). */
#if defined(__GNUC__)
#define PGA_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define PGA_PLUGIN_EXPORT
#endif

/* ---- FunConfig declarations (plugins.md §4) ----
 *
 * A function with a `config` is announced to gateways: the loader turns
 * the declaration into a complete %PhoenixGenApi.Structs.FunConfig{} with
 * service = the plugin's service, nodes = [this node],
 * mfa = {Module, Function, []}, disabled = false, retry = nil, no hooks,
 * hook_timeout = 5000. The function's arity must be what a gateway will
 * call it with (plugins.md §4): the number of declared arguments
 * (1 when args_as_map and any are declared), plus 1 when request_info. */

/* Append only. 0 is :sync so that a zeroed declaration is valid. */
typedef enum {
  PGA_RESPONSE_SYNC = 0,
  PGA_RESPONSE_ASYNC = 1,
  PGA_RESPONSE_STREAM = 2, /* needs request_info (the stream pid) */
  PGA_RESPONSE_NONE = 3
} pga_response_type_t;

/* Argument types a gateway checks before calling (plugins.md §4).
 * :any is left out on purpose: gateways accept it in a config but fail
 * every request that uses it. Append only. */
typedef enum {
  PGA_ARG_STRING = 1,
  PGA_ARG_NUM = 2,
  PGA_ARG_BOOLEAN = 3,
  PGA_ARG_UUID = 4,
  PGA_ARG_LIST_STRING = 5,
  PGA_ARG_LIST_NUM = 6,
  PGA_ARG_LIST_UUID = 7,
  PGA_ARG_LIST_MAP = 8,
  PGA_ARG_MAP = 9
} pga_arg_type_t;

/* One argument. With no option set it is announced in the simple form
 * (`"a" => :num`), else as a keyword list
 * (`"a" => [type: :string, max_bytes: 64, allow_nil?: true]`). */
typedef struct pga_plugin_arg_s {
  const char *name; /* the request's args key; NULL ends the list */
  pga_arg_type_t type;
  unsigned max_bytes; /* :string: 0 = the gateway default (3000) */
  unsigned max_items; /* lists and :map: 0 = the gateway default (1000) */
  int allow_nil;      /* allow_nil?: true */
  void *reserved[4];
} pga_plugin_arg_t;

/* check_permission, as the library's FunConfig. Append only. */
typedef enum {
  PGA_PERM_NONE = 0,          /* false */
  PGA_PERM_AUTHENTICATED = 1, /* :any_authenticated */
  PGA_PERM_ARG = 2,           /* {:arg, permission_arg} */
  PGA_PERM_ROLE = 3           /* {:role, roles} */
} pga_permission_t;

/* choose_node_mode, as the library's FunConfig. Append only. */
typedef enum {
  PGA_NODE_RANDOM = 0,      /* :random */
  PGA_NODE_HASH = 1,        /* :hash (on request_id) */
  PGA_NODE_ROUND_ROBIN = 2, /* :round_robin */
  PGA_NODE_HASH_KEY = 3,    /* {:hash, node_key} */
  PGA_NODE_STICKY = 4       /* {:sticky, node_key} */
} pga_node_mode_t;

/* timeout_ms: 0 means 5000. */
#define PGA_PLUGIN_TIMEOUT_INFINITY 0xFFFFFFFFu

typedef struct pga_plugin_config_s {
  const char *request_type; /* required; unique per version */
  pga_response_type_t response_type;
  unsigned timeout_ms;          /* 100..300000, 0 (5000) or INFINITY */
  const pga_plugin_arg_t *args; /* NULL, or ends with a NULL name;
                                   the order is arg_orders */
  int args_as_map;              /* arg_orders: :map (one map arg) */
  int request_info;             /* request-info map as last arg */
  const char *version;          /* NULL = unversioned; not "0.0.0" */
  pga_permission_t check_permission;
  const char *permission_arg; /* PGA_PERM_ARG: the args key */
  const char *const *roles;   /* PGA_PERM_ROLE: NULL-terminated */
  pga_node_mode_t choose_node_mode;
  const char *node_key; /* PGA_NODE_HASH_KEY, PGA_NODE_STICKY */
  void *reserved[8];
} pga_plugin_config_t;

/* ---- The function table ---- */

/* One served function. Handlers run on the worker pool (PGA_FN_INLINE
 * runs them on the loop thread: quick, non-blocking code only) with a
 * deadline: timeout_ms, or when 0 the config's finite timeout; no config
 * and 0 means none. At the deadline the call ends for its caller with the
 * exit reason {timeout, {Module, Function, Arity}} (rpc:call returns
 * {badrpc, {'EXIT', {timeout, {M, F, A}}}}) and pga_call_cancelled()
 * becomes true; the handler should then return soon, its result is
 * dropped. A handler reports failure by returning PGA_ERROR (or
 * PGA_EXIT / PGA_THROW) with a reason term: the node carries on. */
typedef struct pga_plugin_fn_s {
  const char *module; /* atom text, e.g. "Elixir.PgaExample.Math";
                         NULL ends the table */
  const char *function;
  unsigned arity;
  pga_fn_t fn;
  unsigned flags;                    /* PGA_FN_* (node.h) */
  void *udata;                       /* pga_call_udata() */
  unsigned timeout_ms;               /* handler deadline; 0: see above */
  const pga_plugin_config_t *config; /* NULL: not announced */
  void *reserved[4];
} pga_plugin_fn_t;

/* What hooks get. */
typedef struct pga_plugin_ctx_s {
  int struct_version; /* 1 */
  pga_node_t *node;
  const char *path; /* the file as given to the loader */
  const char *name; /* the plugin's name */
  void *reserved[4];
} pga_plugin_ctx_t;

/* The descriptor. Hooks may be NULL. init and start return 0, or non-zero
 * with a message in err (the load, or the start, is then refused). */
typedef struct pga_plugin_s {
  unsigned abi_version;    /* PGA_PLUGIN_ABI_VERSION; read first */
  unsigned struct_version; /* PGA_PLUGIN_STRUCT_VERSION */
  const char *signature;   /* PGA_PLUGIN_SIGNATURE */
  const char *name;        /* unique: [A-Za-z0-9_.-], 1..64 bytes */
  const char *version;     /* the plugin's own version text, or NULL */
  const char *service;     /* service in its FunConfigs; NULL = name */
  const pga_plugin_fn_t *functions;
  /* After the file is checked, before its functions are registered. */
  int (*init)(const pga_plugin_ctx_t *ctx, char *err, size_t errlen);
  /* Once every plugin is loaded and the node listens, before serving. */
  int (*start)(const pga_plugin_ctx_t *ctx, char *err, size_t errlen);
  /* The node stopped serving: no handler runs any more. */
  void (*stop)(const pga_plugin_ctx_t *ctx);
  /* Just before the file is unloaded (also after a refused start). */
  void (*exit)(const pga_plugin_ctx_t *ctx);
  void (*spare_hooks[8])(void);
  uintptr_t spare[8];
  /* end of struct_version 1 */
} pga_plugin_t;

/* ---- Loading plugins (embedders; pga-node does this for --plugin) ---- */

typedef struct pga_plugin_host_s pga_plugin_host_t;

/* A host for node's plugins. It also serves the pull supporter
 * pga_node:get_config/0,1 and get_config_version/0,1 and the pusher
 * pga_node:push_config/1,2 and verify_config/1,2 (plugins.md).
 * Call before pga_node_run(). 0 or PGA_ENOMEM / PGA_EEXIST (a host
 * exists for this node). */
PGA_EXTERN int pga_plugin_host_new(pga_node_t *node,
                                   pga_plugin_host_t **out) PGA_WARN_UNUSED;
/* Loads a plugin file: checks it, runs its init hook, registers its
 * functions. Before pga_node_run() only. On failure err names the file
 * and the reason, nothing stays registered, and a negative PGA_E* is
 * returned (PGA_EABI for a version or signature mismatch, PGA_EEXIST for
 * a duplicate, PGA_EINVAL for an invalid descriptor, PGA_ENOTFOUND when
 * the file cannot be loaded or has no descriptor). */
PGA_EXTERN int pga_plugin_load(pga_plugin_host_t *host, const char *path,
                               char *err, size_t errlen) PGA_WARN_UNUSED;
/* Runs every start hook in load order (before pga_node_run()). */
PGA_EXTERN int pga_plugin_host_start(pga_plugin_host_t *host, char *err,
                                     size_t errlen) PGA_WARN_UNUSED;
/* Number of plugins loaded. */
PGA_EXTERN size_t pga_plugin_count(const pga_plugin_host_t *host);
/* Runs the stop then exit hooks and unloads every plugin. Call after
 * pga_node_run() returned (or if it never ran), before pga_node_free(). */
PGA_EXTERN void pga_plugin_host_free(pga_plugin_host_t *host);

/* ---- Streams (plugins.md §6) ----
 *
 * A gateway calls a :stream function with the request-info map as last
 * argument; its stream_pid is the gateway's relay process. Everything the
 * function sends reaches the client in order after the call's value: the
 * relay holds chunks until the call returns. A function that streams for
 * a while therefore replies first (pga_call_reply), then sends; one that
 * sends everything before returning works too, the client just gets it
 * all at once. The gateway kills its relay at the config's timeout, and
 * the function's deadline (the same timeout) cancels it then.
 *
 * Worker functions only (not PGA_FN_INLINE), from the handler's own thread.
 * Each send hands the message to the connection and returns: 0, or
 * PGA_ECANCELED once the call is cancelled (the relay died or stopped,
 * the caller gave up, the deadline passed: pga_call_cancelled() is then
 * true and the handler should return), PGA_EINVAL (no stream opened, the
 * stream already ended, or an inline function), PGA_EBADTERM (data is
 * not one complete term), PGA_ENODEDOWN.
 * Back-pressure: while the connection to the relay's node has more than
 * PGA_STREAM_HIGH_WATER bytes queued, a send waits. */
#define PGA_STREAM_HIGH_WATER (1024u * 1024u)

/* Opens the call's stream: info is the request-info map (its stream_pid is
 * used) or a pid. pga monitors that process; its death cancels the call. */
PGA_EXTERN int pga_stream_open(pga_call_t *call, const pga_term_t *info);
/* {result, Data}: one chunk (has_more: true). */
PGA_EXTERN int pga_stream_send_result(pga_call_t *call,
                                      const pga_term_t *data);
/* {last_result, Data}: the last chunk; ends the stream. */
PGA_EXTERN int pga_stream_send_last_result(pga_call_t *call,
                                           const pga_term_t *data);
/* complete: ends the stream. */
PGA_EXTERN int pga_stream_complete(pga_call_t *call);
/* {error, Reason}: the client gets an error response; ends the stream. */
PGA_EXTERN int pga_stream_error(pga_call_t *call, const pga_term_t *reason);

/* Any worker function: sends value to the caller now, as if the function
 * had returned it; the function runs on (streaming) and what it returns
 * later is dropped. 0, PGA_EINVAL (replied already, inline function),
 * PGA_EBADTERM, PGA_ECANCELED (the caller is gone or the deadline
 * passed). */
PGA_EXTERN int pga_call_reply(pga_call_t *call, const pga_term_t *value);

#ifdef __cplusplus
}
#endif
#endif
