/* Uniq.UUID.valid?/1 (uniq 0.6), the :uuid and :list_uuid rule of
 * request-plane.md §5.5: a textual or raw form, then the version and
 * variant check. */
#include "config.h"

#include <string.h>

#include "request/request.h"

static int hex_val(unsigned char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* 32 hex digits (any case) at the given offsets into raw. */
static int from_hex(const unsigned char *s, const size_t *at,
                    unsigned char raw[16]) {
  for (int i = 0; i < 16; i++) {
    int hi = hex_val(s[at[2 * i]]), lo = hex_val(s[at[2 * i + 1]]);

    if (hi < 0 || lo < 0)
      return -1;
    raw[i] = (unsigned char)(hi << 4 | lo);
  }
  return 0;
}

static int b64url_val(unsigned char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

/* The 22-character "slug": Base.url_decode64(s <> "=="), which ignores
 * the unused low bits of the last character. */
static int from_slug(const unsigned char *s, unsigned char raw[16]) {
  uint32_t acc = 0;
  int bits = 0, n = 0;

  for (int i = 0; i < 22; i++) {
    int v = b64url_val(s[i]);

    if (v < 0)
      return -1;
    acc = acc << 6 | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n < 16)
        raw[n++] = (unsigned char)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  return 0;
}

/* The 16 bytes of a textual or raw UUID, or -1. */
static int parse_raw(const unsigned char *s, size_t len, unsigned char raw[16]) {
  size_t at[32];

  /* "urn:uuid:" is tried first (and again on what follows), so a raw
   * 16-byte value that starts with it does not count as raw. */
  while (len >= 9 && memcmp(s, "urn:uuid:", 9) == 0) {
    s += 9;
    len -= 9;
  }
  switch (len) {
  case 16:
    memcpy(raw, s, 16);
    return 0;
  case 32:
    for (size_t i = 0; i < 32; i++)
      at[i] = i;
    return from_hex(s, at, raw);
  case 36:
    if (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
      return -1;
    for (size_t i = 0, j = 0; i < 36; i++)
      if (i != 8 && i != 13 && i != 18 && i != 23)
        at[j++] = i;
    return from_hex(s, at, raw);
  case 22:
    return from_slug(s, raw);
  default:
    return -1;
  }
}

int pga_request_uuid_valid(const unsigned char *s, size_t len) {
  static const unsigned char zero[16];
  unsigned char raw[16];
  unsigned version;

  if (s == NULL || parse_raw(s, len, raw) != 0)
    return 0;
  version = raw[6] >> 4;
  if (version == 1 || version == 3 || version == 4 || version == 5)
    return 1;
  /* Versions 6 and 7 only with the RFC 4122 variant (bits 10). */
  if (version == 6 || version == 7)
    return (raw[8] & 0xC0) == 0x80;
  return memcmp(raw, zero, 16) == 0;
}
