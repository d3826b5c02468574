/* The loaded plugins in one line (src/plugin/describe.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "plugin/describe.h"
#include "plugin/plugin_int.h"

typedef struct line_s {
  char *out;
  size_t cap, len;
} line_t;

static void add(line_t *l, const char *fmt, ...) {
  if (l->len >= l->cap) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(l->out + l->len, l->cap - l->len, fmt, ap);
  va_end(ap);
  l->len = n < 0 ? l->cap : l->len + (size_t)n;
}

static const char *elixir_name(const char *module) {
  return strncmp(module, "Elixir.", 7) == 0 ? module + 7 : module;
}

void pga_plugin_describe(const pga_plugin_host_t *h, char *out,
                         size_t outlen) {
  line_t l = {out, outlen, 0};
  if (!outlen) return;
  out[0] = '\0';
  if (!h || !h->first) {
    add(&l, "none");
    return;
  }
  for (const pga__plugin_t *p = h->first; p; p = p->next) {
    add(&l, "%s%s %s (", p == h->first ? "" : "; ", p->name,
        p->desc->version ? p->desc->version : "-");
    for (size_t i = 0; i < p->nfns; i++) {
      const pga_plugin_fn_t *f = &p->desc->functions[i];
      add(&l, "%s%s.%s/%u", i ? ", " : "", elixir_name(f->module),
          f->function, f->arity);
    }
    add(&l, ")");
  }
  if (l.len >= outlen && outlen > 4) strcpy(out + outlen - 4, "...");
}
