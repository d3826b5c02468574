/* stop_stream/1 for the ops plane (ops-plane.md §9.3 [PROPOSAL]): a
 * stream is stopped as its relay stops on {:"$gen_cast", :stop} (§9.3):
 * the receiver gets the final {:stream_response, %Response{async: true,
 * has_more: false, success: true}} and the relay exits. A stream whose
 * call has not returned yet stops right after its first chunk, as the
 * library's relay handles the cast only then. */
#include "config.h"

#include <string.h>

#include "request/exec_int.h"

static void stop(exec_t *e) {
  pga_tb_t msg;
  pga__tb_init(&msg, 0);
  pga_tb_tuple(&msg, 2);
  pga_tb_atom(&msg, "$gen_cast");
  pga_tb_atom(&msg, "stop");
  pga_term_t m = pga_tb_data(&msg);
  if (!pga_tb_error(&msg)) pga__ex_relay_message(e, &m); /* may free e */
  pga__tb_destroy(&msg);
}

/* The live stream whose relay has this pid, or NULL. */
static exec_t *by_relay(plane_t *pl, const pga_term_t *pid) {
  uint64_t id = pga_dist_local_pid_id(pl->d, pid);
  if (!id) return NULL;
  for (exec_t *e = pl->execs; e; e = e->next)
    if (e->relay && pga_proc_id(e->relay) == id) return e;
  return NULL;
}

/* The first active stream with this request_id (exact term), or NULL.
 * O(requests in flight). */
static exec_t *by_request_id(plane_t *pl, const pga_term_t *id) {
  for (exec_t *e = pl->execs; e; e = e->next)
    if (e->relay && e->req.request_id.buf &&
        pga_term_equal(&e->req.request_id, id))
      return e;
  return NULL;
}

int pga_request_plane_stop_stream(pga_node_t *node,
                                  const pga_term_t *target) {
  plane_t *pl = pga__ex_plane_of(node);
  exec_t *e;

  if (!pl) return PGA_ENOTFOUND;
  switch (pga_term_type(target)) {
  case PGA_T_PID: /* :ok whether or not it is a live stream */
    if ((e = by_relay(pl, target)) != NULL) stop(e);
    return 0;
  case PGA_T_BINARY:
    if ((e = by_request_id(pl, target)) == NULL) return PGA_ENOTFOUND;
    stop(e);
    return 0;
  default:
    return PGA_EINVAL;
  }
}
