/*
 * scopegate approvals: where a person sees the calls waiting for a human and approves
 * or denies them. "list" and "show" open the database read-only; "approve" and "deny"
 * record the decision, with who decided and why, in the approval and in the audit chain.
 * A decision needs a reason, and only a pending approval can be decided: anything else
 * (decided already, expired, cancelled, used) exits 1 saying which it is. Everything
 * shown comes from clients (tool names, arguments), so it is cleaned for the terminal.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin/admin.h"
#include "cli/commands.h"
#include "cli/text.h"
#include "core/error.h"
#include "store/store.h"

#define LIST_ALL_MAX 1000
#define ARGS_SHOWN 60

static int usage(FILE *out) {
  fprintf(out,
          "usage: scopegate approvals list [--all] [--json] [--db FILE]\n"
          "       scopegate approvals show ID [--json] [--db FILE]\n"
          "       scopegate approvals approve ID --reason TEXT [--as NAME] [--db FILE]\n"
          "       scopegate approvals deny ID --reason TEXT [--as NAME] [--db FILE]\n"
          "\n"
          "list     the approvals waiting for a decision, oldest first (--all: the last %d\n"
          "         of any state)\n"
          "show     one approval, with the call's arguments (secrets redacted)\n"
          "approve  lets the waiting call run, once, with exactly these arguments\n"
          "deny     refuses it\n"
          "\n"
          "  --db FILE      the database (default: $SCOPEGATE_DB, else %s)\n"
          "  --reason TEXT  why (required to approve or deny; recorded in the audit log)\n"
          "  --as NAME      who decides (default: local:$USER)\n"
          "  --json         one JSON object per approval: every column (args_json as stored)\n"
          "                 and the arguments parsed\n",
          LIST_ALL_MAX, SG_CLI_DEFAULT_DB);
  return out == stdout ? 0 : 2;
}

typedef struct {
  const char *db, *id, *reason, *as;
  int all, json;
} opts_t;

/* Parses argv after the subcommand. Returns 0, or the exit status for a usage error. */
static int parse(int argc, char **argv, const char *cmd, opts_t *o) {
  memset(o, 0, sizeof *o);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char **slot = strcmp(a, "--db") == 0       ? &o->db
                        : strcmp(a, "--reason") == 0 ? &o->reason
                        : strcmp(a, "--as") == 0     ? &o->as
                                                     : NULL;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) return usage(stdout) == 0 ? -1 : 2;
    if (slot) {
      if (++i == argc || argv[i][0] == '\0') {
        fprintf(stderr, "scopegate approvals %s: %s needs a value\n", cmd, a);
        return usage(stderr);
      }
      *slot = argv[i];
    } else if (strcmp(a, "--all") == 0) {
      o->all = 1;
    } else if (strcmp(a, "--json") == 0) {
      o->json = 1;
    } else if (a[0] != '-' && o->id == NULL) {
      o->id = a;
    } else {
      fprintf(stderr, "scopegate approvals %s: unknown argument '%s'\n", cmd, a);
      return usage(stderr);
    }
  }
  o->db = sg__cli_db(o->db);
  return 0;
}

/* ---- list ----------------------------------------------------------------------- */

enum {
  L_ID,
  L_STATE,
  L_CREATED,
  L_EXPIRES,
  L_SUBJECT,
  L_ROLE,
  L_TENANT,
  L_ENV,
  L_TOOL,
  L_ARGS,
  LCOLS
};
static const char *const list_headers[LCOLS] = {"ID",      "STATE",    "CREATED (UTC)", "EXPIRES",
                                                "SUBJECT", "ROLE",     "TENANT",        "ENV",
                                                "TOOL",    "ARGUMENTS"};

typedef struct {
  sg__cli_table_t table;
  int json, failed;
  size_t n;
} list_t;

/* "2026-01-02T03:04:05.678901Z" as "2026-01-02 03:04:05". */
static void short_time(const char *ts, char out[24]) {
  if (ts && strlen(ts) >= 19)
    snprintf(out, 24, "%.10s %.8s", ts, ts + 11);
  else
    snprintf(out, 24, "%s", ts ? ts : "-");
}

static void on_listed(const sg_store_approval_t *a, void *arg) {
  list_t *l = arg;
  l->n++;
  if (l->json) {
    if (sg__cli_json_line(sg_admin_approval_json(a)) != 0) l->failed = 1;
    return;
  }
  char created[24], expires[24], args[ARGS_SHOWN + 8];
  short_time(a->created_at, created);
  short_time(a->expires_at, expires);
  if (a->args_json && strlen(a->args_json) > ARGS_SHOWN)
    snprintf(args, sizeof args, "%.*s...", ARGS_SHOWN - 3, a->args_json);
  else
    snprintf(args, sizeof args, "%s", a->args_json ? a->args_json : "-");
  const char *cells[LCOLS] = {a->id,   a->state,  created, expires, a->subject,
                              a->role, a->tenant, a->env,  a->tool, args};
  sg__cli_table_add(&l->table, cells);
}

static int list(const opts_t *o) {
  char err[512];
  sg_store_t *st = NULL;
  if (o->id) {
    fprintf(stderr, "scopegate approvals list: unexpected argument '%s'\n", o->id);
    return usage(stderr);
  }
  if (sg_store_open_readonly(o->db, &st, err, sizeof err) != 0) {
    fprintf(stderr, "scopegate approvals: %s\n", err);
    return 1;
  }
  list_t l = {.json = o->json};
  sg__cli_table_init(&l.table, LCOLS, list_headers);
  int status = 0;
  if (sg_store_approval_list(st, o->all, o->all ? LIST_ALL_MAX : 0, on_listed, &l) != 0) {
    fprintf(stderr, "scopegate approvals: %s\n", sg_store_errmsg(st));
    status = 1;
  } else if (l.failed || l.table.failed) {
    fprintf(stderr, "scopegate approvals: %s\n", sg_strerror(SG_ENOMEM));
    status = 1;
  } else if (l.n == 0 && !o->json) {
    fprintf(stderr, "scopegate approvals: no %sapprovals in '%s'\n", o->all ? "" : "pending ",
            o->db);
  } else if (!o->json) {
    sg__cli_table_print(&l.table, stdout);
  }
  sg__cli_table_free(&l.table);
  sg_store_close(st);
  return status;
}

/* ---- show ----------------------------------------------------------------------- */

static void field(const char *name, const char *value) {
  char *v = sg__cli_clean(value, 1, NULL);
  printf("%-11s %s\n", name, v ? v : "?");
  free(v);
}

static int show(const opts_t *o) {
  char err[512];
  sg_store_t *st = NULL;
  if (o->id == NULL) {
    fprintf(stderr, "scopegate approvals show: which approval? (an ID from 'approvals list')\n");
    return usage(stderr);
  }
  if (sg_store_open_readonly(o->db, &st, err, sizeof err) != 0) {
    fprintf(stderr, "scopegate approvals: %s\n", err);
    return 1;
  }
  sg_store_approval_t a = {0};
  int status = 0;
  if (sg_store_approval_get(st, o->id, &a) != 0) {
    fprintf(stderr, "scopegate approvals: %s\n", sg_store_errmsg(st));
    status = 1;
  } else if (o->json) {
    if (sg__cli_json_line(sg_admin_approval_json(&a)) != 0) status = 1;
  } else {
    field("id", a.id);
    field("state", a.state);
    field("tool", a.tool);
    field("subject", a.subject);
    field("role", a.role);
    field("tenant", a.tenant);
    field("env", a.env);
    field("call", a.call_id);
    field("created", a.created_at);
    field("expires", a.expires_at);
    if (a.decided_at) field("decided", a.decided_at);
    if (a.approver) field("by", a.approver);
    if (a.reason) field("reason", a.reason);
    if (a.used_at) field("used", a.used_at);
    field("args hash", a.args_hash);
    /* Indented JSON escaped to ASCII (so it holds no control characters but its
     * newlines), or, when the stored text does not parse, that text cleaned. */
    json_t *args = a.args_json ? json_loads(a.args_json, JSON_DECODE_ANY, NULL) : NULL;
    char *text = args ? json_dumps(args, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII |
                                             JSON_ENCODE_ANY)
                      : NULL;
    printf("arguments (values of sensitive parameters redacted):\n");
    char *body = text ? sg__cli_clean(text, 0, NULL)
                      : sg__cli_clean(a.args_json ? a.args_json : "(not recorded)", 1, NULL);
    printf("%s\n", body ? body : "?");
    free(body);
    free(text);
    json_decref(args);
  }
  sg_store_approval_clear(&a);
  sg_store_close(st);
  return status;
}

/* ---- approve / deny ------------------------------------------------------------- */

static int decide(const opts_t *o, int approve) {
  const char *cmd = approve ? "approve" : "deny";
  char err[512], local[300];
  sg_store_t *st = NULL;
  if (o->id == NULL) {
    fprintf(stderr, "scopegate approvals %s: which approval? (an ID from 'approvals list')\n", cmd);
    return usage(stderr);
  }
  if (o->reason == NULL) {
    fprintf(stderr, "scopegate approvals %s: --reason is required: say why, for the audit log\n",
            cmd);
    return 2;
  }
  const char *who = o->as;
  if (who == NULL) {
    sg__cli_local_actor(local, sizeof local);
    who = local;
  }
  if (access(o->db, F_OK) != 0) {
    fprintf(stderr, "scopegate approvals: no database at '%s' (%s); give the gateway's --db\n",
            o->db, strerror(errno));
    return 1;
  }
  if (sg_store_open(o->db, &st, err, sizeof err) != 0) {
    fprintf(stderr, "scopegate approvals: %s\n", err);
    return 1;
  }
  int status = 0;
  if (sg_store_approval_decide(st, o->id, approve, who, o->reason) != 0) {
    fprintf(stderr, "scopegate approvals: %s\n", sg_store_errmsg(st));
    status = 1;
  } else {
    char *w = sg__cli_clean(who, 1, NULL);
    printf("approval %s %s by %s\n", o->id, approve ? "approved" : "denied", w ? w : "?");
    free(w);
  }
  sg_store_close(st);
  return status;
}

int sg_cli_approvals(int argc, char **argv) {
  opts_t o;
  if (argc < 2) return usage(stderr);
  const char *cmd = argv[1];
  if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0)
    return usage(stdout);
  int rc = parse(argc - 1, argv + 1, cmd, &o);
  if (rc != 0) return rc < 0 ? 0 : rc;
  if (strcmp(cmd, "list") == 0) return list(&o);
  if (strcmp(cmd, "show") == 0) return show(&o);
  if (strcmp(cmd, "approve") == 0) return decide(&o, 1);
  if (strcmp(cmd, "deny") == 0) return decide(&o, 0);
  fprintf(stderr, "scopegate approvals: unknown command '%s'\n", cmd);
  return usage(stderr);
}
