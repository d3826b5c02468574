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

#endif
