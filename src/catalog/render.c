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

void sg_ctxref_text(const sg_ctxref_t *ref, sg_buf_t *out) {
  static const char *const names[] = {"", "$subject", "$role", "$tenant", "$env", "$claims."};
  sg_buf_append_str(out, names[ref->kind]);
  if (ref->kind == SG_CTX_CLAIM) sg_buf_append_str(out, ref->claim);
  for (const char *p = ref->suffix ? ref->suffix : ""; *p; p++)
    sg_buf_append_str(out, *p == '$' ? "$$" : (char[2]){*p, 0});
}

/* Appends s with control characters shown as '?'; in a table cell '|' is escaped too. */
static void append_clean(sg_buf_t *out, const char *s, int cell) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p < 0x20 || *p == 0x7f) sg_buf_append_str(out, "?");
    else if (cell && *p == '|') sg_buf_append_str(out, "\\|");
    else sg_buf_append(out, p, 1);
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
    case SG_RULE_MIN: return "≥";
    case SG_RULE_MAX: return "≤";
    case SG_RULE_XMIN: return ">";
    case SG_RULE_XMAX: return "<";
    case SG_RULE_IN: return "in";
    case SG_RULE_PREFIX: return "prefix";
    case SG_RULE_PATTERN: return "matches";
    case SG_RULE_EQUALS: return "=";
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

void sg_code_text(const char *s, sg_buf_t *out) { append_code(out, s); }

/* An operand as matrix.json writes it: a context reference as its text, a string
 * constant starting with "$" with that "$" doubled, other constants as they are. */
static json_t *operand_json(const sg_rule_t *r) {
  if (r->ref.kind || (json_is_string(r->constant) && json_string_value(r->constant)[0] == '$')) {
    sg_buf_t t;
    sg_buf_init(&t);
    if (r->ref.kind) sg_ctxref_text(&r->ref, &t);
    else sg_buf_printf(&t, "$%s", json_string_value(r->constant));
    json_t *s = json_string(t.data ? t.data : "");
    sg_buf_free(&t);
    return s;
  }
  return json_incref(r->constant);
}

json_t *sg_catalog_matrix_json(const sg_catalog_t *c) {
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
      json_t *row = env && bind
                        ? json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:O}", "role", r->name,
                                    "tool", g->tool->name, "access",
                                    sg_access_name(g->tool->access), "approval",
                                    sg_approval_name(g->approval), "server",
                                    g->tool->server->name, "downstream_tool",
                                    g->tool->downstream_name, "envelope", env, "bind", bind)
                        : NULL;
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

static void cell(sg_buf_t *out, const char *s) {
  sg_buf_append_str(out, " ");
  if (s[0] == '\0') sg_buf_append_str(out, "-");
  else append_clean(out, s, 1);
  sg_buf_append_str(out, " |");
}

int sg_catalog_matrix_markdown(const sg_catalog_t *c, sg_buf_t *out) {
  sg_buf_append_str(out, "| role | tool | access | approval | envelope | bindings |\n"
                         "|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < c->nroles; i++) {
    const sg_role_t *r = &c->roles[i];
    for (size_t k = 0; k < r->ngrants; k++) {
      const sg_grant_t *g = &r->grants[k];
      sg_buf_t env, bind;
      sg_buf_init(&env);
      sg_buf_init(&bind);
      sg_grant_envelope_text(g, &env);
      sg_grant_bindings_text(g, &bind);
      sg_buf_append_str(out, "|");
      cell(out, r->name);
      cell(out, g->tool->name);
      cell(out, sg_access_name(g->tool->access));
      cell(out, sg_approval_name(g->approval));
      cell(out, env.data ? env.data : "");
      cell(out, bind.data ? bind.data : "");
      sg_buf_append_str(out, "\n");
      sg_buf_free(&env);
      sg_buf_free(&bind);
    }
  }
  return out->data == NULL ? SG_ENOMEM : 0;
}
