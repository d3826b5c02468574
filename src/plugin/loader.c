/* The plugin loader: opens a plugin file, checks its descriptor the way
 * nginx's ngx_add_module does (ABI version, binary signature, unique name)
 * plus its function table and FunConfig declarations, runs its init hook
 * and registers its functions (include/pga/plugin.h, docs/plugins.md).
 *
 * Invariants:
 * 1. Nothing of a plugin is read before its abi_version matched, and no
 *    member beyond what its struct_version declares is read.
 * 2. A refused file leaves nothing behind: no function registered, no
 *    handle open (its exit hook runs if its init hook ran), and the error
 *    text starts with "plugin PATH: ".
 * 3. Plugins are loaded and started before the node runs, and unloaded
 *    after it stopped, so no handler runs while a file is (un)mapped.
 * 4. Every {Module, Function, Arity} is served by one plugin or built-in;
 *    a plugin never replaces another's function. */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "plugin/plugin_int.h"
#include "term/term.h"

#define MAX_NAME 64
#define MAX_FUNCTIONS 4096

/* Modules every PhoenixGenApi gateway refuses in an mfa
 * (config-plane.md §2.3, §9). */
static const char *const denied_modules[] = {
    "os", "file", "code", "erlang", "net", "rpc", "global", "inet", NULL};

static int fail(char *err, size_t errlen, const char *path, int rc,
                const char *fmt, const char *a, const char *b) {
  char why[768];
  /* Long names are cut, never overflow (the results are checked). */
  if (snprintf(why, sizeof why, fmt, a ? a : "", b ? b : "") < 0)
    why[0] = '\0';
  if (snprintf(err, errlen, "plugin %s: %s", path, why) < 0 && errlen)
    err[0] = '\0';
  return rc;
}

static int name_ok(const char *s) {
  size_t n = s ? strnlen(s, MAX_NAME + 1) : 0;
  if (n == 0 || n > MAX_NAME) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
      return 0;
  }
  return 1;
}

static int atom_ok(const char *s) {
  size_t n = s ? strnlen(s, PGA_ATOM_BUF) : PGA_ATOM_BUF;
  return n > 0 && n < PGA_ATOM_BUF &&
         pga__atom_utf8_check((const unsigned char *)s, n) == 0;
}

static int denied(const char *m) {
  for (size_t i = 0; denied_modules[i]; i++)
    if (!strcmp(m, denied_modules[i])) return 1;
  return 0;
}

static pga__plugin_t *by_name(const pga_plugin_host_t *h, const char *name) {
  for (pga__plugin_t *p = h->first; p; p = p->next)
    if (!strcmp(p->name, name)) return p;
  return NULL;
}

/* Another config of the same service with this request_type and version
 * (a gateway keys its store by {service, request_type, version}). */
static const pga_plugin_fn_t *config_clash(const pga_plugin_host_t *h,
                                           const char *service,
                                           const pga_plugin_fn_t *rows,
                                           size_t upto,
                                           const pga_plugin_config_t *c) {
  const char *v = c->version ? c->version : "";
  for (size_t i = 0; i < upto; i++) {
    const pga_plugin_config_t *o = rows[i].config;
    if (o && !strcmp(o->request_type, c->request_type) &&
        !strcmp(o->version ? o->version : "", v))
      return &rows[i];
  }
  for (pga__plugin_t *p = h->first; p; p = p->next) {
    if (strcmp(p->service, service)) continue;
    for (size_t i = 0; i < p->nfns; i++) {
      const pga_plugin_config_t *o = p->desc->functions[i].config;
      if (o && !strcmp(o->request_type, c->request_type) &&
          !strcmp(o->version ? o->version : "", v))
        return &p->desc->functions[i];
    }
  }
  return NULL;
}

/* Checks the function table; *n gets its length. */
static int check_table(const pga_plugin_host_t *h, const char *path,
                       const char *service, const pga_plugin_fn_t *rows,
                       size_t *n, char *err, size_t errlen) {
  char what[PGA_ATOM_BUF * 2 + 32], why[512];
  size_t i = 0;
  if (!rows)
    return fail(err, errlen, path, PGA_EINVAL,
                "its descriptor has no function table", NULL, NULL);
  for (; rows[i].module; i++) {
    const pga_plugin_fn_t *r = &rows[i];
    if (i == MAX_FUNCTIONS)
      return fail(err, errlen, path, PGA_EINVAL,
                  "more than 4096 functions (is the table's last row zero?)",
                  NULL, NULL);
    if (!atom_ok(r->module) || !atom_ok(r->function)) {
      snprintf(what, sizeof what, "%zu", i);
      return fail(err, errlen, path, PGA_EINVAL,
                  "function row %s: module and function must be atoms "
                  "(UTF-8, 1..255 characters)",
                  what, NULL);
    }
    snprintf(what, sizeof what, "%s:%s/%u", r->module, r->function, r->arity);
    if (!r->fn || r->arity > 255)
      return fail(err, errlen, path, PGA_EINVAL,
                  "function %s: no handler, or arity above 255", what, NULL);
    if (denied(r->module))
      return fail(err, errlen, path, PGA_EINVAL,
                  "function %s: module %s is refused by every gateway "
                  "(config-plane.md §9)",
                  what, r->module);
    if (pga_rpc_lookup(h->rpc, r->module, r->function, r->arity))
      return fail(err, errlen, path, PGA_EEXIST,
                  "function %s is already served (by pga or another "
                  "plugin)",
                  what, NULL);
    for (size_t j = 0; j < i; j++)
      if (!strcmp(rows[j].module, r->module) &&
          !strcmp(rows[j].function, r->function) && rows[j].arity == r->arity)
        return fail(err, errlen, path, PGA_EINVAL,
                    "function %s is listed twice", what, NULL);
    if (pga__decl_check(r, why, sizeof why) != 0)
      return fail(err, errlen, path, PGA_EINVAL, "function %s: %s", what, why);
    const pga_plugin_fn_t *o =
        r->config ? config_clash(h, service, rows, i, r->config) : NULL;
    if (o) {
      snprintf(why, sizeof why,
               "request_type \"%s\" (version %s) is "
               "already declared by %s:%s/%u",
               r->config->request_type,
               r->config->version ? r->config->version : "nil", o->module,
               o->function, o->arity);
      return fail(err, errlen, path, PGA_EEXIST, "function %s: %s", what, why);
    }
  }
  *n = i;
  return 0;
}

/* Checks the descriptor in the order nginx does; nothing runs yet. */
static int check_desc(const pga_plugin_host_t *h, const char *path,
                      const pga_plugin_t *d, size_t *nfns, char *err,
                      size_t errlen) {
  char a[64], b[64];
  if (d->abi_version != PGA_PLUGIN_ABI_VERSION) {
    snprintf(a, sizeof a, "%u", d->abi_version);
    snprintf(b, sizeof b, "%u", (unsigned)PGA_PLUGIN_ABI_VERSION);
    return fail(err, errlen, path, PGA_EABI,
                "built for plugin ABI version %s, this pga-node speaks "
                "version %s: rebuild it against this pga's headers",
                a, b);
  }
  if (d->struct_version < 1)
    return fail(err, errlen, path, PGA_EINVAL,
                "struct_version is 0 (use PGA_PLUGIN_HEADER)", NULL, NULL);
  if (!d->signature || strncmp(d->signature, PGA_PLUGIN_SIGNATURE, 64))
    return fail(err, errlen, path, PGA_EABI,
                "is not binary compatible (signature \"%s\", expected "
                "\"%s\")",
                d->signature ? d->signature : "(none)", PGA_PLUGIN_SIGNATURE);
  if (!name_ok(d->name))
    return fail(err, errlen, path, PGA_EINVAL,
                "its name must be 1..64 characters of [A-Za-z0-9_.-]", NULL,
                NULL);
  const pga__plugin_t *other = by_name(h, d->name);
  if (other)
    return fail(err, errlen, path, PGA_EEXIST,
                "a plugin named \"%s\" is already loaded (from %s)", d->name,
                other->path);
  const char *service = d->service ? d->service : d->name;
  if (!service[0] || strnlen(service, 256) > 255)
    return fail(err, errlen, path, PGA_EINVAL,
                "its service name must be 1..255 bytes", NULL, NULL);
  return check_table(h, path, service, d->functions, nfns, err, errlen);
}

static void unregister_rows(pga_plugin_host_t *h, const pga__plugin_t *p,
                            size_t n) {
  for (size_t i = 0; i < n; i++) {
    const pga_plugin_fn_t *r = &p->desc->functions[i];
    pga_rpc_unregister(h->rpc, r->module, r->function, r->arity);
  }
}

static int register_rows(pga_plugin_host_t *h, pga__plugin_t *p) {
  const pga_plugin_fn_t *rows = p->desc->functions;
  for (size_t i = 0; i < p->nfns; i++) {
    const pga_plugin_fn_t *r = &rows[i];
    unsigned deadline = r->timeout_ms;
    if (!deadline && r->config &&
        r->config->timeout_ms != PGA_PLUGIN_TIMEOUT_INFINITY)
      deadline = r->config->timeout_ms ? r->config->timeout_ms : 5000;
    pga_fn_def_t def = {.module = r->module,
                        .function = r->function,
                        .arity = r->arity,
                        .fn = r->fn,
                        .flags = r->flags,
                        .udata = r->udata,
                        .timeout_ms = deadline};
    if (pga_rpc_register(h->rpc, &def) != 0) {
      unregister_rows(h, p, i);
      return PGA_ENOMEM;
    }
  }
  return 0;
}

static int build_configs(pga_plugin_host_t *h, pga__plugin_t *p) {
  size_t n = 0;
  for (size_t i = 0; i < p->nfns; i++)
    n += p->desc->functions[i].config != NULL;
  p->configs = calloc(n ? n : 1, sizeof *p->configs);
  if (!p->configs) return PGA_ENOMEM;
  for (size_t i = 0; i < p->nfns; i++) {
    const pga_plugin_fn_t *r = &p->desc->functions[i];
    if (!r->config) continue;
    p->configs[p->nconfigs] = pga__decl_funconfig(r, p->service, h->node_name);
    if (!p->configs[p->nconfigs]) return PGA_ENOMEM;
    p->nconfigs++;
  }
  return 0;
}

static void plugin_free(pga__plugin_t *p) {
  if (!p) return;
  for (size_t i = 0; i < p->nconfigs; i++) pga_funconfig_free(p->configs[i]);
  free(p->configs);
  if (p->handle) dlclose(p->handle);
  free(p->path);
  free(p);
}

int pga_plugin_load(pga_plugin_host_t *h, const char *path, char *err,
                    size_t errlen) {
  if (errlen) err[0] = '\0';
  if (!h || !path || !path[0]) {
    snprintf(err, errlen, "plugin: no file given");
    return PGA_EINVAL;
  }
  if (!h->rpc || pga__node_rpc(h->node) != h->rpc)
    return fail(err, errlen, path, PGA_EINVAL,
                "the node has run already: load plugins before it runs", NULL,
                NULL);
  pga__plugin_t *p = calloc(1, sizeof *p);
  if (p) p->path = strdup(path);
  if (!p || !p->path) {
    plugin_free(p);
    return fail(err, errlen, path, PGA_ENOMEM, "out of memory", NULL, NULL);
  }
  dlerror();
  p->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!p->handle) {
    const char *why = dlerror();
    int rc = fail(err, errlen, path, PGA_ENOTFOUND, "cannot load it: %s",
                  why ? why : "dlopen failed", NULL);
    plugin_free(p);
    return rc;
  }
  p->desc = dlsym(p->handle, PGA_PLUGIN_SYMBOL);
  if (!p->desc) {
    plugin_free(p);
    return fail(err, errlen, path, PGA_ENOTFOUND,
                "no \"%s\" symbol: not a pga plugin (export a pga_plugin_t "
                "descriptor with PGA_PLUGIN_EXPORT)",
                PGA_PLUGIN_SYMBOL, NULL);
  }
  int rc = check_desc(h, path, p->desc, &p->nfns, err, errlen);
  if (rc != 0) {
    plugin_free(p);
    return rc;
  }
  p->struct_version = p->desc->struct_version;
  p->name = p->desc->name;
  p->service = p->desc->service ? p->desc->service : p->desc->name;
  p->ctx = (pga_plugin_ctx_t){
      .struct_version = 1, .node = h->node, .path = p->path, .name = p->name};
  rc = build_configs(h, p);
  if (rc != 0) {
    plugin_free(p);
    return fail(err, errlen, path, rc, "out of memory", NULL, NULL);
  }
  if (p->desc->init) {
    char why[512] = "";
    if (p->desc->init(&p->ctx, why, sizeof why) != 0) {
      rc = fail(err, errlen, path, PGA_EINVAL, "its init hook failed: %s",
                why[0] ? why : "(no reason given)", NULL);
      if (p->desc->exit) p->desc->exit(&p->ctx);
      plugin_free(p);
      return rc;
    }
  }
  if (register_rows(h, p) != 0) {
    if (p->desc->exit) p->desc->exit(&p->ctx);
    plugin_free(p);
    return fail(err, errlen, path, PGA_ENOMEM, "out of memory", NULL, NULL);
  }
  if (h->last)
    h->last->next = p;
  else
    h->first = p;
  h->last = p;
  h->count++;
  pga_debug(
      "plugin %s loaded from %s: %zu functions, %zu announced to "
      "gateways (service \"%s\")",
      p->name, p->path, p->nfns, p->nconfigs, p->service);
  return 0;
}

int pga_plugin_host_new(pga_node_t *node, pga_plugin_host_t **out) {
  pga_rpc_t *rpc = node ? pga__node_rpc(node) : NULL;
  if (!rpc) return PGA_EINVAL;
  if (pga_rpc_lookup(rpc, "pga_node", "get_config", 0)) return PGA_EEXIST;
  pga_plugin_host_t *h = calloc(1, sizeof *h);
  if (!h) return PGA_ENOMEM;
  h->node = node;
  h->rpc = rpc;
  snprintf(h->node_name, sizeof h->node_name, "%s", pga_node_name(node));
  int rc = pga__supporter_register(h);
  if (rc != 0) {
    pga__supporter_unregister(h);
    free(h);
    return rc;
  }
  *out = h;
  return 0;
}

int pga_plugin_host_start(pga_plugin_host_t *h, char *err, size_t errlen) {
  if (errlen) err[0] = '\0';
  if (!h) return PGA_EINVAL;
  if (h->started) return 0;
  h->started = 1;
  for (pga__plugin_t *p = h->first; p; p = p->next) {
    char why[512] = "";
    if (p->desc->start && p->desc->start(&p->ctx, why, sizeof why) != 0)
      return fail(err, errlen, p->path, PGA_EINVAL,
                  "its start hook failed: %s",
                  why[0] ? why : "(no reason given)", NULL);
    p->started = 1;
  }
  return 0;
}

size_t pga_plugin_count(const pga_plugin_host_t *h) {
  return h ? h->count : 0;
}

void pga_plugin_host_free(pga_plugin_host_t *h) {
  if (!h) return;
  /* The node may still exist (never run, or an embedder's error path):
   * then nothing may keep pointing into the files we unload. */
  h->rpc = h->node ? pga__node_rpc(h->node) : NULL;
  for (pga__plugin_t *p = h->first; p; p = p->next)
    if (p->started && p->desc->stop) p->desc->stop(&p->ctx);
  while (h->first) {
    pga__plugin_t *p = h->first;
    h->first = p->next;
    if (h->rpc) unregister_rows(h, p, p->nfns);
    if (p->desc->exit) p->desc->exit(&p->ctx);
    pga_debug("plugin %s unloaded", p->name);
    plugin_free(p);
  }
  if (h->rpc) pga__supporter_unregister(h);
  free(h);
}
