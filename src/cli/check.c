/*
 * scopegate check: lints a catalog for its authors and for CI. Everything the loader
 * refuses is an error, reported in the loader's own words (one "file: /pointer: message"
 * line each), so check and the gateway can never disagree about what loads. A catalog
 * that loads is then linted for things that are legal but likely to grant more than
 * meant; those are warnings, which fail the check only with --strict.
 *
 * Exit status: 0 clean (or only warnings), 1 errors (or warnings with --strict),
 * 2 usage.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog/catalog.h"
#include "catalog/review.h"
#include "cli/commands.h"
#include "core/error.h"

static int usage(FILE *out) {
  fprintf(out,
          "usage: scopegate check [--strict] CATALOG_DIR\n"
          "\n"
          "Lints a catalog. Prints each problem as \"file: /json/pointer: message\";\n"
          "warnings read \"file: /json/pointer: warning: message\".\n"
          "\n"
          "  --strict   warnings fail the check too\n"
          "\n"
          "Exit status: 0 clean or warnings only, 1 errors (or warnings with --strict),\n"
          "2 usage.\n");
  return out == stdout ? 0 : 2;
}

/* Writes text with control characters other than newlines shown as '?': catalog names
 * may hold anything JSON allows, and must not drive the terminal. Returns the number of
 * lines. */
static size_t print_lines(const char *text) {
  size_t lines = 0;
  for (const unsigned char *p = (const unsigned char *)text; p && *p; p++) {
    if (*p == '\n') lines++;
    putchar((*p < 0x20 && *p != '\n') || *p == 0x7f ? '?' : *p);
  }
  return lines;
}

int sg_cli_check(int argc, char **argv) {
  const char *dir = NULL;
  int strict = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return usage(stdout);
    if (strcmp(argv[i], "--strict") == 0)
      strict = 1;
    else if (argv[i][0] == '-' || dir)
      return usage(stderr);
    else
      dir = argv[i];
  }
  if (dir == NULL) return usage(stderr);
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "scopegate check: %s: not a directory\n", dir);
    return 2;
  }
  sg_catalog_t *c = NULL;
  sg_buf_t errors, warnings;
  sg_buf_init(&errors);
  sg_buf_init(&warnings);
  int rc = sg_catalog_load(dir, &c, &errors);
  size_t nerrors = 0, nwarnings = 0;
  if (rc == 0) {
    nwarnings = sg_catalog_lint(c, &warnings);
    print_lines(warnings.data);
    sg_catalog_unref(c);
  } else if (rc == SG_ECATALOG) {
    nerrors = print_lines(errors.data);
  } else {
    fprintf(stderr, "scopegate check: %s\n", sg_strerror(rc));
    nerrors = 1;
  }
  sg_buf_free(&errors);
  sg_buf_free(&warnings);
  fflush(stdout);
  fprintf(stderr, "%s: %zu error%s, %zu warning%s\n", dir, nerrors, nerrors == 1 ? "" : "s",
          nwarnings, nwarnings == 1 ? "" : "s");
  if (nerrors) return 1;
  return strict && nwarnings ? 1 : 0;
}
