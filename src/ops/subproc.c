/* The processes behind the pids that health_check, debug_report,
 * statistics and RateLimiter.status report for the library's named
 * processes (ops-plane.md §4.9; issue 15): real processes of the node, so
 * a peer can monitor, link to and send to them. Each stands for a service
 * that lives as long as pga-node: exit signals are ignored (as a process
 * trapping exits would), and messages, which none of them understands, are
 * dropped and counted (docs/compat.md O1). */
#include "config.h"

#include <inttypes.h>

#include "base/log.h"
#include "pga/errno.h"
#include "ops/diag.h"

/* 1 for 1, 10, 100...: the counts worth a log line. */
static int power_of_ten(uint64_t n) {
  while (n >= 10 && n % 10 == 0) n /= 10;
  return n == 1;
}

static void drop_message(pga_proc_t *p, pga_conn_t *c, const pga_term_t *from,
                         const pga_term_t *msg) {
  (void)c;
  (void)from;
  (void)msg;
  pga_ops_t *ops = pga__ops_of(pga_proc_data(p));
  pga_ops_diag_t *st = ops ? ops->diag : NULL;
  if (!st) return;
  for (int sub = 0; sub < PGA_SUB_COUNT; sub++) {
    if (st->pid_ids[sub] != pga_proc_id(p)) continue;
    uint64_t n = atomic_fetch_add(&st->dropped[sub], 1) + 1;
    if (power_of_ten(n))
      pga_info("%s: message dropped (not understood), %" PRIu64 " so far",
               pga__ops_subs[sub].shown, n);
    return;
  }
}

static const pga_proc_ops_t sub_ops = {.on_message = drop_message};

int pga__ops_sub_procs_start(pga_ops_t *ops, pga_ops_diag_t *st) {
  if (!ops->d) return 0; /* unit tests without a node */
  for (int sub = 0; sub < PGA_SUB_COUNT; sub++) {
    /* data is the node: the plane may be gone when a message arrives; the
     * processes go with the node. */
    pga_proc_t *p = pga_proc_new(ops->d, &sub_ops, ops->node);
    if (!p) return PGA_ENOMEM;
    st->pid_ids[sub] = pga_proc_id(p);
  }
  return 0;
}
