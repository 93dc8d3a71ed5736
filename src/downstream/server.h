/*
 * One downstream MCP server reached over stdio or Streamable HTTP: scopegate spawns it
 * with uv_spawn (or opens an MCP session with its endpoint, see http.h), initializes it
 * as an MCP client would, forwards requests with gateway-owned ids, and restarts it (or
 * opens a new session) with backoff when it exits or fails. A downstream instance serves
 * exactly one (server, tenant, environment); the pool (pool.h) keeps them apart. Both
 * transports share the state machine below; "spawn" and "exits" stand for opening and
 * losing the session of an http server.
 *
 * State machine (performed by the named functions):
 *
 *        spawn_child()          initialized()          finish_listing()      child exits
 *   IDLE ────────────▶ STARTING ─────────────▶ LISTING ──────────────▶ READY ──────────▶ BACKOFF
 *                        ▲  │ exits / bad answer   ▲                      │                │
 *                        │  └──────────────────────┼──────▶ BACKOFF       │ tools/         │
 *                        │                         └──────────────────────┘ list_changed   │
 *                        └──────────────── restart_timer_cb() ◀────────────────────────────┘
 *   any state ── sg_downstream_close() ──▶ CLOSING ── last handle closed ──▶ freed
 *
 * STARTING is initialize (then notifications/initialized) in the session era; for an
 * http server of the stateless era ("protocol" "2026-07-28" or "auto", see era.h) it is
 * server/discover, and a server that does not offer the era is initialized instead
 * ("auto") or given up like one that refused to initialize.
 *
 * LISTING: scopegate asks the server for its tools (all pages) and hands them to the
 * on_tools callback, which compares them with the catalog's pins and sets the
 * quarantine; only then are queued calls sent. A server that announces
 * notifications/tools/list_changed is listed again, with new calls held meanwhile.
 *
 * Requests submitted before READY wait in a queue (bounded in length and by the
 * server's startup timeout). Every request's callback runs exactly once: with the
 * response, or with an error when the server exits, times out, or the gateway closes.
 */
#ifndef SG_DOWNSTREAM_SERVER_H
#define SG_DOWNSTREAM_SERVER_H

#include <jansson.h>
#include <uv.h>

#include "catalog/catalog.h"

typedef struct sg_downstream sg_downstream_t;
typedef struct sg_ds_request sg_ds_request_t;

/* The response is borrowed: a whole JSON-RPC response object (result or error), or NULL
 * when err < 0, in which case why says what happened in words. */
typedef void (*sg_ds_response_cb)(void *ctx, int err, json_t *response, const char *why);
/* params of a notifications/progress for this request (borrowed). */
typedef void (*sg_ds_progress_cb)(void *ctx, json_t *params);

/* What an instance tells its owner besides responses (arg is the owner's):
 *   on_tools            what the server advertises after each (re)initialization or
 *                       list_changed: the tools array (borrowed), or NULL when the server
 *                       would not list them; calls wait until it returns
 *   on_resource_updated notifications/resources/updated for uri (borrowed) */
typedef struct {
  void (*on_tools)(sg_downstream_t *ds, json_t *tools, void *arg);
  void (*on_resource_updated)(sg_downstream_t *ds, const char *uri, void *arg);
  void *arg;
} sg_ds_events_t;

/* Creates and starts a downstream for conf (borrowed from a catalog the caller keeps
 * alive until sg_downstream_close completes). extra_env (stolen, may be NULL) holds the
 * credentials for this (tenant, env) as "NAME=value" entries: environment variables of
 * a stdio server's process, headers ("NAME: value") of an http server's requests. events
 * is copied; its callbacks may be NULL. */
int sg_downstream_start(uv_loop_t *loop, const sg_server_conf_t *conf, const char *tenant,
                        const char *env, char **extra_env, const sg_ds_events_t *events,
                        sg_downstream_t **out);

/* Sends method with params (stolen) under a new gateway id. When pcb is given, a progress
 * token is attached and progress notifications are passed to pcb. On success *handle
 * identifies the request until its callback runs. */
int sg_downstream_request(sg_downstream_t *ds, const char *method, json_t *params,
                          sg_ds_response_cb cb, sg_ds_progress_cb pcb, void *ctx,
                          sg_ds_request_t **handle);

/* Tells the server the request is cancelled and runs its callback with SG_ECANCELLED. */
void sg_downstream_cancel(sg_ds_request_t *req, const char *reason);

/* Fails what is pending with SG_ESHUTDOWN, stops the server (stdin closed, then SIGTERM,
 * then SIGKILL; an http server's session is DELETEd) and frees ds once every handle is closed; then calls done(arg). done may
 * be NULL to keep the callback given to sg_downstream_retire. Closing twice is harmless. */
void sg_downstream_close(sg_downstream_t *ds, void (*done)(void *arg), void *arg);

/* Takes no new requests (sg_downstream_request refuses them) and closes once what it has
 * is answered; then calls done(arg). */
void sg_downstream_retire(sg_downstream_t *ds, void (*done)(void *arg), void *arg);
/* Asks a ready server for its tools again (the catalog's pins may have changed). */
void sg_downstream_relist(sg_downstream_t *ds);

const char *sg_downstream_name(const sg_downstream_t *ds);
const char *sg_downstream_tenant(const sg_downstream_t *ds);
const char *sg_downstream_env(const sg_downstream_t *ds);
const sg_server_conf_t *sg_downstream_conf(const sg_downstream_t *ds);
/* Replaces the quarantine: an object mapping downstream tool names to the reason they may
 * not be called (stolen; NULL clears it). */
void sg_downstream_set_quarantine(sg_downstream_t *ds, json_t *quarantine);
/* Why tool (the downstream's name) may not be called, or NULL when it may. */
const char *sg_downstream_quarantined(const sg_downstream_t *ds, const char *tool);
/* Names the server's current initialization (0 before the first), uniquely among all
 * instances: a new process or session starts with none of the state (such as resource
 * subscriptions) that an earlier one was given. */
unsigned sg_downstream_generation(const sg_downstream_t *ds);
/* The current process's pid; 0 between processes and for an http server. */
int sg_downstream_pid(const sg_downstream_t *ds);
int sg_downstream_matches(const sg_downstream_t *ds, const sg_server_conf_t *conf,
                          const char *tenant, const char *env);

#endif
