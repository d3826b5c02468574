/* Elixir field access, interpolation and join for the print helpers, with
 * the exceptions Elixir raises (eval.h). */
#include "ops/eval.h"
#include "term/term.h"

#include <stdlib.h>
#include <string.h>

#include "pga/errno.h"

/* %Mod{__exception__: true, fields...}: header for `fields` more pairs. */
static void exception_head(pga_tb_t *raised, const char *module,
                           size_t fields) {
  pga_tb_reset(raised);
  pga_tb_map(raised, fields + 2);
  pga_tb_atom(raised, "__struct__");
  pga_tb_atom(raised, module);
  pga_tb_atom(raised, "__exception__");
  pga_tb_atom(raised, "true");
}

static int raise_bad_map(pga_tb_t *raised, const pga_term_t *term) {
  exception_head(raised, "Elixir.BadMapError", 1);
  pga_tb_atom(raised, "term");
  pga_tb_term(raised, term);
  return -1;
}

static int raise_key_error(pga_tb_t *raised, const char *key,
                           const pga_term_t *term) {
  exception_head(raised, "Elixir.KeyError", 3);
  pga_tb_atom(raised, "key");
  pga_tb_atom(raised, key);
  pga_tb_atom(raised, "term");
  pga_tb_term(raised, term);
  pga_tb_atom(raised, "message");
  pga_tb_atom(raised, "nil");
  return -1;
}

static int raise_undefined(pga_tb_t *raised, const char *protocol,
                           const pga_term_t *value) {
  exception_head(raised, "Elixir.Protocol.UndefinedError", 3);
  pga_tb_atom(raised, "protocol");
  pga_tb_atom(raised, protocol);
  pga_tb_atom(raised, "value");
  pga_tb_term(raised, value);
  pga_tb_atom(raised, "description");
  pga_tb_string(raised, "");
  return -1;
}

static int raise_argument_error(pga_tb_t *raised, const char *message) {
  exception_head(raised, "Elixir.ArgumentError", 1);
  pga_tb_atom(raised, "message");
  pga_tb_string(raised, message);
  return -1;
}

int pga__ops_dot(const pga_term_t *map, const char *field,
                 pga_term_t *value, pga_tb_t *raised) {
  if (pga_term_type(map) != PGA_T_MAP) return raise_bad_map(raised, map);
  if (pga_term_map_get_atom(map, field, value) != 0)
    return raise_key_error(raised, field, map);
  return 0;
}

static void put_utf8(pga_ops_text_t *t, uint32_t cp) {
  char b[4];
  pga_ops_putn(t, b, pga__utf8_encode(cp, b));
}

static int is_code_point(int64_t v) {
  return v >= 0 && v <= 0x10FFFF && !(v >= 0xD800 && v <= 0xDFFF);
}

/* List.to_string/1 on a flat list of code points and binaries; nested
 * chardata is rare enough in these helpers to count as "not a string".
 * On a raise the caller drops the whole line, so partial text is fine. */
static int interp_list(pga_ops_text_t *t, const pga_term_t *x,
                       pga_tb_t *raised) {
  pga_term_iter_t it;
  pga_term_t el, tail;
  int64_t cp;
  const char *p;
  size_t n;
  int chardata = pga_term_iter_init(&it, x) == 0;
  while (chardata && pga_term_iter_next(&it, &el)) {
    if (pga_term_get_int64(&el, &cp) == 0 && is_code_point(cp))
      put_utf8(t, (uint32_t)cp);
    else if (pga_term_get_binary(&el, &p, &n) == 0)
      pga_ops_putn(t, p, n);
    else
      chardata = 0;
  }
  if (chardata) {
    pga_term_iter_tail(&it, &tail);
    chardata = pga_term_type(&tail) == PGA_T_NIL;
  }
  if (chardata) return 0;
  return raise_argument_error(raised,
                              "cannot convert the given list to a string");
}

int pga__ops_interp(pga_ops_text_t *t, const pga_term_t *x,
                    pga_tb_t *raised) {
  switch (pga_term_type(x)) {
    case PGA_T_BINARY:
    case PGA_T_ATOM:
    case PGA_T_INTEGER:
    case PGA_T_BIGINT:
    case PGA_T_FLOAT:
      pga_ops_s(t, x);
      return 0;
    case PGA_T_NIL:
      return 0;
    case PGA_T_LIST:
      return interp_list(t, x, raised);
    default:
      return raise_undefined(raised, "Elixir.String.Chars", x);
  }
}

int pga__ops_join(pga_ops_text_t *t, const pga_term_t *list,
                  const char *sep, pga_tb_t *raised) {
  pga_term_iter_t it;
  pga_term_t el, tail;
  if (pga_term_iter_init(&it, list) != 0)
    return raise_undefined(raised, "Elixir.Enumerable", list);
  for (int first = 1; pga_term_iter_next(&it, &el); first = 0) {
    if (!first) pga_ops_put(t, sep);
    if (pga__ops_interp(t, &el, raised) != 0) return -1;
  }
  pga_term_iter_tail(&it, &tail);
  if (pga_term_type(&tail) != PGA_T_NIL)
    return raise_undefined(raised, "Elixir.Enumerable", list);
  return 0;
}

int pga__ops_truthy(const pga_term_t *x) {
  return !pga_term_is_atom(x, "nil") && !pga_term_is_atom(x, "false");
}

void pga__ops_line_commit(pga_ops_text_t *t, pga_ops_text_t *line) {
  if (line->err && !t->err) t->err = line->err;
  pga_ops_putn(t, pga_ops_text_str(line), pga_ops_text_len(line));
  pga_dynbuf_reset(&line->b);
  line->err = 0;
}

pga_outcome_t pga__ops_print_end(pga_call_t *call, pga_ops_text_t *t,
                                 pga_tb_t *raised, pga_tb_t *out) {
  pga_outcome_t outcome = pga_ops_print(call, t, out);
  if (outcome != PGA_RETURN) return outcome;
  if (pga_tb_error(raised)) {
    pga_tb_reset(out);
    pga_tb_atom(out, "enomem");
    return PGA_ERROR;
  }
  pga_term_t exc = pga_tb_data(raised);
  if (exc.len == 0) return outcome;
  pga_tb_reset(out);
  pga_tb_term(out, &exc);
  return PGA_ERROR;
}

/* ---- map order ---- */

int pga__ops_map_sorted(const pga_term_t *map, pga_ops_pair_t **pairs,
                        size_t *n) {
  return pga__term_map_pairs(map, pairs, n);
}
