/* A chained hash table typed by a table of hash, compare and destructors
 * (redis dict), hashed with SipHash under a random per-process key so peers
 * cannot choose keys that collide.
 *
 * Invariants:
 *   1. nbuckets is 0 (nothing added yet) or a power of two, and
 *      size <= nbuckets after every add (load factor <= 1).
 *   2. An entry sits in bucket hash & (nbuckets - 1), its hash cached so
 *      growth never calls the type's hash again.
 *   3. The table only grows (by doubling, all at once). Deleting never
 *      moves other entries, which is what makes deleting the current entry
 *      during iteration safe.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "base/dict.h"
#include "pga/errno.h"

#define MIN_BUCKETS 8

struct entry {
  struct entry *next;
  void *key;
  void *val;
  uint64_t hash;
};

struct pga_dict_s {
  const pga_dict_type_t *type;
  struct entry **buckets;
  size_t nbuckets;
  size_t size;
};

/* ---- Seeded hashing --------------------------------------------------- */

static unsigned char hash_key[16];
static pthread_once_t hash_key_once = PTHREAD_ONCE_INIT;

static int read_urandom(unsigned char *buf, size_t len) {
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  size_t got = 0;

  if (fd < 0)
    return -1;
  while (got < len) {
    ssize_t n = read(fd, buf + got, len - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  close(fd);
  return got == len ? 0 : -1;
}

/* getrandom() first; /dev/urandom where the syscall is missing (old
 * kernels, some seccomp sandboxes); as a last resort a weak key from the
 * clock and pid, which still beats a fixed one. */
static void init_hash_key(void) {
  size_t got = 0;

  while (got < sizeof hash_key) {
    ssize_t n = getrandom(hash_key + got, sizeof hash_key - got, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  if (got == sizeof hash_key || read_urandom(hash_key, sizeof hash_key) == 0)
    return;

  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t weak[2] = {(uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)getpid(),
                      (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)&ts};
  memcpy(hash_key, weak, sizeof hash_key);
}

uint64_t pga_hash_bytes(const void *data, size_t len) {
  pthread_once(&hash_key_once, init_hash_key);
  return pga__siphash24(hash_key, data, len);
}

uint64_t pga_hash_str(const void *cstr) {
  return pga_hash_bytes(cstr, strlen(cstr));
}

uint64_t pga_hash_u64(uint64_t v) {
  unsigned char le[8];

  /* Fixed byte order, so a value hashes the same on every host. */
  for (int i = 0; i < 8; i++)
    le[i] = (unsigned char)(v >> (8 * i));
  return pga_hash_bytes(le, sizeof le);
}

int pga_equal_str(const void *a, const void *b) { return strcmp(a, b) == 0; }

/* Keys of pga_dict_u64_type are ids pga hands out itself (processes,
 * connections, calls, members): a peer can name one but never add one,
 * so no one can aim keys at a bucket, and SipHash (a fifth of a gateway
 * request's dictionary work) is not needed. A seeded 64-bit finaliser
 * (MurmurHash3's fmix64) spreads sequential ids evenly. */
static uint64_t hash_u64_key(const void *key) {
  uint64_t seed, h;

  pthread_once(&hash_key_once, init_hash_key);
  memcpy(&seed, hash_key, sizeof seed);
  h = (uint64_t)(uintptr_t)key ^ seed;
  h ^= h >> 33;
  h *= UINT64_C(0xff51afd7ed558ccd);
  h ^= h >> 33;
  h *= UINT64_C(0xc4ceb9fe1a85ec53);
  h ^= h >> 33;
  return h;
}

static int equal_u64_key(const void *a, const void *b) { return a == b; }

const pga_dict_type_t pga_dict_str_type = {pga_hash_str, pga_equal_str, free,
                                           NULL};
const pga_dict_type_t pga_dict_u64_type = {hash_u64_key, equal_u64_key, NULL,
                                           NULL};

/* ---- Table ------------------------------------------------------------ */

pga_dict_t *pga_dict_new(const pga_dict_type_t *type) {
  pga_dict_t *d = calloc(1, sizeof *d);

  if (d == NULL)
    return NULL;
  d->type = type;
  return d;
}

static void free_entry(const pga_dict_t *d, struct entry *e) {
  if (d->type->key_free != NULL)
    d->type->key_free(e->key);
  if (d->type->val_free != NULL)
    d->type->val_free(e->val);
  free(e);
}

void pga_dict_free(pga_dict_t *d) {
  if (d == NULL)
    return;
  for (size_t i = 0; i < d->nbuckets; i++) {
    struct entry *e = d->buckets[i];
    while (e != NULL) {
      struct entry *next = e->next;
      free_entry(d, e);
      e = next;
    }
  }
  free(d->buckets);
  free(d);
}

/* Returns the link that points at key's entry (or at NULL if absent), so
 * lookup and unlink share one walk. */
static struct entry **find_link(const pga_dict_t *d, const void *key,
                                uint64_t hash) {
  struct entry **link = &d->buckets[hash & (d->nbuckets - 1)];

  while (*link != NULL) {
    if ((*link)->hash == hash && d->type->equal((*link)->key, key))
      break;
    link = &(*link)->next;
  }
  return link;
}

/* Doubles the bucket array (invariant 3: all at once). 0 or PGA_ENOMEM
 * with the table unchanged. */
static int grow(pga_dict_t *d) {
  size_t n = d->nbuckets ? d->nbuckets * 2 : MIN_BUCKETS;
  struct entry **b;

  if (n < d->nbuckets || n > SIZE_MAX / sizeof *b)
    return PGA_ENOMEM;
  b = calloc(n, sizeof *b);
  if (b == NULL)
    return PGA_ENOMEM;
  for (size_t i = 0; i < d->nbuckets; i++) {
    struct entry *e = d->buckets[i];
    while (e != NULL) {
      struct entry *next = e->next;
      size_t j = e->hash & (n - 1);
      e->next = b[j];
      b[j] = e;
      e = next;
    }
  }
  free(d->buckets);
  d->buckets = b;
  d->nbuckets = n;
  return 0;
}

int pga_dict_add(pga_dict_t *d, void *key, void *val) {
  uint64_t hash = d->type->hash(key);

  if (d->size > 0 && *find_link(d, key, hash) != NULL)
    return PGA_EEXIST;
  if (d->size + 1 > d->nbuckets && grow(d) != 0)
    return PGA_ENOMEM;

  struct entry *e = malloc(sizeof *e);
  if (e == NULL)
    return PGA_ENOMEM;
  struct entry **head = &d->buckets[hash & (d->nbuckets - 1)];
  e->key = key;
  e->val = val;
  e->hash = hash;
  e->next = *head;
  *head = e;
  d->size++;
  return 0;
}

void *pga_dict_get(const pga_dict_t *d, const void *key) {
  if (d->size == 0)
    return NULL;
  struct entry *e = *find_link(d, key, d->type->hash(key));
  return e != NULL ? e->val : NULL;
}

/* Unlinks key's entry and returns it, or NULL if absent. */
static struct entry *unlink_entry(pga_dict_t *d, const void *key) {
  if (d->size == 0)
    return NULL;
  struct entry **link = find_link(d, key, d->type->hash(key));
  struct entry *e = *link;
  if (e != NULL) {
    *link = e->next;
    d->size--;
  }
  return e;
}

int pga_dict_delete(pga_dict_t *d, const void *key) {
  struct entry *e = unlink_entry(d, key);

  if (e == NULL)
    return PGA_ENOTFOUND;
  free_entry(d, e);
  return 0;
}

void *pga_dict_take(pga_dict_t *d, const void *key, void **key_out) {
  struct entry *e = unlink_entry(d, key);
  void *val = NULL;

  if (key_out != NULL)
    *key_out = e != NULL ? e->key : NULL;
  if (e != NULL) {
    val = e->val;
    free(e);
  }
  return val;
}

size_t pga_dict_size(const pga_dict_t *d) { return d->size; }

/* ---- Iteration -------------------------------------------------------- */

void pga_dict_iter_init(pga_dict_t *d, pga_dict_iter_t *it) {
  it->dict = d;
  it->bucket = 0;
  it->entry = NULL;
  it->next = NULL;
}

/* The successor is saved before the current entry is handed out, so the
 * caller may free the current one (invariant 3 keeps the rest in place). */
int pga_dict_next(pga_dict_iter_t *it, void **key, void **val) {
  const pga_dict_t *d = it->dict;

  while (it->next == NULL) {
    if (it->bucket >= d->nbuckets) {
      it->entry = NULL;
      return 0;
    }
    it->next = d->buckets[it->bucket++];
  }
  struct entry *e = it->next;
  it->entry = e;
  it->next = e->next;
  if (key != NULL)
    *key = e->key;
  if (val != NULL)
    *val = e->val;
  return 1;
}
