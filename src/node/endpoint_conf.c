/* The "endpoint" object of --config (pga-node(1) ENDPOINT): read into the
 * endpoint's options, every error naming its key ("endpoint.listen"). */
#include "config.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/endpoint_conf.h"

typedef struct ctx_s {
  char *err;
  size_t errlen;
} ctx_t;

static int fail(ctx_t *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(ctx_t *c, const char *key, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(c->err, c->errlen, "endpoint.%s: %s", key, msg);
  return -1;
}

static const char *type_name(const json_t *j) {
  switch (json_typeof(j)) {
  case JSON_OBJECT: return "an object";
  case JSON_ARRAY: return "an array";
  case JSON_STRING: return "a string";
  case JSON_INTEGER: return "an integer";
  case JSON_REAL: return "a number";
  case JSON_TRUE: case JSON_FALSE: return "a boolean";
  default: return "null";
  }
}

/* absent/null: keep *out (1); else 0 or -1 */
static int get_string(ctx_t *c, const char *key, json_t *j, char **out) {
  if (!j || json_is_null(j)) return 1;
  if (!json_is_string(j) || json_string_length(j) == 0 ||
      memchr(json_string_value(j), 0, json_string_length(j)))
    return fail(c, key, "expected a non-empty string, got %s", type_name(j));
  free(*out);
  *out = strdup(json_string_value(j));
  return *out ? 0 : fail(c, key, "out of memory");
}

static int get_int(ctx_t *c, const char *key, json_t *j, long long min,
                   long long max, long long *out) {
  if (!j || json_is_null(j)) return 1;
  if (!json_is_integer(j) || json_integer_value(j) < min ||
      json_integer_value(j) > max)
    return fail(c, key, "expected an integer %lld..%lld, got %s", min, max,
                json_is_integer(j) ? "a value out of range" : type_name(j));
  *out = json_integer_value(j);
  return 0;
}

static int get_bool(ctx_t *c, const char *key, json_t *j, int *out) {
  if (!j || json_is_null(j)) return 1;
  if (!json_is_boolean(j))
    return fail(c, key, "expected true or false, got %s", type_name(j));
  *out = json_is_true(j);
  return 0;
}

static int strings(ctx_t *c, const char *key, json_t *arr, char ***out,
                   size_t *n) {
  size_t i;
  json_t *v;
  char p[64];
  if (!json_is_array(arr))
    return fail(c, key, "expected an array of strings, got %s", type_name(arr));
  *out = calloc(json_array_size(arr) + 1, sizeof **out);
  if (!*out) return fail(c, key, "out of memory");
  json_array_foreach(arr, i, v) {
    snprintf(p, sizeof p, "%s[%zu]", key, i);
    int rc = get_string(c, p, v, &(*out)[i]);
    if (rc < 0) return -1;
    if (rc > 0) return fail(c, p, "expected a non-empty string, got null");
    (*n)++;
  }
  return 0;
}

static int listen_addr(ctx_t *c, json_t *j, pga_endpoint_opts_t *o) {
  char *s = NULL;
  int rc = get_string(c, "listen", j, &s);
  if (rc) return rc < 0 ? -1 : 0;
  char *colon = strrchr(s, ':');
  char *end = NULL;
  long port = colon ? strtol(colon + 1, &end, 10) : -1;
  if (!colon || colon == s || !end || *end || end == colon + 1 || port < 0 ||
      port > 65535) {
    free(s);
    return fail(c, "listen", "expected \"HOST:PORT\" (IPv4 address, port "
                             "0..65535)");
  }
  *colon = 0;
  free(o->host);
  o->host = s;
  o->port = (uint16_t)port;
  return 0;
}

static int topics(ctx_t *c, json_t *j, pga_endpoint_opts_t *o) {
  if (!j || json_is_null(j)) return 0;
  if (strings(c, "topics", j, &o->topics, &o->ntopics) != 0) return -1;
  for (size_t i = 0; i < o->ntopics; i++) {
    const char *t = o->topics[i], *star = strchr(t, '*');
    char p[32];
    snprintf(p, sizeof p, "topics[%zu]", i);
    if (star && (star[1] || star == t || star[-1] != ':'))
      return fail(c, p, "expected an exact topic or \"prefix:*\"");
  }
  return 0;
}

/* {"node": "n@h", "module": "Elixir.M", "function": "f",
 *  "headers": [...], "timeout": ms}: M.f(params, connect_info) on node. */
static int auth_rpc(ctx_t *c, json_t *t, pga_endpoint_opts_t *o) {
  static const char *const keys[] = {"node", "module", "function", "headers",
                                     "timeout"};
  const char *k;
  json_t *v;
  long long to = 5000;
  if (!json_is_object(t))
    return fail(c, "auth.rpc", "expected an object, got %s", type_name(t));
  json_object_foreach(t, k, v) {
    int known = 0;
    for (size_t i = 0; i < 5; i++) known |= !strcmp(k, keys[i]);
    if (!known) {
      char p[96];
      snprintf(p, sizeof p, "auth.rpc.%.60s", k);
      return fail(c, p, "unknown key");
    }
  }
  char **dst[] = {&o->rpc_node, &o->rpc_module, &o->rpc_function};
  for (size_t i = 0; i < 3; i++) {
    char p[64];
    snprintf(p, sizeof p, "auth.rpc.%s", keys[i]);
    int rc = get_string(c, p, json_object_get(t, keys[i]), dst[i]);
    if (rc < 0) return -1;
    if (rc > 0) return fail(c, p, "required");
  }
  if (!strchr(o->rpc_node, '@'))
    return fail(c, "auth.rpc.node", "expected a node name NAME@HOST");
  json_t *h = json_object_get(t, "headers");
  if (h && !json_is_null(h) &&
      strings(c, "auth.rpc.headers", h, &o->rpc_headers, &o->nrpc_headers) != 0)
    return -1;
  if (get_int(c, "auth.rpc.timeout", json_object_get(t, "timeout"), 1,
              300000, &to) < 0)
    return -1;
  o->rpc_timeout_ms = (unsigned)to;
  o->auth = PGA_EP_AUTH_RPC;
  return 0;
}

static int auth(ctx_t *c, json_t *j, pga_endpoint_opts_t *o) {
  static const char *const tkeys[] = {"secret_key_base", "salt", "max_age"};
  const char *k;
  json_t *v, *t;
  long long age = 86400;
  if (!j || json_is_null(j)) return 0;
  if (json_is_string(j) && !strcmp(json_string_value(j), "none")) {
    o->auth = PGA_EP_AUTH_NONE;
    return 0;
  }
  if (!json_is_object(j) || json_object_size(j) != 1)
    return fail(c, "auth", "expected \"none\" or an object with one of "
                           "phoenix_token, rpc, plugin");
  if ((t = json_object_get(j, "rpc"))) return auth_rpc(c, t, o);
  if ((t = json_object_get(j, "plugin")))
    return fail(c, "auth.plugin", "not supported yet (use phoenix_token, rpc "
                                  "or \"none\")");
  if (!(t = json_object_get(j, "phoenix_token")))
    return fail(c, "auth", "unknown method (known: phoenix_token, rpc, "
                           "plugin, \"none\")");
  if (!json_is_object(t))
    return fail(c, "auth.phoenix_token", "expected an object, got %s",
                type_name(t));
  json_object_foreach(t, k, v) {
    int known = 0;
    for (size_t i = 0; i < 3; i++) known |= !strcmp(k, tkeys[i]);
    if (!known) {
      char p[96];
      snprintf(p, sizeof p, "auth.phoenix_token.%.60s", k);
      return fail(c, p, "unknown key");
    }
  }
  o->auth = PGA_EP_AUTH_PHOENIX_TOKEN;
  static const char *const req[] = {"secret_key_base", "salt"};
  char **dst[] = {&o->secret_key_base, &o->salt};
  for (size_t i = 0; i < 2; i++) {
    char p[64];
    snprintf(p, sizeof p, "auth.phoenix_token.%s", req[i]);
    int rc = get_string(c, p, json_object_get(t, req[i]), dst[i]);
    if (rc < 0) return -1;
    if (rc > 0) return fail(c, p, "required");
  }
  if (get_int(c, "auth.phoenix_token.max_age", json_object_get(t, "max_age"),
              1, 315360000, &age) < 0)
    return -1;
  o->max_age_s = age;
  return 0;
}

static int origins(ctx_t *c, json_t *j, pga_endpoint_opts_t *o) {
  if (!j || json_is_null(j) || json_is_false(j)) return 0;
  if (!json_is_array(j))
    return fail(c, "check_origin", "expected false or an array of origins, "
                                   "got %s", type_name(j));
  o->check_origin = 1;
  if (strings(c, "check_origin", j, &o->origins, &o->norigins) != 0) return -1;
  for (size_t i = 0; i < o->norigins; i++)
    if (!strstr(o->origins[i], "//")) {
      char p[48];
      snprintf(p, sizeof p, "check_origin[%zu]", i);
      return fail(c, p, "expected \"scheme://host[:port]\" or \"//host\"");
    }
  return 0;
}

/* certfile and keyfile: both or neither; loaded once here so that a bad
 * file stops start-up naming its key. */
static int tls(ctx_t *c, json_t *root, pga_endpoint_opts_t *o) {
  int rc1 = get_string(c, "certfile", json_object_get(root, "certfile"),
                       &o->certfile);
  if (rc1 < 0) return -1;
  int rc2 = get_string(c, "keyfile", json_object_get(root, "keyfile"),
                       &o->keyfile);
  if (rc2 < 0) return -1;
  if (!o->certfile != !o->keyfile)
    return fail(c, o->certfile ? "keyfile" : "certfile",
                "required with %s (wss needs both)",
                o->certfile ? "certfile" : "keyfile");
  if (o->certfile &&
      pga_endpoint_tls_check(o->certfile, o->keyfile, c->err, c->errlen) != 0)
    return -1;
  return 0;
}

static int numbers(ctx_t *c, json_t *r, pga_endpoint_opts_t *o) {
  long long v;
  int rc;
#define NUM(key, min, max, field)                                         \
  if ((rc = get_int(c, key, json_object_get(r, key), min, max, &v)) < 0) \
    return -1;                                                            \
  if (rc == 0) o->field = (__typeof__(o->field))v;
  NUM("max_frame_bytes", 1024, 67108864, max_frame_bytes)
  NUM("heartbeat_timeout_ms", 100, 86400000, heartbeat_timeout_ms)
  NUM("max_connections", 1, 10000000, max_connections)
  NUM("max_channels", 1, 100000, max_channels)
  NUM("max_out_bytes", 65536, 1073741824, max_out_bytes)
#undef NUM
  if (get_bool(c, "override_user_id", json_object_get(r, "override_user_id"),
               &o->override_user_id) < 0 ||
      get_bool(c, "require_verified_user_id",
               json_object_get(r, "require_verified_user_id"),
               &o->require_verified_user_id) < 0)
    return -1;
  return 0;
}

static int keys_known(ctx_t *c, json_t *r) {
  static const char *const keys[] = {
      "listen", "path", "topics", "event", "auth", "check_origin",
      "certfile", "keyfile", "max_frame_bytes", "heartbeat_timeout_ms",
      "override_user_id", "require_verified_user_id", "max_connections",
      "max_channels", "max_out_bytes", NULL};
  const char *k;
  json_t *v;
  json_object_foreach(r, k, v) {
    int known = 0;
    for (size_t i = 0; keys[i] && !known; i++) known = !strcmp(k, keys[i]);
    if (!known) {
      char p[80];
      snprintf(p, sizeof p, "%.70s", k);
      return fail(c, p, "unknown key");
    }
  }
  return 0;
}

int pga_endpoint_conf_read(const char *json, pga_endpoint_opts_t *o,
                           char *err, size_t errlen) {
  ctx_t c = {err, errlen};
  json_error_t je;
  int rc = -1;
  json_t *r = json_loads(json, 0, &je);
  if (!r) {
    snprintf(err, errlen, "endpoint: %s", je.text);
    return -1;
  }
  if (keys_known(&c, r) == 0 && listen_addr(&c, json_object_get(r, "listen"), o) == 0 &&
      get_string(&c, "path", json_object_get(r, "path"), &o->path) >= 0 &&
      get_string(&c, "event", json_object_get(r, "event"), &o->event) >= 0 &&
      topics(&c, json_object_get(r, "topics"), o) == 0 &&
      auth(&c, json_object_get(r, "auth"), o) == 0 &&
      origins(&c, json_object_get(r, "check_origin"), o) == 0 &&
      tls(&c, r, o) == 0 && numbers(&c, r, o) == 0)
    rc = 0;
  if (rc == 0 && o->path && o->path[0] != '/')
    rc = fail(&c, "path", "expected a path starting with \"/\"");
  if (rc == 0 && o->ntopics == 0)
    rc = fail(&c, "topics", "required: at least one topic clients may join");
  json_decref(r);
  return rc;
}
