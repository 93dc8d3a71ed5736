/*
 * JSON Pointer building.
 */
#include "json/pointer.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"

int sg_json_pointer_append(char *out, size_t outlen, const char *token) {
  size_t n = strlen(out);
  if (n + 1 >= outlen) return SG_ETOOBIG;
  out[n++] = '/';
  for (const char *p = token; *p; p++) {
    const char *esc = *p == '~' ? "~0" : *p == '/' ? "~1" : NULL;
    size_t need = esc ? 2 : 1;
    if (n + need >= outlen) {
      out[n] = '\0';
      return SG_ETOOBIG;
    }
    if (esc) {
      out[n++] = esc[0];
      out[n++] = esc[1];
    } else {
      out[n++] = *p;
    }
  }
  out[n] = '\0';
  return 0;
}

int sg_json_pointer_append_index(char *out, size_t outlen, size_t index) {
  char tok[32];
  snprintf(tok, sizeof tok, "%zu", index);
  return sg_json_pointer_append(out, outlen, tok);
}
