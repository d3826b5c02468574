/* The handler table (ops-plane.md §6.2): handlers keyed by their id
 * bytes, each on the chain of its one event; an id already taken is
 * refused (the caller ignores that, as :telemetry users do). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pga/errno.h"
#include "telemetry/telemetry_int.h"

static uint64_t id_hash(const void *key) {
  const pga_th_t *h = key;
  return pga_hash_bytes(h->id, h->id_len);
}

static int id_equal(const void *a, const void *b) {
  const pga_th_t *x = a, *y = b;
  return x->id_len == y->id_len && !memcmp(x->id, y->id, x->id_len);
}

/* Keys are the handlers themselves; handlers die by reference count. */
static const pga_dict_type_t id_type = {id_hash, id_equal, NULL, NULL};

pga_telemetry_t *pga__tel_new(pga_node_t *node) {
  pga_telemetry_t *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->by_id = pga_dict_new(&id_type);
  if (!t->by_id || pthread_mutex_init(&t->mu, NULL) != 0) {
    if (t->by_id) pga_dict_free(t->by_id);
    free(t);
    return NULL;
  }
  t->node = node;
  for (int i = 0; i < PGA_EV_COUNT; i++) atomic_init(&t->wanted[i], 0);
  return t;
}

static void th_free(pga_th_t *h) {
  pga__tb_destroy(&h->terms);
  free(h->id);
  free(h->home);
  free(h);
}

void pga__th_unref_locked(pga_th_t *h) {
  if (--h->refs == 0) th_free(h);
}

pga_term_t pga__th_event(const pga_th_t *h) {
  pga_term_t all = pga_tb_data(&h->terms);
  return (pga_term_t){all.buf, h->ev_len};
}

pga_term_t pga__th_target(const pga_th_t *h) {
  pga_term_t all = pga_tb_data(&h->terms);
  return (pga_term_t){all.buf + h->ev_len, h->target_len};
}

pga_term_t pga__th_config(const pga_th_t *h) {
  pga_term_t all = pga_tb_data(&h->terms);
  return (pga_term_t){all.buf + h->ev_len + h->target_len, h->config_len};
}

pga_term_t pga__th_gl(const pga_th_t *h) {
  pga_term_t all = pga_tb_data(&h->terms);
  size_t off = h->ev_len + h->target_len + h->config_len;
  return (pga_term_t){h->gl_len ? all.buf + off : NULL, h->gl_len};
}

/* Appends t to the handler's terms and returns its encoded size. */
static size_t keep_term(pga_th_t *h, const pga_term_t *t) {
  size_t before = (size_t)h->terms.x.index;
  if (t->buf && t->len) pga_tb_term(&h->terms, t);
  return (size_t)h->terms.x.index - before;
}

static pga_th_t *th_new(const char *id, size_t id_len, int ev,
                        const pga_term_t *event, const pga_th_spec_t *s) {
  pga_th_t *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  pga__tb_init(&h->terms, 0);
  h->id = malloc(id_len ? id_len : 1);
  h->home = strdup(s->home ? s->home : "");
  if (!h->id || !h->home) {
    th_free(h);
    return NULL;
  }
  memcpy(h->id, id, id_len);
  h->id_len = id_len;
  h->event = ev;
  h->kind = s->kind;
  h->ev_len = keep_term(h, event);
  h->target_len = keep_term(h, &s->target);
  h->config_len = keep_term(h, &s->config);
  h->gl_len = keep_term(h, &s->gl);
  if (pga_tb_error(&h->terms)) {
    th_free(h);
    return NULL;
  }
  h->attached = 1;
  h->refs = 1;
  return h;
}

static pga_th_t **chain_of(pga_telemetry_t *t, int ev) {
  return &t->chains[ev >= 0 ? ev : PGA_TEL_CHAIN_CUSTOM];
}

static void chain_append(pga_telemetry_t *t, pga_th_t *h) {
  pga_th_t **pp = chain_of(t, h->event);
  while (*pp) pp = &(*pp)->next;
  *pp = h;
  if (h->event >= 0) atomic_fetch_add(&t->wanted[h->event], 1);
}

static void chain_remove(pga_telemetry_t *t, pga_th_t *h) {
  pga_th_t **pp = chain_of(t, h->event);
  while (*pp && *pp != h) pp = &(*pp)->next;
  if (*pp) *pp = h->next;
  h->next = NULL;
  if (h->event >= 0) atomic_fetch_sub(&t->wanted[h->event], 1);
}

int pga__tel_attach(pga_telemetry_t *t, const char *id, size_t id_len,
                    const pga_term_t *event, const pga_th_spec_t *spec,
                    pga_th_t **out) {
  if (!pga__tel_event_valid(event)) return PGA_EINVAL;
  pga_th_t key = {.id = (char *)id, .id_len = id_len};
  int ev = pga__tel_event_index(event), rc = 0;
  pga_th_t *h = NULL;
  pthread_mutex_lock(&t->mu);
  if (pga_dict_get(t->by_id, &key))
    rc = PGA_EEXIST;
  else if (pga_dict_size(t->by_id) >= PGA_TEL_MAX_HANDLERS)
    rc = PGA_ETOOBIG;
  else if (!(h = th_new(id, id_len, ev, event, spec)))
    rc = PGA_ENOMEM;
  else if ((rc = pga_dict_add(t->by_id, h, h)) != 0)
    th_free(h);
  else
    chain_append(t, h);
  pthread_mutex_unlock(&t->mu);
  if (rc == 0 && out) *out = h;
  return rc;
}

/* Lock held: takes h out of the table; its table reference stays. */
static void unlink_locked(pga_telemetry_t *t, pga_th_t *h) {
  pga_dict_take(t->by_id, h, NULL);
  chain_remove(t, h);
  h->attached = 0;
}

pga_th_t *pga__tel_detach(pga_telemetry_t *t, const char *id, size_t len) {
  pga_th_t key = {.id = (char *)id, .id_len = len};
  pthread_mutex_lock(&t->mu);
  pga_th_t *h = pga_dict_get(t->by_id, &key);
  if (h) unlink_locked(t, h);
  pthread_mutex_unlock(&t->mu);
  return h;
}

size_t pga__tel_detach_if(pga_telemetry_t *t,
                          int (*pred)(void *ud, const pga_th_t *h), void *ud) {
  size_t n = 0;
  pthread_mutex_lock(&t->mu);
  for (int c = 0; c <= PGA_TEL_CHAIN_CUSTOM; c++) {
    pga_th_t *h = t->chains[c];
    while (h) {
      pga_th_t *next = h->next;
      if (pred(ud, h)) {
        unlink_locked(t, h);
        pga__th_unref_locked(h);
        n++;
      }
      h = next;
    }
  }
  pthread_mutex_unlock(&t->mu);
  return n;
}

void pga__tel_release(pga_telemetry_t *t, pga_th_t *h) {
  pthread_mutex_lock(&t->mu);
  pga__th_unref_locked(h);
  pthread_mutex_unlock(&t->mu);
}

size_t pga__tel_count(pga_telemetry_t *t) {
  pthread_mutex_lock(&t->mu);
  size_t n = pga_dict_size(t->by_id);
  pthread_mutex_unlock(&t->mu);
  return n;
}

int pga__tel_has(pga_telemetry_t *t, const char *id, size_t len) {
  pga_th_t key = {.id = (char *)id, .id_len = len};
  pthread_mutex_lock(&t->mu);
  int has = pga_dict_get(t->by_id, &key) != NULL;
  pthread_mutex_unlock(&t->mu);
  return has;
}

int pga_telemetry_wants(const pga_telemetry_t *t, pga_event_t ev) {
  if (!t || (unsigned)ev >= PGA_EV_COUNT) return 0;
  return atomic_load(&((pga_telemetry_t *)t)->wanted[ev]) > 0;
}

void pga__tel_free(pga_telemetry_t *t) {
  if (!t) return;
  (void)pga__tel_drain(t, SIZE_MAX, NULL, NULL);
  for (int c = 0; c <= PGA_TEL_CHAIN_CUSTOM; c++) {
    while (t->chains[c]) {
      pga_th_t *h = t->chains[c];
      t->chains[c] = h->next;
      th_free(h);
    }
  }
  pga_dict_free(t->by_id);
  pthread_mutex_destroy(&t->mu);
  free(t);
}
