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

typedef struct sg_subscription sg_subscription_t;

typedef struct sg_gateway {
  uv_loop_t *loop;
  sg_catalog_t *catalog;
  sg_store_t *store;            /* the loop's handle; never checkpoints on its own */
  sg_store_t *checkpoint_store; /* a second handle, used only by the checkpoint worker */
  sg_pool_t *pool;
  sg_json_limits_t limits;
  char instance[17]; /* random hex, prefixes call ids so they are unique across restarts */
  uint64_t next_call;
  uv_timer_t flush_timer;      /* writes queued audit outcomes */
  uv_timer_t approval_timer;   /* watches the approvals of waiting calls */
  struct sg_call *waiting;     /* calls held for an approval */
  struct sg_subscription *subscriptions; /* resource subscriptions (subscriptions.c) */
  int tool_refusals_as_results; /* refused tools/call answered as isError tool results */
  uint64_t data_version;       /* the store's, when last looked at */
  uv_timer_t checkpoint_timer; /* starts a WAL checkpoint on a worker thread */
  uv_work_t checkpoint_work;
  int checkpoint_running;
  int closing;
  void (*closed_cb)(void *arg);
  void *closed_arg;
  int open_handles;
} sg_gateway_t;

/* How long an outcome may wait in memory for a transaction to share. */
#define SG_OUTCOME_FLUSH_MS 10
#define SG_CHECKPOINT_INTERVAL_MS 1000

/* Starts the gateway's timers; store and checkpoint_store must be open. */
void sg_gateway_start(sg_gateway_t *gw);
/* Records a call's outcome: queued, and written with the next decision or within
 * SG_OUTCOME_FLUSH_MS. Failures are logged: the call has already been answered. */
void sg_gateway_audit_outcome(sg_gateway_t *gw, const char *call_id, const char *tool,
                              const char *outcome, const char *reason, int64_t latency_us,
                              const char *detail);
/* The pool's on_tools callback (arg is the gateway): compares what a downstream instance
 * advertises with the current catalog's pins, quarantines the tools that drifted, and
 * audits each drift. */
void sg_gateway_on_tools(sg_downstream_t *ds, json_t *tools, void *arg);
/* The pool's on_resource_updated callback (arg is the gateway): passes the notification to
 * the sessions subscribed to uri on ds that are still granted it. */
void sg_gateway_on_resource_updated(sg_downstream_t *ds, const char *uri, void *arg);
/* Subscribes an instance that started afresh to what its clients are subscribed to (called
 * from sg_gateway_on_tools, which every initialization reaches before calls are sent). */
void sg__subs_instance_ready(sg_gateway_t *gw, sg_downstream_t *ds);

/* Loads the catalog in dir and, only if it is valid, makes it current: calls in flight
 * keep the catalog they started with; downstream instances whose definition changed are
 * retired, the others re-checked for drift. A catalog with problems is refused (they are
 * logged) and the current one stays. Returns 0 or SG_ECATALOG. */
int sg_gateway_reload(sg_gateway_t *gw, const char *dir);

/* Flushes the audit, stops the timers and waits for a running checkpoint; then done(arg). */
void sg_gateway_stop(sg_gateway_t *gw, void (*done)(void *arg), void *arg);

/* Protocol revisions of the session era that clients may negotiate, newest first. */
extern const char *const sg_mcp_session_versions[];

#endif
