/* A :stream request's relay process (§9.3): it buffers the service's
 * messages until the call's reply is in, then turns them into
 * stream_response messages for the receiver; the stream ends on its last
 * message, its timeout, the receiver's death or the service node's
 * nodedown (R18, R19). */
#include "config.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "request/exec_int.h"

#define STREAM_BUF_MAX 10000 /* messages held before the call's reply */

/* The relay exits with reason normal (a monitoring channel sees DOWN). */
void pga__ex_relay_free(exec_t *e) {
  pga_tb_t r;
  if (!e->relay) return;
  if (e->rcv_node[0]) {
    /* by id: a connection that is gone must not be started again */
    pga_conn_t *c = pga_dist_conn_by_id(e->pl->d, e->rcv_conn);
    pga_term_t to = pga_tb_data(&e->caller);
    if (c && pga_conn_is_up(c)) pga_dist_demonitor(e->pl->d, e->relay, c, &to, &e->rcv_ref);
    e->rcv_node[0] = 0;
  }
  pga__tb_init(&r, 0);
  pga_tb_atom(&r, "normal");
  pga_term_t t = pga_tb_data(&r);
  pga_proc_exit(e->relay, &t);
  pga__tb_destroy(&r);
  e->relay = NULL;
  atomic_fetch_sub(&e->pl->n_streams, 1);
}

static void stream_end(exec_t *e) { pga__ex_exec_free(e); }

static void stream_send(exec_t *e, pga_tb_t *resp) {
  pga_term_t r = pga_tb_data(resp);
  pga__ex_send_caller(e, "stream_response", &r, NULL);
}

/* One relay message once the stream is live: 1 if the stream ended. */
static int stream_msg(exec_t *e, const pga_term_t *msg) {
  pga_term_t el[2];
  size_t arity = 0;
  pga_tb_t tb;
  int end = 1;
  const pga_term_t *id = &e->req.request_id;

  pga__tb_init(&tb, 0);
  if (pga_term_is_atom(msg, "complete")) {
    pga_request_response(&tb, id, NULL, 1, NULL, 1, 0, 0);
  } else if (pga_term_type(msg) == PGA_T_TUPLE &&
             pga_term_tuple_arity(msg, &arity) == 0 && arity == 2 &&
             pga_term_tuple_get(msg, 0, &el[0]) == 0 &&
             pga_term_tuple_get(msg, 1, &el[1]) == 0) {
    if (pga_term_is_atom(&el[0], "result")) {
      pga_request_response(&tb, id, &el[1], 1, NULL, 1, 1, 0);
      end = 0;
    } else if (pga_term_is_atom(&el[0], "last_result")) {
      pga_request_response(&tb, id, &el[1], 1, NULL, 1, 0, 0);
    } else if (pga_term_is_atom(&el[0], "error")) {
      pga__ex_error_resp(e, &tb, &el[1], NULL);
      pga__ex_task_failed(e, "error", &el[1], NULL);
    } else if (pga_term_is_atom(&el[0], "$gen_cast") &&
               pga_term_is_atom(&el[1], "stop")) {
      pga_request_response(&tb, id, NULL, 1, NULL, 1, 0, 0);
    } else {
      end = -1;
    }
  } else {
    end = -1; /* anything else: ignored (the library logs it) */
  }
  if (end >= 0) stream_send(e, &tb);
  pga__tb_destroy(&tb);
  if (end == 1) stream_end(e);
  return end == 1;
}

static void relay_on_message(pga_proc_t *p, pga_conn_t *c,
                             const pga_term_t *from, const pga_term_t *msg) {
  exec_t *e = pga_proc_data(p);
  (void)c, (void)from;
  if (e && e->relay == p) pga__ex_relay_message(e, msg);
}

void pga__ex_relay_message(exec_t *e, const pga_term_t *msg) {
  if (e->live) {
    stream_msg(e, msg);
    return;
  }
  if (e->nbuf == STREAM_BUF_MAX) return; /* bounded: R19 */
  if (e->nbuf == e->bufcap) {
    size_t cap = e->bufcap ? e->bufcap * 2 : 16;
    pga_tb_t **nb = realloc(e->buf, cap * sizeof *nb);
    if (!nb) return;
    e->buf = nb;
    e->bufcap = cap;
  }
  pga_tb_t *tb = malloc(sizeof *tb);
  if (!tb) return;
  pga__tb_init(tb, 0);
  pga_tb_term(tb, msg);
  e->buf[e->nbuf++] = tb;
}

static int64_t receiver_gone(pga_loop_t *loop, uint64_t id, void *ud);

/* The receiver died: nobody reads the stream any more (R19). */
static void relay_on_down(pga_proc_t *p, pga_conn_t *c, const pga_term_t *ref,
                          const pga_term_t *reason) {
  exec_t *e = pga_proc_data(p);
  (void)c, (void)ref, (void)reason;
  if (!e || e->relay != p) return;
  e->rcv_node[0] = 0; /* the monitor is gone */
  if (!e->end_timer)
    e->end_timer = pga_loop_timer(e->pl->loop, 0, receiver_gone, e);
}

/* No on_exit_signal: the relay traps exits, as a GenServer linked to
 * nothing else would not die from a stray exit/2 (R19). */
static const pga_proc_ops_t relay_ops = {
    .on_message = relay_on_message,
    .on_down = relay_on_down,
};

pga_proc_t *pga__ex_relay_new(exec_t *e) {
  return pga_proc_new(e->pl->d, &relay_ops, e);
}

static int64_t stream_timeout(pga_loop_t *loop, uint64_t id, void *ud) {
  exec_t *e = ud;
  pga_tb_t tb, why;
  (void)loop, (void)id;
  e->timer = 0;
  pga__tb_init(&tb, 0);
  pga__tb_init(&why, 0);
  pga_tb_atom(&why, "timeout");
  pga_term_t w = pga_tb_data(&why);
  pga__ex_error_resp(e, &tb, &w, NULL);
  stream_send(e, &tb);
  {
    char text[64];
    pga_term_t to = pga_funconfig_get(e->fc, PGA_FC_TIMEOUT);
    int64_t ms = 0;
    (void)pga_term_get_int64(&to, &ms);
    snprintf(text, sizeof text, "task timed out after %lldms", (long long)ms);
    pga__ex_task_failed(e, "timeout", NULL, text);
  }
  pga__tb_destroy(&tb);
  pga__tb_destroy(&why);
  stream_end(e);
  return PGA_TIMER_NOMORE;
}

static int64_t receiver_gone(pga_loop_t *loop, uint64_t id, void *ud) {
  exec_t *e = ud;
  (void)loop, (void)id;
  e->end_timer = 0;
  e->rcv_node[0] = 0;
  stream_end(e);
  return PGA_TIMER_NOMORE;
}

/* Monitors the receiver from the relay, so a stream nobody reads ends and
 * frees its slot. A local or unreachable receiver is not monitored. */
void pga__ex_monitor_receiver(exec_t *e) {
  pga_term_t to = pga_tb_data(&e->caller);
  erlang_pid ep;
  pga_conn_t *c;

  if (!to.buf || pga__term_get_pid(&to, &ep) != 0 ||
      pga_dist_local_pid_id(e->pl->d, &to) != 0 ||
      !(c = pga_dist_conn_get(e->pl->d, ep.node)))
    return;
  pga_dist_make_ref(e->pl->d, &e->rcv_ref);
  if (pga_dist_monitor(e->pl->d, e->relay, c, &to, &e->rcv_ref) == 0) {
    snprintf(e->rcv_node, sizeof e->rcv_node, "%s", ep.node);
    e->rcv_conn = pga_conn_id(c);
  }
}

/* The call's Response is in (§9.3 steps 2-3). */
void pga__ex_stream_first(exec_t *e, pga_tb_t *resp, int ok) {
  pga_term_t r = pga_tb_data(resp);
  if (!ok) {
    pga_term_t err;
    const char *txt;
    size_t n;
    char *s = NULL;
    if (pga_term_map_get_atom(&r, "error", &err) == 0 &&
        pga_term_get_binary(&err, &txt, &n) == 0)
      s = strndup(txt, n);
    pga__ex_task_failed(e, "error", NULL, s ? s : PGA_REQUEST_E7);
    free(s);
    stream_send(e, resp);
    stream_end(e);
    return;
  }
  pga_tb_t chunk;
  pga__tb_init(&chunk, 0);
  pga_request_response(&chunk, &e->req.request_id, &r, 1, NULL, 1, 1, 0);
  stream_send(e, &chunk);
  pga__tb_destroy(&chunk);
  e->live = 1;
  snprintf(e->svc_node, sizeof e->svc_node, "%s", e->node);
  pga_term_t to = pga_funconfig_get(e->fc, PGA_FC_TIMEOUT);
  int64_t ms;
  if (pga_term_get_int64(&to, &ms) == 0 && ms > 0)
    e->timer = pga_loop_timer(e->pl->loop, ms, stream_timeout, e);
  /* buffered messages, in arrival order; the stream may end on any */
  pga_tb_t **buf = e->buf;
  size_t n = e->nbuf;
  e->buf = NULL;
  e->nbuf = e->bufcap = 0;
  int ended = 0;
  for (size_t i = 0; i < n; i++) {
    if (!ended) {
      pga_term_t m = pga_tb_data(buf[i]);
      ended = stream_msg(e, &m);
    }
    pga__tb_destroy(buf[i]);
    free(buf[i]);
  }
  free(buf);
}

/* Service node gone: the stream ends with an error Response (R18). The
 * end runs from a 0 ms timer: nodedown observers also run while the node
 * shuts down (loop stopped, rpc layer gone), when nothing may be sent. */
static int64_t node_dead(pga_loop_t *loop, uint64_t id, void *ud) {
  exec_t *e = ud;
  pga_tb_t tb, why;
  (void)loop, (void)id;
  e->end_timer = 0;
  pga__tb_init(&tb, 0);
  pga__tb_init(&why, 0);
  pga_tb_atom(&why, "nodedown");
  pga_term_t w = pga_tb_data(&why);
  pga__ex_error_resp(e, &tb, &w, NULL);
  stream_send(e, &tb);
  pga__ex_task_failed(e, "error", &w, NULL);
  pga__tb_destroy(&tb);
  pga__tb_destroy(&why);
  stream_end(e);
  return PGA_TIMER_NOMORE;
}

void pga__ex_on_nodedown(void *ud, pga_conn_t *c) {
  plane_t *pl = pga__ex_plane_of(ud); /* NULL once the plane stopped */
  if (!pl) return;
  const char *node = pga_conn_node(c);
  for (exec_t *e = pl->execs; e; e = e->next) {
    if (e->rt != RT_STREAM) continue;
    if (e->rcv_node[0] && !strcmp(e->rcv_node, node)) {
      e->rcv_node[0] = 0; /* the monitor went with the connection */
      if (!e->end_timer)
        e->end_timer = pga_loop_timer(pl->loop, 0, receiver_gone, e);
    } else if (e->live && !strcmp(e->svc_node, node) && !e->end_timer) {
      e->end_timer = pga_loop_timer(pl->loop, 0, node_dead, e);
    }
  }
}
