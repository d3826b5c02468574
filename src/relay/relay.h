/* Relay groups (ops-plane.md §7): PhoenixGenApi.Relay and RelayServer
 * served over RPC, the built-in handle_relay/2 that `:local` FunConfigs
 * with mfa {PhoenixGenApi.Relay, :handle_relay, []} run, and the monitors
 * that drop a member whose channel process dies. */
#ifndef PGA_RELAY_RELAY_H
#define PGA_RELAY_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "pga/node.h"
#include "pga/term.h"

/* Before pga_node_start. 0, or a negative PGA_E* with err filled. */
int pga_relay_start(pga_node_t *node, char *err, size_t errlen);
/* After pga_node_run returned. */
void pga_relay_stop(pga_node_t *node);
/* RelayServer.status() (§7.6) into out; {status: :error, reason:
 * :not_started} when no relay runs on node. Any thread. */
void pga_relay_status(pga_node_t *node, pga_tb_t *out);
/* 1 if the relay runs on node (health checks of RelayRegistry and
 * RelayServer). */
int pga_relay_running(pga_node_t *node);
/* The relay process's pid (RelayServer's, for health checks) into out:
 * 0, or PGA_ENOTFOUND when no relay runs. Loop thread. */
int pga_relay_pid(pga_node_t *node, pga_tb_t *out);
/* A C-hosted session process (pid id of ours) ended: the relay's internal
 * monitor on it fires (members joined with that pid leave). Loop thread. */
void pga_relay_session_ended(pga_node_t *node, uint64_t pid_id);

#endif
