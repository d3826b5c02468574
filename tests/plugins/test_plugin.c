/* pga_test: the plugin the unit and interop tests load beside pga_example.
 * Service "pga_test"; one function per behaviour under test:
 *
 *   'Elixir.PgaTest.Fns':notify(V)  -> ok            (async, "notify")
 *   'Elixir.PgaTest.Fns':fire(V)    -> ok            (none, "fire")
 *   'Elixir.PgaTest.Fns':fail(R)    -> error R       (sync, "fail")
 *   'Elixir.PgaTest.Fns':refuse(R)  -> {error, R}    (sync, "refuse")
 *   'Elixir.PgaTest.Fns':slow(Ms)   -> ok after Ms, cooperative; deadline
 *                                      300 ms         (sync, "slow")
 *   'Elixir.PgaTest.Fns':bad_result() -> an incomplete term (not announced)
 *   'Elixir.PgaTest.Fns':stats()    -> #{cancelled, fired, stream_stops,
 *                                        flood_sent, hooks} (not announced)
 *   'Elixir.PgaTest.Stream':forever(IntervalMs, Info) -> streaming, then
 *                                      {result, N} every IntervalMs until
 *                                      the call is cancelled ("forever")
 *   'Elixir.PgaTest.Stream':flood(Bytes, Info) -> flooding, then Bytes-sized
 *                                      chunks until cancelled (not
 *                                      announced; counts flood_sent)
 *   'Elixir.PgaTest.Stream':last(V, Info) -> sends {last_result, V}, then
 *                                      tries complete; {ok, #{last, then}}
 *   'Elixir.PgaTest.Stream':oops(R, Info) -> {error, R}         ("oops")
 *
 * pga_test_hooks (exported) records the lifecycle hooks that ran. */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <pga/plugin.h>

PGA_PLUGIN_EXPORT char pga_test_hooks[64];
static atomic_int cancelled, fired, stream_stops, flood_sent;

static void hook(const char *what) {
  size_t n = strlen(pga_test_hooks);
  if (n + strlen(what) + 2 < sizeof pga_test_hooks) {
    if (n) pga_test_hooks[n++] = ',';
    strcpy(pga_test_hooks + n, what);
  }
}

static void nap(int64_t ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static pga_outcome_t ok(pga_tb_t *out) {
  pga_tb_atom(out, "ok");
  return PGA_RETURN;
}

static pga_outcome_t notify(pga_call_t *call, size_t argc,
                            const pga_term_t *argv, pga_tb_t *out) {
  return ok(out);
}

static pga_outcome_t fire(pga_call_t *call, size_t argc,
                          const pga_term_t *argv, pga_tb_t *out) {
  atomic_fetch_add(&fired, 1);
  return ok(out);
}

static pga_outcome_t fail(pga_call_t *call, size_t argc,
                          const pga_term_t *argv, pga_tb_t *out) {
  pga_tb_term(out, &argv[0]);
  return PGA_ERROR;
}

static pga_outcome_t refuse(pga_call_t *call, size_t argc,
                            const pga_term_t *argv, pga_tb_t *out) {
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "error");
  pga_tb_term(out, &argv[0]);
  return PGA_RETURN;
}

static pga_outcome_t slow(pga_call_t *call, size_t argc,
                          const pga_term_t *argv, pga_tb_t *out) {
  int64_t ms;
  if (pga_term_get_int64(&argv[0], &ms) != 0 || ms < 0 || ms > 600000) {
    pga_tb_atom(out, "badarg");
    return PGA_ERROR;
  }
  for (; ms > 0; ms -= 10) {
    if (pga_call_cancelled(call)) {
      atomic_fetch_add(&cancelled, 1);
      pga_tb_atom(out, "cancelled");
      return PGA_RETURN;
    }
    nap(ms < 10 ? ms : 10);
  }
  return ok(out);
}

static pga_outcome_t bad_result(pga_call_t *call, size_t argc,
                                const pga_term_t *argv, pga_tb_t *out) {
  pga_tb_tuple(out, 3); /* three elements promised, one written */
  pga_tb_atom(out, "oops");
  return PGA_RETURN;
}

static pga_outcome_t stats(pga_call_t *call, size_t argc,
                           const pga_term_t *argv, pga_tb_t *out) {
  pga_tb_map(out, 5);
  pga_tb_atom(out, "cancelled");
  pga_tb_int(out, atomic_load(&cancelled));
  pga_tb_atom(out, "fired");
  pga_tb_int(out, atomic_load(&fired));
  pga_tb_atom(out, "stream_stops");
  pga_tb_int(out, atomic_load(&stream_stops));
  pga_tb_atom(out, "flood_sent");
  pga_tb_int(out, atomic_load(&flood_sent));
  pga_tb_atom(out, "hooks");
  pga_tb_string(out, pga_test_hooks);
  return PGA_RETURN;
}

static pga_outcome_t err_atom(pga_tb_t *out, const char *why) {
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "error");
  pga_tb_atom(out, why);
  return PGA_RETURN;
}

/* Sends {result, N} every interval until a send fails (the relay went). */
static pga_outcome_t forever(pga_call_t *call, size_t argc,
                             const pga_term_t *argv, pga_tb_t *out) {
  int64_t interval;
  if (pga_term_get_int64(&argv[0], &interval) != 0 || interval < 0 ||
      interval > 10000)
    return err_atom(out, "bad_interval");
  int rc = pga_stream_open(call, &argv[1]);
  if (rc != 0) return err_atom(out, "no_stream");
  pga_tb_t *chunk = pga_tb_new(0);
  pga_tb_atom(chunk, "streaming");
  pga_term_t v = pga_tb_data(chunk);
  rc = pga_call_reply(call, &v);
  for (int64_t i = 1; rc == 0; i++) {
    pga_tb_reset(chunk);
    pga_tb_int(chunk, i);
    pga_term_t t = pga_tb_data(chunk);
    rc = pga_stream_send_result(call, &t);
    if (rc == 0 && interval) nap(interval);
  }
  pga_tb_free(chunk);
  if (pga_call_cancelled(call)) atomic_fetch_add(&stream_stops, 1);
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "stopped");
  pga_tb_atom(out, pga_err_name(rc));
  return PGA_RETURN;
}

/* Replies flooding, then sends Bytes-sized binaries as fast as the
 * connection takes them (back-pressure holds it) until cancelled. */
static pga_outcome_t flood(pga_call_t *call, size_t argc,
                           const pga_term_t *argv, pga_tb_t *out) {
  int64_t bytes;
  if (pga_term_get_int64(&argv[0], &bytes) != 0 || bytes < 1 ||
      bytes > (1 << 20))
    return err_atom(out, "bad_size");
  if (pga_stream_open(call, &argv[1]) != 0) return err_atom(out, "no_stream");
  pga_tb_t *chunk = pga_tb_new(0);
  pga_tb_atom(chunk, "flooding");
  pga_term_t v = pga_tb_data(chunk);
  int rc = pga_call_reply(call, &v);
  static const char zeros[1 << 20];
  pga_tb_reset(chunk);
  pga_tb_binary(chunk, zeros, (size_t)bytes);
  v = pga_tb_data(chunk);
  while (rc == 0) {
    rc = pga_stream_send_result(call, &v);
    if (rc == 0) atomic_fetch_add(&flood_sent, 1);
  }
  pga_tb_free(chunk);
  return ok(out);
}

static pga_outcome_t last(pga_call_t *call, size_t argc,
                          const pga_term_t *argv, pga_tb_t *out) {
  if (pga_stream_open(call, &argv[1]) != 0) return err_atom(out, "no_stream");
  int rc = pga_stream_send_last_result(call, &argv[0]);
  /* after the last chunk the stream is over */
  int again = pga_stream_complete(call);
  pga_tb_tuple(out, 2); /* {ok, #{last => Rc, then => Rc}} */
  pga_tb_atom(out, "ok");
  pga_tb_map(out, 2);
  pga_tb_atom(out, "last");
  pga_tb_atom(out, pga_err_name(rc));
  pga_tb_atom(out, "then");
  pga_tb_atom(out, pga_err_name(again));
  return PGA_RETURN;
}

static pga_outcome_t oops(pga_call_t *call, size_t argc,
                          const pga_term_t *argv, pga_tb_t *out) {
  if (pga_stream_open(call, &argv[1]) != 0) return err_atom(out, "no_stream");
  pga_stream_error(call, &argv[0]);
  return ok(out);
}

static int on_init(const pga_plugin_ctx_t *ctx, char *err, size_t errlen) {
  pga_test_hooks[0] = '\0';
  hook("init");
  return 0;
}

static int on_start(const pga_plugin_ctx_t *ctx, char *err, size_t errlen) {
  hook("start");
  return 0;
}

static void on_stop(const pga_plugin_ctx_t *ctx) { hook("stop"); }
static void on_exit(const pga_plugin_ctx_t *ctx) { hook("exit"); }

static const pga_plugin_arg_t value_arg[] = {
    {.name = "value", .type = PGA_ARG_STRING, .allow_nil = 1},
    {0},
};
static const pga_plugin_arg_t ms_arg[] = {
    {.name = "ms", .type = PGA_ARG_NUM},
    {0},
};
static const pga_plugin_arg_t interval_arg[] = {
    {.name = "interval", .type = PGA_ARG_NUM},
    {0},
};
static const char *const admins[] = {"admin", NULL};

static const pga_plugin_config_t notify_cfg = {
    .request_type = "notify",
    .response_type = PGA_RESPONSE_ASYNC,
    .args = value_arg,
    .version = "1.0.0",
    .check_permission = PGA_PERM_AUTHENTICATED};
static const pga_plugin_config_t fire_cfg = {
    .request_type = "fire",
    .response_type = PGA_RESPONSE_NONE,
    .args = value_arg,
    .choose_node_mode = PGA_NODE_HASH_KEY,
    .node_key = "value"};
static const pga_plugin_config_t fail_cfg = {.request_type = "fail",
                                             .args = value_arg,
                                             .check_permission = PGA_PERM_ROLE,
                                             .roles = admins};
static const pga_plugin_config_t refuse_cfg = {
    .request_type = "refuse",
    .args = value_arg,
    .args_as_map = 1,
    .check_permission = PGA_PERM_ARG,
    .permission_arg = "value"};
static const pga_plugin_config_t slow_cfg = {
    .request_type = "slow",
    .args = ms_arg,
    .timeout_ms = 300,
    .choose_node_mode = PGA_NODE_ROUND_ROBIN};
static const pga_plugin_config_t forever_cfg = {
    .request_type = "forever",
    .response_type = PGA_RESPONSE_STREAM,
    .args = interval_arg,
    .request_info = 1,
    .timeout_ms = PGA_PLUGIN_TIMEOUT_INFINITY};
static const pga_plugin_config_t last_cfg = {
    .request_type = "last",
    .response_type = PGA_RESPONSE_STREAM,
    .args = value_arg,
    .request_info = 1};
static const pga_plugin_config_t oops_cfg = {
    .request_type = "oops",
    .response_type = PGA_RESPONSE_STREAM,
    .args = value_arg,
    .request_info = 1};

#define FNS "Elixir.PgaTest.Fns"
#define STREAM "Elixir.PgaTest.Stream"

static const pga_plugin_fn_t functions[] = {
    {.module = FNS,
     .function = "notify",
     .arity = 1,
     .fn = notify,
     .config = &notify_cfg},
    {.module = FNS,
     .function = "fire",
     .arity = 1,
     .fn = fire,
     .config = &fire_cfg},
    {.module = FNS,
     .function = "fail",
     .arity = 1,
     .fn = fail,
     .config = &fail_cfg},
    {.module = FNS,
     .function = "refuse",
     .arity = 1,
     .fn = refuse,
     .config = &refuse_cfg},
    {.module = FNS,
     .function = "slow",
     .arity = 1,
     .fn = slow,
     .config = &slow_cfg},
    {.module = FNS, .function = "bad_result", .arity = 0, .fn = bad_result},
    {.module = FNS,
     .function = "stats",
     .arity = 0,
     .fn = stats,
     .flags = PGA_FN_INLINE},
    {.module = STREAM,
     .function = "forever",
     .arity = 2,
     .fn = forever,
     .config = &forever_cfg},
    {.module = STREAM, .function = "flood", .arity = 2, .fn = flood},
    {.module = STREAM,
     .function = "last",
     .arity = 2,
     .fn = last,
     .config = &last_cfg},
    {.module = STREAM,
     .function = "oops",
     .arity = 2,
     .fn = oops,
     .config = &oops_cfg},
    {0},
};

PGA_PLUGIN_EXPORT const pga_plugin_t pga_plugin = {
    PGA_PLUGIN_HEADER,      .name = "pga_test", .version = "0.0.1",
    .functions = functions, .init = on_init,    .start = on_start,
    .stop = on_stop,        .exit = on_exit,
};
