/* The config plane's telemetry events (ops-plane.md §6.1, events 22-30):
 * measurements and metadata are built only when a handler listens, from
 * terms the caller still owns, and emitted once the plane lock is free. */
#include "config.h"

#include "config/plane_int.h"
#include "term/term.h"

void pga__cfg_event_begin(pga_cfg_event_t *e, pga_config_plane_t *p,
                          pga_event_t ev) {
  e->t = pga_telemetry_of(p->node);
  e->ev = ev;
  e->on = pga_telemetry_wants(e->t, ev);
  pga__tb_init(&e->meas, 0);
  pga__tb_init(&e->meta, 0);
}

void pga__cfg_event_meta(pga_cfg_event_t *e, size_t n,
                         const char *const *keys,
                         const pga_term_t *const *vals) {
  if (!e->on) return;
  pga_tb_map(&e->meta, n);
  for (size_t i = 0; i < n; i++) {
    pga_tb_atom(&e->meta, keys[i]);
    if (vals[i] && vals[i]->buf)
      pga_tb_term(&e->meta, vals[i]);
    else
      pga_tb_atom(&e->meta, "nil");
  }
}

void pga__cfg_event_key(pga_cfg_event_t *e, const pga_term_t *svc,
                        const pga_term_t *rt, const pga_term_t *ver) {
  static const char *const keys[] = {"service", "request_type", "version"};
  const pga_term_t *vals[] = {svc, rt, ver};
  pga__cfg_event_meta(e, 3, keys, vals);
}

void pga__cfg_event_meas(pga_cfg_event_t *e, size_t n,
                         const char *const *keys, const int64_t *vals) {
  if (!e->on) return;
  pga_tb_map(&e->meas, n);
  for (size_t i = 0; i < n; i++) {
    pga_tb_atom(&e->meas, keys[i]);
    pga_tb_int(&e->meas, vals[i]);
  }
}

void pga__cfg_event_count(pga_cfg_event_t *e, size_t count) {
  static const char *const keys[] = {"count"};
  int64_t v = (int64_t)count;
  pga__cfg_event_meas(e, 1, keys, &v);
}

void pga__cfg_event_end(pga_cfg_event_t *e, int emit) {
  if (e->on && emit) {
    if (pga_tb_data(&e->meas).len == 0) pga_tb_map(&e->meas, 0);
    pga_term_t meas = pga_tb_data(&e->meas), meta = pga_tb_data(&e->meta);
    if (!pga_tb_error(&e->meas) && !pga_tb_error(&e->meta) && meta.len)
      pga_telemetry_emit(e->t, e->ev, &meas, &meta);
  }
  pga__tb_destroy(&e->meas);
  pga__tb_destroy(&e->meta);
}

void pga__cfg_emit_batch_add(pga_config_plane_t *p, size_t stored,
                             const pga_tb_t *first_service) {
  static const char *const keys[] = {"service"};
  pga_term_t svc = pga_tb_data(first_service);
  const pga_term_t *vals[] = {&svc};
  pga_cfg_event_t e;
  if (stored == 0 || pga_tb_error(first_service) || !svc.len) return;
  pga__cfg_event_begin(&e, p, PGA_EV_CONFIG_BATCH_ADD);
  pga__cfg_event_count(&e, stored);
  pga__cfg_event_meta(&e, 1, keys, vals);
  pga__cfg_event_end(&e, 1);
}
