/* Embedding pga: run a node in a process and serve C functions to
 * Erlang/Elixir callers ({Module, Function, Arity} over rpc/erpc). */
#ifndef PGA_NODE_H
#define PGA_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "pga/common.h"
#include "pga/term.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pga_node_s pga_node_t;

/* Options. Zero means "the default" for every field; unset fields must be
 * zero. Fields are only appended; struct_version says which exist. */
#define PGA_NODE_OPTS_VERSION 2
typedef struct pga_node_opts_s {
  int struct_version;          /* PGA_NODE_OPTS_VERSION */
  const char *name;            /* "gw@127.0.0.1", or "gw" (host added) */
  int short_names;             /* 1 = -sname cluster, 0 = -name cluster */
  const char *cookie;          /* required */
  unsigned tick_interval_ms;   /* 15000: must be <= net_ticktime / 4 */
  unsigned tick_timeout_ms;    /* 60000: peer silent this long is dead */
  unsigned setup_timeout_ms;   /* 7000: whole handshake */
  unsigned workers;            /* worker threads; default 2 * cores, >= 2 */
  size_t max_packet;           /* 128 MiB: larger packets drop the peer */
  size_t max_jobs;             /* 100000: spawn requests refused above */
  int listen_port;             /* 0 = any free port; else the first tried */
  const char *listen_addr;     /* "0.0.0.0"; an IPv4 or IPv6 literal */
  void *reserved[8];
  /* end of version 1 */
  int listen_port_max;         /* last port tried from listen_port (0 =
                                  listen_port only), as erl's
                                  inet_dist_listen_min/max */
  int no_epmd;                 /* 1: no epmd; listen on listen_port and
                                  reach peers on that port, as erl
                                  -erl_epmd_port */
  /* 64 MiB: the largest term a message may carry (bytes of external
   * format, no version byte): a call's argument list or result, a message
   * to one of our processes. Larger arguments are refused (badarg), larger
   * results fail (pga_bad_result), larger messages are dropped; packets
   * over twice this close the connection. */
  size_t max_term_bytes;
  /* end of version 2 */
} pga_node_opts_t;

/* Creates a node (not yet listening). On failure fills err and returns a
 * negative PGA_E* code with *out untouched. */
PGA_EXTERN int pga_node_new(const pga_node_opts_t *opts, pga_node_t **out,
                            char *err, size_t errlen) PGA_WARN_UNUSED;
/* Listens, registers with epmd (starting one if none answers). */
PGA_EXTERN int pga_node_start(pga_node_t *node, char *err, size_t errlen)
    PGA_WARN_UNUSED;
/* Runs the event loop until pga_node_stop(); then unpublishes and closes
 * every connection. Returns 0 on a clean stop. */
PGA_EXTERN int pga_node_run(pga_node_t *node);
/* Asks the loop to stop. Safe from any thread and from a signal handler. */
PGA_EXTERN void pga_node_stop(pga_node_t *node);
PGA_EXTERN void pga_node_free(pga_node_t *node);
/* Full node name, e.g. "gw@127.0.0.1". */
PGA_EXTERN const char *pga_node_name(const pga_node_t *node);

/* ---- Functions served to callers ---- */

/* How a function ended; the builder `out` then holds the value (RETURN,
 * THROW) or the reason (EXIT, ERROR). Callers see them as an Erlang
 * function's return, throw, exit and error. */
typedef enum {
  PGA_RETURN = 0,
  PGA_THROW = 1,
  PGA_EXIT = 2,
  PGA_ERROR = 3,
  /* PGA_FN_ASYNC functions only: the call ends later, through
   * pga_call_complete(); nothing is written to out. */
  PGA_DEFER = 4
} pga_outcome_t;

typedef struct pga_call_s pga_call_t;

/* argv holds the arguments (argc == the registered arity); each view is
 * valid during the call only. Writes exactly one term into out. */
typedef pga_outcome_t (*pga_fn_t)(pga_call_t *call, size_t argc,
                                  const pga_term_t *argv, pga_tb_t *out);

/* Flags of a function definition:
 * PGA_FN_INLINE runs the function on the event-loop thread: it must be
 *   quick and must not block (no pga_call_print / pga_call_rpc). Without it
 *   the function runs on the worker pool. */
#define PGA_FN_INLINE 0x1u
/* PGA_FN_ASYNC runs the function on the event-loop thread, like INLINE,
 *   but it may return PGA_DEFER and finish later from the loop thread with
 *   pga_call_complete() (e.g. after outgoing calls made with callbacks).
 *   The caller can monitor, link to and kill the call meanwhile. */
#define PGA_FN_ASYNC 0x2u

typedef struct pga_fn_def_s {
  const char *module;    /* exact atom, e.g. "Elixir.PgaExample.Math" */
  const char *function;
  unsigned arity;
  pga_fn_t fn;
  unsigned flags;        /* PGA_FN_* */
  void *udata;           /* given back by pga_call_udata() */
  unsigned timeout_ms;   /* 0 = no deadline; else exit {timeout, ...} */
  void *reserved[4];
} pga_fn_def_t;

/* Registers (or replaces) a function. Call before pga_node_run() or from
 * the loop thread. The strings are copied. */
PGA_EXTERN int pga_node_register_fn(pga_node_t *node, const pga_fn_def_t *def);

/* Inside a call. */
PGA_EXTERN void *pga_call_udata(const pga_call_t *call);
PGA_EXTERN pga_node_t *pga_call_node(const pga_call_t *call);
/* Name of the calling node. */
PGA_EXTERN const char *pga_call_caller_node(const pga_call_t *call);
/* 1 once the caller gave up (timeout, node down, exit signal): the result
 * will be discarded, so a long function may stop early. */
PGA_EXTERN int pga_call_cancelled(const pga_call_t *call);
/* Ends a call that returned PGA_DEFER, with outcome and value (copied).
 * Loop thread only; exactly once per deferred call, also when the caller
 * gave up meanwhile (the result is then dropped). */
PGA_EXTERN void pga_call_complete(pga_call_t *call, pga_outcome_t outcome,
                                  const pga_term_t *value);
/* Writes UTF-8 text to the caller's group leader (its shell) and waits for
 * the io_reply. Worker functions only. 0, PGA_ECANCELED, PGA_ENODEDOWN. */
PGA_EXTERN int pga_call_print(pga_call_t *call, const char *utf8, size_t len);
/* Calls Module:Function(Args) on node and waits (worker functions only).
 * args must be a list term. result receives what rpc:call would return:
 * the value, or {badrpc, Reason}. Returns 0 or a PGA_E* code for local
 * failures (result then untouched). */
PGA_EXTERN int pga_call_rpc(pga_call_t *call, const char *node,
                            const char *module, const char *function,
                            const pga_term_t *args, unsigned timeout_ms,
                            pga_tb_t *result);

#ifdef __cplusplus
}
#endif
#endif
