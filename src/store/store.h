/*
 * The store: the gateway's durable state behind one interface, so that the backend
 * (SQLite today) can change without touching its callers. It holds the audit log, an
 * append-only, hash-chained record of every decision, outcome and change of state; the
 * approvals people grant or deny; and the switches (the writes kill switch). The store
 * never touches the event loop: every function runs synchronously on the caller's thread
 * and returns 0 or a negative SG_E* code, and a handle is used by one thread at a time.
 *
 * Ownership: the store copies what it records; strings passed in are borrowed for the
 * duration of the call. Strings handed to a callback belong to the store and are valid
 * only until the callback returns. sg_store_approval_get fills a struct the caller owns
 * and releases with sg_store_approval_clear.
 *
 * Failure is never silent. An append that returns an error recorded nothing, and the
 * gateway must deny the call it was recording (fail closed). Every change of state
 * (a switch, an approval) is recorded in the audit chain in the same transaction as the
 * change, so a change that returns an error did not happen. The store does not log;
 * sg_store_errmsg says what went wrong, for the caller to report.
 *
 * Times are UTC text as sg_wall_iso writes it, "YYYY-MM-DDTHH:MM:SS.uuuuuuZ"; they compare
 * as strings, so a time passed in (since_iso, now_iso) must use the same format
 * (sg_store_time_iso makes one).
 */
#ifndef SG_STORE_STORE_H
#define SG_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sg_store sg_store_t;

/* Hex digits of a SHA-256 (an audit row's hash, an arguments hash). */
#define SG_STORE_HASH_HEX 64

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

/* What PRAGMA data_version reports: a number that changes whenever another connection
 * (another handle, the CLI, another gateway) commits to the database, and stays the same
 * across this handle's own commits. Costs a few microseconds (a look at the WAL index in
 * shared memory; no read of the database), so a gateway can poll it every ~200 ms and
 * re-read its switches and the approvals it waits on only when it changed. Returns 0 or
 * SG_EIO. */
int sg_store_data_version(sg_store_t *st, uint64_t *out);

/* The current UTC time plus offset_ms (which may be negative) in the store's time format
 * ("YYYY-MM-DDTHH:MM:SS.uuuuuuZ"); out holds at least 32 bytes. */
void sg_store_time_iso(int64_t offset_ms, char out[32]);

/* ---- the audit chain ------------------------------------------------------------- */

/*
 * Every row of audit_events (every event below) carries seq, prev_hash (the previous
 * row's hash; 64 zeros for seq 1) and hash (SHA-256 over the row's other columns and
 * prev_hash; chain.c documents the serialisation for outside tools). Rows are only ever
 * appended. Handles and processes sharing a file append to one chain: each transaction
 * holds the write lock while it links its rows to the last one. A handle remembers the
 * head it left, so a call's transaction does not read it back (a stale head makes the
 * insert collide on seq, never fork the chain); this keeps the chain's cost to about
 * 4 us a call (a decision and a queued outcome: two hashes, two wider rows). Rows written
 * before the chain existed were hashed, in order, when the database was migrated to it.
 */

/* The decision for one tools/call. call_id, decision and reason are required; the others
 * may be NULL. tool and detail are truncated (at a character boundary) to
 * SG_AUDIT_TOOL_MAX and SG_AUDIT_DETAIL_MAX bytes, as both can carry client text.
 *
 * args_json is the call's canonical arguments for people to read (approvers, auditors),
 * already redacted by the caller: the values of parameters the catalog marks sensitive
 * replaced, so that no secret reaches the database. The store keeps it as given; one
 * longer than SG_AUDIT_ARGS_MAX bytes is replaced by a JSON string saying how long it
 * was (arguments are always an object, so a string there always means "omitted").
 * args_hash stays the hash of the unredacted arguments, which is what an approval binds. */
typedef struct {
  const char *call_id, *subject, *role, *tenant, *env, *tool, *args_hash;
  const char *decision;  /* "allow" | "deny" */
  const char *reason;    /* reason code, e.g. "not_granted" */
  const char *detail;    /* may be NULL */
  const char *args_json; /* may be NULL */
} sg_audit_decision_t;

#define SG_AUDIT_TOOL_MAX 256
#define SG_AUDIT_DETAIL_MAX 1024
#define SG_AUDIT_ARGS_MAX 65536
/* Longest actor (a person's or process's name) kept; longer ones are cut. */
#define SG_STORE_ACTOR_MAX 256

/* Each append is its own transaction, committed before it returns, together with the
 * queued outcomes. Returns SG_EINVAL for a missing or unknown value, SG_EAUDIT when the
 * database cannot record the event. */
int sg_store_audit_decision(sg_store_t *st, const sg_audit_decision_t *d);
/* outcome is "ok" | "tool_error" | "error" | "cancelled" | "timeout"; call_id and outcome
 * are required; tool, reason and detail may be NULL; latency_us < 0 means unknown. */
int sg_store_audit_outcome(sg_store_t *st, const char *call_id, const char *tool,
                           const char *outcome, const char *reason, int64_t latency_us,
                           const char *detail);

/* Queues an outcome to be written with the next transaction on st (a decision, a note,
 * an approval or switch change) or by sg_store_flush, whichever comes first: a call's
 * outcome then shares a transaction with the next call's decision instead of costing
 * one of its own. The values are copied and the time is taken now. Decisions are never
 * deferred: a call is forwarded only once its decision is committed. Returns SG_EINVAL
 * for a missing or unknown value, SG_ENOMEM. */
int sg_store_audit_outcome_later(sg_store_t *st, const char *call_id, const char *tool,
                                 const char *outcome, const char *reason, int64_t latency_us,
                                 const char *detail);
/* Writes the queued outcomes in one transaction. On failure they stay queued and
 * SG_EAUDIT is returned. sg_store_close flushes too. */
int sg_store_flush(sg_store_t *st);
/* How many outcomes are queued. */
size_t sg_store_pending(const sg_store_t *st);

/* An event that is not part of a call: "drift" (a downstream tool no longer matches its
 * pin) or "catalog_reload" (reason "catalog_loaded" or "catalog_refused"). Committed
 * before it returns, with any queued outcomes. */
int sg_store_audit_note(sg_store_t *st, const char *event, const char *tenant, const char *env,
                        const char *tool, const char *reason, const char *detail);

/* The events of the chain, by the "event" column, and what each row holds beyond ts:
 *
 *   event               call_id  subject..env,   reason                detail, actor
 *                                tool, args_hash
 *   decision            call's   the call's      reason code           why (deny)
 *   outcome             call's   tool only       reason code           error text
 *   drift               "-"      tenant, env,    "tool_drift"          what changed
 *                                tool
 *   switch              "-"      -               "<name>=<on|off>"     reason; actor
 *   approval_requested  call's   the call's      "pending"             -
 *   approval_granted    call's   the call's      "approved"            reason; approver
 *   approval_denied     call's   the call's      "denied"              reason; approver
 *   approval_used       call's   the call's      "used"                -
 *   approval_expired    call's   the call's      "expired"             -
 *   approval_cancelled  call's   the call's      "cancelled"           reason; actor
 *
 * decision rows carry args_json (redacted) when the caller gave it, and so do
 * approval_requested rows; approval_* rows carry approval_id. */

/* One call as tail reports it: its decision joined with its latest outcome by call_id,
 * and, for a call held for a person's approval, with that approval. Absent values are
 * NULL. An outcome or approval event with no decision is reported on its own, with the
 * decision's fields NULL; every other event (drift, switch) is a row of its own. */
typedef struct {
  int64_t seq; /* of the decision (or of the lone outcome or event) */
  const char *ts, *call_id, *subject, *role, *tenant, *env, *tool, *args_hash, *decision, *reason,
      *detail, *outcome, *outcome_reason;
  int64_t latency_us; /* -1 when no outcome yet (or none was measured) */
  const char *outcome_detail;
  const char *event; /* "decision", "outcome", or another event of the table above */
  /* Who acted: for a switch or a lone approval event, its actor; for a call, the person
   * who last decided or cancelled its approval. */
  const char *actor;
  const char *approval_id; /* the event's, or the call's approval */
  const char *args_json;   /* the decision's (or approval_requested's) redacted arguments */
  /* For a call held for approval: the state its latest approval event left ("pending",
   * "approved", "denied", "used", "expired", "cancelled"), and the reason actor gave. */
  const char *approval, *approval_detail;
} sg_audit_row_t;

/* Calls fn for the last n calls (n >= 0), oldest first, each with its decision and (if
 * any) outcome and approval joined by call_id, and for the other events among them. This
 * is an iterator rather than a completion callback:
 * if reading fails part way, it stops and returns SG_EIO after fn has seen the rows
 * before the failure. */
int sg_store_audit_tail(sg_store_t *st, int n, void (*fn)(const sg_audit_row_t *row, void *arg),
                        void *arg);

/* One row of audit_events exactly as stored, every column. Absent values are NULL;
 * latency_us is -1 when NULL. */
typedef struct {
  int64_t seq;
  const char *ts, *call_id, *event, *subject, *role, *tenant, *env, *tool, *args_hash, *decision,
      *reason, *outcome;
  int64_t latency_us;
  const char *detail, *args_json, *actor, *approval_id, *prev_hash, *hash;
} sg_audit_event_t;

/* Calls fn for every row with seq > after_seq (0: all), in seq order: the export for
 * log collectors, which pass the last seq they hold to resume. An iterator like tail:
 * returns SG_EIO if reading fails part way. */
int sg_store_audit_export(sg_store_t *st, int64_t after_seq,
                          void (*fn)(const sg_audit_event_t *ev, void *arg), void *arg);

/* What sg_store_audit_verify found. */
typedef struct {
  int64_t rows;                          /* rows checked */
  int64_t head_seq;                      /* the last row's seq (0 for an empty log) ... */
  char head_hash[SG_STORE_HASH_HEX + 1]; /* ... and its stored hash */
  /* The first problem, or bad_seq == 0 and problem NULL when the chain is intact. */
  int64_t bad_seq;
  const char *problem; /* "edited" | "deleted" | "reordered" | "anchor" */
  char message[512];   /* a sentence naming the seq and what is wrong with it */
} sg_audit_verify_t;

/* Walks the whole chain in one read transaction and reports the first row that was
 * edited (its content no longer matches its hash), deleted (a gap in seq, or a row
 * whose prev_hash is not its predecessor's hash: rows removed and the rest renumbered,
 * or the predecessor rewritten with a fresh hash) or reordered (a row whose prev_hash is
 * the hash of some other row). When anchor_seq > 0, the row with that seq must also
 * exist and have the hash anchor_hash: a head recorded earlier outside the database,
 * which is what detects a rewrite of the whole chain from some row onwards, or rows cut
 * from its end, that leave a self-consistent chain. Returns 0 when the walk finished (the
 * verdict is in out) or SG_EIO when the database could not be read. */
int sg_store_audit_verify(sg_store_t *st, int64_t anchor_seq, const char *anchor_hash,
                          sg_audit_verify_t *out);

/* ---- switches --------------------------------------------------------------------- */

/* A switch as stored. A switch never set reads as its default, with updated_at "". */
typedef struct {
  char value[8]; /* "on" | "off" */
  char updated_at[32];
  char actor[SG_STORE_ACTOR_MAX + 1];
  char reason[SG_AUDIT_DETAIL_MAX + 1];
} sg_store_switch_t;

/* Reads switch name ("writes"; default "on"). Returns 0, SG_EINVAL for an unknown name,
 * or SG_EIO. */
int sg_store_switch_get(sg_store_t *st, const char *name, sg_store_switch_t *out);
/* *on = 1 when write tools may run (the writes switch is on), 0 when they are disabled.
 * Returns 0 or SG_EIO; a caller that cannot read the switch must treat writes as off. */
int sg_store_writes_enabled(sg_store_t *st, int *on);
/* Sets the writes switch and records a "switch" event (actor required, reason may be
 * NULL) in the same transaction. Turning writes off is the kill switch: the same
 * transaction also cancels every pending or approved-but-unused approval, recording an
 * approval_cancelled event for each, so nothing approved before the switch can run after
 * it; *cancelled (may be NULL) receives how many. Returns 0, SG_EINVAL or SG_EAUDIT. */
int sg_store_writes_set(sg_store_t *st, int on, const char *actor, const char *reason,
                        size_t *cancelled);

/* ---- approvals -------------------------------------------------------------------- */

/*
 * An approval is a person's yes or no to one call, bound to that call: its call_id, its
 * tool, the hash of its unredacted canonical arguments, its tenant and its subject. It
 * can be used once, by the gateway holding that call, before it expires.
 *
 *                   decide(yes)               consume
 *   create ──▶ pending ─────────────▶ approved ──────────▶ used
 *                 │                      │
 *                 ├──▶ denied            ├──▶ expired
 *                 ├──▶ expired           └──▶ cancelled
 *                 └──▶ cancelled
 *
 *   from               to         function                                 event
 *   -                  pending    sg_store_approval_create                 approval_requested
 *   pending            approved   sg_store_approval_decide (approve = 1)   approval_granted
 *   pending            denied     sg_store_approval_decide (approve = 0)   approval_denied
 *   approved           used       sg_store_approval_consume                approval_used
 *   pending, approved  expired    sg_store_approval_expire,                approval_expired
 *                                 sg_store_approval_expire_stale,
 *                                 sg_store_approval_decide (too late)
 *   pending, approved  cancelled  sg_store_approval_cancel,                approval_cancelled
 *                                 sg_store_approval_cancel_all,
 *                                 sg_store_writes_set (off)
 *
 * used, denied, expired and cancelled are final. Every transition is one UPDATE
 * conditioned on the state it leaves, with its audit event in the same transaction, so
 * two processes racing for one approval cannot both move it.
 *
 * Crashes. The gateway waiting for an approval holds the call (and its call_id, which
 * carries the gateway instance's random prefix) only in memory. If it dies, the pending
 * approval stays pending: a person may still approve it, but nothing can consume it,
 * because consume requires the call_id that died with the process; a restarted gateway
 * has new call_ids and never consumes an approval it did not create. The gateway calls
 * sg_store_approval_expire_stale at start (and may on every poll) so that such approvals
 * show as expired once their time is up.
 */

#define SG_APPROVAL_ID_LEN 32 /* hex digits of 128 random bits */

/* What a gateway asks a person to approve. call_id, tool and args_hash are required;
 * ttl_ms > 0 is how long the approval may stay pending (and, once approved, unused). */
typedef struct {
  const char *call_id, *tool, *args_hash;
  const char *args_json; /* redacted, as in sg_audit_decision_t; may be NULL */
  const char *tenant, *env, *subject, *role;
  int64_t ttl_ms;
} sg_store_approval_request_t;

/* An approval as stored. Absent values are NULL. */
typedef struct {
  char *id, *call_id, *tool, *args_hash, *args_json, *tenant, *env, *subject, *role;
  char *state; /* "pending" | "approved" | "denied" | "expired" | "cancelled" | "used" */
  char *created_at, *expires_at, *decided_at, *approver, *reason, *used_at;
} sg_store_approval_t;

/* Creates a pending approval and records approval_requested. id receives its id (32 hex
 * digits and a NUL). Returns 0, SG_EINVAL or SG_EAUDIT. */
int sg_store_approval_create(sg_store_t *st, const sg_store_approval_request_t *req,
                             char id[SG_APPROVAL_ID_LEN + 1]);
/* Fills *out (the caller releases it with sg_store_approval_clear, also after a failure).
 * Returns 0, SG_EINVAL when there is no approval id (errmsg says so), SG_ENOMEM or
 * SG_EIO. */
int sg_store_approval_get(sg_store_t *st, const char *id, sg_store_approval_t *out);
void sg_store_approval_clear(sg_store_approval_t *a);
/* Copies the state of approval id into state (at least 16 bytes): the cheap read a
 * waiting gateway makes when sg_store_data_version changed. Returns 0, SG_EINVAL when
 * there is no such approval, or SG_EIO. */
int sg_store_approval_state(sg_store_t *st, const char *id, char state[16]);
/* Calls fn for the pending approvals (all == 0), oldest first, or for the last limit
 * approvals of any state (all != 0; limit <= 0: every one), oldest first. The approval
 * passed to fn and its strings are valid only during the call. Returns 0 or SG_EIO. */
int sg_store_approval_list(sg_store_t *st, int all, int limit,
                           void (*fn)(const sg_store_approval_t *a, void *arg), void *arg);
/* A person's decision: pending -> approved (approve != 0) or denied, recording approver
 * and reason (both required) and approval_granted or approval_denied. An approval in any
 * other state is refused with SG_EINVAL and an errmsg naming its state; one still
 * pending but past its expiry is moved to expired (recording approval_expired) and
 * refused the same way. SG_EINVAL also when there is no such approval; SG_EAUDIT when
 * the database cannot record the decision. */
int sg_store_approval_decide(sg_store_t *st, const char *id, int approve, const char *approver,
                             const char *reason);

/* The call that wants to use an approval. All fields but tenant and subject are
 * required; tenant and subject must equal the approval's (NULL matches NULL). */
typedef struct {
  const char *id, *call_id, *tool, *args_hash, *tenant, *subject;
} sg_store_approval_use_t;

/* approved -> used, in one UPDATE that requires the state to be approved, the approval
 * not yet expired, and call_id, tool, args_hash, tenant and subject all equal to the
 * approval's; records approval_used. Anything else changes nothing and returns SG_EINVAL
 * with an errmsg saying why (not approved, expired, or which binding differs), so an
 * approval can never be used twice, nor for other arguments, another tenant or subject,
 * or another call. SG_EAUDIT when the database cannot record it. */
int sg_store_approval_consume(sg_store_t *st, const sg_store_approval_use_t *use);
/* pending or approved -> expired: the gateway stopped waiting for it. Returns SG_EINVAL
 * when it is in another state (or absent). */
int sg_store_approval_expire(sg_store_t *st, const char *id);
/* pending or approved -> cancelled, recording actor (required) and reason: the caller
 * went away or withdrew the call. SG_EINVAL when in another state (or absent). */
int sg_store_approval_cancel(sg_store_t *st, const char *id, const char *actor, const char *reason);
/* Every pending or approved approval -> cancelled, one event each, in one transaction;
 * *n (may be NULL) receives how many. */
int sg_store_approval_cancel_all(sg_store_t *st, const char *actor, const char *reason, size_t *n);
/* Every pending or approved approval whose expires_at <= now_iso (NULL: the current
 * time) -> expired, one event each, in one transaction; *n (may be NULL) receives how
 * many. For a gateway at start, to retire the approvals of one that died. */
int sg_store_approval_expire_stale(sg_store_t *st, const char *now_iso, size_t *n);

/* ---- budgets ---------------------------------------------------------------------- */

/* Budgets limit how often a subject may call a tool granted with approval "auto" ("N
 * calls per window"). Only calls allowed through sg_store_audit_decision_budgeted count
 * (and cost the extra row that counting needs): a gateway records every call of a tool
 * that has a budget through it, and every other call through sg_store_audit_decision.
 *
 * sg_store_audit_decision_budgeted counts and decides in one write transaction, so that
 * gateways sharing a file never allow more than limit calls between them: it appends
 * allow (decision "allow") and counts it when fewer than limit calls of allow->tool by
 * allow->subject were allowed since since_iso (ts >= since_iso), else appends over (a
 * "deny" with the caller's reason code, e.g. "budget_exhausted", which does not count).
 * The two must describe the same call. *allowed (may be NULL) receives 1 or 0. Returns
 * like sg_store_audit_decision. */
int sg_store_audit_decision_budgeted(sg_store_t *st, const sg_audit_decision_t *allow,
                                     const sg_audit_decision_t *over, const char *since_iso,
                                     int64_t limit, int *allowed);
/* *n = how many calls of tool by subject (NULL: calls without a subject) were allowed
 * through sg_store_audit_decision_budgeted since since_iso: what is left of a budget, for
 * reporting. An index lookup whose cost grows with the count, not the log. Returns 0,
 * SG_EINVAL or SG_EIO. */
int sg_store_budget_count(sg_store_t *st, const char *subject, const char *tool,
                          const char *since_iso, int64_t *n);

#endif
