/*
 * Downstream credentials per (server, tenant, environment), from a file the operator
 * owns. A server that declares credentials in servers.json gets exactly those variables
 * for the instance's tenant and environment, and nothing for any other; an instance
 * whose credentials are missing is not started (calls to it are refused).
 *
 * The file:
 *   { "servers": { SERVER: { TENANT: { ENV: { "env": { NAME: VALUE, ... } } } } } }
 * It must belong to the user running scopegate and be unreadable by group and others.
 */
#ifndef SG_DOWNSTREAM_SECRETS_H
#define SG_DOWNSTREAM_SECRETS_H

#include <stddef.h>

#include "catalog/catalog.h"

typedef struct sg_secrets sg_secrets_t;

/* Returns 0, SG_EIO (cannot read, or unsafe permissions) or SG_EPARSE, with why. */
int sg_secrets_load(const char *path, sg_secrets_t **out, char *errbuf, size_t errlen);
void sg_secrets_free(sg_secrets_t *s);

/* For an instance of conf serving (tenant, env): a NULL-terminated list of "NAME=value"
 * (caller frees; NULL when conf declares no credentials). Returns SG_EDOWNSTREAM with why
 * when a declared credential is missing (s may be NULL: then every declared credential
 * is missing). */
int sg_secrets_env(const sg_secrets_t *s, const sg_server_conf_t *conf, const char *tenant,
                   const char *env, char ***out, char *why, size_t whylen);

#endif
