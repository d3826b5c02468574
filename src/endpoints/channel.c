/* The Phoenix socket and channel protocol on one connection, as
 * Phoenix.Socket and Phoenix.Channel.Server run it: heartbeats on
 * "phoenix", phx_join against the configured topics, phx_leave with its
 * phx_close, duplicate joins, the "unmatched topic" error, and a channel
 * that crashes (phx_error).
 *
 * Invariants:
 *   1. A join is Phoenix's channel process: a pga pseudo-process whose pid
 *      is the caller of its requests, so async results and stream chunks
 *      come back to it as messages.
 *   2. A channel handles one message at a time, as a process does: while
 *      a request is in handle_in (j->busy), the client's later messages
 *      and the process messages wait in its mailbox, in arrival order, so
 *      the pushed Response and the reply precede what follows them.
 *   3. Freeing a join never sends anything synchronously to a relay
 *      (pga__ep_streams_stop defers the stops). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "endpoints/ep_int.h"
#include "pga/errno.h"

/* ---- output helpers ---- */

static void send_buf(conn_t *c, pga_dynbuf_t *b, int rc) {
  if (rc == 0 && pga_dynbuf_size(b) > 0)
    pga__ep_send(c, pga_dynbuf_ptr(b), pga_dynbuf_size(b), 0);
  pga_dynbuf_free(b);
}

static void reply(conn_t *c, const char *join_ref, const char *ref,
                  const char *topic, const char *status, const char *resp) {
  pga_dynbuf_t b;
  pga_dynbuf_init(&b, EP_BUF_CAP);
  send_buf(c, &b, pga__ep_phx_reply(c->vsn, &b, join_ref, ref, topic, status,
                                    resp, strlen(resp)));
}

void pga__ep_push(join_t *j, const char *event, const char *payload,
                  size_t plen) {
  pga_dynbuf_t b;
  pga_dynbuf_init(&b, EP_BUF_CAP);
  send_buf(j->c, &b, pga__ep_phx_message(j->c->vsn, &b, j->join_ref, NULL,
                                         j->topic, event, payload, plen));
}

/* A channel message from the server: [join_ref, join_ref, topic, event,
 * {}] (phx_close, phx_error). */
static void control(join_t *j, const char *event) {
  pga_dynbuf_t b;
  pga_dynbuf_init(&b, EP_BUF_CAP);
  send_buf(j->c, &b, pga__ep_phx_message(j->c->vsn, &b, j->join_ref,
                                         j->join_ref, j->topic, event, "{}",
                                         2));
}

/* ---- joins ---- */

static int topic_allowed(const ep_t *ep, const char *topic) {
  for (size_t i = 0; i < ep->o.ntopics; i++) {
    const char *t = ep->o.topics[i];
    size_t n = strlen(t);
    if (n >= 1 && t[n - 1] == '*') {
      if (!strncmp(topic, t, n - 1)) return 1;
    } else if (!strcmp(topic, t)) {
      return 1;
    }
  }
  return 0;
}

static join_t *join_of(conn_t *c, const char *topic) {
  for (join_t *j = c->joins; j; j = j->next)
    if (!strcmp(j->topic, topic)) return j;
  return NULL;
}

static void on_proc_message(pga_proc_t *p, pga_conn_t *pc,
                            const pga_term_t *from, const pga_term_t *msg);

static const pga_proc_ops_t join_ops = {.on_message = on_proc_message};

static void mail_free(mail_t *m) {
  pga__ep_phx_clear(&m->m);
  pga__tb_destroy(&m->term);
  free(m);
}

/* The channel ends (leave, crash, duplicate join, the connection's end):
 * its process goes first, then its streams are stopped. */
static void join_free(join_t *j) {
  conn_t *c = j->c;
  if (j->prev) j->prev->next = j->next;
  else c->joins = j->next;
  if (j->next) j->next->prev = j->prev;
  c->njoins--;
  if (c->ep->st.joins) c->ep->st.joins--;
  if (j->proc) pga_proc_free(j->proc);
  if (j->busy) j->busy->j = NULL; /* its job ends unseen */
  pga__ep_streams_stop(j);
  while (j->mail) {
    mail_t *m = j->mail;
    j->mail = m->next;
    if (!m->info && c->nmail) c->nmail--;
    mail_free(m);
  }
  free(j->topic);
  free(j->join_ref);
  free(j);
  pga__ep_resume(c);
}

static join_t *join_new(conn_t *c, const phx_msg_t *m) {
  join_t *j = calloc(1, sizeof *j);
  if (!j) return NULL;
  j->c = c;
  j->topic = strdup(m->topic);
  j->join_ref = strdup(m->join_ref);
  j->proc = pga_proc_new(c->ep->d, &join_ops, j);
  if (!j->topic || !j->join_ref || !j->proc) {
    if (j->proc) pga_proc_free(j->proc);
    free(j->topic);
    free(j->join_ref);
    free(j);
    return NULL;
  }
  j->next = c->joins;
  if (c->joins) c->joins->prev = j;
  c->joins = j;
  c->njoins++;
  c->ep->st.joins++;
  return j;
}

static void join(conn_t *c, phx_msg_t *m) {
  if (!topic_allowed(c->ep, m->topic)) {
    pga_warn("endpoint: ignoring unmatched topic \"%s\"", m->topic);
    reply(c, NULL, m->ref, m->topic, "error", "{\"reason\":\"unmatched topic\"}");
    return;
  }
  if (c->njoins >= c->ep->o.max_channels) {
    reply(c, m->join_ref, m->ref, m->topic, "error",
          "{\"reason\":\"too many channels joined\"}");
    return;
  }
  if (!join_new(c, m)) {
    reply(c, m->join_ref, m->ref, m->topic, "error", "{\"reason\":\"join crashed\"}");
    return;
  }
  reply(c, m->join_ref, m->ref, m->topic, "ok", "{}");
}

/* The channel crashed (an unknown event, a term Jason cannot encode):
 * phx_error, and the channel is gone. */
static void crash(join_t *j) {
  control(j, "phx_error");
  join_free(j);
}

/* ---- the channel's own messages (handle_in, handle_info) ---- */

/* 1 if j still exists after m. */
static int handle_client(join_t *j, phx_msg_t *m) {
  conn_t *c = j->c;
  if (!strcmp(m->event, "phx_leave")) {
    reply(c, j->join_ref, m->ref, j->topic, "ok", "{}");
    control(j, "phx_close");
    join_free(j);
    return 0;
  }
  if (!strcmp(m->event, c->ep->o.event)) {
    pga__ep_request(j, m);
    return 1;
  }
  /* `use PhoenixGenApi` has no handle_in for other events */
  crash(j);
  return 0;
}

void pga__ep_channel_drain(join_t *j) {
  if (j->draining) return;
  j->draining = 1;
  for (;;) {
    if (j->crashed) {
      crash(j);
      return;
    }
    if (j->busy || !j->mail) break;
    mail_t *m = j->mail;
    int info = m->info;
    j->mail = m->next;
    if (!j->mail) j->mail_tail = NULL;
    if (info) {
      pga_term_t t = pga_tb_data(&m->term);
      pga__ep_info(j, &t);
      mail_free(m);
      continue;
    }
    if (j->c->nmail) j->c->nmail--;
    int alive = handle_client(j, &m->m);
    mail_free(m);
    if (!alive) return; /* freed, with its flag */
    pga__ep_resume(j->c);
  }
  j->draining = 0;
}

static void enqueue(join_t *j, mail_t *m) {
  if (j->mail_tail) j->mail_tail->next = m;
  else j->mail = m;
  j->mail_tail = m;
}

static void on_proc_message(pga_proc_t *p, pga_conn_t *pc,
                            const pga_term_t *from, const pga_term_t *msg) {
  join_t *j = pga_proc_data(p);
  (void)pc, (void)from;
  if (!j->busy && !j->mail && !j->draining) {
    pga__ep_info(j, msg);
    if (j->crashed) crash(j);
    return;
  }
  mail_t *m = calloc(1, sizeof *m);
  if (!m) return;
  m->info = 1;
  pga__tb_init(&m->term, 0);
  pga_tb_term(&m->term, msg);
  enqueue(j, m);
}

/* ---- the socket (Phoenix.Socket.__in__) ---- */

void pga__ep_channel_in(conn_t *c, phx_msg_t *m) {
  if (!strcmp(m->topic, "phoenix") && !strcmp(m->event, "heartbeat")) {
    reply(c, NULL, m->ref, "phoenix", "ok", "{}");
    return;
  }
  join_t *j = join_of(c, m->topic);
  if (!j) {
    if (!strcmp(m->event, "phx_join")) join(c, m);
    else if (!strcmp(m->event, "phx_leave"))
      reply(c, m->join_ref, m->ref, m->topic, "ok", "{}");
    else
      reply(c, NULL, m->ref, m->topic, "error", "{\"reason\":\"unmatched topic\"}");
    return;
  }
  if (!strcmp(m->event, "phx_join")) { /* duplicate: the old one closes */
    pga_debug("endpoint: duplicate join for \"%s\"", m->topic);
    control(j, "phx_close");
    join_free(j);
    join(c, m);
    return;
  }
  /* a message for an earlier join of this topic is stale: ignored */
  if (strcmp(m->join_ref, "null") && strcmp(m->join_ref, j->join_ref)) return;
  mail_t *mail = calloc(1, sizeof *mail);
  if (!mail) return;
  mail->m = *m;
  memset(m, 0, sizeof *m); /* moved */
  pga__tb_init(&mail->term, 0);
  enqueue(j, mail);
  c->nmail++;
  pga__ep_channel_drain(j);
}

void pga__ep_channel_close_all(conn_t *c) {
  while (c->joins) join_free(c->joins);
}
