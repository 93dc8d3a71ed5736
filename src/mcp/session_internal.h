/*
 * Session internals shared by session.c (handshake and routing) and call.c (tools/call).
 */
#ifndef SG_MCP_SESSION_INTERNAL_H
#define SG_MCP_SESSION_INTERNAL_H

#include <jansson.h>

#include "downstream/server.h"
#include "mcp/session.h"

typedef enum { SESSION_NEW, SESSION_OPEN, SESSION_CLOSED } session_state_t;

struct sg_call; /* call.c */
typedef struct sg_listing sg_listing_t; /* access.c */

struct sg_session {
  sg_gateway_t *gw;
  sg_conn_t *conn;
  session_state_t state;
  int client_initialized; /* notifications/initialized seen */
  int stateless;          /* serves one request of the stateless era, then ends */
  char version[16];
  char *subject, *role, *tenant, *env;
  sg_principal_t principal; /* points at the strings above */
  sg_call_t *calls;         /* calls in flight, a doubly linked list */
  sg_listing_t *listings;   /* resources/list requests in flight */
  void (*on_end)(void *arg);
  void *end_arg;
};

/* Sends msg (stolen) to the client unless the session is closed. */
void sg__session_send(sg_session_t *s, json_t *msg);
/* Sends a JSON-RPC error for err with message (or err's default) and data (stolen). */
void sg__session_send_error(sg_session_t *s, json_t *id, int err, const char *message,
                            json_t *data);

/* What the gateway tells every client about itself, in either era: the instructions, and
 * the capabilities it offers role_name under catalog (a new reference); resource
 * subscriptions only where a session outlives its requests (subscribe). */
extern const char sg__mcp_instructions[];
json_t *sg__mcp_capabilities(const sg_catalog_t *catalog, const char *role_name, int subscribe);

/* tools/call: decide, audit, forward, answer. */
void sg__call_start(sg_session_t *s, json_t *id, json_t *params);

/* A request that has been decided: what the audit records and, when allowed, what goes
 * downstream. */
typedef struct {
  const char *call_id;
  const char *label;     /* the tool, "resource:URI" or "prompt:NAME" */
  const char *args_hash; /* of what would be forwarded */
  int allow;
  int err;               /* SG_E* when refused */
  const char *message;   /* why, when refused */
  const char *pointer;   /* may be NULL */
  const char *keyword;   /* may be NULL */
  sg_downstream_t *ds;
  const char *method;    /* downstream method */
  json_t *params;        /* stolen: downstream params (NULL when refused) */
  json_t *progress_token; /* borrowed: the client's, or NULL */
  const sg_grant_t *grant; /* tools: for approval and budget; NULL otherwise */
  const char *args_json;   /* redacted arguments for the audit, or NULL */
  const sg_server_conf_t *server; /* where the call goes */
} sg_call_decision_t;

/* Records the decision (refusing if it cannot be recorded), then answers a refusal or
 * forwards the request and, later, its response. Returns 1 when the request went (or is
 * held for an approval) on its way, 0 when it was refused. */
int sg__call_decided(sg_session_t *s, json_t *id, const sg_call_decision_t *cd);

/* prompts/list, prompts/get, resources/list, resources/templates/list, resources/read:
 * returns 1 when method is one of them (and has been answered or forwarded). */
int sg__access_request(sg_session_t *s, const char *method, json_t *id, json_t *params);
/* Ends the resources/list requests in flight (the client has gone). */
void sg__access_cancel_all(sg_session_t *s);
/* The server whose grant gives who (of role, which may be NULL) the resource uri, or NULL
 * when none does. */
const sg_server_conf_t *sg__access_resource_server(const sg_role_t *role,
                                                   const sg_principal_t *who, const char *uri);

/* Resource subscriptions (subscriptions.c). sg__subs_add records that s, whose subscribe
 * to uri on server has been decided and sent to ds, is subscribed. */
int sg__subs_add(sg_session_t *s, const sg_server_conf_t *server, sg_downstream_t *ds,
                 const char *uri);
/* resources/unsubscribe: answered by the gateway; the downstream hears it from the last
 * subscriber. */
void sg__subs_unsubscribe(sg_session_t *s, json_t *id, json_t *params);
/* Ends every subscription of s (the client has gone). */
void sg__subs_drop_session(sg_session_t *s);

/* A new call id: the gateway instance and a counter. */
void sg__call_id(sg_session_t *s, char out[48]);
/* notifications/cancelled for one of the client's requests. */
void sg__call_cancel(sg_session_t *s, json_t *request_id, const char *reason);
/* Cancels every call in flight (the client has gone). */
void sg__call_cancel_all(sg_session_t *s);

#endif
