/* Elixir exceptions as data (request-plane.md §3.4, §5.6): the kind, the
 * text Exception.message/1 gives (the channel reply, E16) and the text
 * inspect/1 gives for the struct (E7d), as Elixir 1.18 prints them. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "request/request_int.h"
#include "term/inspect.h"

void pga_request_exc_clear(pga_request_exc_t *e) {
  if (e == NULL)
    return;
  free(e->message);
  free(e->inspect);
  memset(e, 0, sizeof *e);
}

static const char *struct_name(pga_exc_kind_t kind) {
  switch (kind) {
  case PGA_EXC_ARGUMENT_ERROR: return "ArgumentError";
  case PGA_EXC_RUNTIME_ERROR: return "RuntimeError";
  case PGA_EXC_INVALID_TYPE: return "PhoenixGenApi.Errors.InvalidType";
  case PGA_EXC_ARITHMETIC: return "ArithmeticError";
  default: return "RuntimeError";
  }
}

/* Stores the two texts, or frees them and reports ENOMEM. */
static int store(pga_request_exc_t *exc, pga_exc_kind_t kind, char *message,
                 char *inspect) {
  if (message == NULL || inspect == NULL || exc == NULL) {
    free(message);
    free(inspect);
    return exc == NULL ? PGA_EINVAL : PGA_ENOMEM;
  }
  pga_request_exc_clear(exc);
  exc->kind = kind;
  exc->message = message;
  exc->inspect = inspect;
  return PGA_EINVAL;
}

/* inspect/1 of a string: quoted and escaped as Elixir does, including its
 * 4096-byte printable limit. */
static void text_inspect_string(pga__rq_text_t *t, const char *s) {
  pga_tb_t tb;

  pga__tb_init(&tb, 0);
  pga_tb_string(&tb, s);
  if (pga_tb_error(&tb) != 0) {
    t->err = pga_tb_error(&tb);
  } else {
    pga_term_t v = pga_tb_data(&tb);

    pga__rq_text_inspect(t, &v);
  }
  pga__tb_destroy(&tb);
}

int pga__rq_exc_message(pga_request_exc_t *exc, pga_exc_kind_t kind,
                        char *message) {
  pga__rq_text_t t;

  if (message == NULL)
    return store(exc, kind, NULL, NULL);
  pga__rq_text_init(&t);
  pga__rq_text_fmt(&t, "%%%s{message: ", struct_name(kind));
  text_inspect_string(&t, message);
  pga__rq_text_str(&t, "}");
  return store(exc, kind, message, pga__rq_text_take(&t));
}

int pga__rq_exc_badmap(pga_request_exc_t *exc, const pga_term_t *term) {
  pga__rq_text_t m, i;

  pga__rq_text_init(&m);
  pga__rq_text_str(&m, "expected a map, got: ");
  pga__rq_text_inspect(&m, term);
  pga__rq_text_init(&i);
  pga__rq_text_str(&i, "%BadMapError{term: ");
  pga__rq_text_inspect(&i, term);
  pga__rq_text_str(&i, "}");
  return store(exc, PGA_EXC_BAD_MAP, pga__rq_text_take(&m),
               pga__rq_text_take(&i));
}

int pga__rq_exc_clause(pga_request_exc_t *exc, const char *module,
                       const char *function, unsigned arity) {
  pga__rq_text_t m, i;

  pga__rq_text_init(&m);
  pga__rq_text_fmt(&m, "no function clause matching in %s.%s/%u", module,
                   function, arity);
  pga__rq_text_init(&i);
  pga__rq_text_fmt(&i,
                   "%%FunctionClauseError{module: %s, function: :%s, "
                   "arity: %u, kind: nil, args: nil, clauses: nil}",
                   module, function, arity);
  return store(exc, PGA_EXC_FUNCTION_CLAUSE, pga__rq_text_take(&m),
               pga__rq_text_take(&i));
}

/* The type name Protocol.UndefinedError reports. */
static const char *type_name(const pga_term_t *v) {
  switch (pga__rq_type(v)) {
  case PGA_T_ATOM: return "Atom";
  case PGA_T_BINARY:
  case PGA_T_BITSTRING: return "BitString";
  case PGA_T_FLOAT: return "Float";
  case PGA_T_INTEGER:
  case PGA_T_BIGINT: return "Integer";
  case PGA_T_TUPLE: return "Tuple";
  case PGA_T_PID: return "PID";
  case PGA_T_PORT: return "Port";
  case PGA_T_REF: return "Reference";
  case PGA_T_FUN: return "Function";
  case PGA_T_MAP: return "Map";
  default: return "List";
  }
}

int pga__rq_exc_enumerable(pga_request_exc_t *exc, const pga_term_t *value) {
  pga__rq_text_t m, i;

  pga__rq_text_init(&m);
  pga__rq_text_fmt(&m, "protocol Enumerable not implemented for type %s",
                   type_name(value));
  pga__rq_text_str(&m, "\n\nGot value:\n\n    ");
  pga__rq_text_inspect(&m, value);
  pga__rq_text_str(&m, "\n");
  pga__rq_text_init(&i);
  pga__rq_text_str(&i, "%Protocol.UndefinedError{protocol: Enumerable, "
                       "value: ");
  pga__rq_text_inspect(&i, value);
  pga__rq_text_str(&i, ", description: \"\"}");
  return store(exc, PGA_EXC_PROTOCOL_UNDEFINED, pga__rq_text_take(&m),
               pga__rq_text_take(&i));
}
