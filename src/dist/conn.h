/* Folder-private: the connection and node structures shared by the files
 * of src/dist (conn.c, handshake_in.c, handshake_out.c, node.c, proc.c). */
#ifndef PGA_DIST_CONN_H
#define PGA_DIST_CONN_H

#include <netinet/in.h>
#include <sys/socket.h>
#include <stdint.h>

#include "base/dict.h"
#include "base/dynbuf.h"
#include "dist/dist.h"
#include "dist/handshake.h"
#include "dist/outq.h"
#include "dist/tls.h"

/* Connection states (distribution.md §3):
 *
 *   outgoing (A):  RESOLVE -> EPMD -> CONNECT -> OUT_STATUS -> OUT_CHALLENGE
 *                  -> OUT_ACK -> UP           (handshake_out.c)
 *                  OUT_STATUS --"nok"--> PARKED: no socket; the queue waits
 *                  for the peer's own connection (it wins) or the deadline
 *   incoming (B):  IN_NAME -> [IN_ALIVE] -> IN_REPLY -> UP  (handshake_in.c)
 *   any state  ->  CLOSED (conn_close; freed before the next sleep)
 *
 * One deadline (setup_timeout) covers every state before UP. */
typedef enum {
  CONN_RESOLVE = 0,
  CONN_EPMD,
  CONN_CONNECT,
  CONN_OUT_STATUS,
  CONN_OUT_CHALLENGE,
  CONN_OUT_ACK,
  CONN_PARKED,
  CONN_IN_NAME,
  CONN_IN_ALIVE,
  CONN_IN_REPLY,
  CONN_UP,
  CONN_CLOSED
} conn_state_t;

struct pga_conn_s {
  pga_dist_t *d;
  uint64_t id;
  int fd;
  conn_state_t state;
  int outgoing;
  int registered;        /* present in d->conns under node */
  int was_up;
  char node[PGA_NODE_NAME_MAX + 1];
  uint64_t flags;        /* negotiated, once up */
  int peer_published;    /* the peer's flags had DFLAG_PUBLISHED */
  uint32_t peer_creation;
  uint32_t my_challenge;
  struct sockaddr_storage addr; /* the peer's host (outgoing) */
  pga_dynbuf_t rbuf;
  pga_packet_t *big_rx;  /* a big packet still arriving (packet.c) */
  int rx_paused;         /* a big packet is being checked: later frames
                            wait, reading stops (per-peer order) */
  pga_outq_t wbuf;       /* bytes for the socket now */
  pga_outq_t pending;    /* frames queued until the connection is up */
  uint64_t last_read;
  int wrote_since_tick;
  int wrote_since_peer_tick;
  uint64_t timer;        /* setup deadline, then the tick timer */
  int want_write;
  int in_flush_list;
  pga_conn_t *flush_next;
  pga_conn_t *grave_next;
  uint64_t start_timer;  /* first outgoing step, run from the loop */
  int epmd_sent;         /* PORT_PLEASE2 written */
  pga_tls_conn_t *tls;   /* the TLS session (inet_tls), else NULL */
  uint64_t read_timer;   /* TLS holds bytes to read: read next iteration */
  /* admission.c: incoming and not up yet */
  int in_admission;
  int awaiting_first_bytes;
  uint64_t src_key;      /* pga__admission_source */
  uint64_t accepted_at;
  pga_conn_t *adm_prev, *adm_next;
};

typedef struct nodedown_obs_s {
  pga_nodedown_cb cb;
  void *ud;
} nodedown_obs_t;

#define MAX_NODEDOWN_OBS 8

struct pga_dist_s {
  pga_loop_t *loop;
  pga_dist_config_t cfg;
  char name[PGA_NODE_NAME_MAX + 1];
  char alive[PGA_NODE_NAME_MAX + 1];
  char host[PGA_NODE_NAME_MAX + 1];
  char *cookie;
  uint32_t creation;
  int listen_fd;
  uint16_t listen_port;
  int listen_family;     /* AF_INET or AF_INET6: how peers are resolved */
  int epmd_fd;
  uint64_t next_conn_id;
  pga_dict_t *conns;     /* node name -> conn (not up: pending or parked) */
  pga_dict_t *conn_ids;  /* id -> conn */
  pga_conn_t *flush_list;
  pga_conn_t *graveyard;
  size_t up_count;
  /* processes */
  pga_dict_t *procs;     /* pid id -> proc */
  pga_dict_t *names;     /* registered name -> proc */
  uint64_t next_pid;
  uint64_t next_ref;
  char node_atom[PGA_NODE_NAME_MAX + 8]; /* our node name as an atom */
  size_t node_atom_len;
  pga_spawn_request_cb spawn_cb;
  void *spawn_ud;
  nodedown_obs_t obs[MAX_NODEDOWN_OBS];
  size_t nobs;
  int shutting_down;
  pga_tls_t *tls;        /* inet_tls: contexts for every connection */
  /* admission.c: incoming connections before their handshake */
  pga_conn_t *adm_head, *adm_tail;   /* oldest first */
  size_t adm_count;
  pga_dict_t *adm_sources;           /* source key -> count */
};

/* conn.c */
pga_conn_t *pga__conn_new(pga_dist_t *d, int fd, int outgoing,
                          const char *node);
void pga__conn_close(pga_conn_t *c, const char *why);
/* Queues the handshake message built in m (if build_rc is 0), then frees
 * m; returns the first error. */
int pga__conn_write_msg(pga_conn_t *c, pga_dynbuf_t *m, int build_rc);
/* Queues raw bytes for the socket and schedules a flush. */
int pga__conn_write(pga_conn_t *c, const void *data, size_t len);
/* Puts c in the name table (replacing nothing). */
int pga__conn_set_name(pga_conn_t *c, const char *node);
pga_conn_t *pga__conn_by_name(pga_dist_t *d, const char *node);
/* The handshake is over: flags negotiated, start ticking, flush queue. */
void pga__conn_up(pga_conn_t *c, uint64_t peer_flags, uint32_t creation);
/* Moves the frames queued on from (not up) to to. */
int pga__conn_take_pending(pga_conn_t *to, pga_conn_t *from);
void pga__conn_flush_all(pga_dist_t *d);
void pga__conn_free_closed(pga_dist_t *d);
void pga__conn_watch(pga_conn_t *c);
/* Starts an outgoing connection from the loop (not inside the caller), so
 * a failure reports nodedown after the caller has recorded its call. */
void pga__conn_schedule_start(pga_conn_t *c);


/* packet.c: packets of PGA__BIG_PACKET bytes or more are received into a
 * buffer of their own, checked and parsed on a worker thread, then
 * dispatched on the loop; the connection reads nothing else meanwhile. */
#define PGA__BIG_PACKET (64 * 1024)
/* Starts receiving a big packet whose Length:32 header is at rbuf's
 * front (body_len bytes follow); takes what rbuf holds of it. 0 or
 * PGA_ENOMEM. */
int pga__packet_begin(pga_conn_t *c, size_t body_len);
/* Receives more of c->big_rx from the socket, as recv() returns: bytes
 * read, 0 when the peer closed, -1 with errno. Once the packet is complete
 * it is on its way to a worker and c->rx_paused is set. */
ssize_t pga__packet_recv(pga_conn_t *c);
/* Runs the dispatch of frames already buffered once a big packet is
 * done (conn.c). */
void pga__conn_resume_reading(pga_conn_t *c);
/* Dispatches one parsed packet (conn.c and packet.c). */
void pga__conn_dispatch(pga_conn_t *c, const pga_ctrl_t *m);
/* admission.c: fair admission before the handshake (see its comment). */
/* The key a peer address counts under: an IPv4 address, or an IPv6 /64
 * (one host usually holds a whole /64). */
struct sockaddr_storage;
uint64_t pga__admission_source(const struct sockaddr_storage *sa);
/* A connection for the accepted fd from source key src, after evicting
 * the oldest one of that source or of all if over a limit; NULL on ENOMEM
 * (the caller closes fd). */
pga_conn_t *pga__admit(pga_dist_t *d, int fd, uint64_t src);
/* c is up or closing: it leaves the admission set. */
void pga__admission_leave(pga_conn_t *c);
/* c sent its first bytes: the set-up deadline applies from now on. */
void pga__admission_got_bytes(pga_conn_t *c);
/* Out of descriptors: closes the oldest pending connection; 0 if none. */
int pga__admission_make_room(pga_dist_t *d);

/* transport.c: the socket's bytes, plain or through TLS (tls.h). */
/* Starts the TLS session on c->fd when the node speaks inet_tls (incoming
 * at accept, outgoing once connected). 0 or PGA_ENOMEM. */
int pga__transport_start(pga_conn_t *c);
void pga__transport_end(pga_conn_t *c);
/* recv/send semantics: > 0, 0 (peer closed; recv only), -1 with errno. */
ssize_t pga__transport_recv(pga_conn_t *c, void *buf, size_t len);
ssize_t pga__transport_send(pga_conn_t *c, const void *buf, size_t len);
/* After EAGAIN: 1 if the socket must become writable (else readable). */
int pga__transport_wants_write(const pga_conn_t *c);
/* The reason of the last failure (TLS), or fallback. */
const char *pga__transport_error(const pga_conn_t *c, const char *fallback);

/* handshake_out.c / handshake_in.c: one complete handshake message. */
int pga__hs_out_message(pga_conn_t *c, const unsigned char *msg, size_t len);
int pga__hs_in_message(pga_conn_t *c, const unsigned char *msg, size_t len);
/* Outgoing connection set-up before the handshake (epmd, connect). */
void pga__conn_begin_outgoing(pga_conn_t *c);

/* proc.c */
void pga__dist_dispatch(pga_dist_t *d, pga_conn_t *c, const pga_ctrl_t *m);
void pga__procs_conn_lost(pga_dist_t *d, pga_conn_t *c);
void pga__procs_free_all(pga_dist_t *d);

#endif
