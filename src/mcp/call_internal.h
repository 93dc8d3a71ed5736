/*
 * A call in progress, shared by call.c (forwarding, responses, outcomes) and approval.c
 * (holding a call until a person decides). A call is in its session's list from the
 * moment it is allowed until it ends; while it waits for an approval it is also in the
 * gateway's waiting list and has no downstream request yet.
 */
#ifndef SG_MCP_CALL_INTERNAL_H
#define SG_MCP_CALL_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "catalog/catalog.h"
#include "core/hash.h"
#include "downstream/server.h"
#include "mcp/session_internal.h"
#include "store/store.h"

struct sg_call {
  sg_call_t *prev, *next; /* the session's calls */
  sg_session_t *session;
  sg_catalog_t *catalog;  /* the catalog the call was decided under (a reference) */
  char label[160];        /* what the audit calls it: the tool, "resource:URI", "prompt:NAME" */
  json_t *client_id;
  json_t *progress_token; /* the client's, or NULL */
  char call_id[48];
  uint64_t start_us;
  sg_ds_request_t *req;   /* once forwarded */

  /* Held for an approval (req == NULL meanwhile). */
  char approval_id[SG_APPROVAL_ID_LEN + 1];
  char args_hash[SG_SHA256_HEX_LEN + 1];
  const sg_server_conf_t *server; /* where to forward once approved (from catalog) */
  const char *method;
  json_t *params;                 /* what to forward once approved */
  uint64_t deadline_us, next_progress_us;
  sg_call_t *wait_next;           /* the gateway's waiting calls */
};

/* Sends c->params (stolen) to ds as c->method and links c to its session. On failure
 * the call ends with downstream_unavailable. */
void sg__call_forward(sg_call_t *c, sg_downstream_t *ds);
/* Ends a call that was not forwarded or whose forwarding failed: audits the outcome,
 * answers the client with err unless err is SG_ECANCELLED, unlinks and frees it. */
void sg__call_end(sg_call_t *c, int err, const char *outcome, const char *why);

/* Holds c until a person approves it (then forwards it), denies it, or the grant's
 * timeout passes. The approval is created in the store, bound to the call. */
void sg__approval_hold(sg_call_t *c, const sg_grant_t *g, const char *args_json);
/* The call's client withdrew it, or went away: the approval is cancelled. */
void sg__approval_withdraw(sg_call_t *c, const char *why);

#endif
