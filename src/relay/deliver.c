/* handle_relay (ops-plane.md §7.3): the sender's checks, the
 * {:relay_message, %Response{}} to every active or muted member (not to
 * pending ones: the C node's deviation) and the sender's Response.
 *
 * Argument shapes (docs/compat.md):
 *   handle_relay(%Request{}, fun_config)   direct call: returns the Response
 *   handle_relay(gid, message, info)       executor, `nodes: :local` with
 *       arg_orders ["group_id", "message"] and request_info: true
 *   handle_relay(%{"group_id" => .., "message" => ..}, info)
 *                                          executor, arg_orders :map and
 *                                          request_info: true
 * Through the executor the result is {:ok, %{"status" => "relayed", ...}}
 * (the executor wraps it into the same Response) or {:error, text}. */
#include "config.h"

#include "relay/relay_int.h"
#include "request/plane.h"
#include "term/term.h"

/* What one relay needs, as views into the call's arguments. */
typedef struct relay_in_s {
  pga_term_t gid, msg, uid, rid; /* .buf NULL: nil */
  int via_executor;
} relay_in_t;

/* A binary's bytes; anything else is an id no group or member has. */
static pga_relay_id_t id_of(const pga_term_t *t) {
  pga_relay_id_t id = {NULL, PGA_RELAY_MAX_ID + 1};
  if (t->buf && pga_term_type(t) == PGA_T_BINARY)
    pga_term_get_binary(t, &id.p, &id.n);
  return id;
}

static void put_or_nil(pga_tb_t *tb, const pga_term_t *t) {
  if (t->buf)
    pga_tb_term(tb, t);
  else
    pga_tb_atom(tb, "nil");
}

static void map_get_bin_or_nil(const pga_term_t *map, const char *key,
                               pga_term_t *out) {
  if (pga_term_map_get_binary(map, key, out) != 0) *out = (pga_term_t){0};
}

/* ---- collecting recipients under the lock ---- */

typedef struct pids_s {
  pga_tb_t *tb;
} pids_t;

static void add_receiver(void *ud, const pga_relay_member_view_t *v) {
  pids_t *p = ud;
  if (v->status != PGA_RELAY_PENDING) pga_tb_term(p->tb, &v->pid);
}

/* The sender's verdict; on SEND_OK pids holds the list of recipients. */
static pga_relay_send_t check_and_collect(relay_t *r, const relay_in_t *in,
                                          pga_tb_t *pids, size_t *n) {
  pga_relay_id_t gid = id_of(&in->gid), uid = id_of(&in->uid);
  pids_t p = {pids};
  pthread_mutex_lock(&r->lock);
  pga_relay_send_t st = pga_relay_sender(r->model, gid, uid, n);
  if (st == PGA_RELAY_SEND_OK) {
    pga_tb_list(pids, *n);
    pga_relay_each_member(r->model, gid, add_receiver, &p);
    if (*n) pga_tb_nil(pids);
  }
  pthread_mutex_unlock(&r->lock);
  return st;
}

/* ---- the message ---- */

static void put_payload(pga_tb_t *tb, const relay_in_t *in) {
  char ts[PGA_RELAY_ISO8601_BUF];
  size_t tslen = pga_relay_iso8601(pga__relay_now_us(), ts);
  pga_tb_map(tb, 4);
  pga_tb_string(tb, "group_id");
  put_or_nil(tb, &in->gid);
  pga_tb_string(tb, "from_user_id");
  put_or_nil(tb, &in->uid);
  pga_tb_string(tb, "message");
  put_or_nil(tb, &in->msg);
  pga_tb_string(tb, "timestamp");
  pga_tb_binary(tb, ts, tslen);
}

static void send_all(relay_t *r, const relay_in_t *in, const pga_tb_t *pids) {
  pga_tb_t payload, msg;
  pga__tb_init(&payload, 0);
  pga__tb_init(&msg, 0);
  put_payload(&payload, in);
  pga_term_t result = pga_tb_data(&payload);
  pga__tb_version(&msg);
  pga_tb_tuple(&msg, 2);
  pga_tb_atom(&msg, "relay_message");
  pga_request_response(&msg, in->rid.buf ? &in->rid : NULL, &result, 1, NULL,
                       0, 0, 0);
  pga_term_t list = pga_tb_data(pids), pid;
  pga_term_iter_t it;
  if (!pga_tb_error(&msg) && pga_term_iter_init(&it, &list) == 0)
    while (pga_term_iter_next(&it, &pid) == 1)
      pga_dist_send(r->d, pga_proc_id(r->proc), &pid, &msg);
  pga__tb_destroy(&payload);
  pga__tb_destroy(&msg);
}

/* ---- the sender's answer ---- */

static void put_relayed(pga_tb_t *tb, size_t n) {
  pga_tb_map(tb, 2);
  pga_tb_string(tb, "status");
  pga_tb_string(tb, "relayed");
  pga_tb_string(tb, "recipients_count");
  pga_tb_uint(tb, n);
}

static void answer(const relay_in_t *in, pga_relay_send_t st, size_t n,
                   pga_tb_t *out) {
  const char *error = pga_relay_send_error(st);
  const pga_term_t *rid = in->rid.buf ? &in->rid : NULL;
  if (in->via_executor) {
    pga_tb_tuple(out, 2);
    pga_tb_atom(out, error ? "error" : "ok");
    if (error)
      pga_tb_string(out, error);
    else
      put_relayed(out, n);
    return;
  }
  if (error) {
    pga_request_error_response(out, rid, error, 0);
    return;
  }
  pga_tb_t res;
  pga__tb_init(&res, 0);
  put_relayed(&res, n);
  pga_term_t result = pga_tb_data(&res);
  pga_request_response(out, rid, &result, 1, NULL, 0, 0, 0);
  pga__tb_destroy(&res);
}

static void relay(relay_t *r, const relay_in_t *in, pga_tb_t *out) {
  pga_tb_t pids;
  size_t n = 0;
  pga__tb_init(&pids, 0);
  pga_relay_send_t st = check_and_collect(r, in, &pids, &n);
  if (st == PGA_RELAY_SEND_OK) send_all(r, in, &pids);
  pga__tb_destroy(&pids);
  answer(in, st, n, out);
}

/* ---- argument shapes ---- */

/* error {Tag, Term}: what the library's code would raise. */
static pga_outcome_t fail2(pga_tb_t *out, const char *tag,
                           const pga_term_t *t) {
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, tag);
  pga_tb_term(out, t);
  return PGA_ERROR;
}

static pga_outcome_t fail_badkey(pga_tb_t *out, const char *key) {
  pga_tb_tuple(out, 2);
  pga_tb_atom(out, "badkey");
  pga_tb_atom(out, key);
  return PGA_ERROR;
}

/* The request-info map the executor appends: request_id, user_id. */
static int from_info(const pga_term_t *info, relay_in_t *in) {
  if (pga_term_type(info) != PGA_T_MAP ||
      pga_term_map_get_atom(info, "request_id", &in->rid) != 0 ||
      pga_term_map_get_atom(info, "user_id", &in->uid) != 0)
    return -1;
  in->via_executor = 1;
  return 0;
}

/* handle_relay(%Request{}, _): args, user_id, request_id as the library
 * reads them (a missing key or a non-map raises there). */
static pga_outcome_t from_request(relay_t *r, const pga_term_t *req,
                                  pga_tb_t *out) {
  relay_in_t in = {0};
  pga_term_t args;
  if (pga_term_map_get_atom(req, "args", &args) != 0)
    return fail_badkey(out, "args");
  if (pga_term_type(&args) != PGA_T_MAP) return fail2(out, "badmap", &args);
  if (pga_term_map_get_atom(req, "user_id", &in.uid) != 0)
    return fail_badkey(out, "user_id");
  if (pga_term_map_get_atom(req, "request_id", &in.rid) != 0)
    return fail_badkey(out, "request_id");
  map_get_bin_or_nil(&args, "group_id", &in.gid);
  map_get_bin_or_nil(&args, "message", &in.msg);
  relay(r, &in, out);
  return PGA_RETURN;
}

pga_outcome_t pga__relay_handle(relay_t *r, size_t argc,
                                const pga_term_t *argv, pga_tb_t *out) {
  relay_in_t in = {0};
  if (argc == 3 && from_info(&argv[2], &in) == 0) {
    in.gid = argv[0];
    in.msg = argv[1];
    relay(r, &in, out);
    return PGA_RETURN;
  }
  if (argc != 2 || pga_term_type(&argv[0]) != PGA_T_MAP)
    return fail2(out, "badmap", &argv[0]);
  pga_term_t probe;
  if (pga_term_map_get_atom(&argv[0], "args", &probe) != 0 &&
      from_info(&argv[1], &in) == 0) {
    map_get_bin_or_nil(&argv[0], "group_id", &in.gid);
    map_get_bin_or_nil(&argv[0], "message", &in.msg);
    relay(r, &in, out);
    return PGA_RETURN;
  }
  return from_request(r, &argv[0], out);
}
