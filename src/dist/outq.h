/* Folder-private: a connection's output queue. Small writes are copied
 * into shared blocks; a large payload can be queued by reference (its
 * buffer is taken over and freed once written), so queueing a 25 MB reply
 * costs the loop no copy. Bytes leave in the order they were queued.
 *
 * Not thread-safe: the loop thread owns it. */
#ifndef PGA_DIST_OUTQ_H
#define PGA_DIST_OUTQ_H

#include <stddef.h>

typedef struct pga_outq_block_s pga_outq_block_t;

typedef struct pga_outq_s {
  pga_outq_block_t *head, *tail;
  size_t bytes;            /* queued and not yet consumed */
  /* Frees a taken buffer once written (NULL: free()); set after init. */
  void (*release)(void *ud, void *data);
  void *release_ud;
} pga_outq_t;

void pga_outq_init(pga_outq_t *q);
/* Frees every block (taken buffers included). */
void pga_outq_free(pga_outq_t *q);
/* Copies len bytes to the tail. 0 or PGA_ENOMEM (nothing queued). */
int pga_outq_add(pga_outq_t *q, const void *data, size_t len);
/* Room for len bytes at the tail, written by the caller before the next
 * call on q (frame headers). NULL on ENOMEM. */
char *pga_outq_reserve(pga_outq_t *q, size_t len);
/* Queues data[0..len) without copying; q frees data (q->release) once it
 * is written or the queue is freed, also when this fails (PGA_ENOMEM). */
int pga_outq_take(pga_outq_t *q, void *data, size_t len);
/* The first unwritten bytes (one block's worth); NULL when empty. */
const char *pga_outq_peek(const pga_outq_t *q, size_t *len);
/* Drops n written bytes from the front (n <= the peeked length). */
void pga_outq_consume(pga_outq_t *q, size_t n);
/* Moves everything queued on from to the tail of to (from ends empty;
 * both must release taken buffers the same way). */
void pga_outq_move(pga_outq_t *to, pga_outq_t *from);
static inline size_t pga_outq_size(const pga_outq_t *q) { return q->bytes; }

#endif
