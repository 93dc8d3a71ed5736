/*
 * Loading a catalog directory. Every file is read strictly (duplicate keys and unknown
 * fields are errors, so a misspelt restriction is never silently ignored) and every
 * problem is reported, not just the first, with the file and a JSON Pointer to the
 * offending value. Only a catalog without problems is returned.
 */
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "catalog/loader.h"
#include "core/error.h"
#include "json/parse.h"
#include "json/pointer.h"
#include "schema/resolver.h"

#define problem sg__problem
#define ptr_join sg__ptr_join
#define only_keys sg__only_keys
typedef sg__loader_t loader_t;

void sg__problem(sg__loader_t *l, const char *ptr, const char *fmt, ...) {
  l->count++;
  if (l->errors == NULL) return;
  sg_buf_printf(l->errors, "%s: %s: ", l->file, ptr[0] ? ptr : "(root)");
  va_list ap;
  va_start(ap, fmt);
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  sg_buf_printf(l->errors, "%s\n", msg);
}

void sg__ptr_join(char *out, size_t outlen, const char *base, const char *token) {
  snprintf(out, outlen, "%s", base);
  sg_json_pointer_append(out, outlen, token);
}

void sg__only_keys(sg__loader_t *l, json_t *obj, const char *ptr, const char *const *allowed) {
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    int ok = 0;
    for (const char *const *a = allowed; *a; a++)
      if (strcmp(*a, key) == 0) ok = 1;
    if (!ok) {
      char p[512];
      ptr_join(p, sizeof p, ptr, key);
      problem(l, p, "unknown field \"%s\"", key);
    }
  }
}

#define req_string sg__req_string
#define load_json sg__load_json

/* Returns a copy of obj[key] when it is a non-empty string; reports otherwise. */
char *sg__req_string(loader_t *l, json_t *obj, const char *ptr, const char *key) {
  char p[512];
  ptr_join(p, sizeof p, ptr, key);
  json_t *v = json_object_get(obj, key);
  if (v == NULL) {
    problem(l, ptr, "missing required field \"%s\"", key);
    return NULL;
  }
  if (!json_is_string(v) || json_string_length(v) == 0) {
    problem(l, p, "must be a non-empty string");
    return NULL;
  }
  return strdup(json_string_value(v));
}

static uint64_t opt_ms(loader_t *l, json_t *obj, const char *ptr, const char *key,
                       uint64_t dflt) {
  json_t *v = json_object_get(obj, key);
  if (v == NULL) return dflt;
  if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
      json_integer_value(v) > 24 * 3600 * 1000) {
    char p[512];
    ptr_join(p, sizeof p, ptr, key);
    problem(l, p, "must be a positive number of milliseconds (at most one day)");
    return dflt;
  }
  return (uint64_t)json_integer_value(v);
}

json_t *sg__load_json(loader_t *l, const char *dir, const char *rel) {
  char path[PATH_MAX], err[PATH_MAX + 256];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  json_t *v = NULL;
  l->file = rel;
  if (sg_json_load_file(path, &v, err, sizeof err) != 0) {
    problem(l, "", "%s", err);
    return NULL;
  }
  if (!json_is_object(v)) {
    problem(l, "", "must be a JSON object");
    json_decref(v);
    return NULL;
  }
  return v;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *resolve_dir(const char *base, const char *rel) {
  char joined[PATH_MAX], real[PATH_MAX];
  if (rel[0] == '/') snprintf(joined, sizeof joined, "%s", rel);
  else snprintf(joined, sizeof joined, "%s/%s", base, rel);
  if (realpath(joined, real) == NULL) return NULL;
  return strdup(real);
}

/* A server scopegate spawns: command, args, cwd and env. */
static void load_stdio_server(loader_t *l, sg_catalog_t *c, json_t *s, const char *ptr,
                              sg_server_conf_t *sc) {
  char p[512];
  sc->command = req_string(l, s, ptr, "command");
  json_t *args = json_object_get(s, "args");
  size_t nargs = json_is_array(args) ? json_array_size(args) : 0;
  if (args && !json_is_array(args)) {
    ptr_join(p, sizeof p, ptr, "args");
    problem(l, p, "must be an array of strings");
  }
  sc->argv = calloc(nargs + 2, sizeof *sc->argv);
  sc->argv[0] = strdup(sc->command ? sc->command : "");
  for (size_t i = 0; i < nargs; i++) {
    json_t *a = json_array_get(args, i);
    if (!json_is_string(a)) {
      ptr_join(p, sizeof p, ptr, "args");
      sg_json_pointer_append_index(p, sizeof p, i);
      problem(l, p, "must be a string");
    }
    sc->argv[i + 1] = strdup(json_is_string(a) ? json_string_value(a) : "");
  }
  const char *cwd = json_string_value(json_object_get(s, "cwd"));
  sc->cwd = resolve_dir(c->dir, cwd ? cwd : ".");
  if (sc->cwd == NULL) {
    ptr_join(p, sizeof p, ptr, "cwd");
    problem(l, p, "directory \"%s\" does not exist (relative paths start at the catalog)",
            cwd ? cwd : ".");
  }
  json_t *env = json_object_get(s, "env");
  sc->env = calloc((env ? json_object_size(env) : 0) + 1, sizeof *sc->env);
  if (env && !json_is_object(env)) {
    ptr_join(p, sizeof p, ptr, "env");
    problem(l, p, "must be an object of strings");
  } else if (env) {
    const char *k;
    json_t *v;
    size_t i = 0;
    json_object_foreach(env, k, v) {
      if (!json_is_string(v) || k[0] == '\0' || strchr(k, '=')) {
        ptr_join(p, sizeof p, ptr, "env");
        sg_json_pointer_append(p, sizeof p, k);
        problem(l, p, "must be a string under a name without '='");
        continue;
      }
      size_t n = strlen(k) + json_string_length(v) + 2;
      sc->env[i] = malloc(n);
      snprintf(sc->env[i++], n, "%s=%s", k, json_string_value(v));
    }
  }
}

/* An HTTP header name: an RFC 9110 token. */
static int header_name_ok(const char *k) {
  if (k == NULL || *k == '\0') return 0;
  for (; *k; k++)
    if (!(isalnum((unsigned char)*k) || strchr("!#$%&'*+-.^_`|~", *k))) return 0;
  return 1;
}

/* A server reached over Streamable HTTP: url and headers. The process fields are filled
 * so that code comparing definitions compares endpoints (see catalog.h). */
static void load_http_server(loader_t *l, sg_catalog_t *c, json_t *s, const char *ptr,
                             sg_server_conf_t *sc) {
  char p[512];
  static const char *const stdio_only[] = {"command", "args", "cwd", "env", NULL};
  for (const char *const *k = stdio_only; *k; k++)
    if (json_object_get(s, *k)) {
      ptr_join(p, sizeof p, ptr, *k);
      problem(l, p, "is only for \"stdio\" servers");
    }
  sc->transport = SG_DS_HTTP;
  sc->command = req_string(l, s, ptr, "url");
  if (sc->command == NULL) sc->command = strdup("");
  else if (strncmp(sc->command, "http://", 7) != 0 && strncmp(sc->command, "https://", 8) != 0) {
    ptr_join(p, sizeof p, ptr, "url");
    problem(l, p, "must be an http:// or https:// URL");
  }
  sc->url = sc->command;
  json_t *protocol = json_object_get(s, "protocol");
  if (protocol) {
    const char *v = json_string_value(protocol);
    if (v && strcmp(v, "2025-11-25") == 0) sc->protocol = SG_DS_PROTO_SESSION;
    else if (v && strcmp(v, "2026-07-28") == 0) sc->protocol = SG_DS_PROTO_STATELESS;
    else if (v && strcmp(v, "auto") == 0) sc->protocol = SG_DS_PROTO_AUTO;
    else {
      ptr_join(p, sizeof p, ptr, "protocol");
      problem(l, p,
              "must be \"2025-11-25\" (sessions, the default), \"2026-07-28\" (stateless) or "
              "\"auto\"");
    }
  }
  sc->argv = calloc(2, sizeof *sc->argv);
  sc->argv[0] = strdup(sc->command);
  sc->cwd = resolve_dir(c->dir, ".");
  json_t *headers = json_object_get(s, "headers");
  sc->env = calloc((json_is_object(headers) ? json_object_size(headers) : 0) + 1, sizeof *sc->env);
  if (headers && !json_is_object(headers)) {
    ptr_join(p, sizeof p, ptr, "headers");
    problem(l, p, "must be an object of strings");
    return;
  }
  const char *k;
  json_t *v;
  size_t i = 0;
  json_object_foreach(headers, k, v) {
    const char *text = json_string_value(v);
    if (!header_name_ok(k) || text == NULL || strpbrk(text, "\r\n")) {
      ptr_join(p, sizeof p, ptr, "headers");
      sg_json_pointer_append(p, sizeof p, k);
      problem(l, p, "must be a one-line string under an HTTP header name");
      continue;
    }
    size_t n = strlen(k) + strlen(text) + 2;
    sc->env[i] = malloc(n);
    snprintf(sc->env[i++], n, "%s=%s", k, text);
  }
}

static void load_servers(loader_t *l, sg_catalog_t *c) {
  static const char *const top_keys[] = {"servers", NULL};
  static const char *const server_keys[] = {
      "transport",       "command",          "args",        "cwd", "env",
      "call_timeout_ms", "startup_timeout_ms", "credentials", "url", "headers", "protocol", NULL};
  json_t *root = load_json(l, c->dir, "servers.json");
  if (root == NULL) return;
  only_keys(l, root, "", top_keys);
  json_t *servers = json_object_get(root, "servers");
  if (!json_is_object(servers) || json_object_size(servers) == 0) {
    problem(l, "/servers", "must be an object naming at least one server");
    json_decref(root);
    return;
  }
  c->servers = calloc(json_object_size(servers), sizeof *c->servers);
  const char *name;
  json_t *s;
  json_object_foreach(servers, name, s) {
    char ptr[512], p[512];
    ptr_join(ptr, sizeof ptr, "/servers", name);
    if (!json_is_object(s)) {
      problem(l, ptr, "must be an object");
      continue;
    }
    only_keys(l, s, ptr, server_keys);
    sg_server_conf_t *sc = &c->servers[c->nservers++];
    sc->name = strdup(name);
    const char *transport = json_string_value(json_object_get(s, "transport"));
    int http = transport && strcmp(transport, "http") == 0;
    if (transport == NULL || (!http && strcmp(transport, "stdio") != 0)) {
      ptr_join(p, sizeof p, ptr, "transport");
      problem(l, p, "must be \"stdio\" or \"http\"");
    }
    if (http) {
      load_http_server(l, c, s, ptr, sc);
    } else {
      static const char *const http_only[] = {"url", "headers", "protocol", NULL};
      for (const char *const *k = http_only; *k; k++)
        if (json_object_get(s, *k)) {
          ptr_join(p, sizeof p, ptr, *k);
          problem(l, p, "is only for \"http\" servers");
        }
      load_stdio_server(l, c, s, ptr, sc);
    }
    json_t *creds = json_object_get(s, "credentials");
    sc->credentials = calloc((json_is_array(creds) ? json_array_size(creds) : 0) + 1,
                             sizeof *sc->credentials);
    if (creds && !json_is_array(creds)) {
      ptr_join(p, sizeof p, ptr, "credentials");
      problem(l, p, "must be an array of environment variable names");
    }
    for (size_t i = 0, k = 0; json_is_array(creds) && i < json_array_size(creds); i++) {
      const char *var = json_string_value(json_array_get(creds, i));
      if (var == NULL || var[0] == '\0' || strchr(var, '=') ||
          (sc->transport == SG_DS_HTTP && !header_name_ok(var))) {
        ptr_join(p, sizeof p, ptr, "credentials");
        sg_json_pointer_append_index(p, sizeof p, i);
        problem(l, p, sc->transport == SG_DS_HTTP ? "must be an HTTP header name"
                                                  : "must be an environment variable name");
        continue;
      }
      sc->credentials[k++] = strdup(var);
    }
    sc->call_timeout_ms = opt_ms(l, s, ptr, "call_timeout_ms", 120000);
    sc->startup_timeout_ms = opt_ms(l, s, ptr, "startup_timeout_ms", 20000);
  }
  qsort(c->servers, c->nservers, sizeof *c->servers, cmp_names);
  json_decref(root);
}

static int tool_name_ok(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > 128) return 0;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '_' || *p == '-' || *p == '.'))
      return 0;
  return 1;
}

/* Compiles a tool's input schema. Its $refs may name shared schema files under the
 * catalog directory or in the project's schemas/ folder beside it (CATALOG/../schemas);
 * relative ones resolve against the tool's own file, and nothing else is ever read (see
 * src/schema/resolver.h). Clients, lint and diff see the schema with those $refs
 * inlined (t->input_schema), so what they read is what is enforced. */
static void compile_tool_schema(loader_t *l, sg_catalog_t *c, sg_tool_t *t, const char *rel,
                                json_t *schema) {
  char path[2 * PATH_MAX + 2], shared[PATH_MAX + 16], uri[3 * PATH_MAX + 16], p[600];
  snprintf(path, sizeof path, "%s/%s", c->dir, rel);
  snprintf(shared, sizeof shared, "%s/../schemas", c->dir);
  sg_schema_resolver_t *r = sg_schema_resolver_new();
  sg_schema_opts_t opts = {.base_uri = uri};
  sg_schema_error_t serr;
  t->schema = NULL;
  t->input_schema = NULL;
  if (r == NULL || sg_schema_file_uri(path, uri, sizeof uri) != 0 ||
      sg_schema_resolver_allow(r, c->dir) != 0) {
    problem(l, "/inputSchema", "cannot prepare the schema's file references");
  } else {
    sg_schema_resolver_allow(r, shared); /* there may be no schemas/ folder */
    sg_schema_resolver_use(r, &opts);
    if (sg_schema_compile(schema, &opts, &t->schema, &serr) != 0) {
      const char *why = sg_schema_resolver_error(r);
      snprintf(p, sizeof p, "/inputSchema%s", serr.keyword_location);
      problem(l, p, "schema does not compile: %s%s%s%s", serr.message, why[0] ? " (" : "", why,
              why[0] ? ")" : "");
      t->schema = NULL;
    } else if (sg_schema_inline_refs(schema, &opts, &t->input_schema, &serr) != 0) {
      snprintf(p, sizeof p, "/inputSchema%s", serr.keyword_location);
      problem(l, p, "%s", serr.message);
    }
  }
  if (t->input_schema == NULL) t->input_schema = json_incref(schema);
  sg_schema_resolver_free(r);
}

static void load_tool(loader_t *l, sg_catalog_t *c, const char *rel) {
  static const char *const keys[] = {"name",        "title",       "server", "tool",      "access",
                                     "description", "inputSchema", "pin",    "sensitive", NULL};
  static const char *const pin_keys[] = {"description", "inputSchema", NULL};
  json_t *root = load_json(l, c->dir, rel);
  if (root == NULL) return;
  only_keys(l, root, "", keys);
  sg_tool_t *t = &c->tools[c->ntools++];
  t->file = strdup(rel);
  t->name = req_string(l, root, "", "name");
  if (t->name && !tool_name_ok(t->name))
    problem(l, "/name", "tool names use 1 to 128 of A-Z a-z 0-9 _ - .");
  char *server = req_string(l, root, "", "server");
  if (server && (t->server = sg_catalog_server(c, server)) == NULL)
    problem(l, "/server", "no server \"%s\" in servers.json", server);
  free(server);
  t->downstream_name = req_string(l, root, "", "tool");
  t->description = req_string(l, root, "", "description");
  char *access = req_string(l, root, "", "access");
  if (access && strcmp(access, "write") == 0) t->access = SG_ACCESS_WRITE;
  else if (access && strcmp(access, "read") != 0)
    problem(l, "/access", "must be \"read\" or \"write\"");
  free(access);
  json_t *title = json_object_get(root, "title");
  if (title && !json_is_string(title)) problem(l, "/title", "must be a string");
  json_t *schema = json_object_get(root, "inputSchema");
  if (!json_is_object(schema)) {
    problem(l, "/inputSchema", "must be a JSON Schema object");
  } else {
    const char *type = json_string_value(json_object_get(schema, "type"));
    if (type == NULL || strcmp(type, "object") != 0)
      problem(l, "/inputSchema/type", "a tool's input schema must have \"type\": \"object\"");
    compile_tool_schema(l, c, t, rel, schema);
  }
  if (t->name && t->description && t->input_schema) {
    t->listing = json_pack("{s:s, s:s, s:O, s:{s:b, s:b}}", "name", t->name, "description",
                           t->description, "inputSchema", t->input_schema, "annotations",
                           "readOnlyHint", t->access == SG_ACCESS_READ, "destructiveHint",
                           t->access == SG_ACCESS_WRITE);
    if (title) json_object_set(t->listing, "title", title);
  }
  json_t *sensitive = json_object_get(root, "sensitive");
  t->sensitive = calloc((json_is_array(sensitive) ? json_array_size(sensitive) : 0) + 1,
                        sizeof *t->sensitive);
  if (sensitive && !json_is_array(sensitive)) problem(l, "/sensitive", "must be an array of parameter names");
  for (size_t i = 0, k = 0; json_is_array(sensitive) && i < json_array_size(sensitive); i++) {
    const char *param = json_string_value(json_array_get(sensitive, i));
    char sp[64];
    snprintf(sp, sizeof sp, "/sensitive/%zu", i);
    if (param == NULL || !json_object_get(json_object_get(schema, "properties"), param))
      problem(l, sp, "must name a parameter the input schema declares");
    else
      t->sensitive[k++] = strdup(param);
  }
  json_t *pin = json_object_get(root, "pin");
  if (pin) {
    /* The downstream's own description and schema, as reviewed: if the downstream ever
     * advertises something else, the tool is quarantined until the pin is updated. */
    if (!json_is_object(pin) || !json_is_string(json_object_get(pin, "description")) ||
        !json_is_object(json_object_get(pin, "inputSchema")))
      problem(l, "/pin", "a pin is {\"description\": string, \"inputSchema\": object}, as the "
                         "downstream advertises them");
    else
      t->pin = json_incref(pin);
    if (json_is_object(pin)) only_keys(l, pin, "/pin", pin_keys);
  }
  json_decref(root);
}

static int ends_with_json(const char *name) {
  size_t n = strlen(name);
  return n > 5 && strcmp(name + n - 5, ".json") == 0 && name[0] != '.';
}

static void load_tools(loader_t *l, sg_catalog_t *c) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/tools", c->dir);
  struct dirent **entries = NULL;
  int n = scandir(path, &entries, NULL, alphasort);
  l->file = "tools/";
  if (n < 0) {
    problem(l, "", "cannot read the tools directory");
    return;
  }
  c->tools = calloc((size_t)n + 1, sizeof *c->tools);
  for (int i = 0; i < n; i++) {
    if (ends_with_json(entries[i]->d_name)) {
      char rel[PATH_MAX];
      snprintf(rel, sizeof rel, "tools/%s", entries[i]->d_name);
      load_tool(l, c, rel);
    }
    free(entries[i]);
  }
  free(entries);
  for (size_t i = 0; i < c->ntools; i++)
    if (c->tools[i].name == NULL) c->tools[i].name = strdup("");
  qsort(c->tools, c->ntools, sizeof *c->tools, cmp_names);
  l->file = "tools/";
  for (size_t i = 1; i < c->ntools; i++)
    if (c->tools[i].name[0] && strcmp(c->tools[i].name, c->tools[i - 1].name) == 0)
      problem(l, "", "tool \"%s\" is defined twice", c->tools[i].name);
  if (c->ntools == 0) problem(l, "", "no tool definitions (*.json) found");
}

static int cmp_grants(const void *a, const void *b) {
  const sg_grant_t *x = a, *y = b;
  return strcmp(x->tool->name, y->tool->name);
}

static void load_role(loader_t *l, sg_catalog_t *c, sg_role_t *r, json_t *spec,
                      const char *ptr) {
  static const char *const role_keys[] = {"tools", "resources", "prompts", NULL};
  static const char *const grant_keys[] = {"approval", "envelope", "bind", NULL};
  if (!json_is_object(spec)) {
    problem(l, ptr, "must be an object");
    return;
  }
  only_keys(l, spec, ptr, role_keys);
  char ap[512];
  if (json_object_get(spec, "prompts")) {
    ptr_join(ap, sizeof ap, ptr, "prompts");
    sg__role_prompts(l, c, r, json_object_get(spec, "prompts"), ap);
  }
  if (json_object_get(spec, "resources")) {
    ptr_join(ap, sizeof ap, ptr, "resources");
    sg__role_resources(l, c, r, json_object_get(spec, "resources"), ap);
  }
  char tp[512];
  ptr_join(tp, sizeof tp, ptr, "tools");
  json_t *tools = json_object_get(spec, "tools");
  if (!json_is_object(tools)) {
    problem(l, tp, "must be an object mapping tool names to grants");
    return;
  }
  r->grants = calloc(json_object_size(tools) + 1, sizeof *r->grants);
  r->tool_listing = json_array();
  const char *name;
  json_t *g;
  json_object_foreach(tools, name, g) {
    char gp[512], p[600];
    ptr_join(gp, sizeof gp, tp, name);
    if (strchr(name, '*')) {
      problem(l, gp, "wildcards are not allowed; grant each tool by name");
      continue;
    }
    const sg_tool_t *t = sg_catalog_tool(c, name);
    if (t == NULL) {
      problem(l, gp, "grants unknown tool \"%s\"", name);
      continue;
    }
    if (!json_is_object(g)) {
      problem(l, gp, "a grant must be an object (use {} for a plain grant)");
      continue;
    }
    only_keys(l, g, gp, grant_keys);
    sg_grant_t *grant = &r->grants[r->ngrants++];
    grant->tool = t;
    snprintf(p, sizeof p, "%s/approval", gp);
    sg__approval_parse(l, grant, json_object_get(g, "approval"), p, gp);
    sg__grant_parse(l, grant, g, gp);
  }
  qsort(r->grants, r->ngrants, sizeof *r->grants, cmp_grants);
  for (size_t i = 0; i < r->ngrants; i++)
    if (r->grants[i].tool->listing) json_array_append(r->tool_listing, r->grants[i].tool->listing);
}

static void load_matrix(loader_t *l, sg_catalog_t *c) {
  static const char *const top_keys[] = {"writes_enabled", "roles", NULL};
  json_t *root = load_json(l, c->dir, "matrix.json");
  if (root == NULL) return;
  only_keys(l, root, "", top_keys);
  /* Write tools are off unless the catalog turns them on. */
  json_t *writes = json_object_get(root, "writes_enabled");
  if (writes && !json_is_boolean(writes)) problem(l, "/writes_enabled", "must be true or false");
  c->writes_enabled = json_is_true(writes);
  json_t *roles = json_object_get(root, "roles");
  if (!json_is_object(roles) || json_object_size(roles) == 0) {
    problem(l, "/roles", "must be an object naming at least one role");
    json_decref(root);
    return;
  }
  c->roles = calloc(json_object_size(roles), sizeof *c->roles);
  const char *name;
  json_t *spec;
  json_object_foreach(roles, name, spec) {
    char ptr[512];
    ptr_join(ptr, sizeof ptr, "/roles", name);
    sg_role_t *r = &c->roles[c->nroles++];
    r->name = strdup(name);
    load_role(l, c, r, spec, ptr);
    if (r->tool_listing == NULL) r->tool_listing = json_array();
  }
  qsort(c->roles, c->nroles, sizeof *c->roles, cmp_names);
  json_decref(root);
}

int sg_catalog_load(const char *dir, sg_catalog_t **out, sg_buf_t *errors) {
  *out = NULL;
  loader_t l = {errors, 0, ""};
  sg_catalog_t *c = calloc(1, sizeof *c);
  if (c == NULL) return SG_ENOMEM;
  c->refs = 1;
  char real[PATH_MAX];
  if (realpath(dir, real) == NULL) {
    l.file = dir;
    problem(&l, "", "catalog directory does not exist");
    sg_catalog_unref(c);
    return SG_ECATALOG;
  }
  c->dir = strdup(real);
  load_servers(&l, c);
  load_tools(&l, c);
  sg__prompts_load(&l, c);
  load_matrix(&l, c);
  if (l.count > 0) {
    sg_catalog_unref(c);
    return SG_ECATALOG;
  }
  *out = c;
  return 0;
}
