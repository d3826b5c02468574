/* The bytes of a distribution connection: straight to the socket, or
 * through the connection's TLS session when the node speaks inet_tls. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "base/log.h"
#include "dist/conn.h"

int pga_dist_use_tls(pga_dist_t *d, pga_tls_t *tls) {
  if (d->listen_fd >= 0) return PGA_EINVAL; /* before pga_dist_start */
  pga_tls_free(d->tls);
  d->tls = tls;
  return 0;
}

int pga__transport_start(pga_conn_t *c) {
  if (!c->d->tls || c->tls) return 0;
  const char *at = c->outgoing ? strchr(c->node, '@') : NULL;
  c->tls = pga_tls_conn_new(c->d->tls, c->fd, !c->outgoing, at ? at + 1 : NULL);
  return c->tls ? 0 : PGA_ENOMEM;
}

void pga__transport_end(pga_conn_t *c) {
  pga_tls_conn_free(c->tls);
  c->tls = NULL;
}

/* A failed TLS handshake is worth a line: a wrong CA or a plain-TCP peer
 * otherwise shows only as a closed connection. */
static void report_tls_failure(pga_conn_t *c) {
  if (errno == EAGAIN || pga_tls_conn_established(c->tls)) return;
  pga_info("TLS handshake %s %s failed: %s", c->outgoing ? "with" : "from",
           c->outgoing ? c->node : "an incoming connection",
           pga_tls_conn_error(c->tls));
}

ssize_t pga__transport_recv(pga_conn_t *c, void *buf, size_t len) {
  if (!c->tls) return recv(c->fd, buf, len, 0);
  ssize_t n = pga_tls_conn_read(c->tls, buf, len);
  if (n < 0) report_tls_failure(c);
  return n;
}

ssize_t pga__transport_send(pga_conn_t *c, const void *buf, size_t len) {
  if (!c->tls) return send(c->fd, buf, len, MSG_NOSIGNAL);
  ssize_t n = pga_tls_conn_write(c->tls, buf, len);
  if (n < 0) report_tls_failure(c);
  return n;
}

int pga__transport_wants_write(const pga_conn_t *c) {
  return !c->tls || pga_tls_conn_wants_write(c->tls);
}

const char *pga__transport_error(const pga_conn_t *c, const char *fallback) {
  return c->tls ? pga_tls_conn_error(c->tls) : fallback;
}
