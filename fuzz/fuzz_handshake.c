/* libFuzzer target for the handshake message parsers (src/dist/handshake.c):
 * every input goes through all five parsers, and what one accepts must
 * come back byte for byte through the matching builder.
 *
 * Input: one handshake message without its 2-byte length prefix, tag byte
 * first, as the parsers take it (seeds: fuzz/corpus/handshake/, captured
 * from OTP 25 by fuzz/capture_corpus.exs).
 *
 * Properties checked (abort = finding):
 * 1. No parser reads outside msg[0..len) (ASan) or hits UB (UBSan).
 * 2. An accepted name (name and challenge messages) is NUL-terminated,
 *    at most PGA_NODE_NAME_MAX bytes, equal to the bytes on the wire, and
 *    follows the documented rule: "alive@host", both parts non-empty,
 *    bytes 0x21..0x7e or >= 0x80, one '@'.
 * 3. pga_hs_valid_node_name never accepts a name that breaks that rule.
 * 4. Rebuilding a parsed message gives the input's bytes (the name
 *    messages may carry trailing bytes, which the parsers ignore).
 * 5. A status that fits a small buffer parses the same in a large one.
 * 6. pga_hs_expand_flags only adds bits and is idempotent. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/dynbuf.h"
#include "dist/handshake.h"

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "fuzz_handshake: %s:%d: check failed: %s\n",         \
              __FILE__, __LINE__, #cond);                                  \
      abort();                                                             \
    }                                                                      \
  } while (0)

/* The documented node name rule, written out independently. */
static int name_rule_ok(const unsigned char *s, size_t len) {
  size_t ats = 0, at = 0;

  if (len == 0 || len > PGA_NODE_NAME_MAX)
    return 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < 0x21 || s[i] == 0x7f)
      return 0;
    if (s[i] == '@') {
      ats++;
      at = i;
    }
  }
  return ats == 1 && at > 0 && at < len - 1;
}

static void check_flags(uint64_t flags) {
  uint64_t e = pga_hs_expand_flags(flags);

  CHECK((e & flags) == flags);
  CHECK(pga_hs_expand_flags(e) == e);
  (void)pga_hs_flags_acceptable(flags);
}

/* Builder output (with its 2-byte prefix) against the input's first bytes. */
static void check_rebuilt(const pga_dynbuf_t *b, const uint8_t *data,
                          size_t body) {
  const unsigned char *p = (const unsigned char *)pga_dynbuf_ptr(b);

  CHECK(pga_dynbuf_size(b) == body + 2);
  CHECK(((size_t)p[0] << 8 | p[1]) == body);
  CHECK(memcmp(p + 2, data, body) == 0);
}

/* Name and challenge messages share the name at the end: wire offset off. */
static void check_name(const pga_hs_name_t *n, const uint8_t *data,
                       size_t size, size_t off) {
  size_t nlen = strnlen(n->name, sizeof n->name);

  CHECK(nlen < sizeof n->name);
  CHECK(size >= off + 2 + nlen);
  CHECK(((size_t)data[off] << 8 | data[off + 1]) == nlen);
  CHECK(memcmp(n->name, data + off + 2, nlen) == 0);
  CHECK(name_rule_ok((const unsigned char *)n->name, nlen));
  CHECK(pga_hs_valid_node_name(n->name, nlen));
  check_flags(n->flags);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  pga_hs_name_t n;
  pga_dynbuf_t b;
  unsigned char digest[PGA_DIGEST_LEN];
  uint32_t challenge;
  char small[8], big[1024];

  pga_dynbuf_init(&b, 1 << 16);

  if (pga_hs_valid_node_name((const char *)data, size))
    CHECK(name_rule_ok(data, size));
  if (size >= 8) {
    uint64_t f = 0;
    for (int i = 0; i < 8; i++)
      f = f << 8 | data[i];
    check_flags(f);
  }

  memset(&n, 0xA5, sizeof n);
  if (pga_hs_parse_name(data, size, &n) == 0) {
    CHECK(data[0] == 'N');
    check_name(&n, data, size, 13);
    CHECK(pga_hs_build_name(&b, n.flags, n.creation, n.name) == 0);
    check_rebuilt(&b, data, 15 + strlen(n.name));
    pga_dynbuf_reset(&b);
  }

  memset(&n, 0xA5, sizeof n);
  if (pga_hs_parse_challenge(data, size, &n) == 0) {
    CHECK(data[0] == 'N');
    check_name(&n, data, size, 17);
    CHECK(pga_hs_build_challenge(&b, n.flags, n.challenge, n.creation,
                                 n.name) == 0);
    check_rebuilt(&b, data, 19 + strlen(n.name));
    pga_dynbuf_reset(&b);
  }

  if (pga_hs_parse_reply(data, size, &challenge, digest) == 0) {
    CHECK(size == 1 + 4 + PGA_DIGEST_LEN);
    CHECK(pga_hs_build_reply(&b, challenge, digest) == 0);
    check_rebuilt(&b, data, size);
    pga_dynbuf_reset(&b);
  }

  if (pga_hs_parse_ack(data, size, digest) == 0) {
    CHECK(size == 1 + PGA_DIGEST_LEN);
    CHECK(pga_hs_build_ack(&b, digest) == 0);
    check_rebuilt(&b, data, size);
    pga_dynbuf_reset(&b);
  }

  int small_rc = pga_hs_parse_status(data, size, small, sizeof small);
  int big_rc = pga_hs_parse_status(data, size, big, sizeof big);
  if (small_rc == 0) {
    CHECK(big_rc == 0);
    CHECK(memcmp(small, big, size) == 0);
  }
  if (big_rc == 0) {
    CHECK(size >= 2 && size - 1 < sizeof big);
    CHECK(memcmp(big, data + 1, size - 1) == 0 && big[size - 1] == '\0');
    if (strlen(big) == size - 1) {
      CHECK(pga_hs_build_status(&b, big) == 0);
      check_rebuilt(&b, data, size);
      pga_dynbuf_reset(&b);
    }
  }
  CHECK(pga_hs_parse_status(data, size, big, 0) != 0);

  pga_dynbuf_free(&b);
  return 0;
}
