/*
 * MCP over Streamable HTTP, session era (2025-03-26, 2025-06-18, 2025-11-25): one
 * endpoint (default /mcp) on every listener, which it shares with the stateless era
 * (2026-07-28, stateless.h: the requests sg_stateless_owns claims go there), where
 *
 *   POST    carries one JSON-RPC message. initialize without Mcp-Session-Id starts a
 *           session (its id comes back in the Mcp-Session-Id header); every other
 *           request names its session. A request is answered as application/json, except
 *           tools/call and requests that carry a progress token, which are answered as an
 *           SSE stream (notifications first, then the response). Notifications and
 *           responses get 202.
 *   GET     opens the session's stream for messages unrelated to a request; with
 *           Last-Event-ID it resumes a stream whose connection was lost, replaying the
 *           events that followed (as many as the stream's buffer still holds).
 *   DELETE  ends the session: its calls are cancelled and audited, its id then gets 404.
 *
 * Each MCP session is an sg_session_t whose connection (sg_conn_t) is implemented here:
 * what the session sends is routed to the open POST of the request it answers, to that
 * request's stream for its progress notifications, or else to the GET stream.
 *
 * Identity. With an auth configuration every request to the endpoint carries
 * "Authorization: Bearer JWT", verified at the time of the request; the token is the
 * identity (subject, tenant, env, claims), and the role is the configured one (which
 * the token must hold) or else the one role of the token that the matrix knows. A
 * session belongs to the principal that created it; each of its requests is decided
 * under the claims of the token that request carries. The token itself goes nowhere:
 * downstream servers never see it. RFC 9728 metadata is served, without
 * authentication, at /.well-known/oauth-protected-resource (and at that path followed by
 * the endpoint's path). Without an auth configuration every request acts for the
 * operator's identity, as on stdio.
 *
 * HTTP errors: 400 missing session id, malformed message, unsupported
 * MCP-Protocol-Version; 401 no bearer token, or one that does not verify (expired,
 * wrong issuer or audience, bad signature), with WWW-Authenticate naming the metadata;
 * 403 a token without a usable role; 404 unknown or ended session, a session of another
 * principal, other paths; 405 other methods; 406 Accept without the required types; 409
 * a second GET stream; 415 a body that is not application/json; 429 too many streams,
 * or a subject whose sessions are all busy at its limit; 503 shutting down, or every
 * session busy at the session limit (otherwise the session unused longest is ended to
 * make room; at a subject's limit, that subject's own).
 *
 * Ownership: the config's strings (path, origins, hosts, role, resource URL) and auth
 * are borrowed for the life of the server; the identity's strings are copied and its
 * claims referenced.
 */
#ifndef SG_MCP_HTTP_SESSION_H
#define SG_MCP_HTTP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "mcp/gateway.h"
#include "policy/principal.h"
#include "transport/http_server.h"
#include "transport/listen.h"

#define SG_HTTP_MAX_LISTENERS 16
#define SG_HTTP_MAX_ALLOWED 32

typedef struct {
  sg_http_config_t http; /* limits; allow_origins/allow_hosts point into the arrays below */
  const char *path;
  sg_listen_addr_t listen[SG_HTTP_MAX_LISTENERS];
  size_t nlisten;
  const char *origins[SG_HTTP_MAX_ALLOWED];
  size_t norigins;
  const char *hosts[SG_HTTP_MAX_ALLOWED];
  size_t nhosts;
  unsigned max_sessions;
  unsigned max_streams;     /* SSE streams one session may hold (open or resumable) */
  uint64_t session_idle_ms; /* a session with nothing open ends after this long unused */
  size_t replay_events;     /* per stream, kept for Last-Event-ID */
  size_t replay_bytes;
  /* Bearer authentication: clients' tokens are verified with auth; NULL serves every
   * client as the operator's identity. */
  const sg_auth_t *auth;
  const char *role;          /* with auth: the role clients act in, or NULL (see above) */
  const char *resource_url;  /* the endpoint's public URL; NULL: http://HOST/PATH */
  int insecure_no_auth;      /* without auth, listen on non-loopback addresses anyway */
  unsigned subject_sessions; /* with auth: sessions one subject may hold */
  unsigned subject_streams;  /* with auth: SSE streams one subject may hold */
} sg_http_mcp_config_t;

void sg_http_mcp_config_default(sg_http_mcp_config_t *cfg);

/* Applies the serve flag --name value (name without the dashes): listen, allow-origin,
 * allow-host, http-path, max-connections, max-sessions, header-timeout-ms,
 * body-timeout-ms, idle-timeout-ms, session-idle-ms, resource-url,
 * max-sessions-per-subject, max-streams-per-subject. Returns 0, or SG_EINVAL with the
 * reason in err (also for an unknown name). */
int sg_http_mcp_option(sg_http_mcp_config_t *cfg, const char *name, const char *value, char *err,
                       size_t errlen);

/* The usage lines for those flags. */
extern const char sg_http_mcp_usage[];

typedef struct sg_http_mcp sg_http_mcp_t;

/* Listens on every configured address and prints to stderr where clients connect.
 * Without cfg->auth, who is the identity every HTTP session acts for, and a non-loopback
 * address is refused unless cfg->insecure_no_auth; with it, who is not used (may be
 * NULL). Returns 0, or SG_EIO or SG_EINVAL with the reason in err (nothing is left
 * listening). */
int sg_http_mcp_start(sg_gateway_t *gw, const sg_http_mcp_config_t *cfg, const sg_principal_t *who,
                      sg_http_mcp_t **out, char *err, size_t errlen);

/* Stops accepting, ends every session (their calls are cancelled and audited, requests
 * still open get a shutting_down error), closes the connections once their output is
 * flushed, frees m; then done(arg). */
void sg_http_mcp_stop(sg_http_mcp_t *m, void (*done)(void *arg), void *arg);

#endif
