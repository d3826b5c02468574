/* PhoenixGenApi.JsonConfig over RPC (config-plane.md §3.2 rule 3): the
 * stored FunConfigs exported as structs, as the "JSON config list" map a
 * client developer feeds to a test tool, or as that map encoded to JSON.
 *
 * Invariants:
 *   1. The FunConfig exported for a {service, request_type} is chosen as
 *      the library chooses it: the stored versions sorted by plain Erlang
 *      term order (nil first, binaries bytewise, so "9.0.0" beats
 *      "10.0.0"), the last one, kept only if ConfigDb.get on it would
 *      answer {:ok, _} (a disabled winner drops the request type; no
 *      older version stands in). Neither get_fast nor get_latest.
 *   2. The plane lock is held only while the winners are copied; options
 *      are read and answers built after it.
 *   3. Answers are deterministic: the struct list and every map this file
 *      builds follow Erlang term order of service, request type and key,
 *      which is how the library's maps iterate up to 32 keys; the JSON
 *      text has its object keys sorted bytewise (docs/compat.md C33).
 *   4. Options are read as Keyword.get reads them (first match; a present
 *      nil is nil, not the default) and only when a FunConfig needs them:
 *      a bad :descriptions with nothing to export raises nothing, as in
 *      the library.
 *   5. What pga cannot run (a custom {m, f, a} encoder, functions given as
 *      :descriptions or :arg_values) raises ArgumentError naming the option
 *      (docs/compat.md C33); peer terms never abort the node. */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/plane_int.h"
#include "pga/errno.h"
#include "term/inspect.h"
#include "term/term.h"

#define PGA_MOD_JSON "Elixir.PhoenixGenApi.JsonConfig"

/* An exception has been written into out (vs 0 and PGA_E* codes). */
#define RAISED 1

/* Nesting accepted in values encoded to JSON and in chardata: far above
 * any argument map, and a bound on this file's recursion. */
#define MAX_DEPTH 128

/* ---- small string builder ---- */

typedef struct sbuf_s {
  char *s;
  size_t n, cap;
  int err;
} sbuf_t;

static void sb_add(sbuf_t *b, const void *p, size_t n) {
  if (b->err) return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + n + 1) cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
      b->err = 1;
      return;
    }
    b->s = s;
    b->cap = cap;
  }
  if (n) memcpy(b->s + b->n, p, n);
  b->n += n;
  b->s[b->n] = '\0';
}

static void sb_str(sbuf_t *b, const char *s) { sb_add(b, s, strlen(s)); }

/* ---- exceptions ---- */

/* ArgumentError "<prefix><inspect t><suffix>". */
static int raise_inspect(pga_tb_t *out, const char *prefix,
                         const pga_term_t *t, const char *suffix) {
  sbuf_t b = {0};
  char *text = pga_term_inspect_dup(t);
  sb_str(&b, prefix);
  sb_str(&b, text ? text : "");
  sb_str(&b, suffix);
  free(text);
  if (!text || b.err) {
    free(b.s);
    return PGA_ENOMEM;
  }
  pga__argument_error(out, b.s);
  free(b.s);
  return RAISED;
}

/* %Protocol.UndefinedError{protocol: P, value: v, description: ""}, as
 * Elixir raises for a value no implementation of P accepts. */
static int raise_undefined(pga_tb_t *out, const char *protocol,
                           const pga_term_t *v) {
  pga_tb_reset(out);
  pga_tb_map(out, 5);
  pga_tb_atom(out, "__exception__");
  pga_tb_atom(out, "true");
  pga_tb_atom(out, "__struct__");
  pga_tb_atom(out, "Elixir.Protocol.UndefinedError");
  pga_tb_atom(out, "description");
  pga_tb_string(out, "");
  pga_tb_atom(out, "protocol");
  pga_tb_atom(out, protocol);
  pga_tb_atom(out, "value");
  pga_tb_term(out, v);
  return RAISED;
}

/* ---- byte order of keys ---- */

static int bytes_cmp(const void *a, size_t na, const void *b, size_t nb) {
  int c = memcmp(a, b, na < nb ? na : nb);
  return c ? c : (na > nb) - (na < nb);
}

/* ---- choosing the FunConfigs (invariant 1) ---- */

typedef struct item_s {
  pga_term_t svc, rt; /* views into the listing */
  pga_funconfig_t *fc;
} item_t;

typedef struct pick_s {
  pga_tb_t listing; /* get_functions_from_services' map */
  item_t *v;
  size_t n;
} pick_t;

static void pick_free(pick_t *k) {
  for (size_t i = 0; i < k->n; i++) pga_funconfig_free(k->v[i].fc);
  free(k->v);
  pga__tb_destroy(&k->listing);
}

static int item_cmp(const void *a, const void *b) {
  const item_t *x = a, *y = b;
  int c = pga__term_compare(&x->svc, &y->svc);
  return c ? c : pga__term_compare(&x->rt, &y->rt);
}

/* One request type's winner, copied into k when it is enabled. Lock
 * held. 0 or PGA_ENOMEM. */
static int pick_one(const pga_config_plane_t *p, pick_t *k,
                    const pga_term_t *svc, const pga_term_t *rt,
                    const pga_term_t *versions) {
  pga_term_iter_t it;
  pga_term_t v, last;
  int any = 0;
  if (pga_term_iter_init(&it, versions) != 0) return 0;
  while (pga_term_iter_next(&it, &v))
    if (!any || pga__term_compare(&v, &last) > 0) {
      last = v;
      any = 1;
    }
  if (!any) return 0;
  const pga_funconfig_t *fc = pga_store_find(p->store, svc, rt, &last);
  if (!fc || pga_funconfig_disabled(fc)) return 0;
  item_t *e = &k->v[k->n];
  if (!(e->fc = pga_funconfig_dup(fc))) return PGA_ENOMEM;
  e->svc = *svc;
  e->rt = *rt;
  k->n++;
  return 0;
}

/* The exported FunConfigs of the services in `only` (a proper list; NULL
 * = every service), sorted by service then request type. 0 or
 * PGA_ENOMEM; pick_free(k) either way. */
static int pick(pga_config_plane_t *p, const pga_term_t *only, pick_t *k) {
  pga__map_iter_t si, ri;
  pga_term_t svc, rts, rt, vers;
  size_t groups = 0;
  memset(k, 0, sizeof *k);
  pga__tb_init(&k->listing, 0);
  pthread_mutex_lock(&p->lock);
  int rc = pga_store_encode_functions(p->store, &k->listing, only);
  if (rc == 0 && pga_tb_error(&k->listing)) rc = PGA_ENOMEM;
  pga_term_t map = pga_tb_data(&k->listing);
  if (rc == 0 && pga__map_iter_init(&si, &map) == 0)
    while (pga__map_iter_next(&si, &svc, &rts)) {
      size_t n = 0;
      if (pga_term_map_size(&rts, &n) == 0) groups += n;
    }
  if (rc == 0 && groups && !(k->v = calloc(groups, sizeof *k->v)))
    rc = PGA_ENOMEM;
  if (rc == 0 && groups && pga__map_iter_init(&si, &map) == 0)
    while (rc == 0 && pga__map_iter_next(&si, &svc, &rts))
      if (pga__map_iter_init(&ri, &rts) == 0)
        while (rc == 0 && pga__map_iter_next(&ri, &rt, &vers))
          rc = pick_one(p, k, &svc, &rt, &vers);
  pthread_mutex_unlock(&p->lock);
  if (rc == 0 && k->n > 1) qsort(k->v, k->n, sizeof *k->v, item_cmp);
  return rc;
}

/* ---- options ---- */

typedef struct opts_s {
  pga_term_t user_id, device_id, request_id, event;
  int has_user_id, has_device_id, has_request_id, has_event;
  pga_term_t desc, args; /* nil when absent */
} opts_t;

static void opts_read(opts_t *o, const pga_term_t *kw) {
  o->has_user_id = pga__keyword_get(kw, "user_id", &o->user_id);
  o->has_device_id = pga__keyword_get(kw, "device_id", &o->device_id);
  o->has_request_id = pga__keyword_get(kw, "request_id", &o->request_id);
  o->has_event = pga__keyword_get(kw, "event", &o->event);
  if (!pga__keyword_get(kw, "descriptions", &o->desc)) o->desc = pga__t_nil;
  if (!pga__keyword_get(kw, "arg_values", &o->args)) o->args = pga__t_nil;
}

static void put_opt(pga_tb_t *tb, int has, const pga_term_t *v,
                    const char *dflt) {
  if (has)
    pga_tb_term(tb, v);
  else
    pga_tb_string(tb, dflt);
}

/* A fun of arity 1 (is_function(f, 1)). */
static int is_fun1(const pga_term_t *t) {
  pga__head_t h;
  return pga_term_type(t) == PGA_T_FUN &&
         pga__term_head(t->buf, t->len, &h) == 0 && h.i == 1;
}

/* ---- String.Chars.to_string ---- */

static void utf8_put(sbuf_t *b, uint32_t c) {
  char u[4];
  sb_add(b, u, pga__utf8_encode(c, u));
}

/* List.to_string of chardata (code points, binaries, nested lists, a
 * binary or [] tail). 1 if t is chardata. */
static int chardata(sbuf_t *b, const pga_term_t *t, int depth) {
  pga_term_iter_t it;
  pga_term_t el, tail;
  const char *d;
  size_t n;
  int64_t c;
  if (depth > MAX_DEPTH || pga_term_iter_init(&it, t) != 0) return 0;
  while (pga_term_iter_next(&it, &el)) {
    if (pga_term_get_int64(&el, &c) == 0) {
      if (c < 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
      utf8_put(b, (uint32_t)c);
    } else if (pga_term_get_binary(&el, &d, &n) == 0) {
      sb_add(b, d, n);
    } else if (!pga__is_list(&el) || !chardata(b, &el, depth + 1)) {
      return 0;
    }
  }
  pga_term_iter_tail(&it, &tail);
  if (pga_term_get_binary(&tail, &d, &n) == 0) {
    sb_add(b, d, n);
    return 1;
  }
  return pga_term_type(&tail) == PGA_T_NIL;
}

/* Appends to_string(t) ("#{t}" interpolation): 0, or RAISED with
 * Protocol.UndefinedError (String.Chars) in out. Numbers print as
 * inspect/1 prints them, which for integers and floats is to_string. */
static int chars(sbuf_t *b, const pga_term_t *t, pga_tb_t *out) {
  const char *d;
  size_t n;
  char a[PGA_ATOM_BUF];
  switch (pga_term_type(t)) {
    case PGA_T_BINARY:
      if (pga_term_get_binary(t, &d, &n) == 0) {
        sb_add(b, d, n);
        return 0;
      }
      break;
    case PGA_T_ATOM:
      if (pga__is_nil(t)) return 0;
      if (pga_term_get_atom(t, a, sizeof a) == 0) {
        sb_str(b, a);
        return 0;
      }
      break;
    case PGA_T_INTEGER:
    case PGA_T_BIGINT:
    case PGA_T_FLOAT: {
      char *s = pga_term_inspect_dup(t);
      if (!s) {
        b->err = 1;
        return 0;
      }
      sb_str(b, s);
      free(s);
      return 0;
    }
    case PGA_T_NIL:
      return 0;
    case PGA_T_LIST: {
      size_t mark = b->n;
      if (chardata(b, t, 0)) return 0;
      b->n = mark;
      break;
    }
    default:
      break;
  }
  return raise_undefined(out, "Elixir.String.Chars", t);
}

/* ---- one entry: export_single/2 ---- */

/* default_value of an arg_types entry, or "" (`default_value || ""`). */
static void put_default(pga_tb_t *tb, const pga_term_t *arg_config) {
  pga_term_t v;
  if (pga__is_list(arg_config) &&
      pga__keyword_get(arg_config, "default_value", &v) && pga__is_truthy(&v))
    pga_tb_term(tb, &v);
  else
    pga_tb_string(tb, "");
}

/* 1 if list holds a term equal to t before position `before`. */
static int seen_before(const pga_term_t *list, const pga_term_t *t,
                       size_t before) {
  pga_term_iter_t it;
  pga_term_t el;
  size_t i = 0;
  if (pga_term_iter_init(&it, list) != 0) return 0;
  while (i++ < before && pga_term_iter_next(&it, &el))
    if (pga_term_equal(&el, t)) return 1;
  return 0;
}

/* build_default_args: %{} without arg_types; with arg_orders :map every
 * arg_types name, with a list the listed names (a name listed twice is
 * one key, as Map.new makes it), else %{}. arg_types that is not a map
 * where one is read raises as Map.get does ({:badmap, t}).
 * O(names^2): a function's argument count, not a store size. */
static int put_default_args(pga_tb_t *tb, const pga_funconfig_t *fc,
                            pga_tb_t *out) {
  pga_term_t types = pga_funconfig_get(fc, PGA_FC_ARG_TYPES);
  pga_term_t orders = pga_funconfig_get(fc, PGA_FC_ARG_ORDERS);
  pga__map_iter_t mi;
  pga_term_iter_t it;
  pga_term_t k, v;
  size_t n = 0, i = 0;
  int is_map = pga_term_type(&types) == PGA_T_MAP;
  if (pga__is_nil(&types)) {
    pga_tb_map(tb, 0);
    return 0;
  }
  if (pga_term_is_atom(&orders, "map")) {
    /* Enum.map over arg_types. */
    if (!is_map) return raise_undefined(out, "Elixir.Enumerable", &types);
    if (pga_term_map_size(&types, &n) != 0 ||
        pga__map_iter_init(&mi, &types) != 0)
      n = 0;
    pga_tb_map(tb, n);
    while (n && pga__map_iter_next(&mi, &k, &v)) {
      pga_tb_term(tb, &k);
      put_default(tb, &v);
    }
    return 0;
  }
  if (!pga__is_list(&orders)) {
    pga_tb_map(tb, 0);
    return 0;
  }
  if (pga_term_iter_init(&it, &orders) == 0)
    while (pga_term_iter_next(&it, &k)) n += !seen_before(&orders, &k, i++);
  if (n && !is_map) {
    /* Map.get on a non-map. */
    pga_tb_reset(out);
    pga_tb_tuple(out, 2);
    pga_tb_atom(out, "badmap");
    pga_tb_term(out, &types);
    return RAISED;
  }
  pga_tb_map(tb, n);
  i = 0;
  if (n && pga_term_iter_init(&it, &orders) == 0)
    while (pga_term_iter_next(&it, &k)) {
      if (seen_before(&orders, &k, i++)) continue;
      pga_tb_term(tb, &k);
      if (pga_term_map_get(&types, &k, &v) == 0)
        put_default(tb, &v);
      else
        pga_tb_string(tb, "");
    }
  return 0;
}

/* "<request_type> - <description>" into kb. 0, RAISED or PGA_ENOMEM. */
static int build_key(sbuf_t *kb, const pga_funconfig_t *fc, const opts_t *o,
                     pga_tb_t *out) {
  pga_term_t rt = pga_funconfig_get(fc, PGA_FC_REQUEST_TYPE), d = rt;
  int rc = chars(kb, &rt, out);
  if (rc) return rc;
  sb_str(kb, " - ");
  if (pga_term_type(&o->desc) == PGA_T_MAP) {
    if (pga_term_map_get(&o->desc, &rt, &d) != 0) d = rt;
  } else if (is_fun1(&o->desc)) {
    pga__argument_error(out,
                        "descriptions given as a function cannot run in pga "
                        "(a C node); give a map of request_type => "
                        "description");
    return RAISED;
  } else if (!pga__is_nil(&o->desc)) {
    return raise_inspect(out, "invalid descriptions option: ", &o->desc, "");
  }
  rc = chars(kb, &d, out);
  return rc ? rc : kb->err ? PGA_ENOMEM : 0;
}

/* %{"data" => %{...}, "event" => event}. 0, RAISED or PGA_ENOMEM. */
static int build_value(pga_tb_t *vb, const pga_funconfig_t *fc,
                       const opts_t *o, pga_tb_t *out) {
  pga_term_t rt = pga_funconfig_get(fc, PGA_FC_REQUEST_TYPE);
  pga_term_t svc = pga_funconfig_get(fc, PGA_FC_SERVICE);
  pga_term_t ver = pga_funconfig_get(fc, PGA_FC_VERSION), given;
  sbuf_t s = {0};
  int rc = chars(&s, &svc, out);
  if (rc == 0 && s.err) rc = PGA_ENOMEM;
  if (rc == 0 && pga_term_type(&o->args) != PGA_T_MAP &&
      !pga__is_nil(&o->args)) {
    if (is_fun1(&o->args)) {
      pga__argument_error(out,
                          "arg_values given as a function cannot run in pga "
                          "(a C node); give a map of request_type => args");
      rc = RAISED;
    } else {
      rc = raise_inspect(out, "invalid arg_values option: ", &o->args, "");
    }
  }
  if (rc) {
    free(s.s);
    return rc;
  }
  /* Keys in term order, as an Erlang map of this size holds them. */
  pga_tb_map(vb, 2);
  pga_tb_string(vb, "data");
  pga_tb_map(vb, 7);
  pga_tb_string(vb, "args");
  if (pga_term_type(&o->args) == PGA_T_MAP &&
      pga_term_map_get(&o->args, &rt, &given) == 0)
    pga_tb_term(vb, &given);
  else
    rc = put_default_args(vb, fc, out);
  pga_tb_string(vb, "device_id");
  put_opt(vb, o->has_device_id, &o->device_id, "device_1");
  pga_tb_string(vb, "request_id");
  put_opt(vb, o->has_request_id, &o->request_id, "request_1");
  pga_tb_string(vb, "request_type");
  pga_tb_term(vb, &rt);
  pga_tb_string(vb, "service");
  pga_tb_binary(vb, s.s ? s.s : "", s.n);
  pga_tb_string(vb, "user_id");
  put_opt(vb, o->has_user_id, &o->user_id, "user_1");
  pga_tb_string(vb, "version");
  pga_tb_term(vb, &ver);
  pga_tb_string(vb, "event");
  put_opt(vb, o->has_event, &o->event, "phoenix_gen_api");
  free(s.s);
  if (rc == 0 && pga_tb_error(vb)) rc = PGA_ENOMEM;
  return rc;
}

/* ---- the JSON config list map ---- */

typedef struct entry_s {
  const char *key;
  size_t koff, klen, voff, vlen, idx;
} entry_t;

static int entry_cmp(const void *a, const void *b) {
  const entry_t *x = a, *y = b;
  int c = bytes_cmp(x->key, x->klen, y->key, y->klen);
  return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* Writes Map.new of the entries into tb: keys in term order, the last
 * FunConfig winning a key two of them build. 0, RAISED or PGA_ENOMEM. */
static int build_map(pga_tb_t *tb, const pick_t *k, const opts_t *o,
                     pga_tb_t *out) {
  sbuf_t kb = {0};
  pga_tb_t vb;
  entry_t *e = calloc(k->n ? k->n : 1, sizeof *e);
  int rc = e ? 0 : PGA_ENOMEM;
  size_t uniq = 0;
  pga__tb_init(&vb, 0);
  for (size_t i = 0; rc == 0 && i < k->n; i++) {
    e[i].idx = i;
    e[i].koff = kb.n;
    rc = build_key(&kb, k->v[i].fc, o, out);
    e[i].klen = kb.n - e[i].koff;
    e[i].voff = pga_tb_data(&vb).len;
    if (rc == 0) rc = build_value(&vb, k->v[i].fc, o, out);
    e[i].vlen = pga_tb_data(&vb).len - e[i].voff;
  }
  if (rc == 0) {
    pga_term_t all = pga_tb_data(&vb);
    for (size_t i = 0; i < k->n; i++) e[i].key = kb.s + e[i].koff;
    qsort(e, k->n, sizeof *e, entry_cmp);
    for (size_t i = 0; i < k->n; i++)
      uniq += i + 1 == k->n ||
              bytes_cmp(e[i].key, e[i].klen, e[i + 1].key, e[i + 1].klen);
    pga_tb_map(tb, uniq);
    for (size_t i = 0; i < k->n; i++) {
      if (i + 1 < k->n &&
          !bytes_cmp(e[i].key, e[i].klen, e[i + 1].key, e[i + 1].klen))
        continue;
      pga_tb_binary(tb, e[i].key, e[i].klen);
      pga__tb_raw(tb, all.buf + e[i].voff, e[i].vlen);
    }
  }
  free(e);
  free(kb.s);
  pga__tb_destroy(&vb);
  return rc;
}

/* ---- JSON (JSON.encode! of the map) ---- */

static int utf8_valid(const char *s, size_t n) {
  size_t pos = 0;
  while (pos < n)
    if (pga__utf8_next((const unsigned char *)s, n, &pos) < 0) return 0;
  return 1;
}

static int to_json(const pga_term_t *t, int depth, json_t **j,
                   pga_tb_t *out);

static int map_to_json(const pga_term_t *t, int depth, json_t *obj,
                       pga_tb_t *out) {
  pga__map_iter_t mi;
  pga_term_t k, v;
  pga__map_iter_init(&mi, t);
  while (pga__map_iter_next(&mi, &k, &v)) {
    sbuf_t kb = {0};
    json_t *jv = NULL;
    /* JSON.Encoder: atom keys by name, others through String.Chars. */
    int rc = chars(&kb, &k, out);
    if (rc == 0 && kb.err) rc = PGA_ENOMEM;
    if (rc == 0 && (memchr(kb.s ? kb.s : "", 0, kb.n) ||
                    !utf8_valid(kb.s ? kb.s : "", kb.n)))
      rc = raise_inspect(out, "pga cannot encode this map key as JSON "
                              "(NUL or invalid UTF-8): ", &k, "");
    if (rc == 0) rc = to_json(&v, depth + 1, &jv, out);
    if (rc == 0 && json_object_set_new(obj, kb.s ? kb.s : "", jv) != 0)
      rc = PGA_ENOMEM;
    free(kb.s);
    if (rc) return rc;
  }
  return 0;
}

/* The JSON value of t as Elixir's JSON.Encoder defines it: nil, true and
 * false as literals, other atoms as strings, maps as objects, lists as
 * arrays. 0 with *j set, RAISED or PGA_ENOMEM. */
static int to_json(const pga_term_t *t, int depth, json_t **j,
                   pga_tb_t *out) {
  const char *d;
  size_t n;
  int64_t i;
  double f;
  char a[PGA_ATOM_BUF];
  pga_term_t el;
  pga_term_iter_t it;
  int rc = 0;
  *j = NULL;
  if (depth > MAX_DEPTH)
    return raise_inspect(out, "pga cannot encode a value nested over 128 "
                              "levels as JSON: ", t, "");
  switch (pga_term_type(t)) {
    case PGA_T_INTEGER:
      if (pga_term_get_int64(t, &i) == 0) *j = json_integer(i);
      break;
    case PGA_T_BIGINT:
      return raise_inspect(out, "pga cannot encode an integer wider than "
                                "64 bits as JSON: ", t, "");
    case PGA_T_FLOAT:
      if (pga_term_get_double(t, &f) == 0) *j = json_real(f);
      break;
    case PGA_T_ATOM:
      if (pga__is_nil(t))
        *j = json_null();
      else if (pga_term_is_atom(t, "true"))
        *j = json_true();
      else if (pga_term_is_atom(t, "false"))
        *j = json_false();
      else if (pga_term_get_atom(t, a, sizeof a) == 0)
        *j = json_string(a);
      break;
    case PGA_T_BINARY:
      if (pga_term_get_binary(t, &d, &n) != 0) break;
      if (!utf8_valid(d, n))
        return raise_inspect(out, "pga cannot encode a binary that is not "
                                  "UTF-8 as JSON: ", t, "");
      *j = json_stringn(d, n);
      break;
    case PGA_T_NIL:
      *j = json_array();
      break;
    case PGA_T_LIST:
      if (!pga__proper_list(t, NULL))
        return raise_undefined(out, "Elixir.JSON.Encoder", t);
      if (!(*j = json_array()) || pga_term_iter_init(&it, t) != 0) break;
      while (rc == 0 && pga_term_iter_next(&it, &el)) {
        json_t *je;
        rc = to_json(&el, depth + 1, &je, out);
        if (rc == 0 && json_array_append_new(*j, je) != 0) rc = PGA_ENOMEM;
      }
      break;
    case PGA_T_MAP:
      /* A struct has no JSON.Encoder implementation unless derived. */
      if (pga_term_map_get_atom(t, "__struct__", &el) == 0)
        return raise_undefined(out, "Elixir.JSON.Encoder", t);
      if ((*j = json_object())) rc = map_to_json(t, depth, *j, out);
      break;
    default:
      return raise_undefined(out, "Elixir.JSON.Encoder", t);
  }
  if (rc == 0 && !*j) rc = PGA_ENOMEM;
  if (rc) {
    json_decref(*j);
    *j = NULL;
  }
  return rc;
}

/* JSON.encode! of the map term: compact, object keys sorted bytewise. */
static int encode_json(const pga_term_t *map, pga_tb_t *out) {
  json_t *root;
  int rc = to_json(map, 0, &root, out);
  if (rc) return rc;
  char *text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(root);
  if (!text) return PGA_ENOMEM;
  pga_tb_binary(out, text, strlen(text));
  free(text);
  return 0;
}

/* ---- served functions ---- */

static pga_outcome_t finish(int rc, pga_tb_t *out) {
  if (rc == RAISED) return PGA_ERROR;
  if (rc != 0 || pga_tb_error(out)) {
    pga_tb_reset(out);
    return pga__error_atom(out, "out_of_memory");
  }
  return PGA_RETURN;
}

/* generate/2 once the services are a list (`only`, NULL = all). */
static pga_outcome_t do_export(pga_config_plane_t *p, const pga_term_t *only,
                               const pga_term_t *kw, pga_tb_t *out) {
  pick_t k;
  opts_t o;
  pga_term_t fmt, mfa[3];
  int rc = pick(p, only, &k);
  opts_read(&o, kw);
  if (rc == 0 && (!pga__keyword_get(kw, "format", &fmt) ||
                  pga_term_is_atom(&fmt, "structs"))) {
    pga_tb_list(out, k.n); /* alone it writes [] */
    for (size_t i = 0; i < k.n; i++) pga_funconfig_encode(out, k.v[i].fc);
    if (k.n) pga_tb_nil(out);
  } else if (rc == 0 && pga_term_is_atom(&fmt, "map")) {
    rc = build_map(out, &k, &o, out);
  } else if (rc == 0 && (pga_term_is_atom(&fmt, "json") ||
                         (pga__tuple_of(&fmt, 3, mfa) &&
                          pga__is_atom(&mfa[0]) && pga__is_atom(&mfa[1]) &&
                          pga__is_list(&mfa[2])))) {
    pga_tb_t m;
    pga__tb_init(&m, 0);
    rc = build_map(&m, &k, &o, out);
    if (rc == 0 && pga_tb_error(&m)) rc = PGA_ENOMEM;
    if (rc == 0 && pga_term_is_atom(&fmt, "json")) {
      pga_term_t map = pga_tb_data(&m);
      rc = encode_json(&map, out);
    } else if (rc == 0) {
      /* The library would apply(m, f, [map | a]) on the gateway. */
      rc = raise_inspect(out, "format: ", &fmt,
                         " cannot run in pga (a C node): a custom encoder is "
                         "Elixir code; use format: :map or :json");
    }
    pga__tb_destroy(&m);
  } else if (rc == 0) {
    rc = raise_inspect(out, "invalid format: ", &fmt, "");
  }
  pick_free(&k);
  return finish(rc, out);
}

/* generate(service_or_services, opts) when is_list(opts). */
static pga_outcome_t generate(pga_config_plane_t *p, const pga_term_t *s,
                              const pga_term_t *kw, pga_tb_t *out) {
  if (!pga__proper_list(kw, NULL)) return pga__function_clause(out);
  if (pga__is_binary(s) || pga__is_atom(s)) {
    pga_tb_t one;
    pga__tb_init(&one, 0);
    pga_tb_list(&one, 1);
    pga_tb_term(&one, s);
    pga_tb_nil(&one);
    pga_term_t list = pga_tb_data(&one);
    pga_outcome_t r = pga_tb_error(&one) ? finish(PGA_ENOMEM, out)
                                         : do_export(p, &list, kw, out);
    pga__tb_destroy(&one);
    return r;
  }
  /* An improper list: ConfigDb.get_functions_from_services refuses it
   * (function_clause, as db.c answers it). */
  if (pga__is_list(s))
    return pga__proper_list(s, NULL) ? do_export(p, s, kw, out)
                                     : pga__function_clause(out);
  /* No clause of the library's `case` matches: {:case_clause, s}. */
  pga_tb_reset(out);
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "case_clause");
  pga_tb_term(out, s);
  return PGA_ERROR;
}

static pga_outcome_t fn_generate1(pga_config_plane_t *p,
                                  const pga_term_t *argv, pga_tb_t *out) {
  return generate(p, &argv[0], &pga__t_empty_list, out);
}

static pga_outcome_t fn_generate2(pga_config_plane_t *p,
                                  const pga_term_t *argv, pga_tb_t *out) {
  return generate(p, &argv[0], &argv[1], out);
}

/* generate(ConfigDb.get_all_services(), opts). */
static pga_outcome_t fn_export_all0(pga_config_plane_t *p,
                                    const pga_term_t *argv, pga_tb_t *out) {
  (void)argv;
  return do_export(p, NULL, &pga__t_empty_list, out);
}

static pga_outcome_t fn_export_all1(pga_config_plane_t *p,
                                    const pga_term_t *argv, pga_tb_t *out) {
  if (!pga__proper_list(&argv[0], NULL)) return pga__function_clause(out);
  return do_export(p, NULL, &argv[0], out);
}

/* when is_binary(service) or is_atom(service). */
static pga_outcome_t fn_export_service1(pga_config_plane_t *p,
                                        const pga_term_t *argv,
                                        pga_tb_t *out) {
  if (!pga__is_binary(&argv[0]) && !pga__is_atom(&argv[0]))
    return pga__function_clause(out);
  return generate(p, &argv[0], &pga__t_empty_list, out);
}

static pga_outcome_t fn_export_service2(pga_config_plane_t *p,
                                        const pga_term_t *argv,
                                        pga_tb_t *out) {
  if (!pga__is_binary(&argv[0]) && !pga__is_atom(&argv[0]))
    return pga__function_clause(out);
  return generate(p, &argv[0], &argv[1], out);
}

/* export_single(%FunConfig{}, opts) -> {key, value}. opts that is not a
 * list fails in Keyword.get: function_clause too. */
static pga_outcome_t single(const pga_term_t *t, const pga_term_t *kw,
                            pga_tb_t *out) {
  pga_funconfig_t *fc;
  opts_t o;
  sbuf_t kb = {0};
  pga_tb_t vb;
  if (!pga_funconfig_is_struct(t) || !pga__proper_list(kw, NULL))
    return pga__function_clause(out);
  if (pga_funconfig_decode(t, &fc) != 0) return finish(PGA_ENOMEM, out);
  opts_read(&o, kw);
  pga__tb_init(&vb, 0);
  int rc = build_key(&kb, fc, &o, out);
  if (rc == 0) rc = build_value(&vb, fc, &o, out);
  if (rc == 0) {
    pga_term_t v = pga_tb_data(&vb);
    pga_tb_tuple(out, 2);
    pga_tb_binary(out, kb.s, kb.n);
    pga_tb_term(out, &v);
  }
  free(kb.s);
  pga__tb_destroy(&vb);
  pga_funconfig_free(fc);
  return finish(rc, out);
}

static pga_outcome_t fn_export_single1(pga_config_plane_t *p,
                                       const pga_term_t *argv,
                                       pga_tb_t *out) {
  (void)p;
  return single(&argv[0], &pga__t_empty_list, out);
}

static pga_outcome_t fn_export_single2(pga_config_plane_t *p,
                                       const pga_term_t *argv,
                                       pga_tb_t *out) {
  (void)p;
  return single(&argv[0], &argv[1], out);
}

const pga_cfn_def_t pga_json_fns[] = {
    {PGA_MOD_JSON, "generate", 1, fn_generate1},
    {PGA_MOD_JSON, "generate", 2, fn_generate2},
    {PGA_MOD_JSON, "export_all", 0, fn_export_all0},
    {PGA_MOD_JSON, "export_all", 1, fn_export_all1},
    {PGA_MOD_JSON, "export_service", 1, fn_export_service1},
    {PGA_MOD_JSON, "export_service", 2, fn_export_service2},
    {PGA_MOD_JSON, "export_single", 1, fn_export_single1},
    {PGA_MOD_JSON, "export_single", 2, fn_export_single2},
    {NULL, NULL, 0, NULL}};
