/*
 * The store on SQLite: opening, the schema and its migrations, the write transaction,
 * and the audit appends of calls (decisions, outcomes, notes) and the tail that reads
 * them back. One connection per handle; every statement the hot path runs is prepared
 * once at open. The database is in WAL mode so that readers (scopegate audit tail,
 * other gateways) never block the writer, and several gateway processes may share one
 * file: a writer that finds the file locked waits up to the busy timeout, then fails
 * the append, and the call is denied.
 *
 * The schema is versioned with PRAGMA user_version and marked as ours with PRAGMA
 * application_id. A database is migrated forward on a read-write open; one with a newer
 * version, or one that belongs to another program, is refused rather than touched.
 *
 * audit_events is append-only (triggers refuse UPDATE and DELETE) and hash-chained: each
 * row's hash covers its content and the previous row's hash (chain.c). A call costs one
 * write transaction: BEGIN IMMEDIATE, read the head, insert the queued outcomes and the
 * decision, each chained to the one before, COMMIT.
 */
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "store/internal.h"
#include "store/store.h"

/* "scop", so that a scopegate database can be told from any other SQLite file. */
#define APPLICATION_ID 0x73636f70

/* migrations[i] takes the schema from version i to version i + 1: its SQL, then its
 * function (if any), in the migration's transaction. The schema version this build
 * writes is the number of migrations. Never edit a released step: add one. */
static const struct {
  const char *sql;
  int (*fn)(sg_store_t *st);
} migrations[] = {
    /* 0 -> 1: the audit log. seq is the rowid without AUTOINCREMENT: as no row is ever
     * deleted, the next seq is always the largest so far plus one, and AUTOINCREMENT
     * would only add a third page (sqlite_sequence) to the two each append writes. */
    {"CREATE TABLE audit_events ("
     "  seq        INTEGER PRIMARY KEY,"
     "  ts         TEXT NOT NULL," /* UTC, YYYY-MM-DDTHH:MM:SS.uuuuuuZ */
     "  call_id    TEXT NOT NULL,"
     "  event      TEXT NOT NULL," /* 'decision' | 'outcome' | a note */
     "  subject    TEXT,"
     "  role       TEXT,"
     "  tenant     TEXT,"
     "  env        TEXT,"
     "  tool       TEXT,"
     "  args_hash  TEXT," /* hex SHA-256 of the canonical arguments */
     "  decision   TEXT," /* 'allow' | 'deny' */
     "  reason     TEXT," /* stable reason code */
     "  outcome    TEXT," /* 'ok' | 'tool_error' | 'error' | 'cancelled' | 'timeout' */
     "  latency_us INTEGER,"
     "  detail     TEXT"
     ");"
     /* Joins an outcome to its decision. */
     "CREATE INDEX audit_events_call ON audit_events (call_id, event);"
     "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events"
     " BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;"
     "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events"
     " BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;",
     NULL},
    /* 1 -> 2: the hash chain, redacted arguments, switches, approvals and budgets. The
     * new columns come last, so the table's column order is the chain's serialisation
     * order. sg__chain_migrate then hashes the rows already there, oldest first, so the
     * chain covers the whole log (attesting to it as it was at the migration). */
    {"ALTER TABLE audit_events ADD COLUMN args_json TEXT;" /* redacted, for people */
     "ALTER TABLE audit_events ADD COLUMN actor TEXT;"     /* who flipped or decided */
     "ALTER TABLE audit_events ADD COLUMN approval_id TEXT;"
     "ALTER TABLE audit_events ADD COLUMN prev_hash TEXT;"
     "ALTER TABLE audit_events ADD COLUMN hash TEXT;"
     /* Budgets: the calls allowed by sg_store_audit_decision_budgeted, by subject, tool
      * and time. A table of their own rather than an index on audit_events, which every
      * allowed call would pay for (a page more per commit, a third of an append's cost)
      * while only tools granted with approval "auto" have budgets. seq is the decision's. */
     "CREATE TABLE budget_calls ("
     "  seq     INTEGER PRIMARY KEY,"
     "  subject TEXT,"
     "  tool    TEXT NOT NULL,"
     "  ts      TEXT NOT NULL"
     ");"
     "CREATE INDEX budget_calls_key ON budget_calls (subject, tool, ts);"
     "CREATE TABLE switches ("
     "  name       TEXT PRIMARY KEY,"
     "  value      TEXT NOT NULL CHECK (value IN ('on', 'off')),"
     "  updated_at TEXT NOT NULL,"
     "  actor      TEXT NOT NULL,"
     "  reason     TEXT"
     ") WITHOUT ROWID;"
     "CREATE TABLE approvals ("
     "  id         TEXT PRIMARY KEY," /* 32 hex digits, random */
     "  call_id    TEXT NOT NULL,"
     "  tool       TEXT NOT NULL,"
     "  args_hash  TEXT NOT NULL,"
     "  args_json  TEXT,"
     "  tenant     TEXT,"
     "  env        TEXT,"
     "  subject    TEXT,"
     "  role       TEXT,"
     "  state      TEXT NOT NULL CHECK (state IN"
     "    ('pending', 'approved', 'denied', 'expired', 'cancelled', 'used')),"
     "  created_at TEXT NOT NULL,"
     "  expires_at TEXT NOT NULL,"
     "  decided_at TEXT,"
     "  approver   TEXT,"
     "  reason     TEXT,"
     "  used_at    TEXT"
     ");"
     "CREATE INDEX approvals_state ON approvals (state, expires_at);"
     /* The state machine of store.h, enforced by the database too: only its transitions,
      * and never a change to what an approval is bound to. */
     "CREATE TRIGGER approvals_transitions BEFORE UPDATE ON approvals"
     " WHEN NOT ((OLD.state = 'pending'"
     "            AND NEW.state IN ('approved', 'denied', 'expired', 'cancelled'))"
     "        OR (OLD.state = 'approved' AND NEW.state IN ('used', 'expired', 'cancelled')))"
     "   OR NEW.id IS NOT OLD.id OR NEW.call_id IS NOT OLD.call_id"
     "   OR NEW.tool IS NOT OLD.tool OR NEW.args_hash IS NOT OLD.args_hash"
     "   OR NEW.tenant IS NOT OLD.tenant OR NEW.subject IS NOT OLD.subject"
     "   OR NEW.expires_at IS NOT OLD.expires_at"
     " BEGIN SELECT RAISE(ABORT, 'not an allowed change of an approval'); END;"
     "CREATE TRIGGER approvals_no_delete BEFORE DELETE ON approvals"
     " BEGIN SELECT RAISE(ABORT, 'approvals are kept'); END;",
     sg__chain_migrate},
};

#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

static const char sql_insert[] = "INSERT INTO audit_events (" SG__AUDIT_COLUMNS
                                 ")"
                                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
                                 " ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)";

/* The rowid's B-tree gives the last row in one descent. */
static const char sql_head[] = "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1";

/* One row per call: a decision joined with the latest outcome of its call_id and with
 * its approval (the latest approval event, and the latest one a person made); or an
 * outcome or approval event whose call has no decision; or any other event on its own.
 * The inner query walks seq downwards and stops after ?1 rows, so its cost depends on n,
 * not on the size of the log; each lookup by call_id uses audit_events_call, approval
 * events as the range of event names from 'approval_' up to 'approval`' (the character
 * after '_'). */
#define APPROVAL_EVENT(x) "(" x ".event >= 'approval_' AND " x ".event < 'approval`')"
#define LATEST(alias, cond)                                                 \
  " LEFT JOIN audit_events AS " alias " ON e.event = 'decision' AND " alias \
  ".seq = ("                                                                \
  "  SELECT MAX(x.seq) FROM audit_events AS x WHERE x.call_id = e.call_id AND " cond ")"
static const char sql_tail[] =
    "SELECT seq, ts, call_id, subject, role, tenant, env, tool, args_hash, decision, reason,"
    "       detail, outcome, outcome_reason, latency_us, outcome_detail, event, actor,"
    "       approval_id, args_json, approval, approval_detail FROM ("
    " SELECT e.seq AS seq, e.ts AS ts, e.call_id AS call_id, e.subject AS subject,"
    "  e.role AS role, e.tenant AS tenant, e.env AS env, COALESCE(e.tool, o.tool) AS tool,"
    "  e.args_hash AS args_hash, e.decision AS decision, e.event AS event,"
    "  CASE WHEN e.event <> 'outcome' THEN e.reason END AS reason,"
    "  CASE WHEN e.event <> 'outcome' THEN e.detail END AS detail,"
    "  COALESCE(o.outcome, e.outcome) AS outcome,"
    "  CASE WHEN e.event = 'outcome' THEN e.reason ELSE o.reason END AS outcome_reason,"
    "  COALESCE(o.latency_us, e.latency_us) AS latency_us,"
    "  CASE WHEN e.event = 'outcome' THEN e.detail ELSE o.detail END AS outcome_detail,"
    "  COALESCE(p.actor, e.actor) AS actor, COALESCE(a.approval_id, e.approval_id) AS approval_id,"
    "  e.args_json AS args_json, a.reason AS approval, p.detail AS approval_detail"
    " FROM audit_events AS e"
    LATEST("o", "x.event = 'outcome'")
    LATEST("a", APPROVAL_EVENT("x"))
    LATEST("p", APPROVAL_EVENT("x") " AND x.actor IS NOT NULL")
    " WHERE (e.event <> 'outcome' AND NOT " APPROVAL_EVENT("e") ")"
    "  OR NOT EXISTS ("
    "   SELECT 1 FROM audit_events AS d WHERE d.call_id = e.call_id AND d.event = 'decision')"
    " ORDER BY e.seq DESC LIMIT ?1"
    ") ORDER BY seq";
#undef LATEST
#undef APPROVAL_EVENT

/* Past this many queued outcomes the queue is flushed at once rather than grown. */
#define PENDING_MAX 1024

static const char *const decisions[] = {"allow", "deny", NULL};
static const char *const outcomes[] = {"ok", "tool_error", "error", "cancelled", "timeout", NULL};
static const char *const notes[] = {"drift", "catalog_reload", NULL};

static void set_err(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *buf, size_t len, const char *fmt, ...) {
  if (buf == NULL || len == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, len, fmt, ap);
  va_end(ap);
}

/* sqlite3_errmsg, with the operating system's reason when SQLite has one. */
static void db_err(sqlite3 *db, char *buf, size_t len, const char *what, const char *path) {
  int sys = sqlite3_system_errno(db);
  if (sys != 0)
    set_err(buf, len, "%s '%s': %s (%s)", what, path, sqlite3_errmsg(db), strerror(sys));
  else
    set_err(buf, len, "%s '%s': %s", what, path, sqlite3_errmsg(db));
}

int sg__store_fail(sg_store_t *st, int err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(st->errmsg, sizeof st->errmsg, fmt, ap);
  va_end(ap);
  return err;
}

int sg__store_db_fail(sg_store_t *st, int err, const char *what) {
  int sys = sqlite3_system_errno(st->db);
  snprintf(st->errmsg, sizeof st->errmsg, "%s in '%s': %s%s%s%s", what, st->path,
           sqlite3_errmsg(st->db), sys ? " (" : "", sys ? strerror(sys) : "", sys ? ")" : "");
  return err;
}

/* Runs a statement that returns at most one integer. */
static int query_int(sqlite3 *db, const char *sql, int *out) {
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
      *out = sqlite3_column_int(s, 0);
      rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
      *out = 0;
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(s);
  return rc;
}

/* Brings a read-write database to SCHEMA_VERSION. BEGIN IMMEDIATE takes the write lock
 * before the version is read again, so two processes opening an old file at once
 * migrate it once. */
static int migrate(sg_store_t *st, char *errbuf, size_t errlen) {
  int version = 0;
  char sql[96];
  if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) goto fail;
  if (query_int(st->db, "PRAGMA user_version", &version) != SQLITE_OK) goto fail_tx;
  if (version > SCHEMA_VERSION) {
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    set_err(errbuf, errlen,
            "database '%s' has schema version %d, newer than the %d this scopegate knows;"
            " use a newer scopegate",
            st->path, version, SCHEMA_VERSION);
    return SG_EIO;
  }
  for (int v = version; v < SCHEMA_VERSION; v++) {
    if (sqlite3_exec(st->db, migrations[v].sql, NULL, NULL, NULL) != SQLITE_OK) goto fail_tx;
    if (migrations[v].fn && migrations[v].fn(st) != 0) {
      set_err(errbuf, errlen, "cannot upgrade the schema of '%s': %s", st->path, st->errmsg);
      sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
      return SG_EIO;
    }
  }
  snprintf(sql, sizeof sql, "PRAGMA user_version = %d; PRAGMA application_id = %d", SCHEMA_VERSION,
           APPLICATION_ID);
  if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) goto fail_tx;
  if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) goto fail_tx;
  return 0;

fail_tx:
  db_err(st->db, errbuf, errlen, "cannot create the schema in", st->path);
  sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
  return SG_EIO;
fail:
  db_err(st->db, errbuf, errlen, "cannot create the schema in", st->path);
  return SG_EIO;
}

/* Checks that the file is a scopegate database this build can use, and migrates it (or
 * creates the schema in a new file) when opened read-write. */
static int check_schema(sg_store_t *st, char *errbuf, size_t errlen) {
  int app = 0, version = 0, tables = 0;
  int readonly = (st->flags & SG_STORE_READONLY) != 0;
  /* The three are read in one transaction: another process creating the schema of the
   * same new file commits them together, and reading them apart could see its tables
   * and version but not yet its application id (and call the file someone else's). */
  if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
      query_int(st->db, "PRAGMA application_id", &app) != SQLITE_OK ||
      query_int(st->db, "PRAGMA user_version", &version) != SQLITE_OK ||
      query_int(st->db, "SELECT count(*) FROM sqlite_master", &tables) != SQLITE_OK ||
      sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
    db_err(st->db, errbuf, errlen, "cannot read database", st->path);
    if (!sqlite3_get_autocommit(st->db)) sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return SG_EIO;
  }
  int fresh = app == 0 && version == 0 && tables == 0;
  if (!fresh && app != APPLICATION_ID) {
    set_err(errbuf, errlen, "'%s' is not a scopegate database", st->path);
    return SG_EIO;
  }
  if (version > SCHEMA_VERSION) {
    set_err(errbuf, errlen,
            "database '%s' has schema version %d, newer than the %d this scopegate knows;"
            " use a newer scopegate",
            st->path, version, SCHEMA_VERSION);
    return SG_EIO;
  }
  if (version == SCHEMA_VERSION) return 0;
  if (readonly) {
    if (fresh)
      set_err(errbuf, errlen, "database '%s' is empty: no audit log has been written to it",
              st->path);
    else
      set_err(errbuf, errlen,
              "database '%s' has schema version %d and needs upgrading to %d;"
              " open it read-write (start the gateway) once",
              st->path, version, SCHEMA_VERSION);
    return SG_EIO;
  }
  return migrate(st, errbuf, errlen);
}

/* Puts the database in WAL mode and writes the mode it is in to mode ("" when the pragma
 * failed). While other processes open, switch or close the same file (gateways started
 * together on a new store), the switch can fail with "database is locked" at once, without
 * the busy handler being asked (a plain reader of the old journal is waited for as usual):
 * so it is retried here, sleeping up to the busy timeout in all. */
static void switch_to_wal(sqlite3 *db, int timeout_ms, char *mode, size_t len) {
  for (int waited = 0;; waited += 10) {
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(s);
    mode[0] = '\0';
    if (rc == SQLITE_ROW) {
      const unsigned char *m = sqlite3_column_text(s, 0);
      snprintf(mode, len, "%s", m ? (const char *)m : "");
    }
    sqlite3_finalize(s);
    if ((rc & 0xff) != SQLITE_BUSY || waited >= timeout_ms) return;
    sqlite3_sleep(10);
  }
}

static int prepare(sg_store_t *st, const char *sql, sqlite3_stmt **out, char *errbuf,
                   size_t errlen) {
  if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) == SQLITE_OK)
    return 0;
  db_err(st->db, errbuf, errlen, "cannot prepare statements on", st->path);
  return SG_EIO;
}

int sg__store_prepare(sg_store_t *st, sqlite3_stmt **s, const char *sql) {
  if (*s != NULL) return 0;
  if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, s, NULL) == SQLITE_OK)
    return 0;
  return sg__store_db_fail(st, SG_EIO, "cannot prepare a statement");
}

int sg_store_open_ex(const char *path, const sg_store_options_t *opts, sg_store_t **out,
                     char *errbuf, size_t errlen) {
  sg_store_t *st = NULL;
  char mode[16] = "";
  int err = SG_EIO;

  *out = NULL;
  set_err(errbuf, errlen, "%s", "");
  if (path == NULL || *path == '\0') {
    set_err(errbuf, errlen, "no database path given");
    return SG_EINVAL;
  }
  st = calloc(1, sizeof *st);
  if (st == NULL || (st->path = strdup(path)) == NULL) {
    err = SG_ENOMEM;
    set_err(errbuf, errlen, "out of memory");
    goto fail;
  }
  st->flags = opts ? opts->flags : 0;
  int readonly = (st->flags & SG_STORE_READONLY) != 0;
  int timeout =
      opts && opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : SG_STORE_BUSY_TIMEOUT_MS;

  /* NOMUTEX: a handle belongs to one thread, so SQLite's own locking would be waste. */
  int oflags = SQLITE_OPEN_NOMUTEX |
               (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (sqlite3_open_v2(path, &st->db, oflags, NULL) != SQLITE_OK) {
    if (st->db == NULL)
      set_err(errbuf, errlen, "cannot open database '%s': out of memory", path);
    else
      db_err(st->db, errbuf, errlen, "cannot open database", path);
    goto fail;
  }
  sqlite3_extended_result_codes(st->db, 1);
  sqlite3_busy_timeout(st->db, timeout);
  /* The file may come from anywhere (audit tail reads what it is given): do not let its
   * schema run functions with side effects, nor let SQL corrupt it. */
  sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
  sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);

  if ((err = check_schema(st, errbuf, errlen)) != 0) goto fail;
  err = SG_EIO;

  if (!readonly) {
    /* WAL lets readers and one writer work at once, and makes a commit one sequential
     * write. The mode is stored in the file, so read-only openers see it too. */
    switch_to_wal(st->db, timeout, mode, sizeof mode);
    /* An in-memory database (":memory:") reports "memory"; it has no file to share. */
    if (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0) {
      if (mode[0] == '\0')
        db_err(st->db, errbuf, errlen, "cannot switch to WAL mode on", path);
      else
        set_err(errbuf, errlen, "cannot switch '%s' to WAL mode (it stays in '%s' mode)", path,
                mode);
      goto fail;
    }
    /* In WAL mode, synchronous=NORMAL writes each commit to the WAL before the append
     * returns and syncs the WAL to disk only at checkpoints. A committed event survives a
     * crash of the process (the kernel holds the bytes); only a power loss or operating
     * system crash can lose the last commits, and never corrupts the file. FULL syncs
     * every commit, for deployments that must survive power loss. */
    const char *sync = (st->flags & SG_STORE_DURABLE) ? "PRAGMA synchronous = FULL"
                                                      : "PRAGMA synchronous = NORMAL";
    /* The append that takes the WAL past 1000 pages (4 MB) checkpoints it: copies it into
     * the database and syncs both, a stall of milliseconds. With MANUAL_CHECKPOINT that
     * work moves to whoever calls sg_store_checkpoint, on another thread. */
    if (sqlite3_exec(st->db, sync, NULL, NULL, NULL) != SQLITE_OK ||
        ((st->flags & SG_STORE_MANUAL_CHECKPOINT) &&
         sqlite3_exec(st->db, "PRAGMA wal_autocheckpoint = 0", NULL, NULL, NULL) != SQLITE_OK)) {
      db_err(st->db, errbuf, errlen, "cannot configure", path);
      goto fail;
    }
  }

  if ((err = prepare(st, sql_insert, &st->ins_event, errbuf, errlen)) != 0 ||
      (err = prepare(st, sql_head, &st->head, errbuf, errlen)) != 0 ||
      (err = prepare(st, "PRAGMA data_version", &st->data_version, errbuf, errlen)) != 0 ||
      (err = prepare(st, "BEGIN IMMEDIATE", &st->begin, errbuf, errlen)) != 0 ||
      (err = prepare(st, "COMMIT", &st->commit, errbuf, errlen)) != 0 ||
      (err = prepare(st, "ROLLBACK", &st->rollback, errbuf, errlen)) != 0)
    goto fail;

  *out = st;
  return 0;

fail:
  sg_store_close(st);
  return err;
}

int sg_store_open(const char *path, sg_store_t **out, char *errbuf, size_t errlen) {
  return sg_store_open_ex(path, NULL, out, errbuf, errlen);
}

int sg_store_open_readonly(const char *path, sg_store_t **out, char *errbuf, size_t errlen) {
  sg_store_options_t opts = {.flags = SG_STORE_READONLY};
  return sg_store_open_ex(path, &opts, out, errbuf, errlen);
}

static void pending_free(sg__pending_outcome_t *p) {
  free(p->call_id);
  free(p->tool);
  free(p->outcome);
  free(p->reason);
  free(p->detail);
}

void sg_store_close(sg_store_t *st) {
  if (st == NULL) return;
  if (st->npending && sg_store_flush(st) != 0)
    sg_error("store: %zu audit outcomes could not be written: %s", st->npending, st->errmsg);
  for (size_t i = 0; i < st->npending; i++) pending_free(&st->pending[i]);
  free(st->pending);
  sqlite3_stmt *stmts[] = {st->begin,      st->commit,        st->rollback, st->ins_event,
                           st->head,       st->data_version,  st->tail,     st->budget,
                           st->switch_get, st->approval_state};
  for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++) sqlite3_finalize(stmts[i]);
  /* The last connection to close checkpoints the WAL into the database and removes it. */
  if (sqlite3_close(st->db) != SQLITE_OK)
    sg_error("store: closing '%s': %s", st->path, sqlite3_errmsg(st->db));
  free(st->ser);
  EVP_MD_CTX_free(st->md_ctx);
  EVP_MD_free(st->md);
  free(st->path);
  free(st);
}

int sg_store_checkpoint(sg_store_t *st) {
  if (st == NULL) return SG_EINVAL;
  /* PASSIVE copies what it can without waiting for, or blocking, readers and writers;
   * the next append after a complete checkpoint rewinds the WAL to its start. */
  int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  if (rc == SQLITE_OK) return 0;
  snprintf(st->errmsg, sizeof st->errmsg, "cannot checkpoint '%s': %s", st->path,
           sqlite3_errmsg(st->db));
  return rc == SQLITE_BUSY ? 0 : SG_EIO;
}

const char *sg_store_errmsg(const sg_store_t *st) {
  return st ? st->errmsg : "";
}

int sg_store_data_version(sg_store_t *st, uint64_t *out) {
  if (st == NULL || out == NULL) return SG_EINVAL;
  int rc = sqlite3_step(st->data_version);
  if (rc == SQLITE_ROW) *out = (uint64_t)sqlite3_column_int64(st->data_version, 0);
  sqlite3_reset(st->data_version);
  return rc == SQLITE_ROW ? 0 : sg__store_db_fail(st, SG_EIO, "cannot read the data version");
}

void sg_store_time_iso(int64_t offset_ms, char out[32]) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + offset_ms * 1000;
  time_t sec = (time_t)(us / 1000000);
  long frac = (long)(us % 1000000);
  if (frac < 0) {
    frac += 1000000;
    sec--;
  }
  gmtime_r(&sec, &tm);
  size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, 32 - n, ".%06ldZ", frac);
}

static int one_of(const char *v, const char *const *set) {
  if (v == NULL) return 0;
  for (; *set; set++)
    if (strcmp(v, *set) == 0) return 1;
  return 0;
}

/* Length of v cut to at most max bytes (0: no limit) without splitting a UTF-8 sequence. */
static size_t bounded_len(const char *v, size_t max) {
  size_t n = max ? strnlen(v, max + 1) : strlen(v);
  if (max && n > max) {
    n = max;
    while (n > 0 && ((unsigned char)v[n] & 0xC0) == 0x80) n--;
  }
  return n;
}

/* The text is borrowed: the statement is reset before the caller's strings can go away. */
int sg__store_bind_text(sqlite3_stmt *s, int i, const char *v, size_t max) {
  if (v == NULL) return sqlite3_bind_null(s, i);
  return sqlite3_bind_text(s, i, v, (int)bounded_len(v, max), SQLITE_STATIC);
}

static int invalid(sg_store_t *st, const char *what) {
  snprintf(st->errmsg, sizeof st->errmsg, "audit event rejected: %s", what);
  return SG_EINVAL;
}

/* ---- the write transaction and the chained append ------------------------------- */

static int step_control(sg_store_t *st, sqlite3_stmt *s, const char *what) {
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc == SQLITE_DONE) return 0;
  snprintf(st->errmsg, sizeof st->errmsg, "cannot %s a transaction on '%s': %s", what, st->path,
           sqlite3_errmsg(st->db));
  return SG_EAUDIT;
}

/* Reads the chain's head under the write lock: no other writer can append until this
 * transaction ends, so the next row follows it. */
static int load_head(sg_store_t *st) {
  sqlite3_stmt *s = st->head;
  int rc = sqlite3_step(s);
  st->head_seq = 0;
  memcpy(st->head_hash, SG__ZERO_HASH, sizeof st->head_hash);
  if (rc == SQLITE_ROW) {
    st->head_seq = sqlite3_column_int64(s, 0);
    const char *h = (const char *)sqlite3_column_text(s, 1);
    /* A head without a hash can only come from outside; the next row then links to
     * zeros and verify reports the break. */
    if (h && strlen(h) == SG_SHA256_HEX_LEN) memcpy(st->head_hash, h, sizeof st->head_hash);
  }
  sqlite3_reset(s);
  if (rc == SQLITE_ROW || rc == SQLITE_DONE) return 0;
  return sg__store_db_fail(st, SG_EAUDIT, "cannot read the audit chain");
}

static int append_outcome(sg_store_t *st, const char *ts, const char *call_id, const char *tool,
                          const char *outcome, const char *reason, int64_t latency_us,
                          const char *detail) {
  sg__event_t ev = {.ts = ts,
                    .call_id = call_id,
                    .event = "outcome",
                    .tool = tool,
                    .outcome = outcome,
                    .reason = reason,
                    .latency_us = latency_us,
                    .detail = detail};
  return sg__store_append(st, &ev);
}

/* After this many transactions in a row that found the head where this handle left it,
 * a handle that saw other writers trusts its remembered head again. */
#define QUIET_TO_TRUST 16

int sg__store_begin(sg_store_t *st) {
  int rc = step_control(st, st->begin, "begin");
  /* The head this handle last committed is kept: reading it again costs a B-tree
   * descent per transaction. Until an insert succeeds it is only a guess, checked by the
   * first insert (see sg__store_append). While other handles append too, a guess is
   * mostly wrong and costs a failed insert, so the head is read up front instead. */
  st->head_checked = 0;
  if (rc == 0 && (!st->head_known || st->contended)) {
    int64_t mine = st->head_known ? st->head_seq : -1;
    rc = load_head(st);
    st->head_checked = rc == 0;
    if (rc == 0 && st->contended)
      st->contended = st->head_seq != mine || ++st->quiet < QUIET_TO_TRUST;
    if (st->head_seq != mine) st->quiet = 0;
  }
  for (size_t i = 0; rc == 0 && i < st->npending; i++) {
    sg__pending_outcome_t *p = &st->pending[i];
    rc = append_outcome(st, p->ts, p->call_id, p->tool, p->outcome, p->reason, p->latency_us,
                        p->detail);
  }
  return rc;
}

int sg__store_end(sg_store_t *st, int rc) {
  if (rc == 0) rc = step_control(st, st->commit, "commit");
  if (rc != 0) {
    /* The rows counted into the head were rolled back. */
    st->head_known = 0;
    if (!sqlite3_get_autocommit(st->db)) {
      char keep[sizeof st->errmsg];
      memcpy(keep, st->errmsg, sizeof keep);
      step_control(st, st->rollback, "roll back");
      memcpy(st->errmsg, keep, sizeof keep);
    }
    return rc;
  }
  st->head_known = 1;
  for (size_t i = 0; i < st->npending; i++) pending_free(&st->pending[i]);
  st->npending = 0;
  return 0;
}

static void set_text(sg__value_t *v, const char *s, size_t max) {
  if (s == NULL) {
    *v = (sg__value_t){.type = SQLITE_NULL};
    return;
  }
  *v = (sg__value_t){.type = SQLITE_TEXT, .p = s, .n = bounded_len(s, max)};
}

static int bind_value(sqlite3_stmt *s, int i, const sg__value_t *v) {
  switch (v->type) {
    case SQLITE_INTEGER:
      return sqlite3_bind_int64(s, i, v->i);
    case SQLITE_TEXT:
      return sqlite3_bind_text(s, i, v->p, (int)v->n, SQLITE_STATIC);
    default:
      return sqlite3_bind_null(s, i);
  }
}

const char *sg__store_args_json(const char *args, char buf[SG__OMITTED_MAX]) {
  if (args == NULL || strnlen(args, SG_AUDIT_ARGS_MAX + 1) <= SG_AUDIT_ARGS_MAX) return args;
  snprintf(buf, SG__OMITTED_MAX, "\"arguments omitted: %zu bytes, more than %d\"", strlen(args),
           SG_AUDIT_ARGS_MAX);
  return buf;
}

int sg__store_append(sg_store_t *st, const sg__event_t *ev) {
  sg__value_t v[SG__NCHAINED];
  char hash[SG_SHA256_HEX_LEN + 1], omitted[SG__OMITTED_MAX];
  const char *args = sg__store_args_json(ev->args_json, omitted);
  set_text(&v[SG__COL_TS], ev->ts, 0);
  set_text(&v[SG__COL_CALL_ID], ev->call_id, 0);
  set_text(&v[SG__COL_EVENT], ev->event, 0);
  set_text(&v[SG__COL_SUBJECT], ev->subject, 0);
  set_text(&v[SG__COL_ROLE], ev->role, 0);
  set_text(&v[SG__COL_TENANT], ev->tenant, 0);
  set_text(&v[SG__COL_ENV], ev->env, 0);
  set_text(&v[SG__COL_TOOL], ev->tool, SG_AUDIT_TOOL_MAX);
  set_text(&v[SG__COL_ARGS_HASH], ev->args_hash, 0);
  set_text(&v[SG__COL_DECISION], ev->decision, 0);
  set_text(&v[SG__COL_REASON], ev->reason, 0);
  set_text(&v[SG__COL_OUTCOME], ev->outcome, 0);
  v[SG__COL_LATENCY_US] = ev->latency_us < 0
                              ? (sg__value_t){.type = SQLITE_NULL}
                              : (sg__value_t){.type = SQLITE_INTEGER, .i = ev->latency_us};
  set_text(&v[SG__COL_DETAIL], ev->detail, SG_AUDIT_DETAIL_MAX);
  set_text(&v[SG__COL_ARGS_JSON], args, 0);
  set_text(&v[SG__COL_ACTOR], ev->actor, SG_STORE_ACTOR_MAX);
  set_text(&v[SG__COL_APPROVAL_ID], ev->approval_id, 0);

  sqlite3_stmt *s = st->ins_event;
  int rc;
  for (;;) {
    v[SG__COL_SEQ] = (sg__value_t){.type = SQLITE_INTEGER, .i = st->head_seq + 1};
    set_text(&v[SG__COL_PREV_HASH], st->head_hash, 0);
    int err = sg__chain_hash(st, v, hash);
    if (err != 0) return sg__store_fail(st, err, "cannot hash the %s: out of memory", ev->event);
    rc = SQLITE_OK;
    for (int i = 0; rc == SQLITE_OK && i < SG__NCHAINED; i++) rc = bind_value(s, i + 1, &v[i]);
    if (rc == SQLITE_OK) rc = sqlite3_bind_text(s, SG__COL_HASH + 1, hash, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) rc = sqlite3_step(s);
    /* Reset, so that no statement points at the caller's strings once this returns. */
    sqlite3_reset(s);
    /* Another handle appended since this one last did: as seqs have no gaps, the row
     * after the remembered head exists, and the insert collides with it instead of
     * forking the chain. Read the real head, and go again. */
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY && !st->head_checked) {
      if ((err = load_head(st)) != 0) return err;
      st->head_checked = 1;
      st->contended = 1;
      st->quiet = 0;
      continue;
    }
    break;
  }
  if (rc != SQLITE_DONE) {
    int sys = sqlite3_system_errno(st->db);
    snprintf(st->errmsg, sizeof st->errmsg, "cannot record the %s in '%s': %s%s%s%s", ev->event,
             st->path, sqlite3_errmsg(st->db), sys ? " (" : "", sys ? strerror(sys) : "",
             sys ? ")" : "");
    return SG_EAUDIT;
  }
  st->head_checked = 1;
  st->head_seq++;
  memcpy(st->head_hash, hash, sizeof hash);
  return 0;
}

/* ---- calls -------------------------------------------------------------------------- */

static int check_decision(sg_store_t *st, const sg_audit_decision_t *d) {
  if (d == NULL) return SG_EINVAL;
  if (d->call_id == NULL) return invalid(st, "decision without call_id");
  if (!one_of(d->decision, decisions)) return invalid(st, "decision is not allow or deny");
  if (d->reason == NULL || d->reason[0] == '\0') return invalid(st, "decision without reason code");
  return 0;
}

/* Appends d with the current time, also written into ts. */
static int append_decision(sg_store_t *st, const sg_audit_decision_t *d, char ts[32]) {
  sg_wall_iso(ts);
  sg__event_t ev = {.ts = ts,
                    .call_id = d->call_id,
                    .event = "decision",
                    .subject = d->subject,
                    .role = d->role,
                    .tenant = d->tenant,
                    .env = d->env,
                    .tool = d->tool,
                    .args_hash = d->args_hash,
                    .decision = d->decision,
                    .reason = d->reason,
                    .detail = d->detail,
                    .args_json = d->args_json,
                    .latency_us = -1};
  return sg__store_append(st, &ev);
}

int sg_store_audit_decision(sg_store_t *st, const sg_audit_decision_t *d) {
  char ts[32];
  if (st == NULL) return SG_EINVAL;
  int rc = check_decision(st, d);
  if (rc != 0) return rc;
  /* Queued outcomes ride along in the decision's transaction. */
  rc = sg__store_begin(st);
  if (rc == 0) rc = append_decision(st, d, ts);
  return sg__store_end(st, rc);
}

static const char sql_budget[] =
    "SELECT count(*) FROM budget_calls WHERE subject IS ?1 AND tool = ?2 AND ts >= ?3";

static int budget_count(sg_store_t *st, const char *subject, const char *tool, const char *since,
                        int64_t *n) {
  int err = sg__store_prepare(st, &st->budget, sql_budget);
  if (err != 0) return err;
  sqlite3_stmt *s = st->budget;
  int rc = sg__store_bind_text(s, 1, subject, 0);
  if (rc == SQLITE_OK) rc = sg__store_bind_text(s, 2, tool, SG_AUDIT_TOOL_MAX);
  if (rc == SQLITE_OK) rc = sg__store_bind_text(s, 3, since, 0);
  if (rc == SQLITE_OK) rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) *n = sqlite3_column_int64(s, 0);
  if (rc != SQLITE_ROW) sg__store_db_fail(st, SG_EIO, "cannot count calls");
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? 0 : SG_EIO;
}

int sg_store_budget_count(sg_store_t *st, const char *subject, const char *tool,
                          const char *since_iso, int64_t *n) {
  if (st == NULL || n == NULL) return SG_EINVAL;
  if (tool == NULL || since_iso == NULL) return invalid(st, "budget without tool or time");
  return budget_count(st, subject, tool, since_iso, n);
}

/* Records the allowed decision just appended (the head) as spending its budget. */
static int spend_budget(sg_store_t *st, const sg_audit_decision_t *d, const char *ts) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(st->db,
                         "INSERT INTO budget_calls (seq, subject, tool, ts)"
                         " VALUES (?1, ?2, ?3, ?4)",
                         -1, &s, NULL) != SQLITE_OK)
    return sg__store_db_fail(st, SG_EAUDIT, "cannot record the call's budget");
  sqlite3_bind_int64(s, 1, st->head_seq);
  sg__store_bind_text(s, 2, d->subject, 0);
  sg__store_bind_text(s, 3, d->tool, SG_AUDIT_TOOL_MAX);
  sqlite3_bind_text(s, 4, ts, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s) == SQLITE_DONE
               ? 0
               : sg__store_db_fail(st, SG_EAUDIT, "cannot record the call's budget");
  sqlite3_finalize(s);
  return rc;
}

int sg_store_audit_decision_budgeted(sg_store_t *st, const sg_audit_decision_t *allow,
                                     const sg_audit_decision_t *over, const char *since_iso,
                                     int64_t limit, int *allowed) {
  int64_t n = 0;
  char ts[32];
  if (st == NULL) return SG_EINVAL;
  int rc = check_decision(st, allow);
  if (rc == 0) rc = check_decision(st, over);
  if (rc != 0) return rc;
  if (strcmp(allow->decision, "allow") != 0 || strcmp(over->decision, "deny") != 0)
    return invalid(st, "a budgeted decision is an allow and a deny");
  if (allow->tool == NULL || since_iso == NULL) return invalid(st, "budget without tool or time");
  rc = sg__store_begin(st);
  if (rc == 0 && budget_count(st, allow->subject, allow->tool, since_iso, &n) != 0) rc = SG_EAUDIT;
  int ok = n < limit;
  if (rc == 0) rc = append_decision(st, ok ? allow : over, ts);
  if (rc == 0 && ok) rc = spend_budget(st, allow, ts);
  rc = sg__store_end(st, rc);
  if (rc == 0 && allowed) *allowed = ok;
  return rc;
}

static int check_outcome(sg_store_t *st, const char *call_id, const char *outcome) {
  if (st == NULL) return SG_EINVAL;
  if (call_id == NULL) return invalid(st, "outcome without call_id");
  if (!one_of(outcome, outcomes)) return invalid(st, "unknown outcome");
  return 0;
}

int sg_store_audit_outcome(sg_store_t *st, const char *call_id, const char *tool,
                           const char *outcome, const char *reason, int64_t latency_us,
                           const char *detail) {
  char ts[32];
  int rc = check_outcome(st, call_id, outcome);
  if (rc) return rc;
  sg_wall_iso(ts);
  rc = sg__store_begin(st);
  if (rc == 0) rc = append_outcome(st, ts, call_id, tool, outcome, reason, latency_us, detail);
  return sg__store_end(st, rc);
}

static char *dup_or_null(const char *s) {
  return s ? strdup(s) : NULL;
}

int sg_store_audit_outcome_later(sg_store_t *st, const char *call_id, const char *tool,
                                 const char *outcome, const char *reason, int64_t latency_us,
                                 const char *detail) {
  int rc = check_outcome(st, call_id, outcome);
  if (rc) return rc;
  if (st->npending == PENDING_MAX && (rc = sg_store_flush(st)) != 0) return rc;
  if (st->pending == NULL && (st->pending = calloc(PENDING_MAX, sizeof *st->pending)) == NULL)
    return SG_ENOMEM;
  sg__pending_outcome_t *p = &st->pending[st->npending];
  sg_wall_iso(p->ts);
  p->call_id = strdup(call_id);
  p->tool = dup_or_null(tool);
  p->outcome = strdup(outcome);
  p->reason = dup_or_null(reason);
  p->detail = dup_or_null(detail);
  p->latency_us = latency_us;
  if (!p->call_id || !p->outcome || (tool && !p->tool) || (reason && !p->reason) ||
      (detail && !p->detail)) {
    pending_free(p);
    return SG_ENOMEM;
  }
  st->npending++;
  return 0;
}

size_t sg_store_pending(const sg_store_t *st) {
  return st ? st->npending : 0;
}

int sg_store_audit_note(sg_store_t *st, const char *event, const char *tenant, const char *env,
                        const char *tool, const char *reason, const char *detail) {
  char ts[32];
  if (st == NULL) return SG_EINVAL;
  if (!one_of(event, notes)) return invalid(st, "unknown event");
  sg_wall_iso(ts);
  sg__event_t ev = {.ts = ts,
                    .call_id = "-",
                    .event = event,
                    .tenant = tenant,
                    .env = env,
                    .tool = tool,
                    .reason = reason,
                    .detail = detail,
                    .latency_us = -1};
  int rc = sg__store_begin(st);
  if (rc == 0) rc = sg__store_append(st, &ev);
  return sg__store_end(st, rc);
}

int sg_store_flush(sg_store_t *st) {
  if (st == NULL) return SG_EINVAL;
  if (st->npending == 0) return 0;
  return sg__store_end(st, sg__store_begin(st));
}

/* ---- reading ------------------------------------------------------------------------ */

static const char *col_text(sqlite3_stmt *s, int i) {
  return (const char *)sqlite3_column_text(s, i);
}

int sg_store_audit_tail(sg_store_t *st, int n, void (*fn)(const sg_audit_row_t *row, void *arg),
                        void *arg) {
  if (st == NULL || fn == NULL || n < 0) return SG_EINVAL;
  if (n == 0) return 0;
  if (sg__store_prepare(st, &st->tail, sql_tail) != 0) return SG_EIO;
  sqlite3_stmt *s = st->tail;
  int rc = sqlite3_bind_int(s, 1, n);
  while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    sg_audit_row_t row = {
        .seq = sqlite3_column_int64(s, 0),
        .ts = col_text(s, 1),
        .call_id = col_text(s, 2),
        .subject = col_text(s, 3),
        .role = col_text(s, 4),
        .tenant = col_text(s, 5),
        .env = col_text(s, 6),
        .tool = col_text(s, 7),
        .args_hash = col_text(s, 8),
        .decision = col_text(s, 9),
        .reason = col_text(s, 10),
        .detail = col_text(s, 11),
        .outcome = col_text(s, 12),
        .outcome_reason = col_text(s, 13),
        .latency_us = sqlite3_column_type(s, 14) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 14),
        .outcome_detail = col_text(s, 15),
        .event = col_text(s, 16),
        .actor = col_text(s, 17),
        .approval_id = col_text(s, 18),
        .args_json = col_text(s, 19),
        .approval = col_text(s, 20),
        .approval_detail = col_text(s, 21),
    };
    fn(&row, arg);
    rc = SQLITE_OK;
  }
  if (rc != SQLITE_DONE) {
    snprintf(st->errmsg, sizeof st->errmsg, "cannot read the audit log in '%s': %s", st->path,
             sqlite3_errmsg(st->db));
    sqlite3_reset(s);
    return SG_EIO;
  }
  sqlite3_reset(s);
  return 0;
}
