/* Helpers shared by the src/request files only: term order, the library's
 * map iteration order, table keys, message building and exceptions. */
#ifndef PGA_REQUEST_REQUEST_INT_H
#define PGA_REQUEST_REQUEST_INT_H

#include <stddef.h>
#include <stdint.h>

#include "base/dynbuf.h"
#include "request/request.h"
#include "term/term.h"

/* ---- Small readers (reqview.c) ---- */

/* Type of t, or PGA_T_INVALID for a malformed view. */
pga_term_type_t pga__rq_type(const pga_term_t *t);
int pga__rq_is_nil(const pga_term_t *t);
int pga__rq_is_bool(const pga_term_t *t);
int pga__rq_is_number(const pga_term_t *t);
/* A binary's bytes (views into t), 0 or -1 when t is not a binary. */
int pga__rq_binary(const pga_term_t *t, const unsigned char **p, size_t *n);
/* 1 if t is a binary of at least one byte. */
int pga__rq_is_nonempty_binary(const pga_term_t *t);
/* 1 if t is a tuple of that arity; el (may be NULL) gets the elements. */
int pga__rq_tuple(const pga_term_t *t, size_t arity, pga_term_t *el);
/* 1 if t is a proper list (NIL, LIST_EXT with [] tail, STRING_EXT); its
 * length to *n (may be NULL). */
int pga__rq_proper_list(const pga_term_t *t, size_t *n);
/* Map lookup by exact term; 1 and *value if found. */
int pga__rq_map_get(const pga_term_t *map, const pga_term_t *key,
                    pga_term_t *value);
/* Keyword.get(list, key): 1 found (value set), 0 absent, -1 when the first
 * tuple with that first element is not a pair (CaseClauseError). */
int pga__rq_kw_get(const pga_term_t *list, const char *key,
                   pga_term_t *value);

/* ---- Table keys (key.c) ---- */

/* Largest key kept verbatim; longer keys become a 128-bit keyed digest. */
#define PGA__RQ_KEY_MAX 256

typedef struct pga__rq_key_s {
  size_t len;
  unsigned char b[PGA__RQ_KEY_MAX + 1];
} pga__rq_key_t;

/* A byte string equal for equal keys: binaries, atoms (any encoding) and
 * integers (any width) normalised; other terms by encoding. Keys longer
 * than PGA__RQ_KEY_MAX are digested (collisions need 2^64 work against a
 * secret key). Can't fail. */
void pga__rq_key(const pga_term_t *t, pga__rq_key_t *k);

/* The key of a binary with these bytes (tag 'b'), or of any kind. */
#define PGA__RQ_KEY_BINARY 'b'
void pga__rq_key_bytes(unsigned char tag, const void *data, size_t len,
                       pga__rq_key_t *k);

/* Owned copies for table entries: allocate, hash, compare. */
typedef struct pga__rq_keybuf_s {
  size_t len;
  unsigned char b[];
} pga__rq_keybuf_t;
pga__rq_keybuf_t *pga__rq_keybuf_new(const pga__rq_key_t *k);
uint64_t pga__rq_keybuf_hash(const void *key);
int pga__rq_keybuf_equal(const void *a, const void *b);

/* ---- Sliding logs (ratelog.c) ---- */

/* One key's timestamps, oldest first and never decreasing: the library's
 * list (newest first) read backwards, in a ring. */
typedef struct pga__rq_log_s {
  int64_t *ts;
  uint32_t cap;
  uint32_t head; /* index of the oldest */
  uint32_t len;
} pga__rq_log_t;

/* An empty log. NULL on ENOMEM. */
pga__rq_log_t *pga__rq_log_new(void);
void pga__rq_log_free(void *log);
/* The newest timestamp, or INT64_MIN when empty. O(1). */
int64_t pga__rq_log_newest(const pga__rq_log_t *l);
/* How many are newer than cutoff (ts > cutoff), and the oldest of them.
 * Read only. O(log len). */
uint32_t pga__rq_log_count_after(const pga__rq_log_t *l, int64_t cutoff,
                                 int64_t *oldest);
/* The library's accept step: keep ts > cutoff, add now, keep the newest
 * max. now must be >= every stored timestamp; max >= 1. 0 or PGA_ENOMEM
 * (log unchanged). Amortised O(1): each timestamp is added and dropped
 * once. */
int pga__rq_log_accept(pga__rq_log_t *l, int64_t cutoff, int64_t now,
                       uint32_t max);
/* Drops ts <= cutoff (the periodic cleanup); returns how many. */
uint32_t pga__rq_log_prune(pga__rq_log_t *l, int64_t cutoff);

/* ---- Text (text.c) ---- */

/* Message building: a dynbuf with a cap; errors are sticky. */
typedef struct pga__rq_text_s {
  pga_dynbuf_t b;
  int err;
} pga__rq_text_t;

void pga__rq_text_init(pga__rq_text_t *t);
void pga__rq_text_free(pga__rq_text_t *t);
void pga__rq_text_add(pga__rq_text_t *t, const char *s, size_t n);
void pga__rq_text_str(pga__rq_text_t *t, const char *s);
void pga__rq_text_fmt(pga__rq_text_t *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends inspect(term) (Elixir). */
void pga__rq_text_inspect(pga__rq_text_t *t, const pga_term_t *term);
/* Appends "#{term}" for a number (integers in decimal, floats as Elixir
 * prints them). */
void pga__rq_text_number(pga__rq_text_t *t, const pga_term_t *term);
/* The NUL-terminated text, given away (malloc'ed); NULL after an error. */
char *pga__rq_text_take(pga__rq_text_t *t);

/* ---- Exceptions (exc.c) ---- */

/* Sets *exc (may be NULL) to an exception with a message field
 * (ArgumentError, RuntimeError, InvalidType, ArithmeticError). Takes
 * message (malloc'ed; NULL = out of memory). Returns PGA_EINVAL, or
 * PGA_ENOMEM when message or the inspect text could not be made. */
int pga__rq_exc_message(pga_request_exc_t *exc, pga_exc_kind_t kind,
                        char *message);
/* BadMapError for term. */
int pga__rq_exc_badmap(pga_request_exc_t *exc, const pga_term_t *term);
/* FunctionClauseError in module.function/arity (module as Elixir writes
 * it, e.g. "PhoenixGenApi.ArgumentHandler"). */
int pga__rq_exc_clause(pga_request_exc_t *exc, const char *module,
                       const char *function, unsigned arity);
/* Protocol.UndefinedError for Enumerable and value. */
int pga__rq_exc_enumerable(pga_request_exc_t *exc, const pga_term_t *value);

/* ---- Calendar (datetime.c) ---- */

/* DateTime.from_iso8601/1 converted to UTC (the :datetime conversion):
 * 0 and the %DateTime{} struct written to tb; or the reason atom's name
 * ("invalid_format", "missing_offset"...) in *reason, with *zero_offset
 * set when the string parsed with a zero offset (rejected by the
 * library). */
int pga__rq_datetime(const unsigned char *s, size_t n, pga_tb_t *tb,
                     const char **reason, int *zero_offset);
/* NaiveDateTime.from_iso8601/1: 0 and the %NaiveDateTime{} struct, or the
 * reason's name. */
int pga__rq_naive_datetime(const unsigned char *s, size_t n, pga_tb_t *tb,
                           const char **reason);

#endif
