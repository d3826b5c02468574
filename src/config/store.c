/* ConfigDb (spec §3): FunConfigs keyed by the exact terms {service,
 * request_type, effective version}, with a per-{service, request_type}
 * version set so get_fast/get_latest never scan the whole store.
 *
 * Invariants:
 *   1. Every entry is in `entries` and in exactly one group (the one of its
 *      service and request type); a group with no entries is removed.
 *   2. An entry's key is read from its FunConfig ({service, request_type,
 *      effective version or nil}); a group's from its first entry. So the
 *      store holds no copies of keys, and a replaced FunConfig under the
 *      same key changes nothing else. A stored FunConfig never changes
 *      (lookups share it): enabling or disabling stores a changed copy.
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

/* A lookup key: views of the caller's terms. */
typedef struct skey_s {
  pga_term_t svc, rt, ver;
} skey_t;

/* 24 bytes: the key is read from the FunConfig (invariant 2). */
typedef struct entry_s {
  pga_funconfig_t *fc;
  group_t *group;
  uint32_t gidx; /* index in group->v */
  uint32_t hash;
} entry_t;

struct group_s {
  entry_t **v;   /* &one while cap is 1 */
  entry_t *one;
  uint32_t n, cap;
  uint32_t hash;
  int dirty;
  entry_t *fast, *latest;
};

/* Open addressing over pointers (linear probing, tombstones, load under
 * 3/4): one 8-byte slot per entry or group, no node allocations. */
#define TOMB ((void *)1)
typedef struct table_s {
  void **slot;
  size_t cap, used, live; /* used counts tombstones too */
} table_t;

struct pga_store_s {
  table_t entries; /* entry_t (owned) */
  table_t groups;  /* group_t (owned) */
};

static uint32_t mix(uint64_t h, uint64_t v) {
  h = (h ^ v) * 0x100000001b3ULL + (h >> 29);
  return (uint32_t)(h ^ (h >> 32));
}


static void entry_key(const entry_t *e, skey_t *k) {
  k->svc = pga_funconfig_get(e->fc, PGA_FC_SERVICE);
  k->rt = pga_funconfig_get(e->fc, PGA_FC_REQUEST_TYPE);
  k->ver = pga_funconfig_compiled(e->fc)->versioned
               ? pga_funconfig_get(e->fc, PGA_FC_VERSION)
               : pga__t_nil;
}

static uint32_t key_hash(const skey_t *k) {
  return mix(mix(pga__term_hash(&k->svc), pga__term_hash(&k->rt)),
             pga__term_hash(&k->ver));
}

static uint32_t group_key_hash(const pga_term_t *svc, const pga_term_t *rt) {
  return mix(pga__term_hash(svc), pga__term_hash(rt));
}

static int entry_is(const entry_t *e, const skey_t *k) {
  skey_t x;
  entry_key(e, &x);
  return pga__term_same(&x.rt, &k->rt) && pga__term_same(&x.ver, &k->ver) &&
         pga__term_same(&x.svc, &k->svc);
}

/* A group's key is its first entry's (all of them share it). */
static int group_is(const group_t *g, const pga_term_t *svc,
                    const pga_term_t *rt) {
  skey_t x;
  entry_key(g->v[0], &x);
  return pga__term_same(&x.rt, rt) && pga__term_same(&x.svc, svc);
}

/* ---- tables ---- */

static void table_free(table_t *t) {
  free(t->slot);
  memset(t, 0, sizeof *t);
}

static int table_grow(table_t *t, uint32_t (*hash_of)(const void *)) {
  size_t cap = t->cap ? t->cap * 2 : 16;
  while (t->live * 4 >= cap * 2) cap *= 2; /* rehash to half full at most */
  void **slot = calloc(cap, sizeof *slot);
  if (!slot) return PGA_ENOMEM;
  for (size_t i = 0; i < t->cap; i++) {
    void *p = t->slot[i];
    if (!p || p == TOMB) continue;
    size_t j = hash_of(p) & (cap - 1);
    while (slot[j]) j = (j + 1) & (cap - 1);
    slot[j] = p;
  }
  free(t->slot);
  t->slot = slot;
  t->cap = cap;
  t->used = t->live;
  return 0;
}

/* Adds p (not present) with hash h. 0 or PGA_ENOMEM. */
static int table_add(table_t *t, void *p, uint32_t h,
                     uint32_t (*hash_of)(const void *)) {
  if ((t->used + 1) * 4 > t->cap * 3 && table_grow(t, hash_of) != 0)
    return PGA_ENOMEM;
  size_t j = h & (t->cap - 1);
  while (t->slot[j] && t->slot[j] != TOMB) j = (j + 1) & (t->cap - 1);
  if (!t->slot[j]) t->used++;
  t->slot[j] = p;
  t->live++;
  return 0;
}

/* The slot holding p, or NULL. */
static void **table_slot_of(const table_t *t, const void *p, uint32_t h) {
  if (!t->cap) return NULL;
  for (size_t j = h & (t->cap - 1);; j = (j + 1) & (t->cap - 1)) {
    if (!t->slot[j]) return NULL;
    if (t->slot[j] == p) return &t->slot[j];
  }
}

static void table_remove(table_t *t, const void *p, uint32_t h) {
  void **s = table_slot_of(t, p, h);
  if (!s) return;
  *s = TOMB;
  t->live--;
}

static uint32_t entry_hash_of(const void *p) {
  return ((const entry_t *)p)->hash;
}

static uint32_t group_hash_of(const void *p) {
  return ((const group_t *)p)->hash;
}

static entry_t *entry_find_key(const pga_store_t *s, const skey_t *k) {
  const table_t *t = &s->entries;
  uint32_t h = key_hash(k);
  if (!t->cap) return NULL;
  for (size_t j = h & (t->cap - 1);; j = (j + 1) & (t->cap - 1)) {
    entry_t *e = t->slot[j];
    if (!e) return NULL;
    if (e != TOMB && e->hash == h && entry_is(e, k)) return e;
  }
}

static group_t *group_find(const pga_store_t *s, const pga_term_t *svc,
                           const pga_term_t *rt) {
  const table_t *t = &s->groups;
  uint32_t h = group_key_hash(svc, rt);
  if (!t->cap) return NULL;
  for (size_t j = h & (t->cap - 1);; j = (j + 1) & (t->cap - 1)) {
    group_t *g = t->slot[j];
    if (!g) return NULL;
    if (g != TOMB && g->hash == h && group_is(g, svc, rt)) return g;
  }
}

/* ---- lifetime ---- */

pga_store_t *pga_store_new(void) { return calloc(1, sizeof(pga_store_t)); }

static void free_all(pga_store_t *s) {
  for (size_t i = 0; i < s->entries.cap; i++) {
    entry_t *e = s->entries.slot[i];
    if (!e || e == (void *)TOMB) continue;
    pga_funconfig_free(e->fc);
    free(e);
  }
  for (size_t i = 0; i < s->groups.cap; i++) {
    group_t *g = s->groups.slot[i];
    if (!g || g == (void *)TOMB) continue;
    if (g->v != &g->one) free(g->v);
    free(g);
  }
  table_free(&s->entries);
  table_free(&s->groups);
}

void pga_store_free(pga_store_t *s) {
  if (!s) return;
  free_all(s);
  free(s);
}

void pga_store_clear(pga_store_t *s) { free_all(s); }

size_t pga_store_count(const pga_store_t *s) { return s->entries.live; }

void pga_store_foreach(const pga_store_t *s,
                       void (*cb)(void *ud, const pga_funconfig_t *fc),
                       void *ud) {
  for (size_t i = 0; i < s->entries.cap; i++) {
    entry_t *e = s->entries.slot[i];
    if (e && e != (void *)TOMB) cb(ud, e->fc);
  }
}

/* ---- groups ---- */

static group_t *group_get_or_add(pga_store_t *s, const skey_t *k) {
  group_t *g = group_find(s, &k->svc, &k->rt);
  if (g) return g;
  g = calloc(1, sizeof *g);
  if (!g) return NULL;
  g->v = &g->one;
  g->cap = 1;
  g->hash = group_key_hash(&k->svc, &k->rt);
  return g; /* added to the table once it holds an entry */
}

static int group_push(pga_store_t *s, group_t *g, entry_t *e) {
  if (g->n == g->cap) {
    uint32_t cap = g->cap * 2;
    entry_t **v = malloc(cap * sizeof *v);
    if (!v) return PGA_ENOMEM;
    memcpy(v, g->v, g->n * sizeof *v);
    if (g->v != &g->one) free(g->v);
    g->v = v;
    g->cap = cap;
  }
  if (g->n == 0 && table_add(&s->groups, g, g->hash, group_hash_of) != 0)
    return PGA_ENOMEM;
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
  if (g->n > 0) return;
  table_remove(&s->groups, g, g->hash);
  if (g->v != &g->one) free(g->v);
  free(g);
}

static entry_t *entry_find(const pga_store_t *s, const pga_term_t *svc,
                           const pga_term_t *rt, const pga_term_t *ver) {
  skey_t k = {*svc, *rt, *ver};
  return entry_find_key(s, &k);
}

int pga_store_put(pga_store_t *s, pga_funconfig_t *fc) {
  entry_t probe = {fc, NULL, 0, 0};
  skey_t k;
  entry_key(&probe, &k);
  entry_t *old = entry_find_key(s, &k);
  if (old) {
    /* Same key: only the FunConfig changes (invariant 2). */
    pga_funconfig_free(old->fc);
    old->fc = fc;
    old->group->dirty = 1;
    return 0;
  }
  entry_t *e = malloc(sizeof *e);
  group_t *g = e ? group_get_or_add(s, &k) : NULL;
  if (!g) {
    free(e);
    pga_funconfig_free(fc);
    return PGA_ENOMEM;
  }
  *e = probe;
  e->hash = key_hash(&k);
  if (group_push(s, g, e) != 0) {
    if (g->n == 0) free(g);
    pga_funconfig_free(fc);
    free(e);
    return PGA_ENOMEM;
  }
  if (table_add(&s->entries, e, e->hash, entry_hash_of) != 0) {
    group_remove(s, e);
    pga_funconfig_free(fc);
    free(e);
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
  table_remove(&s->entries, e, e->hash);
  group_remove(s, e);
  pga_funconfig_free(e->fc);
  free(e);
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
  return 0;
}

/* The raw version bytes of a versioned entry. */
static void ver_bytes(const entry_t *e, const char **p, size_t *n) {
  skey_t k;
  entry_key(e, &k);
  if (pga_term_get_binary(&k.ver, p, n) != 0) {
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
    if (!pga_funconfig_compiled(e->fc)->versioned) {
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

/* Keyed by views of the groups' services (keys[], not owned by the
 * dict): the index lives only for one listing. */
static const pga_dict_type_t by_service_type = {
    pga__term_key_hash, pga__term_key_equal, NULL, svc_groups_free};

typedef struct index_s {
  pga_dict_t *by;
  pga__cterm_t *keys;
} index_t;

static void index_free(index_t *ix) {
  if (ix->by) pga_dict_free(ix->by);
  free(ix->keys);
}

static pga_term_t group_svc(const group_t *g) {
  return pga_funconfig_get(g->v[0]->fc, PGA_FC_SERVICE);
}

static int add_to_service(index_t *ix, group_t *g, size_t i) {
  pga_term_t svc = group_svc(g);
  ix->keys[i].buf = (char *)svc.buf;
  ix->keys[i].len = svc.len;
  svc_groups_t *sg = pga_dict_get(ix->by, &ix->keys[i]);
  if (!sg) {
    sg = calloc(1, sizeof *sg);
    if (!sg || pga_dict_add(ix->by, &ix->keys[i], sg) != 0) {
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
static int services_index(const pga_store_t *s, const pga_term_t *only,
                          index_t *ix) {
  size_t k = 0;
  ix->by = pga_dict_new(&by_service_type);
  ix->keys = calloc(s->groups.live ? s->groups.live : 1, sizeof *ix->keys);
  if (!ix->by || !ix->keys) {
    index_free(ix);
    return PGA_ENOMEM;
  }
  for (size_t i = 0; i < s->groups.cap; i++) {
    group_t *g = s->groups.slot[i];
    if (!g || g == (void *)TOMB) continue;
    pga_term_t svc = group_svc(g);
    if (only && !pga__list_has(only, &svc)) continue;
    if (add_to_service(ix, g, k++) != 0) {
      index_free(ix);
      return PGA_ENOMEM;
    }
  }
  return 0;
}

static void encode_group(pga_tb_t *tb, const group_t *g) {
  pga_term_t rt = pga_funconfig_get(g->v[0]->fc, PGA_FC_REQUEST_TYPE);
  pga_tb_term(tb, &rt);
  pga_tb_list_head(tb, g->n);
  for (size_t i = 0; i < g->n; i++) {
    skey_t k;
    entry_key(g->v[i], &k);
    pga_tb_term(tb, &k.ver);
  }
  pga_tb_nil(tb);
}

int pga_store_encode_functions(const pga_store_t *s, pga_tb_t *tb,
                               const pga_term_t *only) {
  index_t ix;
  pga_dict_iter_t it;
  void *k, *v;
  if (services_index(s, only, &ix) != 0) return PGA_ENOMEM;
  pga_tb_map(tb, pga_dict_size(ix.by));
  pga_dict_iter_init(ix.by, &it);
  while (pga_dict_next(&it, &k, &v)) {
    svc_groups_t *sg = v;
    pga_term_t svc = pga__cterm_view(k);
    pga_tb_term(tb, &svc);
    pga_tb_map(tb, sg->n);
    for (size_t i = 0; i < sg->n; i++) encode_group(tb, sg->v[i]);
  }
  index_free(&ix);
  return 0;
}

int pga_store_encode_services(const pga_store_t *s, pga_tb_t *tb) {
  index_t ix;
  pga_dict_iter_t it;
  void *k, *v;
  if (services_index(s, NULL, &ix) != 0) return PGA_ENOMEM;
  pga_tb_list_head(tb, pga_dict_size(ix.by));
  pga_dict_iter_init(ix.by, &it);
  while (pga_dict_next(&it, &k, &v)) {
    pga_term_t svc = pga__cterm_view(k);
    pga_tb_term(tb, &svc);
  }
  pga_tb_nil(tb);
  index_free(&ix);
  return 0;
}
