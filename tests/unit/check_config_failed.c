/* Unit tests of the failed-config log (config-plane.md §6; acceptance
 * cases 73-75): entries, filters, order, limit, expiry, cap, summary. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config_plane_fixture.h"
#include "check_main.h"

static int64_t fake_now;
static int64_t clock_fn(void *ud) {
  (void)ud;
  return fake_now;
}

static void setup(void) {
  plane_setup();
  fake_now = 1000000;
  pga_failed_set_clock(plane->failed, clock_fn, NULL);
}

static pga_term_t record(const char *svc, const char *source) {
  const char *cfg = cat("%FC{" F ", service: ", svc, "}");
  return C(FAILED, "record", cfg, "\"bad\"", source);
}

START_TEST(failed_record_entry_shape) {
  pga_term_t args[4] = {T("%FC{" F "}"),
                        T("\"request_type must be a non-empty string\""),
                        T(":pull"), T(":node@host")};
  pga_tb_t *out = pga_tb_new(0);
  ck_assert_int_eq(pga_config_call(plane, FAILED, "record", 4, args, out),
                   PGA_RETURN);
  pga_term_t e = pga_tb_data(out);
  ck_assert_term(key(e, "reason"), "[\"request_type must be a non-empty string\"]");
  ck_assert_term(key(e, "node"), ":node@host");
  ck_assert_term(key(e, "source"), ":pull");
  ck_assert_term(key(e, "service"), "\"test_service\"");
  ck_assert_term(key(e, "request_type"), "\"test_request\"");
  ck_assert_term(key(e, "version"), "\"1.0.0\"");
  ck_assert_term(key(e, "id"), "1");
  ck_assert_term(key(e, "inserted_at_ms"), "1000000");
  ck_assert_term(key(e, "expires_at_ms"), "87400000");
  pga_term_t cfg = key(e, "config"), v;
  size_t n;
  ck_assert_int_eq(pga_term_map_size(&cfg, &n), 0);
  ck_assert_uint_eq(n, 18);
  ck_assert_int_eq(pga_term_map_get_atom(&cfg, "__struct__", &v), PGA_ENOTFOUND);
  pga_tb_free(out);
}
END_TEST

START_TEST(failed_record_plain_map_and_bad_source) {
  pga_term_t e = C(FAILED, "record",
                   "%{\"service\" => \"s\", :request_type => false}",
                   "[\"a\", \"b\"]", ":push");
  ck_assert_term(key(e, "service"), "\"s\"");
  ck_assert_term(key(e, "request_type"), "nil");
  ck_assert_term(key(e, "reason"), "[\"a\", \"b\"]");
  ck_assert_term(key(e, "config"),
                 "%{\"service\" => \"s\", :request_type => false}");
  C(FAILED, "record", "%{}", "\"x\"", ":other");
  ck_assert_int_eq(last_outcome, PGA_ERROR);
  C(FAILED, "record", "1", "\"x\"", ":pull");
  ck_assert_int_eq(last_outcome, PGA_ERROR);
}
END_TEST

START_TEST(failed_list_filters_and_order) {
  record("\"svc1\"", ":pull");
  fake_now++;
  record("\"svc2\"", ":push");
  ck_assert_uint_eq(len(C(FAILED, "list", NULL, NULL, NULL)), 2);
  ck_assert_uint_eq(len(C(FAILED, "list", "[source: :pull]", NULL, NULL)), 1);
  pga_term_t l = C(FAILED, "list", "[service: \"svc1\"]", NULL, NULL), e;
  ck_assert_uint_eq(len(l), 1);
  pga_term_iter_t it;
  ck_assert_int_eq(pga_term_iter_init(&it, &l), 0);
  ck_assert(pga_term_iter_next(&it, &e));
  ck_assert_term(key(e, "service"), "\"svc1\"");
  ck_assert_uint_eq(len(C(FAILED, "list", "[service: :svc1]", NULL, NULL)), 0);
  l = C(TOP, "failed_configs", NULL, NULL, NULL);
  ck_assert_int_eq(pga_term_iter_init(&it, &l), 0);
  ck_assert(pga_term_iter_next(&it, &e));
  ck_assert_term(key(e, "service"), "\"svc2\""); /* newest first */
  l = C(FAILED, "list", "[order: :oldest_first]", NULL, NULL);
  ck_assert_int_eq(pga_term_iter_init(&it, &l), 0);
  ck_assert(pga_term_iter_next(&it, &e));
  ck_assert_term(key(e, "service"), "\"svc1\"");
}
END_TEST

START_TEST(failed_list_limit) {
  for (int i = 0; i < 5; i++) record("\"s\"", ":pull");
  ck_assert_uint_eq(len(C(FAILED, "list", "[limit: 3]", NULL, NULL)), 3);
  ck_assert_uint_eq(len(C(FAILED, "list", "[limit: 0]", NULL, NULL)), 0);
  C(FAILED, "list", "[limit: :x]", NULL, NULL);
  ck_assert_int_eq(last_outcome, PGA_ERROR);
}
END_TEST

START_TEST(failed_expiry_hidden_then_cleaned) {
  fake_now = 1 - 86400000; /* expires_at_ms == 1 */
  record("\"old\"", ":pull");
  fake_now = 5000;
  record("\"new\"", ":pull");
  ck_assert_term(C(FAILED, "count", NULL, NULL, NULL), "1");
  ck_assert_uint_eq(len(C(FAILED, "list", NULL, NULL, NULL)), 1);
  ck_assert_term(C(FAILED, "cleanup", NULL, NULL, NULL), "1");
  ck_assert_term(C(TOP, "cleanup_failed_configs", NULL, NULL, NULL), "0");
  ck_assert_term(C(FAILED, "clear", NULL, NULL, NULL), ":ok");
  ck_assert_term(C(FAILED, "count", NULL, NULL, NULL), "0");
}
END_TEST

START_TEST(failed_summary_counts) {
  ck_assert_term(C(FAILED, "summary", NULL, NULL, NULL),
                 "%{total: 0, pull: 0, push: 0, by_service: %{}, oldest: nil, "
                 "newest: nil}");
  record("\"a\"", ":pull");
  fake_now++;
  record("\"a\"", ":pull");
  fake_now++;
  record("\"b\"", ":push");
  pga_term_t s = C(FAILED, "summary", NULL, NULL, NULL), bs, la;
  ck_assert_term(key(s, "total"), "3");
  ck_assert_term(key(s, "pull"), "2");
  ck_assert_term(key(s, "push"), "1");
  ck_assert_term(key(key(s, "newest"), "service"), "\"b\"");
  ck_assert_term(key(key(s, "oldest"), "id"), "1");
  bs = key(s, "by_service");
  ck_assert_int_eq(pga_term_map_get_binary(&bs, "a", &la), 0);
  ck_assert_uint_eq(len(la), 2);
}
END_TEST

START_TEST(failed_cap_drops_oldest) {
  pga_config_plane_free(plane);
  pga_config_opts_t o = {.struct_version = 1, .failed_cap = 3};
  plane_setup_opts(&o);
  for (int i = 0; i < 5; i++) record("\"s\"", ":pull");
  ck_assert_term(C(FAILED, "count", NULL, NULL, NULL), "3");
  pga_term_t l = C(FAILED, "list", "[order: :oldest_first]", NULL, NULL), e;
  pga_term_iter_t it;
  ck_assert_int_eq(pga_term_iter_init(&it, &l), 0);
  ck_assert(pga_term_iter_next(&it, &e));
  ck_assert_term(key(e, "id"), "3");
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("config_failed");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, plane_teardown);
  tcase_add_test(tc, failed_record_entry_shape);
  tcase_add_test(tc, failed_record_plain_map_and_bad_source);
  tcase_add_test(tc, failed_list_filters_and_order);
  tcase_add_test(tc, failed_list_limit);
  tcase_add_test(tc, failed_expiry_hidden_then_cleaned);
  tcase_add_test(tc, failed_summary_counts);
  tcase_add_test(tc, failed_cap_drops_oldest);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(suite)
