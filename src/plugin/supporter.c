/* pga as a service node (config-plane.md §9): the pull supporter
 * pga_node:get_config/0,1 and get_config_version/0,1 that a gateway's
 * ConfigPuller calls, pga_node:plugins/0 for operators, and the built-ins
 * that drive the pusher, pga_node:push_config/1,2 and verify_config/1,2. */
#include "config.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "plugin/plugin_int.h"
#include "term/term.h"

/* 1 if service names this plugin's service: a binary or an atom with the
 * same text (the library's same_service?, config-plane.md §2.4). */
static int service_is(const pga__plugin_t *p, const pga_term_t *service) {
  if (!service) return 1;
  const char *data;
  size_t len;
  if (pga_term_get_binary(service, &data, &len) == 0)
    return len == strlen(p->service) && !memcmp(data, p->service, len);
  char atom[PGA_ATOM_BUF];
  return pga_term_get_atom(service, atom, sizeof atom) == 0 &&
         !strcmp(atom, p->service);
}

static size_t count_configs(const pga_plugin_host_t *h,
                            const pga_term_t *service, int *served) {
  size_t n = 0;
  *served = 0;
  for (const pga__plugin_t *p = h->first; p; p = p->next)
    if (service_is(p, service)) {
      *served = 1;
      n += p->nconfigs;
    }
  return n;
}

static void put_list(const pga_plugin_host_t *h, const pga_term_t *service,
                     size_t n, pga_tb_t *out) {
  pga_tb_list_head(out, n);
  for (const pga__plugin_t *p = h->first; p; p = p->next)
    if (service_is(p, service))
      for (size_t i = 0; i < p->nconfigs; i++)
        pga_funconfig_encode(out, p->configs[i]);
  pga_tb_nil(out);
}

void pga__supporter_configs(const pga_plugin_host_t *h,
                            const pga_term_t *service, pga_tb_t *out) {
  int served;
  size_t n = count_configs(h, service, &served);
  pga_tb_tuple(out, 2);
  if (service && !served) {
    pga_tb_atom(out, "error");
    pga_tb_atom(out, "not_found");
    return;
  }
  pga_tb_atom(out, "ok");
  put_list(h, service, n, out);
}

/* The digest of the encoded list: it changes exactly when a FunConfig (or
 * their order) changes, and is stable across restarts, so a gateway's
 * version probe skips a pull after a restart with the same plugins. */
void pga__supporter_version(const pga_plugin_host_t *h,
                            const pga_term_t *service, pga_tb_t *out) {
  int served;
  size_t n = count_configs(h, service, &served);
  if (service && !served) {
    pga_tb_atom(out, "nil");
    return;
  }
  pga_tb_t enc;
  pga__tb_init(&enc, 0);
  put_list(h, service, n, &enc);
  pga_term_t t = pga_tb_data(&enc);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned mdlen = 0;
  char hex[2 * 8 + 1];
  if (pga_tb_error(&enc) ||
      !EVP_Digest(t.buf, t.len, md, &mdlen, EVP_sha256(), NULL) || mdlen < 8) {
    pga__tb_destroy(&enc);
    pga_tb_atom(out, "nil");
    return;
  }
  for (int i = 0; i < 8; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
  pga__tb_destroy(&enc);
  pga_tb_string(out, hex);
}

int pga__supporter_has_service(const pga_plugin_host_t *h, const char *s) {
  for (const pga__plugin_t *p = h->first; p; p = p->next)
    if (!strcmp(p->service, s)) return 1;
  return 0;
}

/* ---- the functions ---- */

static const pga_plugin_host_t *host_of(pga_call_t *call) {
  return pga_call_udata(call);
}

static pga_outcome_t fn_get_config(pga_call_t *call, size_t argc,
                                   const pga_term_t *argv, pga_tb_t *out) {
  pga__supporter_configs(host_of(call), argc ? &argv[0] : NULL, out);
  return PGA_RETURN;
}

static pga_outcome_t fn_get_config_version(pga_call_t *call, size_t argc,
                                           const pga_term_t *argv,
                                           pga_tb_t *out) {
  pga__supporter_version(host_of(call), argc ? &argv[0] : NULL, out);
  return PGA_RETURN;
}

/* [%{name, version, service, path, functions, configs}] in load order. */
static pga_outcome_t fn_plugins(pga_call_t *call, size_t argc,
                                const pga_term_t *argv, pga_tb_t *out) {
  const pga_plugin_host_t *h = host_of(call);
  pga_tb_list_head(out, h->count);
  for (const pga__plugin_t *p = h->first; p; p = p->next) {
    pga_tb_map(out, 6);
    pga_tb_atom(out, "name");
    pga_tb_string(out, p->name);
    pga_tb_atom(out, "version");
    if (p->desc->version)
      pga_tb_string(out, p->desc->version);
    else
      pga_tb_atom(out, "nil");
    pga_tb_atom(out, "service");
    pga_tb_string(out, p->service);
    pga_tb_atom(out, "path");
    pga_tb_string(out, p->path);
    pga_tb_atom(out, "functions");
    pga_tb_uint(out, p->nfns);
    pga_tb_atom(out, "configs");
    pga_tb_uint(out, p->nconfigs);
  }
  pga_tb_nil(out);
  return PGA_RETURN;
}

/* push_config(Gateway[, Opts]) and verify_config(Gateway[, Opts]). */
static pga_outcome_t run_pusher(pga_call_t *call, size_t argc,
                                const pga_term_t *argv, pga_tb_t *out,
                                int verify) {
  const pga_plugin_host_t *h = host_of(call);
  char gateway[PGA_ATOM_BUF];
  pga__push_opts_t o;
  int bad = -1;
  static const char nil_list[] = {106};
  pga_term_t none = {nil_list, 1};
  if (pga_term_get_atom(&argv[0], gateway, sizeof gateway) != 0) {
    pga_tb_tuple(out, 2);
    pga_tb_atom(out, "error");
    pga_tb_tuple(out, 2);
    pga_tb_atom(out, "badarg");
    pga_tb_atom(out, "gateway");
    return PGA_RETURN;
  }
  if (pga__push_opts(argc > 1 ? &argv[1] : &none, &o, &bad) != 0) {
    pga_tb_tuple(out, 2);
    pga_tb_atom(out, "error");
    pga_tb_tuple(out, 2);
    pga_tb_atom(out, "badarg");
    pga_tb_atom(out, "opts");
    return PGA_RETURN;
  }
  if (pga__push_service(h, &o, out) != 0) return PGA_RETURN;
  pga__push_run(call, h, gateway, &o, verify, out);
  return PGA_RETURN;
}

static pga_outcome_t fn_push_config(pga_call_t *call, size_t argc,
                                    const pga_term_t *argv, pga_tb_t *out) {
  return run_pusher(call, argc, argv, out, 0);
}

static pga_outcome_t fn_verify_config(pga_call_t *call, size_t argc,
                                      const pga_term_t *argv, pga_tb_t *out) {
  return run_pusher(call, argc, argv, out, 1);
}

/* The pull side reads state fixed before the node runs: inline. */
static const struct {
  const char *function;
  unsigned arity;
  pga_fn_t fn;
  unsigned flags;
} fns[] = {
    {"get_config", 0, fn_get_config, PGA_FN_INLINE},
    {"get_config", 1, fn_get_config, PGA_FN_INLINE},
    {"get_config_version", 0, fn_get_config_version, PGA_FN_INLINE},
    {"get_config_version", 1, fn_get_config_version, PGA_FN_INLINE},
    {"plugins", 0, fn_plugins, PGA_FN_INLINE},
    {"push_config", 1, fn_push_config, 0},
    {"push_config", 2, fn_push_config, 0},
    {"verify_config", 1, fn_verify_config, 0},
    {"verify_config", 2, fn_verify_config, 0},
    {NULL, 0, NULL, 0},
};

int pga__supporter_register(pga_plugin_host_t *h) {
  for (size_t i = 0; fns[i].function; i++) {
    pga_fn_def_t def = {.module = "pga_node",
                        .function = fns[i].function,
                        .arity = fns[i].arity,
                        .fn = fns[i].fn,
                        .flags = fns[i].flags,
                        .udata = h};
    int rc = pga_rpc_register(h->rpc, &def);
    if (rc != 0) return rc;
  }
  return 0;
}

void pga__supporter_unregister(pga_plugin_host_t *h) {
  for (size_t i = 0; fns[i].function; i++)
    pga_rpc_unregister(h->rpc, "pga_node", fns[i].function, fns[i].arity);
}
