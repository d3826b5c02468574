/* The Elixir expressions the print helpers evaluate on terms they did not
 * build (ops-plane.md §0.2, §5): `map.field`, "#{x}" and Enum.join/2.
 * Where Elixir raises, the exception struct is written to `raised` and -1
 * returned; the helper then prints what it had and fails the call with it
 * (on the BEAM, lines printed before the raise reach the shell too). A
 * line is rendered into its own text and kept only when complete, since
 * IO.puts never prints half an interpolated line. */
#ifndef PGA_OPS_EVAL_H
#define PGA_OPS_EVAL_H

#include "term/term.h"
#include "ops/render.h"
#include "pga/node.h"
#include "pga/term.h"

/* map.field: 0 with *value set; -1 with BadMapError (not a map) or
 * KeyError (no such atom key). */
int pga__ops_dot(const pga_term_t *map, const char *field,
                 pga_term_t *value, pga_tb_t *raised);

/* Appends "#{x}": binaries, atoms (nil as ""), numbers, and lists of
 * code points and binaries (chardata); -1 with Protocol.UndefinedError for
 * a term String.Chars does not take, ArgumentError for other lists. */
int pga__ops_interp(pga_ops_text_t *t, const pga_term_t *x,
                    pga_tb_t *raised);

/* Appends Enum.join(list, sep) (each element interpolated); -1 with
 * Protocol.UndefinedError (Enumerable) when list is not a proper list. */
int pga__ops_join(pga_ops_text_t *t, const pga_term_t *list,
                  const char *sep, pga_tb_t *raised);

/* 1 if x is neither nil nor false (Elixir truthiness). */
int pga__ops_truthy(const pga_term_t *x);

/* One pair of a map. */
typedef pga__term_pair_t pga_ops_pair_t;

/* The pairs of map in Enum.each's order: Erlang term order of the keys for
 * maps up to 32 keys, wire order beyond (pga__term_map_pairs). *pairs is
 * malloc'ed (NULL when empty). 0, PGA_ETYPE, PGA_EBADTERM or PGA_ENOMEM. */
int pga__ops_map_sorted(const pga_term_t *map, pga_ops_pair_t **pairs,
                        size_t *n);

/* Appends line's text to t and empties line for the next one. */
void pga__ops_line_commit(pga_ops_text_t *t, pga_ops_text_t *line);

/* The helper's end: prints t through the caller's group leader, then
 * returns :ok, or (raised non-empty) fails the call with that exception
 * as error. */
pga_outcome_t pga__ops_print_end(pga_call_t *call, pga_ops_text_t *t,
                                 pga_tb_t *raised, pga_tb_t *out);

#endif
