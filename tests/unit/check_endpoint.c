/* Unit tests for the endpoint's pure codecs (src/endpoints): term -> JSON
 * as the library's channel encodes it, JSON -> term, Phoenix V1/V2
 * messages, the HTTP upgrade request, check_origin and Phoenix.Token. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "endpoints/ep_int.h"
#include "pga/errno.h"
#include "term/term.h"
#include "check_main.h"

/* ---- term -> JSON ---- */

typedef void (*build_fn)(pga_tb_t *tb);

static void b_response(pga_tb_t *tb) {
  pga_tb_map(tb, 8);
  pga_tb_atom(tb, "__struct__");
  pga_tb_atom(tb, "Elixir.PhoenixGenApi.Structs.Response");
  pga_tb_atom(tb, "async");
  pga_tb_atom(tb, "false");
  pga_tb_atom(tb, "can_retry");
  pga_tb_atom(tb, "false");
  pga_tb_atom(tb, "error");
  pga_tb_atom(tb, "nil");
  pga_tb_atom(tb, "has_more");
  pga_tb_atom(tb, "true");
  pga_tb_atom(tb, "request_id");
  pga_tb_string(tb, "r1");
  pga_tb_atom(tb, "result");
  pga_tb_atom(tb, "init");
  pga_tb_atom(tb, "success");
  pga_tb_atom(tb, "true");
}
static void b_escapes(pga_tb_t *tb) { pga_tb_string(tb, "a\"b\\c\n\x01/é"); }
static void b_ints(pga_tb_t *tb) {
  pga_tb_list(tb, 4);
  pga_tb_int(tb, 0);
  pga_tb_int(tb, -7);
  pga_tb_int(tb, 300);
  pga_tb_int(tb, INT64_MIN);
  pga_tb_nil(tb);
}
static void b_floats(pga_tb_t *tb) {
  static const double v[] = {1.0, 0.1, 1.0e20, 1.0e-5, 123456789.0, -2.5};
  pga_tb_list(tb, 6);
  for (size_t i = 0; i < 6; i++) pga_tb_double(tb, v[i]);
  pga_tb_nil(tb);
}
static void b_keys(pga_tb_t *tb) {
  pga_tb_map(tb, 3);
  pga_tb_int(tb, 1);
  pga_tb_atom(tb, "x");
  pga_tb_string(tb, "k");
  pga_tb_nil(tb);
  pga_tb_atom(tb, "atom_key");
  pga_tb_map(tb, 0);
}
static void b_tuple(pga_tb_t *tb) {
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, "ok");
  pga_tb_int(tb, 1);
}
static void b_nested_tuple(pga_tb_t *tb) {
  pga_tb_map(tb, 1);
  pga_tb_atom(tb, "a");
  b_tuple(tb);
}
static void b_bad_utf8(pga_tb_t *tb) { pga_tb_binary(tb, "\xff\xfe", 2); }
static void b_improper(pga_tb_t *tb) {
  pga_tb_list(tb, 1);
  pga_tb_int(tb, 1);
  pga_tb_int(tb, 2);
}
static void b_map_key_list(pga_tb_t *tb) {
  pga_tb_map(tb, 1);
  pga_tb_list(tb, 1);
  pga_tb_int(tb, 1);
  pga_tb_nil(tb);
  pga_tb_int(tb, 2);
}

static const struct {
  const char *name;
  build_fn build;
  const char *json; /* NULL: PGA_EINVAL */
} to_json[] = {
    {"Response (struct tag dropped)", b_response,
     "{\"async\":false,\"can_retry\":false,\"error\":null,\"has_more\":true,"
     "\"request_id\":\"r1\",\"result\":\"init\",\"success\":true}"},
    {"string escapes", b_escapes, "\"a\\\"b\\\\c\\n\\u0001/é\""},
    {"integers", b_ints, "[0,-7,300,-9223372036854775808]"},
    {"floats in Erlang's short form", b_floats,
     "[1.0,0.1,1.0e20,1.0e-5,123456789.0,-2.5]"},
    {"integer, binary and atom keys", b_keys,
     "{\"1\":\"x\",\"k\":[],\"atom_key\":{}}"},
    {"tuple refused", b_tuple, NULL},
    {"nested tuple refused", b_nested_tuple, NULL},
    {"invalid UTF-8 refused", b_bad_utf8, NULL},
    {"improper list refused", b_improper, NULL},
    {"list map key refused", b_map_key_list, NULL},
};

START_TEST(term_to_json_table) {
  pga_tb_t tb;
  pga_dynbuf_t out;
  pga__tb_init(&tb, 0);
  pga_dynbuf_init(&out, 1 << 20);
  to_json[_i].build(&tb);
  pga_term_t t = pga_tb_data(&tb);
  int rc = pga__ep_term_to_json(&t, &out);
  if (to_json[_i].json) {
    ck_assert_msg(rc == 0, "%s: rc %d", to_json[_i].name, rc);
    ck_assert_str_eq(pga_dynbuf_ptr(&out), to_json[_i].json);
  } else {
    ck_assert_msg(rc == PGA_EINVAL, "%s: rc %d", to_json[_i].name, rc);
    ck_assert_uint_eq(pga_dynbuf_size(&out), 0);
  }
  pga_dynbuf_free(&out);
  pga__tb_destroy(&tb);
}
END_TEST

START_TEST(term_to_json_string_ext_and_bigint) {
  /* [1,2] as STRING_EXT; 2^64 as SMALL_BIG_EXT */
  static const char str[] = {(char)131, 107, 0, 2, 1, 2};
  static const char big[] = {(char)131, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  pga_term_t t;
  pga_dynbuf_t out;
  pga_dynbuf_init(&out, 1024);
  ck_assert_int_eq(pga_term_view_versioned(str, sizeof str, &t), 0);
  ck_assert_int_eq(pga__ep_term_to_json(&t, &out), 0);
  ck_assert_str_eq(pga_dynbuf_ptr(&out), "[1,2]");
  pga_dynbuf_reset(&out);
  ck_assert_int_eq(pga_term_view_versioned(big, sizeof big, &t), 0);
  ck_assert_int_eq(pga__ep_term_to_json(&t, &out), 0);
  ck_assert_str_eq(pga_dynbuf_ptr(&out), "18446744073709551616");
  pga_dynbuf_free(&out);
}
END_TEST

/* ---- JSON -> term ---- */

static const struct {
  const char *json, *erl;
} to_term[] = {
    {"{\"a\":[1,2.5,\"x\"]}", "#{<<\"a\">> => [1,2.5,<<\"x\">>]}"},
    {"[true,false,null]", "[true,false,nil]"},
    {"[]", "[]"},
    {"\"\"", "<<>>"},
};

START_TEST(json_to_term_table) {
  json_error_t je;
  json_t *j = json_loads(to_term[_i].json, JSON_DECODE_ANY, &je);
  pga_tb_t tb;
  char buf[256];
  ck_assert_ptr_nonnull(j);
  pga__tb_init(&tb, 0);
  ck_assert_int_eq(pga__ep_json_to_term(j, &tb), 0);
  pga_term_t t = pga_tb_data(&tb);
  pga_term_format(&t, buf, sizeof buf);
  ck_assert_str_eq(buf, to_term[_i].erl);
  pga__tb_destroy(&tb);
  json_decref(j);
}
END_TEST

/* ---- Phoenix messages ---- */

static const struct {
  ep_vsn_t vsn;
  const char *text;
  int ok;
  const char *join_ref, *ref, *topic, *event;
} decode[] = {
    {EP_V2, "[\"1\",\"2\",\"t:1\",\"phx_join\",{}]", 1, "\"1\"", "\"2\"", "t:1", "phx_join"},
    {EP_V2, "[null,\"9\",\"phoenix\",\"heartbeat\",{},\"extra\"]", 1, "null", "\"9\"", "phoenix", "heartbeat"},
    {EP_V2, "[1,2,\"t\",\"e\",[1]]", 1, "1", "2", "t", "e"},
    {EP_V2, "[\"1\",\"2\",\"t\",\"e\"]", 0, NULL, NULL, NULL, NULL},
    {EP_V2, "[\"1\",\"2\",3,\"e\",{}]", 0, NULL, NULL, NULL, NULL},
    {EP_V2, "[\"1\",\"2\",\"t\",null,{}]", 0, NULL, NULL, NULL, NULL},
    {EP_V2, "{\"topic\":\"t\"}", 0, NULL, NULL, NULL, NULL},
    {EP_V2, "[\"1\",", 0, NULL, NULL, NULL, NULL},
    {EP_V2, "", 0, NULL, NULL, NULL, NULL},
    {EP_V1, "{\"topic\":\"t\",\"event\":\"e\",\"payload\":{},\"ref\":\"3\"}", 1, "null", "\"3\"", "t", "e"},
    {EP_V1, "{\"topic\":\"t\",\"event\":\"e\",\"payload\":{}}", 0, NULL, NULL, NULL, NULL},
    {EP_V1, "[\"1\",\"2\",\"t\",\"e\",{}]", 0, NULL, NULL, NULL, NULL},
};

START_TEST(phx_decode_table) {
  phx_msg_t m;
  int rc = pga__ep_phx_decode(decode[_i].vsn, decode[_i].text,
                              strlen(decode[_i].text), &m);
  if (!decode[_i].ok) {
    ck_assert_msg(rc == PGA_EPROTO, "%s: rc %d", decode[_i].text, rc);
    return;
  }
  ck_assert_int_eq(rc, 0);
  ck_assert_str_eq(m.join_ref, decode[_i].join_ref);
  ck_assert_str_eq(m.ref, decode[_i].ref);
  ck_assert_str_eq(m.topic, decode[_i].topic);
  ck_assert_str_eq(m.event, decode[_i].event);
  ck_assert_ptr_nonnull(m.payload);
  pga__ep_phx_clear(&m);
}
END_TEST

START_TEST(phx_encode_v2_and_v1) {
  pga_dynbuf_t b;
  pga_dynbuf_init(&b, 4096);
  ck_assert_int_eq(pga__ep_phx_reply(EP_V2, &b, "\"4\"", "\"5\"", "gen_api:u1",
                                     "ok", "\"echo\"", 6), 0);
  ck_assert_str_eq(pga_dynbuf_ptr(&b),
                   "[\"4\",\"5\",\"gen_api:u1\",\"phx_reply\","
                   "{\"response\":\"echo\",\"status\":\"ok\"}]");
  pga_dynbuf_reset(&b);
  ck_assert_int_eq(pga__ep_phx_message(EP_V2, &b, "\"4\"", NULL, "t\"q",
                                       "phoenix_gen_api", "{}", 2), 0);
  ck_assert_str_eq(pga_dynbuf_ptr(&b),
                   "[\"4\",null,\"t\\\"q\",\"phoenix_gen_api\",{}]");
  pga_dynbuf_reset(&b);
  ck_assert_int_eq(pga__ep_phx_reply(EP_V1, &b, "\"4\"", "\"5\"", "t", "error",
                                     "{}", 2), 0);
  ck_assert_str_eq(pga_dynbuf_ptr(&b),
                   "{\"event\":\"phx_reply\",\"payload\":{\"response\":{},"
                   "\"status\":\"error\"},\"ref\":\"5\",\"topic\":\"t\"}");
  pga_dynbuf_free(&b);
}
END_TEST

/* ---- MessagePack ---- */

static const struct {
  const char *name;
  const char *bytes;
  size_t len;
  int ok;
} mp_decode[] = {
    {"V2 array", "\x95\xa1" "1" "\xc0\xa1t\xa1" "e\x81\xa1k\x93\x01\xcb\x40\x04\0\0\0\0\0\0\xc3", 23, 1},
    {"four elements", "\x94\xa1" "1\xa1" "1\xa1t\xa1" "e", 9, 0},
    {"trailing byte", "\x95\xc0\xc0\xa1t\xa1" "e\x80\x00", 9, 0},
    {"integer map key", "\x95\xc0\xc0\xa1t\xa1" "e\x81\x01\x02", 10, 0},
    {"invalid UTF-8 string", "\x95\xc0\xc0\xa1t\xa1" "e\x81\xa1k\xa1\xff", 12, 0},
    {"array32 claiming 2^32 elements", "\xdd\xff\xff\xff\xff\xc0", 6, 0},
    {"map16 claiming more than the bytes", "\x95\xc0\xc0\xa1t\xa1" "e\xde\x00\x09\xa1k\xc0", 13, 0},
    {"str32 past the end", "\xdb\x00\x00\x10\x00" "ab", 7, 0},
    {"reserved byte 0xc1", "\xc1", 1, 0},
    {"extension", "\x95\xc0\xc0\xa1t\xa1" "e\xd4\x01\x02", 10, 0},
};

START_TEST(mp_decode_table) {
  phx_msg_t m;
  int rc = pga__ep_mp_decode(mp_decode[_i].bytes, mp_decode[_i].len, &m);
  ck_assert_msg((rc == 0) == mp_decode[_i].ok, "%s: rc %d", mp_decode[_i].name, rc);
  if (rc == 0) {
    char *p = json_dumps(m.payload, JSON_COMPACT);
    ck_assert_str_eq(m.join_ref, "\"1\"");
    ck_assert_str_eq(m.ref, "null");
    ck_assert_str_eq(p, "{\"k\":[1,2.5,true]}");
    free(p);
    pga__ep_phx_clear(&m);
  }
}
END_TEST

START_TEST(mp_from_json_packs_the_message) {
  static const unsigned char want[] = {
      0x95, 0xa1, '4', 0xc0, 0xa1, 't', 0xa1, 'e',
      0x82, 0xa1, 'a', 0xff, 0xa1, 'b', 0x92, 0xc2, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0};
  const char *json = "[\"4\",null,\"t\",\"e\",{\"a\":-1,\"b\":[false,1.5]}]";
  pga_dynbuf_t out;
  pga_dynbuf_init(&out, 4096);
  ck_assert_int_eq(pga__ep_mp_from_json(json, strlen(json), &out), 0);
  ck_assert_uint_eq(pga_dynbuf_size(&out), sizeof want);
  ck_assert_mem_eq(pga_dynbuf_ptr(&out), want, sizeof want);
  pga_dynbuf_free(&out);
}
END_TEST

/* ---- the upgrade request ---- */

#define UPG(line, hdrs)                                                   \
  line "\r\nHost: h\r\n" hdrs "\r\n"
#define WS_HDRS                                                           \
  "Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"             \
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"

static const struct {
  const char *req;
  int rc, status;
  const char *path;
} upgrades[] = {
    {UPG("GET /socket/websocket?vsn=2.0.0&token=a%2Bb HTTP/1.1",
         WS_HDRS "Sec-WebSocket-Version: 13\r\nOrigin: https://x\r\n"),
     0, 0, "/socket/websocket"},
    {UPG("GET /a%20b HTTP/1.1", WS_HDRS "Sec-WebSocket-Version: 13\r\n"), 0, 0, "/a b"},
    {UPG("GET /s HTTP/1.1", WS_HDRS "Sec-WebSocket-Version: 8\r\n"), 0, 426, "/s"},
    {UPG("GET /s HTTP/1.1", "Sec-WebSocket-Version: 13\r\n"), 0, 400, "/s"},
    {UPG("POST /s HTTP/1.1", WS_HDRS "Sec-WebSocket-Version: 13\r\n"), 0, 400, "/s"},
    {UPG("GET /s HTTP/1.0", WS_HDRS "Sec-WebSocket-Version: 13\r\n"), 0, 400, "/s"},
    {"\x16\x03\x01\x02\x00\r\n\r\n", PGA_EPROTO, 0, NULL},
    {"GET / HTTP/1.1\r\nBad Header\r\n\r\n", PGA_EPROTO, 0, NULL},
};

START_TEST(upgrade_parse_table) {
  upgrade_req_t r;
  int rc = pga__ep_upgrade_parse(upgrades[_i].req, strlen(upgrades[_i].req), &r);
  ck_assert_int_eq(rc, upgrades[_i].rc);
  if (rc == 0) {
    ck_assert_int_eq(r.status, upgrades[_i].status);
    ck_assert_str_eq(r.path, upgrades[_i].path);
  }
  pga__ep_upgrade_clear(&r);
}
END_TEST

START_TEST(upgrade_query_and_accept_key) {
  char key[32];
  char *v = pga__ep_query_param("vsn=2.0.0&token=a%2Bb+c&x", "token");
  ck_assert_str_eq(v, "a+b c");
  free(v);
  v = pga__ep_query_param("vsn=2.0.0&x", "x");
  ck_assert_str_eq(v, "");
  free(v);
  ck_assert_ptr_null(pga__ep_query_param("vsn=2.0.0", "token"));
  ck_assert_ptr_null(pga__ep_query_param(NULL, "token"));
  pga__ep_accept_key("dGhlIHNhbXBsZSBub25jZQ==", key); /* RFC 6455 §1.3 */
  ck_assert_str_eq(key, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}
END_TEST

/* ---- check_origin ---- */

static char *const allowed[] = {"https://app.example.com", "//*.other.org",
                                "http://local:8080"};
static const struct {
  const char *origin;
  int ok;
} origins[] = {
    {"https://app.example.com", 1},  {"https://APP.example.com", 1},
    {"http://app.example.com", 0},   {"https://evil.example.com", 0},
    {"https://a.other.org", 1},      {"http://b.c.other.org:9", 1},
    {"https://other.org", 0},        {"http://local:8080", 1},
    {"http://local", 0},             {"null", 0},
    {"https://app.example.com.evil.net", 0},
};

START_TEST(origin_table) {
  ck_assert_msg(pga__ep_origin_allowed(origins[_i].origin, allowed, 3) ==
                    origins[_i].ok,
                "%s", origins[_i].origin);
}
END_TEST

/* ---- Phoenix.Token ---- */

/* Minted with Plug.Crypto's rules, secret "golden-secret", salt "user
 * socket", signed at 1_700_000_000_000 ms (see tests/data/phoenix_token). */
#define SIGNED 1700000000000LL
static const struct {
  const char *token;
  int64_t max_age, now;
  int rc;
  const char *data;
} tokens[] = {
    {"SFMyNTY.g2gDbQAAAAJ1MW4GAABo5c-LAWIAAVGA.Ygndjl0_t6FIGTOSCPf3XGlt3gqOsVS35E-0ETX7bFc",
     86400, SIGNED + 1000, EP_TOKEN_OK, "<<\"u1\">>"},
    {"SFMyNTY.g2gDbQAAAAJ1MW4GAABo5c-LAWIAAVGA.Ygndjl0_t6FIGTOSCPf3XGlt3gqOsVS35E-0ETX7bFc",
     86400, SIGNED + 86400001, EP_TOKEN_EXPIRED, NULL},
    {"SFMyNTY.g2gDbQAAAAJ1MW4GAABo5c-LAWIAAVGA.Ygndjl0_t6FIGTOSCPf3XGlt3gqOsVS35E-0ETX7bFc",
     10, SIGNED + 11000, EP_TOKEN_EXPIRED, NULL},
    {"SFMyNTY.g2gDbQAAAAJ1MW4GAABo5c-LAWIAAVGA.Ygndjl0_t6FIGTOSCPf3XGlt3gqOsVS35E-0ETX7bFc",
     86400, SIGNED - 1, EP_TOKEN_INVALID, NULL},
    {"SFMyNTY.g3QAAAACZAAEZGF0YW0AAAACdTJkAAZzaWduZWRuBgAAaOXPiwE.BNsaxaSIziY3Kg0to1lSFLiDhuiYPfibPtsBFiklN7Y",
     86400, SIGNED + 1000, EP_TOKEN_OK, "<<\"u2\">>"},
    {"SFMyNTY.g2gDYSpuBgAAaOXPiwFhPA.T-gIl_tL3X5vf_g6os4LYsN_50mVd4qwpwfFQnGZfPU",
     -1, SIGNED + 61000, EP_TOKEN_EXPIRED, NULL},
    {"SFMyNTY.g2gDYSpuBgAAaOXPiwFhPA.T-gIl_tL3X5vf_g6os4LYsN_50mVd4qwpwfFQnGZfPU",
     -1, SIGNED + 59000, EP_TOKEN_OK, "42"},
    {"SFMyNTY.g2gDbQAAAAJ1MW4GAABo5c-LAWIAAVGA.Ygnejl0_t6FIGTOSCPf3XGlt3gqOsVS35E-0ETX7bFc",
     86400, SIGNED + 1000, EP_TOKEN_INVALID, NULL},
    {"SFMyNTY.g2gDbQAAAAJ1MW4GAABo5c-LAWIAAVGB.Ygndjl0_t6FIGTOSCPf3XGlt3gqOsVS35E-0ETX7bFc",
     86400, SIGNED + 1000, EP_TOKEN_INVALID, NULL},
    {"SFMzODQ.g2gDbQAAAAJ1MW4GAABo5c-LAWIAAVGA.Ygndjl0_t6FIGTOSCPf3XGlt3gqOsVS35E-0ETX7bFc",
     86400, SIGNED + 1000, EP_TOKEN_INVALID, NULL},
    {"", 86400, SIGNED, EP_TOKEN_INVALID, NULL},
    {"a.b", 86400, SIGNED, EP_TOKEN_INVALID, NULL},
    {"SFMyNTY.!!.??", 86400, SIGNED, EP_TOKEN_INVALID, NULL},
    {"SFMyNTY.a.b.c", 86400, SIGNED, EP_TOKEN_INVALID, NULL},
};

START_TEST(token_table) {
  unsigned char key[32];
  pga_tb_t data;
  char buf[64];
  ck_assert_int_eq(pga__ep_token_key("golden-secret", "user socket", key), 0);
  pga__tb_init(&data, 0);
  int rc = pga__ep_token_verify(key, tokens[_i].token, tokens[_i].max_age,
                                tokens[_i].now, &data);
  ck_assert_int_eq(rc, tokens[_i].rc);
  if (tokens[_i].data) {
    pga_term_t t = pga_tb_data(&data);
    pga_term_format(&t, buf, sizeof buf);
    ck_assert_str_eq(buf, tokens[_i].data);
  }
  pga__tb_destroy(&data);
}
END_TEST

START_TEST(token_key_matches_plug_crypto) {
  /* :crypto.pbkdf2_hmac(:sha256, "golden-secret", "user socket", 1000, 32) */
  static const unsigned char want[32] = {
      0x79, 0x28, 0x38, 0x5b, 0xf8, 0xfa, 0x9b, 0x13, 0x55, 0x55, 0x7d,
      0xeb, 0xc4, 0x07, 0x87, 0xec, 0x9c, 0xaa, 0x8b, 0x20, 0x01, 0x2d,
      0x54, 0xe4, 0x57, 0x75, 0xd6, 0xa2, 0x15, 0xd5, 0xe3, 0x82};
  unsigned char key[32];
  ck_assert_int_eq(pga__ep_token_key("golden-secret", "user socket", key), 0);
  ck_assert_mem_eq(key, want, 32);
}
END_TEST

static Suite *endpoint_suite(void) {
  Suite *s = suite_create("endpoint");
  TCase *tc = tcase_create("codecs");
  tcase_add_loop_test(tc, term_to_json_table, 0, sizeof to_json / sizeof *to_json);
  tcase_add_test(tc, term_to_json_string_ext_and_bigint);
  tcase_add_loop_test(tc, json_to_term_table, 0, sizeof to_term / sizeof *to_term);
  tcase_add_loop_test(tc, phx_decode_table, 0, sizeof decode / sizeof *decode);
  tcase_add_test(tc, phx_encode_v2_and_v1);
  tcase_add_loop_test(tc, mp_decode_table, 0, sizeof mp_decode / sizeof *mp_decode);
  tcase_add_test(tc, mp_from_json_packs_the_message);
  tcase_add_loop_test(tc, upgrade_parse_table, 0, sizeof upgrades / sizeof *upgrades);
  tcase_add_test(tc, upgrade_query_and_accept_key);
  tcase_add_loop_test(tc, origin_table, 0, sizeof origins / sizeof *origins);
  tcase_add_loop_test(tc, token_table, 0, sizeof tokens / sizeof *tokens);
  tcase_add_test(tc, token_key_matches_plug_crypto);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(endpoint_suite)
