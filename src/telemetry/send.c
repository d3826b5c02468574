/* Sending one event to one handler (ops-plane.md §6.3): a message to a
 * pid handler, an rpc cast through rex for funs and {m, f}, a log line
 * for the default logger. Loop thread. */
#include "config.h"

#include <stdlib.h>

#include "base/log.h"
#include "telemetry/telemetry_int.h"
#include "term/inspect.h"

/* [event, measurements, metadata, config]: the handler's arguments. */
static void put_args(pga_tb_t *tb, const pga_th_t *h, const pga_term_t *ev,
                     const pga_term_t *meas, const pga_term_t *meta) {
  pga_term_t config = pga__th_config(h);
  pga_tb_list(tb, 4);
  pga_tb_term(tb, ev);
  pga_tb_term(tb, meas);
  pga_tb_term(tb, meta);
  pga_tb_term(tb, &config);
  pga_tb_nil(tb);
}

static void send_pid(pga_telemetry_t *t, const pga_th_t *h,
                     const pga_term_t *ev, const pga_term_t *meas,
                     const pga_term_t *meta) {
  pga_term_t pid = pga__th_target(h), config = pga__th_config(h);
  pga_tb_t msg;
  pga__tb_init(&msg, 0);
  pga__tb_version(&msg);
  pga_tb_tuple(&msg, 5);
  pga_tb_atom(&msg, "telemetry_event");
  pga_tb_term(&msg, ev);
  pga_tb_term(&msg, meas);
  pga_tb_term(&msg, meta);
  pga_tb_term(&msg, &config);
  if (!pga_tb_error(&msg))
    (void)pga_dist_send(t->d, t->proc ? pga_proc_id(t->proc) : 0, &pid,
                        &msg);
  pga__tb_destroy(&msg);
}

/* {:"$gen_cast", {:cast, m, f, args, gl}} to {rex, home}: what
 * rpc:cast/4 sends, so the call runs on home under the attaching
 * shell's group leader. */
static void cast_to_rex(pga_telemetry_t *t, const pga_th_t *h,
                        const pga_term_t *ev, const pga_term_t *meas,
                        const pga_term_t *meta) {
  pga_conn_t *c = pga_dist_conn_find(t->d, h->home);
  if (!c || !pga_conn_is_up(c)) return; /* skipped, never reconnects */
  pga_term_t target = pga__th_target(h), gl = pga__th_gl(h), m, f;
  pga_tb_t msg;
  pga__tb_init(&msg, 0);
  pga__tb_version(&msg);
  pga_tb_tuple(&msg, 2);
  pga_tb_atom(&msg, "$gen_cast");
  pga_tb_tuple(&msg, 5);
  pga_tb_atom(&msg, "cast");
  if (h->kind == PGA_TH_FUN) {
    pga_tb_atom(&msg, "erlang");
    pga_tb_atom(&msg, "apply");
    pga_tb_list(&msg, 2);
    pga_tb_term(&msg, &target);
    put_args(&msg, h, ev, meas, meta);
    pga_tb_nil(&msg);
  } else if (pga_term_tuple_get(&target, 0, &m) == 0 &&
             pga_term_tuple_get(&target, 1, &f) == 0) {
    pga_tb_term(&msg, &m);
    pga_tb_term(&msg, &f);
    put_args(&msg, h, ev, meas, meta);
  }
  if (gl.buf)
    pga_tb_term(&msg, &gl);
  else
    pga_tb_atom(&msg, "user");
  if (!pga_tb_error(&msg))
    (void)pga_dist_reg_send(t->d, t->proc ? pga_proc_id(t->proc) : 0,
                            h->home, "rex", &msg);
  pga__tb_destroy(&msg);
}

/* The library's default logger prints at debug level; so does pga. */
static void log_event(const pga_term_t *ev, const pga_term_t *meas,
                      const pga_term_t *meta) {
  if (pga_log_get_level() > PGA_LOG_DEBUG) return;
  char *e = pga_term_inspect_dup(ev), *m = pga_term_inspect_dup(meas);
  char *d = pga_term_inspect_dup(meta);
  if (e && m && d)
    pga_debug("[Telemetry] event=%s measurements=%s metadata=%s", e, m, d);
  free(e);
  free(m);
  free(d);
}

void pga__tel_send(void *ud, const pga_th_t *h, const pga_term_t *ev,
                   const pga_term_t *meas, const pga_term_t *meta) {
  pga_telemetry_t *t = ud;
  switch (h->kind) {
  case PGA_TH_PID:
    if (t->d) send_pid(t, h, ev, meas, meta);
    break;
  case PGA_TH_FUN:
  case PGA_TH_MF:
    if (t->d) cast_to_rex(t, h, ev, meas, meta);
    break;
  case PGA_TH_LOGGER:
    log_event(ev, meas, meta);
    break;
  }
}
