/* The rate limiter's per-key sliding log (request-plane.md §7.3) as a ring
 * of timestamps. It holds exactly the timestamps the library's list holds,
 * so every decision, count and retry_after is the library's: nothing is
 * approximated. What changes is the cost. The library filters and copies
 * its whole list on every check; here the list is sorted (timestamps only
 * ever arrive in order), so expired entries sit at the front and are
 * dropped one by one as they expire, the count is a search galloping from
 * the front (O(log k) for k expired entries), and the truncation to
 * max_requests drops from the front too. Every timestamp is
 * added once and dropped at most once, hence amortised O(1) per accepted
 * check and O(log m) per refused one, m <= max_requests stored entries,
 * however many requests the key made before. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "request/request_int.h"

#define MIN_CAP 4u

pga__rq_log_t *pga__rq_log_new(void) { return calloc(1, sizeof(pga__rq_log_t)); }

void pga__rq_log_free(void *log) {
  pga__rq_log_t *l = log;

  if (l != NULL)
    free(l->ts);
  free(l);
}

static int64_t at(const pga__rq_log_t *l, uint32_t i) {
  return l->ts[(l->head + i) % l->cap];
}

int64_t pga__rq_log_newest(const pga__rq_log_t *l) {
  return l->len == 0 ? INT64_MIN : at(l, l->len - 1);
}

/* The first position whose timestamp is > cutoff (len if none). The
 * search gallops from the front (probing 0, 2, 6, 14, ...) before
 * bisecting, so it costs O(log k) for k expired entries rather than
 * O(log len): an accepted check finds the one or two entries that just
 * expired in constant time however long the log is (bench/limiter_bench.c
 * measured plain bisection at 1.4x the cost for 100,000 entries). */
static uint32_t first_after(const pga__rq_log_t *l, int64_t cutoff) {
  uint32_t lo = 0, hi = 1;

  while (hi < l->len && at(l, hi - 1) <= cutoff) {
    lo = hi;
    hi = hi > l->len / 2 ? l->len : 2 * hi + 1;
  }
  if (hi > l->len)
    hi = l->len;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;

    if (at(l, mid) > cutoff)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

uint32_t pga__rq_log_count_after(const pga__rq_log_t *l, int64_t cutoff,
                                 int64_t *oldest) {
  uint32_t i = first_after(l, cutoff);

  if (i < l->len && oldest != NULL)
    *oldest = at(l, i);
  return l->len - i;
}

static void drop_front(pga__rq_log_t *l, uint32_t k) {
  l->head = l->cap == 0 ? 0 : (l->head + k) % l->cap;
  l->len -= k;
}

/* Copies the entries to a new ring of ncap slots, oldest at 0. */
static int resize(pga__rq_log_t *l, uint32_t ncap) {
  int64_t *n = malloc((size_t)ncap * sizeof *n);

  if (n == NULL)
    return PGA_ENOMEM;
  for (uint32_t i = 0; i < l->len; i++)
    n[i] = at(l, i);
  free(l->ts);
  l->ts = n;
  l->cap = ncap;
  l->head = 0;
  return 0;
}

/* Gives memory back once a log is a quarter full (after a limit shrank, or
 * the cleanup emptied most of it). */
static void maybe_shrink(pga__rq_log_t *l) {
  if (l->cap > 4 * MIN_CAP && l->len <= l->cap / 4)
    (void)resize(l, l->cap / 2); /* on ENOMEM the bigger ring stays */
}

int pga__rq_log_accept(pga__rq_log_t *l, int64_t cutoff, int64_t now,
                       uint32_t max) {
  uint32_t expired = first_after(l, cutoff);
  uint32_t keep = l->len - expired;

  /* [now | kept] truncated to max keeps the newest max - 1 of the kept. */
  if (keep > max - 1)
    expired += keep - (max - 1);
  /* Grow before dropping, so that a failure leaves the log as it was. */
  if (l->len - expired == l->cap &&
      resize(l, l->cap == 0 ? MIN_CAP : (l->cap > UINT32_MAX / 2
                                             ? UINT32_MAX
                                             : 2 * l->cap)) != 0)
    return PGA_ENOMEM;
  drop_front(l, expired);
  l->ts[(l->head + l->len) % l->cap] = now;
  l->len++;
  maybe_shrink(l);
  return 0;
}

uint32_t pga__rq_log_prune(pga__rq_log_t *l, int64_t cutoff) {
  uint32_t k = first_after(l, cutoff);

  drop_front(l, k);
  maybe_shrink(l);
  return k;
}
