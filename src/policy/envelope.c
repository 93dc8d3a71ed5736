/*
 * Bindings and envelope rules (see envelope.h). Every rule fails closed: a value of the
 * wrong type, a context value that is missing or of the wrong type, or a pattern that
 * hits its match limits is outside the envelope. Messages name the parameter and the
 * rule and show constants from the catalog, never values from the caller's context.
 */
#include "policy/envelope.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "json/equal.h"
#include "policy/context.h"
#include "policy/path.h"
#include "schema/regex.h"

__attribute__((format(printf, 5, 6))) static int fail(sg_envelope_failure_t *f, int err,
                                                      const char *param, const char *rule,
                                                      const char *fmt, ...) {
  snprintf(f->param, sizeof f->param, "%s", param);
  snprintf(f->rule, sizeof f->rule, "%s", rule);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->message, sizeof f->message, fmt, ap);
  va_end(ap);
  return err;
}

int sg_bindings_apply(const sg_grant_t *g, const sg_principal_t *who, json_t *args,
                      json_t **effective, sg_envelope_failure_t *f) {
  *effective = json_copy(args); /* shallow: only top-level members are replaced */
  if (*effective == NULL) return SG_ENOMEM;
  for (size_t i = 0; i < g->nbindings; i++) {
    const sg_binding_t *b = &g->bindings[i];
    char ctx[160];
    sg_ctx_describe(&b->ref, ctx, sizeof ctx);
    json_t *want = sg_ctx_resolve(&b->ref, who);
    int rc = 0;
    if (want == NULL) {
      rc = fail(f, SG_ECONTEXT_MISMATCH, b->param, "bind",
                "parameter \"%s\" is bound to %s, which the caller's identity does not carry",
                b->param, ctx);
    } else {
      json_t *given = json_object_get(args, b->param);
      if (given && !sg_json_equal(given, want))
        rc = fail(f, SG_ECONTEXT_MISMATCH, b->param, "bind",
                  "parameter \"%s\" is bound to %s; a different value was given", b->param, ctx);
      else
        json_object_set(*effective, b->param, want);
    }
    json_decref(want);
    if (rc) {
      json_decref(*effective);
      *effective = NULL;
      return rc;
    }
  }
  return 0;
}

/* Describes the operand for messages: the constant, or the context reference's name. */
static void operand_text(const sg_rule_t *r, char *out, size_t outlen) {
  if (r->ref.kind) {
    sg_ctx_describe(&r->ref, out, outlen);
    return;
  }
  char *t = json_dumps(r->constant, JSON_COMPACT | JSON_ENCODE_ANY);
  snprintf(out, outlen, "%s", t ? t : "?");
  if (strlen(out) > 80) snprintf(out + 77, outlen - 77, "...");
  free(t);
}

static int check_rule(const sg_rule_t *r, const sg_principal_t *who, const char *param,
                      json_t *args, int *changed, sg_envelope_failure_t *f) {
  json_t *value = json_object_get(args, param);
  char op[100];
  operand_text(r, op, sizeof op);
  if (value == NULL)
    return fail(f, SG_EOUTSIDE_ENVELOPE, param, r->name,
                "parameter \"%s\" is required by its envelope (%s %s)", param, r->name, op);
  json_t *operand = r->constant ? json_incref(r->constant) : sg_ctx_resolve(&r->ref, who);
  if (operand == NULL)
    return fail(f, SG_EOUTSIDE_ENVELOPE, param, r->name,
                "parameter \"%s\": the envelope's %s %s is not available for this caller", param,
                r->name, op);
  int rc = 0;
  switch (r->op) {
    case SG_RULE_MIN:
    case SG_RULE_MAX:
    case SG_RULE_XMIN:
    case SG_RULE_XMAX: {
      if (!json_is_number(value)) {
        rc = fail(f, SG_EOUTSIDE_ENVELOPE, param, r->name, "parameter \"%s\" must be a number",
                  param);
        break;
      }
      if (!json_is_number(operand)) {
        rc = fail(f, SG_EOUTSIDE_ENVELOPE, param, r->name,
                  "parameter \"%s\": the envelope's %s %s is not a number for this caller",
                  param, r->name, op);
        break;
      }
      double v = json_number_value(value), b = json_number_value(operand);
      int ok = r->op == SG_RULE_MIN ? v >= b : r->op == SG_RULE_MAX ? v <= b
               : r->op == SG_RULE_XMIN ? v > b : v < b;
      static const char *const words[] = {"at least", "at most", "more than", "less than"};
      if (!ok)
        rc = fail(f, SG_EOUTSIDE_ENVELOPE, param, r->name, "parameter \"%s\" must be %s %s",
                  param, words[r->op - SG_RULE_MIN], op);
      break;
    }
    case SG_RULE_IN: {
      int found = 0;
      if (json_is_array(operand))
        for (size_t i = 0; i < json_array_size(operand) && !found; i++)
          found = sg_json_equal(json_array_get(operand, i), value);
      if (!found)
        rc = fail(f, SG_EOUTSIDE_ENVELOPE, param, r->name, "parameter \"%s\" must be one of %s",
                  param, op);
      break;
    }
    case SG_RULE_EQUALS:
      if (!sg_json_equal(operand, value))
        rc = fail(f, SG_EOUTSIDE_ENVELOPE, param, r->name, "parameter \"%s\" must equal %s",
                  param, op);
      break;
    case SG_RULE_PATTERN: {
      if (!json_is_string(value)) {
        rc = fail(f, SG_EOUTSIDE_ENVELOPE, param, r->name, "parameter \"%s\" must be a string",
                  param);
        break;
      }
      int m = sg__regex_search(r->regex, json_string_value(value), json_string_length(value));
      if (m != SG__RE_MATCH)
        rc = fail(f, SG_EOUTSIDE_ENVELOPE, param, r->name,
                  m == SG__RE_LIMIT ? "parameter \"%s\": the pattern %s could not be evaluated "
                                      "within its limits"
                                    : "parameter \"%s\" must match %s",
                  param, op);
      break;
    }
    case SG_RULE_PREFIX: {
      if (!json_is_string(value) || !json_is_string(operand)) {
        rc = fail(f, SG_EOUTSIDE_ENVELOPE, param, r->name, "parameter \"%s\" must be a string",
                  param);
        break;
      }
      char norm[4096];
      const char *why = NULL;
      if (sg_path_normalize(json_string_value(value), json_string_length(value), norm,
                            sizeof norm, &why) != 0) {
        rc = fail(f, SG_EOUTSIDE_ENVELOPE, param, r->name, "parameter \"%s\" is not an "
                  "acceptable path: %s", param, why);
        break;
      }
      const char *pre = json_string_value(operand);
      if (strncmp(norm, pre, strlen(pre)) != 0) {
        rc = fail(f, SG_EOUTSIDE_ENVELOPE, param, r->name,
                  "parameter \"%s\" must lie under %s (after normalisation)", param, op);
        break;
      }
      if (strcmp(norm, json_string_value(value)) != 0) {
        json_object_set_new(args, param, json_string(norm));
        *changed = 1;
      }
      break;
    }
  }
  json_decref(operand);
  return rc;
}

int sg_envelope_check(const sg_grant_t *g, const sg_principal_t *who, json_t *args, int *changed,
                      sg_envelope_failure_t *f) {
  *changed = 0;
  /* Prefix rules run first so that the other rules see the normalised value. */
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < g->nenvelope; i++) {
      const sg_envelope_t *e = &g->envelope[i];
      for (size_t k = 0; k < e->nrules; k++) {
        if ((e->rules[k].op == SG_RULE_PREFIX) != (pass == 0)) continue;
        int rc = check_rule(&e->rules[k], who, e->param, args, changed, f);
        if (rc) return rc;
      }
    }
  return 0;
}
