/* pga-node's systemd notification (src/node/notify.c) against a real
 * AF_UNIX datagram socket, as systemd listens: a path and an abstract
 * name; no NOTIFY_SOCKET means nothing is sent; a bad value fails. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check_main.h"
#include "node/notify.h"

/* Binds a datagram socket at name ("/path" or "@abstract"). */
static int listener(const char *name) {
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  size_t n = strlen(name);
  memcpy(sa.sun_path, name, n);
  if (name[0] == '@') sa.sun_path[0] = '\0';
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  ck_assert_int_ge(fd, 0);
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
                              (name[0] == '/'));
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, len), 0);
  return fd;
}

static void expect(int fd, const char *want) {
  char buf[256];
  ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
  ck_assert_int_gt(n, 0);
  buf[n] = '\0';
  ck_assert_str_eq(buf, want);
}

START_TEST(notify_without_socket_sends_nothing) {
  unsetenv("NOTIFY_SOCKET");
  ck_assert_int_eq(pga_notify("READY=1"), 0);
}
END_TEST

START_TEST(notify_reaches_a_path_socket) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/pga-notify-%d.sock", (int)getpid());
  unlink(path);
  int fd = listener(path);
  setenv("NOTIFY_SOCKET", path, 1);
  ck_assert_int_eq(pga_notify("READY=1"), 1);
  expect(fd, "READY=1");
  ck_assert_int_eq(pga_notify("STOPPING=1"), 1);
  expect(fd, "STOPPING=1");
  close(fd);
  unlink(path);
}
END_TEST

START_TEST(notify_reaches_an_abstract_socket) {
  char name[64];
  snprintf(name, sizeof name, "@pga-notify-%d", (int)getpid());
  int fd = listener(name);
  setenv("NOTIFY_SOCKET", name, 1);
  ck_assert_int_eq(pga_notify("READY=1"), 1);
  expect(fd, "READY=1");
  close(fd);
}
END_TEST

START_TEST(notify_refuses_a_bad_socket_name) {
  static const char *const bad[] = {"relative.sock", "/nonexistent/dir/x"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    setenv("NOTIFY_SOCKET", bad[i], 1);
    ck_assert_int_eq(pga_notify("READY=1"), -1);
  }
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("node_notify");
  TCase *tc = tcase_create("notify");
  tcase_add_test(tc, notify_without_socket_sends_nothing);
  tcase_add_test(tc, notify_reaches_a_path_socket);
  tcase_add_test(tc, notify_reaches_an_abstract_socket);
  tcase_add_test(tc, notify_refuses_a_bad_socket_name);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(suite)
