/* pga-node's configuration file: JSON read with jansson, checked key by
 * key against the library's settings (see file.h), turned into the config
 * plane's options and the stored request/ops settings.
 *
 * Terms from JSON (service_configs values, where the library takes any
 * term; docs/compat.md C23): a string is a binary, an integer an integer,
 * a real a float, true/false/null the atoms, an array a list,
 * {"atom": "text"} an atom, {"tuple": [...]} a tuple, any other object a
 * map with binary keys. The file is hostile input too: at most
 * PGA_CONFFILE_MAX_BYTES, duplicate keys refused, nesting bounded. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/file.h"
#include "pga/errno.h"
#include "term/term.h"

#define MAX_DEPTH 64
/* max_term_bytes: the range of pga-node's --max-term-bytes. */
#define MAX_TERM_MIN (64LL * 1024)
#define MAX_TERM_MAX (512LL * 1024 * 1024)
#define INT_MAX_MS 2147483647LL

typedef struct ctx_s {
  pga_conffile_t *cf;
  const char *name;
  char *err;
  size_t errlen;
} ctx_t;

static int fail(ctx_t *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(ctx_t *c, const char *path, const char *fmt, ...) {
  char msg[384];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(c->err, c->errlen, "%s: %s: %s", c->name, path, msg);
  return -1;
}

static void warn(ctx_t *c, const char *path, const char *msg) {
  pga_conffile_t *cf = c->cf;
  size_t old = cf->warnings ? strlen(cf->warnings) : 0;
  size_t add = strlen(c->name) + strlen(path) + strlen(msg) + 6;
  char *w = realloc(cf->warnings, old + add);
  if (!w) return; /* advice only */
  snprintf(w + old, add, "%s: %s: %s\n", c->name, path, msg);
  cf->warnings = w;
}

static const char *type_name(const json_t *j) {
  switch (json_typeof(j)) {
  case JSON_OBJECT: return "an object";
  case JSON_ARRAY: return "an array";
  case JSON_STRING: return "a string";
  case JSON_INTEGER: return "an integer";
  case JSON_REAL: return "a real number";
  case JSON_TRUE:
  case JSON_FALSE: return "a boolean";
  default: return "null";
  }
}

/* Key paths for messages; a path too long for its buffer is cut. */
static void pathf(char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void pathf(char *out, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out, n, fmt, ap);
  va_end(ap);
}

/* "parent.key" or "key". */
static void join(char *out, size_t n, const char *parent, const char *key) {
  if (parent && *parent)
    pathf(out, n, "%s.%s", parent, key);
  else
    pathf(out, n, "%s", key);
}

/* Hints for keys people put in the wrong place. */
static const char *hint_for(const char *path) {
  static const struct {
    const char *path, *hint;
  } hints[] = {
      {"gen_api.detail_error",
       " (the library reads detail_error at the top level, not under "
       "gen_api)"},
      {"gen_api.push_token", " (push_token is a top-level key)"},
      {"rate_limits", " (did you mean rate_limiter?)"},
      {"worker_pools", " (did you mean worker_pool?)"},
  };
  for (size_t i = 0; i < sizeof hints / sizeof *hints; i++)
    if (!strcmp(path, hints[i].path)) return hints[i].hint;
  return "";
}

/* Every key of obj must be in allowed (NULL-terminated). */
static int only_keys(ctx_t *c, const char *path, const json_t *obj,
                     const char *const *allowed) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)obj, k, v) {
    int known = 0;
    for (size_t i = 0; allowed[i] && !known; i++) known = !strcmp(k, allowed[i]);
    if (!known) {
      char p[256];
      join(p, sizeof p, path, k);
      return fail(c, p, "unknown key%s", hint_for(p));
    }
  }
  return 0;
}

/* 1: null or absent (keep the default); 0: *out set; -1: error. */
static int get_int(ctx_t *c, const char *path, const json_t *j,
                   long long min, long long max, long long *out) {
  if (!j || json_is_null(j)) return 1;
  if (!json_is_integer(j))
    return fail(c, path, "expected an integer %lld..%lld, got %s", min, max,
                type_name(j));
  long long v = json_integer_value(j);
  if (v < min || v > max)
    return fail(c, path, "expected an integer %lld..%lld, got %lld", min,
                max, v);
  *out = v;
  return 0;
}

static int get_uint(ctx_t *c, const char *path, const json_t *j,
                    long long min, long long max, unsigned *out) {
  long long v;
  int rc = get_int(c, path, j, min, max, &v);
  if (rc == 0) *out = (unsigned)v;
  return rc < 0 ? -1 : 0;
}

static int get_size(ctx_t *c, const char *path, const json_t *j,
                    long long min, long long max, size_t *out) {
  long long v;
  int rc = get_int(c, path, j, min, max, &v);
  if (rc == 0) *out = (size_t)v;
  return rc < 0 ? -1 : 0;
}

static int get_bool(ctx_t *c, const char *path, const json_t *j, int *out) {
  if (!j || json_is_null(j)) return 0;
  if (!json_is_boolean(j))
    return fail(c, path, "expected true or false, got %s", type_name(j));
  *out = json_is_true(j);
  return 0;
}

/* An object or null/absent (*obj NULL). */
static int get_object(ctx_t *c, const char *path, json_t *j, json_t **obj) {
  *obj = NULL;
  if (!j || json_is_null(j)) return 0;
  if (!json_is_object(j))
    return fail(c, path, "expected an object, got %s", type_name(j));
  *obj = j;
  return 0;
}

/* UTF-8 characters in s (jansson strings are valid UTF-8). */
static size_t utf8_chars(const char *s, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) k += ((unsigned char)s[i] & 0xC0) != 0x80;
  return k;
}

/* An atom from a JSON string: at most 255 characters, no NUL. */
static int put_atom(ctx_t *c, const char *path, pga_tb_t *tb,
                    const json_t *j) {
  if (!json_is_string(j))
    return fail(c, path, "expected a string (an atom's text), got %s",
                type_name(j));
  const char *s = json_string_value(j);
  size_t n = json_string_length(j);
  if (n == 0 || memchr(s, 0, n) || utf8_chars(s, n) > 255)
    return fail(c, path, "not an atom: must be 1..255 characters, no NUL");
  pga_tb_atom_len(tb, s, n);
  return 0;
}

/* ---- JSON -> term (C23) ---- */

static int put_term(ctx_t *c, const char *path, pga_tb_t *tb, json_t *j,
                    int depth);

static int put_list(ctx_t *c, const char *path, pga_tb_t *tb, json_t *arr,
                    int depth) {
  size_t i;
  json_t *v;
  pga_tb_list(tb, json_array_size(arr));
  json_array_foreach(arr, i, v) {
    char p[256];
    pathf(p, sizeof p, "%s[%zu]", path, i);
    if (put_term(c, p, tb, v, depth + 1) != 0) return -1;
  }
  if (json_array_size(arr)) pga_tb_nil(tb);
  return 0;
}

static int put_term(ctx_t *c, const char *path, pga_tb_t *tb, json_t *j,
                    int depth) {
  if (depth > MAX_DEPTH) return fail(c, path, "nested too deeply");
  switch (json_typeof(j)) {
  case JSON_NULL: pga_tb_atom(tb, "nil"); return 0;
  case JSON_TRUE: pga_tb_atom(tb, "true"); return 0;
  case JSON_FALSE: pga_tb_atom(tb, "false"); return 0;
  case JSON_INTEGER: pga_tb_int(tb, json_integer_value(j)); return 0;
  case JSON_REAL: pga_tb_double(tb, json_real_value(j)); return 0;
  case JSON_STRING:
    pga_tb_binary(tb, json_string_value(j), json_string_length(j));
    return 0;
  case JSON_ARRAY: return put_list(c, path, tb, j, depth);
  case JSON_OBJECT: break;
  }
  json_t *one;
  if (json_object_size(j) == 1 && (one = json_object_get(j, "atom"))) {
    char p[256];
    join(p, sizeof p, path, "atom");
    return put_atom(c, p, tb, one);
  }
  if (json_object_size(j) == 1 && (one = json_object_get(j, "tuple"))) {
    char p[256];
    join(p, sizeof p, path, "tuple");
    if (!json_is_array(one))
      return fail(c, p, "expected an array, got %s", type_name(one));
    size_t i;
    json_t *v;
    pga_tb_tuple(tb, json_array_size(one));
    json_array_foreach(one, i, v) {
      char q[256];
      pathf(q, sizeof q, "%s[%zu]", p, i);
      if (put_term(c, q, tb, v, depth + 1) != 0) return -1;
    }
    return 0;
  }
  const char *k;
  json_t *v;
  pga_tb_map(tb, json_object_size(j));
  json_object_foreach(j, k, v) {
    char p[256];
    join(p, sizeof p, path, k);
    pga_tb_string(tb, k);
    if (put_term(c, p, tb, v, depth + 1) != 0) return -1;
  }
  return 0;
}

/* ---- sections ---- */

static const char *const sc_keys[] = {
    "service", "nodes", "module", "function", "args",
    "version_module", "version_function", "version_args", NULL};

/* Advice on strings where the puller wants atoms (§5.3, §1.6). */
static void advise_service_config(ctx_t *c, const char *path, json_t *obj) {
  char p[256];
  json_t *nodes = json_object_get(obj, "nodes"), *v;
  size_t i;
  if (json_is_array(nodes))
    json_array_foreach(nodes, i, v) if (json_is_string(v)) {
      pathf(p, sizeof p, "%s.nodes[%zu]", path, i);
      warn(c, p, "a string is a binary node name, which the puller drops "
                 "(spec 5.3): write {\"atom\": \"name@host\"}");
    }
  static const char *const atoms[] = {"module", "function", "version_module",
                                      "version_function"};
  for (size_t k = 0; k < 4; k++)
    if (json_is_string(json_object_get(obj, atoms[k]))) {
      join(p, sizeof p, path, atoms[k]);
      warn(c, p, k < 2 ? "a string is a binary, not a module or function: "
                         "pulls fail; write {\"atom\": \"...\"}"
                       : "a string is a binary: the version probe is "
                         "disabled; write {\"atom\": \"...\"}");
    }
}

static int service_configs(ctx_t *c, const char *path, json_t *arr) {
  pga_conffile_t *cf = c->cf;
  if (!arr || json_is_null(arr)) return 0;
  if (!json_is_array(arr))
    return fail(c, path, "expected an array of objects, got %s",
                type_name(arr));
  cf->service_configs = pga_tb_new(0);
  if (!cf->service_configs) return fail(c, path, "out of memory");
  pga_tb_t *tb = cf->service_configs;
  size_t i;
  json_t *obj;
  pga_tb_list(tb, json_array_size(arr));
  json_array_foreach(arr, i, obj) {
    char p[256];
    pathf(p, sizeof p, "%s[%zu]", path, i);
    if (!json_is_object(obj))
      return fail(c, p, "expected an object (a ServiceConfig), got %s",
                  type_name(obj));
    if (only_keys(c, p, obj, sc_keys) != 0) return -1;
    advise_service_config(c, p, obj);
    const char *k;
    json_t *v;
    pga_tb_map(tb, json_object_size(obj));
    json_object_foreach(obj, k, v) {
      char q[256];
      join(q, sizeof q, p, k);
      pga_tb_atom(tb, k);
      if (put_term(c, q, tb, v, 1) != 0) return -1;
    }
  }
  if (json_array_size(arr)) pga_tb_nil(tb);
  if (pga_tb_error(tb)) return fail(c, path, "too large");
  pga_term_t t = pga_tb_data(tb);
  cf->config.service_configs = t.buf;
  cf->config.service_configs_len = t.len;
  return 0;
}

static int gen_api(ctx_t *c, json_t *root) {
  static const char *const keys[] = {"pull_timeout", "pull_interval",
                                     "service_configs", NULL};
  json_t *g;
  if (get_object(c, "gen_api", json_object_get(root, "gen_api"), &g) != 0)
    return -1;
  if (g && only_keys(c, "gen_api", g, keys) != 0) return -1;
  /* The three keys may also sit at the top level (C22), once. */
  json_t *v[3];
  char path[3][64];
  for (size_t i = 0; i < 3; i++) {
    json_t *in = g ? json_object_get(g, keys[i]) : NULL;
    json_t *top = json_object_get(root, keys[i]);
    if (in && top)
      return fail(c, keys[i], "given both at the top level and in gen_api");
    v[i] = in ? in : top;
    join(path[i], sizeof path[i], in ? "gen_api" : "", keys[i]);
  }
  long long t;
  int rc = get_int(c, path[0], v[0], 0, INT_MAX_MS, &t);
  if (rc < 0) return -1;
  if (rc == 0) {
    /* §8: 0 is used as is (C18). */
    c->cf->config.pull_timeout_ms = (unsigned)t;
    if (t == 0) c->cf->config.flags |= PGA_CONFIG_F_PULL_TIMEOUT_ZERO;
  }
  if (get_uint(c, path[1], v[1], 1, INT_MAX_MS,
               &c->cf->config.pull_interval_ms) != 0)
    return -1;
  return service_configs(c, path[2], v[2]);
}

static int push_token(ctx_t *c, json_t *j) {
  if (!j || json_is_null(j)) return 0;
  if (!json_is_string(j))
    return fail(c, "push_token", "expected a string or null, got %s",
                type_name(j));
  size_t n = json_string_length(j);
  if (n > 4096) return fail(c, "push_token", "longer than 4096 bytes");
  c->cf->push_token = malloc(n + 1);
  if (!c->cf->push_token) return fail(c, "push_token", "out of memory");
  memcpy(c->cf->push_token, json_string_value(j), n + 1);
  c->cf->config.push_token = c->cf->push_token;
  c->cf->config.push_token_len = n;
  return 0;
}

/* Entries: "Module" -> the module atom; ["Module", "fun"] -> {m, f}
 * (§2.3). Atom texts are exact: Elixir modules carry "Elixir." (C24). */
static int mfa_allowlist(ctx_t *c, json_t *arr) {
  if (!arr || json_is_null(arr)) return 0;
  if (!json_is_array(arr))
    return fail(c, "mfa_allowlist", "expected an array or null, got %s",
                type_name(arr));
  pga_tb_t *tb = c->cf->allowlist = pga_tb_new(0);
  if (!tb) return fail(c, "mfa_allowlist", "out of memory");
  size_t i;
  json_t *v;
  pga_tb_list(tb, json_array_size(arr));
  json_array_foreach(arr, i, v) {
    char p[64];
    pathf(p, sizeof p, "mfa_allowlist[%zu]", i);
    if (json_is_string(v)) {
      if (put_atom(c, p, tb, v) != 0) return -1;
      const char *s = json_string_value(v);
      if (s[0] >= 'A' && s[0] <= 'Z' && strncmp(s, "Elixir.", 7) != 0)
        warn(c, p, "an Elixir module's atom starts with \"Elixir.\" "
                   "(write \"Elixir.MyApp.Api\" for MyApp.Api)");
    } else if (json_is_array(v) && json_array_size(v) == 2) {
      pga_tb_tuple(tb, 2);
      if (put_atom(c, p, tb, json_array_get(v, 0)) != 0 ||
          put_atom(c, p, tb, json_array_get(v, 1)) != 0)
        return -1;
    } else {
      return fail(c, p, "expected a module name or [module, function], "
                        "got %s", type_name(v));
    }
  }
  if (json_array_size(arr)) pga_tb_nil(tb);
  if (pga_tb_error(tb)) return fail(c, "mfa_allowlist", "too large");
  pga_term_t t = pga_tb_data(tb);
  c->cf->config.mfa_allowlist = t.buf;
  c->cf->config.mfa_allowlist_len = t.len;
  return 0;
}

static int admin_actions(ctx_t *c, json_t *arr) {
  static const struct {
    const char *name;
    unsigned bit;
  } known[] = {{"change_detail_error", PGA_ADMIN_CHANGE_DETAIL_ERROR},
               {"update_rate_limit_config", PGA_ADMIN_UPDATE_RATE_LIMIT_CONFIG},
               {"push_config", PGA_ADMIN_PUSH_CONFIG},
               {"enable_tracing", PGA_ADMIN_ENABLE_TRACING},
               {"disable_tracing", PGA_ADMIN_DISABLE_TRACING}};
  if (!arr || json_is_null(arr)) return 0;
  if (!json_is_array(arr))
    return fail(c, "admin_actions", "expected an array of action names, "
                                    "got %s", type_name(arr));
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) {
    char p[64];
    size_t k = 0;
    pathf(p, sizeof p, "admin_actions[%zu]", i);
    if (!json_is_string(v))
      return fail(c, p, "expected an action name, got %s", type_name(v));
    while (k < 5 && strcmp(json_string_value(v), known[k].name)) k++;
    if (k == 5)
      return fail(c, p, "unknown action \"%s\" (known: change_detail_error, "
                        "update_rate_limit_config, push_config, "
                        "enable_tracing, disable_tracing)",
                  json_string_value(v));
    c->cf->admin_actions |= known[k].bit;
  }
  return 0;
}

/* A limit's key: "user_id", "device_id", "ip_address" are the library's
 * atoms; any other string is an argument name (a binary) (request-plane
 * §7.2; C25). */
static int limit_list(ctx_t *c, const char *path, json_t *arr, int api,
                      pga_tb_t **out) {
  static const char *const gkeys[] = {"key", "max_requests", "window_ms",
                                      NULL};
  static const char *const akeys[] = {"service", "request_type", "key",
                                      "max_requests", "window_ms", NULL};
  if (!arr || json_is_null(arr)) return 0;
  if (!json_is_array(arr))
    return fail(c, path, "expected an array of objects, got %s",
                type_name(arr));
  pga_tb_t *tb = *out = pga_tb_new(0);
  if (!tb) return fail(c, path, "out of memory");
  size_t i;
  json_t *o;
  pga_tb_list(tb, json_array_size(arr));
  json_array_foreach(arr, i, o) {
    char p[128], q[160];
    pathf(p, sizeof p, "%s[%zu]", path, i);
    if (!json_is_object(o))
      return fail(c, p, "expected an object, got %s", type_name(o));
    if (only_keys(c, p, o, api ? akeys : gkeys) != 0) return -1;
    pga_tb_map(tb, api ? 5 : 3);
    for (size_t k = api ? 0 : 2; k < 5; k++) {
      const char *name = akeys[k];
      json_t *v = json_object_get(o, name);
      join(q, sizeof q, p, name);
      if (!v) return fail(c, q, "missing");
      pga_tb_atom(tb, name);
      if (k < 3) {
        if (!json_is_string(v))
          return fail(c, q, "expected a string, got %s", type_name(v));
        const char *s = json_string_value(v);
        if (k == 2 && (!strcmp(s, "user_id") || !strcmp(s, "device_id") ||
                       !strcmp(s, "ip_address")))
          pga_tb_atom(tb, s);
        else
          pga_tb_binary(tb, s, json_string_length(v));
      } else {
        long long n;
        int rc = get_int(c, q, v, k == 3 ? 0 : 1, INT_MAX_MS, &n);
        if (rc < 0) return -1;
        if (rc > 0) return fail(c, q, "expected an integer, got null");
        pga_tb_int(tb, n);
      }
    }
  }
  if (json_array_size(arr)) pga_tb_nil(tb);
  if (pga_tb_error(tb)) return fail(c, path, "too large");
  return 0;
}

static int rate_limiter(ctx_t *c, json_t *root) {
  static const char *const keys[] = {
      "enabled", "fail_open", "timeout", "global_limits", "api_limits",
      "cleanup_interval", "instance_count", "routing_strategy", NULL};
  json_t *o;
  if (get_object(c, "rate_limiter", json_object_get(root, "rate_limiter"),
                 &o) != 0)
    return -1;
  if (!o) return 0;
  if (only_keys(c, "rate_limiter", o, keys) != 0) return -1;
  pga_conffile_t *cf = c->cf;
  json_t *rs = json_object_get(o, "routing_strategy");
  if (rs && !json_is_null(rs)) {
    if (!json_is_string(rs) || (strcmp(json_string_value(rs), "hash") &&
                                strcmp(json_string_value(rs), "random")))
      return fail(c, "rate_limiter.routing_strategy",
                  "expected \"hash\" or \"random\"");
    cf->rate_limiter.routing_random = !strcmp(json_string_value(rs), "random");
  }
  if (get_bool(c, "rate_limiter.enabled", json_object_get(o, "enabled"),
               &cf->rate_limiter.enabled) != 0 ||
      get_bool(c, "rate_limiter.fail_open", json_object_get(o, "fail_open"),
               &cf->rate_limiter.fail_open) != 0 ||
      get_uint(c, "rate_limiter.timeout", json_object_get(o, "timeout"), 1,
               INT_MAX_MS, &cf->rate_limiter.timeout_ms) != 0 ||
      get_uint(c, "rate_limiter.cleanup_interval",
               json_object_get(o, "cleanup_interval"), 1, INT_MAX_MS,
               &cf->rate_limiter.cleanup_interval_ms) != 0 ||
      get_uint(c, "rate_limiter.instance_count",
               json_object_get(o, "instance_count"), 1, 1024,
               &cf->rate_limiter.instance_count) != 0)
    return -1;
  if (limit_list(c, "rate_limiter.global_limits",
                 json_object_get(o, "global_limits"), 0,
                 &cf->rate_limiter.global_limits) != 0)
    return -1;
  return limit_list(c, "rate_limiter.api_limits",
                    json_object_get(o, "api_limits"), 1,
                    &cf->rate_limiter.api_limits);
}

/* "dist": the same rules as pga-node's --dist-* options. */
static int dist_ports(ctx_t *c, json_t *o) {
  unsigned *min = &c->cf->dist.port_min, *max = &c->cf->dist.port_max;
  if (get_uint(c, "dist.port_min", json_object_get(o, "port_min"), 1, 65535,
               min) != 0 ||
      get_uint(c, "dist.port_max", json_object_get(o, "port_max"), 1, 65535,
               max) != 0 ||
      get_uint(c, "dist.port", json_object_get(o, "port"), 1, 65535,
               &c->cf->dist.port) != 0)
    return -1;
  if (c->cf->dist.port && (*min || *max))
    return fail(c, "dist.port", "a port without epmd cannot be combined with "
                                "port_min/port_max");
  if (*max && !*min) return fail(c, "dist.port_max", "needs port_min");
  if (*max && *max < *min)
    return fail(c, "dist.port_max", "%u is below port_min %u", *max, *min);
  return 0;
}

static int dist(ctx_t *c, json_t *root) {
  static const char *const keys[] = {"interface", "port_min", "port_max",
                                     "port", "proto", "ssl",
                                     "ssl_dist_optfile", NULL};
  json_t *o, *iface;
  unsigned char addr[sizeof(struct in6_addr)];
  if (get_object(c, "dist", json_object_get(root, "dist"), &o) != 0)
    return -1;
  if (!o) return 0;
  if (only_keys(c, "dist", o, keys) != 0 || dist_ports(c, o) != 0 ||
      pga__conffile_dist(c->cf, c->name, o, c->err, c->errlen) != 0)
    return -1;
  iface = json_object_get(o, "interface");
  if (!iface || json_is_null(iface)) return 0;
  if (!json_is_string(iface) ||
      (inet_pton(AF_INET, json_string_value(iface), addr) != 1 &&
       inet_pton(AF_INET6, json_string_value(iface), addr) != 1))
    return fail(c, "dist.interface", "expected an IPv4 or IPv6 address");
  if (!(c->cf->dist.interface = strdup(json_string_value(iface))))
    return fail(c, "dist.interface", "out of memory");
  return 0;
}

static int worker_pool(ctx_t *c, json_t *root) {
  static const char *const keys[] = {
      "async_pool_size", "stream_pool_size", "max_queue_size",
      "circuit_breaker_threshold", "circuit_breaker_cooldown", NULL};
  json_t *o;
  if (get_object(c, "worker_pool", json_object_get(root, "worker_pool"),
                 &o) != 0)
    return -1;
  if (!o) return 0;
  if (only_keys(c, "worker_pool", o, keys) != 0) return -1;
  unsigned *dst[] = {&c->cf->worker_pool.async_pool_size,
                     &c->cf->worker_pool.stream_pool_size,
                     &c->cf->worker_pool.max_queue_size,
                     &c->cf->worker_pool.circuit_breaker_threshold,
                     &c->cf->worker_pool.circuit_breaker_cooldown_ms};
  for (size_t i = 0; i < 5; i++) {
    char p[64];
    join(p, sizeof p, "worker_pool", keys[i]);
    if (get_uint(c, p, json_object_get(o, keys[i]), i == 4 ? 0 : 1,
                 i < 2 ? 1000000 : INT_MAX_MS, dst[i]) != 0)
      return -1;
  }
  return 0;
}

static int request_and_args(ctx_t *c, json_t *root) {
  static const char *const rkeys[] = {"max_payload_bytes", NULL};
  static const char *const akeys[] = {"string_max_bytes", "list_max_items",
                                      "map_max_items", NULL};
  json_t *r, *a;
  if (get_object(c, "request", json_object_get(root, "request"), &r) != 0 ||
      get_object(c, "argument_handler",
                 json_object_get(root, "argument_handler"), &a) != 0)
    return -1;
  if (r && (only_keys(c, "request", r, rkeys) != 0 ||
            get_size(c, "request.max_payload_bytes",
                     json_object_get(r, "max_payload_bytes"), 1,
                     INT_MAX_MS, &c->cf->max_payload_bytes) != 0))
    return -1;
  if (!a) return 0;
  if (only_keys(c, "argument_handler", a, akeys) != 0) return -1;
  size_t *dst[] = {&c->cf->argument_handler.string_max_bytes,
                   &c->cf->argument_handler.list_max_items,
                   &c->cf->argument_handler.map_max_items};
  for (size_t i = 0; i < 3; i++) {
    char p[64];
    join(p, sizeof p, "argument_handler", akeys[i]);
    if (get_size(c, p, json_object_get(a, akeys[i]), 0, INT_MAX_MS,
                 dst[i]) != 0)
      return -1;
  }
  return 0;
}

/* One option of config_pusher as {key, value} into the keyword list. */
static int pusher_opt(ctx_t *c, pga_tb_t *kw, const char *key, json_t *v) {
  char p[64];
  long long n = 0;
  pathf(p, sizeof p, "config_pusher.%s", key);
  pga_tb_tuple(kw, 2);
  pga_tb_atom(kw, key);
  if (!strcmp(key, "force")) {
    if (!json_is_boolean(v))
      return fail(c, p, "expected true or false, got %s", type_name(v));
    pga_tb_bool(kw, json_is_true(v));
  } else if (!strcmp(key, "service") || !strcmp(key, "config_version")) {
    if (!json_is_string(v) || json_string_length(v) == 0)
      return fail(c, p, "expected a non-empty string, got %s", type_name(v));
    pga_tb_binary(kw, json_string_value(v), json_string_length(v));
  } else {
    long long max = !strcmp(key, "retries") ? 100 : INT_MAX_MS;
    int rc = get_int(c, p, v, !strcmp(key, "retries") ? 0 : 1, max, &n);
    if (rc != 0)
      return rc < 0 ? -1 : fail(c, p, "expected an integer, got null");
    pga_tb_int(kw, n);
  }
  return 0;
}

/* "config_pusher": {"gateways": [...], "push_on_startup": true, "force",
 * "timeout", "retries", "backoff", "max_backoff", "service",
 * "config_version"} (docs/compat.md P13). */
static int config_pusher(ctx_t *c, json_t *j) {
  static const char *const keys[] = {
      "gateways", "push_on_startup", "force", "timeout", "retries",
      "backoff", "max_backoff", "service", "config_version", NULL};
  json_t *o, *gws, *v;
  if (get_object(c, "config_pusher", j, &o) != 0) return -1;
  if (!o) return 0;
  if (only_keys(c, "config_pusher", o, keys) != 0) return -1;
  gws = json_object_get(o, "gateways");
  if (!json_is_array(gws) || json_array_size(gws) == 0 ||
      json_array_size(gws) > 64)
    return fail(c, "config_pusher.gateways",
                "expected an array of 1..64 node names");
  pga_conffile_t *cf = c->cf;
  cf->pusher_gateways = pga_tb_new(0);
  cf->pusher_opts = pga_tb_new(0);
  if (!cf->pusher_gateways || !cf->pusher_opts)
    return fail(c, "config_pusher", "out of memory");
  size_t i;
  pga_tb_list_head(cf->pusher_gateways, json_array_size(gws));
  json_array_foreach(gws, i, v) {
    char p[64];
    pathf(p, sizeof p, "config_pusher.gateways[%zu]", i);
    if (put_atom(c, p, cf->pusher_gateways, v) != 0) return -1;
  }
  pga_tb_nil(cf->pusher_gateways);
  if (get_bool(c, "config_pusher.push_on_startup",
               json_object_get(o, "push_on_startup"),
               &cf->push_on_startup) != 0)
    return -1;
  /* The push carries our own push_token, as the library's pusher does. */
  size_t nopts = json_object_size(o) - 1 -
                 (json_object_get(o, "push_on_startup") != NULL) +
                 (cf->push_token != NULL);
  pga_tb_list(cf->pusher_opts, nopts);
  if (cf->push_token) {
    pga_tb_tuple(cf->pusher_opts, 2);
    pga_tb_atom(cf->pusher_opts, "push_token");
    pga_tb_binary(cf->pusher_opts, cf->push_token, strlen(cf->push_token));
  }
  const char *k;
  json_object_foreach(o, k, v) {
    if (strcmp(k, "gateways") && strcmp(k, "push_on_startup") &&
        pusher_opt(c, cf->pusher_opts, k, v) != 0)
      return -1;
  }
  if (nopts) pga_tb_nil(cf->pusher_opts);
  return 0;
}

static int top(ctx_t *c, json_t *root) {
  static const char *const keys[] = {
      "gen_api", "push_token", "mfa_allowlist", "detail_error",
      "admin_actions", "client_mode", "rate_limiter", "worker_pool",
      "request", "argument_handler", "config_pusher", "dist", "endpoint",
      "local_services", "max_term_bytes",
      /* gen_api's keys may also sit here (C22) */
      "pull_timeout", "pull_interval", "service_configs", NULL};
  if (!json_is_object(root))
    return fail(c, "(top level)", "expected an object, got %s",
                type_name(root));
  if (only_keys(c, "", root, keys) != 0) return -1;
  int client_mode = 0;
  if (get_bool(c, "client_mode", json_object_get(root, "client_mode"),
               &client_mode) != 0)
    return -1;
  if (client_mode)
    return fail(c, "client_mode", "true is not supported: pga-node always "
                                  "runs the gateway (spec 8)");
  if (gen_api(c, root) != 0 ||
      push_token(c, json_object_get(root, "push_token")) != 0 ||
      mfa_allowlist(c, json_object_get(root, "mfa_allowlist")) != 0 ||
      get_bool(c, "detail_error", json_object_get(root, "detail_error"),
               &c->cf->detail_error) != 0 ||
      admin_actions(c, json_object_get(root, "admin_actions")) != 0 ||
      rate_limiter(c, root) != 0 || worker_pool(c, root) != 0 ||
      request_and_args(c, root) != 0 ||
      get_size(c, "max_term_bytes", json_object_get(root, "max_term_bytes"),
               MAX_TERM_MIN, MAX_TERM_MAX, &c->cf->max_term_bytes) != 0 ||
      config_pusher(c, json_object_get(root, "config_pusher")) != 0 ||
      dist(c, root) != 0 ||
      get_bool(c, "local_services", json_object_get(root, "local_services"),
               &c->cf->local_services) != 0)
    return -1;
  json_t *ep = json_object_get(root, "endpoint");
  if (ep && !json_is_null(ep)) { /* read by pga-node (endpoint_conf.c) */
    if (!json_is_object(ep))
      return fail(c, "endpoint", "expected an object, got %s", type_name(ep));
    if (!(c->cf->endpoint_json = json_dumps(ep, JSON_COMPACT)))
      return fail(c, "endpoint", "out of memory");
  }
  return 0;
}

/* ---- entry points ---- */

void pga_conffile_init(pga_conffile_t *cf) {
  memset(cf, 0, sizeof *cf);
  cf->config.struct_version = PGA_CONFIG_OPTS_VERSION;
  cf->config.pull_interval_ms = 30000;
  cf->config.pull_timeout_ms = 5000;
  cf->rate_limiter.enabled = 1;
  cf->rate_limiter.fail_open = 1;
  cf->rate_limiter.timeout_ms = 1000;
  cf->rate_limiter.cleanup_interval_ms = 60000;
  cf->worker_pool.async_pool_size = 1000;
  cf->worker_pool.stream_pool_size = 500;
  cf->worker_pool.max_queue_size = 10000;
  cf->worker_pool.circuit_breaker_threshold = 5;
  cf->worker_pool.circuit_breaker_cooldown_ms = 60000;
  cf->max_payload_bytes = 1000000;
  cf->push_on_startup = 1;
  cf->local_services = 1;
  cf->argument_handler.string_max_bytes = 3000;
  cf->argument_handler.list_max_items = 1000;
  cf->argument_handler.map_max_items = 1000;
  pga_tls_conf_init(&cf->dist.ssl);
}

void pga_conffile_free(pga_conffile_t *cf) {
  if (!cf) return;
  pga_tb_free(cf->rate_limiter.global_limits);
  pga_tb_free(cf->rate_limiter.api_limits);
  pga_tb_free(cf->allowlist);
  pga_tb_free(cf->service_configs);
  pga_tb_free(cf->pusher_gateways);
  pga_tb_free(cf->pusher_opts);
  free(cf->push_token);
  free(cf->dist.interface);
  free(cf->endpoint_json);
  free(cf->warnings);
  free(cf->dist.optfile);
  pga_tls_conf_free(&cf->dist.ssl);
  pga_conffile_init(cf);
}

int pga_conffile_parse(pga_conffile_t *cf, const char *name,
                       const char *text, size_t len, char *err,
                       size_t errlen) {
  ctx_t c = {cf, name, err, errlen};
  json_error_t je;
  if (errlen) err[0] = '\0';
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!root) {
    snprintf(err, errlen, "%s: line %d, column %d: %s", name, je.line,
             je.column, je.text);
    return -1;
  }
  int rc = top(&c, root);
  json_decref(root);
  if (rc != 0) pga_conffile_free(cf);
  return rc;
}

int pga_conffile_load(pga_conffile_t *cf, const char *path, char *err,
                      size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  char *buf = malloc(PGA_CONFFILE_MAX_BYTES + 1);
  size_t n = buf ? fread(buf, 1, PGA_CONFFILE_MAX_BYTES + 1, f) : 0;
  int bad = !buf || ferror(f);
  fclose(f);
  if (bad) {
    snprintf(err, errlen, "%s: cannot read: %s", path,
             buf ? strerror(errno) : "out of memory");
    free(buf);
    return -1;
  }
  if (n > PGA_CONFFILE_MAX_BYTES) {
    snprintf(err, errlen, "%s: larger than %u bytes", path,
             PGA_CONFFILE_MAX_BYTES);
    free(buf);
    return -1;
  }
  int rc = pga_conffile_parse(cf, path, buf, n, err, errlen);
  free(buf);
  return rc;
}
