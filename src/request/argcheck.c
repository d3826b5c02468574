/* Per-type argument checks (request-plane.md §5.4-§5.6): the validate
 * pass for one value and the convert pass that turns ISO 8601 strings into
 * DateTime / NaiveDateTime structs, with the library's exact messages. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request/args_int.h"

#define MODULE "PhoenixGenApi.ArgumentHandler"
#define VM_NOT_BITSTRING \
  "errors were found at the given arguments:\n\n  * 1st argument: not a bitstring\n"
#define VM_NOT_LIST \
  "errors were found at the given arguments:\n\n  * 1st argument: not a list\n"

/* ---- Raising ---- */

static int raise_text(const check_ctx_t *c, pga_exc_kind_t kind,
                      pga__rq_text_t *t) {
  return pga__rq_exc_message(c->exc, kind, pga__rq_text_take(t));
}

static int raise_str(const check_ctx_t *c, pga_exc_kind_t kind,
                     const char *s) {
  pga__rq_text_t t;

  pga__rq_text_init(&t);
  pga__rq_text_str(&t, s);
  return raise_text(c, kind, &t);
}

/* ---- Limits and sizes ---- */

static int exceeds(uint64_t count, const limit_t *l) {
  pga__head_t h;

  if (l->term.buf == NULL)
    return count > l->dflt;
  if (pga__term_head(l->term.buf, l->term.len, &h) != 0)
    return 0;
  switch (h.type) {
  case PGA_T_INTEGER: return h.i < 0 || count > (uint64_t)h.i;
  case PGA_T_BIGINT: return h.neg;
  case PGA_T_FLOAT: return (double)count > h.d;
  default: return 0; /* a number is below any other term */
  }
}

static void put_limit(pga__rq_text_t *t, const limit_t *l) {
  if (l->term.buf == NULL)
    pga__rq_text_fmt(t, "%llu", (unsigned long long)l->dflt);
  else
    pga__rq_text_number(t, &l->term);
}

/* byte_size/1: binaries and bitstrings (rounded up); -1 otherwise. */
static int byte_size(const pga_term_t *v, uint64_t *n) {
  pga__head_t h;

  if (pga__term_head(v->buf, v->len, &h) != 0 ||
      (h.type != PGA_T_BINARY && h.type != PGA_T_BITSTRING))
    return -1;
  *n = h.dlen;
  return 0;
}

static int is_binary(const pga_term_t *v) {
  return pga__rq_type(v) == PGA_T_BINARY;
}

/* ---- Shared messages ---- */

static int type_error(const check_ctx_t *c, const pga_term_t *name,
                      const char *expected, const pga_term_t *v) {
  pga__rq_text_t t;

  pga__rq_text_init(&t);
  pga__rq_text_str(&t, "invalid argument type for ");
  pga__rq_text_inspect(&t, name);
  pga__rq_text_fmt(&t, ", expected %s, got ", expected);
  pga__rq_text_inspect(&t, v);
  return raise_text(c, PGA_EXC_ARGUMENT_ERROR, &t);
}

static int items_error(const check_ctx_t *c, const pga_term_t *name,
                       const limit_t *l) {
  pga__rq_text_t t;

  pga__rq_text_init(&t);
  pga__rq_text_str(&t, "invalid argument size for ");
  pga__rq_text_inspect(&t, name);
  pga__rq_text_str(&t, " in ");
  pga__rq_text_inspect(&t, c->request_type);
  pga__rq_text_str(&t, ", max ");
  put_limit(&t, l);
  pga__rq_text_str(&t, " items");
  return raise_text(c, PGA_EXC_ARGUMENT_ERROR, &t);
}

/* validate_string_size!/3. */
static int check_string(const check_ctx_t *c, const pga_term_t *name,
                        const pga_term_t *v, const limit_t *max) {
  pga__rq_text_t t;
  uint64_t n;

  if (byte_size(v, &n) != 0)
    return raise_str(c, PGA_EXC_ARGUMENT_ERROR, VM_NOT_BITSTRING);
  if (!exceeds(n, max))
    return 0;
  pga__rq_text_init(&t);
  pga__rq_text_str(&t, "invalid argument size for ");
  pga__rq_text_inspect(&t, name);
  pga__rq_text_str(&t, ", max ");
  put_limit(&t, max);
  pga__rq_text_str(&t, " bytes");
  return raise_text(c, PGA_EXC_ARGUMENT_ERROR, &t);
}

/* validate_list_size!/5: length/1 first (improper lists fail there). */
static int check_list_size(const check_ctx_t *c, const pga_term_t *name,
                           const pga_term_t *v, const limit_t *max) {
  size_t n;

  if (!pga__rq_proper_list(v, &n))
    return raise_str(c, PGA_EXC_ARGUMENT_ERROR, VM_NOT_LIST);
  return exceeds(n, max) ? items_error(c, name, max) : 0;
}

/* ---- Lists ---- */

/* arg_list_validation!/1: the items of :list (and of lists in maps). */
static int check_plain_items(const check_ctx_t *c, const pga_term_t *list) {
  pga_term_iter_t it;
  pga_term_t item;
  pga__rq_text_t t;
  uint64_t n;

  if (pga_term_iter_init(&it, list) != 0)
    return 0;
  while (pga_term_iter_next(&it, &item)) {
    pga_term_type_t ty = pga__rq_type(&item);

    if (pga__rq_is_bool(&item) || pga__rq_is_number(&item))
      continue;
    if (ty == PGA_T_BINARY) {
      if (byte_size(&item, &n) == 0 && n > c->string_max)
        return raise_str(c, PGA_EXC_ARGUMENT_ERROR,
                         "string item in list exceeds max byte size");
      continue;
    }
    if (ty == PGA_T_MAP)
      return raise_str(c, PGA_EXC_ARGUMENT_ERROR,
                       "nested map is not supported yet");
    if (ty == PGA_T_LIST || ty == PGA_T_NIL)
      return raise_str(c, PGA_EXC_ARGUMENT_ERROR,
                       "nested list is not supported yet");
    pga__rq_text_init(&t);
    pga__rq_text_str(&t, "unsupported type ");
    pga__rq_text_inspect(&t, &item);
    return raise_text(c, PGA_EXC_ARGUMENT_ERROR, &t);
  }
  return 0;
}

/* The item predicates of :list_string, :list_num, :list_uuid, :list_map. */
static int item_ok(const spec_t *s, const check_ctx_t *c,
                   const pga_term_t *item) {
  const unsigned char *p;
  size_t n;
  limit_t dflt = {{NULL, 0}, c->string_max};

  switch (s->type) {
  case AT_LIST_STRING:
    return pga__rq_binary(item, &p, &n) == 0 &&
           !exceeds(n, s->extended ? &s->max_item_bytes : &dflt);
  case AT_LIST_NUM: return pga__rq_is_number(item);
  case AT_LIST_UUID:
    return pga__rq_binary(item, &p, &n) == 0 && pga_request_uuid_valid(p, n);
  default: return pga__rq_type(item) == PGA_T_MAP;
  }
}

/* arg_list_validation!/2: RuntimeError on the first item that fails. */
static int check_typed_items(const check_ctx_t *c, const spec_t *s,
                             const pga_term_t *list) {
  pga_term_iter_t it;
  pga_term_t item;
  pga__rq_text_t t;

  if (pga_term_iter_init(&it, list) != 0)
    return 0;
  while (pga_term_iter_next(&it, &item)) {
    if (item_ok(s, c, &item))
      continue;
    pga__rq_text_init(&t);
    pga__rq_text_str(&t, "unsupported type of ");
    pga__rq_text_inspect(&t, &item);
    pga__rq_text_str(&t, " in list");
    return raise_text(c, PGA_EXC_RUNTIME_ERROR, &t);
  }
  return 0;
}

/* ---- Maps ---- */

static int map_key_error(const check_ctx_t *c, const char *what,
                         const pga_term_t *key) {
  pga__rq_text_t t;

  pga__rq_text_init(&t);
  pga__rq_text_str(&t, what);
  pga__rq_text_inspect(&t, key);
  return raise_text(c, PGA_EXC_ARGUMENT_ERROR, &t);
}

/* One value of an extended :map (arg_map_validation!/1). */
static int check_map_value(const check_ctx_t *c, const pga__term_pair_t *p) {
  pga_term_type_t ty = pga__rq_type(&p->value);
  pga__rq_text_t t;
  uint64_t n;
  size_t len;

  if (pga__rq_is_bool(&p->value) || pga__rq_is_number(&p->value))
    return 0;
  if (ty == PGA_T_BINARY)
    return byte_size(&p->value, &n) == 0 && n > c->string_max
               ? map_key_error(c, "nested map string value exceeds max byte "
                                  "size for key ", &p->key)
               : 0;
  if (ty == PGA_T_LIST || ty == PGA_T_NIL) {
    if (!pga__rq_proper_list(&p->value, &len))
      return raise_str(c, PGA_EXC_ARGUMENT_ERROR, VM_NOT_LIST);
    if (len > c->list_max)
      return map_key_error(c, "nested map list value exceeds max items for "
                              "key ", &p->key);
    return check_plain_items(c, &p->value);
  }
  if (ty == PGA_T_MAP)
    return raise_str(c, PGA_EXC_ARGUMENT_ERROR,
                     "nested map is not supported yet");
  pga__rq_text_init(&t);
  pga__rq_text_str(&t, "unsupported type ");
  pga__rq_text_inspect(&t, &p->value);
  pga__rq_text_str(&t, " in map for key ");
  pga__rq_text_inspect(&t, &p->key);
  return raise_text(c, PGA_EXC_ARGUMENT_ERROR, &t);
}

/* "map argument <n> <what>: <inspect(keys)> in <rt>" with keys the
 * listed terms. */
static int keys_error(const check_ctx_t *c, const pga_term_t *name,
                      const char *what, const pga_term_t *keys, size_t n) {
  pga__rq_text_t t;
  pga_tb_t tb;
  pga_term_t list;

  pga__tb_init(&tb, 0);
  pga_tb_list_head(&tb, n);
  for (size_t i = 0; i < n; i++)
    pga_tb_term(&tb, &keys[i]);
  pga_tb_nil(&tb);
  if (pga_tb_error(&tb) != 0) {
    pga__tb_destroy(&tb);
    return PGA_ENOMEM;
  }
  list = pga_tb_data(&tb);
  pga__rq_text_init(&t);
  pga__rq_text_str(&t, "map argument ");
  pga__rq_text_inspect(&t, name);
  pga__rq_text_fmt(&t, " %s: ", what);
  pga__rq_text_inspect(&t, &list);
  pga__rq_text_str(&t, " in ");
  pga__rq_text_inspect(&t, c->request_type);
  pga__tb_destroy(&tb);
  return raise_text(c, PGA_EXC_ARGUMENT_ERROR, &t);
}

/* validate_map_required_keys!/5: the missing ones in declared order. */
static int check_required(const check_ctx_t *c, const spec_t *s,
                          const pga_term_t *map) {
  pga_term_iter_t it;
  pga_term_t key, found, *missing;
  size_t n, k = 0;
  int rc = 0;

  if (s->required.buf == NULL || pga__rq_type(&s->required) == PGA_T_NIL)
    return 0;
  if (!pga__rq_proper_list(&s->required, &n))
    return pga__rq_exc_enumerable(c->exc, &s->required);
  if ((missing = malloc(n * sizeof *missing)) == NULL)
    return PGA_ENOMEM;
  if (pga_term_iter_init(&it, &s->required) == 0)
    while (pga_term_iter_next(&it, &key))
      if (!pga__rq_map_get(map, &key, &found))
        missing[k++] = key;
  if (k > 0)
    rc = keys_error(c, &s->name, "missing required keys", missing, k);
  free(missing);
  return rc;
}

static int in_list(const pga_term_t *list, const pga_term_t *t) {
  pga_term_iter_t it;
  pga_term_t el;

  if (pga_term_iter_init(&it, list) != 0)
    return 0;
  while (pga_term_iter_next(&it, &el))
    if (pga_term_equal(&el, t))
      return 1;
  return 0;
}

/* validate_map_accepted_keys!/5 then the value checks, in map order. */
static int check_map_contents(const check_ctx_t *c, const spec_t *s,
                              const pga_term_t *map) {
  pga__term_pair_t *pairs;
  pga_term_t *rejected = NULL;
  size_t n, k = 0;
  int rc, accept = s->accept.buf != NULL &&
                   pga__rq_type(&s->accept) != PGA_T_NIL;

  if (accept && !pga__rq_proper_list(&s->accept, NULL))
    return pga__rq_exc_enumerable(c->exc, &s->accept);
  if ((rc = pga__term_map_pairs(map, &pairs, &n)) != 0)
    return rc;
  if (accept && n > 0 && (rejected = malloc(n * sizeof *rejected)) == NULL)
    rc = PGA_ENOMEM;
  for (size_t i = 0; rc == 0 && accept && i < n; i++)
    if (!in_list(&s->accept, &pairs[i].key))
      rejected[k++] = pairs[i].key;
  if (rc == 0 && k > 0)
    rc = keys_error(c, &s->name, "contains rejected keys", rejected, k);
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = check_map_value(c, &pairs[i]);
  free(rejected);
  free(pairs);
  return rc;
}

/* validate_map_size!/5: BadMapError for a non-map. */
static int check_map(const check_ctx_t *c, const spec_t *s,
                     const pga_term_t *v) {
  limit_t dflt = {{NULL, 0}, c->map_max};
  size_t n;
  int rc;

  if (pga_term_map_size(v, &n) != 0)
    return pga__rq_exc_badmap(c->exc, v);
  if (exceeds(n, s->extended ? &s->max_items : &dflt))
    return items_error(c, &s->name, s->extended ? &s->max_items : &dflt);
  if (!s->extended)
    return 0;
  if ((rc = check_required(c, s, v)) != 0)
    return rc;
  return check_map_contents(c, s, v);
}

/* ---- The validate pass ---- */

static int check_lists(const check_ctx_t *c, const spec_t *s,
                       const pga_term_t *v) {
  limit_t dflt = {{NULL, 0}, c->list_max};
  int rc;

  if ((rc = check_list_size(c, &s->name, v,
                            s->extended ? &s->max_items : &dflt)) != 0)
    return rc;
  if (s->type == AT_LIST)
    return check_plain_items(c, v);
  return check_typed_items(c, s, v);
}

static int check_other(const check_ctx_t *c, const spec_t *s) {
  pga__rq_text_t t;
  pga_term_t el[2];

  if (s->type == AT_OTHER_ATOM)
    return pga__rq_exc_clause(c->exc, MODULE, "validate_simple_type!", 4);
  pga__rq_text_init(&t);
  if (s->type == AT_NIL) {
    pga__rq_text_str(&t, "unknown type for argument ");
    pga__rq_text_inspect(&t, &s->name);
    return raise_text(c, PGA_EXC_ARGUMENT_ERROR, &t);
  }
  /* A {atom, opts} type reaches validate_complex_type!/5 and matches no
   * clause there. */
  if (pga__rq_tuple(&s->type_term, 2, el) &&
      pga__rq_type(&el[0]) == PGA_T_ATOM) {
    pga__rq_text_free(&t);
    return pga__rq_exc_clause(c->exc, MODULE, "validate_complex_type!", 5);
  }
  pga__rq_text_str(&t, "unsupported type ");
  pga__rq_text_inspect(&t, &s->type_term);
  pga__rq_text_str(&t, " for argument ");
  pga__rq_text_inspect(&t, &s->name);
  return raise_text(c, PGA_EXC_ARGUMENT_ERROR, &t);
}

int pga__args_validate(const check_ctx_t *c, const spec_t *s,
                       const pga_term_t *v) {
  limit_t dflt = {{NULL, 0}, c->string_max};
  pga__rq_text_t t;
  const unsigned char *p;
  size_t n;

  switch (s->type) {
  case AT_BOOLEAN:
    return pga__rq_is_bool(v) ? 0 : type_error(c, &s->name, ":boolean", v);
  case AT_NUM:
    return pga__rq_is_number(v) ? 0 : type_error(c, &s->name, ":num", v);
  case AT_DATETIME:
  case AT_NAIVE:
    return is_binary(v) ? 0
           : type_error(c, &s->name,
                        s->type == AT_DATETIME
                            ? ":datetime (ISO 8601 string)"
                            : ":naive_datetime (ISO 8601 string)",
                        v);
  case AT_STRING:
    return check_string(c, &s->name, v, s->extended ? &s->max_bytes : &dflt);
  case AT_UUID:
    if (s->extended) /* {:uuid, []}: no validate_complex_type! clause */
      return pga__rq_exc_clause(c->exc, MODULE, "validate_complex_type!", 5);
    if (pga__rq_binary(v, &p, &n) == 0 && pga_request_uuid_valid(p, n))
      return 0;
    pga__rq_text_init(&t);
    pga__rq_text_str(&t, "invalid argument value for ");
    pga__rq_text_inspect(&t, &s->name);
    pga__rq_text_str(&t, ", require a UUID format string");
    return raise_text(c, PGA_EXC_ARGUMENT_ERROR, &t);
  case AT_MAP: return check_map(c, s, v);
  case AT_LIST:
  case AT_LIST_STRING:
  case AT_LIST_NUM:
  case AT_LIST_UUID:
  case AT_LIST_MAP: return check_lists(c, s, v);
  default: return check_other(c, s);
  }
}

/* ---- The convert pass ---- */

void pga__args_type_term(pga_tb_t *tb, const check_ctx_t *c,
                         const spec_t *s) {
  if (!s->extended) {
    pga_tb_atom(tb, "string");
    return;
  }
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, "string");
  pga_tb_list(tb, 1);
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, "max_bytes");
  if (s->max_bytes.term.buf != NULL)
    pga_tb_term(tb, &s->max_bytes.term);
  else
    pga_tb_uint(tb, c->string_max);
  pga_tb_nil(tb);
}

/* A bitstring passes byte_size/1 but not the is_binary guard of
 * convert_arg!: the catch-all clause raises InvalidType with a keyword
 * list, which InvalidType.exception/1 prints with inspect. */
static int string_not_binary(const check_ctx_t *c, const spec_t *s) {
  pga__rq_text_t inner, t;
  pga_tb_t tb;
  char *msg;
  int rc;

  pga__tb_init(&tb, 0);
  pga__args_type_term(&tb, c, s);
  pga__rq_text_init(&inner);
  pga__rq_text_str(&inner, "unsupported type ");
  if (pga_tb_error(&tb) == 0) {
    pga_term_t type = pga_tb_data(&tb);

    pga__rq_text_inspect(&inner, &type);
  }
  pga_tb_reset(&tb);
  msg = pga__rq_text_take(&inner);
  pga_tb_list(&tb, 1);
  pga_tb_tuple(&tb, 2);
  pga_tb_atom(&tb, "message");
  pga_tb_string(&tb, msg != NULL ? msg : "");
  pga_tb_nil(&tb);
  pga__rq_text_init(&t);
  pga__rq_text_str(&t, "Invalid type for argument '");
  if (pga_tb_error(&tb) == 0 && msg != NULL) {
    pga_term_t kw = pga_tb_data(&tb);

    pga__rq_text_inspect(&t, &kw);
  } else {
    t.err = PGA_ENOMEM;
  }
  pga__rq_text_str(&t, "'");
  free(msg);
  pga__tb_destroy(&tb);
  rc = raise_text(c, PGA_EXC_INVALID_TYPE, &t);
  return rc;
}

static int convert_datetime(const check_ctx_t *c, const spec_t *s,
                            const pga_term_t *v, pga_tb_t *scratch) {
  const unsigned char *p;
  const char *reason = NULL;
  pga__rq_text_t t;
  size_t n;
  int zero = 0, rc;

  if (pga__rq_binary(v, &p, &n) != 0)
    return PGA_EINVAL; /* validated: cannot happen */
  if (s->type == AT_DATETIME)
    rc = pga__rq_datetime(p, n, scratch, &reason, &zero);
  else
    rc = pga__rq_naive_datetime(p, n, scratch, &reason);
  if (rc == 0)
    return 0;
  pga__rq_text_init(&t);
  if (zero) {
    pga__rq_text_str(&t, "datetime must include timezone offset (e.g., "
                         "'2024-01-01T00:00:00Z' or "
                         "'2024-01-01T00:00:00+07:00'), got: ");
    pga__rq_text_inspect(&t, v);
  } else {
    pga__rq_text_str(&t, s->type == AT_DATETIME
                             ? "invalid datetime format for "
                             : "invalid naive_datetime format for ");
    pga__rq_text_inspect(&t, v);
    pga__rq_text_fmt(&t, ": %s", reason);
  }
  return raise_text(c, PGA_EXC_ARGUMENT_ERROR, &t);
}

int pga__args_convert(const check_ctx_t *c, const spec_t *s,
                      const pga_term_t *v, pga_tb_t *scratch,
                      int *converted) {
  int rc;

  *converted = 0;
  if (s->type == AT_STRING)
    return is_binary(v) ? 0 : string_not_binary(c, s);
  if (s->type != AT_DATETIME && s->type != AT_NAIVE)
    return 0;
  if ((rc = convert_datetime(c, s, v, scratch)) == 0)
    *converted = 1;
  return rc;
}
