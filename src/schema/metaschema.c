/*
 * Built-in meta-schemas.
 */
#include "schema/metaschema.h"

json_t *sg__metaschema(const char *uri) {
  (void)uri;
  return NULL;
}
