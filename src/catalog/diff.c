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
 *   envelope rule removed (alone or with its parameter)       | widened
 *   envelope rule added (alone or with a new parameter)       | narrowed
 *   min, exclusiveMin lowered / raised                        | widened / narrowed
 *   max, exclusiveMax raised / lowered                        | widened / narrowed
 *   in: list grew (strict superset) / shrank (strict subset)  | widened / narrowed
 *   in: list changed otherwise (the same members reordered:   | widened
 *     no change)                                              |
 *   prefix shortened (NEW is a prefix of OLD) / lengthened    | widened / narrowed
 *   prefix changed otherwise                                  | widened
 *   pattern changed in any way                                | widened
 *   equals changed                                            | widened
 *   operand switches between constant and context value, or   | widened (except a prefix
 *     names another context value                             |   whose literal text grew)
 *   binding removed                                           | widened
 *   binding added                                             | narrowed
 *   binding names another context value                       | widened
 *
 * Not privilege, so not compared: descriptions, titles, timeouts, the order of anything.
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
    case SG_CHANGE_ROLE_ADDED: return "role added";
    case SG_CHANGE_ROLE_REMOVED: return "role removed";
    case SG_CHANGE_GRANTED: return "granted";
    case SG_CHANGE_REVOKED: return "revoked";
    case SG_CHANGE_WIDENED: return "widened";
    case SG_CHANGE_NARROWED: return "narrowed";
  }
  return "?";
}

int sg_change_widens(sg_change_kind_t kind) {
  return kind == SG_CHANGE_ROLE_ADDED || kind == SG_CHANGE_GRANTED || kind == SG_CHANGE_WIDENED;
}

void sg_changes_free(sg_changes_t *c) {
  for (size_t i = 0; i < c->n; i++) {
    free(c->items[i].role);
    free(c->items[i].tool);
    free(c->items[i].detail);
  }
  free(c->items);
  memset(c, 0, sizeof *c);
}

static int push(sg_changes_t *c, sg_change_kind_t kind, const char *role, const char *tool,
                const char *detail) {
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 16;
    sg_change_t *v = realloc(c->items, cap * sizeof *v);
    if (v == NULL) return SG_ENOMEM;
    c->items = v;
    c->cap = cap;
  }
  sg_change_t *x = &c->items[c->n];
  x->kind = kind;
  x->role = strdup(role);
  x->tool = tool ? strdup(tool) : NULL;
  x->detail = strdup(detail ? detail : "");
  if (x->role == NULL || (tool && x->tool == NULL) || x->detail == NULL) {
    free(x->role);
    free(x->tool);
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
  if (dir > 0) v->widens = 1;
  else v->narrows = 1;
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
  if (o->pin && !n->pin) sg_buf_append_str(reason(v, 1), "pin removed");
  else if (!o->pin && n->pin) sg_buf_append_str(reason(v, -1), "pinned");
  else if (o->pin && !sg_json_equal(o->pin, n->pin)) sg_buf_append_str(reason(v, 1), "pin changed");
}

static int same_ref(const sg_ctxref_t *a, const sg_ctxref_t *b) {
  return a->kind == b->kind && strcmp(a->claim ? a->claim : "", b->claim ? b->claim : "") == 0 &&
         strcmp(a->suffix ? a->suffix : "", b->suffix ? b->suffix : "") == 0;
}

static int starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
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
  if (o->ref.kind || n->ref.kind) {
    if (o->ref.kind && same_ref(&o->ref, &n->ref)) return 0;
    /* The same context value with more literal text after it is a longer prefix. */
    if (o->op == SG_RULE_PREFIX && o->ref.kind && n->ref.kind && o->ref.kind == n->ref.kind &&
        strcmp(o->ref.claim ? o->ref.claim : "", n->ref.claim ? n->ref.claim : "") == 0) {
      if (starts_with(n->ref.suffix, o->ref.suffix)) return *how = "lengthened", -1;
      if (starts_with(o->ref.suffix, n->ref.suffix)) return *how = "shortened", 1;
    }
    return 1;
  }
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
    case SG_RULE_PREFIX: {
      const char *a = json_string_value(o->constant), *b = json_string_value(n->constant);
      if (starts_with(b, a)) return *how = "lengthened", -1;
      if (starts_with(a, b)) return *how = "shortened", 1;
      return 1;
    }
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

static void compare_grants(const sg_catalog_t *oc, const sg_grant_t *o, const sg_catalog_t *nc,
                           const sg_grant_t *n, verdict_t *v) {
  compare_tools(oc, o->tool, nc, n->tool, v);
  int oa = o->approval == SG_APPROVAL_REQUIRED, na = n->approval == SG_APPROVAL_REQUIRED;
  if (oa != na)
    sg_buf_printf(reason(v, oa ? 1 : -1), "approval %s -> %s", sg_approval_name(o->approval),
                  sg_approval_name(n->approval));
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
static void describe(const sg_grant_t *g, sg_buf_t *out) {
  sg_buf_printf(out, "%s, approval %s", sg_access_name(g->tool->access),
                sg_approval_name(g->approval));
  if (g->nenvelope) {
    sg_buf_append_str(out, ", envelope ");
    sg_grant_envelope_text(g, out);
  }
  if (g->nbindings) {
    sg_buf_append_str(out, ", bindings ");
    sg_grant_bindings_text(g, out);
  }
}

static int one_grant(sg_changes_t *out, sg_change_kind_t kind, const char *role,
                     const sg_grant_t *g) {
  sg_buf_t t;
  sg_buf_init(&t);
  describe(g, &t);
  int rc = t.data ? push(out, kind, role, g->tool->name, t.data) : SG_ENOMEM;
  sg_buf_free(&t);
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
      rc = one_grant(out, SG_CHANGE_REVOKED, o->name, &o->grants[i++]);
    } else if (c > 0) {
      rc = one_grant(out, SG_CHANGE_GRANTED, n->name, &n->grants[k++]);
    } else {
      verdict_t v = {{NULL, 0, 0}, 0, 0};
      compare_grants(oc, &o->grants[i], nc, &n->grants[k], &v);
      if (v.widens || v.narrows)
        rc = v.text.data ? push(out, v.widens ? SG_CHANGE_WIDENED : SG_CHANGE_NARROWED, o->name,
                                o->grants[i].tool->name, v.text.data)
                         : SG_ENOMEM;
      sg_buf_free(&v.text);
      i++, k++;
    }
  }
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
      rc = push(out, SG_CHANGE_ROLE_REMOVED, r->name, NULL, NULL);
      if (rc == 0) rc = compare_roles(oc, r, nc, &(sg_role_t){r->name, NULL, 0, NULL}, out);
    } else if (c > 0) {
      const sg_role_t *r = &nc->roles[k++];
      rc = push(out, SG_CHANGE_ROLE_ADDED, r->name, NULL, NULL);
      if (rc == 0) rc = compare_roles(oc, &(sg_role_t){r->name, NULL, 0, NULL}, nc, r, out);
    } else {
      rc = compare_roles(oc, &oc->roles[i++], nc, &nc->roles[k++], out);
    }
  }
  if (rc) sg_changes_free(out);
  return rc;
}
