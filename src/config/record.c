/* Struct records: decode an Elixir struct (or a plain map) into one owned
 * term per field and encode it back with every key, for the three struct
 * shapes of the config plane (spec §1). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"
#include "config/plane_int.h"
#include "pga/errno.h"
#include "term/term.h"

pga__rec_t *pga__rec_new(const pga__schema_t *s) {
  pga__rec_t *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->schema = s;
  r->f = calloc(s->nfields, sizeof *r->f);
  if (!r->f) {
    free(r);
    return NULL;
  }
  return r;
}

void pga__rec_free(pga__rec_t *r) {
  if (!r) return;
  pga__fclist_free(r->fcl);
  for (size_t i = 0; i < r->schema->nfields; i++) pga__cterm_clear(&r->f[i]);
  free(r->f);
  free(r);
}

pga__rec_t *pga__rec_dup(const pga__rec_t *r) {
  pga__rec_t *d = pga__rec_new(r->schema);
  if (d && r->fcl) {
    if (!(d->fcl = pga__fclist_dup(r->fcl))) {
      pga__rec_free(d);
      return NULL;
    }
    d->fcl_field = r->fcl_field;
  }
  for (size_t i = 0; d && i < r->schema->nfields; i++) {
    pga_term_t v = pga__cterm_view(&r->f[i]);
    if (r->f[i].buf && pga__cterm_set(&d->f[i], &v) != 0) {
      pga__rec_free(d);
      d = NULL;
    }
  }
  return d;
}

/* Writes an fclist-held field back as bytes and drops the list. */
static void materialise(pga__rec_t *r) {
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga__fclist_encode(&tb, r->fcl);
  pga_term_t t = pga_tb_data(&tb);
  if (!pga_tb_error(&tb) && pga__cterm_set(&r->f[r->fcl_field], &t) == 0) {
    pga__fclist_free(r->fcl);
    r->fcl = NULL;
  }
  pga__tb_destroy(&tb);
}

pga_term_t pga__rec_get(const pga__rec_t *r, size_t i) {
  if (r->fcl && i == r->fcl_field) materialise((pga__rec_t *)r);
  if (r->f[i].buf) return pga__cterm_view(&r->f[i]);
  return r->schema->defaults[i];
}

int pga__rec_set(pga__rec_t *r, size_t i, const pga_term_t *v) {
  if (r->fcl && i == r->fcl_field) {
    pga__fclist_free(r->fcl);
    r->fcl = NULL;
  }
  return pga__cterm_set(&r->f[i], v);
}

int pga__rec_is_struct(const pga__schema_t *s, const pga_term_t *t) {
  pga_term_t mod;
  return pga_term_type(t) == PGA_T_MAP &&
         pga_term_map_get_atom(t, "__struct__", &mod) == 0 &&
         pga_term_is_atom(&mod, s->module);
}

/* The field index named by key (an atom or, if binary_keys, a binary), or
 * -1. *is_atom tells which. */
static int field_of(const pga__schema_t *s, const pga_term_t *key,
                    int binary_keys, int *is_atom) {
  pga__head_t h;
  if (pga__term_head(key->buf, key->len, &h) != 0) return -1;
  const unsigned char *txt;
  size_t len;
  if (h.type == PGA_T_ATOM) {
    txt = h.atom.s;
    len = h.atom.len;
    *is_atom = 1;
  } else if (binary_keys && h.type == PGA_T_BINARY) {
    txt = h.data;
    len = h.dlen;
    *is_atom = 0;
  } else {
    return -1;
  }
  /* Field names are ASCII, so latin-1 and UTF-8 atoms compare alike. */
  for (size_t i = 0; i < s->nfields; i++)
    if (strlen(s->names[i]) == len && memcmp(s->names[i], txt, len) == 0)
      return (int)i;
  return -1;
}

/* borrow (< nfields): that field is not copied; *borrowed views it in t
 * (its default when absent). */
static int decode(const pga__schema_t *s, const pga_term_t *t, int binary_keys,
                  pga__rec_t **out, size_t borrow, pga_term_t *borrowed) {
  pga__map_iter_t it;
  pga_term_t k, v;
  size_t pairs;
  if (pga__map_iter_init(&it, t) != 0) return PGA_ETYPE;
  if (pga_term_map_size(t, &pairs) != 0) return PGA_ETYPE;
  if (pairs > PGA__MAX_STRUCT_PAIRS) return PGA_ETOOBIG;
  pga__rec_t *r = pga__rec_new(s);
  if (!r) return PGA_ENOMEM;
  /* by_atom[i]: field i came from an atom key, which wins over a binary
   * key of the same name whatever the wire order (§1.7). */
  unsigned char by_atom[64] = {0};
  while (pga__map_iter_next(&it, &k, &v)) {
    int is_atom = 0;
    int i = field_of(s, &k, binary_keys, &is_atom);
    if (i < 0 || (!is_atom && by_atom[i])) continue;
    if ((size_t)i == borrow) {
      *borrowed = v;
    } else if (pga__rec_set(r, (size_t)i, &v) != 0) {
      pga__rec_free(r);
      return PGA_ENOMEM;
    }
    if (is_atom) by_atom[i] = 1;
  }
  *out = r;
  return 0;
}

int pga__rec_decode_struct(const pga__schema_t *s, const pga_term_t *t,
                           pga__rec_t **out) {
  if (!pga__rec_is_struct(s, t)) return PGA_ETYPE;
  return decode(s, t, 0, out, SIZE_MAX, NULL);
}

int pga__rec_decode_map(const pga__schema_t *s, const pga_term_t *t,
                        pga__rec_t **out) {
  return decode(s, t, 1, out, SIZE_MAX, NULL);
}

int pga__rec_decode_borrowing(const pga__schema_t *s, const pga_term_t *t,
                              size_t field, pga_term_t *view,
                              pga__rec_t **out) {
  *view = s->defaults[field];
  if (pga__rec_is_struct(s, t)) return decode(s, t, 0, out, field, view);
  return decode(s, t, 1, out, field, view);
}

void pga__rec_encode(pga_tb_t *tb, const pga__rec_t *r, int with_struct) {
  const pga__schema_t *s = r->schema;
  pga_tb_map(tb, s->nfields + (with_struct ? 1 : 0));
  if (with_struct) {
    pga_tb_atom(tb, "__struct__");
    pga_tb_atom(tb, s->module);
  }
  for (size_t i = 0; i < s->nfields; i++) {
    pga_tb_atom(tb, s->names[i]);
    if (r->fcl && i == r->fcl_field) {
      pga__fclist_encode(tb, r->fcl); /* the same bytes, not kept twice */
      continue;
    }
    pga_term_t v = pga__rec_get(r, i);
    pga_tb_term(tb, &v);
  }
}
