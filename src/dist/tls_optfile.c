/* The -ssl_dist_optfile reader: one Erlang term ended by '.', read as
 * file:consult/1 reads it, for the subset such files use: lists, tuples,
 * atoms (bare or quoted), strings, binaries of one string, integers and
 * %-comments. Anything else is an error with its line. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/tls_conf.h"

#define MAX_DEPTH 16
#define MAX_FILE_BYTES (1024 * 1024)

typedef struct rd_s {
  const char *p, *end;
  int line;
  char *err;
  size_t errlen;
} rd_t;

static int fail(rd_t *r, const char *what) {
  snprintf(r->err, r->errlen, "line %d: %s", r->line, what);
  return -1;
}

static void skip_space(rd_t *r) {
  while (r->p < r->end) {
    if (*r->p == '%') {
      while (r->p < r->end && *r->p != '\n') r->p++;
    } else if (isspace((unsigned char)*r->p)) {
      if (*r->p == '\n') r->line++;
      r->p++;
    } else {
      return;
    }
  }
}

static int peek(rd_t *r) {
  skip_space(r);
  return r->p < r->end ? (unsigned char)*r->p : -1;
}

static char escaped(char ch) {
  switch (ch) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case 's': return ' ';
    case '0': return '\0';
    default: return ch;
  }
}

/* "..." or '...' into a fresh string (no NUL inside: these are names). */
static int quoted(rd_t *r, char q, char **out) {
  const char *start = ++r->p;
  char *s = malloc((size_t)(r->end - start) + 1);
  size_t n = 0;
  if (!s) return fail(r, "out of memory");
  while (r->p < r->end && *r->p != q) {
    char ch = *r->p++;
    if (ch == '\n') r->line++;
    if (ch == '\\' && r->p < r->end) ch = escaped(*r->p++);
    if (ch == '\0') {
      free(s);
      return fail(r, "NUL inside a string");
    }
    s[n++] = ch;
  }
  if (r->p >= r->end) {
    free(s);
    return fail(r, q == '"' ? "unterminated string" : "unterminated atom");
  }
  r->p++;
  s[n] = '\0';
  *out = s;
  return 0;
}

static int value(rd_t *r, pga_tls_val_t *v, int depth);

/* Elements up to the closing bracket, separated by commas. */
static int sequence(rd_t *r, pga_tls_val_t *v, char close, int depth) {
  r->p++;
  if (peek(r) == close) {
    r->p++;
    return 0;
  }
  for (;;) {
    pga_tls_val_t *grown = realloc(v->items, (v->n + 1) * sizeof *grown);
    if (!grown) return fail(r, "out of memory");
    v->items = grown;
    memset(&v->items[v->n], 0, sizeof *grown);
    v->n++;
    if (value(r, &v->items[v->n - 1], depth + 1) != 0) return -1;
    int ch = peek(r);
    if (ch == ',') {
      r->p++;
      continue;
    }
    if (ch == close) {
      r->p++;
      return 0;
    }
    return fail(r, close == ']' ? "expected ',' or ']'" : "expected ',' or '}'");
  }
}

static int binary(rd_t *r, pga_tls_val_t *v) {
  r->p += 2;
  v->kind = PGA_TLSV_TEXT;
  if (peek(r) == '"') {
    if (quoted(r, '"', &v->text) != 0) return -1;
  } else if (!(v->text = strdup(""))) {
    return fail(r, "out of memory");
  }
  if (peek(r) != '>' || r->end - r->p < 2 || r->p[1] != '>')
    return fail(r, "expected '>>' (binaries hold one string)");
  r->p += 2;
  return 0;
}

static int bare_atom(rd_t *r, pga_tls_val_t *v) {
  const char *s = r->p;
  while (r->p < r->end &&
         (isalnum((unsigned char)*r->p) || *r->p == '_' || *r->p == '@'))
    r->p++;
  v->kind = PGA_TLSV_ATOM;
  v->text = strndup(s, (size_t)(r->p - s));
  return v->text ? 0 : fail(r, "out of memory");
}

static int integer(rd_t *r, pga_tls_val_t *v) {
  char *end;
  errno = 0;
  long long n = strtoll(r->p, &end, 10);
  if (errno || end == r->p || end > r->end) return fail(r, "bad integer");
  r->p = end;
  v->kind = PGA_TLSV_INT;
  v->num = n;
  return 0;
}

static int value(rd_t *r, pga_tls_val_t *v, int depth) {
  if (depth > MAX_DEPTH) return fail(r, "nested too deeply");
  int ch = peek(r);
  if (ch == '[') {
    v->kind = PGA_TLSV_LIST;
    return sequence(r, v, ']', depth);
  }
  if (ch == '{') {
    v->kind = PGA_TLSV_TUPLE;
    return sequence(r, v, '}', depth);
  }
  if (ch == '"') {
    v->kind = PGA_TLSV_TEXT;
    return quoted(r, '"', &v->text);
  }
  if (ch == '\'') {
    v->kind = PGA_TLSV_ATOM;
    return quoted(r, '\'', &v->text);
  }
  if (ch == '<' && r->end - r->p >= 2 && r->p[1] == '<') return binary(r, v);
  if (ch >= 'a' && ch <= 'z') return bare_atom(r, v);
  if (isdigit(ch) || ch == '-') return integer(r, v);
  return fail(r, ch < 0 ? "unexpected end of file" : "unexpected character");
}

int pga_tls_term_parse(const char *text, size_t len, pga_tls_val_t *out,
                       char *err, size_t errlen) {
  rd_t r = {text, text + len, 1, err, errlen};
  memset(out, 0, sizeof *out);
  int rc = value(&r, out, 0);
  if (rc == 0 && peek(&r) != '.') rc = fail(&r, "expected '.' after the term");
  if (rc == 0) {
    r.p++;
    if (peek(&r) != -1) rc = fail(&r, "more than one term");
  }
  if (rc != 0) pga_tls_val_free(out);
  return rc;
}

static char *read_file(const char *path, size_t *len, char *err,
                       size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return NULL;
  }
  char *buf = malloc(MAX_FILE_BYTES + 1);
  size_t n = buf ? fread(buf, 1, MAX_FILE_BYTES + 1, f) : 0;
  int failed = !buf || ferror(f) || n > MAX_FILE_BYTES;
  fclose(f);
  if (failed) {
    snprintf(err, errlen, "%s: unreadable or larger than %d bytes", path,
             MAX_FILE_BYTES);
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

int pga_tls_optfile_load(pga_tls_conf_t *conf, const char *path, char *err,
                         size_t errlen) {
  size_t len;
  char *text = read_file(path, &len, err, errlen);
  if (!text) return -1;
  char msg[384];
  pga_tls_val_t tree;
  int rc = pga_tls_term_parse(text, len, &tree, msg, sizeof msg);
  free(text);
  if (rc == 0) {
    rc = pga_tls_conf_set_all(conf, &tree, msg, sizeof msg);
    pga_tls_val_free(&tree);
  }
  if (rc != 0) snprintf(err, errlen, "%s: %s", path, msg);
  return rc;
}
