/* A connection's output queue (outq.h): a list of blocks, each either a
 * shared block that small writes are copied into, or a buffer taken over
 * from the caller. Shared blocks are at least SHARED_BLOCK bytes, so a
 * burst of small messages costs one allocation per SHARED_BLOCK bytes.
 *
 * Invariants:
 *   1. bytes == the sum over blocks of len - off.
 *   2. Only the tail block can grow, and only a shared one.
 *   3. A block is freed as soon as its last byte is consumed. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dist/outq.h"
#include "pga/errno.h"

#define SHARED_BLOCK (64 * 1024)

struct pga_outq_block_s {
  pga_outq_block_t *next;
  char *data;
  size_t len;      /* bytes written into data */
  size_t off;      /* bytes already consumed */
  size_t cap;      /* allocated size of a shared block; 0 for a taken one */
};

void pga_outq_init(pga_outq_t *q) {
  q->head = q->tail = NULL;
  q->bytes = 0;
  q->release = NULL;
  q->release_ud = NULL;
}

static void block_free(pga_outq_t *q, pga_outq_block_t *b) {
  if (!b->cap && q->release)
    q->release(q->release_ud, b->data);
  else
    free(b->data);
  free(b);
}

void pga_outq_free(pga_outq_t *q) {
  while (q->head) {
    pga_outq_block_t *b = q->head;
    q->head = b->next;
    block_free(q, b);
  }
  q->tail = NULL;
  q->bytes = 0;
}

static void append(pga_outq_t *q, pga_outq_block_t *b) {
  if (q->tail)
    q->tail->next = b;
  else
    q->head = b;
  q->tail = b;
}

char *pga_outq_reserve(pga_outq_t *q, size_t len) {
  pga_outq_block_t *t = q->tail;
  if (!t || !t->cap || t->cap - t->len < len) {
    size_t cap = len > SHARED_BLOCK ? len : SHARED_BLOCK;
    t = calloc(1, sizeof *t);
    char *data = t ? malloc(cap) : NULL;
    if (!data) {
      free(t);
      return NULL;
    }
    t->data = data;
    t->cap = cap;
    append(q, t);
  }
  char *at = t->data + t->len;
  t->len += len;
  q->bytes += len;
  return at;
}

int pga_outq_add(pga_outq_t *q, const void *data, size_t len) {
  if (len == 0) return 0;
  char *at = pga_outq_reserve(q, len);
  if (!at) return PGA_ENOMEM;
  memcpy(at, data, len);
  return 0;
}

int pga_outq_take(pga_outq_t *q, void *data, size_t len) {
  if (len == 0) {
    free(data);
    return 0;
  }
  /* (an empty buffer costs nothing to free here) */
  pga_outq_block_t *b = calloc(1, sizeof *b);
  if (!b) {
    if (q->release)
      q->release(q->release_ud, data);
    else
      free(data);
    return PGA_ENOMEM;
  }
  b->data = data;
  b->len = len;
  append(q, b);
  q->bytes += len;
  return 0;
}

const char *pga_outq_peek(const pga_outq_t *q, size_t *len) {
  if (!q->head) {
    *len = 0;
    return NULL;
  }
  *len = q->head->len - q->head->off;
  return q->head->data + q->head->off;
}

void pga_outq_consume(pga_outq_t *q, size_t n) {
  pga_outq_block_t *b = q->head;
  if (!b || n == 0) return;
  b->off += n;
  q->bytes -= n;
  if (b->off < b->len) return;
  q->head = b->next;
  if (!q->head) q->tail = NULL;
  block_free(q, b);
}

void pga_outq_move(pga_outq_t *to, pga_outq_t *from) {
  if (!from->head) return;
  if (to->tail)
    to->tail->next = from->head;
  else
    to->head = from->head;
  to->tail = from->tail;
  to->bytes += from->bytes;
  from->head = from->tail = NULL;
  from->bytes = 0;
}
