/* The MessagePack serializer (connect parameter serializer=msgpack): the
 * V2 message shape [join_ref, ref, topic, event, payload] as one
 * MessagePack array per binary frame, both ways, as phoenix.js sends and
 * reads it with encode/decode options built on @msgpack/msgpack.
 *
 * Invariants:
 *   1. Incoming frames are decoded with msgpack-c into a JSON value
 *      (strings must be UTF-8, map keys strings, nesting capped), then
 *      read as a V2 message, so requests are handled exactly as JSON ones.
 *   2. Outgoing messages are built as JSON text (phx.c) and transcoded:
 *      one code path decides what the client receives. */
#include "config.h"

#include <msgpack.h>
#include <string.h>

#include "endpoints/ep_int.h"
#include "pga/errno.h"

#define EP_MP_DEPTH 128

/* ---- MessagePack -> JSON value ---- */

static json_t *to_json(const msgpack_object *o, int depth);

/* NULL for invalid UTF-8, as Jason refuses it in a JSON payload. */
/* msgpack-c gives an empty string a NULL pointer: "" is made apart. */
static json_t *str_json(const char *p, uint32_t n) {
  return n == 0 ? json_string("") : json_stringn(p, n);
}

static json_t *map_json(const msgpack_object_map *m, int depth) {
  json_t *obj = json_object();
  for (uint32_t i = 0; obj && i < m->size; i++) {
    const msgpack_object *k = &m->ptr[i].key;
    if (k->type != MSGPACK_OBJECT_STR ||
        (k->via.str.size > 0 && memchr(k->via.str.ptr, 0, k->via.str.size))) {
      json_decref(obj);
      return NULL;
    }
    char key[1024];
    if (k->via.str.size >= sizeof key) {
      json_decref(obj);
      return NULL;
    }
    if (k->via.str.size > 0) /* an empty key's pointer may be NULL */
      memcpy(key, k->via.str.ptr, k->via.str.size);
    key[k->via.str.size] = 0;
    json_t *v = to_json(&m->ptr[i].val, depth + 1);
    if (!v || json_object_set_new(obj, key, v) != 0) {
      json_decref(obj);
      return NULL;
    }
  }
  return obj;
}

static json_t *to_json(const msgpack_object *o, int depth) {
  if (depth > EP_MP_DEPTH) return NULL;
  switch (o->type) {
  case MSGPACK_OBJECT_NIL: return json_null();
  case MSGPACK_OBJECT_BOOLEAN: return json_boolean(o->via.boolean);
  case MSGPACK_OBJECT_POSITIVE_INTEGER:
    if (o->via.u64 > (uint64_t)INT64_MAX) return NULL;
    return json_integer((json_int_t)o->via.u64);
  case MSGPACK_OBJECT_NEGATIVE_INTEGER: return json_integer(o->via.i64);
  case MSGPACK_OBJECT_FLOAT32:
  case MSGPACK_OBJECT_FLOAT64: return json_real(o->via.f64);
  case MSGPACK_OBJECT_STR:
  case MSGPACK_OBJECT_BIN: /* a binary string is read as text when it is */
    return str_json(o->via.str.ptr, o->via.str.size);
  case MSGPACK_OBJECT_ARRAY: {
    json_t *arr = json_array();
    for (uint32_t i = 0; arr && i < o->via.array.size; i++) {
      json_t *v = to_json(&o->via.array.ptr[i], depth + 1);
      if (!v || json_array_append_new(arr, v) != 0) {
        json_decref(arr);
        return NULL;
      }
    }
    return arr;
  }
  case MSGPACK_OBJECT_MAP: return map_json(&o->via.map, depth);
  default: return NULL; /* extensions */
  }
}

/* Big-endian n-byte length at p. */
static uint64_t be(const unsigned char *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v = v << 8 | p[i];
  return v;
}

/* 0 if buf is exactly one MessagePack object whose every container count
 * fits in the bytes that follow (each element takes at least one):
 * msgpack-c allocates a container's elements before reading them, so a
 * 5-byte header claiming 2^32 elements would ask for 64 GiB. */
static int sane(const unsigned char *p, size_t len) {
  size_t pos = 0;
  uint64_t pending = 1; /* objects still to read */
  while (pending > 0) {
    if (pos >= len || pending > len - pos) return -1;
    unsigned char b = p[pos++];
    uint64_t n = 0, skip = 0;
    int w;
    pending--;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) continue;
    if (b >= 0x80 && b <= 0x8f) n = 2u * (b & 15);
    else if (b >= 0x90 && b <= 0x9f) n = b & 15;
    else if (b >= 0xa0 && b <= 0xbf) skip = b & 31;
    else if (b >= 0xca && b <= 0xd3) {
      static const unsigned char size[] = {4, 8, 1, 2, 4, 8, 1, 2, 4, 8};
      skip = size[b - 0xca];
    } else if (b >= 0xd4 && b <= 0xd8) skip = 1 + (1u << (b - 0xd4));
    else {
      switch (b) {
      case 0xc4: case 0xd9: w = 1; break;
      case 0xc5: case 0xda: case 0xdc: case 0xde: w = 2; break;
      case 0xc6: case 0xdb: case 0xdd: case 0xdf: w = 4; break;
      case 0xc7: w = 1; skip = 1; break;
      case 0xc8: w = 2; skip = 1; break;
      case 0xc9: w = 4; skip = 1; break;
      default: return -1; /* 0xc1 */
      }
      if (len - pos < (size_t)w) return -1;
      uint64_t v = be(p + pos, w);
      pos += (size_t)w;
      if (b == 0xdc || b == 0xdd) n = v;
      else if (b == 0xde || b == 0xdf) n = 2 * v;
      else skip += v;
    }
    if (skip > len - pos) return -1;
    pos += (size_t)skip;
    pending += n;
  }
  return pos == len ? 0 : -1;
}

int pga__ep_mp_decode(const char *buf, size_t len, phx_msg_t *m) {
  msgpack_unpacked u;
  size_t off = 0;
  int rc = PGA_EPROTO;
  memset(m, 0, sizeof *m);
  if (sane((const unsigned char *)buf, len) != 0) return PGA_EPROTO;
  msgpack_unpacked_init(&u);
  if (msgpack_unpack_next(&u, buf, len, &off) == MSGPACK_UNPACK_SUCCESS &&
      off == len) {
    json_t *root = to_json(&u.data, 0);
    if (root) {
      rc = pga__ep_phx_from_json(EP_V2, root, m);
      json_decref(root);
    }
  }
  msgpack_unpacked_destroy(&u);
  return rc;
}

/* ---- JSON text -> MessagePack ---- */

static int pack(msgpack_packer *pk, const json_t *j, int depth) {
  const char *k;
  json_t *v;
  size_t i;
  if (depth > EP_MP_DEPTH) return PGA_EINVAL;
  switch (json_typeof(j)) {
  case JSON_OBJECT:
    msgpack_pack_map(pk, json_object_size(j));
    json_object_foreach((json_t *)j, k, v) {
      size_t n = strlen(k);
      msgpack_pack_str(pk, n);
      msgpack_pack_str_body(pk, k, n);
      if (pack(pk, v, depth + 1)) return PGA_EINVAL;
    }
    return 0;
  case JSON_ARRAY:
    msgpack_pack_array(pk, json_array_size(j));
    json_array_foreach((json_t *)j, i, v) if (pack(pk, v, depth + 1)) return PGA_EINVAL;
    return 0;
  case JSON_STRING:
    msgpack_pack_str(pk, json_string_length(j));
    return msgpack_pack_str_body(pk, json_string_value(j), json_string_length(j));
  case JSON_INTEGER: return msgpack_pack_int64(pk, json_integer_value(j));
  case JSON_REAL: return msgpack_pack_double(pk, json_real_value(j));
  case JSON_TRUE: return msgpack_pack_true(pk);
  case JSON_FALSE: return msgpack_pack_false(pk);
  default: return msgpack_pack_nil(pk);
  }
}

static int sbuf_write(void *data, const char *buf, size_t len) {
  return pga_dynbuf_add(data, buf, len) == 0 ? 0 : -1;
}

int pga__ep_mp_from_json(const char *text, size_t len, pga_dynbuf_t *out) {
  json_error_t je;
  json_t *j = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
  msgpack_packer pk;
  int rc;
  if (!j) return PGA_EINVAL; /* not from phx.c */
  msgpack_packer_init(&pk, out, sbuf_write);
  rc = pack(&pk, j, 0);
  json_decref(j);
  return rc ? PGA_ENOMEM : 0;
}
