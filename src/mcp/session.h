/*
 * One client's MCP session over a connection: the handshake, method routing, and the
 * calls in flight. The principal is fixed when the session is created, from the
 * authenticated context, and nothing the client sends can change it.
 *
 * States (performed by the named functions):
 *
 *   NEW ── initialize (handle_initialize) ──▶ OPEN ── conn closed (on_closed) ──▶ CLOSED
 *
 *   NEW      only initialize and ping are answered; other requests get not_initialized
 *   OPEN     every method is routed; notifications/initialized is accepted and noted
 *   CLOSED   calls in flight are cancelled downstream and audited as cancelled
 */
#ifndef SG_MCP_SESSION_H
#define SG_MCP_SESSION_H

#include "mcp/gateway.h"
#include "policy/principal.h"
#include "transport/conn.h"

typedef struct sg_session sg_session_t;
typedef struct sg_call sg_call_t;

/* Creates a session serving conn for principal (strings copied). on_end(arg) runs once
 * the client has gone and the session is freed. */
sg_session_t *sg_session_new(sg_gateway_t *gw, sg_conn_t *conn, const sg_principal_t *who,
                             void (*on_end)(void *arg), void *arg);
/* The handler to give the transport; its data must be the session. */
extern const sg_conn_handler_t sg_session_handler;

#endif
