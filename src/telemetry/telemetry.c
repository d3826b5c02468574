/* Stub (to be written): telemetry does nothing yet. */
#include "telemetry/telemetry.h"

#include <time.h>

int pga_telemetry_start(pga_node_t *node, char *err, size_t errlen) {
  (void)node;
  (void)err;
  (void)errlen;
  return 0;
}
void pga_telemetry_stop(pga_node_t *node) { (void)node; }
pga_telemetry_t *pga_telemetry_of(pga_node_t *node) {
  (void)node;
  return NULL;
}
const char *const *pga_telemetry_event_name(pga_event_t ev) {
  (void)ev;
  return NULL;
}
int pga_telemetry_wants(const pga_telemetry_t *t, pga_event_t ev) {
  (void)t;
  (void)ev;
  return 0;
}
void pga_telemetry_emit(pga_telemetry_t *t, pga_event_t ev,
                        const pga_term_t *m, const pga_term_t *md) {
  (void)t;
  (void)ev;
  (void)m;
  (void)md;
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
