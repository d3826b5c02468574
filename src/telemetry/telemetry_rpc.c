/* The served functions (ops-plane.md §3, §6): PhoenixGenApi.Telemetry,
 * and attach_telemetry/detach_telemetry of PhoenixGenApi, Executor and
 * RateLimiter. All run inline on the loop thread (quick: table changes,
 * monitors, queueing). Guards are the library's: a binary id and a fun
 * of arity 4 (or, as extensions, a pid or {m, f}); anything else is a
 * function_clause error. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pga/errno.h"
#include "rpc/rpc.h"
#include "telemetry/telemetry_int.h"

#define MOD_TEL "Elixir.PhoenixGenApi.Telemetry"
#define MOD_TOP "Elixir.PhoenixGenApi"
#define MOD_EXEC "Elixir.PhoenixGenApi.Executor"
#define MOD_RL "Elixir.PhoenixGenApi.RateLimiter"

#define NEW_FUN_EXT 112
#define EXPORT_EXT 113

static const char empty_map[] = {116, 0, 0, 0, 0}; /* %{} */

typedef struct group_s {
  int first, count;
} group_t;

static const group_t all = {0, PGA_EV_COUNT}, executor = {0, 5},
                     rate_limiter = {5, 4}, hooks = {9, 6},
                     worker_pool = {15, 6}, config = {21, 9};

/* attach_telemetry's ids: "<id>-<suffix>" on these events (§6.2). */
static const char *const exec_suffix[] = {"start", "stop", "exception"};
static const pga_event_t exec_events[] = {PGA_EV_EXECUTOR_REQUEST_START,
                                          PGA_EV_EXECUTOR_REQUEST_STOP,
                                          PGA_EV_EXECUTOR_REQUEST_EXCEPTION};
static const char *const rl_suffix[] = {"check", "exceeded", "reset",
                                        "cleanup"};
static const pga_event_t rl_events[] = {
    PGA_EV_RATE_LIMITER_CHECK, PGA_EV_RATE_LIMITER_EXCEEDED,
    PGA_EV_RATE_LIMITER_RESET, PGA_EV_RATE_LIMITER_CLEANUP};

static pga_outcome_t fail_with(pga_tb_t *out, const char *reason) {
  pga_tb_reset(out);
  pga_tb_atom(out, reason);
  return PGA_ERROR;
}

static pga_outcome_t ok(pga_tb_t *out) {
  pga_tb_atom(out, "ok");
  return PGA_RETURN;
}

static int get_id(const pga_term_t *t, const char **id, size_t *len) {
  return pga_term_get_binary(t, id, len);
}

/* ---- the handler spec from the attach arguments ---- */

/* An atom's text as UTF-8 into out (node names are ASCII in practice). */
static int atom_utf8(const pga__atom_t *a, char *out, size_t outlen) {
  size_t n = 0;
  for (size_t i = 0; i < a->len; i++) {
    unsigned char ch = a->s[i];
    if (n + 3 > outlen) return -1;
    if (a->latin1 && ch >= 0x80) {
      out[n++] = (char)(0xC0 | (ch >> 6));
      out[n++] = (char)(0x80 | (ch & 0x3F));
    } else {
      out[n++] = (char)ch;
    }
  }
  out[n] = '\0';
  return 0;
}

/* A fun of arity 4: its home is its creator's node, or the attaching
 * node for an export fun (&Mod.fun/4). */
static int fun_home(pga_call_t *call, const pga_term_t *fn, char *home,
                    size_t len) {
  pga__head_t h;
  if (pga__term_head(fn->buf, fn->len, &h) != 0 || h.i != 4) return -1;
  if (h.tag == NEW_FUN_EXT) return atom_utf8(&h.pid.node, home, len);
  if (h.tag != EXPORT_EXT) return -1;
  snprintf(home, len, "%s", pga_call_caller_node(call));
  return 0;
}

static int is_mf(const pga_term_t *t) {
  size_t n;
  pga_term_t m, f;
  return pga_term_tuple_arity(t, &n) == 0 && n == 2 &&
         pga_term_tuple_get(t, 0, &m) == 0 &&
         pga_term_tuple_get(t, 1, &f) == 0 &&
         pga_term_type(&m) == PGA_T_ATOM && pga_term_type(&f) == PGA_T_ATOM;
}

/* Fills spec from (function, config); home must hold PGA_ATOM_BUF.
 * -1 when function is none of the accepted kinds. */
static int make_spec(pga_call_t *call, const pga_term_t *fn,
                     const pga_term_t *cfg, pga_th_spec_t *spec,
                     char *home) {
  erlang_pid ep;
  memset(spec, 0, sizeof *spec);
  spec->target = *fn;
  spec->config = cfg ? *cfg : (pga_term_t){empty_map, sizeof empty_map};
  spec->home = home;
  pga_term_t gl = pga__call_group_leader(call);
  if (gl.buf && pga_term_type(&gl) == PGA_T_PID) spec->gl = gl;
  switch (pga_term_type(fn)) {
  case PGA_T_FUN:
    spec->kind = PGA_TH_FUN;
    return fun_home(call, fn, home, PGA_ATOM_BUF);
  case PGA_T_PID:
    spec->kind = PGA_TH_PID;
    if (pga__term_get_pid(fn, &ep) != 0) return -1;
    snprintf(home, PGA_ATOM_BUF, "%s", ep.node);
    return 0;
  default:
    if (!is_mf(fn)) return -1;
    spec->kind = PGA_TH_MF;
    snprintf(home, PGA_ATOM_BUF, "%s", pga_call_caller_node(call));
    return 0;
  }
}

/* ---- attaching ---- */

/* Attaches one handler; a taken id is ignored (§6.2). 0, or -1 with the
 * error outcome in *fail and out. A NULL id is one over PGA_TEL_MAX_ID
 * (or no memory for it). */
static int attach_one(pga_telemetry_t *t, const char *id, size_t len,
                      const pga_term_t *event, const pga_th_spec_t *spec,
                      pga_tb_t *out, pga_outcome_t *fail) {
  pga_th_t *h = NULL;
  int rc = id ? pga__tel_attach(t, id, len, event, spec, &h) : PGA_ETOOBIG;
  if (rc == 0) pga__tel_watch(t, h);
  if (rc == 0 || rc == PGA_EEXIST) return 0;
  *fail = fail_with(out, rc == PGA_EINVAL    ? "badarg"
                         : rc == PGA_ETOOBIG ? "system_limit"
                                             : "enomem");
  return -1;
}

/* Attaches spec to catalogue event ev under "<id>-<suffix>", or under
 * "<id>-<joined event>" when suffix is NULL. */
static int attach_event(pga_telemetry_t *t, const char *id, size_t id_len,
                        pga_event_t ev, const char *suffix,
                        const pga_th_spec_t *spec, pga_tb_t *out,
                        pga_outcome_t *fail) {
  pga_tb_t tb;
  size_t len = 0;
  pga__tb_init(&tb, 0);
  pga__tel_event_encode(&tb, ev);
  pga_term_t event = pga_tb_data(&tb);
  char *full = pga_tb_error(&tb) ? NULL
               : suffix          ? pga__tel_suffix_id(id, id_len, suffix, &len)
                                 : pga__tel_join_id(id, id_len, &event, &len);
  int rc = attach_one(t, full, len, &event, spec, out, fail);
  free(full);
  pga__tb_destroy(&tb);
  return rc;
}

/* Every event of group g, with Telemetry.attach_* ids. */
static pga_outcome_t attach_range(pga_telemetry_t *t, const char *id,
                                  size_t id_len, group_t g,
                                  const pga_th_spec_t *spec, pga_tb_t *out) {
  pga_outcome_t fail = PGA_RETURN;
  for (int ev = g.first; ev < g.first + g.count; ev++)
    if (attach_event(t, id, id_len, (pga_event_t)ev, NULL, spec, out,
                     &fail) != 0)
      return fail;
  return ok(out);
}

/* Telemetry.attach_many over a proper list of events. */
static pga_outcome_t attach_list(pga_telemetry_t *t, const pga_term_t *idt,
                                 const pga_term_t *events,
                                 const pga_th_spec_t *spec, pga_tb_t *out) {
  const char *id;
  size_t id_len, len;
  pga_term_iter_t it;
  pga_term_t ev, tail;
  pga_outcome_t fail = PGA_RETURN;
  (void)get_id(idt, &id, &id_len);
  if (pga_term_iter_init(&it, events) != 0) return fail_with(out, "badarg");
  while (pga_term_iter_next(&it, &ev)) {
    if (!pga__tel_event_valid(&ev)) return fail_with(out, "badarg");
    char *full = pga__tel_join_id(id, id_len, &ev, &len);
    int rc = attach_one(t, full, len, &ev, spec, out, &fail);
    free(full);
    if (rc != 0) return fail;
  }
  pga_term_iter_tail(&it, &tail);
  return pga_term_type(&tail) == PGA_T_NIL ? ok(out) : fail_with(out, "badarg");
}

/* Telemetry.attach_<group>(id, function, config \\ %{}). */
static pga_outcome_t attach_group(pga_call_t *call, size_t argc,
                                  const pga_term_t *argv, pga_tb_t *out,
                                  group_t g) {
  const char *id;
  size_t id_len;
  char home[PGA_ATOM_BUF];
  pga_th_spec_t spec;
  if (get_id(&argv[0], &id, &id_len) != 0 ||
      make_spec(call, &argv[1], argc > 2 ? &argv[2] : NULL, &spec, home))
    return fail_with(out, "function_clause");
  return attach_range(pga_call_udata(call), id, id_len, g, &spec, out);
}

/* attach_telemetry(id, function, config \\ %{}) of Executor/RateLimiter
 * (one set) or PhoenixGenApi (both sets). */
static pga_outcome_t attach_suffixed(pga_call_t *call, size_t argc,
                                     const pga_term_t *argv, pga_tb_t *out,
                                     int with_exec, int with_rl) {
  pga_telemetry_t *t = pga_call_udata(call);
  const char *id;
  size_t id_len;
  char home[PGA_ATOM_BUF];
  pga_th_spec_t spec;
  pga_outcome_t fail = PGA_RETURN;
  if (get_id(&argv[0], &id, &id_len) != 0 ||
      make_spec(call, &argv[1], argc > 2 ? &argv[2] : NULL, &spec, home))
    return fail_with(out, "function_clause");
  for (size_t i = 0; with_exec && i < 3; i++)
    if (attach_event(t, id, id_len, exec_events[i], exec_suffix[i], &spec,
                     out, &fail) != 0)
      return fail;
  for (size_t i = 0; with_rl && i < 4; i++)
    if (attach_event(t, id, id_len, rl_events[i], rl_suffix[i], &spec, out,
                     &fail) != 0)
      return fail;
  return ok(out);
}

/* ---- detaching ---- */

/* Detaches "<id>-<suffix>", or "<id>-<joined event>" when suffix is
 * NULL; an unknown id is fine. */
static void detach_one(pga_telemetry_t *t, const char *id, size_t id_len,
                       const pga_term_t *event, const char *suffix) {
  size_t len = 0;
  char *full = suffix ? pga__tel_suffix_id(id, id_len, suffix, &len)
                      : pga__tel_join_id(id, id_len, event, &len);
  pga_th_t *h = full ? pga__tel_detach(t, full, len) : NULL;
  free(full);
  if (!h) return;
  pga__tel_unwatch(t, h);
  pga__tel_release(t, h);
}

static pga_outcome_t detach_all(pga_telemetry_t *t, const char *id,
                                size_t id_len, pga_tb_t *out) {
  for (int ev = 0; ev < PGA_EV_COUNT; ev++) {
    pga_tb_t tb;
    pga__tb_init(&tb, 0);
    pga__tel_event_encode(&tb, (pga_event_t)ev);
    pga_term_t event = pga_tb_data(&tb);
    if (!pga_tb_error(&tb)) detach_one(t, id, id_len, &event, NULL);
    pga__tb_destroy(&tb);
  }
  return ok(out);
}

static pga_outcome_t detach_suffixed(pga_call_t *call, const pga_term_t *idt,
                                     pga_tb_t *out, int with_exec,
                                     int with_rl) {
  pga_telemetry_t *t = pga_call_udata(call);
  const char *id;
  size_t id_len;
  if (get_id(idt, &id, &id_len) != 0) return fail_with(out, "function_clause");
  for (size_t i = 0; with_exec && i < 3; i++)
    detach_one(t, id, id_len, NULL, exec_suffix[i]);
  for (size_t i = 0; with_rl && i < 4; i++)
    detach_one(t, id, id_len, NULL, rl_suffix[i]);
  return ok(out);
}

/* ---- PhoenixGenApi.Telemetry ---- */

static pga_outcome_t fn_list_events(pga_call_t *call, size_t argc,
                                    const pga_term_t *argv, pga_tb_t *out) {
  (void)call, (void)argc, (void)argv;
  pga_tb_list(out, PGA_EV_COUNT);
  for (int ev = 0; ev < PGA_EV_COUNT; ev++)
    pga__tel_event_encode(out, (pga_event_t)ev);
  pga_tb_nil(out);
  return PGA_RETURN;
}

#define ATTACH_GROUP(name, group)                                           \
  static pga_outcome_t fn_attach_##name(pga_call_t *call, size_t argc,      \
                                        const pga_term_t *argv,             \
                                        pga_tb_t *out) {                    \
    return attach_group(call, argc, argv, out, group);                      \
  }
ATTACH_GROUP(all, all)
ATTACH_GROUP(executor, executor)
ATTACH_GROUP(rate_limiter, rate_limiter)
ATTACH_GROUP(hooks, hooks)
ATTACH_GROUP(worker_pool, worker_pool)
ATTACH_GROUP(config, config)
#undef ATTACH_GROUP

/* attach_many(id, events, function, config \\ %{}). */
static pga_outcome_t fn_attach_many(pga_call_t *call, size_t argc,
                                    const pga_term_t *argv, pga_tb_t *out) {
  const char *id;
  size_t id_len;
  char home[PGA_ATOM_BUF];
  pga_th_spec_t spec;
  int lt = pga_term_type(&argv[1]);
  if (get_id(&argv[0], &id, &id_len) != 0 ||
      (lt != PGA_T_LIST && lt != PGA_T_NIL) ||
      make_spec(call, &argv[2], argc > 3 ? &argv[3] : NULL, &spec, home))
    return fail_with(out, "function_clause");
  return attach_list(pga_call_udata(call), &argv[0], &argv[1], &spec, out);
}

static pga_outcome_t fn_detach_all(pga_call_t *call, size_t argc,
                                   const pga_term_t *argv, pga_tb_t *out) {
  const char *id;
  size_t id_len;
  (void)argc;
  if (get_id(&argv[0], &id, &id_len) != 0)
    return fail_with(out, "function_clause");
  return detach_all(pga_call_udata(call), id, id_len, out);
}

/* attach_default_logger(id \\ "phoenix-gen-api-default-logger"). */
static pga_outcome_t fn_attach_default_logger(pga_call_t *call, size_t argc,
                                              const pga_term_t *argv,
                                              pga_tb_t *out) {
  const char *id = PGA_TEL_DEFAULT_LOGGER;
  size_t id_len = strlen(id);
  pga_th_spec_t spec = {.kind = PGA_TH_LOGGER,
                        .config = {empty_map, sizeof empty_map}};
  if (argc > 0 && get_id(&argv[0], &id, &id_len) != 0)
    return fail_with(out, "function_clause");
  return attach_range(pga_call_udata(call), id, id_len, all, &spec, out);
}

static pga_outcome_t fn_detach_default_logger(pga_call_t *call, size_t argc,
                                              const pga_term_t *argv,
                                              pga_tb_t *out) {
  const char *id = PGA_TEL_DEFAULT_LOGGER;
  size_t id_len = strlen(id);
  if (argc > 0 && get_id(&argv[0], &id, &id_len) != 0)
    return fail_with(out, "function_clause");
  return detach_all(pga_call_udata(call), id, id_len, out);
}

/* execute(event, measurements, metadata): :telemetry.execute's clauses
 * (a bare number is wrapped as %{value: n}). */
static pga_outcome_t fn_execute(pga_call_t *call, size_t argc,
                                const pga_term_t *argv, pga_tb_t *out) {
  pga_telemetry_t *t = pga_call_udata(call);
  int mt = pga_term_type(&argv[1]);
  (void)argc;
  if (pga_term_type(&argv[0]) != PGA_T_LIST ||
      pga_term_type(&argv[2]) != PGA_T_MAP ||
      (mt != PGA_T_MAP && mt != PGA_T_INTEGER && mt != PGA_T_FLOAT &&
       mt != PGA_T_BIGINT))
    return fail_with(out, "function_clause");
  pga_tb_t meas;
  pga__tb_init(&meas, 0);
  if (mt != PGA_T_MAP) {
    pga_tb_map(&meas, 1);
    pga_tb_atom(&meas, "value");
  }
  pga_tb_term(&meas, &argv[1]);
  pga_term_t m = pga_tb_data(&meas);
  if (!pga_tb_error(&meas))
    pga__tel_dispatch(t, pga__tel_event_index(&argv[0]), &argv[0], &m,
                      &argv[2]);
  pga__tb_destroy(&meas);
  return ok(out);
}

/* ---- attach_telemetry / detach_telemetry ---- */

#define SUFFIXED(name, exec, rl)                                            \
  static pga_outcome_t fn_attach_##name(pga_call_t *call, size_t argc,      \
                                        const pga_term_t *argv,             \
                                        pga_tb_t *out) {                    \
    return attach_suffixed(call, argc, argv, out, exec, rl);                \
  }                                                                         \
  static pga_outcome_t fn_detach_##name(pga_call_t *call, size_t argc,      \
                                        const pga_term_t *argv,             \
                                        pga_tb_t *out) {                    \
    (void)argc;                                                             \
    return detach_suffixed(call, &argv[0], out, exec, rl);                  \
  }
SUFFIXED(top, 1, 1)
SUFFIXED(exec, 1, 0)
SUFFIXED(rl, 0, 1)
#undef SUFFIXED

#define FN(m, f, a, fn) {m, f, a, fn, PGA_FN_INLINE, NULL, 0, {0}}
static const pga_fn_def_t fns[] = {
    FN(MOD_TEL, "list_events", 0, fn_list_events),
    FN(MOD_TEL, "attach_all", 2, fn_attach_all),
    FN(MOD_TEL, "attach_all", 3, fn_attach_all),
    FN(MOD_TEL, "attach_executor", 2, fn_attach_executor),
    FN(MOD_TEL, "attach_executor", 3, fn_attach_executor),
    FN(MOD_TEL, "attach_rate_limiter", 2, fn_attach_rate_limiter),
    FN(MOD_TEL, "attach_rate_limiter", 3, fn_attach_rate_limiter),
    FN(MOD_TEL, "attach_hooks", 2, fn_attach_hooks),
    FN(MOD_TEL, "attach_hooks", 3, fn_attach_hooks),
    FN(MOD_TEL, "attach_worker_pool", 2, fn_attach_worker_pool),
    FN(MOD_TEL, "attach_worker_pool", 3, fn_attach_worker_pool),
    FN(MOD_TEL, "attach_config", 2, fn_attach_config),
    FN(MOD_TEL, "attach_config", 3, fn_attach_config),
    FN(MOD_TEL, "attach_many", 3, fn_attach_many),
    FN(MOD_TEL, "attach_many", 4, fn_attach_many),
    FN(MOD_TEL, "detach_all", 1, fn_detach_all),
    FN(MOD_TEL, "attach_default_logger", 0, fn_attach_default_logger),
    FN(MOD_TEL, "attach_default_logger", 1, fn_attach_default_logger),
    FN(MOD_TEL, "detach_default_logger", 0, fn_detach_default_logger),
    FN(MOD_TEL, "detach_default_logger", 1, fn_detach_default_logger),
    FN(MOD_TEL, "execute", 3, fn_execute),
    FN(MOD_TOP, "attach_telemetry", 2, fn_attach_top),
    FN(MOD_TOP, "attach_telemetry", 3, fn_attach_top),
    FN(MOD_TOP, "detach_telemetry", 1, fn_detach_top),
    FN(MOD_EXEC, "attach_telemetry", 2, fn_attach_exec),
    FN(MOD_EXEC, "attach_telemetry", 3, fn_attach_exec),
    FN(MOD_EXEC, "detach_telemetry", 1, fn_detach_exec),
    FN(MOD_RL, "attach_telemetry", 2, fn_attach_rl),
    FN(MOD_RL, "attach_telemetry", 3, fn_attach_rl),
    FN(MOD_RL, "detach_telemetry", 1, fn_detach_rl),
};
#undef FN

int pga__tel_rpc_register(pga_telemetry_t *t) {
  pga_rpc_t *r = pga__node_rpc(t->node);
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < sizeof fns / sizeof *fns; i++) {
    pga_fn_def_t def = fns[i];
    def.udata = t;
    rc = pga_rpc_register(r, &def);
  }
  return rc;
}
