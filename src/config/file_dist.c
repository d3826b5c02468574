/* The "dist" section of pga-node's --config file, its protocol and TLS
 * keys (file.c reads the listener's keys and refuses unknown ones), the
 * JSON twin of -proto_dist and -ssl_dist_optfile (docs/compat.md T1):
 *
 *   "dist": {"proto": "inet_tls",
 *            "ssl_dist_optfile": "/etc/ssl/dist.conf"   (or)
 *            "ssl": {"server": {"certfile": "...", "verify": "verify_peer",
 *                               "versions": ["tlsv1.3"], ...},
 *                    "client": {...}}}
 *
 * Option names and values are OTP's; atoms are JSON strings. */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/file.h"

static int fail(const char *name, const char *path, const char *msg,
                char *err, size_t errlen) {
  snprintf(err, errlen, "%s: %s: %s", name, path, msg);
  return -1;
}

/* JSON -> the value tree tls_conf.c checks. */
static int to_val(json_t *j, pga_tls_val_t *v) {
  memset(v, 0, sizeof *v);
  switch (json_typeof(j)) {
    case JSON_STRING:
      v->kind = PGA_TLSV_TEXT;
      v->text = strdup(json_string_value(j));
      return v->text ? 0 : -1;
    case JSON_TRUE:
    case JSON_FALSE:
      v->kind = PGA_TLSV_ATOM;
      v->text = strdup(json_is_true(j) ? "true" : "false");
      return v->text ? 0 : -1;
    case JSON_INTEGER:
      v->kind = PGA_TLSV_INT;
      v->num = json_integer_value(j);
      return 0;
    case JSON_ARRAY: {
      v->kind = PGA_TLSV_LIST;
      v->n = json_array_size(j);
      v->items = calloc(v->n ? v->n : 1, sizeof *v->items);
      if (!v->items) return -1;
      for (size_t i = 0; i < v->n; i++)
        if (to_val(json_array_get(j, i), &v->items[i]) != 0) return -1;
      return 0;
    }
    default: return -1;
  }
}

static int ssl_side(pga_conffile_t *cf, const char *name, const char *side,
                    json_t *o, char *err, size_t errlen) {
  char path[128], msg[384];
  snprintf(path, sizeof path, "dist.ssl.%s", side);
  if (!json_is_object(o)) return fail(name, path, "expected an object", err, errlen);
  const char *key;
  json_t *j;
  json_object_foreach(o, key, j) {
    pga_tls_val_t v;
    snprintf(path, sizeof path, "dist.ssl.%s.%s", side, key);
    int rc = to_val(j, &v);
    if (rc == 0)
      rc = pga_tls_conf_set(&cf->dist.ssl, side, key, &v, msg, sizeof msg);
    else
      snprintf(msg, sizeof msg, "expected a string, boolean, integer or "
               "array of them");
    pga_tls_val_free(&v);
    if (rc != 0) {
      /* msg starts with "side: "; the path already says it. */
      const char *m = strncmp(msg, side, strlen(side)) ? msg
                                                       : msg + strlen(side) + 2;
      return fail(name, path, m, err, errlen);
    }
  }
  return 0;
}

static int ssl_section(pga_conffile_t *cf, const char *name, json_t *ssl,
                       char *err, size_t errlen) {
  if (!json_is_object(ssl))
    return fail(name, "dist.ssl", "expected an object", err, errlen);
  const char *key;
  json_t *j;
  json_object_foreach(ssl, key, j) {
    if (strcmp(key, "server") && strcmp(key, "client")) {
      char path[128];
      snprintf(path, sizeof path, "dist.ssl.%s", key);
      return fail(name, path, "unknown key (want server or client)", err,
                  errlen);
    }
    if (ssl_side(cf, name, key, j, err, errlen) != 0) return -1;
  }
  cf->dist.has_ssl = 1;
  return 0;
}

int pga__conffile_dist(pga_conffile_t *cf, const char *name, json_t *dist,
                       char *err, size_t errlen) {
  if (!dist || json_is_null(dist)) return 0;
  if (!json_is_object(dist))
    return fail(name, "dist", "expected an object", err, errlen);
  const char *key;
  json_t *j;
  json_object_foreach(dist, key, j) {
    char path[128];
    snprintf(path, sizeof path, "dist.%s", key);
    if (!strcmp(key, "ssl")) {
      if (ssl_section(cf, name, j, err, errlen) != 0) return -1;
    } else if (!strcmp(key, "proto")) {
      const char *p = json_string_value(j);
      if (!p || (strcmp(p, "inet_tcp") && strcmp(p, "inet_tls")))
        return fail(name, path, "expected \"inet_tcp\" or \"inet_tls\"", err,
                    errlen);
      cf->dist.tls = !strcmp(p, "inet_tls");
    } else if (!strcmp(key, "ssl_dist_optfile")) {
      const char *p = json_string_value(j);
      if (!p || !*p || !(cf->dist.optfile = strdup(p)))
        return fail(name, path, "expected a file name", err, errlen);
    } /* the listener's keys are file.c's (dist()) */
  }
  if (cf->dist.has_ssl && cf->dist.optfile)
    return fail(name, "dist", "give ssl or ssl_dist_optfile, not both", err,
                errlen);
  return 0;
}
