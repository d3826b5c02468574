/* One service's pull in a puller round (spec §5.3): version probe, full
 * pull with node fallback, Code.ensure_loaded? probes on the serving node,
 * then one commit under the plane lock (failed records, batch_add,
 * api_list and stored version).
 *
 * A job is a small state machine on the loop thread:
 *
 *   start --no nodes (:no_valid_nodes), args not a list ({:exception, ..})--> FAILED
 *     | version probe enabled?                  no
 *     v yes  ------------------------------------------> FULL(node 0)
 *   PROBE(node i)  {:badrpc, _}: node i+1; all badrpc: probe failed -> FULL
 *     | reply == stored version (Erlang ==): SKIPPED
 *     | else -> FULL(node 0)
 *   FULL(node i)   {:ok, list} -> MODULES; anything else: node i+1, the last
 *     |            node's answer is the failure
 *   MODULES(m j)   ensure_loaded?(m) on the serving node for each distinct
 *     |            module: true/false/{:badrpc, r} noted; anything else
 *     |            fails the service with {:exception, ..}
 *     v
 *   commit -> OK
 *
 * Invariants:
 *   1. At most one call is in flight per job, and a job never starts a
 *      call from inside the rpc layer's callback: replies are copied and
 *      processed from a 0 ms step timer. (A nodedown walks the call table
 *      and finishes each call; a call started from that walk would add to
 *      the table being walked.)
 *   2. One deadline timer (pull_timeout + 1000 ms) covers the job: on
 *      expiry the call in flight is cancelled and the job fails with
 *      {:task_exit, :timeout}. Store writes happen only in the final
 *      commit, so an abandoned job has written nothing.
 *   3. ctx->done runs exactly once per started job, and the job is freed
 *      only by its round (after done), never from its own callbacks. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "config/puller_int.h"
#include "pga/errno.h"
#include "term/inspect.h"
#include "term/term.h"

typedef enum { J_IDLE, J_PROBE, J_FULL, J_MODULES, J_DONE } jstate_t;
typedef enum { V_DISABLED, V_FAILED, V_GOT } vprobe_t;
typedef enum { M_PENDING, M_TRUE, M_FALSE, M_BADRPC } verdict_t;

typedef struct module_s {
  pga__cterm_t atom;
  verdict_t verdict;
  pga__cterm_t badrpc; /* the reason r of {:badrpc, r} */
} module_t;

struct pga_pull_job_s {
  const pga_pull_ctx_t *ctx;
  pga__rec_t *sc;
  pga__cterm_t stored; /* the stored version; nil when never stored */
  char **nodes;
  size_t nnodes;
  jstate_t state;
  size_t ni;           /* node being asked */
  uint64_t call;
  int in_call;
  uint64_t step_timer, deadline;
  pga_tb_t reply;      /* the last answer, copied */
  vprobe_t vprobe;
  pga__cterm_t remote_version;
  pga__cterm_t list;   /* the pulled list */
  size_t served_by;
  module_t *mods;
  size_t nmods, mi;
  pga_dict_t *mod_index; /* module atom -> index + 1 */
  char *reason;        /* failure, for the log */
  int64_t started_us;  /* the pull's start (telemetry) */
  size_t pulled;       /* valid FunConfigs of a successful pull */
  int skipped;         /* the version probe matched */
};

/* ---- helpers ---- */

static char *dup_inspect2(const char *fmt, const pga_term_t *a,
                          const pga_term_t *b, const pga_term_t *c) {
  char *sa = pga_term_inspect_dup(a);
  char *sb = b ? pga_term_inspect_dup(b) : NULL;
  char *sc = c ? pga_term_inspect_dup(c) : NULL;
  char *out = NULL;
  if (sa && (!b || sb) && (!c || sc)) {
    size_t n = strlen(fmt) + strlen(sa) + (sb ? strlen(sb) : 0) +
               (sc ? strlen(sc) : 0) + 1;
    out = malloc(n);
    if (out) snprintf(out, n, fmt, sa, sb ? sb : "", sc ? sc : "");
  }
  free(sa);
  free(sb);
  free(sc);
  return out;
}

static int is_badrpc(const pga_term_t *t, pga_term_t *reason) {
  pga_term_t el[2];
  if (!pga__tuple_of(t, 2, el) || !pga_term_is_atom(&el[0], "badrpc"))
    return 0;
  if (reason) *reason = el[1];
  return 1;
}

/* The atom text of t into buf, or "" when t is not an atom. */
static int atom_text(const pga_term_t *t, char *buf, size_t n) {
  buf[0] = '\0';
  return pga_term_type(t) == PGA_T_ATOM && pga_term_get_atom(t, buf, n) == 0;
}

static void set_reply_badrpc(pga_pull_job_t *job, const char *why) {
  pga_tb_reset(&job->reply);
  pga_tb_tuple(&job->reply, 2);
  pga_tb_atom(&job->reply, "badrpc");
  pga_tb_atom(&job->reply, why);
}

static void cancel_timers(pga_pull_job_t *job) {
  if (job->step_timer) pga_loop_timer_cancel(job->ctx->loop, job->step_timer);
  if (job->deadline) pga_loop_timer_cancel(job->ctx->loop, job->deadline);
  job->step_timer = job->deadline = 0;
}

static void cancel_call(pga_pull_job_t *job) {
  if (job->in_call) job->ctx->io->cancel(job->ctx->io->ud, job->call);
  job->in_call = 0;
  job->call = 0;
}

/* [:config, :pull, :start] (§6.1): before the nodes are resolved. */
static void pull_start_event(pga_pull_job_t *job) {
  static const char *const mkeys[] = {"system_time"};
  static const char *const keys[] = {"service"};
  int64_t now = pga_telemetry_system_time();
  pga_term_t svc = pga__rec_get(job->sc, PGA_SC_SERVICE);
  const pga_term_t *vals[] = {&svc};
  pga_cfg_event_t e;
  job->started_us = pga_telemetry_monotonic_us();
  pga__cfg_event_begin(&e, job->ctx->plane, PGA_EV_CONFIG_PULL_START);
  pga__cfg_event_meas(&e, 1, mkeys, &now);
  pga__cfg_event_meta(&e, 1, keys, vals);
  pga__cfg_event_end(&e, 1);
}

/* The version a pull reports: the probed one when skipped or probed,
 * the stored one when the probe failed, nil without a probe or on
 * failure (the library's {count, version} of each outcome). */
static const pga_term_t *reported_version(pga_pull_job_t *job, int failed,
                                          pga_term_t *tmp) {
  if (failed) return NULL;
  if (job->skipped || job->vprobe == V_GOT)
    *tmp = pga__cterm_view(&job->remote_version);
  else if (job->vprobe == V_FAILED)
    *tmp = pga__cterm_view(&job->stored);
  else
    return NULL;
  return tmp;
}

/* [:config, :pull, :stop] with duration_us and count (§6.1). */
static void pull_stop_event(pga_pull_job_t *job, int failed) {
  static const char *const mkeys[] = {"duration_us", "count"};
  static const char *const keys[] = {"service", "version"};
  int64_t m[2] = {pga_telemetry_monotonic_us() - job->started_us,
                  failed ? 0 : (int64_t)job->pulled};
  pga_term_t svc = pga__rec_get(job->sc, PGA_SC_SERVICE), tmp;
  const pga_term_t *vals[] = {&svc, reported_version(job, failed, &tmp)};
  pga_cfg_event_t e;
  pga__cfg_event_begin(&e, job->ctx->plane, PGA_EV_CONFIG_PULL_STOP);
  pga__cfg_event_meas(&e, 2, mkeys, m);
  pga__cfg_event_meta(&e, 2, keys, vals);
  pga__cfg_event_end(&e, 1);
}

/* Ends the job (invariant 3): a failure with reason (taken; NULL only
 * when there was no memory for it), or a success. */
static void end_job(pga_pull_job_t *job, int failed, char *reason) {
  cancel_timers(job);
  cancel_call(job);
  pull_stop_event(job, failed);
  job->state = J_DONE;
  job->reason = reason;
  job->ctx->done(job->ctx->ud, job, failed);
}

static void succeed(pga_pull_job_t *job) { end_job(job, 0, NULL); }
static void fail(pga_pull_job_t *job, char *reason) { end_job(job, 1, reason); }
static void fail_text(pga_pull_job_t *job, const char *text) {
  fail(job, strdup(text));
}

/* ---- issuing calls ---- */

static int64_t on_step(pga_loop_t *loop, uint64_t id, void *data);

static void arm_step(pga_pull_job_t *job) {
  /* On ENOMEM the job waits for its deadline (invariant 2). */
  job->step_timer = pga_loop_timer(job->ctx->loop, 0, on_step, job);
}

static void on_reply(void *ud, const pga_term_t *result) {
  pga_pull_job_t *job = ud;
  job->in_call = 0;
  job->call = 0;
  pga_tb_reset(&job->reply);
  pga_tb_term(&job->reply, result);
  if (pga_tb_error(&job->reply)) set_reply_badrpc(job, "out_of_memory");
  arm_step(job);
}

/* node's m:f(args), m and f as atom terms. A local failure reads as the
 * {:badrpc, _} rpc:call gives: a module or function that is not an atom
 * or arguments that are not a list as :badarg (erpc refuses them before
 * sending), pull_timeout 0 as :timeout, an invalid node name as
 * :nodedown. */
static void issue(pga_pull_job_t *job, const pga_term_t *m,
                  const pga_term_t *f, const pga_term_t *args) {
  const pga_pull_ctx_t *ctx = job->ctx;
  char mod[PGA_ATOM_BUF], fun[PGA_ATOM_BUF];
  int rc;
  if (!atom_text(m, mod, sizeof mod) || !atom_text(f, fun, sizeof fun) ||
      !pga__proper_list(args, NULL))
    rc = PGA_EINVAL;
  else if (ctx->timeout_zero)
    rc = PGA_ETIMEDOUT;
  else
    rc = ctx->io->call(ctx->io->ud, job->nodes[job->ni], mod, fun, args,
                       ctx->timeout_ms, on_reply, job, &job->call);
  if (rc == 0) {
    job->in_call = 1;
    return;
  }
  set_reply_badrpc(job, rc == PGA_ETIMEDOUT ? "timeout"
                        : rc == PGA_EINVAL  ? "badarg"
                        : rc == PGA_ENOMEM  ? "out_of_memory"
                                            : "nodedown");
  arm_step(job);
}

static void issue_probe(pga_pull_job_t *job) {
  pga_term_t m = pga__rec_get(job->sc, PGA_SC_VERSION_MODULE);
  pga_term_t f = pga__rec_get(job->sc, PGA_SC_VERSION_FUNCTION);
  pga_term_t a = pga__rec_get(job->sc, PGA_SC_VERSION_ARGS);
  /* version_args || [] */
  issue(job, &m, &f, pga__is_truthy(&a) ? &a : &pga__t_empty_list);
}

static void issue_full(pga_pull_job_t *job) {
  pga_term_t m = pga__rec_get(job->sc, PGA_SC_MODULE);
  pga_term_t f = pga__rec_get(job->sc, PGA_SC_FUNCTION);
  pga_term_t a = pga__rec_get(job->sc, PGA_SC_ARGS);
  issue(job, &m, &f, &a);
}

static void issue_module(pga_pull_job_t *job) {
  pga_tb_t args;
  pga__tb_init(&args, 0);
  pga_tb_list(&args, 1);
  pga_term_t m = pga__cterm_view(&job->mods[job->mi].atom);
  pga_tb_term(&args, &m);
  pga_tb_nil(&args);
  pga_term_t a = pga_tb_data(&args);
  static const char code[] = {119, 11, 'E', 'l', 'i', 'x', 'i', 'r',
                              '.', 'C', 'o', 'd', 'e'};
  static const char ens[] = {119, 14, 'e', 'n', 's', 'u', 'r', 'e', '_',
                             'l', 'o', 'a', 'd', 'e', 'd', '?'};
  pga_term_t cm = {code, sizeof code}, cf = {ens, sizeof ens};
  if (pga_tb_error(&args)) {
    set_reply_badrpc(job, "out_of_memory");
    arm_step(job);
  } else {
    issue(job, &cm, &cf, &a);
  }
  pga__tb_destroy(&args);
}

/* ---- phases ---- */

static void start_full(pga_pull_job_t *job) {
  pga_term_t a = pga__rec_get(job->sc, PGA_SC_ARGS);
  /* apply/3 with args that are not a list: the library's task raises
   * ArgumentError on every node, so no node is asked (§5.3 step 3). */
  if (!pga__proper_list(&a, NULL)) {
    fail_text(job, "{:exception, \"argument error\"}");
    return;
  }
  job->state = J_FULL;
  job->ni = 0;
  issue_full(job);
}

static void commit(pga_pull_job_t *job);

static void start_modules(pga_pull_job_t *job) {
  job->state = J_MODULES;
  job->mi = 0;
  if (job->nmods == 0)
    commit(job);
  else
    issue_module(job);
}

/* The distinct module atoms of the FunConfig items' {m, f, _} mfas. */
static void mod_free(void *p) { (void)p; }
static const pga_dict_type_t mod_index_type = PGA__TERM_DICT_TYPE(mod_free);

static int collect_modules(pga_pull_job_t *job, size_t n) {
  pga_term_t list = pga__cterm_view(&job->list), el, mfa, part[3];
  pga_term_iter_t it;
  job->mods = calloc(n ? n : 1, sizeof *job->mods);
  job->mod_index = pga_dict_new(&mod_index_type);
  if (!job->mods || !job->mod_index) return PGA_ENOMEM;
  (void)pga_term_iter_init(&it, &list);
  while (pga_term_iter_next(&it, &el)) {
    if (!pga_funconfig_is_struct(&el)) continue;
    if (pga_term_map_get_atom(&el, "mfa", &mfa) != 0 ||
        !pga__tuple_of(&mfa, 3, part) || !pga__is_atom(&part[0]) ||
        !pga__is_atom(&part[1]))
      continue;
    if (pga__term_dict_get(job->mod_index, &part[0])) continue;
    module_t *md = &job->mods[job->nmods];
    if (pga__cterm_set(&md->atom, &part[0]) != 0) return PGA_ENOMEM;
    job->nmods++;
    if (pga__term_dict_put(job->mod_index, &part[0],
                           (void *)(uintptr_t)job->nmods) != 0)
      return PGA_ENOMEM;
  }
  return 0;
}

static void on_probe_reply(pga_pull_job_t *job, const pga_term_t *r) {
  if (is_badrpc(r, NULL)) {
    if (++job->ni < job->nnodes) {
      issue_probe(job);
      return;
    }
    job->vprobe = V_FAILED;
    start_full(job);
    return;
  }
  pga_term_t stored = pga__cterm_view(&job->stored);
  if (pga_puller_version_equal(r, &stored)) {
    job->skipped = 1;
    (void)pga__cterm_set(&job->remote_version, r); /* nil without memory */
    succeed(job); /* {:skipped, version}: nothing else changes */
    return;
  }
  if (pga__cterm_set(&job->remote_version, r) != 0) {
    fail_text(job, "{:exception, \"out of memory\"}");
    return;
  }
  job->vprobe = V_GOT;
  start_full(job);
}

static void on_full_reply(pga_pull_job_t *job, const pga_term_t *r) {
  pga_term_t el[2];
  size_t n = 0;
  int good = pga__tuple_of(r, 2, el) && pga_term_is_atom(&el[0], "ok") &&
             pga__proper_list(&el[1], &n) &&
             n <= job->ctx->plane->max_fun_configs;
  if (good) {
    if (pga__cterm_set(&job->list, &el[1]) != 0 ||
        collect_modules(job, n) != 0) {
      fail_text(job, "{:exception, \"out of memory\"}");
      return;
    }
    job->served_by = job->ni;
    start_modules(job);
    return;
  }
  if (++job->ni < job->nnodes) {
    issue_full(job);
    return;
  }
  /* The last node's answer is the service's failure. */
  char *why = is_badrpc(r, NULL)
                  ? pga_term_inspect_dup(r)
                  : dup_inspect2("{:unexpected_result, %s}", r, NULL, NULL);
  fail(job, why);
}

static void on_module_reply(pga_pull_job_t *job, const pga_term_t *r) {
  module_t *md = &job->mods[job->mi];
  pga_term_t why;
  if (pga_term_is_atom(r, "true")) {
    md->verdict = M_TRUE;
  } else if (pga_term_is_atom(r, "false")) {
    md->verdict = M_FALSE;
  } else if (is_badrpc(r, &why)) {
    md->verdict = M_BADRPC;
    if (pga__cterm_set(&md->badrpc, &why) != 0) {
      fail_text(job, "{:exception, \"out of memory\"}");
      return;
    }
  } else {
    /* The library's case has no clause for it: the task raises. */
    char *e = dup_inspect2("{:exception, \"no case clause matching: %s\"}",
                           r, NULL, NULL);
    fail(job, e);
    return;
  }
  if (++job->mi < job->nmods)
    issue_module(job);
  else
    commit(job);
}

static int64_t on_step(pga_loop_t *loop, uint64_t id, void *data) {
  pga_pull_job_t *job = data;
  (void)loop;
  (void)id;
  job->step_timer = 0;
  pga_term_t r = pga_tb_data(&job->reply);
  switch (job->state) {
  case J_PROBE: on_probe_reply(job, &r); break;
  case J_FULL: on_full_reply(job, &r); break;
  case J_MODULES: on_module_reply(job, &r); break;
  default: break;
  }
  return PGA_TIMER_NOMORE;
}

static int64_t on_deadline(pga_loop_t *loop, uint64_t id, void *data) {
  pga_pull_job_t *job = data;
  (void)loop;
  (void)id;
  job->deadline = 0;
  fail_text(job, "{:task_exit, :timeout}");
  return PGA_TIMER_NOMORE;
}

/* ---- the commit (§5.3 steps 4-5) ---- */

typedef struct pitem_s {
  pga_funconfig_t *fc;
  char *text;   /* a safety rejection */
  unsigned bad; /* failed §2.1 checks */
} pitem_t;

/* Module safety of one prepared item: NULL = passes, else the reason. */
static char *safety(pga_pull_job_t *job, const pga_funconfig_t *fc,
                    const pga_term_t *node, int *oom) {
  pga_term_t mfa = pga_funconfig_get(fc, PGA_FC_MFA), part[3];
  *oom = 0;
  if (!pga__tuple_of(&mfa, 3, part) || !pga__is_atom(&part[0]) ||
      !pga__is_atom(&part[1])) {
    char *s = dup_inspect2("invalid MFA format: %s", &mfa, NULL, NULL);
    *oom = !s;
    return s;
  }
  uintptr_t k = (uintptr_t)pga__term_dict_get(job->mod_index, &part[0]);
  module_t *md = k ? &job->mods[k - 1] : NULL;
  if (md && md->verdict == M_TRUE) return NULL;
  char *s;
  if (md && md->verdict == M_BADRPC) {
    pga_term_t why = pga__cterm_view(&md->badrpc);
    s = dup_inspect2("cannot verify module %s on node %s: %s", &part[0], node,
                     &why);
  } else {
    s = dup_inspect2("module %s not loaded on node %s", &part[0], node, NULL);
  }
  *oom = !s;
  return s;
}

static void pitems_free(pitem_t *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    pga_funconfig_free(v[i].fc);
    free(v[i].text);
  }
  free(v);
}

/* Prepares every FunConfig item outside the lock; non-structs are
 * skipped silently (§5.3 step 4). 0 or PGA_ENOMEM. */
static int prepare(pga_pull_job_t *job, const pga_term_t *node, pitem_t **out,
                   size_t *nout, pga_tb_t *api, size_t *napi) {
  pga_term_t list = pga__cterm_view(&job->list), el;
  pga_term_t svc = pga__rec_get(job->sc, PGA_SC_SERVICE);
  pga_term_iter_t it;
  size_t n = 0, k = 0;
  (void)pga__proper_list(&list, &n);
  pitem_t *v = calloc(n ? n : 1, sizeof *v);
  if (!v) return PGA_ENOMEM;
  (void)pga_term_iter_init(&it, &list);
  *napi = 0;
  while (pga_term_iter_next(&it, &el)) {
    pitem_t *p = &v[k];
    int oom;
    if (!pga_funconfig_is_struct(&el)) continue;
    k++;
    if (pga_funconfig_decode(&el, &p->fc) != 0 ||
        pga_funconfig_enforce_service(p->fc, &svc) != 0 ||
        pga_funconfig_normalize_version(p->fc) != 0)
      goto oom;
    p->text = safety(job, p->fc, node, &oom);
    if (oom) goto oom;
    if (!p->text) p->bad = pga_funconfig_check(p->fc);
    if (!p->text && !p->bad) /* R23 */
      p->text = pga__config_local_unavailable(job->ctx->plane, p->fc);
    if (!p->text && !p->bad) {
      pga_term_t rt = pga_funconfig_get(p->fc, PGA_FC_REQUEST_TYPE);
      pga_tb_term(api, &rt);
      ++*napi;
    }
  }
  *out = v;
  *nout = k;
  return 0;
oom:
  pitems_free(v, k);
  return PGA_ENOMEM;
}

static void commit(pga_pull_job_t *job) {
  pga_config_plane_t *p = job->ctx->plane;
  pga_tb_t node, api, list;
  pitem_t *items = NULL;
  size_t n = 0, napi = 0;
  pga__tb_init(&node, 0);
  pga__tb_init(&api, 0);
  pga__tb_init(&list, 0);
  pga_tb_atom(&node, job->nodes[job->served_by]);
  pga_term_t nt = pga_tb_data(&node);
  int rc = pga_tb_error(&node) ? PGA_ENOMEM
                               : prepare(job, &nt, &items, &n, &api, &napi);
  pga_funconfig_t **keep = rc == 0 ? calloc(n ? n : 1, sizeof *keep) : NULL;
  if (rc == 0 && !keep) rc = PGA_ENOMEM;
  /* api_list as a proper list: the elements were written as they came. */
  pga_tb_list(&list, napi);
  if (napi) {
    pga_term_t items_t = pga_tb_data(&api);
    pga__tb_raw(&list, items_t.buf, items_t.len);
    pga_tb_nil(&list);
  }
  if (rc == 0 && (pga_tb_error(&api) || pga_tb_error(&list))) rc = PGA_ENOMEM;
  if (rc != 0) {
    pitems_free(items, n);
    free(keep);
    pga__tb_destroy(&node);
    pga__tb_destroy(&api);
    pga__tb_destroy(&list);
    fail_text(job, "{:exception, \"out of memory\"}");
    return;
  }
  size_t k = 0;
  pga_term_t svc = pga__rec_get(job->sc, PGA_SC_SERVICE);
  pga_term_t remote = pga__cterm_view(&job->remote_version);
  const pga_term_t *version = job->vprobe == V_GOT      ? &remote
                              : job->vprobe == V_FAILED ? NULL
                                                        : &pga__t_nil;
  pga_term_t api_t = pga_tb_data(&list);
  pga_txn_t t;
  uint64_t seq;
  pga_txn_init(&t, p);
  pthread_mutex_lock(&p->lock);
  for (size_t i = 0; i < n; i++) {
    pitem_t *it = &items[i];
    if (it->text)
      (void)pga_failed_record_text(p->failed, it->fc, it->text, 0, &nt);
    else if (it->bad)
      (void)pga_failed_record_msgs(p->failed, it->fc, pga_fc_messages,
                                   it->bad, PGA_FC_NCHECKS, 0, &nt);
    else {
      keep[k++] = it->fc;
      it->fc = NULL; /* batch_add takes it */
    }
  }
  pga_tb_t first;
  pga__tb_init(&first, 0);
  size_t stored = k ? pga_db_batch_add(p, keep, k, &t, &first) : 0;
  job->pulled = k;
  rc = pga__puller_set_result(p->puller, &svc, &api_t, version);
  /* Journaled, not synced: nothing is acknowledged here, and the loop
   * thread must not wait for the disk (a later sync covers it). */
  (void)pga_txn_commit(p, &t, 0, &seq);
  pthread_mutex_unlock(&p->lock);
  pga_debug("config: pulled %zu configs from %s (%zu stored)", n,
            job->nodes[job->served_by], stored);
  pga__cfg_emit_batch_add(p, stored, &first);
  pga__tb_destroy(&first);
  pitems_free(items, n);
  free(keep);
  pga__tb_destroy(&node);
  pga__tb_destroy(&api);
  pga__tb_destroy(&list);
  if (rc != 0)
    fail_text(job, "{:exception, \"out of memory\"}");
  else
    succeed(job);
}

/* ---- life cycle ---- */

pga_pull_job_t *pga_pull_job_new(const pga_pull_ctx_t *ctx,
                                 const pga__rec_t *sc,
                                 const pga_term_t *stored_version) {
  pga_pull_job_t *job = calloc(1, sizeof *job);
  if (!job) return NULL;
  job->ctx = ctx;
  pga__tb_init(&job->reply, 0);
  job->sc = pga__rec_dup(sc);
  const pga_term_t *sv = stored_version ? stored_version : &pga__t_nil;
  if (!job->sc || pga__cterm_set(&job->stored, sv) != 0) {
    pga_pull_job_free(job);
    return NULL;
  }
  return job;
}

void pga_pull_job_start(pga_pull_job_t *job) {
  const pga_pull_ctx_t *ctx = job->ctx;
  pull_start_event(job);
  pga_term_t nodes = pga__rec_get(job->sc, PGA_SC_NODES);
  int n = ctx->resolve(ctx->ud, &nodes, &job->nodes);
  if (n < 0) {
    fail_text(job, "{:exception, \"out of memory\"}");
    return;
  }
  job->nnodes = (size_t)n;
  if (job->nnodes == 0) {
    fail_text(job, ":no_valid_nodes");
    return;
  }
  job->deadline =
      pga_loop_timer(ctx->loop,
                     (int64_t)ctx->timeout_ms + PGA_PULL_DEADLINE_EXTRA_MS,
                     on_deadline, job);
  if (!job->deadline) {
    fail_text(job, "{:exception, \"out of memory\"}");
    return;
  }
  if (pga_serviceconfig_version_enabled(job->sc)) {
    job->state = J_PROBE;
    job->ni = 0;
    issue_probe(job);
  } else {
    job->vprobe = V_DISABLED;
    start_full(job);
  }
}

void pga_pull_job_free(pga_pull_job_t *job) {
  if (!job) return;
  if (job->state != J_DONE && job->ctx->loop) {
    cancel_timers(job);
    cancel_call(job);
  }
  pga__rec_free(job->sc);
  pga__cterm_clear(&job->stored);
  pga__cterm_clear(&job->remote_version);
  pga__cterm_clear(&job->list);
  for (size_t i = 0; i < job->nmods; i++) {
    pga__cterm_clear(&job->mods[i].atom);
    pga__cterm_clear(&job->mods[i].badrpc);
  }
  free(job->mods);
  if (job->mod_index) pga_dict_free(job->mod_index);
  pga__tb_destroy(&job->reply);
  free(job->nodes);
  free(job->reason);
  free(job);
}

pga_term_t pga_pull_job_service(const pga_pull_job_t *job) {
  return pga__rec_get(job->sc, PGA_SC_SERVICE);
}

const char *pga_pull_job_reason(const pga_pull_job_t *job) {
  return job->reason ? job->reason : "";
}
