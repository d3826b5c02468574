/* The handshake digest: MD5(cookie ++ decimal challenge), and its
 * constant-time comparison (distribution.md §3). */
#include "config.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "dist/handshake.h"

int pga_dist_digest(const char *cookie, uint32_t challenge,
                    unsigned char out[PGA_DIGEST_LEN]) {
  char text[1024 + 16];
  size_t clen = strlen(cookie);
  if (clen > 1024) return PGA_EINVAL;
  memcpy(text, cookie, clen);
  int n = snprintf(text + clen, sizeof text - clen, "%u", challenge);
  unsigned int dlen = 0;
  if (!EVP_Digest(text, clen + (size_t)n, out, &dlen, EVP_md5(), NULL) ||
      dlen != PGA_DIGEST_LEN)
    return PGA_ESYS;
  return 0;
}

int pga_dist_digest_equal(const unsigned char a[PGA_DIGEST_LEN],
                          const unsigned char b[PGA_DIGEST_LEN]) {
  return CRYPTO_memcmp(a, b, PGA_DIGEST_LEN) == 0;
}

int pga_dist_challenge(uint32_t *out) {
  unsigned char b[4];
  if (RAND_bytes(b, sizeof b) != 1) return PGA_ESYS;
  *out = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
         ((uint32_t)b[2] << 8) | b[3];
  return 0;
}
