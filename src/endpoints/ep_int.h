/* Folder-private: the endpoint's state and the pure codecs its files share
 * (endpoint.c lifetime, conn.c sockets and WebSocket, upgrade.c the HTTP
 * upgrade, channel.c the Phoenix channel protocol, request.c requests,
 * phx.c the serializers, json_term.c JSON <-> terms, token.c
 * Phoenix.Token). Everything is loop-thread state. */
#ifndef PGA_ENDPOINTS_EP_INT_H
#define PGA_ENDPOINTS_EP_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <wslay/wslay.h>

#include "base/dynbuf.h"
#include "base/loop.h"
#include "dist/dist.h"
#include "endpoints/endpoint.h"
#include "rpc/rpc.h"
#include "term/term.h"

#define EP_HTTP_MAX_BYTES 8192      /* upgrade request, headers included */
#define EP_UPGRADE_TIMEOUT_MS 10000 /* slowloris: the whole request by then */
#define EP_CLOSE_WAIT_MS 1000     /* for the peer's close frame */
#define EP_READ_BUDGET (256u * 1024u) /* bytes read per readiness event */
#define EP_MAILBOX_MAX 256          /* queued client messages per connection */
#define EP_MAX_HEADERS 64           /* kept per upgrade request */
#define EP_BUF_CAP (256u * 1024u * 1024u) /* one encoded message */

typedef struct ep_s ep_t;
typedef struct conn_s conn_t;
typedef struct join_s join_t;
typedef struct pending_s pending_t;
typedef struct mail_s mail_t;
typedef struct stream_ref_s stream_ref_t;

/* A stream a channel started ({stream_started, request_id, relay}). */
struct stream_ref_s {
  stream_ref_t *next;
  pga_tb_t rid, pid;
};

/* Serializer of a connection (the vsn connect parameter). */
typedef enum { EP_V1 = 1, EP_V2 = 2 } ep_vsn_t;

/* ---- phx.c: Phoenix messages ---- */

/* A decoded client message. join_ref and ref are the JSON texts of the
 * values the client sent ("null" when absent), echoed verbatim. */
typedef struct phx_msg_s {
  char *join_ref, *ref;
  char *topic, *event;
  json_t *payload;
} phx_msg_t;

/* Decodes one text frame. 0, or PGA_EPROTO (not JSON, wrong shape, topic
 * or event not a string). */
int pga__ep_phx_decode(ep_vsn_t vsn, const char *text, size_t len,
                       phx_msg_t *m);
void pga__ep_phx_clear(phx_msg_t *m);
/* The same from a decoded JSON value (the MessagePack serializer). */
int pga__ep_phx_from_json(ep_vsn_t vsn, const json_t *root, phx_msg_t *m);

/* ---- msgpack.c: the MessagePack serializer ---- */

/* One binary frame: a MessagePack [join_ref, ref, topic, event, payload].
 * 0 or PGA_EPROTO (not MessagePack, trailing bytes, wrong shape, invalid
 * UTF-8, non-string map keys, extensions, nesting past 128). */
int pga__ep_mp_decode(const char *buf, size_t len, phx_msg_t *m);
/* A message built as JSON text (phx.c), as MessagePack appended to out.
 * 0 or PGA_EINVAL/PGA_ENOMEM. */
int pga__ep_mp_from_json(const char *text, size_t len, pga_dynbuf_t *out);
/* A message: [join_ref, ref, topic, event, payload] (V2) or the V1 object;
 * join_ref/ref are JSON texts (NULL: null), payload JSON text. 0 or
 * PGA_ENOMEM. */
int pga__ep_phx_message(ep_vsn_t vsn, pga_dynbuf_t *out, const char *join_ref,
                        const char *ref, const char *topic, const char *event,
                        const char *payload, size_t plen);
/* A phx_reply with {"response": response, "status": status}. */
int pga__ep_phx_reply(ep_vsn_t vsn, pga_dynbuf_t *out, const char *join_ref,
                      const char *ref, const char *topic, const char *status,
                      const char *response, size_t rlen);

/* ---- json_term.c ---- */

/* JSON value -> term as Jason decodes it (objects: maps with binary keys,
 * arrays: lists, strings: binaries, true/false/null: atoms). 0 or
 * PGA_ENOMEM/PGA_ETOOBIG (the builder's error). */
int pga__ep_json_to_term(const json_t *j, pga_tb_t *tb);
/* Term -> JSON as the library's channel encodes it (Jason on the struct
 * turned into a map: __struct__ dropped; atoms are strings, nil null;
 * binary, atom and integer map keys). 0, or PGA_EINVAL for what Jason
 * cannot encode (tuples, pids, improper lists, invalid UTF-8...) or
 * PGA_ENOMEM. */
int pga__ep_term_to_json(const pga_term_t *t, pga_dynbuf_t *out);
/* A JSON string literal for s[0..len) (UTF-8 assumed valid). */
int pga__ep_json_string(pga_dynbuf_t *out, const char *s, size_t len);

/* ---- upgrade.c: the HTTP/1.1 upgrade request ---- */

typedef struct upgrade_req_s {
  int status;            /* 0: a valid upgrade; else the HTTP status */
  char *path;            /* decoded path */
  char *query;           /* raw query string, or NULL */
  char *key;             /* Sec-WebSocket-Key */
  char *origin;          /* or NULL */
  int upgrade, conn_upgrade, version13;
  /* every header, names lower-cased (for rpc auth's connect info) */
  char *hname[EP_MAX_HEADERS], *hvalue[EP_MAX_HEADERS];
  size_t nheaders;
} upgrade_req_t;

/* Parses a complete request head (through the blank line). 0 or PGA_EPROTO
 * (not HTTP). r must be cleared with pga__ep_upgrade_clear. */
int pga__ep_upgrade_parse(const char *buf, size_t len, upgrade_req_t *r);
void pga__ep_upgrade_clear(upgrade_req_t *r);
/* The value of query parameter name (decoded, malloc'ed) or NULL. */
char *pga__ep_query_param(const char *query, const char *name);
/* The query string as a map of binaries (later duplicates win, as
 * Plug's parser). 0 or the builder's error. */
int pga__ep_query_map(const char *query, pga_tb_t *tb);
/* Sec-WebSocket-Accept for key into out (29 bytes + NUL). */
void pga__ep_accept_key(const char *key, char out[32]);
/* Phoenix's check_origin against a list ("https://host[:port]",
 * "//host", "//" then "*.host" for subdomains): 1 allowed. */
int pga__ep_origin_allowed(const char *origin, char *const *allowed,
                           size_t n);

/* ---- token.c: Phoenix.Token (Plug.Crypto rules) ---- */

#define EP_TOKEN_OK 0
#define EP_TOKEN_INVALID 1
#define EP_TOKEN_EXPIRED 2
/* PBKDF2-HMAC-SHA256(secret, salt, 1000, 32). 0 or PGA_ENOMEM. */
int pga__ep_token_key(const char *secret, const char *salt,
                      unsigned char key[32]);
/* Verifies token with key; now_ms wall clock; max_age_s < 0: the token's
 * own. On EP_TOKEN_OK the data term is written to data. */
int pga__ep_token_verify(const unsigned char key[32], const char *token,
                         int64_t max_age_s, int64_t now_ms, pga_tb_t *data);

/* ---- tls.c: wss ---- */

/* An SSL_CTX for certfile/keyfile, or NULL with err naming the key. */
void *pga__ep_tls_ctx(const char *certfile, const char *keyfile, char *err,
                      size_t errlen);
void pga__ep_tls_ctx_free(void *ctx);

/* ---- runtime state ---- */

struct ep_s {
  ep_t *next;              /* the endpoints of the process (endpoint.c) */
  pga_node_t *node;
  pga_loop_t *loop;
  pga_dist_t *d;
  pga_rpc_t *rpc;
  pga_endpoint_opts_t o;
  int lfd;                 /* listening socket */
  uint16_t port;
  unsigned char key[32];   /* derived token key */
  conn_t *conns;
  uint64_t reaper;         /* 0 ms timer freeing closed connections */
  stream_ref_t *stops;     /* relays to stop (sent from a 0 ms timer) */
  conn_t *dirty;           /* connections to flush (flush_posted) */
  struct ssl_ctx_st *tls;  /* wss: the certificate, or NULL */
  int flush_posted;
  uint64_t stopper;
  pga_endpoint_stats_t st;
};

typedef enum { CS_HTTP, CS_AUTH, CS_WS, CS_CLOSING, CS_DEAD } conn_state_t;

struct conn_s {
  conn_t *prev, *next;
  ep_t *ep;
  int fd;
  conn_state_t state;
  int watched;             /* the mask last given to the loop */
  int paused;              /* reading stopped (back-pressure) */
  ep_vsn_t vsn;
  int msgpack;             /* serializer=msgpack: binary frames */
  pga_dynbuf_t in;         /* HTTP phase; then bytes wslay has not read */
  pga_dynbuf_t out;        /* bytes for the socket (HTTP answer, frames) */
  size_t budget;           /* bytes left to read in this event */
  wslay_event_context_ptr ws;
  int dirty;               /* frames queued: flushed at the iteration's end */
  conn_t *dirty_next;
  uint64_t timer;          /* upgrade deadline, then heartbeat timeout */
  uint64_t last_in_ms;     /* last message from the client */
  pga_tb_t user_id;        /* verified user_id term (empty: none) */
  join_t *joins;
  size_t njoins;
  size_t nmail;            /* client messages queued in joins' mailboxes */
  int close_after_write;   /* HTTP refusal: close once written */
  int in_recv;             /* inside wslay_event_recv: flush after it */
  struct ssl_st *ssl;      /* wss */
  int tls_done;            /* handshake over */
  int tls_want;            /* the mask the handshake waits on */
  int reread;              /* TLS holds decrypted bytes: read from a post */
  int lingering;           /* close frame out: draining until EOF */
  uint64_t auth_call;      /* rpc auth in flight (CS_AUTH) */
  char accept[32];         /* the 101's Sec-WebSocket-Accept, meanwhile */
  size_t head;             /* upgrade request bytes in c->in */
};

/* A joined topic: the channel process of Phoenix. Requests run for its
 * pseudo-process, which receives the async/stream messages. */
struct join_s {
  join_t *prev, *next;
  conn_t *c;
  char *topic;
  char *join_ref;          /* JSON text */
  pga_proc_t *proc;
  pending_t *busy;         /* the request in handle_in, or NULL */
  mail_t *mail, *mail_tail;
  stream_ref_t *streams;
  int draining;            /* inside pga__ep_channel_drain */
  int crashed;             /* crash at the next safe point (drain) */
};

/* A queued message of a busy channel: the client's, or a process
 * message (info) that arrived while a request was in handle_in. */
struct mail_s {
  mail_t *next;
  int info;
  phx_msg_t m;
  pga_tb_t term;
};

/* A request in flight (the rpc job's done runs exactly once); join NULL
 * once the channel went. */
struct pending_s {
  join_t *j;
  char *ref;               /* JSON text */
  pga_tb_t rid;            /* request_id as given (for error Responses) */
  char *request_type;      /* JSON text of the reply's ok response */
};

/* ---- conn.c ---- */
int pga__ep_listen(ep_t *ep, char *err, size_t errlen);
void pga__ep_close_all(ep_t *ep);
/* Queues one frame (text or binary) on c; it is written at the end of
 * the loop iteration, with the others queued meanwhile (errors only mark
 * the connection). 0 or PGA_E*. */
int pga__ep_send(conn_t *c, const char *data, size_t len, int binary);
/* Closes with a close frame (code, reason), then the socket. */
void pga__ep_close(conn_t *c, uint16_t code, const char *reason);
/* Marks c for freeing by the reaper (never frees inline). */
void pga__ep_kill(conn_t *c);
/* Reads resumed after the mailbox drained. */
void pga__ep_resume(conn_t *c);

/* ---- tls.c: the socket calls of conn.c ---- */
int pga__ep_tls_start(conn_t *c);
void pga__ep_tls_free(conn_t *c);
/* 1 done, 0 in progress (c->tls_want says on what), -1 failed. */
int pga__ep_tls_handshake(conn_t *c);
/* >0 bytes, -1 would block, 0 end of stream or error. */
ssize_t pga__ep_io_read(conn_t *c, void *buf, size_t len);
/* >=0 bytes, -1 would block, -2 error. */
ssize_t pga__ep_io_write(conn_t *c, const void *buf, size_t len);
/* 1 if TLS holds decrypted bytes not read yet. */
int pga__ep_io_pending(const conn_t *c);

/* ---- channel.c ---- */
/* One decoded client message. */
void pga__ep_channel_in(conn_t *c, phx_msg_t *m);
/* The connection ends: every join leaves silently. */
void pga__ep_channel_close_all(conn_t *c);
/* Pushes payload (JSON text) on the join's topic with the event. */
void pga__ep_push(join_t *j, const char *event, const char *payload,
                  size_t plen);
/* The join's next queued message, if it is not busy. */
void pga__ep_channel_drain(join_t *j);

/* ---- request.c ---- */
/* handle_in(event, payload) of `use PhoenixGenApi` (§11). Takes m. */
void pga__ep_request(join_t *j, phx_msg_t *m);
/* A message to the join's process ({async_call, R}, ...). */
void pga__ep_info(join_t *j, const pga_term_t *msg);
/* The join goes: its streams are stopped from a 0 ms timer (never
 * inside a relay's own message delivery). */
void pga__ep_streams_stop(join_t *j);
void pga__ep_stops_free(ep_t *ep);
/* Frees a pending request (its job has ended). */
void pga__ep_pending_free(pending_t *p);

#endif
