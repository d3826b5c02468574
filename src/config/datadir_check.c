/* pga-node --check-data-dir DIR: what a start would restore from the data
 * dir and what it would skip as damaged, read without locking or writing
 * anything (issue 11). Exit status: 0 clean, 1 damage found, 2 the
 * directory or a file cannot be read. */
#include "config.h"

#include <errno.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/durable.h"
#include "config/journal.h"
#include "term/inspect.h"
#include "term/term.h"

#define CHECK_MAX_FILE (1024u * 1024u * 1024u)
#define CHECK_MAX_RECORD (256u * 1024u * 1024u)

static char *slurp(const char *dir, const char *name, size_t *len, int *absent) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  *absent = 0;
  FILE *f = fopen(path, "rb");
  if (!f) {
    *absent = errno == ENOENT;
    return NULL;
  }
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap || cap >= CHECK_MAX_FILE) break;
    char *grown = realloc(buf, cap * 2);
    if (!grown) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = grown;
    cap *= 2;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

static const msgpack_object *map_get(const msgpack_object *m, const char *k) {
  if (m->type != MSGPACK_OBJECT_MAP) return NULL;
  for (uint32_t i = 0; i < m->via.map.size; i++) {
    const msgpack_object_kv *kv = &m->via.map.ptr[i];
    if (kv->key.type == MSGPACK_OBJECT_STR &&
        kv->key.via.str.size == strlen(k) &&
        !memcmp(kv->key.via.str.ptr, k, kv->key.via.str.size))
      return &kv->val;
  }
  return NULL;
}

static size_t array_size(const msgpack_object *o) {
  return o && o->type == MSGPACK_OBJECT_ARRAY ? o->via.array.size : 0;
}

/* Snapshot: 0 ok (generation in *gen), 1 damaged, -1 absent. */
static int check_snapshot(const char *dir, FILE *out, uint64_t *gen) {
  size_t len = 0;
  int absent;
  char *buf = slurp(dir, "config.snapshot", &len, &absent);
  if (!buf) {
    fprintf(out, "snapshot: %s\n", absent ? "none (empty state)" : strerror(errno));
    return absent ? -1 : 1;
  }
  msgpack_unpacked u;
  size_t off = 0;
  msgpack_unpacked_init(&u);
  int ok = msgpack_unpack_next(&u, buf, len, &off) == MSGPACK_UNPACK_SUCCESS &&
           off == len;
  const msgpack_object *g = ok ? map_get(&u.data, "generation") : NULL;
  ok = ok && g && g->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
  if (ok) {
    *gen = g->via.u64;
    fprintf(out, "snapshot: generation %llu, %zu configs, %zu pushed services, "
            "%zu pull services\n", (unsigned long long)*gen,
            array_size(map_get(&u.data, "store")),
            array_size(map_get(&u.data, "pushed")),
            array_size(map_get(&u.data, "services")));
  } else {
    fprintf(out, "snapshot: DAMAGED (%zu bytes): pga-node will not start "
            "until it is moved away\n", len);
  }
  msgpack_unpacked_destroy(&u);
  free(buf);
  return ok ? 0 : 1;
}

static void print_term(FILE *out, const char *etf, size_t len) {
  pga_term_t t;
  char text[256];
  if (pga_term_view(etf, len, &t) != 0) {
    fputs("(unreadable)", out);
    return;
  }
  pga_term_inspect(&t, text, sizeof text);
  fputs(text, out);
}

static void print_label(FILE *out, const pga_jrnl_rec_t *r, const char *why) {
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
      const msgpack_object *v = &pr->via.array.ptr[1];
      fprintf(out, "journal: %s at offset %zu: service ", why, r->off);
      print_term(out, pr->via.array.ptr[0].via.bin.ptr,
                 pr->via.array.ptr[0].via.bin.size);
      fputs(", version ", out);
      if (v->type == MSGPACK_OBJECT_BIN)
        print_term(out, v->via.bin.ptr, v->via.bin.size);
      else
        fputs("-", out);
      fputs("\n", out);
      named++;
    }
  }
  msgpack_unpacked_destroy(&u);
  if (!named)
    fprintf(out, "journal: %s at offset %zu (%zu bytes): what it changed is "
            "unknown\n", why, r->off, r->size);
}

static int payload_decodes(const pga_jrnl_rec_t *r) {
  msgpack_unpacked u;
  size_t off = 0;
  msgpack_unpacked_init(&u);
  int ok = msgpack_unpack_next(&u, r->payload, r->plen, &off) ==
               MSGPACK_UNPACK_SUCCESS &&
           off == r->plen && u.data.type == MSGPACK_OBJECT_ARRAY;
  msgpack_unpacked_destroy(&u);
  return ok;
}

/* Journal v2: 0 clean, 1 damage. */
static int walk_v2(const char *buf, size_t len, const pga_jrnl_head_t *h,
                   FILE *out) {
  size_t off = PGA_JRNL_HEADER_V2, records = 0, damaged = 0;
  pga_jrnl_rec_t rec;
  pga_jrnl_gap_t gap;
  int kind;
  while ((kind = pga_jrnl_next(buf, len, h, CHECK_MAX_RECORD, &off, &rec,
                               &gap)) != 0) {
    if (kind == 1 && payload_decodes(&rec)) {
      records++;
      continue;
    }
    damaged++;
    if (kind == 1) {
      print_label(out, &rec, "record that does not decode");
      continue;
    }
    for (size_t i = 0; i < gap.nnamed; i++)
      print_label(out, &gap.named[i], "corrupt record");
    if (gap.unnamed) {
      pga_jrnl_rec_t none = {gap.off, gap.len, NULL, NULL, 0, 0};
      print_label(out, &none, "damaged bytes");
    }
  }
  fprintf(out, "journal: %zu records intact (replayed at start), %zu damaged "
          "stretch(es) skipped\n", records, damaged);
  return damaged ? 1 : 0;
}

/* Journal v1: records up to the first damage (a start stops there). */
static int walk_v1(const char *buf, size_t len, FILE *out) {
  size_t off = PGA_JRNL_HEADER_V1, records = 0;
  const unsigned char *b = (const unsigned char *)buf;
  while (off < len) {
    if (len - off < 8) break;
    uint32_t plen = (uint32_t)b[off] << 24 | (uint32_t)b[off + 1] << 16 |
                    (uint32_t)b[off + 2] << 8 | b[off + 3];
    uint32_t crc = (uint32_t)b[off + 4] << 24 | (uint32_t)b[off + 5] << 16 |
                   (uint32_t)b[off + 6] << 8 | b[off + 7];
    if (plen > CHECK_MAX_RECORD || len - off - 8 < plen ||
        pga__crc32(b + off + 8, plen) != crc)
      break;
    off += 8 + plen;
    records++;
  }
  fprintf(out, "journal (version 1): %zu records intact", records);
  if (off < len)
    fprintf(out, "; damage at offset %zu: it and the %zu bytes after it are "
            "skipped at start", off, len - off);
  fputs("\n", out);
  return off < len ? 1 : 0;
}

static int check_journal(const char *dir, FILE *out, uint64_t gen, int snap) {
  size_t len = 0;
  int absent;
  char *buf = slurp(dir, "config.journal", &len, &absent);
  if (!buf) {
    fprintf(out, "journal: %s\n", absent ? "none" : strerror(errno));
    return absent ? 0 : 2;
  }
  pga_jrnl_head_t h;
  pga_jrnl_head_parse(buf, len, &h);
  int rc = 0;
  if (h.version == 0) {
    fprintf(out, "journal: DAMAGED header (%zu bytes): ignored at start, its "
            "records are lost\n", len);
    rc = len > 0 ? 1 : 0;
  } else if (snap == 0 && h.generation != gen) {
    fprintf(out, "journal: generation %llu, snapshot %llu: stale (its "
            "records are in the snapshot), ignored\n",
            (unsigned long long)h.generation, (unsigned long long)gen);
  } else {
    rc = h.version == 2 ? walk_v2(buf, len, &h, out) : walk_v1(buf, len, out);
  }
  free(buf);
  return rc;
}

int pga_durable_check(const char *dir, FILE *out) {
  FILE *probe = NULL;
  char path[4096];
  snprintf(path, sizeof path, "%s/.", dir);
  if (!(probe = fopen(path, "r"))) {
    fprintf(out, "data dir %s: %s\n", dir, strerror(errno));
    return 2;
  }
  fclose(probe);
  fprintf(out, "data dir %s (read only; nothing is changed)\n", dir);
  uint64_t gen = 0;
  int snap = check_snapshot(dir, out, &gen);
  int jr = check_journal(dir, out, gen, snap);
  if (jr == 2) return 2;
  int damaged = snap == 1 || jr == 1;
  fprintf(out, "%s\n", damaged ? "DAMAGED: see the lines above"
                               : "clean");
  return damaged ? 1 : 0;
}
