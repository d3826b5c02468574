/* Unit tests of the distribution layer's pure parts: handshake codecs and
 * digest, capability flags, epmd codecs, control-message parsing. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dist/conn.h"
#include "dist/dist.h"
#include "dist/epmd.h"
#include "dist/handshake.h"
#include "dist/outq.h"
#include "dist/proto.h"
#include "check_main.h"

/* A SPAWN_REQUEST from an OTP 25 node for erpc:execute_call/4 and its
 * payload [Res, pga_node, echo, [[1,2,3]]] (term_to_binary output). */
static const char spawn_ctrl_hex[] =
    "836806611D5A000364000D6E6F6E6F6465406E6F686F7374000000000000F20E8C54"
    "00021AC0F6E35864000D6E6F6E6F6465406E6F686F73740000005500000000000000"
    "005864000D6E6F6E6F6465406E6F686F737400000055000000000000000068036400"
    "046572706364000C657865637574655F63616C6C61046C000000016400076D6F6E69"
    "746F726A";
static const char spawn_payload_hex[] =
    "836C000000045A000364000D6E6F6E6F6465406E6F686F7374000000000000F20E8C"
    "5400021AC0F6E36400087067615F6E6F64656400046563686F6C000000016B000301"
    "02036A6A";

static size_t unhex(const char *hex, unsigned char *out) {
  size_t n = strlen(hex) / 2;
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    sscanf(hex + 2 * i, "%2x", &v);
    out[i] = (unsigned char)v;
  }
  return n;
}

static size_t spawn_packet(unsigned char *buf) {
  size_t n = unhex(spawn_ctrl_hex, buf);
  return n + unhex(spawn_payload_hex, buf + n);
}

START_TEST(hs_name_round_trip_keeps_fields) {
  pga_dynbuf_t b;
  pga_dynbuf_init(&b, 4096);
  ck_assert_int_eq(pga_hs_build_name(&b, DFLAG_PGA_OFFERED, 77, "gw@127.0.0.1"), 0);
  const unsigned char *p = (const unsigned char *)pga_dynbuf_ptr(&b);
  ck_assert_uint_eq(((size_t)p[0] << 8) | p[1], pga_dynbuf_size(&b) - 2);
  pga_hs_name_t n;
  ck_assert_int_eq(pga_hs_parse_name(p + 2, pga_dynbuf_size(&b) - 2, &n), 0);
  ck_assert_uint_eq(n.flags, DFLAG_PGA_OFFERED);
  ck_assert_uint_eq(n.creation, 77);
  ck_assert_str_eq(n.name, "gw@127.0.0.1");
  pga_dynbuf_free(&b);
}
END_TEST

START_TEST(hs_parse_name_rejects_truncated_and_v5) {
  pga_dynbuf_t b;
  pga_dynbuf_init(&b, 4096);
  ck_assert_int_eq(pga_hs_build_name(&b, 1, 2, "a@b"), 0);
  const unsigned char *p = (const unsigned char *)pga_dynbuf_ptr(&b) + 2;
  size_t len = pga_dynbuf_size(&b) - 2;
  pga_hs_name_t n;
  for (size_t cut = 0; cut < len; cut++)
    ck_assert_int_eq(pga_hs_parse_name(p, cut, &n), PGA_EPROTO);
  unsigned char v5[] = {'n', 0, 5, 0, 0, 0, 0, 'a', '@', 'b'};
  ck_assert_int_eq(pga_hs_parse_name(v5, sizeof v5, &n), PGA_EPROTO);
  pga_dynbuf_free(&b);
}
END_TEST

START_TEST(hs_parse_name_rejects_bad_node_names) {
  const char *bad[] = {"nohost", "@host", "alive@", "a@b@c", "a b@c"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    pga_dynbuf_t b;
    pga_dynbuf_init(&b, 4096);
    ck_assert_int_eq(pga_hs_build_name(&b, 1, 2, bad[i]), 0);
    pga_hs_name_t n;
    ck_assert_int_eq(pga_hs_parse_name((const unsigned char *)pga_dynbuf_ptr(&b) + 2,
                                       pga_dynbuf_size(&b) - 2, &n),
                     PGA_EPROTO);
    pga_dynbuf_free(&b);
  }
}
END_TEST

START_TEST(hs_challenge_round_trip_keeps_fields) {
  pga_dynbuf_t b;
  pga_dynbuf_init(&b, 4096);
  ck_assert_int_eq(pga_hs_build_challenge(&b, 0xD07DF7FBDull, 0xdeadbeef, 9,
                                          "x@127.0.0.1"), 0);
  pga_hs_name_t n;
  ck_assert_int_eq(pga_hs_parse_challenge((const unsigned char *)pga_dynbuf_ptr(&b) + 2,
                                          pga_dynbuf_size(&b) - 2, &n), 0);
  ck_assert_uint_eq(n.flags, 0xD07DF7FBDull);
  ck_assert_uint_eq(n.challenge, 0xdeadbeef);
  ck_assert_uint_eq(n.creation, 9);
  ck_assert_str_eq(n.name, "x@127.0.0.1");
  pga_dynbuf_free(&b);
}
END_TEST

START_TEST(hs_reply_and_ack_round_trip) {
  unsigned char d[PGA_DIGEST_LEN], got[PGA_DIGEST_LEN];
  for (int i = 0; i < PGA_DIGEST_LEN; i++) d[i] = (unsigned char)(i * 7);
  pga_dynbuf_t b;
  pga_dynbuf_init(&b, 4096);
  ck_assert_int_eq(pga_hs_build_reply(&b, 42, d), 0);
  uint32_t ch = 0;
  const unsigned char *p = (const unsigned char *)pga_dynbuf_ptr(&b) + 2;
  ck_assert_int_eq(pga_hs_parse_reply(p, pga_dynbuf_size(&b) - 2, &ch, got), 0);
  ck_assert_uint_eq(ch, 42);
  ck_assert_int_eq(memcmp(d, got, sizeof d), 0);
  ck_assert_int_eq(pga_hs_parse_reply(p, pga_dynbuf_size(&b) - 3, &ch, got),
                   PGA_EPROTO);
  pga_dynbuf_reset(&b);
  ck_assert_int_eq(pga_hs_build_ack(&b, d), 0);
  p = (const unsigned char *)pga_dynbuf_ptr(&b) + 2;
  ck_assert_int_eq(pga_hs_parse_ack(p, pga_dynbuf_size(&b) - 2, got), 0);
  ck_assert_int_eq(pga_hs_parse_ack(p, 5, got), PGA_EPROTO);
  pga_dynbuf_free(&b);
}
END_TEST

START_TEST(digest_matches_otp_md5) {
  /* erlang:md5("COOKIE123" ++ integer_to_list(3000000000)) */
  static const char want_hex[] = "9978239CAB7A0A4A595456E63BE80EEA";
  unsigned char want[PGA_DIGEST_LEN], got[PGA_DIGEST_LEN];
  unhex(want_hex, want);
  ck_assert_int_eq(pga_dist_digest("COOKIE123", 3000000000u, got), 0);
  ck_assert(pga_dist_digest_equal(got, want));
  got[15] ^= 1;
  ck_assert(!pga_dist_digest_equal(got, want));
}
END_TEST

START_TEST(flags_offered_word_is_spec_value) {
  ck_assert_uint_eq(DFLAG_PGA_OFFERED, 0xD074F5FBCull);
  ck_assert_uint_eq(DFLAG_MANDATORY_25, 0x1070F94ull);
  ck_assert(!(DFLAG_PGA_OFFERED & DFLAG_PUBLISHED));
}
END_TEST

START_TEST(flags_acceptable_for_otp25_and_digest_only) {
  ck_assert(pga_hs_flags_acceptable(0xD07DF7FBDull)); /* OTP 25 node */
  ck_assert(pga_hs_flags_acceptable(DFLAG_MANDATORY_25_DIGEST | DFLAG_SPAWN));
  ck_assert(!pga_hs_flags_acceptable(DFLAG_MANDATORY_25 & ~DFLAG_UTF8_ATOMS));
  ck_assert(!pga_hs_flags_acceptable(0));
  /* ei peers lack SPAWN; they are let in for rex (docs/compat.md) */
  ck_assert(pga_hs_flags_acceptable(DFLAG_MANDATORY_25));
}
END_TEST

START_TEST(epmd_alive2_request_layout) {
  pga_dynbuf_t b;
  pga_dynbuf_init(&b, 4096);
  ck_assert_int_eq(pga_epmd_build_alive2(&b, 0x1234, "gw"), 0);
  static const unsigned char want[] = {0, 15, 120, 0x12, 0x34, 72, 0, 0, 6,
                                       0, 6, 0, 2, 'g', 'w', 0, 0};
  ck_assert_uint_eq(pga_dynbuf_size(&b), sizeof want);
  ck_assert_int_eq(memcmp(pga_dynbuf_ptr(&b), want, sizeof want), 0);
  pga_dynbuf_free(&b);
}
END_TEST

START_TEST(epmd_alive2_responses_parse) {
  uint32_t cr = 0;
  unsigned char x[] = {118, 0, 0x65, 0x43, 0x21, 0x0f};
  ck_assert_int_eq(pga_epmd_parse_alive2_resp(x, 3, &cr), PGA_EAGAIN);
  ck_assert_int_eq(pga_epmd_parse_alive2_resp(x, sizeof x, &cr), 0);
  ck_assert_uint_eq(cr, 0x6543210f);
  unsigned char old[] = {121, 0, 0, 3};
  ck_assert_int_eq(pga_epmd_parse_alive2_resp(old, sizeof old, &cr), 0);
  ck_assert_uint_eq(cr, 3);
  unsigned char taken[] = {118, 1};
  ck_assert_int_eq(pga_epmd_parse_alive2_resp(taken, 2, &cr), PGA_EEXIST);
  unsigned char junk[] = {7, 0};
  ck_assert_int_eq(pga_epmd_parse_alive2_resp(junk, 2, &cr), PGA_EPROTO);
}
END_TEST

START_TEST(epmd_port2_responses_parse) {
  uint16_t port = 0;
  unsigned char ok[] = {119, 0, 0x9c, 0x40, 77, 0, 0, 6, 0, 5, 0, 1, 'a', 0, 0};
  ck_assert_int_eq(pga_epmd_parse_port2_resp(ok, 5, &port), PGA_EAGAIN);
  ck_assert_int_eq(pga_epmd_parse_port2_resp(ok, sizeof ok, &port), 0);
  ck_assert_uint_eq(port, 40000);
  unsigned char missing[] = {119, 1};
  ck_assert_int_eq(pga_epmd_parse_port2_resp(missing, 2, &port), PGA_ENOTFOUND);
  unsigned char v5[] = {119, 0, 0x9c, 0x40, 77, 0, 0, 5, 0, 5};
  ck_assert_int_eq(pga_epmd_parse_port2_resp(v5, sizeof v5, &port), PGA_EPROTO);
}
END_TEST

START_TEST(ctrl_parse_spawn_request_from_otp25) {
  unsigned char buf[512];
  size_t n = spawn_packet(buf);
  pga_ctrl_t m;
  ck_assert_int_eq(pga_ctrl_parse((const char *)buf, n, &m), 0);
  ck_assert_int_eq(m.op, DOP_SPAWN_REQUEST);
  ck_assert_uint_eq(m.n, 6);
  ck_assert_int_eq(pga_term_type(&m.e[1]), PGA_T_REF);
  ck_assert_int_eq(pga_term_type(&m.e[2]), PGA_T_PID);
  ck_assert_int_eq(pga_term_type(&m.e[4]), PGA_T_TUPLE);
  ck_assert(m.has_payload);
  size_t len = 0;
  ck_assert_int_eq(pga_term_list_length(&m.payload, &len), 0);
  ck_assert_uint_eq(len, 4);
}
END_TEST

START_TEST(ctrl_parse_rejects_every_truncation) {
  unsigned char buf[512];
  size_t n = spawn_packet(buf);
  size_t ctrl_len = strlen(spawn_ctrl_hex) / 2;
  pga_ctrl_t m;
  for (size_t cut = 0; cut < n; cut++) {
    int rc = pga_ctrl_parse((const char *)buf, cut, &m);
    if (cut == ctrl_len)
      ck_assert_int_eq(rc, 0); /* a control message without payload */
    else
      ck_assert_int_ne(rc, 0);
  }
}
END_TEST

START_TEST(ctrl_parse_rejects_trailing_bytes_and_bad_version) {
  unsigned char buf[512];
  size_t n = spawn_packet(buf);
  pga_ctrl_t m;
  buf[n] = 0;
  ck_assert_int_ne(pga_ctrl_parse((const char *)buf, n + 1, &m), 0);
  buf[0] = 130;
  ck_assert_int_ne(pga_ctrl_parse((const char *)buf, n, &m), 0);
}
END_TEST

START_TEST(ctrl_parse_rejects_non_tuple_and_bad_op) {
  unsigned char list[] = {131, 106};                 /* [] */
  unsigned char zero[] = {131, 104, 1, 97, 0};       /* {0} */
  unsigned char atom_op[] = {131, 104, 1, 119, 1, 'a'}; /* {a} */
  pga_ctrl_t m;
  ck_assert_int_ne(pga_ctrl_parse((const char *)list, sizeof list, &m), 0);
  ck_assert_int_ne(pga_ctrl_parse((const char *)zero, sizeof zero, &m), 0);
  ck_assert_int_ne(pga_ctrl_parse((const char *)atom_op, sizeof atom_op, &m), 0);
}
END_TEST

/* ---- the listener (issue 15) ---- */

/* A dist without epmd listening on addr, ports lo..hi; NULL with err
 * when it does not start. */
static pga_dist_t *listening(pga_loop_t *loop, const char *addr, int lo,
                             int hi, char *err, size_t errlen) {
  pga_dist_config_t cfg = {.name = "t@127.0.0.1", .cookie = "c",
                           .listen_addr = addr, .listen_port = lo,
                           .listen_port_max = hi, .no_epmd = 1};
  pga_dist_t *d;
  ck_assert_int_eq(pga_dist_new(loop, &cfg, &d, err, errlen), 0);
  if (pga_dist_start(d, err, errlen) == 0) return d;
  pga_dist_free(d);
  return NULL;
}

/* The port a listening dist bound, read back from the socket table. */
static int bound_port(pga_dist_t *d) {
  struct sockaddr_storage sa;
  socklen_t len = sizeof sa;
  ck_assert_int_eq(getsockname(d->listen_fd, (struct sockaddr *)&sa, &len), 0);
  return ntohs(sa.ss_family == AF_INET6
                   ? ((struct sockaddr_in6 *)&sa)->sin6_port
                   : ((struct sockaddr_in *)&sa)->sin_port);
}

/* A free port p with p + 1 free too, on 127.0.0.2, below the ephemeral
 * range (an outgoing connection could take it between check and use). */
static int free_pair(void) {
  for (int p = 10000 + rand() % 20000;; p = 10000 + rand() % 20000) {
    int fds[2], ok = 1;
    for (int i = 0; i < 2; i++) {
      struct sockaddr_in sa = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)(p + i))};
      inet_pton(AF_INET, "127.0.0.2", &sa.sin_addr);
      fds[i] = socket(AF_INET, SOCK_STREAM, 0);
      ok = ok && bind(fds[i], (struct sockaddr *)&sa, sizeof sa) == 0;
    }
    close(fds[0]);
    close(fds[1]);
    if (ok) return p;
  }
}

START_TEST(listen_takes_the_next_free_port_of_the_range) {
  pga_loop_t *loop;
  char err[256];
  int p = free_pair();
  ck_assert_int_eq(pga_loop_new(&loop), 0);
  pga_dist_t *a = listening(loop, "127.0.0.2", p, p + 1, err, sizeof err);
  ck_assert_msg(a != NULL, "%s", err);
  pga_dist_t *b = listening(loop, "127.0.0.2", p, p + 1, err, sizeof err);
  ck_assert_msg(b != NULL, "%s", err);
  ck_assert_int_eq(bound_port(a), p);
  ck_assert_int_eq(bound_port(b), p + 1);
  pga_dist_t *c = listening(loop, "127.0.0.2", p, p + 1, err, sizeof err);
  ck_assert_ptr_null(c);
  char want[128];
  snprintf(want, sizeof want, "no free distribution port in %d..%d on "
           "127.0.0.2: every port is in use", p, p + 1);
  ck_assert_str_eq(err, want);
  ck_assert_uint_ne(a->creation, 0); /* random without epmd */
  pga_dist_free(a);
  pga_dist_free(b);
  pga_loop_free(loop);
}
END_TEST

START_TEST(listen_on_ipv6_and_refuse_names) {
  pga_loop_t *loop;
  char err[256];
  int p = free_pair();
  ck_assert_int_eq(pga_loop_new(&loop), 0);
  pga_dist_t *d = listening(loop, "::1", p, 0, err, sizeof err);
  if (d) { /* hosts without IPv6 loopback skip this half */
    ck_assert_int_eq(d->listen_family, AF_INET6);
    ck_assert_int_eq(bound_port(d), p);
    pga_dist_free(d);
  }
  ck_assert_ptr_null(listening(loop, "localhost", p, 0, err, sizeof err));
  ck_assert_str_eq(err, "invalid listen address 'localhost'");
  ck_assert_ptr_null(listening(loop, NULL, 0, 0, err, sizeof err));
  ck_assert_str_eq(err, "without epmd the distribution needs a fixed port");
  pga_loop_free(loop);
}
END_TEST

START_TEST(proc_without_callbacks_ignores_messages) {
  pga_loop_t *loop;
  pga_dist_t *d;
  pga_dist_config_t cfg = {.name = "t@127.0.0.1", .cookie = "c"};
  static const pga_proc_ops_t no_ops; /* every callback NULL */
  char err[128];
  ck_assert_int_eq(pga_loop_new(&loop), 0);
  ck_assert_int_eq(pga_dist_new(loop, &cfg, &d, err, sizeof err), 0);
  pga_proc_t *p = pga_proc_new(d, &no_ops, NULL);
  ck_assert_ptr_nonnull(p);
  pga_tb_t *to = pga_tb_new(0), *msg = pga_tb_new(0);
  pga_dist_put_pid(d, to, pga_proc_id(p));
  pga_tb_atom(msg, "hello");
  pga_term_t pid = pga_tb_data(to);
  ck_assert_int_eq(pga_dist_send(d, 0, &pid, msg), 0); /* dropped, no crash */
  pga_tb_free(to);
  pga_tb_free(msg);
  pga_proc_free(p);
  pga_dist_free(d);
  pga_loop_free(loop);
}
END_TEST

START_TEST(valid_node_name_rules) {
  ck_assert(pga_hs_valid_node_name("gw@127.0.0.1", 12));
  ck_assert(pga_hs_valid_node_name("a@b", 3));
  ck_assert(!pga_hs_valid_node_name("a@", 2));
  ck_assert(!pga_hs_valid_node_name("@b", 2));
  ck_assert(!pga_hs_valid_node_name("ab", 2));
}
END_TEST

START_TEST(frame_next_splits_ticks_and_packets) {
  unsigned char b[] = {0, 0, 0, 0, 0, 0, 0, 2, 'p', 'x', 0, 0};
  size_t flen = 0, blen = 0;
  ck_assert_int_eq(pga_frame_next(b, sizeof b, 100, &flen, &blen), PGA_FRAME_TICK);
  ck_assert_uint_eq(flen, 4);
  ck_assert_int_eq(pga_frame_next(b + 4, 8, 100, &flen, &blen), PGA_FRAME_PACKET);
  ck_assert_uint_eq(flen, 6);
  ck_assert_uint_eq(blen, 2);
  ck_assert_int_eq(pga_frame_next(b + 10, 2, 100, &flen, &blen), PGA_FRAME_MORE);
}
END_TEST

START_TEST(frame_next_waits_for_whole_packet) {
  unsigned char b[] = {0, 0, 0, 3, 'p', 1, 2};
  size_t flen = 0, blen = 0;
  for (size_t cut = 0; cut < sizeof b; cut++)
    ck_assert_int_eq(pga_frame_next(b, cut, 100, &flen, &blen), PGA_FRAME_MORE);
}
END_TEST

START_TEST(frame_next_rejects_oversized_length) {
  unsigned char b[] = {0xff, 0xff, 0xff, 0xff};
  size_t flen = 0, blen = 0;
  ck_assert_int_eq(pga_frame_next(b, 4, 1 << 20, &flen, &blen), PGA_FRAME_TOO_BIG);
  unsigned char c[] = {0, 0, 0, 101};
  ck_assert_int_eq(pga_frame_next(c, 4, 100, &flen, &blen), PGA_FRAME_TOO_BIG);
}
END_TEST

/* The header decides, whatever follows: big from `big` bytes on. */
START_TEST(frame_big_body_reads_the_header_only) {
  static const struct {
    unsigned char hdr[4];
    size_t len;
    int big;
    size_t body;
  } cases[] = {
      {{0, 1, 0, 0}, 3, 0, 0},         /* header incomplete */
      {{0, 0, 0xff, 0xff}, 4, 0, 0},   /* 65535: small */
      {{0, 1, 0, 0}, 4, 1, 65536},     /* exactly big */
      {{0x7f, 0, 0, 0}, 4, 1, 0x7f000000},
      {{0, 0, 0, 0}, 4, 0, 0},         /* a tick */
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    size_t body = 0;
    ck_assert_int_eq(pga_frame_big_body(cases[i].hdr, cases[i].len, 65536,
                                        &body), cases[i].big);
    ck_assert_uint_eq(body, cases[i].body);
  }
}
END_TEST

/* ---- the output queue ---- */

static size_t released;
static void count_release(void *ud, void *data) {
  (void)ud;
  released++;
  free(data);
}

static char *dup_bytes(const char *s) {
  size_t n = strlen(s);
  char *p = malloc(n);
  memcpy(p, s, n);
  return p;
}

/* Drains q, `step` bytes at most per consume, into out (NUL-terminated). */
static void drain(pga_outq_t *q, size_t step, char *out) {
  size_t o = 0, len;
  const char *p;
  while ((p = pga_outq_peek(q, &len)) != NULL) {
    size_t n = len < step ? len : step;
    memcpy(out + o, p, n);
    o += n;
    pga_outq_consume(q, n);
  }
  out[o] = '\0';
}

/* Copied, reserved and taken bytes leave in queueing order, whatever the
 * sizes written at a time; a taken block is released once written. */
START_TEST(outq_keeps_order_across_copied_and_taken_blocks) {
  static const size_t steps[] = {1, 2, 3, 7, 100};
  for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
    pga_outq_t q;
    pga_outq_init(&q);
    q.release = count_release;
    released = 0;
    ck_assert_int_eq(pga_outq_add(&q, "abc", 3), 0);
    memcpy(pga_outq_reserve(&q, 2), "de", 2);
    ck_assert_int_eq(pga_outq_take(&q, dup_bytes("FGHIJ"), 5), 0);
    ck_assert_int_eq(pga_outq_add(&q, "k", 1), 0);
    ck_assert_int_eq(pga_outq_add(&q, "", 0), 0);
    ck_assert_uint_eq(pga_outq_size(&q), 11);
    char out[32];
    drain(&q, steps[i], out);
    ck_assert_str_eq(out, "abcdeFGHIJk");
    ck_assert_uint_eq(pga_outq_size(&q), 0);
    ck_assert_uint_eq(released, 1);
    pga_outq_free(&q);
  }
}
END_TEST

/* Freeing a queue releases taken buffers not yet written. */
START_TEST(outq_free_releases_unwritten_taken_buffers) {
  pga_outq_t q;
  pga_outq_init(&q);
  q.release = count_release;
  released = 0;
  ck_assert_int_eq(pga_outq_take(&q, dup_bytes("xy"), 2), 0);
  ck_assert_int_eq(pga_outq_add(&q, "z", 1), 0);
  ck_assert_int_eq(pga_outq_take(&q, dup_bytes("uvw"), 3), 0);
  pga_outq_consume(&q, 1); /* half of the first */
  pga_outq_free(&q);
  ck_assert_uint_eq(released, 2);
  ck_assert_uint_eq(pga_outq_size(&q), 0);
  ck_assert_ptr_null(pga_outq_peek(&q, &(size_t){0}));
}
END_TEST

/* A move appends everything, in order, and empties the source. */
START_TEST(outq_move_appends_in_order) {
  pga_outq_t a, b;
  pga_outq_init(&a);
  pga_outq_init(&b);
  ck_assert_int_eq(pga_outq_add(&a, "12", 2), 0);
  ck_assert_int_eq(pga_outq_add(&b, "34", 2), 0);
  ck_assert_int_eq(pga_outq_take(&b, dup_bytes("56"), 2), 0);
  pga_outq_move(&a, &b);
  ck_assert_uint_eq(pga_outq_size(&b), 0);
  ck_assert_ptr_null(pga_outq_peek(&b, &(size_t){0}));
  ck_assert_int_eq(pga_outq_add(&a, "7", 1), 0);
  pga_outq_move(&a, &b); /* empty: nothing changes */
  char out[16];
  drain(&a, 64, out);
  ck_assert_str_eq(out, "1234567");
  pga_outq_free(&a);
  pga_outq_free(&b);
}
END_TEST

/* A write bigger than a shared block gets a block of its own size. */
START_TEST(outq_large_copy_fits_one_block) {
  pga_outq_t q;
  pga_outq_init(&q);
  size_t n = 200 * 1024;
  char *big = malloc(n);
  memset(big, 'q', n);
  ck_assert_int_eq(pga_outq_add(&q, "<", 1), 0);
  ck_assert_int_eq(pga_outq_add(&q, big, n), 0);
  size_t len;
  const char *p = pga_outq_peek(&q, &len);
  ck_assert_uint_eq(len, 1);
  ck_assert_int_eq(p[0], '<');
  pga_outq_consume(&q, 1);
  p = pga_outq_peek(&q, &len);
  ck_assert_uint_eq(len, n);
  ck_assert_int_eq(memcmp(p, big, n), 0);
  free(big);
  pga_outq_free(&q);
}
END_TEST

static Suite *dist_suite(void) {
  Suite *s = suite_create("dist");
  TCase *hs = tcase_create("handshake");
  tcase_add_test(hs, hs_name_round_trip_keeps_fields);
  tcase_add_test(hs, hs_parse_name_rejects_truncated_and_v5);
  tcase_add_test(hs, hs_parse_name_rejects_bad_node_names);
  tcase_add_test(hs, hs_challenge_round_trip_keeps_fields);
  tcase_add_test(hs, hs_reply_and_ack_round_trip);
  tcase_add_test(hs, digest_matches_otp_md5);
  tcase_add_test(hs, flags_offered_word_is_spec_value);
  tcase_add_test(hs, flags_acceptable_for_otp25_and_digest_only);
  tcase_add_test(hs, valid_node_name_rules);
  suite_add_tcase(s, hs);
  TCase *ep = tcase_create("epmd");
  tcase_add_test(ep, epmd_alive2_request_layout);
  tcase_add_test(ep, epmd_alive2_responses_parse);
  tcase_add_test(ep, epmd_port2_responses_parse);
  suite_add_tcase(s, ep);
  TCase *fr = tcase_create("frame");
  tcase_add_test(fr, frame_next_splits_ticks_and_packets);
  tcase_add_test(fr, frame_next_waits_for_whole_packet);
  tcase_add_test(fr, frame_next_rejects_oversized_length);
  tcase_add_test(fr, frame_big_body_reads_the_header_only);
  suite_add_tcase(s, fr);
  TCase *oq = tcase_create("outq");
  tcase_add_test(oq, outq_keeps_order_across_copied_and_taken_blocks);
  tcase_add_test(oq, outq_free_releases_unwritten_taken_buffers);
  tcase_add_test(oq, outq_move_appends_in_order);
  tcase_add_test(oq, outq_large_copy_fits_one_block);
  suite_add_tcase(s, oq);
  TCase *ctrl = tcase_create("ctrl");
  tcase_add_test(ctrl, ctrl_parse_spawn_request_from_otp25);
  tcase_add_test(ctrl, ctrl_parse_rejects_every_truncation);
  tcase_add_test(ctrl, ctrl_parse_rejects_trailing_bytes_and_bad_version);
  tcase_add_test(ctrl, ctrl_parse_rejects_non_tuple_and_bad_op);
  tcase_add_test(ctrl, proc_without_callbacks_ignores_messages);
  tcase_add_test(ctrl, listen_takes_the_next_free_port_of_the_range);
  tcase_add_test(ctrl, listen_on_ipv6_and_refuse_names);
  suite_add_tcase(s, ctrl);
  return s;
}

PGA_CHECK_MAIN(dist_suite)
