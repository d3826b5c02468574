/* JSON <-> terms as a Phoenix channel sees them: client payloads decoded
 * as Jason decodes them, Responses and pushed terms encoded as the
 * library's channel encodes them (request-plane.md §1.2).
 *
 * Invariants:
 *   1. Encoding never trusts the term: every head is decoded with bounds
 *      checks (pga__term_head) and nesting is capped (EP_JSON_DEPTH).
 *   2. What Jason would refuse (tuples, pids, refs, funs, improper lists,
 *      bitstrings, invalid UTF-8) is PGA_EINVAL, never partial output the
 *      caller would send. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "endpoints/ep_int.h"
#include "pga/errno.h"

#define EP_JSON_DEPTH 512

/* ---- JSON -> term ---- */

int pga__ep_json_to_term(const json_t *j, pga_tb_t *tb) {
  const char *k;
  json_t *v;
  size_t i;

  switch (json_typeof(j)) {
  case JSON_OBJECT:
    pga_tb_map(tb, json_object_size(j));
    json_object_foreach((json_t *)j, k, v) {
      pga_tb_binary(tb, k, strlen(k));
      pga__ep_json_to_term(v, tb);
    }
    break;
  case JSON_ARRAY:
    if (json_array_size(j) == 0) {
      pga_tb_nil(tb);
      break;
    }
    pga_tb_list(tb, json_array_size(j));
    json_array_foreach((json_t *)j, i, v) pga__ep_json_to_term(v, tb);
    pga_tb_nil(tb);
    break;
  case JSON_STRING:
    pga_tb_binary(tb, json_string_value(j), json_string_length(j));
    break;
  case JSON_INTEGER:
    pga_tb_int(tb, json_integer_value(j));
    break;
  case JSON_REAL:
    pga_tb_double(tb, json_real_value(j));
    break;
  case JSON_TRUE:
    pga_tb_atom(tb, "true");
    break;
  case JSON_FALSE:
    pga_tb_atom(tb, "false");
    break;
  default:
    pga_tb_atom(tb, "nil");
  }
  return pga_tb_error(tb);
}

/* ---- term -> JSON ---- */

static int put(pga_dynbuf_t *o, const char *s, size_t n) {
  return pga_dynbuf_add(o, s, n) == 0 ? 0 : PGA_ENOMEM;
}

static int puts_(pga_dynbuf_t *o, const char *s) { return put(o, s, strlen(s)); }

/* Escapes as Jason's default (:json) mode: quote, backslash and control
 * characters; invalid UTF-8 is refused. */
static int string_lit(pga_dynbuf_t *o, const unsigned char *s, size_t len,
                      int check) {
  static const char hex[] = "0123456789abcdef";
  size_t i = 0, run = 0;
  if (put(o, "\"", 1)) return PGA_ENOMEM;
  while (i < len) {
    unsigned char ch = s[i];
    if (ch >= 0x80) {
      size_t p = i;
      if (check && pga__utf8_next(s, len, &p) < 0) return PGA_EINVAL;
      if (!check) p = i + 1;
      i = p;
      continue;
    }
    if (ch >= 0x20 && ch != '"' && ch != '\\') {
      i++;
      continue;
    }
    if (put(o, (const char *)s + run, i - run)) return PGA_ENOMEM;
    char esc[7] = {'\\', 0};
    size_t n = 2;
    switch (ch) {
    case '"': esc[1] = '"'; break;
    case '\\': esc[1] = '\\'; break;
    case '\n': esc[1] = 'n'; break;
    case '\r': esc[1] = 'r'; break;
    case '\t': esc[1] = 't'; break;
    case '\b': esc[1] = 'b'; break;
    case '\f': esc[1] = 'f'; break;
    default:
      memcpy(esc + 1, "u00", 3);
      esc[4] = hex[ch >> 4];
      esc[5] = hex[ch & 15];
      n = 6;
    }
    if (put(o, esc, n)) return PGA_ENOMEM;
    run = ++i;
  }
  if (put(o, (const char *)s + run, len - run)) return PGA_ENOMEM;
  return put(o, "\"", 1);
}

int pga__ep_json_string(pga_dynbuf_t *out, const char *s, size_t len) {
  return string_lit(out, (const unsigned char *)s, len, 0);
}

/* An atom's text as a JSON string (latin-1 atoms converted). */
static int atom_lit(pga_dynbuf_t *o, const pga__atom_t *a) {
  if (!a->latin1) return string_lit(o, a->s, a->len, 1);
  unsigned char tmp[512];
  size_t n = 0;
  for (size_t i = 0; i < a->len && n + 2 <= sizeof tmp; i++) {
    unsigned char ch = a->s[i];
    if (ch < 0x80) tmp[n++] = ch;
    else {
      tmp[n++] = (unsigned char)(0xc0 | (ch >> 6));
      tmp[n++] = (unsigned char)(0x80 | (ch & 0x3f));
    }
  }
  return string_lit(o, tmp, n, 0);
}

static int atom_is(const pga__atom_t *a, const char *name) {
  size_t n = strlen(name);
  return a->len == n && memcmp(a->s, name, n) == 0;
}

/* Shortest text that reads back as d, in Erlang's short form (1.0,
 * 1.0e20): what Jason writes. */
static int float_lit(pga_dynbuf_t *o, double d) {
  char b[40];
  if (!isfinite(d)) return PGA_EINVAL;
  for (int p = 1; p <= 17; p++) {
    snprintf(b, sizeof b, "%.*g", p, d);
    if (strtod(b, NULL) == d) break;
  }
  char out[48];
  size_t n = 0;
  char *e = strchr(b, 'e');
  size_t mant = e ? (size_t)(e - b) : strlen(b);
  memcpy(out, b, mant);
  n = mant;
  if (!memchr(b, '.', mant)) {
    memcpy(out + n, ".0", 2);
    n += 2;
  }
  if (e) { /* e+20 -> e20, e-05 -> e-5 */
    const char *x = e + 1;
    out[n++] = 'e';
    if (*x == '-') out[n++] = *x;
    if (*x == '+' || *x == '-') x++;
    while (*x == '0' && x[1]) x++;
    while (*x) out[n++] = *x++;
  }
  return put(o, out, n);
}

/* A bignum (little-endian base-256 digits) in decimal. */
static int big_lit(pga_dynbuf_t *o, const unsigned char *digits, size_t n,
                   int neg) {
  unsigned char tmp[1024];
  char dec[2600];
  size_t dn = 0;
  if (n > sizeof tmp) return PGA_EINVAL;
  memcpy(tmp, digits, n);
  while (n > 0 && tmp[n - 1] == 0) n--;
  while (n > 0) { /* divide by 10, most significant byte first */
    unsigned rem = 0;
    for (size_t i = n; i-- > 0;) {
      unsigned cur = (rem << 8) | tmp[i];
      tmp[i] = (unsigned char)(cur / 10);
      rem = cur % 10;
    }
    dec[dn++] = (char)('0' + rem);
    while (n > 0 && tmp[n - 1] == 0) n--;
  }
  if (dn == 0) dec[dn++] = '0';
  if (neg && put(o, "-", 1)) return PGA_ENOMEM;
  for (size_t i = 0; i < dn / 2; i++) {
    char t = dec[i];
    dec[i] = dec[dn - 1 - i];
    dec[dn - 1 - i] = t;
  }
  return put(o, dec, dn);
}

typedef struct walk_s {
  const char *buf;
  size_t len, pos;
  pga_dynbuf_t *o;
} walk_t;

static int value(walk_t *w, int depth);

/* Skips one term (a dropped __struct__ value). */
static int skip(walk_t *w) {
  size_t used = 0;
  if (pga__term_check(w->buf + w->pos, w->len - w->pos, &used) != 0)
    return PGA_EINVAL;
  w->pos += used;
  return 0;
}

/* A map key: binary, atom or integer (as its text). */
static int key(walk_t *w, int *is_struct) {
  pga__head_t h;
  char num[32];
  *is_struct = 0;
  if (pga__term_head(w->buf + w->pos, w->len - w->pos, &h) != 0)
    return PGA_EINVAL;
  w->pos += h.size;
  switch (h.type) {
  case PGA_T_BINARY:
    return string_lit(w->o, h.data, h.dlen, 1);
  case PGA_T_ATOM:
    if (atom_is(&h.atom, "__struct__")) {
      *is_struct = 1;
      return 0;
    }
    return atom_lit(w->o, &h.atom);
  case PGA_T_INTEGER:
    snprintf(num, sizeof num, "\"%lld\"", (long long)h.i);
    return puts_(w->o, num);
  default:
    return PGA_EINVAL;
  }
}

static int map_value(walk_t *w, uint64_t pairs, int depth) {
  int first = 1, rc, st;
  if (put(w->o, "{", 1)) return PGA_ENOMEM;
  for (uint64_t i = 0; i < pairs; i++) {
    size_t mark = w->o->len;
    if (!first && put(w->o, ",", 1)) return PGA_ENOMEM;
    if ((rc = key(w, &st)) != 0) return rc;
    if (st) { /* the struct's tag: dropped with its value */
      w->o->len = mark;
      if ((rc = skip(w)) != 0) return rc;
      continue;
    }
    if (put(w->o, ":", 1)) return PGA_ENOMEM;
    if ((rc = value(w, depth + 1)) != 0) return rc;
    first = 0;
  }
  return put(w->o, "}", 1);
}

static int list_value(walk_t *w, const pga__head_t *h, int depth) {
  int rc;
  if (put(w->o, "[", 1)) return PGA_ENOMEM;
  for (uint64_t i = 0; i < h->n; i++) {
    if (i && put(w->o, ",", 1)) return PGA_ENOMEM;
    if ((rc = value(w, depth + 1)) != 0) return rc;
  }
  if (h->tail) { /* a proper list ends in [] */
    pga__head_t t;
    if (pga__term_head(w->buf + w->pos, w->len - w->pos, &t) != 0 ||
        t.type != PGA_T_NIL)
      return PGA_EINVAL;
    w->pos += t.size;
  }
  return put(w->o, "]", 1);
}

static int value(walk_t *w, int depth) {
  pga__head_t h;
  char num[32];
  if (depth > EP_JSON_DEPTH) return PGA_EINVAL;
  if (pga__term_head(w->buf + w->pos, w->len - w->pos, &h) != 0)
    return PGA_EINVAL;
  w->pos += h.size;
  switch (h.type) {
  case PGA_T_MAP:
    return map_value(w, h.n / 2, depth);
  case PGA_T_LIST:
    if (h.tag == ERL_STRING_EXT) { /* small integers */
      if (put(w->o, "[", 1)) return PGA_ENOMEM;
      for (size_t i = 0; i < h.dlen; i++) {
        snprintf(num, sizeof num, i ? ",%u" : "%u", h.data[i]);
        if (puts_(w->o, num)) return PGA_ENOMEM;
      }
      return put(w->o, "]", 1);
    }
    return list_value(w, &h, depth);
  case PGA_T_NIL:
    return put(w->o, "[]", 2);
  case PGA_T_BINARY:
    return string_lit(w->o, h.data, h.dlen, 1);
  case PGA_T_ATOM:
    if (atom_is(&h.atom, "nil")) return put(w->o, "null", 4);
    if (atom_is(&h.atom, "true")) return put(w->o, "true", 4);
    if (atom_is(&h.atom, "false")) return put(w->o, "false", 5);
    return atom_lit(w->o, &h.atom);
  case PGA_T_INTEGER:
    snprintf(num, sizeof num, "%lld", (long long)h.i);
    return puts_(w->o, num);
  case PGA_T_BIGINT:
    return big_lit(w->o, h.data, h.dlen, h.neg);
  case PGA_T_FLOAT:
    return float_lit(w->o, h.d);
  default: /* tuples, pids, ports, refs, funs, bitstrings */
    return PGA_EINVAL;
  }
}

int pga__ep_term_to_json(const pga_term_t *t, pga_dynbuf_t *out) {
  walk_t w = {t->buf, t->len, 0, out};
  size_t mark = out->len;
  int rc = value(&w, 0);
  if (rc != 0 && out->len >= mark) out->len = mark;
  return rc;
}
