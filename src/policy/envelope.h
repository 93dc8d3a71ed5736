/*
 * Parameter scope: context bindings and envelope rules of a grant, applied to a call's
 * arguments. Pure: no I/O; the only allocation is the effective argument object.
 */
#ifndef SG_POLICY_ENVELOPE_H
#define SG_POLICY_ENVELOPE_H

#include <jansson.h>

#include "catalog/catalog.h"
#include "policy/principal.h"

typedef struct {
  char param[128];   /* the parameter that failed */
  char rule[32];     /* the rule ("max", "in", "bind", ...) */
  char message[512]; /* for people; never shows context values */
} sg_envelope_failure_t;

/* Applies the grant's bindings to args (borrowed): *effective becomes a new object with
 * every bound parameter set to its context value. A parameter the client gave with a
 * different value is SG_ECONTEXT_MISMATCH; a context value that is missing is also
 * refused (SG_ECONTEXT_MISMATCH), never skipped. */
int sg_bindings_apply(const sg_grant_t *g, const sg_principal_t *who, json_t *args,
                      json_t **effective, sg_envelope_failure_t *f);

/* Checks the envelope rules against args, which it may change: a value under a prefix
 * rule is replaced by its normalised form (what was checked is what is forwarded).
 * Returns 0, or SG_EOUTSIDE_ENVELOPE with f filled in. Sets *changed when a value was
 * rewritten. */
int sg_envelope_check(const sg_grant_t *g, const sg_principal_t *who, json_t *args, int *changed,
                      sg_envelope_failure_t *f);

#endif
