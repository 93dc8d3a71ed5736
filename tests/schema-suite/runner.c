/*
 * Runs the official JSON Schema Test Suite (github.com/json-schema-org/JSON-Schema-Test-Suite)
 * against the validator: every file in tests/draft2020-12/ and tests/draft7/ (the required
 * tests; the optional/ folder is not read). References to http://localhost:1234/ are served
 * from the suite's remotes/ folder; nothing is fetched from the network.
 *
 *   schema-suite [-v] [-f] SUITE_DIR [NAME...]
 *   schema-suite [-v] --formats SUITE_DIR
 *
 * NAME, when given, keeps only the files whose name contains one of them. -v prints each
 * failing test; -f asserts formats. --formats runs, with formats asserted, the
 * optional/format tests of each draft for the formats the gateway relies on (FORMATS
 * below), one count per format and draft; a format the suite has no file for in a draft
 * is skipped. The last line is "schema-suite: N passed, N failed"; the exit status is 0
 * only when nothing failed.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema/schema.h"

#define REMOTE_PREFIX "http://localhost:1234/"

/* The formats whose assertion --formats measures. */
/* Counts the errors sg_schema_validate_all reports. */
static void count_error(void *data, const sg_schema_error_t *e) {
  (void)e;
  (*(size_t *)data)++;
}

static const char *const FORMATS[] = {
    "email", "uri",  "uri-reference", "date", "time",         "date-time", "duration",
    "ipv4",  "ipv6", "hostname",      "uuid", "json-pointer", "regex",     NULL};

static const char *suite_dir;
static int verbose;
static int format_assert;

static json_t *resolve_remote(void *data, const char *uri) {
  (void)data;
  size_t n = strlen(REMOTE_PREFIX);
  if (strncmp(uri, REMOTE_PREFIX, n) != 0 || strstr(uri, "..")) return NULL;
  char path[4096];
  snprintf(path, sizeof path, "%s/remotes/%s", suite_dir, uri + n);
  return json_load_file(path, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
}

static int name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int selected(const char *name, int nsel, char **sel) {
  if (nsel == 0) return 1;
  for (int i = 0; i < nsel; i++)
    if (strstr(name, sel[i])) return 1;
  return 0;
}

static void run_file(const char *path, const char *name, sg_schema_draft_t draft, int *passed,
                     int *failed) {
  json_error_t jerr;
  json_t *groups = json_load_file(path, JSON_ALLOW_NUL, &jerr);
  if (!json_is_array(groups)) {
    fprintf(stderr, "%s: %s\n", path, jerr.text);
    (*failed)++;
    json_decref(groups);
    return;
  }
  sg_schema_opts_t opts = {
      .default_draft = draft, .format_assert = format_assert, .resolve = resolve_remote};
  size_t gi;
  json_t *g;
  json_array_foreach(groups, gi, g) {
    const char *gdesc = json_string_value(json_object_get(g, "description"));
    json_t *tests = json_object_get(g, "tests");
    sg_schema_t *s = NULL;
    sg_schema_error_t err;
    int rc = sg_schema_compile(json_object_get(g, "schema"), &opts, &s, &err);
    if (rc) {
      *failed += (int)json_array_size(tests);
      if (verbose)
        printf("FAIL %s: %s: schema does not compile: %s at \"%s\"\n", name, gdesc, err.message,
               err.keyword_location);
      continue;
    }
    size_t ti;
    json_t *t;
    json_array_foreach(tests, ti, t) {
      int want = json_is_true(json_object_get(t, "valid"));
      int got = sg_schema_validate(s, json_object_get(t, "data"), &err) == 0;
      /* Asking for every error must give the same verdict, with errors exactly when the
         instance is invalid. */
      size_t nerrors = 0;
      int got_all =
          sg_schema_validate_all(s, json_object_get(t, "data"), count_error, &nerrors) == 0;
      if (got_all != got || (nerrors == 0) != got) {
        (*failed)++;
        if (verbose)
          printf("FAIL %s: %s: %s: every-error mode says %s with %zu errors\n", name, gdesc,
                 json_string_value(json_object_get(t, "description")),
                 got_all ? "valid" : "invalid", nerrors);
        continue;
      }
      if (got == want) {
        (*passed)++;
        continue;
      }
      (*failed)++;
      if (verbose)
        printf("FAIL %s: %s: %s: expected %s%s%s\n", name, gdesc,
               json_string_value(json_object_get(t, "description")),
               want ? "valid, got: " : "invalid", want ? err.message : "", want ? "" : "");
    }
    sg_schema_free(s);
  }
  json_decref(groups);
}

static int run_draft(const char *folder, sg_schema_draft_t draft, int nsel, char **sel,
                     int *tpassed, int *tfailed) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/tests/%s", suite_dir, folder);
  DIR *d = opendir(dir);
  if (d == NULL) {
    fprintf(stderr, "schema-suite: cannot open %s\n", dir);
    return -1;
  }
  char **names = NULL;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0) continue;
    if (!selected(e->d_name, nsel, sel)) continue;
    char **grown = realloc(names, (n + 1) * sizeof *names);
    if (grown == NULL) break;
    names = grown;
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof *names, name_cmp);
  int passed = 0, failed = 0;
  for (size_t i = 0; i < n; i++) {
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    int p = 0, f = 0;
    run_file(path, names[i], draft, &p, &f);
    if (verbose || f) printf("%s/%s: %d passed, %d failed\n", folder, names[i], p, f);
    passed += p;
    failed += f;
    free(names[i]);
  }
  free(names);
  printf("%s: %d passed, %d failed\n", folder, passed, failed);
  *tpassed += passed;
  *tfailed += failed;
  return 0;
}

/* Runs optional/format/NAME.json of one draft for each of FORMATS. */
static void run_formats(const char *folder, sg_schema_draft_t draft, int *tpassed, int *tfailed) {
  int passed = 0, failed = 0;
  for (const char *const *f = FORMATS; *f; f++) {
    char path[4096], name[128];
    snprintf(path, sizeof path, "%s/tests/%s/optional/format/%s.json", suite_dir, folder, *f);
    snprintf(name, sizeof name, "format/%s.json", *f);
    FILE *probe = fopen(path, "r");
    if (probe == NULL) {
      printf("%s/format/%s: not in the suite for this draft\n", folder, *f);
      continue;
    }
    fclose(probe);
    int p = 0, n = 0;
    run_file(path, name, draft, &p, &n);
    printf("%s/format/%s: %d passed, %d failed\n", folder, *f, p, n);
    passed += p;
    failed += n;
  }
  printf("%s formats: %d passed, %d failed\n", folder, passed, failed);
  *tpassed += passed;
  *tfailed += failed;
}

int main(int argc, char **argv) {
  int i = 1, formats = 0;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "-v") == 0) {
      verbose = 1;
    } else if (strcmp(argv[i], "-f") == 0) {
      format_assert = 1;
    } else if (strcmp(argv[i], "--formats") == 0) {
      formats = format_assert = 1;
    } else {
      break;
    }
  }
  if (i >= argc || (formats && i + 1 != argc)) {
    fprintf(stderr,
            "usage: schema-suite [-v] [-f] SUITE_DIR [NAME...]\n"
            "       schema-suite [-v] --formats SUITE_DIR\n");
    return 2;
  }
  suite_dir = argv[i++];
  int passed = 0, failed = 0;
  if (formats) {
    run_formats("draft2020-12", SG_DRAFT_2020_12, &passed, &failed);
    run_formats("draft7", SG_DRAFT_07, &passed, &failed);
  } else if (run_draft("draft2020-12", SG_DRAFT_2020_12, argc - i, argv + i, &passed, &failed) ||
             run_draft("draft7", SG_DRAFT_07, argc - i, argv + i, &passed, &failed)) {
    return 2;
  }
  sg_schema_thread_cleanup();
  printf("schema-suite: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
