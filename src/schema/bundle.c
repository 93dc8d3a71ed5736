/*
 * Self-contained copies of schemas whose $refs name other documents (see
 * sg_schema_inline_refs in resolver.h). A catalog's tool schema may refer to a shared
 * schema file that the gateway reads from disk, but the clients that list the tool, and
 * the reviewer comparing two catalogs, must see the rules themselves: each such $ref is
 * replaced by what it names. Only documents that can be moved without changing their
 * meaning are inlined: a referenced document must not refer into itself or declare
 * identifiers ($id below its root, anchors, dynamic references), since those would
 * resolve differently once copied into another document.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "schema/resolver.h"
#include "schema/uri.h"

#define DEFAULT_BASE "urn:scopegate:schema" /* as the compiler calls a schema without one */
#define MAX_NESTING 16                      /* documents inlined within inlined documents */
#define MAX_INLINED 256                     /* documents inlined into one schema */
#define MAX_DEPTH 512 /* schema objects within one another, inlined ones included */

typedef struct {
  const sg_schema_opts_t *opts;
  sg_schema_error_t *err;
  int draft07;
  char **ids; /* the resources of the root document: its base and each $id, without fragment */
  size_t nids;
  int inlined;
  int depth;
  int failed;
} bctx_t;

/* Keywords whose value is a schema, an array of schemas, or an object of schemas. */
static const char *const ONE[] = {"additionalItems",
                                  "additionalProperties",
                                  "contains",
                                  "propertyNames",
                                  "not",
                                  "if",
                                  "then",
                                  "else",
                                  "unevaluatedItems",
                                  "unevaluatedProperties",
                                  "contentSchema",
                                  "items",
                                  NULL};
static const char *const MANY[] = {"allOf", "anyOf", "oneOf", "prefixItems", "items", NULL};
static const char *const NAMED[] = {"properties",       "patternProperties", "$defs", "definitions",
                                    "dependentSchemas", "dependencies",      NULL};
static const char *const IDENTIFIERS[] = {"$anchor",       "$dynamicAnchor",   "$dynamicRef",
                                          "$recursiveRef", "$recursiveAnchor", NULL};

__attribute__((format(printf, 3, 4))) static int fail(bctx_t *b, const char *ptr, const char *fmt,
                                                      ...) {
  if (!b->failed && b->err) {
    memset(b->err, 0, sizeof *b->err);
    snprintf(b->err->keyword_location, sizeof b->err->keyword_location, "%s", ptr);
    snprintf(b->err->keyword, sizeof b->err->keyword, "$ref");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err->message, sizeof b->err->message, fmt, ap);
    va_end(ap);
  }
  b->failed = 1;
  return SG_ESCHEMA;
}

static void join(char *out, size_t cap, const char *ptr, const char *a, const char *c) {
  char tok[256];
  snprintf(out, cap, "%s/", ptr);
  sg__ptr_escape(tok, sizeof tok, a, strlen(a));
  strncat(out, tok, cap - strlen(out) - 1);
  if (c) {
    strncat(out, "/", cap - strlen(out) - 1);
    sg__ptr_escape(tok, sizeof tok, c, strlen(c));
    strncat(out, tok, cap - strlen(out) - 1);
  }
}

/* The document part of ref resolved against base, malloc'd; *frag gets the fragment
   (malloc'd, "" when none). NULL when memory runs out. */
static char *resolve_ref(const char *base, const char *ref, char **frag) {
  char *full = sg__uri_resolve(base, ref);
  if (full == NULL) return NULL;
  const char *f;
  size_t n = sg__uri_split(full, &f);
  *frag = strdup(f ? f : "");
  char *doc = strndup(full, n);
  free(full);
  if (*frag == NULL || doc == NULL) {
    free(*frag);
    *frag = NULL; /* the caller frees it too */
    free(doc);
    return NULL;
  }
  return doc;
}

/* ---- the root document's own resources ---- */

static int add_id(bctx_t *b, char *uri) {
  char **grown = realloc(b->ids, (b->nids + 1) * sizeof *b->ids);
  if (grown == NULL) {
    free(uri);
    return SG_ENOMEM;
  }
  b->ids = grown;
  b->ids[b->nids++] = uri;
  return 0;
}

static int collect_ids(bctx_t *b, json_t *s, const char *base, int depth);

static int collect_each(bctx_t *b, json_t *s, const char *base, int depth) {
  int rc = 0;
  for (const char *const *k = ONE; *k && rc == 0; k++) {
    json_t *v = json_object_get(s, *k);
    if (json_is_object(v)) rc = collect_ids(b, v, base, depth + 1);
  }
  for (const char *const *k = MANY; *k && rc == 0; k++) {
    json_t *v = json_object_get(s, *k), *item;
    size_t i;
    if (json_is_array(v)) json_array_foreach(v, i, item) {
        if (rc == 0) rc = collect_ids(b, item, base, depth + 1);
      }
  }
  for (const char *const *k = NAMED; *k && rc == 0; k++) {
    json_t *v = json_object_get(s, *k), *item;
    const char *name;
    if (json_is_object(v)) json_object_foreach(v, name, item) {
        if (rc == 0) rc = collect_ids(b, item, base, depth + 1);
      }
  }
  return rc;
}

static int collect_ids(bctx_t *b, json_t *s, const char *base, int depth) {
  if (!json_is_object(s) || depth > 512) return 0;
  const char *id = json_string_value(json_object_get(s, "$id"));
  if (id == NULL) return collect_each(b, s, base, depth);
  char *frag = NULL, *uri = resolve_ref(base, id, &frag);
  free(frag);
  if (uri == NULL) return SG_ENOMEM;
  int rc = add_id(b, uri);
  if (rc == 0) rc = collect_each(b, s, uri, depth);
  return rc;
}

static int is_own(const bctx_t *b, const char *doc) {
  for (size_t i = 0; i < b->nids; i++)
    if (strcmp(b->ids[i], doc) == 0) return 1;
  return 0;
}

/* ---- inlining ---- */

/* What a referenced document holds at fragment: the document itself, or the value a JSON
   Pointer fragment names. NULL when there is no such value or the fragment is an anchor. */
static json_t *locate(json_t *doc, const char *fragment) {
  if (fragment[0] == '\0') return doc;
  if (fragment[0] != '/') return NULL;
  char *walk = strdup(fragment);
  if (walk == NULL || sg__uri_percent_decode(walk) < 0) {
    free(walk);
    return NULL;
  }
  json_t *cur = doc;
  char *p = walk;
  while (cur && *p == '/') {
    char *tok = ++p, *w = tok;
    while (*p && *p != '/') {
      if (*p == '~' && (p[1] == '0' || p[1] == '1')) {
        *w++ = p[1] == '0' ? '~' : '/';
        p += 2;
      } else {
        *w++ = *p++;
      }
    }
    size_t len = (size_t)(w - tok);
    if (json_is_object(cur)) {
      cur = json_object_getn(cur, tok, len);
    } else if (json_is_array(cur)) {
      char *end;
      char num[32];
      snprintf(num, sizeof num, "%.*s", (int)(len < 31 ? len : 31), tok);
      unsigned long i = strtoul(num, &end, 10);
      cur = len > 0 && *end == '\0' && (num[0] != '0' || len == 1) ? json_array_get(cur, i) : NULL;
    } else {
      cur = NULL;
    }
  }
  free(walk);
  return cur;
}

/* Returns s (a new reference; changed in place when it is the caller's copy) with the
   $refs to other documents in it and below it inlined, or NULL on failure. self is the
   URI of the inlined document s belongs to, NULL in the root document. */
static json_t *fix(bctx_t *b, json_t *s, const char *base, const char *ptr, int nesting,
                   const char *self);
static json_t *fix_object(bctx_t *b, json_t *s, const char *base, const char *ptr, int nesting,
                          const char *self);

static json_t *inline_ref(bctx_t *b, json_t *s, const char *base, const char *ptr, int nesting,
                          const char *self) {
  const char *ref = json_string_value(json_object_get(s, "$ref"));
  char where[600];
  join(where, sizeof where, ptr, "$ref", NULL);
  char *frag = NULL, *doc_uri = resolve_ref(base, ref, &frag);
  json_t *doc = NULL, *copy = NULL, *done = NULL;
  if (doc_uri == NULL) {
    fail(b, where, "out of memory");
    goto out;
  }
  if (self ? strcmp(doc_uri, self) == 0 : is_own(b, doc_uri)) {
    if (self) fail(b, where, "\"%s\" refers into its own document, so it cannot be inlined", self);
    done = json_incref(s); /* a reference within the root document stays as it is */
    goto out;
  }
  if (b->opts->resolve) doc = b->opts->resolve(b->opts->resolve_data, doc_uri);
  if (doc == NULL) {
    /* Not a file: a document the compiler knows, such as a meta-schema. */
    done = json_incref(s);
    goto out;
  }
  if (nesting >= MAX_NESTING || ++b->inlined > MAX_INLINED) {
    fail(b, where, "\"%s\": references to other documents nest or repeat too much", ref);
    goto out;
  }
  json_t *target = locate(doc, frag);
  if (target == NULL) {
    fail(b, where, "\"%s\" names nothing in %s that can be inlined", ref, doc_uri);
    goto out;
  }
  copy = json_deep_copy(target);
  if (copy == NULL) {
    fail(b, where, "out of memory");
    goto out;
  }
  if (target == doc && json_is_object(copy)) {
    /* The document's own identifiers mean nothing once it is part of another one. */
    json_object_del(copy, "$id");
    json_object_del(copy, "$schema");
  }
  json_t *fixed = fix(b, copy, doc_uri, where, nesting + 1, doc_uri);
  if (fixed == NULL) goto out;
  if (json_object_size(s) == 1 || b->draft07) {
    /* Alone, or in draft-07 where keywords beside $ref are ignored: the target replaces it. */
    done = fixed;
    goto out;
  }
  /* Beside other keywords, the target becomes one more schema the value must match. */
  json_object_del(s, "$ref");
  json_t *all = json_object_get(s, "allOf");
  if (json_is_array(all)) {
    json_array_append_new(all, fixed);
  } else {
    json_object_set_new(s, "allOf", json_pack("[o]", fixed));
  }
  done = json_incref(s);
out:
  free(frag);
  free(doc_uri);
  json_decref(doc);
  json_decref(copy);
  return done;
}

static json_t *fix(bctx_t *b, json_t *s, const char *base, const char *ptr, int nesting,
                   const char *self) {
  if (!json_is_object(s)) return json_incref(s);
  if (b->depth >= MAX_DEPTH) {
    fail(b, ptr, "the schema is nested too deeply to inline its references");
    return NULL;
  }
  b->depth++;
  json_t *out = fix_object(b, s, base, ptr, nesting, self);
  b->depth--;
  return out;
}

static json_t *fix_object(bctx_t *b, json_t *s, const char *base, const char *ptr, int nesting,
                          const char *self) {
  char sub[600];
  char *own_base = NULL;
  const char *id = json_string_value(json_object_get(s, "$id"));
  if (self) {
    for (const char *const *k = IDENTIFIERS; *k; k++)
      if (json_object_get(s, *k)) {
        join(sub, sizeof sub, ptr, *k, NULL);
        fail(b, sub, "\"%s\" declares \"%s\", so it cannot be inlined", self, *k);
        return NULL;
      }
    if (id) {
      join(sub, sizeof sub, ptr, "$id", NULL);
      fail(b, sub, "\"%s\" declares an \"$id\" below its root, so it cannot be inlined", self);
      return NULL;
    }
  } else if (id) {
    char *frag = NULL;
    own_base = resolve_ref(base, id, &frag);
    free(frag);
    if (own_base == NULL) {
      fail(b, ptr, "out of memory");
      return NULL;
    }
    base = own_base;
  }
  for (const char *const *k = ONE; *k && !b->failed; k++) {
    json_t *v = json_object_get(s, *k);
    if (!json_is_object(v)) continue;
    join(sub, sizeof sub, ptr, *k, NULL);
    json_t *f = fix(b, v, base, sub, nesting, self);
    if (f) json_object_set_new(s, *k, f);
  }
  for (const char *const *k = MANY; *k && !b->failed; k++) {
    json_t *v = json_object_get(s, *k);
    for (size_t i = 0; json_is_array(v) && i < json_array_size(v) && !b->failed; i++) {
      char idx[32];
      snprintf(idx, sizeof idx, "%zu", i);
      join(sub, sizeof sub, ptr, *k, idx);
      json_t *f = fix(b, json_array_get(v, i), base, sub, nesting, self);
      if (f) json_array_set_new(v, i, f);
    }
  }
  for (const char *const *k = NAMED; *k && !b->failed; k++) {
    json_t *v = json_object_get(s, *k), *item;
    const char *name;
    void *tmp;
    if (json_is_object(v)) json_object_foreach_safe(v, tmp, name, item) {
        if (b->failed) break;
        join(sub, sizeof sub, ptr, *k, name);
        json_t *f = fix(b, item, base, sub, nesting, self);
        if (f) json_object_set_new(v, name, f);
      }
  }
  json_t *out = NULL;
  if (!b->failed)
    out = json_is_string(json_object_get(s, "$ref")) ? inline_ref(b, s, base, ptr, nesting, self)
                                                     : json_incref(s);
  free(own_base);
  return out;
}

int sg_schema_inline_refs(json_t *schema, const sg_schema_opts_t *opts, json_t **out,
                          sg_schema_error_t *err) {
  static const sg_schema_opts_t defaults;
  bctx_t b = {.opts = opts ? opts : &defaults, .err = err};
  *out = NULL;
  if (err) memset(err, 0, sizeof *err);
  const char *schema_kw = json_string_value(json_object_get(schema, "$schema"));
  b.draft07 = schema_kw ? strstr(schema_kw, "json-schema.org/draft-0") != NULL
                        : b.opts->default_draft == SG_DRAFT_07;
  char *frag = NULL;
  char *base = resolve_ref(b.opts->base_uri ? b.opts->base_uri : DEFAULT_BASE, "", &frag);
  free(frag);
  int rc = base ? add_id(&b, base) : SG_ENOMEM;
  if (rc == 0) rc = collect_ids(&b, schema, b.ids[0], 0);
  json_t *copy = rc == 0 ? json_deep_copy(schema) : NULL;
  if (rc == 0 && copy == NULL) rc = SG_ENOMEM;
  if (rc == 0) {
    *out = fix(&b, copy, b.ids[0], "", 0, NULL);
    if (*out == NULL) rc = b.failed ? SG_ESCHEMA : SG_ENOMEM;
  }
  json_decref(copy);
  for (size_t i = 0; i < b.nids; i++) free(b.ids[i]);
  free(b.ids);
  if (rc == SG_ENOMEM && err) snprintf(err->message, sizeof err->message, "out of memory");
  return rc;
}
