/* FunConfig declarations: a plugin row's pga_plugin_config_t is checked
 * against what a PhoenixGenApi gateway validates (config-plane.md §2.1)
 * and calls (request-plane.md §4), then turned into a complete FunConfig
 * (config-plane.md §1.2, §9) with the config plane's model. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "plugin/plugin_int.h"
#include "term/term.h"

#define MAX_ARGS 64
#define MAX_ROLES 256
#define MAX_TEXT 4096 /* request_type, version, names: plenty, bounded */

static int bad(char *err, size_t errlen, const char *why) {
  snprintf(err, errlen, "%s", why);
  return PGA_EINVAL;
}

static int text_ok(const char *s) {
  return s && s[0] && strnlen(s, MAX_TEXT + 1) <= MAX_TEXT;
}

static size_t count_args(const pga_plugin_arg_t *a) {
  size_t n = 0;
  while (a && a[n].name && n <= MAX_ARGS) n++;
  return n;
}

static int check_args(const pga_plugin_config_t *c, size_t *nargs, char *err,
                      size_t errlen) {
  size_t n = count_args(c->args);
  if (n > MAX_ARGS) return bad(err, errlen, "more than 64 arguments");
  for (size_t i = 0; i < n; i++) {
    const pga_plugin_arg_t *a = &c->args[i];
    if (!text_ok(a->name)) return bad(err, errlen, "an argument has no name");
    if (a->type < PGA_ARG_STRING || a->type > PGA_ARG_MAP) {
      snprintf(err, errlen, "argument \"%s\" has an unknown type %d", a->name,
               (int)a->type);
      return PGA_EINVAL;
    }
    for (size_t j = 0; j < i; j++)
      if (!strcmp(c->args[j].name, a->name)) {
        snprintf(err, errlen, "argument \"%s\" is declared twice", a->name);
        return PGA_EINVAL;
      }
  }
  *nargs = n;
  return 0;
}

/* The arity a gateway calls with (request-plane.md §4): predefined args
 * (none: mfa args are []) ++ converted ++ [request_info]. */
static unsigned gateway_arity(const pga_plugin_config_t *c, size_t nargs) {
  size_t conv = nargs == 0 ? 0 : c->args_as_map ? 1 : nargs;
  return (unsigned)conv + (c->request_info ? 1u : 0u);
}

int pga__decl_check(const pga_plugin_fn_t *row, char *err, size_t errlen) {
  const pga_plugin_config_t *c = row->config;
  size_t nargs = 0;
  if (!c) return 0;
  if (!text_ok(c->request_type))
    return bad(err, errlen, "its config has no request_type");
  if ((unsigned)c->response_type > PGA_RESPONSE_NONE)
    return bad(err, errlen, "its config has an unknown response_type");
  if (c->timeout_ms != 0 && c->timeout_ms != PGA_PLUGIN_TIMEOUT_INFINITY &&
      (c->timeout_ms < 100 || c->timeout_ms > 300000))
    return bad(err, errlen,
               "its config timeout must be 100..300000 ms or infinity");
  int rc = check_args(c, &nargs, err, errlen);
  if (rc != 0) return rc;
  if (c->args_as_map && nargs == 0)
    return bad(err, errlen, "args_as_map needs declared arguments");
  if (c->version &&
      (!c->version[0] || !strcmp(c->version, "0.0.0") || !text_ok(c->version)))
    return bad(err, errlen,
               "its config version must be NULL or a "
               "non-empty string other than \"0.0.0\"");
  switch (c->check_permission) {
    case PGA_PERM_NONE:
    case PGA_PERM_AUTHENTICATED: break;
    case PGA_PERM_ARG:
      if (!text_ok(c->permission_arg))
        return bad(err, errlen, "PGA_PERM_ARG needs permission_arg");
      break;
    case PGA_PERM_ROLE: {
      size_t n = 0;
      if (!c->roles) return bad(err, errlen, "PGA_PERM_ROLE needs roles");
      while (c->roles[n] && n <= MAX_ROLES) n++;
      if (n > MAX_ROLES) return bad(err, errlen, "more than 256 roles");
      break;
    }
    default: return bad(err, errlen, "unknown check_permission");
  }
  switch (c->choose_node_mode) {
    case PGA_NODE_RANDOM:
    case PGA_NODE_HASH:
    case PGA_NODE_ROUND_ROBIN: break;
    case PGA_NODE_HASH_KEY:
    case PGA_NODE_STICKY:
      if (!text_ok(c->node_key))
        return bad(err, errlen, "this choose_node_mode needs node_key");
      break;
    default: return bad(err, errlen, "unknown choose_node_mode");
  }
  if (c->response_type == PGA_RESPONSE_STREAM && !c->request_info)
    return bad(err, errlen,
               "a stream function needs request_info (its "
               "stream pid comes in the request-info map)");
  unsigned want = gateway_arity(c, nargs);
  if (row->arity != want) {
    snprintf(err, errlen,
             "a gateway calls it with %u argument%s (its config), not %u",
             want, want == 1 ? "" : "s", row->arity);
    return PGA_EINVAL;
  }
  return 0;
}

/* ---- building ---- */

static const char *const arg_types[] = {
    NULL,          "string",   "num",       "boolean",  "uuid",
    "list_string", "list_num", "list_uuid", "list_map", "map"};
static const char *const responses[] = {"sync", "async", "stream", "none"};
static const char *const node_modes[] = {"random", "hash", "round_robin",
                                         "hash", "sticky"};

static void put_arg_spec(pga_tb_t *tb, const pga_plugin_arg_t *a) {
  int is_list = a->type >= PGA_ARG_LIST_STRING && a->type <= PGA_ARG_MAP;
  int max_bytes = a->type == PGA_ARG_STRING && a->max_bytes;
  int max_items = is_list && a->max_items;
  size_t opts = (size_t)max_bytes + (size_t)max_items + (a->allow_nil != 0);
  if (opts == 0) { /* simple form: "a" => :num */
    pga_tb_atom(tb, arg_types[a->type]);
    return;
  }
  pga_tb_list(tb, 1 + opts); /* [type: t, max_bytes: n, allow_nil?: true] */
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, "type");
  pga_tb_atom(tb, arg_types[a->type]);
  if (max_bytes) {
    pga_tb_tuple(tb, 2);
    pga_tb_atom(tb, "max_bytes");
    pga_tb_uint(tb, a->max_bytes);
  }
  if (max_items) {
    pga_tb_tuple(tb, 2);
    pga_tb_atom(tb, "max_items");
    pga_tb_uint(tb, a->max_items);
  }
  if (a->allow_nil) {
    pga_tb_tuple(tb, 2);
    pga_tb_atom(tb, "allow_nil?");
    pga_tb_bool(tb, 1);
  }
  pga_tb_nil(tb);
}

static void put_permission(pga_tb_t *tb, const pga_plugin_config_t *c) {
  switch (c->check_permission) {
    case PGA_PERM_AUTHENTICATED: pga_tb_atom(tb, "any_authenticated"); break;
    case PGA_PERM_ARG:
      pga_tb_tuple(tb, 2);
      pga_tb_atom(tb, "arg");
      pga_tb_string(tb, c->permission_arg);
      break;
    case PGA_PERM_ROLE: {
      size_t n = 0;
      while (c->roles[n]) n++;
      pga_tb_tuple(tb, 2);
      pga_tb_atom(tb, "role");
      pga_tb_list_head(tb, n);
      for (size_t i = 0; i < n; i++) pga_tb_string(tb, c->roles[i]);
      pga_tb_nil(tb);
      break;
    }
    default: pga_tb_bool(tb, 0); break;
  }
}

static void put_node_mode(pga_tb_t *tb, const pga_plugin_config_t *c) {
  if (c->choose_node_mode == PGA_NODE_HASH_KEY ||
      c->choose_node_mode == PGA_NODE_STICKY) {
    pga_tb_tuple(tb, 2);
    pga_tb_atom(tb, node_modes[c->choose_node_mode]);
    pga_tb_string(tb, c->node_key);
    return;
  }
  pga_tb_atom(tb, node_modes[c->choose_node_mode]);
}

/* Writes one field's value into tb (reset first). */
static void put_field(pga_tb_t *tb, pga_fc_field_t f,
                      const pga_plugin_fn_t *row, const char *service,
                      const char *node_name) {
  const pga_plugin_config_t *c = row->config;
  size_t nargs = count_args(c->args);
  switch (f) {
    case PGA_FC_REQUEST_TYPE: pga_tb_string(tb, c->request_type); break;
    case PGA_FC_SERVICE: pga_tb_string(tb, service); break;
    case PGA_FC_NODES:
      pga_tb_list(tb, 1);
      pga_tb_atom(tb, node_name);
      pga_tb_nil(tb);
      break;
    case PGA_FC_CHOOSE_NODE_MODE: put_node_mode(tb, c); break;
    case PGA_FC_TIMEOUT:
      if (c->timeout_ms == PGA_PLUGIN_TIMEOUT_INFINITY)
        pga_tb_atom(tb, "infinity");
      else
        pga_tb_uint(tb, c->timeout_ms ? c->timeout_ms : 5000);
      break;
    case PGA_FC_MFA:
      pga_tb_tuple(tb, 3);
      pga_tb_atom(tb, row->module);
      pga_tb_atom(tb, row->function);
      pga_tb_nil(tb);
      break;
    case PGA_FC_ARG_TYPES:
      if (nargs == 0) {
        pga_tb_atom(tb, "nil");
        break;
      }
      pga_tb_map(tb, nargs);
      for (size_t i = 0; i < nargs; i++) {
        pga_tb_string(tb, c->args[i].name);
        put_arg_spec(tb, &c->args[i]);
      }
      break;
    case PGA_FC_ARG_ORDERS:
      if (nargs == 0) {
        pga_tb_atom(tb, "nil");
      } else if (c->args_as_map) {
        pga_tb_atom(tb, "map");
      } else {
        pga_tb_list_head(tb, nargs);
        for (size_t i = 0; i < nargs; i++) pga_tb_string(tb, c->args[i].name);
        pga_tb_nil(tb);
      }
      break;
    case PGA_FC_RESPONSE_TYPE:
      pga_tb_atom(tb, responses[c->response_type]);
      break;
    case PGA_FC_REQUEST_INFO: pga_tb_bool(tb, c->request_info != 0); break;
    case PGA_FC_CHECK_PERMISSION: put_permission(tb, c); break;
    case PGA_FC_VERSION:
      if (c->version)
        pga_tb_string(tb, c->version);
      else
        pga_tb_atom(tb, "nil");
      break;
    default: break; /* the model's defaults (§1.2) */
  }
}

pga_funconfig_t *pga__decl_funconfig(const pga_plugin_fn_t *row,
                                     const char *service,
                                     const char *node_name) {
  pga_funconfig_t *fc = pga_funconfig_new();
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  for (int f = 0; fc && f < PGA_FC_NFIELDS; f++) {
    pga_tb_reset(&tb);
    put_field(&tb, (pga_fc_field_t)f, row, service, node_name);
    pga_term_t v = pga_tb_data(&tb);
    if (!pga_tb_error(&tb) && v.len == 0) continue; /* the default */
    if (pga_tb_error(&tb) || pga_funconfig_set(fc, (pga_fc_field_t)f, &v)) {
      pga_funconfig_free(fc);
      fc = NULL;
    }
  }
  pga__tb_destroy(&tb);
  return fc;
}
