/* Folder-private interfaces between the config plane's files: struct
 * shapes, validation, versions, the store, the failed log, the receiver
 * and the puller state, and the plane object that holds them. */
#ifndef PGA_CONFIG_PLANE_INT_H
#define PGA_CONFIG_PLANE_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "config/config_int.h"
#include "config/durable.h"
#include "config/funconfig.h"
#include "telemetry/telemetry.h"
#include "term/term.h"

#define PGA_PUSHCONFIG_STRUCT "Elixir.PhoenixGenApi.Structs.PushConfig"
#define PGA_SERVICECONFIG_STRUCT "Elixir.PhoenixGenApi.Structs.ServiceConfig"

/* ---- PushConfig (pushconfig.c), declaration order ---- */
typedef enum {
  PGA_PC_SERVICE = 0,
  PGA_PC_NODES,
  PGA_PC_CONFIG_VERSION,
  PGA_PC_FUN_CONFIGS,
  PGA_PC_MODULE,
  PGA_PC_FUNCTION,
  PGA_PC_VERSION_MODULE,
  PGA_PC_VERSION_FUNCTION,
  PGA_PC_ARGS,
  PGA_PC_VERSION_ARGS,
  PGA_PC_PUSH_TOKEN,
  PGA_PC_NFIELDS
} pga_pc_field_t;

extern const pga__schema_t pga__push_schema;
/* A PushConfig struct as is, any other map field by field (§1.7).
 * 0, PGA_ETYPE (not a map, or over the bounds) or PGA_ENOMEM. */
int pga_pushconfig_decode(const pga_term_t *t, pga__rec_t **out);
/* The same without copying fun_configs: *fun_configs views it in t. */
int pga_pushconfig_decode_borrowing(const pga_term_t *t, pga__rec_t **out,
                                    pga_term_t *fun_configs);
/* The auto-pull ServiceConfig (§1.6): 0, PGA_ENOTFOUND (module or
 * function not a non-nil atom; *out NULL) or PGA_ENOMEM. */
int pga_pushconfig_service_config(const pga__rec_t *pc, pga__rec_t **out);

/* ---- ServiceConfig (serviceconfig.c) ---- */
typedef enum {
  PGA_SC_SERVICE = 0,
  PGA_SC_NODES,
  PGA_SC_MODULE,
  PGA_SC_FUNCTION,
  PGA_SC_ARGS,
  PGA_SC_VERSION_MODULE,
  PGA_SC_VERSION_FUNCTION,
  PGA_SC_VERSION_ARGS,
  PGA_SC_NFIELDS
} pga_sc_field_t;

extern const pga__schema_t pga__service_schema;
int pga_serviceconfig_decode(const pga_term_t *t, pga__rec_t **out);
/* version_module and version_function both non-nil atoms. */
int pga_serviceconfig_version_enabled(const pga__rec_t *sc);

/* ---- validation (validate.c) ---- */
#define PGA_FC_NCHECKS 16
#define PGA_PC_NCHECKS 6
extern const char *const pga_fc_messages[PGA_FC_NCHECKS];
extern const char *const pga_pc_messages[PGA_PC_NCHECKS];
/* Bit i set: check i of §2.1 failed (0 = valid). Computed once, when fc
 * is built (funconfig.c calls pga__funconfig_validate). */
unsigned pga_funconfig_check(const pga_funconfig_t *fc);
unsigned pga__funconfig_validate(const pga_funconfig_t *fc);
/* 1 if every field has the same bytes (so pga_funconfig_encode would
 * write the same term). */
int pga__funconfig_same_bytes(const pga_funconfig_t *a,
                              const pga_funconfig_t *b);
/* pga_funconfig_decode that also tells whether t is a map whose first
 * __struct__ key names FunConfig, the map's size in bytes (0 when not
 * known: t->len may run past the map), and its shape: PGA__FC_SHAPE_* when
 * pga__funconfig_encode_shape writes t's exact bytes back, else 0. The
 * push path checks and decodes each element in one walk. 0, PGA_ETYPE or
 * PGA_ENOMEM. */
#define PGA__FC_SHAPE_SORTED 1 /* the BEAM's key order */
#define PGA__FC_SHAPE_SCHEMA 2 /* pga_funconfig_encode's */
int pga__funconfig_decode_map(const pga_term_t *t, pga_funconfig_t **out,
                              int *is_struct, size_t *used, int *shape);
void pga__funconfig_encode_shape(pga_tb_t *tb, const pga_funconfig_t *fc,
                                 int shape);

/* ---- a push's fun_configs decoded in one walk (fcscan.c) ---- */
typedef struct pga_fc_scan_s {
  pga_funconfig_t **fcs; /* the elements that decoded, in order */
  unsigned char *shapes; /* each one's shape (0: not re-encodable) */
  size_t nfcs, cap;
  size_t n;              /* elements */
  size_t cells;          /* LIST_EXT cells walked */
  int proper;            /* a proper list */
  int all_structs;       /* every element a FunConfig struct map */
  int all_decoded;       /* every element decoded (nfcs == n) */
} pga_fc_scan_t;

/* Scans list (any term). 0 or PGA_ENOMEM (s freed). */
int pga_fc_scan(const pga_term_t *list, pga_fc_scan_t *s);
/* Frees the FunConfigs still in s (NULL slots are skipped). */
void pga_fc_scan_free(pga_fc_scan_t *s);

/* A fun_configs list held as the FunConfigs it decoded to, for a stored
 * PushConfig (pga__rec_t.fcl): their wire bytes are not kept twice. */
struct pga__fclist_s {
  pga_funconfig_t **fcs;
  unsigned char *shapes;
  size_t n;
};
/* Moves a scanned list into a new fclist when its bytes can be written
 * back exactly (one LIST_EXT cell, every element of a known shape): NULL
 * otherwise (s unchanged) or on ENOMEM. */
pga__fclist_t *pga__fclist_from_scan(pga_fc_scan_t *s);
void pga__fclist_encode(pga_tb_t *tb, const pga__fclist_t *l);
pga__fclist_t *pga__fclist_dup(const pga__fclist_t *l);
void pga__fclist_free(pga__fclist_t *l);

/* Bit i set: check i of §2.2 failed. */
unsigned pga_pushconfig_check(const pga__rec_t *pc);
/* The same over scan, pc's fun_configs already scanned. */
unsigned pga_pushconfig_check_scanned(const pga__rec_t *pc,
                                      const pga_fc_scan_t *scan);
/* The failed messages as a list of binaries, in order. */
void pga_messages_encode(pga_tb_t *tb, const char *const *msgs, unsigned mask,
                         unsigned n);
/* same_service? of §2.4. */
int pga_same_service(const pga_term_t *a, const pga_term_t *b);
/* A non-empty binary other than "0.0.0" (§1.5). */
int pga_version_effective(const pga_term_t *v);
/* Anything but an effective version becomes nil. 0 or PGA_ENOMEM. */
int pga_funconfig_normalize_version(pga_funconfig_t *fc);
/* §2.4 "enforce service name". 0 or PGA_ENOMEM. */
int pga_funconfig_enforce_service(pga_funconfig_t *fc,
                                  const pga_term_t *expected);
/* §2.3; allowlist NULL = not configured. 1 allowed, 0 denied. */
int pga_mfa_allowed(const pga_term_t *mfa, const pga_term_t *allowlist);
/* FunConfig.normalize_retry/1 (§1.2). */
void pga_normalize_retry(pga_tb_t *tb, const pga_term_t *retry);

/* ---- push token (token.c) ---- */
/* configured: the token's bytes, buf NULL = no token configured. */
int pga_push_token_ok(const pga__cterm_t *configured, const pga_term_t *t);

/* ---- versions (version.c) ---- */
typedef struct pga_version_s {
  uint64_t major, minor, patch;
  const char *pre;   /* after '-', NULL if none */
  size_t pre_len;
  const char *build; /* after '+', NULL if none */
  size_t build_len;
} pga_version_t;

/* Strict MAJOR.MINOR.PATCH[-pre][+build]; 1 if it parses. */
int pga_version_parse(const char *s, size_t n, pga_version_t *v);
/* Semver precedence (build ignored). <0, 0, >0. */
int pga_version_cmp_semver(const pga_version_t *a, const pga_version_t *b);
/* Raw term order of Elixir %Version{} structs (§3.2 rule 2). */
int pga_version_cmp_raw(const pga_version_t *a, const pga_version_t *b);

/* ---- store (store.c) ---- */
typedef struct pga_store_s pga_store_t;
pga_store_t *pga_store_new(void);
void pga_store_free(pga_store_t *s);
/* Inserts fc (always taken) under {service, request_type, effective
 * version}, replacing. O(1). 0 or PGA_ENOMEM (fc freed). */
int pga_store_put(pga_store_t *s, pga_funconfig_t *fc);
/* Exact key; NULL if absent. Valid until the next change. O(1). */
const pga_funconfig_t *pga_store_find(const pga_store_t *s,
                                      const pga_term_t *svc,
                                      const pga_term_t *rt,
                                      const pga_term_t *ver);
/* Can't fail; a missing key is fine. O(1). */
void pga_store_delete(pga_store_t *s, const pga_term_t *svc,
                      const pga_term_t *rt, const pga_term_t *ver);
/* 0, PGA_ENOTFOUND or PGA_ENOMEM. O(1). */
int pga_store_set_disabled(pga_store_t *s, const pga_term_t *svc,
                           const pga_term_t *rt, const pga_term_t *ver,
                           int disabled);
/* §3.2 rules 2 and 1; NULL = :not_found. O(1) amortised. */
const pga_funconfig_t *pga_store_fast(pga_store_t *s, const pga_term_t *svc,
                                      const pga_term_t *rt);
const pga_funconfig_t *pga_store_latest(pga_store_t *s, const pga_term_t *svc,
                                        const pga_term_t *rt);
size_t pga_store_count(const pga_store_t *s);
void pga_store_clear(pga_store_t *s);
/* Calls cb on every entry (order unspecified); cb must not change s. */
void pga_store_foreach(const pga_store_t *s,
                       void (*cb)(void *ud, const pga_funconfig_t *fc),
                       void *ud);
/* %{service => %{request_type => [versions]}}, only the services in the
 * list `only` unless NULL. O(groups). 0 or PGA_ENOMEM. */
int pga_store_encode_functions(const pga_store_t *s, pga_tb_t *tb,
                               const pga_term_t *only);
/* [service, ...]. 0 or PGA_ENOMEM. */
int pga_store_encode_services(const pga_store_t *s, pga_tb_t *tb);
/* The disabled field read as truthy. */
int pga_funconfig_disabled(const pga_funconfig_t *fc);

/* ---- failed log (failed.c) ---- */
typedef struct pga_failed_s pga_failed_t;
#define PGA_FAILED_DEFAULT_CAP 10000
#define PGA_FAILED_LIST_LIMIT 100
#define PGA_FAILED_SUMMARY_WINDOW 10000

typedef struct pga_failed_filter_s {
  int source;              /* -1 any, 0 pull, 1 push */
  const pga_term_t *service; /* NULL = any */
  int newest_first;
  size_t limit;
} pga_failed_filter_t;

/* cap 0 = PGA_FAILED_DEFAULT_CAP. NULL on ENOMEM. */
pga_failed_t *pga_failed_new(size_t cap);
void pga_failed_free(pga_failed_t *f);
/* Wall-clock ms source (tests); NULL restores the real clock. */
void pga_failed_set_clock(pga_failed_t *f, int64_t (*now)(void *), void *ud);
/* Records config (a map: service/request_type/version read from it) with
 * a reason list; writes the entry map to out unless NULL. 0/PGA_ENOMEM. */
int pga_failed_record(pga_failed_t *f, const pga_term_t *config,
                      const pga_term_t *reason, int push,
                      const pga_term_t *node, pga_tb_t *out);
/* The same for a FunConfig (stored as a plain 18-key map). */
int pga_failed_record_fc(pga_failed_t *f, const pga_funconfig_t *fc,
                         const pga_term_t *reason, int push,
                         const pga_term_t *node);
int pga_failed_record_msgs(pga_failed_t *f, const pga_funconfig_t *fc,
                           const char *const *msgs, unsigned mask, unsigned n,
                           int push, const pga_term_t *node);
int pga_failed_record_text(pga_failed_t *f, const pga_funconfig_t *fc,
                           const char *text, int push,
                           const pga_term_t *node);
/* list/1 (q NULL = defaults). 0 or PGA_ENOMEM. */
int pga_failed_list(const pga_failed_t *f, const pga_failed_filter_t *q,
                    pga_tb_t *tb);
size_t pga_failed_count(const pga_failed_t *f);
size_t pga_failed_cleanup(pga_failed_t *f);
void pga_failed_clear(pga_failed_t *f);
int pga_failed_summary(const pga_failed_t *f, pga_tb_t *tb);

/* ---- the plane (plane.c) ---- */
typedef struct pga_puller_s pga_puller_t;

struct pga_config_plane_s {
  /* Guards everything below (config.h invariant 1). */
  pthread_mutex_t lock;
  pga_store_t *store;
  pga_failed_t *failed;
  pga_dict_t *pushed;     /* service term -> pga__rec_t PushConfig */
  pga_puller_t *puller;
  pga__cterm_t token;     /* raw bytes; buf NULL = none (§7) */
  pga__cterm_t allowlist; /* a term; buf NULL = not configured (§2.3) */
  size_t max_fun_configs;
  pga_node_t *node;       /* NULL in unit tests */
  pga_durable_t *durable; /* NULL without a data dir (durable.h) */
};

/* A `nodes: :local` FunConfig whose mfa has no registered C function of
 * the arity the request plane calls it with: "local function not
 * available: <inspect(mfa)>" (malloc'ed; docs/compat.md R23). NULL when
 * fc is not :local, the function exists, or there is no node (unit
 * tests). On ENOMEM the bare prefix, or NULL. */
char *pga__config_local_unavailable(const pga_config_plane_t *p,
                                    const pga_funconfig_t *fc);

/* The allowlist as a term pointer for pga_mfa_allowed. */
const pga_term_t *pga__plane_allowlist(const pga_config_plane_t *p,
                                       pga_term_t *tmp);

/* ---- RPC function tables (one per served module) ---- */
#define PGA_MOD_TOP "Elixir.PhoenixGenApi"
#define PGA_MOD_DB "Elixir.PhoenixGenApi.ConfigDb"
#define PGA_MOD_RECEIVER "Elixir.PhoenixGenApi.ConfigReceiver"
#define PGA_MOD_FAILED "Elixir.PhoenixGenApi.ConfigFailed"
#define PGA_MOD_PULLER "Elixir.PhoenixGenApi.ConfigPuller"

/* A served function: argv holds `arity` terms; writes one term to out. */
typedef pga_outcome_t (*pga_cfn_t)(pga_config_plane_t *p,
                                   const pga_term_t *argv, pga_tb_t *out);
typedef struct pga_cfn_def_s {
  const char *module;
  const char *function;
  unsigned arity;
  pga_cfn_t fn;
} pga_cfn_def_t;

/* Each ends with a NULL module. */
extern const pga_cfn_def_t pga_db_fns[];
extern const pga_cfn_def_t pga_failed_fns[];
extern const pga_cfn_def_t pga_receiver_fns[];
extern const pga_cfn_def_t pga_puller_fns[];

/* Exceptions as an Elixir callee raises them (distribution.md §10):
 * FunctionClauseError reaches callers as the atom function_clause; a
 * raised ArgumentError as its exception struct. */
pga_outcome_t pga__function_clause(pga_tb_t *out);
pga_outcome_t pga__argument_error(pga_tb_t *out, const char *message);
/* {:error, reason_atom}. */
pga_outcome_t pga__error_atom(pga_tb_t *out, const char *reason);
/* Reads Keyword.get(opts, key): 1 with *v set, 0 when absent. */
int pga__keyword_get(const pga_term_t *opts, const char *key, pga_term_t *v);

/* ---- ConfigDb operations with the failed-log side effects (db.c) ---- */
/* add/1: writes :ok or {:error, ...} into out. Lock held. */
void pga_db_add(pga_config_plane_t *p, const pga_term_t *fc, pga_tb_t *out);
/* batch_add semantics over decoded FunConfigs (each taken). Returns the
 * number inserted; denied/invalid items are recorded (:pull, nil). Each
 * insert that changes the store goes into t (NULL: none); the service
 * of the first stored entry is copied to first_service unless NULL (the
 * batch_add event). Lock held. */
size_t pga_db_batch_add(pga_config_plane_t *p, pga_funconfig_t **fcs,
                        size_t n, pga_txn_t *t, pga_tb_t *first_service);
/* The reply of a change once its record is on disk (lock NOT held):
 * out stands if commit_rc is 0 and the sync works, else it becomes
 * {:error, :storage_failed} (docs/compat.md C29). */
pga_outcome_t pga__durable_reply(pga_config_plane_t *p, int commit_rc,
                                 uint64_t seq, pga_tb_t *out);

/* ---- telemetry events (events.c; ops-plane.md §6.1, 22-30) ---- */
/* One event being prepared: begin, fill (no-ops when nobody listens),
 * end. Terms are copied, so the caller may build from views it owns and
 * emit after dropping the plane lock. */
typedef struct pga_cfg_event_s {
  pga_telemetry_t *t;
  pga_event_t ev;
  int on;
  pga_tb_t meas, meta;
} pga_cfg_event_t;

void pga__cfg_event_begin(pga_cfg_event_t *e, pga_config_plane_t *p,
                          pga_event_t ev);
/* metadata %{keys[i] => vals[i]}; a NULL value is nil. */
void pga__cfg_event_meta(pga_cfg_event_t *e, size_t n,
                         const char *const *keys,
                         const pga_term_t *const *vals);
/* %{service, request_type, version}. */
void pga__cfg_event_key(pga_cfg_event_t *e, const pga_term_t *svc,
                        const pga_term_t *rt, const pga_term_t *ver);
/* measurements %{keys[i] => vals[i]} (default %{}). */
void pga__cfg_event_meas(pga_cfg_event_t *e, size_t n,
                         const char *const *keys, const int64_t *vals);
void pga__cfg_event_count(pga_cfg_event_t *e, size_t count);
/* Emits when emit is set (and someone listens); frees the builders. */
void pga__cfg_event_end(pga_cfg_event_t *e, int emit);
/* [:config, :batch_add] for `stored` entries, the first one's service. */
void pga__cfg_emit_batch_add(pga_config_plane_t *p, size_t stored,
                             const pga_tb_t *first_service);

/* ---- receiver (receiver.c) ---- */
/* push/2: the reply term into out. Takes the lock itself. */
void pga_receiver_push(pga_config_plane_t *p, const pga_term_t *cfg,
                       int force, pga_tb_t *out);
void pga_receiver_verify(pga_config_plane_t *p, const pga_term_t *svc,
                         const pga_term_t *version, pga_tb_t *out);

/* ---- puller state (puller.c) ---- */
pga_puller_t *pga_puller_new(pga_config_plane_t *p);
void pga_puller_free(pga_puller_t *pl);
/* Adds/replaces sc (taken) under its service. 0 or PGA_ENOMEM. Lock held. */
int pga_puller_put(pga_puller_t *pl, pga__rec_t *sc);
/* The same for a service of the configuration file: not durable (it is
 * re-applied at every start) until replaced or deleted at run time. */
int pga_puller_put_from_config(pga_puller_t *pl, pga__rec_t *sc);
/* The durable services (all but the configuration file's). Lock held. */
size_t pga_puller_durable_count(const pga_puller_t *pl);
void pga_puller_foreach_durable(const pga_puller_t *pl,
                                void (*cb)(void *ud, const pga__rec_t *sc),
                                void *ud);
/* Removes a service from services, versions and api_list. Lock held. */
void pga_puller_remove(pga_puller_t *pl, const pga_term_t *service);
/* get_services/0 as a map of ServiceConfig structs. Lock held. */
void pga_puller_encode_services(pga_puller_t *pl, pga_tb_t *tb);
/* pull_interval and pull_timeout (0 = keep the default; timeout_zero: a
 * configured pull_timeout of 0, C18). Before the puller starts. */
void pga_puller_set_timing(pga_puller_t *pl, unsigned interval_ms,
                           unsigned timeout_ms, int timeout_zero);
/* Starts the rounds on node's loop through pga_rpc_call: the first after
 * 1000 ms (§5.2). From the loop's thread, before pga_node_run or on it. */
void pga_puller_start_on_node(pga_puller_t *pl, pga_node_t *node);

#endif
