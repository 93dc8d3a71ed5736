/*
 * A Streamable HTTP link to one MCP endpoint: one client session (its own
 * Mcp-Session-Id), driven by libcurl's multi interface on the libuv loop. Every message
 * scopegate sends is a POST; the server answers with one JSON body or with an SSE stream
 * whose events are handed over as they arrive, so progress notifications come before
 * the response they belong to. An answer stream cut before its response is resumed
 * with GET and Last-Event-ID when its events carried ids (2025-11-25). Closing the link
 * ends its transfers and DELETEs the session.
 *
 * The link knows nothing of MCP beyond the transport: the downstream (server.c) runs
 * the handshake and tells the link the negotiated protocol version, which every later
 * request then carries as MCP-Protocol-Version.
 *
 * Ownership: messages given to sg_http_link_post are borrowed (serialized at once);
 * messages handed to on_message are borrowed for the duration of the callback. Header
 * strings given to sg_http_link_open are copied and wiped when the link is freed.
 *
 * Callbacks never run inside sg_http_link_* calls; they run from the loop. After
 * on_failed, or once sg_http_link_close is called, none but on_closed runs again.
 */
#ifndef SG_DOWNSTREAM_HTTP_H
#define SG_DOWNSTREAM_HTTP_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

typedef struct sg_http_link sg_http_link_t;

typedef struct {
  /* One JSON-RPC message from the server. */
  void (*on_message)(sg_http_link_t *link, json_t *msg, void *arg);
  /* The server ended its answer to request id without a response for it (why, when not
   * NULL, completes "downstream server NAME ..." with what happened). */
  void (*on_unanswered)(sg_http_link_t *link, int64_t id, const char *why, void *arg);
  /* The link is unusable: the server cannot be reached, answered an HTTP error to a
   * request, or ended the session. why completes "downstream server NAME ...". */
  void (*on_failed)(sg_http_link_t *link, const char *why, void *arg);
  /* After sg_http_link_close: every handle is closed and the link is freed. */
  void (*on_closed)(void *arg);
} sg_http_link_cbs_t;

/* Opens a link to url. headers (borrowed) are NULL-terminated lists of "NAME=value"
 * sent with every request; either may be NULL. connect_timeout_ms bounds connecting. */
int sg_http_link_open(uv_loop_t *loop, const char *url, char **headers, char **more_headers,
                      uint64_t connect_timeout_ms, const sg_http_link_cbs_t *cbs, void *arg,
                      sg_http_link_t **out);

/* POSTs msg. Returns SG_EDOWNSTREAM when the link has failed or is closing. */
int sg_http_link_post(sg_http_link_t *link, json_t *msg);

/* Opens the session's GET stream, over which the server sends messages of its own
 * (requests and notifications, handed to on_message like any other). It is reopened
 * with backoff, after the last event id it carried, whenever it ends while the link
 * lives; a server that answers 405 has none, which is fine. It is no request: it never
 * delays closing. Call once the session is initialized. */
void sg_http_link_listen(sg_http_link_t *link);

/* Speaks the stateless era (2026-07-28, see era.h) from now on (on) or not: each request
 * then carries Mcp-Method and, where its method names something, Mcp-Name; an HTTP
 * refusal whose body is a JSON-RPC error is that request's answer, and any other fails
 * that request alone. Turning it off (to fall back to initialize) forgets any session
 * id a refusal carried. */
void sg_http_link_set_stateless(sg_http_link_t *link, int on);

/* The protocol version the server agreed to in its initialize answer, or the stateless
 * era's version: every later request carries it as MCP-Protocol-Version. */
void sg_http_link_set_protocol(sg_http_link_t *link, const char *version);

/* Stops waiting for the answer to request id (cancelled or timed out): its stream is
 * dropped. */
void sg_http_link_forget(sg_http_link_t *link, int64_t id);

/* The session id the server gave, or NULL before it has given one. */
const char *sg_http_link_session(const sg_http_link_t *link);

/* Ends every transfer, DELETEs the session when there is one, closes the handles and
 * then calls on_closed. */
void sg_http_link_close(sg_http_link_t *link);

#endif
