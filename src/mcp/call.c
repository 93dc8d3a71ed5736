/*
 * tools/call, the gateway's reason to exist:
 *
 *   decide (pure) ─▶ audit the decision (fail closed) ─▶ deny, or forward under a
 *   gateway-owned id ─▶ map progress back ─▶ answer ─▶ audit the outcome and latency
 *
 * The decision row is committed before anything reaches a downstream server; if it
 * cannot be written the call is refused with audit_unavailable. A call holds a
 * reference to the catalog it was decided under until it ends.
 *
 * A refused or failed call is a JSON-RPC error with the reason code in error.data. An
 * operator may ask (serve --tool-refusals result) for refused tools/call requests to be
 * answered as tool results with isError set instead, the way servers built on the
 * official SDK report their own failures, so that the model reads why; the same reason
 * code then rides in the result's _meta. Either way the call is refused and audited.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/metrics.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "downstream/pool.h"
#include "json/canonical.h"
#include "json/rpc.h"
#include "mcp/call_internal.h"
#include "mcp/session_internal.h"
#include "policy/decide.h"


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
  json_decref(c->params);
  json_decref(c->client_id);
  json_decref(c->progress_token);
  sg_catalog_unref(c->catalog);
  free(c);
}

static void audit_outcome(sg_call_t *c, const char *outcome, const char *reason,
                          const char *detail) {
  int64_t latency = (int64_t)(sg_mono_us() - c->start_us);
  sg_metrics_outcome(c->label, outcome, latency);
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
  if (err < 0) {
    const char *outcome = err == SG_ECANCELLED           ? "cancelled"
                          : err == SG_EDOWNSTREAM_TIMEOUT ? "timeout"
                                                          : "error";
    /* (SG_ETOOL_DRIFT here: the call waited while the tools were listed, and its tool
     * turned out to have drifted; it never reached the downstream.) A cancelled request
     * gets no response: the client has said it no longer wants one. */
    sg__call_end(c, err, outcome, why);
    return;
  }
  call_unlink(c);
  {
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
/* The canonical arguments for people to read, with the values of parameters the catalog
 * marks sensitive replaced by their hashes (caller frees). */
static char *redacted_args(const sg_tool_t *tool, json_t *args) {
  json_t *copy = json_copy(args);
  for (char **p = tool ? tool->sensitive : NULL; p && *p; p++) {
    json_t *v = json_object_get(copy, *p);
    if (v == NULL) continue;
    char h[SG_SHA256_HEX_LEN + 1], text[96];
    sg_json_canonical_hash(v, h);
    snprintf(text, sizeof text, "[redacted sha256:%s]", h);
    json_object_set_new(copy, *p, json_string(text));
  }
  char *out = sg_json_canonical(copy);
  json_decref(copy);
  return out;
}

static json_t *downstream_params(const sg_tool_t *tool, json_t *args) {
  return json_pack("{s:s, s:O}", "name", tool->downstream_name, "arguments", args);
}

/* Answers a refusal of method (the client's request id) with err, message and data
 * (stolen; its "reason" is filled in). */
static void send_refusal(sg_session_t *s, json_t *id, const char *method, int err,
                         const char *message, json_t *data) {
  if (!s->gw->tool_refusals_as_results || method == NULL || strcmp(method, "tools/call") != 0) {
    sg__session_send_error(s, id, err, message, data);
    return;
  }
  if (message == NULL) message = sg_strerror(err);
  json_object_set_new(data, "code", json_integer(sg_err_rpc_code(err)));
  json_object_set_new(data, "reason", json_string(sg_err_reason(err)));
  json_object_set_new(data, "message", json_string(message));
  size_t len = strlen(message) + 96;
  char *text = malloc(len);
  if (text) snprintf(text, len, "%s (refused by the gateway: %s)", message, sg_err_reason(err));
  json_t *result = json_pack("{s:[{s:s, s:s}], s:b, s:{s:o}}", "content", "type", "text", "text",
                             text ? text : message, "isError", 1, "_meta",
                             "io.scopegate/refusal", data);
  free(text);
  sg__session_send(s, sg_rpc_result(id, result));
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
  /* The kill switch: an operator may have turned writes off at runtime, on this gateway or
   * any other sharing the store. Read it for every write; unreadable means off. */
  if (d.allow && d.tool->access == SG_ACCESS_WRITE) {
    int on = 0;
    if (sg_store_writes_enabled(gw->store, &on) != 0 || !on) {
      d.allow = 0;
      d.err = SG_EWRITES_DISABLED;
      snprintf(d.message, sizeof d.message, "write tools are switched off by the operator");
    }
  }
  /* The audit hashes what would be forwarded (the arguments with bound values filled in)
   * and shows them with sensitive values replaced by their hashes. */
  json_t *final_args = d.args ? d.args : args;
  sg_json_canonical_hash(final_args, hash);
  char *args_json = redacted_args(d.tool, final_args);
  sg_call_decision_t cd = {call_id,    json_string_value(name), hash,       d.allow, d.err,
                           d.message,  d.pointer,               d.keyword,  ds,      "tools/call",
                           d.allow ? downstream_params(d.tool, d.args) : NULL,
                           json_object_get(meta, "progressToken"), d.grant, args_json,
                           d.tool ? d.tool->server : NULL};
  sg__call_decided(s, id, &cd);
  free(args_json);
  sg_decision_release(&d);
  json_decref(empty);
}

/* Records the decision; for a grant with a budget, counting and recording happen in one
 * transaction (gateways sharing the store cannot together exceed it). Returns 0, or the
 * error to refuse the call with (cd is then refused and its message updated in msg). */
static int record_decision(sg_session_t *s, const sg_call_decision_t *cd, int *allow) {
  sg_gateway_t *gw = s->gw;
  const sg_grant_t *g = cd->grant;
  const char *reason = !cd->allow                                              ? sg_err_reason(cd->err)
                       : g && g->approval == SG_APPROVAL_REQUIRED ? "approval_required"
                                                                  : "allowed";
  sg_audit_decision_t row = {cd->call_id,        s->principal.subject, s->principal.role,
                             s->principal.tenant, s->principal.env,    cd->label,
                             cd->args_hash,       cd->allow ? "allow" : "deny",
                             reason,              cd->allow ? NULL : cd->message,
                             cd->args_json};
  *allow = cd->allow;
  if (cd->allow && g && g->approval == SG_APPROVAL_AUTO && g->budget_calls > 0) {
    char since[32];
    sg_store_time_iso(-g->budget_window_s * 1000, since);
    char msg[160];
    snprintf(msg, sizeof msg, "the grant allows %lld calls per %lld s for each caller",
             (long long)g->budget_calls, (long long)g->budget_window_s);
    sg_audit_decision_t over = row;
    over.decision = "deny";
    over.reason = sg_err_reason(SG_EBUDGET_EXCEEDED);
    over.detail = msg;
    return sg_store_audit_decision_budgeted(gw->store, &row, &over, since, g->budget_calls, allow);
  }
  return sg_store_audit_decision(gw->store, &row);
}

int sg__call_decided(sg_session_t *s, json_t *id, const sg_call_decision_t *cd) {
  sg_gateway_t *gw = s->gw;
  int allow = 0;
  if (record_decision(s, cd, &allow) != 0) {
    sg_metrics_decision(cd->label, "deny", sg_err_reason(SG_EAUDIT), s->principal.subject);
    sg_error("audit: could not record call %s: %s; refusing it", cd->call_id,
             sg_store_errmsg(gw->store));
    send_refusal(s, id, cd->method, SG_EAUDIT,
                 "the call was refused because the audit log cannot record it",
                 json_pack("{s:s}", "tool", cd->label ? cd->label : ""));
    json_decref(cd->params);
    return 0;
  }
  if (!allow) {
    int err = cd->allow ? SG_EBUDGET_EXCEEDED : cd->err;
    sg_metrics_decision(cd->label, "deny", sg_err_reason(err), s->principal.subject);
    json_t *data = json_pack("{s:s, s:s}", "tool", cd->label ? cd->label : "", "call", cd->call_id);
    if ((cd->pointer && cd->pointer[0]) || (cd->keyword && cd->keyword[0])) {
      json_object_set_new(data, "pointer", json_string(cd->pointer ? cd->pointer : ""));
      json_object_set_new(data, "keyword", json_string(cd->keyword ? cd->keyword : ""));
    }
    char msg[200];
    if (cd->allow)
      snprintf(msg, sizeof msg, "tool \"%.100s\": the call budget of this grant is spent for now",
               cd->label);
    send_refusal(s, id, cd->method, err, cd->allow ? msg : cd->message, data);
    json_decref(cd->params);
    return 0;
  }

  sg_metrics_decision(cd->label, "allow",
                      cd->grant && cd->grant->approval == SG_APPROVAL_REQUIRED ? "approval_required"
                                                                               : "allowed",
                      s->principal.subject);
  sg_call_t *c = calloc(1, sizeof *c);
  c->session = s;
  c->catalog = sg_catalog_ref(gw->catalog);
  snprintf(c->label, sizeof c->label, "%s", cd->label);
  c->client_id = json_incref(id);
  if (cd->progress_token && sg_rpc_valid_id(cd->progress_token))
    c->progress_token = json_incref(cd->progress_token);
  snprintf(c->call_id, sizeof c->call_id, "%s", cd->call_id);
  snprintf(c->args_hash, sizeof c->args_hash, "%s", cd->args_hash);
  c->start_us = sg_mono_us();
  c->method = cd->method;
  c->params = cd->params;
  c->server = cd->server;
  call_link(s, c);
  if (cd->grant && cd->grant->approval == SG_APPROVAL_REQUIRED) {
    sg__approval_hold(c, cd->grant, cd->args_json);
    return 1;
  }
  sg__call_forward(c, cd->ds);
  return 1;
}

void sg__call_forward(sg_call_t *c, sg_downstream_t *ds) {
  json_t *params = c->params;
  c->params = NULL;
  int rc = ds ? sg_downstream_request(ds, c->method, params, on_response,
                                      c->progress_token ? on_progress : NULL, c, &c->req)
              : SG_EDOWNSTREAM;
  if (rc != 0) {
    if (ds == NULL) json_decref(params);
    char why[256];
    snprintf(why, sizeof why, "downstream server \"%s\" cannot take the call: %s",
             ds ? sg_downstream_name(ds) : (c->server ? c->server->name : "?"), sg_strerror(rc));
    sg__call_end(c, SG_EDOWNSTREAM, "error", why);
  }
}

void sg__call_end(sg_call_t *c, int err, const char *outcome, const char *why) {
  sg_session_t *s = c->session;
  call_unlink(c);
  audit_outcome(c, outcome, sg_err_reason(err), why);
  if (err != SG_ECANCELLED)
    send_refusal(s, c->client_id, c->method, err, why,
                 json_pack("{s:s, s:s}", "tool", c->label, "call", c->call_id));
  call_free(c);
}

void sg__call_cancel(sg_session_t *s, json_t *request_id, const char *reason) {
  for (sg_call_t *c = s->calls; c; c = c->next)
    if (json_equal(c->client_id, request_id)) {
      /* Forwarded: tell the downstream (runs on_response, which frees c); waiting: withdraw
       * the approval. */
      if (c->req) sg_downstream_cancel(c->req, reason);
      else sg__approval_withdraw(c, reason);
      return;
    }
}

void sg__call_cancel_all(sg_session_t *s) {
  while (s->calls) {
    if (s->calls->req) sg_downstream_cancel(s->calls->req, "the client disconnected");
    else sg__approval_withdraw(s->calls, "the client disconnected");
  }
}
