/* Elixir's inspect/1 rendering of a term (config-plane.md §10), for the
 * error strings gateway planes send to Elixir peers. */
#ifndef PGA_TERM_INSPECT_H
#define PGA_TERM_INSPECT_H

#include <stddef.h>

#include "pga/term.h"

/* Writes inspect(t) into out (truncated, always NUL-terminated when
 * outlen > 0) and returns the full length, as snprintf does. One line:
 * no width-based line breaks (docs/compat.md C5). Honours the default
 * limits of inspect/1: 50 items per collection, 4096 bytes of a string.
 * A malformed term renders as "#BadTerm". */
size_t pga_term_inspect(const pga_term_t *t, char *out, size_t outlen);

/* The same into a malloc'ed NUL-terminated string (free it); NULL on
 * ENOMEM. */
char *pga_term_inspect_dup(const pga_term_t *t);

#endif
