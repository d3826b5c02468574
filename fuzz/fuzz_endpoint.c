/* libFuzzer target for the decoders of the Phoenix Channels endpoint
 * (src/endpoints): the first byte picks one, the rest is its input.
 *   0  WebSocket frames (wslay, server side, as the endpoint configures
 *      it) and every complete message through the V2 decoder
 *   1  a V2 message     2  a V1 message
 *   3  an HTTP upgrade head, then its query parameters
 *   4  a Phoenix.Token  5  a versioned term through the JSON encoder
 *   6  a MessagePack message, and its JSON text back to MessagePack
 * Oracles beyond "no crash, no sanitizer report": a decoded message has a
 * topic, an event and a payload; the JSON the encoder writes is accepted
 * by jansson and, decoded into a term and encoded again, reads back the
 * same. Seeds: fuzz/corpus/endpoint. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wslay/wslay.h>

#include "endpoints/ep_int.h"
#include "term/term.h"

#define CHECK(cond)       \
  do {                    \
    if (!(cond))          \
      __builtin_trap();   \
  } while (0)

static void message(ep_vsn_t vsn, const uint8_t *d, size_t n) {
  phx_msg_t m;
  if (pga__ep_phx_decode(vsn, (const char *)d, n, &m) != 0) return;
  CHECK(m.topic && m.event && m.payload && m.join_ref && m.ref);
  pga__ep_phx_clear(&m);
}

/* ---- WebSocket frames ---- */

typedef struct feed_s {
  const uint8_t *d;
  size_t n, pos;
} feed_t;

static ssize_t feed_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
                         int flags, void *user) {
  feed_t *f = user;
  (void)flags;
  if (f->pos == f->n) {
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
  }
  /* odd chunk sizes, so frames split at every place */
  size_t k = 1 + (f->pos * 7) % 61;
  if (k > len) k = len;
  if (k > f->n - f->pos) k = f->n - f->pos;
  memcpy(buf, f->d + f->pos, k);
  f->pos += k;
  return (ssize_t)k;
}

static ssize_t feed_send(wslay_event_context_ptr ctx, const uint8_t *d,
                         size_t len, int flags, void *user) {
  (void)ctx, (void)d, (void)flags, (void)user;
  return (ssize_t)len;
}

static void feed_msg(wslay_event_context_ptr ctx,
                     const struct wslay_event_on_msg_recv_arg *a, void *user) {
  (void)ctx, (void)user;
  if (a->opcode == WSLAY_TEXT_FRAME) message(EP_V2, a->msg, a->msg_length);
}

static void frames(const uint8_t *d, size_t n) {
  static const struct wslay_event_callbacks cbs = {
      feed_recv, feed_send, NULL, NULL, NULL, NULL, feed_msg};
  feed_t f = {d, n, 0};
  wslay_event_context_ptr ctx;
  if (wslay_event_context_server_init(&ctx, &cbs, &f) != 0) return;
  wslay_event_config_set_max_recv_msg_length(ctx, 65536);
  while (f.pos < f.n && wslay_event_recv(ctx) == 0 &&
         wslay_event_get_read_enabled(ctx))
    wslay_event_send(ctx);
  wslay_event_context_free(ctx);
}

/* ---- the rest ---- */

static void upgrade(const uint8_t *d, size_t n) {
  upgrade_req_t r;
  if (pga__ep_upgrade_parse((const char *)d, n, &r) == 0 && r.query) {
    free(pga__ep_query_param(r.query, "vsn"));
    free(pga__ep_query_param(r.query, "token"));
  }
  if (r.origin) {
    char *allowed[] = {"https://a.example", "//*.b.example"};
    (void)pga__ep_origin_allowed(r.origin, allowed, 2);
  }
  pga__ep_upgrade_clear(&r);
}

static void token(const uint8_t *d, size_t n) {
  static unsigned char key[32];
  static int have;
  char *t = malloc(n + 1);
  pga_tb_t data;
  if (!t) return;
  if (!have) have = pga__ep_token_key("secret", "salt", key) == 0;
  memcpy(t, d, n);
  t[n] = 0;
  pga__tb_init(&data, 0);
  (void)pga__ep_token_verify(key, t, 86400, 1700000000000LL, &data);
  pga__tb_destroy(&data);
  free(t);
}

static void to_json(const uint8_t *d, size_t n) {
  pga_term_t t;
  pga_dynbuf_t out, again;
  json_error_t je;
  if (pga_term_view_versioned((const char *)d, n, &t) != 0) return;
  pga_dynbuf_init(&out, 1u << 24);
  if (pga__ep_term_to_json(&t, &out) == 0) {
    json_t *j = json_loadb(pga_dynbuf_ptr(&out), pga_dynbuf_size(&out),
                           JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    /* jansson refuses integers past 64 bits; everything else reads */
    if (j) {
      pga_tb_t tb;
      pga__tb_init(&tb, 0);
      if (pga__ep_json_to_term(j, &tb) == 0) {
        pga_term_t t2 = pga_tb_data(&tb);
        pga_dynbuf_init(&again, 1u << 24);
        CHECK(pga__ep_term_to_json(&t2, &again) == 0);
        pga_dynbuf_free(&again);
      }
      pga__tb_destroy(&tb);
      json_decref(j);
    }
  }
  pga_dynbuf_free(&out);
}

static void mp(const uint8_t *d, size_t n) {
  phx_msg_t m;
  if (pga__ep_mp_decode((const char *)d, n, &m) != 0) return;
  CHECK(m.topic && m.event && m.payload);
  char *text = json_dumps(m.payload, JSON_ENCODE_ANY | JSON_COMPACT);
  if (text) {
    pga_dynbuf_t out;
    pga_dynbuf_init(&out, 1u << 24);
    CHECK(pga__ep_mp_from_json(text, strlen(text), &out) == 0);
    pga_dynbuf_free(&out);
    free(text);
  }
  pga__ep_phx_clear(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const uint8_t *d = data + 1;
  size_t n = size - 1;
  switch (data[0] % 7) {
  case 0: frames(d, n); break;
  case 1: message(EP_V2, d, n); break;
  case 2: message(EP_V1, d, n); break;
  case 3: upgrade(d, n); break;
  case 4: token(d, n); break;
  case 5: to_json(d, n); break;
  default: mp(d, n); break;
  }
  return 0;
}
