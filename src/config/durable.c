/* The config plane's durable state in --data-dir: a msgpack snapshot plus
 * an append-only journal of change records, so every acknowledged change
 * survives kill -9 (the library keeps all of it in memory only).
 *
 * Files (in the data dir):
 *   config.lock      flock'ed while a pga-node uses the directory
 *   config.snapshot  msgpack map {"format", "version", "generation",
 *                    "store": [FunConfig], "pushed": [[service, PushConfig]],
 *                    "services": [ServiceConfig]}; every term as its
 *                    external term format bytes (no version byte) in a bin
 *   config.journal   version 2 (journal.h): "PGAJRNL2", generation, a
 *                    random salt, then self-synchronising records that
 *                    carry a label (the [service, version] pairs they
 *                    change) and a payload = msgpack array of operations
 *                    [op, args...]; version 1 journals ("PGAJRNL1",
 *                    length + CRC + payload records) are still read
 *
 * Invariants:
 *   1. The journal in use has the snapshot's generation; a journal of
 *      another generation is stale (a crash between the two renames of a
 *      compaction) and is ignored, its content being in the snapshot.
 *   2. A record is the whole of one change (a push with its store writes,
 *      registration and state), written under the plane lock in the order
 *      of the changes; replay applies records in file order. A record that
 *      is short, fails a CRC or does not decode is skipped alone and
 *      reported (offset, bytes, and the service and version its label
 *      names); replay resumes at the next record that checks out (a
 *      version 1 journal stops there, as it always did).
 *   3. A change is acknowledged only after pga_durable_sync returned 0 for
 *      its record (fsync of the journal, outside the plane lock; the
 *      snapshot and the new journal of a compaction are fsync'ed, renamed
 *      into place, and the directory fsync'ed).
 *   4. A change whose record could not be written (no memory, a failed
 *      write, which is also cut back off with ftruncate) leaves the
 *      journal "broken": the next commit folds the whole state into a new
 *      snapshot instead of appending, and fails until that works. So the
 *      disk never holds a journal that lacks a change later records
 *      build on.
 *   5. At open, after loading, the state is folded into a new snapshot and
 *      an empty journal, so a damaged tail never stays on disk. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "config/durable.h"
#include "config/journal.h"
#include "config/plane_int.h"
#include "pga/errno.h"
#include "term/inspect.h"
#include "term/term.h"

#define SNAP_NAME "config.snapshot"
#define SNAP_TMP "config.snapshot.tmp"
#define JRNL_NAME "config.journal"
#define JRNL_TMP "config.journal.tmp"
#define LOCK_NAME "config.lock"
#define JRNL_MAGIC PGA_JRNL_MAGIC_V1
#define JRNL_HEADER PGA_JRNL_HEADER_V1
#define REC_HEADER 8
#define SNAP_FORMAT "pga-config-snapshot"
#define SNAP_VERSION 1
/* Largest record or snapshot accepted (a push is at most a 128 MiB
 * packet; more is damage, not data). */
#define MAX_RECORD (256u * 1024u * 1024u)
#define MAX_SNAPSHOT (1024u * 1024u * 1024u)
#define DEFAULT_COMPACT_BYTES (8u * 1024u * 1024u)

struct pga_durable_s {
  char *dir;
  int dirfd, lockfd, fd;
  uint64_t generation;
  pthread_mutex_t mu;      /* fd, written, synced, bytes (sync runs unlocked) */
  uint64_t written, synced;
  uint64_t bytes;          /* journal size */
  size_t compact_bytes;
  int broken;              /* invariant 4 */
  int fail_syncs;          /* test hook */
  pga_durable_load_t load;
  pga_jrnl_head_t head;    /* the journal in use (salt) */
  struct skipped_s *skipped; /* damaged records of the last open */
  size_t nskipped;
};

/* A damaged record the last open skipped: its label's pair (ETF bytes,
 * NULL when unknown) and offset. */
typedef struct skipped_s {
  char *svc, *ver;
  size_t svc_len, ver_len;
  uint64_t off;
} skipped_t;

/* ---- CRC-32 ---- */

/* CRC-32 (IEEE, reflected) by slicing eight bytes per step: the same
 * values as the bytewise definition, several times faster on the
 * megabyte records a large push writes. */
static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++)
    for (int t = 1; t < 8; t++)
      crc_table[t][i] = crc_table[0][crc_table[t - 1][i] & 0xFF] ^
                        (crc_table[t - 1][i] >> 8);
}

uint32_t pga__crc32(const void *data, size_t len) {
  const unsigned char *p = data;
  uint32_t c = 0xFFFFFFFFu;
  pthread_once(&crc_once, crc_init);
  for (; len >= 8; p += 8, len -= 8) {
    uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
                  (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
    c = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^
        crc_table[5][(lo >> 16) & 0xFF] ^ crc_table[4][lo >> 24] ^
        crc_table[3][hi & 0xFF] ^ crc_table[2][(hi >> 8) & 0xFF] ^
        crc_table[1][(hi >> 16) & 0xFF] ^ crc_table[0][hi >> 24];
  }
  for (; len > 0; p++, len--) c = crc_table[0][(c ^ *p) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

static uint32_t get_u32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

/* ---- transactions ---- */

void pga_txn_init(pga_txn_t *t, const pga_config_plane_t *p) {
  memset(t, 0, sizeof *t);
  t->on = p->durable != NULL;
  msgpack_sbuffer_init(&t->sb);
  msgpack_packer_init(&t->pk, &t->sb, msgpack_sbuffer_write);
  msgpack_sbuffer_init(&t->lsb);
  msgpack_packer_init(&t->lpk, &t->lsb, msgpack_sbuffer_write);
}

/* Names what the record changes: [service, version] (version may be NULL),
 * each pair once in a row; the label stays under PGA_JRNL_LABEL_MAX. */
static void label(pga_txn_t *t, const pga_term_t *svc, const pga_term_t *ver) {
  if (!t->on || !svc || t->label_locked) return;
  size_t at = t->lsb.size;
  if (at + svc->len + (ver ? ver->len : 0) + 16 > PGA_JRNL_LABEL_MAX - 8)
    return;
  msgpack_pack_array(&t->lpk, 2);
  msgpack_pack_bin(&t->lpk, svc->len);
  msgpack_pack_bin_body(&t->lpk, svc->buf, svc->len);
  if (ver) {
    msgpack_pack_bin(&t->lpk, ver->len);
    msgpack_pack_bin_body(&t->lpk, ver->buf, ver->len);
  } else {
    msgpack_pack_nil(&t->lpk);
  }
  size_t n = t->lsb.size - at;
  if (t->nlabels && n == at - t->last_at &&
      !memcmp(t->lsb.data + at, t->lsb.data + t->last_at, n)) {
    t->lsb.size = at; /* the same pair as the one before */
    return;
  }
  t->last_at = at;
  t->nlabels++;
}

static void pack_bin(pga_txn_t *t, const void *p, size_t n) {
  t->err |= msgpack_pack_bin(&t->pk, n) != 0;
  t->err |= msgpack_pack_bin_body(&t->pk, p, n) != 0;
}

static void pack_term(pga_txn_t *t, const pga_term_t *v) {
  pack_bin(t, v->buf, v->len);
}

/* Starts an operation of n elements (the op code included). */
static int op(pga_txn_t *t, pga_op_t code, size_t n) {
  if (!t->on) return 0;
  t->nops++;
  t->err |= msgpack_pack_array(&t->pk, n) != 0;
  t->err |= msgpack_pack_uint8(&t->pk, (uint8_t)code) != 0;
  return 1;
}

static void pack_encoded(pga_txn_t *t, void (*enc)(pga_tb_t *, const void *),
                         const void *v) {
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  enc(&tb, v);
  pga_term_t term = pga_tb_data(&tb);
  if (pga_tb_error(&tb))
    t->err = 1;
  else
    pack_term(t, &term);
  pga__tb_destroy(&tb);
}

static void enc_fc(pga_tb_t *tb, const void *fc) {
  pga_funconfig_encode(tb, fc);
}

static void enc_rec(pga_tb_t *tb, const void *r) { pga__rec_encode(tb, r, 1); }

void pga_txn_store_put(pga_txn_t *t, const pga_funconfig_t *fc) {
  if (!op(t, PGA_OP_STORE_PUT, 2)) return;
  pack_encoded(t, enc_fc, fc);
  pga_term_t svc = pga_funconfig_get(fc, PGA_FC_SERVICE);
  pga_term_t ver = pga_funconfig_get(fc, PGA_FC_VERSION);
  label(t, &svc, &ver);
}

void pga_txn_store_del(pga_txn_t *t, const pga_term_t *svc,
                       const pga_term_t *rt, const pga_term_t *ver) {
  if (!op(t, PGA_OP_STORE_DEL, 4)) return;
  pack_term(t, svc);
  pack_term(t, rt);
  pack_term(t, ver);
  label(t, svc, ver);
}

void pga_txn_store_disable(pga_txn_t *t, const pga_term_t *svc,
                           const pga_term_t *rt, const pga_term_t *ver,
                           int disabled) {
  if (!op(t, PGA_OP_STORE_DISABLE, 5)) return;
  pack_term(t, svc);
  pack_term(t, rt);
  pack_term(t, ver);
  t->err |= (disabled ? msgpack_pack_true(&t->pk)
                      : msgpack_pack_false(&t->pk)) != 0;
  label(t, svc, ver);
}

void pga_txn_store_clear(pga_txn_t *t) { (void)op(t, PGA_OP_STORE_CLEAR, 1); }

void pga_txn_pushed_put(pga_txn_t *t, const pga_term_t *svc,
                        const pga__rec_t *pc) {
  if (!op(t, PGA_OP_PUSHED_PUT, 3)) return;
  pack_term(t, svc);
  pack_encoded(t, enc_rec, pc);
  /* A push is named by its service and config_version alone, not by
   * each of its FunConfigs. */
  pga_term_t ver = pga__rec_get(pc, PGA_PC_CONFIG_VERSION);
  t->lsb.size = 0;
  t->nlabels = 0;
  t->label_locked = 0;
  label(t, svc, &ver);
  t->label_locked = 1;
}

void pga_txn_pushed_del(pga_txn_t *t, const pga_term_t *svc) {
  if (!op(t, PGA_OP_PUSHED_DEL, 2)) return;
  pack_term(t, svc);
  label(t, svc, NULL);
}

void pga_txn_service_put(pga_txn_t *t, const pga__rec_t *sc) {
  if (!op(t, PGA_OP_SERVICE_PUT, 2)) return;
  pack_encoded(t, enc_rec, sc);
  pga_term_t svc = pga__rec_get(sc, PGA_SC_SERVICE);
  label(t, &svc, NULL);
}

void pga_txn_service_del(pga_txn_t *t, const pga_term_t *svc) {
  if (!op(t, PGA_OP_SERVICE_DEL, 2)) return;
  pack_term(t, svc);
  label(t, svc, NULL);
}

static void txn_free(pga_txn_t *t) {
  msgpack_sbuffer_destroy(&t->sb);
  msgpack_sbuffer_init(&t->sb);
  msgpack_sbuffer_destroy(&t->lsb);
  msgpack_sbuffer_init(&t->lsb);
  t->nops = t->nlabels = 0;
}

void pga_txn_discard(pga_txn_t *t) { txn_free(t); }

/* ---- files ---- */

static int write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Reads the whole file: 0, 1 if absent, -1 on error (errno set). A file
 * larger than max is EFBIG, or with *cut non-NULL its first max bytes
 * (*cut then says how many were left). */
static int read_file(int dirfd, const char *name, size_t max, char **out,
                     size_t *len, uint64_t *cut) {
  *out = NULL;
  *len = 0;
  int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 1 : -1;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return -1;
  }
  size_t n = (size_t)st.st_size, got = 0;
  if ((uint64_t)st.st_size > max) {
    if (!cut) {
      close(fd);
      errno = EFBIG;
      return -1;
    }
    *cut = (uint64_t)st.st_size - max;
    n = max;
  }
  char *buf = malloc(n ? n : 1);
  if (!buf) {
    close(fd);
    errno = ENOMEM;
    return -1;
  }
  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break; /* shrunk meanwhile: what we have is the file */
    got += (size_t)r;
  }
  close(fd);
  *out = buf;
  *len = got;
  return 0;
}

/* Writes name through name.tmp: write, fsync, rename, fsync the dir. */
static int install(pga_durable_t *d, const char *tmp, const char *name,
                   const void *a, size_t alen, const void *b, size_t blen,
                   int *fd_out) {
  int fd = openat(d->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                  0600);
  if (fd < 0) return -1;
  if (write_all(fd, a, alen) != 0 || (blen && write_all(fd, b, blen) != 0) ||
      fsync(fd) != 0) {
    close(fd);
    unlinkat(d->dirfd, tmp, 0);
    return -1;
  }
  if (renameat(d->dirfd, tmp, d->dirfd, name) != 0) {
    close(fd);
    unlinkat(d->dirfd, tmp, 0);
    return -1;
  }
  if (fsync(d->dirfd) != 0) {
    close(fd);
    return -1;
  }
  if (fd_out)
    *fd_out = fd;
  else
    close(fd);
  return 0;
}

/* ---- snapshot ---- */

typedef struct snap_s {
  msgpack_sbuffer sb;
  msgpack_packer pk;
  int err;
} snap_t;

static void snap_str(snap_t *s, const char *str) {
  size_t n = strlen(str);
  s->err |= msgpack_pack_str(&s->pk, n) != 0;
  s->err |= msgpack_pack_str_body(&s->pk, str, n) != 0;
}

static void snap_bin(snap_t *s, pga_tb_t *tb) {
  pga_term_t t = pga_tb_data(tb);
  if (pga_tb_error(tb)) {
    s->err = 1;
    return;
  }
  s->err |= msgpack_pack_bin(&s->pk, t.len) != 0;
  s->err |= msgpack_pack_bin_body(&s->pk, t.buf, t.len) != 0;
}

static void snap_fc(void *ud, const pga_funconfig_t *fc) {
  snap_t *s = ud;
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga_funconfig_encode(&tb, fc);
  snap_bin(s, &tb);
  pga__tb_destroy(&tb);
}

static void snap_sc(void *ud, const pga__rec_t *sc) {
  snap_t *s = ud;
  pga_tb_t tb;
  pga__tb_init(&tb, 0);
  pga__rec_encode(&tb, sc, 1);
  snap_bin(s, &tb);
  pga__tb_destroy(&tb);
}

/* The whole durable state as a snapshot of generation gen. Lock held. */
static int snapshot_build(pga_config_plane_t *p, uint64_t gen, snap_t *s) {
  msgpack_sbuffer_init(&s->sb);
  msgpack_packer_init(&s->pk, &s->sb, msgpack_sbuffer_write);
  s->err = 0;
  s->err |= msgpack_pack_map(&s->pk, 6) != 0;
  snap_str(s, "format");
  snap_str(s, SNAP_FORMAT);
  snap_str(s, "version");
  s->err |= msgpack_pack_uint32(&s->pk, SNAP_VERSION) != 0;
  snap_str(s, "generation");
  s->err |= msgpack_pack_uint64(&s->pk, gen) != 0;
  snap_str(s, "store");
  s->err |= msgpack_pack_array(&s->pk, pga_store_count(p->store)) != 0;
  pga_store_foreach(p->store, snap_fc, s);
  snap_str(s, "pushed");
  s->err |= msgpack_pack_array(&s->pk, pga_dict_size(p->pushed)) != 0;
  pga_dict_iter_t it;
  void *k, *v;
  pga_dict_iter_init(p->pushed, &it);
  while (pga_dict_next(&it, &k, &v)) {
    pga_tb_t tb;
    pga__tb_init(&tb, 0);
    pga_term_t svc = pga__cterm_view(k);
    pga_tb_term(&tb, &svc);
    s->err |= msgpack_pack_array(&s->pk, 2) != 0;
    snap_bin(s, &tb);
    pga_tb_reset(&tb);
    pga__rec_encode(&tb, v, 1);
    snap_bin(s, &tb);
    pga__tb_destroy(&tb);
  }
  snap_str(s, "services");
  s->err |= msgpack_pack_array(&s->pk, pga_puller_durable_count(p->puller)) !=
            0;
  pga_puller_foreach_durable(p->puller, snap_sc, s);
  if (s->err) {
    msgpack_sbuffer_destroy(&s->sb);
    return PGA_ENOMEM;
  }
  return 0;
}

/* Folds the state into snapshot gen+1 and an empty journal gen+1
 * (invariants 1, 3, 5). Plane lock held. */
static int compact(pga_config_plane_t *p) {
  pga_durable_t *d = p->durable;
  uint64_t gen = d->generation + 1;
  snap_t s;
  int rc = snapshot_build(p, gen, &s);
  if (rc != 0) return rc;
  unsigned char head[PGA_JRNL_HEADER_V2];
  pga_jrnl_head_t jh;
  if (pga_jrnl_head_new(&jh, gen, head) != 0) {
    msgpack_sbuffer_destroy(&s.sb);
    return PGA_ESYS;
  }
  /* The new journal first (unused until renamed), then the snapshot, then
   * the journal: a crash in between leaves a stale journal (inv. 1). */
  int jfd = openat(d->dirfd, JRNL_TMP,
                   O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (jfd < 0 || write_all(jfd, head, sizeof head) != 0 || fsync(jfd) != 0) {
    if (jfd >= 0) close(jfd);
    msgpack_sbuffer_destroy(&s.sb);
    return PGA_ESYS;
  }
  rc = install(d, SNAP_TMP, SNAP_NAME, s.sb.data, s.sb.size, NULL, 0, NULL);
  msgpack_sbuffer_destroy(&s.sb);
  if (rc != 0) {
    close(jfd);
    unlinkat(d->dirfd, JRNL_TMP, 0);
    return PGA_ESYS;
  }
  /* The snapshot of gen+1 is in place: the old journal is stale now, so
   * appending to it would lose records (invariant 4). */
  if (renameat(d->dirfd, JRNL_TMP, d->dirfd, JRNL_NAME) != 0 ||
      fsync(d->dirfd) != 0) {
    close(jfd);
    d->broken = 1;
    return PGA_ESYS;
  }
  pthread_mutex_lock(&d->mu);
  if (d->fd >= 0) close(d->fd);
  d->fd = jfd;
  d->generation = gen;
  d->head = jh;
  d->bytes = sizeof head;
  d->synced = d->written; /* everything so far is in the snapshot */
  d->broken = 0;
  pthread_mutex_unlock(&d->mu);
  return 0;
}

/* ---- commit and sync ---- */

int pga_txn_commit(pga_config_plane_t *p, pga_txn_t *t, int may_compact,
                   uint64_t *seq) {
  pga_durable_t *d = p->durable;
  *seq = 0;
  if (!d || !t->on || t->nops == 0) {
    txn_free(t);
    return 0;
  }
  int rc = 0;
  /* Off worker threads (the loop) only a much longer journal is folded. */
  uint64_t limit = (uint64_t)d->compact_bytes * (may_compact ? 1 : 4);
  if (d->broken || d->bytes > limit) {
    /* The snapshot holds this change too (it is applied already). */
    rc = compact(p);
    if (rc != 0)
      pga_error("config: %s: cannot write a snapshot: %s", d->dir,
                strerror(errno));
    txn_free(t);
    pthread_mutex_lock(&d->mu);
    *seq = d->written;
    pthread_mutex_unlock(&d->mu);
    return rc;
  }
  if (t->err) {
    d->broken = 1; /* the journal now lacks a change (invariant 4) */
    txn_free(t);
    return PGA_ENOMEM;
  }
  /* payload = msgpack array header + the packed operations */
  msgpack_sbuffer all;
  msgpack_packer pk;
  msgpack_sbuffer_init(&all);
  msgpack_packer_init(&pk, &all, msgpack_sbuffer_write);
  if (msgpack_pack_array(&pk, t->nops) != 0 ||
      msgpack_sbuffer_write(&all, t->sb.data, t->sb.size) != 0 ||
      all.size > MAX_RECORD) {
    rc = all.size > MAX_RECORD ? PGA_ETOOBIG : PGA_ENOMEM;
    d->broken = 1;
    msgpack_sbuffer_destroy(&all);
    txn_free(t);
    return rc;
  }
  /* label = msgpack array of the [service, version] pairs */
  unsigned char head[PGA_JRNL_REC_FIXED + PGA_JRNL_LABEL_MAX];
  char lab[PGA_JRNL_LABEL_MAX];
  size_t lh = 3; /* msgpack array 16 header */
  lab[0] = (char)0xdc;
  lab[1] = (char)(t->nlabels >> 8);
  lab[2] = (char)t->nlabels;
  size_t llen = lh + t->lsb.size <= sizeof lab ? lh + t->lsb.size : 0;
  if (llen && t->lsb.size) memcpy(lab + lh, t->lsb.data, t->lsb.size);
  size_t hlen = pga_jrnl_rec_head(head, &d->head, lab, llen, all.data,
                                  all.size);
  pthread_mutex_lock(&d->mu);
  uint64_t before = d->bytes;
  if (write_all(d->fd, head, hlen) != 0 ||
      write_all(d->fd, all.data, all.size) != 0) {
    int e = errno;
    /* Cut the partial record off (the records of later changes must
     * replay), and fold the state at the next change: the journal lacks
     * this one. */
    if (ftruncate(d->fd, (off_t)before) != 0) d->bytes = UINT64_MAX;
    d->broken = 1;
    pga_error("config: %s/%s: append failed: %s (the next change writes a "
              "snapshot)", d->dir, JRNL_NAME, strerror(e));
    rc = PGA_ESYS;
  } else {
    d->bytes += hlen + all.size;
    *seq = ++d->written;
  }
  pthread_mutex_unlock(&d->mu);
  msgpack_sbuffer_destroy(&all);
  txn_free(t);
  return rc;
}

int pga_durable_sync(pga_config_plane_t *p, uint64_t seq) {
  pga_durable_t *d = p->durable;
  if (!d || seq == 0) return 0;
  pthread_mutex_lock(&d->mu);
  if (d->synced >= seq) {
    pthread_mutex_unlock(&d->mu);
    return 0;
  }
  if (d->fail_syncs > 0) {
    d->fail_syncs--;
    pthread_mutex_unlock(&d->mu);
    return PGA_ESYS;
  }
  /* fsync outside the mutex (and the plane lock): a dup keeps the file
   * open even if a compaction replaces the journal meanwhile (then the
   * snapshot holds the record anyway). */
  int fd = dup(d->fd);
  uint64_t target = d->written;
  pthread_mutex_unlock(&d->mu);
  int rc = fd >= 0 && fsync(fd) == 0 ? 0 : PGA_ESYS;
  if (rc != 0)
    pga_error("config: %s/%s: fsync failed: %s", d->dir, JRNL_NAME,
              strerror(errno));
  if (fd >= 0) close(fd);
  if (rc == 0) {
    pthread_mutex_lock(&d->mu);
    if (target > d->synced) d->synced = target;
    pthread_mutex_unlock(&d->mu);
  }
  return rc;
}

/* ---- loading ---- */

static int bin_term(const msgpack_object *o, pga_term_t *t) {
  if (o->type != MSGPACK_OBJECT_BIN) return 0;
  if (pga_term_view(o->via.bin.ptr, o->via.bin.size, t) != 0) return 0;
  return t->len == o->via.bin.size; /* exactly one term */
}

static int apply_put_fc(pga_config_plane_t *p, const msgpack_object *o) {
  pga_term_t t;
  pga_funconfig_t *fc;
  if (!bin_term(o, &t) || pga_funconfig_decode(&t, &fc) != 0) return -1;
  return pga_store_put(p->store, fc) == 0 ? 0 : -1;
}

static int apply_pushed(pga_config_plane_t *p, const msgpack_object *ks,
                        const msgpack_object *vs) {
  pga_term_t svc, t;
  pga__rec_t *pc;
  if (!bin_term(ks, &svc) || !bin_term(vs, &t) ||
      !pga__rec_is_struct(&pga__push_schema, &t) ||
      pga_pushconfig_decode(&t, &pc) != 0)
    return -1;
  if (pga__term_dict_put(p->pushed, &svc, pc) != 0) {
    pga__rec_free(pc);
    return -1;
  }
  return 0;
}

static int apply_service(pga_config_plane_t *p, const msgpack_object *o) {
  pga_term_t t;
  pga__rec_t *sc;
  if (!bin_term(o, &t) || !pga__rec_is_struct(&pga__service_schema, &t) ||
      pga_serviceconfig_decode(&t, &sc) != 0)
    return -1;
  return pga_puller_put(p->puller, sc) == 0 ? 0 : -1;
}

/* One journal operation; -1 if it does not decode. */
static int apply_op(pga_config_plane_t *p, const msgpack_object *o) {
  if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 1) return -1;
  const msgpack_object *a = o->via.array.ptr;
  size_t n = o->via.array.size;
  if (a[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER) return -1;
  pga_term_t s, r, v;
  switch (a[0].via.u64) {
  case PGA_OP_STORE_PUT:
    return n == 2 ? apply_put_fc(p, &a[1]) : -1;
  case PGA_OP_STORE_DEL:
    if (n != 4 || !bin_term(&a[1], &s) || !bin_term(&a[2], &r) ||
        !bin_term(&a[3], &v))
      return -1;
    pga_store_delete(p->store, &s, &r, &v);
    return 0;
  case PGA_OP_STORE_DISABLE:
    if (n != 5 || !bin_term(&a[1], &s) || !bin_term(&a[2], &r) ||
        !bin_term(&a[3], &v) || a[4].type != MSGPACK_OBJECT_BOOLEAN)
      return -1;
    (void)pga_store_set_disabled(p->store, &s, &r, &v, a[4].via.boolean);
    return 0;
  case PGA_OP_STORE_CLEAR:
    if (n != 1) return -1;
    pga_store_clear(p->store);
    return 0;
  case PGA_OP_PUSHED_PUT:
    return n == 3 ? apply_pushed(p, &a[1], &a[2]) : -1;
  case PGA_OP_PUSHED_DEL:
    if (n != 2 || !bin_term(&a[1], &s)) return -1;
    (void)pga__term_dict_delete(p->pushed, &s);
    return 0;
  case PGA_OP_SERVICE_PUT:
    return n == 2 ? apply_service(p, &a[1]) : -1;
  case PGA_OP_SERVICE_DEL:
    if (n != 2 || !bin_term(&a[1], &s)) return -1;
    pga_puller_remove(p->puller, &s);
    return 0;
  default:
    return -1;
  }
}

/* The map value under a string key, or NULL. */
static const msgpack_object *snap_get(const msgpack_object *m,
                                      const char *key) {
  size_t kl = strlen(key);
  for (uint32_t i = 0; i < m->via.map.size; i++) {
    const msgpack_object_kv *kv = &m->via.map.ptr[i];
    if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == kl &&
        !memcmp(kv->key.via.str.ptr, key, kl))
      return &kv->val;
  }
  return NULL;
}

static int load_snapshot(pga_config_plane_t *p, const char *buf, size_t len,
                         char *why, size_t whylen) {
  pga_durable_t *d = p->durable;
  msgpack_unpacked u;
  size_t off = 0;
  int rc = -1;
  msgpack_unpacked_init(&u);
  if (msgpack_unpack_next(&u, buf, len, &off) != MSGPACK_UNPACK_SUCCESS ||
      off != len || u.data.type != MSGPACK_OBJECT_MAP) {
    snprintf(why, whylen, "not a msgpack map");
    goto out;
  }
  const msgpack_object *fmt = snap_get(&u.data, "format");
  const msgpack_object *ver = snap_get(&u.data, "version");
  const msgpack_object *gen = snap_get(&u.data, "generation");
  const msgpack_object *store = snap_get(&u.data, "store");
  const msgpack_object *pushed = snap_get(&u.data, "pushed");
  const msgpack_object *svcs = snap_get(&u.data, "services");
  if (!fmt || fmt->type != MSGPACK_OBJECT_STR ||
      fmt->via.str.size != strlen(SNAP_FORMAT) ||
      memcmp(fmt->via.str.ptr, SNAP_FORMAT, strlen(SNAP_FORMAT))) {
    snprintf(why, whylen, "not a pga config snapshot");
    goto out;
  }
  if (!ver || ver->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
      ver->via.u64 != SNAP_VERSION) {
    snprintf(why, whylen, "unknown snapshot version");
    goto out;
  }
  if (!gen || gen->type != MSGPACK_OBJECT_POSITIVE_INTEGER || !store ||
      store->type != MSGPACK_OBJECT_ARRAY || !pushed ||
      pushed->type != MSGPACK_OBJECT_ARRAY || !svcs ||
      svcs->type != MSGPACK_OBJECT_ARRAY) {
    snprintf(why, whylen, "missing or mistyped fields");
    goto out;
  }
  for (uint32_t i = 0; i < store->via.array.size; i++)
    if (apply_put_fc(p, &store->via.array.ptr[i]) != 0) {
      snprintf(why, whylen, "store entry %u does not decode", i);
      goto out;
    }
  for (uint32_t i = 0; i < pushed->via.array.size; i++) {
    const msgpack_object *e = &pushed->via.array.ptr[i];
    if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 2 ||
        apply_pushed(p, &e->via.array.ptr[0], &e->via.array.ptr[1]) != 0) {
      snprintf(why, whylen, "pushed entry %u does not decode", i);
      goto out;
    }
  }
  for (uint32_t i = 0; i < svcs->via.array.size; i++)
    if (apply_service(p, &svcs->via.array.ptr[i]) != 0) {
      snprintf(why, whylen, "service entry %u does not decode", i);
      goto out;
    }
  d->generation = gen->via.u64;
  d->load.snapshot_entries = store->via.array.size +
                             pushed->via.array.size + svcs->via.array.size;
  rc = 0;
out:
  msgpack_unpacked_destroy(&u);
  return rc;
}

/* One record's payload: a msgpack array of operations. */
static int replay_record(pga_config_plane_t *p, const char *buf, size_t len) {
  msgpack_unpacked u;
  size_t off = 0;
  int rc = -1;
  msgpack_unpacked_init(&u);
  if (msgpack_unpack_next(&u, buf, len, &off) == MSGPACK_UNPACK_SUCCESS &&
      off == len && u.data.type == MSGPACK_OBJECT_ARRAY) {
    rc = 0;
    for (uint32_t i = 0; i < u.data.via.array.size && rc == 0; i++)
      rc = apply_op(p, &u.data.via.array.ptr[i]);
  }
  msgpack_unpacked_destroy(&u);
  return rc;
}

static void replay_v2(pga_config_plane_t *p, const char *buf, size_t len,
                      const pga_jrnl_head_t *head);

static void replay_journal(pga_config_plane_t *p, const char *buf,
                           size_t len) {
  pga_durable_t *d = p->durable;
  pga_durable_load_t *ld = &d->load;
  pga_jrnl_head_t head;
  pga_jrnl_head_parse(buf, len, &head);
  if (head.version == 0) {
    ld->journal_state = 3;
    pga_warn("config: %s/%s: no valid journal header (%zu bytes): ignored",
             d->dir, JRNL_NAME, len);
    return;
  }
  uint64_t gen = head.generation;
  if (gen == d->generation && head.version == 2) {
    ld->journal_state = 1;
    replay_v2(p, buf, len, &head);
    return;
  }
  if (gen != d->generation) {
    ld->journal_state = 2;
    pga_info("config: %s/%s: generation %llu, snapshot %llu: stale, "
             "ignored", d->dir, JRNL_NAME, (unsigned long long)gen,
             (unsigned long long)d->generation);
    return;
  }
  ld->journal_state = 1;
  size_t off = JRNL_HEADER;
  while (off < len) {
    const unsigned char *h = (const unsigned char *)buf + off;
    const char *what = NULL;
    uint32_t plen = 0;
    if (len - off < REC_HEADER) {
      what = "torn record header";
    } else {
      plen = get_u32(h);
      if (plen > MAX_RECORD)
        what = "record length out of bounds";
      else if (len - off - REC_HEADER < plen)
        what = "torn record";
      else if (pga__crc32(h + REC_HEADER, plen) != get_u32(h + 4))
        what = "corrupt record (CRC mismatch)";
      else if (replay_record(p, (const char *)h + REC_HEADER, plen) != 0)
        what = "record that does not decode";
    }
    if (what) {
      ld->bad_offset = (int64_t)off;
      ld->skipped_bytes = len - off;
      pga_warn("config: %s/%s: %s at offset %zu: skipped with the %zu "
               "bytes from there to the end (%zu records replayed)",
               d->dir, JRNL_NAME, what, off, len - off, ld->records);
      return;
    }
    off += REC_HEADER + plen;
    ld->records++;
  }
}

/* ---- damaged records (journal version 2) ---- */

static void skipped_add(pga_durable_t *d, const char *svc, size_t svc_len,
                        const char *ver, size_t ver_len, uint64_t off) {
  skipped_t *grown = realloc(d->skipped, (d->nskipped + 1) * sizeof *grown);
  if (!grown) return;
  d->skipped = grown;
  skipped_t *k = &d->skipped[d->nskipped];
  memset(k, 0, sizeof *k);
  k->off = off;
  if (svc && (k->svc = malloc(svc_len ? svc_len : 1))) {
    memcpy(k->svc, svc, svc_len);
    k->svc_len = svc_len;
  }
  if (ver && (k->ver = malloc(ver_len ? ver_len : 1))) {
    memcpy(k->ver, ver, ver_len);
    k->ver_len = ver_len;
  }
  d->nskipped++;
}

static const char *show(const char *etf, size_t len, char *out, size_t n) {
  pga_term_t t = {etf, len};
  if (!etf) return "unknown";
  if (pga_term_view(etf, len, &t) != 0) return "(unreadable)";
  pga_term_inspect(&t, out, n);
  return out;
}

/* Records what a damaged record's label names (or "unknown"), and logs
 * each pair. */
static void report_damaged(pga_durable_t *d, const pga_jrnl_rec_t *r,
                           const char *why) {
  msgpack_unpacked u;
  size_t off = 0, named = 0;
  msgpack_unpacked_init(&u);
  if (r->llen && msgpack_unpack_next(&u, r->label, r->llen, &off) ==
                     MSGPACK_UNPACK_SUCCESS &&
      u.data.type == MSGPACK_OBJECT_ARRAY) {
    for (uint32_t i = 0; i < u.data.via.array.size; i++) {
      const msgpack_object *pr = &u.data.via.array.ptr[i];
      if (pr->type != MSGPACK_OBJECT_ARRAY || pr->via.array.size != 2 ||
          pr->via.array.ptr[0].type != MSGPACK_OBJECT_BIN)
        continue;
      const msgpack_object *sv = &pr->via.array.ptr[0], *vv = &pr->via.array.ptr[1];
      int has_ver = vv->type == MSGPACK_OBJECT_BIN;
      char a[128], b[128];
      skipped_add(d, sv->via.bin.ptr, sv->via.bin.size,
                  has_ver ? vv->via.bin.ptr : NULL,
                  has_ver ? vv->via.bin.size : 0, r->off);
      pga_warn("config: %s/%s: %s at offset %zu skipped: service %s, "
               "version %s", d->dir, JRNL_NAME, why, r->off,
               show(sv->via.bin.ptr, sv->via.bin.size, a, sizeof a),
               has_ver ? show(vv->via.bin.ptr, vv->via.bin.size, b, sizeof b)
                       : "-");
      named++;
    }
  }
  msgpack_unpacked_destroy(&u);
  if (!named) {
    skipped_add(d, NULL, 0, NULL, 0, r->off);
    pga_warn("config: %s/%s: %s at offset %zu skipped (%zu bytes; what it "
             "changed is unknown)", d->dir, JRNL_NAME, why, r->off, r->size);
  }
}

static void note_damage(pga_durable_load_t *ld, size_t off, size_t len) {
  if (ld->bad_offset < 0) ld->bad_offset = (int64_t)off;
  ld->skipped_bytes += len;
  ld->damaged++;
}

static void replay_v2(pga_config_plane_t *p, const char *buf, size_t len,
                      const pga_jrnl_head_t *head) {
  pga_durable_t *d = p->durable;
  pga_durable_load_t *ld = &d->load;
  size_t off = PGA_JRNL_HEADER_V2;
  pga_jrnl_rec_t rec;
  pga_jrnl_gap_t gap;
  int kind;
  while ((kind = pga_jrnl_next(buf, len, head, MAX_RECORD, &off, &rec,
                               &gap)) != 0) {
    if (kind == 1 && replay_record(p, rec.payload, rec.plen) == 0) {
      ld->records++;
      continue;
    }
    if (kind == 1) {
      note_damage(ld, rec.off, rec.size);
      report_damaged(d, &rec, "record that does not decode");
      continue;
    }
    note_damage(ld, gap.off, gap.len);
    for (size_t i = 0; i < gap.nnamed; i++)
      report_damaged(d, &gap.named[i], gap.named[i].off + gap.named[i].size >
                                           len ? "torn record"
                                               : "corrupt record");
    if (gap.unnamed) {
      pga_jrnl_rec_t none = {gap.off, gap.len, NULL, NULL, 0, 0};
      report_damaged(d, &none, gap.off + gap.len == len && !gap.nnamed
                                   ? "damaged or torn tail"
                                   : "damaged record header");
    }
  }
  if (ld->damaged)
    pga_warn("config: %s/%s: %zu damaged stretch(es), %llu bytes skipped; "
             "%zu records replayed (the ones after the damage too)", d->dir,
             JRNL_NAME, ld->damaged, (unsigned long long)ld->skipped_bytes,
             ld->records);
}

size_t pga__durable_skipped_count(const pga_config_plane_t *p) {
  return p->durable ? p->durable->nskipped : 0;
}

static void put_etf_or(pga_tb_t *out, const char *etf, size_t len,
                       const char *atom) {
  pga_term_t t;
  if (etf && pga_term_view(etf, len, &t) == 0)
    pga_tb_term(out, &t);
  else
    pga_tb_atom(out, atom);
}

void pga__durable_put_skipped(const pga_config_plane_t *p, pga_tb_t *out) {
  size_t n = pga__durable_skipped_count(p);
  pga_tb_list(out, n); /* n == 0: that is [] already */
  if (n == 0) return;
  for (size_t i = 0; i < n; i++) {
    const skipped_t *k = &p->durable->skipped[i];
    pga_tb_map(out, 3); /* keys in term order, as the BEAM keeps them */
    pga_tb_atom(out, "offset");
    pga_tb_int(out, (long long)k->off);
    pga_tb_atom(out, "service");
    put_etf_or(out, k->svc, k->svc_len, "unknown");
    pga_tb_atom(out, "version");
    put_etf_or(out, k->ver, k->ver_len, k->svc ? "nil" : "unknown");
  }
  pga_tb_nil(out);
}

static int open_dir(pga_durable_t *d, char *err, size_t errlen) {
  d->dirfd = open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d->dirfd < 0) {
    snprintf(err, errlen, "data dir %s: %s", d->dir, strerror(errno));
    return PGA_ESYS;
  }
  d->lockfd = openat(d->dirfd, LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (d->lockfd < 0) {
    snprintf(err, errlen, "data dir %s: %s: %s", d->dir, LOCK_NAME,
             strerror(errno));
    return PGA_ESYS;
  }
  if (flock(d->lockfd, LOCK_EX | LOCK_NB) != 0) {
    snprintf(err, errlen, "data dir %s is in use by another pga-node (%s)",
             d->dir, strerror(errno));
    return PGA_EBUSY;
  }
  return 0;
}

int pga_durable_open(pga_config_plane_t *p, const char *dir, char *err,
                     size_t errlen) {
  pga_durable_t *d = calloc(1, sizeof *d);
  if (!d || !(d->dir = strdup(dir))) {
    free(d);
    return PGA_ENOMEM;
  }
  d->dirfd = d->lockfd = d->fd = -1;
  d->compact_bytes = DEFAULT_COMPACT_BYTES;
  d->load.bad_offset = -1;
  pthread_mutex_init(&d->mu, NULL);
  p->durable = d;
  int rc = open_dir(d, err, errlen);
  char *buf = NULL;
  size_t len = 0;
  if (rc == 0) {
    int r = read_file(d->dirfd, SNAP_NAME, MAX_SNAPSHOT, &buf, &len, NULL);
    char why[128];
    if (r < 0) {
      snprintf(err, errlen, "data dir %s: %s: %s", dir, SNAP_NAME,
               strerror(errno));
      rc = PGA_ESYS;
    } else if (r == 0 && load_snapshot(p, buf, len, why, sizeof why) != 0) {
      /* Written whole and renamed into place: damage here is not a torn
       * write but a broken disk or a foreign file; starting empty would
       * silently drop every acknowledged push. */
      snprintf(err, errlen, "data dir %s: %s is damaged (%s): move it away "
               "to start with an empty state", dir, SNAP_NAME, why);
      rc = PGA_EBADTERM;
    }
    free(buf);
  }
  if (rc == 0) {
    uint64_t cut = 0;
    int r = read_file(d->dirfd, JRNL_NAME, MAX_SNAPSHOT, &buf, &len, &cut);
    if (cut)
      pga_warn("config: %s/%s: larger than %u bytes: the last %llu bytes "
               "are skipped", dir, JRNL_NAME, MAX_SNAPSHOT,
               (unsigned long long)cut);
    if (r < 0) {
      snprintf(err, errlen, "data dir %s: %s: %s", dir, JRNL_NAME,
               strerror(errno));
      rc = PGA_ESYS;
    } else if (r == 0) {
      replay_journal(p, buf, len);
    }
    free(buf);
  }
  if (rc == 0) {
    d->load.generation = d->generation;
    pga_info("config: %s: %zu configs, %zu pushed services, %zu pull "
             "services restored (snapshot generation %llu, %zu journal "
             "records)", dir, pga_store_count(p->store),
             pga_dict_size(p->pushed), pga_puller_durable_count(p->puller),
             (unsigned long long)d->generation, d->load.records);
    if ((rc = compact(p)) != 0) {
      snprintf(err, errlen, "data dir %s: cannot write %s: %s", dir,
               SNAP_NAME, strerror(errno));
    }
  }
  if (rc != 0) {
    pga_durable_close(d);
    p->durable = NULL;
  }
  return rc;
}

void pga_durable_close(pga_durable_t *d) {
  if (!d) return;
  if (d->fd >= 0) close(d->fd);
  if (d->lockfd >= 0) close(d->lockfd); /* releases the flock */
  if (d->dirfd >= 0) close(d->dirfd);
  pthread_mutex_destroy(&d->mu);
  for (size_t i = 0; i < d->nskipped; i++) {
    free(d->skipped[i].svc);
    free(d->skipped[i].ver);
  }
  free(d->skipped);
  free(d->dir);
  free(d);
}

void pga__durable_last_load(const pga_config_plane_t *p,
                            pga_durable_load_t *out) {
  static const pga_durable_load_t none = {0, 0, 0, 0, -1, 0, 0};
  *out = p->durable ? p->durable->load : none;
}

void pga__durable_set_compact_bytes(pga_config_plane_t *p, size_t bytes) {
  if (p->durable)
    p->durable->compact_bytes = bytes ? bytes : DEFAULT_COMPACT_BYTES;
}

void pga__durable_fail_syncs(pga_config_plane_t *p, int n) {
  if (!p->durable) return;
  pthread_mutex_lock(&p->durable->mu);
  p->durable->fail_syncs = n;
  pthread_mutex_unlock(&p->durable->mu);
}
