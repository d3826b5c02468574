/* epmd client (distribution.md §2): registration at start-up (blocking,
 * once) and the message codecs the non-blocking peer lookup uses. */
#ifndef PGA_DIST_EPMD_H
#define PGA_DIST_EPMD_H

#include <stddef.h>
#include <stdint.h>

#include "base/dynbuf.h"

/* ERL_EPMD_PORT if set and valid, else 4369. */
uint16_t pga_epmd_port(void);

int pga_epmd_build_alive2(pga_dynbuf_t *out, uint16_t port,
                          const char *alive);
/* 0 with *creation, PGA_EAGAIN (need more bytes), PGA_EEXIST (name taken
 * or refused) or PGA_EPROTO. */
int pga_epmd_parse_alive2_resp(const unsigned char *buf, size_t len,
                               uint32_t *creation);
int pga_epmd_build_port_please(pga_dynbuf_t *out, const char *alive);
/* 0 with *port, PGA_EAGAIN, PGA_ENOTFOUND (not registered), PGA_EPROTO
 * (also for peers whose highest version is below 6). */
int pga_epmd_parse_port2_resp(const unsigned char *buf, size_t len,
                              uint16_t *port);

/* Registers alive at port with the local epmd, starting `epmd -daemon` if
 * none answers. Keeps *fd open (closing it unregisters). Blocking; start-up
 * only. 0, or an error with err filled. */
int pga_epmd_register(const char *alive, uint16_t port, int *fd,
                      uint32_t *creation, char *err, size_t errlen);

#endif
