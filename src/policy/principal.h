/*
 * The principal a call is made for: who (subject), in which role, for which tenant and
 * environment. It always comes from the authenticated context (the operator's flags for
 * a stdio instance), never from anything a client or a model sends.
 */
#ifndef SG_POLICY_PRINCIPAL_H
#define SG_POLICY_PRINCIPAL_H

#include <jansson.h>

/* Every member is borrowed from whoever established the identity. */
typedef struct {
  const char *subject;
  const char *role;
  const char *tenant;
  const char *env;
  json_t *claims; /* the verified token's claims, or NULL when there is no token */
} sg_principal_t;

#endif
