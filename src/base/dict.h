/* A generic hash table (open hashing with chaining), typed by a table of
 * hash, compare and destructor functions, as in redis dict.h. Keys hashed
 * from network input use a per-process random seed. */
#ifndef PGA_BASE_DICT_H
#define PGA_BASE_DICT_H

#include <stddef.h>
#include <stdint.h>

typedef struct pga_dict_type_s {
  uint64_t (*hash)(const void *key);
  int (*equal)(const void *a, const void *b); /* 1 if equal */
  void (*key_free)(void *key);                /* NULL = not owned */
  void (*val_free)(void *val);                /* NULL = not owned */
} pga_dict_type_t;

typedef struct pga_dict_s pga_dict_t;

typedef struct pga_dict_iter_s {
  pga_dict_t *dict;
  size_t bucket;
  void *entry;
  void *next;
} pga_dict_iter_t;

/* NULL on ENOMEM. */
pga_dict_t *pga_dict_new(const pga_dict_type_t *type);
/* Frees every entry through the type's destructors. */
void pga_dict_free(pga_dict_t *d);
/* 0, PGA_EEXIST (nothing changed, key and val not taken) or PGA_ENOMEM. */
int pga_dict_add(pga_dict_t *d, void *key, void *val);
/* Value or NULL (a stored NULL value looks absent). O(1) average. */
void *pga_dict_get(const pga_dict_t *d, const void *key);
/* 0, or PGA_ENOTFOUND. Runs the destructors. */
int pga_dict_delete(pga_dict_t *d, const void *key);
/* Removes without running destructors and returns the value (NULL if
 * absent); if key_out is not NULL it receives the stored key (NULL if
 * absent). */
void *pga_dict_take(pga_dict_t *d, const void *key, void **key_out);
size_t pga_dict_size(const pga_dict_t *d);

/* Iteration; the current entry may be deleted during the walk, others may
 * not be added or deleted. Order is unspecified. The table never shrinks,
 * so deleting during a walk cannot move the entries not yet visited. */
void pga_dict_iter_init(pga_dict_t *d, pga_dict_iter_t *it);
/* 1 with key/val set, or 0 at the end. */
int pga_dict_next(pga_dict_iter_t *it, void **key, void **val);

/* Seeded hashing (SipHash-2-4 under a random per-process key). */
uint64_t pga_hash_bytes(const void *data, size_t len);
uint64_t pga_hash_str(const void *cstr);
uint64_t pga_hash_u64(uint64_t v);
int pga_equal_str(const void *a, const void *b);

/* Ready-made types: NUL-terminated string keys (copied by the caller,
 * freed with free) and uint64_t keys stored in the pointer itself. */
extern const pga_dict_type_t pga_dict_str_type;     /* frees keys only */
extern const pga_dict_type_t pga_dict_u64_type;     /* frees nothing */
#define PGA_U64_KEY(v) ((void *)(uintptr_t)(v))

/* SipHash-2-4 (Aumasson and Bernstein) under an explicit 128-bit key, as
 * 16 bytes. pga_hash_bytes is this under the process key; it is inline
 * here so tests can check the reference vectors. */
static inline uint64_t pga__sip_rotl(uint64_t x, int b) {
  return (x << b) | (x >> (64 - b));
}

static inline uint64_t pga__sip_load64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

#define PGA__SIPROUND(v0, v1, v2, v3)                     \
  do {                                                    \
    v0 += v1; v1 = pga__sip_rotl(v1, 13); v1 ^= v0;       \
    v0 = pga__sip_rotl(v0, 32);                           \
    v2 += v3; v3 = pga__sip_rotl(v3, 16); v3 ^= v2;       \
    v0 += v3; v3 = pga__sip_rotl(v3, 21); v3 ^= v0;       \
    v2 += v1; v1 = pga__sip_rotl(v1, 17); v1 ^= v2;       \
    v2 = pga__sip_rotl(v2, 32);                           \
  } while (0)

static inline uint64_t pga__siphash24(const unsigned char key[16],
                                      const void *data, size_t len) {
  const unsigned char *in = (const unsigned char *)data;
  uint64_t k0 = pga__sip_load64(key), k1 = pga__sip_load64(key + 8);
  uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
  uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
  size_t whole = len & ~(size_t)7;
  uint64_t b = (uint64_t)len << 56;

  for (size_t i = 0; i < whole; i += 8) {
    uint64_t m = pga__sip_load64(in + i);
    v3 ^= m;
    PGA__SIPROUND(v0, v1, v2, v3);
    PGA__SIPROUND(v0, v1, v2, v3);
    v0 ^= m;
  }
  for (size_t i = 0; i < (len & 7); i++)
    b |= (uint64_t)in[whole + i] << (8 * i);
  v3 ^= b;
  PGA__SIPROUND(v0, v1, v2, v3);
  PGA__SIPROUND(v0, v1, v2, v3);
  v0 ^= b;
  v2 ^= 0xff;
  for (int i = 0; i < 4; i++)
    PGA__SIPROUND(v0, v1, v2, v3);
  return v0 ^ v1 ^ v2 ^ v3;
}

#endif
