/* pga_term_inspect: a term as Elixir's inspect/1 prints it (one line), for
 * error strings peers compare byte for byte (config-plane.md §10).
 *
 * Follows Elixir 1.14+: module aliases bare (Foo.Bar), other atoms as
 * :name or :"quoted", printable UTF-8 binaries as strings, ASCII-printable
 * lists as ~c"..." charlists, keyword lists and atom-keyed maps in keyword
 * syntax, and the default limits (50 items per collection, decreasing into
 * nested collections as Inspect.Algebra.container_doc does; 4096 bytes of
 * a string). Scalars the gateway never prints in errors (pids, refs,
 * funs, bignums, floats) reuse pga_term_format's text with Elixir's
 * prefixes. Recursion is bounded by INSPECT_MAX_DEPTH ("..." below it). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "term/inspect.h"
#include "term/term.h"

#define INSPECT_LIMIT 50
#define PRINTABLE_LIMIT 4096
#define INSPECT_MAX_DEPTH 200

typedef struct sink_s {
  char *out;
  size_t cap; /* usable bytes; one more holds the NUL */
  size_t n;
} sink_t;

static void put(sink_t *s, const char *p, size_t k) {
  if (s->n < s->cap) {
    size_t room = s->cap - s->n;
    memcpy(s->out + s->n, p, k < room ? k : room);
  }
  s->n += k;
}

static void puts_(sink_t *s, const char *p) { put(s, p, strlen(p)); }

static void put_cp(sink_t *s, uint32_t cp) {
  char b[4];
  put(s, b, pga__utf8_encode(cp, b));
}

/* ---- strings ---- */

static const char esc_chars[] = "\n\r\t\v\b\f\x1b\x7f\a";
static const char esc_names[] = "nrtvbfeda";

/* Printable in String.printable?/1 sense (escapable controls included). */
static int printable_cp(int32_t cp) {
  if (cp < 0) return 0;
  if (cp != 0 && cp < 0x80 && strchr(esc_chars, (int)cp)) return 1;
  return (cp >= 0x20 && cp <= 0x7E) || (cp >= 0xA0 && cp <= 0xD7FF) ||
         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

static int printable_utf8(const unsigned char *p, size_t len) {
  size_t pos = 0;
  while (pos < len)
    if (!printable_cp(pga__utf8_next(p, len, &pos))) return 0;
  return 1;
}

/* One character inside quotes q: Elixir's escapes, and \#{ so the text
 * would not interpolate when pasted back. */
static void put_escaped(sink_t *s, uint32_t cp, char q, int next_is_brace) {
  const char *e;
  char b[2] = {'\\', 0};
  if (cp == (uint32_t)q || cp == '\\') {
    b[1] = (char)cp;
    put(s, b, 2);
  } else if (cp == '#' && next_is_brace) {
    put(s, "\\#", 2);
  } else if (cp != 0 && cp < 0x80 && (e = strchr(esc_chars, (int)cp))) {
    b[1] = esc_names[e - esc_chars];
    put(s, b, 2);
  } else {
    put_cp(s, cp);
  }
}

static void put_quoted_utf8(sink_t *s, const unsigned char *p, size_t len,
                            char q, size_t limit) {
  size_t pos = 0;
  put(s, &q, 1);
  while (pos < len && pos < limit) {
    uint32_t cp = (uint32_t)pga__utf8_next(p, len, &pos);
    put_escaped(s, cp, q, pos < len && p[pos] == '{');
  }
  put(s, &q, 1);
  if (pos < len) puts_(s, " <> ...");
}

/* ---- atoms ---- */

static int is_upper(int c) { return c >= 'A' && c <= 'Z'; }
/* Bytes of non-ASCII UTF-8 count as letters: Elixir accepts Unicode
 * identifiers (:é prints bare). */
static int is_alnum_(int c) {
  return is_upper(c) || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '_' || c >= 0x80;
}

/* [A-Za-z_][A-Za-z0-9_@]*[?!]? */
static int plain_name(const unsigned char *p, size_t n) {
  size_t i = 0;
  if (n == 0 || !(is_alnum_(p[0]) && !(p[0] >= '0' && p[0] <= '9'))) return 0;
  for (i = 1; i < n; i++) {
    if (is_alnum_(p[i]) || p[i] == '@') continue;
    return i == n - 1 && (p[i] == '?' || p[i] == '!');
  }
  return 1;
}

/* Elixir.A.B with every segment an alias ([A-Z][A-Za-z0-9_]*). */
static int alias_name(const unsigned char *p, size_t n) {
  if (n < 7 || memcmp(p, "Elixir", 6) != 0) return n == 6 && !memcmp(p, "Elixir", 6);
  size_t i = 6;
  while (i < n) {
    if (p[i] != '.' || i + 1 >= n || !is_upper(p[i + 1])) return 0;
    i += 2;
    while (i < n && is_alnum_(p[i])) i++;
  }
  return 1;
}

static int operator_name(const unsigned char *p, size_t n) {
  static const char *const ops[] = {
      "+", "-", "*", "/", "++", "--", "<>", "==", "!=", "===", "!==", "<",
      ">", "<=", ">=", "&&", "||", "!", "and", "or", "not", "in", "|>",
      "<<<", ">>>", "~~~", "<<~", "~>>", "<~", "~>", "<~>", "<|>", "=~",
      "..", "...", "..//", "::", "@", "&", "^^^", "\\\\", "=", "->", "|",
      "<-", "when", "%", "%{}", "{}", "<<>>", "^", "."};
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
    if (strlen(ops[i]) == n && memcmp(ops[i], p, n) == 0) return 1;
  return 0;
}

/* The atom's text as UTF-8 into buf (atoms are at most 255 characters). */
static size_t atom_text(const pga__atom_t *a, unsigned char *buf) {
  size_t n = 0;
  for (size_t i = 0; i < a->len; i++) {
    unsigned char c = a->s[i];
    if (a->latin1 && c >= 0x80) {
      buf[n++] = (unsigned char)(0xC0 | c >> 6);
      buf[n++] = (unsigned char)(0x80 | (c & 0x3F));
    } else {
      buf[n++] = c;
    }
  }
  return n;
}

static void put_atom(sink_t *s, const pga__atom_t *a) {
  unsigned char t[2 * 255 * 2 + 4];
  size_t n = atom_text(a, t);
  if ((n == 3 && !memcmp(t, "nil", 3)) || (n == 4 && !memcmp(t, "true", 4)) ||
      (n == 5 && !memcmp(t, "false", 5))) {
    put(s, (const char *)t, n);
  } else if (alias_name(t, n)) {
    put(s, (const char *)t + (n > 6 ? 7 : 0), n > 6 ? n - 7 : n);
  } else if (plain_name(t, n) || operator_name(t, n)) {
    put(s, ":", 1);
    put(s, (const char *)t, n);
  } else {
    put(s, ":", 1);
    put_quoted_utf8(s, t, n, '"', (size_t)-1);
  }
}

/* Keys in keyword syntax: any atom but a module alias. */
static int keyword_key(const pga_term_t *k) {
  pga__head_t h;
  unsigned char t[2 * 255 * 2 + 4];
  if (pga__term_head(k->buf, k->len, &h) != 0 || h.type != PGA_T_ATOM)
    return 0;
  size_t n = atom_text(&h.atom, t);
  return !alias_name(t, n);
}

/* A keyword key or map key in keyword syntax: `name: ` or `"x y": `. */
static void put_key(sink_t *s, const pga__atom_t *a) {
  unsigned char t[2 * 255 * 2 + 4];
  size_t n = atom_text(a, t);
  if (plain_name(t, n) || operator_name(t, n))
    put(s, (const char *)t, n);
  else
    put_quoted_utf8(s, t, n, '"', (size_t)-1);
  put(s, ": ", 2);
}

/* ---- containers ---- */

typedef struct ctx_s {
  sink_t *s;
  int depth;
} ctx_t;

static void put_term(ctx_t *c, const pga_term_t *t, int limit);

static int head(const pga_term_t *t, pga__head_t *h) {
  return pga__term_head(t->buf, t->len, h);
}

/* Printable as an ASCII charlist: List.ascii_printable?/1. */
static int ascii_charlist(const pga_term_t *t) {
  pga_term_iter_t it;
  pga_term_t el, tail;
  int64_t v;
  if (pga_term_iter_init(&it, t) != 0) return 0;
  while (pga_term_iter_next(&it, &el)) {
    if (pga_term_type(&el) != PGA_T_INTEGER || pga_term_get_int64(&el, &v))
      return 0;
    if (!((v >= 0x20 && v <= 0x7E) || (v > 0 && v < 0x80 &&
                                       strchr(esc_chars, (int)v))))
      return 0;
  }
  pga_term_iter_tail(&it, &tail);
  return pga_term_type(&tail) == PGA_T_NIL;
}

static int keyword_list(const pga_term_t *t) {
  pga_term_iter_t it;
  pga_term_t el, k, tail;
  if (pga_term_iter_init(&it, t) != 0) return 0;
  while (pga_term_iter_next(&it, &el)) {
    size_t a;
    if (pga_term_tuple_arity(&el, &a) || a != 2 ||
        pga_term_tuple_get(&el, 0, &k) || !keyword_key(&k))
      return 0;
  }
  pga_term_iter_tail(&it, &tail);
  return pga_term_type(&tail) == PGA_T_NIL;
}

static void put_charlist(ctx_t *c, const pga_term_t *t) {
  pga_term_iter_t it;
  pga_term_t el;
  int64_t v;
  size_t k = 0;
  puts_(c->s, "~c\"");
  (void)pga_term_iter_init(&it, t);
  while (pga_term_iter_next(&it, &el) && k++ < PRINTABLE_LIMIT) {
    (void)pga_term_get_int64(&el, &v);
    put_escaped(c->s, (uint32_t)v, '"', 0);
  }
  put(c->s, "\"", 1);
  if (k > PRINTABLE_LIMIT) puts_(c->s, " ++ ...");
}

/* {k, v} of a keyword list element, printed `k: v`. */
static void put_pair_kw(ctx_t *c, const pga_term_t *k, const pga_term_t *v,
                        int limit) {
  pga__head_t h;
  if (head(k, &h) == 0) put_key(c->s, &h.atom);
  put_term(c, v, limit);
}

static void put_list(ctx_t *c, const pga_term_t *t, int limit) {
  pga_term_iter_t it;
  pga_term_t el, tail, k, v;
  int kw = keyword_list(t), first = 1;
  if (!kw && ascii_charlist(t)) {
    put_charlist(c, t);
    return;
  }
  put(c->s, "[", 1);
  (void)pga_term_iter_init(&it, t);
  while (pga_term_iter_next(&it, &el)) {
    if (!first) put(c->s, ", ", 2);
    first = 0;
    if (limit == 0) {
      puts_(c->s, "...");
      break;
    }
    limit--;
    if (kw && pga_term_tuple_get(&el, 0, &k) == 0 &&
        pga_term_tuple_get(&el, 1, &v) == 0)
      put_pair_kw(c, &k, &v, limit);
    else
      put_term(c, &el, limit);
  }
  pga_term_iter_tail(&it, &tail);
  if (limit > 0 && pga_term_type(&tail) != PGA_T_NIL) {
    put(c->s, " | ", 3);
    put_term(c, &tail, limit);
  }
  put(c->s, "]", 1);
}

static void put_tuple(ctx_t *c, const pga_term_t *t, int limit) {
  size_t n;
  pga_term_t el;
  (void)pga_term_tuple_arity(t, &n);
  put(c->s, "{", 1);
  for (size_t i = 0; i < n; i++) {
    if (i) put(c->s, ", ", 2);
    if (limit == 0) {
      puts_(c->s, "...");
      break;
    }
    limit--;
    if (pga_term_tuple_get(t, i, &el) == 0) put_term(c, &el, limit);
  }
  put(c->s, "}", 1);
}

/* Walks map pairs in wire order, O(1) per pair. */
typedef struct pairs_s {
  pga_term_t map;
  size_t pos;
  uint64_t left;
} pairs_t;

static void pairs_init(pairs_t *p, const pga_term_t *t) {
  pga__head_t h;
  p->map = *t;
  p->left = 0;
  if (head(t, &h) == 0) {
    p->pos = h.size;
    p->left = h.n / 2;
  }
}

static int pairs_next(pairs_t *p, pga_term_t *k, pga_term_t *v) {
  size_t used;
  pga_term_t *out[2] = {k, v};
  if (p->left == 0) return 0;
  for (int i = 0; i < 2; i++) {
    if (pga__term_check(p->map.buf + p->pos, p->map.len - p->pos, &used)) {
      p->left = 0;
      return 0;
    }
    out[i]->buf = p->map.buf + p->pos;
    out[i]->len = used;
    p->pos += used;
  }
  p->left--;
  return 1;
}

/* Map pairs in wire order; keyword syntax when every key is a keyword
 * key. */
static void put_map_body(ctx_t *c, const pga_term_t *t, int limit) {
  pairs_t it;
  pga_term_t k, v;
  int atoms = 1, first = 1;
  pairs_init(&it, t);
  while (atoms && pairs_next(&it, &k, &v))
    if (!keyword_key(&k)) atoms = 0;
  pairs_init(&it, t);
  while (pairs_next(&it, &k, &v)) {
    if (!first) put(c->s, ", ", 2);
    first = 0;
    if (limit == 0) {
      puts_(c->s, "...");
      break;
    }
    limit--;
    if (atoms) {
      put_pair_kw(c, &k, &v, limit);
    } else {
      put_term(c, &k, limit);
      put(c->s, " => ", 4);
      put_term(c, &v, limit);
    }
  }
}

/* Structs print as maps with __struct__: the gateway has no struct
 * modules loaded, like an Elixir node without them. */
static void put_map(ctx_t *c, const pga_term_t *t, int limit) {
  put(c->s, "%{", 2);
  put_map_body(c, t, limit);
  put(c->s, "}", 1);
}

static void put_bytes(ctx_t *c, const pga__head_t *h, int limit) {
  char b[8];
  size_t whole = h->type == PGA_T_BITSTRING ? h->dlen - 1 : h->dlen;
  put(c->s, "<<", 2);
  for (size_t i = 0; i < h->dlen; i++) {
    if (i) put(c->s, ", ", 2);
    if (limit-- == 0) {
      puts_(c->s, "...");
      break;
    }
    if (i < whole) {
      put(c->s, b, (size_t)snprintf(b, sizeof b, "%u", h->data[i]));
    } else {
      unsigned last = (unsigned)(h->data[i] >> (8 - h->bits));
      put(c->s, b, (size_t)snprintf(b, sizeof b, "%u", last));
      put(c->s, "::size(", 7);
      put(c->s, b, (size_t)snprintf(b, sizeof b, "%u", h->bits));
      put(c->s, ")", 1);
    }
  }
  put(c->s, ">>", 2);
}

/* pga_term_format's Erlang text, with Elixir's prefix for opaque types. */
static void put_erlang(ctx_t *c, const pga_term_t *t, const char *prefix,
                       size_t skip) {
  char small[128];
  size_t n = pga_term_format(t, small, sizeof small);
  char *text = n < sizeof small ? small : malloc(n + 1);
  if (!text) {
    puts_(c->s, "#BadTerm");
    return;
  }
  if (text != small) pga_term_format(t, text, n + 1);
  puts_(c->s, prefix);
  if (n > skip) put(c->s, text + skip, n - skip);
  if (text != small) free(text);
}

/* Shortest round-trip digits of d: "%.*e" with the fewest digits. */
static int shortest_sci(double d, char *buf, size_t len) {
  for (int p = 0; p < 17; p++) {
    snprintf(buf, len, "%.*e", p, d);
    if (strtod(buf, NULL) == d) return p;
  }
  snprintf(buf, len, "%.16e", d);
  return 16;
}

/* Elixir (io_lib_format:fwrite_g) writes 1.0e-4 <= |d| < 1.0e16 in plain
 * decimals (5000.0, not Erlang's 5.0e3); elsewhere both agree. */
static void put_float(ctx_t *c, const pga_term_t *t, double d) {
  double a = d < 0 ? -d : d;
  char sci[40], digits[24];
  if (!(a >= 1e-4 && a < 1e16)) {
    put_erlang(c, t, "", 0);
    return;
  }
  shortest_sci(d, sci, sizeof sci);
  const char *p = sci;
  size_t nd = 0;
  if (*p == '-') {
    put(c->s, "-", 1);
    p++;
  }
  for (; *p && *p != 'e'; p++)
    if (*p != '.') digits[nd++] = *p;
  int e = atoi(p + 1);
  while (nd > 1 && digits[nd - 1] == '0') nd--;
  if (e >= 0) {
    for (int i = 0; i <= e; i++) put(c->s, i < (int)nd ? &digits[i] : "0", 1);
    put(c->s, ".", 1);
    if ((int)nd > e + 1) put(c->s, digits + e + 1, nd - (size_t)e - 1);
    else put(c->s, "0", 1);
  } else {
    put(c->s, "0.", 2);
    for (int i = 1; i < -e; i++) put(c->s, "0", 1);
    put(c->s, digits, nd);
  }
}

static void put_term(ctx_t *c, const pga_term_t *t, int limit) {
  pga__head_t h;
  char b[24];
  if (head(t, &h) != 0) {
    puts_(c->s, "#BadTerm");
    return;
  }
  if (++c->depth > INSPECT_MAX_DEPTH) {
    puts_(c->s, "...");
    c->depth--;
    return;
  }
  switch (h.type) {
  case PGA_T_INTEGER:
    put(c->s, b, (size_t)snprintf(b, sizeof b, "%lld", (long long)h.i));
    break;
  case PGA_T_ATOM:
    put_atom(c->s, &h.atom);
    break;
  case PGA_T_BINARY:
    if (printable_utf8(h.data, h.dlen))
      put_quoted_utf8(c->s, h.data, h.dlen, '"', PRINTABLE_LIMIT);
    else
      put_bytes(c, &h, limit);
    break;
  case PGA_T_BITSTRING:
    put_bytes(c, &h, limit);
    break;
  case PGA_T_NIL:
    put(c->s, "[]", 2);
    break;
  case PGA_T_LIST:
    put_list(c, t, limit);
    break;
  case PGA_T_TUPLE:
    put_tuple(c, t, limit);
    break;
  case PGA_T_MAP:
    put_map(c, t, limit);
    break;
  case PGA_T_PID:
    put_erlang(c, t, "#PID", 0);
    break;
  case PGA_T_REF:
    put_erlang(c, t, "#Reference", 4); /* Erlang prints #Ref<...> */
    break;
  case PGA_T_FUN:
    put_erlang(c, t, "", 0);
    break;
  case PGA_T_FLOAT:
    put_float(c, t, h.d);
    break;
  default: /* bignums and ports print as in Erlang */
    put_erlang(c, t, "", 0);
    break;
  }
  c->depth--;
}

size_t pga_term_inspect(const pga_term_t *t, char *out, size_t outlen) {
  sink_t s = {out, outlen ? outlen - 1 : 0, 0};
  ctx_t c = {&s, 0};
  size_t used;
  if (!t || pga__term_check(t->buf, t->len, &used) != 0)
    puts_(&s, "#BadTerm");
  else
    put_term(&c, t, INSPECT_LIMIT);
  if (outlen) out[s.n < s.cap ? s.n : s.cap] = '\0';
  return s.n;
}

char *pga_term_inspect_dup(const pga_term_t *t) {
  size_t n = pga_term_inspect(t, NULL, 0);
  char *buf = malloc(n + 1);
  if (buf) pga_term_inspect(t, buf, n + 1);
  return buf;
}
