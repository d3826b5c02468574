/* The accepting side (B) of a connection (distribution.md §3):
 *
 *   IN_NAME --'N', flags ok, name free: "ok" + challenge--> IN_REPLY
 *   IN_NAME --name up already: "alive"--> IN_ALIVE
 *   IN_ALIVE --"true": drop the old connection, challenge--> IN_REPLY
 *   IN_REPLY --'r' with the right digest: send 'a'--> UP
 *
 * Simultaneous connects: the greater node name (byte order) wins; when
 * ours is greater we answer "nok", else "ok_simultaneous" and our own
 * attempt gives its queue to this connection. A wrong digest closes the
 * socket without a reply, as the BEAM does. */
#include "config.h"

#include <string.h>

#include "base/log.h"
#include "dist/conn.h"
#include "dist/proto.h"

static int send_status(pga_conn_t *c, const char *status) {
  pga_dynbuf_t m;
  pga_dynbuf_init(&m, 64);
  int rc = pga__conn_write_msg(c, &m, pga_hs_build_status(&m, status));
  return rc;
}

static int send_challenge(pga_conn_t *c) {
  if (pga_dist_challenge(&c->my_challenge) != 0) return PGA_ESYS;
  pga_dynbuf_t m;
  pga_dynbuf_init(&m, 1024);
  int rc = pga__conn_write_msg(
      c, &m,
      pga_hs_build_challenge(&m, DFLAG_PGA_OFFERED, c->my_challenge,
                             c->d->creation, c->d->name));
  c->state = CONN_IN_REPLY;
  return rc;
}

/* Takes the node name for c, settling a clash with an existing
 * connection. Returns 0 to go on, 1 when a status was sent and the
 * handshake waits or ends, or an error. */
static int claim_name(pga_conn_t *c, const char *node) {
  pga_dist_t *d = c->d;
  pga_conn_t *old = pga__conn_by_name(d, node);
  if (!old) return pga__conn_set_name(c, node);
  if (old->state == CONN_UP) {
    snprintf(c->node, sizeof c->node, "%s", node);
    c->state = CONN_IN_ALIVE;
    return send_status(c, "alive") ? PGA_ENOMEM : 1;
  }
  if (!old->outgoing) {
    send_status(c, "nok");
    return PGA_EEXIST; /* a second incoming attempt: refuse it */
  }
  if (old->state != CONN_PARKED && strcmp(d->name, node) > 0) {
    send_status(c, "nok"); /* our own attempt wins */
    return PGA_EEXIST;
  }
  int simultaneous = old->state != CONN_PARKED;
  pga__conn_take_pending(c, old);
  pga__conn_close(old, "superseded by the peer's connection");
  if (pga__conn_set_name(c, node) != 0) return PGA_ENOMEM;
  return simultaneous ? (send_status(c, "ok_simultaneous") ? PGA_ENOMEM : 2)
                      : 0;
}

static int on_name(pga_conn_t *c, const unsigned char *msg, size_t len) {
  pga_hs_name_t peer;
  if (len > 0 && msg[0] == HS_NAME_V5) return PGA_EPROTO;
  if (pga_hs_parse_name(msg, len, &peer) != 0) return PGA_EPROTO;
  if (!pga_hs_flags_acceptable(peer.flags)) {
    pga_warn("refusing %s: missing required capabilities (flags %#llx)",
             peer.name, (unsigned long long)peer.flags);
    send_status(c, "not_allowed");
    return PGA_EPROTO;
  }
  if (!strcmp(peer.name, c->d->name)) return PGA_EPROTO;
  c->flags = peer.flags;
  c->peer_creation = peer.creation;
  int rc = claim_name(c, peer.name);
  if (rc < 0) return rc;
  if (rc == 1) return 0; /* waiting in IN_ALIVE */
  if (rc == 0 && send_status(c, "ok") != 0) return PGA_ENOMEM;
  return send_challenge(c);
}

static int on_alive_answer(pga_conn_t *c, const unsigned char *msg,
                           size_t len) {
  char answer[16];
  if (pga_hs_parse_status(msg, len, answer, sizeof answer) != 0)
    return PGA_EPROTO;
  if (strcmp(answer, "true") != 0) return PGA_EEXIST;
  pga_conn_t *old = pga__conn_by_name(c->d, c->node);
  if (old) pga__conn_close(old, "replaced by a new connection from the peer");
  if (pga__conn_set_name(c, c->node) != 0) return PGA_ENOMEM;
  return send_challenge(c);
}

static int on_reply(pga_conn_t *c, const unsigned char *msg, size_t len) {
  uint32_t their_challenge;
  unsigned char got[PGA_DIGEST_LEN], want[PGA_DIGEST_LEN];
  if (pga_hs_parse_reply(msg, len, &their_challenge, got) != 0)
    return PGA_EPROTO;
  if (pga_dist_digest(c->d->cookie, c->my_challenge, want) != 0)
    return PGA_ESYS;
  if (!pga_dist_digest_equal(got, want)) {
    pga_warn("connection attempt from %s with a wrong cookie", c->node);
    return PGA_EAUTH;
  }
  if (pga_dist_digest(c->d->cookie, their_challenge, want) != 0)
    return PGA_ESYS;
  pga_dynbuf_t m;
  pga_dynbuf_init(&m, 64);
  int rc = pga__conn_write_msg(c, &m, pga_hs_build_ack(&m, want));
  if (rc == 0) pga__conn_up(c, c->flags, c->peer_creation);
  return rc;
}

int pga__hs_in_message(pga_conn_t *c, const unsigned char *msg, size_t len) {
  switch (c->state) {
    case CONN_IN_NAME: return on_name(c, msg, len);
    case CONN_IN_ALIVE: return on_alive_answer(c, msg, len);
    case CONN_IN_REPLY: return on_reply(c, msg, len);
    default: return PGA_EPROTO;
  }
}
