/*
 * The draft 2020-12 and draft-07 meta-schemas, built in so that a schema may $ref them
 * without a resolver.
 */
#ifndef SG_SCHEMA_METASCHEMA_H
#define SG_SCHEMA_METASCHEMA_H

#include <jansson.h>

/* A new reference to the built-in document at uri (no fragment), or NULL. */
json_t *sg__metaschema(const char *uri);

#endif
