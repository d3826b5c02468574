/* The request event of a channel that does `use PhoenixGenApi`
 * (request-plane.md §11): user_id override and verification, then
 * Executor.execute_params!/1 run through the rpc layer for the channel's
 * process (so the request plane sends it the async results and stream
 * chunks), the pushed Response before the reply, and the process
 * messages the library's channel pushes. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "endpoints/ep_int.h"
#include "pga/errno.h"

#define EXECUTOR "Elixir.PhoenixGenApi.Executor"
#define DECODE_ERROR "Elixir.PhoenixGenApi.Errors.DecodeError"

void pga__ep_pending_free(pending_t *p) {
  free(p->ref);
  free(p->request_type);
  pga__tb_destroy(&p->rid);
  free(p);
}

/* ---- pushes ---- */

/* Pushes t (a Response or any term) as JSON; a term Jason cannot encode
 * crashes the channel, as in Phoenix (the encoding runs in the channel). */
static void push_term(join_t *j, const pga_term_t *t) {
  pga_dynbuf_t b;
  pga_dynbuf_init(&b, EP_BUF_CAP);
  if (pga__ep_term_to_json(t, &b) != 0) {
    pga_warn("endpoint: a push to \"%s\" cannot be encoded as JSON", j->topic);
    j->crashed = 1;
  } else {
    pga__ep_push(j, j->c->ep->o.event, pga_dynbuf_ptr(&b), pga_dynbuf_size(&b));
  }
  pga_dynbuf_free(&b);
}

/* error_response(rid, msg) pushed (§1.2: seven fields). */
static void push_error(join_t *j, const pga_term_t *rid, const char *msg) {
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_tb_map(&tb, 7);
  pga_tb_atom(&tb, "async");
  pga_tb_atom(&tb, "false");
  pga_tb_atom(&tb, "can_retry");
  pga_tb_atom(&tb, "false");
  pga_tb_atom(&tb, "error");
  pga_tb_string(&tb, msg);
  pga_tb_atom(&tb, "has_more");
  pga_tb_atom(&tb, "false");
  pga_tb_atom(&tb, "request_id");
  pga_tb_term(&tb, rid);
  pga_tb_atom(&tb, "result");
  pga_tb_atom(&tb, "nil");
  pga_tb_atom(&tb, "success");
  pga_tb_atom(&tb, "false");
  pga_term_t t = pga_tb_data(&tb);
  if (!pga_tb_error(&tb)) push_term(j, &t);
  pga__tb_destroy(&tb);
}

static void reply_text(join_t *j, const char *ref, const char *status,
                       const char *text, size_t len) {
  pga_dynbuf_t r, b;
  pga_dynbuf_init(&r, EP_BUF_CAP);
  pga_dynbuf_init(&b, EP_BUF_CAP);
  if (pga__ep_json_string(&r, text, len) == 0 &&
      pga__ep_phx_reply(j->c->vsn, &b, j->join_ref, ref, j->topic, status,
                        pga_dynbuf_ptr(&r), pga_dynbuf_size(&r)) == 0)
    pga__ep_send(j->c, pga_dynbuf_ptr(&b), pga_dynbuf_size(&b), 0);
  pga_dynbuf_free(&r);
  pga_dynbuf_free(&b);
}

static void reply_json(join_t *j, const char *ref, const char *status,
                       const char *json) {
  pga_dynbuf_t b;
  pga_dynbuf_init(&b, EP_BUF_CAP);
  if (pga__ep_phx_reply(j->c->vsn, &b, j->join_ref, ref, j->topic, status,
                        json, strlen(json)) == 0)
    pga__ep_send(j->c, pga_dynbuf_ptr(&b), pga_dynbuf_size(&b), 0);
  pga_dynbuf_free(&b);
}

/* ---- the request's end ---- */

/* The message of an exception struct (or its inspect). */
static void exception_text(const pga_term_t *exc, char *out, size_t len) {
  pga_term_t msg;
  const char *s;
  size_t n;
  if (pga_term_type(exc) == PGA_T_MAP &&
      pga_term_map_get_atom(exc, "message", &msg) == 0 &&
      pga_term_get_binary(&msg, &s, &n) == 0) {
    if (n >= len) n = len - 1;
    memcpy(out, s, n);
    out[n] = 0;
    return;
  }
  pga_term_format(exc, out, len);
}

/* The exception of {badrpc, {'EXIT', {Exc, Stack}}}, else 0. */
static int raised(const pga_term_t *r, pga_term_t *exc) {
  pga_term_t a, b, c;
  return pga_term_tuple_get(r, 0, &a) == 0 && pga_term_is_atom(&a, "badrpc") &&
         pga_term_tuple_get(r, 1, &b) == 0 &&
         pga_term_tuple_get(&b, 0, &a) == 0 && pga_term_is_atom(&a, "EXIT") &&
         pga_term_tuple_get(&b, 1, &c) == 0 &&
         (pga_term_tuple_get(&c, 0, exc) == 0 || (*exc = c, 1));
}

static void finish(join_t *j, pending_t *p, const pga_term_t *result) {
  pga_term_t exc, tag, rid = pga_tb_data(&p->rid);
  char text[1024];
  if (raised(result, &exc)) {
    exception_text(&exc, text, sizeof text);
    if (pga_term_type(&exc) == PGA_T_MAP &&
        pga_term_map_get_atom(&exc, "__struct__", &tag) == 0 &&
        pga_term_is_atom(&tag, DECODE_ERROR)) {
      char *full = malloc(strlen(text) + 20);
      if (full) {
        strcpy(full, "Invalid request: ");
        strcat(full, text);
        push_error(j, &rid, full);
        free(full);
      }
    } else {
      push_error(j, &rid, "Request processing failed");
    }
    if (!j->crashed) reply_text(j, p->ref, "error", text, strlen(text));
    return;
  }
  /* {:ok, :no_response}: nothing pushed */
  pga_term_t a;
  if (!(pga_term_tuple_get(result, 0, &a) == 0 && pga_term_is_atom(&a, "ok")))
    push_term(j, result);
  if (!j->crashed) reply_json(j, p->ref, "ok", p->request_type);
}

static void on_done(void *ud, const pga_term_t *result) {
  pending_t *p = ud;
  join_t *j = p->j;
  if (j) {
    j->busy = NULL;
    finish(j, p, result);
  }
  pga__ep_pending_free(p);
  if (j) pga__ep_channel_drain(j);
}

/* ---- handle_in ---- */

static int verified(const conn_t *c) {
  pga_term_t u = pga_tb_data(&c->user_id);
  const char *s;
  size_t n;
  return u.buf && pga_term_get_binary(&u, &s, &n) == 0 && n > 0;
}

/* The params map: the payload with user_id replaced when overriding. */
static int params_of(const conn_t *c, const json_t *payload, pga_tb_t *tb) {
  int over = c->ep->o.override_user_id && verified(c);
  size_t n = json_object_size(payload);
  const char *k;
  json_t *v;
  if (over && !json_object_get(payload, "user_id")) n++;
  pga_tb_list(tb, 1);
  pga_tb_map(tb, n);
  json_object_foreach((json_t *)payload, k, v) {
    pga_tb_binary(tb, k, strlen(k));
    if (over && !strcmp(k, "user_id")) {
      pga_term_t u = pga_tb_data(&c->user_id);
      pga_tb_term(tb, &u);
    } else {
      pga__ep_json_to_term(v, tb);
    }
  }
  if (over && !json_object_get(payload, "user_id")) {
    pga_term_t u = pga_tb_data(&c->user_id);
    pga_tb_string(tb, "user_id");
    pga_tb_term(tb, &u);
  }
  pga_tb_nil(tb);
  return pga_tb_error(tb);
}

static pending_t *pending_new(join_t *j, const phx_msg_t *m) {
  pending_t *p = calloc(1, sizeof *p);
  json_t *rid = json_object_get(m->payload, "request_id");
  json_t *rt = json_object_get(m->payload, "request_type");
  if (!p) return NULL;
  p->j = j;
  pga__tb_init(&p->rid, 0);
  if (rid) pga__ep_json_to_term(rid, &p->rid);
  else pga_tb_string(&p->rid, "unknown");
  p->ref = strdup(m->ref);
  p->request_type = rt ? json_dumps(rt, JSON_ENCODE_ANY | JSON_COMPACT)
                       : strdup("null");
  if (!p->ref || !p->request_type || pga_tb_error(&p->rid)) {
    pga__ep_pending_free(p);
    return NULL;
  }
  return p;
}

void pga__ep_request(join_t *j, phx_msg_t *m) {
  conn_t *c = j->c;
  ep_t *ep = c->ep;
  if (!json_is_object(m->payload)) { /* payload["user_id"] raises */
    j->crashed = 1;
    return;
  }
  pending_t *p = pending_new(j, m);
  if (!p) {
    j->crashed = 1;
    return;
  }
  ep->st.requests++;
  if (ep->o.require_verified_user_id && !verified(c)) {
    pga_term_t rid = pga_tb_data(&p->rid);
    push_error(j, &rid, "Authentication required");
    reply_text(j, p->ref, "error", "Authentication required", 23);
    pga__ep_pending_free(p);
    return;
  }
  pga_tb_t args, caller;
  pga__tb_init(&args, 0);
  pga__tb_init(&caller, 0);
  pga_dist_put_pid(ep->d, &caller, pga_proc_id(j->proc));
  int rc = params_of(c, m->payload, &args);
  pga_term_t av = pga_tb_data(&args), cv = pga_tb_data(&caller);
  if (rc == 0 && !pga_tb_error(&caller)) {
    j->busy = p;
    rc = pga_rpc_run(ep->rpc, NULL, &cv, NULL, EXECUTOR, "execute_params!",
                     &av, on_done, p);
    if (rc != 0) j->busy = NULL;
  } else {
    rc = PGA_ENOMEM;
  }
  pga__tb_destroy(&args);
  pga__tb_destroy(&caller);
  if (rc != 0) { /* the gateway is saturated: as an exception */
    pga_term_t rid = pga_tb_data(&p->rid);
    push_error(j, &rid, "Request processing failed");
    reply_text(j, p->ref, "error", pga_strerror(rc), strlen(pga_strerror(rc)));
    pga__ep_pending_free(p);
  }
}

/* ---- handle_info ---- */

static void stream_started(join_t *j, const pga_term_t *rid,
                           const pga_term_t *pid) {
  stream_ref_t *s = calloc(1, sizeof *s);
  if (!s) return;
  pga__tb_init(&s->rid, 0);
  pga__tb_init(&s->pid, 0);
  pga_tb_term(&s->rid, rid);
  pga_tb_term(&s->pid, pid);
  s->next = j->streams;
  j->streams = s;
}

static void stream_ref_free(stream_ref_t *s) {
  pga__tb_destroy(&s->rid);
  pga__tb_destroy(&s->pid);
  free(s);
}

/* A stream's last message: forget it. */
static void stream_ended(join_t *j, const pga_term_t *resp) {
  pga_term_t more, ok, rid;
  if (pga_term_map_get_atom(resp, "has_more", &more) != 0 ||
      pga_term_map_get_atom(resp, "success", &ok) != 0 ||
      pga_term_map_get_atom(resp, "request_id", &rid) != 0)
    return;
  if (pga_term_is_atom(&more, "true") && pga_term_is_atom(&ok, "true")) return;
  for (stream_ref_t **ps = &j->streams; *ps; ps = &(*ps)->next) {
    pga_term_t r = pga_tb_data(&(*ps)->rid);
    if (pga_term_equal(&r, &rid)) {
      stream_ref_t *s = *ps;
      *ps = s->next;
      stream_ref_free(s);
      return;
    }
  }
}

void pga__ep_info(join_t *j, const pga_term_t *msg) {
  pga_term_t tag, a, b;
  size_t arity;
  if (pga_term_tuple_arity(msg, &arity) != 0 || arity < 2 ||
      pga_term_tuple_get(msg, 0, &tag) != 0 ||
      pga_term_tuple_get(msg, 1, &a) != 0)
    return;
  if (arity == 2 && (pga_term_is_atom(&tag, "async_call") ||
                     pga_term_is_atom(&tag, "push") ||
                     pga_term_is_atom(&tag, "relay_message"))) {
    push_term(j, &a);
  } else if (arity == 2 && pga_term_is_atom(&tag, "stream_response")) {
    push_term(j, &a);
    stream_ended(j, &a);
  } else if (arity == 3 && pga_term_is_atom(&tag, "stream_started") &&
             pga_term_tuple_get(msg, 2, &b) == 0) {
    stream_started(j, &a, &b);
  }
}

/* ---- stopping streams ---- */

static int64_t send_stops(pga_loop_t *loop, uint64_t id, void *data) {
  ep_t *ep = data;
  (void)loop, (void)id;
  ep->stopper = 0;
  while (ep->stops) {
    stream_ref_t *s = ep->stops;
    ep->stops = s->next;
    pga_tb_t msg;
    pga__tb_init(&msg, 0);
    pga__tb_version(&msg);
    pga_tb_tuple(&msg, 2);
    pga_tb_atom(&msg, "$gen_cast");
    pga_tb_atom(&msg, "stop");
    pga_term_t to = pga_tb_data(&s->pid);
    if (!pga_tb_error(&msg)) pga_dist_send(ep->d, 0, &to, &msg);
    pga__tb_destroy(&msg);
    stream_ref_free(s);
  }
  return PGA_TIMER_NOMORE;
}

void pga__ep_streams_stop(join_t *j) {
  ep_t *ep = j->c->ep;
  if (!j->streams) return;
  while (j->streams) {
    stream_ref_t *s = j->streams;
    j->streams = s->next;
    s->next = ep->stops;
    ep->stops = s;
  }
  if (!ep->stopper) ep->stopper = pga_loop_timer(ep->loop, 0, send_stops, ep);
}

void pga__ep_stops_free(ep_t *ep) {
  while (ep->stops) {
    stream_ref_t *s = ep->stops;
    ep->stops = s->next;
    stream_ref_free(s);
  }
  if (ep->stopper) pga_loop_timer_cancel(ep->loop, ep->stopper);
  ep->stopper = 0;
}
