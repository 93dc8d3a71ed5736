/*
 * The gateway's counters for Prometheus: what the call path decided and how calls ended,
 * kept in memory and rendered in the text exposition format on the admin listener's
 * /metrics. The call path feeds them with a hash lookup and an increment, no I/O and no
 * allocation once a label set has been seen.
 *
 *   scopegate_calls_total{tool,decision,reason}        counter   every decision
 *   scopegate_denials_total{subject,reason}            counter   decisions that refused
 *   scopegate_call_outcomes_total{tool,outcome}        counter   how allowed calls ended
 *   scopegate_call_duration_seconds{tool}              histogram decision to outcome
 *   scopegate_approvals_pending                        gauge     calls held for a person
 *   scopegate_approval_wait_seconds                    histogram hold to decision
 *   scopegate_metrics_series_dropped_total             counter   label sets folded away
 *
 * Label values come from clients (tool names) and tokens (subjects), so they are bounded:
 * a tool the catalog does not know is counted as "_unknown", a resource read as
 * "resource", values are cut to SG_METRICS_LABEL_MAX bytes, and once SG_METRICS_MAX_SERIES
 * label sets exist, further ones are folded into one "_other" series per family (and
 * counted in scopegate_metrics_series_dropped_total).
 *
 * The counters belong to the process (one gateway per process) and are used from the
 * loop's thread only. Strings passed in are borrowed for the call.
 */
#ifndef SG_ADMIN_METRICS_H
#define SG_ADMIN_METRICS_H

#include <stdint.h>

#include "core/buf.h"

#define SG_METRICS_MAX_SERIES 4096
#define SG_METRICS_LABEL_MAX 128

/* A tools/call (or resource or prompt) decision: decision is "allow" or "deny", reason the
 * audit's reason code ("allowed", "approval_required", "not_granted", ...). Denials are
 * also counted per subject. */
void sg_metrics_decision(const char *tool, const char *decision, const char *reason,
                         const char *subject);
/* An allowed call ended with outcome ("ok", "tool_error", "error", "cancelled",
 * "timeout") after latency_us (negative: unknown, counted but not observed). */
void sg_metrics_outcome(const char *tool, const char *outcome, int64_t latency_us);
/* A call starts waiting for a person's approval. */
void sg_metrics_approval_held(void);
/* A call stops waiting (approved, denied, expired, cancelled or withdrawn) after
 * waited_us. */
void sg_metrics_approval_settled(int64_t waited_us);

/* Appends every metric to out in the Prometheus text format (version 0.0.4), families
 * and series in a stable order. Returns 0 or SG_ENOMEM. */
int sg_metrics_render(sg_buf_t *out);
/* Forgets every series and zeroes the counters (at exit, and between tests). */
void sg_metrics_reset(void);

#endif
