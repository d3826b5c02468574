/* Micro-benchmark of the rate limiter (src/request/limiter.c, ratelog.c):
 * the cost of one pga_request_limiter_check for a key that already made
 * 10, 1,000 or 100,000 requests within the window. request.h promises a
 * cost independent of how many requests the key made, so the figures
 * should stay flat; they are printed as ns/check and as a ratio against
 * the 10-request baseline measured in the same run.
 *
 * Method: one global limit %{key: :user_id, max_requests: 1000000,
 * window_ms: 1000000}, the same at every level. The key's log is filled
 * with N timestamps spread evenly over the window, then each measured
 * check moves the clock on by window/N ms: one timestamp leaves the
 * window as one enters, so the key holds N requests throughout (a steady
 * state, not a growing log). Each level is measured ROUNDS times, the
 * levels taking turns within each round; the fastest round is reported
 * (the least disturbed by the machine).
 *
 * Built by `make bench` (bench/local.mk), never by make check. Environment:
 * BENCH_LIMITER_CHECKS, checks per round (default 200000). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pga/term.h"
#include "request/request.h"

#define ROUNDS 7
#define WINDOW_MS 1000000

static double now_ns(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "limiter_bench: %s\n", what);
  exit(1);
}

/* [%{key: :user_id, max_requests: 1000000, window_ms: WINDOW_MS}] */
static pga_tb_t *limits_term(void) {
  pga_tb_t *tb = pga_tb_new(0);

  if (tb == NULL) die("out of memory");
  pga_tb_list(tb, 1);
  pga_tb_map(tb, 3);
  pga_tb_atom(tb, "key");
  pga_tb_atom(tb, "user_id");
  pga_tb_atom(tb, "max_requests");
  pga_tb_int(tb, 1000000);
  pga_tb_atom(tb, "window_ms");
  pga_tb_int(tb, WINDOW_MS);
  pga_tb_nil(tb);
  if (pga_tb_error(tb)) die("cannot build the limits");
  return tb;
}

/* %{request_id: "r", user_id: "user_bench", service: "svc",
 *   request_type: "rt", args: %{}} */
static pga_tb_t *request_term(void) {
  pga_tb_t *tb = pga_tb_new(0);

  if (tb == NULL) die("out of memory");
  pga_tb_map(tb, 5);
  pga_tb_atom(tb, "request_id");
  pga_tb_string(tb, "r");
  pga_tb_atom(tb, "user_id");
  pga_tb_string(tb, "user_bench");
  pga_tb_atom(tb, "service");
  pga_tb_string(tb, "svc");
  pga_tb_atom(tb, "request_type");
  pga_tb_string(tb, "rt");
  pga_tb_atom(tb, "args");
  pga_tb_map(tb, 0);
  if (pga_tb_error(tb)) die("cannot build the request");
  return tb;
}

/* One limiter whose key holds n requests, and its clock. */
typedef struct {
  int64_t n, step, t;
  pga_request_limiter_t *l;
  double best;
} level_t;

static void fill(level_t *lv, int64_t n, const pga_term_t *limits,
                 const pga_request_t *req) {
  pga_limiter_opts_t o = {PGA_LIMITER_OPTS_VERSION, 0, 0, *limits,
                          {NULL, 0}, 0};

  lv->n = n;
  lv->step = WINDOW_MS / n;
  lv->t = 1;
  lv->best = 0;
  if (pga_request_limiter_new(&o, &lv->l) != 0)
    die("pga_request_limiter_new");
  for (int64_t i = 0; i < n; i++, lv->t += lv->step)
    if (pga_request_limiter_check(lv->l, req, lv->t, NULL, NULL) !=
        PGA_LIMIT_OK)
      die("a filling check was refused");
}

/* One round of `checks` checks; keeps the fastest ns per check. */
static void round_ns(level_t *lv, const pga_request_t *req, long checks) {
  double t0 = now_ns();

  for (long i = 0; i < checks; i++, lv->t += lv->step)
    if (pga_request_limiter_check(lv->l, req, lv->t, NULL, NULL) !=
        PGA_LIMIT_OK)
      die("a measured check was refused");
  double ns = (now_ns() - t0) / (double)checks;
  if (lv->best == 0 || ns < lv->best) lv->best = ns;
}

int main(void) {
  static const int64_t levels[] = {10, 1000, 100000};
  enum { NL = sizeof levels / sizeof levels[0] };
  const char *env = getenv("BENCH_LIMITER_CHECKS");
  long checks = env != NULL ? atol(env) : 200000;
  pga_tb_t *lim = limits_term(), *rq = request_term();
  pga_term_t lt = pga_tb_data(lim), rt = pga_tb_data(rq);
  pga_request_t req;
  level_t lv[NL];

  if (checks <= 0) checks = 200000;
  if (pga_request_from_struct(&rt, &req) != 0) die("bad request term");
  for (size_t i = 0; i < NL; i++) fill(&lv[i], levels[i], &lt, &req);
  /* the levels take turns in every round, so a busy moment of the machine
   * falls on all of them and the ratios stay fair */
  for (int r = 0; r < ROUNDS; r++)
    for (size_t i = 0; i < NL; i++) round_ns(&lv[i], &req, checks);
  printf("rate-limit check cost (pga_request_limiter_check, one global "
         "limit, %ld checks x %d rounds, best round)\n", checks, ROUNDS);
  printf("  %-28s %12s %14s\n", "requests already in window", "ns/check",
         "vs 10 requests");
  for (size_t i = 0; i < NL; i++) {
    printf("  %-28lld %12.1f %13.2fx\n", (long long)lv[i].n, lv[i].best,
           lv[i].best / lv[0].best);
    pga_request_limiter_free(lv[i].l);
  }
  pga_tb_free(rq);
  pga_tb_free(lim);
  return 0;
}
