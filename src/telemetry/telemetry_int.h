/* Folder-private: the telemetry object shared by the files of
 * src/telemetry: the catalogue (events.c), the handler table
 * (handlers.c), the delivery queue (queue.c), the sending of one event
 * (send.c), pid monitoring (watch.c) and the served functions
 * (telemetry_rpc.c).
 *
 * Invariants:
 *   1. `mu` guards the table, the chains, the queue and every handler's
 *      counters and reference count. Nothing blocks while holding it.
 *   2. A handler is freed when it is detached and no queued delivery
 *      refers to it (refs 0), so a delivery never sees freed memory.
 *   3. Attach, detach, monitoring and sending run on the loop thread
 *      (the served functions are PGA_FN_INLINE); emitters may be any
 *      thread and only touch the queue. */
#ifndef PGA_TELEMETRY_TELEMETRY_INT_H
#define PGA_TELEMETRY_TELEMETRY_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "base/dict.h"
#include "base/loop.h"
#include "dist/dist.h"
#include "telemetry/telemetry.h"
#include "term/term.h"

#define PGA_TEL_QUEUE_MAX 10000   /* queued events per handler (§6.3) */
#define PGA_TEL_MAX_HANDLERS 10000
#define PGA_TEL_MAX_ID 1024       /* bytes of a full handler id */
#define PGA_TEL_DRAIN_BATCH 512   /* deliveries per loop turn */
#define PGA_TEL_CHAIN_CUSTOM PGA_EV_COUNT /* chain of non-library events */
#define PGA_TEL_DEFAULT_LOGGER "phoenix-gen-api-default-logger"

/* What a handler runs (§6.3). */
typedef enum {
  PGA_TH_FUN = 0,  /* a fun of arity 4, cast to its home node's rex */
  PGA_TH_PID,      /* a pid that gets {:telemetry_event, ...} */
  PGA_TH_MF,       /* {m, f}, cast to the attaching node's rex */
  PGA_TH_LOGGER    /* the default logger: pga's own log */
} pga_th_kind_t;

/* The attach arguments a handler is made of; terms are copied. */
typedef struct pga_th_spec_s {
  pga_th_kind_t kind;
  pga_term_t target;  /* fun, pid or {m, f}; unused for the logger */
  pga_term_t config;
  pga_term_t gl;      /* NULL buf: none (the cast then names `user`) */
  const char *home;   /* node a fun / {m, f} runs on, a pid's node */
} pga_th_spec_t;

typedef struct pga_th_s {
  struct pga_th_s *next;  /* in its event's chain, attach order */
  char *id;
  size_t id_len;
  int event;              /* pga_event_t, or -1 (custom event) */
  pga_th_kind_t kind;
  pga_tb_t terms;         /* event, target, config, gl, back to back */
  size_t ev_len, target_len, config_len, gl_len;
  char *home;
  erlang_ref mon;         /* pid handlers (watch.c) */
  uint64_t mon_conn;
  int monitored;
  int attached;
  unsigned refs;          /* the table's, plus one per queued delivery */
  size_t queued;
  uint64_t dropped;
} pga_th_t;

struct pga_telemetry_s {
  pthread_mutex_t mu;
  pga_node_t *node;       /* NULL in unit tests */
  pga_loop_t *loop;       /* NULL: nothing drains by itself (tests) */
  pga_dist_t *d;
  pga_proc_t *proc;       /* sends, and monitors pid handlers */
  pga_dict_t *by_id;      /* id bytes -> pga_th_t */
  pga_th_t *chains[PGA_EV_COUNT + 1];
  atomic_uint wanted[PGA_EV_COUNT];
  /* delivery queue (queue.c) */
  struct pga_tel_item_s *head, *tail;
  size_t queued;
  int posted;
  uint64_t dropped;
};

/* ---- catalogue (events.c) ---- */
/* Writes [:phoenix_gen_api | segments] of ev. */
void pga__tel_event_encode(pga_tb_t *tb, pga_event_t ev);
/* The catalogue index of an event list term, or -1. */
int pga__tel_event_index(const pga_term_t *event);
/* 1 if event is a non-empty proper list of atoms (what :telemetry
 * accepts as an event name). */
int pga__tel_event_valid(const pga_term_t *event);
/* "<id>-<segments joined by ->" (Telemetry.attach_* ids, §6.2) into a
 * malloc'ed buffer of *len bytes; NULL on ENOMEM or over PGA_TEL_MAX_ID. */
char *pga__tel_join_id(const char *id, size_t id_len,
                       const pga_term_t *event, size_t *len);
/* "<id>-<suffix>" (attach_telemetry ids); NULL as above. */
char *pga__tel_suffix_id(const char *id, size_t id_len, const char *suffix,
                         size_t *len);

/* ---- the table (handlers.c) ---- */
/* A table without a node (unit tests) or for one; NULL on ENOMEM. */
pga_telemetry_t *pga__tel_new(pga_node_t *node);
/* Frees the table, queued deliveries and handlers (no messages). */
void pga__tel_free(pga_telemetry_t *t);
/* Attaches handler `id` to event. 0 (*out: the handler, owned by the
 * table), PGA_EEXIST (the id is taken: nothing changes), PGA_EINVAL (not
 * an event name), PGA_ETOOBIG (PGA_TEL_MAX_HANDLERS) or PGA_ENOMEM. */
int pga__tel_attach(pga_telemetry_t *t, const char *id, size_t id_len,
                    const pga_term_t *event, const pga_th_spec_t *spec,
                    pga_th_t **out);
/* Detaches `id`; returns the handler with one reference for the caller
 * (pga__tel_release it), or NULL if no such handler. */
pga_th_t *pga__tel_detach(pga_telemetry_t *t, const char *id, size_t len);
/* Detaches every handler pred accepts (called under the lock: no calls
 * out). Returns how many. */
size_t pga__tel_detach_if(pga_telemetry_t *t,
                          int (*pred)(void *ud, const pga_th_t *h), void *ud);
void pga__tel_release(pga_telemetry_t *t, pga_th_t *h);
/* Handlers attached now. */
size_t pga__tel_count(pga_telemetry_t *t);
/* 1 if `id` is attached. */
int pga__tel_has(pga_telemetry_t *t, const char *id, size_t len);
/* Views of a handler's terms (valid while the handler lives). */
pga_term_t pga__th_event(const pga_th_t *h);
pga_term_t pga__th_target(const pga_th_t *h);
pga_term_t pga__th_config(const pga_th_t *h);
pga_term_t pga__th_gl(const pga_th_t *h);
/* Lock held: frees h once detached and unreferenced. */
void pga__th_unref_locked(pga_th_t *h);

/* ---- the queue (queue.c) ---- */
/* Queues an event (index ev, or -1 with the full event term) to every
 * handler attached to it. Any thread; never blocks on I/O. */
void pga__tel_dispatch(pga_telemetry_t *t, int ev, const pga_term_t *event,
                       const pga_term_t *measurements,
                       const pga_term_t *metadata);
/* One delivery, as the drain hands it out (loop thread in production). */
typedef void (*pga_tel_deliver_fn)(void *ud, const pga_th_t *h,
                                   const pga_term_t *event,
                                   const pga_term_t *measurements,
                                   const pga_term_t *metadata);
/* Delivers at most max queued events, oldest first, skipping handlers
 * detached meanwhile; returns how many are still queued. */
size_t pga__tel_drain(pga_telemetry_t *t, size_t max, pga_tel_deliver_fn fn,
                      void *ud);
/* Events dropped on full queues, in total. */
uint64_t pga__tel_dropped(pga_telemetry_t *t);

/* ---- sending (send.c) ---- */
/* Delivers one event to h: a message, an rpc cast, or a log line. */
void pga__tel_send(void *t, const pga_th_t *h, const pga_term_t *event,
                   const pga_term_t *measurements,
                   const pga_term_t *metadata);

/* ---- pid monitoring (watch.c) ---- */
/* Creates the process and the nodedown observer. 0 or PGA_ENOMEM. */
int pga__tel_watch_init(pga_telemetry_t *t);
/* Monitors a pid handler's pid (no-op for other kinds). */
void pga__tel_watch(pga_telemetry_t *t, pga_th_t *h);
/* Removes that monitor (handler being detached). */
void pga__tel_unwatch(pga_telemetry_t *t, pga_th_t *h);

/* ---- served functions (telemetry_rpc.c) ---- */
int pga__tel_rpc_register(pga_telemetry_t *t);

#endif
