/* ConfigDb (spec §3): FunConfigs keyed by the exact terms {service,
 * request_type, effective version}, with a per-{service, request_type}
 * version set so get_fast/get_latest never scan the whole store.
 *
 * Invariants:
 *   1. Every entry is in `entries` and in exactly one group (the one of its
 *      service and request type); a group with no entries is removed.
 *   2. An entry's key views point into its own FunConfig (or at the static
 *      nil for an unversioned entry) and are refreshed whenever the
 *      FunConfig is replaced. A stored FunConfig never changes (lookups
 *      share it): enabling or disabling stores a changed copy.
 *   3. A group's cached fast/latest winners are valid while !dirty; every
 *      change to the group's entries (add, replace, delete, enable/disable)
 *      sets dirty. Lookups are O(1) amortised: a recomputation costs
 *      O(versions in that group) once per change.
 * Not thread-safe: the plane's lock covers every call. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "config/plane_int.h"
#include "pga/errno.h"

typedef struct group_s group_t;

typedef struct entry_s {
  pga_funconfig_t *fc;
  pga_term_t svc, rt, ver; /* views: invariant 2 */
  group_t *group;
  size_t gidx; /* index in group->v */
} entry_t;

struct group_s {
  pga__cterm_t svc, rt;
  entry_t **v;
  size_t n, cap;
  entry_t *fast, *latest;
  int dirty;
};

struct pga_store_s {
  pga_dict_t *entries; /* entry_t -> entry_t (owned) */
  pga_dict_t *groups;  /* group_t -> group_t (owned) */
};

static uint64_t mix(uint64_t h, uint64_t v) {
  return (h ^ v) * 0x100000001b3ULL + (h >> 29);
}

static uint64_t entry_hash(const void *k) {
  const entry_t *e = k;
  return mix(mix(pga__term_hash(&e->svc), pga__term_hash(&e->rt)),
             pga__term_hash(&e->ver));
}

static int entry_equal(const void *a, const void *b) {
  const entry_t *x = a, *y = b;
  return pga_term_equal(&x->rt, &y->rt) && pga_term_equal(&x->ver, &y->ver) &&
         pga_term_equal(&x->svc, &y->svc);
}

static void entry_free(void *p) {
  entry_t *e = p;
  pga_funconfig_free(e->fc);
  free(e);
}

static uint64_t group_hash(const void *k) {
  const group_t *g = k;
  pga_term_t s = pga__cterm_view(&g->svc), r = pga__cterm_view(&g->rt);
  return mix(pga__term_hash(&s), pga__term_hash(&r));
}

static int group_equal(const void *a, const void *b) {
  const group_t *x = a, *y = b;
  pga_term_t xs = pga__cterm_view(&x->svc), ys = pga__cterm_view(&y->svc);
  pga_term_t xr = pga__cterm_view(&x->rt), yr = pga__cterm_view(&y->rt);
  return pga_term_equal(&xr, &yr) && pga_term_equal(&xs, &ys);
}

static void group_free(void *p) {
  group_t *g = p;
  pga__cterm_clear(&g->svc);
  pga__cterm_clear(&g->rt);
  free(g->v);
  free(g);
}

static const pga_dict_type_t entry_type = {entry_hash, entry_equal, NULL,
                                           entry_free};
static const pga_dict_type_t group_type = {group_hash, group_equal, NULL,
                                           group_free};

pga_store_t *pga_store_new(void) {
  pga_store_t *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->entries = pga_dict_new(&entry_type);
  s->groups = pga_dict_new(&group_type);
  if (!s->entries || !s->groups) {
    pga_store_free(s);
    return NULL;
  }
  return s;
}

void pga_store_free(pga_store_t *s) {
  if (!s) return;
  if (s->entries) pga_dict_free(s->entries);
  if (s->groups) pga_dict_free(s->groups);
  free(s);
}

void pga_store_clear(pga_store_t *s) {
  pga_dict_t *e = pga_dict_new(&entry_type), *g = pga_dict_new(&group_type);
  if (!e || !g) {
    /* Out of memory: empty the tables in place instead. */
    if (e) pga_dict_free(e);
    if (g) pga_dict_free(g);
    pga_dict_iter_t it;
    void *k, *v;
    pga_dict_iter_init(s->entries, &it);
    while (pga_dict_next(&it, &k, &v)) pga_dict_delete(s->entries, k);
    pga_dict_iter_init(s->groups, &it);
    while (pga_dict_next(&it, &k, &v)) pga_dict_delete(s->groups, k);
    return;
  }
  pga_dict_free(s->entries);
  pga_dict_free(s->groups);
  s->entries = e;
  s->groups = g;
}

size_t pga_store_count(const pga_store_t *s) {
  return pga_dict_size(s->entries);
}

void pga_store_foreach(const pga_store_t *s,
                       void (*cb)(void *ud, const pga_funconfig_t *fc),
                       void *ud) {
  pga_dict_iter_t it;
  void *k, *v;
  pga_dict_iter_init(s->entries, &it);
  while (pga_dict_next(&it, &k, &v)) cb(ud, ((entry_t *)v)->fc);
}

static void set_views(entry_t *e) {
  e->svc = pga_funconfig_get(e->fc, PGA_FC_SERVICE);
  e->rt = pga_funconfig_get(e->fc, PGA_FC_REQUEST_TYPE);
  pga_term_t v = pga_funconfig_get(e->fc, PGA_FC_VERSION);
  e->ver = pga_version_effective(&v) ? v : pga__t_nil;
}

static group_t *group_find(const pga_store_t *s, const pga_term_t *svc,
                           const pga_term_t *rt) {
  group_t probe = {{(char *)svc->buf, svc->len},
                   {(char *)rt->buf, rt->len}, NULL, 0, 0, NULL, NULL, 0};
  return pga_dict_get(s->groups, &probe);
}

static group_t *group_get_or_add(pga_store_t *s, const entry_t *e) {
  group_t *g = group_find(s, &e->svc, &e->rt);
  if (g) return g;
  g = calloc(1, sizeof *g);
  if (!g || pga__cterm_set(&g->svc, &e->svc) != 0 ||
      pga__cterm_set(&g->rt, &e->rt) != 0 ||
      pga_dict_add(s->groups, g, g) != 0) {
    if (g) group_free(g);
    return NULL;
  }
  return g;
}

static int group_push(group_t *g, entry_t *e) {
  if (g->n == g->cap) {
    size_t cap = g->cap ? g->cap * 2 : 4;
    entry_t **v = realloc(g->v, cap * sizeof *v);
    if (!v) return PGA_ENOMEM;
    g->v = v;
    g->cap = cap;
  }
  e->group = g;
  e->gidx = g->n;
  g->v[g->n++] = e;
  g->dirty = 1;
  return 0;
}

/* Removes e from its group, and the group from the store once empty. */
static void group_remove(pga_store_t *s, entry_t *e) {
  group_t *g = e->group;
  g->v[e->gidx] = g->v[--g->n];
  g->v[e->gidx]->gidx = e->gidx;
  g->dirty = 1;
  if (g->n == 0) pga_dict_delete(s->groups, g);
}

static entry_t *entry_find(const pga_store_t *s, const pga_term_t *svc,
                           const pga_term_t *rt, const pga_term_t *ver) {
  entry_t probe = {NULL, *svc, *rt, *ver, NULL, 0};
  return pga_dict_get(s->entries, &probe);
}

int pga_store_put(pga_store_t *s, pga_funconfig_t *fc) {
  entry_t probe = {fc, {0}, {0}, {0}, NULL, 0};
  set_views(&probe);
  entry_t *old = pga_dict_get(s->entries, &probe);
  if (old) {
    /* Same key: only the FunConfig changes (invariant 2). */
    pga_funconfig_free(old->fc);
    old->fc = fc;
    set_views(old);
    old->group->dirty = 1;
    return 0;
  }
  entry_t *e = malloc(sizeof *e);
  group_t *g = e ? group_get_or_add(s, &probe) : NULL;
  if (!g) {
    free(e);
    pga_funconfig_free(fc);
    return PGA_ENOMEM;
  }
  *e = probe;
  if (group_push(g, e) != 0) {
    if (g->n == 0) pga_dict_delete(s->groups, g);
    entry_free(e);
    return PGA_ENOMEM;
  }
  if (pga_dict_add(s->entries, e, e) != 0) {
    group_remove(s, e);
    entry_free(e);
    return PGA_ENOMEM;
  }
  return 0;
}

const pga_funconfig_t *pga_store_find(const pga_store_t *s,
                                      const pga_term_t *svc,
                                      const pga_term_t *rt,
                                      const pga_term_t *ver) {
  entry_t *e = entry_find(s, svc, rt, ver);
  return e ? e->fc : NULL;
}

void pga_store_delete(pga_store_t *s, const pga_term_t *svc,
                      const pga_term_t *rt, const pga_term_t *ver) {
  entry_t *e = entry_find(s, svc, rt, ver);
  if (!e) return;
  group_remove(s, e);
  pga_dict_delete(s->entries, e);
}

int pga_store_set_disabled(pga_store_t *s, const pga_term_t *svc,
                           const pga_term_t *rt, const pga_term_t *ver,
                           int disabled) {
  entry_t *e = entry_find(s, svc, rt, ver);
  if (!e) return PGA_ENOTFOUND;
  e->group->dirty = 1;
  /* Stored FunConfigs are shared with requests in flight: a new one. */
  pga_funconfig_t *fc = pga_funconfig_dup(e->fc);
  if (!fc || pga_funconfig_set(fc, PGA_FC_DISABLED,
                               disabled ? &pga__t_true : &pga__t_false)) {
    pga_funconfig_free(fc);
    return PGA_ENOMEM;
  }
  pga_funconfig_free(e->fc);
  e->fc = fc;
  set_views(e);
  return 0;
}

/* The raw version bytes of a versioned entry. */
static void ver_bytes(const entry_t *e, const char **p, size_t *n) {
  if (pga_term_get_binary(&e->ver, p, n) != 0) {
    *p = "";
    *n = 0;
  }
}

/* Deterministic tie-break (compat.md C3): the bytewise greater string. */
static int tie_break(const entry_t *a, const entry_t *b) {
  const char *pa, *pb;
  size_t na, nb;
  ver_bytes(a, &pa, &na);
  ver_bytes(b, &pb, &nb);
  int c = memcmp(pa, pb, na < nb ? na : nb);
  return c ? c : (na > nb) - (na < nb);
}

/* get_latest (§3.2 rule 1): semver precedence; versions that do not parse
 * rank below every valid one (compat.md C2). */
static int latest_cmp(const entry_t *a, const entry_t *b) {
  const char *pa, *pb;
  size_t na, nb;
  pga_version_t va, vb;
  ver_bytes(a, &pa, &na);
  ver_bytes(b, &pb, &nb);
  int oka = pga_version_parse(pa, na, &va), okb = pga_version_parse(pb, nb, &vb);
  int c = oka != okb ? oka - okb : oka ? pga_version_cmp_semver(&va, &vb) : 0;
  return c ? c : tie_break(a, b);
}

/* get_fast (§3.2 rule 2): raw term order of parsed versions; a version
 * that does not parse ranks as 0.0.0. */
static int fast_cmp(const entry_t *a, const entry_t *b) {
  static const pga_version_t zero;
  const char *pa, *pb;
  size_t na, nb;
  pga_version_t va, vb;
  ver_bytes(a, &pa, &na);
  ver_bytes(b, &pb, &nb);
  if (!pga_version_parse(pa, na, &va)) va = zero;
  if (!pga_version_parse(pb, nb, &vb)) vb = zero;
  int c = pga_version_cmp_raw(&va, &vb);
  return c ? c : tie_break(a, b);
}

static void group_refresh(group_t *g) {
  entry_t *fast = NULL, *latest = NULL, *unversioned = NULL;
  for (size_t i = 0; i < g->n; i++) {
    entry_t *e = g->v[i];
    if (pga_funconfig_disabled(e->fc)) continue;
    if (pga__is_nil(&e->ver)) {
      unversioned = e;
      continue;
    }
    if (!latest || latest_cmp(e, latest) > 0) latest = e;
    if (!fast || fast_cmp(e, fast) > 0) fast = e;
  }
  g->fast = fast ? fast : unversioned;
  g->latest = latest;
  g->dirty = 0;
}

const pga_funconfig_t *pga_store_fast(pga_store_t *s, const pga_term_t *svc,
                                      const pga_term_t *rt) {
  group_t *g = group_find(s, svc, rt);
  if (!g) return NULL;
  if (g->dirty) group_refresh(g);
  return g->fast ? g->fast->fc : NULL;
}

const pga_funconfig_t *pga_store_latest(pga_store_t *s, const pga_term_t *svc,
                                        const pga_term_t *rt) {
  group_t *g = group_find(s, svc, rt);
  if (!g) return NULL;
  if (g->dirty) group_refresh(g);
  return g->latest ? g->latest->fc : NULL;
}

/* ---- listings ---- */

typedef struct svc_groups_s {
  group_t **v;
  size_t n, cap;
} svc_groups_t;

static void svc_groups_free(void *p) {
  svc_groups_t *sg = p;
  free(sg->v);
  free(sg);
}

/* Keyed by the groups' own service copies (not owned here). */
static const pga_dict_type_t by_service_type = {
    pga__term_key_hash, pga__term_key_equal, NULL, svc_groups_free};

static int add_to_service(pga_dict_t *by, group_t *g) {
  svc_groups_t *sg = pga_dict_get(by, &g->svc);
  if (!sg) {
    sg = calloc(1, sizeof *sg);
    if (!sg || pga_dict_add(by, &g->svc, sg) != 0) {
      free(sg);
      return PGA_ENOMEM;
    }
  }
  if (sg->n == sg->cap) {
    size_t cap = sg->cap ? sg->cap * 2 : 4;
    group_t **v = realloc(sg->v, cap * sizeof *v);
    if (!v) return PGA_ENOMEM;
    sg->v = v;
    sg->cap = cap;
  }
  sg->v[sg->n++] = g;
  return 0;
}

/* Groups by service; only services in `only` (a list) when not NULL. */
static pga_dict_t *services_index(const pga_store_t *s,
                                  const pga_term_t *only) {
  pga_dict_t *by = pga_dict_new(&by_service_type);
  pga_dict_iter_t it;
  void *k, *v;
  if (!by) return NULL;
  pga_dict_iter_init(s->groups, &it);
  while (pga_dict_next(&it, &k, &v)) {
    group_t *g = v;
    if (only && !pga__list_has(only, &(pga_term_t){g->svc.buf, g->svc.len})) continue;
    if (add_to_service(by, g) != 0) {
      pga_dict_free(by);
      return NULL;
    }
  }
  return by;
}

static void encode_group(pga_tb_t *tb, const group_t *g) {
  pga_term_t rt = pga__cterm_view(&g->rt);
  pga_tb_term(tb, &rt);
  pga_tb_list_head(tb, g->n);
  for (size_t i = 0; i < g->n; i++) pga_tb_term(tb, &g->v[i]->ver);
  pga_tb_nil(tb);
}

int pga_store_encode_functions(const pga_store_t *s, pga_tb_t *tb,
                               const pga_term_t *only) {
  pga_dict_t *by = services_index(s, only);
  pga_dict_iter_t it;
  void *k, *v;
  if (!by) return PGA_ENOMEM;
  pga_tb_map(tb, pga_dict_size(by));
  pga_dict_iter_init(by, &it);
  while (pga_dict_next(&it, &k, &v)) {
    svc_groups_t *sg = v;
    pga_term_t svc = pga__cterm_view(k);
    pga_tb_term(tb, &svc);
    pga_tb_map(tb, sg->n);
    for (size_t i = 0; i < sg->n; i++) encode_group(tb, sg->v[i]);
  }
  pga_dict_free(by);
  return 0;
}

int pga_store_encode_services(const pga_store_t *s, pga_tb_t *tb) {
  pga_dict_t *by = services_index(s, NULL);
  pga_dict_iter_t it;
  void *k, *v;
  if (!by) return PGA_ENOMEM;
  pga_tb_list_head(tb, pga_dict_size(by));
  pga_dict_iter_init(by, &it);
  while (pga_dict_next(&it, &k, &v)) {
    pga_term_t svc = pga__cterm_view(k);
    pga_tb_term(tb, &svc);
  }
  pga_tb_nil(tb);
  pga_dict_free(by);
  return 0;
}
