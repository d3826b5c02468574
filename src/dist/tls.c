/* TLS contexts from the distribution settings, and sessions over the
 * connections' sockets (tls.h). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/tls.h"

struct pga_tls_s {
  SSL_CTX *server, *client;
  int client_sni;            /* PGA_TLS_SNI_* */
  char *client_sni_name;
  int client_verify;
  char *passwords[2];        /* kept for the contexts' password callbacks */
};

struct pga_tls_conn_s {
  SSL *ssl;
  int established;           /* a read or write went through */
  int wants_write;
  char error[160];
};

static void ssl_reason(char *out, size_t outlen, const char *what) {
  unsigned long e = ERR_peek_last_error();
  const char *why = e ? ERR_reason_error_string(e) : NULL;
  snprintf(out, outlen, "%s%s%s", what, why ? ": " : "", why ? why : "");
  ERR_clear_error();
}

static int set_versions(SSL_CTX *ctx, unsigned bits) {
  static const int ids[] = {TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION,
                            TLS1_3_VERSION};
  if (!bits) bits = (1u << 2) | (1u << 3); /* OTP 25: 'tlsv1.2', 'tlsv1.3' */
  int lo = 0, hi = 3;
  while (!(bits & (1u << lo))) lo++;
  while (!(bits & (1u << hi))) hi--;
  if (!SSL_CTX_set_min_proto_version(ctx, ids[lo]) ||
      !SSL_CTX_set_max_proto_version(ctx, ids[hi]))
    return -1;
  /* Older versions need OpenSSL's lowest security level. */
  if (lo < 2) SSL_CTX_set_security_level(ctx, 0);
  return 0;
}

/* One list for both APIs: TLS 1.3 suites (TLS_*) and the older ones. */
static int set_ciphers(SSL_CTX *ctx, const char *list) {
  size_t n = strlen(list);
  char *v13 = calloc(1, n + 1), *old = calloc(1, n + 1), *copy = strdup(list);
  int rc = v13 && old && copy ? 0 : -1;
  for (char *save = NULL, *s = copy ? strtok_r(copy, ":", &save) : NULL; s;
       s = strtok_r(NULL, ":", &save)) {
    char *dst = strncmp(s, "TLS_", 4) ? old : v13;
    if (*dst) strcat(dst, ":");
    strcat(dst, s);
  }
  if (rc == 0 && *v13 && !SSL_CTX_set_ciphersuites(ctx, v13)) rc = -1;
  if (rc == 0 && *old && !SSL_CTX_set_cipher_list(ctx, old)) rc = -1;
  free(v13);
  free(old);
  free(copy);
  return rc;
}

static int load_files(SSL_CTX *ctx, const pga_tls_side_t *s, char *err,
                      size_t errlen) {
  const char *key = s->keyfile ? s->keyfile : s->certfile;
  if (s->certfile && SSL_CTX_use_certificate_chain_file(ctx, s->certfile) != 1) {
    ssl_reason(err, errlen, s->certfile);
    return -1;
  }
  if (s->certfile &&
      (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
       SSL_CTX_check_private_key(ctx) != 1)) {
    ssl_reason(err, errlen, key);
    return -1;
  }
  if (s->cacertfile &&
      SSL_CTX_load_verify_locations(ctx, s->cacertfile, NULL) != 1) {
    ssl_reason(err, errlen, s->cacertfile);
    return -1;
  }
  return 0;
}

static SSL_CTX *side_ctx(const pga_tls_side_t *s, int server, char **pw,
                         char *err, size_t errlen) {
  const char *name = server ? "server" : "client";
  char why[256] = "";
  SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (!ctx) {
    snprintf(err, errlen, "%s: cannot create a TLS context", name);
    return NULL;
  }
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  /* Renegotiation is never needed by the distribution (secure_renegotiate
   * is accepted; docs/compat.md T4). */
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
  /* A peer that closes without close_notify has closed (as the BEAM's
   * nodes do when they halt). */
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
                               (s->honor_cipher_order
                                    ? SSL_OP_CIPHER_SERVER_PREFERENCE
                                    : 0));
  if (s->password) {
    *pw = strdup(s->password);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, *pw);
  }
  int mode = s->verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE;
  if (server && s->verify_peer && s->fail_if_no_peer_cert)
    mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(ctx, mode, NULL);
  if (s->depth >= 0) SSL_CTX_set_verify_depth(ctx, s->depth);
  if (set_versions(ctx, s->versions) != 0)
    snprintf(why, sizeof why, "versions not supported by OpenSSL");
  else if (s->ciphers && set_ciphers(ctx, s->ciphers) != 0)
    snprintf(why, sizeof why, "ciphers: none of them is known to OpenSSL");
  else
    load_files(ctx, s, why, sizeof why);
  if (why[0]) {
    snprintf(err, errlen, "%s: %s", name, why);
    SSL_CTX_free(ctx);
    return NULL;
  }
  return ctx;
}

int pga_tls_new(const pga_tls_conf_t *conf, pga_tls_t **out, char *err,
                size_t errlen) {
  pga_tls_t *t = calloc(1, sizeof *t);
  if (!t) return -1;
  t->server = side_ctx(&conf->server, 1, &t->passwords[0], err, errlen);
  t->client = t->server ? side_ctx(&conf->client, 0, &t->passwords[1], err,
                                   errlen)
                        : NULL;
  t->client_sni = conf->client.sni;
  t->client_verify = conf->client.verify_peer;
  if (conf->client.sni_name) t->client_sni_name = strdup(conf->client.sni_name);
  if (!t->client || (conf->client.sni_name && !t->client_sni_name)) {
    pga_tls_free(t);
    return -1;
  }
  *out = t;
  return 0;
}

void pga_tls_free(pga_tls_t *t) {
  if (!t) return;
  SSL_CTX_free(t->server);
  SSL_CTX_free(t->client);
  free(t->client_sni_name);
  free(t->passwords[0]);
  free(t->passwords[1]);
  free(t);
}

/* SNI and the host name check (verify_peer only), as OTP's client does:
 * the name is server_name_indication's, or the node name's host part. */
static int set_peer_name(pga_tls_t *t, SSL *ssl, const char *peer_host) {
  if (t->client_sni == PGA_TLS_SNI_DISABLE) return 0;
  const char *host = t->client_sni == PGA_TLS_SNI_NAME ? t->client_sni_name
                                                       : peer_host;
  if (!host || !*host) return 0;
  unsigned char ip[16];
  int is_ip = inet_pton(AF_INET, host, ip) == 1 ||
              inet_pton(AF_INET6, host, ip) == 1;
  if (!is_ip && !SSL_set_tlsext_host_name(ssl, host)) return -1;
  if (!t->client_verify) return 0;
  X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
  return (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host)
                : X509_VERIFY_PARAM_set1_host(param, host, 0)) == 1
             ? 0
             : -1;
}

pga_tls_conn_t *pga_tls_conn_new(pga_tls_t *t, int fd, int server,
                                 const char *peer_host) {
  pga_tls_conn_t *tc = calloc(1, sizeof *tc);
  if (!tc) return NULL;
  tc->ssl = SSL_new(server ? t->server : t->client);
  if (!tc->ssl || !SSL_set_fd(tc->ssl, fd) ||
      (!server && set_peer_name(t, tc->ssl, peer_host) != 0)) {
    pga_tls_conn_free(tc);
    ERR_clear_error();
    return NULL;
  }
  if (server)
    SSL_set_accept_state(tc->ssl);
  else
    SSL_set_connect_state(tc->ssl);
  return tc;
}

void pga_tls_conn_free(pga_tls_conn_t *tc) {
  if (!tc) return;
  SSL_free(tc->ssl);
  free(tc);
}

/* Maps an SSL_* result to the recv/send convention. */
static ssize_t outcome(pga_tls_conn_t *tc, int n, const char *op) {
  int e = SSL_get_error(tc->ssl, n);
  switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      tc->wants_write = e == SSL_ERROR_WANT_WRITE;
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_ZERO_RETURN: return 0;
    case SSL_ERROR_SYSCALL:
      snprintf(tc->error, sizeof tc->error, "%s: %s", op,
               errno ? strerror(errno) : "connection closed");
      ERR_clear_error();
      errno = EIO;
      return -1;
    default: {
      long v = SSL_get_verify_result(tc->ssl);
      if (v != X509_V_OK)
        snprintf(tc->error, sizeof tc->error, "TLS: %s",
                 X509_verify_cert_error_string(v));
      else
        ssl_reason(tc->error, sizeof tc->error, "TLS");
      ERR_clear_error();
      errno = EPROTO;
      return -1;
    }
  }
}

ssize_t pga_tls_conn_read(pga_tls_conn_t *tc, void *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    size_t n = 0;
    int rc = SSL_read_ex(tc->ssl, (char *)buf + got, len - got, &n);
    if (rc == 1) {
      tc->established = 1;
      got += n;
      continue;
    }
    ssize_t o = outcome(tc, 0, "read");
    if (got == 0) return o;
    /* Bytes already read go up first; an error shows again next call. */
    if (o < 0 && errno != EAGAIN) errno = EAGAIN;
    break;
  }
  return (ssize_t)got;
}

ssize_t pga_tls_conn_write(pga_tls_conn_t *tc, const void *buf, size_t len) {
  size_t n = 0;
  if (len == 0) return 0;
  if (SSL_write_ex(tc->ssl, buf, len, &n) == 1) {
    tc->established = 1;
    return (ssize_t)n;
  }
  ssize_t o = outcome(tc, 0, "write");
  return o == 0 ? (errno = EPIPE, -1) : o;
}

int pga_tls_conn_wants_write(const pga_tls_conn_t *tc) {
  return tc->wants_write;
}

int pga_tls_conn_pending(const pga_tls_conn_t *tc) {
  return SSL_pending(tc->ssl) > 0;
}

int pga_tls_conn_established(const pga_tls_conn_t *tc) {
  return tc->established || SSL_is_init_finished(tc->ssl);
}

const char *pga_tls_conn_error(const pga_tls_conn_t *tc) {
  return tc->error[0] ? tc->error : "TLS failure";
}
