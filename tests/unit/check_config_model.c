/* Unit tests of the config term model (config-plane.md §1): FunConfig,
 * PushConfig and ServiceConfig decoding from structs and plain maps,
 * opaque fields kept verbatim, complete encoding. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config/plane_int.h"
#include "config_terms.h"
#include "check_main.h"

static void teardown(void) { tt_reset(); }

START_TEST(fc_decode_missing_keys_default_unknown_ignored) {
  pga_term_t t = T("%FC{request_type: \"r\", extra_key: 1, timeout: 100}");
  pga_funconfig_t *fc;
  ck_assert_int_eq(pga_funconfig_decode(&t, &fc), 0);
  pga_term_t v = pga_funconfig_get(fc, PGA_FC_REQUEST_TYPE);
  ck_assert_term(v, "\"r\"");
  v = pga_funconfig_get(fc, PGA_FC_HOOK_TIMEOUT);
  ck_assert_term(v, "5000");
  v = pga_funconfig_get(fc, PGA_FC_CHECK_PERMISSION);
  ck_assert_term(v, "false");
  v = pga_funconfig_get(fc, PGA_FC_VERSION);
  ck_assert_term(v, "nil");
  pga_funconfig_free(fc);
}
END_TEST

START_TEST(fc_decode_rejects_non_struct) {
  pga_funconfig_t *fc = NULL;
  pga_term_t a = T("%{request_type: \"r\"}"), b = T("[1]"),
             c = T("%PC{service: \"s\"}");
  ck_assert_int_eq(pga_funconfig_decode(&a, &fc), PGA_ETYPE);
  ck_assert_int_eq(pga_funconfig_decode(&b, &fc), PGA_ETYPE);
  ck_assert_int_eq(pga_funconfig_decode(&c, &fc), PGA_ETYPE);
  ck_assert_ptr_null(fc);
  ck_assert(!pga_funconfig_is_struct(&a));
}
END_TEST

START_TEST(fc_encode_complete_struct_in_order) {
  pga_funconfig_t *fc = pga_funconfig_new();
  pga_tb_t *tb = pga_tb_new(0);
  pga_funconfig_encode(tb, fc);
  ck_assert_term(pga_tb_data(tb),
      "%FC{request_type: nil, service: nil, nodes: nil, choose_node_mode: nil, "
      "timeout: nil, mfa: nil, arg_types: nil, arg_orders: nil, "
      "response_type: nil, request_info: false, check_permission: false, "
      "permission_callback: nil, version: nil, disabled: false, retry: nil, "
      "before_execute: nil, after_execute: nil, hook_timeout: 5000}");
  pga_tb_reset(tb);
  pga_funconfig_encode_map(tb, fc);
  pga_term_t m = pga_tb_data(tb), v;
  size_t n;
  ck_assert_int_eq(pga_term_map_size(&m, &n), 0);
  ck_assert_uint_eq(n, 18);
  ck_assert_int_eq(pga_term_map_get_atom(&m, "__struct__", &v), PGA_ENOTFOUND);
  pga_tb_free(tb);
  pga_funconfig_free(fc);
}
END_TEST

/* A FunConfig whose mfa args hold a pid, a bignum, a float and a STRING_EXT
 * list: they come back byte for byte. */
START_TEST(fc_opaque_fields_verbatim) {
  static const char pid[] = {88, 100, 0, 3, 'a', '@', 'b', 0, 0, 0, 7,
                             0, 0, 0, 0, 0, 0, 0, 1};
  static const char big[] = {110, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  static const char str[] = {107, 0, 2, 'l', 's'};
  pga_tb_t *tb = pga_tb_new(0);
  pga_tb_map(tb, 3);
  pga_tb_atom(tb, "__struct__");
  pga_tb_atom(tb, PGA_FUNCONFIG_STRUCT);
  pga_tb_atom(tb, "mfa");
  pga_tb_tuple(tb, 3);
  pga_tb_atom(tb, "Elixir.M");
  pga_tb_atom(tb, "f");
  pga_tb_list(tb, 4);
  pga__tb_raw(tb, pid, sizeof pid);
  pga__tb_raw(tb, big, sizeof big);
  pga_tb_double(tb, 0.25);
  pga__tb_raw(tb, str, sizeof str);
  pga_tb_nil(tb);
  pga_tb_atom(tb, "check_permission");
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, "role");
  pga__tb_raw(tb, str, sizeof str);
  ck_assert_int_eq(pga_tb_error(tb), 0);
  pga_term_t in = pga_tb_data(tb), mfa_in, out_mfa;
  ck_assert_int_eq(pga_term_map_get_atom(&in, "mfa", &mfa_in), 0);
  pga_funconfig_t *fc;
  ck_assert_int_eq(pga_funconfig_decode(&in, &fc), 0);
  pga_tb_t *o = pga_tb_new(0);
  pga_funconfig_encode(o, fc);
  pga_term_t enc = pga_tb_data(o);
  ck_assert_int_eq(pga_term_map_get_atom(&enc, "mfa", &out_mfa), 0);
  ck_assert_uint_eq(out_mfa.len, mfa_in.len);
  ck_assert(memcmp(out_mfa.buf, mfa_in.buf, mfa_in.len) == 0);
  /* STRING_EXT lists are lists wherever a list is accepted */
  unsigned bad = pga_funconfig_check(fc);
  ck_assert(!(bad & (1u << 5)));  /* mfa args: a list */
  ck_assert(!(bad & (1u << 8)));  /* {:role, list} */
  pga_tb_free(o);
  pga_tb_free(tb);
  pga_funconfig_free(fc);
}
END_TEST

START_TEST(pc_map_binary_keys_and_defaults) {
  pga__rec_t *pc;
  pga_term_t t = T("%{\"service\" => \"test_service\", \"nodes\" => [:n@h], "
                   "\"config_version\" => \"1.0.0\", \"fun_configs\" => [], "
                   "\"bogus\" => 1}");
  ck_assert_int_eq(pga_pushconfig_decode(&t, &pc), 0);
  pga_tb_t *tb = pga_tb_new(0);
  pga__rec_encode(tb, pc, 1);
  ck_assert_term(pga_tb_data(tb),
      "%PC{service: \"test_service\", nodes: [:n@h], config_version: \"1.0.0\", "
      "fun_configs: [], module: nil, function: nil, version_module: nil, "
      "version_function: nil, args: [], version_args: [], push_token: nil}");
  pga_tb_free(tb);
  pga__rec_free(pc);
}
END_TEST

START_TEST(pc_map_atom_key_wins_either_order) {
  const char *texts[] = {"%{\"service\" => \"bin\", :service => \"atom\"}",
                         "%{:service => \"atom\", \"service\" => \"bin\"}"};
  for (int i = 0; i < 2; i++) {
    pga__rec_t *pc;
    pga_term_t t = T(texts[i]);
    ck_assert_int_eq(pga_pushconfig_decode(&t, &pc), 0);
    ck_assert_term(pga__rec_get(pc, PGA_PC_SERVICE), "\"atom\"");
    pga__rec_free(pc);
  }
}
END_TEST

START_TEST(pc_map_values_not_converted) {
  pga__rec_t *pc;
  pga_term_t t = T("%{module: \"MyMod\", fun_configs: [%{a: 1}]}");
  ck_assert_int_eq(pga_pushconfig_decode(&t, &pc), 0);
  ck_assert_term(pga__rec_get(pc, PGA_PC_MODULE), "\"MyMod\"");
  ck_assert_term(pga__rec_get(pc, PGA_PC_FUN_CONFIGS), "[%{a: 1}]");
  pga__rec_t *sc;
  ck_assert_int_eq(pga_pushconfig_service_config(pc, &sc), PGA_ENOTFOUND);
  pga__rec_free(pc);
}
END_TEST

START_TEST(pc_decode_non_map_or_oversized_refused) {
  pga__rec_t *pc = NULL;
  pga_term_t t = T("\"x\"");
  ck_assert_int_eq(pga_pushconfig_decode(&t, &pc), PGA_ETYPE);
  pga_tb_t *tb = pga_tb_new(0);
  pga_tb_map(tb, PGA__MAX_STRUCT_PAIRS + 1);
  for (int i = 0; i <= PGA__MAX_STRUCT_PAIRS; i++) {
    pga_tb_int(tb, i);
    pga_tb_int(tb, i);
  }
  pga_term_t big = pga_tb_data(tb);
  ck_assert_int_eq(pga_pushconfig_decode(&big, &pc), PGA_ETYPE);
  ck_assert_ptr_null(pc);
  pga_tb_free(tb);
}
END_TEST

START_TEST(sc_decode_defaults_nil_and_version_probe) {
  pga__rec_t *sc;
  pga_term_t t = T("%{\"service\" => \"s\", version_module: \"TestModule\", "
                   "version_function: :v}");
  ck_assert_int_eq(pga_serviceconfig_decode(&t, &sc), 0);
  ck_assert_term(pga__rec_get(sc, PGA_SC_ARGS), "nil");
  ck_assert_term(pga__rec_get(sc, PGA_SC_SERVICE), "\"s\"");
  ck_assert(!pga_serviceconfig_version_enabled(sc));
  pga_term_t m = T("V");
  ck_assert_int_eq(pga__rec_set(sc, PGA_SC_VERSION_MODULE, &m), 0);
  ck_assert(pga_serviceconfig_version_enabled(sc));
  pga__rec_free(sc);
}
END_TEST

START_TEST(term_hash_matches_equal_across_atom_encodings) {
  static const char latin[] = {100, 0, 3, 's', 'v', 'c'};     /* ATOM_EXT */
  static const char utf8[] = {119, 3, 's', 'v', 'c'};
  pga_term_t a = {latin, sizeof latin}, b = {utf8, sizeof utf8};
  ck_assert(pga_term_equal(&a, &b));
  ck_assert_uint_eq(pga__term_hash(&a), pga__term_hash(&b));
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("config_model");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, NULL, teardown);
  tcase_add_test(tc, fc_decode_missing_keys_default_unknown_ignored);
  tcase_add_test(tc, fc_decode_rejects_non_struct);
  tcase_add_test(tc, fc_encode_complete_struct_in_order);
  tcase_add_test(tc, fc_opaque_fields_verbatim);
  tcase_add_test(tc, pc_map_binary_keys_and_defaults);
  tcase_add_test(tc, pc_map_atom_key_wins_either_order);
  tcase_add_test(tc, pc_map_values_not_converted);
  tcase_add_test(tc, pc_decode_non_map_or_oversized_refused);
  tcase_add_test(tc, sc_decode_defaults_nil_and_version_probe);
  tcase_add_test(tc, term_hash_matches_equal_across_atom_encodings);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(suite)
