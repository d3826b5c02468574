/* The compiled form of a FunConfig (src/config/funconfig.c): each field
 * the request plane reads is parsed once, table by table; a set compiles
 * again; the validation result is kept current; lookups share one
 * FunConfig; a stored PushConfig writes back the exact bytes pushed while
 * holding its fun_configs as the shared FunConfigs. */
#include "config.h"

#include <check.h>
#include <string.h>

#include "check_main.h"
#include "config/funconfig.h"
#include "config/durable.h"
#include "config_plane_fixture.h"

/* A fresh FunConfig with field f set to the term of text. */
static pga_funconfig_t *with(pga_fc_field_t f, const char *text) {
  pga_funconfig_t *fc = pga_funconfig_new();
  ck_assert_ptr_nonnull(fc);
  pga_term_t v = T(text);
  ck_assert_int_eq(pga_funconfig_set(fc, f, &v), 0);
  return fc;
}

static void teardown(void) { tt_reset(); }

/* ---- enums ---- */

typedef struct {
  pga_fc_field_t field;
  const char *value;
  size_t offset; /* of the uint8_t in pga_fc_compiled_t */
  int want;
} enum_case_t;

#define AT(member) offsetof(pga_fc_compiled_t, member)

static const enum_case_t enum_cases[] = {
    {PGA_FC_RESPONSE_TYPE, ":sync", AT(response), PGA_FC_RESP_SYNC},
    {PGA_FC_RESPONSE_TYPE, ":async", AT(response), PGA_FC_RESP_ASYNC},
    {PGA_FC_RESPONSE_TYPE, ":stream", AT(response), PGA_FC_RESP_STREAM},
    {PGA_FC_RESPONSE_TYPE, ":none", AT(response), PGA_FC_RESP_NONE},
    {PGA_FC_RESPONSE_TYPE, "\"sync\"", AT(response), PGA_FC_RESP_OTHER},
    {PGA_FC_RESPONSE_TYPE, ":call", AT(response), PGA_FC_RESP_OTHER},
    {PGA_FC_NODES, "[:\"a@h\", \"b@h\"]", AT(nodes), PGA_FC_NODES_LIST},
    {PGA_FC_NODES, "[]", AT(nodes), PGA_FC_NODES_LIST},
    {PGA_FC_NODES, ":local", AT(nodes), PGA_FC_NODES_LOCAL},
    {PGA_FC_NODES, "{M, :f, []}", AT(nodes), PGA_FC_NODES_MFA},
    {PGA_FC_NODES, ":remote", AT(nodes), PGA_FC_NODES_OTHER},
    {PGA_FC_NODES, "{M, :f}", AT(nodes), PGA_FC_NODES_OTHER},
    {PGA_FC_CHOOSE_NODE_MODE, ":random", AT(mode), PGA_FC_MODE_RANDOM},
    {PGA_FC_CHOOSE_NODE_MODE, ":hash", AT(mode), PGA_FC_MODE_HASH},
    {PGA_FC_CHOOSE_NODE_MODE, ":round_robin", AT(mode),
     PGA_FC_MODE_ROUND_ROBIN},
    {PGA_FC_CHOOSE_NODE_MODE, "{:hash, \"user_id\"}", AT(mode),
     PGA_FC_MODE_HASH_KEY},
    {PGA_FC_CHOOSE_NODE_MODE, "{:sticky, :user_id}", AT(mode),
     PGA_FC_MODE_STICKY},
    {PGA_FC_CHOOSE_NODE_MODE, "{:other, \"k\"}", AT(mode), PGA_FC_MODE_OTHER},
    {PGA_FC_CHOOSE_NODE_MODE, "nil", AT(mode), PGA_FC_MODE_OTHER},
    {PGA_FC_CHECK_PERMISSION, "false", AT(perm), PGA_FC_PERM_FALSE},
    {PGA_FC_CHECK_PERMISSION, ":any_authenticated", AT(perm),
     PGA_FC_PERM_ANY_AUTHENTICATED},
    {PGA_FC_CHECK_PERMISSION, "{:arg, \"user_id\"}", AT(perm),
     PGA_FC_PERM_ARG},
    {PGA_FC_CHECK_PERMISSION, "{:role, [\"admin\"]}", AT(perm),
     PGA_FC_PERM_ROLE},
    {PGA_FC_CHECK_PERMISSION, "true", AT(perm), PGA_FC_PERM_OTHER},
    {PGA_FC_TIMEOUT, "5000", AT(timeout), PGA_FC_TIMEOUT_INT},
    {PGA_FC_TIMEOUT, ":infinity", AT(timeout), PGA_FC_TIMEOUT_INFINITY},
    {PGA_FC_TIMEOUT, "1.5", AT(timeout), PGA_FC_TIMEOUT_OTHER},
    {PGA_FC_TIMEOUT, "nil", AT(timeout), PGA_FC_TIMEOUT_OTHER},
    {PGA_FC_RETRY, "nil", AT(retry), PGA_FC_RETRY_NONE},
    {PGA_FC_RETRY, "3", AT(retry), PGA_FC_RETRY_ALL_NODES},
    {PGA_FC_RETRY, "{:same_node, 2}", AT(retry), PGA_FC_RETRY_SAME_NODE},
    {PGA_FC_RETRY, "{:all_nodes, 1}", AT(retry), PGA_FC_RETRY_ALL_NODES},
    {PGA_FC_RETRY, "{:some_node, 1}", AT(retry), PGA_FC_RETRY_OTHER},
    {PGA_FC_RETRY, "{:same_node, :x}", AT(retry), PGA_FC_RETRY_OTHER},
    {PGA_FC_RETRY, "\"3\"", AT(retry), PGA_FC_RETRY_OTHER},
    {PGA_FC_DISABLED, "true", AT(disabled), 1},
    {PGA_FC_DISABLED, "nil", AT(disabled), 0},
    {PGA_FC_DISABLED, "0", AT(disabled), 1}, /* truthy, as Elixir reads */
    {PGA_FC_REQUEST_INFO, "true", AT(request_info), 1},
    {PGA_FC_REQUEST_INFO, "1", AT(request_info), 0},
    {PGA_FC_VERSION, "\"1.0.0\"", AT(versioned), 1},
    {PGA_FC_VERSION, "\"0.0.0\"", AT(versioned), 0},
    {PGA_FC_VERSION, "\"\"", AT(versioned), 0},
    {PGA_FC_VERSION, "nil", AT(versioned), 0},
};

START_TEST(test_enum) {
  const enum_case_t *c = &enum_cases[_i];
  pga_funconfig_t *fc = with(c->field, c->value);
  const uint8_t *got =
      (const uint8_t *)pga_funconfig_compiled(fc) + c->offset;
  ck_assert_msg(*got == c->want, "%s = %s: compiled %d, want %d",
                pga_funconfig_field_name(c->field), c->value, *got, c->want);
  pga_funconfig_free(fc);
}
END_TEST

/* ---- numbers ---- */

typedef struct {
  pga_fc_field_t field;
  const char *value;
  int64_t want;
} number_case_t;

static const number_case_t number_cases[] = {
    {PGA_FC_TIMEOUT, "5000", 5000},
    {PGA_FC_TIMEOUT, "-7", -7},
    {PGA_FC_RETRY, "3", 3},
    {PGA_FC_RETRY, "2.9", 2},      /* trunc */
    {PGA_FC_RETRY, "{:same_node, 4.5}", 4},
    {PGA_FC_RETRY, "{:all_nodes, 0}", 0},
};

START_TEST(test_number) {
  const number_case_t *c = &number_cases[_i];
  pga_funconfig_t *fc = with(c->field, c->value);
  const pga_fc_compiled_t *k = pga_funconfig_compiled(fc);
  int64_t got = c->field == PGA_FC_TIMEOUT ? k->timeout_ms : k->retry_n;
  ck_assert_msg(got == c->want, "%s = %s: %lld, want %lld",
                pga_funconfig_field_name(c->field), c->value,
                (long long)got, (long long)c->want);
  pga_funconfig_free(fc);
}
END_TEST

/* ---- calls (mfa, hooks, permission callback) ---- */

typedef struct {
  pga_fc_field_t field;
  const char *value;
  unsigned arity;
  const char *m, *f;
  const char *a; /* the third element's term, or NULL */
} call_case_t;

static const call_case_t call_cases[] = {
    {PGA_FC_MFA, "{MyApp.Service, :get_user, []}", 3,
     "Elixir.MyApp.Service", "get_user", "[]"},
    {PGA_FC_MFA, "{:m, :f, [1, \"x\"]}", 3, "m", "f", "[1, \"x\"]"},
    {PGA_FC_MFA, "{:m, :f, [], :extra}", 4, "m", "f", "[]"},
    {PGA_FC_MFA, "{\"m\", :f, []}", 0, "", "", NULL},
    {PGA_FC_MFA, "nil", 0, "", "", NULL},
    {PGA_FC_BEFORE_EXECUTE, "{Hooks, :before}", 2, "Elixir.Hooks", "before",
     NULL},
    {PGA_FC_BEFORE_EXECUTE, "{Hooks, :before, %{k: 1}}", 3, "Elixir.Hooks",
     "before", "%{k: 1}"},
    {PGA_FC_AFTER_EXECUTE, "{:\"ünï\", :after}", 2, "ünï", "after", NULL},
    {PGA_FC_AFTER_EXECUTE, "{:a}", 0, "", "", NULL},
    {PGA_FC_PERMISSION_CALLBACK, "{Auth, :check, [:x]}", 3, "Elixir.Auth",
     "check", "[:x]"},
};

static const pga_fc_call_t *call_of(const pga_fc_compiled_t *k,
                                    pga_fc_field_t f) {
  switch (f) {
  case PGA_FC_MFA: return &k->mfa;
  case PGA_FC_BEFORE_EXECUTE: return &k->before;
  case PGA_FC_AFTER_EXECUTE: return &k->after;
  default: return &k->permission_callback;
  }
}

START_TEST(test_call) {
  const call_case_t *c = &call_cases[_i];
  pga_funconfig_t *fc = with(c->field, c->value);
  const pga_fc_call_t *call = call_of(pga_funconfig_compiled(fc), c->field);
  ck_assert_uint_eq(call->arity, c->arity);
  ck_assert_str_eq(pga_funconfig_text(fc, call->m), c->m);
  ck_assert_str_eq(pga_funconfig_text(fc, call->f), c->f);
  if (c->a) {
    pga_term_t a = pga_funconfig_slice(fc, call->a, call->a_len), want = T(c->a);
    ck_assert_msg(a.len == want.len && memcmp(a.buf, want.buf, a.len) == 0,
                  "%s: third element %s, want %s", c->value, tt_show(&a),
                  c->a);
  } else {
    ck_assert_uint_eq(call->a_len, 0);
  }
  pga_funconfig_free(fc);
}
END_TEST

/* Atoms in the older encodings (ATOM_EXT, SMALL_ATOM_EXT, latin-1) read
 * as their UTF-8 twins. */
START_TEST(test_latin1_atoms) {
  static const char sync[] = {100, 0, 4, 's', 'y', 'n', 'c'};
  static const char local[] = {115, 5, 'l', 'o', 'c', 'a', 'l'};
  static const char mfa[] = {104, 3, 115, 1, (char)0xE9, 100, 0, 1, 'f', 106};
  pga_term_t t = {sync, sizeof sync};
  pga_funconfig_t *fc = pga_funconfig_new();
  ck_assert_int_eq(pga_funconfig_set(fc, PGA_FC_RESPONSE_TYPE, &t), 0);
  t = (pga_term_t){local, sizeof local};
  ck_assert_int_eq(pga_funconfig_set(fc, PGA_FC_NODES, &t), 0);
  t = (pga_term_t){mfa, sizeof mfa};
  ck_assert_int_eq(pga_funconfig_set(fc, PGA_FC_MFA, &t), 0);
  const pga_fc_compiled_t *k = pga_funconfig_compiled(fc);
  ck_assert_int_eq(k->response, PGA_FC_RESP_SYNC);
  ck_assert_int_eq(k->nodes, PGA_FC_NODES_LOCAL);
  ck_assert_uint_eq(k->mfa.arity, 3);
  ck_assert_str_eq(pga_funconfig_text(fc, k->mfa.m), "\xc3\xa9");
  ck_assert_str_eq(pga_funconfig_text(fc, k->mfa.f), "f");
  pga_funconfig_free(fc);
}
END_TEST

/* The {:hash | :sticky, key} key is a view of the field's own bytes. */
START_TEST(test_mode_key) {
  pga_funconfig_t *fc = with(PGA_FC_CHOOSE_NODE_MODE, "{:sticky, \"sid\"}");
  const pga_fc_compiled_t *k = pga_funconfig_compiled(fc);
  pga_term_t key = pga_funconfig_slice(fc, k->mode_key, k->mode_key_len);
  ck_assert_term(key, "\"sid\"");
  pga_funconfig_free(fc);
}
END_TEST

/* A set compiles again; texts of other fields stay readable (the data
 * block moved); the wire form is what was set. */
START_TEST(test_set_recompiles) {
  pga_funconfig_t *fc = with(PGA_FC_MFA, "{Svc, :run, []}");
  pga_term_t v = T(":stream"), hook = T("{Hooks, :after}");
  ck_assert_int_eq(pga_funconfig_set(fc, PGA_FC_RESPONSE_TYPE, &v), 0);
  ck_assert_int_eq(pga_funconfig_set(fc, PGA_FC_AFTER_EXECUTE, &hook), 0);
  const pga_fc_compiled_t *k = pga_funconfig_compiled(fc);
  ck_assert_int_eq(k->response, PGA_FC_RESP_STREAM);
  ck_assert_str_eq(pga_funconfig_text(fc, k->mfa.f), "run");
  ck_assert_str_eq(pga_funconfig_text(fc, k->after.m), "Elixir.Hooks");
  ck_assert_term(pga_funconfig_get(fc, PGA_FC_RESPONSE_TYPE), ":stream");
  ck_assert_term(pga_funconfig_get(fc, PGA_FC_MFA), "{Svc, :run, []}");
  pga_funconfig_free(fc);
}
END_TEST

/* The kept validation result follows every set, and equals a fresh
 * validation of the same fields. */
START_TEST(test_validation_kept) {
  pga_funconfig_t *fc;
  pga_term_t t = T("%FC{" F "}");
  ck_assert_int_eq(pga_funconfig_decode(&t, &fc), 0);
  ck_assert_uint_eq(pga_funconfig_check(fc), 0);
  pga_term_t bad = T("50");
  ck_assert_int_eq(pga_funconfig_set(fc, PGA_FC_TIMEOUT, &bad), 0);
  ck_assert_uint_eq(pga_funconfig_check(fc), 1u << 4);
  ck_assert_uint_eq(pga_funconfig_check(fc), pga__funconfig_validate(fc));
  pga_term_t good = T(":infinity");
  ck_assert_int_eq(pga_funconfig_set(fc, PGA_FC_TIMEOUT, &good), 0);
  ck_assert_uint_eq(pga_funconfig_check(fc), 0);
  pga_funconfig_free(fc);
}
END_TEST

/* References: the last free frees (ASan sees a leak or a double free). */
START_TEST(test_refcount) {
  pga_funconfig_t *fc = with(PGA_FC_RESPONSE_TYPE, ":sync");
  pga_funconfig_t *r = pga_funconfig_ref(fc);
  ck_assert_ptr_eq(r, fc);
  pga_funconfig_free(fc);
  ck_assert_int_eq(pga_funconfig_compiled(r)->response, PGA_FC_RESP_SYNC);
  pga_funconfig_free(r);
}
END_TEST

/* ---- through the plane ---- */

/* Lookups share the stored FunConfig; disabling stores a new one and a
 * reference taken before still reads the old fields. */
START_TEST(test_lookup_shares) {
  pga_funconfig_t *a = NULL, *b = NULL, *c = NULL;
  pga_term_t svc = T("\"test_service\""), rt = T("\"test_request\""),
             ver = T("\"1.0.0\"");
  ck_assert_term(C(DB, "add", cat("%FC{", F, "}"), NULL, NULL), ":ok");
  ck_assert_int_eq(pga_config_lookup(plane, &svc, &rt, NULL, &a), 0);
  ck_assert_int_eq(pga_config_lookup(plane, &svc, &rt, NULL, &b), 0);
  ck_assert_ptr_eq(a, b);
  C(DB, "disable", "\"test_service\"", "\"test_request\"", "\"1.0.0\"");
  ck_assert_int_eq(pga_config_lookup(plane, &svc, &rt, &ver, &c), PGA_EBUSY);
  ck_assert_int_eq(pga_funconfig_compiled(a)->disabled, 0);
  ck_assert_term(pga_funconfig_get(a, PGA_FC_DISABLED), "false");
  pga_funconfig_free(a);
  pga_funconfig_free(b);
}
END_TEST

/* A FunConfig in the BEAM's key order (sorted, __struct__ first). */
#define FC_SORTED(rt)                                                      \
  "%{__struct__: PhoenixGenApi.Structs.FunConfig, after_execute: nil, "   \
  "arg_orders: [\"name\"], arg_types: %{\"name\" => :string}, "           \
  "before_execute: nil, check_permission: false, "                        \
  "choose_node_mode: :random, disabled: false, hook_timeout: 5000, "      \
  "mfa: {Svc, :" rt ", []}, nodes: [:\"t@127.0.0.1\"], "                  \
  "permission_callback: nil, request_info: false, request_type: \"" rt    \
  "\", response_type: :sync, retry: nil, service: \"test_service\", "     \
  "timeout: 5000, version: \"1.0.0\"}"
/* The same fields, with the keys in another order. */
#define FC_SHUFFLED(rt)                                                    \
  "%{__struct__: PhoenixGenApi.Structs.FunConfig, request_type: \"" rt    \
  "\", after_execute: nil, arg_orders: [\"name\"], "                      \
  "arg_types: %{\"name\" => :string}, before_execute: nil, "              \
  "check_permission: false, choose_node_mode: :random, disabled: false, " \
  "hook_timeout: 5000, mfa: {Svc, :" rt ", []}, "                         \
  "nodes: [:\"t@127.0.0.1\"], permission_callback: nil, "                 \
  "request_info: false, response_type: :sync, retry: nil, "               \
  "service: \"test_service\", timeout: 5000, version: \"1.0.0\"}"

/* pga_funconfig_encode's order: __struct__, then declaration order. */
#define FC_SCHEMA(rt, version)                                             \
  "%{__struct__: PhoenixGenApi.Structs.FunConfig, request_type: \"" rt    \
  "\", service: \"test_service\", nodes: [:\"t@127.0.0.1\"], "             \
  "choose_node_mode: :random, timeout: 5000, mfa: {Svc, :" rt ", []}, "    \
  "arg_types: %{}, arg_orders: [], response_type: :sync, "                 \
  "request_info: false, check_permission: false, "                        \
  "permission_callback: nil, version: " version ", disabled: false, "     \
  "retry: nil, before_execute: nil, after_execute: nil, "                 \
  "hook_timeout: 5000}"

typedef struct {
  const char *fun_configs;
  int shared; /* the stored PushConfig holds them as FunConfigs */
} pushed_case_t;

static const pushed_case_t pushed_cases[] = {
    {"[" FC_SORTED("a") ", " FC_SORTED("b") "]", 1},
    {"[" FC_SCHEMA("a", "\"1.0.0\"") "]", 1},
    {"[" FC_SORTED("a") ", " FC_SHUFFLED("b") "]", 0},
    {"[%FC{" F "}]", 0}, /* keys missing: defaults are not written back */
    /* normalised on the way in (version "0.0.0" -> nil): the pushed
     * bytes still come back as pushed */
    {"[" FC_SCHEMA("a", "\"0.0.0\"") "]", 1},
};

/* get_pushed_config and status give back the fun_configs bytes pushed,
 * whether the stored PushConfig shares the FunConfigs or not. */
START_TEST(test_pushed_bytes) {
  const pushed_case_t *c = &pushed_cases[_i];
  pga_term_t want = T(c->fun_configs);
  pga_term_t r = C(RECV, "push",
                   cat("%PC{" P ", fun_configs: ", c->fun_configs, "}"),
                   NULL, NULL);
  ck_assert_term(r, "{:ok, :accepted}");
  pga_term_t svc = T("\"test_service\"");
  pga__rec_t *pc = pga__term_dict_get(plane->pushed, &svc);
  ck_assert_ptr_nonnull(pc);
  ck_assert_int_eq(pc->fcl != NULL, c->shared);
  pga_term_t got = key(C(RECV, "get_pushed_config", "\"test_service\"",
                         NULL, NULL), "fun_configs");
  ck_assert_msg(got.len == want.len && memcmp(got.buf, want.buf, got.len) == 0,
                "pushed %s, got back %s", tt_show(&want), tt_show(&got));
  pga_term_t all = key(C(RECV, "status", NULL, NULL, NULL), "pushed_configs"),
             one;
  ck_assert_int_eq(pga_term_map_get_binary(&all, "test_service", &one), 0);
  got = key(one, "fun_configs");
  ck_assert(got.len == want.len && memcmp(got.buf, want.buf, got.len) == 0);
  /* reading the field itself writes the same bytes back into the record */
  got = pga__rec_get(pc, PGA_PC_FUN_CONFIGS);
  ck_assert(got.len == want.len && memcmp(got.buf, want.buf, got.len) == 0);
  ck_assert_ptr_null(pc->fcl);
}
END_TEST

/* ---- the journal's checksum, computed eight bytes at a time ---- */

static uint32_t crc_bytewise(const unsigned char *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xFFFFFFFFu;
}

START_TEST(test_crc32) {
  unsigned char buf[203];
  ck_assert_uint_eq(pga__crc32("123456789", 9), 0xCBF43926u);
  for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(i * 37 + 11);
  /* every length and alignment around the 8-byte steps */
  for (size_t off = 0; off < 8; off++)
    for (size_t n = 0; off + n <= sizeof buf; n += 1 + n / 8)
      ck_assert_uint_eq(pga__crc32(buf + off, n), crc_bytewise(buf + off, n));
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("config_compiled");
  TCase *tc = tcase_create("compiled");
  tcase_add_checked_fixture(tc, NULL, teardown);
  tcase_add_loop_test(tc, test_enum, 0,
                      sizeof enum_cases / sizeof enum_cases[0]);
  tcase_add_loop_test(tc, test_number, 0,
                      sizeof number_cases / sizeof number_cases[0]);
  tcase_add_loop_test(tc, test_call, 0,
                      sizeof call_cases / sizeof call_cases[0]);
  tcase_add_test(tc, test_mode_key);
  tcase_add_test(tc, test_latin1_atoms);
  tcase_add_test(tc, test_set_recompiles);
  tcase_add_test(tc, test_validation_kept);
  tcase_add_test(tc, test_refcount);
  tcase_add_test(tc, test_crc32);
  suite_add_tcase(s, tc);
  TCase *tp = tcase_create("plane");
  tcase_add_checked_fixture(tp, plane_setup, plane_teardown);
  tcase_add_test(tp, test_lookup_shares);
  tcase_add_loop_test(tp, test_pushed_bytes, 0,
                      sizeof pushed_cases / sizeof pushed_cases[0]);
  suite_add_tcase(s, tp);
  return s;
}

PGA_CHECK_MAIN(make_suite)
