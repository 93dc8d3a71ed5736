/*
 * Unit tests for src/catalog: the example catalog loads; broken catalogs are refused
 * with every problem named by file and JSON Pointer.
 */
#include <string.h>

#include "catalog/catalog.h"
#include "core/error.h"
#include "fixtures.h"
#include "runner.h"

static void example_catalog_loads(void) {
  char dir[512];
  sg_test_path("../catalog", dir, sizeof dir);
  sg_catalog_t *c = NULL;
  sg_buf_t errors;
  sg_buf_init(&errors);
  int rc = sg_catalog_load(dir, &c, &errors);
  if (rc) fprintf(stderr, "%s", errors.data);
  CHECK_INT_EQ(rc, 0);
  CHECK(c->ntools >= 6);
  const sg_tool_t *echo = sg_catalog_tool(c, "echo");
  CHECK(echo != NULL);
  CHECK_STR_EQ(echo->server->name, "everything");
  CHECK_STR_EQ(echo->downstream_name, "echo");
  CHECK(sg_catalog_tool(c, "get-env") == NULL);
  const sg_role_t *viewer = sg_catalog_role(c, "viewer");
  const sg_role_t *editor = sg_catalog_role(c, "editor");
  CHECK(viewer && editor);
  CHECK(sg_role_grant(viewer, "write_file") == NULL);
  CHECK(sg_role_grant(editor, "write_file") != NULL);
  CHECK_INT_EQ(json_array_size(viewer->tool_listing), viewer->ngrants);
  /* Listings are in name order and carry the catalog's schema. */
  json_t *first = json_array_get(viewer->tool_listing, 0);
  CHECK_STR_EQ(json_string_value(json_object_get(first, "name")), "add");
  CHECK(json_equal(json_object_get(json_array_get(viewer->tool_listing, 1), "inputSchema"),
                   echo->input_schema));
  sg_catalog_unref(c);
  sg_buf_free(&errors);
}

/* Loads dir, expects failure, and returns the problem text (static storage). */
static const char *load_fails(const char *dir) {
  static char text[8192];
  sg_catalog_t *c = NULL;
  sg_buf_t errors;
  sg_buf_init(&errors);
  CHECK_INT_EQ(sg_catalog_load(dir, &c, &errors), SG_ECATALOG);
  CHECK(c == NULL);
  snprintf(text, sizeof text, "%s", errors.data ? errors.data : "");
  sg_buf_free(&errors);
  return text;
}

static void small_catalog_loads(void) {
  sg_catalog_t *c = NULL;
  sg_buf_t errors;
  sg_buf_init(&errors);
  CHECK_INT_EQ(sg_catalog_load(fx_small_catalog("required"), &c, &errors), 0);
  const sg_role_t *w = sg_catalog_role(c, "writer");
  CHECK_INT_EQ(sg_role_grant(w, "store")->approval, SG_APPROVAL_REQUIRED);
  CHECK_INT_EQ(sg_role_grant(w, "lookup")->approval, SG_APPROVAL_NONE);
  sg_catalog_unref(c);
}

static void problems_name_file_and_pointer(void) {
  const char *dir = fx_small_catalog("auto");
  fx_write(dir, "matrix.json",
           "{\"roles\":{\"reader\":{\"tools\":{\"lookup\":{},\"nope\":{},\"l*\":{}}},"
           "\"writer\":{\"tools\":{\"store\":{}, \"lookup\":{\"scope\":{}}}}}}");
  const char *t = load_fails(dir);
  CHECK(strstr(t, "matrix.json: /roles/reader/tools/nope: grants unknown tool \"nope\"") != NULL);
  CHECK(strstr(t, "matrix.json: /roles/reader/tools/l*: wildcards are not allowed") != NULL);
  CHECK(strstr(t, "matrix.json: /roles/writer/tools/store: write tool \"store\" needs an approval mode") != NULL);
  CHECK(strstr(t, "matrix.json: /roles/writer/tools/lookup/scope: unknown field") != NULL);
}

static void tool_file_problems(void) {
  const char *dir = fx_small_catalog("auto");
  fx_write(dir, "tools/bad.json",
           "{\"name\":\"bad tool\",\"server\":\"ghost\",\"tool\":\"x\",\"access\":\"admin\","
           "\"description\":\"d\",\"inputSchema\":{\"type\":\"array\"},\"acess\":\"read\"}");
  const char *t = load_fails(dir);
  CHECK(strstr(t, "tools/bad.json: /name: tool names use") != NULL);
  CHECK(strstr(t, "tools/bad.json: /server: no server \"ghost\"") != NULL);
  CHECK(strstr(t, "tools/bad.json: /access: must be \"read\" or \"write\"") != NULL);
  CHECK(strstr(t, "tools/bad.json: /inputSchema/type:") != NULL);
  CHECK(strstr(t, "tools/bad.json: /acess: unknown field") != NULL);
}

static void schema_that_does_not_compile(void) {
  const char *dir = fx_small_catalog("auto");
  fx_write(dir, "tools/re.json",
           "{\"name\":\"re\",\"server\":\"svc\",\"tool\":\"x\",\"access\":\"read\","
           "\"description\":\"d\",\"inputSchema\":{\"type\":\"object\",\"properties\":"
           "{\"p\":{\"type\":\"string\",\"pattern\":\"([a-z\"}}}}");
  const char *t = load_fails(dir);
  CHECK(strstr(t, "tools/re.json: /inputSchema/properties/p/pattern: schema does not compile") != NULL);
}

static void duplicate_keys_and_syntax(void) {
  const char *dir = fx_small_catalog("auto");
  fx_write(dir, "servers.json",
           "{\"servers\":{\"svc\":{\"transport\":\"stdio\",\"command\":\"a\",\"command\":\"b\"}}}");
  const char *t = load_fails(dir);
  CHECK(strstr(t, "servers.json:") != NULL);
  CHECK(strstr(t, "duplicate") != NULL);
  fx_write(dir, "servers.json", "{\"servers\":{\"svc\":{\"transport\":\"ftp\",\"command\":\"a\"}}}");
  t = load_fails(dir);
  CHECK(strstr(t, "servers.json: /servers/svc/transport: must be \"stdio\" or \"http\"") != NULL);
  fx_write(dir, "servers.json", "{\"servers\":{\"svc\":{\"transport\":\"http\",\"command\":\"a\"}}}");
  t = load_fails(dir);
  CHECK(strstr(t, "servers.json: /servers/svc/command: is only for \"stdio\" servers") != NULL);
  CHECK(strstr(t, "servers.json: /servers/svc: missing required field \"url\"") != NULL);
  fx_write(dir, "servers.json",
           "{\"servers\":{\"svc\":{\"transport\":\"http\",\"url\":\"http://x/mcp\","
           "\"protocol\":\"2026-07\"}}}");
  t = load_fails(dir);
  CHECK(strstr(t, "servers.json: /servers/svc/protocol: must be \"2025-11-25\"") != NULL);
  fx_write(dir, "servers.json",
           "{\"servers\":{\"svc\":{\"transport\":\"stdio\",\"command\":\"a\","
           "\"protocol\":\"2026-07-28\"}}}");
  t = load_fails(dir);
  CHECK(strstr(t, "servers.json: /servers/svc/protocol: is only for \"http\" servers") != NULL);
}

/* An http server's "protocol" names the era scopegate speaks to it; without it, sessions. */
static void http_protocols_load(void) {
  static const struct {
    const char *value;
    sg_ds_protocol_t want;
  } cases[] = {{NULL, SG_DS_PROTO_SESSION},
               {"2025-11-25", SG_DS_PROTO_SESSION},
               {"2026-07-28", SG_DS_PROTO_STATELESS},
               {"auto", SG_DS_PROTO_AUTO}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *dir = fx_small_catalog("auto");
    char servers[256];
    snprintf(servers, sizeof servers,
             "{\"servers\":{\"svc\":{\"transport\":\"http\",\"url\":\"http://x/mcp\"%s%s%s}}}",
             cases[i].value ? ",\"protocol\":\"" : "", cases[i].value ? cases[i].value : "",
             cases[i].value ? "\"" : "");
    fx_write(dir, "servers.json", servers);
    sg_catalog_t *c = NULL;
    sg_buf_t errors;
    sg_buf_init(&errors);
    CHECK_INT_EQ(sg_catalog_load(dir, &c, &errors), 0);
    CHECK_INT_EQ(sg_catalog_server(c, "svc")->protocol, cases[i].want);
    sg_buf_free(&errors);
    sg_catalog_unref(c);
  }
}

static void missing_directory(void) {
  const char *t = load_fails("/nonexistent/catalog");
  CHECK(strstr(t, "catalog directory does not exist") != NULL);
}

const sg_test_t sg_suite_catalog[] = {
    {"example_catalog_loads", example_catalog_loads},
    {"small_catalog_loads", small_catalog_loads},
    {"http_protocols_load", http_protocols_load},
    {"problems_name_file_and_pointer", problems_name_file_and_pointer},
    {"tool_file_problems", tool_file_problems},
    {"schema_that_does_not_compile", schema_that_does_not_compile},
    {"duplicate_keys_and_syntax", duplicate_keys_and_syntax},
    {"missing_directory", missing_directory},
    SG_SUITE_END};
