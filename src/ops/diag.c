/* The diagnostics area's served functions (ops-plane.md §2 rows 11, 12,
 * 21, 22, 37, 38, 44; §3 Diagnostics): health_check, statistics,
 * debug_report and trace_status under PhoenixGenApi and
 * PhoenixGenApi.Diagnostics, the print helpers under PhoenixGenApi, and
 * the area's state (the pseudo-processes' pids, the "since last call"
 * counters). */
#include "config.h"

#include <stdlib.h>

#include "ops/diag.h"
#include "pga/errno.h"

static pga_outcome_t fn_health0(pga_ops_t *ops, pga_call_t *call,
                                const pga_term_t *argv, pga_tb_t *out) {
  (void)argv;
  return pga__ops_health(ops, call, NULL, out);
}

static pga_outcome_t fn_health1(pga_ops_t *ops, pga_call_t *call,
                                const pga_term_t *argv, pga_tb_t *out) {
  return pga__ops_health(ops, call, &argv[0], out);
}

/* statistics/1 ignores its options, whatever they are. */
static pga_outcome_t fn_statistics(pga_ops_t *ops, pga_call_t *call,
                                   const pga_term_t *argv, pga_tb_t *out) {
  (void)argv;
  return pga__ops_statistics(ops, call, out);
}

static pga_outcome_t fn_debug0(pga_ops_t *ops, pga_call_t *call,
                               const pga_term_t *argv, pga_tb_t *out) {
  (void)argv;
  return pga__ops_debug_report(ops, call, NULL, out);
}

static pga_outcome_t fn_debug1(pga_ops_t *ops, pga_call_t *call,
                               const pga_term_t *argv, pga_tb_t *out) {
  return pga__ops_debug_report(ops, call, &argv[0], out);
}

static pga_outcome_t fn_trace_status(pga_ops_t *ops, pga_call_t *call,
                                     const pga_term_t *argv, pga_tb_t *out) {
  (void)call;
  (void)argv;
  pga_tb_reset(out);
  pga__ops_put_trace_status(ops, out);
  return PGA_RETURN;
}

/* ---- print helpers: the term first, then its text ---- */

typedef void (*render_fn)(pga_ops_text_t *t, const pga_term_t *value,
                          const pga_term_t *opts);

static pga_outcome_t print_value(pga_call_t *call, pga_outcome_t oc,
                                 render_fn render, const pga_term_t *opts,
                                 pga_tb_t *out) {
  if (oc != PGA_RETURN) return oc;
  pga_ops_text_t t;
  pga_ops_text_init(&t);
  pga_term_t value = pga_tb_data(out);
  render(&t, &value, opts);
  oc = pga_ops_print(call, &t, out);
  pga_ops_text_free(&t);
  return oc;
}

static void render_health(pga_ops_text_t *t, const pga_term_t *v,
                          const pga_term_t *opts) {
  (void)opts;
  pga__ops_render_health(t, v);
}

static void render_stats(pga_ops_text_t *t, const pga_term_t *v,
                         const pga_term_t *opts) {
  (void)opts;
  pga__ops_render_stats(t, v);
}

/* debug_print echoes Keyword.get(opts, :process_limit, 20). */
static void render_debug(pga_ops_text_t *t, const pga_term_t *v,
                         const pga_term_t *opts) {
  pga_term_t limit;
  int given = opts && pga__ops_kw_get(opts, "process_limit", &limit);
  pga__ops_render_debug(t, v, given ? &limit : NULL);
}

static pga_outcome_t fn_health_print0(pga_ops_t *ops, pga_call_t *call,
                                      const pga_term_t *argv, pga_tb_t *out) {
  (void)argv;
  return print_value(call, pga__ops_health(ops, call, NULL, out),
                     render_health, NULL, out);
}

static pga_outcome_t fn_health_print1(pga_ops_t *ops, pga_call_t *call,
                                      const pga_term_t *argv, pga_tb_t *out) {
  return print_value(call, pga__ops_health(ops, call, &argv[0], out),
                     render_health, &argv[0], out);
}

static pga_outcome_t fn_stats_print(pga_ops_t *ops, pga_call_t *call,
                                    const pga_term_t *argv, pga_tb_t *out) {
  (void)argv;
  return print_value(call, pga__ops_statistics(ops, call, out), render_stats,
                     NULL, out);
}

static pga_outcome_t fn_debug_print0(pga_ops_t *ops, pga_call_t *call,
                                     const pga_term_t *argv, pga_tb_t *out) {
  (void)argv;
  return print_value(call, pga__ops_debug_report(ops, call, NULL, out),
                     render_debug, NULL, out);
}

static pga_outcome_t fn_debug_print1(pga_ops_t *ops, pga_call_t *call,
                                     const pga_term_t *argv, pga_tb_t *out) {
  return print_value(call, pga__ops_debug_report(ops, call, &argv[0], out),
                     render_debug, &argv[0], out);
}

/* ---- state ---- */

/* Runs before the loop does (plane start), so minting pids is safe. */
static int diag_init(pga_ops_t *ops) {
  pga_ops_diag_t *st = calloc(1, sizeof *st);
  if (!st) return PGA_ENOMEM;
  ops->diag = st;
  return pga__ops_sub_procs_start(ops, st);
}

static void diag_fini(pga_ops_t *ops) {
  free(ops->diag);
  ops->diag = NULL;
}

static const pga_ops_fn_def_t fns[] = {
    PGA_OPS_TOP_AND_DIAG("health_check", 0, fn_health0),
    PGA_OPS_TOP_AND_DIAG("health_check", 1, fn_health1),
    PGA_OPS_TOP_AND_DIAG("statistics", 0, fn_statistics),
    PGA_OPS_TOP_AND_DIAG("statistics", 1, fn_statistics),
    PGA_OPS_TOP_AND_DIAG("debug_report", 0, fn_debug0),
    PGA_OPS_TOP_AND_DIAG("debug_report", 1, fn_debug1),
    PGA_OPS_TOP_AND_DIAG("trace_status", 0, fn_trace_status),
    {PGA_OPS_MOD_TOP, "health_print", 0, fn_health_print0, 0},
    {PGA_OPS_MOD_TOP, "health_print", 1, fn_health_print1, 0},
    {PGA_OPS_MOD_TOP, "stats_print", 0, fn_stats_print, 0},
    {PGA_OPS_MOD_TOP, "debug_print", 0, fn_debug_print0, 0},
    {PGA_OPS_MOD_TOP, "debug_print", 1, fn_debug_print1, 0},
    {NULL, NULL, 0, NULL, 0}};

const pga_ops_area_t pga_ops_area_diag = {"diag", fns, diag_init, diag_fini};
