/* Diagnostics tracing (ops-plane.md §9): trace_processes/1,2,
 * trace_functions/1,2, stop_trace/0,1,2 and stop_trace_functions/0,1 on
 * PhoenixGenApi and Diagnostics. The admin gate comes first, then the
 * library's checks in its order (trace_args.c). Accepted traces are kept
 * as state (ops->trace) that trace_send.c turns into messages on requests
 * and trace_watch.c clears when a tracer dies; `results` count what each
 * target covers now (traces) or what was removed (stops). "Loaded
 * modules" are the modules stored FunConfigs name (§9.2). */
#include "ops/trace_int.h"

#include <stdlib.h>
#include <string.h>

#include "config/file.h"
#include "pga/errno.h"
#include "request/plane.h"
#include "term/inspect.h"
#include "term/term.h"

typedef pga_ops_trace_entry_t entry_t;
typedef pga_ops_trace_vec_t vec_t;
typedef pga_ops_trace_t trace_state_t;

/* ---- stored entries (ops->lock held) ---- */

static pga_term_t entry_key(const entry_t *e) {
  pga_term_t t = {e->buf, e->len}, k = {0, 0};
  pga_term_tuple_get(&t, 2, &k);
  return k;
}

static void vec_drop(vec_t *v, size_t i) {
  free(v->v[i].buf);
  memmove(&v->v[i], &v->v[i + 1], (v->n - i - 1) * sizeof *v->v);
  v->n--;
}

/* Adds {tracer, how, key}, replacing an entry with an equal key. */
static void vec_put(vec_t *v, const pga_term_t *tracer, const pga_term_t *how,
                    const pga_term_t *key) {
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_tb_tuple(&tb, 3);
  pga_tb_term(&tb, tracer);
  pga_tb_term(&tb, how);
  pga_tb_term(&tb, key);
  pga_term_t t = pga_tb_data(&tb);
  char *copy = pga_tb_error(&tb) ? NULL : malloc(t.len);
  if (copy) {
    memcpy(copy, t.buf, t.len);
    for (size_t i = 0; i < v->n; i++) {
      pga_term_t k = entry_key(&v->v[i]);
      if (pga_term_equal(&k, key)) {
        vec_drop(v, i);
        break;
      }
    }
    if (v->n == PGA_OPS_TRACE_ENTRIES_MAX) vec_drop(v, 0);
    v->v[v->n++] = (entry_t){copy, t.len};
  }
  pga__tb_destroy(&tb);
}

/* Removes the entries whose key match() covers; their number. */
static int64_t vec_remove(vec_t *v, const pga_term_t *pattern,
                          int (*match)(const pga_term_t *pattern,
                                       const pga_term_t *key)) {
  int64_t n = 0;
  for (size_t i = v->n; i-- > 0;) {
    pga_term_t k = entry_key(&v->v[i]);
    if (match(pattern, &k)) {
      vec_drop(v, i);
      n++;
    }
  }
  return n;
}

static void vec_clear(vec_t *v) {
  while (v->n) vec_drop(v, v->n - 1);
}

static int target_covers(const pga_term_t *pattern, const pga_term_t *key) {
  return pga_term_is_atom(pattern, "all") || pga_term_equal(pattern, key);
}

static pga_term_t entry_tracer(const entry_t *e) {
  pga_term_t t = {e->buf, e->len}, k = {0, 0};
  pga_term_tuple_get(&t, 0, &k);
  return k;
}

static size_t vec_forget(vec_t *v, const pga_term_t *tracer) {
  size_t n = 0;
  for (size_t i = v->n; i-- > 0;) {
    pga_term_t t = entry_tracer(&v->v[i]);
    if (pga_term_equal(&t, tracer)) {
      vec_drop(v, i);
      n++;
    }
  }
  return n;
}

/* ops->lock held. */
static void update_active(trace_state_t *st) {
  atomic_store(&st->active, st->procs.n + st->funcs.n > 0);
}

void pga__ops_trace_changed(pga_ops_t *ops) {
  trace_state_t *st = ops->trace;
  pthread_mutex_lock(&ops->lock);
  update_active(st);
  int post = !st->sync_posted;
  st->sync_posted = 1;
  pthread_mutex_unlock(&ops->lock);
  if (post && pga__ops_trace_watch_post(ops) != 0) {
    pthread_mutex_lock(&ops->lock);
    st->sync_posted = 0; /* the next change tries again */
    pthread_mutex_unlock(&ops->lock);
  }
}

size_t pga__ops_trace_forget(pga_ops_t *ops, const pga_term_t *tracer) {
  trace_state_t *st = ops->trace;
  pthread_mutex_lock(&ops->lock);
  size_t n = vec_forget(&st->procs, tracer) + vec_forget(&st->funcs, tracer);
  update_active(st);
  pthread_mutex_unlock(&ops->lock);
  return n;
}

/* Appends the tracers of v not yet in seen[0..*n) (views into v). */
static void collect_tracers(const vec_t *v, pga_term_t *seen, size_t *n) {
  for (size_t i = 0; i < v->n; i++) {
    pga_term_t t = entry_tracer(&v->v[i]);
    size_t j = 0;
    while (j < *n && !pga_term_equal(&seen[j], &t)) j++;
    if (j == *n) seen[(*n)++] = t;
  }
}

void pga__ops_trace_tracers(pga_ops_t *ops, pga_tb_t *tb) {
  trace_state_t *st = ops->trace;
  pga_term_t *seen = malloc(2 * PGA_OPS_TRACE_ENTRIES_MAX * sizeof *seen);
  size_t n = 0;
  pthread_mutex_lock(&ops->lock);
  st->sync_posted = 0;
  if (seen) {
    collect_tracers(&st->procs, seen, &n);
    collect_tracers(&st->funcs, seen, &n);
  }
  pga_tb_list(tb, n);
  for (size_t i = 0; i < n; i++) pga_tb_term(tb, &seen[i]);
  if (n) pga_tb_nil(tb);
  pthread_mutex_unlock(&ops->lock);
  free(seen);
}

/* ---- loaded modules: a snapshot of the stored FunConfigs ---- */

typedef struct snapshot_s {
  pga_tb_t tb;
  pga_term_t list;
} snapshot_t;

static void snapshot_take(pga_ops_t *ops, snapshot_t *s) {
  pga__tb_init(&s->tb, 0);
  if (!ops->cfg || pga_config_list_stored(ops->cfg, &s->tb) != 0) {
    pga_tb_reset(&s->tb);
    pga_tb_list(&s->tb, 0);
  }
  s->list = pga_tb_data(&s->tb);
}

static void snapshot_free(snapshot_t *s) { pga__tb_destroy(&s->tb); }

static pga_term_t fc_field(const pga_term_t *pair, const char *name) {
  pga_term_t fc, v = {0, 0};
  if (pga_term_tuple_get(pair, 1, &fc) == 0)
    pga_term_map_get_atom(&fc, name, &v);
  return v;
}

static int names_module(const pga_term_t *pair, const pga_term_t *m) {
  static const char *const fields[] = {"mfa", "before_execute",
                                       "after_execute", "permission_callback"};
  for (size_t i = 0; i < 4; i++) {
    pga_term_t v = fc_field(pair, fields[i]), el;
    if (v.buf && pga_term_tuple_get(&v, 0, &el) == 0 && pga_term_equal(&el, m))
      return 1;
  }
  return 0;
}

static int module_loaded(void *ud, const pga_term_t *m) {
  const snapshot_t *s = ud;
  pga_term_iter_t it;
  pga_term_t pair;
  if (pga_term_is_atom(m, "Elixir.PhoenixGenApi.Relay") ||
      pga_term_is_atom(m, "Elixir.PhoenixGenApi.Executor"))
    return 1;
  if (pga_term_iter_init(&it, &s->list) != 0) return 0;
  while (pga_term_iter_next(&it, &pair))
    if (names_module(&pair, m)) return 1;
  return 0;
}

/* Stored configs whose target MFA the pattern covers; the arity is not
 * compared (a config's final argument count depends on the request). */
static int64_t configs_matching(const snapshot_t *s, const pga_term_t *pat) {
  pga_term_iter_t it;
  pga_term_t pair, p[3], m[3];
  int64_t n = 0;
  if (pga_term_iter_init(&it, &s->list) != 0) return 0;
  while (pga_term_iter_next(&it, &pair)) {
    pga_term_t mfa = fc_field(&pair, "mfa");
    if (!mfa.buf || pga_term_tuple_get(&mfa, 0, &m[0]) != 0 ||
        pga_term_tuple_get(&mfa, 1, &m[1]) != 0 ||
        pga_term_tuple_get(pat, 0, &p[0]) != 0 ||
        pga_term_tuple_get(pat, 1, &p[1]) != 0)
      continue;
    n += (pga_term_is_atom(&p[0], "_") || pga_term_equal(&p[0], &m[0])) &&
         (pga_term_is_atom(&p[1], "_") || pga_term_equal(&p[1], &m[1]));
  }
  return n;
}

/* ---- results maps: %{inspect(x) => count} ---- */

typedef int64_t (*count_fn)(pga_ops_t *ops, void *ud, const pga_term_t *x);

/* Keys must be distinct: a repeated element counts once (the last). */
static void put_results(pga_ops_t *ops, pga_tb_t *tb, const pga_term_t *list,
                        count_fn count, void *ud) {
  size_t n = 0, k = 0, distinct = 0;
  pga_term_iter_t it;
  pga_term_t el;
  pga_term_list_length(list, &n);
  char **keys = calloc(n ? n : 1, sizeof *keys);
  pga_term_t *els = calloc(n ? n : 1, sizeof *els);
  if (keys && els && pga_term_iter_init(&it, list) == 0)
    while (k < n && pga_term_iter_next(&it, &el)) {
      els[k] = el;
      keys[k++] = pga_term_inspect_dup(&el);
    }
  for (size_t i = 0; i < k; i++) {
    int later = !keys[i];
    for (size_t j = i + 1; j < k && !later; j++)
      later = keys[j] && strcmp(keys[i], keys[j]) == 0;
    if (later) {
      free(keys[i]);
      keys[i] = NULL;
    } else {
      distinct++;
    }
  }
  pga_tb_map(tb, distinct);
  for (size_t i = 0; i < k; i++) {
    if (!keys[i]) continue;
    pga_tb_string(tb, keys[i]);
    pga_tb_int(tb, count(ops, ud, &els[i]));
    free(keys[i]);
  }
  free(keys);
  free(els);
}

/* What a process trace of x covers now: every request and stream for
 * :all, one of our pids, nothing else (remote pids, ports). */
static int64_t covered(pga_ops_t *ops, void *ud, const pga_term_t *x) {
  pga_request_stats_t st;
  (void)ud;
  if (pga_term_is_atom(x, "all"))
    return pga_request_plane_stats(ops->node, &st) == 0
               ? (int64_t)(st.inflight + st.streams)
               : 0;
  return ops->d && pga_dist_local_pid_id(ops->d, x) != 0;
}

typedef struct trace_ctx_s {
  const pga_term_t *tracer, *how;
  trace_state_t *st;
  const snapshot_t *snap;
} trace_ctx_t;

static int64_t trace_target(pga_ops_t *ops, void *ud, const pga_term_t *x) {
  trace_ctx_t *c = ud;
  vec_put(&c->st->procs, c->tracer, c->how, x);
  return covered(ops, NULL, x);
}

static int64_t stop_target(pga_ops_t *ops, void *ud, const pga_term_t *x) {
  trace_state_t *st = ud;
  (void)ops;
  return vec_remove(&st->procs, x, target_covers);
}

static int64_t trace_pattern(pga_ops_t *ops, void *ud, const pga_term_t *x) {
  trace_ctx_t *c = ud;
  (void)ops;
  vec_put(&c->st->funcs, c->tracer, c->how, x);
  return configs_matching(c->snap, x);
}

static int64_t stop_pattern(pga_ops_t *ops, void *ud, const pga_term_t *x) {
  trace_state_t *st = ud;
  (void)ops;
  return vec_remove(&st->funcs, x, pga_ops_trace_mfa_covers);
}

/* ---- options ---- */

typedef struct opts_s {
  pga_tb_t tb;       /* owns the defaults */
  pga_term_t tracer; /* the option, or our stand-in pid */
  pga_term_t flags;
  pga_term_t match_spec;
} opts_t;

static int is_list(const pga_term_t *t) {
  pga_term_type_t ty = pga_term_type(t);
  return ty == PGA_T_NIL || ty == PGA_T_LIST;
}

/* Reads the options with the library's defaults; opts NULL = []. */
static void opts_read(pga_ops_t *ops, const pga_term_t *opts, opts_t *o) {
  trace_state_t *st = ops->trace;
  pga__tb_init(&o->tb, 0);
  size_t pid_at = 0, flags_at, ms_at;
  if (ops->d) pga_dist_put_pid(ops->d, &o->tb, st->default_tracer);
  else pga_tb_atom(&o->tb, "undefined");
  flags_at = pga_tb_data(&o->tb).len;
  pga_tb_list(&o->tb, 3);
  pga_tb_atom(&o->tb, "call");
  pga_tb_atom(&o->tb, "return_to");
  pga_tb_atom(&o->tb, "procs");
  pga_tb_nil(&o->tb);
  ms_at = pga_tb_data(&o->tb).len;
  pga_tb_atom(&o->tb, "true");
  pga_term_t all = pga_tb_data(&o->tb);
  o->tracer = (pga_term_t){all.buf + pid_at, flags_at - pid_at};
  o->flags = (pga_term_t){all.buf + flags_at, ms_at - flags_at};
  o->match_spec = (pga_term_t){all.buf + ms_at, all.len - ms_at};
  if (!opts) return;
  pga__ops_kw_get(opts, "tracer", &o->tracer);
  pga__ops_kw_get(opts, "flags", &o->flags);
  pga__ops_kw_get(opts, "match_spec", &o->match_spec);
}

static pga_outcome_t error_pair(pga_tb_t *out, const char *reason,
                                const pga_term_t *detail) {
  pga_tb_reset(out);
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "error");
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, reason);
  pga_tb_term(out, detail);
  return PGA_RETURN;
}

static pga_outcome_t denied(pga_tb_t *out) {
  return pga__ops_error_atom(out, "admin_action_denied");
}

/* The gate, then opts must be a list (Keyword.get's guard). */
static int gate(pga_ops_t *ops, unsigned action, const pga_term_t *opts,
                pga_outcome_t *o, pga_tb_t *out) {
  if (!pga__ops_admin_allowed(ops, action)) {
    *o = denied(out);
    return 0;
  }
  if (opts && !is_list(opts)) {
    *o = pga__ops_function_clause(out);
    return 0;
  }
  return 1;
}

/* ---- trace_processes ---- */

/* %{tracer, flags, targets, results}, storing the traces. */
static void put_process_trace(pga_ops_t *ops, pga_tb_t *out,
                              const opts_t *o, const pga_term_t *targets) {
  trace_ctx_t c = {&o->tracer, &o->flags, ops->trace, NULL};
  pga_tb_map(out, 4);
  pga_tb_atom(out, "tracer");
  pga_tb_term(out, &o->tracer);
  pga_tb_atom(out, "flags");
  pga_tb_term(out, &o->flags);
  pga_tb_atom(out, "targets");
  pga_tb_term(out, targets);
  pga_tb_atom(out, "results");
  pthread_mutex_lock(&ops->lock);
  put_results(ops, out, targets, trace_target, &c);
  pthread_mutex_unlock(&ops->lock);
  pga__ops_trace_changed(ops);
}

/* Tracer, then flags: 0 with *o set on a failure. */
static int check_tracer_flags(const opts_t *opts, pga_outcome_t *o,
                              pga_tb_t *out) {
  if (pga_term_type(&opts->tracer) != PGA_T_PID) {
    *o = pga__ops_error_atom(out, "invalid_tracer");
    return 0;
  }
  if (!pga_ops_trace_flags_valid(&opts->flags)) {
    *o = pga__ops_error_atom(out, "invalid_trace_flag");
    return 0;
  }
  return 1;
}

static pga_outcome_t ok_wrap(pga_tb_t *out, const pga_tb_t *map) {
  pga_term_t m = pga_tb_data(map);
  pga_tb_reset(out);
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "ok");
  pga_tb_term(out, &m);
  return pga_tb_error(map) ? pga__ops_error_atom(out, "enomem") : PGA_RETURN;
}

static pga_outcome_t trace_processes(pga_ops_t *ops, const pga_term_t *targets,
                                     const pga_term_t *opts, pga_tb_t *out) {
  pga_outcome_t o = PGA_RETURN;
  opts_t op;
  pga_tb_t tg, bad, map;
  snapshot_t snap;
  if (!gate(ops, PGA_ADMIN_ENABLE_TRACING, opts, &o, out)) return o;
  opts_read(ops, opts, &op);
  pga__tb_init(&tg, 0);
  pga__tb_init(&bad, 0);
  pga__tb_init(&map, 0);
  snapshot_take(ops, &snap);
  if (!check_tracer_flags(&op, &o, out)) {
  } else if (pga_ops_trace_targets(targets, &tg) != 0) {
    o = pga__ops_error_atom(out, "invalid_trace_target");
  } else {
    pga_term_t list = pga_tb_data(&tg);
    if (pga_ops_trace_unloaded_targets(&list, module_loaded, &snap, &bad)) {
      pga_term_t b = pga_tb_data(&bad);
      o = error_pair(out, "invalid_trace_target", &b);
    } else {
      put_process_trace(ops, &map, &op, &list);
      o = ok_wrap(out, &map);
    }
  }
  snapshot_free(&snap);
  pga__tb_destroy(&map);
  pga__tb_destroy(&bad);
  pga__tb_destroy(&tg);
  pga__tb_destroy(&op.tb);
  return o;
}

/* ---- trace_functions ---- */

static void put_function_trace(pga_ops_t *ops, pga_tb_t *out, const opts_t *o,
                               const pga_term_t *mfas, const snapshot_t *snap) {
  static const char all_buf[] = {108, 0, 0, 0, 1, 119, 3, 'a', 'l', 'l', 106};
  pga_term_t all = {all_buf, sizeof all_buf}; /* [:all] */
  /* {match_spec, flags, return_from?}: the spec is walked once, here */
  pga_tb_t how;
  pga__tb_init(&how, 0);
  pga_tb_tuple(&how, 3);
  pga_tb_term(&how, &o->match_spec);
  pga_tb_term(&how, &o->flags);
  pga_tb_bool(&how, pga_ops_trace_has_flag(&o->flags, "return_trace") ||
                        pga_ops_trace_spec_returns(&o->match_spec));
  pga_term_t howt = pga_tb_data(&how);
  trace_ctx_t c = {&o->tracer, &howt, ops->trace, snap};
  pga_tb_map(out, 6);
  pga_tb_atom(out, "tracer");
  pga_tb_term(out, &o->tracer);
  pga_tb_atom(out, "flags");
  pga_tb_term(out, &o->flags);
  pga_tb_atom(out, "match_spec");
  pga_tb_term(out, &o->match_spec);
  pga_tb_atom(out, "mfas");
  pga_tb_term(out, mfas);
  pga_tb_atom(out, "process_trace");
  put_process_trace(ops, out, o, &all);
  pga_tb_atom(out, "pattern_results");
  pthread_mutex_lock(&ops->lock);
  put_results(ops, out, mfas, trace_pattern, &c);
  pthread_mutex_unlock(&ops->lock);
  pga__tb_destroy(&how);
  pga__ops_trace_changed(ops);
}

static pga_outcome_t trace_functions(pga_ops_t *ops, const pga_term_t *mfas,
                                     const pga_term_t *opts, pga_tb_t *out) {
  pga_outcome_t o = PGA_RETURN;
  opts_t op;
  pga_tb_t norm, bad, map;
  snapshot_t snap;
  if (!gate(ops, PGA_ADMIN_ENABLE_TRACING, opts, &o, out)) return o;
  opts_read(ops, opts, &op);
  pga__tb_init(&norm, 0);
  pga__tb_init(&bad, 0);
  pga__tb_init(&map, 0);
  snapshot_take(ops, &snap);
  if (!check_tracer_flags(&op, &o, out)) {
  } else if (!pga_ops_trace_match_spec_valid(&op.match_spec)) {
    o = pga__ops_error_atom(out, "invalid_match_spec");
  } else if (pga_ops_trace_mfas(mfas, &norm) != 0) {
    o = pga__ops_error_atom(out, "invalid_mfa");
  } else {
    pga_term_t list = pga_tb_data(&norm);
    if (pga_ops_trace_unloaded_mfas(&list, module_loaded, &snap, &bad)) {
      pga_term_t b = pga_tb_data(&bad);
      o = error_pair(out, "invalid_mfa", &b);
    } else {
      put_function_trace(ops, &map, &op, &list, &snap);
      o = ok_wrap(out, &map);
    }
  }
  snapshot_free(&snap);
  pga__tb_destroy(&map);
  pga__tb_destroy(&bad);
  pga__tb_destroy(&norm);
  pga__tb_destroy(&op.tb);
  return o;
}

/* ---- stop_trace / stop_trace_functions ---- */

static pga_outcome_t stop_trace(pga_ops_t *ops, const pga_term_t *targets,
                                const pga_term_t *opts, pga_tb_t *out) {
  pga_outcome_t o = PGA_RETURN;
  opts_t op;
  pga_tb_t tg, map;
  if (!gate(ops, PGA_ADMIN_DISABLE_TRACING, opts, &o, out)) return o;
  opts_read(ops, opts, &op);
  pga__tb_init(&tg, 0);
  pga__tb_init(&map, 0);
  if (!pga_ops_trace_flags_valid(&op.flags)) {
    o = pga__ops_error_atom(out, "invalid_trace_flag");
  } else if (pga_ops_trace_targets(targets, &tg) != 0) {
    o = pga__ops_error_atom(out, "invalid_trace_target");
  } else {
    pga_term_t list = pga_tb_data(&tg);
    pga_tb_map(&map, 3);
    pga_tb_atom(&map, "flags");
    pga_tb_term(&map, &op.flags);
    pga_tb_atom(&map, "targets");
    pga_tb_term(&map, &list);
    pga_tb_atom(&map, "results");
    pthread_mutex_lock(&ops->lock);
    put_results(ops, &map, &list, stop_target, ops->trace);
    pthread_mutex_unlock(&ops->lock);
    pga__ops_trace_changed(ops);
    o = ok_wrap(out, &map);
  }
  pga__tb_destroy(&map);
  pga__tb_destroy(&tg);
  pga__tb_destroy(&op.tb);
  return o;
}

static pga_outcome_t stop_trace_functions(pga_ops_t *ops,
                                          const pga_term_t *mfas,
                                          pga_tb_t *out) {
  pga_outcome_t o = PGA_RETURN;
  pga_tb_t norm, map;
  if (!gate(ops, PGA_ADMIN_DISABLE_TRACING, NULL, &o, out)) return o;
  pga__tb_init(&norm, 0);
  pga__tb_init(&map, 0);
  if (pga_ops_trace_mfas(mfas, &norm) != 0) {
    o = pga__ops_error_atom(out, "invalid_mfa");
  } else {
    pga_term_t list = pga_tb_data(&norm);
    pga_tb_map(&map, 2);
    pga_tb_atom(&map, "mfas");
    pga_tb_term(&map, &list);
    pga_tb_atom(&map, "results");
    pthread_mutex_lock(&ops->lock);
    put_results(ops, &map, &list, stop_pattern, ops->trace);
    pthread_mutex_unlock(&ops->lock);
    pga__ops_trace_changed(ops);
    o = ok_wrap(out, &map);
  }
  pga__tb_destroy(&map);
  pga__tb_destroy(&norm);
  return o;
}

/* ---- served functions ---- */

static const char all_atom_buf[] = {119, 3, 'a', 'l', 'l'};
static const pga_term_t all_atom = {all_atom_buf, sizeof all_atom_buf};

static pga_outcome_t fn_trace_processes1(pga_ops_t *ops, pga_call_t *call,
                                         const pga_term_t *argv,
                                         pga_tb_t *out) {
  (void)call;
  return trace_processes(ops, &argv[0], NULL, out);
}

static pga_outcome_t fn_trace_processes2(pga_ops_t *ops, pga_call_t *call,
                                         const pga_term_t *argv,
                                         pga_tb_t *out) {
  (void)call;
  return trace_processes(ops, &argv[0], &argv[1], out);
}

static pga_outcome_t fn_trace_functions1(pga_ops_t *ops, pga_call_t *call,
                                         const pga_term_t *argv,
                                         pga_tb_t *out) {
  (void)call;
  return trace_functions(ops, &argv[0], NULL, out);
}

static pga_outcome_t fn_trace_functions2(pga_ops_t *ops, pga_call_t *call,
                                         const pga_term_t *argv,
                                         pga_tb_t *out) {
  (void)call;
  return trace_functions(ops, &argv[0], &argv[1], out);
}

static pga_outcome_t fn_stop_trace0(pga_ops_t *ops, pga_call_t *call,
                                    const pga_term_t *argv, pga_tb_t *out) {
  (void)call;
  (void)argv;
  return stop_trace(ops, &all_atom, NULL, out);
}

static pga_outcome_t fn_stop_trace1(pga_ops_t *ops, pga_call_t *call,
                                    const pga_term_t *argv, pga_tb_t *out) {
  (void)call;
  return stop_trace(ops, &argv[0], NULL, out);
}

static pga_outcome_t fn_stop_trace2(pga_ops_t *ops, pga_call_t *call,
                                    const pga_term_t *argv, pga_tb_t *out) {
  (void)call;
  return stop_trace(ops, &argv[0], &argv[1], out);
}

static pga_outcome_t fn_stop_functions0(pga_ops_t *ops, pga_call_t *call,
                                        const pga_term_t *argv,
                                        pga_tb_t *out) {
  (void)call;
  (void)argv;
  return stop_trace_functions(ops, &all_atom, out);
}

static pga_outcome_t fn_stop_functions1(pga_ops_t *ops, pga_call_t *call,
                                        const pga_term_t *argv,
                                        pga_tb_t *out) {
  (void)call;
  return stop_trace_functions(ops, &argv[0], out);
}

static int trace_init(pga_ops_t *ops) {
  trace_state_t *st = calloc(1, sizeof *st);
  if (!st) return PGA_ENOMEM;
  /* Before the loop runs, so taking a pid id from dist is safe here. */
  st->default_tracer = ops->d ? pga__dist_next_pid(ops->d) : 0;
  ops->trace = st;
  int rc = pga__ops_trace_watch_init(ops);
  return rc ? rc : pga__ops_trace_observe(ops);
}

static void trace_fini(pga_ops_t *ops) {
  trace_state_t *st = ops->trace;
  if (!st) return;
  pga__ops_trace_unobserve(ops);
  pga__ops_trace_watch_fini(ops);
  vec_clear(&st->procs);
  vec_clear(&st->funcs);
  free(st);
  ops->trace = NULL;
}

static const pga_ops_fn_def_t fns[] = {
    PGA_OPS_TOP_AND_DIAG("trace_processes", 1, fn_trace_processes1),
    PGA_OPS_TOP_AND_DIAG("trace_processes", 2, fn_trace_processes2),
    PGA_OPS_TOP_AND_DIAG("trace_functions", 1, fn_trace_functions1),
    PGA_OPS_TOP_AND_DIAG("trace_functions", 2, fn_trace_functions2),
    PGA_OPS_TOP_AND_DIAG("stop_trace", 0, fn_stop_trace0),
    PGA_OPS_TOP_AND_DIAG("stop_trace", 1, fn_stop_trace1),
    PGA_OPS_TOP_AND_DIAG("stop_trace", 2, fn_stop_trace2),
    PGA_OPS_TOP_AND_DIAG("stop_trace_functions", 0, fn_stop_functions0),
    PGA_OPS_TOP_AND_DIAG("stop_trace_functions", 1, fn_stop_functions1),
    {NULL, NULL, 0, NULL, 0}};

const pga_ops_area_t pga_ops_area_trace = {"trace", fns, trace_init,
                                           trace_fini};
