/* Unit tests for argument validation and conversion (src/request/args.c,
 * argcheck.c, uuid.c, datetime.c): every type, the extended options,
 * presence/nil/default rules, the final argument list layouts, the exact
 * messages of request-plane.md §5.6 with the exception kinds, and ISO 8601
 * parsing against outcomes from a real Elixir (tests/data/datetime).
 *
 * §13 cases covered: 30, 31, 32 (message and kind), 33, 34, 35, 36, 37,
 * 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55,
 * 56, 57, 90 (the E7d inspect text). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/funconfig.h"
#include "request/request.h"
#include "request/request_int.h"
#include "config_terms.h"
#include "request_fixtures.h"
#include "check_main.h"

#ifndef PGA_TEST_DATA_DIR
#define PGA_TEST_DATA_DIR "tests/data"
#endif

/* ---- Helpers ---- */

static pga_request_t req_with_args(pga_term_t args) {
  pga_term_t t = T("%{request_id: \"id-rt\", request_type: \"rt\", "
                   "user_id: \"u1\", device_id: \"d1\"}");
  pga_request_t r;

  ck_assert_int_eq(pga_request_from_struct(&t, &r), 0);
  r.args = args;
  return r;
}

/* Converts; on success compares the converted list with want (term
 * order, so map key order does not matter). */
static void expect_ok_terms(pga_term_t types, pga_term_t orders,
                            pga_term_t args, pga_term_t want) {
  pga_request_t r = req_with_args(args);
  pga_args_input_t in = {types, orders, &r, NULL};
  pga_request_exc_t exc = {0};
  pga_tb_t *out = pga_tb_new(0);
  pga_term_t got;
  int rc = pga_request_args_convert(&in, out, &exc);

  ck_assert_msg(rc == 0, "rc %d: %s", rc, exc.message ? exc.message : "");
  got = pga_tb_data(out);
  ck_assert_msg(pga__term_compare(&got, &want) == 0, "got %s want %s",
                tt_show(&got), tt_show(&want));
  pga_tb_free(out);
  pga_request_exc_clear(&exc);
}

static void expect_ok(const char *types, const char *orders, const char *args,
                      const char *want) {
  expect_ok_terms(T(types), T(orders), T(args), T(want));
}

static void expect_exc_terms(pga_term_t types, pga_term_t orders,
                             pga_term_t args, pga_exc_kind_t kind,
                             const char *message) {
  pga_request_t r = req_with_args(args);
  pga_args_input_t in = {types, orders, &r, NULL};
  pga_request_exc_t exc = {0};
  pga_tb_t *out = pga_tb_new(0);
  int rc = pga_request_args_convert(&in, out, &exc);

  ck_assert_int_eq(rc, PGA_EINVAL);
  ck_assert_int_eq(exc.kind, kind);
  ck_assert_ptr_nonnull(exc.message);
  ck_assert_ptr_nonnull(exc.inspect);
  ck_assert_str_eq(exc.message, message);
  pga_tb_free(out);
  pga_request_exc_clear(&exc);
}

static void expect_exc(const char *types, const char *orders, const char *args,
                       pga_exc_kind_t kind, const char *message) {
  expect_exc_terms(T(types), T(orders), T(args), kind, message);
}

#define ARGERR PGA_EXC_ARGUMENT_ERROR

/* A binary of n copies of c, as a term view kept until tt_reset(). */
static pga_term_t big_string(size_t n, char c) {
  char *s = malloc(n + 1);
  pga_tb_t *tb = pga_tb_new(0);

  memset(s, c, n);
  s[n] = '\0';
  pga_tb_string(tb, s);
  free(s);
  tt_pool[tt_n++] = tb;
  return pga_tb_data(tb);
}

/* %{"a" => value} around a prebuilt value. */
static pga_term_t args_a(pga_term_t value) {
  pga_tb_t *tb = pga_tb_new(0);

  pga_tb_map(tb, 1);
  pga_tb_string(tb, "a");
  pga_tb_term(tb, &value);
  tt_pool[tt_n++] = tb;
  return pga_tb_data(tb);
}

/* ---- Types (§5.4) ---- */

START_TEST(args_num_rejects_string) {
  expect_exc("%{\"a\" => :num}", "[\"a\"]", "%{\"a\" => \"30\"}", ARGERR,
             "invalid argument type for \"a\", expected :num, got \"30\""); /* 33 */
  expect_ok("%{\"a\" => :num}", "[]", "%{\"a\" => 1.5}", "[1.5]");
  tt_reset();
}
END_TEST

START_TEST(args_boolean_rejects_string) {
  expect_exc("%{\"a\" => :boolean}", "[]", "%{\"a\" => \"true\"}", ARGERR,
             "invalid argument type for \"a\", expected :boolean, got \"true\""); /* 34 */
  expect_exc("%{\"a\" => :boolean}", "[]", "%{\"a\" => 1}", ARGERR,
             "invalid argument type for \"a\", expected :boolean, got 1");
  expect_ok("%{\"a\" => :boolean}", "[]", "%{\"a\" => false}", "[false]");
  tt_reset();
}
END_TEST

START_TEST(args_string_size_limits) {
  expect_exc("%{\"a\" => {:string, 5}}", "[]", "%{\"a\" => \"abcdef\"}", ARGERR,
             "invalid argument size for \"a\", max 5 bytes"); /* 46 */
  expect_ok("%{\"a\" => {:string, 5}}", "[]", "%{\"a\" => \"abcde\"}",
            "[\"abcde\"]");
  expect_exc_terms(T("%{\"a\" => :string}"), T("[]"),
                   args_a(big_string(3001, 'x')), ARGERR,
                   "invalid argument size for \"a\", max 3000 bytes");
  {
    pga_term_t v = big_string(3000, 'x');
    pga_tb_t *tb = pga_tb_new(0);

    pga_tb_list(tb, 1);
    pga_tb_term(tb, &v);
    pga_tb_nil(tb);
    tt_pool[tt_n++] = tb;
    expect_ok_terms(T("%{\"a\" => :string}"), T("[]"), args_a(v),
                    pga_tb_data(tb));
  }
  tt_reset();
}
END_TEST

START_TEST(args_list_items) {
  expect_ok("%{\"a\" => :list}", "[]", "%{\"a\" => [1, \"two\", true, 3.14]}",
            "[[1, \"two\", true, 3.14]]"); /* 47 */
  expect_exc("%{\"a\" => :list}", "[]", "%{\"a\" => [nil]}", ARGERR,
             "unsupported type nil");
  expect_exc("%{\"a\" => :list}", "[]", "%{\"a\" => [[1]]}", ARGERR,
             "nested list is not supported yet");
  expect_exc("%{\"a\" => :list}", "[]", "%{\"a\" => [%{}]}", ARGERR,
             "nested map is not supported yet");
  expect_exc("%{\"a\" => :list}", "[]", "%{\"a\" => [[]]}", ARGERR,
             "nested list is not supported yet");
  expect_ok("%{\"a\" => [type: :list, max_items: 9]}", "[]",
            "%{\"a\" => [1]}", "[[1]]");
  tt_reset();
}
END_TEST

START_TEST(args_list_string_items_raise_runtime_error) {
  expect_exc("%{\"a\" => :list_string}", "[]", "%{\"a\" => [\"x\", 1]}",
             PGA_EXC_RUNTIME_ERROR, "unsupported type of 1 in list"); /* 48 */
  expect_exc("%{\"a\" => [type: :list_string, max_item_bytes: 2]}", "[]",
             "%{\"a\" => [\"xyz\"]}", PGA_EXC_RUNTIME_ERROR,
             "unsupported type of \"xyz\" in list");
  expect_ok("%{\"a\" => [type: :list_string, max_item_bytes: 2]}", "[]",
            "%{\"a\" => [\"xy\"]}", "[[\"xy\"]]");
  tt_reset();
}
END_TEST

START_TEST(args_list_num_size_and_items) {
  pga_tb_t *tb = pga_tb_new(0);
  pga_term_t list;

  pga_tb_list(tb, 1001);
  for (int i = 0; i < 1001; i++)
    pga_tb_int(tb, i);
  pga_tb_nil(tb);
  tt_pool[tt_n++] = tb;
  list = pga_tb_data(tb);
  expect_exc_terms(T("%{\"a\" => :list_num}"), T("[]"), args_a(list), ARGERR,
                   "invalid argument size for \"a\" in \"rt\", max 1000 items"); /* 49 */
  expect_exc("%{\"a\" => :list_num}", "[]", "%{\"a\" => [1, \"2\"]}",
             PGA_EXC_RUNTIME_ERROR, "unsupported type of \"2\" in list");
  expect_exc("%{\"a\" => {:list_num, 2}}", "[]", "%{\"a\" => [1, 2, 3]}", ARGERR,
             "invalid argument size for \"a\" in \"rt\", max 2 items");
  tt_reset();
}
END_TEST

START_TEST(args_list_uuid_and_list_map_items) {
  expect_ok("%{\"a\" => :list_uuid}", "[]",
            "%{\"a\" => [\"550e8400-e29b-41d4-a716-446655440000\"]}",
            "[[\"550e8400-e29b-41d4-a716-446655440000\"]]");
  expect_exc("%{\"a\" => :list_uuid}", "[]", "%{\"a\" => [\"nope\"]}",
             PGA_EXC_RUNTIME_ERROR, "unsupported type of \"nope\" in list");
  expect_ok("%{\"a\" => :list_map}", "[]", "%{\"a\" => [%{\"x\" => [1]}]}",
            "[[%{\"x\" => [1]}]]");
  expect_exc("%{\"a\" => [type: :list_map, max_items: 1]}", "[]",
             "%{\"a\" => [%{}, 5]}", ARGERR,
             "invalid argument size for \"a\" in \"rt\", max 1 items");
  expect_exc("%{\"a\" => :list_map}", "[]", "%{\"a\" => [%{}, 5]}",
             PGA_EXC_RUNTIME_ERROR, "unsupported type of 5 in list");
  tt_reset();
}
END_TEST

START_TEST(args_map_max_items) {
  expect_exc("%{\"a\" => [type: :map, max_items: 1]}", "[]",
             "%{\"a\" => %{\"x\" => 1, \"y\" => 2}}", ARGERR,
             "invalid argument size for \"a\" in \"rt\", max 1 items"); /* 50 */
  tt_reset();
}
END_TEST

START_TEST(args_map_simple_allows_nesting_extended_does_not) {
  expect_ok("%{\"a\" => :map}", "[]", "%{\"a\" => %{\"k\" => %{\"x\" => %{}}}}",
            "[%{\"k\" => %{\"x\" => %{}}}]"); /* 51 */
  expect_exc("%{\"a\" => [type: :map, max_items: 5]}", "[]",
             "%{\"a\" => %{\"k\" => %{\"x\" => %{}}}}", ARGERR,
             "nested map is not supported yet");
  expect_exc("%{\"a\" => [type: :map, max_items: 5]}", "[]",
             "%{\"a\" => %{\"k\" => nil}}", ARGERR,
             "unsupported type nil in map for key \"k\"");
  expect_exc("%{\"a\" => [type: :map, max_items: 5]}", "[]",
             "%{\"a\" => %{\"k\" => [[1]]}}", ARGERR,
             "nested list is not supported yet");
  expect_ok("%{\"a\" => [type: :map, max_items: 5]}", "[]",
            "%{\"a\" => %{\"k\" => \"ok\", \"l\" => [1, \"x\"]}}",
            "[%{\"k\" => \"ok\", \"l\" => [1, \"x\"]}]");
  tt_reset();
}
END_TEST

START_TEST(args_map_nested_value_limits) {
  pga_tb_t *tb = pga_tb_new(0);
  pga_term_t inner;

  pga_tb_map(tb, 1);
  pga_tb_string(tb, "s");
  {
    pga_term_t big = big_string(3001, 'y');

    pga_tb_term(tb, &big);
  }
  tt_pool[tt_n++] = tb;
  inner = pga_tb_data(tb);
  expect_exc_terms(T("%{\"a\" => [type: :map, required: []]}"), T("[]"),
                   args_a(inner), ARGERR,
                   "nested map string value exceeds max byte size for key \"s\"");
  tb = pga_tb_new(0);
  pga_tb_map(tb, 1);
  pga_tb_string(tb, "l");
  pga_tb_list(tb, 1001);
  for (int i = 0; i < 1001; i++)
    pga_tb_int(tb, 1);
  pga_tb_nil(tb);
  tt_pool[tt_n++] = tb;
  inner = pga_tb_data(tb);
  expect_exc_terms(T("%{\"a\" => [type: :map, required: []]}"), T("[]"),
                   args_a(inner), ARGERR,
                   "nested map list value exceeds max items for key \"l\"");
  tt_reset();
}
END_TEST

START_TEST(args_map_required_keys_in_declared_order) {
  expect_exc("%{\"a\" => [type: :map, required: [\"n\", \"e\"]]}", "[]",
             "%{\"a\" => %{}}", ARGERR,
             "map argument \"a\" missing required keys: [\"n\", \"e\"] in \"rt\""); /* 52 */
  expect_exc("%{\"a\" => [type: :map, required: [\"n\", \"e\"]]}", "[]",
             "%{\"a\" => %{\"e\" => 1}}", ARGERR,
             "map argument \"a\" missing required keys: [\"n\"] in \"rt\"");
  tt_reset();
}
END_TEST

START_TEST(args_map_rejected_keys_in_map_order) {
  expect_exc("%{\"a\" => [type: :map, accept: [\"n\"]]}", "[]",
             "%{\"a\" => %{\"n\" => 1, \"z\" => 2, \"y\" => 3}}", ARGERR,
             "map argument \"a\" contains rejected keys: [\"y\", \"z\"] in \"rt\""); /* 53 */
  expect_ok("%{\"a\" => [type: :map, accept: []]}", "[]",
            "%{\"a\" => %{\"z\" => 2}}", "[%{\"z\" => 2}]");
  tt_reset();
}
END_TEST

START_TEST(args_uuid_forms) {
  static const char *ok[] = {
      "550E8400-E29B-41D4-A716-446655440000",
      "550e8400e29b41d4a716446655440000",
      "urn:uuid:550e8400-e29b-41d4-a716-446655440000",
      "urn:uuid:urn:uuid:550e8400-e29b-41d4-a716-446655440000",
      "VQ6EAOKbQdSnFkRmVUQAAA",
      "00000000-0000-0000-0000-000000000000",
      "018f4c6e-7b2a-7c3d-8e4f-0123456789ab", /* v7, variant 10 */
      "1d19dad6-ba7b-11d0-c765-00a0c91e6bf6", /* v1, any variant */
      "1ec9414c-232a-6b00-b3c8-9e6bdeced846", /* v6, variant 10 */
  };
  static const char *bad[] = {
      "{550e8400-e29b-41d4-a716-446655440000}",
      "550e8400-e29b-21d4-a716-446655440000", /* version 2 */
      "550e8400-e29b-81d4-a716-446655440000", /* version 8 */
      "018f4c6e-7b2a-7c3d-ce4f-0123456789ab", /* v7, variant 110 */
      "1ec9414c-232a-6b00-73c8-9e6bdeced846", /* v6, variant 0 */
      "VQ6EAOKbIdSnFkRmVUQAAA",               /* slug of a version 2 */
      "VQ6EAOKbQdSnFkRmVUQAA=",
      "550e8400-e29b-41d4-a716-44665544000g",
      "550e8400_e29b_41d4_a716_446655440000",
      "",
  };
  char text[160];

  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) { /* 56 */
    ck_assert_msg(pga_request_uuid_valid((const unsigned char *)ok[i],
                                         strlen(ok[i])),
                  "%s", ok[i]);
    snprintf(text, sizeof text, "%%{\"a\" => \"%s\"}", ok[i]);
    snprintf(text + 80, 80, "[\"%s\"]", ok[i]);
    expect_ok("%{\"a\" => :uuid}", "[]", text, text + 80);
  }
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ck_assert_msg(!pga_request_uuid_valid((const unsigned char *)bad[i],
                                          strlen(bad[i])),
                  "%s", bad[i]);
  }
  /* Raw 16 bytes count, unless they start with "urn:uuid:". */
  ck_assert(pga_request_uuid_valid(
      (const unsigned char *)"\x55\x0e\x84\x00\xe2\x9b\x41\xd4"
                             "\xa7\x16\x44\x66\x55\x44\x00\x00",
      16));
  ck_assert(!pga_request_uuid_valid((const unsigned char *)"urn:uuid:\x41\xd4"
                                                           "\xa7\x16\x44\x66\x55",
                                    16));
  expect_exc("%{\"a\" => :uuid}", "[]",
             "%{\"a\" => \"{550e8400-e29b-41d4-a716-446655440000}\"}", ARGERR,
             "invalid argument value for \"a\", require a UUID format string");
  expect_exc("%{\"a\" => :uuid}", "[]", "%{\"a\" => 5}", ARGERR,
             "invalid argument value for \"a\", require a UUID format string");
  tt_reset();
}
END_TEST

START_TEST(args_any_type_raises_function_clause) {
  pga_request_t r = req_with_args(T("%{\"a\" => 1}"));
  pga_args_input_t in = {T("%{\"a\" => :any}"), T("[]"), &r, NULL};
  pga_request_exc_t exc = {0};
  pga_tb_t *out = pga_tb_new(0);

  ck_assert_int_eq(pga_request_args_convert(&in, out, &exc), PGA_EINVAL); /* 57 */
  ck_assert_int_eq(exc.kind, PGA_EXC_FUNCTION_CLAUSE);
  ck_assert_str_eq(exc.message, "no function clause matching in "
                                "PhoenixGenApi.ArgumentHandler."
                                "validate_simple_type!/4");
  ck_assert_str_eq(exc.inspect,
                   "%FunctionClauseError{module: PhoenixGenApi.ArgumentHandler, "
                   "function: :validate_simple_type!, arity: 4, kind: nil, "
                   "args: nil, clauses: nil}");
  pga_request_exc_clear(&exc);
  /* {:uuid, opts} has no validate_complex_type!/5 clause. */
  expect_exc("%{\"a\" => [type: :uuid, strict: true]}", "[]",
             "%{\"a\" => \"550e8400-e29b-41d4-a716-446655440000\"}",
             PGA_EXC_FUNCTION_CLAUSE,
             "no function clause matching in PhoenixGenApi.ArgumentHandler."
             "validate_complex_type!/5");
  pga_tb_free(out);
  tt_reset();
}
END_TEST

/* ---- Presence, nil and defaults (§5.3) ---- */

START_TEST(args_extra_keys_are_sorted) {
  expect_exc("%{\"a\" => :string}", "[]",
             "%{\"a\" => \"x\", \"c\" => 1, \"b\" => 2}", ARGERR,
             "extra arguments for \"rt\", extra: [\"b\", \"c\"]"); /* 35 */
  expect_exc("%{\"a\" => :string}", "[]", "%{a: 1, \"a\" => \"x\"}", ARGERR,
             "extra arguments for \"rt\", extra: [:a]");
  tt_reset();
}
END_TEST

START_TEST(args_missing_argument_raises) {
  expect_exc("%{\"a\" => :string, \"b\" => :string}", "[\"a\", \"b\"]",
             "%{\"a\" => \"x\"}", ARGERR,
             "missing or nil argument \"b\" in \"rt\""); /* 36 */
  tt_reset();
}
END_TEST

START_TEST(args_explicit_nil_beats_default) {
  expect_exc("%{\"a\" => [type: :string, default_value: \"d\"]}", "[]",
             "%{\"a\" => nil}", ARGERR,
             "missing or nil argument \"a\" in \"rt\""); /* 37 */
  tt_reset();
}
END_TEST

START_TEST(args_missing_uses_default) {
  expect_ok("%{\"a\" => [type: :num, default_value: 25]}", "[]", "%{}",
            "[25]"); /* 38 */
  expect_ok("%{\"a\" => [type: :boolean, default_value: false]}", "[]", "%{}",
            "[false]"); /* 41 */
  /* A default is validated like a client value. */
  expect_exc("%{\"a\" => [type: :num, default_value: \"x\"]}", "[]", "%{}",
             ARGERR, "invalid argument type for \"a\", expected :num, got \"x\"");
  tt_reset();
}
END_TEST

START_TEST(args_allow_nil_missing_gives_nil) {
  expect_ok("%{\"a\" => [type: :string, allow_nil?: true], \"b\" => :num}",
            "[\"a\", \"b\"]", "%{\"b\" => 1}", "[nil, 1]"); /* 39 */
  tt_reset();
}
END_TEST

START_TEST(args_default_with_allow_nil) {
  const char *spec =
      "%{\"a\" => [type: :string, default_value: \"active\", allow_nil?: true]}";

  expect_ok(spec, "[]", "%{}", "[\"active\"]"); /* 40 */
  expect_ok(spec, "[]", "%{\"a\" => nil}", "[nil]");
  tt_reset();
}
END_TEST

START_TEST(args_allow_nil_non_boolean_raises_argument_error) {
  expect_exc("%{\"a\" => [type: :string, allow_nil?: :yes]}", "[]",
             "%{\"a\" => nil}", ARGERR, "argument error");
  expect_ok("%{\"a\" => [type: :string, allow_nil?: :yes]}", "[]",
            "%{\"a\" => \"v\"}", "[\"v\"]");
  tt_reset();
}
END_TEST

/* Specs are checked in ascending name order: "a" fails before "b". */
START_TEST(args_first_error_follows_name_order) {
  expect_exc("%{\"b\" => :num, \"a\" => :boolean}", "[\"b\", \"a\"]",
             "%{\"a\" => 1, \"b\" => \"x\"}", ARGERR,
             "invalid argument type for \"a\", expected :boolean, got 1");
  /* All validation before any conversion: a bad datetime in "a" loses to
   * a type error in "b". */
  expect_exc("%{\"a\" => :datetime, \"b\" => :num}", "[\"a\", \"b\"]",
             "%{\"a\" => \"bad\", \"b\" => \"x\"}", ARGERR,
             "invalid argument type for \"b\", expected :num, got \"x\"");
  tt_reset();
}
END_TEST

/* ---- Layouts (§4) ---- */

START_TEST(args_map_layout_has_every_name) {
  expect_ok("%{\"name\" => :string, \"age\" => [type: :num, default_value: 25]}",
            ":map", "%{\"name\" => \"Bob\"}",
            "[%{\"name\" => \"Bob\", \"age\" => 25}]"); /* 42 */
  expect_ok("%{\"x\" => [type: :string, allow_nil?: true], \"y\" => :num}",
            ":map", "%{\"y\" => 2}", "[%{\"x\" => nil, \"y\" => 2}]");
  tt_reset();
}
END_TEST

START_TEST(args_empty_orders_give_empty_list) {
  expect_ok("%{\"a\" => :num, \"b\" => :num}", "[]",
            "%{\"a\" => 1, \"b\" => 2}", "[]"); /* 43 */
  tt_reset();
}
END_TEST

START_TEST(args_single_arg_ignores_orders) {
  expect_ok("%{\"a\" => :string}", "[\"other\"]", "%{\"a\" => \"x\"}",
            "[\"x\"]"); /* 44 */
  tt_reset();
}
END_TEST

START_TEST(args_no_types_ignore_client_args) {
  expect_ok("nil", "nil", "%{\"x\" => 1}", "[]"); /* 45 */
  expect_ok("%{}", "[]", "%{\"x\" => 1}", "[]");
  expect_ok("nil", "nil", "[1, 2]", "[]");
  tt_reset();
}
END_TEST

START_TEST(args_orders_follow_list) {
  expect_ok("%{\"name\" => :string, \"age\" => :num}", "[\"name\", \"age\"]",
            "%{\"name\" => \"Bob\", \"age\" => 25}", "[\"Bob\", 25]");
  expect_exc("%{\"a\" => :num, \"b\" => :num}", "[\"a\", \"other\"]",
             "%{\"a\" => 1, \"b\" => 2}", ARGERR,
             "missing argument \"other\" in \"rt\"");
  expect_exc("%{\"a\" => :num, \"b\" => :num}", "nil",
             "%{\"a\" => 1, \"b\" => 2}", PGA_EXC_PROTOCOL_UNDEFINED,
             "protocol Enumerable not implemented for type Atom\n\n"
             "Got value:\n\n    nil\n");
  tt_reset();
}
END_TEST

START_TEST(args_build_appends_request_info) {
  pga_term_t types = T("%{\"name\" => :string}"), orders = T("[\"name\"]");
  pga_request_t r;
  pga_args_input_t in = {types, orders, &r, NULL};
  pga_request_exc_t exc = {0};
  pga_tb_t *out = pga_tb_new(0);
  pga_term_t pre = T("[]"), got, want, pid = T("{:pid_stand_in}");
  pga_term_t t = T("%{request_id: \"id-info\", user_id: \"u1\", "
                   "device_id: \"d1\", request_type: \"rt\", "
                   "args: %{\"name\" => \"A\"}}");

  ck_assert_int_eq(pga_request_from_struct(&t, &r), 0);
  ck_assert_int_eq(pga_request_args_build(&in, &pre, 1, NULL, out, &exc), 0); /* 30 */
  got = pga_tb_data(out);
  want = T("[\"A\", %{request_id: \"id-info\", user_id: \"u1\", device_id: \"d1\"}]");
  ck_assert_msg(pga__term_compare(&got, &want) == 0, "%s", tt_show(&got));
  pga_tb_reset(out);
  ck_assert_int_eq(pga_request_args_build(&in, &pre, 1, &pid, out, &exc), 0);
  got = pga_tb_data(out);
  want = T("[\"A\", %{request_id: \"id-info\", user_id: \"u1\", device_id: \"d1\", "
           "stream_pid: {:pid_stand_in}}]");
  ck_assert_msg(pga__term_compare(&got, &want) == 0, "%s", tt_show(&got));
  pga_tb_free(out);
  tt_reset();
}
END_TEST

START_TEST(args_build_prepends_predefined) {
  pga_request_t r = req_with_args(T("%{\"name\" => \"Bob\", \"age\" => 25}"));
  pga_args_input_t in = {T("%{\"name\" => :string, \"age\" => :num}"),
                         T("[\"name\", \"age\"]"), &r, NULL};
  pga_request_exc_t exc = {0};
  pga_tb_t *out = pga_tb_new(0);
  pga_term_t pre = T("[:x]"), got, want = T("[:x, \"Bob\", 25]");

  ck_assert_int_eq(pga_request_args_build(&in, &pre, 0, NULL, out, &exc), 0); /* 31 */
  got = pga_tb_data(out);
  ck_assert(pga_term_equal(&got, &want));
  pre = T("5");
  ck_assert_int_eq(pga_request_args_build(&in, &pre, 0, NULL, out, &exc),
                   PGA_ETYPE);
  pga_tb_free(out);
  tt_reset();
}
END_TEST

/* The sync reply gets the message, E7d gets inspect of the struct. */
START_TEST(args_error_texts_match_reply_and_e7d) {
  pga_request_t r = req_with_args(T("%{\"name\" => \"A\"}"));
  pga_args_input_t in = {T("%{\"name\" => :num}"), T("[\"name\"]"), &r, NULL};
  pga_request_exc_t exc = {0};
  pga_tb_t *out = pga_tb_new(0);

  ck_assert_int_eq(pga_request_args_convert(&in, out, &exc), PGA_EINVAL);
  ck_assert_str_eq(exc.message, /* 32 */
                   "invalid argument type for \"name\", expected :num, got \"A\"");
  ck_assert_str_eq(exc.inspect, /* 90 */
                   "%ArgumentError{message: \"invalid argument type for "
                   "\\\"name\\\", expected :num, got \\\"A\\\"\"}");
  pga_request_exc_clear(&exc);
  ck_assert_ptr_null(exc.message);
  pga_tb_free(out);
  tt_reset();
}
END_TEST

/* Wrong containers in the simple form surface the VM's own errors. */
START_TEST(args_wrong_containers_use_vm_errors) {
  pga_request_t r = req_with_args(T("%{\"a\" => 5}"));
  pga_args_input_t in = {T("%{\"a\" => :map}"), T("[]"), &r, NULL};
  pga_request_exc_t exc = {0};
  pga_tb_t *out = pga_tb_new(0);

  expect_exc("%{\"a\" => :string}", "[]", "%{\"a\" => 5}", ARGERR,
             "errors were found at the given arguments:\n\n"
             "  * 1st argument: not a bitstring\n");
  expect_exc("%{\"a\" => :list}", "[]", "%{\"a\" => 5}", ARGERR,
             "errors were found at the given arguments:\n\n"
             "  * 1st argument: not a list\n");
  ck_assert_int_eq(pga_request_args_convert(&in, out, &exc), PGA_EINVAL);
  ck_assert_int_eq(exc.kind, PGA_EXC_BAD_MAP);
  ck_assert_str_eq(exc.message, "expected a map, got: 5");
  ck_assert_str_eq(exc.inspect, "%BadMapError{term: 5}");
  pga_request_exc_clear(&exc);
  pga_tb_free(out);
  /* args itself not a map, while specs exist. */
  expect_exc("%{\"a\" => :num}", "[]", "[1]", PGA_EXC_BAD_MAP,
             "expected a map, got: [1]");
  tt_reset();
}
END_TEST

START_TEST(args_legacy_and_option_forms) {
  expect_ok("%{\"a\" => {:string, [max_bytes: 2]}}", "[]", "%{\"a\" => \"ab\"}",
            "[\"ab\"]");
  expect_exc("%{\"a\" => {:string, [max_bytes: 2]}}", "[]",
             "%{\"a\" => \"abc\"}", ARGERR,
             "invalid argument size for \"a\", max 2 bytes");
  /* A non-number limit is above every size (Erlang term order). */
  expect_ok("%{\"a\" => {:string, :none}}", "[]", "%{\"a\" => \"abcdef\"}",
            "[\"abcdef\"]");
  /* {:list_uuid, n} takes no limit from n (the library leaves it out). */
  expect_ok("%{\"a\" => {:list_uuid, 0}}", "[]", "%{\"a\" => []}", "[[]]");
  expect_exc("%{\"a\" => [type: nil, max_items: 1]}", "[]", "%{\"a\" => 1}",
             ARGERR, "unknown type for argument \"a\"");
  expect_exc("%{\"a\" => \"string\"}", "[]", "%{\"a\" => 1}", ARGERR,
             "unsupported type \"string\" for argument \"a\"");
  expect_exc("%{\"a\" => {:string, 1, 2}}", "[]", "%{\"a\" => 1}",
             PGA_EXC_FUNCTION_CLAUSE,
             "no function clause matching in PhoenixGenApi.ArgumentHandler."
             "get_type_with_params/1");
  /* docs/compat.md R5 */
  expect_exc("%{\"a\" => [type: :string, 5]}", "[]", "%{\"a\" => \"x\"}",
             ARGERR, "invalid argument spec for \"a\": [{:type, :string}, 5]");
  tt_reset();
}
END_TEST

START_TEST(args_limits_override_defaults) {
  pga_args_limits_t lim = {4, 2, 1};
  pga_request_t r = req_with_args(T("%{\"a\" => \"abcde\"}"));
  pga_args_input_t in = {T("%{\"a\" => :string}"), T("[]"), &r, &lim};
  pga_request_exc_t exc = {0};
  pga_tb_t *out = pga_tb_new(0);

  ck_assert_int_eq(pga_request_args_convert(&in, out, &exc), PGA_EINVAL);
  ck_assert_str_eq(exc.message, "invalid argument size for \"a\", max 4 bytes");
  pga_request_exc_clear(&exc);
  r.args = T("%{\"a\" => [1, 2, 3]}");
  in.arg_types = T("%{\"a\" => :list}");
  ck_assert_int_eq(pga_request_args_convert(&in, out, &exc), PGA_EINVAL);
  ck_assert_str_eq(exc.message,
                   "invalid argument size for \"a\" in \"rt\", max 2 items");
  pga_request_exc_clear(&exc);
  pga_tb_free(out);
  tt_reset();
}
END_TEST

/* A bitstring passes byte_size/1 but not convert_arg!'s is_binary. */
START_TEST(args_bitstring_string_raises_invalid_type) {
  static const unsigned char bits[] = {77, 0, 0, 0, 1, 3, 0xA0};
  pga_term_t b = {(const char *)bits, sizeof bits};

  expect_exc_terms(T("%{\"a\" => :string}"), T("[]"), args_a(b),
                   PGA_EXC_INVALID_TYPE,
                   "Invalid type for argument '[message: \"unsupported type "
                   ":string\"]'");
  tt_reset();
}
END_TEST

/* ---- ISO 8601 (§5.4) ---- */

START_TEST(args_datetime_converts_to_utc) {
  expect_ok("%{\"a\" => :datetime}", "[]",
            "%{\"a\" => \"2024-01-15T10:30:00+07:00\"}",
            "[%{__struct__: DateTime, calendar: Calendar.ISO, year: 2024, "
            "month: 1, day: 15, hour: 3, minute: 30, second: 0, "
            "microsecond: {0, 0}, time_zone: \"Etc/UTC\", zone_abbr: \"UTC\", "
            "utc_offset: 0, std_offset: 0}]"); /* 54 */
  expect_exc("%{\"a\" => :datetime}", "[]",
             "%{\"a\" => \"2024-01-15T10:30:00Z\"}", ARGERR,
             "datetime must include timezone offset (e.g., "
             "'2024-01-01T00:00:00Z' or '2024-01-01T00:00:00+07:00'), got: "
             "\"2024-01-15T10:30:00Z\"");
  expect_exc("%{\"a\" => :datetime}", "[]", "%{\"a\" => \"2024-01-15T10:30:00\"}",
             ARGERR,
             "invalid datetime format for \"2024-01-15T10:30:00\": missing_offset");
  expect_exc("%{\"a\" => :datetime}", "[]", "%{\"a\" => 5}", ARGERR,
             "invalid argument type for \"a\", expected :datetime (ISO 8601 "
             "string), got 5");
  /* Elixir 1.18 shifts past year 9999 (1.14 cannot, so no vector). */
  expect_ok("%{\"a\" => :datetime}", "[]",
            "%{\"a\" => \"9999-12-31T23:59:59-23:59\"}",
            "[%{__struct__: DateTime, calendar: Calendar.ISO, year: 10000, "
            "month: 1, day: 1, hour: 23, minute: 58, second: 59, "
            "microsecond: {0, 0}, time_zone: \"Etc/UTC\", zone_abbr: \"UTC\", "
            "utc_offset: 0, std_offset: 0}]");
  tt_reset();
}
END_TEST

START_TEST(args_naive_datetime_invalid_format) {
  expect_exc("%{\"a\" => :naive_datetime}", "[]", "%{\"a\" => \"bad\"}", ARGERR,
             "invalid naive_datetime format for \"bad\": invalid_format"); /* 55 */
  expect_ok("%{\"a\" => :naive_datetime}", "[]",
            "%{\"a\" => \"2024-01-15 10:30:00.25Z\"}",
            "[%{__struct__: NaiveDateTime, calendar: Calendar.ISO, year: 2024, "
            "month: 1, day: 15, hour: 10, minute: 30, second: 0, "
            "microsecond: {250000, 2}}]");
  tt_reset();
}
END_TEST

static long field(const pga_term_t *map, const char *key) {
  pga_term_t v;
  int64_t i;

  ck_assert_int_eq(pga_term_map_get_atom(map, key, &v), 0);
  ck_assert_int_eq(pga_term_get_int64(&v, &i), 0);
  return (long)i;
}

/* Every outcome Elixir gave for tests/data/datetime/vectors.txt. */
START_TEST(args_datetime_vectors_match_elixir) {
  const char *dir = getenv("PGA_TEST_DATA_DIR");
  char path[1024], *line = NULL;
  size_t cap = 0, n = 0;
  FILE *f;

  snprintf(path, sizeof path, "%s/datetime/vectors.txt",
           dir != NULL && *dir ? dir : PGA_TEST_DATA_DIR);
  f = fopen(path, "r");
  ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
  while (getline(&line, &cap, f) > 0) {
    char hex[512], kind[8], status[8], reason[64];
    unsigned char s[256];
    long y, mo, d, h, mi, sec, us, prec, off;
    size_t len = 0;
    const char *why = NULL;
    int zero = 0, rc;
    pga_tb_t *tb = pga_tb_new(0);
    pga_term_t m;

    if (line[0] == '#') {
      pga_tb_free(tb);
      continue;
    }
    ck_assert_int_ge(sscanf(line, "%511s %7s %7s", hex, kind, status), 3);
    if (strcmp(hex, "-") != 0)
      for (len = 0; hex[2 * len]; len++)
        ck_assert_int_eq(sscanf(hex + 2 * len, "%2hhx", &s[len]), 1);
    if (strcmp(kind, "dt") == 0)
      rc = pga__rq_datetime(s, len, tb, &why, &zero);
    else
      rc = pga__rq_naive_datetime(s, len, tb, &why);
    if (strcmp(status, "error") == 0) {
      ck_assert_int_eq(sscanf(line, "%*s %*s %*s %63s", reason), 1);
      ck_assert_msg(rc != 0 && !zero && why != NULL && strcmp(why, reason) == 0,
                    "%s: want %s got %s", line, reason, why ? why : "ok");
    } else {
      ck_assert_int_ge(sscanf(line, "%*s %*s %*s %ld %ld %ld %ld %ld %ld %ld %ld %ld",
                              &y, &mo, &d, &h, &mi, &sec, &us, &prec, &off),
                       8);
      if (strcmp(kind, "dt") == 0 && off == 0) {
        ck_assert_msg(rc != 0 && zero, "%s", line); /* the library's quirk */
      } else {
        ck_assert_msg(rc == 0, "%s: %s", line, why ? why : "");
        m = pga_tb_data(tb);
        ck_assert_msg(field(&m, "year") == y && field(&m, "month") == mo &&
                          field(&m, "day") == d && field(&m, "hour") == h &&
                          field(&m, "minute") == mi && field(&m, "second") == sec,
                      "%s", line);
      }
    }
    pga_tb_free(tb);
    n++;
  }
  free(line);
  fclose(f);
  ck_assert_uint_gt(n, 700);
}
END_TEST

/* ---- Robustness ---- */

static void convert_any(pga_term_t types, pga_term_t orders, pga_term_t args,
                        const pga_term_t *pre) {
  pga_request_t r = req_with_args(args);
  pga_args_input_t in = {types, orders, &r, NULL};
  pga_request_exc_t exc = {0};
  pga_tb_t *out = pga_tb_new(0);
  int rc = pre != NULL
               ? pga_request_args_build(&in, pre, 1, NULL, out, &exc)
               : pga_request_args_convert(&in, out, &exc);

  ck_assert_msg(rc == 0 || rc == PGA_EINVAL || rc == PGA_ETYPE, "rc %d", rc);
  if (rc == PGA_EINVAL)
    ck_assert(exc.message != NULL && exc.inspect != NULL && exc.kind != 0);
  if (rc == 0)
    ck_assert_int_eq(pga_tb_error(out), 0);
  pga_request_exc_clear(&exc);
  pga_tb_free(out);
}

/* Every term a BEAM made (all types, deep, random) as spec, value,
 * arg_types, arg_orders and args: an answer or an exception, never a
 * crash (valgrind checks the reads). */
START_TEST(args_any_term_never_crashes) {
  static const char *specs[] = {
      ":string", ":num", ":boolean", ":uuid", ":datetime", ":naive_datetime",
      ":list", ":list_string", ":list_num", ":list_uuid", ":list_map", ":map",
      "[type: :map, required: [\"k\"], accept: [\"k\"]]",
      "[type: :list_string, max_items: 3, max_item_bytes: 2]",
      "[type: :string, allow_nil?: true, default_value: 1]"};
  rf_terms_t terms;

  rf_load(&terms, 0);
  for (size_t i = 0; i < terms.n; i++) {
    pga_term_t x = terms.v[i];
    pga_tb_t *as_spec = rf_map1("a", &x), *as_args = rf_map1("a", &x);
    pga_term_t spec_map = pga_tb_data(as_spec), args_map = pga_tb_data(as_args);

    convert_any(spec_map, T("[\"a\"]"), args_map, NULL);
    convert_any(x, T("[\"a\", \"b\"]"), x, NULL);
    convert_any(T("%{\"a\" => :num, \"b\" => :num}"), x,
                T("%{\"a\" => 1, \"b\" => 2}"), NULL);
    convert_any(T("%{\"a\" => :num}"), T("[]"), T("%{\"a\" => 1}"), &x);
    for (size_t k = 0; k < sizeof specs / sizeof *specs; k++) {
      pga_term_t sp = T(specs[k]);
      pga_tb_t *m = rf_map1("a", &sp);

      convert_any(pga_tb_data(m), T("[]"), args_map, NULL);
      pga_tb_free(m);
    }
    pga_tb_free(as_spec);
    pga_tb_free(as_args);
    tt_reset();
  }
  rf_free(&terms);
}
END_TEST

START_TEST(args_input_reads_funconfig) {
  pga_funconfig_t *fc = pga_funconfig_new();
  pga_request_t r = req_with_args(T("%{\"name\" => \"Bob\", \"age\" => 25}"));
  pga_term_t types = T("%{\"name\" => :string, \"age\" => :num}"),
             orders = T("[\"age\", \"name\"]"), got,
             want = T("[25, \"Bob\"]");
  pga_args_input_t in;
  pga_tb_t *out = pga_tb_new(0);

  ck_assert_ptr_nonnull(fc);
  ck_assert_int_eq(pga_funconfig_set(fc, PGA_FC_ARG_TYPES, &types), 0);
  ck_assert_int_eq(pga_funconfig_set(fc, PGA_FC_ARG_ORDERS, &orders), 0);
  pga_request_args_input_of(fc, &r, NULL, &in);
  ck_assert_int_eq(pga_request_args_convert(&in, out, NULL), 0);
  got = pga_tb_data(out);
  ck_assert(pga_term_equal(&got, &want));
  pga_tb_free(out);
  pga_funconfig_free(fc);
  tt_reset();
}
END_TEST

static Suite *args_suite(void) {
  Suite *s = suite_create("args");
  TCase *types = tcase_create("types");
  TCase *presence = tcase_create("presence");
  TCase *layout = tcase_create("layout");
  TCase *iso = tcase_create("iso8601");

  tcase_add_test(types, args_num_rejects_string);
  tcase_add_test(types, args_boolean_rejects_string);
  tcase_add_test(types, args_string_size_limits);
  tcase_add_test(types, args_list_items);
  tcase_add_test(types, args_list_string_items_raise_runtime_error);
  tcase_add_test(types, args_list_num_size_and_items);
  tcase_add_test(types, args_list_uuid_and_list_map_items);
  tcase_add_test(types, args_map_max_items);
  tcase_add_test(types, args_map_simple_allows_nesting_extended_does_not);
  tcase_add_test(types, args_map_nested_value_limits);
  tcase_add_test(types, args_map_required_keys_in_declared_order);
  tcase_add_test(types, args_map_rejected_keys_in_map_order);
  tcase_add_test(types, args_uuid_forms);
  tcase_add_test(types, args_any_type_raises_function_clause);
  tcase_add_test(types, args_wrong_containers_use_vm_errors);
  tcase_add_test(types, args_legacy_and_option_forms);
  tcase_add_test(types, args_limits_override_defaults);
  tcase_add_test(types, args_bitstring_string_raises_invalid_type);
  tcase_add_test(presence, args_extra_keys_are_sorted);
  tcase_add_test(presence, args_missing_argument_raises);
  tcase_add_test(presence, args_explicit_nil_beats_default);
  tcase_add_test(presence, args_missing_uses_default);
  tcase_add_test(presence, args_allow_nil_missing_gives_nil);
  tcase_add_test(presence, args_default_with_allow_nil);
  tcase_add_test(presence, args_allow_nil_non_boolean_raises_argument_error);
  tcase_add_test(presence, args_first_error_follows_name_order);
  tcase_add_test(layout, args_map_layout_has_every_name);
  tcase_add_test(layout, args_empty_orders_give_empty_list);
  tcase_add_test(layout, args_single_arg_ignores_orders);
  tcase_add_test(layout, args_no_types_ignore_client_args);
  tcase_add_test(layout, args_orders_follow_list);
  tcase_add_test(layout, args_build_appends_request_info);
  tcase_add_test(layout, args_build_prepends_predefined);
  tcase_add_test(layout, args_error_texts_match_reply_and_e7d);
  tcase_add_test(layout, args_input_reads_funconfig);
  tcase_add_test(iso, args_datetime_converts_to_utc);
  tcase_add_test(iso, args_naive_datetime_invalid_format);
  tcase_add_test(iso, args_datetime_vectors_match_elixir);
  tcase_add_test(types, args_any_term_never_crashes);
  tcase_set_timeout(types, 300);
  suite_add_tcase(s, types);
  suite_add_tcase(s, presence);
  suite_add_tcase(s, layout);
  suite_add_tcase(s, iso);
  return s;
}

PGA_CHECK_MAIN(args_suite)
