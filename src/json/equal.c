/*
 * JSON value equality (see equal.h).
 */
#include "json/equal.h"

#include <math.h>
#include <string.h>

static int num_equal(json_t *a, json_t *b) {
  if (json_is_integer(a) && json_is_integer(b))
    return json_integer_value(a) == json_integer_value(b);
  if (json_is_real(a) && json_is_real(b)) return json_real_value(a) == json_real_value(b);
  json_t *i = json_is_integer(a) ? a : b, *r = json_is_integer(a) ? b : a;
  double d = json_real_value(r);
  /* A real equals an integer only when it has no fraction and fits in json_int_t. */
  if (d != floor(d) || !isfinite(d)) return 0;
  if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) return 0;
  return (json_int_t)d == json_integer_value(i);
}

int sg_json_equal(json_t *a, json_t *b) {
  if (a == b) return 1;
  if (json_is_number(a) && json_is_number(b)) return num_equal(a, b);
  if (json_typeof(a) != json_typeof(b)) return 0;
  switch (json_typeof(a)) {
    case JSON_STRING:
      return json_string_length(a) == json_string_length(b) &&
             memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    case JSON_ARRAY: {
      size_t n = json_array_size(a);
      if (n != json_array_size(b)) return 0;
      for (size_t i = 0; i < n; i++)
        if (!sg_json_equal(json_array_get(a, i), json_array_get(b, i))) return 0;
      return 1;
    }
    case JSON_OBJECT: {
      if (json_object_size(a) != json_object_size(b)) return 0;
      const char *k;
      json_t *v;
      json_object_foreach(a, k, v) {
        json_t *w = json_object_get(b, k);
        if (w == NULL || !sg_json_equal(v, w)) return 0;
      }
      return 1;
    }
    default:
      return 1; /* true, false, null: the types matched */
  }
}
