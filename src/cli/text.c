/*
 * Text from the database, made safe for a terminal or JSON; aligned tables; the CLI's
 * defaults (see text.h).
 */
#include "cli/text.h"

#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Length of the valid UTF-8 sequence at p (1..4) and its code point, or 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, uint32_t *cp) {
  if (p[0] < 0x80) {
    *cp = p[0];
    return 1;
  }
  size_t len;
  uint32_t c, min;
  if ((p[0] & 0xE0) == 0xC0) {
    len = 2, c = p[0] & 0x1F, min = 0x80;
  } else if ((p[0] & 0xF0) == 0xE0) {
    len = 3, c = p[0] & 0x0F, min = 0x800;
  } else if ((p[0] & 0xF8) == 0xF0) {
    len = 4, c = p[0] & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  for (size_t i = 1; i < len; i++) {
    if ((p[i] & 0xC0) != 0x80) return 0; /* also stops at the NUL */
    c = (c << 6) | (p[i] & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  *cp = c;
  return len;
}

char *sg__cli_clean(const char *s, int table, size_t *width) {
  if (s == NULL) s = table ? "-" : "";
  size_t n = strlen(s), w = 0, o = 0;
  char *out = malloc(n * 3 + 1);
  if (out == NULL) return NULL;
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    uint32_t cp;
    size_t len = utf8_seq(p, &cp);
    if (len == 0) {
      memcpy(out + o, "\xEF\xBF\xBD", 3);
      o += 3;
      p++;
    } else if (table && (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))) {
      out[o++] = '?';
      p += len;
    } else {
      memcpy(out + o, p, len);
      o += len;
      p += len;
    }
    w++;
  }
  out[o] = '\0';
  if (width) *width = w;
  return out;
}

int sg__cli_json_set_str(json_t *obj, const char *key, const char *s) {
  json_t *v;
  if (s == NULL) {
    v = json_null();
  } else if ((v = json_string(s)) == NULL) {
    char *c = sg__cli_clean(s, 0, NULL); /* not valid UTF-8 */
    v = c ? json_string(c) : NULL;
    free(c);
  }
  return v ? json_object_set_new(obj, key, v) : -1;
}

int sg__cli_json_line(json_t *obj) {
  char *text = obj ? json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
  json_decref(obj);
  if (text == NULL) return -1;
  puts(text);
  free(text);
  return 0;
}

const char *sg__cli_db(const char *given) {
  if (given) return given;
  const char *env = getenv("SCOPEGATE_DB");
  return env && env[0] ? env : SG_CLI_DEFAULT_DB;
}

void sg__cli_local_actor(char *out, size_t len) {
  const char *user = getenv("USER");
  struct passwd *pw;
  if ((user == NULL || user[0] == '\0') && (pw = getpwuid(getuid())) != NULL) user = pw->pw_name;
  if (user && user[0])
    snprintf(out, len, "local:%s", user);
  else
    snprintf(out, len, "local:uid-%lu", (unsigned long)getuid());
}

void sg__cli_table_init(sg__cli_table_t *t, int ncols, const char *const *headers) {
  memset(t, 0, sizeof *t);
  t->ncols = ncols < SG_CLI_TABLE_MAX_COLS ? ncols : SG_CLI_TABLE_MAX_COLS;
  t->headers = headers;
  for (int c = 0; c < t->ncols; c++) t->colw[c] = strlen(headers[c]);
}

void sg__cli_table_add(sg__cli_table_t *t, const char *const *cells) {
  if (t->failed) return;
  if (t->nrows == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 32;
    char **nc = realloc(t->cells, cap * (size_t)t->ncols * sizeof *nc);
    if (nc) t->cells = nc;
    size_t *nw = nc ? realloc(t->widths, cap * (size_t)t->ncols * sizeof *nw) : NULL;
    if (nw) t->widths = nw;
    if (nc == NULL || nw == NULL) {
      t->failed = 1;
      return;
    }
    t->cap = cap;
  }
  char **row = t->cells + t->nrows * (size_t)t->ncols;
  size_t *w = t->widths + t->nrows * (size_t)t->ncols;
  for (int c = 0; c < t->ncols; c++) {
    if ((row[c] = sg__cli_clean(cells[c], 1, &w[c])) == NULL) {
      while (c-- > 0) free(row[c]);
      t->failed = 1;
      return;
    }
    if (w[c] > t->colw[c]) t->colw[c] = w[c];
  }
  t->nrows++;
}

/* Pads each cell to its column's width, with no spaces at the end of a line. */
static void print_line(const sg__cli_table_t *t, const char *const *cells, const size_t *widths,
                       FILE *out) {
  size_t pad = 0;
  for (int c = 0; c < t->ncols; c++) {
    if (cells[c][0] != '\0') {
      for (; pad > 0; pad--) fputc(' ', out);
      fputs(cells[c], out);
    }
    pad += t->colw[c] + 2 - widths[c];
  }
  fputc('\n', out);
}

void sg__cli_table_print(const sg__cli_table_t *t, FILE *out) {
  size_t hw[SG_CLI_TABLE_MAX_COLS];
  for (int c = 0; c < t->ncols; c++) hw[c] = strlen(t->headers[c]);
  print_line(t, t->headers, hw, out);
  for (size_t r = 0; r < t->nrows; r++)
    print_line(t, (const char *const *)(t->cells + r * (size_t)t->ncols),
               t->widths + r * (size_t)t->ncols, out);
}

void sg__cli_table_free(sg__cli_table_t *t) {
  for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++) free(t->cells[i]);
  free(t->cells);
  free(t->widths);
  memset(t, 0, sizeof *t);
}
