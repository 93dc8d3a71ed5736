/*
 * The SQLite store: audit events are appended and read back joined per call; the file is
 * in WAL mode; every way a write can fail is reported, never swallowed; databases the
 * build cannot use are refused untouched. Approvals follow their state machine and are
 * bound to the call they were granted for; the writes switch, budgets and the data
 * version work across handles.
 */
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/* Gateways started together on a new file (the first start of a deployment with several
 * gateways, or clients that each start their own): each process must find the file either
 * empty or a finished scopegate database, whoever creates the schema and switches it to
 * WAL; none may call it someone else's or give up on a lock another opener holds for a
 * moment. Each opens two handles, as serve does; the processes are released at once, many
 * times over, since the window is narrow. */
static void processes_opening_a_new_file_at_once_all_succeed(void) {
  enum { ROUNDS = 50, OPENERS = 6 };
  for (int round = 0; round < ROUNDS; round++) {
    tmp_t t;
    tmp_init(&t);
    int gate[2];
    CHECK_INT_EQ(pipe(gate), 0);
    pid_t pids[OPENERS];
    for (int i = 0; i < OPENERS; i++) {
      pids[i] = fork();
      CHECK(pids[i] >= 0);
      if (pids[i] == 0) {
        char byte, err[512] = "", call_id[16];
        close(gate[1]);
        (void)!read(gate[0], &byte, 1); /* returns when the parent closes its end */
        sg_store_t *st = NULL, *second = NULL;
        int rc = sg_store_open(t.db, &st, err, sizeof err);
        if (rc == 0) rc = sg_store_open(t.db, &second, err, sizeof err);
        snprintf(call_id, sizeof call_id, "p%d", i);
        sg_audit_decision_t d = {.call_id = call_id, .decision = "allow", .reason = "ok"};
        if (rc == 0 && (rc = sg_store_audit_decision(st, &d)) != 0)
          snprintf(err, sizeof err, "%s", sg_store_errmsg(st));
        if (rc != 0) fprintf(stderr, "opener %d: %s\n", i, err);
        sg_store_close(second);
        sg_store_close(st);
        _exit(rc == 0 ? 0 : 1);
      }
    }
    close(gate[0]);
    close(gate[1]);
    int failed = 0;
    for (int i = 0; i < OPENERS; i++) {
      int status = 0;
      CHECK_INT_EQ(waitpid(pids[i], &status, 0), pids[i]);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed++;
    }
    CHECK_INT_EQ(failed, 0);
    CHECK_INT_EQ(raw_int(t.db, "SELECT count(*) FROM audit_events"), OPENERS);
    tmp_done(&t);
    if (failed) break;
  }
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
  CHECK_INT_EQ(sg_store_audit_outcome_later(st, "c2", "echo", "tool_error", "tool_error", 7, "d"),
               0);
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
  char *o = raw_text(t.db,
                     "SELECT outcome || ':' || latency_us FROM audit_events WHERE call_id = 'c2' "
                     "AND event = 'outcome'");
  CHECK_STR_EQ(o, "tool_error:7");
  free(o);
  tmp_done(&t);
}

/* ---- approvals ---------------------------------------------------------------------- */

#define ARGS_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ARGS_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static void request(sg_store_t *st, const char *call_id, int64_t ttl_ms,
                    char id[SG_APPROVAL_ID_LEN + 1]) {
  sg_store_approval_request_t req = {.call_id = call_id,
                                     .tool = "write_file",
                                     .args_hash = ARGS_A,
                                     .args_json = "{\"content\":\"[redacted]\",\"path\":\"a.txt\"}",
                                     .tenant = "acme",
                                     .env = "prod",
                                     .subject = "alice",
                                     .role = "editor",
                                     .ttl_ms = ttl_ms};
  int rc = sg_store_approval_create(st, &req, id);
  if (rc != 0) fprintf(stderr, "create: %s\n", sg_store_errmsg(st));
  CHECK_INT_EQ(rc, 0);
  CHECK_INT_EQ(strlen(id), SG_APPROVAL_ID_LEN);
}

static void check_state(sg_store_t *st, const char *id, const char *want) {
  char state[16] = "";
  CHECK_INT_EQ(sg_store_approval_state(st, id, state), 0);
  CHECK_STR_EQ(state, want);
}

/* The use the gateway holding call_id makes of approval id. */
static sg_store_approval_use_t use_of(const char *id, const char *call_id) {
  return (sg_store_approval_use_t){.id = id,
                                   .call_id = call_id,
                                   .tool = "write_file",
                                   .args_hash = ARGS_A,
                                   .tenant = "acme",
                                   .subject = "alice"};
}

static void approval_is_granted_then_used_once(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *st = open_rw(t.db);
  char id[SG_APPROVAL_ID_LEN + 1], other[SG_APPROVAL_ID_LEN + 1];
  request(st, "gw1-1", 60000, id);
  request(st, "gw1-2", 60000, other);
  CHECK(strcmp(id, other) != 0);
  check_state(st, id, "pending");

  sg_store_approval_t a = {0};
  CHECK_INT_EQ(sg_store_approval_get(st, id, &a), 0);
  CHECK_STR_EQ(a.call_id, "gw1-1");
  CHECK_STR_EQ(a.args_json, "{\"content\":\"[redacted]\",\"path\":\"a.txt\"}");
  CHECK_STR_EQ(a.role, "editor");
  CHECK(a.decided_at == NULL && a.approver == NULL && a.used_at == NULL);
  CHECK(strcmp(a.expires_at, a.created_at) > 0);
  sg_store_approval_clear(&a);

  /* A decision needs a person and a reason. */
  CHECK_INT_EQ(sg_store_approval_decide(st, id, 1, "local:bob", ""), SG_EINVAL);
  CHECK_INT_EQ(sg_store_approval_decide(st, id, 1, NULL, "ok"), SG_EINVAL);
  CHECK_INT_EQ(sg_store_approval_decide(st, id, 1, "local:bob", "checked the path"), 0);
  check_state(st, id, "approved");
  /* Decided once: a second decision, either way, is refused and names the state. */
  CHECK_INT_EQ(sg_store_approval_decide(st, id, 0, "local:carol", "no"), SG_EINVAL);
  CHECK(strstr(sg_store_errmsg(st), "is approved, not pending") != NULL);
  CHECK_INT_EQ(sg_store_approval_decide(st, "0123", 1, "local:bob", "ok"), SG_EINVAL);
  CHECK(strstr(sg_store_errmsg(st), "no approval") != NULL);

  sg_store_approval_use_t use = use_of(id, "gw1-1");
  CHECK_INT_EQ(sg_store_approval_consume(st, &use), 0);
  check_state(st, id, "used");
  CHECK_INT_EQ(sg_store_approval_consume(st, &use), SG_EINVAL);
  CHECK(strstr(sg_store_errmsg(st), "is used, not approved") != NULL);
  CHECK_INT_EQ(sg_store_approval_get(st, id, &a), 0);
  CHECK_STR_EQ(a.approver, "local:bob");
  CHECK_STR_EQ(a.reason, "checked the path");
  CHECK(a.decided_at != NULL && a.used_at != NULL);
  sg_store_approval_clear(&a);

  /* A denial cannot be used. */
  CHECK_INT_EQ(sg_store_approval_decide(st, other, 0, "local:bob", "wrong file"), 0);
  sg_store_approval_use_t use2 = use_of(other, "gw1-2");
  CHECK_INT_EQ(sg_store_approval_consume(st, &use2), SG_EINVAL);
  CHECK(strstr(sg_store_errmsg(st), "is denied") != NULL);
  sg_store_close(st);

  /* Every change is in the audit chain, with the approval's id and the call it is for. */
  char *events = raw_text(t.db,
                          "SELECT group_concat(event || ':' || reason || ':' ||"
                          " COALESCE(actor, '-'), ' ') FROM (SELECT * FROM audit_events"
                          " WHERE approval_id IS NOT NULL ORDER BY seq)");
  CHECK_STR_EQ(events,
               "approval_requested:pending:- approval_requested:pending:-"
               " approval_granted:approved:local:bob approval_used:used:-"
               " approval_denied:denied:local:bob");
  free(events);
  char *args =
      raw_text(t.db, "SELECT args_json FROM audit_events WHERE event = 'approval_requested'");
  CHECK_STR_EQ(args, "{\"content\":\"[redacted]\",\"path\":\"a.txt\"}");
  free(args);
  CHECK_INT_EQ(raw_int(t.db,
                       "SELECT count(*) FROM audit_events WHERE approval_id IS NOT NULL"
                       " AND (call_id NOT LIKE 'gw1-%' OR tool <> 'write_file'"
                       " OR subject <> 'alice' OR args_hash <> '" ARGS_A "')"),
               0);
  tmp_done(&t);
}

/* An approval is bound to its call: any other call, arguments, tool, tenant or subject is
 * refused, and the refusal leaves it usable by the call it was granted for. */
static void approval_cannot_be_replayed(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *st = open_rw(t.db);
  char id[SG_APPROVAL_ID_LEN + 1];
  request(st, "gw1-7", 60000, id);
  CHECK_INT_EQ(sg_store_approval_decide(st, id, 1, "local:bob", "ok"), 0);
  const struct {
    sg_store_approval_use_t use;
    const char *says;
  } tries[] = {
      {{id, "gw1-7", "write_file", ARGS_B, "acme", "alice"}, "other arguments"},
      {{id, "gw1-7", "write_file", ARGS_A, "globex", "alice"}, "another tenant"},
      {{id, "gw1-7", "write_file", ARGS_A, NULL, "alice"}, "another tenant"},
      {{id, "gw1-7", "write_file", ARGS_A, "acme", "mallory"}, "another subject"},
      {{id, "gw1-7", "delete_file", ARGS_A, "acme", "alice"}, "another tool"},
      /* A restarted gateway has other call ids. */
      {{id, "gw2-1", "write_file", ARGS_A, "acme", "alice"}, "another call"},
  };
  for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
    CHECK_INT_EQ(sg_store_approval_consume(st, &tries[i].use), SG_EINVAL);
    if (strstr(sg_store_errmsg(st), tries[i].says) == NULL)
      fprintf(stderr, "try %zu: %s\n", i, sg_store_errmsg(st));
    CHECK(strstr(sg_store_errmsg(st), tries[i].says) != NULL);
    check_state(st, id, "approved");
  }
  sg_store_approval_use_t use = use_of(id, "gw1-7");
  CHECK_INT_EQ(sg_store_approval_consume(st, &use), 0);
  CHECK_INT_EQ(sg_store_approval_consume(st, &use), SG_EINVAL);
  sg_store_close(st);
  CHECK_INT_EQ(raw_int(t.db, "SELECT count(*) FROM audit_events WHERE event = 'approval_used'"), 1);
  tmp_done(&t);
}

/* Two handles (two gateways, or a gateway and a person) race: one wins each transition. */
static void approval_transitions_race_safely(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *a = open_rw(t.db), *b = open_rw(t.db);
  char id[SG_APPROVAL_ID_LEN + 1];
  request(a, "gw1-1", 60000, id);
  CHECK_INT_EQ(sg_store_approval_decide(b, id, 1, "local:bob", "ok"), 0);
  CHECK_INT_EQ(sg_store_approval_decide(a, id, 0, "local:carol", "no"), SG_EINVAL);
  sg_store_approval_use_t use = use_of(id, "gw1-1");
  CHECK_INT_EQ(sg_store_approval_consume(a, &use), 0);
  CHECK_INT_EQ(sg_store_approval_consume(b, &use), SG_EINVAL);
  sg_store_close(a);
  sg_store_close(b);
  /* The database itself refuses what the state machine does not allow. */
  CHECK(raw_exec(t.db, "UPDATE approvals SET state = 'approved'") != SQLITE_OK);
  CHECK(raw_exec(t.db, "UPDATE approvals SET args_hash = 'x'") != SQLITE_OK);
  CHECK(raw_exec(t.db, "DELETE FROM approvals") != SQLITE_OK);
  tmp_done(&t);
}

static void approvals_expire(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *st = open_rw(t.db);
  char late[SG_APPROVAL_ID_LEN + 1], unused[SG_APPROVAL_ID_LEN + 1];
  char stale1[SG_APPROVAL_ID_LEN + 1], stale2[SG_APPROVAL_ID_LEN + 1],
      fresh[SG_APPROVAL_ID_LEN + 1];

  /* Too late to decide: the approval is expired on the spot and the decision refused. */
  request(st, "gw1-1", 1, late);
  usleep(5000);
  CHECK_INT_EQ(sg_store_approval_decide(st, late, 1, "local:bob", "ok"), SG_EINVAL);
  CHECK(strstr(sg_store_errmsg(st), "expired at") != NULL);
  check_state(st, late, "expired");

  /* Approved in time, but not used in time. */
  request(st, "gw1-2", 150, unused);
  CHECK_INT_EQ(sg_store_approval_decide(st, unused, 1, "local:bob", "ok"), 0);
  usleep(200000);
  sg_store_approval_use_t use = use_of(unused, "gw1-2");
  CHECK_INT_EQ(sg_store_approval_consume(st, &use), SG_EINVAL);
  CHECK(strstr(sg_store_errmsg(st), "expired") != NULL);

  /* What a gateway finds at start: approvals of one that died. */
  request(st, "gw0-1", 60000, stale1);
  request(st, "gw0-2", 60000, stale2);
  CHECK_INT_EQ(sg_store_approval_decide(st, stale2, 1, "local:bob", "ok"), 0);
  request(st, "gw0-3", 3600000, fresh);
  char later[32];
  sg_store_time_iso(120000, later);
  size_t n = 99;
  CHECK_INT_EQ(sg_store_approval_expire_stale(st, later, &n), 0);
  CHECK_INT_EQ(n, 3); /* stale1, stale2, unused */
  check_state(st, stale1, "expired");
  check_state(st, stale2, "expired");
  check_state(st, unused, "expired");
  check_state(st, fresh, "pending");
  CHECK_INT_EQ(sg_store_approval_expire_stale(st, NULL, &n), 0);
  CHECK_INT_EQ(n, 0);

  /* The gateway gives up on one. */
  CHECK_INT_EQ(sg_store_approval_expire(st, fresh), 0);
  check_state(st, fresh, "expired");
  CHECK_INT_EQ(sg_store_approval_expire(st, fresh), SG_EINVAL);
  sg_store_close(st);
  CHECK_INT_EQ(raw_int(t.db, "SELECT count(*) FROM audit_events WHERE event = 'approval_expired'"),
               5);
  tmp_done(&t);
}

static void cancel_all_and_the_kill_switch(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *st = open_rw(t.db);
  char p1[SG_APPROVAL_ID_LEN + 1], p2[SG_APPROVAL_ID_LEN + 1], ok[SG_APPROVAL_ID_LEN + 1],
      no[SG_APPROVAL_ID_LEN + 1], one[SG_APPROVAL_ID_LEN + 1];
  request(st, "c1", 60000, p1);
  request(st, "c2", 60000, p2);
  request(st, "c3", 60000, ok);
  request(st, "c4", 60000, no);
  request(st, "c5", 60000, one);
  CHECK_INT_EQ(sg_store_approval_decide(st, ok, 1, "local:bob", "ok"), 0);
  CHECK_INT_EQ(sg_store_approval_decide(st, no, 0, "local:bob", "no"), 0);
  CHECK_INT_EQ(sg_store_approval_cancel(st, one, "gateway", "the client went away"), 0);
  check_state(st, one, "cancelled");
  CHECK_INT_EQ(sg_store_approval_cancel(st, one, "gateway", "again"), SG_EINVAL);

  /* Writes on by default. */
  int on = -1;
  sg_store_switch_t sw;
  CHECK_INT_EQ(sg_store_writes_enabled(st, &on), 0);
  CHECK_INT_EQ(on, 1);
  CHECK_INT_EQ(sg_store_switch_get(st, "writes", &sw), 0);
  CHECK_STR_EQ(sw.value, "on");
  CHECK_STR_EQ(sw.updated_at, "");
  CHECK_INT_EQ(sg_store_switch_get(st, "reads", &sw), SG_EINVAL);
  CHECK_INT_EQ(sg_store_writes_set(st, 0, NULL, "x", NULL), SG_EINVAL);

  /* Off: every approval still open is cancelled in the same transaction. */
  size_t n = 0;
  CHECK_INT_EQ(sg_store_writes_set(st, 0, "local:ops", "incident 42", &n), 0);
  CHECK_INT_EQ(n, 3);
  CHECK_INT_EQ(sg_store_writes_enabled(st, &on), 0);
  CHECK_INT_EQ(on, 0);
  CHECK_INT_EQ(sg_store_switch_get(st, "writes", &sw), 0);
  CHECK_STR_EQ(sw.value, "off");
  CHECK_STR_EQ(sw.actor, "local:ops");
  CHECK_STR_EQ(sw.reason, "incident 42");
  CHECK_INT_EQ(strlen(sw.updated_at), 27);
  check_state(st, p1, "cancelled");
  check_state(st, p2, "cancelled");
  check_state(st, ok, "cancelled");
  check_state(st, no, "denied");
  sg_store_approval_use_t use = use_of(ok, "c3");
  CHECK_INT_EQ(sg_store_approval_consume(st, &use), SG_EINVAL);
  /* Cancelling keeps the decision that was taken. */
  sg_store_approval_t a = {0};
  CHECK_INT_EQ(sg_store_approval_get(st, ok, &a), 0);
  CHECK_STR_EQ(a.approver, "local:bob");
  sg_store_approval_clear(&a);
  CHECK_INT_EQ(sg_store_approval_get(st, p1, &a), 0);
  CHECK_STR_EQ(a.approver, "local:ops");
  CHECK_STR_EQ(a.reason, "incident 42");
  sg_store_approval_clear(&a);

  CHECK_INT_EQ(sg_store_writes_set(st, 1, "local:ops", NULL, &n), 0);
  CHECK_INT_EQ(n, 0);
  CHECK_INT_EQ(sg_store_writes_enabled(st, &on), 0);
  CHECK_INT_EQ(on, 1);
  request(st, "c6", 60000, p1);
  CHECK_INT_EQ(sg_store_approval_cancel_all(st, "local:ops", "drill", &n), 0);
  CHECK_INT_EQ(n, 1);
  sg_store_close(st);

  char *flips = raw_text(t.db,
                         "SELECT group_concat(reason || ':' || actor || ':' ||"
                         " COALESCE(detail, '-'), ' ') FROM (SELECT * FROM audit_events"
                         " WHERE event = 'switch' ORDER BY seq)");
  CHECK_STR_EQ(flips, "writes=off:local:ops:incident 42 writes=on:local:ops:-");
  free(flips);
  /* The cancellations sit between the two flips. */
  CHECK_INT_EQ(raw_int(t.db,
                       "SELECT count(*) FROM audit_events WHERE event = 'approval_cancelled'"
                       " AND seq > (SELECT seq FROM audit_events WHERE reason = 'writes=off')"
                       " AND seq < (SELECT seq FROM audit_events WHERE reason = 'writes=on')"),
               3);
  tmp_done(&t);
}

typedef struct {
  int n;
  char states[256];
} listed_t;

static void on_approval(const sg_store_approval_t *a, void *arg) {
  listed_t *l = arg;
  l->n++;
  strncat(l->states, a->state, sizeof l->states - strlen(l->states) - 2);
  strcat(l->states, " ");
}

static void approvals_are_listed(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *st = open_rw(t.db);
  char id[5][SG_APPROVAL_ID_LEN + 1];
  for (int i = 0; i < 5; i++) request(st, "c", 60000, id[i]);
  CHECK_INT_EQ(sg_store_approval_decide(st, id[1], 1, "local:bob", "ok"), 0);
  CHECK_INT_EQ(sg_store_approval_decide(st, id[3], 0, "local:bob", "no"), 0);
  listed_t l = {0};
  CHECK_INT_EQ(sg_store_approval_list(st, 0, 0, on_approval, &l), 0);
  CHECK_INT_EQ(l.n, 3);
  CHECK_STR_EQ(l.states, "pending pending pending ");
  memset(&l, 0, sizeof l);
  CHECK_INT_EQ(sg_store_approval_list(st, 1, 0, on_approval, &l), 0);
  CHECK_STR_EQ(l.states, "pending approved pending denied pending ");
  memset(&l, 0, sizeof l);
  CHECK_INT_EQ(sg_store_approval_list(st, 1, 2, on_approval, &l), 0);
  CHECK_STR_EQ(l.states, "denied pending ");
  sg_store_close(st);
  tmp_done(&t);
}

/* PRAGMA data_version: another handle's commit changes it, the handle's own do not. */
static void data_version_shows_other_handles_commits(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *gw = open_rw(t.db), *cli = open_rw(t.db);
  uint64_t v0, v1, v2, v3;
  CHECK_INT_EQ(sg_store_data_version(gw, &v0), 0);
  decide(gw, "c1", "echo", "allow", "allowed", NULL);
  CHECK_INT_EQ(sg_store_data_version(gw, &v1), 0);
  CHECK(v1 == v0);
  CHECK_INT_EQ(sg_store_writes_set(cli, 0, "local:ops", "stop", NULL), 0);
  CHECK_INT_EQ(sg_store_data_version(gw, &v2), 0);
  CHECK(v2 != v1);
  int on = 1;
  CHECK_INT_EQ(sg_store_writes_enabled(gw, &on), 0);
  CHECK_INT_EQ(on, 0);
  CHECK_INT_EQ(sg_store_data_version(gw, &v3), 0);
  CHECK(v3 == v2);
  sg_store_close(cli);
  sg_store_close(gw);
  tmp_done(&t);
}

static void budgets_limit_calls_per_window(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *a = open_rw(t.db), *b = open_rw(t.db);
  char since[32];
  sg_store_time_iso(-60000, since);
  int allowed = -1;
  for (int i = 0; i < 5; i++) {
    char id[16];
    snprintf(id, sizeof id, "c%d", i);
    sg_audit_decision_t yes = {.call_id = id,
                               .subject = "alice",
                               .tool = "send_mail",
                               .decision = "allow",
                               .reason = "allowed"};
    sg_audit_decision_t no = yes;
    no.decision = "deny";
    no.reason = "budget_exhausted";
    /* Two gateways share one budget. */
    CHECK_INT_EQ(sg_store_audit_decision_budgeted(i % 2 ? a : b, &yes, &no, since, 3, &allowed), 0);
    CHECK_INT_EQ(allowed, i < 3);
  }
  int64_t n = -1;
  CHECK_INT_EQ(sg_store_budget_count(a, "alice", "send_mail", since, &n), 0);
  CHECK_INT_EQ(n, 3);
  CHECK_INT_EQ(sg_store_budget_count(a, "bob", "send_mail", since, &n), 0);
  CHECK_INT_EQ(n, 0);
  CHECK_INT_EQ(sg_store_budget_count(a, "alice", "other", since, &n), 0);
  CHECK_INT_EQ(n, 0);
  char later[32];
  sg_store_time_iso(1000, later);
  CHECK_INT_EQ(sg_store_budget_count(a, "alice", "send_mail", later, &n), 0);
  CHECK_INT_EQ(n, 0);
  /* Unbudgeted calls do not count. */
  decide(a, "c9", "send_mail", "allow", "allowed", NULL);
  CHECK_INT_EQ(sg_store_budget_count(a, "alice", "send_mail", since, &n), 0);
  CHECK_INT_EQ(n, 3);
  sg_audit_decision_t bad = {.call_id = "x", .tool = "t", .decision = "deny", .reason = "r"};
  CHECK_INT_EQ(sg_store_audit_decision_budgeted(a, &bad, &bad, since, 1, NULL), SG_EINVAL);
  sg_store_close(a);
  sg_store_close(b);
  CHECK_INT_EQ(raw_int(t.db, "SELECT count(*) FROM audit_events WHERE reason = 'budget_exhausted'"),
               2);
  tmp_done(&t);
}

static void redacted_arguments_are_kept_and_bounded(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *st = open_rw(t.db);
  sg_audit_decision_t d = {
      .call_id = "c1",
      .tool = "login",
      .decision = "allow",
      .reason = "allowed",
      .args_hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      .args_json = "{\"password\":\"[redacted]\",\"user\":\"alice\"}"};
  CHECK_INT_EQ(sg_store_audit_decision(st, &d), 0);
  size_t big = SG_AUDIT_ARGS_MAX + 10;
  char *huge = malloc(big + 1);
  memset(huge, 'x', big);
  huge[0] = '{';
  huge[big] = '\0';
  d.call_id = "c2";
  d.args_json = huge;
  CHECK_INT_EQ(sg_store_audit_decision(st, &d), 0);
  free(huge);
  rows_t rows = {0};
  tail(st, 2, &rows);
  CHECK_INT_EQ(rows.n, 2);
  sg_store_close(st);
  char *a = raw_text(t.db, "SELECT args_json FROM audit_events WHERE call_id = 'c1'");
  CHECK_STR_EQ(a, "{\"password\":\"[redacted]\",\"user\":\"alice\"}");
  free(a);
  a = raw_text(t.db, "SELECT args_json FROM audit_events WHERE call_id = 'c2'");
  CHECK(a != NULL && a[0] == '"' && strstr(a, "omitted: 65546 bytes") != NULL);
  free(a);
  rows_free(&rows);
  tmp_done(&t);
}

typedef struct {
  int n;
  char line[8][200];
} events_t;

static void on_row(const sg_audit_row_t *row, void *arg) {
  events_t *e = arg;
  CHECK(e->n < 8);
#define S(x) ((x) ? (x) : "-")
  snprintf(e->line[e->n++], 200, "%s|%s|%s|%s|%s|%s|%s|%s", row->event, S(row->reason),
           S(row->outcome), S(row->actor), row->approval_id ? "id" : "-", S(row->approval),
           S(row->approval_detail), S(row->args_json));
#undef S
}

/* Approval events of a call are folded into its row, as its outcome is; approval events
 * of no recorded call, and switch flips, are rows of their own. */
static void tail_shows_switches_and_approvals(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *st = open_rw(t.db);
  char lone[SG_APPROVAL_ID_LEN + 1], held[SG_APPROVAL_ID_LEN + 1];
  request(st, "gw1-1", 60000, lone);
  CHECK_INT_EQ(sg_store_approval_decide(st, lone, 1, "local:bob", "ok"), 0);

  sg_audit_decision_t d = {.call_id = "gw1-2",
                           .subject = "alice",
                           .tenant = "acme",
                           .tool = "write_file",
                           .args_hash = ARGS_A,
                           .decision = "allow",
                           .reason = "approval_required",
                           .args_json = "{\"path\":\"a.txt\"}"};
  CHECK_INT_EQ(sg_store_audit_decision(st, &d), 0);
  request(st, "gw1-2", 60000, held);
  CHECK_INT_EQ(sg_store_approval_decide(st, held, 1, "local:carol", "checked"), 0);
  sg_store_approval_use_t use = use_of(held, "gw1-2");
  CHECK_INT_EQ(sg_store_approval_consume(st, &use), 0);
  CHECK_INT_EQ(sg_store_audit_outcome(st, "gw1-2", "write_file", "ok", "ok", 10, NULL), 0);
  CHECK_INT_EQ(sg_store_writes_set(st, 0, "local:ops", "incident", NULL), 0);

  events_t e = {0};
  CHECK_INT_EQ(sg_store_audit_tail(st, 10, on_row, &e), 0);
  CHECK_INT_EQ(e.n, 5);
  CHECK_STR_EQ(e.line[0],
               "approval_requested|pending|-|-|id|-|-|"
               "{\"content\":\"[redacted]\",\"path\":\"a.txt\"}");
  CHECK_STR_EQ(e.line[1], "approval_granted|approved|-|local:bob|id|-|-|-");
  CHECK_STR_EQ(e.line[2],
               "decision|approval_required|ok|local:carol|id|used|checked|"
               "{\"path\":\"a.txt\"}");
  CHECK_STR_EQ(e.line[3], "switch|writes=off|-|local:ops|-|-|-|-");
  CHECK_STR_EQ(e.line[4], "approval_cancelled|cancelled|-|local:ops|id|-|-|-");
  sg_store_close(st);
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
    {"processes_opening_a_new_file_at_once_all_succeed",
     processes_opening_a_new_file_at_once_all_succeed},
    {"two_handles_share_a_file", two_handles_share_a_file},
    {"appends_checkpoint_by_default", appends_checkpoint_by_default},
    {"manual_checkpoint_moves_work_off_the_appender",
     manual_checkpoint_moves_work_off_the_appender},
    {"approval_is_granted_then_used_once", approval_is_granted_then_used_once},
    {"approval_cannot_be_replayed", approval_cannot_be_replayed},
    {"approval_transitions_race_safely", approval_transitions_race_safely},
    {"approvals_expire", approvals_expire},
    {"cancel_all_and_the_kill_switch", cancel_all_and_the_kill_switch},
    {"approvals_are_listed", approvals_are_listed},
    {"data_version_shows_other_handles_commits", data_version_shows_other_handles_commits},
    {"budgets_limit_calls_per_window", budgets_limit_calls_per_window},
    {"redacted_arguments_are_kept_and_bounded", redacted_arguments_are_kept_and_bounded},
    {"tail_shows_switches_and_approvals", tail_shows_switches_and_approvals},
    SG_SUITE_END,
};
