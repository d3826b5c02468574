/* The main() every Check suite shares: runs the suite its builder makes
 * and exits with the failure status automake's harness reads. */
#ifndef PGA_TESTS_CHECK_MAIN_H
#define PGA_TESTS_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

static inline int pga_check_run(Suite *s) {
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#define PGA_CHECK_MAIN(make_suite) \
  int main(void) { return pga_check_run(make_suite()); }

#endif
