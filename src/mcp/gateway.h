/*
 * The gateway: what every client session shares — the loop, the current catalog, the
 * audit store, the downstream pool and the message limits. Sessions (session.h) are
 * the per-client half.
 *
 * Ownership: the gateway holds one reference to the current catalog; each call takes
 * its own reference, so a call finishes under the catalog it started with.
 */
#ifndef SG_MCP_GATEWAY_H
#define SG_MCP_GATEWAY_H

#include <stdint.h>
#include <uv.h>

#include "catalog/catalog.h"
#include "downstream/pool.h"
#include "json/parse.h"
#include "store/store.h"

#define SG_VERSION "0.1.0"

typedef struct sg_gateway {
  uv_loop_t *loop;
  sg_catalog_t *catalog;
  sg_store_t *store;
  sg_pool_t *pool;
  sg_json_limits_t limits;
  char instance[17]; /* random hex, prefixes call ids so they are unique across restarts */
  uint64_t next_call;
} sg_gateway_t;

/* Protocol revisions of the session era that clients may negotiate, newest first. */
extern const char *const sg_mcp_session_versions[];

#endif
