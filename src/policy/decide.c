/*
 * The pure decision function for tools/call (see decide.h for the order of checks).
 * Messages name the tool, the parameter and the rule; they never echo argument values,
 * which may be long or sensitive.
 */
#include "policy/decide.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "json/pointer.h"
#include "policy/envelope.h"

static void deny(sg_decision_t *d, int err) {
  d->allow = 0;
  d->err = err;
}

/* Validates args against the tool's schema; on failure fills the denial and returns 0. */
static int validate(sg_decision_t *d, const char *tool_name, json_t *args) {
  sg_schema_error_t serr;
  if (sg_schema_validate(d->tool->schema, args, &serr) == 0) return 1;
  deny(d, SG_EINVALID_ARGS);
  snprintf(d->pointer, sizeof d->pointer, "%s", serr.instance_location);
  snprintf(d->keyword, sizeof d->keyword, "%s", serr.keyword);
  snprintf(d->message, sizeof d->message, "invalid arguments for \"%.100s\": %.250s: %.300s (%.60s)",
           tool_name, serr.instance_location[0] ? serr.instance_location : "(arguments)",
           serr.message, serr.keyword);
  return 0;
}

void sg_decision_release(sg_decision_t *d) {
  json_decref(d->args);
  d->args = NULL;
}

void sg_policy_decide(const sg_catalog_t *cat, const sg_principal_t *who, const char *tool_name,
                      json_t *args, sg_decision_t *d) {
  memset(d, 0, sizeof *d);
  d->tool = sg_catalog_tool(cat, tool_name);
  if (d->tool == NULL) {
    deny(d, SG_EUNKNOWN_TOOL);
    snprintf(d->message, sizeof d->message, "unknown tool \"%.128s\"", tool_name);
    return;
  }
  const sg_role_t *role = sg_catalog_role(cat, who->role);
  d->grant = role ? sg_role_grant(role, tool_name) : NULL;
  if (d->grant == NULL) {
    deny(d, SG_ENOT_GRANTED);
    snprintf(d->message, sizeof d->message, "tool \"%.128s\" is not granted to role \"%.128s\"",
             tool_name, who->role);
    return;
  }
  if (d->tool->access == SG_ACCESS_WRITE && !cat->writes_enabled) {
    deny(d, SG_EWRITES_DISABLED);
    snprintf(d->message, sizeof d->message,
             "tool \"%.128s\" writes, and write tools are not enabled in this catalog "
             "(matrix.json \"writes_enabled\")",
             tool_name);
    return;
  }
  sg_envelope_failure_t f;
  int rc = sg_bindings_apply(d->grant, who, args, &d->args, &f);
  if (rc == 0 && !validate(d, tool_name, d->args)) return;
  int changed = 0;
  if (rc == 0) rc = sg_envelope_check(d->grant, who, d->args, &changed, &f);
  if (rc == SG_ENOMEM) {
    deny(d, rc);
    snprintf(d->message, sizeof d->message, "out of memory");
    return;
  }
  if (rc != 0) {
    deny(d, rc);
    sg_json_pointer_append(d->pointer, sizeof d->pointer, f.param);
    snprintf(d->keyword, sizeof d->keyword, "%s", f.rule);
    snprintf(d->message, sizeof d->message, "%s \"%.100s\": %s",
             rc == SG_ECONTEXT_MISMATCH ? "context mismatch for" : "outside the envelope of",
             tool_name, f.message);
    return;
  }
  /* A normalised value must still satisfy the schema. */
  if (changed && !validate(d, tool_name, d->args)) return;
  d->allow = 1;
  snprintf(d->message, sizeof d->message, "allowed");
}
