/*
 * scopegate diff OLD NEW: what a change to a catalog grants, revokes, widens or narrows,
 * per role and tool (the rules are in src/catalog/diff.c). OLD and NEW are catalog
 * directories, or REV:PATH for the catalog directory PATH as git revision REV has it:
 * that tree is unpacked with "git archive REV -- PATH | tar -x" (git run from the current
 * directory, so PATH is relative to it) into a temporary directory that is removed
 * afterwards, together with PATH/../schemas when the revision has it (tool schemas may
 * refer to shared schema files there). Both catalogs must load; a diff against a catalog the
 * gateway would refuse means nothing.
 *
 * Exit status: 0 no changes, 1 something was granted or widened (or a role added), so CI
 * can require a security review, 3 only narrowings, revocations or removed roles,
 * 2 usage or a catalog that cannot be read or loaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "catalog/review.h"
#include "cli/commands.h"
#include "core/error.h"

extern char **environ;

static int usage(FILE *out) {
  fprintf(out,
          "usage: scopegate diff [--json] OLD NEW\n"
          "\n"
          "Compares the privileges two catalogs grant, per role and tool: granted, revoked,\n"
          "widened (allows more, or something not comparable), narrowed (allows strictly\n"
          "less), role added, role removed. OLD and NEW are catalog directories or\n"
          "REV:PATH, a catalog directory at a git revision (PATH relative to the current\n"
          "directory), e.g. scopegate diff HEAD~1:catalog catalog\n"
          "\n"
          "  --json   the changes as a JSON array\n"
          "\n"
          "Exit status: 0 no changes, 1 something granted or widened, 3 only narrowed or\n"
          "revoked, 2 usage or load errors.\n");
  return out == stdout ? 0 : 2;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

static void remove_tree(const char *dir) {
  nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int wait_ok(pid_t pid, const char *what) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  if (what) fprintf(stderr, "scopegate diff: %s failed\n", what);
  return -1;
}

/* Runs "git archive REV -- PATH | tar -x -f - -C dest". Returns 0 when both succeed.
 * When quiet, neither may write to stderr, and failure is the caller's to ignore. */
static int git_extract(const char *rev, const char *path, const char *dest, int quiet) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  posix_spawn_file_actions_t ga, ta;
  posix_spawn_file_actions_init(&ga);
  posix_spawn_file_actions_init(&ta);
  posix_spawn_file_actions_adddup2(&ga, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&ga, fds[0]);
  posix_spawn_file_actions_addclose(&ga, fds[1]);
  posix_spawn_file_actions_adddup2(&ta, fds[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&ta, STDERR_FILENO, STDOUT_FILENO); /* stdout is ours */
  if (quiet) {
    posix_spawn_file_actions_addopen(&ga, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&ta, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&ta, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  }
  posix_spawn_file_actions_addclose(&ta, fds[0]);
  posix_spawn_file_actions_addclose(&ta, fds[1]);
  char *git_argv[] = {"git", "archive", "--format=tar", (char *)rev, "--", (char *)path, NULL};
  char *tar_argv[] = {"tar", "-x", "-f", "-", "-C", (char *)dest, NULL};
  pid_t git = -1, tar = -1;
  int rc = posix_spawnp(&git, "git", &ga, NULL, git_argv, environ);
  if (rc == 0) rc = posix_spawnp(&tar, "tar", &ta, NULL, tar_argv, environ);
  close(fds[0]);
  close(fds[1]);
  posix_spawn_file_actions_destroy(&ga);
  posix_spawn_file_actions_destroy(&ta);
  if (rc != 0 && !quiet)
    fprintf(stderr, "scopegate diff: cannot run git or tar: %s\n", strerror(rc));
  int ok = rc == 0;
  if (git > 0 && wait_ok(git, quiet ? NULL : "git archive") != 0) ok = 0;
  if (tar > 0 && wait_ok(tar, quiet ? NULL : "tar") != 0) ok = 0;
  return ok ? 0 : -1;
}

typedef struct {
  sg_catalog_t *catalog;
  char tmp[PATH_MAX]; /* the unpacked revision, "" for a directory */
} side_t;

/* Loads a catalog from a directory or from REV:PATH. Returns 0, or reports and returns -1. */
static int load_side(const char *spec, side_t *side) {
  side->catalog = NULL;
  side->tmp[0] = '\0';
  char dir[PATH_MAX + 1024];
  struct stat st;
  const char *colon = strchr(spec, ':');
  if (stat(spec, &st) == 0 && S_ISDIR(st.st_mode)) {
    snprintf(dir, sizeof dir, "%s", spec);
  } else if (colon && colon != spec) {
    char rev[1024];
    const char *path = colon[1] ? colon + 1 : ".";
    if ((size_t)(colon - spec) >= sizeof rev || spec[0] == '-' || path[0] == '/') {
      fprintf(stderr, "scopegate diff: %s: REV:PATH needs a revision and a relative path\n", spec);
      return -1;
    }
    snprintf(rev, sizeof rev, "%.*s", (int)(colon - spec), spec);
    const char *base = getenv("TMPDIR");
    snprintf(side->tmp, sizeof side->tmp, "%s/scopegate-diff-XXXXXX",
             base && base[0] && strlen(base) < sizeof side->tmp - 32 ? base : "/tmp");
    if (mkdtemp(side->tmp) == NULL) {
      fprintf(stderr, "scopegate diff: cannot create a temporary directory: %s\n", strerror(errno));
      side->tmp[0] = '\0';
      return -1;
    }
    if (git_extract(rev, path, side->tmp, 0) != 0) {
      fprintf(stderr, "scopegate diff: cannot extract %s\n", spec);
      return -1;
    }
    /* Tool schemas may refer to shared files in the schemas/ folder beside the catalog;
     * bring it along when the revision has one there. */
    char shared[PATH_MAX + 16];
    snprintf(shared, sizeof shared, "%s/../schemas", path);
    git_extract(rev, shared, side->tmp, 1);
    snprintf(dir, sizeof dir, "%s/%s", side->tmp, path);
  } else {
    fprintf(stderr, "scopegate diff: %s: neither a directory nor REV:PATH\n", spec);
    return -1;
  }
  sg_buf_t errors;
  sg_buf_init(&errors);
  int rc = sg_catalog_load(dir, &side->catalog, &errors);
  if (rc)
    fprintf(stderr, "scopegate diff: %s is not a valid catalog:\n%s", spec,
            errors.data ? errors.data : sg_strerror(rc));
  sg_buf_free(&errors);
  return rc ? -1 : 0;
}

static void release_side(side_t *side) {
  if (side->catalog) sg_catalog_unref(side->catalog);
  if (side->tmp[0]) remove_tree(side->tmp);
}

/* Prints s with control characters shown as '?'. */
static void print_clean(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    putchar(*p < 0x20 || *p == 0x7f ? '?' : *p);
}

static int print_json(const sg_changes_t *ch) {
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < ch->n; i++) {
    const sg_change_t *x = &ch->items[i];
    json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:b}", "kind", sg_change_kind_name(x->kind),
                          "object", sg_change_object_name(x->object), "role", x->role, "name",
                          x->name, "detail", x->detail, "widens", sg_change_widens(x->kind));
    if (o == NULL || json_array_append_new(arr, o) != 0) {
      json_decref(arr);
      arr = NULL;
    }
  }
  char *text = arr ? json_dumps(arr, JSON_INDENT(2) | JSON_ENSURE_ASCII) : NULL;
  json_decref(arr);
  if (text == NULL) return SG_ENOMEM;
  printf("%s\n", text);
  free(text);
  return 0;
}

int sg_cli_diff(int argc, char **argv) {
  const char *specs[2] = {NULL, NULL};
  int nspecs = 0, as_json = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return usage(stdout);
    if (strcmp(argv[i], "--json") == 0)
      as_json = 1;
    else if (argv[i][0] == '-' || nspecs == 2)
      return usage(stderr);
    else
      specs[nspecs++] = argv[i];
  }
  if (nspecs != 2) return usage(stderr);
  side_t old_side, new_side;
  int status = 2;
  int ok = load_side(specs[0], &old_side) == 0;
  ok = load_side(specs[1], &new_side) == 0 && ok;
  sg_changes_t ch = {NULL, 0, 0};
  if (ok && sg_catalog_diff(old_side.catalog, new_side.catalog, &ch) == 0) {
    int widens = 0;
    for (size_t i = 0; i < ch.n; i++) widens |= sg_change_widens(ch.items[i].kind);
    status = ch.n == 0 ? 0 : widens ? 1 : 3;
    if (as_json) {
      if (print_json(&ch) != 0) status = 2;
    } else {
      for (size_t i = 0; i < ch.n; i++) {
        sg_buf_t line;
        sg_buf_init(&line);
        sg_change_line(&ch.items[i], &line);
        print_clean(line.data ? line.data : "");
        putchar('\n');
        sg_buf_free(&line);
      }
    }
    sg_changes_free(&ch);
  } else if (ok) {
    fprintf(stderr, "scopegate diff: %s\n", sg_strerror(SG_ENOMEM));
  }
  release_side(&old_side);
  release_side(&new_side);
  return status;
}
