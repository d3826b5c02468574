/* PhoenixGenApi.ConfigDb over RPC (spec §3.1): every function with its
 * exact result shapes, and add/batch_add with their failed-log records
 * (source :pull, node nil), which the receiver reuses. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/plane_int.h"
#include "pga/errno.h"
#include "term/inspect.h"
#include "term/term.h"

static void put_ok(pga_tb_t *out) { pga_tb_atom(out, "ok"); }

/* "MFA not allowed: <inspect mfa>", recorded as the library does. */
static void record_denied(pga_config_plane_t *p, const pga_funconfig_t *fc) {
  pga_term_t mfa = pga_funconfig_get(fc, PGA_FC_MFA);
  char *text = pga_term_inspect_dup(&mfa);
  if (!text) return;
  size_t n = strlen(text) + 32;
  char *msg = malloc(n);
  if (msg) {
    snprintf(msg, n, "MFA not allowed: %s", text);
    (void)pga_failed_record_text(p->failed, fc, msg, 0, &pga__t_nil);
  }
  free(msg);
  free(text);
}

/* The mfa gate then validity: 0 if fc may be stored, else 1 for "denied"
 * or 2 for "invalid", with the failed record written. */
static int admit(pga_config_plane_t *p, const pga_funconfig_t *fc) {
  pga_term_t tmp, mfa = pga_funconfig_get(fc, PGA_FC_MFA);
  if (!pga_mfa_allowed(&mfa, pga__plane_allowlist(p, &tmp))) {
    record_denied(p, fc);
    return 1;
  }
  unsigned bad = pga_funconfig_check(fc);
  if (bad) {
    (void)pga_failed_record_msgs(p->failed, fc, pga_fc_messages, bad,
                                 PGA_FC_NCHECKS, 0, &pga__t_nil);
    return 2;
  }
  return 0;
}

/* 1 if fc would change nothing: an equal entry (disabled flag included)
 * is stored under its key. Keeps re-pulled configs out of the journal. */
static int unchanged(const pga_config_plane_t *p, const pga_funconfig_t *fc) {
  pga_term_t svc = pga_funconfig_get(fc, PGA_FC_SERVICE);
  pga_term_t rt = pga_funconfig_get(fc, PGA_FC_REQUEST_TYPE);
  pga_term_t v = pga_funconfig_get(fc, PGA_FC_VERSION);
  const pga_term_t *ver = pga_version_effective(&v) ? &v : &pga__t_nil;
  const pga_funconfig_t *old = pga_store_find(p->store, &svc, &rt, ver);
  /* Equal field bytes are equal encodings: nothing to encode. */
  return old && pga__funconfig_same_bytes(old, fc);
}

size_t pga_db_batch_add(pga_config_plane_t *p, pga_funconfig_t **fcs,
                        size_t n, pga_txn_t *t, pga_tb_t *first_service) {
  size_t stored = 0;
  for (size_t i = 0; i < n; i++) {
    if (admit(p, fcs[i]) != 0) {
      pga_funconfig_free(fcs[i]);
    } else {
      if (t && t->on && !unchanged(p, fcs[i])) pga_txn_store_put(t, fcs[i]);
      if (first_service && stored == 0) {
        pga_term_t svc = pga_funconfig_get(fcs[i], PGA_FC_SERVICE);
        pga_tb_term(first_service, &svc);
      }
      if (pga_store_put(p->store, fcs[i]) == 0)
        stored++;
      else if (first_service && stored == 0)
        pga_tb_reset(first_service);
    }
    fcs[i] = NULL;
  }
  return stored;
}

pga_outcome_t pga__durable_reply(pga_config_plane_t *p, int commit_rc,
                                 uint64_t seq, pga_tb_t *out) {
  if (commit_rc == 0 && pga_durable_sync(p, seq) == 0) return PGA_RETURN;
  pga_tb_reset(out);
  return pga__error_atom(out, "storage_failed");
}

/* [:config, :add] for fc (single add and update), prepared while fc is
 * still ours: the version is FunConfig.version/1 (effective or nil). */
static void add_event_begin(pga_cfg_event_t *e, pga_config_plane_t *p,
                            const pga_funconfig_t *fc) {
  pga_term_t svc = pga_funconfig_get(fc, PGA_FC_SERVICE);
  pga_term_t rt = pga_funconfig_get(fc, PGA_FC_REQUEST_TYPE);
  pga_term_t v = pga_funconfig_get(fc, PGA_FC_VERSION);
  pga__cfg_event_begin(e, p, PGA_EV_CONFIG_ADD);
  pga__cfg_event_key(e, &svc, &rt, pga_version_effective(&v) ? &v : NULL);
}

static pga_outcome_t fn_add(pga_config_plane_t *p, const pga_term_t *argv,
                            pga_tb_t *out) {
  pga_funconfig_t *fc;
  if (pga_funconfig_decode(&argv[0], &fc) != 0)
    return pga__function_clause(out);
  pga_txn_t t;
  pga_cfg_event_t ev;
  uint64_t seq = 0;
  int crc = 0;
  add_event_begin(&ev, p, fc);
  pga_txn_init(&t, p);
  pthread_mutex_lock(&p->lock);
  int verdict = admit(p, fc);
  if (verdict == 0) {
    pga_txn_store_put(&t, fc);
    if (pga_store_put(p->store, fc) != 0) verdict = 3;
  }
  if (verdict == 0)
    crc = pga_txn_commit(p, &t, 1, &seq);
  else
    pga_txn_discard(&t);
  pthread_mutex_unlock(&p->lock);
  pga__cfg_event_end(&ev, verdict == 0);
  if (verdict == 0) {
    put_ok(out);
    return pga__durable_reply(p, crc, seq, out);
  }
  if (verdict == 1) {
    pga_term_t mfa = pga_funconfig_get(fc, PGA_FC_MFA);
    pga_tb_tuple(out, 2);
    pga_tb_atom(out, "error");
    pga_tb_tuple(out, 2);
    pga_tb_atom(out, "mfa_not_allowed");
    pga_tb_term(out, &mfa);
  } else {
    pga_tb_tuple(out, 2);
    pga_tb_atom(out, "error");
    pga_tb_atom(out, verdict == 2 ? "invalid_config" : "out_of_memory");
  }
  if (verdict != 3) pga_funconfig_free(fc);
  return PGA_RETURN;
}

static pga_outcome_t fn_batch_add(pga_config_plane_t *p,
                                  const pga_term_t *argv, pga_tb_t *out) {
  pga_term_iter_t it;
  pga_term_t el;
  size_t n;
  if (!pga__proper_list(&argv[0], &n) || pga_term_iter_init(&it, &argv[0]))
    return pga__function_clause(out);
  pga_funconfig_t **fcs = calloc(n ? n : 1, sizeof *fcs);
  size_t k = 0;
  if (!fcs) return pga__error_atom(out, "out_of_memory");
  /* Non-FunConfig items are skipped without a record (§3.1). */
  while (pga_term_iter_next(&it, &el))
    if (pga_funconfig_decode(&el, &fcs[k]) == 0) k++;
  pga_txn_t t;
  pga_tb_t first;
  uint64_t seq = 0;
  pga__tb_init(&first, 0);
  pga_txn_init(&t, p);
  pthread_mutex_lock(&p->lock);
  size_t stored = pga_db_batch_add(p, fcs, k, &t, &first);
  int crc = pga_txn_commit(p, &t, 1, &seq);
  pthread_mutex_unlock(&p->lock);
  free(fcs);
  pga__cfg_emit_batch_add(p, stored, &first);
  pga__tb_destroy(&first);
  if (stored == 0) return pga__error_atom(out, "all_invalid");
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "ok");
  pga_tb_uint(out, stored);
  return pga__durable_reply(p, crc, seq, out);
}

static pga_outcome_t fn_update(pga_config_plane_t *p, const pga_term_t *argv,
                               pga_tb_t *out) {
  pga_funconfig_t *fc;
  if (pga_funconfig_decode(&argv[0], &fc) != 0)
    return pga__function_clause(out);
  if (pga_funconfig_check(fc) != 0) {
    pga_funconfig_free(fc);
    return pga__error_atom(out, "invalid_config");
  }
  pga_txn_t t;
  pga_cfg_event_t ev;
  uint64_t seq = 0;
  int crc = 0;
  add_event_begin(&ev, p, fc);
  pga_txn_init(&t, p);
  pga_txn_store_put(&t, fc);
  pthread_mutex_lock(&p->lock);
  int rc = pga_store_put(p->store, fc);
  if (rc == 0)
    crc = pga_txn_commit(p, &t, 1, &seq);
  else
    pga_txn_discard(&t);
  pthread_mutex_unlock(&p->lock);
  pga__cfg_event_end(&ev, rc == 0);
  if (rc != 0) return pga__error_atom(out, "out_of_memory");
  put_ok(out);
  return pga__durable_reply(p, crc, seq, out);
}

/* An event with the call's own {s, rt, v} as metadata. */
static void key_event(pga_config_plane_t *p, pga_event_t ev,
                      const pga_term_t *argv, const pga_term_t *v) {
  pga_cfg_event_t e;
  pga__cfg_event_begin(&e, p, ev);
  pga__cfg_event_key(&e, &argv[0], &argv[1], v);
  pga__cfg_event_end(&e, 1);
}

/* {s, rt, v}: v is argv[2] for the /3 forms and nil for /2. */
static const pga_term_t *version_arg(const pga_term_t *argv, int has_v) {
  return has_v ? &argv[2] : &pga__t_nil;
}

static pga_outcome_t do_delete(pga_config_plane_t *p, const pga_term_t *argv,
                               int has_v, pga_tb_t *out) {
  if (!pga__is_binary(&argv[1])) return pga__function_clause(out);
  const pga_term_t *v = version_arg(argv, has_v);
  pga_txn_t t;
  uint64_t seq = 0;
  int crc = 0;
  /* The library emits delete whether or not the key exists. */
  key_event(p, PGA_EV_CONFIG_DELETE, argv, v);
  pga_txn_init(&t, p);
  pthread_mutex_lock(&p->lock);
  if (pga_store_find(p->store, &argv[0], &argv[1], v)) {
    pga_txn_store_del(&t, &argv[0], &argv[1], v);
    pga_store_delete(p->store, &argv[0], &argv[1], v);
  }
  crc = pga_txn_commit(p, &t, 1, &seq);
  pthread_mutex_unlock(&p->lock);
  put_ok(out);
  return pga__durable_reply(p, crc, seq, out);
}

static pga_outcome_t do_toggle(pga_config_plane_t *p, const pga_term_t *argv,
                               int has_v, int disabled, pga_tb_t *out) {
  if (!pga__is_binary(&argv[1])) return pga__function_clause(out);
  const pga_term_t *v = version_arg(argv, has_v);
  pga_txn_t t;
  uint64_t seq = 0;
  int crc = 0;
  pga_txn_init(&t, p);
  pthread_mutex_lock(&p->lock);
  int rc = pga_store_set_disabled(p->store, &argv[0], &argv[1], v, disabled);
  if (rc == 0) {
    pga_txn_store_disable(&t, &argv[0], &argv[1], v, disabled);
    crc = pga_txn_commit(p, &t, 1, &seq);
  } else {
    pga_txn_discard(&t);
  }
  pthread_mutex_unlock(&p->lock);
  if (rc == 0)
    key_event(p, disabled ? PGA_EV_CONFIG_DISABLE : PGA_EV_CONFIG_ENABLE,
              argv, v);
  if (rc == PGA_ENOTFOUND) return pga__error_atom(out, "not_found");
  if (rc != 0) return pga__error_atom(out, "out_of_memory");
  put_ok(out);
  return pga__durable_reply(p, crc, seq, out);
}

/* {:ok, fc} / {:error, :disabled} / {:error, :not_found}; lock held. */
static void put_found(pga_tb_t *out, const pga_funconfig_t *fc,
                      int report_disabled) {
  if (!fc) {
    pga__error_atom(out, "not_found");
  } else if (report_disabled && pga_funconfig_disabled(fc)) {
    pga__error_atom(out, "disabled");
  } else {
    pga_tb_tuple(out, 2);
    pga_tb_atom(out, "ok");
    pga_funconfig_encode(out, fc);
  }
}

static pga_outcome_t do_get(pga_config_plane_t *p, const pga_term_t *argv,
                            int has_v, pga_tb_t *out) {
  if (!pga__is_binary(&argv[1])) return pga__function_clause(out);
  pthread_mutex_lock(&p->lock);
  put_found(out, pga_store_find(p->store, &argv[0], &argv[1],
                                version_arg(argv, has_v)), 1);
  pthread_mutex_unlock(&p->lock);
  return PGA_RETURN;
}

#define PAIR(name, call)                                                     \
  static pga_outcome_t fn_##name##2(pga_config_plane_t *p,                   \
                                    const pga_term_t *argv, pga_tb_t *out) { \
    return call(p, argv, 0, out);                                            \
  }                                                                          \
  static pga_outcome_t fn_##name##3(pga_config_plane_t *p,                   \
                                    const pga_term_t *argv, pga_tb_t *out) { \
    return call(p, argv, 1, out);                                            \
  }
PAIR(delete, do_delete)
PAIR(get, do_get)

static pga_outcome_t do_disable(pga_config_plane_t *p, const pga_term_t *argv,
                                int has_v, pga_tb_t *out) {
  return do_toggle(p, argv, has_v, 1, out);
}
static pga_outcome_t do_enable(pga_config_plane_t *p, const pga_term_t *argv,
                               int has_v, pga_tb_t *out) {
  return do_toggle(p, argv, has_v, 0, out);
}
PAIR(disable, do_disable)
PAIR(enable, do_enable)
#undef PAIR

static pga_outcome_t fn_get_fast(pga_config_plane_t *p,
                                 const pga_term_t *argv, pga_tb_t *out) {
  if (!pga__is_binary(&argv[1])) return pga__function_clause(out);
  pthread_mutex_lock(&p->lock);
  put_found(out, pga_store_fast(p->store, &argv[0], &argv[1]), 0);
  pthread_mutex_unlock(&p->lock);
  return PGA_RETURN;
}

static pga_outcome_t fn_get_latest(pga_config_plane_t *p,
                                   const pga_term_t *argv, pga_tb_t *out) {
  if (!pga__is_binary(&argv[1])) return pga__function_clause(out);
  pthread_mutex_lock(&p->lock);
  put_found(out, pga_store_latest(p->store, &argv[0], &argv[1]), 0);
  pthread_mutex_unlock(&p->lock);
  return PGA_RETURN;
}

static pga_outcome_t functions(pga_config_plane_t *p, const pga_term_t *only,
                               pga_tb_t *out) {
  pthread_mutex_lock(&p->lock);
  int rc = pga_store_encode_functions(p->store, out, only);
  pthread_mutex_unlock(&p->lock);
  if (rc != 0) {
    pga_tb_reset(out);
    return pga__error_atom(out, "out_of_memory");
  }
  return PGA_RETURN;
}

static pga_outcome_t fn_get_all_functions(pga_config_plane_t *p,
                                          const pga_term_t *argv,
                                          pga_tb_t *out) {
  (void)argv;
  return functions(p, NULL, out);
}

/* A list of services, or one binary (an atom is a FunctionClauseError). */
static pga_outcome_t fn_get_functions_from_services(pga_config_plane_t *p,
                                                    const pga_term_t *argv,
                                                    pga_tb_t *out) {
  if (pga__is_binary(&argv[0])) {
    pga_tb_t tb;
    pga__tb_init(&tb, 0);
    pga_tb_list(&tb, 1);
    pga_tb_term(&tb, &argv[0]);
    pga_tb_nil(&tb);
    pga_term_t list = pga_tb_data(&tb);
    pga_outcome_t o = pga_tb_error(&tb) ? pga__error_atom(out, "out_of_memory")
                                        : functions(p, &list, out);
    pga__tb_destroy(&tb);
    return o;
  }
  if (!pga__proper_list(&argv[0], NULL)) return pga__function_clause(out);
  return functions(p, &argv[0], out);
}

static pga_outcome_t fn_get_all_services(pga_config_plane_t *p,
                                         const pga_term_t *argv,
                                         pga_tb_t *out) {
  (void)argv;
  pthread_mutex_lock(&p->lock);
  int rc = pga_store_encode_services(p->store, out);
  pthread_mutex_unlock(&p->lock);
  if (rc != 0) {
    pga_tb_reset(out);
    return pga__error_atom(out, "out_of_memory");
  }
  return PGA_RETURN;
}

static pga_outcome_t fn_count(pga_config_plane_t *p, const pga_term_t *argv,
                              pga_tb_t *out) {
  (void)argv;
  pthread_mutex_lock(&p->lock);
  size_t n = pga_store_count(p->store);
  pthread_mutex_unlock(&p->lock);
  pga_tb_uint(out, n);
  return PGA_RETURN;
}

/* [:config, :clear] with :all for service, request_type and version. */
static void clear_event(pga_config_plane_t *p) {
  static const char *const keys[] = {"service", "request_type", "version"};
  pga_tb_t all;
  pga_cfg_event_t e;
  pga__tb_init(&all, 0);
  pga_tb_atom(&all, "all");
  pga_term_t a = pga_tb_data(&all);
  const pga_term_t *vals[] = {&a, &a, &a};
  pga__cfg_event_begin(&e, p, PGA_EV_CONFIG_CLEAR);
  pga__cfg_event_meta(&e, 3, keys, vals);
  pga__cfg_event_end(&e, !pga_tb_error(&all));
  pga__tb_destroy(&all);
}

static pga_outcome_t fn_clear(pga_config_plane_t *p, const pga_term_t *argv,
                              pga_tb_t *out) {
  (void)argv;
  pga_txn_t t;
  uint64_t seq = 0;
  pga_txn_init(&t, p);
  pga_txn_store_clear(&t);
  pthread_mutex_lock(&p->lock);
  pga_store_clear(p->store);
  int crc = pga_txn_commit(p, &t, 1, &seq);
  pthread_mutex_unlock(&p->lock);
  clear_event(p);
  put_ok(out);
  return pga__durable_reply(p, crc, seq, out);
}

/* %{status: :ok, count: n, services: [..], ets: %{exists: true, size: n}}. */
static pga_outcome_t fn_status(pga_config_plane_t *p, const pga_term_t *argv,
                               pga_tb_t *out) {
  (void)argv;
  pthread_mutex_lock(&p->lock);
  size_t n = pga_store_count(p->store);
  pga_tb_map(out, 4);
  pga_tb_atom(out, "status");
  pga_tb_atom(out, "ok");
  pga_tb_atom(out, "count");
  pga_tb_uint(out, n);
  pga_tb_atom(out, "services");
  int rc = pga_store_encode_services(p->store, out);
  pga_tb_atom(out, "ets");
  pga_tb_map(out, 2);
  pga_tb_atom(out, "exists");
  pga_tb_atom(out, "true");
  pga_tb_atom(out, "size");
  pga_tb_uint(out, n);
  pthread_mutex_unlock(&p->lock);
  if (rc != 0) {
    pga_tb_reset(out);
    return pga__error_atom(out, "out_of_memory");
  }
  return PGA_RETURN;
}

const pga_cfn_def_t pga_db_fns[] = {
    {PGA_MOD_DB, "add", 1, fn_add},
    {PGA_MOD_DB, "batch_add", 1, fn_batch_add},
    {PGA_MOD_DB, "update", 1, fn_update},
    {PGA_MOD_DB, "delete", 2, fn_delete2},
    {PGA_MOD_DB, "delete", 3, fn_delete3},
    {PGA_MOD_DB, "disable", 2, fn_disable2},
    {PGA_MOD_DB, "disable", 3, fn_disable3},
    {PGA_MOD_DB, "enable", 2, fn_enable2},
    {PGA_MOD_DB, "enable", 3, fn_enable3},
    {PGA_MOD_DB, "get", 2, fn_get2},
    {PGA_MOD_DB, "get", 3, fn_get3},
    {PGA_MOD_DB, "get_fast", 2, fn_get_fast},
    {PGA_MOD_DB, "get_latest", 2, fn_get_latest},
    {PGA_MOD_DB, "get_all_functions", 0, fn_get_all_functions},
    {PGA_MOD_DB, "get_functions_from_services", 1,
     fn_get_functions_from_services},
    {PGA_MOD_DB, "get_all_services", 0, fn_get_all_services},
    {PGA_MOD_DB, "count", 0, fn_count},
    {PGA_MOD_DB, "clear", 0, fn_clear},
    {PGA_MOD_DB, "status", 0, fn_status},
    {NULL, NULL, 0, NULL}};
