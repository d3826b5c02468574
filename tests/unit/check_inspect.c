/* Unit tests of pga_term_inspect against what Elixir 1.14's inspect/1
 * prints (outputs captured from a real node; config-plane.md §10). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config_terms.h"
#include "term/inspect.h"
#include "check_main.h"

static void teardown(void) { tt_reset(); }

static const char *I(const char *text) {
  static char buf[8192];
  pga_term_t t = T(text);
  pga_term_inspect(&t, buf, sizeof buf);
  return buf;
}

START_TEST(inspect_atoms_elixir_rules) {
  ck_assert_str_eq(I("nil"), "nil");
  ck_assert_str_eq(I("true"), "true");
  ck_assert_str_eq(I("String"), "String");
  ck_assert_str_eq(I("MyApp.Api"), "MyApp.Api");
  ck_assert_str_eq(I(":\"Elixir.Foo.bar\""), ":\"Elixir.Foo.bar\"");
  ck_assert_str_eq(I(":Elixir"), "Elixir");
  ck_assert_str_eq(I(":node1@host"), ":node1@host");
  ck_assert_str_eq(I(":ok?"), ":ok?");
  ck_assert_str_eq(I(":Foo"), ":Foo");
  ck_assert_str_eq(I(":+"), ":+");
  ck_assert_str_eq(I(":\"n1@127.0.0.1\""), ":\"n1@127.0.0.1\"");
  ck_assert_str_eq(I(":\"foo-bar\""), ":\"foo-bar\"");
  ck_assert_str_eq(I(":\"0.0.0\""), ":\"0.0.0\"");
  ck_assert_str_eq(I(":\"a b\""), ":\"a b\"");
}
END_TEST

START_TEST(inspect_binaries_escaped_or_bytes) {
  ck_assert_str_eq(I("\"get_user\""), "\"get_user\"");
  ck_assert_str_eq(I("\"a\\\"b\""), "\"a\\\"b\"");
  pga_tb_t *tb = pga_tb_new(0);
  pga_tb_binary(tb, "a\n\t\r\\#{b}\x1b", 10);
  pga_term_t t = pga_tb_data(tb);
  char buf[64];
  pga_term_inspect(&t, buf, sizeof buf);
  ck_assert_str_eq(buf, "\"a\\n\\t\\r\\\\\\#{b}\\e\"");
  pga_tb_reset(tb);
  pga_tb_binary(tb, "\x01\x02\xff", 3);
  t = pga_tb_data(tb);
  pga_term_inspect(&t, buf, sizeof buf);
  ck_assert_str_eq(buf, "<<1, 2, 255>>");
  pga_tb_free(tb);
  ck_assert_str_eq(I("\"\""), "\"\"");
}
END_TEST

START_TEST(inspect_numbers_like_elixir) {
  ck_assert_str_eq(I("-42"), "-42");
  ck_assert_str_eq(I("5000.0"), "5000.0");
  ck_assert_str_eq(I("0.5"), "0.5");
  ck_assert_str_eq(I("-2.5"), "-2.5");
  ck_assert_str_eq(I("123456789.0"), "123456789.0");
}
END_TEST

START_TEST(inspect_containers) {
  ck_assert_str_eq(I("[:\"n1@127.0.0.1\", :n2@host]"),
                   "[:\"n1@127.0.0.1\", :n2@host]");
  ck_assert_str_eq(I("{String, :upcase, []}"), "{String, :upcase, []}");
  ck_assert_str_eq(I("{:role, [\"admin\"]}"), "{:role, [\"admin\"]}");
  ck_assert_str_eq(I("[type: :string, max_bytes: 5]"),
                   "[type: :string, max_bytes: 5]");
  ck_assert_str_eq(I("[{Foo.Bar, 1}]"), "[{Foo.Bar, 1}]");
  ck_assert_str_eq(I("[{:\"foo-bar\", 1}]"), "[\"foo-bar\": 1]");
  ck_assert_str_eq(I("%{\"a\" => 1}"), "%{\"a\" => 1}");
  ck_assert_str_eq(I("%{a: 1, b: :x}"), "%{a: 1, b: :x}");
  ck_assert_str_eq(I("%{:b => 2, \"a\" => 1}"), "%{:b => 2, \"a\" => 1}");
  ck_assert_str_eq(I("%{Foo.Bar => 1}"), "%{Foo.Bar => 1}");
  ck_assert_str_eq(I("%{}"), "%{}");
  ck_assert_str_eq(I("[]"), "[]");
  ck_assert_str_eq(I("[108, 115]"), "~c\"ls\"");
  ck_assert_str_eq(I("[1, 2, 3]"), "[1, 2, 3]");
}
END_TEST

START_TEST(inspect_limit_fifty_items) {
  char text[1024] = "[", want[1024] = "[";
  for (int i = 1; i <= 60; i++) {
    char b[8];
    snprintf(b, sizeof b, "%s%d", i > 1 ? ", " : "", i);
    strcat(text, b);
    if (i <= 50) strcat(want, b);
  }
  strcat(text, "]");
  strcat(want, ", ...]");
  ck_assert_str_eq(I(text), want);
}
END_TEST

START_TEST(inspect_spec_example) {
  const char *parts[] = {"\"get_user\"", "\"user_service\"", "\"1.0.0\"",
                         "[:\"n1@127.0.0.1\", :n2@host]",
                         "{MyApp.Api, :get_user, []}", ":sync",
                         "{:role, [\"admin\"]}"};
  const char *want[] = {"\"get_user\"", "\"user_service\"", "\"1.0.0\"",
                        "[:\"n1@127.0.0.1\", :n2@host]",
                        "{MyApp.Api, :get_user, []}", ":sync",
                        "{:role, [\"admin\"]}"};
  for (size_t i = 0; i < 7; i++) ck_assert_str_eq(I(parts[i]), want[i]);
}
END_TEST

START_TEST(inspect_truncates_like_snprintf) {
  char small[6];
  pga_term_t t = T("\"abcdefgh\"");
  ck_assert_uint_eq(pga_term_inspect(&t, small, sizeof small), 10);
  ck_assert_str_eq(small, "\"abcd");
  pga_term_t bad = {"\x83", 1};
  char *s = pga_term_inspect_dup(&bad);
  ck_assert_str_eq(s, "#BadTerm");
  free(s);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("inspect");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, NULL, teardown);
  tcase_add_test(tc, inspect_atoms_elixir_rules);
  tcase_add_test(tc, inspect_binaries_escaped_or_bytes);
  tcase_add_test(tc, inspect_numbers_like_elixir);
  tcase_add_test(tc, inspect_containers);
  tcase_add_test(tc, inspect_limit_fifty_items);
  tcase_add_test(tc, inspect_spec_example);
  tcase_add_test(tc, inspect_truncates_like_snprintf);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(suite)
