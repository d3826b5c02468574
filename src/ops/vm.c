/* The C node's stand-ins for the BEAM's VM counters (ops-plane.md §4.9):
 * resident size, text size, CPU time, threads and open sockets from
 * /proc/self; context switches (every thread's) from getrusage(), which
 * also stands in for the rest where /proc is missing. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ops/diag.h"
#include "pga/errno.h"

#if defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
#define HAVE_MALLINFO2_ 1
#endif

#define PROC_TEXT_MAX 8192

/* The number after "key:" on a line of text, scaled (kB -> bytes). */
static int status_field(const char *text, const char *key, uint64_t scale,
                        uint64_t *out) {
  size_t klen = strlen(key);
  for (const char *line = text; line && *line;) {
    if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
      char *end;
      unsigned long long v = strtoull(line + klen + 1, &end, 10);
      if (end == line + klen + 1) return 0;
      *out = (uint64_t)v * scale;
      return 1;
    }
    line = strchr(line, '\n');
    if (line) line++;
  }
  return 0;
}

int pga__ops_parse_status(const char *text, pga_ops_vm_t *vm) {
  if (!text) return PGA_EINVAL;
  int found = status_field(text, "VmRSS", 1024, &vm->rss_bytes);
  found |= status_field(text, "VmExe", 1024, &vm->text_bytes);
  found |= status_field(text, "Threads", 1, &vm->threads);
  return found ? 0 : PGA_EINVAL;
}

/* Fields 14 and 15 (utime, stime) come after the command name, which may
 * itself hold spaces and parentheses: count from the last ')'. */
int pga__ops_parse_stat(const char *text, long ticks_per_s, uint64_t *cpu_ms) {
  const char *p = text ? strrchr(text, ')') : NULL;
  if (!p || ticks_per_s <= 0) return PGA_EINVAL;
  p++;
  unsigned long long ticks = 0;
  for (int field = 3; field <= 15; field++) {
    while (*p == ' ') p++;
    if (!*p || *p == '\n') return PGA_EINVAL;
    char *end;
    unsigned long long v = strtoull(p, &end, 10);
    if (field >= 14) {
      if (end == p) return PGA_EINVAL;
      ticks += v;
    }
    p = end;
    while (*p && *p != ' ') p++;
  }
  *cpu_ms = (uint64_t)(ticks * 1000ull / (unsigned long long)ticks_per_s);
  return 0;
}

/* Reads a small /proc file into buf (NUL-terminated). */
static int read_text(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t used = 0;
  ssize_t n;
  while (used + 1 < cap && (n = read(fd, buf + used, cap - 1 - used)) > 0)
    used += (size_t)n;
  close(fd);
  buf[used] = '\0';
  return used > 0 ? 0 : -1;
}

static uint64_t count_sockets(void) {
  DIR *dir = opendir("/proc/self/fd");
  if (!dir) return 0;
  uint64_t n = 0;
  struct dirent *e;
  char link[64];
  while ((e = readdir(dir)) != NULL) {
    if (e->d_name[0] == '.') continue;
    ssize_t len = readlinkat(dirfd(dir), e->d_name, link, sizeof link - 1);
    if (len > 7 && strncmp(link, "socket:", 7) == 0) n++;
  }
  closedir(dir);
  return n;
}

static void from_rusage(pga_ops_vm_t *vm) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return;
  uint64_t us = (uint64_t)ru.ru_utime.tv_sec * 1000000u +
                (uint64_t)ru.ru_utime.tv_usec +
                (uint64_t)ru.ru_stime.tv_sec * 1000000u +
                (uint64_t)ru.ru_stime.tv_usec;
  vm->cpu_ms = us / 1000u;
  vm->ctx_switches = (uint64_t)ru.ru_nvcsw + (uint64_t)ru.ru_nivcsw;
  if (vm->rss_bytes == 0) vm->rss_bytes = (uint64_t)ru.ru_maxrss * 1024u;
}

void pga__ops_vm_read(pga_ops_vm_t *vm) {
  char *buf = malloc(PROC_TEXT_MAX);
  memset(vm, 0, sizeof *vm);
  from_rusage(vm); /* the baseline; /proc refines it */
  if (buf) {
    if (read_text("/proc/self/status", buf, PROC_TEXT_MAX) == 0)
      (void)pga__ops_parse_status(buf, vm);
    if (read_text("/proc/self/stat", buf, PROC_TEXT_MAX) == 0)
      (void)pga__ops_parse_stat(buf, sysconf(_SC_CLK_TCK), &vm->cpu_ms);
    free(buf);
  }
  vm->sockets = count_sockets();
}

/* Bytes malloc holds from the system and bytes in use, where glibc says. */
static void heap_figures(uint64_t *held, uint64_t *used) {
  *held = *used = 0;
#ifdef HAVE_MALLINFO2_
  struct mallinfo2 mi = mallinfo2();
  *held = (uint64_t)mi.arena + (uint64_t)mi.hblkhd;
  *used = (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
#endif
}

/* In-memory tables of §4.9: config store and failed log, the limiter's
 * global and api logs, relay groups and index, sticky routes. */
static uint64_t tables_running(const pga_ops_live_t *lv) {
  return (lv->config_up ? 2u : 0u) + (lv->limiter_up ? 2u : 0u) +
         (lv->relay_up ? 2u : 0u) + (lv->request_up ? 1u : 0u);
}

void pga__ops_vmfig(pga_ops_t *ops, const pga_ops_live_t *lv,
                    const pga_ops_snap_t *snap, pga_ops_vmfig_t *f) {
  (void)ops;
  memset(f, 0, sizeof *f);
  pga__ops_vm_read(&f->vm);
  heap_figures(&f->heap_bytes, &f->heap_used_bytes);
  f->process_count = PGA_SUB_COUNT + lv->req.inflight + lv->req.streams;
  if (snap) {
    f->process_count += snap->nnames + snap->conns_up;
    f->binary_bytes = snap->queued_bytes;
  }
  f->process_limit = PGA_OPS_PROCESS_LIMIT;
  /* every thread but the event loop's serves calls */
  f->schedulers = f->vm.threads > 1 ? f->vm.threads - 1 : 1;
  f->ets_count = tables_running(lv);
}

static void put_u(pga_tb_t *tb, const char *key, uint64_t v) {
  pga_tb_atom(tb, key);
  pga_tb_uint(tb, v);
}

void pga__ops_put_memory(pga_tb_t *tb, const pga_ops_vmfig_t *f) {
  uint64_t total = f->vm.rss_bytes;
  uint64_t held = f->heap_bytes < total ? f->heap_bytes : total;
  uint64_t used = f->heap_used_bytes < held ? f->heap_used_bytes : held;
  pga_tb_map(tb, 9);
  put_u(tb, "total", total);
  put_u(tb, "processes", held);
  put_u(tb, "processes_used", used);
  put_u(tb, "system", total - held);
  put_u(tb, "atom", 0); /* atoms are written inline: no intern table */
  put_u(tb, "atom_used", 0);
  put_u(tb, "binary", f->binary_bytes);
  put_u(tb, "code", f->vm.text_bytes);
  put_u(tb, "ets", 0); /* tables are not accounted apart from the heap */
}
