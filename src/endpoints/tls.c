/* TLS for the endpoint (wss://, "certfile"/"keyfile"): OpenSSL on the
 * connections' non-blocking sockets, driven by the same loop. The socket
 * calls of conn.c go through pga__ep_io_read/pga__ep_io_write, which use
 * the connection's SSL object when it has one.
 *
 * Invariant: OpenSSL may hold decrypted bytes the socket no longer
 * signals (SSL_pending); conn.c reads again from a loop post then. */
#include "config.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "endpoints/ep_int.h"
#include "pga/errno.h"

static void ssl_error(char *err, size_t errlen, const char *what,
                      const char *path) {
  char buf[256];
  unsigned long e = ERR_get_error();
  ERR_error_string_n(e, buf, sizeof buf);
  snprintf(err, errlen, "%s: cannot load %s: %s", what, path,
           e ? buf : "unknown error");
  ERR_clear_error();
}

void *pga__ep_tls_ctx(const char *certfile, const char *keyfile, char *err,
                      size_t errlen) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) {
    snprintf(err, errlen, "endpoint.certfile: out of memory");
    return NULL;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(ctx, certfile) != 1) {
    ssl_error(err, errlen, "endpoint.certfile", certfile);
  } else if (SSL_CTX_use_PrivateKey_file(ctx, keyfile, SSL_FILETYPE_PEM) != 1) {
    ssl_error(err, errlen, "endpoint.keyfile", keyfile);
  } else if (SSL_CTX_check_private_key(ctx) != 1) {
    snprintf(err, errlen, "endpoint.keyfile: %s does not match the "
                          "certificate in %s", keyfile, certfile);
  } else {
    return ctx;
  }
  SSL_CTX_free(ctx);
  return NULL;
}

void pga__ep_tls_ctx_free(void *ctx) { SSL_CTX_free(ctx); }

int pga__ep_tls_start(conn_t *c) {
  SSL *ssl = SSL_new(c->ep->tls);
  if (!ssl || SSL_set_fd(ssl, c->fd) != 1) {
    SSL_free(ssl);
    return PGA_ENOMEM;
  }
  SSL_set_accept_state(ssl);
  c->ssl = ssl;
  c->tls_want = PGA_READABLE;
  return 0;
}

void pga__ep_tls_free(conn_t *c) {
  SSL_free(c->ssl);
  c->ssl = NULL;
}

/* What an SSL call's failure asks for: the mask to wait on, or 0 for a
 * dead connection. */
static int want_of(conn_t *c, int r) {
  switch (SSL_get_error(c->ssl, r)) {
  case SSL_ERROR_WANT_READ: return PGA_READABLE;
  case SSL_ERROR_WANT_WRITE: return PGA_WRITABLE;
  default:
    ERR_clear_error();
    return 0;
  }
}

int pga__ep_tls_handshake(conn_t *c) {
  int r = SSL_do_handshake(c->ssl);
  if (r == 1) {
    c->tls_done = 1;
    c->tls_want = 0;
    return 1;
  }
  c->tls_want = want_of(c, r);
  return c->tls_want ? 0 : -1;
}

ssize_t pga__ep_io_read(conn_t *c, void *buf, size_t len) {
  if (!c->ssl) {
    ssize_t r = read(c->fd, buf, len);
    if (r > 0) return r;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
      return -1;
    return 0;
  }
  int r = SSL_read(c->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
  if (r > 0) return r;
  return want_of(c, r) ? -1 : 0;
}

ssize_t pga__ep_io_write(conn_t *c, const void *buf, size_t len) {
  if (!c->ssl) {
    ssize_t r = send(c->fd, buf, len, MSG_NOSIGNAL);
    if (r >= 0) return r;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return -1;
    return -2;
  }
  int r = SSL_write(c->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
  if (r > 0) return r;
  return want_of(c, r) ? -1 : -2;
}

int pga__ep_io_pending(const conn_t *c) {
  return c->ssl && SSL_pending(c->ssl) > 0;
}
