/* The rex and net_kernel servers: rpc:block_call, the old
 * {Pid, {call, M, F, A, GL}} message (erl_call, pre-23 nodes), rex casts,
 * and the is_auth call behind net_adm:ping (distribution.md §10.4). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "rpc/rpc_int.h"

/* A rex call waiting for its job. */
typedef struct rex_wait_s {
  pga_rpc_t *r;
  uint64_t conn_id;
  int gen;              /* gen call (reply {Tag, R}) or old form ({rex, R}) */
  pga_tb_t from;        /* caller pid then tag, verbatim */
  size_t pid_len;
} rex_wait_t;

/* {call|block_call|cast, M, F, A, GL}: fills the parts; 0 or PGA_EPROTO. */
static int split_request(const pga_term_t *req, const char *kind,
                         char *m, char *f, pga_term_t *args,
                         pga_term_t *gl) {
  size_t arity;
  pga_term_t tag, mt, ft;
  if (pga_term_tuple_arity(req, &arity) != 0 || arity != 5 ||
      pga_term_tuple_get(req, 0, &tag) != 0 || !pga_term_is_atom(&tag, kind) ||
      pga_term_tuple_get(req, 1, &mt) != 0 ||
      pga_term_tuple_get(req, 2, &ft) != 0 ||
      pga_term_tuple_get(req, 3, args) != 0 ||
      pga_term_tuple_get(req, 4, gl) != 0 ||
      pga_term_get_atom(&mt, m, PGA_ATOM_BUF) != 0 ||
      pga_term_get_atom(&ft, f, PGA_ATOM_BUF) != 0)
    return PGA_EPROTO;
  int t = pga_term_type(args);
  return t == PGA_T_LIST || t == PGA_T_NIL ? 0 : PGA_EPROTO;
}

static void rex_done(void *ud, const pga_term_t *result) {
  rex_wait_t *w = ud;
  pga_rpc_t *r = w->r;
  pga_term_t all = pga_tb_data(&w->from);
  pga_term_t pid = {all.buf, w->pid_len};
  pga_term_t tag = {all.buf + w->pid_len, all.len - w->pid_len};
  pga_proc_t *rex = pga_proc_by_name(r->d, "rex");
  uint64_t rex_id = rex ? pga_proc_id(rex) : 0;
  if (w->gen) {
    pga_conn_t *c = pga_dist_conn_by_id(r->d, w->conn_id);
    pga_dist_gen_reply(r->d, rex_id, c, &pid, &tag, result);
  } else {
    pga_tb_t msg;
    pga__tb_init(&msg, pga_dist_wrap_cap(r->d));
    pga__tb_version(&msg);
    pga_tb_tuple(&msg, 2);
    pga_tb_atom(&msg, "rex");
    pga_tb_term(&msg, result);
    pga_dist_send(r->d, rex_id, &pid, &msg);
    pga__tb_destroy(&msg);
  }
  pga__tb_destroy(&w->from);
  free(w);
}

static void cast_done(void *ud, const pga_term_t *result) {}

/* Starts the job for a rex request; w == NULL for casts. */
static int start(pga_rpc_t *r, pga_conn_t *c, const pga_term_t *req,
                 const char *kind, const pga_term_t *caller, rex_wait_t *w) {
  char m[PGA_ATOM_BUF], f[PGA_ATOM_BUF];
  pga_term_t args, gl;
  if (split_request(req, kind, m, f, &args, &gl) != 0) return PGA_EPROTO;
  const pga_term_t *glp = pga_term_type(&gl) == PGA_T_PID ? &gl : NULL;
  return pga_rpc_run(r, c, caller, glp, m, f, &args, w ? rex_done : cast_done,
                     w);
}

static rex_wait_t *wait_new(pga_rpc_t *r, pga_conn_t *c, int gen,
                            const pga_term_t *pid, const pga_term_t *tag) {
  rex_wait_t *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->r = r;
  w->conn_id = c ? pga_conn_id(c) : 0;
  w->gen = gen;
  pga__tb_init(&w->from, 0);
  pga_tb_term(&w->from, pid);
  w->pid_len = (size_t)w->from.x.index;
  if (tag) pga_tb_term(&w->from, tag);
  return w;
}

static void run_or_refuse(pga_rpc_t *r, pga_conn_t *c, const pga_term_t *req,
                          const char *kind, rex_wait_t *w,
                          const pga_term_t *caller) {
  int rc = start(r, c, req, kind, caller, w);
  if (rc == 0) return;
  pga_tb_t err;
  pga__tb_init(&err, 0);
  pga_tb_tuple(&err, 2);
  pga_tb_atom(&err, "badrpc");
  if (rc == PGA_EBUSY || rc == PGA_ETOOBIG) {
    pga_tb_tuple(&err, 2);
    pga_tb_atom(&err, "EXIT");
    pga_tb_atom(&err, "system_limit");
  } else {
    pga_tb_atom(&err, "badarg");
  }
  pga_term_t e = pga_tb_data(&err);
  rex_done(w, &e);
  pga__tb_destroy(&err);
}

static int rex_call(void *ud, const pga_gen_from_t *from,
                    const pga_term_t *req, pga_tb_t *reply) {
  pga_rpc_t *r = ud;
  pga_term_t tag;
  const char *kind = pga_term_tuple_get(req, 0, &tag) == 0 &&
                             pga_term_is_atom(&tag, "block_call")
                         ? "block_call"
                         : "call";
  rex_wait_t *w = wait_new(r, from->conn, 1, &from->pid, &from->tag);
  if (!w) return 0;
  run_or_refuse(r, from->conn, req, kind, w, &from->pid);
  return 0;
}

static void rex_cast(void *ud, const pga_term_t *msg) {
  pga_rpc_t *r = ud;
  if (start(r, NULL, msg, "cast", NULL, NULL) != 0)
    pga_debug("ignoring a malformed rex cast");
}

/* {CallerPid, {call, M, F, A, GL}}: the pre-OTP-23 and ei_rpc form. */
static void rex_info(void *ud, pga_conn_t *c, const pga_term_t *from,
                     const pga_term_t *msg) {
  pga_rpc_t *r = ud;
  size_t arity;
  pga_term_t pid, req;
  if (pga_term_tuple_arity(msg, &arity) != 0 || arity != 2 ||
      pga_term_tuple_get(msg, 0, &pid) != 0 ||
      pga_term_tuple_get(msg, 1, &req) != 0 ||
      pga_term_type(&pid) != PGA_T_PID)
    return;
  rex_wait_t *w = wait_new(r, c, 0, &pid, NULL);
  if (w) run_or_refuse(r, c, &req, "call", w, &pid);
}

static const pga_gen_server_t rex_impl = {rex_call, rex_cast, rex_info};

/* net_adm:ping / Node.ping: {is_auth, Node} -> yes. */
static int net_kernel_call(void *ud, const pga_gen_from_t *from,
                           const pga_term_t *req, pga_tb_t *reply) {
  pga_term_t tag;
  if (pga_term_tuple_get(req, 0, &tag) == 0 &&
      pga_term_is_atom(&tag, "is_auth")) {
    pga_tb_atom(reply, "yes");
    return 1;
  }
  pga_tb_tuple(reply, 2);
  pga_tb_atom(reply, "error");
  pga_tb_atom(reply, "unsupported");
  return 1;
}

static const pga_gen_server_t net_kernel_impl = {net_kernel_call, NULL, NULL};

int pga__rex_init(pga_rpc_t *r) {
  if (!pga_gen_start(r->d, "rex", &rex_impl, r)) return PGA_ENOMEM;
  if (!pga_gen_start(r->d, "net_kernel", &net_kernel_impl, r))
    return PGA_ENOMEM;
  return 0;
}
