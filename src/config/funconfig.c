/* FunConfig (spec §1.2): the 18 fields kept as exact caller terms, decoded
 * from a struct map and encoded back with all 19 keys. */
#include "config.h"

#include "config/config_int.h"
#include "config/funconfig.h"
#include "pga/errno.h"

static const char *const names[PGA_FC_NFIELDS] = {
    "request_type",     "service",        "nodes",
    "choose_node_mode", "timeout",        "mfa",
    "arg_types",        "arg_orders",     "response_type",
    "request_info",     "check_permission", "permission_callback",
    "version",          "disabled",       "retry",
    "before_execute",   "after_execute",  "hook_timeout"};

/* Defaults (§1.2) as encoded terms: nil, false, and INTEGER_EXT 5000. */
static const char nil_b[] = {119, 3, 'n', 'i', 'l'};
static const char false_b[] = {119, 5, 'f', 'a', 'l', 's', 'e'};
static const char hook_b[] = {98, 0, 0, 0x13, (char)0x88};
#define NIL {nil_b, sizeof nil_b}
#define FALSE {false_b, sizeof false_b}

static const pga_term_t defaults[PGA_FC_NFIELDS] = {
    NIL, NIL, NIL, NIL, NIL, NIL, NIL, NIL, NIL, FALSE, FALSE, NIL,
    NIL, FALSE, NIL, NIL, NIL, {hook_b, sizeof hook_b}};

static const pga__schema_t schema = {PGA_FUNCONFIG_STRUCT, PGA_FC_NFIELDS,
                                     names, defaults};

static const pga__schema_t *fc_schema(void) { return &schema; }

/* The record is the FunConfig: the opaque type is the shared record. */
struct pga_funconfig_s {
  pga__rec_t rec;
};

static pga__rec_t *rec_of(const pga_funconfig_t *fc) {
  return (pga__rec_t *)&fc->rec;
}

const char *pga_funconfig_field_name(pga_fc_field_t f) {
  return f < PGA_FC_NFIELDS ? names[f] : NULL;
}

pga_funconfig_t *pga_funconfig_new(void) {
  return (pga_funconfig_t *)pga__rec_new(fc_schema());
}

pga_funconfig_t *pga_funconfig_dup(const pga_funconfig_t *fc) {
  return (pga_funconfig_t *)pga__rec_dup(rec_of(fc));
}

void pga_funconfig_free(pga_funconfig_t *fc) {
  if (fc) pga__rec_free(rec_of(fc));
}

int pga_funconfig_is_struct(const pga_term_t *t) {
  return pga__rec_is_struct(fc_schema(), t);
}

int pga_funconfig_decode(const pga_term_t *t, pga_funconfig_t **out) {
  pga__rec_t *r;
  int rc = pga__rec_decode_struct(fc_schema(), t, &r);
  if (rc == PGA_ETOOBIG) rc = PGA_ETYPE;
  if (rc == 0) *out = (pga_funconfig_t *)r;
  return rc;
}

pga_term_t pga_funconfig_get(const pga_funconfig_t *fc, pga_fc_field_t f) {
  return pga__rec_get(rec_of(fc), f);
}

int pga_funconfig_set(pga_funconfig_t *fc, pga_fc_field_t f,
                      const pga_term_t *value) {
  return pga__rec_set(rec_of(fc), f, value);
}

void pga_funconfig_encode(pga_tb_t *tb, const pga_funconfig_t *fc) {
  pga__rec_encode(tb, rec_of(fc), 1);
}

void pga_funconfig_encode_map(pga_tb_t *tb, const pga_funconfig_t *fc) {
  pga__rec_encode(tb, rec_of(fc), 0);
}
