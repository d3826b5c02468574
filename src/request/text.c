/* Message text for the request plane's error strings: appends, Elixir
 * inspect/1 and "#{number}" interpolation into one growable buffer. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request/request_int.h"
#include "term/inspect.h"

/* inspect/1 bounds what a value adds (50 items, 4096 bytes a string), so
 * messages stay far below this. */
#define TEXT_CAP (4u * 1024u * 1024u)

void pga__rq_text_init(pga__rq_text_t *t) {
  pga_dynbuf_init(&t->b, TEXT_CAP);
  t->err = 0;
}

void pga__rq_text_free(pga__rq_text_t *t) { pga_dynbuf_free(&t->b); }

void pga__rq_text_add(pga__rq_text_t *t, const char *s, size_t n) {
  if (t->err == 0 && n > 0)
    t->err = pga_dynbuf_add(&t->b, s, n);
}

void pga__rq_text_str(pga__rq_text_t *t, const char *s) {
  pga__rq_text_add(t, s, strlen(s));
}

void pga__rq_text_fmt(pga__rq_text_t *t, const char *fmt, ...) {
  char small[256];
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    t->err = PGA_EINVAL;
  } else if ((size_t)n < sizeof small) {
    pga__rq_text_add(t, small, (size_t)n);
  } else {
    char *big = malloc((size_t)n + 1);

    if (big == NULL) {
      t->err = PGA_ENOMEM;
      return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    pga__rq_text_add(t, big, (size_t)n);
    free(big);
  }
}

void pga__rq_text_inspect(pga__rq_text_t *t, const pga_term_t *term) {
  char *s;

  if (t->err != 0)
    return;
  if ((s = pga_term_inspect_dup(term)) == NULL) {
    t->err = PGA_ENOMEM;
    return;
  }
  pga__rq_text_str(t, s);
  free(s);
}

void pga__rq_text_number(pga__rq_text_t *t, const pga_term_t *term) {
  size_t n;
  char *s;

  /* Integers print alike in every syntax; floats interpolate with
   * :erlang.float_to_binary(f, [:short]), Erlang's shortest form. */
  if (t->err != 0)
    return;
  n = pga_term_format(term, NULL, 0);
  if ((s = malloc(n + 1)) == NULL) {
    t->err = PGA_ENOMEM;
    return;
  }
  pga_term_format(term, s, n + 1);
  pga__rq_text_add(t, s, n);
  free(s);
}

char *pga__rq_text_take(pga__rq_text_t *t) {
  char *s = NULL;
  size_t n = pga_dynbuf_size(&t->b);

  if (t->err == 0 && (s = malloc(n + 1)) != NULL) {
    if (n > 0)
      memcpy(s, pga_dynbuf_ptr(&t->b), n);
    s[n] = '\0';
  }
  pga__rq_text_free(t);
  return s;
}
