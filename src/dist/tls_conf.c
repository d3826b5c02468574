/* TLS distribution settings: the options OTP's inet_tls_dist takes for each
 * side, checked one by one (tls_conf.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/tls_conf.h"

void pga_tls_val_free(pga_tls_val_t *v) {
  if (!v) return;
  free(v->text);
  for (size_t i = 0; i < v->n; i++) pga_tls_val_free(&v->items[i]);
  free(v->items);
  memset(v, 0, sizeof *v);
}

static void side_init(pga_tls_side_t *s) {
  memset(s, 0, sizeof *s);
  s->depth = -1;
  s->secure_renegotiate = 1;
}

static void side_free(pga_tls_side_t *s) {
  free(s->certfile);
  free(s->keyfile);
  free(s->password);
  free(s->cacertfile);
  free(s->ciphers);
  free(s->sni_name);
  side_init(s);
}

void pga_tls_conf_init(pga_tls_conf_t *conf) {
  side_init(&conf->server);
  side_init(&conf->client);
}

void pga_tls_conf_free(pga_tls_conf_t *conf) {
  side_free(&conf->server);
  side_free(&conf->client);
}

typedef struct ctx_s {
  const char *side;
  const char *key;
  char *err;
  size_t errlen;
} ctx_t;

static int bad(ctx_t *c, const char *want) {
  snprintf(c->err, c->errlen, "%s: option '%s': expected %s", c->side, c->key,
           want);
  return -1;
}

static int is_atom(const pga_tls_val_t *v, const char *name) {
  return (v->kind == PGA_TLSV_ATOM || v->kind == PGA_TLSV_TEXT) &&
         !strcmp(v->text, name);
}

/* A file name or other string: Erlang string/binary, or an atom. */
static int get_text(ctx_t *c, const pga_tls_val_t *v, char **out) {
  if ((v->kind != PGA_TLSV_TEXT && v->kind != PGA_TLSV_ATOM) || !v->text[0])
    return bad(c, "a non-empty string");
  char *s = strdup(v->text);
  if (!s) return bad(c, "a string (out of memory)");
  free(*out);
  *out = s;
  return 0;
}

static int get_bool(ctx_t *c, const pga_tls_val_t *v, int *out) {
  if (is_atom(v, "true")) *out = 1;
  else if (is_atom(v, "false")) *out = 0;
  else return bad(c, "true or false");
  return 0;
}

static int get_verify(ctx_t *c, const pga_tls_val_t *v, int *out) {
  if (is_atom(v, "verify_peer")) *out = 1;
  else if (is_atom(v, "verify_none")) *out = 0;
  else return bad(c, "verify_peer or verify_none");
  return 0;
}

static int get_depth(ctx_t *c, const pga_tls_val_t *v, int *out) {
  if (v->kind != PGA_TLSV_INT || v->num < 0 || v->num > 100)
    return bad(c, "an integer 0..100");
  *out = (int)v->num;
  return 0;
}

static int get_versions(ctx_t *c, const pga_tls_val_t *v, unsigned *out) {
  static const char *const names[] = {"tlsv1", "tlsv1.1", "tlsv1.2",
                                      "tlsv1.3"};
  if (v->kind != PGA_TLSV_LIST || v->n == 0)
    return bad(c, "a non-empty list of 'tlsv1.2', 'tlsv1.3' ...");
  unsigned bits = 0;
  for (size_t i = 0; i < v->n; i++) {
    size_t k = 0;
    while (k < 4 && !is_atom(&v->items[i], names[k])) k++;
    if (k == 4) return bad(c, "versions among 'tlsv1', 'tlsv1.1', "
                              "'tlsv1.2', 'tlsv1.3'");
    bits |= 1u << k;
  }
  *out = bits;
  return 0;
}

/* ciphers: one OpenSSL string "A:B", or a list of OpenSSL suite names (the
 * forms an optfile can hold as text; OTP's maps and tuples are refused). */
static int get_ciphers(ctx_t *c, const pga_tls_val_t *v, char **out) {
  if (v->kind == PGA_TLSV_TEXT) return get_text(c, v, out);
  if (v->kind != PGA_TLSV_LIST || v->n == 0)
    return bad(c, "a cipher string or a list of OpenSSL suite names");
  size_t len = 1;
  for (size_t i = 0; i < v->n; i++) {
    if (v->items[i].kind != PGA_TLSV_TEXT || !v->items[i].text[0])
      return bad(c, "a list of OpenSSL suite names as strings");
    len += strlen(v->items[i].text) + 1;
  }
  char *s = calloc(1, len);
  if (!s) return bad(c, "ciphers (out of memory)");
  for (size_t i = 0; i < v->n; i++) {
    if (i) strcat(s, ":");
    strcat(s, v->items[i].text);
  }
  free(*out);
  *out = s;
  return 0;
}

static int get_sni(ctx_t *c, const pga_tls_val_t *v, pga_tls_side_t *s) {
  if (is_atom(v, "disable")) { /* JSON has only the string */
    s->sni = PGA_TLS_SNI_DISABLE;
    return 0;
  }
  if (v->kind != PGA_TLSV_TEXT) return bad(c, "disable or a host name");
  s->sni = PGA_TLS_SNI_NAME;
  return get_text(c, v, &s->sni_name);
}

static int set_side(ctx_t *c, pga_tls_side_t *s, const pga_tls_val_t *v) {
  const char *k = c->key;
  if (!strcmp(k, "certfile")) return get_text(c, v, &s->certfile);
  if (!strcmp(k, "keyfile")) return get_text(c, v, &s->keyfile);
  if (!strcmp(k, "password")) return get_text(c, v, &s->password);
  if (!strcmp(k, "cacertfile")) return get_text(c, v, &s->cacertfile);
  if (!strcmp(k, "verify")) return get_verify(c, v, &s->verify_peer);
  if (!strcmp(k, "fail_if_no_peer_cert"))
    return get_bool(c, v, &s->fail_if_no_peer_cert);
  if (!strcmp(k, "depth")) return get_depth(c, v, &s->depth);
  if (!strcmp(k, "versions")) return get_versions(c, v, &s->versions);
  if (!strcmp(k, "ciphers")) return get_ciphers(c, v, &s->ciphers);
  if (!strcmp(k, "secure_renegotiate"))
    return get_bool(c, v, &s->secure_renegotiate);
  if (!strcmp(k, "honor_cipher_order"))
    return get_bool(c, v, &s->honor_cipher_order);
  if (!strcmp(k, "server_name_indication")) {
    if (c->side[0] != 'c') return bad(c, "this option on the client side");
    return get_sni(c, v, s);
  }
  snprintf(c->err, c->errlen, "%s: unknown option '%s'", c->side, k);
  return -1;
}

int pga_tls_conf_set(pga_tls_conf_t *conf, const char *side, const char *key,
                     const pga_tls_val_t *v, char *err, size_t errlen) {
  ctx_t c = {side, key, err, errlen};
  if (!strcmp(side, "server")) return set_side(&c, &conf->server, v);
  if (!strcmp(side, "client")) return set_side(&c, &conf->client, v);
  snprintf(err, errlen, "unknown section '%s' (want server or client)", side);
  return -1;
}

static int is_pair(const pga_tls_val_t *v) {
  return v->kind == PGA_TLSV_TUPLE && v->n == 2 &&
         v->items[0].kind == PGA_TLSV_ATOM;
}

int pga_tls_conf_set_all(pga_tls_conf_t *conf, const pga_tls_val_t *tree,
                         char *err, size_t errlen) {
  if (tree->kind != PGA_TLSV_LIST) {
    snprintf(err, errlen, "expected [{server, Opts}, {client, Opts}]");
    return -1;
  }
  for (size_t i = 0; i < tree->n; i++) {
    const pga_tls_val_t *sec = &tree->items[i];
    if (!is_pair(sec) || sec->items[1].kind != PGA_TLSV_LIST) {
      snprintf(err, errlen, "element %zu: expected {server | client, "
               "[Option]}", i + 1);
      return -1;
    }
    const char *side = sec->items[0].text;
    const pga_tls_val_t *opts = &sec->items[1];
    if (strcmp(side, "server") && strcmp(side, "client")) {
      snprintf(err, errlen, "unknown section '%s' (want server or client)",
               side);
      return -1;
    }
    for (size_t j = 0; j < opts->n; j++) {
      const pga_tls_val_t *o = &opts->items[j];
      if (!is_pair(o)) {
        snprintf(err, errlen, "%s: option %zu: expected {Name, Value}", side,
                 j + 1);
        return -1;
      }
      if (pga_tls_conf_set(conf, side, o->items[0].text, &o->items[1], err,
                           errlen) != 0)
        return -1;
    }
  }
  return 0;
}

int pga_tls_conf_check(const pga_tls_conf_t *conf, char *err, size_t errlen) {
  if (!conf->server.certfile) {
    snprintf(err, errlen, "server: certfile is required (inet_tls accepts "
             "connections)");
    return -1;
  }
  if (conf->client.fail_if_no_peer_cert) {
    snprintf(err, errlen, "client: fail_if_no_peer_cert is a server option");
    return -1;
  }
  return 0;
}
