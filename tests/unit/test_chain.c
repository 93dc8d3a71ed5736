/*
 * The audit hash chain: every row links to the one before it, whatever wrote it (one
 * handle, two handles, two processes, the migration of an older log), its hash is the
 * documented serialisation (recomputed here independently), and verify finds a row that
 * was edited, deleted or moved by someone with write access to the file, as such a
 * person would: through a raw SQLite connection, after dropping the triggers.
 */
#include <ftw.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"
#include "core/hash.h"
#include "runner.h"
#include "store/store.h"

#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"

typedef struct {
  char dir[64];
  char db[128];
} tmp_t;

static void tmp_init(tmp_t *t) {
  snprintf(t->dir, sizeof t->dir, "/tmp/sg-chain-XXXXXX");
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
  return st;
}

/* Runs SQL on a separate connection, as someone with the file would. */
static void raw_exec(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  char *err = NULL;
  CHECK_INT_EQ(sqlite3_open(path, &db), SQLITE_OK);
  int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
  if (rc != SQLITE_OK) fprintf(stderr, "%s: %s\n", sql, err ? err : "?");
  sqlite3_free(err);
  sqlite3_close(db);
  CHECK_INT_EQ(rc, SQLITE_OK);
}

static int64_t raw_int(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  int64_t v = -1;
  CHECK_INT_EQ(sqlite3_open(path, &db), SQLITE_OK);
  CHECK_INT_EQ(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
  if (sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

static void decide(sg_store_t *st, const char *call_id, const char *decision) {
  sg_audit_decision_t d = {
      .call_id = call_id,
      .subject = "alice",
      .role = "editor",
      .tenant = "acme",
      .env = "prod",
      .tool = "write_file",
      .args_hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      .decision = decision,
      .reason = strcmp(decision, "allow") == 0 ? "allowed" : "not_granted",
      .args_json = "{\"path\":\"acme/a.txt\",\"token\":\"[redacted]\"}",
  };
  int rc = sg_store_audit_decision(st, &d);
  if (rc != 0) fprintf(stderr, "decide: %s\n", sg_store_errmsg(st));
  CHECK_INT_EQ(rc, 0);
}

/* A call: its decision, and its outcome queued to ride with the next transaction. */
static void call(sg_store_t *st, const char *prefix, int i) {
  char id[64];
  snprintf(id, sizeof id, "%s-%d", prefix, i);
  decide(st, id, i % 5 == 4 ? "deny" : "allow");
  if (i % 5 != 4)
    CHECK_INT_EQ(sg_store_audit_outcome_later(st, id, "write_file", i % 7 ? "ok" : "tool_error",
                                              "ok", 100 + i, i % 7 ? NULL : "disk full"),
                 0);
}

/* The documented serialisation, written again from the comment in chain.c. */
static const char *const columns[] = {
    "seq",    "ts",        "call_id",   "event",       "subject",  "role",    "tenant",
    "env",    "tool",      "args_hash", "decision",    "reason",   "outcome", "latency_us",
    "detail", "args_json", "actor",     "approval_id", "prev_hash"};
#define NCOL ((int)(sizeof columns / sizeof columns[0]))

/* "SELECT <the columns in that order>[, hash] FROM audit_events <rest>". */
static void select_sql(char *out, size_t len, int with_hash, const char *rest) {
  size_t n = (size_t)snprintf(out, len, "SELECT ");
  for (int i = 0; i < NCOL; i++)
    n += (size_t)snprintf(out + n, len - n, "%s%s", i ? ", " : "", columns[i]);
  snprintf(out + n, len - n, "%s FROM audit_events %s", with_hash ? ", hash" : "", rest);
}

static void outside_hash(sqlite3_stmt *s, char out[SG_SHA256_HEX_LEN + 1]) {
  static char buf[1 << 18];
  size_t n = 0;
  n += (size_t)snprintf(buf + n, sizeof buf - n, "scopegate-audit-v1");
  for (int i = 0; i < NCOL; i++) {
    switch (sqlite3_column_type(s, i)) {
      case SQLITE_NULL:
        n += (size_t)snprintf(buf + n, sizeof buf - n, "N");
        break;
      case SQLITE_INTEGER:
        n += (size_t)snprintf(buf + n, sizeof buf - n, "I%lld;",
                              (long long)sqlite3_column_int64(s, i));
        break;
      default: {
        const unsigned char *t = sqlite3_column_text(s, i);
        int len = sqlite3_column_bytes(s, i);
        n += (size_t)snprintf(buf + n, sizeof buf - n, "T%d:", len);
        CHECK(n + (size_t)len < sizeof buf);
        memcpy(buf + n, t, (size_t)len);
        n += (size_t)len;
      }
    }
  }
  sg_sha256_hex(buf, n, out);
}

/* Walks the table itself: seqs 1..n without gaps, each prev_hash the hash before it,
 * each hash what an outside tool computes. Returns the number of rows. */
static int64_t check_chain_by_hand(const char *path) {
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  char prev[SG_SHA256_HEX_LEN + 1] = ZEROS, want[SG_SHA256_HEX_LEN + 1];
  char sql[512];
  int64_t n = 0;
  select_sql(sql, sizeof sql, 1, "ORDER BY seq");
  CHECK_INT_EQ(sqlite3_open(path, &db), SQLITE_OK);
  CHECK_INT_EQ(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
  while (sqlite3_step(s) == SQLITE_ROW) {
    n++;
    CHECK_INT_EQ(sqlite3_column_int64(s, 0), n);
    CHECK_STR_EQ((const char *)sqlite3_column_text(s, NCOL - 1), prev);
    outside_hash(s, want);
    CHECK_STR_EQ((const char *)sqlite3_column_text(s, NCOL), want);
    memcpy(prev, want, sizeof prev);
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return n;
}

static void verify(sg_store_t *st, sg_audit_verify_t *v) {
  CHECK_INT_EQ(sg_store_audit_verify(st, 0, NULL, v), 0);
}

static void verify_path(const char *path, sg_audit_verify_t *v) {
  sg_store_t *st = NULL;
  char err[512];
  CHECK_INT_EQ(sg_store_open_readonly(path, &st, err, sizeof err), 0);
  verify(st, v);
  sg_store_close(st);
}

static void check_intact(const char *path, int64_t rows) {
  sg_audit_verify_t v;
  verify_path(path, &v);
  if (v.problem) fprintf(stderr, "verify: %s\n", v.message);
  CHECK(v.problem == NULL);
  CHECK_INT_EQ(v.bad_seq, 0);
  CHECK_INT_EQ(v.rows, rows);
  CHECK_INT_EQ(v.head_seq, rows);
}

static void every_kind_of_row_is_chained(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *st = open_rw(t.db);
  char id[SG_APPROVAL_ID_LEN + 1];
  for (int i = 0; i < 600; i++) {
    call(st, "c", i);
    if (i % 50 == 0)
      CHECK_INT_EQ(sg_store_audit_note(st, "drift", "acme", "prod", "write_file", "tool_drift",
                                       "description changed"),
                   0);
    if (i % 100 == 10) {
      CHECK_INT_EQ(sg_store_writes_set(st, i % 200 != 10, "local:ops", "drill", NULL), 0);
      sg_store_approval_request_t req = {.call_id = "c-x",
                                         .tool = "write_file",
                                         .args_hash = ZEROS,
                                         .args_json = "{}",
                                         .tenant = "acme",
                                         .subject = "alice",
                                         .ttl_ms = 60000};
      CHECK_INT_EQ(sg_store_approval_create(st, &req, id), 0);
      CHECK_INT_EQ(sg_store_approval_decide(st, id, 1, "local:bob", "fine"), 0);
    }
  }
  CHECK_INT_EQ(sg_store_audit_outcome(st, "c-late", NULL, "cancelled", NULL, -1, NULL), 0);
  sg_store_close(st);

  int64_t rows = check_chain_by_hand(t.db);
  CHECK(rows > 1090);
  CHECK_INT_EQ(rows, raw_int(t.db, "SELECT count(*) FROM audit_events"));
  CHECK_INT_EQ(raw_int(t.db, "SELECT count(DISTINCT event) FROM audit_events"), 7);
  check_intact(t.db, rows);
  tmp_done(&t);
}

/* Two handles on one file append in turn: the second's appends follow the first's,
 * although each last saw the head as it left it. */
static void two_handles_form_one_chain(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *a = open_rw(t.db), *b = open_rw(t.db);
  for (int i = 0; i < 200; i++) {
    call(i % 3 ? a : b, i % 3 ? "a" : "b", i);
    if (i % 17 == 0) CHECK_INT_EQ(sg_store_flush(i % 2 ? a : b), 0);
  }
  sg_store_close(a);
  sg_store_close(b);
  check_intact(t.db, check_chain_by_hand(t.db));
  tmp_done(&t);
}

/* Two processes append at once, contending for the write lock. */
static void two_processes_form_one_chain(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_close(open_rw(t.db));
  pid_t kids[2];
  for (int k = 0; k < 2; k++) {
    kids[k] = fork();
    CHECK(kids[k] >= 0);
    if (kids[k] == 0) {
      sg_store_t *st = NULL;
      char err[512];
      sg_store_options_t opts = {.busy_timeout_ms = 10000};
      if (sg_store_open_ex(t.db, &opts, &st, err, sizeof err) != 0) _exit(2);
      for (int i = 0; i < 300; i++) {
        char id[32];
        snprintf(id, sizeof id, "p%d-%d", k, i);
        sg_audit_decision_t d = {
            .call_id = id, .subject = "s", .tool = "t", .decision = "allow", .reason = "allowed"};
        if (sg_store_audit_decision(st, &d) != 0) _exit(3);
        if (sg_store_audit_outcome_later(st, id, "t", "ok", "ok", 1, NULL) != 0) _exit(4);
      }
      sg_store_close(st);
      _exit(0);
    }
  }
  for (int k = 0; k < 2; k++) {
    int status = 0;
    CHECK_INT_EQ(waitpid(kids[k], &status, 0), kids[k]);
    CHECK(WIFEXITED(status));
    CHECK_INT_EQ(WEXITSTATUS(status), 0);
  }
  CHECK_INT_EQ(check_chain_by_hand(t.db), 1200);
  check_intact(t.db, 1200);
  tmp_done(&t);
}

/* A log of ten calls to tamper with: 20 rows (decisions, outcomes), seq 1..20. */
static void ten_calls(tmp_t *t) {
  tmp_init(t);
  sg_store_t *st = open_rw(t->db);
  for (int i = 0; i < 10; i++) {
    char id[16];
    snprintf(id, sizeof id, "c%d", i);
    decide(st, id, "deny");
    CHECK_INT_EQ(sg_store_audit_outcome(st, id, "write_file", "ok", "ok", 5, NULL), 0);
  }
  sg_store_close(st);
  check_intact(t->db, 20);
}

static void expect_problem(const char *path, int64_t seq, const char *problem, const char *says) {
  sg_audit_verify_t v;
  verify_path(path, &v);
  if (v.problem == NULL || strcmp(v.problem, problem) != 0 || v.bad_seq != seq ||
      strstr(v.message, says) == NULL)
    fprintf(stderr, "verify said: %s at %" PRId64 ": %s\n", v.problem ? v.problem : "(intact)",
            v.bad_seq, v.message);
  CHECK_STR_EQ(v.problem, problem);
  CHECK_INT_EQ(v.bad_seq, seq);
  CHECK(strstr(v.message, says) != NULL);
}

static void verify_finds_an_edited_row(void) {
  tmp_t t;
  ten_calls(&t);
  raw_exec(t.db,
           "DROP TRIGGER audit_events_no_update;"
           "UPDATE audit_events SET decision = 'allow', reason = 'allowed' WHERE seq = 7");
  expect_problem(t.db, 7, "edited", "seq 7 was edited");
  tmp_done(&t);
}

/* Editing a row and giving it the right hash moves the break to the next row. */
static void verify_finds_a_rehashed_edit_at_the_next_row(void) {
  tmp_t t;
  ten_calls(&t);
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  char h[SG_SHA256_HEX_LEN + 1], sql[256];
  raw_exec(t.db,
           "DROP TRIGGER audit_events_no_update;"
           "UPDATE audit_events SET decision = 'allow' WHERE seq = 7");
  char query[512];
  select_sql(query, sizeof query, 0, "WHERE seq = 7");
  CHECK_INT_EQ(sqlite3_open(t.db, &db), SQLITE_OK);
  CHECK_INT_EQ(sqlite3_prepare_v2(db, query, -1, &s, NULL), SQLITE_OK);
  CHECK_INT_EQ(sqlite3_step(s), SQLITE_ROW);
  outside_hash(s, h);
  sqlite3_finalize(s);
  sqlite3_close(db);
  snprintf(sql, sizeof sql, "UPDATE audit_events SET hash = '%s' WHERE seq = 7", h);
  raw_exec(t.db, sql);
  expect_problem(t.db, 8, "deleted", "seq 8 does not follow seq 7");
  tmp_done(&t);
}

static void verify_finds_a_deleted_row(void) {
  tmp_t t;
  ten_calls(&t);
  raw_exec(t.db, "DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq = 5");
  expect_problem(t.db, 6, "deleted", "seq 5 is missing");
  raw_exec(t.db, "DELETE FROM audit_events WHERE seq IN (1, 2)");
  expect_problem(t.db, 3, "deleted", "seqs 1 to 2 are missing");
  tmp_done(&t);
}

/* Rows deleted and the later ones renumbered to close the gap: no seq is missing, but
 * the row now at the gap does not link to the one before it. */
static void verify_finds_a_deletion_hidden_by_renumbering(void) {
  tmp_t t;
  ten_calls(&t);
  raw_exec(t.db,
           "DROP TRIGGER audit_events_no_delete; DROP TRIGGER audit_events_no_update;"
           "DELETE FROM audit_events WHERE seq = 5;"
           "UPDATE audit_events SET seq = seq - 1 WHERE seq > 5");
  expect_problem(t.db, 5, "deleted", "seq 5 does not follow seq 4");
  tmp_done(&t);
}

static void verify_finds_reordered_rows(void) {
  tmp_t t;
  ten_calls(&t);
  /* Rows 3 and 4 trade places. */
  raw_exec(t.db,
           "DROP TRIGGER audit_events_no_update;"
           "UPDATE audit_events SET seq = 1000 WHERE seq = 3;"
           "UPDATE audit_events SET seq = 3 WHERE seq = 4;"
           "UPDATE audit_events SET seq = 4 WHERE seq = 1000");
  expect_problem(t.db, 3, "reordered", "seq 3 is out of order");
  tmp_done(&t);

  /* Two rows' contents trade places, seqs left as they were. */
  ten_calls(&t);
  raw_exec(t.db,
           "DROP TRIGGER audit_events_no_update;"
           "CREATE TEMP TABLE r AS SELECT * FROM audit_events WHERE seq IN (8, 9);"
           "UPDATE audit_events SET (ts, call_id, event, decision, reason, outcome,"
           " latency_us, detail, prev_hash, hash) = (SELECT ts, call_id, event, decision,"
           " reason, outcome, latency_us, detail, prev_hash, hash FROM r WHERE r.seq ="
           " 17 - audit_events.seq) WHERE seq IN (8, 9)");
  expect_problem(t.db, 8, "reordered", "seq 8 is out of order");
  tmp_done(&t);
}

/* Cutting rows off the end leaves a consistent chain: only a head kept elsewhere shows
 * it. */
static void anchor_finds_a_cut_tail(void) {
  tmp_t t;
  ten_calls(&t);
  sg_audit_verify_t v;
  verify_path(t.db, &v);
  char head[SG_STORE_HASH_HEX + 1];
  snprintf(head, sizeof head, "%s", v.head_hash);
  CHECK_INT_EQ(v.head_seq, 20);

  sg_store_t *st = NULL;
  char err[512];
  CHECK_INT_EQ(sg_store_open_readonly(t.db, &st, err, sizeof err), 0);
  CHECK_INT_EQ(sg_store_audit_verify(st, 20, head, &v), 0);
  CHECK(v.problem == NULL);
  CHECK_INT_EQ(sg_store_audit_verify(st, 20, ZEROS, &v), 0);
  CHECK_STR_EQ(v.problem, "anchor");
  sg_store_close(st);

  raw_exec(t.db, "DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq > 18");
  check_intact(t.db, 18);
  CHECK_INT_EQ(sg_store_open_readonly(t.db, &st, err, sizeof err), 0);
  CHECK_INT_EQ(sg_store_audit_verify(st, 20, head, &v), 0);
  CHECK_STR_EQ(v.problem, "anchor");
  CHECK_INT_EQ(v.bad_seq, 20);
  CHECK(strstr(v.message, "cut from the end") != NULL);
  sg_store_close(st);
  tmp_done(&t);
}

/* A gateway that keeps running after rows were cut from the end links its next row to
 * the head it remembers, so the cut shows as a gap. */
static void a_running_gateway_exposes_a_cut_tail(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_t *st = open_rw(t.db);
  decide(st, "c1", "allow");
  decide(st, "c2", "allow");
  decide(st, "c3", "allow");
  raw_exec(t.db, "DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq = 3");
  decide(st, "c4", "allow");
  sg_store_close(st);
  expect_problem(t.db, 4, "deleted", "seq 3 is missing");
  tmp_done(&t);
}

/* A database written before the chain existed (schema 1) is migrated: its rows are
 * hashed in order and new rows continue the chain. */
static void migration_chains_the_rows_already_there(void) {
  tmp_t t;
  tmp_init(&t);
  raw_exec(t.db,
           "CREATE TABLE audit_events (seq INTEGER PRIMARY KEY, ts TEXT NOT NULL,"
           " call_id TEXT NOT NULL, event TEXT NOT NULL, subject TEXT, role TEXT, tenant TEXT,"
           " env TEXT, tool TEXT, args_hash TEXT, decision TEXT, reason TEXT, outcome TEXT,"
           " latency_us INTEGER, detail TEXT);"
           "CREATE INDEX audit_events_call ON audit_events (call_id, event);"
           "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events"
           " BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;"
           "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events"
           " BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;"
           "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)"
           " INSERT INTO audit_events (ts, call_id, event, subject, tool, decision, reason,"
           " outcome, latency_us)"
           " SELECT '2025-01-01T00:00:00.000000Z', 'old-' || (i / 2),"
           "  CASE i % 2 WHEN 1 THEN 'decision' ELSE 'outcome' END, 'alice', 'echo',"
           "  CASE i % 2 WHEN 1 THEN 'allow' END, 'allowed',"
           "  CASE i % 2 WHEN 0 THEN 'ok' END, CASE i % 2 WHEN 0 THEN i END FROM n;"
           "PRAGMA user_version = 1; PRAGMA application_id = 1935896432;");
  sg_store_t *st = open_rw(t.db);
  CHECK_INT_EQ(raw_int(t.db, "PRAGMA user_version"), 2);
  CHECK_INT_EQ(raw_int(t.db, "SELECT count(*) FROM audit_events WHERE hash IS NULL"), 0);
  decide(st, "new-1", "allow");
  sg_store_close(st);
  CHECK_INT_EQ(check_chain_by_hand(t.db), 2501);
  check_intact(t.db, 2501);
  /* The append-only trigger is back. */
  sqlite3 *db = NULL;
  CHECK_INT_EQ(sqlite3_open(t.db, &db), SQLITE_OK);
  CHECK(sqlite3_exec(db, "UPDATE audit_events SET tool = 'x' WHERE seq = 1", NULL, NULL, NULL) !=
        SQLITE_OK);
  sqlite3_close(db);
  tmp_done(&t);
}

typedef struct {
  int n;
  int64_t first, last;
  int saw_args, saw_hashes;
} export_seen_t;

static void on_event(const sg_audit_event_t *ev, void *arg) {
  export_seen_t *s = arg;
  if (s->n++ == 0) s->first = ev->seq;
  s->last = ev->seq;
  if (ev->args_json && strstr(ev->args_json, "[redacted]")) s->saw_args++;
  if (ev->hash && strlen(ev->hash) == 64 && ev->prev_hash && strlen(ev->prev_hash) == 64)
    s->saw_hashes++;
}

static void export_gives_every_row_after_a_seq(void) {
  tmp_t t;
  ten_calls(&t);
  sg_store_t *st = NULL;
  char err[512];
  CHECK_INT_EQ(sg_store_open_readonly(t.db, &st, err, sizeof err), 0);
  export_seen_t seen = {0};
  CHECK_INT_EQ(sg_store_audit_export(st, 0, on_event, &seen), 0);
  CHECK_INT_EQ(seen.n, 20);
  CHECK_INT_EQ(seen.first, 1);
  CHECK_INT_EQ(seen.saw_args, 10);
  CHECK_INT_EQ(seen.saw_hashes, 20);
  memset(&seen, 0, sizeof seen);
  CHECK_INT_EQ(sg_store_audit_export(st, 15, on_event, &seen), 0);
  CHECK_INT_EQ(seen.n, 5);
  CHECK_INT_EQ(seen.first, 16);
  CHECK_INT_EQ(seen.last, 20);
  sg_store_close(st);
  tmp_done(&t);
}

static void empty_log_verifies(void) {
  tmp_t t;
  tmp_init(&t);
  sg_store_close(open_rw(t.db));
  check_intact(t.db, 0);
  tmp_done(&t);
}

const sg_test_t sg_suite_chain[] = {
    {"every_kind_of_row_is_chained", every_kind_of_row_is_chained},
    {"two_handles_form_one_chain", two_handles_form_one_chain},
    {"two_processes_form_one_chain", two_processes_form_one_chain},
    {"verify_finds_an_edited_row", verify_finds_an_edited_row},
    {"verify_finds_a_rehashed_edit_at_the_next_row", verify_finds_a_rehashed_edit_at_the_next_row},
    {"verify_finds_a_deleted_row", verify_finds_a_deleted_row},
    {"verify_finds_a_deletion_hidden_by_renumbering",
     verify_finds_a_deletion_hidden_by_renumbering},
    {"verify_finds_reordered_rows", verify_finds_reordered_rows},
    {"anchor_finds_a_cut_tail", anchor_finds_a_cut_tail},
    {"a_running_gateway_exposes_a_cut_tail", a_running_gateway_exposes_a_cut_tail},
    {"migration_chains_the_rows_already_there", migration_chains_the_rows_already_there},
    {"export_gives_every_row_after_a_seq", export_gives_every_row_after_a_seq},
    {"empty_log_verifies", empty_log_verifies},
    SG_SUITE_END,
};
