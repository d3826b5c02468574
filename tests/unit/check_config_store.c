/* Unit tests of ConfigDb (config-plane.md §3; acceptance cases 52-62)
 * through the served functions, and of the version orderings behind
 * get_fast and get_latest. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config_plane_fixture.h"
#include "check_main.h"

/* add(G{over}) */
static pga_term_t add(const char *over) {
  return C(DB, "add", cat("%FC{" G, over ? ", " : "", over ? cat(over, "}", NULL) : "}"),
           NULL, NULL);
}

static pga_term_t add_ver(const char *ver) {
  char buf[128];
  snprintf(buf, sizeof buf, "version: %s", ver);
  return add(buf);
}

/* The version of get_fast / get_latest's FunConfig, or the error. */
static pga_term_t pick(const char *fn) {
  pga_term_t r = C(DB, fn, "\"Test\"", "\"test_request\"", NULL);
  pga_term_t tag = el(r, 0);
  if (pga_term_is_atom(&tag, "ok"))
    return key(el(r, 1), "version");
  return r;
}

START_TEST(store_add_get_unversioned_exact) {
  ck_assert_term(add(NULL), ":ok");
  pga_term_t r = C(DB, "get", "\"Test\"", "\"test_request\"", "nil");
  ck_assert_term(el(r, 0), ":ok");
  ck_assert_term(key(el(r, 1), "service"), "\"Test\"");
  ck_assert_term(key(el(r, 1), "version"), "nil");
  ck_assert_term(key(el(r, 1), "hook_timeout"), "5000");
  ck_assert_term(C(DB, "get", "\"Test\"", "\"test_request\"", "\"0.0.0\""),
                 "{:error, :not_found}");
  r = C(DB, "get", "\"Test\"", "\"test_request\"", NULL);
  ck_assert_term(el(r, 0), ":ok");
}
END_TEST

START_TEST(store_add_sentinel_versions_invalid) {
  ck_assert_term(add_ver("\"0.0.0\""), "{:error, :invalid_config}");
  ck_assert_term(add_ver("\"\""), "{:error, :invalid_config}");
  ck_assert_term(C(DB, "count", NULL, NULL, NULL), "0");
  /* each rejection is recorded as :pull with node nil */
  pga_term_t l = C(FAILED, "list", NULL, NULL, NULL);
  ck_assert_uint_eq(len(l), 2);
}
END_TEST

START_TEST(store_add_mfa_denied_with_term) {
  ck_assert_term(add("mfa: {String, :upcase}"),
                 "{:error, {:mfa_not_allowed, {String, :upcase}}}");
  ck_assert_term(add("mfa: {:os, :cmd, []}"),
                 "{:error, {:mfa_not_allowed, {:os, :cmd, []}}}");
  pga_term_t l = C(FAILED, "list", NULL, NULL, NULL);
  pga_term_t it;
  pga_term_iter_t iter;
  ck_assert_int_eq(pga_term_iter_init(&iter, &l), 0);
  ck_assert(pga_term_iter_next(&iter, &it));
  ck_assert_term(key(it, "reason"), "[\"MFA not allowed: {:os, :cmd, []}\"]");
  ck_assert_term(key(it, "source"), ":pull");
  ck_assert_term(key(it, "node"), "nil");
}
END_TEST

START_TEST(store_add_non_struct_function_clause) {
  pga_term_t r = C(DB, "add", "%{request_type: \"x\"}", NULL, NULL);
  ck_assert_int_eq(last_outcome, PGA_ERROR);
  ck_assert_term(r, ":function_clause");
}
END_TEST

START_TEST(store_batch_add_counts) {
  ck_assert_term(C(DB, "batch_add", "[]", NULL, NULL), "{:error, :all_invalid}");
  ck_assert_term(C(DB, "batch_add", "[:junk]", NULL, NULL),
                 "{:error, :all_invalid}");
  ck_assert_term(C(DB, "batch_add",
                   cat("[%FC{" G "}, %FC{" G, ", request_type: \"b\"}]", NULL),
                   NULL, NULL), "{:ok, 2}");
  ck_assert_term(C(DB, "batch_add",
                   cat("[%FC{" G "}, %FC{" G, ", timeout: 50}]", NULL), NULL,
                   NULL), "{:ok, 1}");
  /* duplicates of one key count, the last one wins */
  ck_assert_term(C(DB, "batch_add",
                   cat("[%FC{" G ", timeout: 111}, %FC{" G,
                       ", timeout: 222}]", NULL), NULL, NULL), "{:ok, 2}");
  pga_term_t r = C(DB, "get", "\"Test\"", "\"test_request\"", NULL);
  ck_assert_term(key(el(r, 1), "timeout"), "222");
  ck_assert_term(C(DB, "count", NULL, NULL, NULL), "2");
}
END_TEST

START_TEST(store_enable_disable_exact_key) {
  ck_assert_term(C(DB, "disable", "\"Test\"", "\"nonexistent\"", "nil"),
                 "{:error, :not_found}");
  ck_assert_term(C(DB, "enable", "\"Test\"", "\"nonexistent\"", NULL),
                 "{:error, :not_found}");
  ck_assert_term(add(NULL), ":ok");
  ck_assert_term(C(DB, "disable", "\"Test\"", "\"test_request\"", NULL), ":ok");
  ck_assert_term(C(DB, "disable", "\"Test\"", "\"test_request\"", NULL), ":ok");
  ck_assert_term(C(DB, "get", "\"Test\"", "\"test_request\"", NULL),
                 "{:error, :disabled}");
  ck_assert_term(C(DB, "enable", "\"Test\"", "\"test_request\"", "nil"), ":ok");
  pga_term_t r = C(DB, "get", "\"Test\"", "\"test_request\"", NULL);
  ck_assert_term(el(r, 0), ":ok");
  ck_assert_term(key(el(r, 1), "disabled"), "false");
}
END_TEST

START_TEST(store_disabled_truthy_reports_disabled) {
  ck_assert_term(add("disabled: \"yes\""), ":ok");
  ck_assert_term(C(DB, "get", "\"Test\"", "\"test_request\"", NULL),
                 "{:error, :disabled}");
}
END_TEST

START_TEST(store_get_latest_semver_rule) {
  add_ver("\"1.0.0\"");
  add_ver("\"2.0.0\"");
  add_ver("\"1.5.0\"");
  ck_assert_term(pick("get_latest"), "\"2.0.0\"");
  C(DB, "disable", "\"Test\"", "\"test_request\"", "\"2.0.0\"");
  ck_assert_term(pick("get_latest"), "\"1.5.0\"");
  C(DB, "disable", "\"Test\"", "\"test_request\"", "\"1.5.0\"");
  ck_assert_term(pick("get_latest"), "\"1.0.0\"");
  C(DB, "disable", "\"Test\"", "\"test_request\"", "\"1.0.0\"");
  ck_assert_term(pick("get_latest"), "{:error, :not_found}");
}
END_TEST

START_TEST(store_get_latest_unversioned_never) {
  add(NULL);
  ck_assert_term(pick("get_latest"), "{:error, :not_found}");
  add_ver("\"9.0.0\"");
  add_ver("\"10.0.0\"");
  ck_assert_term(pick("get_latest"), "\"10.0.0\"");
}
END_TEST

START_TEST(store_get_latest_prerelease_and_unparsable) {
  add_ver("\"1.0.0\"");
  add_ver("\"1.0.0-alpha\"");
  ck_assert_term(pick("get_latest"), "\"1.0.0\"");
  /* compat C2: unparsable ranks below every valid version, no crash */
  add_ver("\"v2\"");
  ck_assert_term(pick("get_latest"), "\"1.0.0\"");
  C(DB, "delete", "\"Test\"", "\"test_request\"", "\"1.0.0\"");
  C(DB, "delete", "\"Test\"", "\"test_request\"", "\"1.0.0-alpha\"");
  ck_assert_term(pick("get_latest"), "\"v2\"");
}
END_TEST

START_TEST(store_get_fast_raw_term_order) {
  add(NULL);
  ck_assert_term(pick("get_fast"), "nil");
  add_ver("\"1.0.0\"");
  ck_assert_term(pick("get_fast"), "\"1.0.0\"");
  add_ver("\"2.0.0\"");
  ck_assert_term(pick("get_fast"), "\"2.0.0\"");
  C(DB, "clear", NULL, NULL, NULL);
  add_ver("\"10.0.0\"");
  add_ver("\"2.0.0+build\"");
  ck_assert_term(pick("get_fast"), "\"2.0.0+build\"");
  C(DB, "clear", NULL, NULL, NULL);
  add_ver("\"1.0.0\"");
  add_ver("\"1.0.0-alpha\"");
  ck_assert_term(pick("get_fast"), "\"1.0.0-alpha\"");
  C(DB, "clear", NULL, NULL, NULL);
  add_ver("\"v2\"");
  add_ver("\"1.0.0\"");
  ck_assert_term(pick("get_fast"), "\"1.0.0\"");
}
END_TEST

START_TEST(store_get_fast_disabled_is_not_found) {
  add(NULL);
  C(DB, "disable", "\"Test\"", "\"test_request\"", NULL);
  ck_assert_term(pick("get_fast"), "{:error, :not_found}");
  ck_assert_term(C(DB, "get_fast", "\"Nope\"", "\"x\"", NULL),
                 "{:error, :not_found}");
  /* an enabled versioned entry beats the unversioned one */
  C(DB, "enable", "\"Test\"", "\"test_request\"", NULL);
  add_ver("\"0.1.0\"");
  ck_assert_term(pick("get_fast"), "\"0.1.0\"");
  C(DB, "disable", "\"Test\"", "\"test_request\"", "\"0.1.0\"");
  ck_assert_term(pick("get_fast"), "nil");
}
END_TEST

START_TEST(store_update_keeps_old_key) {
  add(NULL);
  ck_assert_term(C(DB, "update", cat("%FC{" G, ", service: \"new_service\"}", NULL),
                   NULL, NULL), ":ok");
  ck_assert_term(el(C(DB, "get", "\"Test\"", "\"test_request\"", NULL), 0), ":ok");
  ck_assert_term(el(C(DB, "get", "\"new_service\"", "\"test_request\"", NULL), 0),
                 ":ok");
  /* no mfa check on update, validity only */
  ck_assert_term(C(DB, "update", cat("%FC{" G, ", mfa: {:os, :cmd, []}}", NULL),
                   NULL, NULL), ":ok");
  ck_assert_term(C(DB, "update", cat("%FC{" G, ", timeout: 1}", NULL), NULL, NULL),
                 "{:error, :invalid_config}");
}
END_TEST

START_TEST(store_delete_exact_key_only) {
  ck_assert_term(C(DB, "delete", "\"Test\"", "\"test_request\"", "\"1.0.0\""),
                 ":ok");
  add_ver("\"1.0.0\"");
  add_ver("\"2.0.0\"");
  C(DB, "delete", "\"Test\"", "\"test_request\"", "\"1.0.0\"");
  ck_assert_term(C(DB, "count", NULL, NULL, NULL), "1");
  ck_assert_term(pick("get_latest"), "\"2.0.0\"");
  ck_assert_term(C(DB, "get", "\"Test\"", "\"test_request\"", "\"1.0.0\""),
                 "{:error, :not_found}");
}
END_TEST

START_TEST(store_listings_shapes) {
  /* An empty store: each listing is exactly one term. */
  ck_assert_term(C(DB, "get_all_services", NULL, NULL, NULL), "[]");
  ck_assert_term(C(DB, "get_all_functions", NULL, NULL, NULL), "%{}");
  add("service: \"Test1\", request_type: \"test_request_1\"");
  ck_assert_term(C(DB, "get_all_functions", NULL, NULL, NULL),
                 "%{\"Test1\" => %{\"test_request_1\" => [nil]}}");
  ck_assert_term(C(DB, "get_functions_from_services", "\"Test1\"", NULL, NULL),
                 "%{\"Test1\" => %{\"test_request_1\" => [nil]}}");
  ck_assert_term(C(DB, "get_functions_from_services", "[\"Test1\", :x]", NULL,
                   NULL), "%{\"Test1\" => %{\"test_request_1\" => [nil]}}");
  ck_assert_term(C(DB, "get_functions_from_services", "[:Test1]", NULL, NULL),
                 "%{}");
  C(DB, "get_functions_from_services", ":Test1", NULL, NULL);
  ck_assert_int_eq(last_outcome, PGA_ERROR);
  ck_assert_term(C(DB, "get_all_services", NULL, NULL, NULL), "[\"Test1\"]");
  ck_assert_term(C(DB, "status", NULL, NULL, NULL),
                 "%{status: :ok, count: 1, services: [\"Test1\"], "
                 "ets: %{exists: true, size: 1}}");
}
END_TEST

START_TEST(store_disabled_still_listed_and_counted) {
  add_ver("\"1.0.0\"");
  add_ver("\"2.0.0\"");
  C(DB, "disable", "\"Test\"", "\"test_request\"", "\"1.0.0\"");
  pga_term_t fns = C(DB, "get_all_functions", NULL, NULL, NULL), svc, vs;
  ck_assert_int_eq(pga_term_map_get_binary(&fns, "Test", &svc), 0);
  ck_assert_int_eq(pga_term_map_get_binary(&svc, "test_request", &vs), 0);
  ck_assert_uint_eq(len(vs), 2);
  ck_assert_term(C(DB, "count", NULL, NULL, NULL), "2");
}
END_TEST

START_TEST(store_exact_term_keys) {
  add("service: :Test");
  ck_assert_term(C(DB, "get", "\"Test\"", "\"test_request\"", NULL),
                 "{:error, :not_found}");
  ck_assert_term(el(C(DB, "get", ":Test", "\"test_request\"", NULL), 0), ":ok");
  C(DB, "get", ":Test", ":test_request", NULL);
  ck_assert_int_eq(last_outcome, PGA_ERROR);
}
END_TEST

START_TEST(version_parse_strict) {
  pga_version_t v;
  ck_assert(pga_version_parse("1.2.3", 5, &v));
  ck_assert_uint_eq(v.major, 1);
  ck_assert_uint_eq(v.patch, 3);
  ck_assert(pga_version_parse("1.0.0-alpha.1+b.2", 17, &v));
  ck_assert_uint_eq(v.pre_len, 7);
  ck_assert_uint_eq(v.build_len, 3);
  ck_assert(!pga_version_parse("1.0", 3, &v));
  ck_assert(!pga_version_parse("01.0.0", 6, &v));
  ck_assert(!pga_version_parse("v1.0.0", 6, &v));
  ck_assert(!pga_version_parse("1.0.0-", 6, &v));
  ck_assert(!pga_version_parse("1.0.0-01", 8, &v));
  ck_assert(!pga_version_parse("1.0.0+", 6, &v));
}
END_TEST

static int semver(const char *a, const char *b) {
  pga_version_t x, y;
  ck_assert(pga_version_parse(a, strlen(a), &x));
  ck_assert(pga_version_parse(b, strlen(b), &y));
  return pga_version_cmp_semver(&x, &y);
}

START_TEST(version_semver_precedence) {
  ck_assert_int_lt(semver("9.0.0", "10.0.0"), 0);
  ck_assert_int_lt(semver("1.0.0-alpha", "1.0.0"), 0);
  ck_assert_int_lt(semver("1.0.0-alpha", "1.0.0-alpha.1"), 0);
  ck_assert_int_lt(semver("1.0.0-alpha.1", "1.0.0-alpha.beta"), 0);
  ck_assert_int_lt(semver("1.0.0-beta.2", "1.0.0-beta.11"), 0);
  ck_assert_int_eq(semver("1.0.0", "1.0.0+b"), 0);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("config_store");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, plane_setup, plane_teardown);
  tcase_add_test(tc, store_add_get_unversioned_exact);
  tcase_add_test(tc, store_add_sentinel_versions_invalid);
  tcase_add_test(tc, store_add_mfa_denied_with_term);
  tcase_add_test(tc, store_add_non_struct_function_clause);
  tcase_add_test(tc, store_batch_add_counts);
  tcase_add_test(tc, store_enable_disable_exact_key);
  tcase_add_test(tc, store_disabled_truthy_reports_disabled);
  tcase_add_test(tc, store_get_latest_semver_rule);
  tcase_add_test(tc, store_get_latest_unversioned_never);
  tcase_add_test(tc, store_get_latest_prerelease_and_unparsable);
  tcase_add_test(tc, store_get_fast_raw_term_order);
  tcase_add_test(tc, store_get_fast_disabled_is_not_found);
  tcase_add_test(tc, store_update_keeps_old_key);
  tcase_add_test(tc, store_delete_exact_key_only);
  tcase_add_test(tc, store_listings_shapes);
  tcase_add_test(tc, store_disabled_still_listed_and_counted);
  tcase_add_test(tc, store_exact_term_keys);
  tcase_add_test(tc, version_parse_strict);
  tcase_add_test(tc, version_semver_precedence);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(suite)
