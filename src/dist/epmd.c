/* epmd client: register our name and port, and the codecs for looking up
 * a peer's port (distribution.md §2). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "dist/epmd.h"
#include "dist/proto.h"
#include "pga/errno.h"

uint16_t pga_epmd_port(void) {
  const char *env = getenv("ERL_EPMD_PORT");
  if (env && *env) {
    char *end;
    long v = strtol(env, &end, 10);
    if (*end == '\0' && v > 0 && v < 65536) return (uint16_t)v;
  }
  return EPMD_DEFAULT_PORT;
}

static unsigned char *begin(pga_dynbuf_t *out, size_t body) {
  unsigned char *p = (unsigned char *)pga_dynbuf_reserve(out, body + 2);
  if (!p) return NULL;
  p[0] = (unsigned char)(body >> 8);
  p[1] = (unsigned char)body;
  pga_dynbuf_commit(out, body + 2);
  return p + 2;
}

int pga_epmd_build_alive2(pga_dynbuf_t *out, uint16_t port,
                          const char *alive) {
  size_t nlen = strlen(alive);
  unsigned char *p = begin(out, 13 + nlen);
  if (!p) return PGA_ENOMEM;
  p[0] = EPMD_ALIVE2_REQ;
  p[1] = (unsigned char)(port >> 8);
  p[2] = (unsigned char)port;
  p[3] = EPMD_NODE_HIDDEN;
  p[4] = EPMD_PROTO_TCP4;
  p[5] = 0, p[6] = DIST_VERSION; /* highest */
  p[7] = 0, p[8] = DIST_VERSION; /* lowest */
  p[9] = (unsigned char)(nlen >> 8);
  p[10] = (unsigned char)nlen;
  memcpy(p + 11, alive, nlen);
  p[11 + nlen] = 0, p[12 + nlen] = 0; /* no extra */
  return 0;
}

int pga_epmd_parse_alive2_resp(const unsigned char *buf, size_t len,
                               uint32_t *creation) {
  if (len < 2) return PGA_EAGAIN;
  if (buf[0] == EPMD_ALIVE2_X_RESP) {
    if (buf[1] != 0) return PGA_EEXIST;
    if (len < 6) return PGA_EAGAIN;
    *creation = ((uint32_t)buf[2] << 24) | ((uint32_t)buf[3] << 16) |
                ((uint32_t)buf[4] << 8) | buf[5];
  } else if (buf[0] == EPMD_ALIVE2_RESP) {
    if (buf[1] != 0) return PGA_EEXIST;
    if (len < 4) return PGA_EAGAIN;
    *creation = ((uint32_t)buf[2] << 8) | buf[3];
  } else {
    return PGA_EPROTO;
  }
  /* Creation 0 would mark our pids as "any incarnation"; never use it. */
  if (*creation == 0) *creation = 1;
  return 0;
}

int pga_epmd_build_port_please(pga_dynbuf_t *out, const char *alive) {
  size_t nlen = strlen(alive);
  unsigned char *p = begin(out, 1 + nlen);
  if (!p) return PGA_ENOMEM;
  p[0] = EPMD_PORT_PLEASE2_REQ;
  memcpy(p + 1, alive, nlen);
  return 0;
}

int pga_epmd_parse_port2_resp(const unsigned char *buf, size_t len,
                              uint16_t *port) {
  if (len < 2) return PGA_EAGAIN;
  if (buf[0] != EPMD_PORT2_RESP) return PGA_EPROTO;
  if (buf[1] != 0) return PGA_ENOTFOUND;
  if (len < 10) return PGA_EAGAIN;
  uint16_t high = (uint16_t)((buf[6] << 8) | buf[7]);
  if (high < DIST_VERSION) return PGA_EPROTO;
  *port = (uint16_t)((buf[2] << 8) | buf[3]);
  return 0;
}

static int connect_local(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Starts `epmd -daemon` as erl does; it inherits ERL_EPMD_PORT. */
static void start_epmd(void) {
  pid_t pid = fork();
  if (pid == 0) {
    execlp("epmd", "epmd", "-daemon", (char *)NULL);
    _exit(127);
  }
  if (pid > 0) waitpid(pid, NULL, 0);
}

static int connect_or_start(uint16_t port) {
  int fd = connect_local(port);
  if (fd >= 0) return fd;
  pga_info("no epmd on port %u, starting one", port);
  start_epmd();
  for (int i = 0; i < 50 && fd < 0; i++) {
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    fd = connect_local(port);
  }
  return fd;
}

static int read_reply(int fd, unsigned char *buf, size_t cap, size_t *len) {
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  if (poll(&pfd, 1, 5000) <= 0) return PGA_ETIMEDOUT;
  ssize_t n = read(fd, buf + *len, cap - *len);
  if (n <= 0) return PGA_ECONNRESET;
  *len += (size_t)n;
  return 0;
}

int pga_epmd_register(const char *alive, uint16_t port, int *fd_out,
                      uint32_t *creation, char *err, size_t errlen) {
  uint16_t epmd_port = pga_epmd_port();
  int fd = connect_or_start(epmd_port);
  if (fd < 0) {
    snprintf(err, errlen, "connect to epmd on 127.0.0.1:%u: %s", epmd_port,
             strerror(errno));
    return PGA_ESYS;
  }
  pga_dynbuf_t req;
  pga_dynbuf_init(&req, 1024);
  int rc = pga_epmd_build_alive2(&req, port, alive);
  if (rc == 0 && write(fd, pga_dynbuf_ptr(&req), pga_dynbuf_size(&req)) !=
                     (ssize_t)pga_dynbuf_size(&req))
    rc = PGA_ESYS;
  pga_dynbuf_free(&req);
  unsigned char buf[16];
  size_t len = 0;
  while (rc == 0) {
    rc = read_reply(fd, buf, sizeof buf, &len);
    if (rc == 0) rc = pga_epmd_parse_alive2_resp(buf, len, creation);
    if (rc == 0) break;
    if (rc == PGA_EAGAIN) rc = 0;
  }
  if (rc != 0) {
    snprintf(err, errlen, "epmd registration of '%s': %s", alive,
             rc == PGA_EEXIST ? "name already in use by another node"
                              : "no valid answer from epmd");
    close(fd);
    return rc;
  }
  *fd_out = fd;
  return 0;
}
