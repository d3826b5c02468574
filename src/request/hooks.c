/* Hooks (request-plane.md §10): reading a hook's config value and turning
 * a before hook's rpc:call-style result into the pipeline's next step.
 * Pure term logic; the executor runs the hooks (docs/compat.md R14). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "config/funconfig.h"
#include "request/plane.h"
#include "request/request_int.h"

int pga_request_hook_of(const pga_term_t *hook, char *m, char *f,
                        size_t len, pga_term_t *extra) {
  pga_term_t el[3];
  int n;

  if (pga__rq_tuple(hook, 2, el)) n = 2;
  else if (pga__rq_tuple(hook, 3, el)) n = 3;
  else return 0;
  if (pga_term_get_atom(&el[0], m, len) != 0 ||
      pga_term_get_atom(&el[1], f, len) != 0)
    return 0;
  if (n == 3) *extra = el[2];
  return n;
}

int pga_request_hook_compiled(const pga_funconfig_t *fc,
                              const pga_fc_call_t *hook, const char **m,
                              const char **f, pga_term_t *extra) {
  if (hook->arity != 2 && hook->arity != 3) return 0;
  *m = pga_funconfig_text(fc, hook->m);
  *f = pga_funconfig_text(fc, hook->f);
  if (hook->arity == 3) *extra = pga_funconfig_slice(fc, hook->a, hook->a_len);
  return (int)hook->arity;
}

/* E3 for a reason that is already inspected text: "hook rejected: " +
 * inspect(text) (the library's double inspect). */
static char *e3_of_text(const char *text) {
  pga_tb_t tb;
  char *s;
  pga__tb_init(&tb, 0);
  pga_tb_string(&tb, text);
  pga_term_t t = pga_tb_data(&tb);
  s = pga_tb_error(&tb) ? NULL
                        : pga_request_detail_error("hook rejected: ", &t, NULL);
  pga__tb_destroy(&tb);
  return s;
}

/* inspect({kind, value}). */
static char *kind_text(const char *kind, const pga_term_t *value) {
  pga_tb_t tb;
  char *in;
  pga__tb_init(&tb, 0);
  pga_tb_tuple(&tb, 2);
  pga_tb_atom(&tb, kind);
  pga_tb_term(&tb, value);
  pga_term_t t = pga_tb_data(&tb);
  in = pga_tb_error(&tb) ? NULL : pga_request_detail_error("", &t, NULL);
  pga__tb_destroy(&tb);
  return in;
}

/* An exception's message, inspected: the struct's binary :message, else
 * inspect of the error value (a bare Erlang error carries no message). */
static char *error_text(const pga_term_t *value) {
  pga_tb_t key;
  pga_term_t msg;
  const unsigned char *p;
  size_t n;
  char *in;

  pga__tb_init(&key, 0);
  pga_tb_atom(&key, "message");
  pga_term_t k = pga_tb_data(&key);
  if (pga__rq_type(value) == PGA_T_MAP && pga__rq_map_get(value, &k, &msg) &&
      pga__rq_binary(&msg, &p, &n) == 0)
    in = pga_request_detail_error("", &msg, NULL);
  else
    in = pga_request_detail_error("", value, NULL);
  pga__tb_destroy(&key);
  return in;
}

int pga_request_hook_failure(const pga_term_t *result, char **text) {
  pga_term_t el[2], ex[2], inner[2];

  *text = NULL;
  if (!result) {
    *text = strdup(PGA_REQUEST_HOOK_TIMEOUT);
    return PGA_HOOK_FAIL_TIMEOUT;
  }
  if (!pga__rq_tuple(result, 2, el) || !pga_term_is_atom(&el[0], "badrpc"))
    return PGA_HOOK_RAN;
  if (pga_term_is_atom(&el[1], "timeout")) {
    *text = strdup(PGA_REQUEST_HOOK_TIMEOUT);
    return PGA_HOOK_FAIL_TIMEOUT;
  }
  if (pga__rq_tuple(&el[1], 2, ex) && pga_term_is_atom(&ex[0], "EXIT")) {
    if (pga__rq_tuple(&ex[1], 2, inner) && pga__rq_tuple(&inner[0], 2, el) &&
        pga_term_is_atom(&el[0], "nocatch"))
      *text = kind_text("throw", &el[1]);
    else if (pga__rq_tuple(&ex[1], 2, inner) &&
             pga__rq_proper_list(&inner[1], NULL))
      *text = error_text(&inner[0]); /* {Reason, Stack}: raised */
    else
      *text = kind_text("exit", &ex[1]);
  } else {
    *text = kind_text("exit", &el[1]);
  }
  return PGA_HOOK_FAIL_ERROR;
}

pga_hook_step_t pga_request_hook_before_result(const pga_term_t *result,
                                               pga_term_t *req2,
                                               pga_term_t *cfg2,
                                               char **e3) {
  pga_term_t el[3];

  *e3 = NULL;
  if (result && pga__rq_tuple(result, 3, el) && pga_term_is_atom(&el[0], "ok")) {
    *req2 = el[1];
    *cfg2 = el[2];
    return PGA_HOOK_REPLACE;
  }
  if (result && pga__rq_tuple(result, 2, el) &&
      pga_term_is_atom(&el[0], "error")) {
    *e3 = pga_request_detail_error("hook rejected: ", &el[1], NULL);
    return PGA_HOOK_REJECT;
  }
  char *text;
  if (pga_request_hook_failure(result, &text) == PGA_HOOK_RAN)
    return PGA_HOOK_CONTINUE;
  if (text) *e3 = e3_of_text(text); /* {badrpc, R}: the hook failed */
  free(text);
  return PGA_HOOK_REJECT;
}
