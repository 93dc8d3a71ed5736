/*
 * MCP session handling: parsing and classifying each client message, the initialize
 * handshake with version negotiation, and routing methods. Anything the gateway does
 * not serve is refused with method_not_found; nothing is forwarded unexamined.
 */
#include "mcp/session.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "json/rpc.h"
#include "mcp/session_internal.h"

const char *const sg_mcp_session_versions[] = {"2025-11-25", "2025-06-18", "2025-03-26", NULL};

void sg__session_send(sg_session_t *s, json_t *msg) {
  if (msg == NULL) return;
  if (s->state != SESSION_CLOSED && s->conn->send(s->conn, msg) != 0)
    sg_warn("could not send a message to the client");
  json_decref(msg);
}

void sg__session_send_error(sg_session_t *s, json_t *id, int err, const char *message,
                            json_t *data) {
  if (data == NULL) data = json_object();
  if (json_object_get(data, "reason") == NULL)
    json_object_set_new(data, "reason", json_string(sg_err_reason(err)));
  sg__session_send(s, sg_rpc_error(id, sg_err_rpc_code(err), message ? message : sg_strerror(err),
                                   data));
}

static const char *negotiate(const char *requested) {
  for (const char *const *v = sg_mcp_session_versions; requested && *v; v++)
    if (strcmp(requested, *v) == 0) return *v;
  return sg_mcp_session_versions[0];
}

const char sg__mcp_instructions[] =
    "Tools are served by scopegate, which checks every call against a checked-in catalog "
    "and capability matrix. A refused call reports a reason code in error.data.reason "
    "(or, for tools/call when the operator asks, in the tool result's _meta).";

json_t *sg__mcp_capabilities(const sg_catalog_t *catalog, const char *role_name, int subscribe) {
  json_t *caps = json_pack("{s:{s:b}}", "tools", "listChanged", 0);
  /* Prompts and resources are offered only to a role that has some. */
  const sg_role_t *role = sg_catalog_role(catalog, role_name);
  if (role && role->nprompts)
    json_object_set_new(caps, "prompts", json_pack("{s:b}", "listChanged", 0));
  if (role && role->nresources)
    json_object_set_new(caps, "resources",
                        json_pack("{s:b, s:b}", "listChanged", 0, "subscribe", subscribe));
  return caps;
}

static void handle_initialize(sg_session_t *s, json_t *id, json_t *params) {
  if (s->state != SESSION_NEW) {
    sg__session_send_error(s, id, SG_EBADREQ, "the session is already initialized", NULL);
    return;
  }
  const char *requested = json_string_value(json_object_get(params, "protocolVersion"));
  if (requested == NULL) {
    sg__session_send_error(s, id, SG_EBADPARAMS, "initialize needs a protocolVersion string", NULL);
    return;
  }
  const char *version = negotiate(requested);
  snprintf(s->version, sizeof s->version, "%s", version);
  s->state = SESSION_OPEN;
  json_t *result =
      json_pack("{s:s, s:o, s:{s:s, s:s}, s:s}", "protocolVersion", version, "capabilities",
                sg__mcp_capabilities(s->gw->catalog, s->principal.role, 1), "serverInfo", "name",
                "scopegate", "version", SG_VERSION, "instructions", sg__mcp_instructions);
  sg__session_send(s, sg_rpc_result(id, result));
}

static void handle_tools_list(sg_session_t *s, json_t *id) {
  const sg_role_t *role = sg_catalog_role(s->gw->catalog, s->principal.role);
  json_t *tools = role ? json_incref(role->tool_listing) : json_array();
  sg__session_send(s, sg_rpc_result(id, json_pack("{s:o}", "tools", tools)));
}

/* logging/setLevel: the gateway sends clients no log notifications (its logs go to its
 * operator), so any level filters nothing; a valid one is acknowledged, as the session
 * era's clients expect of a server they may ask. */
static void handle_set_level(sg_session_t *s, json_t *id, json_t *params) {
  static const char *const levels[] = {"debug",    "info",  "notice",    "warning", "error",
                                       "critical", "alert", "emergency", NULL};
  const char *level = json_string_value(json_object_get(params, "level"));
  for (const char *const *l = levels; level && *l; l++)
    if (strcmp(level, *l) == 0) {
      sg__session_send(s, sg_rpc_result(id, json_object()));
      return;
    }
  sg__session_send_error(s, id, SG_EBADPARAMS, "logging/setLevel needs a \"level\" of RFC 5424",
                         NULL);
}

static void handle_request(sg_session_t *s, const char *method, json_t *id, json_t *params) {
  if (strcmp(method, "ping") == 0) {
    sg__session_send(s, sg_rpc_result(id, json_object()));
    return;
  }
  if (strcmp(method, "initialize") == 0) {
    handle_initialize(s, id, params);
    return;
  }
  if (s->state != SESSION_OPEN) {
    sg__session_send_error(s, id, SG_ENOTINIT, "send initialize first", NULL);
    return;
  }
  if (strcmp(method, "tools/list") == 0) {
    handle_tools_list(s, id);
  } else if (strcmp(method, "tools/call") == 0) {
    sg__call_start(s, id, params);
  } else if (strcmp(method, "logging/setLevel") == 0) {
    handle_set_level(s, id, params);
  } else if (sg__access_request(s, method, id, params)) {
    /* answered or forwarded */
  } else {
    json_t *data = json_pack("{s:s}", "method", method);
    sg__session_send_error(s, id, SG_ENOMETHOD, "method not found", data);
  }
}

static void handle_notification(sg_session_t *s, const char *method, json_t *params) {
  if (strcmp(method, "notifications/initialized") == 0) {
    s->client_initialized = 1;
  } else if (strcmp(method, "notifications/cancelled") == 0) {
    json_t *rid = json_object_get(params, "requestId");
    const char *reason = json_string_value(json_object_get(params, "reason"));
    if (rid) sg__call_cancel(s, rid, reason ? reason : "cancelled by the client");
  } else {
    sg_debug("ignoring client notification %s", method);
  }
}

static void on_message(sg_conn_t *c, const char *data, size_t len) {
  sg_session_t *s = c->data;
  char err[256];
  json_t *msg = NULL;
  int rc = sg_json_parse(data, len, &s->gw->limits, &msg, err, sizeof err);
  if (rc != 0) {
    sg__session_send_error(s, NULL, rc, err, NULL);
    return;
  }
  sg_rpc_msg_t m;
  rc = sg_rpc_classify(msg, &m, err, sizeof err);
  if (rc == SG_EBATCH) {
    sg__session_send_error(s, NULL, rc, "JSON-RPC batches are not accepted; send one message per line", NULL);
  } else if (rc != 0) {
    sg__session_send_error(s, m.id, rc, err, NULL);
  } else if (m.kind == SG_MSG_REQUEST) {
    handle_request(s, m.method, m.id, m.params);
  } else if (m.kind == SG_MSG_NOTIFICATION) {
    handle_notification(s, m.method, m.params);
  } else {
    sg_debug("ignoring a response from the client (no request was sent to it)");
  }
  json_decref(msg);
}

static void on_oversized(sg_conn_t *c) {
  sg_session_t *s = c->data;
  sg__session_send_error(s, NULL, SG_ETOOBIG, NULL, NULL);
}

static void session_free(void *arg) {
  sg_session_t *s = arg;
  void (*on_end)(void *) = s->on_end;
  void *end_arg = s->end_arg;
  free(s->subject);
  free(s->role);
  free(s->tenant);
  free(s->env);
  json_decref(s->principal.claims);
  free(s);
  if (on_end) on_end(end_arg);
}

static void on_closed(sg_conn_t *c) {
  sg_session_t *s = c->data;
  if (s->state == SESSION_CLOSED) return;
  sg__call_cancel_all(s);
  sg__access_cancel_all(s);
  sg__subs_drop_session(s);
  s->state = SESSION_CLOSED;
  s->conn->close(s->conn, session_free, s);
}

const sg_conn_handler_t sg_session_handler = {on_message, on_oversized, on_closed};

sg_session_t *sg_session_new(sg_gateway_t *gw, sg_conn_t *conn, const sg_principal_t *who,
                             void (*on_end)(void *arg), void *arg) {
  sg_session_t *s = calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  s->gw = gw;
  s->conn = conn;
  s->state = SESSION_NEW;
  s->subject = strdup(who->subject);
  s->role = strdup(who->role);
  s->tenant = strdup(who->tenant);
  s->env = strdup(who->env);
  s->principal = (sg_principal_t){s->subject, s->role, s->tenant, s->env,
                                  json_incref(who->claims)};
  s->on_end = on_end;
  s->end_arg = arg;
  conn->data = s;
  return s;
}
