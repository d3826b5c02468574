/* The rpc layer as offered to the layers above: the function registry,
 * serving calls (spawn_request / erpc, rex, gen_server), making calls, and
 * the built-in functions and processes. */
#ifndef PGA_RPC_RPC_H
#define PGA_RPC_RPC_H

#include "base/pool.h"
#include "dist/dist.h"
#include "pga/node.h"

typedef struct pga_rpc_s pga_rpc_t;

/* Creates the rpc layer on a started-or-not dist; registers the spawn
 * hook, the built-in processes (rex, net_kernel, pga_node) and functions. */
int pga_rpc_new(pga_dist_t *d, pga_pool_t *pool, size_t max_jobs,
                pga_node_t *node, pga_rpc_t **out);
/* Marks every running job cancelled and wakes any that wait on the loop,
 * so the worker pool can drain quickly (shutdown). */
void pga_rpc_cancel_all(pga_rpc_t *r);
/* Frees the layer; the worker pool must be drained first. */
void pga_rpc_free(pga_rpc_t *r);

/* ---- registry (registry.c) ---- */
typedef struct pga_fn_entry_s {
  char *module;
  char *function;
  unsigned arity;
  pga_fn_t fn;
  unsigned flags;
  void *udata;
  unsigned timeout_ms;
} pga_fn_entry_t;

int pga_rpc_register(pga_rpc_t *r, const pga_fn_def_t *def);
/* Removes {m, f, arity}: 0, PGA_ENOTFOUND or PGA_ENOMEM. Only while no
 * job runs the function (before the node serves, or after). */
int pga_rpc_unregister(pga_rpc_t *r, const char *m, const char *f,
                       unsigned arity);
/* The entry for {m, f, arity}, or NULL. O(1). */
const pga_fn_entry_t *pga_rpc_lookup(const pga_rpc_t *r, const char *m,
                                     const char *f, unsigned arity);
/* 1 if any function of module m is registered. */
int pga_rpc_module_known(const pga_rpc_t *r, const char *m);
/* Calls each(ud, e) for every function registered under module m, in no
 * particular order (module_info/0 export lists). Like lookups, only while
 * the registry does not change (i.e. once the node serves). O(all
 * registered functions). */
void pga_rpc_each_function(const pga_rpc_t *r, const char *m,
                           void (*each)(void *ud, const pga_fn_entry_t *e),
                           void *ud);

/* ---- gen_server-style processes (genserver.c) ---- */
typedef struct pga_gen_from_s {
  pga_conn_t *conn;
  pga_term_t pid;
  pga_term_t tag;
} pga_gen_from_t;

/* handle_call: write the reply into reply and return 1, or return 0 to
 * reply later with pga_gen_reply (from must then be copied). */
typedef int (*pga_gen_call_fn)(void *ud, const pga_gen_from_t *from,
                               const pga_term_t *req, pga_tb_t *reply);
typedef void (*pga_gen_cast_fn)(void *ud, const pga_term_t *msg);
/* Other messages (info). */
typedef void (*pga_gen_info_fn)(void *ud, pga_conn_t *c,
                                const pga_term_t *from,
                                const pga_term_t *msg);

typedef struct pga_gen_server_s {
  pga_gen_call_fn call;
  pga_gen_cast_fn cast;   /* may be NULL */
  pga_gen_info_fn info;   /* may be NULL */
} pga_gen_server_t;

/* A registered process answering gen calls; NULL on ENOMEM/EEXIST. */
pga_proc_t *pga_gen_start(pga_dist_t *d, const char *name,
                          const pga_gen_server_t *impl, void *ud);
int pga_gen_reply(pga_dist_t *d, pga_proc_t *server,
                  const pga_gen_from_t *from, const pga_term_t *reply);

/* ---- serving (server.c) ---- */
/* How a finished call reports: the rpc:call conventions (value, or
 * {badrpc, {'EXIT', ...}}) built from an outcome. */
void pga_rpc_result_term(pga_tb_t *out, pga_outcome_t outcome,
                         const pga_term_t *value, const pga_term_t *stack);

/* Runs {m, f, args} as a job for a rex-style caller; done() gets the rpc
 * result term on the loop thread. 0 or PGA_EBUSY/PGA_ENOMEM (done never
 * runs). */
typedef void (*pga_job_done_fn)(void *ud, const pga_term_t *rpc_result);
int pga_rpc_run(pga_rpc_t *r, pga_conn_t *c, const pga_term_t *caller,
                const pga_term_t *gl, const char *m, const char *f,
                const pga_term_t *args, pga_job_done_fn done, void *ud);

/* ---- calling other nodes (client.c) ---- */
/* result: the value, or {badrpc, Reason}, as rpc:call returns it. */
typedef void (*pga_rpc_call_cb)(void *ud, const pga_term_t *result);
/* Calls node's m:f(args) the way erpc does. On 0 cb runs exactly once (on
 * the loop thread, never inside this call); on error it never runs.
 * timeout_ms 0 = infinity. PGA_ENODEDOWN for an invalid node name. */
int pga_rpc_call(pga_rpc_t *r, const char *node, const char *m,
                 const char *f, const pga_term_t *args, unsigned timeout_ms,
                 pga_rpc_call_cb cb, void *ud, uint64_t *call_id);
/* Forgets a call: its callback will not run. Unknown ids are ignored. */
void pga_rpc_call_cancel(pga_rpc_t *r, uint64_t call_id);
/* Calls in flight. */
size_t pga_rpc_calls_in_flight(const pga_rpc_t *r);

/* The calling process of a call (its pid term, verbatim; NULL buf for
 * calls without one). Valid until the call ends. */
pga_term_t pga__call_caller(const pga_call_t *call);
/* The calling process's group leader (verbatim pid term; NULL buf for
 * calls without one, e.g. casts with the atom user). Valid until the call
 * ends. */
pga_term_t pga__call_group_leader(const pga_call_t *call);

/* The layers of a node, for the planes wired in above rpc (node_api.c). */
pga_rpc_t *pga__node_rpc(pga_node_t *node);
pga_dist_t *pga__node_dist(pga_node_t *node);
pga_loop_t *pga__node_loop(pga_node_t *node);

/* The pga_node built-ins (builtins.c). */
int pga_rpc_builtins_init(pga_rpc_t *r);

#endif
