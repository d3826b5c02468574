/* Readers over term views: scalars, tuples, list iterators, maps, equality,
 * and the pid/ref decoders the dist layer needs.
 *
 * Every reader decodes through pga__term_head (bounds-checked) and steps
 * over nested terms with pga__term_skip (structure only: what arrives from
 * the network was checked in full once, on arrival; docs/terms.md), so a
 * hand-made view over bad bytes gives an error, never a wild read. Lists
 * follow their tails: a LIST_EXT whose tail is another LIST_EXT or a
 * STRING_EXT (how ei users build lists of unknown length) reads as one
 * list, as the BEAM reads it. */
#include <string.h>

#include "term/term.h"

#define TAG_STRING 107
#define TAG_LIST 108
#define TAG_SMALL_INT 97
#define TAG_EXPORT 113
#define TAG_MAP 116
#define TAG_INT 98
#define TAG_ATOM 100
#define TAG_SMALL_TUPLE 104
#define TAG_LARGE_TUPLE 105
#define TAG_NIL 106
#define TAG_BINARY 109
#define TAG_SMALL_ATOM 115
#define TAG_ATOM_UTF8 118
#define TAG_SMALL_ATOM_UTF8 119

/* The [] that ends a STRING_EXT: it has no bytes of its own to point at. */
static const char nil_term[1] = {106};

static int head_of(const pga_term_t *t, pga__head_t *h) {
  if (t == NULL)
    return PGA_EINVAL;
  return pga__term_head(t->buf, t->len, h);
}

/* The view of the term at t->buf[pos]; *next is the offset after it. */
static int sub(const pga_term_t *t, size_t pos, pga_term_t *out,
               size_t *next) {
  size_t used;
  int rc;

  if (pos > t->len)
    return PGA_EBADTERM;
  if ((rc = pga__term_skip(t->buf + pos, t->len - pos, &used)) != 0)
    return rc;
  if (out != NULL) {
    out->buf = t->buf + pos;
    out->len = used;
  }
  *next = pos + used;
  return 0;
}

/* The type of the shapes whose tag alone tells it, once their fixed part
 * fits (as pga__term_head would judge it, contents aside); PGA_T_INVALID
 * for the others, which need the full head (bignums that may fit int64,
 * floats, bitstrings, pids, ports, references, funs). */
static pga_term_type_t type_by_tag(const pga_term_t *t) {
  const unsigned char *b = (const unsigned char *)t->buf;
  size_t used;

  switch (b[0]) {
  case TAG_SMALL_TUPLE:
    return t->len >= 2 ? PGA_T_TUPLE : PGA_T_INVALID;
  case TAG_LARGE_TUPLE: case TAG_MAP: case TAG_LIST:
    if (t->len < 5)
      return PGA_T_INVALID;
    if (b[0] == TAG_LIST)
      return (b[1] | b[2] | b[3] | b[4]) ? PGA_T_LIST : PGA_T_INVALID;
    return b[0] == TAG_MAP ? PGA_T_MAP : PGA_T_TUPLE;
  case TAG_SMALL_INT: case TAG_INT: case TAG_ATOM: case TAG_SMALL_ATOM:
  case TAG_ATOM_UTF8: case TAG_SMALL_ATOM_UTF8: case TAG_NIL:
  case TAG_BINARY: case TAG_STRING:
    /* no nesting: the skip only sizes the fixed part */
    if (pga__term_skip(t->buf, t->len, &used) != 0)
      return PGA_T_INVALID;
    break;
  default:
    return PGA_T_INVALID;
  }
  switch (b[0]) {
  case TAG_SMALL_INT: case TAG_INT: return PGA_T_INTEGER;
  case TAG_NIL: return PGA_T_NIL;
  case TAG_BINARY: return PGA_T_BINARY;
  case TAG_STRING: return used > 3 ? PGA_T_LIST : PGA_T_NIL;
  default: return PGA_T_ATOM;
  }
}

pga_term_type_t pga_term_type(const pga_term_t *t) {
  pga__head_t h;
  pga_term_type_t ty;

  if (t == NULL || t->buf == NULL || t->len == 0)
    return PGA_T_INVALID;
  if ((ty = type_by_tag(t)) != PGA_T_INVALID)
    return ty;
  return head_of(t, &h) == 0 ? h.type : PGA_T_INVALID;
}

/* The head of t when t has type want: 0, PGA_ETYPE or head_of's error. */
static int head_as(const pga_term_t *t, pga_term_type_t want,
                   pga__head_t *h) {
  int rc = head_of(t, h);

  if (rc != 0)
    return rc;
  return h->type == want ? 0 : PGA_ETYPE;
}

int pga_term_get_int64(const pga_term_t *t, int64_t *out) {
  pga__head_t h;
  int rc;

  if ((rc = head_of(t, &h)) != 0)
    return rc;
  if (h.type == PGA_T_BIGINT)
    return PGA_ERANGE;
  if (h.type != PGA_T_INTEGER)
    return PGA_ETYPE;
  *out = h.i;
  return 0;
}

int pga_term_get_double(const pga_term_t *t, double *out) {
  pga__head_t h;
  int rc = head_as(t, PGA_T_FLOAT, &h);

  if (rc != 0)
    return rc;
  *out = h.d;
  return 0;
}

/* Writes the atom as UTF-8 (Latin-1 atoms take two bytes per character at
 * or above 0x80); returns the length, or what it would be if out is NULL. */
static size_t atom_utf8(const pga__atom_t *a, char *out) {
  size_t i, n = 0;

  if (!a->latin1) {
    if (out != NULL)
      memcpy(out, a->s, a->len);
    return a->len;
  }
  for (i = 0; i < a->len; i++) {
    unsigned char c = a->s[i];
    if (c < 0x80) {
      if (out != NULL)
        out[n] = (char)c;
      n++;
    } else {
      if (out != NULL) {
        out[n] = (char)(0xC0 | c >> 6);
        out[n + 1] = (char)(0x80 | (c & 0x3F));
      }
      n += 2;
    }
  }
  return n;
}

int pga_term_get_atom(const pga_term_t *t, char *out, size_t outlen) {
  pga__head_t h;
  size_t n;
  int rc;

  if ((rc = head_of(t, &h)) != 0)
    return rc;
  if (h.type != PGA_T_ATOM)
    return PGA_ETYPE;
  if (out == NULL)
    return PGA_EINVAL;
  n = atom_utf8(&h.atom, NULL);
  if (n >= outlen)
    return PGA_ETOOBIG;
  atom_utf8(&h.atom, out);
  out[n] = '\0';
  return 0;
}

int pga__atom_equal(const pga__atom_t *a, const pga__atom_t *b) {
  const pga__atom_t *l = a, *u = b;
  size_t i, pos = 0;

  if (a->latin1 == b->latin1)
    return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
  if (b->latin1) {
    l = b;
    u = a;
  }
  /* Latin-1 against UTF-8: each byte must be the next code point. */
  for (i = 0; i < l->len; i++) {
    if (pos >= u->len || pga__utf8_next(u->s, u->len, &pos) != l->s[i])
      return 0;
  }
  return pos == u->len;
}

static int atom_is(const pga__atom_t *a, const char *name) {
  pga__atom_t n;

  n.s = (const unsigned char *)name;
  n.len = strlen(name);
  n.latin1 = 0;
  return pga__atom_equal(a, &n);
}

/* The text of a UTF-8 atom term (the form OTP 20+ sends), else NULL. */
static const char *utf8_atom_text(const pga_term_t *t, size_t *n) {
  const unsigned char *b = (const unsigned char *)t->buf;
  size_t hdr;

  if (t->len < 2)
    return NULL;
  if (b[0] == TAG_SMALL_ATOM_UTF8) {
    hdr = 2;
    *n = b[1];
  } else if (b[0] == TAG_ATOM_UTF8 && t->len >= 3) {
    hdr = 3;
    *n = (size_t)b[1] << 8 | b[2];
  } else {
    return NULL;
  }
  return *n <= t->len - hdr ? t->buf + hdr : NULL;
}

int pga_term_is_atom(const pga_term_t *t, const char *name) {
  pga__head_t h;
  const char *text;
  size_t n;

  if (name == NULL || t == NULL || t->buf == NULL)
    return 0;
  /* Bytes equal to a valid UTF-8 name are valid: no decoding needed. */
  if ((text = utf8_atom_text(t, &n)) != NULL)
    return strlen(name) == n && memcmp(text, name, n) == 0;
  if (head_of(t, &h) != 0 || h.type != PGA_T_ATOM)
    return 0;
  return atom_is(&h.atom, name);
}

int pga_term_get_binary(const pga_term_t *t, const char **data,
                        size_t *len) {
  pga__head_t h;
  int rc = head_as(t, PGA_T_BINARY, &h);

  if (rc != 0)
    return rc;
  *data = (const char *)h.data;
  *len = h.dlen;
  return 0;
}

int pga_term_tuple_arity(const pga_term_t *t, size_t *arity) {
  pga__head_t h;
  int rc = head_as(t, PGA_T_TUPLE, &h);

  if (rc != 0)
    return rc;
  *arity = (size_t)h.n;
  return 0;
}

/* Skips k nested terms from *pos. */
static int skip(const pga_term_t *t, size_t *pos, uint64_t k) {
  int rc;

  for (; k > 0; k--) {
    if ((rc = sub(t, *pos, NULL, pos)) != 0)
      return rc;
  }
  return 0;
}

int pga_term_tuple_get(const pga_term_t *t, size_t i, pga_term_t *out) {
  pga__head_t h;
  size_t pos, next;
  int rc;

  if ((rc = head_of(t, &h)) != 0)
    return rc;
  if (h.type != PGA_T_TUPLE)
    return PGA_ETYPE;
  if (i >= h.n)
    return PGA_ERANGE;
  pos = h.size;
  if ((rc = skip(t, &pos, i)) != 0)
    return rc;
  return sub(t, pos, out, &next);
}

/* ---- Lists ---- */

int pga_term_iter_init(pga_term_iter_t *it, const pga_term_t *t) {
  pga__head_t h;
  int rc;

  if (it == NULL)
    return PGA_EINVAL;
  if ((rc = head_of(t, &h)) != 0)
    return rc;
  memset(it, 0, sizeof *it);
  it->list = *t;
  if (h.tag == TAG_STRING) {
    it->is_string = 1;
    it->pos = h.size - h.dlen;
    it->left = h.dlen;
  } else if (h.tag == TAG_LIST) {
    it->pos = h.size;
    it->left = (size_t)h.n;
  } else if (h.type != PGA_T_NIL) {
    return PGA_ETYPE;
  }
  return 0;
}

/* At a tail: moves into it when it is itself a non-empty list. 1 if it did,
 * 0 at the real tail (or at a malformed one, which iter_tail reports). */
static int enter_tail(pga_term_iter_t *it) {
  pga__head_t h;

  if (it->is_string || it->pos > it->list.len ||
      pga__term_head(it->list.buf + it->pos, it->list.len - it->pos, &h))
    return 0;
  if (h.tag == TAG_LIST) {
    it->pos += h.size;
    it->left = (size_t)h.n;
    return 1;
  }
  if (h.tag == TAG_STRING && h.dlen > 0) {
    it->is_string = 1;
    it->pos += h.size - h.dlen;
    it->left = h.dlen;
    return 1;
  }
  return 0;
}

/* SMALL_INTEGER_EXT encodings of 0..255: a STRING_EXT element's view
 * points here, so it stays valid after the iterator moves on or goes out
 * of scope, as every other element view does. */
#define SMALL_INT_ROW(b) {(char)TAG_SMALL_INT, (char)(b)}
#define SMALL_INT_ROWS16(b)                                               \
  SMALL_INT_ROW(b), SMALL_INT_ROW((b) + 1), SMALL_INT_ROW((b) + 2),       \
      SMALL_INT_ROW((b) + 3), SMALL_INT_ROW((b) + 4),                     \
      SMALL_INT_ROW((b) + 5), SMALL_INT_ROW((b) + 6),                     \
      SMALL_INT_ROW((b) + 7), SMALL_INT_ROW((b) + 8),                     \
      SMALL_INT_ROW((b) + 9), SMALL_INT_ROW((b) + 10),                    \
      SMALL_INT_ROW((b) + 11), SMALL_INT_ROW((b) + 12),                   \
      SMALL_INT_ROW((b) + 13), SMALL_INT_ROW((b) + 14),                   \
      SMALL_INT_ROW((b) + 15)
static const char small_ints[256][2] = {
    SMALL_INT_ROWS16(0),   SMALL_INT_ROWS16(16),  SMALL_INT_ROWS16(32),
    SMALL_INT_ROWS16(48),  SMALL_INT_ROWS16(64),  SMALL_INT_ROWS16(80),
    SMALL_INT_ROWS16(96),  SMALL_INT_ROWS16(112), SMALL_INT_ROWS16(128),
    SMALL_INT_ROWS16(144), SMALL_INT_ROWS16(160), SMALL_INT_ROWS16(176),
    SMALL_INT_ROWS16(192), SMALL_INT_ROWS16(208), SMALL_INT_ROWS16(224),
    SMALL_INT_ROWS16(240)};

int pga_term_iter_next(pga_term_iter_t *it, pga_term_t *out) {
  size_t next;

  while (it->left == 0) {
    if (!enter_tail(it))
      return 0;
  }
  if (it->is_string) {
    out->buf = small_ints[(unsigned char)it->list.buf[it->pos]];
    out->len = 2;
    it->pos++;
    it->left--;
    return 1;
  }
  if (sub(&it->list, it->pos, out, &next) != 0) {
    /* Malformed (only a hand-made view can be): end here; the tail view
     * comes out invalid so the caller can tell. */
    it->left = 0;
    it->pos = it->list.len + 1;
    return 0;
  }
  it->pos = next;
  it->left--;
  return 1;
}

void pga_term_iter_tail(const pga_term_iter_t *it, pga_term_t *out) {
  pga_term_iter_t end = *it;
  pga_term_t elem;
  size_t next;

  while (pga_term_iter_next(&end, &elem))
    ;
  if (end.is_string) {
    out->buf = nil_term;
    out->len = 1;
  } else if (sub(&end.list, end.pos, out, &next) != 0) {
    out->buf = NULL;
    out->len = 0;
  }
}

int pga_term_list_length(const pga_term_t *t, size_t *len) {
  pga_term_iter_t it;
  pga_term_t elem, tail;
  size_t n = 0;
  int rc;

  if ((rc = pga_term_iter_init(&it, t)) != 0)
    return rc;
  while (pga_term_iter_next(&it, &elem))
    n++;
  pga_term_iter_tail(&it, &tail);
  if (tail.buf == NULL)
    return PGA_EBADTERM;
  *len = n;
  return 0;
}

/* ---- Maps ---- */

int pga_term_map_size(const pga_term_t *t, size_t *size) {
  pga__head_t h;
  int rc = head_as(t, PGA_T_MAP, &h);

  if (rc != 0)
    return rc;
  *size = (size_t)(h.n / 2);
  return 0;
}

int pga_term_map_pair(const pga_term_t *map, size_t i, pga_term_t *key,
                      pga_term_t *value) {
  pga__head_t h;
  size_t pos;
  int rc;

  if ((rc = head_of(map, &h)) != 0)
    return rc;
  if (h.type != PGA_T_MAP)
    return PGA_ETYPE;
  if (i >= h.n / 2)
    return PGA_ERANGE;
  pos = h.size;
  if ((rc = skip(map, &pos, 2 * (uint64_t)i)) != 0 ||
      (rc = sub(map, pos, key, &pos)) != 0)
    return rc;
  return sub(map, pos, value, &pos);
}

int pga__map_iter_init(pga__map_iter_t *it, const pga_term_t *map) {
  const unsigned char *b;

  if (map == NULL || map->buf == NULL || map->len < 5)
    return map == NULL ? PGA_EINVAL : PGA_ETYPE;
  b = (const unsigned char *)map->buf;
  if (b[0] != TAG_MAP)
    return PGA_ETYPE;
  it->map = *map;
  it->left = (uint64_t)b[1] << 24 | (uint64_t)b[2] << 16 |
             (uint64_t)b[3] << 8 | b[4];
  it->pos = 5;
  it->bad = 0;
  return 0;
}

int pga__map_iter_next(pga__map_iter_t *it, pga_term_t *key,
                       pga_term_t *value) {
  if (it->left == 0)
    return 0;
  if (sub(&it->map, it->pos, key, &it->pos) != 0 ||
      sub(&it->map, it->pos, value, &it->pos) != 0) {
    it->left = 0;
    it->bad = 1;
    return 0;
  }
  it->left--;
  return 1;
}

/* Walks the pairs until match() accepts a key; O(n). */
static int map_find(const pga_term_t *map, int (*match)(const pga_term_t *,
                                                        const void *),
                    const void *arg, pga_term_t *value) {
  pga__map_iter_t it;
  pga_term_t k, v;
  int rc;

  if ((rc = pga__map_iter_init(&it, map)) != 0)
    return rc;
  while (pga__map_iter_next(&it, &k, &v)) {
    if (match(&k, arg)) {
      *value = v;
      return 0;
    }
  }
  return it.bad ? PGA_EBADTERM : PGA_ENOTFOUND;
}

static int match_term(const pga_term_t *k, const void *key) {
  return pga_term_equal(k, key);
}

static int match_atom(const pga_term_t *k, const void *name) {
  return pga_term_is_atom(k, name);
}

static int match_binary(const pga_term_t *k, const void *s) {
  const char *data;
  size_t len;

  return pga_term_get_binary(k, &data, &len) == 0 && len == strlen(s) &&
         memcmp(data, s, len) == 0;
}

int pga_term_map_get(const pga_term_t *map, const pga_term_t *key,
                     pga_term_t *value) {
  if (key == NULL)
    return PGA_EINVAL;
  return map_find(map, match_term, key, value);
}

int pga_term_map_get_atom(const pga_term_t *map, const char *key,
                          pga_term_t *value) {
  if (key == NULL)
    return PGA_EINVAL;
  return map_find(map, match_atom, key, value);
}

int pga_term_map_get_binary(const pga_term_t *map, const char *key,
                            pga_term_t *value) {
  if (key == NULL)
    return PGA_EINVAL;
  return map_find(map, match_binary, key, value);
}

/* ---- Equality ----
 *
 * Each side is flattened into a stream of tokens, and the streams compared
 * (0 too when a term deeper than PGA__STACK_INLINE finds no memory).
 * A list becomes its cons cells: one CONS token before each element, then
 * the tail's tokens. So [1,2] as LIST_EXT, as STRING_EXT, or as two chained
 * one-element LIST_EXTs all give CONS 1 CONS 2 NIL, with no recursion. */

#define KIND_PLAIN 0
#define KIND_LIST 1

typedef struct walker_s {
  const pga_term_t *t;
  size_t pos;
  size_t top;
  pga__stack_t st;        /* left and kind per level */
  int cons_done;          /* the CONS before the next term was given */
  const unsigned char *str; /* STRING_EXT being expanded */
  size_t str_left;
  int in_str;
} walker_t;

static void walker_init(walker_t *w, const pga_term_t *t) {
  w->t = t;
  w->pos = 0;
  w->top = 0;
  pga__stack_init(&w->st);
  w->st.f[0].left = 1;
  w->st.f[0].kind = KIND_PLAIN;
  w->cons_done = 0;
  w->in_str = 0;
}

/* Next token into *h (type PGA_T_LIST stands for CONS). 1, 0 at the end,
 * -1 on malformed input (or no memory for a deep one's stack). */
static int walker_next(walker_t *w, pga__head_t *h) {
  pga__frame_t *f, *up;

  for (;;) {
    if (w->in_str) {
      if (w->str_left == 0) {
        w->in_str = 0;
        memset(h, 0, sizeof *h);
        h->type = PGA_T_NIL;
        return 1;
      }
      memset(h, 0, sizeof *h);
      if (!w->cons_done) {
        w->cons_done = 1;
        h->type = PGA_T_LIST;
        return 1;
      }
      w->cons_done = 0;
      h->type = PGA_T_INTEGER;
      h->i = *w->str++;
      w->str_left--;
      return 1;
    }
    f = &w->st.f[w->top];
    while (f->left == 0) {
      if (w->top == 0)
        return 0;
      /* A list's tail comes next, in the slot whose CONS came already. */
      if (f->kind == KIND_LIST)
        w->cons_done = 1;
      f = &w->st.f[--w->top];
    }
    if (f->kind == KIND_LIST && !w->cons_done) {
      w->cons_done = 1;
      memset(h, 0, sizeof *h);
      h->type = PGA_T_LIST;
      return 1;
    }
    w->cons_done = 0;
    if (w->pos > w->t->len ||
        pga__term_head(w->t->buf + w->pos, w->t->len - w->pos, h) != 0)
      return -1;
    w->pos += h->size;
    if (!h->tail)
      f->left--;
    if (h->tag == TAG_STRING && h->dlen > 0) {
      w->in_str = 1;
      w->str = h->data;
      w->str_left = h->dlen;
      continue;
    }
    if (h->n > 0) {
      if (h->n > w->t->len - w->pos ||
          (up = pga__stack_at(&w->st, w->top + 1)) == NULL)
        return -1;
      w->top++;
      up->left = h->n;
      up->kind = h->tail ? KIND_LIST : KIND_PLAIN;
    }
    if (!h->tail)
      return 1;
  }
}

/* Bignum magnitudes, ignoring high zero digits. */
static int big_equal(const pga__head_t *a, const pga__head_t *b) {
  size_t na = a->dlen, nb = b->dlen;

  while (na > 0 && a->data[na - 1] == 0)
    na--;
  while (nb > 0 && b->data[nb - 1] == 0)
    nb--;
  return a->neg == b->neg && na == nb && memcmp(a->data, b->data, na) == 0;
}

/* Bitstrings: the unused low bits of the last byte do not count. */
static int bits_equal(const pga__head_t *a, const pga__head_t *b) {
  unsigned char mask = (unsigned char)(0xFF << (8 - a->bits));

  if (a->bits != b->bits || a->dlen != b->dlen || a->dlen == 0)
    return 0;
  return memcmp(a->data, b->data, a->dlen - 1) == 0 &&
         (a->data[a->dlen - 1] & mask) == (b->data[b->dlen - 1] & mask);
}

static int fun_equal(const pga__head_t *a, const pga__head_t *b) {
  if (a->tag != b->tag || a->n != b->n || !pga__atom_equal(&a->atom, &b->atom))
    return 0;
  if (a->tag == TAG_EXPORT)
    return pga__atom_equal(&a->name, &b->name) && a->i == b->i;
  return a->i == b->i && a->id == b->id && a->dlen == b->dlen &&
         (a->dlen == 0 || memcmp(a->data, b->data, a->dlen) == 0) &&
         a->old_index == b->old_index && a->old_uniq == b->old_uniq &&
         pga__atom_equal(&a->pid.node, &b->pid.node) &&
         a->pid.id == b->pid.id && a->pid.serial == b->pid.serial &&
         a->pid.creation == b->pid.creation;
}

static int token_equal(const pga__head_t *a, const pga__head_t *b) {
  if (a->type != b->type)
    return 0;
  switch (a->type) {
  case PGA_T_INTEGER:
    return a->i == b->i;
  case PGA_T_BIGINT:
    return big_equal(a, b);
  case PGA_T_FLOAT:
    return a->d == b->d; /* as OTP 25 =:=, 0.0 and -0.0 match */
  case PGA_T_ATOM:
    return pga__atom_equal(&a->atom, &b->atom);
  case PGA_T_BINARY:
    return a->dlen == b->dlen && memcmp(a->data, b->data, a->dlen) == 0;
  case PGA_T_BITSTRING:
    return bits_equal(a, b);
  case PGA_T_TUPLE:
  case PGA_T_MAP:
    return a->n == b->n;
  case PGA_T_PID:
    return pga__atom_equal(&a->atom, &b->atom) && a->id == b->id &&
           a->serial == b->serial && a->creation == b->creation;
  case PGA_T_PORT:
    return pga__atom_equal(&a->atom, &b->atom) && a->id == b->id &&
           a->creation == b->creation;
  case PGA_T_REF:
    return pga__atom_equal(&a->atom, &b->atom) &&
           a->creation == b->creation && a->nwords == b->nwords &&
           memcmp(a->words, b->words, a->nwords * sizeof a->words[0]) == 0;
  case PGA_T_FUN:
    return fun_equal(a, b);
  default: /* PGA_T_NIL, and PGA_T_LIST for CONS */
    return 1;
  }
}

int pga_term_equal(const pga_term_t *a, const pga_term_t *b) {
  walker_t wa, wb;
  pga__head_t ha, hb;
  int ra, rb;

  if (a == NULL || b == NULL)
    return 0;
  walker_init(&wa, a);
  walker_init(&wb, b);
  do {
    ra = walker_next(&wa, &ha);
    rb = walker_next(&wb, &hb);
  } while (ra == 1 && rb == 1 && token_equal(&ha, &hb));
  pga__stack_free(&wa.st);
  pga__stack_free(&wb.st);
  return ra == 0 && rb == 0;
}

/* ---- Pids and references (for src/dist) ---- */

static void node_copy(const pga__atom_t *a, char *node) {
  size_t n = atom_utf8(a, node); /* < MAXATOMLEN_UTF8: checked atom */

  node[n] = '\0';
}

int pga__term_get_pid(const pga_term_t *t, erlang_pid *out) {
  pga__head_t h;
  int rc = head_as(t, PGA_T_PID, &h);

  if (rc != 0)
    return rc;
  node_copy(&h.atom, out->node);
  out->num = (unsigned)h.id;
  out->serial = h.serial;
  out->creation = h.creation;
  return 0;
}

int pga__term_get_ref(const pga_term_t *t, erlang_ref *out) {
  pga__head_t h;
  unsigned i;
  int rc;

  if ((rc = head_of(t, &h)) != 0)
    return rc;
  if (h.type != PGA_T_REF)
    return PGA_ETYPE;
  node_copy(&h.atom, out->node);
  out->len = (int)h.nwords;
  for (i = 0; i < 5; i++)
    out->n[i] = i < h.nwords ? h.words[i] : 0;
  out->creation = h.creation;
  return 0;
}
