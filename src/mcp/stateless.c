/*
 * Streamable HTTP, stateless era: one POST, one request, one short-lived sg_session_t.
 * The request's checks (envelope, mirrored headers, version, method) are made here; what
 * passes is delivered to a session opened without a handshake, so tools, prompts and
 * resources go through exactly the routing, decisions and audit of the session era. The
 * session's connection is an sreq_t, which turns what the session sends into this era's
 * results and writes them to the HTTP request.
 *
 * A request's life (performed by the named functions):
 *
 *   POST (sg_stateless_serve) ─▶ checks ─refused─▶ answered, nothing else happens
 *                                  │
 *                                  └▶ sreq_t + session (serve_session) ─▶ body delivered
 *   response sent (sreq_send), or the client gone (sreq_aborted) ─▶ queued (reap_later)
 *   reaper timer (reap_cb), or shutdown ─▶ sreq_end ─▶ on_closed: calls still in flight
 *     cancelled and audited ─▶ sreq_close: an open request gets an error ─▶ session freed
 *     ─▶ sreq_free
 *
 * A session is never ended from inside its own send: the session's code may still be on
 * the stack, so ending waits for the reaper, which runs on the next loop iteration.
 */
#include "mcp/stateless.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/log.h"
#include "json/parse.h"
#include "json/rpc.h"
#include "mcp/session.h"
#include "mcp/session_internal.h"

#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CAPABILITIES "io.modelcontextprotocol/clientCapabilities"
#define META_SERVER_INFO "io.modelcontextprotocol/serverInfo"
#define B64_PREFIX "=?base64?"
#define B64_SUFFIX "?="

/* The codes this revision defines (basic/index, "Error Codes"). */
#define RPC_HEADER_MISMATCH -32020
#define RPC_UNSUPPORTED_VERSION -32022

const char *const sg_mcp_stateless_versions[] = {"2026-07-28", NULL};

typedef struct sreq sreq_t;

struct sg_stateless {
  sg_gateway_t *gw;
  sreq_t *live; /* requests with a session, doubly linked */
  sreq_t *reap; /* of those, the ones whose session is to end */
  uv_timer_t reaper;
  void (*done)(void *arg);
  void *done_arg;
};

/* One request being served by its own session. */
struct sreq {
  sg_conn_t conn; /* first: the session sends through it */
  sreq_t *prev, *next;
  sreq_t *reap_next;
  sg_stateless_t *st;
  sg_session_t *session;
  sg_http_request_t *req; /* until answered, or until the client goes */
  json_t *id;
  json_t *progress_token; /* the client's, or NULL */
  int cacheable;          /* the result gets ttlMs and cacheScope */
  int streaming;          /* the answer has become an SSE stream */
  int queued;             /* in st->reap */
  int ended;              /* sreq_end has run */
};

/* ---- versions and the request's envelope ------------------------------------------- */

static int in_list(const char *const *list, const char *v) {
  for (; *list; list++)
    if (strcmp(*list, v) == 0) return 1;
  return 0;
}

/* Every version the gateway serves, in either era, newest first (a new reference). */
static json_t *all_versions(void) {
  json_t *a = json_array();
  for (const char *const *v = sg_mcp_stateless_versions; *v; v++)
    json_array_append_new(a, json_string(*v));
  for (const char *const *v = sg_mcp_session_versions; *v; v++)
    json_array_append_new(a, json_string(*v));
  return a;
}

int sg_stateless_owns(const sg_stateless_t *st, const sg_http_request_t *req) {
  const char *pv = sg_http_header(req, "mcp-protocol-version");
  int other_era = pv && !in_list(sg_mcp_session_versions, pv);
  if (strcmp(req->method, "POST") != 0)
    return other_era && (strcmp(req->method, "GET") == 0 || strcmp(req->method, "DELETE") == 0);
  if (sg_http_header(req, "mcp-session-id")) return 0;
  if (other_era) return 1;
  /* No header says which era: a body that carries the per-request envelope does. */
  char err[128];
  json_t *msg = NULL;
  if (sg_json_parse(req->body, req->body_len, &st->gw->limits, &msg, err, sizeof err) != 0)
    return 0;
  json_t *meta = json_object_get(json_object_get(msg, "params"), "_meta");
  int owns = json_object_get(meta, META_VERSION) != NULL;
  json_decref(msg);
  return owns;
}

/* Decodes standard Base64 (with padding) into out, which has room for len * 3 / 4 bytes;
 * returns the decoded length, or -1. */
static long b64_decode(const char *in, size_t len, unsigned char *out) {
  if (len % 4) return -1;
  size_t n = 0;
  for (size_t i = 0; i < len; i += 4) {
    unsigned v = 0;
    int pad = 0;
    for (size_t j = 0; j < 4; j++) {
      char c = in[i + j];
      int d = c >= 'A' && c <= 'Z'   ? c - 'A'
              : c >= 'a' && c <= 'z' ? c - 'a' + 26
              : c >= '0' && c <= '9' ? c - '0' + 52
              : c == '+'             ? 62
              : c == '/'             ? 63
                                     : -1;
      if (c == '=' && i + 4 == len && j >= 2) {
        d = 0;
        pad++;
      } else if (d < 0 || pad) {
        return -1; /* not Base64, or data after padding */
      }
      v = v << 6 | (unsigned)d;
    }
    out[n++] = (unsigned char)(v >> 16);
    if (pad < 2) out[n++] = (unsigned char)(v >> 8);
    if (pad < 1) out[n++] = (unsigned char)v;
  }
  return (long)n;
}

/* Whether the Mcp-Name header value h says the same as the body's value (a string, or
 * NULL when the body has none). Plain values must be visible ASCII (or space and tab);
 * a value in the Base64 sentinel form is decoded first. */
static int name_matches(const char *h, const json_t *body) {
  if (!json_is_string(body)) return 0;
  const char *want = json_string_value(body);
  size_t want_len = json_string_length(body), hlen = strlen(h);
  size_t pl = strlen(B64_PREFIX), sl = strlen(B64_SUFFIX);
  if (hlen >= pl + sl && strncmp(h, B64_PREFIX, pl) == 0 &&
      strcmp(h + hlen - sl, B64_SUFFIX) == 0) {
    size_t blen = hlen - pl - sl;
    unsigned char *dec = malloc(blen / 4 * 3 + 1);
    long n = dec ? b64_decode(h + pl, blen, dec) : -1;
    int same = n >= 0 && (size_t)n == want_len && memcmp(dec, want, want_len) == 0;
    free(dec);
    return same;
  }
  for (const unsigned char *c = (const unsigned char *)h; *c; c++)
    if (*c != '\t' && (*c < 0x20 || *c > 0x7e)) return 0;
  return hlen == want_len && memcmp(h, want, hlen) == 0;
}

/* The body field that Mcp-Name mirrors for method, or NULL when it mirrors none. */
static const char *name_field(const char *method) {
  if (strcmp(method, "tools/call") == 0 || strcmp(method, "prompts/get") == 0) return "name";
  if (strcmp(method, "resources/read") == 0) return "uri";
  return NULL;
}

/* Methods a request's session answers. */
static int routed(const char *method) {
  static const char *const methods[] = {"tools/list",     "tools/call",
                                        "prompts/list",   "prompts/get",
                                        "resources/list", "resources/templates/list",
                                        "resources/read", NULL};
  return in_list(methods, method);
}

static int cacheable(const char *method) {
  static const char *const methods[] = {"tools/list",
                                        "prompts/list",
                                        "resources/list",
                                        "resources/templates/list",
                                        "resources/read",
                                        "server/discover",
                                        NULL};
  return in_list(methods, method);
}

/* ---- HTTP answers ------------------------------------------------------------------ */

/* CORS for an origin that passed the server's check. */
static void cors_headers(sg_http_request_t *req, sg_buf_t *h) {
  const char *origin = sg_http_header(req, "origin");
  if (origin) sg_buf_printf(h, "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n", origin);
}

static void respond_json(sg_http_request_t *req, int status, const json_t *msg, const char *extra) {
  sg_buf_t h;
  sg_buf_init(&h);
  cors_headers(req, &h);
  if (extra) sg_buf_append_str(&h, extra);
  char *body = json_dumps(msg, JSON_COMPACT);
  if (body)
    sg_http_respond(req, status, "application/json", h.data, body, strlen(body));
  else
    sg_http_respond(req, 500, NULL, h.data, NULL, 0);
  free(body);
  sg_buf_free(&h);
}

/* Answers req with status and a JSON-RPC error for id (NULL: none). data is stolen; its
 * reason is filled in when it has none. */
static void refuse(sg_http_request_t *req, int status, json_t *id, int code, const char *reason,
                   const char *message, json_t *data, const char *extra) {
  sg_debug("http: stateless %s refused (%d, %d %s): %s", req->method, status, code, reason,
           message);
  if (data == NULL) data = json_object();
  if (json_object_get(data, "reason") == NULL)
    json_object_set_new(data, "reason", json_string(reason));
  json_t *e = sg_rpc_error(id, code, message, data);
  respond_json(req, status, e, extra);
  json_decref(e);
}

/* The gateway's identity, as results name it (a new reference). */
static json_t *server_info(void) {
  return json_pack("{s:s, s:s}", "name", "scopegate", "version", SG_VERSION);
}

/* What this era adds to a result: resultType, the cache fields where the method's result
 * is cacheable, and the gateway's identity in _meta. Returns a new reference; result is
 * borrowed and left as it was. */
static json_t *era_result(const json_t *result, int is_cacheable) {
  json_t *r = json_is_object(result) ? json_copy((json_t *)result) : json_object();
  /* The gateway speaks the session era to downstream servers, whose results are always
   * complete; whatever such a result says about its type is not this era's word. */
  json_object_set_new(r, "resultType", json_string("complete"));
  if (is_cacheable) {
    json_object_set_new(r, "ttlMs", json_integer(0));
    json_object_set_new(r, "cacheScope", json_string("private"));
  }
  json_t *meta = json_object_get(r, "_meta");
  meta = json_is_object(meta) ? json_copy(meta) : json_object();
  json_object_set_new(meta, META_SERVER_INFO, server_info());
  json_object_set_new(r, "_meta", meta);
  return r;
}

/* An error as this era states it (a new reference): -32002 is retired. */
static json_t *era_error(const json_t *msg) {
  json_t *e = json_deep_copy(msg);
  json_t *err = json_object_get(e, "error");
  if (json_integer_value(json_object_get(err, "code")) == -32002) {
    const char *reason = json_string_value(json_object_get(json_object_get(err, "data"), "reason"));
    int ours = reason && (strcmp(reason, sg_err_reason(SG_EDOWNSTREAM)) == 0 ||
                          strcmp(reason, sg_err_reason(SG_EDOWNSTREAM_TIMEOUT)) == 0 ||
                          strcmp(reason, sg_err_reason(SG_ESHUTDOWN)) == 0);
    json_object_set_new(err, "code", json_integer(ours ? -32603 : -32602));
  }
  return e;
}

/* ---- the request's connection ------------------------------------------------------ */

static void reap_later(sreq_t *sr);

/* Detaches the HTTP request: nothing more is written to it. */
static sg_http_request_t *sreq_take(sreq_t *sr) {
  sg_http_request_t *req = sr->req;
  if (req) {
    req->on_abort = NULL;
    req->data = NULL;
    sr->req = NULL;
  }
  return req;
}

/* Writes one SSE event carrying msg; a failure means the client is gone. */
static int sreq_event(sreq_t *sr, const json_t *msg) {
  sg_buf_t b;
  sg_buf_init(&b);
  int rc = sg_buf_append_str(&b, "data: ");
  if (rc == 0) rc = sg_json_dump_line(msg, &b);
  if (rc == 0) rc = sg_buf_append(&b, "\n", 1);
  if (rc == 0 && sg_http_stream_write(sr->req, b.data, b.len) != 0) {
    sr->req = NULL; /* the server finished it; no on_abort follows */
    rc = SG_EIO;
  }
  sg_buf_free(&b);
  return rc;
}

/* Turns the answer into an SSE stream (for a notification before the response). */
static int sreq_stream(sreq_t *sr) {
  if (sr->streaming) return 0;
  sg_buf_t h;
  sg_buf_init(&h);
  sg_buf_append_str(&h, "Cache-Control: no-cache, no-transform\r\nX-Accel-Buffering: no\r\n");
  cors_headers(sr->req, &h);
  int rc = sg_http_stream_begin(sr->req, 200, "text/event-stream", h.data);
  sg_buf_free(&h);
  if (rc != 0) {
    sr->req = NULL; /* finished by the server */
    return rc;
  }
  sr->streaming = 1;
  return 0;
}

static int status_of(const json_t *msg) {
  json_t *code = json_object_get(json_object_get(msg, "error"), "code");
  if (code == NULL) return 200;
  return json_integer_value(code) == -32601 ? 404 : 200;
}

static int sreq_send(sg_conn_t *c, const json_t *msg) {
  sreq_t *sr = sg_container_of(c, sreq_t, conn);
  json_t *method = json_object_get(msg, "method");
  if (method == NULL) {
    if (sr->req == NULL) {
      sg_debug("http: stateless request answered after its client left; dropped");
      return 0;
    }
    json_t *out = json_object_get(msg, "result")
                      ? sg_rpc_result(json_object_get(msg, "id"),
                                      era_result(json_object_get(msg, "result"), sr->cacheable))
                      : era_error(msg);
    if (sr->streaming) {
      if (sreq_event(sr, out) == 0) sg_http_stream_end(sreq_take(sr));
    } else {
      respond_json(sreq_take(sr), status_of(out), out, NULL);
    }
    json_decref(out);
    reap_later(sr);
    return 0;
  }
  const char *name = json_string_value(method);
  json_t *token = json_object_get(json_object_get(msg, "params"), "progressToken");
  if (sr->req && name && strcmp(name, "notifications/progress") == 0 && sr->progress_token &&
      json_equal(token, sr->progress_token)) {
    if (sreq_stream(sr) != 0 || sreq_event(sr, msg) != 0) reap_later(sr); /* the client left */
    return 0;
  }
  sg_debug("http: stateless request: %s has no stream to go to; dropped",
           name ? name : "a message");
  return 0;
}

/* The session is closing (its calls already cancelled): a request still open gets an
 * error. Then the session is freed, and with it sr (sreq_free). */
static void sreq_close(sg_conn_t *c, void (*done)(void *arg), void *arg) {
  sreq_t *sr = sg_container_of(c, sreq_t, conn);
  if (sr->req) {
    json_t *e = sg_rpc_error(sr->id, -32603, "the gateway is shutting down",
                             json_pack("{s:s}", "reason", sg_err_reason(SG_ESHUTDOWN)));
    if (sr->streaming) {
      if (sreq_event(sr, e) == 0) sg_http_stream_end(sreq_take(sr));
    } else {
      respond_json(sreq_take(sr), 503, e, NULL);
    }
    json_decref(e);
  }
  if (done) done(arg);
}

static void sreq_free(void *arg) {
  sreq_t *sr = arg;
  sg_stateless_t *st = sr->st;
  if (sr->prev)
    sr->prev->next = sr->next;
  else
    st->live = sr->next;
  if (sr->next) sr->next->prev = sr->prev;
  json_decref(sr->id);
  json_decref(sr->progress_token);
  free(sr);
}

/* Ends sr's session: calls still in flight are cancelled downstream and audited. sr is
 * freed before this returns. */
static void sreq_end(sreq_t *sr) {
  if (sr->ended) return;
  sr->ended = 1;
  sr->conn.handler->on_closed(&sr->conn);
}

/* The client closed the connection before the response: that cancels the request. */
static void sreq_aborted(sg_http_request_t *req) {
  sreq_t *sr = req->data;
  sr->req = NULL;
  sg_debug("http: stateless request: the client left before the response; cancelling");
  reap_later(sr);
}

static void reap_cb(uv_timer_t *t) {
  sg_stateless_t *st = t->data;
  while (st->reap) {
    sreq_t *sr = st->reap;
    st->reap = sr->reap_next;
    sreq_end(sr);
  }
}

static void reap_later(sreq_t *sr) {
  if (sr->queued) return;
  sr->queued = 1;
  sr->reap_next = sr->st->reap;
  sr->st->reap = sr;
  uv_timer_start(&sr->st->reaper, reap_cb, 0, 0);
}

/* ---- the endpoint ------------------------------------------------------------------ */

static void serve_discover(sg_stateless_t *st, sg_http_request_t *req, json_t *id,
                           const sg_principal_t *who) {
  json_t *result = json_pack("{s:o, s:o, s:o, s:s}", "supportedVersions", all_versions(),
                             "capabilities", sg__mcp_capabilities(st->gw->catalog, who->role, 0),
                             "serverInfo", server_info(), "instructions", sg__mcp_instructions);
  json_t *out = sg_rpc_result(id, era_result(result, 1));
  json_decref(result);
  respond_json(req, 200, out, NULL);
  json_decref(out);
}

static void serve_session(sg_stateless_t *st, sg_http_request_t *req, const sg_rpc_msg_t *rm,
                          const sg_principal_t *who) {
  sreq_t *sr = calloc(1, sizeof *sr);
  if (sr == NULL) {
    refuse(req, 503, rm->id, -32603, sg_err_reason(SG_ENOMEM), "out of memory", NULL, NULL);
    return;
  }
  sr->st = st;
  sr->conn.send = sreq_send;
  sr->conn.close = sreq_close;
  sr->conn.handler = &sg_session_handler;
  sr->id = json_incref(rm->id);
  json_t *token = json_object_get(json_object_get(rm->params, "_meta"), "progressToken");
  if (sg_rpc_valid_id(token)) sr->progress_token = json_incref(token);
  sr->cacheable = cacheable(rm->method);
  sr->next = st->live;
  if (st->live) st->live->prev = sr;
  st->live = sr;
  sr->session = sg_session_new(st->gw, &sr->conn, who, sreq_free, sr);
  if (sr->session == NULL) {
    refuse(req, 503, rm->id, -32603, sg_err_reason(SG_ENOMEM), "out of memory", NULL, NULL);
    sreq_free(sr);
    return;
  }
  /* No handshake: the request itself says what it speaks, and it has been checked. */
  sr->session->state = SESSION_OPEN;
  sr->session->stateless = 1;
  snprintf(sr->session->version, sizeof sr->session->version, "%s", sg_mcp_stateless_versions[0]);
  sr->req = req;
  req->data = sr;
  req->on_abort = sreq_aborted;
  sr->conn.handler->on_message(&sr->conn, req->body, req->body_len);
}

void sg_stateless_serve(sg_stateless_t *st, sg_http_request_t *req, const sg_principal_t *who) {
  if (strcmp(req->method, "POST") != 0) {
    refuse(req, 405, NULL, -32600, "method_not_allowed",
           "this protocol version has no GET stream and no sessions to DELETE; POST each request",
           NULL, "Allow: POST, OPTIONS\r\n");
    return;
  }
  if (!sg_http_content_type_is(sg_http_header(req, "content-type"), "application/json")) {
    refuse(req, 415, NULL, -32600, "unsupported_media_type", "POST bodies must be application/json",
           NULL, NULL);
    return;
  }
  const char *accept = sg_http_header(req, "accept");
  if (!sg_http_accepts(accept, "application/json") ||
      !sg_http_accepts(accept, "text/event-stream")) {
    refuse(req, 406, NULL, -32600, "not_acceptable",
           "the Accept header must list application/json and text/event-stream", NULL, NULL);
    return;
  }
  char err[256];
  json_t *msg = NULL;
  int rc = sg_json_parse(req->body, req->body_len, &st->gw->limits, &msg, err, sizeof err);
  if (rc != 0) {
    refuse(req, 400, NULL, sg_err_rpc_code(rc), sg_err_reason(rc), err, NULL, NULL);
    return;
  }
  sg_rpc_msg_t rm;
  rc = sg_rpc_classify(msg, &rm, err, sizeof err);
  if (rc != 0) {
    refuse(req, 400, rc == SG_EBATCH ? NULL : rm.id, sg_err_rpc_code(rc), sg_err_reason(rc),
           rc == SG_EBATCH ? "JSON-RPC batches are not accepted" : err, NULL, NULL);
    json_decref(msg);
    return;
  }
  if (rm.kind != SG_MSG_REQUEST) {
    /* This revision defines no client notification over HTTP; one is accepted and
     * ignored. Responses are never expected: the gateway sends no requests. */
    if (rm.kind == SG_MSG_NOTIFICATION)
      sg_http_respond(req, 202, NULL, NULL, NULL, 0);
    else
      refuse(req, 400, NULL, -32600, "invalid_request", "the gateway sent no request to answer",
             NULL, NULL);
    json_decref(msg);
    return;
  }
  json_t *meta = json_object_get(rm.params, "_meta");
  json_t *version = json_object_get(meta, META_VERSION);
  const char *pv = sg_http_header(req, "mcp-protocol-version");
  const char *mh = sg_http_header(req, "mcp-method");
  const char *field = name_field(rm.method);
  const char *nh = field ? sg_http_header(req, "mcp-name") : NULL;
  char why[320];
  if (!json_is_string(version) || !json_is_object(json_object_get(meta, META_CAPABILITIES))) {
    snprintf(why, sizeof why,
             "every request carries params._meta with \"%s\" (a string) and \"%s\" (an object)",
             META_VERSION, META_CAPABILITIES);
    refuse(req, 400, rm.id, -32602, sg_err_reason(SG_EBADPARAMS), why, NULL, NULL);
  } else if (pv == NULL || strcmp(pv, json_string_value(version)) != 0) {
    snprintf(why, sizeof why,
             "header mismatch: MCP-Protocol-Version %s%.40s%s does not match _meta's \"%.40s\"",
             pv ? "\"" : "", pv ? pv : "is missing and", pv ? "\"" : "",
             json_string_value(version));
    refuse(req, 400, rm.id, RPC_HEADER_MISMATCH, "header_mismatch", why, NULL, NULL);
  } else if (!in_list(sg_mcp_stateless_versions, pv)) {
    snprintf(why, sizeof why,
             "unsupported protocol version \"%.40s\": requests without a session speak 2026-07-28; "
             "2025-11-25, 2025-06-18 and 2025-03-26 are served to sessions opened with initialize",
             pv);
    refuse(req, 400, rm.id, RPC_UNSUPPORTED_VERSION, "unsupported_protocol_version", why,
           json_pack("{s:o, s:s}", "supported", all_versions(), "requested", pv), NULL);
  } else if (mh == NULL || strcmp(mh, rm.method) != 0) {
    snprintf(why, sizeof why,
             "header mismatch: Mcp-Method %s%.60s%s does not match the method \"%.60s\"",
             mh ? "\"" : "", mh ? mh : "is missing and", mh ? "\"" : "", rm.method);
    refuse(req, 400, rm.id, RPC_HEADER_MISMATCH, "header_mismatch", why, NULL, NULL);
  } else if (field && (nh == NULL || !name_matches(nh, json_object_get(rm.params, field)))) {
    snprintf(why, sizeof why, "header mismatch: Mcp-Name %s the request's \"%s\"",
             nh ? "does not match" : "is missing for", field);
    refuse(req, 400, rm.id, RPC_HEADER_MISMATCH, "header_mismatch", why, NULL, NULL);
  } else if (strcmp(rm.method, "server/discover") == 0) {
    serve_discover(st, req, rm.id, who);
  } else if (routed(rm.method)) {
    serve_session(st, req, &rm, who);
  } else {
    snprintf(why, sizeof why, "method \"%.60s\" is not served%s", rm.method,
             strcmp(rm.method, "initialize") == 0 || strcmp(rm.method, "ping") == 0
                 ? " in this protocol version (it belongs to sessions)"
                 : "");
    refuse(req, 404, rm.id, -32601, sg_err_reason(SG_ENOMETHOD), why,
           json_pack("{s:s}", "method", rm.method), NULL);
  }
  json_decref(msg);
}

/* ---- life ---------------------------------------------------------------------------- */

int sg_stateless_new(sg_gateway_t *gw, sg_stateless_t **out) {
  sg_stateless_t *st = calloc(1, sizeof *st);
  if (st == NULL) return SG_ENOMEM;
  st->gw = gw;
  uv_timer_init(gw->loop, &st->reaper);
  st->reaper.data = st;
  *out = st;
  return 0;
}

static void reaper_closed(uv_handle_t *h) {
  sg_stateless_t *st = h->data;
  void (*done)(void *) = st->done;
  void *arg = st->done_arg;
  free(st);
  if (done) done(arg);
}

void sg_stateless_stop(sg_stateless_t *st, void (*done)(void *arg), void *arg) {
  st->done = done;
  st->done_arg = arg;
  uv_timer_stop(&st->reaper);
  st->reap = NULL;
  /* Each end frees its request (the session is closed synchronously). */
  while (st->live) sreq_end(st->live);
  uv_close((uv_handle_t *)&st->reaper, reaper_closed);
}
