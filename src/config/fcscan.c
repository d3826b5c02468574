/* A push's fun_configs list decoded in one walk (spec §2.2 rules 4-6 and
 * §4.2 step 5 read the result): each element is decoded where the list
 * walk finds it, so its bytes are read once, not once per rule.
 *
 * LIST_EXT chains are walked here; any other list shape (STRING_EXT)
 * holds no maps and is only counted. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "config/plane_int.h"
#include "pga/errno.h"
#include "term/term.h"

#define TAG_LIST_EXT 108

static int keep(pga_fc_scan_t *s, pga_funconfig_t *fc, int shape) {
  if (s->nfcs == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    pga_funconfig_t **v = realloc(s->fcs, cap * sizeof *v);
    if (!v) return PGA_ENOMEM;
    s->fcs = v;
    unsigned char *sh = realloc(s->shapes, cap);
    if (!sh) return PGA_ENOMEM;
    s->shapes = sh;
    s->cap = cap;
  }
  s->shapes[s->nfcs] = (unsigned char)shape;
  s->fcs[s->nfcs++] = fc;
  return 0;
}

/* One element at el (el->len runs to the list's end): decoded if it is a
 * FunConfig struct; *used its size. 0, PGA_EBADTERM or PGA_ENOMEM. */
static int element(pga_fc_scan_t *s, const pga_term_t *el, size_t *used) {
  pga_funconfig_t *fc = NULL;
  int is_struct = 0, shape = 0;
  int rc = pga_term_type(el) == PGA_T_MAP
               ? pga__funconfig_decode_map(el, &fc, &is_struct, used, &shape)
               : (*used = 0, PGA_ETYPE);
  s->n++;
  if (!is_struct) s->all_structs = 0;
  if (rc == PGA_ENOMEM) return rc;
  if (rc != 0) {
    s->all_decoded = 0;
  } else if (keep(s, fc, shape) != 0) {
    pga_funconfig_free(fc);
    return PGA_ENOMEM;
  }
  if (*used == 0 && pga__term_check(el->buf, el->len, used) != 0)
    return PGA_EBADTERM;
  return 0;
}

/* Walks LIST_EXT cells from cur; sets proper at the end. */
static int walk(pga_fc_scan_t *s, pga_term_t cur) {
  pga__head_t h;
  for (;;) {
    if (pga__term_head(cur.buf, cur.len, &h) != 0) return PGA_EBADTERM;
    if (h.type == PGA_T_NIL) {
      s->proper = 1;
      return 0;
    }
    if (h.type == PGA_T_LIST && h.tag != TAG_LIST_EXT) {
      /* STRING_EXT: small integers, a proper list of non-maps */
      s->n += h.dlen;
      s->all_structs = s->all_decoded = 0;
      s->proper = 1;
      return 0;
    }
    if (h.type != PGA_T_LIST) return 0; /* an improper tail */
    size_t pos = h.size;
    s->cells++;
    for (uint64_t i = 0; i < h.n; i++) {
      pga_term_t el = {cur.buf + pos, cur.len - pos};
      size_t used;
      int rc = element(s, &el, &used);
      if (rc != 0) return rc;
      pos += used;
    }
    cur.buf += pos;
    cur.len -= pos;
  }
}

int pga_fc_scan(const pga_term_t *list, pga_fc_scan_t *s) {
  memset(s, 0, sizeof *s);
  s->all_structs = s->all_decoded = 1;
  if (!pga__is_list(list)) {
    s->all_structs = s->all_decoded = 0;
    return 0;
  }
  int rc = walk(s, *list);
  if (rc == PGA_ENOMEM) {
    pga_fc_scan_free(s);
    return rc;
  }
  if (rc != 0) s->proper = 0; /* malformed: only a hand-made view */
  return 0;
}

void pga_fc_scan_free(pga_fc_scan_t *s) {
  for (size_t i = 0; i < s->nfcs; i++) pga_funconfig_free(s->fcs[i]);
  free(s->fcs);
  free(s->shapes);
  memset(s, 0, sizeof *s);
}

/* ---- fclist ---- */

pga__fclist_t *pga__fclist_from_scan(pga_fc_scan_t *s) {
  if (!s->proper || !s->all_decoded || s->cells != 1 || s->nfcs == 0)
    return NULL;
  for (size_t i = 0; i < s->nfcs; i++)
    if (!s->shapes[i]) return NULL;
  pga__fclist_t *l = malloc(sizeof *l);
  if (!l) return NULL;
  l->fcs = s->fcs;
  l->shapes = s->shapes;
  l->n = s->nfcs;
  s->fcs = NULL;
  s->shapes = NULL;
  s->nfcs = s->cap = 0;
  return l;
}

/* One LIST_EXT cell, then nil: what from_scan accepted. */
void pga__fclist_encode(pga_tb_t *tb, const pga__fclist_t *l) {
  pga_tb_list(tb, l->n);
  for (size_t i = 0; i < l->n; i++)
    pga__funconfig_encode_shape(tb, l->fcs[i], l->shapes[i]);
  pga_tb_nil(tb);
}

pga__fclist_t *pga__fclist_dup(const pga__fclist_t *l) {
  pga__fclist_t *d = malloc(sizeof *d);
  if (!d) return NULL;
  d->fcs = malloc(l->n * sizeof *d->fcs);
  d->shapes = malloc(l->n);
  if (!d->fcs || !d->shapes) {
    free(d->fcs);
    free(d->shapes);
    free(d);
    return NULL;
  }
  for (size_t i = 0; i < l->n; i++) d->fcs[i] = pga_funconfig_ref(l->fcs[i]);
  memcpy(d->shapes, l->shapes, l->n);
  d->n = l->n;
  return d;
}

void pga__fclist_free(pga__fclist_t *l) {
  if (!l) return;
  for (size_t i = 0; i < l->n; i++) pga_funconfig_free(l->fcs[i]);
  free(l->fcs);
  free(l->shapes);
  free(l);
}
