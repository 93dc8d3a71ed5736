/*
 * JSON-RPC 2.0 classification and builders. MCP narrows JSON-RPC: ids are strings or
 * integers (never null), and params, when present, are objects.
 */
#include "json/rpc.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"

int sg_rpc_valid_id(const json_t *id) { return json_is_string(id) || json_is_integer(id); }

static int fail(char *errbuf, size_t errlen, const char *why) {
  snprintf(errbuf, errlen, "%s", why);
  return SG_EBADREQ;
}

int sg_rpc_classify(json_t *msg, sg_rpc_msg_t *m, char *errbuf, size_t errlen) {
  memset(m, 0, sizeof *m);
  if (json_is_array(msg)) return SG_EBATCH;
  if (!json_is_object(msg)) return fail(errbuf, errlen, "message is not a JSON object");
  json_t *id = json_object_get(msg, "id");
  if (id && sg_rpc_valid_id(id)) m->id = id;
  const char *version = json_string_value(json_object_get(msg, "jsonrpc"));
  if (version == NULL || strcmp(version, "2.0") != 0)
    return fail(errbuf, errlen, "\"jsonrpc\" must be \"2.0\"");
  json_t *method = json_object_get(msg, "method");
  if (method) {
    if (!json_is_string(method)) return fail(errbuf, errlen, "\"method\" must be a string");
    m->method = json_string_value(method);
    m->params = json_object_get(msg, "params");
    if (m->params && !json_is_object(m->params))
      return fail(errbuf, errlen, "\"params\" must be an object");
    if (id == NULL) {
      m->kind = SG_MSG_NOTIFICATION;
      return 0;
    }
    if (!sg_rpc_valid_id(id)) return fail(errbuf, errlen, "\"id\" must be a string or an integer");
    m->kind = SG_MSG_REQUEST;
    return 0;
  }
  json_t *result = json_object_get(msg, "result");
  json_t *error = json_object_get(msg, "error");
  if (id == NULL || (result == NULL) == (error == NULL))
    return fail(errbuf, errlen, "message is neither a request, a notification nor a response");
  if (!sg_rpc_valid_id(id) && !(error && json_is_null(id)))
    return fail(errbuf, errlen, "response \"id\" must be a string or an integer");
  m->id = id;
  if (result) {
    m->kind = SG_MSG_RESULT;
    m->result = result;
  } else {
    if (!json_is_object(error)) return fail(errbuf, errlen, "\"error\" must be an object");
    m->kind = SG_MSG_ERROR;
    m->error = error;
  }
  return 0;
}

json_t *sg_rpc_result(json_t *id, json_t *result) {
  return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", result);
}

json_t *sg_rpc_error(json_t *id, int code, const char *message, json_t *data) {
  json_t *err = json_pack("{s:i, s:s}", "code", code, "message", message);
  if (err && data) json_object_set_new(err, "data", data);
  else if (data) json_decref(data);
  return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(), "error",
                   err);
}

json_t *sg_rpc_notification(const char *method, json_t *params) {
  json_t *n = json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", method);
  if (n && params) json_object_set_new(n, "params", params);
  else if (params) json_decref(params);
  return n;
}

json_t *sg_rpc_request(json_t *id, const char *method, json_t *params) {
  json_t *r = sg_rpc_notification(method, params);
  if (r) json_object_set(r, "id", id);
  return r;
}

int sg_json_dump_line(const json_t *v, sg_buf_t *out) {
  /* Dump straight into the buffer's free space; only a message larger than that space
   * needs a second pass. */
  int rc = sg_buf_reserve(out, 4096);
  if (rc) return rc;
  size_t room = out->cap - out->len - 1;
  size_t need = json_dumpb(v, out->data + out->len, room, JSON_COMPACT | JSON_ENCODE_ANY);
  if (need == 0) return SG_ENOMEM;
  if (need >= room) {
    if ((rc = sg_buf_reserve(out, need + 1)) != 0) return rc;
    json_dumpb(v, out->data + out->len, need, JSON_COMPACT | JSON_ENCODE_ANY);
  }
  out->len += need;
  out->data[out->len++] = '\n';
  out->data[out->len] = '\0';
  return 0;
}
