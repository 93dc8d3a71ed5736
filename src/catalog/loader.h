/*
 * Internals shared by the files that load a catalog: problem reporting with file and
 * JSON Pointer, and small strict-reading helpers.
 */
#ifndef SG_CATALOG_LOADER_H
#define SG_CATALOG_LOADER_H

#include <jansson.h>

#include "catalog/catalog.h"
#include "core/buf.h"

typedef struct {
  sg_buf_t *errors;
  int count;
  const char *file; /* path relative to the catalog directory, for messages */
} sg__loader_t;

void sg__problem(sg__loader_t *l, const char *ptr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* out = base + "/" + escaped token. */
void sg__ptr_join(char *out, size_t outlen, const char *base, const char *token);
/* Reports every key of obj that is not in allowed (a NULL-terminated list). */
void sg__only_keys(sg__loader_t *l, json_t *obj, const char *ptr, const char *const *allowed);

/* Parses a grant's "approval": absent, "required", "auto", or {"mode": ..., and for
 * required "timeout_seconds", for auto "budget": {"calls", "window_seconds"}}. p points at
 * the approval, gp at the grant. */
void sg__approval_parse(sg__loader_t *l, sg_grant_t *grant, json_t *v, const char *p,
                        const char *gp);
/* Parses a grant's "envelope" and "bind" (g is the grant object at pointer gp). */
void sg__grant_parse(sg__loader_t *l, sg_grant_t *grant, json_t *g, const char *gp);
void sg__grant_free(sg_grant_t *grant);

/* Loads dir/prompts/ *.json when the folder exists. */
void sg__prompts_load(sg__loader_t *l, sg_catalog_t *c);
/* Parses a role's "prompts" (named grants) and "resources" (prefix grants). */
void sg__role_prompts(sg__loader_t *l, const sg_catalog_t *c, sg_role_t *r, json_t *v, const char *ptr);
void sg__role_resources(sg__loader_t *l, const sg_catalog_t *c, sg_role_t *r, json_t *v,
                        const char *ptr);
void sg__prompts_free(sg_catalog_t *c);
void sg__role_access_free(sg_role_t *r);

/* Loads a JSON object from dir/rel, reporting problems under rel. */
json_t *sg__load_json(sg__loader_t *l, const char *dir, const char *rel);
/* A copy of obj[key] when it is a non-empty string; reports otherwise. */
char *sg__req_string(sg__loader_t *l, json_t *obj, const char *ptr, const char *key);

/* Parses s as a context reference. Returns 1 and fills ref when it is one, 0 when s is a
 * literal (the literal's text, with "$$" unescaped, goes to *literal when non-NULL, to be
 * freed by the caller), -1 when it starts like a reference but names nothing known. */
int sg__ctxref_parse(const char *s, sg_ctxref_t *ref, char **literal);
void sg__ctxref_free(sg_ctxref_t *ref);

#endif
