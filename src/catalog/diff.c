/*
 * The privilege difference between two loaded catalogs, per role and tool: what a change
 * grants, revokes, widens or narrows, so that CI can insist on a security review when
 * anyone may do more than before. It compares the loaded, checked catalogs (not the
 * files), so reformatting, reordering keys or moving a tool to another file is no change.
 *
 * The verdict for each (role, tool) present in both catalogs collects every reason below;
 * it is "widened" when any reason widens (a grant that is wider in one way and narrower in
 * another is not comparable, and is treated as wider), "narrowed" when every reason
 * narrows, and nothing when there is no reason. When in doubt a change widens.
 *
 *   change (OLD -> NEW)                                       | verdict
 *   ----------------------------------------------------------+-------------------------
 *   role only in NEW                                          | role added (widens), and
 *                                                             |   each of its grants granted
 *   role only in OLD                                          | role removed, and each of
 *                                                             |   its grants revoked
 *   grant only in NEW (also: a tool renamed)                  | granted
 *   grant only in OLD                                         | revoked
 *   tool access read -> write                                 | widened
 *   tool access write -> read                                 | narrowed
 *   tool inputSchema not equal as JSON                        | widened ("schema changed")
 *   tool moved to another server, or another downstream tool  | widened
 *   the tool's server runs another command, arguments,        | widened
 *     environment or working directory (relative to catalog)  |
 *   the tool's server gets credentials it did not get         | widened
 *   the tool's server no longer gets some credentials         | narrowed
 *   the tool's pin removed / changed / added                  | widened / widened / narrowed
 *   approval required -> auto or none                         | widened
 *   approval auto or none -> required                         | narrowed
 *   approval none <-> auto (read tools: both mean no approval)| no change
 *   auto budget removed, more calls, or a shorter window      | widened
 *   auto budget added, fewer calls, or a longer window        | narrowed
 *   "writes_enabled" false -> true / true -> false            | widened / narrowed, for
 *                                                             |   each write tool's grants
 *   envelope rule removed (alone or with its parameter)       | widened
 *   envelope rule added (alone or with a new parameter)       | narrowed
 *   min, exclusiveMin lowered / raised                        | widened / narrowed
 *   max, exclusiveMax raised / lowered                        | widened / narrowed
 *   in: list grew (strict superset) / shrank (strict subset)  | widened / narrowed
 *   in: list changed otherwise (the same members reordered:   | widened
 *     no change)                                              |
 *   prefix shortened (NEW covers OLD) / lengthened            | widened / narrowed
 *   prefix changed otherwise                                  | widened
 *   pattern changed in any way                                | widened
 *   equals changed                                            | widened
 *   operand switches between constant and context value, or   | widened (a prefix: by what
 *     names another context value                             |   it covers, see below)
 *   binding removed                                           | widened
 *   binding added                                             | narrowed
 *   binding names another context value                       | widened
 *   prompt grant only in NEW / only in OLD                    | granted / revoked
 *   granted prompt served by another server or downstream     | widened
 *     prompt, or with other arguments                         |
 *   resource prefix (per server) that no OLD prefix covers    | granted, or widened when it
 *                                                             |   covers an OLD one
 *   OLD resource prefix that no NEW prefix covers             | revoked, or narrowed when a
 *                                                             |   NEW one lies within it
 *
 * A prefix covers another when everything under the other is under it for every caller:
 * "acme/" covers "acme/docs/" and "acme/$subject/"; "$tenant/" covers "$tenant/in/" but
 * neither "$subject/" nor "x/$tenant/" (another context value, or other leading text).
 *
 * Not privilege, so not compared: descriptions, titles, timeouts (of calls and of
 * approvals), which arguments the audit redacts, the order of anything.
 * Rules of different kinds are not weighed against each other (max 10 replaced by
 * exclusiveMax 10 is a removal, so it widens).
 */
#include <stdlib.h>
#include <string.h>

#include "catalog/review.h"
#include "core/error.h"
#include "json/equal.h"

const char *sg_change_kind_name(sg_change_kind_t kind) {
  switch (kind) {
    case SG_CHANGE_ROLE_ADDED:
      return "role added";
    case SG_CHANGE_ROLE_REMOVED:
      return "role removed";
    case SG_CHANGE_GRANTED:
      return "granted";
    case SG_CHANGE_REVOKED:
      return "revoked";
    case SG_CHANGE_WIDENED:
      return "widened";
    case SG_CHANGE_NARROWED:
      return "narrowed";
  }
  return "?";
}

const char *sg_change_object_name(sg_change_object_t object) {
  switch (object) {
    case SG_CHANGE_ON_ROLE:
      return "role";
    case SG_CHANGE_ON_TOOL:
      return "tool";
    case SG_CHANGE_ON_PROMPT:
      return "prompt";
    case SG_CHANGE_ON_RESOURCES:
      return "resources";
  }
  return "?";
}

void sg_change_line(const sg_change_t *x, sg_buf_t *out) {
  sg_buf_printf(out, "%s: %s", sg_change_kind_name(x->kind), x->role);
  if (x->object == SG_CHANGE_ON_TOOL)
    sg_buf_printf(out, " %s", x->name);
  else if (x->object == SG_CHANGE_ON_PROMPT)
    sg_buf_printf(out, " prompt %s", x->name);
  else if (x->object == SG_CHANGE_ON_RESOURCES)
    sg_buf_printf(out, " resources on %s", x->name);
  if (x->detail[0]) sg_buf_printf(out, ": %s", x->detail);
}

int sg_change_widens(sg_change_kind_t kind) {
  return kind == SG_CHANGE_ROLE_ADDED || kind == SG_CHANGE_GRANTED || kind == SG_CHANGE_WIDENED;
}

void sg_changes_free(sg_changes_t *c) {
  for (size_t i = 0; i < c->n; i++) {
    free(c->items[i].role);
    free(c->items[i].name);
    free(c->items[i].detail);
  }
  free(c->items);
  memset(c, 0, sizeof *c);
}

static int push(sg_changes_t *c, sg_change_kind_t kind, sg_change_object_t object, const char *role,
                const char *name, const char *detail) {
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 16;
    sg_change_t *v = realloc(c->items, cap * sizeof *v);
    if (v == NULL) return SG_ENOMEM;
    c->items = v;
    c->cap = cap;
  }
  sg_change_t *x = &c->items[c->n];
  x->kind = kind;
  x->object = object;
  x->role = strdup(role);
  x->name = name ? strdup(name) : NULL;
  x->detail = strdup(detail ? detail : "");
  if (x->role == NULL || (name && x->name == NULL) || x->detail == NULL) {
    free(x->role);
    free(x->name);
    free(x->detail);
    return SG_ENOMEM;
  }
  c->n++;
  return 0;
}

/* ---- reasons ---- */

typedef struct {
  sg_buf_t text; /* reasons joined by "; " */
  int widens;
  int narrows;
} verdict_t;

/* Starts a reason: dir > 0 widens, dir < 0 narrows. The caller appends its text. */
static sg_buf_t *reason(verdict_t *v, int dir) {
  if (dir > 0)
    v->widens = 1;
  else
    v->narrows = 1;
  if (v->text.len) sg_buf_append_str(&v->text, "; ");
  return &v->text;
}

/* The path from the directory from to to, both absolute and normalised ("..", "a/b", "."),
 * so that working directories compare the same wherever the catalog was unpacked. */
static void relative_path(const char *from, const char *to, sg_buf_t *out) {
  size_t common = 0, i = 0;
  for (;; i++) {
    int end_f = from[i] == '\0' || from[i] == '/', end_t = to[i] == '\0' || to[i] == '/';
    if (end_f && end_t) common = i;
    if (from[i] != to[i] || from[i] == '\0') break;
  }
  if (from[common] == '\0' && to[common] == '\0') {
    sg_buf_append_str(out, ".");
    return;
  }
  int first = 1;
  for (const char *p = from + common; *p; p++)
    if (*p == '/' && p[1] != '\0') {
      sg_buf_append_str(out, first ? ".." : "/..");
      first = 0;
    }
  if (to[common] != '\0') {
    if (!first) sg_buf_append_str(out, "/");
    sg_buf_append_str(out, to + common + 1);
  }
}

static int strv_equal(char *const *a, char *const *b) {
  for (; a && b && *a && *b; a++, b++)
    if (strcmp(*a, *b) != 0) return 0;
  return (a == NULL || *a == NULL) && (b == NULL || *b == NULL);
}

static int strv_has(char *const *v, const char *s) {
  for (; v && *v; v++)
    if (strcmp(*v, s) == 0) return 1;
  return 0;
}

/* Names in a that b lacks, as "A, B" appended to out; returns how many. */
static size_t strv_missing(char *const *a, char *const *b, sg_buf_t *out) {
  size_t n = 0;
  for (; a && *a; a++)
    if (!strv_has(b, *a)) sg_buf_printf(out, "%s%s", n++ ? ", " : "", *a);
  return n;
}

static void compare_credentials(const sg_server_conf_t *o, const sg_server_conf_t *n,
                                verdict_t *v) {
  sg_buf_t added, removed;
  sg_buf_init(&added);
  sg_buf_init(&removed);
  if (strv_missing(n->credentials, o->credentials, &added))
    sg_buf_printf(reason(v, 1), "server \"%s\" now gets credentials %s", n->name, added.data);
  if (strv_missing(o->credentials, n->credentials, &removed))
    sg_buf_printf(reason(v, -1), "server \"%s\" no longer gets credentials %s", n->name,
                  removed.data);
  sg_buf_free(&added);
  sg_buf_free(&removed);
}

static void compare_servers(const sg_catalog_t *oc, const sg_server_conf_t *o,
                            const sg_catalog_t *nc, const sg_server_conf_t *n, verdict_t *v) {
  if (strcmp(o->name, n->name) != 0) {
    sg_buf_printf(reason(v, 1), "server \"%s\" -> \"%s\"", o->name, n->name);
    return;
  }
  if (strcmp(o->command, n->command) != 0 || !strv_equal(o->argv, n->argv))
    sg_buf_printf(reason(v, 1), "server \"%s\" runs another command or arguments", o->name);
  if (!strv_equal(o->env, n->env))
    sg_buf_printf(reason(v, 1), "server \"%s\" environment changed", o->name);
  compare_credentials(o, n, v);
  sg_buf_t ow, nw;
  sg_buf_init(&ow);
  sg_buf_init(&nw);
  relative_path(oc->dir, o->cwd, &ow);
  relative_path(nc->dir, n->cwd, &nw);
  if (strcmp(ow.data, nw.data) != 0)
    sg_buf_printf(reason(v, 1), "server \"%s\" working directory \"%s\" -> \"%s\"", o->name,
                  ow.data, nw.data);
  sg_buf_free(&ow);
  sg_buf_free(&nw);
}

static void compare_tools(const sg_catalog_t *oc, const sg_tool_t *o, const sg_catalog_t *nc,
                          const sg_tool_t *n, verdict_t *v) {
  if (o->access != n->access)
    sg_buf_printf(reason(v, n->access == SG_ACCESS_WRITE ? 1 : -1), "access %s -> %s",
                  sg_access_name(o->access), sg_access_name(n->access));
  if (!sg_json_equal(o->input_schema, n->input_schema))
    sg_buf_append_str(reason(v, 1), "schema changed");
  compare_servers(oc, o->server, nc, n->server, v);
  if (strcmp(o->downstream_name, n->downstream_name) != 0)
    sg_buf_printf(reason(v, 1), "downstream tool \"%s\" -> \"%s\"", o->downstream_name,
                  n->downstream_name);
  if (o->pin && !n->pin)
    sg_buf_append_str(reason(v, 1), "pin removed");
  else if (!o->pin && n->pin)
    sg_buf_append_str(reason(v, -1), "pinned");
  else if (o->pin && !sg_json_equal(o->pin, n->pin))
    sg_buf_append_str(reason(v, 1), "pin changed");
}

static const char *str(const char *s) {
  return s ? s : "";
}

static int starts_with(const char *s, const char *prefix) {
  return strncmp(str(s), str(prefix), strlen(str(prefix))) == 0;
}

/* The same context value (kind and claim), whatever text surrounds it. */
static int same_value(const sg_ctxref_t *a, const sg_ctxref_t *b) {
  return a->kind == b->kind && strcmp(str(a->claim), str(b->claim)) == 0;
}

static int same_ref(const sg_ctxref_t *a, const sg_ctxref_t *b) {
  return same_value(a, b) && strcmp(str(a->lead), str(b->lead)) == 0 &&
         strcmp(str(a->suffix), str(b->suffix)) == 0;
}

/* A prefix as written: literal text, or a context value with literal text around it. */
typedef struct {
  const char *literal; /* when ref is NULL */
  const sg_ctxref_t *ref;
} prefix_t;

/* Whether every string under prefix b is also under prefix a, for every caller: a literal
 * a covers a literal b that starts with it, and a template b whose leading text starts
 * with it; a template a covers only a template b with the same leading text and context
 * value, whose trailing text starts with a's. */
static int covers(prefix_t a, prefix_t b) {
  if (a.ref == NULL) return starts_with(b.ref ? b.ref->lead : b.literal, a.literal);
  return b.ref && same_value(a.ref, b.ref) && strcmp(str(a.ref->lead), str(b.ref->lead)) == 0 &&
         starts_with(b.ref->suffix, a.ref->suffix);
}

/* 0 the same, 1 b admits more or something else, -1 b admits strictly less. */
static int prefix_change(prefix_t a, prefix_t b, const char **how) {
  int ab = covers(a, b), ba = covers(b, a);
  if (ab && ba) return 0;
  if (ba) return *how = "shortened", 1;
  if (ab) return *how = "lengthened", -1;
  return *how = "changed", 1;
}

static prefix_t rule_prefix(const sg_rule_t *r) {
  prefix_t p = {NULL, NULL};
  if (r->ref.kind)
    p.ref = &r->ref;
  else
    p.literal = json_string_value(r->constant);
  return p;
}

static int in_list(json_t *list, json_t *v) {
  for (size_t i = 0; i < json_array_size(list); i++)
    if (sg_json_equal(json_array_get(list, i), v)) return 1;
  return 0;
}

static int subset(json_t *a, json_t *b) {
  for (size_t i = 0; i < json_array_size(a); i++)
    if (!in_list(b, json_array_get(a, i))) return 0;
  return 1;
}

/* How a rule present in both changed: 0 not at all, 1 widened, -1 narrowed; *how gets a
 * word for it. */
static int rule_change(const sg_rule_t *o, const sg_rule_t *n, const char **how) {
  *how = "changed";
  if (o->op == SG_RULE_PREFIX) return prefix_change(rule_prefix(o), rule_prefix(n), how);
  if (o->ref.kind || n->ref.kind) return o->ref.kind && same_ref(&o->ref, &n->ref) ? 0 : 1;
  if (sg_json_equal(o->constant, n->constant)) return 0;
  switch (o->op) {
    case SG_RULE_MIN:
    case SG_RULE_XMIN:
    case SG_RULE_MAX:
    case SG_RULE_XMAX: {
      double a = json_number_value(o->constant), b = json_number_value(n->constant);
      int up = b > a, lower_bound = o->op == SG_RULE_MIN || o->op == SG_RULE_XMIN;
      *how = up ? "raised" : "lowered";
      return up == lower_bound ? -1 : 1;
    }
    case SG_RULE_IN:
      if (subset(n->constant, o->constant) && subset(o->constant, n->constant)) return 0;
      if (subset(n->constant, o->constant)) return *how = "shrank", -1;
      if (subset(o->constant, n->constant)) return *how = "grew", 1;
      return 1;
    case SG_RULE_PREFIX: /* above */
    case SG_RULE_PATTERN:
    case SG_RULE_EQUALS:
      return 1;
  }
  return 1;
}

static const sg_rule_t *find_rule(const sg_envelope_t *e, sg_rule_op_t op) {
  for (size_t i = 0; e && i < e->nrules; i++)
    if (e->rules[i].op == op) return &e->rules[i];
  return NULL;
}

static void compare_envelope(const char *param, const sg_envelope_t *o, const sg_envelope_t *n,
                             verdict_t *v) {
  for (int op = SG_RULE_MIN; op <= SG_RULE_EQUALS; op++) {
    const sg_rule_t *a = find_rule(o, (sg_rule_op_t)op), *b = find_rule(n, (sg_rule_op_t)op);
    if (a && !b) {
      sg_buf_t *t = reason(v, 1);
      sg_rule_text(param, a, t);
      sg_buf_append_str(t, " removed");
    } else if (!a && b) {
      sg_buf_t *t = reason(v, -1);
      sg_rule_text(param, b, t);
      sg_buf_append_str(t, " added");
    } else if (a && b) {
      const char *how;
      int dir = rule_change(a, b, &how);
      if (dir == 0) continue;
      sg_buf_t *t = reason(v, dir);
      sg_rule_text(param, a, t);
      sg_buf_append_str(t, " -> ");
      sg_rule_operand_text(b, t);
      sg_buf_printf(t, " (%s)", how);
    }
  }
}

static void compare_bindings(const sg_binding_t *o, const sg_binding_t *n, verdict_t *v) {
  if (o && !n) {
    sg_buf_t *t = reason(v, 1);
    sg_binding_text(o, t);
    sg_buf_append_str(t, " removed");
  } else if (!o && n) {
    sg_buf_t *t = reason(v, -1);
    sg_binding_text(n, t);
    sg_buf_append_str(t, " added");
  } else if (!same_ref(&o->ref, &n->ref)) {
    sg_buf_t *t = reason(v, 1);
    sg_binding_text(o, t);
    sg_buf_append_str(t, " -> ");
    sg_buf_t r;
    sg_buf_init(&r);
    sg_ctxref_text(&n->ref, &r);
    sg_code_text(r.data, t);
    sg_buf_free(&r);
  }
}

/* Budgets of grants that need no approval (0 calls: none). */
static void compare_budgets(const sg_grant_t *o, const sg_grant_t *n, verdict_t *v) {
  int64_t oc = o->budget_calls, ow = o->budget_window_s;
  int64_t nc = n->budget_calls, nw = n->budget_window_s;
  if (oc == nc && (oc == 0 || ow == nw)) return;
  int dir;
  if (nc == 0)
    dir = 1;
  else if (oc == 0)
    dir = -1;
  else
    dir = nc > oc || nw < ow ? 1 : -1; /* more calls or a shorter window allow more */
  sg_buf_t *t = reason(v, dir);
  if (oc == 0)
    sg_buf_printf(t, "budget %lld calls per %lld s added", (long long)nc, (long long)nw);
  else if (nc == 0)
    sg_buf_printf(t, "budget %lld calls per %lld s removed", (long long)oc, (long long)ow);
  else
    sg_buf_printf(t, "budget %lld calls per %lld s -> %lld calls per %lld s", (long long)oc,
                  (long long)ow, (long long)nc, (long long)nw);
}

static void compare_grants(const sg_catalog_t *oc, const sg_grant_t *o, const sg_catalog_t *nc,
                           const sg_grant_t *n, verdict_t *v) {
  compare_tools(oc, o->tool, nc, n->tool, v);
  if (o->tool->access == SG_ACCESS_WRITE && n->tool->access == SG_ACCESS_WRITE &&
      oc->writes_enabled != nc->writes_enabled)
    sg_buf_append_str(reason(v, nc->writes_enabled ? 1 : -1),
                      nc->writes_enabled ? "writes enabled" : "writes disabled");
  int oa = o->approval == SG_APPROVAL_REQUIRED, na = n->approval == SG_APPROVAL_REQUIRED;
  if (oa != na) {
    sg_buf_t *t = reason(v, oa ? 1 : -1);
    sg_buf_append_str(t, "approval ");
    sg_grant_approval_text(o, t);
    sg_buf_append_str(t, " -> ");
    sg_grant_approval_text(n, t);
  } else if (!oa) {
    compare_budgets(o, n, v);
  }
  /* Envelopes and bindings are sorted by parameter: merge them. */
  size_t i = 0, k = 0;
  while (i < o->nenvelope || k < n->nenvelope) {
    int c = i == o->nenvelope   ? 1
            : k == n->nenvelope ? -1
                                : strcmp(o->envelope[i].param, n->envelope[k].param);
    const sg_envelope_t *a = c <= 0 ? &o->envelope[i++] : NULL;
    const sg_envelope_t *b = c >= 0 ? &n->envelope[k++] : NULL;
    compare_envelope(a ? a->param : b->param, a, b, v);
  }
  i = k = 0;
  while (i < o->nbindings || k < n->nbindings) {
    int c = i == o->nbindings   ? 1
            : k == n->nbindings ? -1
                                : strcmp(o->bindings[i].param, n->bindings[k].param);
    compare_bindings(c <= 0 ? &o->bindings[i++] : NULL, c >= 0 ? &n->bindings[k++] : NULL, v);
  }
}

/* "write, approval auto, envelope `path` prefix `$tenant/`, bindings `tenant_id` = ..." */
static void describe(const sg_catalog_t *c, const sg_grant_t *g, sg_buf_t *out) {
  sg_buf_printf(out, "%s, approval ",
                g->tool->access == SG_ACCESS_WRITE && !c->writes_enabled
                    ? "write (writes off)"
                    : sg_access_name(g->tool->access));
  sg_grant_approval_text(g, out);
  if (g->nenvelope) {
    sg_buf_append_str(out, ", envelope ");
    sg_grant_envelope_text(g, out);
  }
  if (g->nbindings) {
    sg_buf_append_str(out, ", bindings ");
    sg_grant_bindings_text(g, out);
  }
}

static int one_grant(sg_changes_t *out, sg_change_kind_t kind, const sg_catalog_t *c,
                     const char *role, const sg_grant_t *g) {
  sg_buf_t t;
  sg_buf_init(&t);
  describe(c, g, &t);
  int rc = t.data ? push(out, kind, SG_CHANGE_ON_TOOL, role, g->tool->name, t.data) : SG_ENOMEM;
  sg_buf_free(&t);
  return rc;
}

/* ---- prompts and resources ---- */

static int compare_prompts(const sg_catalog_t *oc, const sg_role_t *o, const sg_catalog_t *nc,
                           const sg_role_t *n, sg_changes_t *out) {
  size_t i = 0, k = 0;
  int rc = 0;
  while (rc == 0 && (i < o->nprompts || k < n->nprompts)) {
    int c = i == o->nprompts   ? 1
            : k == n->nprompts ? -1
                               : strcmp(o->prompts[i]->name, n->prompts[k]->name);
    const sg_prompt_t *a = c <= 0 ? o->prompts[i++] : NULL, *b = c >= 0 ? n->prompts[k++] : NULL;
    sg_buf_t t;
    sg_buf_init(&t);
    if (a && b) {
      verdict_t v = {{NULL, 0, 0}, 0, 0};
      compare_servers(oc, a->server, nc, b->server, &v);
      if (strcmp(a->downstream_name, b->downstream_name) != 0)
        sg_buf_printf(reason(&v, 1), "downstream prompt \"%s\" -> \"%s\"", a->downstream_name,
                      b->downstream_name);
      if (!sg_json_equal(a->arguments, b->arguments))
        sg_buf_append_str(reason(&v, 1), "arguments changed");
      if (v.widens || v.narrows)
        rc = v.text.data ? push(out, v.widens ? SG_CHANGE_WIDENED : SG_CHANGE_NARROWED,
                                SG_CHANGE_ON_PROMPT, o->name, a->name, v.text.data)
                         : SG_ENOMEM;
      sg_buf_free(&v.text);
    } else {
      const sg_prompt_t *p = a ? a : b;
      sg_buf_printf(&t, "server \"%s\"", p->server->name);
      rc = t.data ? push(out, a ? SG_CHANGE_REVOKED : SG_CHANGE_GRANTED, SG_CHANGE_ON_PROMPT,
                         o->name, p->name, t.data)
                  : SG_ENOMEM;
    }
    sg_buf_free(&t);
  }
  return rc;
}

typedef struct {
  size_t n;
  const sg_resource_grant_t **g;
  char **text;
} resources_t;

static int sorted_resources(const sg_role_t *r, resources_t *x) {
  x->g = calloc(r->nresources + 1, sizeof *x->g);
  x->text = calloc(r->nresources + 1, sizeof *x->text);
  x->n = x->g && x->text ? sg__role_resources_sorted(r, x->g, x->text) : 0;
  return x->n == r->nresources ? 0 : SG_ENOMEM;
}

static void free_resources(resources_t *x) {
  for (size_t i = 0; i < x->n; i++) free(x->text[i]);
  free(x->g);
  free(x->text);
}

static prefix_t resource_prefix(const sg_resource_grant_t *g) {
  prefix_t p = {NULL, NULL};
  if (g->ref.kind)
    p.ref = &g->ref;
  else
    p.literal = g->literal;
  return p;
}

/* What grant i of from (on its server) is to the grants of to: 0 the same as one of
 * them, 1 within one of them (covered), 2 covering one that is not covered (index in
 * *j), 3 none of these. */
static int relate(const resources_t *from, size_t i, const resources_t *to, size_t *j) {
  const sg_resource_grant_t *g = from->g[i];
  int best = 3;
  for (size_t k = 0; k < to->n; k++) {
    if (strcmp(to->g[k]->server->name, g->server->name) != 0) continue;
    int a = covers(resource_prefix(to->g[k]), resource_prefix(g));
    int b = covers(resource_prefix(g), resource_prefix(to->g[k]));
    if (a && b) return 0;
    if (a)
      best = 1;
    else if (b && best > 2)
      best = 2, *j = k;
  }
  return best;
}

/* Resource grants compare as sets of prefixes per server: a new prefix no old one covers is
 * granted, or widens the old prefix it covers; an old prefix no new one covers is revoked,
 * or narrowed to the new prefix within it. */
static int compare_resources(const sg_role_t *o, const sg_role_t *n, sg_changes_t *out) {
  resources_t a = {0, NULL, NULL}, b = {0, NULL, NULL};
  int rc = sorted_resources(o, &a);
  if (rc == 0) rc = sorted_resources(n, &b);
  for (int side = 0; rc == 0 && side < 2; side++) {
    const resources_t *from = side == 0 ? &b : &a, *to = side == 0 ? &a : &b;
    for (size_t i = 0; rc == 0 && i < from->n; i++) {
      size_t j = 0;
      int rel = relate(from, i, to, &j);
      if (rel < 2) continue; /* the same, or within a prefix of the other side */
      sg_buf_t t;
      sg_buf_init(&t);
      sg_change_kind_t kind;
      if (rel == 2) {
        /* side 0: a new prefix covering an old one widens it; side 1: an old prefix
         * covering a new one is narrowed to it. */
        sg_code_text(side == 0 ? to->text[j] : from->text[i], &t);
        sg_buf_append_str(&t, " -> ");
        sg_code_text(side == 0 ? from->text[i] : to->text[j], &t);
        sg_buf_append_str(&t, side == 0 ? " (shortened)" : " (lengthened)");
        kind = side == 0 ? SG_CHANGE_WIDENED : SG_CHANGE_NARROWED;
      } else {
        sg_code_text(from->text[i], &t);
        kind = side == 0 ? SG_CHANGE_GRANTED : SG_CHANGE_REVOKED;
      }
      rc = t.data
               ? push(out, kind, SG_CHANGE_ON_RESOURCES, o->name, from->g[i]->server->name, t.data)
               : SG_ENOMEM;
      sg_buf_free(&t);
    }
  }
  free_resources(&a);
  free_resources(&b);
  return rc;
}

static int compare_roles(const sg_catalog_t *oc, const sg_role_t *o, const sg_catalog_t *nc,
                         const sg_role_t *n, sg_changes_t *out) {
  size_t i = 0, k = 0;
  int rc = 0;
  while (rc == 0 && (i < o->ngrants || k < n->ngrants)) {
    int c = i == o->ngrants   ? 1
            : k == n->ngrants ? -1
                              : strcmp(o->grants[i].tool->name, n->grants[k].tool->name);
    if (c < 0) {
      rc = one_grant(out, SG_CHANGE_REVOKED, oc, o->name, &o->grants[i++]);
    } else if (c > 0) {
      rc = one_grant(out, SG_CHANGE_GRANTED, nc, n->name, &n->grants[k++]);
    } else {
      verdict_t v = {{NULL, 0, 0}, 0, 0};
      compare_grants(oc, &o->grants[i], nc, &n->grants[k], &v);
      if (v.widens || v.narrows)
        rc = v.text.data ? push(out, v.widens ? SG_CHANGE_WIDENED : SG_CHANGE_NARROWED,
                                SG_CHANGE_ON_TOOL, o->name, o->grants[i].tool->name, v.text.data)
                         : SG_ENOMEM;
      sg_buf_free(&v.text);
      i++, k++;
    }
  }
  if (rc == 0) rc = compare_prompts(oc, o, nc, n, out);
  if (rc == 0) rc = compare_resources(o, n, out);
  return rc;
}

int sg_catalog_diff(const sg_catalog_t *oc, const sg_catalog_t *nc, sg_changes_t *out) {
  memset(out, 0, sizeof *out);
  size_t i = 0, k = 0;
  int rc = 0;
  while (rc == 0 && (i < oc->nroles || k < nc->nroles)) {
    int c = i == oc->nroles   ? 1
            : k == nc->nroles ? -1
                              : strcmp(oc->roles[i].name, nc->roles[k].name);
    if (c < 0) {
      const sg_role_t *r = &oc->roles[i++];
      rc = push(out, SG_CHANGE_ROLE_REMOVED, SG_CHANGE_ON_ROLE, r->name, NULL, NULL);
      if (rc == 0) rc = compare_roles(oc, r, nc, &(sg_role_t){r->name, NULL, 0, NULL}, out);
    } else if (c > 0) {
      const sg_role_t *r = &nc->roles[k++];
      rc = push(out, SG_CHANGE_ROLE_ADDED, SG_CHANGE_ON_ROLE, r->name, NULL, NULL);
      if (rc == 0) rc = compare_roles(oc, &(sg_role_t){r->name, NULL, 0, NULL}, nc, r, out);
    } else {
      rc = compare_roles(oc, &oc->roles[i++], nc, &nc->roles[k++], out);
    }
  }
  if (rc) sg_changes_free(out);
  return rc;
}
