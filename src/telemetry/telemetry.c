/* Telemetry's life on a node: start (table, process, served functions),
 * the node -> telemetry registry, stop; and the measurement clocks. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pga/errno.h"
#include "rpc/rpc.h"
#include "telemetry/telemetry_int.h"

/* Started telemetries; emitters on worker threads look theirs up, so the
 * list has its own lock. */
typedef struct entry_s {
  struct entry_s *next;
  pga_telemetry_t *t;
} entry_t;

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static entry_t *registry;

pga_telemetry_t *pga_telemetry_of(pga_node_t *node) {
  pga_telemetry_t *t = NULL;
  if (!node) return NULL;
  pthread_mutex_lock(&registry_mu);
  for (entry_t *e = registry; e && !t; e = e->next)
    if (e->t->node == node) t = e->t;
  pthread_mutex_unlock(&registry_mu);
  return t;
}

static int registry_add(pga_telemetry_t *t) {
  entry_t *e = malloc(sizeof *e);
  if (!e) return PGA_ENOMEM;
  e->t = t;
  pthread_mutex_lock(&registry_mu);
  e->next = registry;
  registry = e;
  pthread_mutex_unlock(&registry_mu);
  return 0;
}

static pga_telemetry_t *registry_take(pga_node_t *node) {
  pga_telemetry_t *t = NULL;
  pthread_mutex_lock(&registry_mu);
  for (entry_t **pp = &registry; *pp; pp = &(*pp)->next) {
    if ((*pp)->t->node != node) continue;
    entry_t *e = *pp;
    *pp = e->next;
    t = e->t;
    free(e);
    break;
  }
  pthread_mutex_unlock(&registry_mu);
  return t;
}

int pga_telemetry_start(pga_node_t *node, char *err, size_t errlen) {
  if (!node || pga_telemetry_of(node)) {
    snprintf(err, errlen, "telemetry: %s", pga_strerror(PGA_EEXIST));
    return PGA_EEXIST;
  }
  pga_telemetry_t *t = pga__tel_new(node);
  int rc = t ? 0 : PGA_ENOMEM;
  if (rc == 0) {
    t->d = pga__node_dist(node);
    t->loop = pga__node_loop(node);
    rc = pga__tel_watch_init(t);
  }
  if (rc == 0) rc = pga__tel_rpc_register(t);
  if (rc == 0) rc = registry_add(t);
  if (rc != 0) {
    /* The process, if made, goes with the node (dist frees processes). */
    snprintf(err, errlen, "telemetry: %s", pga_strerror(rc));
    pga__tel_free(t);
    return rc;
  }
  return 0;
}

void pga_telemetry_stop(pga_node_t *node) {
  pga__tel_free(registry_take(node));
}

int64_t pga_telemetry_system_time(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t pga_telemetry_monotonic_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
