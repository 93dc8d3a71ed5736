/*
 * Runs every suite listed in suites.h, each test in its own child process with a time
 * limit, and prints one line per test and the totals as "unit: N passed, N failed".
 * Arguments, when given, select tests whose "suite/name" contains one of them.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner.h"

#define XX(suite) extern const sg_test_t sg_suite_##suite[];
#include "suites.h"
#undef XX

static const struct {
  const char *name;
  const sg_test_t *tests;
} suites[] = {
#define XX(suite) {#suite, sg_suite_##suite},
#include "suites.h"
#undef XX
};

const char *sg_test_path(const char *rel, char *out, size_t outlen) {
  const char *dir = getenv("SG_TEST_DIR");
  snprintf(out, outlen, "%s/%s", dir ? dir : SG_TEST_SOURCE_DIR, rel);
  return out;
}

static int selected(const char *full, int argc, char **argv) {
  if (argc < 2) return 1;
  for (int i = 1; i < argc; i++)
    if (strstr(full, argv[i])) return 1;
  return 0;
}

static int run_one(const sg_test_t *t) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return 0;
  if (pid == 0) {
    alarm(30);
    t->fn();
    fflush(NULL);
    _exit(0);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 1;
  if (WIFSIGNALED(status))
    fprintf(stderr, "  (killed by signal %d%s)\n", WTERMSIG(status),
            WTERMSIG(status) == SIGALRM ? ": timed out" : "");
  return 0;
}

int main(int argc, char **argv) {
  int passed = 0, failed = 0;
  char full[256];
  for (size_t s = 0; s < sizeof suites / sizeof suites[0]; s++) {
    for (const sg_test_t *t = suites[s].tests; t->name; t++) {
      snprintf(full, sizeof full, "%s/%s", suites[s].name, t->name);
      if (!selected(full, argc, argv)) continue;
      if (run_one(t)) {
        passed++;
        printf("ok - %s\n", full);
      } else {
        failed++;
        printf("not ok - %s\n", full);
      }
    }
  }
  printf("unit: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
