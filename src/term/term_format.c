/* pga_term_format: one line of Erlang syntax for a term, for logs and tests.
 *
 * The rules follow the BEAM's own printers so output can be pasted into an
 * Erlang shell: atoms quoted as io_lib:write_atom/1 does, floats as
 * float_to_list(F, [short]), binaries as io:format("~tp") prints them when
 * they are printable UTF-8 (with /utf8 when not ASCII), else as bytes.
 * Where the BEAM prints a node index a C node cannot know, the node name is
 * printed instead: <node.ID.Serial>, #Ref<node.W2.W1.W0>, #Port<node.ID>.
 * Lists are always numbers, never "strings". Bignums over 1024 digit bytes
 * print in hex (16#...), keeping the cost linear. tests/data/term/gen.escript
 * holds the same rules in Erlang; the goldens compare the two.
 *
 * The term is checked first, then printed iteratively like the checker, so
 * deep terms cost no C stack. An invalid view prints as #BadTerm<>. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "term/term.h"

#define TAG_NIL 106
#define TAG_STRING 107
#define TAG_LIST 108
#define TAG_NEW_FUN 112
#define TAG_EXPORT 113

/* Bignums up to this many digit bytes print in decimal (quadratic). */
#define BIG_DECIMAL_MAX 1024

/* snprintf-like output: counts everything, stores what fits. */
typedef struct sink_s {
  char *out;
  size_t cap; /* bytes of out usable for text; one more holds the NUL */
  size_t n;
} sink_t;

static void put(sink_t *s, const char *p, size_t k) {
  if (s->n < s->cap) {
    size_t room = s->cap - s->n;
    memcpy(s->out + s->n, p, k < room ? k : room);
  }
  s->n = k > SIZE_MAX - s->n ? SIZE_MAX : s->n + k;
}

static void puts_(sink_t *s, const char *p) { put(s, p, strlen(p)); }

static void putu(sink_t *s, uint64_t v) {
  char b[24];

  put(s, b, (size_t)snprintf(b, sizeof b, "%" PRIu64, v));
}

static void puti(sink_t *s, int64_t v) {
  char b[24];

  put(s, b, (size_t)snprintf(b, sizeof b, "%" PRId64, v));
}

/* A code point as UTF-8. */
static void put_cp(sink_t *s, uint32_t cp) {
  char b[4];
  put(s, b, pga__utf8_encode(cp, b));
}

/* One character inside quotes q, as io_lib's string_char/4 in unicode
 * mode: named escapes, octal for other controls (and 128..159). */
static void put_quoted_cp(sink_t *s, uint32_t cp, char q) {
  static const char named[] = "\b\t\n\v\f\r\x1b\x7f";
  static const char names[] = "btnvfred";
  const char *e;
  char b[5];

  if (cp == (uint32_t)q || cp == '\\') {
    b[0] = '\\';
    b[1] = (char)cp;
    put(s, b, 2);
  } else if ((cp >= 0x20 && cp <= 0x7E) || cp >= 0xA0) {
    put_cp(s, cp);
  } else if (cp != 0 && (e = strchr(named, (int)cp)) != NULL) {
    b[0] = '\\';
    b[1] = names[e - named];
    put(s, b, 2);
  } else {
    b[0] = '\\';
    b[1] = (char)('0' + (cp >> 6));
    b[2] = (char)('0' + (cp >> 3 & 7));
    b[3] = (char)('0' + (cp & 7));
    put(s, b, 4);
  }
}

/* ---- Atoms ---- */

/* The atom's i-th character from *pos; the atom was checked. */
static uint32_t atom_next(const pga__atom_t *a, size_t *pos) {
  int32_t cp;

  if (a->latin1)
    return a->s[(*pos)++];
  cp = pga__utf8_next(a->s, a->len, pos);
  if (cp < 0) { /* cannot happen on a checked atom; step on regardless */
    (*pos)++;
    return 0xFFFD;
  }
  return (uint32_t)cp;
}

static int lower(uint32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 0xDF && c <= 0xFF && c != 0xF7);
}

static int name_char(uint32_t c) {
  return lower(c) || (c >= 'A' && c <= 'Z') ||
         (c >= 0xC0 && c <= 0xDE && c != 0xD7) || (c >= '0' && c <= '9') ||
         c == '_' || c == '@';
}

/* erl_scan:reserved_word/1 in OTP 25 ('maybe' and 'else' only with the
 * maybe_expr feature, which io_lib does not consult). */
static int reserved(const pga__atom_t *a) {
  static const char *const words[] = {
      "after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl",
      "bsr", "bxor", "case", "catch", "cond", "div", "end", "fun", "if",
      "let", "not", "of", "or", "orelse", "receive", "rem", "try", "when",
      "xor"};
  size_t i;

  for (i = 0; i < sizeof words / sizeof words[0]; i++) {
    if (strlen(words[i]) == a->len && memcmp(words[i], a->s, a->len) == 0)
      return 1;
  }
  return 0;
}

static int atom_needs_quotes(const pga__atom_t *a) {
  size_t pos = 0;

  if (a->len == 0 || !lower(atom_next(a, &pos)) || reserved(a))
    return 1;
  while (pos < a->len) {
    if (!name_char(atom_next(a, &pos)))
      return 1;
  }
  return 0;
}

static void put_atom(sink_t *s, const pga__atom_t *a) {
  int q = atom_needs_quotes(a);
  size_t pos = 0;

  if (q)
    put(s, "'", 1);
  while (pos < a->len) {
    uint32_t cp = atom_next(a, &pos);
    if (q)
      put_quoted_cp(s, cp, '\'');
    else
      put_cp(s, cp);
  }
  if (q)
    put(s, "'", 1);
}

/* ---- Numbers ---- */

/* Splits "%.*e" output, [-]D[.DDD]e[+-]XX, into digits and exponent. */
static int split_sci(const char *sci, char *dig, int *exp10) {
  const char *p;
  int k = 0;

  for (p = sci; *p != 'e'; p++) {
    if (*p >= '0' && *p <= '9')
      dig[k++] = *p;
  }
  dig[k] = '\0';
  *exp10 = atoi(p + 1);
  return k;
}

/* 1 if the k digits dig (d.ddd x 10^exp10) read back as |d|. */
static int reads_back(const char *dig, int k, int exp10, double d) {
  char b[48];

  snprintf(b, sizeof b, "%c.%se%d", dig[0], k > 1 ? dig + 1 : "0", exp10);
  return strtod(b, NULL) == fabs(d);
}

/* Adds one unit in the last place of the k digits (a carry out of the
 * first digit shifts the exponent). */
static void digits_up(char *dig, int k, int *exp10) {
  int i = k - 1;

  while (i >= 0 && dig[i] == '9')
    dig[i--] = '0';
  if (i >= 0) {
    dig[i]++;
  } else {
    dig[0] = '1';
    (*exp10)++;
  }
}

/* The fewest significant digits that read back as d. Correct rounding to
 * each precision finds them, except just above a power of two, where the
 * gap below d is half the gap above: there the next digit string up may
 * read back when the rounded one does not (2^-1017 needs 16 digits, not
 * 17), as Ryu, which the BEAM uses, knows. */
static int shortest(double d, char *dig, int *exp10) {
  char sci[40], up[20];
  int prec, k, e;

  for (prec = 1; prec < 17; prec++) {
    snprintf(sci, sizeof sci, "%.*e", prec - 1, fabs(d));
    k = split_sci(sci, dig, exp10);
    if (reads_back(dig, k, *exp10, d))
      return k;
    memcpy(up, dig, (size_t)k + 1);
    e = *exp10;
    digits_up(up, k, &e);
    if (reads_back(up, k, e, d)) {
      memcpy(dig, up, (size_t)k + 1);
      *exp10 = e;
      return k;
    }
  }
  snprintf(sci, sizeof sci, "%.16e", fabs(d));
  return split_sci(sci, dig, exp10);
}

/* float_to_list(D, [short]): the fewest digits that read back as D, then
 * the shorter of plain and scientific notation (plain on a tie), but always
 * scientific outside (-2^53, 2^53), where plain would suggest precision. */
static void put_double(sink_t *s, double d) {
  char sci[48], dig[20], fix[400];
  int exp10, k, i;
  size_t sl, fl = 0;

  if (d == 0) {
    puts_(s, signbit(d) ? "-0.0" : "0.0");
    return;
  }
  k = shortest(d, dig, &exp10);
  while (k > 1 && dig[k - 1] == '0')
    dig[--k] = '\0';
  sl = (size_t)snprintf(sci, sizeof sci, "%s%c.%se%d", d < 0 ? "-" : "",
                        dig[0], k > 1 ? dig + 1 : "0", exp10);
  if (fabs(d) < 9007199254740992.0) {
    if (d < 0)
      fix[fl++] = '-';
    if (exp10 < 0) {
      fix[fl++] = '0';
      fix[fl++] = '.';
      for (i = -1; i > exp10; i--)
        fix[fl++] = '0';
      for (i = 0; i < k; i++)
        fix[fl++] = dig[i];
    } else {
      for (i = 0; i <= exp10; i++)
        fix[fl++] = i < k ? dig[i] : '0';
      fix[fl++] = '.';
      if (k > exp10 + 1) {
        for (i = exp10 + 1; i < k; i++)
          fix[fl++] = dig[i];
      } else {
        fix[fl++] = '0';
      }
    }
    if (fl <= sl) {
      put(s, fix, fl);
      return;
    }
  }
  put(s, sci, sl);
}

/* Decimal for up to BIG_DECIMAL_MAX digit bytes (schoolbook division by
 * 10^9), hex above. Digits are little-endian bytes, high zeros trimmed. */
static void put_big(sink_t *s, const pga__head_t *h) {
  static const char hex[] = "0123456789ABCDEF";
  uint32_t w[BIG_DECIMAL_MAX / 4 + 1], chunks[BIG_DECIMAL_MAX * 10 / 36 + 2];
  size_t n = h->dlen, nw, nc = 0, i;
  char b[16];

  while (n > 0 && h->data[n - 1] == 0)
    n--;
  if (h->neg)
    put(s, "-", 1);
  if (n > BIG_DECIMAL_MAX) {
    puts_(s, "16#");
    for (i = n; i-- > 0;) {
      b[0] = hex[h->data[i] >> 4];
      b[1] = hex[h->data[i] & 15];
      if (i == n - 1 && b[0] == '0')
        put(s, b + 1, 1);
      else
        put(s, b, 2);
    }
    return;
  }
  nw = (n + 3) / 4;
  memset(w, 0, sizeof w);
  for (i = 0; i < n; i++)
    w[i / 4] |= (uint32_t)h->data[i] << (8 * (i % 4));
  while (nw > 0) {
    uint64_t rem = 0;
    for (i = nw; i-- > 0;) {
      uint64_t cur = rem << 32 | w[i];
      w[i] = (uint32_t)(cur / 1000000000u);
      rem = cur % 1000000000u;
    }
    chunks[nc++] = (uint32_t)rem;
    while (nw > 0 && w[nw - 1] == 0)
      nw--;
  }
  if (nc == 0)
    chunks[nc++] = 0;
  put(s, b, (size_t)snprintf(b, sizeof b, "%u", (unsigned)chunks[nc - 1]));
  for (i = nc - 1; i-- > 0;)
    put(s, b, (size_t)snprintf(b, sizeof b, "%09u", (unsigned)chunks[i]));
}

/* ---- Binaries ---- */

/* io_lib:printable_unicode_list/1 over the UTF-8 text; *ascii if all < 128. */
static int printable(const unsigned char *p, size_t len, int *ascii) {
  size_t pos = 0;
  int32_t cp;

  *ascii = 1;
  while (pos < len) {
    if ((cp = pga__utf8_next(p, len, &pos)) < 0)
      return 0;
    if (cp >= 0x80)
      *ascii = 0;
    if (!((cp >= 0x20 && cp <= 0x7E) || cp >= 0xA0 ||
          (cp >= '\b' && cp <= '\r') || cp == 0x1B))
      return 0;
  }
  return 1;
}

static void put_bytes(sink_t *s, const unsigned char *p, size_t n) {
  size_t i;

  for (i = 0; i < n; i++) {
    if (i > 0)
      put(s, ",", 1);
    putu(s, p[i]);
  }
}

static void put_binary(sink_t *s, const pga__head_t *h) {
  size_t pos = 0;
  int ascii;

  puts_(s, "<<");
  if (h->type == PGA_T_BITSTRING) {
    put_bytes(s, h->data, h->dlen - 1);
    if (h->dlen > 1)
      put(s, ",", 1);
    putu(s, (unsigned)(h->data[h->dlen - 1] >> (8 - h->bits)));
    put(s, ":", 1);
    putu(s, h->bits);
  } else if (h->dlen > 0 && printable(h->data, h->dlen, &ascii)) {
    put(s, "\"", 1);
    while (pos < h->dlen)
      put_quoted_cp(s, (uint32_t)pga__utf8_next(h->data, h->dlen, &pos),
                    '"');
    puts_(s, ascii ? "\"" : "\"/utf8");
  } else {
    put_bytes(s, h->data, h->dlen);
  }
  puts_(s, ">>");
}

/* ---- Terms ---- */

static void put_fun(sink_t *s, const pga__head_t *h) {
  if (h->tag == TAG_EXPORT) {
    puts_(s, "fun ");
    put_atom(s, &h->atom);
    put(s, ":", 1);
    put_atom(s, &h->name);
    put(s, "/", 1);
    puti(s, h->i);
    return;
  }
  /* As the BEAM: module, then OldIndex and OldUniq. */
  puts_(s, "#Fun<");
  put_atom(s, &h->atom);
  put(s, ".", 1);
  puti(s, h->old_index);
  put(s, ".", 1);
  puti(s, h->old_uniq);
  put(s, ">", 1);
}

static void put_scalar(sink_t *s, const pga__head_t *h) {
  unsigned i;

  switch (h->type) {
  case PGA_T_INTEGER:
    puti(s, h->i);
    break;
  case PGA_T_BIGINT:
    put_big(s, h);
    break;
  case PGA_T_FLOAT:
    put_double(s, h->d);
    break;
  case PGA_T_ATOM:
    put_atom(s, &h->atom);
    break;
  case PGA_T_BINARY:
  case PGA_T_BITSTRING:
    put_binary(s, h);
    break;
  case PGA_T_PID:
    put(s, "<", 1);
    put_atom(s, &h->atom);
    put(s, ".", 1);
    putu(s, h->id);
    put(s, ".", 1);
    putu(s, h->serial);
    put(s, ">", 1);
    break;
  case PGA_T_PORT:
    puts_(s, "#Port<");
    put_atom(s, &h->atom);
    put(s, ".", 1);
    putu(s, h->id);
    put(s, ">", 1);
    break;
  case PGA_T_REF:
    puts_(s, "#Ref<");
    put_atom(s, &h->atom);
    for (i = h->nwords; i-- > 0;) {
      put(s, ".", 1);
      putu(s, h->words[i]);
    }
    put(s, ">", 1);
    break;
  case PGA_T_FUN:
    put_fun(s, h);
    break;
  default:
    break;
  }
}

/* STRING_EXT bytes as list elements; sep: a comma comes first. */
static void put_string_elems(sink_t *s, const pga__head_t *h, int sep) {
  if (sep)
    put(s, ",", 1);
  put_bytes(s, h->data, h->dlen);
}

enum { K_ROOT, K_TUPLE, K_MAP, K_LIST };

/* Frames are pga__frame_t: kind is a K_*, first says no element has been
 * printed yet, flag that the container is an improper list's tail, so "]"
 * follows its closer. */
typedef pga__frame_t frame_t;

/* Prints the term at t->buf[*pos] and steps over it, except for the
 * elements of a tuple, map or list: then it prints the opener, leaves *h
 * describing the container and returns 1. */
static int put_head(sink_t *s, const pga_term_t *t, size_t *pos,
                    pga__head_t *h) {
  size_t start = *pos, used;
  uint64_t k;

  if (pga__term_head(t->buf + *pos, t->len - *pos, h) != 0) {
    *pos = t->len; /* cannot happen: checked */
    return 0;
  }
  *pos += h->size;
  if (h->type == PGA_T_FUN) {
    put_fun(s, h);
    /* Free variables are not printed (nor by the BEAM): step over. */
    if (h->tag == TAG_NEW_FUN) {
      *pos = start + h->total;
    } else {
      for (k = 0; k < h->n; k++) {
        if (pga__term_check(t->buf + *pos, t->len - *pos, &used) != 0)
          return 0;
        *pos += used;
      }
    }
    return 0;
  }
  if (h->tag == TAG_STRING || h->type == PGA_T_NIL) {
    put(s, "[", 1);
    put_string_elems(s, h, 0);
    put(s, "]", 1);
    return 0;
  }
  if (h->type != PGA_T_TUPLE && h->type != PGA_T_MAP &&
      h->type != PGA_T_LIST) {
    put_scalar(s, h);
    return 0;
  }
  puts_(s, h->type == PGA_T_TUPLE ? "{" : h->type == PGA_T_MAP ? "#{" : "[");
  if (h->n == 0) {
    put(s, "}", 1);
    return 0;
  }
  return 1;
}

static void frame_open(frame_t *f, const pga__head_t *h) {
  f->left = h->n;
  f->kind = h->type == PGA_T_TUPLE ? K_TUPLE
            : h->type == PGA_T_MAP ? K_MAP
                                   : K_LIST;
  f->first = 1;
  f->flag = 0;
}

/* A list's elements are done and t->buf[*pos] is its tail. A chained list
 * continues in the same frame; [] or a string ends it; any other tail is
 * printed after "|", and a tuple or map tail takes over the list's frame,
 * as the checker reads a tail at the list's own level, so the printer
 * never needs more frames than the checker allowed. 1 if f is done. */
static int list_tail(sink_t *s, const pga_term_t *t, size_t *pos,
                     frame_t *f) {
  pga__head_t h;

  if (pga__term_head(t->buf + *pos, t->len - *pos, &h) != 0)
    return 1; /* cannot happen: checked */
  if (h.tag == TAG_LIST) {
    *pos += h.size;
    f->left = h.n;
    return 0;
  }
  if (h.tag == TAG_NIL || h.tag == TAG_STRING) {
    *pos += h.size;
    if (h.dlen > 0)
      put_string_elems(s, &h, 1);
    put(s, "]", 1);
    return 1;
  }
  put(s, "|", 1);
  if (put_head(s, t, pos, &h)) {
    frame_open(f, &h);
    f->flag = 1;
    return 0;
  }
  put(s, "]", 1);
  return 1;
}

/* Prints the checked term t; the iterative twin of pga__term_check, with
 * the same levels. 0, or PGA_ENOMEM if a deep term's stack cannot grow. */
static int put_term(sink_t *s, const pga_term_t *t) {
  pga__stack_t st;
  frame_t *f, *up;
  size_t top = 0, pos = 0;
  pga__head_t h;
  int rc = 0;

  pga__stack_init(&st);
  f = &st.f[0];
  f->left = 1;
  f->kind = K_ROOT;
  f->first = 1;
  f->flag = 0;
  for (;;) {
    f = &st.f[top];
    if (f->left == 0) {
      if (f->kind == K_ROOT)
        break;
      if (f->kind == K_LIST && !list_tail(s, t, &pos, f))
        continue;
      if (f->kind == K_TUPLE || f->kind == K_MAP)
        puts_(s, f->flag ? "}]" : "}");
      top--;
      continue;
    }
    if (!f->first)
      puts_(s, f->kind == K_MAP && f->left % 2 == 1 ? " => " : ",");
    f->first = 0;
    f->left--;
    if (put_head(s, t, &pos, &h)) {
      if ((up = pga__stack_at(&st, top + 1)) == NULL) {
        rc = PGA_ENOMEM;
        break;
      }
      frame_open(up, &h);
      top++;
    }
  }
  pga__stack_free(&st);
  return rc;
}

size_t pga_term_format(const pga_term_t *t, char *out, size_t outlen) {
  sink_t s;
  size_t used;

  s.out = out;
  s.cap = outlen > 0 && out != NULL ? outlen - 1 : 0;
  s.n = 0;
  if (t == NULL || pga__term_check(t->buf, t->len, &used) != 0) {
    puts_(&s, "#BadTerm<>");
  } else if (put_term(&s, t) != 0) {
    s.n = 0; /* out of memory half way: say so rather than print half */
    puts_(&s, "#NoMemory<>");
  }
  if (outlen > 0 && out != NULL)
    out[s.n < s.cap ? s.n : s.cap] = '\0';
  return s.n;
}
