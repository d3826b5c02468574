/* How many freed objects a hot path may keep for reuse (an exec per
 * request, a job per call): reuse saves their allocation and, with their
 * builders' buffers kept, most of a request's malloc/free pairs. Under
 * AddressSanitizer nothing is kept, so a use after free still reports. */
#ifndef PGA_BASE_SPARES_H
#define PGA_BASE_SPARES_H

#if defined(__SANITIZE_ADDRESS__)
#define PGA__UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PGA__UNDER_ASAN 1
#endif
#endif

#ifdef PGA__UNDER_ASAN
#define PGA_SPARES(n) 0
#else
#define PGA_SPARES(n) (n)
#endif

#include <stddef.h>

/* 1 if one more spare may be kept (a function, so that a limit of 0
 * under ASan is no constant comparison for -Wtype-limits). */
static inline int pga_spares_room(size_t kept, size_t limit) {
  return kept < limit;
}

#endif
