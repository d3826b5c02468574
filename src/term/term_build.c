/* The term builder: ETF written the way an OTP 25 node writes it, into an
 * ei_x_buff with a size cap and a sticky first error.
 *
 * Encodings match term_to_binary(T, [{minor_version, 2}]) and the
 * distribution encoder, so golden bytes from the BEAM compare byte for
 * byte: the smallest integer form, UTF-8 atoms, NEW_FLOAT_EXT, NEW_PID_EXT,
 * NEWER_REFERENCE_EXT. Lists are never written as STRING_EXT.
 *
 * Memory is taken lazily on the first write, and given back on the first
 * error (curl dynbuf): a failed builder holds nothing a caller could send
 * half-written by mistake. Until pga_tb_reset, every write is a no-op. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "term/term.h"

#define TAG_NEW_FLOAT 70
#define TAG_NEW_PID 88
#define TAG_NEWER_REF 90
#define TAG_SMALL_INT 97
#define TAG_INT 98
#define TAG_SMALL_TUPLE 104
#define TAG_LARGE_TUPLE 105
#define TAG_NIL 106
#define TAG_LIST 108
#define TAG_BINARY 109
#define TAG_SMALL_BIG 110
#define TAG_MAP 116
#define TAG_ATOM_UTF8 118
#define TAG_SMALL_ATOM_UTF8 119

/* x.index and x.buffsz are int: no builder can pass INT_MAX bytes. */
#define TB_HARD_CAP ((size_t)INT_MAX)

static void fail(pga_tb_t *tb, int err) {
  tb->err = err;
  free(tb->x.buff);
  tb->x.buff = NULL;
  tb->x.buffsz = 0;
  tb->x.index = 0;
}

/* Room for n more bytes: a pointer to write them at, or NULL (error set). */
/* The first allocation of a builder: most terms a request builds (its
 * Request, Response, call arguments, control tuples) fit, so they grow
 * by realloc rarely; a builder that stays smaller wastes under 256 bytes. */
#define PGA__TB_FIRST_ALLOC 256

static unsigned char *reserve(pga_tb_t *tb, size_t n) {
  size_t used, want, size;
  char *p;

  if (tb == NULL || tb->err != 0)
    return NULL;
  used = (size_t)tb->x.index;
  if (n > tb->cap - used) {
    fail(tb, PGA_ETOOBIG);
    return NULL;
  }
  want = used + n;
  if (want > (size_t)tb->x.buffsz) {
    size = tb->x.buffsz > 0 ? (size_t)tb->x.buffsz : PGA__TB_FIRST_ALLOC;
    while (size < want)
      size = size > tb->cap / 2 ? tb->cap : size * 2;
    if (size > tb->cap)
      size = tb->cap;
    if ((p = realloc(tb->x.buff, size)) == NULL) {
      fail(tb, PGA_ENOMEM);
      return NULL;
    }
    tb->x.buff = p;
    tb->x.buffsz = (int)size;
  }
  tb->x.index = (int)want;
  return (unsigned char *)tb->x.buff + used;
}

static void put8(unsigned char *p, unsigned v) { p[0] = (unsigned char)v; }

static void put16(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 8);
  p[1] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

void pga__tb_init(pga_tb_t *tb, size_t cap) {
  tb->x.buff = NULL;
  tb->x.buffsz = 0;
  tb->x.index = 0;
  tb->cap = cap == 0 ? PGA_TB_DEFAULT_CAP : cap;
  if (tb->cap > TB_HARD_CAP)
    tb->cap = TB_HARD_CAP;
  tb->err = 0;
}

void pga__tb_destroy(pga_tb_t *tb) {
  if (tb == NULL)
    return;
  free(tb->x.buff);
  tb->x.buff = NULL;
  tb->x.buffsz = 0;
  tb->x.index = 0;
}

void pga__tb_recycle(pga_tb_t *tb) {
  if (tb->x.buffsz > PGA__TB_KEEP_MAX) {
    pga__tb_destroy(tb);
    return;
  }
  tb->x.index = 0;
  tb->err = 0;
}

pga_tb_t *pga_tb_new(size_t cap) {
  pga_tb_t *tb = malloc(sizeof *tb);

  if (tb != NULL)
    pga__tb_init(tb, cap);
  return tb;
}

void pga_tb_free(pga_tb_t *tb) {
  pga__tb_destroy(tb);
  free(tb);
}

void pga_tb_reset(pga_tb_t *tb) {
  if (tb == NULL)
    return;
  tb->x.index = 0;
  tb->err = 0;
}

int pga_tb_error(const pga_tb_t *tb) {
  return tb == NULL ? PGA_EINVAL : tb->err;
}

pga_term_t pga_tb_data(const pga_tb_t *tb) {
  pga_term_t t = {NULL, 0};

  /* An empty builder has no term, whether or not it keeps a buffer. */
  if (tb != NULL && tb->err == 0 && tb->x.buff != NULL && tb->x.index > 0) {
    t.buf = tb->x.buff;
    t.len = (size_t)tb->x.index;
  }
  return t;
}

void pga__tb_raw(pga_tb_t *tb, const void *data, size_t len) {
  unsigned char *p;

  if (tb == NULL || tb->err != 0)
    return;
  if (data == NULL && len > 0) {
    fail(tb, PGA_EINVAL);
    return;
  }
  if (len > 0 && (p = reserve(tb, len)) != NULL)
    memcpy(p, data, len);
}

void pga__tb_version(pga_tb_t *tb) {
  unsigned char *p = reserve(tb, 1);

  if (p != NULL)
    put8(p, PGA_VERSION_MAGIC);
}

/* ---- Scalars ---- */

void pga_tb_atom_len(pga_tb_t *tb, const char *utf8, size_t len) {
  int small = len <= 255;
  unsigned char *p;

  if (tb == NULL || tb->err != 0)
    return;
  if (utf8 == NULL ||
      pga__atom_utf8_check((const unsigned char *)utf8, len) != 0) {
    fail(tb, PGA_EINVAL);
    return;
  }
  if ((p = reserve(tb, (small ? 2 : 3) + len)) == NULL)
    return;
  if (small) {
    put8(p, TAG_SMALL_ATOM_UTF8);
    put8(p + 1, (unsigned)len);
  } else {
    put8(p, TAG_ATOM_UTF8);
    put16(p + 1, (uint32_t)len);
  }
  memcpy(p + (small ? 2 : 3), utf8, len);
}

void pga__tb_atom_trusted(pga_tb_t *tb, const char *utf8, size_t len) {
  unsigned char *p;

  if (len > 255) { /* not for long atoms: the checked path handles them */
    pga_tb_atom_len(tb, utf8, len);
    return;
  }
  if ((p = reserve(tb, 2 + len)) == NULL)
    return;
  put8(p, TAG_SMALL_ATOM_UTF8);
  put8(p + 1, (unsigned)len);
  memcpy(p + 2, utf8, len);
}

void pga_tb_atom(pga_tb_t *tb, const char *utf8) {
  if (utf8 == NULL) {
    if (tb != NULL && tb->err == 0)
      fail(tb, PGA_EINVAL);
    return;
  }
  pga_tb_atom_len(tb, utf8, strlen(utf8));
}

void pga_tb_bool(pga_tb_t *tb, int value) {
  if (tb == NULL || tb->err != 0)
    return;
  if (value)
    pga__tb_atom_lit(tb, "true");
  else
    pga__tb_atom_lit(tb, "false");
}

/* SMALL_BIG_EXT of a magnitude: as few digit bytes as it needs. */
static void big(pga_tb_t *tb, uint64_t mag, int neg) {
  unsigned char *p;
  unsigned n = 0, i;
  uint64_t m;

  for (m = mag; m != 0; m >>= 8)
    n++;
  if ((p = reserve(tb, 3 + n)) == NULL)
    return;
  put8(p, TAG_SMALL_BIG);
  put8(p + 1, n);
  put8(p + 2, neg ? 1 : 0);
  for (i = 0; i < n; i++, mag >>= 8)
    put8(p + 3 + i, (unsigned)(mag & 0xFF));
}

void pga_tb_int(pga_tb_t *tb, int64_t value) {
  unsigned char *p;

  if (value >= 0 && value <= 255) {
    if ((p = reserve(tb, 2)) != NULL) {
      put8(p, TAG_SMALL_INT);
      put8(p + 1, (unsigned)value);
    }
  } else if (value >= INT32_MIN && value <= INT32_MAX) {
    if ((p = reserve(tb, 5)) != NULL) {
      put8(p, TAG_INT);
      put32(p + 1, (uint32_t)(int32_t)value);
    }
  } else if (value < 0) {
    /* -(value + 1) + 1 stays defined for INT64_MIN. */
    big(tb, (uint64_t)-(value + 1) + 1, 1);
  } else {
    big(tb, (uint64_t)value, 0);
  }
}

void pga_tb_uint(pga_tb_t *tb, uint64_t value) {
  if (value <= (uint64_t)INT32_MAX)
    pga_tb_int(tb, (int64_t)value);
  else
    big(tb, value, 0);
}

void pga_tb_double(pga_tb_t *tb, double value) {
  unsigned char *p;
  uint64_t bits;

  if (tb == NULL || tb->err != 0)
    return;
  if (!isfinite(value)) { /* no Erlang float holds NaN or an infinity */
    fail(tb, PGA_EINVAL);
    return;
  }
  if ((p = reserve(tb, 9)) == NULL)
    return;
  memcpy(&bits, &value, sizeof bits);
  put8(p, TAG_NEW_FLOAT);
  put32(p + 1, (uint32_t)(bits >> 32));
  put32(p + 5, (uint32_t)bits);
}

void pga_tb_binary(pga_tb_t *tb, const void *data, size_t len) {
  unsigned char *p;

  if (tb == NULL || tb->err != 0)
    return;
  if (data == NULL && len > 0) {
    fail(tb, PGA_EINVAL);
    return;
  }
  if (len > UINT32_MAX || len > SIZE_MAX - 5) {
    fail(tb, PGA_ETOOBIG);
    return;
  }
  if ((p = reserve(tb, 5 + len)) == NULL)
    return;
  put8(p, TAG_BINARY);
  put32(p + 1, (uint32_t)len);
  if (len > 0)
    memcpy(p + 5, data, len);
}

void pga_tb_string(pga_tb_t *tb, const char *s) {
  if (s == NULL) {
    if (tb != NULL && tb->err == 0)
      fail(tb, PGA_EINVAL);
    return;
  }
  pga_tb_binary(tb, s, strlen(s));
}

/* ---- Containers ---- */

/* A tag and a 32-bit count; counts past 2^32 - 1 cannot be encoded. */
static void header32(pga_tb_t *tb, unsigned tag, size_t n) {
  unsigned char *p;

  if (tb == NULL || tb->err != 0)
    return;
  if (n > UINT32_MAX) {
    fail(tb, PGA_ETOOBIG);
    return;
  }
  if ((p = reserve(tb, 5)) != NULL) {
    put8(p, tag);
    put32(p + 1, (uint32_t)n);
  }
}

void pga_tb_tuple(pga_tb_t *tb, size_t arity) {
  unsigned char *p;

  if (arity > 255) {
    header32(tb, TAG_LARGE_TUPLE, arity);
  } else if ((p = reserve(tb, 2)) != NULL) {
    put8(p, TAG_SMALL_TUPLE);
    put8(p + 1, (unsigned)arity);
  }
}

void pga_tb_nil(pga_tb_t *tb) {
  unsigned char *p = reserve(tb, 1);

  if (p != NULL)
    put8(p, TAG_NIL);
}

void pga_tb_list(pga_tb_t *tb, size_t n) {
  if (n == 0)
    pga_tb_nil(tb);
  else
    header32(tb, TAG_LIST, n);
}

void pga_tb_list_head(pga_tb_t *tb, size_t n) {
  if (n > 0)
    header32(tb, TAG_LIST, n);
}

void pga_tb_map(pga_tb_t *tb, size_t pairs) {
  header32(tb, TAG_MAP, pairs);
}

void pga_tb_term(pga_tb_t *tb, const pga_term_t *t) {
  size_t used;

  if (tb == NULL || tb->err != 0)
    return;
  /* Only whole terms: the builder's output must stay one term. Views
   * come from checked input or from builders, so the structure is what
   * can go wrong (a view cut short or running on); re-judging contents
   * on every copy was a fifth of a gateway request's CPU. */
  if (t == NULL || pga__term_skip(t->buf, t->len, &used) != 0 ||
      used != t->len) {
    fail(tb, PGA_EINVAL);
    return;
  }
  pga__tb_raw(tb, t->buf, t->len);
}

/* ---- Pids, references, argument lists ---- */

/* The node of an erlang_pid/erlang_ref: NUL-terminated UTF-8 in a
 * MAXATOMLEN_UTF8 array. */
static void node_atom(pga_tb_t *tb, const char *node) {
  const char *end = memchr(node, '\0', MAXATOMLEN_UTF8);

  if (end == NULL) {
    fail(tb, PGA_EINVAL);
    return;
  }
  pga_tb_atom_len(tb, node, (size_t)(end - node));
}

void pga__tb_pid(pga_tb_t *tb, const erlang_pid *pid) {
  unsigned char *p;

  if (tb == NULL || tb->err != 0)
    return;
  if (pid == NULL) {
    fail(tb, PGA_EINVAL);
    return;
  }
  if ((p = reserve(tb, 1)) == NULL)
    return;
  put8(p, TAG_NEW_PID);
  node_atom(tb, pid->node);
  if ((p = reserve(tb, 12)) == NULL)
    return;
  put32(p, pid->num);
  put32(p + 4, pid->serial);
  put32(p + 8, pid->creation);
}

void pga__tb_ref(pga_tb_t *tb, const erlang_ref *ref) {
  unsigned char *p;
  int i;

  if (tb == NULL || tb->err != 0)
    return;
  if (ref == NULL || ref->len < 1 || ref->len > 5) {
    fail(tb, PGA_EINVAL);
    return;
  }
  if ((p = reserve(tb, 3)) == NULL)
    return;
  put8(p, TAG_NEWER_REF);
  put16(p + 1, (uint32_t)ref->len);
  node_atom(tb, ref->node);
  if ((p = reserve(tb, 4 + 4 * (size_t)ref->len)) == NULL)
    return;
  put32(p, ref->creation);
  for (i = 0; i < ref->len; i++)
    put32(p + 4 + 4 * (size_t)i, ref->n[i]);
}

void pga__tb_list_normalized(pga_tb_t *tb, const pga_term_t *t) {
  pga_term_iter_t it;
  pga_term_t elem, tail;
  size_t n = 0, head_at;
  unsigned char *p;

  if (tb == NULL || tb->err != 0)
    return;
  if (t == NULL) {
    fail(tb, PGA_EINVAL);
    return;
  }
  if (pga_term_iter_init(&it, t) != 0) {
    fail(tb, pga_term_type(t) == PGA_T_INVALID ? PGA_EINVAL : PGA_ETYPE);
    return;
  }
  /* One pass (the elements can be large: a Request is one): the count
   * goes into the LIST_EXT header once the elements are written. */
  head_at = (size_t)tb->x.index;
  header32(tb, TAG_LIST, 0);
  while (pga_term_iter_next(&it, &elem)) {
    pga__tb_raw(tb, elem.buf, elem.len);
    n++;
  }
  pga_term_iter_tail(&it, &tail);
  if (tail.buf == NULL) {
    fail(tb, PGA_EINVAL);
    return;
  }
  if (tb->err != 0)
    return;
  if (n == 0) { /* [] (or a tail alone): the header goes, nil stays */
    tb->x.index = (int)head_at;
    pga_tb_nil(tb);
    return;
  }
  pga__tb_raw(tb, tail.buf, tail.len);
  if (tb->err == 0) {
    p = (unsigned char *)tb->x.buff + head_at + 1;
    p[0] = (unsigned char)(n >> 24);
    p[1] = (unsigned char)(n >> 16);
    p[2] = (unsigned char)(n >> 8);
    p[3] = (unsigned char)n;
  }
}
