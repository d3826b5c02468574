/* ConfigFailed (spec §6): the log of rejected FunConfigs, with a 24 h
 * expiry and a size cap (hostile input: the oldest entry goes first).
 *
 * Entries sit in a ring in insertion order; listings collect the unexpired
 * ones and sort them by insertion time (then id), so a wall clock that
 * steps back cannot reorder what callers see. Not thread-safe: the plane's
 * lock covers every call. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/plane_int.h"
#include "pga/errno.h"

#define TTL_MS 86400000LL

typedef struct fentry_s {
  uint64_t id;
  pga__cterm_t service, request_type, version, node, reason, config;
  int push;
  int64_t inserted_at, expires_at;
} fentry_t;

struct pga_failed_s {
  fentry_t **ring;
  size_t cap, head, n;
  uint64_t next_id;
  int64_t (*now)(void *);
  void *now_ud;
};

static int64_t wall_ms(void *ud) {
  struct timespec ts;
  (void)ud;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

pga_failed_t *pga_failed_new(size_t cap) {
  pga_failed_t *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  f->cap = cap ? cap : PGA_FAILED_DEFAULT_CAP;
  f->ring = calloc(f->cap, sizeof *f->ring);
  if (!f->ring) {
    free(f);
    return NULL;
  }
  f->next_id = 1;
  f->now = wall_ms;
  return f;
}

static void fentry_free(fentry_t *e) {
  pga__cterm_clear(&e->service);
  pga__cterm_clear(&e->request_type);
  pga__cterm_clear(&e->version);
  pga__cterm_clear(&e->node);
  pga__cterm_clear(&e->reason);
  pga__cterm_clear(&e->config);
  free(e);
}

void pga_failed_clear(pga_failed_t *f) {
  for (size_t i = 0; i < f->n; i++)
    fentry_free(f->ring[(f->head + i) % f->cap]);
  f->head = f->n = 0;
}

void pga_failed_free(pga_failed_t *f) {
  if (!f) return;
  pga_failed_clear(f);
  free(f->ring);
  free(f);
}

void pga_failed_set_clock(pga_failed_t *f, int64_t (*now)(void *), void *ud) {
  f->now = now ? now : wall_ms;
  f->now_ud = ud;
}

/* cfg[:name] || cfg["name"] (falsy atom-key values fall through). */
static pga_term_t lookup(const pga_term_t *cfg, const char *name) {
  pga_term_t v;
  if (pga_term_map_get_atom(cfg, name, &v) == 0 && pga__is_truthy(&v))
    return v;
  if (pga_term_map_get_binary(cfg, name, &v) == 0) return v;
  return pga__t_nil;
}

static void encode_entry(pga_tb_t *tb, const fentry_t *e) {
  pga_term_t t;
  pga_tb_map(tb, 10);
  pga_tb_atom(tb, "id");
  pga_tb_uint(tb, e->id);
#define PUT(key, field) \
  pga_tb_atom(tb, key); \
  t = pga__cterm_view(&e->field); \
  pga_tb_term(tb, &t)
  PUT("service", service);
  PUT("request_type", request_type);
  PUT("version", version);
  pga_tb_atom(tb, "source");
  pga_tb_atom(tb, e->push ? "push" : "pull");
  PUT("node", node);
  PUT("reason", reason);
  PUT("config", config);
#undef PUT
  pga_tb_atom(tb, "inserted_at_ms");
  pga_tb_int(tb, e->inserted_at);
  pga_tb_atom(tb, "expires_at_ms");
  pga_tb_int(tb, e->expires_at);
}

/* Appends e, evicting the oldest entry when the log is full. */
static void ring_push(pga_failed_t *f, fentry_t *e) {
  if (f->n == f->cap) {
    fentry_free(f->ring[f->head]);
    f->head = (f->head + 1) % f->cap;
    f->n--;
  }
  f->ring[(f->head + f->n) % f->cap] = e;
  f->n++;
}

int pga_failed_record(pga_failed_t *f, const pga_term_t *config,
                      const pga_term_t *reason, int push,
                      const pga_term_t *node, pga_tb_t *out) {
  fentry_t *e = calloc(1, sizeof *e);
  if (!e) return PGA_ENOMEM;
  pga_term_t svc = lookup(config, "service");
  pga_term_t rt = lookup(config, "request_type");
  pga_term_t ver = lookup(config, "version");
  if (pga__cterm_set(&e->service, &svc) || pga__cterm_set(&e->request_type, &rt) ||
      pga__cterm_set(&e->version, &ver) || pga__cterm_set(&e->node, node) ||
      pga__cterm_set(&e->reason, reason) ||
      pga__cterm_set(&e->config, config)) {
    fentry_free(e);
    return PGA_ENOMEM;
  }
  e->id = f->next_id++;
  e->push = push;
  e->inserted_at = f->now(f->now_ud);
  e->expires_at = e->inserted_at + TTL_MS;
  ring_push(f, e);
  if (out) encode_entry(out, e);
  return 0;
}

int pga_failed_record_fc(pga_failed_t *f, const pga_funconfig_t *fc,
                         const pga_term_t *reason, int push,
                         const pga_term_t *node) {
  pga_tb_t *tb = pga_tb_new(0);
  if (!tb) return PGA_ENOMEM;
  pga_funconfig_encode_map(tb, fc);
  pga_term_t cfg = pga_tb_data(tb);
  int rc = pga_tb_error(tb);
  if (rc == 0) rc = pga_failed_record(f, &cfg, reason, push, node, NULL);
  pga_tb_free(tb);
  return rc;
}

int pga_failed_record_msgs(pga_failed_t *f, const pga_funconfig_t *fc,
                           const char *const *msgs, unsigned mask, unsigned n,
                           int push, const pga_term_t *node) {
  pga_tb_t *tb = pga_tb_new(0);
  if (!tb) return PGA_ENOMEM;
  pga_messages_encode(tb, msgs, mask, n);
  pga_term_t reason = pga_tb_data(tb);
  int rc = pga_tb_error(tb);
  if (rc == 0) rc = pga_failed_record_fc(f, fc, &reason, push, node);
  pga_tb_free(tb);
  return rc;
}

int pga_failed_record_text(pga_failed_t *f, const pga_funconfig_t *fc,
                           const char *text, int push,
                           const pga_term_t *node) {
  const char *one[1] = {text};
  return pga_failed_record_msgs(f, fc, one, 1u, 1, push, node);
}

/* ---- queries ---- */

static int by_time(const void *a, const void *b) {
  const fentry_t *x = *(fentry_t *const *)a, *y = *(fentry_t *const *)b;
  if (x->inserted_at != y->inserted_at)
    return x->inserted_at < y->inserted_at ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* Unexpired entries passing the filter, oldest first. The caller frees
 * the array. NULL with *n = 0 when nothing matches or on ENOMEM. */
static fentry_t **collect(const pga_failed_t *f, const pga_failed_filter_t *q,
                          size_t *n) {
  int64_t now = f->now(f->now_ud);
  fentry_t **v = f->n ? malloc(f->n * sizeof *v) : NULL;
  *n = 0;
  if (!v) return NULL;
  for (size_t i = 0; i < f->n; i++) {
    fentry_t *e = f->ring[(f->head + i) % f->cap];
    pga_term_t svc = pga__cterm_view(&e->service);
    if (e->expires_at <= now) continue;
    if (q && q->source >= 0 && e->push != q->source) continue;
    if (q && q->service && !pga_term_equal(&svc, q->service)) continue;
    v[(*n)++] = e;
  }
  qsort(v, *n, sizeof *v, by_time);
  return v;
}

static void encode_list(pga_tb_t *tb, fentry_t **v, size_t n, int newest_first,
                        size_t limit) {
  size_t k = n < limit ? n : limit;
  pga_tb_list_head(tb, k);
  for (size_t i = 0; i < k; i++)
    encode_entry(tb, v[newest_first ? n - 1 - i : i]);
  pga_tb_nil(tb);
}

int pga_failed_list(const pga_failed_t *f, const pga_failed_filter_t *q,
                    pga_tb_t *tb) {
  size_t n;
  fentry_t **v = collect(f, q, &n);
  if (!v && f->n) return PGA_ENOMEM;
  encode_list(tb, v, n, q ? q->newest_first : 1,
              q ? q->limit : PGA_FAILED_LIST_LIMIT);
  free(v);
  return 0;
}

size_t pga_failed_count(const pga_failed_t *f) {
  int64_t now = f->now(f->now_ud);
  size_t k = 0;
  for (size_t i = 0; i < f->n; i++)
    if (f->ring[(f->head + i) % f->cap]->expires_at > now) k++;
  return k;
}

size_t pga_failed_cleanup(pga_failed_t *f) {
  int64_t now = f->now(f->now_ud);
  size_t kept = 0, removed = 0;
  for (size_t i = 0; i < f->n; i++) {
    fentry_t *e = f->ring[(f->head + i) % f->cap];
    if (e->expires_at <= now) {
      fentry_free(e);
      removed++;
    } else {
      f->ring[(f->head + kept++) % f->cap] = e;
    }
  }
  f->n = kept;
  return removed;
}

/* %{service => [entries newest first]}; w is oldest first. Services are
 * grouped through a term-keyed dict: O(k). */
typedef struct bucket_s {
  size_t *idx;
  size_t n, cap;
} bucket_t;

static void bucket_free(void *p) {
  bucket_t *b = p;
  free(b->idx);
  free(b);
}

static const pga_dict_type_t bucket_type = {
    pga__term_key_hash, pga__term_key_equal, NULL, bucket_free};

static int encode_by_service(pga_tb_t *tb, fentry_t **w, size_t k) {
  pga_dict_t *by = pga_dict_new(&bucket_type);
  int rc = by ? 0 : PGA_ENOMEM;
  for (size_t i = k; rc == 0 && i-- > 0;) {
    bucket_t *b = pga_dict_get(by, &w[i]->service);
    if (!b && (b = calloc(1, sizeof *b)) != NULL &&
        pga_dict_add(by, &w[i]->service, b) != 0) {
      free(b);
      b = NULL;
    }
    if (b && b->n == b->cap) {
      size_t cap = b->cap ? b->cap * 2 : 4;
      size_t *idx = realloc(b->idx, cap * sizeof *idx);
      if (idx) {
        b->idx = idx;
        b->cap = cap;
      }
    }
    if (!b || b->n == b->cap) rc = PGA_ENOMEM;
    else b->idx[b->n++] = i;
  }
  if (rc != 0) {
    if (by) pga_dict_free(by);
    pga_tb_map(tb, 0);
    return rc;
  }
  pga_dict_iter_t it;
  void *key, *val;
  pga_tb_map(tb, pga_dict_size(by));
  pga_dict_iter_init(by, &it);
  while (pga_dict_next(&it, &key, &val)) {
    bucket_t *b = val;
    pga_term_t svc = pga__cterm_view(key);
    pga_tb_term(tb, &svc);
    pga_tb_list_head(tb, b->n);
    for (size_t j = 0; j < b->n; j++) encode_entry(tb, w[b->idx[j]]);
    pga_tb_nil(tb);
  }
  pga_dict_free(by);
  return 0;
}

/* %{total, pull, push, by_service, oldest, newest} over the newest 10000
 * (the library's list(limit: 10000) window). */
int pga_failed_summary(const pga_failed_t *f, pga_tb_t *tb) {
  size_t n, pull = 0;
  fentry_t **v = collect(f, NULL, &n);
  if (!v && f->n) return PGA_ENOMEM;
  size_t first = n > PGA_FAILED_SUMMARY_WINDOW ? n - PGA_FAILED_SUMMARY_WINDOW
                                               : 0;
  fentry_t **w = v ? v + first : NULL;
  size_t k = n - first;
  for (size_t i = 0; i < k; i++) pull += !w[i]->push;
  pga_tb_map(tb, 6);
  pga_tb_atom(tb, "total");
  pga_tb_uint(tb, k);
  pga_tb_atom(tb, "pull");
  pga_tb_uint(tb, pull);
  pga_tb_atom(tb, "push");
  pga_tb_uint(tb, k - pull);
  pga_tb_atom(tb, "by_service");
  int rc = encode_by_service(tb, w, k);
  pga_tb_atom(tb, "oldest");
  if (k) encode_entry(tb, w[0]); else pga_tb_atom(tb, "nil");
  pga_tb_atom(tb, "newest");
  if (k) encode_entry(tb, w[k - 1]); else pga_tb_atom(tb, "nil");
  free(v);
  return rc;
}
