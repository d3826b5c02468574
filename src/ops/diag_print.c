/* The text of health_print, stats_print, debug_print and cluster_print
 * (ops-plane.md §5), rendered from the result terms so that what is
 * printed is exactly what the term functions return. Maps are walked in
 * Erlang term order of their keys (§0.1). Where the library would crash
 * on a subsystem that is not started (a missing key), the line is left
 * out instead. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ops/diag.h"
#include "term/term.h"

#define HEAVY_RULE 70

/* ---- term access ---- */

/* The value at a dotted path of atom keys ("checks.vm.status"). */
static int at(const pga_term_t *root, const char *path, pga_term_t *out) {
  char key[64];
  pga_term_t cur = *root;
  while (*path) {
    size_t n = strcspn(path, ".");
    if (n >= sizeof key) return -1;
    memcpy(key, path, n);
    key[n] = '\0';
    if (pga_term_map_get_atom(&cur, key, &cur) != 0) return -1;
    path += n + (path[n] == '.');
  }
  *out = cur;
  return 0;
}

/* s() of the value at path; nothing when absent. */
static void put_s(pga_ops_text_t *t, const pga_term_t *root, const char *path) {
  pga_term_t v;
  if (at(root, path, &v) == 0) pga_ops_s(t, &v);
}

static void put_i(pga_ops_text_t *t, const pga_term_t *root, const char *path) {
  pga_term_t v;
  if (at(root, path, &v) == 0) pga_ops_i(t, &v);
}

static void put_bytes(pga_ops_text_t *t, const pga_term_t *root,
                      const char *path) {
  pga_term_t v;
  if (at(root, path, &v) == 0)
    pga_ops_bytes(t, &v);
  else
    pga_ops_put(t, "?");
}

static void put_up(pga_ops_text_t *t, const pga_term_t *root,
                   const char *path) {
  pga_term_t v;
  if (at(root, path, &v) == 0)
    pga_ops_up(t, &v);
  else
    pga_ops_put(t, "?");
}

static void put_ts(pga_ops_text_t *t, const pga_term_t *root,
                   const char *path) {
  pga_term_t v;
  int64_t ms;
  if (at(root, path, &v) == 0 && pga_term_get_int64(&v, &ms) == 0)
    pga_ops_ts(t, ms);
}

static void put_icon(pga_ops_text_t *t, const pga_term_t *map) {
  pga_ops_icon(t, pga__ops_status_of(map));
}

/* Element i of a tuple at path, s()-rendered. */
static void put_elem(pga_ops_text_t *t, const pga_term_t *root,
                     const char *path, size_t i) {
  pga_term_t v, e;
  if (at(root, path, &v) == 0 && pga_term_tuple_get(&v, i, &e) == 0)
    pga_ops_s(t, &e);
}

/* i(pid), with our own pids as the BEAM shows local ones (#PID<0.N.S>):
 * self is the report's node. */
static void put_pid(pga_ops_text_t *t, const pga_term_t *v, const char *self) {
  erlang_pid p;
  if (self && pga_term_type(v) == PGA_T_PID && pga__term_get_pid(v, &p) == 0 &&
      strcmp(p.node, self) == 0)
    pga_ops_putf(t, "#PID<0.%u.%u>", p.num, p.serial);
  else
    pga_ops_i(t, v);
}

/* The atom at key of root into buf ("" when absent). */
static const char *atom_at(const pga_term_t *root, const char *key,
                           char *buf, size_t len) {
  pga_term_t v;
  buf[0] = '\0';
  if (at(root, key, &v) != 0 || pga_term_get_atom(&v, buf, len) != 0)
    buf[0] = '\0';
  return buf;
}

/* ---- map pairs in term order: atoms by name, then binaries bytewise ---- */

typedef struct pair_s {
  pga_term_t key, value;
  int rank;        /* 0 atom, 1 binary, 2 other */
  const char *txt; /* the key's bytes (atom name or binary) */
  size_t len;
  char atom[PGA_ATOM_BUF];
} pair_t;

static int cmp_pairs(const void *a, const void *b) {
  const pair_t *x = a, *y = b;
  if (x->rank != y->rank) return x->rank - y->rank;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->txt, y->txt, n);
  if (c) return c;
  return (x->len > y->len) - (x->len < y->len);
}

static pair_t *sorted_pairs(const pga_term_t *map, size_t *n) {
  size_t size;
  *n = 0;
  if (pga_term_map_size(map, &size) != 0 || size == 0) return NULL;
  pair_t *p = calloc(size, sizeof *p);
  if (!p) return NULL;
  for (size_t i = 0; i < size; i++) {
    if (pga_term_map_pair(map, i, &p[i].key, &p[i].value) != 0) break;
    p[i].rank = 2;
    p[i].txt = "";
    if (pga_term_get_atom(&p[i].key, p[i].atom, sizeof p[i].atom) == 0) {
      p[i].rank = 0;
      p[i].txt = p[i].atom;
      p[i].len = strlen(p[i].atom);
    } else if (pga_term_get_binary(&p[i].key, &p[i].txt, &p[i].len) == 0) {
      p[i].rank = 1;
    }
    (*n)++;
  }
  qsort(p, *n, sizeof *p, cmp_pairs);
  return p;
}

/* ---- health_print ---- */

static void health_check_line(pga_ops_text_t *t, const pair_t *p,
                              const char *self) {
  pga_term_t v;
  pga_ops_put(t, "    ");
  put_icon(t, &p->value);
  pga_ops_put(t, " ");
  pga_ops_s(t, &p->key);
  pga_ops_put(t, "  pid=");
  if (pga_term_map_get_atom(&p->value, "pid", &v) == 0 &&
      !pga_term_is_atom(&v, "nil") && !pga_term_is_atom(&v, "false"))
    put_pid(t, &v, self);
  else
    pga_ops_put(t, "N/A");
  int count = at(&p->value, "instance_count", &v) == 0;
  int alive = at(&p->value, "alive_instances", &v) == 0;
  pga_term_t reason;
  if (count && alive) {
    pga_ops_put(t, "  alive=");
    put_s(t, &p->value, "alive_instances");
    pga_ops_put(t, "/");
    put_s(t, &p->value, "instance_count");
  } else if (count) {
    pga_ops_put(t, "  instances=");
    put_s(t, &p->value, "instance_count");
  } else if (at(&p->value, "reason", &reason) == 0 &&
             !pga_term_is_atom(&reason, "nil") &&
             !pga_term_is_atom(&reason, "false")) {
    pga_ops_put(t, "  reason=");
    pga_ops_s(t, &reason);
  }
  pga_ops_put(t, "\n");
}

static void health_vm(pga_ops_text_t *t, const pga_term_t *r) {
  pga_term_t vm;
  if (at(r, "checks.vm", &vm) != 0) return;
  pga_ops_put(t, "\n--- VM ---\n  Status:      ");
  put_icon(t, &vm);
  pga_ops_put(t, " ");
  put_s(t, &vm, "status");
  pga_ops_put(t, "\n  Processes:   ");
  put_s(t, &vm, "process_count");
  pga_ops_put(t, " / ");
  put_s(t, &vm, "process_limit");
  pga_ops_put(t, "\n  Schedulers:  ");
  put_s(t, &vm, "schedulers_online");
  pga_ops_put(t, " / ");
  put_s(t, &vm, "schedulers");
  pga_ops_put(t, "\n  Memory:      ");
  put_bytes(t, &vm, "memory.total");
  pga_ops_put(t, " total\n    Processes: ");
  put_bytes(t, &vm, "memory.processes");
  pga_ops_put(t, "\n    System:    ");
  put_bytes(t, &vm, "memory.system");
  pga_ops_put(t, "\n  Uptime:      ");
  put_up(t, &vm, "uptime");
  pga_ops_put(t, "\n");
}

static void health_pga(pga_ops_text_t *t, const pga_term_t *r) {
  pga_term_t pga, checks;
  char self[PGA_ATOM_BUF];
  if (at(r, "checks.phoenix_gen_api", &pga) != 0) return;
  pga_ops_put(t, "\n--- PhoenixGenApi ---\n  Status:      ");
  put_icon(t, &pga);
  pga_ops_put(t, " ");
  put_s(t, &pga, "status");
  pga_ops_put(t, "\n  Mode:        ");
  put_s(t, &pga, "mode");
  pga_ops_put(t, "\n");
  if (at(&pga, "checks", &checks) != 0) return;
  pga_ops_put(t, "  Processes:\n");
  size_t n;
  pair_t *p = sorted_pairs(&checks, &n);
  atom_at(r, "node", self, sizeof self);
  for (size_t i = 0; i < n; i++) health_check_line(t, &p[i], self);
  free(p);
}

void pga__ops_render_health(pga_ops_text_t *t, const pga_term_t *r) {
  pga_ops_put(t, "\n=== PhoenixGenApi Health Check ===\nNode: ");
  put_s(t, r, "node");
  pga_ops_put(t, "\nStatus: ");
  put_icon(t, r);
  pga_ops_put(t, " ");
  put_s(t, r, "status");
  pga_ops_put(t, "\nChecked at: ");
  put_ts(t, r, "checked_at_ms");
  pga_ops_put(t, "\n");
  health_vm(t, r);
  pga_ops_put(t, "\n--- Node ---\n  Self:        ");
  put_s(t, r, "checks.node.node");
  pga_ops_put(t, "\n  Alive:       ");
  put_s(t, r, "checks.node.alive?");
  pga_ops_put(t, "\n  Connected:   ");
  put_i(t, r, "checks.node.connected_nodes");
  pga_ops_put(t, "\n");
  health_pga(t, r);
  pga_ops_put(t, "\n");
}

/* ---- stats_print ---- */

static void stats_memory(pga_ops_text_t *t, const pga_term_t *vm) {
  pga_ops_put(t, "  Memory:        ");
  put_bytes(t, vm, "memory.total");
  pga_ops_put(t, " total\n    Processes:   ");
  put_bytes(t, vm, "memory.processes");
  pga_ops_put(t, " (");
  put_bytes(t, vm, "memory.processes_used");
  pga_ops_put(t, " used)\n    System:      ");
  put_bytes(t, vm, "memory.system");
  pga_ops_put(t, "\n    Atoms:       ");
  put_bytes(t, vm, "memory.atom");
  pga_ops_put(t, " (");
  put_bytes(t, vm, "memory.atom_used");
  pga_ops_put(t, " used)\n    Binary:      ");
  put_bytes(t, vm, "memory.binary");
  pga_ops_put(t, "\n    Code:        ");
  put_bytes(t, vm, "memory.code");
  pga_ops_put(t, "\n    ETS:         ");
  put_bytes(t, vm, "memory.ets");
  pga_ops_put(t, "\n");
}

static void stats_wall_time(pga_ops_text_t *t, const pga_term_t *vm) {
  pga_term_t swt, e, x;
  pga_term_iter_t it;
  if (at(vm, "scheduler_wall_time", &swt) != 0 ||
      pga_term_iter_init(&it, &swt) != 0)
    return;
  pga_ops_put(t, "  Scheduler wall time:\n");
  while (pga_term_iter_next(&it, &e)) {
    int64_t v[3] = {0, 0, 0};
    for (size_t k = 0; k < 3; k++)
      if (pga_term_tuple_get(&e, k, &x) == 0) (void)pga_term_get_int64(&x, &v[k]);
    double pct = v[2] > 0 ? (double)v[1] / (double)v[2] * 100.0 : 0.0;
    pga_ops_putf(t, "    Scheduler %lld: %.1f%% active (%lldms / %lldms)\n",
                 (long long)v[0], pct, (long long)v[1], (long long)v[2]);
  }
}

static void stats_vm(pga_ops_text_t *t, const pga_term_t *s) {
  pga_term_t vm;
  if (at(s, "vm", &vm) != 0) return;
  pga_ops_put(t, "\n--- VM ---\n  Processes:     ");
  put_s(t, &vm, "process_count");
  pga_ops_put(t, " / ");
  put_s(t, &vm, "process_limit");
  pga_ops_put(t, "\n  Ports:         ");
  put_s(t, &vm, "port_count");
  pga_ops_put(t, "\n  ETS tables:    ");
  put_s(t, &vm, "ets_count");
  pga_ops_put(t, "\n  Schedulers:    ");
  put_s(t, &vm, "schedulers_online");
  pga_ops_put(t, " / ");
  put_s(t, &vm, "schedulers");
  pga_ops_put(t, "\n");
  stats_memory(t, &vm);
  pga_ops_put(t, "  Reductions:    ");
  put_elem(t, &vm, "reductions", 0);
  pga_ops_put(t, " total, ");
  put_elem(t, &vm, "reductions", 1);
  pga_ops_put(t, " since last call\n  GC:            ");
  put_elem(t, &vm, "garbage_collection", 0);
  pga_ops_put(t, " collections, ");
  put_elem(t, &vm, "garbage_collection", 1);
  pga_ops_put(t, " words reclaimed\n  Context sw:    ");
  put_elem(t, &vm, "context_switches", 0);
  pga_ops_put(t, "\n  Uptime:        ");
  put_up(t, &vm, "uptime");
  pga_ops_put(t, "\n");
  stats_wall_time(t, &vm);
}

static void stats_config_db(pga_ops_text_t *t, const pga_term_t *pga) {
  pga_term_t db, v;
  if (at(pga, "config_db", &db) != 0) return;
  pga_ops_put(t, "\n  ConfigDb:\n    Status:    ");
  put_s(t, &db, "status");
  pga_ops_put(t, "\n");
  if (at(&db, "count", &v) != 0) return;
  pga_ops_put(t, "    Count:     ");
  pga_ops_s(t, &v);
  pga_ops_put(t, "\n    Services:  ");
  put_i(t, &db, "services");
  pga_ops_put(t, "\n");
}

static void stats_limiter(pga_ops_text_t *t, const pga_term_t *pga) {
  pga_term_t rl, v;
  size_t n;
  if (at(pga, "rate_limiter", &rl) != 0) return;
  pga_ops_put(t, "\n  Rate Limiter:\n    Status:    ");
  put_s(t, &rl, "status");
  pga_ops_put(t, "\n");
  if (at(&rl, "data.instances", &v) == 0 && pga_term_list_length(&v, &n) == 0)
    pga_ops_putf(t, "    Instances: %zu\n", n);
}

static void stats_pool(pga_ops_text_t *t, const pair_t *p) {
  pga_term_t d;
  pga_ops_put(t, "    ");
  pga_ops_s(t, &p->key);
  pga_ops_put(t, ":\n      Status:   ");
  put_s(t, &p->value, "status");
  pga_ops_put(t, "\n");
  if (at(&p->value, "data", &d) != 0) return;
  pga_ops_put(t, "      Idle: ");
  put_s(t, &d, "idle_workers");
  pga_ops_put(t, "  Busy: ");
  put_s(t, &d, "busy_workers");
  pga_ops_put(t, "  Queued: ");
  put_s(t, &d, "queued_tasks");
  pga_ops_put(t, "\n      Circuit: ");
  put_s(t, &d, "circuit_open");
  pga_ops_put(t, "  Executed: ");
  put_s(t, &d, "total_tasks_executed");
  pga_ops_put(t, "  Failed: ");
  put_s(t, &d, "total_tasks_failed");
  pga_ops_put(t, "\n");
}

static void stats_pools(pga_ops_text_t *t, const pga_term_t *pga) {
  pga_term_t pools;
  size_t n;
  if (at(pga, "worker_pool", &pools) != 0) return;
  pga_ops_put(t, "\n  Worker Pools:\n");
  pair_t *p = sorted_pairs(&pools, &n);
  for (size_t i = 0; i < n; i++) stats_pool(t, &p[i]);
  free(p);
}

static void stats_relay(pga_ops_text_t *t, const pga_term_t *pga) {
  pga_term_t relay, d;
  if (at(pga, "relay", &relay) != 0) return;
  pga_ops_put(t, "\n  Relay:\n    Status:  ");
  put_s(t, &relay, "status");
  pga_ops_put(t, "\n");
  if (at(&relay, "data", &d) != 0) return;
  pga_ops_put(t, "    Groups:  ");
  put_s(t, &d, "group_count");
  pga_ops_put(t, "\n    Monitored memberships: ");
  put_s(t, &d, "monitored_memberships");
  pga_ops_put(t, "\n");
}

void pga__ops_render_stats(pga_ops_text_t *t, const pga_term_t *s) {
  pga_term_t pga;
  pga_ops_put(t, "\n=== PhoenixGenApi Statistics ===\nNode: ");
  put_s(t, s, "node");
  pga_ops_put(t, "\nCollected at: ");
  put_ts(t, s, "collected_at_ms");
  pga_ops_put(t, "\n");
  stats_vm(t, s);
  if (at(s, "phoenix_gen_api", &pga) == 0) {
    pga_ops_put(t, "\n--- PhoenixGenApi ---\n  Client mode:   ");
    put_s(t, &pga, "client_mode");
    pga_ops_put(t, "\n  Telemetry events: ");
    put_s(t, &pga, "telemetry_events");
    pga_ops_put(t, "\n");
    stats_config_db(t, &pga);
    stats_limiter(t, &pga);
    stats_pools(t, &pga);
    stats_relay(t, &pga);
  }
  pga_ops_put(t, "\n");
}

/* ---- debug_print ---- */

#define NAME_COLUMN 30

static void put_name(pga_ops_text_t *t, const pga_term_t *p) {
  pga_term_t name;
  if (at(p, "registered_name", &name) == 0 && !pga_term_is_atom(&name, "nil") &&
      !pga_term_is_atom(&name, "false"))
    pga_ops_i(t, &name);
  else
    pga_ops_put(t, ":unnamed");
}

/* The Name column: 30 wide as the library's, or wider so that the longest
 * name (PhoenixGenApi.WorkerPool.WorkerPoolSupervisor) keeps a space
 * before the Memory column. */
static size_t name_column(const pga_term_t *list) {
  size_t w = NAME_COLUMN;
  pga_term_iter_t it;
  pga_term_t el;
  if (pga_term_iter_init(&it, list) != 0) return w;
  while (pga_term_iter_next(&it, &el)) {
    pga_ops_text_t one;
    pga_ops_text_init(&one);
    put_name(&one, &el);
    size_t n = 0; /* code points */
    for (const char *c = pga_ops_text_str(&one); *c; c++)
      n += ((unsigned char)*c & 0xC0) != 0x80;
    if (n + 1 > w) w = n + 1;
    pga_ops_text_free(&one);
  }
  return w;
}

static void debug_process(pga_ops_text_t *t, const pga_term_t *p,
                          const char *self, size_t name_w) {
  pga_term_t pid;
  size_t mark = pga_ops_text_len(t);
  if (at(p, "pid", &pid) == 0) put_pid(t, &pid, self);
  pga_ops_pad(t, mark, 15);
  mark = pga_ops_text_len(t);
  put_name(t, p);
  pga_ops_pad(t, mark, name_w);
  mark = pga_ops_text_len(t);
  put_bytes(t, p, "memory");
  pga_ops_pad(t, mark, 12);
  put_i(t, p, "status");
  pga_ops_put(t, "\n");
}

static void debug_table(pga_ops_text_t *t, const pair_t *p) {
  pga_term_t exists, v;
  pga_ops_put(t, "  ");
  pga_ops_s(t, &p->key);
  if (pga_term_map_get_atom(&p->value, "exists", &exists) != 0 ||
      pga_term_is_atom(&exists, "false") || pga_term_is_atom(&exists, "nil")) {
    pga_ops_put(t, ": (not found)\n");
    return;
  }
  pga_ops_put(t, ": size=");
  if (pga_term_map_get_atom(&p->value, "size", &v) == 0)
    pga_ops_s(t, &v);
  else
    pga_ops_put(t, "?");
  pga_ops_put(t, " memory=");
  if (pga_term_map_get_atom(&p->value, "memory", &v) == 0)
    pga_ops_s(t, &v);
  else
    pga_ops_put(t, "?");
  pga_ops_put(t, " words\n");
}

void pga__ops_render_debug(pga_ops_text_t *t, const pga_term_t *r,
                           const pga_term_t *process_limit) {
  pga_term_t list, el, tables;
  pga_term_iter_t it;
  char self[PGA_ATOM_BUF];
  atom_at(r, "node", self, sizeof self);
  pga_ops_put(t, "\n=== Debug Report ===\nNode: ");
  put_s(t, r, "node");
  pga_ops_put(t, "\nCollected at: ");
  put_ts(t, r, "collected_at_ms");
  pga_ops_put(t, "\n\n--- Top ");
  if (process_limit)
    pga_ops_s(t, process_limit);
  else
    pga_ops_put(t, "20");
  pga_ops_put(t, " Processes by Memory ---\n");
  size_t name_w = at(r, "processes", &list) == 0 ? name_column(&list)
                                                  : NAME_COLUMN;
  pga_ops_putf(t, "%-15s%-*s%-12sStatus\n", "PID", (int)name_w, "Name",
               "Memory");
  for (size_t i = 0; i < HEAVY_RULE + name_w - NAME_COLUMN; i++)
    pga_ops_put(t, "-");
  pga_ops_put(t, "\n");
  if (at(r, "processes", &list) == 0 && pga_term_iter_init(&it, &list) == 0)
    while (pga_term_iter_next(&it, &el)) debug_process(t, &el, self, name_w);
  pga_ops_put(t, "\n--- ETS Tables ---\n");
  if (at(r, "ets_tables", &tables) == 0) {
    size_t n;
    pair_t *p = sorted_pairs(&tables, &n);
    for (size_t i = 0; i < n; i++) debug_table(t, &p[i]);
    free(p);
  }
  pga_ops_put(t, "\n--- Trace ---\n  Control word: ");
  put_s(t, r, "trace.trace_control_word");
  pga_ops_put(t, "\n\n");
}

/* ---- cluster_print ---- */

static void cluster_names(pga_ops_text_t *t, const pair_t *p) {
  size_t n;
  pga_term_iter_t it;
  pga_term_t el;
  pga_ops_put(t, "  ");
  pga_ops_s(t, &p->key);
  /* {:badrpc, _} has no length: the library crashes, we show it */
  if (pga_term_list_length(&p->value, &n) != 0) {
    pga_ops_put(t, ": ");
    pga_ops_i(t, &p->value);
    pga_ops_put(t, "\n");
    return;
  }
  pga_ops_putf(t, ": %zu processes\n", n);
  if (pga_term_iter_init(&it, &p->value) != 0) return;
  while (pga_term_iter_next(&it, &el)) {
    pga_ops_put(t, "    - ");
    pga_ops_s(t, &el);
    pga_ops_put(t, "\n");
  }
}

static void cluster_map(pga_ops_text_t *t, const pga_term_t *v,
                        const char *key, int names) {
  pga_term_t m;
  size_t n;
  if (at(v, key, &m) != 0) return;
  pair_t *p = sorted_pairs(&m, &n);
  for (size_t i = 0; i < n; i++) {
    if (names) {
      cluster_names(t, &p[i]);
      continue;
    }
    pga_ops_put(t, "  ");
    pga_ops_s(t, &p[i].key);
    pga_ops_put(t, ": ");
    pga_ops_i(t, &p[i].value);
    pga_ops_put(t, "\n");
  }
  free(p);
}

void pga__ops_render_cluster(pga_ops_text_t *t, const pga_term_t *v) {
  pga_term_t list, el;
  pga_term_iter_t it;
  pga_ops_put(t, "\n=== Cluster View ===\nSelf: ");
  put_s(t, v, "self");
  pga_ops_put(t, "\nConnected nodes (");
  put_s(t, v, "connected_count");
  pga_ops_put(t, "): ");
  put_i(t, v, "connected");
  pga_ops_put(t, "\n\n--- Registered Processes ---\n");
  cluster_map(t, v, "registered_processes", 1);
  pga_ops_put(t, "\n--- PhoenixGenApi Services by Node ---\n");
  cluster_map(t, v, "phoenix_gen_api_services", 0);
  pga_ops_put(t, "\n--- Node Selection Strategies ---\n  ");
  if (at(v, "node_selection.strategies", &list) == 0 &&
      pga_term_iter_init(&it, &list) == 0)
    for (int first = 1; pga_term_iter_next(&it, &el); first = 0) {
      if (!first) pga_ops_put(t, ", ");
      pga_ops_i(t, &el);
    }
  pga_ops_put(t, "\n  ");
  put_s(t, v, "node_selection.description");
  pga_ops_put(t, "\n\n");
}
