/* Test helper for the request-plane suites: the distinct terms of
 * tests/data/phash2/vectors.txt (made by a real OTP node: every type,
 * deep nesting, random structures) as inputs that must never crash a
 * module. Each term lives in its own buffer of exactly its size, so
 * valgrind reports any read past its end. */
#ifndef PGA_TESTS_REQUEST_FIXTURES_H
#define PGA_TESTS_REQUEST_FIXTURES_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pga/term.h"

#ifndef PGA_TEST_DATA_DIR
#define PGA_TEST_DATA_DIR "tests/data"
#endif

typedef struct rf_terms_s {
  pga_term_t *v;
  char **bufs;
  size_t n;
} rf_terms_t;

static __attribute__((unused)) int rf_hex(int c) {
  return c >= '0' && c <= '9' ? c - '0' : c - 'a' + 10;
}

/* Loads the distinct terms (at most max; 0 = all). */
static __attribute__((unused)) void rf_load(rf_terms_t *t, size_t max) {
  const char *dir = getenv("PGA_TEST_DATA_DIR");
  char path[1024], *line = NULL, *prev = NULL;
  size_t cap = 0;
  FILE *f;

  memset(t, 0, sizeof *t);
  snprintf(path, sizeof path, "%s/phash2/vectors.txt",
           dir != NULL && *dir ? dir : PGA_TEST_DATA_DIR);
  ck_assert_ptr_nonnull(f = fopen(path, "r"));
  t->v = calloc(8192, sizeof *t->v);
  t->bufs = calloc(8192, sizeof *t->bufs);
  ck_assert(t->v != NULL && t->bufs != NULL);
  while (getline(&line, &cap, f) > 0 && (max == 0 || t->n < max)) {
    char *sp = strchr(line, ' ');
    size_t len;

    if (line[0] == '#' || sp == NULL)
      continue;
    *sp = '\0';
    if (prev != NULL && strcmp(prev, line) == 0)
      continue;
    free(prev);
    prev = strdup(line);
    len = strlen(line) / 2 - 1; /* without the version byte */
    ck_assert_uint_lt(t->n, 8192);
    t->bufs[t->n] = malloc(len > 0 ? len : 1);
    for (size_t i = 0; i < len; i++)
      t->bufs[t->n][i] =
          (char)(rf_hex(line[2 * i + 2]) << 4 | rf_hex(line[2 * i + 3]));
    t->v[t->n].buf = t->bufs[t->n];
    t->v[t->n].len = len;
    t->n++;
  }
  free(prev);
  free(line);
  fclose(f);
  ck_assert_uint_gt(t->n, 100);
}

static __attribute__((unused)) void rf_free(rf_terms_t *t) {
  for (size_t i = 0; i < t->n; i++)
    free(t->bufs[i]);
  free(t->bufs);
  free(t->v);
  memset(t, 0, sizeof *t);
}

/* %{key => value} (a binary key) in a builder the caller frees. */
static __attribute__((unused)) pga_tb_t *rf_map1(const char *key,
                                                 const pga_term_t *value) {
  pga_tb_t *tb = pga_tb_new(0);

  ck_assert_ptr_nonnull(tb);
  pga_tb_map(tb, 1);
  pga_tb_string(tb, key);
  pga_tb_term(tb, value);
  return tb;
}

#endif
