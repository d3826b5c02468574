/* Unit tests for permission (src/request/permission.c): the precedence of
 * request-plane.md §6.1 and every mode of §6.2. Callbacks are not run
 * here: they come back as PGA_PERM_CALLBACK, and their answer is judged by
 * pga_request_permission_callback_allows.
 *
 * §13 cases covered: 58, 59 (the decision), 60, 61, 62, 63 (precedence and
 * the `true`-only rule), 64 (a {:badrpc, _} answer denies), 65. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config/funconfig.h"
#include "request/request.h"
#include "config_terms.h"
#include "request_fixtures.h"
#include "check_main.h"

static pga_request_t req_of(const char *text) {
  pga_term_t t = T(text);
  pga_request_t r;

  ck_assert_int_eq(pga_request_from_struct(&t, &r), 0);
  return r;
}

static pga_perm_result_t check(const char *mode, const char *callback,
                               const char *orders, int local,
                               const pga_request_t *r) {
  pga_perm_input_t in = {T(mode), T(callback), T(orders), local, r};
  pga_request_exc_t exc = {0};
  pga_term_t cb;
  pga_perm_result_t res = pga_request_permission_check(&in, &cb, &exc);

  pga_request_exc_clear(&exc);
  return res;
}

#define ALLOW PGA_PERM_ALLOW
#define DENY PGA_PERM_DENY

START_TEST(permission_false_allows_anonymous) {
  pga_request_t r = req_of("%{request_id: \"r\", args: %{}}");

  ck_assert_int_eq(check("false", "nil", "[]", 0, &r), ALLOW); /* 58 */
  tt_reset();
}
END_TEST

START_TEST(permission_any_authenticated_needs_nonempty_binary) {
  pga_request_t empty = req_of("%{request_id: \"r\", user_id: \"\", args: %{}}");
  pga_request_t num = req_of("%{request_id: \"r\", user_id: 5, args: %{}}");
  pga_request_t atom = req_of("%{request_id: \"r\", user_id: :u, args: %{}}");
  pga_request_t ok = req_of("%{request_id: \"r\", user_id: \"u1\", args: %{}}");

  ck_assert_int_eq(check(":any_authenticated", "nil", "[]", 0, &empty), DENY); /* 59 */
  ck_assert_int_eq(check(":any_authenticated", "nil", "[]", 0, &num), DENY);
  ck_assert_int_eq(check(":any_authenticated", "nil", "[]", 0, &atom), DENY);
  ck_assert_int_eq(check(":any_authenticated", "nil", "[]", 0, &ok), ALLOW);
  tt_reset();
}
END_TEST

START_TEST(permission_arg_must_equal_user_id) {
  pga_request_t other = req_of("%{user_id: \"user_123\", "
                               "args: %{\"user_id\" => \"user_999\"}}");
  pga_request_t missing = req_of("%{user_id: \"user_123\", args: %{}}");
  pga_request_t same = req_of("%{user_id: \"user_123\", "
                              "args: %{\"user_id\" => \"user_123\"}}");
  pga_request_t number = req_of("%{user_id: \"123\", args: %{\"user_id\" => 123}}");
  pga_request_t anon = req_of("%{user_id: nil, args: %{\"user_id\" => nil}}");
  const char *mode = "{:arg, \"user_id\"}";

  ck_assert_int_eq(check(mode, "nil", "[\"user_id\"]", 0, &other), DENY); /* 60 */
  ck_assert_int_eq(check(mode, "nil", "[\"user_id\"]", 0, &missing), DENY);
  ck_assert_int_eq(check(mode, "nil", "[\"user_id\"]", 0, &same), ALLOW);
  ck_assert_int_eq(check(mode, "nil", "[\"user_id\"]", 0, &number), DENY);
  ck_assert_int_eq(check(mode, "nil", "[\"user_id\"]", 0, &anon), DENY);
  tt_reset();
}
END_TEST

START_TEST(permission_arg_map_mode_takes_first_hit) {
  pga_request_t first = req_of(
      "%{user_id: \"user_123\", args: %{\"first\" => %{\"user_id\" => "
      "\"user_999\"}, \"second\" => %{\"user_id\" => \"user_123\"}}}");
  pga_request_t nested = req_of(
      "%{user_id: \"user_123\", args: %{\"params\" => \"s\", \"data\" => "
      "%{\"user_id\" => \"user_123\"}}}");
  pga_request_t deep = req_of(
      "%{user_id: \"user_123\", args: %{\"data\" => %{\"inner\" => "
      "%{\"user_id\" => \"user_123\"}}}}");
  pga_request_t top_false = req_of(
      "%{user_id: \"user_123\", args: %{\"user_id\" => false, \"d\" => "
      "%{\"user_id\" => \"user_123\"}}}");
  const char *mode = "{:arg, \"user_id\"}";

  /* "first" sorts before "second": its mismatch decides. */
  ck_assert_int_eq(check(mode, "nil", ":map", 0, &first), DENY); /* 61 */
  ck_assert_int_eq(check(mode, "nil", ":map", 0, &nested), ALLOW);
  ck_assert_int_eq(check(mode, "nil", ":map", 0, &deep), DENY);
  /* false at the top is skipped like nil (`||`). */
  ck_assert_int_eq(check(mode, "nil", ":map", 0, &top_false), ALLOW);
  /* Without :map no search happens. */
  ck_assert_int_eq(check(mode, "nil", "[]", 0, &nested), DENY);
  tt_reset();
}
END_TEST

START_TEST(permission_role_needs_a_shared_role) {
  pga_request_t mod = req_of("%{user_id: \"u\", user_roles: [\"moderator\"]}");
  pga_request_t none = req_of("%{user_id: \"u\", user_roles: nil}");
  pga_request_t empty = req_of("%{user_id: \"u\", user_roles: []}");
  pga_request_t atom = req_of("%{user_id: \"u\", user_roles: [:admin]}");
  const char *mode = "{:role, [\"admin\", \"moderator\"]}";

  ck_assert_int_eq(check(mode, "nil", "[]", 0, &mod), ALLOW); /* 62 */
  ck_assert_int_eq(check(mode, "nil", "[]", 0, &none), DENY);
  ck_assert_int_eq(check(mode, "nil", "[]", 0, &empty), DENY);
  ck_assert_int_eq(check("{:role, []}", "nil", "[]", 0, &mod), DENY);
  ck_assert_int_eq(check("{:role, [\"admin\"]}", "nil", "[]", 0, &atom), DENY);
  ck_assert_int_eq(check("{:role, \"admin\"}", "nil", "[]", 0, &mod), DENY);
  tt_reset();
}
END_TEST

START_TEST(permission_unknown_modes_deny) {
  pga_request_t r = req_of("%{user_id: \"u\", args: %{}}");
  const char *modes[] = {"nil", ":unknown", "\"x\"", "{:arg}", "true",
                         "{:other, 1}"};

  for (size_t i = 0; i < sizeof modes / sizeof *modes; i++)
    ck_assert_msg(check(modes[i], "nil", "[]", 0, &r) == DENY, "%s", modes[i]);
  tt_reset();
}
END_TEST

START_TEST(permission_callback_decides_alone) {
  pga_request_t r = req_of("%{user_id: nil, args: %{}}");
  pga_perm_input_t in = {T(":any_authenticated"), T("{Auth, :check, [1]}"),
                         T("[]"), 0, &r};
  pga_term_t cb, want = T("{Auth, :check, [1]}");
  pga_term_t yes = T("true"), no = T("false"), odd = T(":yes"),
             down = T("{:badrpc, :nodedown}");

  /* 63: the mode would deny; the callback is what counts. */
  ck_assert_int_eq(pga_request_permission_check(&in, &cb, NULL),
                   PGA_PERM_CALLBACK);
  ck_assert(pga_term_equal(&cb, &want));
  in.local = 1;
  ck_assert_int_eq(pga_request_permission_check(&in, &cb, NULL),
                   PGA_PERM_CALLBACK);
  ck_assert(pga_request_permission_callback_allows(&yes));
  ck_assert(!pga_request_permission_callback_allows(&no));
  ck_assert(!pga_request_permission_callback_allows(&odd));
  ck_assert(!pga_request_permission_callback_allows(&down)); /* 64 */
  tt_reset();
}
END_TEST

START_TEST(permission_malformed_callback_falls_back_to_mode) {
  pga_request_t r = req_of("%{user_id: \"u\", args: %{}}");

  /* 65 */
  ck_assert_int_eq(check("false", "{1, 2, 3}", "[]", 1, &r), ALLOW);
  ck_assert_int_eq(check("false", "{1, 2, 3}", "[]", 0, &r), ALLOW);
  ck_assert_int_eq(check("false", ":invalid", "[]", 0, &r), ALLOW);
  ck_assert_int_eq(check("nil", "\"cb\"", "[]", 0, &r), DENY);
  /* A 2-tuple is ignored on a :local config... */
  ck_assert_int_eq(check("false", "{M, :f}", "[]", 1, &r), ALLOW);
  tt_reset();
}
END_TEST

/* ...and crashes the request on a remote one (§6.1, §3.4). */
START_TEST(permission_two_tuple_callback_raises_when_remote) {
  pga_request_t r = req_of("%{user_id: \"u\", args: %{}}");
  pga_perm_input_t in = {T("false"), T("{M, :f}"), T("[]"), 0, &r};
  pga_request_exc_t exc = {0};

  ck_assert_int_eq(pga_request_permission_check(&in, NULL, &exc),
                   PGA_PERM_RAISE);
  ck_assert_int_eq(exc.kind, PGA_EXC_FUNCTION_CLAUSE);
  ck_assert_str_eq(exc.message, "no function clause matching in "
                                "PhoenixGenApi.Executor."
                                "needs_remote_permission_check?/1");
  pga_request_exc_clear(&exc);
  tt_reset();
}
END_TEST

START_TEST(permission_arg_with_non_map_args_raises_badmap) {
  pga_request_t r = req_of("%{user_id: \"u\", args: nil}");
  pga_perm_input_t in = {T("{:arg, \"user_id\"}"), T("nil"), T("[]"), 0, &r};
  pga_request_exc_t exc = {0};

  ck_assert_int_eq(pga_request_permission_check(&in, NULL, &exc),
                   PGA_PERM_RAISE);
  ck_assert_int_eq(exc.kind, PGA_EXC_BAD_MAP);
  ck_assert_str_eq(exc.message, "expected a map, got: nil");
  pga_request_exc_clear(&exc);
  tt_reset();
}
END_TEST

START_TEST(permission_denied_message_names_the_mode) {
  pga_request_t r = req_of("%{request_id: \"r1\", request_type: \"t\", "
                           "user_id: \"u\", args: %{}}");
  pga_perm_input_t in = {T("{:arg, \"user_id\"}"), T("nil"), T("[]"), 0, &r};
  char *msg = pga_request_permission_denied_message(&in);

  ck_assert_str_eq(msg, "Permission denied for user: \"u\", request: \"r1\", "
                        "type: \"t\", mode: {:arg, \"user_id\"}");
  free(msg);
  in.permission_callback = T("{Auth, :check, []}");
  msg = pga_request_permission_denied_message(&in);
  ck_assert_str_eq(msg, "Permission denied for user: \"u\", request: \"r1\", "
                        "type: \"t\", mode: {:callback, {Auth, :check, []}}");
  free(msg);
  tt_reset();
}
END_TEST

/* Every BEAM-made term as mode, callback, user_id, roles, args and arg
 * name: a decision, never a crash. */
START_TEST(permission_any_term_never_crashes) {
  rf_terms_t terms;

  rf_load(&terms, 0);
  for (size_t i = 0; i < terms.n; i++) {
    pga_term_t x = terms.v[i];
    pga_request_t r = req_of("%{request_id: \"r\", user_id: \"u\", "
                             "user_roles: [\"a\"], args: %{}}");
    pga_tb_t *arg = pga_tb_new(0), *role = pga_tb_new(0), *args;
    pga_perm_input_t in = {x, T("nil"), T(":map"), 0, &r};
    pga_request_exc_t exc = {0};
    pga_term_t cb;
    char *msg;

    pga_tb_tuple(arg, 2);
    pga_tb_atom(arg, "arg");
    pga_tb_term(arg, &x);
    pga_tb_tuple(role, 2);
    pga_tb_atom(role, "role");
    pga_tb_term(role, &x);
    args = rf_map1("user_id", &x);
    ck_assert_int_ne(pga_request_permission_check(&in, &cb, &exc), 0);
    in.check_permission = pga_tb_data(arg);
    r.args = x;
    ck_assert_int_ne(pga_request_permission_check(&in, &cb, &exc), 0);
    r.args = pga_tb_data(args);
    r.user_id = x;
    ck_assert_int_ne(pga_request_permission_check(&in, &cb, &exc), 0);
    in.check_permission = pga_tb_data(role);
    r.user_roles = x;
    ck_assert_int_ne(pga_request_permission_check(&in, &cb, &exc), 0);
    in.permission_callback = x;
    in.local = (int)(i & 1);
    ck_assert_int_ne(pga_request_permission_check(&in, &cb, &exc), 0);
    (void)pga_request_permission_callback_allows(&x);
    r.request_id = x;
    msg = pga_request_permission_denied_message(&in);
    ck_assert_ptr_nonnull(msg);
    free(msg);
    pga_request_exc_clear(&exc);
    pga_tb_free(arg);
    pga_tb_free(role);
    pga_tb_free(args);
    tt_reset();
  }
  rf_free(&terms);
}
END_TEST

START_TEST(permission_input_reads_funconfig) {
  pga_funconfig_t *fc = pga_funconfig_new();
  pga_request_t r = req_of("%{user_id: \"u\", args: %{}}");
  pga_term_t mode = T(":any_authenticated"), cb = T("{M, :f}"),
             local = T(":local"), remote = T("[:\"a@b\"]");
  pga_perm_input_t in;

  ck_assert_ptr_nonnull(fc);
  ck_assert_int_eq(pga_funconfig_set(fc, PGA_FC_CHECK_PERMISSION, &mode), 0);
  ck_assert_int_eq(pga_funconfig_set(fc, PGA_FC_PERMISSION_CALLBACK, &cb), 0);
  ck_assert_int_eq(pga_funconfig_set(fc, PGA_FC_NODES, &local), 0);
  pga_request_perm_input_of(fc, &r, &in);
  ck_assert(in.local);
  ck_assert_int_eq(pga_request_permission_check(&in, NULL, NULL), ALLOW);
  ck_assert_int_eq(pga_funconfig_set(fc, PGA_FC_NODES, &remote), 0);
  pga_request_perm_input_of(fc, &r, &in);
  ck_assert(!in.local);
  ck_assert_int_eq(pga_request_permission_check(&in, NULL, NULL),
                   PGA_PERM_RAISE);
  pga_funconfig_free(fc);
  tt_reset();
}
END_TEST

static Suite *permission_suite(void) {
  Suite *s = suite_create("permission");
  TCase *tc = tcase_create("permission");

  tcase_add_test(tc, permission_false_allows_anonymous);
  tcase_add_test(tc, permission_any_authenticated_needs_nonempty_binary);
  tcase_add_test(tc, permission_arg_must_equal_user_id);
  tcase_add_test(tc, permission_arg_map_mode_takes_first_hit);
  tcase_add_test(tc, permission_role_needs_a_shared_role);
  tcase_add_test(tc, permission_unknown_modes_deny);
  tcase_add_test(tc, permission_callback_decides_alone);
  tcase_add_test(tc, permission_malformed_callback_falls_back_to_mode);
  tcase_add_test(tc, permission_two_tuple_callback_raises_when_remote);
  tcase_add_test(tc, permission_arg_with_non_map_args_raises_badmap);
  tcase_add_test(tc, permission_denied_message_names_the_mode);
  tcase_add_test(tc, permission_any_term_never_crashes);
  tcase_add_test(tc, permission_input_reads_funconfig);
  tcase_set_timeout(tc, 300);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(permission_suite)
