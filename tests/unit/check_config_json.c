/* Unit tests of PhoenixGenApi.JsonConfig (config-plane.md §3.2 rule 3;
 * src/config/json_export.c) through the served functions: formats, the
 * term-order latest rule, options and the library's exceptions. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config_plane_fixture.h"
#include "check_main.h"

#define JSON "Elixir.PhoenixGenApi.JsonConfig"

/* A valid FunConfig for service svc (a term text), request type rt. */
#define FC_CHAT(svc, rt, over)                                            \
  "%FC{request_type: \"" rt "\", service: " svc ", nodes: :local, "       \
  "choose_node_mode: :random, timeout: 5000, mfa: {MyModule, :f, []}, "   \
  "arg_types: %{\"content\" => :string}, arg_orders: [\"content\"], "     \
  "response_type: :sync" over "}"

/* The result must be exactly one term (nothing after it). */
static pga_term_t one_term(pga_term_t r) {
  pga_term_t t;
  ck_assert_int_eq(pga_term_view(r.buf, r.len, &t), 0);
  ck_assert_uint_eq(t.len, r.len);
  return r;
}

/* JsonConfig.fn(a0, a1, a2), NULL = absent. */
static pga_term_t J(const char *fn, const char *a0, const char *a1,
                    const char *a2) {
  return one_term(C(JSON, fn, a0, a1, a2));
}

static void add(const char *fc) {
  ck_assert_term(C(DB, "add", fc, NULL, NULL), ":ok");
}

/* The message of a raised ArgumentError. */
static pga_term_t arg_error(pga_term_t r) {
  ck_assert_int_eq(last_outcome, PGA_ERROR);
  ck_assert_term(key(r, "__struct__"), "ArgumentError");
  return key(r, "message");
}

/* A binary view as a C string (in a static buffer). */
static const char *text(pga_term_t t) {
  static char buf[4096];
  const char *d;
  size_t n;
  ck_assert_int_eq(pga_term_get_binary(&t, &d, &n), 0);
  ck_assert_uint_lt(n, sizeof buf);
  memcpy(buf, d, n);
  buf[n] = '\0';
  return buf;
}

/* The versions of generate(svc)'s structs, in order, as a list term. */
static pga_term_t versions(const char *svc) {
  pga_term_t l = J("generate", svc, NULL, NULL), el;
  pga_term_iter_t it;
  pga_tb_t *tb = pga_tb_new(0);
  ck_assert_int_eq(last_outcome, PGA_RETURN);
  pga_tb_list(tb, len(l));
  ck_assert_int_eq(pga_term_iter_init(&it, &l), 0);
  while (pga_term_iter_next(&it, &el)) {
    pga_term_t v = key(el, "version");
    pga_tb_term(tb, &v);
  }
  pga_tb_nil(tb);
  tt_pool[tt_n++] = tb;
  return pga_tb_data(tb);
}

#define SEND_MAP                                                           \
  "%{\"send_message - send_message\" => %{\"data\" => %{\"args\" => "      \
  "%{\"content\" => \"\"}, \"device_id\" => \"device_1\", \"request_id\" " \
  "=> \"request_1\", \"request_type\" => \"send_message\", \"service\" => " \
  "\"chat\", \"user_id\" => \"user_1\", \"version\" => \"1.0.0\"}, "       \
  "\"event\" => \"phoenix_gen_api\"}}"

START_TEST(json_generate_defaults_to_structs) {
  add(FC_CHAT("\"chat\"", "send_message", ""));
  pga_term_t r = J("generate", "\"chat\"", NULL, NULL);
  ck_assert_int_eq(last_outcome, PGA_RETURN);
  ck_assert_uint_eq(len(r), 1);
  pga_term_t fc;
  pga_term_iter_t it;
  ck_assert_int_eq(pga_term_iter_init(&it, &r), 0);
  ck_assert(pga_term_iter_next(&it, &fc));
  ck_assert_term(key(fc, "__struct__"), "PhoenixGenApi.Structs.FunConfig");
  ck_assert_term(key(fc, "request_type"), "\"send_message\"");
  ck_assert_term(key(fc, "hook_timeout"), "5000");
  pga_term_t again = J("generate", "\"chat\"", "[format: :structs]",
                       NULL);
  ck_assert(pga_term_equal(&again, &r));
  ck_assert_term(J("generate", "\"nope\"", NULL, NULL), "[]");
}
END_TEST

START_TEST(json_generate_map_shape) {
  add(FC_CHAT("\"chat\"", "send_message", ", version: \"1.0.0\""));
  ck_assert_term(J("generate", "\"chat\"", "[format: :map]", NULL),
                 SEND_MAP);
  ck_assert_term(J("export_service", "\"chat\"", "[format: :map]", NULL),
                 SEND_MAP);
  ck_assert_term(J("generate", "[\"chat\"]", "[format: :map]", NULL),
                 SEND_MAP);
}
END_TEST

START_TEST(json_generate_json_text) {
  add(FC_CHAT("\"chat\"", "send_message", ", version: \"1.0.0\""));
  add(FC_CHAT("\"users\"", "get_users", ", arg_types: nil, arg_orders: nil"));
  pga_term_t r = J("export_all", "[format: :json]", NULL, NULL);
  ck_assert_int_eq(last_outcome, PGA_RETURN);
  ck_assert_str_eq(
      text(r),
      "{\"get_users - get_users\":{\"data\":{\"args\":{},\"device_id\":"
      "\"device_1\",\"request_id\":\"request_1\",\"request_type\":"
      "\"get_users\",\"service\":\"users\",\"user_id\":\"user_1\","
      "\"version\":null},\"event\":\"phoenix_gen_api\"},"
      "\"send_message - send_message\":{\"data\":{\"args\":{\"content\":"
      "\"\"},\"device_id\":\"device_1\",\"request_id\":\"request_1\","
      "\"request_type\":\"send_message\",\"service\":\"chat\",\"user_id\":"
      "\"user_1\",\"version\":\"1.0.0\"},\"event\":\"phoenix_gen_api\"}}");
  ck_assert_str_eq(text(J("generate", "\"none\"", "[format: :json]",
                          NULL)),
                   "{}");
}
END_TEST

START_TEST(json_json_values_encoded_as_elixir_json) {
  add(FC_CHAT("\"chat\"", "send_message", ""));
  pga_term_t r = J("generate", "\"chat\"",
                   "[format: :json, arg_values: %{\"send_message\" => "
                   "%{\"n\" => [1, -2, true, false, nil, :ok, \"q\\\"\"], "
                   "k: %{}, \"f\" => 1.5}}]",
                   NULL);
  ck_assert_int_eq(last_outcome, PGA_RETURN);
  ck_assert_ptr_nonnull(strstr(text(r),
      "\"args\":{\"f\":1.5,\"k\":{},\"n\":[1,-2,true,false,null,\"ok\","
      "\"q\\\"\"]}"));
  /* A tuple has no JSON.Encoder implementation. */
  r = J("generate", "\"chat\"",
        "[format: :json, arg_values: %{\"send_message\" => "
        "%{\"t\" => {1, 2}}}]",
        NULL);
  ck_assert_int_eq(last_outcome, PGA_ERROR);
  ck_assert_term(key(r, "__struct__"), "Protocol.UndefinedError");
  ck_assert_term(key(r, "protocol"), "JSON.Encoder");
  ck_assert_term(key(r, "value"), "{1, 2}");
}
END_TEST

START_TEST(json_latest_is_term_order_not_semver) {
  add(FC_CHAT("\"chat\"", "send_message", ", version: \"9.0.0\""));
  add(FC_CHAT("\"chat\"", "send_message", ", version: \"10.0.0\""));
  ck_assert_term(versions("\"chat\""), "[\"9.0.0\"]");
  /* get_latest (rule 1) disagrees, by design. */
  pga_term_t l = C(DB, "get_latest", "\"chat\"", "\"send_message\"", NULL);
  ck_assert_term(key(el(l, 1), "version"), "\"10.0.0\"");
}
END_TEST

START_TEST(json_latest_disabled_drops_request_type) {
  add(FC_CHAT("\"chat\"", "send_message", ", version: \"1.0.0\""));
  add(FC_CHAT("\"chat\"", "send_message", ", version: \"2.0.0\""));
  add(FC_CHAT("\"chat\"", "other", ", version: \"1.0.0\""));
  ck_assert_term(C(DB, "disable", "\"chat\"", "\"send_message\"", "\"2.0.0\""),
                 ":ok");
  /* No fallback to 1.0.0: the last version is disabled. */
  pga_term_t r = J("generate", "\"chat\"", NULL, NULL);
  ck_assert_uint_eq(len(r), 1);
  ck_assert_term(versions("\"chat\""), "[\"1.0.0\"]");
  ck_assert_term(J("generate", "\"chat\"",
                   "[format: :map, descriptions: %{\"other\" => \"o\"}]",
                   NULL),
                 "%{\"other - o\" => %{\"data\" => %{\"args\" => "
                 "%{\"content\" => \"\"}, \"device_id\" => \"device_1\", "
                 "\"request_id\" => \"request_1\", \"request_type\" => "
                 "\"other\", \"service\" => \"chat\", \"user_id\" => "
                 "\"user_1\", \"version\" => \"1.0.0\"}, \"event\" => "
                 "\"phoenix_gen_api\"}}");
}
END_TEST

START_TEST(json_nil_version_sorts_first) {
  add(FC_CHAT("\"chat\"", "send_message", ""));
  ck_assert_term(versions("\"chat\""), "[nil]");
  add(FC_CHAT("\"chat\"", "send_message", ", version: \"0.1.0\""));
  ck_assert_term(versions("\"chat\""), "[\"0.1.0\"]");
  ck_assert_term(C(DB, "disable", "\"chat\"", "\"send_message\"", "\"0.1.0\""),
                 ":ok");
  ck_assert_term(J("generate", "\"chat\"", NULL, NULL), "[]");
}
END_TEST

START_TEST(json_services_atom_and_binary_differ) {
  add(FC_CHAT(":chat", "send_message", ", version: \"1.0.0\""));
  add(FC_CHAT("\"users\"", "get_users", ""));
  ck_assert_term(J("generate", "\"chat\"", NULL, NULL), "[]");
  ck_assert_term(versions(":chat"), "[\"1.0.0\"]");
  /* "service" is to_string(service). */
  ck_assert_term(J("export_service", ":chat", "[format: :map]", NULL),
                 SEND_MAP);
  /* A list: structs by service in term order (atoms before binaries). */
  ck_assert_term(versions("[\"users\", :chat]"), "[\"1.0.0\", nil]");
  ck_assert_term(J("generate", "[]", NULL, NULL), "[]");
  ck_assert_uint_eq(len(J("export_all", NULL, NULL, NULL)), 2);
}
END_TEST

START_TEST(json_descriptions_and_arg_values_maps) {
  add(FC_CHAT("\"chat\"", "send_message", ", arg_types: %{\"content\" => "
              ":string, \"to_user\" => :string}, arg_orders: [\"content\", "
              "\"to_user\"]"));
  add(FC_CHAT("\"chat\"", "get", ""));
  pga_term_t r = J("generate", "\"chat\"",
                   "[format: :map, descriptions: %{\"send_message\" => "
                   "\"Send a message\", \"x\" => \"y\"}, arg_values: "
                   "%{\"send_message\" => %{\"content\" => \"Hello!\", "
                   "\"to_user\" => \"user_2\"}}]",
                   NULL);
  ck_assert_int_eq(last_outcome, PGA_RETURN);
  pga_term_t v, w;
  ck_assert_int_eq(pga_term_map_get_binary(&r, "send_message - Send a message",
                                           &v), 0);
  ck_assert_int_eq(pga_term_map_get_binary(&v, "data", &w), 0);
  ck_assert_int_eq(pga_term_map_get_binary(&w, "args", &v), 0);
  ck_assert_term(v, "%{\"content\" => \"Hello!\", \"to_user\" => \"user_2\"}");
  /* Not in either map: the request type and the default args. */
  ck_assert_int_eq(pga_term_map_get_binary(&r, "get - get", &v), 0);
  ck_assert_int_eq(pga_term_map_get_binary(&v, "data", &w), 0);
  ck_assert_int_eq(pga_term_map_get_binary(&w, "args", &v), 0);
  ck_assert_term(v, "%{\"content\" => \"\"}");
  /* Non-binary descriptions interpolate (to_string). */
  r = J("generate", "\"chat\"",
        "[format: :map, descriptions: %{\"get\" => :fetch, "
        "\"send_message\" => 42}]", NULL);
  ck_assert_int_eq(pga_term_map_get_binary(&r, "get - fetch", &v), 0);
  ck_assert_int_eq(pga_term_map_get_binary(&r, "send_message - 42", &v), 0);
}
END_TEST

START_TEST(json_default_args_from_arg_types) {
  add(FC_CHAT("\"chat\"", "listed",
              ", arg_types: %{\"a\" => [type: :string, default_value: \"x\"], "
              "\"b\" => :num, \"c\" => [type: :num, default_value: nil]}, "
              "arg_orders: [\"a\", \"b\", \"c\"]"));
  add(FC_CHAT("\"chat\"", "mapped",
              ", arg_types: %{\"n\" => [type: :num, default_value: 7]}, "
              "arg_orders: :map"));
  add(FC_CHAT("\"chat\"", "none", ", arg_types: nil, arg_orders: nil"));
  add(FC_CHAT("\"chat\"", "empty", ", arg_orders: []"));
  pga_term_t r = J("generate", "\"chat\"", "[format: :map]", NULL), v, w;
  ck_assert_int_eq(pga_term_map_get_binary(&r, "listed - listed", &v), 0);
  ck_assert_int_eq(pga_term_map_get_binary(&v, "data", &w), 0);
  ck_assert_int_eq(pga_term_map_get_binary(&w, "args", &v), 0);
  ck_assert_term(v, "%{\"a\" => \"x\", \"b\" => \"\", \"c\" => \"\"}");
  ck_assert_int_eq(pga_term_map_get_binary(&r, "mapped - mapped", &v), 0);
  ck_assert_int_eq(pga_term_map_get_binary(&v, "data", &w), 0);
  ck_assert_int_eq(pga_term_map_get_binary(&w, "args", &v), 0);
  ck_assert_term(v, "%{\"n\" => 7}");
  ck_assert_int_eq(pga_term_map_get_binary(&r, "none - none", &v), 0);
  ck_assert_int_eq(pga_term_map_get_binary(&v, "data", &w), 0);
  ck_assert_int_eq(pga_term_map_get_binary(&w, "args", &v), 0);
  ck_assert_term(v, "%{}");
  ck_assert_int_eq(pga_term_map_get_binary(&r, "empty - empty", &v), 0);
  ck_assert_int_eq(pga_term_map_get_binary(&v, "data", &w), 0);
  ck_assert_int_eq(pga_term_map_get_binary(&w, "args", &v), 0);
  ck_assert_term(v, "%{}");
  /* Unvalidated FunConfigs (export_single): a name listed twice is one
   * key (Map.new); a listed name missing from arg_types is "". */
  r = C(JSON, "export_single",
        FC_CHAT("\"chat\"", "s", ", arg_types: %{\"a\" => [default_value: "
                "false]}, arg_orders: [\"a\", \"z\", \"a\"]"),
        NULL, NULL);
  v = el(r, 1);
  ck_assert_int_eq(pga_term_map_get_binary(&v, "data", &w), 0);
  ck_assert_int_eq(pga_term_map_get_binary(&w, "args", &v), 0);
  ck_assert_term(v, "%{\"a\" => \"\", \"z\" => \"\"}");
  /* arg_types that is not a map fails as Map.get does. */
  ck_assert_term(C(JSON, "export_single",
                   FC_CHAT("\"chat\"", "s", ", arg_types: [1]"), NULL, NULL),
                 "{:badmap, [1]}");
  ck_assert_int_eq(last_outcome, PGA_ERROR);
}
END_TEST

START_TEST(json_export_single_options) {
  pga_term_t r = C(JSON, "export_single",
                   FC_CHAT("\"chat\"", "send_message", ", version: \"1.0.0\""),
                   NULL, NULL);
  ck_assert_int_eq(last_outcome, PGA_RETURN);
  ck_assert_term(el(r, 0), "\"send_message - send_message\"");
  r = J("export_single", FC_CHAT(":chat", "send_message", ""),
        "[user_id: \"custom_user\", device_id: \"custom_device\", "
        "request_id: \"custom_request\", event: \"ev\", user_id: \"second\"]",
        NULL);
  ck_assert_term(r, "{\"send_message - send_message\", %{\"data\" => "
                    "%{\"args\" => %{\"content\" => \"\"}, \"device_id\" => "
                    "\"custom_device\", \"request_id\" => \"custom_request\", "
                    "\"request_type\" => \"send_message\", \"service\" => "
                    "\"chat\", \"user_id\" => \"custom_user\", \"version\" => "
                    "nil}, \"event\" => \"ev\"}}");
  /* A present nil is nil (Keyword.get), not the default. */
  r = J("export_single", FC_CHAT("\"chat\"", "s", ""), "[user_id: nil]",
        NULL);
  pga_term_t v1 = el(r, 1), d, u;
  ck_assert_int_eq(pga_term_map_get_binary(&v1, "data", &d), 0);
  ck_assert_int_eq(pga_term_map_get_binary(&d, "user_id", &u), 0);
  ck_assert_term(u, "nil");
}
END_TEST

START_TEST(json_invalid_format_raises_argument_error) {
  ck_assert_str_eq(text(arg_error(J("generate", "\"chat\"",
                                    "[format: :xml]", NULL))),
                   "invalid format: :xml");
  ck_assert_str_eq(text(arg_error(J("export_all", "[format: \"map\"]",
                                    NULL, NULL))),
                   "invalid format: \"map\"");
  ck_assert_str_eq(text(arg_error(J("generate", "\"chat\"",
                                    "[format: nil]", NULL))),
                   "invalid format: nil");
  ck_assert_str_eq(text(arg_error(J("generate", "\"chat\"",
                                    "[format: {A, \"f\", []}]", NULL))),
                   "invalid format: {A, \"f\", []}");
}
END_TEST

/* [descriptions | arg_values: &:erlang.abs/1, format: :map] */
static pga_term_t fun_opts(const char *opt, int arity) {
  pga_tb_t *tb = pga_tb_new(0);
  pga_tb_list(tb, 2);
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, opt);
  pga__tb_raw(tb, "\x71", 1); /* EXPORT_EXT */
  pga_tb_atom(tb, "erlang");
  pga_tb_atom(tb, "abs");
  pga_tb_int(tb, arity);
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, "format");
  pga_tb_atom(tb, "map");
  pga_tb_nil(tb);
  ck_assert_int_eq(pga_tb_error(tb), 0);
  tt_pool[tt_n++] = tb;
  return pga_tb_data(tb);
}

static pga_term_t call2(const char *fn, const char *a0, pga_term_t a1) {
  pga_term_t argv[2] = {T(a0), a1};
  pga_tb_t *out = pga_tb_new(0);
  last_outcome = pga_config_call(plane, JSON, fn, 2, argv, out);
  tt_pool[tt_n++] = out;
  return one_term(pga_tb_data(out));
}

START_TEST(json_options_unread_without_configs) {
  /* Nothing to export: :descriptions is never looked at (the library's
   * Enum.map has nothing to map), so even a function passes. */
  ck_assert_term(call2("generate", "\"chat\"", fun_opts("descriptions", 1)),
                 "%{}");
  ck_assert_term(J("generate", "\"chat\"",
                   "[format: :map, descriptions: :bad, arg_values: 1]", NULL),
                 "%{}");
  /* A custom encoder would still have to run: refused. */
  arg_error(J("generate", "\"chat\"", "[format: {Jason, :encode!, []}]",
              NULL));
}
END_TEST

START_TEST(json_functions_and_custom_encoder_refused) {
  add(FC_CHAT("\"chat\"", "send_message", ""));
  const char *m = text(arg_error(J("generate", "\"chat\"",
                                   "[format: {Jason, :encode!, []}]", NULL)));
  ck_assert_ptr_nonnull(strstr(m, "format: {Jason, :encode!, []} cannot run "
                                  "in pga"));
  m = text(arg_error(call2("generate", "\"chat\"",
                           fun_opts("descriptions", 1))));
  ck_assert_ptr_nonnull(strstr(m, "descriptions given as a function"));
  m = text(arg_error(call2("generate", "\"chat\"",
                           fun_opts("arg_values", 1))));
  ck_assert_ptr_nonnull(strstr(m, "arg_values given as a function"));
  /* A fun of another arity is just an invalid option. */
  m = text(arg_error(call2("generate", "\"chat\"",
                           fun_opts("descriptions", 2))));
  ck_assert_ptr_nonnull(strstr(m, "invalid descriptions option: "));
  ck_assert_ptr_nonnull(strstr(m, "abs/2"));
  ck_assert_str_eq(text(arg_error(J("generate", "\"chat\"",
                                    "[format: :map, descriptions: :bad]",
                                    NULL))),
                   "invalid descriptions option: :bad");
  ck_assert_str_eq(text(arg_error(J("generate", "\"chat\"",
                                    "[format: :json, arg_values: \"bad\"]",
                                    NULL))),
                   "invalid arg_values option: \"bad\"");
  /* :structs never reads them. */
  ck_assert_uint_eq(len(J("generate", "\"chat\"",
                          "[descriptions: :bad, arg_values: 1]", NULL)), 1);
}
END_TEST

START_TEST(json_guards_as_the_library) {
  add(FC_CHAT("\"chat\"", "send_message", ""));
  J("generate", "\"chat\"", ":not_a_list", NULL);
  ck_assert_int_eq(last_outcome, PGA_ERROR);
  ck_assert_term(J("generate", "\"chat\"", "%{format: :map}", NULL),
                 ":function_clause");
  ck_assert_term(J("export_all", ":x", NULL, NULL), ":function_clause");
  ck_assert_term(J("export_service", "123", NULL, NULL),
                 ":function_clause");
  ck_assert_term(J("export_service", "\"chat\"", "7", NULL),
                 ":function_clause");
  ck_assert_term(J("export_single", "%{request_type: \"x\"}", NULL,
                   NULL),
                 ":function_clause");
  ck_assert_term(J("export_single", FC_CHAT("\"chat\"", "x", ""),
                   "\"opts\"", NULL),
                 ":function_clause");
  /* The library's `case` on the first argument has no clause for these. */
  ck_assert_term(J("generate", "123", NULL, NULL),
                 "{:case_clause, 123}");
  ck_assert_int_eq(last_outcome, PGA_ERROR);
  ck_assert_term(J("generate", "{:a}", "[format: :xml]", NULL),
                 "{:case_clause, {:a}}");
  ck_assert_term(J("generate", "\"chat\"", "[format: :map]", "1"),
                 ":undef");
}
END_TEST

START_TEST(json_same_key_last_service_wins) {
  add(FC_CHAT(":a", "send_message", ", version: \"1.0.0\""));
  add(FC_CHAT("\"b\"", "send_message", ", version: \"2.0.0\""));
  pga_term_t r = J("export_all", "[format: :map]", NULL, NULL), v, d, x;
  size_t n;
  ck_assert_int_eq(pga_term_map_size(&r, &n), 0);
  ck_assert_uint_eq(n, 1);
  ck_assert_int_eq(pga_term_map_get_binary(&r, "send_message - send_message",
                                           &v), 0);
  ck_assert_int_eq(pga_term_map_get_binary(&v, "data", &d), 0);
  ck_assert_int_eq(pga_term_map_get_binary(&d, "version", &x), 0);
  ck_assert_term(x, "\"2.0.0\"");
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("config_json");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, plane_setup, plane_teardown);
  tcase_add_test(tc, json_generate_defaults_to_structs);
  tcase_add_test(tc, json_generate_map_shape);
  tcase_add_test(tc, json_generate_json_text);
  tcase_add_test(tc, json_json_values_encoded_as_elixir_json);
  tcase_add_test(tc, json_latest_is_term_order_not_semver);
  tcase_add_test(tc, json_latest_disabled_drops_request_type);
  tcase_add_test(tc, json_nil_version_sorts_first);
  tcase_add_test(tc, json_services_atom_and_binary_differ);
  tcase_add_test(tc, json_descriptions_and_arg_values_maps);
  tcase_add_test(tc, json_default_args_from_arg_types);
  tcase_add_test(tc, json_export_single_options);
  tcase_add_test(tc, json_invalid_format_raises_argument_error);
  tcase_add_test(tc, json_options_unread_without_configs);
  tcase_add_test(tc, json_functions_and_custom_encoder_refused);
  tcase_add_test(tc, json_guards_as_the_library);
  tcase_add_test(tc, json_same_key_last_service_wins);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(suite)
