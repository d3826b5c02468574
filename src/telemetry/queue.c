/* The delivery queue (ops-plane.md §6.3): emitting copies the terms once
 * into a shared payload and queues one item per attached handler, FIFO
 * overall (so FIFO per handler), at most PGA_TEL_QUEUE_MAX per handler
 * (the excess is dropped and counted). The loop thread drains it. */
#include "config.h"

#include <stdlib.h>

#include "base/log.h"
#include "telemetry/telemetry_int.h"

/* event, measurements and metadata back to back, shared by the items. */
typedef struct payload_s {
  unsigned refs;
  pga_tb_t terms;
  size_t ev_len, meas_len;
} payload_t;

typedef struct pga_tel_item_s {
  struct pga_tel_item_s *next;
  pga_th_t *h;
  payload_t *p;
} item_t;

static payload_t *payload_new(int ev, const pga_term_t *event,
                              const pga_term_t *meas, const pga_term_t *meta) {
  payload_t *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  pga__tb_init(&p->terms, 0);
  if (ev >= 0)
    pga__tel_event_encode(&p->terms, (pga_event_t)ev);
  else
    pga_tb_term(&p->terms, event);
  p->ev_len = (size_t)p->terms.x.index;
  pga_tb_term(&p->terms, meas);
  p->meas_len = (size_t)p->terms.x.index - p->ev_len;
  pga_tb_term(&p->terms, meta);
  if (pga_tb_error(&p->terms)) {
    pga__tb_destroy(&p->terms);
    free(p);
    return NULL;
  }
  return p;
}

static void payload_unref(payload_t *p) {
  if (--p->refs) return;
  pga__tb_destroy(&p->terms);
  free(p);
}

/* Lock held: one item for h, unless its queue is full. */
static void enqueue_locked(pga_telemetry_t *t, pga_th_t *h, payload_t *p) {
  item_t *it = h->queued < PGA_TEL_QUEUE_MAX ? malloc(sizeof *it) : NULL;
  if (!it) {
    if (h->dropped++ == 0)
      pga_warn("telemetry: handler queue full, dropping events");
    t->dropped++;
    return;
  }
  it->next = NULL;
  it->h = h;
  it->p = p;
  h->refs++;
  h->queued++;
  p->refs++;
  if (t->tail)
    t->tail->next = it;
  else
    t->head = it;
  t->tail = it;
  t->queued++;
}

static int matches(const pga_th_t *h, int ev, const pga_term_t *event) {
  if (ev >= 0) return 1;
  pga_term_t mine = pga__th_event(h);
  return pga_term_equal(&mine, event);
}

static void drain_post(pga_loop_t *loop, void *ud);

/* Lock held: 1 if the caller must post a drain. */
static int want_post_locked(pga_telemetry_t *t) {
  if (!t->loop || t->posted || !t->head) return 0;
  t->posted = 1;
  return 1;
}

static void post(pga_telemetry_t *t) {
  if (pga_loop_post(t->loop, drain_post, t->node) == 0) return;
  pthread_mutex_lock(&t->mu);
  t->posted = 0; /* the next emit tries again */
  pthread_mutex_unlock(&t->mu);
}

void pga__tel_dispatch(pga_telemetry_t *t, int ev, const pga_term_t *event,
                       const pga_term_t *measurements,
                       const pga_term_t *metadata) {
  payload_t *p = payload_new(ev, event, measurements, metadata);
  if (!p) return;
  p->refs = 1; /* ours, while queueing */
  pthread_mutex_lock(&t->mu);
  pga_th_t *h = t->chains[ev >= 0 ? ev : PGA_TEL_CHAIN_CUSTOM];
  for (; h; h = h->next)
    if (matches(h, ev, event)) enqueue_locked(t, h, p);
  payload_unref(p);
  int must_post = want_post_locked(t);
  pthread_mutex_unlock(&t->mu);
  if (must_post) post(t);
}

void pga_telemetry_emit(pga_telemetry_t *t, pga_event_t ev,
                        const pga_term_t *measurements,
                        const pga_term_t *metadata) {
  if (!pga_telemetry_wants(t, ev) || !measurements || !metadata) return;
  pga__tel_dispatch(t, (int)ev, NULL, measurements, metadata);
}

/* Lock held: unlinks up to max items from the head. */
static item_t *take_locked(pga_telemetry_t *t, size_t max) {
  item_t *first = t->head, *last = NULL, *it = t->head;
  for (size_t n = 0; it && n < max; n++) {
    it->h->queued--;
    t->queued--;
    last = it;
    it = it->next;
  }
  if (!last) return NULL;
  last->next = NULL;
  t->head = it;
  if (!it) t->tail = NULL;
  return first;
}

static void deliver(const item_t *it, pga_tel_deliver_fn fn, void *ud) {
  if (!fn || !it->h->attached) return;
  pga_term_t all = pga_tb_data(&it->p->terms);
  pga_term_t ev = {all.buf, it->p->ev_len};
  pga_term_t meas = {all.buf + it->p->ev_len, it->p->meas_len};
  pga_term_t meta = {meas.buf + meas.len, all.len - ev.len - meas.len};
  fn(ud, it->h, &ev, &meas, &meta);
}

size_t pga__tel_drain(pga_telemetry_t *t, size_t max, pga_tel_deliver_fn fn,
                      void *ud) {
  pthread_mutex_lock(&t->mu);
  item_t *batch = take_locked(t, max);
  pthread_mutex_unlock(&t->mu);
  /* Sending happens outside the lock, so emitters never wait for it. */
  for (item_t *it = batch; it; it = it->next) deliver(it, fn, ud);
  pthread_mutex_lock(&t->mu);
  while (batch) {
    item_t *it = batch;
    batch = it->next;
    pga__th_unref_locked(it->h);
    payload_unref(it->p);
    free(it);
  }
  size_t left = t->queued;
  pthread_mutex_unlock(&t->mu);
  return left;
}

uint64_t pga__tel_dropped(pga_telemetry_t *t) {
  pthread_mutex_lock(&t->mu);
  uint64_t n = t->dropped;
  pthread_mutex_unlock(&t->mu);
  return n;
}

/* The posted drain: a batch per loop turn so a burst cannot starve the
 * loop; posts again while items remain. ud is the node, looked up again
 * because telemetry may have stopped since. */
static void drain_post(pga_loop_t *loop, void *ud) {
  pga_telemetry_t *t = pga_telemetry_of(ud);
  (void)loop;
  if (!t) return;
  size_t left = pga__tel_drain(t, PGA_TEL_DRAIN_BATCH, pga__tel_send, t);
  pthread_mutex_lock(&t->mu);
  t->posted = 0;
  int must_post = left && want_post_locked(t);
  pthread_mutex_unlock(&t->mu);
  if (must_post) post(t);
}
