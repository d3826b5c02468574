/* Folder-private: the rpc layer's state and the job structure shared by
 * server.c, io.c, rex.c and node_api.c. */
#ifndef PGA_RPC_INT_H
#define PGA_RPC_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "base/dict.h"
#include "rpc/rpc.h"

struct pga_rpc_s {
  pga_dist_t *d;
  pga_pool_t *pool;
  pga_pool_t *bulk;        /* big calls are decoded there */
  int bulk_background;     /* its threads are background ones */
  pga_loop_t *loop;
  pga_node_t *node;
  size_t max_jobs;
  size_t jobs;             /* jobs alive (inline ones never count, but
                              big calls being decoded on a worker do) */
  size_t max_term;         /* arguments and results: pga_dist_max_term */
  pga_dict_t *fns;         /* registry key -> pga_fn_entry_t */
  pga_dict_t *modules;     /* module -> number of functions */
  /* client.c */
  pga_proc_t *client;
  pga_dict_t *calls;       /* our ref counter -> out_call */
  struct pga_job_s *job_list; /* every live job (server.c) */
  atomic_int stopping;     /* shutdown: the loop runs no more posts */
};

/* A PGA_FN_INLINE function that touches no loop state (no dist tables,
 * no outgoing calls): when its arguments are big it runs on a worker with
 * their decoding, so the loop only sends the reply. Built-ins only; the
 * embedding API strips it. */
#define PGA__FN_ANY_THREAD 0x100u

/* How a job reports its end. */
typedef enum {
  JOB_ERPC_CALL,   /* erpc:execute_call/4: DOWN reason carries the result */
  JOB_ERPC_CAST,   /* erpc:execute_cast/3: nothing reported */
  JOB_SPAWN,       /* plain spawn of the MFA: exit reason normal/crash */
  JOB_LOCAL        /* rex and internal callers: done callback */
} job_kind_t;

/* A call being served. Owned by the loop thread except `out`, `outcome`
 * and the sync fields while a worker runs it. */
typedef struct pga_job_s {
  pga_rpc_t *rpc;
  job_kind_t kind;
  pga_proc_t *proc;        /* NULL for inline jobs */
  uint64_t id;             /* our pid id */
  uint64_t conn_id;
  const pga_fn_entry_t *fn;
  pga_tb_t args;           /* normalised argument list (LIST_EXT) */
  pga_term_t *argv;
  size_t argc;
  pga_tb_t keep;           /* verbatim caller terms: res, gl, caller */
  pga_term_t res, gl, caller;
  pga_tb_t out;
  pga_outcome_t outcome;
  pga_tb_t reply;          /* the end's exit reason, version byte first,
                              built where the function ran; empty until */
  /* a big call decoded on a worker (server.c) */
  pga_packet_t *packet;    /* keeps req's views alive */
  const pga_ctrl_t *req;
  int req_flags;           /* SPAWN_REPLY_LINK | SPAWN_REPLY_MONITOR */
  int decode_rc;
  int ran;                 /* the function ran on that worker too */
  atomic_int cancelled;
  int running;             /* on a worker now */
  int reported;            /* end already sent */
  int deferred;            /* returned PGA_DEFER, not yet completed */
  pga_job_done_fn done;
  void *done_ud;
  /* a worker waiting for the loop (print, rpc) */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int sync_done;
  int sync_rc;
  int sync_posted;         /* our post has not run yet (io.c) */
  pga_loop_cb sync_fn;     /* what that post runs */
  pga_tb_t *sync_result;
  uint64_t out_call;       /* outgoing call in flight (io.c) */
  struct pga_job_s *prev, *next; /* in rpc->job_list */
  uint64_t deadline;       /* the function's deadline timer, 0 = none */
  /* the stream relay the function sends to (stream.c) */
  int stream_state;        /* PGA__STREAM_* */
  pga_tb_t stream_pid;     /* its pid, verbatim */
  pga_proc_t *stream_proc; /* our process that monitors it and sends */
  uint64_t stream_conn;    /* the connection to its node */
  uint64_t stream_local;   /* or its id when it is ours (a :local config's
                              relay in this gateway), else 0 */
  uint64_t stream_timer;   /* a send waiting for the queue to drain */
  int stream_lost;         /* cancelled because the relay went */
  /* Large parts, last: job_new zeroes only what comes before module
   * (4 KB of zeroes per call showed in the profile); the strings start
   * empty, the references with no words. */
  char module[PGA_ATOM_BUF];
  char function[PGA_ATOM_BUF];
  erlang_ref io_ref;       /* the io request in flight (io.c) */
  erlang_ref stream_ref;   /* the stream relay's monitor */
} pga_job_t;

enum { PGA__STREAM_NONE = 0, PGA__STREAM_OPEN, PGA__STREAM_ENDED };

/* Set-up and tear-down of the parts (each file's own). */
int pga__rex_init(pga_rpc_t *r);
int pga__client_init(pga_rpc_t *r);
void pga__client_free(pga_rpc_t *r);
void pga__server_init(pga_rpc_t *r);
void pga__gen_free(pga_proc_t *p);
extern const pga_dict_type_t pga__fn_dict_type;

/* server.c */
void pga__job_free(pga_job_t *job);
/* stream.c: the nodedown observer for relays; 0 or PGA_ENOMEM. */
int pga__stream_init(pga_rpc_t *r);
/* stream.c: a job ends: demonitor its relay, stop a waiting send. */
void pga__stream_release(pga_job_t *job);
/* server.c: reports value as the job's return now (pga_call_reply). */
void pga__job_reply(pga_job_t *job, const pga_term_t *value);
/* io.c: the job's process got a message (io replies). */
void pga__job_message(pga_job_t *job, const pga_term_t *msg);
/* io.c: from a worker, runs fn on the loop thread and waits for
 * pga__job_sync_finish. */
int pga__job_sync(pga_job_t *job, pga_loop_cb fn);
void pga__job_sync_finish(pga_job_t *job, int rc);
/* io.c: wakes the job's worker to re-check its wait (shutdown). */
void pga__job_wake(pga_job_t *job);

#endif
