/*
 * Canonical JSON for hashing: object keys sorted, no insignificant whitespace, strings
 * in UTF-8 with jansson's minimal escaping, numbers as jansson prints them. Two
 * argument objects that differ only in key order or whitespace hash the same.
 */
#ifndef SG_JSON_CANONICAL_H
#define SG_JSON_CANONICAL_H

#include <jansson.h>

#include "core/hash.h"

/* Returns the canonical text (caller frees with free()) or NULL when out of memory. */
char *sg_json_canonical(const json_t *v);
/* Hex SHA-256 of the canonical text of v. Returns 0 or SG_ENOMEM. */
int sg_json_canonical_hash(const json_t *v, char out[SG_SHA256_HEX_LEN + 1]);

#endif
