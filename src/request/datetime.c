/* The :datetime and :naive_datetime conversions (request-plane.md §5.4):
 * Calendar.ISO's extended-format parser as in Elixir 1.18, and the
 * %DateTime{} (shifted to UTC) and %NaiveDateTime{} structs it yields. */
#include "config.h"

#include <string.h>

#include "request/request_int.h"

typedef struct parsed_s {
  int year, month, day, hour, minute, second;
  int usec, precision;
  int has_offset;
  int offset; /* seconds east of UTC */
} parsed_t;

static int digit(unsigned char c) { return c >= '0' && c <= '9'; }

static int num2(const unsigned char *p) { return (p[0] - '0') * 10 + (p[1] - '0'); }

/* "YYYY-MM-DD(T| )HH:MM:SS", after an optional sign. */
static int parse_head(const unsigned char *s, size_t n, parsed_t *p) {
  static const int digits_at[] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18};

  if (n < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
      s[13] != ':' || s[16] != ':')
    return -1;
  for (size_t i = 0; i < sizeof digits_at / sizeof *digits_at; i++)
    if (!digit(s[digits_at[i]]))
      return -1;
  p->year = num2(s) * 100 + num2(s + 2);
  p->month = num2(s + 5);
  p->day = num2(s + 8);
  p->hour = num2(s + 11);
  p->minute = num2(s + 14);
  p->second = num2(s + 17);
  return 0;
}

/* ".ddd" or ",ddd": at least one digit; more than six are cut to six. */
static int parse_fraction(const unsigned char **s, size_t *n, parsed_t *p) {
  size_t i = 1, k;
  int v = 0;

  p->usec = 0;
  p->precision = 0;
  if (*n == 0 || ((*s)[0] != '.' && (*s)[0] != ','))
    return 0;
  while (i < *n && digit((*s)[i]))
    i++;
  if (i == 1)
    return -1;
  for (k = 1; k < i && k <= 6; k++)
    v = v * 10 + ((*s)[k] - '0');
  p->precision = (int)(k - 1);
  for (; k <= 6; k++)
    v *= 10;
  p->usec = v;
  *s += i;
  *n -= i;
  return 0;
}

/* Integer.parse/1 on two bytes that must both be used: "dd", "+d", "-d". */
static int int2(const unsigned char *p, int *out) {
  if (digit(p[0]) && digit(p[1]))
    *out = num2(p);
  else if ((p[0] == '+' || p[0] == '-') && digit(p[1]))
    *out = p[0] == '-' ? -(p[1] - '0') : p[1] - '0';
  else
    return -1;
  return 0;
}

/* The offset clauses of Calendar.ISO, first match wins; the text must
 * end right after the offset. */
static int parse_offset(const unsigned char *s, size_t n, parsed_t *p) {
  int sign, hour, min = 0;
  size_t used;

  p->has_offset = 0;
  if (n == 0)
    return 0;
  if (n == 1 && s[0] == 'Z') {
    p->has_offset = 1;
    p->offset = 0;
    return 0;
  }
  if (n == 6 && memcmp(s, "-00:00", 6) == 0)
    return -1;
  if (s[0] != '+' && s[0] != '-')
    return -1;
  sign = s[0] == '-' ? -1 : 1;
  if (n >= 6 && s[3] == ':') {
    if (int2(s + 1, &hour) != 0 || int2(s + 4, &min) != 0)
      return -1;
    used = 6;
  } else if (n >= 5) {
    if (int2(s + 1, &hour) != 0 || int2(s + 3, &min) != 0)
      return -1;
    used = 5;
  } else if (n >= 3) {
    if (int2(s + 1, &hour) != 0)
      return -1;
    used = 3;
  } else {
    return -1;
  }
  if (hour >= 24 || min >= 60 || used != n)
    return -1;
  p->has_offset = 1;
  p->offset = (hour * 60 + min) * 60 * sign;
  return 0;
}

static int leap(int y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

static int days_in_month(int y, int m) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

  return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* Parses everything; the reason for the first failure, or NULL. */
static const char *parse(const unsigned char *s, size_t n, parsed_t *p) {
  int mult = 1;

  if (n > 0 && (s[0] == '-' || s[0] == '+')) {
    mult = s[0] == '-' ? -1 : 1;
    s++;
    n--;
  }
  if (parse_head(s, n, p) != 0)
    return "invalid_format";
  p->year *= mult;
  s += 19;
  n -= 19;
  if (parse_fraction(&s, &n, p) != 0 || parse_offset(s, n, p) != 0)
    return "invalid_format";
  if (p->month < 1 || p->month > 12 || p->day < 1 ||
      p->day > days_in_month(p->year, p->month))
    return "invalid_date";
  if (p->hour > 23 || p->minute > 59 || p->second > 59)
    return "invalid_time";
  return NULL;
}

/* Moves the wall time by -offset seconds (the offset is under 25 hours,
 * so at most two days either way). */
static void shift_to_utc(parsed_t *p) {
  long secs = (long)p->hour * 3600 + p->minute * 60 + p->second - p->offset;
  long days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);

  secs -= days * 86400;
  p->hour = (int)(secs / 3600);
  p->minute = (int)(secs / 60 % 60);
  p->second = (int)(secs % 60);
  for (; days > 0; days--) {
    if (++p->day > days_in_month(p->year, p->month)) {
      p->day = 1;
      if (++p->month > 12) {
        p->month = 1;
        p->year++;
      }
    }
  }
  for (; days < 0; days++) {
    if (--p->day < 1) {
      if (--p->month < 1) {
        p->month = 12;
        p->year--;
      }
      p->day = days_in_month(p->year, p->month);
    }
  }
}

/* The fields both structs share, in key order after calendar. */
static void put_common(pga_tb_t *tb, const parsed_t *p, const char *module) {
  pga_tb_atom(tb, "__struct__");
  pga_tb_atom(tb, module);
  pga_tb_atom(tb, "calendar");
  pga_tb_atom(tb, "Elixir.Calendar.ISO");
  pga_tb_atom(tb, "day");
  pga_tb_int(tb, p->day);
  pga_tb_atom(tb, "hour");
  pga_tb_int(tb, p->hour);
  pga_tb_atom(tb, "microsecond");
  pga_tb_tuple(tb, 2);
  pga_tb_int(tb, p->usec);
  pga_tb_int(tb, p->precision);
  pga_tb_atom(tb, "minute");
  pga_tb_int(tb, p->minute);
  pga_tb_atom(tb, "month");
  pga_tb_int(tb, p->month);
  pga_tb_atom(tb, "second");
  pga_tb_int(tb, p->second);
}

int pga__rq_datetime(const unsigned char *s, size_t n, pga_tb_t *tb,
                     const char **reason, int *zero_offset) {
  parsed_t p;

  *zero_offset = 0;
  if ((*reason = parse(s, n, &p)) != NULL)
    return PGA_EINVAL;
  if (!p.has_offset) {
    *reason = "missing_offset";
    return PGA_EINVAL;
  }
  if (p.offset == 0) {
    *zero_offset = 1;
    return PGA_EINVAL;
  }
  shift_to_utc(&p);
  pga_tb_map(tb, 13);
  put_common(tb, &p, "Elixir.DateTime");
  pga_tb_atom(tb, "std_offset");
  pga_tb_int(tb, 0);
  pga_tb_atom(tb, "time_zone");
  pga_tb_string(tb, "Etc/UTC");
  pga_tb_atom(tb, "utc_offset");
  pga_tb_int(tb, 0);
  pga_tb_atom(tb, "year");
  pga_tb_int(tb, p.year);
  pga_tb_atom(tb, "zone_abbr");
  pga_tb_string(tb, "UTC");
  return 0;
}

int pga__rq_naive_datetime(const unsigned char *s, size_t n, pga_tb_t *tb,
                           const char **reason) {
  parsed_t p;

  if ((*reason = parse(s, n, &p)) != NULL)
    return PGA_EINVAL;
  pga_tb_map(tb, 9);
  put_common(tb, &p, "Elixir.NaiveDateTime");
  pga_tb_atom(tb, "year");
  pga_tb_int(tb, p.year);
  return 0;
}
