/* libFuzzer target for the term layer: any bytes through the checker, and
 * every accepted term through the readers, the printer and the builder.
 *
 * Oracles beyond "no crash, no sanitizer report": a term equals itself; a
 * printout truncated to a small buffer is a prefix of the full one with the
 * same returned length; rebuilding a term through the readers and the
 * builder gives a valid, equal term; and pga__tb_list_normalized keeps a
 * list equal; the structural skip agrees with the checker on every term
 * the checker accepts. Seeds: fuzz/corpus/term (tests/data/term/gen.escript). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pga/term.h"
#include "term/term.h"

/* Bounds the O(i) element lookups so one input cannot be quadratic. */
#define MAX_INDEXED 64

#define CHECK(cond)       \
  do {                    \
    if (!(cond))          \
      __builtin_trap();   \
  } while (0)

static int atom_has_nul(const pga_term_t *t) {
  pga__head_t h;

  return pga__term_head(t->buf, t->len, &h) == 0 && h.atom.s != NULL &&
         memchr(h.atom.s, 0, h.atom.len) != NULL;
}

/* Atoms, out of line so the buffer stays off rebuild's recursion. */
static __attribute__((noinline)) void rebuild_atom(pga_tb_t *tb,
                                                   const pga_term_t *t) {
  char atom[PGA_ATOM_BUF];

  CHECK(pga_term_get_atom(t, atom, sizeof atom) == 0);
  CHECK(pga_term_is_atom(t, atom));
  pga_tb_atom(tb, atom);
}

static __attribute__((noinline)) void rebuild_pid_ref(pga_tb_t *tb,
                                                      const pga_term_t *t) {
  erlang_pid pid;
  erlang_ref ref;

  if (pga_term_type(t) == PGA_T_PID) {
    CHECK(pga__term_get_pid(t, &pid) == 0);
    pga__tb_pid(tb, &pid);
  } else {
    CHECK(pga__term_get_ref(t, &ref) == 0);
    pga__tb_ref(tb, &ref);
  }
}

/* Reads t with the public readers and writes it again with the builder;
 * what the readers cannot express (bignums, bitstrings, ports, funs, atoms
 * holding NUL) is copied as it is, and so is anything MAX_REBUILT levels
 * down (the recursion here is the harness's, not the library's). */
#define MAX_REBUILT 256

static void rebuild(pga_tb_t *tb, const pga_term_t *t, int depth) {
  pga_term_t a, b;
  pga_term_iter_t it;
  const char *data;
  size_t n, i;
  int64_t v;
  double d;

  if (depth++ > MAX_REBUILT) {
    pga_tb_term(tb, t);
    return;
  }
  switch (pga_term_type(t)) {
  case PGA_T_INTEGER:
    CHECK(pga_term_get_int64(t, &v) == 0);
    pga_tb_int(tb, v);
    return;
  case PGA_T_FLOAT:
    CHECK(pga_term_get_double(t, &d) == 0);
    pga_tb_double(tb, d);
    return;
  case PGA_T_ATOM:
    if (atom_has_nul(t))
      break;
    rebuild_atom(tb, t);
    return;
  case PGA_T_BINARY:
    CHECK(pga_term_get_binary(t, &data, &n) == 0);
    pga_tb_binary(tb, data, n);
    return;
  case PGA_T_TUPLE:
    CHECK(pga_term_tuple_arity(t, &n) == 0);
    if (n > MAX_INDEXED)
      break;
    pga_tb_tuple(tb, n);
    for (i = 0; i < n; i++) {
      CHECK(pga_term_tuple_get(t, i, &a) == 0);
      rebuild(tb, &a, depth);
    }
    CHECK(pga_term_tuple_get(t, n, &a) == PGA_ERANGE);
    return;
  case PGA_T_NIL:
    pga_tb_nil(tb);
    return;
  case PGA_T_LIST:
    CHECK(pga_term_list_length(t, &n) == 0 && n > 0);
    pga_tb_list(tb, n);
    CHECK(pga_term_iter_init(&it, t) == 0);
    for (i = 0; pga_term_iter_next(&it, &a); i++)
      rebuild(tb, &a, depth);
    CHECK(i == n);
    pga_term_iter_tail(&it, &b);
    CHECK(b.buf != NULL);
    rebuild(tb, &b, depth);
    return;
  case PGA_T_MAP:
    CHECK(pga_term_map_size(t, &n) == 0);
    if (n > MAX_INDEXED)
      break;
    pga_tb_map(tb, n);
    for (i = 0; i < n; i++) {
      CHECK(pga_term_map_pair(t, i, &a, &b) == 0);
      rebuild(tb, &a, depth);
      rebuild(tb, &b, depth);
      CHECK(pga_term_map_get(t, &a, &b) == 0);
    }
    return;
  case PGA_T_PID:
  case PGA_T_REF:
    if (atom_has_nul(t))
      break;
    rebuild_pid_ref(tb, t);
    return;
  case PGA_T_INVALID:
    __builtin_trap(); /* an accepted term has a type */
  default:
    break;
  }
  pga_tb_term(tb, t);
}

static void exercise(const pga_term_t *t) {
  char small[24], *full;
  pga_term_t r;
  pga_tb_t tb;
  size_t n;

  CHECK(pga_term_equal(t, t));

  n = pga_term_format(t, NULL, 0);
  full = malloc(n + 1);
  CHECK(full != NULL);
  CHECK(pga_term_format(t, full, n + 1) == n && strlen(full) == n);
  CHECK(pga_term_format(t, small, sizeof small) == n);
  CHECK(strncmp(small, full, sizeof small - 1) == 0);
  free(full);

  pga__tb_init(&tb, 0);
  rebuild(&tb, t, 0);
  if (pga_tb_error(&tb) == 0) {
    r = pga_tb_data(&tb);
    CHECK(pga_term_view(r.buf, r.len, &r) == 0 && r.len == (size_t)tb.x.index);
    CHECK(pga_term_equal(t, &r) && pga_term_equal(&r, t));
  }
  if (pga_term_type(t) == PGA_T_LIST || pga_term_type(t) == PGA_T_NIL) {
    pga_tb_reset(&tb);
    pga__tb_list_normalized(&tb, t);
    r = pga_tb_data(&tb);
    CHECK(pga_tb_error(&tb) == 0);
    CHECK(pga_term_view(r.buf, r.len, &r) == 0);
    CHECK(pga_term_equal(t, &r));
  }
  pga__tb_destroy(&tb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *buf = (const char *)data;
  pga_term_t t;
  size_t used;

  if (pga_term_view_versioned(buf, size, &t) == 0) {
    CHECK(t.len < size);
    exercise(&t);
  }
  /* The same bytes without a version byte, and a hand-made view over them
   * (readers must stay in bounds on unchecked views too). */
  size_t skipped;
  int skip_rc = pga__term_skip(buf, size, &skipped);

  if (pga__term_check(buf, size, &used) == 0) {
    CHECK(used <= size);
    /* What the checker accepts, the structural skip sizes the same. */
    CHECK(skip_rc == 0 && skipped == used);
  } else {
    CHECK(skip_rc != 0 || skipped <= size);
    pga_term_t raw = {buf, size}, e;
    pga_term_iter_t it;
    char out[64];
    pga_term_format(&raw, out, sizeof out);
    (void)pga_term_type(&raw);
    (void)pga_term_equal(&raw, &raw);
    (void)pga_term_tuple_get(&raw, 1, &e);
    (void)pga_term_map_get_atom(&raw, "a", &e);
    if (pga_term_iter_init(&it, &raw) == 0) {
      while (pga_term_iter_next(&it, &e))
        ;
      pga_term_iter_tail(&it, &e);
    }
  }
  return 0;
}
