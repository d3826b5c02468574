/* Term helpers for the config plane: owned copies, key hashing, term-keyed
 * dicts, map walks and the small type predicates validation is made of. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"
#include "pga/errno.h"
#include "term/term.h"

#define TAG_SMALL_ATOM_UTF8 119

static const char nil_bytes[] = {TAG_SMALL_ATOM_UTF8, 3, 'n', 'i', 'l'};
static const char false_bytes[] = {TAG_SMALL_ATOM_UTF8, 5, 'f', 'a', 'l',
                                   's', 'e'};
static const char true_bytes[] = {TAG_SMALL_ATOM_UTF8, 4, 't', 'r', 'u', 'e'};
static const char empty_list_bytes[] = {106};

const pga_term_t pga__t_nil = {nil_bytes, sizeof nil_bytes};
const pga_term_t pga__t_false = {false_bytes, sizeof false_bytes};
const pga_term_t pga__t_true = {true_bytes, sizeof true_bytes};
const pga_term_t pga__t_empty_list = {empty_list_bytes, 1};

int pga__cterm_set(pga__cterm_t *c, const pga_term_t *t) {
  char *copy = malloc(t->len ? t->len : 1);
  if (!copy) return PGA_ENOMEM;
  memcpy(copy, t->buf, t->len);
  free(c->buf);
  c->buf = copy;
  c->len = t->len;
  return 0;
}

void pga__cterm_clear(pga__cterm_t *c) {
  free(c->buf);
  c->buf = NULL;
  c->len = 0;
}

/* Atoms hash by their UTF-8 text so ATOM_EXT (latin-1) and the UTF-8 tags
 * of one atom land in one bucket, as pga_term_equal treats them alike. */
static uint64_t atom_hash(const pga__atom_t *a) {
  unsigned char buf[1 + 2 * 255];
  size_t n = 0;
  buf[n++] = 'A';
  for (size_t i = 0; i < a->len && n + 2 <= sizeof buf; i++) {
    unsigned char c = a->s[i];
    if (a->latin1 && c >= 0x80) {
      buf[n++] = (unsigned char)(0xC0 | (c >> 6));
      buf[n++] = (unsigned char)(0x80 | (c & 0x3F));
    } else {
      buf[n++] = c;
    }
  }
  return pga_hash_bytes(buf, n);
}

uint64_t pga__term_hash(const pga_term_t *t) {
  const char *s;
  size_t n;
  int utf8;
  /* The common tags without a full head: the same values as below. */
  if (pga__peek_binary(t, &s, &n)) return pga_hash_bytes(s, n) ^ 0x42;
  if (pga__peek_atom(t, &s, &n, &utf8) && utf8) {
    pga__atom_t a = {(const unsigned char *)s, n, 0};
    return atom_hash(&a);
  }
  pga__head_t h;
  if (pga__term_head(t->buf, t->len, &h) != 0) return 0;
  switch (h.type) {
  case PGA_T_ATOM:
    return atom_hash(&h.atom);
  case PGA_T_BINARY:
    return pga_hash_bytes(h.data, h.dlen) ^ 0x42;
  case PGA_T_INTEGER:
    return pga_hash_u64((uint64_t)h.i);
  default:
    return pga_hash_u64(0x100u + (unsigned)h.type);
  }
}

/* ---- term-keyed dicts ---- */

uint64_t pga__term_key_hash(const void *k) {
  pga_term_t t = pga__cterm_view(k);
  return pga__term_hash(&t);
}

int pga__term_key_equal(const void *a, const void *b) {
  pga_term_t ta = pga__cterm_view(a), tb = pga__cterm_view(b);
  return pga_term_equal(&ta, &tb);
}

void pga__term_key_free(void *k) {
  pga__cterm_clear(k);
  free(k);
}

void *pga__term_dict_get(pga_dict_t *d, const pga_term_t *key) {
  pga__cterm_t k = {(char *)key->buf, key->len};
  return pga_dict_get(d, &k);
}

int pga__term_dict_put(pga_dict_t *d, const pga_term_t *key, void *val) {
  pga__cterm_t probe = {(char *)key->buf, key->len};
  pga__cterm_t *k = calloc(1, sizeof *k);
  if (!k || pga__cterm_set(k, key) != 0) {
    free(k);
    return PGA_ENOMEM;
  }
  (void)pga_dict_delete(d, &probe); /* an absent key is fine */
  int rc = pga_dict_add(d, k, val);
  if (rc != 0) pga__term_key_free(k);
  return rc;
}

int pga__term_dict_delete(pga_dict_t *d, const pga_term_t *key) {
  pga__cterm_t k = {(char *)key->buf, key->len};
  return pga_dict_delete(d, &k);
}

/* ---- predicates ---- */

int pga__is_atom(const pga_term_t *t) {
  const char *s;
  size_t n;
  int utf8;
  return pga__peek_atom(t, &s, &n, &utf8) || pga_term_type(t) == PGA_T_ATOM;
}

int pga__term_same(const pga_term_t *a, const pga_term_t *b) {
  return (a->len == b->len && memcmp(a->buf, b->buf, a->len) == 0) ||
         pga_term_equal(a, b);
}

int pga__atom_index(const pga_term_t *t, const char *const *set, size_t n) {
  const char *s;
  size_t len;
  int utf8;
  if (!pga__peek_atom(t, &s, &len, &utf8)) {
    pga__head_t h; /* not a common atom tag: the full reading */
    if (pga__term_head(t->buf, t->len, &h) != 0 || h.type != PGA_T_ATOM)
      return -1;
    s = (const char *)h.atom.s;
    len = h.atom.len;
  }
  /* The names are ASCII: latin-1 and UTF-8 encodings have equal bytes. */
  for (size_t i = 0; i < n; i++)
    if (strlen(set[i]) == len && memcmp(set[i], s, len) == 0)
      return (int)i;
  return -1;
}

int pga__is_nil(const pga_term_t *t) {
  static const char *const nil[] = {"nil"};
  return pga__atom_index(t, nil, 1) == 0;
}

int pga__is_truthy(const pga_term_t *t) {
  static const char *const falsy[] = {"nil", "false"};
  return pga__atom_index(t, falsy, 2) < 0;
}

int pga__is_binary(const pga_term_t *t) {
  const char *d;
  size_t n;
  return pga__peek_binary(t, &d, &n) || pga_term_type(t) == PGA_T_BINARY;
}

int pga__is_nonempty_binary(const pga_term_t *t) {
  const char *d;
  size_t n;
  if (pga__peek_binary(t, &d, &n)) return n > 0;
  return pga_term_get_binary(t, &d, &n) == 0 && n > 0;
}

int pga__is_list(const pga_term_t *t) {
  if (t->len > 0) {
    unsigned char tag = (unsigned char)t->buf[0];
    if (tag == PGA__TAG_NIL || tag == PGA__TAG_LIST || tag == PGA__TAG_STRING)
      return 1;
  }
  pga_term_type_t ty = pga_term_type(t);
  return ty == PGA_T_LIST || ty == PGA_T_NIL;
}

int pga__proper_list(const pga_term_t *t, size_t *n) {
  pga_term_iter_t it;
  pga_term_t el, tail;
  size_t k = 0;
  if (!pga__is_list(t) || pga_term_iter_init(&it, t) != 0) return 0;
  while (pga_term_iter_next(&it, &el)) k++;
  pga_term_iter_tail(&it, &tail);
  if (pga_term_type(&tail) != PGA_T_NIL) return 0;
  if (n) *n = k;
  return 1;
}

int pga__is_number(const pga_term_t *t) {
  pga_term_type_t ty = pga_term_type(t);
  return ty == PGA_T_INTEGER || ty == PGA_T_BIGINT || ty == PGA_T_FLOAT;
}

int pga__number_positive(const pga_term_t *t) {
  pga__head_t h;
  if (pga__term_head(t->buf, t->len, &h) != 0) return 0;
  switch (h.type) {
  case PGA_T_INTEGER:
    return h.i > 0;
  case PGA_T_BIGINT:
    return !h.neg;
  case PGA_T_FLOAT:
    return h.d > 0;
  default:
    return 0;
  }
}

int pga__tuple_of(const pga_term_t *t, size_t arity, pga_term_t *el) {
  size_t a, pos;
  if (pga__peek_tuple(t, &a, &pos)) {
    if (a != arity) return 0;
    /* the elements one after the other, each stepped over once */
    for (size_t i = 0; el && i < arity; i++) {
      size_t used;
      if (pos > t->len || pga__term_skip(t->buf + pos, t->len - pos, &used))
        return 0;
      el[i].buf = t->buf + pos;
      el[i].len = used;
      pos += used;
    }
    return 1;
  }
  if (pga_term_tuple_arity(t, &a) != 0 || a != arity) return 0;
  for (size_t i = 0; el && i < arity; i++)
    if (pga_term_tuple_get(t, i, &el[i]) != 0) return 0;
  return 1;
}

int pga__binary_is(const pga_term_t *t, const char *s) {
  const char *d;
  size_t n;
  if (!pga__peek_binary(t, &d, &n) && pga_term_get_binary(t, &d, &n) != 0)
    return 0;
  return n == strlen(s) && memcmp(d, s, n) == 0;
}

int pga__list_has(const pga_term_t *list, const pga_term_t *t) {
  pga_term_iter_t it;
  pga_term_t el;
  if (pga_term_iter_init(&it, list) != 0) return 0;
  while (pga_term_iter_next(&it, &el))
    if (pga_term_equal(&el, t)) return 1;
  return 0;
}
