/*
 * The schema compiler. It works in two steps over each document it meets (the schema
 * itself, and any document a $ref names by URI):
 *
 *   scan     walks the subschemas in known keyword positions and records, for each schema
 *            object, its base URI, JSON Pointer and draft; it registers every resource
 *            ($id), $anchor and $dynamicAnchor under its absolute URI.
 *   compile  turns schema objects into nodes, memoised by object so that a $ref cycle
 *            becomes a cycle in the graph; it checks each keyword's value, compiles
 *            patterns and resolves $ref targets through the registry of the scan.
 *
 * Values inside "enum", "const" or unknown keywords are never scanned, so an "$id" there
 * is data, not an identifier. A $ref into an unscanned place is still followed by its
 * JSON Pointer, and the target inherits the base URI of the resource it sits in.
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "schema/internal.h"
#include "schema/metaschema.h"
#include "schema/uri.h"

/* Base URI of a schema that has no $id of its own. */
#define DEFAULT_BASE "urn:scopegate:schema"

/* Vocabularies in use (2020-12 $vocabulary); draft-07 schemas use them all. */
enum {
  V_APPLICATOR = 1,
  V_UNEVALUATED = 2,
  V_VALIDATION = 4,
  V_FORMAT_ASSERTION = 8,
  V_DEFAULT = V_APPLICATOR | V_UNEVALUATED | V_VALIDATION
};

typedef struct {
  json_t *json;
  const char *base; /* base URI inside this object (after its own $id) */
  const char *ptr;  /* JSON Pointer within its document */
  sg_schema_draft_t draft;
  unsigned vocab;
  sg__resource_t *res;
  sg__node_t *node; /* set once compiled */
} loc_t;

typedef struct {
  const char *uri; /* a resource URI, or a resource URI + "#" + an anchor name */
  json_t *json;
} name_t;

typedef struct {
  sg__resource_t *res;
  const char *name;
  json_t *json;
} dyn_t;

typedef struct {
  sg_schema_t *s;
  const sg_schema_opts_t *opts;
  sg_schema_error_t *err;
  loc_t **map; /* open addressing on the json_t pointer */
  size_t map_cap, map_len;
  name_t *names;
  size_t nnames, cap_names;
  dyn_t *dyns;
  size_t ndyns, cap_dyns;
  int depth;
} cc_t;

/* ---- errors ---- */

static int fail(cc_t *c, const char *ptr, const char *kw, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(cc_t *c, const char *ptr, const char *kw, const char *fmt, ...) {
  if (c->err == NULL) return SG_ESCHEMA;
  sg_schema_error_t *e = c->err;
  memset(e, 0, sizeof *e);
  size_t n = (size_t)snprintf(e->keyword_location, sizeof e->keyword_location, "%s", ptr);
  if (kw && *kw && n + 1 < sizeof e->keyword_location) {
    e->keyword_location[n] = '/';
    sg__ptr_escape(e->keyword_location + n + 1, sizeof e->keyword_location - n - 1, kw, strlen(kw));
  }
  snprintf(e->keyword, sizeof e->keyword, "%s", kw ? kw : "");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
  return SG_ESCHEMA;
}

static int nomem(cc_t *c) {
  if (c->err) {
    memset(c->err, 0, sizeof *c->err);
    snprintf(c->err->message, sizeof c->err->message, "out of memory");
  }
  return SG_ENOMEM;
}

/* ---- small containers, freed when compilation ends ---- */

static size_t ptr_hash(const void *p) {
  size_t h = (size_t)(uintptr_t)p;
  h ^= h >> 17;
  h *= 0x9e3779b97f4a7c15ull;
  return h ^ (h >> 29);
}

static loc_t *map_get(cc_t *c, json_t *j) {
  if (c->map_cap == 0) return NULL;
  for (size_t i = ptr_hash(j) & (c->map_cap - 1);; i = (i + 1) & (c->map_cap - 1)) {
    if (c->map[i] == NULL) return NULL;
    if (c->map[i]->json == j) return c->map[i];
  }
}

static int map_put(cc_t *c, loc_t *l) {
  if ((c->map_len + 1) * 2 > c->map_cap) {
    size_t cap = c->map_cap ? c->map_cap * 2 : 64;
    loc_t **m = calloc(cap, sizeof *m);
    if (m == NULL) return SG_ENOMEM;
    for (size_t i = 0; i < c->map_cap; i++) {
      if (c->map[i] == NULL) continue;
      size_t k = ptr_hash(c->map[i]->json) & (cap - 1);
      while (m[k]) k = (k + 1) & (cap - 1);
      m[k] = c->map[i];
    }
    free(c->map);
    c->map = m;
    c->map_cap = cap;
  }
  size_t k = ptr_hash(l->json) & (c->map_cap - 1);
  while (c->map[k]) k = (k + 1) & (c->map_cap - 1);
  c->map[k] = l;
  c->map_len++;
  return 0;
}

static json_t *name_get(cc_t *c, const char *uri) {
  for (size_t i = 0; i < c->nnames; i++)
    if (strcmp(c->names[i].uri, uri) == 0) return c->names[i].json;
  return NULL;
}

static int name_put(cc_t *c, const char *uri, json_t *j) {
  if (name_get(c, uri)) return 0; /* the first declaration wins */
  if (c->nnames == c->cap_names) {
    size_t cap = c->cap_names ? c->cap_names * 2 : 16;
    name_t *n = realloc(c->names, cap * sizeof *n);
    if (n == NULL) return SG_ENOMEM;
    c->names = n;
    c->cap_names = cap;
  }
  const char *u = sg__arena_strndup(&c->s->arena, uri, strlen(uri));
  if (u == NULL) return SG_ENOMEM;
  c->names[c->nnames].uri = u;
  c->names[c->nnames].json = j;
  c->nnames++;
  return 0;
}

static int dyn_put(cc_t *c, sg__resource_t *res, const char *name, json_t *j) {
  if (c->ndyns == c->cap_dyns) {
    size_t cap = c->cap_dyns ? c->cap_dyns * 2 : 8;
    dyn_t *d = realloc(c->dyns, cap * sizeof *d);
    if (d == NULL) return SG_ENOMEM;
    c->dyns = d;
    c->cap_dyns = cap;
  }
  c->dyns[c->ndyns].res = res;
  c->dyns[c->ndyns].name = name;
  c->dyns[c->ndyns].json = j;
  c->ndyns++;
  return 0;
}

/* "a" + "/" + escape(tok), in the arena. */
static char *ptr_join(cc_t *c, const char *a, const char *tok, size_t toklen) {
  size_t alen = a ? strlen(a) : 0;
  size_t elen = sg__ptr_escape(NULL, 0, tok, toklen);
  char *p = sg__arena_alloc(&c->s->arena, alen + 1 + elen + 1);
  if (p == NULL) return NULL;
  memcpy(p, a, alen);
  p[alen] = '/';
  sg__ptr_escape(p + alen + 1, elen + 1, tok, toklen);
  return p;
}

static char *ptr_join_index(cc_t *c, const char *a, size_t i) {
  char tok[32];
  int n = snprintf(tok, sizeof tok, "%zu", i);
  return ptr_join(c, a, tok, (size_t)n);
}

static char *cat3(cc_t *c, const char *a, const char *b, const char *d) {
  size_t la = strlen(a), lb = strlen(b), ld = strlen(d);
  char *p = sg__arena_alloc(&c->s->arena, la + lb + ld + 1);
  if (p == NULL) return NULL;
  memcpy(p, a, la);
  memcpy(p + la, b, lb);
  memcpy(p + la + lb, d, ld);
  return p;
}

/* ---- scan ---- */

static int draft_of(json_t *schema_kw, sg_schema_draft_t *d) {
  const char *v = json_string_value(schema_kw);
  if (v == NULL) return 0;
  if (strstr(v, "json-schema.org/draft-07/") || strstr(v, "json-schema.org/draft-06/") ||
      strstr(v, "json-schema.org/draft-04/")) {
    *d = SG_DRAFT_07;
    return 1;
  }
  if (strstr(v, "json-schema.org/draft/2020-12/") || strstr(v, "json-schema.org/draft/2019-09/")) {
    *d = SG_DRAFT_2020_12;
    return 1;
  }
  return 0;
}

static json_t *find_resource(cc_t *c, const char *uri, sg_schema_draft_t draft, int *rc);
static loc_t *map_get(cc_t *c, json_t *j);

/* Applies a "$schema": a known draft, or a meta-schema whose $vocabulary says which
   keywords mean something. A meta-schema that cannot be found changes nothing. */
static int dialect(cc_t *c, json_t *schema_kw, sg_schema_draft_t *draft, unsigned *vocab) {
  if (draft_of(schema_kw, draft)) {
    *vocab = V_DEFAULT;
    return 0;
  }
  const char *v = json_string_value(schema_kw);
  if (v == NULL) return 0;
  const char *frag;
  char *uri = sg__arena_strndup(&c->s->arena, v, sg__uri_split(v, &frag));
  if (uri == NULL) return SG_ENOMEM;
  int rc;
  json_t *meta = find_resource(c, uri, *draft, &rc);
  if (rc || meta == NULL) return rc;
  loc_t *ml = map_get(c, meta);
  if (ml) *draft = ml->draft;
  json_t *vocabs = json_object_get(meta, "$vocabulary");
  if (!json_is_object(vocabs)) return 0;
  static const struct {
    const char *uri;
    unsigned bit;
  } known[] = {
      {"https://json-schema.org/draft/2020-12/vocab/applicator", V_APPLICATOR},
      {"https://json-schema.org/draft/2020-12/vocab/unevaluated", V_UNEVALUATED},
      {"https://json-schema.org/draft/2020-12/vocab/validation", V_VALIDATION},
      {"https://json-schema.org/draft/2020-12/vocab/format-assertion", V_FORMAT_ASSERTION},
  };
  *vocab = 0;
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (json_object_get(vocabs, known[i].uri)) *vocab |= known[i].bit;
  return 0;
}

static const char *const scan_single[] = {"additionalProperties",
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
                                          "contentSchema",
                                          NULL};
static const char *const scan_list[] = {"allOf", "anyOf", "oneOf", "prefixItems", "items", NULL};
static const char *const scan_map[] = {"properties",  "patternProperties", "$defs",
                                       "definitions", "dependentSchemas",  "dependencies",
                                       NULL};

static int scan(cc_t *c, json_t *j, const char *base, const char *ptr, sg_schema_draft_t draft,
                unsigned vocab, sg__resource_t *res, int depth);

static int scan_children(cc_t *c, json_t *j, const loc_t *l, int depth) {
  int rc = 0;
  for (const char *const *k = scan_single; *k && rc == 0; k++) {
    json_t *v = json_object_get(j, *k);
    if (v && (json_is_object(v) || json_is_boolean(v))) {
      const char *p = ptr_join(c, l->ptr, *k, strlen(*k));
      rc = p ? scan(c, v, l->base, p, l->draft, l->vocab, l->res, depth + 1) : SG_ENOMEM;
    }
  }
  for (const char *const *k = scan_list; *k && rc == 0; k++) {
    json_t *v = json_object_get(j, *k);
    if (!json_is_array(v)) continue;
    const char *kp = ptr_join(c, l->ptr, *k, strlen(*k));
    if (kp == NULL) return SG_ENOMEM;
    for (size_t i = 0; i < json_array_size(v) && rc == 0; i++) {
      const char *p = ptr_join_index(c, kp, i);
      rc = p ? scan(c, json_array_get(v, i), l->base, p, l->draft, l->vocab, l->res, depth + 1)
             : SG_ENOMEM;
    }
  }
  for (const char *const *k = scan_map; *k && rc == 0; k++) {
    json_t *v = json_object_get(j, *k), *sub;
    if (!json_is_object(v)) continue;
    const char *kp = ptr_join(c, l->ptr, *k, strlen(*k)), *key;
    size_t klen;
    if (kp == NULL) return SG_ENOMEM;
    json_object_keylen_foreach(v, key, klen, sub) {
      const char *p = ptr_join(c, kp, key, klen);
      rc = p ? scan(c, sub, l->base, p, l->draft, l->vocab, l->res, depth + 1) : SG_ENOMEM;
      if (rc) break;
    }
  }
  return rc;
}

static sg__resource_t *new_resource(cc_t *c, const char *uri) {
  sg__resource_t *r = sg__arena_alloc(&c->s->arena, sizeof *r);
  if (r == NULL) return NULL;
  r->uri = sg__arena_strndup(&c->s->arena, uri, strlen(uri));
  return r->uri ? r : NULL;
}

/* res is NULL for a document root, which always starts a resource. */
static int scan(cc_t *c, json_t *j, const char *base, const char *ptr, sg_schema_draft_t draft,
                unsigned vocab, sg__resource_t *res, int depth) {
  if (!json_is_object(j) || map_get(c, j)) return 0;
  if (depth > SG__MAX_DEPTH) return fail(c, ptr, "", "schema nesting is too deep");
  int rc = 0;
  char *newbase = NULL;
  json_t *id = json_object_get(j, "$id");
  if (json_is_string(id) || res == NULL) {
    int drc = dialect(c, json_object_get(j, "$schema"), &draft, &vocab);
    if (drc) return drc;
    if (map_get(c, j)) return 0; /* the meta-schema was this very document */
  }
  int ref_only = draft == SG_DRAFT_07 && json_object_get(j, "$ref") != NULL;
  if (ref_only) id = NULL; /* draft-07 ignores every sibling of $ref, $id included */

  const char *idv = json_string_value(id);
  if (idv && idv[0] == '#') {
    /* A draft-07 location-independent identifier: a plain-name anchor. 2020-12 spells
       it $anchor, but an old-style "#name" $id can only mean the same thing there. */
    char *a = cat3(c, base, "#", idv + 1);
    if (a == NULL || name_put(c, a, j)) return SG_ENOMEM;
    idv = NULL;
  }
  if (idv || res == NULL) {
    newbase = sg__uri_resolve(base, idv ? idv : "");
    if (newbase == NULL) return SG_ENOMEM;
    const char *frag;
    newbase[sg__uri_split(newbase, &frag)] = '\0';
    res = new_resource(c, newbase);
    free(newbase);
    if (res == NULL) return SG_ENOMEM;
    base = res->uri;
    if (name_put(c, base, j)) return SG_ENOMEM;
  }
  loc_t *l = sg__arena_alloc(&c->s->arena, sizeof *l);
  if (l == NULL) return SG_ENOMEM;
  l->json = j;
  l->base = base;
  l->ptr = ptr;
  l->draft = draft;
  l->vocab = draft == SG_DRAFT_07 ? V_DEFAULT : vocab;
  l->res = res;
  if (map_put(c, l)) return SG_ENOMEM;

  if (draft == SG_DRAFT_2020_12) {
    const char *kws[] = {"$anchor", "$dynamicAnchor"};
    for (int i = 0; i < 2; i++) {
      const char *a = json_string_value(json_object_get(j, kws[i]));
      if (a == NULL) continue;
      char *full = cat3(c, base, "#", a);
      if (full == NULL || name_put(c, full, j)) return SG_ENOMEM;
      if (i == 1 && dyn_put(c, res, full + strlen(base) + 1, j)) return SG_ENOMEM;
    }
  }
  if (!ref_only) rc = scan_children(c, j, l, depth);
  return rc;
}

static int add_doc(cc_t *c, json_t *doc, const char *uri, sg_schema_draft_t draft) {
  json_t **d = realloc(c->s->docs, (c->s->ndocs + 1) * sizeof *d);
  if (d == NULL) return SG_ENOMEM;
  c->s->docs = d;
  d[c->s->ndocs++] = json_incref(doc);
  /* The document answers to the URI it was fetched by, whatever its $id says. */
  if (name_put(c, uri, doc)) return SG_ENOMEM;
  return scan(c, doc, uri, "", draft, V_DEFAULT, NULL, 0);
}

/* ---- compile ---- */

static int compile_json(cc_t *c, json_t *j, const loc_t *ctx, const char *ptr,
                        const sg__node_t **out);

/* A copy of an edge's path, after the lengths of its first step and of itself (see
   sg__edge_t). */
static const char *edge_path(cc_t *c, const char *rel) {
  size_t len[2] = {strcspn(rel, "/"), strlen(rel)};
  size_t size = len[1] + 1 < SG__EDGE_PATH_READABLE ? SG__EDGE_PATH_READABLE : len[1] + 1;
  char *p = sg__arena_alloc(&c->s->arena, sizeof len + size);
  if (p == NULL) return NULL;
  memcpy(p, len, sizeof len);
  memset(p + sizeof len, 0, size);
  memcpy(p + sizeof len, rel, len[1]);
  return p + sizeof len;
}

static int child(cc_t *c, const loc_t *l, json_t *j, const char *rel, sg__edge_t *e) {
  e->path = edge_path(c, rel);
  if (e->path == NULL) return nomem(c);
  char *p = cat3(c, l->ptr, "/", rel);
  if (p == NULL) return SG_ENOMEM;
  return compile_json(c, j, l, p, &e->node);
}

static const char *rel_key(cc_t *c, const char *kw, const char *key, size_t klen) {
  return ptr_join(c, kw, key, klen);
}

static int get_num(json_t *v, sg__num_t *n) {
  if (json_is_integer(v)) {
    n->is_int = 1;
    n->i = json_integer_value(v);
    n->d = (double)n->i;
  } else if (json_is_real(v)) {
    n->is_int = 0;
    n->d = json_real_value(v);
  } else {
    return -1;
  }
  n->set = 1;
  return 0;
}

/* A non-negative integer keyword (1.0 counts); -1 when v is not one. */
static long get_count(json_t *v) {
  if (json_is_integer(v)) {
    json_int_t i = json_integer_value(v);
    if (i < 0) return -1;
    return i > LONG_MAX ? LONG_MAX : (long)i;
  }
  if (json_is_real(v)) {
    double d = json_real_value(v);
    if (d < 0 || d != floor(d)) return -1;
    return d >= (double)LONG_MAX ? LONG_MAX : (long)d;
  }
  return -1;
}

static int add_code(cc_t *c, pcre2_code *re) {
  pcre2_code **v = realloc(c->s->codes, (c->s->ncodes + 1) * sizeof *v);
  if (v == NULL) {
    pcre2_code_free(re);
    return SG_ENOMEM;
  }
  c->s->codes = v;
  v[c->s->ncodes++] = re;
  return 0;
}

static int regex(cc_t *c, const loc_t *l, const char *kw, const char *src, size_t len,
                 pcre2_code **out) {
  char why[256];
  int rc = sg__regex_compile(src, len, out, why, sizeof why);
  if (rc == SG_ENOMEM) return nomem(c);
  if (rc) return fail(c, l->ptr, kw, "%s", why);
  return add_code(c, *out);
}

static int type_bit(const char *t) {
  static const struct {
    const char *name;
    int bit;
  } types[] = {{"null", SG__T_NULL},      {"boolean", SG__T_BOOLEAN}, {"object", SG__T_OBJECT},
               {"array", SG__T_ARRAY},    {"number", SG__T_NUMBER},   {"string", SG__T_STRING},
               {"integer", SG__T_INTEGER}};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (strcmp(t, types[i].name) == 0) return types[i].bit;
  return 0;
}

static int prop_cmp(const void *a, const void *b) {
  const sg__prop_t *x = a, *y = b;
  size_t n = x->len < y->len ? x->len : y->len;
  int r = memcmp(x->name, y->name, n);
  if (r) return r;
  return (x->len > y->len) - (x->len < y->len);
}

static int resolve_ref(cc_t *c, const loc_t *l, const char *kw, const char *ref, json_t **target,
                       const loc_t **tctx, const char **tptr);

static int edges(cc_t *c, const loc_t *l, const char *kw, json_t *v, sg__edge_t **out, size_t *n,
                 int allow_empty) {
  if (!json_is_array(v) || (!allow_empty && json_array_size(v) == 0))
    return fail(c, l->ptr, kw, "\"%s\" must be a non-empty array of schemas", kw);
  *n = json_array_size(v);
  *out = sg__arena_alloc(&c->s->arena, (*n ? *n : 1) * sizeof **out);
  if (*out == NULL) return nomem(c);
  for (size_t i = 0; i < *n; i++) {
    const char *rel = ptr_join_index(c, kw, i);
    if (rel == NULL) return nomem(c);
    int rc = child(c, l, json_array_get(v, i), rel, &(*out)[i]);
    if (rc) return rc;
  }
  return 0;
}

static int single(cc_t *c, const loc_t *l, const char *kw, sg__edge_t *e) {
  json_t *v = json_object_get(l->json, kw);
  if (v == NULL) return 0;
  return child(c, l, v, kw, e);
}

static int string_list(cc_t *c, const loc_t *l, const char *kw, json_t *v, const char ***out,
                       size_t *n) {
  if (!json_is_array(v)) return fail(c, l->ptr, kw, "\"%s\" must be an array of strings", kw);
  *n = json_array_size(v);
  *out = sg__arena_alloc(&c->s->arena, (*n ? *n : 1) * sizeof **out);
  if (*out == NULL) return nomem(c);
  for (size_t i = 0; i < *n; i++) {
    json_t *s = json_array_get(v, i);
    if (!json_is_string(s)) return fail(c, l->ptr, kw, "\"%s\" must be an array of strings", kw);
    (*out)[i] = json_string_value(s); /* borrowed: the document is held */
  }
  return 0;
}

static int c_type(cc_t *c, const loc_t *l, sg__node_t *n) {
  json_t *v = json_object_get(l->json, "type");
  if (v == NULL) return 0;
  if (json_is_string(v)) {
    n->types = (unsigned)type_bit(json_string_value(v));
    if (n->types == 0) return fail(c, l->ptr, "type", "unknown type \"%s\"", json_string_value(v));
    return 0;
  }
  if (!json_is_array(v)) return fail(c, l->ptr, "type", "\"type\" must be a string or an array");
  size_t i;
  json_t *t;
  json_array_foreach(v, i, t) {
    int bit = json_is_string(t) ? type_bit(json_string_value(t)) : 0;
    if (bit == 0) return fail(c, l->ptr, "type", "\"type\" lists an unknown type");
    n->types |= (unsigned)bit;
  }
  if (n->types == 0) n->types = 1u << 7; /* "type": [] allows nothing: no value has this bit */
  return 0;
}

static int c_numbers(cc_t *c, const loc_t *l, sg__node_t *n) {
  static const char *const kws[] = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                                    "multipleOf"};
  sg__num_t *dst[] = {&n->minimum, &n->maximum, &n->ex_minimum, &n->ex_maximum, &n->multiple_of};
  for (int i = 0; i < 5; i++) {
    json_t *v = json_object_get(l->json, kws[i]);
    if (v == NULL) continue;
    if (json_is_boolean(v) && (i == 2 || i == 3) && l->draft == SG_DRAFT_07) {
      /* draft-04 form: the flag makes minimum/maximum exclusive. */
      if (json_is_true(v)) {
        sg__num_t *from = i == 2 ? &n->minimum : &n->maximum;
        *dst[i] = *from;
        from->set = 0;
      }
      continue;
    }
    if (get_num(v, dst[i])) return fail(c, l->ptr, kws[i], "\"%s\" must be a number", kws[i]);
    if (i == 4 && !(n->multiple_of.d > 0))
      return fail(c, l->ptr, kws[i], "\"multipleOf\" must be greater than 0");
  }
  return 0;
}

static int c_counts(cc_t *c, const loc_t *l, sg__node_t *n) {
  static const char *const kws[] = {"minLength",     "maxLength",     "minItems",    "maxItems",
                                    "minProperties", "maxProperties", "minContains", "maxContains"};
  long *dst[] = {&n->min_length, &n->max_length, &n->min_items,    &n->max_items,
                 &n->min_props,  &n->max_props,  &n->min_contains, &n->max_contains};
  for (int i = 0; i < 8; i++) {
    *dst[i] = -1;
    json_t *v = json_object_get(l->json, kws[i]);
    if (v == NULL || (i >= 6 && l->draft == SG_DRAFT_07)) continue;
    *dst[i] = get_count(v);
    if (*dst[i] < 0)
      return fail(c, l->ptr, kws[i], "\"%s\" must be a non-negative integer", kws[i]);
  }
  return 0;
}

static int c_string(cc_t *c, const loc_t *l, sg__node_t *n) {
  json_t *v = json_object_get(l->json, "pattern");
  if (v) {
    if (!json_is_string(v)) return fail(c, l->ptr, "pattern", "\"pattern\" must be a string");
    n->pattern_src = json_string_value(v);
    n->pattern_len = json_string_length(v);
    int rc = regex(c, l, "pattern", n->pattern_src, json_string_length(v), &n->pattern);
    if (rc) return rc;
  }
  v = json_object_get(l->json, "format");
  if (v) {
    if (!json_is_string(v)) return fail(c, l->ptr, "format", "\"format\" must be a string");
    n->format_name = json_string_value(v);
    if (c->opts->format_assert || (l->vocab & V_FORMAT_ASSERTION))
      n->format = sg__format_lookup(n->format_name);
  }
  return 0;
}

static int c_object(cc_t *c, const loc_t *l, sg__node_t *n) {
  json_t *j = l->json, *v, *sub;
  const char *key;
  size_t klen;
  int rc;
  if ((v = json_object_get(j, "properties"))) {
    if (!json_is_object(v))
      return fail(c, l->ptr, "properties", "\"properties\" must be an object");
    n->props = sg__arena_alloc(&c->s->arena, (json_object_size(v) + 1) * sizeof *n->props);
    if (n->props == NULL) return nomem(c);
    json_object_keylen_foreach(v, key, klen, sub) {
      sg__prop_t *p = &n->props[n->nprops++];
      p->name = key; /* borrowed from the held document */
      p->len = klen;
      const char *rel = rel_key(c, "properties", key, klen);
      if (rel == NULL) return nomem(c);
      if ((rc = child(c, l, sub, rel, &p->edge))) return rc;
    }
    qsort(n->props, n->nprops, sizeof *n->props, prop_cmp);
  }
  if ((v = json_object_get(j, "patternProperties"))) {
    if (!json_is_object(v))
      return fail(c, l->ptr, "patternProperties", "\"patternProperties\" must be an object");
    n->patprops = sg__arena_alloc(&c->s->arena, (json_object_size(v) + 1) * sizeof *n->patprops);
    if (n->patprops == NULL) return nomem(c);
    json_object_keylen_foreach(v, key, klen, sub) {
      sg__patprop_t *p = &n->patprops[n->npatprops++];
      p->src = key;
      if ((rc = regex(c, l, "patternProperties", key, klen, &p->re))) return rc;
      const char *rel = rel_key(c, "patternProperties", key, klen);
      if (rel == NULL) return nomem(c);
      if ((rc = child(c, l, sub, rel, &p->edge))) return rc;
    }
  }
  if ((rc = single(c, l, "additionalProperties", &n->additional))) return rc;
  if ((rc = single(c, l, "propertyNames", &n->property_names))) return rc;
  if ((v = json_object_get(j, "required"))) {
    if ((rc = string_list(c, l, "required", v, &n->required, &n->nrequired))) return rc;
  }

  /* dependentRequired + dependentSchemas (2020-12), or dependencies (draft-07), which
     holds both kinds. A 2020-12 schema that still says "dependencies" means what draft-07
     meant, unless it uses the new keywords as well. */
  const char *dkw[2] = {"dependentRequired", "dependentSchemas"};
  if (l->draft == SG_DRAFT_07 || (json_object_get(j, "dependencies") &&
                                  !json_object_get(j, dkw[0]) && !json_object_get(j, dkw[1])))
    dkw[0] = dkw[1] = "dependencies";
  int old = dkw[0] == dkw[1];
  n->dep_keyword = dkw[0];
  size_t cap = json_object_size(json_object_get(j, dkw[0])) +
               json_object_size(json_object_get(j, dkw[1])) + 1;
  n->dep_required = sg__arena_alloc(&c->s->arena, cap * sizeof *n->dep_required);
  n->dep_schemas = sg__arena_alloc(&c->s->arena, cap * sizeof *n->dep_schemas);
  if (n->dep_required == NULL || n->dep_schemas == NULL) return nomem(c);
  for (int k = 0; k < (old ? 1 : 2); k++) {
    v = json_object_get(j, dkw[k]);
    if (v == NULL) continue;
    if (!json_is_object(v)) return fail(c, l->ptr, dkw[k], "\"%s\" must be an object", dkw[k]);
    json_object_keylen_foreach(v, key, klen, sub) {
      int as_list = old ? json_is_array(sub) : k == 0;
      if (as_list) {
        sg__depreq_t *d = &n->dep_required[n->ndep_required++];
        d->name = key;
        if ((rc = string_list(c, l, dkw[k], sub, &d->required, &d->nrequired))) return rc;
      } else {
        sg__depschema_t *d = &n->dep_schemas[n->ndep_schemas++];
        d->name = key;
        const char *rel = rel_key(c, dkw[k], key, klen);
        if (rel == NULL) return nomem(c);
        if ((rc = child(c, l, sub, rel, &d->edge))) return rc;
      }
    }
  }
  if (l->draft == SG_DRAFT_2020_12 &&
      (rc = single(c, l, "unevaluatedProperties", &n->unevaluated_props)))
    return rc;
  return 0;
}

static int c_array(cc_t *c, const loc_t *l, sg__node_t *n) {
  json_t *j = l->json, *v;
  int rc;
  json_t *items = json_object_get(j, "items");
  if (json_is_array(items)) {
    /* draft-07 tuple form; accepted in 2020-12 too, where it means what it used to. */
    if ((rc = edges(c, l, "items", items, &n->prefix, &n->nprefix, 1))) return rc;
    if ((rc = single(c, l, "additionalItems", &n->items))) return rc;
  } else {
    if (l->draft == SG_DRAFT_2020_12 && (v = json_object_get(j, "prefixItems"))) {
      if ((rc = edges(c, l, "prefixItems", v, &n->prefix, &n->nprefix, 1))) return rc;
    }
    if ((rc = single(c, l, "items", &n->items))) return rc;
  }
  if ((rc = single(c, l, "contains", &n->contains))) return rc;
  if ((v = json_object_get(j, "uniqueItems"))) {
    if (!json_is_boolean(v))
      return fail(c, l->ptr, "uniqueItems", "\"uniqueItems\" must be a boolean");
    n->unique_items = json_is_true(v);
  }
  if (l->draft == SG_DRAFT_2020_12 &&
      (rc = single(c, l, "unevaluatedItems", &n->unevaluated_items)))
    return rc;
  return 0;
}

static int c_applicators(cc_t *c, const loc_t *l, sg__node_t *n) {
  json_t *j = l->json, *v;
  int rc;
  if ((v = json_object_get(j, "allOf")) &&
      (rc = edges(c, l, "allOf", v, &n->all_of, &n->nall_of, 0)))
    return rc;
  if ((v = json_object_get(j, "anyOf")) &&
      (rc = edges(c, l, "anyOf", v, &n->any_of, &n->nany_of, 0)))
    return rc;
  if ((v = json_object_get(j, "oneOf")) &&
      (rc = edges(c, l, "oneOf", v, &n->one_of, &n->none_of, 0)))
    return rc;
  if ((rc = single(c, l, "not", &n->not_))) return rc;
  if ((rc = single(c, l, "if", &n->if_))) return rc;
  if (n->if_.node) {
    if ((rc = single(c, l, "then", &n->then_))) return rc;
    if ((rc = single(c, l, "else", &n->else_))) return rc;
  }
  /* Definitions are compiled even when nothing refers to them, so that every mistake in
     a schema shows when it is compiled. */
  const char *defs[] = {"$defs", "definitions"};
  for (int k = 0; k < 2; k++) {
    json_t *sub;
    const char *key;
    size_t klen;
    v = json_object_get(j, defs[k]);
    if (!json_is_object(v)) continue;
    json_object_keylen_foreach(v, key, klen, sub) {
      sg__edge_t e;
      const char *rel = rel_key(c, defs[k], key, klen);
      if (rel == NULL) return nomem(c);
      if ((rc = child(c, l, sub, rel, &e))) return rc;
    }
  }
  return 0;
}

static int c_refs(cc_t *c, const loc_t *l, sg__node_t *n) {
  static const char *const kws[] = {"$ref", "$dynamicRef"};
  for (int k = 0; k < (l->draft == SG_DRAFT_07 ? 1 : 2); k++) {
    json_t *v = json_object_get(l->json, kws[k]);
    if (v == NULL) continue;
    if (!json_is_string(v)) return fail(c, l->ptr, kws[k], "\"%s\" must be a string", kws[k]);
    json_t *target = NULL;
    const loc_t *tctx = l;
    const char *tptr = "";
    int rc = resolve_ref(c, l, kws[k], json_string_value(v), &target, &tctx, &tptr);
    if (rc) return rc;
    sg__edge_t *e = k == 0 ? &n->ref : &n->dynamic_ref;
    e->path = edge_path(c, kws[k]);
    if (e->path == NULL) return nomem(c);
    if ((rc = compile_json(c, target, tctx, tptr, &e->node))) return rc;
    if (k == 1) {
      /* $dynamicRef is dynamic only when its fragment is a plain name and the schema it
         first resolves to declares the same $dynamicAnchor. */
      const char *frag = strchr(json_string_value(v), '#');
      const char *anchor = json_string_value(json_object_get(target, "$dynamicAnchor"));
      if (frag && frag[1] != '/' && anchor && strcmp(frag + 1, anchor) == 0)
        n->dynamic_anchor = anchor;
    }
  }
  return 0;
}

/* Keywords of the vocabularies a meta-schema may leave out. */
static const struct {
  unsigned vocab;
  const char *const *keywords;
} vocab_keywords[] = {
    {V_VALIDATION, (const char *const[]){"type",
                                         "enum",
                                         "const",
                                         "multipleOf",
                                         "maximum",
                                         "exclusiveMaximum",
                                         "minimum",
                                         "exclusiveMinimum",
                                         "maxLength",
                                         "minLength",
                                         "pattern",
                                         "maxItems",
                                         "minItems",
                                         "uniqueItems",
                                         "maxContains",
                                         "minContains",
                                         "maxProperties",
                                         "minProperties",
                                         "required",
                                         "dependentRequired",
                                         NULL}},
    {V_APPLICATOR,
     (const char *const[]){"prefixItems", "items", "contains", "additionalProperties", "properties",
                           "patternProperties", "dependentSchemas", "propertyNames", "if", "then",
                           "else", "allOf", "anyOf", "oneOf", "not", NULL}},
    {V_UNEVALUATED, (const char *const[]){"unevaluatedItems", "unevaluatedProperties", NULL}},
};

/* The schema object as its vocabularies see it: a shallow copy without the keywords of
   vocabularies its meta-schema leaves out (held with the documents), or j itself. */
static json_t *vocab_view(cc_t *c, const loc_t *l) {
  if ((l->vocab & V_DEFAULT) == V_DEFAULT) return l->json;
  json_t *view = json_copy(l->json);
  if (view == NULL) return NULL;
  for (size_t i = 0; i < sizeof vocab_keywords / sizeof vocab_keywords[0]; i++) {
    if (l->vocab & vocab_keywords[i].vocab) continue;
    for (const char *const *k = vocab_keywords[i].keywords; *k; k++) json_object_del(view, *k);
  }
  json_t **d = realloc(c->s->docs, (c->s->ndocs + 1) * sizeof *d);
  if (d == NULL) {
    json_decref(view);
    return NULL;
  }
  c->s->docs = d;
  d[c->s->ndocs++] = view;
  return view;
}

static int compile_json(cc_t *c, json_t *j, const loc_t *ctx, const char *ptr,
                        const sg__node_t **out) {
  if (json_is_boolean(j)) {
    sg__node_t *n = sg__arena_alloc(&c->s->arena, sizeof *n);
    if (n == NULL) return nomem(c);
    n->boolean = json_is_true(j);
    n->kw = n->boolean ? 0 : SG__K_FALSE;
    n->draft = ctx ? ctx->draft : SG_DRAFT_2020_12;
    n->res = ctx ? ctx->res : NULL;
    *out = n;
    return 0;
  }
  if (!json_is_object(j)) return fail(c, ptr, "", "a schema must be an object or a boolean");
  loc_t *l = map_get(c, j);
  if (l == NULL) {
    int rc = scan(c, j, ctx->base, ptr, ctx->draft, ctx->vocab, ctx->res, 0);
    if (rc) return rc == SG_ENOMEM ? nomem(c) : rc;
    l = map_get(c, j);
  }
  if (l->node) {
    *out = l->node;
    return 0;
  }
  if (++c->depth > SG__MAX_DEPTH) return fail(c, l->ptr, "", "schema nesting is too deep");
  sg__node_t *n = sg__arena_alloc(&c->s->arena, sizeof *n);
  if (n == NULL) return nomem(c);
  l->node = n;
  *out = n;
  n->boolean = -1;
  n->draft = l->draft;
  n->ptr = l->ptr;
  n->res = l->res;
  n->min_length = n->max_length = n->min_items = n->max_items = -1;
  n->min_props = n->max_props = n->min_contains = n->max_contains = -1;
  loc_t view = *l;
  if ((view.json = vocab_view(c, l)) == NULL) return nomem(c);
  l = &view;
  int rc = c_refs(c, l, n);
  if (rc == 0 && l->draft == SG_DRAFT_07 && n->ref.node) {
    /* draft-07: $ref replaces the whole schema object. */
    c->depth--;
    return 0;
  }
  if (rc == 0) rc = c_type(c, l, n);
  if (rc == 0 && (n->enum_ = json_object_get(l->json, "enum")) && !json_is_array(n->enum_))
    rc = fail(c, l->ptr, "enum", "\"enum\" must be an array");
  if (rc == 0 && (n->const_ = json_object_get(l->json, "const"))) n->has_const = 1;
  if (rc == 0) rc = c_numbers(c, l, n);
  if (rc == 0) rc = c_counts(c, l, n);
  if (rc == 0) rc = c_string(c, l, n);
  if (rc == 0) rc = c_object(c, l, n);
  if (rc == 0) rc = c_array(c, l, n);
  if (rc == 0) rc = c_applicators(c, l, n);
  c->depth--;
  return rc;
}

/* ---- $ref resolution ---- */

/* Finds or loads the document or resource at uri (no fragment). */
static json_t *find_resource(cc_t *c, const char *uri, sg_schema_draft_t draft, int *rc) {
  *rc = 0;
  json_t *j = name_get(c, uri);
  if (j) return j;
  json_t *doc = sg__metaschema(uri);
  if (doc == NULL && c->opts->resolve) doc = c->opts->resolve(c->opts->resolve_data, uri);
  if (doc == NULL) return NULL;
  *rc = add_doc(c, doc, uri, draft);
  json_decref(doc);
  if (*rc) return NULL;
  return name_get(c, uri);
}

static int resolve_ref(cc_t *c, const loc_t *l, const char *kw, const char *ref, json_t **target,
                       const loc_t **tctx, const char **tptr) {
  char *full = sg__uri_resolve(l->base, ref);
  if (full == NULL) return nomem(c);
  const char *frag;
  size_t n = sg__uri_split(full, &frag);
  char *doc_uri = sg__arena_strndup(&c->s->arena, full, n);
  char *fragment = frag ? sg__arena_strndup(&c->s->arena, frag, strlen(frag)) : NULL;
  free(full);
  if (doc_uri == NULL || (frag && fragment == NULL)) return nomem(c);

  int rc;
  json_t *doc = find_resource(c, doc_uri, l->draft, &rc);
  if (rc) return rc == SG_ENOMEM ? nomem(c) : rc;
  if (doc == NULL) return fail(c, l->ptr, kw, "cannot resolve \"%s\"", ref);
  const loc_t *dl = map_get(c, doc);
  *tctx = dl ? dl : l;
  *tptr = dl ? dl->ptr : "";
  *target = doc;
  if (fragment == NULL || fragment[0] == '\0') return 0;

  if (fragment[0] == '/') {
    if (sg__uri_percent_decode(fragment) < 0)
      return fail(c, l->ptr, kw, "\"%s\" has a malformed %%-escape", ref);
    char *walk = sg__arena_strndup(&c->s->arena, fragment, strlen(fragment));
    if (walk == NULL) return nomem(c);
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
      size_t toklen = (size_t)(w - tok);
      if (json_is_object(cur)) {
        cur = json_object_getn(cur, tok, toklen);
      } else if (json_is_array(cur)) {
        size_t i = 0, k = 0;
        for (; k < toklen && tok[k] >= '0' && tok[k] <= '9' && i < ((size_t)1 << 48); k++)
          i = i * 10 + (size_t)(tok[k] - '0');
        int ok = toklen > 0 && k == toklen && (tok[0] != '0' || toklen == 1);
        cur = ok ? json_array_get(cur, i) : NULL;
      } else {
        cur = NULL;
      }
    }
    if (cur == NULL) return fail(c, l->ptr, kw, "cannot resolve \"%s\"", ref);
    *target = cur;
    const loc_t *tl = map_get(c, cur);
    if (tl) {
      *tptr = tl->ptr;
    } else {
      char *tp = cat3(c, dl ? dl->ptr : "", fragment, "");
      if (tp == NULL) return nomem(c);
      *tptr = tp;
    }
    return 0;
  }
  char *aname = cat3(c, doc_uri, "#", fragment);
  if (aname == NULL) return nomem(c);
  json_t *a = name_get(c, aname);
  if (a == NULL) return fail(c, l->ptr, kw, "cannot resolve \"%s\": no such anchor", ref);
  *target = a;
  const loc_t *al = map_get(c, a);
  if (al) {
    *tptr = al->ptr;
    *tctx = al;
  }
  return 0;
}

/* ---- reference cycles ---- */

/* A cycle of in-place applicators ($ref, allOf, anyOf, oneOf, not, if/then/else,
   dependentSchemas, $dynamicRef's static target) evaluates the same instance forever once
   it is entered. Validation would stop it at the depth limit; refusing the schema says
   where the mistake is: the link that closes the cycle. Depth-first search, colouring
   nodes 1 (on the path) and 2 (done). */
static int in_place_cycle(cc_t *c, sg__node_t *n);

static int cycle_edge(cc_t *c, const sg__node_t *from, const sg__edge_t *e) {
  sg__node_t *to = (sg__node_t *)e->node;
  if (to == NULL || to->boolean >= 0) return 0;
  if (to->visit != 1) return in_place_cycle(c, to);
  char *where = cat3(c, from->ptr, "/", e->path);
  if (where == NULL) return nomem(c);
  char kw[64];
  snprintf(kw, sizeof kw, "%.*s", (int)strcspn(e->path, "/"), e->path);
  fail(c, where, NULL,
       "reference cycle: this applies a schema to the same value it is already "
       "validating");
  if (c->err) snprintf(c->err->keyword, sizeof c->err->keyword, "%s", kw);
  return SG_ESCHEMA;
}

static int in_place_cycle(cc_t *c, sg__node_t *n) {
  if (n == NULL || n->boolean >= 0 || n->visit == 2) return 0;
  n->visit = 1;
  const sg__edge_t *single[] = {&n->ref, &n->dynamic_ref, &n->not_, &n->if_, &n->then_, &n->else_};
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < sizeof single / sizeof single[0]; i++)
    rc = cycle_edge(c, n, single[i]);
  const struct {
    const sg__edge_t *e;
    size_t n;
  } lists[] = {{n->all_of, n->nall_of}, {n->any_of, n->nany_of}, {n->one_of, n->none_of}};
  for (size_t k = 0; rc == 0 && k < 3; k++)
    for (size_t i = 0; rc == 0 && i < lists[k].n; i++) rc = cycle_edge(c, n, &lists[k].e[i]);
  for (size_t i = 0; rc == 0 && i < n->ndep_schemas; i++)
    rc = cycle_edge(c, n, &n->dep_schemas[i].edge);
  n->visit = 2;
  return rc;
}

static int check_cycles(cc_t *c) {
  int rc = in_place_cycle(c, (sg__node_t *)c->s->root);
  for (size_t i = 0; rc == 0 && i < c->map_cap; i++) {
    if (c->map[i]) rc = in_place_cycle(c, c->map[i]->node);
  }
  return rc;
}

/* Prepares every node for validation (see prepare.c); boolean nodes need nothing more. */
static int prepare_all(cc_t *c) {
  for (size_t i = 0; i < c->map_cap; i++) {
    sg__node_t *n = c->map[i] ? c->map[i]->node : NULL;
    if (n == NULL) continue;
    if (sg__node_prepare(&c->s->arena, n)) return nomem(c);
    if (n->dynamic_anchor) c->s->dynamic = 1;
  }
  /* Each pass needs the one before it done on every node. */
  int (*const passes[])(sg__arena_t *, sg__node_t *) = {sg__node_link, sg__node_finish};
  for (size_t p = 0; p < sizeof passes / sizeof passes[0]; p++)
    for (size_t i = 0; i < c->map_cap; i++) {
      sg__node_t *n = c->map[i] ? c->map[i]->node : NULL;
      if (n && passes[p](&c->s->arena, n)) return nomem(c);
    }
  return 0;
}

/* ---- entry points ---- */

static void finish_dynamic(cc_t *c, int *rc) {
  /* Compile every $dynamicAnchor target (compiling may load more documents, so the list
     can grow while it is walked), then give each resource its table. */
  for (size_t i = 0; i < c->ndyns && *rc == 0; i++) {
    const sg__node_t *node;
    loc_t *dl = map_get(c, c->dyns[i].json);
    *rc = compile_json(c, c->dyns[i].json, dl, dl->ptr, &node);
  }
  for (size_t i = 0; i < c->ndyns && *rc == 0; i++) {
    sg__resource_t *r = c->dyns[i].res;
    if (r->dynamic) continue;
    size_t n = 0;
    for (size_t k = i; k < c->ndyns; k++) n += c->dyns[k].res == r;
    r->dynamic = sg__arena_alloc(&c->s->arena, n * sizeof *r->dynamic);
    if (r->dynamic == NULL) {
      *rc = nomem(c);
      return;
    }
    for (size_t k = i; k < c->ndyns; k++) {
      if (c->dyns[k].res != r) continue;
      r->dynamic[r->ndynamic].name = c->dyns[k].name;
      r->dynamic[r->ndynamic].node = map_get(c, c->dyns[k].json)->node;
      r->ndynamic++;
    }
  }
}

int sg_schema_compile(json_t *schema, const sg_schema_opts_t *opts, sg_schema_t **out,
                      sg_schema_error_t *err) {
  static const sg_schema_opts_t defaults;
  cc_t c;
  memset(&c, 0, sizeof c);
  c.opts = opts ? opts : &defaults;
  c.err = err;
  *out = NULL;
  if (err) memset(err, 0, sizeof *err);
  c.s = calloc(1, sizeof *c.s);
  if (c.s == NULL) return nomem(&c);

  sg_schema_draft_t draft = c.opts->default_draft;
  int rc = 0;
  const char *base = DEFAULT_BASE, *frag;
  if (c.opts->base_uri) {
    base = sg__arena_strndup(&c.s->arena, c.opts->base_uri, sg__uri_split(c.opts->base_uri, &frag));
    if (base == NULL) rc = SG_ENOMEM;
  }
  if (json_is_object(schema)) draft_of(json_object_get(schema, "$schema"), &draft);
  if (rc == 0) rc = add_doc(&c, schema, base, draft);
  if (rc == SG_ENOMEM) rc = nomem(&c);
  if (rc == 0) {
    loc_t *root = map_get(&c, schema);
    loc_t boolean_ctx = {.draft = draft, .vocab = V_DEFAULT, .base = base, .ptr = ""};
    rc = compile_json(&c, schema, root ? root : &boolean_ctx, "", &c.s->root);
  }
  if (rc == 0) finish_dynamic(&c, &rc);
  if (rc == 0) rc = check_cycles(&c);
  if (rc == 0) rc = prepare_all(&c);
  free(c.map);
  free(c.names);
  free(c.dyns);
  if (rc) {
    sg_schema_free(c.s);
    return rc;
  }
  *out = c.s;
  return 0;
}

void sg_schema_free(sg_schema_t *s) {
  if (s == NULL) return;
  for (size_t i = 0; i < s->ncodes; i++) pcre2_code_free(s->codes[i]);
  for (size_t i = 0; i < s->ndocs; i++) json_decref(s->docs[i]);
  free(s->codes);
  free(s->docs);
  sg__arena_free(&s->arena);
  free(s);
}

void sg_schema_thread_cleanup(void) {
  sg__regex_thread_cleanup();
}
