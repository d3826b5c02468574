/* Renderings of ops-plane.md §0.2 for the print helpers. */
#include "ops/render.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "pga/errno.h"
#include "term/inspect.h"
#include "term/term.h"

void pga_ops_text_init(pga_ops_text_t *t) {
  pga_dynbuf_init(&t->b, PGA_OPS_TEXT_MAX);
  t->err = 0;
}

void pga_ops_text_free(pga_ops_text_t *t) { pga_dynbuf_free(&t->b); }

const char *pga_ops_text_str(const pga_ops_text_t *t) {
  return pga_dynbuf_size(&t->b) ? pga_dynbuf_ptr(&t->b) : "";
}

size_t pga_ops_text_len(const pga_ops_text_t *t) {
  return pga_dynbuf_size(&t->b);
}

void pga_ops_putn(pga_ops_text_t *t, const char *s, size_t n) {
  if (t->err || n == 0) return;
  int rc = pga_dynbuf_add(&t->b, s, n);
  if (rc != 0) t->err = rc;
}

void pga_ops_put(pga_ops_text_t *t, const char *s) {
  pga_ops_putn(t, s, strlen(s));
}

void pga_ops_putf(pga_ops_text_t *t, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof small) {
    pga_ops_putn(t, small, (size_t)n);
    return;
  }
  char *p = t->err ? NULL : pga_dynbuf_reserve(&t->b, (size_t)n + 1);
  if (!p) {
    if (!t->err) t->err = PGA_ENOMEM;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  pga_dynbuf_commit(&t->b, (size_t)n);
}

void pga_ops_i(pga_ops_text_t *t, const pga_term_t *x) {
  char *s = pga_term_inspect_dup(x);
  if (!s) {
    t->err = t->err ? t->err : PGA_ENOMEM;
    return;
  }
  pga_ops_put(t, s);
  free(s);
}

void pga_ops_s(pga_ops_text_t *t, const pga_term_t *x) {
  const char *p;
  size_t n;
  char atom[PGA_ATOM_BUF];
  switch (pga_term_type(x)) {
    case PGA_T_BINARY:
      if (pga_term_get_binary(x, &p, &n) == 0) pga_ops_putn(t, p, n);
      return;
    case PGA_T_ATOM:
      if (pga_term_is_atom(x, "nil")) return;
      if (pga_term_get_atom(x, atom, sizeof atom) == 0) pga_ops_put(t, atom);
      return;
    default:
      pga_ops_i(t, x); /* numbers print as inspect shows them */
  }
}

void pga_ops_bytes_int(pga_ops_text_t *t, int64_t n) {
  pga_ops_putf(t, "%lld B", (long long)n);
}

void pga_ops_bytes(pga_ops_text_t *t, const pga_term_t *x) {
  if (pga_term_type(x) == PGA_T_INTEGER) {
    pga_ops_i(t, x); /* bignums too */
    pga_ops_put(t, " B");
  } else {
    pga_ops_put(t, "?");
  }
}

void pga_ops_up_ms(pga_ops_text_t *t, int64_t ms) {
  if (ms < 0) ms = 0;
  pga_ops_putf(t, "%lldh %lldm %llds", (long long)(ms / 3600000),
               (long long)(ms / 60000 % 60), (long long)(ms / 1000 % 60));
}

void pga_ops_up(pga_ops_text_t *t, const pga_term_t *x) {
  size_t arity;
  pga_term_t ms;
  int64_t v;
  if (pga_term_tuple_arity(x, &arity) != 0 || arity != 2 ||
      pga_term_tuple_get(x, 0, &ms) != 0 || pga_term_get_int64(&ms, &v) != 0) {
    pga_ops_put(t, "?");
    return;
  }
  pga_ops_up_ms(t, v);
}

void pga_ops_ts(pga_ops_text_t *t, int64_t ms) {
  /* floor division without overflow: ms - 999 would overflow INT64_MIN */
  int64_t q = ms / 1000, r = ms % 1000;
  if (r < 0) {
    q--;
    r += 1000;
  }
  time_t secs = (time_t)q;
  int milli = (int)r;
  struct tm tm;
  gmtime_r(&secs, &tm);
  pga_ops_putf(t, "%04d-%02d-%02d %02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
               tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
               milli);
}

static size_t codepoints(const char *s, size_t n) {
  size_t c = 0;
  for (size_t i = 0; i < n; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80) c++;
  return c;
}

void pga_ops_pad(pga_ops_text_t *t, size_t mark, size_t n) {
  size_t len = pga_ops_text_len(t);
  if (t->err || mark > len) return;
  size_t have = codepoints(pga_ops_text_str(t) + mark, len - mark);
  for (; have < n; have++) pga_ops_putn(t, " ", 1);
}

void pga_ops_icon(pga_ops_text_t *t, const char *status) {
  if (strcmp(status, "ok") == 0)
    pga_ops_put(t, "\xE2\x9C\x85");
  else if (strcmp(status, "degraded") == 0)
    pga_ops_put(t, "\xE2\x9A\xA0\xEF\xB8\x8F ");
  else
    pga_ops_put(t, "\xE2\x9D\x8C");
}

pga_outcome_t pga_ops_print(pga_call_t *call, pga_ops_text_t *t,
                            pga_tb_t *out) {
  if (t->err) {
    pga_tb_reset(out);
    pga_tb_atom(out, t->err == PGA_ETOOBIG ? "system_limit" : "enomem");
    return PGA_ERROR;
  }
  const char *s = pga_ops_text_str(t);
  size_t n = pga_ops_text_len(t);
  if (n > 0 && pga_call_print(call, s, n) != 0)
    pga_log(PGA_LOG_INFO, "ops output (no group leader):\n%.*s", (int)n, s);
  pga_tb_reset(out);
  pga_tb_atom(out, "ok");
  return PGA_RETURN;
}
