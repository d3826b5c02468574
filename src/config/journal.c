/* The config journal's record format (journal.h). */
#define _GNU_SOURCE /* memmem */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "config/durable.h"
#include "config/journal.h"

static void put_u32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

static int random_salt(unsigned char *salt) {
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, salt, PGA_JRNL_SALT) : -1;
  if (fd >= 0) close(fd);
  return n == PGA_JRNL_SALT ? 0 : -1;
}

int pga_jrnl_head_new(pga_jrnl_head_t *head, uint64_t gen,
                      unsigned char out[PGA_JRNL_HEADER_V2]) {
  if (random_salt(head->salt) != 0) return -1;
  head->version = 2;
  head->generation = gen;
  memcpy(out, PGA_JRNL_MAGIC_V2, 8);
  put_u32(out + 8, (uint32_t)(gen >> 32));
  put_u32(out + 12, (uint32_t)gen);
  memcpy(out + 16, head->salt, PGA_JRNL_SALT);
  put_u32(out + 24, pga__crc32(out, 24));
  return 0;
}

void pga_jrnl_head_parse(const char *buf, size_t len, pga_jrnl_head_t *head) {
  const unsigned char *b = (const unsigned char *)buf;
  memset(head, 0, sizeof *head);
  if (len >= PGA_JRNL_HEADER_V1 && !memcmp(b, PGA_JRNL_MAGIC_V1, 8))
    head->version = 1;
  else if (len >= PGA_JRNL_HEADER_V2 && !memcmp(b, PGA_JRNL_MAGIC_V2, 8) &&
           get_u32(b + 24) == pga__crc32(b, 24))
    head->version = 2;
  else
    return;
  head->generation = (uint64_t)get_u32(b + 8) << 32 | get_u32(b + 12);
  if (head->version == 2) memcpy(head->salt, b + 16, PGA_JRNL_SALT);
}

size_t pga_jrnl_rec_head(unsigned char *out, const pga_jrnl_head_t *head,
                         const void *label, size_t llen, const void *payload,
                         size_t plen) {
  size_t n = 0;
  memcpy(out, head->salt, PGA_JRNL_SALT);
  n += PGA_JRNL_SALT;
  put_u32(out + n, (uint32_t)plen);
  n += 4;
  out[n++] = (unsigned char)(llen >> 8);
  out[n++] = (unsigned char)llen;
  if (llen) memcpy(out + n, label, llen);
  n += llen;
  put_u32(out + n, pga__crc32(out, n));
  n += 4;
  put_u32(out + n, pga__crc32(payload, plen));
  return n + 4;
}

/* The record at off: 2 whole and good, 1 header good (label usable) but
 * payload short or damaged, 0 no record starts here. */
static int record_at(const char *buf, size_t len, const pga_jrnl_head_t *head,
                     size_t max_payload, size_t off, pga_jrnl_rec_t *r) {
  const unsigned char *b = (const unsigned char *)buf + off;
  size_t left = len - off;
  if (left < PGA_JRNL_REC_FIXED || memcmp(b, head->salt, PGA_JRNL_SALT))
    return 0;
  size_t plen = get_u32(b + 8), llen = (size_t)b[12] << 8 | b[13];
  if (llen > PGA_JRNL_LABEL_MAX || left < PGA_JRNL_REC_FIXED + llen) return 0;
  size_t hlen = 14 + llen;
  if (get_u32(b + hlen) != pga__crc32(b, hlen)) return 0;
  r->off = off;
  r->label = (const char *)b + 14;
  r->llen = llen;
  r->payload = (const char *)b + hlen + 8;
  r->plen = plen;
  r->size = hlen + 8 + plen;
  if (plen > max_payload || left - (hlen + 8) < plen) return 1;
  return get_u32(b + hlen + 4) == pga__crc32(r->payload, plen) ? 2 : 1;
}

/* The next offset after from where a salt starts, or len. */
static size_t next_salt(const char *buf, size_t len,
                        const pga_jrnl_head_t *head, size_t from) {
  if (from >= len) return len;
  const char *hit = memmem(buf + from, len - from, head->salt, PGA_JRNL_SALT);
  return hit ? (size_t)(hit - buf) : len;
}

int pga_jrnl_next(const char *buf, size_t len, const pga_jrnl_head_t *head,
                  size_t max_payload, size_t *off, pga_jrnl_rec_t *rec,
                  pga_jrnl_gap_t *gap) {
  if (*off >= len) return 0;
  if (record_at(buf, len, head, max_payload, *off, rec) == 2) {
    *off += rec->size;
    return 1;
  }
  /* Damage: resume at the next whole record; name the damaged ones whose
   * header survived on the way. */
  memset(gap, 0, sizeof *gap);
  gap->off = *off;
  size_t at = *off;
  for (;;) {
    pga_jrnl_rec_t r;
    int kind = at < len ? record_at(buf, len, head, max_payload, at, &r) : 0;
    if (kind == 2 && at > gap->off) break;
    if (kind == 1) {
      if (gap->nnamed < PGA_JRNL_NAMED_MAX) gap->named[gap->nnamed++] = r;
    } else if (at == gap->off) {
      gap->unnamed = 1; /* the stretch starts without a good header */
    }
    at = next_salt(buf, len, head, at + 1);
    if (at >= len) break;
  }
  gap->len = (at < len ? at : len) - gap->off;
  size_t named_bytes = 0;
  for (size_t i = 0; i < gap->nnamed; i++)
    named_bytes += gap->named[i].size;
  if (gap->nnamed == 0 || named_bytes < gap->len) gap->unnamed = 1;
  *off = gap->off + gap->len;
  return 2;
}
