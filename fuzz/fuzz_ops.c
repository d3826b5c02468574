/* libFuzzer target for the ops plane's and the relay's pure term handlers:
 * the first input byte picks a handler, the rest is a term with its
 * version byte, checked as fuzz_term.c does (invalid terms are rejected).
 *
 *   0 trace arguments (src/ops/trace_args.c): targets, MFAs, flags, match
 *     specs, the loaded-module filters, MFA patterns
 *   1 trace messages (src/ops/trace_msg.c): message terms, phase calls,
 *     {m, f, x}, flags, {:return_trace} search, the rate cap
 *   2 call-flow descriptions (src/ops/callflow_steps.c): permission, hooks,
 *     retry, step lists, error maps from FunConfig field terms
 *   3 Elixir evaluation and text (src/ops/eval.c, src/ops/render.c):
 *     map.field, "#{x}", Enum.join, map order, s()/i()/bytes/up/ts/pad
 *   4 relay groups (src/relay/groups.c, terms.c): a list of operations
 *     {op, a, b, c} driving the model, then status and group_info terms
 *   5 term order (src/term/order.c): pga__term_compare reflexive,
 *     antisymmetric and transitive over a term's elements;
 *     pga__term_map_pairs and pga__term_sort ordered
 * Handlers 0-3 run on the term and on each of its first top-level
 * elements. Oracles beyond "no crash, leak or sanitizer report": every
 * built term is valid and complete, and the checks named at each handler.
 *
 * Not linked, so not fuzzed: the renderers of diag_print.c,
 * limiter_print.c, failed_print.c and callflow_print.c; each object
 * references served functions (health.c, plane.c, limiter_rpc.c,
 * callflow.c, the config plane) that pull in the whole node.
 * Seeds: fuzz/corpus/ops, written by fuzz/ops_corpus.escript. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ops/callflow_int.h"
#include "ops/eval.h"
#include "ops/render.h"
#include "ops/trace_int.h"
#include "pga/term.h"
#include "relay/groups.h"
#include "term/term.h"

#define CHECK(cond)       \
  do {                    \
    if (!(cond))          \
      __builtin_trap();   \
  } while (0)

/* Longer inputs are skipped: 2 bytes per nesting level keep every input
 * under PGA_TERM_MAX_DEPTH / 2 levels, so the few levels a handler wraps
 * around it still check, and one input stays fast. */
#define MAX_INPUT 16384
/* Top-level elements visited (handlers 0-3, 5). */
#define MAX_ELEMENTS 8
/* Relay operations applied per input. */
#define MAX_RELAY_OPS 256

enum { SEL_TRACE_ARGS, SEL_TRACE_MSG, SEL_CALLFLOW, SEL_EVAL, SEL_RELAY,
       SEL_ORDER, SEL_COUNT };

/* ---- helpers ---- */

/* The builder holds one complete, valid term; returns it. */
static pga_term_t built(const pga_tb_t *tb) {
  pga_term_t r = pga_tb_data(tb), v;
  CHECK(pga_tb_error(tb) == 0);
  CHECK(r.len > 0);
  CHECK(pga_term_view(r.buf, r.len, &v) == 0 && v.len == r.len);
  return v;
}

static size_t list_len(const pga_term_t *t) {
  size_t n;
  CHECK(pga_term_list_length(t, &n) == 0);
  return n;
}

/* Up to MAX_ELEMENTS top-level elements of a tuple or list, or the keys
 * and values of a map; their number. Element views stay valid after the
 * iteration (STRING_EXT elements too). */
static size_t elements(const pga_term_t *t, pga_term_t *out) {
  pga_term_iter_t it;
  pga_term_t k, v;
  size_t n = 0, size;
  switch (pga_term_type(t)) {
  case PGA_T_TUPLE:
    CHECK(pga_term_tuple_arity(t, &size) == 0);
    for (; n < size && n < MAX_ELEMENTS; n++)
      CHECK(pga_term_tuple_get(t, n, &out[n]) == 0);
    break;
  case PGA_T_LIST:
    CHECK(pga_term_iter_init(&it, t) == 0);
    while (n < MAX_ELEMENTS && pga_term_iter_next(&it, &out[n])) n++;
    break;
  case PGA_T_MAP:
    CHECK(pga_term_map_size(t, &size) == 0);
    for (size_t i = 0; i < size && n + 2 <= MAX_ELEMENTS; i++) {
      CHECK(pga_term_map_pair(t, i, &k, &v) == 0);
      out[n++] = k;
      out[n++] = v;
    }
    break;
  default:
    break;
  }
  return n;
}

static int64_t int_or(const pga_term_t *t, int64_t dflt) {
  int64_t v;
  return t && pga_term_get_int64(t, &v) == 0 ? v : dflt;
}

/* ---- 0: trace arguments ---- */

/* Modules "loaded" for the filters: Elixir.* atoms. */
static int loaded(void *ud, const pga_term_t *module) {
  char a[PGA_ATOM_BUF];
  (void)ud;
  return pga_term_get_atom(module, a, sizeof a) == 0 &&
         strncmp(a, "Elixir.", 7) == 0;
}

static const char any3_buf[] = {104, 3, 119, 1, '_', 119, 1, '_', 119, 1, '_'};
static const pga_term_t any3 = {any3_buf, sizeof any3_buf};

static void trace_args(const pga_term_t *x) {
  pga_tb_t tb, tb2;
  pga_term_iter_t it;
  pga_term_t l, el, m[3];
  size_t n, arity;
  pga__tb_init(&tb, 0);
  pga__tb_init(&tb2, 0);

  if (pga_ops_trace_targets(x, &tb) == 0) {
    l = built(&tb);
    n = list_len(&l);
    CHECK(n <= PGA_OPS_TRACE_LIST_MAX);
    CHECK(pga_term_iter_init(&it, &l) == 0 || n == 0);
    while (n && pga_term_iter_next(&it, &el)) {
      pga_term_type_t ty = pga_term_type(&el);
      CHECK(ty == PGA_T_ATOM || ty == PGA_T_PID || ty == PGA_T_PORT);
    }
    size_t bad = pga_ops_trace_unloaded_targets(&l, loaded, NULL, &tb2);
    el = built(&tb2);
    CHECK(list_len(&el) == bad && bad <= n);
  } else {
    CHECK(pga_tb_data(&tb).len == 0);
  }

  pga_tb_reset(&tb);
  pga_tb_reset(&tb2);
  if (pga_ops_trace_mfas(x, &tb) == 0) {
    l = built(&tb);
    n = list_len(&l);
    CHECK(n <= PGA_OPS_TRACE_LIST_MAX);
    if (n) {
      CHECK(pga_term_iter_init(&it, &l) == 0);
      while (pga_term_iter_next(&it, &el)) {
        CHECK(pga_term_tuple_arity(&el, &arity) == 0 && arity == 3);
        for (size_t i = 0; i < 3; i++)
          CHECK(pga_term_tuple_get(&el, i, &m[i]) == 0);
        CHECK(pga_term_type(&m[0]) == PGA_T_ATOM &&
              pga_term_type(&m[1]) == PGA_T_ATOM);
        CHECK(pga_ops_trace_mfa_covers(&el, &el));
        CHECK(pga_ops_trace_mfa_covers(&any3, &el));
        (void)pga_ops_trace_mfa_covers(&el, x);
      }
    }
    size_t bad = pga_ops_trace_unloaded_mfas(&l, loaded, NULL, &tb2);
    el = built(&tb2);
    CHECK(list_len(&el) == bad && bad <= n);
  } else {
    CHECK(pga_tb_data(&tb).len == 0);
  }

  if (pga_ops_trace_flags_valid(x)) {
    CHECK(pga_term_type(x) == PGA_T_NIL || pga_term_type(x) == PGA_T_LIST);
    if (pga_term_iter_init(&it, x) == 0 && pga_term_iter_next(&it, &el)) {
      char a[PGA_ATOM_BUF];
      CHECK(pga_term_get_atom(&el, a, sizeof a) == 0);
      CHECK(pga_ops_trace_has_flag(x, a));
    }
  }
  if (pga_ops_trace_match_spec_valid(x))
    (void)pga_ops_trace_spec_returns(x);
  (void)pga_ops_trace_mfa_covers(x, x);
  pga__tb_destroy(&tb);
  pga__tb_destroy(&tb2);
}

/* ---- 1: trace messages ---- */

static void trace_msg(const pga_term_t *x, const pga_term_t *b) {
  static const pga_term_t none = {NULL, 0};
  pga_tb_t tb;
  pga_term_t r, el;
  size_t arity;
  int64_t ts = int_or(x, -1);
  pga__tb_init(&tb, 0);

  pga_ops_trace_msg(&tb, x, "call", x, b, ts);
  r = built(&tb);
  CHECK(pga_term_tuple_arity(&r, &arity) == 0 &&
        arity == 4 + (b != NULL) + (ts >= 0));
  if (ts >= 0) {
    int64_t part[3];
    CHECK(pga_term_tuple_get(&r, arity - 1, &el) == 0);
    for (size_t i = 0; i < 3; i++) {
      pga_term_t p;
      CHECK(pga_term_tuple_get(&el, i, &p) == 0);
      CHECK(pga_term_get_int64(&p, &part[i]) == 0);
      CHECK(part[i] >= 0 && (i == 0 || part[i] < 1000000));
    }
  }

  pga_tb_reset(&tb);
  pga_ops_trace_phase_call(&tb, "permission", x);
  (void)built(&tb);
  pga_tb_reset(&tb);
  pga_ops_trace_phase_call(&tb, "response", &none);
  (void)built(&tb);

  pga_tb_reset(&tb);
  if (pga_ops_trace_mfa_with(&tb, x, b ? b : x) == 0) {
    r = built(&tb);
    CHECK(pga_term_tuple_arity(&r, &arity) == 0 && arity == 3);
  } else {
    CHECK(pga_tb_data(&tb).len == 0);
  }

  (void)pga_ops_trace_has_flag(x, "timestamp");
  (void)pga_ops_trace_spec_returns(x);

  /* The cap over a monotonic clock: each element of a list is a step
   * forward (its integer, clamped to 0..2 s), per its documented use. */
  pga_ops_trace_rate_t rate = {0, 0, 0};
  pga_term_iter_t it;
  int64_t now = 0;
  uint64_t admitted = 0, calls = 0;
  if (pga_term_iter_init(&it, x) == 0) {
    while (pga_term_iter_next(&it, &el)) {
      int64_t step = int_or(&el, 1);
      now += step < 0 ? 0 : step > 2000 ? 2000 : step;
      for (int k = 0; k < 64; k++, calls++)
        admitted += (uint64_t)pga_ops_trace_rate_admit(&rate, now);
      CHECK(rate.sent <= PGA_OPS_TRACE_RATE_MAX);
    }
  }
  CHECK(admitted + rate.dropped == calls);
  pga__tb_destroy(&tb);
}

/* ---- 2: call-flow descriptions ---- */

static size_t map_len(const pga_term_t *t) {
  size_t n;
  CHECK(pga_term_map_size(t, &n) == 0);
  return n;
}

static void callflow(const pga_term_t *x) {
  static const char *const fields[] = {
      "check_permission", "before_execute", "after_execute", "retry",
      "response_type",    "choose_node_mode", "timeout",     "nodes"};
  pga_tb_t tb;
  pga_term_t r, f;
  pga__tb_init(&tb, 0);

  pga_ops_flow_permission(&tb, x);
  r = built(&tb);
  CHECK(map_len(&r) >= 2);
  pga_tb_reset(&tb);
  pga_ops_flow_hook(&tb, x);
  r = built(&tb);
  CHECK(map_len(&r) >= 2);
  pga_tb_reset(&tb);
  pga_ops_flow_retry(&tb, x);
  r = built(&tb);
  CHECK(map_len(&r) >= 2);

  for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
    f = pga_ops_flow_field(x, fields[i]);
    CHECK(pga_term_type(&f) != PGA_T_INVALID);
    (void)pga_ops_flow_truthy(&f);
  }
  f = pga_ops_flow_field(x, "check_permission");
  pga_tb_reset(&tb);
  pga_ops_flow_permission(&tb, &f);
  (void)built(&tb);
  f = pga_ops_flow_field(x, "before_execute");
  pga_tb_reset(&tb);
  pga_ops_flow_hook(&tb, &f);
  (void)built(&tb);
  f = pga_ops_flow_field(x, "retry");
  pga_tb_reset(&tb);
  pga_ops_flow_retry(&tb, &f);
  (void)built(&tb);

  int retry = pga_ops_flow_truthy(&f);
  pga_term_t nodes = pga_ops_flow_field(x, "nodes");
  for (int local = 0; local < 2; local++) {
    pga_ops_flow_route_t route = {local, local ? &nodes : x, 1};
    pga_tb_reset(&tb);
    pga_ops_flow_steps(&tb, x, &route);
    r = built(&tb);
    CHECK(list_len(&r) == (size_t)(10 + !local + retry));
  }

  pga_tb_reset(&tb);
  pga_ops_flow_error_map(&tb, x, &nodes, x, 0);
  r = built(&tb);
  CHECK(map_len(&r) == 5);
  pga__tb_destroy(&tb);
}

/* ---- 3: evaluation and text ---- */

/* A raise left one exception map (%{__struct__, __exception__, ...}). */
static void raised_ok(pga_tb_t *raised) {
  pga_term_t r = built(raised), v;
  CHECK(pga_term_map_get_atom(&r, "__exception__", &v) == 0);
  pga_tb_reset(raised);
}

static void eval(const pga_term_t *x, const pga_term_t *arg) {
  static const char *const fields[] = {"id", "reason", "global", "status"};
  pga_ops_text_t t, line;
  pga_tb_t raised;
  pga_term_t v;
  pga_ops_pair_t *pairs;
  size_t n, size;
  int64_t i = int_or(arg, 0);
  pga_ops_text_init(&t);
  pga_ops_text_init(&line);
  pga__tb_init(&raised, 0);

  for (size_t k = 0; k < sizeof fields / sizeof *fields; k++) {
    if (pga__ops_dot(x, fields[k], &v, &raised) == 0)
      CHECK(pga_term_type(&v) != PGA_T_INVALID &&
            pga_tb_data(&raised).len == 0);
    else
      raised_ok(&raised);
  }
  if (pga__ops_interp(&line, x, &raised) == 0)
    pga__ops_line_commit(&t, &line);
  else
    raised_ok(&raised);
  pga_dynbuf_reset(&line.b); /* a raise leaves a partial line: dropped */
  if (pga__ops_join(&line, x, ", ", &raised) == 0)
    pga__ops_line_commit(&t, &line);
  else
    raised_ok(&raised);
  (void)pga__ops_truthy(x);

  if (pga__ops_map_sorted(x, &pairs, &n) == 0) {
    CHECK(pga_term_map_size(x, &size) == 0 && size == n);
    CHECK((n == 0) == (pairs == NULL));
    for (size_t k = 0; k + 1 < n && n <= 32; k++)
      CHECK(pga__term_compare(&pairs[k].key, &pairs[k + 1].key) <= 0);
    free(pairs);
  } else {
    CHECK(pga_term_type(x) != PGA_T_MAP);
  }

  size_t mark = pga_ops_text_len(&t);
  pga_ops_s(&t, x);
  pga_ops_pad(&t, mark, (size_t)(i & 63));
  pga_ops_i(&t, x);
  pga_ops_bytes(&t, x);
  pga_ops_up(&t, x);
  pga_ops_up_ms(&t, i);
  pga_ops_bytes_int(&t, i);
  pga_ops_ts(&t, i);
  pga_ops_icon(&t, pga__ops_truthy(x) ? "ok" : "degraded");
  CHECK(t.err == 0);
  CHECK(strlen(pga_ops_text_str(&t)) <= pga_ops_text_len(&t));

  pga_ops_text_free(&t);
  pga_ops_text_free(&line);
  pga__tb_destroy(&raised);
}

/* ---- 4: relay groups ---- */

enum { OP_CREATE, OP_DELETE, OP_JOIN, OP_LEAVE, OP_ACCEPT, OP_MUTE,
       OP_UNMUTE, OP_DOWN, OP_DOWN_NODE, OP_DOWN_LOCAL, OP_SEND, OP_INFO,
       OP_COUNT };

static const char *const relay_nodes[] = {"a@h", "b@h"};

/* An id: a binary's bytes, or any other term's encoding. */
static pga_relay_id_t relay_id(const pga_term_t *t) {
  const char *p;
  size_t n;
  if (pga_term_get_binary(t, &p, &n) == 0) return (pga_relay_id_t){p, n};
  return (pga_relay_id_t){t->buf, t->len};
}

static erlang_ref relay_ref(uint64_t id) {
  erlang_ref r;
  memset(&r, 0, sizeof r);
  strcpy(r.node, "gw@h");
  r.len = 3;
  r.n[0] = (unsigned)id;
  r.n[1] = (unsigned)(id >> 32);
  r.creation = 1;
  return r;
}

static pga_relay_send_t sender(pga_relay_model_t *m, pga_relay_id_t g,
                               pga_relay_id_t u) {
  size_t recipients;
  return pga_relay_sender(m, g, u, &recipients);
}

typedef struct relay_walk_s {
  size_t groups, members;
} relay_walk_t;

static void count_group(void *ud, const pga_relay_group_view_t *v) {
  relay_walk_t *w = ud;
  w->groups++;
  w->members += v->member_count;
  CHECK(v->active_count <= v->member_count);
  CHECK(v->gid.n <= PGA_RELAY_MAX_ID);
}

static void relay_op(pga_relay_model_t *m, const pga_term_t *op,
                     uint64_t *next_ref, pga_tb_t *tb) {
  static const char empty_buf[] = {109, 0, 0, 0, 0};
  static const pga_term_t empty = {empty_buf, sizeof empty_buf};
  pga_term_t el[4] = {empty, empty, empty, empty};
  size_t arity = 0;
  if (pga_term_tuple_arity(op, &arity) != 0)
    el[0] = *op;
  for (size_t i = 0; i < arity && i < 4; i++)
    CHECK(pga_term_tuple_get(op, i, &el[i]) == 0);
  uint64_t code = (uint64_t)int_or(&el[0], 0) % OP_COUNT;
  pga_relay_id_t g = relay_id(&el[1]), u = relay_id(&el[2]);
  pga_relay_id_t target = relay_id(&el[3]);
  int64_t c = int_or(&el[3], 0);
  pga_relay_monent_t *ent = NULL;
  pga_relay_mstatus_t st;
  pga_relay_gtype_t type;
  pga_relay_rc_t rc;
  size_t count;
  erlang_pid ep;
  pga_term_t pid;

  /* a channel pid on one of two nodes, numbered by c */
  memset(&ep, 0, sizeof ep);
  strcpy(ep.node, relay_nodes[c & 1]);
  ep.num = (unsigned)(c >> 1) & 0x7fff;
  ep.creation = 1;
  pga_tb_reset(tb);
  pga__tb_pid(tb, &ep);
  pid = built(tb);

  switch (code) {
  case OP_CREATE:
    rc = pga_relay_create(m, g, (pga_relay_gtype_t)((uint64_t)c % 3), u, &pid,
                          c);
    if (rc == PGA_RELAY_OK) {
      CHECK(pga_relay_group_get(m, g, &type, &count) == PGA_RELAY_OK &&
            count == 1);
      CHECK(sender(m, g, u) == PGA_RELAY_SEND_OK);
    }
    break;
  case OP_DELETE:
    rc = pga_relay_delete(m, g);
    CHECK(pga_relay_group_get(m, g, &type, &count) == PGA_RELAY_NOT_FOUND);
    break;
  case OP_JOIN: {
    /* explicit small ref ids may collide with stored ones */
    uint64_t ref_id = c >= 0 && c < 64 ? (uint64_t)c : (*next_ref)++;
    pga_relay_mon_t mon = {.ref_id = ref_id, .ref = relay_ref(ref_id),
                           .local_pid = (c & 2) ? 1 + ((uint64_t)c >> 2) % 3 : 0,
                           .node = ep.node, .pid = pid};
    rc = pga_relay_join(m, g, u, &pid, c, &mon, &st, &ent);
    if (rc == PGA_RELAY_OK)
      CHECK(sender(m, g, u) == (st == PGA_RELAY_ACTIVE ? PGA_RELAY_SEND_OK
                                                       : PGA_RELAY_SEND_PENDING));
    else
      CHECK(ent == NULL);
    pga_relay_monent_free(ent);
    break;
  }
  case OP_LEAVE:
    rc = pga_relay_leave(m, g, u, &ent);
    if (rc == PGA_RELAY_OK)
      CHECK(sender(m, g, u) == PGA_RELAY_SEND_NOT_MEMBER);
    else
      CHECK(ent == NULL);
    if (ent) CHECK(pga_relay_monent_mon(ent)->pid.len > 0);
    pga_relay_monent_free(ent);
    break;
  case OP_ACCEPT:
    if (pga_relay_accept(m, g, u, target) == PGA_RELAY_OK)
      CHECK(sender(m, g, target) == PGA_RELAY_SEND_OK);
    break;
  case OP_MUTE:
    if (pga_relay_mute(m, g, u, target) == PGA_RELAY_OK)
      CHECK(sender(m, g, target) == PGA_RELAY_SEND_MUTED);
    break;
  case OP_UNMUTE:
    if (pga_relay_unmute(m, g, u, target) == PGA_RELAY_OK)
      CHECK(sender(m, g, target) == PGA_RELAY_SEND_OK);
    break;
  case OP_DOWN:
    if (pga_relay_down(m, (uint64_t)c)) CHECK(!pga_relay_down(m, (uint64_t)c));
    break;
  case OP_DOWN_NODE:
    (void)pga_relay_down_node(m, relay_nodes[c & 1]);
    CHECK(pga_relay_down_node(m, relay_nodes[c & 1]) == 0);
    break;
  case OP_DOWN_LOCAL:
    (void)pga_relay_down_local(m, (uint64_t)c);
    CHECK(pga_relay_down_local(m, (uint64_t)c) == 0);
    break;
  case OP_SEND: {
    size_t recipients = 0;
    pga_relay_send_t s = pga_relay_sender(m, g, u, &recipients);
    CHECK(pga_relay_send_error(s) ? s != PGA_RELAY_SEND_OK
                                  : s == PGA_RELAY_SEND_OK);
    if (s == PGA_RELAY_SEND_OK) {
      CHECK(pga_relay_group_get(m, g, &type, &count) == PGA_RELAY_OK);
      CHECK(recipients >= 1 && recipients <= count);
    }
    break;
  }
  default: { /* OP_INFO */
    char iso[PGA_RELAY_ISO8601_BUF];
    size_t n = pga_relay_iso8601(c, iso);
    CHECK(n < sizeof iso && strlen(iso) == n);
    pga_tb_reset(tb);
    pga_relay_put_datetime(tb, c);
    (void)built(tb);
    pga_tb_reset(tb);
    pga_relay_put_group_info(tb, m, g);
    (void)built(tb);
    break;
  }
  }
}

static void relay(const pga_term_t *x) {
  pga_relay_model_t *m = pga_relay_model_new();
  pga_term_iter_t it;
  pga_term_t op, r;
  pga_tb_t tb;
  uint64_t next_ref = 64;
  size_t n = 0;
  CHECK(m != NULL);
  pga__tb_init(&tb, 0);
  if (pga_term_iter_init(&it, x) == 0) {
    while (n++ < MAX_RELAY_OPS && pga_term_iter_next(&it, &op))
      relay_op(m, &op, &next_ref, &tb);
  } else {
    relay_op(m, x, &next_ref, &tb);
  }

  relay_walk_t w = {0, 0};
  pga_relay_each_group(m, count_group, &w);
  CHECK(w.groups == pga_relay_group_count(m));
  CHECK(pga_relay_monitor_count(m) <= next_ref);
  pga_tb_reset(&tb);
  pga_relay_put_status(&tb, m);
  r = built(&tb);
  CHECK(map_len(&r) == 4);
  pga_relay_model_free(m);
  pga__tb_destroy(&tb);
}

/* ---- 5: term order ---- */

static int sign(int c) { return (c > 0) - (c < 0); }

static void order(const pga_term_t *x) {
  pga_term_t v[MAX_ELEMENTS + 1];
  pga__term_pair_t *pairs;
  size_t n = elements(x, v), size, np;
  int c[MAX_ELEMENTS + 1][MAX_ELEMENTS + 1];
  v[n++] = *x;

  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++)
      c[i][j] = sign(pga__term_compare(&v[i], &v[j]));
  for (size_t i = 0; i < n; i++) {
    CHECK(c[i][i] == 0);
    for (size_t j = 0; j < n; j++) {
      CHECK(c[i][j] == -c[j][i]);
      if (pga_term_equal(&v[i], &v[j])) CHECK(c[i][j] == 0);
      for (size_t k = 0; k < n; k++)
        if (c[i][j] <= 0 && c[j][k] <= 0) CHECK(c[i][k] <= 0);
    }
  }

  pga__term_sort(v, n);
  for (size_t i = 0; i + 1 < n; i++)
    CHECK(pga__term_compare(&v[i], &v[i + 1]) <= 0);

  if (pga__term_map_pairs(x, &pairs, &np) == 0) {
    CHECK(pga_term_map_size(x, &size) == 0 && size == np);
    for (size_t i = 0; i < np; i++) {
      pga_term_t got;
      CHECK(pga_term_map_get(x, &pairs[i].key, &got) == 0);
      if (i + 1 < np && np <= 32)
        CHECK(pga__term_compare(&pairs[i].key, &pairs[i + 1].key) <= 0);
    }
    free(pairs);
  } else {
    CHECK(pga_term_type(x) != PGA_T_MAP);
  }
}

/* ---- entry ---- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  pga_term_t t, el[MAX_ELEMENTS];
  size_t n;

  if (size < 2 || size > MAX_INPUT) return 0;
  if (pga_term_view_versioned((const char *)data + 1, size - 1, &t) != 0)
    return 0;
  n = elements(&t, el);
  switch (data[0] % SEL_COUNT) {
  case SEL_TRACE_ARGS:
    trace_args(&t);
    for (size_t i = 0; i < n; i++) trace_args(&el[i]);
    break;
  case SEL_TRACE_MSG:
    trace_msg(&t, NULL);
    for (size_t i = 0; i < n; i++) trace_msg(&el[i], &t);
    break;
  case SEL_CALLFLOW:
    callflow(&t);
    for (size_t i = 0; i < n; i++) callflow(&el[i]);
    break;
  case SEL_EVAL:
    eval(&t, n ? &el[0] : &t);
    for (size_t i = 0; i < n; i++) eval(&el[i], &el[(i + 1) % n]);
    break;
  case SEL_RELAY:
    relay(&t);
    break;
  default:
    order(&t);
    break;
  }
  return 0;
}
