/*
 * Parameter scope: path normalisation, every envelope rule with constant and context
 * operands, bindings, the catalog problems they can have, and their place in decide().
 */
#include <string.h>

#include "catalog/catalog.h"
#include "core/error.h"
#include "fixtures.h"
#include "policy/decide.h"
#include "policy/path.h"
#include "runner.h"

/* ---- path normalisation ---- */

static const char *norm(const char *in) {
  static char out[512];
  const char *why = NULL;
  if (sg_path_normalize(in, strlen(in), out, sizeof out, &why) != 0) return NULL;
  return out;
}

static void path_resolves_dots_and_slashes(void) {
  CHECK_STR_EQ(norm("acme/reports/q1.txt"), "acme/reports/q1.txt");
  CHECK_STR_EQ(norm("acme//reports/./q1.txt"), "acme/reports/q1.txt");
  CHECK_STR_EQ(norm("acme/x/../y"), "acme/y");
  CHECK_STR_EQ(norm("acme/../globex/secret"), "globex/secret"); /* resolved, then judged */
  CHECK_STR_EQ(norm("/srv/acme/./a"), "/srv/acme/a");
  CHECK_STR_EQ(norm("acme/dir/"), "acme/dir/");
  CHECK_STR_EQ(norm("acme/%2e%2e/globex"), "globex");
  CHECK_STR_EQ(norm("acme%2Fx"), "acme/x");
  CHECK_STR_EQ(norm("caf\xc3\xa9/men\xc3\xbc"), "caf\xc3\xa9/men\xc3\xbc"); /* real letters pass */
  CHECK_STR_EQ(norm("100%25 done"), "100% done");
}

static void path_refuses_what_could_mislead(void) {
  CHECK(norm("../etc/passwd") == NULL);
  CHECK(norm("acme/../../etc") == NULL);
  CHECK(norm("/..") == NULL);
  CHECK(norm("acme/%2e%2e/%2e%2e/etc") == NULL);
  CHECK(norm("acme/%252e%252e/x") == NULL);     /* double encoding */
  CHECK(norm("acme/%zz") == NULL);              /* broken escape */
  CHECK(norm("acme/%2") == NULL);
  CHECK(norm("acme\\..\\globex") == NULL);       /* backslashes */
  CHECK(norm("acme/%5c..%5cglobex") == NULL);
  CHECK(norm("acme/x\x01y") == NULL);           /* control characters */
  CHECK(norm("acme/%00x") == NULL);
  CHECK(norm("acme\xef\xbc\x8f..\xef\xbc\x8fglobex") == NULL); /* fullwidth solidus */
  CHECK(norm("acme/\xef\xbc\x8e\xef\xbc\x8e/globex") == NULL); /* fullwidth full stops */
  CHECK(norm("acme\xe2\x88\x95x") == NULL);                    /* division slash */
  CHECK(norm("acme/\xe2\x80\xae" "txt.exe") == NULL);          /* right-to-left override */
  CHECK(norm("acme/%c0%ae%c0%ae/x") == NULL);   /* overlong UTF-8 for '.' */
  CHECK(norm("acme/%ff") == NULL);              /* invalid UTF-8 after decoding */
}

/* ---- the catalog used below ---- */

static const char *envelope_catalog(const char *grant) {
  const char *dir = fx_tmpdir();
  fx_write(dir, "servers.json", "{\"servers\":{\"svc\":{\"transport\":\"stdio\",\"command\":\"true\"}}}");
  fx_write(dir, "tools/transfer.json",
           "{\"name\":\"transfer\",\"server\":\"svc\",\"tool\":\"t\",\"access\":\"read\","
           "\"description\":\"d\",\"inputSchema\":{\"type\":\"object\",\"properties\":{"
           "\"amount\":{\"type\":\"number\"},\"to\":{\"type\":\"string\"},"
           "\"path\":{\"type\":\"string\",\"maxLength\":64},\"tenant_id\":{\"type\":\"string\"},"
           "\"currency\":{\"type\":\"string\"},\"memo\":{\"type\":\"string\"},"
           "\"kind\":{},\"env\":{\"type\":\"string\"}},"
           "\"required\":[\"tenant_id\"],\"additionalProperties\":false}}");
  char matrix[2048];
  snprintf(matrix, sizeof matrix, "{\"roles\":{\"agent\":{\"tools\":{\"transfer\":%s}}}}", grant);
  fx_write(dir, "matrix.json", matrix);
  return dir;
}

static const char *full_grant =
    "{\"bind\":{\"tenant_id\":\"$tenant\"},"
    " \"envelope\":{\"amount\":{\"exclusiveMin\":0,\"max\":\"$claims.daily_limit\"},"
    "  \"to\":{\"in\":\"$claims.address_book\"},"
    "  \"path\":{\"prefix\":\"$tenant/\"},"
    "  \"currency\":{\"in\":[\"EUR\",\"USD\"]},"
    "  \"memo\":{\"pattern\":\"^[a-z ]*$\"},"
    "  \"kind\":{\"equals\":1}}}";

typedef struct {
  sg_decision_t d;
  char *args; /* the effective arguments as canonical text, or NULL */
} verdict_t;

static verdict_t decide_with(sg_catalog_t *c, const char *claims, const char *args) {
  json_t *cl = claims ? json_loads(claims, 0, NULL) : NULL;
  sg_principal_t who = {"alice", "agent", "acme", "prod", cl};
  json_t *a = json_loads(args, 0, NULL);
  CHECK(a != NULL);
  verdict_t v;
  sg_policy_decide(c, &who, "transfer", a, &v.d);
  v.args = v.d.args ? json_dumps(v.d.args, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  sg_decision_release(&v.d);
  json_decref(a);
  json_decref(cl);
  return v;
}

static sg_catalog_t *load_ok(const char *dir) {
  sg_catalog_t *c = NULL;
  sg_buf_t errors;
  sg_buf_init(&errors);
  int rc = sg_catalog_load(dir, &c, &errors);
  if (rc) fprintf(stderr, "%s", errors.data);
  CHECK_INT_EQ(rc, 0);
  sg_buf_free(&errors);
  return c;
}

#define CLAIMS "{\"daily_limit\":100,\"address_book\":[\"bob\",\"carol\"]}"
#define BASE "\"path\":\"acme/in/x\",\"amount\":5,\"to\":\"bob\",\"currency\":\"EUR\",\"memo\":\"rent\",\"kind\":1"

static void allowed_inside_every_rule(void) {
  sg_catalog_t *c = load_ok(envelope_catalog(full_grant));
  verdict_t v = decide_with(c, CLAIMS, "{" BASE "}");
  if (!v.d.allow) fprintf(stderr, "%s\n", v.d.message);
  CHECK(v.d.allow);
  /* The bound tenant was filled in. */
  CHECK(strstr(v.args, "\"tenant_id\":\"acme\"") != NULL);
  free(v.args);
  /* 1.0 equals 1; 100 is at most 100. */
  v = decide_with(c, CLAIMS, "{" BASE ",\"kind\":1.0,\"amount\":100}");
  CHECK(v.d.allow);
  free(v.args);
  sg_catalog_unref(c);
}

static void check_out(sg_catalog_t *c, const char *claims, const char *args, int err,
                      const char *pointer, const char *rule) {
  verdict_t v = decide_with(c, claims, args);
  if (v.d.allow || v.d.err != err || strcmp(v.d.pointer, pointer) || strcmp(v.d.keyword, rule))
    fprintf(stderr, "args %s: allow=%d err=%s pointer=%s rule=%s: %s\n", args, v.d.allow,
            sg_err_reason(v.d.err), v.d.pointer, v.d.keyword, v.d.message);
  CHECK(!v.d.allow);
  CHECK_INT_EQ(v.d.err, err);
  CHECK_STR_EQ(v.d.pointer, pointer);
  CHECK_STR_EQ(v.d.keyword, rule);
  free(v.args);
}

static void each_rule_refuses(void) {
  sg_catalog_t *c = load_ok(envelope_catalog(full_grant));
  int E = SG_EOUTSIDE_ENVELOPE;
  check_out(c, CLAIMS, "{" BASE ",\"amount\":100.5}", E, "/amount", "max");
  check_out(c, CLAIMS, "{" BASE ",\"amount\":0}", E, "/amount", "exclusiveMin");
  check_out(c, CLAIMS, "{" BASE ",\"to\":\"mallory\"}", E, "/to", "in");
  check_out(c, CLAIMS, "{" BASE ",\"currency\":\"BTC\"}", E, "/currency", "in");
  check_out(c, CLAIMS, "{" BASE ",\"memo\":\"RENT\"}", E, "/memo", "pattern");
  check_out(c, CLAIMS, "{" BASE ",\"kind\":2}", E, "/kind", "equals");
  check_out(c, CLAIMS, "{" BASE ",\"kind\":\"1\"}", E, "/kind", "equals"); /* a string is not 1 */
  check_out(c, CLAIMS, "{" BASE ",\"path\":\"globex/x\"}", E, "/path", "prefix");
  check_out(c, CLAIMS, "{" BASE ",\"path\":\"acme/../globex/x\"}", E, "/path", "prefix");
  check_out(c, CLAIMS, "{" BASE ",\"path\":\"acme/%2e%2e/globex/x\"}", E, "/path", "prefix");
  check_out(c, CLAIMS, "{" BASE ",\"path\":\"acme\\uff0f..\\uff0fglobex\"}", E, "/path", "prefix");
  check_out(c, CLAIMS, "{" BASE ",\"path\":\"acmecorp/x\"}", E, "/path", "prefix");
  /* Every enveloped parameter must be present. */
  check_out(c, CLAIMS, "{\"path\":\"acme/a\",\"to\":\"bob\",\"currency\":\"EUR\",\"memo\":\"a\",\"kind\":1}",
            E, "/amount", "exclusiveMin");
  sg_catalog_unref(c);
}

static void type_confusion_is_caught(void) {
  sg_catalog_t *c = load_ok(envelope_catalog(full_grant));
  /* The schema says number: a number given as a string fails the schema first. */
  check_out(c, CLAIMS, "{" BASE ",\"amount\":\"5\"}", SG_EINVALID_ARGS, "/amount", "type");
  /* A claim of the wrong type fails closed rather than comparing strings with numbers. */
  check_out(c, "{\"daily_limit\":\"100\",\"address_book\":[\"bob\"]}", "{" BASE "}",
            SG_EOUTSIDE_ENVELOPE, "/amount", "max");
  /* A claim that is missing fails closed. */
  check_out(c, "{\"address_book\":[\"bob\"]}", "{" BASE "}", SG_EOUTSIDE_ENVELOPE, "/amount", "max");
  check_out(c, NULL, "{" BASE "}", SG_EOUTSIDE_ENVELOPE, "/amount", "max");
  check_out(c, "{\"daily_limit\":100,\"address_book\":\"bob\"}", "{" BASE "}",
            SG_EOUTSIDE_ENVELOPE, "/to", "in");
  sg_catalog_unref(c);
}

static void messages_never_show_context_values(void) {
  sg_catalog_t *c = load_ok(envelope_catalog(full_grant));
  verdict_t v = decide_with(c, "{\"daily_limit\":4242,\"address_book\":[\"secret-friend\"]}",
                            "{" BASE ",\"amount\":5000,\"to\":\"bob\"}");
  CHECK(!v.d.allow);
  CHECK(strstr(v.d.message, "4242") == NULL);
  CHECK(strstr(v.d.message, "$claims.daily_limit") != NULL);
  free(v.args);
  v = decide_with(c, "{\"daily_limit\":4242,\"address_book\":[\"secret-friend\"]}",
                  "{" BASE ",\"to\":\"eve\"}");
  CHECK(strstr(v.d.message, "secret-friend") == NULL);
  CHECK(strstr(v.d.message, "\"to\"") != NULL);
  free(v.args);
  sg_catalog_unref(c);
}

static void normalised_path_is_forwarded(void) {
  sg_catalog_t *c = load_ok(envelope_catalog(full_grant));
  verdict_t v = decide_with(c, CLAIMS, "{" BASE ",\"path\":\"acme/in/../out//./r.txt\"}");
  CHECK(v.d.allow);
  CHECK(strstr(v.args, "\"path\":\"acme/out/r.txt\"") != NULL);
  free(v.args);
  sg_catalog_unref(c);
}

static void bindings_fill_and_refuse(void) {
  sg_catalog_t *c = load_ok(envelope_catalog(full_grant));
  verdict_t v = decide_with(c, CLAIMS, "{" BASE ",\"tenant_id\":\"acme\"}");
  CHECK(v.d.allow); /* the same value is fine */
  free(v.args);
  check_out(c, CLAIMS, "{" BASE ",\"tenant_id\":\"globex\"}", SG_ECONTEXT_MISMATCH, "/tenant_id", "bind");
  check_out(c, CLAIMS, "{" BASE ",\"tenant_id\":7}", SG_ECONTEXT_MISMATCH, "/tenant_id", "bind");
  sg_catalog_unref(c);
  /* A binding to a claim the caller lacks refuses the call. */
  c = load_ok(envelope_catalog("{\"bind\":{\"tenant_id\":\"$claims.org\"}}"));
  check_out(c, CLAIMS, "{}", SG_ECONTEXT_MISMATCH, "/tenant_id", "bind");
  verdict_t w = decide_with(c, "{\"org\":\"acme-org\"}", "{}");
  CHECK(w.d.allow);
  CHECK(strstr(w.args, "\"tenant_id\":\"acme-org\"") != NULL);
  free(w.args);
  sg_catalog_unref(c);
  /* $env with a suffix builds a string. */
  c = load_ok(envelope_catalog("{\"bind\":{\"tenant_id\":\"$tenant\",\"env\":\"$env\"},"
                               "\"envelope\":{\"path\":{\"prefix\":\"$env/$$x/\"}}}"));
  w = decide_with(c, NULL, "{\"path\":\"prod/$x/a\"}");
  if (!w.d.allow) fprintf(stderr, "%s\n", w.d.message);
  CHECK(w.d.allow);
  CHECK(strstr(w.args, "\"env\":\"prod\"") != NULL);
  free(w.args);
  sg_catalog_unref(c);
}

static const char *problems_of(const char *grant) {
  static char text[4096];
  sg_catalog_t *c = NULL;
  sg_buf_t errors;
  sg_buf_init(&errors);
  CHECK_INT_EQ(sg_catalog_load(envelope_catalog(grant), &c, &errors), SG_ECATALOG);
  snprintf(text, sizeof text, "%s", errors.data);
  sg_buf_free(&errors);
  return text;
}

static void catalog_refuses_bad_envelopes(void) {
  const char *t = problems_of("{\"envelope\":{\"nope\":{\"max\":1}}}");
  CHECK(strstr(t, "/roles/agent/tools/transfer/envelope/nope: tool \"transfer\" declares no parameter \"nope\"") != NULL);
  t = problems_of("{\"envelope\":{\"amount\":{\"below\":1}}}");
  CHECK(strstr(t, "/envelope/amount/below: unknown rule") != NULL);
  t = problems_of("{\"envelope\":{\"amount\":{\"min\":10,\"max\":5}}}");
  CHECK(strstr(t, "/envelope/amount: the bounds leave no value") != NULL);
  t = problems_of("{\"envelope\":{\"amount\":{\"exclusiveMin\":5,\"exclusiveMax\":5}}}");
  CHECK(strstr(t, "no value that could ever match") != NULL);
  t = problems_of("{\"envelope\":{\"currency\":{\"in\":[]}}}");
  CHECK(strstr(t, "/envelope/currency/in: in needs a non-empty array") != NULL);
  t = problems_of("{\"envelope\":{\"currency\":{\"in\":[\"EUR\"],\"equals\":\"USD\"}}}");
  CHECK(strstr(t, "equals names a value that in does not allow") != NULL);
  t = problems_of("{\"envelope\":{\"amount\":{\"max\":\"$claim.limit\"}}}");
  CHECK(strstr(t, "/envelope/amount/max: \"$claim.limit\" is not a context value") != NULL);
  t = problems_of("{\"envelope\":{\"amount\":{\"max\":\"ten\"}}}");
  CHECK(strstr(t, "max needs a number") != NULL);
  t = problems_of("{\"envelope\":{\"memo\":{\"pattern\":\"([a-z\"}}}");
  CHECK(strstr(t, "/envelope/memo/pattern: pattern does not compile") != NULL);
  t = problems_of("{\"envelope\":{\"amount\":{\"max\":\"$tenant$env\"}}}");
  CHECK(strstr(t, "is not a context value") != NULL); /* one reference at most */
  t = problems_of("{\"envelope\":{\"*\":{\"max\":1}}}");
  CHECK(strstr(t, "wildcards are not allowed") != NULL);
  t = problems_of("{\"bind\":{\"tenant_id\":\"acme\"}}");
  CHECK(strstr(t, "/bind/tenant_id: a binding must name a context value") != NULL);
  t = problems_of("{\"bind\":{\"org\":\"$tenant\"}}");
  CHECK(strstr(t, "/bind/org: tool \"transfer\" declares no parameter \"org\"") != NULL);
}

const sg_test_t sg_suite_envelope[] = {
    {"path_resolves_dots_and_slashes", path_resolves_dots_and_slashes},
    {"path_refuses_what_could_mislead", path_refuses_what_could_mislead},
    {"allowed_inside_every_rule", allowed_inside_every_rule},
    {"each_rule_refuses", each_rule_refuses},
    {"type_confusion_is_caught", type_confusion_is_caught},
    {"messages_never_show_context_values", messages_never_show_context_values},
    {"normalised_path_is_forwarded", normalised_path_is_forwarded},
    {"bindings_fill_and_refuse", bindings_fill_and_refuse},
    {"catalog_refuses_bad_envelopes", catalog_refuses_bad_envelopes},
    SG_SUITE_END};
