/*
 * scopegate writes: the kill switch. "writes off" stops every gateway sharing the
 * database from running write tools (they poll the switch) and cancels the approvals
 * still open, in one transaction recorded in the audit chain with who did it and why;
 * "writes on" allows them again; "writes status" says which it is. Turning writes on or
 * off needs a database that exists: a mistyped path must fail, not silently switch a
 * new, empty database that no gateway reads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/text.h"
#include "core/error.h"
#include "store/store.h"

static int usage(FILE *out) {
  fprintf(out,
          "usage: scopegate writes off|on|status [--db FILE] [--reason TEXT] [--actor NAME]\n"
          "\n"
          "off     stops write tools on every gateway using the database (within a second)\n"
          "        and cancels the approvals that are pending or approved but unused\n"
          "on      allows write tools again\n"
          "status  prints whether write tools are allowed, and who last changed it\n"
          "\n"
          "  --db FILE      the database (default: $SCOPEGATE_DB, else %s)\n"
          "  --reason TEXT  why, recorded in the audit log\n"
          "  --actor NAME   who, recorded in the audit log (default: local:$USER)\n",
          SG_CLI_DEFAULT_DB);
  return out == stdout ? 0 : 2;
}

static void print_status(const char *db, const sg_store_switch_t *sw) {
  if (sw->updated_at[0] == '\0') {
    printf("writes are %s (never switched in '%s')\n", sw->value, db);
    return;
  }
  char *actor = sg__cli_clean(sw->actor, 1, NULL), *reason = sg__cli_clean(sw->reason, 1, NULL);
  printf("writes are %s since %s, by %s%s%s\n", sw->value, sw->updated_at, actor ? actor : "?",
         sw->reason[0] ? ": " : "", sw->reason[0] && reason ? reason : "");
  free(actor);
  free(reason);
}

int sg_cli_writes(int argc, char **argv) {
  const char *db = NULL, *reason = NULL, *actor = NULL, *cmd = NULL;
  char local[300];

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char **slot = strcmp(a, "--db") == 0       ? &db
                        : strcmp(a, "--reason") == 0 ? &reason
                        : strcmp(a, "--actor") == 0  ? &actor
                                                     : NULL;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0 || strcmp(a, "help") == 0)
      return usage(stdout);
    if (slot) {
      if (++i == argc || argv[i][0] == '\0') {
        fprintf(stderr, "scopegate writes: %s needs a value\n", a);
        return usage(stderr);
      }
      *slot = argv[i];
    } else if (a[0] != '-' && cmd == NULL) {
      cmd = a;
    } else {
      fprintf(stderr, "scopegate writes: unknown argument '%s'\n", a);
      return usage(stderr);
    }
  }
  if (cmd == NULL) return usage(stderr);
  int on = strcmp(cmd, "on") == 0, off = strcmp(cmd, "off") == 0;
  if (!on && !off && strcmp(cmd, "status") != 0) {
    fprintf(stderr, "scopegate writes: unknown command '%s' (off, on or status)\n", cmd);
    return usage(stderr);
  }
  db = sg__cli_db(db);
  if (actor == NULL) {
    sg__cli_local_actor(local, sizeof local);
    actor = local;
  }

  char err[512];
  sg_store_t *st = NULL;
  sg_store_switch_t sw;
  int status = 0;
  if (!on && !off) {
    if (sg_store_open_readonly(db, &st, err, sizeof err) != 0) {
      fprintf(stderr, "scopegate writes: %s\n", err);
      return 1;
    }
    if (sg_store_switch_get(st, "writes", &sw) != 0) {
      fprintf(stderr, "scopegate writes: %s\n", sg_store_errmsg(st));
      status = 1;
    } else {
      print_status(db, &sw);
    }
    sg_store_close(st);
    return status;
  }

  if (access(db, F_OK) != 0) {
    fprintf(stderr, "scopegate writes: no database at '%s' (%s); give the gateway's --db\n", db,
            strerror(errno));
    return 1;
  }
  if (sg_store_open(db, &st, err, sizeof err) != 0) {
    fprintf(stderr, "scopegate writes: %s\n", err);
    return 1;
  }
  size_t cancelled = 0;
  if (sg_store_writes_set(st, on, actor, reason, &cancelled) != 0 ||
      sg_store_switch_get(st, "writes", &sw) != 0) {
    fprintf(stderr, "scopegate writes: %s\n", sg_store_errmsg(st));
    status = 1;
  } else {
    print_status(db, &sw);
    if (off) printf("%zu approval%s cancelled\n", cancelled, cancelled == 1 ? "" : "s");
  }
  sg_store_close(st);
  return status;
}
