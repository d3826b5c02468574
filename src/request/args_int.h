/* Argument specs as parsed from arg_types (request-plane.md §5.1), shared
 * by the driver (args.c) and the per-type checks (argcheck.c). */
#ifndef PGA_REQUEST_ARGS_INT_H
#define PGA_REQUEST_ARGS_INT_H

#include "request/request_int.h"

/* The type after build_type_with_params. */
typedef enum {
  AT_STRING,
  AT_NUM,
  AT_BOOLEAN,
  AT_UUID,
  AT_DATETIME,
  AT_NAIVE,
  AT_LIST,
  AT_LIST_STRING,
  AT_LIST_NUM,
  AT_LIST_UUID,
  AT_LIST_MAP,
  AT_MAP,
  AT_OTHER_ATOM,  /* no validate_simple_type! clause: :any, :integer... */
  AT_NIL,         /* "unknown type for argument" */
  AT_NOT_ATOM     /* "unsupported type <t> for argument" */
} arg_type_t;

/* A size limit: the configured term, or a default when term.buf is NULL.
 * Compared as Erlang does `size > limit`: numbers by value, anything else
 * is above every number (so never exceeded). */
typedef struct limit_s {
  pga_term_t term;
  uint64_t dflt;
} limit_t;

typedef struct spec_s {
  pga_term_t name;
  pga_term_t config;    /* the arg_types value as given */
  pga_term_t type_term; /* the :type value (messages) */
  arg_type_t type;
  int extended;         /* build_type_with_params gave {type, opts} */
  int allow_nil;        /* 1 true, 0 false, -1 another term */
  pga_term_t def;       /* default_value; .buf NULL when nil/absent */
  limit_t max_bytes, max_items, max_item_bytes;
  pga_term_t required;  /* .buf NULL = [] */
  pga_term_t accept;    /* .buf NULL = [] */
  int bad;              /* the spec itself cannot be read (R5) */
} spec_t;

/* What argcheck.c needs beyond the spec. */
typedef struct check_ctx_s {
  const pga_term_t *request_type;
  uint64_t string_max; /* app env string_max_bytes */
  uint64_t list_max;
  uint64_t map_max;
  pga_request_exc_t *exc;
} check_ctx_t;

/* The validate pass for one present, non-nil value (arg_validation!).
 * 0, or PGA_EINVAL with ctx->exc filled, or PGA_ENOMEM. */
int pga__args_validate(const check_ctx_t *ctx, const spec_t *s,
                       const pga_term_t *v);

/* The convert pass for one validated value: 0 with *conv left alone (use
 * the value as is) or, for :datetime and :naive_datetime, the struct
 * written to scratch and *converted set to 1. PGA_EINVAL with ctx->exc,
 * or PGA_ENOMEM. */
int pga__args_convert(const check_ctx_t *ctx, const spec_t *s,
                      const pga_term_t *v, pga_tb_t *scratch,
                      int *converted);

/* Writes {type, opts} as build_type_with_params makes it (for the
 * InvalidType message). */
void pga__args_type_term(pga_tb_t *tb, const check_ctx_t *ctx,
                         const spec_t *s);

#endif
