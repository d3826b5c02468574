/* Unit tests for the relay group model (src/relay/groups.c, terms.c):
 * ops-plane.md §7.2 results and their check order, the §7.4 permission
 * matrix, §7.5 monitor bookkeeping, §7.3 sender checks and the Elixir
 * terms (MapSet, DateTime, ISO-8601, status). Acceptance cases 50-53, 55,
 * 56, 58 at the model level. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "relay/groups.h"
#include "term/term.h"
#include "check_main.h"

#define T0 1736937000123456LL /* 2025-01-15T10:30:00.123456Z */

static pga_relay_id_t id(const char *s) { return (pga_relay_id_t){s, strlen(s)}; }

/* A pid term on node n (its own buffer, freed by the test's builder). */
static pga_term_t pid_on(pga_tb_t *tb, const char *node, unsigned num) {
  erlang_pid p;
  memset(&p, 0, sizeof p);
  strcpy(p.node, node);
  p.num = num;
  p.creation = 1;
  pga_tb_reset(tb);
  pga__tb_pid(tb, &p);
  return pga_tb_data(tb);
}

/* A reference of ours numbered n. */
static erlang_ref ref_of(uint64_t n) {
  erlang_ref r;
  memset(&r, 0, sizeof r);
  strcpy(r.node, "gw@h");
  r.len = 3;
  r.n[0] = (unsigned)n;
  r.creation = 1;
  return r;
}

typedef struct fixture_s {
  pga_relay_model_t *m;
  pga_tb_t *pid;
  uint64_t next_ref;
} fixture_t;

static fixture_t fx_new(void) {
  fixture_t f = {pga_relay_model_new(), pga_tb_new(0), 1};
  ck_assert_ptr_nonnull(f.m);
  return f;
}

static void fx_free(fixture_t *f) {
  pga_relay_model_free(f->m);
  pga_tb_free(f->pid);
}

static pga_relay_rc_t create(fixture_t *f, const char *g, pga_relay_gtype_t t,
                             const char *u) {
  pga_term_t pid = pid_on(f->pid, "a@h", 1);
  return pga_relay_create(f->m, id(g), t, id(u), &pid, T0);
}

/* Joins with a fresh monitor on node; the replaced monitor is freed. */
static pga_relay_rc_t join_on(fixture_t *f, const char *g, const char *u,
                              const char *node, pga_relay_mstatus_t *st) {
  pga_term_t pid = pid_on(f->pid, node, 7);
  pga_relay_mon_t mon = {.ref_id = f->next_ref, .ref = ref_of(f->next_ref),
                         .node = node, .pid = pid};
  f->next_ref++;
  pga_relay_monent_t *old = NULL;
  pga_relay_mstatus_t ignored;
  pga_relay_rc_t rc = pga_relay_join(f->m, id(g), id(u), &pid, T0, &mon,
                                     st ? st : &ignored, &old);
  pga_relay_monent_free(old);
  return rc;
}

static pga_relay_rc_t join(fixture_t *f, const char *g, const char *u,
                           pga_relay_mstatus_t *st) {
  return join_on(f, g, u, "b@h", st);
}

static pga_relay_rc_t leave(fixture_t *f, const char *g, const char *u) {
  pga_relay_monent_t *dropped = NULL;
  pga_relay_rc_t rc = pga_relay_leave(f->m, id(g), id(u), &dropped);
  pga_relay_monent_free(dropped);
  return rc;
}

static int has_member(fixture_t *f, const char *g, const char *u) {
  size_t n;
  pga_relay_gtype_t t;
  if (pga_relay_group_get(f->m, id(g), &t, &n) != PGA_RELAY_OK) return 0;
  size_t r;
  return pga_relay_sender(f->m, id(g), id(u), &r) != PGA_RELAY_SEND_NOT_MEMBER;
}

/* "{:ok, ...}" style text of a built term. */
static const char *fmt(pga_tb_t *tb) {
  static char buf[8192];
  pga_term_t t = pga_tb_data(tb);
  pga_term_format(&t, buf, sizeof buf);
  return buf;
}

START_TEST(relay_error_atoms) {
  ck_assert_str_eq(pga_relay_rc_atom(PGA_RELAY_OK), "ok");
  ck_assert_str_eq(pga_relay_rc_atom(PGA_RELAY_ALREADY_EXISTS), "already_exists");
  ck_assert_str_eq(pga_relay_rc_atom(PGA_RELAY_NOT_FOUND), "not_found");
  ck_assert_str_eq(pga_relay_rc_atom(PGA_RELAY_ALREADY_MEMBER), "already_member");
  ck_assert_str_eq(pga_relay_rc_atom(PGA_RELAY_USER_NOT_IN_GROUP), "user_not_in_group");
  ck_assert_str_eq(pga_relay_rc_atom(PGA_RELAY_NOT_ADMIN), "not_admin");
  ck_assert_str_eq(pga_relay_rc_atom(PGA_RELAY_USER_NOT_PENDING), "user_not_pending");
  ck_assert_str_eq(pga_relay_rc_atom(PGA_RELAY_NOT_STRICT_PRIVATE), "not_strict_private");
  ck_assert_str_eq(pga_relay_rc_atom(PGA_RELAY_CANNOT_MUTE), "cannot_mute");
  ck_assert_str_eq(pga_relay_rc_atom(PGA_RELAY_NOT_MUTED), "not_muted");
  ck_assert_str_eq(pga_relay_rc_atom(PGA_RELAY_LIMIT), "system_limit");
  ck_assert_str_eq(pga_relay_send_error(PGA_RELAY_SEND_NO_GROUP), "Group not found");
  ck_assert_str_eq(pga_relay_send_error(PGA_RELAY_SEND_NOT_MEMBER),
                   "Not a member of this group");
  ck_assert_str_eq(pga_relay_send_error(PGA_RELAY_SEND_PENDING),
                   "Pending membership: wait for acceptance");
  ck_assert_str_eq(pga_relay_send_error(PGA_RELAY_SEND_MUTED),
                   "You are muted and cannot send messages");
  ck_assert_ptr_null(pga_relay_send_error(PGA_RELAY_SEND_OK));
  pga_relay_gtype_t t;
  ck_assert_int_eq(pga_relay_gtype_parse("strict_private", &t), 0);
  ck_assert_int_eq(t, PGA_RELAY_STRICT_PRIVATE);
  ck_assert_int_eq(pga_relay_gtype_parse("secret", &t), -1);
}
END_TEST

START_TEST(relay_create_and_delete) { /* 50, 52 */
  fixture_t f = fx_new();
  ck_assert_int_eq(create(&f, "group_1", PGA_RELAY_PUBLIC, "user_1"), PGA_RELAY_OK);
  ck_assert_int_eq(create(&f, "group_1", PGA_RELAY_PRIVATE, "x"),
                   PGA_RELAY_ALREADY_EXISTS);
  ck_assert_uint_eq(pga_relay_group_count(f.m), 1);
  ck_assert_uint_eq(pga_relay_monitor_count(f.m), 0); /* creators: none */
  ck_assert_int_eq(pga_relay_delete(f.m, id("nonexistent_group")), PGA_RELAY_NOT_FOUND);
  ck_assert_int_eq(pga_relay_delete(f.m, id("group_1")), PGA_RELAY_OK);
  ck_assert_int_eq(pga_relay_delete(f.m, id("group_1")), PGA_RELAY_NOT_FOUND);
  ck_assert_uint_eq(pga_relay_group_count(f.m), 0);
  fx_free(&f);
}
END_TEST

START_TEST(relay_join_by_group_type) { /* 51 */
  fixture_t f = fx_new();
  pga_relay_mstatus_t st;
  create(&f, "pub", PGA_RELAY_PUBLIC, "admin");
  create(&f, "priv", PGA_RELAY_PRIVATE, "admin");
  create(&f, "strict", PGA_RELAY_STRICT_PRIVATE, "admin");
  ck_assert_int_eq(join(&f, "pub", "new_user", &st), PGA_RELAY_OK);
  ck_assert_int_eq(st, PGA_RELAY_ACTIVE);
  ck_assert_int_eq(join(&f, "priv", "new_user", &st), PGA_RELAY_OK);
  ck_assert_int_eq(st, PGA_RELAY_PENDING);
  ck_assert_int_eq(join(&f, "strict", "new_user", &st), PGA_RELAY_OK);
  ck_assert_int_eq(st, PGA_RELAY_PENDING);
  ck_assert_int_eq(join(&f, "nope", "u", &st), PGA_RELAY_NOT_FOUND);
  ck_assert_int_eq(join(&f, "pub", "admin", &st), PGA_RELAY_ALREADY_MEMBER);
  ck_assert_int_eq(join(&f, "pub", "new_user", &st), PGA_RELAY_ALREADY_MEMBER);
  ck_assert_int_eq(join(&f, "priv", "new_user", &st), PGA_RELAY_ALREADY_MEMBER);
  ck_assert_uint_eq(pga_relay_monitor_count(f.m), 3);
  fx_free(&f);
}
END_TEST

START_TEST(relay_muted_rejoin_resets_to_pending) {
  fixture_t f = fx_new();
  pga_relay_mstatus_t st;
  create(&f, "s", PGA_RELAY_STRICT_PRIVATE, "admin");
  join(&f, "s", "u", NULL);
  ck_assert_int_eq(pga_relay_accept(f.m, id("s"), id("admin"), id("u")), PGA_RELAY_OK);
  ck_assert_int_eq(pga_relay_mute(f.m, id("s"), id("admin"), id("u")), PGA_RELAY_OK);
  ck_assert_int_eq(join(&f, "s", "u", &st), PGA_RELAY_OK);
  ck_assert_int_eq(st, PGA_RELAY_PENDING);
  ck_assert_uint_eq(pga_relay_monitor_count(f.m), 1); /* key overwritten */
  size_t n;
  ck_assert_int_eq(pga_relay_sender(f.m, id("s"), id("u"), &n), PGA_RELAY_SEND_PENDING);
  fx_free(&f);
}
END_TEST

START_TEST(relay_leave_errors_and_monitor) { /* 52 */
  fixture_t f = fx_new();
  create(&f, "g_leave2", PGA_RELAY_PUBLIC, "admin");
  join(&f, "g_leave2", "u", NULL);
  ck_assert_int_eq(leave(&f, "g_leave2", "stranger"), PGA_RELAY_USER_NOT_IN_GROUP);
  ck_assert_int_eq(leave(&f, "no_group", "u"), PGA_RELAY_NOT_FOUND);
  pga_relay_monent_t *dropped = NULL;
  ck_assert_int_eq(pga_relay_leave(f.m, id("g_leave2"), id("u"), &dropped), PGA_RELAY_OK);
  ck_assert_ptr_nonnull(dropped); /* the caller demonitors it */
  ck_assert_uint_eq(pga_relay_monent_mon(dropped)->ref_id, 1);
  pga_relay_monent_free(dropped);
  ck_assert_int_eq(pga_relay_leave(f.m, id("g_leave2"), id("admin"), &dropped), PGA_RELAY_OK);
  ck_assert_ptr_null(dropped); /* creators are not monitored */
  ck_assert_uint_eq(pga_relay_monitor_count(f.m), 0);
  fx_free(&f);
}
END_TEST

START_TEST(relay_accept_order) { /* 53 */
  fixture_t f = fx_new();
  create(&f, "s", PGA_RELAY_STRICT_PRIVATE, "admin");
  join(&f, "s", "m1", NULL);
  join(&f, "s", "m2", NULL);
  pga_relay_accept(f.m, id("s"), id("admin"), id("m1"));
  ck_assert_int_eq(pga_relay_accept(f.m, id("x"), id("admin"), id("m2")), PGA_RELAY_NOT_FOUND);
  ck_assert_int_eq(pga_relay_accept(f.m, id("s"), id("ghost"), id("m2")), PGA_RELAY_USER_NOT_IN_GROUP);
  ck_assert_int_eq(pga_relay_accept(f.m, id("s"), id("m2"), id("m2")), PGA_RELAY_NOT_ADMIN); /* pending actor */
  ck_assert_int_eq(pga_relay_accept(f.m, id("s"), id("m1"), id("m2")), PGA_RELAY_NOT_ADMIN); /* no :admin */
  ck_assert_int_eq(pga_relay_accept(f.m, id("s"), id("admin"), id("ghost")), PGA_RELAY_USER_NOT_IN_GROUP);
  ck_assert_int_eq(pga_relay_accept(f.m, id("s"), id("admin"), id("m1")), PGA_RELAY_USER_NOT_PENDING);
  ck_assert_int_eq(pga_relay_accept(f.m, id("s"), id("admin"), id("m2")), PGA_RELAY_OK);
  /* private: any active member accepts */
  create(&f, "p", PGA_RELAY_PRIVATE, "admin");
  join(&f, "p", "m1", NULL);
  join(&f, "p", "m2", NULL);
  pga_relay_accept(f.m, id("p"), id("admin"), id("m1"));
  ck_assert_int_eq(pga_relay_accept(f.m, id("p"), id("m1"), id("m2")), PGA_RELAY_OK);
  /* public: nobody is ever pending */
  create(&f, "pub", PGA_RELAY_PUBLIC, "admin");
  join(&f, "pub", "m1", NULL);
  ck_assert_int_eq(pga_relay_accept(f.m, id("pub"), id("admin"), id("m1")), PGA_RELAY_USER_NOT_PENDING);
  ck_assert_int_eq(pga_relay_accept(f.m, id("pub"), id("admin"), id("zz")), PGA_RELAY_USER_NOT_IN_GROUP);
  fx_free(&f);
}
END_TEST

START_TEST(relay_mute_order) { /* 53 */
  fixture_t f = fx_new();
  create(&f, "pub", PGA_RELAY_PUBLIC, "admin");
  create(&f, "priv", PGA_RELAY_PRIVATE, "admin");
  create(&f, "s", PGA_RELAY_STRICT_PRIVATE, "admin");
  join(&f, "s", "pend", NULL);
  join(&f, "s", "act", NULL);
  pga_relay_accept(f.m, id("s"), id("admin"), id("act"));
  ck_assert_int_eq(pga_relay_mute(f.m, id("x"), id("admin"), id("act")), PGA_RELAY_NOT_FOUND);
  ck_assert_int_eq(pga_relay_mute(f.m, id("pub"), id("admin"), id("act")), PGA_RELAY_NOT_STRICT_PRIVATE);
  ck_assert_int_eq(pga_relay_mute(f.m, id("priv"), id("ghost"), id("x")), PGA_RELAY_NOT_STRICT_PRIVATE);
  ck_assert_int_eq(pga_relay_mute(f.m, id("s"), id("ghost"), id("act")), PGA_RELAY_NOT_ADMIN);
  ck_assert_int_eq(pga_relay_mute(f.m, id("s"), id("act"), id("admin")), PGA_RELAY_NOT_ADMIN);
  ck_assert_int_eq(pga_relay_mute(f.m, id("s"), id("admin"), id("ghost")), PGA_RELAY_USER_NOT_IN_GROUP);
  ck_assert_int_eq(pga_relay_mute(f.m, id("s"), id("admin"), id("pend")), PGA_RELAY_CANNOT_MUTE);
  ck_assert_int_eq(pga_relay_unmute(f.m, id("s"), id("admin"), id("act")), PGA_RELAY_NOT_MUTED);
  ck_assert_int_eq(pga_relay_mute(f.m, id("s"), id("admin"), id("act")), PGA_RELAY_OK);
  ck_assert_int_eq(pga_relay_mute(f.m, id("s"), id("admin"), id("act")), PGA_RELAY_CANNOT_MUTE);
  size_t n = 0;
  ck_assert_int_eq(pga_relay_sender(f.m, id("s"), id("act"), &n), PGA_RELAY_SEND_MUTED);
  /* a muted admin is no active admin */
  ck_assert_int_eq(pga_relay_unmute(f.m, id("s"), id("act"), id("act")), PGA_RELAY_NOT_ADMIN);
  ck_assert_int_eq(pga_relay_unmute(f.m, id("s"), id("admin"), id("act")), PGA_RELAY_OK);
  ck_assert_int_eq(pga_relay_unmute(f.m, id("pub"), id("admin"), id("act")), PGA_RELAY_NOT_STRICT_PRIVATE);
  fx_free(&f);
}
END_TEST

START_TEST(relay_sender_checks_and_recipients) { /* 55, 56 */
  fixture_t f = fx_new();
  size_t n = 0;
  create(&f, "p", PGA_RELAY_PRIVATE, "admin");
  join(&f, "p", "acc", NULL);
  join(&f, "p", "pend", NULL);
  pga_relay_accept(f.m, id("p"), id("admin"), id("acc"));
  ck_assert_int_eq(pga_relay_sender(f.m, id("nope"), id("admin"), &n), PGA_RELAY_SEND_NO_GROUP);
  ck_assert_int_eq(pga_relay_sender(f.m, (pga_relay_id_t){NULL, PGA_RELAY_MAX_ID + 1},
                                    id("admin"), &n), PGA_RELAY_SEND_NO_GROUP);
  ck_assert_int_eq(pga_relay_sender(f.m, id("p"), id("stranger"), &n), PGA_RELAY_SEND_NOT_MEMBER);
  ck_assert_int_eq(pga_relay_sender(f.m, id("p"), id("pend"), &n), PGA_RELAY_SEND_PENDING);
  ck_assert_int_eq(pga_relay_sender(f.m, id("p"), id("admin"), &n), PGA_RELAY_SEND_OK);
  ck_assert_uint_eq(n, 2); /* pending members do not receive */
  fx_free(&f);
}
END_TEST

START_TEST(relay_down_leaves_and_keeps_creator) { /* 57 */
  fixture_t f = fx_new();
  create(&f, "g", PGA_RELAY_PUBLIC, "admin");
  join(&f, "g", "u1", NULL);                 /* ref 1 */
  join_on(&f, "g", "u2", "c@h", NULL);       /* ref 2 */
  ck_assert_int_eq(pga_relay_down(f.m, 99), 0); /* unknown ref */
  ck_assert_int_eq(pga_relay_down(f.m, 1), 1);
  ck_assert(!has_member(&f, "g", "u1"));
  ck_assert(has_member(&f, "g", "admin"));
  ck_assert_int_eq(pga_relay_down(f.m, 1), 0);
  ck_assert_uint_eq(pga_relay_down_node(f.m, "b@h"), 0);
  ck_assert_uint_eq(pga_relay_down_node(f.m, "c@h"), 1);
  ck_assert(!has_member(&f, "g", "u2"));
  ck_assert_uint_eq(pga_relay_monitor_count(f.m), 0);
  fx_free(&f);
}
END_TEST

START_TEST(relay_delete_keeps_monitors) { /* §7.5 quirk */
  fixture_t f = fx_new();
  create(&f, "g", PGA_RELAY_PUBLIC, "admin");
  join(&f, "g", "u1", NULL);
  pga_relay_delete(f.m, id("g"));
  ck_assert_uint_eq(pga_relay_monitor_count(f.m), 1);
  create(&f, "g", PGA_RELAY_PUBLIC, "u1"); /* same id, u1 now creator */
  ck_assert_int_eq(pga_relay_down(f.m, 1), 1); /* DOWN -> leave(g, u1) */
  ck_assert(!has_member(&f, "g", "u1"));
  ck_assert_uint_eq(pga_relay_monitor_count(f.m), 0);
  fx_free(&f);
}
END_TEST

START_TEST(relay_rejoin_replaces_monitor) {
  fixture_t f = fx_new();
  create(&f, "s", PGA_RELAY_STRICT_PRIVATE, "admin");
  join(&f, "s", "u", NULL); /* ref 1 */
  pga_relay_accept(f.m, id("s"), id("admin"), id("u"));
  pga_relay_mute(f.m, id("s"), id("admin"), id("u"));
  pga_term_t pid = pid_on(f.pid, "b@h", 9);
  pga_relay_mon_t mon = {.ref_id = 5, .node = "b@h", .pid = pid};
  pga_relay_monent_t *old = NULL;
  pga_relay_mstatus_t st;
  ck_assert_int_eq(pga_relay_join(f.m, id("s"), id("u"), &pid, T0, &mon, &st, &old),
                   PGA_RELAY_OK);
  ck_assert_ptr_nonnull(old);
  ck_assert_uint_eq(pga_relay_monent_mon(old)->ref_id, 1);
  pga_relay_monent_free(old);
  ck_assert_int_eq(pga_relay_down(f.m, 1), 0); /* the old ref is forgotten */
  ck_assert_int_eq(pga_relay_down(f.m, 5), 1);
  ck_assert(!has_member(&f, "s", "u"));
  fx_free(&f);
}
END_TEST

START_TEST(relay_local_pids) {
  fixture_t f = fx_new();
  create(&f, "g", PGA_RELAY_PUBLIC, "admin");
  pga_term_t pid = pid_on(f.pid, "gw@h", 3);
  pga_relay_mon_t mon = {.ref_id = 1, .local_pid = 42, .node = "gw@h", .pid = pid};
  pga_relay_monent_t *old = NULL;
  pga_relay_mstatus_t st;
  pga_relay_join(f.m, id("g"), id("s"), &pid, T0, &mon, &st, &old);
  ck_assert_uint_eq(pga_relay_down_node(f.m, "gw@h"), 0); /* not by node */
  ck_assert_uint_eq(pga_relay_down_local(f.m, 41), 0);
  ck_assert_uint_eq(pga_relay_down_local(f.m, 42), 1);
  ck_assert(!has_member(&f, "g", "s"));
  fx_free(&f);
}
END_TEST

START_TEST(relay_bounds) {
  fixture_t f = fx_new();
  char big[PGA_RELAY_MAX_ID + 2];
  memset(big, 'x', sizeof big);
  pga_relay_id_t huge = {big, sizeof big};
  pga_term_t pid = pid_on(f.pid, "a@h", 1);
  ck_assert_int_eq(pga_relay_create(f.m, huge, PGA_RELAY_PUBLIC, id("u"), &pid, T0),
                   PGA_RELAY_LIMIT);
  ck_assert_int_eq(pga_relay_create(f.m, id("g"), PGA_RELAY_PUBLIC, huge, &pid, T0),
                   PGA_RELAY_LIMIT);
  ck_assert_uint_eq(pga_relay_group_count(f.m), 0); /* nothing half-made */
  create(&f, "g", PGA_RELAY_PUBLIC, "admin");
  pga_relay_mon_t mon = {.ref_id = 1, .node = "b@h", .pid = pid};
  pga_relay_monent_t *old = NULL;
  pga_relay_mstatus_t st;
  ck_assert_int_eq(pga_relay_join(f.m, id("g"), huge, &pid, T0, &mon, &st, &old),
                   PGA_RELAY_LIMIT);
  ck_assert_uint_eq(pga_relay_monitor_count(f.m), 0);
  char u[16];
  for (int i = 0; i < PGA_RELAY_MAX_MEMBERS - 1; i++) {
    snprintf(u, sizeof u, "u%d", i);
    ck_assert_int_eq(join(&f, "g", u, NULL), PGA_RELAY_OK);
  }
  ck_assert_int_eq(join(&f, "g", "one_more", NULL), PGA_RELAY_LIMIT);
  ck_assert_uint_eq(pga_relay_monitor_count(f.m), PGA_RELAY_MAX_MEMBERS - 1);
  ck_assert_int_eq(leave(&f, "g", "u0"), PGA_RELAY_OK);
  ck_assert_int_eq(join(&f, "g", "one_more", NULL), PGA_RELAY_OK);
  fx_free(&f);
}
END_TEST

START_TEST(relay_terms) { /* 50, 58 */
  fixture_t f = fx_new();
  pga_tb_t *tb = pga_tb_new(0);
  char ts[PGA_RELAY_ISO8601_BUF];
  ck_assert_uint_eq(pga_relay_iso8601(T0, ts), 27);
  ck_assert_str_eq(ts, "2025-01-15T10:30:00.123456Z");
  pga_relay_iso8601(0, ts);
  ck_assert_str_eq(ts, "1970-01-01T00:00:00.000000Z");

  pga_relay_put_roles(tb, PGA_RELAY_ROLE_ADMIN);
  ck_assert_str_eq(fmt(tb), "#{'__struct__' => 'Elixir.MapSet',map => #{admin => []},version => 2}");
  pga_tb_reset(tb);
  pga_relay_put_datetime(tb, T0);
  ck_assert_ptr_nonnull(strstr(fmt(tb), "microsecond => {123456,6}"));
  ck_assert_ptr_nonnull(strstr(fmt(tb), "year => 2025,month => 1,day => 15,hour => 10,minute => 30"));
  ck_assert_ptr_nonnull(strstr(fmt(tb), "time_zone => <<\"Etc/UTC\">>"));

  pga_tb_reset(tb);
  pga_relay_put_status(tb, f.m);
  ck_assert_str_eq(fmt(tb), "#{status => ok,group_count => 0,groups => [],monitored_memberships => 0}");
  create(&f, "g", PGA_RELAY_PUBLIC, "user_1");
  join(&f, "g", "u2", NULL);
  pga_tb_reset(tb);
  pga_relay_put_status(tb, f.m);
  ck_assert_str_eq(fmt(tb), "#{status => ok,group_count => 1,groups => [#{group_id => <<\"g\">>,"
                            "group_type => public,member_count => 2,active_count => 2}],"
                            "monitored_memberships => 1}");
  pga_tb_reset(tb);
  pga_relay_put_group_info(tb, f.m, id("nope"));
  ck_assert_str_eq(fmt(tb), "{error,not_found}");
  pga_tb_reset(tb);
  pga_relay_put_group_info(tb, f.m, id("g"));
  ck_assert_msg(strstr(fmt(tb), "{ok,#{group_id => <<\"g\">>,group_type => public,members => #{"), "%s", fmt(tb));
  ck_assert_ptr_nonnull(strstr(fmt(tb), "monitor_ref => nil"));
  ck_assert_ptr_nonnull(strstr(fmt(tb), "monitor_ref => #Ref<"));
  ck_assert_int_eq(pga_tb_error(tb), 0);
  pga_tb_reset(tb);
  pga_relay_put_rc(tb, PGA_RELAY_CANNOT_MUTE);
  ck_assert_str_eq(fmt(tb), "{error,cannot_mute}");
  pga_tb_free(tb);
  fx_free(&f);
}
END_TEST

static Suite *relay_suite(void) {
  Suite *s = suite_create("relay");
  TCase *tc = tcase_create("relay");

  tcase_add_test(tc, relay_error_atoms);
  tcase_add_test(tc, relay_create_and_delete);
  tcase_add_test(tc, relay_join_by_group_type);
  tcase_add_test(tc, relay_muted_rejoin_resets_to_pending);
  tcase_add_test(tc, relay_leave_errors_and_monitor);
  tcase_add_test(tc, relay_accept_order);
  tcase_add_test(tc, relay_mute_order);
  tcase_add_test(tc, relay_sender_checks_and_recipients);
  tcase_add_test(tc, relay_down_leaves_and_keeps_creator);
  tcase_add_test(tc, relay_delete_keeps_monitors);
  tcase_add_test(tc, relay_rejoin_replaces_monitor);
  tcase_add_test(tc, relay_local_pids);
  tcase_add_test(tc, relay_bounds);
  tcase_add_test(tc, relay_terms);
  tcase_set_timeout(tc, 120);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(relay_suite)
