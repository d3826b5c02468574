/* Control messages (distribution.md §8): parsing a packet into views, and
 * building the control tuples pga sends. */
#include "config.h"

#include <string.h>

#include "dist/conn.h"
#include "dist/ctrl.h"
#include "dist/proto.h"

/* Parses version + term at buf[*pos..len) into a view. */
static int versioned_term(const char *buf, size_t len, size_t *pos,
                          pga_term_t *out) {
  if (*pos >= len || (unsigned char)buf[*pos] != PGA_VERSION_MAGIC)
    return PGA_EBADTERM;
  size_t used;
  /* The envelope may add a few levels to the values (D9): those are
   * counted where they are used (the rpc layer's arguments). */
  if (pga__term_check_depth(buf + *pos + 1, len - *pos - 1,
                            PGA__TERM_WIRE_DEPTH, &used) != 0)
    return PGA_EBADTERM;
  out->buf = buf + *pos + 1;
  out->len = used;
  *pos += 1 + used;
  return 0;
}

static int split_tuple(const pga_term_t *t, pga_ctrl_t *out) {
  const unsigned char *p = (const unsigned char *)t->buf;
  size_t pos, arity;
  if (p[0] == ERL_SMALL_TUPLE_EXT) {
    arity = p[1];
    pos = 2;
  } else {
    return PGA_EPROTO; /* control tuples are small */
  }
  if (arity < 1 || arity > PGA_CTRL_MAX_ELEMS) return PGA_EPROTO;
  for (size_t i = 0; i < arity; i++) {
    size_t used;
    /* versioned_term checked the whole tuple: only its structure now */
    if (pga__term_skip(t->buf + pos, t->len - pos, &used) != 0)
      return PGA_EBADTERM;
    out->e[i].buf = t->buf + pos;
    out->e[i].len = used;
    pos += used;
  }
  out->n = arity;
  return 0;
}

int pga_ctrl_parse(const char *buf, size_t len, pga_ctrl_t *out) {
  size_t pos = 0;
  pga_term_t tuple;
  if (versioned_term(buf, len, &pos, &tuple) != 0) return PGA_EBADTERM;
  if (split_tuple(&tuple, out) != 0) return PGA_EPROTO;
  int64_t op;
  if (pga_term_get_int64(&out->e[0], &op) != 0 || op < 1 || op > 255)
    return PGA_EPROTO;
  out->op = (int)op;
  out->has_payload = 0;
  if (pos < len) {
    if (versioned_term(buf, len, &pos, &out->payload) != 0)
      return PGA_EBADTERM;
    out->has_payload = 1;
  }
  return pos == len ? 0 : PGA_EPROTO;
}

/* ---- builders: each writes version + control tuple into tb ---- */

static void head(pga_tb_t *tb, int op, size_t arity) {
  pga__tb_version(tb);
  pga_tb_tuple(tb, arity);
  pga_tb_int(tb, op);
}

void pga_ctrl_send(pga_tb_t *tb, pga_dist_t *d, uint64_t from_id,
                   const pga_term_t *to, uint64_t flags) {
  if (from_id && (flags & DFLAG_SEND_SENDER)) {
    head(tb, DOP_SEND_SENDER, 3);
    pga_dist_put_pid(d, tb, from_id);
  } else {
    head(tb, DOP_SEND, 3);
    pga_tb_atom(tb, "");
  }
  pga_tb_term(tb, to);
}

void pga_ctrl_reg_send(pga_tb_t *tb, pga_dist_t *d, uint64_t from_id,
                       const char *name) {
  head(tb, DOP_REG_SEND, 4);
  pga_dist_put_pid(d, tb, from_id);
  pga_tb_atom(tb, "");
  pga_tb_atom(tb, name);
}

void pga_ctrl_alias_send(pga_tb_t *tb, pga_dist_t *d, uint64_t from_id,
                         const pga_term_t *alias) {
  head(tb, DOP_ALIAS_SEND, 3);
  pga_dist_put_pid(d, tb, from_id);
  pga_tb_term(tb, alias);
}

void pga_ctrl_monitor_exit(pga_tb_t *tb, pga_dist_t *d, uint64_t from_id,
                           const pga_term_t *from_name, const pga_term_t *to,
                           const pga_term_t *ref, const pga_term_t *reason,
                           uint64_t flags) {
  int payload = (flags & DFLAG_EXIT_PAYLOAD) != 0;
  head(tb, payload ? DOP_PAYLOAD_MONITOR_P_EXIT : DOP_MONITOR_P_EXIT,
       payload ? 4 : 5);
  if (from_name)
    pga_tb_term(tb, from_name);
  else
    pga_dist_put_pid(d, tb, from_id);
  pga_tb_term(tb, to);
  pga_tb_term(tb, ref);
  if (!payload) pga_tb_term(tb, reason);
}

void pga_ctrl_exit(pga_tb_t *tb, pga_dist_t *d, uint64_t from_id,
                   const pga_term_t *to, const pga_term_t *reason,
                   uint64_t flags) {
  int payload = (flags & DFLAG_EXIT_PAYLOAD) != 0;
  head(tb, payload ? DOP_PAYLOAD_EXIT : DOP_EXIT, payload ? 3 : 4);
  pga_dist_put_pid(d, tb, from_id);
  pga_tb_term(tb, to);
  if (!payload) pga_tb_term(tb, reason);
}

/* The reason as a payload, when the negotiated form carries it apart. */
int pga_ctrl_reason_is_payload(uint64_t flags) {
  return (flags & DFLAG_EXIT_PAYLOAD) != 0;
}

void pga_ctrl_monitor(pga_tb_t *tb, pga_dist_t *d, int op, uint64_t from_id,
                      const pga_term_t *target, const pga_term_t *ref) {
  head(tb, op, 4);
  pga_dist_put_pid(d, tb, from_id);
  pga_tb_term(tb, target);
  pga_tb_term(tb, ref);
}

void pga_ctrl_spawn_reply(pga_tb_t *tb, pga_dist_t *d,
                          const pga_term_t *req_id, const pga_term_t *to,
                          int flags, uint64_t job_id, const char *error) {
  head(tb, DOP_SPAWN_REPLY, 5);
  pga_tb_term(tb, req_id);
  pga_tb_term(tb, to);
  pga_tb_int(tb, flags);
  if (error)
    pga_tb_atom(tb, error);
  else
    pga_dist_put_pid(d, tb, job_id);
}

void pga_ctrl_spawn_request(pga_tb_t *tb, pga_dist_t *d,
                            const pga_term_t *req_id, uint64_t from_id,
                            const pga_term_t *group_leader, const char *m,
                            const char *f, unsigned arity, int monitor) {
  head(tb, DOP_SPAWN_REQUEST, 6);
  pga_tb_term(tb, req_id);
  pga_dist_put_pid(d, tb, from_id);
  pga_tb_term(tb, group_leader);
  pga_tb_tuple(tb, 3);
  pga_tb_atom(tb, m);
  pga_tb_atom(tb, f);
  pga_tb_int(tb, arity);
  if (monitor) {
    pga_tb_list(tb, 1);
    pga_tb_atom(tb, "monitor");
  }
  pga_tb_nil(tb);
}

void pga_ctrl_unlink_id_ack(pga_tb_t *tb, pga_dist_t *d, const pga_term_t *id,
                            uint64_t from_id, const pga_term_t *to) {
  head(tb, DOP_UNLINK_ID_ACK, 4);
  pga_tb_term(tb, id);
  pga_dist_put_pid(d, tb, from_id);
  pga_tb_term(tb, to);
}
