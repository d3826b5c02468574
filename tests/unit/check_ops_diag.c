/* Unit tests of the diagnostics' pure parts (ops-plane.md §0.2, §4, §5):
 * the text renderers, /proc parsing, worst-wins aggregation, which
 * subsystems count as running, and the print helpers' text rendered from
 * hand-built result terms. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ops/diag.h"
#include "ops/render.h"
#include "term/term.h"
#include "check_main.h"

static pga_ops_text_t txt;
static pga_tb_t *tb;

static void setup(void) {
  pga_ops_text_init(&txt);
  tb = pga_tb_new(0);
}

static void teardown(void) {
  pga_ops_text_free(&txt);
  pga_tb_free(tb);
}

static const char *text(void) { return pga_ops_text_str(&txt); }

static pga_term_t built(void) {
  ck_assert_int_eq(pga_tb_error(tb), 0);
  return pga_tb_data(tb);
}

/* ---- renderers ---- */

START_TEST(bytes_every_integer_in_bytes) {
  pga_tb_int(tb, 45000000);
  pga_term_t t = built();
  pga_ops_bytes(&txt, &t);
  pga_ops_put(&txt, "|");
  pga_tb_reset(tb);
  pga_tb_string(tb, "12");
  t = built();
  pga_ops_bytes(&txt, &t);
  pga_ops_put(&txt, "|");
  pga_ops_bytes_int(&txt, 0);
  ck_assert_str_eq(text(), "45000000 B|?|0 B");
}
END_TEST

START_TEST(uptime_hours_minutes_seconds) {
  pga_tb_tuple(tb, 2);
  pga_tb_int(tb, 90061000); /* 25 h 1 m 1 s: hours unbounded */
  pga_tb_int(tb, 5);
  pga_term_t t = built();
  pga_ops_up(&txt, &t);
  pga_ops_put(&txt, "|");
  pga_tb_reset(tb);
  pga_tb_atom(tb, "nope");
  t = built();
  pga_ops_up(&txt, &t);
  pga_ops_put(&txt, "|");
  pga_ops_up_ms(&txt, 999);
  ck_assert_str_eq(text(), "25h 1m 1s|?|0h 0m 0s");
}
END_TEST

START_TEST(timestamp_utc_millis) {
  pga_ops_ts(&txt, 1718000000123LL);
  ck_assert_str_eq(text(), "2024-06-10 06:13:20.123Z");
}
END_TEST

/* Any int64 from a result map (fuzz_ops found INT64_MIN overflowing the
 * floor division): before the epoch rounds down, to the oldest ms. */
START_TEST(timestamp_before_epoch_to_int64_min) {
  pga_ops_ts(&txt, -1);
  pga_ops_put(&txt, "|");
  pga_ops_ts(&txt, INT64_MIN);
  ck_assert_str_eq(text(), "1969-12-31 23:59:59.999Z|"
                           "-292275055-05-16 16:47:04.192Z");
}
END_TEST

START_TEST(pad_counts_code_points_never_truncates) {
  size_t mark = pga_ops_text_len(&txt);
  pga_ops_put(&txt, "h\xC3\xA9");
  pga_ops_pad(&txt, mark, 5);
  pga_ops_put(&txt, "|");
  mark = pga_ops_text_len(&txt);
  pga_ops_put(&txt, "toolong");
  pga_ops_pad(&txt, mark, 3);
  ck_assert_str_eq(text(), "h\xC3\xA9   |toolong");
}
END_TEST

START_TEST(icons_per_status) {
  pga_ops_icon(&txt, "ok");
  pga_ops_icon(&txt, "degraded");
  pga_ops_icon(&txt, "error");
  pga_ops_icon(&txt, "anything");
  ck_assert_str_eq(text(), "\xE2\x9C\x85\xE2\x9A\xA0\xEF\xB8\x8F "
                           "\xE2\x9D\x8C\xE2\x9D\x8C");
}
END_TEST

START_TEST(interpolation_rules) {
  pga_tb_list(tb, 6);
  pga_tb_string(tb, "svc");
  pga_tb_atom(tb, "Elixir.MyHooks");
  pga_tb_atom(tb, "nil");
  pga_tb_atom(tb, "true");
  pga_tb_int(tb, -42);
  pga_tb_atom(tb, "gw@127.0.0.1");
  pga_tb_nil(tb);
  pga_term_t list = built(), el;
  pga_term_iter_t it;
  ck_assert_int_eq(pga_term_iter_init(&it, &list), 0);
  while (pga_term_iter_next(&it, &el)) {
    pga_ops_s(&txt, &el);
    pga_ops_put(&txt, ",");
  }
  ck_assert_str_eq(text(), "svc,Elixir.MyHooks,,true,-42,gw@127.0.0.1,");
}
END_TEST

/* ---- /proc parsing ---- */

START_TEST(status_fields) {
  const char *s =
      "Name:\tpga-node\nVmPeak:\t  9999 kB\nVmRSS:\t    2048 kB\n"
      "VmExe:\t     100 kB\nThreads:\t9\n"
      "voluntary_ctxt_switches:\t10\nnonvoluntary_ctxt_switches:\t3\n";
  pga_ops_vm_t vm = {0};
  ck_assert_int_eq(pga__ops_parse_status(s, &vm), 0);
  ck_assert_uint_eq(vm.rss_bytes, 2048u * 1024u);
  ck_assert_uint_eq(vm.text_bytes, 100u * 1024u);
  ck_assert_uint_eq(vm.threads, 9);
}
END_TEST

START_TEST(status_garbage_keeps_values) {
  pga_ops_vm_t vm = {.rss_bytes = 7};
  ck_assert_int_ne(pga__ops_parse_status("VmRSS:\tlots\nnoise", &vm), 0);
  ck_assert_uint_eq(vm.rss_bytes, 7);
  ck_assert_int_ne(pga__ops_parse_status("", &vm), 0);
  ck_assert_int_ne(pga__ops_parse_status(NULL, &vm), 0);
  /* a key that is a prefix of another is not mistaken for it */
  ck_assert_int_ne(pga__ops_parse_status("VmRSSX:\t5 kB\n", &vm), 0);
}
END_TEST

START_TEST(stat_cpu_after_odd_command_name) {
  /* utime 150, stime 50 ticks at 100 Hz = 2000 ms */
  const char *s = "42 (pga (x) node) S 1 42 42 0 -1 4194560 500 0 0 0 "
                  "150 50 0 0 20 0 9 0 100 1000 200\n";
  uint64_t ms = 0;
  ck_assert_int_eq(pga__ops_parse_stat(s, 100, &ms), 0);
  ck_assert_uint_eq(ms, 2000);
}
END_TEST

START_TEST(stat_rejects_short_or_bad_text) {
  uint64_t ms = 5;
  ck_assert_int_ne(pga__ops_parse_stat("42 (x) S 1 2 3", 100, &ms), 0);
  ck_assert_int_ne(pga__ops_parse_stat("no parenthesis", 100, &ms), 0);
  ck_assert_int_ne(pga__ops_parse_stat(NULL, 100, &ms), 0);
  ck_assert_int_ne(pga__ops_parse_stat("1 (x) S 1 1 1 1 1 1 1 1 1 1 1 1",
                                       0, &ms), 0);
  ck_assert_uint_eq(ms, 5);
}
END_TEST

START_TEST(vm_read_this_process) {
  pga_ops_vm_t vm;
  pga__ops_vm_read(&vm);
  ck_assert_uint_gt(vm.rss_bytes, 0);
}
END_TEST

/* ---- aggregation and running subsystems ---- */

START_TEST(worst_wins) {
  ck_assert_str_eq(pga__ops_worst("ok", "ok"), "ok");
  ck_assert_str_eq(pga__ops_worst("ok", "degraded"), "degraded");
  ck_assert_str_eq(pga__ops_worst("degraded", "ok"), "degraded");
  ck_assert_str_eq(pga__ops_worst("degraded", "error"), "error");
  ck_assert_str_eq(pga__ops_worst("error", "ok"), "error");
}
END_TEST

START_TEST(status_of_map) {
  pga_tb_map(tb, 1);
  pga_tb_atom(tb, "status");
  pga_tb_atom(tb, "degraded");
  pga_term_t m = built();
  ck_assert_str_eq(pga__ops_status_of(&m), "degraded");
  pga_tb_reset(tb);
  pga_tb_map(tb, 0);
  m = built();
  ck_assert_str_eq(pga__ops_status_of(&m), "ok");
}
END_TEST

START_TEST(children_follow_the_planes) {
  pga_ops_live_t lv;
  memset(&lv, 0, sizeof lv);
  ck_assert_uint_eq(pga__ops_children_running(&lv), 0);
  ck_assert(pga__ops_sub_running(&lv, PGA_SUB_SUPERVISOR));
  lv.config_up = 1;
  ck_assert_uint_eq(pga__ops_children_running(&lv), 4);
  lv.relay_up = lv.limiter_up = 1;
  ck_assert_uint_eq(pga__ops_children_running(&lv), 7);
  lv.pool_up[PGA_POOL_STREAM] = 1;
  ck_assert_uint_eq(pga__ops_children_running(&lv), PGA_OPS_CHILDREN);
  ck_assert(!pga__ops_sub_running(&lv, PGA_SUB_ASYNC_POOL));
  ck_assert(!pga__ops_sub_running(&lv, PGA_SUB_COUNT));
}
END_TEST

/* ---- print helpers ---- */

static void kv_atom(const char *k, const char *v) {
  pga_tb_atom(tb, k);
  pga_tb_atom(tb, v);
}

static void kv_int(const char *k, int64_t v) {
  pga_tb_atom(tb, k);
  pga_tb_int(tb, v);
}

static void build_health(void) {
  pga_tb_map(tb, 4);
  kv_atom("status", "degraded");
  kv_atom("node", "gw@127.0.0.1");
  kv_int("checked_at_ms", 1718000000123LL);
  pga_tb_atom(tb, "checks");
  pga_tb_map(tb, 3);
  pga_tb_atom(tb, "vm");
  pga_tb_map(tb, 7);
  kv_atom("status", "degraded");
  kv_int("process_count", 14);
  kv_int("process_limit", 262144);
  pga_tb_atom(tb, "memory");
  pga_tb_map(tb, 3);
  kv_int("total", 45000000);
  kv_int("processes", 1000);
  kv_int("system", 44999000);
  kv_int("schedulers", 4);
  kv_int("schedulers_online", 4);
  pga_tb_atom(tb, "uptime");
  pga_tb_tuple(tb, 2);
  pga_tb_int(tb, 3723000);
  pga_tb_int(tb, 0);
  pga_tb_atom(tb, "node");
  pga_tb_map(tb, 3);
  kv_atom("node", "gw@127.0.0.1");
  kv_atom("alive?", "true");
  pga_tb_atom(tb, "connected_nodes");
  pga_tb_list(tb, 1);
  pga_tb_atom(tb, "a@127.0.0.1");
  pga_tb_nil(tb);
  pga_tb_atom(tb, "phoenix_gen_api");
  pga_tb_map(tb, 3);
  kv_atom("status", "error");
  kv_atom("mode", "gateway");
  pga_tb_atom(tb, "checks");
  pga_tb_map(tb, 3);
  pga_tb_atom(tb, "stream_pool"); /* out of order on purpose */
  pga_tb_map(tb, 4);
  kv_atom("status", "error");
  pga_tb_atom(tb, "registered_name");
  pga_tb_string(tb, ":stream_pool");
  kv_atom("pid", "nil");
  kv_atom("reason", "not_registered");
  pga_tb_atom(tb, "rate_limiter_instances");
  pga_tb_map(tb, 3);
  kv_atom("status", "ok");
  kv_int("instance_count", 2);
  kv_int("alive_instances", 2);
  pga_tb_atom(tb, "async_pool");
  pga_tb_map(tb, 2);
  kv_atom("status", "ok");
  kv_int("instance_count", 0);
}

START_TEST(health_text) {
  build_health();
  pga_term_t r = built();
  pga__ops_render_health(&txt, &r);
  const char *want =
      "\n=== PhoenixGenApi Health Check ===\n"
      "Node: gw@127.0.0.1\n"
      "Status: \xE2\x9A\xA0\xEF\xB8\x8F  degraded\n"
      "Checked at: 2024-06-10 06:13:20.123Z\n"
      "\n--- VM ---\n"
      "  Status:      \xE2\x9A\xA0\xEF\xB8\x8F  degraded\n"
      "  Processes:   14 / 262144\n"
      "  Schedulers:  4 / 4\n"
      "  Memory:      45000000 B total\n"
      "    Processes: 1000 B\n"
      "    System:    44999000 B\n"
      "  Uptime:      1h 2m 3s\n"
      "\n--- Node ---\n"
      "  Self:        gw@127.0.0.1\n"
      "  Alive:       true\n"
      "  Connected:   [:\"a@127.0.0.1\"]\n"
      "\n--- PhoenixGenApi ---\n"
      "  Status:      \xE2\x9D\x8C error\n"
      "  Mode:        gateway\n"
      "  Processes:\n"
      "    \xE2\x9C\x85 async_pool  pid=N/A  instances=0\n"
      "    \xE2\x9C\x85 rate_limiter_instances  pid=N/A  alive=2/2\n"
      "    \xE2\x9D\x8C stream_pool  pid=N/A  reason=not_registered\n"
      "\n";
  ck_assert_str_eq(text(), want);
}
END_TEST

START_TEST(debug_text) {
  pga_tb_map(tb, 5);
  kv_atom("node", "gw@h");
  kv_int("collected_at_ms", 0);
  pga_tb_atom(tb, "processes");
  pga_tb_list(tb, 2);
  pga_tb_map(tb, 3);
  kv_atom("registered_name", "async_pool");
  kv_int("memory", 64);
  kv_atom("status", "waiting");
  pga_tb_map(tb, 3);
  erlang_pid pid;
  memset(&pid, 0, sizeof pid);
  strcpy(pid.node, "gw@h");
  pid.num = 15;
  pid.serial = 2;
  pga_tb_atom(tb, "pid");
  pga__tb_pid(tb, &pid);
  pga_tb_atom(tb, "registered_name");
  pga_tb_list(tb, 0);
  kv_int("memory", 8);
  pga_tb_nil(tb);
  pga_tb_atom(tb, "ets_tables");
  pga_tb_map(tb, 2);
  pga_tb_string(tb, "PhoenixGenApi.ConfigDb");
  pga_tb_map(tb, 3);
  kv_atom("exists", "true");
  kv_int("size", 3);
  kv_int("memory", 0);
  pga_tb_string(tb, ":rate_limiter_api");
  pga_tb_map(tb, 1);
  kv_atom("exists", "false");
  pga_tb_atom(tb, "trace");
  pga_tb_map(tb, 1);
  kv_int("trace_control_word", 0);
  pga_term_t r = built();
  pga__ops_render_debug(&txt, &r, NULL);
  ck_assert_ptr_nonnull(strstr(text(), "\n--- Top 20 Processes by Memory ---\n"
                                       "PID            Name                "
                                       "          Memory      Status\n"));
  /* no pid key: an empty, padded column */
  ck_assert_ptr_nonnull(strstr(text(), "\n               :async_pool        "
                                       "           64 B        :waiting\n"));
  /* our own pid as a local one; an unnamed process shows [] */
  ck_assert_ptr_nonnull(strstr(text(), "\n#PID<0.15.2>   []                "
                                       "            8 B         \n"));
  ck_assert_ptr_nonnull(strstr(text(), "\n--- ETS Tables ---\n"
                                       "  :rate_limiter_api: (not found)\n"
                                       "  PhoenixGenApi.ConfigDb: size=3 "
                                       "memory=0 words\n"));
  ck_assert_ptr_nonnull(strstr(text(), "\n--- Trace ---\n  Control word: 0\n\n"));
}
END_TEST

START_TEST(cluster_text) {
  pga_tb_map(tb, 6);
  kv_atom("self", "gw@h");
  pga_tb_atom(tb, "connected");
  pga_tb_list(tb, 1);
  pga_tb_atom(tb, "b@h");
  pga_tb_nil(tb);
  kv_int("connected_count", 1);
  pga_tb_atom(tb, "registered_processes");
  pga_tb_map(tb, 2);
  pga_tb_atom(tb, "gw@h");
  pga_tb_list(tb, 2);
  pga_tb_atom(tb, "Elixir.PhoenixGenApi.ConfigDb");
  pga_tb_atom(tb, "rex");
  pga_tb_nil(tb);
  pga_tb_atom(tb, "b@h");
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, "badrpc");
  pga_tb_atom(tb, "timeout");
  pga_tb_atom(tb, "phoenix_gen_api_services");
  pga_tb_map(tb, 1);
  pga_tb_atom(tb, "b@h");
  pga_tb_list(tb, 1);
  pga_tb_string(tb, "svc");
  pga_tb_nil(tb);
  pga_tb_atom(tb, "node_selection");
  pga_tb_map(tb, 2);
  pga_tb_atom(tb, "strategies");
  pga_tb_list(tb, 2);
  pga_tb_atom(tb, "random");
  pga_tb_atom(tb, "hash");
  pga_tb_nil(tb);
  pga_tb_atom(tb, "description");
  pga_tb_string(tb, "Configure via FunConfig.choose_node_mode");
  pga_term_t v = built();
  pga__ops_render_cluster(&txt, &v);
  const char *want =
      "\n=== Cluster View ===\n"
      "Self: gw@h\n"
      "Connected nodes (1): [:b@h]\n"
      "\n--- Registered Processes ---\n"
      "  b@h: {:badrpc, :timeout}\n"
      "  gw@h: 2 processes\n"
      "    - Elixir.PhoenixGenApi.ConfigDb\n"
      "    - rex\n"
      "\n--- PhoenixGenApi Services by Node ---\n"
      "  b@h: [\"svc\"]\n"
      "\n--- Node Selection Strategies ---\n"
      "  :random, :hash\n"
      "  Configure via FunConfig.choose_node_mode\n"
      "\n";
  ck_assert_str_eq(text(), want);
}
END_TEST

START_TEST(renderers_survive_hostile_terms) {
  pga_tb_list(tb, 2);
  pga_tb_int(tb, 1);
  pga_tb_map(tb, 1);
  pga_tb_atom(tb, "checks");
  pga_tb_int(tb, 5);
  pga_tb_nil(tb);
  pga_term_t v = built();
  pga__ops_render_health(&txt, &v);
  pga__ops_render_stats(&txt, &v);
  pga__ops_render_debug(&txt, &v, &v);
  pga__ops_render_cluster(&txt, &v);
  ck_assert_int_eq(txt.err, 0);
  ck_assert_ptr_nonnull(strstr(text(), "=== Cluster View ==="));
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("ops_diag");
  TCase *tc = tcase_create("render");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, bytes_every_integer_in_bytes);
  tcase_add_test(tc, uptime_hours_minutes_seconds);
  tcase_add_test(tc, timestamp_utc_millis);
  tcase_add_test(tc, timestamp_before_epoch_to_int64_min);
  tcase_add_test(tc, pad_counts_code_points_never_truncates);
  tcase_add_test(tc, icons_per_status);
  tcase_add_test(tc, interpolation_rules);
  suite_add_tcase(s, tc);
  tc = tcase_create("proc");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, status_fields);
  tcase_add_test(tc, status_garbage_keeps_values);
  tcase_add_test(tc, stat_cpu_after_odd_command_name);
  tcase_add_test(tc, stat_rejects_short_or_bad_text);
  tcase_add_test(tc, vm_read_this_process);
  suite_add_tcase(s, tc);
  tc = tcase_create("status");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, worst_wins);
  tcase_add_test(tc, status_of_map);
  tcase_add_test(tc, children_follow_the_planes);
  suite_add_tcase(s, tc);
  tc = tcase_create("print");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, health_text);
  tcase_add_test(tc, debug_text);
  tcase_add_test(tc, cluster_text);
  tcase_add_test(tc, renderers_survive_hostile_terms);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(suite)
