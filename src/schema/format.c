/*
 * The "format" keyword, asserted only when the compile options (or a meta-schema's
 * format-assertion vocabulary) ask for it. Each check follows the grammar its format
 * names: RFC 3339 for dates, times and durations; RFC 5321 for e-mail addresses; RFC 1123
 * for host names, with A-labels and U-labels checked against IDNA2008 (idna.c); RFC 3986
 * and RFC 3987 for URIs and IRIs; RFC 6570 for URI templates; RFC 4122 for UUIDs;
 * RFC 6901 and the relative JSON Pointer draft for pointers; ECMA-262 for regular
 * expressions. Formats the validator does not know are accepted.
 */
#include <stdint.h>
#include <string.h>

#include "schema/idna.h"
#include "schema/internal.h"

typedef struct {
  const char *p, *end;
} cur_t;

static int is_digit(int c) {
  return c >= '0' && c <= '9';
}
static int is_alpha(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static int is_hex(int c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Reads exactly n digits as a number; -1 when they are not there. */
static int digits(cur_t *c, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (c->p >= c->end || !is_digit(*c->p)) return -1;
    v = v * 10 + (*c->p++ - '0');
  }
  return v;
}

static int take(cur_t *c, char ch) {
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return 1;
  }
  return 0;
}

static int take_ci(cur_t *c, char upper) {
  return take(c, upper) || take(c, (char)(upper - 'A' + 'a'));
}

/* ---- dates and times (RFC 3339, section 5.6) ---- */

static int days_in_month(int y, int m) {
  static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return d[m - 1];
}

static int full_date(cur_t *c) {
  int y = digits(c, 4);
  if (y < 0 || !take(c, '-')) return 0;
  int m = digits(c, 2);
  if (m < 1 || m > 12 || !take(c, '-')) return 0;
  int d = digits(c, 2);
  return d >= 1 && d <= days_in_month(y, m);
}

static int full_time(cur_t *c) {
  int h = digits(c, 2);
  if (h < 0 || h > 23 || !take(c, ':')) return 0;
  int m = digits(c, 2);
  if (m < 0 || m > 59 || !take(c, ':')) return 0;
  int s = digits(c, 2);
  if (s < 0 || s > 60) return 0;
  if (take(c, '.')) {
    if (digits(c, 1) < 0) return 0;
    while (c->p < c->end && is_digit(*c->p)) c->p++;
  }
  int off = 0;
  if (!take_ci(c, 'Z')) {
    int sign = take(c, '+') ? 1 : take(c, '-') ? -1 : 0;
    if (sign == 0) return 0;
    int oh = digits(c, 2);
    if (oh < 0 || oh > 23 || !take(c, ':')) return 0;
    int om = digits(c, 2);
    if (om < 0 || om > 59) return 0;
    off = sign * (oh * 60 + om);
  }
  /* A leap second exists only at the last minute of a UTC day. */
  if (s == 60 && ((h * 60 + m - off) % 1440 + 1440) % 1440 != 1439) return 0;
  return 1;
}

static int check_date(cur_t *c) {
  return full_date(c) && c->p == c->end;
}
static int check_time(cur_t *c) {
  return full_time(c) && c->p == c->end;
}
static int check_date_time(cur_t *c) {
  return full_date(c) && take_ci(c, 'T') && full_time(c) && c->p == c->end;
}

/* duration = "P" (dur-date / dur-time / dur-week) (RFC 3339, appendix A): date units in
   the order Y, M, D with none skipped in between, then optionally "T" and time units in
   the order H, M, S likewise; or weeks alone. */
static int units(cur_t *c, const char *order) {
  int last = -1, count = 0;
  while (c->p < c->end && is_digit(*c->p)) {
    while (c->p < c->end && is_digit(*c->p)) c->p++;
    if (c->p == c->end) return -1;
    const char *u = strchr(order, *c->p);
    if (u == NULL || *c->p == '\0') return -1;
    int at = (int)(u - order);
    if (last >= 0 && at != last + 1) return -1;
    last = at;
    c->p++;
    count++;
  }
  return count;
}

static int check_duration(cur_t *c) {
  if (!take(c, 'P')) return 0;
  const char *start = c->p;
  while (c->p < c->end && is_digit(*c->p)) c->p++;
  if (c->p < c->end && *c->p == 'W' && c->p > start) return ++c->p == c->end;
  c->p = start;
  int date = units(c, "YMD");
  if (date < 0) return 0;
  if (take(c, 'T')) {
    if (units(c, "HMS") <= 0) return 0;
  } else if (date == 0) {
    return 0;
  }
  return c->p == c->end;
}

/* ---- addresses ---- */

static int ipv4(const char *s, size_t len) {
  cur_t c = {s, s + len};
  for (int part = 0; part < 4; part++) {
    if (part && !take(&c, '.')) return 0;
    const char *start = c.p;
    int v = 0;
    while (c.p < c.end && is_digit(*c.p) && c.p - start < 4) v = v * 10 + (*c.p++ - '0');
    size_t n = (size_t)(c.p - start);
    if (n == 0 || n > 3 || v > 255 || (n > 1 && *start == '0')) return 0;
  }
  return c.p == c.end;
}

static int ipv6(const char *s, size_t len) {
  int groups = 0, gap = 0;
  const char *p = s, *end = s + len;
  if (len >= 2 && p[0] == ':' && p[1] == ':') {
    gap = 1;
    p += 2;
  } else if (len && p[0] == ':') {
    return 0;
  }
  while (p < end) {
    const char *start = p;
    while (p < end && is_hex(*p) && p - start < 5) p++;
    size_t n = (size_t)(p - start);
    if (p < end && *p == '.') {
      /* A trailing IPv4 address takes the last two groups. */
      if (!ipv4(start, (size_t)(end - start))) return 0;
      groups += 2;
      p = end;
      break;
    }
    if (n == 0 || n > 4) return 0;
    groups++;
    if (p == end) break;
    if (*p != ':') return 0;
    p++;
    if (p < end && *p == ':') {
      if (gap) return 0;
      gap = 1;
      p++;
    } else if (p == end) {
      return 0;
    }
  }
  return gap ? groups < 8 : groups == 8;
}

static int ldh_label(const char *s, size_t n) {
  if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-') return 0;
  for (size_t i = 0; i < n; i++)
    if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '-') return 0;
  /* "--" in the third and fourth places is reserved for A-labels ("xn--"). */
  if (n >= 4 && s[2] == '-' && s[3] == '-' &&
      !((s[0] == 'x' || s[0] == 'X') && (s[1] == 'n' || s[1] == 'N')))
    return 0;
  return 1;
}

/* An A-label ("xn--" and Punycode): what it encodes must be a U-label with at least one
   non-ASCII character (idna.c). */
static int a_label(const char *s, size_t len) {
  uint32_t cp[64];
  long n = sg__punycode_decode(s, len, cp, 64);
  int wide = 0;
  for (long i = 0; i < n; i++) wide |= cp[i] >= 0x80;
  return n > 0 && wide && sg__idna_label_ok(cp, (size_t)n);
}

/* A U-label given as UTF-8 (valid: the JSON parser checked it), at most 63 characters. */
static int u_label(const char *s, size_t len) {
  uint32_t cp[64];
  size_t n = 0;
  for (size_t i = 0; i < len && n < 64; n++) {
    unsigned char c = (unsigned char)s[i];
    int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
    uint32_t v = extra ? c & (0x3f >> extra) : c;
    for (int k = 1; k <= extra && i + (size_t)k < len; k++) v = v << 6 | (s[i + k] & 0x3f);
    cp[n] = v;
    i += (size_t)extra + 1;
  }
  return n <= 63 && sg__idna_label_ok(cp, n);
}

static int is_a_label(const char *s, size_t n) {
  return n >= 4 && (s[0] == 'x' || s[0] == 'X') && (s[1] == 'n' || s[1] == 'N') && s[2] == '-' &&
         s[3] == '-';
}

/* Labels separated by dots; idn allows UTF-8 letters beside LDH characters. A-labels are
   checked as the U-labels they encode, in both. */
static int hostname(const char *s, size_t len, int idn) {
  if (len == 0 || len > 253) return 0;
  size_t start = 0;
  for (size_t i = 0; i <= len; i++) {
    int sep = i == len || s[i] == '.' ||
              (idn && i + 2 < len && (unsigned char)s[i] == 0xe3 &&
               (unsigned char)s[i + 1] == 0x80 && (unsigned char)s[i + 2] == 0x82);
    if (!sep) continue;
    size_t n = i - start;
    const char *l = s + start;
    int ascii = 1;
    for (size_t k = 0; k < n; k++)
      if ((unsigned char)l[k] >= 0x80) ascii = 0;
    if (ascii) {
      if (!ldh_label(l, n) || (is_a_label(l, n) && !a_label(l + 4, n - 4))) return 0;
    } else if (!idn) {
      return 0;
    } else {
      if (n == 0 || l[0] == '-' || l[n - 1] == '-') return 0;
      for (size_t k = 0; k < n; k++) {
        unsigned char ch = (unsigned char)l[k];
        if (ch < 0x80 && !is_alpha(ch) && !is_digit(ch) && ch != '-') return 0;
      }
      if (sg__utf8_length(l, n) > 63 || !u_label(l, n)) return 0;
    }
    if (i < len && s[i] != '.') i += 2;
    start = i + 1;
  }
  return 1;
}

static int atext(unsigned char c, int intl) {
  return is_alpha(c) || is_digit(c) || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL ||
         (intl && c >= 0x80);
}

static int email(const char *s, size_t len, int intl) {
  const char *at = NULL;
  size_t i = 0;
  if (len && s[0] == '"') {
    for (i = 1; i < len && s[i] != '"'; i++) {
      if (s[i] == '\\')
        i++;
      else if ((unsigned char)s[i] < 0x20)
        return 0;
    }
    if (i >= len) return 0;
    i++;
    if (i >= len || s[i] != '@') return 0;
    at = s + i;
  } else {
    for (; i < len && s[i] != '@'; i++) {
      if (s[i] == '.') {
        if (i == 0 || s[i - 1] == '.' || i + 1 >= len || s[i + 1] == '@') return 0;
      } else if (!atext((unsigned char)s[i], intl)) {
        return 0;
      }
    }
    if (i == 0 || i >= len) return 0;
    at = s + i;
  }
  const char *d = at + 1;
  size_t dlen = len - (size_t)(d - s);
  if (dlen >= 2 && d[0] == '[' && d[dlen - 1] == ']') {
    if (dlen > 7 && memcmp(d + 1, "IPv6:", 5) == 0) return ipv6(d + 6, dlen - 7);
    return ipv4(d + 1, dlen - 2);
  }
  return hostname(d, dlen, intl);
}

static int uuid(const char *s, size_t len) {
  if (len != 36) return 0;
  for (size_t i = 0; i < len; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return 0;
    } else if (!is_hex(s[i])) {
      return 0;
    }
  }
  return 1;
}

/* ---- URIs (RFC 3986) and IRIs (RFC 3987) ---- */

static int unreserved(unsigned char c, int iri) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
         (iri && c >= 0x80);
}
static int sub_delim(unsigned char c) {
  return c != '\0' && strchr("!$&'()*+,;=", c) != NULL;
}

/* Consumes characters that are unreserved, sub-delims, percent-encoded or in extra. */
static int chars(cur_t *c, const char *extra, int iri) {
  while (c->p < c->end) {
    unsigned char ch = (unsigned char)*c->p;
    if (ch == '%') {
      if (c->end - c->p < 3 || !is_hex(c->p[1]) || !is_hex(c->p[2])) return 0;
      c->p += 3;
    } else if (unreserved(ch, iri) || sub_delim(ch) || (ch && strchr(extra, ch))) {
      c->p++;
    } else {
      break;
    }
  }
  return 1;
}

static int authority(cur_t *c, int iri) {
  const char *start = c->p;
  const char *stop = c->p;
  while (stop < c->end && *stop != '/' && *stop != '?' && *stop != '#') stop++;
  const char *at = NULL;
  for (const char *q = start; q < stop; q++)
    if (*q == '@') at = q;
  if (at) {
    cur_t u = {start, at};
    if (!chars(&u, ":", iri) || u.p != at) return 0;
    start = at + 1;
  }
  cur_t h = {start, stop};
  if (h.p < h.end && *h.p == '[') {
    const char *close = memchr(h.p, ']', (size_t)(h.end - h.p));
    if (close == NULL) return 0;
    if (!ipv6(h.p + 1, (size_t)(close - h.p - 1))) {
      /* IPvFuture: "v" HEXDIG+ "." ( unreserved / sub-delims / ":" )+ */
      cur_t f = {h.p + 1, close};
      if (!take_ci(&f, 'V') || f.p == f.end || !is_hex(*f.p)) return 0;
      while (f.p < f.end && is_hex(*f.p)) f.p++;
      if (!take(&f, '.') || f.p == f.end || !chars(&f, ":", 0) || f.p != f.end) return 0;
    }
    h.p = close + 1;
  } else {
    if (!chars(&h, "", iri)) return 0;
  }
  if (take(&h, ':'))
    while (h.p < h.end && is_digit(*h.p)) h.p++;
  if (h.p != h.end) return 0;
  c->p = stop;
  return 1;
}

static int uri(const char *s, size_t len, int reference, int iri) {
  cur_t c = {s, s + len};
  const char *q = s;
  int scheme = 0;
  if (q < c.end && is_alpha(*q)) {
    while (q < c.end && (is_alpha(*q) || is_digit(*q) || *q == '+' || *q == '-' || *q == '.')) q++;
    if (q < c.end && *q == ':') {
      scheme = 1;
      c.p = q + 1;
    }
  }
  if (!scheme && !reference) return 0;
  if (c.end - c.p >= 2 && c.p[0] == '/' && c.p[1] == '/') {
    c.p += 2;
    if (!authority(&c, iri)) return 0;
  } else if (!scheme) {
    /* path-noscheme: no ":" in the first segment. */
    const char *seg = c.p;
    while (seg < c.end && *seg != '/' && *seg != '?' && *seg != '#') {
      if (*seg == ':') return 0;
      seg++;
    }
  }
  if (!chars(&c, ":@/", iri)) return 0;
  if (take(&c, '?') && !chars(&c, ":@/?", iri)) return 0;
  if (take(&c, '#') && !chars(&c, ":@/?", iri)) return 0;
  return c.p == c.end;
}

/* RFC 6570: literals, and expressions "{" [operator] varspec *("," varspec) "}". */
static int uri_template(const char *s, size_t len) {
  cur_t c = {s, s + len};
  while (c.p < c.end) {
    unsigned char ch = (unsigned char)*c.p;
    if (ch == '}') return 0;
    if (ch != '{') {
      if (ch <= 0x20 || ch == 0x7f || strchr("\"<>\\^`|", ch)) return 0;
      if (ch == '%' && (c.end - c.p < 3 || !is_hex(c.p[1]) || !is_hex(c.p[2]))) return 0;
      c.p++;
      continue;
    }
    c.p++;
    if (c.p < c.end && strchr("+#./;?&=,!@|", *c.p)) c.p++;
    for (;;) {
      /* varname = varchar *( ["."] varchar ) */
      const char *name = c.p;
      while (c.p < c.end &&
             (is_alpha(*c.p) || is_digit(*c.p) || *c.p == '_' || *c.p == '.' || *c.p == '%')) {
        if (*c.p == '.' && (c.p == name || c.p[-1] == '.')) return 0;
        c.p++;
      }
      if (c.p == name || c.p[-1] == '.') return 0;
      if (take(&c, ':')) {
        if (c.p >= c.end || *c.p < '1' || *c.p > '9') return 0;
        for (int n = 0; c.p < c.end && is_digit(*c.p); n++, c.p++)
          if (n >= 4) return 0;
      } else {
        take(&c, '*');
      }
      if (take(&c, '}')) break;
      if (!take(&c, ',')) return 0;
    }
  }
  return 1;
}

/* ---- pointers ---- */

static int json_pointer(const char *s, size_t len) {
  if (len && s[0] != '/') return 0;
  for (size_t i = 0; i < len; i++)
    if (s[i] == '~' && (i + 1 >= len || (s[i + 1] != '0' && s[i + 1] != '1'))) return 0;
  return 1;
}

static int relative_json_pointer(const char *s, size_t len) {
  size_t i = 0;
  while (i < len && is_digit(s[i])) i++;
  if (i == 0 || (i > 1 && s[0] == '0')) return 0;
  /* An index adjustment: "+N" or "-N" after the prefix. */
  if (i < len && (s[i] == '+' || s[i] == '-')) {
    size_t k = ++i;
    while (i < len && is_digit(s[i])) i++;
    if (i == k || (i - k > 1 && s[k] == '0')) return 0;
  }
  if (i < len && s[i] == '#') return i + 1 == len;
  return json_pointer(s + i, len - i);
}

/* ---- dispatch ---- */

static const struct {
  const char *name;
  sg__format_t f;
} names[] = {
    {"date-time", SG__F_DATE_TIME},
    {"date", SG__F_DATE},
    {"time", SG__F_TIME},
    {"duration", SG__F_DURATION},
    {"email", SG__F_EMAIL},
    {"idn-email", SG__F_IDN_EMAIL},
    {"hostname", SG__F_HOSTNAME},
    {"idn-hostname", SG__F_IDN_HOSTNAME},
    {"ipv4", SG__F_IPV4},
    {"ipv6", SG__F_IPV6},
    {"uri", SG__F_URI},
    {"uri-reference", SG__F_URI_REFERENCE},
    {"iri", SG__F_IRI},
    {"iri-reference", SG__F_IRI_REFERENCE},
    {"uri-template", SG__F_URI_TEMPLATE},
    {"uuid", SG__F_UUID},
    {"regex", SG__F_REGEX},
    {"json-pointer", SG__F_JSON_POINTER},
    {"relative-json-pointer", SG__F_RELATIVE_JSON_POINTER},
};

sg__format_t sg__format_lookup(const char *name) {
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(name, names[i].name) == 0) return names[i].f;
  return SG__F_UNKNOWN;
}

int sg__format_check(sg__format_t f, const char *s, size_t len) {
  cur_t c = {s, s + len};
  switch (f) {
    case SG__F_DATE_TIME:
      return check_date_time(&c);
    case SG__F_DATE:
      return check_date(&c);
    case SG__F_TIME:
      return check_time(&c);
    case SG__F_DURATION:
      return check_duration(&c);
    case SG__F_EMAIL:
      return email(s, len, 0);
    case SG__F_IDN_EMAIL:
      return email(s, len, 1);
    case SG__F_HOSTNAME:
      return hostname(s, len, 0);
    case SG__F_IDN_HOSTNAME:
      return hostname(s, len, 1);
    case SG__F_IPV4:
      return ipv4(s, len);
    case SG__F_IPV6:
      return ipv6(s, len);
    case SG__F_URI:
      return uri(s, len, 0, 0);
    case SG__F_URI_REFERENCE:
      return uri(s, len, 1, 0);
    case SG__F_IRI:
      return uri(s, len, 0, 1);
    case SG__F_IRI_REFERENCE:
      return uri(s, len, 1, 1);
    case SG__F_URI_TEMPLATE:
      return uri_template(s, len);
    case SG__F_UUID:
      return uuid(s, len);
    case SG__F_REGEX: {
      pcre2_code *re = NULL;
      char why[8];
      int ok = sg__regex_strict(s, len) && sg__regex_compile(s, len, &re, why, sizeof why) == 0;
      pcre2_code_free(re);
      return ok;
    }
    case SG__F_JSON_POINTER:
      return json_pointer(s, len);
    case SG__F_RELATIVE_JSON_POINTER:
      return relative_json_pointer(s, len);
    default:
      return 1;
  }
}
