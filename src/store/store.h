/*
 * The store: the gateway's durable state behind one interface, so that the backend
 * (SQLite today) can change without touching its callers. It holds the audit log, an
 * append-only record of every decision and outcome; approvals, switches and pins join it
 * later. The store never touches the event loop: every function runs synchronously on the
 * caller's thread and returns 0 or a negative SG_E* code, and a handle is used by one
 * thread at a time.
 *
 * Ownership: the store copies what it records; strings passed in are borrowed for the
 * duration of the call. Strings handed to a tail callback belong to the store and are
 * valid only until the callback returns.
 *
 * Failure is never silent. An append that returns an error recorded nothing, and the
 * gateway must deny the call it was recording (fail closed). The store does not log;
 * sg_store_errmsg says what went wrong, for the caller to report.
 */
#ifndef SG_STORE_STORE_H
#define SG_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sg_store sg_store_t;

/* Open flags. */
enum {
  /* Read only: never creates, migrates or writes the database; appends fail. */
  SG_STORE_READONLY = 1u << 0,
  /* Sync every commit to disk, so that appends survive power loss as well as a crash of
   * the process (costs an fsync per append). */
  SG_STORE_DURABLE = 1u << 1,
  /* Never checkpoint during an append: the owner calls sg_store_checkpoint instead. */
  SG_STORE_MANUAL_CHECKPOINT = 1u << 2,
};

/* How long a writer waits for another process's lock before the append fails. The
 * event loop is blocked meanwhile, so this is short; appends hold the lock for
 * microseconds. */
#define SG_STORE_BUSY_TIMEOUT_MS 2000

typedef struct {
  unsigned flags;      /* SG_STORE_* */
  int busy_timeout_ms; /* <= 0: SG_STORE_BUSY_TIMEOUT_MS */
} sg_store_options_t;

/* Opens (creating if absent) the database at path for reading and writing. The parent
 * directory must exist. Returns SG_EIO when the database cannot be opened, is not a
 * scopegate database, or has a schema newer than this build knows, with the reason
 * (naming path) in errbuf. */
int sg_store_open(const char *path, sg_store_t **out, char *errbuf, size_t errlen);
/* Opens an existing database without creating or changing it. */
int sg_store_open_readonly(const char *path, sg_store_t **out, char *errbuf, size_t errlen);
/* opts may be NULL (read-write, defaults). */
int sg_store_open_ex(const char *path, const sg_store_options_t *opts, sg_store_t **out,
                     char *errbuf, size_t errlen);
/* Moves committed events from the write-ahead log into the database file, so that the
 * log stops growing; takes milliseconds (it syncs the disk) but never blocks appends in
 * other handles or processes. By default an append does this itself every few hundred
 * calls, stalling its thread; a gateway that opens its loop's handle with
 * SG_STORE_MANUAL_CHECKPOINT calls this every second or so from a worker thread, on a
 * handle of its own. Returns 0 (also when another process is checkpointing) or SG_EIO. */
int sg_store_checkpoint(sg_store_t *st);
/* Accepts NULL. */
void sg_store_close(sg_store_t *st);
/* Describes the last failure on st, naming the database and the cause (never NULL; ""
 * before any failure). */
const char *sg_store_errmsg(const sg_store_t *st);

/* The decision for one tools/call. call_id, decision and reason are required; the others
 * may be NULL. tool and detail are truncated (at a character boundary) to
 * SG_AUDIT_TOOL_MAX and SG_AUDIT_DETAIL_MAX bytes, as both can carry client text. */
typedef struct {
  const char *call_id, *subject, *role, *tenant, *env, *tool, *args_hash;
  const char *decision; /* "allow" | "deny" */
  const char *reason;   /* reason code, e.g. "not_granted" */
  const char *detail;   /* may be NULL */
} sg_audit_decision_t;

#define SG_AUDIT_TOOL_MAX 256
#define SG_AUDIT_DETAIL_MAX 1024

/* Each append is its own transaction, committed before it returns. Returns SG_EINVAL for
 * a missing or unknown value, SG_EAUDIT when the database cannot record the event. */
int sg_store_audit_decision(sg_store_t *st, const sg_audit_decision_t *d);
/* outcome is "ok" | "tool_error" | "error" | "cancelled" | "timeout"; call_id and outcome
 * are required; tool, reason and detail may be NULL; latency_us < 0 means unknown. */
int sg_store_audit_outcome(sg_store_t *st, const char *call_id, const char *tool,
                           const char *outcome, const char *reason, int64_t latency_us,
                           const char *detail);

/* Queues an outcome to be written with the next decision, or by sg_store_flush,
 * whichever comes first: a call's outcome then shares a transaction with the next call's
 * decision instead of costing one of its own. The values are copied and the time is
 * taken now. Decisions are never deferred: a call is forwarded only once its decision is
 * committed. Returns SG_EINVAL for a missing or unknown value, SG_ENOMEM. */
int sg_store_audit_outcome_later(sg_store_t *st, const char *call_id, const char *tool,
                                 const char *outcome, const char *reason, int64_t latency_us,
                                 const char *detail);
/* Writes the queued outcomes in one transaction. On failure they stay queued and
 * SG_EAUDIT is returned. sg_store_close flushes too. */
int sg_store_flush(sg_store_t *st);
/* How many outcomes are queued. */
size_t sg_store_pending(const sg_store_t *st);

/* An event that is not part of a call: "drift" (a downstream tool no longer matches its
 * pin). Committed before it returns, with any queued outcomes. */
int sg_store_audit_note(sg_store_t *st, const char *event, const char *tenant, const char *env,
                        const char *tool, const char *reason, const char *detail);

/* One call as tail reports it: its decision joined with its latest outcome by call_id.
 * Absent values are NULL. An outcome with no decision is reported on its own, with the
 * decision's fields NULL. */
typedef struct {
  int64_t seq; /* of the decision (or of the lone outcome) */
  const char *ts, *call_id, *subject, *role, *tenant, *env, *tool, *args_hash, *decision, *reason,
      *detail, *outcome, *outcome_reason;
  int64_t latency_us; /* -1 when no outcome yet (or none was measured) */
  const char *outcome_detail;
  const char *event; /* "decision", "outcome", or a note such as "drift" */
} sg_audit_row_t;

/* Calls fn for the last n calls (n >= 0), oldest first, each with its decision and (if
 * any) outcome joined by call_id. This is an iterator rather than a completion callback:
 * if reading fails part way, it stops and returns SG_EIO after fn has seen the rows
 * before the failure. */
int sg_store_audit_tail(sg_store_t *st, int n, void (*fn)(const sg_audit_row_t *row, void *arg),
                        void *arg);

#endif
