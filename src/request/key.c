/* Table keys for the sticky-node table and the rate-limit logs: a byte
 * string per term, equal for the encodings of one value, bounded in size
 * so that a peer cannot make an entry as large as its payload. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/dict.h"
#include "request/request_int.h"

/* Digests are marked with a first byte no plain key uses. */
#define KIND_BINARY 'b'
#define KIND_ATOM 'a'
#define KIND_INT 'i'
#define KIND_RAW 't'
#define KIND_DIGEST 'd'

/* Two SipHash-2-4 runs under keys derived from the process's secret hash
 * key: 128 bits an attacker cannot aim at. */
static void digest(const unsigned char *data, size_t len,
                   unsigned char out[16]) {
  unsigned char key[16];

  for (int half = 0; half < 2; half++) {
    uint64_t k0 = pga_hash_u64(UINT64_C(0x7265712d6b657930) + 2 * half);
    uint64_t k1 = pga_hash_u64(UINT64_C(0x7265712d6b657931) + 2 * half);
    uint64_t h;

    memcpy(key, &k0, 8);
    memcpy(key + 8, &k1, 8);
    h = pga__siphash24(key, data, len);
    memcpy(out + 8 * half, &h, 8);
  }
}

/* The atom's text as UTF-8 (Latin-1 encodings converted); at most 1020
 * bytes (255 characters). */
static size_t atom_utf8(const pga__atom_t *a, unsigned char *out) {
  size_t n = 0;

  if (!a->latin1) {
    memcpy(out, a->s, a->len);
    return a->len;
  }
  for (size_t i = 0; i < a->len; i++) {
    unsigned char c = a->s[i];

    if (c >= 0x80) {
      out[n++] = (unsigned char)(0xC0 | c >> 6);
      out[n++] = (unsigned char)(0x80 | (c & 0x3F));
    } else {
      out[n++] = c;
    }
  }
  return n;
}

void pga__rq_key(const pga_term_t *t, pga__rq_key_t *k) {
  unsigned char text[4 * 255 + 8];
  const unsigned char *data = (const unsigned char *)t->buf;
  size_t len = t->buf != NULL ? t->len : 0;
  unsigned char tag = KIND_RAW;
  pga__head_t h;

  if (t->buf != NULL && pga__term_head(t->buf, t->len, &h) == 0) {
    if (h.type == PGA_T_BINARY) {
      tag = KIND_BINARY;
      data = h.data;
      len = h.dlen;
    } else if (h.type == PGA_T_ATOM && h.atom.len <= 4 * 255) {
      tag = KIND_ATOM;
      len = atom_utf8(&h.atom, text);
      data = text;
    } else if (h.type == PGA_T_INTEGER) {
      for (int i = 0; i < 8; i++)
        text[i] = (unsigned char)((uint64_t)h.i >> (56 - 8 * i));
      tag = KIND_INT;
      data = text;
      len = 8;
    }
  }
  pga__rq_key_bytes(tag, data, len, k);
}

void pga__rq_key_bytes(unsigned char tag, const void *data, size_t len,
                       pga__rq_key_t *k) {
  if (len < PGA__RQ_KEY_MAX) {
    k->b[0] = tag;
    if (len > 0)
      memcpy(k->b + 1, data, len);
    k->len = len + 1;
    return;
  }
  k->b[0] = KIND_DIGEST;
  k->b[1] = tag;
  digest(data, len, k->b + 2);
  k->len = 18;
}

pga__rq_keybuf_t *pga__rq_keybuf_new(const pga__rq_key_t *k) {
  pga__rq_keybuf_t *kb = malloc(sizeof *kb + k->len);

  if (kb != NULL) {
    kb->len = k->len;
    memcpy(kb->b, k->b, k->len);
  }
  return kb;
}

uint64_t pga__rq_keybuf_hash(const void *key) {
  const pga__rq_keybuf_t *kb = key;

  return pga_hash_bytes(kb->b, kb->len);
}

int pga__rq_keybuf_equal(const void *a, const void *b) {
  const pga__rq_keybuf_t *x = a, *y = b;

  return x->len == y->len && memcmp(x->b, y->b, x->len) == 0;
}
