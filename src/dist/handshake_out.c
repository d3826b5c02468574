/* The connecting side (A) of a connection: resolve the host, ask its epmd
 * for the port, connect, then the handshake (distribution.md §2, §3):
 *
 *   RESOLVE --addr--> EPMD --port--> CONNECT --send 'N'--> OUT_STATUS
 *   OUT_STATUS --ok/ok_simultaneous--> OUT_CHALLENGE
 *   OUT_STATUS --alive: send true--> OUT_CHALLENGE
 *   OUT_STATUS --nok--> PARKED (the peer's own connection wins)
 *   OUT_CHALLENGE --'N' (flags, challenge): send 'r'--> OUT_ACK
 *   OUT_ACK --'a' with the right digest--> UP
 *
 * Without epmd (no_epmd) RESOLVE goes straight to CONNECT on our own
 * listening port. Anything else closes the connection (its callers see
 * nodedown). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "dist/conn.h"
#include "dist/epmd.h"
#include "dist/proto.h"

static int open_nonblocking(const struct sockaddr_storage *sa) {
  socklen_t len = sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                            : sizeof(struct sockaddr_in);
  int fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (const struct sockaddr *)sa, len) < 0 &&
      errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

static void start_step(pga_conn_t *c, conn_state_t state, uint16_t port) {
  struct sockaddr_storage sa = c->addr;
  if (sa.ss_family == AF_INET6)
    ((struct sockaddr_in6 *)&sa)->sin6_port = htons(port);
  else
    ((struct sockaddr_in *)&sa)->sin_port = htons(port);
  c->state = state;
  c->fd = open_nonblocking(&sa);
  if (c->fd < 0) {
    pga__conn_close(c, "connect failed");
    return;
  }
  c->want_write = 1;
  pga__conn_watch(c);
}

static const char *host_of(const char *node) {
  const char *at = strchr(node, '@');
  return at ? at + 1 : node;
}

/* Once the host is known: its epmd for the port, or without epmd the
 * port we listen on ourselves (erl -erl_epmd_port). */
static void first_step(pga_conn_t *c) {
  if (c->d->cfg.no_epmd)
    start_step(c, CONN_CONNECT, c->d->listen_port);
  else
    start_step(c, CONN_EPMD, pga_epmd_port());
}

typedef struct resolve_job_s {
  pga_dist_t *d;
  uint64_t conn_id;
  char host[PGA_NODE_NAME_MAX + 1];
  int family;
  struct sockaddr_storage addr;
  int ok;
} resolve_job_t;

static void resolve_work(void *data) {
  resolve_job_t *job = data;
  struct addrinfo hints = {.ai_family = job->family,
                           .ai_socktype = SOCK_STREAM};
  struct addrinfo *res = NULL;
  if (getaddrinfo(job->host, NULL, &hints, &res) == 0 && res &&
      res->ai_addrlen <= sizeof job->addr) {
    memcpy(&job->addr, res->ai_addr, res->ai_addrlen);
    job->ok = 1;
  }
  if (res) freeaddrinfo(res);
}

static void resolve_done(void *data, int status) {
  resolve_job_t *job = data;
  pga_conn_t *c = pga_dist_conn_by_id(job->d, job->conn_id);
  if (c && c->state == CONN_RESOLVE) {
    if (status == 0 && job->ok) {
      c->addr = job->addr;
      first_step(c);
    } else {
      pga__conn_close(c, "cannot resolve host");
    }
  }
  free(job);
}

/* A literal IPv4 or IPv6 host into c->addr; 0 if it is one. */
static int literal_host(pga_conn_t *c, const char *host) {
  struct sockaddr_in *v4 = (struct sockaddr_in *)&c->addr;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&c->addr;
  memset(&c->addr, 0, sizeof c->addr);
  if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    return 0;
  }
  if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    return 0;
  }
  return -1;
}

/* Resolves the peer's host: literal addresses at once, names on a worker
 * (getaddrinfo may block on DNS; the loop must not), in the family we
 * listen in (erl's inet_tcp or inet6_tcp). */
static void resolve(pga_conn_t *c) {
  const char *host = host_of(c->node);
  if (literal_host(c, host) == 0) {
    first_step(c);
    return;
  }
  resolve_job_t *job = calloc(1, sizeof *job);
  if (!job || !c->d->cfg.pool) {
    free(job);
    pga__conn_close(c, "cannot resolve host");
    return;
  }
  job->d = c->d;
  job->conn_id = c->id;
  job->family = c->d->listen_family == AF_INET6 ? AF_INET6 : AF_INET;
  snprintf(job->host, sizeof job->host, "%s", host);
  if (pga_pool_submit(c->d->cfg.pool, resolve_work, resolve_done, job) != 0) {
    free(job);
    pga__conn_close(c, "cannot resolve host");
  }
}

static int socket_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
  return err;
}

static void alive_of(const char *node, char *out, size_t outlen) {
  const char *at = strchr(node, '@');
  size_t n = at ? (size_t)(at - node) : strlen(node);
  if (n >= outlen) n = outlen - 1;
  memcpy(out, node, n);
  out[n] = '\0';
}

static void epmd_step(pga_conn_t *c) {
  if (!c->epmd_sent) {
    if (socket_error(c->fd) != 0) {
      pga__conn_close(c, "no epmd on the peer's host");
      return;
    }
    char alive[PGA_NODE_NAME_MAX + 1];
    alive_of(c->node, alive, sizeof alive);
    pga_dynbuf_t req;
    pga_dynbuf_init(&req, 1024);
    int rc = pga_epmd_build_port_please(&req, alive);
    ssize_t n = rc ? -1
                   : send(c->fd, pga_dynbuf_ptr(&req), pga_dynbuf_size(&req),
                          MSG_NOSIGNAL);
    int complete = n == (ssize_t)pga_dynbuf_size(&req);
    pga_dynbuf_free(&req);
    if (!complete) {
      pga__conn_close(c, "epmd request failed");
      return;
    }
    c->epmd_sent = 1;
    c->want_write = 0;
    pga__conn_watch(c);
    return;
  }
  char *dst = pga_dynbuf_reserve(&c->rbuf, 512);
  ssize_t n = dst ? recv(c->fd, dst, 512, 0) : -1;
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n > 0) pga_dynbuf_commit(&c->rbuf, (size_t)n);
  uint16_t port = 0;
  int rc = pga_epmd_parse_port2_resp(
      (const unsigned char *)pga_dynbuf_ptr(&c->rbuf),
      pga_dynbuf_size(&c->rbuf), &port);
  if (rc == PGA_EAGAIN && n > 0) return;
  pga_loop_unwatch(c->d->loop, c->fd);
  close(c->fd);
  c->fd = -1;
  pga_dynbuf_reset(&c->rbuf);
  if (rc != 0) {
    pga__conn_close(c, rc == PGA_ENOTFOUND ? "node not registered with epmd"
                                           : "bad answer from epmd");
    return;
  }
  start_step(c, CONN_CONNECT, port);
}

static void connect_step(pga_conn_t *c) {
  if (socket_error(c->fd) != 0) {
    pga__conn_close(c, "connect failed");
    return;
  }
  if (pga__transport_start(c) != 0) {
    pga__conn_close(c, "out of memory for TLS");
    return;
  }
  c->state = CONN_OUT_STATUS;
  c->want_write = 0;
  pga__conn_watch(c);
  pga_dynbuf_t msg;
  pga_dynbuf_init(&msg, 1024);
  int rc = pga__conn_write_msg(
      c, &msg,
      pga_hs_build_name(&msg, DFLAG_PGA_OFFERED, c->d->creation, c->d->name));
  if (rc != 0) pga__conn_close(c, "cannot send name");
}

void pga__conn_begin_outgoing(pga_conn_t *c) {
  switch (c->state) {
    case CONN_RESOLVE: resolve(c); break;
    case CONN_EPMD: epmd_step(c); break;
    case CONN_CONNECT: connect_step(c); break;
    default: break;
  }
}

static int on_status(pga_conn_t *c, const unsigned char *msg, size_t len) {
  char status[64];
  if (pga_hs_parse_status(msg, len, status, sizeof status) != 0)
    return PGA_EPROTO;
  if (!strcmp(status, "ok") || !strcmp(status, "ok_simultaneous")) {
    c->state = CONN_OUT_CHALLENGE;
    return 0;
  }
  if (!strcmp(status, "alive")) {
    /* We have no live connection to this peer (we would have used it), so
     * the one it knows is stale: tell it to drop that one. */
    pga_dynbuf_t m;
    pga_dynbuf_init(&m, 64);
    int rc = pga__conn_write_msg(c, &m, pga_hs_build_status(&m, "true"));
    c->state = CONN_OUT_CHALLENGE;
    return rc;
  }
  if (!strcmp(status, "nok")) {
    /* Simultaneous connect and the peer's attempt wins: keep the queue and
     * wait for its connection (handshake_in.c takes it over). */
    pga_loop_unwatch(c->d->loop, c->fd);
    close(c->fd);
    c->fd = -1;
    c->state = CONN_PARKED;
    return 0;
  }
  pga_warn("%s refused our connection: %s", c->node, status);
  return PGA_EAUTH;
}

static int on_challenge(pga_conn_t *c, const unsigned char *msg, size_t len) {
  pga_hs_name_t peer;
  if (pga_hs_parse_challenge(msg, len, &peer) != 0) return PGA_EPROTO;
  if (strcmp(peer.name, c->node) != 0) return PGA_EPROTO;
  if (!pga_hs_flags_acceptable(peer.flags)) {
    pga_warn("%s lacks required capabilities (flags %#llx)", c->node,
             (unsigned long long)peer.flags);
    return PGA_EPROTO;
  }
  unsigned char digest[PGA_DIGEST_LEN];
  if (pga_dist_digest(c->d->cookie, peer.challenge, digest) != 0 ||
      pga_dist_challenge(&c->my_challenge) != 0)
    return PGA_ESYS;
  c->flags = peer.flags;
  c->peer_creation = peer.creation;
  pga_dynbuf_t m;
  pga_dynbuf_init(&m, 64);
  int rc = pga__conn_write_msg(
      c, &m, pga_hs_build_reply(&m, c->my_challenge, digest));
  c->state = CONN_OUT_ACK;
  return rc;
}

static int on_ack(pga_conn_t *c, const unsigned char *msg, size_t len) {
  unsigned char got[PGA_DIGEST_LEN], want[PGA_DIGEST_LEN];
  if (pga_hs_parse_ack(msg, len, got) != 0) return PGA_EPROTO;
  if (pga_dist_digest(c->d->cookie, c->my_challenge, want) != 0)
    return PGA_ESYS;
  if (!pga_dist_digest_equal(got, want)) {
    pga_warn("%s answered with a wrong digest (cookie mismatch)", c->node);
    return PGA_EAUTH;
  }
  pga__conn_up(c, c->flags, c->peer_creation);
  return 0;
}

int pga__hs_out_message(pga_conn_t *c, const unsigned char *msg, size_t len) {
  switch (c->state) {
    case CONN_OUT_STATUS: return on_status(c, msg, len);
    case CONN_OUT_CHALLENGE: return on_challenge(c, msg, len);
    case CONN_OUT_ACK: return on_ack(c, msg, len);
    default: return PGA_EPROTO;
  }
}
