/* The TLS transport under a distribution connection: OpenSSL over the
 * connection's own non-blocking socket, driven by pga's loop. The
 * handshake runs inside the first reads and writes (SSL_read/SSL_write
 * do it), so the distribution handshake and framing above are the same as
 * over TCP; conn.c only asks whether a blocked call waits for the socket to
 * become readable or writable. */
#ifndef PGA_DIST_TLS_H
#define PGA_DIST_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include "dist/tls_conf.h"

typedef struct pga_tls_s pga_tls_t;          /* server + client contexts */
typedef struct pga_tls_conn_s pga_tls_conn_t;

/* Builds both contexts (loads certificates and keys now, so a bad file
 * stops start-up). 0, or -1 with err filled. */
int pga_tls_new(const pga_tls_conf_t *conf, pga_tls_t **out, char *err,
                size_t errlen);
void pga_tls_free(pga_tls_t *t);

/* A TLS session over fd. peer_host (client side) is the host part of the
 * peer's node name: sent as SNI and checked against its certificate when
 * verify_peer is set, as OTP's inet_tls_dist does. NULL on ENOMEM. */
pga_tls_conn_t *pga_tls_conn_new(pga_tls_t *t, int fd, int server,
                                 const char *peer_host);
void pga_tls_conn_free(pga_tls_conn_t *tc);

/* Like recv/send on a non-blocking socket: bytes moved (> 0), 0 when the
 * peer closed, or -1 with errno EAGAIN (see pga_tls_conn_wants_write) or
 * EPROTO/EIO (the reason in pga_tls_conn_error). read fills buf as far as
 * the session has data, so a short count means "wait for readable". */
ssize_t pga_tls_conn_read(pga_tls_conn_t *tc, void *buf, size_t len);
ssize_t pga_tls_conn_write(pga_tls_conn_t *tc, const void *buf, size_t len);
/* After EAGAIN: 1 if the call waits for writable, 0 for readable. */
int pga_tls_conn_wants_write(const pga_tls_conn_t *tc);
/* 1 if the session holds decrypted bytes not read yet (no poll shows
 * them). */
int pga_tls_conn_pending(const pga_tls_conn_t *tc);
/* 1 once the TLS handshake is complete. */
int pga_tls_conn_established(const pga_tls_conn_t *tc);
/* Why the last call failed ("certificate verify failed", ...). */
const char *pga_tls_conn_error(const pga_tls_conn_t *tc);

#endif
