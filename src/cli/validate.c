/*
 * scopegate validate: checks JSON documents against a JSON Schema with the gateway's own
 * validator, so a catalog author can try a tool's schema on sample arguments before the
 * gateway enforces it. The schema's base URI is the file:// URI of its file, so relative
 * $refs name files beside it; those, and the directories given with --map, are the only
 * files the schema may read (src/schema/resolver.h). Nothing is fetched from the network.
 *
 * Exit status: 0 every instance valid, 1 an instance invalid or not JSON, 2 the schema
 * unusable (does not parse or compile, or a $ref cannot be resolved), an instance that
 * cannot be read, or usage.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/buf.h"
#include "schema/resolver.h"
#include "schema/schema.h"

static int usage(FILE *out) {
  fprintf(out,
          "usage: scopegate validate --schema FILE [--draft 2020-12|7] [--format-assert]\n"
          "                          [--all] [--map URI-PREFIX=DIR]... [INSTANCE...]\n"
          "\n"
          "Validates each INSTANCE file (standard input when none is named, or \"-\")\n"
          "against the schema, and prints one line per instance:\n"
          "  FILE: valid\n"
          "  FILE: invalid: /instance/pointer: message (keyword at /keyword/location)\n"
          "By default only the first error of an invalid instance is reported (the\n"
          "validator stops at the first failing keyword); with --all, every error is, one\n"
          "line each, indented under the instance's line:\n"
          "  FILE: invalid: N errors\n"
          "    /instance/pointer: message (keyword at /keyword/location)\n"
          "\n"
          "  --schema FILE           the schema; relative $refs are read from files beside it\n"
          "  --draft 2020-12|7       the draft of a schema without \"$schema\" (2020-12)\n"
          "  --format-assert         \"format\" is an assertion, not just an annotation\n"
          "  --all                   report every error, not only the first\n"
          "  --map URI-PREFIX=DIR    $refs to URIs under URI-PREFIX are read from DIR (the\n"
          "                          rest of the URI is a path under DIR); files under DIR\n"
          "                          may also be named with file:// URIs. Repeatable.\n"
          "\n"
          "Files are read only from the schema's folder and the --map directories (never\n"
          "outside them, whatever \"..\" or symbolic links say); nothing is fetched from the\n"
          "network. JSON is read strictly: duplicate keys are an error.\n"
          "\n"
          "Exit status: 0 all valid, 1 an instance invalid or not JSON, 2 the schema does\n"
          "not parse or compile (or a $ref cannot be resolved), an instance cannot be read,\n"
          "or usage.\n");
  return out == stdout ? 0 : 2;
}

/* Prints s with control characters shown as '?': names and messages may hold anything
   JSON allows, and must not drive the terminal. */
static void put_clean(FILE *out, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, out);
}

/* Reads one JSON value from f, strictly. Returns NULL and fills why on failure. */
static json_t *read_json(FILE *f, char *why, size_t whylen) {
  json_error_t jerr;
  json_t *v = json_loadf(f, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
  if (v == NULL) snprintf(why, whylen, "%d:%d: %s", jerr.line, jerr.column, jerr.text);
  return v;
}

/* "/instance/pointer: message (keyword at /keyword/location)", cleaned. */
static void put_error(FILE *out, const sg_schema_error_t *e) {
  put_clean(out, e->instance_location[0] ? e->instance_location : "(root)");
  fputs(": ", out);
  put_clean(out, e->message);
  if (e->keyword[0]) {
    fputs(" (", out);
    put_clean(out, e->keyword);
    fputs(" at ", out);
    put_clean(out, e->keyword_location);
    fputc(')', out);
  }
}

/* With --all, the errors are gathered before the instance's line says how many. */
typedef struct {
  sg_buf_t *lines;
  size_t *n;
} collected_t;

static void collect_error(void *data, const sg_schema_error_t *e) {
  collected_t *col = data;
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  if (mem == NULL) return;
  fputs("    ", mem);
  put_error(mem, e);
  fputc('\n', mem);
  fclose(mem);
  sg_buf_append(col->lines, text, len);
  free(text);
  (*col->n)++;
}

/* Validates one instance; returns the exit status it calls for (0, 1 or 2). */
static int check_instance(const sg_schema_t *s, const char *name, int all) {
  int is_stdin = strcmp(name, "-") == 0;
  FILE *f = is_stdin ? stdin : fopen(name, "rb");
  if (f == NULL) {
    fprintf(stderr, "scopegate validate: %s: %s\n", name, strerror(errno));
    return 2;
  }
  char why[256];
  json_t *inst = read_json(f, why, sizeof why);
  if (!is_stdin) fclose(f);
  put_clean(stdout, name);
  if (inst == NULL) {
    printf(": invalid: not JSON: ");
    put_clean(stdout, why);
    putchar('\n');
    return 1;
  }
  if (all) {
    sg_buf_t lines;
    sg_buf_init(&lines);
    size_t n = 0;
    collected_t col = {&lines, &n};
    int rc = sg_schema_validate_all(s, inst, collect_error, &col);
    json_decref(inst);
    if (rc == 0) {
      printf(": valid\n");
    } else {
      printf(": invalid: %zu error%s\n", n, n == 1 ? "" : "s");
      fwrite(lines.data, 1, lines.len, stdout);
    }
    sg_buf_free(&lines);
    return rc == 0 ? 0 : 1;
  }
  sg_schema_error_t err;
  int rc = sg_schema_validate(s, inst, &err);
  json_decref(inst);
  if (rc == 0) {
    printf(": valid\n");
    return 0;
  }
  printf(": invalid: ");
  put_error(stdout, &err);
  putchar('\n');
  return 1;
}

/* Loads and compiles the schema. Returns 0, or reports and returns 2. */
static int load_schema(const char *file, const sg_schema_opts_t *base_opts, sg_schema_resolver_t *r,
                       sg_schema_t **out) {
  FILE *f = fopen(file, "rb");
  if (f == NULL) {
    fprintf(stderr, "scopegate validate: %s: %s\n", file, strerror(errno));
    return 2;
  }
  char why[256];
  json_t *doc = read_json(f, why, sizeof why);
  fclose(f);
  if (doc == NULL) {
    fprintf(stderr, "%s: schema is not JSON: %s\n", file, why);
    return 2;
  }
  char uri[3 * PATH_MAX + 16], real[PATH_MAX];
  if (sg_schema_file_uri(file, uri, sizeof uri) != 0 || realpath(file, real) == NULL ||
      sg_schema_resolver_allow(r, dirname(real)) != 0) {
    fprintf(stderr, "scopegate validate: %s: cannot locate the schema's folder\n", file);
    json_decref(doc);
    return 2;
  }
  sg_schema_opts_t opts = *base_opts;
  opts.base_uri = uri;
  sg_schema_resolver_use(r, &opts);
  sg_schema_error_t err;
  int rc = sg_schema_compile(doc, &opts, out, &err);
  json_decref(doc);
  if (rc == 0) return 0;
  fprintf(stderr, "%s: %s: schema does not compile: %s", file,
          err.keyword_location[0] ? err.keyword_location : "(root)", err.message);
  const char *why_ref = sg_schema_resolver_error(r);
  if (why_ref[0]) fprintf(stderr, " (%s)", why_ref);
  fputc('\n', stderr);
  return 2;
}

int sg_cli_validate(int argc, char **argv) {
  const char *schema_file = NULL;
  sg_schema_opts_t opts = {.default_draft = SG_DRAFT_2020_12};
  sg_schema_resolver_t *r = sg_schema_resolver_new();
  const char **instances = calloc((size_t)argc + 1, sizeof *instances);
  size_t ninstances = 0;
  sg_schema_t *s = NULL;
  int status = 2, all = 0;
  if (r == NULL || instances == NULL) {
    fprintf(stderr, "scopegate validate: out of memory\n");
    goto done;
  }
  int options = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int has_value = i + 1 < argc;
    if (!options || (a[0] != '-' || a[1] == '\0')) {
      instances[ninstances++] = a;
    } else if (strcmp(a, "--") == 0) {
      options = 0;
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      status = usage(stdout);
      goto done;
    } else if (strcmp(a, "--schema") == 0 && has_value) {
      schema_file = argv[++i];
    } else if (strcmp(a, "--draft") == 0 && has_value) {
      const char *d = argv[++i];
      if (strcmp(d, "2020-12") == 0) {
        opts.default_draft = SG_DRAFT_2020_12;
      } else if (strcmp(d, "7") == 0 || strcmp(d, "07") == 0) {
        opts.default_draft = SG_DRAFT_07;
      } else {
        fprintf(stderr, "scopegate validate: --draft takes 2020-12 or 7\n");
        goto done;
      }
    } else if (strcmp(a, "--format-assert") == 0) {
      opts.format_assert = 1;
    } else if (strcmp(a, "--all") == 0) {
      all = 1;
    } else if (strcmp(a, "--map") == 0 && has_value) {
      const char *m = argv[++i], *eq = strchr(m, '=');
      if (eq == NULL || eq == m || eq[1] == '\0') {
        fprintf(stderr, "scopegate validate: --map takes URI-PREFIX=DIR\n");
        goto done;
      }
      char *prefix = strndup(m, (size_t)(eq - m));
      int rc = prefix ? sg_schema_resolver_map(r, prefix, eq + 1) : -1;
      if (rc == 0) rc = sg_schema_resolver_allow(r, eq + 1);
      free(prefix);
      if (rc != 0) {
        fprintf(stderr, "scopegate validate: --map %s: %s is not a directory\n", m, eq + 1);
        goto done;
      }
    } else {
      status = usage(stderr);
      goto done;
    }
  }
  if (schema_file == NULL) {
    status = usage(stderr);
    goto done;
  }
  if (load_schema(schema_file, &opts, r, &s) != 0) goto done;
  if (ninstances == 0) instances[ninstances++] = "-";
  status = 0;
  for (size_t i = 0; i < ninstances; i++) {
    int rc = check_instance(s, instances[i], all);
    if (rc > status) status = rc;
  }
done:
  fflush(stdout);
  sg_schema_free(s);
  sg_schema_resolver_free(r);
  free(instances);
  sg_schema_thread_cleanup();
  return status;
}
