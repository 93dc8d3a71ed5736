/*
 * scopegate stats: what the audit says about the matrix and its users, for a periodic
 * review of least privilege.
 *
 *   unused grants   per role, each granted tool or prompt that no call of that role was
 *                   allowed to use in the last window: a candidate for removal
 *   denial rates    subjects whose share of refused calls rose in the last window over
 *                   the window before, among those with at least --min-calls calls in
 *                   the last window: a client probing its scope, or one whose task
 *                   changed
 *
 * Only decisions of the policy count as refusals; a call refused because the operator
 * switched writes off or because a downstream was unavailable, drifted or could not be
 * audited says nothing about the caller. The audit is read through the store's export
 * (every row once, read-only); the catalog gives the grants.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/catalog.h"
#include "cli/commands.h"
#include "cli/text.h"
#include "core/error.h"
#include "store/store.h"

#define DEFAULT_WINDOW_HOURS 24.0
#define DEFAULT_MIN_CALLS 5

static int usage(FILE *out) {
  fprintf(out,
          "usage: scopegate stats [--db FILE] [--catalog DIR] [--window HOURS] [--until TIME]\n"
          "                       [--min-calls N] [--json]\n"
          "\n"
          "Reports, from the audit log and the catalog:\n"
          "  grants no call of their role was allowed to use in the window (candidates for\n"
          "  removal), and subjects whose share of refused calls rose in the window over the\n"
          "  window before it.\n"
          "\n"
          "  --db FILE       the database (default: $SCOPEGATE_DB, else %s)\n"
          "  --catalog DIR   the catalog whose grants are checked (default: $SCOPEGATE_CATALOG,\n"
          "                  else catalog)\n"
          "  --window HOURS  the window, in hours; fractions allowed (default 24)\n"
          "  --until TIME    where the window ends, as UTC YYYY-MM-DDTHH:MM:SS[.ffffff]Z\n"
          "                  (default: now)\n"
          "  --min-calls N   report a subject's denial rate only with at least N calls in the\n"
          "                  window (default %d)\n"
          "  --json          one JSON object per finding\n",
          SG_CLI_DEFAULT_DB, DEFAULT_MIN_CALLS);
  return out == stdout ? 0 : 2;
}

/* Refusals that are not the caller's doing. */
static int counts_as_refusal(const char *reason) {
  static const char *const not_policy[] = {"writes_disabled", "downstream_unavailable",
                                           "tool_drift", "audit_unavailable", NULL};
  for (const char *const *r = not_policy; *r; r++)
    if (reason && strcmp(reason, *r) == 0) return 0;
  return 1;
}

typedef struct {
  /* The window is [since, until), the one before it [before, since). */
  char before[32], since[32], until[32];
  json_t *used;     /* "role\ttool" -> last allowed time (any time) */
  json_t *subjects; /* subject -> [calls before, refused before, calls, refused, {reason: n}] */
  int failed;
} scan_t;

static void count(scan_t *s, const char *subject, int window, int refused, const char *reason) {
  json_t *e = json_object_get(s->subjects, subject);
  if (e == NULL) {
    e = json_pack("[i,i,i,i,{}]", 0, 0, 0, 0);
    if (e == NULL || json_object_set_new(s->subjects, subject, e) != 0) {
      s->failed = 1;
      return;
    }
  }
  json_t *calls = json_array_get(e, window ? 2 : 0), *ref = json_array_get(e, window ? 3 : 1);
  json_integer_set(calls, json_integer_value(calls) + 1);
  if (!refused) return;
  json_integer_set(ref, json_integer_value(ref) + 1);
  if (window) {
    json_t *reasons = json_array_get(e, 4);
    json_t *n = json_object_get(reasons, reason);
    if (n)
      json_integer_set(n, json_integer_value(n) + 1);
    else if (json_object_set_new(reasons, reason, json_integer(1)) != 0)
      s->failed = 1;
  }
}

static void on_event(const sg_audit_event_t *ev, void *arg) {
  scan_t *s = arg;
  if (ev->event == NULL || strcmp(ev->event, "decision") != 0 || ev->ts == NULL ||
      ev->decision == NULL)
    return;
  int allowed = strcmp(ev->decision, "allow") == 0;
  if (strcmp(ev->ts, s->until) >= 0) return; /* after the window: not counted at all */
  if (allowed && ev->role && ev->tool) {
    /* The time of the last allowed call, whenever it was. */
    size_t n = strlen(ev->role) + strlen(ev->tool) + 2;
    char *key = malloc(n);
    if (key == NULL) {
      s->failed = 1;
      return;
    }
    snprintf(key, n, "%s\t%s", ev->role, ev->tool);
    if (json_object_set_new(s->used, key, json_string(ev->ts)) != 0) s->failed = 1;
    free(key);
  }
  if (strcmp(ev->ts, s->before) < 0) return;
  int window = strcmp(ev->ts, s->since) >= 0;
  int refused = !allowed && counts_as_refusal(ev->reason);
  count(s, ev->subject ? ev->subject : "-", window, refused, ev->reason ? ev->reason : "-");
}

typedef struct {
  const char *role, *tool, *access, *last; /* last: NULL when never */
} unused_t;

static const char *last_allowed(const scan_t *s, const char *role, const char *tool) {
  char key[600];
  snprintf(key, sizeof key, "%s\t%s", role, tool);
  return json_string_value(json_object_get(s->used, key));
}

/* Microseconds since the epoch of "YYYY-MM-DDTHH:MM:SS[.f...]Z", or -1. */
static int64_t parse_utc(const char *v) {
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  int n = 0;
  if (sscanf(v, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
             &tm.tm_min, &tm.tm_sec, &n) != 6 ||
      n != 19)
    return -1;
  const char *p = v + n;
  int64_t us = 0, scale = 100000;
  if (*p == '.') {
    for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
      if (scale > 0) us += (*p - '0') * scale;
  }
  if (strcmp(p, "Z") != 0 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
      tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return (int64_t)timegm(&tm) * 1000000 + us;
}

/* A time in the store's format, "YYYY-MM-DDTHH:MM:SS.uuuuuuZ". */
static void format_utc(int64_t us, char out[32]) {
  time_t t = (time_t)(us / 1000000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char date[24];
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, 32, "%.19s.%06uZ", date, (unsigned)(((us % 1000000) + 1000000) % 1000000));
}

static int json_out(json_t *o) {
  return sg__cli_json_line(o);
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static double ratio(json_int_t part, json_int_t whole) {
  return whole > 0 ? (double)part / (double)whole : 0.0;
}

int sg_cli_stats(int argc, char **argv) {
  const char *db = NULL, *catalog_dir = NULL, *window_arg = NULL, *min_arg = NULL,
             *until_arg = NULL;
  int json = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char **slot = strcmp(a, "--db") == 0          ? &db
                        : strcmp(a, "--catalog") == 0   ? &catalog_dir
                        : strcmp(a, "--window") == 0    ? &window_arg
                        : strcmp(a, "--min-calls") == 0 ? &min_arg
                        : strcmp(a, "--until") == 0     ? &until_arg
                                                        : NULL;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) return usage(stdout);
    if (slot) {
      if (++i == argc || argv[i][0] == '\0') {
        fprintf(stderr, "scopegate stats: %s needs a value\n", a);
        return usage(stderr);
      }
      *slot = argv[i];
    } else if (strcmp(a, "--json") == 0) {
      json = 1;
    } else {
      fprintf(stderr, "scopegate stats: unknown argument '%s'\n", a);
      return usage(stderr);
    }
  }
  double hours = DEFAULT_WINDOW_HOURS;
  long min_calls = DEFAULT_MIN_CALLS;
  char *end;
  if (window_arg) {
    hours = strtod(window_arg, &end);
    if (*end || !isfinite(hours) || hours <= 0 || hours > 24.0 * 366 * 10) {
      fprintf(stderr,
              "scopegate stats: --window takes a number of hours above 0 (up to ten "
              "years)\n");
      return 2;
    }
  }
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  int64_t until_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
  if (until_arg && (until_us = parse_utc(until_arg)) < 0) {
    fprintf(stderr, "scopegate stats: --until takes a UTC time, YYYY-MM-DDTHH:MM:SS[.ffffff]Z\n");
    return 2;
  }
  if (min_arg) {
    min_calls = strtol(min_arg, &end, 10);
    if (*end || min_calls < 1 || min_calls > 1000000000) {
      fprintf(stderr, "scopegate stats: --min-calls takes a number from 1\n");
      return 2;
    }
  }
  db = sg__cli_db(db);
  if (catalog_dir == NULL) catalog_dir = getenv("SCOPEGATE_CATALOG");
  if (catalog_dir == NULL || *catalog_dir == '\0') catalog_dir = "catalog";

  sg_catalog_t *cat = NULL;
  sg_buf_t errors;
  sg_buf_init(&errors);
  if (sg_catalog_load(catalog_dir, &cat, &errors) != 0) {
    fprintf(stderr, "scopegate stats: catalog %s is invalid:\n%s", catalog_dir,
            errors.data ? errors.data : "");
    sg_buf_free(&errors);
    return 1;
  }
  sg_buf_free(&errors);
  char err[512];
  sg_store_t *st = NULL;
  if (sg_store_open_readonly(db, &st, err, sizeof err) != 0) {
    fprintf(stderr, "scopegate stats: %s\n", err);
    sg_catalog_unref(cat);
    return 1;
  }

  int64_t window_us = (int64_t)llround(hours * 3600.0 * 1e6);
  scan_t s = {.used = json_object(), .subjects = json_object()};
  format_utc(until_us, s.until);
  format_utc(until_us - window_us, s.since);
  format_utc(until_us - 2 * window_us, s.before);
  int status = 0;
  if (s.used == NULL || s.subjects == NULL) {
    s.failed = 1;
  } else if (sg_store_audit_export(st, 0, on_event, &s) != 0) {
    fprintf(stderr, "scopegate stats: %s\n", sg_store_errmsg(st));
    status = 1;
    goto done;
  }
  if (s.failed) {
    fprintf(stderr, "scopegate stats: %s\n", sg_strerror(SG_ENOMEM));
    status = 1;
    goto done;
  }

  /* Unused grants, by role and name. A grant counts as used when a call of its role was
   * allowed in the window. */
  static const char *const unused_headers[] = {"ROLE", "GRANT", "ACCESS", "LAST ALLOWED"};
  sg__cli_table_t unused;
  sg__cli_table_init(&unused, 4, unused_headers);
  size_t nunused = 0;
  for (size_t r = 0; r < cat->nroles; r++) {
    const sg_role_t *role = &cat->roles[r];
    size_t n = role->ngrants + role->nprompts;
    for (size_t g = 0; g < n; g++) {
      char label[300];
      const char *access;
      if (g < role->ngrants) {
        const sg_tool_t *t = role->grants[g].tool;
        snprintf(label, sizeof label, "%s", t->name);
        access = t->access == SG_ACCESS_WRITE ? "write" : "read";
      } else {
        snprintf(label, sizeof label, "prompt:%s", role->prompts[g - role->ngrants]->name);
        access = "prompt";
      }
      const char *last = last_allowed(&s, role->name, label);
      if (last && strcmp(last, s.since) >= 0) continue;
      nunused++;
      if (json) {
        if (json_out(json_pack("{s:s, s:s, s:s, s:s, s:s?, s:f}", "kind", "unused_grant", "role",
                               role->name, "grant", label, "access", access, "last_allowed", last,
                               "window_hours", hours)) != 0)
          status = 1;
      } else {
        const char *cells[4] = {role->name, label, access, last ? last : "never"};
        sg__cli_table_add(&unused, cells);
      }
    }
  }

  /* Subjects whose refusal rate rose, in name order (jansson objects are unordered). */
  static const char *const rate_headers[] = {"SUBJECT", "CALLS",  "REFUSED",
                                             "RATE",    "BEFORE", "TOP REASON"};
  sg__cli_table_t rates;
  sg__cli_table_init(&rates, 6, rate_headers);
  size_t nsubjects = json_object_size(s.subjects), nrose = 0;
  const char **names = calloc(nsubjects ? nsubjects : 1, sizeof *names);
  if (names == NULL) {
    s.failed = 1;
    nsubjects = 0;
  }
  size_t k = 0;
  const char *name;
  json_t *e;
  if (names) {
    json_object_foreach(s.subjects, name, e) names[k++] = name;
  }
  qsort(names, nsubjects, sizeof *names, by_name);
  for (size_t i = 0; i < nsubjects; i++) {
    e = json_object_get(s.subjects, names[i]);
    json_int_t calls0 = json_integer_value(json_array_get(e, 0)),
               ref0 = json_integer_value(json_array_get(e, 1)),
               calls1 = json_integer_value(json_array_get(e, 2)),
               ref1 = json_integer_value(json_array_get(e, 3));
    double rate0 = ratio(ref0, calls0), rate1 = ratio(ref1, calls1);
    if (calls1 < min_calls || rate1 <= rate0) continue;
    /* The most frequent reason of the window (the first by name among equals). */
    const char *top = NULL, *reason;
    json_int_t best = 0;
    json_t *nv;
    json_object_foreach(json_array_get(e, 4), reason, nv) {
      json_int_t c = json_integer_value(nv);
      if (c > best || (c == best && top && strcmp(reason, top) < 0)) {
        best = c;
        top = reason;
      }
    }
    nrose++;
    if (json) {
      if (json_out(json_pack(
              "{s:s, s:s, s:I, s:I, s:f, s:I, s:I, s:f, s:s?, s:f}", "kind", "denial_rate_rose",
              "subject", names[i], "calls", (json_int_t)calls1, "refused", (json_int_t)ref1, "rate",
              rate1, "previous_calls", (json_int_t)calls0, "previous_refused", (json_int_t)ref0,
              "previous_rate", rate0, "top_reason", top, "window_hours", hours)) != 0)
        status = 1;
    } else {
      char c1[24], r1[24], p1[24], before[64];
      snprintf(c1, sizeof c1, "%lld", (long long)calls1);
      snprintf(r1, sizeof r1, "%lld", (long long)ref1);
      snprintf(p1, sizeof p1, "%.0f%%", rate1 * 100);
      if (calls0)
        snprintf(before, sizeof before, "%.0f%% of %lld", rate0 * 100, (long long)calls0);
      else
        snprintf(before, sizeof before, "no calls");
      const char *cells[6] = {names[i], c1, r1, p1, before, top};
      sg__cli_table_add(&rates, cells);
    }
  }
  free(names);

  if (!json) {
    printf("Window: %g h, from %.19sZ to %.19sZ, against the %g h before.\n\n", hours, s.since,
           s.until, hours);
    if (nunused) {
      printf(
          "Grants no call of their role was allowed to use in the window (candidates for "
          "removal):\n");
      sg__cli_table_print(&unused, stdout);
    } else {
      printf("Every grant was used in the window.\n");
    }
    printf("\n");
    if (nrose) {
      printf("Subjects whose share of refused calls rose (at least %ld calls in the window):\n",
             min_calls);
      sg__cli_table_print(&rates, stdout);
    } else {
      printf(
          "No subject with at least %ld calls in the window was refused more often than "
          "before.\n",
          min_calls);
    }
  }
  if (s.failed || unused.failed || rates.failed) {
    fprintf(stderr, "scopegate stats: %s\n", sg_strerror(SG_ENOMEM));
    status = 1;
  }
  sg__cli_table_free(&unused);
  sg__cli_table_free(&rates);
done:
  json_decref(s.used);
  json_decref(s.subjects);
  sg_store_close(st);
  sg_catalog_unref(cat);
  return status;
}
