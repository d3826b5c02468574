/* A capped growable byte buffer (curl dynbuf): appends that fail free it,
 * consumption from the front is O(1) and compaction is deferred.
 *
 * Invariants:
 *   1. data == NULL exactly when alloc == 0, and then len == start == 0.
 *   2. Otherwise start <= len < alloc and data[len] == '\0', so the held
 *      bytes can be read as a C string when they contain no NUL.
 *   3. len - start <= cap: the cap limits unconsumed bytes, since consumed
 *      ones are invisible to the caller and reclaimed on the next growth.
 */
#include "config.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/dynbuf.h"
#include "pga/errno.h"

#define MIN_ALLOC 64

void pga_dynbuf_init(pga_dynbuf_t *b, size_t cap) {
  b->data = NULL;
  b->len = b->start = b->alloc = 0;
  /* Room for the terminator must stay representable (invariant 2). */
  b->cap = cap < SIZE_MAX ? cap : SIZE_MAX - 1;
}

void pga_dynbuf_free(pga_dynbuf_t *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->start = b->alloc = 0;
}

void pga_dynbuf_reset(pga_dynbuf_t *b) {
  b->len = b->start = 0;
  if (b->data != NULL)
    b->data[0] = '\0';
}

/* Moves the unconsumed bytes (and the terminator) to the front. */
static void compact(pga_dynbuf_t *b) {
  size_t size = b->len - b->start;

  memmove(b->data, b->data + b->start, size + 1);
  b->len = size;
  b->start = 0;
}

static size_t grown_size(const pga_dynbuf_t *b, size_t need) {
  size_t a = b->alloc ? b->alloc : MIN_ALLOC;

  while (a < need)
    a = a > SIZE_MAX / 2 ? need : a * 2;
  /* Never allocate past what the cap can use (need <= cap + 1 here). */
  if (a > b->cap + 1)
    a = b->cap + 1;
  return a;
}

/* Makes room for n more bytes plus the terminator. 0, or PGA_ETOOBIG /
 * PGA_ENOMEM with the buffer freed (curl's rule: a failed append leaves
 * no half-built message behind). */
static int ensure(pga_dynbuf_t *b, size_t n) {
  size_t size = b->len - b->start;

  if (n > b->cap - size) {
    pga_dynbuf_free(b);
    return PGA_ETOOBIG;
  }
  if (b->data != NULL && n < b->alloc - b->len)
    return 0;
  /* Compact when the consumed front is at least as big as what is held,
   * or when growing could not make room under the cap (len <= cap holds):
   * each compaction then frees room for as many bytes as it copies, so
   * appends stay O(1) amortised. Compacting for a small consumed front
   * copied a large backlog again and again (a stream's send queue under
   * back-pressure spent a tenth of its CPU here). */
  if (b->start > 0 && (b->start >= size || n > b->cap - b->len)) {
    compact(b);
    if (n < b->alloc - b->len)
      return 0;
  }
  /* b->len is b->start + size, or size after a compaction. */
  size_t a = grown_size(b, b->len + n + 1);
  char *p = realloc(b->data, a);
  if (p == NULL) {
    pga_dynbuf_free(b);
    return PGA_ENOMEM;
  }
  if (b->data == NULL)
    p[0] = '\0';
  b->data = p;
  b->alloc = a;
  return 0;
}

int pga_dynbuf_add(pga_dynbuf_t *b, const void *data, size_t len) {
  int rc = ensure(b, len);

  if (rc != 0)
    return rc;
  if (len > 0)
    memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
  return 0;
}

char *pga_dynbuf_reserve(pga_dynbuf_t *b, size_t n) {
  if (ensure(b, n) != 0)
    return NULL;
  return b->data + b->len;
}

void pga_dynbuf_commit(pga_dynbuf_t *b, size_t n) {
  /* Committing more than was reserved is a caller bug; clamp in release
   * so the terminator at least stays inside the allocation. */
  assert(n == 0 || (b->data != NULL && n < b->alloc - b->len));
  if (b->data == NULL)
    return;
  if (n >= b->alloc - b->len)
    n = b->alloc - b->len - 1;
  b->len += n;
  b->data[b->len] = '\0';
}

void pga_dynbuf_consume(pga_dynbuf_t *b, size_t n) {
  size_t size = b->len - b->start;

  assert(n <= size);
  if (n >= size) {
    pga_dynbuf_reset(b);
    return;
  }
  b->start += n;
  /* Compact only once the dead prefix outweighs the live bytes: each copy
   * is then paid for by the bytes consumed since the last one. */
  if (b->start > b->len / 2)
    compact(b);
}
