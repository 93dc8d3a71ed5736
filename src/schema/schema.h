/*
 * JSON Schema (draft 2020-12 and draft-07): compile once, validate many times.
 *
 * Ownership: sg_schema_compile borrows the schema document; the compiled schema keeps its
 * own references to the JSON it needs, so the caller may drop the document afterwards.
 * sg_schema_validate borrows the instance. A compiled schema is immutable and may be
 * shared; it is freed with sg_schema_free once nobody uses it.
 *
 * Threads: any number of threads may validate against the same compiled schema at once.
 * Pattern matching uses one PCRE2 match-data block and JIT stack per thread, created the
 * first time the thread matches a pattern and reused afterwards. Apart from that first
 * match, validation allocates only for uniqueItems over more than 32 items, for
 * unevaluatedProperties/unevaluatedItems over more than 512 members or items, and for
 * the asserted "regex" format. A thread that ends may release its matching state with
 * sg_schema_thread_cleanup.
 *
 * Failing closed: a pattern that exceeds its match limits, or an evaluation that exceeds
 * the recursion limit (recursion as deep as the instance allows), makes the instance
 * invalid, whatever keywords such as "not" around it would say. A cycle of $ref and
 * in-place applicators that never moves into the instance is refused at compile time.
 *
 * Coverage: every keyword of the 2020-12 core, applicator, unevaluated and validation
 * vocabularies and of draft-07 ($ref, $id, $anchor, $dynamicRef/$dynamicAnchor,
 * $vocabulary in custom meta-schemas, definitions/$defs, dependencies); the meta-schemas
 * of both drafts are built in. Patterns follow ECMA-262 on PCRE2; variable-width
 * lookbehind is not available. Asserted host names apply the IDNA2008 rules that need
 * no derived-property table (src/schema/idna.c), not the Bidi rule. Unknown keywords are
 * ignored. A 2020-12 schema may use
 * the draft-07 spellings "items": [...], "additionalItems" and "dependencies".
 *
 * Errors: sg_schema_validate stops at the first failing keyword. When no alternative of
 * anyOf or oneOf matches, the error of the alternative the value was evidently meant for
 * is reported if there is one. sg_schema_validate_all goes on past each failing keyword
 * and reports every error it meets, in evaluation order; a failing anyOf or oneOf
 * contributes the one error sg_schema_validate would give for it, and probes (not, if,
 * contains, the alternatives tried) report nothing of their own. Its verdict is always
 * that of sg_schema_validate.
 */
#ifndef SG_SCHEMA_SCHEMA_H
#define SG_SCHEMA_SCHEMA_H

#include <jansson.h>

typedef struct sg_schema sg_schema_t;

typedef enum { SG_DRAFT_2020_12 = 0, SG_DRAFT_07 = 1 } sg_schema_draft_t;

/* Returns a new reference to the schema document at uri (absolute, without a fragment),
   or NULL when it is unknown. Never called for the documents the compiler knows. */
typedef json_t *(*sg_schema_resolve_fn)(void *data, const char *uri);

typedef struct {
  sg_schema_draft_t default_draft; /* used when the schema has no $schema; 2020-12 by default */
  int format_assert;               /* 0: format is an annotation only */
  sg_schema_resolve_fn resolve;    /* documents that $ref names by URI; NULL: none */
  void *resolve_data;
  /* Absolute URI the schema was read from, against which relative $id and $ref resolve
     (e.g. "file:///srv/catalog/tools/send.json"); NULL: "urn:scopegate:schema". */
  const char *base_uri;
} sg_schema_opts_t;

typedef struct {
  /* JSON Pointer into the instance, "" for the root, e.g. "/items/0/name". */
  char instance_location[512];
  /* JSON Pointer to the failing keyword along the evaluation path, e.g.
     "/properties/items/items/properties/name/maxLength"; a $ref shows as its own token
     ("/properties/a/$ref/maxLength"). For a compile error, the keyword's place in the
     schema document. */
  char keyword_location[512];
  char keyword[64];  /* e.g. "maxLength" */
  char message[512]; /* short, for people: "string is longer than 10 characters" */
} sg_schema_error_t;

/* Compiles schema (borrowed). opts may be NULL. On failure returns SG_ESCHEMA (or
   SG_ENOMEM) and fills err, if non-NULL; keyword_location says where in the schema. */
int sg_schema_compile(json_t *schema, const sg_schema_opts_t *opts, sg_schema_t **out,
                      sg_schema_error_t *err);

/* Returns 0 when instance is valid, SG_EINVALID_ARGS when it is not; err, if non-NULL,
   gets the first error found. */
int sg_schema_validate(const sg_schema_t *s, json_t *instance, sg_schema_error_t *err);

/* Every error, each handed to fn (borrowed for the duration of the call); returns as
   sg_schema_validate does. Meant for people reading errors (scopegate validate --all):
   it allocates nothing itself, but does more work than sg_schema_validate. */
typedef void (*sg_schema_error_fn)(void *data, const sg_schema_error_t *e);
int sg_schema_validate_all(const sg_schema_t *s, json_t *instance, sg_schema_error_fn fn,
                           void *data);

void sg_schema_free(sg_schema_t *s);

/* Reports, through fn, each keyword in schema (borrowed) that no draft defines, such as a
   misspelt "maxLenght", which validation would silently ignore; keyword_location says
   where it is. Keywords starting with "x-" are taken as deliberate extensions. Returns
   how many were found. */
typedef void (*sg_schema_unknown_fn)(void *data, const char *keyword_location, const char *keyword);
size_t sg_schema_unknown_keywords(json_t *schema, sg_schema_unknown_fn fn, void *data);

/* Frees the calling thread's pattern match-data block, if it has one. */
void sg_schema_thread_cleanup(void);

#endif
