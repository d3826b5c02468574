/* PushConfig (spec §1.4, §1.7): decoded from a struct as is or from any
 * map field by field, encoded back with all 12 keys, and turned into the
 * ServiceConfig an auto-pull registration needs (§1.6). */
#include "config.h"

#include "config/config_int.h"
#include "config/plane_int.h"
#include "pga/errno.h"

static const char *const names[PGA_PC_NFIELDS] = {
    "service", "nodes", "config_version", "fun_configs", "module",
    "function", "version_module", "version_function", "args",
    "version_args", "push_token"};

static const char nil_b[] = {119, 3, 'n', 'i', 'l'};
static const char nil_list_b[] = {106};
#define NIL {nil_b, sizeof nil_b}

/* args and version_args default to [] here (nil in ServiceConfig). */
static const pga_term_t defaults[PGA_PC_NFIELDS] = {
    NIL, NIL, NIL, NIL, NIL, NIL, NIL, NIL,
    {nil_list_b, 1}, {nil_list_b, 1}, NIL};

const pga__schema_t pga__push_schema = {PGA_PUSHCONFIG_STRUCT,
                                        PGA_PC_NFIELDS, names, defaults};

int pga_pushconfig_decode_borrowing(const pga_term_t *t, pga__rec_t **out,
                                    pga_term_t *fun_configs) {
  int rc = pga__rec_decode_borrowing(&pga__push_schema, t, PGA_PC_FUN_CONFIGS,
                                     fun_configs, out);
  return rc == PGA_ENOMEM ? rc : (rc ? PGA_ETYPE : 0);
}

int pga_pushconfig_decode(const pga_term_t *t, pga__rec_t **out) {
  int rc;
  if (pga__rec_is_struct(&pga__push_schema, t))
    rc = pga__rec_decode_struct(&pga__push_schema, t, out);
  else
    rc = pga__rec_decode_map(&pga__push_schema, t, out);
  /* Not a map, or a map over the hostile-input bound: both are
   * :invalid_push_config_data for the caller (§1.7). */
  return rc == PGA_ENOMEM ? rc : (rc ? PGA_ETYPE : 0);
}

static int named_atom(const pga_term_t *t) {
  return pga__is_atom(t) && !pga__is_nil(t);
}


int pga_pushconfig_service_config(const pga__rec_t *pc, pga__rec_t **out) {
  static const struct {
    int from, to;
  } copy[] = {{PGA_PC_SERVICE, PGA_SC_SERVICE},
              {PGA_PC_NODES, PGA_SC_NODES},
              {PGA_PC_MODULE, PGA_SC_MODULE},
              {PGA_PC_FUNCTION, PGA_SC_FUNCTION},
              {PGA_PC_ARGS, PGA_SC_ARGS},
              {PGA_PC_VERSION_MODULE, PGA_SC_VERSION_MODULE},
              {PGA_PC_VERSION_FUNCTION, PGA_SC_VERSION_FUNCTION},
              {PGA_PC_VERSION_ARGS, PGA_SC_VERSION_ARGS}};
  pga_term_t m = pga__rec_get(pc, PGA_PC_MODULE);
  pga_term_t f = pga__rec_get(pc, PGA_PC_FUNCTION);
  *out = NULL;
  if (!named_atom(&m) || !named_atom(&f)) return PGA_ENOTFOUND;
  pga__rec_t *sc = pga__rec_new(&pga__service_schema);
  if (!sc) return PGA_ENOMEM;
  for (size_t i = 0; i < sizeof copy / sizeof *copy; i++) {
    pga_term_t v = pga__rec_get(pc, (size_t)copy[i].from);
    if (pga__rec_set(sc, (size_t)copy[i].to, &v) != 0) {
      pga__rec_free(sc);
      return PGA_ENOMEM;
    }
  }
  *out = sc;
  return 0;
}
