/* pga_example: a pga plugin serving the service "pga_example" to
 * PhoenixGenApi gateways (docs/plugins.md walks through it).
 *
 *   'Elixir.PgaExample.Math':add(A, B)        -> A + B   (request "add")
 *   'Elixir.PgaExample.Math':echo(Value)      -> Value   (request "echo")
 *   'Elixir.PgaExample.Math':fib(N)           -> the Nth Fibonacci number,
 *       answered later: the gateway acknowledges the request at once and
 *       sends the result as a message             (async request "fib")
 *   'Elixir.PgaExample.Ticker':ticks(N, Info) -> {ok, started}, then
 *       sends {result, #{<<"tick">> => I}} for I in 1..N, then complete,
 *       to Info's stream_pid                             (request "ticks")
 *
 * Build: cc -shared -fPIC -fvisibility=hidden $(pkg-config --cflags pga-plugin)
 *        -o pga_example.so pga_example.c
 * Run:   pga-node --name gw@127.0.0.1 --cookie c --plugin ./pga_example.so */
#include <stdint.h>
#include <string.h>

#include <pga/plugin.h>

#define MAX_TICKS 100000
#define MAX_FIB 92 /* fib(92) is the largest that fits in int64 */

/* Fails the way Erlang's + does: error badarith. */
static pga_outcome_t badarith(pga_tb_t *out) {
  pga_tb_atom(out, "badarith");
  return PGA_ERROR;
}

static pga_outcome_t add(pga_call_t *call, size_t argc, const pga_term_t *argv,
                         pga_tb_t *out) {
  (void)call, (void)argc; /* the host calls each function with its arity */
  int64_t a, b, sum;
  if (pga_term_get_int64(&argv[0], &a) == 0 &&
      pga_term_get_int64(&argv[1], &b) == 0 &&
      !__builtin_add_overflow(a, b, &sum)) {
    pga_tb_int(out, sum);
    return PGA_RETURN;
  }
  double x, y;
  int tx = pga_term_type(&argv[0]), ty = pga_term_type(&argv[1]);
  if ((tx != PGA_T_INTEGER && tx != PGA_T_FLOAT) ||
      (ty != PGA_T_INTEGER && ty != PGA_T_FLOAT))
    return badarith(out); /* strings, atoms, bignums... */
  if (tx == PGA_T_INTEGER) {
    pga_term_get_int64(&argv[0], &a);
    x = (double)a;
  } else {
    pga_term_get_double(&argv[0], &x);
  }
  if (ty == PGA_T_INTEGER) {
    pga_term_get_int64(&argv[1], &b);
    y = (double)b;
  } else {
    pga_term_get_double(&argv[1], &y);
  }
  pga_tb_double(out, x + y);
  return PGA_RETURN;
}

static pga_outcome_t echo(pga_call_t *call, size_t argc,
                          const pga_term_t *argv, pga_tb_t *out) {
  (void)call, (void)argc;
  pga_tb_term(out, &argv[0]);
  return PGA_RETURN;
}

/* {error, Reason}: a gateway answers the client with an error response. */
static pga_outcome_t fail_with(pga_tb_t *out, const char *reason) {
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "error");
  pga_tb_atom(out, reason);
  return PGA_RETURN;
}

static pga_outcome_t fib(pga_call_t *call, size_t argc, const pga_term_t *argv,
                         pga_tb_t *out) {
  (void)call, (void)argc;
  int64_t n;
  uint64_t a = 0, b = 1; /* b reaches fib(93): fits uint64, not int64 */
  if (pga_term_get_int64(&argv[0], &n) != 0 || n < 0 || n > MAX_FIB)
    return fail_with(out, "bad_number");
  for (int64_t i = 0; i < n; i++) {
    uint64_t next = a + b;
    a = b;
    b = next;
  }
  pga_tb_int(out, (int64_t)a);
  return PGA_RETURN;
}

static pga_outcome_t ticks(pga_call_t *call, size_t argc,
                           const pga_term_t *argv, pga_tb_t *out) {
  (void)argc;
  int64_t n;
  if (pga_term_get_int64(&argv[0], &n) != 0 || n < 0 || n > MAX_TICKS)
    return fail_with(out, "bad_count");
  if (pga_stream_open(call, &argv[1]) != 0) return fail_with(out, "no_stream");
  pga_tb_t *chunk = pga_tb_new(0);
  if (!chunk) return fail_with(out, "enomem");
  /* Reply first: the gateway's relay forwards chunks only once the call
   * has its value, so the client sees ticks as they are sent. */
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "ok");
  pga_tb_atom(out, "started");
  pga_term_t started = pga_tb_data(out);
  int rc = pga_call_reply(call, &started);
  for (int64_t i = 1; i <= n && rc == 0; i++) {
    pga_tb_reset(chunk);
    pga_tb_map(chunk, 1);
    pga_tb_string(chunk, "tick");
    pga_tb_int(chunk, i);
    pga_term_t data = pga_tb_data(chunk);
    rc = pga_stream_send_result(call, &data);
  }
  if (rc == 0) rc = pga_stream_complete(call);
  pga_tb_free(chunk);
  /* The caller has its value already: what we return now is dropped.
   * rc != 0: the client stopped the stream (or it timed out). */
  return PGA_RETURN;
}

/* ---- what gateways are told (FunConfigs) ---- */

static const pga_plugin_arg_t add_args[] = {
    {.name = "a", .type = PGA_ARG_NUM},
    {.name = "b", .type = PGA_ARG_NUM},
    {0},
};

static const pga_plugin_arg_t echo_args[] = {
    {.name = "value", .type = PGA_ARG_STRING, .max_bytes = 1024},
    {0},
};

static const pga_plugin_arg_t fib_args[] = {
    {.name = "n", .type = PGA_ARG_NUM},
    {0},
};

static const pga_plugin_arg_t ticks_args[] = {
    {.name = "count", .type = PGA_ARG_NUM},
    {0},
};

static const pga_plugin_config_t add_config = {
    .request_type = "add",
    .response_type = PGA_RESPONSE_SYNC,
    .timeout_ms = 5000,
    .args = add_args,
};

static const pga_plugin_config_t echo_config = {
    .request_type = "echo",
    .response_type = PGA_RESPONSE_SYNC,
    .timeout_ms = 5000,
    .args = echo_args,
};

static const pga_plugin_config_t fib_config = {
    .request_type = "fib",
    .response_type = PGA_RESPONSE_ASYNC,
    .timeout_ms = 5000,
    .args = fib_args,
};

static const pga_plugin_config_t ticks_config = {
    .request_type = "ticks",
    .response_type = PGA_RESPONSE_STREAM,
    .timeout_ms = 10000,
    .args = ticks_args,
    .request_info = 1, /* the stream pid comes in the request-info map */
};

static const pga_plugin_fn_t functions[] = {
    {.module = "Elixir.PgaExample.Math",
     .function = "add",
     .arity = 2,
     .fn = add,
     .config = &add_config},
    {.module = "Elixir.PgaExample.Math",
     .function = "echo",
     .arity = 1,
     .fn = echo,
     .config = &echo_config},
    {.module = "Elixir.PgaExample.Math",
     .function = "fib",
     .arity = 1,
     .fn = fib,
     .config = &fib_config},
    {.module = "Elixir.PgaExample.Ticker",
     .function = "ticks",
     .arity = 2,
     .fn = ticks,
     .config = &ticks_config},
    {0},
};

PGA_PLUGIN_EXPORT const pga_plugin_t pga_plugin = {
    PGA_PLUGIN_HEADER,        .name = "pga_example",  .version = "1.0.0",
    .service = "pga_example", .functions = functions,
};
