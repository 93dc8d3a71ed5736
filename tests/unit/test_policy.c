/*
 * Unit tests for the pure decision function: each reason, in its order of precedence.
 */
#include <string.h>

#include "catalog/catalog.h"
#include "core/error.h"
#include "fixtures.h"
#include "policy/decide.h"
#include "runner.h"

static sg_catalog_t *load(const char *approval) {
  sg_catalog_t *c = NULL;
  CHECK_INT_EQ(sg_catalog_load(fx_small_catalog(approval), &c, NULL), 0);
  return c;
}

static sg_decision_t decide(sg_catalog_t *c, const char *role, const char *tool, const char *args) {
  sg_principal_t who = {"alice", role, "acme", "prod"};
  json_t *a = json_loads(args, 0, NULL);
  CHECK(a != NULL);
  sg_decision_t d;
  sg_policy_decide(c, &who, tool, a, &d);
  sg_decision_release(&d); /* the tests here look at the verdict, not the arguments */
  json_decref(a);
  return d;
}

static void unknown_tool_first(void) {
  sg_catalog_t *c = load("auto");
  sg_decision_t d = decide(c, "reader", "do-lookup", "{}"); /* the downstream's name */
  CHECK(!d.allow);
  CHECK_INT_EQ(d.err, SG_EUNKNOWN_TOOL);
  CHECK(d.tool == NULL);
  /* Unknown beats not granted and invalid: nothing is revealed about arguments. */
  d = decide(c, "nobody", "ghost", "{\"x\":1}");
  CHECK_INT_EQ(d.err, SG_EUNKNOWN_TOOL);
  sg_catalog_unref(c);
}

static void not_granted_before_schema(void) {
  sg_catalog_t *c = load("auto");
  sg_decision_t d = decide(c, "reader", "store", "{\"bad\":[]}");
  CHECK_INT_EQ(d.err, SG_ENOT_GRANTED);
  CHECK(strstr(d.message, "\"store\" is not granted to role \"reader\"") != NULL);
  d = decide(c, "no-such-role", "lookup", "{\"q\":\"a\"}");
  CHECK_INT_EQ(d.err, SG_ENOT_GRANTED);
  sg_catalog_unref(c);
}

static void invalid_arguments_name_parameter_and_keyword(void) {
  sg_catalog_t *c = load("auto");
  sg_decision_t d = decide(c, "reader", "lookup", "{\"q\":\"much too long\"}");
  CHECK_INT_EQ(d.err, SG_EINVALID_ARGS);
  CHECK_STR_EQ(d.pointer, "/q");
  CHECK_STR_EQ(d.keyword, "maxLength");
  CHECK(strstr(d.message, "/q") != NULL);
  d = decide(c, "reader", "lookup", "{\"q\":\"ok\",\"n\":0}");
  CHECK_STR_EQ(d.pointer, "/n");
  CHECK_STR_EQ(d.keyword, "minimum");
  d = decide(c, "reader", "lookup", "{\"q\":\"ok\",\"n\":\"3\"}"); /* a number as a string */
  CHECK_STR_EQ(d.keyword, "type");
  d = decide(c, "reader", "lookup", "{\"q\":\"ok\",\"tenant\":\"globex\"}");
  CHECK_STR_EQ(d.keyword, "additionalProperties");
  d = decide(c, "reader", "lookup", "{\"n\":2}");
  CHECK_STR_EQ(d.keyword, "required");
  sg_catalog_unref(c);
}

static void allowed_and_approval(void) {
  sg_catalog_t *c = load("auto");
  sg_decision_t d = decide(c, "reader", "lookup", "{\"q\":\"ok\",\"n\":2}");
  CHECK(d.allow);
  CHECK_INT_EQ(d.err, 0);
  CHECK_STR_EQ(d.tool->downstream_name, "do-lookup");
  d = decide(c, "writer", "store", "{}");
  CHECK(d.allow);
  sg_catalog_unref(c);
  c = load("required");
  sg_principal_t who = {"alice", "writer", "acme", "prod", NULL};
  json_t *a = json_object();
  sg_decision_t held;
  sg_policy_decide(c, &who, "store", a, &held);
  /* Allowed by the policy, subject to a person's approval, which the gateway obtains. */
  CHECK(held.allow);
  CHECK_INT_EQ(held.grant->approval, SG_APPROVAL_REQUIRED);
  CHECK_INT_EQ(held.grant->approval_timeout_ms, 300000);
  sg_decision_release(&held);
  json_decref(a);
  sg_catalog_unref(c);
}

static void writes_off_unless_the_catalog_enables_them(void) {
  const char *dir = fx_small_catalog("auto");
  char matrix[512];
  snprintf(matrix, sizeof matrix,
           "{\"roles\":{\"writer\":{\"tools\":{\"lookup\":{},"
           "\"store\":{\"approval\":{\"mode\":\"auto\",\"budget\":{\"calls\":3,\"window_seconds\":60}}}}}}}");
  fx_write(dir, "matrix.json", matrix);
  sg_catalog_t *c = NULL;
  CHECK_INT_EQ(sg_catalog_load(dir, &c, NULL), 0);
  CHECK(!c->writes_enabled);
  sg_decision_t d = decide(c, "writer", "store", "{}");
  CHECK(!d.allow);
  CHECK_INT_EQ(d.err, SG_EWRITES_DISABLED);
  d = decide(c, "writer", "lookup", "{\"q\":\"a\"}"); /* reads are unaffected */
  CHECK(d.allow);
  const sg_grant_t *g = sg_role_grant(sg_catalog_role(c, "writer"), "store");
  CHECK_INT_EQ(g->budget_calls, 3);
  CHECK_INT_EQ(g->budget_window_s, 60);
  sg_catalog_unref(c);
}

static void same_inputs_same_decision(void) {
  sg_catalog_t *c = load("auto");
  for (int i = 0; i < 3; i++) {
    sg_decision_t a = decide(c, "reader", "lookup", "{\"q\":5}");
    sg_decision_t b = decide(c, "reader", "lookup", "{\"q\":5}");
    CHECK(memcmp(&a, &b, sizeof a) == 0);
  }
  sg_catalog_unref(c);
}

const sg_test_t sg_suite_policy[] = {
    {"unknown_tool_first", unknown_tool_first},
    {"not_granted_before_schema", not_granted_before_schema},
    {"invalid_arguments_name_parameter_and_keyword", invalid_arguments_name_parameter_and_keyword},
    {"allowed_and_approval", allowed_and_approval},
    {"writes_off_unless_the_catalog_enables_them", writes_off_unless_the_catalog_enables_them},
    {"same_inputs_same_decision", same_inputs_same_decision},
    SG_SUITE_END};
