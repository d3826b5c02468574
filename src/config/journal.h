/* The config journal's on-disk format, version 2: self-synchronising
 * records, so one damaged record costs only itself (issue 11). Used by
 * durable.c (append, replay) and datadir_check.c (--check-data-dir).
 *
 *   header  "PGAJRNL2" | generation u64 | salt[8] | CRC-32 of the 24 bytes
 *   record  salt[8] | payload length u32 | label length u16 | label
 *           | CRC-32 of salt..label u32 | CRC-32 of the payload u32
 *           | payload
 *
 * The salt is random per journal: a record starts only where the salt and
 * a header CRC match, and a payload (a pushed config, chosen by a peer)
 * cannot forge one without reading the data dir. After damage, the reader
 * resumes at the next offset where a whole record checks out. The label
 * (a msgpack array of [service, version] term pairs) names what a record
 * changes; it has its own CRC, so a record whose payload is damaged can
 * still be named. All integers big-endian. */
#ifndef PGA_CONFIG_JOURNAL_H
#define PGA_CONFIG_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#define PGA_JRNL_MAGIC_V1 "PGAJRNL1"
#define PGA_JRNL_MAGIC_V2 "PGAJRNL2"
#define PGA_JRNL_HEADER_V1 16
#define PGA_JRNL_HEADER_V2 28
#define PGA_JRNL_SALT 8
#define PGA_JRNL_LABEL_MAX 1024
/* Bytes of a record around its label and payload. */
#define PGA_JRNL_REC_FIXED (PGA_JRNL_SALT + 4 + 2 + 4 + 4)

typedef struct pga_jrnl_head_s {
  int version;                          /* 1 or 2; 0 = not a journal */
  uint64_t generation;
  unsigned char salt[PGA_JRNL_SALT];
} pga_jrnl_head_t;

/* The header of a new journal (fresh random salt in head->salt). 0 or -1. */
int pga_jrnl_head_new(pga_jrnl_head_t *head, uint64_t gen,
                      unsigned char out[PGA_JRNL_HEADER_V2]);
/* Parses buf's header: head->version 0 when it is not one (or damaged). */
void pga_jrnl_head_parse(const char *buf, size_t len, pga_jrnl_head_t *head);

/* Writes a record's bytes before the payload into out (room for
 * PGA_JRNL_REC_FIXED + llen); returns their count. */
size_t pga_jrnl_rec_head(unsigned char *out, const pga_jrnl_head_t *head,
                         const void *label, size_t llen, const void *payload,
                         size_t plen);

typedef struct pga_jrnl_rec_s {
  size_t off, size;                     /* where, and bytes in all */
  const char *label, *payload;
  size_t llen, plen;
} pga_jrnl_rec_t;

/* A damaged stretch: [off, off + len) holds no record that checks out.
 * named[] are records in it whose header (and label) still checks out but
 * whose payload does not; unnamed says part of the stretch is not even
 * that (a header hit, or a torn tail). */
#define PGA_JRNL_NAMED_MAX 16
typedef struct pga_jrnl_gap_s {
  size_t off, len;
  pga_jrnl_rec_t named[PGA_JRNL_NAMED_MAX];
  size_t nnamed;
  int unnamed;
} pga_jrnl_gap_t;

/* Walks a version 2 journal from *off (start at PGA_JRNL_HEADER_V2): 1 and
 * *rec for the next good record, 2 and *gap for a damaged stretch, 0 at the
 * end. max_payload bounds lengths (larger is damage). */
int pga_jrnl_next(const char *buf, size_t len, const pga_jrnl_head_t *head,
                  size_t max_payload, size_t *off, pga_jrnl_rec_t *rec,
                  pga_jrnl_gap_t *gap);

#endif
