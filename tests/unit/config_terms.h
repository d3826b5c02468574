/* Test helper for the config-plane suites: builds terms from a small
 * Elixir-like text so fixtures read like the spec's acceptance cases.
 *
 *   :atom :"quoted" Alias.Name nil true false 12 -3 1.5 "binary"
 *   [a, b] [key: v] {a, b} %{k => v, k: v} %FC{...} %PC{...} %SC{...}
 *
 * FC, PC and SC stand for the FunConfig, PushConfig and ServiceConfig
 * structs. A later duplicate map key replaces the earlier one, so
 * "%FC{" F ", timeout: 50}" overrides a fixture field. Terms are owned
 * builders: T(...) returns a view kept alive until tt_reset(). */
#ifndef PGA_TESTS_CONFIG_TERMS_H
#define PGA_TESTS_CONFIG_TERMS_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pga/term.h"
#include "term/term.h"

#define TT_MAX 512
static pga_tb_t *tt_pool[TT_MAX];
static size_t tt_n;

static __attribute__((unused)) void tt_reset(void) {
  for (size_t i = 0; i < tt_n; i++) pga_tb_free(tt_pool[i]);
  tt_n = 0;
}

typedef struct {
  const char *p;
} tt_src;

static __attribute__((unused)) void tt_ws(tt_src *s) {
  while (*s->p == ' ' || *s->p == '\n' || *s->p == ',') s->p++;
}

static __attribute__((unused)) pga_tb_t *tt_parse(tt_src *s);

/* Parses elements until `close` into an array of builders. */
static __attribute__((unused)) size_t tt_elems(tt_src *s, char close, pga_tb_t **v, size_t max) {
  size_t n = 0;
  tt_ws(s);
  while (*s->p && *s->p != close) {
    ck_assert_uint_lt(n, max);
    v[n++] = tt_parse(s);
    tt_ws(s);
  }
  ck_assert_int_eq(*s->p, close);
  s->p++;
  return n;
}

static __attribute__((unused)) int tt_ident(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '@' || c == '.' ||
         c == '?' || c == '!';
}

/* "key:" at s->p (keyword syntax)? Returns the key length. */
static __attribute__((unused)) size_t tt_kw(const char *p) {
  size_t n = 0;
  while (tt_ident(p[n]) && p[n] != '.') n++;
  return n > 0 && p[n] == ':' && p[n + 1] == ' ' ? n : 0;
}

static __attribute__((unused)) pga_tb_t *tt_new(void) {
  pga_tb_t *tb = pga_tb_new(0);
  ck_assert_ptr_nonnull(tb);
  return tb;
}

static __attribute__((unused)) void tt_raw(pga_tb_t *dst, pga_tb_t *src) {
  pga_term_t t = pga_tb_data(src);
  pga_tb_term(dst, &t);
  pga_tb_free(src);
}

/* Map pairs: `k => v` or `k: v`; duplicates replaced in place. */
static __attribute__((unused)) pga_tb_t *tt_map(tt_src *s, const char *module) {
  pga_tb_t *k[64], *v[64];
  size_t n = 0;
  for (tt_ws(s); *s->p != '}'; tt_ws(s)) {
    pga_tb_t *key, *val;
    size_t kl = tt_kw(s->p);
    if (kl) {
      key = tt_new();
      pga_tb_atom_len(key, s->p, kl);
      s->p += kl + 2;
    } else {
      key = tt_parse(s);
      while (*s->p == ' ') s->p++;
      ck_assert(s->p[0] == '=' && s->p[1] == '>');
      s->p += 2;
    }
    val = tt_parse(s);
    size_t i;
    pga_term_t kt = pga_tb_data(key);
    for (i = 0; i < n; i++) {
      pga_term_t ki = pga_tb_data(k[i]);
      if (pga_term_equal(&ki, &kt)) break;
    }
    if (i < n) {
      pga_tb_free(k[i]);
      pga_tb_free(v[i]);
    } else {
      ck_assert_uint_lt(n, 64);
      n++;
    }
    k[i] = key;
    v[i] = val;
  }
  s->p++;
  pga_tb_t *tb = tt_new();
  pga_tb_map(tb, n + (module ? 1 : 0));
  if (module) {
    pga_tb_atom(tb, "__struct__");
    pga_tb_atom(tb, module);
  }
  for (size_t i = 0; i < n; i++) {
    tt_raw(tb, k[i]);
    tt_raw(tb, v[i]);
  }
  return tb;
}

static __attribute__((unused)) pga_tb_t *tt_parse(tt_src *s) {
  pga_tb_t *tb, *v[256];
  size_t n;
  char buf[512];
  while (*s->p == ' ' || *s->p == '\n') s->p++;
  const char *p = s->p;
  if (*p == '[') {
    s->p++;
    /* keyword list: [a: 1, b: 2] */
    tb = tt_new();
    size_t cnt = 0;
    pga_tb_t *items[256];
    for (tt_ws(s); *s->p != ']'; tt_ws(s)) {
      size_t kl = tt_kw(s->p);
      ck_assert_uint_lt(cnt, 256);
      if (kl) {
        pga_tb_t *it = tt_new();
        pga_tb_tuple(it, 2);
        pga_tb_atom_len(it, s->p, kl);
        s->p += kl + 2;
        tt_raw(it, tt_parse(s));
        items[cnt++] = it;
      } else {
        items[cnt++] = tt_parse(s);
      }
    }
    s->p++;
    if (cnt == 0) {
      pga_tb_nil(tb);
      return tb;
    }
    pga_tb_list(tb, cnt);
    for (size_t i = 0; i < cnt; i++) tt_raw(tb, items[i]);
    pga_tb_nil(tb);
    return tb;
  }
  if (*p == '{') {
    s->p++;
    n = tt_elems(s, '}', v, 256);
    tb = tt_new();
    pga_tb_tuple(tb, n);
    for (size_t i = 0; i < n; i++) tt_raw(tb, v[i]);
    return tb;
  }
  if (*p == '%') {
    const char *mod = NULL;
    if (!strncmp(p, "%FC{", 4)) mod = "Elixir.PhoenixGenApi.Structs.FunConfig";
    if (!strncmp(p, "%PC{", 4)) mod = "Elixir.PhoenixGenApi.Structs.PushConfig";
    if (!strncmp(p, "%SC{", 4))
      mod = "Elixir.PhoenixGenApi.Structs.ServiceConfig";
    s->p += mod ? 4 : 2;
    return tt_map(s, mod);
  }
  if (*p == '"') {
    size_t k = 0;
    for (s->p++; *s->p != '"'; s->p++) {
      if (*s->p == '\\') s->p++;
      buf[k++] = *s->p;
    }
    s->p++;
    tb = tt_new();
    pga_tb_binary(tb, buf, k);
    return tb;
  }
  if (*p == ':' && p[1] == '"') {
    size_t k = 0;
    for (s->p += 2; *s->p != '"'; s->p++) buf[k++] = *s->p;
    s->p++;
    tb = tt_new();
    pga_tb_atom_len(tb, buf, k);
    return tb;
  }
  if (*p == ':') {
    size_t k = 0;
    for (s->p++; tt_ident(*s->p) || (*s->p && strchr("+-*/<>=", *s->p)); s->p++)
      buf[k++] = *s->p;
    tb = tt_new();
    pga_tb_atom_len(tb, buf, k);
    return tb;
  }
  if ((*p >= '0' && *p <= '9') || *p == '-') {
    char *end;
    long long i = strtoll(p, &end, 10);
    tb = tt_new();
    if (*end == '.' && end[1] >= '0' && end[1] <= '9') {
      double d = strtod(p, &end);
      pga_tb_double(tb, d);
    } else {
      pga_tb_int(tb, i);
    }
    s->p = end;
    return tb;
  }
  /* nil true false, or an alias (Foo.Bar -> Elixir.Foo.Bar) */
  size_t k = 0;
  while (tt_ident(s->p[k])) k++;
  ck_assert_uint_gt(k, 0);
  tb = tt_new();
  if (p[0] >= 'A' && p[0] <= 'Z') {
    snprintf(buf, sizeof buf, "Elixir.%.*s", (int)k, p);
    pga_tb_atom(tb, buf);
  } else {
    pga_tb_atom_len(tb, p, k);
  }
  s->p += k;
  return tb;
}

/* The term written in text; valid until tt_reset(). */
static __attribute__((unused)) pga_term_t T(const char *text) {
  tt_src s = {text};
  pga_tb_t *tb = tt_parse(&s);
  ck_assert_int_eq(pga_tb_error(tb), 0);
  ck_assert_uint_lt(tt_n, TT_MAX);
  tt_pool[tt_n++] = tb;
  return pga_tb_data(tb);
}

static __attribute__((unused)) char *tt_show(const pga_term_t *t) {
  static char buf[4][4096];
  static int i;
  i = (i + 1) % 4;
  pga_term_format(t, buf[i], sizeof buf[i]);
  return buf[i];
}

/* Asserts a term equals the text's term, showing both on failure. */
#define ck_assert_term(actual, text)                                       \
  do {                                                                     \
    pga_term_t a_ = (actual), e_ = T(text);                                \
    size_t used_ = 0;                                                      \
    ck_assert_msg(pga__term_check(a_.buf, a_.len, &used_) == 0 &&          \
                      used_ == a_.len,                                     \
                  "not exactly one term: %s", tt_show(&a_));               \
    ck_assert_msg(pga_term_equal(&a_, &e_), "got %s, expected %s",         \
                  tt_show(&a_), tt_show(&e_));                             \
  } while (0)

#endif
