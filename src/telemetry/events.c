/* The event catalogue of ops-plane.md §6.1 (list_events/0 order) and the
 * handler id schemes of §6.2. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "telemetry/telemetry_int.h"

#define PREFIX "phoenix_gen_api"
#define MAX_SEGS 4

static const char *const names[PGA_EV_COUNT][MAX_SEGS] = {
    {"executor", "request", "start", NULL},
    {"executor", "request", "stop", NULL},
    {"executor", "request", "exception", NULL},
    {"executor", "retry", NULL, NULL},
    {"executor", "retry", "exhausted", NULL},
    {"rate_limiter", "check", NULL, NULL},
    {"rate_limiter", "exceeded", NULL, NULL},
    {"rate_limiter", "reset", NULL, NULL},
    {"rate_limiter", "cleanup", NULL, NULL},
    {"hook", "before", "start", NULL},
    {"hook", "before", "stop", NULL},
    {"hook", "before", "exception", NULL},
    {"hook", "after", "start", NULL},
    {"hook", "after", "stop", NULL},
    {"hook", "after", "exception", NULL},
    {"worker_pool", "task", "start", NULL},
    {"worker_pool", "task", "stop", NULL},
    {"worker_pool", "task", "exception", NULL},
    {"worker_pool", "task", "rejected", NULL},
    {"worker_pool", "circuit_breaker", "open", NULL},
    {"worker_pool", "circuit_breaker", "close", NULL},
    {"config", "pull", "start", NULL},
    {"config", "pull", "stop", NULL},
    {"config", "push", NULL, NULL},
    {"config", "add", NULL, NULL},
    {"config", "batch_add", NULL, NULL},
    {"config", "delete", NULL, NULL},
    {"config", "clear", NULL, NULL},
    {"config", "disable", NULL, NULL},
    {"config", "enable", NULL, NULL},
};

const char *const *pga_telemetry_event_name(pga_event_t ev) {
  if ((unsigned)ev >= PGA_EV_COUNT) return NULL;
  return names[ev];
}

static size_t seg_count(pga_event_t ev) {
  size_t n = 0;
  while (n < MAX_SEGS && names[ev][n]) n++;
  return n;
}

void pga__tel_event_encode(pga_tb_t *tb, pga_event_t ev) {
  if ((unsigned)ev >= PGA_EV_COUNT) {
    pga_tb_list(tb, 0);
    return;
  }
  size_t n = seg_count(ev);
  pga_tb_list(tb, n + 1);
  pga_tb_atom(tb, PREFIX);
  for (size_t i = 0; i < n; i++) pga_tb_atom(tb, names[ev][i]);
  pga_tb_nil(tb);
}

int pga__tel_event_valid(const pga_term_t *event) {
  pga_term_iter_t it;
  pga_term_t el, tail;
  size_t n = 0;
  if (pga_term_type(event) != PGA_T_LIST ||
      pga_term_iter_init(&it, event) != 0)
    return 0;
  while (pga_term_iter_next(&it, &el)) {
    if (pga_term_type(&el) != PGA_T_ATOM) return 0;
    n++;
  }
  pga_term_iter_tail(&it, &tail);
  return n > 0 && pga_term_type(&tail) == PGA_T_NIL;
}

/* 1 if the list's atoms are exactly PREFIX then ev's segments. */
static int event_is(const pga_term_t *event, pga_event_t ev) {
  pga_term_iter_t it;
  pga_term_t el;
  size_t n = seg_count(ev), i = 0;
  if (pga_term_iter_init(&it, event) != 0 || !pga_term_iter_next(&it, &el) ||
      !pga_term_is_atom(&el, PREFIX))
    return 0;
  while (pga_term_iter_next(&it, &el))
    if (i >= n || !pga_term_is_atom(&el, names[ev][i++])) return 0;
  return i == n;
}

int pga__tel_event_index(const pga_term_t *event) {
  if (!pga__tel_event_valid(event)) return -1;
  for (int ev = 0; ev < PGA_EV_COUNT; ev++)
    if (event_is(event, (pga_event_t)ev)) return ev;
  return -1;
}

/* Appends s[0..n) to buf at *len if it fits PGA_TEL_MAX_ID. */
static int put(char *buf, size_t *len, const char *s, size_t n) {
  if (n > PGA_TEL_MAX_ID - *len) return -1;
  memcpy(buf + *len, s, n);
  *len += n;
  return 0;
}

char *pga__tel_suffix_id(const char *id, size_t id_len, const char *suffix,
                         size_t *len) {
  char *buf = malloc(PGA_TEL_MAX_ID);
  *len = 0;
  if (buf && put(buf, len, id, id_len) == 0 && put(buf, len, "-", 1) == 0 &&
      put(buf, len, suffix, strlen(suffix)) == 0)
    return buf;
  free(buf);
  return NULL;
}

/* Elixir's to_string of an atom: its name, but "" for nil. */
static int put_segment(char *buf, size_t *len, const pga_term_t *atom) {
  char name[PGA_ATOM_BUF];
  if (pga_term_get_atom(atom, name, sizeof name) != 0) return -1;
  if (!strcmp(name, "nil")) return 0;
  return put(buf, len, name, strlen(name));
}

char *pga__tel_join_id(const char *id, size_t id_len,
                       const pga_term_t *event, size_t *len) {
  pga_term_iter_t it;
  pga_term_t el;
  char *buf = malloc(PGA_TEL_MAX_ID);
  int rc = buf && pga__tel_event_valid(event) &&
                   pga_term_iter_init(&it, event) == 0
               ? 0
               : -1;
  *len = 0;
  if (rc == 0) rc = put(buf, len, id, id_len);
  if (rc == 0) rc = put(buf, len, "-", 1);
  for (int first = 1; rc == 0 && pga_term_iter_next(&it, &el); first = 0) {
    if (!first) rc = put(buf, len, "-", 1);
    if (rc == 0) rc = put_segment(buf, len, &el);
  }
  if (rc == 0) return buf;
  free(buf);
  return NULL;
}
