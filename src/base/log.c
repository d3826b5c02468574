/* Leveled logging to stderr, one whole line per write so threads and the
 * processes sharing stderr (interop harnesses) never interleave mid-line. */
#include "config.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/log.h"

/* Read on every call from any thread, so atomic; relaxed is enough since
 * the level orders nothing else. */
static _Atomic int log_level = PGA_LOG_INFO;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void pga_log_set_level(pga_log_level_t level) {
  if ((int)level < PGA_LOG_DEBUG || level > PGA_LOG_NONE)
    return;
  atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
}

pga_log_level_t pga_log_get_level(void) {
  return (pga_log_level_t)atomic_load_explicit(&log_level,
                                               memory_order_relaxed);
}

int pga_log_parse_level(const char *name, pga_log_level_t *out) {
  static const struct {
    const char *name;
    pga_log_level_t level;
  } names[] = {{"debug", PGA_LOG_DEBUG}, {"info", PGA_LOG_INFO},
               {"warn", PGA_LOG_WARN},   {"warning", PGA_LOG_WARN},
               {"error", PGA_LOG_ERROR}, {"none", PGA_LOG_NONE}};

  if (name == NULL)
    return -1;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (strcasecmp(name, names[i].name) == 0) {
      *out = names[i].level;
      return 0;
    }
  }
  return -1;
}

/* "2024-05-01T12:34:56.789Z": UTC, so lines from hosts in different zones
 * sort together. */
static void format_time(char *buf, size_t size) {
  struct timespec ts;
  struct tm tm;

  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000L);
}

void pga_log(pga_log_level_t level, const char *fmt, ...) {
  char stackbuf[512];
  char *msg = stackbuf;
  char when[40];
  va_list ap;

  if ((int)level < PGA_LOG_DEBUG || level >= PGA_LOG_NONE ||
      level < pga_log_get_level())
    return;

  va_start(ap, fmt);
  int n = vsnprintf(stackbuf, sizeof stackbuf, fmt, ap);
  va_end(ap);
  /* A long line gets its own buffer; if that fails, the truncated text in
   * stackbuf still goes out rather than nothing. */
  if (n >= (int)sizeof stackbuf) {
    char *big = malloc((size_t)n + 1);
    if (big != NULL) {
      va_start(ap, fmt);
      vsnprintf(big, (size_t)n + 1, fmt, ap);
      va_end(ap);
      msg = big;
    }
  }

  format_time(when, sizeof when);
  /* stderr is unbuffered: glibc then formats one fprintf into a temporary
   * buffer and issues a single write(2), and the stream lock keeps threads
   * from interleaving. flockfile makes the latter explicit. */
  flockfile(stderr);
  fprintf(stderr, "%s %s %s\n", when, level_names[level], msg);
  funlockfile(stderr);

  if (msg != stackbuf)
    free(msg);
}
