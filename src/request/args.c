/* ArgumentHandler.convert_args!/2 (request-plane.md §4, §5): reads the
 * argument specs, rejects extra arguments, validates every argument, then
 * converts every argument, and lays the values out as the call expects
 * (arg_orders list, :map, or a single value). The first failure raises,
 * as an exception record (request.h invariant 2).
 *
 * Order matters for which error is reported: extras first; then specs in
 * the library's iteration order of arg_types (ascending names up to 32
 * entries), validate pass for all, convert pass for all. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "request/args_int.h"

#define DEFAULT_STRING_MAX 3000
#define DEFAULT_LIST_MAX 1000
#define DEFAULT_MAP_MAX 1000

/* bad: the spec cannot be read (R5), or has no get_type_with_params/1
 * clause (a tuple other than {atom, _}). */
enum { SPEC_OK = 0, SPEC_BAD, SPEC_NO_CLAUSE };

typedef struct conv_s {
  size_t off, len; /* the converted struct in scratch */
  pga_term_t value;
  int converted;
  int is_nil;
} conv_t;

typedef struct state_s {
  const pga_args_input_t *in;
  check_ctx_t ctx;
  pga_term_t args;       /* .buf NULL: nil or false, read as %{} */
  pga__term_pair_t *argv;  /* args pairs sorted by key (lookups) */
  size_t nargs;
  spec_t *specs;         /* in iteration order */
  size_t nspecs;
  conv_t *conv;
  pga_tb_t scratch;
} state_t;

/* ---- Lookups ---- */

static int pair_key_cmp(const void *a, const void *b) {
  return pga__term_compare(&((const pga__term_pair_t *)a)->key,
                         &((const pga__term_pair_t *)b)->key);
}

/* O(log n) in the sorted pairs. */
static const pga__term_pair_t *find_pair(const pga__term_pair_t *v, size_t n,
                                       const pga_term_t *key) {
  size_t lo = 0, hi = n;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = pga__term_compare(key, &v[mid].key);

    if (c == 0)
      return &v[mid];
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return NULL;
}

/* A map's pairs sorted by key (pga__term_map_pairs sorts flatmaps
 * already). */
static int sorted_pairs(const pga_term_t *map, pga__term_pair_t **out,
                        size_t *n) {
  int rc = pga__term_map_pairs(map, out, n);

  if (rc == 0 && *n > 32)
    qsort(*out, *n, sizeof **out, pair_key_cmp);
  return rc;
}

/* ---- Messages ---- */

static int raise_text(state_t *st, pga__rq_text_t *t) {
  return pga__rq_exc_message(st->ctx.exc, PGA_EXC_ARGUMENT_ERROR,
                             pga__rq_text_take(t));
}

/* "<what> <inspect(name)> in <inspect(rt)>". */
static int name_error(state_t *st, const char *what, const pga_term_t *name) {
  pga__rq_text_t t;

  pga__rq_text_init(&t);
  pga__rq_text_str(&t, what);
  pga__rq_text_inspect(&t, name);
  pga__rq_text_str(&t, " in ");
  pga__rq_text_inspect(&t, st->ctx.request_type);
  return raise_text(st, &t);
}

/* ---- Specs ---- */

static const struct {
  const char *name;
  arg_type_t type;
} type_names[] = {
    {"string", AT_STRING},           {"num", AT_NUM},
    {"boolean", AT_BOOLEAN},         {"uuid", AT_UUID},
    {"datetime", AT_DATETIME},       {"naive_datetime", AT_NAIVE},
    {"list", AT_LIST},               {"list_string", AT_LIST_STRING},
    {"list_num", AT_LIST_NUM},       {"list_uuid", AT_LIST_UUID},
    {"list_map", AT_LIST_MAP},       {"map", AT_MAP}};

static arg_type_t classify(const pga_term_t *type) {
  if (pga__rq_type(type) != PGA_T_ATOM)
    return AT_NOT_ATOM;
  if (pga_term_is_atom(type, "nil"))
    return AT_NIL;
  for (size_t i = 0; i < sizeof type_names / sizeof *type_names; i++)
    if (pga_term_is_atom(type, type_names[i].name))
      return type_names[i].type;
  return AT_OTHER_ATOM;
}

/* Types that build_type_with_params turns into {type, opts}. */
static int takes_options(arg_type_t t) {
  return t == AT_STRING || t == AT_LIST || t == AT_LIST_STRING ||
         t == AT_LIST_NUM || t == AT_LIST_UUID || t == AT_LIST_MAP ||
         t == AT_MAP || t == AT_UUID;
}

/* Keyword.get(opts, key) into *slot; -1 for a malformed entry. */
static int option(const pga_term_t *opts, const char *key, pga_term_t *slot) {
  pga_term_t v;
  int rc;

  if (opts == NULL || opts->buf == NULL)
    return 0;
  if ((rc = pga__rq_kw_get(opts, key, &v)) == 1)
    *slot = v;
  return rc < 0 ? -1 : 0;
}

/* Reads the options of an extended type from opts (a keyword list). */
static int read_options(spec_t *s, const pga_term_t *opts) {
  int bad = 0;

  switch (s->type) {
  case AT_STRING:
    bad |= option(opts, "max_bytes", &s->max_bytes.term);
    break;
  case AT_LIST_STRING:
    bad |= option(opts, "max_item_bytes", &s->max_item_bytes.term);
    /* fall through */
  case AT_LIST:
  case AT_LIST_NUM:
  case AT_LIST_UUID:
  case AT_LIST_MAP:
    bad |= option(opts, "max_items", &s->max_items.term);
    break;
  case AT_MAP:
    bad |= option(opts, "max_items", &s->max_items.term);
    bad |= option(opts, "required", &s->required);
    bad |= option(opts, "accept", &s->accept);
    break;
  default:
    break;
  }
  return bad ? SPEC_BAD : SPEC_OK;
}

/* Keyword.drop/2 needs every element to be a pair; 1 if others remain
 * after dropping :type, :allow_nil? and :default_value. */
static int keyword_rest(const pga_term_t *list, int *has_rest) {
  pga_term_iter_t it;
  pga_term_t el, kv[2];

  *has_rest = 0;
  if (pga_term_iter_init(&it, list) != 0)
    return -1;
  while (pga_term_iter_next(&it, &el)) {
    if (!pga__rq_tuple(&el, 2, kv))
      return -1;
    if (!pga_term_is_atom(&kv[0], "type") &&
        !pga_term_is_atom(&kv[0], "allow_nil?") &&
        !pga_term_is_atom(&kv[0], "default_value"))
      *has_rest = 1;
  }
  return 0;
}

/* The extended form [type: t, ...]. */
static int parse_keyword(spec_t *s) {
  pga_term_t v;
  int has_rest, rc;

  if (!pga__rq_proper_list(&s->config, NULL) ||
      keyword_rest(&s->config, &has_rest) != 0)
    return SPEC_BAD;
  if ((rc = pga__rq_kw_get(&s->config, "type", &v)) < 0)
    return SPEC_BAD;
  s->type_term = rc == 1 ? v : pga_request_nil();
  if ((rc = pga__rq_kw_get(&s->config, "allow_nil?", &v)) < 0)
    return SPEC_BAD;
  if (rc == 1)
    s->allow_nil = pga_term_is_atom(&v, "true")    ? 1
                   : pga_term_is_atom(&v, "false") ? 0
                                                   : -1;
  if ((rc = pga__rq_kw_get(&s->config, "default_value", &v)) < 0)
    return SPEC_BAD;
  if (rc == 1 && !pga__rq_is_nil(&v))
    s->def = v;
  s->type = classify(&s->type_term);
  s->extended = has_rest && takes_options(s->type);
  return s->extended ? read_options(s, &s->config) : SPEC_OK;
}

/* The legacy {type, n} and {type, opts} forms. */
static int parse_tuple(spec_t *s) {
  pga_term_t el[2];
  pga_term_type_t vt;

  if (!pga__rq_tuple(&s->config, 2, el) || pga__rq_type(&el[0]) != PGA_T_ATOM)
    return SPEC_NO_CLAUSE;
  s->type_term = el[0];
  s->type = classify(&el[0]);
  vt = pga__rq_type(&el[1]);
  if (vt == PGA_T_LIST || vt == PGA_T_NIL) {
    if (!pga__rq_proper_list(&el[1], NULL))
      return SPEC_BAD;
    s->extended = vt == PGA_T_LIST && takes_options(s->type);
    return s->extended ? read_options(s, &el[1]) : SPEC_OK;
  }
  /* {type, n}: n is max_bytes for strings, max_items for the list and
   * map types (not :list_uuid, which the library leaves out). */
  if (s->type == AT_STRING) {
    s->max_bytes.term = el[1];
    s->extended = 1;
  } else if (s->type == AT_LIST || s->type == AT_LIST_STRING ||
             s->type == AT_LIST_NUM || s->type == AT_LIST_MAP ||
             s->type == AT_MAP) {
    s->max_items.term = el[1];
    s->extended = 1;
  }
  return SPEC_OK;
}

static void parse_spec(state_t *st, const pga__term_pair_t *p, spec_t *s) {
  pga_term_type_t ty = pga__rq_type(&p->value);

  memset(s, 0, sizeof *s);
  s->name = p->key;
  s->config = p->value;
  s->max_bytes.dflt = st->ctx.string_max;
  s->max_item_bytes.dflt = st->ctx.string_max;
  s->max_items.dflt = st->ctx.list_max;
  if (ty == PGA_T_LIST || ty == PGA_T_NIL) {
    s->bad = parse_keyword(s);
  } else if (ty == PGA_T_TUPLE) {
    s->bad = parse_tuple(s);
  } else {
    s->type_term = p->value;
    s->type = classify(&p->value);
  }
  if (s->type == AT_MAP)
    s->max_items.dflt = st->ctx.map_max;
}

static int spec_error(state_t *st, const spec_t *s) {
  pga__rq_text_t t;

  if (s->bad == SPEC_NO_CLAUSE)
    return pga__rq_exc_clause(st->ctx.exc, "PhoenixGenApi.ArgumentHandler",
                              "get_type_with_params", 1);
  /* docs/compat.md R5: the library fails inside Keyword. */
  pga__rq_text_init(&t);
  pga__rq_text_str(&t, "invalid argument spec for ");
  pga__rq_text_inspect(&t, &s->name);
  pga__rq_text_str(&t, ": ");
  pga__rq_text_inspect(&t, &s->config);
  return raise_text(st, &t);
}

/* ---- The two passes ---- */

/* The value an argument gets before checks: the client's (even nil), or
 * the default when the key is absent. 1 if it is nil. */
static int arg_value(const state_t *st, const spec_t *s, pga_term_t *v) {
  const pga__term_pair_t *p = find_pair(st->argv, st->nargs, &s->name);

  if (p != NULL)
    *v = p->value;
  else if (s->def.buf != NULL)
    *v = s->def;
  else
    *v = pga_request_nil();
  return pga__rq_is_nil(v);
}

static int validate_one(state_t *st, const spec_t *s) {
  pga_term_t v;

  if (s->bad != SPEC_OK)
    return spec_error(st, s);
  if (!arg_value(st, s, &v))
    return pga__args_validate(&st->ctx, s, &v);
  if (s->allow_nil == 1)
    return 0;
  if (s->allow_nil < 0) /* `not allow_nil` on a non-boolean */
    return pga__rq_exc_message(st->ctx.exc, PGA_EXC_ARGUMENT_ERROR,
                               strdup("argument error"));
  return name_error(st, "missing or nil argument ", &s->name);
}

static int convert_one(state_t *st, size_t i) {
  conv_t *c = &st->conv[i];
  size_t before = pga_tb_data(&st->scratch).len;
  int rc;

  if ((c->is_nil = arg_value(st, &st->specs[i], &c->value)))
    return 0;
  rc = pga__args_convert(&st->ctx, &st->specs[i], &c->value, &st->scratch,
                         &c->converted);
  if (rc == 0 && c->converted) {
    if (pga_tb_error(&st->scratch) != 0)
      return PGA_ENOMEM;
    c->off = before;
    c->len = pga_tb_data(&st->scratch).len - before;
  }
  return rc;
}

/* ---- Extra arguments ---- */

static int check_extras(state_t *st, const pga__term_pair_t *types,
                        size_t ntypes) {
  pga_term_t *extra, list;
  pga__rq_text_t t;
  pga_tb_t tb;
  size_t k = 0;
  int rc;

  if (st->nargs == 0)
    return 0;
  if ((extra = malloc(st->nargs * sizeof *extra)) == NULL)
    return PGA_ENOMEM;
  /* st->argv is sorted, so the extras come out sorted (MapSet.to_list). */
  for (size_t i = 0; i < st->nargs; i++)
    if (find_pair(types, ntypes, &st->argv[i].key) == NULL)
      extra[k++] = st->argv[i].key;
  if (k == 0) {
    free(extra);
    return 0;
  }
  pga__tb_init(&tb, 0);
  pga_tb_list_head(&tb, k);
  for (size_t i = 0; i < k; i++)
    pga_tb_term(&tb, &extra[i]);
  pga_tb_nil(&tb);
  free(extra);
  if (pga_tb_error(&tb) != 0) {
    pga__tb_destroy(&tb);
    return PGA_ENOMEM;
  }
  list = pga_tb_data(&tb);
  pga__rq_text_init(&t);
  pga__rq_text_str(&t, "extra arguments for ");
  pga__rq_text_inspect(&t, st->ctx.request_type);
  pga__rq_text_str(&t, ", extra: ");
  pga__rq_text_inspect(&t, &list);
  rc = raise_text(st, &t);
  pga__tb_destroy(&tb);
  return rc;
}

/* ---- Output ---- */

/* How the converted values are laid out (§4). */
enum { OUT_NONE, OUT_MAP, OUT_ONE, OUT_ORDERS };

static int layout(const state_t *st) {
  if (st->nspecs == 0)
    return OUT_NONE;
  if (pga_term_is_atom(&st->in->arg_orders, "map") &&
      pga__rq_type(&st->in->arg_orders) == PGA_T_ATOM)
    return OUT_MAP;
  return st->nspecs == 1 ? OUT_ONE : OUT_ORDERS;
}

static void put_conv(state_t *st, pga_tb_t *out, const conv_t *c) {
  if (c->is_nil) {
    pga_tb_atom(out, "nil");
  } else if (c->converted) {
    pga_term_t all = pga_tb_data(&st->scratch);
    pga_term_t v = {all.buf + c->off, c->len};

    pga_tb_term(out, &v);
  } else {
    pga_tb_term(out, &c->value);
  }
}

static const spec_t *find_spec(const state_t *st, const pga_term_t *name,
                               size_t *idx) {
  for (size_t i = 0; i < st->nspecs; i++) {
    if (pga_term_equal(&st->specs[i].name, name)) {
      *idx = i;
      return &st->specs[i];
    }
  }
  return NULL;
}

/* arg_orders with two or more arguments: every name must resolve to a
 * value, or to nil when that argument allows nil or has a default. */
static int check_orders(state_t *st, size_t *count) {
  const pga_term_t *orders = &st->in->arg_orders;
  pga_term_iter_t it;
  pga_term_t name;
  size_t idx;

  if (!pga__rq_proper_list(orders, count))
    return pga__rq_exc_enumerable(st->ctx.exc, orders);
  if (pga_term_iter_init(&it, orders) != 0)
    return 0;
  while (pga_term_iter_next(&it, &name)) {
    const spec_t *s = find_spec(st, &name, &idx);

    if (s != NULL && (!st->conv[idx].is_nil || s->allow_nil == 1 ||
                      s->def.buf != NULL))
      continue;
    return name_error(st, "missing argument ", &name);
  }
  return 0;
}

static void put_elements(state_t *st, pga_tb_t *out, int mode) {
  pga_term_iter_t it;
  pga_term_t name;
  size_t idx;

  if (mode == OUT_MAP) {
    pga_tb_map(out, st->nspecs);
    for (size_t i = 0; i < st->nspecs; i++) {
      pga_tb_term(out, &st->specs[i].name);
      put_conv(st, out, &st->conv[i]);
    }
  } else if (mode == OUT_ONE) {
    put_conv(st, out, &st->conv[0]);
  } else if (mode == OUT_ORDERS &&
             pga_term_iter_init(&it, &st->in->arg_orders) == 0) {
    while (pga_term_iter_next(&it, &name)) {
      if (find_spec(st, &name, &idx) != NULL)
        put_conv(st, out, &st->conv[idx]);
      else
        pga_tb_atom(out, "nil");
    }
  }
}

/* ---- Driver ---- */

static void state_free(state_t *st) {
  free(st->argv);
  free(st->specs);
  free(st->conv);
  pga__tb_destroy(&st->scratch);
}

static int read_specs(state_t *st, const pga_term_t *types) {
  pga__term_pair_t *pairs;
  size_t n;
  int rc;

  if ((rc = pga__term_map_pairs(types, &pairs, &n)) != 0)
    return rc;
  st->nspecs = n;
  if (n > 0) {
    st->specs = calloc(n, sizeof *st->specs);
    st->conv = calloc(n, sizeof *st->conv);
    if (st->specs == NULL || st->conv == NULL) {
      free(pairs);
      return PGA_ENOMEM;
    }
  }
  for (size_t i = 0; i < n; i++)
    parse_spec(st, &pairs[i], &st->specs[i]);
  free(pairs);
  return 0;
}

/* Extras, specs, validate pass, convert pass. */
static int run(state_t *st) {
  const pga_term_t *types = &st->in->arg_types;
  pga__term_pair_t *tsorted = NULL;
  size_t ntypes = 0;
  int rc, empty_types = pga__rq_is_nil(types);

  if (empty_types)
    return 0; /* arg_types nil: no checks at all */
  if (pga_term_is_atom(types, "false") && pga__rq_type(types) == PGA_T_ATOM)
    empty_types = 1; /* `false || %{}`: no names, but extras still count */
  else if (pga__rq_type(types) == PGA_T_MAP &&
           pga_term_map_size(types, &ntypes) == 0 && ntypes == 0)
    return 0;
  if (st->args.buf != NULL && pga__rq_type(&st->args) != PGA_T_MAP)
    return pga__rq_exc_badmap(st->ctx.exc, &st->args);
  if (!empty_types && pga__rq_type(types) != PGA_T_MAP)
    return pga__rq_exc_badmap(st->ctx.exc, types);
  if (st->args.buf != NULL &&
      (rc = sorted_pairs(&st->args, &st->argv, &st->nargs)) != 0)
    return rc;
  if (!empty_types && (rc = sorted_pairs(types, &tsorted, &ntypes)) != 0)
    return rc;
  rc = check_extras(st, tsorted, ntypes);
  free(tsorted);
  if (rc != 0 || empty_types || (rc = read_specs(st, types)) != 0)
    return rc;
  for (size_t i = 0; i < st->nspecs; i++)
    if ((rc = validate_one(st, &st->specs[i])) != 0)
      return rc;
  for (size_t i = 0; i < st->nspecs; i++)
    if ((rc = convert_one(st, i)) != 0)
      return rc;
  return 0;
}

static void state_init(state_t *st, const pga_args_input_t *in,
                       pga_request_exc_t *exc) {
  const pga_args_limits_t *l = in->limits;

  memset(st, 0, sizeof *st);
  st->in = in;
  st->ctx.request_type = &in->req->request_type;
  st->ctx.exc = exc;
  st->ctx.string_max = l != NULL && l->string_max_bytes ? l->string_max_bytes
                                                        : DEFAULT_STRING_MAX;
  st->ctx.list_max = l != NULL && l->list_max_items ? l->list_max_items
                                                    : DEFAULT_LIST_MAX;
  st->ctx.map_max = l != NULL && l->map_max_items ? l->map_max_items
                                                  : DEFAULT_MAP_MAX;
  /* `request.args || %{}` */
  if (!pga__rq_is_nil(&in->req->args) &&
      !(pga__rq_type(&in->req->args) == PGA_T_ATOM &&
        pga_term_is_atom(&in->req->args, "false")))
    st->args = in->req->args;
  pga__tb_init(&st->scratch, 0);
}

/* Runs the passes and decides the layout; *count is how many list
 * elements the converted part has. */
static int prepare(state_t *st, int *mode, size_t *count) {
  int rc = run(st);

  *mode = layout(st);
  *count = *mode == OUT_NONE ? 0 : 1;
  if (rc == 0 && *mode == OUT_ORDERS)
    rc = check_orders(st, count);
  return rc;
}

static int finish(pga_tb_t *out, int rc) {
  if (rc == 0 && pga_tb_error(out) != 0)
    return pga_tb_error(out);
  return rc;
}

int pga_request_args_convert(const pga_args_input_t *in, pga_tb_t *out,
                             pga_request_exc_t *exc) {
  state_t st;
  size_t count;
  int mode, rc;

  if (in == NULL || in->req == NULL || out == NULL)
    return PGA_EINVAL;
  state_init(&st, in, exc);
  if ((rc = prepare(&st, &mode, &count)) == 0) {
    pga_tb_list_head(out, count);
    put_elements(&st, out, mode);
    pga_tb_nil(out);
  }
  state_free(&st);
  return finish(out, rc);
}

static void put_info(pga_tb_t *out, const pga_request_t *req,
                     const pga_term_t *stream_pid) {
  pga_tb_map(out, stream_pid != NULL ? 4 : 3);
  pga_tb_atom(out, "device_id");
  pga_tb_term(out, &req->device_id);
  pga_tb_atom(out, "request_id");
  pga_tb_term(out, &req->request_id);
  if (stream_pid != NULL) {
    pga_tb_atom(out, "stream_pid");
    pga_tb_term(out, stream_pid);
  }
  pga_tb_atom(out, "user_id");
  pga_tb_term(out, &req->user_id);
}

int pga_request_args_build(const pga_args_input_t *in,
                           const pga_term_t *predefined, int request_info,
                           const pga_term_t *stream_pid, pga_tb_t *out,
                           pga_request_exc_t *exc) {
  pga_term_iter_t it;
  pga_term_t el;
  state_t st;
  size_t count, npre;
  int mode, rc;

  if (in == NULL || in->req == NULL || out == NULL || predefined == NULL)
    return PGA_EINVAL;
  if (!pga__rq_proper_list(predefined, &npre))
    return PGA_ETYPE;
  state_init(&st, in, exc);
  if ((rc = prepare(&st, &mode, &count)) == 0) {
    pga_tb_list_head(out, npre + count + (request_info ? 1 : 0));
    if (pga_term_iter_init(&it, predefined) == 0)
      while (pga_term_iter_next(&it, &el))
        pga_tb_term(out, &el);
    put_elements(&st, out, mode);
    if (request_info)
      put_info(out, in->req, stream_pid);
    pga_tb_nil(out);
  }
  state_free(&st);
  return finish(out, rc);
}
