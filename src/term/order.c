/* Erlang term order and the BEAM's map iteration order, for everything
 * that must list or pick as a BEAM node would: argument errors and key
 * lists of the request plane (request-plane.md §5.3, §6.2, §14.7), sorted
 * listings and printed maps of the ops plane (ops-plane.md §0.1), JSON
 * export order. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "term/term.h"
#include "pga/errno.h"

/* Deeper terms compare by encoding: keys that deep never come from JSON,
 * and the bound keeps the recursion's C stack small. */
#define MAX_DEPTH 64
/* Maps up to this many pairs are flatmaps, iterated in key order. */
#define FLATMAP_MAX 32

static int cmp_at(const pga_term_t *a, const pga_term_t *b, int depth);

static int sign(long long v) { return (v > 0) - (v < 0); }

static int rank(pga_term_type_t t) {
  switch (t) {
  case PGA_T_INTEGER:
  case PGA_T_BIGINT:
  case PGA_T_FLOAT: return 0;
  case PGA_T_ATOM: return 1;
  case PGA_T_REF: return 2;
  case PGA_T_FUN: return 3;
  case PGA_T_PORT: return 4;
  case PGA_T_PID: return 5;
  case PGA_T_TUPLE: return 6;
  case PGA_T_MAP: return 7;
  case PGA_T_NIL: return 8;
  case PGA_T_LIST: return 9;
  case PGA_T_BINARY:
  case PGA_T_BITSTRING: return 10;
  default: return 11;
  }
}

static int bytes_cmp(const void *a, size_t na, const void *b, size_t nb) {
  int c = memcmp(a, b, na < nb ? na : nb);

  return c != 0 ? sign(c) : sign((long long)(na > nb) - (na < nb));
}

/* ---- Numbers ---- */

/* Magnitude bytes without high zeros. */
static size_t big_len(const pga__head_t *h) {
  size_t n = h->dlen;

  while (n > 0 && h->data[n - 1] == 0)
    n--;
  return n;
}

static int big_cmp(const pga__head_t *a, const pga__head_t *b) {
  size_t na = big_len(a), nb = big_len(b);
  int s = a->neg ? -1 : 1;

  if (a->neg != b->neg)
    return a->neg ? -1 : 1;
  if (na != nb)
    return na > nb ? s : -s;
  for (size_t i = na; i-- > 0;)
    if (a->data[i] != b->data[i])
      return a->data[i] > b->data[i] ? s : -s;
  return 0;
}

static double big_double(const pga__head_t *h) {
  double d = 0;

  for (size_t i = big_len(h); i-- > 0;)
    d = d * 256.0 + h->data[i];
  return h->neg ? -d : d;
}

/* An integer against a float, exactly; an equal float sorts after. */
static int int_float_cmp(int64_t i, double d) {
  double fl;

  if (d >= 9223372036854775808.0)
    return -1;
  if (d < -9223372036854775808.0)
    return 1;
  fl = floor(d);
  if ((int64_t)fl != i)
    return i < (int64_t)fl ? -1 : 1;
  return -1; /* i == floor(d) <= d: below d, or equal and the int first */
}

static int num_cmp(const pga__head_t *a, const pga__head_t *b) {
  if (a->type == PGA_T_INTEGER && b->type == PGA_T_INTEGER)
    return sign((long long)(a->i > b->i) - (a->i < b->i));
  if (a->type == PGA_T_BIGINT && b->type == PGA_T_BIGINT)
    return big_cmp(a, b);
  if (a->type == PGA_T_FLOAT && b->type == PGA_T_FLOAT)
    return (a->d > b->d) - (a->d < b->d);
  if (a->type == PGA_T_FLOAT)
    return -num_cmp(b, a);
  /* a is an integer (small or big), b is an integer or a float. */
  if (a->type == PGA_T_BIGINT)
    return b->type == PGA_T_INTEGER ? (a->neg ? -1 : 1)
           : big_double(a) < b->d   ? -1
           : big_double(a) > b->d   ? 1
                                    : -1;
  if (b->type == PGA_T_BIGINT)
    return b->neg ? 1 : -1;
  return int_float_cmp(a->i, b->d);
}

/* ---- Atoms ---- */

static int32_t atom_cp(const pga__atom_t *a, size_t *pos) {
  int32_t cp;

  if (a->latin1)
    return a->s[(*pos)++];
  cp = pga__utf8_next(a->s, a->len, pos);
  if (cp < 0)
    cp = a->s[(*pos)++];
  return cp;
}

static int atom_cmp(const pga__atom_t *a, const pga__atom_t *b) {
  size_t pa = 0, pb = 0;

  while (pa < a->len && pb < b->len) {
    int32_t ca = atom_cp(a, &pa), cb = atom_cp(b, &pb);

    if (ca != cb)
      return ca < cb ? -1 : 1;
  }
  return (pa < a->len) - (pb < b->len);
}

/* ---- Bitstrings ---- */

static size_t bit_len(const pga__head_t *h) {
  if (h->type == PGA_T_BITSTRING && h->dlen > 0)
    return (h->dlen - 1) * 8 + h->bits;
  return h->dlen * 8;
}

static int bits_cmp(const pga__head_t *a, const pga__head_t *b) {
  size_t la = bit_len(a), lb = bit_len(b), n = la < lb ? la : lb;
  size_t whole = n / 8;
  int c = memcmp(a->data, b->data, whole);

  if (c != 0)
    return sign(c);
  if (n % 8 != 0) {
    unsigned mask = 0xFFu << (8 - n % 8) & 0xFF;
    unsigned xa = a->data[whole] & mask, xb = b->data[whole] & mask;

    if (xa != xb)
      return xa < xb ? -1 : 1;
  }
  return (la > lb) - (la < lb);
}

/* ---- Containers ---- */

/* The next element of a tuple being walked: *pos moves past it. */
static int next_elem(const pga_term_t *t, size_t *pos, pga_term_t *el) {
  size_t used;

  if (*pos > t->len || pga__term_skip(t->buf + *pos, t->len - *pos, &used))
    return PGA_EBADTERM;
  el->buf = t->buf + *pos;
  el->len = used;
  *pos += used;
  return 0;
}

/* Elements side by side in one walk each (by index, two large equal
 * tuples cost quadratic time: a stall a peer could cause). */
static int seq_cmp(const pga_term_t *a, const pga_term_t *b, size_t n,
                   int depth) {
  pga__head_t ha, hb;
  pga_term_t ea, eb;
  size_t pa, pb;
  int c;

  if (pga__term_head(a->buf, a->len, &ha) != 0 ||
      pga__term_head(b->buf, b->len, &hb) != 0)
    return 0;
  pa = ha.size;
  pb = hb.size;
  for (size_t i = 0; i < n; i++) {
    if (next_elem(a, &pa, &ea) != 0 || next_elem(b, &pb, &eb) != 0)
      return 0;
    if ((c = cmp_at(&ea, &eb, depth + 1)) != 0)
      return c;
  }
  return 0;
}

static int list_cmp(const pga_term_t *a, const pga_term_t *b, int depth) {
  pga_term_iter_t ia, ib;
  pga_term_t ea, eb, ta, tb;
  int ha, hb, c;

  if (pga_term_iter_init(&ia, a) != 0 || pga_term_iter_init(&ib, b) != 0)
    return 0;
  for (;;) {
    ha = pga_term_iter_next(&ia, &ea);
    hb = pga_term_iter_next(&ib, &eb);
    if (!ha || !hb)
      break;
    if ((c = cmp_at(&ea, &eb, depth + 1)) != 0)
      return c;
  }
  /* One side ran out: its tail meets the other side's tail, or the rest
   * of the other list (a non-empty list). */
  if (ha) {
    pga_term_iter_tail(&ib, &tb);
    return rank(pga_term_type(&tb)) < rank(PGA_T_LIST) ? 1 : -1;
  }
  pga_term_iter_tail(&ia, &ta);
  if (hb)
    return rank(pga_term_type(&ta)) < rank(PGA_T_LIST) ? -1 : 1;
  pga_term_iter_tail(&ib, &tb);
  return cmp_at(&ta, &tb, depth + 1);
}

static int map_cmp(const pga_term_t *a, const pga_term_t *b, int depth) {
  pga__term_pair_t *pa = NULL, *pb = NULL;
  size_t na = 0, nb = 0;
  int c = 0;

  if (pga__term_map_pairs(a, &pa, &na) != 0 ||
      pga__term_map_pairs(b, &pb, &nb) != 0) {
    free(pa);
    return bytes_cmp(a->buf, a->len, b->buf, b->len);
  }
  if (na != nb)
    c = na < nb ? -1 : 1;
  for (size_t i = 0; c == 0 && i < na; i++)
    c = cmp_at(&pa[i].key, &pb[i].key, depth + 1);
  for (size_t i = 0; c == 0 && i < na; i++)
    c = cmp_at(&pa[i].value, &pb[i].value, depth + 1);
  free(pa);
  free(pb);
  return c;
}

static int ident_cmp(const pga__head_t *a, const pga__head_t *b) {
  int c = atom_cmp(&a->atom, &b->atom);

  if (c != 0)
    return c;
  if (a->type == PGA_T_REF) {
    /* As the BEAM: the shorter id's missing high words count as zeros
     * (comparing the common words, then the lengths, is not transitive). */
    for (unsigned i = a->nwords > b->nwords ? a->nwords : b->nwords; i-- > 0;) {
      uint32_t wa = i < a->nwords ? a->words[i] : 0;
      uint32_t wb = i < b->nwords ? b->words[i] : 0;

      if (wa != wb)
        return wa < wb ? -1 : 1;
    }
    return 0;
  }
  if (a->id != b->id)
    return a->id < b->id ? -1 : 1;
  if (a->serial != b->serial)
    return a->serial < b->serial ? -1 : 1;
  return (a->creation > b->creation) - (a->creation < b->creation);
}

static int cmp_at(const pga_term_t *a, const pga_term_t *b, int depth) {
  pga__head_t ha, hb;
  int ra, rb;

  if (pga__term_head(a->buf, a->len, &ha) != 0 ||
      pga__term_head(b->buf, b->len, &hb) != 0 || depth > MAX_DEPTH)
    return bytes_cmp(a->buf, a->len, b->buf, b->len);
  ra = rank(ha.type);
  rb = rank(hb.type);
  if (ra != rb)
    return ra < rb ? -1 : 1;
  switch (ha.type) {
  case PGA_T_INTEGER:
  case PGA_T_BIGINT:
  case PGA_T_FLOAT: return num_cmp(&ha, &hb);
  case PGA_T_ATOM: return atom_cmp(&ha.atom, &hb.atom);
  case PGA_T_BINARY:
  case PGA_T_BITSTRING: return bits_cmp(&ha, &hb);
  case PGA_T_TUPLE:
    if (ha.n != hb.n)
      return ha.n < hb.n ? -1 : 1;
    return seq_cmp(a, b, (size_t)ha.n, depth);
  case PGA_T_NIL: return 0;
  case PGA_T_LIST: return list_cmp(a, b, depth);
  case PGA_T_MAP: return map_cmp(a, b, depth);
  case PGA_T_PID:
  case PGA_T_PORT:
  case PGA_T_REF: return ident_cmp(&ha, &hb);
  default: return bytes_cmp(a->buf, a->len, b->buf, b->len);
  }
}

int pga__term_compare(const pga_term_t *a, const pga_term_t *b) {
  return cmp_at(a, b, 0);
}

static int view_cmp(const void *a, const void *b) {
  return pga__term_compare(a, b);
}

static int pair_cmp(const void *a, const void *b) {
  return pga__term_compare(&((const pga__term_pair_t *)a)->key,
                         &((const pga__term_pair_t *)b)->key);
}

void pga__term_sort(pga_term_t *v, size_t n) {
  if (n > 1)
    qsort(v, n, sizeof *v, view_cmp);
}

int pga__term_map_pairs(const pga_term_t *map, pga__term_pair_t **pairs,
                      size_t *n) {
  pga__head_t h;
  pga__term_pair_t *p;
  size_t pos, used, count;
  int rc;

  *pairs = NULL;
  *n = 0;
  if (pga_term_type(map) != PGA_T_MAP)
    return PGA_ETYPE;
  if ((rc = pga__term_head(map->buf, map->len, &h)) != 0)
    return rc;
  count = (size_t)(h.n / 2);
  if (count == 0)
    return 0;
  if (count > map->len / 2 || (p = malloc(count * sizeof *p)) == NULL)
    return count > map->len / 2 ? PGA_EBADTERM : PGA_ENOMEM;
  pos = h.size;
  for (size_t i = 0; i < count; i++) {
    pga_term_t *slot[2] = {&p[i].key, &p[i].value};

    for (int j = 0; j < 2; j++) {
      if (pos > map->len ||
          (rc = pga__term_skip(map->buf + pos, map->len - pos, &used)) != 0) {
        free(p);
        return rc != 0 ? rc : PGA_EBADTERM;
      }
      slot[j]->buf = map->buf + pos;
      slot[j]->len = used;
      pos += used;
    }
  }
  if (count <= FLATMAP_MAX)
    qsort(p, count, sizeof *p, pair_cmp);
  *pairs = p;
  *n = count;
  return 0;
}
