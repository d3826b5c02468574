/* Fair admission of incoming connections before their handshake (issue
 * 11, docs/compat.md D10): a flood of half-open sockets must not keep a
 * legitimate node out.
 *
 *   - Connections not yet up are kept in accept order (oldest first).
 *   - One source address holds at most ADM_PER_SOURCE of them: a new one
 *     from a source at its limit evicts that source's oldest.
 *   - The whole set holds at most ADM_MAX: a new one evicts the oldest.
 *   - A connection must send its first bytes within ADM_FIRST_BYTES_MS;
 *     after that the set-up deadline (setup_timeout) covers the handshake.
 *
 * A newcomer always gets in, so an attacker can only push out connections
 * older than its own; a real peer finishes its handshake within a few
 * round trips, long before the flood cycles through the table. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/log.h"
#include "dist/conn.h"

#define ADM_MAX 1024
#define ADM_PER_SOURCE 128
#define ADM_FIRST_BYTES_MS 2000

uint64_t pga__admission_source(const struct sockaddr_storage *sa) {
  if (sa->ss_family == AF_INET6) {
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;
    uint64_t prefix;
    memcpy(&prefix, v6->sin6_addr.s6_addr, sizeof prefix);
    /* IPv4-mapped addresses count as their IPv4 source */
    if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
      uint32_t v4;
      memcpy(&v4, v6->sin6_addr.s6_addr + 12, sizeof v4);
      return v4;
    }
    /* mixed, with the top bit set: never an IPv4 key (< 2^32) */
    return (prefix * UINT64_C(0x9E3779B97F4A7C15)) | (UINT64_C(1) << 63);
  }
  uint32_t v4 = ((const struct sockaddr_in *)sa)->sin_addr.s_addr;
  return v4;
}

static void unlink_conn(pga_dist_t *d, pga_conn_t *c) {
  if (c->adm_prev) c->adm_prev->adm_next = c->adm_next;
  else d->adm_head = c->adm_next;
  if (c->adm_next) c->adm_next->adm_prev = c->adm_prev;
  else d->adm_tail = c->adm_prev;
  c->adm_prev = c->adm_next = NULL;
}

static uintptr_t source_count(pga_dist_t *d, uint64_t src) {
  return (uintptr_t)pga_dict_get(d->adm_sources, PGA_U64_KEY(src));
}

static void set_source_count(pga_dist_t *d, uint64_t src, uintptr_t n) {
  pga_dict_take(d->adm_sources, PGA_U64_KEY(src), NULL);
  if (n > 0 && pga_dict_add(d->adm_sources, PGA_U64_KEY(src), (void *)n) != 0)
    pga_warn("admission: out of memory counting a source");
}

void pga__admission_leave(pga_conn_t *c) {
  if (!c->in_admission) return;
  pga_dist_t *d = c->d;
  unlink_conn(d, c);
  uintptr_t n = source_count(d, c->src_key);
  set_source_count(d, c->src_key, n > 0 ? n - 1 : 0);
  d->adm_count--;
  c->in_admission = 0;
}

static void evict_oldest(pga_dist_t *d, int any_source, uint64_t src) {
  pga_conn_t *c = d->adm_head;
  while (c && !any_source && c->src_key != src) c = c->adm_next;
  if (c) pga__conn_close(c, "evicted: newer connections waiting");
}

static int64_t on_first_bytes_deadline(pga_loop_t *loop, uint64_t id,
                                       void *data) {
  pga_conn_t *c = data;
  c->timer = 0;
  pga__conn_close(c, "no bytes within the first-bytes deadline");
  return PGA_TIMER_NOMORE;
}

/* The set-up deadline becomes the shorter first-bytes one until bytes
 * come (pga__admission_got_bytes). */
static void arm_first_bytes(pga_conn_t *c) {
  pga_dist_t *d = c->d;
  unsigned ms = ADM_FIRST_BYTES_MS < d->cfg.setup_timeout_ms
                    ? ADM_FIRST_BYTES_MS
                    : d->cfg.setup_timeout_ms;
  if (c->timer) pga_loop_timer_cancel(d->loop, c->timer);
  c->timer = pga_loop_timer(d->loop, ms, on_first_bytes_deadline, c);
  c->awaiting_first_bytes = 1;
}

static int64_t on_setup_deadline(pga_loop_t *loop, uint64_t id, void *data) {
  pga_conn_t *c = data;
  c->timer = 0;
  pga__conn_close(c, "connection set-up timed out");
  return PGA_TIMER_NOMORE;
}

void pga__admission_got_bytes(pga_conn_t *c) {
  if (!c->awaiting_first_bytes) return;
  c->awaiting_first_bytes = 0;
  pga_dist_t *d = c->d;
  uint64_t spent = pga_loop_now(d->loop) - c->accepted_at;
  uint64_t left = spent < d->cfg.setup_timeout_ms
                      ? d->cfg.setup_timeout_ms - spent
                      : 0;
  if (c->timer) pga_loop_timer_cancel(d->loop, c->timer);
  c->timer = pga_loop_timer(d->loop, left, on_setup_deadline, c);
}

pga_conn_t *pga__admit(pga_dist_t *d, int fd, uint64_t src) {
  if (source_count(d, src) >= ADM_PER_SOURCE) evict_oldest(d, 0, src);
  if (d->adm_count >= ADM_MAX) evict_oldest(d, 1, 0);
  pga_conn_t *c = pga__conn_new(d, fd, 0, NULL);
  if (!c) return NULL;
  c->src_key = src;
  c->accepted_at = pga_loop_now(d->loop);
  c->in_admission = 1;
  c->adm_prev = d->adm_tail;
  if (d->adm_tail) d->adm_tail->adm_next = c;
  else d->adm_head = c;
  d->adm_tail = c;
  d->adm_count++;
  set_source_count(d, src, source_count(d, src) + 1);
  arm_first_bytes(c);
  return c;
}

int pga__admission_make_room(pga_dist_t *d) {
  if (!d->adm_head) return 0;
  evict_oldest(d, 1, 0);
  return 1;
}
