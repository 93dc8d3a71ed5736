/*
 * libFuzzer target for the schema compiler and validator. The input is a schema, then a
 * NUL byte, then an instance; without a NUL the schema is validated against itself and
 * against a few fixed instances. Schemas come from the checked-in catalog, instances from
 * clients: either may be hostile, and compiling or validating must end with a result or
 * a clean error, never a crash, a hang, a leak or a sanitizer report. Asking for every
 * error must give the same verdict as asking for the first, with errors exactly when the
 * instance is invalid.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schema/schema.h"

static json_t *load(const uint8_t *data, size_t len) {
  return json_loadb((const char *)data, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
}

static void check_error(void *data, const sg_schema_error_t *e) {
  if (memchr(e->message, '\0', sizeof e->message) == NULL ||
      memchr(e->keyword_location, '\0', sizeof e->keyword_location) == NULL)
    abort();
  (*(size_t *)data)++;
}

static void run(const sg_schema_t *s, json_t *instance) {
  sg_schema_error_t err;
  int rc = sg_schema_validate(s, instance, &err);
  if (rc != 0 && (memchr(err.message, '\0', sizeof err.message) == NULL ||
                  memchr(err.keyword_location, '\0', sizeof err.keyword_location) == NULL))
    abort();
  size_t n = 0;
  int all = sg_schema_validate_all(s, instance, check_error, &n);
  if (all != rc || (rc == 0) != (n == 0)) abort();
}

static void ignore_unknown(void *data, const char *where, const char *keyword) {
  (void)data;
  if (strlen(where) >= 512 || keyword == NULL) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nul = memchr(data, 0, size);
  size_t slen = nul ? (size_t)(nul - data) : size;
  json_t *schema = load(data, slen);
  if (schema == NULL) return 0;
  sg_schema_unknown_keywords(schema, ignore_unknown, NULL);
  for (int draft = 0; draft < 2; draft++) {
    sg_schema_opts_t opts = {.default_draft = (sg_schema_draft_t)draft, .format_assert = 1};
    sg_schema_t *s = NULL;
    sg_schema_error_t err;
    if (sg_schema_compile(schema, &opts, &s, &err) != 0) continue;
    if (nul) {
      json_t *instance = load(nul + 1, size - slen - 1);
      if (instance) run(s, instance);
      json_decref(instance);
    } else {
      static const char *const fixed[] = {"null",
                                          "0",
                                          "1.5",
                                          "\"\"",
                                          "\"abc\"",
                                          "[]",
                                          "[1,[2],{\"a\":3}]",
                                          "{}",
                                          "{\"a\":{\"b\":[null]}}"};
      run(s, schema);
      for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        json_t *instance = json_loads(fixed[i], JSON_DECODE_ANY, NULL);
        run(s, instance);
        json_decref(instance);
      }
    }
    sg_schema_free(s);
  }
  json_decref(schema);
  return 0;
}
