/*
 * The stateless era of MCP (2026-07-28), as scopegate speaks it to an http server that
 * serves it ("protocol": "2026-07-28" or "auto" in servers.json): no initialize and no
 * session; every request carries, in params._meta, the protocol version and scopegate's
 * client capabilities (none: it answers no server requests) and identity; on HTTP each
 * request also names its method (Mcp-Method) and, for tools/call, prompts/get and
 * resources/read, what it acts on (Mcp-Name), so that whatever routes on headers sees the
 * call that runs. Results say how complete they are (resultType).
 *
 * Ownership: every json_t argument is borrowed; sg__ds_era_envelope and
 * sg__ds_era_take_result change the object they are given in place.
 */
#ifndef SG_DOWNSTREAM_ERA_H
#define SG_DOWNSTREAM_ERA_H

#include <jansson.h>
#include <stddef.h>

#define SG_DS_STATELESS_VERSION "2026-07-28"

/* Adds the era's envelope to params (an object) under _meta, beside what _meta holds. */
int sg__ds_era_envelope(json_t *params);

/* Writes to out the Mcp-Name header value for a request of method with params, as a
 * Base64 sentinel ("=?base64?...?=") when the value is not a plain header value. Returns
 * 0 when written, -1 when method names nothing or the value does not fit in size. */
int sg__ds_era_name(const char *method, json_t *params, char *out, size_t size);

/* Whether a server/discover result lists this era among its supportedVersions. */
int sg__ds_era_offered(json_t *result);

/* Takes a result of the era: one whose resultType is not "complete" (the server wants
 * input that scopegate, which declared no capabilities, will not give) is refused with
 * -1 and why; otherwise resultType is removed, since the client's own era decides how its
 * answer is shaped. */
int sg__ds_era_take_result(json_t *result, char *why, size_t size);

#endif
