/* module_info/0,1 and __info__/1 of PhoenixGenApi (ops-plane.md §2
 * [PROPOSAL]): the export list is what the node actually serves under
 * 'Elixir.PhoenixGenApi', read from the RPC registry at call time, so it
 * follows whatever the planes registered. */
#include <stdlib.h>
#include <string.h>

#include "ops/ops_int.h"
#include "pga/errno.h"

typedef struct export_s {
  const char *name;
  unsigned arity;
} export_t;

typedef struct exports_s {
  export_t *v;
  size_t n, cap;
  int err;
} exports_t;

/* The BEAM lists these itself; __info__(:functions) leaves them out. */
static int is_reflection(const char *name) {
  return strcmp(name, "module_info") == 0 || strcmp(name, "__info__") == 0;
}

static void collect(void *ud, const pga_fn_entry_t *e) {
  exports_t *x = ud;
  if (x->err || is_reflection(e->function)) return;
  if (x->n == x->cap) {
    size_t cap = x->cap ? x->cap * 2 : 64;
    export_t *v = realloc(x->v, cap * sizeof *v);
    if (!v) {
      x->err = PGA_ENOMEM;
      return;
    }
    x->v = v;
    x->cap = cap;
  }
  x->v[x->n++] = (export_t){e->function, e->arity};
}

/* Atoms sort by name (UTF-8 bytes), then arity: Elixir's order. */
static int export_cmp(const void *pa, const void *pb) {
  const export_t *a = pa, *b = pb;
  int c = strcmp(a->name, b->name);
  if (c) return c;
  return (a->arity > b->arity) - (a->arity < b->arity);
}

static int read_exports(pga_ops_t *ops, exports_t *x) {
  memset(x, 0, sizeof *x);
  pga_rpc_each_function(ops->rpc, PGA_OPS_MOD_TOP, collect, x);
  if (x->err) {
    free(x->v);
    return x->err;
  }
  if (x->n) qsort(x->v, x->n, sizeof *x->v, export_cmp);
  return 0;
}

static void put_pair(pga_tb_t *out, const char *name, unsigned arity) {
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, name);
  pga_tb_uint(out, arity);
}

/* with_reflection: module_info(:exports) also lists __info__/1 and
 * module_info/0,1, as every Elixir module exports them. */
static void put_exports(pga_tb_t *out, const exports_t *x,
                        int with_reflection) {
  size_t n = x->n + (with_reflection ? 3 : 0);
  /* pga_tb_list(out, 0) is [] by itself: no tail then. */
  if (n) pga_tb_list(out, n);
  if (with_reflection) put_pair(out, "__info__", 1);
  for (size_t i = 0; i < x->n; i++) put_pair(out, x->v[i].name, x->v[i].arity);
  if (with_reflection) {
    put_pair(out, "module_info", 0);
    put_pair(out, "module_info", 1);
  }
  pga_tb_nil(out);
}

static void put_md5(pga_tb_t *out) {
  static const char zero[16];
  pga_tb_binary(out, zero, sizeof zero);
}

/* Writes module_info(item); 0, or -1 for an unknown item. */
static int put_module_info(pga_tb_t *out, const exports_t *x,
                           const char *item) {
  if (strcmp(item, "module") == 0)
    pga_tb_atom(out, PGA_OPS_MOD_TOP);
  else if (strcmp(item, "exports") == 0 || strcmp(item, "functions") == 0)
    put_exports(out, x, 1);
  else if (strcmp(item, "attributes") == 0 ||
           strcmp(item, "compile") == 0 || strcmp(item, "nifs") == 0)
    pga_tb_nil(out);
  else if (strcmp(item, "md5") == 0)
    put_md5(out);
  else if (strcmp(item, "native") == 0)
    pga_tb_atom(out, "false");
  else
    return -1;
  return 0;
}

static pga_outcome_t out_of_memory(pga_tb_t *out) {
  pga_tb_reset(out);
  pga_tb_atom(out, "enomem");
  return PGA_ERROR;
}

static pga_outcome_t fn_module_info0(pga_ops_t *ops, pga_call_t *call,
                                     const pga_term_t *argv, pga_tb_t *out) {
  (void)call;
  (void)argv;
  static const char *const items[] = {"module", "exports", "attributes",
                                      "compile", "md5"};
  exports_t x;
  if (read_exports(ops, &x)) return out_of_memory(out);
  pga_tb_list(out, 5);
  for (size_t i = 0; i < 5; i++) {
    pga_tb_tuple(out, 2);
    pga_tb_atom(out, items[i]);
    (void)put_module_info(out, &x, items[i]);
  }
  pga_tb_nil(out);
  free(x.v);
  return PGA_RETURN;
}

/* erlang:get_module_info/2 raises badarg for an unknown item. */
static pga_outcome_t fn_module_info1(pga_ops_t *ops, pga_call_t *call,
                                     const pga_term_t *argv, pga_tb_t *out) {
  (void)call;
  char item[PGA_ATOM_BUF];
  exports_t x;
  if (pga_term_get_atom(&argv[0], item, sizeof item) != 0) item[0] = 0;
  if (read_exports(ops, &x)) return out_of_memory(out);
  int rc = put_module_info(out, &x, item);
  free(x.v);
  if (rc == 0) return PGA_RETURN;
  pga_tb_reset(out);
  pga_tb_atom(out, "badarg");
  return PGA_ERROR;
}

/* __info__/1: the keys Elixir defines; others are a function clause. */
static pga_outcome_t fn_info(pga_ops_t *ops, pga_call_t *call,
                             const pga_term_t *argv, pga_tb_t *out) {
  (void)call;
  const pga_term_t *key = &argv[0];
  exports_t x;
  if (pga_term_is_atom(key, "functions")) {
    if (read_exports(ops, &x)) return out_of_memory(out);
    put_exports(out, &x, 0);
    free(x.v);
  } else if (pga_term_is_atom(key, "module")) {
    pga_tb_atom(out, PGA_OPS_MOD_TOP);
  } else if (pga_term_is_atom(key, "macros") ||
             pga_term_is_atom(key, "attributes") ||
             pga_term_is_atom(key, "compile") ||
             pga_term_is_atom(key, "deprecated")) {
    pga_tb_nil(out);
  } else if (pga_term_is_atom(key, "md5")) {
    put_md5(out);
  } else if (pga_term_is_atom(key, "struct")) {
    pga_tb_atom(out, "nil");
  } else {
    return pga__ops_function_clause(out);
  }
  return PGA_RETURN;
}

static const pga_ops_fn_def_t fns[] = {
    {PGA_OPS_MOD_TOP, "module_info", 0, fn_module_info0, 0},
    {PGA_OPS_MOD_TOP, "module_info", 1, fn_module_info1, 0},
    {PGA_OPS_MOD_TOP, "__info__", 1, fn_info, 0},
    {NULL, NULL, 0, NULL, 0}};

const pga_ops_area_t pga_ops_area_facade = {"facade", fns, NULL, NULL};
