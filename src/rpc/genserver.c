/* Registered processes that speak the gen_server protocol: '$gen_call'
 * with a {Pid, Tag} from and '$gen_cast' (distribution.md §11). */
#include "config.h"

#include <stdlib.h>

#include "rpc/rpc_int.h"

typedef struct gen_s {
  const pga_gen_server_t *impl;
  void *ud;
} gen_t;

static int split_from(const pga_term_t *from_t, pga_conn_t *c,
                      pga_gen_from_t *from) {
  size_t arity;
  if (pga_term_tuple_arity(from_t, &arity) != 0 || arity != 2 ||
      pga_term_tuple_get(from_t, 0, &from->pid) != 0 ||
      pga_term_tuple_get(from_t, 1, &from->tag) != 0 ||
      pga_term_type(&from->pid) != PGA_T_PID)
    return PGA_EPROTO;
  from->conn = c;
  return 0;
}

static void handle_call(pga_proc_t *p, gen_t *g, pga_conn_t *c,
                        const pga_term_t *msg) {
  pga_term_t from_t, req;
  pga_gen_from_t from;
  if (pga_term_tuple_get(msg, 1, &from_t) != 0 ||
      pga_term_tuple_get(msg, 2, &req) != 0 ||
      split_from(&from_t, c, &from) != 0)
    return;
  pga_tb_t reply;
  pga__tb_init(&reply, pga_dist_max_term(pga_proc_dist(p)));
  if (g->impl->call(g->ud, &from, &req, &reply)) {
    pga_term_t r = pga_tb_data(&reply);
    pga_dist_gen_reply(pga_proc_dist(p), pga_proc_id(p), c, &from.pid,
                       &from.tag, &r);
  }
  pga__tb_destroy(&reply);
}

static void on_message(pga_proc_t *p, pga_conn_t *c, const pga_term_t *from,
                       const pga_term_t *msg) {
  gen_t *g = pga_proc_data(p);
  size_t arity = 0;
  pga_term_t tag;
  if (pga_term_tuple_arity(msg, &arity) == 0 && arity >= 2 &&
      pga_term_tuple_get(msg, 0, &tag) == 0) {
    if (arity == 3 && pga_term_is_atom(&tag, "$gen_call")) {
      handle_call(p, g, c, msg);
      return;
    }
    if (arity == 2 && pga_term_is_atom(&tag, "$gen_cast")) {
      pga_term_t body;
      if (g->impl->cast && pga_term_tuple_get(msg, 1, &body) == 0)
        g->impl->cast(g->ud, &body);
      return;
    }
  }
  if (g->impl->info) g->impl->info(g->ud, c, from, msg);
}

/* Servers trap exits (no on_exit_signal): a signal from a peer never
 * stops them. */
static const pga_proc_ops_t gen_ops = {.on_message = on_message};

pga_proc_t *pga_gen_start(pga_dist_t *d, const char *name,
                          const pga_gen_server_t *impl, void *ud) {
  gen_t *g = malloc(sizeof *g);
  if (!g) return NULL;
  g->impl = impl;
  g->ud = ud;
  pga_proc_t *p = pga_proc_new(d, &gen_ops, g);
  if (!p || pga_proc_register(p, name) != 0) {
    if (p) pga_proc_free(p);
    free(g);
    return NULL;
  }
  return p;
}

void pga__gen_free(pga_proc_t *p) {
  free(pga_proc_data(p));
  pga_proc_free(p);
}

int pga_gen_reply(pga_dist_t *d, pga_proc_t *server,
                  const pga_gen_from_t *from, const pga_term_t *reply) {
  return pga_dist_gen_reply(d, pga_proc_id(server), from->conn, &from->pid,
                            &from->tag, reply);
}
