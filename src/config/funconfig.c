/* FunConfig (spec §1.2): the 18 fields kept as exact caller terms in one
 * block, compiled once (funconfig.h), decoded from a struct map and encoded
 * back with all 19 keys.
 *
 * Layout: one allocation holds the struct and its data block, which is
 * [NUL][compiled texts][field 0 bytes][field 1 bytes]...; field i spans
 * data[off[i] .. off[i + 1]) when bit i of `own` is set, else it is the
 * default. A set() builds a new data block (own allocation) and compiles
 * again; the struct never moves. */
#include "config.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"
#include "config/funconfig.h"
#include "config/plane_int.h"
#include "pga/errno.h"
#include "term/term.h"

#define NF PGA_FC_NFIELDS

static const char *const names[NF] = {
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

static const pga_term_t defaults[NF] = {
    NIL, NIL, NIL, NIL, NIL, NIL, NIL, NIL, NIL, FALSE, FALSE, NIL,
    NIL, FALSE, NIL, NIL, NIL, {hook_b, sizeof hook_b}};

struct pga_funconfig_s {
  _Atomic uint32_t refs;
  uint32_t own;          /* bit i: field i is in data (else the default) */
  uint32_t off[NF + 1];
  unsigned bad;          /* the §2.1 checks that fail (validate.c) */
  char *data;            /* inline_data, or its own block after a set() */
  pga_fc_compiled_t c;
  char inline_data[];
};

const char *pga_funconfig_field_name(pga_fc_field_t f) {
  return f < NF ? names[f] : NULL;
}

/* ---- compiling ---- */

/* Texts gathered while compiling, before the data block exists. */
typedef struct texts_s {
  char buf[8 * PGA_ATOM_BUF];
  size_t len;
} texts_t;

/* A slice inside field `field`'s bytes, relative to the field's start
 * until fill() makes it absolute. */
static void slice_of(const pga_term_t *field, const pga_term_t *part,
                     uint32_t *off, uint32_t *len) {
  *off = (uint32_t)(part->buf - field->buf);
  *len = (uint32_t)part->len;
}

static uint32_t add_text(texts_t *tx, const char *s) {
  size_t n = strlen(s) + 1;
  uint32_t at = (uint32_t)(1 + tx->len); /* data[0] is the empty text */
  memcpy(tx->buf + tx->len, s, n);
  tx->len += n;
  return at;
}

static int head_of(const pga_term_t *t, pga__head_t *h) {
  return pga__term_head(t->buf, t->len, h) == 0;
}

static uint8_t compile_response(const pga_term_t *t) {
  static const char *const rt[] = {"sync", "async", "stream", "none"};
  int i = pga__atom_index(t, rt, 4);
  return i < 0 ? PGA_FC_RESP_OTHER : (uint8_t)i;
}

static int is_tuple_of_arity(const pga_term_t *t, size_t arity) {
  size_t a, first;
  if (pga__peek_tuple(t, &a, &first)) return a == arity;
  return pga_term_tuple_arity(t, &a) == 0 && a == arity;
}

/* The request plane's reading (selector.c pga_request_nodes_kind). */
static uint8_t compile_nodes(const pga_term_t *t) {
  static const char *const local[] = {"local"};
  if (pga__is_list(t)) return PGA_FC_NODES_LIST;
  if (pga__atom_index(t, local, 1) == 0) return PGA_FC_NODES_LOCAL;
  if (is_tuple_of_arity(t, 3)) return PGA_FC_NODES_MFA;
  return PGA_FC_NODES_OTHER;
}

/* The selector's reading: {:hash, key} and {:sticky, key} take any key. */
static uint8_t compile_mode(const pga_term_t *t, pga_fc_compiled_t *c) {
  static const char *const modes[] = {"random", "round_robin", "hash"};
  static const char *const tags[] = {"hash", "sticky"};
  static const uint8_t by_atom[] = {PGA_FC_MODE_RANDOM,
                                    PGA_FC_MODE_ROUND_ROBIN, PGA_FC_MODE_HASH};
  pga_term_t el[2];
  int i = pga__atom_index(t, modes, 3);
  if (i >= 0) return by_atom[i];
  if (!pga__tuple_of(t, 2, el)) return PGA_FC_MODE_OTHER;
  i = pga__atom_index(&el[0], tags, 2);
  if (i < 0) return PGA_FC_MODE_OTHER;
  slice_of(t, &el[1], &c->mode_key, &c->mode_key_len);
  return i == 0 ? PGA_FC_MODE_HASH_KEY : PGA_FC_MODE_STICKY;
}

static uint8_t compile_perm(const pga_term_t *t) {
  static const char *const atoms[] = {"false", "any_authenticated"};
  static const char *const tags[] = {"arg", "role"};
  pga_term_t el[2];
  int i = pga__atom_index(t, atoms, 2);
  if (i >= 0) return i == 0 ? PGA_FC_PERM_FALSE : PGA_FC_PERM_ANY_AUTHENTICATED;
  if (pga__tuple_of(t, 2, el)) {
    i = pga__atom_index(&el[0], tags, 2);
    if (i >= 0) return i == 0 ? PGA_FC_PERM_ARG : PGA_FC_PERM_ROLE;
  }
  return PGA_FC_PERM_OTHER;
}

static uint8_t compile_timeout(const pga_term_t *t, int64_t *ms) {
  static const char *const inf[] = {"infinity"};
  pga__head_t h;
  if (t->len == 2 && (unsigned char)t->buf[0] == PGA__TAG_SMALL_INT) {
    *ms = (unsigned char)t->buf[1];
    return PGA_FC_TIMEOUT_INT;
  }
  if (t->len == 5 && (unsigned char)t->buf[0] == PGA__TAG_INT) {
    *ms = (int32_t)pga__peek_u32(t->buf + 1);
    return PGA_FC_TIMEOUT_INT;
  }
  if (pga__atom_index(t, inf, 1) == 0) return PGA_FC_TIMEOUT_INFINITY;
  if (!head_of(t, &h) || h.type != PGA_T_INTEGER) return PGA_FC_TIMEOUT_OTHER;
  *ms = h.i;
  return PGA_FC_TIMEOUT_INT;
}

/* trunc/1 of a number, saturated to int64 (retry.c's reading). */
static int trunc_number(const pga_term_t *t, int64_t *out) {
  pga__head_t h;
  if (!head_of(t, &h)) return 0;
  switch (h.type) {
  case PGA_T_INTEGER: *out = h.i; return 1;
  case PGA_T_BIGINT: *out = h.neg ? INT64_MIN : INT64_MAX; return 1;
  case PGA_T_FLOAT:
    *out = h.d >= 9223372036854775807.0    ? INT64_MAX
           : h.d <= -9223372036854775808.0 ? INT64_MIN
                                           : (int64_t)h.d;
    return 1;
  default: return 0;
  }
}

/* retry as the request plane normalises it (retry.c). */
static uint8_t compile_retry(const pga_term_t *t, int64_t *n) {
  pga_term_t el[2];
  uint8_t mode;
  *n = 0;
  if (pga__is_nil(t)) return PGA_FC_RETRY_NONE;
  if (pga__is_number(t))
    return trunc_number(t, n) ? PGA_FC_RETRY_ALL_NODES : PGA_FC_RETRY_OTHER;
  if (!pga__tuple_of(t, 2, el) || !pga__is_number(&el[1]))
    return PGA_FC_RETRY_OTHER;
  if (pga_term_is_atom(&el[0], "same_node")) mode = PGA_FC_RETRY_SAME_NODE;
  else if (pga_term_is_atom(&el[0], "all_nodes")) mode = PGA_FC_RETRY_ALL_NODES;
  else return PGA_FC_RETRY_OTHER;
  return trunc_number(&el[1], n) ? mode : PGA_FC_RETRY_OTHER;
}

/* {m, f, ...} with atoms m and f: arity and texts; else arity 0. */
/* An atom's text as UTF-8 with a NUL into tx (pga_term_get_atom's). */
static int atom_text(const pga_term_t *t, texts_t *tx, uint32_t *at) {
  const char *s;
  size_t n;
  int utf8;
  char buf[PGA_ATOM_BUF];
  if (pga__peek_atom(t, &s, &n, &utf8) && n < PGA_ATOM_BUF) {
    size_t i = 0;
    while (i < n && (unsigned char)s[i] < 0x80) i++;
    if (utf8 || i == n) { /* already UTF-8: copied as is */
      memcpy(buf, s, n);
      buf[n] = 0;
      *at = add_text(tx, buf);
      return 1;
    }
  }
  if (pga_term_get_atom(t, buf, sizeof buf) != 0) return 0;
  *at = add_text(tx, buf);
  return 1;
}

static void compile_call(const pga_term_t *t, pga_fc_call_t *call,
                         texts_t *tx) {
  pga_term_t el[3];
  size_t arity, pos;
  memset(call, 0, sizeof *call);
  if (!pga__peek_tuple(t, &arity, &pos) || arity < 2) return;
  size_t want = arity >= 3 ? 3 : 2;
  for (size_t i = 0; i < want; i++) {
    size_t used;
    if (pos > t->len || pga__term_skip(t->buf + pos, t->len - pos, &used))
      return;
    el[i].buf = t->buf + pos;
    el[i].len = used;
    pos += used;
  }
  size_t mark = tx->len;
  if (!atom_text(&el[0], tx, &call->m) || !atom_text(&el[1], tx, &call->f)) {
    tx->len = mark;
    call->m = call->f = 0;
    return;
  }
  call->arity = arity > UINT32_MAX ? UINT32_MAX : (uint32_t)arity;
  if (want == 3) slice_of(t, &el[2], &call->a, &call->a_len);
}

static void compile(const pga_term_t *v, pga_fc_compiled_t *c, texts_t *tx) {
  memset(c, 0, sizeof *c);
  tx->len = 0;
  c->response = compile_response(&v[PGA_FC_RESPONSE_TYPE]);
  c->nodes = compile_nodes(&v[PGA_FC_NODES]);
  c->mode = compile_mode(&v[PGA_FC_CHOOSE_NODE_MODE], c);
  c->perm = compile_perm(&v[PGA_FC_CHECK_PERMISSION]);
  c->timeout = compile_timeout(&v[PGA_FC_TIMEOUT], &c->timeout_ms);
  c->retry = compile_retry(&v[PGA_FC_RETRY], &c->retry_n);
  c->disabled = (uint8_t)pga__is_truthy(&v[PGA_FC_DISABLED]);
  c->request_info = (uint8_t)pga_term_is_atom(&v[PGA_FC_REQUEST_INFO], "true");
  c->versioned = (uint8_t)pga_version_effective(&v[PGA_FC_VERSION]);
  compile_call(&v[PGA_FC_MFA], &c->mfa, tx);
  compile_call(&v[PGA_FC_PERMISSION_CALLBACK], &c->permission_callback, tx);
  compile_call(&v[PGA_FC_BEFORE_EXECUTE], &c->before, tx);
  compile_call(&v[PGA_FC_AFTER_EXECUTE], &c->after, tx);
}

/* Bytes of the data block for fields v (own) and texts tx. */
static size_t data_size(const pga_term_t *v, uint32_t own, const texts_t *tx) {
  size_t n = 1 + tx->len;
  for (size_t i = 0; i < NF; i++)
    if (own & (1u << i)) n += v[i].len;
  return n;
}

static void absolute(pga_fc_call_t *call, uint32_t field_off) {
  if (call->a_len) call->a += field_off;
}

/* Writes texts and fields into data and installs the compiled form c. */
static void fill(pga_funconfig_t *fc, const pga_term_t *v, uint32_t own,
                 const pga_fc_compiled_t *c, const texts_t *tx, char *data) {
  size_t pos = 1 + tx->len;
  data[0] = 0;
  memcpy(data + 1, tx->buf, tx->len);
  for (size_t i = 0; i < NF; i++) {
    fc->off[i] = (uint32_t)pos;
    if (own & (1u << i)) {
      memcpy(data + pos, v[i].buf, v[i].len);
      pos += v[i].len;
    }
  }
  fc->off[NF] = (uint32_t)pos;
  fc->own = own;
  fc->data = data;
  fc->c = *c;
  /* Slices were relative to their field: only own fields hold tuples. */
  if (fc->c.mode_key_len) fc->c.mode_key += fc->off[PGA_FC_CHOOSE_NODE_MODE];
  absolute(&fc->c.mfa, fc->off[PGA_FC_MFA]);
  absolute(&fc->c.permission_callback, fc->off[PGA_FC_PERMISSION_CALLBACK]);
  absolute(&fc->c.before, fc->off[PGA_FC_BEFORE_EXECUTE]);
  absolute(&fc->c.after, fc->off[PGA_FC_AFTER_EXECUTE]);
  fc->bad = pga__funconfig_validate(fc);
}

/* A new FunConfig of fields v (those in own are copied). */
static pga_funconfig_t *build(const pga_term_t *v, uint32_t own) {
  pga_fc_compiled_t c;
  texts_t tx;
  compile(v, &c, &tx);
  pga_funconfig_t *fc = malloc(sizeof *fc + data_size(v, own, &tx));
  if (fc) {
    atomic_init(&fc->refs, 1);
    fill(fc, v, own, &c, &tx, fc->inline_data);
  }
  return fc;
}

static void views(const pga_funconfig_t *fc, pga_term_t *v) {
  for (size_t i = 0; i < NF; i++) v[i] = pga_funconfig_get(fc, (pga_fc_field_t)i);
}

/* ---- lifetime ---- */

pga_funconfig_t *pga_funconfig_new(void) { return build(defaults, 0); }

pga_funconfig_t *pga_funconfig_dup(const pga_funconfig_t *fc) {
  pga_term_t v[NF];
  views(fc, v);
  return build(v, fc->own);
}

pga_funconfig_t *pga_funconfig_ref(const pga_funconfig_t *fc) {
  pga_funconfig_t *m = (pga_funconfig_t *)fc;
  atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
  return m;
}

void pga_funconfig_free(pga_funconfig_t *fc) {
  if (!fc || atomic_fetch_sub_explicit(&fc->refs, 1, memory_order_acq_rel) != 1)
    return;
  if (fc->data != fc->inline_data) free(fc->data);
  free(fc);
}

/* ---- fields ---- */

pga_term_t pga_funconfig_get(const pga_funconfig_t *fc, pga_fc_field_t f) {
  if (!(fc->own & (1u << f))) return defaults[f];
  pga_term_t t = {fc->data + fc->off[f], fc->off[f + 1] - fc->off[f]};
  return t;
}

int pga_funconfig_set(pga_funconfig_t *fc, pga_fc_field_t f,
                      const pga_term_t *value) {
  pga_term_t v[NF];
  pga_fc_compiled_t c;
  views(fc, v);
  v[f] = *value;
  uint32_t own = fc->own | (1u << f);
  texts_t tx;
  compile(v, &c, &tx);
  char *data = malloc(data_size(v, own, &tx));
  if (!data) return PGA_ENOMEM;
  char *old = fc->data != fc->inline_data ? fc->data : NULL;
  fill(fc, v, own, &c, &tx, data); /* v still views the old block */
  free(old);
  return 0;
}

const pga_fc_compiled_t *pga_funconfig_compiled(const pga_funconfig_t *fc) {
  return &fc->c;
}

const char *pga_funconfig_text(const pga_funconfig_t *fc, uint32_t off) {
  return fc->data + off;
}

pga_term_t pga_funconfig_slice(const pga_funconfig_t *fc, uint32_t off,
                               uint32_t len) {
  pga_term_t t = {fc->data + off, len};
  return t;
}

unsigned pga_funconfig_check(const pga_funconfig_t *fc) { return fc->bad; }

int pga__funconfig_same_bytes(const pga_funconfig_t *a,
                              const pga_funconfig_t *b) {
  if (a == b) return 1;
  for (size_t i = 0; i < NF; i++) {
    pga_term_t x = pga_funconfig_get(a, (pga_fc_field_t)i);
    pga_term_t y = pga_funconfig_get(b, (pga_fc_field_t)i);
    if (x.len != y.len || memcmp(x.buf, y.buf, x.len) != 0) return 0;
  }
  return 1;
}

int pga_funconfig_disabled(const pga_funconfig_t *fc) {
  return fc->c.disabled;
}

/* ---- decoding and encoding ---- */

int pga_funconfig_is_struct(const pga_term_t *t) {
  pga_term_t mod;
  return pga_term_type(t) == PGA_T_MAP &&
         pga_term_map_get_atom(t, "__struct__", &mod) == 0 &&
         pga_term_is_atom(&mod, PGA_FUNCONFIG_STRUCT);
}

/* The field an atom key's text names, -1 for others (__struct__ among
 * them). Field names are ASCII: latin-1 and UTF-8 atoms compare alike. */
static int field_of(const char *s, size_t n) {
  static size_t lens[NF];
  if (!lens[0]) /* idempotent: racing initialisers write the same values */
    for (int i = NF - 1; i >= 0; i--) lens[i] = strlen(names[i]);
  for (int i = 0; i < NF; i++)
    if (lens[i] == n && names[i][0] == s[0] && memcmp(names[i], s, n) == 0)
      return i;
  return -1;
}

/* Key orders a re-encoding can reproduce (shape 1 and 2): the one the
 * BEAM sends (a flatmap's keys in term order: __struct__ first, then the
 * names sorted) and pga_funconfig_encode's (__struct__, then the fields
 * in declaration order). Index NF stands for __struct__. */
static const unsigned char sorted_order[NF + 1] = {
    NF, PGA_FC_AFTER_EXECUTE, PGA_FC_ARG_ORDERS, PGA_FC_ARG_TYPES,
    PGA_FC_BEFORE_EXECUTE, PGA_FC_CHECK_PERMISSION, PGA_FC_CHOOSE_NODE_MODE,
    PGA_FC_DISABLED, PGA_FC_HOOK_TIMEOUT, PGA_FC_MFA, PGA_FC_NODES,
    PGA_FC_PERMISSION_CALLBACK, PGA_FC_REQUEST_INFO, PGA_FC_REQUEST_TYPE,
    PGA_FC_RESPONSE_TYPE, PGA_FC_RETRY, PGA_FC_SERVICE, PGA_FC_TIMEOUT,
    PGA_FC_VERSION};

#define TAG_SMALL_ATOM_UTF8 119
#define TAG_MAP 116

/* 1 if key (field id, NF = __struct__) is what pga_tb_atom writes and the
 * __struct__ value what pga_tb_atom(PGA_FUNCONFIG_STRUCT) writes. */
static int canonical_pair(const pga_term_t *k, int id, const pga_term_t *v) {
  static const size_t mlen = sizeof PGA_FUNCONFIG_STRUCT - 1;
  if ((unsigned char)k->buf[0] != TAG_SMALL_ATOM_UTF8) return 0;
  return id != NF || (v->len == 2 + mlen &&
                      (unsigned char)v->buf[0] == TAG_SMALL_ATOM_UTF8 &&
                      memcmp(v->buf + 2, PGA_FUNCONFIG_STRUCT, mlen) == 0);
}

int pga__funconfig_decode_map(const pga_term_t *t, pga_funconfig_t **out,
                              int *is_struct, size_t *used, int *shape) {
  pga__map_iter_t it;
  pga_term_t k, v, vals[NF];
  uint32_t own = 0;
  size_t pairs;
  int seen_struct = 0, sorted_ok, schema_ok;
  size_t seen = 0;
  *is_struct = 0;
  *used = 0;
  *shape = 0;
  if (pga__map_iter_init(&it, t) != 0 || pga_term_map_size(t, &pairs) != 0)
    return PGA_ETYPE;
  if (pairs > PGA__MAX_STRUCT_PAIRS) { /* hostile: not decoded */
    *is_struct = pga_funconfig_is_struct(t);
    return PGA_ETYPE;
  }
  memcpy(vals, defaults, sizeof vals);
  sorted_ok = schema_ok = pairs == NF + 1 && (unsigned char)t->buf[0] == TAG_MAP;
  while (pga__map_iter_next(&it, &k, &v)) {
    size_t at = seen++;
    const char *ks;
    size_t kn;
    int utf8;
    if (!pga__peek_atom(&k, &ks, &kn, &utf8)) { /* not an atom key */
      sorted_ok = schema_ok = 0;
      continue;
    }
    int i = field_of(ks, kn);
    int id = i >= 0 ? i : kn == 10 && memcmp(ks, "__struct__", 10) == 0 ? NF : -1;
    if (sorted_ok || schema_ok) {
      int canon = id >= 0 && canonical_pair(&k, id, &v);
      sorted_ok &= canon && sorted_order[at] == id;
      schema_ok &= canon && (at == 0 ? id == NF : id == (int)at - 1);
    }
    if (i >= 0) {
      vals[i] = v; /* a repeated key: the last wins, as before */
      own |= 1u << i;
    } else if (!seen_struct && id == NF) {
      seen_struct = 1; /* the first __struct__ key decides */
      *is_struct = pga_term_is_atom(&v, PGA_FUNCONFIG_STRUCT);
    }
  }
  if (seen == pairs) *used = it.pos; /* every pair walked: the map's end */
  if (!*is_struct) return PGA_ETYPE;
  *shape = seen != pairs ? 0 : sorted_ok ? PGA__FC_SHAPE_SORTED
                           : schema_ok ? PGA__FC_SHAPE_SCHEMA : 0;
  return (*out = build(vals, own)) ? 0 : PGA_ENOMEM;
}

int pga_funconfig_decode(const pga_term_t *t, pga_funconfig_t **out) {
  int is_struct, shape;
  size_t used;
  return pga__funconfig_decode_map(t, out, &is_struct, &used, &shape);
}

static void encode(pga_tb_t *tb, const pga_funconfig_t *fc, int with_struct) {
  pga_tb_map(tb, NF + (with_struct ? 1 : 0));
  if (with_struct) {
    pga_tb_atom(tb, "__struct__");
    pga_tb_atom(tb, PGA_FUNCONFIG_STRUCT);
  }
  for (size_t i = 0; i < NF; i++) {
    pga_term_t v = pga_funconfig_get(fc, (pga_fc_field_t)i);
    pga_tb_atom(tb, names[i]);
    pga_tb_term(tb, &v);
  }
}

void pga_funconfig_encode(pga_tb_t *tb, const pga_funconfig_t *fc) {
  encode(tb, fc, 1);
}

void pga__funconfig_encode_shape(pga_tb_t *tb, const pga_funconfig_t *fc,
                                 int shape) {
  if (shape != PGA__FC_SHAPE_SORTED) {
    encode(tb, fc, 1);
    return;
  }
  pga_tb_map(tb, NF + 1);
  for (size_t i = 0; i <= NF; i++) {
    unsigned id = sorted_order[i];
    if (id == NF) {
      pga_tb_atom(tb, "__struct__");
      pga_tb_atom(tb, PGA_FUNCONFIG_STRUCT);
    } else {
      pga_term_t v = pga_funconfig_get(fc, (pga_fc_field_t)id);
      pga_tb_atom(tb, names[id]);
      pga_tb_term(tb, &v);
    }
  }
}

void pga_funconfig_encode_map(pga_tb_t *tb, const pga_funconfig_t *fc) {
  encode(tb, fc, 0);
}
