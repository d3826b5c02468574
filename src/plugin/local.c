/* local_services (src/plugin/local.h): a plugin's FunConfigs as a gateway
 * would store them after a push from pga, except that `nodes` is :local,
 * so the gateway's executor runs the C function in this process (the
 * function is registered under the {m, f, arity} the executor calls:
 * docs/compat.md R15). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "plugin/local.h"
#include "plugin/plugin_int.h"
#include "term/inspect.h"
#include "term/term.h"

#define MOD_DB "Elixir.PhoenixGenApi.ConfigDb"

static int put_local(pga_tb_t *out, const pga_funconfig_t *fc,
                     const pga_term_t *local) {
  pga_funconfig_t *copy = pga_funconfig_dup(fc);
  if (!copy || pga_funconfig_set(copy, PGA_FC_NODES, local) != 0) {
    pga_funconfig_free(copy);
    return PGA_ENOMEM;
  }
  pga_funconfig_encode(out, copy);
  pga_funconfig_free(copy);
  return 0;
}

int pga_plugin_local_configs(const pga_plugin_host_t *h, pga_tb_t *out) {
  pga_tb_t atom;
  pga__tb_init(&atom, 0);
  pga_tb_atom(&atom, "local");
  pga_term_t local = pga_tb_data(&atom);
  size_t n = 0;
  for (const pga__plugin_t *p = h->first; p; p = p->next) n += p->nconfigs;
  int rc = pga_tb_error(&atom) ? PGA_ENOMEM : 0;
  pga_tb_list_head(out, n);
  for (const pga__plugin_t *p = h->first; p && rc == 0; p = p->next)
    for (size_t i = 0; i < p->nconfigs && rc == 0; i++)
      rc = put_local(out, p->configs[i], &local);
  pga_tb_nil(out);
  pga__tb_destroy(&atom);
  return rc ? rc : pga_tb_error(out) ? PGA_ENOMEM : 0;
}

int pga_plugin_register_local(const pga_plugin_host_t *h,
                              pga_config_plane_t *plane, size_t *stored,
                              char *err, size_t errlen) {
  *stored = 0;
  if (!h || !h->first) return 0;
  pga_tb_t list, reply;
  pga__tb_init(&list, 0);
  pga__tb_init(&reply, 0);
  /* One argument: the list (an argv of one term). */
  int rc = pga_plugin_local_configs(h, &list);
  pga_term_t argv = pga_tb_data(&list), r, count;
  if (rc == 0 && pga_config_call(plane, MOD_DB, "batch_add", 1, &argv,
                                 &reply) != PGA_RETURN)
    rc = PGA_EINVAL;
  r = pga_tb_data(&reply);
  int64_t n;
  if (rc == 0 && pga_term_tuple_get(&r, 1, &count) == 0 &&
      pga_term_get_int64(&count, &n) == 0) {
    *stored = (size_t)n;
  } else {
    char *text = rc == PGA_ENOMEM ? NULL : pga_term_inspect_dup(&r);
    snprintf(err, errlen, "local services: no FunConfig stored (%s)",
             text ? text : "out of memory");
    free(text);
    if (rc == 0) rc = PGA_EINVAL;
  }
  pga__tb_destroy(&list);
  pga__tb_destroy(&reply);
  return rc;
}
