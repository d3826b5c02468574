/* Calling other nodes the way erpc does: a SPAWN_REQUEST of
 * erpc:execute_call/4 with a monitor; the result comes back as the DOWN
 * reason (distribution.md §13). One client process owns every call.
 *
 * Invariant: a call started with 0 ends exactly once through its callback
 * (result, timeout or nodedown) unless cancelled by its owner. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "dist/ctrl.h"
#include "dist/proto.h"
#include "rpc/rpc_int.h"

typedef struct out_call_s {
  pga_rpc_t *r;
  uint64_t key;           /* counter of our request reference */
  uint64_t res_key;       /* counter of the result reference */
  uint64_t conn_id;
  uint64_t timer;
  pga_tb_t remote;        /* the remote job's pid, once replied */
  pga_tb_t req_ref;       /* the request reference, encoded */
  int via_rex;            /* a gen call to the peer's rex */
  pga_rpc_call_cb cb;
  void *ud;
} out_call_t;

static void call_free(out_call_t *call) {
  if (call->timer) pga_loop_timer_cancel(call->r->loop, call->timer);
  pga__tb_destroy(&call->remote);
  pga__tb_destroy(&call->req_ref);
  free(call);
}

/* Removes the call and runs its callback with result. */
static void finish(out_call_t *call, const pga_term_t *result) {
  pga_dict_take(call->r->calls, PGA_U64_KEY(call->key), NULL);
  call->cb(call->ud, result);
  call_free(call);
}

static void finish_badrpc(out_call_t *call, const char *why) {
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_tb_tuple(&tb, 2);
  pga_tb_atom(&tb, "badrpc");
  pga_tb_atom(&tb, why);
  pga_term_t t = pga_tb_data(&tb);
  finish(call, &t);
  pga__tb_destroy(&tb);
}

static void finish_exit(out_call_t *call, const pga_term_t *reason) {
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_rpc_result_term(&tb, PGA_EXIT, reason, NULL);
  pga_term_t t = pga_tb_data(&tb);
  finish(call, &t);
  pga__tb_destroy(&tb);
}

/* MONITOR_P / DEMONITOR_P of {rex, Node} under the call's reference. */
static void send_rex_monitor(pga_rpc_t *r, out_call_t *call, int op) {
  pga_conn_t *c = pga_dist_conn_by_id(r->d, call->conn_id);
  if (!c) return;
  pga_tb_t ctrl, name;
  pga__tb_init(&ctrl, 0);
  pga__tb_init(&name, 0);
  pga_tb_atom(&name, "rex");
  pga_term_t target = pga_tb_data(&name);
  pga_term_t ref = pga_tb_data(&call->req_ref);
  pga_ctrl_monitor(&ctrl, r->d, op, pga_proc_id(r->client), &target, &ref);
  pga_conn_send(c, &ctrl, NULL);
  pga__tb_destroy(&ctrl);
  pga__tb_destroy(&name);
}

static out_call_t *call_by_ref(pga_rpc_t *r, const pga_term_t *ref) {
  uint64_t key = pga_dist_local_ref_id(r->d, ref);
  return key ? pga_dict_get(r->calls, PGA_U64_KEY(key)) : NULL;
}

static void on_spawn_reply(pga_proc_t *p, pga_conn_t *c,
                           const pga_term_t *req_id, int flags,
                           const pga_term_t *result) {
  out_call_t *call = call_by_ref(pga_proc_data(p), req_id);
  if (!call) return;
  if (pga_term_type(result) == PGA_T_PID) {
    pga_tb_term(&call->remote, result);
    return;
  }
  if (pga_term_is_atom(result, "notsup"))
    finish_badrpc(call, "notsup");
  else
    finish_exit(call, result);
}

/* The DOWN reason: {Res, return|throw, V}, {Res, exit, R},
 * {Res, error, E, Stack}, or a plain exit reason. */
static void on_down(pga_proc_t *p, pga_conn_t *c, const pga_term_t *ref,
                    const pga_term_t *reason) {
  pga_rpc_t *r = pga_proc_data(p);
  out_call_t *call = call_by_ref(r, ref);
  if (!call) return;
  size_t arity = 0;
  pga_term_t res, cls, v, stack;
  int shaped = pga_term_tuple_arity(reason, &arity) == 0 &&
               (arity == 3 || arity == 4) &&
               pga_term_tuple_get(reason, 0, &res) == 0 &&
               pga_dist_local_ref_id(r->d, &res) == call->res_key &&
               pga_term_tuple_get(reason, 1, &cls) == 0 &&
               pga_term_tuple_get(reason, 2, &v) == 0;
  if (!shaped) {
    if (pga_term_is_atom(reason, "noconnection"))
      finish_badrpc(call, "nodedown");
    else
      finish_exit(call, reason);
    return;
  }
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  if (pga_term_is_atom(&cls, "return") || pga_term_is_atom(&cls, "throw"))
    pga_rpc_result_term(&tb, PGA_RETURN, &v, NULL);
  else if (arity == 4 && pga_term_tuple_get(reason, 3, &stack) == 0)
    pga_rpc_result_term(&tb, PGA_ERROR, &v, &stack);
  else
    pga_rpc_result_term(&tb, PGA_EXIT, &v, NULL);
  pga_term_t t = pga_tb_data(&tb);
  finish(call, &t);
  pga__tb_destroy(&tb);
}

/* We are the group leader of the jobs we spawn: accept their output (it
 * goes to our log) so they never block (distribution.md §14). */
/* {Ref, Reply}: the answer of a rex gen call. */
static int on_rex_reply(pga_rpc_t *r, const pga_term_t *msg) {
  size_t arity;
  pga_term_t ref, reply;
  if (pga_term_tuple_arity(msg, &arity) != 0 || arity != 2 ||
      pga_term_tuple_get(msg, 0, &ref) != 0 ||
      pga_term_type(&ref) != PGA_T_REF)
    return 0;
  out_call_t *call = call_by_ref(r, &ref);
  if (!call || pga_term_tuple_get(msg, 1, &reply) != 0) return 1;
  send_rex_monitor(r, call, DOP_DEMONITOR_P);
  finish(call, &reply);
  return 1;
}

static void on_message(pga_proc_t *p, pga_conn_t *c, const pga_term_t *from,
                       const pga_term_t *msg) {
  pga_rpc_t *r = pga_proc_data(p);
  if (on_rex_reply(r, msg)) return;
  size_t arity;
  pga_term_t tag, sender, reply_as, req, first;
  if (pga_term_tuple_arity(msg, &arity) != 0 || arity != 4 ||
      pga_term_tuple_get(msg, 0, &tag) != 0 ||
      !pga_term_is_atom(&tag, "io_request") ||
      pga_term_tuple_get(msg, 1, &sender) != 0 ||
      pga_term_tuple_get(msg, 2, &reply_as) != 0 ||
      pga_term_tuple_get(msg, 3, &req) != 0)
    return;
  int put_chars = pga_term_tuple_get(&req, 0, &first) == 0 &&
                  pga_term_is_atom(&first, "put_chars");
  if (put_chars) {
    char text[1024];
    pga_term_format(&req, text, sizeof text);
    pga_info("output from a remote call: %s", text);
  }
  pga_tb_t out;
  pga__tb_init(&out, 0);
  pga__tb_version(&out);
  pga_tb_tuple(&out, 3);
  pga_tb_atom(&out, "io_reply");
  pga_tb_term(&out, &reply_as);
  if (put_chars) {
    pga_tb_atom(&out, "ok");
  } else {
    pga_tb_tuple(&out, 2);
    pga_tb_atom(&out, "error");
    pga_tb_atom(&out, "request");
  }
  pga_dist_send(r->d, pga_proc_id(p), &sender, &out);
  pga__tb_destroy(&out);
}

static const pga_proc_ops_t client_ops = {
    .on_message = on_message,
    .on_down = on_down,
    .on_spawn_reply = on_spawn_reply,
};

static void on_nodedown(void *ud, pga_conn_t *c) {
  pga_rpc_t *r = ud;
  uint64_t id = pga_conn_id(c);
  pga_dict_iter_t it;
  void *key, *val;
  pga_dict_iter_init(r->calls, &it);
  while (pga_dict_next(&it, &key, &val)) {
    out_call_t *call = val;
    if (call->conn_id == id) finish_badrpc(call, "nodedown");
  }
}

/* Gives up: the caller sees {badrpc, timeout}; the remote job is
 * demonitored so its late result is not sent (distribution.md §13). */
static int64_t on_timeout(pga_loop_t *loop, uint64_t id, void *data) {
  out_call_t *call = data;
  call->timer = 0;
  pga_conn_t *c = pga_dist_conn_by_id(call->r->d, call->conn_id);
  pga_term_t remote = pga_tb_data(&call->remote);
  if (call->via_rex) send_rex_monitor(call->r, call, DOP_DEMONITOR_P);
  if (c && remote.len) {
    pga_tb_t ctrl;
    pga__tb_init(&ctrl, 0);
    pga_term_t req = pga_tb_data(&call->req_ref);
    pga_ctrl_monitor(&ctrl, call->r->d, DOP_DEMONITOR_P,
                     pga_proc_id(call->r->client), &remote, &req);
    pga_conn_send(c, &ctrl, NULL);
    pga__tb_destroy(&ctrl);
  }
  finish_badrpc(call, "timeout");
  return PGA_TIMER_NOMORE;
}

static void send_request(pga_rpc_t *r, pga_conn_t *c, out_call_t *call,
                         const erlang_ref *req, const erlang_ref *res,
                         const char *m, const char *f,
                         const pga_term_t *args) {
  pga_tb_t ctrl, payload, ids;
  pga__tb_init(&ctrl, 0);
  pga__tb_init(&payload, 0);
  pga__tb_init(&ids, 0);
  pga__tb_ref(&ids, req);
  pga_term_t req_t = pga_tb_data(&ids);
  size_t req_len = req_t.len;
  pga_dist_put_pid(r->d, &ids, pga_proc_id(r->client));
  pga_term_t rq = {ids.x.buff, req_len};
  pga_term_t gl = {ids.x.buff + req_len, (size_t)ids.x.index - req_len};
  pga_ctrl_spawn_request(&ctrl, r->d, &rq, pga_proc_id(r->client), &gl,
                         "erpc", "execute_call", 4, 1);
  pga__tb_version(&payload);
  pga_tb_list(&payload, 4);
  pga__tb_ref(&payload, res);
  pga_tb_atom(&payload, m);
  pga_tb_atom(&payload, f);
  pga_tb_term(&payload, args);
  pga_tb_nil(&payload);
  pga_conn_send(c, &ctrl, &payload);
  pga__tb_destroy(&ctrl);
  pga__tb_destroy(&payload);
  pga__tb_destroy(&ids);
}

/* For peers without SPAWN (ei-based nodes): a gen call to their rex,
 * monitored so a missing rex answers at once (distribution.md §13). */
static void send_rex_request(pga_rpc_t *r, pga_conn_t *c, out_call_t *call,
                             const char *m, const char *f,
                             const pga_term_t *args) {
  send_rex_monitor(r, call, DOP_MONITOR_P);
  pga_tb_t msg;
  pga__tb_init(&msg, 0);
  pga__tb_version(&msg);
  pga_tb_tuple(&msg, 3);
  pga_tb_atom(&msg, "$gen_call");
  pga_tb_tuple(&msg, 2);
  pga_dist_put_pid(r->d, &msg, pga_proc_id(r->client));
  pga_term_t ref = pga_tb_data(&call->req_ref);
  pga_tb_term(&msg, &ref);
  pga_tb_tuple(&msg, 5);
  pga_tb_atom(&msg, "call");
  pga_tb_atom(&msg, m);
  pga_tb_atom(&msg, f);
  pga_tb_term(&msg, args);
  pga_tb_atom(&msg, "user");
  pga_dist_reg_send(r->d, pga_proc_id(r->client), pga_conn_node(c), "rex",
                    &msg);
  pga__tb_destroy(&msg);
}

int pga_rpc_call(pga_rpc_t *r, const char *node, const char *m,
                 const char *f, const pga_term_t *args, unsigned timeout_ms,
                 pga_rpc_call_cb cb, void *ud, uint64_t *call_id) {
  if (pga_term_type(args) != PGA_T_LIST && pga_term_type(args) != PGA_T_NIL)
    return PGA_EINVAL;
  pga_conn_t *c = pga_dist_conn_get(r->d, node);
  if (!c) return PGA_ENODEDOWN;
  out_call_t *call = calloc(1, sizeof *call);
  if (!call) return PGA_ENOMEM;
  erlang_ref req, res;
  pga_dist_make_ref(r->d, &req);
  pga_dist_make_ref(r->d, &res);
  call->r = r;
  call->key = (uint64_t)req.n[0] | ((uint64_t)req.n[1] << 18);
  call->res_key = (uint64_t)res.n[0] | ((uint64_t)res.n[1] << 18);
  call->conn_id = pga_conn_id(c);
  call->cb = cb;
  call->ud = ud;
  pga__tb_init(&call->remote, 0);
  pga__tb_init(&call->req_ref, 0);
  pga__tb_ref(&call->req_ref, &req);
  if (pga_dict_add(r->calls, PGA_U64_KEY(call->key), call) != 0) {
    call_free(call);
    return PGA_ENOMEM;
  }
  if (timeout_ms)
    call->timer = pga_loop_timer(r->loop, timeout_ms, on_timeout, call);
  /* Before the handshake the peer's flags are unknown: OTP 23+ peers all
   * have SPAWN, so the erpc form is the default. */
  call->via_rex = pga_conn_is_up(c) && !(pga_conn_flags(c) & DFLAG_SPAWN);
  if (call->via_rex)
    send_rex_request(r, c, call, m, f, args);
  else
    send_request(r, c, call, &req, &res, m, f, args);
  if (call_id) *call_id = call->key;
  return 0;
}

void pga_rpc_call_cancel(pga_rpc_t *r, uint64_t call_id) {
  out_call_t *call = pga_dict_take(r->calls, PGA_U64_KEY(call_id), NULL);
  if (call) call_free(call);
}

size_t pga_rpc_calls_in_flight(const pga_rpc_t *r) {
  return pga_dict_size(r->calls);
}

int pga__client_init(pga_rpc_t *r) {
  r->calls = pga_dict_new(&pga_dict_u64_type);
  r->client = r->calls ? pga_proc_new(r->d, &client_ops, r) : NULL;
  if (!r->client) return PGA_ENOMEM;
  return pga_dist_on_nodedown(r->d, on_nodedown, r);
}

void pga__client_free(pga_rpc_t *r) {
  if (!r->calls) return;
  pga_dict_iter_t it;
  void *key, *val;
  pga_dict_iter_init(r->calls, &it);
  while (pga_dict_next(&it, &key, &val)) {
    pga_dict_take(r->calls, key, NULL);
    call_free(val);
  }
  pga_dict_free(r->calls);
  r->calls = NULL;
}
