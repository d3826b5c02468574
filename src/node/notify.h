/* systemd's service notification (Type=notify) without libsystemd. */
#ifndef PGA_NODE_NOTIFY_H
#define PGA_NODE_NOTIFY_H

/* Sends state ("READY=1", "STOPPING=1"...) as one datagram to the socket
 * named by NOTIFY_SOCKET (a path, or "@name" in the abstract namespace).
 * 1 sent, 0 no NOTIFY_SOCKET (not run by systemd), -1 failed. Never
 * blocks the caller for long: the socket is non-blocking. */
int pga_notify(const char *state);

#endif
