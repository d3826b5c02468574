/* Unit tests of config validation (config-plane.md §2, §7; acceptance
 * cases 1-27, 35-36, 63): FunConfig and PushConfig messages and order,
 * MFA allow/deny, same_service?, version rules, retry normalisation and
 * the push token. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config/plane_int.h"
#include "config_terms.h"
#include "check_main.h"

/* Fixture F of §12 (node() is a fixed atom here). */
#define F                                                                  \
  "request_type: \"test_request\", service: \"test_service\", "           \
  "nodes: [:\"t@127.0.0.1\"], choose_node_mode: :random, timeout: 5000, "  \
  "mfa: {String, :upcase, []}, arg_types: %{}, arg_orders: [], "           \
  "response_type: :sync, version: \"1.0.0\""
#define P "service: \"test_service\", nodes: [:\"t@127.0.0.1\"], " \
          "config_version: \"1.0.0\""

enum {
  RT = 1u << 0, SVC = 1u << 1, NODES = 1u << 2, CNM = 1u << 3,
  TMO = 1u << 4, MFA = 1u << 5, ARGS = 1u << 6, RESP = 1u << 7,
  PERM = 1u << 8, PCB = 1u << 9, RINFO = 1u << 10, VER = 1u << 11,
  RETRY = 1u << 12, BEFORE = 1u << 13, AFTER = 1u << 14, HOOK = 1u << 15
};

static void teardown(void) { tt_reset(); }

static pga_funconfig_t *fc_of(pga_term_t t) {
  pga_funconfig_t *fc = NULL;
  ck_assert_int_eq(pga_funconfig_decode(&t, &fc), 0);
  return fc;
}

/* The failed-check mask of F with overrides. */
static unsigned check(const char *over) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s%s%s}", "%FC{" F, *over ? ", " : "", over);
  pga_funconfig_t *fc = fc_of(T(buf));
  unsigned m = pga_funconfig_check(fc);
  pga_funconfig_free(fc);
  return m;
}

static pga_term_t messages(const char *const *msgs, unsigned mask, unsigned n) {
  pga_tb_t *tb = pga_tb_new(0);
  pga_messages_encode(tb, msgs, mask, n);
  tt_pool[tt_n++] = tb;
  return pga_tb_data(tb);
}

START_TEST(fc_fixture_versions_valid) {
  ck_assert_uint_eq(check(""), 0);
  ck_assert_uint_eq(check("version: nil"), 0);
  ck_assert_uint_eq(check("version: \"v1\""), 0);
}
END_TEST

START_TEST(fc_version_sentinel_and_empty_invalid) {
  ck_assert_uint_eq(check("version: \"0.0.0\""), VER);
  ck_assert_uint_eq(check("version: \"\""), VER);
  ck_assert_uint_eq(check("version: :v1"), VER);
  ck_assert_term(messages(pga_fc_messages, VER, PGA_FC_NCHECKS),
                 "[\"version must be a valid version string (e.g., '1.0.0')\"]");
}
END_TEST

START_TEST(fc_timeout_bounds_exact) {
  ck_assert_uint_eq(check("timeout: 99"), TMO);
  ck_assert_uint_eq(check("timeout: 100"), 0);
  ck_assert_uint_eq(check("timeout: 300000"), 0);
  ck_assert_uint_eq(check("timeout: :infinity"), 0);
  ck_assert_uint_eq(check("timeout: 300001"), TMO);
  ck_assert_uint_eq(check("timeout: 500000"), TMO);
  ck_assert_uint_eq(check("timeout: 5000.0"), TMO);
  ck_assert_uint_eq(check("timeout: nil"), TMO);
}
END_TEST

START_TEST(fc_nodes_forms) {
  ck_assert_uint_eq(check("nodes: []"), NODES);
  ck_assert_uint_eq(check("nodes: {Invalid, :func}"), NODES);
  ck_assert_uint_eq(check("nodes: [123]"), NODES);
  ck_assert_uint_eq(check("nodes: :local"), 0);
  ck_assert_uint_eq(check("nodes: [\"n1@localhost\", :n2@h]"), 0);
  ck_assert_uint_eq(check("nodes: {ClusterHelper, :get_nodes, [:chat]}"), 0);
}
END_TEST

START_TEST(fc_choose_node_mode_forms) {
  ck_assert_uint_eq(check("choose_node_mode: :hash"), 0);
  ck_assert_uint_eq(check("choose_node_mode: :round_robin"), 0);
  ck_assert_uint_eq(check("choose_node_mode: {:hash, \"user_id\"}"), 0);
  ck_assert_uint_eq(check("choose_node_mode: {:sticky, \"user_id\"}"), 0);
  ck_assert_uint_eq(check("choose_node_mode: :invalid"), CNM);
  ck_assert_uint_eq(check("choose_node_mode: nil"), CNM);
  ck_assert_uint_eq(check("choose_node_mode: {:hash, :user_id}"), CNM);
}
END_TEST

START_TEST(fc_mfa_shape_required) {
  ck_assert_uint_eq(check("mfa: \"not_a_tuple\""), MFA);
  ck_assert_uint_eq(check("mfa: {String, :upcase}"), MFA);
}
END_TEST

START_TEST(fc_arg_orders_mismatch_invalid) {
  ck_assert_uint_eq(check("arg_types: %{\"user1\" => :uuid}, "
                          "arg_orders: [\"user1\", \"user2\"]"), ARGS);
  ck_assert_uint_eq(check("arg_types: %{\"a\" => :string, \"b\" => :string}, "
                          "arg_orders: nil"), ARGS);
  ck_assert_uint_eq(check("arg_types: %{\"a\" => :string, \"b\" => :string}, "
                          "arg_orders: []"), 0);
  ck_assert_uint_eq(check("arg_types: %{\"a\" => :string, \"b\" => :string}, "
                          "arg_orders: :map"), 0);
  ck_assert_uint_eq(check("arg_types: %{\"a\" => :string, \"b\" => :string}, "
                          "arg_orders: [\"b\", \"a\"]"), 0);
  ck_assert_uint_eq(check("arg_types: %{\"a\" => :string, \"b\" => :string}, "
                          "arg_orders: [\"a\", \"a\"]"), ARGS);
}
END_TEST

START_TEST(fc_arg_types_empty_or_nil_table) {
  ck_assert_uint_eq(check("arg_types: %{}, arg_orders: :map"), ARGS);
  ck_assert_uint_eq(check("arg_types: nil, arg_orders: [\"a\"]"), ARGS);
  ck_assert_uint_eq(check("arg_types: nil, arg_orders: :map"), ARGS);
  ck_assert_uint_eq(check("arg_types: nil, arg_orders: nil"), 0);
  ck_assert_uint_eq(check("arg_types: nil, arg_orders: []"), 0);
  ck_assert_uint_eq(check("arg_types: %{}, arg_orders: nil"), 0);
  ck_assert_uint_eq(check("arg_types: [1], arg_orders: []"), ARGS);
}
END_TEST

START_TEST(fc_arg_spec_forms) {
#define SPEC(spec) check("arg_types: %{\"n\" => " spec "}, arg_orders: [\"n\"]")
  ck_assert_uint_eq(SPEC("[max_bytes: 5000]"), ARGS);
  ck_assert_uint_eq(SPEC("[type: :string, unknown_option: true]"), 0);
  ck_assert_uint_eq(SPEC("[type: :num, default_value: \"not_a_number\"]"), 0);
  ck_assert_uint_eq(SPEC("[type: :list_uuid, max_items: 0]"), 0);
  ck_assert_uint_eq(SPEC("{:string, 255}"), 0);
  ck_assert_uint_eq(SPEC(":datetime"), ARGS);
  ck_assert_uint_eq(SPEC(":invalid_type"), ARGS);
  ck_assert_uint_eq(SPEC("[]"), ARGS);
  ck_assert_uint_eq(SPEC("[{:type, :string, 1}]"), ARGS);
  ck_assert_uint_eq(SPEC("[1, 2]"), ARGS);
  ck_assert_uint_eq(SPEC("[max_bytes: 1, type: :uuid]"), 0);
#undef SPEC
}
END_TEST

START_TEST(fc_response_type_forms) {
  ck_assert_uint_eq(check("response_type: :invalid"), RESP);
  ck_assert_uint_eq(check("response_type: :async"), 0);
  ck_assert_uint_eq(check("response_type: :stream"), 0);
  ck_assert_uint_eq(check("response_type: :none"), 0);
}
END_TEST

START_TEST(fc_check_permission_forms) {
  ck_assert_uint_eq(check("check_permission: :invalid"), PERM);
  ck_assert_uint_eq(check("check_permission: {:arg, :user_id}"), PERM);
  ck_assert_uint_eq(check("check_permission: :any_authenticated"), 0);
  ck_assert_uint_eq(check("check_permission: {:arg, \"user_id\"}"), 0);
  ck_assert_uint_eq(check("check_permission: {:role, [\"admin\", \"user\"]}"), 0);
  ck_assert_uint_eq(check("check_permission: {:role, []}"), 0);
}
END_TEST

START_TEST(fc_callbacks_and_hooks_forms) {
  ck_assert_uint_eq(check("permission_callback: \"invalid\""), PCB);
  ck_assert_uint_eq(check("permission_callback: {MyModule, :my_func, []}"), 0);
  ck_assert_uint_eq(check("permission_callback: {MyModule, :my_func}"), 0);
  ck_assert_uint_eq(check("before_execute: \"invalid\""), BEFORE);
  ck_assert_uint_eq(check("before_execute: {MyModule, :my_func}"), 0);
  ck_assert_uint_eq(check("before_execute: {MyModule, :my_func, [1, 2, 3]}"), 0);
  ck_assert_uint_eq(check("after_execute: \"invalid\""), AFTER);
  ck_assert_uint_eq(check("after_execute: {MyModule, :my_func}"), 0);
}
END_TEST

START_TEST(fc_request_info_boolean) {
  ck_assert_uint_eq(check("request_info: \"not_boolean\""), RINFO);
  ck_assert_uint_eq(check("request_info: true"), 0);
}
END_TEST

START_TEST(fc_retry_forms) {
  ck_assert_uint_eq(check("retry: 0"), RETRY);
  ck_assert_uint_eq(check("retry: -1"), RETRY);
  ck_assert_uint_eq(check("retry: {:other_mode, 3}"), RETRY);
  ck_assert_uint_eq(check("retry: \"3\""), RETRY);
  ck_assert_uint_eq(check("retry: 3"), 0);
  ck_assert_uint_eq(check("retry: 0.5"), 0);
  ck_assert_uint_eq(check("retry: {:same_node, 2}"), 0);
  ck_assert_uint_eq(check("retry: {:all_nodes, 5}"), 0);
}
END_TEST

START_TEST(fc_hook_timeout_positive_integer) {
  ck_assert_uint_eq(check("hook_timeout: 0"), HOOK);
  ck_assert_uint_eq(check("hook_timeout: -1"), HOOK);
  ck_assert_uint_eq(check("hook_timeout: \"fast\""), HOOK);
  pga_funconfig_t *fc = pga_funconfig_new();
  pga_term_t h = pga_funconfig_get(fc, PGA_FC_HOOK_TIMEOUT);
  ck_assert_term(h, "5000");
  pga_funconfig_free(fc);
}
END_TEST

START_TEST(fc_many_failures_exact_messages_in_order) {
  unsigned m = check("request_type: \"\", service: nil, nodes: nil, "
                     "choose_node_mode: :invalid, timeout: 50, "
                     "arg_types: %{\"name\" => :string}, "
                     "arg_orders: [\"name\"], response_type: :invalid");
  ck_assert_term(messages(pga_fc_messages, m, PGA_FC_NCHECKS),
      "[\"request_type must be a non-empty string\", "
      "\"service must not be nil\", "
      "\"nodes must be a valid list, MFA tuple, or :local\", "
      "\"choose_node_mode must be :random, :hash, {:hash, key}, "
      ":round_robin, or {:sticky, key}\", "
      "\"timeout must be a positive integer between 100 and 300000, or "
      ":infinity\", "
      "\"response_type must be :sync, :async, :stream, or :none\"]");
}
END_TEST

START_TEST(fc_all_defaults_seven_messages) {
  pga_funconfig_t *fc = fc_of(T("%FC{}"));
  ck_assert_uint_eq(pga_funconfig_check(fc),
                    RT | SVC | NODES | CNM | TMO | MFA | RESP);
  pga_funconfig_free(fc);
}
END_TEST

START_TEST(fc_disabled_never_checked) {
  ck_assert_uint_eq(check("disabled: \"yes\""), 0);
}
END_TEST

static pga_term_t retry(const char *in) {
  pga_term_t t = T(in);
  pga_tb_t *tb = pga_tb_new(0);
  pga_normalize_retry(tb, &t);
  tt_pool[tt_n++] = tb;
  return pga_tb_data(tb);
}

START_TEST(retry_normalize_truncates) {
  ck_assert_term(retry("3.7"), "{:all_nodes, 3}");
  ck_assert_term(retry("0.5"), "{:all_nodes, 0}");
  ck_assert_term(retry("{:same_node, 2.9}"), "{:same_node, 2}");
  ck_assert_term(retry("{:all_nodes, 4}"), "{:all_nodes, 4}");
  ck_assert_term(retry("nil"), "nil");
}
END_TEST

/* ---- PushConfig ---- */

static unsigned pcheck(const char *text) {
  pga__rec_t *pc;
  pga_term_t t = T(text);
  ck_assert_int_eq(pga_pushconfig_decode(&t, &pc), 0);
  unsigned m = pga_pushconfig_check(pc);
  pga__rec_free(pc);
  return m;
}

START_TEST(pc_many_failures_exact_messages) {
  unsigned m = pcheck("%PC{" P ", fun_configs: [%FC{" F "}], service: nil, "
                      "nodes: [], config_version: \"\"}");
  ck_assert_term(messages(pga_pc_messages, m, PGA_PC_NCHECKS),
      "[\"service must not be nil\", "
      "\"nodes must be a non-empty list of atoms or strings\", "
      "\"config_version must be a non-empty string\", "
      "\"all fun_configs must have the same service name as the push "
      "config\"]");
}
END_TEST

START_TEST(pc_empty_fun_configs_one_message) {
  ck_assert_uint_eq(pcheck("%PC{" P ", fun_configs: []}"), 1u << 3);
}
END_TEST

START_TEST(pc_non_struct_fun_configs_three_messages) {
  ck_assert_uint_eq(pcheck("%PC{" P ", fun_configs: \"not_a_list\"}"),
                    (1u << 3) | (1u << 4) | (1u << 5));
  ck_assert_uint_eq(pcheck("%PC{" P ", fun_configs: [%{request_type: \"test\"}]}"),
                    (1u << 3) | (1u << 4) | (1u << 5));
}
END_TEST

START_TEST(pc_same_service_loose) {
  ck_assert_uint_eq(pcheck("%PC{" P ", fun_configs: [%FC{" F
                           ", service: \"different_service\"}]}"), 1u << 4);
  ck_assert_uint_eq(pcheck("%PC{" P ", fun_configs: [%FC{" F
                           ", service: :test_service}]}"), 0);
}
END_TEST

START_TEST(pc_nodes_and_config_version_checked) {
  ck_assert_uint_eq(pcheck("%PC{" P ", fun_configs: [%FC{" F "}], "
                           "nodes: \"not_a_list\"}"), 1u << 1);
  ck_assert_uint_eq(pcheck("%PC{" P ", fun_configs: [%FC{" F "}], "
                           "config_version: nil}"), 1u << 2);
}
END_TEST

START_TEST(pc_invalid_item_without_version_sinks_push) {
  ck_assert_uint_eq(pcheck("%PC{" P ", fun_configs: [%FC{" F
                           ", timeout: 50, version: nil}]}"), 1u << 5);
  ck_assert_uint_eq(pcheck("%PC{" P ", fun_configs: [%FC{" F
                           ", timeout: 50, version: \"0.0.0\"}]}"), 0);
}
END_TEST

START_TEST(pc_service_config_only_with_module_and_function) {
  pga__rec_t *pc, *sc;
  pga_term_t t = T("%PC{" P ", fun_configs: [], module: M, "
                   "function: :get_config, args: [:a], version_module: V, "
                   "version_function: :v, version_args: [:b]}");
  ck_assert_int_eq(pga_pushconfig_decode(&t, &pc), 0);
  ck_assert_int_eq(pga_pushconfig_service_config(pc, &sc), 0);
  pga_tb_t *tb = pga_tb_new(0);
  pga__rec_encode(tb, sc, 1);
  ck_assert_term(pga_tb_data(tb),
      "%SC{service: \"test_service\", nodes: [:\"t@127.0.0.1\"], module: M, "
      "function: :get_config, args: [:a], version_module: V, "
      "version_function: :v, version_args: [:b]}");
  pga_tb_free(tb);
  pga__rec_free(sc);
  ck_assert(pga__rec_set(pc, PGA_PC_MODULE, &pga__t_nil) == 0);
  ck_assert_int_eq(pga_pushconfig_service_config(pc, &sc), PGA_ENOTFOUND);
  ck_assert_ptr_null(sc);
  pga__rec_free(pc);
}
END_TEST

/* ---- helpers ---- */

START_TEST(same_service_rules) {
  pga_term_t a = T(":svc"), b = T("\"svc\""), c = T("nil"), d = T("1");
  pga_term_t e = T(":other"), f = T("\"svc\"");
  ck_assert(pga_same_service(&a, &b));
  ck_assert(pga_same_service(&b, &a));
  ck_assert(pga_same_service(&b, &f));
  ck_assert(pga_same_service(&a, &a));
  ck_assert(!pga_same_service(&a, &e));
  ck_assert(!pga_same_service(&c, &c));
  ck_assert(!pga_same_service(&d, &d));
  pga_term_t n = T(":nil"), nb = T("\"nil\"");
  ck_assert(!pga_same_service(&n, &nb));
}
END_TEST

static int mfa_ok(const char *mfa, const char *allow) {
  pga_term_t m = T(mfa), a;
  if (allow) a = T(allow);
  return pga_mfa_allowed(&m, allow ? &a : NULL);
}

START_TEST(mfa_allowlist_and_denylist) {
  ck_assert(mfa_ok("{MyApp.Order, :create, []}", "[{MyApp.Order, :create}]"));
  ck_assert(!mfa_ok("{MyApp.Order, :delete, []}", "[{MyApp.Order, :create}]"));
  ck_assert(mfa_ok("{MyApp.Order, :delete, []}", "[MyApp.Order]"));
  ck_assert(!mfa_ok("{MyModule, :my_fn, []}", "[]"));
  ck_assert(mfa_ok("{MyModule, :my_function, [:a]}", NULL));
  ck_assert(!mfa_ok(":invalid", NULL));
  ck_assert(!mfa_ok("{String, :upcase}", NULL));
  ck_assert(!mfa_ok("{:os, :cmd, []}", NULL));
  ck_assert(!mfa_ok("{:os, :cmd, []}", "[:os]"));
  const char *denied[] = {":file", ":code", ":erlang", ":net", ":rpc",
                          ":global", ":inet"};
  for (size_t i = 0; i < 7; i++) {
    char buf[64];
    snprintf(buf, sizeof buf, "{%s, :f, []}", denied[i]);
    ck_assert_msg(!mfa_ok(buf, NULL), "%s allowed", denied[i]);
  }
  ck_assert(mfa_ok("{Code, :f, []}", NULL));
  ck_assert(mfa_ok("{:erpc, :f, []}", NULL));
  ck_assert(mfa_ok("{:net_kernel, :f, []}", NULL));
}
END_TEST

static int token_ok(const char *configured, const char *received) {
  pga__cterm_t c = {NULL, 0};
  if (configured) {
    pga_term_t raw = {configured, strlen(configured)};
    ck_assert_int_eq(pga__cterm_set(&c, &raw), 0);
  }
  pga_term_t t = T(received);
  int ok = pga_push_token_ok(&c, &t);
  pga__cterm_clear(&c);
  return ok;
}

START_TEST(token_table_of_section_7) {
  ck_assert(token_ok(NULL, "nil"));
  ck_assert(token_ok(NULL, "\"anything\""));
  ck_assert(token_ok(NULL, "\"\""));
  ck_assert(!token_ok(NULL, ":atom_token"));
  ck_assert(!token_ok(NULL, "12"));
  ck_assert(!token_ok("secret123", "nil"));
  ck_assert(!token_ok("secret123", "\"wrong_token\""));
  ck_assert(!token_ok("secret123", "\"\""));
  ck_assert(!token_ok("secret123", "\"secret123_extra\""));
  ck_assert(!token_ok("secret123", "\"secret12\""));
  ck_assert(!token_ok("secret123", ":secret123"));
  ck_assert(token_ok("secret123", "\"secret123\""));
  ck_assert(token_ok("", "\"\""));
  ck_assert(!token_ok("", "\"x\""));
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("config_validate");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, NULL, teardown);
  tcase_add_test(tc, fc_fixture_versions_valid);
  tcase_add_test(tc, fc_version_sentinel_and_empty_invalid);
  tcase_add_test(tc, fc_timeout_bounds_exact);
  tcase_add_test(tc, fc_nodes_forms);
  tcase_add_test(tc, fc_choose_node_mode_forms);
  tcase_add_test(tc, fc_mfa_shape_required);
  tcase_add_test(tc, fc_arg_orders_mismatch_invalid);
  tcase_add_test(tc, fc_arg_types_empty_or_nil_table);
  tcase_add_test(tc, fc_arg_spec_forms);
  tcase_add_test(tc, fc_response_type_forms);
  tcase_add_test(tc, fc_check_permission_forms);
  tcase_add_test(tc, fc_callbacks_and_hooks_forms);
  tcase_add_test(tc, fc_request_info_boolean);
  tcase_add_test(tc, fc_retry_forms);
  tcase_add_test(tc, fc_hook_timeout_positive_integer);
  tcase_add_test(tc, fc_many_failures_exact_messages_in_order);
  tcase_add_test(tc, fc_all_defaults_seven_messages);
  tcase_add_test(tc, fc_disabled_never_checked);
  tcase_add_test(tc, retry_normalize_truncates);
  tcase_add_test(tc, pc_many_failures_exact_messages);
  tcase_add_test(tc, pc_empty_fun_configs_one_message);
  tcase_add_test(tc, pc_non_struct_fun_configs_three_messages);
  tcase_add_test(tc, pc_same_service_loose);
  tcase_add_test(tc, pc_nodes_and_config_version_checked);
  tcase_add_test(tc, pc_invalid_item_without_version_sinks_push);
  tcase_add_test(tc, pc_service_config_only_with_module_and_function);
  tcase_add_test(tc, same_service_rules);
  tcase_add_test(tc, mfa_allowlist_and_denylist);
  tcase_add_test(tc, token_table_of_section_7);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(suite)
