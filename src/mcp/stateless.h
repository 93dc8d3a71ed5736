/*
 * MCP over Streamable HTTP, stateless era (2026-07-28), on the same endpoint as the
 * session era (http_session.h). There is no initialize and no session: every POST carries
 * one request whose params._meta names its protocol version
 * (io.modelcontextprotocol/protocolVersion) and the client's capabilities
 * (io.modelcontextprotocol/clientCapabilities), and is answered on its own:
 *
 *   server/discover      the versions served (both eras), the capabilities the caller's
 *                        role is offered, the gateway's identity and instructions
 *   tools/list, tools/call, prompts/list, prompts/get, resources/list,
 *   resources/templates/list, resources/read
 *                        routed exactly as in a session (grants, decide, audit, forward)
 *                        by a session that lives for this one request
 *   anything else        404 with -32601 (initialize and ping belong to the session era)
 *
 * Results carry resultType "complete"; the cacheable ones (lists, resources/read,
 * server/discover) ttlMs 0 and cacheScope "private", since what a caller sees depends on
 * its grants and the catalog may be reloaded at any time. Every result names the gateway
 * in _meta["io.modelcontextprotocol/serverInfo"].
 *
 * A request is answered as application/json, or, once it has a progress notification to
 * send, as an SSE stream that ends with the response. The client closing the connection
 * before the response cancels the request (calls in flight are cancelled downstream and
 * audited as cancelled). Nothing is resumable.
 *
 * HTTP errors, each with a JSON-RPC error carrying the request's id when it has one:
 *   400 -32602  _meta, or its protocol version or client capabilities, missing
 *   400 -32020  MCP-Protocol-Version, Mcp-Method or Mcp-Name (where the method needs it:
 *               tools/call and prompts/get name, resources/read uri; Base64 sentinel
 *               values decoded) missing, malformed, or not what the body says
 *   400 -32022  a protocol version not served statelessly; data.supported lists every
 *               version the gateway serves, data.requested the one asked for
 *   400 -32700, -32600  a body that is not one JSON-RPC request
 *   404 -32601  a method this era does not define or the gateway does not serve
 *   405         GET and DELETE (this era has no standalone stream and no session)
 *   406, 415    Accept without both media types, a body that is not application/json
 * Policy refusals (-32003, -32602 with error.data.reason) are answered with 200, as in the
 * session era. The error code -32002, which this revision retires, becomes -32603 when
 * the gateway could not reach a downstream server and -32602 when a downstream server
 * used it (for a resource it does not have).
 *
 * Ownership: the principal given to sg_stateless_serve is borrowed for the call (the
 * request's session copies it).
 */
#ifndef SG_MCP_STATELESS_H
#define SG_MCP_STATELESS_H

#include "mcp/gateway.h"
#include "policy/principal.h"
#include "transport/http_server.h"

/* Protocol revisions served statelessly, newest first. */
extern const char *const sg_mcp_stateless_versions[];

typedef struct sg_stateless sg_stateless_t;

/* Returns 0, or SG_ENOMEM. */
int sg_stateless_new(sg_gateway_t *gw, sg_stateless_t **out);

/* Whether req (to the MCP endpoint) is a stateless-era request: a POST without
 * Mcp-Session-Id whose MCP-Protocol-Version is not a session-era version or whose body's
 * params._meta names a protocol version; or a GET or DELETE whose MCP-Protocol-Version is
 * not a session-era version. Everything else is the session era's. */
int sg_stateless_owns(const sg_stateless_t *st, const sg_http_request_t *req);

/* Answers req, which sg_stateless_owns claimed, for principal who. */
void sg_stateless_serve(sg_stateless_t *st, sg_http_request_t *req, const sg_principal_t *who);

/* Ends every request in flight (their calls are cancelled and audited, their clients get
 * a shutting_down error), frees st; then done(arg). */
void sg_stateless_stop(sg_stateless_t *st, void (*done)(void *arg), void *arg);

#endif
