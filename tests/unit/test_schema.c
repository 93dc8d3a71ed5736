/*
 * JSON Schema compiler and validator: every keyword with valid and invalid instances,
 * and the exact locations of the errors it reports.
 */
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
  if (rc) fprintf(stderr, "compile failed: %s at %s: %s\n", schema, err.keyword_location, err.message);
  CHECK_INT_EQ(rc, 0);
  json_decref(j);
  return s;
}

static sg_schema_t *compile(const char *schema) { return compile_opts(schema, NULL); }

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
  if (rc) fprintf(stderr, "expected valid: %s: %s at %s\n", instance, err.message, err.keyword_location);
  CHECK_INT_EQ(rc, 0);
}

static void invalid(const sg_schema_t *s, const char *instance) {
  sg_schema_error_t err;
  if (check(s, instance, &err) != SG_EINVALID_ARGS) fprintf(stderr, "expected invalid: %s\n", instance);
  CHECK_INT_EQ(check(s, instance, &err), SG_EINVALID_ARGS);
  CHECK(err.message[0] != '\0');
}

/* Expects instance to fail with exactly these locations and keyword. */
static void fails_at(const sg_schema_t *s, const char *instance, const char *iloc,
                     const char *kloc, const char *kw) {
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
      "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"},\"b\":{\"type\":\"integer\"}},"
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
  sg_schema_t *s = compile("{\"properties\":{\"a/b\":{\"properties\":{\"c~d\":{\"type\":\"null\"}}}}}");
  valid(s, "{\"a/b\":{\"c~d\":null}}");
  fails_at(s, "{\"a/b\":{\"c~d\":1}}", "/a~1b/c~0d", "/properties/a~1b/properties/c~0d/type", "type");
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
  sg_schema_free(s);

  s = compile("{\"const\":{\"a\":[1,{\"b\":2}],\"c\":false}}");
  valid(s, "{\"c\":false,\"a\":[1.0,{\"b\":2}]}");
  invalid(s, "{\"c\":false,\"a\":[1,{\"b\":3}]}");
  invalid(s, "{\"c\":0,\"a\":[1,{\"b\":2}]}");
  fails_at(s, "{}", "", "/const", "const");
  sg_schema_free(s);

  s = compile("{\"const\":0}");
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
  valid(s, "\"\\u00e9t\\u00e9\""); /* 3 code points, 5 bytes */
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

  s = compile("{\"$schema\":\"http://json-schema.org/draft-07/schema#\","
              "\"items\":[{\"type\":\"string\"},{\"type\":\"integer\"}],\"additionalItems\":false}");
  valid(s, "[\"a\",1]");
  valid(s, "[\"a\"]");
  fails_at(s, "[1]", "/0", "/items/0/type", "type");
  fails_at(s, "[\"a\",1,2]", "/2", "/additionalItems", "additionalItems");
  sg_schema_free(s);

  sg_schema_opts_t opts = {.default_draft = SG_DRAFT_07};
  s = compile_opts("{\"items\":[{\"type\":\"string\"}],\"additionalItems\":{\"type\":\"null\"}}", &opts);
  valid(s, "[\"a\",null,null]");
  fails_at(s, "[\"a\",null,0]", "/2", "/additionalItems/type", "type");
  sg_schema_free(s);
}

static void test_pattern(void) {
  sg_schema_t *s = compile("{\"pattern\":\"^[a-z]+\\\\d$\"}");
  valid(s, "\"abc1\"");
  valid(s, "7");
  fails_at(s, "\"abc\"", "", "/pattern", "pattern");
  invalid(s, "\"abc1\\n\""); /* $ is the end of the string, not before a final newline */
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
  s = compile("{\"$defs\":{\"node\":{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"integer\"},"
              "\"kids\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/node\"}}},"
              "\"required\":[\"v\"]}},\"$ref\":\"#/$defs/node\"}");
  valid(s, "{\"v\":1,\"kids\":[{\"v\":2},{\"v\":3,\"kids\":[{\"v\":4}]}]}");
  fails_at(s, "{\"v\":1,\"kids\":[{\"v\":2},{\"v\":3,\"kids\":[{\"v\":\"4\"}]}]}", "/kids/1/kids/0/v",
           "/$ref/properties/kids/items/$ref/properties/kids/items/$ref/properties/v/type", "type");
  sg_schema_free(s);

  /* Escaped pointer tokens in the reference. */
  s = compile("{\"$defs\":{\"a/b\":{\"type\":\"null\"},\"c%d\":{\"type\":\"string\"}},"
              "\"properties\":{\"x\":{\"$ref\":\"#/$defs/a~1b\"},\"y\":{\"$ref\":\"#/$defs/c%25d\"}}}");
  valid(s, "{\"x\":null,\"y\":\"s\"}");
  invalid(s, "{\"x\":1}");
  invalid(s, "{\"y\":1}");
  sg_schema_free(s);

  compile_fails_at("{\"properties\":{\"a\":{\"$ref\":\"#/$defs/missing\"}}}", "/properties/a/$ref");
}

static void test_ref_cycle(void) {
  /* A cycle that never moves into the instance must end with an error, not a hang or a
     crash, and must stay an error under "not". */
  sg_schema_t *s = compile("{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":{\"$ref\":\"#/$defs/a\"}},"
                           "\"$ref\":\"#/$defs/a\"}");
  sg_schema_error_t err;
  CHECK_INT_EQ(check(s, "1", &err), SG_EINVALID_ARGS);
  CHECK(strstr(err.message, "too deeply") != NULL);
  sg_schema_free(s);
  s = compile("{\"not\":{\"$ref\":\"#\"}}");
  CHECK_INT_EQ(check(s, "1", &err), SG_EINVALID_ARGS);
  sg_schema_free(s);
}

static void test_unknown_keywords(void) {
  sg_schema_t *s = compile("{\"frobnicate\":{\"type\":\"string\"},\"x-note\":1,\"type\":\"integer\"}");
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

static void test_shared_and_reused(void) {
  /* The compiled schema outlives its document and is reused across many instances. */
  json_t *doc = parse("{\"type\":\"object\",\"properties\":{\"q\":{\"type\":\"string\",\"pattern\":\"^q\"}}}");
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

const sg_test_t sg_suite_schema[] = {
    {"type", test_type},
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
    {"shared_and_reused", test_shared_and_reused},
    SG_SUITE_END};
