/* The epoll backend of the event loop; loop.c includes this file, which is
 * never compiled on its own (redis ae_epoll.c). Level-triggered, so an
 * event not fully handled is simply reported again. */
#include <sys/epoll.h>

struct api_state {
  int epfd;
  struct epoll_event *events; /* loop->setsize entries */
};

static void api_free(pga_loop_t *loop) {
  struct api_state *s = loop->api;

  if (s->epfd >= 0)
    close(s->epfd);
  free(s->events);
  free(s);
  loop->api = NULL;
}

static int api_create(pga_loop_t *loop) {
  struct api_state *s = calloc(1, sizeof *s);

  if (s == NULL)
    return PGA_ENOMEM;
  loop->api = s;
  s->epfd = epoll_create1(EPOLL_CLOEXEC);
  s->events = malloc((size_t)loop->setsize * sizeof *s->events);
  if (s->epfd < 0 || s->events == NULL) {
    int rc = s->epfd < 0 ? PGA_ESYS : PGA_ENOMEM;
    api_free(loop);
    return rc;
  }
  return 0;
}

static int api_resize(pga_loop_t *loop, int setsize) {
  struct api_state *s = loop->api;
  struct epoll_event *ev = realloc(s->events, (size_t)setsize * sizeof *ev);

  if (ev == NULL)
    return PGA_ENOMEM;
  s->events = ev;
  return 0;
}

/* Moves fd from interest old to mask (either may be 0 = absent from the
 * kernel set). */
static int api_update(pga_loop_t *loop, int fd, int old, int mask) {
  struct api_state *s = loop->api;
  struct epoll_event ev;

  memset(&ev, 0, sizeof ev);
  ev.data.fd = fd;
  if (mask & PGA_READABLE)
    ev.events |= EPOLLIN;
  if (mask & PGA_WRITABLE)
    ev.events |= EPOLLOUT;

  if (mask == 0)
    return epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, &ev) == 0 ? 0 : PGA_ESYS;
  int op = old == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
  if (epoll_ctl(s->epfd, op, fd, &ev) == 0)
    return 0;
  /* The caller closed and reopened the fd number without unwatching:
   * closing dropped the old registration (ENOENT), or the kernel still
   * holds one for a dup of it (EEXIST). Either way, take the other op. */
  if ((op == EPOLL_CTL_MOD && errno == ENOENT) ||
      (op == EPOLL_CTL_ADD && errno == EEXIST)) {
    op = op == EPOLL_CTL_MOD ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (epoll_ctl(s->epfd, op, fd, &ev) == 0)
      return 0;
  }
  return PGA_ESYS;
}

/* Fills loop->fired; returns how many, or PGA_ESYS. Errors and hang-ups
 * count as both directions, and the loop keeps those the watcher asked
 * for, so whoever waits on the fd gets to see the failure. */
static int api_poll(pga_loop_t *loop, int timeout_ms) {
  struct api_state *s = loop->api;
  int n = epoll_wait(s->epfd, s->events, loop->setsize, timeout_ms);

  if (n < 0)
    return errno == EINTR ? 0 : PGA_ESYS;
  for (int i = 0; i < n; i++) {
    uint32_t e = s->events[i].events;
    int events = 0;
    if (e & EPOLLIN)
      events |= PGA_READABLE;
    if (e & EPOLLOUT)
      events |= PGA_WRITABLE;
    if (e & (EPOLLERR | EPOLLHUP))
      events |= PGA_READABLE | PGA_WRITABLE;
    loop->fired[i].fd = s->events[i].data.fd;
    loop->fired[i].events = events;
  }
  return n;
}
