/*
 * Finds keywords that no draft defines. Validation ignores unknown keywords, as JSON
 * Schema requires, so a misspelt "maxLenght" silently allows any length; a catalog linter
 * calls this to catch such mistakes before they reach a gateway.
 */
#include <string.h>

#include "schema/internal.h"
#include "schema/uri.h"

static const char *const known[] = {
    /* core */
    "$schema", "$id", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary", "$comment",
    "$defs", "definitions",
    /* applicators */
    "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas", "prefixItems",
    "items", "additionalItems", "contains", "properties", "patternProperties",
    "additionalProperties", "propertyNames", "dependencies", "unevaluatedItems",
    "unevaluatedProperties",
    /* validation */
    "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems",
    "maxContains", "minContains", "maxProperties", "minProperties", "required", "dependentRequired",
    /* annotations, formats and content */
    "title", "description", "default", "deprecated", "readOnly", "writeOnly", "examples", "format",
    "contentEncoding", "contentMediaType", "contentSchema"};

static const char *const single[] = {"additionalProperties",
                                     "propertyNames",
                                     "not",
                                     "if",
                                     "then",
                                     "else",
                                     "contains",
                                     "items",
                                     "additionalItems",
                                     "unevaluatedProperties",
                                     "unevaluatedItems",
                                     "contentSchema"};
static const char *const lists[] = {"allOf", "anyOf", "oneOf", "prefixItems", "items"};
static const char *const maps[] = {"properties",  "patternProperties", "$defs",
                                   "definitions", "dependentSchemas",  "dependencies"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int is_known(const char *k) {
  for (size_t i = 0; i < COUNT(known); i++)
    if (strcmp(k, known[i]) == 0) return 1;
  return 0;
}

static size_t join(char *out, size_t cap, const char *ptr, const char *tok, size_t len) {
  size_t n = strlen(ptr);
  if (n + 2 >= cap) return n;
  memcpy(out, ptr, n);
  out[n] = '/';
  return n + 1 + sg__ptr_escape(out + n + 1, cap - n - 1, tok, len);
}

static size_t walk(json_t *j, const char *ptr, int depth, sg_schema_unknown_fn fn, void *data) {
  if (!json_is_object(j) || depth > SG__MAX_DEPTH) return 0;
  size_t found = 0;
  char at[512], sub[512];
  const char *key;
  size_t klen;
  json_t *v, *w;
  json_object_keylen_foreach(j, key, klen, v) {
    if (is_known(key) || strncmp(key, "x-", 2) == 0) continue;
    join(at, sizeof at, ptr, key, klen);
    fn(data, at, key);
    found++;
  }
  for (size_t i = 0; i < COUNT(single); i++) {
    v = json_object_get(j, single[i]);
    if (!json_is_object(v)) continue;
    join(at, sizeof at, ptr, single[i], strlen(single[i]));
    found += walk(v, at, depth + 1, fn, data);
  }
  for (size_t i = 0; i < COUNT(lists); i++) {
    v = json_object_get(j, lists[i]);
    if (!json_is_array(v)) continue;
    join(at, sizeof at, ptr, lists[i], strlen(lists[i]));
    size_t k;
    json_array_foreach(v, k, w) {
      char idx[24];
      int n = snprintf(idx, sizeof idx, "%zu", k);
      join(sub, sizeof sub, at, idx, (size_t)n);
      found += walk(w, sub, depth + 1, fn, data);
    }
  }
  for (size_t i = 0; i < COUNT(maps); i++) {
    v = json_object_get(j, maps[i]);
    if (!json_is_object(v)) continue;
    join(at, sizeof at, ptr, maps[i], strlen(maps[i]));
    json_object_keylen_foreach(v, key, klen, w) {
      join(sub, sizeof sub, at, key, klen);
      found += walk(w, sub, depth + 1, fn, data);
    }
  }
  return found;
}

size_t sg_schema_unknown_keywords(json_t *schema, sg_schema_unknown_fn fn, void *data) {
  return walk(schema, "", 0, fn, data);
}
