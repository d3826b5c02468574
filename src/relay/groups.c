/* The relay group model and permission matrix (groups.h). Mutations check
 * in the order of ops-plane.md §7.2 and allocate before they change
 * anything, so a failure (PGA_RELAY_LIMIT) leaves the model as it was. */
#include "config.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/dict.h"
#include "relay/groups.h"

/* A byte-string key (ids, and {gid, uid} pairs). */
typedef struct idkey_s {
  size_t n;
  char p[];
} idkey_t;

/* Room for a lookup key on the stack: a pair is 8 + 2 * MAX_ID bytes. */
typedef struct keybuf_s {
  alignas(max_align_t) char mem[sizeof(idkey_t) + 8 + 2 * PGA_RELAY_MAX_ID];
} keybuf_t;

typedef struct member_s {
  unsigned roles;
  pga_relay_mstatus_t status;
  int64_t joined_us;
  int has_ref;
  erlang_ref ref;
  char *pid;
  size_t pid_len;
} member_t;

typedef struct group_s {
  pga_relay_gtype_t type;
  pga_dict_t *members; /* idkey uid -> member_t */
} group_t;

struct pga_relay_monent_s {
  pga_relay_mon_t mon; /* node and pid point into this entry's memory */
  size_t gid_n;        /* pair = gid_n (8 bytes) + gid + uid */
  idkey_t *pair;
};

struct pga_relay_model_s {
  pga_dict_t *groups;  /* idkey gid -> group_t */
  pga_dict_t *by_key;  /* pair -> monent (owned; key is monent->pair) */
  pga_dict_t *by_id;   /* ref_id -> the same monent */
  size_t memberships;
};

/* ---- keys ---- */

static uint64_t idkey_hash(const void *k) {
  const idkey_t *x = k;
  return pga_hash_bytes(x->p, x->n);
}

static int idkey_equal(const void *a, const void *b) {
  const idkey_t *x = a, *y = b;
  return x->n == y->n && memcmp(x->p, y->p, x->n) == 0;
}

static idkey_t *idkey_dup(pga_relay_id_t id) {
  idkey_t *k = malloc(sizeof *k + id.n + 1);
  if (!k) return NULL;
  k->n = id.n;
  if (id.n) memcpy(k->p, id.p, id.n);
  return k;
}

/* gid's key in buf; NULL when gid is too long to be stored. */
static const idkey_t *id_in(keybuf_t *buf, pga_relay_id_t id) {
  if (id.n > PGA_RELAY_MAX_ID) return NULL;
  idkey_t *k = (idkey_t *)buf->mem;
  k->n = id.n;
  if (id.n) memcpy(k->p, id.p, id.n);
  return k;
}

static size_t pair_size(pga_relay_id_t gid, pga_relay_id_t uid) {
  return 8 + gid.n + uid.n;
}

static void pair_fill(idkey_t *k, pga_relay_id_t gid, pga_relay_id_t uid) {
  uint64_t len = gid.n;
  k->n = pair_size(gid, uid);
  memcpy(k->p, &len, 8);
  if (gid.n) memcpy(k->p + 8, gid.p, gid.n);
  if (uid.n) memcpy(k->p + 8 + gid.n, uid.p, uid.n);
}

static const idkey_t *pair_in(keybuf_t *buf, pga_relay_id_t gid,
                              pga_relay_id_t uid) {
  if (gid.n > PGA_RELAY_MAX_ID || uid.n > PGA_RELAY_MAX_ID) return NULL;
  pair_fill((idkey_t *)buf->mem, gid, uid);
  return (const idkey_t *)buf->mem;
}

/* ---- values ---- */

static void member_free(void *v) {
  member_t *x = v;
  if (!x) return;
  free(x->pid);
  free(x);
}

static void group_free(void *v) {
  group_t *g = v;
  if (!g) return;
  pga_dict_free(g->members);
  free(g);
}

void pga_relay_monent_free(pga_relay_monent_t *e) {
  if (!e) return;
  free((char *)e->mon.node);
  free((char *)e->mon.pid.buf);
  free(e->pair);
  free(e);
}

static void monent_free_v(void *v) { pga_relay_monent_free(v); }

const pga_relay_mon_t *pga_relay_monent_mon(const pga_relay_monent_t *e) {
  return &e->mon;
}

static const pga_dict_type_t member_type = {idkey_hash, idkey_equal, free,
                                            member_free};
static const pga_dict_type_t group_type = {idkey_hash, idkey_equal, free,
                                           group_free};
static const pga_dict_type_t by_key_type = {idkey_hash, idkey_equal, NULL,
                                            monent_free_v};

static char *bytes_dup(const char *p, size_t n) {
  char *c = malloc(n ? n : 1);
  if (c && n) memcpy(c, p, n);
  return c;
}

static member_t *member_new(unsigned roles, pga_relay_mstatus_t status,
                            int64_t now_us, const pga_term_t *pid) {
  member_t *x = calloc(1, sizeof *x);
  if (!x) return NULL;
  x->pid = bytes_dup(pid->buf, pid->len);
  if (!x->pid) {
    free(x);
    return NULL;
  }
  x->pid_len = pid->len;
  x->roles = roles;
  x->status = status;
  x->joined_us = now_us;
  return x;
}

static pga_relay_monent_t *monent_new(const pga_relay_mon_t *mon,
                                      pga_relay_id_t gid,
                                      pga_relay_id_t uid) {
  pga_relay_monent_t *e = calloc(1, sizeof *e);
  if (!e) return NULL;
  e->mon = *mon;
  e->mon.node = mon->node ? strdup(mon->node) : strdup("");
  e->mon.pid.buf = bytes_dup(mon->pid.buf, mon->pid.len);
  e->pair = malloc(sizeof *e->pair + pair_size(gid, uid));
  if (!e->mon.node || !e->mon.pid.buf || !e->pair) {
    pga_relay_monent_free(e);
    return NULL;
  }
  e->gid_n = gid.n;
  pair_fill(e->pair, gid, uid);
  return e;
}

static pga_relay_id_t monent_gid(const pga_relay_monent_t *e) {
  return (pga_relay_id_t){e->pair->p + 8, e->gid_n};
}

static pga_relay_id_t monent_uid(const pga_relay_monent_t *e) {
  return (pga_relay_id_t){e->pair->p + 8 + e->gid_n,
                          e->pair->n - 8 - e->gid_n};
}

/* ---- model ---- */

pga_relay_model_t *pga_relay_model_new(void) {
  pga_relay_model_t *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->groups = pga_dict_new(&group_type);
  m->by_key = pga_dict_new(&by_key_type);
  m->by_id = pga_dict_new(&pga_dict_u64_type);
  if (!m->groups || !m->by_key || !m->by_id) {
    pga_relay_model_free(m);
    return NULL;
  }
  return m;
}

void pga_relay_model_free(pga_relay_model_t *m) {
  if (!m) return;
  if (m->by_id) pga_dict_free(m->by_id);
  if (m->by_key) pga_dict_free(m->by_key);
  if (m->groups) pga_dict_free(m->groups);
  free(m);
}

size_t pga_relay_group_count(const pga_relay_model_t *m) {
  return pga_dict_size(m->groups);
}

size_t pga_relay_monitor_count(const pga_relay_model_t *m) {
  return pga_dict_size(m->by_key);
}

static group_t *group_of(const pga_relay_model_t *m, pga_relay_id_t gid) {
  keybuf_t buf;
  const idkey_t *k = id_in(&buf, gid);
  return k ? pga_dict_get(m->groups, k) : NULL;
}

static member_t *member_of(const group_t *g, pga_relay_id_t uid) {
  keybuf_t buf;
  const idkey_t *k = id_in(&buf, uid);
  return k ? pga_dict_get(g->members, k) : NULL;
}

/* Adds a fresh member; LIMIT when a bound or memory says no. */
static pga_relay_rc_t member_add(pga_relay_model_t *m, group_t *g,
                                 pga_relay_id_t uid, member_t *x) {
  idkey_t *k = NULL;
  if (uid.n > PGA_RELAY_MAX_ID ||
      pga_dict_size(g->members) >= PGA_RELAY_MAX_MEMBERS ||
      m->memberships >= PGA_RELAY_MAX_MEMBERSHIPS || !(k = idkey_dup(uid)) ||
      pga_dict_add(g->members, k, x) != 0) {
    free(k);
    member_free(x);
    return PGA_RELAY_LIMIT;
  }
  m->memberships++;
  return PGA_RELAY_OK;
}

static void member_remove(pga_relay_model_t *m, group_t *g,
                          pga_relay_id_t uid) {
  keybuf_t buf;
  const idkey_t *k = id_in(&buf, uid);
  if (k && pga_dict_delete(g->members, k) == 0) m->memberships--;
}

pga_relay_rc_t pga_relay_create(pga_relay_model_t *m, pga_relay_id_t gid,
                                pga_relay_gtype_t type, pga_relay_id_t uid,
                                const pga_term_t *pid, int64_t now_us) {
  if (group_of(m, gid)) return PGA_RELAY_ALREADY_EXISTS;
  if (gid.n > PGA_RELAY_MAX_ID ||
      pga_dict_size(m->groups) >= PGA_RELAY_MAX_GROUPS)
    return PGA_RELAY_LIMIT;
  group_t *g = calloc(1, sizeof *g);
  idkey_t *k = idkey_dup(gid);
  member_t *x = member_new(PGA_RELAY_ROLE_ADMIN, PGA_RELAY_ACTIVE, now_us, pid);
  if (g) g->members = pga_dict_new(&member_type);
  if (!g || !g->members || !k || !x || pga_dict_add(m->groups, k, g) != 0) {
    group_free(g);
    free(k);
    member_free(x);
    return PGA_RELAY_LIMIT;
  }
  g->type = type;
  if (member_add(m, g, uid, x) != PGA_RELAY_OK) {
    pga_dict_delete(m->groups, k);
    return PGA_RELAY_LIMIT;
  }
  return PGA_RELAY_OK;
}

pga_relay_rc_t pga_relay_delete(pga_relay_model_t *m, pga_relay_id_t gid) {
  keybuf_t buf;
  const idkey_t *k = id_in(&buf, gid);
  group_t *g = k ? pga_dict_get(m->groups, k) : NULL;
  if (!g) return PGA_RELAY_NOT_FOUND;
  m->memberships -= pga_dict_size(g->members);
  pga_dict_delete(m->groups, k);
  return PGA_RELAY_OK;
}

/* ---- the monitor table ---- */

/* Takes {gid, uid}'s entry out of both indexes (NULL if none). */
static pga_relay_monent_t *mon_take(pga_relay_model_t *m, pga_relay_id_t gid,
                                    pga_relay_id_t uid) {
  keybuf_t buf;
  const idkey_t *k = pair_in(&buf, gid, uid);
  pga_relay_monent_t *e = k ? pga_dict_take(m->by_key, k, NULL) : NULL;
  if (e) pga_dict_take(m->by_id, PGA_U64_KEY(e->mon.ref_id), NULL);
  return e;
}

/* Stores e under its {gid, uid}; the entry it replaces goes to *old.
 * LIMIT (nothing changed, e not taken) on a bound or ENOMEM. Every
 * allocation comes before the first change. */
static pga_relay_rc_t mon_put(pga_relay_model_t *m, pga_relay_monent_t *e,
                              pga_relay_monent_t **old) {
  pga_relay_monent_t *prev = pga_dict_get(m->by_key, e->pair);
  *old = NULL;
  if ((!prev && pga_dict_size(m->by_key) >= PGA_RELAY_MAX_MONITORS) ||
      pga_dict_get(m->by_id, PGA_U64_KEY(e->mon.ref_id)))
    return PGA_RELAY_LIMIT;
  if (!prev) {
    if (pga_dict_add(m->by_id, PGA_U64_KEY(e->mon.ref_id), e) != 0)
      return PGA_RELAY_LIMIT;
    if (pga_dict_add(m->by_key, e->pair, e) != 0) {
      pga_dict_take(m->by_id, PGA_U64_KEY(e->mon.ref_id), NULL);
      return PGA_RELAY_LIMIT;
    }
    return PGA_RELAY_OK;
  }
  /* by_key keeps prev (its pair is the dict's key); only the monitors
   * swap, so e leaves with the old one. */
  if (pga_dict_add(m->by_id, PGA_U64_KEY(e->mon.ref_id), prev) != 0)
    return PGA_RELAY_LIMIT;
  pga_dict_take(m->by_id, PGA_U64_KEY(prev->mon.ref_id), NULL);
  pga_relay_mon_t tmp = prev->mon;
  prev->mon = e->mon;
  e->mon = tmp;
  *old = e;
  return PGA_RELAY_OK;
}

/* ---- join ---- */

/* The library's join decision: OK with *reset 0 (a new member) or 1
 * (an existing one starts over), or the error. */
static pga_relay_rc_t join_kind(const group_t *g, const member_t *x,
                                int *reset) {
  *reset = x != NULL;
  if (!x) return PGA_RELAY_OK;
  if (x->status == PGA_RELAY_ACTIVE) return PGA_RELAY_ALREADY_MEMBER;
  if (g->type != PGA_RELAY_PUBLIC && x->status == PGA_RELAY_PENDING)
    return PGA_RELAY_ALREADY_MEMBER;
  return PGA_RELAY_OK; /* muted (or, public, any non-active): reset */
}

static void member_reset(member_t *x, pga_relay_mstatus_t st, int64_t now_us,
                         char *pid, size_t pid_len) {
  free(x->pid);
  x->pid = pid;
  x->pid_len = pid_len;
  x->roles = PGA_RELAY_ROLE_MEMBER;
  x->status = st;
  x->joined_us = now_us;
}

pga_relay_rc_t pga_relay_join(pga_relay_model_t *m, pga_relay_id_t gid,
                              pga_relay_id_t uid, const pga_term_t *pid,
                              int64_t now_us, const pga_relay_mon_t *mon,
                              pga_relay_mstatus_t *status,
                              pga_relay_monent_t **replaced) {
  group_t *g = group_of(m, gid);
  int reset;
  *replaced = NULL;
  if (!g) return PGA_RELAY_NOT_FOUND;
  member_t *x = member_of(g, uid);
  pga_relay_rc_t rc = join_kind(g, x, &reset);
  if (rc != PGA_RELAY_OK) return rc;
  pga_relay_mstatus_t st =
      g->type == PGA_RELAY_PUBLIC ? PGA_RELAY_ACTIVE : PGA_RELAY_PENDING;
  pga_relay_monent_t *e = monent_new(mon, gid, uid);
  char *pid_copy = reset ? bytes_dup(pid->buf, pid->len) : NULL;
  if (!e || (reset && !pid_copy)) {
    pga_relay_monent_free(e);
    free(pid_copy);
    return PGA_RELAY_LIMIT;
  }
  if (!reset) {
    x = member_new(PGA_RELAY_ROLE_MEMBER, st, now_us, pid);
    if (!x || member_add(m, g, uid, x) != PGA_RELAY_OK) {
      pga_relay_monent_free(e);
      return PGA_RELAY_LIMIT;
    }
  }
  if (mon_put(m, e, replaced) != PGA_RELAY_OK) {
    if (!reset) member_remove(m, g, uid);
    pga_relay_monent_free(e);
    free(pid_copy);
    return PGA_RELAY_LIMIT;
  }
  if (reset) member_reset(x, st, now_us, pid_copy, pid->len);
  x->has_ref = 1;
  x->ref = mon->ref;
  *status = st;
  return PGA_RELAY_OK;
}

pga_relay_rc_t pga_relay_leave(pga_relay_model_t *m, pga_relay_id_t gid,
                               pga_relay_id_t uid,
                               pga_relay_monent_t **dropped) {
  group_t *g = group_of(m, gid);
  *dropped = NULL;
  if (!g) return PGA_RELAY_NOT_FOUND;
  if (!member_of(g, uid)) return PGA_RELAY_USER_NOT_IN_GROUP;
  member_remove(m, g, uid);
  *dropped = mon_take(m, gid, uid);
  return PGA_RELAY_OK;
}

/* ---- the permission matrix (§7.4) ---- */

static int is_active_admin(const member_t *x) {
  return x && x->status == PGA_RELAY_ACTIVE &&
         (x->roles & PGA_RELAY_ROLE_ADMIN);
}

/* accept: any active member; strict_private: an active admin. */
static pga_relay_rc_t accept_actor(const group_t *g, const member_t *actor) {
  if (!actor) return PGA_RELAY_USER_NOT_IN_GROUP;
  if (actor->status != PGA_RELAY_ACTIVE) return PGA_RELAY_NOT_ADMIN;
  if (g->type == PGA_RELAY_STRICT_PRIVATE &&
      !(actor->roles & PGA_RELAY_ROLE_ADMIN))
    return PGA_RELAY_NOT_ADMIN;
  return PGA_RELAY_OK;
}

pga_relay_rc_t pga_relay_accept(pga_relay_model_t *m, pga_relay_id_t gid,
                                pga_relay_id_t actor, pga_relay_id_t target) {
  group_t *g = group_of(m, gid);
  if (!g) return PGA_RELAY_NOT_FOUND;
  pga_relay_rc_t rc = accept_actor(g, member_of(g, actor));
  if (rc != PGA_RELAY_OK) return rc;
  member_t *t = member_of(g, target);
  if (!t) return PGA_RELAY_USER_NOT_IN_GROUP;
  if (t->status != PGA_RELAY_PENDING) return PGA_RELAY_USER_NOT_PENDING;
  t->status = PGA_RELAY_ACTIVE;
  return PGA_RELAY_OK;
}

/* mute/unmute: strict_private only, by an active admin, on a target in
 * status from (else wrong_state); it moves to status to. */
static pga_relay_rc_t set_muted(pga_relay_model_t *m, pga_relay_id_t gid,
                                pga_relay_id_t actor, pga_relay_id_t target,
                                pga_relay_mstatus_t from,
                                pga_relay_mstatus_t to,
                                pga_relay_rc_t wrong_state) {
  group_t *g = group_of(m, gid);
  if (!g) return PGA_RELAY_NOT_FOUND;
  if (g->type != PGA_RELAY_STRICT_PRIVATE) return PGA_RELAY_NOT_STRICT_PRIVATE;
  if (!is_active_admin(member_of(g, actor))) return PGA_RELAY_NOT_ADMIN;
  member_t *t = member_of(g, target);
  if (!t) return PGA_RELAY_USER_NOT_IN_GROUP;
  if (t->status != from) return wrong_state;
  t->status = to;
  return PGA_RELAY_OK;
}

pga_relay_rc_t pga_relay_mute(pga_relay_model_t *m, pga_relay_id_t gid,
                              pga_relay_id_t actor, pga_relay_id_t target) {
  return set_muted(m, gid, actor, target, PGA_RELAY_ACTIVE, PGA_RELAY_MUTED,
                   PGA_RELAY_CANNOT_MUTE);
}

pga_relay_rc_t pga_relay_unmute(pga_relay_model_t *m, pga_relay_id_t gid,
                                pga_relay_id_t actor, pga_relay_id_t target) {
  return set_muted(m, gid, actor, target, PGA_RELAY_MUTED, PGA_RELAY_ACTIVE,
                   PGA_RELAY_NOT_MUTED);
}

/* ---- §7.5 cleanup ---- */

/* A fired monitor: its member leaves (a missing group or member is
 * fine), the entry is gone from both indexes and freed. */
static void fire(pga_relay_model_t *m, pga_relay_monent_t *e) {
  pga_dict_take(m->by_id, PGA_U64_KEY(e->mon.ref_id), NULL);
  pga_dict_take(m->by_key, e->pair, NULL);
  group_t *g = group_of(m, monent_gid(e));
  if (g) member_remove(m, g, monent_uid(e));
  pga_relay_monent_free(e);
}

int pga_relay_down(pga_relay_model_t *m, uint64_t ref_id) {
  pga_relay_monent_t *e = pga_dict_get(m->by_id, PGA_U64_KEY(ref_id));
  if (!e) return 0;
  fire(m, e);
  return 1;
}

/* Fires every monitor that matches. The by_id walk may delete its
 * current entry only, and fire() deletes exactly that one there. */
size_t pga_relay_down_where(pga_relay_model_t *m,
                            pga_relay_mon_match_fn match, const void *ud) {
  pga_dict_iter_t it;
  void *val;
  size_t n = 0;
  pga_dict_iter_init(m->by_id, &it);
  while (pga_dict_next(&it, NULL, &val)) {
    pga_relay_monent_t *e = val;
    if (!match(&e->mon, ud)) continue;
    fire(m, e);
    n++;
  }
  return n;
}

static int on_node(const pga_relay_mon_t *mon, const void *node) {
  return mon->local_pid == 0 && strcmp(mon->node, node) == 0;
}

static int is_local_pid(const pga_relay_mon_t *mon, const void *pid_id) {
  return mon->local_pid != 0 && mon->local_pid == *(const uint64_t *)pid_id;
}

size_t pga_relay_down_node(pga_relay_model_t *m, const char *node) {
  return pga_relay_down_where(m, on_node, node);
}

size_t pga_relay_down_local(pga_relay_model_t *m, uint64_t pid_id) {
  return pga_relay_down_where(m, is_local_pid, &pid_id);
}

/* ---- sending ---- */

const char *pga_relay_send_error(pga_relay_send_t s) {
  switch (s) {
  case PGA_RELAY_SEND_NO_GROUP: return "Group not found";
  case PGA_RELAY_SEND_NOT_MEMBER: return "Not a member of this group";
  case PGA_RELAY_SEND_PENDING: return "Pending membership: wait for acceptance";
  case PGA_RELAY_SEND_MUTED: return "You are muted and cannot send messages";
  case PGA_RELAY_SEND_OK: break;
  }
  return NULL;
}

static size_t count_receivers(const group_t *g) {
  pga_dict_iter_t it;
  void *val;
  size_t n = 0;
  pga_dict_iter_init(g->members, &it);
  while (pga_dict_next(&it, NULL, &val))
    n += ((member_t *)val)->status != PGA_RELAY_PENDING;
  return n;
}

pga_relay_send_t pga_relay_sender(const pga_relay_model_t *m,
                                  pga_relay_id_t gid, pga_relay_id_t uid,
                                  size_t *recipients) {
  const group_t *g = group_of(m, gid);
  if (!g) return PGA_RELAY_SEND_NO_GROUP;
  const member_t *x = member_of(g, uid);
  if (!x) return PGA_RELAY_SEND_NOT_MEMBER;
  if (x->status == PGA_RELAY_PENDING) return PGA_RELAY_SEND_PENDING;
  if (x->status == PGA_RELAY_MUTED) return PGA_RELAY_SEND_MUTED;
  *recipients = count_receivers(g);
  return PGA_RELAY_SEND_OK;
}

/* ---- reading ---- */

pga_relay_rc_t pga_relay_group_get(const pga_relay_model_t *m,
                                   pga_relay_id_t gid,
                                   pga_relay_gtype_t *type, size_t *count) {
  const group_t *g = group_of(m, gid);
  if (!g) return PGA_RELAY_NOT_FOUND;
  *type = g->type;
  *count = pga_dict_size(g->members);
  return PGA_RELAY_OK;
}

void pga_relay_each_member(const pga_relay_model_t *m, pga_relay_id_t gid,
                           pga_relay_member_fn fn, void *ud) {
  const group_t *g = group_of(m, gid);
  pga_dict_iter_t it;
  void *key, *val;
  if (!g) return;
  pga_dict_iter_init(g->members, &it);
  while (pga_dict_next(&it, &key, &val)) {
    const idkey_t *k = key;
    const member_t *x = val;
    pga_relay_member_view_t v = {{k->p, k->n}, x->roles, x->status,
                                 x->joined_us, x->has_ref ? &x->ref : NULL,
                                 {x->pid, x->pid_len}};
    fn(ud, &v);
  }
}

void pga_relay_each_group(const pga_relay_model_t *m, pga_relay_group_fn fn,
                          void *ud) {
  pga_dict_iter_t it;
  void *key, *val;
  pga_dict_iter_init(m->groups, &it);
  while (pga_dict_next(&it, &key, &val)) {
    const idkey_t *k = key;
    const group_t *g = val;
    pga_relay_group_view_t v = {{k->p, k->n}, g->type,
                                pga_dict_size(g->members), 0};
    pga_dict_iter_t mi;
    void *mv;
    pga_dict_iter_init(g->members, &mi);
    while (pga_dict_next(&mi, NULL, &mv))
      v.active_count += ((member_t *)mv)->status == PGA_RELAY_ACTIVE;
    fn(ud, &v);
  }
}

/* ---- names ---- */

const char *pga_relay_rc_atom(pga_relay_rc_t rc) {
  static const char *const names[] = {
      "ok",           "already_exists",  "not_found",
      "already_member", "user_not_in_group", "not_admin",
      "user_not_pending", "not_strict_private", "cannot_mute",
      "not_muted",    "system_limit"};
  return (size_t)rc < sizeof names / sizeof *names ? names[rc]
                                                     : "system_limit";
}

static const char *const gtype_names[] = {"public", "private",
                                          "strict_private"};

const char *pga_relay_gtype_atom(pga_relay_gtype_t t) {
  return gtype_names[(size_t)t < 3 ? t : 0];
}

int pga_relay_gtype_parse(const char *name, pga_relay_gtype_t *out) {
  for (size_t i = 0; i < 3; i++)
    if (strcmp(name, gtype_names[i]) == 0) {
      *out = (pga_relay_gtype_t)i;
      return 0;
    }
  return -1;
}

const char *pga_relay_mstatus_atom(pga_relay_mstatus_t s) {
  static const char *const names[] = {"active", "pending", "muted"};
  return names[(size_t)s < 3 ? s : 0];
}
