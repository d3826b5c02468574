/* Unit tests for the pure parts of the ops plane's call flows and
 * tracing (src/ops/callflow_steps.c, callflow_nodes.c, callflow_print.c,
 * trace_args.c): permission, hook and retry descriptions, the step list,
 * node wrapping, the printed texts, and the tracing argument checks
 * (ops-plane.md §4.4, §5, §9.1; acceptance cases 11, 12, 15-18, 24, 26). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ops/callflow_int.h"
#include "ops/trace_int.h"
#include "config_terms.h"
#include "check_main.h"

/* Runs a writer into a fresh builder and compares with the expected
 * text (map keys in the writer's order). */
#define EXPECT(expected, call)                                      \
  do {                                                              \
    pga_tb_t *tb_ = pga_tb_new(0);                                  \
    call;                                                           \
    pga_term_t got_ = pga_tb_data(tb_), want_ = T(expected);        \
    char g_[4096], w_[4096];                                        \
    pga_term_format(&got_, g_, sizeof g_);                          \
    pga_term_format(&want_, w_, sizeof w_);                         \
    ck_assert_msg(pga_term_equal(&got_, &want_), "got %s\nwant %s", \
                  g_, w_);                                          \
    pga_tb_free(tb_);                                               \
  } while (0)

START_TEST(permission_descriptions) {
  pga_term_t v;
  v = T("false");
  EXPECT("%{strategy: :none, description: \"No permission check\"}",
         pga_ops_flow_permission(tb_, &v));
  v = T("true");
  EXPECT("%{strategy: :authenticated, description: \"Requires "
         "authenticated user_id\"}",
         pga_ops_flow_permission(tb_, &v));
  v = T("{:arg, \"user_id\"}");
  EXPECT("%{strategy: :arg_based, field: \"user_id\", description: "
         "\"Checks permission via request arg 'user_id'\"}",
         pga_ops_flow_permission(tb_, &v));
  v = T("{:role, [:admin]}");
  EXPECT("%{strategy: :role_based, roles: [:admin], description: "
         "\"Requires one of roles: [:admin]\"}",
         pga_ops_flow_permission(tb_, &v));
  v = T("{MyPerm, :check}");
  EXPECT("%{strategy: :custom_mfa, mfa: {MyPerm, :check}, description: "
         "\"Custom permission check: Elixir.MyPerm.check/2\"}",
         pga_ops_flow_permission(tb_, &v));
  v = T(":any_authenticated");
  EXPECT("%{strategy: :unknown, raw: :any_authenticated, description: "
         "\"Unknown permission config: :any_authenticated\"}",
         pga_ops_flow_permission(tb_, &v));
  tt_reset();
}
END_TEST

START_TEST(hook_descriptions) {
  pga_term_t v;
  v = T("nil");
  EXPECT("%{configured: false, description: \"No hook configured\"}",
         pga_ops_flow_hook(tb_, &v));
  v = T("{MyHooks, :audit}");
  EXPECT("%{configured: true, mfa: {MyHooks, :audit}, args: 2, description: "
         "\"Elixir.MyHooks.audit/2(request, fun_config)\"}",
         pga_ops_flow_hook(tb_, &v));
  v = T("{MyHooks, :audit, [1, 2]}");
  EXPECT("%{configured: true, mfa: {MyHooks, :audit}, args: 4, description: "
         "\"Elixir.MyHooks.audit/4(request, fun_config, ...)\"}",
         pga_ops_flow_hook(tb_, &v));
  v = T("{MyHooks, :audit, 7}"); /* the library raises on length(7) */
  EXPECT("%{configured: true, raw: {MyHooks, :audit, 7}, description: "
         "\"{MyHooks, :audit, 7}\"}",
         pga_ops_flow_hook(tb_, &v));
  v = T("\"x\"");
  EXPECT("%{configured: true, raw: \"x\", description: \"\\\"x\\\"\"}",
         pga_ops_flow_hook(tb_, &v));
  tt_reset();
}
END_TEST

START_TEST(retry_descriptions) {
  pga_term_t v;
  v = T("nil");
  EXPECT("%{configured: false, description: \"No retry\"}",
         pga_ops_flow_retry(tb_, &v));
  v = T("3");
  EXPECT("%{configured: true, mode: :all_nodes, attempts: 3, description: "
         "\"Retry up to 3 times across all nodes\"}",
         pga_ops_flow_retry(tb_, &v));
  v = T("{:same_node, 2}");
  EXPECT("%{configured: true, mode: :same_node, attempts: 2, description: "
         "\"Retry up to 2 times on the same node\"}",
         pga_ops_flow_retry(tb_, &v));
  v = T("{:all_nodes, 4}");
  EXPECT("%{configured: true, mode: :all_nodes, attempts: 4, description: "
         "\"Retry up to 4 times across all nodes\"}",
         pga_ops_flow_retry(tb_, &v));
  v = T("\"bad\"");
  EXPECT("%{configured: true, raw: \"bad\", description: \"\\\"bad\\\"\"}",
         pga_ops_flow_retry(tb_, &v));
  tt_reset();
}
END_TEST

#define STEP(p, d) "%{phase: :" p ", desc: \"" d "\"}"
#define COMMON                                                     \
  STEP("channel", "WebSocket handle_in receives payload on channel") \
  ", " STEP("decode", "Payload decoded into %Request{} via Nestru")   \
  ", " STEP("config_lookup",                                         \
            "ConfigDb.get(service, request_type, version) — direct ETS read")

START_TEST(steps_local) {
  pga_term_t fc = T("%FC{nodes: :local, timeout: 5000, response_type: :sync}");
  pga_term_t nodes = T("[:local]");
  pga_ops_flow_route_t route = {1, &nodes, 0};
  EXPECT("[" COMMON ", " STEP("hooks_before",
                              "before_execute hooks (none configured)")
         ", " STEP("permission", "Permission.check_permission!/2")
         ", " STEP("rate_limit",
                   "RateLimiter.check_rate_limit/1 — sliding window check")
         ", " STEP("argument_validation", "ArgumentHandler.convert_args!/2")
         ", " STEP("execution",
                   "Local execution via Task.async (timeout: 5000ms)")
         ", " STEP("hooks_after", "after_execute hooks (none configured)")
         ", " STEP("response",
                   "Sync result pushed back to client via WebSocket") "]",
         pga_ops_flow_steps(tb_, &fc, &route));
  tt_reset();
}
END_TEST

START_TEST(steps_remote) {
  pga_term_t fc = T("%FC{nodes: [:a@h, :b@h], choose_node_mode: {:sticky, "
                    "\"user_id\"}, response_type: :stream, retry: {:same_node, "
                    "2}, before_execute: {M, :f, [1]}, after_execute: {M, :g}}");
  pga_term_t nodes = T("[:a@h, :b@h]");
  pga_ops_flow_route_t route = {0, &nodes, 1};
  EXPECT("[" COMMON ", " STEP("hooks_before", "before_execute hook: Elixir.M.f/3")
         ", " STEP("permission", "Permission.check_permission!/2")
         ", " STEP("rate_limit",
                   "RateLimiter.check_rate_limit/1 — sliding window check")
         ", " STEP("argument_validation", "ArgumentHandler.convert_args!/2")
         ", " STEP("node_selection",
                   "NodeSelector picks {:sticky, \\\"user_id\\\"} from [:a@h, :b@h]")
         ", " STEP("execution", "RPC to target node(s) — 1/2 reachable")
         ", " STEP("retry", "Retry on failure: 2 attempts (same node)")
         ", " STEP("hooks_after", "after_execute hook: Elixir.M.g/2")
         ", " STEP("response",
                   "Stream chunks pushed to client until complete") "]",
         pga_ops_flow_steps(tb_, &fc, &route));
  tt_reset();
}
END_TEST

START_TEST(steps_modes_and_responses) {
  pga_term_t nodes = T("[:a@h]");
  pga_ops_flow_route_t route = {0, &nodes, 0};
  pga_term_t fc = T("%FC{choose_node_mode: :hash, response_type: :none}");
  pga_tb_t *tb = pga_tb_new(0);
  pga_ops_flow_steps(tb, &fc, &route);
  pga_term_t steps = pga_tb_data(tb);
  char text[8192];
  pga_term_format(&steps, text, sizeof text);
  ck_assert_ptr_nonnull(strstr(text, "NodeSelector picks :hash from [:a@h]"));
  ck_assert_ptr_nonnull(strstr(text, "(deferred to worker pool)"));
  ck_assert_ptr_nonnull(strstr(text, "Fire-and-forget (no response to client)"));
  ck_assert_ptr_nonnull(strstr(text, "0/1 reachable"));
  pga_tb_free(tb);
  tt_reset();
}
END_TEST

START_TEST(error_map_and_nodes) {
  pga_term_t svc = T("\"unknown_service\""), rt = T("\"unknown_action\"");
  pga_term_t reason = T(":not_found"), v;
  EXPECT("%{service: \"unknown_service\", request_type: \"unknown_action\", "
         "config: nil, error: :not_found, steps: [%{phase: :config_lookup, "
         "desc: \"ConfigDb.get(\\\"unknown_service\\\", "
         "\\\"unknown_action\\\") → :not_found\"}]}",
         pga_ops_flow_error_map(tb_, &svc, &rt, &reason, 0));
  v = T(":local");
  EXPECT("[:local]", pga_ops_flow_nodes(tb_, &v));
  v = T("nil");
  EXPECT("[]", pga_ops_flow_nodes(tb_, &v));
  v = T("{Resolver, :nodes, []}");
  EXPECT("[]", pga_ops_flow_nodes(tb_, &v));
  v = T("[:a@h, \"b@h\"]");
  EXPECT("[:a@h, \"b@h\"]", pga_ops_flow_nodes(tb_, &v));
  v = T("\"solo\"");
  EXPECT("[\"solo\"]", pga_ops_flow_nodes(tb_, &v));
  tt_reset();
}
END_TEST

START_TEST(render_texts) {
  pga_ops_text_t t;
  pga_term_t svc = T("\"s\""), rt = T("\"r\""), reason = T(":disabled");
  pga_tb_t *tb = pga_tb_new(0);
  pga_ops_flow_error_map(tb, &svc, &rt, &reason, 0);
  pga_term_t flow = pga_tb_data(tb);
  pga_ops_text_init(&t);
  pga_ops_flow_render(&t, &svc, &rt, &flow);
  ck_assert_str_eq(pga_ops_text_str(&t),
                   "\n=== Call Flow: s/r ===\n❌ Config not found: :disabled\n\n");
  pga_ops_text_free(&t);

  pga_term_t empty = T("[]");
  pga_ops_text_init(&t);
  pga_ops_flows_render(&t, &empty);
  ck_assert_str_eq(pga_ops_text_str(&t),
                   "\n=== Registered Call Flows ===\nTotal: 0\n"
                   "  (no registered configs)\n\n");
  pga_ops_text_free(&t);

  pga_term_t rows = T("[%{service: \"s\", request_type: \"r\", version: nil, "
                      "status: :disabled, disabled: true}]");
  pga_ops_text_init(&t);
  pga_ops_flows_render(&t, &rows);
  ck_assert_ptr_nonnull(strstr(pga_ops_text_str(&t),
                               "\"s\"                      \"r\"        "
                               "              nil         -       - "
                               "[DISABLED]\n"));
  pga_ops_text_free(&t);
  pga_tb_free(tb);
  tt_reset();
}
END_TEST

START_TEST(trace_flags_and_match_spec) {
  pga_term_t v;
  v = T("[:call, :return_to, :procs, :silent, :arity]");
  ck_assert(pga_ops_trace_flags_valid(&v));
  v = T("[]");
  ck_assert(pga_ops_trace_flags_valid(&v));
  v = T("[:call, :bogus]");
  ck_assert(!pga_ops_trace_flags_valid(&v));
  v = T(":call");
  ck_assert(!pga_ops_trace_flags_valid(&v));
  v = T("true");
  ck_assert(pga_ops_trace_match_spec_valid(&v));
  v = T("[{:_, [], [{:return_trace}]}]");
  ck_assert(pga_ops_trace_match_spec_valid(&v));
  v = T("3");
  ck_assert(!pga_ops_trace_match_spec_valid(&v));
  tt_reset();
}
END_TEST

static int only_m_loaded(void *ud, const pga_term_t *m) {
  (void)ud;
  return pga_term_is_atom(m, "Elixir.M");
}

START_TEST(trace_targets) {
  pga_term_t v;
  pga_tb_t *tb = pga_tb_new(0);
  v = T(":all");
  EXPECT("[:all]", ck_assert_int_eq(pga_ops_trace_targets(&v, tb_), 0));
  v = T("[:existing, :new]");
  EXPECT("[:existing, :new]",
         ck_assert_int_eq(pga_ops_trace_targets(&v, tb_), 0));
  v = T(":foo");
  ck_assert_int_eq(pga_ops_trace_targets(&v, tb), -1);
  v = T("[:all, \"x\"]");
  ck_assert_int_eq(pga_ops_trace_targets(&v, tb), -1);
  /* the loaded-module quirk */
  v = T("[:all]");
  EXPECT("[]", ck_assert_uint_eq(pga_ops_trace_unloaded_targets(
                                     &v, only_m_loaded, NULL, tb_),
                                 0));
  v = T("[:all, :existing]");
  EXPECT("[:all, :existing]",
         ck_assert_uint_eq(
             pga_ops_trace_unloaded_targets(&v, only_m_loaded, NULL, tb_),
             2));
  pga_tb_free(tb);
  tt_reset();
}
END_TEST

START_TEST(trace_mfas) {
  pga_term_t v;
  pga_tb_t *tb = pga_tb_new(0);
  v = T(":all");
  EXPECT("[{:_, :_, :_}]", ck_assert_int_eq(pga_ops_trace_mfas(&v, tb_), 0));
  v = T("{M, :f}");
  EXPECT("[{M, :f, :_}]", ck_assert_int_eq(pga_ops_trace_mfas(&v, tb_), 0));
  v = T("[{M, :f, 1}, :all, {N, :g, :_}]");
  EXPECT("[{M, :f, 1}, {:_, :_, :_}, {N, :g, :_}]",
         ck_assert_int_eq(pga_ops_trace_mfas(&v, tb_), 0));
  const char *bad[] = {"{M, :f, -1}", "{\"M\", :f}", "{M, :f, 1.0}",
                       "[{M, :f}, 3]", "\"x\""};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    v = T(bad[i]);
    pga_tb_reset(tb);
    ck_assert_int_eq(pga_ops_trace_mfas(&v, tb), -1);
  }
  v = T("[{M, :f, :_}, {:_, :_, :_}]");
  EXPECT("[{:_, :_, :_}]",
         ck_assert_uint_eq(
             pga_ops_trace_unloaded_mfas(&v, only_m_loaded, NULL, tb_), 1));
  pga_term_t pat = T("{M, :_, :_}"), mfa = T("{M, :f, 2}"),
             other = T("{N, :f, 2}"), exact = T("{M, :f, 3}");
  ck_assert(pga_ops_trace_mfa_covers(&pat, &mfa));
  ck_assert(!pga_ops_trace_mfa_covers(&pat, &other));
  ck_assert(!pga_ops_trace_mfa_covers(&exact, &mfa));
  pga_tb_free(tb);
  tt_reset();
}
END_TEST

static Suite *ops_callflow_suite(void) {
  Suite *s = suite_create("ops_callflow");
  TCase *tc = tcase_create("callflow");
  tcase_add_test(tc, permission_descriptions);
  tcase_add_test(tc, hook_descriptions);
  tcase_add_test(tc, retry_descriptions);
  tcase_add_test(tc, steps_local);
  tcase_add_test(tc, steps_remote);
  tcase_add_test(tc, steps_modes_and_responses);
  tcase_add_test(tc, error_map_and_nodes);
  tcase_add_test(tc, render_texts);
  suite_add_tcase(s, tc);
  TCase *tr = tcase_create("trace");
  tcase_add_test(tr, trace_flags_and_match_spec);
  tcase_add_test(tr, trace_targets);
  tcase_add_test(tr, trace_mfas);
  suite_add_tcase(s, tr);
  return s;
}

PGA_CHECK_MAIN(ops_callflow_suite)
