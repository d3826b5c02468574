/* Unit tests of the rpc layer: the function registry and the rpc:call
 * result shapes built from a function's outcome. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/loop.h"
#include "base/pool.h"
#include "rpc/rpc.h"
#include "check_main.h"

static pga_loop_t *loop;
static pga_pool_t *pool;
static pga_dist_t *dist;
static pga_rpc_t *rpc;

static void setup(void) {
  char err[256];
  ck_assert_int_eq(pga_loop_new(&loop), 0);
  ck_assert_int_eq(pga_pool_new(loop, 2, 16, &pool), 0);
  pga_dist_config_t cfg = {.name = "unit@127.0.0.1", .cookie = "c",
                           .pool = pool};
  ck_assert_int_eq(pga_dist_new(loop, &cfg, &dist, err, sizeof err), 0);
  ck_assert_int_eq(pga_rpc_new(dist, pool, 10, NULL, &rpc), 0);
}

static void teardown(void) {
  pga_pool_free(pool);
  pga_rpc_free(rpc);
  pga_dist_free(dist);
  pga_loop_free(loop);
}

static pga_outcome_t fn_one(pga_call_t *call, size_t argc,
                            const pga_term_t *argv, pga_tb_t *out) {
  pga_tb_int(out, 1);
  return PGA_RETURN;
}

static pga_outcome_t fn_two(pga_call_t *call, size_t argc,
                            const pga_term_t *argv, pga_tb_t *out) {
  pga_tb_int(out, 2);
  return PGA_RETURN;
}

static char *format(const pga_term_t *t) {
  static char buf[512];
  pga_term_format(t, buf, sizeof buf);
  return buf;
}

START_TEST(registry_lookup_finds_by_module_function_arity) {
  pga_fn_def_t def = {.module = "Elixir.M", .function = "f", .arity = 2,
                      .fn = fn_one};
  ck_assert_int_eq(pga_rpc_register(rpc, &def), 0);
  const pga_fn_entry_t *e = pga_rpc_lookup(rpc, "Elixir.M", "f", 2);
  ck_assert_ptr_nonnull(e);
  ck_assert(e->fn == fn_one);
  ck_assert_ptr_null(pga_rpc_lookup(rpc, "Elixir.M", "f", 1));
  ck_assert_ptr_null(pga_rpc_lookup(rpc, "Elixir.M", "g", 2));
  ck_assert(pga_rpc_module_known(rpc, "Elixir.M"));
  ck_assert(!pga_rpc_module_known(rpc, "Elixir.N"));
}
END_TEST

START_TEST(registry_register_replaces_existing) {
  pga_fn_def_t def = {.module = "m", .function = "f", .arity = 0,
                      .fn = fn_one};
  ck_assert_int_eq(pga_rpc_register(rpc, &def), 0);
  def.fn = fn_two;
  ck_assert_int_eq(pga_rpc_register(rpc, &def), 0);
  ck_assert(pga_rpc_lookup(rpc, "m", "f", 0)->fn == fn_two);
}
END_TEST

START_TEST(registry_keys_do_not_collide_on_separators) {
  pga_fn_def_t a = {.module = "a:b", .function = "c", .arity = 1,
                    .fn = fn_one};
  pga_fn_def_t b = {.module = "a", .function = "b:c", .arity = 1,
                    .fn = fn_two};
  ck_assert_int_eq(pga_rpc_register(rpc, &a), 0);
  ck_assert_int_eq(pga_rpc_register(rpc, &b), 0);
  ck_assert(pga_rpc_lookup(rpc, "a:b", "c", 1)->fn == fn_one);
  ck_assert(pga_rpc_lookup(rpc, "a", "b:c", 1)->fn == fn_two);
}
END_TEST

START_TEST(registry_rejects_incomplete_definitions) {
  pga_fn_def_t def = {.module = "m", .function = NULL, .arity = 0,
                      .fn = fn_one};
  ck_assert_int_eq(pga_rpc_register(rpc, &def), PGA_EINVAL);
  def.function = "f";
  def.fn = NULL;
  ck_assert_int_eq(pga_rpc_register(rpc, &def), PGA_EINVAL);
}
END_TEST

START_TEST(builtins_are_registered) {
  ck_assert_ptr_nonnull(pga_rpc_lookup(rpc, "pga_node", "echo", 1));
  ck_assert_ptr_nonnull(pga_rpc_lookup(rpc, "pga_node", "rpc", 5));
  ck_assert_ptr_nonnull(pga_rpc_lookup(rpc, "erlang", "node", 0));
  ck_assert_ptr_nonnull(pga_proc_by_name(dist, "rex"));
  ck_assert_ptr_nonnull(pga_proc_by_name(dist, "net_kernel"));
  ck_assert_ptr_nonnull(pga_proc_by_name(dist, "pga_node"));
}
END_TEST

/* The rpc:call shapes of distribution.md §10.2. */
START_TEST(result_term_shapes_match_rpc_call) {
  pga_tb_t *v = pga_tb_new(0), *st = pga_tb_new(0), *out = pga_tb_new(0);
  pga_tb_atom(v, "boom");
  pga_tb_list(st, 0);
  pga_term_t vt = pga_tb_data(v), stt = pga_tb_data(st), ot;
  pga_rpc_result_term(out, PGA_RETURN, &vt, &stt);
  ot = pga_tb_data(out);
  ck_assert_str_eq(format(&ot), "boom");
  pga_tb_reset(out);
  pga_rpc_result_term(out, PGA_THROW, &vt, &stt);
  ot = pga_tb_data(out);
  ck_assert_str_eq(format(&ot), "boom");
  pga_tb_reset(out);
  pga_rpc_result_term(out, PGA_EXIT, &vt, &stt);
  ot = pga_tb_data(out);
  ck_assert_str_eq(format(&ot), "{badrpc,{'EXIT',boom}}");
  pga_tb_reset(out);
  pga_rpc_result_term(out, PGA_ERROR, &vt, &stt);
  ot = pga_tb_data(out);
  ck_assert_str_eq(format(&ot), "{badrpc,{'EXIT',{boom,[]}}}");
  pga_tb_free(v);
  pga_tb_free(st);
  pga_tb_free(out);
}
END_TEST

int main(void) {
  Suite *s = suite_create("rpc");
  TCase *tc = tcase_create("registry");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, registry_lookup_finds_by_module_function_arity);
  tcase_add_test(tc, registry_register_replaces_existing);
  tcase_add_test(tc, registry_keys_do_not_collide_on_separators);
  tcase_add_test(tc, registry_rejects_incomplete_definitions);
  tcase_add_test(tc, builtins_are_registered);
  tcase_add_test(tc, result_term_shapes_match_rpc_call);
  suite_add_tcase(s, tc);
  return pga_check_run(s);
}
