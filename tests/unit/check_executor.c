/* Unit tests for the executor's pure terms (src/request/response.c):
 * Response constructors (request-plane.md §1.2), Request.decode!/1 with its
 * size check and DecodeError exceptions (§1.1.1), external_size, the sync
 * result mapping (§3.3) and the E1/E2 texts (§3.1).
 *
 * §13 cases covered: 1-13, 15-19 (texts), 23-25. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "request/plane.h"
#include "request/request.h"
#include "config_terms.h"
#include "check_main.h"

/* field of a built map equals the term written as text */
static void field_is(const pga_term_t *map, const char *key,
                     const char *text) {
  pga_term_t v, want = T(text);

  ck_assert_msg(pga_term_map_get_atom(map, key, &v) == 0, "no key %s", key);
  ck_assert_msg(pga_term_equal(&v, &want), "key %s differs from %s", key,
                text);
}

static void resp_is(pga_tb_t *tb, const char *id, const char *result,
                    const char *success, const char *error,
                    const char *async, const char *more,
                    const char *retry) {
  pga_term_t m = pga_tb_data(tb);
  size_t n;

  ck_assert_int_eq(pga_tb_error(tb), 0);
  ck_assert_int_eq(pga_term_map_size(&m, &n), 0);
  ck_assert_uint_eq(n, 8);
  field_is(&m, "__struct__", ":\"Elixir.PhoenixGenApi.Structs.Response\"");
  field_is(&m, "request_id", id);
  field_is(&m, "result", result);
  field_is(&m, "success", success);
  field_is(&m, "error", error);
  field_is(&m, "async", async);
  field_is(&m, "has_more", more);
  field_is(&m, "can_retry", retry);
}

START_TEST(response_constructors_match_library) {
  pga_tb_t *tb = pga_tb_new(0);
  pga_term_t id = T("\"r\""), r = T("%{data: \"test\"}"), c = T("\"chunk\"");

  pga_request_response(tb, &id, &r, 1, NULL, 0, 0, 0); /* case 9 */
  resp_is(tb, "\"r\"", "%{data: \"test\"}", "true", "nil", "false", "false",
          "false");
  pga_tb_reset(tb);
  pga_request_response(tb, &id, NULL, 1, NULL, 1, 0, 0); /* 10, 12 */
  resp_is(tb, "\"r\"", "nil", "true", "nil", "true", "false", "false");
  pga_tb_reset(tb);
  pga_request_response(tb, &id, &c, 1, NULL, 1, 1, 0); /* 11 */
  resp_is(tb, "\"r\"", "\"chunk\"", "true", "nil", "true", "true", "false");
  pga_tb_reset(tb);
  pga_request_error_response(tb, &id, "x", 0); /* 13 */
  resp_is(tb, "\"r\"", "nil", "false", "\"x\"", "false", "false", "false");
  pga_tb_reset(tb);
  pga_request_error_response(tb, &id, "x", 1);
  resp_is(tb, "\"r\"", "nil", "false", "\"x\"", "false", "false", "true");
  pga_tb_reset(tb);
  pga_request_error_response(tb, NULL, "x", 0);
  resp_is(tb, "nil", "nil", "false", "\"x\"", "false", "false", "false");
  pga_tb_free(tb);
  tt_reset();
}
END_TEST

/* Decodes params; returns the rc and leaves req / exc built. */
static int decode(const char *params, uint64_t max, pga_tb_t *req,
                  pga_tb_t *exc) {
  pga_term_t p = T(params);

  return pga_request_decode_params(&p, pga_request_external_size(&p), max,
                                   req, exc);
}

static void exc_is(pga_tb_t *exc, const char *code, const char *msg) {
  pga_term_t m = pga_tb_data(exc);
  char want[512];

  field_is(&m, "__exception__", "true");
  field_is(&m, "__struct__", ":\"" PGA_REQUEST_DECODE_ERROR "\"");
  snprintf(want, sizeof want, ":%s", code);
  field_is(&m, "code", want);
  snprintf(want, sizeof want, "\"%s\"", msg);
  field_is(&m, "message", want);
  field_is(&m, "details", "nil");
}

START_TEST(decode_fills_defaults) {
  pga_tb_t *req = pga_tb_new(0), *exc = pga_tb_new(0);
  pga_term_t m;
  size_t n;

  /* case 1 */
  ck_assert_int_eq(decode("%{\"request_id\" => \"r1\", \"request_type\" => "
                          "\"t\", \"service\" => \"s\"}",
                          1000000, req, exc),
                   0);
  m = pga_tb_data(req);
  ck_assert_int_eq(pga_term_map_size(&m, &n), 0);
  ck_assert_uint_eq(n, 9);
  field_is(&m, "__struct__", ":\"Elixir.PhoenixGenApi.Structs.Request\"");
  field_is(&m, "args", "%{}");
  field_is(&m, "user_roles", "nil");
  field_is(&m, "version", "nil");
  field_is(&m, "user_id", "nil");
  field_is(&m, "device_id", "nil");
  field_is(&m, "request_id", "\"r1\"");
  /* case 2: args nil -> %{} */
  pga_tb_reset(req);
  ck_assert_int_eq(decode("%{\"request_id\" => \"r1\", \"request_type\" => "
                          "\"t\", \"service\" => \"s\", \"args\" => nil}",
                          1000000, req, exc),
                   0);
  m = pga_tb_data(req);
  field_is(&m, "args", "%{}");
  pga_tb_free(req);
  pga_tb_free(exc);
  tt_reset();
}
END_TEST

START_TEST(decode_reports_missing_fields_in_order) {
  pga_tb_t *req = pga_tb_new(0), *exc = pga_tb_new(0);

  /* case 3 */
  ck_assert_int_eq(decode("%{\"request_id\" => \"\", \"service\" => \"s\"}",
                          1000000, req, exc),
                   PGA_EINVAL);
  exc_is(exc, "missing_field",
         "Missing required fields: request_type, request_id");
  /* case 4 */
  pga_tb_reset(exc);
  ck_assert_int_eq(decode("%{}", 1000000, req, exc), PGA_EINVAL);
  exc_is(exc, "missing_field",
         "Missing required fields: request_type, request_id, service");
  /* an integer is not blank */
  pga_tb_reset(exc);
  ck_assert_int_eq(decode("%{\"request_id\" => 1, \"request_type\" => 2, "
                          "\"service\" => 3}",
                          1000000, req, exc),
                   0);
  pga_tb_free(req);
  pga_tb_free(exc);
  tt_reset();
}
END_TEST

START_TEST(decode_filters_roles_and_prefers_string_keys) {
  pga_tb_t *req = pga_tb_new(0), *exc = pga_tb_new(0);
  pga_term_t m;

  /* case 5 */
  ck_assert_int_eq(decode("%{\"request_id\" => \"r\", \"request_type\" => "
                          "\"t\", \"service\" => \"s\", \"user_roles\" => "
                          "[\"a\", \"\", :b, 1]}",
                          1000000, req, exc),
                   0);
  m = pga_tb_data(req);
  field_is(&m, "user_roles", "[\"a\"]");
  pga_tb_reset(req);
  ck_assert_int_eq(decode("%{\"request_id\" => \"r\", \"request_type\" => "
                          "\"t\", \"service\" => \"s\", \"user_roles\" => "
                          "\"admin\"}",
                          1000000, req, exc),
                   0);
  m = pga_tb_data(req);
  field_is(&m, "user_roles", "nil");
  /* case 6 */
  pga_tb_reset(req);
  ck_assert_int_eq(decode("%{request_id: \"x\", request_type: \"t\", "
                          "service: \"s\", user_id: \"atom\", "
                          "\"user_id\" => \"str\", \"junk\" => 1}",
                          1000000, req, exc),
                   0);
  m = pga_tb_data(req);
  field_is(&m, "user_id", "\"str\"");
  field_is(&m, "request_id", "\"x\"");
  pga_tb_free(req);
  pga_tb_free(exc);
  tt_reset();
}
END_TEST

START_TEST(decode_size_check_is_strict) {
  pga_tb_t *req = pga_tb_new(0), *exc = pga_tb_new(0);
  const char *v = "%{\"request_id\" => \"r1\", \"request_type\" => "
                  "\"get_user\", \"service\" => \"user_service\", "
                  "\"args\" => %{\"user_id\" => \"u1\"}}";
  pga_term_t p = T(v);

  /* case 8: the vector is 120 bytes and passes at max 120 */
  ck_assert_uint_eq(pga_request_external_size(&p), 120);
  ck_assert_int_eq(decode(v, 120, req, exc), 0);
  /* case 7 shape: one byte over */
  ck_assert_int_eq(decode(v, 119, req, exc), PGA_EINVAL);
  exc_is(exc, "invalid_payload",
         "Request payload exceeds maximum size of 119 bytes (got 120 "
         "bytes)");
  /* not a map: Malformed request payload */
  pga_tb_reset(exc);
  ck_assert_int_eq(decode("[1]", 1000, req, exc), PGA_EINVAL);
  exc_is(exc, "invalid_payload",
         "Malformed request payload: expected a map, got: [1]");
  pga_tb_free(req);
  pga_tb_free(exc);
  tt_reset();
}
END_TEST

START_TEST(external_size_follows_library_encoding) {
  struct {
    const char *t;
    uint64_t size;
  } v[] = {{"7", 3},
           {"300", 6},
           {"-1", 6},
           {"4294967296", 9},
           {"1.5", 10},
           {"nil", 7},
           {"[]", 2},
           {"[1, 2, 3]", 7},
           {"[1, :a]", 1 + 5 + 2 + 4 + 1},
           {"{1, 2}", 1 + 2 + 2 + 2},
           {"\"abc\"", 9},
           {"%{}", 6}};

  for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
    pga_term_t t = T(v[i].t);

    ck_assert_msg(pga_request_external_size(&t) == v[i].size,
                  "%s: %llu, want %llu", v[i].t,
                  (unsigned long long)pga_request_external_size(&t),
                  (unsigned long long)v[i].size);
  }
  tt_reset();
}
END_TEST

START_TEST(map_result_follows_sync_rules) {
  pga_term_t v, t, w = T("\"hi A\"");

  t = T("{:ok, \"hi A\"}"); /* case 23 */
  ck_assert_int_eq(pga_request_map_result(&t, &v), PGA_MAP_OK);
  ck_assert(pga_term_equal(&v, &w));
  t = T("\"plain A\""); /* case 24 */
  ck_assert_int_eq(pga_request_map_result(&t, &v), PGA_MAP_OK);
  ck_assert(pga_term_equal(&v, &t));
  t = T(":ok");
  ck_assert_int_eq(pga_request_map_result(&t, &v), PGA_MAP_OK);
  t = T("{:ok, 1, 2}"); /* case 25 */
  ck_assert_int_eq(pga_request_map_result(&t, &v), PGA_MAP_UNEXPECTED);
  t = T("{:reply, 1}");
  ck_assert_int_eq(pga_request_map_result(&t, &v), PGA_MAP_UNEXPECTED);
  t = T("{:error, :boom}");
  ck_assert_int_eq(pga_request_map_result(&t, &v), PGA_MAP_ERROR);
  tt_reset();
}
END_TEST

START_TEST(config_error_texts) {
  pga_request_t req;
  pga_term_t m = T("%{request_type: \"nope\", version: nil}");
  char *s;

  ck_assert_int_eq(pga_request_from_struct(&m, &req), 0);
  s = pga_request_config_error(&req, 0); /* case 15 */
  ck_assert_str_eq(s, "unsupported function: nope version latest");
  free(s);
  m = T("%{request_type: \"rt\", version: \"1.0.0\"}");
  ck_assert_int_eq(pga_request_from_struct(&m, &req), 0);
  s = pga_request_config_error(&req, 1); /* case 17 */
  ck_assert_str_eq(s, "disabled function: rt version 1.0.0");
  free(s);
  m = T("{:error, :boom}");
  s = pga_request_detail_error("Internal Server Error: ", &m, NULL);
  ck_assert_str_eq(s, "Internal Server Error: {:error, :boom}");
  free(s);
  tt_reset();
}
END_TEST

/* §10: the before hook's outcomes and E3 texts (compat R14). */
static void before_is(const char *result, pga_hook_step_t want,
                      const char *e3) {
  pga_term_t r = T(result), req2, cfg2;
  char *s = NULL;
  ck_assert_int_eq(pga_request_hook_before_result(&r, &req2, &cfg2, &s), want);
  if (e3) ck_assert_str_eq(s, e3);
  else ck_assert_ptr_null(s);
  free(s);
}

START_TEST(hook_before_outcomes_follow_library) {
  pga_term_t r = T("{:ok, :r2, :c2}"), req2, cfg2, w;
  char m[256], f[256], *s = NULL;

  ck_assert_int_eq(pga_request_hook_before_result(&r, &req2, &cfg2, &s),
                   PGA_HOOK_REPLACE);
  w = T(":r2");
  ck_assert(pga_term_equal(&req2, &w));
  before_is("{:error, :quota}", PGA_HOOK_REJECT, "hook rejected: :quota");
  before_is("{:error, \"no\"}", PGA_HOOK_REJECT, "hook rejected: \"no\"");
  before_is(":ok", PGA_HOOK_CONTINUE, NULL);
  before_is("{:ok, 1}", PGA_HOOK_CONTINUE, NULL);
  before_is("{:badrpc, {:EXIT, {%{__exception__: true, message: "
            "\"hookboom\"}, []}}}",
            PGA_HOOK_REJECT, "hook rejected: \"\\\"hookboom\\\"\"");
  before_is("{:badrpc, {:EXIT, {{:nocatch, :x}, []}}}", PGA_HOOK_REJECT,
            "hook rejected: \"{:throw, :x}\"");
  before_is("{:badrpc, {:EXIT, :bye}}", PGA_HOOK_REJECT,
            "hook rejected: \"{:exit, :bye}\"");
  before_is("{:badrpc, :timeout}", PGA_HOOK_REJECT,
            "hook rejected: \"hook timed out after 5000ms\"");
  ck_assert_int_eq(pga_request_hook_before_result(NULL, &req2, &cfg2, &s),
                   PGA_HOOK_REJECT);
  ck_assert_str_eq(s, "hook rejected: \"hook timed out after 5000ms\"");
  free(s);

  r = T("{M, :f}");
  ck_assert_int_eq(pga_request_hook_of(&r, m, f, sizeof m, &w), 2);
  ck_assert_str_eq(m, "Elixir.M");
  r = T("{M, :f, [1]}");
  ck_assert_int_eq(pga_request_hook_of(&r, m, f, sizeof m, &w), 3);
  ck_assert_str_eq(f, "f");
  r = T("nil");
  ck_assert_int_eq(pga_request_hook_of(&r, m, f, sizeof m, &w), 0);
  r = T("{1, :f}");
  ck_assert_int_eq(pga_request_hook_of(&r, m, f, sizeof m, &w), 0);
  tt_reset();
}
END_TEST

static Suite *executor_suite(void) {
  Suite *s = suite_create("executor");
  TCase *tc = tcase_create("executor");

  tcase_add_test(tc, response_constructors_match_library);
  tcase_add_test(tc, decode_fills_defaults);
  tcase_add_test(tc, decode_reports_missing_fields_in_order);
  tcase_add_test(tc, decode_filters_roles_and_prefers_string_keys);
  tcase_add_test(tc, decode_size_check_is_strict);
  tcase_add_test(tc, external_size_follows_library_encoding);
  tcase_add_test(tc, map_result_follows_sync_rules);
  tcase_add_test(tc, config_error_texts);
  tcase_add_test(tc, hook_before_outcomes_follow_library);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(executor_suite)
