/* The relay model as Elixir terms (ops-plane.md §0.1, §7.2, §7.6):
 * MapSet roles, UTC DateTime, ISO-8601 text, group info and status. */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "relay/groups.h"
#include "term/term.h"

static void put_key_atom(pga_tb_t *tb, const char *key, const char *value) {
  pga_tb_atom(tb, key);
  pga_tb_atom(tb, value);
}

static void put_key_int(pga_tb_t *tb, const char *key, int64_t value) {
  pga_tb_atom(tb, key);
  pga_tb_int(tb, value);
}

void pga_relay_put_roles(pga_tb_t *tb, unsigned roles) {
  size_t n = !!(roles & PGA_RELAY_ROLE_ADMIN) + !!(roles & PGA_RELAY_ROLE_MEMBER);
  pga_tb_map(tb, PGA_RELAY_MAPSET_VERSION_FIELD ? 3 : 2);
  put_key_atom(tb, "__struct__", "Elixir.MapSet");
  pga_tb_atom(tb, "map");
  pga_tb_map(tb, n); /* element => [] */
  if (roles & PGA_RELAY_ROLE_ADMIN) {
    pga_tb_atom(tb, "admin");
    pga_tb_nil(tb);
  }
  if (roles & PGA_RELAY_ROLE_MEMBER) {
    pga_tb_atom(tb, "member");
    pga_tb_nil(tb);
  }
  if (PGA_RELAY_MAPSET_VERSION_FIELD) put_key_int(tb, "version", 2);
}

/* Splits µs since the epoch into UTC fields; *usec is 0..999999. */
static void utc_fields(int64_t us, struct tm *tm, int64_t *usec) {
  int64_t secs = us / 1000000;
  *usec = us % 1000000;
  if (*usec < 0) {
    *usec += 1000000;
    secs--;
  }
  time_t t = (time_t)secs;
  if (!gmtime_r(&t, tm)) *tm = (struct tm){.tm_mday = 1, .tm_year = 70};
}

void pga_relay_put_datetime(pga_tb_t *tb, int64_t us) {
  struct tm tm;
  int64_t usec;
  utc_fields(us, &tm, &usec);
  pga_tb_map(tb, 13);
  put_key_atom(tb, "__struct__", "Elixir.DateTime");
  put_key_atom(tb, "calendar", "Elixir.Calendar.ISO");
  put_key_int(tb, "year", tm.tm_year + 1900);
  put_key_int(tb, "month", tm.tm_mon + 1);
  put_key_int(tb, "day", tm.tm_mday);
  put_key_int(tb, "hour", tm.tm_hour);
  put_key_int(tb, "minute", tm.tm_min);
  put_key_int(tb, "second", tm.tm_sec);
  pga_tb_atom(tb, "microsecond");
  pga_tb_tuple(tb, 2);
  pga_tb_int(tb, usec);
  pga_tb_int(tb, 6);
  put_key_int(tb, "std_offset", 0);
  put_key_int(tb, "utc_offset", 0);
  pga_tb_atom(tb, "time_zone");
  pga_tb_string(tb, "Etc/UTC");
  pga_tb_atom(tb, "zone_abbr");
  pga_tb_string(tb, "UTC");
}

size_t pga_relay_iso8601(int64_t us, char out[PGA_RELAY_ISO8601_BUF]) {
  struct tm tm;
  int64_t usec;
  utc_fields(us, &tm, &usec);
  int n = snprintf(out, PGA_RELAY_ISO8601_BUF,
                   "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                   tm.tm_min, tm.tm_sec, (long long)usec);
  return n < 0 ? 0 : (size_t)n < PGA_RELAY_ISO8601_BUF ? (size_t)n
                                                        : PGA_RELAY_ISO8601_BUF - 1;
}

void pga_relay_put_rc(pga_tb_t *tb, pga_relay_rc_t rc) {
  if (rc == PGA_RELAY_OK) {
    pga_tb_atom(tb, "ok");
    return;
  }
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, "error");
  pga_tb_atom(tb, pga_relay_rc_atom(rc));
}

/* uid => %{roles, status, joined_at, monitor_ref} */
static void put_member(void *ud, const pga_relay_member_view_t *v) {
  pga_tb_t *tb = ud;
  pga_tb_binary(tb, v->uid.p, v->uid.n);
  pga_tb_map(tb, 4);
  pga_tb_atom(tb, "roles");
  pga_relay_put_roles(tb, v->roles);
  put_key_atom(tb, "status", pga_relay_mstatus_atom(v->status));
  pga_tb_atom(tb, "joined_at");
  pga_relay_put_datetime(tb, v->joined_us);
  pga_tb_atom(tb, "monitor_ref");
  if (v->ref)
    pga__tb_ref(tb, v->ref);
  else
    pga_tb_atom(tb, "nil");
}

void pga_relay_put_group_info(pga_tb_t *tb, const pga_relay_model_t *m,
                              pga_relay_id_t gid) {
  pga_relay_gtype_t type;
  size_t count;
  if (pga_relay_group_get(m, gid, &type, &count) != PGA_RELAY_OK) {
    pga_relay_put_rc(tb, PGA_RELAY_NOT_FOUND);
    return;
  }
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, "ok");
  pga_tb_map(tb, 3);
  pga_tb_atom(tb, "group_id");
  pga_tb_binary(tb, gid.p, gid.n);
  put_key_atom(tb, "group_type", pga_relay_gtype_atom(type));
  pga_tb_atom(tb, "members");
  pga_tb_map(tb, count);
  pga_relay_each_member(m, gid, put_member, tb);
}

static void put_group_summary(void *ud, const pga_relay_group_view_t *v) {
  pga_tb_t *tb = ud;
  pga_tb_map(tb, 4);
  pga_tb_atom(tb, "group_id");
  pga_tb_binary(tb, v->gid.p, v->gid.n);
  put_key_atom(tb, "group_type", pga_relay_gtype_atom(v->type));
  put_key_int(tb, "member_count", (int64_t)v->member_count);
  put_key_int(tb, "active_count", (int64_t)v->active_count);
}

void pga_relay_put_status(pga_tb_t *tb, const pga_relay_model_t *m) {
  size_t n = pga_relay_group_count(m);
  pga_tb_map(tb, 4);
  put_key_atom(tb, "status", "ok");
  put_key_int(tb, "group_count", (int64_t)n);
  pga_tb_atom(tb, "groups");
  pga_tb_list(tb, n); /* alone, a 0 header is [] already */
  pga_relay_each_group(m, put_group_summary, tb);
  if (n) pga_tb_nil(tb);
  put_key_int(tb, "monitored_memberships",
              (int64_t)pga_relay_monitor_count(m));
}
