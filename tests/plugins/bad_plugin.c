/* Plugins the loader must refuse, one per build (-DBAD_<KIND>): each is
 * otherwise a valid plugin, so the refusal can only come from its flaw. */
#include <stdio.h>

#include <pga/plugin.h>

static pga_outcome_t f(pga_call_t *call, size_t argc, const pga_term_t *argv,
                       pga_tb_t *out) {
  pga_tb_atom(out, "ok");
  return PGA_RETURN;
}

#if defined(BAD_TABLE) || defined(BAD_ARITY)
static const pga_plugin_arg_t two[] = {{.name = "a", .type = PGA_ARG_NUM},
                                       {.name = "b", .type = PGA_ARG_NUM},
                                       {0}};
#endif
#ifdef BAD_TABLE /* a stream without request_info */
static const pga_plugin_config_t cfg = {
    .request_type = "s", .response_type = PGA_RESPONSE_STREAM, .args = two};
#define CONFIG &cfg
#define ARITY 2
#elif defined(BAD_ARITY) /* gateways call it with 2 arguments */
static const pga_plugin_config_t cfg = {.request_type = "a", .args = two};
#define CONFIG &cfg
#define ARITY 1
#else
#define CONFIG NULL
#define ARITY 0
#endif

#ifdef BAD_MODULE
#define MODULE "os" /* every gateway refuses it */
#elif defined(BAD_CLASH)
#define MODULE "pga_node" /* pga_node:echo/1 is built in */
#else
#define MODULE "Elixir.PgaBad"
#endif

static const pga_plugin_fn_t functions[] = {
#ifdef BAD_CLASH
    {.module = MODULE, .function = "echo", .arity = 1, .fn = f},
#else
    {.module = MODULE,
     .function = "f",
     .arity = ARITY,
     .fn = f,
     .config = CONFIG},
#endif
    {0},
};

#ifdef BAD_INIT
static int init(const pga_plugin_ctx_t *ctx, char *err, size_t errlen) {
  pga_tb_t *tb = pga_tb_new(0); /* uses the host's API: it must resolve */
  pga_tb_free(tb);
  snprintf(err, errlen, "no licence for %s", ctx->name);
  return -1;
}
#define INIT init
#else
#define INIT NULL
#endif

#ifdef BAD_NOSYM /* the descriptor under another name */
PGA_PLUGIN_EXPORT const pga_plugin_t pga_plugin_v1 = {
#else
PGA_PLUGIN_EXPORT const pga_plugin_t pga_plugin = {
#endif
#ifdef BAD_ABI
    .abi_version = PGA_PLUGIN_ABI_VERSION + 1,
    .struct_version = PGA_PLUGIN_STRUCT_VERSION,
    .signature = PGA_PLUGIN_SIGNATURE,
#elif defined(BAD_SIG)
    .abi_version = PGA_PLUGIN_ABI_VERSION,
    .struct_version = PGA_PLUGIN_STRUCT_VERSION,
    .signature = "pga-plugin-1:p4l4z4:be",
#else
PGA_PLUGIN_HEADER,
#endif
#ifdef BAD_DUP
    .name = "pga_test", /* the name of tests/plugins/test_plugin.c */
#elif defined(BAD_NAME)
    .name = "bad name!",
#else
    .name = "pga_bad",
#endif
    .functions = functions,
    .init = INIT,
};
