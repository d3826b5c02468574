/* The public term API: read and build Erlang terms without raw ei buffers.
 *
 * Reading works on views: a pga_term_t points at one encoded term (its first
 * tag byte, no version byte) inside a buffer that the caller keeps alive.
 * Every reader checks bounds against the view's length, so a view made by
 * pga_term_view() over untrusted bytes is safe to walk.
 *
 * Building goes through a pga_tb_t, a growable buffer with a size cap. An
 * error is sticky: after the first failure every later call is a no-op and
 * pga_tb_error() reports the first error, so a builder can be filled without
 * checking each call. */
#ifndef PGA_TERM_H
#define PGA_TERM_H

#include <stddef.h>
#include <stdint.h>

#include "pga/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One encoded term: buf[0] is its tag byte, len its full encoded size. */
typedef struct pga_term_s {
  const char *buf;
  size_t len;
} pga_term_t;

/* Append only. */
typedef enum {
  PGA_T_INVALID = 0,
  PGA_T_INTEGER,   /* fits int64_t */
  PGA_T_BIGINT,    /* does not fit int64_t */
  PGA_T_FLOAT,
  PGA_T_ATOM,
  PGA_T_BINARY,
  PGA_T_BITSTRING, /* binary whose bit size is not a multiple of 8 */
  PGA_T_TUPLE,
  PGA_T_NIL,       /* [] */
  PGA_T_LIST,      /* non-empty list, proper or improper, incl. STRING_EXT */
  PGA_T_MAP,
  PGA_T_PID,
  PGA_T_PORT,
  PGA_T_REF,
  PGA_T_FUN
} pga_term_type_t;

/* Longest atom in bytes (255 UTF-8 characters) plus the NUL. */
#define PGA_ATOM_BUF 1021

/* Makes a view of the first term in buf[0..len), which starts with a tag
 * byte (no version byte). Checks the whole term, nested terms included,
 * against len and against a nesting depth of PGA_TERM_MAX_DEPTH.
 * Returns 0, or PGA_EBADTERM / PGA_ETOOBIG with *out untouched. */
#define PGA_TERM_MAX_DEPTH 10000
PGA_EXTERN int pga_term_view(const char *buf, size_t len, pga_term_t *out)
    PGA_WARN_UNUSED;

/* As pga_term_view, but buf starts with the version byte 131. */
PGA_EXTERN int pga_term_view_versioned(const char *buf, size_t len,
                                       pga_term_t *out) PGA_WARN_UNUSED;

/* Type of a term; PGA_T_INVALID for an unknown tag. Can't fail otherwise. */
PGA_EXTERN pga_term_type_t pga_term_type(const pga_term_t *t);

/* Scalars. Each returns 0 or PGA_ETYPE (other type) / PGA_ERANGE. */
PGA_EXTERN int pga_term_get_int64(const pga_term_t *t, int64_t *out);
PGA_EXTERN int pga_term_get_double(const pga_term_t *t, double *out);
/* Copies the atom as UTF-8 with a NUL; out must hold PGA_ATOM_BUF bytes
 * unless the atom is known to be shorter (PGA_ETOOBIG if it does not fit). */
PGA_EXTERN int pga_term_get_atom(const pga_term_t *t, char *out,
                                 size_t outlen);
/* 1 if t is the atom name, else 0. */
PGA_EXTERN int pga_term_is_atom(const pga_term_t *t, const char *name);
/* A view of a binary's bytes inside t's buffer (no copy). */
PGA_EXTERN int pga_term_get_binary(const pga_term_t *t, const char **data,
                                   size_t *len);

/* Tuples. */
PGA_EXTERN int pga_term_tuple_arity(const pga_term_t *t, size_t *arity);
/* Element i (0-based). PGA_ERANGE when i >= arity. O(i). */
PGA_EXTERN int pga_term_tuple_get(const pga_term_t *t, size_t i,
                                  pga_term_t *out);

/* Lists, proper or improper, LIST_EXT, STRING_EXT or NIL_EXT.
 * An iterator yields the elements in order; for STRING_EXT each element is
 * a small integer term held in the iterator itself (valid until the next
 * call). After the last element, pga_term_iter_tail() gives the tail
 * ([] for a proper list). */
typedef struct pga_term_iter_s {
  pga_term_t list;
  size_t pos;       /* byte offset of the next element */
  size_t left;      /* elements left */
  int is_string;
  char scratch[2];  /* unused (kept for the ABI) */
  void *reserved[2];
} pga_term_iter_t;

PGA_EXTERN int pga_term_iter_init(pga_term_iter_t *it, const pga_term_t *t);
/* Returns 1 and fills *out, or 0 at the end. The element view stays valid
 * as long as the list's buffer (STRING_EXT elements included). */
PGA_EXTERN int pga_term_iter_next(pga_term_iter_t *it, pga_term_t *out);
PGA_EXTERN void pga_term_iter_tail(const pga_term_iter_t *it, pga_term_t *out);
/* Element count of a list (improper tail not counted); PGA_ETYPE if t is not
 * a list. */
PGA_EXTERN int pga_term_list_length(const pga_term_t *t, size_t *len);

/* Maps. Lookup is O(n) in the map size. Returns 0, PGA_ENOTFOUND or
 * PGA_ETYPE. */
PGA_EXTERN int pga_term_map_size(const pga_term_t *t, size_t *size);
PGA_EXTERN int pga_term_map_get(const pga_term_t *map, const pga_term_t *key,
                                pga_term_t *value);
PGA_EXTERN int pga_term_map_get_atom(const pga_term_t *map, const char *key,
                                     pga_term_t *value);
PGA_EXTERN int pga_term_map_get_binary(const pga_term_t *map, const char *key,
                                       pga_term_t *value);
/* Pair i (0-based) of a map, in wire order. */
PGA_EXTERN int pga_term_map_pair(const pga_term_t *map, size_t i,
                                 pga_term_t *key, pga_term_t *value);

/* 1 if a and b are the same term by encoding, normalising the encodings
 * that carry one value in several forms (atom tags, STRING_EXT vs LIST_EXT
 * of small ints, integer widths). Map key order matters (as encoded). */
PGA_EXTERN int pga_term_equal(const pga_term_t *a, const pga_term_t *b);

/* Writes Erlang syntax for t into out (truncated, always NUL-terminated).
 * Returns the length it would have written, as snprintf does. */
PGA_EXTERN size_t pga_term_format(const pga_term_t *t, char *out,
                                  size_t outlen);

/* ---- Building ---- */

typedef struct pga_tb_s pga_tb_t;

/* A builder capped at cap bytes (0 = PGA_TB_DEFAULT_CAP). NULL on ENOMEM.
 * The encoding has no version byte; pga_tb_data() gives a pga_term_t. */
#define PGA_TB_DEFAULT_CAP (64u * 1024u * 1024u)
PGA_EXTERN pga_tb_t *pga_tb_new(size_t cap);
PGA_EXTERN void pga_tb_free(pga_tb_t *tb);
/* Forgets the content (and the error) and keeps the memory. */
PGA_EXTERN void pga_tb_reset(pga_tb_t *tb);
/* 0, or the first error (PGA_ENOMEM, PGA_ETOOBIG, PGA_EINVAL). */
PGA_EXTERN int pga_tb_error(const pga_tb_t *tb);
/* The bytes built so far, as one view (valid until the next write). */
PGA_EXTERN pga_term_t pga_tb_data(const pga_tb_t *tb);

PGA_EXTERN void pga_tb_atom(pga_tb_t *tb, const char *utf8);
PGA_EXTERN void pga_tb_atom_len(pga_tb_t *tb, const char *utf8, size_t len);
PGA_EXTERN void pga_tb_bool(pga_tb_t *tb, int value);
PGA_EXTERN void pga_tb_int(pga_tb_t *tb, int64_t value);
PGA_EXTERN void pga_tb_uint(pga_tb_t *tb, uint64_t value);
PGA_EXTERN void pga_tb_double(pga_tb_t *tb, double value);
PGA_EXTERN void pga_tb_binary(pga_tb_t *tb, const void *data, size_t len);
/* A binary holding the NUL-terminated string s (an Elixir string). */
PGA_EXTERN void pga_tb_string(pga_tb_t *tb, const char *s);
/* Headers: the next `arity` / `n` / `2 * pairs` terms written are the
 * elements. A list header must be closed with pga_tb_nil() (or any tail
 * term for an improper list); pga_tb_list(tb, 0) alone writes []. */
PGA_EXTERN void pga_tb_tuple(pga_tb_t *tb, size_t arity);
PGA_EXTERN void pga_tb_list(pga_tb_t *tb, size_t n);
PGA_EXTERN void pga_tb_nil(pga_tb_t *tb);
/* The head of a list of n elements that the caller always closes with a
 * tail (pga_tb_nil() for a proper list): unlike pga_tb_list, n may be 0
 * with the tail still written, so "head, n elements, tail" is right for
 * every n (pga_tb_list(tb, 0) followed by a tail would write two terms). */
PGA_EXTERN void pga_tb_list_head(pga_tb_t *tb, size_t n);
PGA_EXTERN void pga_tb_map(pga_tb_t *tb, size_t pairs);
/* Copies an existing term verbatim. t must be one whole term: its
 * structure is checked (PGA_EINVAL for a view cut short or running on),
 * its contents are not judged again, as views from pga_term_view(), from
 * received messages and from builders hold valid terms. */
PGA_EXTERN void pga_tb_term(pga_tb_t *tb, const pga_term_t *t);

#ifdef __cplusplus
}
#endif
#endif
