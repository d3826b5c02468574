/* Connections to peer nodes: socket I/O, framing (distribution.md §5),
 * ticks (§6), the write queue, and closing with nodedown. The handshake
 * itself is in handshake_in.c / handshake_out.c. */
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

static void on_io(pga_loop_t *loop, int fd, int events, void *data);
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
  pga_dynbuf_init(&c->rbuf, d->cfg.max_packet + 16);
  pga_dynbuf_init(&c->wbuf, SIZE_MAX);
  pga_dynbuf_init(&c->pending, SIZE_MAX);
  c->last_read = pga_loop_now(d->loop);
  if (pga_dict_add(d->conn_ids, PGA_U64_KEY(c->id), c) != 0) {
    free(c);
    return NULL;
  }
  c->timer = pga_loop_timer(d->loop, d->cfg.setup_timeout_ms,
                            on_setup_deadline, c);
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
  int mask = PGA_READABLE | (c->want_write ? PGA_WRITABLE : 0);
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

static void flush(pga_conn_t *c) {
  while (c->fd >= 0 && pga_dynbuf_size(&c->wbuf) > 0) {
    ssize_t n = send(c->fd, pga_dynbuf_ptr(&c->wbuf),
                     pga_dynbuf_size(&c->wbuf), MSG_NOSIGNAL);
    if (n > 0) {
      pga_dynbuf_consume(&c->wbuf, (size_t)n);
      c->wrote_since_tick = c->wrote_since_peer_tick = 1;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!c->want_write) {
        c->want_write = 1;
        pga__conn_watch(c);
      }
      return;
    }
    pga__conn_close(c, "write failed");
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
  if (pga_dynbuf_add(&c->wbuf, data, len) != 0) {
    pga__conn_close(c, "out of memory for the write queue");
    return PGA_ENOMEM;
  }
  if (pga_dynbuf_size(&c->wbuf) >= FLUSH_NOW_BYTES && !c->want_write)
    flush(c);
  else
    schedule_flush(c);
  return 0;
}

int pga__conn_write_msg(pga_conn_t *c, pga_dynbuf_t *m, int build_rc) {
  int rc = build_rc;
  if (rc == 0) rc = pga__conn_write(c, pga_dynbuf_ptr(m), pga_dynbuf_size(m));
  pga_dynbuf_free(m);
  return rc;
}

/* Appends Length:32, 'p', control [, payload] to buf. */
static int frame_into(pga_dynbuf_t *buf, const pga_tb_t *ctrl,
                      const pga_tb_t *payload) {
  size_t clen = (size_t)ctrl->x.index;
  size_t plen = payload ? (size_t)payload->x.index : 0;
  size_t body = 1 + clen + plen;
  if (body > UINT32_MAX) return PGA_ETOOBIG;
  unsigned char *p = (unsigned char *)pga_dynbuf_reserve(buf, 4 + body);
  if (!p) return PGA_ENOMEM;
  p[0] = (unsigned char)(body >> 24);
  p[1] = (unsigned char)(body >> 16);
  p[2] = (unsigned char)(body >> 8);
  p[3] = (unsigned char)body;
  p[4] = DIST_PASS_THROUGH;
  memcpy(p + 5, ctrl->x.buff, clen);
  if (plen) memcpy(p + 5 + clen, payload->x.buff, plen);
  pga_dynbuf_commit(buf, 4 + body);
  return 0;
}

int pga_conn_send(pga_conn_t *c, const pga_tb_t *ctrl,
                  const pga_tb_t *payload) {
  if (c->state == CONN_CLOSED) return PGA_ENODEDOWN;
  if (ctrl->err || (payload && payload->err)) return PGA_EINVAL;
  if (c->state != CONN_UP) return frame_into(&c->pending, ctrl, payload);
  int rc = frame_into(&c->wbuf, ctrl, payload);
  if (rc != 0) return rc;
  if (pga_dynbuf_size(&c->wbuf) >= FLUSH_NOW_BYTES && !c->want_write)
    flush(c);
  else
    schedule_flush(c);
  return 0;
}

size_t pga_conn_queued(const pga_conn_t *c) {
  return pga_dynbuf_size(&c->wbuf) + pga_dynbuf_size(&c->pending);
}

int pga__conn_take_pending(pga_conn_t *to, pga_conn_t *from) {
  size_t n = pga_dynbuf_size(&from->pending);
  if (n == 0) return 0;
  int rc = pga_dynbuf_add(&to->pending, pga_dynbuf_ptr(&from->pending), n);
  pga_dynbuf_reset(&from->pending);
  return rc;
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
  d->up_count++;
  if (c->timer) pga_loop_timer_cancel(d->loop, c->timer);
  c->timer = pga_loop_timer(d->loop, d->cfg.tick_interval_ms, on_tick, c);
  size_t n = pga_dynbuf_size(&c->pending);
  if (n > 0) {
    pga__conn_write(c, pga_dynbuf_ptr(&c->pending), n);
    pga_dynbuf_free(&c->pending);
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
  int had_pending = pga_dynbuf_size(&c->pending) > 0;
  if (was_up || c->outgoing)
    pga_info("connection to %s closed: %s", c->node[0] ? c->node : "?", why);
  else
    pga_debug("incoming connection closed: %s", why);
  c->state = CONN_CLOSED;
  if (was_up) d->up_count--;
  if (c->fd >= 0) {
    /* Last words (a refusal status, replies queued before a shutdown) go
     * out if the socket takes them now; we never wait for them. */
    if (pga_dynbuf_size(&c->wbuf) > 0)
      (void)!send(c->fd, pga_dynbuf_ptr(&c->wbuf), pga_dynbuf_size(&c->wbuf),
                  MSG_NOSIGNAL | MSG_DONTWAIT);
    pga_loop_unwatch(d->loop, c->fd);
    close(c->fd);
    c->fd = -1;
  }
  if (c->timer) pga_loop_timer_cancel(d->loop, c->timer);
  if (c->start_timer) pga_loop_timer_cancel(d->loop, c->start_timer);
  c->timer = c->start_timer = 0;
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
    pga_dynbuf_free(&c->wbuf);
    pga_dynbuf_free(&c->pending);
    free(c);
  }
}

/* ---- reading ---- */

static int handle_packet(pga_conn_t *c, const unsigned char *p, size_t len) {
  if (len < 1 || p[0] != DIST_PASS_THROUGH) return PGA_EPROTO;
  pga_ctrl_t m;
  int rc = pga_ctrl_parse((const char *)p + 1, len - 1, &m);
  if (rc != 0) return rc;
  pga__dist_dispatch(c->d, c, &m);
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

/* Consumes complete frames from rbuf while the connection stays up. */
static void read_frames(pga_conn_t *c) {
  while (c->state == CONN_UP) {
    const unsigned char *p = (const unsigned char *)pga_dynbuf_ptr(&c->rbuf);
    size_t frame_len, body_len;
    switch (pga_frame_next(p, pga_dynbuf_size(&c->rbuf), c->d->cfg.max_packet,
                           &frame_len, &body_len)) {
      case PGA_FRAME_MORE: return;
      case PGA_FRAME_TOO_BIG:
        pga__conn_close(c, "packet above the size limit");
        return;
      case PGA_FRAME_PACKET:
        if (handle_packet(c, p + 4, body_len) != 0) {
          pga__conn_close(c, "malformed packet");
          return;
        }
        break;
      default: answer_tick(c); break;
    }
    if (c->state == CONN_CLOSED) return;
    pga_dynbuf_consume(&c->rbuf, frame_len);
  }
}

/* Consumes complete handshake messages from rbuf. */
static void read_handshake(pga_conn_t *c) {
  while (c->state != CONN_UP && c->state != CONN_CLOSED) {
    size_t avail = pga_dynbuf_size(&c->rbuf);
    const unsigned char *p = (const unsigned char *)pga_dynbuf_ptr(&c->rbuf);
    if (avail < 2) return;
    size_t len = ((size_t)p[0] << 8) | p[1];
    if (len == 0 || len > HS_MAX_MESSAGE) {
      pga__conn_close(c, "malformed handshake");
      return;
    }
    if (avail < 2 + len) return;
    int rc = c->outgoing ? pga__hs_out_message(c, p + 2, len)
                         : pga__hs_in_message(c, p + 2, len);
    if (c->state == CONN_CLOSED) return;
    if (rc != 0) {
      pga__conn_close(c, "handshake refused");
      return;
    }
    pga_dynbuf_consume(&c->rbuf, 2 + len);
  }
}

static void on_readable(pga_conn_t *c) {
  for (;;) {
    char *dst = pga_dynbuf_reserve(&c->rbuf, READ_CHUNK);
    if (!dst) {
      pga__conn_close(c, "read buffer limit");
      return;
    }
    ssize_t n = recv(c->fd, dst, READ_CHUNK, 0);
    if (n > 0) {
      pga_dynbuf_commit(&c->rbuf, (size_t)n);
      c->last_read = pga_loop_now(c->d->loop);
      if (c->state != CONN_UP) read_handshake(c);
      if (c->state == CONN_UP) read_frames(c);
      if (c->state == CONN_CLOSED || c->fd < 0 || (size_t)n < READ_CHUNK)
        return;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    pga__conn_close(c, n == 0 ? "closed by peer" : "read failed");
    return;
  }
}

static void on_io(pga_loop_t *loop, int fd, int events, void *data) {
  pga_conn_t *c = data;
  if (c->state == CONN_EPMD || c->state == CONN_CONNECT) {
    pga__conn_begin_outgoing(c);
    return;
  }
  if (events & PGA_WRITABLE) flush(c);
  if ((events & PGA_READABLE) && c->state != CONN_CLOSED) on_readable(c);
}
