/* The relay's lifecycle: one relay per node, found by node, and the
 * thread-safe readers (status, running). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "relay/relay_int.h"
#include "term/term.h"

static pthread_mutex_t relays_lock = PTHREAD_MUTEX_INITIALIZER;
static relay_t *relays; /* started before the loop runs */

int64_t pga__relay_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

relay_t *pga__relay_of(pga_node_t *node) {
  pthread_mutex_lock(&relays_lock);
  relay_t *r = relays;
  while (r && r->node != node) r = r->next;
  pthread_mutex_unlock(&relays_lock);
  return r;
}

static void relay_free(relay_t *r) {
  pga__relay_mon_fini(r);
  pga_relay_model_free(r->model);
  pthread_mutex_destroy(&r->lock);
  free(r);
}

int pga_relay_start(pga_node_t *node, char *err, size_t errlen) {
  relay_t *r = calloc(1, sizeof *r);
  int rc = PGA_ENOMEM;
  if (!r) goto fail;
  r->node = node;
  r->rpc = pga__node_rpc(node);
  r->d = pga__node_dist(node);
  r->loop = pga__node_loop(node);
  r->mods[0] = (relay_mod_t){r, 1};
  r->mods[1] = (relay_mod_t){r, 0};
  pthread_mutex_init(&r->lock, NULL);
  if (!(r->model = pga_relay_model_new())) goto fail;
  if ((rc = pga__relay_mon_init(r)) != 0 ||
      (rc = pga__relay_rpc_register(r)) != 0)
    goto fail;
  pthread_mutex_lock(&relays_lock);
  r->next = relays;
  relays = r;
  pthread_mutex_unlock(&relays_lock);
  return 0;
fail:
  snprintf(err, errlen, "relay: %s", pga_strerror(rc));
  if (r) relay_free(r);
  return rc;
}

void pga_relay_stop(pga_node_t *node) {
  pthread_mutex_lock(&relays_lock);
  relay_t **pp = &relays;
  while (*pp && (*pp)->node != node) pp = &(*pp)->next;
  relay_t *r = *pp;
  if (r) *pp = r->next;
  pthread_mutex_unlock(&relays_lock);
  if (r) relay_free(r);
}

void pga_relay_status(pga_node_t *node, pga_tb_t *out) {
  relay_t *r = pga__relay_of(node);
  if (!r) {
    pga_tb_map(out, 2);
    pga_tb_atom(out, "status");
    pga_tb_atom(out, "error");
    pga_tb_atom(out, "reason");
    pga_tb_atom(out, "not_started");
    return;
  }
  pthread_mutex_lock(&r->lock);
  pga_relay_put_status(out, r->model);
  pthread_mutex_unlock(&r->lock);
}

int pga_relay_running(pga_node_t *node) {
  relay_t *r = pga__relay_of(node);
  return r && r->proc;
}

int pga_relay_pid(pga_node_t *node, pga_tb_t *out) {
  relay_t *r = pga__relay_of(node);
  if (!r || !r->proc) return PGA_ENOTFOUND;
  pga_dist_put_pid(r->d, out, pga_proc_id(r->proc));
  return 0;
}

void pga_relay_session_ended(pga_node_t *node, uint64_t pid_id) {
  relay_t *r = pga__relay_of(node);
  if (!r) return;
  pthread_mutex_lock(&r->lock);
  pga_relay_down_local(r->model, pid_id);
  pthread_mutex_unlock(&r->lock);
}
