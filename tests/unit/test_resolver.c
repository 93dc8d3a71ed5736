/*
 * Unit tests for src/schema/resolver.c and bundle.c: $refs to local files through URI
 * prefixes and file:// URIs, every way out of the named directories refused, strict
 * documents, and self-contained copies with those $refs inlined; the example catalog's
 * shared schema.
 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "core/error.h"
#include "fixtures.h"
#include "runner.h"
#include "schema/resolver.h"

/* Writes text to dir/rel, creating the folders on the way. */
static void put(const char *dir, const char *rel, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  for (char *p = path + strlen(dir) + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    mkdir(path, 0700);
    *p = '/';
  }
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  fputs(text, f);
  fclose(f);
}

static json_t *parse(const char *text) {
  json_error_t e;
  json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
  CHECK(j != NULL);
  return j;
}

/* Resolves uri and expects nothing, with a reason. */
static void refused(sg_schema_resolver_t *r, const char *uri) {
  json_t *doc = sg_schema_resolver_resolve(r, uri);
  if (doc) fprintf(stderr, "resolved, but should not have: %s\n", uri);
  CHECK(doc == NULL);
  CHECK(sg_schema_resolver_error(r)[0] != '\0');
}

static void mapped_prefix(void) {
  const char *dir = fx_tmpdir();
  put(dir, "s/a.json", "{\"type\": \"integer\", \"maximum\": 3}");
  put(dir, "s/sub/b.json", "true");
  char s[600];
  snprintf(s, sizeof s, "%s/s", dir);
  sg_schema_resolver_t *r = sg_schema_resolver_new();
  CHECK(r != NULL);
  CHECK_INT_EQ(sg_schema_resolver_map(r, "https://example.com/s", s), 0);
  CHECK_INT_EQ(sg_schema_resolver_map(r, "https://example.com/none", "/nonexistent/dir"),
               SG_EINVAL);
  CHECK_INT_EQ(sg_schema_resolver_map(r, "", s), SG_EINVAL);
  json_t *doc = sg_schema_resolver_resolve(r, "https://example.com/s/a.json");
  CHECK(json_is_object(doc));
  CHECK_STR_EQ(sg_schema_resolver_error(r), "");
  json_decref(doc);
  doc = sg_schema_resolver_resolve(r, "https://example.com/s/sub/b.json");
  CHECK(json_is_true(doc));
  json_decref(doc);
  /* The prefix is a whole path segment; other hosts and schemes are unknown. */
  refused(r, "https://example.com/sa.json");
  refused(r, "https://example.com/s");
  refused(r, "http://example.com/s/a.json");
  refused(r, "https://other.example/s/a.json");
  refused(r, "https://example.com/s/missing.json");

  /* Through the compiler: a $ref by absolute URI, resolved once and validated. */
  sg_schema_opts_t opts = {0};
  sg_schema_resolver_use(r, &opts);
  json_t *schema = parse("{\"properties\": {\"n\": {\"$ref\": \"https://example.com/s/a.json\"}}}");
  sg_schema_t *c = NULL;
  sg_schema_error_t err;
  CHECK_INT_EQ(sg_schema_compile(schema, &opts, &c, &err), 0);
  json_t *ok = parse("{\"n\": 2}"), *bad = parse("{\"n\": 4}");
  CHECK_INT_EQ(sg_schema_validate(c, ok, &err), 0);
  CHECK_INT_EQ(sg_schema_validate(c, bad, &err), SG_EINVALID_ARGS);
  CHECK_STR_EQ(err.keyword_location, "/properties/n/$ref/maximum");
  json_decref(ok);
  json_decref(bad);
  json_decref(schema);
  sg_schema_free(c);
  sg_schema_resolver_free(r);
}

static void escapes_refused(void) {
  const char *dir = fx_tmpdir();
  put(dir, "secret.json", "{\"secret\": true}");
  put(dir, "inner/ok.json", "{}");
  char inner[600], link[700], target[700];
  snprintf(inner, sizeof inner, "%s/inner", dir);
  /* A symbolic link to a file outside, and one to a folder outside. */
  snprintf(link, sizeof link, "%s/link.json", inner);
  snprintf(target, sizeof target, "%s/secret.json", dir);
  CHECK(symlink(target, link) == 0);
  snprintf(link, sizeof link, "%s/up", inner);
  CHECK(symlink(dir, link) == 0);
  /* A symbolic link that stays inside is fine. */
  snprintf(link, sizeof link, "%s/alias.json", inner);
  snprintf(target, sizeof target, "%s/ok.json", inner);
  CHECK(symlink(target, link) == 0);

  sg_schema_resolver_t *r = sg_schema_resolver_new();
  CHECK_INT_EQ(sg_schema_resolver_map(r, "urn:acme:", inner), 0);
  CHECK_INT_EQ(sg_schema_resolver_allow(r, inner), 0);
  json_t *doc = sg_schema_resolver_resolve(r, "urn:acme:alias.json");
  CHECK(json_is_object(doc));
  json_decref(doc);
  refused(r, "urn:acme:../secret.json");
  refused(r, "urn:acme:%2e%2e/secret.json");
  refused(r, "urn:acme:%2E%2E%2Fsecret.json");
  refused(r, "urn:acme:inner/../../secret.json");
  refused(r, "urn:acme:link.json");
  refused(r, "urn:acme:up/secret.json");
  refused(r, "urn:acme:/etc/passwd");
  refused(r, "urn:acme:%2Fetc%2Fpasswd");
  refused(r, "urn:acme:");
  refused(r, "urn:acme:ok.json%00.txt");
  refused(r, "urn:acme:ok.json?x=1");
  refused(r, "urn:acme:ok.json%zz");
  refused(r, "urn:acme:.");
  /* file:// URIs: only under the allowed directory, only on this host. */
  char uri[1024];
  snprintf(uri, sizeof uri, "file://%s/ok.json", inner);
  doc = sg_schema_resolver_resolve(r, uri);
  CHECK(json_is_object(doc));
  json_decref(doc);
  snprintf(uri, sizeof uri, "file://localhost%s/ok.json", inner);
  doc = sg_schema_resolver_resolve(r, uri);
  CHECK(json_is_object(doc));
  json_decref(doc);
  snprintf(uri, sizeof uri, "file://%s/secret.json", dir);
  refused(r, uri);
  snprintf(uri, sizeof uri, "file://%s/../secret.json", inner);
  refused(r, uri);
  snprintf(uri, sizeof uri, "file://%s/link.json", inner);
  refused(r, uri);
  snprintf(uri, sizeof uri, "file://%s/up/secret.json", inner);
  refused(r, uri);
  snprintf(uri, sizeof uri, "file://otherhost%s/ok.json", inner);
  refused(r, uri);
  refused(r, "file:///etc/passwd");
  refused(r, "https://example.com/anything.json");
  /* A directory whose name starts like the allowed one is not inside it. */
  put(dir, "inner2/x.json", "{}");
  snprintf(uri, sizeof uri, "file://%s2/x.json", inner);
  refused(r, uri);
  sg_schema_resolver_free(r);
}

static void strict_documents(void) {
  const char *dir = fx_tmpdir();
  put(dir, "dup.json", "{\"type\": \"string\", \"type\": \"integer\"}");
  put(dir, "broken.json", "{\"type\": ");
  char fifo[600], sub[600];
  snprintf(fifo, sizeof fifo, "%s/fifo.json", dir);
  CHECK(mkfifo(fifo, 0600) == 0);
  snprintf(sub, sizeof sub, "%s/folder.json", dir);
  CHECK(mkdir(sub, 0700) == 0);
  sg_schema_resolver_t *r = sg_schema_resolver_new();
  CHECK_INT_EQ(sg_schema_resolver_map(r, "urn:x:", dir), 0);
  refused(r, "urn:x:dup.json");
  CHECK(strstr(sg_schema_resolver_error(r), "duplicate") != NULL);
  refused(r, "urn:x:broken.json");
  refused(r, "urn:x:fifo.json"); /* neither read nor waited on */
  CHECK(strstr(sg_schema_resolver_error(r), "not a regular file") != NULL);
  refused(r, "urn:x:folder.json");
  sg_schema_resolver_free(r);
}

static void unknown_ref_is_a_schema_error(void) {
  sg_schema_resolver_t *r = sg_schema_resolver_new();
  sg_schema_opts_t opts = {0};
  sg_schema_resolver_use(r, &opts);
  json_t *schema = parse("{\"$ref\": \"https://nowhere.example/x.json\"}");
  sg_schema_t *c = NULL;
  sg_schema_error_t err;
  CHECK_INT_EQ(sg_schema_compile(schema, &opts, &c, &err), SG_ESCHEMA);
  CHECK(c == NULL);
  CHECK(strstr(err.message, "cannot resolve") != NULL);
  CHECK_STR_EQ(err.keyword_location, "/$ref");
  /* Meta-schemas are built in and never asked of the resolver. */
  json_decref(schema);
  schema = parse("{\"$ref\": \"https://json-schema.org/draft/2020-12/schema\"}");
  CHECK_INT_EQ(sg_schema_compile(schema, &opts, &c, &err), 0);
  sg_schema_free(c);
  json_decref(schema);
  sg_schema_resolver_free(r);
}

static void relative_refs_from_a_file(void) {
  const char *dir = fx_tmpdir();
  put(dir, "tools/t.json", "{}");
  put(dir, "shared dir/p.json", "{\"type\": \"string\", \"maxLength\": 3}");
  char path[600], uri[2048];
  snprintf(path, sizeof path, "%s/tools/t.json", dir);
  CHECK_INT_EQ(sg_schema_file_uri(path, uri, sizeof uri), 0);
  CHECK(strncmp(uri, "file:///", 8) == 0);
  CHECK_INT_EQ(sg_schema_file_uri(path, uri, 12), SG_EINVAL);
  CHECK_INT_EQ(sg_schema_file_uri("/nonexistent/file.json", uri, sizeof uri), SG_EIO);
  CHECK_INT_EQ(sg_schema_file_uri(path, uri, sizeof uri), 0);
  sg_schema_resolver_t *r = sg_schema_resolver_new();
  CHECK_INT_EQ(sg_schema_resolver_allow(r, dir), 0);
  sg_schema_opts_t opts = {.base_uri = uri};
  sg_schema_resolver_use(r, &opts);
  json_t *schema = parse("{\"properties\": {\"p\": {\"$ref\": \"../shared%20dir/p.json\"}}}");
  sg_schema_t *c = NULL;
  sg_schema_error_t err;
  CHECK_INT_EQ(sg_schema_compile(schema, &opts, &c, &err), 0);
  json_t *bad = parse("{\"p\": \"abcd\"}");
  CHECK_INT_EQ(sg_schema_validate(c, bad, &err), SG_EINVALID_ARGS);
  CHECK_STR_EQ(err.keyword, "maxLength");
  json_decref(bad);
  sg_schema_free(c);
  json_decref(schema);
  /* Going up past the allowed directory is refused, and reported as a schema error. */
  schema = parse("{\"$ref\": \"../../../../../../../../etc/passwd\"}");
  CHECK_INT_EQ(sg_schema_compile(schema, &opts, &c, &err), SG_ESCHEMA);
  CHECK(strstr(sg_schema_resolver_error(r), "outside") != NULL);
  json_decref(schema);
  sg_schema_resolver_free(r);
}

/* Inlines schema_text's $refs with the documents under https://x.example/ from dir. */
static int inline_text(const char *dir, const char *schema_text, json_t **out,
                       sg_schema_error_t *err) {
  sg_schema_resolver_t *r = sg_schema_resolver_new();
  CHECK_INT_EQ(sg_schema_resolver_map(r, "https://x.example/", dir), 0);
  sg_schema_opts_t opts = {.base_uri = "https://x.example/root.json"};
  sg_schema_resolver_use(r, &opts);
  json_t *schema = parse(schema_text);
  int rc = sg_schema_inline_refs(schema, &opts, out, err);
  json_decref(schema);
  sg_schema_resolver_free(r);
  return rc;
}

static void inlined_copies(void) {
  const char *dir = fx_tmpdir();
  put(dir, "p.json",
      "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\", "
      "\"$id\": \"https://x.example/p.json\", \"type\": \"string\", \"maxLength\": 3}");
  put(dir, "defs.json", "{\"$defs\": {\"n\": {\"type\": \"integer\"}}}");
  put(dir, "outer.json", "{\"type\": \"array\", \"items\": {\"$ref\": \"p.json\"}}");
  put(dir, "self.json", "{\"$defs\": {\"a\": true}, \"not\": {\"$ref\": \"#/$defs/a\"}}");
  put(dir, "anchor.json", "{\"$anchor\": \"here\"}");
  put(dir, "loop-a.json", "{\"not\": {\"$ref\": \"loop-b.json\"}}");
  put(dir, "loop-b.json", "{\"not\": {\"$ref\": \"loop-a.json\"}}");
  json_t *out = NULL, *want = NULL;
  sg_schema_error_t err;

  /* Alone: replaced, without the document's own $id and $schema. Beside other keywords:
     one more allOf entry. Fragments name part of a document. Internal refs stay. */
  CHECK_INT_EQ(inline_text(dir,
                           "{\"$defs\": {\"d\": {\"type\": \"null\"}}, \"properties\": {"
                           "\"a\": {\"$ref\": \"p.json\"},"
                           "\"b\": {\"$ref\": \"p.json\", \"minLength\": 1},"
                           "\"c\": {\"$ref\": \"defs.json#/$defs/n\"},"
                           "\"d\": {\"$ref\": \"#/$defs/d\"},"
                           "\"e\": {\"$ref\": \"outer.json\"},"
                           "\"f\": {\"$ref\": \"https://json-schema.org/draft/2020-12/schema\"}}}",
                           &out, &err),
               0);
  want = parse(
      "{\"$defs\": {\"d\": {\"type\": \"null\"}}, \"properties\": {"
      "\"a\": {\"type\": \"string\", \"maxLength\": 3},"
      "\"b\": {\"minLength\": 1, \"allOf\": [{\"type\": \"string\", \"maxLength\": 3}]},"
      "\"c\": {\"type\": \"integer\"},"
      "\"d\": {\"$ref\": \"#/$defs/d\"},"
      "\"e\": {\"type\": \"array\", \"items\": {\"type\": \"string\", \"maxLength\": 3}},"
      "\"f\": {\"$ref\": \"https://json-schema.org/draft/2020-12/schema\"}}}");
  if (!json_equal(out, want)) fprintf(stderr, "%s\n", json_dumps(out, JSON_SORT_KEYS));
  CHECK(json_equal(out, want));
  json_decref(out);
  json_decref(want);

  /* In draft-07, keywords beside $ref are ignored, so the target replaces them. */
  CHECK_INT_EQ(inline_text(dir,
                           "{\"$schema\": \"http://json-schema.org/draft-07/schema#\", "
                           "\"properties\": {\"b\": {\"$ref\": \"p.json\", \"minLength\": 1}}}",
                           &out, &err),
               0);
  want = parse(
      "{\"$schema\": \"http://json-schema.org/draft-07/schema#\", "
      "\"properties\": {\"b\": {\"type\": \"string\", \"maxLength\": 3}}}");
  CHECK(json_equal(out, want));
  json_decref(out);
  json_decref(want);

  /* Documents that would mean something else once moved are refused. */
  CHECK_INT_EQ(inline_text(dir, "{\"properties\": {\"s\": {\"$ref\": \"self.json\"}}}", &out, &err),
               SG_ESCHEMA);
  CHECK(out == NULL);
  CHECK_STR_EQ(err.keyword_location, "/properties/s/$ref/not/$ref");
  CHECK(strstr(err.message, "its own document") != NULL);
  CHECK_INT_EQ(inline_text(dir, "{\"$ref\": \"anchor.json\"}", &out, &err), SG_ESCHEMA);
  CHECK(strstr(err.message, "$anchor") != NULL);
  CHECK_INT_EQ(inline_text(dir, "{\"$ref\": \"loop-a.json\"}", &out, &err), SG_ESCHEMA);
  CHECK(strstr(err.message, "too much") != NULL);
  CHECK_INT_EQ(inline_text(dir, "{\"$ref\": \"defs.json#/$defs/missing\"}", &out, &err),
               SG_ESCHEMA);
  /* Deep schemas are copied whole, however long their pointers grow. */
  json_t *deep = parse("{\"$ref\": \"p.json\"}");
  for (int i = 0; i < 300; i++)
    deep = json_pack("{s:{s:o}}", "properties", "a-rather-long-property-name", deep);
  char *deep_text = json_dumps(deep, 0);
  CHECK_INT_EQ(inline_text(dir, deep_text, &out, &err), 0);
  json_t *leaf = out;
  for (int i = 0; i < 300; i++)
    leaf = json_object_get(json_object_get(leaf, "properties"), "a-rather-long-property-name");
  CHECK_INT_EQ(json_integer_value(json_object_get(leaf, "maxLength")), 3);
  free(deep_text);
  json_decref(deep);
  json_decref(out);
  /* Values that are not schemas are left alone, even when they look like $refs. */
  CHECK_INT_EQ(inline_text(dir,
                           "{\"const\": {\"$ref\": \"p.json\"}, \"properties\": "
                           "{\"$ref\": {\"$ref\": \"p.json\"}}}",
                           &out, &err),
               0);
  want = parse(
      "{\"const\": {\"$ref\": \"p.json\"}, \"properties\": "
      "{\"$ref\": {\"type\": \"string\", \"maxLength\": 3}}}");
  CHECK(json_equal(out, want));
  json_decref(out);
  json_decref(want);
}

static void example_catalog_shared_schema(void) {
  char dir[512];
  sg_test_path("../catalog", dir, sizeof dir);
  sg_catalog_t *c = NULL;
  sg_buf_t errors;
  sg_buf_init(&errors);
  int rc = sg_catalog_load(dir, &c, &errors);
  if (rc) fprintf(stderr, "%s", errors.data);
  CHECK_INT_EQ(rc, 0);
  /* Clients see the shared path schema inlined; the gateway enforces it through $ref. */
  const char *tools[] = {"read_file", "list_directory", "write_file"};
  for (size_t i = 0; i < 3; i++) {
    const sg_tool_t *t = sg_catalog_tool(c, tools[i]);
    CHECK(t != NULL);
    json_t *path = json_object_get(json_object_get(t->input_schema, "properties"), "path");
    CHECK(json_object_get(path, "$ref") == NULL);
    CHECK_STR_EQ(json_string_value(json_object_get(path, "pattern")), "^[A-Za-z0-9_./-]+$");
    CHECK_INT_EQ(json_integer_value(json_object_get(path, "maxLength")), 512);
    /* Properties are checked before required and additionalProperties. */
    json_t *bad = parse("{\"path\": \"acme/a b\", \"content\": \"\"}");
    sg_schema_error_t err;
    CHECK_INT_EQ(sg_schema_validate(t->schema, bad, &err), SG_EINVALID_ARGS);
    CHECK_STR_EQ(err.keyword_location, "/properties/path/$ref/pattern");
    json_decref(bad);
  }
  sg_catalog_unref(c);
  sg_buf_free(&errors);
}

static void catalog_refs_stay_inside(void) {
  const char *dir = fx_small_catalog("auto");
  fx_write(
      dir, "tools/lookup.json",
      "{\"name\":\"lookup\",\"server\":\"svc\",\"tool\":\"do-lookup\",\"access\":\"read\","
      "\"description\":\"Looks up.\",\"inputSchema\":{\"type\":\"object\",\"properties\":"
      "{\"q\":{\"$ref\":\"../../../../../../../etc/passwd\"}},\"additionalProperties\":false}}");
  sg_catalog_t *c = NULL;
  sg_buf_t errors;
  sg_buf_init(&errors);
  CHECK_INT_EQ(sg_catalog_load(dir, &c, &errors), SG_ECATALOG);
  CHECK(strstr(errors.data,
               "tools/lookup.json: /inputSchema/properties/q/$ref: schema does not "
               "compile: cannot resolve") != NULL);
  sg_buf_free(&errors);
  /* A shared schema inside the catalog directory is found. */
  fx_write(dir, "tools/lookup.json",
           "{\"name\":\"lookup\",\"server\":\"svc\",\"tool\":\"do-lookup\",\"access\":\"read\","
           "\"description\":\"Looks up.\",\"inputSchema\":{\"type\":\"object\",\"properties\":"
           "{\"q\":{\"$ref\":\"../q.json\"}},\"additionalProperties\":false}}");
  fx_write(dir, "q.json", "{\"type\": \"string\", \"maxLength\": 8}");
  sg_buf_init(&errors);
  int rc = sg_catalog_load(dir, &c, &errors);
  if (rc) fprintf(stderr, "%s", errors.data);
  CHECK_INT_EQ(rc, 0);
  sg_buf_free(&errors);
  sg_catalog_unref(c);
}

const sg_test_t sg_suite_resolver[] = {
    {"mapped_prefix", mapped_prefix},
    {"escapes_refused", escapes_refused},
    {"strict_documents", strict_documents},
    {"unknown_ref_is_a_schema_error", unknown_ref_is_a_schema_error},
    {"relative_refs_from_a_file", relative_refs_from_a_file},
    {"inlined_copies", inlined_copies},
    {"example_catalog_shared_schema", example_catalog_shared_schema},
    {"catalog_refs_stay_inside", catalog_refs_stay_inside},
    SG_SUITE_END};
