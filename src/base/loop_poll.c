/* The poll(2) backend of the event loop, for systems without epoll; loop.c
 * includes this file, which is never compiled on its own (redis
 * ae_select.c). pollfds are kept dense with an fd -> index map, so updates
 * are O(1) and each wait passes only the fds with interest. */
#include <poll.h>

struct api_state {
  struct pollfd *pfds; /* n used, loop->setsize allocated */
  int n;
  int *pos;            /* fd -> index in pfds, or -1 */
  int cap;             /* entries of pfds and pos */
};

static void api_free(pga_loop_t *loop) {
  struct api_state *s = loop->api;

  free(s->pfds);
  free(s->pos);
  free(s);
  loop->api = NULL;
}

static int api_resize(pga_loop_t *loop, int setsize) {
  struct api_state *s = loop->api;
  struct pollfd *p = realloc(s->pfds, (size_t)setsize * sizeof *p);

  if (p == NULL)
    return PGA_ENOMEM;
  s->pfds = p;
  int *pos = realloc(s->pos, (size_t)setsize * sizeof *pos);
  if (pos == NULL)
    return PGA_ENOMEM;
  s->pos = pos;
  for (int fd = s->cap; fd < setsize; fd++)
    pos[fd] = -1;
  s->cap = setsize;
  return 0;
}

static int api_create(pga_loop_t *loop) {
  struct api_state *s = calloc(1, sizeof *s);

  if (s == NULL)
    return PGA_ENOMEM;
  loop->api = s;
  if (api_resize(loop, loop->setsize) != 0) {
    api_free(loop);
    return PGA_ENOMEM;
  }
  return 0;
}

/* Moves fd from interest old to mask (0 = not polled at all: poll reports
 * hang-ups even for events 0, and nobody would read them). */
static int api_update(pga_loop_t *loop, int fd, int old, int mask) {
  struct api_state *s = loop->api;
  int i = s->pos[fd];

  (void)old;
  if (mask == 0) {
    if (i >= 0) {
      s->pfds[i] = s->pfds[--s->n];
      s->pos[s->pfds[i].fd] = i;
      s->pos[fd] = -1;
    }
    return 0;
  }
  if (i < 0) {
    /* epoll refuses a bad fd at once; match it rather than let poll
     * report POLLNVAL forever. */
    if (fcntl(fd, F_GETFD) < 0)
      return PGA_ESYS;
    i = s->n++;
    s->pos[fd] = i;
    s->pfds[i].fd = fd;
  }
  s->pfds[i].events = (short)(((mask & PGA_READABLE) ? POLLIN : 0) |
                              ((mask & PGA_WRITABLE) ? POLLOUT : 0));
  s->pfds[i].revents = 0;
  return 0;
}

/* Fills loop->fired as the epoll backend does. */
static int api_poll(pga_loop_t *loop, int timeout_ms) {
  struct api_state *s = loop->api;
  int r = poll(s->pfds, (nfds_t)s->n, timeout_ms);

  if (r < 0)
    return errno == EINTR ? 0 : PGA_ESYS;
  int k = 0;
  for (int i = 0; i < s->n && k < r; i++) {
    short re = s->pfds[i].revents;
    int events = 0;
    if (re == 0)
      continue;
    if (re & POLLIN)
      events |= PGA_READABLE;
    if (re & POLLOUT)
      events |= PGA_WRITABLE;
    if (re & (POLLERR | POLLHUP | POLLNVAL))
      events |= PGA_READABLE | PGA_WRITABLE;
    loop->fired[k].fd = s->pfds[i].fd;
    loop->fired[k].events = events;
    k++;
  }
  return k;
}
