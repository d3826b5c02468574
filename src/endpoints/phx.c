/* Phoenix's JSON serializers: V2 ([join_ref, ref, topic, event,
 * payload], vsn 2.0.0) and V1 (an object, vsn 1.0.0), as
 * Phoenix.Socket.V2.JSONSerializer and V1.JSONSerializer read and write
 * them. Replies are {"response": ..., "status": ...} (Jason's key order
 * of the atom keys). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "endpoints/ep_int.h"
#include "pga/errno.h"

void pga__ep_phx_clear(phx_msg_t *m) {
  free(m->join_ref);
  free(m->ref);
  free(m->topic);
  free(m->event);
  if (m->payload) json_decref(m->payload);
  memset(m, 0, sizeof *m);
}

/* The JSON text of v (NULL: null), malloc'ed. */
static char *text_of(const json_t *v) {
  if (!v) return strdup("null");
  return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

static char *string_of(const json_t *v) {
  return json_is_string(v) ? strndup(json_string_value(v),
                                     json_string_length(v))
                           : NULL;
}

static int fill(phx_msg_t *m, json_t *join_ref, json_t *ref, json_t *topic,
                json_t *event, json_t *payload) {
  /* Phoenix matches topics and events as strings: anything else is a
   * message no channel can take (the socket process would crash). */
  if (!json_is_string(topic) || !json_is_string(event) || !payload)
    return PGA_EPROTO;
  if (memchr(json_string_value(topic), 0, json_string_length(topic)) ||
      memchr(json_string_value(event), 0, json_string_length(event)))
    return PGA_EPROTO;
  m->join_ref = text_of(join_ref);
  m->ref = text_of(ref);
  m->topic = string_of(topic);
  m->event = string_of(event);
  m->payload = json_incref(payload);
  if (!m->join_ref || !m->ref || !m->topic || !m->event) {
    pga__ep_phx_clear(m);
    return PGA_ENOMEM;
  }
  return 0;
}

int pga__ep_phx_from_json(ep_vsn_t vsn, const json_t *root, phx_msg_t *m) {
  int rc = PGA_EPROTO;
  memset(m, 0, sizeof *m);
  if (vsn == EP_V2 && json_is_array(root) && json_array_size(root) >= 5) {
    /* [join_ref, ref, topic, event, payload | _] */
    rc = fill(m, json_array_get(root, 0), json_array_get(root, 1),
              json_array_get(root, 2), json_array_get(root, 3),
              json_array_get(root, 4));
  } else if (vsn == EP_V1 && json_is_object(root)) {
    json_t *ref = json_object_get(root, "ref");
    if (ref && json_object_get(root, "payload"))
      rc = fill(m, json_object_get(root, "join_ref"), ref,
                json_object_get(root, "topic"),
                json_object_get(root, "event"),
                json_object_get(root, "payload"));
  }
  return rc;
}

int pga__ep_phx_decode(ep_vsn_t vsn, const char *text, size_t len,
                       phx_msg_t *m) {
  json_error_t je;
  memset(m, 0, sizeof *m);
  json_t *root = json_loadb(text, len, JSON_DECODE_ANY, &je);
  if (!root) return PGA_EPROTO;
  int rc = pga__ep_phx_from_json(vsn, root, m);
  json_decref(root);
  return rc;
}

static int add(pga_dynbuf_t *o, const char *s, size_t n) {
  return pga_dynbuf_add(o, s, n) == 0 ? 0 : PGA_ENOMEM;
}

static int adds(pga_dynbuf_t *o, const char *s) { return add(o, s, strlen(s)); }

int pga__ep_phx_message(ep_vsn_t vsn, pga_dynbuf_t *out, const char *join_ref,
                        const char *ref, const char *topic, const char *event,
                        const char *payload, size_t plen) {
  int rc;
  if (vsn == EP_V1) { /* only topic, event, payload, ref */
    rc = adds(out, "{\"event\":");
    if (!rc) rc = pga__ep_json_string(out, event, strlen(event));
    if (!rc) rc = adds(out, ",\"payload\":");
    if (!rc) rc = add(out, payload, plen);
    if (!rc) rc = adds(out, ",\"ref\":");
    if (!rc) rc = adds(out, ref ? ref : "null");
    if (!rc) rc = adds(out, ",\"topic\":");
    if (!rc) rc = pga__ep_json_string(out, topic, strlen(topic));
    if (!rc) rc = adds(out, "}");
    return rc;
  }
  rc = adds(out, "[");
  if (!rc) rc = adds(out, join_ref ? join_ref : "null");
  if (!rc) rc = adds(out, ",");
  if (!rc) rc = adds(out, ref ? ref : "null");
  if (!rc) rc = adds(out, ",");
  if (!rc) rc = pga__ep_json_string(out, topic, strlen(topic));
  if (!rc) rc = adds(out, ",");
  if (!rc) rc = pga__ep_json_string(out, event, strlen(event));
  if (!rc) rc = adds(out, ",");
  if (!rc) rc = add(out, payload, plen);
  if (!rc) rc = adds(out, "]");
  return rc;
}

int pga__ep_phx_reply(ep_vsn_t vsn, pga_dynbuf_t *out, const char *join_ref,
                      const char *ref, const char *topic, const char *status,
                      const char *response, size_t rlen) {
  pga_dynbuf_t p;
  int rc;
  pga_dynbuf_init(&p, EP_BUF_CAP);
  rc = adds(&p, "{\"response\":");
  if (!rc) rc = add(&p, response, rlen);
  if (!rc) rc = adds(&p, ",\"status\":\"");
  if (!rc) rc = adds(&p, status);
  if (!rc) rc = adds(&p, "\"}");
  if (!rc)
    rc = pga__ep_phx_message(vsn, out, vsn == EP_V1 ? NULL : join_ref, ref,
                             topic, "phx_reply", pga_dynbuf_ptr(&p),
                             pga_dynbuf_size(&p));
  pga_dynbuf_free(&p);
  return rc;
}
