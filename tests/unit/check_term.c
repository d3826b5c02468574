/* Unit tests for the term layer: checker, readers, equality, printer and
 * builder, against golden bytes and output from a real OTP 25 node
 * (tests/data/term, made by tests/data/term/gen.escript).
 *
 * Run under valgrind with CK_FORK=no: every test frees what it allocates,
 * and the truncation and mutation tests copy each input into a buffer of
 * exactly its size, so any read past the end is reported. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pga/term.h"
#include "term/term.h"
#include "check_main.h"

#ifndef PGA_TEST_DATA_DIR
#define PGA_TEST_DATA_DIR "tests/data"
#endif

/* ---- Goldens ---- */

typedef struct golden_s {
  char *name;
  char *expect;          /* ok | ebadterm | etoobig */
  int exact;             /* the rebuild gives the same bytes */
  char *fmt;             /* expected pga_term_format output, or NULL */
  unsigned char *bytes;  /* version byte included */
  size_t len;
} golden_t;

static golden_t *goldens;
static size_t ngoldens;

static const char *data_dir(void) {
  const char *d = getenv("PGA_TEST_DATA_DIR");

  return d != NULL && *d != '\0' ? d : PGA_TEST_DATA_DIR;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t cap = 0, n = 0, r;

  ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
  do {
    if (n + 4096 > cap) {
      cap = cap * 2 + 4096;
      buf = realloc(buf, cap + 1);
      ck_assert_ptr_nonnull(buf);
    }
    r = fread(buf + n, 1, cap - n, f);
    n += r;
  } while (r > 0);
  fclose(f);
  buf[n] = '\0';
  *len = n;
  return buf;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

static char *dup_str(const char *s) {
  char *d = strdup(s);

  ck_assert_ptr_nonnull(d);
  return d;
}

/* Parses one .term file ("key: value" lines). */
static void golden_parse(golden_t *g, char *text) {
  size_t cap = 0;
  char *line, *save = NULL;

  memset(g, 0, sizeof *g);
  for (line = strtok_r(text, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    char *v = strstr(line, ": ");
    if (line[0] == '#' || v == NULL)
      continue;
    *v = '\0';
    v += 2;
    if (strcmp(line, "name") == 0) {
      g->name = dup_str(v);
    } else if (strcmp(line, "expect") == 0) {
      g->expect = dup_str(v);
    } else if (strcmp(line, "rebuild") == 0) {
      g->exact = strcmp(v, "exact") == 0;
    } else if (strcmp(line, "fmt") == 0) {
      g->fmt = dup_str(v);
    } else if (strcmp(line, "hex") == 0) {
      size_t k = strlen(v) / 2, i;
      if (g->len + k > cap) {
        cap = (g->len + k) * 2;
        g->bytes = realloc(g->bytes, cap);
        ck_assert_ptr_nonnull(g->bytes);
      }
      for (i = 0; i < k; i++) {
        int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);
        ck_assert(hi >= 0 && lo >= 0);
        g->bytes[g->len++] = (unsigned char)(hi << 4 | lo);
      }
    }
  }
  ck_assert_ptr_nonnull(g->name);
  ck_assert_ptr_nonnull(g->expect);
  ck_assert_uint_gt(g->len, 1);
}

static int golden_cmp(const void *a, const void *b) {
  return strcmp(((const golden_t *)a)->name, ((const golden_t *)b)->name);
}

static void goldens_load(void) {
  char path[4096];
  struct dirent *e;
  DIR *d;

  if (goldens != NULL)
    return;
  snprintf(path, sizeof path, "%s/term", data_dir());
  d = opendir(path);
  ck_assert_msg(d != NULL, "opendir %s: %s", path, strerror(errno));
  while ((e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name), len;
    char *text;
    if (n < 6 || strcmp(e->d_name + n - 5, ".term") != 0)
      continue;
    snprintf(path, sizeof path, "%s/term/%s", data_dir(), e->d_name);
    text = slurp(path, &len);
    goldens = realloc(goldens, (ngoldens + 1) * sizeof *goldens);
    ck_assert_ptr_nonnull(goldens);
    golden_parse(&goldens[ngoldens++], text);
    free(text);
  }
  closedir(d);
  ck_assert_uint_ge(ngoldens, 80);
  qsort(goldens, ngoldens, sizeof *goldens, golden_cmp);
}

static void goldens_free(void) {
  size_t i;

  for (i = 0; i < ngoldens; i++) {
    free(goldens[i].name);
    free(goldens[i].expect);
    free(goldens[i].fmt);
    free(goldens[i].bytes);
  }
  free(goldens);
  goldens = NULL;
  ngoldens = 0;
}

static const golden_t *golden(const char *name) {
  size_t i;

  goldens_load();
  for (i = 0; i < ngoldens; i++) {
    if (strcmp(goldens[i].name, name) == 0)
      return &goldens[i];
  }
  ck_abort_msg("no golden %s", name);
  return NULL;
}

static int golden_ok(const golden_t *g) { return strcmp(g->expect, "ok") == 0; }

/* The golden's term without its version byte. */
static pga_term_t golden_view(const char *name) {
  const golden_t *g = golden(name);
  pga_term_t t;

  ck_assert_int_eq(pga_term_view_versioned((const char *)g->bytes, g->len, &t),
                   0);
  return t;
}

/* A view of literal bytes (the test keeps them alive). */
static int view_of(const void *bytes, size_t len, pga_term_t *t) {
  return pga_term_view(bytes, len, t);
}

/* ---- Helpers ---- */

/* Rebuilds t through the public readers and the builder; below 256
 * levels it copies, to keep this recursion's C stack small. */
static void rebuild_at(pga_tb_t *tb, const pga_term_t *t, int depth);

static void rebuild(pga_tb_t *tb, const pga_term_t *t) { rebuild_at(tb, t, 0); }

/* Atoms, out of line: their buffer stays off the recursion's frames. */
static __attribute__((noinline)) void rebuild_atom(pga_tb_t *tb,
                                                   const pga_term_t *t,
                                                   const pga__head_t *h) {
  char atom[PGA_ATOM_BUF];

  if (memchr(h->atom.s, 0, h->atom.len) != NULL) { /* C strings stop there */
    pga_tb_term(tb, t);
    return;
  }
  ck_assert_int_eq(pga_term_get_atom(t, atom, sizeof atom), 0);
  pga_tb_atom(tb, atom);
}

static __attribute__((noinline)) void rebuild_pid_ref(pga_tb_t *tb,
                                                      const pga_term_t *t,
                                                      const pga__head_t *h) {
  erlang_pid pid;
  erlang_ref ref;

  if (memchr(h->atom.s, 0, h->atom.len) != NULL) {
    pga_tb_term(tb, t);
  } else if (h->type == PGA_T_PID) {
    ck_assert_int_eq(pga__term_get_pid(t, &pid), 0);
    pga__tb_pid(tb, &pid);
  } else {
    ck_assert_int_eq(pga__term_get_ref(t, &ref), 0);
    pga__tb_ref(tb, &ref);
  }
}

static void rebuild_at(pga_tb_t *tb, const pga_term_t *t, int depth) {
  pga__head_t h;
  pga_term_t a, b;
  pga_term_iter_t it;
  const char *data;
  size_t n, i;
  int64_t v;
  double d;

  ck_assert_int_eq(pga__term_head(t->buf, t->len, &h), 0);
  if (depth > 256) {
    pga_tb_term(tb, t);
    return;
  }
  depth++;
  switch (pga_term_type(t)) {
  case PGA_T_INTEGER:
    ck_assert_int_eq(pga_term_get_int64(t, &v), 0);
    pga_tb_int(tb, v);
    break;
  case PGA_T_FLOAT:
    ck_assert_int_eq(pga_term_get_double(t, &d), 0);
    pga_tb_double(tb, d);
    break;
  case PGA_T_ATOM:
    rebuild_atom(tb, t, &h);
    break;
  case PGA_T_BINARY:
    ck_assert_int_eq(pga_term_get_binary(t, &data, &n), 0);
    pga_tb_binary(tb, data, n);
    break;
  case PGA_T_TUPLE:
    ck_assert_int_eq(pga_term_tuple_arity(t, &n), 0);
    pga_tb_tuple(tb, n);
    for (i = 0; i < n; i++) {
      ck_assert_int_eq(pga_term_tuple_get(t, i, &a), 0);
      rebuild_at(tb, &a, depth);
    }
    break;
  case PGA_T_NIL:
    pga_tb_nil(tb);
    break;
  case PGA_T_LIST:
    ck_assert_int_eq(pga_term_list_length(t, &n), 0);
    pga_tb_list(tb, n);
    ck_assert_int_eq(pga_term_iter_init(&it, t), 0);
    while (pga_term_iter_next(&it, &a))
      rebuild_at(tb, &a, depth);
    pga_term_iter_tail(&it, &b);
    rebuild_at(tb, &b, depth);
    break;
  case PGA_T_MAP:
    ck_assert_int_eq(pga_term_map_size(t, &n), 0);
    pga_tb_map(tb, n);
    for (i = 0; i < n; i++) {
      ck_assert_int_eq(pga_term_map_pair(t, i, &a, &b), 0);
      rebuild_at(tb, &a, depth);
      rebuild_at(tb, &b, depth);
    }
    break;
  case PGA_T_PID:
  case PGA_T_REF:
    rebuild_pid_ref(tb, t, &h);
    break;
  default: /* bignums, bitstrings, ports, funs: copied as they are */
    pga_tb_term(tb, t);
    break;
  }
}

static char *format_new(const pga_term_t *t) {
  size_t n = pga_term_format(t, NULL, 0);
  char *s = malloc(n + 1);

  ck_assert_ptr_nonnull(s);
  ck_assert_uint_eq(pga_term_format(t, s, n + 1), n);
  ck_assert_uint_eq(strlen(s), n);
  return s;
}

static void assert_format(const pga_term_t *t, const char *want) {
  char *s = format_new(t);

  ck_assert_str_eq(s, want);
  free(s);
}

/* Builds with a fresh builder and compares with the golden's bytes. */
static void assert_bytes(pga_tb_t *tb, const char *name) {
  const golden_t *g = golden(name);
  pga_term_t t = pga_tb_data(tb);

  ck_assert_int_eq(pga_tb_error(tb), 0);
  ck_assert_uint_eq(t.len, g->len - 1);
  ck_assert_mem_eq(t.buf, g->bytes + 1, t.len);
}

/* n nested one-element lists around [] (which then sits at level n). */
static void build_nested_lists(pga_tb_t *tb, size_t n) {
  size_t i;

  for (i = 0; i < n; i++)
    pga_tb_list(tb, 1);
  pga_tb_nil(tb);
  for (i = 0; i < n; i++)
    pga_tb_nil(tb);
}

/* Deterministic xorshift for the mutation test. */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* Everything a reader may do with an accepted term: it must not crash, and
 * a rebuild must give an equal term. */
static void exercise(const pga_term_t *t) {
  char small[16], *full;
  pga_tb_t *tb = pga_tb_new(0);
  pga_term_t r;
  size_t n;

  ck_assert_ptr_nonnull(tb);
  ck_assert_int_eq(pga_term_equal(t, t), 1);
  full = format_new(t);
  n = pga_term_format(t, small, sizeof small);
  ck_assert_uint_eq(n, strlen(full));
  ck_assert_int_eq(strncmp(small, full, sizeof small - 1), 0);
  free(full);
  rebuild(tb, t);
  if (pga_tb_error(tb) == 0) {
    r = pga_tb_data(tb);
    ck_assert_int_eq(pga_term_view(r.buf, r.len, &r), 0);
    ck_assert_msg(pga_term_equal(t, &r), "rebuild differs");
  }
  if (pga_term_type(t) == PGA_T_LIST || pga_term_type(t) == PGA_T_NIL) {
    pga_tb_reset(tb);
    pga__tb_list_normalized(tb, t);
    r = pga_tb_data(tb);
    ck_assert_int_eq(pga_tb_error(tb), 0);
    ck_assert_int_eq(pga_term_view(r.buf, r.len, &r), 0);
    ck_assert(pga_term_equal(t, &r));
  }
  pga_tb_free(tb);
}

/* ---- Goldens: view, format, rebuild ---- */

START_TEST(term_golden_view_matches_expectation) {
  size_t i;

  goldens_load();
  for (i = 0; i < ngoldens; i++) {
    const golden_t *g = &goldens[i];
    pga_term_t t;
    int rc = pga_term_view_versioned((const char *)g->bytes, g->len, &t);
    int want = golden_ok(g)                        ? 0
               : strcmp(g->expect, "etoobig") == 0 ? PGA_ETOOBIG
                                                   : PGA_EBADTERM;
    ck_assert_msg(rc == want, "%s: got %d, want %d", g->name, rc, want);
    if (rc == 0) {
      ck_assert_ptr_eq(t.buf, (const char *)g->bytes + 1);
      ck_assert_uint_eq(t.len, g->len - 1);
    }
  }
}
END_TEST

START_TEST(term_golden_format_matches_beam) {
  size_t i;

  goldens_load();
  for (i = 0; i < ngoldens; i++) {
    const golden_t *g = &goldens[i];
    pga_term_t t;
    char *s;
    if (!golden_ok(g))
      continue;
    ck_assert_ptr_nonnull(g->fmt);
    ck_assert_int_eq(
        pga_term_view_versioned((const char *)g->bytes, g->len, &t), 0);
    s = format_new(&t);
    ck_assert_msg(strcmp(s, g->fmt) == 0, "%s:\n got %s\nwant %s", g->name, s,
                  g->fmt);
    free(s);
  }
}
END_TEST

START_TEST(term_golden_rebuild_is_equal_and_exact_when_beam_encoded) {
  size_t i;

  goldens_load();
  for (i = 0; i < ngoldens; i++) {
    const golden_t *g = &goldens[i];
    pga_tb_t *tb;
    pga_term_t t, r;
    if (!golden_ok(g))
      continue;
    ck_assert_int_eq(
        pga_term_view_versioned((const char *)g->bytes, g->len, &t), 0);
    tb = pga_tb_new(0);
    rebuild(tb, &t);
    ck_assert_msg(pga_tb_error(tb) == 0, "%s: builder error %d", g->name,
                  pga_tb_error(tb));
    r = pga_tb_data(tb);
    ck_assert_int_eq(pga_term_view(r.buf, r.len, &r), 0);
    ck_assert_msg(pga_term_equal(&t, &r), "%s: rebuild not equal", g->name);
    ck_assert_msg(pga_term_equal(&r, &t), "%s: equality not symmetric",
                  g->name);
    if (g->exact)
      ck_assert_msg(r.len == t.len && memcmp(r.buf, t.buf, t.len) == 0,
                    "%s: rebuild bytes differ", g->name);
    pga_tb_free(tb);
  }
}
END_TEST

/* The prefix lengths to try: all of them, except for the few goldens past
 * 4 KiB (the depth-limit ones), where checking each prefix is quadratic:
 * there the first and last 256 and 64 evenly spaced ones between. */
static size_t next_prefix(size_t k, size_t len) {
  size_t stride = len / 64;

  if (len <= 4096 || k < 256 || k + 256 >= len)
    return k + 1;
  return k + stride < len - 256 ? k + stride : len - 256;
}

START_TEST(term_golden_truncations_are_rejected) {
  size_t i, k;

  goldens_load();
  for (i = 0; i < ngoldens; i++) {
    const golden_t *g = &goldens[i];
    for (k = 0; k < g->len; k = next_prefix(k, g->len)) {
      /* Exactly k bytes, so a read past them is a valgrind/ASan error. */
      char *buf = malloc(k > 0 ? k : 1);
      pga_term_t t;
      size_t used;
      ck_assert_ptr_nonnull(buf);
      memcpy(buf, g->bytes, k);
      ck_assert_msg(pga_term_view_versioned(buf, k, &t) != 0, "%s: %zu bytes",
                    g->name, k);
      if (k > 0) {
        memmove(buf, g->bytes + 1, k - 1);
        ck_assert_msg(pga__term_check(buf, k - 1, &used) != 0,
                      "%s: %zu bytes", g->name, k - 1);
      }
      free(buf);
    }
  }
}
END_TEST

/* The structural skip sizes every golden as the checker does, and no
 * prefix of one reads past its end (each prefix is its own allocation). */
START_TEST(term_skip_agrees_with_check_on_goldens_and_prefixes) {
  size_t i, k, used, skipped;

  goldens_load();
  for (i = 0; i < ngoldens; i++) {
    const golden_t *g = &goldens[i];
    const char *term = (const char *)g->bytes + 1;
    if (pga__term_check(term, g->len - 1, &used) != 0)
      continue; /* the goldens the checker refuses on purpose */
    ck_assert_msg(pga__term_skip(term, g->len - 1, &skipped) == 0 &&
                      skipped == used,
                  "%s", g->name);
    for (k = 0; k + 1 < g->len; k = next_prefix(k, g->len - 1)) {
      char *buf = malloc(k > 0 ? k : 1);
      ck_assert_ptr_nonnull(buf);
      memcpy(buf, g->bytes + 1, k);
      ck_assert_msg(pga__term_skip(buf, k, &skipped) != 0, "%s: %zu bytes",
                    g->name, k);
      free(buf);
    }
  }
}
END_TEST

/* The skip trusts contents: a term the checker refuses for what it holds
 * (bad UTF-8 atom, NaN) is still sized; one whose counts run past the
 * bytes is refused. */
START_TEST(term_skip_sizes_by_structure_only) {
  static const struct {
    const char *name;
    const char *bytes;
    size_t len;
    int ok;
    size_t used;
  } cases[] = {
      {"bad utf-8 atom", "\x77\x02\xC3\x28", 4, 1, 4},
      {"NaN float", "\x46\x7F\xF8\0\0\0\0\0\0", 9, 1, 9},
      {"tuple of two nils", "\x68\x02\x6A\x6A", 4, 1, 4},
      {"list with tail", "\x6C\0\0\0\x01\x61\x01\x6A", 8, 1, 8},
      {"map claiming 2^32-1 pairs", "\x74\xFF\xFF\xFF\xFF\x6A", 6, 0, 0},
      {"empty LIST_EXT", "\x6C\0\0\0\0\x6A", 6, 0, 0},
      {"binary past the end", "\x6D\0\0\0\x09\x01", 6, 0, 0},
      {"unknown tag", "\x01", 1, 0, 0},
      {"atom cache ref", "\x52\x00", 2, 0, 0},
  };
  size_t i, used;

  for (i = 0; i < sizeof cases / sizeof *cases; i++) {
    int rc = pga__term_skip(cases[i].bytes, cases[i].len, &used);
    ck_assert_msg((rc == 0) == cases[i].ok, "%s: rc %d", cases[i].name, rc);
    if (cases[i].ok)
      ck_assert_msg(used == cases[i].used, "%s: %zu", cases[i].name, used);
  }
}
END_TEST

START_TEST(term_golden_mutations_never_crash) {
  size_t i, m, k;

  goldens_load();
  for (i = 0; i < ngoldens; i++) {
    const golden_t *g = &goldens[i];
    /* The big goldens get fewer rounds: valgrind time, not coverage. */
    size_t rounds = g->len > 2000 ? 20 : 300;
    for (m = 0; m < rounds; m++) {
      char *buf = malloc(g->len);
      size_t edits = 1 + rng() % 4;
      pga_term_t t;
      ck_assert_ptr_nonnull(buf);
      memcpy(buf, g->bytes, g->len);
      for (k = 0; k < edits; k++) {
        size_t at = 1 + rng() % (g->len - 1);
        switch (rng() % 4) {
        case 0: buf[at] = (char)rng(); break;
        case 1: buf[at] ^= (char)(1u << (rng() % 8)); break;
        case 2: buf[at] = (char)0xFF; break;
        default: buf[at] = 0; break;
        }
      }
      if (pga_term_view_versioned(buf, g->len, &t) == 0) {
        ck_assert_uint_le(t.len, g->len - 1);
        exercise(&t);
      }
      free(buf);
    }
  }
}
END_TEST

START_TEST(term_golden_format_truncates_safely) {
  size_t i, k;

  goldens_load();
  for (i = 0; i < ngoldens; i++) {
    const golden_t *g = &goldens[i];
    pga_term_t t;
    char *full;
    size_t n;
    if (!golden_ok(g) || g->len > 1000)
      continue;
    ck_assert_int_eq(
        pga_term_view_versioned((const char *)g->bytes, g->len, &t), 0);
    full = format_new(&t);
    n = strlen(full);
    for (k = 1; k <= n; k++) {
      char *out = malloc(k);
      ck_assert_ptr_nonnull(out);
      ck_assert_uint_eq(pga_term_format(&t, out, k), n);
      ck_assert_uint_eq(strlen(out), k - 1);
      ck_assert_int_eq(memcmp(out, full, k - 1), 0);
      free(out);
    }
    free(full);
  }
}
END_TEST

START_TEST(term_format_float_matches_beam_short) {
  char path[4096], *text, *line, *save = NULL, out[64];
  size_t len, count = 0;

  snprintf(path, sizeof path, "%s/term/floats_short.txt", data_dir());
  text = slurp(path, &len);
  for (line = strtok_r(text, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    unsigned char b[9] = {70};
    pga_term_t t;
    int i;
    if (line[0] == '#')
      continue;
    for (i = 0; i < 8; i++)
      b[1 + i] = (unsigned char)(hexval(line[2 * i]) << 4 |
                                 hexval(line[2 * i + 1]));
    ck_assert_int_eq(view_of(b, sizeof b, &t), 0);
    pga_term_format(&t, out, sizeof out);
    ck_assert_msg(strcmp(out, line + 17) == 0, "%.16s: got %s, want %s", line,
                  out, line + 17);
    count++;
  }
  ck_assert_uint_gt(count, 3000);
  free(text);
}
END_TEST

/* ---- Checker: what it refuses ---- */

START_TEST(term_view_rejects_missing_version_byte) {
  static const unsigned char b[] = {97, 1};
  pga_term_t t;

  ck_assert_int_eq(pga_term_view_versioned((const char *)b, sizeof b, &t),
                   PGA_EBADTERM);
  ck_assert_int_eq(pga_term_view_versioned(NULL, 0, &t), PGA_EBADTERM);
  ck_assert_int_eq(pga_term_view(NULL, 0, &t), PGA_EBADTERM);
}
END_TEST

START_TEST(term_view_keeps_trailing_bytes_out_of_the_view) {
  static const unsigned char b[] = {131, 97, 1, 97, 2};
  pga_term_t t;

  ck_assert_int_eq(pga_term_view_versioned((const char *)b, sizeof b, &t), 0);
  ck_assert_uint_eq(t.len, 2);
}
END_TEST

START_TEST(term_check_rejects_unnegotiated_tags) {
  /* compressed (80), atom cache ref (82), LOCAL_EXT (121), NEW_CACHE (78),
   * CACHED_ATOM (67), and a tag that does not exist (0). */
  static const unsigned char tags[] = {80, 82, 121, 78, 67, 0, 255};
  unsigned char b[16];
  size_t i, used;

  for (i = 0; i < sizeof tags; i++) {
    memset(b, 0, sizeof b);
    b[0] = tags[i];
    ck_assert_int_eq(pga__term_check((const char *)b, sizeof b, &used),
                     PGA_EBADTERM);
  }
}
END_TEST

START_TEST(term_check_rejects_truncated_binary) {
  static const unsigned char b[] = {109, 0, 0, 0, 4, 'a', 'b', 'c'};
  size_t used;

  ck_assert_int_eq(pga__term_check((const char *)b, sizeof b, &used),
                   PGA_EBADTERM);
}
END_TEST

START_TEST(term_check_rejects_counts_beyond_the_bytes) {
  static const unsigned char tuple[] = {105, 0xFF, 0xFF, 0xFF, 0xFF, 106};
  static const unsigned char map[] = {116, 0x80, 0, 0, 0, 106, 106};
  static const unsigned char list[] = {108, 0xFF, 0xFF, 0xFF, 0xFF, 106};
  size_t used;

  ck_assert_int_eq(pga__term_check((const char *)tuple, sizeof tuple, &used),
                   PGA_EBADTERM);
  ck_assert_int_eq(pga__term_check((const char *)map, sizeof map, &used),
                   PGA_EBADTERM);
  ck_assert_int_eq(pga__term_check((const char *)list, sizeof list, &used),
                   PGA_EBADTERM);
}
END_TEST

START_TEST(term_check_len_near_size_max_does_not_overflow) {
  /* len is a promise the checker must not turn into arithmetic overflow:
   * only header bytes are read, and sizes are compared, never added to a
   * pointer. */
  static const unsigned char small[] = {97, 7};
  static const unsigned char bin[] = {109, 0xFF, 0xFF, 0xFF, 0xFF};
  static const unsigned char big[] = {111, 0xFF, 0xFF, 0xFF, 0xFF, 0};
  size_t used = 0;

  ck_assert_int_eq(pga__term_check((const char *)small, SIZE_MAX, &used), 0);
  ck_assert_uint_eq(used, 2);
  ck_assert_int_eq(pga__term_check((const char *)small, SIZE_MAX - 1, &used),
                   0);
  ck_assert_int_eq(pga__term_check((const char *)bin, SIZE_MAX, &used), 0);
  ck_assert_uint_eq(used, (size_t)5 + 0xFFFFFFFFu);
  ck_assert_int_eq(pga__term_check((const char *)big, SIZE_MAX, &used),
                   PGA_ETOOBIG);
  ck_assert_int_eq(pga__term_check((const char *)bin, sizeof bin, &used),
                   PGA_EBADTERM);
}
END_TEST

START_TEST(term_check_rejects_bignum_over_cap) {
  size_t n = PGA__TERM_MAX_BIG + 1, used;
  unsigned char *b = calloc(1, 6 + n);

  ck_assert_ptr_nonnull(b);
  b[0] = 111;
  b[1] = (unsigned char)(n >> 24);
  b[2] = (unsigned char)(n >> 16);
  b[3] = (unsigned char)(n >> 8);
  b[4] = (unsigned char)n;
  b[6 + n - 1] = 1;
  ck_assert_int_eq(pga__term_check((const char *)b, 6 + n, &used),
                   PGA_ETOOBIG);
  n--; /* at the cap: accepted */
  b[4] = (unsigned char)n;
  b[1] = (unsigned char)(n >> 24);
  b[2] = (unsigned char)(n >> 16);
  b[3] = (unsigned char)(n >> 8);
  ck_assert_int_eq(pga__term_check((const char *)b, 6 + n, &used), 0);
  free(b);
}
END_TEST

START_TEST(term_check_rejects_atom_over_255_characters) {
  unsigned char b[3 + 256 * 3];
  size_t used, i;

  /* 256 Latin-1 characters. */
  b[0] = 100, b[1] = 1, b[2] = 0;
  memset(b + 3, 'a', 256);
  ck_assert_int_eq(pga__term_check((const char *)b, 3 + 256, &used),
                   PGA_EBADTERM);
  b[2] = 255; /* 255: fine */
  b[1] = 0;
  ck_assert_int_eq(pga__term_check((const char *)b, 3 + 255, &used), 0);
  /* 256 three-byte UTF-8 characters (768 bytes, under the 1020 limit). */
  b[0] = 118, b[1] = 3, b[2] = 0;
  for (i = 0; i < 256; i++)
    memcpy(b + 3 + 3 * i, "\xe6\x97\xa5", 3);
  ck_assert_int_eq(pga__term_check((const char *)b, sizeof b, &used),
                   PGA_EBADTERM);
}
END_TEST

START_TEST(term_check_rejects_invalid_utf8_atom) {
  static const unsigned char bad[][5] = {
      {119, 2, 0xC3, 0x28},       /* bad continuation */
      {119, 2, 0xC0, 0x80},       /* overlong NUL */
      {119, 3, 0xED, 0xA0, 0x80}, /* surrogate U+D800 */
      {119, 1, 0x80},             /* lone continuation */
      {119, 2, 0xE6, 0x97},       /* cut sequence */
  };
  static const unsigned char good[] = {119, 2, 0xC3, 0xA9};
  size_t i, used;

  for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_int_eq(pga__term_check((const char *)bad[i], 2u + bad[i][1],
                                     &used),
                     PGA_EBADTERM);
  ck_assert_int_eq(pga__term_check((const char *)good, sizeof good, &used), 0);
}
END_TEST

START_TEST(term_check_rejects_bad_bitstrings) {
  static const unsigned char zero_bits[] = {77, 0, 0, 0, 1, 0, 5};
  static const unsigned char nine_bits[] = {77, 0, 0, 0, 1, 9, 5};
  static const unsigned char empty[] = {77, 0, 0, 0, 0, 0};
  static const unsigned char ok[] = {77, 0, 0, 0, 1, 3, 0xE0};
  size_t used;

  ck_assert_int_eq(pga__term_check((const char *)zero_bits, 7, &used),
                   PGA_EBADTERM);
  ck_assert_int_eq(pga__term_check((const char *)nine_bits, 7, &used),
                   PGA_EBADTERM);
  ck_assert_int_eq(pga__term_check((const char *)empty, 6, &used),
                   PGA_EBADTERM);
  ck_assert_int_eq(pga__term_check((const char *)ok, 7, &used), 0);
}
END_TEST

START_TEST(term_check_rejects_nonfinite_floats) {
  static const unsigned char nan[] = {70, 0x7F, 0xF8, 0, 0, 0, 0, 0, 0};
  static const unsigned char inf[] = {70, 0xFF, 0xF0, 0, 0, 0, 0, 0, 0};
  size_t used;

  ck_assert_int_eq(pga__term_check((const char *)nan, 9, &used), PGA_EBADTERM);
  ck_assert_int_eq(pga__term_check((const char *)inf, 9, &used), PGA_EBADTERM);
}
END_TEST

START_TEST(term_check_rejects_malformed_old_floats) {
  /* As the BEAM: digits, a point, digits, an optional exponent, NULs. */
  static const char *const bad[] = {"15", " 1.5", "1.5x", "inf", "1.", ".5",
                                    "1.5e", "nan", "1.5e999"};
  unsigned char b[32];
  size_t i, used;

  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    memset(b, 0, sizeof b);
    b[0] = 99;
    memcpy(b + 1, bad[i], strlen(bad[i]));
    ck_assert_msg(pga__term_check((const char *)b, sizeof b, &used) ==
                      PGA_EBADTERM,
                  "%s", bad[i]);
  }
  memset(b + 1, '1', 31); /* no NUL in the 31 bytes */
  b[2] = '.';
  ck_assert_int_eq(pga__term_check((const char *)b, sizeof b, &used),
                   PGA_EBADTERM);
}
END_TEST

START_TEST(term_check_rejects_reference_word_counts) {
  /* NEWER_REFERENCE_EXT with 0 and 6 words; 1..5 are fine. */
  unsigned char b[3 + 3 + 4 + 24] = {90, 0, 0, 119, 1, 'a'};
  size_t used;

  ck_assert_int_eq(pga__term_check((const char *)b, 3 + 3 + 4, &used),
                   PGA_EBADTERM);
  b[2] = 6;
  ck_assert_int_eq(pga__term_check((const char *)b, sizeof b, &used),
                   PGA_EBADTERM);
  b[2] = 5;
  ck_assert_int_eq(pga__term_check((const char *)b, 3 + 3 + 4 + 20, &used), 0);
}
END_TEST

START_TEST(term_check_rejects_pid_without_atom_node) {
  static const unsigned char b[] = {88, 97, 1, 0, 0, 0, 1, 0, 0, 0, 0,
                                    0, 0, 0, 0};
  size_t used;

  ck_assert_int_eq(pga__term_check((const char *)b, sizeof b, &used),
                   PGA_EBADTERM);
}
END_TEST

START_TEST(term_check_rejects_fun_size_mismatch) {
  const golden_t *g = golden("fun_local");
  unsigned char *b = malloc(g->len);
  size_t used;

  ck_assert_ptr_nonnull(b);
  memcpy(b, g->bytes + 1, g->len - 1);
  ck_assert_int_eq(pga__term_check((const char *)b, g->len - 1, &used), 0);
  b[4]++; /* Size one more than the bytes */
  ck_assert_int_eq(pga__term_check((const char *)b, g->len - 1, &used),
                   PGA_EBADTERM);
  free(b);
}
END_TEST

START_TEST(term_check_rejects_empty_list_ext) {
  static const unsigned char b[] = {108, 0, 0, 0, 0, 106};
  size_t used;

  ck_assert_int_eq(pga__term_check((const char *)b, sizeof b, &used),
                   PGA_EBADTERM);
}
END_TEST

START_TEST(term_check_accepts_depth_at_limit) {
  pga_tb_t *tb = pga_tb_new(0);
  pga_term_t t = golden_view("depth_limit_tuples");

  ck_assert_uint_eq(t.len, 2 * (PGA_TERM_MAX_DEPTH + 1));
  build_nested_lists(tb, PGA_TERM_MAX_DEPTH);
  t = pga_tb_data(tb);
  ck_assert_int_eq(pga_term_view(t.buf, t.len, &t), 0);
  pga_tb_free(tb);
}
END_TEST

START_TEST(term_check_rejects_depth_above_limit) {
  pga_tb_t *tb = pga_tb_new(0);
  pga_term_t t;

  build_nested_lists(tb, PGA_TERM_MAX_DEPTH + 1);
  t = pga_tb_data(tb);
  ck_assert_int_eq(pga_term_view(t.buf, t.len, &t), PGA_ETOOBIG);
  pga_tb_free(tb);
}
END_TEST

START_TEST(term_check_counts_list_tails_at_the_list_level) {
  /* 100000 one-element cells chained by their tails, as ei users build
   * lists of unknown length: long, but not deep. */
  pga_tb_t *tb = pga_tb_new(0);
  pga_term_t t;
  size_t i, n;

  for (i = 0; i < 100000; i++) {
    pga_tb_list(tb, 1);
    pga_tb_int(tb, (int64_t)i);
  }
  pga_tb_nil(tb);
  t = pga_tb_data(tb);
  ck_assert_int_eq(pga_term_view(t.buf, t.len, &t), 0);
  ck_assert_int_eq(pga_term_list_length(&t, &n), 0);
  ck_assert_uint_eq(n, 100000);
  pga_tb_free(tb);
}
END_TEST

/* ---- Readers ---- */

START_TEST(term_type_reports_each_type) {
  static const struct {
    const char *golden;
    pga_term_type_t type;
  } cases[] = {
      {"int_42", PGA_T_INTEGER},         {"int_int64_min", PGA_T_INTEGER},
      {"big_2pow64", PGA_T_BIGINT},      {"big_2pow63", PGA_T_BIGINT},
      {"float_1_5", PGA_T_FLOAT},        {"float_old", PGA_T_FLOAT},
      {"atom_utf8", PGA_T_ATOM},         {"atom_latin1", PGA_T_ATOM},
      {"binary_text", PGA_T_BINARY},     {"bitstring_3bits", PGA_T_BITSTRING},
      {"tuple_ok", PGA_T_TUPLE},         {"tuple_large", PGA_T_TUPLE},
      {"list_nil", PGA_T_NIL},           {"list_string_empty", PGA_T_NIL},
      {"list_string", PGA_T_LIST},       {"list_improper", PGA_T_LIST},
      {"map_small", PGA_T_MAP},          {"pid", PGA_T_PID},
      {"pid_old", PGA_T_PID},            {"port", PGA_T_PORT},
      {"port_v4", PGA_T_PORT},           {"ref3", PGA_T_REF},
      {"ref_old", PGA_T_REF},            {"fun_local", PGA_T_FUN},
      {"fun_export", PGA_T_FUN},         {"fun_old", PGA_T_FUN},
  };
  pga_term_t bad = {"\x52\x01", 2};
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    pga_term_t t = golden_view(cases[i].golden);
    ck_assert_msg(pga_term_type(&t) == cases[i].type, "%s", cases[i].golden);
  }
  ck_assert_int_eq(pga_term_type(&bad), PGA_T_INVALID);
}
END_TEST

START_TEST(term_get_int64_reads_beam_boundaries) {
  static const struct {
    const char *golden;
    int64_t v;
  } cases[] = {
      {"int_zero", 0},
      {"int_255", 255},
      {"int_256", 256},
      {"int_neg1", -1},
      {"int_int32_max", INT32_MAX},
      {"int_int32_min", INT32_MIN},
      {"int_int32_max_plus1", (int64_t)INT32_MAX + 1},
      {"int_int32_min_minus1", (int64_t)INT32_MIN - 1},
      {"int_int64_max", INT64_MAX},
      {"int_int64_min", INT64_MIN},
  };
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    pga_term_t t = golden_view(cases[i].golden);
    int64_t v;
    ck_assert_int_eq(pga_term_get_int64(&t, &v), 0);
    ck_assert_msg(v == cases[i].v, "%s", cases[i].golden);
  }
}
END_TEST

START_TEST(term_get_int64_rejects_bignums_with_erange) {
  static const char *const names[] = {"big_2pow64", "big_neg_2pow64",
                                      "big_uint64_max", "big_2pow63",
                                      "big_neg_2pow63_minus1", "big_hex"};
  pga_term_t t = golden_view("atom_plain");
  int64_t v;
  size_t i;

  for (i = 0; i < sizeof names / sizeof names[0]; i++) {
    pga_term_t b = golden_view(names[i]);
    ck_assert_int_eq(pga_term_get_int64(&b, &v), PGA_ERANGE);
  }
  ck_assert_int_eq(pga_term_get_int64(&t, &v), PGA_ETYPE);
}
END_TEST

START_TEST(term_get_int64_reads_small_big_that_fits) {
  /* Non-canonical: 5 as SMALL_BIG_EXT with a high zero digit. */
  static const unsigned char b[] = {110, 2, 1, 5, 0};
  pga_term_t t;
  int64_t v;

  ck_assert_int_eq(view_of(b, sizeof b, &t), 0);
  ck_assert_int_eq(pga_term_type(&t), PGA_T_INTEGER);
  ck_assert_int_eq(pga_term_get_int64(&t, &v), 0);
  ck_assert_int_eq(v, -5);
}
END_TEST

START_TEST(term_get_double_reads_old_and_new_floats) {
  pga_term_t a = golden_view("float_old"), b = golden_view("float_1_5");
  pga_term_t c = golden_view("float_old_neg");
  double x, y;

  ck_assert_int_eq(pga_term_get_double(&a, &x), 0);
  ck_assert_int_eq(pga_term_get_double(&b, &y), 0);
  ck_assert(x == 1.5 && y == 1.5);
  ck_assert_int_eq(pga_term_get_double(&c, &x), 0);
  ck_assert(x == -2.5e-10);
  ck_assert(pga_term_equal(&a, &b));
}
END_TEST

START_TEST(term_get_atom_converts_latin1_to_utf8) {
  pga_term_t l = golden_view("atom_latin1"), u = golden_view("atom_utf8");
  char a[PGA_ATOM_BUF], b[PGA_ATOM_BUF];

  ck_assert_int_eq(pga_term_get_atom(&l, a, sizeof a), 0);
  ck_assert_int_eq(pga_term_get_atom(&u, b, sizeof b), 0);
  ck_assert_str_eq(a, "h\xc3\xa9llo");
  ck_assert_str_eq(b, "h\xc3\xa9llo");
  ck_assert(pga_term_equal(&l, &u));
}
END_TEST

START_TEST(term_get_atom_reads_longest_cjk_atom) {
  pga_term_t t = golden_view("atom_255_cjk");
  char a[PGA_ATOM_BUF];

  ck_assert_int_eq(pga_term_get_atom(&t, a, sizeof a), 0);
  ck_assert_uint_eq(strlen(a), 255 * 3);
  ck_assert_int_eq(pga_term_get_atom(&t, a, 255 * 3), PGA_ETOOBIG);
}
END_TEST

START_TEST(term_is_atom_matches_utf8_name) {
  pga_term_t c = golden_view("atom_cjk"), l = golden_view("atom_latin1");
  pga_term_t n = golden_view("int_42");

  ck_assert_int_eq(pga_term_is_atom(&c, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"),
                   1);
  ck_assert_int_eq(pga_term_is_atom(&c, "\xe6\x97\xa5"), 0);
  ck_assert_int_eq(pga_term_is_atom(&l, "h\xc3\xa9llo"), 1);
  ck_assert_int_eq(pga_term_is_atom(&l, "hello"), 0);
  ck_assert_int_eq(pga_term_is_atom(&n, "42"), 0);
}
END_TEST

START_TEST(term_get_binary_gives_a_view_and_rejects_bitstrings) {
  pga_term_t t = golden_view("binary_utf8"), b = golden_view("bitstring_3bits");
  const char *data;
  size_t len;

  ck_assert_int_eq(pga_term_get_binary(&t, &data, &len), 0);
  ck_assert_uint_eq(len, 6);
  ck_assert_mem_eq(data, "h\xc3\xa9llo", 6);
  ck_assert_ptr_eq(data, t.buf + 5);
  ck_assert_int_eq(pga_term_get_binary(&b, &data, &len), PGA_ETYPE);
}
END_TEST

START_TEST(term_tuple_get_reads_elements_and_rejects_out_of_range) {
  pga_term_t t = golden_view("tuple_large"), e;
  size_t arity;
  int64_t v;

  ck_assert_int_eq(pga_term_tuple_arity(&t, &arity), 0);
  ck_assert_uint_eq(arity, 300);
  ck_assert_int_eq(pga_term_tuple_get(&t, 299, &e), 0);
  ck_assert_int_eq(pga_term_get_int64(&e, &v), 0);
  ck_assert_int_eq(v, 300);
  ck_assert_int_eq(pga_term_tuple_get(&t, 300, &e), PGA_ERANGE);
}
END_TEST

START_TEST(term_iter_yields_string_elements_as_small_ints) {
  pga_term_t t = golden_view("list_string"), e, tail;
  pga_term_iter_t it;
  int64_t v;
  char s[8];
  size_t n = 0;

  ck_assert_int_eq(pga_term_iter_init(&it, &t), 0);
  while (pga_term_iter_next(&it, &e)) {
    ck_assert_int_eq(pga_term_type(&e), PGA_T_INTEGER);
    ck_assert_int_eq(pga_term_get_int64(&e, &v), 0);
    s[n++] = (char)v;
  }
  s[n] = '\0';
  ck_assert_str_eq(s, "hello");
  pga_term_iter_tail(&it, &tail);
  ck_assert_int_eq(pga_term_type(&tail), PGA_T_NIL);
}
END_TEST

START_TEST(term_iter_follows_chained_tails) {
  pga_term_t t = golden_view("list_chain_string"), e, tail;
  pga_term_iter_t it;
  int64_t want[] = {0, 'a', 'b'}, v;
  size_t n = 0;

  ck_assert_int_eq(pga_term_iter_init(&it, &t), 0);
  while (pga_term_iter_next(&it, &e)) {
    ck_assert_uint_lt(n, 3);
    ck_assert_int_eq(pga_term_get_int64(&e, &v), 0);
    ck_assert_int_eq(v, want[n++]);
  }
  ck_assert_uint_eq(n, 3);
  pga_term_iter_tail(&it, &tail);
  ck_assert_int_eq(pga_term_type(&tail), PGA_T_NIL);
}
END_TEST

START_TEST(term_iter_tail_reports_improper_tail) {
  pga_term_t t = golden_view("list_improper2"), e, tail;
  pga_term_iter_t it;
  size_t n;
  int64_t v;

  ck_assert_int_eq(pga_term_iter_init(&it, &t), 0);
  /* The tail is there even before the elements are walked. */
  pga_term_iter_tail(&it, &tail);
  ck_assert_int_eq(pga_term_get_int64(&tail, &v), 0);
  ck_assert_int_eq(v, 3);
  ck_assert_int_eq(pga_term_iter_next(&it, &e), 1);
  ck_assert_int_eq(pga_term_list_length(&t, &n), 0);
  ck_assert_uint_eq(n, 2);
}
END_TEST

START_TEST(term_iter_rejects_non_lists) {
  pga_term_t t = golden_view("tuple_ok");
  pga_term_iter_t it;
  size_t n;

  ck_assert_int_eq(pga_term_iter_init(&it, &t), PGA_ETYPE);
  ck_assert_int_eq(pga_term_list_length(&t, &n), PGA_ETYPE);
}
END_TEST

START_TEST(term_list_length_counts_each_encoding) {
  static const struct {
    const char *golden;
    size_t n;
  } cases[] = {{"list_nil", 0},   {"list_string_empty", 0},
               {"list_string", 5}, {"list_mixed", 4},
               {"list_chain", 3},  {"list_improper", 1}};
  size_t i, n;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    pga_term_t t = golden_view(cases[i].golden);
    ck_assert_int_eq(pga_term_list_length(&t, &n), 0);
    ck_assert_msg(n == cases[i].n, "%s: %zu", cases[i].golden, n);
  }
}
END_TEST

START_TEST(term_map_get_finds_key_by_term) {
  pga_term_t m = golden_view("map_nested"), k, v;
  pga_tb_t *tb = pga_tb_new(0);
  size_t size;

  ck_assert_int_eq(pga_term_map_size(&m, &size), 0);
  ck_assert_uint_eq(size, 4);
  pga_tb_string(tb, "tags");
  k = pga_tb_data(tb);
  ck_assert_int_eq(pga_term_map_get(&m, &k, &v), 0);
  assert_format(&v, "[a,b]");
  pga_tb_reset(tb);
  pga_tb_atom(tb, "tags");
  k = pga_tb_data(tb);
  ck_assert_int_eq(pga_term_map_get(&m, &k, &v), PGA_ENOTFOUND);
  pga_tb_free(tb);
}
END_TEST

START_TEST(term_map_get_atom_reads_elixir_struct) {
  pga_term_t m = golden_view("elixir_struct"), v, e;
  const char *data;
  size_t len;
  int64_t age;

  ck_assert_int_eq(pga_term_map_get_atom(&m, "__struct__", &v), 0);
  ck_assert(pga_term_is_atom(&v, "Elixir.User"));
  ck_assert_int_eq(pga_term_map_get_atom(&m, "name", &v), 0);
  ck_assert_int_eq(pga_term_get_binary(&v, &data, &len), 0);
  ck_assert_uint_eq(len, 3);
  ck_assert_mem_eq(data, "Ann", 3);
  ck_assert_int_eq(pga_term_map_get_atom(&m, "age", &v), 0);
  ck_assert_int_eq(pga_term_get_int64(&v, &age), 0);
  ck_assert_int_eq(age, 30);
  ck_assert_int_eq(pga_term_map_get_atom(&m, "tags", &v), 0);
  ck_assert_int_eq(pga_term_list_length(&v, &len), 0);
  ck_assert_uint_eq(len, 1);
  ck_assert_int_eq(pga_term_map_get_atom(&m, "email", &e), PGA_ENOTFOUND);
  m = golden_view("elixir_date");
  ck_assert_int_eq(pga_term_map_get_atom(&m, "calendar", &v), 0);
  ck_assert(pga_term_is_atom(&v, "Elixir.Calendar.ISO"));
}
END_TEST

START_TEST(term_map_get_binary_finds_string_key) {
  pga_term_t m = golden_view("map_nested"), v, t = golden_view("tuple_ok");

  ck_assert_int_eq(pga_term_map_get_binary(&m, "name", &v), 0);
  assert_format(&v, "<<\"Ann\">>");
  ck_assert_int_eq(pga_term_map_get_binary(&m, "n", &v), PGA_ENOTFOUND);
  ck_assert_int_eq(pga_term_map_get_binary(&t, "n", &v), PGA_ETYPE);
}
END_TEST

START_TEST(term_map_pair_walks_wire_order_and_rejects_out_of_range) {
  /* A 40-key map is a hash map in the BEAM: its wire order is not sorted,
   * and the pairs must come out in that order (the golden's fmt). */
  pga_term_t m = golden_view("map_hashmap_40"), k, v;
  char all[2048], ks[64], vs[64];
  size_t i, n = 0;

  n += (size_t)snprintf(all + n, sizeof all - n, "#{");
  for (i = 0; i < 40; i++) {
    ck_assert_int_eq(pga_term_map_pair(&m, i, &k, &v), 0);
    pga_term_format(&k, ks, sizeof ks);
    pga_term_format(&v, vs, sizeof vs);
    n += (size_t)snprintf(all + n, sizeof all - n, "%s%s => %s",
                          i > 0 ? "," : "", ks, vs);
  }
  snprintf(all + n, sizeof all - n, "}");
  ck_assert_str_eq(all, golden("map_hashmap_40")->fmt);
  ck_assert_int_eq(pga_term_map_pair(&m, 40, &k, &v), PGA_ERANGE);
}
END_TEST

START_TEST(term_get_pid_reads_new_and_old_encodings) {
  pga_term_t a = golden_view("pid_old"), b = golden_view("pid_atom_ext");
  pga_term_t c = golden_view("pid"), r = golden_view("ref3");
  erlang_pid p, q;

  ck_assert_int_eq(pga__term_get_pid(&a, &p), 0);
  ck_assert_str_eq(p.node, "pga@host");
  ck_assert_uint_eq(p.num, 1);
  ck_assert_uint_eq(p.serial, 2);
  ck_assert_uint_eq(p.creation, 3);
  ck_assert_int_eq(pga__term_get_pid(&b, &p), 0);
  ck_assert_int_eq(pga__term_get_pid(&c, &q), 0);
  ck_assert_str_eq(p.node, q.node);
  ck_assert_uint_eq(p.creation, q.creation);
  ck_assert(pga_term_equal(&b, &c));
  ck_assert_int_eq(pga__term_get_pid(&r, &p), PGA_ETYPE);
}
END_TEST

START_TEST(term_get_ref_reads_each_encoding) {
  pga_term_t o = golden_view("ref_old"), n = golden_view("ref_new");
  pga_term_t f = golden_view("ref5");
  erlang_ref r;

  ck_assert_int_eq(pga__term_get_ref(&o, &r), 0);
  ck_assert_int_eq(r.len, 1);
  ck_assert_uint_eq(r.n[0], 77);
  ck_assert_int_eq(pga__term_get_ref(&n, &r), 0);
  ck_assert_int_eq(r.len, 3);
  ck_assert_uint_eq(r.n[2], 30);
  ck_assert_uint_eq(r.creation, 1);
  ck_assert_int_eq(pga__term_get_ref(&f, &r), 0);
  ck_assert_int_eq(r.len, 5);
  ck_assert_uint_eq(r.n[4], 5);
  ck_assert_uint_eq(r.creation, 7);
}
END_TEST

/* A reference on gw@h with the given id words (least significant first). */
static pga_term_t ref_words(pga_tb_t *tb, const unsigned *w, int n) {
  erlang_ref r;

  memset(&r, 0, sizeof r);
  strcpy(r.node, "gw@h");
  r.len = n;
  for (int i = 0; i < n; i++)
    r.n[i] = w[i];
  r.creation = 1;
  pga_tb_reset(tb);
  pga__tb_ref(tb, &r);
  ck_assert_int_eq(pga_tb_error(tb), 0);
  return pga_tb_data(tb);
}

/* fuzz_ops found refs of different word counts compared out of order:
 * a < b < c < a. The BEAM counts the missing high words as zeros. */
START_TEST(term_compare_refs_of_different_lengths) {
  static const unsigned a[] = {5, 1, 9}, b[] = {1, 2}, c[] = {3};
  static const unsigned d[] = {3, 0, 0};
  pga_tb_t *ta = pga_tb_new(0), *tb = pga_tb_new(0), *tc = pga_tb_new(0);
  pga_term_t ra = ref_words(ta, a, 3), rb = ref_words(tb, b, 2);
  pga_term_t rc = ref_words(tc, c, 1);

  ck_assert_int_gt(pga__term_compare(&ra, &rb), 0);
  ck_assert_int_gt(pga__term_compare(&rb, &rc), 0);
  ck_assert_int_gt(pga__term_compare(&ra, &rc), 0);
  ck_assert_int_lt(pga__term_compare(&rc, &ra), 0);
  rb = ref_words(tb, d, 3);
  ck_assert_int_eq(pga__term_compare(&rb, &rc), 0);
  ck_assert_int_eq(pga__term_compare(&rc, &rb), 0);
  pga_tb_free(ta);
  pga_tb_free(tb);
  pga_tb_free(tc);
}
END_TEST

/* ---- Equality ---- */

START_TEST(term_equal_normalises_string_and_list) {
  pga_tb_t *tb = pga_tb_new(0);
  pga_term_t s = golden_view("list_string"), c = golden_view("list_chain");
  pga_term_t l;
  const char *hello = "hello";
  size_t i;

  pga_tb_list(tb, 5);
  for (i = 0; i < 5; i++)
    pga_tb_int(tb, hello[i]);
  pga_tb_nil(tb);
  l = pga_tb_data(tb);
  ck_assert(pga_term_equal(&s, &l));
  ck_assert(pga_term_equal(&l, &s));
  pga_tb_reset(tb);
  pga_tb_list(tb, 3);
  pga_tb_int(tb, 1);
  pga_tb_int(tb, 2);
  pga_tb_int(tb, 3);
  pga_tb_nil(tb);
  l = pga_tb_data(tb);
  ck_assert(pga_term_equal(&c, &l));
  pga_tb_free(tb);
}
END_TEST

START_TEST(term_equal_normalises_integer_widths) {
  static const unsigned char a[] = {97, 5}, b[] = {98, 0, 0, 0, 5};
  static const unsigned char c[] = {110, 3, 0, 5, 0, 0};
  static const unsigned char big1[] = {110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  static const unsigned char big2[] = {111, 0, 0, 0, 10, 0, 0, 0, 0, 0,
                                       0,   0, 0, 0, 1,  0};
  pga_term_t ta, tb_, tc, t1, t2;

  ck_assert_int_eq(view_of(a, sizeof a, &ta), 0);
  ck_assert_int_eq(view_of(b, sizeof b, &tb_), 0);
  ck_assert_int_eq(view_of(c, sizeof c, &tc), 0);
  ck_assert_int_eq(view_of(big1, sizeof big1, &t1), 0);
  ck_assert_int_eq(view_of(big2, sizeof big2, &t2), 0);
  ck_assert(pga_term_equal(&ta, &tb_));
  ck_assert(pga_term_equal(&ta, &tc));
  ck_assert(pga_term_equal(&t1, &t2));
  ck_assert(!pga_term_equal(&ta, &t1));
}
END_TEST

START_TEST(term_equal_respects_map_order) {
  pga_tb_t *x = pga_tb_new(0), *y = pga_tb_new(0);
  pga_term_t a, b;

  pga_tb_map(x, 2);
  pga_tb_atom(x, "a");
  pga_tb_int(x, 1);
  pga_tb_atom(x, "b");
  pga_tb_int(x, 2);
  pga_tb_map(y, 2);
  pga_tb_atom(y, "b");
  pga_tb_int(y, 2);
  pga_tb_atom(y, "a");
  pga_tb_int(y, 1);
  a = pga_tb_data(x);
  b = pga_tb_data(y);
  ck_assert(!pga_term_equal(&a, &b));
  pga_tb_free(x);
  pga_tb_free(y);
}
END_TEST

START_TEST(term_equal_distinguishes_different_terms) {
  static const char *const names[] = {
      "int_42", "big_2pow64", "float_1_5", "atom_plain", "binary_text",
      "bitstring_3bits", "tuple_ok", "list_nil", "list_string", "map_small",
      "pid", "port", "ref3", "fun_local", "fun_export", "list_improper",
      "bitstring_multi", "tuple_empty", "map_empty", "binary_empty"};
  size_t i, j;

  for (i = 0; i < sizeof names / sizeof names[0]; i++) {
    for (j = 0; j < sizeof names / sizeof names[0]; j++) {
      pga_term_t a = golden_view(names[i]), b = golden_view(names[j]);
      ck_assert_msg(pga_term_equal(&a, &b) == (i == j), "%s vs %s", names[i],
                    names[j]);
    }
  }
}
END_TEST

START_TEST(term_equal_ignores_unused_bitstring_bits) {
  static const unsigned char a[] = {77, 0, 0, 0, 1, 3, 0x20};
  static const unsigned char b[] = {77, 0, 0, 0, 1, 3, 0x3F};
  pga_term_t ta, tb_;

  ck_assert_int_eq(view_of(a, sizeof a, &ta), 0);
  ck_assert_int_eq(view_of(b, sizeof b, &tb_), 0);
  ck_assert(pga_term_equal(&ta, &tb_));
  assert_format(&tb_, "<<1:3>>");
}
END_TEST

/* ---- Printer ---- */

START_TEST(term_format_quotes_atoms_when_needed) {
  static const struct {
    const char *atom, *want;
  } cases[] = {{"ok", "ok"},
               {"Ok", "'Ok'"},
               {"a b", "'a b'"},
               {"node@host", "node@host"},
               {"a.b", "'a.b'"},
               {"_x", "'_x'"},
               {"receive", "'receive'"},
               {"maybe", "maybe"},
               {"x1_Y@", "x1_Y@"},
               {"it's", "'it\\'s'"},
               {"\xc3\x9f" "eta", "\xc3\x9f" "eta"},
               {"", "''"}};
  pga_tb_t *tb = pga_tb_new(0);
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    pga_term_t t;
    pga_tb_reset(tb);
    pga_tb_atom(tb, cases[i].atom);
    t = pga_tb_data(tb);
    assert_format(&t, cases[i].want);
  }
  pga_tb_free(tb);
}
END_TEST

START_TEST(term_format_prints_improper_and_chained_lists) {
  pga_term_t a = golden_view("list_improper2"), b = golden_view("list_chain");
  pga_term_t c = golden_view("list_string_improper");

  assert_format(&a, "[1,2|3]");
  assert_format(&b, "[1,2,3]");
  assert_format(&c, "[1,2|<<3>>]");
}
END_TEST

START_TEST(term_format_prints_improper_tails_at_the_depth_limit) {
  /* [x|{[x|{...{z}...}]}]: each list's tail is a tuple holding the next
   * list. The checker reads a tail at its list's level, so this is only
   * PGA_TERM_MAX_DEPTH deep; the printer must not need twice the frames. */
  pga_tb_t *tb = pga_tb_new(0);
  pga_term_t t;
  char *s;
  size_t i, n;

  for (i = 0; i < PGA_TERM_MAX_DEPTH; i++) {
    pga_tb_list(tb, 1);
    pga_tb_atom(tb, "x");
    pga_tb_tuple(tb, 1);
  }
  pga_tb_atom(tb, "z");
  t = pga_tb_data(tb);
  ck_assert_int_eq(pga_term_view(t.buf, t.len, &t), 0);
  s = format_new(&t);
  n = strlen(s);
  ck_assert_uint_eq(n, PGA_TERM_MAX_DEPTH * 6 + 1);
  ck_assert_int_eq(strncmp(s, "[x|{[x|{", 8), 0);
  ck_assert_int_eq(s[4 * PGA_TERM_MAX_DEPTH], 'z');
  ck_assert_str_eq(s + n - 4, "}]}]");
  free(s);
  pga_tb_free(tb);
}
END_TEST

START_TEST(term_format_marks_invalid_view) {
  pga_term_t t = {"\x6d\x00\x00\x00\x09", 5};
  char out[32];

  ck_assert_uint_eq(pga_term_format(&t, out, sizeof out), 10);
  ck_assert_str_eq(out, "#BadTerm<>");
  ck_assert_uint_eq(pga_term_format(NULL, out, 0), 10);
}
END_TEST

/* ---- Builder ---- */

START_TEST(tb_int_uses_smallest_encoding_like_beam) {
  static const struct {
    const char *golden;
    int64_t v;
  } cases[] = {
      {"int_zero", 0},
      {"int_42", 42},
      {"int_255", 255},
      {"int_256", 256},
      {"int_neg1", -1},
      {"int_int32_max", INT32_MAX},
      {"int_int32_min", INT32_MIN},
      {"int_int32_max_plus1", (int64_t)INT32_MAX + 1},
      {"int_int32_min_minus1", (int64_t)INT32_MIN - 1},
      {"int_int64_max", INT64_MAX},
      {"int_int64_min", INT64_MIN},
  };
  pga_tb_t *tb = pga_tb_new(0);
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    pga_tb_reset(tb);
    pga_tb_int(tb, cases[i].v);
    assert_bytes(tb, cases[i].golden);
  }
  pga_tb_reset(tb);
  pga_tb_uint(tb, UINT64_MAX);
  assert_bytes(tb, "big_uint64_max");
  pga_tb_reset(tb);
  pga_tb_uint(tb, 42);
  assert_bytes(tb, "int_42");
  pga_tb_reset(tb);
  pga_tb_uint(tb, (uint64_t)INT64_MAX);
  assert_bytes(tb, "int_int64_max");
  pga_tb_free(tb);
}
END_TEST

START_TEST(tb_atom_uses_utf8_tags_like_beam) {
  static const struct {
    const char *golden, *atom;
  } cases[] = {{"atom_plain", "hello"},
               {"atom_utf8", "h\xc3\xa9llo"},
               {"atom_cjk", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"},
               {"atom_true", "true"},
               {"atom_empty", ""}};
  pga_tb_t *tb = pga_tb_new(0);
  char cjk[255 * 3 + 1];
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    pga_tb_reset(tb);
    pga_tb_atom(tb, cases[i].atom);
    assert_bytes(tb, cases[i].golden);
  }
  for (i = 0; i < 255; i++)
    memcpy(cjk + 3 * i, "\xe6\x97\xa5", 3);
  cjk[255 * 3] = '\0';
  pga_tb_reset(tb);
  pga_tb_atom(tb, cjk); /* 765 bytes: ATOM_UTF8_EXT */
  assert_bytes(tb, "atom_255_cjk");
  pga_tb_reset(tb);
  pga_tb_bool(tb, 1);
  assert_bytes(tb, "atom_true");
  pga_tb_free(tb);
}
END_TEST

START_TEST(tb_atom_rejects_256_characters_and_bad_utf8) {
  pga_tb_t *tb = pga_tb_new(0);
  char a[257];

  memset(a, 'a', 256);
  a[256] = '\0';
  pga_tb_atom(tb, a);
  ck_assert_int_eq(pga_tb_error(tb), PGA_EINVAL);
  pga_tb_reset(tb);
  pga_tb_atom(tb, "\xc3\x28");
  ck_assert_int_eq(pga_tb_error(tb), PGA_EINVAL);
  pga_tb_reset(tb);
  pga_tb_atom(tb, "\xed\xa0\x80"); /* a surrogate */
  ck_assert_int_eq(pga_tb_error(tb), PGA_EINVAL);
  pga_tb_reset(tb);
  pga_tb_atom(tb, NULL);
  ck_assert_int_eq(pga_tb_error(tb), PGA_EINVAL);
  pga_tb_reset(tb);
  a[255] = '\0';
  pga_tb_atom(tb, a);
  ck_assert_int_eq(pga_tb_error(tb), 0);
  pga_tb_free(tb);
}
END_TEST

START_TEST(tb_double_writes_new_float_like_beam) {
  pga_tb_t *tb = pga_tb_new(0);

  pga_tb_double(tb, 1.5);
  assert_bytes(tb, "float_1_5");
  pga_tb_reset(tb);
  pga_tb_double(tb, -0.0);
  assert_bytes(tb, "float_neg_zero");
  pga_tb_reset(tb);
  pga_tb_double(tb, 5.0e-324);
  assert_bytes(tb, "float_denormal");
  pga_tb_reset(tb);
  pga_tb_double(tb, NAN);
  ck_assert_int_eq(pga_tb_error(tb), PGA_EINVAL);
  pga_tb_reset(tb);
  pga_tb_double(tb, INFINITY);
  ck_assert_int_eq(pga_tb_error(tb), PGA_EINVAL);
  pga_tb_free(tb);
}
END_TEST

START_TEST(tb_builds_containers_like_beam) {
  pga_tb_t *tb = pga_tb_new(0);
  size_t i;

  /* {ok,1,<<"x">>} */
  pga_tb_tuple(tb, 3);
  pga_tb_atom(tb, "ok");
  pga_tb_int(tb, 1);
  pga_tb_string(tb, "x");
  assert_bytes(tb, "tuple_ok");
  pga_tb_reset(tb);
  pga_tb_tuple(tb, 300); /* LARGE_TUPLE_EXT */
  for (i = 1; i <= 300; i++)
    pga_tb_int(tb, (int64_t)i);
  assert_bytes(tb, "tuple_large");
  pga_tb_reset(tb);
  /* #{list => [1,{2,<<3>>}], map => #{}} inside {ok, _} */
  pga_tb_tuple(tb, 2);
  pga_tb_atom(tb, "ok");
  pga_tb_map(tb, 2);
  pga_tb_atom(tb, "list");
  pga_tb_list(tb, 2);
  pga_tb_int(tb, 1);
  pga_tb_tuple(tb, 2);
  pga_tb_int(tb, 2);
  pga_tb_binary(tb, "\x03", 1);
  pga_tb_nil(tb);
  pga_tb_atom(tb, "map");
  pga_tb_map(tb, 0);
  assert_bytes(tb, "nested");
  pga_tb_reset(tb);
  pga_tb_list(tb, 1); /* [a|b] */
  pga_tb_atom(tb, "a");
  pga_tb_atom(tb, "b");
  assert_bytes(tb, "list_improper");
  pga_tb_reset(tb);
  pga_tb_binary(tb, NULL, 0);
  assert_bytes(tb, "binary_empty");
  pga_tb_free(tb);
}
END_TEST

START_TEST(tb_list_zero_writes_nil) {
  pga_tb_t *tb = pga_tb_new(0);

  pga_tb_list(tb, 0);
  assert_bytes(tb, "list_nil");
  pga_tb_free(tb);
}
END_TEST

START_TEST(tb_list_head_zero_then_tail_is_one_nil) {
  pga_tb_t *tb = pga_tb_new(0);
  pga_tb_list_head(tb, 0);
  pga_tb_nil(tb);
  assert_bytes(tb, "list_nil");
  pga_tb_reset(tb);
  pga_tb_list_head(tb, 1); /* same bytes as pga_tb_list for n > 0 */
  pga_tb_list_head(tb, 0);
  pga_tb_nil(tb);
  pga_tb_nil(tb);
  pga_term_t t = pga_tb_data(tb);
  ck_assert_int_eq(pga_term_list_length(&t, &(size_t){0}), 0);
  char buf[16];
  pga_term_format(&t, buf, sizeof buf);
  ck_assert_str_eq(buf, "[[]]");
  pga_tb_free(tb);
}
END_TEST

START_TEST(tb_cap_sets_etoobig) {
  pga_tb_t *tb = pga_tb_new(16);
  char blob[16] = {0};
  pga_term_t t;

  pga_tb_binary(tb, blob, 11); /* 16 bytes: fits exactly */
  ck_assert_int_eq(pga_tb_error(tb), 0);
  pga_tb_nil(tb);
  ck_assert_int_eq(pga_tb_error(tb), PGA_ETOOBIG);
  t = pga_tb_data(tb);
  ck_assert_ptr_null(t.buf);
  ck_assert_uint_eq(t.len, 0);
  pga_tb_free(tb);
}
END_TEST

START_TEST(tb_error_is_sticky_until_reset) {
  pga_tb_t *tb = pga_tb_new(0);
  pga_term_t t;

  pga_tb_atom(tb, "\xff");
  ck_assert_int_eq(pga_tb_error(tb), PGA_EINVAL);
  pga_tb_int(tb, 1);
  pga_tb_binary(tb, NULL, 5); /* would be another error */
  ck_assert_int_eq(pga_tb_error(tb), PGA_EINVAL);
  ck_assert_uint_eq(pga_tb_data(tb).len, 0);
  pga_tb_reset(tb);
  ck_assert_int_eq(pga_tb_error(tb), 0);
  pga_tb_int(tb, 1);
  t = pga_tb_data(tb);
  ck_assert_uint_eq(t.len, 2);
  pga_tb_free(tb);
}
END_TEST

START_TEST(tb_sizes_near_size_max_fail_without_overflow) {
  pga_tb_t *tb = pga_tb_new(0);
  static const char byte = 0;

  pga_tb_binary(tb, &byte, SIZE_MAX);
  ck_assert_int_eq(pga_tb_error(tb), PGA_ETOOBIG);
  pga_tb_reset(tb);
  pga_tb_binary(tb, &byte, SIZE_MAX - 4);
  ck_assert_int_eq(pga_tb_error(tb), PGA_ETOOBIG);
  pga_tb_reset(tb);
  pga_tb_tuple(tb, SIZE_MAX);
  ck_assert_int_eq(pga_tb_error(tb), PGA_ETOOBIG);
  pga_tb_reset(tb);
  pga_tb_map(tb, (size_t)UINT32_MAX + 1);
  ck_assert_int_eq(pga_tb_error(tb), PGA_ETOOBIG);
  pga_tb_reset(tb);
  pga_tb_int(tb, 1);
  pga__tb_raw(tb, &byte, SIZE_MAX);
  ck_assert_int_eq(pga_tb_error(tb), PGA_ETOOBIG);
  pga_tb_free(tb);
}
END_TEST

START_TEST(tb_term_copies_whole_terms_only) {
  pga_tb_t *tb = pga_tb_new(0);
  pga_term_t t = golden_view("map_nested"), half = t;

  pga_tb_term(tb, &t);
  assert_bytes(tb, "map_nested");
  pga_tb_reset(tb);
  half.len--;
  pga_tb_term(tb, &half);
  ck_assert_int_eq(pga_tb_error(tb), PGA_EINVAL);
  pga_tb_free(tb);
}
END_TEST

START_TEST(tb_pid_writes_new_pid_ext_like_beam) {
  pga_term_t t = golden_view("pid"), o = golden_view("pid_old");
  pga_tb_t *tb = pga_tb_new(0);
  erlang_pid p;
  pga_term_t r;

  ck_assert_int_eq(pga__term_get_pid(&t, &p), 0);
  pga__tb_pid(tb, &p);
  assert_bytes(tb, "pid");
  pga_tb_reset(tb);
  ck_assert_int_eq(pga__term_get_pid(&o, &p), 0);
  pga__tb_pid(tb, &p);
  r = pga_tb_data(tb);
  ck_assert_int_eq(r.buf[0], 88); /* NEW_PID_EXT, whatever came in */
  ck_assert(pga_term_equal(&r, &o));
  pga_tb_free(tb);
}
END_TEST

START_TEST(tb_ref_writes_newer_reference_ext_like_beam) {
  pga_tb_t *tb = pga_tb_new(0);
  pga_term_t t;
  erlang_ref r;

  t = golden_view("ref3");
  ck_assert_int_eq(pga__term_get_ref(&t, &r), 0);
  pga__tb_ref(tb, &r);
  assert_bytes(tb, "ref3");
  pga_tb_reset(tb);
  t = golden_view("ref5");
  ck_assert_int_eq(pga__term_get_ref(&t, &r), 0);
  pga__tb_ref(tb, &r);
  assert_bytes(tb, "ref5");
  pga_tb_reset(tb);
  r.len = 6;
  pga__tb_ref(tb, &r);
  ck_assert_int_eq(pga_tb_error(tb), PGA_EINVAL);
  pga_tb_free(tb);
}
END_TEST

START_TEST(tb_list_normalized_rewrites_string_ext) {
  pga_term_t s = golden_view("map_small"), v, r;
  pga_tb_t *tb = pga_tb_new(0);
  static const unsigned char want[] = {108, 0, 0, 0, 2, 97, 1, 97, 2, 106};

  ck_assert_int_eq(pga_term_map_get_atom(&s, "a", &v), 0);
  ck_assert_int_eq(v.buf[0], 107); /* the BEAM sent [1,2] as STRING_EXT */
  pga__tb_list_normalized(tb, &v);
  r = pga_tb_data(tb);
  ck_assert_int_eq(pga_tb_error(tb), 0);
  ck_assert_uint_eq(r.len, sizeof want);
  ck_assert_mem_eq(r.buf, want, sizeof want);
  pga_tb_free(tb);
}
END_TEST

START_TEST(iter_string_ext_views_outlive_the_iterator) {
  pga_term_t s = golden_view("map_small"), v, el[2];
  pga_term_iter_t it;
  int64_t a, b;

  ck_assert_int_eq(pga_term_map_get_atom(&s, "a", &v), 0);
  ck_assert_int_eq(v.buf[0], 107); /* [1,2] as STRING_EXT */
  ck_assert_int_eq(pga_term_iter_init(&it, &v), 0);
  ck_assert_int_eq(pga_term_iter_next(&it, &el[0]), 1);
  ck_assert_int_eq(pga_term_iter_next(&it, &el[1]), 1);
  memset(&it, 0xA5, sizeof it); /* the iterator is gone */
  ck_assert_int_eq(pga_term_get_int64(&el[0], &a), 0);
  ck_assert_int_eq(pga_term_get_int64(&el[1], &b), 0);
  ck_assert_int_eq(a, 1);
  ck_assert_int_eq(b, 2);
}
END_TEST

START_TEST(tb_list_normalized_flattens_chained_cells) {
  pga_term_t c = golden_view("list_chain_string"), r;
  pga_tb_t *tb = pga_tb_new(0);
  static const unsigned char want[] = {108, 0, 0, 0, 3, 97, 0, 97,
                                       'a', 97, 'b', 106};

  pga__tb_list_normalized(tb, &c);
  r = pga_tb_data(tb);
  ck_assert_uint_eq(r.len, sizeof want);
  ck_assert_mem_eq(r.buf, want, sizeof want);
  pga_tb_free(tb);
}
END_TEST

START_TEST(tb_list_normalized_rejects_non_list) {
  pga_term_t t = golden_view("tuple_ok");
  pga_tb_t *tb = pga_tb_new(0);

  pga__tb_list_normalized(tb, &t);
  ck_assert_int_eq(pga_tb_error(tb), PGA_ETYPE);
  pga_tb_free(tb);
}
END_TEST

START_TEST(tb_embedded_builder_writes_version_and_frees_on_destroy) {
  pga_tb_t tb;
  pga_term_t t;

  pga__tb_init(&tb, 0);
  ck_assert_ptr_null(tb.x.buff); /* lazy: init allocates nothing */
  pga__tb_version(&tb);
  pga_tb_int(&tb, 42);
  ck_assert_int_eq(pga_tb_error(&tb), 0);
  ck_assert_int_eq(pga_term_view_versioned(tb.x.buff, (size_t)tb.x.index, &t),
                   0);
  ck_assert(pga_term_equal(&t, &(pga_term_t){"\x61\x2a", 2}));
  pga__tb_destroy(&tb);
  ck_assert_ptr_null(tb.x.buff);
}
END_TEST

static Suite *term_suite(void) {
  Suite *s = suite_create("term");
  TCase *golden = tcase_create("golden");
  TCase *check = tcase_create("check");
  TCase *read = tcase_create("read");
  TCase *build = tcase_create("build");
  TCase *all[] = {golden, check, read, build};
  size_t i;

  for (i = 0; i < sizeof all / sizeof all[0]; i++) {
    tcase_add_checked_fixture(all[i], NULL, goldens_free);
    tcase_set_timeout(all[i], 600); /* valgrind */
    suite_add_tcase(s, all[i]);
  }
  tcase_add_test(golden, term_golden_view_matches_expectation);
  tcase_add_test(golden, term_golden_format_matches_beam);
  tcase_add_test(golden, term_golden_rebuild_is_equal_and_exact_when_beam_encoded);
  tcase_add_test(golden, term_golden_truncations_are_rejected);
  tcase_add_test(golden, term_golden_mutations_never_crash);
  tcase_add_test(golden, term_skip_agrees_with_check_on_goldens_and_prefixes);
  tcase_add_test(golden, term_skip_sizes_by_structure_only);
  tcase_add_test(golden, term_golden_format_truncates_safely);
  tcase_add_test(golden, term_format_float_matches_beam_short);

  tcase_add_test(check, term_view_rejects_missing_version_byte);
  tcase_add_test(check, term_view_keeps_trailing_bytes_out_of_the_view);
  tcase_add_test(check, term_check_rejects_unnegotiated_tags);
  tcase_add_test(check, term_check_rejects_truncated_binary);
  tcase_add_test(check, term_check_rejects_counts_beyond_the_bytes);
  tcase_add_test(check, term_check_len_near_size_max_does_not_overflow);
  tcase_add_test(check, term_check_rejects_bignum_over_cap);
  tcase_add_test(check, term_check_rejects_atom_over_255_characters);
  tcase_add_test(check, term_check_rejects_invalid_utf8_atom);
  tcase_add_test(check, term_check_rejects_bad_bitstrings);
  tcase_add_test(check, term_check_rejects_nonfinite_floats);
  tcase_add_test(check, term_check_rejects_malformed_old_floats);
  tcase_add_test(check, term_check_rejects_reference_word_counts);
  tcase_add_test(check, term_check_rejects_pid_without_atom_node);
  tcase_add_test(check, term_check_rejects_fun_size_mismatch);
  tcase_add_test(check, term_check_rejects_empty_list_ext);
  tcase_add_test(check, term_check_accepts_depth_at_limit);
  tcase_add_test(check, term_check_rejects_depth_above_limit);
  tcase_add_test(check, term_check_counts_list_tails_at_the_list_level);

  tcase_add_test(read, term_type_reports_each_type);
  tcase_add_test(read, term_get_int64_reads_beam_boundaries);
  tcase_add_test(read, term_get_int64_rejects_bignums_with_erange);
  tcase_add_test(read, term_get_int64_reads_small_big_that_fits);
  tcase_add_test(read, term_get_double_reads_old_and_new_floats);
  tcase_add_test(read, term_get_atom_converts_latin1_to_utf8);
  tcase_add_test(read, term_get_atom_reads_longest_cjk_atom);
  tcase_add_test(read, term_is_atom_matches_utf8_name);
  tcase_add_test(read, term_get_binary_gives_a_view_and_rejects_bitstrings);
  tcase_add_test(read, term_tuple_get_reads_elements_and_rejects_out_of_range);
  tcase_add_test(read, term_iter_yields_string_elements_as_small_ints);
  tcase_add_test(read, term_iter_follows_chained_tails);
  tcase_add_test(read, term_iter_tail_reports_improper_tail);
  tcase_add_test(read, term_iter_rejects_non_lists);
  tcase_add_test(read, term_list_length_counts_each_encoding);
  tcase_add_test(read, term_map_get_finds_key_by_term);
  tcase_add_test(read, term_map_get_atom_reads_elixir_struct);
  tcase_add_test(read, term_map_get_binary_finds_string_key);
  tcase_add_test(read, term_map_pair_walks_wire_order_and_rejects_out_of_range);
  tcase_add_test(read, term_get_pid_reads_new_and_old_encodings);
  tcase_add_test(read, term_get_ref_reads_each_encoding);
  tcase_add_test(read, term_compare_refs_of_different_lengths);
  tcase_add_test(read, iter_string_ext_views_outlive_the_iterator);
  tcase_add_test(read, term_equal_normalises_string_and_list);
  tcase_add_test(read, term_equal_normalises_integer_widths);
  tcase_add_test(read, term_equal_respects_map_order);
  tcase_add_test(read, term_equal_distinguishes_different_terms);
  tcase_add_test(read, term_equal_ignores_unused_bitstring_bits);
  tcase_add_test(read, term_format_quotes_atoms_when_needed);
  tcase_add_test(read, term_format_prints_improper_and_chained_lists);
  tcase_add_test(read, term_format_prints_improper_tails_at_the_depth_limit);
  tcase_add_test(read, term_format_marks_invalid_view);

  tcase_add_test(build, tb_int_uses_smallest_encoding_like_beam);
  tcase_add_test(build, tb_atom_uses_utf8_tags_like_beam);
  tcase_add_test(build, tb_atom_rejects_256_characters_and_bad_utf8);
  tcase_add_test(build, tb_double_writes_new_float_like_beam);
  tcase_add_test(build, tb_builds_containers_like_beam);
  tcase_add_test(build, tb_list_zero_writes_nil);
  tcase_add_test(build, tb_list_head_zero_then_tail_is_one_nil);
  tcase_add_test(build, tb_cap_sets_etoobig);
  tcase_add_test(build, tb_error_is_sticky_until_reset);
  tcase_add_test(build, tb_sizes_near_size_max_fail_without_overflow);
  tcase_add_test(build, tb_term_copies_whole_terms_only);
  tcase_add_test(build, tb_pid_writes_new_pid_ext_like_beam);
  tcase_add_test(build, tb_ref_writes_newer_reference_ext_like_beam);
  tcase_add_test(build, tb_list_normalized_rewrites_string_ext);
  tcase_add_test(build, tb_list_normalized_flattens_chained_cells);
  tcase_add_test(build, tb_list_normalized_rejects_non_list);
  tcase_add_test(build, tb_embedded_builder_writes_version_and_frees_on_destroy);
  return s;
}

PGA_CHECK_MAIN(term_suite)
