/* Local processes: the pid and name tables, the links and monitors peers
 * hold on them, and the dispatch of incoming control messages to them
 * (distribution.md §8, §9, §11). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "dist/conn.h"
#include "dist/ctrl.h"
#include "dist/proto.h"

typedef enum { WATCH_LINK, WATCH_MONITOR } watch_kind_t;

/* A link or monitor held by a peer process on one of ours. */
typedef struct watcher_s {
  struct watcher_s *next;
  watch_kind_t kind;
  uint64_t conn_id;
  int by_name;      /* monitor of our registered name: DOWN echoes it */
  size_t pid_len, ref_len;
  char *pid;        /* the watcher's pid, verbatim */
  char *ref;        /* the monitor reference, verbatim */
} watcher_t;

struct pga_proc_s {
  pga_dist_t *d;
  uint64_t id;
  const pga_proc_ops_t *ops;
  void *data;
  char *name;
  watcher_t *watchers;
  size_t nwatchers;
};

pga_proc_t *pga_proc_new(pga_dist_t *d, const pga_proc_ops_t *ops,
                         void *data) {
  pga_proc_t *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->d = d;
  p->ops = ops;
  p->data = data;
  p->id = pga__dist_next_pid(d);
  if (pga_dict_add(d->procs, PGA_U64_KEY(p->id), p) != 0) {
    free(p);
    return NULL;
  }
  return p;
}

int pga_proc_register(pga_proc_t *p, const char *name) {
  if (p->name) return PGA_EEXIST;
  char *key = strdup(name);
  if (!key) return PGA_ENOMEM;
  int rc = pga_dict_add(p->d->names, key, p);
  if (rc != 0) {
    free(key);
    return rc;
  }
  p->name = key;
  return 0;
}

uint64_t pga_proc_id(const pga_proc_t *p) { return p->id; }
void *pga_proc_data(const pga_proc_t *p) { return p->data; }
pga_dist_t *pga_proc_dist(const pga_proc_t *p) { return p->d; }
size_t pga_proc_watchers(const pga_proc_t *p) { return p->nwatchers; }

pga_proc_t *pga_proc_by_name(pga_dist_t *d, const char *name) {
  return pga_dict_get(d->names, name);
}

pga_proc_t *pga_proc_by_id(pga_dist_t *d, uint64_t id) {
  return pga_dict_get(d->procs, PGA_U64_KEY(id));
}

void pga_dist_each_name(pga_dist_t *d, pga_dist_name_fn fn, void *ud) {
  pga_dict_iter_t it;
  void *key, *val;
  pga_dict_iter_init(d->names, &it);
  while (pga_dict_next(&it, &key, &val))
    fn(ud, key, ((pga_proc_t *)val)->id);
}

static int add_watcher(pga_proc_t *p, watch_kind_t kind, pga_conn_t *c,
                       const pga_term_t *pid, const pga_term_t *ref,
                       int by_name) {
  watcher_t *w = calloc(1, sizeof *w);
  size_t rlen = ref ? ref->len : 0;
  char *mem = w ? malloc(pid->len + rlen) : NULL;
  if (!mem) {
    free(w);
    return PGA_ENOMEM;
  }
  w->kind = kind;
  w->conn_id = c->id;
  w->by_name = by_name;
  w->pid = mem;
  memcpy(w->pid, pid->buf, pid->len);
  w->pid_len = pid->len;
  if (ref) {
    w->ref = mem + pid->len;
    memcpy(w->ref, ref->buf, rlen);
    w->ref_len = rlen;
  }
  w->next = p->watchers;
  p->watchers = w;
  p->nwatchers++;
  return 0;
}

int pga_proc_add_link(pga_proc_t *p, pga_conn_t *c, const pga_term_t *pid) {
  return add_watcher(p, WATCH_LINK, c, pid, NULL, 0);
}

int pga_proc_add_monitor(pga_proc_t *p, pga_conn_t *c,
                         const pga_term_t *watcher, const pga_term_t *ref) {
  return add_watcher(p, WATCH_MONITOR, c, watcher, ref, 0);
}

static int same_bytes(const char *a, size_t alen, const pga_term_t *b) {
  return alen == b->len && memcmp(a, b->buf, alen) == 0;
}

int pga_proc_has_monitor(const pga_proc_t *p, const pga_term_t *ref) {
  for (const watcher_t *w = p->watchers; w; w = w->next)
    if (w->kind == WATCH_MONITOR && same_bytes(w->ref, w->ref_len, ref))
      return 1;
  return 0;
}

/* Removes the first watcher of kind whose ref (monitors) or pid (links)
 * matches; returns 1 if one was removed. */
static int remove_watcher(pga_proc_t *p, watch_kind_t kind,
                          const pga_term_t *key) {
  for (watcher_t **pw = &p->watchers; *pw; pw = &(*pw)->next) {
    watcher_t *w = *pw;
    const char *bytes = kind == WATCH_MONITOR ? w->ref : w->pid;
    size_t len = kind == WATCH_MONITOR ? w->ref_len : w->pid_len;
    if (w->kind == kind && same_bytes(bytes, len, key)) {
      *pw = w->next;
      free(w->pid);
      free(w);
      p->nwatchers--;
      return 1;
    }
  }
  return 0;
}

static void free_watchers(pga_proc_t *p) {
  while (p->watchers) {
    watcher_t *w = p->watchers;
    p->watchers = w->next;
    free(w->pid);
    free(w);
  }
  p->nwatchers = 0;
}

/* Sends the DOWN or EXIT for one watcher of p ending with reason. With
 * encoded (the reason again, version byte first) a payload reason is sent
 * from that buffer, handed over when take is set. */
static void notify_watcher(pga_proc_t *p, const watcher_t *w,
                           const pga_term_t *reason, pga_tb_t *encoded,
                           int take) {
  pga_conn_t *c = pga_dist_conn_by_id(p->d, w->conn_id);
  if (!c || c->state != CONN_UP) return;
  pga_tb_t ctrl, payload;
  pga__tb_init(&ctrl, 0);
  pga__tb_init(&payload, 0);
  pga_term_t to = {w->pid, w->pid_len};
  int sep = pga_ctrl_reason_is_payload(c->flags);
  if (w->kind == WATCH_MONITOR) {
    pga_term_t ref = {w->ref, w->ref_len};
    pga_tb_t name;
    pga__tb_init(&name, 0);
    if (w->by_name) pga_tb_atom(&name, p->name);
    pga_term_t name_term = pga_tb_data(&name);
    pga_ctrl_monitor_exit(&ctrl, p->d, p->id, w->by_name ? &name_term : NULL,
                          &to, &ref, reason, c->flags);
    pga__tb_destroy(&name);
  } else {
    pga_ctrl_exit(&ctrl, p->d, p->id, &to, reason, c->flags);
  }
  if (sep && encoded && take) {
    pga_conn_send_take(c, &ctrl, encoded);
  } else if (sep && encoded) {
    pga_conn_send(c, &ctrl, encoded);
  } else {
    if (sep) {
      pga__tb_version(&payload);
      pga_tb_term(&payload, reason);
    }
    pga_conn_send(c, &ctrl, sep ? &payload : NULL);
  }
  pga__tb_destroy(&ctrl);
  pga__tb_destroy(&payload);
}

static void unlink_tables(pga_proc_t *p) {
  pga_dict_take(p->d->procs, PGA_U64_KEY(p->id), NULL);
  if (p->name) pga_dict_delete(p->d->names, p->name); /* frees the key */
  p->name = NULL;
}

void pga_proc_exit(pga_proc_t *p, const pga_term_t *reason) {
  for (const watcher_t *w = p->watchers; w; w = w->next)
    notify_watcher(p, w, reason, NULL, 0);
  pga_proc_free(p);
}

void pga_proc_exit_encoded(pga_proc_t *p, pga_tb_t *reason_v) {
  pga_term_t reason = pga_tb_data(reason_v);
  reason.buf++, reason.len--;
  for (const watcher_t *w = p->watchers; w; w = w->next)
    notify_watcher(p, w, &reason, reason_v, w->next == NULL);
  pga_proc_free(p);
}

void pga_proc_free(pga_proc_t *p) {
  unlink_tables(p);
  free_watchers(p);
  free(p);
}

void pga__procs_conn_lost(pga_dist_t *d, pga_conn_t *c) {
  pga_dict_iter_t it;
  void *key, *val;
  pga_dict_iter_init(d->procs, &it);
  while (pga_dict_next(&it, &key, &val)) {
    pga_proc_t *p = val;
    size_t before = p->nwatchers;
    for (watcher_t **pw = &p->watchers; *pw;) {
      watcher_t *w = *pw;
      if (w->conn_id != c->id) {
        pw = &w->next;
        continue;
      }
      *pw = w->next;
      free(w->pid);
      free(w);
      p->nwatchers--;
    }
    /* The callback may end p; the iterator allows deleting the current
     * entry only. */
    if (p->nwatchers != before && p->ops->on_watcher_lost)
      p->ops->on_watcher_lost(p, c);
  }
}

void pga__procs_free_all(pga_dist_t *d) {
  pga_dict_iter_t it;
  void *key, *val;
  pga_dict_iter_init(d->procs, &it);
  while (pga_dict_next(&it, &key, &val)) pga_proc_free(val);
}

/* ---- incoming control messages ---- */

static pga_proc_t *target_by_pid(pga_dist_t *d, const pga_term_t *pid) {
  uint64_t id = pga_dist_local_pid_id(d, pid);
  return id ? pga_proc_by_id(d, id) : NULL;
}

static pga_proc_t *target_by_name(pga_dist_t *d, const pga_term_t *atom) {
  char name[PGA_ATOM_BUF];
  if (pga_term_get_atom(atom, name, sizeof name) != 0) return NULL;
  return pga_proc_by_name(d, name);
}

static pga_proc_t *target_of(pga_dist_t *d, const pga_term_t *t) {
  return pga_term_type(t) == PGA_T_ATOM ? target_by_name(d, t)
                                        : target_by_pid(d, t);
}

static void deliver(pga_dist_t *d, pga_conn_t *c, const pga_ctrl_t *m,
                    const pga_term_t *from, pga_proc_t *p) {
  if (p && m->has_payload && p->ops->on_message)
    p->ops->on_message(p, c, from, &m->payload);
}

/* Answers a MONITOR_P or LINK for a missing process with noproc. */
static void answer_noproc(pga_dist_t *d, pga_conn_t *c, const pga_ctrl_t *m) {
  pga_tb_t ctrl, reason;
  pga__tb_init(&ctrl, 0);
  pga__tb_init(&reason, 0);
  pga_tb_atom(&reason, "noproc");
  pga_term_t r = pga_tb_data(&reason);
  int sep = pga_ctrl_reason_is_payload(c->flags);
  pga_tb_t payload;
  pga__tb_init(&payload, 0);
  if (sep) {
    pga__tb_version(&payload);
    pga_tb_atom(&payload, "noproc");
  }
  /* From is the target as the peer named it (pid or atom), echoed. */
  if (m->op == DOP_MONITOR_P) {
    pga__tb_version(&ctrl);
    pga_tb_tuple(&ctrl, sep ? 4 : 5);
    pga_tb_int(&ctrl, sep ? DOP_PAYLOAD_MONITOR_P_EXIT : DOP_MONITOR_P_EXIT);
    pga_tb_term(&ctrl, &m->e[2]);
    pga_tb_term(&ctrl, &m->e[1]);
    pga_tb_term(&ctrl, &m->e[3]);
    if (!sep) pga_tb_term(&ctrl, &r);
  } else {
    pga__tb_version(&ctrl);
    pga_tb_tuple(&ctrl, sep ? 3 : 4);
    pga_tb_int(&ctrl, sep ? DOP_PAYLOAD_EXIT : DOP_EXIT);
    pga_tb_term(&ctrl, &m->e[2]);
    pga_tb_term(&ctrl, &m->e[1]);
    if (!sep) pga_tb_term(&ctrl, &r);
  }
  pga_conn_send(c, &ctrl, sep ? &payload : NULL);
  pga__tb_destroy(&ctrl);
  pga__tb_destroy(&reason);
  pga__tb_destroy(&payload);
}

static void on_monitor(pga_dist_t *d, pga_conn_t *c, const pga_ctrl_t *m) {
  if (m->n != 4) return;
  pga_proc_t *p = target_of(d, &m->e[2]);
  if (!p) {
    answer_noproc(d, c, m);
    return;
  }
  int by_name = pga_term_type(&m->e[2]) == PGA_T_ATOM;
  if (add_watcher(p, WATCH_MONITOR, c, &m->e[1], &m->e[3], by_name) != 0)
    pga_warn("out of memory recording a monitor from %s", c->node);
}

static void on_demonitor(pga_dist_t *d, pga_conn_t *c, const pga_ctrl_t *m) {
  if (m->n != 4) return;
  pga_proc_t *p = target_of(d, &m->e[2]);
  /* A caller that gave up (erpc timeout): let the process know when
   * nobody watches it any more, so a job can stop early. */
  if (p && remove_watcher(p, WATCH_MONITOR, &m->e[3]) && !p->nwatchers &&
      p->ops->on_watcher_lost)
    p->ops->on_watcher_lost(p, c);
}

static void on_link(pga_dist_t *d, pga_conn_t *c, const pga_ctrl_t *m) {
  if (m->n != 3) return;
  pga_proc_t *p = target_by_pid(d, &m->e[2]);
  if (!p) {
    answer_noproc(d, c, m);
    return;
  }
  add_watcher(p, WATCH_LINK, c, &m->e[1], NULL, 0);
}

static void on_unlink_id(pga_dist_t *d, pga_conn_t *c, const pga_ctrl_t *m) {
  if (m->n != 4) return;
  pga_proc_t *p = target_by_pid(d, &m->e[3]);
  if (!p) return;
  remove_watcher(p, WATCH_LINK, &m->e[2]);
  pga_tb_t ctrl;
  pga__tb_init(&ctrl, 0);
  pga_ctrl_unlink_id_ack(&ctrl, d, &m->e[1], p->id, &m->e[2]);
  pga_conn_send(c, &ctrl, NULL);
  pga__tb_destroy(&ctrl);
}

/* EXIT/EXIT2 in all their forms; reason_at is the reason's element, or 0
 * when the reason is the payload. */
static void on_exit_signal_msg(pga_dist_t *d, pga_conn_t *c, const pga_ctrl_t *m,
                    size_t reason_at, int is_link) {
  if (m->n < 3) return;
  const pga_term_t *reason = NULL;
  if (reason_at && reason_at < m->n) reason = &m->e[reason_at];
  if (!reason_at && m->has_payload) reason = &m->payload;
  pga_proc_t *p = target_by_pid(d, &m->e[2]);
  if (!p || !reason) return;
  if (is_link && !remove_watcher(p, WATCH_LINK, &m->e[1])) return;
  if (p->ops->on_exit_signal) p->ops->on_exit_signal(p, c, &m->e[1], reason, is_link);
}

static void on_monitor_exit(pga_dist_t *d, pga_conn_t *c, const pga_ctrl_t *m,
                            const pga_term_t *reason) {
  if (m->n < 4 || !reason) return;
  pga_proc_t *p = target_by_pid(d, &m->e[2]);
  if (p && p->ops->on_down) p->ops->on_down(p, c, &m->e[3], reason);
}

static void on_spawn_reply(pga_dist_t *d, pga_conn_t *c, const pga_ctrl_t *m) {
  if (m->n < 5) return;
  pga_proc_t *p = target_by_pid(d, &m->e[2]);
  int64_t flags = 0;
  if (!p || !p->ops->on_spawn_reply ||
      pga_term_get_int64(&m->e[3], &flags) != 0)
    return;
  p->ops->on_spawn_reply(p, c, &m->e[1], (int)flags, &m->e[4]);
}

static void dispatch_send(pga_dist_t *d, pga_conn_t *c, const pga_ctrl_t *m) {
  switch (m->op) {
    case DOP_SEND:
    case DOP_SEND_TT:
      if (m->n >= 3) deliver(d, c, m, NULL, target_by_pid(d, &m->e[2]));
      break;
    case DOP_SEND_SENDER:
    case DOP_SEND_SENDER_TT:
      if (m->n >= 3) deliver(d, c, m, &m->e[1], target_by_pid(d, &m->e[2]));
      break;
    case DOP_REG_SEND:
    case DOP_REG_SEND_TT:
      if (m->n >= 4) deliver(d, c, m, &m->e[1], target_by_name(d, &m->e[3]));
      break;
    default:
      break; /* ALIAS_SEND: we hand out no aliases; drop */
  }
}

void pga__dist_dispatch(pga_dist_t *d, pga_conn_t *c, const pga_ctrl_t *m) {
  switch (m->op) {
    case DOP_LINK: on_link(d, c, m); break;
    case DOP_EXIT: on_exit_signal_msg(d, c, m, 3, 1); break;
    case DOP_EXIT_TT: on_exit_signal_msg(d, c, m, 4, 1); break;
    case DOP_PAYLOAD_EXIT:
    case DOP_PAYLOAD_EXIT_TT: on_exit_signal_msg(d, c, m, 0, 1); break;
    case DOP_EXIT2: on_exit_signal_msg(d, c, m, 3, 0); break;
    case DOP_EXIT2_TT: on_exit_signal_msg(d, c, m, 4, 0); break;
    case DOP_PAYLOAD_EXIT2:
    case DOP_PAYLOAD_EXIT2_TT: on_exit_signal_msg(d, c, m, 0, 0); break;
    case DOP_MONITOR_P: on_monitor(d, c, m); break;
    case DOP_DEMONITOR_P: on_demonitor(d, c, m); break;
    case DOP_MONITOR_P_EXIT:
      on_monitor_exit(d, c, m, m->n >= 5 ? &m->e[4] : NULL);
      break;
    case DOP_PAYLOAD_MONITOR_P_EXIT:
      on_monitor_exit(d, c, m, m->has_payload ? &m->payload : NULL);
      break;
    case DOP_SPAWN_REQUEST:
    case DOP_SPAWN_REQUEST_TT:
      if (d->spawn_cb && m->n >= 6 && m->has_payload)
        d->spawn_cb(d->spawn_ud, c, m);
      break;
    case DOP_SPAWN_REPLY:
    case DOP_SPAWN_REPLY_TT: on_spawn_reply(d, c, m); break;
    case DOP_UNLINK_ID: on_unlink_id(d, c, m); break;
    default: dispatch_send(d, c, m); break;
  }
}

/* ---- sending from our processes ---- */

static pga_conn_t *conn_for_pid(pga_dist_t *d, const pga_term_t *pid) {
  erlang_pid p;
  if (pga__term_get_pid(pid, &p) != 0) return NULL;
  return pga_dist_conn_get(d, p.node);
}

int pga_dist_send(pga_dist_t *d, uint64_t from_id, const pga_term_t *to,
                  const pga_tb_t *msg) {
  uint64_t local = pga_dist_local_pid_id(d, to);
  if (local) {
    pga_proc_t *p = pga_proc_by_id(d, local);
    pga_term_t body = pga_tb_data(msg);
    body.buf++, body.len--; /* skip the version byte */
    if (p && p->ops->on_message) p->ops->on_message(p, NULL, NULL, &body);
    return 0;
  }
  pga_conn_t *c = conn_for_pid(d, to);
  if (!c) return PGA_ENODEDOWN;
  pga_tb_t ctrl;
  pga__tb_init(&ctrl, 0);
  pga_ctrl_send(&ctrl, d, from_id, to, c->flags);
  int rc = pga_conn_send(c, &ctrl, msg);
  pga__tb_destroy(&ctrl);
  return rc;
}

int pga_dist_reg_send(pga_dist_t *d, uint64_t from_id, const char *node,
                      const char *name, const pga_tb_t *msg) {
  pga_conn_t *c = pga_dist_conn_get(d, node);
  if (!c) return PGA_ENODEDOWN;
  pga_tb_t ctrl;
  pga__tb_init(&ctrl, 0);
  pga_ctrl_reg_send(&ctrl, d, from_id, name);
  int rc = pga_conn_send(c, &ctrl, msg);
  pga__tb_destroy(&ctrl);
  return rc;
}

/* The alias inside a gen call tag ([alias | Ref] or [[alias | Ref] | _]),
 * if any (distribution.md §11). */
static int tag_alias(const pga_term_t *tag, pga_term_t *alias) {
  pga_term_iter_t it;
  pga_term_t first;
  if (pga_term_type(tag) != PGA_T_LIST || pga_term_iter_init(&it, tag) != 0 ||
      !pga_term_iter_next(&it, &first))
    return 0;
  if (pga_term_is_atom(&first, "alias")) {
    while (pga_term_iter_next(&it, &first)) {
    }
    pga_term_iter_tail(&it, alias);
    return pga_term_type(alias) == PGA_T_REF;
  }
  return pga_term_type(&first) == PGA_T_LIST && tag_alias(&first, alias);
}

int pga_dist_gen_reply(pga_dist_t *d, uint64_t from_id, pga_conn_t *c,
                       const pga_term_t *pid, const pga_term_t *tag,
                       const pga_term_t *reply) {
  pga_tb_t msg, ctrl;
  pga__tb_init(&msg, pga_dist_wrap_cap(d));
  pga__tb_init(&ctrl, 0);
  pga__tb_version(&msg);
  pga_tb_tuple(&msg, 2);
  pga_tb_term(&msg, tag);
  pga_tb_term(&msg, reply);
  pga_term_t alias;
  int rc;
  if (!c || c->state == CONN_CLOSED) c = conn_for_pid(d, pid);
  if (c && (c->flags & DFLAG_ALIAS) && tag_alias(tag, &alias)) {
    pga_ctrl_alias_send(&ctrl, d, from_id, &alias);
    rc = pga_conn_send(c, &ctrl, &msg);
  } else {
    rc = pga_dist_send(d, from_id, pid, &msg);
  }
  pga__tb_destroy(&msg);
  pga__tb_destroy(&ctrl);
  return rc;
}

/* MONITOR_P or DEMONITOR_P from p about target under our ref. */
static int send_monitor_op(pga_dist_t *d, int op, pga_proc_t *p,
                           pga_conn_t *c, const pga_term_t *target,
                           const erlang_ref *ref) {
  pga_tb_t ctrl, r;
  pga__tb_init(&ctrl, 0);
  pga__tb_init(&r, 0);
  pga__tb_ref(&r, ref);
  pga_term_t rt = pga_tb_data(&r);
  pga_ctrl_monitor(&ctrl, d, op, p->id, target, &rt);
  int rc = pga_conn_send(c, &ctrl, NULL);
  pga__tb_destroy(&ctrl);
  pga__tb_destroy(&r);
  return rc;
}

int pga_dist_monitor(pga_dist_t *d, pga_proc_t *p, pga_conn_t *c,
                     const pga_term_t *target, const erlang_ref *ref) {
  return send_monitor_op(d, DOP_MONITOR_P, p, c, target, ref);
}

int pga_dist_demonitor(pga_dist_t *d, pga_proc_t *p, pga_conn_t *c,
                       const pga_term_t *target, const erlang_ref *ref) {
  return send_monitor_op(d, DOP_DEMONITOR_P, p, c, target, ref);
}
