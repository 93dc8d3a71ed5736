/*
 * The downstream pool: one downstream instance per (server, tenant, environment), so a
 * process is never shared between tenants or environments. Instances are created on
 * first use (or ahead of time with sg_pool_get) and live until the pool closes.
 */
#ifndef SG_DOWNSTREAM_POOL_H
#define SG_DOWNSTREAM_POOL_H

#include <uv.h>

#include "catalog/catalog.h"
#include "downstream/secrets.h"
#include "downstream/server.h"

typedef struct sg_pool sg_pool_t;

/* secrets may be NULL (no server then may declare credentials). Every instance reports
 * to events (copied). */
sg_pool_t *sg_pool_new(uv_loop_t *loop, const sg_secrets_t *secrets, const sg_ds_events_t *events);
/* The running instance for (conf, tenant, env), or NULL: none is started. */
sg_downstream_t *sg_pool_find(const sg_pool_t *p, const sg_server_conf_t *conf, const char *tenant,
                              const char *env);
/* Returns the instance for (conf, tenant, env), starting one when there is none. When the
 * instance cannot be started (its credentials are missing) returns SG_EDOWNSTREAM with
 * the reason in why. */
int sg_pool_get(sg_pool_t *p, const sg_server_conf_t *conf, const char *tenant, const char *env,
                sg_downstream_t **out, char *why, size_t whylen);
/* Makes cat (a reference is taken) the catalog new instances start from. Instances whose
 * server definition changed are retired (no new calls; they stop once their calls end);
 * the others are asked for their tools again, for the drift check against cat's pins. */
void sg_pool_set_catalog(sg_pool_t *p, sg_catalog_t *cat);
/* Closes every instance; calls done(arg) once all are gone and frees the pool. */
void sg_pool_close(sg_pool_t *p, void (*done)(void *arg), void *arg);

#endif
