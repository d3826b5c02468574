/* systemd's notification protocol (sd_notify(3)): one AF_UNIX datagram
 * of "KEY=VALUE" lines to $NOTIFY_SOCKET. pga-node says READY=1 once it
 * serves (after the ready line) and STOPPING=1 when it stops, so a unit
 * with Type=notify starts its dependents only once the node answers. */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "node/notify.h"

int pga_notify(const char *state) {
  const char *path = getenv("NOTIFY_SOCKET");
  struct sockaddr_un sa;
  size_t n = path ? strlen(path) : 0;
  if (n == 0) return 0;
  if ((path[0] != '/' && path[0] != '@') || n >= sizeof sa.sun_path)
    return -1;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  memcpy(sa.sun_path, path, n);
  if (path[0] == '@') sa.sun_path[0] = '\0'; /* abstract namespace */
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
                              (path[0] == '/'));
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  ssize_t sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
                        (const struct sockaddr *)&sa, len);
  close(fd);
  return sent == (ssize_t)strlen(state) ? 1 : -1;
}
