/* Unit tests for telemetry (src/telemetry; ops-plane.md §6): the event
 * catalogue and its order (§6.1, acceptance case 38), the handler id
 * schemes, duplicate and detach semantics (§6.2), and the delivery queue
 * (§6.3): FIFO, the per-handler bound with its drop counter, handlers
 * detached with events queued, custom events, emitters on many threads.
 * No node: the table is driven directly and drained with a callback. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pga/errno.h"
#include "telemetry/telemetry_int.h"
#include "config_terms.h"
#include "check_main.h"

/* ---- helpers ---- */

typedef struct seen_s {
  size_t n;
  int64_t last;   /* measurements' :n of the last delivery */
  int ordered;    /* each :n was the previous + 1 */
  char id[64];    /* the last handler's id */
} seen_t;

static void count_delivery(void *ud, const pga_th_t *h, const pga_term_t *ev,
                           const pga_term_t *meas, const pga_term_t *meta) {
  seen_t *s = ud;
  pga_term_t v;
  int64_t n = -1;
  (void)ev, (void)meta;
  if (pga_term_map_get_atom(meas, "n", &v) == 0)
    ck_assert_int_eq(pga_term_get_int64(&v, &n), 0);
  if (s->n == 0) s->ordered = 1;
  if (s->n > 0 && n != s->last + 1) s->ordered = 0;
  s->last = n;
  s->n++;
  snprintf(s->id, sizeof s->id, "%.*s", (int)h->id_len, h->id);
}

/* A handler spec whose terms need no builder (the cap test makes
 * thousands): target the atom :pid, config %{}. */
static const char pid_atom[] = {119, 3, 'p', 'i', 'd'};
static const char empty_map[] = {116, 0, 0, 0, 0};

static pga_th_spec_t pid_spec(void) {
  pga_th_spec_t s = {.kind = PGA_TH_PID,
                     .target = {pid_atom, sizeof pid_atom},
                     .config = {empty_map, sizeof empty_map},
                     .home = "nowhere@host"};
  return s;
}

static pga_term_t event_of(pga_tb_t *tb, pga_event_t ev) {
  pga_tb_reset(tb);
  pga__tel_event_encode(tb, ev);
  return pga_tb_data(tb);
}

static int attach(pga_telemetry_t *t, const char *id, pga_event_t ev) {
  pga_tb_t *tb = pga_tb_new(0);
  pga_term_t e = event_of(tb, ev);
  pga_th_spec_t s = pid_spec();
  int rc = pga__tel_attach(t, id, strlen(id), &e, &s, NULL);
  pga_tb_free(tb);
  return rc;
}

static void emit_n(pga_telemetry_t *t, pga_event_t ev, int64_t n) {
  pga_tb_t *m = pga_tb_new(0), *md = pga_tb_new(0);
  pga_tb_map(m, 1);
  pga_tb_atom(m, "n");
  pga_tb_int(m, n);
  pga_tb_map(md, 0);
  pga_term_t mt = pga_tb_data(m), mdt = pga_tb_data(md);
  pga_telemetry_emit(t, ev, &mt, &mdt);
  pga_tb_free(m);
  pga_tb_free(md);
}

static int detach(pga_telemetry_t *t, const char *id) {
  pga_th_t *h = pga__tel_detach(t, id, strlen(id));
  if (!h) return 0;
  pga__tel_release(t, h);
  return 1;
}

/* ---- catalogue ---- */

START_TEST(catalogue_has_thirty_events_in_order) {
  pga_tb_t *tb = pga_tb_new(0);
  pga_term_t e = event_of(tb, PGA_EV_EXECUTOR_REQUEST_START);
  pga_term_t want = T("[:phoenix_gen_api, :executor, :request, :start]");
  ck_assert(pga_term_equal(&e, &want));
  e = event_of(tb, PGA_EV_CONFIG_ENABLE);
  want = T("[:phoenix_gen_api, :config, :enable]");
  ck_assert(pga_term_equal(&e, &want));
  e = event_of(tb, PGA_EV_WORKER_POOL_CIRCUIT_BREAKER_OPEN);
  want = T("[:phoenix_gen_api, :worker_pool, :circuit_breaker, :open]");
  ck_assert(pga_term_equal(&e, &want));
  e = event_of(tb, PGA_EV_EXECUTOR_RETRY);
  want = T("[:phoenix_gen_api, :executor, :retry]");
  ck_assert(pga_term_equal(&e, &want));
  ck_assert_int_eq(PGA_EV_COUNT, 30);
  ck_assert_ptr_null(pga_telemetry_event_name(PGA_EV_COUNT));
  ck_assert_str_eq(pga_telemetry_event_name(PGA_EV_CONFIG_PULL_STOP)[2],
                   "stop");
  ck_assert_ptr_null(pga_telemetry_event_name(PGA_EV_CONFIG_PUSH)[2]);
  /* every event maps back to its own index, and only to it */
  for (int ev = 0; ev < PGA_EV_COUNT; ev++) {
    e = event_of(tb, (pga_event_t)ev);
    ck_assert_int_eq(pga__tel_event_index(&e), ev);
  }
  pga_tb_free(tb);
  tt_reset();
}
END_TEST

START_TEST(catalogue_rejects_custom_and_malformed_names) {
  pga_term_t t = T("[:phoenix_gen_api, :executor, :request]");
  ck_assert_int_eq(pga__tel_event_index(&t), -1);
  t = T("[:phoenix_gen_api, :config, :enable, :more]");
  ck_assert_int_eq(pga__tel_event_index(&t), -1);
  t = T("[:my_app, :thing]");
  ck_assert_int_eq(pga__tel_event_index(&t), -1);
  ck_assert(pga__tel_event_valid(&t));
  t = T("[]");
  ck_assert(!pga__tel_event_valid(&t));
  t = T("[:a, \"b\"]");
  ck_assert(!pga__tel_event_valid(&t));
  t = T(":a");
  ck_assert(!pga__tel_event_valid(&t));
  t = T("{:a}");
  ck_assert_int_eq(pga__tel_event_index(&t), -1);
  tt_reset();
}
END_TEST

/* ---- ids ---- */

START_TEST(ids_join_segments_and_suffixes) {
  size_t len;
  pga_term_t e = T("[:phoenix_gen_api, :executor, :request, :start]");
  char *id = pga__tel_join_id("my-app", 6, &e, &len);
  ck_assert_ptr_nonnull(id);
  static const char want[] = "my-app-phoenix_gen_api-executor-request-start";
  ck_assert_uint_eq(len, sizeof want - 1);
  ck_assert(!memcmp(id, want, len));
  free(id);
  id = pga__tel_suffix_id("ops", 3, "exception", &len);
  ck_assert_int_eq(len, 13);
  ck_assert(!memcmp(id, "ops-exception", len));
  free(id);
  /* to_string(nil) is "" in Elixir */
  e = T("[:a, nil, :b]");
  id = pga__tel_join_id("x", 1, &e, &len);
  ck_assert_uint_eq(len, 6);
  ck_assert(!memcmp(id, "x-a--b", len));
  free(id);
  /* bounded */
  char big[PGA_TEL_MAX_ID];
  memset(big, 'x', sizeof big);
  ck_assert_ptr_null(pga__tel_suffix_id(big, sizeof big, "stop", &len));
  ck_assert_ptr_null(pga__tel_join_id(big, sizeof big - 3, &e, &len));
  tt_reset();
}
END_TEST

/* ---- table ---- */

START_TEST(duplicate_ids_keep_the_first_handler) {
  pga_telemetry_t *t = pga__tel_new(NULL);
  pga_tb_t *tb = pga_tb_new(0);
  pga_term_t e = event_of(tb, PGA_EV_CONFIG_ADD);
  pga_th_spec_t a = pid_spec(), b = pid_spec();
  pga_th_t *h = NULL;
  a.config = T("%{which: :first}");
  b.config = T("%{which: :second}");
  ck_assert_int_eq(pga__tel_attach(t, "dup", 3, &e, &a, &h), 0);
  ck_assert_int_eq(pga__tel_attach(t, "dup", 3, &e, &b, NULL), PGA_EEXIST);
  /* the id is global: another event under the same id is refused too */
  e = event_of(tb, PGA_EV_CONFIG_DELETE);
  ck_assert_int_eq(pga__tel_attach(t, "dup", 3, &e, &b, NULL), PGA_EEXIST);
  ck_assert_uint_eq(pga__tel_count(t), 1);
  pga_term_t cfg = pga__th_config(h), want = T("%{which: :first}");
  ck_assert(pga_term_equal(&cfg, &want));
  ck_assert(pga_telemetry_wants(t, PGA_EV_CONFIG_ADD));
  ck_assert(!pga_telemetry_wants(t, PGA_EV_CONFIG_DELETE));
  pga_tb_free(tb);
  pga__tel_free(t);
  tt_reset();
}
END_TEST

START_TEST(detach_removes_exactly_that_id) {
  pga_telemetry_t *t = pga__tel_new(NULL);
  ck_assert_int_eq(attach(t, "a-start", PGA_EV_EXECUTOR_REQUEST_START), 0);
  ck_assert_int_eq(attach(t, "a-stop", PGA_EV_EXECUTOR_REQUEST_STOP), 0);
  ck_assert_int_eq(attach(t, "b-start", PGA_EV_EXECUTOR_REQUEST_START), 0);
  ck_assert(detach(t, "a-start"));
  ck_assert(!detach(t, "a-start"));
  ck_assert(!detach(t, "never"));
  ck_assert_uint_eq(pga__tel_count(t), 2);
  ck_assert(pga_telemetry_wants(t, PGA_EV_EXECUTOR_REQUEST_START));
  ck_assert(detach(t, "b-start"));
  ck_assert(!pga_telemetry_wants(t, PGA_EV_EXECUTOR_REQUEST_START));
  ck_assert(pga__tel_has(t, "a-stop", 6));
  /* detached ids can be attached again */
  ck_assert_int_eq(attach(t, "a-start", PGA_EV_CONFIG_ADD), 0);
  ck_assert(pga_telemetry_wants(t, PGA_EV_CONFIG_ADD));
  pga__tel_free(t);
  tt_reset();
}
END_TEST

START_TEST(attach_refuses_bad_events_and_caps_the_table) {
  pga_telemetry_t *t = pga__tel_new(NULL);
  pga_th_spec_t s = pid_spec();
  pga_term_t bad = T("[:a, 1]");
  ck_assert_int_eq(pga__tel_attach(t, "x", 1, &bad, &s, NULL), PGA_EINVAL);
  char id[32];
  for (int i = 0; i < PGA_TEL_MAX_HANDLERS; i++) {
    snprintf(id, sizeof id, "h%d", i);
    ck_assert_int_eq(attach(t, id, (pga_event_t)(i % PGA_EV_COUNT)), 0);
  }
  ck_assert_int_eq(attach(t, "one-more", PGA_EV_CONFIG_ADD), PGA_ETOOBIG);
  ck_assert_int_eq(attach(t, "h7", PGA_EV_CONFIG_ADD), PGA_EEXIST);
  pga__tel_free(t);
  tt_reset();
}
END_TEST

START_TEST(null_telemetry_does_nothing) {
  ck_assert(!pga_telemetry_wants(NULL, PGA_EV_CONFIG_ADD));
  emit_n(NULL, PGA_EV_CONFIG_ADD, 1);
  ck_assert_ptr_null(pga_telemetry_of(NULL));
  pga_telemetry_t *t = pga__tel_new(NULL);
  ck_assert(!pga_telemetry_wants(t, PGA_EV_COUNT));
  emit_n(t, PGA_EV_COUNT, 1);
  emit_n(t, PGA_EV_CONFIG_ADD, 1); /* nobody attached */
  seen_t s = {0};
  ck_assert_uint_eq(pga__tel_drain(t, 100, count_delivery, &s), 0);
  ck_assert_uint_eq(s.n, 0);
  pga__tel_free(t);
}
END_TEST

/* ---- queue ---- */

START_TEST(queue_is_fifo_and_bounded_per_handler) {
  pga_telemetry_t *t = pga__tel_new(NULL);
  ck_assert_int_eq(attach(t, "slow", PGA_EV_CONFIG_PUSH), 0);
  for (int64_t i = 0; i < PGA_TEL_QUEUE_MAX + 5; i++)
    emit_n(t, PGA_EV_CONFIG_PUSH, i);
  ck_assert_uint_eq(pga__tel_dropped(t), 5);
  seen_t s = {0};
  size_t left = pga__tel_drain(t, 100, count_delivery, &s);
  ck_assert_uint_eq(left, PGA_TEL_QUEUE_MAX - 100);
  ck_assert_uint_eq(pga__tel_drain(t, SIZE_MAX, count_delivery, &s), 0);
  ck_assert_uint_eq(s.n, PGA_TEL_QUEUE_MAX);
  ck_assert(s.ordered);
  ck_assert_int_eq(s.last, PGA_TEL_QUEUE_MAX - 1);
  /* room again once drained */
  emit_n(t, PGA_EV_CONFIG_PUSH, 0);
  ck_assert_uint_eq(pga__tel_drain(t, SIZE_MAX, NULL, NULL), 0);
  ck_assert_uint_eq(pga__tel_dropped(t), 5);
  pga__tel_free(t);
  tt_reset();
}
END_TEST

START_TEST(full_queue_of_one_handler_spares_the_others) {
  pga_telemetry_t *t = pga__tel_new(NULL);
  ck_assert_int_eq(attach(t, "a", PGA_EV_CONFIG_ADD), 0);
  for (int64_t i = 0; i < PGA_TEL_QUEUE_MAX; i++)
    emit_n(t, PGA_EV_CONFIG_ADD, i);
  ck_assert_int_eq(attach(t, "b", PGA_EV_CONFIG_ADD), 0);
  emit_n(t, PGA_EV_CONFIG_ADD, 1);
  ck_assert_uint_eq(pga__tel_dropped(t), 1);
  seen_t s = {0};
  ck_assert_uint_eq(pga__tel_drain(t, SIZE_MAX, count_delivery, &s), 0);
  ck_assert_uint_eq(s.n, PGA_TEL_QUEUE_MAX + 1);
  ck_assert_str_eq(s.id, "b");
  pga__tel_free(t);
  tt_reset();
}
END_TEST

START_TEST(detached_handlers_get_nothing_more) {
  pga_telemetry_t *t = pga__tel_new(NULL);
  ck_assert_int_eq(attach(t, "gone", PGA_EV_CONFIG_CLEAR), 0);
  ck_assert_int_eq(attach(t, "stays", PGA_EV_CONFIG_CLEAR), 0);
  emit_n(t, PGA_EV_CONFIG_CLEAR, 1);
  emit_n(t, PGA_EV_CONFIG_CLEAR, 2);
  ck_assert(detach(t, "gone"));
  seen_t s = {0};
  ck_assert_uint_eq(pga__tel_drain(t, SIZE_MAX, count_delivery, &s), 0);
  ck_assert_uint_eq(s.n, 2);
  ck_assert_str_eq(s.id, "stays");
  /* detached with events still queued, then freed with the table */
  emit_n(t, PGA_EV_CONFIG_CLEAR, 3);
  ck_assert(detach(t, "stays"));
  pga__tel_free(t);
  tt_reset();
}
END_TEST

START_TEST(custom_events_reach_exact_matches_only) {
  pga_telemetry_t *t = pga__tel_new(NULL);
  pga_th_spec_t s = pid_spec();
  pga_term_t mine = T("[:my_app, :cache, :hit]");
  pga_term_t other = T("[:my_app, :cache]");
  pga_term_t lib = T("[:phoenix_gen_api, :config, :delete]");
  pga_term_t m = T("%{n: 0}"), md = T("%{}");
  ck_assert_int_eq(pga__tel_attach(t, "c", 1, &mine, &s, NULL), 0);
  ck_assert_int_eq(pga__tel_attach(t, "l", 1, &lib, &s, NULL), 0);
  pga__tel_dispatch(t, -1, &mine, &m, &md);
  pga__tel_dispatch(t, -1, &other, &m, &md);
  /* execute/3 with a library event name reaches library handlers */
  pga__tel_dispatch(t, pga__tel_event_index(&lib), &lib, &m, &md);
  seen_t seen = {0};
  ck_assert_uint_eq(pga__tel_drain(t, SIZE_MAX, count_delivery, &seen), 0);
  ck_assert_uint_eq(seen.n, 2);
  ck_assert_str_eq(seen.id, "l");
  pga__tel_free(t);
  tt_reset();
}
END_TEST

static void *emitter(void *ud) {
  pga_telemetry_t *t = ud;
  for (int i = 0; i < 1000; i++) emit_n(t, PGA_EV_CONFIG_ENABLE, i);
  return NULL;
}

START_TEST(emitters_on_many_threads) {
  pga_telemetry_t *t = pga__tel_new(NULL);
  pthread_t th[4];
  ck_assert_int_eq(attach(t, "mt", PGA_EV_CONFIG_ENABLE), 0);
  for (int i = 0; i < 4; i++)
    ck_assert_int_eq(pthread_create(&th[i], NULL, emitter, t), 0);
  seen_t s = {0};
  for (int i = 0; i < 50; i++) (void)pga__tel_drain(t, 10, count_delivery, &s);
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  (void)pga__tel_drain(t, SIZE_MAX, count_delivery, &s);
  ck_assert_uint_eq(s.n, 4000);
  ck_assert_uint_eq(pga__tel_dropped(t), 0);
  pga__tel_free(t);
  tt_reset();
}
END_TEST

static Suite *telemetry_suite(void) {
  Suite *s = suite_create("telemetry");
  TCase *tc = tcase_create("telemetry");

  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, catalogue_has_thirty_events_in_order);
  tcase_add_test(tc, catalogue_rejects_custom_and_malformed_names);
  tcase_add_test(tc, ids_join_segments_and_suffixes);
  tcase_add_test(tc, duplicate_ids_keep_the_first_handler);
  tcase_add_test(tc, detach_removes_exactly_that_id);
  tcase_add_test(tc, attach_refuses_bad_events_and_caps_the_table);
  tcase_add_test(tc, null_telemetry_does_nothing);
  tcase_add_test(tc, queue_is_fifo_and_bounded_per_handler);
  tcase_add_test(tc, full_queue_of_one_handler_spares_the_others);
  tcase_add_test(tc, detached_handlers_get_nothing_more);
  tcase_add_test(tc, custom_events_reach_exact_matches_only);
  tcase_add_test(tc, emitters_on_many_threads);
  suite_add_tcase(s, tc);
  return s;
}

PGA_CHECK_MAIN(telemetry_suite)
