/* Logging to stderr with a level threshold; thread-safe lines. */
#ifndef PGA_BASE_LOG_H
#define PGA_BASE_LOG_H

typedef enum {
  PGA_LOG_DEBUG = 0,
  PGA_LOG_INFO,
  PGA_LOG_WARN,
  PGA_LOG_ERROR,
  PGA_LOG_NONE
} pga_log_level_t;

void pga_log_set_level(pga_log_level_t level);
pga_log_level_t pga_log_get_level(void);
/* 0 and sets *out, or -1 for an unknown name ("debug", "info", ...). */
int pga_log_parse_level(const char *name, pga_log_level_t *out);
void pga_log(pga_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define pga_debug(...) \
  do { if (pga_log_get_level() <= PGA_LOG_DEBUG) pga_log(PGA_LOG_DEBUG, __VA_ARGS__); } while (0)
#define pga_info(...) pga_log(PGA_LOG_INFO, __VA_ARGS__)
#define pga_warn(...) pga_log(PGA_LOG_WARN, __VA_ARGS__)
#define pga_error(...) pga_log(PGA_LOG_ERROR, __VA_ARGS__)

#endif
