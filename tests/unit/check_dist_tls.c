/* Unit tests for the TLS distribution settings (src/dist/tls_conf.c,
 * tls_optfile.c): the optfile's Erlang terms, every option's accepted and
 * refused shapes, and errors that name the option. */
#include "config.h"

#include <check.h>
#include <string.h>

#include "dist/tls_conf.h"
#include "check_main.h"

/* Parses text as an optfile into conf: 0 or -1 with err. */
static int load_text(pga_tls_conf_t *conf, const char *text, char *err,
                     size_t errlen) {
  pga_tls_val_t tree;
  if (pga_tls_term_parse(text, strlen(text), &tree, err, errlen) != 0)
    return -1;
  int rc = pga_tls_conf_set_all(conf, &tree, err, errlen);
  pga_tls_val_free(&tree);
  return rc;
}

START_TEST(optfile_full_example_is_read) {
  pga_tls_conf_t c;
  char err[256] = "";
  pga_tls_conf_init(&c);
  ck_assert_int_eq(
      load_text(&c,
                "% the cluster's file\n"
                "[{server, [{certfile, \"/c.pem\"}, {keyfile, <<\"/k.pem\">>},\n"
                "           {cacertfile, \"/ca.pem\"}, {verify, verify_peer},\n"
                "           {fail_if_no_peer_cert, true}, {depth, 3},\n"
                "           {versions, ['tlsv1.3']}, {secure_renegotiate, true},\n"
                "           {ciphers, [\"TLS_AES_256_GCM_SHA384\"]}]},\n"
                " {client, [{verify, verify_peer}, {cacertfile, \"/ca.pem\"},\n"
                "           {server_name_indication, disable}]}].\n",
                err, sizeof err),
      0);
  ck_assert_str_eq(c.server.certfile, "/c.pem");
  ck_assert_str_eq(c.server.keyfile, "/k.pem");
  ck_assert_int_eq(c.server.verify_peer, 1);
  ck_assert_int_eq(c.server.fail_if_no_peer_cert, 1);
  ck_assert_int_eq(c.server.depth, 3);
  ck_assert_uint_eq(c.server.versions, 1u << 3);
  ck_assert_str_eq(c.server.ciphers, "TLS_AES_256_GCM_SHA384");
  ck_assert_int_eq(c.client.sni, PGA_TLS_SNI_DISABLE);
  ck_assert_int_eq(pga_tls_conf_check(&c, err, sizeof err), 0);
  pga_tls_conf_free(&c);
}
END_TEST

/* Texts that must be refused, and a piece of the message. */
static const struct {
  const char *text;
  const char *says;
} refused[] = {
    {"[{server, [{verfy, verify_peer}]}].", "server: unknown option 'verfy'"},
    {"[{client, [{certfile, \"a\"}, {bogus, 1}]}].", "client: unknown option 'bogus'"},
    {"[{server, [{verify, maybe}]}].", "'verify': expected verify_peer"},
    {"[{server, [{fail_if_no_peer_cert, yes}]}].", "true or false"},
    {"[{server, [{versions, ['sslv3']}]}].", "'versions'"},
    {"[{server, [{versions, []}]}].", "'versions'"},
    {"[{server, [{depth, -1}]}].", "'depth'"},
    {"[{server, [{certfile, \"\"}]}].", "'certfile': expected a non-empty"},
    {"[{server, [{ciphers, [{aes, gcm}]}]}].", "'ciphers'"},
    {"[{server, [{server_name_indication, \"h\"}]}].", "client side"},
    {"[{peer, []}].", "unknown section 'peer'"},
    {"[{server, [certfile]}].", "expected {Name, Value}"},
    {"{server, []}.", "expected [{server, Opts}"},
    {"[{server, []}]", "expected '.'"},
    {"[{server, []}]. extra.", "more than one term"},
    {"[{server, [{certfile, \"a}]}].", "unterminated string"},
    {"[{server, [{certfile, \"a\"}}].", "expected ',' or ']'"},
    {"[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]].", "nested too deeply"},
    {"[{server, [{certfile, #x}]}].", "unexpected character"},
    {"", "unexpected end"},
};

START_TEST(optfile_refusals_name_the_problem) {
  pga_tls_conf_t c;
  char err[256] = "";
  pga_tls_conf_init(&c);
  ck_assert_int_eq(load_text(&c, refused[_i].text, err, sizeof err), -1);
  ck_assert_msg(strstr(err, refused[_i].says) != NULL, "%s: got '%s'",
                refused[_i].text, err);
  pga_tls_conf_free(&c);
}
END_TEST

START_TEST(optfile_errors_carry_the_line) {
  pga_tls_conf_t c;
  char err[256] = "";
  pga_tls_conf_init(&c);
  ck_assert_int_eq(load_text(&c, "[\n{server,\n [{certfile, @}]}].", err,
                             sizeof err),
                   -1);
  ck_assert_msg(strstr(err, "line 3") != NULL, "got '%s'", err);
  pga_tls_conf_free(&c);
}
END_TEST

START_TEST(server_needs_a_certfile) {
  pga_tls_conf_t c;
  char err[256] = "";
  pga_tls_conf_init(&c);
  ck_assert_int_eq(load_text(&c, "[{client, [{verify, verify_none}]}].", err,
                             sizeof err),
                   0);
  ck_assert_int_eq(pga_tls_conf_check(&c, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "certfile is required"));
  pga_tls_conf_free(&c);
}
END_TEST

START_TEST(cipher_list_is_joined_for_openssl) {
  pga_tls_conf_t c;
  char err[256] = "";
  pga_tls_conf_init(&c);
  ck_assert_int_eq(
      load_text(&c, "[{client, [{ciphers, [\"A\", \"B\", \"TLS_X\"]}]}].",
                err, sizeof err),
      0);
  ck_assert_str_eq(c.client.ciphers, "A:B:TLS_X");
  pga_tls_conf_free(&c);
}
END_TEST

START_TEST(json_style_values_are_accepted) {
  /* The --config reader passes strings for atoms and true/false atoms. */
  pga_tls_conf_t c;
  char err[256] = "";
  pga_tls_val_t s = {.kind = PGA_TLSV_TEXT, .text = "verify_peer"};
  pga_tls_val_t d = {.kind = PGA_TLSV_TEXT, .text = "disable"};
  pga_tls_conf_init(&c);
  ck_assert_int_eq(pga_tls_conf_set(&c, "server", "verify", &s, err, sizeof err), 0);
  ck_assert_int_eq(pga_tls_conf_set(&c, "client", "server_name_indication", &d,
                                    err, sizeof err),
                   0);
  ck_assert_int_eq(c.server.verify_peer, 1);
  ck_assert_int_eq(c.client.sni, PGA_TLS_SNI_DISABLE);
  pga_tls_conf_free(&c);
}
END_TEST

static Suite *dist_tls_suite(void) {
  Suite *s = suite_create("dist_tls");
  TCase *tc = tcase_create("conf");
  tcase_add_test(tc, optfile_full_example_is_read);
  tcase_add_loop_test(tc, optfile_refusals_name_the_problem, 0,
                      (int)(sizeof refused / sizeof refused[0]));
  tcase_add_test(tc, optfile_errors_carry_the_line);
  tcase_add_test(tc, server_needs_a_certfile);
  tcase_add_test(tc, cipher_list_is_joined_for_openssl);
  tcase_add_test(tc, json_style_values_are_accepted);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(dist_tls_suite)
