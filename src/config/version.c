/* Version strings for the two "latest" rules of spec §3.2: a strict
 * MAJOR.MINOR.PATCH[-pre][+build] parser (Elixir's Version.parse), semver
 * precedence for get_latest, and for get_fast the order the library gets
 * by comparing parsed %Version{} structs as raw terms. */
#include "config.h"

#include <string.h>

#include "config/plane_int.h"

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int ident_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         c == '-';
}

/* A numeric part: digits, no leading zero unless "0"; fits uint64. */
static int parse_num(const char *s, size_t n, uint64_t *out) {
  uint64_t v = 0;
  if (n == 0 || (n > 1 && s[0] == '0') || n > 19) return 0;
  for (size_t i = 0; i < n; i++) {
    if (!is_digit(s[i])) return 0;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  *out = v;
  return 1;
}

/* Dot-separated identifiers [0-9A-Za-z-]+, none empty. */
static int valid_idents(const char *s, size_t n, int numeric_rule) {
  size_t start = 0;
  if (n == 0) return 0;
  for (size_t i = 0; i <= n; i++) {
    if (i < n && s[i] != '.') {
      if (!ident_char(s[i])) return 0;
      continue;
    }
    size_t len = i - start;
    if (len == 0) return 0;
    /* Numeric pre-release identifiers may not have leading zeros. */
    if (numeric_rule && len > 1 && s[start] == '0') {
      size_t k = start;
      while (k < i && is_digit(s[k])) k++;
      if (k == i) return 0;
    }
    start = i + 1;
  }
  return 1;
}

int pga_version_parse(const char *s, size_t n, pga_version_t *v) {
  const char *end = s + n, *p = s;
  uint64_t part[3];
  memset(v, 0, sizeof *v);
  for (int i = 0; i < 3; i++) {
    const char *q = p;
    while (q < end && is_digit(*q)) q++;
    if (!parse_num(p, (size_t)(q - p), &part[i])) return 0;
    p = q;
    if (i < 2) {
      if (p >= end || *p != '.') return 0;
      p++;
    }
  }
  v->major = part[0];
  v->minor = part[1];
  v->patch = part[2];
  const char *plus = memchr(p, '+', (size_t)(end - p));
  const char *pre_end = plus ? plus : end;
  if (p < pre_end) {
    if (*p != '-' || !valid_idents(p + 1, (size_t)(pre_end - p - 1), 1))
      return 0;
    v->pre = p + 1;
    v->pre_len = (size_t)(pre_end - p - 1);
  }
  if (plus) {
    if (!valid_idents(plus + 1, (size_t)(end - plus - 1), 0)) return 0;
    v->build = plus + 1;
    v->build_len = (size_t)(end - plus - 1);
  }
  return 1;
}

static int cmp_u64(uint64_t a, uint64_t b) { return a < b ? -1 : a > b; }

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn) {
  int c = memcmp(a, b, an < bn ? an : bn);
  if (c) return c < 0 ? -1 : 1;
  return cmp_u64(an, bn);
}

/* One pre-release identifier at *pos (advanced past it and its dot). */
typedef struct {
  const char *s;
  size_t n;
  int numeric;
  uint64_t num;
} ident_t;

static int next_ident(const char *s, size_t n, size_t *pos, ident_t *id) {
  if (*pos >= n) return 0;
  size_t start = *pos, i = start;
  while (i < n && s[i] != '.') i++;
  id->s = s + start;
  id->n = i - start;
  id->numeric = parse_num(id->s, id->n, &id->num);
  *pos = i + 1;
  return 1;
}

/* Identifier lists compared element-wise; numeric identifiers parse to
 * integers in both rules, and integers sort below binaries both in semver
 * and in Erlang term order. A shorter prefix sorts first in both. */
static int cmp_pre_lists(const pga_version_t *a, const pga_version_t *b) {
  size_t pa = 0, pb = 0;
  ident_t ia, ib;
  for (;;) {
    int ha = next_ident(a->pre, a->pre_len, &pa, &ia);
    int hb = next_ident(b->pre, b->pre_len, &pb, &ib);
    if (!ha || !hb) return ha - hb;
    int c;
    if (ia.numeric && ib.numeric)
      c = cmp_u64(ia.num, ib.num);
    else if (ia.numeric != ib.numeric)
      c = ia.numeric ? -1 : 1;
    else
      c = cmp_bytes(ia.s, ia.n, ib.s, ib.n);
    if (c) return c;
  }
}

static int cmp_core(const pga_version_t *a, const pga_version_t *b) {
  int c = cmp_u64(a->major, b->major);
  if (!c) c = cmp_u64(a->minor, b->minor);
  if (!c) c = cmp_u64(a->patch, b->patch);
  return c;
}

int pga_version_cmp_semver(const pga_version_t *a, const pga_version_t *b) {
  int c = cmp_core(a, b);
  if (c) return c;
  /* A release sorts above any of its pre-releases. */
  if (!a->pre_len || !b->pre_len)
    return a->pre_len == b->pre_len ? 0 : (a->pre_len ? -1 : 1);
  return cmp_pre_lists(a, b);
}

/* %Version{} keys in term order: build, major, minor, patch, pre. build
 * nil (an atom) sorts below any binary; pre [] below any non-empty list. */
int pga_version_cmp_raw(const pga_version_t *a, const pga_version_t *b) {
  int c;
  if (!a->build != !b->build) return a->build ? 1 : -1;
  if (a->build && (c = cmp_bytes(a->build, a->build_len, b->build,
                                 b->build_len)) != 0)
    return c;
  if ((c = cmp_core(a, b)) != 0) return c;
  if (!a->pre_len || !b->pre_len)
    return a->pre_len == b->pre_len ? 0 : (a->pre_len ? 1 : -1);
  return cmp_pre_lists(a, b);
}
