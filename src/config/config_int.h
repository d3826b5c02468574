/* Folder-private helpers of the config plane: owned term copies, struct
 * records (FunConfig, PushConfig, ServiceConfig share one shape), map walks
 * and term predicates. Not for layers above; they use config.h. */
#ifndef PGA_CONFIG_CONFIG_INT_H
#define PGA_CONFIG_CONFIG_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/dict.h"
#include "pga/term.h"

/* ---- owned term copies (cterm.c) ---- */

/* An owned copy of one encoded term; buf NULL means "not set". */
typedef struct pga__cterm_s {
  char *buf;
  size_t len;
} pga__cterm_t;

/* Replaces c with a copy of t. 0 or PGA_ENOMEM (c unchanged). */
int pga__cterm_set(pga__cterm_t *c, const pga_term_t *t);
void pga__cterm_clear(pga__cterm_t *c);
static inline pga_term_t pga__cterm_view(const pga__cterm_t *c) {
  pga_term_t t = {c->buf, c->len};
  return t;
}

/* Static encodings of common atoms, for defaults and comparisons. */
extern const pga_term_t pga__t_nil;
extern const pga_term_t pga__t_false;
extern const pga_term_t pga__t_true;
extern const pga_term_t pga__t_empty_list;

/* Hash consistent with pga_term_equal for the terms used as keys (atoms
 * in any encoding, binaries, integers); other types hash by type only,
 * which is correct (equality decides) if slower. Can't fail. */
uint64_t pga__term_hash(const pga_term_t *t);

/* Dicts keyed by owned pga__cterm_t * (exact terms): use these three as
 * the type's hash, equal and key_free. */
uint64_t pga__term_key_hash(const void *k);
int pga__term_key_equal(const void *a, const void *b);
void pga__term_key_free(void *k);
#define PGA__TERM_DICT_TYPE(val_free) \
  {pga__term_key_hash, pga__term_key_equal, pga__term_key_free, (val_free)}
/* Looks up a view without copying it. */
void *pga__term_dict_get(pga_dict_t *d, const pga_term_t *key);
/* Adds or replaces key -> val (the old entry goes through the type's
 * destructors first). 0 or PGA_ENOMEM (val not taken; an old entry under
 * key may then be gone). */
int pga__term_dict_put(pga_dict_t *d, const pga_term_t *key, void *val);
/* 0 or PGA_ENOTFOUND. */
int pga__term_dict_delete(pga_dict_t *d, const pga_term_t *key);

/* ---- map walking: pga__map_iter_t in term/term.h ---- */

/* ---- tag-level reads of checked terms ----
 * Every view the plane reads passed pga__term_check (RPC arguments, the
 * plane's own copies and builders), so the common tags can be read in
 * place; each returns 0 for any other tag and the caller falls back to
 * the term API. Bounds are still checked. */
enum {
  PGA__TAG_SMALL_INT = 97, PGA__TAG_INT = 98, PGA__TAG_ATOM = 100,
  PGA__TAG_SMALL_TUPLE = 104, PGA__TAG_LARGE_TUPLE = 105, PGA__TAG_NIL = 106,
  PGA__TAG_STRING = 107, PGA__TAG_LIST = 108, PGA__TAG_BINARY = 109,
  PGA__TAG_SMALL_ATOM = 115, PGA__TAG_ATOM_UTF8 = 118,
  PGA__TAG_SMALL_ATOM_UTF8 = 119
};

static inline unsigned pga__peek_u16(const char *p) {
  return (unsigned)(unsigned char)p[0] << 8 | (unsigned char)p[1];
}

static inline uint32_t pga__peek_u32(const char *p) {
  return (uint32_t)(unsigned char)p[0] << 24 |
         (uint32_t)(unsigned char)p[1] << 16 |
         (uint32_t)(unsigned char)p[2] << 8 | (unsigned char)p[3];
}

/* An atom's text bytes; *utf8 tells the encoding (ASCII reads alike). */
static inline int pga__peek_atom(const pga_term_t *t, const char **s,
                                 size_t *n, int *utf8) {
  if (t->len < 2) return 0;
  switch ((unsigned char)t->buf[0]) {
  case PGA__TAG_SMALL_ATOM_UTF8:
  case PGA__TAG_SMALL_ATOM:
    *n = (unsigned char)t->buf[1];
    *s = t->buf + 2;
    break;
  case PGA__TAG_ATOM_UTF8:
  case PGA__TAG_ATOM:
    if (t->len < 3) return 0;
    *n = pga__peek_u16(t->buf + 1);
    *s = t->buf + 3;
    break;
  default:
    return 0;
  }
  *utf8 = (unsigned char)t->buf[0] >= PGA__TAG_ATOM_UTF8;
  return (size_t)(*s - t->buf) + *n <= t->len;
}

/* 1 if t is an atom whose text is the ASCII name. */
static inline int pga__peek_atom_is(const pga_term_t *t, const char *name,
                                    size_t name_len) {
  const char *s;
  size_t n;
  int utf8;
  return pga__peek_atom(t, &s, &n, &utf8) && n == name_len &&
         memcmp(s, name, n) == 0;
}

/* A BINARY_EXT's bytes. */
static inline int pga__peek_binary(const pga_term_t *t, const char **s,
                                   size_t *n) {
  if (t->len < 5 || (unsigned char)t->buf[0] != PGA__TAG_BINARY) return 0;
  *n = pga__peek_u32(t->buf + 1);
  *s = t->buf + 5;
  return 5 + *n <= t->len;
}

/* A tuple's arity and where its first element starts. */
static inline int pga__peek_tuple(const pga_term_t *t, size_t *arity,
                                  size_t *first) {
  if (t->len >= 2 && (unsigned char)t->buf[0] == PGA__TAG_SMALL_TUPLE) {
    *arity = (unsigned char)t->buf[1];
    *first = 2;
    return 1;
  }
  if (t->len >= 5 && (unsigned char)t->buf[0] == PGA__TAG_LARGE_TUPLE) {
    *arity = pga__peek_u32(t->buf + 1);
    *first = 5;
    return 1;
  }
  return 0;
}

/* ---- predicates ---- */
/* pga_term_equal with a byte comparison first (the usual equal case). */
int pga__term_same(const pga_term_t *a, const pga_term_t *b);
/* The index in set (ASCII atom names) of the atom t, or -1 (t is not an
 * atom, or another one). One decode of t whatever n is. */
int pga__atom_index(const pga_term_t *t, const char *const *set, size_t n);
int pga__is_atom(const pga_term_t *t);
int pga__is_nil(const pga_term_t *t);
/* Truthy in Elixir: anything but nil and false. */
int pga__is_truthy(const pga_term_t *t);
int pga__is_binary(const pga_term_t *t);
int pga__is_nonempty_binary(const pga_term_t *t);
/* A list in the is_list/1 sense: [] or a cons (STRING_EXT included). */
int pga__is_list(const pga_term_t *t);
/* A proper list; *n gets its length. */
int pga__proper_list(const pga_term_t *t, size_t *n);
int pga__is_number(const pga_term_t *t);
/* > 0 for integers (bignums included) and floats. */
int pga__number_positive(const pga_term_t *t);
/* 1 if t is a tuple of that arity; elements go to el (may be NULL). */
int pga__tuple_of(const pga_term_t *t, size_t arity, pga_term_t *el);
/* 1 if the list holds a term equal to t. O(length). */
int pga__list_has(const pga_term_t *list, const pga_term_t *t);
/* 1 if t is the binary s (NUL-terminated). */
int pga__binary_is(const pga_term_t *t, const char *s);

/* ---- struct records (record.c) ---- */

/* A struct's shape: its module atom, field names in declaration order, and
 * each field's default as an encoded term. */
typedef struct pga__schema_s {
  const char *module;
  size_t nfields;
  const char *const *names;
  const pga_term_t *defaults;
} pga__schema_t;

typedef struct pga__fclist_s pga__fclist_t;

typedef struct pga__rec_s {
  const pga__schema_t *schema;
  pga__cterm_t *f; /* nfields slots; buf NULL = the default */
  /* A stored PushConfig may hold field fcl_field (fun_configs) as the
   * FunConfigs it decoded to (plane_int.h); f[fcl_field] is unset then.
   * Encoding writes the same bytes; a get materialises them again. */
  pga__fclist_t *fcl;
  size_t fcl_field;
} pga__rec_t;

/* Largest struct map accepted (pairs): a peer's struct has 9..19 keys;
 * anything far bigger is hostile. */
#define PGA__MAX_STRUCT_PAIRS 1024

pga__rec_t *pga__rec_new(const pga__schema_t *s);
pga__rec_t *pga__rec_dup(const pga__rec_t *r);
void pga__rec_free(pga__rec_t *r);
/* Field i (a view valid until the next set/free). For a field held as
 * an fclist this writes its bytes back first (the record changes; callers
 * hold the plane lock, as for every stored record). */
pga_term_t pga__rec_get(const pga__rec_t *r, size_t i);
int pga__rec_set(pga__rec_t *r, size_t i, const pga_term_t *v);
/* 1 if t is a map whose __struct__ is the schema's module. */
int pga__rec_is_struct(const pga__schema_t *s, const pga_term_t *t);
/* Decodes a struct map by atom keys. 0, PGA_ETYPE (not that struct),
 * PGA_ETOOBIG (over PGA__MAX_STRUCT_PAIRS) or PGA_ENOMEM. */
int pga__rec_decode_struct(const pga__schema_t *s, const pga_term_t *t,
                           pga__rec_t **out);
/* Decodes any map field by field: the atom key, else the binary key of
 * the same name, else the default (spec §1.7). 0, PGA_ETYPE (not a map),
 * PGA_ETOOBIG or PGA_ENOMEM. */
int pga__rec_decode_map(const pga__schema_t *s, const pga_term_t *t,
                        pga__rec_t **out);
/* A struct as is, any other map field by field (as the two above), but
 * field `field` is not copied: *view is its term inside t (the default
 * when absent), valid while t is. Large fields the caller may never keep
 * (a push's fun_configs) then cost no copy. */
int pga__rec_decode_borrowing(const pga__schema_t *s, const pga_term_t *t,
                              size_t field, pga_term_t *view,
                              pga__rec_t **out);
/* Writes every field, with __struct__ when with_struct. */
void pga__rec_encode(pga_tb_t *tb, const pga__rec_t *r, int with_struct);

#endif
