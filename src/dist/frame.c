/* Framing after the handshake (distribution.md §5): Length:32 then the
 * body; length 0 is a tick. */
#include "config.h"

#include "dist/dist.h"

int pga_frame_next(const unsigned char *buf, size_t len, size_t max_packet,
                   size_t *frame_len, size_t *body_len) {
  if (len < 4) return PGA_FRAME_MORE;
  size_t n = ((size_t)buf[0] << 24) | ((size_t)buf[1] << 16) |
             ((size_t)buf[2] << 8) | buf[3];
  if (n > max_packet) return PGA_FRAME_TOO_BIG;
  if (len - 4 < n) return PGA_FRAME_MORE;
  *frame_len = 4 + n;
  *body_len = n;
  return n == 0 ? PGA_FRAME_TICK : PGA_FRAME_PACKET;
}

int pga_frame_big_body(const unsigned char *buf, size_t len, size_t big,
                       size_t *body_len) {
  if (len < 4) return 0;
  size_t n = ((size_t)buf[0] << 24) | ((size_t)buf[1] << 16) |
             ((size_t)buf[2] << 8) | buf[3];
  if (n < big) return 0;
  *body_len = n;
  return 1;
}
