/*
 * scopegate audit: reads the audit log. "audit tail" prints the last calls, each decision
 * joined with its outcome, as a table for people or as JSON lines for programs. It opens
 * the database read-only, so it never creates one and never blocks the gateway writing
 * it. The log holds text that clients chose (tool names, error details), so neither form
 * may drive a terminal: the table replaces control characters, JSON escapes everything
 * beyond ASCII, and both replace invalid UTF-8.
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/error.h"
#include "store/store.h"

#define DEFAULT_DB "var/scopegate.db"
#define DEFAULT_LINES 20
#define MAX_LINES 1000000

static int usage(FILE *out) {
  fprintf(out,
          "usage: scopegate audit tail [-n N] [--db FILE] [--json]\n"
          "\n"
          "Prints the last N calls in the audit log, oldest first, each decision with its\n"
          "outcome.\n"
          "\n"
          "  -n N        number of calls (1..%d, default %d)\n"
          "  --db FILE   the database (default: $SCOPEGATE_DB, else %s)\n"
          "  --json      one JSON object per line instead of a table\n",
          MAX_LINES, DEFAULT_LINES, DEFAULT_DB);
  return out == stdout ? 0 : 2;
}

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

/* A copy of s (NULL gives "-" in a table) that is valid UTF-8: invalid bytes become
 * U+FFFD, and for a table control characters (C0, DEL, C1) become '?'. *width receives
 * the number of characters. Returns NULL when out of memory. */
static char *clean(const char *s, int table, size_t *width) {
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

/* ---- table ---------------------------------------------------------------------- */

enum {
  C_TIME,
  C_SUBJECT,
  C_ROLE,
  C_TENANT,
  C_ENV,
  C_TOOL,
  C_DECISION,
  C_REASON,
  C_OUTCOME,
  C_MS,
  C_ARGS,
  C_DETAIL,
  NCOLS
};

static const char *const headers[NCOLS] = {"TIME (UTC)", "SUBJECT", "ROLE",     "TENANT",
                                           "ENV",        "TOOL",    "DECISION", "REASON",
                                           "OUTCOME",    "MS",      "ARGS",     "DETAIL"};

typedef struct {
  char *cell[NCOLS];
  size_t width[NCOLS];
} line_t;

typedef struct {
  line_t *lines;
  size_t n, cap;
  size_t width[NCOLS];
  int failed; /* out of memory */
} table_t;

static void table_row(const sg_audit_row_t *row, void *arg) {
  table_t *t = arg;
  char when[32], ms[32], args[16], outcome[160], detail[SG_AUDIT_DETAIL_MAX * 2 + 8];
  if (t->failed) return;
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 64;
    line_t *lines = realloc(t->lines, cap * sizeof *lines);
    if (lines == NULL) {
      t->failed = 1;
      return;
    }
    t->lines = lines;
    t->cap = cap;
  }

  /* 2026-01-02T03:04:05.678901Z shows as 2026-01-02 03:04:05.678 */
  const char *ts = row->ts ? row->ts : "";
  if (strlen(ts) >= 23)
    snprintf(when, sizeof when, "%.10s %.12s", ts, ts + 11);
  else
    snprintf(when, sizeof when, "%s", ts[0] ? ts : "-");
  if (row->latency_us >= 0)
    snprintf(ms, sizeof ms, "%.3f", (double)row->latency_us / 1000.0);
  else
    snprintf(ms, sizeof ms, "-");
  snprintf(args, sizeof args, "%.12s", row->args_hash ? row->args_hash : "-");
  if (row->outcome && row->outcome_reason && strcmp(row->outcome_reason, "ok") != 0 &&
      strcmp(row->outcome_reason, row->outcome) != 0)
    snprintf(outcome, sizeof outcome, "%s (%.120s)", row->outcome, row->outcome_reason);
  else
    snprintf(outcome, sizeof outcome, "%s", row->outcome ? row->outcome : "-");
  if (row->detail && row->outcome_detail)
    snprintf(detail, sizeof detail, "%s; %s", row->detail, row->outcome_detail);
  else if (row->detail || row->outcome_detail)
    snprintf(detail, sizeof detail, "%s", row->detail ? row->detail : row->outcome_detail);
  else
    detail[0] = '\0';

  const char *src[NCOLS] = {when,     row->subject, row->role,     row->tenant,
                            row->env, row->tool,
                            row->decision ? row->decision : row->event, row->reason,
                            outcome,  ms,           args,          detail};
  line_t *l = &t->lines[t->n];
  memset(l, 0, sizeof *l);
  for (int c = 0; c < NCOLS; c++) {
    l->cell[c] = clean(src[c], 1, &l->width[c]);
    if (l->cell[c] == NULL) {
      for (int k = 0; k < c; k++) free(l->cell[k]);
      t->failed = 1;
      return;
    }
    if (l->width[c] > t->width[c]) t->width[c] = l->width[c];
  }
  t->n++;
}

/* Pads each cell to its column's width, with no spaces at the end of a line. */
static void print_line(const char *const *cells, const size_t *widths, const size_t *col) {
  size_t pad = 0;
  for (int c = 0; c < NCOLS; c++) {
    if (cells[c][0] != '\0') {
      for (; pad > 0; pad--) putchar(' ');
      fputs(cells[c], stdout);
    }
    pad += col[c] + 2 - widths[c];
  }
  putchar('\n');
}

static void table_print(table_t *t) {
  size_t hw[NCOLS];
  for (int c = 0; c < NCOLS; c++) {
    hw[c] = strlen(headers[c]);
    if (hw[c] > t->width[c]) t->width[c] = hw[c];
  }
  print_line(headers, hw, t->width);
  for (size_t i = 0; i < t->n; i++)
    print_line((const char *const *)t->lines[i].cell, t->lines[i].width, t->width);
}

static void table_free(table_t *t) {
  for (size_t i = 0; i < t->n; i++)
    for (int c = 0; c < NCOLS; c++) free(t->lines[i].cell[c]);
  free(t->lines);
}

/* ---- JSON lines ----------------------------------------------------------------- */

typedef struct {
  size_t n;
  int failed;
} json_out_t;

/* Sets key to s, or to null when s is NULL. Returns -1 when out of memory. */
static int set_str(json_t *obj, const char *key, const char *s) {
  json_t *v;
  if (s == NULL) {
    v = json_null();
  } else if ((v = json_string(s)) == NULL) {
    char *c = clean(s, 0, NULL); /* not valid UTF-8 */
    v = c ? json_string(c) : NULL;
    free(c);
  }
  return v ? json_object_set_new(obj, key, v) : -1;
}

static void json_row(const sg_audit_row_t *row, void *arg) {
  json_out_t *out = arg;
  json_t *o = json_object();
  int rc = o ? 0 : -1;
  if (rc == 0) rc = json_object_set_new(o, "seq", json_integer(row->seq));
  const struct {
    const char *key, *val;
  } fields[] = {
      {"ts", row->ts},
      {"call_id", row->call_id},
      {"subject", row->subject},
      {"role", row->role},
      {"tenant", row->tenant},
      {"env", row->env},
      {"tool", row->tool},
      {"args_hash", row->args_hash},
      {"event", row->event},
      {"decision", row->decision},
      {"reason", row->reason},
      {"detail", row->detail},
      {"outcome", row->outcome},
      {"outcome_reason", row->outcome_reason},
      {"outcome_detail", row->outcome_detail},
  };
  for (size_t i = 0; rc == 0 && i < sizeof fields / sizeof fields[0]; i++)
    rc = set_str(o, fields[i].key, fields[i].val);
  if (rc == 0)
    rc = json_object_set_new(o, "latency_us",
                             row->latency_us >= 0 ? json_integer(row->latency_us) : json_null());
  char *text = rc == 0 ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
  json_decref(o);
  if (text == NULL) {
    out->failed = 1;
    return;
  }
  puts(text);
  free(text);
  out->n++;
}

/* ---- commands ------------------------------------------------------------------- */

static int parse_lines(const char *s, int *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 1 || v > MAX_LINES) return -1;
  *out = (int)v;
  return 0;
}

static int tail(int argc, char **argv) {
  const char *db = getenv("SCOPEGATE_DB");
  int lines = DEFAULT_LINES, json = 0;

  if (db == NULL || db[0] == '\0') db = DEFAULT_DB;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *nval = NULL;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) return usage(stdout);
    if (strcmp(a, "--json") == 0) {
      json = 1;
    } else if (strcmp(a, "--db") == 0) {
      if (++i == argc) {
        fprintf(stderr, "scopegate audit tail: --db needs a file\n");
        return usage(stderr);
      }
      db = argv[i];
    } else if (strncmp(a, "--db=", 5) == 0) {
      db = a + 5;
    } else if (strcmp(a, "-n") == 0) {
      if (++i == argc) {
        fprintf(stderr, "scopegate audit tail: -n needs a number\n");
        return usage(stderr);
      }
      nval = argv[i];
    } else if (strncmp(a, "-n", 2) == 0) {
      nval = a + 2;
    } else {
      fprintf(stderr, "scopegate audit tail: unknown argument '%s'\n", a);
      return usage(stderr);
    }
    if (nval && parse_lines(nval, &lines) != 0) {
      fprintf(stderr, "scopegate audit tail: -n wants a number from 1 to %d, not '%s'\n", MAX_LINES,
              nval);
      return 2;
    }
  }
  if (db[0] == '\0') {
    fprintf(stderr, "scopegate audit tail: --db needs a file\n");
    return 2;
  }

  char err[512];
  sg_store_t *st = NULL;
  if (sg_store_open_readonly(db, &st, err, sizeof err) != 0) {
    fprintf(stderr, "scopegate audit: %s\n", err);
    return 1;
  }

  int rc, status = 0;
  if (json) {
    json_out_t out = {0};
    rc = sg_store_audit_tail(st, lines, json_row, &out);
    if (out.failed) status = 1;
  } else {
    table_t t = {0};
    rc = sg_store_audit_tail(st, lines, table_row, &t);
    if (t.failed) {
      status = 1;
    } else if (rc == 0 && t.n == 0) {
      fprintf(stderr, "scopegate audit: no calls recorded in '%s'\n", db);
    } else if (rc == 0) {
      table_print(&t);
    }
    table_free(&t);
  }
  if (rc != 0) {
    fprintf(stderr, "scopegate audit: %s\n", sg_store_errmsg(st));
    status = 1;
  } else if (status != 0) {
    fprintf(stderr, "scopegate audit: %s\n", sg_strerror(SG_ENOMEM));
  }
  sg_store_close(st);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "scopegate audit: cannot write the output: %s\n", strerror(errno));
    status = 1;
  }
  return status;
}

int sg_cli_audit(int argc, char **argv) {
  if (argc < 2) return usage(stderr);
  if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)
    return usage(stdout);
  if (strcmp(argv[1], "tail") == 0) return tail(argc - 1, argv + 1);
  fprintf(stderr, "scopegate audit: unknown command '%s'\n", argv[1]);
  return usage(stderr);
}
