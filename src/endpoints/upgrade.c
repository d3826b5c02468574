/* The HTTP/1.1 upgrade request of a WebSocket client (RFC 6455 §4.2),
 * read with http_parser, and the checks Phoenix's transport makes before
 * it upgrades: query parameters and check_origin. */
#include "config.h"

#include <ctype.h>
#include <http_parser.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "endpoints/ep_int.h"
#include "pga/errno.h"

typedef enum { H_OTHER, H_UPGRADE, H_CONNECTION, H_KEY, H_VERSION, H_ORIGIN } hdr_t;

typedef struct parse_s {
  upgrade_req_t *r;
  hdr_t cur;
  char *name;             /* the current header's name, lower-cased */
  char *url;
  int done;
} parse_t;

static int on_url(http_parser *p, const char *at, size_t len) {
  parse_t *s = p->data;
  if (s->url) return 1; /* split URL: not from one buffer */
  s->url = strndup(at, len);
  return s->url ? 0 : 1;
}

static int on_field(http_parser *p, const char *at, size_t len) {
  parse_t *s = p->data;
  static const struct { const char *name; hdr_t h; } known[] = {
      {"upgrade", H_UPGRADE}, {"connection", H_CONNECTION},
      {"sec-websocket-key", H_KEY}, {"sec-websocket-version", H_VERSION},
      {"origin", H_ORIGIN}};
  s->cur = H_OTHER;
  free(s->name);
  s->name = strndup(at, len);
  for (char *q = s->name; q && *q; q++) *q = (char)tolower((unsigned char)*q);
  for (size_t i = 0; i < sizeof known / sizeof *known; i++)
    if (strlen(known[i].name) == len && !strncasecmp(at, known[i].name, len))
      s->cur = known[i].h;
  return 0;
}

/* 1 if the comma-separated list v has token t (case-insensitive). */
static int has_token(const char *v, size_t len, const char *t) {
  size_t tl = strlen(t), i = 0;
  while (i < len) {
    while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
    size_t j = i;
    while (j < len && v[j] != ',') j++;
    size_t e = j;
    while (e > i && (v[e - 1] == ' ' || v[e - 1] == '\t')) e--;
    if (e - i == tl && !strncasecmp(v + i, t, tl)) return 1;
    i = j;
  }
  return 0;
}

static int on_value(http_parser *p, const char *at, size_t len) {
  parse_t *s = p->data;
  upgrade_req_t *r = s->r;
  if (s->name && r->nheaders < EP_MAX_HEADERS) {
    r->hvalue[r->nheaders] = strndup(at, len);
    r->hname[r->nheaders++] = s->name;
    s->name = NULL;
  }
  switch (s->cur) {
  case H_UPGRADE:
    r->upgrade |= has_token(at, len, "websocket");
    break;
  case H_CONNECTION:
    r->conn_upgrade |= has_token(at, len, "upgrade");
    break;
  case H_VERSION:
    r->version13 = len == 2 && !memcmp(at, "13", 2);
    break;
  case H_KEY:
    free(r->key);
    r->key = strndup(at, len);
    break;
  case H_ORIGIN:
    free(r->origin);
    r->origin = strndup(at, len);
    break;
  default:
    break;
  }
  return 0;
}

static int on_headers(http_parser *p) {
  ((parse_t *)p->data)->done = 1;
  return 1; /* stop: a GET upgrade has no body to read */
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = tolower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Percent-decoding (and '+' as space in queries), malloc'ed. */
static char *url_decode(const char *s, size_t len, int plus) {
  char *o = malloc(len + 1);
  size_t n = 0;
  if (!o) return NULL;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 &&
        hexval(s[i + 2]) >= 0) {
      o[n++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    } else if (plus && s[i] == '+') {
      o[n++] = ' ';
    } else {
      o[n++] = s[i];
    }
  }
  o[n] = 0;
  return o;
}

int pga__ep_upgrade_parse(const char *buf, size_t len, upgrade_req_t *r) {
  http_parser p;
  http_parser_settings set;
  parse_t s = {r, H_OTHER, NULL, NULL, 0};
  struct http_parser_url u;

  memset(r, 0, sizeof *r);
  memset(&set, 0, sizeof set);
  set.on_url = on_url;
  set.on_header_field = on_field;
  set.on_header_value = on_value;
  set.on_headers_complete = on_headers;
  http_parser_init(&p, HTTP_REQUEST);
  p.data = &s;
  http_parser_execute(&p, &set, buf, len);
  free(s.name);
  if (!s.done || !s.url) {
    free(s.url);
    return PGA_EPROTO;
  }
  http_parser_url_init(&u);
  if (http_parser_parse_url(s.url, strlen(s.url), 0, &u) != 0 ||
      !(u.field_set & (1 << UF_PATH))) {
    free(s.url);
    r->status = 400;
    return 0;
  }
  r->path = url_decode(s.url + u.field_data[UF_PATH].off,
                       u.field_data[UF_PATH].len, 0);
  if (u.field_set & (1 << UF_QUERY))
    r->query = strndup(s.url + u.field_data[UF_QUERY].off,
                       u.field_data[UF_QUERY].len);
  free(s.url);
  if (!r->path) return PGA_ENOMEM;
  if (p.method != HTTP_GET || p.http_major != 1 || p.http_minor < 1 ||
      !r->upgrade || !r->conn_upgrade || !r->key)
    r->status = 400;
  else if (!r->version13)
    r->status = 426;
  return 0;
}

void pga__ep_upgrade_clear(upgrade_req_t *r) {
  for (size_t i = 0; i < r->nheaders; i++) {
    free(r->hname[i]);
    free(r->hvalue[i]);
  }
  free(r->path);
  free(r->query);
  free(r->key);
  free(r->origin);
  memset(r, 0, sizeof *r);
}

char *pga__ep_query_param(const char *query, const char *name) {
  size_t nl = strlen(name);
  const char *q = query;
  while (q && *q) {
    const char *amp = strchr(q, '&');
    size_t seg = amp ? (size_t)(amp - q) : strlen(q);
    const char *eq = memchr(q, '=', seg);
    size_t kl = eq ? (size_t)(eq - q) : seg;
    char *k = url_decode(q, kl, 1);
    int match = k && strlen(k) == nl && !memcmp(k, name, nl);
    free(k);
    if (match)
      return eq ? url_decode(eq + 1, seg - kl - 1, 1) : strdup("");
    q = amp ? amp + 1 : NULL;
  }
  return NULL;
}

int pga__ep_query_map(const char *query, pga_tb_t *tb) {
  /* key/value pairs, the last of equal keys kept */
  char *k[256], *v[256];
  size_t n = 0;
  for (const char *q = query; q && *q && n < 256;) {
    const char *amp = strchr(q, '&');
    size_t seg = amp ? (size_t)(amp - q) : strlen(q);
    const char *eq = memchr(q, '=', seg);
    size_t kl = eq ? (size_t)(eq - q) : seg;
    if (seg > 0) {
      k[n] = url_decode(q, kl, 1);
      v[n] = eq ? url_decode(eq + 1, seg - kl - 1, 1) : strdup("");
      size_t j = 0;
      while (j < n && !(k[n] && k[j] && !strcmp(k[j], k[n]))) j++;
      if (j < n) { /* replace */
        free(k[j]);
        free(v[j]);
        k[j] = k[n];
        v[j] = v[n];
      } else {
        n++;
      }
    }
    q = amp ? amp + 1 : NULL;
  }
  pga_tb_map(tb, n);
  for (size_t i = 0; i < n; i++) {
    pga_tb_binary(tb, k[i] ? k[i] : "", k[i] ? strlen(k[i]) : 0);
    pga_tb_binary(tb, v[i] ? v[i] : "", v[i] ? strlen(v[i]) : 0);
    free(k[i]);
    free(v[i]);
  }
  return pga_tb_error(tb);
}

void pga__ep_accept_key(const char *key, char out[32]) {
  static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned mdlen = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  out[0] = 0;
  if (!ctx) return;
  if (EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
      EVP_DigestUpdate(ctx, key, strlen(key)) == 1 &&
      EVP_DigestUpdate(ctx, guid, sizeof guid - 1) == 1 &&
      EVP_DigestFinal_ex(ctx, md, &mdlen) == 1)
    EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
  EVP_MD_CTX_free(ctx);
}

/* scheme, host and port of an origin or an allowed entry ("//host" has
 * no scheme; no port means any). */
typedef struct origin_s {
  char scheme[16];
  char host[256];
  int port; /* 0: unspecified */
} origin_t;

static int split_origin(const char *s, origin_t *o) {
  memset(o, 0, sizeof *o);
  const char *p = strstr(s, "//");
  if (!p) return -1;
  size_t sl = (size_t)(p - s);
  if (sl > 0) {
    if (s[sl - 1] != ':' || sl - 1 >= sizeof o->scheme) return -1;
    memcpy(o->scheme, s, sl - 1);
  }
  p += 2;
  size_t hl = strcspn(p, ":/");
  if (hl == 0 || hl >= sizeof o->host) return -1;
  for (size_t i = 0; i < hl; i++) o->host[i] = (char)tolower((unsigned char)p[i]);
  if (p[hl] == ':') o->port = atoi(p + hl + 1);
  return 0;
}

static int default_port(const char *scheme) {
  return !strcasecmp(scheme, "https") ? 443 : !strcasecmp(scheme, "http") ? 80 : 0;
}

/* Phoenix.Socket.Transport's origin_allowed?: scheme when given, host
 * (a leading "*." matches any subdomain), port when given. */
int pga__ep_origin_allowed(const char *origin, char *const *allowed,
                           size_t n) {
  origin_t o, a;
  if (split_origin(origin, &o) != 0) return 0;
  if (!o.port) o.port = default_port(o.scheme);
  for (size_t i = 0; i < n; i++) {
    if (split_origin(allowed[i], &a) != 0) continue;
    if (a.scheme[0] && strcasecmp(a.scheme, o.scheme)) continue;
    if (a.port && a.port != o.port) continue;
    if (!strncmp(a.host, "*.", 2)) {
      size_t hl = strlen(o.host), sl = strlen(a.host + 1);
      if (hl <= sl || strcmp(o.host + hl - sl, a.host + 1)) continue;
    } else if (strcmp(a.host, o.host)) {
      continue;
    }
    return 1;
  }
  return 0;
}
