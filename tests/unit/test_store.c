/*
 * The SQLite store: audit events are appended and read back joined per call; the file is
 * in WAL mode; every way a write can fail is reported, never swallowed; databases the
 * build cannot use are refused untouched.
 */
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "runner.h"
#include "store/store.h"

/* A temporary directory holding one database; removed by tmp_done. */
typedef struct {
  char dir[64];
  char db[128];
} tmp_t;

static void tmp_init(tmp_t *t) {
  snprintf(t->dir, sizeof t->dir, "/tmp/sg-store-XXXXXX");
  CHECK(mkdtemp(t->dir) != NULL);
  snprintf(t->db, sizeof t->db, "%s/audit.db", t->dir);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static void tmp_done(tmp_t *t) {
  nftw(t->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static sg_store_t *open_rw(const char *path) {
  sg_store_t *st = NULL;
  char err[512];
  int rc = sg_store_open(path, &st, err, sizeof err);
  if (rc != 0) fprintf(stderr, "open: %s\n", err);
  CHECK_INT_EQ(rc, 0);
  CHECK(st != NULL);
  return st;
}

/* Runs one statement on a separate connection, as another process would. */
static int raw_exec(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  int rc = sqlite3_open(path, &db);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
  sqlite3_close(db);
  return rc;
}

static char *raw_text(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  char *out = NULL;
  CHECK_INT_EQ(sqlite3_open(path, &db), SQLITE_OK);
  CHECK_INT_EQ(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
  if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
    out = strdup((const char *)sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

static int raw_int(const char *path, const char *sql) {
  char *t = raw_text(path, sql);
  int v = t ? (int)strtol(t, NULL, 10) : -1;
  free(t);
  return v;
}

static void decide(sg_store_t *st, const char *call_id, const char *tool, const char *decision,
                   const char *reason, const char *detail) {
  sg_audit_decision_t d = {
      .call_id = call_id,
      .subject = "alice",
      .role = "support-agent",
      .tenant = "acme",
      .env = "prod",
      .tool = tool,
      .args_hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      .decision = decision,
      .reason = reason,
      .detail = detail,
  };
  CHECK_INT_EQ(sg_store_audit_decision(st, &d), 0);
}

/* Copies of the rows a tail delivered. */
#define MAX_ROWS 16
typedef struct {
  int n;
  struct {
    int64_t seq, latency_us;
    char *ts, *call_id, *subject, *tool, *args_hash, *decision, *reason, *detail, *outcome,
        *outcome_reason, *outcome_detail;
  } r[MAX_ROWS];
} rows_t;

static char *dup_or_null(const char *s) {
  return s ? strdup(s) : NULL;
}

static void collect(const sg_audit_row_t *row, void *arg) {
  rows_t *rows = arg;
  CHECK(rows->n < MAX_ROWS);
  int i = rows->n++;
  rows->r[i].seq = row->seq;
  rows->r[i].latency_us = row->latency_us;
  rows->r[i].ts = dup_or_null(row->ts);
  rows->r[i].call_id = dup_or_null(row->call_id);
  rows->r[i].subject = dup_or_null(row->subject);
  rows->r[i].tool = dup_or_null(row->tool);
  rows->r[i].args_hash = dup_or_null(row->args_hash);
  rows->r[i].decision = dup_or_null(row->decision);
  rows->r[i].reason = dup_or_null(row->reason);
  rows->r[i].detail = dup_or_null(row->detail);
  rows->r[i].outcome = dup_or_null(row->outcome);
  rows->r[i].outcome_reason = dup_or_null(row->outcome_reason);
  rows->r[i].outcome_detail = dup_or_null(row->outcome_detail);
}

static void rows_free(rows_t *rows) {
  for (int i = 0; i < rows->n; i++) {
    free(rows->r[i].ts);
    free(rows->r[i].call_id);
    free(rows->r[i].subject);
    free(rows->r[i].tool);
    free(rows->r[i].args_hash);
    free(rows->r[i].decision);
    free(rows->r[i].reason);
    free(rows->r[i].detail);
    free(rows->r[i].outcome);
    free(rows->r[i].outcome_reason);
    free(rows->r[i].outcome_detail);
  }
  rows->n = 0;
}

/* Replaces *rows with the last n calls. */
static void tail(sg_store_t *st, int n, rows_t *rows) {
  rows_free(rows);
  CHECK_INT_EQ(sg_store_audit_tail(st, n, collect, rows), 0);
}

static void append_and_read_back_joined(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *st = open_rw(t.db);
  decide(st, "c1", "ticket.read", "allow", "ok", NULL);
  decide(st, "c2", "ticket.close", "deny", "not_granted", "role lacks ticket.close");
  CHECK_INT_EQ(sg_store_audit_outcome(st, "c1", "ticket.read", "ok", "ok", 1234, NULL), 0);

  rows_t rows = {0};
  tail(st, 10, &rows);
  CHECK_INT_EQ(rows.n, 2);
  CHECK_STR_EQ(rows.r[0].call_id, "c1");
  CHECK_STR_EQ(rows.r[0].subject, "alice");
  CHECK_STR_EQ(rows.r[0].tool, "ticket.read");
  CHECK_STR_EQ(rows.r[0].decision, "allow");
  CHECK_STR_EQ(rows.r[0].reason, "ok");
  CHECK_STR_EQ(rows.r[0].outcome, "ok");
  CHECK_STR_EQ(rows.r[0].outcome_reason, "ok");
  CHECK_INT_EQ(rows.r[0].latency_us, 1234);
  CHECK(rows.r[0].detail == NULL);
  CHECK_INT_EQ(strlen(rows.r[0].args_hash), 64);
  /* YYYY-MM-DDTHH:MM:SS.uuuuuuZ */
  CHECK_INT_EQ(strlen(rows.r[0].ts), 27);
  CHECK(rows.r[0].ts[10] == 'T' && rows.r[0].ts[26] == 'Z');

  CHECK_STR_EQ(rows.r[1].call_id, "c2");
  CHECK_STR_EQ(rows.r[1].decision, "deny");
  CHECK_STR_EQ(rows.r[1].reason, "not_granted");
  CHECK_STR_EQ(rows.r[1].detail, "role lacks ticket.close");
  CHECK(rows.r[1].outcome == NULL);
  CHECK(rows.r[1].outcome_reason == NULL);
  CHECK_INT_EQ(rows.r[1].latency_us, -1);
  CHECK(rows.r[0].seq < rows.r[1].seq);

  /* Three events were appended: the join does not merge or drop rows. */
  CHECK_INT_EQ(raw_int(t.db, "SELECT count(*) FROM audit_events"), 3);
  sg_store_close(st);
  rows_free(&rows);
  tmp_done(&t);
}

static void tail_last_n_oldest_first(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *st = open_rw(t.db);
  char id[16];
  for (int i = 1; i <= 5; i++) {
    snprintf(id, sizeof id, "c%d", i);
    decide(st, id, "echo", "allow", "ok", NULL);
    CHECK_INT_EQ(sg_store_audit_outcome(st, id, "echo", "ok", "ok", (int64_t)i * 10, NULL), 0);
  }
  rows_t rows = {0};
  tail(st, 2, &rows);
  CHECK_INT_EQ(rows.n, 2);
  CHECK_STR_EQ(rows.r[0].call_id, "c4");
  CHECK_STR_EQ(rows.r[1].call_id, "c5");
  CHECK_INT_EQ(rows.r[1].latency_us, 50);

  tail(st, 100, &rows);
  CHECK_INT_EQ(rows.n, 5);
  CHECK_STR_EQ(rows.r[0].call_id, "c1");
  CHECK_STR_EQ(rows.r[4].call_id, "c5");

  tail(st, 0, &rows);
  CHECK_INT_EQ(rows.n, 0);
  CHECK_INT_EQ(sg_store_audit_tail(st, -1, collect, &rows), SG_EINVAL);
  sg_store_close(st);
  rows_free(&rows);
  tmp_done(&t);
}

static void tail_of_empty_log(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *st = open_rw(t.db);
  rows_t rows = {0};
  tail(st, 10, &rows);
  CHECK_INT_EQ(rows.n, 0);
  sg_store_close(st);
  rows_free(&rows);
  tmp_done(&t);
}

/* Calls that overlap: each outcome joins its own decision, and the order is that of the
 * decisions. */
static void interleaved_calls_join_by_call_id(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *st = open_rw(t.db);
  decide(st, "a", "slow", "allow", "ok", NULL);
  decide(st, "b", "fast", "allow", "ok", NULL);
  CHECK_INT_EQ(sg_store_audit_outcome(st, "b", "fast", "ok", "ok", 5, NULL), 0);
  CHECK_INT_EQ(sg_store_audit_outcome(st, "a", "slow", "timeout", "downstream_timeout", 30000000,
                                      "no answer in 30 s"),
               0);
  rows_t rows = {0};
  tail(st, 10, &rows);
  CHECK_INT_EQ(rows.n, 2);
  CHECK_STR_EQ(rows.r[0].call_id, "a");
  CHECK_STR_EQ(rows.r[0].outcome, "timeout");
  CHECK_STR_EQ(rows.r[0].outcome_reason, "downstream_timeout");
  CHECK_STR_EQ(rows.r[0].outcome_detail, "no answer in 30 s");
  CHECK_INT_EQ(rows.r[0].latency_us, 30000000);
  CHECK_STR_EQ(rows.r[1].call_id, "b");
  CHECK_STR_EQ(rows.r[1].outcome, "ok");

  tail(st, 1, &rows);
  CHECK_INT_EQ(rows.n, 1);
  CHECK_STR_EQ(rows.r[0].call_id, "b");
  sg_store_close(st);
  rows_free(&rows);
  tmp_done(&t);
}

static void outcome_without_decision_still_shows(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *st = open_rw(t.db);
  decide(st, "c1", "echo", "allow", "ok", NULL);
  CHECK_INT_EQ(sg_store_audit_outcome(st, "lost", "echo", "error", "downstream_unavailable", -1,
                                      "server exited"),
               0);
  rows_t rows = {0};
  tail(st, 10, &rows);
  CHECK_INT_EQ(rows.n, 2);
  CHECK_STR_EQ(rows.r[1].call_id, "lost");
  CHECK(rows.r[1].decision == NULL);
  CHECK(rows.r[1].reason == NULL);
  CHECK(rows.r[1].subject == NULL);
  CHECK_STR_EQ(rows.r[1].tool, "echo");
  CHECK_STR_EQ(rows.r[1].outcome, "error");
  CHECK_STR_EQ(rows.r[1].outcome_reason, "downstream_unavailable");
  CHECK_STR_EQ(rows.r[1].outcome_detail, "server exited");
  CHECK_INT_EQ(rows.r[1].latency_us, -1);
  /* c1 still has no outcome: the lone outcome is not attached to it. */
  CHECK(rows.r[0].outcome == NULL);
  sg_store_close(st);
  rows_free(&rows);
  tmp_done(&t);
}

static void wal_mode_and_schema_version(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *st = open_rw(t.db);
  char *mode = raw_text(t.db, "PRAGMA journal_mode");
  CHECK_STR_EQ(mode, "wal");
  free(mode);
  CHECK_INT_EQ(raw_int(t.db, "PRAGMA user_version"), 2);
  sg_store_close(st);
  /* Reopening an existing database keeps it as it is. */
  st = open_rw(t.db);
  decide(st, "c1", "echo", "allow", "ok", NULL);
  sg_store_close(st);
  CHECK_INT_EQ(raw_int(t.db, "PRAGMA user_version"), 2);
  CHECK_INT_EQ(raw_int(t.db, "SELECT count(*) FROM audit_events"), 1);
  tmp_done(&t);
}

static void rows_cannot_be_changed(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *st = open_rw(t.db);
  decide(st, "c1", "echo", "deny", "not_granted", NULL);
  CHECK(raw_exec(t.db, "UPDATE audit_events SET decision = 'allow'") != SQLITE_OK);
  CHECK(raw_exec(t.db, "DELETE FROM audit_events") != SQLITE_OK);
  char *d = raw_text(t.db, "SELECT decision FROM audit_events");
  CHECK_STR_EQ(d, "deny");
  free(d);
  sg_store_close(st);
  tmp_done(&t);
}

static void open_in_missing_directory_fails(void) {
  tmp_t t;
  tmp_init(&t);
  char path[256], err[512] = "";
  snprintf(path, sizeof path, "%s/no/such/dir/audit.db", t.dir);
  sg_store_t *st = (sg_store_t *)&t; /* must be reset to NULL */
  CHECK_INT_EQ(sg_store_open(path, &st, err, sizeof err), SG_EIO);
  CHECK(st == NULL);
  CHECK(strstr(err, path) != NULL);
  char parent[256];
  snprintf(parent, sizeof parent, "%s/no", t.dir);
  CHECK(access(parent, F_OK) != 0);
  tmp_done(&t);
}

static void open_directory_as_database_fails(void) {
  tmp_t t;
  tmp_init(&t);
  char err[512] = "";
  sg_store_t *st = NULL;
  CHECK_INT_EQ(mkdir(t.db, 0755), 0);
  CHECK_INT_EQ(sg_store_open(t.db, &st, err, sizeof err), SG_EIO);
  CHECK(st == NULL);
  CHECK(strstr(err, t.db) != NULL);
  tmp_done(&t);
}

static void newer_schema_is_refused(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_close(open_rw(t.db));
  CHECK_INT_EQ(raw_exec(t.db, "PRAGMA user_version = 99"), SQLITE_OK);
  char err[512] = "";
  sg_store_t *st = NULL;
  CHECK_INT_EQ(sg_store_open(t.db, &st, err, sizeof err), SG_EIO);
  CHECK(st == NULL);
  CHECK(strstr(err, "newer") != NULL);
  CHECK(strstr(err, "99") != NULL);
  CHECK_INT_EQ(sg_store_open_readonly(t.db, &st, err, sizeof err), SG_EIO);
  CHECK(strstr(err, "newer") != NULL);
  /* Refused, not touched. */
  CHECK_INT_EQ(raw_int(t.db, "PRAGMA user_version"), 99);
  tmp_done(&t);
}

static void foreign_database_is_refused(void) {
  tmp_t t;
  tmp_init(&t);
  CHECK_INT_EQ(raw_exec(t.db, "CREATE TABLE notes (body TEXT)"), SQLITE_OK);
  char err[512] = "";
  sg_store_t *st = NULL;
  CHECK_INT_EQ(sg_store_open(t.db, &st, err, sizeof err), SG_EIO);
  CHECK(strstr(err, "not a scopegate database") != NULL);
  CHECK_INT_EQ(raw_int(t.db, "SELECT count(*) FROM sqlite_master WHERE name = 'audit_events'"), 0);

  /* A file that is not SQLite at all. */
  FILE *f = fopen(t.db, "w");
  CHECK(f != NULL);
  fputs("this is not a database, just some text that is long enough to have a header\n", f);
  fclose(f);
  CHECK_INT_EQ(sg_store_open(t.db, &st, err, sizeof err), SG_EIO);
  CHECK(strstr(err, t.db) != NULL);
  tmp_done(&t);
}

static void readonly_open_never_creates(void) {
  tmp_t t;
  tmp_init(&t);
  char err[512] = "";
  sg_store_t *st = NULL;
  CHECK_INT_EQ(sg_store_open_readonly(t.db, &st, err, sizeof err), SG_EIO);
  CHECK(st == NULL);
  CHECK(strstr(err, t.db) != NULL);
  CHECK(access(t.db, F_OK) != 0);
  tmp_done(&t);
}

static void readonly_store_reads_but_cannot_write(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *rw = open_rw(t.db);
  decide(rw, "c1", "echo", "allow", "ok", NULL);

  char err[512] = "";
  sg_store_t *ro = NULL;
  CHECK_INT_EQ(sg_store_open_readonly(t.db, &ro, err, sizeof err), 0);
  rows_t rows = {0};
  tail(ro, 5, &rows);
  CHECK_INT_EQ(rows.n, 1);
  /* The reader sees what the writer commits next, while it stays open. */
  CHECK_INT_EQ(sg_store_audit_outcome(rw, "c1", "echo", "ok", "ok", 7, NULL), 0);
  tail(ro, 5, &rows);
  CHECK_STR_EQ(rows.r[0].outcome, "ok");

  sg_audit_decision_t d = {.call_id = "c2", .decision = "allow", .reason = "ok"};
  CHECK_INT_EQ(sg_store_audit_decision(ro, &d), SG_EAUDIT);
  CHECK(strstr(sg_store_errmsg(ro), t.db) != NULL);
  CHECK_INT_EQ(sg_store_audit_outcome(ro, "c2", NULL, "ok", NULL, 1, NULL), SG_EAUDIT);
  sg_store_close(ro);
  sg_store_close(rw);
  CHECK_INT_EQ(raw_int(t.db, "SELECT count(*) FROM audit_events"), 2);
  rows_free(&rows);
  tmp_done(&t);
}

/* Another process holds the write lock past the busy timeout: the append fails, and
 * succeeds again once the lock is released. */
static void write_fails_while_another_writer_holds_the_lock(void) {
  tmp_t t;
  tmp_init(&t);
  char err[512] = "";
  sg_store_t *st = NULL;
  sg_store_options_t opts = {.busy_timeout_ms = 50};
  CHECK_INT_EQ(sg_store_open_ex(t.db, &opts, &st, err, sizeof err), 0);
  decide(st, "c1", "echo", "allow", "ok", NULL);

  sqlite3 *other = NULL;
  CHECK_INT_EQ(sqlite3_open(t.db, &other), SQLITE_OK);
  CHECK_INT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
  sg_audit_decision_t d = {.call_id = "c2", .decision = "allow", .reason = "ok"};
  CHECK_INT_EQ(sg_store_audit_decision(st, &d), SG_EAUDIT);
  CHECK(strstr(sg_store_errmsg(st), "locked") != NULL);
  CHECK_INT_EQ(sg_store_audit_outcome(st, "c1", "echo", "ok", "ok", 1, NULL), SG_EAUDIT);
  CHECK_INT_EQ(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(other);

  d.call_id = "c3";
  CHECK_INT_EQ(sg_store_audit_decision(st, &d), 0);
  rows_t rows = {0};
  tail(st, 10, &rows);
  CHECK_INT_EQ(rows.n, 2);
  CHECK_STR_EQ(rows.r[0].call_id, "c1");
  CHECK(rows.r[0].outcome == NULL);
  CHECK_STR_EQ(rows.r[1].call_id, "c3");
  sg_store_close(st);
  rows_free(&rows);
  tmp_done(&t);
}

/* The file system refuses to grow the files (as when the disk is full; a file size limit
 * stops writes even for root): the append fails, and works again once there is room. */
static void write_fails_when_files_cannot_grow(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *st = open_rw(t.db);
  decide(st, "c1", "echo", "allow", "ok", NULL);

  char wal[160];
  struct stat sb;
  snprintf(wal, sizeof wal, "%s-wal", t.db);
  CHECK_INT_EQ(stat(wal, &sb), 0);
  struct rlimit old, lim;
  CHECK_INT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  lim = old;
  lim.rlim_cur = (rlim_t)sb.st_size;
  signal(SIGXFSZ, SIG_IGN);
  CHECK_INT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);

  sg_audit_decision_t d = {.call_id = "c2", .decision = "allow", .reason = "ok"};
  CHECK_INT_EQ(sg_store_audit_decision(st, &d), SG_EAUDIT);
  CHECK_INT_EQ(sg_store_audit_outcome(st, "c1", "echo", "ok", "ok", 1, NULL), SG_EAUDIT);

  CHECK_INT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
  d.call_id = "c3";
  CHECK_INT_EQ(sg_store_audit_decision(st, &d), 0);
  rows_t rows = {0};
  tail(st, 10, &rows);
  CHECK_INT_EQ(rows.n, 2);
  CHECK_STR_EQ(rows.r[1].call_id, "c3");
  sg_store_close(st);
  rows_free(&rows);
  tmp_done(&t);
}

static void invalid_events_are_rejected(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *st = open_rw(t.db);
  sg_audit_decision_t d = {.call_id = "c1", .decision = "maybe", .reason = "ok"};
  CHECK_INT_EQ(sg_store_audit_decision(st, &d), SG_EINVAL);
  d.decision = NULL;
  CHECK_INT_EQ(sg_store_audit_decision(st, &d), SG_EINVAL);
  d.decision = "deny";
  d.reason = NULL;
  CHECK_INT_EQ(sg_store_audit_decision(st, &d), SG_EINVAL);
  d.reason = "not_granted";
  d.call_id = NULL;
  CHECK_INT_EQ(sg_store_audit_decision(st, &d), SG_EINVAL);
  CHECK_INT_EQ(sg_store_audit_outcome(st, "c1", "echo", "fine", "ok", 1, NULL), SG_EINVAL);
  CHECK_INT_EQ(sg_store_audit_outcome(st, NULL, "echo", "ok", "ok", 1, NULL), SG_EINVAL);
  CHECK_INT_EQ(raw_int(t.db, "SELECT count(*) FROM audit_events"), 0);
  sg_store_close(st);
  tmp_done(&t);
}

static void client_text_is_bounded(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *st = open_rw(t.db);
  /* "é" is two bytes; SG_AUDIT_DETAIL_MAX falls inside one of them. */
  char detail[SG_AUDIT_DETAIL_MAX * 2 + 2];
  memset(detail, 0, sizeof detail);
  detail[0] = 'x';
  for (size_t i = 1; i + 2 < sizeof detail; i += 2) {
    detail[i] = '\xc3';
    detail[i + 1] = '\xa9';
  }
  char tool[SG_AUDIT_TOOL_MAX * 4];
  memset(tool, 't', sizeof tool - 1);
  tool[sizeof tool - 1] = '\0';
  decide(st, "c1", tool, "deny", "unknown_tool", detail);
  rows_t rows = {0};
  tail(st, 1, &rows);
  CHECK_INT_EQ(strlen(rows.r[0].tool), SG_AUDIT_TOOL_MAX);
  size_t n = strlen(rows.r[0].detail);
  CHECK(n <= SG_AUDIT_DETAIL_MAX && n >= SG_AUDIT_DETAIL_MAX - 1);
  CHECK(memcmp(rows.r[0].detail + n - 2, "\xc3\xa9", 2) == 0);
  sg_store_close(st);
  rows_free(&rows);
  tmp_done(&t);
}

/* Two gateways on one file: both append, and each sees the other's events. */
static void two_handles_share_a_file(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *a = open_rw(t.db);
  sg_store_t *b = open_rw(t.db);
  decide(a, "a1", "echo", "allow", "ok", NULL);
  decide(b, "b1", "echo", "allow", "ok", NULL);
  CHECK_INT_EQ(sg_store_audit_outcome(a, "b1", "echo", "ok", "ok", 3, NULL), 0);
  rows_t rows = {0};
  tail(b, 10, &rows);
  CHECK_INT_EQ(rows.n, 2);
  CHECK_STR_EQ(rows.r[0].call_id, "a1");
  CHECK_STR_EQ(rows.r[1].call_id, "b1");
  CHECK_STR_EQ(rows.r[1].outcome, "ok");
  sg_store_close(a);
  sg_store_close(b);
  rows_free(&rows);
  tmp_done(&t);
}

static long wal_size(const char *db) {
  char wal[160];
  struct stat sb;
  snprintf(wal, sizeof wal, "%s-wal", db);
  return stat(wal, &sb) == 0 ? (long)sb.st_size : -1;
}

static void append_calls(sg_store_t *st, int from, int n) {
  char id[32];
  for (int i = from; i < from + n; i++) {
    snprintf(id, sizeof id, "call-%d", i);
    decide(st, id, "echo", "allow", "ok", NULL);
    CHECK_INT_EQ(sg_store_audit_outcome(st, id, "echo", "ok", "ok", 10, NULL), 0);
  }
}

/* A WAL frame is a page and a 24-byte header; appends checkpoint by themselves at 1000
 * frames unless the handle leaves it to sg_store_checkpoint. */
#define FRAMES(n) ((long)(n) * (raw_int(t.db, "PRAGMA page_size") + 24))

static void appends_checkpoint_by_default(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *st = open_rw(t.db);
  append_calls(st, 0, 1000);
  CHECK(wal_size(t.db) < FRAMES(1100));
  sg_store_close(st);
  tmp_done(&t);
}

static void manual_checkpoint_moves_work_off_the_appender(void) {
  tmp_t t;
  tmp_init(&t);
  char err[512] = "";
  sg_store_t *st = NULL, *ck = NULL;
  sg_store_options_t opts = {.flags = SG_STORE_MANUAL_CHECKPOINT};
  CHECK_INT_EQ(sg_store_open_ex(t.db, &opts, &st, err, sizeof err), 0);
  append_calls(st, 0, 1000);
  long grown = wal_size(t.db);
  CHECK(grown > FRAMES(1100));

  /* Another handle (a worker thread's) checkpoints; the next append starts the WAL
   * over instead of growing it. */
  ck = open_rw(t.db);
  CHECK_INT_EQ(sg_store_checkpoint(ck), 0);
  append_calls(st, 1000, 100);
  CHECK(wal_size(t.db) == grown);
  CHECK_INT_EQ(raw_int(t.db, "SELECT count(*) FROM audit_events"), 2200);
  rows_t rows = {0};
  tail(st, 1, &rows);
  CHECK_STR_EQ(rows.r[0].call_id, "call-1099");
  CHECK_STR_EQ(rows.r[0].outcome, "ok");
  sg_store_close(ck);
  sg_store_close(st);
  rows_free(&rows);
  tmp_done(&t);
}

/* Queued outcomes are written with the next decision, in order, keeping the time they
 * were queued; a flush that cannot write keeps them queued; close writes the rest. */
static void queued_outcomes_ride_with_the_next_decision(void) {
  tmp_t t;
  tmp_init(&t);
  char err[512] = "";
  sg_store_t *st = NULL;
  sg_store_options_t opts = {.busy_timeout_ms = 50};
  CHECK_INT_EQ(sg_store_open_ex(t.db, &opts, &st, err, sizeof err), 0);
  decide(st, "c1", "echo", "allow", "allowed", NULL);
  CHECK_INT_EQ(sg_store_audit_outcome_later(st, "c1", "echo", "ok", "ok", 42, NULL), 0);
  CHECK_INT_EQ(sg_store_pending(st), 1);
  CHECK_INT_EQ(raw_int(t.db, "SELECT count(*) FROM audit_events"), 1); /* not yet written */
  decide(st, "c2", "echo", "allow", "allowed", NULL);
  CHECK_INT_EQ(sg_store_pending(st), 0);
  CHECK_INT_EQ(raw_int(t.db, "SELECT count(*) FROM audit_events"), 3);
  /* The outcome precedes the decision that carried it. */
  CHECK_INT_EQ(raw_int(t.db, "SELECT seq FROM audit_events WHERE event = 'outcome'"), 2);
  CHECK_INT_EQ(sg_store_audit_outcome_later(st, "c2", "echo", "bogus", NULL, 1, NULL), SG_EINVAL);

  /* Another writer holds the lock: the flush fails and keeps the outcome, and a decision
   * fails too (the call it records is then refused). */
  CHECK_INT_EQ(sg_store_audit_outcome_later(st, "c2", "echo", "tool_error", "tool_error", 7, "d"), 0);
  sqlite3 *other = NULL;
  CHECK_INT_EQ(sqlite3_open(t.db, &other), SQLITE_OK);
  CHECK_INT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
  CHECK_INT_EQ(sg_store_flush(st), SG_EAUDIT);
  CHECK_INT_EQ(sg_store_pending(st), 1);
  sg_audit_decision_t d = {.call_id = "c3", .decision = "allow", .reason = "allowed"};
  CHECK_INT_EQ(sg_store_audit_decision(st, &d), SG_EAUDIT);
  CHECK_INT_EQ(sg_store_pending(st), 1);
  CHECK_INT_EQ(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(other);
  CHECK_INT_EQ(raw_int(t.db, "SELECT count(*) FROM audit_events WHERE call_id = 'c3'"), 0);

  CHECK_INT_EQ(sg_store_audit_outcome_later(st, "c9", NULL, "cancelled", NULL, -1, NULL), 0);
  sg_store_close(st); /* flushes */
  CHECK_INT_EQ(raw_int(t.db, "SELECT count(*) FROM audit_events"), 5);
  char *o = raw_text(t.db, "SELECT outcome || ':' || latency_us FROM audit_events WHERE call_id = 'c2' AND event = 'outcome'");
  CHECK_STR_EQ(o, "tool_error:7");
  free(o);
  tmp_done(&t);
}

const sg_test_t sg_suite_store[] = {
    {"queued_outcomes_ride_with_the_next_decision", queued_outcomes_ride_with_the_next_decision},
    {"append_and_read_back_joined", append_and_read_back_joined},
    {"tail_last_n_oldest_first", tail_last_n_oldest_first},
    {"tail_of_empty_log", tail_of_empty_log},
    {"interleaved_calls_join_by_call_id", interleaved_calls_join_by_call_id},
    {"outcome_without_decision_still_shows", outcome_without_decision_still_shows},
    {"wal_mode_and_schema_version", wal_mode_and_schema_version},
    {"rows_cannot_be_changed", rows_cannot_be_changed},
    {"open_in_missing_directory_fails", open_in_missing_directory_fails},
    {"open_directory_as_database_fails", open_directory_as_database_fails},
    {"newer_schema_is_refused", newer_schema_is_refused},
    {"foreign_database_is_refused", foreign_database_is_refused},
    {"readonly_open_never_creates", readonly_open_never_creates},
    {"readonly_store_reads_but_cannot_write", readonly_store_reads_but_cannot_write},
    {"write_fails_while_another_writer_holds_the_lock",
     write_fails_while_another_writer_holds_the_lock},
    {"write_fails_when_files_cannot_grow", write_fails_when_files_cannot_grow},
    {"invalid_events_are_rejected", invalid_events_are_rejected},
    {"client_text_is_bounded", client_text_is_bounded},
    {"two_handles_share_a_file", two_handles_share_a_file},
    {"appends_checkpoint_by_default", appends_checkpoint_by_default},
    {"manual_checkpoint_moves_work_off_the_appender",
     manual_checkpoint_moves_work_off_the_appender},
    SG_SUITE_END,
};
