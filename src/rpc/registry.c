/* The function registry: {Module, Function, Arity} -> C function, O(1). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc_int.h"

static void entry_free(void *v) {
  pga_fn_entry_t *e = v;
  free(e->module);
  free(e->function);
  free(e);
}

const pga_dict_type_t pga__fn_dict_type = {pga_hash_str, pga_equal_str, free,
                                           entry_free};

/* Writes v in decimal at p; returns the end. */
static char *put_decimal(char *p, size_t v) {
  char digits[24];
  size_t n = 0;

  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (n > 0) *p++ = digits[--n];
  return p;
}

/* "<len>:<m><len>:<f>/<arity>": length-prefixed so that no two {m, f, a}
 * share a key whatever bytes the atoms hold. Written by hand: snprintf was
 * most of a lookup's cost, and every call served looks up. out holds
 * strlen(m) + strlen(f) + KEY_EXTRA bytes. */
#define KEY_EXTRA 48

static void format_key(char *out, const char *m, const char *f,
                       unsigned arity) {
  size_t ml = strlen(m), fl = strlen(f);
  char *p = put_decimal(out, ml);

  *p++ = ':';
  memcpy(p, m, ml);
  p = put_decimal(p + ml, fl);
  *p++ = ':';
  memcpy(p, f, fl);
  p += fl;
  *p++ = '/';
  p = put_decimal(p, arity);
  *p = '\0';
}

static char *make_key(const char *m, const char *f, unsigned arity) {
  char *key = malloc(strlen(m) + strlen(f) + KEY_EXTRA);
  if (key) format_key(key, m, f, arity);
  return key;
}

static int count_module(pga_rpc_t *r, const char *m) {
  intptr_t *count = pga_dict_get(r->modules, m);
  if (count) {
    (*count)++;
    return 0;
  }
  char *key = strdup(m);
  intptr_t *one = malloc(sizeof *one);
  if (!key || !one || pga_dict_add(r->modules, key, one) != 0) {
    free(key);
    free(one);
    return PGA_ENOMEM;
  }
  *one = 1;
  return 0;
}

int pga_rpc_register(pga_rpc_t *r, const pga_fn_def_t *def) {
  if (!def || !def->module || !def->function || !def->fn || def->arity > 255)
    return PGA_EINVAL;
  char *key = make_key(def->module, def->function, def->arity);
  pga_fn_entry_t *e = calloc(1, sizeof *e);
  if (e) {
    e->module = strdup(def->module);
    e->function = strdup(def->function);
  }
  if (!key || !e || !e->module || !e->function) {
    free(key);
    if (e) entry_free(e);
    return PGA_ENOMEM;
  }
  e->arity = def->arity;
  e->fn = def->fn;
  e->flags = def->flags;
  e->udata = def->udata;
  e->timeout_ms = def->timeout_ms;
  int replaced = pga_dict_delete(r->fns, key) == 0;
  if (pga_dict_add(r->fns, key, e) != 0) {
    free(key);
    entry_free(e);
    return PGA_ENOMEM;
  }
  return replaced ? 0 : count_module(r, def->module);
}

int pga_rpc_unregister(pga_rpc_t *r, const char *m, const char *f,
                       unsigned arity) {
  char *key = make_key(m, f, arity);
  if (!key) return PGA_ENOMEM;
  int rc = pga_dict_delete(r->fns, key);
  free(key);
  if (rc != 0) return PGA_ENOTFOUND;
  intptr_t *count = pga_dict_get(r->modules, m);
  if (count && --*count == 0) pga_dict_delete(r->modules, m);
  return 0;
}

const pga_fn_entry_t *pga_rpc_lookup(const pga_rpc_t *r, const char *m,
                                     const char *f, unsigned arity) {
  char key[2 * PGA_ATOM_BUF + KEY_EXTRA];
  if (strnlen(m, PGA_ATOM_BUF) == PGA_ATOM_BUF ||
      strnlen(f, PGA_ATOM_BUF) == PGA_ATOM_BUF)
    return NULL; /* longer than any atom: nothing is registered so */
  format_key(key, m, f, arity);
  return pga_dict_get(r->fns, key);
}

int pga_rpc_module_known(const pga_rpc_t *r, const char *m) {
  return pga_dict_get(r->modules, m) != NULL;
}

void pga_rpc_each_function(const pga_rpc_t *r, const char *m,
                           void (*each)(void *ud, const pga_fn_entry_t *e),
                           void *ud) {
  pga_dict_iter_t it;
  void *key, *val;
  pga_dict_iter_init(r->fns, &it);
  while (pga_dict_next(&it, &key, &val)) {
    const pga_fn_entry_t *e = val;
    if (strcmp(e->module, m) == 0) each(ud, e);
  }
}
