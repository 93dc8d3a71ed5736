/*
 * The decision function: given a principal, the catalog, a tool name and arguments,
 * decide whether the call may be forwarded, and if not, why. It is pure — no I/O, no
 * clock, no allocation that outlives the call — so the same inputs always give the same
 * decision and it can be tested without a loop, a socket or a database.
 *
 * Checks, in order (the first that fails decides):
 *   unknown_tool       the tool is not in the catalog (whatever a downstream advertises)
 *   not_granted        the principal's role has no grant for the tool
 *   writes_disabled    the tool writes and the catalog does not enable write tools
 *   context_mismatch   a parameter bound to the caller's context was given another value
 *   invalid_arguments  the arguments (with bound values filled in) do not match the
 *                      catalog's inputSchema
 *   outside_envelope   an argument breaks a rule of the grant's envelope
 *
 * An allowed call may still need a person's approval or fit a budget (d->grant says);
 * those, the kill switch and drift depend on state outside the catalog and are applied
 * by the caller.
 * The arguments to forward are the client's with bound parameters filled in and values
 * under prefix rules normalised; they are validated in that final form.
 */
#ifndef SG_POLICY_DECIDE_H
#define SG_POLICY_DECIDE_H

#include <jansson.h>

#include "catalog/catalog.h"
#include "policy/principal.h"

typedef struct {
  int allow;               /* 1: forward; 0: deny */
  int err;                 /* SG_E* reason when denied, 0 when allowed */
  const sg_tool_t *tool;   /* NULL when the tool is unknown */
  const sg_grant_t *grant; /* NULL unless granted */
  char message[768];       /* for the client and the audit; names the parameter and rule */
  char pointer[512];       /* the failing parameter (JSON Pointer into the arguments) */
  char keyword[64];        /* the failing schema keyword or envelope rule */
  json_t *args;            /* owned: the arguments to forward (NULL unless bindings ran) */
} sg_decision_t;

/* Releases what a decision owns. */
void sg_decision_release(sg_decision_t *d);

/* args is the call's "arguments" object (borrowed). */
void sg_policy_decide(const sg_catalog_t *cat, const sg_principal_t *who, const char *tool_name,
                      json_t *args, sg_decision_t *out);

#endif
