/* Which distribution protocol pga-node speaks, and its TLS contexts
 * (docs/compat.md T1). As on the BEAM, a node speaks either plain TCP or
 * TLS, never both. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "node/dist_tls.h"

static int conf_from_sources(const pga_cli_t *cli, const pga_conffile_t *cf,
                             pga_tls_conf_t *tc, char *err, size_t errlen) {
  const char *file = cli->ssl_dist_optfile ? cli->ssl_dist_optfile
                                           : cf->dist.optfile;
  if (file) return pga_tls_optfile_load(tc, file, err, errlen);
  if (!cf->dist.has_ssl) {
    snprintf(err, errlen, "inet_tls needs --ssl-dist-optfile FILE or the "
             "config's dist.ssl");
    return -1;
  }
  *tc = cf->dist.ssl; /* borrowed: the conffile frees them */
  return 1;
}

int pga_node_dist_tls(const pga_cli_t *cli, const pga_conffile_t *cf,
                      pga_tls_t **out, char *err, size_t errlen) {
  *out = NULL;
  int tls = cli->proto_dist ? !strcmp(cli->proto_dist, "inet_tls")
                            : cf->dist.tls;
  if (!tls) {
    if (cli->ssl_dist_optfile) {
      snprintf(err, errlen, "--ssl-dist-optfile needs --proto-dist inet_tls");
      return -1;
    }
    return 0;
  }
  pga_tls_conf_t tc;
  pga_tls_conf_init(&tc);
  char msg[384];
  int rc = conf_from_sources(cli, cf, &tc, msg, sizeof msg);
  int borrowed = rc == 1;
  if (rc >= 0) rc = pga_tls_conf_check(&tc, msg, sizeof msg);
  if (rc == 0 && pga_tls_new(&tc, out, msg, sizeof msg) != 0) rc = -1;
  if (!borrowed) pga_tls_conf_free(&tc);
  if (rc != 0) snprintf(err, errlen, "TLS distribution: %s", msg);
  return rc;
}
