/* The local node: identity (name, creation, pids, refs), the listener,
 * epmd registration, and the connection table. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "dist/conn.h"
#include "dist/epmd.h"
#include "dist/proto.h"

/* Without V4_NC (OTP 25) a peer accepts 15-bit pid numbers and 13-bit
 * serials; pid ids are spread over both (2^28 pids before wrapping). */
#define PID_NUM_BITS 15
#define PID_ID_LIMIT (UINT64_C(1) << 28)
/* The first word of a reference holds 18 bits on older peers. */
#define REF_WORD0_BITS 18

/* Keys are the connections' own name buffers: nothing to free. */
static const pga_dict_type_t conn_name_type = {pga_hash_str, pga_equal_str,
                                               NULL, NULL};

static void before_sleep(pga_loop_t *loop, void *data) {
  pga_dist_t *d = data;
  pga__conn_flush_all(d);
  pga__conn_free_closed(d);
}

static void encode_node_atom(pga_dist_t *d) {
  size_t n = strlen(d->name);
  d->node_atom[0] = ERL_SMALL_ATOM_UTF8_EXT;
  d->node_atom[1] = (char)n;
  memcpy(d->node_atom + 2, d->name, n);
  d->node_atom_len = n + 2;
}

static int split_name(pga_dist_t *d, const char *name, char *err,
                      size_t errlen) {
  if (!pga_hs_valid_node_name(name, strlen(name))) {
    snprintf(err, errlen, "invalid node name '%s' (want alive@host)", name);
    return PGA_EINVAL;
  }
  snprintf(d->name, sizeof d->name, "%s", name);
  const char *at = strchr(name, '@');
  snprintf(d->alive, sizeof d->alive, "%.*s", (int)(at - name), name);
  snprintf(d->host, sizeof d->host, "%s", at + 1);
  encode_node_atom(d);
  return 0;
}

static void set_defaults(pga_dist_config_t *cfg) {
  if (!cfg->tick_interval_ms) cfg->tick_interval_ms = 15000;
  if (!cfg->tick_timeout_ms) cfg->tick_timeout_ms = 60000;
  if (!cfg->setup_timeout_ms) cfg->setup_timeout_ms = 7000;
  if (!cfg->max_term) cfg->max_term = PGA_DIST_DEFAULT_MAX_TERM;
  /* A packet can hold a term at the cap and another one (a call's
   * arguments and its reply's stack); beyond, reading it is not worth it. */
  if (!cfg->max_packet) cfg->max_packet = 2 * cfg->max_term + 65536;
  /* (the same bound as pga_dist_wrap_cap) */
}

int pga_dist_new(pga_loop_t *loop, const pga_dist_config_t *cfg,
                 pga_dist_t **out, char *err, size_t errlen) {
  pga_dist_t *d = calloc(1, sizeof *d);
  if (!d) return PGA_ENOMEM;
  d->loop = loop;
  d->cfg = *cfg;
  set_defaults(&d->cfg);
  d->listen_fd = d->epmd_fd = -1;
  d->next_pid = 1;
  d->cookie = strdup(cfg->cookie ? cfg->cookie : "");
  d->conns = pga_dict_new(&conn_name_type);
  d->conn_ids = pga_dict_new(&pga_dict_u64_type);
  d->procs = pga_dict_new(&pga_dict_u64_type);
  d->names = pga_dict_new(&pga_dict_str_type);
  d->adm_sources = pga_dict_new(&pga_dict_u64_type);
  int rc = d->cookie && d->conns && d->conn_ids && d->procs && d->names &&
                   d->adm_sources
               ? split_name(d, cfg->name ? cfg->name : "", err, errlen)
               : PGA_ENOMEM;
  if (rc != 0) {
    pga_dist_free(d);
    return rc;
  }
  pga_loop_before_sleep(loop, before_sleep, d);
  *out = d;
  return 0;
}

static void on_accept(pga_loop_t *loop, int fd, int events, void *data) {
  pga_dist_t *d = data;
  for (;;) {
    struct sockaddr_storage src = {0};
    socklen_t srclen = sizeof src;
    int cfd = accept4(fd, (struct sockaddr *)&src, &srclen,
                      SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0 && (errno == EMFILE || errno == ENFILE) &&
        pga__admission_make_room(d))
      continue; /* a pending connection's descriptor is free again */
    if (cfd < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        pga_warn("accept: %s", strerror(errno));
      if (errno == EINTR) continue;
      return;
    }
    int one = 1;
    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* Admission before the handshake is bounded and fair (admission.c). */
    pga_conn_t *c = d->shutting_down
                        ? NULL
                        : pga__admit(d, cfd, pga__admission_source(&src));
    if (!c) {
      close(cfd);
      continue;
    }
    pga__conn_watch(c);
  }
}

/* An IPv4 or IPv6 literal as a socket address (port 0); -1 otherwise. */
static int parse_listen_addr(const char *addr, struct sockaddr_storage *sa,
                             socklen_t *len) {
  struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
  memset(sa, 0, sizeof *sa);
  if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    *len = sizeof *v4;
    return 0;
  }
  if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    *len = sizeof *v6;
    return 0;
  }
  return -1;
}

static void set_sa_port(struct sockaddr_storage *sa, uint16_t port) {
  if (sa->ss_family == AF_INET6)
    ((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
  else
    ((struct sockaddr_in *)sa)->sin_port = htons(port);
}

static uint16_t sa_port(const struct sockaddr_storage *sa) {
  return ntohs(sa->ss_family == AF_INET6
                   ? ((const struct sockaddr_in6 *)sa)->sin6_port
                   : ((const struct sockaddr_in *)sa)->sin_port);
}

/* A listening socket on sa at port; -1 with errno set. */
static int listen_on(struct sockaddr_storage *sa, socklen_t len,
                     uint16_t port) {
  int fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  set_sa_port(sa, port);
  if (fd < 0) return -1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)sa, len) < 0 || listen(fd, 512) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

/* "127.0.0.1:9100" or "[::1]:9100" for the log. */
static void show_endpoint(const pga_dist_t *d, char *out, size_t outlen) {
  const char *addr = d->cfg.listen_addr ? d->cfg.listen_addr : "0.0.0.0";
  int v6 = d->listen_family == AF_INET6;
  snprintf(out, outlen, "%s%s%s:%u", v6 ? "[" : "", addr, v6 ? "]" : "",
           d->listen_port);
}

/* Binds the first free port of listen_port..listen_port_max (as erl's
 * inet_dist_listen_min/max; one port, or any when both are 0). */
static int listen_socket(pga_dist_t *d, char *err, size_t errlen) {
  const char *addr = d->cfg.listen_addr ? d->cfg.listen_addr : "0.0.0.0";
  struct sockaddr_storage sa;
  socklen_t len;
  if (parse_listen_addr(addr, &sa, &len) != 0) {
    snprintf(err, errlen, "invalid listen address '%s'", addr);
    return PGA_EINVAL;
  }
  int lo = d->cfg.listen_port;
  int hi = d->cfg.listen_port_max > lo ? d->cfg.listen_port_max : lo;
  int fd = -1;
  for (int port = lo; port <= hi && fd < 0; port++) {
    fd = listen_on(&sa, len, (uint16_t)port);
    if (fd < 0 && errno != EADDRINUSE) break;
  }
  if (fd < 0) {
    if (hi > lo && errno == EADDRINUSE)
      snprintf(err, errlen, "no free distribution port in %d..%d on %s: "
               "every port is in use", lo, hi, addr);
    else
      snprintf(err, errlen, "listen on %s port %d: %s", addr, lo,
               strerror(errno));
    return PGA_ESYS;
  }
  socklen_t got = sizeof sa;
  getsockname(fd, (struct sockaddr *)&sa, &got);
  d->listen_fd = fd;
  d->listen_port = sa_port(&sa);
  d->listen_family = sa.ss_family;
  return 0;
}

/* Without epmd nothing hands out a creation: pick a random one, as erl
 * does for -erl_epmd_port (never 0, which means "any incarnation"). */
static uint32_t random_creation(void) {
  uint32_t c = 0;
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    if (read(fd, &c, sizeof c) != (ssize_t)sizeof c) c = 0;
    close(fd);
  }
  if (c == 0) c = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
  return c > 3 ? c : c + 4;
}

int pga_dist_start(pga_dist_t *d, char *err, size_t errlen) {
  if (d->cfg.no_epmd && !d->cfg.listen_port) {
    snprintf(err, errlen, "without epmd the distribution needs a fixed port");
    return PGA_EINVAL;
  }
  int rc = listen_socket(d, err, errlen);
  if (rc != 0) return rc;
  if (d->cfg.no_epmd)
    d->creation = random_creation();
  else
    rc = pga_epmd_register(d->alive, d->listen_port, &d->epmd_fd,
                           &d->creation, err, errlen);
  if (rc != 0) return rc;
  if (pga_loop_watch(d->loop, d->listen_fd, PGA_READABLE, on_accept, d)) {
    snprintf(err, errlen, "cannot watch the listening socket");
    return PGA_ESYS;
  }
  char where[80];
  show_endpoint(d, where, sizeof where);
  /* pga-node says it in its start-up summary (pga_dist_endpoint). */
  pga_debug("%s listening on %s (creation %u, %s)%s", d->name, where,
            d->creation, d->tls ? "inet_tls" : "inet_tcp",
           d->cfg.no_epmd ? ", without epmd: peers are reached on this port"
                          : "");
  return 0;
}

void pga_dist_unpublish(pga_dist_t *d) {
  if (d->epmd_fd >= 0) close(d->epmd_fd); /* closing unregisters */
  d->epmd_fd = -1;
}

void pga_dist_shutdown(pga_dist_t *d) {
  d->shutting_down = 1;
  pga_dict_iter_t it;
  void *key, *val;
  pga_dict_iter_init(d->conn_ids, &it);
  while (pga_dict_next(&it, &key, &val)) {
    pga_conn_t *c = val;
    if (c->state == CONN_UP) pga__conn_flush_all(d);
    pga__conn_close(c, "node shutting down");
  }
  if (d->listen_fd >= 0) {
    pga_loop_unwatch(d->loop, d->listen_fd);
    close(d->listen_fd);
    d->listen_fd = -1;
  }
  pga_dist_unpublish(d);
  pga__procs_free_all(d);
  pga__conn_free_closed(d);
}

void pga_dist_free(pga_dist_t *d) {
  if (!d) return;
  if (d->conn_ids && !d->shutting_down) pga_dist_shutdown(d);
  pga__conn_free_closed(d);
  if (d->conns) pga_dict_free(d->conns);
  if (d->conn_ids) pga_dict_free(d->conn_ids);
  if (d->procs) pga_dict_free(d->procs);
  if (d->names) pga_dict_free(d->names);
  if (d->adm_sources) pga_dict_free(d->adm_sources);
  pga_tls_free(d->tls);
  free(d->cookie);
  free(d);
}

const char *pga_dist_name(const pga_dist_t *d) { return d->name; }
uint32_t pga_dist_creation(const pga_dist_t *d) { return d->creation; }
void pga_dist_endpoint(const pga_dist_t *d, char *out, size_t outlen) {
  char where[80];
  show_endpoint(d, where, sizeof where);
  snprintf(out, outlen, "%s%s%s", where, d->tls ? " over TLS (inet_tls)" : "",
           d->cfg.no_epmd ? " without epmd" : "");
}
pga_loop_t *pga_dist_loop(const pga_dist_t *d) { return d->loop; }
size_t pga_dist_conn_count(const pga_dist_t *d) { return d->up_count; }
size_t pga_dist_max_term(const pga_dist_t *d) { return d->cfg.max_term; }
size_t pga_dist_wrap_cap(const pga_dist_t *d) {
  return 2 * d->cfg.max_term + 65536;
}
static void free_work(void *ptr) { free(ptr); }

void pga_dist_free_later(pga_dist_t *d, void *ptr) {
  if (!ptr) return;
  if (!d->cfg.bulk_pool ||
      pga_pool_submit(d->cfg.bulk_pool, free_work, NULL, ptr) != 0)
    free(ptr);
}

void pga_dist_drop_bulk_pool(pga_dist_t *d) { d->cfg.bulk_pool = NULL; }

pga_pool_t *pga_dist_bulk_pool(const pga_dist_t *d, int *background) {
  *background = d->cfg.bulk_pool != NULL;
  return d->cfg.bulk_pool ? d->cfg.bulk_pool : d->cfg.pool;
}

void pga_dist_each_up_conn(pga_dist_t *d, pga_dist_conn_fn fn, void *ud) {
  pga_dict_iter_t it;
  void *key, *val;
  pga_dict_iter_init(d->conn_ids, &it);
  while (pga_dict_next(&it, &key, &val))
    if (((pga_conn_t *)val)->state == CONN_UP) fn(ud, val);
}

void pga_dist_make_ref(pga_dist_t *d, erlang_ref *out) {
  uint64_t n = ++d->next_ref;
  snprintf(out->node, sizeof out->node, "%s", d->name);
  out->len = 3;
  out->n[0] = (unsigned)(n & ((1u << REF_WORD0_BITS) - 1));
  out->n[1] = (unsigned)(n >> REF_WORD0_BITS);
  out->n[2] = (unsigned)(n >> (REF_WORD0_BITS + 32)) ^ 0x5a5a0000u;
  out->creation = d->creation;
}

int pga_dist_ref_equal(const erlang_ref *a, const erlang_ref *b) {
  return a->len == b->len && a->creation == b->creation &&
         !memcmp(a->n, b->n, (size_t)a->len * sizeof a->n[0]) &&
         !strcmp(a->node, b->node);
}

static void put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

void pga_dist_put_pid(pga_dist_t *d, pga_tb_t *tb, uint64_t pid_id) {
  unsigned char tail[12];
  put32(tail, (uint32_t)(pid_id & ((1u << PID_NUM_BITS) - 1)));
  put32(tail + 4, (uint32_t)(pid_id >> PID_NUM_BITS));
  put32(tail + 8, d->creation);
  pga__tb_raw(tb, "X", 1);
  pga__tb_raw(tb, d->node_atom, d->node_atom_len);
  pga__tb_raw(tb, tail, sizeof tail);
}

uint64_t pga_dist_local_pid_id(pga_dist_t *d, const pga_term_t *pid) {
  erlang_pid p;
  if (pga__term_get_pid(pid, &p) != 0) return 0;
  if (strcmp(p.node, d->name) != 0 || p.creation != d->creation) return 0;
  if (p.num >= (1u << PID_NUM_BITS)) return 0;
  return ((uint64_t)p.serial << PID_NUM_BITS) | p.num;
}

uint64_t pga_dist_local_ref_id(pga_dist_t *d, const pga_term_t *ref) {
  erlang_ref r;
  if (pga__term_get_ref(ref, &r) != 0 || r.len != 3) return 0;
  if (strcmp(r.node, d->name) != 0 || r.creation != d->creation) return 0;
  return (uint64_t)r.n[0] | ((uint64_t)r.n[1] << REF_WORD0_BITS);
}

int pga_dist_is_local_node(pga_dist_t *d, const char *node) {
  return strcmp(node, d->name) == 0;
}

uint64_t pga__dist_next_pid(pga_dist_t *d) {
  for (;;) {
    uint64_t id = d->next_pid++;
    if (d->next_pid >= PID_ID_LIMIT) d->next_pid = 1;
    if (!pga_dict_get(d->procs, PGA_U64_KEY(id))) return id;
  }
}

void pga_dist_on_spawn_request(pga_dist_t *d, pga_spawn_request_cb cb,
                               void *ud) {
  d->spawn_cb = cb;
  d->spawn_ud = ud;
}

int pga_dist_on_nodedown(pga_dist_t *d, pga_nodedown_cb cb, void *ud) {
  if (d->nobs == MAX_NODEDOWN_OBS) return PGA_ENOMEM;
  d->obs[d->nobs].cb = cb;
  d->obs[d->nobs].ud = ud;
  d->nobs++;
  return 0;
}

pga_conn_t *pga_dist_conn_get(pga_dist_t *d, const char *node) {
  pga_conn_t *c = pga__conn_by_name(d, node);
  if (c) return c;
  if (d->shutting_down || !strcmp(node, d->name) ||
      !pga_hs_valid_node_name(node, strlen(node)))
    return NULL;
  c = pga__conn_new(d, -1, 1, node);
  if (!c) return NULL;
  if (pga__conn_set_name(c, node) != 0) {
    pga__conn_close(c, "out of memory");
    return NULL;
  }
  pga__conn_schedule_start(c);
  return c;
}

pga_conn_t *pga_dist_conn_find(pga_dist_t *d, const char *node) {
  return pga__conn_by_name(d, node);
}

pga_conn_t *pga_dist_conn_by_id(pga_dist_t *d, uint64_t id) {
  return pga_dict_get(d->conn_ids, PGA_U64_KEY(id));
}

uint64_t pga_conn_id(const pga_conn_t *c) { return c->id; }
const char *pga_conn_node(const pga_conn_t *c) { return c->node; }
int pga_conn_is_up(const pga_conn_t *c) { return c->state == CONN_UP; }
int pga_conn_peer_published(const pga_conn_t *c) { return c->peer_published; }
uint64_t pga_conn_flags(const pga_conn_t *c) { return c->flags; }
