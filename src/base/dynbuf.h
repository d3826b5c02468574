/* A growable byte buffer with a cap (curl dynbuf): an append that would
 * pass the cap, or fails to allocate, frees the buffer and reports.
 *
 * The cap limits unconsumed bytes (pga_dynbuf_size). The held bytes are
 * always followed by a '\0' (not counted), so text can be read as a C
 * string. Pointers from pga_dynbuf_ptr and pga_dynbuf_reserve are invalid
 * after the next call that adds, reserves or consumes. A buffer freed by a
 * failed append stays initialized (same cap) and may be reused. Until
 * the first append data is NULL, so read pga_dynbuf_ptr only when
 * pga_dynbuf_size is not 0. */
#ifndef PGA_BASE_DYNBUF_H
#define PGA_BASE_DYNBUF_H

#include <stddef.h>

typedef struct pga_dynbuf_s {
  char *data;
  size_t len;   /* bytes held */
  size_t start; /* bytes already consumed from the front */
  size_t alloc;
  size_t cap;
} pga_dynbuf_t;

void pga_dynbuf_init(pga_dynbuf_t *b, size_t cap);
void pga_dynbuf_free(pga_dynbuf_t *b);
/* 0, or PGA_ETOOBIG / PGA_ENOMEM (the buffer is then freed and empty). */
int pga_dynbuf_add(pga_dynbuf_t *b, const void *data, size_t len)
    __attribute__((warn_unused_result));
/* Makes room for at least n more bytes and returns where they go (the
 * caller writes then calls pga_dynbuf_commit). NULL as add fails. */
char *pga_dynbuf_reserve(pga_dynbuf_t *b, size_t n);
void pga_dynbuf_commit(pga_dynbuf_t *b, size_t n);
/* Unconsumed bytes. */
static inline const char *pga_dynbuf_ptr(const pga_dynbuf_t *b) {
  return b->data + b->start;
}
static inline size_t pga_dynbuf_size(const pga_dynbuf_t *b) {
  return b->len - b->start;
}
/* Drops n bytes from the front (n <= size); compacts lazily. */
void pga_dynbuf_consume(pga_dynbuf_t *b, size_t n);
void pga_dynbuf_reset(pga_dynbuf_t *b);

#endif
