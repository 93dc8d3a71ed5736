/*
 * Helpers on instance values: equality (the JSON layer's, where 1 equals 1.0) and string
 * length in code points.
 */
#include "json/equal.h"
#include "schema/internal.h"

int sg__json_equal(json_t *a, json_t *b) {
  return sg_json_equal(a, b);
}

size_t sg__utf8_length(const char *s, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    if (((unsigned char)s[i] & 0xc0) != 0x80) n++;
  return n;
}
