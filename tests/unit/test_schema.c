/*
 * JSON Schema compiler and validator: every keyword with valid and invalid instances,
 * and the exact locations of the errors it reports.
 */
#include <pthread.h>
#include <string.h>

#include "core/error.h"
#include "runner.h"
#include "schema/schema.h"

static json_t *parse(const char *text) {
  json_error_t e;
  json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
  if (j == NULL) fprintf(stderr, "bad test JSON: %s: %s\n", text, e.text);
  CHECK(j != NULL);
  return j;
}

static sg_schema_t *compile_opts(const char *schema, const sg_schema_opts_t *opts) {
  json_t *j = parse(schema);
  sg_schema_t *s = NULL;
  sg_schema_error_t err;
  int rc = sg_schema_compile(j, opts, &s, &err);
  if (rc)
    fprintf(stderr, "compile failed: %s at %s: %s\n", schema, err.keyword_location, err.message);
  CHECK_INT_EQ(rc, 0);
  json_decref(j);
  return s;
}

static sg_schema_t *compile(const char *schema) {
  return compile_opts(schema, NULL);
}

/* Validates instance text against s; returns the result and fills err. */
static int check(const sg_schema_t *s, const char *instance, sg_schema_error_t *err) {
  json_t *j = parse(instance);
  int rc = sg_schema_validate(s, j, err);
  json_decref(j);
  return rc;
}

static void valid(const sg_schema_t *s, const char *instance) {
  sg_schema_error_t err;
  int rc = check(s, instance, &err);
  if (rc)
    fprintf(stderr, "expected valid: %s: %s at %s\n", instance, err.message, err.keyword_location);
  CHECK_INT_EQ(rc, 0);
}

static void invalid(const sg_schema_t *s, const char *instance) {
  sg_schema_error_t err;
  if (check(s, instance, &err) != SG_EINVALID_ARGS)
    fprintf(stderr, "expected invalid: %s\n", instance);
  CHECK_INT_EQ(check(s, instance, &err), SG_EINVALID_ARGS);
  CHECK(err.message[0] != '\0');
}

/* Expects instance to fail with exactly these locations and keyword. */
static void fails_at(const sg_schema_t *s, const char *instance, const char *iloc, const char *kloc,
                     const char *kw) {
  sg_schema_error_t err;
  CHECK_INT_EQ(check(s, instance, &err), SG_EINVALID_ARGS);
  CHECK_STR_EQ(err.instance_location, iloc);
  CHECK_STR_EQ(err.keyword_location, kloc);
  CHECK_STR_EQ(err.keyword, kw);
}

static void compile_fails_at(const char *schema, const char *kloc) {
  json_t *j = parse(schema);
  sg_schema_t *s = NULL;
  sg_schema_error_t err;
  CHECK_INT_EQ(sg_schema_compile(j, NULL, &s, &err), SG_ESCHEMA);
  CHECK(s == NULL);
  CHECK_STR_EQ(err.keyword_location, kloc);
  CHECK(err.message[0] != '\0');
  json_decref(j);
}

static void test_type(void) {
  sg_schema_t *s = compile("{\"type\":\"integer\"}");
  valid(s, "1");
  valid(s, "1.0");
  valid(s, "-5");
  invalid(s, "1.5");
  invalid(s, "\"1\"");
  fails_at(s, "true", "", "/type", "type");
  sg_schema_free(s);

  s = compile("{\"type\":[\"string\",\"null\"]}");
  valid(s, "\"x\"");
  valid(s, "null");
  invalid(s, "0");
  invalid(s, "{}");
  sg_schema_error_t err;
  check(s, "[]", &err);
  CHECK_STR_EQ(err.message, "expected null or string, got array");
  sg_schema_free(s);

  s = compile("{\"type\":\"number\"}");
  valid(s, "1");
  valid(s, "2.5");
  invalid(s, "\"2.5\"");
  sg_schema_free(s);

  const char *types[] = {"null", "boolean", "object", "array", "string"};
  const char *good[] = {"null", "false", "{}", "[]", "\"\""};
  for (int i = 0; i < 5; i++) {
    char schema[64];
    snprintf(schema, sizeof schema, "{\"type\":\"%s\"}", types[i]);
    s = compile(schema);
    for (int k = 0; k < 5; k++) {
      if (k == i) {
        valid(s, good[k]);
      } else {
        invalid(s, good[k]);
      }
    }
    sg_schema_free(s);
  }
}

static void test_properties_required(void) {
  sg_schema_t *s = compile(
      "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"},\"b\":{\"type\":"
      "\"integer\"}},"
      "\"required\":[\"a\"]}");
  valid(s, "{\"a\":\"x\"}");
  valid(s, "{\"a\":\"x\",\"b\":2,\"c\":null}");
  fails_at(s, "{\"b\":2}", "", "/required", "required");
  fails_at(s, "{\"a\":1}", "/a", "/properties/a/type", "type");
  fails_at(s, "{\"a\":\"x\",\"b\":\"2\"}", "/b", "/properties/b/type", "type");
  sg_schema_error_t err;
  check(s, "{}", &err);
  CHECK_STR_EQ(err.message, "required property \"a\" is missing");
  sg_schema_free(s);
}

static void test_nested_location(void) {
  sg_schema_t *s = compile(
      "{\"properties\":{\"items\":{\"type\":\"array\",\"items\":{\"properties\":"
      "{\"name\":{\"type\":\"string\",\"maxLength\":10}}}}}}");
  valid(s, "{\"items\":[{\"name\":\"short\"}]}");
  fails_at(s, "{\"items\":[{\"name\":\"short\"},{\"name\":\"far too long a name\"}]}",
           "/items/1/name", "/properties/items/items/properties/name/maxLength", "maxLength");
  sg_schema_error_t err;
  check(s, "{\"items\":[{\"name\":\"far too long a name\"}]}", &err);
  CHECK_STR_EQ(err.message, "string is longer than 10 characters");
  sg_schema_free(s);
}

static void test_pointer_escaping(void) {
  sg_schema_t *s =
      compile("{\"properties\":{\"a/b\":{\"properties\":{\"c~d\":{\"type\":\"null\"}}}}}");
  valid(s, "{\"a/b\":{\"c~d\":null}}");
  fails_at(s, "{\"a/b\":{\"c~d\":1}}", "/a~1b/c~0d", "/properties/a~1b/properties/c~0d/type",
           "type");
  sg_schema_free(s);
}

static void test_additional_properties(void) {
  sg_schema_t *s = compile("{\"properties\":{\"a\":{}},\"additionalProperties\":false}");
  valid(s, "{\"a\":1}");
  valid(s, "{}");
  fails_at(s, "{\"a\":1,\"b\":2}", "/b", "/additionalProperties", "additionalProperties");
  sg_schema_error_t err;
  check(s, "{\"zz\":2}", &err);
  CHECK_STR_EQ(err.message, "property \"zz\" is not allowed");
  sg_schema_free(s);

  s = compile("{\"properties\":{\"a\":{}},\"additionalProperties\":{\"type\":\"boolean\"}}");
  valid(s, "{\"a\":1,\"b\":true}");
  fails_at(s, "{\"a\":1,\"b\":2}", "/b", "/additionalProperties/type", "type");
  sg_schema_free(s);
}

static void test_enum_const(void) {
  sg_schema_t *s = compile("{\"enum\":[1,\"two\",[3],{\"four\":4},null]}");
  valid(s, "1");
  valid(s, "1.0");
  valid(s, "\"two\"");
  valid(s, "[3.0]");
  valid(s, "{\"four\":4}");
  valid(s, "null");
  invalid(s, "2");
  invalid(s, "\"one\"");
  invalid(s, "{\"four\":4,\"five\":5}");
  invalid(s, "false");
  fails_at(s, "true", "", "/enum", "enum");
  sg_schema_error_t err;
  check(s, "true", &err);
  CHECK_STR_EQ(err.message, "value is not one of the allowed values");
  sg_schema_free(s);

  s = compile("{\"enum\":[\"EUR\",\"USD\",\"GBP\",1.5,null]}");
  check(s, "\"JPY\"", &err);
  CHECK_STR_EQ(err.message, "value is not one of \"EUR\", \"USD\", \"GBP\", 1.5 or null");
  sg_schema_free(s);

  s = compile("{\"const\":{\"a\":[1,{\"b\":2}],\"c\":false}}");
  valid(s, "{\"c\":false,\"a\":[1.0,{\"b\":2}]}");
  invalid(s, "{\"c\":false,\"a\":[1,{\"b\":3}]}");
  invalid(s, "{\"c\":0,\"a\":[1,{\"b\":2}]}");
  fails_at(s, "{}", "", "/const", "const");
  sg_schema_free(s);

  s = compile("{\"const\":0}");
  check(s, "1", &err);
  CHECK_STR_EQ(err.message, "value must be 0");
  valid(s, "0");
  valid(s, "-0.0");
  invalid(s, "false");
  invalid(s, "null");
  sg_schema_free(s);
}

static void test_numbers(void) {
  sg_schema_t *s = compile("{\"minimum\":1,\"maximum\":10}");
  valid(s, "1");
  valid(s, "10");
  valid(s, "5.5");
  valid(s, "\"not a number\"");
  fails_at(s, "0.99", "", "/minimum", "minimum");
  fails_at(s, "11", "", "/maximum", "maximum");
  sg_schema_error_t err;
  check(s, "0", &err);
  CHECK_STR_EQ(err.message, "number is less than 1");
  sg_schema_free(s);

  s = compile("{\"exclusiveMinimum\":0,\"exclusiveMaximum\":1.5}");
  valid(s, "0.0001");
  valid(s, "1");
  fails_at(s, "0", "", "/exclusiveMinimum", "exclusiveMinimum");
  fails_at(s, "1.5", "", "/exclusiveMaximum", "exclusiveMaximum");
  sg_schema_free(s);

  /* draft-07 uses the same numeric form. */
  s = compile("{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"exclusiveMaximum\":3}");
  valid(s, "2.999");
  invalid(s, "3");
  sg_schema_free(s);

  /* Exact comparison of large integers. */
  s = compile("{\"maximum\":9007199254740993}");
  valid(s, "9007199254740993");
  invalid(s, "9007199254740994");
  sg_schema_free(s);
}

static void test_multiple_of(void) {
  sg_schema_t *s = compile("{\"multipleOf\":0.01}");
  valid(s, "19.99");
  valid(s, "0.07");
  valid(s, "3");
  invalid(s, "0.075");
  fails_at(s, "1.001", "", "/multipleOf", "multipleOf");
  sg_schema_free(s);
  s = compile("{\"multipleOf\":3}");
  valid(s, "9");
  valid(s, "-3");
  valid(s, "6.0");
  invalid(s, "10");
  invalid(s, "4.5");
  sg_schema_free(s);
  s = compile("{\"type\":\"integer\",\"multipleOf\":0.123456789}");
  invalid(s, "1e308");
  sg_schema_free(s);
  compile_fails_at("{\"multipleOf\":0}", "/multipleOf");
}

static void test_string_length(void) {
  sg_schema_t *s = compile("{\"minLength\":2,\"maxLength\":4}");
  valid(s, "\"ab\"");
  valid(s, "\"abcd\"");
  valid(s, "\"\\u00e9t\\u00e9\"");              /* 3 code points, 5 bytes */
  valid(s, "\"\\ud83d\\ude00\\ud83d\\ude00\""); /* 2 code points, 8 bytes */
  valid(s, "12345");
  fails_at(s, "\"a\"", "", "/minLength", "minLength");
  fails_at(s, "\"abcde\"", "", "/maxLength", "maxLength");
  invalid(s, "\"\\ud83d\\ude00\"");
  sg_schema_free(s);
}

static void test_items(void) {
  sg_schema_t *s = compile("{\"items\":{\"type\":\"integer\"}}");
  valid(s, "[]");
  valid(s, "[1,2,3]");
  valid(s, "{\"0\":\"x\"}");
  fails_at(s, "[1,\"2\",3]", "/1", "/items/type", "type");
  sg_schema_free(s);

  s = compile(
      "{\"$schema\":\"http://json-schema.org/draft-07/schema#\","
      "\"items\":[{\"type\":\"string\"},{\"type\":\"integer\"}],\"additionalItems\":false}");
  valid(s, "[\"a\",1]");
  valid(s, "[\"a\"]");
  fails_at(s, "[1]", "/0", "/items/0/type", "type");
  fails_at(s, "[\"a\",1,2]", "/2", "/additionalItems", "additionalItems");
  sg_schema_free(s);

  sg_schema_opts_t opts = {.default_draft = SG_DRAFT_07};
  s = compile_opts("{\"items\":[{\"type\":\"string\"}],\"additionalItems\":{\"type\":\"null\"}}",
                   &opts);
  valid(s, "[\"a\",null,null]");
  fails_at(s, "[\"a\",null,0]", "/2", "/additionalItems/type", "type");
  sg_schema_free(s);
}

static void test_pattern(void) {
  sg_schema_t *s = compile("{\"pattern\":\"^[a-z]+\\\\d$\"}");
  valid(s, "\"abc1\"");
  valid(s, "7");
  fails_at(s, "\"abc\"", "", "/pattern", "pattern");
  invalid(s, "\"abc1\\n\"");    /* $ is the end of the string, not before a final newline */
  invalid(s, "\"abc\\u0661\""); /* \d is ASCII only */
  sg_schema_free(s);

  /* Patterns are not anchored. */
  s = compile("{\"pattern\":\"b+\"}");
  valid(s, "\"abbc\"");
  invalid(s, "\"ac\"");
  sg_schema_free(s);

  /* ECMA \s includes Unicode spaces; \u escapes. */
  s = compile("{\"pattern\":\"^\\\\s\\\\u00e9$\"}");
  valid(s, "\"\\u00a0\\u00e9\"");
  valid(s, "\"\\ufeff\\u00e9\"");
  invalid(s, "\"x\\u00e9\"");
  sg_schema_free(s);

  compile_fails_at("{\"properties\":{\"x\":{\"pattern\":\"(unclosed\"}}}", "/properties/x/pattern");
}

static void test_pattern_limits(void) {
  /* Catastrophic backtracking: refused, never stalled, and "not" cannot turn the refusal
     into acceptance. */
  sg_schema_t *s = compile("{\"pattern\":\"^(a+)+$\"}");
  char inst[128];
  memset(inst, 0, sizeof inst);
  inst[0] = '"';
  memset(inst + 1, 'a', 40);
  strcat(inst, "!\"");
  sg_schema_error_t err;
  CHECK_INT_EQ(check(s, inst, &err), SG_EINVALID_ARGS);
  CHECK_STR_EQ(err.keyword, "pattern");
  valid(s, "\"aaaa\"");
  sg_schema_free(s);

  s = compile("{\"not\":{\"pattern\":\"^(a+)+$\"}}");
  CHECK_INT_EQ(check(s, inst, &err), SG_EINVALID_ARGS);
  CHECK_STR_EQ(err.keyword_location, "/not/pattern");
  valid(s, "\"b\"");
  sg_schema_free(s);
}

static void test_boolean_schemas(void) {
  sg_schema_t *s = compile("true");
  valid(s, "1");
  valid(s, "{\"a\":[null]}");
  sg_schema_free(s);
  s = compile("false");
  fails_at(s, "1", "", "", "false");
  sg_schema_free(s);
  s = compile("{\"properties\":{\"a\":false,\"b\":true}}");
  valid(s, "{\"b\":1}");
  fails_at(s, "{\"a\":1}", "/a", "/properties/a", "properties");
  sg_schema_free(s);
}

static void test_ref(void) {
  sg_schema_t *s = compile(
      "{\"properties\":{\"a\":{\"$ref\":\"#/$defs/short\"},\"b\":{\"$ref\":\"#/definitions/n\"}},"
      "\"$defs\":{\"short\":{\"type\":\"string\",\"maxLength\":3}},"
      "\"definitions\":{\"n\":{\"type\":\"integer\"}}}");
  valid(s, "{\"a\":\"abc\",\"b\":1}");
  fails_at(s, "{\"a\":\"abcd\"}", "/a", "/properties/a/$ref/maxLength", "maxLength");
  fails_at(s, "{\"b\":\"1\"}", "/b", "/properties/b/$ref/type", "type");
  sg_schema_free(s);

  /* A recursive schema: a tree of any depth. */
  s = compile(
      "{\"$defs\":{\"node\":{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"integer\"},"
      "\"kids\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/node\"}}},"
      "\"required\":[\"v\"]}},\"$ref\":\"#/$defs/node\"}");
  valid(s, "{\"v\":1,\"kids\":[{\"v\":2},{\"v\":3,\"kids\":[{\"v\":4}]}]}");
  fails_at(s, "{\"v\":1,\"kids\":[{\"v\":2},{\"v\":3,\"kids\":[{\"v\":\"4\"}]}]}",
           "/kids/1/kids/0/v",
           "/$ref/properties/kids/items/$ref/properties/kids/items/$ref/properties/v/type", "type");
  sg_schema_free(s);

  /* Escaped pointer tokens in the reference. */
  s = compile(
      "{\"$defs\":{\"a/b\":{\"type\":\"null\"},\"c%d\":{\"type\":\"string\"}},"
      "\"properties\":{\"x\":{\"$ref\":\"#/$defs/a~1b\"},\"y\":{\"$ref\":\"#/$defs/c%25d\"}}}");
  valid(s, "{\"x\":null,\"y\":\"s\"}");
  invalid(s, "{\"x\":1}");
  invalid(s, "{\"y\":1}");
  sg_schema_free(s);

  compile_fails_at("{\"properties\":{\"a\":{\"$ref\":\"#/$defs/missing\"}}}", "/properties/a/$ref");
}

static void test_ref_cycle(void) {
  /* A cycle that never moves into the instance is refused when compiled. */
  compile_fails_at(
      "{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":{\"allOf\":[{\"$ref\":\"#/$defs/a\"}]}},"
      "\"$ref\":\"#/$defs/a\"}",
      "/$defs/b/allOf/0/$ref");
  compile_fails_at("{\"not\":{\"$ref\":\"#\"}}", "/not/$ref");
  /* Recursion that follows the instance is fine until the depth limit, where the
     instance is refused, not crashed on, and "not" cannot turn that into acceptance. */
  sg_schema_t *s = compile("{\"items\":{\"$ref\":\"#\"}}");
  sg_schema_t *ns = compile(
      "{\"not\":{\"$ref\":\"#/$defs/deep\"},\"$defs\":{\"deep\":"
      "{\"items\":{\"$ref\":\"#/$defs/deep\"},\"contains\":{\"const\":1}}}}");
  char deep[2100];
  memset(deep, '[', 1000);
  memset(deep + 1000, ']', 1000);
  deep[2000] = '\0';
  sg_schema_error_t err;
  CHECK_INT_EQ(check(s, deep, &err), SG_EINVALID_ARGS);
  CHECK(strstr(err.message, "too deeply") != NULL);
  CHECK_INT_EQ(check(ns, deep, &err), SG_EINVALID_ARGS);
  CHECK(strstr(err.message, "too deeply") != NULL);
  valid(s, "[[[[]]],[]]");
  valid(ns, "[[2]]");
  sg_schema_free(s);
  sg_schema_free(ns);
}

static void test_unknown_keywords(void) {
  sg_schema_t *s =
      compile("{\"frobnicate\":{\"type\":\"string\"},\"x-note\":1,\"type\":\"integer\"}");
  valid(s, "1");
  invalid(s, "\"s\"");
  sg_schema_free(s);
}

static void test_compile_errors(void) {
  compile_fails_at("{\"type\":\"strng\"}", "/type");
  compile_fails_at("{\"properties\":{\"a\":{\"minLength\":-1}}}", "/properties/a/minLength");
  compile_fails_at("{\"items\":{\"maxItems\":\"3\"}}", "/items/maxItems");
  compile_fails_at("{\"properties\":{\"a\":3}}", "/properties/a");
  compile_fails_at("{\"required\":\"a\"}", "/required");
  compile_fails_at("{\"enum\":3}", "/enum");
  compile_fails_at("{\"anyOf\":[]}", "/anyOf");
}

static void test_all_any_one_not(void) {
  sg_schema_t *s = compile("{\"allOf\":[{\"type\":\"integer\"},{\"minimum\":3}]}");
  valid(s, "3");
  fails_at(s, "2", "", "/allOf/1/minimum", "minimum");
  fails_at(s, "3.5", "", "/allOf/0/type", "type");
  sg_schema_free(s);

  s = compile("{\"anyOf\":[{\"type\":\"string\"},{\"minimum\":3}]}");
  valid(s, "\"x\"");
  valid(s, "4");
  fails_at(s, "2", "", "/anyOf", "anyOf");
  sg_schema_error_t err;
  check(s, "2", &err);
  CHECK_STR_EQ(err.message, "value matches none of the 2 alternatives");
  sg_schema_free(s);
  /* The alternative whose type admits the value speaks for the others. */
  s = compile("{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\",\"minimum\":3}]}");
  fails_at(s, "2", "", "/anyOf/1/minimum", "minimum");
  fails_at(s, "null", "", "/anyOf", "anyOf");
  sg_schema_free(s);
  /* A discriminated union: the alternative whose "kind" matched got furthest. */
  s = compile(
      "{\"oneOf\":[{\"properties\":{\"kind\":{\"const\":\"a\"},\"x\":{\"type\":\"integer\"}}},"
      "{\"properties\":{\"kind\":{\"const\":\"b\"},\"y\":{\"maxLength\":3}}}]}");
  fails_at(s, "{\"kind\":\"b\",\"y\":\"long\"}", "/y", "/oneOf/1/properties/y/maxLength",
           "maxLength");
  fails_at(s, "{\"kind\":\"a\",\"x\":\"1\"}", "/x", "/oneOf/0/properties/x/type", "type");
  fails_at(s, "{\"kind\":\"c\"}", "", "/oneOf", "oneOf");
  sg_schema_free(s);
  /* Closed objects told apart by "kind": the alternative whose constant matched is entered
     without checking that constant again, and every other check of it still runs, whether
     "kind" sorts before its other properties or among them. */
  s = compile(
      "{\"oneOf\":[{\"type\":\"object\",\"properties\":{\"kind\":{\"const\":\"circle\"},"
      "\"r\":{\"type\":\"number\",\"exclusiveMinimum\":0}},\"required\":[\"kind\",\"r\"],"
      "\"additionalProperties\":false},"
      "{\"type\":\"object\",\"properties\":{\"kind\":{\"type\":\"string\",\"const\":\"rect\"},"
      "\"h\":{\"type\":\"number\",\"minimum\":0},\"w\":{\"type\":\"number\",\"minimum\":0}},"
      "\"required\":[\"kind\",\"w\",\"h\"],\"additionalProperties\":false}]}");
  valid(s, "{\"kind\":\"circle\",\"r\":2}");
  valid(s, "{\"kind\":\"rect\",\"w\":1,\"h\":2}");
  fails_at(s, "{\"kind\":\"rect\",\"w\":1,\"h\":-1}", "/h", "/oneOf/1/properties/h/minimum",
           "minimum");
  fails_at(s, "{\"kind\":\"rect\",\"w\":\"1\",\"h\":1}", "/w", "/oneOf/1/properties/w/type",
           "type");
  /* A missing member gets no further than the other alternative's missing "r". */
  fails_at(s, "{\"kind\":\"rect\",\"w\":1}", "", "/oneOf", "oneOf");
  fails_at(s, "{\"kind\":\"rect\",\"w\":1,\"h\":1,\"r\":1}", "/r", "/oneOf/1/additionalProperties",
           "additionalProperties");
  fails_at(s, "{\"kind\":\"circle\",\"r\":0}", "/r", "/oneOf/0/properties/r/exclusiveMinimum",
           "exclusiveMinimum");
  fails_at(s, "{\"kind\":\"circle\",\"r\":1,\"h\":1}", "/h", "/oneOf/0/additionalProperties",
           "additionalProperties");
  fails_at(s, "{\"kind\":\"square\"}", "", "/oneOf", "oneOf");
  sg_schema_free(s);
  /* When "kind" is the first member, the alternative starts after it: what follows is
     checked all the same, and so is an object whose "kind" comes later. */
  s = compile(
      "{\"$defs\":{\"n\":{\"anyOf\":["
      "{\"type\":\"object\",\"properties\":{\"kind\":{\"const\":\"box\"},"
      "\"in\":{\"$ref\":\"#/$defs/n\"}},\"required\":[\"kind\",\"in\"],"
      "\"additionalProperties\":false},"
      "{\"type\":\"object\",\"properties\":{\"kind\":{\"const\":\"leaf\"},"
      "\"v\":{\"type\":\"integer\"}},\"required\":[\"kind\",\"v\"],"
      "\"additionalProperties\":false}]}},\"$ref\":\"#/$defs/n\"}");
  valid(s, "{\"kind\":\"box\",\"in\":{\"kind\":\"leaf\",\"v\":1}}");
  valid(s, "{\"in\":{\"v\":1,\"kind\":\"leaf\"},\"kind\":\"box\"}");
  fails_at(s, "{\"kind\":\"box\",\"in\":{\"kind\":\"box\",\"in\":{\"kind\":\"leaf\",\"v\":\"x\"}}}",
           "/in/in/v",
           "/$ref/anyOf/0/properties/in/$ref/anyOf/0/properties/in/$ref/anyOf/1/properties/v/type",
           "type");
  fails_at(s, "{\"kind\":\"leaf\",\"v\":1,\"kind2\":1}", "/kind2",
           "/$ref/anyOf/1/additionalProperties", "additionalProperties");
  fails_at(s, "{\"v\":\"x\",\"kind\":\"leaf\"}", "/v", "/$ref/anyOf/1/properties/v/type", "type");
  sg_schema_free(s);
  /* Members and items whose alternatives are all leaves hold or fail as when their
     alternatives are entered one by one: oneOf still counts every alternative, a pattern
     only PCRE2 can tell is asked in its turn, and the node's own keywords still apply. */
  s = compile(
      "{\"type\":\"object\",\"properties\":{"
      "\"a\":{\"anyOf\":[{\"type\":\"string\",\"pattern\":\"^(?=a)a+$\"},{\"type\":\"integer\"}]},"
      "\"b\":{\"oneOf\":[{\"type\":\"number\"},{\"type\":\"integer\",\"minimum\":0}]},"
      "\"d\":{\"type\":\"string\",\"anyOf\":[{\"minLength\":2},{\"const\":\"x\"}]},"
      "\"f\":{\"oneOf\":[false,{\"type\":\"integer\"}]},"
      "\"p\":{\"anyOf\":[{\"type\":\"string\",\"pattern\":\"^(a|aa)+$\"},{\"type\":\"string\"}]},"
      "\"l\":{\"type\":\"array\",\"items\":{\"anyOf\":[{\"type\":\"string\",\"maxLength\":2},"
      "{\"type\":\"null\"}]}}},\"additionalProperties\":false}");
  valid(s, "{\"a\":\"aaa\",\"b\":1.5,\"d\":\"x\",\"f\":3,\"l\":[\"ab\",null]}");
  valid(s, "{\"a\":7,\"b\":-2,\"d\":\"xy\"}");
  fails_at(s, "{\"b\":5}", "/b", "/properties/b/oneOf", "oneOf");
  fails_at(s, "{\"b\":\"5\"}", "/b", "/properties/b/oneOf", "oneOf");
  fails_at(s, "{\"a\":\"baa\"}", "/a", "/properties/a/anyOf/0/pattern", "pattern");
  fails_at(s, "{\"a\":null}", "/a", "/properties/a/anyOf", "anyOf");
  fails_at(s, "{\"d\":7}", "/d", "/properties/d/type", "type");
  fails_at(s, "{\"d\":\"y\"}", "/d", "/properties/d/anyOf/0/minLength", "minLength");
  fails_at(s, "{\"f\":1.5}", "/f", "/properties/f/oneOf", "oneOf");
  /* Past PCRE2's limits the first alternative fails closed, though the second would hold. */
  fails_at(s, "{\"p\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\"}", "/p",
           "/properties/p/anyOf/0/pattern", "pattern");
  fails_at(s, "{\"l\":[null,\"abc\"]}", "/l/1", "/properties/l/items/anyOf/0/maxLength",
           "maxLength");
  sg_schema_free(s);
  /* With one alternative, the error is the alternative's own. */
  s = compile("{\"anyOf\":[{\"maxLength\":2}]}");
  fails_at(s, "\"abc\"", "", "/anyOf/0/maxLength", "maxLength");
  sg_schema_free(s);

  s = compile("{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}");
  valid(s, "1");
  valid(s, "2.5");
  fails_at(s, "3", "", "/oneOf", "oneOf");
  check(s, "3", &err);
  CHECK_STR_EQ(err.message, "value matches more than one alternative (0 and 1)");
  invalid(s, "1.5");
  sg_schema_free(s);

  s = compile("{\"properties\":{\"a\":{\"not\":{\"type\":\"null\"}}}}");
  valid(s, "{\"a\":1}");
  fails_at(s, "{\"a\":null}", "/a", "/properties/a/not", "not");
  sg_schema_free(s);
}

static void test_if_then_else(void) {
  sg_schema_t *s = compile(
      "{\"if\":{\"properties\":{\"kind\":{\"const\":\"card\"}}},"
      "\"then\":{\"required\":[\"number\"]},\"else\":{\"required\":[\"iban\"]}}");
  valid(s, "{\"kind\":\"card\",\"number\":\"1\"}");
  valid(s, "{\"kind\":\"bank\",\"iban\":\"x\"}");
  fails_at(s, "{\"kind\":\"card\"}", "", "/then/required", "required");
  fails_at(s, "{\"kind\":\"bank\"}", "", "/else/required", "required");
  sg_schema_free(s);
  /* then/else without if do nothing. */
  s = compile("{\"then\":false,\"else\":false}");
  valid(s, "1");
  sg_schema_free(s);
}

static void test_dependencies(void) {
  sg_schema_t *s = compile(
      "{\"dependentRequired\":{\"card\":[\"cvv\",\"expiry\"]},"
      "\"dependentSchemas\":{\"gift\":{\"properties\":{\"note\":{\"maxLength\":5}}}}}");
  valid(s, "{}");
  valid(s, "{\"card\":1,\"cvv\":1,\"expiry\":1}");
  fails_at(s, "{\"card\":1,\"cvv\":1}", "", "/dependentRequired", "dependentRequired");
  sg_schema_error_t err;
  check(s, "{\"card\":1,\"cvv\":1}", &err);
  CHECK_STR_EQ(err.message, "property \"card\" requires property \"expiry\"");
  valid(s, "{\"note\":\"too long a note\"}");
  fails_at(s, "{\"gift\":true,\"note\":\"too long\"}", "/note",
           "/dependentSchemas/gift/properties/note/maxLength", "maxLength");
  sg_schema_free(s);

  sg_schema_opts_t d7 = {.default_draft = SG_DRAFT_07};
  s = compile_opts("{\"dependencies\":{\"a\":[\"b\"],\"c\":{\"required\":[\"d\"]}}}", &d7);
  valid(s, "{\"a\":1,\"b\":2}");
  fails_at(s, "{\"a\":1}", "", "/dependencies", "dependencies");
  fails_at(s, "{\"c\":1}", "", "/dependencies/c/required", "required");
  sg_schema_free(s);
}

static void test_arrays(void) {
  sg_schema_t *s =
      compile("{\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"integer\"}],\"items\":false}");
  valid(s, "[]");
  valid(s, "[\"a\",1]");
  fails_at(s, "[\"a\",\"b\"]", "/1", "/prefixItems/1/type", "type");
  fails_at(s, "[\"a\",1,null]", "/2", "/items", "items");
  sg_schema_error_t err;
  check(s, "[\"a\",1,null]", &err);
  CHECK_STR_EQ(err.message, "item 2 is not allowed");
  sg_schema_free(s);

  s = compile("{\"minItems\":1,\"maxItems\":2}");
  valid(s, "[1]");
  fails_at(s, "[]", "", "/minItems", "minItems");
  fails_at(s, "[1,2,3]", "", "/maxItems", "maxItems");
  sg_schema_free(s);

  s = compile("{\"contains\":{\"type\":\"integer\"}}");
  valid(s, "[\"a\",1]");
  fails_at(s, "[\"a\"]", "", "/contains", "contains");
  fails_at(s, "[]", "", "/contains", "contains");
  sg_schema_free(s);
  s = compile("{\"contains\":{\"type\":\"integer\"},\"minContains\":2,\"maxContains\":3}");
  valid(s, "[1,2,\"x\"]");
  fails_at(s, "[1,\"x\"]", "", "/minContains", "minContains");
  fails_at(s, "[1,2,3,4]", "", "/maxContains", "maxContains");
  sg_schema_free(s);
  s = compile("{\"contains\":{\"const\":1},\"minContains\":0}");
  valid(s, "[]");
  valid(s, "[2]");
  sg_schema_free(s);
}

static void test_unique_items(void) {
  sg_schema_t *s = compile("{\"uniqueItems\":true}");
  valid(s, "[1,2,\"1\",[1],{\"a\":1},true,null]");
  fails_at(s, "[1,2,1.0]", "", "/uniqueItems", "uniqueItems");
  invalid(s, "[{\"a\":1,\"b\":2},{\"b\":2,\"a\":1}]");
  invalid(s, "[[1,{\"x\":null}],[1.0,{\"x\":null}]]");
  valid(s, "[false,0,null,\"\",[],{}]");
  sg_schema_error_t err;
  check(s, "[1,2,3,2]", &err);
  CHECK_STR_EQ(err.message, "items 1 and 3 are equal");
  /* Large arrays take the sorted path. */
  char big[4096] = "[";
  for (int i = 0; i < 200; i++)
    snprintf(big + strlen(big), sizeof big - strlen(big), "%s%d", i ? "," : "", i);
  strcat(big, "]");
  valid(s, big);
  big[strlen(big) - 1] = '\0';
  strcat(big, ",{\"k\":[1]},{\"k\":[1.0]}]");
  check(s, big, &err);
  CHECK_STR_EQ(err.message, "items 200 and 201 are equal");
  sg_schema_free(s);
}

static void test_object_counts_and_names(void) {
  sg_schema_t *s = compile("{\"minProperties\":1,\"maxProperties\":2}");
  valid(s, "{\"a\":1}");
  fails_at(s, "{}", "", "/minProperties", "minProperties");
  fails_at(s, "{\"a\":1,\"b\":2,\"c\":3}", "", "/maxProperties", "maxProperties");
  sg_schema_free(s);

  s = compile(
      "{\"properties\":{\"o\":{\"propertyNames\":{\"pattern\":\"^[a-z]+$\",\"maxLength\":4}}}}");
  valid(s, "{\"o\":{\"abc\":1,\"abcd\":2}}");
  fails_at(s, "{\"o\":{\"abc\":1,\"aBc\":2}}", "/o", "/properties/o/propertyNames",
           "propertyNames");
  invalid(s, "{\"o\":{\"abcde\":1}}");
  sg_schema_error_t err;
  check(s, "{\"o\":{\"Q\":1}}", &err);
  CHECK_STR_EQ(err.message, "property name \"Q\" is not allowed");
  sg_schema_free(s);

  s = compile(
      "{\"propertyNames\":{\"$ref\":\"#/$defs/n\"},\"$defs\":{\"n\":{\"enum\":[\"a\",\"b\"]}}}");
  valid(s, "{\"a\":1,\"b\":2}");
  invalid(s, "{\"c\":1}");
  sg_schema_free(s);
  s = compile("{\"propertyNames\":false}");
  valid(s, "{}");
  invalid(s, "{\"a\":1}");
  sg_schema_free(s);
}

static void test_pattern_properties(void) {
  sg_schema_t *s = compile(
      "{\"properties\":{\"id\":{\"type\":\"integer\"}},"
      "\"patternProperties\":{\"^x-\":{\"type\":\"string\"},\"^x-n\":{\"minLength\":2}},"
      "\"additionalProperties\":false}");
  valid(s, "{\"id\":1,\"x-a\":\"s\",\"x-nn\":\"ss\"}");
  fails_at(s, "{\"x-a\":1}", "/x-a", "/patternProperties/^x-/type", "type");
  fails_at(s, "{\"x-nn\":\"s\"}", "/x-nn", "/patternProperties/^x-n/minLength", "minLength");
  fails_at(s, "{\"y\":1}", "/y", "/additionalProperties", "additionalProperties");
  sg_schema_free(s);
}

static void test_unevaluated(void) {
  sg_schema_t *s = compile(
      "{\"allOf\":[{\"properties\":{\"a\":true}}],"
      "\"anyOf\":[{\"properties\":{\"b\":{\"type\":\"string\"}},\"required\":[\"b\"]},{"
      "\"properties\":{\"c\":true}}],"
      "\"if\":{\"properties\":{\"t\":true},\"required\":[\"t\"]},\"then\":{\"properties\":{\"u\":"
      "true}},"
      "\"unevaluatedProperties\":false}");
  valid(s, "{\"a\":1}");
  valid(s, "{\"a\":1,\"b\":\"s\",\"c\":2}");
  valid(s, "{\"t\":1,\"u\":2}");
  fails_at(s, "{\"a\":1,\"z\":2}", "/z", "/unevaluatedProperties", "unevaluatedProperties");
  /* b is evaluated only by a branch that fails. */
  invalid(s, "{\"b\":1}");
  /* u is evaluated only when "if" holds. */
  invalid(s, "{\"u\":1}");
  sg_schema_free(s);

  s = compile(
      "{\"allOf\":[{\"prefixItems\":[true,true]}],\"unevaluatedItems\":{\"type\":\"string\"}}");
  valid(s, "[1,2]");
  valid(s, "[1,2,\"x\"]");
  fails_at(s, "[1,2,3]", "/2", "/unevaluatedItems/type", "type");
  sg_schema_free(s);

  s = compile("{\"contains\":{\"type\":\"integer\"},\"unevaluatedItems\":false}");
  valid(s, "[1,2]");
  invalid(s, "[1,\"a\"]");
  sg_schema_free(s);

  /* Many members: the marks move to the heap, and the cost stays linear. */
  s = compile(
      "{\"anyOf\":[{\"patternProperties\":{\"^k\":true}},{\"required\":[\"nope\"]}],"
      "\"unevaluatedProperties\":false}");
  size_t cap = 20 * 5000 + 16, len = 0;
  char *big = malloc(cap);
  CHECK(big != NULL);
  big[len++] = '{';
  for (int i = 0; i < 5000; i++)
    len += (size_t)snprintf(big + len, cap - len, "%s\"k%d\":%d", i ? "," : "", i, i);
  big[len++] = '}';
  big[len] = '\0';
  valid(s, big);
  memcpy(big + 1, "\"x", 2); /* the first member becomes "x0" */
  fails_at(s, big, "/x0", "/unevaluatedProperties", "unevaluatedProperties");
  free(big);
  sg_schema_free(s);

  /* Through $ref, and nested unevaluatedProperties. */
  s = compile(
      "{\"$ref\":\"#/$defs/base\",\"properties\":{\"extra\":true},\"unevaluatedProperties\":false,"
      "\"$defs\":{\"base\":{\"properties\":{\"id\":true}}}}");
  valid(s, "{\"id\":1,\"extra\":2}");
  fails_at(s, "{\"id\":1,\"other\":2}", "/other", "/unevaluatedProperties",
           "unevaluatedProperties");
  sg_schema_free(s);
}

/* A node whose in-place subschemas only check leaf properties: an object's members are
   looked up once for all of them, and a subschema that holds is not entered. Each failure
   must still be reported where it happens, and "if" must still choose between "then" and
   "else". */
static void test_unevaluated_in_place(void) {
  sg_schema_t *s = compile(
      "{\"type\":\"object\",\"properties\":{\"kind\":{\"enum\":[\"p\",\"c\"]}},"
      "\"required\":[\"kind\"],"
      "\"allOf\":[{\"properties\":{\"email\":{\"type\":\"string\",\"maxLength\":5},"
      "\"phone\":{\"type\":\"string\",\"pattern\":\"^[0-9]+$\"}},\"required\":[\"email\"]}],"
      "\"if\":{\"properties\":{\"kind\":{\"const\":\"p\"}}},"
      "\"then\":{\"properties\":{\"born\":{\"type\":\"integer\"}}},"
      "\"else\":{\"properties\":{\"vat\":{\"type\":\"string\"}}},"
      "\"unevaluatedProperties\":false}");
  valid(s, "{\"kind\":\"p\",\"email\":\"a@b\",\"phone\":\"12\",\"born\":1815}");
  valid(s, "{\"kind\":\"c\",\"email\":\"a@b\",\"vat\":\"GB1\"}");
  fails_at(s, "{\"kind\":\"p\",\"email\":\"toolong\"}", "/email",
           "/allOf/0/properties/email/maxLength", "maxLength");
  fails_at(s, "{\"kind\":\"p\",\"email\":\"a@b\",\"phone\":\"x\"}", "/phone",
           "/allOf/0/properties/phone/pattern", "pattern");
  fails_at(s, "{\"kind\":\"p\"}", "", "/allOf/0/required", "required");
  fails_at(s, "{\"kind\":\"p\",\"email\":\"a@b\",\"born\":\"x\"}", "/born",
           "/then/properties/born/type", "type");
  fails_at(s, "{\"kind\":\"c\",\"email\":\"a@b\",\"vat\":1}", "/vat", "/else/properties/vat/type",
           "type");
  /* Evaluated by "else" only: unevaluated when "if" holds, and the other way round. */
  fails_at(s, "{\"kind\":\"p\",\"email\":\"a@b\",\"vat\":\"GB1\"}", "/vat",
           "/unevaluatedProperties", "unevaluatedProperties");
  fails_at(s, "{\"kind\":\"c\",\"email\":\"a@b\",\"born\":1}", "/born", "/unevaluatedProperties",
           "unevaluatedProperties");
  fails_at(s, "{\"kind\":\"c\",\"email\":\"a@b\",\"zz\":1}", "/zz", "/unevaluatedProperties",
           "unevaluatedProperties");
  sg_schema_free(s);
}

/* "a" nested depth times around inner; the caller frees the text. */
static char *nested(int depth, const char *inner) {
  size_t cap = (size_t)depth * 7 + strlen(inner) + 1, len = 0;
  char *t = malloc(cap);
  CHECK(t != NULL);
  for (int i = 0; i < depth; i++) len += (size_t)snprintf(t + len, cap - len, "{\"a\":");
  len += (size_t)snprintf(t + len, cap - len, "%s", inner);
  for (int i = 0; i < depth; i++) t[len++] = '}';
  t[len] = '\0';
  return t;
}

static void test_unevaluated_depth_limit(void) {
  /* Each level enters two nodes ($ref and its target); working out which members were
     evaluated enters one more below the deepest, so 255 levels are refused while 254 are
     not, whichever way validation finds out. */
  sg_schema_t *s = compile(
      "{\"$defs\":{\"d\":{\"properties\":{\"a\":{\"$ref\":\"#/$defs/d\"}},"
      "\"unevaluatedProperties\":false}},\"$ref\":\"#/$defs/d\"}");
  char *t = nested(254, "{}");
  valid(s, t);
  free(t);
  t = nested(255, "{}");
  sg_schema_error_t err;
  CHECK_INT_EQ(check(s, t, &err), SG_EINVALID_ARGS);
  CHECK(strstr(err.message, "nested too deeply") != NULL);
  free(t);
  t = nested(254, "{\"x\":1}");
  CHECK_INT_EQ(check(s, t, &err), SG_EINVALID_ARGS);
  CHECK_STR_EQ(err.keyword, "unevaluatedProperties");
  free(t);
  sg_schema_free(s);
}

static void test_ids_and_anchors(void) {
  sg_schema_t *s = compile(
      "{\"$id\":\"https://example.com/root.json\","
      "\"properties\":{\"a\":{\"$ref\":\"item.json\"},\"b\":{\"$ref\":\"#num\"},"
      "\"c\":{\"$ref\":\"https://example.com/nested/leaf.json#/$defs/s\"}},"
      "\"$defs\":{\"item\":{\"$id\":\"item.json\",\"type\":\"boolean\"},"
      "\"n\":{\"$anchor\":\"num\",\"type\":\"number\"},"
      "\"leaf\":{\"$id\":\"nested/leaf.json\",\"$defs\":{\"s\":{\"type\":\"string\"}}}}}");
  valid(s, "{\"a\":true,\"b\":1,\"c\":\"x\"}");
  fails_at(s, "{\"a\":1}", "/a", "/properties/a/$ref/type", "type");
  fails_at(s, "{\"b\":\"1\"}", "/b", "/properties/b/$ref/type", "type");
  fails_at(s, "{\"c\":1}", "/c", "/properties/c/$ref/type", "type");
  sg_schema_free(s);

  /* draft-07: plain-name $id, and $ref hides its siblings. */
  s = compile(
      "{\"$schema\":\"http://json-schema.org/draft-07/schema#\","
      "\"definitions\":{\"x\":{\"$id\":\"#x\",\"type\":\"null\"}},"
      "\"properties\":{\"p\":{\"$ref\":\"#x\",\"type\":\"string\"}}}");
  valid(s, "{\"p\":null}");
  invalid(s, "{\"p\":\"s\"}");
  sg_schema_free(s);

  /* An $id inside "enum" or "const" is data, not an identifier. */
  s = compile(
      "{\"$id\":\"https://example.com/a\",\"enum\":[{\"$id\":\"https://example.com/b\"}],"
      "\"anyOf\":[{\"$ref\":\"#/$defs/x\"},true],\"$defs\":{\"x\":{\"type\":\"null\"}}}");
  valid(s, "{\"$id\":\"https://example.com/b\"}");
  sg_schema_free(s);
}

static void test_dynamic_ref(void) {
  /* A generic list whose item type a derived schema fills in. */
  sg_schema_t *s = compile(
      "{\"$id\":\"https://example.com/strings\",\"$ref\":\"list\",\"$defs\":{"
      "\"item\":{\"$dynamicAnchor\":\"item\",\"type\":\"string\"},"
      "\"list\":{\"$id\":\"list\",\"type\":\"array\",\"items\":{\"$dynamicRef\":\"#item\"},"
      "\"$defs\":{\"any\":{\"$dynamicAnchor\":\"item\"}}}}}");
  valid(s, "[\"a\",\"b\"]");
  fails_at(s, "[\"a\",1]", "/1", "/$ref/items/$dynamicRef/type", "type");
  sg_schema_free(s);
}

static json_t *resolve_test(void *data, const char *uri) {
  CHECK(data == (void *)resolve_test);
  if (strcmp(uri, "https://schemas.example/common.json") == 0)
    return json_loads("{\"$defs\":{\"id\":{\"type\":\"string\",\"pattern\":\"^[0-9a-f]{8}$\"}}}", 0,
                      NULL);
  return NULL;
}

static void test_remote_refs(void) {
  sg_schema_opts_t opts = {.resolve = resolve_test, .resolve_data = (void *)resolve_test};
  sg_schema_t *s = compile_opts(
      "{\"properties\":{\"id\":{\"$ref\":\"https://schemas.example/common.json#/$defs/id\"}}}",
      &opts);
  valid(s, "{\"id\":\"0123abcd\"}");
  fails_at(s, "{\"id\":\"xyz\"}", "/id", "/properties/id/$ref/pattern", "pattern");
  sg_schema_free(s);

  json_t *j = parse("{\"$ref\":\"https://schemas.example/other.json\"}");
  sg_schema_t *out = NULL;
  sg_schema_error_t err;
  CHECK_INT_EQ(sg_schema_compile(j, &opts, &out, &err), SG_ESCHEMA);
  CHECK_STR_EQ(err.keyword_location, "/$ref");
  CHECK_INT_EQ(sg_schema_compile(j, NULL, &out, &err), SG_ESCHEMA);
  json_decref(j);

  /* Relative references resolve against the URI the schema was read from. */
  opts.base_uri = "https://schemas.example/tools/send.json";
  s = compile_opts("{\"properties\":{\"id\":{\"$ref\":\"../common.json#/$defs/id\"}}}", &opts);
  valid(s, "{\"id\":\"0123abcd\"}");
  invalid(s, "{\"id\":\"0123abcdef\"}");
  sg_schema_free(s);
  CHECK_INT_EQ(sg_schema_validate(NULL, json_null(), &err), SG_EINVALID_ARGS);
}

static void test_metaschema(void) {
  sg_schema_t *s = compile("{\"$ref\":\"https://json-schema.org/draft/2020-12/schema\"}");
  valid(s, "{\"type\":\"string\",\"properties\":{\"a\":{\"minLength\":1}}}");
  valid(s, "true");
  invalid(s, "{\"type\":12}");
  invalid(s, "{\"properties\":{\"a\":{\"minLength\":-1}}}");
  invalid(s, "3");
  sg_schema_free(s);
  s = compile("{\"$ref\":\"http://json-schema.org/draft-07/schema#\"}");
  valid(s, "{\"type\":[\"string\",\"null\"],\"items\":[{}]}");
  invalid(s, "{\"required\":[1]}");
  sg_schema_free(s);
}

static void test_ecma_regex(void) {
  struct {
    const char *pattern, *yes, *no;
  } cases[] = {
      {"^\\\\w+$", "\"a_1\"", "\"\\u00e9\""},
      {"^[\\\\s-x]+$", "\"x- \"", "\"y\""},
      {"^\\\\S$", "\"a\"", "\"\\u2003\""},
      {"^[^\\\\S]$", "\"\\u3000\"", "\"a\""},
      {"^a.c$", "\"abc\"", "\"a\\nc\""},
      {"^[^]$", "\"\\n\"", "\"\""},
      {"^\\\\cJ$", "\"\\n\"", "\"J\""},
      {"^\\\\u{1F600}$", "\"\\ud83d\\ude00\"", "\"x\""},
      {"^\\\\ud83d\\\\ude00$", "\"\\ud83d\\ude00\"", "\"x\""},
      {"^\\\\p{Letter}+$", "\"\\u00e9t\\u00e9\"", "\"1\""},
      {"^\\\\x41$", "\"A\"", "\"x41\""},
      {"^[[:alpha:]]$", "\":]\"", "\"b\""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char schema[128];
    snprintf(schema, sizeof schema, "{\"pattern\":\"%s\"}", cases[i].pattern);
    sg_schema_t *s = compile(schema);
    valid(s, cases[i].yes);
    invalid(s, cases[i].no);
    sg_schema_free(s);
  }
}

static void test_messages_are_short(void) {
  char schema[512], inst[1024];
  char key[301];
  memset(key, 'k', 300);
  key[300] = '\0';
  snprintf(schema, sizeof schema, "{\"required\":[\"%s\"]}", key);
  sg_schema_t *s = compile(schema);
  sg_schema_error_t err;
  CHECK_INT_EQ(check(s, "{}", &err), SG_EINVALID_ARGS);
  CHECK(strlen(err.message) < 100);
  CHECK(strstr(err.message, "...") != NULL);
  sg_schema_free(s);
  s = compile("{\"additionalProperties\":false}");
  snprintf(inst, sizeof inst, "{\"%s\":1}", key);
  CHECK_INT_EQ(check(s, inst, &err), SG_EINVALID_ARGS);
  CHECK(strlen(err.message) < 100);
  CHECK_INT_EQ(strlen(err.instance_location), 301);
  sg_schema_free(s);
}

static void test_formats(void) {
  struct {
    const char *format, *yes, *no;
  } cases[] = {
      {"date-time", "1985-04-12T23:20:50.52Z", "1985-04-12 23:20:50Z"},
      {"date-time", "1990-12-31T15:59:60-08:00", "1990-12-31T15:59:60Z"},
      {"date", "2024-02-29", "2023-02-29"},
      {"time", "08:30:06+01:00", "08:30:06"},
      {"duration", "P1Y2M3DT4H5M6S", "P1D2M"},
      {"duration", "P4W", "PT"},
      {"email", "joe.bloggs@example.com", "joe..bloggs@example.com"},
      {"email", "\\\"joe bloggs\\\"@[127.0.0.1]", "joe@"},
      {"hostname", "www.example.com", "-bad.example.com"},
      {"ipv4", "192.168.0.1", "192.168.0.01"},
      {"ipv6", "::ffff:192.168.0.1", "1:2:3:4:5:6:7:8:9"},
      {"ipv6", "fe80::1", "fe80:::1"},
      {"uri", "https://user@example.com:8080/a/b?q=1#f", "/relative/path"},
      {"uri", "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", "http://exa mple.com"},
      {"uri-reference", "../a/b?c#d", "\\\\server"},
      {"iri", "https://\u00e9xample.com/\u00e9", "\u00e9xample"},
      {"uri-template", "https://example.com/{user}/{+path}{?q,lang}", "https://example.com/{user"},
      {"uuid", "2EB8AA08-AA98-11EA-B4AA-73B441D16380", "2eb8aa08-aa98-11ea-b4aa-73b441d1638"},
      {"regex", "^[a-z]+(?:-[a-z]+)*$", "(?i)abc"},
      {"json-pointer", "/a~1b/0", "a/b"},
      {"relative-json-pointer", "1/foo", "01/foo"},
  };
  sg_schema_opts_t opts = {.format_assert = 1};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char schema[96], yes[160], no[160];
    snprintf(schema, sizeof schema, "{\"format\":\"%s\"}", cases[i].format);
    snprintf(yes, sizeof yes, "\"%s\"", cases[i].yes);
    snprintf(no, sizeof no, "\"%s\"", cases[i].no);
    sg_schema_t *s = compile_opts(schema, &opts);
    valid(s, yes);
    fails_at(s, no, "", "/format", "format");
    valid(s, "12"); /* formats apply to strings only */
    sg_schema_free(s);
    /* Without format assertion, format is an annotation. */
    s = compile(schema);
    valid(s, no);
    sg_schema_free(s);
  }
  sg_schema_t *s = compile_opts("{\"format\":\"x-unknown\"}", &opts);
  valid(s, "\"anything\"");
  sg_schema_free(s);
  s = compile_opts("{\"format\":\"email\"}", &opts);
  sg_schema_error_t err;
  check(s, "\"nope\"", &err);
  CHECK_STR_EQ(err.message, "string is not a valid email");
  sg_schema_free(s);
}

static void *validate_many(void *arg) {
  const sg_schema_t *s = arg;
  json_t *good = parse("{\"id\":\"ab-12\",\"n\":[1,2,3]}");
  json_t *bad = parse("{\"id\":\"AB-12\",\"n\":[1,2,3]}");
  long wrong = 0;
  for (int i = 0; i < 20000; i++) {
    wrong += sg_schema_validate(s, good, NULL) != 0;
    wrong += sg_schema_validate(s, bad, NULL) != SG_EINVALID_ARGS;
  }
  json_decref(good);
  json_decref(bad);
  sg_schema_thread_cleanup();
  return (void *)wrong;
}

static void test_threads(void) {
  /* One compiled schema, validated from several threads at once. */
  sg_schema_t *s = compile(
      "{\"properties\":{\"id\":{\"pattern\":\"^[a-z]+-\\\\d+$\"},"
      "\"n\":{\"uniqueItems\":true,\"items\":{\"type\":\"integer\"}}}}");
  pthread_t t[4];
  for (int i = 0; i < 4; i++) CHECK_INT_EQ(pthread_create(&t[i], NULL, validate_many, s), 0);
  for (int i = 0; i < 4; i++) {
    void *wrong;
    CHECK_INT_EQ(pthread_join(t[i], &wrong), 0);
    CHECK(wrong == NULL);
  }
  sg_schema_free(s);
}

static void collect_unknown(void *data, const char *where, const char *keyword) {
  char *out = data;
  size_t n = strlen(out);
  snprintf(out + n, 512 - n, "%s%s=%s", n ? " " : "", where, keyword);
}

static void test_unknown_keyword_lint(void) {
  json_t *j = parse(
      "{\"type\":\"object\",\"title\":\"t\",\"x-ui\":1,\"properties\":{\"a/"
      "b\":{\"type\":\"string\","
      "\"maxLenght\":3},\"c\":{\"items\":[{\"minimun\":1}]}},\"allOf\":[{\"requierd\":[\"a\"]}],"
      "\"enum\":[{\"notAKeyword\":1}],\"$defs\":{\"d\":{\"descripton\":\"\"}}}");
  char found[512] = "";
  CHECK_INT_EQ(sg_schema_unknown_keywords(j, collect_unknown, found), 4);
  CHECK(strstr(found, "/properties/a~1b/maxLenght=maxLenght") != NULL);
  CHECK(strstr(found, "/properties/c/items/0/minimun=minimun") != NULL);
  CHECK(strstr(found, "/allOf/0/requierd=requierd") != NULL);
  CHECK(strstr(found, "/$defs/d/descripton=descripton") != NULL);
  json_decref(j);
}

static void test_shared_and_reused(void) {
  /* The compiled schema outlives its document and is reused across many instances. */
  json_t *doc = parse(
      "{\"type\":\"object\",\"properties\":{\"q\":{\"type\":\"string\",\"pattern\":\"^q\"}}}");
  sg_schema_t *s = NULL;
  CHECK_INT_EQ(sg_schema_compile(doc, NULL, &s, NULL), 0);
  json_decref(doc);
  for (int i = 0; i < 1000; i++) {
    valid(s, "{\"q\":\"qq\"}");
    invalid(s, "{\"q\":\"x\"}");
  }
  CHECK_INT_EQ(sg_schema_validate(s, json_null(), NULL), SG_EINVALID_ARGS);
  sg_schema_free(s);
  sg_schema_thread_cleanup();
}

/* sg_schema_validate_all: the errors of independent keywords, each once and in
   evaluation order; the one sg_schema_validate reports is the first of them. */
typedef struct {
  size_t n;
  char lines[8][160];
} all_errors_t;

static void collect(void *data, const sg_schema_error_t *e) {
  all_errors_t *a = data;
  if (a->n < 8)
    snprintf(a->lines[a->n], sizeof a->lines[0], "%.50s %.60s %.40s", e->instance_location,
             e->keyword_location, e->keyword);
  a->n++;
}

static void test_every_error(void) {
  sg_schema_t *s = compile(
      "{\"type\":\"object\",\"required\":[\"a\",\"b\",\"d\",\"f\"],"
      "\"properties\":{\"a\":{\"type\":\"string\",\"maxLength\":3,\"pattern\":\"^x\"},"
      "\"b\":{\"type\":\"array\",\"items\":{\"minimum\":0}},"
      "\"c\":{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"integer\",\"minimum\":5}]},"
      "\"d\":{},\"f\":{}},"
      "\"additionalProperties\":false}");
  const char *bad = "{\"a\":\"toolong\",\"b\":[1,-1,2,-2],\"c\":3,\"e\":true}";
  all_errors_t a = {0};
  json_t *j = parse(bad);
  CHECK_INT_EQ(sg_schema_validate_all(s, j, collect, &a), SG_EINVALID_ARGS);
  static const char *const want[] = {
      " /required required",
      " /required required",
      "/a /properties/a/maxLength maxLength",
      "/a /properties/a/pattern pattern",
      "/b/1 /properties/b/items/minimum minimum",
      "/b/3 /properties/b/items/minimum minimum",
      "/c /properties/c/oneOf/1/minimum minimum",
      "/e /additionalProperties additionalProperties",
  };
  CHECK_INT_EQ((long long)a.n, 8);
  for (size_t i = 0; i < 8 && i < a.n; i++) CHECK_STR_EQ(a.lines[i], want[i]);
  /* The first error alone is the same one. */
  sg_schema_error_t first;
  CHECK_INT_EQ(sg_schema_validate(s, j, &first), SG_EINVALID_ARGS);
  CHECK_STR_EQ(first.keyword_location, "/required");
  json_decref(j);
  /* A valid instance reports nothing. */
  a.n = 0;
  j = parse("{\"a\":\"xy\",\"b\":[0],\"d\":1,\"f\":2}");
  CHECK_INT_EQ(sg_schema_validate_all(s, j, collect, &a), 0);
  CHECK_INT_EQ((long long)a.n, 0);
  json_decref(j);
  sg_schema_free(s);
}

const sg_test_t sg_suite_schema[] = {{"type", test_type},
                                     {"every_error", test_every_error},
                                     {"properties_required", test_properties_required},
                                     {"nested_location", test_nested_location},
                                     {"pointer_escaping", test_pointer_escaping},
                                     {"additional_properties", test_additional_properties},
                                     {"enum_const", test_enum_const},
                                     {"numbers", test_numbers},
                                     {"multiple_of", test_multiple_of},
                                     {"string_length", test_string_length},
                                     {"items", test_items},
                                     {"pattern", test_pattern},
                                     {"pattern_limits", test_pattern_limits},
                                     {"boolean_schemas", test_boolean_schemas},
                                     {"ref", test_ref},
                                     {"ref_cycle", test_ref_cycle},
                                     {"unknown_keywords", test_unknown_keywords},
                                     {"compile_errors", test_compile_errors},
                                     {"all_any_one_not", test_all_any_one_not},
                                     {"if_then_else", test_if_then_else},
                                     {"dependencies", test_dependencies},
                                     {"arrays", test_arrays},
                                     {"unique_items", test_unique_items},
                                     {"object_counts_and_names", test_object_counts_and_names},
                                     {"pattern_properties", test_pattern_properties},
                                     {"unevaluated", test_unevaluated},
                                     {"unevaluated in place", test_unevaluated_in_place},
                                     {"unevaluated_depth_limit", test_unevaluated_depth_limit},
                                     {"ids_and_anchors", test_ids_and_anchors},
                                     {"dynamic_ref", test_dynamic_ref},
                                     {"remote_refs", test_remote_refs},
                                     {"metaschema", test_metaschema},
                                     {"ecma_regex", test_ecma_regex},
                                     {"messages_are_short", test_messages_are_short},
                                     {"formats", test_formats},
                                     {"unknown_keyword_lint", test_unknown_keyword_lint},
                                     {"threads", test_threads},
                                     {"shared_and_reused", test_shared_and_reused},
                                     SG_SUITE_END};
