/* libFuzzer target for the control-message parser (pga_ctrl_parse in
 * src/dist/ctrl.c) and the public term readers the layers above use on
 * what it returns.
 *
 * Input: one pass-through packet body after the 'p' byte: 131 + control
 * tuple [+ 131 + payload] (seeds: fuzz/corpus/ctrl/, captured from OTP 25
 * by fuzz/capture_corpus.exs).
 *
 * Properties checked (abort = finding):
 * 1. Nothing reads outside the input (ASan) or hits UB (UBSan), in the
 *    parser or in any reader walking its views.
 * 2. An accepted packet has 1..PGA_CTRL_MAX_ELEMS elements, an op in
 *    1..255 equal to element 0, and every view (elements, payload) lies
 *    inside the input and re-checks with pga_term_view to its own length.
 * 3. The readers agree with pga_term_type: an atom always fits
 *    PGA_ATOM_BUF, an integer reads as int64, a float as double, a binary
 *    as bytes inside its view; tuple elements, list elements and map pairs
 *    lie inside their parent, past-the-end indexes give PGA_ERANGE, and
 *    iterating a list counts what pga_term_list_length says.
 * 4. pga_term_format is deterministic whatever the buffer size: the length
 *    it returns does not depend on the buffer, and the text is always
 *    NUL-terminated, truncated to the buffer.
 * 5. pga_term_equal finds a scalar (not a float: NaN) equal to itself, and
 *    a map's key finds a value with pga_term_map_get. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"
#include "pga/term.h"

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "fuzz_ctrl: %s:%d: check failed: %s\n", __FILE__,    \
              __LINE__, #cond);                                            \
      abort();                                                             \
    }                                                                      \
  } while (0)

/* Bounds on the walk, so that one input costs at most a few ms: readers
 * like pga_term_tuple_get are O(i), and terms nest 1000 deep. */
#define WALK_MAX_NODES 2000
#define WALK_MAX_DEPTH 64
#define WALK_MAX_CHILDREN 64

static char atom_buf[PGA_ATOM_BUF];
static char big_buf[4096];
static size_t nodes;

static void check_inside(const pga_term_t *in, const pga_term_t *outer) {
  CHECK(in->buf != NULL && in->len > 0);
  CHECK(in->buf >= outer->buf);
  CHECK(in->len <= outer->len);
  CHECK((size_t)(in->buf - outer->buf) <= outer->len - in->len);
}

static void check_format(const pga_term_t *t) {
  char small[16], one[1];
  size_t n_big = pga_term_format(t, big_buf, sizeof big_buf);
  size_t n_small = pga_term_format(t, small, sizeof small);
  size_t n_none = pga_term_format(t, NULL, 0);

  one[0] = 'x';
  CHECK(pga_term_format(t, one, sizeof one) == n_big && one[0] == '\0');
  CHECK(n_small == n_big && n_none == n_big);
  CHECK(strlen(small) == (n_big < sizeof small ? n_big : sizeof small - 1));
  CHECK(strlen(big_buf) ==
        (n_big < sizeof big_buf ? n_big : sizeof big_buf - 1));
  CHECK(memcmp(small, big_buf, strlen(small)) == 0);
}

static void walk(const pga_term_t *t, int depth);

static void walk_tuple(const pga_term_t *t, int depth) {
  pga_term_t e;
  size_t arity;

  CHECK(pga_term_tuple_arity(t, &arity) == 0);
  CHECK(pga_term_tuple_get(t, arity, &e) == PGA_ERANGE);
  for (size_t i = 0; i < arity && i < WALK_MAX_CHILDREN; i++) {
    CHECK(pga_term_tuple_get(t, i, &e) == 0);
    check_inside(&e, t);
    walk(&e, depth + 1);
  }
}

static void walk_list(const pga_term_t *t, int depth) {
  pga_term_iter_t it;
  pga_term_t e, tail;
  size_t n = 0, len;

  CHECK(pga_term_iter_init(&it, t) == 0);
  while (n < WALK_MAX_CHILDREN && pga_term_iter_next(&it, &e)) {
    /* STRING_EXT elements are views of a static SMALL_INTEGER_EXT table,
     * not bytes of t. */
    if (it.is_string)
      CHECK(e.len == 2 && (unsigned char)e.buf[0] == 97);
    else
      check_inside(&e, t);
    walk(&e, depth + 1);
    n++;
  }
  if (n == WALK_MAX_CHILDREN)
    return;
  pga_term_iter_tail(&it, &tail);
  CHECK(tail.buf != NULL);
  CHECK(pga_term_list_length(t, &len) == 0 && len == n);
  if (pga_term_type(&tail) != PGA_T_NIL) { /* an improper list */
    check_inside(&tail, t);
    walk(&tail, depth + 1);
  }
}

static void walk_map(const pga_term_t *t, int depth) {
  pga_term_t k, v, found;
  size_t size;

  CHECK(pga_term_map_size(t, &size) == 0);
  CHECK(pga_term_map_pair(t, size, &k, &v) == PGA_ERANGE);
  for (size_t i = 0; i < size && i < WALK_MAX_CHILDREN; i++) {
    CHECK(pga_term_map_pair(t, i, &k, &v) == 0);
    check_inside(&k, t);
    check_inside(&v, t);
    CHECK(pga_term_map_get(t, &k, &found) == 0);
    check_inside(&found, t);
    walk(&k, depth + 1);
    walk(&v, depth + 1);
  }
}

static void walk(const pga_term_t *t, int depth) {
  pga_term_type_t type = pga_term_type(t);
  const char *bin;
  size_t blen;
  int64_t i;
  double d;

  if (depth > WALK_MAX_DEPTH || ++nodes > WALK_MAX_NODES)
    return;
  CHECK(type != PGA_T_INVALID);
  switch (type) {
  case PGA_T_INTEGER:
    CHECK(pga_term_get_int64(t, &i) == 0);
    break;
  case PGA_T_BIGINT:
    CHECK(pga_term_get_int64(t, &i) == PGA_ERANGE);
    break;
  case PGA_T_FLOAT:
    CHECK(pga_term_get_double(t, &d) == 0);
    break;
  case PGA_T_ATOM:
    CHECK(pga_term_get_atom(t, atom_buf, sizeof atom_buf) == 0);
    (void)pga_term_is_atom(t, atom_buf);
    break;
  case PGA_T_BINARY:
    CHECK(pga_term_get_binary(t, &bin, &blen) == 0);
    CHECK(bin >= t->buf && blen <= t->len &&
          (size_t)(bin - t->buf) <= t->len - blen);
    break;
  case PGA_T_TUPLE:
    walk_tuple(t, depth);
    break;
  case PGA_T_NIL:
  case PGA_T_LIST:
    walk_list(t, depth);
    break;
  case PGA_T_MAP:
    walk_map(t, depth);
    break;
  default: /* bitstring, pid, port, ref, fun: format only */
    break;
  }
  if (type != PGA_T_TUPLE && type != PGA_T_LIST && type != PGA_T_MAP &&
      type != PGA_T_FUN && type != PGA_T_FLOAT)
    CHECK(pga_term_equal(t, t) == 1);
}

/* One element or the payload: a whole, checked term inside the packet. */
static void check_top(const pga_term_t *t, const uint8_t *data,
                      size_t size) {
  pga_term_t whole = {(const char *)data, size}, again;

  check_inside(t, &whole);
  CHECK(pga_term_view(t->buf, t->len, &again) == 0);
  CHECK(again.buf == t->buf && again.len == t->len);
  check_format(t);
  walk(t, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  pga_ctrl_t c;
  int64_t op;

  if (pga_ctrl_parse((const char *)data, size, &c) != 0)
    return 0;
  CHECK(c.n >= 1 && c.n <= PGA_CTRL_MAX_ELEMS);
  CHECK(c.op >= 1 && c.op <= 255);
  CHECK(pga_term_get_int64(&c.e[0], &op) == 0 && op == c.op);
  nodes = 0;
  for (size_t i = 0; i < c.n; i++)
    check_top(&c.e[i], data, size);
  if (c.has_payload) {
    pga_term_t again;

    /* The payload's version byte sits just before its view. */
    CHECK(c.payload.buf > (const char *)data &&
          (unsigned char)c.payload.buf[-1] == 131);
    CHECK(pga_term_view_versioned(c.payload.buf - 1, c.payload.len + 1,
                                  &again) == 0);
    CHECK(again.buf == c.payload.buf && again.len == c.payload.len);
    check_top(&c.payload, data, size);
  }
  return 0;
}
