/* Connections to peer nodes: socket I/O, framing (distribution.md §5),
 * ticks (§6), the write queue, and closing with nodedown. The handshake
 * itself is in handshake_in.c / handshake_out.c; big packets are received
 * and parsed apart (packet.c).
 *
 * Receiving, from frame to dispatch: on_readable reads into rbuf (at most
 * READ_BUDGET bytes per wake-up, so one fast peer cannot hold the loop),
 * read_frames cuts frames; a packet under PGA__BIG_PACKET bytes is parsed
 * and dispatched at once (handle_packet), a bigger one goes to packet.c
 * and comes back to pga__conn_dispatch from a worker. pga__conn_dispatch
 * is the one place where a parsed message enters the upper layers. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "dist/conn.h"
#include "dist/proto.h"

#define READ_CHUNK (64 * 1024)
#define HS_MAX_MESSAGE 2048        /* names are <= 255 bytes */
#define FLUSH_NOW_BYTES (256 * 1024)
#define READ_BUDGET (256 * 1024)   /* bytes read per wake-up and peer */
#define WRITE_BUDGET (256 * 1024)  /* bytes written per flush and peer */

static void on_io(pga_loop_t *loop, int fd, int events, void *data);
static void retry_read_later(pga_conn_t *c);

/* A big reply sent: its buffer goes back off the loop. */
static void release_taken(void *ud, void *data) {
  pga_dist_free_later(ud, data);
}
static int64_t on_setup_deadline(pga_loop_t *loop, uint64_t id, void *data);

pga_conn_t *pga__conn_new(pga_dist_t *d, int fd, int outgoing,
                          const char *node) {
  pga_conn_t *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->d = d;
  c->id = ++d->next_conn_id;
  c->fd = fd;
  c->outgoing = outgoing;
  c->state = outgoing ? CONN_RESOLVE : CONN_IN_NAME;
  if (node) snprintf(c->node, sizeof c->node, "%s", node);
  /* Big packets never enter rbuf: it holds small frames and the first
   * bytes of a big one. */
  pga_dynbuf_init(&c->rbuf, PGA__BIG_PACKET + READ_BUDGET);
  pga_outq_init(&c->wbuf);
  pga_outq_init(&c->pending);
  c->wbuf.release = c->pending.release = release_taken;
  c->wbuf.release_ud = c->pending.release_ud = d;
  c->last_read = pga_loop_now(d->loop);
  if (pga_dict_add(d->conn_ids, PGA_U64_KEY(c->id), c) != 0) {
    free(c);
    return NULL;
  }
  c->timer = pga_loop_timer(d->loop, d->cfg.setup_timeout_ms,
                            on_setup_deadline, c);
  if (fd >= 0 && pga__transport_start(c) != 0) {
    c->fd = -1; /* the caller closes it */
    pga__conn_close(c, "out of memory for TLS");
    return NULL;
  }
  return c;
}

int pga__conn_set_name(pga_conn_t *c, const char *node) {
  if (c->registered) return 0;
  if (node != c->node) snprintf(c->node, sizeof c->node, "%s", node);
  int rc = pga_dict_add(c->d->conns, c->node, c);
  if (rc == 0) c->registered = 1;
  return rc;
}

pga_conn_t *pga__conn_by_name(pga_dist_t *d, const char *node) {
  return pga_dict_get(d->conns, node);
}

void pga__conn_watch(pga_conn_t *c) {
  if (c->fd < 0) return;
  int mask = (c->rx_paused ? 0 : PGA_READABLE) |
             (c->want_write ? PGA_WRITABLE : 0);
  if (c->state == CONN_CONNECT || c->state == CONN_EPMD)
    mask = c->want_write ? PGA_WRITABLE : PGA_READABLE;
  if (pga_loop_watch(c->d->loop, c->fd, mask, on_io, c) != 0)
    pga__conn_close(c, "cannot watch socket");
}

static void schedule_flush(pga_conn_t *c) {
  if (c->in_flush_list) return;
  c->in_flush_list = 1;
  c->flush_next = c->d->flush_list;
  c->d->flush_list = c;
}

static void wait_writable(pga_conn_t *c) {
  if (c->want_write) return;
  c->want_write = 1;
  pga__conn_watch(c);
}

/* Writes at most WRITE_BUDGET bytes: a fast reader of a big reply would
 * otherwise keep the loop copying; the rest goes when the socket is
 * writable again (next iteration, level-triggered). */
static void flush(pga_conn_t *c) {
  size_t budget = WRITE_BUDGET;
  while (c->fd >= 0 && pga_outq_size(&c->wbuf) > 0) {
    if (budget == 0) {
      wait_writable(c);
      return;
    }
    size_t len;
    const char *p = pga_outq_peek(&c->wbuf, &len);
    ssize_t n = pga__transport_send(c, p, len < budget ? len : budget);
    if (n > 0) {
      pga_outq_consume(&c->wbuf, (size_t)n);
      budget -= (size_t)n;
      c->wrote_since_tick = c->wrote_since_peer_tick = 1;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      /* TLS waiting for the peer's bytes: on_io retries after reading. */
      if (!pga__transport_wants_write(c)) {
        if (c->want_write) {
          c->want_write = 0;
          pga__conn_watch(c);
        }
        return;
      }
      wait_writable(c);
      return;
    }
    pga__conn_close(c, pga__transport_error(c, "write failed"));
    return;
  }
  if (c->want_write && c->fd >= 0) {
    c->want_write = 0;
    pga__conn_watch(c);
  }
}

void pga__conn_flush_all(pga_dist_t *d) {
  while (d->flush_list) {
    pga_conn_t *c = d->flush_list;
    d->flush_list = c->flush_next;
    c->in_flush_list = 0;
    if (c->state != CONN_CLOSED) flush(c);
  }
}

int pga__conn_write(pga_conn_t *c, const void *data, size_t len) {
  if (c->state == CONN_CLOSED) return PGA_ENODEDOWN;
  if (pga_outq_add(&c->wbuf, data, len) != 0) {
    pga__conn_close(c, "out of memory for the write queue");
    return PGA_ENOMEM;
  }
  if (pga_outq_size(&c->wbuf) >= FLUSH_NOW_BYTES && !c->want_write)
    flush(c);
  else
    schedule_flush(c);
  return 0;
}

int pga__conn_write_msg(pga_conn_t *c, pga_dynbuf_t *m, int build_rc) {
  static const unsigned char high16[2] = {0, 0};
  int rc = build_rc;
  /* Inside TLS the BEAM frames handshake messages with 4 length bytes. */
  if (rc == 0 && c->tls) rc = pga__conn_write(c, high16, sizeof high16);
  if (rc == 0) rc = pga__conn_write(c, pga_dynbuf_ptr(m), pga_dynbuf_size(m));
  pga_dynbuf_free(m);
  return rc;
}

/* Appends Length:32, 'p', control [, payload] to q; a taken payload's
 * buffer is queued as it is (q frees it), any other is copied. */
static int frame_into(pga_outq_t *q, const pga_tb_t *ctrl,
                      const pga_tb_t *payload, pga_tb_t *taken) {
  const pga_tb_t *pl = taken ? taken : payload;
  size_t clen = (size_t)ctrl->x.index;
  size_t plen = pl ? (size_t)pl->x.index : 0;
  size_t body = 1 + clen + plen;
  if (body > UINT32_MAX) return PGA_ETOOBIG;
  unsigned char *p = (unsigned char *)pga_outq_reserve(q, 5 + clen);
  if (!p) return PGA_ENOMEM;
  p[0] = (unsigned char)(body >> 24);
  p[1] = (unsigned char)(body >> 16);
  p[2] = (unsigned char)(body >> 8);
  p[3] = (unsigned char)body;
  p[4] = DIST_PASS_THROUGH;
  memcpy(p + 5, ctrl->x.buff, clen);
  if (!plen) return 0;
  if (!taken) return pga_outq_add(q, pl->x.buff, plen);
  int rc = pga_outq_take(q, taken->x.buff, plen);
  taken->x.buff = NULL; /* q owns it now, also on failure */
  taken->x.buffsz = 0;
  return rc;
}

static int send_frame(pga_conn_t *c, const pga_tb_t *ctrl,
                      const pga_tb_t *payload, pga_tb_t *taken) {
  if (c->state == CONN_CLOSED) return PGA_ENODEDOWN;
  if (ctrl->err || (payload && payload->err) || (taken && taken->err))
    return PGA_EINVAL;
  pga_outq_t *q = c->state == CONN_UP ? &c->wbuf : &c->pending;
  int rc = frame_into(q, ctrl, payload, taken);
  if (rc == PGA_ENOMEM) {
    /* A frame half-queued would corrupt the stream. */
    pga__conn_close(c, "out of memory for the write queue");
    return rc;
  }
  if (rc != 0) return rc; /* too big: nothing was queued */
  if (c->state != CONN_UP) return 0;
  if (pga_outq_size(&c->wbuf) >= FLUSH_NOW_BYTES && !c->want_write)
    flush(c);
  else
    schedule_flush(c);
  return 0;
}

int pga_conn_send(pga_conn_t *c, const pga_tb_t *ctrl,
                  const pga_tb_t *payload) {
  return send_frame(c, ctrl, payload, NULL);
}

int pga_conn_send_take(pga_conn_t *c, const pga_tb_t *ctrl,
                       pga_tb_t *payload) {
  int rc = send_frame(c, ctrl, NULL, payload);
  pga__tb_destroy(payload);
  pga_tb_reset(payload);
  return rc;
}

size_t pga_conn_queued(const pga_conn_t *c) {
  return pga_outq_size(&c->wbuf) + pga_outq_size(&c->pending);
}

int pga__conn_take_pending(pga_conn_t *to, pga_conn_t *from) {
  pga_outq_move(&to->pending, &from->pending);
  return 0;
}

static int64_t on_tick(pga_loop_t *loop, uint64_t id, void *data) {
  pga_conn_t *c = data;
  uint64_t now = pga_loop_now(loop);
  if (now - c->last_read >= c->d->cfg.tick_timeout_ms) {
    c->timer = 0;
    pga__conn_close(c, "net_tick_timeout");
    return PGA_TIMER_NOMORE;
  }
  if (!c->wrote_since_tick) {
    static const unsigned char tick[4] = {0, 0, 0, 0};
    pga__conn_write(c, tick, sizeof tick);
  }
  c->wrote_since_tick = 0;
  return c->d->cfg.tick_interval_ms;
}

static int64_t on_setup_deadline(pga_loop_t *loop, uint64_t id, void *data) {
  pga_conn_t *c = data;
  c->timer = 0;
  pga__conn_close(c, "connection set-up timed out");
  return PGA_TIMER_NOMORE;
}

static int64_t on_start(pga_loop_t *loop, uint64_t id, void *data) {
  pga_conn_t *c = data;
  c->start_timer = 0;
  pga__conn_begin_outgoing(c);
  return PGA_TIMER_NOMORE;
}

void pga__conn_schedule_start(pga_conn_t *c) {
  c->start_timer = pga_loop_timer(c->d->loop, 0, on_start, c);
  if (!c->start_timer) pga__conn_close(c, "out of memory");
}

void pga__conn_up(pga_conn_t *c, uint64_t peer_flags, uint32_t creation) {
  pga_dist_t *d = c->d;
  c->flags = pga_hs_expand_flags(peer_flags) & DFLAG_PGA_OFFERED;
  c->peer_published = (peer_flags & DFLAG_PUBLISHED) != 0;
  c->peer_creation = creation;
  c->state = CONN_UP;
  c->was_up = 1;
  pga__admission_leave(c);
  d->up_count++;
  if (c->timer) pga_loop_timer_cancel(d->loop, c->timer);
  c->timer = pga_loop_timer(d->loop, d->cfg.tick_interval_ms, on_tick, c);
  if (pga_outq_size(&c->pending) > 0) {
    pga_outq_move(&c->wbuf, &c->pending);
    schedule_flush(c);
  }
  pga_info("connection to %s up (%s)", c->node,
           c->outgoing ? "outgoing" : "incoming");
}

static void notify_nodedown(pga_conn_t *c) {
  pga_dist_t *d = c->d;
  if (d->shutting_down) return;
  for (size_t i = 0; i < d->nobs; i++) d->obs[i].cb(d->obs[i].ud, c);
}

void pga__conn_close(pga_conn_t *c, const char *why) {
  if (c->state == CONN_CLOSED) return;
  pga_dist_t *d = c->d;
  int was_up = c->state == CONN_UP;
  int had_pending = pga_outq_size(&c->pending) > 0;
  if (was_up || c->outgoing)
    pga_info("connection to %s closed: %s", c->node[0] ? c->node : "?", why);
  else
    pga_debug("incoming connection closed: %s", why);
  c->state = CONN_CLOSED;
  pga__admission_leave(c);
  if (was_up) d->up_count--;
  if (c->fd >= 0) {
    /* Last words (a refusal status, replies queued before a shutdown) go
     * out if the socket takes them now; we never wait for them. */
    size_t len;
    const char *p;
    int can_write = !c->tls || pga_tls_conn_established(c->tls);
    while (can_write && (p = pga_outq_peek(&c->wbuf, &len)) != NULL &&
           pga__transport_send(c, p, len) == (ssize_t)len)
      pga_outq_consume(&c->wbuf, len);
    pga__transport_end(c);
    pga_loop_unwatch(d->loop, c->fd);
    close(c->fd);
    c->fd = -1;
  }
  if (c->timer) pga_loop_timer_cancel(d->loop, c->timer);
  if (c->start_timer) pga_loop_timer_cancel(d->loop, c->start_timer);
  if (c->read_timer) pga_loop_timer_cancel(d->loop, c->read_timer);
  c->timer = c->start_timer = c->read_timer = 0;
  if (c->registered) pga_dict_take(d->conns, c->node, NULL);
  c->registered = 0;
  pga_dict_take(d->conn_ids, PGA_U64_KEY(c->id), NULL);
  if (was_up) pga__procs_conn_lost(d, c);
  if (was_up || (c->outgoing && (had_pending || c->node[0])))
    notify_nodedown(c);
  c->grave_next = d->graveyard;
  d->graveyard = c;
}

void pga__conn_free_closed(pga_dist_t *d) {
  while (d->graveyard) {
    pga_conn_t *c = d->graveyard;
    d->graveyard = c->grave_next;
    pga_dynbuf_free(&c->rbuf);
    pga_packet_release(c->big_rx);
    pga_outq_free(&c->wbuf);
    pga_outq_free(&c->pending);
    free(c);
  }
}

/* ---- reading ---- */

/* The hand-off from the wire to the upper layers: m is parsed and
 * checked (every term in it is valid); its views live until this returns,
 * or longer for a handler that retains a big packet. */
void pga__conn_dispatch(pga_conn_t *c, const pga_ctrl_t *m) {
  pga__dist_dispatch(c->d, c, m);
}

/* A small packet: parsed and dispatched on the spot. */
static int handle_packet(pga_conn_t *c, const unsigned char *p, size_t len) {
  if (len < 1 || p[0] != DIST_PASS_THROUGH) return PGA_EPROTO;
  pga_ctrl_t m;
  int rc = pga_ctrl_parse((const char *)p + 1, len - 1, &m);
  if (rc != 0) return rc;
  m.packet = NULL;
  pga__conn_dispatch(c, &m);
  return 0;
}

/* A peer's tick. Our own timer ticks every tick_interval; a cluster with a
 * shorter net_ticktime expects more, so when we wrote nothing since the
 * peer's previous tick we tick back at its pace. */
static void answer_tick(pga_conn_t *c) {
  static const unsigned char tick[4] = {0, 0, 0, 0};
  if (!c->wrote_since_peer_tick) pga__conn_write(c, tick, sizeof tick);
  c->wrote_since_peer_tick = 0;
}

/* Consumes complete frames from rbuf while the connection stays up and no
 * big packet is pending; a big one moves to its own buffer (packet.c). */
static void read_frames(pga_conn_t *c) {
  while (c->state == CONN_UP && !c->big_rx && !c->rx_paused) {
    const unsigned char *p = (const unsigned char *)pga_dynbuf_ptr(&c->rbuf);
    size_t avail = pga_dynbuf_size(&c->rbuf), frame_len = 0, body_len = 0;
    int kind = pga_frame_next(p, avail, c->d->cfg.max_packet, &frame_len,
                              &body_len);
    if (kind == PGA_FRAME_TOO_BIG) {
      pga__conn_close(c, "packet above the size limit");
      return;
    }
    if (pga_frame_big_body(p, avail, PGA__BIG_PACKET, &body_len)) {
      if (pga__packet_begin(c, body_len) != 0)
        pga__conn_close(c, "out of memory for a packet");
      continue;
    }
    if (kind == PGA_FRAME_MORE) return;
    if (kind == PGA_FRAME_PACKET) {
      if (handle_packet(c, p + 4, body_len) != 0) {
        pga__conn_close(c, "malformed packet");
        return;
      }
    } else {
      answer_tick(c);
    }
    if (c->state == CONN_CLOSED) return;
    pga_dynbuf_consume(&c->rbuf, frame_len);
  }
}

void pga__conn_resume_reading(pga_conn_t *c) {
  if (c->state != CONN_UP) return;
  c->rx_paused = 0;
  read_frames(c);
  if (c->state == CONN_UP && !c->rx_paused) {
    pga__conn_watch(c);
    retry_read_later(c); /* TLS may hold bytes the socket no longer shows */
  }
}

/* Consumes complete handshake messages from rbuf. */
static void read_handshake(pga_conn_t *c) {
  while (c->state != CONN_UP && c->state != CONN_CLOSED) {
    size_t avail = pga_dynbuf_size(&c->rbuf);
    const unsigned char *p = (const unsigned char *)pga_dynbuf_ptr(&c->rbuf);
    size_t head = c->tls ? 4 : 2; /* TLS: 4 length bytes (write_msg) */
    if (avail < head) return;
    size_t len = ((size_t)p[head - 2] << 8) | p[head - 1];
    if ((head == 4 && (p[0] || p[1])) || len == 0 || len > HS_MAX_MESSAGE) {
      pga__conn_close(c, "malformed handshake");
      return;
    }
    if (avail < head + len) return;
    int rc = c->outgoing ? pga__hs_out_message(c, p + head, len)
                         : pga__hs_in_message(c, p + head, len);
    if (c->state == CONN_CLOSED) return;
    if (rc != 0) {
      pga__conn_close(c, "handshake refused");
      return;
    }
    pga_dynbuf_consume(&c->rbuf, head + len);
  }
}

/* Reads into rbuf, or into a big packet's own buffer, at most
 * READ_BUDGET bytes: the loop is level-triggered, so the rest is read in
 * the next iteration, after the other peers had their turn. */
static void on_readable(pga_conn_t *c) {
  size_t budget = READ_BUDGET;
  while (budget > 0 && !c->rx_paused) {
    ssize_t n;
    if (c->big_rx) {
      n = pga__packet_recv(c);
    } else {
      char *dst = pga_dynbuf_reserve(&c->rbuf, READ_CHUNK);
      if (!dst) {
        pga__conn_close(c, "read buffer limit");
        return;
      }
      n = pga__transport_recv(c, dst, READ_CHUNK);
      if (n > 0) pga_dynbuf_commit(&c->rbuf, (size_t)n);
    }
    if (n > 0) {
      c->last_read = pga_loop_now(c->d->loop);
      budget -= (size_t)n < budget ? (size_t)n : budget;
      pga__admission_got_bytes(c);
      if (c->state != CONN_UP) read_handshake(c);
      if (c->state == CONN_UP) read_frames(c);
      if (c->state == CONN_CLOSED || c->fd < 0) return;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (pga__transport_wants_write(c) && c->tls && !c->want_write) {
        c->want_write = 1; /* TLS must write before it can read on */
        pga__conn_watch(c);
      }
      return;
    }
    pga__conn_close(c, n == 0 ? "closed by peer"
                              : pga__transport_error(c, "read failed"));
    return;
  }
  retry_read_later(c); /* out of budget: TLS may hold decrypted bytes */
}

static int64_t on_read_again(pga_loop_t *loop, uint64_t id, void *data) {
  pga_conn_t *c = data;
  c->read_timer = 0;
  if (c->state != CONN_CLOSED && !c->rx_paused) on_readable(c);
  return PGA_TIMER_NOMORE;
}

/* Bytes TLS already took off the socket wake no poll: read them in the
 * next loop iteration (a timer due now), after the other peers. */
static void retry_read_later(pga_conn_t *c) {
  if (!c->tls || c->read_timer || c->rx_paused || c->state == CONN_CLOSED ||
      !pga_tls_conn_pending(c->tls))
    return;
  c->read_timer = pga_loop_timer(c->d->loop, 0, on_read_again, c);
}

static void on_io(pga_loop_t *loop, int fd, int events, void *data) {
  pga_conn_t *c = data;
  if (c->state == CONN_EPMD || c->state == CONN_CONNECT) {
    pga__conn_begin_outgoing(c);
    return;
  }
  if (events & PGA_WRITABLE) flush(c);
  /* TLS: a read may wait on writable, a write on readable; retry both. */
  if ((events & PGA_READABLE || c->tls) && c->state != CONN_CLOSED &&
      !c->rx_paused)
    on_readable(c);
  if (c->tls && c->state != CONN_CLOSED && pga_outq_size(&c->wbuf) > 0)
    flush(c);
}
