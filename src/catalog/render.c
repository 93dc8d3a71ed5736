/*
 * The capability matrix as a reviewer reads it: one row per role and granted tool, with
 * the tool's access, the grant's approval mode, its envelope and its context bindings,
 * as a Markdown table or as JSON. Rows follow the loaded catalog's order (roles and
 * grants are sorted by name when the catalog loads), and rules within a parameter follow
 * sg_rule_op_t, so the same catalog always renders to the same bytes and a textual diff
 * of two renderings shows only real changes.
 *
 * Text from the catalog may hold anything JSON allows, so control characters are shown
 * as '?' and table cells escape '|'; a rendering can neither break the table nor drive a
 * terminal.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog/review.h"
#include "core/error.h"

const char *sg_access_name(sg_access_t a) {
  return a == SG_ACCESS_WRITE ? "write" : "read";
}

const char *sg_approval_name(sg_approval_t a) {
  return a == SG_APPROVAL_REQUIRED ? "required" : a == SG_APPROVAL_AUTO ? "auto" : "none";
}

/* Appends literal text as the catalog writes it: each "$" doubled. */
static void append_literal(sg_buf_t *out, const char *s) {
  for (const char *p = s ? s : ""; *p; p++)
    sg_buf_append_str(out, *p == '$' ? "$$" : (char[2]){*p, 0});
}

void sg_grant_approval_text(const sg_grant_t *g, sg_buf_t *out) {
  sg_buf_append_str(out, sg_approval_name(g->approval));
  if (g->approval == SG_APPROVAL_AUTO && g->budget_calls > 0)
    sg_buf_printf(out, ", %lld calls per %lld s", (long long)g->budget_calls,
                  (long long)g->budget_window_s);
}

void sg_ctxref_text(const sg_ctxref_t *ref, sg_buf_t *out) {
  static const char *const names[] = {"", "$subject", "$role", "$tenant", "$env", "$claims."};
  append_literal(out, ref->lead);
  sg_buf_append_str(out, names[ref->kind]);
  if (ref->kind == SG_CTX_CLAIM) sg_buf_append_str(out, ref->claim);
  append_literal(out, ref->suffix);
}

void sg_resource_prefix_text(const sg_resource_grant_t *g, sg_buf_t *out) {
  if (g->ref.kind)
    sg_ctxref_text(&g->ref, out);
  else
    append_literal(out, g->literal);
}

/* Appends s with control characters shown as '?'; in a table cell '|' is escaped too. */
static void append_clean(sg_buf_t *out, const char *s, int cell) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p < 0x20 || *p == 0x7f)
      sg_buf_append_str(out, "?");
    else if (cell && *p == '|')
      sg_buf_append_str(out, "\\|");
    else
      sg_buf_append(out, p, 1);
  }
}

/* Appends s as a Markdown code span, with a fence longer than any run of backticks in
 * it, and padded when it starts or ends with one. */
static void append_code(sg_buf_t *out, const char *s) {
  size_t run = 0, longest = 0;
  for (const char *p = s; *p; p++) {
    run = *p == '`' ? run + 1 : 0;
    if (run > longest) longest = run;
  }
  size_t n = strlen(s);
  int pad = n > 0 && (s[0] == '`' || s[n - 1] == '`');
  for (size_t i = 0; i <= longest; i++) sg_buf_append_str(out, "`");
  if (pad) sg_buf_append_str(out, " ");
  append_clean(out, s, 0);
  if (pad) sg_buf_append_str(out, " ");
  for (size_t i = 0; i <= longest; i++) sg_buf_append_str(out, "`");
}

void sg_rule_operand_text(const sg_rule_t *r, sg_buf_t *out) {
  sg_buf_t t;
  sg_buf_init(&t);
  if (r->ref.kind) {
    sg_ctxref_text(&r->ref, &t);
  } else {
    char *s = json_dumps(r->constant, JSON_COMPACT | JSON_ENCODE_ANY);
    sg_buf_append_str(&t, s ? s : "?");
    free(s);
  }
  append_code(out, t.data ? t.data : "");
  sg_buf_free(&t);
}

static const char *rule_word(sg_rule_op_t op) {
  switch (op) {
    case SG_RULE_MIN:
      return "≥";
    case SG_RULE_MAX:
      return "≤";
    case SG_RULE_XMIN:
      return ">";
    case SG_RULE_XMAX:
      return "<";
    case SG_RULE_IN:
      return "in";
    case SG_RULE_PREFIX:
      return "prefix";
    case SG_RULE_PATTERN:
      return "matches";
    case SG_RULE_EQUALS:
      return "=";
  }
  return "?";
}

void sg_rule_text(const char *param, const sg_rule_t *r, sg_buf_t *out) {
  append_code(out, param);
  sg_buf_printf(out, " %s ", rule_word(r->op));
  sg_rule_operand_text(r, out);
}

void sg_grant_envelope_text(const sg_grant_t *g, sg_buf_t *out) {
  int first = 1;
  for (size_t i = 0; i < g->nenvelope; i++) {
    const sg_envelope_t *e = &g->envelope[i];
    for (int op = SG_RULE_MIN; op <= SG_RULE_EQUALS; op++)
      for (size_t k = 0; k < e->nrules; k++) {
        if ((int)e->rules[k].op != op) continue;
        if (!first) sg_buf_append_str(out, "; ");
        first = 0;
        sg_rule_text(e->param, &e->rules[k], out);
      }
  }
  sg_buf_append_str(out, ""); /* so that out->data is a string even when there are none */
}

void sg_grant_bindings_text(const sg_grant_t *g, sg_buf_t *out) {
  sg_buf_append_str(out, "");
  for (size_t i = 0; i < g->nbindings; i++) {
    if (i) sg_buf_append_str(out, "; ");
    sg_binding_text(&g->bindings[i], out);
  }
}

void sg_binding_text(const sg_binding_t *b, sg_buf_t *out) {
  sg_buf_t t;
  sg_buf_init(&t);
  sg_ctxref_text(&b->ref, &t);
  append_code(out, b->param);
  sg_buf_append_str(out, " = ");
  append_code(out, t.data ? t.data : "");
  sg_buf_free(&t);
}

void sg_code_text(const char *s, sg_buf_t *out) {
  append_code(out, s);
}

/* An operand as matrix.json writes it: a context reference as its text, a string
 * constant with each "$" doubled (except in a pattern, where "$" is regex syntax), other
 * constants as they are. */
static json_t *operand_json(const sg_rule_t *r) {
  if (r->ref.kind || (json_is_string(r->constant) && r->op != SG_RULE_PATTERN)) {
    sg_buf_t t;
    sg_buf_init(&t);
    sg_buf_append_str(&t, "");
    if (r->ref.kind)
      sg_ctxref_text(&r->ref, &t);
    else
      append_literal(&t, json_string_value(r->constant));
    json_t *s = json_string(t.data ? t.data : "");
    sg_buf_free(&t);
    return s;
  }
  return json_incref(r->constant);
}

static json_t *tool_rows(const sg_catalog_t *c) {
  json_t *rows = json_array();
  if (rows == NULL) return NULL;
  for (size_t i = 0; i < c->nroles; i++) {
    const sg_role_t *r = &c->roles[i];
    for (size_t k = 0; k < r->ngrants; k++) {
      const sg_grant_t *g = &r->grants[k];
      json_t *env = json_object(), *bind = json_object();
      for (size_t e = 0; env && e < g->nenvelope; e++) {
        json_t *rules = json_object();
        for (size_t q = 0; rules && q < g->envelope[e].nrules; q++)
          json_object_set_new(rules, g->envelope[e].rules[q].name,
                              operand_json(&g->envelope[e].rules[q]));
        json_object_set_new(env, g->envelope[e].param, rules);
      }
      for (size_t b = 0; bind && b < g->nbindings; b++) {
        sg_buf_t t;
        sg_buf_init(&t);
        sg_ctxref_text(&g->bindings[b].ref, &t);
        json_object_set_new(bind, g->bindings[b].param, json_string(t.data ? t.data : ""));
        sg_buf_free(&t);
      }
      json_t *budget = g->approval == SG_APPROVAL_AUTO && g->budget_calls > 0
                           ? json_pack("{s:I, s:I}", "calls", (json_int_t)g->budget_calls,
                                       "window_seconds", (json_int_t)g->budget_window_s)
                           : json_null();
      json_t *timeout = g->approval == SG_APPROVAL_REQUIRED
                            ? json_integer((json_int_t)(g->approval_timeout_ms / 1000))
                            : json_null();
      json_t *row =
          env && bind && budget && timeout
              ? json_pack("{s:s, s:s, s:s, s:s, s:O, s:O, s:s, s:s, s:O, s:O}", "role", r->name,
                          "tool", g->tool->name, "access", sg_access_name(g->tool->access),
                          "approval", sg_approval_name(g->approval), "budget", budget,
                          "approval_timeout_seconds", timeout, "server", g->tool->server->name,
                          "downstream_tool", g->tool->downstream_name, "envelope", env, "bind",
                          bind)
              : NULL;
      json_decref(budget);
      json_decref(timeout);
      json_decref(env);
      json_decref(bind);
      if (row == NULL || json_array_append_new(rows, row) != 0) {
        json_decref(rows);
        return NULL;
      }
    }
  }
  return rows;
}

static json_t *prompt_rows(const sg_catalog_t *c) {
  json_t *rows = json_array();
  for (size_t i = 0; rows && i < c->nroles; i++)
    for (size_t k = 0; k < c->roles[i].nprompts; k++) {
      const sg_prompt_t *p = c->roles[i].prompts[k];
      if (json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s}", "role", c->roles[i].name,
                                                "prompt", p->name, "server", p->server->name,
                                                "downstream_prompt", p->downstream_name)) != 0) {
        json_decref(rows);
        return NULL;
      }
    }
  return rows;
}

/* Resource grants of a role in a stable order: by server, then prefix text. */
typedef struct {
  const sg_resource_grant_t *g;
  char *text;
} resource_row_t;

static int cmp_resource_rows(const void *a, const void *b) {
  const resource_row_t *x = a, *y = b;
  int c = strcmp(x->g->server->name, y->g->server->name);
  return c ? c : strcmp(x->text, y->text);
}

/* Fills order and texts (each of r->nresources entries; the texts to be freed by the
 * caller) with r's resource grants sorted by server, then prefix as written. Returns how
 * many were filled, fewer than r->nresources only when out of memory. */
size_t sg__role_resources_sorted(const sg_role_t *r, const sg_resource_grant_t **order,
                                 char **texts) {
  resource_row_t *rows = calloc(r->nresources + 1, sizeof *rows);
  if (rows == NULL) return 0;
  size_t n = 0;
  for (size_t i = 0; i < r->nresources; i++) {
    sg_buf_t t;
    sg_buf_init(&t);
    sg_buf_append_str(&t, "");
    sg_resource_prefix_text(&r->resources[i], &t);
    if (t.data == NULL) continue;
    rows[n].g = &r->resources[i];
    rows[n++].text = sg_buf_steal(&t, NULL);
  }
  qsort(rows, n, sizeof *rows, cmp_resource_rows);
  for (size_t i = 0; i < n; i++) {
    order[i] = rows[i].g;
    texts[i] = rows[i].text;
  }
  free(rows);
  return n;
}

/* Calls fn for each role's resource grants in order, with the prefix as written. */
static int each_resource(const sg_catalog_t *c,
                         int (*fn)(void *data, const sg_role_t *r, const sg_resource_grant_t *g,
                                   const char *text),
                         void *data) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < c->nroles; i++) {
    const sg_role_t *r = &c->roles[i];
    const sg_resource_grant_t **order = calloc(r->nresources + 1, sizeof *order);
    char **texts = calloc(r->nresources + 1, sizeof *texts);
    size_t n = order && texts ? sg__role_resources_sorted(r, order, texts) : 0;
    if (n < r->nresources) rc = SG_ENOMEM;
    for (size_t k = 0; k < n; k++) {
      if (rc == 0) rc = fn(data, r, order[k], texts[k]);
      free(texts[k]);
    }
    free(order);
    free(texts);
  }
  return rc;
}

static int resource_json(void *data, const sg_role_t *r, const sg_resource_grant_t *g,
                         const char *text) {
  return json_array_append_new(data, json_pack("{s:s, s:s, s:s}", "role", r->name, "server",
                                               g->server->name, "prefix", text))
             ? SG_ENOMEM
             : 0;
}

json_t *sg_catalog_matrix_json(const sg_catalog_t *c) {
  json_t *resources = json_array();
  if (resources && each_resource(c, resource_json, resources) != 0) {
    json_decref(resources);
    resources = NULL;
  }
  json_t *tools = tool_rows(c), *prompts = prompt_rows(c);
  json_t *all = tools && prompts && resources
                    ? json_pack("{s:b, s:O, s:O, s:O}", "writes_enabled", c->writes_enabled,
                                "tools", tools, "prompts", prompts, "resources", resources)
                    : NULL;
  json_decref(tools);
  json_decref(prompts);
  json_decref(resources);
  return all;
}

static void cell(sg_buf_t *out, const char *s) {
  sg_buf_append_str(out, " ");
  if (s[0] == '\0')
    sg_buf_append_str(out, "-");
  else
    append_clean(out, s, 1);
  sg_buf_append_str(out, " |");
}

static int resource_markdown(void *data, const sg_role_t *r, const sg_resource_grant_t *g,
                             const char *text) {
  sg_buf_t *out = data, code;
  sg_buf_init(&code);
  append_code(&code, text);
  sg_buf_append_str(out, "|");
  cell(out, r->name);
  cell(out, code.data ? code.data : "");
  cell(out, g->server->name);
  sg_buf_append_str(out, "\n");
  sg_buf_free(&code);
  return 0;
}

int sg_catalog_matrix_markdown(const sg_catalog_t *c, sg_buf_t *out) {
  sg_buf_append_str(out,
                    "| role | tool | access | approval | envelope | bindings |\n"
                    "|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < c->nroles; i++) {
    const sg_role_t *r = &c->roles[i];
    for (size_t k = 0; k < r->ngrants; k++) {
      const sg_grant_t *g = &r->grants[k];
      sg_buf_t env, bind, approval;
      sg_buf_init(&env);
      sg_buf_init(&bind);
      sg_buf_init(&approval);
      sg_grant_envelope_text(g, &env);
      sg_grant_bindings_text(g, &bind);
      sg_grant_approval_text(g, &approval);
      sg_buf_append_str(out, "|");
      cell(out, r->name);
      cell(out, g->tool->name);
      cell(out, g->tool->access == SG_ACCESS_WRITE && !c->writes_enabled
                    ? "write (writes off)"
                    : sg_access_name(g->tool->access));
      cell(out, approval.data ? approval.data : "");
      cell(out, env.data ? env.data : "");
      cell(out, bind.data ? bind.data : "");
      sg_buf_append_str(out, "\n");
      sg_buf_free(&env);
      sg_buf_free(&bind);
      sg_buf_free(&approval);
    }
  }
  /* Prompts and resources, in tables of their own, only when some role has them. */
  int any_prompts = 0, any_resources = 0;
  for (size_t i = 0; i < c->nroles; i++) {
    any_prompts |= c->roles[i].nprompts > 0;
    any_resources |= c->roles[i].nresources > 0;
  }
  if (any_prompts) {
    sg_buf_append_str(out, "\n| role | prompt | server |\n|---|---|---|\n");
    for (size_t i = 0; i < c->nroles; i++)
      for (size_t k = 0; k < c->roles[i].nprompts; k++) {
        sg_buf_append_str(out, "|");
        cell(out, c->roles[i].name);
        cell(out, c->roles[i].prompts[k]->name);
        cell(out, c->roles[i].prompts[k]->server->name);
        sg_buf_append_str(out, "\n");
      }
  }
  if (any_resources) {
    sg_buf_append_str(out, "\n| role | resources under | server |\n|---|---|---|\n");
    if (each_resource(c, resource_markdown, out) != 0) return SG_ENOMEM;
  }
  return out->data == NULL ? SG_ENOMEM : 0;
}
