/* Distribution over TLS: the settings (the options of an OTP
 * -ssl_dist_optfile, [{server, Opts}, {client, Opts}]), read from that file
 * or from any other source through one setter, and turned into OpenSSL
 * contexts (docs/compat.md T1-T5).
 *
 * Values reach the setter as a small tree (pga_tls_val_t) so the Erlang-term
 * file reader (tls_optfile.c) and the --config JSON reader share the checks:
 * an unknown option or a value of the wrong shape is an error naming the
 * option ("server: unknown option 'verfy'"). */
#ifndef PGA_DIST_TLS_CONF_H
#define PGA_DIST_TLS_CONF_H

#include <stddef.h>

/* A value: text (Erlang string or binary, JSON string), atom (also JSON
 * true/false), integer, or list (Erlang list or tuple, JSON array). */
typedef enum {
  PGA_TLSV_TEXT,
  PGA_TLSV_ATOM,
  PGA_TLSV_INT,
  PGA_TLSV_LIST,
  PGA_TLSV_TUPLE
} pga_tlsv_kind_t;

typedef struct pga_tls_val_s {
  pga_tlsv_kind_t kind;
  char *text;                    /* TEXT, ATOM (NUL-terminated, owned) */
  long long num;                 /* INT */
  struct pga_tls_val_s *items;   /* LIST, TUPLE (owned) */
  size_t n;
} pga_tls_val_t;

void pga_tls_val_free(pga_tls_val_t *v);

enum { PGA_TLS_SNI_HOST = 0, PGA_TLS_SNI_DISABLE, PGA_TLS_SNI_NAME };

/* One side's options (OTP names; defaults are OTP 25's). */
typedef struct pga_tls_side_s {
  char *certfile, *keyfile, *password, *cacertfile;
  int verify_peer;               /* verify: verify_peer | verify_none */
  int fail_if_no_peer_cert;      /* false */
  int depth;                     /* -1 = OpenSSL's default */
  unsigned versions;             /* bits 1 << (minor) of TLS 1.x; 0 = 1.2+1.3 */
  char *ciphers;                 /* OpenSSL list, ':'-joined; NULL = default */
  int sni;                       /* client: PGA_TLS_SNI_* */
  char *sni_name;
  int secure_renegotiate;        /* accepted; renegotiation is off anyway */
  int honor_cipher_order;
} pga_tls_side_t;

typedef struct pga_tls_conf_s {
  pga_tls_side_t server, client;
} pga_tls_conf_t;

void pga_tls_conf_init(pga_tls_conf_t *conf);
void pga_tls_conf_free(pga_tls_conf_t *conf);

/* Sets one option of side ("server" or "client"). 0, or -1 with err
 * naming side and key. */
int pga_tls_conf_set(pga_tls_conf_t *conf, const char *side, const char *key,
                     const pga_tls_val_t *v, char *err, size_t errlen);
/* Sets the whole tree [{server, Opts}, {client, Opts}] (as read from an
 * optfile): a list of 2-tuples {atom, list of {atom, value}}. */
int pga_tls_conf_set_all(pga_tls_conf_t *conf, const pga_tls_val_t *tree,
                         char *err, size_t errlen);
/* Start-up checks that need every option (a server needs a certfile). */
int pga_tls_conf_check(const pga_tls_conf_t *conf, char *err, size_t errlen);

/* Reads an -ssl_dist_optfile (tls_optfile.c). 0, or -1 with err holding
 * "FILE: line N: ..." or the option's name. */
int pga_tls_optfile_load(pga_tls_conf_t *conf, const char *path, char *err,
                         size_t errlen);
/* Parses one Erlang term ending with '.' from text (comments allowed). */
int pga_tls_term_parse(const char *text, size_t len, pga_tls_val_t *out,
                       char *err, size_t errlen);

#endif
