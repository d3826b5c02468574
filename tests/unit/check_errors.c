/* Unit tests for src/base/errors.c: names, texts and the run-time version. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "pga/common.h"
#include "pga/errno.h"
#include "pga/version.h"
#include "check_main.h"

/* The same list the library uses, so a new code is tested with no edit. */
static const struct {
  int code;
  const char *name;
  const char *text;
} codes[] = {
#define ROW(name, value, text) {PGA_##name, "PGA_" #name, text},
    PGA_ERRNO_MAP(ROW)
#undef ROW
};
static const size_t ncodes = sizeof codes / sizeof codes[0];

START_TEST(errors_every_code_has_its_name) {
  for (size_t i = 0; i < ncodes; i++)
    ck_assert_str_eq(pga_err_name(codes[i].code), codes[i].name);
}
END_TEST

START_TEST(errors_every_code_has_its_text) {
  for (size_t i = 0; i < ncodes; i++) {
    ck_assert_str_eq(pga_strerror(codes[i].code), codes[i].text);
    ck_assert_str_ne(pga_strerror(codes[i].code), "unknown error");
  }
}
END_TEST

START_TEST(errors_codes_negative_and_unique) {
  for (size_t i = 0; i < ncodes; i++) {
    ck_assert_int_lt(codes[i].code, 0);
    for (size_t j = i + 1; j < ncodes; j++)
      ck_assert_int_ne(codes[i].code, codes[j].code);
  }
}
END_TEST

START_TEST(errors_texts_unique) {
  for (size_t i = 0; i < ncodes; i++)
    for (size_t j = i + 1; j < ncodes; j++)
      ck_assert_str_ne(codes[i].text, codes[j].text);
}
END_TEST

START_TEST(errors_ok_is_success) {
  ck_assert_str_eq(pga_strerror(PGA_OK), "success");
  ck_assert_str_eq(pga_err_name(PGA_OK), "PGA_OK");
}
END_TEST

START_TEST(errors_unknown_code_reports_unknown) {
  const int unknown[] = {1, 42, -9999, PGA_EBUSY - 1};

  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    ck_assert_str_eq(pga_strerror(unknown[i]), "unknown error");
    ck_assert_str_eq(pga_err_name(unknown[i]), "PGA_UNKNOWN");
  }
}
END_TEST

START_TEST(version_runtime_matches_header) {
  ck_assert_uint_eq(pga_version(), PGA_VERSION_HEX);
  ck_assert_str_eq(pga_version_string(), PGA_VERSION_STRING);
  ck_assert_uint_eq(pga_version() >> 16, PGA_VERSION_MAJOR);
  ck_assert_uint_eq((pga_version() >> 8) & 0xff, PGA_VERSION_MINOR);
  ck_assert_uint_eq(pga_version() & 0xff, PGA_VERSION_PATCH);
}
END_TEST

static Suite *errors_suite(void) {
  Suite *s = suite_create("errors");
  TCase *tc = tcase_create("core");

  tcase_add_test(tc, errors_every_code_has_its_name);
  tcase_add_test(tc, errors_every_code_has_its_text);
  tcase_add_test(tc, errors_codes_negative_and_unique);
  tcase_add_test(tc, errors_texts_unique);
  tcase_add_test(tc, errors_ok_is_success);
  tcase_add_test(tc, errors_unknown_code_reports_unknown);
  tcase_add_test(tc, version_runtime_matches_header);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(errors_suite)
