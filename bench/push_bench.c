/* Micro-benchmark of the config plane's push path: the cost of
 * PhoenixGenApi.ConfigReceiver.push/1 (decode, validation, store) for one
 * PushConfig of 1,000 FunConfigs, in process, without the network: what
 * the plane itself adds to a push (bench/push.exs measures the whole
 * node). Each push carries a new config_version of one service, so every
 * push validates and replaces all 1,000 entries, as a redeploy does.
 * Also prints the heap the plane holds after 10,000 FunConfigs were
 * pushed (mallinfo2 in-use bytes, before and after).
 *
 * Method: a plane without a node (pga_config_plane_new); the PushConfig
 * term is built before each push and the building time (measured apart)
 * subtracted; the figure is the process's CPU time, the fastest of ROUNDS
 * rounds of PUSHES pushes.
 *
 * Built by `make bench-request` (bench/local.mk), never by make check.
 * Environment: BENCH_PUSH_SIZE, FunConfigs per push (default 1000);
 * BENCH_PUSH_DATA_DIR, an empty folder: the plane journals there (the
 * fsyncs are on the pushing thread, so the CPU figure includes the
 * journal's encoding but not the disk's wait). */
#include "config.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "pga/node.h"
#include "pga/term.h"

#define ROUNDS 5
#define PUSHES 20
#define RECEIVER "Elixir.PhoenixGenApi.ConfigReceiver"

/* CPU time of this process (single-threaded): a busy machine shares the
 * cores but does not add to it. */
static double now_ns(void) {
  struct timespec ts;

  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "push_bench: %s\n", what);
  exit(1);
}

/* A full %FunConfig{} as bench/push.exs sends it. */
static void fun_config(pga_tb_t *tb, const char *svc, size_t i) {
  char rt[32];

  snprintf(rt, sizeof rt, "bench_fn_%zu", i);
  pga_tb_map(tb, 19);
  pga_tb_atom(tb, "__struct__");
  pga_tb_atom(tb, "Elixir.PhoenixGenApi.Structs.FunConfig");
  pga_tb_atom(tb, "after_execute");
  pga_tb_atom(tb, "nil");
  pga_tb_atom(tb, "arg_orders");
  pga_tb_list(tb, 2);
  pga_tb_string(tb, "name");
  pga_tb_string(tb, "count");
  pga_tb_nil(tb);
  pga_tb_atom(tb, "arg_types");
  pga_tb_map(tb, 2);
  pga_tb_string(tb, "count");
  pga_tb_atom(tb, "num");
  pga_tb_string(tb, "name");
  pga_tb_atom(tb, "string");
  pga_tb_atom(tb, "before_execute");
  pga_tb_atom(tb, "nil");
  pga_tb_atom(tb, "check_permission");
  pga_tb_atom(tb, "false");
  pga_tb_atom(tb, "choose_node_mode");
  pga_tb_atom(tb, "random");
  pga_tb_atom(tb, "disabled");
  pga_tb_atom(tb, "false");
  pga_tb_atom(tb, "hook_timeout");
  pga_tb_int(tb, 5000);
  pga_tb_atom(tb, "mfa");
  pga_tb_tuple(tb, 3);
  pga_tb_atom(tb, "pga_bench_service");
  pga_tb_atom(tb, rt);
  pga_tb_list(tb, 0);
  pga_tb_atom(tb, "nodes");
  pga_tb_list(tb, 1);
  pga_tb_atom(tb, "pga_bench_base@127.0.0.1");
  pga_tb_nil(tb);
  pga_tb_atom(tb, "permission_callback");
  pga_tb_atom(tb, "nil");
  pga_tb_atom(tb, "request_info");
  pga_tb_atom(tb, "false");
  pga_tb_atom(tb, "request_type");
  pga_tb_string(tb, rt);
  pga_tb_atom(tb, "response_type");
  pga_tb_atom(tb, "sync");
  pga_tb_atom(tb, "retry");
  pga_tb_atom(tb, "nil");
  pga_tb_atom(tb, "service");
  pga_tb_string(tb, svc);
  pga_tb_atom(tb, "timeout");
  pga_tb_int(tb, 5000);
  pga_tb_atom(tb, "version");
  pga_tb_string(tb, "1.0.0");
}

static void push_config(pga_tb_t *tb, const char *svc, const char *cv,
                        size_t n) {
  pga_tb_map(tb, 13);
  pga_tb_atom(tb, "__struct__");
  pga_tb_atom(tb, "Elixir.PhoenixGenApi.Structs.PushConfig");
  pga_tb_atom(tb, "args");
  pga_tb_list(tb, 0);
  pga_tb_atom(tb, "config_version");
  pga_tb_string(tb, cv);
  pga_tb_atom(tb, "fun_configs");
  pga_tb_list(tb, n);
  for (size_t i = 0; i < n; i++) fun_config(tb, svc, i);
  pga_tb_nil(tb);
  static const char *const nils[] = {"function", "module", "push_token",
                                     "version_function", "version_module"};
  for (size_t i = 0; i < 5; i++) {
    pga_tb_atom(tb, nils[i]);
    pga_tb_atom(tb, "nil");
  }
  pga_tb_atom(tb, "nodes");
  pga_tb_list(tb, 1);
  pga_tb_atom(tb, "pga_bench_base@127.0.0.1");
  pga_tb_nil(tb);
  pga_tb_atom(tb, "service");
  pga_tb_string(tb, svc);
  pga_tb_atom(tb, "version_args");
  pga_tb_list(tb, 0);
  if (pga_tb_error(tb)) die("cannot build a PushConfig");
}

static void push(pga_config_plane_t *p, const char *svc, const char *cv,
                 size_t n, pga_tb_t *pc, pga_tb_t *out) {
  pga_tb_reset(pc);
  push_config(pc, svc, cv, n);
  pga_term_t t = pga_tb_data(pc);
  pga_tb_reset(out);
  if (pga_config_call(p, RECEIVER, "push", 1, &t, out) != PGA_RETURN)
    die("push failed");
  pga_term_t got = pga_tb_data(out), el;
  if (pga_term_tuple_get(&got, 1, &el) != 0 ||
      !pga_term_is_atom(&el, "accepted"))
    die("push was not accepted");
}

int main(void) {
  const char *env = getenv("BENCH_PUSH_SIZE");
  size_t n = env != NULL ? (size_t)atol(env) : 1000;
  pga_config_opts_t o = {0};
  pga_config_plane_t *p;
  char err[256], cv[32], svc[32];
  pga_tb_t *pc = pga_tb_new(0), *out = pga_tb_new(0);
  double best = 0;
  unsigned k = 0;

  if (n == 0) n = 1000;
  if (pc == NULL || out == NULL) die("out of memory");
  o.struct_version = PGA_CONFIG_OPTS_VERSION;
  o.data_dir = getenv("BENCH_PUSH_DATA_DIR");
  if (pga_config_plane_new(NULL, &o, &p, err, sizeof err) != 0) die(err);
  for (int r = 0; r < ROUNDS; r++) {
    double spent = 0;
    for (int i = 0; i < PUSHES; i++) {
      snprintf(cv, sizeof cv, "v%u", k++);
      double t0 = now_ns();
      push(p, "bench_push", cv, n, pc, out);
      spent += now_ns() - t0; /* building included: subtracted below */
    }
    if (best == 0 || spent < best) best = spent;
  }
  /* the build alone, to subtract */
  double build = 0;
  for (int i = 0; i < PUSHES; i++) {
    double t0 = now_ns();
    pga_tb_reset(pc);
    push_config(pc, "bench_push", "x", n);
    build += now_ns() - t0;
  }
  pga_config_plane_free(p);

  o.data_dir = getenv("BENCH_PUSH_HEAP_DATA_DIR");
  if (pga_config_plane_new(NULL, &o, &p, err, sizeof err) != 0) die(err);
  pga_tb_free(pc);
  pga_tb_free(out);
  pc = pga_tb_new(0);
  out = pga_tb_new(0);
  size_t before = mallinfo2().uordblks;
  for (int i = 0; i < 10; i++) {
    snprintf(svc, sizeof svc, "bench_mem_%d", i);
    push(p, svc, "1", 1000, pc, out);
  }
  pga_tb_free(pc);
  pga_tb_free(out);
  size_t after = mallinfo2().uordblks;
  printf("config push cost (ConfigReceiver.push/1 in process, %zu "
         "FunConfigs, best of %d rounds of %d)\n", n, ROUNDS, PUSHES);
  printf("  %.3f ms CPU per push (term building excluded: %.3f ms)\n",
         (best - build) / PUSHES / 1e6, build / PUSHES / 1e6);
  printf("  heap held for 10,000 FunConfigs: %.2f MB (%.0f bytes each)\n",
         (double)(after - before) / 1048576.0,
         (double)(after - before) / 10000.0);
  pga_config_plane_free(p);
  return 0;
}
