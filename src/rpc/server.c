/* Serving calls: a SPAWN_REQUEST (erpc, rpc, spawn) becomes a job that
 * runs a registered C function inline or on the worker pool and reports
 * its end as the BEAM would (distribution.md §10).
 *
 * Invariants:
 * 1. The SPAWN_REPLY is the first signal from a job's pid to its caller.
 * 2. A monitored job ends with exactly one MONITOR_P_EXIT unless the
 *    caller demonitored or its connection dropped (pitfall 7).
 * 3. A job's memory is freed only when no worker runs it any more.
 * 4. A worker job whose function has a deadline (timeout_ms) ends for its
 *    caller when the deadline passes, with exit {timeout, {M, F, Arity}};
 *    it is marked cancelled and the worker's late result is dropped.
 * 5. A function may reply before it returns (pga_call_reply): the caller
 *    gets that value, the function runs on (streaming) until it returns,
 *    is cancelled or passes its deadline; its return value is dropped.
 * 6. Work proportional to a call's size stays off the loop: a big call
 *    (one that arrived as a big packet) is decoded on a worker, where an
 *    ANY_THREAD function also runs; a worker function's end (its exit
 *    reason) is encoded on its worker; the loop sends such encoded ends
 *    without copying them. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "dist/ctrl.h"
#include "dist/proto.h"
#include "rpc/rpc_int.h"

static void job_on_message(pga_proc_t *p, pga_conn_t *c,
                           const pga_term_t *from, const pga_term_t *msg);
static void job_on_exit_signal(pga_proc_t *p, pga_conn_t *c,
                               const pga_term_t *from,
                               const pga_term_t *reason, int is_link);
static void job_on_watcher_lost(pga_proc_t *p, pga_conn_t *c);

static const pga_proc_ops_t job_ops = {
    .on_message = job_on_message,
    .on_exit_signal = job_on_exit_signal,
    .on_watcher_lost = job_on_watcher_lost,
};

/* An exit reason holds a result and the arguments (the stack frame). */
static size_t reason_cap(const pga_rpc_t *r) {
  return pga_dist_wrap_cap(r->d);
}

static pga_job_t *job_new(pga_rpc_t *r, job_kind_t kind) {
  pga_job_t *job = malloc(sizeof *job);
  if (!job) return NULL;
  memset(job, 0, offsetof(pga_job_t, module));
  job->module[0] = job->function[0] = '\0';
  job->io_ref.len = job->stream_ref.len = 0;
  job->io_ref.node[0] = job->stream_ref.node[0] = '\0';
  job->rpc = r;
  job->kind = kind;
  pga__tb_init(&job->args, r->max_term);
  pga__tb_init(&job->keep, 0);
  pga__tb_init(&job->out, r->max_term);
  pga__tb_init(&job->reply, reason_cap(r));
  atomic_init(&job->cancelled, 0);
  pthread_mutex_init(&job->mu, NULL);
  pthread_cond_init(&job->cv, NULL);
  job->next = r->job_list;
  if (r->job_list) r->job_list->prev = job;
  r->job_list = job;
  return job;
}

void pga_rpc_cancel_all(pga_rpc_t *r) {
  /* The loop has stopped: a worker must not wait for its post to run. */
  atomic_store(&r->stopping, 1);
  for (pga_job_t *job = r->job_list; job; job = job->next) {
    atomic_store(&job->cancelled, 1);
    pga__job_sync_finish(job, PGA_ECANCELED);
    pga__job_wake(job);
  }
}

void pga__job_free(pga_job_t *job) {
  if (job->prev) job->prev->next = job->next;
  else job->rpc->job_list = job->next;
  if (job->next) job->next->prev = job->prev;
  if (job->deadline) pga_loop_timer_cancel(job->rpc->loop, job->deadline);
  pga__stream_release(job);
  if (job->out_call) pga_rpc_call_cancel(job->rpc, job->out_call);
  if (job->proc) pga_proc_free(job->proc);
  if (job->proc) job->rpc->jobs--;
  pga__tb_destroy(&job->args);
  pga__tb_destroy(&job->keep);
  pga__tb_destroy(&job->out);
  pga__tb_destroy(&job->reply);
  pga_packet_release(job->packet);
  free(job->argv);
  pthread_mutex_destroy(&job->mu);
  pthread_cond_destroy(&job->cv);
  free(job);
}

/* Keeps verbatim copies of caller terms (distribution.md §7). */
static void keep_terms(pga_job_t *job, const pga_term_t *res,
                       const pga_term_t *gl, const pga_term_t *caller) {
  const pga_term_t *src[3] = {res, gl, caller};
  size_t off[3], len[3];
  for (int i = 0; i < 3; i++) {
    off[i] = (size_t)job->keep.x.index;
    len[i] = src[i] ? src[i]->len : 0;
    /* views of the message, checked on arrival: copied as they are */
    if (src[i]) pga__tb_raw(&job->keep, src[i]->buf, src[i]->len);
  }
  pga_term_t *dst[3] = {&job->res, &job->gl, &job->caller};
  for (int i = 0; i < 3; i++) {
    dst[i]->buf = len[i] ? job->keep.x.buff + off[i] : NULL;
    dst[i]->len = len[i];
  }
}

#define TAG_NIL 106
#define TAG_LIST 108

/* The usual argument list, one LIST_EXT cell ending in [] as a BEAM
 * sends it, is already normal: copied as it is, its elements found in
 * one walk (a big call's arguments are walked once here, not four times).
 * 1 if done, 0 for another form, or an error. */
static int set_plain_args(pga_job_t *job, const pga_term_t *args) {
  const unsigned char *b = (const unsigned char *)args->buf;
  if (args->len < 5 || b[0] != TAG_LIST || b[args->len - 1] != TAG_NIL)
    return 0;
  size_t n = ((size_t)b[1] << 24) | ((size_t)b[2] << 16) |
             ((size_t)b[3] << 8) | b[4];
  pga_term_iter_t it;
  if (n == 0 || n > args->len || pga_term_iter_init(&it, args) != 0)
    return 0;
  pga_term_t *argv = calloc(n, sizeof *argv);
  if (!argv) return PGA_ENOMEM;
  size_t k = 0;
  while (k < n && pga_term_iter_next(&it, &argv[k])) k++;
  size_t end = k ? (size_t)(argv[k - 1].buf - args->buf) + argv[k - 1].len : 0;
  /* The tail must be the list's last byte and that byte []: NIL_EXT is
   * the only one-byte term. */
  if (k != n || end + 1 != args->len) {
    free(argv);
    return 0;
  }
  pga__tb_raw(&job->args, args->buf, args->len);
  if (pga_tb_error(&job->args)) {
    free(argv);
    return PGA_EBADTERM; /* over max_term_bytes */
  }
  const char *copy = pga_tb_data(&job->args).buf;
  for (size_t i = 0; i < n; i++) argv[i].buf = copy + (argv[i].buf - args->buf);
  job->argv = argv;
  job->argc = n;
  return 1;
}

/* D9: each argument may nest PGA_TERM_MAX_DEPTH levels, counted on the
 * argument itself (the packet around it may add a few). A term needs a
 * byte per level, so shorter argument lists need no second look. */
static int args_too_deep(const pga_job_t *job, size_t list_len) {
  if (list_len <= PGA_TERM_MAX_DEPTH) return 0;
  for (size_t i = 0; i < job->argc; i++) {
    size_t used;
    if (pga__term_check(job->argv[i].buf, job->argv[i].len, &used) ==
        PGA_ETOOBIG)
      return 1;
  }
  return 0;
}

/* Normalises the argument list and splits it into argv views. */
static int set_args(pga_job_t *job, const pga_term_t *args) {
  int plain = set_plain_args(job, args);
  if (plain == 1) return args_too_deep(job, args->len) ? PGA_ETOOBIG : 0;
  if (plain != 0) return plain;
  pga__tb_list_normalized(&job->args, args);
  if (pga_tb_error(&job->args)) return PGA_EBADTERM;
  pga_term_t list = pga_tb_data(&job->args);
  /* One LIST_EXT (or []) now: the count is in its header. */
  const unsigned char *h = (const unsigned char *)list.buf;
  size_t n = list.len >= 5 && h[0] == ERL_LIST_EXT
                 ? (size_t)h[1] << 24 | (size_t)h[2] << 16 |
                       (size_t)h[3] << 8 | h[4]
                 : 0;
  job->argv = calloc(n ? n : 1, sizeof *job->argv);
  if (!job->argv) return PGA_ENOMEM;
  pga_term_iter_t it;
  if (pga_term_iter_init(&it, &list) != 0) return PGA_EBADTERM;
  while (job->argc < n && pga_term_iter_next(&it, &job->argv[job->argc]))
    job->argc++;
  pga_term_t tail;
  pga_term_iter_tail(&it, &tail);
  if (pga_term_type(&tail) != PGA_T_NIL) return PGA_EBADTERM;
  return args_too_deep(job, list.len) ? PGA_ETOOBIG : 0;
}

/* [{M, F, Args, []}]: the stack frame the BEAM reports for undef and for
 * our functions' errors. */
static void put_stack(pga_tb_t *tb, const pga_job_t *job) {
  pga_term_t args = pga_tb_data(&job->args);
  pga_tb_list(tb, 1);
  pga_tb_tuple(tb, 4);
  pga_tb_atom(tb, job->module);
  pga_tb_atom(tb, job->function);
  /* built from a checked message (set_args): no second check */
  if (args.len)
    pga__tb_raw(tb, args.buf, args.len);
  else
    pga_tb_term(tb, &args);
  pga_tb_nil(tb);
  pga_tb_nil(tb);
}

void pga_rpc_result_term(pga_tb_t *out, pga_outcome_t outcome,
                         const pga_term_t *value, const pga_term_t *stack) {
  if (outcome == PGA_RETURN || outcome == PGA_THROW) {
    pga_tb_term(out, value);
    return;
  }
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "badrpc");
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "EXIT");
  if (outcome == PGA_EXIT) {
    pga_tb_term(out, value);
    return;
  }
  pga_tb_tuple(out, 2);
  pga_tb_term(out, value);
  pga_tb_term(out, stack);
}

static const char *outcome_atom(pga_outcome_t o) {
  switch (o) {
    case PGA_RETURN: return "return";
    case PGA_THROW: return "throw";
    case PGA_EXIT: return "exit";
    default: return "error";
  }
}

/* The exit reason a job reports (distribution.md §10.2 table). */
/* A value checked already (a job's own result: run_fn checks it) is
 * copied without a second walk. */
static void put_value(pga_tb_t *tb, const pga_term_t *value, int checked) {
  if (checked)
    pga__tb_raw(tb, value->buf, value->len);
  else
    pga_tb_term(tb, value);
}

static void build_reason(pga_tb_t *tb, const pga_job_t *job,
                         pga_outcome_t outcome, const pga_term_t *value,
                         int checked) {
  if (job->kind == JOB_ERPC_CALL) {
    pga_tb_tuple(tb, outcome == PGA_ERROR ? 4 : 3);
    pga_tb_term(tb, &job->res);
    pga_tb_atom(tb, outcome_atom(outcome));
    put_value(tb, value, checked);
    if (outcome == PGA_ERROR) put_stack(tb, job);
    return;
  }
  switch (outcome) {
    case PGA_RETURN: pga_tb_atom(tb, "normal"); break;
    case PGA_EXIT: put_value(tb, value, checked); break;
    case PGA_THROW:
      pga_tb_tuple(tb, 2);
      pga_tb_tuple(tb, 2);
      pga_tb_atom(tb, "nocatch");
      put_value(tb, value, checked);
      put_stack(tb, job);
      break;
    default:
      pga_tb_tuple(tb, 2);
      put_value(tb, value, checked);
      put_stack(tb, job);
      break;
  }
}

static void report_local(pga_job_t *job, pga_outcome_t outcome,
                         const pga_term_t *value) {
  pga_tb_t result;
  pga__tb_init(&result, reason_cap(job->rpc));
  pga_tb_t stack;
  pga__tb_init(&stack, reason_cap(job->rpc));
  put_stack(&stack, job);
  pga_term_t st = pga_tb_data(&stack);
  pga_rpc_result_term(&result, outcome, value, &st);
  pga_term_t rt = pga_tb_data(&result);
  job->done(job->done_ud, &rt);
  pga__tb_destroy(&result);
  pga__tb_destroy(&stack);
}

static void log_cast_failure(const pga_job_t *job, pga_outcome_t outcome,
                             const pga_term_t *value) {
  if (outcome == PGA_RETURN) return;
  char text[512];
  pga_term_format(value, text, sizeof text);
  pga_warn("cast %s:%s/%zu failed (%s): %s", job->module, job->function,
           job->argc, outcome_atom(outcome), text);
}

/* Sends a packet whose payload, if the peer takes exit payloads, is the
 * reason (version first); the last send hands the buffer over. */
static void send_reason(pga_conn_t *c, const pga_tb_t *ctrl, int sep,
                        pga_tb_t *reason_v, int last) {
  if (!sep)
    pga_conn_send(c, ctrl, NULL);
  else if (last)
    pga_conn_send_take(c, ctrl, reason_v);
  else
    pga_conn_send(c, ctrl, reason_v);
}

/* Sends the end of an inline job (no proc) to its caller; reason_v is
 * the reason with its version byte (given up to the connection). */
static void report_direct(pga_job_t *job, pga_conn_t *c,
                          const pga_term_t *req_id, int flags,
                          pga_tb_t *reason_v) {
  pga_term_t reason = pga_tb_data(reason_v);
  reason.buf++, reason.len--;
  uint64_t cf = pga_conn_flags(c);
  int sep = pga_ctrl_reason_is_payload(cf);
  int sends = !!(flags & SPAWN_REPLY_MONITOR) + !!(flags & SPAWN_REPLY_LINK);
  pga_tb_t ctrl;
  pga__tb_init(&ctrl, 0);
  if (flags & SPAWN_REPLY_MONITOR) {
    pga_ctrl_monitor_exit(&ctrl, job->rpc->d, job->id, NULL, &job->caller,
                          req_id, &reason, cf);
    send_reason(c, &ctrl, sep, reason_v, --sends == 0);
  }
  if (flags & SPAWN_REPLY_LINK) {
    pga_tb_reset(&ctrl);
    pga_ctrl_exit(&ctrl, job->rpc->d, job->id, &job->caller, &reason, cf);
    send_reason(c, &ctrl, sep, reason_v, --sends == 0);
  }
  pga__tb_destroy(&ctrl);
}

/* Sends a job's end, encoded (version first) in reason_v, to whoever
 * waits: its process's watchers, or the caller of an inline job. */
static void report_reason(pga_job_t *job, pga_conn_t *c,
                          const pga_term_t *req_id, int flags,
                          pga_tb_t *reason_v) {
  if (job->proc) {
    pga_proc_t *p = job->proc;
    job->proc = NULL;
    job->rpc->jobs--;
    pga_proc_exit_encoded(p, reason_v);
  } else if (c) {
    report_direct(job, c, req_id, flags, reason_v);
  }
}

/* Builds the exit reason of a job ending with outcome and value, version
 * first, into tb; a reason over the cap becomes error pga_bad_result. */
static void encode_reason(pga_tb_t *tb, const pga_job_t *job,
                          pga_outcome_t outcome, const pga_term_t *value,
                          int checked) {
  pga_tb_reset(tb);
  pga__tb_version(tb);
  if (job->kind == JOB_ERPC_CAST)
    pga_tb_atom(tb, "normal");
  else
    build_reason(tb, job, outcome, value, checked);
  if (!pga_tb_error(tb)) return;
  pga_tb_t why;
  pga__tb_init(&why, 0);
  pga_tb_atom(&why, "pga_bad_result");
  pga_term_t w = pga_tb_data(&why);
  pga_tb_reset(tb);
  pga__tb_version(tb);
  build_reason(tb, job, PGA_ERROR, &w, 1);
  pga__tb_destroy(&why);
}

/* Encodes the job's own end where it ran (a worker), so that reporting
 * it costs the loop no walk and no copy of a big result. */
static void encode_own_reply(pga_job_t *job) {
  if (job->kind != JOB_ERPC_CALL && job->kind != JOB_SPAWN) return;
  pga_term_t value = pga_tb_data(&job->out);
  encode_reason(&job->reply, job, job->outcome, &value, 1);
}

/* Reports the end of a job, with this outcome and value, to whoever
 * waits for it; once. */
static void report_value(pga_job_t *job, pga_conn_t *c,
                         const pga_term_t *req_id, int flags,
                         pga_outcome_t outcome, const pga_term_t *value) {
  if (job->reported) return;
  job->reported = 1;
  if (job->kind == JOB_LOCAL) {
    report_local(job, outcome, value);
    return;
  }
  if (job->kind == JOB_ERPC_CAST) log_cast_failure(job, outcome, value);
  pga_tb_t reason;
  pga__tb_init(&reason, reason_cap(job->rpc));
  encode_reason(&reason, job, outcome, value, 0);
  report_reason(job, c, req_id, flags, &reason);
  pga__tb_destroy(&reason);
}

void pga__job_reply(pga_job_t *job, const pga_term_t *value) {
  report_value(job, NULL, NULL, 0, PGA_RETURN, value);
}

/* Reports a finished job: the function's own outcome and value, from its
 * encoded end when the worker built it. */
static void report(pga_job_t *job, pga_conn_t *c, const pga_term_t *req_id,
                   int flags) {
  if (!job->reported && pga_tb_data(&job->reply).len > 0) {
    job->reported = 1;
    report_reason(job, c, req_id, flags, &job->reply);
    return;
  }
  pga_term_t value = pga_tb_data(&job->out);
  report_value(job, c, req_id, flags, job->outcome, &value);
}

static void undef(pga_job_t *job) {
  job->outcome = PGA_ERROR;
  pga_tb_reset(&job->out);
  pga_tb_atom(&job->out, "undef");
}

static void run_fn(pga_job_t *job) {
  pga_tb_reset(&job->out);
  job->outcome = job->fn->fn((pga_call_t *)job, job->argc, job->argv,
                             &job->out);
  if (job->outcome == PGA_DEFER && (job->fn->flags & PGA_FN_ASYNC)) {
    job->deferred = 1;
    return;
  }
  size_t used = 0;
  pga_term_t t = pga_tb_data(&job->out);
  if (pga_tb_error(&job->out) || (unsigned)job->outcome > PGA_ERROR ||
      pga__term_check(t.buf, t.len, &used) != 0 || used != t.len) {
    /* The function built an invalid, incomplete or oversized term (or no
     * term, or several), or returned no outcome: say so rather than send
     * a corrupt one (that would drop the connection). O(result size). */
    pga_tb_reset(&job->out);
    job->outcome = PGA_ERROR;
    pga_tb_atom(&job->out, "pga_bad_result");
  }
}

static void work(void *data) {
  pga_job_t *job = data;
  run_fn(job);
  if (!atomic_load(&job->cancelled)) encode_own_reply(job);
}

static void work_done(void *data, int status) {
  pga_job_t *job = data;
  job->running = 0;
  if (status != 0) {
    job->outcome = PGA_EXIT;
    pga_tb_reset(&job->out);
    pga_tb_atom(&job->out, "shutdown");
  }
  /* A cancelled job's result is dropped (nobody waits, or the node shuts
   * down), except when only its stream relay went: a caller that still
   * monitors it gets the result. Jobs ended early (exit signal, deadline)
   * are reported already. */
  if (!atomic_load(&job->cancelled) || job->stream_lost)
    report(job, NULL, NULL, 0);
  pga__job_free(job);
}

/* The deadline passed: the caller sees exit {timeout, {M, F, Arity}} now;
 * the worker is told (pga_call_cancelled) and its result is dropped. */
static int64_t on_deadline(pga_loop_t *loop, uint64_t id, void *data) {
  pga_job_t *job = data;
  job->deadline = 0;
  atomic_store(&job->cancelled, 1);
  pga__job_sync_finish(job, PGA_ECANCELED);
  pga_tb_t why;
  pga__tb_init(&why, 0);
  pga_tb_tuple(&why, 2);
  pga_tb_atom(&why, "timeout");
  pga_tb_tuple(&why, 3);
  pga_tb_atom(&why, job->module);
  pga_tb_atom(&why, job->function);
  pga_tb_uint(&why, job->argc);
  pga_term_t v = pga_tb_data(&why);
  pga_debug("%s:%s/%zu passed its deadline of %u ms", job->module,
            job->function, job->argc, job->fn->timeout_ms);
  report_value(job, NULL, NULL, 0, PGA_EXIT, &v);
  pga__tb_destroy(&why);
  return PGA_TIMER_NOMORE;
}

/* Starts a job whose proc exists: on a worker, or inline for INLINE
 * functions and errors. */
static void start_job(pga_job_t *job) {
  if (job->fn && !(job->fn->flags & (PGA_FN_INLINE | PGA_FN_ASYNC))) {
    job->running = 1;
    if (pga_pool_submit(job->rpc->pool, work, work_done, job) == 0) {
      if (job->fn->timeout_ms)
        job->deadline = pga_loop_timer(job->rpc->loop, job->fn->timeout_ms,
                                       on_deadline, job);
      return;
    }
    job->running = 0;
    job->outcome = PGA_EXIT;
    pga_tb_reset(&job->out);
    pga_tb_atom(&job->out, "system_limit");
  } else if (job->fn) {
    run_fn(job);
    if (job->deferred) return; /* pga_call_complete ends it */
  } else {
    undef(job);
  }
  report(job, NULL, NULL, 0);
  pga__job_free(job);
}

void pga_call_complete(pga_call_t *call, pga_outcome_t outcome,
                       const pga_term_t *value) {
  pga_job_t *job = (pga_job_t *)call;
  if (!job->deferred) return;
  job->deferred = 0;
  job->outcome = outcome;
  pga_tb_reset(&job->out);
  pga_tb_term(&job->out, value);
  if (pga_tb_error(&job->out) || (unsigned)outcome > PGA_ERROR) {
    pga_tb_reset(&job->out);
    job->outcome = PGA_ERROR;
    pga_tb_atom(&job->out, "pga_bad_result");
  }
  if (!atomic_load(&job->cancelled)) report(job, NULL, NULL, 0);
  pga__job_free(job);
}

pga_term_t pga__call_caller(const pga_call_t *call) {
  return ((const pga_job_t *)call)->caller;
}

pga_term_t pga__call_group_leader(const pga_call_t *call) {
  return ((const pga_job_t *)call)->gl;
}

/* ---- SPAWN_REQUEST ---- */

typedef struct spawn_req_s {
  const pga_term_t *req_id, *from, *gl, *mfa, *opts, *args;
  int flags;             /* SPAWN_REPLY_LINK | SPAWN_REPLY_MONITOR */
} spawn_req_t;

static int parse_opts(const pga_term_t *opts, int *flags) {
  pga_term_iter_t it;
  pga_term_t o;
  if (pga_term_iter_init(&it, opts) != 0) return PGA_EPROTO;
  while (pga_term_iter_next(&it, &o)) {
    if (pga_term_is_atom(&o, "link")) *flags |= SPAWN_REPLY_LINK;
    if (pga_term_is_atom(&o, "monitor")) *flags |= SPAWN_REPLY_MONITOR;
    /* {monitor, MonOpts} also asks for a monitor; others are ignored */
    pga_term_t first;
    if (pga_term_type(&o) == PGA_T_TUPLE &&
        pga_term_tuple_get(&o, 0, &first) == 0 &&
        pga_term_is_atom(&first, "monitor"))
      *flags |= SPAWN_REPLY_MONITOR;
  }
  return 0;
}

static int get_atom_el(const pga_term_t *t, size_t i, char *out) {
  pga_term_t el;
  if (pga_term_tuple_get(t, i, &el) != 0) return PGA_EPROTO;
  return pga_term_get_atom(&el, out, PGA_ATOM_BUF);
}

/* Fills the job's MFA and args from the request: erpc's wrappers carry
 * the real MFA in the payload. */
static int decode_target(pga_job_t *job, const spawn_req_t *rq) {
  char m[PGA_ATOM_BUF], f[PGA_ATOM_BUF];
  if (get_atom_el(rq->mfa, 0, m) || get_atom_el(rq->mfa, 1, f))
    return PGA_EPROTO;
  int erpc = !strcmp(m, "erpc");
  size_t want = 0;
  if (erpc && !strcmp(f, "execute_call")) job->kind = JOB_ERPC_CALL, want = 4;
  if (erpc && !strcmp(f, "execute_cast")) job->kind = JOB_ERPC_CAST, want = 3;
  if (!want) {
    snprintf(job->module, sizeof job->module, "%s", m);
    snprintf(job->function, sizeof job->function, "%s", f);
    keep_terms(job, NULL, rq->gl, rq->from);
    return set_args(job, rq->args);
  }
  pga_term_t el[4];
  pga_term_iter_t it;
  size_t n = 0;
  if (pga_term_iter_init(&it, rq->args) != 0) return PGA_EPROTO;
  while (n < 4 && pga_term_iter_next(&it, &el[n])) n++;
  if (n != want) return PGA_EPROTO;
  size_t at = want == 4 ? 1 : 0;
  if (pga_term_get_atom(&el[at], job->module, PGA_ATOM_BUF) ||
      pga_term_get_atom(&el[at + 1], job->function, PGA_ATOM_BUF))
    return PGA_EPROTO;
  keep_terms(job, want == 4 ? &el[0] : NULL, rq->gl, rq->from);
  return set_args(job, &el[at + 2]);
}

static void refuse(pga_rpc_t *r, pga_conn_t *c, const spawn_req_t *rq,
                   const char *why) {
  pga_tb_t ctrl;
  pga__tb_init(&ctrl, 0);
  pga_ctrl_spawn_reply(&ctrl, r->d, rq->req_id, rq->from, 0, 0, why);
  pga_conn_send(c, &ctrl, NULL);
  pga__tb_destroy(&ctrl);
}

static void spawn_reply(pga_rpc_t *r, pga_conn_t *c, const spawn_req_t *rq,
                        uint64_t job_id) {
  pga_tb_t ctrl;
  pga__tb_init(&ctrl, 0);
  pga_ctrl_spawn_reply(&ctrl, r->d, rq->req_id, rq->from, rq->flags, job_id,
                       NULL);
  pga_conn_send(c, &ctrl, NULL);
  pga__tb_destroy(&ctrl);
}

/* An inline function: reply, run, report, with no process table entry. */
static void serve_inline(pga_job_t *job, pga_conn_t *c, const spawn_req_t *rq) {
  job->id = pga__dist_next_pid(job->rpc->d);
  job->conn_id = pga_conn_id(c); /* pga_call_caller_node */
  spawn_reply(job->rpc, c, rq, job->id);
  if (job->fn)
    run_fn(job);
  else
    undef(job);
  report(job, c, rq->req_id, rq->flags);
  pga__job_free(job);
}

static int attach_proc(pga_job_t *job, pga_conn_t *c, const spawn_req_t *rq) {
  job->proc = pga_proc_new(job->rpc->d, &job_ops, job);
  if (!job->proc) return PGA_ENOMEM;
  job->rpc->jobs++;
  job->id = pga_proc_id(job->proc);
  job->conn_id = pga_conn_id(c);
  int rc = 0;
  if (rq->flags & SPAWN_REPLY_MONITOR)
    rc = pga_proc_add_monitor(job->proc, c, rq->from, rq->req_id);
  if (rc == 0 && (rq->flags & SPAWN_REPLY_LINK))
    rc = pga_proc_add_link(job->proc, c, rq->from);
  return rc;
}

static spawn_req_t spawn_req_of(const pga_ctrl_t *m, int flags) {
  spawn_req_t rq = {&m->e[1], &m->e[2], &m->e[3], &m->e[4], &m->e[5],
                    &m->payload, flags};
  return rq;
}

/* A decoded call: served inline, or given a process and started. */
static void serve(pga_rpc_t *r, pga_job_t *job, pga_conn_t *c,
                  const spawn_req_t *rq) {
  job->fn = pga_rpc_lookup(r, job->module, job->function, (unsigned)job->argc);
  if (!job->fn || (job->fn->flags & PGA_FN_INLINE)) {
    serve_inline(job, c, rq);
    return;
  }
  if (attach_proc(job, c, rq) != 0) {
    pga__job_free(job);
    refuse(r, c, rq, "system_limit");
    return;
  }
  spawn_reply(r, c, rq, job->id);
  start_job(job);
}

/* ---- big calls: decoded (and maybe run) on a worker ---- */

static void big_work(void *data) {
  pga_job_t *job = data;
  if (job->rpc->bulk_background) pga_thread_background();
  spawn_req_t rq = spawn_req_of(job->req, job->req_flags);
  job->decode_rc = decode_target(job, &rq);
  if (job->decode_rc != 0) return;
  job->fn = pga_rpc_lookup(job->rpc, job->module, job->function,
                           (unsigned)job->argc);
  if (job->fn && !(job->fn->flags & PGA__FN_ANY_THREAD)) return;
  if (job->fn)
    run_fn(job);
  else
    undef(job);
  encode_own_reply(job);
  job->ran = 1;
  if (pga_tb_data(&job->reply).len == 0) return;
  /* The end is encoded: the copies go back here, not on the loop. */
  pga__tb_destroy(&job->args);
  pga__tb_destroy(&job->out);
  job->argc = 0;
}

static void big_done(void *data, int status) {
  pga_job_t *job = data;
  pga_rpc_t *r = job->rpc;
  r->jobs--;
  pga_conn_t *c = pga_dist_conn_by_id(r->d, job->conn_id);
  pga_packet_t *packet = job->packet; /* rq's views live until released */
  job->packet = NULL;
  spawn_req_t rq = spawn_req_of(job->req, job->req_flags);
  if (status != 0 || !c || !pga_conn_is_up(c)) {
    pga__job_free(job); /* nobody left to answer */
  } else if (job->decode_rc != 0) {
    int too_deep = job->decode_rc == PGA_ETOOBIG;
    pga__job_free(job);
    refuse(r, c, &rq, too_deep ? "system_limit" : "badarg");
  } else if (job->ran) {
    job->id = pga__dist_next_pid(r->d);
    spawn_reply(r, c, &rq, job->id);
    report(job, c, rq.req_id, rq.flags);
    pga__job_free(job);
  } else {
    serve(r, job, c, &rq);
  }
  pga_packet_release(packet);
}

/* Sends a call that came as a big packet to a worker; 0 if it went. */
static int decode_off_loop(pga_job_t *job, pga_conn_t *c, const pga_ctrl_t *m,
                           int flags) {
  pga_rpc_t *r = job->rpc;
  if (!m->packet || !r->bulk) return -1;
  job->packet = pga_packet_retain(m);
  job->req = m;
  job->req_flags = flags;
  job->conn_id = pga_conn_id(c);
  if (pga_pool_submit(r->bulk, big_work, big_done, job) == 0) {
    r->jobs++;
    return 0;
  }
  pga_packet_release(job->packet);
  job->packet = NULL;
  job->req = NULL;
  return -1;
}

static void on_spawn_request(void *ud, pga_conn_t *c, const pga_ctrl_t *m) {
  pga_rpc_t *r = ud;
  spawn_req_t rq = spawn_req_of(m, 0);
  if (parse_opts(rq.opts, &rq.flags) != 0) return;
  if (r->jobs >= r->max_jobs) {
    refuse(r, c, &rq, "system_limit");
    return;
  }
  pga_job_t *job = job_new(r, JOB_SPAWN);
  if (!job) {
    refuse(r, c, &rq, "system_limit");
    return;
  }
  if (decode_off_loop(job, c, m, rq.flags) == 0) return;
  int rc = decode_target(job, &rq);
  if (rc != 0) {
    pga__job_free(job);
    refuse(r, c, &rq, rc == PGA_ETOOBIG ? "system_limit" : "badarg");
    return;
  }
  serve(r, job, c, &rq);
}

void pga__server_init(pga_rpc_t *r) {
  pga_dist_on_spawn_request(r->d, on_spawn_request, r);
  if (pga__stream_init(r) != 0)
    pga_warn("no nodedown observer left for stream relays");
}

int pga_rpc_run(pga_rpc_t *r, pga_conn_t *c, const pga_term_t *caller,
                const pga_term_t *gl, const char *m, const char *f,
                const pga_term_t *args, pga_job_done_fn done, void *ud) {
  if (r->jobs >= r->max_jobs) return PGA_EBUSY;
  pga_job_t *job = job_new(r, JOB_LOCAL);
  if (!job) return PGA_ENOMEM;
  snprintf(job->module, sizeof job->module, "%s", m);
  snprintf(job->function, sizeof job->function, "%s", f);
  keep_terms(job, NULL, gl, caller);
  int rc = set_args(job, args);
  job->proc = rc == 0 ? pga_proc_new(r->d, &job_ops, job) : NULL;
  if (!job->proc) {
    pga__job_free(job);
    return rc ? rc : PGA_ENOMEM;
  }
  r->jobs++;
  job->id = pga_proc_id(job->proc);
  job->conn_id = c ? pga_conn_id(c) : 0;
  job->done = done;
  job->done_ud = ud;
  job->fn = pga_rpc_lookup(r, m, f, (unsigned)job->argc);
  start_job(job);
  return 0;
}

/* ---- signals to a job's process ---- */

static void job_on_message(pga_proc_t *p, pga_conn_t *c,
                           const pga_term_t *from, const pga_term_t *msg) {
  pga__job_message(pga_proc_data(p), msg);
}

/* Ends a job early: its watchers see reason, the worker's result is
 * dropped when it comes. */
static void job_kill(pga_job_t *job, const pga_term_t *reason) {
  atomic_store(&job->cancelled, 1);
  pga__job_sync_finish(job, PGA_ECANCELED);
  if (job->reported || !job->proc) return;
  job->reported = 1;
  pga_proc_t *p = job->proc;
  job->proc = NULL;
  job->rpc->jobs--;
  pga_proc_exit(p, reason);
}

static void job_on_exit_signal(pga_proc_t *p, pga_conn_t *c,
                               const pga_term_t *from,
                               const pga_term_t *reason, int is_link) {
  pga_job_t *job = pga_proc_data(p);
  if (pga_term_is_atom(reason, "normal")) return;
  pga_tb_t killed;
  pga__tb_init(&killed, 0);
  pga_tb_atom(&killed, "killed");
  pga_term_t k = pga_tb_data(&killed);
  job_kill(job, pga_term_is_atom(reason, "kill") ? &k : reason);
  pga__tb_destroy(&killed);
}

static void job_on_watcher_lost(pga_proc_t *p, pga_conn_t *c) {
  pga_job_t *job = pga_proc_data(p);
  if (pga_proc_watchers(p) > 0 || job->kind == JOB_LOCAL) return;
  /* Nobody waits for the result any more (distribution.md §10.3). */
  atomic_store(&job->cancelled, 1);
  pga__job_sync_finish(job, PGA_ENODEDOWN);
}
