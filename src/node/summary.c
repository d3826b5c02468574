/* The start-up summary (src/node/summary.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"
#include "node/summary.h"
#include "plugin/describe.h"
#include "rpc/rpc.h"

typedef struct line_s {
  char *out;
  size_t cap, len;
} line_t;

static void add(line_t *l, const char *fmt, ...) {
  if (l->len >= l->cap) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(l->out + l->len, l->cap - l->len, fmt, ap);
  va_end(ap);
  l->len = n < 0 ? l->cap : l->len + (size_t)n;
}

static void cookie(line_t *l, const pga_cli_t *cli) {
  switch (cli->cookie_source) {
    case PGA_COOKIE_FLAG: add(l, "cookie from --cookie"); break;
    case PGA_COOKIE_ENV: add(l, "cookie from PGA_COOKIE"); break;
    case PGA_COOKIE_FILE: add(l, "cookie from %s", cli->cookie_path); break;
    case PGA_COOKIE_CREATED:
      add(l, "cookie from %s (created now)", cli->cookie_path);
      break;
  }
}

static size_t list_len(const pga_tb_t *tb) {
  size_t n = 0;
  if (!tb) return 0;
  pga_term_t t = pga_tb_data(tb);
  return pga_term_list_length(&t, &n) == 0 ? n : 0;
}

/* Items of the configuration, ", "-separated after "config FILE: ". */
typedef struct items_s {
  line_t *l;
  int n;
} items_t;

static void item(items_t *it, const char *fmt, ...) {
  line_t *l = it->l;
  if (it->n++) add(l, ", ");
  if (l->len >= l->cap) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(l->out + l->len, l->cap - l->len, fmt, ap);
  va_end(ap);
  l->len = n < 0 ? l->cap : l->len + (size_t)n;
}

/* "pulls chat billing", from the ServiceConfig maps. */
static void pulls(items_t *it, const pga_conffile_t *conf) {
  pga_term_t list = pga_tb_data(conf->service_configs), el, svc;
  pga_term_iter_t iter;
  if (pga_term_iter_init(&iter, &list) != 0) return;
  item(it, "pulls");
  while (pga_term_iter_next(&iter, &el)) {
    const char *data;
    size_t len;
    if (pga_term_map_get_atom(&el, "service", &svc) == 0 &&
        pga_term_get_binary(&svc, &data, &len) == 0)
      add(it->l, " %.*s", (int)len, data);
    else
      add(it->l, " (a service)");
  }
}

static void admin(items_t *it, unsigned bits) {
  static const struct {
    unsigned bit;
    const char *name;
  } names[] = {{PGA_ADMIN_CHANGE_DETAIL_ERROR, "change_detail_error"},
               {PGA_ADMIN_UPDATE_RATE_LIMIT_CONFIG, "update_rate_limit_config"},
               {PGA_ADMIN_PUSH_CONFIG, "push_config"},
               {PGA_ADMIN_ENABLE_TRACING, "enable_tracing"},
               {PGA_ADMIN_DISABLE_TRACING, "disable_tracing"}};
  if (!bits) return;
  item(it, "admin actions");
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (bits & names[i].bit) add(it->l, " %s", names[i].name);
}

static void configuration(line_t *l, const pga_cli_t *cli,
                          const pga_conffile_t *c) {
  items_t it = {l, 0};
  if (!cli->config) {
    add(l, "; no --config (library defaults)");
    return;
  }
  add(l, "; config %s: ", cli->config);
  if (c->config.push_token) item(&it, "push token set");
  if (c->allowlist) item(&it, "mfa allowlist of %zu", list_len(c->allowlist));
  if (!c->rate_limiter.enabled)
    item(&it, "rate limiter off");
  else if (c->rate_limiter.global_limits || c->rate_limiter.api_limits)
    item(&it, "rate limits %zu global %zu per API",
         list_len(c->rate_limiter.global_limits),
         list_len(c->rate_limiter.api_limits));
  admin(&it, c->admin_actions);
  if (c->detail_error) item(&it, "detail_error");
  if (c->service_configs) pulls(&it, c);
  if (c->pusher_gateways)
    item(&it, "start-up push to %zu gateways", list_len(c->pusher_gateways));
  if (!it.n) add(l, "library defaults");
}

void pga_startup_summary(const pga_startup_t *s, char *out, size_t outlen) {
  line_t l = {out, outlen, 0};
  char plugins[1024];
  const char *epmd = getenv("ERL_EPMD_PORT");
  if (!outlen) return;
  out[0] = '\0';
  add(&l, "pga-node %s started", pga_node_name(s->node));
  if (s->cli->host_chosen) add(&l, " (host chosen by pga-node: --name without @HOST)");
  add(&l, "; ");
  cookie(&l, s->cli);
  if (s->cli->data_dir)
    add(&l, "; data dir %s", s->cli->data_dir);
  else
    add(&l, "; no --data-dir (state in memory only)");
  configuration(&l, s->cli, s->conf);
  pga_plugin_describe(s->plugins, plugins, sizeof plugins);
  add(&l, "; plugins: %s", plugins);
  if (s->local_stored >= 0 && pga_plugin_count(s->plugins) > 0)
    add(&l, ", %ld FunConfigs served by this gateway (local_services)",
        s->local_stored);
  char where[128];
  pga_dist_endpoint(pga__node_dist(s->node), where, sizeof where);
  add(&l, "; listening on %s", where);
  if (!strstr(where, "without epmd"))
    add(&l, ", epmd port %s", epmd && *epmd ? epmd : "4369");
  if (l.len >= outlen && outlen > 4) strcpy(out + outlen - 4, "...");
}
