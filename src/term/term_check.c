/* The bounds-checked ETF validator: every other reader trusts what it
 * accepts, so it alone decides which bytes from a peer become a term.
 *
 * Invariants (tests/unit/check_term.c checks each):
 *  1. No read outside buf[0..len), for any input and any len up to SIZE_MAX:
 *     lengths are compared as "need <= len - pos" with pos <= len, never by
 *     forming pos + need or buf + len.
 *  2. C stack use is constant: nesting is tracked on an explicit stack of
 *     counters (pga__stack_t: inline for 64 levels, then on the heap), not
 *     by recursion. The only recursion is the fixed two levels of a fun's
 *     embedded pid and its node atom.
 *  3. Work is linear in len: every term consumes at least one byte, and a
 *     container claiming more elements than bytes left is refused at once.
 *  4. Only tags an OTP 25 node sends without negotiation are accepted.
 *     Refused: compressed terms (80) and atom-cache references (82), which
 *     need DFLAG_DIST_HDR_ATOM_CACHE / zlib we never offer, and LOCAL_EXT
 *     (121, OTP 26), which only its own node can read.
 *  5. Depth: the top-level term is at level 0 and a container's elements
 *     one level below it; no term may sit below level PGA_TERM_MAX_DEPTH.
 *     A list's tail counts at the list's own level, so the long cell chains
 *     that ei users build (list header 1, element, list header 1, ...) are
 *     not mistaken for deep nesting.
 *
 * Where the BEAM (OTP 25 binary_to_term) accepts more, we refuse encodings no
 * encoder produces: LIST_EXT of length 0, BIT_BINARY_EXT of zero bytes,
 * references of zero words. Duplicate map keys are not detected. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "term/term.h"

enum {
  NEW_FLOAT = 70, BIT_BINARY = 77, NEW_PID = 88, NEW_PORT = 89,
  NEWER_REF = 90, SMALL_INT = 97, INT = 98, OLD_FLOAT = 99, ATOM = 100,
  REF = 101, PORT = 102, PID = 103, SMALL_TUPLE = 104, LARGE_TUPLE = 105,
  NIL = 106, STRING = 107, LIST = 108, BINARY = 109, SMALL_BIG = 110,
  LARGE_BIG = 111, NEW_FUN = 112, EXPORT = 113, NEW_REF = 114,
  SMALL_ATOM = 115, MAP = 116, FUN = 117, ATOM_UTF8 = 118,
  SMALL_ATOM_UTF8 = 119, V4_PORT = 120
};

/* NEW_FUN_EXT: tag, Size, Arity, Uniq[16], Index, NumFree. */
#define NEW_FUN_FIXED 30
/* FLOAT_EXT: the value as a NUL-padded "%.20e" string. */
#define OLD_FLOAT_CHARS 31

static uint32_t be16(const unsigned char *p) {
  return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

static uint64_t be64(const unsigned char *p) {
  return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* 1 if need more bytes are there at pos (pos <= len always holds). */
static int have(size_t len, size_t pos, size_t need) {
  return need <= len - pos;
}

int32_t pga__utf8_next(const unsigned char *s, size_t len, size_t *pos) {
  size_t p = *pos, need, i;
  uint32_t c = s[p], cp, min;

  if (c < 0x80) {
    *pos = p + 1;
    return (int32_t)c;
  }
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1, cp = c & 0x1F, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2, cp = c & 0x0F, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3, cp = c & 0x07, min = 0x10000;
  } else {
    return -1; /* continuation byte, C0/C1 overlong lead, or > U+10FFFF */
  }
  if (need > len - p - 1)
    return -1;
  for (i = 1; i <= need; i++) {
    if ((s[p + i] & 0xC0) != 0x80)
      return -1;
    cp = cp << 6 | (s[p + i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return -1;
  *pos = p + 1 + need;
  return (int32_t)cp;
}

/* 1 if s[0..len) is all ASCII; eight bytes a step, as atoms mostly are. */
static int all_ascii(const unsigned char *s, size_t len) {
  uint64_t acc = 0, w;
  size_t i = 0;

  for (; i + 8 <= len; i += 8) {
    memcpy(&w, s + i, 8);
    acc |= w;
  }
  for (; i < len; i++)
    acc |= s[i];
  return (acc & UINT64_C(0x8080808080808080)) == 0;
}

int pga__atom_utf8_check(const unsigned char *s, size_t len) {
  size_t pos = 0, chars = 0;

  /* 255 characters of at most 4 bytes: refuse longer before scanning. */
  if (len > 255 * 4)
    return PGA_EINVAL;
  if (all_ascii(s, len))
    return len <= 255 ? 0 : PGA_EINVAL;
  while (pos < len) {
    if (pga__utf8_next(s, len, &pos) < 0 || ++chars > 255)
      return PGA_EINVAL;
  }
  return 0;
}

/* Reads an atom term at b[*pos]: any of the four atom tags. */
static int read_atom(const unsigned char *b, size_t len, size_t *pos,
                     pga__atom_t *a) {
  size_t p = *pos, n, hdr;
  unsigned char tag;

  if (!have(len, p, 1))
    return PGA_EBADTERM;
  tag = b[p];
  hdr = (tag == SMALL_ATOM || tag == SMALL_ATOM_UTF8) ? 2 : 3;
  if (tag != ATOM && tag != SMALL_ATOM && tag != ATOM_UTF8 &&
      tag != SMALL_ATOM_UTF8)
    return PGA_EBADTERM;
  if (!have(len, p, hdr))
    return PGA_EBADTERM;
  n = hdr == 2 ? b[p + 1] : be16(b + p + 1);
  if (!have(len, p + hdr, n))
    return PGA_EBADTERM;
  a->s = b + p + hdr;
  a->len = n;
  a->latin1 = (tag == ATOM || tag == SMALL_ATOM);
  if (a->latin1 ? n > 255 : pga__atom_utf8_check(a->s, n) != 0)
    return PGA_EBADTERM;
  *pos = p + hdr + n;
  return 0;
}

/* Reads a SMALL_INTEGER_EXT or INTEGER_EXT term at b[*pos]. */
static int read_small(const unsigned char *b, size_t len, size_t *pos,
                      int64_t *v) {
  size_t p = *pos;

  if (have(len, p, 2) && b[p] == SMALL_INT) {
    *v = b[p + 1];
    *pos = p + 2;
    return 0;
  }
  if (have(len, p, 5) && b[p] == INT) {
    *v = (int32_t)be32(b + p + 1);
    *pos = p + 5;
    return 0;
  }
  return PGA_EBADTERM;
}

/* Reads node atom, ID, Serial and Creation of a PID_EXT / NEW_PID_EXT term
 * at b[*pos] into the fields given. */
static int read_pid(const unsigned char *b, size_t len, size_t *pos,
                    pga__atom_t *node, uint64_t *id, uint32_t *serial,
                    uint32_t *creation) {
  size_t p = *pos;
  int newer;

  if (!have(len, p, 1) || (b[p] != PID && b[p] != NEW_PID))
    return PGA_EBADTERM;
  newer = b[p] == NEW_PID;
  p++;
  if (read_atom(b, len, &p, node) != 0 || !have(len, p, newer ? 12 : 9))
    return PGA_EBADTERM;
  *id = be32(b + p);
  *serial = be32(b + p + 4);
  *creation = newer ? be32(b + p + 8) : b[p + 8];
  *pos = p + (newer ? 12 : 9);
  return 0;
}

/* FLOAT_EXT: the BEAM's sys_chars_to_double syntax, [+-]D+[.,]D+([eE][+-]D+)?
 * then NULs; strtod is only given text of that shape. It reads '.' as the
 * radix, as LC_NUMERIC is "C" unless someone calls setlocale. */
static int old_float(const unsigned char *p, double *out) {
  char s[OLD_FLOAT_CHARS + 1];
  size_t i = 0, k;

  memcpy(s, p, OLD_FLOAT_CHARS);
  s[OLD_FLOAT_CHARS] = '\0';
  if (s[i] == '+' || s[i] == '-')
    i++;
#define DIGITS()                                  \
  do {                                            \
    if (s[i] < '0' || s[i] > '9')                 \
      return PGA_EBADTERM;                        \
    while (s[i] >= '0' && s[i] <= '9')            \
      i++;                                        \
  } while (0)
  DIGITS();
  if (s[i] != '.' && s[i] != ',')
    return PGA_EBADTERM;
  s[i++] = '.';
  DIGITS();
  if (s[i] == 'e' || s[i] == 'E') {
    i++;
    if (s[i] == '+' || s[i] == '-')
      i++;
    DIGITS();
  }
#undef DIGITS
  /* The text must end in a NUL inside the 31 bytes; the rest is padding. */
  if (i >= OLD_FLOAT_CHARS || s[i] != '\0')
    return PGA_EBADTERM;
  for (k = i; k < OLD_FLOAT_CHARS; k++) {
    if (s[k] != '\0')
      return PGA_EBADTERM;
  }
  *out = strtod(s, NULL);
  return isfinite(*out) ? 0 : PGA_EBADTERM;
}

/* A bignum's digits (little-endian) as int64 when they fit; the BEAM sends
 * SMALL_BIG only for values past its small range, but other encoders may
 * send any value that way, so fitting ones become PGA_T_INTEGER. */
static void big_value(pga__head_t *h) {
  size_t n = h->dlen;
  uint64_t mag = 0;

  while (n > 0 && h->data[n - 1] == 0)
    n--;
  h->type = PGA_T_BIGINT;
  if (n > 8)
    return;
  while (n > 0)
    mag = mag << 8 | h->data[--n];
  if (!h->neg && mag <= (uint64_t)INT64_MAX) {
    h->i = (int64_t)mag;
    h->type = PGA_T_INTEGER;
  } else if (h->neg && mag <= (uint64_t)INT64_MAX + 1) {
    h->i = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    h->type = PGA_T_INTEGER;
  }
}

static int head_float(const unsigned char *b, size_t len, pga__head_t *h) {
  uint64_t bits;

  h->type = PGA_T_FLOAT;
  if (b[0] == OLD_FLOAT) {
    if (!have(len, 1, OLD_FLOAT_CHARS))
      return PGA_EBADTERM;
    h->size = 1 + OLD_FLOAT_CHARS;
    return old_float(b + 1, &h->d);
  }
  if (!have(len, 1, 8))
    return PGA_EBADTERM;
  bits = be64(b + 1);
  memcpy(&h->d, &bits, sizeof h->d);
  h->size = 9;
  /* The BEAM refuses NaN and infinities: no Erlang float holds them. */
  return isfinite(h->d) ? 0 : PGA_EBADTERM;
}

static int head_big(const unsigned char *b, size_t len, pga__head_t *h) {
  size_t hdr = b[0] == SMALL_BIG ? 3 : 6, n;

  if (!have(len, 0, hdr))
    return PGA_EBADTERM;
  n = hdr == 3 ? b[1] : be32(b + 1);
  if (n > PGA__TERM_MAX_BIG)
    return PGA_ETOOBIG;
  if (!have(len, hdr, n))
    return PGA_EBADTERM;
  h->neg = b[hdr - 1] != 0; /* as the BEAM: any non-zero sign byte */
  h->data = b + hdr;
  h->dlen = n;
  h->size = hdr + n;
  big_value(h);
  return 0;
}

/* BINARY_EXT, BIT_BINARY_EXT and STRING_EXT: a length, then bytes. */
static int head_bytes(const unsigned char *b, size_t len, pga__head_t *h) {
  size_t hdr = b[0] == STRING ? 3 : b[0] == BINARY ? 5 : 6, n;

  if (!have(len, 0, hdr))
    return PGA_EBADTERM;
  n = b[0] == STRING ? be16(b + 1) : be32(b + 1);
  if (!have(len, hdr, n))
    return PGA_EBADTERM;
  h->data = b + hdr;
  h->dlen = n;
  h->size = hdr + n;
  h->bits = 8;
  if (b[0] == STRING) {
    h->type = n > 0 ? PGA_T_LIST : PGA_T_NIL;
  } else if (b[0] == BINARY) {
    h->type = PGA_T_BINARY;
  } else {
    h->bits = b[5];
    if (n == 0 || h->bits < 1 || h->bits > 8)
      return PGA_EBADTERM;
    h->type = h->bits == 8 ? PGA_T_BINARY : PGA_T_BITSTRING;
  }
  return 0;
}

/* PORT_EXT, NEW_PORT_EXT, V4_PORT_EXT. */
static int head_port(const unsigned char *b, size_t len, pga__head_t *h) {
  size_t p = 1, idlen = b[0] == V4_PORT ? 8 : 4;
  size_t crlen = b[0] == PORT ? 1 : 4;

  if (read_atom(b, len, &p, &h->atom) != 0 || !have(len, p, idlen + crlen))
    return PGA_EBADTERM;
  h->id = idlen == 8 ? be64(b + p) : be32(b + p);
  h->creation = crlen == 1 ? b[p + idlen] : be32(b + p + idlen);
  h->size = p + idlen + crlen;
  h->type = PGA_T_PORT;
  return 0;
}

/* REFERENCE_EXT, NEW_REFERENCE_EXT, NEWER_REFERENCE_EXT. */
static int head_ref(const unsigned char *b, size_t len, pga__head_t *h) {
  size_t p = 1, crlen = b[0] == NEWER_REF ? 4 : 1, i;
  unsigned n = 1;

  if (b[0] != REF) {
    if (!have(len, 1, 2))
      return PGA_EBADTERM;
    n = be16(b + 1);
    p = 3;
  }
  if (n < 1 || n > 5)
    return PGA_EBADTERM;
  if (read_atom(b, len, &p, &h->atom) != 0)
    return PGA_EBADTERM;
  if (b[0] == REF) { /* ID then Creation; the others have Creation first */
    if (!have(len, p, 5))
      return PGA_EBADTERM;
    h->words[0] = be32(b + p);
    h->creation = b[p + 4];
    p += 5;
  } else {
    if (!have(len, p, crlen + 4 * (size_t)n))
      return PGA_EBADTERM;
    h->creation = crlen == 1 ? b[p] : be32(b + p);
    p += crlen;
    for (i = 0; i < n; i++, p += 4)
      h->words[i] = be32(b + p);
  }
  h->nwords = n;
  h->size = p;
  h->type = PGA_T_REF;
  return 0;
}

/* NEW_FUN_EXT: Size Arity Uniq Index NumFree Module OldIndex OldUniq Pid,
 * then NumFree terms; Size counts everything after the tag. */
static int head_new_fun(const unsigned char *b, size_t len, pga__head_t *h) {
  size_t p = NEW_FUN_FIXED;
  uint64_t pid_id;

  if (!have(len, 0, NEW_FUN_FIXED))
    return PGA_EBADTERM;
  h->total = (size_t)be32(b + 1) + 1;
  h->i = b[5];
  h->data = b + 6;
  h->dlen = 16;
  h->id = be32(b + 22);
  h->n = be32(b + 26);
  if (read_atom(b, len, &p, &h->atom) != 0 ||
      read_small(b, len, &p, &h->old_index) != 0 ||
      read_small(b, len, &p, &h->old_uniq) != 0 ||
      read_pid(b, len, &p, &h->pid.node, &pid_id, &h->pid.serial,
               &h->pid.creation) != 0)
    return PGA_EBADTERM;
  h->pid.id = (uint32_t)pid_id;
  h->size = p;
  if (h->total < p || (h->n == 0 && h->total != p))
    return PGA_EBADTERM;
  h->type = PGA_T_FUN;
  return 0;
}

/* FUN_EXT (before OTP R8; OTP 23+ refuse it): NumFree Pid Module Index
 * Uniq, then NumFree terms. */
static int head_old_fun(const unsigned char *b, size_t len, pga__head_t *h) {
  size_t p = 5;
  uint64_t pid_id;

  if (!have(len, 0, 5))
    return PGA_EBADTERM;
  h->n = be32(b + 1);
  if (read_pid(b, len, &p, &h->pid.node, &pid_id, &h->pid.serial,
               &h->pid.creation) != 0 ||
      read_atom(b, len, &p, &h->atom) != 0 ||
      read_small(b, len, &p, &h->old_index) != 0 ||
      read_small(b, len, &p, &h->old_uniq) != 0)
    return PGA_EBADTERM;
  h->pid.id = (uint32_t)pid_id;
  h->size = p;
  h->type = PGA_T_FUN;
  return 0;
}

/* EXPORT_EXT: Module Function Arity (a SMALL_INTEGER_EXT). */
static int head_export(const unsigned char *b, size_t len, pga__head_t *h) {
  size_t p = 1;

  if (read_atom(b, len, &p, &h->atom) != 0 ||
      read_atom(b, len, &p, &h->name) != 0 || !have(len, p, 2) ||
      b[p] != SMALL_INT)
    return PGA_EBADTERM;
  h->i = b[p + 1];
  h->size = p + 2;
  h->type = PGA_T_FUN;
  return 0;
}

/* Tuples, lists and maps: a count, then nested terms. */
static int head_container(const unsigned char *b, size_t len,
                          pga__head_t *h) {
  if (b[0] == SMALL_TUPLE) {
    if (!have(len, 0, 2))
      return PGA_EBADTERM;
    h->n = b[1];
    h->size = 2;
    h->type = PGA_T_TUPLE;
    return 0;
  }
  if (!have(len, 0, 5))
    return PGA_EBADTERM;
  h->n = be32(b + 1);
  h->size = 5;
  if (b[0] == LARGE_TUPLE) {
    h->type = PGA_T_TUPLE;
  } else if (b[0] == MAP) {
    h->n *= 2; /* n < 2^32: no overflow in uint64_t */
    h->type = PGA_T_MAP;
  } else {
    /* LIST_EXT of length 0 would be its own tail: nobody sends it. */
    if (h->n == 0)
      return PGA_EBADTERM;
    h->tail = 1;
    h->type = PGA_T_LIST;
  }
  return 0;
}

/* The fields only pids, ports, references, funs and exports fill: zeroed
 * for those alone (they compare them whole), since clearing the whole head for every integer and
 * atom was a visible part of each read. */
static void zero_rare_fields(pga__head_t *h) {
  memset(&h->name, 0, sizeof *h - offsetof(pga__head_t, name));
}

int pga__term_head(const char *buf, size_t len, pga__head_t *h) {
  const unsigned char *b = (const unsigned char *)buf;
  size_t p = 0;

  memset(h, 0, offsetof(pga__head_t, name));
  if (buf == NULL || len == 0)
    return PGA_EBADTERM;
  h->tag = b[0];
  switch (b[0]) {
  case NEW_PID: case NEW_PORT: case NEWER_REF: case REF: case PORT:
  case PID: case NEW_FUN: case EXPORT: case NEW_REF: case FUN: case V4_PORT:
    zero_rare_fields(h);
    break;
  default:
    break;
  }
  switch (b[0]) {
  case SMALL_INT:
  case INT:
    h->type = PGA_T_INTEGER;
    if (read_small(b, len, &p, &h->i) != 0)
      return PGA_EBADTERM;
    h->size = p;
    return 0;
  case NEW_FLOAT:
  case OLD_FLOAT:
    return head_float(b, len, h);
  case ATOM:
  case SMALL_ATOM:
  case ATOM_UTF8:
  case SMALL_ATOM_UTF8:
    h->type = PGA_T_ATOM;
    if (read_atom(b, len, &p, &h->atom) != 0)
      return PGA_EBADTERM;
    h->size = p;
    return 0;
  case SMALL_TUPLE:
  case LARGE_TUPLE:
  case LIST:
  case MAP:
    return head_container(b, len, h);
  case NIL:
    h->type = PGA_T_NIL;
    h->size = 1;
    return 0;
  case STRING:
  case BINARY:
  case BIT_BINARY:
    return head_bytes(b, len, h);
  case SMALL_BIG:
  case LARGE_BIG:
    return head_big(b, len, h);
  case PID:
  case NEW_PID:
    h->type = PGA_T_PID;
    if (read_pid(b, len, &p, &h->atom, &h->id, &h->serial, &h->creation))
      return PGA_EBADTERM;
    h->size = p;
    return 0;
  case PORT:
  case NEW_PORT:
  case V4_PORT:
    return head_port(b, len, h);
  case REF:
  case NEW_REF:
  case NEWER_REF:
    return head_ref(b, len, h);
  case NEW_FUN:
    return head_new_fun(b, len, h);
  case FUN:
    return head_old_fun(b, len, h);
  case EXPORT:
    return head_export(b, len, h);
  default:
    return PGA_EBADTERM;
  }
}

void pga__stack_init(pga__stack_t *s) {
  s->f = s->inline_;
  s->cap = PGA__STACK_INLINE;
}

pga__frame_t *pga__stack_at(pga__stack_t *s, size_t i) {
  size_t cap;
  pga__frame_t *f;

  if (i < s->cap)
    return &s->f[i];
  if (i > PGA__TERM_WIRE_DEPTH)
    return NULL;
  cap = s->cap * 2 > i ? s->cap * 2 : i + 1;
  if (cap > (size_t)PGA__TERM_WIRE_DEPTH + 1)
    cap = (size_t)PGA__TERM_WIRE_DEPTH + 1;
  if (s->f == s->inline_) {
    if ((f = malloc(cap * sizeof *f)) == NULL)
      return NULL;
    memcpy(f, s->inline_, sizeof s->inline_);
  } else if ((f = realloc(s->f, cap * sizeof *f)) == NULL) {
    return NULL;
  }
  s->f = f;
  s->cap = cap;
  return &s->f[i];
}

void pga__stack_free(pga__stack_t *s) {
  if (s->f != s->inline_)
    free(s->f);
  pga__stack_init(s);
}

/* What check_step needs of a head: its size and what nests in it. */
typedef struct shape_s {
  size_t size;
  uint64_t n;
  int tail;
  size_t total;
} shape_t;

/* The shapes every message is made of (OTP 20+ encodings), checked
 * without filling a pga__head_t: 1 done, 0 not one of them, or an
 * error. Each case judges exactly what pga__term_head would. */
static int fast_shape(const unsigned char *b, size_t len, shape_t *s) {
  size_t p = 0;
  pga__atom_t a;

  switch (b[0]) {
  case SMALL_INT:
    s->size = 2;
    return have(len, 0, 2) ? 1 : PGA_EBADTERM;
  case INT:
    s->size = 5;
    return have(len, 0, 5) ? 1 : PGA_EBADTERM;
  case SMALL_ATOM_UTF8:
  case ATOM_UTF8:
    if (read_atom(b, len, &p, &a) != 0)
      return PGA_EBADTERM;
    s->size = p;
    return 1;
  case NIL:
    s->size = 1;
    return 1;
  case SMALL_TUPLE:
    if (!have(len, 0, 2))
      return PGA_EBADTERM;
    s->size = 2;
    s->n = b[1];
    return 1;
  case BINARY:
    if (!have(len, 0, 5) || !have(len, 5, be32(b + 1)))
      return PGA_EBADTERM;
    s->size = 5 + (size_t)be32(b + 1);
    return 1;
  case STRING:
    if (!have(len, 0, 3) || !have(len, 3, be16(b + 1)))
      return PGA_EBADTERM;
    s->size = 3 + (size_t)be16(b + 1);
    return 1;
  case MAP:
  case LIST:
    if (!have(len, 0, 5))
      return PGA_EBADTERM;
    s->size = 5;
    s->n = be32(b + 1);
    if (b[0] == MAP)
      s->n *= 2;
    else if (s->n == 0) /* a LIST_EXT of length 0: see head_container */
      return PGA_EBADTERM;
    else
      s->tail = 1;
    return 1;
  default:
    return 0;
  }
}

/* The shape of the term at buf[0..len), fast or through pga__term_head. */
static int shape_of(const char *buf, size_t len, shape_t *s) {
  pga__head_t h;
  int rc;

  s->n = 0;
  s->tail = 0;
  s->total = 0;
  if (len == 0)
    return PGA_EBADTERM;
  if ((rc = fast_shape((const unsigned char *)buf, len, s)) != 0)
    return rc < 0 ? rc : 0;
  if ((rc = pga__term_head(buf, len, &h)) != 0)
    return rc;
  s->size = h.size;
  s->n = h.n;
  s->tail = h.tail;
  s->total = h.total;
  return 0;
}

/* One step of the check: the next term's head, and a frame for what nests
 * in it. 1 to go on, 0 when the term is complete, or an error. */
static int check_step(const char *buf, size_t len, size_t max_depth,
                      pga__stack_t *st, size_t *top, size_t *pos) {
  pga__frame_t *f = &st->f[*top], *up;
  shape_t h;
  size_t start;
  int rc;

  while (f->left == 0) {
    if (f->end != 0 && *pos != f->end)
      return PGA_EBADTERM;
    if (*top == 0)
      return 0;
    f = &st->f[--*top];
  }
  start = *pos;
  if ((rc = shape_of(buf + *pos, len - *pos, &h)) != 0)
    return rc;
  *pos += h.size;
  /* A list's tail takes the list's own slot at this level. */
  if (!h.tail)
    f->left--;
  if (h.n == 0)
    return 1;
  if (h.n > len - *pos) /* each nested term needs one byte at least */
    return PGA_EBADTERM;
  if (*top >= max_depth)
    return PGA_ETOOBIG;
  if ((up = pga__stack_at(st, *top + 1)) == NULL)
    return PGA_ENOMEM;
  ++*top;
  up->left = h.n;
  up->end = h.total != 0 ? start + h.total : 0;
  return 1;
}

int pga__term_check(const char *buf, size_t len, size_t *used) {
  return pga__term_check_depth(buf, len, PGA_TERM_MAX_DEPTH, used);
}

int pga__term_check_depth(const char *buf, size_t len, size_t max_depth,
                          size_t *used) {
  pga__stack_t st;
  size_t top = 0, pos = 0;
  int rc;

  if (buf == NULL || used == NULL)
    return PGA_EBADTERM;
  pga__stack_init(&st);
  st.f[0].left = 1;
  st.f[0].end = 0;
  if (max_depth > PGA__TERM_WIRE_DEPTH)
    max_depth = PGA__TERM_WIRE_DEPTH;
  while ((rc = check_step(buf, len, max_depth, &st, &top, &pos)) == 1)
    ;
  pga__stack_free(&st);
  if (rc == 0)
    *used = pos;
  return rc;
}

int pga_term_view(const char *buf, size_t len, pga_term_t *out) {
  size_t used;
  int rc;

  if (out == NULL)
    return PGA_EINVAL;
  if ((rc = pga__term_check(buf, len, &used)) != 0)
    return rc;
  out->buf = buf;
  out->len = used;
  return 0;
}

int pga_term_view_versioned(const char *buf, size_t len, pga_term_t *out) {
  if (out == NULL)
    return PGA_EINVAL;
  if (buf == NULL || len == 0 ||
      (unsigned char)buf[0] != PGA_VERSION_MAGIC)
    return PGA_EBADTERM;
  return pga_term_view(buf + 1, len - 1, out);
}
