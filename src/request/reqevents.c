/* Telemetry of the request pipeline (ops-plane.md §6.1 events 1-15;
 * request-plane.md §7.5, §8.5, §10): the measurements and metadata maps
 * the library emits, built only when a handler wants the event. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "request/exec_int.h"

#define LIMITER_INSTANCE "rate_limiter_instance_0" /* one shard */

static void put_opt(pga_tb_t *tb, const pga_term_t *t) {
  if (t && t->buf) pga_tb_term(tb, t);
  else pga_tb_atom(tb, "nil");
}

static void put_int_pair(pga_tb_t *tb, const char *key, int64_t v) {
  pga_tb_atom(tb, key);
  pga_tb_int(tb, v);
}

static void emit(pga_telemetry_t *tel, pga_event_t ev, pga_tb_t *meas,
                 pga_tb_t *meta) {
  if (!pga_tb_error(meas) && !pga_tb_error(meta)) {
    pga_term_t m = pga_tb_data(meas), d = pga_tb_data(meta);
    pga_telemetry_emit(tel, ev, &m, &d);
  }
  pga__tb_destroy(meas);
  pga__tb_destroy(meta);
}

/* %{request_id, request_type, service, user_id} with `more` pairs to
 * follow. */
static void put_request_meta(pga_tb_t *tb, const exec_t *e, size_t more) {
  pga_tb_map(tb, 4 + more);
  pga_tb_atom(tb, "request_id");
  put_opt(tb, &e->req.request_id);
  pga_tb_atom(tb, "request_type");
  put_opt(tb, &e->req.request_type);
  pga_tb_atom(tb, "service");
  put_opt(tb, &e->req.service);
  pga_tb_atom(tb, "user_id");
  put_opt(tb, &e->req.user_id);
}

void pga__ex_ev_request_start(exec_t *e) {
  pga_tb_t meas, meta;
  if (!pga_telemetry_wants(e->pl->tel, PGA_EV_EXECUTOR_REQUEST_START)) return;
  pga__tb_init(&meas, 0);
  pga__tb_init(&meta, 0);
  pga_tb_map(&meas, 1);
  put_int_pair(&meas, "system_time", pga_telemetry_system_time());
  put_request_meta(&meta, e, 0);
  emit(e->pl->tel, PGA_EV_EXECUTOR_REQUEST_START, &meas, &meta);
}

static void put_duration(pga_tb_t *meas, int64_t t0_us) {
  pga_tb_map(meas, 1);
  put_int_pair(meas, "duration_us", pga_telemetry_monotonic_us() - t0_us);
}

/* A boolean field of a Response map; dflt when absent. */
static int response_flag(const pga_term_t *resp, const char *key, int dflt) {
  pga_term_t v;
  if (pga_term_type(resp) != PGA_T_MAP ||
      pga_term_map_get_atom(resp, key, &v) != 0)
    return dflt;
  return pga_term_is_atom(&v, "true");
}

void pga__ex_ev_request_stop(exec_t *e, const pga_term_t *reply) {
  pga_tb_t meas, meta;
  if (!pga_telemetry_wants(e->pl->tel, PGA_EV_EXECUTOR_REQUEST_STOP)) return;
  pga__tb_init(&meas, 0);
  pga__tb_init(&meta, 0);
  put_duration(&meas, e->t0_us);
  put_request_meta(&meta, e, 2);
  pga_tb_atom(&meta, "success");
  pga_tb_atom(&meta, response_flag(reply, "success", 1) ? "true" : "false");
  pga_tb_atom(&meta, "async");
  pga_tb_atom(&meta, response_flag(reply, "async", 0) ? "true" : "false");
  emit(e->pl->tel, PGA_EV_EXECUTOR_REQUEST_STOP, &meas, &meta);
}

void pga__ex_ev_request_exception(exec_t *e, const pga_term_t *exc) {
  pga_tb_t meas, meta;
  pga_term_t msg;
  const char *p;
  size_t n;
  char *text = NULL;

  if (!pga_telemetry_wants(e->pl->tel, PGA_EV_EXECUTOR_REQUEST_EXCEPTION))
    return;
  pga__tb_init(&meas, 0);
  pga__tb_init(&meta, 0);
  put_duration(&meas, e->t0_us);
  put_request_meta(&meta, e, 3);
  pga_tb_atom(&meta, "kind");
  pga_tb_atom(&meta, "error");
  pga_tb_atom(&meta, "reason"); /* Exception.message/1 */
  if (pga_term_type(exc) == PGA_T_MAP &&
      pga_term_map_get_atom(exc, "message", &msg) == 0 &&
      pga_term_get_binary(&msg, &p, &n) == 0)
    pga_tb_binary(&meta, p, n);
  else if ((text = pga_request_detail_error("", exc, NULL)) != NULL)
    pga_tb_string(&meta, text);
  else
    pga_tb_string(&meta, "");
  free(text);
  pga_tb_atom(&meta, "stacktrace"); /* [PROPOSAL] no BEAM stack */
  pga_tb_nil(&meta);
  emit(e->pl->tel, PGA_EV_EXECUTOR_REQUEST_EXCEPTION, &meas, &meta);
}

void pga__ex_ev_retry(exec_t *e) {
  pga_tb_t meas, meta;
  if (!pga_telemetry_wants(e->pl->tel, PGA_EV_EXECUTOR_RETRY)) return;
  pga__tb_init(&meas, 0);
  pga__tb_init(&meta, 0);
  pga_tb_map(&meas, 2);
  put_int_pair(&meas, "attempt", e->retry_attempt);
  put_int_pair(&meas, "backoff_ms", e->retry_backoff);
  pga_tb_map(&meta, e->local ? 2 : 3);
  pga_tb_atom(&meta, "mode");
  pga_tb_atom(&meta, e->retry.mode == PGA_RETRY_SAME_NODE ? "same_node"
                                                          : "all_nodes");
  pga_tb_atom(&meta, "type");
  pga_tb_atom(&meta, e->local ? "local" : "remote");
  if (!e->local) {
    pga_tb_atom(&meta, "nodes");
    pga_tb_list(&meta, e->norder);
    for (size_t i = 0; i < e->norder; i++) pga_tb_term(&meta, &e->order[i]);
    if (e->norder) pga_tb_nil(&meta); /* pga_tb_list(0) wrote [] */
  }
  emit(e->pl->tel, PGA_EV_EXECUTOR_RETRY, &meas, &meta);
}

void pga__ex_ev_retry_exhausted(exec_t *e, const pga_term_t *last) {
  pga_tb_t meas, meta;
  char *text;
  if (!pga_telemetry_wants(e->pl->tel, PGA_EV_EXECUTOR_RETRY_EXHAUSTED))
    return;
  pga__tb_init(&meas, 0);
  pga__tb_init(&meta, 0);
  pga_tb_map(&meas, 0);
  pga_tb_map(&meta, 3);
  pga_tb_atom(&meta, "request_id");
  put_opt(&meta, &e->req.request_id);
  pga_tb_atom(&meta, "mode");
  pga_request_retry_encode(&meta, &e->retry);
  pga_tb_atom(&meta, "last_error");
  text = pga_request_detail_error("", last, NULL);
  pga_tb_string(&meta, text ? text : "");
  free(text);
  emit(e->pl->tel, PGA_EV_EXECUTOR_RETRY_EXHAUSTED, &meas, &meta);
}

/* Event 7 from the denial's details map. */
static void ev_exceeded(exec_t *e, const pga_term_t *details) {
  static const char *const copied[] = {"key", "scope", "max_requests",
                                       "current_requests"};
  pga_tb_t meas, meta;
  pga_term_t v;

  pga__tb_init(&meas, 0);
  pga__tb_init(&meta, 0);
  pga_tb_map(&meas, 1);
  pga_tb_atom(&meas, "retry_after_ms");
  if (pga_term_map_get_atom(details, "retry_after_ms", &v) == 0)
    pga_tb_term(&meas, &v);
  else
    pga_tb_int(&meas, 0);
  pga_tb_map(&meta, 6);
  for (size_t i = 0; i < sizeof copied / sizeof *copied; i++) {
    pga_tb_atom(&meta, copied[i]);
    if (pga_term_map_get_atom(details, copied[i], &v) == 0)
      pga_tb_term(&meta, &v);
    else
      pga_tb_atom(&meta, "nil");
  }
  pga_tb_atom(&meta, "request_id");
  put_opt(&meta, &e->req.request_id);
  pga_tb_atom(&meta, "user_id");
  put_opt(&meta, &e->req.user_id);
  emit(e->pl->tel, PGA_EV_RATE_LIMITER_EXCEEDED, &meas, &meta);
}

void pga__ex_ev_limiter(exec_t *e, int64_t duration_us,
                        const pga_term_t *result) {
  pga_term_t el[3];

  if (pga_telemetry_wants(e->pl->tel, PGA_EV_RATE_LIMITER_CHECK)) {
    pga_tb_t meas, meta;
    pga__tb_init(&meas, 0);
    pga__tb_init(&meta, 0);
    pga_tb_map(&meas, 1);
    put_int_pair(&meas, "duration_us", duration_us);
    pga_tb_map(&meta, 6);
    pga_tb_atom(&meta, "request_id");
    put_opt(&meta, &e->req.request_id);
    pga_tb_atom(&meta, "user_id");
    put_opt(&meta, &e->req.user_id);
    pga_tb_atom(&meta, "instance");
    pga_tb_atom(&meta, LIMITER_INSTANCE);
    pga_tb_atom(&meta, "service");
    put_opt(&meta, &e->req.service);
    pga_tb_atom(&meta, "request_type");
    put_opt(&meta, &e->req.request_type);
    pga_tb_atom(&meta, "result");
    pga_tb_term(&meta, result);
    emit(e->pl->tel, PGA_EV_RATE_LIMITER_CHECK, &meas, &meta);
  }
  if (pga_telemetry_wants(e->pl->tel, PGA_EV_RATE_LIMITER_EXCEEDED) &&
      pga__rq_tuple(result, 3, el) && pga_term_is_atom(&el[1], "rate_limited"))
    ev_exceeded(e, &el[2]);
}

/* ---- hooks (events 10-15) ---- */

static const pga_event_t hook_events[2][3] = {
    {PGA_EV_HOOK_BEFORE_START, PGA_EV_HOOK_BEFORE_STOP,
     PGA_EV_HOOK_BEFORE_EXCEPTION},
    {PGA_EV_HOOK_AFTER_START, PGA_EV_HOOK_AFTER_STOP,
     PGA_EV_HOOK_AFTER_EXCEPTION}};

static void put_hook_meta(pga_tb_t *tb, const char *type, const char *m,
                          const char *f, size_t more) {
  pga_tb_map(tb, 3 + more);
  pga_tb_atom(tb, "module");
  pga_tb_atom(tb, m);
  pga_tb_atom(tb, "function");
  pga_tb_atom(tb, f);
  pga_tb_atom(tb, "type");
  pga_tb_atom(tb, type);
}

void pga__ex_ev_hook_start(plane_t *pl, const char *type, const char *m,
                           const char *f) {
  pga_event_t ev = hook_events[strcmp(type, "before") != 0][0];
  pga_tb_t meas, meta;
  if (!pga_telemetry_wants(pl->tel, ev)) return;
  pga__tb_init(&meas, 0);
  pga__tb_init(&meta, 0);
  pga_tb_map(&meas, 1);
  put_int_pair(&meas, "system_time", pga_telemetry_system_time());
  put_hook_meta(&meta, type, m, f, 0);
  emit(pl->tel, ev, &meas, &meta);
}

void pga__ex_ev_hook_end(plane_t *pl, const char *type, const char *m,
                         const char *f, int64_t t0_us,
                         const pga_term_t *result) {
  const pga_event_t *evs = hook_events[strcmp(type, "before") != 0];
  pga_tb_t meas, meta;
  char *text = NULL;
  int failed;

  if (!pga_telemetry_wants(pl->tel, evs[1]) &&
      !pga_telemetry_wants(pl->tel, evs[2]))
    return;
  failed = pga_request_hook_failure(result, &text);
  if (!pga_telemetry_wants(pl->tel, evs[failed ? 2 : 1])) {
    free(text);
    return;
  }
  pga__tb_init(&meas, 0);
  pga__tb_init(&meta, 0);
  put_duration(&meas, t0_us);
  put_hook_meta(&meta, type, m, f, failed ? 3 : 0);
  if (failed) {
    pga_tb_atom(&meta, "kind");
    pga_tb_atom(&meta, failed == PGA_HOOK_FAIL_TIMEOUT ? "timeout" : "error");
    pga_tb_atom(&meta, "reason");
    pga_tb_string(&meta, text ? text : "");
    pga_tb_atom(&meta, "stacktrace");
    pga_tb_atom(&meta, "nil");
  }
  free(text);
  emit(pl->tel, evs[failed ? 2 : 1], &meas, &meta);
}

void pga__ex_ev_hook_nodedown(plane_t *pl, const char *type, const char *m,
                              const char *f, int64_t t0_us) {
  pga_tb_t r;
  pga__tb_init(&r, 0);
  pga_tb_tuple(&r, 2);
  pga_tb_atom(&r, "badrpc");
  pga_tb_atom(&r, "nodedown");
  pga_term_t v = pga_tb_data(&r);
  pga__ex_ev_hook_end(pl, type, m, f, t0_us, &v);
  pga__tb_destroy(&r);
}

/* ---- the periodic rate-limiter cleanup (event 9) ---- */

int64_t pga__ex_cleanup_timer(pga_loop_t *loop, uint64_t id, void *ud) {
  plane_t *pl = ud;
  struct timespec ts;
  int64_t t0 = pga_telemetry_monotonic_us();
  size_t cleaned, nglobal, napi;
  pga_tb_t meas, meta;

  (void)loop, (void)id;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  cleaned = pga_request_limiter_cleanup(
      pl->lim, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
  if (!pga_telemetry_wants(pl->tel, PGA_EV_RATE_LIMITER_CLEANUP))
    return PGA_REQUEST_CLEANUP_MS;
  pga_request_limiter_counts(pl->lim, &nglobal, &napi);
  pga__tb_init(&meas, 0);
  pga__tb_init(&meta, 0);
  pga_tb_map(&meas, 2);
  put_int_pair(&meas, "duration_us", pga_telemetry_monotonic_us() - t0);
  put_int_pair(&meas, "cleaned_entries", (int64_t)cleaned);
  pga_tb_map(&meta, 2);
  put_int_pair(&meta, "global_limits_count", (int64_t)nglobal);
  put_int_pair(&meta, "api_limits_count", (int64_t)napi);
  emit(pl->tel, PGA_EV_RATE_LIMITER_CLEANUP, &meas, &meta);
  return PGA_REQUEST_CLEANUP_MS;
}
