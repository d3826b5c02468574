/* Handshake messages (distribution.md §3): codecs, the digest, and the two
 * state machines (handshake_out.c for the connecting side A, handshake_in.c
 * for the accepting side B). Every message has a 2-byte length prefix; the
 * parsers take the message without it, tag byte first. */
#ifndef PGA_DIST_HANDSHAKE_H
#define PGA_DIST_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "base/dynbuf.h"
#include "pga/errno.h"

#define PGA_DIGEST_LEN 16
#define PGA_NODE_NAME_MAX 255   /* bytes of a full node name */

typedef struct pga_hs_name_s {
  uint64_t flags;
  uint32_t creation;
  uint32_t challenge;            /* only in the challenge message */
  char name[PGA_NODE_NAME_MAX + 1];
} pga_hs_name_t;

int pga_dist_digest(const char *cookie, uint32_t challenge,
                    unsigned char out[PGA_DIGEST_LEN]);
int pga_dist_digest_equal(const unsigned char a[PGA_DIGEST_LEN],
                          const unsigned char b[PGA_DIGEST_LEN]);
int pga_dist_challenge(uint32_t *out);

/* The peer's flags with MANDATORY_25_DIGEST expanded into its set. */
uint64_t pga_hs_expand_flags(uint64_t flags);
/* 1 if the negotiated flags (ours AND theirs, expanded) are enough. */
int pga_hs_flags_acceptable(uint64_t theirs);

/* Builders append the length-prefixed message to out: 0 or PGA_ENOMEM. */
int pga_hs_build_name(pga_dynbuf_t *out, uint64_t flags, uint32_t creation,
                      const char *name);
int pga_hs_build_status(pga_dynbuf_t *out, const char *status);
int pga_hs_build_challenge(pga_dynbuf_t *out, uint64_t flags,
                           uint32_t challenge, uint32_t creation,
                           const char *name);
int pga_hs_build_reply(pga_dynbuf_t *out, uint32_t challenge,
                       const unsigned char digest[PGA_DIGEST_LEN]);
int pga_hs_build_ack(pga_dynbuf_t *out,
                     const unsigned char digest[PGA_DIGEST_LEN]);

/* Parsers: 0 or PGA_EPROTO (wrong tag, short, bad name). */
int pga_hs_parse_name(const unsigned char *msg, size_t len,
                      pga_hs_name_t *out);
int pga_hs_parse_status(const unsigned char *msg, size_t len, char *out,
                        size_t outlen);
int pga_hs_parse_challenge(const unsigned char *msg, size_t len,
                           pga_hs_name_t *out);
int pga_hs_parse_reply(const unsigned char *msg, size_t len,
                       uint32_t *challenge,
                       unsigned char digest[PGA_DIGEST_LEN]);
int pga_hs_parse_ack(const unsigned char *msg, size_t len,
                     unsigned char digest[PGA_DIGEST_LEN]);

/* A node name is "alive@host" with both parts non-empty and printable. */
int pga_hs_valid_node_name(const char *name, size_t len);

#endif
