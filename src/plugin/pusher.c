/* The C side of PhoenixGenApi.ConfigPusher (config-plane.md §4.1, §9):
 * builds pga's PushConfig for one service, pushes it (or verifies it) to a
 * gateway with the library pusher's call shapes and reply handling, and,
 * unlike the library, retries with backoff while the gateway is down.
 *
 * It runs on a worker (pga_node:push_config/1,2 and verify_config/1,2):
 * the calls block the worker, never the loop. To push from the loop (at
 * start-up, from a config file), run pga_node:push_config through
 * pga_rpc_run(), which reports the same reply to a done callback. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "plugin/plugin_int.h"
#include "term/inspect.h"
#include "term/term.h"

#define RECEIVER "Elixir.PhoenixGenApi.ConfigReceiver"
#define PUSH_STRUCT "Elixir.PhoenixGenApi.Structs.PushConfig"
#define MAX_OPTS 64
#define MAX_WAIT_MS 3600000
#define SLICE_MS 50

/* ---- options ---- */

static int get_ms(const pga_term_t *v, int64_t lo, unsigned *out) {
  int64_t n;
  if (pga_term_get_int64(v, &n) != 0 || n < lo || n > MAX_WAIT_MS)
    return PGA_EINVAL;
  *out = (unsigned)n;
  return 0;
}

static int text_of(const pga_term_t *v, char *out, size_t outlen) {
  const char *data;
  size_t len;
  if (pga_term_get_binary(v, &data, &len) == 0) {
    if (len == 0 || len >= outlen || memchr(data, 0, len)) return PGA_EINVAL;
    memcpy(out, data, len);
    out[len] = '\0';
    return 0;
  }
  return pga_term_get_atom(v, out, outlen) == 0 && out[0] ? 0 : PGA_EINVAL;
}

static int one_opt(const pga_term_t *key, const pga_term_t *v,
                   pga__push_opts_t *o) {
  const char *data;
  size_t len;
  if (pga_term_is_atom(key, "force")) {
    o->force = pga_term_is_atom(v, "true"); /* as the receiver reads it */
  } else if (pga_term_is_atom(key, "service")) {
    if (text_of(v, o->service, sizeof o->service) != 0) return PGA_EINVAL;
    o->has_service = 1;
  } else if (pga_term_is_atom(key, "config_version")) {
    if (pga_term_get_binary(v, &data, &len) != 0 || len == 0)
      return PGA_EINVAL; /* the library: ArgumentError, §9 */
    o->config_version = *v;
  } else if (pga_term_is_atom(key, "push_token")) {
    if (pga_term_get_binary(v, &data, &len) == 0)
      o->push_token = *v;
    else if (pga_term_is_atom(v, "nil"))
      o->push_token.len = 0;
    else
      return PGA_EINVAL;
  } else if (pga_term_is_atom(key, "timeout")) {
    if (pga_term_is_atom(v, "infinity"))
      o->timeout_ms = 0;
    else if (get_ms(v, 1, &o->timeout_ms) != 0)
      return PGA_EINVAL;
  } else if (pga_term_is_atom(key, "retries")) {
    int64_t n;
    if (pga_term_get_int64(v, &n) != 0 || n < 0 || n > 100) return PGA_EINVAL;
    o->retries = (unsigned)n;
  } else if (pga_term_is_atom(key, "backoff")) {
    if (get_ms(v, 1, &o->backoff_ms) != 0) return PGA_EINVAL;
  } else if (pga_term_is_atom(key, "max_backoff")) {
    if (get_ms(v, 1, &o->max_backoff_ms) != 0) return PGA_EINVAL;
  }
  return 0; /* other keys are ignored, as Keyword.get does */
}

int pga__push_opts(const pga_term_t *opts, pga__push_opts_t *o, int *bad) {
  memset(o, 0, sizeof *o);
  o->timeout_ms = 5000;
  o->retries = 3;
  o->backoff_ms = 500;
  o->max_backoff_ms = 30000;
  *bad = -1;
  pga_term_iter_t it;
  pga_term_t el, tail, key, v;
  size_t n = 0;
  if ((pga_term_type(opts) != PGA_T_LIST &&
       pga_term_type(opts) != PGA_T_NIL) ||
      pga_term_list_length(opts, &n) != 0 || n > MAX_OPTS ||
      pga_term_iter_init(&it, opts) != 0)
    return PGA_EINVAL;
  for (int i = 0; pga_term_iter_next(&it, &el); i++) {
    size_t arity;
    *bad = i;
    if (pga_term_tuple_arity(&el, &arity) != 0 || arity != 2 ||
        pga_term_tuple_get(&el, 0, &key) != 0 ||
        pga_term_type(&key) != PGA_T_ATOM ||
        pga_term_tuple_get(&el, 1, &v) != 0 || one_opt(&key, &v, o) != 0)
      return PGA_EINVAL;
  }
  pga_term_iter_tail(&it, &tail);
  if (pga_term_type(&tail) != PGA_T_NIL) return PGA_EINVAL;
  if (o->max_backoff_ms < o->backoff_ms) o->max_backoff_ms = o->backoff_ms;
  *bad = -1;
  return 0;
}

static void error2(pga_tb_t *out, const char *what, const char *detail) {
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "error");
  if (!detail) {
    pga_tb_atom(out, what);
    return;
  }
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, what);
  pga_tb_string(out, detail);
}

int pga__push_service(const pga_plugin_host_t *h, pga__push_opts_t *o,
                      pga_tb_t *out) {
  if (o->has_service) {
    if (pga__supporter_has_service(h, o->service)) return 0;
    error2(out, "unknown_service", o->service);
    return PGA_EINVAL;
  }
  const char *only = NULL;
  for (const pga__plugin_t *p = h->first; p; p = p->next) {
    if (only && strcmp(only, p->service)) {
      /* several services: the caller must say which */
      pga_tb_tuple(out, 2);
      pga_tb_atom(out, "error");
      pga_tb_atom(out, "service_required");
      return PGA_EINVAL;
    }
    only = p->service;
  }
  if (!only) {
    error2(out, "no_services", NULL);
    return PGA_EINVAL;
  }
  snprintf(o->service, sizeof o->service, "%s", only);
  o->has_service = 1;
  return 0;
}

/* ---- the PushConfig (§1.4: 11 fields + __struct__) ---- */

static void put_version(const pga_plugin_host_t *h, const pga__push_opts_t *o,
                        const pga_term_t *service, pga_tb_t *out) {
  if (o->config_version.len)
    pga_tb_term(out, &o->config_version);
  else
    pga__supporter_version(h, service, out);
}

void pga__push_config(const pga_plugin_host_t *h, const pga__push_opts_t *o,
                      pga_tb_t *out) {
  pga_tb_t svc, list;
  pga__tb_init(&svc, 0);
  pga__tb_init(&list, 0);
  pga_tb_string(&svc, o->service);
  pga_term_t service = pga_tb_data(&svc);
  pga__supporter_configs(h, &service, &list); /* {ok, [FunConfig]} */
  pga_term_t ok = pga_tb_data(&list), configs;
  if (pga_term_tuple_get(&ok, 1, &configs) != 0) configs = ok; /* ENOMEM */

  pga_tb_map(out, 12);
  pga_tb_atom(out, "__struct__");
  pga_tb_atom(out, PUSH_STRUCT);
  pga_tb_atom(out, "service");
  pga_tb_term(out, &service);
  pga_tb_atom(out, "nodes");
  pga_tb_list(out, 1);
  pga_tb_atom(out, h->node_name);
  pga_tb_nil(out);
  pga_tb_atom(out, "config_version");
  put_version(h, o, &service, out);
  pga_tb_atom(out, "fun_configs");
  pga_tb_term(out, &configs);
  /* Auto-pull registration (§1.6): the gateway's puller then calls
   * pga_node:get_config(Service) and get_config_version(Service). */
  pga_tb_atom(out, "module");
  pga_tb_atom(out, "pga_node");
  pga_tb_atom(out, "function");
  pga_tb_atom(out, "get_config");
  pga_tb_atom(out, "version_module");
  pga_tb_atom(out, "pga_node");
  pga_tb_atom(out, "version_function");
  pga_tb_atom(out, "get_config_version");
  pga_tb_atom(out, "args");
  pga_tb_list(out, 1);
  pga_tb_term(out, &service);
  pga_tb_nil(out);
  pga_tb_atom(out, "version_args");
  pga_tb_list(out, 1);
  pga_tb_term(out, &service);
  pga_tb_nil(out);
  pga_tb_atom(out, "push_token");
  if (o->push_token.len)
    pga_tb_term(out, &o->push_token);
  else
    pga_tb_atom(out, "nil");
  pga__tb_destroy(&svc);
  pga__tb_destroy(&list);
}

/* ---- replies ---- */

static int tagged(const pga_term_t *t, size_t arity, const char *tag,
                  const char *second) {
  size_t n;
  pga_term_t el;
  if (pga_term_tuple_arity(t, &n) != 0 || n != arity ||
      pga_term_tuple_get(t, 0, &el) != 0 || !pga_term_is_atom(&el, tag))
    return 0;
  return !second ||
         (pga_term_tuple_get(t, 1, &el) == 0 && pga_term_is_atom(&el, second));
}

/* {badrpc, R} from a gateway that is not up yet: the node is down, or it
 * runs but PhoenixGenApi is not started (the receiver module is not
 * loaded: undef, or its server is not running: noproc). */
static int gateway_not_up(const pga_term_t *reply) {
  pga_term_t r, why, frames, frame, m;
  size_t n;
  if (pga_term_tuple_get(reply, 1, &r) != 0) return 0;
  if (pga_term_is_atom(&r, "nodedown")) return 1;
  if (!tagged(&r, 2, "EXIT", NULL) || pga_term_tuple_get(&r, 1, &why) != 0)
    return 0;
  if (tagged(&why, 2, "noproc", NULL)) return 1;
  pga_term_iter_t it;
  return tagged(&why, 2, "undef", NULL) &&
         pga_term_tuple_get(&why, 1, &frames) == 0 &&
         pga_term_iter_init(&it, &frames) == 0 &&
         pga_term_iter_next(&it, &frame) &&
         pga_term_tuple_arity(&frame, &n) == 0 && n >= 1 &&
         pga_term_tuple_get(&frame, 0, &m) == 0 &&
         pga_term_is_atom(&m, RECEIVER);
}

void pga__push_interpret(const pga_term_t *reply, int verify, pga_tb_t *out,
                         int *retry) {
  *retry = 0;
  int pass = verify ? tagged(reply, 2, "ok", "matched") ||
                          tagged(reply, 3, "ok", "mismatch")
                    : tagged(reply, 2, "ok", "accepted") ||
                          tagged(reply, 3, "ok", "skipped");
  if (pass || tagged(reply, 2, "error", NULL)) {
    pga_tb_term(out, reply);
    return;
  }
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "error");
  if (tagged(reply, 2, "badrpc", NULL)) {
    /* the library wraps the whole {badrpc, R} */
    pga_tb_term(out, reply);
    *retry = gateway_not_up(reply);
    return;
  }
  /* The library's pusher raises CaseClauseError here; an rpc caller is
   * better served by a reply naming what came back. */
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "unexpected_reply");
  pga_tb_term(out, reply);
}

/* ---- the reason in words, for the log ---- */

#define REASON_MAX 160

/* Elixir's inspect of t, cut at REASON_MAX characters with "...". */
static void inspect_cut(const pga_term_t *t, char *out, size_t outlen) {
  char *text = pga_term_inspect_dup(t);
  size_t n = text ? strlen(text) : 0;
  if (!text)
    snprintf(out, outlen, "(out of memory)");
  else if (n > REASON_MAX)
    snprintf(out, outlen, "%.*s...", REASON_MAX, text);
  else
    snprintf(out, outlen, "%s", text);
  free(text);
}

/* {badrpc, R}: why the call did not reach the receiver. */
static void badrpc_reason(const pga_term_t *r, unsigned timeout_ms, char *out,
                          size_t outlen) {
  pga_term_t why, frames, frame, m;
  size_t n;
  pga_term_iter_t it;
  if (pga_term_is_atom(r, "nodedown")) {
    snprintf(out, outlen, "gateway down or unreachable (nodedown)");
  } else if (pga_term_is_atom(r, "timeout")) {
    snprintf(out, outlen, "no answer within %u ms (timeout)", timeout_ms);
  } else if (tagged(r, 2, "EXIT", NULL) &&
             pga_term_tuple_get(r, 1, &why) == 0 &&
             tagged(&why, 2, "noproc", NULL)) {
    snprintf(out, outlen, "PhoenixGenApi is not started there (noproc)");
  } else if (tagged(r, 2, "EXIT", NULL) &&
             pga_term_tuple_get(r, 1, &why) == 0 &&
             tagged(&why, 2, "undef", NULL) &&
             pga_term_tuple_get(&why, 1, &frames) == 0 &&
             pga_term_iter_init(&it, &frames) == 0 &&
             pga_term_iter_next(&it, &frame) &&
             pga_term_tuple_arity(&frame, &n) == 0 && n >= 1 &&
             pga_term_tuple_get(&frame, 0, &m) == 0 &&
             pga_term_is_atom(&m, RECEIVER)) {
    snprintf(out, outlen,
             "PhoenixGenApi is not loaded there (ConfigReceiver undefined)");
  } else {
    char text[REASON_MAX + 8];
    inspect_cut(r, text, sizeof text);
    snprintf(out, outlen, "call failed: %s", text);
  }
}

void pga__push_reason(const pga_term_t *reply, unsigned timeout_ms,
                      char *out, size_t outlen) {
  pga_term_t tag, r;
  char text[REASON_MAX + 8];
  if (pga_term_tuple_get(reply, 0, &tag) == 0 && pga_term_is_atom(&tag, "ok")) {
    if (pga_term_tuple_get(reply, 2, &r) == 0) { /* {ok, skipped|mismatch, X} */
      pga_term_t what;
      pga_term_tuple_get(reply, 1, &what);
      char w[PGA_ATOM_BUF] = "";
      pga_term_get_atom(&what, w, sizeof w);
      inspect_cut(&r, text, sizeof text);
      snprintf(out, outlen, "%s (%s)", w, text);
    } else if (pga_term_tuple_get(reply, 1, &r) == 0 &&
               pga_term_get_atom(&r, text, sizeof text) == 0) {
      snprintf(out, outlen, "%s", text); /* accepted, matched */
    } else {
      inspect_cut(reply, out, outlen);
    }
    return;
  }
  if (pga_term_tuple_get(reply, 1, &r) != 0) {
    inspect_cut(reply, out, outlen);
  } else if (tagged(&r, 2, "badrpc", NULL)) {
    pga_term_t why;
    pga_term_tuple_get(&r, 1, &why);
    badrpc_reason(&why, timeout_ms, out, outlen);
  } else {
    inspect_cut(&r, text, sizeof text);
    snprintf(out, outlen, "refused: %s", text);
  }
}

/* ---- running ---- */

/* Sleeps ms in slices; 0, or PGA_ECANCELED once the call is cancelled. */
static int pause_ms(pga_call_t *call, unsigned ms) {
  while (ms > 0) {
    if (pga_call_cancelled(call)) return PGA_ECANCELED;
    unsigned step = ms < SLICE_MS ? ms : SLICE_MS;
    struct timespec ts = {0, (long)step * 1000000L};
    nanosleep(&ts, NULL);
    ms -= step;
  }
  return pga_call_cancelled(call) ? PGA_ECANCELED : 0;
}

static void build_args(const pga_plugin_host_t *h, const pga__push_opts_t *o,
                       int verify, pga_tb_t *args) {
  pga_tb_list(args, 2);
  if (verify) { /* verify(Service, ConfigVersion) */
    pga_tb_string(args, o->service);
    pga_tb_t svc;
    pga__tb_init(&svc, 0);
    pga_tb_string(&svc, o->service);
    pga_term_t service = pga_tb_data(&svc);
    put_version(h, o, &service, args);
    pga__tb_destroy(&svc);
  } else { /* push(PushConfig, [force: F]) */
    pga__push_config(h, o, args);
    pga_tb_list(args, 1);
    pga_tb_tuple(args, 2);
    pga_tb_atom(args, "force");
    pga_tb_bool(args, o->force);
    pga_tb_nil(args);
  }
  pga_tb_nil(args);
}

void pga__push_run(pga_call_t *call, const pga_plugin_host_t *h,
                   const char *gateway, const pga__push_opts_t *o, int verify,
                   pga_tb_t *out) {
  const char *what = verify ? "verify" : "push";
  pga_tb_t args, reply;
  pga__tb_init(&args, 0);
  pga__tb_init(&reply, 0);
  build_args(h, o, verify, &args);
  pga_term_t at = pga_tb_data(&args);
  unsigned delay = o->backoff_ms;
  for (unsigned attempt = 0;; attempt++) {
    pga_tb_reset(&reply);
    pga_tb_reset(out);
    int rc = pga_tb_error(&args);
    if (rc == 0)
      rc = pga_call_rpc(call, gateway, RECEIVER, what, &at, o->timeout_ms,
                        &reply);
    if (rc != 0) { /* local: cancelled, out of memory */
      error2(out, rc == PGA_ECANCELED ? "cancelled" : "pga",
             rc == PGA_ECANCELED ? NULL : pga_err_name(rc));
      break;
    }
    pga_term_t rt = pga_tb_data(&reply);
    int retry;
    pga__push_interpret(&rt, verify, out, &retry);
    char text[256];
    pga_term_t ot = pga_tb_data(out);
    pga__push_reason(&ot, o->timeout_ms, text, sizeof text);
    if (!retry || attempt >= o->retries) {
      pga_info("config %s of service \"%s\" to %s: %s", what, o->service,
               gateway, text);
      break;
    }
    pga_info("config %s of service \"%s\" to %s: %s; retry %u/%u in %u ms",
             what, o->service, gateway, text, attempt + 1, o->retries, delay);
    if (pause_ms(call, delay) != 0) break; /* keep the last reply */
    delay = delay > o->max_backoff_ms / 2 ? o->max_backoff_ms : delay * 2;
  }
  pga__tb_destroy(&args);
  pga__tb_destroy(&reply);
}
