/*
 * What catalog authors and security reviewers read about a catalog: lint findings the
 * loader does not refuse (check), who may call what within which envelope (matrix), and
 * how privilege changes between two catalogs (diff). Everything here works on loaded,
 * valid catalogs; the loader's own problems are errors and are reported by the loader.
 *
 * Ownership: functions borrow the catalogs they are given. Text goes to a caller's
 * sg_buf_t; a json_t * return value is a new reference the caller releases; the strings
 * of an sg_changes_t belong to it until sg_changes_free.
 */
#ifndef SG_CATALOG_REVIEW_H
#define SG_CATALOG_REVIEW_H

#include <jansson.h>
#include <stddef.h>

#include "catalog/catalog.h"
#include "core/buf.h"

/* ---- lint (lint.c) ---- */

/* Appends one line per warning, "file: /pointer: warning: message", sorted by file and
 * pointer, and returns how many there were. The findings: a prefix that does not end in
 * "/", a pattern that is not anchored at both ends, an enveloped parameter the schema
 * does not require, a write tool granted with approval "auto" and no budget, write
 * grants in a catalog that leaves writes disabled, a schema that admits
 * parameters it does not declare, schema keywords no draft defines, a role with no grants,
 * a tool no role is granted, and a server that nothing uses. Resource prefixes get the
 * same "/" check as envelope prefixes. */
size_t sg_catalog_lint(const sg_catalog_t *c, sg_buf_t *out);

/* ---- matrix (render.c) ---- */

/* How a context reference is written in the matrix: "$tenant/", "$claims.daily_limit"
 * ("$" in the literal text after it doubled, so the text reads back the same). */
void sg_ctxref_text(const sg_ctxref_t *ref, sg_buf_t *out);

/* A grant's envelope and bindings for people: "`path` prefix `$tenant/`; `amount` ≤
 * `$claims.daily_limit`". Constants are written as JSON, context references bare. Rules
 * are in parameter order, then in the order of sg_rule_op_t. Appends "" when none. */
void sg_grant_envelope_text(const sg_grant_t *g, sg_buf_t *out);
void sg_grant_bindings_text(const sg_grant_t *g, sg_buf_t *out);
/* The pieces of those: "`amount` ≤ `100`", "`100`", "`tenant_id` = `$tenant`", and any
 * text as a code span ("`x`"). */
void sg_rule_text(const char *param, const sg_rule_t *r, sg_buf_t *out);
void sg_rule_operand_text(const sg_rule_t *r, sg_buf_t *out);
void sg_binding_text(const sg_binding_t *b, sg_buf_t *out);
void sg_code_text(const char *s, sg_buf_t *out);

/* "read" / "write"; "none" / "auto" / "required". */
const char *sg_access_name(sg_access_t a);
const char *sg_approval_name(sg_approval_t a);
/* The approval mode with an auto grant's budget: "auto, 10 calls per 3600 s". */
void sg_grant_approval_text(const sg_grant_t *g, sg_buf_t *out);

/* A resource grant's prefix as matrix.json writes it: "demo://x/$tenant/". */
void sg_resource_prefix_text(const sg_resource_grant_t *g, sg_buf_t *out);
/* r's resource grants by server, then prefix text (see render.c). */
size_t sg__role_resources_sorted(const sg_role_t *r, const sg_resource_grant_t **order,
                                 char **texts);

/* {"writes_enabled", "tools": [...], "prompts": [...], "resources": [...]}: one object per
 * role and granted tool, {role, tool, access, approval, budget ({calls, window_seconds} or
 * null), approval_timeout_seconds (null unless required), server, downstream_tool,
 * envelope, bind} (envelope and bind written as in matrix.json), sorted by role then tool;
 * per role and granted
 * prompt, {role, prompt, server, downstream_prompt}; per role and resource grant, {role,
 * server, prefix}. Returns NULL when out of memory. */
json_t *sg_catalog_matrix_json(const sg_catalog_t *c);

/* The tool rows as a Markdown table (role, tool, access, approval, envelope, bindings;
 * write tools read "write (writes off)" when the catalog leaves writes disabled),
 * followed by tables of prompt and resource grants when there are any. */
int sg_catalog_matrix_markdown(const sg_catalog_t *c, sg_buf_t *out);

/* ---- diff (diff.c) ---- */

typedef enum {
  SG_CHANGE_ROLE_ADDED,
  SG_CHANGE_ROLE_REMOVED,
  SG_CHANGE_GRANTED, /* a grant that did not exist */
  SG_CHANGE_REVOKED, /* a grant that no longer exists */
  SG_CHANGE_WIDENED, /* the grant allows more, or something not comparable */
  SG_CHANGE_NARROWED /* the grant allows strictly less */
} sg_change_kind_t;

/* What a change is about. */
typedef enum {
  SG_CHANGE_ON_ROLE,
  SG_CHANGE_ON_TOOL,
  SG_CHANGE_ON_PROMPT,
  SG_CHANGE_ON_RESOURCES /* the resource grants on one server */
} sg_change_object_t;

typedef struct {
  sg_change_kind_t kind;
  sg_change_object_t object;
  char *role;
  char *name;   /* the tool, the prompt, or the resources' server; NULL for a role */
  char *detail; /* what changed, reasons separated by "; " ("" when nothing to add) */
} sg_change_t;

typedef struct {
  sg_change_t *items; /* by role; a role change first, then tools, prompts, resources */
  size_t n;
  size_t cap;
} sg_changes_t;

/* Compares the privileges of two loaded catalogs (see the table in diff.c). Returns 0 or
 * SG_ENOMEM; out is reset first and must be released with sg_changes_free. */
int sg_catalog_diff(const sg_catalog_t *old_c, const sg_catalog_t *new_c, sg_changes_t *out);
void sg_changes_free(sg_changes_t *changes);

/* "role added", "granted", "widened", ...; "role", "tool", "prompt", "resources". */
const char *sg_change_kind_name(sg_change_kind_t kind);
const char *sg_change_object_name(sg_change_object_t object);
/* Appends the change as one line of text (no newline): "role added: R", "KIND: R TOOL",
 * "KIND: R prompt P" or "KIND: R resources on SERVER", then ": DETAIL" when there is one. */
void sg_change_line(const sg_change_t *x, sg_buf_t *out);

/* Whether a change gives someone more than before (role added, granted, widened). */
int sg_change_widens(sg_change_kind_t kind);

#endif
