/* Streams: a running function sends {result, D}, {last_result, D},
 * complete and {error, R} to a gateway's stream relay (request-plane.md
 * §1.3, §9.3). The worker posts each message to the loop and waits until
 * it is handed to the connection, so one stream has one message in flight.
 * Also pga_call_reply: the call's value sent before the function returns,
 * so that the relay forwards chunks while the function still produces
 * them (the relay holds every chunk until the call's value arrives).
 *
 * Invariants:
 * 1. A stream is opened once per call. A process of its own (not the
 *    job's, which ends with an early reply) monitors the relay and sends
 *    the chunks, until the stream ends or the job goes.
 * 2. The relay's death (DOWN), its node going down, or the job being
 *    cancelled (caller gone, deadline) cancels the call: waiting sends
 *    return PGA_ECANCELED and pga_call_cancelled() is true. A relay of
 *    our own (a :local config's stream in this gateway) is not monitored:
 *    a send that finds it gone cancels the call.
 * 3. While the connection holds more than PGA_STREAM_HIGH_WATER bytes, a
 *    send waits (polled every BACKOFF_MS); the worker is the one held back.
 * 4. After {last_result, _}, complete or {error, _} the relay is
 *    demonitored and further sends are PGA_EINVAL. */
#include "config.h"

#include <string.h>

#include "base/log.h"
#include "pga/plugin.h"
#include "rpc/rpc_int.h"

#define BACKOFF_MS 5

typedef enum {
  SR_OPEN,
  SR_RESULT,
  SR_LAST,
  SR_COMPLETE,
  SR_ERROR,
  SR_REPLY /* not a stream message: the call's early value */
} sr_kind_t;

typedef struct stream_req_s {
  sr_kind_t kind;
  const pga_term_t *term; /* info or pid (open), data, reason, or NULL */
} stream_req_t;

static void stream_on_message(pga_proc_t *p, pga_conn_t *c,
                              const pga_term_t *from, const pga_term_t *msg) {
  /* nobody has a reason to write to it: dropped */
}

static void stream_on_exit_signal(pga_proc_t *p, pga_conn_t *c,
                                  const pga_term_t *from,
                                  const pga_term_t *reason, int is_link) {
  /* not linked to anyone; an exit/2 aimed at it is ignored (it traps) */
}

static void stream_on_down(pga_proc_t *p, pga_conn_t *c, const pga_term_t *ref,
                           const pga_term_t *reason);

static const pga_proc_ops_t stream_ops = {
    .on_message = stream_on_message,
    .on_exit_signal = stream_on_exit_signal,
    .on_down = stream_on_down,
};

static stream_req_t *pending(pga_job_t *job) {
  return (stream_req_t *)job->sync_result;
}

/* The relay's pid: the term itself, or the info map's stream_pid. */
static int relay_pid(const pga_term_t *info, pga_term_t *pid) {
  if (!info) return PGA_EINVAL;
  if (pga_term_type(info) == PGA_T_PID) {
    *pid = *info;
    return 0;
  }
  if (pga_term_type(info) != PGA_T_MAP ||
      pga_term_map_get_atom(info, "stream_pid", pid) != 0 ||
      pga_term_type(pid) != PGA_T_PID)
    return PGA_EINVAL;
  return 0;
}

/* The relay is one of our processes (the gateway runs a :local config's
 * stream): messages are delivered in-process, and, with no monitor
 * between our own processes, each send checks that it still exists. */
static void open_local(pga_job_t *job, const pga_term_t *pid, uint64_t id) {
  pga_dist_t *d = job->rpc->d;
  if (!pga_proc_by_id(d, id)) {
    pga__job_sync_finish(job, PGA_ENODEDOWN);
    return;
  }
  pga__tb_init(&job->stream_pid, 0);
  pga_tb_term(&job->stream_pid, pid);
  job->stream_proc = pga_proc_new(d, &stream_ops, job);
  int rc = pga_tb_error(&job->stream_pid);
  if (rc == 0 && !job->stream_proc) rc = PGA_ENOMEM;
  if (rc != 0) {
    if (job->stream_proc) pga_proc_free(job->stream_proc);
    job->stream_proc = NULL;
    pga__tb_destroy(&job->stream_pid);
    pga__job_sync_finish(job, rc);
    return;
  }
  job->stream_local = id;
  job->stream_state = PGA__STREAM_OPEN;
  pga__job_sync_finish(job, 0);
}

static void do_open(pga_job_t *job, const pga_term_t *info) {
  pga_dist_t *d = job->rpc->d;
  pga_term_t pid;
  erlang_pid ep;
  if (job->stream_state != PGA__STREAM_NONE || relay_pid(info, &pid) != 0 ||
      pga__term_get_pid(&pid, &ep) != 0) {
    pga__job_sync_finish(job, PGA_EINVAL);
    return;
  }
  uint64_t local = pga_dist_local_pid_id(d, &pid);
  if (local) {
    open_local(job, &pid, local);
    return;
  }
  pga_conn_t *c = pga_dist_conn_get(d, ep.node);
  if (!c) {
    pga__job_sync_finish(job, PGA_ENODEDOWN);
    return;
  }
  pga__tb_init(&job->stream_pid, 0);
  pga_tb_term(&job->stream_pid, &pid);
  pga_dist_make_ref(d, &job->stream_ref);
  job->stream_proc = pga_proc_new(d, &stream_ops, job);
  int rc = pga_tb_error(&job->stream_pid);
  if (rc == 0 && !job->stream_proc) rc = PGA_ENOMEM;
  if (rc == 0)
    rc = pga_dist_monitor(d, job->stream_proc, c, &pid, &job->stream_ref);
  if (rc != 0) {
    if (job->stream_proc) pga_proc_free(job->stream_proc);
    job->stream_proc = NULL;
    pga__tb_destroy(&job->stream_pid);
    pga__job_sync_finish(job, rc == PGA_ENOMEM ? rc : PGA_ENODEDOWN);
    return;
  }
  job->stream_conn = pga_conn_id(c);
  job->stream_state = PGA__STREAM_OPEN;
  pga__job_sync_finish(job, 0);
}

/* Ends the stream on our side: no more sends, no more DOWN. demonitor is
 * 0 when the relay is gone already. */
static void end_stream(pga_job_t *job, int demonitor) {
  if (job->stream_state != PGA__STREAM_OPEN) return;
  job->stream_state = PGA__STREAM_ENDED;
  pga_conn_t *c = job->stream_local
                      ? NULL
                      : pga_dist_conn_by_id(job->rpc->d, job->stream_conn);
  pga_term_t pid = pga_tb_data(&job->stream_pid);
  if (c && demonitor)
    pga_dist_demonitor(job->rpc->d, job->stream_proc, c, &pid,
                       &job->stream_ref);
  pga_proc_free(job->stream_proc);
  job->stream_proc = NULL;
}

static void build_msg(pga_tb_t *msg, const stream_req_t *rq) {
  static const char *const tags[] = {NULL, "result", "last_result", NULL,
                                     "error"};
  pga__tb_version(msg);
  if (rq->kind == SR_COMPLETE) {
    pga_tb_atom(msg, "complete");
    return;
  }
  pga_tb_tuple(msg, 2);
  pga_tb_atom(msg, tags[rq->kind]);
  pga_tb_term(msg, rq->term);
}

static int64_t retry_send(pga_loop_t *loop, uint64_t id, void *data);
static void send_now(pga_job_t *job, const stream_req_t *rq);

static void cancel(pga_job_t *job);

static void do_send(pga_job_t *job) {
  const stream_req_t *rq = pending(job);
  if (job->stream_state != PGA__STREAM_OPEN) {
    pga__job_sync_finish(job, PGA_EINVAL);
    return;
  }
  if (job->stream_local) {
    if (!pga_proc_by_id(job->rpc->d, job->stream_local)) {
      end_stream(job, 0); /* the relay ended: as its DOWN would */
      cancel(job);
      return;
    }
    send_now(job, rq);
    return;
  }
  pga_conn_t *c = pga_dist_conn_by_id(job->rpc->d, job->stream_conn);
  if (!c) { /* the nodedown observer cancels the call; be safe anyway */
    pga__job_sync_finish(job, PGA_ENODEDOWN);
    return;
  }
  if (pga_conn_queued(c) > PGA_STREAM_HIGH_WATER) {
    job->stream_timer =
        pga_loop_timer(job->rpc->loop, BACKOFF_MS, retry_send, job);
    if (!job->stream_timer) pga__job_sync_finish(job, PGA_ENOMEM);
    return;
  }
  send_now(job, rq);
}

static void send_now(pga_job_t *job, const stream_req_t *rq) {
  pga_tb_t msg;
  pga__tb_init(&msg, 0);
  build_msg(&msg, rq);
  pga_term_t pid = pga_tb_data(&job->stream_pid);
  int rc = pga_tb_error(&msg);
  if (rc == 0)
    rc = pga_dist_send(job->rpc->d, pga_proc_id(job->stream_proc), &pid, &msg);
  pga__tb_destroy(&msg);
  if (rc == 0 && rq->kind != SR_RESULT) end_stream(job, 1);
  pga__job_sync_finish(job, rc);
}

/* Loop thread: the worker's request (it waits until this finishes it). */
static void on_request(pga_loop_t *loop, void *data) {
  pga_job_t *job = data;
  if (job->stream_timer) { /* cannot happen: one request at a time */
    pga_loop_timer_cancel(loop, job->stream_timer);
    job->stream_timer = 0;
  }
  if (atomic_load(&job->cancelled)) {
    pga__job_sync_finish(job, PGA_ECANCELED);
    return;
  }
  const stream_req_t *rq = pending(job);
  if (rq->kind == SR_OPEN) {
    do_open(job, rq->term);
  } else if (rq->kind == SR_REPLY) {
    int replied = job->reported;
    if (!replied) pga__job_reply(job, rq->term);
    pga__job_sync_finish(job, replied ? PGA_EINVAL : 0);
  } else {
    do_send(job);
  }
}

static int64_t retry_send(pga_loop_t *loop, uint64_t id, void *data) {
  pga_job_t *job = data;
  job->stream_timer = 0;
  /* Cancelled meanwhile: the wait is over (or about to be) and the
   * request may be gone with the worker's stack. */
  if (atomic_load(&job->cancelled))
    pga__job_sync_finish(job, PGA_ECANCELED);
  else
    do_send(job);
  return PGA_TIMER_NOMORE;
}

/* Worker side. */
static int stream_call(pga_call_t *call, sr_kind_t kind,
                       const pga_term_t *term) {
  pga_job_t *job = (pga_job_t *)call;
  /* `running` is written before the worker starts and after it returns,
   * so this thread reads it safely; inline functions have it 0. */
  if (!job || !job->running) return PGA_EINVAL;
  if (atomic_load(&job->cancelled)) return PGA_ECANCELED;
  if (kind != SR_OPEN && kind != SR_COMPLETE) {
    /* A corrupt term would drop the connection: check it here. */
    size_t used = 0;
    if (!term || pga__term_check(term->buf, term->len, &used) != 0 ||
        used != term->len)
      return PGA_EBADTERM;
  }
  stream_req_t rq = {kind, term};
  job->sync_result = (pga_tb_t *)&rq;
  int rc = pga__job_sync(job, on_request);
  job->sync_result = NULL;
  return rc;
}

int pga_stream_open(pga_call_t *call, const pga_term_t *info) {
  return stream_call(call, SR_OPEN, info);
}

int pga_stream_send_result(pga_call_t *call, const pga_term_t *data) {
  return stream_call(call, SR_RESULT, data);
}

int pga_stream_send_last_result(pga_call_t *call, const pga_term_t *data) {
  return stream_call(call, SR_LAST, data);
}

int pga_stream_complete(pga_call_t *call) {
  return stream_call(call, SR_COMPLETE, NULL);
}

int pga_stream_error(pga_call_t *call, const pga_term_t *reason) {
  return stream_call(call, SR_ERROR, reason);
}

int pga_call_reply(pga_call_t *call, const pga_term_t *value) {
  return stream_call(call, SR_REPLY, value);
}

/* ---- loop-side events ---- */

static void cancel(pga_job_t *job) {
  job->stream_lost = 1;
  atomic_store(&job->cancelled, 1);
  pga__job_sync_finish(job, PGA_ECANCELED);
}

static void stream_on_down(pga_proc_t *p, pga_conn_t *c, const pga_term_t *ref,
                           const pga_term_t *reason) {
  pga_job_t *job = pga_proc_data(p);
  erlang_ref got;
  if (job->stream_state != PGA__STREAM_OPEN ||
      pga__term_get_ref(ref, &got) != 0 || got.len != job->stream_ref.len ||
      memcmp(got.n, job->stream_ref.n, sizeof(unsigned) * (size_t)got.len))
    return;
  /* The relay is gone (stopped by its receiver, or killed): nobody will
   * forward what the function sends any more. */
  pga_debug("stream relay of %s:%s is down: call cancelled", job->module,
            job->function);
  end_stream(job, 0);
  cancel(job);
}

static void on_nodedown(void *ud, pga_conn_t *c) {
  pga_rpc_t *r = ud;
  uint64_t id = pga_conn_id(c);
  for (pga_job_t *job = r->job_list; job; job = job->next) {
    if (job->stream_state != PGA__STREAM_OPEN || job->stream_conn != id)
      continue;
    end_stream(job, 0);
    cancel(job);
  }
}

int pga__stream_init(pga_rpc_t *r) {
  return pga_dist_on_nodedown(r->d, on_nodedown, r);
}

void pga__stream_release(pga_job_t *job) {
  if (job->stream_timer)
    pga_loop_timer_cancel(job->rpc->loop, job->stream_timer);
  job->stream_timer = 0;
  if (job->stream_state == PGA__STREAM_NONE) return;
  end_stream(job, 1);
  job->stream_state = PGA__STREAM_NONE;
  job->stream_local = 0;
  pga__tb_destroy(&job->stream_pid);
}
