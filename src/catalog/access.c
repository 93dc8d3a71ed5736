/*
 * Prompts and resources in the catalog. Prompts are defined like tools, one file each
 * under prompts/ (optional), with the description and arguments clients see; roles grant
 * them by name. Resources are granted by URI prefix per server; a prefix may be a context
 * template ("files://$tenant/") so that one grant gives each tenant only its own.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/loader.h"

static int cmp_prompts(const void *a, const void *b) {
  return strcmp(((const sg_prompt_t *)a)->name, ((const sg_prompt_t *)b)->name);
}

static void load_prompt(sg__loader_t *l, sg_catalog_t *c, const char *rel) {
  static const char *const keys[] = {"name", "server", "prompt", "description", "arguments", NULL};
  static const char *const arg_keys[] = {"name", "description", "required", NULL};
  json_t *root = sg__load_json(l, c->dir, rel);
  if (root == NULL) return;
  sg__only_keys(l, root, "", keys);
  sg_prompt_t *p = &c->prompts[c->nprompts++];
  p->name = sg__req_string(l, root, "", "name");
  char *server = sg__req_string(l, root, "", "server");
  if (server && (p->server = sg_catalog_server(c, server)) == NULL)
    sg__problem(l, "/server", "no server \"%s\" in servers.json", server);
  free(server);
  p->downstream_name = sg__req_string(l, root, "", "prompt");
  p->description = sg__req_string(l, root, "", "description");
  json_t *args = json_object_get(root, "arguments");
  p->arguments = json_array();
  if (args && !json_is_array(args)) sg__problem(l, "/arguments", "must be an array");
  size_t i;
  json_t *a;
  json_array_foreach(args, i, a) {
    char ap[64];
    snprintf(ap, sizeof ap, "/arguments/%zu", i);
    if (!json_is_object(a) || !json_is_string(json_object_get(a, "name"))) {
      sg__problem(l, ap, "an argument is {\"name\": string, \"description\"?, \"required\"?}");
      continue;
    }
    sg__only_keys(l, a, ap, arg_keys);
    json_t *req = json_object_get(a, "required");
    if (req && !json_is_boolean(req)) sg__problem(l, ap, "\"required\" must be true or false");
    json_array_append(p->arguments, a);
  }
  if (p->name == NULL) p->name = strdup("");
  if (p->description)
    p->listing = json_pack("{s:s, s:s, s:O}", "name", p->name, "description", p->description,
                           "arguments", p->arguments);
  json_decref(root);
}

void sg__prompts_load(sg__loader_t *l, sg_catalog_t *c) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/prompts", c->dir);
  struct dirent **entries = NULL;
  int n = scandir(path, &entries, NULL, alphasort);
  if (n < 0) return; /* no prompts folder: no prompts */
  c->prompts = calloc((size_t)n + 1, sizeof *c->prompts);
  for (int i = 0; i < n; i++) {
    size_t len = strlen(entries[i]->d_name);
    if (len > 5 && strcmp(entries[i]->d_name + len - 5, ".json") == 0 && entries[i]->d_name[0] != '.') {
      char rel[PATH_MAX];
      snprintf(rel, sizeof rel, "prompts/%s", entries[i]->d_name);
      load_prompt(l, c, rel);
    }
    free(entries[i]);
  }
  free(entries);
  qsort(c->prompts, c->nprompts, sizeof *c->prompts, cmp_prompts);
  l->file = "prompts/";
  for (size_t i = 1; i < c->nprompts; i++)
    if (strcmp(c->prompts[i].name, c->prompts[i - 1].name) == 0)
      sg__problem(l, "", "prompt \"%s\" is defined twice", c->prompts[i].name);
}

void sg__prompts_free(sg_catalog_t *c) {
  for (size_t i = 0; i < c->nprompts; i++) {
    sg_prompt_t *p = &c->prompts[i];
    free(p->name);
    free(p->downstream_name);
    free(p->description);
    json_decref(p->arguments);
    json_decref(p->listing);
  }
  free(c->prompts);
}

void sg__role_prompts(sg__loader_t *l, const sg_catalog_t *c, sg_role_t *r, json_t *v,
                      const char *ptr) {
  if (!json_is_object(v)) {
    sg__problem(l, ptr, "must be an object mapping prompt names to grants ({})");
    return;
  }
  r->prompts = calloc(json_object_size(v) + 1, sizeof *r->prompts);
  r->prompt_listing = json_array();
  const char *name;
  json_t *g;
  json_object_foreach(v, name, g) {
    char p[512];
    sg__ptr_join(p, sizeof p, ptr, name);
    const sg_prompt_t *pr = sg_catalog_prompt(c, name);
    if (strchr(name, '*')) sg__problem(l, p, "wildcards are not allowed; grant each prompt by name");
    else if (pr == NULL) sg__problem(l, p, "grants unknown prompt \"%s\"", name);
    else if (!json_is_object(g) || json_object_size(g) != 0) sg__problem(l, p, "a prompt grant is {}");
    else r->prompts[r->nprompts++] = pr;
  }
  /* Prompts are few: keep the listing in name order with a simple insertion sort. */
  for (size_t i = 1; i < r->nprompts; i++)
    for (size_t k = i; k > 0 && strcmp(r->prompts[k - 1]->name, r->prompts[k]->name) > 0; k--) {
      const sg_prompt_t *t = r->prompts[k];
      r->prompts[k] = r->prompts[k - 1];
      r->prompts[k - 1] = t;
    }
  for (size_t i = 0; i < r->nprompts; i++)
    if (r->prompts[i]->listing) json_array_append(r->prompt_listing, r->prompts[i]->listing);
}

void sg__role_resources(sg__loader_t *l, const sg_catalog_t *c, sg_role_t *r, json_t *v,
                        const char *ptr) {
  static const char *const keys[] = {"server", "prefix", NULL};
  if (!json_is_array(v)) {
    sg__problem(l, ptr, "must be an array of {\"server\", \"prefix\"} grants");
    return;
  }
  r->resources = calloc(json_array_size(v) + 1, sizeof *r->resources);
  size_t i;
  json_t *g;
  json_array_foreach(v, i, g) {
    char p[512];
    snprintf(p, sizeof p, "%s/%zu", ptr, i);
    if (!json_is_object(g)) {
      sg__problem(l, p, "a resource grant is {\"server\": NAME, \"prefix\": URI-PREFIX}");
      continue;
    }
    sg__only_keys(l, g, p, keys);
    const char *server = json_string_value(json_object_get(g, "server"));
    const char *prefix = json_string_value(json_object_get(g, "prefix"));
    const sg_server_conf_t *sc = server ? sg_catalog_server(c, server) : NULL;
    if (sc == NULL) {
      sg__problem(l, p, "names no server in servers.json");
      continue;
    }
    /* A prefix must name at least a scheme and something after it: "" or "*" would
     * grant everything the server has. */
    if (prefix == NULL || strstr(prefix, "://") == NULL || strchr(prefix, '*')) {
      sg__problem(l, p, "\"prefix\" must be a URI prefix with a scheme (\"scheme://...\"), "
                        "without wildcards");
      continue;
    }
    sg_resource_grant_t *rg = &r->resources[r->nresources];
    char *literal = NULL;
    int k = sg__ctxref_parse(prefix, &rg->ref, &literal);
    if (k < 0) {
      sg__problem(l, p, "\"prefix\" starts with an unknown context value");
      continue;
    }
    rg->server = sc;
    rg->literal = literal;
    r->nresources++;
  }
}

void sg__role_access_free(sg_role_t *r) {
  for (size_t i = 0; i < r->nresources; i++) {
    free(r->resources[i].literal);
    sg__ctxref_free(&r->resources[i].ref);
  }
  free(r->resources);
  free(r->prompts);
  json_decref(r->prompt_listing);
}
