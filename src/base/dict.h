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
/* Value or NULL. O(1) average. */
void *pga_dict_get(const pga_dict_t *d, const void *key);
/* 0, or PGA_ENOTFOUND. Runs the destructors. */
int pga_dict_delete(pga_dict_t *d, const void *key);
/* Removes without running destructors and returns the value (NULL if
 * absent); if key_out is not NULL it receives the stored key. */
void *pga_dict_take(pga_dict_t *d, const void *key, void **key_out);
size_t pga_dict_size(const pga_dict_t *d);

/* Iteration; the current entry may be deleted during the walk, others may
 * not be added or deleted. */
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

#endif
