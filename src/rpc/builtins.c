/* Built-in functions and the pga_node server, which tests and health
 * checks rely on: erlang:node/0 and registered/0,
 * pga_node:echo/sleep/fail/print/rpc, and
 * the module probes gateways make ('Elixir.Code':'ensure_loaded?'/1...). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rpc/rpc_int.h"

#define SLEEP_SLICE_MS 50
/* Inline, and safe on a worker when the arguments are big (rpc_int.h):
 * these read only their arguments and the registry. */
#define ANY_THREAD (PGA_FN_INLINE | PGA__FN_ANY_THREAD)

static pga_outcome_t badarg(pga_tb_t *out) {
  pga_tb_atom(out, "badarg");
  return PGA_ERROR;
}

static pga_outcome_t fn_node(pga_call_t *call, size_t argc,
                             const pga_term_t *argv, pga_tb_t *out) {
  pga_tb_atom(out, pga_node_name(pga_call_node(call)));
  return PGA_RETURN;
}

/* argv views come from a checked message: copied without a second walk
 * (run_fn still checks the result). */
static pga_outcome_t fn_echo(pga_call_t *call, size_t argc,
                             const pga_term_t *argv, pga_tb_t *out) {
  pga__tb_raw(out, argv[0].buf, argv[0].len);
  return PGA_RETURN;
}

static pga_outcome_t fn_fail(pga_call_t *call, size_t argc,
                             const pga_term_t *argv, pga_tb_t *out) {
  pga_tb_term(out, &argv[0]);
  return PGA_ERROR;
}

/* Sleeps in slices so a cancelled call frees its worker early. */
static pga_outcome_t fn_sleep(pga_call_t *call, size_t argc,
                              const pga_term_t *argv, pga_tb_t *out) {
  int64_t ms;
  if (pga_term_get_int64(&argv[0], &ms) != 0 || ms < 0) return badarg(out);
  while (ms > 0 && !pga_call_cancelled(call)) {
    int64_t step = ms < SLEEP_SLICE_MS ? ms : SLEEP_SLICE_MS;
    struct timespec ts = {step / 1000, (long)(step % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    ms -= step;
  }
  pga_tb_atom(out, "ok");
  return PGA_RETURN;
}

/* The loop's longest iteration (µs) since the previous call: how long the
 * loop was held (bench/bigterm.exs). */
static pga_outcome_t fn_loop_busy_max(pga_call_t *call, size_t argc,
                                      const pga_term_t *argv, pga_tb_t *out) {
  pga_tb_uint(out, pga_loop_busy_max_us(((pga_job_t *)call)->rpc->loop));
  return PGA_RETURN;
}

/* The same in the loop thread's CPU time, or undefined unless pga-node
 * runs with PGA_LOOP_CPU_STATS set. */
static pga_outcome_t fn_loop_busy_cpu_max(pga_call_t *call, size_t argc,
                                          const pga_term_t *argv,
                                          pga_tb_t *out) {
  uint64_t us;
  if (pga_loop_busy_cpu_max_us(((pga_job_t *)call)->rpc->loop, &us) == 0)
    pga_tb_uint(out, us);
  else
    pga_tb_atom(out, "undefined");
  return PGA_RETURN;
}

/* UTF-8 text of a binary or a list of code points; NULL if neither. */
static char *text_of(const pga_term_t *t, size_t *len) {
  const char *data;
  if (pga_term_get_binary(t, &data, len) == 0) {
    char *copy = malloc(*len + 1);
    if (copy) memcpy(copy, data, *len);
    return copy;
  }
  size_t n;
  if (pga_term_list_length(t, &n) != 0 || n > (1u << 24)) return NULL;
  char *buf = malloc(n * 4 + 1);
  pga_term_iter_t it;
  pga_term_t el;
  size_t o = 0;
  if (!buf || pga_term_iter_init(&it, t) != 0) {
    free(buf);
    return NULL;
  }
  while (pga_term_iter_next(&it, &el)) {
    int64_t cp;
    if (pga_term_get_int64(&el, &cp) != 0 || cp < 0 || cp > 0x10FFFF) {
      free(buf);
      return NULL;
    }
    o += pga__utf8_encode((uint32_t)cp, buf + o);
  }
  *len = o;
  return buf;
}

static pga_outcome_t fn_print(pga_call_t *call, size_t argc,
                              const pga_term_t *argv, pga_tb_t *out) {
  size_t len;
  char *text = text_of(&argv[0], &len);
  if (!text) return badarg(out);
  int rc = pga_call_print(call, text, len);
  free(text);
  if (rc != 0) {
    pga_tb_atom(out, "noproc");
    return PGA_EXIT;
  }
  pga_tb_atom(out, "ok");
  return PGA_RETURN;
}

/* rpc(Node, M, F, A[, Timeout]): an outgoing call made by this node. */
static void rpc_done(void *ud, const pga_term_t *result) {
  pga_call_complete(ud, PGA_RETURN, result);
}

static pga_outcome_t fn_rpc(pga_call_t *call, size_t argc,
                            const pga_term_t *argv, pga_tb_t *out) {
  char node[PGA_ATOM_BUF], m[PGA_ATOM_BUF], f[PGA_ATOM_BUF];
  int64_t timeout = 0;
  if (pga_term_get_atom(&argv[0], node, sizeof node) ||
      pga_term_get_atom(&argv[1], m, sizeof m) ||
      pga_term_get_atom(&argv[2], f, sizeof f))
    return badarg(out);
  int t = pga_term_type(&argv[3]);
  if (t != PGA_T_LIST && t != PGA_T_NIL) return badarg(out);
  if (argc == 5 && !pga_term_is_atom(&argv[4], "infinity") &&
      (pga_term_get_int64(&argv[4], &timeout) != 0 || timeout < 0 ||
       timeout > UINT32_MAX))
    return badarg(out);
  /* 0 means infinity to pga_rpc_call; a zero timeout still gets 1 ms. */
  int infinite = argc == 4 || pga_term_is_atom(&argv[4], "infinity");
  unsigned ms = infinite ? 0 : timeout == 0 ? 1 : (unsigned)timeout;
  pga_rpc_t *r = ((pga_job_t *)call)->rpc;
  if (pga_rpc_call(r, node, m, f, &argv[3], ms, rpc_done, call, NULL) == 0)
    return PGA_DEFER; /* no worker waits: rpc_done completes the call */
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "badrpc");
  pga_tb_atom(out, "nodedown");
  return PGA_RETURN;
}

/* ---- module probes: what a gateway asks before trusting an mfa ----
 * The config puller calls 'Elixir.Code':'ensure_loaded?'(M) on the node
 * that served a FunConfig (config-plane.md §5.3, §9). A module is
 * "loaded" here when some function of it is registered. */

static pga_outcome_t module_arg(pga_call_t *call, const pga_term_t *t,
                                int *known, pga_tb_t *out) {
  char m[PGA_ATOM_BUF];
  if (pga_term_get_atom(t, m, sizeof m) != 0) {
    /* as the BEAM answers: a BIF says badarg, Elixir/code a clause */
    int bif = !strcmp(((pga_job_t *)call)->module, "erlang");
    pga_tb_atom(out, bif ? "badarg" : "function_clause");
    return PGA_ERROR;
  }
  *known = pga_rpc_module_known(((pga_job_t *)call)->rpc, m);
  return PGA_RETURN;
}

/* 'Elixir.Code':'ensure_loaded?'/1, erlang:module_loaded/1 */
static pga_outcome_t fn_loaded_p(pga_call_t *call, size_t argc,
                                 const pga_term_t *argv, pga_tb_t *out) {
  int known;
  if (module_arg(call, &argv[0], &known, out) != PGA_RETURN) return PGA_ERROR;
  pga_tb_bool(out, known);
  return PGA_RETURN;
}

/* 'Elixir.Code':ensure_loaded/1, ensure_compiled/1, code:ensure_loaded/1:
 * {module, M} or {error, nofile}. */
static pga_outcome_t fn_ensure(pga_call_t *call, size_t argc,
                               const pga_term_t *argv, pga_tb_t *out) {
  int known;
  if (module_arg(call, &argv[0], &known, out) != PGA_RETURN) return PGA_ERROR;
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, known ? "module" : "error");
  if (known)
    pga_tb_term(out, &argv[0]);
  else
    pga_tb_atom(out, "nofile");
  return PGA_RETURN;
}

/* erlang:function_exported/3 */
static pga_outcome_t fn_exported(pga_call_t *call, size_t argc,
                                 const pga_term_t *argv, pga_tb_t *out) {
  char m[PGA_ATOM_BUF], f[PGA_ATOM_BUF];
  int64_t arity;
  if (pga_term_get_atom(&argv[0], m, sizeof m) != 0 ||
      pga_term_get_atom(&argv[1], f, sizeof f) != 0 ||
      (pga_term_get_int64(&argv[2], &arity) != 0 &&
       pga_term_type(&argv[2]) != PGA_T_BIGINT))
    return badarg(out);
  int exported = pga_term_type(&argv[2]) == PGA_T_INTEGER && arity >= 0 &&
                 arity <= 255 &&
                 pga_rpc_lookup(((pga_job_t *)call)->rpc, m, f,
                                (unsigned)arity) != NULL;
  pga_tb_bool(out, exported);
  return PGA_RETURN;
}

/* erlang:registered/0: the names our processes answer to (rex among
 * them); peers' cluster_view/0 asks every node (ops-plane.md §1.4). */
static void count_name(void *ud, const char *name, uint64_t pid_id) {
  (void)name;
  (void)pid_id;
  (*(size_t *)ud)++;
}

static void put_name(void *ud, const char *name, uint64_t pid_id) {
  (void)pid_id;
  pga_tb_atom(ud, name);
}

static pga_outcome_t fn_registered(pga_call_t *call, size_t argc,
                                   const pga_term_t *argv, pga_tb_t *out) {
  pga_dist_t *d = ((pga_job_t *)call)->rpc->d;
  size_t n = 0;
  pga_dist_each_name(d, count_name, &n);
  pga_tb_list(out, n);
  pga_dist_each_name(d, put_name, out);
  if (n) pga_tb_nil(out);
  return PGA_RETURN;
}

static const pga_fn_def_t builtins[] = {
    {"erlang", "node", 0, fn_node, ANY_THREAD, NULL, 0, {0}},
    {"erlang", "registered", 0, fn_registered, PGA_FN_INLINE, NULL, 0, {0}},
    {"pga_node", "echo", 1, fn_echo, ANY_THREAD, NULL, 0, {0}},
    {"pga_node", "fail", 1, fn_fail, ANY_THREAD, NULL, 0, {0}},
    {"pga_node", "sleep", 1, fn_sleep, 0, NULL, 0, {0}},
    {"pga_node", "loop_busy_max", 0, fn_loop_busy_max, PGA_FN_INLINE, NULL, 0,
     {0}},
    {"pga_node", "loop_busy_cpu_max", 0, fn_loop_busy_cpu_max, PGA_FN_INLINE,
     NULL, 0, {0}},
    {"pga_node", "print", 1, fn_print, 0, NULL, 0, {0}},
    {"pga_node", "rpc", 4, fn_rpc, PGA_FN_ASYNC, NULL, 0, {0}},
    {"pga_node", "rpc", 5, fn_rpc, PGA_FN_ASYNC, NULL, 0, {0}},
    {"Elixir.Code", "ensure_loaded?", 1, fn_loaded_p, ANY_THREAD, NULL, 0,
     {0}},
    {"Elixir.Code", "ensure_loaded", 1, fn_ensure, ANY_THREAD, NULL, 0, {0}},
    {"Elixir.Code", "ensure_compiled", 1, fn_ensure, ANY_THREAD, NULL, 0, {0}},
    {"code", "ensure_loaded", 1, fn_ensure, ANY_THREAD, NULL, 0, {0}},
    {"erlang", "module_loaded", 1, fn_loaded_p, ANY_THREAD, NULL, 0, {0}},
    {"erlang", "function_exported", 3, fn_exported, ANY_THREAD, NULL, 0,
     {0}},
    {NULL, NULL, 0, NULL, 0, NULL, 0, {0}},
};

/* The pga_node server: ping -> pong, {echo, T} -> T. */
static int pga_node_call(void *ud, const pga_gen_from_t *from,
                         const pga_term_t *req, pga_tb_t *reply) {
  pga_term_t tag, value;
  size_t arity;
  if (pga_term_is_atom(req, "ping")) {
    pga_tb_atom(reply, "pong");
  } else if (pga_term_tuple_arity(req, &arity) == 0 && arity == 2 &&
             pga_term_tuple_get(req, 0, &tag) == 0 &&
             pga_term_is_atom(&tag, "echo") &&
             pga_term_tuple_get(req, 1, &value) == 0) {
    pga_tb_term(reply, &value);
  } else {
    pga_tb_tuple(reply, 2);
    pga_tb_atom(reply, "error");
    pga_tb_atom(reply, "unknown_request");
  }
  return 1;
}

static const pga_gen_server_t pga_node_impl = {pga_node_call, NULL, NULL};

int pga_rpc_builtins_init(pga_rpc_t *r) {
  for (const pga_fn_def_t *def = builtins; def->module; def++) {
    int rc = pga_rpc_register(r, def);
    if (rc != 0) return rc;
  }
  return pga_gen_start(r->d, "pga_node", &pga_node_impl, r) ? 0 : PGA_ENOMEM;
}
