/* PhoenixGenApi.ConfigReceiver (spec §4): the push pipeline step by step,
 * verify, the pushed-config listings, and the top-level push_config /
 * verify_config aliases.
 *
 * A push runs in two halves. Outside the lock: decode (§4.2 step 1),
 * PushConfig validation (2), token (3), and per-item preparation (5:
 * enforce service, normalise version, validate, error strings), none of
 * which reads plane state. Inside one critical section: the version skip
 * (4), the failed records of step 5, batch_add (6), auto-pull
 * registration (7) and the state update (8). So a push is atomic against
 * every other push (config.h invariant 2), and the records of a push that
 * is skipped are never written, as in the library. */
#include "config.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "config/plane_int.h"
#include "pga/errno.h"
#include "term/inspect.h"
#include "term/term.h"

/* Pushes at least this large are followed by malloc_trim. */
#define PGA__TRIM_AFTER_FUN_CONFIGS 256

typedef struct item_s {
  pga_funconfig_t *fc;
  unsigned bad; /* failed §2.1 checks; 0 = survivor */
  char *error;  /* the "invalid FunConfig: ..." string when bad */
  int local;    /* :local without its C function: error is the text */
} item_t;

typedef struct prepared_s {
  item_t *items;
  size_t n, survivors;
} prepared_t;

static void prepared_free(prepared_t *pr) {
  for (size_t i = 0; i < pr->n; i++) {
    pga_funconfig_free(pr->items[i].fc);
    free(pr->items[i].error);
  }
  free(pr->items);
}

/* Appends inspect(t) after text. */
static int cat_inspect(char **buf, size_t *len, const char *text,
                       const pga_term_t *t) {
  char *s = pga_term_inspect_dup(t);
  size_t tl = strlen(text), sl = s ? strlen(s) : 0;
  char *nb = s ? realloc(*buf, *len + tl + sl + 1) : NULL;
  if (!nb) {
    free(s);
    return PGA_ENOMEM;
  }
  memcpy(nb + *len, text, tl);
  memcpy(nb + *len + tl, s, sl + 1);
  *buf = nb;
  *len += tl + sl;
  free(s);
  return 0;
}

/* §4.2 step 5's string: the item's fields, but the PUSH's service. */
static char *invalid_string(const pga_funconfig_t *fc,
                            const pga_term_t *push_service) {
  static const struct {
    const char *label;
    int field; /* -1: the push's service */
  } parts[] = {{"invalid FunConfig: request_type=", PGA_FC_REQUEST_TYPE},
               {", service=", -1},
               {", version=", PGA_FC_VERSION},
               {", nodes: ", PGA_FC_NODES},
               {", mfa: ", PGA_FC_MFA},
               {", response_type: ", PGA_FC_RESPONSE_TYPE},
               {", check_permission: ", PGA_FC_CHECK_PERMISSION}};
  char *buf = NULL;
  size_t len = 0;
  for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
    pga_term_t v = parts[i].field < 0
                       ? *push_service
                       : pga_funconfig_get(fc, (pga_fc_field_t)parts[i].field);
    if (cat_inspect(&buf, &len, parts[i].label, &v) != 0) {
      free(buf);
      return NULL;
    }
  }
  return buf;
}

/* 1 if step 5 changes fc (service enforced or version normalised). */
static int needs_change(const pga_funconfig_t *fc, const pga_term_t *service) {
  pga_term_t s = pga_funconfig_get(fc, PGA_FC_SERVICE);
  pga_term_t v = pga_funconfig_get(fc, PGA_FC_VERSION);
  return !pga_same_service(&s, service) ||
         !(pga__is_nil(&v) || pga_version_effective(&v));
}

/* Step 5 for one decoded item. The scan's FunConfig stays as pushed (the
 * stored PushConfig shares it): the item shares it too, or gets a copy
 * to change. */
static int prepare_item(const pga_config_plane_t *p, item_t *it,
                        pga_funconfig_t *pushed, const pga_term_t *service) {
  it->fc = needs_change(pushed, service) ? pga_funconfig_dup(pushed)
                                         : pga_funconfig_ref(pushed);
  if (!it->fc) return PGA_ENOMEM;
  if (pga_funconfig_enforce_service(it->fc, service) != 0 ||
      pga_funconfig_normalize_version(it->fc) != 0)
    return PGA_ENOMEM;
  it->bad = pga_funconfig_check(it->fc);
  if (it->bad && !(it->error = invalid_string(it->fc, service)))
    return PGA_ENOMEM;
  if (!it->bad && (it->error = pga__config_local_unavailable(p, it->fc)))
    it->local = 1;
  return 0;
}

/* Step 5 without the records, over the FunConfigs the validation scan
 * decoded. fun_configs passed validation, so every element decoded. */
static int prepare(const pga_config_plane_t *p, const pga__rec_t *pc,
                   pga_fc_scan_t *scan, prepared_t *pr) {
  pga_term_t svc = pga__rec_get(pc, PGA_PC_SERVICE);
  memset(pr, 0, sizeof *pr);
  pr->items = calloc(scan->nfcs ? scan->nfcs : 1, sizeof *pr->items);
  if (!pr->items) return PGA_ENOMEM;
  for (size_t i = 0; i < scan->nfcs; i++) {
    item_t *it = &pr->items[pr->n++];
    int rc = prepare_item(p, it, scan->fcs[i], &svc);
    if (rc != 0) return rc;
    if (!it->bad && !it->local) pr->survivors++;
  }
  return 0;
}

static void put_error2(pga_tb_t *out, const char *tag) {
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "error");
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, tag);
}

static void put_all_invalid(pga_tb_t *out, const prepared_t *pr) {
  put_error2(out, "all_invalid");
  pga_tb_list_head(out, pr->n);
  for (size_t i = 0; i < pr->n; i++) pga_tb_string(out, pr->items[i].error);
  pga_tb_nil(out);
}

/* Steps 4 and 5-8 under the lock. Takes pc on success (*pc = NULL).
 * An accepted push is written as one journal record (durable.h): *seq is
 * what to wait for before answering, *crc the commit's result. */
static void commit(pga_config_plane_t *p, pga__rec_t **pc, prepared_t *pr,
                   int force, pga_tb_t *out, int *crc, uint64_t *seq,
                   size_t *stored_out, pga_tb_t *first) {
  pga_term_t svc = pga__rec_get(*pc, PGA_PC_SERVICE);
  pga_term_t cv = pga__rec_get(*pc, PGA_PC_CONFIG_VERSION);
  pga__rec_t *old = pga__term_dict_get(p->pushed, &svc);
  if (!force && old) {
    pga_term_t old_cv = pga__rec_get(old, PGA_PC_CONFIG_VERSION);
    if (pga_term_equal(&old_cv, &cv)) {
      pga_tb_tuple(out, 3);
      pga_tb_atom(out, "ok");
      pga_tb_atom(out, "skipped");
      pga_tb_atom(out, "version_matches");
      return;
    }
  }
  pga_funconfig_t **keep = calloc(pr->survivors ? pr->survivors : 1,
                                  sizeof *keep);
  if (!keep) {
    pga__error_atom(out, "out_of_memory");
    return;
  }
  size_t k = 0;
  for (size_t i = 0; i < pr->n; i++) {
    item_t *it = &pr->items[i];
    if (it->bad) {
      (void)pga_failed_record_msgs(p->failed, it->fc, pga_fc_messages,
                                   it->bad, PGA_FC_NCHECKS, 1, &pga__t_nil);
    } else if (it->local) {
      (void)pga_failed_record_text(p->failed, it->fc, it->error, 1,
                                   &pga__t_nil);
    } else {
      keep[k++] = it->fc;
      it->fc = NULL; /* batch_add takes it */
    }
  }
  if (k == 0) {
    free(keep);
    put_all_invalid(out, pr);
    return;
  }
  pga_txn_t t;
  pga_txn_init(&t, p);
  size_t stored = pga_db_batch_add(p, keep, k, &t, first);
  free(keep);
  *stored_out = stored;
  if (stored == 0) {
    /* Nothing changed (no item passed the MFA gate). */
    pga_txn_discard(&t);
    pga__error_atom(out, "batch_add_failed");
    return;
  }
  pga__rec_t *sc;
  if (pga_pushconfig_service_config(*pc, &sc) == 0) {
    pga_txn_service_put(&t, sc);
    if (pga_puller_put(p->puller, sc) != 0)
      pga_warn("config: auto-pull registration dropped: out of memory");
  }
  pga_txn_pushed_put(&t, &svc, *pc);
  if (pga__term_dict_put(p->pushed, &svc, *pc) == 0) *pc = NULL;
  *crc = pga_txn_commit(p, &t, 1, seq);
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "ok");
  pga_tb_atom(out, "accepted");
}

/* pc's fun_configs (fcs, still a view into the push): the scanned
 * FunConfigs when they give its bytes back, so a stored PushConfig costs
 * no second copy of them; else a copy of the bytes. 0 or PGA_ENOMEM. */
static int keep_fun_configs(pga__rec_t *pc, pga_fc_scan_t *scan,
                            const pga_term_t *fcs) {
  pga__fclist_t *l = pga__fclist_from_scan(scan);
  if (!l) return pga__rec_set(pc, PGA_PC_FUN_CONFIGS, fcs);
  pc->fcl = l;
  pc->fcl_field = PGA_PC_FUN_CONFIGS;
  return 0;
}

/* [:config, :push] for pc, prepared while pc is still ours. */
static void push_event_begin(pga_cfg_event_t *e, pga_config_plane_t *p,
                             const pga__rec_t *pc) {
  static const char *const keys[] = {"service", "version"};
  pga_term_t svc = pga__rec_get(pc, PGA_PC_SERVICE);
  pga_term_t cv = pga__rec_get(pc, PGA_PC_CONFIG_VERSION);
  const pga_term_t *vals[] = {&svc, &cv};
  pga__cfg_event_begin(e, p, PGA_EV_CONFIG_PUSH);
  pga__cfg_event_meta(e, 2, keys, vals);
}

/* Too many FunConfigs for one push (config.h invariant 4): a proper list
 * longer than max_fun_configs. Without the scan (NULL), only a first list
 * cell that long is looked at (then counted exactly): a longer list of
 * chained cells is found once scanned. */
static int over_bounds(const pga_config_plane_t *p, const pga_term_t *fcs,
                       const pga_fc_scan_t *scan) {
  pga__head_t h;
  size_t n;
  if (scan) return scan->proper && scan->n > p->max_fun_configs;
  if (pga__term_head(fcs->buf, fcs->len, &h) != 0 || h.type != PGA_T_LIST ||
      h.n <= p->max_fun_configs)
    return 0;
  return pga_term_list_length(fcs, &n) == 0 && n > p->max_fun_configs;
}

void pga_receiver_push(pga_config_plane_t *p, const pga_term_t *cfg,
                       int force, pga_tb_t *out) {
  pga__rec_t *pc = NULL;
  /* fun_configs stays a view into cfg until it is known how pc keeps it */
  pga_term_t fcs = pga__t_nil;
  int rc = pga_pushconfig_decode_borrowing(cfg, &pc, &fcs);
  if (rc == PGA_ENOMEM) {
    pga__error_atom(out, "out_of_memory");
    return;
  }
  pga_fc_scan_t scan = {0};
  if (rc == 0 && !over_bounds(p, &fcs, NULL) && pga_fc_scan(&fcs, &scan) != 0) {
    pga__error_atom(out, "out_of_memory");
    pga__rec_free(pc);
    return;
  }
  if (rc != 0 || over_bounds(p, &fcs, NULL) || over_bounds(p, &fcs, &scan)) {
    pga__error_atom(out, "invalid_push_config_data");
    pga_fc_scan_free(&scan);
    pga__rec_free(pc);
    return;
  }
  unsigned bad = pga_pushconfig_check_scanned(pc, &scan);
  if (bad) {
    put_error2(out, "validation_failed");
    pga_messages_encode(out, pga_pc_messages, bad, PGA_PC_NCHECKS);
  } else {
    pga_term_t token = pga__rec_get(pc, PGA_PC_PUSH_TOKEN);
    if (!pga_push_token_ok(&p->token, &token)) {
      pga__error_atom(out, "invalid_push_token");
    } else {
      prepared_t pr;
      int prc = prepare(p, pc, &scan, &pr);
      if (prc == 0) prc = keep_fun_configs(pc, &scan, &fcs);
      if (prc != 0) {
        pga__error_atom(out, "out_of_memory");
      } else {
        int crc = 0;
        uint64_t seq = 0;
        size_t stored = 0;
        pga_tb_t first;
        pga_cfg_event_t ev;
        pga__tb_init(&first, 0);
        push_event_begin(&ev, p, pc);
        pthread_mutex_lock(&p->lock);
        commit(p, &pc, &pr, force, out, &crc, &seq, &stored, &first);
        pthread_mutex_unlock(&p->lock);
        /* batch_add then push, as the library's ConfigDb call does. */
        pga__cfg_emit_batch_add(p, stored, &first);
        pga__cfg_event_count(&ev, stored);
        pga__cfg_event_end(&ev, stored > 0);
        pga__tb_destroy(&first);
        /* Acknowledged only once on disk (durable.c invariant 3). */
        (void)pga__durable_reply(p, crc, seq, out);
      }
      prepared_free(&pr);
    }
  }
  size_t big = scan.n >= PGA__TRIM_AFTER_FUN_CONFIGS;
  pga_fc_scan_free(&scan);
  pga__rec_free(pc);
  /* A large push leaves megabytes of freed buffers (the message, its
   * argument copy, the record) between the FunConfigs it stored: give
   * those pages back now rather than holding them until the next push. */
#ifdef __GLIBC__
  if (big) malloc_trim(0);
#else
  (void)big;
#endif
}

void pga_receiver_verify(pga_config_plane_t *p, const pga_term_t *svc,
                         const pga_term_t *version, pga_tb_t *out) {
  pthread_mutex_lock(&p->lock);
  pga__rec_t *pc = pga__term_dict_get(p->pushed, svc);
  if (!pc) {
    pga__error_atom(out, "not_found");
  } else {
    pga_term_t cv = pga__rec_get(pc, PGA_PC_CONFIG_VERSION);
    if (pga_term_equal(&cv, version)) {
      pga_tb_tuple(out, 2);
      pga_tb_atom(out, "ok");
      pga_tb_atom(out, "matched");
    } else {
      pga_tb_tuple(out, 3);
      pga_tb_atom(out, "ok");
      pga_tb_atom(out, "mismatch");
      pga_tb_term(out, &cv);
    }
  }
  pthread_mutex_unlock(&p->lock);
}

/* ---- RPC ---- */

static pga_outcome_t fn_push1(pga_config_plane_t *p, const pga_term_t *argv,
                              pga_tb_t *out) {
  pga_receiver_push(p, &argv[0], 0, out);
  return PGA_RETURN;
}

/* Only [force: true] forces; any other value reads as false (§4.1). */
static pga_outcome_t fn_push2(pga_config_plane_t *p, const pga_term_t *argv,
                              pga_tb_t *out) {
  pga_term_t force;
  if (!pga__proper_list(&argv[1], NULL)) return pga__function_clause(out);
  int f = pga__keyword_get(&argv[1], "force", &force) &&
          pga_term_is_atom(&force, "true");
  pga_receiver_push(p, &argv[0], f, out);
  return PGA_RETURN;
}

static pga_outcome_t fn_verify(pga_config_plane_t *p, const pga_term_t *argv,
                               pga_tb_t *out) {
  pga_receiver_verify(p, &argv[0], &argv[1], out);
  return PGA_RETURN;
}

static pga_outcome_t fn_get_pushed_config(pga_config_plane_t *p,
                                          const pga_term_t *argv,
                                          pga_tb_t *out) {
  pthread_mutex_lock(&p->lock);
  pga__rec_t *pc = pga__term_dict_get(p->pushed, &argv[0]);
  if (pc)
    pga__rec_encode(out, pc, 1);
  else
    pga_tb_atom(out, "nil");
  pthread_mutex_unlock(&p->lock);
  return PGA_RETURN;
}

/* %{service => config_version} or %{service => PushConfig}; lock held. */
static void put_pushed_map(pga_config_plane_t *p, pga_tb_t *out, int full) {
  pga_dict_iter_t it;
  void *k, *v;
  pga_tb_map(out, pga_dict_size(p->pushed));
  pga_dict_iter_init(p->pushed, &it);
  while (pga_dict_next(&it, &k, &v)) {
    pga_term_t svc = pga__cterm_view(k);
    pga_tb_term(out, &svc);
    if (full) {
      pga__rec_encode(out, v, 1);
    } else {
      pga_term_t cv = pga__rec_get(v, PGA_PC_CONFIG_VERSION);
      pga_tb_term(out, &cv);
    }
  }
}

static pga_outcome_t fn_get_all_pushed_services(pga_config_plane_t *p,
                                                const pga_term_t *argv,
                                                pga_tb_t *out) {
  (void)argv;
  pthread_mutex_lock(&p->lock);
  put_pushed_map(p, out, 0);
  pthread_mutex_unlock(&p->lock);
  return PGA_RETURN;
}

static pga_outcome_t fn_status(pga_config_plane_t *p, const pga_term_t *argv,
                               pga_tb_t *out) {
  (void)argv;
  pthread_mutex_lock(&p->lock);
  /* journal_skipped only after damage (C28): the library's keys alone
   * otherwise. */
  size_t skipped = pga__durable_skipped_count(p);
  pga_tb_map(out, skipped ? 4 : 3);
  pga_tb_atom(out, "status");
  pga_tb_atom(out, "ok");
  pga_tb_atom(out, "pushed_services");
  put_pushed_map(p, out, 0);
  pga_tb_atom(out, "pushed_configs");
  put_pushed_map(p, out, 1);
  if (skipped) {
    pga_tb_atom(out, "journal_skipped");
    pga__durable_put_skipped(p, out);
  }
  pthread_mutex_unlock(&p->lock);
  return PGA_RETURN;
}

/* Drops the service's auto-pull registration (if its push made one),
 * then the receiver state. The store keeps its FunConfigs. */
static pga_outcome_t fn_delete_pushed_service(pga_config_plane_t *p,
                                              const pga_term_t *argv,
                                              pga_tb_t *out) {
  pga_txn_t t;
  uint64_t seq = 0;
  pga_txn_init(&t, p);
  pthread_mutex_lock(&p->lock);
  pga__rec_t *pc = pga__term_dict_get(p->pushed, &argv[0]);
  pga__rec_t *sc = NULL;
  if (pc && pga_pushconfig_service_config(pc, &sc) == 0) {
    pga_term_t s = pga__rec_get(sc, PGA_SC_SERVICE);
    pga_txn_service_del(&t, &s);
    pga_puller_remove(p->puller, &s);
    pga__rec_free(sc);
  }
  if (pc) {
    pga_txn_pushed_del(&t, &argv[0]);
    (void)pga__term_dict_delete(p->pushed, &argv[0]);
  }
  int crc = pga_txn_commit(p, &t, 1, &seq);
  pthread_mutex_unlock(&p->lock);
  pga_tb_atom(out, "ok");
  return pga__durable_reply(p, crc, seq, out);
}

const pga_cfn_def_t pga_receiver_fns[] = {
    {PGA_MOD_RECEIVER, "push", 1, fn_push1},
    {PGA_MOD_RECEIVER, "push", 2, fn_push2},
    {PGA_MOD_RECEIVER, "verify", 2, fn_verify},
    {PGA_MOD_RECEIVER, "get_pushed_config", 1, fn_get_pushed_config},
    {PGA_MOD_RECEIVER, "get_all_pushed_services", 0,
     fn_get_all_pushed_services},
    {PGA_MOD_RECEIVER, "status", 0, fn_status},
    {PGA_MOD_RECEIVER, "delete_pushed_service", 1, fn_delete_pushed_service},
    {PGA_MOD_TOP, "push_config", 1, fn_push1},
    {PGA_MOD_TOP, "push_config", 2, fn_push2},
    {PGA_MOD_TOP, "verify_config", 2, fn_verify},
    {NULL, NULL, 0, NULL}};
