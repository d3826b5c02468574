/* Error names, error texts and the run-time version, all derived from the
 * PGA_ERRNO_MAP list so a new code needs no edit here. */
#include "config.h"

#include "pga/common.h"
#include "pga/version.h"

/* Switches rather than tables: the codes are negative and may one day be
 * sparse, and the compiler turns a dense switch into a table anyway. */
const char *pga_strerror(int err) {
  switch (err) {
  case PGA_OK:
    return "success";
#define PGA_ERRNO_TEXT(name, value, text) \
  case PGA_##name:                        \
    return text;
    PGA_ERRNO_MAP(PGA_ERRNO_TEXT)
#undef PGA_ERRNO_TEXT
  default:
    return "unknown error";
  }
}

const char *pga_err_name(int err) {
  switch (err) {
  case PGA_OK:
    return "PGA_OK";
#define PGA_ERRNO_NAME(name, value, text) \
  case PGA_##name:                        \
    return "PGA_" #name;
    PGA_ERRNO_MAP(PGA_ERRNO_NAME)
#undef PGA_ERRNO_NAME
  default:
    return "PGA_UNKNOWN";
  }
}

unsigned pga_version(void) { return PGA_VERSION_HEX; }

const char *pga_version_string(void) { return PGA_VERSION_STRING; }
