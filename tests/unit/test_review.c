/*
 * Unit tests for what reviewers read (src/catalog/lint.c, render.c, diff.c): lint
 * findings with file and pointer, the matrix as Markdown and JSON, and every kind of
 * privilege change diff reports, on small catalogs written for each case.
 */
#include <string.h>

#include "catalog/catalog.h"
#include "catalog/review.h"
#include "core/error.h"
#include "fixtures.h"
#include "runner.h"

/* ---- catalogs ---- */

#define SERVERS "{\"servers\":{\"svc\":{\"transport\":\"stdio\",\"command\":\"true\"}}}"
#define LOOKUP_AS(access, server, tool, schema)                                               \
  "{\"name\":\"lookup\",\"server\":\"" server "\",\"tool\":\"" tool "\",\"access\":\"" access \
  "\",\"description\":\"Looks up.\",\"inputSchema\":" schema "}"
#define LOOKUP_SCHEMA                                                                             \
  "{\"type\":\"object\",\"properties\":{\"q\":{\"type\":\"string\"},\"n\":{\"type\":\"number\"}," \
  "\"path\":{\"type\":\"string\"},\"cur\":{\"type\":\"string\"},"                                 \
  "\"tenant_id\":{\"type\":\"string\"}},\"required\":[\"q\",\"n\",\"path\",\"cur\"],"             \
  "\"additionalProperties\":false}"
#define LOOKUP LOOKUP_AS("read", "svc", "do-lookup", LOOKUP_SCHEMA)
#define STORE                                                                          \
  "{\"name\":\"store\",\"server\":\"svc\",\"tool\":\"do-store\",\"access\":\"write\"," \
  "\"description\":\"Stores.\",\"inputSchema\":{\"type\":\"object\",\"properties\":{"  \
  "\"path\":{\"type\":\"string\"}},\"required\":[\"path\"],\"additionalProperties\":false}}"

/* Writes a catalog (servers.json, tools/lookup.json, tools/store.json, and matrix.json
 * with roles as the members of "roles" and writes enabled or not) and returns its
 * directory (caller frees). */
static char *write_catalog_w(const char *servers, const char *lookup, const char *roles,
                             int writes) {
  char *dir = strdup(fx_tmpdir());
  fx_write(dir, "servers.json", servers ? servers : SERVERS);
  fx_write(dir, "tools/lookup.json", lookup ? lookup : LOOKUP);
  fx_write(dir, "tools/store.json", STORE);
  char matrix[4096];
  snprintf(matrix, sizeof matrix, "{\"writes_enabled\":%s,\"roles\":{%s}}",
           writes ? "true" : "false", roles);
  fx_write(dir, "matrix.json", matrix);
  return dir;
}

static char *write_catalog(const char *servers, const char *lookup, const char *roles) {
  return write_catalog_w(servers, lookup, roles, 1);
}

static sg_catalog_t *load_ok(const char *dir) {
  sg_catalog_t *c = NULL;
  sg_buf_t errors;
  sg_buf_init(&errors);
  int rc = sg_catalog_load(dir, &c, &errors);
  if (rc) fprintf(stderr, "%s", errors.data);
  CHECK_INT_EQ(rc, 0);
  sg_buf_free(&errors);
  return c;
}

static void diff_dirs(const char *a, const char *b, sg_changes_t *ch) {
  sg_catalog_t *x = load_ok(a), *y = load_ok(b);
  CHECK_INT_EQ(sg_catalog_diff(x, y, ch), 0);
  sg_catalog_unref(x);
  sg_catalog_unref(y);
}

/* All changes as lines, as diff prints them, for exact comparison. */
static char *changes_text(const sg_changes_t *ch) {
  sg_buf_t b;
  sg_buf_init(&b);
  sg_buf_append_str(&b, "");
  for (size_t i = 0; i < ch->n; i++) {
    sg_change_line(&ch->items[i], &b);
    sg_buf_append_str(&b, "\n");
  }
  return sg_buf_steal(&b, NULL);
}

static void expect_changes(const char *a, const char *b, const char *want) {
  sg_changes_t ch;
  diff_dirs(a, b, &ch);
  char *got = changes_text(&ch);
  CHECK_STR_EQ(got, want);
  free(got);
  sg_changes_free(&ch);
}

/* The change from grant OLD to grant NEW of tool lookup to role r. */
static void expect_grant(const char *old_grant, const char *new_grant, const char *want) {
  char roles[2048];
  snprintf(roles, sizeof roles, "\"r\":{\"tools\":{\"lookup\":%s}}", old_grant);
  char *a = write_catalog(NULL, NULL, roles);
  snprintf(roles, sizeof roles, "\"r\":{\"tools\":{\"lookup\":%s}}", new_grant);
  char *b = write_catalog(NULL, NULL, roles);
  expect_changes(a, b, want);
  free(a);
  free(b);
}

/* ---- diff ---- */

static void diff_of_equal_catalogs_is_empty(void) {
  const char *roles =
      "\"r\":{\"tools\":{\"lookup\":{\"envelope\":{\"n\":{\"max\":10,\"min\":1}},"
      "\"bind\":{\"tenant_id\":\"$tenant\"}},\"store\":{\"approval\":\"required\"}}}";
  char *a = write_catalog(NULL, NULL, roles);
  /* Other key order and layout, the same rules: no change. */
  char *b = write_catalog(NULL, NULL,
                          "\"r\" : { \"tools\" : { \"store\":{\"approval\":\"required\"},\n"
                          "  "
                          "\"lookup\":{\"bind\":{\"tenant_id\":\"$tenant\"},\"envelope\":{\"n\":{"
                          "\"min\":1.0,\"max\":10}}}}}");
  expect_changes(a, b, "");
  free(a);
  free(b);
}

static void diff_roles_added_and_removed(void) {
  char *a =
      write_catalog(NULL, NULL, "\"old\":{\"tools\":{\"lookup\":{}}},\"same\":{\"tools\":{}}");
  char *b = write_catalog(NULL, NULL,
                          "\"new\":{\"tools\":{\"store\":{\"approval\":\"required\"}}},"
                          "\"same\":{\"tools\":{}},\"empty\":{\"tools\":{}}");
  expect_changes(a, b,
                 "role added: empty\n"
                 "role added: new\n"
                 "granted: new store: write, approval required\n"
                 "role removed: old\n"
                 "revoked: old lookup: read, approval none\n");
  CHECK(sg_change_widens(SG_CHANGE_ROLE_ADDED));
  CHECK(!sg_change_widens(SG_CHANGE_ROLE_REMOVED));
  free(a);
  free(b);
}

static void diff_grants_granted_and_revoked(void) {
  char *a = write_catalog(NULL, NULL, "\"r\":{\"tools\":{\"lookup\":{}}}");
  char *b = write_catalog(NULL, NULL,
                          "\"r\":{\"tools\":{\"store\":{\"approval\":\"auto\","
                          "\"envelope\":{\"path\":{\"prefix\":\"$tenant/\"}}}}}");
  expect_changes(a, b,
                 "revoked: r lookup: read, approval none\n"
                 "granted: r store: write, approval auto, envelope `path` prefix `$tenant/`\n");
  CHECK(sg_change_widens(SG_CHANGE_GRANTED));
  CHECK(!sg_change_widens(SG_CHANGE_REVOKED));
  free(a);
  free(b);
}

static void diff_approval(void) {
  expect_grant("{\"approval\":\"required\"}", "{\"approval\":\"auto\"}",
               "widened: r lookup: approval required -> auto\n");
  expect_grant("{\"approval\":\"required\"}", "{}",
               "widened: r lookup: approval required -> none\n");
  expect_grant("{\"approval\":\"auto\"}", "{\"approval\":\"required\"}",
               "narrowed: r lookup: approval auto -> required\n");
  /* For a read tool no mode and "auto" both mean no approval. */
  expect_grant("{}", "{\"approval\":\"auto\"}", "");
}

static void diff_bounds(void) {
  expect_grant("{\"envelope\":{\"n\":{\"max\":10}}}", "{\"envelope\":{\"n\":{\"max\":20}}}",
               "widened: r lookup: `n` ≤ `10` -> `20` (raised)\n");
  expect_grant("{\"envelope\":{\"n\":{\"max\":10}}}", "{\"envelope\":{\"n\":{\"max\":5}}}",
               "narrowed: r lookup: `n` ≤ `10` -> `5` (lowered)\n");
  expect_grant("{\"envelope\":{\"n\":{\"min\":1}}}", "{\"envelope\":{\"n\":{\"min\":0}}}",
               "widened: r lookup: `n` ≥ `1` -> `0` (lowered)\n");
  expect_grant("{\"envelope\":{\"n\":{\"exclusiveMin\":0}}}",
               "{\"envelope\":{\"n\":{\"exclusiveMin\":0.5}}}",
               "narrowed: r lookup: `n` > `0` -> `0.5` (raised)\n");
  expect_grant("{\"envelope\":{\"n\":{\"exclusiveMax\":9}}}",
               "{\"envelope\":{\"n\":{\"exclusiveMax\":9.5}}}",
               "widened: r lookup: `n` < `9` -> `9.5` (raised)\n");
  /* A context bound replaced by a constant is not comparable. */
  expect_grant("{\"envelope\":{\"n\":{\"max\":\"$claims.limit\"}}}",
               "{\"envelope\":{\"n\":{\"max\":1}}}",
               "widened: r lookup: `n` ≤ `$claims.limit` -> `1` (changed)\n");
  /* Rules removed and added, alone or with their parameter. */
  expect_grant("{\"envelope\":{\"n\":{\"min\":1,\"max\":10}}}",
               "{\"envelope\":{\"n\":{\"min\":1}}}", "widened: r lookup: `n` ≤ `10` removed\n");
  expect_grant("{\"envelope\":{\"n\":{\"max\":10}}}", "{}",
               "widened: r lookup: `n` ≤ `10` removed\n");
  expect_grant("{}", "{\"envelope\":{\"n\":{\"max\":10,\"min\":0}}}",
               "narrowed: r lookup: `n` ≥ `0` added; `n` ≤ `10` added\n");
  /* Another kind of rule is not weighed against the one it replaces. */
  expect_grant("{\"envelope\":{\"n\":{\"max\":10}}}",
               "{\"envelope\":{\"n\":{\"exclusiveMax\":10}}}",
               "widened: r lookup: `n` ≤ `10` removed; `n` < `10` added\n");
}

static void diff_in_lists(void) {
  expect_grant("{\"envelope\":{\"cur\":{\"in\":[\"EUR\"]}}}",
               "{\"envelope\":{\"cur\":{\"in\":[\"EUR\",\"USD\"]}}}",
               "widened: r lookup: `cur` in `[\"EUR\"]` -> `[\"EUR\",\"USD\"]` (grew)\n");
  expect_grant("{\"envelope\":{\"cur\":{\"in\":[\"EUR\",\"USD\"]}}}",
               "{\"envelope\":{\"cur\":{\"in\":[\"USD\"]}}}",
               "narrowed: r lookup: `cur` in `[\"EUR\",\"USD\"]` -> `[\"USD\"]` (shrank)\n");
  expect_grant("{\"envelope\":{\"cur\":{\"in\":[\"EUR\",\"USD\"]}}}",
               "{\"envelope\":{\"cur\":{\"in\":[\"USD\",\"EUR\"]}}}", "");
  expect_grant("{\"envelope\":{\"cur\":{\"in\":[\"EUR\"]}}}",
               "{\"envelope\":{\"cur\":{\"in\":[\"USD\"]}}}",
               "widened: r lookup: `cur` in `[\"EUR\"]` -> `[\"USD\"]` (changed)\n");
  expect_grant("{\"envelope\":{\"cur\":{\"in\":\"$claims.book\"}}}",
               "{\"envelope\":{\"cur\":{\"in\":\"$claims.other\"}}}",
               "widened: r lookup: `cur` in `$claims.book` -> `$claims.other` (changed)\n");
}

static void diff_prefixes(void) {
  expect_grant("{\"envelope\":{\"path\":{\"prefix\":\"acme/docs/\"}}}",
               "{\"envelope\":{\"path\":{\"prefix\":\"acme/\"}}}",
               "widened: r lookup: `path` prefix `\"acme/docs/\"` -> `\"acme/\"` (shortened)\n");
  expect_grant("{\"envelope\":{\"path\":{\"prefix\":\"acme/\"}}}",
               "{\"envelope\":{\"path\":{\"prefix\":\"acme/docs/\"}}}",
               "narrowed: r lookup: `path` prefix `\"acme/\"` -> `\"acme/docs/\"` (lengthened)\n");
  expect_grant("{\"envelope\":{\"path\":{\"prefix\":\"acme/\"}}}",
               "{\"envelope\":{\"path\":{\"prefix\":\"globex/\"}}}",
               "widened: r lookup: `path` prefix `\"acme/\"` -> `\"globex/\"` (changed)\n");
  expect_grant("{\"envelope\":{\"path\":{\"prefix\":\"$tenant/\"}}}",
               "{\"envelope\":{\"path\":{\"prefix\":\"$tenant\"}}}",
               "widened: r lookup: `path` prefix `$tenant/` -> `$tenant` (shortened)\n");
  expect_grant("{\"envelope\":{\"path\":{\"prefix\":\"$tenant/\"}}}",
               "{\"envelope\":{\"path\":{\"prefix\":\"$tenant/in/\"}}}",
               "narrowed: r lookup: `path` prefix `$tenant/` -> `$tenant/in/` (lengthened)\n");
  expect_grant("{\"envelope\":{\"path\":{\"prefix\":\"$tenant/\"}}}",
               "{\"envelope\":{\"path\":{\"prefix\":\"$subject/\"}}}",
               "widened: r lookup: `path` prefix `$tenant/` -> `$subject/` (changed)\n");
  expect_grant("{\"envelope\":{\"path\":{\"prefix\":\"$tenant/\"}}}",
               "{\"envelope\":{\"path\":{\"prefix\":\"acme/\"}}}",
               "widened: r lookup: `path` prefix `$tenant/` -> `\"acme/\"` (changed)\n");
}

static void diff_patterns_and_equals(void) {
  /* Any change to a pattern widens, even one that happens to be narrower. */
  expect_grant("{\"envelope\":{\"q\":{\"pattern\":\"^[a-z]+$\"}}}",
               "{\"envelope\":{\"q\":{\"pattern\":\"^[a-y]+$\"}}}",
               "widened: r lookup: `q` matches `\"^[a-z]+$\"` -> `\"^[a-y]+$\"` (changed)\n");
  expect_grant("{\"envelope\":{\"cur\":{\"equals\":\"EUR\"}}}",
               "{\"envelope\":{\"cur\":{\"equals\":\"USD\"}}}",
               "widened: r lookup: `cur` = `\"EUR\"` -> `\"USD\"` (changed)\n");
  expect_grant("{\"envelope\":{\"cur\":{\"equals\":\"EUR\"}}}", "{}",
               "widened: r lookup: `cur` = `\"EUR\"` removed\n");
}

static void diff_bindings(void) {
  expect_grant("{\"bind\":{\"tenant_id\":\"$tenant\"}}", "{}",
               "widened: r lookup: `tenant_id` = `$tenant` removed\n");
  expect_grant("{}", "{\"bind\":{\"tenant_id\":\"$tenant\"}}",
               "narrowed: r lookup: `tenant_id` = `$tenant` added\n");
  expect_grant("{\"bind\":{\"tenant_id\":\"$tenant\"}}",
               "{\"bind\":{\"tenant_id\":\"$claims.org\"}}",
               "widened: r lookup: `tenant_id` = `$tenant` -> `$claims.org`\n");
}

static void diff_budgets(void) {
  const char *b10 =
      "{\"approval\":{\"mode\":\"auto\",\"budget\":{\"calls\":10,\"window_seconds\":60}}}";
  expect_grant(b10, "{\"approval\":\"auto\"}",
               "widened: r lookup: budget 10 calls per 60 s removed\n");
  expect_grant("{}", b10, "narrowed: r lookup: budget 10 calls per 60 s added\n");
  expect_grant(b10,
               "{\"approval\":{\"mode\":\"auto\",\"budget\":{\"calls\":20,\"window_seconds\":60}}}",
               "widened: r lookup: budget 10 calls per 60 s -> 20 calls per 60 s\n");
  expect_grant(b10,
               "{\"approval\":{\"mode\":\"auto\",\"budget\":{\"calls\":10,\"window_seconds\":30}}}",
               "widened: r lookup: budget 10 calls per 60 s -> 10 calls per 30 s\n");
  expect_grant(b10,
               "{\"approval\":{\"mode\":\"auto\",\"budget\":{\"calls\":5,\"window_seconds\":120}}}",
               "narrowed: r lookup: budget 10 calls per 60 s -> 5 calls per 120 s\n");
  /* More calls in a longer window is not comparable. */
  expect_grant(
      b10, "{\"approval\":{\"mode\":\"auto\",\"budget\":{\"calls\":20,\"window_seconds\":3600}}}",
      "widened: r lookup: budget 10 calls per 60 s -> 20 calls per 3600 s\n");
  expect_grant("{\"approval\":\"required\"}", b10,
               "widened: r lookup: approval required -> auto, 10 calls per 60 s\n");
  /* How long a call waits for a person is not privilege. */
  expect_grant("{\"approval\":\"required\"}",
               "{\"approval\":{\"mode\":\"required\",\"timeout_seconds\":30}}", "");
}

static void diff_writes_switch(void) {
  const char *roles = "\"r\":{\"tools\":{\"lookup\":{},\"store\":{\"approval\":\"required\"}}}";
  char *off = write_catalog_w(NULL, NULL, roles, 0), *on = write_catalog_w(NULL, NULL, roles, 1);
  expect_changes(off, on, "widened: r store: writes enabled\n");
  expect_changes(on, off, "narrowed: r store: writes disabled\n");
  char *none = write_catalog_w(NULL, NULL, "\"r\":{\"tools\":{}}", 0);
  expect_changes(none, off,
                 "granted: r lookup: read, approval none\n"
                 "granted: r store: write (writes off), approval required\n");
  free(off);
  free(on);
  free(none);
}

static void diff_mixed_is_widened(void) {
  expect_grant("{\"approval\":\"auto\",\"envelope\":{\"n\":{\"max\":10}}}",
               "{\"approval\":\"required\",\"envelope\":{\"n\":{\"max\":11}}}",
               "widened: r lookup: approval auto -> required; `n` ≤ `10` -> `11` (raised)\n");
}

static void expect_tool_change(const char *servers, const char *lookup, const char *want) {
  const char *roles = "\"r\":{\"tools\":{\"lookup\":{\"approval\":\"required\"}}}";
  char *a = write_catalog(NULL, NULL, roles);
  char *b = write_catalog(servers, lookup, roles);
  expect_changes(a, b, want);
  free(a);
  free(b);
}

static void diff_tool_changes(void) {
  expect_tool_change(NULL, LOOKUP_AS("write", "svc", "do-lookup", LOOKUP_SCHEMA),
                     "widened: r lookup: access read -> write\n");
  expect_tool_change(
      NULL,
      LOOKUP_AS("read", "svc", "do-lookup",
                "{\"type\":\"object\",\"properties\":{\"q\":{\"type\":\"string\"}}}"),
      "widened: r lookup: schema changed\n");
  expect_tool_change(NULL, LOOKUP_AS("read", "svc", "do-more", LOOKUP_SCHEMA),
                     "widened: r lookup: downstream tool \"do-lookup\" -> \"do-more\"\n");
  expect_tool_change(
      "{\"servers\":{\"svc\":{\"transport\":\"stdio\",\"command\":\"true\"},"
      "\"other\":{\"transport\":\"stdio\",\"command\":\"true\"}}}",
      LOOKUP_AS("read", "other", "do-lookup", LOOKUP_SCHEMA),
      "widened: r lookup: server \"svc\" -> \"other\"\n");
  expect_tool_change(
      "{\"servers\":{\"svc\":{\"transport\":\"stdio\",\"command\":\"true\","
      "\"args\":[\"--all\"]}}}",
      NULL, "widened: r lookup: server \"svc\" runs another command or arguments\n");
  expect_tool_change(
      "{\"servers\":{\"svc\":{\"transport\":\"stdio\",\"command\":\"true\","
      "\"env\":{\"ROOT\":\"/\"}}}}",
      NULL, "widened: r lookup: server \"svc\" environment changed\n");
  expect_tool_change(
      "{\"servers\":{\"svc\":{\"transport\":\"stdio\",\"command\":\"true\","
      "\"cwd\":\"..\"}}}",
      NULL, "widened: r lookup: server \"svc\" working directory \".\" -> \"..\"\n");
  expect_tool_change(
      "{\"servers\":{\"svc\":{\"transport\":\"stdio\",\"command\":\"true\","
      "\"credentials\":[\"TOKEN\",\"KEY\"]}}}",
      NULL, "widened: r lookup: server \"svc\" now gets credentials TOKEN, KEY\n");
  expect_tool_change(NULL,
                     "{\"name\":\"lookup\",\"server\":\"svc\",\"tool\":\"do-lookup\",\"access\":"
                     "\"read\",\"description\":\"Looks up.\",\"inputSchema\":" LOOKUP_SCHEMA
                     ","
                     "\"pin\":{\"description\":\"d\",\"inputSchema\":{}}}",
                     "narrowed: r lookup: pinned\n");
  /* The description is not privilege. */
  expect_tool_change(NULL,
                     "{\"name\":\"lookup\",\"server\":\"svc\",\"tool\":\"do-lookup\",\"access\":"
                     "\"read\",\"description\":\"Finds.\",\"inputSchema\":" LOOKUP_SCHEMA "}",
                     "");
  /* write -> read narrows. */
  const char *roles = "\"r\":{\"tools\":{\"lookup\":{\"approval\":\"required\"}}}";
  char *a = write_catalog(NULL, LOOKUP_AS("write", "svc", "do-lookup", LOOKUP_SCHEMA), roles);
  char *b = write_catalog(NULL, NULL, roles);
  expect_changes(a, b, "narrowed: r lookup: access write -> read\n");
  free(a);
  free(b);
  /* Credentials taken away, a pin removed or changed. */
  a = write_catalog(
      "{\"servers\":{\"svc\":{\"transport\":\"stdio\",\"command\":\"true\","
      "\"credentials\":[\"TOKEN\"]}}}",
      "{\"name\":\"lookup\",\"server\":\"svc\",\"tool\":\"do-lookup\",\"access\":"
      "\"read\",\"description\":\"Looks up.\",\"inputSchema\":" LOOKUP_SCHEMA
      ","
      "\"pin\":{\"description\":\"d\",\"inputSchema\":{}}}",
      roles);
  b = write_catalog(NULL, NULL, roles);
  expect_changes(
      a, b, "widened: r lookup: server \"svc\" no longer gets credentials TOKEN; pin removed\n");
  char *c = write_catalog(
      NULL,
      "{\"name\":\"lookup\",\"server\":\"svc\",\"tool\":\"do-lookup\","
      "\"access\":\"read\",\"description\":\"Looks up.\",\"inputSchema\":" LOOKUP_SCHEMA
      ",\"pin\":{\"description\":\"e\",\"inputSchema\":{}}}",
      roles);
  expect_changes(a, c,
                 "widened: r lookup: server \"svc\" no longer gets credentials TOKEN; "
                 "pin changed\n");
  free(a);
  free(b);
  free(c);
}

/* ---- lint ---- */

static void lint_finds_what_the_loader_allows(void) {
  char *dir = strdup(fx_tmpdir());
  fx_write(dir, "servers.json",
           "{\"servers\":{\"svc\":{\"transport\":\"stdio\",\"command\":\"true\"},"
           "\"idle\":{\"transport\":\"stdio\",\"command\":\"true\"}}}");
  fx_write(dir, "tools/lookup.json",
           LOOKUP_AS("read", "svc", "do-lookup",
                     "{\"type\":\"object\",\"properties\":{\"q\":{\"type\":\"string\","
                     "\"maxLenght\":8,\"x-note\":1},\"n\":{\"type\":\"number\"},"
                     "\"path\":{\"type\":\"string\"}},\"required\":[\"q\",\"path\"],"
                     "\"additionalProperties\":false}"));
  fx_write(dir, "tools/open.json",
           "{\"name\":\"open\",\"server\":\"svc\",\"tool\":\"o\",\"access\":\"read\","
           "\"description\":\"d\",\"inputSchema\":{\"type\":\"object\"}}");
  fx_write(dir, "tools/store.json", STORE);
  fx_write(dir, "matrix.json",
           "{\"roles\":{\"r\":{\"tools\":{\"lookup\":{\"envelope\":{"
           "\"path\":{\"prefix\":\"acme\"},\"n\":{\"max\":5},\"q\":{\"pattern\":\"[a-z]+\"}}}}},"
           "\"s\":{\"tools\":{\"lookup\":{\"envelope\":{\"path\":{\"prefix\":\"$tenant\"},"
           "\"q\":{\"pattern\":\"^[a-z]+\\\\$\"}}},"
           "\"store\":{\"approval\":\"auto\",\"envelope\":{\"path\":{\"prefix\":\"$tenant/\"}}}}},"
           "\"t\":{\"tools\":{\"lookup\":{\"envelope\":{\"q\":{\"pattern\":\"^(a|b)$\"}}},"
           "\"store\":{\"approval\":{\"mode\":\"auto\",\"budget\":{\"calls\":5,\"window_seconds\":"
           "60}}}},"
           "\"resources\":[{\"server\":\"svc\",\"prefix\":\"doc://acme\"}]},"
           "\"empty\":{\"tools\":{}}}}");
  sg_catalog_t *c = load_ok(dir);
  sg_buf_t out;
  sg_buf_init(&out);
  CHECK_INT_EQ(sg_catalog_lint(c, &out), 13);
  CHECK_STR_EQ(
      out.data,
      "matrix.json: /roles/empty/tools: warning: role \"empty\" has no grants\n"
      "matrix.json: /roles/r/tools/lookup/envelope/n: warning: parameter \"n\" has an envelope, "
      "but the schema of \"lookup\" does not require it: clients are told they may leave it "
      "out, and calls that do are refused\n"
      "matrix.json: /roles/r/tools/lookup/envelope/path/prefix: warning: prefix \"acme\" does "
      "not end in \"/\", so it also admits names that merely start with it (\"acme\" admits "
      "\"acmecorp\")\n"
      "matrix.json: /roles/r/tools/lookup/envelope/q/pattern: warning: pattern \"[a-z]+\" is "
      "not anchored with ^ and $, so it admits any value that merely contains a match\n"
      "matrix.json: /roles/s/tools/lookup/envelope/path/prefix: warning: prefix \"$tenant\" "
      "does not end in \"/\", so it also admits names that merely start with it (\"acme\" "
      "admits \"acmecorp\")\n"
      "matrix.json: /roles/s/tools/lookup/envelope/q/pattern: warning: pattern \"^[a-z]+\\$\" "
      "is not anchored with ^ and $, so it admits any value that merely contains a match\n"
      "matrix.json: /roles/s/tools/store/approval: warning: write tool \"store\" is granted "
      "with approval \"auto\" and no budget: any number of its calls run without anyone "
      "approving them\n"
      "matrix.json: /roles/t/resources/0/prefix: warning: prefix \"doc://acme\" does not end "
      "in \"/\", so it also admits names that merely start with it (\"acme\" admits "
      "\"acmecorp\")\n"
      "matrix.json: /writes_enabled: warning: 2 grants of write tools, but \"writes_enabled\" "
      "is not true, so none of them can be called\n"
      "servers.json: /servers/idle: warning: server \"idle\" is used by no tool, prompt or "
      "resource grant\n"
      "tools/lookup.json: /inputSchema/properties/q/maxLenght: warning: \"maxLenght\" is not a "
      "JSON Schema keyword, so validation ignores it (misspelt? extensions start with \"x-\")\n"
      "tools/open.json: /inputSchema: warning: the schema admits parameters it does not declare "
      "(no \"additionalProperties\": false), and they are passed to the downstream unchecked\n"
      "tools/open.json: /name: warning: tool \"open\" is granted to no role\n");
  sg_buf_free(&out);
  sg_catalog_unref(c);
  free(dir);
}

static void lint_of_a_clean_catalog_is_empty(void) {
  char *dir = write_catalog(NULL, NULL,
                            "\"r\":{\"tools\":{\"lookup\":{\"envelope\":{\"path\":{\"prefix\":"
                            "\"$tenant/\"},\"q\":{\"pattern\":\"^(a|b)$\"}}},"
                            "\"store\":{\"approval\":\"required\"}}}");
  sg_catalog_t *c = load_ok(dir);
  sg_buf_t out;
  sg_buf_init(&out);
  size_t n = sg_catalog_lint(c, &out);
  if (n) fprintf(stderr, "%s", out.data);
  CHECK_INT_EQ(n, 0);
  sg_buf_free(&out);
  sg_catalog_unref(c);
  free(dir);
}

/* ---- matrix ---- */

static const char *matrix_roles =
    "\"b\":{\"tools\":{\"store\":{\"approval\":\"required\",\"bind\":{\"path\":\"$subject\"}}}},"
    "\"a\":{\"tools\":{\"lookup\":{\"bind\":{\"tenant_id\":\"$tenant\"},\"envelope\":{"
    "\"path\":{\"prefix\":\"$tenant/$$in/"
    "\"},\"n\":{\"max\":\"$claims.daily_limit\",\"exclusiveMin\":0},"
    "\"cur\":{\"in\":[\"EUR\",\"USD\"]},\"q\":{\"equals\":\"$$x|`y\",\"pattern\":\"^(a|b)$\"}}}}}";

static void matrix_markdown_rows(void) {
  char *dir = write_catalog(NULL, NULL, matrix_roles);
  sg_catalog_t *c = load_ok(dir);
  sg_buf_t out;
  sg_buf_init(&out);
  CHECK_INT_EQ(sg_catalog_matrix_markdown(c, &out), 0);
  CHECK_STR_EQ(
      out.data,
      "| role | tool | access | approval | envelope | bindings |\n"
      "|---|---|---|---|---|---|\n"
      "| a | lookup | read | none | `cur` in `[\"EUR\",\"USD\"]`; `n` ≤ `$claims.daily_limit`; "
      "`n` > `0`; `path` prefix `$tenant/$$in/`; `q` matches `\"^(a\\|b)$\"`; "
      "`q` = ``\"$x\\|`y\"`` | `tenant_id` = `$tenant` |\n"
      "| b | store | write | required | - | `path` = `$subject` |\n");
  sg_buf_free(&out);
  sg_catalog_unref(c);
  free(dir);
}

static void matrix_shows_budgets_and_writes_off(void) {
  char *dir = write_catalog_w(
      NULL, NULL,
      "\"r\":{\"tools\":{\"lookup\":{\"approval\":{\"mode\":\"auto\",\"budget\":{\"calls\":3,"
      "\"window_seconds\":60}}},\"store\":{\"approval\":\"auto\"}}}",
      0);
  sg_catalog_t *c = load_ok(dir);
  sg_buf_t out;
  sg_buf_init(&out);
  CHECK_INT_EQ(sg_catalog_matrix_markdown(c, &out), 0);
  CHECK_STR_EQ(out.data,
               "| role | tool | access | approval | envelope | bindings |\n"
               "|---|---|---|---|---|---|\n"
               "| r | lookup | read | auto, 3 calls per 60 s | - | - |\n"
               "| r | store | write (writes off) | auto | - | - |\n");
  sg_buf_free(&out);
  json_t *m = sg_catalog_matrix_json(c);
  CHECK(json_is_false(json_object_get(m, "writes_enabled")));
  json_t *budget = json_object_get(json_array_get(json_object_get(m, "tools"), 0), "budget");
  CHECK_INT_EQ(json_integer_value(json_object_get(budget, "calls")), 3);
  CHECK_INT_EQ(json_integer_value(json_object_get(budget, "window_seconds")), 60);
  json_decref(m);
  sg_catalog_unref(c);
  free(dir);
}

static void matrix_json_rows(void) {
  char *dir = write_catalog(NULL, NULL, matrix_roles);
  sg_catalog_t *c = load_ok(dir);
  json_t *rows = sg_catalog_matrix_json(c);
  CHECK(rows != NULL);
  char *text = json_dumps(rows, JSON_COMPACT | JSON_SORT_KEYS);
  CHECK_STR_EQ(text,
               "{\"prompts\":[],\"resources\":[],\"tools\":"
               "[{\"access\":\"read\",\"approval\":\"none\",\"approval_timeout_seconds\":null,"
               "\"bind\":{\"tenant_id\":\"$tenant\"},\"budget\":null,\"downstream_tool\":\"do-"
               "lookup\",\"envelope\":{\"cur\":{\"in\":[\"EUR\",\"USD\"]},"
               "\"n\":{\"exclusiveMin\":0,\"max\":\"$claims.daily_limit\"},"
               "\"path\":{\"prefix\":\"$tenant/$$in/"
               "\"},\"q\":{\"equals\":\"$$x|`y\",\"pattern\":\"^(a|b)$\"}},"
               "\"role\":\"a\",\"server\":\"svc\",\"tool\":\"lookup\"},"
               "{\"access\":\"write\",\"approval\":\"required\",\"approval_timeout_seconds\":300,"
               "\"bind\":{\"path\":\"$subject\"},\"budget\":null,\"downstream_tool\":\"do-store\","
               "\"envelope\":{},\"role\":\"b\",\"server\":\"svc\",\"tool\":\"store\"}],"
               "\"writes_enabled\":true}");
  free(text);
  json_decref(rows);
  sg_catalog_unref(c);
  free(dir);
}

/* ---- prompts and resources ---- */

#define PROMPT(name, server, downstream, args)                                \
  "{\"name\":\"" name "\",\"server\":\"" server "\",\"prompt\":\"" downstream \
  "\","                                                                       \
  "\"description\":\"A brief.\",\"arguments\":" args "}"
#define TWO_SERVERS                                                       \
  "{\"servers\":{\"svc\":{\"transport\":\"stdio\",\"command\":\"true\"}," \
  "\"docs\":{\"transport\":\"stdio\",\"command\":\"true\"}}}"

/* A catalog with prompts "brief" and "other" (served by docs) and the given roles. */
static char *write_access_catalog(const char *brief, const char *roles) {
  char *dir = write_catalog(TWO_SERVERS, NULL, roles);
  char path[512];
  snprintf(path, sizeof path, "%s/prompts", dir);
  mkdir(path, 0700);
  fx_write(dir, "prompts/brief.json",
           brief ? brief : PROMPT("brief", "docs", "make-brief", "[{\"name\":\"city\"}]"));
  fx_write(dir, "prompts/other.json", PROMPT("other", "docs", "other", "[]"));
  return dir;
}

static void expect_access(const char *old_brief, const char *old_role, const char *new_brief,
                          const char *new_role, const char *want) {
  char roles[2048];
  snprintf(roles, sizeof roles, "\"r\":{\"tools\":{\"lookup\":{}},%s}", old_role);
  char *a = write_access_catalog(old_brief, roles);
  snprintf(roles, sizeof roles, "\"r\":{\"tools\":{\"lookup\":{}},%s}", new_role);
  char *b = write_access_catalog(new_brief, roles);
  expect_changes(a, b, want);
  free(a);
  free(b);
}

static void diff_prompts(void) {
  const char *both = "\"prompts\":{\"brief\":{},\"other\":{}}";
  expect_access(NULL, "\"prompts\":{\"brief\":{}}", NULL, "\"prompts\":{\"other\":{}}",
                "revoked: r prompt brief: server \"docs\"\n"
                "granted: r prompt other: server \"docs\"\n");
  expect_access(NULL, both,
                PROMPT("brief", "docs", "make-brief", "[{\"name\":\"city\"},{\"name\":\"x\"}]"),
                both, "widened: r prompt brief: arguments changed\n");
  expect_access(NULL, both, PROMPT("brief", "svc", "make-longer-brief", "[{\"name\":\"city\"}]"),
                both,
                "widened: r prompt brief: server \"docs\" -> \"svc\"; downstream prompt "
                "\"make-brief\" -> \"make-longer-brief\"\n");
  /* Not granted anywhere: a change to it changes no privilege. */
  expect_access(NULL, "\"prompts\":{}", PROMPT("brief", "svc", "x", "[]"), "\"prompts\":{}", "");
}

#define RES(server, prefix) "{\"server\":\"" server "\",\"prefix\":\"" prefix "\"}"

static void diff_resources(void) {
  expect_access(NULL, "\"resources\":[" RES("docs", "doc://a/") "]", NULL,
                "\"resources\":[" RES("docs", "doc://a/") "," RES("svc", "svc://x/") "]",
                "granted: r resources on svc: `svc://x/`\n");
  expect_access(NULL, "\"resources\":[" RES("docs", "doc://a/") "," RES("docs", "doc://b/") "]",
                NULL, "\"resources\":[" RES("docs", "doc://b/") "]",
                "revoked: r resources on docs: `doc://a/`\n");
  expect_access(NULL, "\"resources\":[" RES("docs", "doc://a/b/") "]", NULL,
                "\"resources\":[" RES("docs", "doc://a/") "]",
                "widened: r resources on docs: `doc://a/b/` -> `doc://a/` (shortened)\n");
  expect_access(NULL, "\"resources\":[" RES("docs", "doc://a/") "]", NULL,
                "\"resources\":[" RES("docs", "doc://a/$tenant/") "]",
                "narrowed: r resources on docs: `doc://a/` -> `doc://a/$tenant/` (lengthened)\n");
  expect_access(NULL, "\"resources\":[" RES("docs", "doc://$tenant/") "]", NULL,
                "\"resources\":[" RES("docs", "doc://$tenant/in/") "]",
                "narrowed: r resources on docs: `doc://$tenant/` -> `doc://$tenant/in/` "
                "(lengthened)\n");
  /* Another context value is neither wider nor narrower: granted and revoked. */
  expect_access(NULL, "\"resources\":[" RES("docs", "doc://$tenant/") "]", NULL,
                "\"resources\":[" RES("docs", "doc://$subject/") "]",
                "granted: r resources on docs: `doc://$subject/`\n"
                "revoked: r resources on docs: `doc://$tenant/`\n");
  /* The same prefix on another server is another grant. */
  expect_access(NULL, "\"resources\":[" RES("docs", "doc://a/") "]", NULL,
                "\"resources\":[" RES("svc", "doc://a/") "]",
                "granted: r resources on svc: `doc://a/`\n"
                "revoked: r resources on docs: `doc://a/`\n");
  /* A prefix inside one that stays adds nothing; order does not matter. */
  expect_access(NULL, "\"resources\":[" RES("docs", "doc://a/") "," RES("docs", "doc://b/") "]",
                NULL,
                "\"resources\":[" RES("docs", "doc://b/") "," RES("docs", "doc://a/") "," RES(
                    "docs", "doc://a/x/") "]",
                "");
}

static void diff_prefix_templates(void) {
  expect_grant("{\"envelope\":{\"path\":{\"prefix\":\"acme/\"}}}",
               "{\"envelope\":{\"path\":{\"prefix\":\"acme/$subject/\"}}}",
               "narrowed: r lookup: `path` prefix `\"acme/\"` -> `acme/$subject/` (lengthened)\n");
  expect_grant("{\"envelope\":{\"path\":{\"prefix\":\"acme/$subject/\"}}}",
               "{\"envelope\":{\"path\":{\"prefix\":\"acme/\"}}}",
               "widened: r lookup: `path` prefix `acme/$subject/` -> `\"acme/\"` (shortened)\n");
  expect_grant("{\"envelope\":{\"path\":{\"prefix\":\"a/$tenant/\"}}}",
               "{\"envelope\":{\"path\":{\"prefix\":\"b/$tenant/\"}}}",
               "widened: r lookup: `path` prefix `a/$tenant/` -> `b/$tenant/` (changed)\n");
}

static void matrix_prompts_and_resources(void) {
  char *dir = write_access_catalog(
      NULL, "\"r\":{\"tools\":{\"lookup\":{}},\"prompts\":{\"brief\":{}},"
            "\"resources\":[" RES("svc", "svc://$tenant/") "," RES("docs", "doc://a$$b/") "]},"
            "\"s\":{\"tools\":{},\"prompts\":{\"other\":{}}}");
  sg_catalog_t *c = load_ok(dir);
  sg_buf_t out;
  sg_buf_init(&out);
  CHECK_INT_EQ(sg_catalog_matrix_markdown(c, &out), 0);
  CHECK_STR_EQ(out.data,
               "| role | tool | access | approval | envelope | bindings |\n"
               "|---|---|---|---|---|---|\n"
               "| r | lookup | read | none | - | - |\n"
               "\n| role | prompt | server |\n|---|---|---|\n"
               "| r | brief | docs |\n"
               "| s | other | docs |\n"
               "\n| role | resources under | server |\n|---|---|---|\n"
               "| r | `doc://a$$b/` | docs |\n"
               "| r | `svc://$tenant/` | svc |\n");
  json_t *m = sg_catalog_matrix_json(c);
  char *text = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
  CHECK_STR_EQ(
      text,
      "{\"prompts\":[{\"downstream_prompt\":\"make-brief\",\"prompt\":\"brief\",\"role\":\"r\","
      "\"server\":\"docs\"},{\"downstream_prompt\":\"other\",\"prompt\":\"other\",\"role\":\"s\","
      "\"server\":\"docs\"}],\"resources\":[{\"prefix\":\"doc://a$$b/\",\"role\":\"r\","
      "\"server\":\"docs\"},{\"prefix\":\"svc://$tenant/\",\"role\":\"r\",\"server\":\"svc\"}],"
      "\"tools\":[{\"access\":\"read\",\"approval\":\"none\",\"approval_timeout_seconds\":null,"
      "\"bind\":{},\"budget\":null,\"downstream_tool\":\"do-lookup\",\"envelope\":{},"
      "\"role\":\"r\",\"server\":\"svc\",\"tool\":\"lookup\"}],\"writes_enabled\":true}");
  free(text);
  json_decref(m);
  sg_buf_free(&out);
  /* A role with only prompts has grants; a server used only by prompts is used. */
  CHECK_INT_EQ(sg_catalog_lint(c, &out), 1);
  CHECK_STR_EQ(out.data,
               "tools/store.json: /name: warning: tool \"store\" is granted to no role\n");
  sg_buf_free(&out);
  sg_catalog_unref(c);
  free(dir);
}

const sg_test_t sg_suite_review[] = {
    {"diff_of_equal_catalogs_is_empty", diff_of_equal_catalogs_is_empty},
    {"diff_roles_added_and_removed", diff_roles_added_and_removed},
    {"diff_grants_granted_and_revoked", diff_grants_granted_and_revoked},
    {"diff_approval", diff_approval},
    {"diff_bounds", diff_bounds},
    {"diff_in_lists", diff_in_lists},
    {"diff_prefixes", diff_prefixes},
    {"diff_patterns_and_equals", diff_patterns_and_equals},
    {"diff_bindings", diff_bindings},
    {"diff_budgets", diff_budgets},
    {"diff_writes_switch", diff_writes_switch},
    {"diff_mixed_is_widened", diff_mixed_is_widened},
    {"diff_tool_changes", diff_tool_changes},
    {"lint_finds_what_the_loader_allows", lint_finds_what_the_loader_allows},
    {"lint_of_a_clean_catalog_is_empty", lint_of_a_clean_catalog_is_empty},
    {"matrix_markdown_rows", matrix_markdown_rows},
    {"matrix_json_rows", matrix_json_rows},
    {"matrix_shows_budgets_and_writes_off", matrix_shows_budgets_and_writes_off},
    {"diff_prompts", diff_prompts},
    {"diff_resources", diff_resources},
    {"diff_prefix_templates", diff_prefix_templates},
    {"matrix_prompts_and_resources", matrix_prompts_and_resources},
    SG_SUITE_END};
