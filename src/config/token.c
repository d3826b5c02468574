/* The push token check (spec §7), constant time in the token's content. */
#include "config.h"

#include <openssl/crypto.h>

#include "config/plane_int.h"

int pga_push_token_ok(const pga__cterm_t *configured, const pga_term_t *t) {
  const char *got;
  size_t got_len;
  int is_bin = pga_term_get_binary(t, &got, &got_len) == 0;
  if (!configured->buf) return is_bin || pga__is_nil(t);
  if (!is_bin) return 0;
  /* configured holds the token's bytes (not a term). A length mismatch
   * still runs one comparison of the same cost, so the time taken says
   * nothing about how much of the content matched. */
  const char *want = configured->buf;
  size_t want_len = configured->len;
  if (got_len != want_len) {
    (void)CRYPTO_memcmp(want, want, want_len);
    return 0;
  }
  return want_len == 0 || CRYPTO_memcmp(want, got, want_len) == 0;
}
