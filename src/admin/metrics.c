/*
 * In-memory Prometheus metrics. Each labelled series lives in one chained hash table
 * keyed by (family, label values); the call path hashes its labels, walks a short chain
 * and increments. Rendering sorts the series of each family by their labels, so the
 * same counts always print the same bytes.
 */
#include "admin/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define BUCKETS 1024
#define MAX_LABELS 3

typedef enum { F_CALLS, F_DENIALS, F_OUTCOMES, F_DURATION, NFAMILIES } family_t;

typedef struct {
  const char *name, *type, *help;
  int nlabels;
  const char *labels[MAX_LABELS];
  int histogram;
} family_def_t;

static const family_def_t families[NFAMILIES] = {
    [F_CALLS] = {"scopegate_calls_total",
                 "counter",
                 "Calls decided, by tool, decision (allow, deny) and reason code.",
                 3,
                 {"tool", "decision", "reason"},
                 0},
    [F_DENIALS] = {"scopegate_denials_total",
                   "counter",
                   "Calls refused, by the subject who made them and the reason code.",
                   2,
                   {"subject", "reason"},
                   0},
    [F_OUTCOMES] = {"scopegate_call_outcomes_total",
                    "counter",
                    "Allowed calls that ended, by tool and outcome.",
                    2,
                    {"tool", "outcome"},
                    0},
    [F_DURATION] = {"scopegate_call_duration_seconds",
                    "histogram",
                    "Time from an allowed call's decision to its outcome (including any wait "
                    "for approval), by tool.",
                    1,
                    {"tool"},
                    1},
};

/* Upper bounds in microseconds; +Inf follows. */
static const int64_t duration_bounds[] = {
    500,    1000,    2500,    5000,    10000,    25000,    50000,    100000,    250000,
    500000, 1000000, 2500000, 5000000, 10000000, 30000000, 60000000, 120000000, 300000000};
#define NDURATION (sizeof duration_bounds / sizeof duration_bounds[0])
static const int64_t wait_bounds[] = {1000000,   5000000,   10000000,  30000000,   60000000,
                                      120000000, 300000000, 600000000, 1800000000, 3600000000};
#define NWAIT (sizeof wait_bounds / sizeof wait_bounds[0])

typedef struct {
  uint64_t count;
  int64_t sum_us;
  uint64_t buckets[NDURATION + 1]; /* not cumulative; the last is +Inf */
} histogram_t;

typedef struct series {
  struct series *next; /* in its bucket */
  uint64_t hash;
  family_t family;
  char *labels[MAX_LABELS];
  uint64_t value;    /* counters */
  histogram_t *hist; /* histograms */
} series_t;

static struct {
  series_t *table[BUCKETS];
  size_t nseries;
  uint64_t dropped;
  int64_t pending;
  uint64_t wait_count;
  int64_t wait_sum_us;
  uint64_t wait_buckets[NWAIT + 1];
} m;

static uint64_t fnv(uint64_t h, const char *s) {
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ull;
  }
  h ^= 0xff; /* a separator no UTF-8 text contains */
  return h * 1099511628211ull;
}

/* A label value as stored: at most SG_METRICS_LABEL_MAX bytes, cut at a character
 * boundary. */
static size_t label_len(const char *s) {
  size_t n = strlen(s);
  if (n <= SG_METRICS_LABEL_MAX) return n;
  n = SG_METRICS_LABEL_MAX;
  while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) n--;
  return n;
}

static int label_eq(const char *stored, const char *given) {
  size_t n = label_len(given);
  return strncmp(stored, given, n) == 0 && stored[n] == '\0';
}

static void series_free(series_t *s) {
  for (int i = 0; i < MAX_LABELS; i++) free(s->labels[i]);
  free(s->hist);
  free(s);
}

/* The series of family with labels v, created on first use; the family's "_other"
 * series once the table is full. NULL only when memory runs out (the count is lost). */
static series_t *series_get(family_t f, const char *const *v) {
  static const char *const other[MAX_LABELS] = {"_other", "_other", "_other"};
  int n = families[f].nlabels;
  for (int pass = 0; pass < 2; pass++) {
    uint64_t h = 14695981039346656037ull ^ (uint64_t)f;
    for (int i = 0; i < n; i++) h = fnv(h, v[i]);
    for (series_t *s = m.table[h % BUCKETS]; s; s = s->next) {
      if (s->hash != h || s->family != f) continue;
      int same = 1;
      for (int i = 0; i < n && same; i++) same = label_eq(s->labels[i], v[i]);
      if (same) return s;
    }
    if (m.nseries >= SG_METRICS_MAX_SERIES && pass == 0) {
      m.dropped++;
      v = other;
      continue;
    }
    series_t *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    s->hash = h;
    s->family = f;
    for (int i = 0; i < n; i++) {
      size_t len = label_len(v[i]);
      if ((s->labels[i] = malloc(len + 1)) == NULL) {
        series_free(s);
        return NULL;
      }
      memcpy(s->labels[i], v[i], len);
      s->labels[i][len] = '\0';
    }
    if (families[f].histogram && (s->hist = calloc(1, sizeof *s->hist)) == NULL) {
      series_free(s);
      return NULL;
    }
    s->next = m.table[h % BUCKETS];
    m.table[h % BUCKETS] = s;
    m.nseries++;
    return s;
  }
  return NULL;
}

/* What a tool label may be: the audit's label, except that names the catalog does not
 * know (anything a client makes up) and resource URIs (one per document) would grow
 * without bound. */
static const char *tool_label(const char *tool, const char *reason) {
  if (tool == NULL || *tool == '\0') return "_none";
  if (reason && (strcmp(reason, "unknown_tool") == 0 || strcmp(reason, "unknown_prompt") == 0))
    return "_unknown";
  if (strncmp(tool, "resource:", 9) == 0) return "resource";
  return tool;
}

static const char *or_none(const char *s) {
  return s && *s ? s : "_none";
}

void sg_metrics_decision(const char *tool, const char *decision, const char *reason,
                         const char *subject) {
  const char *v[3] = {tool_label(tool, reason), or_none(decision), or_none(reason)};
  series_t *s = series_get(F_CALLS, v);
  if (s) s->value++;
  if (decision && strcmp(decision, "deny") == 0) {
    const char *d[2] = {or_none(subject), or_none(reason)};
    if ((s = series_get(F_DENIALS, d)) != NULL) s->value++;
  }
}

static size_t bucket_of(const int64_t *bounds, size_t n, int64_t us) {
  size_t i = 0;
  while (i < n && us > bounds[i]) i++;
  return i;
}

void sg_metrics_outcome(const char *tool, const char *outcome, int64_t latency_us) {
  const char *label = tool_label(tool, NULL);
  const char *v[2] = {label, or_none(outcome)};
  series_t *s = series_get(F_OUTCOMES, v);
  if (s) s->value++;
  if (latency_us < 0 || (s = series_get(F_DURATION, &label)) == NULL) return;
  s->hist->count++;
  s->hist->sum_us += latency_us;
  s->hist->buckets[bucket_of(duration_bounds, NDURATION, latency_us)]++;
}

void sg_metrics_approval_held(void) {
  m.pending++;
}

void sg_metrics_approval_settled(int64_t waited_us) {
  if (m.pending > 0) m.pending--;
  if (waited_us < 0) waited_us = 0;
  m.wait_count++;
  m.wait_sum_us += waited_us;
  m.wait_buckets[bucket_of(wait_bounds, NWAIT, waited_us)]++;
}

/* ---- rendering --------------------------------------------------------------------- */

/* Set when an append runs out of memory: the output is then incomplete. */
static int oom;
#define PUT(b, s) (oom |= sg_buf_append_str((b), (s)) != 0)
#define PUTN(b, s, n) (oom |= sg_buf_append((b), (s), (n)) != 0)
#define PUTF(b, ...) (oom |= sg_buf_printf((b), __VA_ARGS__) != 0)

/* A label value in the exposition format's quoting: backslash, double quote and line
 * feed escaped; other control characters, which the format allows but which no reader
 * wants, shown as '?'. */
static void put_value(sg_buf_t *b, const char *v) {
  PUT(b, "\"");
  for (const char *c = v; *c; c++) {
    if (*c == '\\')
      PUT(b, "\\\\");
    else if (*c == '"')
      PUT(b, "\\\"");
    else if (*c == '\n')
      PUT(b, "\\n");
    else if ((unsigned char)*c < 0x20 || *c == 0x7f)
      PUT(b, "?");
    else
      PUTN(b, c, 1);
  }
  PUT(b, "\"");
}

static void put_labels(sg_buf_t *b, const family_def_t *f, const series_t *s, const char *le) {
  if (f->nlabels == 0 && le == NULL) return;
  PUT(b, "{");
  for (int i = 0; i < f->nlabels; i++) {
    PUTF(b, "%s%s=", i ? "," : "", f->labels[i]);
    put_value(b, s->labels[i]);
  }
  if (le) {
    PUTF(b, "%sle=", f->nlabels ? "," : "");
    put_value(b, le);
  }
  PUT(b, "}");
}

/* Seconds from microseconds, as a Prometheus float: exact to the microsecond. */
static void put_seconds(char *out, size_t len, int64_t us) {
  snprintf(out, len, "%lld.%06lld", (long long)(us / 1000000), (long long)(us % 1000000));
}

static void put_histogram(sg_buf_t *b, const family_def_t *f, const series_t *s,
                          const int64_t *bounds, size_t nbounds, const uint64_t *buckets,
                          uint64_t count, int64_t sum_us) {
  uint64_t cum = 0;
  char le[32];
  for (size_t i = 0; i <= nbounds; i++) {
    cum += buckets[i];
    if (i < nbounds) {
      /* Bounds are whole or fractional seconds; print them without trailing zeros. */
      put_seconds(le, sizeof le, bounds[i]);
      char *end = le + strlen(le) - 1;
      while (*end == '0') *end-- = '\0';
      if (*end == '.') *end = '\0';
    } else {
      snprintf(le, sizeof le, "+Inf");
    }
    PUTF(b, "%s_bucket", f->name);
    put_labels(b, f, s, le);
    PUTF(b, " %llu\n", (unsigned long long)cum);
  }
  char sum[32];
  put_seconds(sum, sizeof sum, sum_us);
  PUTF(b, "%s_sum", f->name);
  put_labels(b, f, s, NULL);
  PUTF(b, " %s\n%s_count", sum, f->name);
  put_labels(b, f, s, NULL);
  PUTF(b, " %llu\n", (unsigned long long)count);
}

static int compare_series(const void *a, const void *b) {
  const series_t *x = *(series_t *const *)a, *y = *(series_t *const *)b;
  for (int i = 0; i < families[x->family].nlabels; i++) {
    int c = strcmp(x->labels[i], y->labels[i]);
    if (c) return c;
  }
  return 0;
}

static void put_header(sg_buf_t *b, const char *name, const char *type, const char *help) {
  /* Histograms are named without their suffixes in HELP and TYPE. */
  PUTF(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int sg_metrics_render(sg_buf_t *out) {
  series_t **all = malloc((m.nseries ? m.nseries : 1) * sizeof *all);
  if (all == NULL) return SG_ENOMEM;
  oom = 0;
  for (int f = 0; f < NFAMILIES; f++) {
    const family_def_t *def = &families[f];
    size_t n = 0;
    for (size_t i = 0; i < BUCKETS; i++)
      for (series_t *s = m.table[i]; s; s = s->next)
        if ((int)s->family == f) all[n++] = s;
    qsort(all, n, sizeof *all, compare_series);
    put_header(out, def->name, def->type, def->help);
    for (size_t i = 0; i < n; i++) {
      if (def->histogram) {
        put_histogram(out, def, all[i], duration_bounds, NDURATION, all[i]->hist->buckets,
                      all[i]->hist->count, all[i]->hist->sum_us);
      } else {
        PUT(out, def->name);
        put_labels(out, def, all[i], NULL);
        PUTF(out, " %llu\n", (unsigned long long)all[i]->value);
      }
    }
  }
  free(all);

  static const family_def_t wait = {"scopegate_approval_wait_seconds",
                                    "histogram",
                                    "How long calls held for approval waited until they "
                                    "were approved, denied, expired or withdrawn.",
                                    0,
                                    {NULL},
                                    1};
  put_header(out, "scopegate_approvals_pending", "gauge",
             "Calls this gateway holds while they wait for a person's approval.");
  PUTF(out, "scopegate_approvals_pending %lld\n", (long long)m.pending);
  put_header(out, wait.name, wait.type, wait.help);
  put_histogram(out, &wait, NULL, wait_bounds, NWAIT, m.wait_buckets, m.wait_count, m.wait_sum_us);
  put_header(out, "scopegate_metrics_series_dropped_total", "counter",
             "Label sets counted in an \"_other\" series because the table was full.");
  PUTF(out, "scopegate_metrics_series_dropped_total %llu\n", (unsigned long long)m.dropped);
  return oom ? SG_ENOMEM : 0;
}

void sg_metrics_reset(void) {
  for (size_t i = 0; i < BUCKETS; i++) {
    for (series_t *s = m.table[i], *next; s; s = next) {
      next = s->next;
      series_free(s);
    }
  }
  memset(&m, 0, sizeof m);
}
