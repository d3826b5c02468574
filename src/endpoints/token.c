/* Phoenix.Token verification by Plug.Crypto's rules: the key is
 * PBKDF2-HMAC-SHA256(secret_key_base, salt, 1000 iterations, 32 bytes);
 * a token is base64url(no padding) of "HS256" (or HS384/HS512), of the
 * payload and of the HMAC over "<protected>.<payload_b64>"; the payload is
 * term_to_binary({data, signed_at_ms, max_age_s}) (older signers: {data,
 * signed} or %{data:, signed:}, max_age 86400). Expired when signed +
 * max_age * 1000 < now; a token from the future is invalid. */
#include "config.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "endpoints/ep_int.h"
#include "pga/errno.h"

#define EP_TOKEN_MAX 8192

int pga__ep_token_key(const char *secret, const char *salt,
                      unsigned char key[32]) {
  return PKCS5_PBKDF2_HMAC(secret, (int)strlen(secret),
                           (const unsigned char *)salt, (int)strlen(salt),
                           1000, EVP_sha256(), 32, key) == 1
             ? 0
             : PGA_ENOMEM;
}

/* base64url without padding -> bytes; the length, or -1. */
static long b64url(const char *s, size_t len, unsigned char *out) {
  long n = 0;
  unsigned acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len; i++) {
    int c = (unsigned char)s[i], v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-') v = 62;
    else if (c == '_') v = 63;
    else return -1;
    acc = (acc << 6) | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (unsigned char)(acc >> bits);
    }
  }
  if (bits >= 6) return -1; /* a lone character: not base64 */
  return n;
}

static const EVP_MD *digest_of(const char *prot, size_t len) {
  if (len != 7) return NULL;
  if (!memcmp(prot, "SFMyNTY", 7)) return EVP_sha256();
  if (!memcmp(prot, "SFMzODQ", 7)) return EVP_sha384();
  if (!memcmp(prot, "SFM1MTI", 7)) return EVP_sha512();
  return NULL;
}

/* {data, signed, max_age} out of the payload term; 0 or -1. */
static int signed_parts(const pga_term_t *t, pga_term_t *data,
                        int64_t *signed_ms, int64_t *max_age) {
  pga_term_t el;
  size_t arity;
  *max_age = 86400;
  if (pga_term_type(t) == PGA_T_MAP) {
    if (pga_term_map_get_atom(t, "data", data) != 0 ||
        pga_term_map_get_atom(t, "signed", &el) != 0)
      return -1;
    return pga_term_get_int64(&el, signed_ms) == 0 ? 0 : -1;
  }
  if (pga_term_tuple_arity(t, &arity) != 0 || (arity != 2 && arity != 3) ||
      pga_term_tuple_get(t, 0, data) != 0 ||
      pga_term_tuple_get(t, 1, &el) != 0 ||
      pga_term_get_int64(&el, signed_ms) != 0)
    return -1;
  if (arity == 3) {
    if (pga_term_tuple_get(t, 2, &el) != 0) return -1;
    if (pga_term_is_atom(&el, "infinity")) *max_age = -1;
    else if (pga_term_get_int64(&el, max_age) != 0) return -1;
  }
  return 0;
}

int pga__ep_token_verify(const unsigned char key[32], const char *token,
                         int64_t max_age_s, int64_t now_ms, pga_tb_t *data) {
  size_t len = strlen(token);
  const char *d1 = memchr(token, '.', len);
  const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
  unsigned char payload[EP_TOKEN_MAX], sig[EP_TOKEN_MAX], mac[EVP_MAX_MD_SIZE];
  unsigned maclen = 0;

  if (len > EP_TOKEN_MAX || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
    return EP_TOKEN_INVALID;
  const EVP_MD *md = digest_of(token, (size_t)(d1 - token));
  long plen = b64url(d1 + 1, (size_t)(d2 - d1 - 1), payload);
  long slen = b64url(d2 + 1, len - (size_t)(d2 + 1 - token), sig);
  if (!md || plen <= 0 || slen <= 0) return EP_TOKEN_INVALID;
  if (!HMAC(md, key, 32, (const unsigned char *)token, (size_t)(d2 - token),
            mac, &maclen) ||
      (unsigned long)slen != maclen || CRYPTO_memcmp(mac, sig, maclen) != 0)
    return EP_TOKEN_INVALID;

  pga_term_t t, dt;
  int64_t signed_ms, own_age;
  if (pga_term_view_versioned((const char *)payload, (size_t)plen, &t) != 0 ||
      signed_parts(&t, &dt, &signed_ms, &own_age) != 0)
    return EP_TOKEN_INVALID;
  int64_t age = max_age_s >= 0 ? max_age_s : own_age;
  if (age == 0) return EP_TOKEN_EXPIRED;
  if (signed_ms > now_ms) return EP_TOKEN_INVALID;
  if (age > 0 && signed_ms + age * 1000 < now_ms) return EP_TOKEN_EXPIRED;
  pga_tb_term(data, &dt);
  return pga_tb_error(data) ? EP_TOKEN_INVALID : EP_TOKEN_OK;
}
