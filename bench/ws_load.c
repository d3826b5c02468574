#define _GNU_SOURCE /* memmem */
/* A WebSocket load driver for pga's Phoenix Channels endpoint (bench/,
 * never part of make check): CONNS connections, each joins one topic and
 * keeps one request in flight (the next goes when the previous one's
 * phx_reply is in), for WARMUP then SECONDS seconds, on one epoll thread
 * so that the driver costs little next to what it measures.
 *
 *   ws_load HOST PORT PATH CONNS SECONDS WARMUP PAYLOAD_JSON
 *
 * Prints "measure start" and "measure end" lines around the measured
 * window (the caller samples pga-node's CPU then), then
 * "requests N seconds S rps R p50_us X p99_us Y errors E". */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { ST_UPGRADE, ST_JOIN, ST_READY, ST_WAIT };

typedef struct c_s {
  int fd, st;
  unsigned ref;
  uint64_t sent_ns;
  size_t len;
  unsigned char buf[1 << 16];
} c_t;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A masked text frame (mask 0: the payload goes as is). */
static int send_text(int fd, const char *s, size_t n) {
  unsigned char f[1 << 16];
  size_t h = 0;
  if (n + 14 > sizeof f) return -1;
  f[h++] = 0x81;
  if (n < 126) f[h++] = (unsigned char)(0x80 | n);
  else {
    f[h++] = 0x80 | 126;
    f[h++] = (unsigned char)(n >> 8);
    f[h++] = (unsigned char)n;
  }
  memset(f + h, 0, 4);
  h += 4;
  memcpy(f + h, s, n);
  return send(fd, f, h + n, MSG_NOSIGNAL) == (ssize_t)(h + n) ? 0 : -1;
}

static const char *g_path, *g_payload;
static char g_topic[64];

static int send_request(c_t *c) {
  char m[1 << 15];
  int n = snprintf(m, sizeof m, "[\"1\",\"%u\",\"%s\",\"phoenix_gen_api\",%s]",
                   ++c->ref, g_topic, g_payload);
  c->sent_ns = now_ns();
  c->st = ST_WAIT;
  return send_text(c->fd, m, (size_t)n);
}

/* Latency histogram: 1 us buckets up to 100 ms. */
#define HBUCKETS 100000
static uint64_t hist[HBUCKETS], nreq, nerr;
static int measuring;

static void record(uint64_t ns) {
  if (!measuring) return;
  uint64_t us = ns / 1000;
  hist[us < HBUCKETS ? us : HBUCKETS - 1]++;
  nreq++;
}

static double pct(double p) {
  uint64_t want = (uint64_t)(nreq * p), seen = 0;
  for (size_t i = 0; i < HBUCKETS; i++)
    if ((seen += hist[i]) > want) return (double)i;
  return HBUCKETS;
}

/* Handles the server frames in c->buf; -1 on a protocol error. */
static int frames(c_t *c) {
  size_t off = 0;
  for (;;) {
    if (c->len - off < 2) break;
    unsigned char *p = c->buf + off;
    size_t n = p[1] & 127, h = 2;
    if (n == 126) {
      if (c->len - off < 4) break;
      n = (size_t)p[2] << 8 | p[3];
      h = 4;
    } else if (n == 127) {
      return -1; /* not from this benchmark */
    }
    if (c->len - off < h + n) break;
    const char *msg = (const char *)p + h;
    int reply = n > 12 && memmem(msg, n, ",\"phx_reply\",", 13) != NULL;
    if ((p[0] & 15) == 8) return -1; /* close */
    if (reply && c->st == ST_JOIN) {
      c->st = ST_READY;
    } else if (reply && c->st == ST_WAIT) {
      if (!memmem(msg, n, "\"status\":\"ok\"", 13)) nerr++;
      record(now_ns() - c->sent_ns);
      c->st = ST_READY;
    }
    off += h + n;
  }
  memmove(c->buf, c->buf + off, c->len - off);
  c->len -= off;
  return 0;
}

static int on_readable(c_t *c) {
  for (;;) {
    ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
    if (r == 0) return -1;
    if (r < 0) return errno == EAGAIN ? 0 : -1;
    c->len += (size_t)r;
    if (c->st == ST_UPGRADE) {
      unsigned char *e = memmem(c->buf, c->len, "\r\n\r\n", 4);
      if (!e) continue;
      if (memcmp(c->buf, "HTTP/1.1 101", 12) != 0) return -1;
      size_t head = (size_t)(e + 4 - c->buf);
      memmove(c->buf, c->buf + head, c->len - head);
      c->len -= head;
      char j[128];
      int n = snprintf(j, sizeof j, "[\"1\",\"0\",\"%s\",\"phx_join\",{}]", g_topic);
      c->st = ST_JOIN;
      if (send_text(c->fd, j, (size_t)n) != 0) return -1;
    }
    if (frames(c) != 0) return -1;
    if (c->st == ST_READY && send_request(c) != 0) return -1;
  }
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: ws_load HOST PORT PATH CONNS SECONDS WARMUP PAYLOAD_JSON\n");
    return 2;
  }
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
  inet_pton(AF_INET, argv[1], &sa.sin_addr);
  g_path = argv[3];
  int conns = atoi(argv[4]);
  double secs = atof(argv[5]), warm = atof(argv[6]);
  g_payload = argv[7];
  snprintf(g_topic, sizeof g_topic, "gen_api:bench");
  int ep = epoll_create1(0);
  c_t *cs = calloc((size_t)conns, sizeof *cs);
  if (!cs) return 1;
  for (int i = 0; i < conns; i++) {
    c_t *c = &cs[i];
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
      perror("connect");
      return 1;
    }
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s/websocket?vsn=2.0.0 HTTP/1.1\r\nHost: b\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
                     g_path);
    if (send(c->fd, req, (size_t)n, 0) != n) return 1;
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
  }
  uint64_t t0 = now_ns(), warm_end = t0 + (uint64_t)(warm * 1e9),
           end = warm_end + (uint64_t)(secs * 1e9), mstart = 0, mend = 0;
  struct epoll_event evs[256];
  for (;;) {
    uint64_t t = now_ns();
    if (!measuring && !mstart && t >= warm_end) {
      measuring = 1;
      mstart = t;
      printf("measure start\n");
      fflush(stdout);
    }
    if (t >= end) break;
    int n = epoll_wait(ep, evs, 256, 10);
    for (int i = 0; i < n; i++) {
      c_t *c = evs[i].data.ptr;
      if (on_readable(c) != 0) {
        fprintf(stderr, "ws_load: a connection failed\n");
        return 1;
      }
    }
  }
  measuring = 0;
  mend = now_ns();
  printf("measure end\n");
  double s = (double)(mend - mstart) / 1e9;
  printf("requests %llu seconds %.2f rps %.0f p50_us %.0f p99_us %.0f errors %llu\n",
         (unsigned long long)nreq, s, (double)nreq / s, pct(0.50), pct(0.99),
         (unsigned long long)nerr);
  return 0;
}
