/*
 * Lint findings about a catalog that loads. The loader refuses everything that would make
 * a rule mean something other than what it says (unknown tools, parameters or fields,
 * unsatisfiable rules, schemas that do not compile, write tools without an approval
 * mode); what is left here is legal but likely to grant more than its author meant, or
 * dead weight that hides what is granted. Each finding names the file and a JSON
 * Pointer to the value to look at, so an editor or a CI annotation can jump to it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/review.h"
#include "json/pointer.h"
#include "schema/schema.h"

typedef struct {
  char *file;
  char *ptr;
  char *msg;
} finding_t;

typedef struct {
  finding_t *v;
  size_t n, cap;
} findings_t;

__attribute__((format(printf, 4, 5))) static void add(findings_t *f, const char *file,
                                                      const char *ptr, const char *fmt, ...) {
  if (f->n == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 16;
    finding_t *v = realloc(f->v, cap * sizeof *v);
    if (v == NULL) return;
    f->v = v;
    f->cap = cap;
  }
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  finding_t *x = &f->v[f->n];
  x->file = strdup(file);
  x->ptr = strdup(ptr);
  x->msg = strdup(msg);
  if (x->file && x->ptr && x->msg) {
    f->n++;
  } else {
    free(x->file);
    free(x->ptr);
    free(x->msg);
  }
}

static int cmp_findings(const void *a, const void *b) {
  const finding_t *x = a, *y = b;
  int c = strcmp(x->file, y->file);
  if (c == 0) c = strcmp(x->ptr, y->ptr);
  if (c == 0) c = strcmp(x->msg, y->msg);
  return c;
}

/* ---- servers and tools ---- */

static void unused_servers(const sg_catalog_t *c, findings_t *f) {
  for (size_t s = 0; s < c->nservers; s++) {
    const sg_server_conf_t *sc = &c->servers[s];
    int used = 0;
    for (size_t t = 0; t < c->ntools && !used; t++) used = c->tools[t].server == sc;
    for (size_t p = 0; p < c->nprompts && !used; p++) used = c->prompts[p].server == sc;
    for (size_t r = 0; r < c->nroles && !used; r++)
      for (size_t g = 0; g < c->roles[r].nresources && !used; g++)
        used = c->roles[r].resources[g].server == sc;
    if (used) continue;
    char p[512] = "/servers";
    sg_json_pointer_append(p, sizeof p, sc->name);
    add(f, "servers.json", p, "server \"%s\" is used by no tool, prompt or resource grant",
        sc->name);
  }
}

typedef struct {
  findings_t *f;
  const sg_tool_t *tool;
} keyword_ctx_t;

static void unknown_keyword(void *data, const char *where, const char *keyword) {
  keyword_ctx_t *k = data;
  char p[600];
  snprintf(p, sizeof p, "/inputSchema%s", where);
  add(k->f, k->tool->file, p,
      "\"%s\" is not a JSON Schema keyword, so validation ignores it (misspelt? extensions "
      "start with \"x-\")",
      keyword);
}

static int granted_anywhere(const sg_catalog_t *c, const sg_tool_t *t) {
  for (size_t r = 0; r < c->nroles; r++)
    if (sg_role_grant(&c->roles[r], t->name)) return 1;
  return 0;
}

static void tools(const sg_catalog_t *c, findings_t *f) {
  for (size_t i = 0; i < c->ntools; i++) {
    const sg_tool_t *t = &c->tools[i];
    if (!granted_anywhere(c, t))
      add(f, t->file, "/name", "tool \"%s\" is granted to no role", t->name);
    json_t *ap = json_object_get(t->input_schema, "additionalProperties");
    json_t *up = json_object_get(t->input_schema, "unevaluatedProperties");
    if (!json_is_false(ap) && !json_is_false(up))
      add(f, t->file, "/inputSchema",
          "the schema admits parameters it does not declare (no \"additionalProperties\": "
          "false), and they are passed to the downstream unchecked");
    keyword_ctx_t k = {f, t};
    sg_schema_unknown_keywords(t->input_schema, unknown_keyword, &k);
  }
}

/* ---- grants ---- */

static int required_by_schema(const sg_tool_t *t, const char *param) {
  json_t *req = json_object_get(t->input_schema, "required");
  for (size_t i = 0; i < json_array_size(req); i++)
    if (json_is_string(json_array_get(req, i)) &&
        strcmp(json_string_value(json_array_get(req, i)), param) == 0)
      return 1;
  return 0;
}

static void prefix_finding(findings_t *f, const char *ptr, const char *text,
                           const char *literal_end) {
  size_t n = strlen(literal_end);
  if (n == 0 || literal_end[n - 1] != '/')
    add(f, "matrix.json", ptr,
        "prefix \"%s\" does not end in \"/\", so it also admits names that merely start "
        "with it (\"acme\" admits \"acmecorp\")",
        text);
}

/* Whether pattern ends with an unescaped "$". */
static int ends_anchored(const char *pattern) {
  size_t n = strlen(pattern), slashes = 0;
  if (n == 0 || pattern[n - 1] != '$') return 0;
  for (size_t i = n - 1; i > 0 && pattern[i - 1] == '\\'; i--) slashes++;
  return slashes % 2 == 0;
}

static void rule_findings(const sg_rule_t *r, const char *rp, findings_t *f) {
  if (r->op == SG_RULE_PREFIX) {
    sg_buf_t t;
    sg_buf_init(&t);
    const char *text;
    if (r->ref.kind) {
      sg_ctxref_text(&r->ref, &t);
      text = r->ref.suffix;
    } else {
      sg_buf_append_str(&t, json_string_value(r->constant));
      text = json_string_value(r->constant);
    }
    prefix_finding(f, rp, t.data ? t.data : "", text);
    sg_buf_free(&t);
  } else if (r->op == SG_RULE_PATTERN) {
    const char *pat = json_string_value(r->constant);
    if (pat[0] != '^' || !ends_anchored(pat))
      add(f, "matrix.json", rp,
          "pattern \"%s\" is not anchored with ^ and $, so it admits any value that merely "
          "contains a match",
          pat);
  }
}

static void grants(const sg_catalog_t *c, findings_t *f) {
  for (size_t i = 0; i < c->nroles; i++) {
    const sg_role_t *r = &c->roles[i];
    char rp[512] = "/roles";
    sg_json_pointer_append(rp, sizeof rp, r->name);
    sg_json_pointer_append(rp, sizeof rp, "tools");
    if (r->ngrants == 0 && r->nprompts == 0 && r->nresources == 0)
      add(f, "matrix.json", rp, "role \"%s\" has no grants", r->name);
    for (size_t k = 0; k < r->nresources; k++) {
      const sg_resource_grant_t *g = &r->resources[k];
      char p[600] = "/roles";
      sg_json_pointer_append(p, sizeof p, r->name);
      sg_json_pointer_append(p, sizeof p, "resources");
      sg_json_pointer_append_index(p, sizeof p, k);
      sg_json_pointer_append(p, sizeof p, "prefix");
      sg_buf_t t;
      sg_buf_init(&t);
      sg_buf_append_str(&t, "");
      sg_resource_prefix_text(g, &t);
      prefix_finding(f, p, t.data ? t.data : "", g->ref.kind ? g->ref.suffix : g->literal);
      sg_buf_free(&t);
    }
    for (size_t k = 0; k < r->ngrants; k++) {
      const sg_grant_t *g = &r->grants[k];
      char gp[600], p[700];
      snprintf(gp, sizeof gp, "%s", rp);
      sg_json_pointer_append(gp, sizeof gp, g->tool->name);
      if (g->tool->access == SG_ACCESS_WRITE && g->approval == SG_APPROVAL_AUTO &&
          g->budget_calls == 0) {
        snprintf(p, sizeof p, "%s/approval", gp);
        add(f, "matrix.json", p,
            "write tool \"%s\" is granted with approval \"auto\" and no budget: any number "
            "of its calls run without anyone approving them",
            g->tool->name);
      }
      for (size_t e = 0; e < g->nenvelope; e++) {
        const sg_envelope_t *env = &g->envelope[e];
        char ep[700];
        snprintf(ep, sizeof ep, "%s/envelope", gp);
        sg_json_pointer_append(ep, sizeof ep, env->param);
        if (!required_by_schema(g->tool, env->param))
          add(f, "matrix.json", ep,
              "parameter \"%s\" has an envelope, but the schema of \"%s\" does not require "
              "it: clients are told they may leave it out, and calls that do are refused",
              env->param, g->tool->name);
        for (size_t q = 0; q < env->nrules; q++) {
          char qp[800];
          snprintf(qp, sizeof qp, "%s", ep);
          sg_json_pointer_append(qp, sizeof qp, env->rules[q].name);
          rule_findings(&env->rules[q], qp, f);
        }
      }
    }
  }
}

/* Write grants in a catalog that leaves writes disabled grant nothing, which is the safe
 * default but rarely what a catalog that bothers to grant them means. */
static void writes_off(const sg_catalog_t *c, findings_t *f) {
  size_t n = 0;
  for (size_t i = 0; i < c->nroles; i++)
    for (size_t k = 0; k < c->roles[i].ngrants; k++)
      n += c->roles[i].grants[k].tool->access == SG_ACCESS_WRITE;
  if (n && !c->writes_enabled)
    add(f, "matrix.json", "/writes_enabled",
        "%zu grant%s of write tools, but \"writes_enabled\" is not true, so none of them can "
        "be called",
        n, n == 1 ? "" : "s");
}

size_t sg_catalog_lint(const sg_catalog_t *c, sg_buf_t *out) {
  findings_t f = {NULL, 0, 0};
  unused_servers(c, &f);
  tools(c, &f);
  grants(c, &f);
  writes_off(c, &f);
  if (f.n) qsort(f.v, f.n, sizeof *f.v, cmp_findings);
  for (size_t i = 0; i < f.n; i++) {
    sg_buf_printf(out, "%s: %s: warning: %s\n", f.v[i].file, f.v[i].ptr, f.v[i].msg);
    free(f.v[i].file);
    free(f.v[i].ptr);
    free(f.v[i].msg);
  }
  free(f.v);
  return f.n;
}
