/*
 * tools/call, the gateway's reason to exist:
 *
 *   decide (pure) ─▶ audit the decision (fail closed) ─▶ deny, or forward under a
 *   gateway-owned id ─▶ map progress back ─▶ answer ─▶ audit the outcome and latency
 *
 * The decision row is committed before anything reaches a downstream server; if it
 * cannot be written the call is refused with audit_unavailable. A call holds a
 * reference to the catalog it was decided under until it ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "downstream/pool.h"
#include "json/canonical.h"
#include "json/rpc.h"
#include "mcp/session_internal.h"
#include "policy/decide.h"

struct sg_call {
  sg_call_t *prev, *next;
  sg_session_t *session;
  sg_catalog_t *catalog;
  char label[160];        /* what the audit calls it: the tool, "resource:URI", "prompt:NAME" */
  json_t *client_id;
  json_t *progress_token; /* the client's, or NULL */
  char call_id[48];
  uint64_t start_us;
  sg_ds_request_t *req;
};

static void call_link(sg_session_t *s, sg_call_t *c) {
  c->prev = NULL;
  c->next = s->calls;
  if (s->calls) s->calls->prev = c;
  s->calls = c;
}

static void call_unlink(sg_call_t *c) {
  sg_session_t *s = c->session;
  if (c->prev) c->prev->next = c->next;
  else s->calls = c->next;
  if (c->next) c->next->prev = c->prev;
}

static void call_free(sg_call_t *c) {
  json_decref(c->client_id);
  json_decref(c->progress_token);
  sg_catalog_unref(c->catalog);
  free(c);
}

static void audit_outcome(sg_call_t *c, const char *outcome, const char *reason,
                          const char *detail) {
  int64_t latency = (int64_t)(sg_mono_us() - c->start_us);
  sg_gateway_audit_outcome(c->session->gw, c->call_id, c->label, outcome, reason, latency,
                           detail);
}

static void on_progress(void *ctx, json_t *params) {
  sg_call_t *c = ctx;
  if (c->progress_token == NULL) return;
  json_t *p = json_deep_copy(params);
  json_object_set(p, "progressToken", c->progress_token);
  sg__session_send(c->session, sg_rpc_notification("notifications/progress", p));
}

static void on_response(void *ctx, int err, json_t *response, const char *why) {
  sg_call_t *c = ctx;
  sg_session_t *s = c->session;
  call_unlink(c);
  if (err < 0) {
    const char *outcome = err == SG_ECANCELLED           ? "cancelled"
                          : err == SG_EDOWNSTREAM_TIMEOUT ? "timeout"
                                                          : "error";
    /* (SG_ETOOL_DRIFT here: the call waited while the tools were listed, and its tool
     * turned out to have drifted; it never reached the downstream.) */
    audit_outcome(c, outcome, sg_err_reason(err), why);
    /* A cancelled request gets no response: the client has said it no longer wants one. */
    if (err != SG_ECANCELLED)
      sg__session_send_error(s, c->client_id, err, why, json_pack("{s:s}", "tool", c->label));
  } else {
    json_t *result = json_object_get(response, "result");
    json_t *error = json_object_get(response, "error");
    if (result) {
      int tool_error = json_is_true(json_object_get(result, "isError"));
      audit_outcome(c, tool_error ? "tool_error" : "ok", tool_error ? "tool_error" : "ok", NULL);
      sg__session_send(s, sg_rpc_result(c->client_id, json_incref(result)));
    } else {
      const char *msg = json_string_value(json_object_get(error, "message"));
      json_t *code = json_object_get(error, "code");
      audit_outcome(c, "error", "downstream_error", msg);
      json_t *e = sg_rpc_error(c->client_id, json_is_integer(code) ? (int)json_integer_value(code) : -32603,
                               msg ? msg : "downstream error", NULL);
      json_t *data = json_object_get(error, "data");
      if (data) json_object_set(json_object_get(e, "error"), "data", data);
      sg__session_send(s, e);
    }
  }
  call_free(c);
}

/* Builds the downstream tools/call params: the downstream's own tool name, the checked
 * arguments, and no client _meta (a progress token is attached by the downstream layer
 * under a gateway-owned value). */
static json_t *downstream_params(const sg_tool_t *tool, json_t *args) {
  return json_pack("{s:s, s:O}", "name", tool->downstream_name, "arguments", args);
}

void sg__call_id(sg_session_t *s, char out[48]) {
  snprintf(out, 48, "%s-%llu", s->gw->instance, (unsigned long long)++s->gw->next_call);
}

void sg__call_start(sg_session_t *s, json_t *id, json_t *params) {
  sg_gateway_t *gw = s->gw;
  json_t *name = json_object_get(params, "name");
  json_t *args = json_object_get(params, "arguments");
  json_t *meta = json_object_get(params, "_meta");
  char call_id[48];
  sg__call_id(s, call_id);

  json_t *empty = NULL;
  if (args == NULL) args = empty = json_object();
  char hash[SG_SHA256_HEX_LEN + 1] = "";
  sg_json_canonical_hash(args, hash);
  sg_audit_decision_t row = {call_id, s->principal.subject, s->principal.role,
                             s->principal.tenant, s->principal.env,
                             json_string_value(name), hash, "deny", NULL, NULL};

  if (!json_is_string(name) || !json_is_object(args) || (meta && !json_is_object(meta))) {
    const char *why = !json_is_string(name)    ? "tools/call needs a \"name\" string"
                      : !json_is_object(args) ? "\"arguments\" must be an object"
                                              : "\"_meta\" must be an object";
    row.reason = sg_err_reason(SG_EBADPARAMS);
    row.detail = why;
    int rc = sg_store_audit_decision(gw->store, &row);
    sg__session_send_error(s, id, rc ? SG_EAUDIT : SG_EBADPARAMS, why, NULL);
    json_decref(empty);
    return;
  }

  sg_decision_t d;
  sg_policy_decide(gw->catalog, &s->principal, json_string_value(name), args, &d);
  /* What the policy allows still needs a downstream instance for this tenant and env
   * (with its credentials) and a tool that has not drifted from its pin. */
  sg_downstream_t *ds = NULL;
  if (d.allow) {
    char why[256];
    const char *drift;
    if (sg_pool_get(gw->pool, d.tool->server, s->principal.tenant, s->principal.env, &ds, why,
                    sizeof why) != 0) {
      d.allow = 0;
      d.err = SG_EDOWNSTREAM;
      snprintf(d.message, sizeof d.message, "%s", why);
    } else if ((drift = sg_downstream_quarantined(ds, d.tool->downstream_name)) != NULL) {
      d.allow = 0;
      d.err = SG_ETOOL_DRIFT;
      snprintf(d.message, sizeof d.message,
               "tool \"%.100s\" is quarantined: %.200s; the catalog's pin must be reviewed",
               d.tool->name, drift);
    }
  }
  /* The audit hashes what would be forwarded: the arguments with bound values filled in. */
  if (d.args) sg_json_canonical_hash(d.args, hash);
  sg_call_decision_t cd = {call_id,    json_string_value(name), hash,       d.allow, d.err,
                           d.message,  d.pointer,               d.keyword,  ds,      "tools/call",
                           d.allow ? downstream_params(d.tool, d.args) : NULL,
                           json_object_get(meta, "progressToken")};
  sg__call_decided(s, id, &cd);
  sg_decision_release(&d);
  json_decref(empty);
}

void sg__call_decided(sg_session_t *s, json_t *id, const sg_call_decision_t *cd) {
  sg_gateway_t *gw = s->gw;
  sg_audit_decision_t row = {cd->call_id,       s->principal.subject, s->principal.role,
                             s->principal.tenant, s->principal.env,   cd->label,
                             cd->args_hash,     cd->allow ? "allow" : "deny",
                             cd->allow ? "allowed" : sg_err_reason(cd->err),
                             cd->allow ? NULL : cd->message};
  if (sg_store_audit_decision(gw->store, &row) != 0) {
    sg_error("audit: could not record call %s: %s; refusing it", cd->call_id,
             sg_store_errmsg(gw->store));
    sg__session_send_error(s, id, SG_EAUDIT,
                           "the call was refused because the audit log cannot record it", NULL);
    json_decref(cd->params);
    return;
  }
  if (!cd->allow) {
    json_t *data = json_pack("{s:s, s:s}", "tool", cd->label ? cd->label : "", "call", cd->call_id);
    if ((cd->pointer && cd->pointer[0]) || (cd->keyword && cd->keyword[0])) {
      json_object_set_new(data, "pointer", json_string(cd->pointer ? cd->pointer : ""));
      json_object_set_new(data, "keyword", json_string(cd->keyword ? cd->keyword : ""));
    }
    sg__session_send_error(s, id, cd->err, cd->message, data);
    json_decref(cd->params);
    return;
  }

  sg_call_t *c = calloc(1, sizeof *c);
  c->session = s;
  c->catalog = sg_catalog_ref(gw->catalog);
  snprintf(c->label, sizeof c->label, "%s", cd->label);
  c->client_id = json_incref(id);
  if (cd->progress_token && sg_rpc_valid_id(cd->progress_token))
    c->progress_token = json_incref(cd->progress_token);
  snprintf(c->call_id, sizeof c->call_id, "%s", cd->call_id);
  c->start_us = sg_mono_us();

  int rc = sg_downstream_request(cd->ds, cd->method, cd->params, on_response,
                                 c->progress_token ? on_progress : NULL, c, &c->req);
  if (rc != 0) {
    char why[256];
    snprintf(why, sizeof why, "downstream server \"%s\" cannot take the call: %s",
             sg_downstream_name(cd->ds), sg_strerror(rc));
    audit_outcome(c, "error", sg_err_reason(SG_EDOWNSTREAM), why);
    sg__session_send_error(s, id, SG_EDOWNSTREAM, why, NULL);
    call_free(c);
    return;
  }
  call_link(s, c);
}

void sg__call_cancel(sg_session_t *s, json_t *request_id, const char *reason) {
  for (sg_call_t *c = s->calls; c; c = c->next)
    if (json_equal(c->client_id, request_id)) {
      sg_downstream_cancel(c->req, reason); /* runs on_response, which frees c */
      return;
    }
}

void sg__call_cancel_all(sg_session_t *s) {
  while (s->calls) sg_downstream_cancel(s->calls->req, "the client disconnected");
}
