/* Unit tests for src/base/dynbuf.c: cap, failure frees, consume, reserve. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/dynbuf.h"
#include "pga/errno.h"
#include "check_main.h"

START_TEST(dynbuf_init_is_empty) {
  pga_dynbuf_t b;

  pga_dynbuf_init(&b, 100);
  ck_assert_uint_eq(pga_dynbuf_size(&b), 0);
  ck_assert_ptr_null(b.data);
  ck_assert_uint_eq(b.cap, 100);
  pga_dynbuf_free(&b);
}
END_TEST

START_TEST(dynbuf_add_appends_in_order) {
  pga_dynbuf_t b;

  pga_dynbuf_init(&b, 100);
  ck_assert_int_eq(pga_dynbuf_add(&b, "abc", 3), 0);
  ck_assert_int_eq(pga_dynbuf_add(&b, "def", 3), 0);
  ck_assert_uint_eq(pga_dynbuf_size(&b), 6);
  ck_assert_mem_eq(pga_dynbuf_ptr(&b), "abcdef", 6);
  pga_dynbuf_free(&b);
}
END_TEST

START_TEST(dynbuf_add_keeps_nul_terminator) {
  pga_dynbuf_t b;

  pga_dynbuf_init(&b, 100);
  ck_assert_int_eq(pga_dynbuf_add(&b, "hello", 5), 0);
  ck_assert_str_eq(pga_dynbuf_ptr(&b), "hello");
  pga_dynbuf_consume(&b, 2);
  ck_assert_str_eq(pga_dynbuf_ptr(&b), "llo");
  pga_dynbuf_free(&b);
}
END_TEST

START_TEST(dynbuf_add_exactly_cap_succeeds) {
  pga_dynbuf_t b;
  char data[16];

  memset(data, 'x', sizeof data);
  pga_dynbuf_init(&b, sizeof data);
  ck_assert_int_eq(pga_dynbuf_add(&b, data, sizeof data), 0);
  ck_assert_uint_eq(pga_dynbuf_size(&b), sizeof data);
  ck_assert_int_eq(pga_dynbuf_add(&b, "", 0), 0);
  pga_dynbuf_free(&b);
}
END_TEST

START_TEST(dynbuf_add_past_cap_returns_etoobig_and_frees) {
  pga_dynbuf_t b;

  pga_dynbuf_init(&b, 8);
  ck_assert_int_eq(pga_dynbuf_add(&b, "12345", 5), 0);
  ck_assert_int_eq(pga_dynbuf_add(&b, "6789", 4), PGA_ETOOBIG);
  ck_assert_ptr_null(b.data);
  ck_assert_uint_eq(pga_dynbuf_size(&b), 0);
  ck_assert_uint_eq(b.alloc, 0);
  /* Still initialized with the same cap. */
  ck_assert_int_eq(pga_dynbuf_add(&b, "12345678", 8), 0);
  ck_assert_mem_eq(pga_dynbuf_ptr(&b), "12345678", 8);
  pga_dynbuf_free(&b);
}
END_TEST

START_TEST(dynbuf_cap_counts_unconsumed_bytes) {
  pga_dynbuf_t b;

  pga_dynbuf_init(&b, 10);
  ck_assert_int_eq(pga_dynbuf_add(&b, "0123456789", 10), 0);
  pga_dynbuf_consume(&b, 4);
  ck_assert_int_eq(pga_dynbuf_add(&b, "abcd", 4), 0);
  ck_assert_uint_eq(pga_dynbuf_size(&b), 10);
  ck_assert_mem_eq(pga_dynbuf_ptr(&b), "456789abcd", 10);
  ck_assert_int_eq(pga_dynbuf_add(&b, "!", 1), PGA_ETOOBIG);
  pga_dynbuf_free(&b);
}
END_TEST

START_TEST(dynbuf_consume_drops_front_bytes) {
  pga_dynbuf_t b;

  pga_dynbuf_init(&b, 1000);
  ck_assert_int_eq(pga_dynbuf_add(&b, "abcdefghij", 10), 0);
  pga_dynbuf_consume(&b, 3);
  ck_assert_uint_eq(pga_dynbuf_size(&b), 7);
  ck_assert_mem_eq(pga_dynbuf_ptr(&b), "defghij", 7);
  pga_dynbuf_free(&b);
}
END_TEST

START_TEST(dynbuf_consume_all_rewinds_to_start) {
  pga_dynbuf_t b;

  pga_dynbuf_init(&b, 1000);
  ck_assert_int_eq(pga_dynbuf_add(&b, "abcdef", 6), 0);
  pga_dynbuf_consume(&b, 6);
  ck_assert_uint_eq(pga_dynbuf_size(&b), 0);
  ck_assert_uint_eq(b.start, 0);
  ck_assert_uint_eq(b.len, 0);
  ck_assert_ptr_nonnull(b.data);
  pga_dynbuf_free(&b);
}
END_TEST

START_TEST(dynbuf_consume_under_half_defers_compaction) {
  pga_dynbuf_t b;

  pga_dynbuf_init(&b, 1000);
  ck_assert_int_eq(pga_dynbuf_add(&b, "abcdefghij", 10), 0);
  pga_dynbuf_consume(&b, 4);
  ck_assert_uint_eq(b.start, 4);
  ck_assert_mem_eq(pga_dynbuf_ptr(&b), "efghij", 6);
  pga_dynbuf_free(&b);
}
END_TEST

START_TEST(dynbuf_consume_past_half_compacts) {
  pga_dynbuf_t b;

  pga_dynbuf_init(&b, 1000);
  ck_assert_int_eq(pga_dynbuf_add(&b, "abcdefghij", 10), 0);
  pga_dynbuf_consume(&b, 6);
  ck_assert_uint_eq(b.start, 0);
  ck_assert_uint_eq(b.len, 4);
  ck_assert_mem_eq(b.data, "ghij", 5); /* with the terminator */
  pga_dynbuf_free(&b);
}
END_TEST

START_TEST(dynbuf_reserve_commit_appends) {
  pga_dynbuf_t b;

  pga_dynbuf_init(&b, 1000);
  ck_assert_int_eq(pga_dynbuf_add(&b, "ab", 2), 0);
  char *p = pga_dynbuf_reserve(&b, 100);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_ge(b.alloc - b.len, 101);
  memcpy(p, "cde", 3);
  pga_dynbuf_commit(&b, 3);
  ck_assert_uint_eq(pga_dynbuf_size(&b), 5);
  ck_assert_str_eq(pga_dynbuf_ptr(&b), "abcde");
  pga_dynbuf_free(&b);
}
END_TEST

START_TEST(dynbuf_reserve_past_cap_returns_null_and_frees) {
  pga_dynbuf_t b;

  pga_dynbuf_init(&b, 10);
  ck_assert_int_eq(pga_dynbuf_add(&b, "abc", 3), 0);
  ck_assert_ptr_null(pga_dynbuf_reserve(&b, 8));
  ck_assert_ptr_null(b.data);
  ck_assert_uint_eq(pga_dynbuf_size(&b), 0);
  pga_dynbuf_free(&b);
}
END_TEST

START_TEST(dynbuf_reserve_reuses_consumed_space) {
  pga_dynbuf_t b;

  pga_dynbuf_init(&b, 64);
  ck_assert_int_eq(pga_dynbuf_add(&b, "0123456789", 10), 0);
  size_t alloc = b.alloc;
  pga_dynbuf_consume(&b, 5); /* exactly half: stays at start 5 */
  ck_assert_uint_eq(b.start, 5);
  ck_assert_ptr_nonnull(pga_dynbuf_reserve(&b, alloc - 6));
  ck_assert_uint_eq(b.start, 0);
  ck_assert_uint_eq(b.alloc, alloc);
  ck_assert_mem_eq(pga_dynbuf_ptr(&b), "56789", 5);
  pga_dynbuf_free(&b);
}
END_TEST

/* A small consumed front before a large backlog: the buffer grows rather
 * than copying the backlog for a few bytes of room (appends stay O(1)
 * amortised); at the cap it compacts, since it cannot grow. */
START_TEST(dynbuf_reserve_grows_rather_than_copy_a_large_backlog) {
  pga_dynbuf_t b;

  pga_dynbuf_init(&b, 1000);
  ck_assert_int_eq(pga_dynbuf_add(&b, "0123456789", 10), 0);
  size_t alloc = b.alloc;
  pga_dynbuf_consume(&b, 2); /* under half: stays at start 2 */
  ck_assert_ptr_nonnull(pga_dynbuf_reserve(&b, alloc - 9));
  ck_assert_uint_eq(b.start, 2);
  ck_assert_uint_gt(b.alloc, alloc);
  ck_assert_mem_eq(pga_dynbuf_ptr(&b), "23456789", 8);
  pga_dynbuf_free(&b);

  pga_dynbuf_init(&b, 12);
  ck_assert_int_eq(pga_dynbuf_add(&b, "0123456789", 10), 0);
  pga_dynbuf_consume(&b, 2);
  ck_assert_ptr_nonnull(pga_dynbuf_reserve(&b, 4)); /* 8 + 4 = cap */
  ck_assert_uint_eq(b.start, 0);
  ck_assert_uint_le(b.alloc, 13);
  ck_assert_mem_eq(pga_dynbuf_ptr(&b), "23456789", 8);
  pga_dynbuf_free(&b);
}
END_TEST

START_TEST(dynbuf_reset_empties_and_keeps_cap) {
  pga_dynbuf_t b;

  pga_dynbuf_init(&b, 50);
  ck_assert_int_eq(pga_dynbuf_add(&b, "abcdef", 6), 0);
  pga_dynbuf_consume(&b, 1);
  pga_dynbuf_reset(&b);
  ck_assert_uint_eq(pga_dynbuf_size(&b), 0);
  ck_assert_uint_eq(b.cap, 50);
  ck_assert_int_eq(pga_dynbuf_add(&b, "xy", 2), 0);
  ck_assert_str_eq(pga_dynbuf_ptr(&b), "xy");
  pga_dynbuf_free(&b);
}
END_TEST

START_TEST(dynbuf_grows_to_one_megabyte) {
  pga_dynbuf_t b;
  char chunk[1000];

  pga_dynbuf_init(&b, 1 << 20);
  for (size_t i = 0; i < (1 << 20) / sizeof chunk; i++) {
    memset(chunk, 'a' + (int)(i % 26), sizeof chunk);
    ck_assert_int_eq(pga_dynbuf_add(&b, chunk, sizeof chunk), 0);
  }
  size_t n = ((1 << 20) / sizeof chunk) * sizeof chunk;
  ck_assert_uint_eq(pga_dynbuf_size(&b), n);
  ck_assert_uint_le(b.alloc, (1 << 20) + 1);
  for (size_t i = 0; i < n; i += sizeof chunk)
    ck_assert_int_eq(pga_dynbuf_ptr(&b)[i], 'a' + (int)((i / sizeof chunk) % 26));
  pga_dynbuf_free(&b);
}
END_TEST

START_TEST(dynbuf_alloc_never_exceeds_cap) {
  pga_dynbuf_t b;

  pga_dynbuf_init(&b, 100);
  ck_assert_int_eq(pga_dynbuf_add(&b, "x", 1), 0);
  ck_assert_ptr_nonnull(pga_dynbuf_reserve(&b, 99));
  ck_assert_uint_le(b.alloc, 101);
  pga_dynbuf_free(&b);
}
END_TEST

static Suite *dynbuf_suite(void) {
  Suite *s = suite_create("dynbuf");
  TCase *tc = tcase_create("core");

  tcase_add_test(tc, dynbuf_init_is_empty);
  tcase_add_test(tc, dynbuf_add_appends_in_order);
  tcase_add_test(tc, dynbuf_add_keeps_nul_terminator);
  tcase_add_test(tc, dynbuf_add_exactly_cap_succeeds);
  tcase_add_test(tc, dynbuf_add_past_cap_returns_etoobig_and_frees);
  tcase_add_test(tc, dynbuf_cap_counts_unconsumed_bytes);
  tcase_add_test(tc, dynbuf_consume_drops_front_bytes);
  tcase_add_test(tc, dynbuf_consume_all_rewinds_to_start);
  tcase_add_test(tc, dynbuf_consume_under_half_defers_compaction);
  tcase_add_test(tc, dynbuf_consume_past_half_compacts);
  tcase_add_test(tc, dynbuf_reserve_commit_appends);
  tcase_add_test(tc, dynbuf_reserve_past_cap_returns_null_and_frees);
  tcase_add_test(tc, dynbuf_reserve_reuses_consumed_space);
  tcase_add_test(tc, dynbuf_reserve_grows_rather_than_copy_a_large_backlog);
  tcase_add_test(tc, dynbuf_reset_empties_and_keeps_cap);
  tcase_add_test(tc, dynbuf_grows_to_one_megabyte);
  tcase_add_test(tc, dynbuf_alloc_never_exceeds_cap);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(dynbuf_suite)
