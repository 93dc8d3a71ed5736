/*
 * Strict JSON parsing. The depth pre-scan runs before jansson because jansson's own
 * limit is a compile-time 2048 levels, far deeper than any MCP message needs, and a
 * deep document costs recursion before it is refused.
 */
#include "json/parse.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"

/* Returns the maximum nesting depth of the bracket structure, ignoring brackets inside
 * strings; stops early once max is exceeded. */
static int scan_depth(const char *p, size_t len, int max) {
  int depth = 0, deepest = 0, in_string = 0;
  for (size_t i = 0; i < len; i++) {
    char c = p[i];
    if (in_string) {
      if (c == '\\') i++;
      else if (c == '"') in_string = 0;
      continue;
    }
    if (c == '"') {
      in_string = 1;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) {
        deepest = depth;
        if (max && deepest > max) return deepest;
      }
    } else if (c == ']' || c == '}') {
      depth--;
    }
  }
  return deepest;
}

int sg_json_parse(const char *data, size_t len, const sg_json_limits_t *lim, json_t **out,
                  char *errbuf, size_t errlen) {
  *out = NULL;
  if (lim && lim->max_bytes && len > lim->max_bytes) {
    snprintf(errbuf, errlen, "message of %zu bytes exceeds the limit of %zu bytes", len,
             lim->max_bytes);
    return SG_ETOOBIG;
  }
  if (lim && lim->max_depth && scan_depth(data, len, lim->max_depth) > lim->max_depth) {
    snprintf(errbuf, errlen, "nesting deeper than %d levels", lim->max_depth);
    return SG_ETOODEEP;
  }
  json_error_t jerr;
  json_t *v = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
  if (v == NULL) {
    snprintf(errbuf, errlen, "%s at byte %d", jerr.text, jerr.position);
    return SG_EPARSE;
  }
  *out = v;
  return 0;
}

int sg_json_load_file(const char *path, json_t **out, char *errbuf, size_t errlen) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    snprintf(errbuf, errlen, "%s: cannot open", path);
    return SG_EIO;
  }
  json_error_t jerr;
  json_t *v = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
  fclose(f);
  if (v == NULL) {
    snprintf(errbuf, errlen, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
    return SG_EPARSE;
  }
  *out = v;
  return 0;
}
