/* Unit tests for src/base/dict.c: add, get, delete, take, iteration with
 * deletion, growth, destructors and the SipHash used for keys. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/dict.h"
#include "pga/errno.h"
#include "check_main.h"

/* A string-keyed type whose destructors count their calls. */
static int keys_freed, vals_freed;

static void count_key_free(void *key) {
  keys_freed++;
  free(key);
}

static void count_val_free(void *val) {
  vals_freed++;
  free(val);
}

static const pga_dict_type_t counting_type = {pga_hash_str, pga_equal_str,
                                              count_key_free, count_val_free};

static char *dup_str(const char *s) {
  char *p = strdup(s);
  ck_assert_ptr_nonnull(p);
  return p;
}

static int *new_int(int v) {
  int *p = malloc(sizeof *p);
  ck_assert_ptr_nonnull(p);
  *p = v;
  return p;
}

static void setup(void) { keys_freed = vals_freed = 0; }

START_TEST(dict_add_then_get_returns_value) {
  pga_dict_t *d = pga_dict_new(&pga_dict_str_type);
  int a = 1, b = 2;

  ck_assert_ptr_nonnull(d);
  ck_assert_int_eq(pga_dict_add(d, dup_str("alpha"), &a), 0);
  ck_assert_int_eq(pga_dict_add(d, dup_str("beta"), &b), 0);
  ck_assert_ptr_eq(pga_dict_get(d, "alpha"), &a);
  ck_assert_ptr_eq(pga_dict_get(d, "beta"), &b);
  ck_assert_uint_eq(pga_dict_size(d), 2);
  pga_dict_free(d);
}
END_TEST

START_TEST(dict_get_missing_returns_null) {
  pga_dict_t *d = pga_dict_new(&pga_dict_str_type);
  int a = 1;

  ck_assert_ptr_null(pga_dict_get(d, "nothing")); /* empty table */
  ck_assert_int_eq(pga_dict_add(d, dup_str("alpha"), &a), 0);
  ck_assert_ptr_null(pga_dict_get(d, "alph"));
  ck_assert_ptr_null(pga_dict_get(d, "alphaa"));
  pga_dict_free(d);
}
END_TEST

START_TEST(dict_add_existing_key_returns_eexist) {
  pga_dict_t *d = pga_dict_new(&pga_dict_str_type);
  int a = 1, b = 2;
  char *again = dup_str("alpha");

  ck_assert_int_eq(pga_dict_add(d, dup_str("alpha"), &a), 0);
  ck_assert_int_eq(pga_dict_add(d, again, &b), PGA_EEXIST);
  ck_assert_ptr_eq(pga_dict_get(d, "alpha"), &a);
  ck_assert_uint_eq(pga_dict_size(d), 1);
  free(again); /* not taken on failure */
  pga_dict_free(d);
}
END_TEST

START_TEST(dict_delete_existing_runs_destructors) {
  pga_dict_t *d = pga_dict_new(&counting_type);

  ck_assert_int_eq(pga_dict_add(d, dup_str("k1"), new_int(1)), 0);
  ck_assert_int_eq(pga_dict_add(d, dup_str("k2"), new_int(2)), 0);
  ck_assert_int_eq(pga_dict_delete(d, "k1"), 0);
  ck_assert_int_eq(keys_freed, 1);
  ck_assert_int_eq(vals_freed, 1);
  ck_assert_ptr_null(pga_dict_get(d, "k1"));
  ck_assert_int_eq(*(int *)pga_dict_get(d, "k2"), 2);
  ck_assert_uint_eq(pga_dict_size(d), 1);
  pga_dict_free(d);
}
END_TEST

START_TEST(dict_delete_missing_returns_enotfound) {
  pga_dict_t *d = pga_dict_new(&counting_type);

  ck_assert_int_eq(pga_dict_delete(d, "nope"), PGA_ENOTFOUND);
  ck_assert_int_eq(pga_dict_add(d, dup_str("k"), new_int(1)), 0);
  ck_assert_int_eq(pga_dict_delete(d, "nope"), PGA_ENOTFOUND);
  ck_assert_int_eq(keys_freed + vals_freed, 0);
  ck_assert_uint_eq(pga_dict_size(d), 1);
  pga_dict_free(d);
}
END_TEST

START_TEST(dict_take_returns_value_without_destructors) {
  pga_dict_t *d = pga_dict_new(&counting_type);
  void *key = NULL;

  ck_assert_int_eq(pga_dict_add(d, dup_str("k"), new_int(7)), 0);
  int *v = pga_dict_take(d, "k", &key);
  ck_assert_ptr_nonnull(v);
  ck_assert_int_eq(*v, 7);
  ck_assert_str_eq(key, "k");
  ck_assert_int_eq(keys_freed + vals_freed, 0);
  ck_assert_uint_eq(pga_dict_size(d), 0);
  void *taken = key; /* now ours */
  ck_assert_ptr_null(pga_dict_take(d, "k", &key));
  ck_assert_ptr_null(key);
  free(taken);
  free(v);
  pga_dict_free(d);
}
END_TEST

START_TEST(dict_free_runs_destructors_for_every_entry) {
  pga_dict_t *d = pga_dict_new(&counting_type);
  char name[16];

  for (int i = 0; i < 100; i++) {
    snprintf(name, sizeof name, "key%d", i);
    ck_assert_int_eq(pga_dict_add(d, dup_str(name), new_int(i)), 0);
  }
  pga_dict_free(d);
  ck_assert_int_eq(keys_freed, 100);
  ck_assert_int_eq(vals_freed, 100);
}
END_TEST

START_TEST(dict_iter_visits_every_entry_once) {
  pga_dict_t *d = pga_dict_new(&pga_dict_u64_type);
  enum { N = 1000 };
  static int seen[N];
  pga_dict_iter_t it;
  void *key, *val;
  size_t visits = 0;

  memset(seen, 0, sizeof seen);
  for (uintptr_t i = 0; i < N; i++)
    ck_assert_int_eq(pga_dict_add(d, PGA_U64_KEY(i), (void *)(i * 3)), 0);
  pga_dict_iter_init(d, &it);
  while (pga_dict_next(&it, &key, &val)) {
    uintptr_t k = (uintptr_t)key;
    ck_assert_uint_lt(k, N);
    ck_assert_uint_eq((uintptr_t)val, k * 3);
    seen[k]++;
    visits++;
  }
  ck_assert_uint_eq(visits, N);
  for (int i = 0; i < N; i++)
    ck_assert_int_eq(seen[i], 1);
  ck_assert_int_eq(pga_dict_next(&it, &key, &val), 0); /* stays ended */
  pga_dict_free(d);
}
END_TEST

START_TEST(dict_iter_on_empty_ends_at_once) {
  pga_dict_t *d = pga_dict_new(&pga_dict_u64_type);
  pga_dict_iter_t it;
  void *key, *val;

  pga_dict_iter_init(d, &it);
  ck_assert_int_eq(pga_dict_next(&it, &key, &val), 0);
  pga_dict_free(d);
}
END_TEST

START_TEST(dict_iter_delete_current_visits_all) {
  pga_dict_t *d = pga_dict_new(&counting_type);
  enum { N = 500 };
  char name[16];
  pga_dict_iter_t it;
  void *key, *val;
  int visits = 0, odd_left = 0;

  for (int i = 0; i < N; i++) {
    snprintf(name, sizeof name, "k%d", i);
    ck_assert_int_eq(pga_dict_add(d, dup_str(name), new_int(i)), 0);
  }
  pga_dict_iter_init(d, &it);
  while (pga_dict_next(&it, &key, &val)) {
    visits++;
    if (*(int *)val % 2 == 0)
      ck_assert_int_eq(pga_dict_delete(d, key), 0);
  }
  ck_assert_int_eq(visits, N);
  ck_assert_uint_eq(pga_dict_size(d), N / 2);
  ck_assert_int_eq(keys_freed, N / 2);
  pga_dict_iter_init(d, &it);
  while (pga_dict_next(&it, &key, &val)) {
    ck_assert_int_eq(*(int *)val % 2, 1);
    odd_left++;
  }
  ck_assert_int_eq(odd_left, N / 2);
  pga_dict_free(d);
}
END_TEST

START_TEST(dict_iter_delete_all_empties_table) {
  pga_dict_t *d = pga_dict_new(&counting_type);
  char name[16];
  pga_dict_iter_t it;
  void *key;
  int visits = 0;

  for (int i = 0; i < 300; i++) {
    snprintf(name, sizeof name, "k%d", i);
    ck_assert_int_eq(pga_dict_add(d, dup_str(name), new_int(i)), 0);
  }
  pga_dict_iter_init(d, &it);
  while (pga_dict_next(&it, &key, NULL)) {
    ck_assert_int_eq(pga_dict_delete(d, key), 0);
    visits++;
  }
  ck_assert_int_eq(visits, 300);
  ck_assert_uint_eq(pga_dict_size(d), 0);
  ck_assert_int_eq(vals_freed, 300);
  pga_dict_free(d);
}
END_TEST

START_TEST(dict_grows_to_100k_entries) {
  pga_dict_t *d = pga_dict_new(&pga_dict_u64_type);
  enum { N = 100000 };

  /* Spread-out keys, including 0 (a NULL pointer key). */
  for (uint64_t i = 0; i < N; i++)
    ck_assert_int_eq(pga_dict_add(d, PGA_U64_KEY(i * 7919), (void *)(uintptr_t)(i + 1)), 0);
  ck_assert_uint_eq(pga_dict_size(d), N);
  for (uint64_t i = 0; i < N; i++)
    ck_assert_uint_eq((uintptr_t)pga_dict_get(d, PGA_U64_KEY(i * 7919)), i + 1);
  ck_assert_ptr_null(pga_dict_get(d, PGA_U64_KEY(1)));
  for (uint64_t i = 0; i < N; i += 2)
    ck_assert_int_eq(pga_dict_delete(d, PGA_U64_KEY(i * 7919)), 0);
  ck_assert_uint_eq(pga_dict_size(d), N / 2);
  for (uint64_t i = 1; i < N; i += 2)
    ck_assert_uint_eq((uintptr_t)pga_dict_get(d, PGA_U64_KEY(i * 7919)), i + 1);
  pga_dict_free(d);
}
END_TEST

START_TEST(dict_str_type_frees_keys_on_delete) {
  /* Valgrind (CK_FORK=no) reports the leak if the key is not freed. */
  pga_dict_t *d = pga_dict_new(&pga_dict_str_type);
  int v = 5;
  char lookup[] = "shared-key";

  ck_assert_ptr_eq(pga_dict_str_type.key_free, free);
  ck_assert_ptr_null(pga_dict_str_type.val_free);
  ck_assert_int_eq(pga_dict_add(d, dup_str("shared-key"), &v), 0);
  ck_assert_ptr_eq(pga_dict_get(d, lookup), &v); /* a different pointer */
  ck_assert_int_eq(pga_dict_delete(d, lookup), 0);
  ck_assert_uint_eq(pga_dict_size(d), 0);
  pga_dict_free(d);
}
END_TEST

START_TEST(dict_free_null_is_noop) { pga_dict_free(NULL); }
END_TEST

START_TEST(hash_same_input_same_value) {
  ck_assert_uint_eq(pga_hash_bytes("abc", 3), pga_hash_bytes("abc", 3));
  ck_assert_uint_eq(pga_hash_str("abc"), pga_hash_bytes("abc", 3));
  ck_assert_uint_eq(pga_hash_u64(42), pga_hash_u64(42));
  ck_assert_uint_ne(pga_hash_bytes("abc", 3), pga_hash_bytes("abd", 3));
  ck_assert_uint_ne(pga_hash_u64(1), pga_hash_u64(2));
  ck_assert_uint_ne(pga_hash_bytes("", 0), pga_hash_bytes("\0", 1));
}
END_TEST

START_TEST(hash_u64_is_bytes_little_endian) {
  const unsigned char le[8] = {0x08, 0x07, 0x06, 0x05,
                               0x04, 0x03, 0x02, 0x01};

  ck_assert_uint_eq(pga_hash_u64(0x0102030405060708ULL),
                    pga_hash_bytes(le, 8));
}
END_TEST

START_TEST(hash_key_is_not_all_zero) {
  /* Under the zero key SipHash("") is 0x1e924b9d737700d7; a process key
   * from getrandom() matches it with probability 2^-64. */
  const unsigned char zero[16] = {0};

  ck_assert_uint_eq(pga__siphash24(zero, "", 0), 0x1e924b9d737700d7ULL);
  ck_assert_uint_ne(pga_hash_bytes("", 0), 0x1e924b9d737700d7ULL);
}
END_TEST

START_TEST(siphash_matches_reference_vectors) {
  /* From the SipHash paper's reference code (vectors.h): key 00..0f,
   * message 00..(len-1). */
  static const uint64_t expect[] = {
      0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
      0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
      0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL,
      0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
      0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL,
      0xa129ca6149be45e5ULL, 0x3f2acc7f57c29bdbULL};
  unsigned char key[16], msg[17];

  for (int i = 0; i < 16; i++)
    key[i] = (unsigned char)i;
  for (int i = 0; i < 17; i++)
    msg[i] = (unsigned char)i;
  for (size_t len = 0; len < sizeof expect / sizeof expect[0]; len++)
    ck_assert_uint_eq(pga__siphash24(key, msg, len), expect[len]);
}
END_TEST

static Suite *dict_suite(void) {
  Suite *s = suite_create("dict");
  TCase *tc = tcase_create("core");

  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, dict_add_then_get_returns_value);
  tcase_add_test(tc, dict_get_missing_returns_null);
  tcase_add_test(tc, dict_add_existing_key_returns_eexist);
  tcase_add_test(tc, dict_delete_existing_runs_destructors);
  tcase_add_test(tc, dict_delete_missing_returns_enotfound);
  tcase_add_test(tc, dict_take_returns_value_without_destructors);
  tcase_add_test(tc, dict_free_runs_destructors_for_every_entry);
  tcase_add_test(tc, dict_iter_visits_every_entry_once);
  tcase_add_test(tc, dict_iter_on_empty_ends_at_once);
  tcase_add_test(tc, dict_iter_delete_current_visits_all);
  tcase_add_test(tc, dict_iter_delete_all_empties_table);
  tcase_add_test(tc, dict_grows_to_100k_entries);
  tcase_add_test(tc, dict_str_type_frees_keys_on_delete);
  tcase_add_test(tc, dict_free_null_is_noop);
  tcase_add_test(tc, hash_same_input_same_value);
  tcase_add_test(tc, hash_u64_is_bytes_little_endian);
  tcase_add_test(tc, hash_key_is_not_all_zero);
  tcase_add_test(tc, siphash_matches_reference_vectors);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(dict_suite)
