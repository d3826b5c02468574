/* FunConfig (config-plane.md §1.2): the 18 fields as exact terms, decoded
 * from the structs/maps Elixir sends and encoded back as a complete
 * %PhoenixGenApi.Structs.FunConfig{} (19 map keys). Fields hold caller
 * terms verbatim (pids, funs, bignums...): nothing is re-interpreted here;
 * validation is in validate.c. */
#ifndef PGA_CONFIG_FUNCONFIG_H
#define PGA_CONFIG_FUNCONFIG_H

#include <stddef.h>

#include "pga/term.h"

#define PGA_FUNCONFIG_STRUCT "Elixir.PhoenixGenApi.Structs.FunConfig"

/* In the struct's declaration order (the order IEx prints). */
typedef enum {
  PGA_FC_REQUEST_TYPE = 0,
  PGA_FC_SERVICE,
  PGA_FC_NODES,
  PGA_FC_CHOOSE_NODE_MODE,
  PGA_FC_TIMEOUT,
  PGA_FC_MFA,
  PGA_FC_ARG_TYPES,
  PGA_FC_ARG_ORDERS,
  PGA_FC_RESPONSE_TYPE,
  PGA_FC_REQUEST_INFO,
  PGA_FC_CHECK_PERMISSION,
  PGA_FC_PERMISSION_CALLBACK,
  PGA_FC_VERSION,
  PGA_FC_DISABLED,
  PGA_FC_RETRY,
  PGA_FC_BEFORE_EXECUTE,
  PGA_FC_AFTER_EXECUTE,
  PGA_FC_HOOK_TIMEOUT,
  PGA_FC_NFIELDS
} pga_fc_field_t;

typedef struct pga_funconfig_s pga_funconfig_t;

/* The atom name of a field ("request_type"...). */
const char *pga_funconfig_field_name(pga_fc_field_t f);

/* A FunConfig with every field at its default (§1.2). NULL on ENOMEM. */
pga_funconfig_t *pga_funconfig_new(void);
pga_funconfig_t *pga_funconfig_dup(const pga_funconfig_t *fc);
void pga_funconfig_free(pga_funconfig_t *fc);

/* 1 if t is a map whose __struct__ is the FunConfig module. */
int pga_funconfig_is_struct(const pga_term_t *t);
/* Decodes a FunConfig struct (missing keys -> defaults, unknown keys
 * ignored). 0, PGA_ETYPE (not a FunConfig struct) or PGA_ENOMEM. */
int pga_funconfig_decode(const pga_term_t *t, pga_funconfig_t **out);

/* The field's current term (a view valid until the next set/free). */
pga_term_t pga_funconfig_get(const pga_funconfig_t *fc, pga_fc_field_t f);
/* Replaces a field with a copy of value. 0 or PGA_ENOMEM. */
int pga_funconfig_set(pga_funconfig_t *fc, pga_fc_field_t f,
                      const pga_term_t *value);

/* Writes the complete struct: %{__struct__ => FunConfig, 18 fields}. */
void pga_funconfig_encode(pga_tb_t *tb, const pga_funconfig_t *fc);
/* The same as a plain map without __struct__ (the failed-config log). */
void pga_funconfig_encode_map(pga_tb_t *tb, const pga_funconfig_t *fc);

#endif
