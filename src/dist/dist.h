/* The distribution layer as offered to the layers above: the local node
 * (name, creation, listener, epmd), connections to peer nodes, local
 * processes with their monitors and links, and control messages.
 *
 * Invariants:
 * 1. Everything here runs on the loop thread.
 * 2. At most one connection per peer node name is up at a time; sends to a
 *    node with no connection start one and queue until it is up (or fail it
 *    with the node's nodedown).
 * 3. A pga_conn_t is valid until its nodedown observers have run; holders
 *    that outlive a callback keep its id and look it up again.
 * 4. Our pids and references carry the creation epmd gave us. */
#ifndef PGA_DIST_DIST_H
#define PGA_DIST_DIST_H

#include <ei.h>
#include <stddef.h>
#include <stdint.h>

#include "base/loop.h"
#include "base/pool.h"
#include "pga/term.h"
#include "term/term.h"

typedef struct pga_dist_s pga_dist_t;
typedef struct pga_conn_s pga_conn_t;
typedef struct pga_proc_s pga_proc_t;

#define PGA_DIST_DEFAULT_MAX_TERM ((size_t)64 * 1024 * 1024)

typedef struct pga_dist_config_s {
  const char *name;            /* full "alive@host" */
  const char *cookie;
  unsigned tick_interval_ms;
  unsigned tick_timeout_ms;
  unsigned setup_timeout_ms;
  size_t max_packet;
  size_t max_term;             /* largest payload term delivered; 0 =
                                  PGA_DIST_DEFAULT_MAX_TERM */
  int listen_port;             /* 0 = any; else the first port tried */
  int listen_port_max;         /* the last port tried (0 = listen_port) */
  const char *listen_addr;     /* IPv4 or IPv6 literal; NULL = 0.0.0.0 */
  int no_epmd;                 /* listen on listen_port, register with no
                                  epmd, and reach every peer on that same
                                  port (erl -erl_epmd_port) */
  pga_pool_t *pool;            /* for host name resolution */
  pga_pool_t *bulk_pool;       /* background threads for big packets;
                                  NULL: pool */
} pga_dist_config_t;

/* A received packet kept in a buffer of its own (big packets). */
typedef struct pga_packet_s pga_packet_t;

/* A decoded control message: the tuple's elements and the payload, all
 * views into the packet (valid during the dispatch only, unless the
 * handler retains the packet). */
#define PGA_CTRL_MAX_ELEMS 8
typedef struct pga_ctrl_s {
  int op;
  size_t n;                          /* tuple arity */
  pga_term_t e[PGA_CTRL_MAX_ELEMS];  /* e[0] is the op itself */
  int has_payload;
  pga_term_t payload;
  pga_packet_t *packet;              /* NULL: a small packet, views die
                                        with the dispatch */
} pga_ctrl_t;

/* Keeps a big packet, and so every view of m, alive past the dispatch
 * (a handler that goes on with the message on a worker thread): returns
 * the packet to release later, or NULL when m is a small packet (copy
 * what you need then). Loop thread only, as is the release. */
pga_packet_t *pga_packet_retain(const pga_ctrl_t *m);
void pga_packet_release(pga_packet_t *p);

/* Parses one pass-through packet body (after the 'p' byte): version +
 * control tuple [+ version + payload]. 0, PGA_EBADTERM or PGA_EPROTO. */
int pga_ctrl_parse(const char *buf, size_t len, pga_ctrl_t *out);

/* Finds the next frame in buf[0..len): PGA_FRAME_MORE (incomplete),
 * PGA_FRAME_TICK (length 0), PGA_FRAME_PACKET (body at buf + 4, *body_len
 * bytes) or PGA_FRAME_TOO_BIG (above max_packet: drop the peer).
 * *frame_len is the bytes to consume. */
enum { PGA_FRAME_MORE, PGA_FRAME_TICK, PGA_FRAME_PACKET, PGA_FRAME_TOO_BIG };
int pga_frame_next(const unsigned char *buf, size_t len, size_t max_packet,
                   size_t *frame_len, size_t *body_len);
/* 1 with *body_len set when buf starts with the header of a frame whose
 * body is at least big bytes (complete or not), else 0. */
int pga_frame_big_body(const unsigned char *buf, size_t len, size_t big,
                       size_t *body_len);

/* ---- the local node ---- */
int pga_dist_new(pga_loop_t *loop, const pga_dist_config_t *cfg,
                 pga_dist_t **out, char *err, size_t errlen);
/* Speaks inet_tls from now on (before pga_dist_start): every connection
 * runs inside TLS with these contexts (src/dist/tls.h), owned by d from
 * here. 0 or PGA_EINVAL (already listening). */
struct pga_tls_s;
int pga_dist_use_tls(pga_dist_t *d, struct pga_tls_s *tls);
/* Listens and registers with epmd. */
int pga_dist_start(pga_dist_t *d, char *err, size_t errlen);
/* Unregisters from epmd (peers can no longer find us; shutdown's first
 * step). Idempotent. */
void pga_dist_unpublish(pga_dist_t *d);
/* Closes every connection (no nodedown observers run) and unregisters. */
void pga_dist_shutdown(pga_dist_t *d);
void pga_dist_free(pga_dist_t *d);
const char *pga_dist_name(const pga_dist_t *d);
uint32_t pga_dist_creation(const pga_dist_t *d);
/* Where the node listens (after pga_dist_start), for pga-node's summary:
 * "0.0.0.0:9100", "[::1]:9100", plus " over TLS (inet_tls)" and
 * " without epmd" in those modes. */
void pga_dist_endpoint(const pga_dist_t *d, char *out, size_t outlen);
pga_loop_t *pga_dist_loop(const pga_dist_t *d);
/* Number of connections that are up. */
size_t pga_dist_conn_count(const pga_dist_t *d);
/* The largest term (bytes of external format, no version byte) a message
 * may carry: larger payloads are dropped, larger call arguments refused. */
size_t pga_dist_max_term(const pga_dist_t *d);
/* The cap for builders of messages that wrap terms at that size (a reply
 * with a result and the arguments): twice it, plus room. */
size_t pga_dist_wrap_cap(const pga_dist_t *d);
/* Frees ptr on a background thread when there is one, else here: giving
 * 25 MB back to the system takes milliseconds. Loop thread only. */
void pga_dist_free_later(pga_dist_t *d, void *ptr);
/* The bulk pool is being freed: from now on nothing is sent to it. */
void pga_dist_drop_bulk_pool(pga_dist_t *d);
/* The pool for work proportional to a big message (bulk_pool, else pool;
 * NULL: none), and whether its threads are background ones. */
pga_pool_t *pga_dist_bulk_pool(const pga_dist_t *d, int *background);

/* A fresh reference of ours (3 words). */
void pga_dist_make_ref(pga_dist_t *d, erlang_ref *out);
/* 1 if a and b are the same reference (node, creation and id words). */
int pga_dist_ref_equal(const erlang_ref *a, const erlang_ref *b);
/* Writes one of our pids (by id) into tb. */
void pga_dist_put_pid(pga_dist_t *d, pga_tb_t *tb, uint64_t pid_id);
/* A fresh pid id (not in the process table; never reused while there). */
uint64_t pga__dist_next_pid(pga_dist_t *d);
/* The local pid id of a pid term, or 0 if it is not ours. */
uint64_t pga_dist_local_pid_id(pga_dist_t *d, const pga_term_t *pid);
/* The counter behind one of our references (pga_dist_make_ref), or 0 if
 * the term is not a reference of ours. */
uint64_t pga_dist_local_ref_id(pga_dist_t *d, const pga_term_t *ref);
/* 1 if the node name in a pid/ref term is ours. */
int pga_dist_is_local_node(pga_dist_t *d, const char *node);

/* Upper-layer hooks. */
typedef void (*pga_spawn_request_cb)(void *ud, pga_conn_t *conn,
                                     const pga_ctrl_t *ctrl);
typedef void (*pga_nodedown_cb)(void *ud, pga_conn_t *conn);
void pga_dist_on_spawn_request(pga_dist_t *d, pga_spawn_request_cb cb,
                               void *ud);
/* Observers run, in registration order, when a connection that was up goes
 * down, and when an attempt to reach a node fails (conn not up then). */
int pga_dist_on_nodedown(pga_dist_t *d, pga_nodedown_cb cb, void *ud);

/* ---- connections ---- */
/* The connection to node, started if needed (NULL only on ENOMEM or a
 * malformed name, or our own name). */
pga_conn_t *pga_dist_conn_get(pga_dist_t *d, const char *node);
/* An up or pending connection by id, or NULL. */
pga_conn_t *pga_dist_conn_by_id(pga_dist_t *d, uint64_t id);
/* The connection to node if there is one (up or pending), never starting
 * one; NULL otherwise. */
pga_conn_t *pga_dist_conn_find(pga_dist_t *d, const char *node);
uint64_t pga_conn_id(const pga_conn_t *c);
const char *pga_conn_node(const pga_conn_t *c);
int pga_conn_is_up(const pga_conn_t *c);
/* Negotiated flags (0 until up). */
uint64_t pga_conn_flags(const pga_conn_t *c);
/* 1 if the peer is a published (not hidden) node: Node.list/0's nodes. */
int pga_conn_peer_published(const pga_conn_t *c);
/* Queues one packet: ctrl is an encoded control tuple with its version
 * byte, payload (or NULL) a term with its version byte. 0, PGA_ENOMEM,
 * PGA_ETOOBIG, PGA_ENODEDOWN (connection closing). */
int pga_conn_send(pga_conn_t *c, const pga_tb_t *ctrl, const pga_tb_t *payload);
/* The same, but payload's bytes are taken over instead of copied (for big
 * payloads built on a worker): payload is left empty and reset, whatever
 * the result. */
int pga_conn_send_take(pga_conn_t *c, const pga_tb_t *ctrl,
                       pga_tb_t *payload);
/* Bytes queued for the peer and not yet written (back-pressure). */
size_t pga_conn_queued(const pga_conn_t *c);
/* Walks the connections that are up (diagnostics; fn must not change
 * the connection table). */
typedef void (*pga_dist_conn_fn)(void *ud, const pga_conn_t *c);
void pga_dist_each_up_conn(pga_dist_t *d, pga_dist_conn_fn fn, void *ud);

/* ---- local processes ---- */
/* Every callback may be NULL: that event is ignored (a process that only
 * holds monitors needs on_down alone). */
typedef struct pga_proc_ops_s {
  /* A message (SEND*, REG_SEND*) arrived; from may be NULL (plain SEND). */
  void (*on_message)(pga_proc_t *p, pga_conn_t *c, const pga_term_t *from,
                     const pga_term_t *msg);
  /* An exit signal: is_link for a linked process's exit, else exit/2. */
  void (*on_exit_signal)(pga_proc_t *p, pga_conn_t *c,
                         const pga_term_t *from, const pga_term_t *reason,
                         int is_link);
  /* A monitor this process holds fired (MONITOR_P_EXIT). */
  void (*on_down)(pga_proc_t *p, pga_conn_t *c, const pga_term_t *ref,
                  const pga_term_t *reason);
  /* A spawn reply to a spawn request this process sent. */
  void (*on_spawn_reply)(pga_proc_t *p, pga_conn_t *c,
                         const pga_term_t *req_id, int flags,
                         const pga_term_t *result);
  /* A peer that linked to or monitored this process lost its connection
   * (its links/monitors are gone already), or the last peer monitor was
   * removed by DEMONITOR_P. May be NULL. */
  void (*on_watcher_lost)(pga_proc_t *p, pga_conn_t *c);
} pga_proc_ops_t;

/* A new process with a fresh pid; NULL on ENOMEM. */
pga_proc_t *pga_proc_new(pga_dist_t *d, const pga_proc_ops_t *ops,
                         void *data);
/* Registers a name (0, PGA_EEXIST). */
int pga_proc_register(pga_proc_t *p, const char *name);
uint64_t pga_proc_id(const pga_proc_t *p);
void *pga_proc_data(const pga_proc_t *p);
pga_dist_t *pga_proc_dist(const pga_proc_t *p);
pga_proc_t *pga_proc_by_name(pga_dist_t *d, const char *name);
pga_proc_t *pga_proc_by_id(pga_dist_t *d, uint64_t id);
/* Walks the registered names (diagnostics, erlang:registered/0; fn must
 * not register or end processes). */
typedef void (*pga_dist_name_fn)(void *ud, const char *name, uint64_t pid_id);
void pga_dist_each_name(pga_dist_t *d, pga_dist_name_fn fn, void *ud);
/* Number of peer monitors plus links on p. */
size_t pga_proc_watchers(const pga_proc_t *p);
/* Records a link/monitor held by a peer process (as a spawn request with
 * link / monitor does). Terms are copied. 0 or PGA_ENOMEM. */
int pga_proc_add_link(pga_proc_t *p, pga_conn_t *c, const pga_term_t *pid);
int pga_proc_add_monitor(pga_proc_t *p, pga_conn_t *c,
                         const pga_term_t *watcher, const pga_term_t *ref);
/* 1 if p still has a peer monitor with this ref. */
int pga_proc_has_monitor(const pga_proc_t *p, const pga_term_t *ref);
/* Ends p: sends the exit reason to every monitor (MONITOR_P_EXIT) and link
 * (EXIT), unregisters and frees it. reason is a term without version. */
void pga_proc_exit(pga_proc_t *p, const pga_term_t *reason);
/* The same with the reason encoded (version byte first) in reason_v, as
 * a worker built it: watchers that take exit payloads get it without a
 * copy, the last one the buffer itself (reason_v may end up empty). */
void pga_proc_exit_encoded(pga_proc_t *p, pga_tb_t *reason_v);
/* Frees p silently (no signals); for shutdown. */
void pga_proc_free(pga_proc_t *p);

/* Sends from our process from_id (0 = no sender: plain SEND) to a remote
 * pid. 0 or a PGA_E* (message dropped as Erlang does). */
int pga_dist_send(pga_dist_t *d, uint64_t from_id, const pga_term_t *to,
                  const pga_tb_t *msg);
int pga_dist_reg_send(pga_dist_t *d, uint64_t from_id, const char *node,
                      const char *name, const pga_tb_t *msg);
/* Replies to a gen call tag: ALIAS_SEND when tag holds an alias and the
 * peer speaks ALIAS, else a send to pid (distribution.md §11). */
int pga_dist_gen_reply(pga_dist_t *d, uint64_t from_id, pga_conn_t *c,
                       const pga_term_t *pid, const pga_term_t *tag,
                       const pga_term_t *reply);
/* Monitors a remote process or registered name (target: pid term, or
 * name atom term with node). Sends MONITOR_P; the DOWN arrives via
 * on_down. ref is ours. */
int pga_dist_monitor(pga_dist_t *d, pga_proc_t *p, pga_conn_t *c,
                     const pga_term_t *target, const erlang_ref *ref);
int pga_dist_demonitor(pga_dist_t *d, pga_proc_t *p, pga_conn_t *c,
                       const pga_term_t *target, const erlang_ref *ref);

#endif
