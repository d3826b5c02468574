/* What a running function can ask of the loop: printing to the caller's
 * group leader (distribution.md §14) and outgoing calls. A worker posts
 * the request to the loop thread and waits on the job's condition. */
#include "config.h"

#include <string.h>

#include "base/log.h"
#include "rpc/rpc_int.h"

void *pga_call_udata(const pga_call_t *call) {
  return ((const pga_job_t *)call)->fn->udata;
}

pga_node_t *pga_call_node(const pga_call_t *call) {
  return ((const pga_job_t *)call)->rpc->node;
}

const char *pga_call_caller_node(const pga_call_t *call) {
  const pga_job_t *job = (const pga_job_t *)call;
  pga_conn_t *c = pga_dist_conn_by_id(job->rpc->d, job->conn_id);
  return c ? pga_conn_node(c) : "";
}

int pga_call_cancelled(const pga_call_t *call) {
  return atomic_load(&((const pga_job_t *)call)->cancelled);
}

/* Loop thread: runs the worker's request unless the wait already ended
 * (cancelled), in which case the request, on the worker's stack, must not
 * be touched. Either way the worker may go once this has run: it never
 * returns while its post is queued, because the pool's completion (which
 * frees the job) could otherwise be delivered before the post. */
static void sync_trampoline(pga_loop_t *loop, void *data) {
  pga_job_t *job = data;
  pthread_mutex_lock(&job->mu);
  job->sync_posted = 0;
  int over = job->sync_done;
  if (over) pthread_cond_signal(&job->cv);
  pthread_mutex_unlock(&job->mu);
  /* sync_done is only set on this thread, so it stays 0 while fn runs. */
  if (!over) job->sync_fn(loop, job);
}

int pga__job_sync(pga_job_t *job, pga_loop_cb fn) {
  pthread_mutex_lock(&job->mu);
  job->sync_done = 0;
  job->sync_posted = 1;
  job->sync_fn = fn;
  pthread_mutex_unlock(&job->mu);
  if (pga_loop_post(job->rpc->loop, sync_trampoline, job) != 0) {
    pthread_mutex_lock(&job->mu);
    job->sync_posted = 0;
    pthread_mutex_unlock(&job->mu);
    return PGA_ENOMEM;
  }
  pthread_mutex_lock(&job->mu);
  while (!job->sync_done ||
         (job->sync_posted && !atomic_load(&job->rpc->stopping)))
    pthread_cond_wait(&job->cv, &job->mu);
  int rc = job->sync_rc;
  pthread_mutex_unlock(&job->mu);
  return rc;
}

void pga__job_wake(pga_job_t *job) {
  pthread_mutex_lock(&job->mu);
  pthread_cond_signal(&job->cv);
  pthread_mutex_unlock(&job->mu);
}

void pga__job_sync_finish(pga_job_t *job, int rc) {
  pthread_mutex_lock(&job->mu);
  if (!job->sync_done) {
    job->sync_done = 1;
    job->sync_rc = rc;
    pthread_cond_signal(&job->cv);
  }
  pthread_mutex_unlock(&job->mu);
}

/* ---- printing ---- */

typedef struct print_req_s {
  const char *text;
  size_t len;
} print_req_t;

static print_req_t *pending_print(pga_job_t *job) {
  return (print_req_t *)job->sync_result;
}

/* Loop thread: {io_request, JobPid, Ref, {put_chars, unicode, Bin}}. */
static void send_io_request(pga_loop_t *loop, void *data) {
  pga_job_t *job = data;
  print_req_t *pr = pending_print(job);
  if (atomic_load(&job->cancelled) || !job->proc || !job->gl.buf) {
    pga__job_sync_finish(job, PGA_ECANCELED);
    return;
  }
  pga_dist_make_ref(job->rpc->d, &job->io_ref);
  pga_tb_t msg;
  pga__tb_init(&msg, 0);
  pga__tb_version(&msg);
  pga_tb_tuple(&msg, 4);
  pga_tb_atom(&msg, "io_request");
  pga_dist_put_pid(job->rpc->d, &msg, job->id);
  pga__tb_ref(&msg, &job->io_ref);
  pga_tb_tuple(&msg, 3);
  pga_tb_atom(&msg, "put_chars");
  pga_tb_atom(&msg, "unicode");
  pga_tb_binary(&msg, pr->text, pr->len);
  int rc = pga_dist_send(job->rpc->d, job->id, &job->gl, &msg);
  pga__tb_destroy(&msg);
  if (rc != 0) pga__job_sync_finish(job, PGA_ENODEDOWN);
}

int pga_call_print(pga_call_t *call, const char *utf8, size_t len) {
  pga_job_t *job = (pga_job_t *)call;
  if (!job->proc) return PGA_EINVAL; /* inline functions cannot wait */
  print_req_t pr = {utf8, len};
  job->sync_result = (pga_tb_t *)&pr;
  int rc = pga__job_sync(job, send_io_request);
  job->sync_result = NULL;
  return rc;
}

/* {io_reply, Ref, Result} for our pending request ends the wait. */
void pga__job_message(pga_job_t *job, const pga_term_t *msg) {
  pga_term_t tag, ref;
  size_t arity;
  if (pga_term_tuple_arity(msg, &arity) != 0 || arity != 3 ||
      pga_term_tuple_get(msg, 0, &tag) != 0 ||
      !pga_term_is_atom(&tag, "io_reply") ||
      pga_term_tuple_get(msg, 1, &ref) != 0)
    return;
  erlang_ref got;
  if (pga__term_get_ref(&ref, &got) != 0 || got.len != job->io_ref.len ||
      memcmp(got.n, job->io_ref.n, sizeof(unsigned) * (size_t)got.len) != 0)
    return;
  /* One reply per request: a repeated or late reply must not end another
   * wait (a stream send, an outgoing call) of the same worker. */
  job->io_ref.len = 0;
  pga__job_sync_finish(job, 0);
}

/* ---- outgoing calls from a running function ---- */

typedef struct rpc_req_s {
  const char *node, *module, *function;
  const pga_term_t *args;
  unsigned timeout_ms;
  pga_tb_t *result;
} rpc_req_t;

static void rpc_result(void *ud, const pga_term_t *result) {
  pga_job_t *job = ud;
  job->out_call = 0;
  pthread_mutex_lock(&job->mu);
  if (!job->sync_done) { /* else the worker stopped waiting (cancelled) */
    rpc_req_t *rq = (rpc_req_t *)job->sync_result;
    pga_tb_term(rq->result, result);
    job->sync_done = 1;
    job->sync_rc = pga_tb_error(rq->result);
    pthread_cond_signal(&job->cv);
  }
  pthread_mutex_unlock(&job->mu);
}

static void start_rpc(pga_loop_t *loop, void *data) {
  pga_job_t *job = data;
  rpc_req_t *rq = (rpc_req_t *)job->sync_result;
  if (atomic_load(&job->cancelled)) {
    pga__job_sync_finish(job, PGA_ECANCELED);
    return;
  }
  int rc = pga_rpc_call(job->rpc, rq->node, rq->module, rq->function,
                        rq->args, rq->timeout_ms, rpc_result, job,
                        &job->out_call);
  if (rc == PGA_ENODEDOWN) {
    pga_tb_tuple(rq->result, 2);
    pga_tb_atom(rq->result, "badrpc");
    pga_tb_atom(rq->result, "nodedown");
    rc = 0;
    pga__job_sync_finish(job, 0);
  } else if (rc != 0) {
    pga__job_sync_finish(job, rc);
  }
}

int pga_call_rpc(pga_call_t *call, const char *node, const char *module,
                 const char *function, const pga_term_t *args,
                 unsigned timeout_ms, pga_tb_t *result) {
  pga_job_t *job = (pga_job_t *)call;
  if (!job->proc) return PGA_EINVAL;
  pga_tb_t tmp;
  pga__tb_init(&tmp, 0);
  rpc_req_t rq = {node, module, function, args, timeout_ms, &tmp};
  job->sync_result = (pga_tb_t *)&rq;
  int rc = pga__job_sync(job, start_rpc);
  job->sync_result = NULL;
  if (rc == 0) {
    pga_term_t t = pga_tb_data(&tmp);
    pga_tb_term(result, &t);
  }
  pga__tb_destroy(&tmp);
  return rc;
}
