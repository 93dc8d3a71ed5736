/*
 * The store on SQLite. One connection per handle; every statement the hot path runs is
 * prepared once at open. The database is in WAL mode so that readers (scopegate audit
 * tail, other gateways) never block the writer, and several gateway processes may share
 * one file: a writer that finds the file locked waits up to the busy timeout, then fails
 * the append, and the call is denied.
 *
 * The schema is versioned with PRAGMA user_version and marked as ours with PRAGMA
 * application_id. A database is migrated forward on a read-write open; one with a newer
 * version, or one that belongs to another program, is refused rather than touched.
 *
 * audit_events is append-only: rows are never updated or deleted (triggers enforce it),
 * because a later schema chains each row's hash to the previous one.
 */
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "store/store.h"

/* "scop", so that a scopegate database can be told from any other SQLite file. */
#define APPLICATION_ID 0x73636f70

/* migrations[i] takes the schema from version i to version i + 1; the schema version
 * this build writes is the number of migrations. Never edit a released step: add one. */
static const char *const migrations[] = {
    /* 0 -> 1: the audit log. seq is the rowid without AUTOINCREMENT: as no row is ever
     * deleted, the next seq is always the largest so far plus one, and AUTOINCREMENT
     * would only add a third page (sqlite_sequence) to the two each append writes. */
    "CREATE TABLE audit_events ("
    "  seq        INTEGER PRIMARY KEY,"
    "  ts         TEXT NOT NULL," /* UTC, YYYY-MM-DDTHH:MM:SS.uuuuuuZ */
    "  call_id    TEXT NOT NULL,"
    "  event      TEXT NOT NULL," /* 'decision' | 'outcome' */
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
};

#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

static const char sql_decision[] =
    "INSERT INTO audit_events (ts, call_id, event, subject, role, tenant, env, tool,"
    " args_hash, decision, reason, detail)"
    " VALUES (?1, ?2, 'decision', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

static const char sql_outcome[] =
    "INSERT INTO audit_events (ts, call_id, event, tool, outcome, reason, latency_us, detail)"
    " VALUES (?1, ?2, 'outcome', ?3, ?4, ?5, ?6, ?7)";

/* One row per call: a decision joined with the latest outcome of its call_id, or an
 * outcome whose call has no decision. The inner query walks seq downwards and stops after
 * ?1 rows, so its cost depends on n, not on the size of the log; each lookup by call_id
 * uses audit_events_call. */
static const char sql_note[] =
    "INSERT INTO audit_events (ts, call_id, event, tenant, env, tool, reason, detail)"
    " VALUES (?1, '-', ?2, ?3, ?4, ?5, ?6, ?7)";

static const char sql_tail[] =
    "SELECT seq, ts, call_id, subject, role, tenant, env, tool, args_hash, decision, reason,"
    "       detail, outcome, outcome_reason, latency_us, outcome_detail, event FROM ("
    " SELECT e.seq AS seq, e.ts AS ts, e.call_id AS call_id, e.subject AS subject,"
    "  e.role AS role, e.tenant AS tenant, e.env AS env, COALESCE(e.tool, o.tool) AS tool,"
    "  e.args_hash AS args_hash, e.decision AS decision, e.event AS event,"
    "  CASE WHEN e.event <> 'outcome' THEN e.reason END AS reason,"
    "  CASE WHEN e.event <> 'outcome' THEN e.detail END AS detail,"
    "  COALESCE(o.outcome, e.outcome) AS outcome,"
    "  CASE WHEN e.event = 'outcome' THEN e.reason ELSE o.reason END AS outcome_reason,"
    "  COALESCE(o.latency_us, e.latency_us) AS latency_us,"
    "  CASE WHEN e.event = 'outcome' THEN e.detail ELSE o.detail END AS outcome_detail"
    " FROM audit_events AS e"
    " LEFT JOIN audit_events AS o ON e.event = 'decision' AND o.seq = ("
    "  SELECT MAX(x.seq) FROM audit_events AS x"
    "  WHERE x.call_id = e.call_id AND x.event = 'outcome')"
    " WHERE e.event NOT IN ('decision', 'outcome') OR e.event = 'decision'"
    "  OR (e.event = 'outcome' AND NOT EXISTS ("
    "   SELECT 1 FROM audit_events AS d WHERE d.call_id = e.call_id AND d.event = 'decision'))"
    " ORDER BY e.seq DESC LIMIT ?1"
    ") ORDER BY seq";

/* An outcome waiting for the next transaction (see sg_store_audit_outcome_later). */
typedef struct {
  char ts[32];
  char *call_id, *tool, *outcome, *reason, *detail;
  int64_t latency_us;
} pending_outcome_t;

/* Past this many queued outcomes the queue is flushed at once rather than grown. */
#define PENDING_MAX 1024

struct sg_store {
  sqlite3 *db;
  sqlite3_stmt *ins_decision;
  sqlite3_stmt *ins_outcome;
  sqlite3_stmt *ins_note;
  sqlite3_stmt *tail;
  sqlite3_stmt *begin;
  sqlite3_stmt *commit;
  sqlite3_stmt *rollback;
  pending_outcome_t *pending;
  size_t npending;
  unsigned flags;
  char *path;
  char errmsg[512];
};

static const char *const decisions[] = {"allow", "deny", NULL};
static const char *const outcomes[] = {"ok", "tool_error", "error", "cancelled", "timeout", NULL};
static const char *const notes[] = {"drift", NULL};

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
 * before the version is read again, so two processes opening a new file at once migrate
 * it once. */
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
  for (int v = version; v < SCHEMA_VERSION; v++)
    if (sqlite3_exec(st->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK) goto fail_tx;
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
  if (query_int(st->db, "PRAGMA application_id", &app) != SQLITE_OK ||
      query_int(st->db, "PRAGMA user_version", &version) != SQLITE_OK ||
      query_int(st->db, "SELECT count(*) FROM sqlite_master", &tables) != SQLITE_OK) {
    db_err(st->db, errbuf, errlen, "cannot read database", st->path);
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

static int prepare(sg_store_t *st, const char *sql, sqlite3_stmt **out, char *errbuf,
                   size_t errlen) {
  if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) == SQLITE_OK)
    return 0;
  db_err(st->db, errbuf, errlen, "cannot prepare statements on", st->path);
  return SG_EIO;
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
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
      const unsigned char *m = sqlite3_column_text(s, 0);
      snprintf(mode, sizeof mode, "%s", m ? (const char *)m : "");
    }
    sqlite3_finalize(s);
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

  if ((err = prepare(st, sql_decision, &st->ins_decision, errbuf, errlen)) != 0 ||
      (err = prepare(st, sql_outcome, &st->ins_outcome, errbuf, errlen)) != 0 ||
      (err = prepare(st, sql_tail, &st->tail, errbuf, errlen)) != 0 ||
      (err = prepare(st, sql_note, &st->ins_note, errbuf, errlen)) != 0 ||
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

static void pending_free(pending_outcome_t *p) {
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
  sqlite3_finalize(st->begin);
  sqlite3_finalize(st->commit);
  sqlite3_finalize(st->rollback);
  sqlite3_finalize(st->ins_decision);
  sqlite3_finalize(st->ins_outcome);
  sqlite3_finalize(st->ins_note);
  sqlite3_finalize(st->tail);
  /* The last connection to close checkpoints the WAL into the database and removes it. */
  if (sqlite3_close(st->db) != SQLITE_OK)
    sg_error("store: closing '%s': %s", st->path, sqlite3_errmsg(st->db));
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

static int one_of(const char *v, const char *const *set) {
  if (v == NULL) return 0;
  for (; *set; set++)
    if (strcmp(v, *set) == 0) return 1;
  return 0;
}

/* Binds v (NULL binds NULL), cut to at most max bytes (0: no limit) without splitting a
 * UTF-8 sequence. The text is borrowed: the statement is reset before the caller's
 * strings can go away. */
static int bind_text(sqlite3_stmt *s, int i, const char *v, size_t max) {
  if (v == NULL) return sqlite3_bind_null(s, i);
  size_t n = max ? strnlen(v, max + 1) : strlen(v);
  if (max && n > max) {
    n = max;
    while (n > 0 && ((unsigned char)v[n] & 0xC0) == 0x80) n--;
  }
  return sqlite3_bind_text(s, i, v, (int)n, SQLITE_STATIC);
}

static int invalid(sg_store_t *st, const char *what) {
  snprintf(st->errmsg, sizeof st->errmsg, "audit event rejected: %s", what);
  return SG_EINVAL;
}

/* Steps an insert, then resets it whatever happened, so that no statement keeps a
 * transaction open or points at the caller's strings. */
static int run_insert(sg_store_t *st, sqlite3_stmt *s, int bind_rc, const char *what) {
  int rc = bind_rc == SQLITE_OK ? sqlite3_step(s) : bind_rc;
  if (rc != SQLITE_DONE) {
    int sys = sqlite3_system_errno(st->db);
    snprintf(st->errmsg, sizeof st->errmsg, "cannot record the %s in '%s': %s%s%s%s", what,
             st->path, sqlite3_errmsg(st->db), sys ? " (" : "", sys ? strerror(sys) : "",
             sys ? ")" : "");
    sqlite3_reset(s);
    return SG_EAUDIT;
  }
  sqlite3_reset(s);
  return 0;
}

static int begin_with_pending(sg_store_t *st);
static int end_with_pending(sg_store_t *st, int rc);

int sg_store_audit_decision(sg_store_t *st, const sg_audit_decision_t *d) {
  char ts[32];
  if (st == NULL || d == NULL) return SG_EINVAL;
  if (d->call_id == NULL) return invalid(st, "decision without call_id");
  if (!one_of(d->decision, decisions)) return invalid(st, "decision is not allow or deny");
  if (d->reason == NULL || d->reason[0] == '\0') return invalid(st, "decision without reason code");

  sg_wall_iso(ts);
  sqlite3_stmt *s = st->ins_decision;
  int rc = sqlite3_bind_text(s, 1, ts, -1, SQLITE_STATIC);
  if (rc == SQLITE_OK) rc = bind_text(s, 2, d->call_id, 0);
  if (rc == SQLITE_OK) rc = bind_text(s, 3, d->subject, 0);
  if (rc == SQLITE_OK) rc = bind_text(s, 4, d->role, 0);
  if (rc == SQLITE_OK) rc = bind_text(s, 5, d->tenant, 0);
  if (rc == SQLITE_OK) rc = bind_text(s, 6, d->env, 0);
  if (rc == SQLITE_OK) rc = bind_text(s, 7, d->tool, SG_AUDIT_TOOL_MAX);
  if (rc == SQLITE_OK) rc = bind_text(s, 8, d->args_hash, 0);
  if (rc == SQLITE_OK) rc = bind_text(s, 9, d->decision, 0);
  if (rc == SQLITE_OK) rc = bind_text(s, 10, d->reason, 0);
  if (rc == SQLITE_OK) rc = bind_text(s, 11, d->detail, SG_AUDIT_DETAIL_MAX);
  if (st->npending == 0) return run_insert(st, s, rc, "decision");
  /* Queued outcomes ride along in the decision's transaction. */
  int err = begin_with_pending(st);
  if (err == 0) err = run_insert(st, s, rc, "decision");
  else sqlite3_clear_bindings(s);
  return end_with_pending(st, err);
}

static int insert_outcome(sg_store_t *st, const char *ts, const char *call_id,
                          const char *tool, const char *outcome, const char *reason,
                          int64_t latency_us, const char *detail) {
  sqlite3_stmt *s = st->ins_outcome;
  int rc = sqlite3_bind_text(s, 1, ts, -1, SQLITE_STATIC);
  if (rc == SQLITE_OK) rc = bind_text(s, 2, call_id, 0);
  if (rc == SQLITE_OK) rc = bind_text(s, 3, tool, SG_AUDIT_TOOL_MAX);
  if (rc == SQLITE_OK) rc = bind_text(s, 4, outcome, 0);
  if (rc == SQLITE_OK) rc = bind_text(s, 5, reason, 0);
  if (rc == SQLITE_OK)
    rc = latency_us < 0 ? sqlite3_bind_null(s, 6) : sqlite3_bind_int64(s, 6, latency_us);
  if (rc == SQLITE_OK) rc = bind_text(s, 7, detail, SG_AUDIT_DETAIL_MAX);
  return run_insert(st, s, rc, "outcome");
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
  return insert_outcome(st, ts, call_id, tool, outcome, reason, latency_us, detail);
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

int sg_store_audit_outcome_later(sg_store_t *st, const char *call_id, const char *tool,
                                 const char *outcome, const char *reason, int64_t latency_us,
                                 const char *detail) {
  int rc = check_outcome(st, call_id, outcome);
  if (rc) return rc;
  if (st->npending == PENDING_MAX && (rc = sg_store_flush(st)) != 0) return rc;
  if (st->pending == NULL && (st->pending = calloc(PENDING_MAX, sizeof *st->pending)) == NULL)
    return SG_ENOMEM;
  pending_outcome_t *p = &st->pending[st->npending];
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

size_t sg_store_pending(const sg_store_t *st) { return st ? st->npending : 0; }

int sg_store_audit_note(sg_store_t *st, const char *event, const char *tenant, const char *env,
                        const char *tool, const char *reason, const char *detail) {
  char ts[32];
  if (st == NULL) return SG_EINVAL;
  if (!one_of(event, notes)) return invalid(st, "unknown event");
  sg_wall_iso(ts);
  sqlite3_stmt *s = st->ins_note;
  int rc = sqlite3_bind_text(s, 1, ts, -1, SQLITE_STATIC);
  if (rc == SQLITE_OK) rc = bind_text(s, 2, event, 0);
  if (rc == SQLITE_OK) rc = bind_text(s, 3, tenant, 0);
  if (rc == SQLITE_OK) rc = bind_text(s, 4, env, 0);
  if (rc == SQLITE_OK) rc = bind_text(s, 5, tool, SG_AUDIT_TOOL_MAX);
  if (rc == SQLITE_OK) rc = bind_text(s, 6, reason, 0);
  if (rc == SQLITE_OK) rc = bind_text(s, 7, detail, SG_AUDIT_DETAIL_MAX);
  if (st->npending == 0) return run_insert(st, s, rc, event);
  int err = begin_with_pending(st);
  if (err == 0) err = run_insert(st, s, rc, event);
  else sqlite3_clear_bindings(s);
  return end_with_pending(st, err);
}

static int step_control(sg_store_t *st, sqlite3_stmt *s, const char *what) {
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc == SQLITE_DONE) return 0;
  snprintf(st->errmsg, sizeof st->errmsg, "cannot %s a transaction on '%s': %s", what, st->path,
           sqlite3_errmsg(st->db));
  return SG_EAUDIT;
}

/* Opens a transaction and writes the queued outcomes into it. */
static int begin_with_pending(sg_store_t *st) {
  int rc = step_control(st, st->begin, "begin");
  for (size_t i = 0; rc == 0 && i < st->npending; i++) {
    pending_outcome_t *p = &st->pending[i];
    rc = insert_outcome(st, p->ts, p->call_id, p->tool, p->outcome, p->reason, p->latency_us,
                        p->detail);
  }
  return rc;
}

/* Commits what begin_with_pending started (and, on success, forgets the queue), or rolls
 * it back when rc reports a failure, keeping the queue for the next attempt. */
static int end_with_pending(sg_store_t *st, int rc) {
  if (rc == 0) rc = step_control(st, st->commit, "commit");
  if (rc != 0) {
    if (!sqlite3_get_autocommit(st->db)) {
      char keep[sizeof st->errmsg];
      memcpy(keep, st->errmsg, sizeof keep);
      step_control(st, st->rollback, "roll back");
      memcpy(st->errmsg, keep, sizeof keep);
    }
    return rc;
  }
  for (size_t i = 0; i < st->npending; i++) pending_free(&st->pending[i]);
  st->npending = 0;
  return 0;
}

int sg_store_flush(sg_store_t *st) {
  if (st == NULL) return SG_EINVAL;
  if (st->npending == 0) return 0;
  return end_with_pending(st, begin_with_pending(st));
}

static const char *col_text(sqlite3_stmt *s, int i) {
  return (const char *)sqlite3_column_text(s, i);
}

int sg_store_audit_tail(sg_store_t *st, int n, void (*fn)(const sg_audit_row_t *row, void *arg),
                        void *arg) {
  if (st == NULL || fn == NULL || n < 0) return SG_EINVAL;
  if (n == 0) return 0;
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
