/* Argument checks of the tracing API (ops-plane.md §9.1), exactly as the
 * library validates them, including its loaded-module quirk: symbolic
 * targets other than a lone :all, and {:_, :_, :_}, are "not loaded". */
#include "ops/trace_int.h"

#include <string.h>

static const char *const flag_names[] = {
    "call",      "return_to",     "return_trace", "procs", "ports",
    "timestamp", "cpu_timestamp", "arity",        "silent"};
static const char *const symbolic_targets[] = {
    "all",                "processes", "ports", "existing",
    "existing_processes", "existing_ports", "new", "new_processes",
    "new_ports"};

#define COUNT(a) (sizeof a / sizeof *a)

static int atom_in(const pga_term_t *t, const char *const *names, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (pga_term_is_atom(t, names[i])) return 1;
  return 0;
}

/* Length of a proper list, or -1 (not a list, improper). */
static long proper_length(const pga_term_t *t) {
  pga_term_iter_t it;
  pga_term_t el, tail;
  long n = 0;
  if (pga_term_iter_init(&it, t) != 0) return -1;
  while (pga_term_iter_next(&it, &el)) n++;
  pga_term_iter_tail(&it, &tail);
  return pga_term_type(&tail) == PGA_T_NIL ? n : -1;
}

int pga_ops_trace_flags_valid(const pga_term_t *flags) {
  pga_term_iter_t it;
  pga_term_t el;
  if (proper_length(flags) < 0) return 0;
  pga_term_iter_init(&it, flags);
  while (pga_term_iter_next(&it, &el))
    if (!atom_in(&el, flag_names, COUNT(flag_names))) return 0;
  return 1;
}

int pga_ops_trace_match_spec_valid(const pga_term_t *ms) {
  pga_term_type_t ty = pga_term_type(ms);
  return pga_term_is_atom(ms, "true") || pga_term_is_atom(ms, "false") ||
         ty == PGA_T_NIL || ty == PGA_T_LIST;
}

static int target_valid(const pga_term_t *t) {
  pga_term_type_t ty = pga_term_type(t);
  return ty == PGA_T_PID || ty == PGA_T_PORT ||
         atom_in(t, symbolic_targets, COUNT(symbolic_targets));
}

/* Writes [x] (single) or the list as is once every element passes. */
static int normalise_list(const pga_term_t *in, int (*valid)(const pga_term_t *),
                          pga_tb_t *tb) {
  pga_term_iter_t it;
  pga_term_t el;
  long n = proper_length(in);
  if (pga_term_type(in) != PGA_T_NIL && pga_term_type(in) != PGA_T_LIST) {
    if (!valid(in)) return -1;
    pga_tb_list(tb, 1);
    pga_tb_term(tb, in);
    pga_tb_nil(tb);
    return 0;
  }
  if (n < 0 || n > PGA_OPS_TRACE_LIST_MAX) return -1;
  pga_term_iter_init(&it, in);
  while (pga_term_iter_next(&it, &el))
    if (!valid(&el)) return -1;
  pga_tb_term(tb, in);
  return 0;
}

int pga_ops_trace_targets(const pga_term_t *targets, pga_tb_t *tb) {
  return normalise_list(targets, target_valid, tb);
}

/* ---- MFAs ---- */

static int is_atom(const pga_term_t *t) {
  return pga_term_type(t) == PGA_T_ATOM;
}

static int tuple_of(const pga_term_t *t, size_t arity, pga_term_t *el) {
  size_t n;
  if (pga_term_tuple_arity(t, &n) != 0 || n != arity) return 0;
  for (size_t i = 0; i < arity; i++)
    if (pga_term_tuple_get(t, i, &el[i]) != 0) return 0;
  return 1;
}

static int arity_valid(const pga_term_t *a) {
  int64_t v;
  if (pga_term_is_atom(a, "_")) return 1;
  switch (pga_term_type(a)) {
    case PGA_T_INTEGER: return pga_term_get_int64(a, &v) == 0 && v >= 0;
    case PGA_T_BIGINT: /* the sign byte of SMALL_BIG_EXT / LARGE_BIG_EXT */
      return a->buf[0] == 110 ? a->len > 2 && a->buf[2] == 0
                              : a->len > 5 && a->buf[5] == 0;
    default: return 0;
  }
}

static int mfa_valid(const pga_term_t *t) {
  pga_term_t el[3];
  if (pga_term_is_atom(t, "all")) return 1;
  if (tuple_of(t, 2, el)) return is_atom(&el[0]) && is_atom(&el[1]);
  return tuple_of(t, 3, el) && is_atom(&el[0]) && is_atom(&el[1]) &&
         arity_valid(&el[2]);
}

static void put_any(pga_tb_t *tb) {
  pga_tb_atom(tb, "_");
}

static void put_mfa(pga_tb_t *tb, const pga_term_t *t) {
  pga_term_t el[3];
  pga_tb_tuple(tb, 3);
  if (pga_term_is_atom(t, "all")) {
    put_any(tb);
    put_any(tb);
    put_any(tb);
  } else if (tuple_of(t, 2, el)) {
    pga_tb_term(tb, &el[0]);
    pga_tb_term(tb, &el[1]);
    put_any(tb);
  } else {
    tuple_of(t, 3, el);
    for (size_t i = 0; i < 3; i++) pga_tb_term(tb, &el[i]);
  }
}

int pga_ops_trace_mfas(const pga_term_t *mfas, pga_tb_t *tb) {
  pga_term_iter_t it;
  pga_term_t el;
  long n = proper_length(mfas);
  pga_term_type_t ty = pga_term_type(mfas);
  if (ty != PGA_T_NIL && ty != PGA_T_LIST) {
    if (!mfa_valid(mfas)) return -1;
    pga_tb_list(tb, 1);
    put_mfa(tb, mfas);
    pga_tb_nil(tb);
    return 0;
  }
  if (n < 0 || n > PGA_OPS_TRACE_LIST_MAX) return -1;
  pga_term_iter_init(&it, mfas);
  while (pga_term_iter_next(&it, &el))
    if (!mfa_valid(&el)) return -1;
  pga_tb_list(tb, (size_t)n);
  pga_term_iter_init(&it, mfas);
  while (pga_term_iter_next(&it, &el)) put_mfa(tb, &el);
  if (n) pga_tb_nil(tb);
  return 0;
}

/* ---- loaded modules ---- */

static int lone_all(const pga_term_t *targets) {
  pga_term_iter_t it;
  pga_term_t el;
  return proper_length(targets) == 1 && pga_term_iter_init(&it, targets) == 0 &&
         pga_term_iter_next(&it, &el) && pga_term_is_atom(&el, "all");
}

/* Writes the elements of list for which bad() holds; their number. */
static size_t filter_into(const pga_term_t *list,
                          int (*bad)(const pga_term_t *, pga_ops_loaded_fn,
                                     void *),
                          pga_ops_loaded_fn loaded, void *ud, pga_tb_t *tb) {
  pga_term_iter_t it;
  pga_term_t el;
  size_t n = 0;
  if (pga_term_iter_init(&it, list) != 0) return 0;
  while (pga_term_iter_next(&it, &el)) n += bad(&el, loaded, ud);
  pga_tb_list(tb, n);
  if (n == 0) return 0;
  pga_term_iter_init(&it, list);
  while (pga_term_iter_next(&it, &el))
    if (bad(&el, loaded, ud)) pga_tb_term(tb, &el);
  pga_tb_nil(tb);
  return n;
}

static int target_unloaded(const pga_term_t *t, pga_ops_loaded_fn loaded,
                           void *ud) {
  return is_atom(t) && !loaded(ud, t);
}

static int mfa_unloaded(const pga_term_t *t, pga_ops_loaded_fn loaded,
                        void *ud) {
  pga_term_t m;
  return pga_term_tuple_get(t, 0, &m) == 0 && !loaded(ud, &m);
}

size_t pga_ops_trace_unloaded_targets(const pga_term_t *targets,
                                      pga_ops_loaded_fn loaded, void *ud,
                                      pga_tb_t *tb) {
  if (lone_all(targets)) {
    pga_tb_list(tb, 0);
    return 0;
  }
  return filter_into(targets, target_unloaded, loaded, ud, tb);
}

size_t pga_ops_trace_unloaded_mfas(const pga_term_t *mfas,
                                   pga_ops_loaded_fn loaded, void *ud,
                                   pga_tb_t *tb) {
  return filter_into(mfas, mfa_unloaded, loaded, ud, tb);
}

int pga_ops_trace_mfa_covers(const pga_term_t *pattern,
                             const pga_term_t *mfa) {
  pga_term_t p[3], m[3];
  if (!tuple_of(pattern, 3, p) || !tuple_of(mfa, 3, m)) return 0;
  for (size_t i = 0; i < 3; i++)
    if (!pga_term_is_atom(&p[i], "_") && !pga_term_equal(&p[i], &m[i]))
      return 0;
  return 1;
}
