/* Folder-private: the config plane's durable state in --data-dir
 * (durable.c). What is durable: the ConfigDb store (every entry with its
 * disabled flag), the receiver's pushed configs and the puller's services
 * registered at run time. What is not: the failed-config log, the
 * puller's api_list, versions and failure count, and the services of the
 * configuration file (re-applied at every start). docs/compat.md C27-C31.
 *
 * A change is described by a transaction (pga_txn_t) of operations,
 * written as one journal record while the plane lock is held (so records
 * are in the order of the changes), and made durable with
 * pga_durable_sync after the lock is released, before the caller
 * answers. */
#ifndef PGA_CONFIG_DURABLE_H
#define PGA_CONFIG_DURABLE_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config_int.h"
#include "config/funconfig.h"

typedef struct pga_config_plane_s pga_config_plane_t;
typedef struct pga_durable_s pga_durable_t;

/* Journal operations (append only; the numbers are on disk). */
typedef enum {
  PGA_OP_STORE_PUT = 1,     /* FunConfig */
  PGA_OP_STORE_DEL = 2,     /* service, request_type, version */
  PGA_OP_STORE_DISABLE = 3, /* service, request_type, version, bool */
  PGA_OP_STORE_CLEAR = 4,
  PGA_OP_PUSHED_PUT = 5,    /* service, PushConfig */
  PGA_OP_PUSHED_DEL = 6,    /* service */
  PGA_OP_SERVICE_PUT = 7,   /* ServiceConfig */
  PGA_OP_SERVICE_DEL = 8    /* service */
} pga_op_t;

typedef struct pga_txn_s {
  int on;         /* the plane has a data dir */
  int err;        /* out of memory while packing */
  size_t nops;
  msgpack_sbuffer sb;
  msgpack_packer pk;
  /* the record's label: [service, version] pairs it changes (journal.h) */
  msgpack_sbuffer lsb;
  msgpack_packer lpk;
  size_t nlabels;
  size_t last_at;         /* where the previous pair starts in lsb */
  int label_locked;       /* a push named the record: nothing more */
} pga_txn_t;

/* Each can't fail: an error is kept in t and reported by commit. */
void pga_txn_init(pga_txn_t *t, const pga_config_plane_t *p);
void pga_txn_store_put(pga_txn_t *t, const pga_funconfig_t *fc);
void pga_txn_store_del(pga_txn_t *t, const pga_term_t *svc,
                       const pga_term_t *rt, const pga_term_t *ver);
void pga_txn_store_disable(pga_txn_t *t, const pga_term_t *svc,
                           const pga_term_t *rt, const pga_term_t *ver,
                           int disabled);
void pga_txn_store_clear(pga_txn_t *t);
void pga_txn_pushed_put(pga_txn_t *t, const pga_term_t *svc,
                        const pga__rec_t *pc);
void pga_txn_pushed_del(pga_txn_t *t, const pga_term_t *svc);
void pga_txn_service_put(pga_txn_t *t, const pga__rec_t *sc);
void pga_txn_service_del(pga_txn_t *t, const pga_term_t *svc);

/* Frees t without writing it (a change that did not happen). */
void pga_txn_discard(pga_txn_t *t);
/* Plane lock held: writes t as one record (nothing for an empty t) and
 * frees it. *seq is what pga_durable_sync waits for (0: nothing). may_compact
 * lets a journal over its size limit be folded into a new snapshot here
 * (worker threads only: it costs fsyncs under the lock). 0, or PGA_ESYS /
 * PGA_ENOMEM: the change stays in memory but is not durable. */
int pga_txn_commit(pga_config_plane_t *p, pga_txn_t *t, int may_compact,
                   uint64_t *seq);
/* Plane lock NOT held: returns once record seq (and all before it) is on
 * disk. 0 or PGA_ESYS. */
int pga_durable_sync(pga_config_plane_t *p, uint64_t seq);

/* Opens dir: locks it, loads the snapshot and replays the journal into
 * p's store, pushed map and puller, then writes a fresh snapshot and
 * journal. 0, or a negative code with err filled (dir in use, unreadable,
 * snapshot corrupt). A torn or corrupt journal tail is reported in the log
 * and skipped, never an error. */
int pga_durable_open(pga_config_plane_t *p, const char *dir, char *err,
                     size_t errlen);
void pga_durable_close(pga_durable_t *d);

/* What the last open found (tests, diagnostics). */
typedef struct pga_durable_load_s {
  uint64_t generation;
  size_t snapshot_entries; /* store + pushed + services */
  size_t records;          /* journal records replayed */
  int journal_state;       /* 0 none, 1 replayed, 2 stale, 3 bad header */
  int64_t bad_offset;      /* first torn/corrupt record, -1 = none */
  uint64_t skipped_bytes;  /* damaged bytes skipped in all */
  size_t damaged;          /* damaged stretches (each skipped alone) */
} pga_durable_load_t;
void pga__durable_last_load(const pga_config_plane_t *p,
                            pga_durable_load_t *out);
/* Writes the records the last open skipped as damaged, a list of
 * %{service: s, version: v | nil, offset: n} (a record whose label was
 * damaged too: service and version :unknown). 0 entries: []. */
void pga__durable_put_skipped(const pga_config_plane_t *p, pga_tb_t *out);
size_t pga__durable_skipped_count(const pga_config_plane_t *p);
/* --check-data-dir DIR: reads the snapshot and the journal, reports on out
 * what they hold and what is damaged, changes nothing. 0 clean, 1 damage
 * found, 2 unreadable (datadir_check.c). */
int pga_durable_check(const char *dir, FILE *out);
/* Test hooks: fold the journal once it passes bytes (0 = default 8 MiB);
 * make the next n syncs fail. */
void pga__durable_set_compact_bytes(pga_config_plane_t *p, size_t bytes);
void pga__durable_fail_syncs(pga_config_plane_t *p, int n);
/* CRC-32 (IEEE 802.3, as zlib's crc32). */
uint32_t pga__crc32(const void *data, size_t len);

#endif
