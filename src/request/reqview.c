/* Small term readers for the request plane and the Request struct as
 * views (request-plane.md §1.1). */
#include "config.h"

#include <string.h>

#include "request/request_int.h"
#include "term/term.h"

#define TAG_NIL 106

/* SMALL_ATOM_UTF8_EXT 'nil'. */
static const char nil_atom[] = {119, 3, 'n', 'i', 'l'};
static const char struct_atom[] = "\x77\x24"
                                  "Elixir.PhoenixGenApi.Structs.Request";

pga_term_t pga_request_nil(void) {
  pga_term_t t = {nil_atom, sizeof nil_atom};

  return t;
}

pga_term_type_t pga__rq_type(const pga_term_t *t) {
  if (t == NULL || t->buf == NULL || t->len == 0)
    return PGA_T_INVALID;
  return pga_term_type(t);
}

int pga__rq_is_nil(const pga_term_t *t) {
  return pga__rq_type(t) == PGA_T_ATOM && pga_term_is_atom(t, "nil");
}

int pga__rq_is_bool(const pga_term_t *t) {
  return pga__rq_type(t) == PGA_T_ATOM &&
         (pga_term_is_atom(t, "true") || pga_term_is_atom(t, "false"));
}

int pga__rq_is_number(const pga_term_t *t) {
  pga_term_type_t ty = pga__rq_type(t);

  return ty == PGA_T_INTEGER || ty == PGA_T_BIGINT || ty == PGA_T_FLOAT;
}

int pga__rq_binary(const pga_term_t *t, const unsigned char **p, size_t *n) {
  const char *d;
  size_t len;

  if (pga__rq_type(t) != PGA_T_BINARY ||
      pga_term_get_binary(t, &d, &len) != 0)
    return -1;
  *p = (const unsigned char *)d;
  *n = len;
  return 0;
}

int pga__rq_is_nonempty_binary(const pga_term_t *t) {
  const unsigned char *p;
  size_t n;

  return pga__rq_binary(t, &p, &n) == 0 && n > 0;
}

int pga__rq_tuple(const pga_term_t *t, size_t arity, pga_term_t *el) {
  size_t a;

  if (pga__rq_type(t) != PGA_T_TUPLE || pga_term_tuple_arity(t, &a) != 0 ||
      a != arity)
    return 0;
  for (size_t i = 0; el != NULL && i < arity; i++)
    if (pga_term_tuple_get(t, i, &el[i]) != 0)
      return 0;
  return 1;
}

int pga__rq_proper_list(const pga_term_t *t, size_t *n) {
  pga_term_iter_t it;
  pga_term_t el, tail;
  size_t count = 0;
  pga_term_type_t ty = pga__rq_type(t);

  if (ty != PGA_T_NIL && ty != PGA_T_LIST)
    return 0;
  if (pga_term_iter_init(&it, t) != 0)
    return 0;
  while (pga_term_iter_next(&it, &el))
    count++;
  pga_term_iter_tail(&it, &tail);
  if (tail.buf == NULL || tail.len == 0 ||
      (unsigned char)tail.buf[0] != TAG_NIL)
    return 0;
  if (n != NULL)
    *n = count;
  return 1;
}

int pga__rq_map_get(const pga_term_t *map, const pga_term_t *key,
                    pga_term_t *value) {
  if (pga__rq_type(map) != PGA_T_MAP)
    return 0;
  return pga_term_map_get(map, key, value) == 0;
}

int pga__rq_kw_get(const pga_term_t *list, const char *key,
                   pga_term_t *value) {
  pga_term_iter_t it;
  pga_term_t el, first;
  size_t arity;

  if (pga_term_iter_init(&it, list) != 0)
    return 0;
  while (pga_term_iter_next(&it, &el)) {
    /* :lists.keyfind(key, 1, list) looks at tuples of any size. */
    if (pga__rq_type(&el) != PGA_T_TUPLE ||
        pga_term_tuple_arity(&el, &arity) != 0 || arity == 0 ||
        pga_term_tuple_get(&el, 0, &first) != 0 ||
        !pga_term_is_atom(&first, key))
      continue;
    if (arity != 2 || pga_term_tuple_get(&el, 1, value) != 0)
      return -1;
    return 1;
  }
  return 0;
}

/* ---- The Request struct ---- */

static const char *const field_names[] = {
    "request_id", "request_type", "service", "user_id",
    "device_id",  "args",         "user_roles", "version"};
#define LEN(s) (sizeof s - 1)
static const size_t field_lens[] = {
    LEN("request_id"), LEN("request_type"), LEN("service"), LEN("user_id"),
    LEN("device_id"),  LEN("args"),         LEN("user_roles"),
    LEN("version")};
#undef LEN

static pga_term_t *field_slot(pga_request_t *req, size_t i) {
  pga_term_t *slots[] = {&req->request_id, &req->request_type,
                         &req->service,    &req->user_id,
                         &req->device_id,  &req->args,
                         &req->user_roles, &req->version};

  return slots[i];
}

#define NFIELDS (sizeof field_names / sizeof *field_names)

/* The field a map key names, or -1. Keys come as SMALL_ATOM_UTF8 from
 * every OTP this supports: compared by length and bytes; other atom
 * encodings take the general comparison. */
static int field_of(const pga_term_t *key) {
  const unsigned char *b = (const unsigned char *)key->buf;

  if (key->len >= 2 && b[0] == 119 && (size_t)b[1] + 2 <= key->len) {
    for (size_t i = 0; i < NFIELDS; i++)
      if (field_lens[i] == b[1] &&
          memcmp(b + 2, field_names[i], field_lens[i]) == 0)
        return (int)i;
    return -1;
  }
  for (size_t i = 0; i < NFIELDS; i++)
    if (pga_term_is_atom(key, field_names[i]))
      return (int)i;
  return -1;
}

/* One walk over the map: each pair goes to its slot (the first of equal
 * keys wins, as a lookup would find it); absent fields are nil. */
int pga_request_from_struct(const pga_term_t *map, pga_request_t *req) {
  pga__map_iter_t it;
  pga_term_t key, value;
  unsigned seen = 0;
  int f;

  if (pga__map_iter_init(&it, map) != 0)
    return PGA_ETYPE;
  for (size_t i = 0; i < NFIELDS; i++)
    *field_slot(req, i) = pga_request_nil();
  while (pga__map_iter_next(&it, &key, &value)) {
    if ((f = field_of(&key)) >= 0 && !(seen & 1u << f)) {
      seen |= 1u << f;
      *field_slot(req, (size_t)f) = value;
    }
  }
  return 0;
}

pga_term_t pga_request_field(const pga_request_t *req, const char *name,
                             size_t len) {
  static const pga_term_t tag = {struct_atom, sizeof struct_atom - 1};

  if (len == 10 && memcmp(name, "__struct__", 10) == 0)
    return tag;
  for (size_t i = 0; i < sizeof field_names / sizeof *field_names; i++) {
    if (strlen(field_names[i]) == len &&
        memcmp(field_names[i], name, len) == 0)
      return *field_slot((pga_request_t *)req, i);
  }
  return pga_request_nil();
}
