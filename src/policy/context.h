/*
 * Resolving context references ($tenant, $claims.daily_limit, "$tenant/" ...) against
 * the principal. Context values come from the authenticated identity only.
 */
#ifndef SG_POLICY_CONTEXT_H
#define SG_POLICY_CONTEXT_H

#include <jansson.h>

#include "catalog/catalog.h"
#include "policy/principal.h"

/* Returns a new reference to the value ref names for who, or NULL when the context has
 * no such value (or has a non-string where literal text must follow it). */
json_t *sg_ctx_resolve(const sg_ctxref_t *ref, const sg_principal_t *who);

/* "$tenant/", "$claims.daily_limit": how a reference reads in messages. Writes into out. */
void sg_ctx_describe(const sg_ctxref_t *ref, char *out, size_t outlen);

#endif
