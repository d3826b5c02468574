/* Node selection (request-plane.md §8.1, §8.2): the library's ordered
 * node list for :random, :hash, {:hash, key}, :round_robin and
 * {:sticky, key}, then the nodes the connectivity callback reports down
 * left out (docs/compat.md R1).
 *
 * State: one round-robin counter for the whole gateway (atomic), and the
 * sticky table (value -> {node, stored_ms}, bounded, behind a mutex).
 * The ordering is always computed over the full list of atoms and
 * binaries, so hash and round-robin picks are the library's even when a
 * node is down. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/dict.h"
#include "request/request_int.h"

#define DEFAULT_STICKY_CAP 100000
#define DEFAULT_STICKY_TTL_MS 3600000

struct pga_request_selector_s {
  pga_selector_opts_t opts;
  uint64_t rr;      /* round-robin counter (atomic) */
  uint64_t draws;   /* default random source: counter under SipHash */
  pthread_mutex_t lock;
  pga_dict_t *sticky;
};

/* A sticky entry: the node term's encoding and when it was stored. */
typedef struct sticky_s {
  int64_t stored_ms;
  size_t len;
  char node[];
} sticky_t;

static const pga_dict_type_t sticky_type = {
    pga__rq_keybuf_hash, pga__rq_keybuf_equal, free, free};

/* ---- Life cycle ---- */

int pga_request_selector_new(const pga_selector_opts_t *opts,
                             pga_request_selector_t **out) {
  pga_request_selector_t *sel;

  if (out == NULL ||
      (opts != NULL && opts->struct_version != PGA_SELECTOR_OPTS_VERSION))
    return PGA_EINVAL;
  if ((sel = calloc(1, sizeof *sel)) == NULL)
    return PGA_ENOMEM;
  if (opts != NULL)
    sel->opts = *opts;
  if (sel->opts.sticky_cap == 0)
    sel->opts.sticky_cap = DEFAULT_STICKY_CAP;
  if (sel->opts.sticky_ttl_ms <= 0)
    sel->opts.sticky_ttl_ms = DEFAULT_STICKY_TTL_MS;
  if ((sel->sticky = pga_dict_new(&sticky_type)) == NULL ||
      pthread_mutex_init(&sel->lock, NULL) != 0) {
    pga_dict_free(sel->sticky);
    free(sel);
    return PGA_ENOMEM;
  }
  *out = sel;
  return 0;
}

void pga_request_selector_free(pga_request_selector_t *sel) {
  if (sel == NULL)
    return;
  pga_dict_free(sel->sticky);
  pthread_mutex_destroy(&sel->lock);
  free(sel);
}

void pga_request_selector_reset_round_robin(pga_request_selector_t *sel) {
  __atomic_store_n(&sel->rr, 0, __ATOMIC_SEQ_CST);
}

/* ---- Randomness ---- */

static uint64_t draw(pga_request_selector_t *sel) {
  if (sel->opts.random != NULL)
    return sel->opts.random(sel->opts.random_ud);
  return pga_hash_u64(__atomic_add_fetch(&sel->draws, 1, __ATOMIC_RELAXED));
}

/* Uniform in [0, n) (n >= 1): rejection sampling, bounded so that a
 * degenerate source cannot spin. */
static size_t uniform(pga_request_selector_t *sel, size_t n) {
  uint64_t limit = UINT64_MAX - UINT64_MAX % n, r = draw(sel);

  for (int i = 0; i < 64 && r >= limit; i++)
    r = draw(sel);
  return (size_t)(r % n);
}

/* ---- Node lists ---- */

pga_nodes_kind_t pga_request_nodes_kind(const pga_term_t *nodes) {
  pga_term_type_t ty = pga__rq_type(nodes);

  if (ty == PGA_T_LIST || ty == PGA_T_NIL)
    return PGA_NODES_LIST;
  if (ty == PGA_T_ATOM && pga_term_is_atom(nodes, "local"))
    return PGA_NODES_LOCAL;
  if (pga__rq_tuple(nodes, 3, NULL))
    return PGA_NODES_RESOLVER;
  return PGA_NODES_INVALID;
}

void pga_request_nodes_invalid_reason(pga_tb_t *tb, const pga_term_t *nodes) {
  pga_term_t el[3];

  pga_tb_tuple(tb, 2);
  if (pga__rq_tuple(nodes, 3, el)) {
    /* resolve_dynamic_nodes/3 wants atoms and a list. */
    pga_tb_atom(tb, "dynamic_node_resolution_failed");
    pga_tb_atom(tb, "invalid_mfa_format");
  } else {
    pga_tb_atom(tb, "invalid_nodes_configuration");
    pga_tb_term(tb, nodes);
  }
}

int pga_request_nodes_resolved(const pga_term_t *result, pga_tb_t *reason) {
  pga_term_type_t ty = pga__rq_type(result);

  if (ty == PGA_T_LIST || ty == PGA_T_NIL)
    return 0;
  if (reason != NULL) {
    pga_tb_tuple(reason, 2);
    pga_tb_atom(reason, "dynamic_node_resolution_failed");
    pga_tb_tuple(reason, 2);
    pga_tb_atom(reason, "invalid_return_type");
    pga_tb_term(reason, result);
  }
  return PGA_ETYPE;
}

/* The atoms and binaries of list, in order (Shared.validate_nodes). */
static int filter(const pga_term_t *list, pga_term_t *out, size_t cap,
                  size_t *n) {
  pga_term_iter_t it;
  pga_term_t el;
  size_t k = 0;

  if (pga_term_iter_init(&it, list) != 0)
    return PGA_EBADTERM;
  while (pga_term_iter_next(&it, &el)) {
    pga_term_type_t ty = pga__rq_type(&el);

    if (ty != PGA_T_ATOM && ty != PGA_T_BINARY)
      continue;
    if (k == cap)
      return PGA_ETOOBIG;
    out[k++] = el;
  }
  *n = k;
  return 0;
}

/* Leaves out the nodes reported down; order kept. */
static size_t skip_down(const pga_request_selector_t *sel, pga_term_t *v,
                        size_t n) {
  size_t k = 0;

  if (sel->opts.node_up == NULL)
    return n;
  for (size_t i = 0; i < n; i++)
    if (sel->opts.node_up(&v[i], sel->opts.node_up_ud))
      v[k++] = v[i];
  return k;
}

/* [v[p] | List.delete(v, v[p])]: List.delete drops the first equal node,
 * which for duplicate names may sit before p. */
static void primary_first(pga_term_t *v, size_t n, size_t p) {
  pga_term_t primary = v[p];
  size_t j = 0;

  while (j < n && !pga_term_equal(&v[j], &primary))
    j++;
  memmove(v + 1, v, j * sizeof *v);
  v[0] = primary;
}

static void reverse(pga_term_t *v, size_t n) {
  for (size_t i = 0; i < n / 2; i++) {
    pga_term_t t = v[i];

    v[i] = v[n - 1 - i];
    v[n - 1 - i] = t;
  }
}

/* list[i..] ++ list[..i-1]. */
static void rotate(pga_term_t *v, size_t n, size_t i) {
  reverse(v, i);
  reverse(v + i, n - i);
  reverse(v, n);
}

static void shuffle(pga_request_selector_t *sel, pga_term_t *v, size_t n) {
  for (size_t i = n; i > 1; i--) {
    size_t j = uniform(sel, i);
    pga_term_t t = v[i - 1];

    v[i - 1] = v[j];
    v[j] = t;
  }
}

/* get_round_robin_index/1: one shared counter; one node leaves it. */
static size_t rr_index(pga_request_selector_t *sel, size_t n) {
  uint64_t c;

  if (n <= 1)
    return 0;
  c = __atomic_add_fetch(&sel->rr, 1, __ATOMIC_SEQ_CST);
  return (size_t)((c - 1) % n);
}

/* ---- Sticky ---- */

static int stored_node_index(const sticky_t *e, const pga_term_t *v,
                             size_t n, size_t *idx) {
  pga_term_t node = {e->node, e->len};

  for (size_t i = 0; i < n; i++) {
    if (pga_term_equal(&v[i], &node)) {
      *idx = i;
      return 1;
    }
  }
  return 0;
}

/* The library evicts :ets.first/1 when full: any one entry. */
static void evict_one(pga_request_selector_t *sel) {
  pga_dict_iter_t it;
  void *key, *val;

  pga_dict_iter_init(sel->sticky, &it);
  if (pga_dict_next(&it, &key, &val))
    pga_dict_delete(sel->sticky, key);
}

/* select_and_store_sticky/2: a random node, stored under key. */
static int store_random(pga_request_selector_t *sel, const pga__rq_key_t *k,
                        const pga_term_t *v, size_t n, int64_t now_ms,
                        size_t *idx) {
  pga__rq_keybuf_t *kb;
  sticky_t *e;

  if (pga_dict_size(sel->sticky) >= sel->opts.sticky_cap)
    evict_one(sel);
  *idx = uniform(sel, n);
  kb = pga__rq_keybuf_new(k);
  e = malloc(sizeof *e + v[*idx].len);
  if (kb == NULL || e == NULL) {
    free(kb);
    free(e);
    return PGA_ENOMEM;
  }
  e->stored_ms = now_ms;
  e->len = v[*idx].len;
  memcpy(e->node, v[*idx].buf, e->len);
  pga_dict_delete(sel->sticky, kb);
  if (pga_dict_add(sel->sticky, kb, e) != 0) {
    free(kb);
    free(e);
    return PGA_ENOMEM;
  }
  return 0;
}

/* Sticky value (get_sticky_value/2): args[key], or when that is nil or
 * false the request field named key. PGA_ENOTFOUND when it is nil (then
 * the entry goes under the key name itself), PGA_ETYPE when the library
 * raises. */
static int sticky_value(const pga_request_t *req, const pga_term_t *key,
                        pga_term_t *value) {
  const unsigned char *name;
  pga_term_t args_val;
  size_t len, pos = 0;

  if (pga__rq_type(&req->args) != PGA_T_MAP)
    return PGA_ETYPE; /* Map.get/2 raises BadMapError */
  if (pga__rq_binary(key, &name, &len) != 0)
    return PGA_ETYPE; /* String.to_atom/1 of a non-binary */
  if (pga__rq_map_get(&req->args, key, &args_val) && !pga__rq_is_nil(&args_val) &&
      !pga_term_is_atom(&args_val, "false")) {
    *value = args_val;
    return 0;
  }
  /* An invalid UTF-8 name makes String.to_atom/1 raise ArgumentError,
   * which the library rescues as "no value". */
  while (pos < len)
    if (pga__utf8_next(name, len, &pos) < 0)
      return PGA_ENOTFOUND;
  *value = pga_request_field(req, (const char *)name, len);
  return pga__rq_is_nil(value) ? PGA_ENOTFOUND : 0;
}

static int sticky_index(pga_request_selector_t *sel, const pga_term_t *key,
                        const pga_request_t *req, const pga_term_t *v,
                        size_t n, int64_t now_ms, size_t *idx) {
  pga_term_t value;
  pga__rq_key_t k;
  pga__rq_keybuf_t *probe;
  sticky_t *e;
  int rc = sticky_value(req, key, &value);

  if (rc == PGA_ETYPE)
    return rc;
  pga__rq_key(rc == 0 ? &value : key, &k);
  pthread_mutex_lock(&sel->lock);
  if (rc == 0 && (probe = pga__rq_keybuf_new(&k)) != NULL) {
    e = pga_dict_get(sel->sticky, probe);
    free(probe);
    if (e != NULL && stored_node_index(e, v, n, idx) &&
        now_ms - e->stored_ms < sel->opts.sticky_ttl_ms) {
      pthread_mutex_unlock(&sel->lock);
      return 0;
    }
  }
  rc = store_random(sel, &k, v, n, now_ms, idx);
  pthread_mutex_unlock(&sel->lock);
  return rc;
}

size_t pga_request_selector_purge(pga_request_selector_t *sel,
                                  int64_t now_ms) {
  pga_dict_iter_t it;
  void *key, *val;
  size_t removed = 0;

  pthread_mutex_lock(&sel->lock);
  pga_dict_iter_init(sel->sticky, &it);
  while (pga_dict_next(&it, &key, &val)) {
    if (((sticky_t *)val)->stored_ms < now_ms - sel->opts.sticky_ttl_ms) {
      pga_dict_delete(sel->sticky, key);
      removed++;
    }
  }
  pthread_mutex_unlock(&sel->lock);
  return removed;
}

size_t pga_request_selector_sticky_size(pga_request_selector_t *sel) {
  size_t n;

  pthread_mutex_lock(&sel->lock);
  n = pga_dict_size(sel->sticky);
  pthread_mutex_unlock(&sel->lock);
  return n;
}

/* ---- Selection ---- */

static int hash_index(const pga_term_t *t, size_t n, size_t *idx) {
  uint32_t h;
  int rc = pga_request_phash2(t, n, &h);

  if (rc == 0)
    *idx = h;
  return rc;
}

/* {:hash, key}: args[key] hashed; nil or absent picks at random. */
static int hash_key_index(pga_request_selector_t *sel, const pga_term_t *key,
                          const pga_request_t *req, size_t n, size_t *idx) {
  pga_term_t v;

  if (pga__rq_type(&req->args) != PGA_T_MAP)
    return PGA_ETYPE;
  if (!pga__rq_map_get(&req->args, key, &v) || pga__rq_is_nil(&v)) {
    *idx = uniform(sel, n);
    return 0;
  }
  return hash_index(&v, n, idx);
}

/* Orders v[0..n) for mode; PGA_EINVAL for an unknown mode. */
static int order(pga_request_selector_t *sel, const pga_term_t *mode,
                 const pga_request_t *req, int64_t now_ms, pga_term_t *v,
                 size_t n) {
  pga_term_t el[2];
  size_t idx = 0;
  int rc;

  if (pga__rq_type(mode) == PGA_T_ATOM && pga_term_is_atom(mode, "random")) {
    primary_first(v, n, uniform(sel, n));
    shuffle(sel, v + 1, n - 1);
    return 0;
  }
  if (pga__rq_type(mode) == PGA_T_ATOM &&
      pga_term_is_atom(mode, "round_robin")) {
    rotate(v, n, rr_index(sel, n));
    return 0;
  }
  if (pga__rq_type(mode) == PGA_T_ATOM && pga_term_is_atom(mode, "hash"))
    rc = hash_index(&req->request_id, n, &idx);
  else if (pga__rq_tuple(mode, 2, el) && pga_term_is_atom(&el[0], "hash"))
    rc = hash_key_index(sel, &el[1], req, n, &idx);
  else if (pga__rq_tuple(mode, 2, el) && pga_term_is_atom(&el[0], "sticky"))
    rc = sticky_index(sel, &el[1], req, v, n, now_ms, &idx);
  else
    return PGA_EINVAL;
  if (rc == 0)
    primary_first(v, n, idx);
  return rc;
}

static void reason_atom(pga_tb_t *reason, const char *name) {
  if (reason != NULL)
    pga_tb_atom(reason, name);
}

int pga_request_select_nodes(pga_request_selector_t *sel,
                             const pga_term_t *list, const pga_term_t *mode,
                             const pga_request_t *req, int64_t now_ms,
                             pga_term_t *out, size_t cap, size_t *n,
                             pga_tb_t *reason) {
  size_t k;
  int rc;

  if (sel == NULL || list == NULL || mode == NULL || req == NULL ||
      out == NULL || n == NULL)
    return PGA_EINVAL;
  if ((rc = filter(list, out, cap, &k)) != 0)
    return rc;
  if (k == 0) {
    reason_atom(reason, "no_nodes_available");
    return PGA_ENOTFOUND;
  }
  if ((rc = order(sel, mode, req, now_ms, out, k)) != 0) {
    if (rc == PGA_EINVAL && reason != NULL) {
      pga_tb_tuple(reason, 2);
      pga_tb_atom(reason, "invalid_choose_node_mode");
      pga_tb_term(reason, mode);
    }
    return rc;
  }
  if ((k = skip_down(sel, out, k)) == 0)
    return PGA_ENODEDOWN;
  *n = k;
  return 0;
}

int pga_request_select_node(pga_request_selector_t *sel,
                            const pga_term_t *list, const pga_term_t *mode,
                            const pga_request_t *req, int64_t now_ms,
                            pga_term_t *node, pga_tb_t *reason) {
  pga_term_t *v;
  size_t len = 0, n;
  int rc;

  if (node == NULL || list == NULL)
    return PGA_EINVAL;
  if (pga_term_list_length(list, &len) != 0)
    len = 0;
  if ((v = malloc((len > 0 ? len : 1) * sizeof *v)) == NULL)
    return PGA_ENOMEM;
  rc = pga_request_select_nodes(sel, list, mode, req, now_ms, v,
                                len > 0 ? len : 1, &n, reason);
  if (rc == 0)
    *node = v[0];
  free(v);
  return rc;
}

int pga_request_select_all(pga_request_selector_t *sel,
                           const pga_term_t *list, pga_term_t *out,
                           size_t cap, size_t *n) {
  size_t k;
  int rc;

  if (sel == NULL || list == NULL || out == NULL || n == NULL)
    return PGA_EINVAL;
  if ((rc = filter(list, out, cap, &k)) != 0)
    return rc;
  *n = skip_down(sel, out, k);
  return 0;
}
