/* The relay group model (ops-plane.md §7.1, §7.2, §7.4, §7.5): groups,
 * members, the permission matrix and the monitor table, with no I/O and
 * no locking (the caller serializes). Ids are byte strings (Elixir
 * binaries); channel pids and references are kept as given.
 *
 * Invariants:
 *   1. Every member holds exactly one channel pid: the delivery index of
 *      the library is one entry per member, so it lives in the member.
 *   2. The monitor table is keyed {gid, uid} and outlives groups
 *      (delete_group keeps monitors, §7.5); a second index finds an entry
 *      by its reference's counter when the DOWN arrives.
 *   3. Every count is bounded (PGA_RELAY_MAX_*); past a bound a mutation
 *      fails with PGA_RELAY_LIMIT and changes nothing. */
#ifndef PGA_RELAY_GROUPS_H
#define PGA_RELAY_GROUPS_H

#include <ei.h>
#include <stddef.h>
#include <stdint.h>

#include "pga/term.h"

#define PGA_RELAY_MAX_GROUPS 100000
#define PGA_RELAY_MAX_MEMBERS 10000        /* per group */
#define PGA_RELAY_MAX_MEMBERSHIPS 1000000  /* over all groups */
#define PGA_RELAY_MAX_MONITORS 1000000
#define PGA_RELAY_MAX_ID 1024              /* bytes of a group or user id */

typedef enum {
  PGA_RELAY_PUBLIC = 0,
  PGA_RELAY_PRIVATE,
  PGA_RELAY_STRICT_PRIVATE
} pga_relay_gtype_t;

typedef enum {
  PGA_RELAY_ACTIVE = 0,
  PGA_RELAY_PENDING,
  PGA_RELAY_MUTED
} pga_relay_mstatus_t;

#define PGA_RELAY_ROLE_ADMIN 0x1u
#define PGA_RELAY_ROLE_MEMBER 0x2u

/* Results of the mutations; each but OK is {:error, atom}. */
typedef enum {
  PGA_RELAY_OK = 0,
  PGA_RELAY_ALREADY_EXISTS,
  PGA_RELAY_NOT_FOUND,
  PGA_RELAY_ALREADY_MEMBER,
  PGA_RELAY_USER_NOT_IN_GROUP,
  PGA_RELAY_NOT_ADMIN,
  PGA_RELAY_USER_NOT_PENDING,
  PGA_RELAY_NOT_STRICT_PRIVATE,
  PGA_RELAY_CANNOT_MUTE,
  PGA_RELAY_NOT_MUTED,
  PGA_RELAY_LIMIT /* a PGA_RELAY_MAX_* bound (ids included), or ENOMEM */
} pga_relay_rc_t;

/* The error atom's name ("already_exists", ...; "system_limit" for
 * LIMIT); "ok" for OK. */
const char *pga_relay_rc_atom(pga_relay_rc_t rc);
/* The group type's atom name, and back (0, or -1 if name is none). */
const char *pga_relay_gtype_atom(pga_relay_gtype_t t);
int pga_relay_gtype_parse(const char *name, pga_relay_gtype_t *out);
const char *pga_relay_mstatus_atom(pga_relay_mstatus_t s);

/* A byte string view (a binary's contents). */
typedef struct pga_relay_id_s {
  const char *p;
  size_t n;
} pga_relay_id_t;

/* A monitor on a member's channel, as the caller set it up. */
typedef struct pga_relay_mon_s {
  uint64_t ref_id;    /* our reference's counter: the DOWN lookup key */
  erlang_ref ref;
  uint64_t conn_id;   /* connection the MONITOR_P went on; 0 if none */
  uint64_t local_pid; /* our process's id when the pid is ours, else 0 */
  const char *node;   /* node of the watched pid */
  pga_term_t pid;     /* the watched pid, verbatim */
} pga_relay_mon_t;

/* A monitor taken out of the table (left, replaced): the caller
 * demonitors it if needed and frees it. Its strings are its own. */
typedef struct pga_relay_monent_s pga_relay_monent_t;
const pga_relay_mon_t *pga_relay_monent_mon(const pga_relay_monent_t *e);
void pga_relay_monent_free(pga_relay_monent_t *e);

typedef struct pga_relay_model_s pga_relay_model_t;

/* NULL on ENOMEM. */
pga_relay_model_t *pga_relay_model_new(void);
void pga_relay_model_free(pga_relay_model_t *m);
size_t pga_relay_group_count(const pga_relay_model_t *m);
size_t pga_relay_monitor_count(const pga_relay_model_t *m);

/* ---- §7.2 mutations, checks in the order of the spec's table ---- */

/* Creator: roles [:admin], active, joined now_us, no monitor. */
pga_relay_rc_t pga_relay_create(pga_relay_model_t *m, pga_relay_id_t gid,
                                pga_relay_gtype_t type, pga_relay_id_t uid,
                                const pga_term_t *pid, int64_t now_us);
/* Drops the group and its members; the monitor table is untouched. */
pga_relay_rc_t pga_relay_delete(pga_relay_model_t *m, pga_relay_id_t gid);
/* On OK: *status is the new member's, mon is stored in the member and in
 * the table under {gid, uid}; an entry it replaced goes to *replaced
 * (else NULL) for the caller to demonitor. mon is copied. */
pga_relay_rc_t pga_relay_join(pga_relay_model_t *m, pga_relay_id_t gid,
                              pga_relay_id_t uid, const pga_term_t *pid,
                              int64_t now_us, const pga_relay_mon_t *mon,
                              pga_relay_mstatus_t *status,
                              pga_relay_monent_t **replaced);
/* On OK the {gid, uid} monitor, if any, goes to *dropped (else NULL). */
pga_relay_rc_t pga_relay_leave(pga_relay_model_t *m, pga_relay_id_t gid,
                               pga_relay_id_t uid,
                               pga_relay_monent_t **dropped);
pga_relay_rc_t pga_relay_accept(pga_relay_model_t *m, pga_relay_id_t gid,
                                pga_relay_id_t actor, pga_relay_id_t target);
pga_relay_rc_t pga_relay_mute(pga_relay_model_t *m, pga_relay_id_t gid,
                              pga_relay_id_t actor, pga_relay_id_t target);
pga_relay_rc_t pga_relay_unmute(pga_relay_model_t *m, pga_relay_id_t gid,
                                pga_relay_id_t actor, pga_relay_id_t target);

/* ---- §7.5 cleanup: the member of a fired monitor leaves ---- */

/* A DOWN for ref_id: 1 if it was in the table (entry forgotten, its
 * member removed if still there), 0 for an unknown ref. */
int pga_relay_down(pga_relay_model_t *m, uint64_t ref_id);
/* Every monitor whose pid lives on node fires (connection lost); or,
 * for pga_relay_down_local, whose pid is our process pid_id. Returns the
 * number of monitors that fired. */
size_t pga_relay_down_node(pga_relay_model_t *m, const char *node);
size_t pga_relay_down_local(pga_relay_model_t *m, uint64_t pid_id);
/* Every monitor for which match(mon, ud) is 1 fires. */
typedef int (*pga_relay_mon_match_fn)(const pga_relay_mon_t *mon,
                                      const void *ud);
size_t pga_relay_down_where(pga_relay_model_t *m,
                            pga_relay_mon_match_fn match, const void *ud);

/* ---- §7.3 sending ---- */

typedef enum {
  PGA_RELAY_SEND_OK = 0,
  PGA_RELAY_SEND_NO_GROUP,
  PGA_RELAY_SEND_NOT_MEMBER,
  PGA_RELAY_SEND_PENDING,
  PGA_RELAY_SEND_MUTED
} pga_relay_send_t;

/* The Response error text of a refusal (NULL for SEND_OK). */
const char *pga_relay_send_error(pga_relay_send_t s);
/* May uid send to gid? On SEND_OK *recipients = active + muted members. */
pga_relay_send_t pga_relay_sender(const pga_relay_model_t *m,
                                  pga_relay_id_t gid, pga_relay_id_t uid,
                                  size_t *recipients);

/* ---- reading ---- */

typedef struct pga_relay_member_view_s {
  pga_relay_id_t uid;
  unsigned roles;            /* PGA_RELAY_ROLE_* */
  pga_relay_mstatus_t status;
  int64_t joined_us;         /* µs since the Unix epoch, UTC */
  const erlang_ref *ref;     /* NULL: monitor_ref nil */
  pga_term_t pid;            /* channel pid */
} pga_relay_member_view_t;

typedef void (*pga_relay_member_fn)(void *ud,
                                    const pga_relay_member_view_t *v);
/* 0 with *type and *count set, or PGA_RELAY_NOT_FOUND. */
pga_relay_rc_t pga_relay_group_get(const pga_relay_model_t *m,
                                   pga_relay_id_t gid,
                                   pga_relay_gtype_t *type, size_t *count);
/* Visits the members of gid (any order; no mutation meanwhile). */
void pga_relay_each_member(const pga_relay_model_t *m, pga_relay_id_t gid,
                           pga_relay_member_fn fn, void *ud);

typedef struct pga_relay_group_view_s {
  pga_relay_id_t gid;
  pga_relay_gtype_t type;
  size_t member_count, active_count;
} pga_relay_group_view_t;
typedef void (*pga_relay_group_fn)(void *ud, const pga_relay_group_view_t *v);
void pga_relay_each_group(const pga_relay_model_t *m, pga_relay_group_fn fn,
                          void *ud);

/* ---- Elixir terms (terms.c) ---- */

/* MapSet layout of the peers' Elixir: 1.14 (this cluster) has a
 * `version: 2` field that 1.15+ dropped; a MapSet without it is not ==
 * to a real one on 1.14 (docs/compat.md). */
#define PGA_RELAY_MAPSET_VERSION_FIELD 1

void pga_relay_put_roles(pga_tb_t *tb, unsigned roles);
/* %DateTime{} in UTC with microsecond precision 6. */
void pga_relay_put_datetime(pga_tb_t *tb, int64_t us);
/* "YYYY-MM-DDTHH:MM:SS.ffffffZ" (DateTime.to_iso8601/1 of a UTC
 * DateTime with precision 6) into out; returns its length. */
#define PGA_RELAY_ISO8601_BUF 40
size_t pga_relay_iso8601(int64_t us, char out[PGA_RELAY_ISO8601_BUF]);
/* {:ok, %{group_id, group_type, members}} or {:error, :not_found}. */
void pga_relay_put_group_info(pga_tb_t *tb, const pga_relay_model_t *m,
                              pga_relay_id_t gid);
/* RelayServer.status() (§7.6). */
void pga_relay_put_status(pga_tb_t *tb, const pga_relay_model_t *m);
/* :ok or {:error, atom}. */
void pga_relay_put_rc(pga_tb_t *tb, pga_relay_rc_t rc);

#endif
