/* The request plane's wire terms (request-plane.md §1.1.1, §1.2, §2, §3.3):
 * Response structs, the params decoder with its DecodeError exceptions,
 * exception structs raised to rpc callers, and the sync result mapping.
 * Pure: no I/O, no state. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request/plane.h"
#include "request/request_int.h"
#include "term/term.h"

#define RESPONSE_MOD "Elixir.PhoenixGenApi.Structs.Response"
#define REQUEST_MOD "Elixir.PhoenixGenApi.Structs.Request"

/* The fixed atoms go in unchecked (pga__tb_atom_lit): a Response is
 * written for every request and every stream chunk. */
void pga_request_response(pga_tb_t *tb, const pga_term_t *id,
                          const pga_term_t *result, int success,
                          const char *error, int async, int has_more,
                          int can_retry) {
  pga_tb_map(tb, 8);
  pga__tb_atom_lit(tb, "__struct__");
  pga__tb_atom_lit(tb, RESPONSE_MOD);
  pga__tb_atom_lit(tb, "async");
  pga_tb_bool(tb, async);
  pga__tb_atom_lit(tb, "can_retry");
  pga_tb_bool(tb, can_retry);
  pga__tb_atom_lit(tb, "error");
  if (error)
    pga_tb_string(tb, error);
  else
    pga__tb_atom_lit(tb, "nil");
  pga__tb_atom_lit(tb, "has_more");
  pga_tb_bool(tb, has_more);
  pga__tb_atom_lit(tb, "request_id");
  if (id && id->buf)
    pga_tb_term(tb, id);
  else
    pga__tb_atom_lit(tb, "nil");
  pga__tb_atom_lit(tb, "result");
  if (result && result->buf)
    pga_tb_term(tb, result);
  else
    pga__tb_atom_lit(tb, "nil");
  pga__tb_atom_lit(tb, "success");
  pga_tb_bool(tb, success);
}

void pga_request_error_response(pga_tb_t *tb, const pga_term_t *id,
                                const char *error, int can_retry) {
  pga_request_response(tb, id, NULL, 0, error, 0, 0, can_retry);
}

/* ---- exceptions as reasons (what erpc raises in the caller) ---- */

static const char *exc_module(pga_exc_kind_t kind) {
  switch (kind) {
  case PGA_EXC_ARGUMENT_ERROR: return "Elixir.ArgumentError";
  case PGA_EXC_BAD_MAP: return "Elixir.BadMapError";
  case PGA_EXC_FUNCTION_CLAUSE: return "Elixir.FunctionClauseError";
  case PGA_EXC_PROTOCOL_UNDEFINED: return "Elixir.Protocol.UndefinedError";
  case PGA_EXC_INVALID_TYPE: return "Elixir.PhoenixGenApi.Errors.InvalidType";
  case PGA_EXC_ARITHMETIC: return "Elixir.ArithmeticError";
  default: return "Elixir.RuntimeError";
  }
}

void pga_request_exc_term(pga_tb_t *tb, const pga_request_exc_t *exc) {
  pga_tb_map(tb, 3);
  pga_tb_atom(tb, "__exception__");
  pga_tb_bool(tb, 1);
  pga_tb_atom(tb, "__struct__");
  pga_tb_atom(tb, exc_module(exc->kind));
  pga_tb_atom(tb, "message");
  pga_tb_string(tb, exc->message ? exc->message : "");
}

static void decode_error(pga_tb_t *exc, const char *code, const char *msg) {
  pga_tb_map(exc, 5);
  pga_tb_atom(exc, "__exception__");
  pga_tb_bool(exc, 1);
  pga_tb_atom(exc, "__struct__");
  pga_tb_atom(exc, PGA_REQUEST_DECODE_ERROR);
  pga_tb_atom(exc, "code");
  pga_tb_atom(exc, code);
  pga_tb_atom(exc, "details");
  pga_tb_atom(exc, "nil");
  pga_tb_atom(exc, "message");
  pga_tb_string(exc, msg);
}

/* ---- :erlang.external_size/1 (§1.1.1) ---- */

#define SIZE_MAX_DEPTH 256

static uint64_t size_at(const pga_term_t *t, int depth);

static uint64_t list_size(const pga_term_t *t, int depth) {
  pga_term_iter_t it;
  pga_term_t el, tail;
  uint64_t sum = 0, n = 0;
  int bytes = 1;

  if (pga_term_iter_init(&it, t) != 0)
    return t->len;
  while (pga_term_iter_next(&it, &el) == 1) {
    int64_t v;
    n++;
    if (pga_term_type(&el) != PGA_T_INTEGER ||
        pga_term_get_int64(&el, &v) != 0 || v < 0 || v > 255)
      bytes = 0;
    sum += size_at(&el, depth + 1);
  }
  pga_term_iter_tail(&it, &tail);
  if (bytes && n <= 65535 && pga_term_type(&tail) == PGA_T_NIL)
    return 3 + n; /* STRING_EXT */
  return 5 + sum + size_at(&tail, depth + 1);
}

/* The atom's length in UTF-8 (Latin-1 text takes two bytes a character
 * from 0x80 up), what its ATOM_UTF8 encoding would hold. */
static size_t atom_utf8_len(const pga_term_t *t) {
  pga__head_t h;
  size_t n;

  if (pga__term_head(t->buf, t->len, &h) != 0)
    return t->len;
  n = h.atom.len;
  if (h.atom.latin1)
    for (size_t i = 0; i < h.atom.len; i++) n += h.atom.s[i] >= 0x80;
  return n;
}

/* Elements in one walk (pga_term_tuple_get walks from the start). */
static uint64_t tuple_size(const pga_term_t *t, int depth) {
  pga__head_t h;
  size_t pos, used;
  uint64_t sum;

  if (pga__term_head(t->buf, t->len, &h) != 0)
    return t->len;
  sum = h.n <= 255 ? 2 : 5;
  pos = h.size;
  for (uint64_t i = 0; i < h.n; i++) {
    if (pga__term_skip(t->buf + pos, t->len - pos, &used) != 0)
      return t->len;
    pga_term_t el = {t->buf + pos, used};
    sum += size_at(&el, depth + 1);
    pos += used;
  }
  return sum;
}

static uint64_t size_at(const pga_term_t *t, int depth) {
  int64_t v;
  size_t n = 0;
  uint64_t sum;
  pga_term_t a, b;

  if (depth > SIZE_MAX_DEPTH)
    return t->len; /* R20: deeper terms count as received */
  switch (pga_term_type(t)) {
  case PGA_T_INTEGER:
    if (pga_term_get_int64(t, &v) != 0)
      return t->len;
    if (v >= 0 && v <= 255)
      return 2;
    if (v >= INT32_MIN && v <= INT32_MAX)
      return 5;
    {
      uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
      n = 0;
      while (m) {
        n++;
        m >>= 8;
      }
      return 3 + n;
    }
  case PGA_T_FLOAT:
    return 9;
  case PGA_T_ATOM:
    return PGA_REQUEST_ATOM_HEAD + atom_utf8_len(t);
  case PGA_T_BINARY:
  case PGA_T_BITSTRING:
  case PGA_T_BIGINT:
  case PGA_T_NIL:
    return t->len; /* one encoding each */
  case PGA_T_LIST:
    return list_size(t, depth);
  case PGA_T_TUPLE:
    return tuple_size(t, depth);
  case PGA_T_MAP: {
    pga__map_iter_t it;
    if (pga__map_iter_init(&it, t) != 0)
      return t->len;
    sum = 5;
    while (pga__map_iter_next(&it, &a, &b))
      sum += size_at(&a, depth + 1) + size_at(&b, depth + 1);
    return sum;
  }
  default:
    return t->len; /* pids, ports, refs, funs: as received */
  }
}

uint64_t pga_request_external_size(const pga_term_t *t) {
  return 1 + size_at(t, 0);
}

/* ---- Request.decode!/1 (§1.1.1) ---- */

static const char *const fields[] = {"request_id", "request_type", "service",
                                     "user_id",    "device_id",    "args",
                                     "user_roles", "version"};

#define NPARAMS (sizeof fields / sizeof *fields)

/* The field a key names as a binary (*binary 1) or an atom, or -1. */
static int param_of(const pga_term_t *key, int *binary) {
  const char *data;
  size_t len;

  *binary = pga_term_get_binary(key, &data, &len) == 0;
  for (size_t i = 0; i < NPARAMS; i++) {
    if (*binary ? len == strlen(fields[i]) && memcmp(data, fields[i], len) == 0
                : pga_term_is_atom(key, fields[i]))
      return (int)i;
  }
  return -1;
}

/* Each field's value under its string key, else its atom key, else nil
 * (.buf NULL); one walk over the map (a lookup per key and kind walked it
 * sixteen times). */
static void read_fields(const pga_term_t *params, pga_term_t v[NPARAMS]) {
  pga_term_t by_atom[NPARAMS], key, value;
  pga__map_iter_t it;
  int f, binary;

  for (size_t i = 0; i < NPARAMS; i++) {
    v[i].buf = by_atom[i].buf = NULL;
    v[i].len = by_atom[i].len = 0;
  }
  if (pga__map_iter_init(&it, params) != 0)
    return;
  while (pga__map_iter_next(&it, &key, &value)) {
    if ((f = param_of(&key, &binary)) < 0)
      continue;
    pga_term_t *slot = binary ? &v[f] : &by_atom[f];
    if (slot->buf == NULL) /* the first of equal keys, as a lookup finds */
      *slot = value;
  }
  for (size_t i = 0; i < NPARAMS; i++)
    if (v[i].buf == NULL) v[i] = by_atom[i];
}

static int blank(const pga_term_t *v) {
  const unsigned char *p;
  size_t n;

  if (v->buf == NULL || pga__rq_is_nil(v))
    return 1;
  return pga__rq_binary(v, &p, &n) == 0 && n == 0;
}

/* user_roles: a list keeps its non-empty binaries; anything else is nil. */
static void write_roles(pga_tb_t *tb, const pga_term_t *v) {
  pga_term_iter_t it;
  pga_term_t el;
  size_t keep = 0;

  if (v->buf == NULL || !pga__rq_proper_list(v, NULL) ||
      pga_term_iter_init(&it, v) != 0) {
    pga_tb_atom(tb, "nil");
    return;
  }
  while (pga_term_iter_next(&it, &el) == 1)
    keep += pga__rq_is_nonempty_binary(&el);
  pga_tb_list(tb, keep);
  if (keep == 0)
    return;
  if (pga_term_iter_init(&it, v) != 0)
    return;
  while (pga_term_iter_next(&it, &el) == 1)
    if (pga__rq_is_nonempty_binary(&el))
      pga_tb_term(tb, &el);
  pga_tb_nil(tb);
}

int pga_request_decode_params(const pga_term_t *params, uint64_t etf_size,
                              uint64_t max, pga_tb_t *req, pga_tb_t *exc) {
  char msg[160];

  if (etf_size > max) {
    snprintf(msg, sizeof msg,
             "Request payload exceeds maximum size of %llu bytes (got %llu "
             "bytes)",
             (unsigned long long)max, (unsigned long long)etf_size);
    decode_error(exc, "invalid_payload", msg);
    return PGA_EINVAL;
  }
  if (pga__rq_type(params) != PGA_T_MAP) {
    /* Map.get/3 raises BadMapError: "expected a map, got: <inspect>" */
    pga__rq_text_t t;
    char *m;

    pga__rq_text_init(&t);
    pga__rq_text_str(&t, "Malformed request payload: expected a map, got: ");
    pga__rq_text_inspect(&t, params);
    m = pga__rq_text_take(&t);
    pga__rq_text_free(&t);
    decode_error(exc, "invalid_payload",
                 m ? m : "Malformed request payload");
    free(m);
    return PGA_EINVAL;
  }

  pga_term_t v[NPARAMS];
  read_fields(params, v);

  /* required: request_type, request_id, service, in that order */
  static const size_t req_idx[] = {1, 0, 2};
  size_t o = 0;
  msg[0] = 0;
  for (size_t k = 0; k < 3; k++) {
    if (!blank(&v[req_idx[k]]))
      continue;
    o += (size_t)snprintf(msg + o, sizeof msg - o, "%s%s",
                          o ? ", " : "Missing required fields: ",
                          fields[req_idx[k]]);
  }
  if (o) {
    decode_error(exc, "missing_field", msg);
    return PGA_EINVAL;
  }

  pga_tb_map(req, 9);
  pga_tb_atom(req, "__struct__");
  pga_tb_atom(req, REQUEST_MOD);
  for (size_t i = 0; i < 8; i++) {
    pga_tb_atom(req, fields[i]);
    if (i == 5 && (v[i].buf == NULL || pga__rq_is_nil(&v[i])))
      pga_tb_map(req, 0); /* args nil -> %{} */
    else if (i == 6)
      write_roles(req, &v[i]);
    else if (v[i].buf == NULL)
      pga_tb_atom(req, "nil");
    else
      pga_tb_term(req, &v[i]);
  }
  return 0;
}

/* ---- error strings ---- */

char *pga_request_config_error(const pga_request_t *req, int disabled) {
  pga__rq_text_t t;
  const unsigned char *p;
  size_t n;
  char *s;

  pga__rq_text_init(&t);
  pga__rq_text_str(&t, disabled ? "disabled function: "
                                : "unsupported function: ");
  if (pga__rq_binary(&req->request_type, &p, &n) == 0)
    pga__rq_text_add(&t, (const char *)p, n);
  else /* "#{rt}" of a non-binary: its inspect is close enough (R21) */
    pga__rq_text_inspect(&t, &req->request_type);
  pga__rq_text_str(&t, " version ");
  if (pga__rq_is_nil(&req->version))
    pga__rq_text_str(&t, "latest");
  else if (pga__rq_binary(&req->version, &p, &n) == 0)
    pga__rq_text_add(&t, (const char *)p, n);
  else
    pga__rq_text_inspect(&t, &req->version);
  s = pga__rq_text_take(&t);
  pga__rq_text_free(&t);
  return s;
}

char *pga_request_detail_error(const char *prefix, const pga_term_t *term,
                               const char *inspected) {
  pga__rq_text_t t;
  char *s;

  pga__rq_text_init(&t);
  pga__rq_text_str(&t, prefix);
  if (inspected)
    pga__rq_text_str(&t, inspected);
  else if (term)
    pga__rq_text_inspect(&t, term);
  s = pga__rq_text_take(&t);
  pga__rq_text_free(&t);
  return s;
}

/* ---- §3.3 ---- */

pga_sync_map_t pga_request_map_result(const pga_term_t *raw,
                                      pga_term_t *value) {
  pga_term_t el[2];
  size_t arity;

  if (pga__rq_type(raw) != PGA_T_TUPLE) {
    *value = *raw;
    return PGA_MAP_OK;
  }
  if (pga_term_tuple_arity(raw, &arity) == 0 && arity == 2 &&
      pga_term_tuple_get(raw, 0, &el[0]) == 0 &&
      pga_term_tuple_get(raw, 1, &el[1]) == 0) {
    if (pga_term_is_atom(&el[0], "ok")) {
      *value = el[1];
      return PGA_MAP_OK;
    }
    if (pga_term_is_atom(&el[0], "error"))
      return PGA_MAP_ERROR;
  }
  return PGA_MAP_UNEXPECTED;
}
