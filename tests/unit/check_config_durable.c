/* Unit tests of the config plane's durable state (src/config/durable.c):
 * changes survive a "crash" (the plane freed without any shutdown work,
 * as after kill -9), replay keeps the order of changes, and a torn,
 * corrupt or stale journal is reported and skipped, never trusted. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/durable.h"
#include "config_plane_fixture.h"
#include "pga/errno.h"
#include "check_main.h"

static char dir[64];
static char err[512];

static void rm_dir(void) {
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    unlink(p);
  }
  if (d) closedir(d);
  rmdir(dir);
}

static int open_plane(const char *service_configs, size_t sclen) {
  pga_config_opts_t o = {.struct_version = PGA_CONFIG_OPTS_VERSION,
                         .data_dir = dir,
                         .service_configs = service_configs,
                         .service_configs_len = sclen};
  return pga_config_plane_new(NULL, &o, &plane, err, sizeof err);
}

/* The plane goes away with no shutdown work at all: what kill -9 leaves. */
static void crash(void) {
  pga_config_plane_free(plane);
  plane = NULL;
}

static void reopen(void) {
  crash();
  ck_assert_msg(open_plane(NULL, 0) == 0, "%s", err);
}

static void setup(void) {
  strcpy(dir, "/tmp/pga-durable-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  ck_assert_msg(open_plane(NULL, 0) == 0, "%s", err);
}

static void teardown(void) {
  plane_teardown();
  rm_dir();
}

static char *path_of(const char *name) {
  static char p[256];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  return p;
}

static long file_size(const char *name) {
  struct stat st;
  return stat(path_of(name), &st) == 0 ? (long)st.st_size : -1;
}

#define JHEAD 28 /* journal version 2 header (src/config/journal.h) */

/* Offsets of the journal's records (after the header); a record is salt 8,
 * payload length 4, label length 2, label, two CRCs, payload. */
static long label_len[16];
static size_t record_offsets(long *off, size_t max) {
  FILE *f = fopen(path_of("config.journal"), "rb");
  ck_assert_ptr_nonnull(f);
  size_t n = 0;
  long pos = JHEAD;
  unsigned char h[14];
  while (n < max && fseek(f, pos, SEEK_SET) == 0 && fread(h, 1, 14, f) == 14) {
    long plen = (long)h[8] << 24 | h[9] << 16 | h[10] << 8 | h[11];
    long llen = (long)h[12] << 8 | h[13];
    if (n < 16) label_len[n] = llen;
    off[n++] = pos;
    pos += 22 + llen + plen;
  }
  fclose(f);
  return n;
}

static void poke(long off, unsigned char byte) {
  int fd = open(path_of("config.journal"), O_WRONLY);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(pwrite(fd, &byte, 1, off), 1);
  close(fd);
}

static void append_bytes(const void *p, size_t n) {
  int fd = open(path_of("config.journal"), O_WRONLY | O_APPEND);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
  close(fd);
}

#define PF(ver, cv)                                                         \
  "%PC{" P ", config_version: \"" cv "\", fun_configs: [%FC{" F            \
  ", version: \"" ver "\"}]}"

static void push(const char *pc) {
  ck_assert_term(C(RECV, "push", pc, "[]", NULL), "{:ok, :accepted}");
}

static pga_durable_load_t last_load(void) {
  pga_durable_load_t l;
  pga__durable_last_load(plane, &l);
  return l;
}

START_TEST(durable_crc32_is_zlibs) {
  ck_assert_uint_eq(pga__crc32("123456789", 9), 0xCBF43926u);
  ck_assert_uint_eq(pga__crc32("", 0), 0);
}
END_TEST

START_TEST(durable_changes_survive_a_crash) {
  push(PF("1.0.0", "1"));
  push("%PC{" P ", service: \"auto\", config_version: \"a1\", "
       "module: Sup, function: :get_config, "
       "fun_configs: [%FC{" F ", service: \"auto\"}]}");
  ck_assert_term(C(DB, "add", "%FC{" G "}", NULL, NULL), ":ok");
  ck_assert_term(C(DB, "disable", "\"Test\"", "\"test_request\"", NULL),
                 ":ok");
  ck_assert_term(C(PULLER, "add",
                   "[%SC{service: \"pulled\", nodes: [:\"s@h\"], "
                   "module: Sup, function: :get_config, args: []}]",
                   NULL, NULL),
                 ":ok");
  reopen();
  pga_durable_load_t l = last_load();
  ck_assert_int_eq(l.journal_state, 1);
  ck_assert_uint_eq(l.records, 5);
  ck_assert_int_eq(l.bad_offset, -1);
  ck_assert_term(C(RECV, "verify", "\"test_service\"", "\"1\"", NULL),
                 "{:ok, :matched}");
  ck_assert_term(el(C(DB, "get", "\"test_service\"", "\"test_request\"",
                      "\"1.0.0\""), 0), ":ok");
  ck_assert_term(C(DB, "get", "\"Test\"", "\"test_request\"", NULL),
                 "{:error, :disabled}");
  pga_term_t svcs = C(PULLER, "get_services", NULL, NULL, NULL), sc;
  ck_assert_int_eq(pga_term_map_get_binary(&svcs, "pulled", &sc), 0);
  ck_assert_int_eq(pga_term_map_get_binary(&svcs, "auto", &sc), 0);
  ck_assert_term(key(sc, "module"), "Sup");
  pga_term_t pc = C(RECV, "get_pushed_config", "\"auto\"", NULL, NULL);
  ck_assert_term(key(pc, "config_version"), "\"a1\"");
  ck_assert_term(key(pc, "module"), "Sup");
  ck_assert_uint_eq(len(key(pc, "fun_configs")), 1);
  /* The reopen folded everything into a new snapshot: a second crash
   * keeps it all, now from the snapshot alone. */
  reopen();
  l = last_load();
  ck_assert_uint_eq(l.records, 0);
  ck_assert_uint_eq(l.snapshot_entries, 3 + 2 + 2);
  ck_assert_term(C(RECV, "verify", "\"auto\"", "\"a1\"", NULL),
                 "{:ok, :matched}");
  ck_assert_term(C(DB, "count", NULL, NULL, NULL), "3");
}
END_TEST

START_TEST(durable_replay_keeps_the_order_of_changes) {
  ck_assert_term(C(DB, "add", "%FC{" G "}", NULL, NULL), ":ok");
  ck_assert_term(C(DB, "disable", "\"Test\"", "\"test_request\"", NULL),
                 ":ok");
  ck_assert_term(C(DB, "enable", "\"Test\"", "\"test_request\"", NULL),
                 ":ok");
  ck_assert_term(C(DB, "add", "%FC{" G ", request_type: \"b\"}", NULL, NULL),
                 ":ok");
  ck_assert_term(C(DB, "delete", "\"Test\"", "\"test_request\"", NULL),
                 ":ok");
  ck_assert_term(C(DB, "clear", NULL, NULL, NULL), ":ok");
  ck_assert_term(C(DB, "add", "%FC{" G ", request_type: \"c\"}", NULL, NULL),
                 ":ok");
  ck_assert_term(C(DB, "update", "%FC{" G ", request_type: \"c\", "
                   "timeout: 700}", NULL, NULL), ":ok");
  ck_assert_term(C(DB, "disable", "\"Test\"", "\"c\"", NULL), ":ok");
  ck_assert_term(C(PULLER, "add", "[%SC{service: \"x\"}]", NULL, NULL),
                 ":ok");
  ck_assert_term(C(PULLER, "delete", "[%SC{service: \"x\"}]", NULL, NULL),
                 ":ok");
  push(PF("1.0.0", "1"));
  ck_assert_term(C(RECV, "delete_pushed_service", "\"test_service\"", NULL,
                   NULL), ":ok");
  reopen();
  ck_assert_uint_eq(last_load().records, 13);
  /* (maps compared one service at a time: key order is hash order) */
  ck_assert_term(C(DB, "count", NULL, NULL, NULL), "2");
  ck_assert_term(C(DB, "get_functions_from_services", "\"Test\"", NULL,
                   NULL), "%{\"Test\" => %{\"c\" => [nil]}}");
  ck_assert_term(C(DB, "get_functions_from_services", "\"test_service\"",
                   NULL, NULL),
                 "%{\"test_service\" => %{\"test_request\" => [\"1.0.0\"]}}");
  ck_assert_term(C(DB, "get", "\"Test\"", "\"c\"", NULL),
                 "{:error, :disabled}");
  ck_assert_term(C(DB, "enable", "\"Test\"", "\"c\"", NULL), ":ok");
  ck_assert_term(key(el(C(DB, "get", "\"Test\"", "\"c\"", NULL), 1),
                     "timeout"), "700");
  ck_assert_term(C(PULLER, "get_services", NULL, NULL, NULL), "%{}");
  ck_assert_term(C(RECV, "get_all_pushed_services", NULL, NULL, NULL),
                 "%{}");
}
END_TEST

static void three_pushes(void) {
  push(PF("1.0.0", "1"));
  push(PF("2.0.0", "2"));
  push(PF("3.0.0", "3"));
}

START_TEST(durable_torn_tail_skipped) {
  three_pushes();
  long off[8];
  ck_assert_uint_eq(record_offsets(off, 8), 3);
  long size = file_size("config.journal");
  crash();
  ck_assert_int_eq(truncate(path_of("config.journal"), size - 3), 0);
  ck_assert_msg(open_plane(NULL, 0) == 0, "%s", err);
  pga_durable_load_t l = last_load();
  ck_assert_uint_eq(l.records, 2);
  ck_assert_int_eq(l.bad_offset, off[2]);
  ck_assert_uint_eq(l.skipped_bytes, (uint64_t)(size - 3 - off[2]));
  ck_assert_term(C(RECV, "verify", "\"test_service\"", "\"2\"", NULL),
                 "{:ok, :matched}");
  ck_assert_term(C(DB, "count", NULL, NULL, NULL), "2");
  /* A torn record header (fewer than 8 bytes) likewise. */
  push(PF("3.0.0", "3"));
  crash();
  ck_assert_int_eq(truncate(path_of("config.journal"), JHEAD + 5), 0);
  ck_assert_msg(open_plane(NULL, 0) == 0, "%s", err);
  ck_assert_int_eq(last_load().bad_offset, JHEAD);
  ck_assert_uint_eq(last_load().records, 0);
  ck_assert_term(C(DB, "count", NULL, NULL, NULL), "2");
}
END_TEST

/* Where in record 2 four bytes are flipped (from its start, or from its
 * end when negative), and whether its label still names it. */
static const struct {
  const char *where;
  long at;
  int named;
} flips[] = {
    {"salt", 0, 0},
    {"payload length", 9, 0},
    {"label length", 12, 0},
    {"label", 20, 0},
    {"header CRC", -1000, 0}, /* placeholder: resolved from the label */
    {"payload CRC", -1001, 1},
    {"payload start", -1002, 1},
    {"payload middle", -40, 1},
    {"payload end", -4, 1},
};

START_TEST(durable_corrupt_record_skipped_alone) {
  three_pushes();
  long off[8];
  ck_assert_uint_eq(record_offsets(off, 8), 3);
  long hcrc = off[1] + 14 + label_len[1];
  long at = flips[_i].at == -1000   ? hcrc
            : flips[_i].at == -1001 ? hcrc + 4
            : flips[_i].at == -1002 ? hcrc + 8
            : flips[_i].at < 0      ? off[2] + flips[_i].at
                                    : off[1] + flips[_i].at;
  crash();
  for (int k = 0; k < 4; k++) poke(at + k, (unsigned char)(0xA5 ^ k));
  ck_assert_msg(open_plane(NULL, 0) == 0, "%s", err);
  /* Records 1 and 3 replayed: only the damaged one is lost. */
  ck_assert_msg(last_load().records == 2, "%s: %zu records", flips[_i].where,
                last_load().records);
  ck_assert_int_eq(last_load().bad_offset, off[1]);
  ck_assert_uint_eq(last_load().damaged, 1);
  ck_assert_term(C(RECV, "verify", "\"test_service\"", "\"3\"", NULL),
                 "{:ok, :matched}");
  ck_assert_term(C(DB, "count", NULL, NULL, NULL), "2");
  /* ConfigReceiver.status/0 names what was skipped. */
  const char *want = flips[_i].named
                         ? "[%{offset: OFF, service: \"test_service\", "
                           "version: \"2\"}]"
                         : "[%{offset: OFF, service: :unknown, "
                           "version: :unknown}]";
  char expect[256];
  const char *o = strstr(want, "OFF");
  snprintf(expect, sizeof expect, "%.*s%ld%s", (int)(o - want), want, off[1],
           o + 3);
  ck_assert_term(key(C(RECV, "status", NULL, NULL, NULL), "journal_skipped"),
                 expect);
  /* The next start is clean and the receiver's status back to its keys. */
  reopen();
  ck_assert_int_eq(last_load().bad_offset, -1);
  pga_term_t st = C(RECV, "status", NULL, NULL, NULL), v;
  ck_assert_int_ne(pga_term_map_get_atom(&st, "journal_skipped", &v), 0);
}
END_TEST

START_TEST(durable_garbage_after_records_skipped) {
  three_pushes();
  long size = file_size("config.journal");
  crash();
  /* A length field far too big, then random bytes. */
  static const unsigned char junk[] = {0xFF, 0xFF, 0xFF, 0xF0, 1, 2, 3, 4,
                                       5,    6,    7,    8};
  append_bytes(junk, sizeof junk);
  ck_assert_msg(open_plane(NULL, 0) == 0, "%s", err);
  ck_assert_uint_eq(last_load().records, 3);
  ck_assert_int_eq(last_load().bad_offset, size);
  ck_assert_uint_eq(last_load().skipped_bytes, sizeof junk);
  ck_assert_term(C(DB, "count", NULL, NULL, NULL), "3");
  /* The damaged tail is gone from disk: the next start is clean. */
  reopen();
  ck_assert_int_eq(last_load().bad_offset, -1);
  ck_assert_term(C(DB, "count", NULL, NULL, NULL), "3");
}
END_TEST

START_TEST(durable_bad_header_ignored) {
  push(PF("1.0.0", "1"));
  crash();
  poke(0, 'X');
  ck_assert_msg(open_plane(NULL, 0) == 0, "%s", err);
  ck_assert_int_eq(last_load().journal_state, 3);
  ck_assert_term(C(DB, "count", NULL, NULL, NULL), "0");
}
END_TEST

/* A crash between the two renames of a compaction leaves the new snapshot
 * beside the old journal: the journal's records are in the snapshot. */
START_TEST(durable_stale_journal_ignored) {
  three_pushes();
  crash();
  char old[300];
  snprintf(old, sizeof old, "%s/config.journal.old", dir);
  ck_assert_int_eq(link(path_of("config.journal"), old), 0);
  ck_assert_msg(open_plane(NULL, 0) == 0, "%s", err); /* compacts */
  crash();
  ck_assert_int_eq(rename(old, path_of("config.journal")), 0);
  ck_assert_msg(open_plane(NULL, 0) == 0, "%s", err);
  ck_assert_int_eq(last_load().journal_state, 2);
  ck_assert_uint_eq(last_load().records, 0);
  ck_assert_term(C(DB, "count", NULL, NULL, NULL), "3");
}
END_TEST

START_TEST(durable_compaction_keeps_state) {
  pga__durable_set_compact_bytes(plane, 1);
  three_pushes(); /* each commit folds the journal */
  ck_assert_int_eq(file_size("config.journal"), JHEAD);
  ck_assert_term(C(DB, "add", "%FC{" G "}", NULL, NULL), ":ok");
  reopen();
  ck_assert_term(C(DB, "count", NULL, NULL, NULL), "4");
  ck_assert_term(C(RECV, "verify", "\"test_service\"", "\"3\"", NULL),
                 "{:ok, :matched}");
}
END_TEST

START_TEST(durable_dir_used_once) {
  pga_config_plane_t *first = plane;
  plane = NULL;
  ck_assert_int_eq(open_plane(NULL, 0), PGA_EBUSY);
  ck_assert_ptr_nonnull(strstr(err, "is in use by another pga-node"));
  plane = first;
}
END_TEST

START_TEST(durable_damaged_snapshot_refused) {
  crash();
  FILE *f = fopen(path_of("config.snapshot"), "wb");
  ck_assert_ptr_nonnull(f);
  fputs("\x81\xa6" "format\xa3" "abc", f);
  fclose(f);
  ck_assert_int_ne(open_plane(NULL, 0), 0);
  ck_assert_ptr_null(plane);
  ck_assert_ptr_nonnull(strstr(err, "config.snapshot is damaged (not a pga "
                                    "config snapshot): move it away"));
  /* Truncated msgpack, and random bytes, are refused the same way. */
  ck_assert_int_eq(truncate(path_of("config.snapshot"), 3), 0);
  ck_assert_int_ne(open_plane(NULL, 0), 0);
  ck_assert_ptr_nonnull(strstr(err, "is damaged (not a msgpack map)"));
}
END_TEST

START_TEST(durable_failed_sync_answers_storage_failed) {
  pga__durable_fail_syncs(plane, 1);
  ck_assert_term(C(RECV, "push", PF("1.0.0", "1"), "[]", NULL),
                 "{:error, :storage_failed}");
  /* In effect in memory, and written by the next durable change. */
  ck_assert_term(C(RECV, "push", PF("1.0.0", "1"), "[force: true]", NULL),
                 "{:ok, :accepted}");
  pga__durable_fail_syncs(plane, 1);
  ck_assert_term(C(DB, "disable", "\"test_service\"", "\"test_request\"",
                   "\"1.0.0\""), "{:error, :storage_failed}");
  reopen();
  ck_assert_term(C(DB, "get", "\"test_service\"", "\"test_request\"",
                   "\"1.0.0\""), "{:error, :disabled}");
}
END_TEST

START_TEST(durable_config_file_services_are_not_written) {
  crash();
  pga_term_t sc = T("[%{service: \"from_file\", nodes: [:\"s@h\"]}]");
  ck_assert_msg(open_plane(sc.buf, sc.len) == 0, "%s", err);
  ck_assert_term(C(PULLER, "add", "[%SC{service: \"runtime\"}]", NULL, NULL),
                 ":ok");
  reopen();
  pga_term_t svcs = C(PULLER, "get_services", NULL, NULL, NULL), v;
  ck_assert_int_eq(pga_term_map_get_binary(&svcs, "runtime", &v), 0);
  ck_assert_int_ne(pga_term_map_get_binary(&svcs, "from_file", &v), 0);
  /* Replaced at run time, a file service becomes durable. */
  crash();
  ck_assert_msg(open_plane(sc.buf, sc.len) == 0, "%s", err);
  ck_assert_term(C(PULLER, "add", "[%SC{service: \"from_file\"}]", NULL,
                   NULL), ":ok");
  reopen();
  svcs = C(PULLER, "get_services", NULL, NULL, NULL);
  ck_assert_int_eq(pga_term_map_get_binary(&svcs, "from_file", &v), 0);
}
END_TEST

START_TEST(durable_unchanged_batch_add_writes_nothing) {
  const char *list = "[%FC{" G "}]";
  ck_assert_term(C(DB, "batch_add", list, NULL, NULL), "{:ok, 1}");
  long size = file_size("config.journal");
  ck_assert_term(C(DB, "batch_add", list, NULL, NULL), "{:ok, 1}");
  ck_assert_int_eq(file_size("config.journal"), size);
  ck_assert_term(C(DB, "delete", "\"Test\"", "\"nope\"", NULL), ":ok");
  ck_assert_int_eq(file_size("config.journal"), size);
}
END_TEST

/* Hostile journals: random bytes after a valid header never crash and
 * never replay. */
START_TEST(durable_random_journals_never_crash) {
  push(PF("1.0.0", "1"));
  reopen(); /* now in the snapshot */
  crash();
  unsigned seed = 12345;
  for (int round = 0; round < 200; round++) {
    unsigned char buf[512];
    size_t n = (size_t)(rand_r(&seed) % sizeof buf);
    for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)rand_r(&seed);
    /* keep the header (magic, generation, salt) of the current journal */
    ck_assert_int_eq(truncate(path_of("config.journal"), JHEAD), 0);
    append_bytes(buf, n);
    ck_assert_msg(open_plane(NULL, 0) == 0, "%s", err);
    ck_assert_term(C(DB, "count", NULL, NULL, NULL), "1");
    crash();
  }
  ck_assert_msg(open_plane(NULL, 0) == 0, "%s", err);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("config_durable");
  TCase *tc = tcase_create("durable");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, durable_crc32_is_zlibs);
  tcase_add_test(tc, durable_changes_survive_a_crash);
  tcase_add_test(tc, durable_replay_keeps_the_order_of_changes);
  tcase_add_test(tc, durable_torn_tail_skipped);
  tcase_add_loop_test(tc, durable_corrupt_record_skipped_alone, 0,
                      (int)(sizeof flips / sizeof flips[0]));
  tcase_add_test(tc, durable_garbage_after_records_skipped);
  tcase_add_test(tc, durable_bad_header_ignored);
  tcase_add_test(tc, durable_stale_journal_ignored);
  tcase_add_test(tc, durable_compaction_keeps_state);
  tcase_add_test(tc, durable_dir_used_once);
  tcase_add_test(tc, durable_damaged_snapshot_refused);
  tcase_add_test(tc, durable_failed_sync_answers_storage_failed);
  tcase_add_test(tc, durable_config_file_services_are_not_written);
  tcase_add_test(tc, durable_unchanged_batch_add_writes_nothing);
  tcase_add_test(tc, durable_random_journals_never_crash);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(suite)
