/*
 * scopegate matrix: who may call what, within which envelope, for security reviewers.
 * One row per role and granted tool, as a Markdown table or (--json) as a JSON array;
 * the same catalog always gives the same bytes. An invalid catalog is refused with the
 * loader's problems on stderr, since a table of a catalog the gateway would not load
 * describes nothing.
 *
 * Exit status: 0 rendered, 1 invalid catalog, 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog/catalog.h"
#include "catalog/review.h"
#include "cli/commands.h"
#include "core/error.h"

static int usage(FILE *out) {
  fprintf(out,
          "usage: scopegate matrix [--json] CATALOG_DIR\n"
          "\n"
          "Prints who may call what, within which envelope: one row per role and granted\n"
          "tool (role, tool, access, approval, envelope, bindings), as a Markdown table.\n"
          "\n"
          "  --json   the same rows as a JSON array\n"
          "\n"
          "Exit status: 0 rendered, 1 invalid catalog, 2 usage.\n");
  return out == stdout ? 0 : 2;
}

int sg_cli_matrix(int argc, char **argv) {
  const char *dir = NULL;
  int as_json = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return usage(stdout);
    if (strcmp(argv[i], "--json") == 0)
      as_json = 1;
    else if (argv[i][0] == '-' || dir)
      return usage(stderr);
    else
      dir = argv[i];
  }
  if (dir == NULL) return usage(stderr);
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "scopegate matrix: %s: not a directory\n", dir);
    return 2;
  }
  sg_catalog_t *c = NULL;
  sg_buf_t errors;
  sg_buf_init(&errors);
  int rc = sg_catalog_load(dir, &c, &errors);
  if (rc) {
    fprintf(stderr, "scopegate matrix: %s is not a valid catalog (see scopegate check):\n%s", dir,
            errors.data ? errors.data : sg_strerror(rc));
    sg_buf_free(&errors);
    return 1;
  }
  sg_buf_free(&errors);
  int status = 0;
  if (as_json) {
    json_t *rows = sg_catalog_matrix_json(c);
    /* ASCII-only output: names cannot carry terminal controls or invalid UTF-8. */
    char *text =
        rows ? json_dumps(rows, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;
    if (text)
      printf("%s\n", text);
    else
      status = 2;
    free(text);
    json_decref(rows);
  } else {
    sg_buf_t out;
    sg_buf_init(&out);
    if (sg_catalog_matrix_markdown(c, &out) == 0)
      fputs(out.data, stdout);
    else
      status = 2;
    sg_buf_free(&out);
  }
  if (status) fprintf(stderr, "scopegate matrix: %s\n", sg_strerror(SG_ENOMEM));
  sg_catalog_unref(c);
  return status;
}
