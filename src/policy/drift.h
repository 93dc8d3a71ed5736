/*
 * Drift: what a downstream server advertises, compared with what the catalog pinned.
 * The catalog's descriptions and schemas are what clients see and what calls are checked
 * against; a pin records what the downstream said when the tool was reviewed, so a
 * downstream that starts describing or shaping a tool differently (a changed description
 * can carry instructions to the model; a changed schema, new behaviour) is noticed and
 * the tool quarantined until someone reviews the change and updates the pin. Pure.
 */
#ifndef SG_POLICY_DRIFT_H
#define SG_POLICY_DRIFT_H

#include <jansson.h>

#include "catalog/catalog.h"

/* Returns a new object mapping the downstream names of the catalog's tools on server that
 * drifted to the reason, e.g. {"echo": "description differs from the pin"}. advertised is
 * the server's tools array, or NULL when it would not list its tools (then every tool of
 * the server is quarantined). A catalog tool the server does not advertise is drift too. */
json_t *sg_drift_check(const sg_catalog_t *cat, const sg_server_conf_t *server, json_t *advertised);

#endif
