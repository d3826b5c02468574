/* PhoenixGenApi.Relay and PhoenixGenApi.RelayServer served over RPC
 * (ops-plane.md §3, §7.2, §7.6). Relay has the library's guards (ids
 * binaries, type one of the three atoms, pid a pid: else function_clause);
 * RelayServer has none, so a lookup with any other id simply finds
 * nothing, while a create or join that would store one fails with badarg
 * (the library would store it, or crash its server on a non-pid). */
#include "config.h"

#include "relay/relay_int.h"

#define RELAY_MOD "Elixir.PhoenixGenApi.Relay"
#define SERVER_MOD "Elixir.PhoenixGenApi.RelayServer"
#define TABLE_NAME "phoenix_gen_api_relay_groups"

static relay_mod_t *mod_of(pga_call_t *call) { return pga_call_udata(call); }

static pga_outcome_t bad_args(const relay_mod_t *mod, pga_tb_t *out) {
  pga_tb_atom(out, mod->guarded ? "function_clause" : "badarg");
  return PGA_ERROR;
}

/* An id to look up: a binary's bytes, else (unguarded) one nobody has. */
static int lookup_id(const relay_mod_t *mod, const pga_term_t *t,
                     pga_relay_id_t *id) {
  if (pga_term_type(t) == PGA_T_BINARY)
    return pga_term_get_binary(t, &id->p, &id->n);
  *id = (pga_relay_id_t){NULL, PGA_RELAY_MAX_ID + 1};
  return mod->guarded ? -1 : 0;
}

/* An id to store: a binary, whatever the module. */
static int store_id(const pga_term_t *t, pga_relay_id_t *id) {
  if (pga_term_type(t) != PGA_T_BINARY) return -1;
  return pga_term_get_binary(t, &id->p, &id->n);
}

static int is_pid(const pga_term_t *t) { return pga_term_type(t) == PGA_T_PID; }

static pga_outcome_t fn_create(pga_call_t *call, size_t argc,
                               const pga_term_t *argv, pga_tb_t *out) {
  relay_mod_t *mod = mod_of(call);
  relay_t *r = mod->relay;
  pga_relay_id_t gid, uid;
  pga_relay_gtype_t type;
  char name[PGA_ATOM_BUF];
  (void)argc;
  if (store_id(&argv[0], &gid) != 0 ||
      pga_term_get_atom(&argv[1], name, sizeof name) != 0 ||
      pga_relay_gtype_parse(name, &type) != 0 ||
      store_id(&argv[2], &uid) != 0 || !is_pid(&argv[3]))
    return bad_args(mod, out);
  pthread_mutex_lock(&r->lock);
  pga_relay_rc_t rc = pga_relay_create(r->model, gid, type, uid, &argv[3],
                                       pga__relay_now_us());
  pthread_mutex_unlock(&r->lock);
  pga_relay_put_rc(out, rc);
  return PGA_RETURN;
}

static pga_outcome_t fn_delete(pga_call_t *call, size_t argc,
                               const pga_term_t *argv, pga_tb_t *out) {
  relay_mod_t *mod = mod_of(call);
  pga_relay_id_t gid;
  (void)argc;
  if (lookup_id(mod, &argv[0], &gid) != 0) return bad_args(mod, out);
  pthread_mutex_lock(&mod->relay->lock);
  pga_relay_rc_t rc = pga_relay_delete(mod->relay->model, gid);
  pthread_mutex_unlock(&mod->relay->lock);
  pga_relay_put_rc(out, rc);
  return PGA_RETURN;
}

static pga_outcome_t fn_info(pga_call_t *call, size_t argc,
                             const pga_term_t *argv, pga_tb_t *out) {
  relay_mod_t *mod = mod_of(call);
  pga_relay_id_t gid;
  (void)argc;
  if (lookup_id(mod, &argv[0], &gid) != 0) return bad_args(mod, out);
  pthread_mutex_lock(&mod->relay->lock);
  pga_relay_put_group_info(out, mod->relay->model, gid);
  pthread_mutex_unlock(&mod->relay->lock);
  return PGA_RETURN;
}

static pga_outcome_t fn_join(pga_call_t *call, size_t argc,
                             const pga_term_t *argv, pga_tb_t *out) {
  relay_mod_t *mod = mod_of(call);
  relay_t *r = mod->relay;
  pga_relay_id_t gid, uid;
  pga_relay_mon_t mon;
  pga_relay_monent_t *replaced = NULL;
  pga_relay_mstatus_t st = PGA_RELAY_ACTIVE;
  erlang_pid ep;
  (void)argc;
  if (store_id(&argv[0], &gid) != 0 || store_id(&argv[1], &uid) != 0 ||
      !is_pid(&argv[2]))
    return bad_args(mod, out);
  pga__relay_mon_prepare(r, &argv[2], &ep, &mon);
  pthread_mutex_lock(&r->lock);
  pga_relay_rc_t rc = pga_relay_join(r->model, gid, uid, &argv[2],
                                     pga__relay_now_us(), &mon, &st,
                                     &replaced);
  pthread_mutex_unlock(&r->lock);
  if (rc != PGA_RELAY_OK) {
    pga_relay_put_rc(out, rc);
    return PGA_RETURN;
  }
  pga__relay_mon_drop(r, replaced);
  pga__relay_mon_start(r, &mon);
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "ok");
  pga_tb_atom(out, pga_relay_mstatus_atom(st));
  return PGA_RETURN;
}

static pga_outcome_t fn_leave(pga_call_t *call, size_t argc,
                              const pga_term_t *argv, pga_tb_t *out) {
  relay_mod_t *mod = mod_of(call);
  relay_t *r = mod->relay;
  pga_relay_id_t gid, uid;
  pga_relay_monent_t *dropped = NULL;
  (void)argc;
  if (lookup_id(mod, &argv[0], &gid) != 0 ||
      lookup_id(mod, &argv[1], &uid) != 0)
    return bad_args(mod, out);
  pthread_mutex_lock(&r->lock);
  pga_relay_rc_t rc = pga_relay_leave(r->model, gid, uid, &dropped);
  pthread_mutex_unlock(&r->lock);
  pga__relay_mon_drop(r, dropped);
  pga_relay_put_rc(out, rc);
  return PGA_RETURN;
}

typedef pga_relay_rc_t (*actor_op_fn)(pga_relay_model_t *m,
                                      pga_relay_id_t gid,
                                      pga_relay_id_t actor,
                                      pga_relay_id_t target);

/* accept/mute/unmute(gid, actor, target). */
static pga_outcome_t actor_op(pga_call_t *call, const pga_term_t *argv,
                              pga_tb_t *out, actor_op_fn op) {
  relay_mod_t *mod = mod_of(call);
  pga_relay_id_t gid, actor, target;
  if (lookup_id(mod, &argv[0], &gid) != 0 ||
      lookup_id(mod, &argv[1], &actor) != 0 ||
      lookup_id(mod, &argv[2], &target) != 0)
    return bad_args(mod, out);
  pthread_mutex_lock(&mod->relay->lock);
  pga_relay_rc_t rc = op(mod->relay->model, gid, actor, target);
  pthread_mutex_unlock(&mod->relay->lock);
  pga_relay_put_rc(out, rc);
  return PGA_RETURN;
}

static pga_outcome_t fn_accept(pga_call_t *call, size_t argc,
                               const pga_term_t *argv, pga_tb_t *out) {
  (void)argc;
  return actor_op(call, argv, out, pga_relay_accept);
}

static pga_outcome_t fn_mute(pga_call_t *call, size_t argc,
                             const pga_term_t *argv, pga_tb_t *out) {
  (void)argc;
  return actor_op(call, argv, out, pga_relay_mute);
}

static pga_outcome_t fn_unmute(pga_call_t *call, size_t argc,
                               const pga_term_t *argv, pga_tb_t *out) {
  (void)argc;
  return actor_op(call, argv, out, pga_relay_unmute);
}

static pga_outcome_t fn_handle_relay(pga_call_t *call, size_t argc,
                                     const pga_term_t *argv, pga_tb_t *out) {
  return pga__relay_handle(mod_of(call)->relay, argc, argv, out);
}

static pga_outcome_t fn_table(pga_call_t *call, size_t argc,
                              const pga_term_t *argv, pga_tb_t *out) {
  (void)call, (void)argc, (void)argv;
  pga_tb_atom(out, TABLE_NAME);
  return PGA_RETURN;
}

static pga_outcome_t fn_status(pga_call_t *call, size_t argc,
                               const pga_term_t *argv, pga_tb_t *out) {
  relay_t *r = mod_of(call)->relay;
  (void)argc, (void)argv;
  pthread_mutex_lock(&r->lock);
  pga_relay_put_status(out, r->model);
  pthread_mutex_unlock(&r->lock);
  return PGA_RETURN;
}

typedef struct relay_fn_s {
  const char *function;
  unsigned arity;
  pga_fn_t fn;
} relay_fn_t;

/* Served by both modules. */
static const relay_fn_t group_fns[] = {
    {"create_group", 4, fn_create},   {"delete_group", 1, fn_delete},
    {"get_group_info", 1, fn_info},   {"join_group", 3, fn_join},
    {"leave_group", 2, fn_leave},     {"accept_member", 3, fn_accept},
    {"mute_member", 3, fn_mute},      {"unmute_member", 3, fn_unmute},
    {"handle_relay", 2, fn_handle_relay}, {"table", 0, fn_table},
};

static int reg(relay_t *r, const char *module, const relay_fn_t *f,
               relay_mod_t *mod) {
  pga_fn_def_t def = {module, f->function, f->arity, f->fn, PGA_FN_INLINE,
                      mod, 0, {0}};
  return pga_rpc_register(r->rpc, &def);
}

int pga__relay_rpc_register(relay_t *r) {
  /* handle_relay/3: the executor's `nodes: :local` call with request_info
   * (deliver.c); status/0 is RelayServer's own. */
  static const relay_fn_t relay_only = {"handle_relay", 3, fn_handle_relay};
  static const relay_fn_t server_only = {"status", 0, fn_status};
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < sizeof group_fns / sizeof *group_fns; i++) {
    rc = reg(r, RELAY_MOD, &group_fns[i], &r->mods[0]);
    if (rc == 0) rc = reg(r, SERVER_MOD, &group_fns[i], &r->mods[1]);
  }
  if (rc == 0) rc = reg(r, RELAY_MOD, &relay_only, &r->mods[0]);
  if (rc == 0) rc = reg(r, SERVER_MOD, &server_only, &r->mods[1]);
  return rc;
}
