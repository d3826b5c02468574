/* The structural skip: how many bytes the term at buf[0..len) takes,
 * without judging its contents.
 *
 * Every message from a peer is checked once, in full, when it arrives
 * (pga__term_check); the readers then step over nested terms many times
 * (each map lookup walks the pairs before the one it wants). Re-checking
 * atoms' UTF-8 and floats' values at every step cost most of the gateway's
 * CPU, so the readers step with this instead. It still reads nothing
 * outside buf[0..len) for any input, and still stops at once on a
 * container that claims more elements than there are bytes left, so a
 * hand-made view over bad bytes gives an error or a wrong answer, never a
 * wild read. No stack: a skip only needs the count of terms still to
 * pass, since nesting does not change how a term is skipped. */
#include "config.h"

#include "term/term.h"

enum {
  NEW_FLOAT = 70, NEW_PID = 88, NEW_PORT = 89, NEWER_REF = 90,
  SMALL_INT = 97, INT = 98, OLD_FLOAT = 99, ATOM = 100, REF = 101,
  PORT = 102, PID = 103, SMALL_TUPLE = 104, LARGE_TUPLE = 105, NIL = 106,
  STRING = 107, LIST = 108, BINARY = 109, SMALL_BIG = 110, LARGE_BIG = 111,
  NEW_FUN = 112, EXPORT = 113, NEW_REF = 114, SMALL_ATOM = 115, MAP = 116,
  ATOM_UTF8 = 118, SMALL_ATOM_UTF8 = 119, V4_PORT = 120
};

static uint32_t be16(const unsigned char *p) {
  return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

/* Bytes of the atom term at b[0..left): 0 when it is not an atom or does
 * not fit. */
static size_t atom_size(const unsigned char *b, size_t left) {
  size_t n;

  if (left < 2)
    return 0;
  if (b[0] == SMALL_ATOM_UTF8 || b[0] == SMALL_ATOM)
    n = 2 + (size_t)b[1];
  else if ((b[0] == ATOM_UTF8 || b[0] == ATOM) && left >= 3)
    n = 3 + (size_t)be16(b + 1);
  else
    return 0;
  return n <= left ? n : 0;
}

/* A length-prefixed run: hdr bytes, then n more. 0 if it does not fit. */
static size_t run(size_t left, size_t hdr, size_t n) {
  return hdr <= left && n <= left - hdr ? hdr + n : 0;
}

/* Node atom then fixed bytes (pids, ports, old references). */
static size_t with_node(const unsigned char *b, size_t left, size_t fixed) {
  size_t a = atom_size(b + 1, left - 1);

  return a != 0 ? run(left, 1 + a, fixed) : 0;
}

/* NEW_REFERENCE_EXT / NEWER_REFERENCE_EXT: Len, node, Creation, Len words. */
static size_t new_ref(const unsigned char *b, size_t left) {
  size_t a, words;

  if (left < 3)
    return 0;
  words = 4 * (size_t)be16(b + 1);
  a = atom_size(b + 3, left - 3);
  return a != 0 ? run(left, 3 + a, (b[0] == NEWER_REF ? 4 : 1) + words) : 0;
}

/* The fixed part of the term at b[0..left) (left >= 1) and how many nested
 * terms follow it (*nested). 0 for a tag it cannot size or a part that
 * does not fit. */
static size_t fixed_part(const unsigned char *b, size_t left,
                         uint64_t *nested) {
  *nested = 0;
  switch (b[0]) {
  case SMALL_INT: return run(left, 2, 0);
  case INT: return run(left, 5, 0);
  case NEW_FLOAT: return run(left, 9, 0);
  case OLD_FLOAT: return run(left, 32, 0);
  case ATOM: case SMALL_ATOM: case ATOM_UTF8: case SMALL_ATOM_UTF8:
    return atom_size(b, left);
  case NIL: return 1;
  case SMALL_TUPLE:
    if (left < 2)
      return 0;
    *nested = b[1];
    return 2;
  case LARGE_TUPLE: case MAP: case LIST:
    if (left < 5)
      return 0;
    *nested = be32(b + 1);
    if (b[0] == MAP)
      *nested *= 2;
    else if (b[0] == LIST)
      *nested = *nested == 0 ? 0 : *nested + 1; /* the tail follows */
    return b[0] == LIST && *nested == 0 ? 0 : 5;
  case STRING: return left >= 3 ? run(left, 3, be16(b + 1)) : 0;
  case BINARY: return left >= 5 ? run(left, 5, be32(b + 1)) : 0;
  case SMALL_BIG: return left >= 2 ? run(left, 3, b[1]) : 0;
  case LARGE_BIG: case 77 /* BIT_BINARY */:
    return left >= 5 ? run(left, 6, be32(b + 1)) : 0;
  case PID: return with_node(b, left, 9);
  case NEW_PID: return with_node(b, left, 12);
  case PORT: case REF: return with_node(b, left, 5);
  case NEW_PORT: return with_node(b, left, 8);
  case V4_PORT: return with_node(b, left, 12);
  case NEW_REF: case NEWER_REF: return new_ref(b, left);
  case NEW_FUN: /* Size covers the free variables too */
    return left >= 5 ? run(left, 1, be32(b + 1)) : 0;
  default: {
    /* Rare shapes (EXPORT_EXT, the old FUN_EXT): the full head decoder. */
    pga__head_t h;

    if (pga__term_head((const char *)b, left, &h) != 0)
      return 0;
    *nested = h.total != 0 ? 0 : h.n;
    return h.total != 0 ? h.total : h.size;
  }
  }
}

int pga__term_skip(const char *buf, size_t len, size_t *used) {
  const unsigned char *b = (const unsigned char *)buf;
  uint64_t pending = 1, nested;
  size_t pos = 0, n;

  if (buf == NULL)
    return PGA_EBADTERM;
  while (pending > 0) {
    if (pos >= len)
      return PGA_EBADTERM;
    /* The three shapes most terms are made of, inline; the rest through
     * fixed_part. */
    if (b[pos] == SMALL_ATOM_UTF8 && len - pos >= 2) {
      n = 2 + (size_t)b[pos + 1];
      nested = 0;
    } else if (b[pos] == SMALL_INT) {
      n = 2;
      nested = 0;
    } else if (b[pos] == BINARY && len - pos >= 5) {
      n = 5 + (size_t)be32(b + pos + 1);
      nested = 0;
    } else if ((n = fixed_part(b + pos, len - pos, &nested)) == 0) {
      return PGA_EBADTERM;
    }
    if (n > len - pos)
      return PGA_EBADTERM;
    pos += n;
    pending += nested - 1;
    if (pending > len - pos) /* each pending term needs a byte at least */
      return PGA_EBADTERM;
  }
  *used = pos;
  return 0;
}
