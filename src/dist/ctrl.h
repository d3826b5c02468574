/* Builders for the control tuples pga sends (distribution.md §8). Each
 * writes the version byte and the tuple into tb; `flags` are the
 * connection's negotiated flags, which pick SEND vs SEND_SENDER and the
 * plain vs PAYLOAD_* exit forms. With a PAYLOAD_* form the reason goes as
 * the packet's payload (pga_ctrl_reason_is_payload tells). */
#ifndef PGA_DIST_CTRL_H
#define PGA_DIST_CTRL_H

#include "dist/dist.h"

void pga_ctrl_send(pga_tb_t *tb, pga_dist_t *d, uint64_t from_id,
                   const pga_term_t *to, uint64_t flags);
void pga_ctrl_reg_send(pga_tb_t *tb, pga_dist_t *d, uint64_t from_id,
                       const char *name);
void pga_ctrl_alias_send(pga_tb_t *tb, pga_dist_t *d, uint64_t from_id,
                         const pga_term_t *alias);
/* from_name (an atom term) replaces our pid when the monitor was by name. */
void pga_ctrl_monitor_exit(pga_tb_t *tb, pga_dist_t *d, uint64_t from_id,
                           const pga_term_t *from_name, const pga_term_t *to,
                           const pga_term_t *ref, const pga_term_t *reason,
                           uint64_t flags);
void pga_ctrl_exit(pga_tb_t *tb, pga_dist_t *d, uint64_t from_id,
                   const pga_term_t *to, const pga_term_t *reason,
                   uint64_t flags);
int pga_ctrl_reason_is_payload(uint64_t flags);
/* op: DOP_MONITOR_P or DOP_DEMONITOR_P. */
void pga_ctrl_monitor(pga_tb_t *tb, pga_dist_t *d, int op, uint64_t from_id,
                      const pga_term_t *target, const pga_term_t *ref);
/* error NULL: reply with our job pid; else the error atom (no job). */
void pga_ctrl_spawn_reply(pga_tb_t *tb, pga_dist_t *d,
                          const pga_term_t *req_id, const pga_term_t *to,
                          int flags, uint64_t job_id, const char *error);
void pga_ctrl_spawn_request(pga_tb_t *tb, pga_dist_t *d,
                            const pga_term_t *req_id, uint64_t from_id,
                            const pga_term_t *group_leader, const char *m,
                            const char *f, unsigned arity, int monitor);
void pga_ctrl_unlink_id_ack(pga_tb_t *tb, pga_dist_t *d, const pga_term_t *id,
                            uint64_t from_id, const pga_term_t *to);

#endif
