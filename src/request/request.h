/* The request plane's building blocks as offered to the pipeline above
 * (request-plane.md): erlang:phash2/2, node selection, argument
 * validation and conversion, permission modes, the rate limiter and the
 * retry rules. Each is pure or owns only its own state; none does I/O,
 * RPC or telemetry: the pipeline does those with the results given here.
 *
 * Invariants:
 *   1. Every function takes terms as views (pga_term_t) that the caller
 *      keeps alive for the call, and checks them as untrusted input: a
 *      malformed or unexpected term gives an error or the library's
 *      documented outcome, never a crash.
 *   2. Library exceptions are data. Where PhoenixGenApi raises (argument
 *      validation §5.6, permission §3.4), the functions return PGA_EINVAL
 *      (PGA_PERM_RAISE) and fill a pga_request_exc_t with the exception's
 *      kind, Exception.message/1 and inspect/1 texts, so the pipeline can
 *      build E7d, E16 or the channel reply.
 *   3. Terms written for peers go into a caller pga_tb_t (the builder's
 *      sticky error tells the caller about ENOMEM / ETOOBIG).
 *   4. Stateful objects (selector, limiter) are safe to share between
 *      threads: each guards its state with its own lock and holds it only
 *      for in-memory work, never across I/O (the periodic cleanup and
 *      purge walk a whole table under it). */
#ifndef PGA_REQUEST_REQUEST_H
#define PGA_REQUEST_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "pga/term.h"

/* ---- The request (§1.1) ---- */

/* A decoded Request as views: one per struct field, the atom nil where
 * the field is absent. Filled by the pipeline's decoder, or from the wire
 * struct by pga_request_from_struct. */
typedef struct pga_request_s {
  pga_term_t request_id;
  pga_term_t request_type;
  pga_term_t service;
  pga_term_t user_id;
  pga_term_t device_id;
  pga_term_t args;
  pga_term_t user_roles;
  pga_term_t version;
} pga_request_t;

/* The atom nil as a view (static storage). Can't fail. */
pga_term_t pga_request_nil(void);

/* Fills *req from a %PhoenixGenApi.Structs.Request{} map (atom keys;
 * missing keys read as nil, the struct tag is not required). Views point
 * into map. 0, or PGA_ETYPE when map is not a map. */
int pga_request_from_struct(const pga_term_t *map, pga_request_t *req);

/* The field named by the binary name ("user_id", "args", "__struct__"...),
 * as Map.get(request, String.to_atom(name)) sees it: nil for unknown
 * names. Can't fail. */
pga_term_t pga_request_field(const pga_request_t *req, const char *name,
                             size_t len);

/* ---- Library exceptions (§3.4, §5.6) ---- */

/* Append only. */
typedef enum {
  PGA_EXC_NONE = 0,
  PGA_EXC_ARGUMENT_ERROR,     /* ArgumentError */
  PGA_EXC_RUNTIME_ERROR,      /* RuntimeError */
  PGA_EXC_BAD_MAP,            /* BadMapError */
  PGA_EXC_FUNCTION_CLAUSE,    /* FunctionClauseError */
  PGA_EXC_PROTOCOL_UNDEFINED, /* Protocol.UndefinedError */
  PGA_EXC_INVALID_TYPE,       /* PhoenixGenApi.Errors.InvalidType */
  PGA_EXC_ARITHMETIC          /* ArithmeticError */
} pga_exc_kind_t;

typedef struct pga_request_exc_s {
  pga_exc_kind_t kind;
  char *message; /* Exception.message/1, malloc'ed, NUL-terminated */
  char *inspect; /* inspect/1 of the exception struct (E7d), malloc'ed */
} pga_request_exc_t;

/* Frees the texts and zeroes *e. Can't fail; NULL is ignored. */
void pga_request_exc_clear(pga_request_exc_t *e);

/* ---- erlang:phash2/2 (§8.3), phash2.c ---- */

/* make_hash2(t): OTP's portable 32-bit term hash, bit-exact for every
 * term type (local funs: the OTP 25 formula). O(size of t), no recursion
 * on the C stack. 0, PGA_EBADTERM or PGA_ENOMEM (a term nested deeper
 * than 64 levels needs heap for its stack). */
int pga_request_hash2(const pga_term_t *t, uint32_t *out);

/* erlang:phash2(t, range) for 1 <= range <= 2^32 (PGA_ERANGE otherwise);
 * range 2^27 is phash2/1. */
int pga_request_phash2(const pga_term_t *t, uint64_t range, uint32_t *out);

/* ---- Node selection (§8.1, §8.2), selector.c ---- */

typedef enum {
  PGA_NODES_INVALID = 0, /* {:error, {:invalid_nodes_configuration, v}} */
  PGA_NODES_LIST,        /* a list: select among its atoms and binaries */
  PGA_NODES_LOCAL,       /* :local, the gateway's own node (§14.1) */
  PGA_NODES_RESOLVER     /* {m, f, a}: the pipeline calls it first */
} pga_nodes_kind_t;

/* What a FunConfig's nodes field is. Can't fail. */
pga_nodes_kind_t pga_request_nodes_kind(const pga_term_t *nodes);

/* Writes the node-selection error reasons of §8.1 (the term inside
 * "node selection failed: <inspect(reason)>"). */
void pga_request_nodes_invalid_reason(pga_tb_t *tb, const pga_term_t *nodes);
/* A resolver's return value: 0 if it is a list (select among it), else
 * PGA_ETYPE with {:dynamic_node_resolution_failed, {:invalid_return_type,
 * v}} written to reason (may be NULL). */
int pga_request_nodes_resolved(const pga_term_t *result, pga_tb_t *reason);

typedef struct pga_request_selector_s pga_request_selector_t;

/* Connectivity: 1 if node (an atom or binary term) may be called now. */
typedef int (*pga_node_up_fn)(const pga_term_t *node, void *ud);
/* Uniform 64-bit random numbers (thread-safe if the selector is shared). */
typedef uint64_t (*pga_random_fn)(void *ud);

#define PGA_SELECTOR_OPTS_VERSION 1
typedef struct pga_selector_opts_s {
  int struct_version;
  pga_node_up_fn node_up; /* NULL: every node counts as connected, which
                             is the library's behaviour (§8.1) */
  void *node_up_ud;
  pga_random_fn random;   /* NULL: SipHash of a counter under the
                             process key */
  void *random_ud;
  size_t sticky_cap;      /* 100000 entries */
  int64_t sticky_ttl_ms;  /* 3600000 */
} pga_selector_opts_t;

/* opts may be NULL (all defaults). 0, PGA_EINVAL or PGA_ENOMEM. */
int pga_request_selector_new(const pga_selector_opts_t *opts,
                             pga_request_selector_t **out);
void pga_request_selector_free(pga_request_selector_t *sel);
/* NodeSelector.reset_round_robin/0: the shared counter back to 0. */
void pga_request_selector_reset_round_robin(pga_request_selector_t *sel);
/* Removes sticky entries stored before now_ms - ttl (the hourly purge).
 * Returns how many. O(entries). */
size_t pga_request_selector_purge(pga_request_selector_t *sel,
                                  int64_t now_ms);
size_t pga_request_selector_sticky_size(pga_request_selector_t *sel);

/* get_nodes (§8.2): the ordered node list for execution and fallback,
 * primary first, computed exactly as the library over the atoms and
 * binaries of list (config order kept); then nodes that node_up reports
 * down are left out, order kept. out receives views into list; cap is its
 * size. now_ms is wall-clock milliseconds (sticky TTL). reason (may be
 * NULL) receives the error term on failure.
 *   0                 *n >= 1 nodes in out
 *   PGA_ENOTFOUND     no atom or binary node: :no_nodes_available
 *   PGA_EINVAL        unknown mode: {:invalid_choose_node_mode, mode}
 *   PGA_ETYPE         {:hash, k} / {:sticky, k} with args not a map (the
 *                     library raises BadMapError)
 *   PGA_ENODEDOWN     every node is down (nothing written to reason)
 *   PGA_ETOOBIG       more than cap nodes; PGA_EBADTERM; PGA_ENOMEM
 * O(n) in the list length; sticky lookups O(1) average. */
int pga_request_select_nodes(pga_request_selector_t *sel,
                             const pga_term_t *list, const pga_term_t *mode,
                             const pga_request_t *req, int64_t now_ms,
                             pga_term_t *out, size_t cap, size_t *n,
                             pga_tb_t *reason);

/* get_node (§8.2, used for remote permission callbacks): the first node of
 * the ordered list above; same errors. */
int pga_request_select_node(pga_request_selector_t *sel,
                            const pga_term_t *list, const pga_term_t *mode,
                            const pga_request_t *req, int64_t now_ms,
                            pga_term_t *node, pga_tb_t *reason);

/* resolve_nodes_list for :all_nodes retries (§8.5): the atoms and
 * binaries of list in config order, down nodes left out. *n may be 0.
 * 0, PGA_ETOOBIG or PGA_EBADTERM. */
int pga_request_select_all(pga_request_selector_t *sel,
                           const pga_term_t *list, pga_term_t *out,
                           size_t cap, size_t *n);

/* ---- Arguments (§4, §5), args.c ---- */

/* App env :argument_handler (§5.2); zero fields mean the defaults. */
typedef struct pga_args_limits_s {
  uint64_t string_max_bytes; /* 3000 */
  uint64_t list_max_items;   /* 1000 */
  uint64_t map_max_items;    /* 1000 */
} pga_args_limits_t;

/* What the conversion reads: FunConfig fields and the request. */
typedef struct pga_args_input_s {
  pga_term_t arg_types;  /* nil, or a map name => spec */
  pga_term_t arg_orders; /* a list, :map, [] or nil */
  const pga_request_t *req;
  const pga_args_limits_t *limits; /* NULL = defaults */
} pga_args_input_t;

/* ArgumentHandler.convert_args!/2: validates every argument, converts,
 * and writes the converted argument list (§4 "converted") to out as one
 * list term. 0; PGA_EINVAL with *exc filled when the library raises;
 * PGA_ENOMEM. O(a log a + s log s + s * o) for a args, s specs, o names
 * in arg_orders; specs with more than 32 names are walked in wire order
 * (docs/compat.md R3). */
int pga_request_args_convert(const pga_args_input_t *in, pga_tb_t *out,
                             pga_request_exc_t *exc);

/* The final call argument list (§4): predefined ++ converted ++ info,
 * where info is [%{request_id, user_id, device_id}] when request_info is
 * true, plus stream_pid when stream_pid is not NULL. Same results as
 * pga_request_args_convert; PGA_ETYPE if predefined is not a proper
 * list. */
int pga_request_args_build(const pga_args_input_t *in,
                           const pga_term_t *predefined, int request_info,
                           const pga_term_t *stream_pid, pga_tb_t *out,
                           pga_request_exc_t *exc);

/* Uniq.UUID.valid?/1 (§5.5) on a binary. Can't fail. */
int pga_request_uuid_valid(const unsigned char *s, size_t len);

/* ---- Permission (§6), permission.c ---- */

typedef enum {
  PGA_PERM_ALLOW = 1,
  PGA_PERM_DENY,
  PGA_PERM_CALLBACK, /* {m, f, a} decides: call it (§6.3) */
  PGA_PERM_RAISE     /* the library raises before deciding (§3.4) */
} pga_perm_result_t;

typedef struct pga_perm_input_s {
  pga_term_t check_permission;
  pga_term_t permission_callback;
  pga_term_t arg_orders;
  int local;                /* the config's nodes is :local */
  const pga_request_t *req; /* after the before hook */
} pga_perm_input_t;

/* Decides the permission of §6.1/§6.2. PGA_PERM_CALLBACK sets *callback to
 * the {m, f, a} view; PGA_PERM_RAISE fills *exc (may be NULL).
 * O(size of args) for {:arg, _}, O(roles x allowed) for {:role, _}. Can't
 * fail. */
pga_perm_result_t pga_request_permission_check(const pga_perm_input_t *in,
                                               pga_term_t *callback,
                                               pga_request_exc_t *exc);

/* The callback's return value decides: allow iff it is exactly true. */
int pga_request_permission_callback_allows(const pga_term_t *result);

/* The PermissionDenied message of §6.3 (for the log): "Permission denied
 * for user: ..., mode: ...". malloc'ed; NULL on ENOMEM. */
char *pga_request_permission_denied_message(const pga_perm_input_t *in);

/* ---- Rate limiter (§7), limiter.c ---- */

typedef struct pga_request_limiter_s pga_request_limiter_t;

#define PGA_LIMITER_OPTS_VERSION 1
typedef struct pga_limiter_opts_s {
  int struct_version;
  int disabled;          /* :enabled is exactly false */
  int fail_closed;       /* :fail_open is exactly false */
  pga_term_t global_limits; /* lists of limit maps, or .buf NULL for [] */
  pga_term_t api_limits;
  size_t max_logs;       /* per table; 0 = 1000000 (R9) */
} pga_limiter_opts_t;

/* 0, PGA_EINVAL (a limits term that is not a proper list) or
 * PGA_ENOMEM. */
int pga_request_limiter_new(const pga_limiter_opts_t *opts,
                            pga_request_limiter_t **out);
void pga_request_limiter_free(pga_request_limiter_t *l);

typedef enum {
  PGA_LIMIT_OK = 0,
  PGA_LIMIT_EXCEEDED,   /* {:error, :rate_limited, details} -> E5 */
  PGA_LIMIT_FAILED,     /* {:error, :rate_limiter_error, %{message}} -> E6 */
  PGA_LIMIT_RAISED      /* check_map only: the library's limiter call
                           dies (out holds the error reason) */
} pga_limit_status_t;

/* The numbers of a denial, for E5 and telemetry. */
typedef struct pga_limit_info_s {
  int64_t max_requests;
  int64_t current_requests;
  int64_t window_ms;
  int64_t retry_after_ms;
  int global;           /* scope :global, else {service, request_type} */
} pga_limit_info_t;

/* check_rate_limit(request) (§7.3): all global limits in order, then the
 * API limits of the request's service and request_type; stops at the
 * first denial; limits passed before it keep their record. now_ms is
 * monotonic milliseconds. Writes the result term (:ok, the denial or the
 * failure, §7.4) to out (may be NULL), fills *info (may be NULL) on a
 * denial. A failing check (malformed limit) is PGA_LIMIT_OK when failing
 * open. Atomic per limiter. Cost per limit: O(log m) with m the stored
 * timestamps of that key (m <= max_requests), amortised O(1) on
 * acceptance; independent of how many requests the key made. */
pga_limit_status_t pga_request_limiter_check(pga_request_limiter_t *l,
                                             const pga_request_t *req,
                                             int64_t now_ms, pga_tb_t *out,
                                             pga_limit_info_t *info);

/* check_rate_limit/1 given a caller's map over rpc (the facade): as
 * pga_request_limiter_check on pga_request_from_struct(map), except where
 * the library's limiter reads `request.field` that map lacks (user_id or
 * device_id for such a limit, args for a custom key, service for any API
 * limit, request_type for one whose service matches) or gives Map.get/2
 * args that are not a map: the checks stop there and PGA_LIMIT_RAISED
 * writes {badkey, Key, Map} or {badmap, Args} to out (not subject to
 * fail_open: the library's call exits). Slots taken before it stay, as in
 * the library. map must be a map (PGA_LIMIT_FAILED otherwise). */
pga_limit_status_t pga_request_limiter_check_map(pga_request_limiter_t *l,
                                                 const pga_term_t *map,
                                                 int64_t now_ms, pga_tb_t *out,
                                                 pga_limit_info_t *info);

/* E5's text for a denial: "Rate limit exceeded. Please retry after N
 * seconds." with N = div(retry_after_ms, 1000). Returns the length, as
 * snprintf. */
size_t pga_request_limiter_e5(int64_t retry_after_ms, char *out,
                              size_t outlen);
#define PGA_LIMITER_E6 "Rate limit service unavailable"

/* The runtime API (§7.4). scope is :global or {service, request_type};
 * another scope, a malformed limit on the way, or a key that does not
 * interpolate is PGA_EINVAL (the library crashes; docs/compat.md R8). Each
 * writes the exact return term to out. check_direct costs what a request
 * check costs; reset is O(limits); status is O(limits * log m). Each
 * limit keeps its own log per key type (docs/compat.md R6): reset deletes
 * value's log of every limit of the scope, status reads each limit's. */
int pga_request_limiter_check_direct(pga_request_limiter_t *l,
                                     const pga_term_t *value,
                                     const pga_term_t *scope,
                                     const pga_term_t *key_type,
                                     int64_t now_ms, pga_tb_t *out);
int pga_request_limiter_reset(pga_request_limiter_t *l,
                              const pga_term_t *value,
                              const pga_term_t *scope, pga_tb_t *out);
int pga_request_limiter_status(pga_request_limiter_t *l,
                               const pga_term_t *value,
                               const pga_term_t *scope, int64_t now_ms,
                               pga_tb_t *out);
/* get_rate_limit_config/0 and get_global_limits/0. Can't fail (the
 * builder may). */
void pga_request_limiter_config(pga_request_limiter_t *l, pga_tb_t *out);
void pga_request_limiter_global_limits(pga_request_limiter_t *l,
                                       pga_tb_t *out);
/* set_global_limits/1, add_global_limit/1, remove_global_limit/1: :ok to
 * out. PGA_EINVAL for a non-list / non-map argument (no function clause
 * in the library), PGA_ENOMEM. O(size of the limits); stored logs are
 * kept. */
int pga_request_limiter_set_global(pga_request_limiter_t *l,
                                   const pga_term_t *limits, pga_tb_t *out);
int pga_request_limiter_add_global(pga_request_limiter_t *l,
                                   const pga_term_t *limit, pga_tb_t *out);
int pga_request_limiter_remove_global(pga_request_limiter_t *l,
                                      const pga_term_t *key, pga_tb_t *out);
/* update_rate_limit_config/1 with the admin decisions made by the caller
 * (app env :admin_actions): :ok or {:error, :admin_action_denied}. */
int pga_request_limiter_update(pga_request_limiter_t *l,
                               const pga_term_t *config, int allow_update,
                               int allow_detail_error, pga_tb_t *out);
/* The periodic cleanup (every 60 s in the library): drops timestamps at
 * or before now_ms - max_window (per table: the largest window_ms of the
 * limits given at creation, 60000 when none) and deletes empty logs.
 * Returns the number of timestamps dropped. O(stored timestamps). */
size_t pga_request_limiter_cleanup(pga_request_limiter_t *l, int64_t now_ms);
/* Logs stored (global + API). */
size_t pga_request_limiter_logs(pga_request_limiter_t *l);
/* Logs stored per table (the library's :rate_limiter_global and
 * :rate_limiter_api ETS tables). */
void pga_request_limiter_table_logs(pga_request_limiter_t *l, size_t *global,
                                    size_t *api);
/* How many global and API limits are configured now (cleanup
 * telemetry). */
void pga_request_limiter_counts(pga_request_limiter_t *l, size_t *global,
                                size_t *api);

/* ---- Inputs from a FunConfig, fcview.c ---- */

struct pga_funconfig_s;

/* Fill the inputs above from fc's fields (views valid until fc changes).
 * Can't fail. */
void pga_request_args_input_of(const struct pga_funconfig_s *fc,
                               const pga_request_t *req,
                               const pga_args_limits_t *limits,
                               pga_args_input_t *in);
void pga_request_perm_input_of(const struct pga_funconfig_s *fc,
                               const pga_request_t *req,
                               pga_perm_input_t *in);

/* ---- Retry (§8.4, §8.5), retry.c ---- */

typedef enum {
  PGA_RETRY_NONE = 0,
  PGA_RETRY_SAME_NODE,
  PGA_RETRY_ALL_NODES
} pga_retry_mode_t;

typedef struct pga_retry_s {
  pga_retry_mode_t mode;
  int64_t n;             /* remaining retries */
} pga_retry_t;

/* FunConfig.normalize_retry/1: nil -> none; a number -> all_nodes with
 * trunc(n); {:same_node | :all_nodes, number} -> n truncated. 0, or
 * PGA_EINVAL for any other shape (the config is invalid). Numbers past
 * int64 saturate. */
int pga_request_retry_normalize(const pga_term_t *retry, pga_retry_t *out);

/* The current retry config as a term (nil, {:same_node, n}...): the mode
 * of the exhausted telemetry. */
void pga_request_retry_encode(pga_tb_t *tb, const pga_retry_t *r);

/* NodeSelector.calculate_backoff(n) with jitter factor 0.5 + u, u in
 * [0, 1) (u < 0: no jitter). 0, PGA_EINVAL for n < 1, or PGA_ERANGE for
 * n >= 1019 where the library's float arithmetic overflows and it raises
 * ArithmeticError. */
int pga_request_retry_backoff(int64_t n, double u, int64_t *ms);

/* {:error, _} or {:error, _, _}. Can't fail. */
int pga_request_retryable(const pga_term_t *result);

/* One more pass? If result is retryable and r->n > 0: returns 1, sets
 * *attempt to r->n (telemetry attempt and backoff input) and decrements
 * r->n. Else 0 (then call pga_request_retry_final). Can't fail. */
int pga_request_retry_next(pga_retry_t *r, const pga_term_t *result,
                           int64_t *attempt);

/* Remote finalisation (§8.5): 1 if result is retryable, i.e. the pipeline
 * emits the exhausted event and answers {:error, :retry_exhausted}. */
int pga_request_retry_final(const pga_term_t *result);

/* The fallback rule of §8.4 for one node's :rpc.call result: 1 to stop
 * with this result, 0 to try the next node remembering the error written
 * to remembered ({:error, :timeout}, {:error, :rpc_exit}, {:error, r}). */
int pga_request_rpc_outcome(const pga_term_t *rpc_result,
                            pga_tb_t *remembered);

/* The RPC timeout t of §8.4: a positive integer timeout; 25000 for
 * :infinity; else 5000. Can't fail. */
int64_t pga_request_rpc_timeout(const pga_term_t *timeout);

/* The two above read from a compiled FunConfig (config/funconfig.h):
 * the same results without a term walk; a retry of any other shape
 * reads as none (what the executor does with PGA_EINVAL). */
struct pga_fc_compiled_s;
void pga_request_retry_of(const struct pga_fc_compiled_s *c,
                          pga_retry_t *out);
int64_t pga_request_rpc_timeout_of(const struct pga_fc_compiled_s *c);

#endif
