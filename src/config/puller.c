/* PhoenixGenApi.ConfigPuller (spec §5): the puller's state (services,
 * api_list, service_versions, failure_count, keyed by exact service
 * terms), its RPC API, and the rounds: one timer, the backoff schedule,
 * and one concurrent job per service (pull.c).
 *
 * Invariants:
 *   1. The maps and failure_count are plane state: read and written under
 *      the plane lock. Everything else here (the timer, the running round,
 *      the pending request) belongs to the loop thread; worker threads
 *      reach it only through pga_loop_post (pull/0, force_pull/0).
 *   2. One timer drives the rounds. It is armed only while no round runs;
 *      a round that ends arms it with the §5.2 delay, unless a pull was
 *      requested meanwhile, which then runs at once (C14). So manual pulls
 *      never multiply the periodic chain (§5.2 "SHOULD").
 *   3. A service that is down or slow costs its own job at most
 *      pull_timeout + 1000 ms and never blocks the loop: every call is
 *      asynchronous, and the round ends when its last job does. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "config/puller_int.h"
#include "pga/errno.h"
#include "rpc/rpc.h"
#include "term/inspect.h"
#include "term/term.h"

#define MAX_RESOLVERS 32

typedef struct resolver_s {
  char *module, *function;
  pga_config_resolver_fn fn;
  void *ud;
} resolver_t;

struct pga_round_s {
  pga_puller_t *pl;
  pga_pull_ctx_t ctx;
  pga_pull_job_t **jobs;
  int *failed;
  size_t n, left;
  int starting;
  uint64_t end_timer;
};

struct pga_puller_s {
  pga_config_plane_t *plane;
  pga_dict_t *services; /* service -> pga__rec_t ServiceConfig */
  pga_dict_t *api_list; /* service -> pga__cterm_t list of request types */
  pga_dict_t *versions; /* service -> pga__cterm_t version term */
  pga_dict_t *from_config; /* services of the configuration file (not
                              durable, durable.h) -> unused */
  uint64_t failure_count;
  /* loop thread (invariant 1) */
  pga_loop_t *loop;     /* NULL: no rounds (a plane without a node) */
  pga_puller_io_t io;
  unsigned interval_ms, timeout_ms;
  int timeout_zero;
  uint64_t timer;
  pga_round_t *round;
  int pending;          /* 0, 1 pull, 2 force_pull */
  pga_puller_round_hook hook;
  void *hook_ud;
  resolver_t resolvers[MAX_RESOLVERS];
  size_t nresolvers;
};

static void rec_free(void *r) { pga__rec_free(r); }
static void cterm_free(void *c) { pga__term_key_free(c); }
static void no_free(void *v) { (void)v; }

static const pga_dict_type_t services_type = PGA__TERM_DICT_TYPE(rec_free);
static const pga_dict_type_t terms_type = PGA__TERM_DICT_TYPE(cterm_free);
static const pga_dict_type_t marks_type = PGA__TERM_DICT_TYPE(no_free);

/* ---- pure functions ---- */

uint64_t pga_puller_next_delay(uint64_t interval_ms, uint64_t failures) {
  if (failures == 0) return interval_ms;
  /* interval * 2^failures >= 2^failures > cap once failures >= 19. */
  if (interval_ms == 0) return 0;
  if (failures >= 19 || interval_ms >= PGA_PULL_BACKOFF_CAP_MS)
    return PGA_PULL_BACKOFF_CAP_MS;
  uint64_t d = interval_ms << failures;
  return d > PGA_PULL_BACKOFF_CAP_MS ? PGA_PULL_BACKOFF_CAP_MS : d;
}

int pga_puller_round_ok(size_t failed, size_t total) {
  return total == 0 || failed < total;
}

uint64_t pga_puller_next_failures(uint64_t failures, int round_ok) {
  if (round_ok) return 0;
  return failures == UINT64_MAX ? failures : failures + 1;
}

static int is_int(pga_term_type_t t) {
  return t == PGA_T_INTEGER || t == PGA_T_BIGINT;
}

static int version_eq(const pga_term_t *a, const pga_term_t *b, int depth) {
  pga_term_type_t ta = pga_term_type(a), tb = pga_term_type(b);
  if (depth > 64) return pga_term_equal(a, b);
  if ((ta == PGA_T_FLOAT && is_int(tb)) || (is_int(ta) && tb == PGA_T_FLOAT)) {
    const pga_term_t *fl = ta == PGA_T_FLOAT ? a : b;
    const pga_term_t *in = ta == PGA_T_FLOAT ? b : a;
    double f;
    int64_t i;
    if (pga_term_get_double(fl, &f) != 0 ||
        pga_term_get_int64(in, &i) != 0)
      return 0; /* a bignum: never equal to a float we can hold exactly */
    return f >= -9.2e18 && f <= 9.2e18 && (double)(int64_t)f == f &&
           (int64_t)f == i;
  }
  if (ta == PGA_T_FLOAT && tb == PGA_T_FLOAT) {
    double x, y;
    return pga_term_get_double(a, &x) == 0 &&
           pga_term_get_double(b, &y) == 0 && x == y;
  }
  if (ta == PGA_T_TUPLE && tb == PGA_T_TUPLE) {
    size_t na, nb;
    if (pga_term_tuple_arity(a, &na) || pga_term_tuple_arity(b, &nb) ||
        na != nb)
      return 0;
    for (size_t i = 0; i < na; i++) {
      pga_term_t x, y;
      if (pga_term_tuple_get(a, i, &x) || pga_term_tuple_get(b, i, &y) ||
          !version_eq(&x, &y, depth + 1))
        return 0;
    }
    return 1;
  }
  if (ta == PGA_T_LIST && tb == PGA_T_LIST) {
    pga_term_iter_t ia, ib;
    pga_term_t x, y;
    if (pga_term_iter_init(&ia, a) || pga_term_iter_init(&ib, b)) return 0;
    for (;;) {
      int ha = pga_term_iter_next(&ia, &x), hb = pga_term_iter_next(&ib, &y);
      if (ha != hb) return 0;
      if (!ha) break;
      if (!version_eq(&x, &y, depth + 1)) return 0;
    }
    pga_term_iter_tail(&ia, &x);
    pga_term_iter_tail(&ib, &y);
    return version_eq(&x, &y, depth + 1);
  }
  return pga_term_equal(a, b);
}

int pga_puller_version_equal(const pga_term_t *a, const pga_term_t *b) {
  return version_eq(a, b, 0);
}

int pga_puller_list_nodes(const pga_term_t *nodes, size_t max, char ***out) {
  pga_term_iter_t it;
  pga_term_t el;
  char name[PGA_ATOM_BUF];
  size_t n = 0, bytes = 0;
  *out = NULL;
  if (!pga__is_list(nodes) || pga_term_iter_init(&it, nodes) != 0) return 0;
  while (n < max && pga_term_iter_next(&it, &el))
    if (pga__is_atom(&el) && pga_term_get_atom(&el, name, sizeof name) == 0) {
      n++;
      bytes += strlen(name) + 1;
    }
  if (n == 0) return 0;
  char **v = malloc(n * sizeof *v + bytes);
  if (!v) return -1;
  char *p = (char *)(v + n);
  size_t k = 0;
  (void)pga_term_iter_init(&it, nodes);
  while (k < n && pga_term_iter_next(&it, &el))
    if (pga__is_atom(&el) && pga_term_get_atom(&el, name, sizeof name) == 0) {
      size_t l = strlen(name) + 1;
      memcpy(p, name, l);
      v[k++] = p;
      p += l;
    }
  *out = v;
  return (int)n;
}

/* ---- state ---- */

pga_puller_t *pga_puller_new(pga_config_plane_t *p) {
  pga_puller_t *pl = calloc(1, sizeof *pl);
  if (!pl) return NULL;
  pl->plane = p;
  pl->interval_ms = PGA_PULL_DEFAULT_INTERVAL_MS;
  pl->timeout_ms = PGA_PULL_DEFAULT_TIMEOUT_MS;
  pl->services = pga_dict_new(&services_type);
  pl->api_list = pga_dict_new(&terms_type);
  pl->versions = pga_dict_new(&terms_type);
  pl->from_config = pga_dict_new(&marks_type);
  if (!pl->services || !pl->api_list || !pl->versions || !pl->from_config) {
    pga_puller_free(pl);
    return NULL;
  }
  return pl;
}

void pga_puller_set_timing(pga_puller_t *pl, unsigned interval_ms,
                           unsigned timeout_ms, int timeout_zero) {
  if (interval_ms) pl->interval_ms = interval_ms;
  if (timeout_ms) pl->timeout_ms = timeout_ms;
  pl->timeout_zero = timeout_zero;
  if (timeout_zero) pl->timeout_ms = 0;
}

static void round_free(pga_round_t *rd) {
  if (!rd) return;
  for (size_t i = 0; i < rd->n; i++) pga_pull_job_free(rd->jobs[i]);
  if (rd->end_timer && rd->ctx.loop)
    pga_loop_timer_cancel(rd->ctx.loop, rd->end_timer);
  free(rd->jobs);
  free(rd->failed);
  free(rd);
}

void pga_puller_free(pga_puller_t *pl) {
  if (!pl) return;
  round_free(pl->round);
  if (pl->timer && pl->loop) pga_loop_timer_cancel(pl->loop, pl->timer);
  for (size_t i = 0; i < pl->nresolvers; i++) {
    free(pl->resolvers[i].module);
    free(pl->resolvers[i].function);
  }
  if (pl->services) pga_dict_free(pl->services);
  if (pl->api_list) pga_dict_free(pl->api_list);
  if (pl->versions) pga_dict_free(pl->versions);
  if (pl->from_config) pga_dict_free(pl->from_config);
  free(pl);
}

int pga_puller_put(pga_puller_t *pl, pga__rec_t *sc) {
  pga_term_t svc = pga__rec_get(sc, PGA_SC_SERVICE);
  (void)pga__term_dict_delete(pl->from_config, &svc);
  int rc = pga__term_dict_put(pl->services, &svc, sc);
  if (rc != 0) pga__rec_free(sc);
  return rc;
}

int pga_puller_put_from_config(pga_puller_t *pl, pga__rec_t *sc) {
  pga_term_t svc = pga__rec_get(sc, PGA_SC_SERVICE);
  int rc = pga__term_dict_put(pl->from_config, &svc, pl);
  if (rc != 0) {
    pga__rec_free(sc);
    return rc;
  }
  rc = pga__term_dict_put(pl->services, &svc, sc);
  if (rc != 0) pga__rec_free(sc);
  return rc;
}

void pga_puller_remove(pga_puller_t *pl, const pga_term_t *service) {
  (void)pga__term_dict_delete(pl->services, service);
  (void)pga__term_dict_delete(pl->api_list, service);
  (void)pga__term_dict_delete(pl->versions, service);
  (void)pga__term_dict_delete(pl->from_config, service);
}

size_t pga_puller_durable_count(const pga_puller_t *pl) {
  return pga_dict_size(pl->services) - pga_dict_size(pl->from_config);
}

void pga_puller_foreach_durable(const pga_puller_t *pl,
                                void (*cb)(void *ud, const pga__rec_t *sc),
                                void *ud) {
  pga_dict_iter_t it;
  void *k, *v;
  pga_dict_iter_init(pl->services, &it);
  while (pga_dict_next(&it, &k, &v)) {
    pga_term_t svc = pga__cterm_view(k);
    if (!pga__term_dict_get(pl->from_config, &svc)) cb(ud, v);
  }
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

/* key -> a copy of val in a dict of cterm values. 0 or PGA_ENOMEM. */
static int put_term(pga_dict_t *d, const pga_term_t *key,
                    const pga_term_t *val) {
  pga__cterm_t *c = calloc(1, sizeof *c);
  if (!c || pga__cterm_set(c, val) != 0) {
    free(c);
    return PGA_ENOMEM;
  }
  int rc = pga__term_dict_put(d, key, c);
  if (rc != 0) pga__term_key_free(c);
  return rc;
}

int pga__puller_set_result(pga_puller_t *pl, const pga_term_t *svc,
                           const pga_term_t *api, const pga_term_t *version) {
  if (!pga__term_dict_get(pl->services, svc)) return 0;
  int rc = put_term(pl->api_list, svc, api);
  if (rc == 0 && version) rc = put_term(pl->versions, svc, version);
  return rc;
}

/* ---- resolvers (§5.3 step 1, docs/compat.md C16) ---- */

int pga_config_resolver_register(pga_config_plane_t *p, const char *module,
                                 const char *function,
                                 pga_config_resolver_fn fn, void *ud) {
  pga_puller_t *pl = p->puller;
  if (!module || !function || !fn) return PGA_EINVAL;
  for (size_t i = 0; i < pl->nresolvers; i++)
    if (!strcmp(pl->resolvers[i].module, module) &&
        !strcmp(pl->resolvers[i].function, function)) {
      pl->resolvers[i].fn = fn;
      pl->resolvers[i].ud = ud;
      return 0;
    }
  if (pl->nresolvers == MAX_RESOLVERS) return PGA_ETOOBIG;
  resolver_t *r = &pl->resolvers[pl->nresolvers];
  r->module = strdup(module);
  r->function = strdup(function);
  if (!r->module || !r->function) {
    free(r->module);
    free(r->function);
    r->module = r->function = NULL;
    return PGA_ENOMEM;
  }
  r->fn = fn;
  r->ud = ud;
  pl->nresolvers++;
  return 0;
}

static const resolver_t *find_resolver(const pga_puller_t *pl,
                                       const pga_term_t *m,
                                       const pga_term_t *f) {
  char mod[PGA_ATOM_BUF], fun[PGA_ATOM_BUF];
  if (!pga__is_atom(m) || !pga__is_atom(f) ||
      pga_term_get_atom(m, mod, sizeof mod) != 0 ||
      pga_term_get_atom(f, fun, sizeof fun) != 0)
    return NULL;
  for (size_t i = 0; i < pl->nresolvers; i++)
    if (!strcmp(pl->resolvers[i].module, mod) &&
        !strcmp(pl->resolvers[i].function, fun))
      return &pl->resolvers[i];
  return NULL;
}

/* A list keeps its atoms; {m, f, a} goes to the C resolver registered
 * under m:f (a not a list, no resolver, or a result that is not a list:
 * no nodes); anything else has no nodes. */
static int resolve(void *ud, const pga_term_t *nodes, char ***out) {
  pga_round_t *rd = ud;
  pga_term_t part[3];
  *out = NULL;
  if (!pga__tuple_of(nodes, 3, part))
    return pga_puller_list_nodes(nodes, PGA_PULL_MAX_NODES, out);
  const resolver_t *r = find_resolver(rd->pl, &part[0], &part[1]);
  if (!r || !pga__proper_list(&part[2], NULL)) return 0;
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  r->fn(r->ud, &part[2], &tb);
  pga_term_t res = pga_tb_data(&tb);
  int n = pga_tb_error(&tb) || !res.len
              ? 0
              : pga_puller_list_nodes(&res, PGA_PULL_MAX_NODES, out);
  pga__tb_destroy(&tb);
  return n;
}

/* ---- rounds ---- */

static void round_start(pga_puller_t *pl, int force);

static int64_t on_timer(pga_loop_t *loop, uint64_t id, void *data) {
  pga_puller_t *pl = data;
  (void)loop;
  (void)id;
  pl->timer = 0;
  round_start(pl, 0);
  return PGA_TIMER_NOMORE;
}

static void arm(pga_puller_t *pl, uint64_t delay) {
  pl->timer = pga_loop_timer(pl->loop, (int64_t)delay, on_timer, pl);
  if (!pl->timer) pga_error("config: cannot schedule the next pull round");
}

static void log_failures(const pga_round_t *rd) {
  for (size_t i = 0; i < rd->n; i++) {
    if (!rd->failed[i]) continue;
    pga_term_t svc = pga_pull_job_service(rd->jobs[i]);
    char name[256];
    pga_term_inspect(&svc, name, sizeof name);
    pga_warn("config: pulling service %s failed: %s", name,
             pga_pull_job_reason(rd->jobs[i]));
  }
}

static int64_t on_round_end(pga_loop_t *loop, uint64_t id, void *data) {
  pga_round_t *rd = data;
  pga_puller_t *pl = rd->pl;
  (void)loop;
  (void)id;
  rd->end_timer = 0;
  size_t failed = 0;
  for (size_t i = 0; i < rd->n; i++) failed += rd->failed[i] != 0;
  int ok = pga_puller_round_ok(failed, rd->n);
  pthread_mutex_lock(&pl->plane->lock);
  pl->failure_count = pga_puller_next_failures(pl->failure_count, ok);
  uint64_t delay = pga_puller_next_delay(pl->interval_ms, pl->failure_count);
  pthread_mutex_unlock(&pl->plane->lock);
  log_failures(rd);
  size_t total = rd->n;
  pga_debug("config: pull round done: %zu of %zu services failed, next in "
            "%llu ms", failed, total, (unsigned long long)delay);
  pl->round = NULL;
  round_free(rd);
  if (pl->pending) {
    int force = pl->pending == 2;
    pl->pending = 0;
    round_start(pl, force);
  } else {
    arm(pl, delay);
  }
  if (pl->hook) pl->hook(pl->hook_ud, ok, failed, total, delay);
  return PGA_TIMER_NOMORE;
}

static void job_done(void *ud, pga_pull_job_t *job, int failed) {
  pga_round_t *rd = ud;
  for (size_t i = 0; i < rd->n; i++)
    if (rd->jobs[i] == job) rd->failed[i] = failed;
  if (--rd->left == 0 && !rd->starting) {
    /* Ended from the round's own timer, never from a job's callback
     * (pull.c invariant 3). */
    rd->end_timer = pga_loop_timer(rd->ctx.loop, 0, on_round_end, rd);
    if (!rd->end_timer) pga_error("config: cannot end a pull round");
  }
}

/* Copies the services and their stored versions under the lock (and
 * empties the versions first for force_pull, §5.3), then starts one job
 * per service outside it. */
static void round_start(pga_puller_t *pl, int force) {
  pga_round_t *rd = calloc(1, sizeof *rd);
  pga_config_plane_t *p = pl->plane;
  if (!rd) {
    pga_error("config: no memory for a pull round");
    arm(pl, pga_puller_next_delay(pl->interval_ms, pl->failure_count));
    return;
  }
  rd->pl = pl;
  rd->ctx = (pga_pull_ctx_t){p,   pl->loop, &pl->io, pl->timeout_ms,
                             pl->timeout_zero, resolve, job_done, rd};
  pthread_mutex_lock(&p->lock);
  if (force) {
    pga_dict_iter_t it;
    void *k, *v;
    pga_dict_iter_init(pl->versions, &it);
    while (pga_dict_next(&it, &k, &v)) pga_dict_delete(pl->versions, k);
  }
  size_t n = pga_dict_size(pl->services);
  rd->jobs = calloc(n ? n : 1, sizeof *rd->jobs);
  rd->failed = calloc(n ? n : 1, sizeof *rd->failed);
  int oom = !rd->jobs || !rd->failed;
  pga_dict_iter_t it;
  void *k, *v;
  pga_dict_iter_init(pl->services, &it);
  while (!oom && pga_dict_next(&it, &k, &v)) {
    pga_term_t svc = pga__cterm_view(k);
    pga__cterm_t *ver = pga__term_dict_get(pl->versions, &svc);
    pga_term_t vt = ver ? pga__cterm_view(ver) : pga__t_nil;
    pga_pull_job_t *job = pga_pull_job_new(&rd->ctx, v, &vt);
    if (!job) oom = 1;
    else rd->jobs[rd->n++] = job;
  }
  pthread_mutex_unlock(&p->lock);
  if (oom) {
    pga_error("config: no memory for a pull round");
    round_free(rd);
    arm(pl, pga_puller_next_delay(pl->interval_ms, pl->failure_count));
    return;
  }
  pl->round = rd;
  rd->starting = 1;
  rd->left = rd->n;
  for (size_t i = 0; i < rd->n; i++) pga_pull_job_start(rd->jobs[i]);
  rd->starting = 0;
  if (rd->left == 0) {
    rd->end_timer = pga_loop_timer(pl->loop, 0, on_round_end, rd);
    if (!rd->end_timer) pga_error("config: cannot end a pull round");
  }
}

void pga__puller_request(pga_puller_t *pl, int force) {
  if (!pl->loop) return;
  if (pl->round) {
    int want = force ? 2 : 1;
    if (pl->pending < want) pl->pending = want;
    return;
  }
  if (pl->timer) pga_loop_timer_cancel(pl->loop, pl->timer);
  pl->timer = 0;
  round_start(pl, force);
}

void pga__puller_attach(pga_puller_t *pl, pga_loop_t *loop,
                        const pga_puller_io_t *io, int64_t first_delay_ms) {
  pl->loop = loop;
  pl->io = *io;
  arm(pl, first_delay_ms < 0 ? 0 : (uint64_t)first_delay_ms);
}

void pga__puller_set_round_hook(pga_puller_t *pl, pga_puller_round_hook fn,
                                void *ud) {
  pl->hook = fn;
  pl->hook_ud = ud;
}

/* ---- the rpc seam in production ---- */

static int rpc_io_call(void *ud, const char *node, const char *m,
                       const char *f, const pga_term_t *args,
                       unsigned timeout_ms, pga_puller_reply_fn cb,
                       void *cb_ud, uint64_t *call_id) {
  pga_rpc_t *r = pga__node_rpc(ud);
  if (!r) return PGA_ECANCELED;
  return pga_rpc_call(r, node, m, f, args, timeout_ms, cb, cb_ud, call_id);
}

static void rpc_io_cancel(void *ud, uint64_t call_id) {
  pga_rpc_t *r = pga__node_rpc(ud);
  /* After pga_node_run the rpc layer is gone, with every call. */
  if (r) pga_rpc_call_cancel(r, call_id);
}

void pga_puller_start_on_node(pga_puller_t *pl, pga_node_t *node) {
  pga_puller_io_t io = {rpc_io_call, rpc_io_cancel, node};
  pga__puller_attach(pl, pga__node_loop(node), &io, PGA_PULL_FIRST_DELAY_MS);
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
  pga_txn_t t;
  uint64_t seq = 0;
  pga_txn_init(&t, p);
  (void)pga_term_iter_init(&it, list);
  pthread_mutex_lock(&p->lock);
  while (rc == 0 && pga_term_iter_next(&it, &el)) {
    pga__rec_t *sc;
    if ((rc = pga_serviceconfig_decode(&el, &sc)) != 0) break;
    pga_term_t svc = pga__rec_get(sc, PGA_SC_SERVICE);
    if (add) {
      pga_txn_service_put(&t, sc);
      rc = pga_puller_put(p->puller, sc);
    } else {
      pga_txn_service_del(&t, &svc);
      pga_puller_remove(p->puller, &svc);
      pga__rec_free(sc);
    }
  }
  int crc = pga_txn_commit(p, &t, 1, &seq);
  pthread_mutex_unlock(&p->lock);
  if (rc != 0) return pga__error_atom(out, "out_of_memory");
  pga_tb_atom(out, "ok");
  return pga__durable_reply(p, crc, seq, out);
}

static pga_outcome_t fn_add(pga_config_plane_t *p, const pga_term_t *argv,
                            pga_tb_t *out) {
  return add_or_delete(p, &argv[0], 1, out);
}

static pga_outcome_t fn_delete(pga_config_plane_t *p, const pga_term_t *argv,
                               pga_tb_t *out) {
  return add_or_delete(p, &argv[0], 0, out);
}

static void post_pull(pga_loop_t *loop, void *data) {
  (void)loop;
  pga__puller_request(data, 0);
}

static void post_force_pull(pga_loop_t *loop, void *data) {
  (void)loop;
  pga__puller_request(data, 1);
}

/* :ok at once; the round runs on the loop (§5.4: asynchronous). */
static pga_outcome_t request(pga_config_plane_t *p, int force,
                             pga_tb_t *out) {
  pga_puller_t *pl = p->puller;
  if (pl->loop &&
      pga_loop_post(pl->loop, force ? post_force_pull : post_pull, pl) != 0)
    pga_warn("config: pull request dropped: out of memory");
  pga_tb_atom(out, "ok");
  return PGA_RETURN;
}

static pga_outcome_t fn_pull(pga_config_plane_t *p, const pga_term_t *argv,
                             pga_tb_t *out) {
  (void)argv;
  return request(p, 0, out);
}

static pga_outcome_t fn_force_pull(pga_config_plane_t *p,
                                   const pga_term_t *argv, pga_tb_t *out) {
  (void)argv;
  return request(p, 1, out);
}

static pga_outcome_t fn_get_services(pga_config_plane_t *p,
                                     const pga_term_t *argv, pga_tb_t *out) {
  (void)argv;
  pthread_mutex_lock(&p->lock);
  pga_puller_encode_services(p->puller, out);
  pthread_mutex_unlock(&p->lock);
  return PGA_RETURN;
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
    {PGA_MOD_PULLER, "force_pull", 0, fn_force_pull},
    {PGA_MOD_PULLER, "get_services", 0, fn_get_services},
    {PGA_MOD_PULLER, "get_api_list", 1, fn_get_api_list},
    {PGA_MOD_PULLER, "get_service_version", 1, fn_get_service_version},
    {PGA_MOD_PULLER, "get_all_versions", 0, fn_get_all_versions},
    {PGA_MOD_PULLER, "status", 0, fn_status},
    {NULL, NULL, 0, NULL}};
