/*
 * Canonical serialisation and hashing of JSON values.
 */
#include "json/canonical.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

char *sg_json_canonical(const json_t *v) {
  return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

int sg_json_canonical_hash(const json_t *v, char out[SG_SHA256_HEX_LEN + 1]) {
  /* Arguments are usually small: hash them from the stack without an allocation. */
  char local[4096];
  size_t n = json_dumpb(v, local, sizeof local, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
  if (n == 0) return SG_ENOMEM;
  if (n <= sizeof local) {
    sg_sha256_hex(local, n, out);
    return 0;
  }
  char *text = sg_json_canonical(v);
  if (text == NULL) return SG_ENOMEM;
  sg_sha256_hex(text, strlen(text), out);
  free(text);
  return 0;
}
