/*
 * JSON-RPC 2.0 messages as MCP uses them: classification of incoming messages, and
 * builders for responses and errors. Builders steal the references they are given for
 * results, params and data (jansson's _new convention) and borrow ids.
 */
#ifndef SG_JSON_RPC_H
#define SG_JSON_RPC_H

#include <jansson.h>

#include "core/buf.h"

typedef enum {
  SG_MSG_REQUEST,
  SG_MSG_NOTIFICATION,
  SG_MSG_RESULT,
  SG_MSG_ERROR
} sg_msg_kind_t;

typedef struct {
  sg_msg_kind_t kind;
  const char *method; /* requests and notifications */
  json_t *id;         /* borrowed; requests and responses (may be JSON null in errors) */
  json_t *params;     /* borrowed; NULL when absent */
  json_t *result;     /* borrowed; results */
  json_t *error;      /* borrowed; errors */
} sg_rpc_msg_t;

/* Classifies msg. Returns 0, SG_EBATCH for an array, or SG_EBADREQ with a reason in
 * errbuf. When the message is a malformed request whose id is still usable, m->id is set
 * so the caller can answer it. */
int sg_rpc_classify(json_t *msg, sg_rpc_msg_t *m, char *errbuf, size_t errlen);

/* {"jsonrpc":"2.0","id":id,"result":result} */
json_t *sg_rpc_result(json_t *id, json_t *result);
/* {"jsonrpc":"2.0","id":id|null,"error":{"code":code,"message":message,"data":data?}} */
json_t *sg_rpc_error(json_t *id, int code, const char *message, json_t *data);
/* {"jsonrpc":"2.0","method":method,"params":params?} and with "id" for requests. */
json_t *sg_rpc_notification(const char *method, json_t *params);
json_t *sg_rpc_request(json_t *id, const char *method, json_t *params);

/* Appends v as one compact line ending in '\n'. */
int sg_json_dump_line(const json_t *v, sg_buf_t *out);

/* True when id is a valid MCP request id: a string or an integer. */
int sg_rpc_valid_id(const json_t *id);

#endif
