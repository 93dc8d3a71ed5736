/*
 * The admin listener: an HTTP server on the gateway's loop, apart from the MCP endpoint,
 * for the people who operate the gateway.
 *
 *   GET  /admin/approvals            pending approvals, oldest first (?all=1: the last
 *                                    1000 of any state)
 *   GET  /admin/approvals/ID         one approval
 *   POST /admin/approvals/ID/approve {"reason": "..."}: the waiting call runs, once
 *   POST /admin/approvals/ID/deny    {"reason": "..."}: it is refused
 *   GET  /admin/writes               the writes switch
 *   POST /admin/writes               {"enabled": false, "reason": "..."}: the kill switch
 *   GET  /console                    the approval console (HTML; its script and style at
 *                                    /console/console.js and /console/console.css)
 *   GET  /metrics                    Prometheus text format (metrics.h)
 *
 * Every /admin/ request carries "Authorization: Bearer JWT", verified with the gateway's
 * auth configuration, whose roles include "approver" (SG_ADMIN_ROLE): 401 without a
 * token that verifies, 403 without the role, on TCP and Unix sockets alike. The token's
 * subject is who is recorded as approver or actor. The console page and /metrics need no
 * token: the page holds no data (its script calls the API with the token the approver
 * pastes), and the admin listener only listens on loopback addresses and Unix sockets
 * (owner-only), so only local processes read the metrics.
 *
 * Decisions and the switch are written through a store handle of the admin's own, with
 * the same calls as the CLI, so the gateway's waiting calls see them exactly as they see
 * the CLI's (through the store's data_version, within its poll interval).
 *
 * Answers are JSON; an error is {"error": {"code": CODE, "message": TEXT}} with 400
 * (bad body, missing reason), 401, 403, 404 (unknown path or approval), 405, 409 (the
 * approval is not pending), 415 (a body that is not application/json) or 500 (the store
 * failed; the message says why).
 *
 * Ownership: the config's strings and auth are borrowed for the server's life.
 */
#ifndef SG_ADMIN_ADMIN_H
#define SG_ADMIN_ADMIN_H

#include <stddef.h>

#include "auth/auth.h"
#include "mcp/gateway.h"
#include "transport/http_server.h"
#include "transport/listen.h"

#define SG_ADMIN_ROLE "approver"
#define SG_ADMIN_MAX_LISTENERS 4

typedef struct {
  sg_listen_addr_t listen[SG_ADMIN_MAX_LISTENERS];
  size_t nlisten;
  const sg_auth_t *auth; /* required */
  const char *db;        /* the gateway's database, opened again for the admin's writes */
} sg_admin_config_t;

/* Applies "--admin-listen ADDR" (loopback TCP or unix:PATH). Returns 0, or SG_EINVAL with
 * the reason in err. */
int sg_admin_option_listen(sg_admin_config_t *cfg, const char *value, char *err, size_t errlen);

/* An approval as the admin API (and `scopegate approvals --json`) shows it: every stored
 * field, the redacted arguments parsed ("arguments"; null when not recorded), and for a
 * pending one "waiting_seconds". A new reference, or NULL when out of memory. */
json_t *sg_admin_approval_json(const sg_store_approval_t *a);

typedef struct sg_admin sg_admin_t;

/* Opens the admin's store handle and listens on every configured address, printing to
 * stderr where it listens ("scopegate: admin API on URL"). Returns 0, or SG_EINVAL
 * (no auth, no address) or SG_EIO with the reason in err; nothing is then left open. */
int sg_admin_start(sg_gateway_t *gw, const sg_admin_config_t *cfg, sg_admin_t **out, char *err,
                   size_t errlen);
/* Stops accepting, closes the connections, the store handle and frees a; then done(arg). */
void sg_admin_stop(sg_admin_t *a, void (*done)(void *arg), void *arg);

/* The console's files, served as they are (console.c). */
extern const char sg_admin_console_html[], sg_admin_console_js[], sg_admin_console_css[];

#endif
