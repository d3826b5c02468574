/* PhoenixGenApi.ConfigFailed over RPC (spec §6) and its top-level
 * aliases: record, list with its options, count, summary, cleanup, clear. */
#include "config.h"

#include "config/plane_int.h"
#include "pga/errno.h"
#include "term/term.h"

/* record(cfg, reason, source[, node]). cfg must be a map; a FunConfig
 * struct is stored as its plain 18-key map, another struct loses only
 * __struct__, a plain map is kept as is. */
static pga_outcome_t record(pga_config_plane_t *p, const pga_term_t *argv,
                            const pga_term_t *node, pga_tb_t *out) {
  int push = pga_term_is_atom(&argv[2], "push");
  if (pga_term_type(&argv[0]) != PGA_T_MAP ||
      (!push && !pga_term_is_atom(&argv[2], "pull")))
    return pga__function_clause(out);
  pga_tb_t cfg, reason;
  pga__tb_init(&cfg, 0);
  pga__tb_init(&reason, 0);
  pga_funconfig_t *fc;
  if (pga_funconfig_decode(&argv[0], &fc) == 0) {
    pga_funconfig_encode_map(&cfg, fc);
    pga_funconfig_free(fc);
  } else {
    pga_term_t mod;
    if (pga_term_map_get_atom(&argv[0], "__struct__", &mod) == 0) {
      size_t n;
      pga__map_iter_t it;
      pga_term_t k, v;
      (void)pga_term_map_size(&argv[0], &n);
      pga_tb_map(&cfg, n - 1);
      (void)pga__map_iter_init(&it, &argv[0]);
      while (pga__map_iter_next(&it, &k, &v)) {
        if (pga_term_is_atom(&k, "__struct__")) continue;
        pga_tb_term(&cfg, &k);
        pga_tb_term(&cfg, &v);
      }
    } else {
      pga_tb_term(&cfg, &argv[0]);
    }
  }
  /* A single reason is wrapped in a list. */
  if (pga__is_list(&argv[1])) {
    pga_tb_term(&reason, &argv[1]);
  } else {
    pga_tb_list(&reason, 1);
    pga_tb_term(&reason, &argv[1]);
    pga_tb_nil(&reason);
  }
  pga_term_t c = pga_tb_data(&cfg), r = pga_tb_data(&reason);
  int rc = pga_tb_error(&cfg) ? pga_tb_error(&cfg) : pga_tb_error(&reason);
  if (rc == 0) {
    pthread_mutex_lock(&p->lock);
    rc = pga_failed_record(p->failed, &c, &r, push, node, out);
    pthread_mutex_unlock(&p->lock);
  }
  pga__tb_destroy(&cfg);
  pga__tb_destroy(&reason);
  return rc ? pga__error_atom(out, "out_of_memory") : PGA_RETURN;
}

static pga_outcome_t fn_record3(pga_config_plane_t *p, const pga_term_t *argv,
                                pga_tb_t *out) {
  return record(p, argv, &pga__t_nil, out);
}

static pga_outcome_t fn_record4(pga_config_plane_t *p, const pga_term_t *argv,
                                pga_tb_t *out) {
  return record(p, argv, &argv[3], out);
}

/* list/1 options: source, service, order, limit (Keyword.get: the first
 * occurrence wins; unknown keys are ignored). 0 or -1 for a bad value. */
static int parse_list_opts(const pga_term_t *opts, pga_failed_filter_t *q,
                           pga_term_t *svc_tmp) {
  pga_term_t v;
  int64_t lim;
  q->source = -1;
  q->service = NULL;
  q->newest_first = 1;
  q->limit = PGA_FAILED_LIST_LIMIT;
  if (!pga__proper_list(opts, NULL)) return -1;
  if (pga__keyword_get(opts, "source", &v)) {
    if (pga_term_is_atom(&v, "push")) q->source = 1;
    else if (pga_term_is_atom(&v, "pull")) q->source = 0;
    else if (!pga__is_nil(&v)) q->source = 2; /* matches nothing */
  }
  if (pga__keyword_get(opts, "service", &v) && !pga__is_nil(&v)) {
    *svc_tmp = v;
    q->service = svc_tmp;
  }
  if (pga__keyword_get(opts, "order", &v))
    q->newest_first = !pga_term_is_atom(&v, "oldest_first");
  if (pga__keyword_get(opts, "limit", &v)) {
    if (pga_term_type(&v) != PGA_T_INTEGER || pga_term_get_int64(&v, &lim) ||
        lim < 0)
      return -1;
    q->limit = (size_t)lim;
  }
  return 0;
}

static pga_outcome_t list(pga_config_plane_t *p, const pga_term_t *opts,
                          pga_tb_t *out) {
  pga_failed_filter_t q;
  pga_term_t svc;
  if (parse_list_opts(opts, &q, &svc) != 0) return pga__function_clause(out);
  pthread_mutex_lock(&p->lock);
  int rc = pga_failed_list(p->failed, &q, out);
  pthread_mutex_unlock(&p->lock);
  if (rc != 0) {
    pga_tb_reset(out);
    return pga__error_atom(out, "out_of_memory");
  }
  return PGA_RETURN;
}

static pga_outcome_t fn_list0(pga_config_plane_t *p, const pga_term_t *argv,
                              pga_tb_t *out) {
  (void)argv;
  return list(p, &pga__t_empty_list, out);
}

static pga_outcome_t fn_list1(pga_config_plane_t *p, const pga_term_t *argv,
                              pga_tb_t *out) {
  return list(p, &argv[0], out);
}

static pga_outcome_t fn_count(pga_config_plane_t *p, const pga_term_t *argv,
                              pga_tb_t *out) {
  (void)argv;
  pthread_mutex_lock(&p->lock);
  size_t n = pga_failed_count(p->failed);
  pthread_mutex_unlock(&p->lock);
  pga_tb_uint(out, n);
  return PGA_RETURN;
}

static pga_outcome_t fn_summary(pga_config_plane_t *p, const pga_term_t *argv,
                                pga_tb_t *out) {
  (void)argv;
  pthread_mutex_lock(&p->lock);
  int rc = pga_failed_summary(p->failed, out);
  pthread_mutex_unlock(&p->lock);
  if (rc != 0) {
    pga_tb_reset(out);
    return pga__error_atom(out, "out_of_memory");
  }
  return PGA_RETURN;
}

static pga_outcome_t fn_cleanup(pga_config_plane_t *p, const pga_term_t *argv,
                                pga_tb_t *out) {
  (void)argv;
  pthread_mutex_lock(&p->lock);
  size_t n = pga_failed_cleanup(p->failed);
  pthread_mutex_unlock(&p->lock);
  pga_tb_uint(out, n);
  return PGA_RETURN;
}

static pga_outcome_t fn_clear(pga_config_plane_t *p, const pga_term_t *argv,
                              pga_tb_t *out) {
  (void)argv;
  pthread_mutex_lock(&p->lock);
  pga_failed_clear(p->failed);
  pthread_mutex_unlock(&p->lock);
  pga_tb_atom(out, "ok");
  return PGA_RETURN;
}

const pga_cfn_def_t pga_failed_fns[] = {
    {PGA_MOD_FAILED, "record", 3, fn_record3},
    {PGA_MOD_FAILED, "record", 4, fn_record4},
    {PGA_MOD_FAILED, "list", 0, fn_list0},
    {PGA_MOD_FAILED, "list", 1, fn_list1},
    {PGA_MOD_FAILED, "count", 0, fn_count},
    {PGA_MOD_FAILED, "summary", 0, fn_summary},
    {PGA_MOD_FAILED, "cleanup", 0, fn_cleanup},
    {PGA_MOD_FAILED, "clear", 0, fn_clear},
    {PGA_MOD_TOP, "failed_configs", 0, fn_list0},
    {PGA_MOD_TOP, "failed_configs", 1, fn_list1},
    {PGA_MOD_TOP, "cleanup_failed_configs", 0, fn_cleanup},
    {PGA_MOD_TOP, "clear_failed_configs", 0, fn_clear},
    {NULL, NULL, 0, NULL}};
