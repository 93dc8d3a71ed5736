/*
 * The admin layer's metrics: counts by label set, the exposition format (escaping,
 * cumulative histogram buckets, stable order), and the bounds that keep clients from
 * growing the label sets.
 */
#include <stdio.h>
#include <string.h>

#include "admin/metrics.h"
#include "core/buf.h"
#include "runner.h"

static char *render(sg_buf_t *b) {
  sg_buf_init(b);
  CHECK_INT_EQ(sg_metrics_render(b), 0);
  return b->data;
}

static void metrics_count_by_labels(void) {
  sg_metrics_reset();
  sg_metrics_decision("echo", "allow", "allowed", "alice");
  sg_metrics_decision("echo", "allow", "allowed", "alice");
  sg_metrics_decision("write_file", "deny", "not_granted", "bob");
  sg_metrics_decision("write_file", "deny", "not_granted", "bob");
  sg_metrics_decision("write_file", "deny", "not_granted", "carol");
  sg_buf_t b;
  const char *t = render(&b);
  CHECK(
      strstr(t, "scopegate_calls_total{tool=\"echo\",decision=\"allow\",reason=\"allowed\"} 2\n"));
  CHECK(strstr(
      t,
      "scopegate_calls_total{tool=\"write_file\",decision=\"deny\",reason=\"not_granted\"} 3\n"));
  CHECK(strstr(t, "scopegate_denials_total{subject=\"bob\",reason=\"not_granted\"} 2\n"));
  CHECK(strstr(t, "scopegate_denials_total{subject=\"carol\",reason=\"not_granted\"} 1\n"));
  /* Allowed calls are not denials. */
  CHECK(strstr(t, "subject=\"alice\"") == NULL);
  /* Series print sorted by their labels, whatever the order they were first seen in. */
  CHECK(strstr(t, "subject=\"bob\"") < strstr(t, "subject=\"carol\""));
  CHECK(strstr(t, "# TYPE scopegate_calls_total counter\n"));
  sg_buf_free(&b);
  sg_metrics_reset();
}

static void metrics_histograms_are_cumulative(void) {
  sg_metrics_reset();
  sg_metrics_outcome("echo", "ok", 300);        /* 0.0003 s: the first bucket */
  sg_metrics_outcome("echo", "ok", 20000);      /* 0.02 s */
  sg_metrics_outcome("echo", "error", 7000000); /* 7 s */
  sg_metrics_outcome("echo", "ok", -1);         /* unknown: counted, not observed */
  sg_metrics_approval_held();
  sg_metrics_approval_held();
  sg_metrics_approval_settled(2500000);
  sg_buf_t b;
  const char *t = render(&b);
  CHECK(strstr(t, "scopegate_call_outcomes_total{tool=\"echo\",outcome=\"ok\"} 3\n"));
  CHECK(strstr(t, "scopegate_call_outcomes_total{tool=\"echo\",outcome=\"error\"} 1\n"));
  CHECK(strstr(t, "scopegate_call_duration_seconds_bucket{tool=\"echo\",le=\"0.0005\"} 1\n"));
  CHECK(strstr(t, "scopegate_call_duration_seconds_bucket{tool=\"echo\",le=\"0.01\"} 1\n"));
  CHECK(strstr(t, "scopegate_call_duration_seconds_bucket{tool=\"echo\",le=\"0.025\"} 2\n"));
  CHECK(strstr(t, "scopegate_call_duration_seconds_bucket{tool=\"echo\",le=\"5\"} 2\n"));
  CHECK(strstr(t, "scopegate_call_duration_seconds_bucket{tool=\"echo\",le=\"10\"} 3\n"));
  CHECK(strstr(t, "scopegate_call_duration_seconds_bucket{tool=\"echo\",le=\"+Inf\"} 3\n"));
  CHECK(strstr(t, "scopegate_call_duration_seconds_sum{tool=\"echo\"} 7.020300\n"));
  CHECK(strstr(t, "scopegate_call_duration_seconds_count{tool=\"echo\"} 3\n"));
  CHECK(strstr(t, "scopegate_approvals_pending 1\n"));
  CHECK(strstr(t, "scopegate_approval_wait_seconds_bucket{le=\"1\"} 0\n"));
  CHECK(strstr(t, "scopegate_approval_wait_seconds_bucket{le=\"5\"} 1\n"));
  CHECK(strstr(t, "scopegate_approval_wait_seconds_count 1\n"));
  sg_buf_free(&b);
  sg_metrics_reset();
}

static void metrics_escape_and_bound_labels(void) {
  sg_metrics_reset();
  sg_metrics_decision("a\"b\\c\nd\te", "deny", "not_granted", "x");
  sg_metrics_decision("made_up_by_a_client", "deny", "unknown_tool", "x");
  sg_metrics_decision("another_made_up_name", "deny", "unknown_tool", "x");
  sg_metrics_decision("resource:demo://x/acme/1", "allow", "allowed", "x");
  sg_metrics_decision("resource:demo://x/acme/2", "allow", "allowed", "x");
  sg_metrics_decision(NULL, "deny", "invalid_params", NULL);
  char longname[400];
  memset(longname, 'n', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  sg_metrics_decision(longname, "allow", "allowed", "x");
  sg_metrics_decision(longname, "allow", "allowed", "x");
  sg_buf_t b;
  const char *t = render(&b);
  CHECK(strstr(t, "tool=\"a\\\"b\\\\c\\nd?e\""));
  CHECK(strstr(t, "{tool=\"_unknown\",decision=\"deny\",reason=\"unknown_tool\"} 2\n"));
  CHECK(strstr(t, "made_up") == NULL);
  CHECK(strstr(t, "{tool=\"resource\",decision=\"allow\",reason=\"allowed\"} 2\n"));
  CHECK(strstr(t, "{tool=\"_none\",decision=\"deny\",reason=\"invalid_params\"} 1\n"));
  CHECK(strstr(t, "{subject=\"_none\",reason=\"invalid_params\"} 1\n"));
  /* Cut to SG_METRICS_LABEL_MAX bytes; the same long name is one series. */
  char cut[300];
  snprintf(cut, sizeof cut, "tool=\"%.*s\",", SG_METRICS_LABEL_MAX, longname);
  CHECK(strstr(t, cut));
  char overlong[300];
  snprintf(overlong, sizeof overlong, "tool=\"%.*s", SG_METRICS_LABEL_MAX + 1, longname);
  CHECK(strstr(t, overlong) == NULL);
  sg_buf_free(&b);
  sg_metrics_reset();
}

static void metrics_fold_past_the_series_limit(void) {
  sg_metrics_reset();
  char subject[32];
  for (int i = 0; i < SG_METRICS_MAX_SERIES + 50; i++) {
    snprintf(subject, sizeof subject, "s%05d", i);
    sg_metrics_decision("echo", "deny", "not_granted", subject);
  }
  /* A series that exists keeps counting after the table is full. */
  sg_metrics_decision("echo", "deny", "not_granted", "s00000");
  sg_buf_t b;
  const char *t = render(&b);
  CHECK(strstr(t, "{subject=\"s00000\",reason=\"not_granted\"} 2\n"));
  /* One calls_total series and MAX - 1 subjects fit; the rest went to "_other". */
  char line[128];
  snprintf(line, sizeof line, "{subject=\"_other\",reason=\"_other\"} %d\n",
           SG_METRICS_MAX_SERIES + 50 - (SG_METRICS_MAX_SERIES - 1));
  CHECK(strstr(t, line));
  snprintf(line, sizeof line, "scopegate_metrics_series_dropped_total %d\n",
           SG_METRICS_MAX_SERIES + 50 - (SG_METRICS_MAX_SERIES - 1));
  CHECK(strstr(t, line));
  sg_buf_free(&b);
  sg_metrics_reset();
}

const sg_test_t sg_suite_admin[] = {
    {"metrics_count_by_labels", metrics_count_by_labels},
    {"metrics_histograms_are_cumulative", metrics_histograms_are_cumulative},
    {"metrics_escape_and_bound_labels", metrics_escape_and_bound_labels},
    {"metrics_fold_past_the_series_limit", metrics_fold_past_the_series_limit},
    SG_SUITE_END};
