/*
 * Catalog lifetime and lookups. Lookups are binary searches over arrays sorted at
 * load time; nothing here allocates.
 */
#include "catalog/catalog.h"
#include "catalog/loader.h"

#include <stdlib.h>
#include <string.h>

static void free_strv(char **v) {
  if (v == NULL) return;
  for (char **p = v; *p; p++) free(*p);
  free(v);
}

sg_catalog_t *sg_catalog_ref(sg_catalog_t *c) {
  c->refs++;
  return c;
}

void sg_catalog_unref(sg_catalog_t *c) {
  if (c == NULL || --c->refs > 0) return;
  for (size_t i = 0; i < c->nservers; i++) {
    sg_server_conf_t *s = &c->servers[i];
    free(s->name);
    free(s->command);
    free_strv(s->argv);
    free(s->cwd);
    free_strv(s->env);
    free_strv(s->credentials);
  }
  for (size_t i = 0; i < c->ntools; i++) {
    sg_tool_t *t = &c->tools[i];
    free(t->name);
    free(t->file);
    free(t->downstream_name);
    free(t->description);
    json_decref(t->input_schema);
    if (t->schema) sg_schema_free(t->schema);
    json_decref(t->listing);
    json_decref(t->pin);
    free_strv(t->sensitive);
  }
  for (size_t i = 0; i < c->nroles; i++) {
    for (size_t g = 0; g < c->roles[i].ngrants; g++) sg__grant_free(&c->roles[i].grants[g]);
    sg__role_access_free(&c->roles[i]);
    free(c->roles[i].name);
    free(c->roles[i].grants);
    json_decref(c->roles[i].tool_listing);
  }
  sg__prompts_free(c);
  free(c->servers);
  free(c->tools);
  free(c->roles);
  free(c->dir);
  free(c);
}

/* Binary search over an array of structs whose first member is a char * name. */
static const void *find_named(const void *base, size_t n, size_t size, const char *name) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    const char *key = *(char *const *)((const char *)base + mid * size);
    int cmp = strcmp(name, key);
    if (cmp == 0) return (const char *)base + mid * size;
    if (cmp < 0) hi = mid;
    else lo = mid + 1;
  }
  return NULL;
}

const sg_tool_t *sg_catalog_tool(const sg_catalog_t *c, const char *name) {
  return find_named(c->tools, c->ntools, sizeof *c->tools, name);
}

const sg_role_t *sg_catalog_role(const sg_catalog_t *c, const char *name) {
  return find_named(c->roles, c->nroles, sizeof *c->roles, name);
}

const sg_server_conf_t *sg_catalog_server(const sg_catalog_t *c, const char *name) {
  return find_named(c->servers, c->nservers, sizeof *c->servers, name);
}

const sg_prompt_t *sg_catalog_prompt(const sg_catalog_t *c, const char *name) {
  return find_named(c->prompts, c->nprompts, sizeof *c->prompts, name);
}

const sg_prompt_t *sg_role_prompt(const sg_role_t *r, const char *name) {
  for (size_t i = 0; i < r->nprompts; i++)
    if (strcmp(r->prompts[i]->name, name) == 0) return r->prompts[i];
  return NULL;
}

const sg_grant_t *sg_role_grant(const sg_role_t *r, const char *tool_name) {
  size_t lo = 0, hi = r->ngrants;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int cmp = strcmp(tool_name, r->grants[mid].tool->name);
    if (cmp == 0) return &r->grants[mid];
    if (cmp < 0) hi = mid;
    else lo = mid + 1;
  }
  return NULL;
}
