/*
 * What the SQLite store's files share: the handle, the write transaction that every
 * change runs in, and the hash chain's append. sqlite_store.c opens, migrates and
 * appends calls; chain.c serialises, hashes, verifies and exports the audit chain;
 * approvals.c holds approvals, switches and budgets.
 *
 * Every change to the database is one write transaction opened by sg__store_begin and
 * closed by sg__store_end. sg__store_begin takes the write lock (BEGIN IMMEDIATE) before
 * it reads the chain's head, so that appends from several handles or processes sharing
 * one file form a single chain; it then writes the outcomes queued on the handle, so
 * that they ride with whatever the transaction records next.
 */
#ifndef SG_STORE_INTERNAL_H
#define SG_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdint.h>

#include "core/hash.h"
#include "store/store.h"

/* An outcome waiting for the next transaction (see sg_store_audit_outcome_later). */
typedef struct {
  char ts[32];
  char *call_id, *tool, *outcome, *reason, *detail;
  int64_t latency_us;
} sg__pending_outcome_t;

struct sg_store {
  sqlite3 *db;
  /* The hot path's statements, prepared at open. */
  sqlite3_stmt *ins_event; /* every audit row, chained */
  sqlite3_stmt *head;      /* seq and hash of the last row */
  sqlite3_stmt *begin;
  sqlite3_stmt *commit;
  sqlite3_stmt *rollback;
  sqlite3_stmt *data_version;
  /* Prepared on first use: readers, approvals, switches, budgets. */
  sqlite3_stmt *tail;
  sqlite3_stmt *budget;
  sqlite3_stmt *switch_get;
  sqlite3_stmt *approval_state;
  sg__pending_outcome_t *pending;
  size_t npending;
  /* The chain's head: the next row gets seq head_seq + 1 and prev_hash head_hash.
   * head_known: it is the head this handle's last commit left (other handles may have
   * appended since). head_checked: inside the open transaction, it is the real head
   * (read under the write lock, or confirmed by a successful insert). contended: other
   * handles append too, so the head is read at the start of each transaction; quiet
   * counts the transactions since one last did. */
  int64_t head_seq;
  char head_hash[SG_SHA256_HEX_LEN + 1];
  int head_known, head_checked, contended, quiet;
  /* Scratch space for a row's serialisation, and the digest that hashes it. */
  unsigned char *ser;
  size_t ser_cap;
  struct evp_md_st *md;
  struct evp_md_ctx_st *md_ctx;
  unsigned flags;
  char *path;
  char errmsg[512];
};

/* One value of an audit row as the chain sees it: NULL, an integer or text. */
typedef struct {
  int type; /* SQLITE_NULL, SQLITE_INTEGER or SQLITE_TEXT (others only when verifying) */
  int64_t i;
  const char *p; /* text, not NUL-terminated; n bytes */
  size_t n;
} sg__value_t;

/* The chained columns, in the order of the serialisation (see chain.c), then hash. */
enum {
  SG__COL_SEQ,
  SG__COL_TS,
  SG__COL_CALL_ID,
  SG__COL_EVENT,
  SG__COL_SUBJECT,
  SG__COL_ROLE,
  SG__COL_TENANT,
  SG__COL_ENV,
  SG__COL_TOOL,
  SG__COL_ARGS_HASH,
  SG__COL_DECISION,
  SG__COL_REASON,
  SG__COL_OUTCOME,
  SG__COL_LATENCY_US,
  SG__COL_DETAIL,
  SG__COL_ARGS_JSON,
  SG__COL_ACTOR,
  SG__COL_APPROVAL_ID,
  SG__COL_PREV_HASH,
  SG__NCHAINED,
  SG__COL_HASH = SG__NCHAINED,
  SG__NCOLS
};

/* The column list, in that order, for INSERT and SELECT. */
#define SG__AUDIT_COLUMNS                                                                   \
  "seq, ts, call_id, event, subject, role, tenant, env, tool, args_hash, decision, reason," \
  " outcome, latency_us, detail, args_json, actor, approval_id, prev_hash, hash"

/* An event to append. NULL strings are stored as NULL; latency_us < 0 as NULL. Text is
 * bounded here (tool, detail, actor, args_json) so that the hash covers exactly what is
 * stored. */
typedef struct {
  const char *ts, *call_id, *event, *subject, *role, *tenant, *env, *tool, *args_hash, *decision,
      *reason, *outcome, *detail, *args_json, *actor, *approval_id;
  int64_t latency_us;
} sg__event_t;

#define SG__ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* Writes the hex SHA-256 of data into out with st's digest. Returns 0 or SG_ENOMEM. */
int sg__sha256_hex(sg_store_t *st, const void *data, size_t len, char out[SG_SHA256_HEX_LEN + 1]);
/* Writes the hex SHA-256 of the row's serialisation into out. Returns 0 or SG_ENOMEM. */
int sg__chain_hash(sg_store_t *st, const sg__value_t v[SG__NCHAINED],
                   char out[SG_SHA256_HEX_LEN + 1]);

/* Opens the write transaction, reads the chain's head and writes the queued outcomes.
 * Returns 0 or SG_EAUDIT; on failure the caller still calls sg__store_end. */
int sg__store_begin(sg_store_t *st);
/* Commits when rc is 0 (then forgets the queued outcomes) or rolls back (keeping them
 * queued for the next attempt) and returns rc, or the commit's failure. The message of
 * the first failure stays in errmsg. */
int sg__store_end(sg_store_t *st, int rc);
/* Appends one event to the chain inside the open transaction. Returns 0, SG_ENOMEM or
 * SG_EAUDIT. */
int sg__store_append(sg_store_t *st, const sg__event_t *ev);

/* What is stored for args_json: args itself, or, when it is longer than
 * SG_AUDIT_ARGS_MAX, a JSON string saying so written into buf. */
#define SG__OMITTED_MAX 96
const char *sg__store_args_json(const char *args, char buf[SG__OMITTED_MAX]);

/* Prepares sql into *s unless it already is. Returns 0 or SG_EIO (errmsg set). */
int sg__store_prepare(sg_store_t *st, sqlite3_stmt **s, const char *sql);
/* Binds v (NULL binds NULL), cut to at most max bytes (0: no limit) without splitting a
 * UTF-8 sequence. The text is borrowed. */
int sg__store_bind_text(sqlite3_stmt *s, int i, const char *v, size_t max);
/* Sets errmsg to "<what> in '<path>': <sqlite's message>" and returns err. */
int sg__store_db_fail(sg_store_t *st, int err, const char *what);
/* Sets errmsg from a format and returns err. */
int sg__store_fail(sg_store_t *st, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Migration step 1 -> 2 (chain.c): hashes the rows written before the chain existed. */
int sg__chain_migrate(sg_store_t *st);

#endif
