/* cluster_view/0 and cluster_print/0 (ops-plane.md §4.5, §5), and the
 * snapshot of the distribution they and the other diagnostics take: the
 * distribution tables live on the loop thread, so a worker posts the
 * snapshot there and waits. Remote figures come from parallel outgoing
 * calls, bounded to 2 s each. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/diag.h"
#include "pga/errno.h"

#define REMOTE_TIMEOUT_MS 2000u
/* The worker waits this much beyond the calls' own bound, then gives up. */
#define WAIT_SLACK_MS 3000
#define WAIT_SLICE_MS 100

static const pga_term_t empty_args = {"\x6a", 1}; /* [] */

typedef struct gather_s gather_t;

/* One outgoing call: which node, which answer. */
typedef struct reply_slot_s {
  gather_t *g;
  pga_tb_t **dst;
} reply_slot_t;

/* Shared by the waiting worker and the loop; the last one out frees it. */
struct gather_s {
  pga_ops_t *ops;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int refs;
  int done;
  int remote;
  size_t pending;
  reply_slot_t *slots;
  pga_ops_snap_t *snap;
};

void pga__ops_snapshot_free(pga_ops_snap_t *s) {
  if (!s) return;
  for (size_t i = 0; i < s->nconnected; i++) {
    free(s->connected[i]);
    if (s->registered) pga_tb_free(s->registered[i]);
    if (s->services) pga_tb_free(s->services[i]);
  }
  for (size_t i = 0; i < s->nnames; i++) free(s->names[i].name);
  free(s->connected);
  free(s->registered);
  free(s->services);
  free(s->names);
  free(s);
}

static void gather_unref(gather_t *g) {
  pthread_mutex_lock(&g->mu);
  int left = --g->refs;
  pthread_mutex_unlock(&g->mu);
  if (left > 0) return;
  pthread_mutex_destroy(&g->mu);
  pthread_cond_destroy(&g->cv);
  pga__ops_snapshot_free(g->snap);
  free(g->slots);
  free(g);
}

/* ---- the loop side ---- */

/* Room for element n of an array doubled at 0, 1, 2, 4, 8... elements. */
static int grow(void **arr, size_t n, size_t size) {
  if (n & (n - 1)) return 0; /* not a power of two: room left */
  void *p = realloc(*arr, (n ? n * 2 : 1) * size);
  if (!p) return PGA_ENOMEM;
  *arr = p;
  return 0;
}

typedef struct walk_s {
  pga_ops_snap_t *s;
  int err;
} walk_t;

static void on_conn(void *ud, const pga_conn_t *c) {
  walk_t *w = ud;
  pga_ops_snap_t *s = w->s;
  s->conns_up++;
  s->queued_bytes += pga_conn_queued(c);
  if (!pga_conn_peer_published(c) || w->err) return;
  char *name = strdup(pga_conn_node(c));
  if (!name || grow((void **)&s->connected, s->nconnected, sizeof *s->connected)) {
    free(name);
    w->err = PGA_ENOMEM;
    return;
  }
  s->connected[s->nconnected++] = name;
}

static void on_name(void *ud, const char *name, uint64_t pid_id) {
  walk_t *w = ud;
  pga_ops_snap_t *s = w->s;
  if (w->err) return;
  char *copy = strdup(name);
  if (!copy || grow((void **)&s->names, s->nnames, sizeof *s->names)) {
    free(copy);
    w->err = PGA_ENOMEM;
    return;
  }
  s->names[s->nnames].name = copy;
  s->names[s->nnames++].pid_id = pid_id;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_name(const void *a, const void *b) {
  return strcmp(((const pga_ops_name_t *)a)->name,
                ((const pga_ops_name_t *)b)->name);
}

static pga_ops_snap_t *local_snapshot(pga_dist_t *d) {
  pga_ops_snap_t *s = calloc(1, sizeof *s);
  walk_t w = {s, s ? 0 : PGA_ENOMEM};
  if (!s) return NULL;
  pga_dist_each_up_conn(d, on_conn, &w);
  pga_dist_each_name(d, on_name, &w);
  if (w.err) {
    pga__ops_snapshot_free(s);
    return NULL;
  }
  if (s->nconnected)
    qsort(s->connected, s->nconnected, sizeof *s->connected, cmp_str);
  if (s->nnames) qsort(s->names, s->nnames, sizeof *s->names, cmp_name);
  return s;
}

static void gather_finish(gather_t *g) {
  pthread_mutex_lock(&g->mu);
  g->done = 1;
  pthread_cond_signal(&g->cv);
  pthread_mutex_unlock(&g->mu);
  gather_unref(g);
}

static void on_reply(void *ud, const pga_term_t *result) {
  reply_slot_t *slot = ud;
  gather_t *g = slot->g;
  pga_tb_t *tb = pga_tb_new(0);
  if (tb) pga_tb_term(tb, result);
  *slot->dst = tb;
  if (--g->pending == 0) gather_finish(g);
}

static void ask(gather_t *g, size_t slot, const char *node, const char *m,
                const char *f, pga_tb_t **dst) {
  reply_slot_t *r = &g->slots[slot];
  r->g = g;
  r->dst = dst;
  if (pga_rpc_call(g->ops->rpc, node, m, f, &empty_args, REMOTE_TIMEOUT_MS,
                   on_reply, r, NULL) == 0)
    g->pending++;
}

static void ask_all(gather_t *g) {
  pga_ops_snap_t *s = g->snap;
  size_t n = s->nconnected;
  s->registered = calloc(n, sizeof *s->registered);
  s->services = calloc(n, sizeof *s->services);
  g->slots = calloc(2 * n, sizeof *g->slots);
  if (!s->registered || !s->services || !g->slots) return;
  for (size_t i = 0; i < n; i++) {
    ask(g, 2 * i, s->connected[i], "erlang", "registered", &s->registered[i]);
    ask(g, 2 * i + 1, s->connected[i], "Elixir.PhoenixGenApi.ConfigDb",
        "get_all_services", &s->services[i]);
  }
}

static void gather_start(pga_loop_t *loop, void *data) {
  gather_t *g = data;
  (void)loop;
  g->snap = local_snapshot(g->ops->d);
  /* pending counts one for this function, so replies cannot finish early */
  g->pending = 1;
  if (g->snap && g->remote && g->snap->nconnected) ask_all(g);
  if (--g->pending == 0) gather_finish(g);
}

/* ---- the worker side ---- */

static void deadline_in(struct timespec *ts, long ms) {
  clock_gettime(CLOCK_REALTIME, ts);
  ts->tv_sec += ms / 1000;
  ts->tv_nsec += (ms % 1000) * 1000000L;
  if (ts->tv_nsec >= 1000000000L) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000L;
  }
}

static pga_ops_snap_t *await(gather_t *g, pga_call_t *call) {
  int64_t give_up = pga__ops_mono_ms() + REMOTE_TIMEOUT_MS + WAIT_SLACK_MS;
  pga_ops_snap_t *snap = NULL;
  pthread_mutex_lock(&g->mu);
  while (!g->done && pga__ops_mono_ms() < give_up &&
         !(call && pga_call_cancelled(call))) {
    struct timespec ts;
    deadline_in(&ts, WAIT_SLICE_MS);
    int rc = pthread_cond_timedwait(&g->cv, &g->mu, &ts);
    if (rc != 0 && rc != ETIMEDOUT) break;
  }
  if (g->done) {
    snap = g->snap;
    g->snap = NULL;
  }
  pthread_mutex_unlock(&g->mu);
  return snap;
}

pga_ops_snap_t *pga__ops_snapshot(pga_ops_t *ops, pga_call_t *call,
                                  int remote) {
  gather_t *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  g->ops = ops;
  g->remote = remote;
  g->refs = 2; /* the worker and the loop */
  pthread_mutex_init(&g->mu, NULL);
  pthread_cond_init(&g->cv, NULL);
  if (pga_loop_post(ops->loop, gather_start, g) != 0) {
    g->refs = 1;
    gather_unref(g);
    return NULL;
  }
  pga_ops_snap_t *snap = await(g, call);
  gather_unref(g);
  return snap;
}

void pga__ops_put_connected(pga_tb_t *tb, const pga_ops_snap_t *s) {
  size_t n = s ? s->nconnected : 0;
  pga_tb_list(tb, n);
  for (size_t i = 0; i < n; i++) pga_tb_atom(tb, s->connected[i]);
  if (n) pga_tb_nil(tb);
}

/* ---- cluster_view ---- */

/* This node's registered names as debug_report lists its processes: the
 * running pseudo-processes (the library's named processes), then the
 * names registered with the distribution layer (rex, net_kernel...). */
static void put_self_names(pga_ops_t *ops, pga_tb_t *tb,
                           const pga_ops_snap_t *s) {
  pga_ops_live_t lv;
  size_t n = s->nnames;
  pga__ops_live_read(ops, &lv);
  for (int sub = 0; sub < PGA_SUB_COUNT; sub++)
    n += pga__ops_sub_running(&lv, sub) != 0;
  pga_tb_list(tb, n);
  for (int sub = 0; sub < PGA_SUB_COUNT; sub++)
    if (pga__ops_sub_running(&lv, sub)) pga_tb_atom(tb, pga__ops_subs[sub].name);
  for (size_t i = 0; i < s->nnames; i++) pga_tb_atom(tb, s->names[i].name);
  if (n) pga_tb_nil(tb);
}

static void put_registered(pga_ops_t *ops, pga_tb_t *tb,
                           const pga_ops_snap_t *s) {
  pga_tb_map(tb, s->nconnected + 1);
  pga_tb_atom(tb, pga_dist_name(ops->d));
  put_self_names(ops, tb, s);
  for (size_t i = 0; i < s->nconnected; i++) {
    pga_tb_atom(tb, s->connected[i]);
    if (s->registered && s->registered[i]) {
      pga_term_t r = pga_tb_data(s->registered[i]);
      pga_tb_term(tb, &r);
    } else {
      pga_tb_tuple(tb, 2);
      pga_tb_atom(tb, "badrpc");
      pga_tb_atom(tb, "nodedown");
    }
  }
}

static void put_services(pga_tb_t *tb, const pga_ops_snap_t *s) {
  pga_tb_map(tb, s->nconnected);
  for (size_t i = 0; i < s->nconnected; i++) {
    pga_tb_atom(tb, s->connected[i]);
    pga_term_t r;
    int is_list = 0;
    if (s->services && s->services[i]) {
      r = pga_tb_data(s->services[i]);
      int t = pga_term_type(&r);
      is_list = t == PGA_T_LIST || t == PGA_T_NIL;
    }
    if (is_list)
      pga_tb_term(tb, &r);
    else
      pga_tb_list(tb, 0); /* a failed or odd answer counts as none */
  }
}

static void put_node_selection(pga_tb_t *tb) {
  static const char *const strategies[] = {"random", "hash", "round_robin",
                                           "sticky"};
  pga_tb_map(tb, 2);
  pga_tb_atom(tb, "strategies");
  pga_tb_list(tb, 4);
  for (size_t i = 0; i < 4; i++) pga_tb_atom(tb, strategies[i]);
  pga_tb_nil(tb);
  pga_tb_atom(tb, "description");
  pga_tb_string(tb, "Configure via FunConfig.choose_node_mode");
}

static void put_view(pga_ops_t *ops, pga_tb_t *tb, const pga_ops_snap_t *s) {
  pga_tb_map(tb, 6);
  pga_tb_atom(tb, "self");
  pga_tb_atom(tb, pga_dist_name(ops->d));
  pga_tb_atom(tb, "connected");
  pga__ops_put_connected(tb, s);
  pga_tb_atom(tb, "connected_count");
  pga_tb_uint(tb, s->nconnected);
  pga_tb_atom(tb, "registered_processes");
  put_registered(ops, tb, s);
  pga_tb_atom(tb, "phoenix_gen_api_services");
  put_services(tb, s);
  pga_tb_atom(tb, "node_selection");
  put_node_selection(tb);
}

pga_outcome_t pga__ops_cluster_view(pga_ops_t *ops, pga_call_t *call,
                                    pga_tb_t *out) {
  pga_ops_snap_t *s = pga__ops_snapshot(ops, call, 1);
  pga_tb_reset(out);
  if (!s) {
    pga_tb_atom(out, "timeout");
    return PGA_EXIT;
  }
  put_view(ops, out, s);
  pga__ops_snapshot_free(s);
  return PGA_RETURN;
}

static pga_outcome_t fn_cluster_view(pga_ops_t *ops, pga_call_t *call,
                                     const pga_term_t *argv, pga_tb_t *out) {
  (void)argv;
  return pga__ops_cluster_view(ops, call, out);
}

static pga_outcome_t fn_cluster_print(pga_ops_t *ops, pga_call_t *call,
                                      const pga_term_t *argv, pga_tb_t *out) {
  (void)argv;
  pga_outcome_t oc = pga__ops_cluster_view(ops, call, out);
  if (oc != PGA_RETURN) return oc;
  pga_ops_text_t t;
  pga_ops_text_init(&t);
  pga_term_t view = pga_tb_data(out);
  pga__ops_render_cluster(&t, &view);
  oc = pga_ops_print(call, &t, out);
  pga_ops_text_free(&t);
  return oc;
}

static const pga_ops_fn_def_t fns[] = {
    {PGA_OPS_MOD_TOP, "cluster_view", 0, fn_cluster_view, 0},
    {PGA_OPS_MOD_DIAG, "cluster_view", 0, fn_cluster_view, 0},
    {PGA_OPS_MOD_TOP, "cluster_print", 0, fn_cluster_print, 0},
    {NULL, NULL, 0, NULL, 0}};

const pga_ops_area_t pga_ops_area_cluster = {"cluster", fns, NULL, NULL};
