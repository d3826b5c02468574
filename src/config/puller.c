/* PhoenixGenApi.ConfigPuller's state and RPC API (spec §5.1, §5.4):
 * services, api_list, service_versions and failure_count, keyed by exact
 * service terms. Pull rounds are not implemented yet: pull/0 and
 * force_pull/0 answer :ok and change nothing (docs/compat.md C8). */
#include "config.h"

#include <stdlib.h>

#include "config/plane_int.h"
#include "pga/errno.h"

struct pga_puller_s {
  pga_config_plane_t *plane;
  pga_dict_t *services; /* service -> pga__rec_t ServiceConfig */
  pga_dict_t *api_list; /* service -> pga__cterm_t list of request types */
  pga_dict_t *versions; /* service -> pga__cterm_t version term */
  uint64_t failure_count;
};

static void rec_free(void *r) { pga__rec_free(r); }
static void cterm_free(void *c) { pga__term_key_free(c); }

static const pga_dict_type_t services_type = PGA__TERM_DICT_TYPE(rec_free);
static const pga_dict_type_t terms_type = PGA__TERM_DICT_TYPE(cterm_free);

pga_puller_t *pga_puller_new(pga_config_plane_t *p) {
  pga_puller_t *pl = calloc(1, sizeof *pl);
  if (!pl) return NULL;
  pl->plane = p;
  pl->services = pga_dict_new(&services_type);
  pl->api_list = pga_dict_new(&terms_type);
  pl->versions = pga_dict_new(&terms_type);
  if (!pl->services || !pl->api_list || !pl->versions) {
    pga_puller_free(pl);
    return NULL;
  }
  return pl;
}

void pga_puller_free(pga_puller_t *pl) {
  if (!pl) return;
  if (pl->services) pga_dict_free(pl->services);
  if (pl->api_list) pga_dict_free(pl->api_list);
  if (pl->versions) pga_dict_free(pl->versions);
  free(pl);
}

int pga_puller_put(pga_puller_t *pl, pga__rec_t *sc) {
  pga_term_t svc = pga__rec_get(sc, PGA_SC_SERVICE);
  int rc = pga__term_dict_put(pl->services, &svc, sc);
  if (rc != 0) pga__rec_free(sc);
  return rc;
}

void pga_puller_remove(pga_puller_t *pl, const pga_term_t *service) {
  (void)pga__term_dict_delete(pl->services, service);
  (void)pga__term_dict_delete(pl->api_list, service);
  (void)pga__term_dict_delete(pl->versions, service);
}

void pga_puller_encode_services(pga_puller_t *pl, pga_tb_t *tb) {
  pga_dict_iter_t it;
  void *k, *v;
  pga_tb_map(tb, pga_dict_size(pl->services));
  pga_dict_iter_init(pl->services, &it);
  while (pga_dict_next(&it, &k, &v)) {
    pga_term_t svc = pga__cterm_view(k);
    pga_tb_term(tb, &svc);
    pga__rec_encode(tb, v, 1);
  }
}

/* %{service => term} from a dict of cterm values. */
static void encode_terms(pga_dict_t *d, pga_tb_t *tb) {
  pga_dict_iter_t it;
  void *k, *v;
  pga_tb_map(tb, pga_dict_size(d));
  pga_dict_iter_init(d, &it);
  while (pga_dict_next(&it, &k, &v)) {
    pga_term_t key = pga__cterm_view(k), val = pga__cterm_view(v);
    pga_tb_term(tb, &key);
    pga_tb_term(tb, &val);
  }
}

/* ---- RPC ---- */

#define NOT_SERVICE_CONFIGS "nodes must be a list of ServiceConfig"

/* add/delete argument: a proper list of ServiceConfig structs. 0, or
 * 1 for a non-list (function clause), 2 for a bad element. */
static int check_configs(const pga_term_t *list) {
  pga_term_iter_t it;
  pga_term_t el;
  if (!pga__proper_list(list, NULL) || pga_term_iter_init(&it, list) != 0)
    return 1;
  while (pga_term_iter_next(&it, &el))
    if (!pga__rec_is_struct(&pga__service_schema, &el)) return 2;
  return 0;
}

static pga_outcome_t add_or_delete(pga_config_plane_t *p,
                                   const pga_term_t *list, int add,
                                   pga_tb_t *out) {
  pga_term_iter_t it;
  pga_term_t el;
  int bad = check_configs(list);
  if (bad == 1) return pga__function_clause(out);
  if (bad == 2) return pga__argument_error(out, NOT_SERVICE_CONFIGS);
  int rc = 0;
  (void)pga_term_iter_init(&it, list);
  pthread_mutex_lock(&p->lock);
  while (rc == 0 && pga_term_iter_next(&it, &el)) {
    pga__rec_t *sc;
    if ((rc = pga_serviceconfig_decode(&el, &sc)) != 0) break;
    if (add) {
      rc = pga_puller_put(p->puller, sc);
    } else {
      pga_term_t svc = pga__rec_get(sc, PGA_SC_SERVICE);
      pga_puller_remove(p->puller, &svc);
      pga__rec_free(sc);
    }
  }
  pthread_mutex_unlock(&p->lock);
  if (rc != 0) return pga__error_atom(out, "out_of_memory");
  pga_tb_atom(out, "ok");
  return PGA_RETURN;
}

static pga_outcome_t fn_add(pga_config_plane_t *p, const pga_term_t *argv,
                            pga_tb_t *out) {
  return add_or_delete(p, &argv[0], 1, out);
}

static pga_outcome_t fn_delete(pga_config_plane_t *p, const pga_term_t *argv,
                               pga_tb_t *out) {
  return add_or_delete(p, &argv[0], 0, out);
}

static pga_outcome_t fn_pull(pga_config_plane_t *p, const pga_term_t *argv,
                             pga_tb_t *out) {
  (void)p;
  (void)argv;
  pga_tb_atom(out, "ok");
  return PGA_RETURN;
}

static pga_outcome_t fn_get_services(pga_config_plane_t *p,
                                     const pga_term_t *argv, pga_tb_t *out) {
  (void)argv;
  pthread_mutex_lock(&p->lock);
  pga_puller_encode_services(p->puller, out);
  pthread_mutex_unlock(&p->lock);
  return PGA_RETURN;
}

/* The term stored under argv[0] in d, or nil. */
static pga_outcome_t lookup(pga_config_plane_t *p, pga_dict_t *d,
                            const pga_term_t *svc, pga_tb_t *out) {
  pthread_mutex_lock(&p->lock);
  pga__cterm_t *v = pga__term_dict_get(d, svc);
  pga_term_t t = v ? pga__cterm_view(v) : pga__t_nil;
  pga_tb_term(out, &t);
  pthread_mutex_unlock(&p->lock);
  return PGA_RETURN;
}

static pga_outcome_t fn_get_api_list(pga_config_plane_t *p,
                                     const pga_term_t *argv, pga_tb_t *out) {
  return lookup(p, p->puller->api_list, &argv[0], out);
}

static pga_outcome_t fn_get_service_version(pga_config_plane_t *p,
                                            const pga_term_t *argv,
                                            pga_tb_t *out) {
  return lookup(p, p->puller->versions, &argv[0], out);
}

static pga_outcome_t fn_get_all_versions(pga_config_plane_t *p,
                                         const pga_term_t *argv,
                                         pga_tb_t *out) {
  (void)argv;
  pthread_mutex_lock(&p->lock);
  encode_terms(p->puller->versions, out);
  pthread_mutex_unlock(&p->lock);
  return PGA_RETURN;
}

static pga_outcome_t fn_status(pga_config_plane_t *p, const pga_term_t *argv,
                               pga_tb_t *out) {
  (void)argv;
  pthread_mutex_lock(&p->lock);
  pga_tb_map(out, 5);
  pga_tb_atom(out, "status");
  pga_tb_atom(out, "ok");
  pga_tb_atom(out, "services");
  pga_puller_encode_services(p->puller, out);
  pga_tb_atom(out, "api_list");
  encode_terms(p->puller->api_list, out);
  pga_tb_atom(out, "service_versions");
  encode_terms(p->puller->versions, out);
  pga_tb_atom(out, "failure_count");
  pga_tb_uint(out, p->puller->failure_count);
  pthread_mutex_unlock(&p->lock);
  return PGA_RETURN;
}

const pga_cfn_def_t pga_puller_fns[] = {
    {PGA_MOD_PULLER, "add", 1, fn_add},
    {PGA_MOD_PULLER, "delete", 1, fn_delete},
    {PGA_MOD_PULLER, "pull", 0, fn_pull},
    {PGA_MOD_PULLER, "force_pull", 0, fn_pull},
    {PGA_MOD_PULLER, "get_services", 0, fn_get_services},
    {PGA_MOD_PULLER, "get_api_list", 1, fn_get_api_list},
    {PGA_MOD_PULLER, "get_service_version", 1, fn_get_service_version},
    {PGA_MOD_PULLER, "get_all_versions", 0, fn_get_all_versions},
    {PGA_MOD_PULLER, "status", 0, fn_status},
    {NULL, NULL, 0, NULL}};
