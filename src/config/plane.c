/* The config plane object: creation from options, registration of every
 * served function under its exact module atom, the node -> plane table
 * behind pga_config_plane_start/stop, and the helpers the served
 * functions share (exceptions, keyword options). See config.h for the
 * plane's invariants. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/plane_int.h"
#include "pga/errno.h"
#include "rpc/rpc.h"
#include "term/inspect.h"
#include "term/term.h"

/* PhoenixGenApi.JsonConfig (json_export.c). */
extern const pga_cfn_def_t pga_json_fns[];

static const pga_cfn_def_t *const tables[] = {pga_db_fns, pga_receiver_fns,
                                              pga_failed_fns, pga_puller_fns,
                                              pga_json_fns};
#define NTABLES (sizeof tables / sizeof *tables)

/* One registered function's udata. */
typedef struct binding_s {
  pga_config_plane_t *plane;
  const pga_cfn_def_t *def;
} binding_t;

typedef struct plane_ext_s {
  pga_config_plane_t plane;
  binding_t *bindings;
} plane_ext_t;

static void rec_free(void *r) { pga__rec_free(r); }
static const pga_dict_type_t pushed_type = PGA__TERM_DICT_TYPE(rec_free);

const pga_term_t *pga__plane_allowlist(const pga_config_plane_t *p,
                                       pga_term_t *tmp) {
  if (!p->allowlist.buf) return NULL;
  *tmp = pga__cterm_view(&p->allowlist);
  return tmp;
}

/* §8 service_configs: each a ServiceConfig struct or map (§1.7), added
 * as ConfigPuller.add/1 would. */
static int load_service_configs(pga_config_plane_t *p,
                                const pga_config_opts_t *o, char *err,
                                size_t errlen) {
  pga_term_t list, el;
  pga_term_iter_t it;
  size_t i = 0;
  if (pga_term_view(o->service_configs, o->service_configs_len, &list) != 0 ||
      !pga__proper_list(&list, NULL) || pga_term_iter_init(&it, &list) != 0) {
    snprintf(err, errlen, "service_configs: must be a list");
    return PGA_EINVAL;
  }
  while (pga_term_iter_next(&it, &el)) {
    pga__rec_t *sc;
    int rc = pga_term_type(&el) == PGA_T_MAP
                 ? pga_serviceconfig_decode(&el, &sc)
                 : PGA_ETYPE;
    if (rc == PGA_ETYPE) {
      snprintf(err, errlen, "service_configs[%zu]: must be a map", i);
      return PGA_EINVAL;
    }
    if (rc != 0 || (rc = pga_puller_put_from_config(p->puller, sc)) != 0)
      return rc;
    i++;
  }
  return 0;
}

static int copy_opts(pga_config_plane_t *p, const pga_config_opts_t *o,
                     char *err, size_t errlen) {
  p->max_fun_configs = PGA_CONFIG_DEFAULT_MAX_FUN_CONFIGS;
  if (!o) return 0;
  if (o->max_fun_configs) p->max_fun_configs = o->max_fun_configs;
  if (o->push_token) {
    pga_term_t raw = {o->push_token, o->push_token_len
                                         ? o->push_token_len
                                         : strlen(o->push_token)};
    if (pga__cterm_set(&p->token, &raw) != 0) return PGA_ENOMEM;
  }
  if (o->mfa_allowlist) {
    pga_term_t t;
    size_t n;
    if (pga_term_view(o->mfa_allowlist, o->mfa_allowlist_len, &t) != 0 ||
        !pga__proper_list(&t, &n)) {
      snprintf(err, errlen, "mfa_allowlist: must be a list");
      return PGA_EINVAL;
    }
    if (pga__cterm_set(&p->allowlist, &t) != 0) return PGA_ENOMEM;
  }
  unsigned flags = o->struct_version >= 2 ? o->flags : 0;
  pga_puller_set_timing(p->puller, o->pull_interval_ms, o->pull_timeout_ms,
                        (flags & PGA_CONFIG_F_PULL_TIMEOUT_ZERO) != 0);
  if (o->struct_version >= 2 && o->service_configs)
    return load_service_configs(p, o, err, errlen);
  return 0;
}

int pga_config_plane_new(pga_node_t *node, const pga_config_opts_t *opts,
                         pga_config_plane_t **out, char *err, size_t errlen) {
  if (errlen) err[0] = '\0';
  plane_ext_t *x = calloc(1, sizeof *x);
  if (!x) return PGA_ENOMEM;
  pga_config_plane_t *p = &x->plane;
  pthread_mutex_init(&p->lock, NULL);
  p->node = node;
  p->store = pga_store_new();
  p->failed = pga_failed_new(opts ? opts->failed_cap : 0);
  p->pushed = pga_dict_new(&pushed_type);
  p->puller = pga_puller_new(p);
  int rc = p->store && p->failed && p->pushed && p->puller ? 0 : PGA_ENOMEM;
  /* The durable state first: the configuration file's services are
   * applied over it (durable.h). */
  if (rc == 0 && opts && opts->struct_version >= 2 && opts->data_dir)
    rc = pga_durable_open(p, opts->data_dir, err, errlen);
  if (rc == 0) rc = copy_opts(p, opts, err, errlen);
  if (rc != 0) {
    if (errlen && !err[0]) snprintf(err, errlen, "config plane: %s",
                                    pga_strerror(rc));
    pga_config_plane_free(p);
    return rc;
  }
  *out = p;
  return 0;
}

void pga_config_plane_free(pga_config_plane_t *p) {
  if (!p) return;
  plane_ext_t *x = (plane_ext_t *)p;
  pga_store_free(p->store);
  pga_failed_free(p->failed);
  if (p->pushed) pga_dict_free(p->pushed);
  pga_puller_free(p->puller);
  pga_durable_close(p->durable);
  pga__cterm_clear(&p->token);
  pga__cterm_clear(&p->allowlist);
  pthread_mutex_destroy(&p->lock);
  free(x->bindings);
  free(x);
}

/* ---- calling ---- */

static const pga_cfn_def_t *find_fn(const char *m, const char *f,
                                    size_t argc) {
  for (size_t t = 0; t < NTABLES; t++)
    for (const pga_cfn_def_t *d = tables[t]; d->module; d++)
      if (d->arity == argc && !strcmp(d->module, m) && !strcmp(d->function, f))
        return d;
  return NULL;
}

pga_outcome_t pga_config_call(pga_config_plane_t *p, const char *module,
                              const char *function, size_t argc,
                              const pga_term_t *argv, pga_tb_t *out) {
  const pga_cfn_def_t *d = find_fn(module, function, argc);
  if (!d) {
    pga_tb_atom(out, "undef");
    return PGA_ERROR;
  }
  return d->fn(p, argv, out);
}

static pga_outcome_t trampoline(pga_call_t *call, size_t argc,
                                const pga_term_t *argv, pga_tb_t *out) {
  binding_t *b = pga_call_udata(call);
  (void)argc;
  return b->def->fn(b->plane, argv, out);
}

static int register_all(pga_config_plane_t *p, pga_node_t *node) {
  plane_ext_t *x = (plane_ext_t *)p;
  size_t n = 0, k = 0;
  for (size_t t = 0; t < NTABLES; t++)
    for (const pga_cfn_def_t *d = tables[t]; d->module; d++) n++;
  x->bindings = calloc(n, sizeof *x->bindings);
  if (!x->bindings) return PGA_ENOMEM;
  for (size_t t = 0; t < NTABLES; t++) {
    for (const pga_cfn_def_t *d = tables[t]; d->module; d++) {
      binding_t *b = &x->bindings[k++];
      b->plane = p;
      b->def = d;
      /* Worker threads, not INLINE: config.h invariant 1. */
      pga_fn_def_t def = {d->module, d->function, d->arity, trampoline,
                          0, b, 0, {0}};
      int rc = pga_node_register_fn(node, &def);
      if (rc != 0) return rc;
    }
  }
  return 0;
}

/* ---- node -> plane ---- */

#define MAX_NODES 16
static struct {
  pga_node_t *node;
  pga_config_plane_t *plane;
} planes[MAX_NODES];
static pthread_mutex_t planes_lock = PTHREAD_MUTEX_INITIALIZER;

pga_config_plane_t *pga_config_plane_of(pga_node_t *node) {
  pga_config_plane_t *p = NULL;
  pthread_mutex_lock(&planes_lock);
  for (size_t i = 0; i < MAX_NODES; i++)
    if (planes[i].node == node && node) p = planes[i].plane;
  pthread_mutex_unlock(&planes_lock);
  return p;
}

static int remember(pga_node_t *node, pga_config_plane_t *p) {
  int rc = PGA_EBUSY;
  pthread_mutex_lock(&planes_lock);
  for (size_t i = 0; i < MAX_NODES && rc != 0; i++)
    if (!planes[i].node) {
      planes[i].node = node;
      planes[i].plane = p;
      rc = 0;
    }
  pthread_mutex_unlock(&planes_lock);
  return rc;
}

int pga_config_plane_start(pga_node_t *node, const pga_config_opts_t *opts,
                           char *err, size_t errlen) {
  pga_config_plane_t *p;
  if (!node || pga_config_plane_of(node)) {
    snprintf(err, errlen, "config plane: no node, or already started");
    return PGA_EINVAL;
  }
  int rc = pga_config_plane_new(node, opts, &p, err, errlen);
  if (rc != 0) return rc;
  if ((rc = register_all(p, node)) != 0 || (rc = remember(node, p)) != 0) {
    snprintf(err, errlen, "config plane: registering functions: %s",
             pga_strerror(rc));
    pga_config_plane_free(p);
    return rc;
  }
  pga_puller_start_on_node(p->puller, node);
  return 0;
}

void pga_config_plane_stop(pga_node_t *node) {
  pga_config_plane_t *p = NULL;
  pthread_mutex_lock(&planes_lock);
  for (size_t i = 0; i < MAX_NODES; i++)
    if (node && planes[i].node == node) {
      p = planes[i].plane;
      planes[i].node = NULL;
      planes[i].plane = NULL;
    }
  pthread_mutex_unlock(&planes_lock);
  pga_config_plane_free(p);
}

/* ---- request-plane lookup ---- */

int pga_config_lookup(pga_config_plane_t *p, const pga_term_t *service,
                      const pga_term_t *request_type,
                      const pga_term_t *version, pga_funconfig_t **out) {
  int exact = version && pga__is_truthy(version) &&
              !pga__binary_is(version, "0.0.0");
  int rc = 0;
  pthread_mutex_lock(&p->lock);
  const pga_funconfig_t *fc =
      exact ? pga_store_find(p->store, service, request_type, version)
            : pga_store_fast(p->store, service, request_type);
  if (!fc)
    rc = PGA_ENOTFOUND;
  else if (exact && pga_funconfig_disabled(fc))
    rc = PGA_EBUSY;
  else
    *out = pga_funconfig_ref(fc); /* shared: stored ones never change */
  pthread_mutex_unlock(&p->lock);
  return rc;
}

/* ---- shared helpers ---- */

pga_outcome_t pga__function_clause(pga_tb_t *out) {
  pga_tb_reset(out);
  pga_tb_atom(out, "function_clause");
  return PGA_ERROR;
}

/* %ArgumentError{message: m}: an Elixir exception struct carries
 * __exception__: true beside __struct__ (observed on Elixir 1.14). */
pga_outcome_t pga__argument_error(pga_tb_t *out, const char *message) {
  pga_tb_reset(out);
  pga_tb_map(out, 3);
  pga_tb_atom(out, "__exception__");
  pga_tb_atom(out, "true");
  pga_tb_atom(out, "__struct__");
  pga_tb_atom(out, "Elixir.ArgumentError");
  pga_tb_atom(out, "message");
  pga_tb_string(out, message);
  return PGA_ERROR;
}

pga_outcome_t pga__error_atom(pga_tb_t *out, const char *reason) {
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "error");
  pga_tb_atom(out, reason);
  return PGA_RETURN;
}

int pga__keyword_get(const pga_term_t *opts, const char *key, pga_term_t *v) {
  pga_term_iter_t it;
  pga_term_t el, k[2];
  if (pga_term_iter_init(&it, opts) != 0) return 0;
  while (pga_term_iter_next(&it, &el))
    if (pga__tuple_of(&el, 2, k) && pga_term_is_atom(&k[0], key)) {
      *v = k[1];
      return 1;
    }
  return 0;
}

/* The arity the request plane calls mfa with (request-plane.md §4):
 * predefined ++ converted ++ info. */
static unsigned call_arity(const pga_funconfig_t *fc) {
  pga_term_t mfa = pga_funconfig_get(fc, PGA_FC_MFA), pre;
  pga_term_t types = pga_funconfig_get(fc, PGA_FC_ARG_TYPES);
  pga_term_t orders = pga_funconfig_get(fc, PGA_FC_ARG_ORDERS);
  pga_term_t info = pga_funconfig_get(fc, PGA_FC_REQUEST_INFO);
  size_t n = 0, k = 0;

  if (pga_term_tuple_get(&mfa, 2, &pre) == 0 &&
      pga_term_list_length(&pre, &n) != 0)
    n = 0;
  if (pga_term_map_size(&types, &k) == 0 && k > 0) {
    if (pga_term_is_atom(&orders, "map") || k == 1) n += 1;
    else if (pga_term_list_length(&orders, &k) == 0) n += k;
  }
  if (pga_term_is_atom(&info, "true")) n += 1;
  return (unsigned)n;
}

/* The relay's built-in handler (ops-plane.md §7.3): the executor calls it
 * as handle_relay(request, fun_config), whatever the config's arity. */
static int relay_builtin(const pga_config_plane_t *p, const char *m,
                         const char *f) {
  return strcmp(m, "Elixir.PhoenixGenApi.Relay") == 0 &&
         strcmp(f, "handle_relay") == 0 &&
         pga_rpc_lookup(pga__node_rpc(p->node), m, f, 2);
}

char *pga__config_local_unavailable(const pga_config_plane_t *p,
                                    const pga_funconfig_t *fc) {
  pga_term_t nodes = pga_funconfig_get(fc, PGA_FC_NODES);
  pga_term_t mfa = pga_funconfig_get(fc, PGA_FC_MFA), el[2];
  char m[PGA_ATOM_BUF], f[PGA_ATOM_BUF];
  static const char prefix[] = "local function not available: ";

  if (!p->node || !pga_term_is_atom(&nodes, "local")) return NULL;
  if (pga_term_tuple_get(&mfa, 0, &el[0]) == 0 &&
      pga_term_tuple_get(&mfa, 1, &el[1]) == 0 &&
      pga_term_get_atom(&el[0], m, sizeof m) == 0 &&
      pga_term_get_atom(&el[1], f, sizeof f) == 0 &&
      (pga_rpc_lookup(pga__node_rpc(p->node), m, f, call_arity(fc)) ||
       relay_builtin(p, m, f)))
    return NULL;
  char *in = pga_term_inspect_dup(&mfa);
  char *s = in ? malloc(sizeof prefix + strlen(in)) : NULL;
  if (s) {
    memcpy(s, prefix, sizeof prefix - 1);
    strcpy(s + sizeof prefix - 1, in);
  }
  free(in);
  return s ? s : strdup(prefix);
}

/* ---- read-only views for the ops plane (config.h) ---- */

typedef struct stored_list_s {
  pga_tb_t *out;
} stored_list_t;

static void put_stored(void *ud, const pga_funconfig_t *fc) {
  stored_list_t *sl = ud;
  pga_term_t v = pga_funconfig_get(fc, PGA_FC_VERSION);
  pga_tb_tuple(sl->out, 2);
  pga_tb_term(sl->out, pga_version_effective(&v) ? &v : &pga__t_nil);
  pga_funconfig_encode(sl->out, fc);
}

int pga_config_list_stored(pga_config_plane_t *p, pga_tb_t *out) {
  stored_list_t sl = {out};
  pthread_mutex_lock(&p->lock);
  size_t n = pga_store_count(p->store);
  pga_tb_list(out, n);
  pga_store_foreach(p->store, put_stored, &sl);
  if (n) pga_tb_nil(out);
  pthread_mutex_unlock(&p->lock);
  return pga_tb_error(out) ? PGA_ENOMEM : 0;
}

/* token and allowlist are set once at creation, so no lock is needed. */
int pga_config_push_token_valid(const pga_config_plane_t *p,
                                const pga_term_t *token) {
  return pga_push_token_ok(&p->token, token);
}

int pga_config_mfa_valid(const pga_config_plane_t *p, const pga_term_t *mfa) {
  pga_term_t tmp;
  return pga_mfa_allowed(mfa, pga__plane_allowlist(p, &tmp));
}
