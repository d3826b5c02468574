/* ServiceConfig (spec §1.6): what the puller knows about a service; all
 * eight fields default to nil, decoded from a struct or a map (§1.7). */
#include "config.h"

#include "config/config_int.h"
#include "config/plane_int.h"
#include "pga/errno.h"

static const char *const names[PGA_SC_NFIELDS] = {
    "service", "nodes", "module", "function", "args",
    "version_module", "version_function", "version_args"};

static const char nil_b[] = {119, 3, 'n', 'i', 'l'};
#define NIL {nil_b, sizeof nil_b}

static const pga_term_t defaults[PGA_SC_NFIELDS] = {NIL, NIL, NIL, NIL,
                                                    NIL, NIL, NIL, NIL};

const pga__schema_t pga__service_schema = {PGA_SERVICECONFIG_STRUCT,
                                           PGA_SC_NFIELDS, names, defaults};

int pga_serviceconfig_decode(const pga_term_t *t, pga__rec_t **out) {
  int rc = pga__rec_is_struct(&pga__service_schema, t)
               ? pga__rec_decode_struct(&pga__service_schema, t, out)
               : pga__rec_decode_map(&pga__service_schema, t, out);
  return rc == PGA_ENOMEM ? rc : (rc ? PGA_ETYPE : 0);
}

int pga_serviceconfig_version_enabled(const pga__rec_t *sc) {
  pga_term_t m = pga__rec_get(sc, PGA_SC_VERSION_MODULE);
  pga_term_t f = pga__rec_get(sc, PGA_SC_VERSION_FUNCTION);
  return pga__is_atom(&m) && !pga__is_nil(&m) && pga__is_atom(&f) &&
         !pga__is_nil(&f);
}
