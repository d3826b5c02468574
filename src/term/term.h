/* The term layer as offered to the layers above: the public term API plus
 * bounds-checked validation, in-place builders and pid/ref helpers. */
#ifndef PGA_TERM_TERM_H
#define PGA_TERM_TERM_H

#include <ei.h>
#include <stddef.h>
#include <stdint.h>

#include "pga/term.h"

#define PGA_VERSION_MAGIC 131

/* The builder; embeddable (pga__tb_init/pga__tb_destroy) so hot paths need
 * no allocation of their own. */
struct pga_tb_s {
  ei_x_buff x;   /* x.index = bytes written */
  size_t cap;
  int err;       /* first error, sticky */
};

/* Checks the term at buf[0..len) (first byte is a tag, no version byte):
 * every length, nested term and the depth limit. On success *used is the
 * term's size. 0, PGA_EBADTERM, PGA_ETOOBIG for a well-formed term past a
 * limit (PGA_TERM_MAX_DEPTH, PGA__TERM_MAX_BIG), or PGA_ENOMEM when a term
 * nested deeper than PGA__STACK_INLINE levels finds no memory for its
 * stack. Never reads outside buf[0..len). Iterative: C stack use does not
 * grow with the term. */
int pga__term_check(const char *buf, size_t len, size_t *used)
    __attribute__((warn_unused_result));

/* The size of the term at buf[0..len) from its structure alone: lengths
 * and element counts, bounds-checked, contents (atom text, float values,
 * depth) not judged. For stepping over terms already checked by
 * pga__term_check; on other bytes it never reads outside buf[0..len).
 * 0 or PGA_EBADTERM. (term_skip.c) */
int pga__term_skip(const char *buf, size_t len, size_t *used)
    __attribute__((warn_unused_result));

/* Builders on caller memory. init cannot fail (allocation is lazy). */
void pga__tb_init(pga_tb_t *tb, size_t cap);
void pga__tb_destroy(pga_tb_t *tb);
/* Empties a builder for reuse by a recycled object: a buffer of up to
 * PGA__TB_KEEP_MAX bytes is kept (no allocation next time), a bigger one
 * freed. The cap stays. */
#define PGA__TB_KEEP_MAX 4096
void pga__tb_recycle(pga_tb_t *tb);
/* Writes an atom whose text the program itself holds (valid UTF-8 the
 * caller vouches for), without checking it: the fixed atoms of replies
 * (struct names and keys, true, nil...) cost a strlen and a check each
 * time otherwise. pga__tb_atom_lit takes a string literal. */
void pga__tb_atom_trusted(pga_tb_t *tb, const char *utf8, size_t len);
#define pga__tb_atom_lit(tb, lit) pga__tb_atom_trusted(tb, "" lit, sizeof(lit) - 1)

/* Writes the version byte 131 (for terms that go on the wire). */
void pga__tb_version(pga_tb_t *tb);
/* Appends raw bytes (an already-encoded term or a part of one). */
void pga__tb_raw(pga_tb_t *tb, const void *data, size_t len);
void pga__tb_pid(pga_tb_t *tb, const erlang_pid *pid);
void pga__tb_ref(pga_tb_t *tb, const erlang_ref *ref);
/* Copies a list term, writing STRING_EXT as LIST_EXT of small integers
 * (argument lists must reach handlers and stack frames as LIST_EXT;
 * distribution.md §7). Only the top level is rewritten. Sets PGA_ETYPE as
 * the builder's error when t is not a list. */
void pga__tb_list_normalized(pga_tb_t *tb, const pga_term_t *t);

/* Pid and reference decoding from a view (any of PID_EXT / NEW_PID_EXT,
 * REFERENCE_EXT / NEW_REFERENCE_EXT / NEWER_REFERENCE_EXT).
 * 0 or PGA_ETYPE / PGA_EBADTERM. */
int pga__term_get_pid(const pga_term_t *t, erlang_pid *out);
int pga__term_get_ref(const pga_term_t *t, erlang_ref *out);


/* ---- Shared by the src/term files; usable above for zero-copy decoding. */

/* Largest bignum accepted, in digit bytes (2^524288). Bigger is PGA_ETOOBIG:
 * no gateway value needs more, and the cap bounds the work of printing. */
#define PGA__TERM_MAX_BIG 65536

/* An atom's text inside a term: not NUL-terminated, possibly holding NULs. */
typedef struct pga__atom_s {
  const unsigned char *s;
  size_t len;
  int latin1; /* ATOM_EXT / SMALL_ATOM_EXT: one byte per character */
} pga__atom_t;

/* One term's tag and fixed part, decoded and validated; nested terms (tuple
 * and list elements, map pairs, fun free variables, a list's tail) follow
 * the fixed part and are not looked at. Pointers point into the input. */
typedef struct pga__head_s {
  unsigned char tag;
  pga_term_type_t type;
  size_t size;        /* bytes of the fixed part: the whole term for scalars */
  uint64_t n;         /* nested terms that follow: tuple arity, list
                         elements, 2 * map pairs, fun free variables */
  int tail;           /* LIST_EXT: one more term, the tail, follows the n */
  size_t total;       /* NEW_FUN_EXT: the whole term's size (Size + 1) */
  int64_t i;          /* PGA_T_INTEGER value; EXPORT/NEW_FUN arity */
  double d;           /* PGA_T_FLOAT value */
  const unsigned char *data; /* binary, bitstring or STRING_EXT bytes;
                                bignum digits (little-endian, as sent);
                                NEW_FUN_EXT Uniq (16 bytes) */
  size_t dlen;
  unsigned bits;      /* bits used in a binary's last byte, 1..8 */
  int neg;            /* bignum sign */
  pga__atom_t atom;   /* the atom; node of a pid/port/ref; fun module */
  /* From here on, set (or zeroed) only for pids, ports, references, funs
   * and exports (pga__term_head). */
  pga__atom_t name;   /* EXPORT_EXT function name */
  uint64_t id;        /* pid/port id; NEW_FUN_EXT Index */
  uint32_t serial;    /* pid serial */
  uint32_t creation;  /* pid/port/ref creation */
  uint32_t words[5];  /* reference id words, as sent (least significant
                         first) */
  unsigned nwords;
  int64_t old_index;  /* NEW_FUN_EXT OldIndex, FUN_EXT Index */
  int64_t old_uniq;   /* NEW_FUN_EXT OldUniq, FUN_EXT Uniq */
  struct {
    pga__atom_t node;
    uint32_t id, serial, creation;
  } pid;              /* NEW_FUN_EXT / FUN_EXT creator pid */
} pga__head_t;

/* The pairs of a map term in wire order, each key and value a view.
 * init: 0, PGA_EINVAL or PGA_ETYPE (not a map). next: 1 with a pair, 0
 * after the last or at a malformed pair (then bad is 1). */
typedef struct pga__map_iter_s {
  pga_term_t map;
  size_t pos;
  uint64_t left;
  int bad;
} pga__map_iter_t;

int pga__map_iter_init(pga__map_iter_t *it, const pga_term_t *map);
int pga__map_iter_next(pga__map_iter_t *it, pga_term_t *key,
                       pga_term_t *value);

/* Decodes the head of the term at buf[0..len). Checks every byte it reads
 * against len, so it is safe on unchecked input. 0, PGA_EBADTERM or
 * PGA_ETOOBIG (bignum over PGA__TERM_MAX_BIG). */
int pga__term_head(const char *buf, size_t len, pga__head_t *h)
    __attribute__((warn_unused_result));

/* Decodes one UTF-8 character at s[*pos] (*pos < len) and advances *pos.
 * Returns the code point, or -1 for an invalid, overlong or surrogate
 * sequence, leaving *pos alone. */
int32_t pga__utf8_next(const unsigned char *s, size_t len, size_t *pos);

/* 0 if s[0..len) is valid UTF-8 of at most 255 characters (an atom's
 * limit), else PGA_EINVAL. */
int pga__atom_utf8_check(const unsigned char *s, size_t len);

/* 1 if two atoms have the same text, whatever their encodings. */
int pga__atom_equal(const pga__atom_t *a, const pga__atom_t *b);

/* The explicit stack of the iterative walkers (checker, printer,
 * equality): one frame per open container. The first PGA__STACK_INLINE
 * frames live in the struct, on the caller's C stack; deeper terms move to
 * the heap, so a walk costs under 2 KiB of C stack whatever
 * PGA_TERM_MAX_DEPTH is, and no allocation for ordinary terms. */
#define PGA__STACK_INLINE 64

typedef struct pga__frame_s {
  uint64_t left;       /* nested terms still to read at this level */
  size_t end;          /* where a NEW_FUN_EXT's free variables end, or 0 */
  unsigned char kind;  /* walker-specific */
  unsigned char first;
  unsigned char flag;
} pga__frame_t;

typedef struct pga__stack_s {
  pga__frame_t *f;     /* inline_ until the first growth; do not copy */
  size_t cap;
  pga__frame_t inline_[PGA__STACK_INLINE];
} pga__stack_t;

/* How deep a whole distribution packet may nest: PGA_TERM_MAX_DEPTH (D9)
 * counts on the values a peer sends (a call's arguments, a message), and
 * the envelopes around them (erpc's [Ref, M, F, [Arg]], rex's gen_server
 * call) add a few levels. Callers check the values themselves with
 * pga__term_check. */
#define PGA__TERM_WIRE_DEPTH (PGA_TERM_MAX_DEPTH + 16)

/* pga__term_check with another depth limit (<= PGA__TERM_WIRE_DEPTH). */
int pga__term_check_depth(const char *buf, size_t len, size_t max_depth,
                          size_t *used);

void pga__stack_init(pga__stack_t *s);
/* Frame i (i <= PGA__TERM_WIRE_DEPTH), growing the stack as needed; NULL if
 * memory runs out. Frames below i keep their contents. */
pga__frame_t *pga__stack_at(pga__stack_t *s, size_t i);
void pga__stack_free(pga__stack_t *s);

/* ---- Term order (order.c): Elixir map iteration and sorting as the BEAM does ---- */

/* Erlang term order (number < atom < reference < fun < port < pid < tuple
 * < map < [] < list < bitstring); an integer sorts before an equal float.
 * Exact for numbers, atoms, binaries, lists and tuples; maps compare by
 * size then wire order, pids/ports/refs/funs by their fields (docs/
 * compat.md R4). Terms nested deeper than 64 levels compare by encoding.
 * Returns <0, 0, >0. */
int pga__term_compare(const pga_term_t *a, const pga_term_t *b);

typedef struct pga__term_pair_s {
  pga_term_t key;
  pga_term_t value;
} pga__term_pair_t;

/* The pairs of a map in the library's iteration order: ascending key
 * order for up to 32 pairs (a flatmap), wire order beyond (the sender's
 * HAMT order when the sender is a BEAM). *pairs is malloc'ed (free it;
 * NULL for an empty map). 0, PGA_ETYPE, PGA_EBADTERM or PGA_ENOMEM. */
int pga__term_map_pairs(const pga_term_t *map, pga__term_pair_t **pairs,
                      size_t *n);

/* Sorts views ascending by pga__term_compare (stable). */
void pga__term_sort(pga_term_t *v, size_t n);

/* ---- UTF-8 (utf8.c) ---- */

/* Writes code point cp (at most 0x10FFFF; the caller checks) as UTF-8 into
 * out and returns the byte count, 1 to 4. */
size_t pga__utf8_encode(uint32_t cp, char out[4]);

#endif
