/* Connections of the endpoint on the node's loop: the listener, the HTTP
 * upgrade phase, WebSocket framing with wslay, heartbeat timeouts and
 * back-pressure.
 *
 * Invariants:
 *   1. Every buffer is bounded: the upgrade request (EP_HTTP_MAX_BYTES, by
 *      EP_UPGRADE_TIMEOUT_MS), one message (max_frame_bytes, wslay closes
 *      with 1009), queued output (max_out_bytes: past it the client is
 *      dropped), queued client messages (EP_MAILBOX_MAX: past it reading
 *      stops until the channels drained them).
 *   2. One readiness event reads at most EP_READ_BUDGET bytes, so a large
 *      message never stalls the other connections.
 *   3. A connection is never freed inside a callback that came from
 *      elsewhere (a process message, an rpc job's end): pga__ep_kill only
 *      marks it, and the reaper (a 0 ms timer) frees it on a clean stack. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "endpoints/ep_int.h"
#include "pga/errno.h"

static void io_cb(pga_loop_t *loop, int fd, int events, void *data);
static void update_watch(conn_t *c);
static void undirty(conn_t *c);
static void linger(conn_t *c);
static int64_t heartbeat_check(pga_loop_t *loop, uint64_t id, void *data);

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the reaper ---- */

static void conn_free(conn_t *c) {
  ep_t *ep = c->ep;
  if (c->dirty) undirty(c);
  if (c->auth_call) pga_rpc_call_cancel(ep->rpc, c->auth_call);
  pga__ep_channel_close_all(c);
  if (c->timer) pga_loop_timer_cancel(ep->loop, c->timer);
  if (c->ssl) pga__ep_tls_free(c);
  if (c->fd >= 0) {
    pga_loop_unwatch(ep->loop, c->fd);
    close(c->fd);
  }
  if (c->ws) {
    wslay_event_context_free(c->ws);
    if (ep->st.connections) ep->st.connections--;
  }
  pga_dynbuf_free(&c->in);
  pga_dynbuf_free(&c->out);
  pga__tb_destroy(&c->user_id);
  if (c->prev) c->prev->next = c->next;
  else ep->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  free(c);
}

static int64_t reap(pga_loop_t *loop, uint64_t id, void *data) {
  ep_t *ep = data;
  (void)loop, (void)id;
  ep->reaper = 0;
  for (conn_t *c = ep->conns, *next; c; c = next) {
    next = c->next;
    if (c->state == CS_DEAD) conn_free(c);
  }
  return PGA_TIMER_NOMORE;
}

void pga__ep_kill(conn_t *c) {
  ep_t *ep = c->ep;
  if (c->state == CS_DEAD) return;
  c->state = CS_DEAD;
  if (c->fd >= 0) pga_loop_unwatch(ep->loop, c->fd);
  c->watched = 0;
  if (!ep->reaper) ep->reaper = pga_loop_timer(ep->loop, 0, reap, ep);
}

void pga__ep_close_all(ep_t *ep) {
  while (ep->conns) conn_free(ep->conns);
  if (ep->reaper) pga_loop_timer_cancel(ep->loop, ep->reaper);
  ep->reaper = 0;
}

/* ---- WebSocket (wslay callbacks) ---- */

static ssize_t ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
                       int flags, void *user) {
  conn_t *c = user;
  (void)flags;
  if (c->state == CS_DEAD) {
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
  }
  if (pga_dynbuf_size(&c->in) > 0) { /* bytes that came with the upgrade */
    size_t n = pga_dynbuf_size(&c->in);
    if (n > len) n = len;
    memcpy(buf, pga_dynbuf_ptr(&c->in), n);
    pga_dynbuf_consume(&c->in, n);
    return (ssize_t)n;
  }
  if (c->budget == 0 || c->paused) {
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
  }
  if (len > c->budget) len = c->budget;
  ssize_t r = pga__ep_io_read(c, buf, len);
  if (r > 0) {
    c->budget -= (size_t)r;
    c->ep->st.bytes_in += (uint64_t)r;
    c->last_in_ms = pga_loop_now(c->ep->loop);
    return r;
  }
  if (r < 0)
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
  else
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE); /* EOF, error */
  return -1;
}

/* wslay's frames go into c->out (bounded by max_out_bytes) and reach the
 * socket in one send per flush: a push and its reply share a syscall. */
static ssize_t ws_send(wslay_event_context_ptr ctx, const uint8_t *data,
                       size_t len, int flags, void *user) {
  conn_t *c = user;
  (void)flags;
  if (pga_dynbuf_add(&c->out, data, len) != 0) {
    /* the client does not read: drop it rather than grow without bound */
    pga_warn("endpoint: client output over %zu bytes; closing",
             c->ep->o.max_out_bytes);
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
  }
  return (ssize_t)len;
}

/* 1 if s[0..len) is valid UTF-8 (text frames must be, RFC 6455 §8.1). */
static int utf8_ok(const unsigned char *s, size_t len) {
  size_t p = 0;
  while (p < len) {
    if (s[p] < 0x80) {
      p++;
      continue;
    }
    if (pga__utf8_next(s, len, &p) < 0) return 0;
  }
  return 1;
}

static void ws_msg(wslay_event_context_ptr ctx,
                   const struct wslay_event_on_msg_recv_arg *a, void *user) {
  conn_t *c = user;
  phx_msg_t m;
  (void)ctx;
  if (c->state != CS_WS) return;
  if (a->opcode == WSLAY_TEXT_FRAME) {
    if (!utf8_ok(a->msg, a->msg_length)) {
      pga__ep_close(c, WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA, "invalid UTF-8");
      return;
    }
    if (pga__ep_phx_decode(c->vsn, (const char *)a->msg, a->msg_length, &m)) {
      /* Phoenix's socket process crashes on such a frame: the client
       * sees the connection end and reconnects. */
      pga__ep_close(c, WSLAY_CODE_UNSUPPORTED_DATA, "invalid message");
      return;
    }
    pga__ep_channel_in(c, &m);
    pga__ep_phx_clear(&m);
  } else if (a->opcode == WSLAY_BINARY_FRAME && c->msgpack) {
    if (pga__ep_mp_decode((const char *)a->msg, a->msg_length, &m)) {
      pga__ep_close(c, WSLAY_CODE_UNSUPPORTED_DATA, "invalid message");
      return;
    }
    pga__ep_channel_in(c, &m);
    pga__ep_phx_clear(&m);
  } else if (a->opcode == WSLAY_BINARY_FRAME) {
    pga__ep_close(c, WSLAY_CODE_UNSUPPORTED_DATA, "binary messages unsupported");
  }
}

static const struct wslay_event_callbacks ws_cbs = {
    ws_recv, ws_send, NULL, NULL, NULL, NULL, ws_msg};

/* ---- output ---- */

/* Writes c->out to the socket until it is empty or the socket is full. */
static int write_out(conn_t *c) {
  if (c->ssl && !c->tls_done) return 0; /* after the handshake */
  while (pga_dynbuf_size(&c->out) > 0) {
    ssize_t r = pga__ep_io_write(c, pga_dynbuf_ptr(&c->out),
                                 pga_dynbuf_size(&c->out));
    if (r == -1) break;
    if (r < 0) return -1;
    c->ep->st.bytes_out += (uint64_t)r;
    pga_dynbuf_consume(&c->out, (size_t)r);
  }
  /* an idle connection holds no buffer */
  if (pga_dynbuf_size(&c->out) == 0) pga_dynbuf_free(&c->out);
  return 0;
}

static void flush(conn_t *c) {
  if (c->state == CS_DEAD || c->in_recv || c->lingering) return;
  if ((c->ws && wslay_event_send(c->ws) != 0) || write_out(c) != 0 ||
      (c->close_after_write && pga_dynbuf_size(&c->out) == 0)) {
    pga__ep_kill(c);
    return;
  }
  update_watch(c);
}

/* The connections with frames queued in this loop iteration are flushed
 * once, at its end (a loop post). */
static void flush_dirty(pga_loop_t *loop, void *data) {
  ep_t *ep = data;
  conn_t *list = ep->dirty;
  ep->flush_posted = 0;
  ep->dirty = NULL; /* marks made now go to the next post */
  while (list) {
    conn_t *c = list;
    list = c->dirty_next;
    c->dirty = 0;
    c->dirty_next = NULL;
    if (c->reread) { /* TLS held decrypted bytes */
      c->reread = 0;
      io_cb(loop, c->fd, PGA_READABLE, c);
    } else {
      flush(c);
    }
  }
}

static void mark_dirty(conn_t *c) {
  ep_t *ep = c->ep;
  if (c->dirty) return;
  c->dirty = 1;
  c->dirty_next = ep->dirty;
  ep->dirty = c;
  if (!ep->flush_posted && pga_loop_post(ep->loop, flush_dirty, ep) == 0)
    ep->flush_posted = 1;
}

static void undirty(conn_t *c) {
  for (conn_t **pc = &c->ep->dirty; *pc; pc = &(*pc)->dirty_next)
    if (*pc == c) {
      *pc = c->dirty_next;
      break;
    }
  c->dirty = 0;
}

int pga__ep_send(conn_t *c, const char *data, size_t len, int binary) {
  struct wslay_event_msg m = {binary ? WSLAY_BINARY_FRAME : WSLAY_TEXT_FRAME,
                              (const uint8_t *)data, len};
  pga_dynbuf_t mp;
  int rc = 0;
  if (c->state != CS_WS || !c->ws) return PGA_EINVAL;
  pga_dynbuf_init(&mp, EP_BUF_CAP);
  if (c->msgpack && !binary) { /* the JSON message, as MessagePack */
    rc = pga__ep_mp_from_json(data, len, &mp);
    m.opcode = WSLAY_BINARY_FRAME;
    m.msg = (const uint8_t *)pga_dynbuf_ptr(&mp);
    m.msg_length = pga_dynbuf_size(&mp);
  }
  if (rc != 0 || wslay_event_queue_msg(c->ws, &m) != 0) {
    pga_dynbuf_free(&mp);
    pga__ep_kill(c);
    return PGA_ENOMEM;
  }
  pga_dynbuf_free(&mp);
  mark_dirty(c);
  return 0;
}

void pga__ep_close(conn_t *c, uint16_t code, const char *reason) {
  if (c->state != CS_WS) {
    if (c->state == CS_HTTP) pga__ep_kill(c);
    return;
  }
  c->state = CS_CLOSING;
  wslay_event_queue_close(c->ws, code, (const uint8_t *)reason,
                          strlen(reason));
  /* the peer's close frame is awaited this long, then the socket goes */
  if (c->timer) pga_loop_timer_cancel(c->ep->loop, c->timer);
  c->timer = pga_loop_timer(c->ep->loop, EP_CLOSE_WAIT_MS, heartbeat_check, c);
  flush(c);
}

void pga__ep_resume(conn_t *c) {
  if (c->state == CS_WS && c->paused && c->nmail < EP_MAILBOX_MAX / 2 &&
      pga_dynbuf_size(&c->out) < c->ep->o.max_out_bytes / 2) {
    c->paused = 0;
    update_watch(c);
  }
}

static void update_watch(conn_t *c) {
  int mask = 0;
  if (c->state == CS_DEAD) return;
  if (c->ws) {
    size_t out = pga_dynbuf_size(&c->out);
    if (c->nmail >= EP_MAILBOX_MAX || out > c->ep->o.max_out_bytes / 2)
      c->paused = 1;
    int wr = wslay_event_want_read(c->ws), ww = wslay_event_want_write(c->ws);
    if (!wr && !ww && out == 0) { /* the close frame is out */
      linger(c);
      return;
    }
    if (wr && !c->paused) mask |= PGA_READABLE;
    if (ww || out) mask |= PGA_WRITABLE;
  } else if (c->ssl && !c->tls_done) {
    mask = c->tls_want;
  } else if (c->state == CS_AUTH) {
    mask = 0; /* the rest waits for the verdict */
  } else {
    mask = pga_dynbuf_size(&c->out) > 0 ? PGA_WRITABLE : PGA_READABLE;
    if (c->close_after_write) mask &= ~PGA_READABLE;
  }
  if (c->lingering) return;
  if (mask != c->watched) {
    if (pga_loop_watch(c->ep->loop, c->fd, mask, io_cb, c) != 0) {
      pga__ep_kill(c);
      return;
    }
    c->watched = mask;
  }
}

/* ---- the end of a connection ---- */

/* The close frame is written: half-close and drain what the peer still
 * sends, so a peer in mid-message reads our close frame instead of a
 * reset; the socket goes at its EOF or after EP_CLOSE_WAIT_MS. */
static void linger(conn_t *c) {
  if (c->lingering) return;
  c->lingering = 1;
  c->state = CS_CLOSING;
  if (c->ssl || shutdown(c->fd, SHUT_WR) != 0) { /* TLS: no half-close */
    pga__ep_kill(c);
    return;
  }
  if (c->timer) pga_loop_timer_cancel(c->ep->loop, c->timer);
  c->timer = pga_loop_timer(c->ep->loop, EP_CLOSE_WAIT_MS, heartbeat_check, c);
  if (pga_loop_watch(c->ep->loop, c->fd, PGA_READABLE, io_cb, c) != 0) {
    pga__ep_kill(c);
    return;
  }
  c->watched = PGA_READABLE;
}

static void drain(conn_t *c) {
  char buf[16384];
  for (size_t n = 0; n < EP_READ_BUDGET;) {
    ssize_t r = read(c->fd, buf, sizeof buf);
    if (r > 0) {
      n += (size_t)r;
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
      return;
    pga__ep_kill(c); /* EOF or error: done */
    return;
  }
}

/* ---- timers ---- */

static int64_t heartbeat_check(pga_loop_t *loop, uint64_t id, void *data) {
  conn_t *c = data;
  uint64_t now = pga_loop_now(loop), to = c->ep->o.heartbeat_timeout_ms;
  (void)id;
  if (c->state == CS_CLOSING || c->state == CS_DEAD) { /* close took long */
    c->timer = 0;
    pga__ep_kill(c);
    return PGA_TIMER_NOMORE;
  }
  if (now - c->last_in_ms >= to) {
    /* as Phoenix's transport timeout; 1001 lets phoenix.js reconnect */
    pga__ep_close(c, WSLAY_CODE_GOING_AWAY, "heartbeat timeout");
    return PGA_TIMER_NOMORE; /* pga__ep_close armed the close wait */
  }
  return (int64_t)(to - (now - c->last_in_ms));
}

static int64_t upgrade_timeout(pga_loop_t *loop, uint64_t id, void *data) {
  conn_t *c = data;
  (void)loop, (void)id;
  c->timer = 0;
  if (c->state == CS_HTTP || c->state == CS_AUTH) pga__ep_kill(c);
  return PGA_TIMER_NOMORE;
}

/* ---- the upgrade ---- */

static void http_answer(conn_t *c, int status, const char *extra) {
  const char *text = status == 400 ? "Bad Request"
                     : status == 403 ? "Forbidden"
                     : status == 404 ? "Not Found"
                     : status == 426 ? "Upgrade Required"
                     : status == 431 ? "Request Header Fields Too Large"
                     : status == 503 ? "Service Unavailable"
                                     : "Error";
  char head[256];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\ncontent-length: 0\r\n%sconnection: "
                   "close\r\n\r\n",
                   status, text, extra ? extra : "");
  pga_dynbuf_reset(&c->in);
  if (pga_dynbuf_add(&c->out, head, (size_t)n) != 0) {
    pga__ep_kill(c);
    return;
  }
  c->close_after_write = 1;
  if (status == 403) c->ep->st.refused++;
}

/* vsn "~> 2.0.0" -> V2, "~> 1.0.0" -> V1 (Phoenix's serializer
 * negotiation); 0 for anything else. */
static ep_vsn_t negotiate(const char *vsn) {
  unsigned a, b, x;
  char tail;
  if (!vsn) return EP_V1; /* Phoenix's default vsn is 1.0.0 */
  if (sscanf(vsn, "%u.%u.%u%c", &a, &b, &x, &tail) != 3) return 0;
  if (a == 2 && b == 0) return EP_V2;
  if (a == 1 && b == 0) return EP_V1;
  return 0;
}

/* connect/3: the configured authentication. 0 or 403. */
static int authenticate(conn_t *c, const char *query) {
  ep_t *ep = c->ep;
  if (ep->o.auth == PGA_EP_AUTH_NONE) return 0;
  char *token = pga__ep_query_param(query, "token");
  int rc = token ? pga__ep_token_verify(ep->key, token, ep->o.max_age_s,
                                        wall_ms(), &c->user_id)
                 : EP_TOKEN_INVALID;
  free(token);
  if (rc != EP_TOKEN_OK) {
    pga_debug("endpoint: token %s", rc == EP_TOKEN_EXPIRED ? "expired" : "refused");
    pga_tb_reset(&c->user_id);
    return 403;
  }
  return 0;
}

static int start_ws(conn_t *c) {
  if (wslay_event_context_server_init(&c->ws, &ws_cbs, c) != 0) return -1;
  wslay_event_config_set_max_recv_msg_length(c->ws, c->ep->o.max_frame_bytes);
  pga_dynbuf_free(&c->out);
  pga_dynbuf_init(&c->out, c->ep->o.max_out_bytes);
  c->ep->st.connections++;
  c->ep->st.accepted++;
  c->state = CS_WS;
  c->last_in_ms = pga_loop_now(c->ep->loop);
  if (c->timer) pga_loop_timer_cancel(c->ep->loop, c->timer);
  c->timer = pga_loop_timer(c->ep->loop, (int64_t)c->ep->o.heartbeat_timeout_ms,
                            heartbeat_check, c);
  return 0;
}

/* The 101 and the switch to WebSocket; what follows the head in c->in
 * is WebSocket already. */
static void finish_upgrade(conn_t *c) {
  char resp[256];
  int n = snprintf(resp, sizeof resp,
                   "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n"
                   "connection: Upgrade\r\nsec-websocket-accept: %s\r\n\r\n",
                   c->accept);
  /* the 101 is the first bytes of the output buffer: frames follow it */
  if (start_ws(c) != 0 || pga_dynbuf_add(&c->out, resp, (size_t)n) != 0) {
    pga__ep_kill(c);
    return;
  }
  pga_dynbuf_consume(&c->in, c->head);
  if (pga_dynbuf_size(&c->in) == 0) pga_dynbuf_free(&c->in);
}

/* ---- rpc auth: {node, module, function}(params, connect_info) ---- */

static void auth_done(void *ud, const pga_term_t *result) {
  conn_t *c = ud;
  pga_term_t tag, uid;
  size_t arity;
  c->auth_call = 0;
  if (c->state != CS_AUTH) return;
  c->state = CS_HTTP;
  if (pga_term_tuple_arity(result, &arity) == 0 && arity == 2 &&
      pga_term_tuple_get(result, 0, &tag) == 0 && pga_term_is_atom(&tag, "ok") &&
      pga_term_tuple_get(result, 1, &uid) == 0) {
    pga_tb_reset(&c->user_id);
    pga_tb_term(&c->user_id, &uid);
    finish_upgrade(c);
    if (c->state == CS_WS && pga_dynbuf_size(&c->in) > 0) {
      c->budget = EP_READ_BUDGET;
      c->in_recv = 1;
      int rc = wslay_event_recv(c->ws);
      c->in_recv = 0;
      if (rc != 0) pga__ep_kill(c);
    }
  } else {
    pga_debug("endpoint: rpc auth refused a connect");
    http_answer(c, 403, NULL);
  }
  flush(c);
}

/* %{peer_data: %{address: {a, b, c, d}, port: p, ssl_cert: nil},
 *   headers: %{name => value}} (the configured header names present). */
static void connect_info(conn_t *c, const upgrade_req_t *r, pga_tb_t *tb) {
  struct sockaddr_in sa;
  socklen_t sl = sizeof sa;
  const pga_endpoint_opts_t *o = &c->ep->o;
  size_t n = 0;
  memset(&sa, 0, sizeof sa);
  getpeername(c->fd, (struct sockaddr *)&sa, &sl);
  unsigned char *a = (unsigned char *)&sa.sin_addr;
  pga_tb_map(tb, 2);
  pga_tb_atom(tb, "peer_data");
  pga_tb_map(tb, 3);
  pga_tb_atom(tb, "address");
  pga_tb_tuple(tb, 4);
  for (int i = 0; i < 4; i++) pga_tb_int(tb, a[i]);
  pga_tb_atom(tb, "port");
  pga_tb_int(tb, ntohs(sa.sin_port));
  pga_tb_atom(tb, "ssl_cert");
  pga_tb_atom(tb, "nil");
  pga_tb_atom(tb, "headers");
  for (size_t i = 0; i < r->nheaders; i++)
    for (size_t j = 0; j < o->nrpc_headers; j++)
      if (!strcasecmp(r->hname[i], o->rpc_headers[j])) n++;
  pga_tb_map(tb, n);
  for (size_t i = 0; i < r->nheaders; i++)
    for (size_t j = 0; j < o->nrpc_headers; j++)
      if (!strcasecmp(r->hname[i], o->rpc_headers[j])) {
        pga_tb_string(tb, r->hname[i]);
        pga_tb_string(tb, r->hvalue[i] ? r->hvalue[i] : "");
      }
}

static int start_rpc_auth(conn_t *c, const upgrade_req_t *r) {
  const pga_endpoint_opts_t *o = &c->ep->o;
  pga_tb_t args;
  int rc;
  pga__tb_init(&args, 0);
  pga_tb_list(&args, 2);
  pga__ep_query_map(r->query, &args);
  connect_info(c, r, &args);
  pga_tb_nil(&args);
  pga_term_t av = pga_tb_data(&args);
  rc = pga_tb_error(&args);
  if (rc == 0)
    rc = pga_rpc_call(c->ep->rpc, o->rpc_node, o->rpc_module, o->rpc_function,
                      &av, o->rpc_timeout_ms, auth_done, c, &c->auth_call);
  pga__tb_destroy(&args);
  if (rc == 0) c->state = CS_AUTH;
  else pga_warn("endpoint: rpc auth %s: %s", o->rpc_node, pga_strerror(rc));
  return rc;
}

/* The request head is in c->in[0..head): answer it. */
static void upgrade(conn_t *c, size_t head) {
  ep_t *ep = c->ep;
  upgrade_req_t r;
  char want[300];
  int status;

  if (pga__ep_upgrade_parse(pga_dynbuf_ptr(&c->in), head, &r) != 0) {
    pga__ep_upgrade_clear(&r);
    http_answer(c, 400, NULL);
    return;
  }
  snprintf(want, sizeof want, "%s/websocket", ep->o.path);
  status = r.status;
  if (!status && strcmp(r.path, want)) status = 404;
  if (!status && ep->o.check_origin && r.origin &&
      !pga__ep_origin_allowed(r.origin, ep->o.origins, ep->o.norigins))
    status = 403;
  if (!status) {
    char *vsn = pga__ep_query_param(r.query, "vsn");
    char *ser = pga__ep_query_param(r.query, "serializer");
    c->vsn = negotiate(vsn);
    c->msgpack = ser && !strcmp(ser, "msgpack");
    /* MessagePack carries the V2 shape; other serializers are unknown */
    if (!c->vsn || (ser && !c->msgpack) || (c->msgpack && c->vsn != EP_V2))
      status = 403;
    free(vsn);
    free(ser);
  }
  if (!status && ep->st.connections >= ep->o.max_connections) status = 503;
  if (!status) {
    pga__ep_accept_key(r.key, c->accept);
    c->head = head;
    if (ep->o.auth == PGA_EP_AUTH_RPC) {
      if (start_rpc_auth(c, &r) == 0) { /* auth_done answers */
        pga__ep_upgrade_clear(&r);
        return;
      }
      status = 403;
    } else {
      status = authenticate(c, r.query);
    }
  }
  pga__ep_upgrade_clear(&r);
  if (status) {
    http_answer(c, status, status == 426 ? "sec-websocket-version: 13\r\n" : NULL);
    return;
  }
  finish_upgrade(c);
}

static void http_read(conn_t *c) {
  char buf[2048];
  ssize_t r = pga__ep_io_read(c, buf, sizeof buf);
  if (r == 0) {
    pga__ep_kill(c);
    return;
  }
  if (r < 0) return;
  c->ep->st.bytes_in += (uint64_t)r;
  if (pga_dynbuf_add(&c->in, buf, (size_t)r) != 0) {
    http_answer(c, 431, NULL);
    return;
  }
  const char *p = pga_dynbuf_ptr(&c->in);
  size_t n = pga_dynbuf_size(&c->in);
  for (size_t i = 3; i < n; i++)
    if (p[i - 3] == '\r' && p[i - 2] == '\n' && p[i - 1] == '\r' && p[i] == '\n') {
      upgrade(c, i + 1);
      return;
    }
}

static void ws_read(conn_t *c) {
  c->budget = EP_READ_BUDGET;
  c->in_recv = 1;
  int rc = wslay_event_recv(c->ws);
  c->in_recv = 0;
  if (rc != 0) {
    pga__ep_kill(c);
    return;
  }
  /* wslay only stops at WOULDBLOCK; an exhausted budget with the
   * socket still readable is picked up by the next iteration (level
   * triggered) */
}

static void io_cb(pga_loop_t *loop, int fd, int events, void *data) {
  conn_t *c = data;
  (void)loop, (void)fd;
  if (c->state == CS_DEAD) return;
  if (c->lingering) {
    drain(c);
    return;
  }
  if (c->ssl && !c->tls_done) {
    int h = pga__ep_tls_handshake(c);
    if (h < 0) {
      pga__ep_kill(c);
      return;
    }
    if (h == 0) {
      update_watch(c);
      return;
    }
    events |= PGA_READABLE; /* the request may be in already */
  }
  if (events & PGA_READABLE) {
    if (c->state == CS_HTTP && !c->close_after_write) {
      http_read(c);
      /* frames sent right behind the upgrade request */
      if (c->ws && c->state == CS_WS && pga_dynbuf_size(&c->in) > 0)
        ws_read(c);
    } else if (c->ws && c->state != CS_DEAD) {
      ws_read(c);
    }
  }
  if (c->state == CS_DEAD) return;
  if (pga__ep_io_pending(c) && !c->paused && c->state != CS_AUTH) {
    c->reread = 1;
    mark_dirty(c);
  }
  flush(c);
}

/* ---- the listener ---- */

static void accept_cb(pga_loop_t *loop, int fd, int events, void *data) {
  ep_t *ep = data;
  (void)events;
  for (int i = 0; i < 64; i++) {
    int s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (s < 0) return;
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn_t *c = calloc(1, sizeof *c);
    if (!c) {
      close(s);
      continue;
    }
    c->ep = ep;
    c->fd = s;
    c->state = CS_HTTP;
    pga_dynbuf_init(&c->in, EP_HTTP_MAX_BYTES);
    pga_dynbuf_init(&c->out, 1024);
    pga__tb_init(&c->user_id, 0);
    c->next = ep->conns;
    if (ep->conns) ep->conns->prev = c;
    ep->conns = c;
    c->timer = pga_loop_timer(loop, EP_UPGRADE_TIMEOUT_MS, upgrade_timeout, c);
    if (ep->tls && pga__ep_tls_start(c) != 0) {
      pga__ep_kill(c);
      continue;
    }
    update_watch(c);
  }
}

int pga__ep_listen(ep_t *ep, char *err, size_t errlen) {
  struct sockaddr_in sa;
  socklen_t sl = sizeof sa;
  int one = 1;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(ep->o.port);
  if (inet_pton(AF_INET, ep->o.host, &sa.sin_addr) != 1) {
    snprintf(err, errlen, "endpoint.listen: %s is not an IPv4 address",
             ep->o.host);
    return PGA_EINVAL;
  }
  ep->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (ep->lfd < 0 ||
      setsockopt(ep->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(ep->lfd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
      listen(ep->lfd, 1024) != 0 ||
      getsockname(ep->lfd, (struct sockaddr *)&sa, &sl) != 0) {
    snprintf(err, errlen, "endpoint.listen: %s:%u: %s", ep->o.host,
             (unsigned)ep->o.port, strerror(errno));
    if (ep->lfd >= 0) close(ep->lfd);
    ep->lfd = -1;
    return PGA_ESYS;
  }
  ep->port = ntohs(sa.sin_port);
  return pga_loop_watch(ep->loop, ep->lfd, PGA_READABLE, accept_cb, ep);
}
