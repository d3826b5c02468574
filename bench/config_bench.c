/* Micro-benchmark of the request plane's FunConfig lookup
 * (pga_config_lookup, src/config/store.c): the cost per lookup with 10
 * and with 10,000 FunConfigs stored. The store keeps hashed keys and a
 * per-{service, request_type} version set, so the figures should stay
 * flat; they are printed as ns/lookup and as a ratio against the
 * 10-config baseline measured in the same run.
 *
 * Method: a plane without a node (pga_config_plane_new); N FunConfigs
 * added through PhoenixGenApi.ConfigDb.add/1 as a peer would
 * (pga_config_call): service "svc", request types "rt_0".."rt_N-1",
 * version "1.0.0". Lookups cycle over every stored request type in a
 * scattered order (so the large store is not read from one warm cache
 * line), both with version nil (get_fast, the request path) and with the
 * exact version. A third figure looks up the same 10 request types in
 * every store: it separates the lookup's own cost from the cache misses
 * of reading 10,000 entries (a store that scanned would grow there too).
 * Each lookup includes the copy pga_config_lookup returns and its free,
 * as the executor pays them. Each figure is the fastest of ROUNDS rounds; the
 * stores take turns within each round.
 *
 * Built by `make bench` (bench/local.mk), never by make check.
 * Environment: BENCH_CONFIG_LOOKUPS, lookups per round (default 200000). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "pga/node.h"
#include "pga/term.h"

#define ROUNDS 7
#define HOT 10
#define DB "Elixir.PhoenixGenApi.ConfigDb"

static double now_ns(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "config_bench: %s\n", what);
  exit(1);
}

/* %PhoenixGenApi.Structs.FunConfig{request_type: name, service: "svc",
 *   nodes: [:"t@127.0.0.1"], choose_node_mode: :random, timeout: 5000,
 *   mfa: {String, :upcase, []}, arg_types: %{}, arg_orders: [],
 *   response_type: :sync, version: "1.0.0"} into tb. */
static void fun_config(pga_tb_t *tb, const char *name) {
  pga_tb_map(tb, 11);
  pga_tb_atom(tb, "__struct__");
  pga_tb_atom(tb, "Elixir.PhoenixGenApi.Structs.FunConfig");
  pga_tb_atom(tb, "request_type");
  pga_tb_string(tb, name);
  pga_tb_atom(tb, "service");
  pga_tb_string(tb, "svc");
  pga_tb_atom(tb, "nodes");
  pga_tb_list(tb, 1);
  pga_tb_atom(tb, "t@127.0.0.1");
  pga_tb_nil(tb);
  pga_tb_atom(tb, "choose_node_mode");
  pga_tb_atom(tb, "random");
  pga_tb_atom(tb, "timeout");
  pga_tb_int(tb, 5000);
  pga_tb_atom(tb, "mfa");
  pga_tb_tuple(tb, 3);
  pga_tb_atom(tb, "Elixir.String");
  pga_tb_atom(tb, "upcase");
  pga_tb_list(tb, 0);
  pga_tb_atom(tb, "arg_types");
  pga_tb_map(tb, 0);
  pga_tb_atom(tb, "arg_orders");
  pga_tb_list(tb, 0);
  pga_tb_atom(tb, "response_type");
  pga_tb_atom(tb, "sync");
  pga_tb_atom(tb, "version");
  pga_tb_string(tb, "1.0.0");
  if (pga_tb_error(tb)) die("cannot build a FunConfig");
}

static pga_tb_t *binary(const char *s) {
  pga_tb_t *tb = pga_tb_new(0);

  if (tb == NULL) die("out of memory");
  pga_tb_string(tb, s);
  if (pga_tb_error(tb)) die("cannot build a key");
  return tb;
}

typedef struct {
  double latest;  /* ns per lookup, version nil (get_fast) */
  double exact;   /* ns per lookup, version "1.0.0" */
  double hot;     /* version nil, the same 10 request types only */
} result_t;

/* One store of n FunConfigs and its lookup keys. */
typedef struct {
  size_t n;
  pga_config_plane_t *p;
  pga_tb_t **rts;
  size_t *order;
  result_t best;
} store_t;

/* ns per lookup over one round of `lookups`, cycling over the first m
 * keys of order. */
static double round_ns(const store_t *st, size_t m, const pga_term_t *svc,
                       const pga_term_t *version, long lookups) {
  double t0 = now_ns();

  for (long i = 0; i < lookups; i++) {
    pga_term_t rt = pga_tb_data(st->rts[st->order[(size_t)i % m]]);
    pga_funconfig_t *fc = NULL;
    if (pga_config_lookup(st->p, svc, &rt, version, &fc) != 0)
      die("a lookup missed");
    pga_funconfig_free(fc);
  }
  return (now_ns() - t0) / (double)lookups;
}

static void keep_min(double *best, double ns) {
  if (*best == 0 || ns < *best) *best = ns;
}

static void fill(store_t *st, size_t n) {
  pga_config_opts_t o = {0};
  char err[256], name[32];
  pga_tb_t *out = pga_tb_new(0), *fctb = pga_tb_new(0);

  st->n = n;
  st->rts = calloc(n, sizeof *st->rts);
  st->order = calloc(n, sizeof *st->order);
  if (st->rts == NULL || st->order == NULL || out == NULL || fctb == NULL)
    die("out of memory");
  o.struct_version = PGA_CONFIG_OPTS_VERSION;
  if (pga_config_plane_new(NULL, &o, &st->p, err, sizeof err) != 0) die(err);
  for (size_t i = 0; i < n; i++) {
    snprintf(name, sizeof name, "rt_%zu", i);
    pga_tb_reset(fctb);
    fun_config(fctb, name);
    pga_term_t fc = pga_tb_data(fctb);
    pga_tb_reset(out);
    if (pga_config_call(st->p, DB, "add", 1, &fc, out) != PGA_RETURN)
      die("add failed");
    pga_term_t got = pga_tb_data(out);
    if (!pga_term_is_atom(&got, "ok")) die("add did not answer :ok");
    st->rts[i] = binary(name);
    /* i * 7919 mod n visits every key once when n and 7919 are coprime */
    st->order[i] = (i * 7919u) % n;
  }
  pga_tb_free(out);
  pga_tb_free(fctb);
}

static void drop(store_t *st) {
  pga_config_plane_free(st->p);
  for (size_t i = 0; i < st->n; i++) pga_tb_free(st->rts[i]);
  free(st->rts);
  free(st->order);
}

int main(void) {
  static const size_t levels[] = {10, 10000};
  enum { NL = sizeof levels / sizeof levels[0] };
  const char *env = getenv("BENCH_CONFIG_LOOKUPS");
  long lookups = env != NULL ? atol(env) : 200000;
  store_t st[NL];
  pga_tb_t *svc = binary("svc"), *ver = binary("1.0.0");
  pga_term_t s = pga_tb_data(svc), v = pga_tb_data(ver);

  if (lookups <= 0) lookups = 200000;
  memset(st, 0, sizeof st);
  for (size_t i = 0; i < NL; i++) fill(&st[i], levels[i]);
  /* the stores take turns in every round, so a busy moment of the machine
   * falls on both and the ratio stays fair */
  for (int r = 0; r < ROUNDS; r++)
    for (size_t i = 0; i < NL; i++) {
      keep_min(&st[i].best.latest, round_ns(&st[i], st[i].n, &s, NULL, lookups));
      keep_min(&st[i].best.exact, round_ns(&st[i], st[i].n, &s, &v, lookups));
      keep_min(&st[i].best.hot, round_ns(&st[i], st[i].n < HOT ? st[i].n : HOT,
                                         &s, NULL, lookups));
    }
  printf("config lookup cost (pga_config_lookup incl. copy + free, "
         "%ld lookups x %d rounds, best round)\n", lookups, ROUNDS);
  printf("  %-15s %12s %7s %12s %7s %12s %7s\n", "configs stored",
         "ns (latest)", "vs 10", "ns (exact)", "vs 10", "ns (10 hot)", "vs 10");
  for (size_t i = 0; i < NL; i++) {
    const result_t *b = &st[0].best, *x = &st[i].best;
    printf("  %-15zu %12.1f %6.2fx %12.1f %6.2fx %12.1f %6.2fx\n", st[i].n,
           x->latest, x->latest / b->latest, x->exact, x->exact / b->exact,
           x->hot, x->hot / b->hot);
    drop(&st[i]);
  }
  pga_tb_free(svc);
  pga_tb_free(ver);
  return 0;
}
