/* erlang:phash2/1,2 on encoded terms, bit-exact with OTP's make_hash2
 * (request-plane.md §8.3; erts/emulator/beam/erl_term_hashing.c).
 *
 * make_hash2 walks a term depth first and folds every part into one
 * running 32-bit hash, so it can run straight over the external format in
 * wire order: a tuple mixes its arity then its elements, a list its
 * elements then its tail. Three places need care:
 *   - runs of list elements that are integers 0..255 are packed four to a
 *     word before mixing, and a run continues across the cons cells of
 *     chained LIST_EXT / STRING_EXT encodings of one list;
 *   - a map hashes each key-value pair from 0 and XORs the pair hashes,
 *     so wire order does not matter; the running hash and XOR accumulator
 *     are saved per map level;
 *   - the hash value itself decides two cases: an atom or [] met while the
 *     running hash is 0 takes its value directly instead of being mixed.
 * The walk keeps its own stack (one frame per open container), so deep
 * terms cost heap, not C stack. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "request/request_int.h"

#define HCONST 0x9e3779b9u
#define HCONST_2 0x3c6ef372u
#define HCONST_3 0xdaa66d2bu
#define HCONST_4 0x78dde6e4u
#define HCONST_5 0x1715609du
#define HCONST_6 0xb54cda56u
#define HCONST_7 0x5384540fu
#define HCONST_9 0x8ff34781u
#define HCONST_10 0x2e2ac13au
#define HCONST_11 0xcc623af3u
#define HCONST_12 0x6a99b4acu
#define HCONST_13 0x08d12e65u
#define HCONST_14 0xa708a81eu
#define HCONST_15 0x454021d7u
#define HCONST_16 0xe3779b90u
#define HCONST_19 0xbe1e08bbu

/* [] hashed while the running hash is 0, and NIL_DEF (the tag number OTP
 * mixes for [] elsewhere; 2 in every release). */
#define NIL_FIRST 3468870702u
#define NIL_DEF 2u

#define TAG_STRING 107
#define TAG_LIST 108
#define TAG_NIL 106
#define TAG_EXPORT 113
#define TAG_NEW_FUN 112

/* Bob Jenkins' lookup2 mix. */
#define MIX(a, b, c)                \
  do {                              \
    a -= b; a -= c; a ^= (c >> 13); \
    b -= c; b -= a; b ^= (a << 8);  \
    c -= a; c -= b; c ^= (b >> 13); \
    a -= b; a -= c; a ^= (c >> 12); \
    b -= c; b -= a; b ^= (a << 16); \
    c -= a; c -= b; c ^= (b >> 5);  \
    a -= b; a -= c; a ^= (c >> 3);  \
    b -= c; b -= a; b ^= (a << 10); \
    c -= a; c -= b; c ^= (b >> 15); \
  } while (0)

/* UINT32_HASH_2 of OTP: mixes two words into the running hash *h. */
static void mix2(uint32_t *h, uint32_t x, uint32_t y, uint32_t k) {
  uint32_t a = k + x, b = k + y;

  MIX(a, b, *h);
}

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

/* lookup2 over a byte block with initval c (OTP block_hash). */
static uint32_t block_hash(const unsigned char *k, size_t len, uint32_t c) {
  uint32_t a = HCONST, b = HCONST;
  size_t left = len;

  for (; left >= 12; left -= 12, k += 12) {
    a += le32(k);
    b += le32(k + 4);
    c += le32(k + 8);
    MIX(a, b, c);
  }
  /* OTP truncates the length to 32 bits here, as we do. */
  c += (uint32_t)len;
  switch (left) { /* every case falls through */
  case 11: c += (uint32_t)k[10] << 24; /* fall through */
  case 10: c += (uint32_t)k[9] << 16; /* fall through */
  case 9: c += (uint32_t)k[8] << 8; /* fall through */
  case 8: b += (uint32_t)k[7] << 24; /* fall through */
  case 7: b += (uint32_t)k[6] << 16; /* fall through */
  case 6: b += (uint32_t)k[5] << 8; /* fall through */
  case 5: b += k[4]; /* fall through */
  case 4: a += (uint32_t)k[3] << 24; /* fall through */
  case 3: a += (uint32_t)k[2] << 16; /* fall through */
  case 2: a += (uint32_t)k[1] << 8; /* fall through */
  case 1: a += k[0]; /* fall through */
  default: break;
  }
  MIX(a, b, c);
  return c;
}

/* The atom table's hash (hashpjw over the UTF-8 name, where a two-byte
 * sequence for U+0080..U+00FF counts as its Latin-1 byte: OTP's "latin1
 * clutch" kept since R16 so old and new atoms hash alike). Only the low 32
 * bits matter and they do not depend on the word size. */
static uint32_t atom_hash(const pga__atom_t *a) {
  uint32_t h = 0, g;

  for (size_t i = 0; i < a->len; i++) {
    uint32_t v = a->s[i];

    if (!a->latin1 && i + 1 < a->len && (v & 0xFE) == 0xC2 &&
        (a->s[i + 1] & 0xC0) == 0x80) {
      v = ((v << 6) | (a->s[i + 1] & 0x3F)) & 0xFF;
      i++;
    }
    h = (h << 4) + v;
    if ((g = h & 0xF0000000u) != 0) {
      h ^= g >> 24;
      h ^= g;
    }
  }
  return h;
}

/* ---- The walk ---- */

enum { F_SEQ, F_LIST, F_MAP };

typedef struct frame_s {
  uint64_t left;       /* nested terms still to read */
  uint64_t done;       /* F_MAP: terms read (pair parity) */
  uint32_t sh;         /* F_LIST: bytes of the current run */
  uint32_t saved_hash; /* F_MAP: the hash and XOR of the enclosing level */
  uint32_t saved_xor;
  uint8_t c;           /* F_LIST: bytes in sh */
  uint8_t kind;
} frame_t;

#define INLINE_FRAMES 64

typedef struct walk_s {
  const unsigned char *buf;
  size_t len;
  size_t pos;
  uint32_t hash;
  uint32_t xor_pairs;
  frame_t *st;
  size_t top;
  size_t cap;
  frame_t inline_[INLINE_FRAMES];
} walk_t;

static int push(walk_t *w, uint8_t kind, uint64_t left) {
  frame_t *f;

  if (w->top + 1 == w->cap) {
    size_t ncap = w->cap * 2;
    frame_t *n = w->st == w->inline_ ? malloc(ncap * sizeof *n)
                                     : realloc(w->st, ncap * sizeof *n);

    if (n == NULL)
      return PGA_ENOMEM;
    if (w->st == w->inline_)
      memcpy(n, w->inline_, sizeof w->inline_);
    w->st = n;
    w->cap = ncap;
  }
  f = &w->st[++w->top];
  memset(f, 0, sizeof *f);
  f->kind = kind;
  f->left = left;
  return 0;
}

/* A term finished inside frame f: a map closes a pair every second one. */
static void child_done(walk_t *w, frame_t *f) {
  if (f->kind == F_MAP && ++f->done % 2 == 0) {
    w->xor_pairs ^= w->hash;
    w->hash = 0;
  }
}

static void hash_nil(walk_t *w) {
  if (w->hash == 0)
    w->hash = NIL_FIRST;
  else
    mix2(&w->hash, NIL_DEF, 0, HCONST_2);
}

/* One list element that is a byte, into the current run. */
static void run_byte(walk_t *w, frame_t *f, uint32_t byte) {
  f->sh = (f->sh << 8) + byte;
  if (f->c == 3) {
    mix2(&w->hash, f->sh, 0, HCONST_4);
    f->c = 0;
    f->sh = 0;
  } else {
    f->c++;
  }
}

static void run_flush(walk_t *w, frame_t *f) {
  if (f->c > 0)
    mix2(&w->hash, f->sh, 0, HCONST_4);
  f->c = 0;
  f->sh = 0;
}

static int is_byte(const pga__head_t *h) {
  return h->type == PGA_T_INTEGER && h->i >= 0 && h->i <= 255;
}

static void hash_int64(walk_t *w, int64_t v) {
  if (v >= -(INT64_C(1) << 27) && v < (INT64_C(1) << 27)) {
    /* SINT32_HASH: negative numbers are mixed twice, as OTP does. */
    if (v < 0)
      mix2(&w->hash, (uint32_t)-v, 0, HCONST);
    mix2(&w->hash, (uint32_t)v, 0, HCONST);
  } else {
    uint64_t m = v < 0 ? (uint64_t)-(v + 1) + 1 : (uint64_t)v;

    mix2(&w->hash, (uint32_t)m, (uint32_t)(m >> 32),
         v < 0 ? HCONST_10 : HCONST_11);
  }
}

/* Bignums: the magnitude in 64-bit little-endian limbs, high zero bytes
 * ignored (BEAM keeps bignums normalised). */
static void hash_big(walk_t *w, const pga__head_t *h) {
  size_t n = h->dlen;
  uint32_t k = h->neg ? HCONST_10 : HCONST_11;

  while (n > 0 && h->data[n - 1] == 0)
    n--;
  for (size_t i = 0; i < n || i == 0; i += 8) {
    uint32_t x = 0, y = 0;

    for (size_t j = 0; j < 8 && i + j < n; j++) {
      if (j < 4)
        x |= (uint32_t)h->data[i + j] << (8 * j);
      else
        y |= (uint32_t)h->data[i + j] << (8 * (j - 4));
    }
    mix2(&w->hash, x, y, k);
  }
}

static void hash_float(walk_t *w, double d) {
  uint64_t bits;

  if (d == 0.0)
    d = 0.0; /* -0.0 hashes as 0.0 */
  memcpy(&bits, &d, sizeof bits);
  mix2(&w->hash, (uint32_t)(bits >> 32), (uint32_t)bits, HCONST_12);
}

static void hash_bytes(walk_t *w, const pga__head_t *h) {
  uint32_t con = HCONST_13 + w->hash;
  size_t whole = h->dlen;
  unsigned bits = 0;

  if (h->type == PGA_T_BITSTRING && h->bits < 8) {
    whole = h->dlen - 1;
    bits = h->bits;
  }
  if (whole == 0 && bits == 0) {
    w->hash = con;
    return;
  }
  w->hash = block_hash(h->data, whole, con);
  if (bits > 0)
    mix2(&w->hash, bits, (uint32_t)h->data[whole] >> (8 - bits), HCONST_15);
}

static void hash_atom(walk_t *w, const pga__atom_t *a) {
  uint32_t v = atom_hash(a);

  if (w->hash == 0)
    w->hash = v;
  else
    mix2(&w->hash, v, 0, HCONST_3);
}

/* A STRING_EXT's bytes as a run of the list in frame f. */
static void string_run(walk_t *w, frame_t *f, const pga__head_t *h) {
  for (size_t i = 0; i < h->dlen; i++)
    run_byte(w, f, h->data[i]);
}

static int hash_fun(walk_t *w, const pga__head_t *h) {
  if (h->tag == TAG_EXPORT) {
    mix2(&w->hash, (uint32_t)h->i, atom_hash(&h->atom), HCONST);
    mix2(&w->hash, atom_hash(&h->name), 0, HCONST_14);
    return 0;
  }
  if (h->tag != TAG_NEW_FUN)
    return PGA_ETYPE; /* FUN_EXT: no OTP that pga talks to sends it */
  mix2(&w->hash, (uint32_t)h->n, atom_hash(&h->atom), HCONST);
  mix2(&w->hash, (uint32_t)h->id, (uint32_t)h->old_uniq, HCONST);
  return 0;
}

/* Hashes the term whose head is h (already at w->pos), inside frame f.
 * Containers push a frame; everything else is finished here. */
static int hash_term(walk_t *w, const pga__head_t *h) {
  frame_t *f = &w->st[w->top];
  frame_t tmp;
  int rc;

  w->pos += h->size;
  switch (h->type) {
  case PGA_T_INTEGER: hash_int64(w, h->i); break;
  case PGA_T_BIGINT: hash_big(w, h); break;
  case PGA_T_FLOAT: hash_float(w, h->d); break;
  case PGA_T_ATOM: hash_atom(w, &h->atom); break;
  case PGA_T_BINARY:
  case PGA_T_BITSTRING: hash_bytes(w, h); break;
  case PGA_T_NIL: hash_nil(w); break;
  case PGA_T_PID: mix2(&w->hash, (uint32_t)h->id, 0, HCONST_5); break;
  case PGA_T_PORT:
    mix2(&w->hash, (uint32_t)h->id, (uint32_t)(h->id >> 32), HCONST_6);
    break;
  case PGA_T_REF:
    mix2(&w->hash, h->nwords > 0 ? h->words[0] : 0, 0, HCONST_7);
    break;
  case PGA_T_TUPLE:
    mix2(&w->hash, (uint32_t)h->n, 0, HCONST_9);
    if (h->n > 0)
      return push(w, F_SEQ, h->n);
    break;
  case PGA_T_MAP:
    mix2(&w->hash, (uint32_t)(h->n / 2), 0, HCONST_16);
    if (h->n == 0)
      break;
    if ((rc = push(w, F_MAP, h->n)) != 0)
      return rc;
    w->st[w->top].saved_hash = w->hash;
    w->st[w->top].saved_xor = w->xor_pairs;
    w->hash = 0;
    w->xor_pairs = 0;
    return 0;
  case PGA_T_LIST:
    if (h->tag == TAG_STRING) {
      memset(&tmp, 0, sizeof tmp);
      string_run(w, &tmp, h);
      run_flush(w, &tmp);
      hash_nil(w);
      break;
    }
    return push(w, F_LIST, h->n);
  case PGA_T_FUN:
    if ((rc = hash_fun(w, h)) != 0)
      return rc;
    if (h->n > 0)
      return push(w, F_SEQ, h->n);
    break;
  default:
    return PGA_EBADTERM;
  }
  child_done(w, f);
  return 0;
}

static int head_at(walk_t *w, pga__head_t *h) {
  if (w->pos >= w->len)
    return PGA_EBADTERM;
  return pga__term_head((const char *)w->buf + w->pos, w->len - w->pos, h);
}

/* A list chunk ran out of elements: its tail continues the list, ends it,
 * or (improper list) is hashed as one more term. */
static int list_tail(walk_t *w, frame_t *f) {
  pga__head_t h;
  int rc;

  if ((rc = head_at(w, &h)) != 0)
    return rc;
  if (h.tag == TAG_LIST) {
    w->pos += h.size;
    f->left = h.n;
    return 0;
  }
  if (h.tag == TAG_STRING || h.tag == TAG_NIL) {
    w->pos += h.size;
    if (h.tag == TAG_STRING)
      string_run(w, f, &h);
    run_flush(w, f);
    hash_nil(w);
    w->top--;
    child_done(w, &w->st[w->top]);
    return 0;
  }
  run_flush(w, f);
  f->kind = F_SEQ;
  f->left = 1;
  return 0;
}

static int list_element(walk_t *w, frame_t *f) {
  pga__head_t h;
  int rc;

  if ((rc = head_at(w, &h)) != 0)
    return rc;
  f->left--;
  if (is_byte(&h)) {
    w->pos += h.size;
    run_byte(w, f, (uint32_t)h.i);
    return 0;
  }
  run_flush(w, f);
  return hash_term(w, &h);
}

/* A frame with nothing left to read closes. */
static void close_frame(walk_t *w, frame_t *f) {
  if (f->kind == F_MAP) {
    w->hash = f->saved_hash;
    mix2(&w->hash, w->xor_pairs, 0, HCONST_19);
    w->xor_pairs = f->saved_xor;
  }
  w->top--;
  child_done(w, &w->st[w->top]);
}

static int walk(walk_t *w) {
  pga__head_t h;
  int rc;

  for (;;) {
    frame_t *f = &w->st[w->top];

    if (f->kind == F_LIST) {
      rc = f->left == 0 ? list_tail(w, f) : list_element(w, f);
    } else if (f->left == 0) {
      if (w->top == 0)
        return 0;
      close_frame(w, f);
      rc = 0;
    } else {
      f->left--;
      rc = head_at(w, &h);
      if (rc == 0)
        rc = hash_term(w, &h);
    }
    if (rc != 0)
      return rc;
  }
}

int pga_request_hash2(const pga_term_t *t, uint32_t *out) {
  walk_t w;
  int rc;

  if (t == NULL || t->buf == NULL || out == NULL)
    return PGA_EINVAL;
  memset(&w, 0, offsetof(walk_t, inline_));
  w.buf = (const unsigned char *)t->buf;
  w.len = t->len;
  w.st = w.inline_;
  w.cap = INLINE_FRAMES;
  memset(&w.st[0], 0, sizeof w.st[0]);
  w.st[0].kind = F_SEQ;
  w.st[0].left = 1;
  rc = walk(&w);
  if (w.st != w.inline_)
    free(w.st);
  if (rc == 0)
    *out = w.hash;
  return rc;
}

int pga_request_phash2(const pga_term_t *t, uint64_t range, uint32_t *out) {
  uint32_t h;
  int rc;

  if (range == 0 || range > (UINT64_C(1) << 32))
    return PGA_ERANGE;
  if ((rc = pga_request_hash2(t, &h)) != 0)
    return rc;
  *out = (uint32_t)(h % range);
  return 0;
}
