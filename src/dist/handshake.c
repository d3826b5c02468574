/* Encoding and decoding of the version-6 handshake messages
 * (distribution.md §3); no state, no I/O. */
#include "config.h"

#include <string.h>

#include "dist/handshake.h"
#include "dist/proto.h"

static void put16(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 8);
  p[1] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

static void put64(unsigned char *p, uint64_t v) {
  put32(p, (uint32_t)(v >> 32));
  put32(p + 4, (uint32_t)v);
}

static uint32_t get16(const unsigned char *p) {
  return ((uint32_t)p[0] << 8) | p[1];
}

static uint32_t get32(const unsigned char *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
         ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t get64(const unsigned char *p) {
  return ((uint64_t)get32(p) << 32) | get32(p + 4);
}

uint64_t pga_hs_expand_flags(uint64_t flags) {
  if (flags & DFLAG_MANDATORY_25_DIGEST) flags |= DFLAG_MANDATORY_25;
  return flags;
}

int pga_hs_flags_acceptable(uint64_t theirs) {
  uint64_t both = pga_hs_expand_flags(theirs) & DFLAG_PGA_OFFERED;
  return (both & DFLAG_PGA_REQUIRED) == DFLAG_PGA_REQUIRED;
}

int pga_hs_valid_node_name(const char *name, size_t len) {
  const char *at = memchr(name, '@', len);
  if (!at || at == name || at == name + len - 1) return 0;
  if (len > PGA_NODE_NAME_MAX) return 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)name[i];
    if (c < 0x21 || c == 0x7f) return 0;
  }
  return memchr(at + 1, '@', len - (size_t)(at + 1 - name)) == NULL;
}

/* Appends a message of `body` bytes, returning where the body goes. */
static unsigned char *begin(pga_dynbuf_t *out, size_t body) {
  unsigned char *p = (unsigned char *)pga_dynbuf_reserve(out, body + 2);
  if (!p) return NULL;
  put16(p, (uint32_t)body);
  pga_dynbuf_commit(out, body + 2);
  return p + 2;
}

int pga_hs_build_name(pga_dynbuf_t *out, uint64_t flags, uint32_t creation,
                      const char *name) {
  size_t nlen = strlen(name);
  unsigned char *p = begin(out, 1 + 8 + 4 + 2 + nlen);
  if (!p) return PGA_ENOMEM;
  p[0] = HS_NAME_V6;
  put64(p + 1, flags);
  put32(p + 9, creation);
  put16(p + 13, (uint32_t)nlen);
  memcpy(p + 15, name, nlen);
  return 0;
}

int pga_hs_build_status(pga_dynbuf_t *out, const char *status) {
  size_t slen = strlen(status);
  unsigned char *p = begin(out, 1 + slen);
  if (!p) return PGA_ENOMEM;
  p[0] = HS_STATUS;
  memcpy(p + 1, status, slen);
  return 0;
}

int pga_hs_build_challenge(pga_dynbuf_t *out, uint64_t flags,
                           uint32_t challenge, uint32_t creation,
                           const char *name) {
  size_t nlen = strlen(name);
  unsigned char *p = begin(out, 1 + 8 + 4 + 4 + 2 + nlen);
  if (!p) return PGA_ENOMEM;
  p[0] = HS_NAME_V6;
  put64(p + 1, flags);
  put32(p + 9, challenge);
  put32(p + 13, creation);
  put16(p + 17, (uint32_t)nlen);
  memcpy(p + 19, name, nlen);
  return 0;
}

int pga_hs_build_reply(pga_dynbuf_t *out, uint32_t challenge,
                       const unsigned char digest[PGA_DIGEST_LEN]) {
  unsigned char *p = begin(out, 1 + 4 + PGA_DIGEST_LEN);
  if (!p) return PGA_ENOMEM;
  p[0] = HS_CHALLENGE_REPLY;
  put32(p + 1, challenge);
  memcpy(p + 5, digest, PGA_DIGEST_LEN);
  return 0;
}

int pga_hs_build_ack(pga_dynbuf_t *out,
                     const unsigned char digest[PGA_DIGEST_LEN]) {
  unsigned char *p = begin(out, 1 + PGA_DIGEST_LEN);
  if (!p) return PGA_ENOMEM;
  p[0] = HS_CHALLENGE_ACK;
  memcpy(p + 1, digest, PGA_DIGEST_LEN);
  return 0;
}

/* Copies a length-prefixed name at msg[off..len); trailing bytes ignored. */
static int parse_node_name(const unsigned char *msg, size_t len, size_t off,
                           pga_hs_name_t *out) {
  if (len < off + 2) return PGA_EPROTO;
  size_t nlen = get16(msg + off);
  if (len - off - 2 < nlen || nlen > PGA_NODE_NAME_MAX) return PGA_EPROTO;
  if (!pga_hs_valid_node_name((const char *)msg + off + 2, nlen))
    return PGA_EPROTO;
  memcpy(out->name, msg + off + 2, nlen);
  out->name[nlen] = '\0';
  return 0;
}

int pga_hs_parse_name(const unsigned char *msg, size_t len,
                      pga_hs_name_t *out) {
  if (len < 15 || msg[0] != HS_NAME_V6) return PGA_EPROTO;
  out->flags = get64(msg + 1);
  out->creation = get32(msg + 9);
  out->challenge = 0;
  return parse_node_name(msg, len, 13, out);
}

int pga_hs_parse_status(const unsigned char *msg, size_t len, char *out,
                        size_t outlen) {
  if (len < 2 || msg[0] != HS_STATUS || len - 1 >= outlen) return PGA_EPROTO;
  memcpy(out, msg + 1, len - 1);
  out[len - 1] = '\0';
  return 0;
}

int pga_hs_parse_challenge(const unsigned char *msg, size_t len,
                           pga_hs_name_t *out) {
  if (len < 19 || msg[0] != HS_NAME_V6) return PGA_EPROTO;
  out->flags = get64(msg + 1);
  out->challenge = get32(msg + 9);
  out->creation = get32(msg + 13);
  return parse_node_name(msg, len, 17, out);
}

int pga_hs_parse_reply(const unsigned char *msg, size_t len,
                       uint32_t *challenge,
                       unsigned char digest[PGA_DIGEST_LEN]) {
  if (len != 1 + 4 + PGA_DIGEST_LEN || msg[0] != HS_CHALLENGE_REPLY)
    return PGA_EPROTO;
  *challenge = get32(msg + 1);
  memcpy(digest, msg + 5, PGA_DIGEST_LEN);
  return 0;
}

int pga_hs_parse_ack(const unsigned char *msg, size_t len,
                     unsigned char digest[PGA_DIGEST_LEN]) {
  if (len != 1 + PGA_DIGEST_LEN || msg[0] != HS_CHALLENGE_ACK)
    return PGA_EPROTO;
  memcpy(digest, msg + 1, PGA_DIGEST_LEN);
  return 0;
}
