/* Unit tests of ConfigReceiver's push pipeline and listings
 * (config-plane.md §4, §7; acceptance cases 29-51) through the served
 * functions of a plane without a node. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config_plane_fixture.h"
#include "check_main.h"

#define PF "%PC{" P ", fun_configs: [%FC{" F "}]"

static pga_term_t push(const char *push_text, const char *opts) {
  return C(RECV, "push", push_text, opts, NULL);
}

/* "%PC{" P ", fun_configs: [%FC{F, fc_over}], push_over}" */
static const char *pc(const char *fc_over, const char *push_over) {
  static char buf[4][8192];
  static int i;
  i = (i + 1) % 4;
  snprintf(buf[i], sizeof buf[i], "%s%s%s%s%s%s", "%PC{" P ", fun_configs: [%FC{" F,
           fc_over ? ", " : "", fc_over ? fc_over : "", "}]",
           push_over ? ", " : "", push_over ? push_over : "");
  strcat(buf[i], "}");
  return buf[i];
}

START_TEST(push_accepted_then_stored) {
  ck_assert_term(push(pc(NULL, NULL), NULL), "{:ok, :accepted}");
  pga_term_t r = C(DB, "get", "\"test_service\"", "\"test_request\"",
                   "\"1.0.0\"");
  ck_assert_term(el(r, 0), ":ok");
  ck_assert_term(key(el(r, 1), "service"), "\"test_service\"");
}
END_TEST

START_TEST(push_twice_skipped_unless_forced) {
  ck_assert_term(push(pc(NULL, NULL), "[]"), "{:ok, :accepted}");
  ck_assert_term(push(pc(NULL, NULL), NULL), "{:ok, :skipped, :version_matches}");
  ck_assert_term(push(pc(NULL, NULL), "[force: false]"),
                 "{:ok, :skipped, :version_matches}");
  ck_assert_term(push(pc(NULL, NULL), "[force: :yes]"),
                 "{:ok, :skipped, :version_matches}");
  ck_assert_term(push(pc(NULL, NULL), "[force: true]"), "{:ok, :accepted}");
  ck_assert_term(C(TOP, "push_config", pc(NULL, NULL), "[force: true]", NULL),
                 "{:ok, :accepted}");
  ck_assert_term(C(TOP, "push_config", pc(NULL, NULL), NULL, NULL),
                 "{:ok, :skipped, :version_matches}");
}
END_TEST

START_TEST(push_non_map_invalid_data) {
  const char *bad[] = {"\"invalid\"", "123", "nil", "[]", "{:a}"};
  for (size_t i = 0; i < 5; i++)
    ck_assert_term(push(bad[i], NULL), "{:error, :invalid_push_config_data}");
}
END_TEST

START_TEST(push_plain_map_decoded) {
  ck_assert_term(push(cat("%{service: \"test_service\", "
                          "nodes: [:\"t@127.0.0.1\"], config_version: \"1.0.0\", "
                          "fun_configs: [%FC{" F, "}]}", NULL), NULL),
                 "{:ok, :accepted}");
  pga_term_t pcfg = C(RECV, "get_pushed_config", "\"test_service\"", NULL, NULL);
  size_t n;
  ck_assert_int_eq(pga_term_map_size(&pcfg, &n), 0);
  ck_assert_uint_eq(n, 12);
  ck_assert_term(key(pcfg, "__struct__"), "PhoenixGenApi.Structs.PushConfig");
  ck_assert_term(key(pcfg, "args"), "[]");
  ck_assert_term(key(pcfg, "push_token"), "nil");
}
END_TEST

START_TEST(push_map_with_plain_map_items_validation_failed) {
  ck_assert_term(push("%{\"service\" => \"test_service\", "
                      "\"nodes\" => [:n@h], \"config_version\" => \"1.0.0\", "
                      "\"fun_configs\" => [%{request_type: \"test\"}]}", NULL),
      "{:error, {:validation_failed, ["
      "\"fun_configs must be a non-empty list of FunConfig structs\", "
      "\"all fun_configs must have the same service name as the push config\", "
      "\"all fun_configs must have valid versions\"]}}");
}
END_TEST

START_TEST(push_invalid_push_validation_failed) {
  ck_assert_term(push(pc(NULL, "service: nil"), NULL),
      "{:error, {:validation_failed, [\"service must not be nil\", "
      "\"all fun_configs must have the same service name as the push "
      "config\"]}}");
  ck_assert_term(push("%PC{" P ", fun_configs: []}", NULL),
      "{:error, {:validation_failed, "
      "[\"fun_configs must be a non-empty list of FunConfig structs\"]}}");
}
END_TEST

START_TEST(push_no_token_configured_rules) {
  ck_assert_term(push(pc(NULL, "push_token: \"anything\""), NULL),
                 "{:ok, :accepted}");
  ck_assert_term(push(pc(NULL, "push_token: :atom_token, config_version: \"2\""),
                      NULL), "{:error, :invalid_push_token}");
}
END_TEST

START_TEST(push_partial_push_records_push_failure) {
  ck_assert_term(push(cat("%PC{" P ", fun_configs: [%FC{" F "}, %FC{" F,
                          ", request_type: \"bad\", timeout: 50}]}", NULL), NULL),
                 "{:ok, :accepted}");
  ck_assert_term(C(DB, "get", "\"test_service\"", "\"bad\"", "\"1.0.0\""),
                 "{:error, :not_found}");
  pga_term_t l = C(FAILED, "list", "[source: :push]", NULL, NULL);
  ck_assert_uint_eq(len(l), 1);
  pga_term_t e;
  pga_term_iter_t it;
  ck_assert_int_eq(pga_term_iter_init(&it, &l), 0);
  ck_assert(pga_term_iter_next(&it, &e));
  ck_assert_term(key(e, "request_type"), "\"bad\"");
  ck_assert_term(key(e, "node"), "nil");
  ck_assert_term(key(e, "reason"), "[\"timeout must be a positive integer "
                                   "between 100 and 300000, or :infinity\"]");
  size_t n;
  pga_term_t cfg = key(e, "config");
  ck_assert_int_eq(pga_term_map_size(&cfg, &n), 0);
  ck_assert_uint_eq(n, 18);
}
END_TEST

START_TEST(push_all_invalid_exact_string) {
  ck_assert_term(push(pc("timeout: 50", NULL), NULL),
      "{:error, {:all_invalid, [\"invalid FunConfig: "
      "request_type=\\\"test_request\\\", service=\\\"test_service\\\", "
      "version=\\\"1.0.0\\\", nodes: [:\\\"t@127.0.0.1\\\"], "
      "mfa: {String, :upcase, []}, response_type: :sync, "
      "check_permission: false\"]}}");
  ck_assert_term(C(RECV, "verify", "\"test_service\"", "\"1.0.0\"", NULL),
                 "{:error, :not_found}");
}
END_TEST

START_TEST(push_invalid_unversioned_item_sinks_push) {
  ck_assert_term(push(pc("timeout: 50, version: nil", NULL), NULL),
      "{:error, {:validation_failed, "
      "[\"all fun_configs must have valid versions\"]}}");
}
END_TEST

START_TEST(push_sentinel_version_stored_unversioned) {
  ck_assert_term(push(pc("version: \"0.0.0\"", NULL), NULL), "{:ok, :accepted}");
  pga_term_t r = C(DB, "get", "\"test_service\"", "\"test_request\"", NULL);
  ck_assert_term(el(r, 0), ":ok");
  ck_assert_term(key(el(r, 1), "version"), "nil");
}
END_TEST

START_TEST(push_denied_mfa_batch_add_failed) {
  ck_assert_term(push(pc("mfa: {:os, :cmd, []}", NULL), NULL),
                 "{:error, :batch_add_failed}");
  pga_term_t l = C(FAILED, "list", "[source: :pull]", NULL, NULL), e;
  pga_term_iter_t it;
  ck_assert_uint_eq(len(l), 1);
  ck_assert_int_eq(pga_term_iter_init(&it, &l), 0);
  ck_assert(pga_term_iter_next(&it, &e));
  ck_assert_term(key(e, "reason"), "[\"MFA not allowed: {:os, :cmd, []}\"]");
  ck_assert_term(key(e, "node"), "nil");
  ck_assert_term(C(RECV, "verify", "\"test_service\"", "\"1.0.0\"", NULL),
                 "{:error, :not_found}");
  ck_assert_term(push(cat("%PC{" P ", fun_configs: [%FC{" F "}, %FC{" F,
                          ", request_type: \"x\", mfa: {:os, :cmd, []}}]}",
                          NULL), NULL), "{:ok, :accepted}");
  ck_assert_term(C(DB, "get_all_functions", NULL, NULL, NULL),
                 "%{\"test_service\" => %{\"test_request\" => [\"1.0.0\"]}}");
}
END_TEST

START_TEST(verify_and_listings) {
  ck_assert_term(C(RECV, "get_all_pushed_services", NULL, NULL, NULL), "%{}");
  ck_assert_term(C(RECV, "get_pushed_config", "\"unknown_service\"", NULL, NULL),
                 "nil");
  push(pc(NULL, NULL), NULL);
  ck_assert_term(C(RECV, "verify", "\"test_service\"", "\"1.0.0\"", NULL),
                 "{:ok, :matched}");
  ck_assert_term(C(TOP, "verify_config", "\"test_service\"", "\"2.0.0\"", NULL),
                 "{:ok, :mismatch, \"1.0.0\"}");
  ck_assert_term(C(RECV, "verify", "\"unknown_service\"", "\"1.0.0\"", NULL),
                 "{:error, :not_found}");
  ck_assert_term(C(RECV, "verify", ":test_service", "\"1.0.0\"", NULL),
                 "{:error, :not_found}");
  ck_assert_term(C(RECV, "get_all_pushed_services", NULL, NULL, NULL),
                 "%{\"test_service\" => \"1.0.0\"}");
  pga_term_t st = C(RECV, "status", NULL, NULL, NULL);
  ck_assert_term(key(st, "status"), ":ok");
  ck_assert_term(key(st, "pushed_services"), "%{\"test_service\" => \"1.0.0\"}");
}
END_TEST

START_TEST(delete_pushed_service_keeps_store) {
  push(pc(NULL, "module: M, function: :get_config"), NULL);
  ck_assert_term(C(RECV, "delete_pushed_service", "\"test_service\"", NULL, NULL),
                 ":ok");
  ck_assert_term(C(RECV, "get_pushed_config", "\"test_service\"", NULL, NULL),
                 "nil");
  ck_assert_term(C(RECV, "get_all_pushed_services", NULL, NULL, NULL), "%{}");
  ck_assert_term(el(C(DB, "get", "\"test_service\"", "\"test_request\"",
                      "\"1.0.0\""), 0), ":ok");
  ck_assert_term(C(RECV, "delete_pushed_service", "\"unknown_service\"", NULL,
                   NULL), ":ok");
  ck_assert_term(C(PULLER, "get_services", NULL, NULL, NULL), "%{}");
}
END_TEST

START_TEST(push_versions_accumulate) {
  push(pc(NULL, NULL), NULL);
  ck_assert_term(push(pc("version: \"2.0.0\", timeout: 10000",
                         "config_version: \"2.0.0\""), NULL),
                 "{:ok, :accepted}");
  ck_assert_term(el(C(DB, "get", "\"test_service\"", "\"test_request\"",
                      "\"1.0.0\""), 0), ":ok");
  pga_term_t r = C(DB, "get", "\"test_service\"", "\"test_request\"",
                   "\"2.0.0\"");
  ck_assert_term(key(el(r, 1), "timeout"), "10000");
}
END_TEST

START_TEST(push_registers_auto_pull) {
  push(pc(NULL, "module: M, function: :get_config"), NULL);
  ck_assert_term(C(PULLER, "get_services", NULL, NULL, NULL),
      "%{\"test_service\" => %SC{service: \"test_service\", "
      "nodes: [:\"t@127.0.0.1\"], module: M, function: :get_config, args: [], "
      "version_module: nil, version_function: nil, version_args: []}}");
  /* a later push without module/function keeps the registration */
  push(pc(NULL, "config_version: \"2\""), NULL);
  pga_term_t s = C(PULLER, "get_services", NULL, NULL, NULL);
  size_t n;
  ck_assert_int_eq(pga_term_map_size(&s, &n), 0);
  ck_assert_uint_eq(n, 1);
}
END_TEST

START_TEST(push_atom_service_exact_key) {
  ck_assert_term(push(cat("%PC{" P ", service: :svc, fun_configs: [%FC{" F,
                          ", service: \"svc\"}]}", NULL), NULL),
                 "{:ok, :accepted}");
  ck_assert_term(el(C(DB, "get", "\"svc\"", "\"test_request\"", "\"1.0.0\""), 0),
                 ":ok");
  ck_assert_term(C(RECV, "verify", ":svc", "\"1.0.0\"", NULL), "{:ok, :matched}");
  ck_assert_term(C(RECV, "verify", "\"svc\"", "\"1.0.0\"", NULL),
                 "{:error, :not_found}");
}
END_TEST

START_TEST(push_too_many_fun_configs_refused) {
  pga_config_plane_free(plane);
  pga_config_opts_t o = {.struct_version = 1, .max_fun_configs = 1};
  plane_setup_opts(&o);
  ck_assert_term(push(cat("%PC{" P ", fun_configs: [%FC{" F "}, %FC{" F,
                          "}]}", NULL), NULL),
                 "{:error, :invalid_push_config_data}");
  ck_assert_term(push(pc(NULL, NULL), NULL), "{:ok, :accepted}");
}
END_TEST

START_TEST(push2_bad_opts_function_clause) {
  push(pc(NULL, NULL), ":force");
  ck_assert_int_eq(last_outcome, PGA_ERROR);
}
END_TEST

/* ---- with a token ---- */

static void token_setup(void) {
  pga_config_opts_t o = {.struct_version = 1, .push_token = "secret123"};
  plane_setup_opts(&o);
}

START_TEST(token_checked_exactly) {
  const char *bad[] = {"push_token: nil", "push_token: \"wrong_token\"",
                       "push_token: \"\"", "push_token: \"secret123_extra\""};
  for (size_t i = 0; i < 4; i++)
    ck_assert_term(push(pc(NULL, bad[i]), NULL), "{:error, :invalid_push_token}");
  ck_assert_term(push(pc(NULL, "push_token: \"secret123\""), NULL),
                 "{:ok, :accepted}");
}
END_TEST

START_TEST(token_validation_before_token) {
  ck_assert_term(push(pc(NULL, "service: nil, push_token: \"wrong\""), NULL),
      "{:error, {:validation_failed, [\"service must not be nil\", "
      "\"all fun_configs must have the same service name as the push "
      "config\"]}}");
}
END_TEST

START_TEST(token_before_version_skip) {
  push(pc(NULL, "push_token: \"secret123\""), NULL);
  ck_assert_term(push(pc(NULL, "push_token: \"wrong\""), NULL),
                 "{:error, :invalid_push_token}");
}
END_TEST

/* ---- with an allowlist ---- */

static pga_tb_t *allow_tb;
static void allow_setup_with(const char *list) {
  allow_tb = pga_tb_new(0);
  pga_term_t t = T(list);
  pga_tb_term(allow_tb, &t);
  pga_term_t d = pga_tb_data(allow_tb);
  pga_config_opts_t o = {.struct_version = 1, .mfa_allowlist = d.buf,
                         .mfa_allowlist_len = d.len};
  plane_setup_opts(&o);
}
static void allow_teardown(void) {
  plane_teardown();
  pga_tb_free(allow_tb);
}

START_TEST(allowlist_denies_unlisted) {
  allow_setup_with("[MyApp.UserService]");
  ck_assert_term(push(pc(NULL, NULL), NULL), "{:error, :batch_add_failed}");
}
END_TEST

START_TEST(allowlist_never_allows_denied_modules) {
  allow_setup_with("[:os]");
  ck_assert_term(push(pc("mfa: {:os, :cmd, []}", NULL), NULL),
                 "{:error, :batch_add_failed}");
}
END_TEST

START_TEST(allowlist_must_be_list) {
  pga_tb_t *tb = pga_tb_new(0);
  pga_tb_atom(tb, "all");
  pga_term_t d = pga_tb_data(tb);
  pga_config_opts_t o = {.struct_version = 1, .mfa_allowlist = d.buf,
                         .mfa_allowlist_len = d.len};
  char err[128];
  pga_config_plane_t *p2 = NULL;
  ck_assert_int_eq(pga_config_plane_new(NULL, &o, &p2, err, sizeof err),
                   PGA_EINVAL);
  ck_assert_str_eq(err, "mfa_allowlist: must be a list");
  pga_tb_free(tb);
  allow_tb = NULL;
  plane = NULL;
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("config_receiver");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, plane_setup, plane_teardown);
  tcase_add_test(tc, push_accepted_then_stored);
  tcase_add_test(tc, push_twice_skipped_unless_forced);
  tcase_add_test(tc, push_non_map_invalid_data);
  tcase_add_test(tc, push_plain_map_decoded);
  tcase_add_test(tc, push_map_with_plain_map_items_validation_failed);
  tcase_add_test(tc, push_invalid_push_validation_failed);
  tcase_add_test(tc, push_no_token_configured_rules);
  tcase_add_test(tc, push_partial_push_records_push_failure);
  tcase_add_test(tc, push_all_invalid_exact_string);
  tcase_add_test(tc, push_invalid_unversioned_item_sinks_push);
  tcase_add_test(tc, push_sentinel_version_stored_unversioned);
  tcase_add_test(tc, push_denied_mfa_batch_add_failed);
  tcase_add_test(tc, verify_and_listings);
  tcase_add_test(tc, delete_pushed_service_keeps_store);
  tcase_add_test(tc, push_versions_accumulate);
  tcase_add_test(tc, push_registers_auto_pull);
  tcase_add_test(tc, push_atom_service_exact_key);
  tcase_add_test(tc, push_too_many_fun_configs_refused);
  tcase_add_test(tc, push2_bad_opts_function_clause);
  suite_add_tcase(s, tc);
  TCase *tk = tcase_create("token");
  tcase_add_checked_fixture(tk, token_setup, plane_teardown);
  tcase_add_test(tk, token_checked_exactly);
  tcase_add_test(tk, token_validation_before_token);
  tcase_add_test(tk, token_before_version_skip);
  suite_add_tcase(s, tk);
  TCase *ta = tcase_create("allowlist");
  tcase_add_checked_fixture(ta, NULL, allow_teardown);
  tcase_add_test(ta, allowlist_denies_unlisted);
  tcase_add_test(ta, allowlist_never_allows_denied_modules);
  tcase_add_test(ta, allowlist_must_be_list);
  suite_add_tcase(s, ta);
  return s;
}

PGA_CHECK_MAIN(suite)
