/*
 * Grants beyond "which tool": parameter envelopes and context bindings, parsed from the
 * matrix and checked when the catalog loads. A rule that names a parameter the tool's
 * schema does not declare, an operand of the wrong kind, a pattern that does not
 * compile, or rules that no value could ever satisfy together are problems: the catalog
 * is refused rather than loaded with a rule that silently means something else.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/loader.h"
#include "json/equal.h"
#include "schema/regex.h"

static const struct {
  const char *name;
  sg_rule_op_t op;
} rule_names[] = {
    {"min", SG_RULE_MIN},       {"max", SG_RULE_MAX},         {"exclusiveMin", SG_RULE_XMIN},
    {"exclusiveMax", SG_RULE_XMAX}, {"in", SG_RULE_IN},       {"prefix", SG_RULE_PREFIX},
    {"pattern", SG_RULE_PATTERN}, {"equals", SG_RULE_EQUALS},
};
#define NRULES (sizeof rule_names / sizeof rule_names[0])

static int name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Copies literal text up to the first lone '$' (turning "$$" into "$"); *end is left at
 * that '$' or at the end. */
static char *literal_until_ref(const char *s, const char **end) {
  char *out = malloc(strlen(s) + 1), *o = out;
  const char *p = s;
  while (*p) {
    if (*p == '$') {
      if (p[1] != '$') break;
      p++;
    }
    *o++ = *p++;
  }
  *o = '\0';
  *end = p;
  return out;
}

int sg__ctxref_parse(const char *s, sg_ctxref_t *ref, char **literal) {
  memset(ref, 0, sizeof *ref);
  if (literal) *literal = NULL;
  const char *at;
  char *lead = literal_until_ref(s, &at);
  if (*at == '\0') {
    if (literal) *literal = lead;
    else free(lead);
    return 0;
  }
  static const struct {
    const char *word;
    sg_ctx_kind_t kind;
  } words[] = {{"subject", SG_CTX_SUBJECT}, {"role", SG_CTX_ROLE}, {"tenant", SG_CTX_TENANT},
               {"env", SG_CTX_ENV}, {"claims.", SG_CTX_CLAIM}};
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
    size_t n = strlen(words[i].word);
    if (strncmp(at + 1, words[i].word, n) != 0) continue;
    const char *p = at + 1 + n;
    char *claim = NULL;
    if (words[i].kind == SG_CTX_CLAIM) {
      /* NAME(.NAME)* */
      const char *start = p;
      while (name_char(*p) || (*p == '.' && p > start && name_char(p[1]))) p++;
      if (p == start) break;
      claim = strndup(start, (size_t)(p - start));
    } else if (name_char(*p)) {
      continue; /* "$tenantx" is not "$tenant" */
    }
    /* The text after the reference: a second reference is not supported. */
    const char *end;
    char *suffix = literal_until_ref(p, &end);
    if (*end != '\0') {
      free(suffix);
      free(claim);
      break;
    }
    ref->kind = words[i].kind;
    ref->claim = claim;
    ref->lead = lead;
    ref->suffix = suffix;
    return 1;
  }
  free(lead);
  return -1;
}

void sg__ctxref_free(sg_ctxref_t *ref) {
  free(ref->claim);
  free(ref->lead);
  free(ref->suffix);
  memset(ref, 0, sizeof *ref);
}

/* The schema type(s) the tool declares for param, or NULL when it declares none. */
static json_t *declared(const sg_tool_t *t, const char *param) {
  return json_object_get(json_object_get(t->input_schema, "properties"), param);
}

static int cmp_envelopes(const void *a, const void *b) {
  return strcmp(((const sg_envelope_t *)a)->param, ((const sg_envelope_t *)b)->param);
}

static int cmp_bindings(const void *a, const void *b) {
  return strcmp(((const sg_binding_t *)a)->param, ((const sg_binding_t *)b)->param);
}

/* Parses one rule's operand; returns 0 when usable. */
static int parse_operand(sg__loader_t *l, sg_rule_t *r, json_t *v, const char *p) {
  /* A pattern is always a constant: '$' is regex syntax there, not a context value. */
  if (json_is_string(v) && r->op != SG_RULE_PATTERN) {
    char *lit = NULL;
    int k = sg__ctxref_parse(json_string_value(v), &r->ref, &lit);
    if (k < 0) {
      sg__problem(l, p, "\"%s\" is not a context value ($subject, $role, $tenant, $env or "
                        "$claims.NAME; write $$ for a literal $)", json_string_value(v));
      return -1;
    }
    if (k == 0) r->constant = json_string(lit);
    free(lit);
    if (k == 1 && (r->ref.suffix[0] || r->ref.lead[0]) && r->op != SG_RULE_PREFIX &&
        r->op != SG_RULE_EQUALS) {
      sg__problem(l, p, "text after a context value is only meaningful for prefix and equals");
      return -1;
    }
  } else {
    r->constant = json_incref(v);
  }
  if (r->constant == NULL) return 0;
  switch (r->op) {
    case SG_RULE_MIN: case SG_RULE_MAX: case SG_RULE_XMIN: case SG_RULE_XMAX:
      if (!json_is_number(r->constant)) {
        sg__problem(l, p, "%s needs a number or a context value", r->name);
        return -1;
      }
      break;
    case SG_RULE_IN:
      if (!json_is_array(r->constant) || json_array_size(r->constant) == 0) {
        sg__problem(l, p, "in needs a non-empty array or a context value; an empty list can "
                          "never match");
        return -1;
      }
      break;
    case SG_RULE_PREFIX:
      if (!json_is_string(r->constant) || json_string_length(r->constant) == 0) {
        sg__problem(l, p, "prefix needs a non-empty string");
        return -1;
      }
      break;
    case SG_RULE_PATTERN: {
      char msg[256];
      pcre2_code *re = NULL;
      if (!json_is_string(r->constant) ||
          sg__regex_compile(json_string_value(r->constant), json_string_length(r->constant), &re,
                            msg, sizeof msg) != 0) {
        sg__problem(l, p, "pattern does not compile: %s",
                    json_is_string(r->constant) ? msg : "not a string");
        return -1;
      }
      r->regex = re;
      break;
    }
    case SG_RULE_EQUALS:
      break;
  }
  return 0;
}

static const sg_rule_t *find_rule(const sg_envelope_t *e, sg_rule_op_t op) {
  for (size_t i = 0; i < e->nrules; i++)
    if (e->rules[i].op == op && e->rules[i].constant) return &e->rules[i];
  return NULL;
}

/* Reports constant rules that no value can satisfy together. */
static void check_satisfiable(sg__loader_t *l, const sg_envelope_t *e, const char *p) {
  const sg_rule_t *lo = find_rule(e, SG_RULE_MIN), *hi = find_rule(e, SG_RULE_MAX);
  const sg_rule_t *xlo = find_rule(e, SG_RULE_XMIN), *xhi = find_rule(e, SG_RULE_XMAX);
  const sg_rule_t *in = find_rule(e, SG_RULE_IN), *eq = find_rule(e, SG_RULE_EQUALS);
  double lov = lo ? json_number_value(lo->constant) : -INFINITY;
  double hiv = hi ? json_number_value(hi->constant) : INFINITY;
  if (xlo && json_number_value(xlo->constant) >= lov) lov = nextafter(json_number_value(xlo->constant), INFINITY);
  if (xhi && json_number_value(xhi->constant) <= hiv) hiv = nextafter(json_number_value(xhi->constant), -INFINITY);
  if (lov > hiv) sg__problem(l, p, "the bounds leave no value that could ever match");
  if (eq && in) {
    int found = 0;
    for (size_t i = 0; i < json_array_size(in->constant); i++)
      if (sg_json_equal(json_array_get(in->constant, i), eq->constant)) found = 1;
    if (!found) sg__problem(l, p, "equals names a value that in does not allow; nothing can match");
  }
  if (eq && json_is_number(eq->constant) &&
      (json_number_value(eq->constant) < lov || json_number_value(eq->constant) > hiv))
    sg__problem(l, p, "equals names a value outside the bounds; nothing can match");
}

static void parse_envelope(sg__loader_t *l, sg_grant_t *g, json_t *env, const char *ep) {
  if (!json_is_object(env)) {
    sg__problem(l, ep, "must be an object mapping parameter names to rules");
    return;
  }
  g->envelope = calloc(json_object_size(env) + 1, sizeof *g->envelope);
  const char *param;
  json_t *rules;
  json_object_foreach(env, param, rules) {
    char pp[512];
    sg__ptr_join(pp, sizeof pp, ep, param);
    if (strchr(param, '*')) {
      sg__problem(l, pp, "wildcards are not allowed; name each parameter");
      continue;
    }
    if (declared(g->tool, param) == NULL) {
      sg__problem(l, pp, "tool \"%s\" declares no parameter \"%s\"", g->tool->name, param);
      continue;
    }
    if (!json_is_object(rules) || json_object_size(rules) == 0) {
      sg__problem(l, pp, "must be an object with at least one rule");
      continue;
    }
    sg_envelope_t *e = &g->envelope[g->nenvelope++];
    e->param = strdup(param);
    e->rules = calloc(json_object_size(rules), sizeof *e->rules);
    const char *name;
    json_t *operand;
    json_object_foreach(rules, name, operand) {
      char rp[600];
      sg__ptr_join(rp, sizeof rp, pp, name);
      size_t k = 0;
      while (k < NRULES && strcmp(rule_names[k].name, name) != 0) k++;
      if (k == NRULES) {
        sg__problem(l, rp, "unknown rule \"%s\" (min, max, exclusiveMin, exclusiveMax, in, "
                           "prefix, pattern, equals)", name);
        continue;
      }
      sg_rule_t *r = &e->rules[e->nrules];
      r->op = rule_names[k].op;
      r->name = rule_names[k].name;
      if (parse_operand(l, r, operand, rp) == 0) {
        e->nrules++;
      } else {
        json_decref(r->constant);
        sg__ctxref_free(&r->ref);
        memset(r, 0, sizeof *r);
      }
    }
    check_satisfiable(l, e, pp);
  }
  qsort(g->envelope, g->nenvelope, sizeof *g->envelope, cmp_envelopes);
}

static void parse_bindings(sg__loader_t *l, sg_grant_t *g, json_t *bind, const char *bp) {
  if (!json_is_object(bind)) {
    sg__problem(l, bp, "must be an object mapping parameter names to context values");
    return;
  }
  g->bindings = calloc(json_object_size(bind) + 1, sizeof *g->bindings);
  const char *param;
  json_t *v;
  json_object_foreach(bind, param, v) {
    char pp[512];
    sg__ptr_join(pp, sizeof pp, bp, param);
    if (declared(g->tool, param) == NULL) {
      sg__problem(l, pp, "tool \"%s\" declares no parameter \"%s\"", g->tool->name, param);
      continue;
    }
    sg_ctxref_t ref;
    if (!json_is_string(v) || sg__ctxref_parse(json_string_value(v), &ref, NULL) != 1) {
      sg__problem(l, pp, "a binding must name a context value ($subject, $role, $tenant, "
                         "$env or $claims.NAME)");
      continue;
    }
    sg_binding_t *b = &g->bindings[g->nbindings++];
    b->param = strdup(param);
    b->ref = ref;
  }
  qsort(g->bindings, g->nbindings, sizeof *g->bindings, cmp_bindings);
}

#define DEFAULT_APPROVAL_TIMEOUT_S 300

static int64_t positive(sg__loader_t *l, json_t *obj, const char *key, const char *p,
                        int64_t max) {
  json_t *v = json_object_get(obj, key);
  if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > max) {
    char kp[600];
    sg__ptr_join(kp, sizeof kp, p, key);
    sg__problem(l, kp, "must be an integer from 1 to %lld", (long long)max);
    return 0;
  }
  return json_integer_value(v);
}

void sg__approval_parse(sg__loader_t *l, sg_grant_t *grant, json_t *v, const char *p,
                        const char *gp) {
  static const char *const keys[] = {"mode", "timeout_seconds", "budget", NULL};
  static const char *const budget_keys[] = {"calls", "window_seconds", NULL};
  grant->approval_timeout_ms = DEFAULT_APPROVAL_TIMEOUT_S * 1000u;
  if (v == NULL) {
    if (grant->tool->access == SG_ACCESS_WRITE)
      sg__problem(l, gp, "write tool \"%s\" needs an approval mode (\"required\" or \"auto\")",
                  grant->tool->name);
    return;
  }
  json_t *obj = json_is_object(v) ? v : NULL;
  const char *mode = json_string_value(obj ? json_object_get(obj, "mode") : v);
  if (obj) sg__only_keys(l, obj, p, keys);
  if (mode && strcmp(mode, "required") == 0) grant->approval = SG_APPROVAL_REQUIRED;
  else if (mode && strcmp(mode, "auto") == 0) grant->approval = SG_APPROVAL_AUTO;
  else {
    sg__problem(l, p, "must be \"required\", \"auto\", or {\"mode\": one of them, ...}");
    return;
  }
  if (obj == NULL) return;
  if (json_object_get(obj, "timeout_seconds")) {
    if (grant->approval != SG_APPROVAL_REQUIRED)
      sg__problem(l, p, "timeout_seconds applies to approval \"required\" only");
    grant->approval_timeout_ms = (uint64_t)positive(l, obj, "timeout_seconds", p, 86400) * 1000u;
  }
  json_t *budget = json_object_get(obj, "budget");
  if (budget) {
    char bp[600];
    sg__ptr_join(bp, sizeof bp, p, "budget");
    if (grant->approval != SG_APPROVAL_AUTO || !json_is_object(budget)) {
      sg__problem(l, bp, "a budget is {\"calls\", \"window_seconds\"} on approval \"auto\"");
      return;
    }
    sg__only_keys(l, budget, bp, budget_keys);
    grant->budget_calls = positive(l, budget, "calls", bp, 1000000);
    grant->budget_window_s = positive(l, budget, "window_seconds", bp, 31 * 86400);
  }
}

void sg__grant_parse(sg__loader_t *l, sg_grant_t *grant, json_t *g, const char *gp) {
  char p[512];
  json_t *env = json_object_get(g, "envelope");
  json_t *bind = json_object_get(g, "bind");
  if (env) {
    sg__ptr_join(p, sizeof p, gp, "envelope");
    parse_envelope(l, grant, env, p);
  }
  if (bind) {
    sg__ptr_join(p, sizeof p, gp, "bind");
    parse_bindings(l, grant, bind, p);
  }
}

void sg__grant_free(sg_grant_t *g) {
  for (size_t i = 0; i < g->nenvelope; i++) {
    sg_envelope_t *e = &g->envelope[i];
    for (size_t r = 0; r < e->nrules; r++) {
      json_decref(e->rules[r].constant);
      sg__ctxref_free(&e->rules[r].ref);
      if (e->rules[r].regex) pcre2_code_free(e->rules[r].regex);
    }
    free(e->rules);
    free(e->param);
  }
  free(g->envelope);
  for (size_t i = 0; i < g->nbindings; i++) {
    free(g->bindings[i].param);
    sg__ctxref_free(&g->bindings[i].ref);
  }
  free(g->bindings);
}
