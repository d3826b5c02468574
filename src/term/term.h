/* The term layer as offered to the layers above: the public term API plus
 * bounds-checked validation, in-place builders and pid/ref helpers. */
#ifndef PGA_TERM_TERM_H
#define PGA_TERM_TERM_H

#include <ei.h>
#include <stddef.h>

#include "pga/term.h"

#define PGA_VERSION_MAGIC 131

/* The builder; embeddable (pga__tb_init/pga__tb_destroy) so hot paths need
 * no allocation of their own. */
struct pga_tb_s {
  ei_x_buff x;   /* x.index = bytes written */
  size_t cap;
  int err;       /* first error, sticky */
};

/* Checks the term at buf[0..len) (first byte is a tag, no version byte):
 * every length, nested term and the depth limit. On success *used is the
 * term's size. 0 or PGA_EBADTERM. Never reads outside buf[0..len). */
int pga__term_check(const char *buf, size_t len, size_t *used)
    __attribute__((warn_unused_result));

/* Builders on caller memory. init cannot fail (allocation is lazy). */
void pga__tb_init(pga_tb_t *tb, size_t cap);
void pga__tb_destroy(pga_tb_t *tb);
/* Writes the version byte 131 (for terms that go on the wire). */
void pga__tb_version(pga_tb_t *tb);
/* Appends raw bytes (an already-encoded term or a part of one). */
void pga__tb_raw(pga_tb_t *tb, const void *data, size_t len);
void pga__tb_pid(pga_tb_t *tb, const erlang_pid *pid);
void pga__tb_ref(pga_tb_t *tb, const erlang_ref *ref);
/* Copies a list term, writing STRING_EXT as LIST_EXT of small integers
 * (argument lists must reach handlers and stack frames as LIST_EXT;
 * distribution.md §7). Only the top level is rewritten. Sets PGA_ETYPE as
 * the builder's error when t is not a list. */
void pga__tb_list_normalized(pga_tb_t *tb, const pga_term_t *t);

/* Pid and reference decoding from a view (any of PID_EXT / NEW_PID_EXT,
 * REFERENCE_EXT / NEW_REFERENCE_EXT / NEWER_REFERENCE_EXT).
 * 0 or PGA_ETYPE / PGA_EBADTERM. */
int pga__term_get_pid(const pga_term_t *t, erlang_pid *out);
int pga__term_get_ref(const pga_term_t *t, erlang_ref *out);

#endif
