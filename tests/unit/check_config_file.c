/* Unit tests of pga-node's configuration file (src/config/file.c): the
 * defaults, a file with every key, and one error per kind (unknown key,
 * wrong type, out of range, bad JSON), each naming the key. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/file.h"
#include "config_plane_fixture.h"
#include "check_main.h"

static pga_conffile_t cf;
static char err[512];

static void setup(void) {
  pga_conffile_init(&cf);
  err[0] = '\0';
}

static void teardown(void) {
  pga_conffile_free(&cf);
  plane_teardown();
}

static int parse(const char *json) {
  return pga_conffile_parse(&cf, "t.json", json, strlen(json), err,
                            sizeof err);
}

/* Parsing fails with exactly this message. */
static void bad(const char *json, const char *msg) {
  pga_conffile_free(&cf);
  ck_assert_int_eq(parse(json), -1);
  ck_assert_msg(!strcmp(err, msg), "for %s\n got: %s\nwant: %s", json, err,
                msg);
}

static pga_term_t view(const char *buf, size_t len) {
  pga_term_t t;
  ck_assert_int_eq(pga_term_view(buf, len, &t), 0);
  return t;
}

START_TEST(conffile_empty_object_gives_defaults) {
  ck_assert_int_eq(parse("{}"), 0);
  ck_assert_int_eq(cf.config.struct_version, PGA_CONFIG_OPTS_VERSION);
  ck_assert_uint_eq(cf.config.pull_timeout_ms, 5000);
  ck_assert_uint_eq(cf.config.pull_interval_ms, 30000);
  ck_assert_uint_eq(cf.config.flags, 0);
  ck_assert_ptr_null(cf.config.push_token);
  ck_assert_ptr_null(cf.config.mfa_allowlist);
  ck_assert_ptr_null(cf.config.service_configs);
  ck_assert_int_eq(cf.detail_error, 0);
  ck_assert_uint_eq(cf.admin_actions, 0);
  ck_assert_int_eq(cf.rate_limiter.enabled, 1);
  ck_assert_int_eq(cf.rate_limiter.fail_open, 1);
  ck_assert_uint_eq(cf.rate_limiter.timeout_ms, 1000);
  ck_assert_ptr_null(cf.rate_limiter.global_limits);
  ck_assert_uint_eq(cf.worker_pool.async_pool_size, 1000);
  ck_assert_uint_eq(cf.worker_pool.stream_pool_size, 500);
  ck_assert_uint_eq(cf.worker_pool.max_queue_size, 10000);
  ck_assert_uint_eq(cf.worker_pool.circuit_breaker_threshold, 5);
  ck_assert_uint_eq(cf.worker_pool.circuit_breaker_cooldown_ms, 60000);
  ck_assert_uint_eq(cf.max_payload_bytes, 1000000);
  ck_assert_uint_eq(cf.argument_handler.string_max_bytes, 3000);
  ck_assert_int_eq(cf.local_services, 1);
  ck_assert_ptr_null(cf.warnings);
  /* null means the default too */
  pga_conffile_free(&cf);
  ck_assert_int_eq(parse("{\"gen_api\": {\"pull_timeout\": null}, "
                         "\"push_token\": null, \"mfa_allowlist\": null}"),
                   0);
  ck_assert_uint_eq(cf.config.pull_timeout_ms, 5000);
  ck_assert_ptr_null(cf.config.mfa_allowlist);
}
END_TEST

static const char *good =
    "{\"gen_api\": {\"pull_timeout\": 0, \"pull_interval\": 1000,\n"
    "   \"service_configs\": [{\"service\": \"chat\",\n"
    "      \"nodes\": [{\"atom\": \"chat@h\"}, \"bin@h\"],\n"
    "      \"module\": {\"atom\": \"Elixir.Chat.Api\"},\n"
    "      \"function\": {\"atom\": \"get_config\"}, \"args\": [1, 2.5],\n"
    "      \"version_module\": \"Chat\",\n"
    "      \"version_args\": [{\"tuple\": [{\"atom\": \"a\"}, null]}, "
    "{\"k\": true}]}]},\n"
    " \"push_token\": \"secret123\",\n"
    " \"mfa_allowlist\": [\"Elixir.MyApp.Api\", [\"Elixir.MyApp.Order\", "
    "\"create\"], \"os\"],\n"
    " \"detail_error\": true,\n"
    " \"admin_actions\": [\"push_config\", \"enable_tracing\"],\n"
    " \"client_mode\": false,\n"
    " \"rate_limiter\": {\"enabled\": false, \"fail_open\": false,\n"
    "   \"timeout\": 200, \"cleanup_interval\": 5000, \"instance_count\": 4,\n"
    "   \"routing_strategy\": \"random\",\n"
    "   \"global_limits\": [{\"key\": \"user_id\", \"max_requests\": 5, "
    "\"window_ms\": 1000}],\n"
    "   \"api_limits\": [{\"service\": \"chat\", \"request_type\": \"send\", "
    "\"key\": \"room\", \"max_requests\": 0, \"window_ms\": 10}]},\n"
    " \"worker_pool\": {\"async_pool_size\": 10, \"stream_pool_size\": 2, "
    "\"max_queue_size\": 3, \"circuit_breaker_threshold\": 7, "
    "\"circuit_breaker_cooldown\": 0},\n"
    " \"request\": {\"max_payload_bytes\": 4096},\n"
    " \"argument_handler\": {\"string_max_bytes\": 1, \"list_max_items\": 2, "
    "\"map_max_items\": 3},\n"
    " \"local_services\": false}\n";

START_TEST(conffile_every_key_read) {
  ck_assert_msg(parse(good) == 0, "%s", err);
  ck_assert_uint_eq(cf.config.pull_timeout_ms, 0);
  ck_assert_uint_eq(cf.config.flags, PGA_CONFIG_F_PULL_TIMEOUT_ZERO);
  ck_assert_uint_eq(cf.config.pull_interval_ms, 1000);
  ck_assert_uint_eq(cf.config.push_token_len, 9);
  ck_assert_int_eq(memcmp(cf.config.push_token, "secret123", 9), 0);
  ck_assert_term(view(cf.config.mfa_allowlist, cf.config.mfa_allowlist_len),
                 "[MyApp.Api, {MyApp.Order, :create}, :os]");
  ck_assert_term(
      view(cf.config.service_configs, cf.config.service_configs_len),
      "[%{service: \"chat\", nodes: [:\"chat@h\", \"bin@h\"], "
      "module: Chat.Api, function: :get_config, args: [1, 2.5], "
      "version_module: \"Chat\", "
      "version_args: [{:a, nil}, %{\"k\" => true}]}]");
  ck_assert_int_eq(cf.detail_error, 1);
  ck_assert_uint_eq(cf.admin_actions,
                    PGA_ADMIN_PUSH_CONFIG | PGA_ADMIN_ENABLE_TRACING);
  ck_assert_int_eq(cf.rate_limiter.enabled, 0);
  ck_assert_int_eq(cf.rate_limiter.fail_open, 0);
  ck_assert_uint_eq(cf.rate_limiter.timeout_ms, 200);
  ck_assert_uint_eq(cf.rate_limiter.cleanup_interval_ms, 5000);
  ck_assert_uint_eq(cf.rate_limiter.instance_count, 4);
  ck_assert_int_eq(cf.rate_limiter.routing_random, 1);
  ck_assert_term(pga_tb_data(cf.rate_limiter.global_limits),
                 "[%{key: :user_id, max_requests: 5, window_ms: 1000}]");
  ck_assert_term(pga_tb_data(cf.rate_limiter.api_limits),
                 "[%{service: \"chat\", request_type: \"send\", "
                 "key: \"room\", max_requests: 0, window_ms: 10}]");
  ck_assert_uint_eq(cf.worker_pool.async_pool_size, 10);
  ck_assert_uint_eq(cf.worker_pool.stream_pool_size, 2);
  ck_assert_uint_eq(cf.worker_pool.max_queue_size, 3);
  ck_assert_uint_eq(cf.worker_pool.circuit_breaker_threshold, 7);
  ck_assert_uint_eq(cf.worker_pool.circuit_breaker_cooldown_ms, 0);
  ck_assert_uint_eq(cf.max_payload_bytes, 4096);
  ck_assert_uint_eq(cf.argument_handler.string_max_bytes, 1);
  ck_assert_uint_eq(cf.argument_handler.list_max_items, 2);
  ck_assert_uint_eq(cf.argument_handler.map_max_items, 3);
  ck_assert_int_eq(cf.local_services, 0);
  /* Advice for strings where atoms were likely meant. */
  ck_assert_ptr_nonnull(cf.warnings);
  ck_assert_ptr_nonnull(
      strstr(cf.warnings, "t.json: gen_api.service_configs[0].nodes[1]: a "
                          "string is a binary node name"));
  ck_assert_ptr_nonnull(
      strstr(cf.warnings, "gen_api.service_configs[0].version_module: a "
                          "string is a binary: the version probe is "
                          "disabled"));
}
END_TEST

/* The options drive a plane: token, allowlist and services. */
START_TEST(conffile_options_start_a_plane) {
  ck_assert_msg(parse(good) == 0, "%s", err);
  plane_setup_opts(&cf.config);
  pga_term_t svcs = C(PULLER, "get_services", NULL, NULL, NULL), sc;
  ck_assert_int_eq(pga_term_map_get_binary(&svcs, "chat", &sc), 0);
  ck_assert_term(key(sc, "nodes"), "[:\"chat@h\", \"bin@h\"]");
  ck_assert_term(key(sc, "module"), "Chat.Api");
  ck_assert_term(key(sc, "version_function"), "nil");
  /* The token is enforced, the allowlist too (MyApp.Api only). */
  const char *fc = "%FC{" F ", mfa: {MyApp.Api, :f, []}}";
  ck_assert_term(C(RECV, "push",
                   cat("%PC{" P ", fun_configs: [", fc, "]}"), NULL, NULL),
                 "{:error, :invalid_push_token}");
  ck_assert_term(C(RECV, "push",
                   cat("%PC{" P ", push_token: \"secret123\", fun_configs: [",
                       fc, "]}"),
                   NULL, NULL),
                 "{:ok, :accepted}");
  ck_assert_term(C(DB, "add", "%FC{" G "}", NULL, NULL),
                 "{:error, {:mfa_not_allowed, {String, :upcase, []}}}");
}
END_TEST

START_TEST(conffile_unknown_keys_named) {
  bad("{\"pull_timout\": 5}", "t.json: pull_timout: unknown key");
  bad("{\"gen_api\": {\"pull_timout\": 5}}",
      "t.json: gen_api.pull_timout: unknown key");
  bad("{\"gen_api\": {\"detail_error\": true}}",
      "t.json: gen_api.detail_error: unknown key (the library reads "
      "detail_error at the top level, not under gen_api)");
  bad("{\"rate_limits\": {}}",
      "t.json: rate_limits: unknown key (did you mean rate_limiter?)");
  bad("{\"gen_api\": {\"service_configs\": [{\"service\": \"s\", "
      "\"node\": []}]}}",
      "t.json: gen_api.service_configs[0].node: unknown key");
  bad("{\"rate_limiter\": {\"global_limits\": [{\"key\": \"user_id\", "
      "\"max_requests\": 1, \"window_ms\": 1, \"scope\": 1}]}}",
      "t.json: rate_limiter.global_limits[0].scope: unknown key");
  bad("{\"worker_pool\": {\"size\": 1}}",
      "t.json: worker_pool.size: unknown key");
  bad("{\"request\": {\"max_bytes\": 1}}",
      "t.json: request.max_bytes: unknown key");
}
END_TEST

/* "dist" (issue 15): the listener, with the rules of --dist-*. */
START_TEST(conffile_dist_keys) {
  pga_conffile_free(&cf);
  ck_assert_msg(parse("{\"dist\": {\"interface\": \"::1\", \"port_min\": "
                      "9100, \"port_max\": 9105}}") == 0, "%s", err);
  ck_assert_str_eq(cf.dist.interface, "::1");
  ck_assert_uint_eq(cf.dist.port_min, 9100);
  ck_assert_uint_eq(cf.dist.port_max, 9105);
  ck_assert_uint_eq(cf.dist.port, 0);
  pga_conffile_free(&cf);
  ck_assert_msg(parse("{\"dist\": {\"port\": 9200}}") == 0, "%s", err);
  ck_assert_uint_eq(cf.dist.port, 9200);
  ck_assert_ptr_null(cf.dist.interface);
  bad("{\"dist\": {\"port_min\": 0}}",
      "t.json: dist.port_min: expected an integer 1..65535, got 0");
  bad("{\"dist\": {\"port\": 65536}}",
      "t.json: dist.port: expected an integer 1..65535, got 65536");
  bad("{\"dist\": {\"port_min\": 9100, \"port_max\": 9099}}",
      "t.json: dist.port_max: 9099 is below port_min 9100");
  bad("{\"dist\": {\"port_max\": 9100}}",
      "t.json: dist.port_max: needs port_min");
  bad("{\"dist\": {\"port\": 9200, \"port_max\": 9300}}",
      "t.json: dist.port: a port without epmd cannot be combined with "
      "port_min/port_max");
  bad("{\"dist\": {\"interface\": \"eth0\"}}",
      "t.json: dist.interface: expected an IPv4 or IPv6 address");
  bad("{\"dist\": {\"interface\": 1}}",
      "t.json: dist.interface: expected an IPv4 or IPv6 address");
  bad("{\"dist\": {\"listen\": 1}}", "t.json: dist.listen: unknown key");
  bad("{\"dist\": 9100}", "t.json: dist: expected an object, got an integer");
}
END_TEST

START_TEST(conffile_wrong_types_named) {
  bad("[]", "t.json: (top level): expected an object, got an array");
  bad("{\"gen_api\": {\"pull_timeout\": \"5000\"}}",
      "t.json: gen_api.pull_timeout: expected an integer 0..2147483647, got "
      "a string");
  bad("{\"pull_interval\": 0}",
      "t.json: pull_interval: expected an integer 1..2147483647, got 0");
  bad("{\"gen_api\": {\"pull_interval\": 1.5}}",
      "t.json: gen_api.pull_interval: expected an integer 1..2147483647, "
      "got a real number");
  bad("{\"gen_api\": 1}", "t.json: gen_api: expected an object, got an "
                          "integer");
  bad("{\"gen_api\": {\"service_configs\": {}}}",
      "t.json: gen_api.service_configs: expected an array of objects, got "
      "an object");
  bad("{\"gen_api\": {\"service_configs\": [1]}}",
      "t.json: gen_api.service_configs[0]: expected an object (a "
      "ServiceConfig), got an integer");
  bad("{\"gen_api\": {\"service_configs\": [{\"nodes\": [{\"atom\": 1}]}]}}",
      "t.json: gen_api.service_configs[0].nodes[0].atom: expected a string "
      "(an atom's text), got an integer");
  bad("{\"push_token\": 5}",
      "t.json: push_token: expected a string or null, got an integer");
  bad("{\"mfa_allowlist\": \"os\"}",
      "t.json: mfa_allowlist: expected an array or null, got a string");
  bad("{\"mfa_allowlist\": [\"ok\", [\"a\"]]}",
      "t.json: mfa_allowlist[1]: expected a module name or [module, "
      "function], got an array");
  bad("{\"mfa_allowlist\": [\"\"]}",
      "t.json: mfa_allowlist[0]: not an atom: must be 1..255 characters, "
      "no NUL");
  bad("{\"detail_error\": \"yes\"}",
      "t.json: detail_error: expected true or false, got a string");
  bad("{\"admin_actions\": [\"push_confg\"]}",
      "t.json: admin_actions[0]: unknown action \"push_confg\" (known: "
      "change_detail_error, update_rate_limit_config, push_config, "
      "enable_tracing, disable_tracing)");
  bad("{\"local_services\": \"no\"}",
      "t.json: local_services: expected true or false, got a string");
  bad("{\"client_mode\": true}",
      "t.json: client_mode: true is not supported: pga-node always runs the "
      "gateway (spec 8)");
  bad("{\"rate_limiter\": {\"routing_strategy\": \"ring\"}}",
      "t.json: rate_limiter.routing_strategy: expected \"hash\" or "
      "\"random\"");
  bad("{\"rate_limiter\": {\"global_limits\": [{\"key\": \"user_id\", "
      "\"max_requests\": 1}]}}",
      "t.json: rate_limiter.global_limits[0].window_ms: missing");
  bad("{\"rate_limiter\": {\"api_limits\": [{\"service\": 1}]}}",
      "t.json: rate_limiter.api_limits[0].service: expected a string, got "
      "an integer");
  bad("{\"worker_pool\": {\"async_pool_size\": -1}}",
      "t.json: worker_pool.async_pool_size: expected an integer 1..1000000, "
      "got -1");
}
END_TEST

/* max_term_bytes: pga's own key; absent is 0 (the node's 64 MiB), both
 * ends of its range are taken, one past either is refused by name. */
START_TEST(conffile_max_term_bytes_range) {
  static const struct {
    const char *json;
    int rc;
    size_t want;
  } cases[] = {
      {"{}", 0, 0},
      {"{\"max_term_bytes\": null}", 0, 0},
      {"{\"max_term_bytes\": 65536}", 0, 65536},
      {"{\"max_term_bytes\": 536870912}", 0, 536870912},
      {"{\"max_term_bytes\": 65535}", -1, 0},
      {"{\"max_term_bytes\": 536870913}", -1, 0},
      {"{\"max_term_bytes\": \"64m\"}", -1, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    pga_conffile_free(&cf);
    pga_conffile_init(&cf);
    ck_assert_msg(parse(cases[i].json) == cases[i].rc, "%s: %s",
                  cases[i].json, err);
    if (cases[i].rc == 0)
      ck_assert_uint_eq(cf.max_term_bytes, cases[i].want);
    else
      ck_assert_msg(strstr(err, "t.json: max_term_bytes: expected an "
                                "integer 65536..536870912") == err,
                    "%s: %s", cases[i].json, err);
  }
}
END_TEST

START_TEST(conffile_gen_api_keys_at_top_level_once) {
  ck_assert_int_eq(parse("{\"pull_timeout\": 7, \"pull_interval\": 8}"), 0);
  ck_assert_uint_eq(cf.config.pull_timeout_ms, 7);
  ck_assert_uint_eq(cf.config.pull_interval_ms, 8);
  bad("{\"pull_timeout\": 7, \"gen_api\": {\"pull_timeout\": 7}}",
      "t.json: pull_timeout: given both at the top level and in gen_api");
}
END_TEST

START_TEST(conffile_bad_json_located) {
  bad("{\"a\": 1,", "t.json: line 1, column 8: string or '}' expected near "
                    "end of file");
  bad("{\"push_token\": \"a\", \"push_token\": \"b\"}",
      "t.json: line 1, column 32: duplicate object key near "
      "'\"push_token\"'");
}
END_TEST

START_TEST(conffile_load_reads_files) {
  char path[] = "/tmp/pga-conffile-XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, good, strlen(good)), (ssize_t)strlen(good));
  close(fd);
  ck_assert_msg(pga_conffile_load(&cf, path, err, sizeof err) == 0, "%s",
                err);
  ck_assert_uint_eq(cf.config.pull_interval_ms, 1000);
  unlink(path);
  pga_conffile_free(&cf);
  ck_assert_int_eq(pga_conffile_load(&cf, path, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("config_file");
  TCase *tc = tcase_create("file");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, conffile_empty_object_gives_defaults);
  tcase_add_test(tc, conffile_every_key_read);
  tcase_add_test(tc, conffile_options_start_a_plane);
  tcase_add_test(tc, conffile_unknown_keys_named);
  tcase_add_test(tc, conffile_wrong_types_named);
  tcase_add_test(tc, conffile_dist_keys);
  tcase_add_test(tc, conffile_max_term_bytes_range);
  tcase_add_test(tc, conffile_gen_api_keys_at_top_level_once);
  tcase_add_test(tc, conffile_bad_json_located);
  tcase_add_test(tc, conffile_load_reads_files);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(suite)
