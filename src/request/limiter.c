/* The rate limiter (request-plane.md §7): global and per-API limits over
 * two tables of sliding logs (ratelog.c), the key rules of §7.2, the
 * check order and record-keeping of §7.3, and the runtime API of §7.4
 * with its exact return terms.
 *
 * Invariants:
 *   1. One mutex guards limits and logs; a request's whole check runs
 *      under it, so concurrent requests respect every limit exactly (and a
 *      request's checks are atomic, as in the library's GenServer call).
 *   2. Timestamps in a log never decrease: a `now` older than the newest
 *      stored one is raised to it (threads read the clock before taking
 *      the lock; the library reads it inside its serialised call).
 *   3. Logs are created only by accepted checks and deleted only by reset
 *      and cleanup. A table holds at most max_logs logs; a check that would
 *      create one more fails (fail_open decides, docs/compat.md R9).
 *   4. Limits are kept as the terms given (get_* return them verbatim) and
 *      parsed once; a malformed limit fails the check when it is reached
 *      (R8). */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/dict.h"
#include "request/request_int.h"

#define DEFAULT_MAX_LOGS 1000000
#define DEFAULT_CLEANUP_WINDOW 60000

enum { T_GLOBAL = 0, T_API = 1 };
enum { K_NONE, K_USER, K_DEVICE, K_ARG };

typedef struct limit_s {
  pga_term_t raw;
  int is_map;
  int has_key;
  int key_kind;
  pga_term_t key;       /* the :key value */
  int numbers_ok;       /* integer max_requests and window_ms */
  int64_t max;
  int64_t window;
  int scope_ok;         /* API limits: :service and :request_type present */
  pga_term_t service;
  pga_term_t request_type;
} limit_t;

typedef struct limits_s {
  char *bytes;          /* owned encoding of the list */
  pga_term_t term;
  limit_t *v;
  size_t n;
} limits_t;

struct pga_request_limiter_s {
  pthread_mutex_t lock;
  int enabled;
  int fail_open;
  size_t max_logs;
  int64_t cleanup_window[2];
  limits_t limits[2];
  pga_dict_t *logs[2];
};

static const pga_dict_type_t log_type = {
    pga__rq_keybuf_hash, pga__rq_keybuf_equal, free, pga__rq_log_free};

/* ---- Limits ---- */

static void parse_limit(const pga_term_t *t, limit_t *l) {
  pga_term_t v;
  int64_t max, window;

  memset(l, 0, sizeof *l);
  l->raw = *t;
  if (pga__rq_type(t) != PGA_T_MAP)
    return;
  l->is_map = 1;
  if (pga_term_map_get_atom(t, "key", &l->key) == 0) {
    l->has_key = 1;
    l->key_kind = pga_term_is_atom(&l->key, "user_id")     ? K_USER
                  : pga_term_is_atom(&l->key, "device_id") ? K_DEVICE
                  : pga__rq_type(&l->key) == PGA_T_BINARY  ? K_ARG
                                                           : K_NONE;
  }
  if (pga_term_map_get_atom(t, "max_requests", &v) == 0 &&
      pga_term_get_int64(&v, &max) == 0 &&
      pga_term_map_get_atom(t, "window_ms", &v) == 0 &&
      pga_term_get_int64(&v, &window) == 0 &&
      window > INT64_MIN / 4 && window < INT64_MAX / 4) {
    l->numbers_ok = 1;
    l->max = max;
    l->window = window;
  }
  l->scope_ok = pga_term_map_get_atom(t, "service", &l->service) == 0 &&
                pga_term_map_get_atom(t, "request_type", &l->request_type) == 0;
}

static void limits_free(limits_t *ls) {
  free(ls->bytes);
  free(ls->v);
  memset(ls, 0, sizeof *ls);
}

/* Copies a proper list of limits. PGA_EINVAL for anything else. */
static int limits_set(limits_t *ls, const pga_term_t *list) {
  limits_t n = {0};
  pga_term_iter_t it;
  pga_term_t el;
  size_t count, i = 0;

  if (list == NULL || list->buf == NULL) {
    limits_free(ls);
    return 0;
  }
  if (!pga__rq_proper_list(list, &count))
    return PGA_EINVAL;
  if ((n.bytes = malloc(list->len)) == NULL ||
      (count > 0 && (n.v = calloc(count, sizeof *n.v)) == NULL)) {
    free(n.bytes);
    return PGA_ENOMEM;
  }
  memcpy(n.bytes, list->buf, list->len);
  n.term.buf = n.bytes;
  n.term.len = list->len;
  if (pga_term_iter_init(&it, &n.term) == 0)
    while (i < count && pga_term_iter_next(&it, &el))
      parse_limit(&el, &n.v[i++]);
  n.n = i;
  limits_free(ls);
  *ls = n;
  return 0;
}

/* The largest window_ms of the limits given at start (the cleanup cutoff);
 * 60000 when there are none. */
static int64_t max_window(const limits_t *ls) {
  int64_t m = INT64_MIN;

  for (size_t i = 0; i < ls->n; i++)
    if (ls->v[i].numbers_ok && ls->v[i].window > m)
      m = ls->v[i].window;
  return m == INT64_MIN ? DEFAULT_CLEANUP_WINDOW : m;
}

/* ---- Life cycle ---- */

int pga_request_limiter_new(const pga_limiter_opts_t *opts,
                            pga_request_limiter_t **out) {
  pga_request_limiter_t *l;
  int rc = 0;

  if (out == NULL ||
      (opts != NULL && opts->struct_version != PGA_LIMITER_OPTS_VERSION))
    return PGA_EINVAL;
  if ((l = calloc(1, sizeof *l)) == NULL)
    return PGA_ENOMEM;
  l->enabled = opts == NULL || !opts->disabled;
  l->fail_open = opts == NULL || !opts->fail_closed;
  l->max_logs = opts != NULL && opts->max_logs ? opts->max_logs
                                               : DEFAULT_MAX_LOGS;
  if (opts != NULL &&
      ((rc = limits_set(&l->limits[T_GLOBAL], &opts->global_limits)) != 0 ||
       (rc = limits_set(&l->limits[T_API], &opts->api_limits)) != 0)) {
    pga_request_limiter_free(l);
    return rc;
  }
  l->cleanup_window[T_GLOBAL] = max_window(&l->limits[T_GLOBAL]);
  l->cleanup_window[T_API] = max_window(&l->limits[T_API]);
  if ((l->logs[T_GLOBAL] = pga_dict_new(&log_type)) == NULL ||
      (l->logs[T_API] = pga_dict_new(&log_type)) == NULL ||
      pthread_mutex_init(&l->lock, NULL) != 0) {
    pga_dict_free(l->logs[T_GLOBAL]);
    pga_dict_free(l->logs[T_API]);
    l->logs[T_GLOBAL] = l->logs[T_API] = NULL;
    pga_request_limiter_free(l);
    return PGA_ENOMEM;
  }
  *out = l;
  return 0;
}

void pga_request_limiter_free(pga_request_limiter_t *l) {
  if (l == NULL)
    return;
  if (l->logs[T_GLOBAL] != NULL) {
    pga_dict_free(l->logs[T_GLOBAL]);
    pga_dict_free(l->logs[T_API]);
    pthread_mutex_destroy(&l->lock);
  }
  limits_free(&l->limits[T_GLOBAL]);
  limits_free(&l->limits[T_API]);
  free(l);
}

/* ---- One check (check_and_record/3) ---- */

/* The outcome of one check, with what the denial term needs. */
typedef struct verdict_s {
  pga_limit_status_t status;
  const char *failure;    /* PGA_LIMIT_FAILED: the message */
  int table;
  pga_term_t key_term;    /* the log key as a term (denial :key) */
  pga__rq_text_t *api_key; /* or the API key text */
  pga_limit_info_t info;
  const pga_term_t *raw;  /* the caller's map (check_map), else NULL */
  const char *missing;    /* PGA_LIMIT_RAISED: the absent key, or NULL
                             for args that are not a map */
} verdict_t;

static pga__rq_log_t *find_log(pga_request_limiter_t *l, int table,
                               const pga__rq_key_t *k) {
  pga__rq_keybuf_t *probe = pga__rq_keybuf_new(k);
  pga__rq_log_t *log;

  if (probe == NULL)
    return NULL;
  log = pga_dict_get(l->logs[table], probe);
  free(probe);
  return log;
}

/* A new log holding [now]. */
static const char *create_log(pga_request_limiter_t *l, int table,
                              const pga__rq_key_t *k, int64_t now) {
  pga__rq_keybuf_t *kb;
  pga__rq_log_t *log;

  if (pga_dict_size(l->logs[table]) >= l->max_logs)
    return "rate limiter table full";
  kb = pga__rq_keybuf_new(k);
  log = pga__rq_log_new();
  if (kb == NULL || log == NULL || pga__rq_log_accept(log, now, now, 1) != 0 ||
      pga_dict_add(l->logs[table], kb, log) != 0) {
    free(kb);
    pga__rq_log_free(log);
    return "out of memory";
  }
  return NULL;
}

/* One limit against one log: the library's check_and_record/3. */
static void check_log(pga_request_limiter_t *l, int table,
                      const pga__rq_key_t *k, const limit_t *lim, int64_t now,
                      verdict_t *vd) {
  pga__rq_log_t *log = find_log(l, table, k);
  int64_t cutoff, oldest = 0, newest;
  uint32_t count;

  vd->status = PGA_LIMIT_OK;
  if (log == NULL) {
    /* No log: [now] and accept, whatever max_requests says (§7.3.1). */
    if ((vd->failure = create_log(l, table, k, now)) != NULL)
      vd->status = PGA_LIMIT_FAILED;
    return;
  }
  if ((newest = pga__rq_log_newest(log)) > now)
    now = newest; /* invariant 2 */
  cutoff = now - lim->window;
  count = pga__rq_log_count_after(log, cutoff, &oldest);
  if ((int64_t)count >= lim->max) {
    if (count == 0) {
      /* List.last([]) + window_ms raises ArithmeticError (max <= 0). */
      vd->status = PGA_LIMIT_FAILED;
      vd->failure = "bad argument in arithmetic expression";
      return;
    }
    vd->status = PGA_LIMIT_EXCEEDED;
    vd->info.max_requests = lim->max;
    vd->info.current_requests = count;
    vd->info.window_ms = lim->window;
    vd->info.retry_after_ms =
        oldest + lim->window - now > 0 ? oldest + lim->window - now : 0;
    vd->info.global = table == T_GLOBAL;
    return;
  }
  if (pga__rq_log_accept(log, cutoff, now,
                         lim->max > UINT32_MAX - 1 ? UINT32_MAX - 1
                                                   : (uint32_t)lim->max) != 0) {
    vd->status = PGA_LIMIT_FAILED;
    vd->failure = "out of memory";
  }
}

/* "#{term}" for a service, request type or key value; 0 or -1 when
 * String.Chars has no implementation the gateway reproduces. */
static int put_chars(pga__rq_text_t *t, const pga_term_t *term) {
  const unsigned char *p;
  size_t n;
  char atom[PGA_ATOM_BUF];

  switch (pga__rq_type(term)) {
  case PGA_T_BINARY:
    if (pga__rq_binary(term, &p, &n) == 0)
      pga__rq_text_add(t, (const char *)p, n);
    return 0;
  case PGA_T_ATOM:
    if (pga_term_get_atom(term, atom, sizeof atom) != 0)
      return -1;
    if (strcmp(atom, "nil") != 0)
      pga__rq_text_str(t, atom);
    return 0;
  case PGA_T_INTEGER:
  case PGA_T_BIGINT:
  case PGA_T_FLOAT:
    pga__rq_text_number(t, term);
    return 0;
  default:
    return -1;
  }
}

/* "<service>:<request_type>:<value>" (build_api_key/2). */
static int api_key(pga__rq_text_t *t, const pga_term_t *service,
                   const pga_term_t *rt, const pga_term_t *value) {
  pga__rq_text_init(t);
  if (put_chars(t, service) != 0)
    return -1;
  pga__rq_text_str(t, ":");
  if (put_chars(t, rt) != 0)
    return -1;
  pga__rq_text_str(t, ":");
  if (put_chars(t, value) != 0)
    return -1;
  return t->err != 0 ? -1 : 0;
}

static void text_key(const pga__rq_text_t *t, pga__rq_key_t *k) {
  pga__rq_key_bytes(PGA__RQ_KEY_BINARY, pga_dynbuf_size(&t->b) > 0
                                            ? pga_dynbuf_ptr(&t->b)
                                            : "",
                    pga_dynbuf_size(&t->b), k);
}

/* A limit's own log key: its :key term, then the value's key. Limits on
 * different key types never share a log (issue #4; docs/compat.md R6);
 * limits on the same key type still do, as in the library. */
static void limit_log_key(const limit_t *lim, const pga__rq_key_t *value,
                          pga__rq_key_t *out) {
  unsigned char buf[2 + 2 * (PGA__RQ_KEY_MAX + 1)];
  pga__rq_key_t kt;

  pga__rq_key(&lim->key, &kt);
  buf[0] = (unsigned char)(kt.len >> 8);
  buf[1] = (unsigned char)kt.len;
  memcpy(buf + 2, kt.b, kt.len);
  memcpy(buf + 2 + kt.len, value->b, value->len);
  pga__rq_key_bytes('L', buf, 2 + kt.len + value->len, out);
}

/* ---- Request checks ---- */

/* The value a limit counts for this request (get_key_value/2); 1 when it
 * is a non-empty binary, 0 to skip the limit, -1 when the library
 * raises. */
static int key_value(const limit_t *lim, const pga_request_t *req,
                     pga_term_t *v) {
  switch (lim->key_kind) {
  case K_USER: *v = req->user_id; break;
  case K_DEVICE: *v = req->device_id; break;
  case K_ARG:
    if (pga__rq_type(&req->args) != PGA_T_MAP)
      return -1; /* Map.get/2 raises BadMapError */
    if (!pga__rq_map_get(&req->args, &lim->key, v))
      return 0;
    break;
  default: return 0; /* :ip_address (the struct has none) and others */
  }
  return pga__rq_is_nonempty_binary(v);
}

static void fail(verdict_t *vd, const char *why) {
  vd->status = PGA_LIMIT_FAILED;
  vd->failure = why;
}

/* check_map only: 1 (vd set to PGA_LIMIT_RAISED) when the caller's map
 * lacks the atom key that the library's limiter reads with `request.key`. */
static int raises_badkey(verdict_t *vd, const char *key) {
  pga_term_t v;
  if (vd->raw == NULL || pga_term_map_get_atom(vd->raw, key, &v) == 0)
    return 0;
  vd->status = PGA_LIMIT_RAISED;
  vd->missing = key;
  return 1;
}

/* check_map only: the field get_key_value/2 reads for the limit's key is
 * absent, or Map.get/2 is given args that are not a map. */
static int raises_on_key(const limit_t *lim, const pga_request_t *req,
                         verdict_t *vd) {
  switch (lim->key_kind) {
  case K_USER: return raises_badkey(vd, "user_id");
  case K_DEVICE: return raises_badkey(vd, "device_id");
  case K_ARG:
    if (raises_badkey(vd, "args"))
      return 1;
    if (vd->raw == NULL || pga__rq_type(&req->args) == PGA_T_MAP)
      return 0;
    vd->status = PGA_LIMIT_RAISED;
    vd->missing = NULL;
    return 1;
  default: return 0;
  }
}

/* The limit's key value for req into *v: 1 to count it, 0 to skip the
 * limit (a failure to convert the args sets vd, which ends the checks),
 * -1 when the limit itself is malformed (vd set). */
static int limit_value(const limit_t *lim, const pga_request_t *req,
                       pga_term_t *v, verdict_t *vd) {
  if (raises_on_key(lim, req, vd))
    return -1;
  int kv = key_value(lim, req, v);
  if (kv <= 0) {
    if (kv < 0)
      fail(vd, "expected a map for request args");
    return 0;
  }
  if (!lim->numbers_ok) {
    fail(vd, "invalid rate limit: max_requests and window_ms must be "
             "integers");
    return -1;
  }
  return 1;
}

static void check_global(pga_request_limiter_t *l, const pga_request_t *req,
                         int64_t now, verdict_t *vd) {
  const limits_t *ls = &l->limits[T_GLOBAL];
  pga__rq_key_t k, vk;
  pga_term_t v;

  for (size_t i = 0; i < ls->n && vd->status == PGA_LIMIT_OK; i++) {
    const limit_t *lim = &ls->v[i];
    int use;

    if (!lim->is_map || !lim->has_key) {
      fail(vd, "invalid rate limit: no :key");
      return;
    }
    if ((use = limit_value(lim, req, &v, vd)) <= 0) {
      if (use < 0)
        return;
      continue;
    }
    pga__rq_key(&v, &vk);
    limit_log_key(lim, &vk, &k);
    check_log(l, T_GLOBAL, &k, lim, now, vd);
    vd->table = T_GLOBAL;
    vd->key_term = v;
  }
}

static void check_api(pga_request_limiter_t *l, const pga_request_t *req,
                      int64_t now, verdict_t *vd) {
  const limits_t *ls = &l->limits[T_API];
  pga__rq_key_t k, vk;
  pga_term_t v;

  for (size_t i = 0; i < ls->n && vd->status == PGA_LIMIT_OK; i++) {
    const limit_t *lim = &ls->v[i];
    int use;

    if (!lim->is_map || !lim->scope_ok) {
      fail(vd, "invalid rate limit: no :service or :request_type");
      return;
    }
    if (raises_badkey(vd, "service"))
      return;
    if (!pga_term_equal(&lim->service, &req->service))
      continue;
    if (raises_badkey(vd, "request_type"))
      return;
    if (!pga_term_equal(&lim->request_type, &req->request_type))
      continue;
    if (!lim->has_key) {
      fail(vd, "invalid rate limit: no :key");
      return;
    }
    if ((use = limit_value(lim, req, &v, vd)) <= 0) {
      if (use < 0)
        return;
      continue;
    }
    pga__rq_text_free(vd->api_key);
    if (api_key(vd->api_key, &lim->service, &lim->request_type, &v) != 0) {
      fail(vd, "protocol String.Chars not implemented for the limit scope");
      return;
    }
    text_key(vd->api_key, &vk);
    limit_log_key(lim, &vk, &k);
    check_log(l, T_API, &k, lim, now, vd);
    vd->table = T_API;
  }
}

/* ---- Result terms ---- */

/* {service, request_type} from the API key split on its first two ":". */
static void put_api_scope(pga_tb_t *out, const pga__rq_text_t *key) {
  const char *s = pga_dynbuf_ptr(&key->b);
  size_t n = pga_dynbuf_size(&key->b);
  const char *c1 = memchr(s, ':', n);
  const char *c2 = c1 != NULL ? memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - s))
                              : NULL;

  if (c2 == NULL) {
    pga_tb_atom(out, "global"); /* cannot happen: two ":" were written */
    return;
  }
  pga_tb_tuple(out, 2);
  pga_tb_binary(out, s, (size_t)(c1 - s));
  pga_tb_binary(out, c1 + 1, (size_t)(c2 - c1 - 1));
}

static void put_denial(pga_tb_t *out, const verdict_t *vd) {
  pga_tb_tuple(out, 3);
  pga_tb_atom(out, "error");
  pga_tb_atom(out, "rate_limited");
  pga_tb_map(out, 6);
  pga_tb_atom(out, "current_requests");
  pga_tb_int(out, vd->info.current_requests);
  pga_tb_atom(out, "key");
  if (vd->table == T_API)
    pga_tb_binary(out, pga_dynbuf_ptr(&vd->api_key->b),
                  pga_dynbuf_size(&vd->api_key->b));
  else
    pga_tb_term(out, &vd->key_term);
  pga_tb_atom(out, "max_requests");
  pga_tb_int(out, vd->info.max_requests);
  pga_tb_atom(out, "retry_after_ms");
  pga_tb_int(out, vd->info.retry_after_ms);
  pga_tb_atom(out, "scope");
  if (vd->table == T_API)
    put_api_scope(out, vd->api_key);
  else
    pga_tb_atom(out, "global");
  pga_tb_atom(out, "window_ms");
  pga_tb_int(out, vd->info.window_ms);
}

/* The error the library's limiter call dies with: {badkey, Key, Map} or
 * {badmap, Args}. */
static void put_raised(pga_tb_t *out, const verdict_t *vd,
                       const pga_request_t *req) {
  if (vd->missing == NULL) {
    pga_tb_tuple(out, 2);
    pga_tb_atom(out, "badmap");
    pga_tb_term(out, &req->args);
    return;
  }
  pga_tb_tuple(out, 3);
  pga_tb_atom(out, "badkey");
  pga_tb_atom(out, vd->missing);
  pga_tb_term(out, vd->raw);
}

static void put_failure(pga_tb_t *out, const char *message) {
  pga_tb_tuple(out, 3);
  pga_tb_atom(out, "error");
  pga_tb_atom(out, "rate_limiter_error");
  pga_tb_map(out, 1);
  pga_tb_atom(out, "message");
  pga_tb_string(out, message);
}

static void put_ok(pga_tb_t *out) {
  if (out != NULL)
    pga_tb_atom(out, "ok");
}

static pga_limit_status_t check(pga_request_limiter_t *l,
                                const pga_request_t *req,
                                const pga_term_t *raw, int64_t now_ms,
                                pga_tb_t *out, pga_limit_info_t *info) {
  pga__rq_text_t key;
  verdict_t vd;

  if (!l->enabled) {
    put_ok(out);
    return PGA_LIMIT_OK;
  }
  memset(&vd, 0, sizeof vd);
  pga__rq_text_init(&key);
  vd.api_key = &key;
  vd.raw = raw;
  pthread_mutex_lock(&l->lock);
  check_global(l, req, now_ms, &vd);
  if (vd.status == PGA_LIMIT_OK)
    check_api(l, req, now_ms, &vd);
  pthread_mutex_unlock(&l->lock);
  if (vd.status == PGA_LIMIT_EXCEEDED) {
    if (out != NULL)
      put_denial(out, &vd);
    if (info != NULL)
      *info = vd.info;
  } else if (vd.status == PGA_LIMIT_RAISED) {
    if (out != NULL)
      put_raised(out, &vd, req);
  } else if (vd.status == PGA_LIMIT_FAILED && !l->fail_open) {
    if (out != NULL)
      put_failure(out, vd.failure);
  } else {
    vd.status = PGA_LIMIT_OK;
    put_ok(out);
  }
  pga__rq_text_free(&key);
  return vd.status;
}

pga_limit_status_t pga_request_limiter_check(pga_request_limiter_t *l,
                                             const pga_request_t *req,
                                             int64_t now_ms, pga_tb_t *out,
                                             pga_limit_info_t *info) {
  return check(l, req, NULL, now_ms, out, info);
}

pga_limit_status_t pga_request_limiter_check_map(pga_request_limiter_t *l,
                                                 const pga_term_t *map,
                                                 int64_t now_ms, pga_tb_t *out,
                                                 pga_limit_info_t *info) {
  pga_request_t req;
  if (pga_request_from_struct(map, &req) != 0)
    return PGA_LIMIT_FAILED; /* callers check the type first */
  return check(l, &req, map, now_ms, out, info);
}

size_t pga_request_limiter_e5(int64_t retry_after_ms, char *out,
                              size_t outlen) {
  /* div/2 truncates; retry_after_ms is never negative (max(_, 0)). */
  int n = snprintf(out, outlen,
                   "Rate limit exceeded. Please retry after %lld seconds.",
                   (long long)(retry_after_ms / 1000));

  return n < 0 ? 0 : (size_t)n;
}

/* ---- Runtime API ---- */

/* :global -> T_GLOBAL; {service, request_type} -> T_API with el set. */
static int scope_table(const pga_term_t *scope, pga_term_t el[2]) {
  if (pga__rq_type(scope) == PGA_T_ATOM && pga_term_is_atom(scope, "global"))
    return T_GLOBAL;
  if (pga__rq_tuple(scope, 2, el))
    return T_API;
  return -1;
}

/* Value's part of the log key in a scope: value itself, or
 * "svc:rt:value" (limit_log_key adds the limit's key type). */
static int scope_key(int table, const pga_term_t el[2],
                     const pga_term_t *value, pga__rq_text_t *text,
                     pga__rq_key_t *k) {
  if (table == T_GLOBAL) {
    pga__rq_key(value, k);
    return 0;
  }
  pga__rq_text_free(text);
  if (api_key(text, &el[0], &el[1], value) != 0)
    return PGA_EINVAL;
  text_key(text, k);
  return 0;
}

/* Does API limit lim apply to scope el (and key_type, when not NULL)?
 * -1 when the library would raise on a missing field. */
static int applies(const limit_t *lim, const pga_term_t el[2],
                   const pga_term_t *key_type) {
  if (!lim->is_map || !lim->scope_ok)
    return -1;
  if (!pga_term_equal(&lim->service, &el[0]) ||
      !pga_term_equal(&lim->request_type, &el[1]))
    return 0;
  if (key_type == NULL)
    return 1;
  if (!lim->has_key)
    return -1;
  return pga_term_equal(&lim->key, key_type);
}

int pga_request_limiter_check_direct(pga_request_limiter_t *l,
                                     const pga_term_t *value,
                                     const pga_term_t *scope,
                                     const pga_term_t *key_type,
                                     int64_t now_ms, pga_tb_t *out) {
  pga__rq_text_t text;
  pga__rq_key_t k, vk;
  pga_term_t el[2];
  verdict_t vd;
  int table = scope_table(scope, el), rc = 0;

  if (table < 0)
    return PGA_EINVAL;
  if (!l->enabled) {
    put_ok(out);
    return 0;
  }
  memset(&vd, 0, sizeof vd);
  pga__rq_text_init(&text);
  vd.api_key = &text;
  vd.table = table;
  vd.key_term = *value;
  pthread_mutex_lock(&l->lock);
  for (size_t i = 0; i < l->limits[table].n && vd.status == PGA_LIMIT_OK;
       i++) {
    const limit_t *lim = &l->limits[table].v[i];
    int a = table == T_GLOBAL ? (lim->is_map ? 1 : -1)
                              : applies(lim, el, key_type);

    if (a == 0)
      continue;
    if (a < 0 || !lim->numbers_ok ||
        (rc = scope_key(table, el, value, &text, &vk)) != 0) {
      rc = PGA_EINVAL;
      break;
    }
    limit_log_key(lim, &vk, &k);
    check_log(l, table, &k, lim, now_ms, &vd);
  }
  pthread_mutex_unlock(&l->lock);
  /* The direct API has no rescue in the library: failures crash it. */
  if (rc == 0 && vd.status == PGA_LIMIT_FAILED)
    rc = PGA_EINVAL;
  if (rc == 0 && vd.status == PGA_LIMIT_EXCEEDED)
    put_denial(out, &vd);
  else if (rc == 0)
    put_ok(out);
  pga__rq_text_free(&text);
  return rc;
}

/* Deletes value's log for every limit of the scope (each limit has its
 * own log per key type; the library's single log holds them all). */
int pga_request_limiter_reset(pga_request_limiter_t *l,
                              const pga_term_t *value,
                              const pga_term_t *scope, pga_tb_t *out) {
  pga__rq_text_t text;
  pga__rq_keybuf_t *kb;
  pga__rq_key_t k, vk;
  pga_term_t el[2];
  int table = scope_table(scope, el), rc;

  if (table < 0)
    return PGA_EINVAL;
  pga__rq_text_init(&text);
  rc = scope_key(table, el, value, &text, &vk);
  pga__rq_text_free(&text);
  if (rc != 0)
    return rc;
  pthread_mutex_lock(&l->lock);
  for (size_t i = 0; rc == 0 && i < l->limits[table].n; i++) {
    const limit_t *lim = &l->limits[table].v[i];

    if (table == T_API && applies(lim, el, NULL) != 1)
      continue;
    limit_log_key(lim, &vk, &k);
    if ((kb = pga__rq_keybuf_new(&k)) == NULL) {
      rc = PGA_ENOMEM;
      break;
    }
    pga_dict_delete(l->logs[table], kb);
    free(kb);
  }
  pthread_mutex_unlock(&l->lock);
  if (rc == 0)
    put_ok(out);
  return rc;
}

static void put_status_entry(pga_tb_t *out, const limit_t *lim,
                             uint32_t count, int table,
                             const pga__rq_text_t *text,
                             const pga_term_t *value,
                             const pga_term_t *scope) {
  int64_t remaining = lim->max - (int64_t)count;

  pga_tb_map(out, 6);
  pga_tb_atom(out, "current_requests");
  pga_tb_int(out, count);
  pga_tb_atom(out, "key");
  if (table == T_API)
    pga_tb_binary(out, pga_dynbuf_ptr(&text->b), pga_dynbuf_size(&text->b));
  else
    pga_tb_term(out, value);
  pga_tb_atom(out, "max_requests");
  pga_tb_int(out, lim->max);
  pga_tb_atom(out, "remaining");
  pga_tb_int(out, remaining > 0 ? remaining : 0);
  pga_tb_atom(out, "scope");
  pga_tb_term(out, scope);
  pga_tb_atom(out, "window_ms");
  pga_tb_int(out, lim->window);
}

int pga_request_limiter_status(pga_request_limiter_t *l,
                               const pga_term_t *value,
                               const pga_term_t *scope, int64_t now_ms,
                               pga_tb_t *out) {
  pga__rq_text_t text;
  pga__rq_key_t k, vk;
  pga__rq_log_t *log;
  pga_term_t el[2];
  size_t n = 0;
  int table = scope_table(scope, el), rc;

  if (table < 0)
    return PGA_EINVAL;
  pga__rq_text_init(&text);
  if ((rc = scope_key(table, el, value, &text, &vk)) != 0) {
    pga__rq_text_free(&text);
    return rc;
  }
  pthread_mutex_lock(&l->lock);
  for (size_t i = 0; rc == 0 && i < l->limits[table].n; i++) {
    const limit_t *lim = &l->limits[table].v[i];
    int a = table == T_GLOBAL ? (lim->is_map ? 1 : -1)
                              : applies(lim, el, NULL);

    if (a < 0 || (a > 0 && !lim->numbers_ok))
      rc = PGA_EINVAL;
    n += a > 0;
  }
  if (rc == 0)
    pga_tb_list(out, n);
  for (size_t i = 0; rc == 0 && i < l->limits[table].n; i++) {
    const limit_t *lim = &l->limits[table].v[i];

    if (table == T_API && applies(lim, el, NULL) != 1)
      continue;
    limit_log_key(lim, &vk, &k);
    log = find_log(l, table, &k);
    put_status_entry(out, lim,
                     log != NULL ? pga__rq_log_count_after(
                                       log, now_ms - lim->window, NULL)
                                 : 0,
                     table, &text, value, scope);
  }
  pthread_mutex_unlock(&l->lock);
  if (rc == 0 && n > 0) /* pga_tb_list(0) already wrote [] */
    pga_tb_nil(out);
  pga__rq_text_free(&text);
  return rc;
}

void pga_request_limiter_config(pga_request_limiter_t *l, pga_tb_t *out) {
  pthread_mutex_lock(&l->lock);
  pga_tb_map(out, 2);
  pga_tb_atom(out, "api");
  if (l->limits[T_API].term.buf != NULL)
    pga_tb_term(out, &l->limits[T_API].term);
  else
    pga_tb_nil(out);
  pga_tb_atom(out, "global");
  if (l->limits[T_GLOBAL].term.buf != NULL)
    pga_tb_term(out, &l->limits[T_GLOBAL].term);
  else
    pga_tb_nil(out);
  pthread_mutex_unlock(&l->lock);
}

void pga_request_limiter_global_limits(pga_request_limiter_t *l,
                                       pga_tb_t *out) {
  pthread_mutex_lock(&l->lock);
  if (l->limits[T_GLOBAL].term.buf != NULL)
    pga_tb_term(out, &l->limits[T_GLOBAL].term);
  else
    pga_tb_nil(out);
  pthread_mutex_unlock(&l->lock);
}

int pga_request_limiter_set_global(pga_request_limiter_t *l,
                                   const pga_term_t *limits, pga_tb_t *out) {
  int rc;

  if (!pga__rq_proper_list(limits, NULL))
    return PGA_EINVAL;
  pthread_mutex_lock(&l->lock);
  rc = limits_set(&l->limits[T_GLOBAL], limits);
  pthread_mutex_unlock(&l->lock);
  if (rc == 0)
    put_ok(out);
  return rc;
}

/* The global limits without those whose :key equals key (Map.get/2 gives
 * nil for a missing :key), then extra (may be NULL) at the end. Called
 * with the lock held. */
static int replace_global(pga_request_limiter_t *l, const pga_term_t *key,
                          const pga_term_t *extra) {
  const limits_t *ls = &l->limits[T_GLOBAL];
  pga_term_t nil = pga_request_nil();
  size_t keep = 0;
  pga_tb_t tb;
  int rc;

  pga__tb_init(&tb, 0);
  for (size_t i = 0; i < ls->n; i++)
    keep += !(ls->v[i].is_map &&
              pga_term_equal(ls->v[i].has_key ? &ls->v[i].key : &nil, key));
  pga_tb_list_head(&tb, keep + (extra != NULL));
  for (size_t i = 0; i < ls->n; i++)
    if (!(ls->v[i].is_map &&
          pga_term_equal(ls->v[i].has_key ? &ls->v[i].key : &nil, key)))
      pga_tb_term(&tb, &ls->v[i].raw);
  if (extra != NULL)
    pga_tb_term(&tb, extra);
  pga_tb_nil(&tb);
  if ((rc = pga_tb_error(&tb)) == 0) {
    pga_term_t list = pga_tb_data(&tb);

    rc = limits_set(&l->limits[T_GLOBAL], &list);
  }
  pga__tb_destroy(&tb);
  return rc;
}

int pga_request_limiter_add_global(pga_request_limiter_t *l,
                                   const pga_term_t *limit, pga_tb_t *out) {
  pga_term_t key;
  int rc;

  if (pga__rq_type(limit) != PGA_T_MAP)
    return PGA_EINVAL;
  if (pga_term_map_get_atom(limit, "key", &key) != 0)
    key = pga_request_nil();
  pthread_mutex_lock(&l->lock);
  rc = replace_global(l, &key, limit);
  pthread_mutex_unlock(&l->lock);
  if (rc == 0)
    put_ok(out);
  return rc;
}

int pga_request_limiter_remove_global(pga_request_limiter_t *l,
                                      const pga_term_t *key, pga_tb_t *out) {
  int rc;

  pthread_mutex_lock(&l->lock);
  rc = replace_global(l, key, NULL);
  pthread_mutex_unlock(&l->lock);
  if (rc == 0)
    put_ok(out);
  return rc;
}

int pga_request_limiter_update(pga_request_limiter_t *l,
                               const pga_term_t *config, int allow_update,
                               int allow_detail_error, pga_tb_t *out) {
  pga_term_t v;
  int rc = 0;

  if (pga__rq_type(config) != PGA_T_MAP)
    return PGA_EINVAL;
  if (!allow_update ||
      (pga_term_map_get_atom(config, "detail_error", &v) == 0 &&
       !allow_detail_error)) {
    pga_tb_tuple(out, 2);
    pga_tb_atom(out, "error");
    pga_tb_atom(out, "admin_action_denied");
    return 0;
  }
  pthread_mutex_lock(&l->lock);
  if (pga_term_map_get_atom(config, "global_limits", &v) == 0 &&
      pga__rq_proper_list(&v, NULL))
    rc = limits_set(&l->limits[T_GLOBAL], &v);
  if (rc == 0 && pga_term_map_get_atom(config, "api_limits", &v) == 0 &&
      pga__rq_proper_list(&v, NULL))
    rc = limits_set(&l->limits[T_API], &v);
  pthread_mutex_unlock(&l->lock);
  if (rc == 0)
    put_ok(out);
  return rc;
}

/* ---- Cleanup ---- */

static size_t cleanup_table(pga_request_limiter_t *l, int table,
                            int64_t now) {
  pga_dict_iter_t it;
  void *key, *val;
  size_t dropped = 0;
  int64_t cutoff = now - l->cleanup_window[table];

  pga_dict_iter_init(l->logs[table], &it);
  while (pga_dict_next(&it, &key, &val)) {
    pga__rq_log_t *log = val;

    dropped += pga__rq_log_prune(log, cutoff);
    if (log->len == 0)
      pga_dict_delete(l->logs[table], key);
  }
  return dropped;
}

size_t pga_request_limiter_cleanup(pga_request_limiter_t *l, int64_t now_ms) {
  size_t n;

  pthread_mutex_lock(&l->lock);
  n = cleanup_table(l, T_GLOBAL, now_ms) + cleanup_table(l, T_API, now_ms);
  pthread_mutex_unlock(&l->lock);
  return n;
}

size_t pga_request_limiter_logs(pga_request_limiter_t *l) {
  size_t n;

  pthread_mutex_lock(&l->lock);
  n = pga_dict_size(l->logs[T_GLOBAL]) + pga_dict_size(l->logs[T_API]);
  pthread_mutex_unlock(&l->lock);
  return n;
}

void pga_request_limiter_table_logs(pga_request_limiter_t *l, size_t *global,
                                    size_t *api) {
  pthread_mutex_lock(&l->lock);
  *global = pga_dict_size(l->logs[T_GLOBAL]);
  *api = pga_dict_size(l->logs[T_API]);
  pthread_mutex_unlock(&l->lock);
}

void pga_request_limiter_counts(pga_request_limiter_t *l, size_t *global,
                                size_t *api) {
  pthread_mutex_lock(&l->lock);
  *global = l->limits[T_GLOBAL].n;
  *api = l->limits[T_API].n;
  pthread_mutex_unlock(&l->lock);
}
