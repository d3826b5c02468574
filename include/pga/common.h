/* Visibility, attributes and error helpers shared by every public header. */
#ifndef PGA_COMMON_H
#define PGA_COMMON_H

#include "pga/errno.h"

#if defined(__GNUC__) && defined(PGA_BUILDING)
#define PGA_EXTERN __attribute__((visibility("default")))
#else
#define PGA_EXTERN
#endif

#if defined(__GNUC__)
#define PGA_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define PGA_WARN_UNUSED
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* "out of memory" etc.; "unknown error" for codes not in the list. */
PGA_EXTERN const char *pga_strerror(int err);
/* "PGA_ENOMEM" etc.; "PGA_UNKNOWN" for codes not in the list. */
PGA_EXTERN const char *pga_err_name(int err);
/* PGA_VERSION_HEX of the library actually loaded. */
PGA_EXTERN unsigned pga_version(void);
PGA_EXTERN const char *pga_version_string(void);

#ifdef __cplusplus
}
#endif
#endif
