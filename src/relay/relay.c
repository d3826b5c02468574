/* Stub (to be written). */
#include "relay/relay.h"

int pga_relay_start(pga_node_t *node, char *err, size_t errlen) {
  (void)node;
  (void)err;
  (void)errlen;
  return 0;
}
void pga_relay_stop(pga_node_t *node) { (void)node; }
void pga_relay_status(pga_node_t *node, pga_tb_t *out) {
  (void)node;
  pga_tb_map(out, 2);
  pga_tb_atom(out, "status");
  pga_tb_atom(out, "error");
  pga_tb_atom(out, "reason");
  pga_tb_atom(out, "not_started");
}
int pga_relay_running(pga_node_t *node) {
  (void)node;
  return 0;
}
