/* Unit tests for erlang:phash2/2 (src/request/phash2.c): every vector that
 * a real OTP 25 node produced in tests/data/phash2/vectors.txt (made by
 * gen.escript: binaries, bitstrings, atoms, integers and bignums, floats,
 * lists, tuples, maps small and large, pids, ports, refs, funs, deep and
 * random terms), the table of request-plane.md §8.3, and the encodings
 * that carry one term in several forms.
 *
 * §13 cases decided here: 76-78 and 82 (their phash2 values; the node
 * choice is in check_selector.c).
 *
 * Run under valgrind with CK_FORK=no: each input is copied into a buffer
 * of exactly its size, so a read past the end is reported. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pga/term.h"
#include "request/request.h"
#include "term/term.h"
#include "check_main.h"

#ifndef PGA_TEST_DATA_DIR
#define PGA_TEST_DATA_DIR "tests/data"
#endif

static const char *data_dir(void) {
  const char *d = getenv("PGA_TEST_DATA_DIR");

  return d != NULL && *d != '\0' ? d : PGA_TEST_DATA_DIR;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* Decodes hex into a malloc'ed buffer of exactly the decoded size. */
static unsigned char *unhex(const char *hex, size_t *len) {
  size_t n = strlen(hex) / 2;
  unsigned char *b = malloc(n > 0 ? n : 1);

  ck_assert_ptr_nonnull(b);
  for (size_t i = 0; i < n; i++) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

    ck_assert(hi >= 0 && lo >= 0);
    b[i] = (unsigned char)(hi << 4 | lo);
  }
  *len = n;
  return b;
}

/* phash2(t, range) of the versioned encoding in buf. */
static int hash_of(const unsigned char *buf, size_t len, uint64_t range,
                   uint32_t *out) {
  pga_term_t t;
  int rc = pga_term_view_versioned((const char *)buf, len, &t);

  return rc != 0 ? rc : pga_request_phash2(&t, range, out);
}

static uint32_t hash2_of(pga_tb_t *tb) {
  pga_term_t t = pga_tb_data(tb);
  uint32_t h = 0;

  ck_assert_int_eq(pga_tb_error(tb), 0);
  ck_assert_int_eq(pga_request_hash2(&t, &h), 0);
  return h;
}

START_TEST(phash2_beam_vectors_match) {
  char path[1024], *line = NULL;
  size_t cap = 0, n = 0;
  FILE *f;

  snprintf(path, sizeof path, "%s/phash2/vectors.txt", data_dir());
  f = fopen(path, "r");
  ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
  while (getline(&line, &cap, f) > 0) {
    char *hex, *rest;
    unsigned long long range, expect;
    unsigned char *buf;
    size_t len;
    uint32_t got = 0;

    if (line[0] == '#')
      continue;
    hex = strtok_r(line, " ", &rest);
    ck_assert_ptr_nonnull(hex);
    ck_assert_int_eq(sscanf(rest, "%llu %llu", &range, &expect), 2);
    buf = unhex(hex, &len);
    ck_assert_msg(hash_of(buf, len, range, &got) == 0, "line %zu", n);
    ck_assert_msg(got == expect, "%s rem %llu: got %u, BEAM %llu", hex, range,
                  got, expect);
    free(buf);
    n++;
  }
  free(line);
  fclose(f);
  ck_assert_uint_gt(n, 4000);
}
END_TEST

/* The make_hash2 column of request-plane.md §8.3. */
START_TEST(phash2_spec_table_matches) {
  static const struct {
    const char *s;
    uint32_t h;
  } bins[] = {{"", 147926629u},
              {"a", 1589197455u},
              {"user_123", 848402906u},
              {"user_456", 228217790u},
              {"req_123", 602556477u},
              {"test_request_id", 3034040010u},
              {"session_789", 3749185967u},
              {"xxxxxxxxxxxxxxxxxxxx", 1892055704u},
              {"h\xc3\xa9llo w\xc3\xb6rld 1234567", 1837726989u},
              {"\x01\x02\x03", 4167228639u}};
  static const struct {
    int64_t v;
    uint32_t h;
  } ints[] = {{0, 3175731469u},          {123, 1784059606u},
              {-1, 1117813597u},         {134217727, 4273352567u},
              {134217728, 2562491755u},  {-134217728, 874979335u},
              {-134217729, 1418916782u}, {INT64_C(4294967296), 2108323275u},
              {INT64_C(576460752303423488), 2442888721u}};
  pga_tb_t *tb = pga_tb_new(0);

  for (size_t i = 0; i < sizeof bins / sizeof *bins; i++) {
    pga_tb_reset(tb);
    pga_tb_string(tb, bins[i].s);
    ck_assert_msg(hash2_of(tb) == bins[i].h, "\"%s\"", bins[i].s);
  }
  for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
    pga_tb_reset(tb);
    pga_tb_int(tb, ints[i].v);
    ck_assert_msg(hash2_of(tb) == ints[i].h, "%lld", (long long)ints[i].v);
  }
  pga_tb_reset(tb);
  pga_tb_double(tb, 1.5);
  ck_assert_uint_eq(hash2_of(tb), 2023646235u);
  pga_tb_reset(tb);
  pga_tb_double(tb, 2.5);
  ck_assert_uint_eq(hash2_of(tb), 2784981260u);
  pga_tb_reset(tb);
  pga_tb_atom(tb, "true");
  ck_assert_uint_eq(hash2_of(tb), 506293u);
  pga_tb_reset(tb);
  pga_tb_atom(tb, "false");
  ck_assert_uint_eq(hash2_of(tb), 7111573u);
  pga_tb_reset(tb);
  pga_tb_atom(tb, "nil");
  ck_assert_uint_eq(hash2_of(tb), 29948u);
  pga_tb_reset(tb);
  pga_tb_list(tb, 2);
  pga_tb_int(tb, 1);
  pga_tb_int(tb, 2);
  pga_tb_nil(tb);
  ck_assert_uint_eq(hash2_of(tb), 3234232173u);
  pga_tb_reset(tb);
  pga_tb_tuple(tb, 2);
  pga_tb_int(tb, 1);
  pga_tb_int(tb, 2);
  ck_assert_uint_eq(hash2_of(tb), 4118095950u);
  pga_tb_reset(tb);
  pga_tb_map(tb, 1);
  pga_tb_string(tb, "a");
  pga_tb_int(tb, 1);
  ck_assert_uint_eq(hash2_of(tb), 2044784202u);
  pga_tb_free(tb);
}
END_TEST

/* §13 cases 76-78 and 82 rest on these remainders. */
START_TEST(phash2_selection_remainders_match_spec) {
  pga_tb_t *tb = pga_tb_new(0);
  pga_term_t t;
  uint32_t r;

  pga_tb_string(tb, "test_request_id");
  t = pga_tb_data(tb);
  ck_assert_int_eq(pga_request_phash2(&t, 3, &r), 0);
  ck_assert_uint_eq(r, 0); /* 76: node1 */
  ck_assert_int_eq(pga_request_phash2(&t, 2, &r), 0);
  ck_assert_uint_eq(r, 0); /* 82: "a@b" of two */
  pga_tb_reset(tb);
  pga_tb_string(tb, "session_789");
  t = pga_tb_data(tb);
  ck_assert_int_eq(pga_request_phash2(&t, 3, &r), 0);
  ck_assert_uint_eq(r, 2); /* 77: node3 */
  pga_tb_reset(tb);
  pga_tb_string(tb, "user_123");
  t = pga_tb_data(tb);
  ck_assert_int_eq(pga_request_phash2(&t, 3, &r), 0);
  ck_assert_uint_eq(r, 2); /* 78: node3 */
  pga_tb_reset(tb);
  pga_tb_int(tb, 7);
  t = pga_tb_data(tb);
  ck_assert_int_eq(pga_request_phash2(&t, 3, &r), 0);
  ck_assert_uint_eq(r, 0); /* 78: node1 */
  pga_tb_free(tb);
}
END_TEST

START_TEST(phash2_range_bounds_are_checked) {
  pga_tb_t *tb = pga_tb_new(0);
  pga_term_t t;
  uint32_t r = 99;

  pga_tb_string(tb, "x");
  t = pga_tb_data(tb);
  ck_assert_int_eq(pga_request_phash2(&t, 0, &r), PGA_ERANGE);
  ck_assert_int_eq(pga_request_phash2(&t, (UINT64_C(1) << 32) + 1, &r),
                   PGA_ERANGE);
  ck_assert_int_eq(pga_request_phash2(&t, 1, &r), 0);
  ck_assert_uint_eq(r, 0);
  ck_assert_int_eq(pga_request_phash2(&t, UINT64_C(1) << 32, &r), 0);
  pga_tb_free(tb);
}
END_TEST

/* "abc" as STRING_EXT, as LIST_EXT of small integers, and as two chained
 * LIST_EXT cells ([97 | [98, 99]] written as an improper tail) is one
 * term: one hash, and the byte run continues across the chain. */
START_TEST(phash2_list_encodings_agree) {
  static const unsigned char str[] = {107, 0, 3, 'a', 'b', 'c'};
  static const unsigned char lst[] = {108, 0, 0, 0, 3, 97, 97, 97, 98, 97, 99, 106};
  static const unsigned char chained[] = {108, 0, 0, 0, 1, 97, 97,
                                          107, 0, 2, 'b', 'c'};
  pga_term_t a = {(const char *)str, sizeof str},
             b = {(const char *)lst, sizeof lst},
             c = {(const char *)chained, sizeof chained};
  uint32_t ha, hb, hc;

  ck_assert_int_eq(pga_request_hash2(&a, &ha), 0);
  ck_assert_int_eq(pga_request_hash2(&b, &hb), 0);
  ck_assert_int_eq(pga_request_hash2(&c, &hc), 0);
  ck_assert_uint_eq(ha, hb);
  ck_assert_uint_eq(ha, hc);
}
END_TEST

/* 5 as SMALL_INTEGER_EXT, INTEGER_EXT and SMALL_BIG_EXT (BEAM keeps
 * bignums normalised, so all three are the small integer 5). */
START_TEST(phash2_integer_encodings_agree) {
  static const unsigned char a[] = {97, 5};
  static const unsigned char b[] = {98, 0, 0, 0, 5};
  static const unsigned char c[] = {110, 2, 0, 5, 0};
  pga_term_t ta = {(const char *)a, sizeof a}, tb = {(const char *)b, sizeof b},
             tc = {(const char *)c, sizeof c};
  uint32_t ha, hb, hc;

  ck_assert_int_eq(pga_request_hash2(&ta, &ha), 0);
  ck_assert_int_eq(pga_request_hash2(&tb, &hb), 0);
  ck_assert_int_eq(pga_request_hash2(&tc, &hc), 0);
  ck_assert_uint_eq(ha, hb);
  ck_assert_uint_eq(ha, hc);
}
END_TEST

START_TEST(phash2_map_wire_order_is_irrelevant) {
  pga_tb_t *x = pga_tb_new(0), *y = pga_tb_new(0);

  pga_tb_map(x, 2);
  pga_tb_string(x, "a");
  pga_tb_int(x, 1);
  pga_tb_string(x, "b");
  pga_tb_int(x, 2);
  pga_tb_map(y, 2);
  pga_tb_string(y, "b");
  pga_tb_int(y, 2);
  pga_tb_string(y, "a");
  pga_tb_int(y, 1);
  ck_assert_uint_eq(hash2_of(x), hash2_of(y));
  pga_tb_free(x);
  pga_tb_free(y);
}
END_TEST

START_TEST(phash2_negative_zero_hashes_as_zero) {
  pga_tb_t *tb = pga_tb_new(0);

  pga_tb_double(tb, -0.0);
  ck_assert_uint_eq(hash2_of(tb), 423528920u);
  pga_tb_reset(tb);
  pga_tb_double(tb, 0.0);
  ck_assert_uint_eq(hash2_of(tb), 423528920u);
  pga_tb_free(tb);
}
END_TEST

/* A hand-made view may be cut anywhere: every prefix of every vector
 * either hashes or fails cleanly (valgrind checks the reads). */
START_TEST(phash2_truncated_views_fail_cleanly) {
  char path[1024], *line = NULL;
  size_t cap = 0, seen = 0;
  FILE *f;

  snprintf(path, sizeof path, "%s/phash2/vectors.txt", data_dir());
  f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  while (getline(&line, &cap, f) > 0 && seen < 600) {
    char *hex, *rest;
    unsigned char *buf;
    size_t len;

    if (line[0] == '#' || (hex = strtok_r(line, " ", &rest)) == NULL ||
        strlen(hex) > 400)
      continue;
    buf = unhex(hex, &len);
    for (size_t cut = 1; cut < len; cut++) {
      unsigned char *part = malloc(cut - 1 > 0 ? cut - 1 : 1);
      pga_term_t t = {(const char *)part, cut - 1};
      uint32_t h;
      int rc;

      ck_assert_ptr_nonnull(part);
      memcpy(part, buf + 1, cut - 1);
      rc = pga_request_hash2(&t, &h);
      ck_assert(rc == 0 || rc == PGA_EBADTERM || rc == PGA_ETOOBIG ||
                rc == PGA_EINVAL);
      free(part);
    }
    free(buf);
    seen++;
  }
  free(line);
  fclose(f);
}
END_TEST

START_TEST(phash2_null_arguments_are_rejected) {
  uint32_t h;
  pga_term_t empty = {NULL, 0};

  ck_assert_int_eq(pga_request_hash2(NULL, &h), PGA_EINVAL);
  ck_assert_int_eq(pga_request_hash2(&empty, &h), PGA_EINVAL);
}
END_TEST

static Suite *phash2_suite(void) {
  Suite *s = suite_create("phash2");
  TCase *tc = tcase_create("phash2");

  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, phash2_beam_vectors_match);
  tcase_add_test(tc, phash2_spec_table_matches);
  tcase_add_test(tc, phash2_selection_remainders_match_spec);
  tcase_add_test(tc, phash2_range_bounds_are_checked);
  tcase_add_test(tc, phash2_list_encodings_agree);
  tcase_add_test(tc, phash2_integer_encodings_agree);
  tcase_add_test(tc, phash2_map_wire_order_is_irrelevant);
  tcase_add_test(tc, phash2_negative_zero_hashes_as_zero);
  tcase_add_test(tc, phash2_truncated_views_fail_cleanly);
  tcase_add_test(tc, phash2_null_arguments_are_rejected);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(phash2_suite)
