/*
 * scopegate audit: reads and checks the audit log. "audit tail" prints the last calls,
 * each decision joined with its outcome, and the other events (switch flips, approvals,
 * drift) as a table for people or as JSON lines for programs. "audit verify" walks the
 * hash chain and names the first row that was edited, deleted or moved. "audit export"
 * writes every column of every row as JSON lines, for log collectors. All three open the
 * database read-only, so they never create one and never block the gateway writing it.
 * The log holds text that clients chose (tool names, arguments, error details), so no
 * output may drive a terminal: tables replace control characters, JSON escapes
 * everything beyond ASCII, and both replace invalid UTF-8.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/text.h"
#include "core/error.h"
#include "store/store.h"

#define DEFAULT_LINES 20
#define MAX_LINES 1000000

static int usage(FILE *out) {
  fprintf(out,
          "usage: scopegate audit tail [-n N] [--db FILE] [--json]\n"
          "       scopegate audit verify [--db FILE] [--anchor SEQ:HASH]\n"
          "       scopegate audit export [--jsonl] [--db FILE] [--since SEQ]\n"
          "\n"
          "tail     prints the last N calls, oldest first, each decision with its outcome,\n"
          "         and the events between them (writes switched, approvals, drift)\n"
          "verify   checks the hash chain: exits 0 when every row is as written, 1 naming\n"
          "         the first row that was edited, deleted or moved (or when the log cannot\n"
          "         be read). It prints the head (last seq and hash): keep it elsewhere and\n"
          "         pass it as --anchor later to also detect rows cut from the end or a\n"
          "         chain rewritten from some row on\n"
          "export   prints every row with every column as one JSON object per line\n"
          "\n"
          "  -n N              number of calls (1..%d, default %d)\n"
          "  --db FILE         the database (default: $SCOPEGATE_DB, else %s)\n"
          "  --json            tail: one JSON object per line instead of a table\n"
          "  --anchor SEQ:HASH verify: the row SEQ must still have hash HASH\n"
          "  --since SEQ       export: only the rows after SEQ (the last seq you hold)\n",
          MAX_LINES, DEFAULT_LINES, SG_CLI_DEFAULT_DB);
  return out == stdout ? 0 : 2;
}

static int open_log(const char *db, sg_store_t **st) {
  char err[512];
  if (sg_store_open_readonly(db, st, err, sizeof err) != 0) {
    fprintf(stderr, "scopegate audit: %s\n", err);
    return 1;
  }
  return 0;
}

/* Flushes stdout; a write error (a full disk, a closed pipe) fails the command. */
static int finish_output(int status) {
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "scopegate audit: cannot write the output: %s\n", strerror(errno));
    return 1;
  }
  return status;
}

/* ---- tail: table ---------------------------------------------------------------- */

enum {
  C_TIME,
  C_SUBJECT,
  C_ROLE,
  C_TENANT,
  C_ENV,
  C_TOOL,
  C_DECISION,
  C_REASON,
  C_OUTCOME,
  C_MS,
  C_ARGS,
  C_DETAIL,
  NCOLS
};

static const char *const headers[NCOLS] = {"TIME (UTC)", "SUBJECT", "ROLE",     "TENANT",
                                           "ENV",        "TOOL",    "DECISION", "REASON",
                                           "OUTCOME",    "MS",      "ARGS",     "DETAIL"};

/* The DETAIL cell. For a call: its approval, if it was held for one ("approval ID used
 * by local:bob: reason"), then its decision's and outcome's details. For another event:
 * the approval it concerns, who acted, and why. */
static void detail_cell(const sg_audit_row_t *row, char *out, size_t len) {
  size_t n = 0;
  out[0] = '\0';
#define ADD(...) n += (size_t)snprintf(out + n, n < len ? len - n : 0, __VA_ARGS__)
  if (row->approval_id) ADD("approval %s", row->approval_id);
  if (row->approval) ADD(" %s", row->approval);
  if (row->actor) ADD("%sby %s", n ? " " : "", row->actor);
  if (row->approval_detail) ADD(": %s", row->approval_detail);
  const char *sep = row->approval ? "; " : ": ";
  if (row->detail && row->outcome_detail)
    ADD("%s%s; %s", n ? sep : "", row->detail, row->outcome_detail);
  else if (row->detail || row->outcome_detail)
    ADD("%s%s", n ? sep : "", row->detail ? row->detail : row->outcome_detail);
#undef ADD
}

static void table_row(const sg_audit_row_t *row, void *arg) {
  sg__cli_table_t *t = arg;
  char when[32], ms[32], args[16], outcome[160], detail[SG_AUDIT_DETAIL_MAX * 2 + 512];

  /* 2026-01-02T03:04:05.678901Z shows as 2026-01-02 03:04:05.678 */
  const char *ts = row->ts ? row->ts : "";
  if (strlen(ts) >= 23)
    snprintf(when, sizeof when, "%.10s %.12s", ts, ts + 11);
  else
    snprintf(when, sizeof when, "%s", ts[0] ? ts : "-");
  if (row->latency_us >= 0)
    snprintf(ms, sizeof ms, "%.3f", (double)row->latency_us / 1000.0);
  else
    snprintf(ms, sizeof ms, "-");
  snprintf(args, sizeof args, "%.12s", row->args_hash ? row->args_hash : "-");
  if (row->outcome && row->outcome_reason && strcmp(row->outcome_reason, "ok") != 0 &&
      strcmp(row->outcome_reason, row->outcome) != 0)
    snprintf(outcome, sizeof outcome, "%s (%.120s)", row->outcome, row->outcome_reason);
  else
    snprintf(outcome, sizeof outcome, "%s", row->outcome ? row->outcome : "-");
  detail_cell(row, detail, sizeof detail);

  const char *cells[NCOLS] = {when,
                              row->subject,
                              row->role,
                              row->tenant,
                              row->env,
                              row->tool,
                              row->decision ? row->decision : row->event,
                              row->reason,
                              outcome,
                              ms,
                              args,
                              detail};
  sg__cli_table_add(t, cells);
}

/* ---- tail: JSON lines ----------------------------------------------------------- */

typedef struct {
  size_t n;
  int failed;
} json_out_t;

static void json_row(const sg_audit_row_t *row, void *arg) {
  json_out_t *out = arg;
  json_t *o = json_object();
  int rc = o ? 0 : -1;
  if (rc == 0) rc = json_object_set_new(o, "seq", json_integer(row->seq));
  const struct {
    const char *key, *val;
  } fields[] = {
      {"ts", row->ts},
      {"call_id", row->call_id},
      {"subject", row->subject},
      {"role", row->role},
      {"tenant", row->tenant},
      {"env", row->env},
      {"tool", row->tool},
      {"args_hash", row->args_hash},
      {"event", row->event},
      {"decision", row->decision},
      {"reason", row->reason},
      {"detail", row->detail},
      {"outcome", row->outcome},
      {"outcome_reason", row->outcome_reason},
      {"outcome_detail", row->outcome_detail},
      {"actor", row->actor},
      {"approval_id", row->approval_id},
      {"approval", row->approval},
      {"approval_detail", row->approval_detail},
      {"args_json", row->args_json},
  };
  for (size_t i = 0; rc == 0 && i < sizeof fields / sizeof fields[0]; i++)
    rc = sg__cli_json_set_str(o, fields[i].key, fields[i].val);
  if (rc == 0)
    rc = json_object_set_new(o, "latency_us",
                             row->latency_us >= 0 ? json_integer(row->latency_us) : json_null());
  if (rc != 0) {
    json_decref(o);
    o = NULL;
  }
  if (sg__cli_json_line(o) != 0) {
    out->failed = 1;
    return;
  }
  out->n++;
}

/* ---- options -------------------------------------------------------------------- */

static int parse_lines(const char *s, int *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 1 || v > MAX_LINES) return -1;
  *out = (int)v;
  return 0;
}

static int parse_seq(const char *s, int64_t *out, const char **rest) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno != 0 || end == s || v < 0 || (rest == NULL && *end != '\0')) return -1;
  *out = v;
  if (rest) *rest = end;
  return 0;
}

/* Takes the value of option name at argv[*i] ("--name VALUE" or "--name=VALUE"). Returns
 * 1 when argv[*i] is that option (the value in *val, NULL when it is missing), else 0. */
static int option(int argc, char **argv, int *i, const char *name, const char **val) {
  size_t n = strlen(name);
  if (strncmp(argv[*i], name, n) != 0) return 0;
  if (argv[*i][n] == '=') {
    *val = argv[*i] + n + 1;
    return 1;
  }
  if (argv[*i][n] != '\0') return 0;
  *val = ++*i < argc ? argv[*i] : NULL;
  return 1;
}

static int missing(const char *cmd, const char *opt, const char *what) {
  fprintf(stderr, "scopegate audit %s: %s needs %s\n", cmd, opt, what);
  return usage(stderr);
}

/* ---- commands ------------------------------------------------------------------- */

static int tail(int argc, char **argv) {
  const char *db = NULL, *val;
  int lines = DEFAULT_LINES, json = 0;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *nval = NULL;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) return usage(stdout);
    if (strcmp(a, "--json") == 0) {
      json = 1;
    } else if (option(argc, argv, &i, "--db", &val)) {
      if (val == NULL || val[0] == '\0') return missing("tail", "--db", "a file");
      db = val;
    } else if (strcmp(a, "-n") == 0) {
      if (++i == argc) return missing("tail", "-n", "a number");
      nval = argv[i];
    } else if (strncmp(a, "-n", 2) == 0) {
      nval = a + 2;
    } else {
      fprintf(stderr, "scopegate audit tail: unknown argument '%s'\n", a);
      return usage(stderr);
    }
    if (nval && parse_lines(nval, &lines) != 0) {
      fprintf(stderr, "scopegate audit tail: -n wants a number from 1 to %d, not '%s'\n", MAX_LINES,
              nval);
      return 2;
    }
  }
  db = sg__cli_db(db);

  sg_store_t *st = NULL;
  if (open_log(db, &st) != 0) return 1;

  int rc, status = 0;
  if (json) {
    json_out_t out = {0};
    rc = sg_store_audit_tail(st, lines, json_row, &out);
    if (out.failed) status = 1;
  } else {
    sg__cli_table_t t;
    sg__cli_table_init(&t, NCOLS, headers);
    rc = sg_store_audit_tail(st, lines, table_row, &t);
    if (t.failed)
      status = 1;
    else if (rc == 0 && t.nrows == 0)
      fprintf(stderr, "scopegate audit: no calls recorded in '%s'\n", db);
    else if (rc == 0)
      sg__cli_table_print(&t, stdout);
    sg__cli_table_free(&t);
  }
  if (rc != 0) {
    fprintf(stderr, "scopegate audit: %s\n", sg_store_errmsg(st));
    status = 1;
  } else if (status != 0) {
    fprintf(stderr, "scopegate audit: %s\n", sg_strerror(SG_ENOMEM));
  }
  sg_store_close(st);
  return finish_output(status);
}

static int verify(int argc, char **argv) {
  const char *db = NULL, *val, *anchor = NULL;
  int64_t anchor_seq = 0;
  char anchor_hash[SG_STORE_HASH_HEX + 1] = "";

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return usage(stdout);
    if (option(argc, argv, &i, "--db", &val)) {
      if (val == NULL || val[0] == '\0') return missing("verify", "--db", "a file");
      db = val;
    } else if (option(argc, argv, &i, "--anchor", &val)) {
      const char *rest;
      if (val == NULL) return missing("verify", "--anchor", "SEQ:HASH");
      if (parse_seq(val, &anchor_seq, &rest) != 0 || anchor_seq < 1 || rest[0] != ':' ||
          strlen(rest + 1) != SG_STORE_HASH_HEX ||
          strspn(rest + 1, "0123456789abcdef") != SG_STORE_HASH_HEX) {
        fprintf(stderr,
                "scopegate audit verify: --anchor wants SEQ:HASH (as verify prints it), not '%s'\n",
                val);
        return 2;
      }
      snprintf(anchor_hash, sizeof anchor_hash, "%s", rest + 1);
      anchor = val;
    } else {
      fprintf(stderr, "scopegate audit verify: unknown argument '%s'\n", argv[i]);
      return usage(stderr);
    }
  }
  db = sg__cli_db(db);

  sg_store_t *st = NULL;
  if (open_log(db, &st) != 0) return 1;
  sg_audit_verify_t v;
  int rc = sg_store_audit_verify(st, anchor_seq, anchor_hash, &v);
  int status = 0;
  if (rc != 0) {
    fprintf(stderr, "scopegate audit: %s\n", sg_store_errmsg(st));
    status = 1;
  } else if (v.problem) {
    printf("audit log '%s' is NOT intact: %s\n", db, v.message);
    printf("first bad row: seq %" PRId64 " (%s); %" PRId64 " rows checked\n", v.bad_seq, v.problem,
           v.rows);
    status = 1;
  } else if (v.rows == 0) {
    printf("audit log '%s' is intact: no events yet\n", db);
  } else {
    printf("audit log '%s' is intact: %" PRId64 " events, seq 1 to %" PRId64 "\n", db, v.rows,
           v.head_seq);
    if (anchor) printf("anchor: seq %" PRId64 " has the expected hash\n", anchor_seq);
    printf("head: %" PRId64 ":%s\n", v.head_seq, v.head_hash);
  }
  sg_store_close(st);
  return finish_output(status);
}

typedef struct {
  int failed;
} export_out_t;

static void export_row(const sg_audit_event_t *ev, void *arg) {
  export_out_t *out = arg;
  if (out->failed) return;
  json_t *o = json_object();
  int rc = o ? json_object_set_new(o, "seq", json_integer(ev->seq)) : -1;
  const struct {
    const char *key, *val;
  } fields[] = {
      {"ts", ev->ts},
      {"call_id", ev->call_id},
      {"event", ev->event},
      {"subject", ev->subject},
      {"role", ev->role},
      {"tenant", ev->tenant},
      {"env", ev->env},
      {"tool", ev->tool},
      {"args_hash", ev->args_hash},
      {"decision", ev->decision},
      {"reason", ev->reason},
      {"outcome", ev->outcome},
  };
  for (size_t i = 0; rc == 0 && i < sizeof fields / sizeof fields[0]; i++)
    rc = sg__cli_json_set_str(o, fields[i].key, fields[i].val);
  if (rc == 0)
    rc = json_object_set_new(o, "latency_us",
                             ev->latency_us >= 0 ? json_integer(ev->latency_us) : json_null());
  const struct {
    const char *key, *val;
  } rest[] = {
      {"detail", ev->detail},           {"args_json", ev->args_json}, {"actor", ev->actor},
      {"approval_id", ev->approval_id}, {"prev_hash", ev->prev_hash}, {"hash", ev->hash},
  };
  for (size_t i = 0; rc == 0 && i < sizeof rest / sizeof rest[0]; i++)
    rc = sg__cli_json_set_str(o, rest[i].key, rest[i].val);
  if (rc != 0) {
    json_decref(o);
    o = NULL;
  }
  if (sg__cli_json_line(o) != 0) out->failed = 1;
}

static int export(int argc, char **argv) {
  const char *db = NULL, *val;
  int64_t since = 0;

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return usage(stdout);
    if (strcmp(argv[i], "--jsonl") == 0) {
      /* The one format, named so that others can join it. */
    } else if (option(argc, argv, &i, "--db", &val)) {
      if (val == NULL || val[0] == '\0') return missing("export", "--db", "a file");
      db = val;
    } else if (option(argc, argv, &i, "--since", &val)) {
      if (val == NULL) return missing("export", "--since", "a seq");
      if (parse_seq(val, &since, NULL) != 0) {
        fprintf(stderr, "scopegate audit export: --since wants a seq (0 or more), not '%s'\n", val);
        return 2;
      }
    } else {
      fprintf(stderr, "scopegate audit export: unknown argument '%s'\n", argv[i]);
      return usage(stderr);
    }
  }
  db = sg__cli_db(db);

  sg_store_t *st = NULL;
  if (open_log(db, &st) != 0) return 1;
  export_out_t out = {0};
  int status = 0;
  if (sg_store_audit_export(st, since, export_row, &out) != 0) {
    fprintf(stderr, "scopegate audit: %s\n", sg_store_errmsg(st));
    status = 1;
  } else if (out.failed) {
    fprintf(stderr, "scopegate audit: %s\n", sg_strerror(SG_ENOMEM));
    status = 1;
  }
  sg_store_close(st);
  return finish_output(status);
}

int sg_cli_audit(int argc, char **argv) {
  if (argc < 2) return usage(stderr);
  if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)
    return usage(stdout);
  if (strcmp(argv[1], "tail") == 0) return tail(argc - 1, argv + 1);
  if (strcmp(argv[1], "verify") == 0) return verify(argc - 1, argv + 1);
  if (strcmp(argv[1], "export") == 0) return export(argc - 1, argv + 1);
  fprintf(stderr, "scopegate audit: unknown command '%s'\n", argv[1]);
  return usage(stderr);
}
