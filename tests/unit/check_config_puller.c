/* Unit tests of ConfigPuller (config-plane.md §5; acceptance cases 64-72):
 * the pure schedule/backoff/round-outcome functions, then whole rounds on
 * a real loop with a scripted stand-in for the service nodes (the
 * puller's io seam), so every reply shape, slow node and node fallback is
 * reached on purpose. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/loop.h"
#include "config/puller_int.h"
#include "config_plane_fixture.h"
#include "pga/errno.h"
#include "check_main.h"

/* ---- pure functions ---- */

START_TEST(puller_backoff_schedule_case72) {
  static const uint64_t want[] = {30000, 60000, 120000, 240000, 300000,
                                  300000};
  for (uint64_t f = 0; f < 6; f++)
    ck_assert_uint_eq(pga_puller_next_delay(30000, f), want[f]);
  ck_assert_uint_eq(pga_puller_next_delay(30000, 64), 300000);
  ck_assert_uint_eq(pga_puller_next_delay(30000, UINT64_MAX), 300000);
  /* The cap applies even above it; a healthy round keeps the interval. */
  ck_assert_uint_eq(pga_puller_next_delay(400000, 0), 400000);
  ck_assert_uint_eq(pga_puller_next_delay(400000, 1), 300000);
  ck_assert_uint_eq(pga_puller_next_delay(1, 3), 8);
}
END_TEST

START_TEST(puller_round_outcome_rules) {
  ck_assert(pga_puller_round_ok(0, 0));
  ck_assert(pga_puller_round_ok(0, 1));
  ck_assert(!pga_puller_round_ok(1, 1));
  ck_assert(pga_puller_round_ok(1, 2));
  ck_assert(!pga_puller_round_ok(2, 2));
  ck_assert_uint_eq(pga_puller_next_failures(3, 1), 0);
  ck_assert_uint_eq(pga_puller_next_failures(3, 0), 4);
  ck_assert_uint_eq(pga_puller_next_failures(UINT64_MAX, 0), UINT64_MAX);
}
END_TEST

START_TEST(puller_version_equal_is_erlang_eq) {
  pga_term_t one = T("1"), onef = T("1.0"), v1 = T("\"v1\"");
  ck_assert(pga_puller_version_equal(&one, &onef));
  ck_assert(pga_puller_version_equal(&onef, &one));
  ck_assert(pga_puller_version_equal(&v1, &v1));
  pga_term_t a = T("{1, [2.0, :x]}"), b = T("{1.0, [2, :x]}");
  ck_assert(pga_puller_version_equal(&a, &b));
  pga_term_t s1 = T("\"1\""), half = T("1.5"), nil = T("nil");
  ck_assert(!pga_puller_version_equal(&s1, &one));
  ck_assert(!pga_puller_version_equal(&half, &one));
  ck_assert(!pga_puller_version_equal(&nil, &v1));
  ck_assert(pga_puller_version_equal(&nil, &nil));
}
END_TEST

START_TEST(puller_list_nodes_keeps_atoms_only) {
  char **v;
  pga_term_t l = T("[:\"a@h\", \"b@h\", :\"c@h\", 1, nil]");
  ck_assert_int_eq(pga_puller_list_nodes(&l, 64, &v), 3);
  ck_assert_str_eq(v[0], "a@h");
  ck_assert_str_eq(v[1], "c@h");
  ck_assert_str_eq(v[2], "nil");
  free(v);
  ck_assert_int_eq(pga_puller_list_nodes(&l, 1, &v), 1);
  ck_assert_str_eq(v[0], "a@h");
  free(v);
  pga_term_t bin = T("[\"s@host\"]"), tup = T("{:a, :b}");
  ck_assert_int_eq(pga_puller_list_nodes(&bin, 64, &v), 0);
  ck_assert_ptr_null(v);
  ck_assert_int_eq(pga_puller_list_nodes(&tup, 64, &v), 0);
}
END_TEST

/* ---- scripted service nodes ---- */

#define S "s@h"
#define S2 "s2@h"
#define SVC_SC(over)                                                      \
  "%SC{service: \"test_service\", nodes: [:\"" S "\"], module: Sup, "     \
  "function: :get_config, args: []" over "}"
#define OKLIST(items) "{:ok, [" items "]}"
#define FCI(over) "%FC{" F over "}"

typedef struct script_s {
  const char *node, *function, *arg; /* arg: atom text of args[0] or NULL */
  const char *reply;                 /* NULL = never answers */
  int sync_error;                    /* returned by call instead */
} script_t;

#define MAX_SCRIPT 16
static script_t script[MAX_SCRIPT];
static size_t nscript;
static char calls[128][160];
static size_t ncalls;

typedef struct pending_s {
  int live;
  uint64_t id, timer;
  pga_puller_reply_fn cb;
  void *ud;
  const char *reply;
} pending_t;
static pending_t pend[256];
static uint64_t next_id;
static pga_loop_t *loop;
static int rounds, want_rounds, last_ok;
static size_t last_failed, last_total;
static uint64_t last_delay;
static uint64_t guard;

static void say(const char *node, const char *fn, const char *arg,
                const char *reply) {
  ck_assert_uint_lt(nscript, MAX_SCRIPT);
  for (size_t i = 0; i < nscript; i++)
    if (!strcmp(script[i].node, node) && !strcmp(script[i].function, fn) &&
        ((!arg && !script[i].arg) ||
         (arg && script[i].arg && !strcmp(arg, script[i].arg)))) {
      script[i].reply = reply;
      return;
    }
  script[nscript++] = (script_t){node, fn, arg, reply, 0};
}

static size_t count_calls(const char *prefix) {
  size_t n = 0;
  for (size_t i = 0; i < ncalls; i++)
    n += strncmp(calls[i], prefix, strlen(prefix)) == 0;
  return n;
}

/* The reply is parsed at delivery time (T() memory lives until teardown). */
static int64_t deliver_text(pga_loop_t *l, uint64_t id, void *data) {
  pending_t *pd = data;
  (void)l;
  (void)id;
  pd->live = 0;
  pga_term_t t = T(pd->reply);
  pd->cb(pd->ud, &t);
  return PGA_TIMER_NOMORE;
}

static int fake_call(void *io_ud, const char *node, const char *m,
                     const char *f, const pga_term_t *args,
                     unsigned timeout_ms, pga_puller_reply_fn cb, void *ud,
                     uint64_t *id) {
  (void)io_ud;
  ck_assert_uint_gt(timeout_ms, 0);
  char arg[PGA_ATOM_BUF] = "";
  pga_term_iter_t it;
  pga_term_t a0;
  if (pga_term_iter_init(&it, args) == 0 && pga_term_iter_next(&it, &a0))
    (void)pga_term_get_atom(&a0, arg, sizeof arg);
  ck_assert_uint_lt(ncalls, 128);
  snprintf(calls[ncalls++], sizeof calls[0], "%s %s.%s %s", node, m, f, arg);
  const script_t *sc = NULL;
  for (size_t i = 0; i < nscript; i++)
    if (!strcmp(script[i].node, node) && !strcmp(script[i].function, f) &&
        (!script[i].arg || !strcmp(script[i].arg, arg)))
      sc = &script[i];
  if (sc && sc->sync_error) return sc->sync_error;
  pending_t *pd = NULL;
  for (size_t i = 0; i < 256 && !pd; i++)
    if (!pend[i].live) pd = &pend[i];
  ck_assert_ptr_nonnull(pd);
  *pd = (pending_t){1, ++next_id, 0, cb, ud,
                    sc ? sc->reply : "{:badrpc, :nodedown}"};
  if (pd->reply) pd->timer = pga_loop_timer(loop, 1, deliver_text, pd);
  *id = pd->id;
  return 0;
}

static void fake_cancel(void *io_ud, uint64_t id) {
  (void)io_ud;
  for (size_t i = 0; i < 256; i++)
    if (pend[i].live && pend[i].id == id) {
      if (pend[i].timer) pga_loop_timer_cancel(loop, pend[i].timer);
      pend[i].live = 0;
    }
}

static const pga_puller_io_t fake_io = {fake_call, fake_cancel, NULL};

static void on_round(void *ud, int ok, size_t failed, size_t total,
                     uint64_t delay) {
  (void)ud;
  rounds++;
  last_ok = ok;
  last_failed = failed;
  last_total = total;
  last_delay = delay;
  if (rounds >= want_rounds) pga_loop_stop(loop);
}

static int64_t on_guard(pga_loop_t *l, uint64_t id, void *data) {
  (void)id;
  (void)data;
  guard = 0;
  pga_loop_stop(l);
  return PGA_TIMER_NOMORE;
}

/* Runs the loop until `n` more rounds ended (at most 10 s). */
static void run_rounds(int n) {
  want_rounds = rounds + n;
  guard = pga_loop_timer(loop, 10000, on_guard, NULL);
  ck_assert_int_eq(pga_loop_run(loop), 0);
  if (guard) pga_loop_timer_cancel(loop, guard);
  ck_assert_msg(rounds >= want_rounds, "only %d of %d rounds ended", rounds,
                want_rounds);
}

static void setup_with(unsigned timeout_ms) {
  pga_config_opts_t o = {.struct_version = PGA_CONFIG_OPTS_VERSION,
                         .pull_timeout_ms = timeout_ms};
  plane_setup_opts(&o);
  ck_assert_int_eq(pga_loop_new(&loop), 0);
  nscript = ncalls = 0;
  rounds = 0;
  next_id = 0;
  memset(pend, 0, sizeof pend);
  pga__puller_set_round_hook(plane->puller, on_round, NULL);
  /* A first round far away: each test requests its rounds. */
  pga__puller_attach(plane->puller, loop, &fake_io, 3600000);
}

static void setup(void) { setup_with(0); }
static void setup_fast(void) { setup_with(100); }

static void teardown(void) {
  pga_config_plane_free(plane);
  plane = NULL;
  pga_loop_free(loop);
  loop = NULL;
  tt_reset();
}

static void add_service(const char *sc) {
  ck_assert_term(C(PULLER, "add", cat("[", sc, "]"), NULL, NULL), ":ok");
}

static void round_now(int force) {
  pga__puller_request(plane->puller, force);
  run_rounds(1);
}

static pga_term_t get_fc(const char *svc, const char *rt, const char *ver) {
  return C(DB, "get", svc, rt, ver);
}

START_TEST(pull_good_list_stores_case65) {
  add_service(SVC_SC(""));
  say(S, "get_config", NULL, OKLIST(FCI("")));
  say(S, "ensure_loaded?", "Elixir.String", "true");
  round_now(0);
  ck_assert(last_ok);
  ck_assert_uint_eq(last_delay, 30000);
  ck_assert_term(C(PULLER, "get_api_list", "\"test_service\"", NULL, NULL),
                 "[\"test_request\"]");
  ck_assert_term(
      C(PULLER, "get_service_version", "\"test_service\"", NULL, NULL),
      "nil");
  ck_assert_term(C(PULLER, "get_all_versions", NULL, NULL, NULL),
                 "%{\"test_service\" => nil}");
  ck_assert_term(el(get_fc("\"test_service\"", "\"test_request\"",
                           "\"1.0.0\""), 0), ":ok");
  ck_assert_term(key(C(PULLER, "status", NULL, NULL, NULL), "failure_count"),
                 "0");
  ck_assert_uint_eq(count_calls(S " Elixir.Sup.get_config"), 1);
  ck_assert_uint_eq(count_calls(S " Elixir.Code.ensure_loaded? Elixir.String"),
                    1);
}
END_TEST

START_TEST(pull_bare_list_fails_case66) {
  add_service(SVC_SC(""));
  say(S, "get_config", NULL, "[" FCI("") "]");
  round_now(0);
  ck_assert(!last_ok);
  ck_assert_uint_eq(last_delay, 60000);
  ck_assert_term(C(PULLER, "get_api_list", "\"test_service\"", NULL, NULL),
                 "nil");
  ck_assert_term(C(DB, "count", NULL, NULL, NULL), "0");
  ck_assert_term(key(C(PULLER, "status", NULL, NULL, NULL), "failure_count"),
                 "1");
  /* {:error, _} is a failure too; one success resets the count. */
  say(S, "get_config", NULL, "{:error, :boom}");
  round_now(0);
  ck_assert_uint_eq(last_delay, 120000);
  say(S, "get_config", NULL, OKLIST(""));
  round_now(0);
  ck_assert(last_ok);
  ck_assert_uint_eq(last_delay, 30000);
  ck_assert_term(C(PULLER, "get_api_list", "\"test_service\"", NULL, NULL),
                 "[]");
}
END_TEST

START_TEST(pull_version_probe_skips_case67) {
  add_service(SVC_SC(", version_module: Sup, version_function: :version"));
  say(S, "version", NULL, "\"v1\"");
  say(S, "get_config", NULL, OKLIST(FCI("")));
  say(S, "ensure_loaded?", "Elixir.String", "true");
  round_now(0);
  ck_assert_term(
      C(PULLER, "get_service_version", "\"test_service\"", NULL, NULL),
      "\"v1\"");
  ck_assert_term(C(DB, "clear", NULL, NULL, NULL), ":ok");
  round_now(0);
  ck_assert(last_ok); /* a skip is a success */
  ck_assert_term(C(DB, "count", NULL, NULL, NULL), "0");
  ck_assert_uint_eq(count_calls(S " Elixir.Sup.get_config"), 1);
  round_now(1); /* force_pull forgets the versions first */
  ck_assert_term(C(DB, "count", NULL, NULL, NULL), "1");
  ck_assert_uint_eq(count_calls(S " Elixir.Sup.get_config"), 2);
  /* A changed version pulls again and is stored. */
  say(S, "version", NULL, "\"v2\"");
  round_now(0);
  ck_assert_uint_eq(count_calls(S " Elixir.Sup.get_config"), 3);
  ck_assert_term(
      C(PULLER, "get_service_version", "\"test_service\"", NULL, NULL),
      "\"v2\"");
}
END_TEST

START_TEST(pull_probe_failed_keeps_version_and_nil_probe_skips) {
  add_service(SVC_SC(", version_module: Sup, version_function: :version"));
  /* A probe answering nil equals the initial nil: even the first pull is
   * skipped (§5.3 step 2). */
  say(S, "version", NULL, "nil");
  say(S, "get_config", NULL, OKLIST(FCI("")));
  say(S, "ensure_loaded?", "Elixir.String", "true");
  round_now(0);
  ck_assert_uint_eq(count_calls(S " Elixir.Sup.get_config"), 0);
  say(S, "version", NULL, "1");
  round_now(0);
  ck_assert_term(
      C(PULLER, "get_service_version", "\"test_service\"", NULL, NULL), "1");
  say(S, "version", NULL, "1.0"); /* 1 == 1.0: skipped */
  round_now(0);
  ck_assert_uint_eq(count_calls(S " Elixir.Sup.get_config"), 1);
  /* Every probe node badrpc: full pull, the stored version stays. */
  say(S, "version", NULL, "{:badrpc, :nodedown}");
  round_now(0);
  ck_assert_uint_eq(count_calls(S " Elixir.Sup.get_config"), 2);
  ck_assert_term(
      C(PULLER, "get_service_version", "\"test_service\"", NULL, NULL), "1");
}
END_TEST

START_TEST(pull_binary_nodes_no_valid_nodes_case68) {
  add_service("%SC{service: \"test_service\", nodes: [\"s@host\"], "
              "module: Sup, function: :get_config, args: []}");
  round_now(0);
  ck_assert(!last_ok);
  ck_assert_uint_eq(ncalls, 0);
}
END_TEST

START_TEST(pull_node_fallback_second_node) {
  add_service("%SC{service: \"test_service\", nodes: [:\"" S "\", :\"" S2
              "\"], module: Sup, function: :get_config, args: []}");
  say(S, "get_config", NULL, "{:badrpc, :nodedown}");
  say(S2, "get_config", NULL, OKLIST(FCI("")));
  say(S2, "ensure_loaded?", "Elixir.String", "true");
  round_now(0);
  ck_assert(last_ok);
  ck_assert_term(C(DB, "count", NULL, NULL, NULL), "1");
  /* The module probe goes to the node that served the list. */
  ck_assert_uint_eq(count_calls(S2 " Elixir.Code.ensure_loaded?"), 1);
  ck_assert_uint_eq(count_calls(S " Elixir.Code.ensure_loaded?"), 0);
  /* An invalid node name fails at once and falls through too. */
  script[0].sync_error = PGA_ENODEDOWN;
  round_now(1);
  ck_assert(last_ok);
}
END_TEST

START_TEST(pull_module_not_loaded_recorded_case69) {
  add_service(SVC_SC(""));
  say(S, "get_config", NULL,
      OKLIST(FCI(", request_type: \"missing\", mfa: {Sup.Missing, :f, []}")
             ", " FCI(", request_type: \"unsure\", mfa: {Sup.Unsure, :f, []}")
             ", " FCI(", request_type: \"odd\", mfa: {Sup, :f}")
             ", " FCI("")));
  say(S, "ensure_loaded?", "Elixir.String", "true");
  say(S, "ensure_loaded?", "Elixir.Sup.Missing", "false");
  say(S, "ensure_loaded?", "Elixir.Sup.Unsure", "{:badrpc, :timeout}");
  round_now(0);
  ck_assert(last_ok);
  ck_assert_term(C(PULLER, "get_api_list", "\"test_service\"", NULL, NULL),
                 "[\"test_request\"]");
  ck_assert_term(C(FAILED, "count", NULL, NULL, NULL), "3");
  pga_term_t l = C(FAILED, "list", "[order: :oldest_first]", NULL, NULL);
  pga_term_iter_t it;
  pga_term_t e;
  const char *want[] = {
      "[\"module Sup.Missing not loaded on node :s@h\"]",
      "[\"cannot verify module Sup.Unsure on node :s@h: :timeout\"]",
      "[\"invalid MFA format: {Sup, :f}\"]"};
  ck_assert_int_eq(pga_term_iter_init(&it, &l), 0);
  for (int i = 0; i < 3; i++) {
    ck_assert(pga_term_iter_next(&it, &e));
    ck_assert_term(key(e, "reason"), want[i]);
    ck_assert_term(key(e, "source"), ":pull");
    ck_assert_term(key(e, "node"), ":\"s@h\"");
  }
}
END_TEST

START_TEST(pull_rewrites_service_and_version_case70) {
  add_service(SVC_SC(""));
  say(S, "get_config", NULL,
      OKLIST(FCI(", service: \"other\"") ", "
             FCI(", request_type: \"v\", version: 1") ", "
             FCI(", request_type: \"slow\", timeout: 50")));
  say(S, "ensure_loaded?", "Elixir.String", "true");
  round_now(0);
  ck_assert_term(el(get_fc("\"test_service\"", "\"test_request\"",
                           "\"1.0.0\""), 0), ":ok");
  ck_assert_term(el(get_fc("\"test_service\"", "\"v\"", "nil"), 0), ":ok");
  pga_term_t l = C(FAILED, "list", NULL, NULL, NULL);
  ck_assert_uint_eq(len(l), 1);
  pga_term_t e;
  pga_term_iter_t it;
  ck_assert_int_eq(pga_term_iter_init(&it, &l), 0);
  ck_assert(pga_term_iter_next(&it, &e));
  ck_assert_term(key(e, "request_type"), "\"slow\"");
  ck_assert_term(key(e, "node"), ":\"s@h\"");
  ck_assert_term(key(e, "reason"),
                 "[\"timeout must be a positive integer between 100 and "
                 "300000, or :infinity\"]");
}
END_TEST

START_TEST(pull_slow_node_times_out_others_proceed) {
  /* pull_timeout 100: the deadline is 1100 ms. */
  add_service(SVC_SC(""));
  add_service("%SC{service: \"slow\", nodes: [:\"" S2 "\"], module: Sup, "
              "function: :get_config, args: []}");
  say(S, "get_config", NULL, OKLIST(FCI("")));
  say(S, "ensure_loaded?", "Elixir.String", "true");
  say(S2, "get_config", NULL, NULL); /* never answers */
  uint64_t t0 = pga_clock_ms();
  round_now(0);
  uint64_t took = pga_clock_ms() - t0;
  ck_assert(last_ok);
  ck_assert_uint_eq(last_failed, 1);
  ck_assert_uint_eq(last_total, 2);
  ck_assert_uint_ge(took, 1000);
  ck_assert_uint_lt(took, 3000);
  ck_assert_term(C(DB, "count", NULL, NULL, NULL), "1");
  ck_assert_term(C(PULLER, "get_api_list", "\"slow\"", NULL, NULL), "nil");
  /* The abandoned call was cancelled. */
  for (size_t i = 0; i < 256; i++) ck_assert(!pend[i].live);
}
END_TEST

START_TEST(pull_args_nil_is_an_exception) {
  add_service("%SC{service: \"test_service\", nodes: [:\"" S "\"], "
              "module: Sup, function: :get_config}");
  say(S, "get_config", NULL, OKLIST(""));
  round_now(0);
  ck_assert(!last_ok);
  ck_assert_uint_eq(ncalls, 0);
}
END_TEST

START_TEST(pull_module_name_not_an_atom_fails_locally) {
  add_service("%SC{service: \"test_service\", nodes: [:\"" S "\"], "
              "module: \"Sup\", function: :get_config, args: []}");
  round_now(0);
  ck_assert(!last_ok);
  ck_assert_uint_eq(ncalls, 0);
}
END_TEST

static void test_resolver(void *ud, const pga_term_t *args, pga_tb_t *out) {
  (void)ud;
  /* [:chat] -> [:"s@h", "junk"]; anything else -> :error */
  pga_term_t want = T("[:chat]");
  if (pga_term_equal(args, &want)) {
    pga_tb_list(out, 2);
    pga_tb_atom(out, S);
    pga_tb_string(out, "junk");
    pga_tb_nil(out);
  } else {
    pga_tb_atom(out, "error");
  }
}

START_TEST(pull_mfa_nodes_use_registered_resolver) {
  ck_assert_int_eq(pga_config_resolver_register(plane, "Elixir.ClusterHelper",
                                                "get_nodes", test_resolver,
                                                NULL),
                   0);
  add_service("%SC{service: \"test_service\", "
              "nodes: {ClusterHelper, :get_nodes, [:chat]}, module: Sup, "
              "function: :get_config, args: []}");
  say(S, "get_config", NULL, OKLIST(FCI("")));
  say(S, "ensure_loaded?", "Elixir.String", "true");
  round_now(0);
  ck_assert(last_ok);
  ck_assert_term(C(DB, "count", NULL, NULL, NULL), "1");
  /* Other args, or no resolver under that name: no nodes. */
  add_service("%SC{service: \"test_service\", "
              "nodes: {ClusterHelper, :get_nodes, [:other]}, module: Sup, "
              "function: :get_config, args: []}");
  round_now(0);
  ck_assert(!last_ok);
  add_service("%SC{service: \"test_service\", "
              "nodes: {Nope, :get_nodes, [:chat]}, module: Sup, "
              "function: :get_config, args: []}");
  round_now(0);
  ck_assert(!last_ok);
  ck_assert_uint_eq(count_calls(S " Elixir.Sup.get_config"), 1);
}
END_TEST

START_TEST(pull_requested_during_round_runs_after_it) {
  add_service(SVC_SC(""));
  say(S, "get_config", NULL, OKLIST(""));
  pga__puller_request(plane->puller, 0);
  pga__puller_request(plane->puller, 1); /* round running: queued */
  pga__puller_request(plane->puller, 0);
  run_rounds(2);
  ck_assert_uint_eq(count_calls(S " Elixir.Sup.get_config"), 2);
  /* Exactly one timer is left armed: the periodic chain. */
  ck_assert_int_eq(rounds, 2);
}
END_TEST

START_TEST(pull_service_deleted_mid_round_not_resurrected) {
  add_service(SVC_SC(""));
  say(S, "get_config", NULL, OKLIST(FCI("")));
  say(S, "ensure_loaded?", "Elixir.String", "true");
  pga__puller_request(plane->puller, 0);
  ck_assert_term(C(PULLER, "delete", cat("[", SVC_SC(""), "]"), NULL, NULL),
                 ":ok");
  run_rounds(1);
  /* Store writes stay (the library's delete would have waited for the
   * round); the puller state does not come back. */
  ck_assert_term(C(DB, "count", NULL, NULL, NULL), "1");
  ck_assert_term(C(PULLER, "get_api_list", "\"test_service\"", NULL, NULL),
                 "nil");
  ck_assert_term(C(PULLER, "get_all_versions", NULL, NULL, NULL), "%{}");
}
END_TEST

START_TEST(pull_timeout_zero_fails_calls_at_once) {
  pga_puller_set_timing(plane->puller, 0, 0, 1);
  add_service(SVC_SC(""));
  say(S, "get_config", NULL, OKLIST(""));
  round_now(0);
  ck_assert(!last_ok);
  ck_assert_uint_eq(ncalls, 0);
}
END_TEST

START_TEST(pull_oversized_list_is_unexpected) {
  plane->max_fun_configs = 1;
  add_service("%SC{service: \"test_service\", nodes: [:\"" S "\", :\"" S2
              "\"], module: Sup, function: :get_config, args: []}");
  say(S, "get_config", NULL, OKLIST(FCI("") ", " FCI("")));
  say(S2, "get_config", NULL, OKLIST(FCI("")));
  say(S2, "ensure_loaded?", "Elixir.String", "true");
  round_now(0);
  ck_assert(last_ok); /* S's answer is refused, S2 serves */
  ck_assert_uint_eq(count_calls(S2 " Elixir.Code.ensure_loaded?"), 1);
}
END_TEST

START_TEST(pull_empty_round_succeeds) {
  round_now(0);
  ck_assert(last_ok);
  ck_assert_uint_eq(last_total, 0);
  ck_assert_uint_eq(last_delay, 30000);
}
END_TEST

START_TEST(pull_backoff_over_real_rounds_case72) {
  static const uint64_t want[] = {60000, 120000, 240000, 300000, 300000};
  add_service(SVC_SC(""));
  say(S, "get_config", NULL, "{:error, :down}");
  for (int i = 0; i < 5; i++) {
    round_now(0);
    ck_assert_uint_eq(last_delay, want[i]);
  }
  say(S, "get_config", NULL, OKLIST(""));
  round_now(0);
  ck_assert_uint_eq(last_delay, 30000);
}
END_TEST

/* ---- the RPC API (cases 64, 71) ---- */

START_TEST(puller_api_add_checks_case64) {
  ck_assert_term(C(PULLER, "add", "[]", NULL, NULL), ":ok");
  pga_term_t r = C(PULLER, "add", "[%{invalid: \"data\"}]", NULL, NULL);
  ck_assert_int_eq(last_outcome, PGA_ERROR);
  ck_assert_term(key(r, "message"),
                 "\"nodes must be a list of ServiceConfig\"");
  r = C(PULLER, "delete", "[%{invalid: \"data\"}]", NULL, NULL);
  ck_assert_int_eq(last_outcome, PGA_ERROR);
  C(PULLER, "add", ":notalist", NULL, NULL);
  ck_assert_int_eq(last_outcome, PGA_ERROR);
}
END_TEST

START_TEST(puller_api_queries_case71) {
  ck_assert_term(C(PULLER, "get_service_version", "\"nonexistent_service\"",
                   NULL, NULL), "nil");
  ck_assert_term(C(PULLER, "get_all_versions", NULL, NULL, NULL), "%{}");
  ck_assert_term(C(PULLER, "pull", NULL, NULL, NULL), ":ok");
  ck_assert_term(C(PULLER, "force_pull", NULL, NULL, NULL), ":ok");
  /* The posted requests run on the loop: one round each, back to back. */
  run_rounds(2);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("config_puller");
  TCase *tp = tcase_create("pure");
  tcase_add_test(tp, puller_backoff_schedule_case72);
  tcase_add_test(tp, puller_round_outcome_rules);
  tcase_add_test(tp, puller_version_equal_is_erlang_eq);
  tcase_add_test(tp, puller_list_nodes_keeps_atoms_only);
  tcase_add_checked_fixture(tp, NULL, plane_teardown);
  suite_add_tcase(s, tp);
  TCase *tc = tcase_create("rounds");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, pull_good_list_stores_case65);
  tcase_add_test(tc, pull_bare_list_fails_case66);
  tcase_add_test(tc, pull_version_probe_skips_case67);
  tcase_add_test(tc, pull_probe_failed_keeps_version_and_nil_probe_skips);
  tcase_add_test(tc, pull_binary_nodes_no_valid_nodes_case68);
  tcase_add_test(tc, pull_node_fallback_second_node);
  tcase_add_test(tc, pull_module_not_loaded_recorded_case69);
  tcase_add_test(tc, pull_rewrites_service_and_version_case70);
  tcase_add_test(tc, pull_args_nil_is_an_exception);
  tcase_add_test(tc, pull_module_name_not_an_atom_fails_locally);
  tcase_add_test(tc, pull_mfa_nodes_use_registered_resolver);
  tcase_add_test(tc, pull_requested_during_round_runs_after_it);
  tcase_add_test(tc, pull_service_deleted_mid_round_not_resurrected);
  tcase_add_test(tc, pull_timeout_zero_fails_calls_at_once);
  tcase_add_test(tc, pull_oversized_list_is_unexpected);
  tcase_add_test(tc, pull_empty_round_succeeds);
  tcase_add_test(tc, pull_backoff_over_real_rounds_case72);
  tcase_add_test(tc, puller_api_add_checks_case64);
  tcase_add_test(tc, puller_api_queries_case71);
  suite_add_tcase(s, tc);
  TCase *tf = tcase_create("deadline");
  tcase_add_checked_fixture(tf, setup_fast, teardown);
  tcase_set_timeout(tf, 20);
  tcase_add_test(tf, pull_slow_node_times_out_others_proceed);
  suite_add_tcase(s, tf);
  return s;
}

PGA_CHECK_MAIN(suite)
