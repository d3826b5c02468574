/* FunConfig (config-plane.md §1.2): the 18 fields as exact terms, decoded
 * from the structs/maps Elixir sends and encoded back as a complete
 * %PhoenixGenApi.Structs.FunConfig{} (19 map keys). Fields hold caller
 * terms verbatim (pids, funs, bignums...), so encoding gives back the
 * bytes that came in.
 *
 * Beside the wire form, each FunConfig carries its compiled form
 * (pga_fc_compiled_t): the fields the request plane reads on every
 * request, parsed once when the FunConfig is decoded or a field is set,
 * and its validation result (validate.c). The compiled form is what the
 * request plane reads; the wire form answers ConfigDb queries.
 *
 * Sharing: a FunConfig is reference counted and never changes once
 * shared (pga_funconfig_ref): a lookup hands out a reference, not a copy.
 * pga_funconfig_set is for a FunConfig only its creator holds. */
#ifndef PGA_CONFIG_FUNCONFIG_H
#define PGA_CONFIG_FUNCONFIG_H

#include <stddef.h>
#include <stdint.h>

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

/* ---- the compiled form ---- */

/* response_type. */
typedef enum {
  PGA_FC_RESP_SYNC = 0,
  PGA_FC_RESP_ASYNC,
  PGA_FC_RESP_STREAM,
  PGA_FC_RESP_NONE,
  PGA_FC_RESP_OTHER /* not one of the four atoms (unvalidated configs) */
} pga_fc_resp_t;

/* nodes, by shape (as the request plane tells them apart). */
typedef enum {
  PGA_FC_NODES_LIST = 0, /* a list ([] and STRING_EXT included) */
  PGA_FC_NODES_LOCAL,    /* :local */
  PGA_FC_NODES_MFA,      /* a 3-tuple: {m, f, a} resolved per request */
  PGA_FC_NODES_OTHER
} pga_fc_nodes_t;

/* choose_node_mode. */
typedef enum {
  PGA_FC_MODE_RANDOM = 0,
  PGA_FC_MODE_HASH,        /* :hash */
  PGA_FC_MODE_HASH_KEY,    /* {:hash, key} */
  PGA_FC_MODE_ROUND_ROBIN,
  PGA_FC_MODE_STICKY,      /* {:sticky, key} */
  PGA_FC_MODE_OTHER
} pga_fc_mode_t;

/* check_permission. */
typedef enum {
  PGA_FC_PERM_FALSE = 0,
  PGA_FC_PERM_ANY_AUTHENTICATED,
  PGA_FC_PERM_ARG,  /* {:arg, name} */
  PGA_FC_PERM_ROLE, /* {:role, roles} */
  PGA_FC_PERM_OTHER
} pga_fc_perm_t;

/* timeout. */
typedef enum {
  PGA_FC_TIMEOUT_INT = 0, /* an integer that fits int64: timeout_ms */
  PGA_FC_TIMEOUT_INFINITY,
  PGA_FC_TIMEOUT_OTHER
} pga_fc_timeout_t;

/* retry, as FunConfig.normalize_retry/1 reads it. */
typedef enum {
  PGA_FC_RETRY_NONE = 0, /* nil */
  PGA_FC_RETRY_SAME_NODE,
  PGA_FC_RETRY_ALL_NODES, /* a number, or {:all_nodes, n} */
  PGA_FC_RETRY_OTHER
} pga_fc_retry_t;

/* A {module, function, ...} field (mfa, hooks, permission_callback)
 * pre-split: arity is the tuple's arity when it is a tuple whose first two
 * elements are atoms, else 0. Read the texts with pga_funconfig_text. */
typedef struct pga_fc_call_s {
  uint32_t arity;
  uint32_t m, f;      /* offsets of NUL-terminated UTF-8 atom texts */
  uint32_t a, a_len;  /* the third element's bytes (arity >= 3) */
} pga_fc_call_t;

typedef struct pga_fc_compiled_s {
  uint8_t response;   /* pga_fc_resp_t */
  uint8_t nodes;      /* pga_fc_nodes_t */
  uint8_t mode;       /* pga_fc_mode_t */
  uint8_t perm;       /* pga_fc_perm_t */
  uint8_t timeout;    /* pga_fc_timeout_t */
  uint8_t retry;      /* pga_fc_retry_t */
  uint8_t disabled;   /* the disabled field is truthy */
  uint8_t request_info; /* the request_info field is true */
  uint8_t versioned;  /* version is effective: a non-empty binary other
                         than "0.0.0" (the store files it under it) */
  int64_t timeout_ms; /* PGA_FC_TIMEOUT_INT */
  int64_t retry_n;    /* trunc of the retry count (saturated) */
  uint32_t mode_key, mode_key_len; /* {:hash | :sticky, key}: key bytes */
  pga_fc_call_t mfa, permission_callback, before, after;
} pga_fc_compiled_t;

/* The compiled form (valid while fc is). */
const pga_fc_compiled_t *pga_funconfig_compiled(const pga_funconfig_t *fc);
/* A text of the compiled form ("" for offset 0). */
const char *pga_funconfig_text(const pga_funconfig_t *fc, uint32_t off);
/* A term of the compiled form (mode key, call args) as a view. */
pga_term_t pga_funconfig_slice(const pga_funconfig_t *fc, uint32_t off,
                               uint32_t len);

/* The atom name of a field ("request_type"...). */
const char *pga_funconfig_field_name(pga_fc_field_t f);

/* A FunConfig with every field at its default (§1.2). NULL on ENOMEM. */
pga_funconfig_t *pga_funconfig_new(void);
pga_funconfig_t *pga_funconfig_dup(const pga_funconfig_t *fc);
/* One more reference to fc (thread-safe); returns fc. */
pga_funconfig_t *pga_funconfig_ref(const pga_funconfig_t *fc);
/* Drops a reference; the last one frees. NULL is ignored. */
void pga_funconfig_free(pga_funconfig_t *fc);

/* 1 if t is a map whose __struct__ is the FunConfig module. */
int pga_funconfig_is_struct(const pga_term_t *t);
/* Decodes a FunConfig struct (missing keys -> defaults, unknown keys
 * ignored). 0, PGA_ETYPE (not a FunConfig struct) or PGA_ENOMEM. */
int pga_funconfig_decode(const pga_term_t *t, pga_funconfig_t **out);

/* The field's current term (a view valid until the next set/free). */
pga_term_t pga_funconfig_get(const pga_funconfig_t *fc, pga_fc_field_t f);
/* Replaces a field with a copy of value and compiles it again. Only on a
 * FunConfig not shared yet. 0 or PGA_ENOMEM (fc unchanged). */
int pga_funconfig_set(pga_funconfig_t *fc, pga_fc_field_t f,
                      const pga_term_t *value);

/* Writes the complete struct: %{__struct__ => FunConfig, 18 fields}. */
void pga_funconfig_encode(pga_tb_t *tb, const pga_funconfig_t *fc);
/* The same as a plain map without __struct__ (the failed-config log). */
void pga_funconfig_encode_map(pga_tb_t *tb, const pga_funconfig_t *fc);

#endif
