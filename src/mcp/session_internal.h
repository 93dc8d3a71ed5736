/*
 * Session internals shared by session.c (handshake and routing) and call.c (tools/call).
 */
#ifndef SG_MCP_SESSION_INTERNAL_H
#define SG_MCP_SESSION_INTERNAL_H

#include <jansson.h>

#include "mcp/session.h"

typedef enum { SESSION_NEW, SESSION_OPEN, SESSION_CLOSED } session_state_t;

struct sg_call; /* call.c */

struct sg_session {
  sg_gateway_t *gw;
  sg_conn_t *conn;
  session_state_t state;
  int client_initialized; /* notifications/initialized seen */
  char version[16];
  char *subject, *role, *tenant, *env;
  sg_principal_t principal; /* points at the strings above */
  sg_call_t *calls;         /* calls in flight, a doubly linked list */
  void (*on_end)(void *arg);
  void *end_arg;
};

/* Sends msg (stolen) to the client unless the session is closed. */
void sg__session_send(sg_session_t *s, json_t *msg);
/* Sends a JSON-RPC error for err with message (or err's default) and data (stolen). */
void sg__session_send_error(sg_session_t *s, json_t *id, int err, const char *message,
                            json_t *data);

/* tools/call: decide, audit, forward, answer. */
void sg__call_start(sg_session_t *s, json_t *id, json_t *params);
/* notifications/cancelled for one of the client's requests. */
void sg__call_cancel(sg_session_t *s, json_t *request_id, const char *reason);
/* Cancels every call in flight (the client has gone). */
void sg__call_cancel_all(sg_session_t *s);

#endif
