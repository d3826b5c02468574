/* Text for the print helpers (ops-plane.md §0.2, §5): a growing UTF-8
 * buffer with sticky errors, and the renderings the library's shell
 * helpers use: s() interpolation, i() inspect, bytes(), up(), ts(), pad()
 * and status icons. Sending the text to the caller's shell is
 * pga_ops_print(). */
#ifndef PGA_OPS_RENDER_H
#define PGA_OPS_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "base/dynbuf.h"
#include "pga/node.h"
#include "pga/term.h"

/* Largest helper output (bytes); longer text is cut with a note. */
#define PGA_OPS_TEXT_MAX (4u * 1024u * 1024u)

typedef struct pga_ops_text_s {
  pga_dynbuf_t b;
  int err; /* sticky: PGA_ENOMEM or PGA_ETOOBIG */
} pga_ops_text_t;

void pga_ops_text_init(pga_ops_text_t *t);
void pga_ops_text_free(pga_ops_text_t *t);
/* The text so far (NUL-terminated; "" when empty) and its length. */
const char *pga_ops_text_str(const pga_ops_text_t *t);
size_t pga_ops_text_len(const pga_ops_text_t *t);

/* Literal text and printf-style text. */
void pga_ops_put(pga_ops_text_t *t, const char *s);
void pga_ops_putn(pga_ops_text_t *t, const char *s, size_t n);
void pga_ops_putf(pga_ops_text_t *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "#{x}": a binary as is, an atom by its name (Elixir. prefix kept; nil
 * gives ""), numbers as Elixir prints them, anything else inspected. */
void pga_ops_s(pga_ops_text_t *t, const pga_term_t *x);
/* inspect(x), one line. */
void pga_ops_i(pga_ops_text_t *t, const pga_term_t *x);
/* The library's byte formatter (QUIRK, replicated): every integer prints
 * as "<n> B", anything else as "?". */
void pga_ops_bytes(pga_ops_text_t *t, const pga_term_t *x);
void pga_ops_bytes_int(pga_ops_text_t *t, int64_t n);
/* {ms, _} as "<h>h <m>m <s>s"; anything else "?". */
void pga_ops_up(pga_ops_text_t *t, const pga_term_t *x);
void pga_ops_up_ms(pga_ops_text_t *t, int64_t ms);
/* ms since the epoch as "YYYY-MM-DD HH:MM:SS.mmmZ" (UTC). */
void pga_ops_ts(pga_ops_text_t *t, int64_t ms);
/* Pads the text written since mark (a pga_ops_text_len() taken before)
 * with spaces to n characters (code points); never truncates. */
void pga_ops_pad(pga_ops_text_t *t, size_t mark, size_t n);
/* ":ok" -> "✅", ":degraded" -> "⚠️ " (trailing space), else "❌". */
void pga_ops_icon(pga_ops_text_t *t, const char *status);

/* Sends the whole text to the caller's group leader as one put_chars
 * request and waits for the reply (worker functions only). Without a
 * group leader, with a dead one or after 5 s the text goes to the log
 * instead. Then writes :ok to out (the helpers' value) and returns
 * PGA_RETURN; on a text error it returns the library's crash shape. */
pga_outcome_t pga_ops_print(pga_call_t *call, pga_ops_text_t *t,
                            pga_tb_t *out);

#endif
