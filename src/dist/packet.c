/* Big packets (PGA__BIG_PACKET bytes or more): received into a buffer of
 * their own, checked and parsed on a worker thread, dispatched back on
 * the loop. Checking a 25 MB term takes the checker a good part of a
 * second; on the loop that second would be every other peer's wait.
 *
 * Order: while a connection's big packet is away, that connection reads
 * nothing (TCP holds the peer back) and dispatches nothing, so messages
 * from one peer are still handled in the order sent; other connections
 * go on.
 *
 * Life of a packet: pga__packet_begin (loop) -> pga__packet_recv (loop,
 * as the socket is readable) -> parse_work (worker) -> parse_done (loop:
 * dispatch, resume the connection) -> release. A handler may retain the
 * packet to go on with it on a worker of its own (rpc does for calls). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/log.h"
#include "dist/conn.h"
#include "dist/proto.h"

#define RECV_MAX (256 * 1024)  /* one recv() into a packet */

struct pga_packet_s {
  int refs;            /* loop thread only */
  pga_dist_t *d;
  uint64_t conn_id;
  char *buf;           /* the body: 'p', control [, payload] */
  size_t len;          /* body length (the frame's Length) */
  size_t got;          /* bytes received so far */
  int rc;              /* the parse's result (worker) */
  int background;      /* parsed on a background thread */
  pga_ctrl_t m;        /* views into buf */
};

pga_packet_t *pga_packet_retain(const pga_ctrl_t *m) {
  if (!m->packet) return NULL;
  m->packet->refs++;
  return m->packet;
}

void pga_packet_release(pga_packet_t *p) {
  if (!p || --p->refs > 0) return;
  pga_dist_free_later(p->d, p->buf);
  free(p);
}

static void parse_work(void *data) {
  pga_packet_t *p = data;
  if (p->background) pga_thread_background();
  if (p->len < 1 || (unsigned char)p->buf[0] != DIST_PASS_THROUGH)
    p->rc = PGA_EPROTO;
  else
    p->rc = pga_ctrl_parse(p->buf + 1, p->len - 1, &p->m);
  p->m.packet = p;
}

/* A payload over the term cap: a call's arguments are judged by rpc
 * (it answers badarg); any other message is dropped, as a process that
 * cannot take it would. */
static int over_cap(pga_conn_t *c, const pga_ctrl_t *m) {
  if (!m->has_payload || m->payload.len <= c->d->cfg.max_term) return 0;
  if (m->op == DOP_SPAWN_REQUEST || m->op == DOP_SPAWN_REQUEST_TT) return 0;
  pga_warn("dropped a message of %zu bytes from %s (max_term_bytes %zu)",
           m->payload.len, c->node, c->d->cfg.max_term);
  return 1;
}

static void parse_done(void *data, int status) {
  pga_packet_t *p = data;
  pga_conn_t *c = pga_dist_conn_by_id(p->d, p->conn_id);
  /* status != 0: the pool went away first (shutdown); nothing to do. */
  if (c && c->state == CONN_UP && status == 0) {
    if (p->rc != 0) {
      pga__conn_close(c, "malformed packet");
    } else {
      if (!over_cap(c, &p->m)) pga__conn_dispatch(c, &p->m);
      pga__conn_resume_reading(c);
    }
  }
  pga_packet_release(p);
}

/* The whole body is in: off to a worker; the connection waits. */
static void complete(pga_conn_t *c) {
  pga_packet_t *p = c->big_rx;
  c->big_rx = NULL;
  c->rx_paused = 1;
  pga__conn_watch(c);
  pga_pool_t *pool = pga_dist_bulk_pool(c->d, &p->background);
  if (pool && pga_pool_submit(pool, parse_work, parse_done, p) == 0) return;
  p->background = 0;
  /* No pool (tests) or a full one: parse here, as for a small packet. */
  parse_work(p);
  parse_done(p, 0);
}

int pga__packet_begin(pga_conn_t *c, size_t body_len) {
  pga_packet_t *p = calloc(1, sizeof *p);
  /* Pages are touched only as bytes arrive: a peer that announces a big
   * packet and sends nothing costs address space, not memory. */
  char *buf = p ? malloc(body_len ? body_len : 1) : NULL;
  if (!buf) {
    free(p);
    return PGA_ENOMEM;
  }
  p->refs = 1;
  p->d = c->d;
  p->conn_id = c->id;
  p->buf = buf;
  p->len = body_len;
  size_t avail = pga_dynbuf_size(&c->rbuf) - 4;
  p->got = avail < body_len ? avail : body_len;
  memcpy(p->buf, pga_dynbuf_ptr(&c->rbuf) + 4, p->got);
  pga_dynbuf_consume(&c->rbuf, 4 + p->got);
  c->big_rx = p;
  if (p->got == p->len) complete(c);
  return 0;
}

ssize_t pga__packet_recv(pga_conn_t *c) {
  pga_packet_t *p = c->big_rx;
  size_t want = p->len - p->got;
  if (want > RECV_MAX) want = RECV_MAX;
  ssize_t n = pga__transport_recv(c, p->buf + p->got, want); /* TCP or TLS */
  if (n > 0) {
    p->got += (size_t)n;
    if (p->got == p->len) complete(c);
  }
  return n;
}
