/*
 * Error codes shared by every layer. Each code is defined once in SG_ERRNO_MAP with
 * the stable reason string that clients and the audit see, the JSON-RPC error code a
 * client receives when the error ends a request, and a default message. Functions
 * return 0 on success or a negative SG_E* code.
 */
#ifndef SG_CORE_ERROR_H
#define SG_CORE_ERROR_H

/* XX(NAME, reason, jsonrpc_code, message) */
#define SG_ERRNO_MAP(XX)                                                              \
  XX(NOMEM, "out_of_memory", -32603, "out of memory")                                 \
  XX(IO, "io_error", -32603, "input/output error")                                    \
  XX(INVAL, "invalid_value", -32603, "invalid value")                                 \
  XX(PARSE, "parse_error", -32700, "message is not valid JSON")                       \
  XX(TOOBIG, "message_too_large", -32600, "message exceeds the size limit")           \
  XX(TOODEEP, "nesting_too_deep", -32600, "message nesting exceeds the depth limit")  \
  XX(BATCH, "batch_refused", -32600, "JSON-RPC batches are not accepted")             \
  XX(BADREQ, "invalid_request", -32600, "not a valid JSON-RPC 2.0 request")           \
  XX(NOMETHOD, "method_not_found", -32601, "method not found")                        \
  XX(BADPARAMS, "invalid_params", -32602, "invalid params")                           \
  XX(NOTINIT, "not_initialized", -32600, "session is not initialized")                \
  XX(UNKNOWN_TOOL, "unknown_tool", -32602, "unknown tool")                            \
  XX(UNKNOWN_PROMPT, "unknown_prompt", -32602, "unknown prompt")                      \
  XX(NOT_GRANTED, "not_granted", -32003, "not granted to this role")                  \
  XX(WRITES_DISABLED, "writes_disabled", -32003, "write tools are disabled")          \
  XX(INVALID_ARGS, "invalid_arguments", -32602, "arguments do not match the schema")  \
  XX(OUTSIDE_ENVELOPE, "outside_envelope", -32003, "an argument is outside the envelope") \
  XX(TOOL_DRIFT, "tool_drift", -32003,                                                \
     "the downstream tool no longer matches its reviewed pin")                         \
  XX(CONTEXT_MISMATCH, "context_mismatch", -32003,                                    \
     "an argument contradicts the caller's context")                                   \
  XX(APPROVAL_DENIED, "approval_denied", -32003, "an approver denied the call")       \
  XX(APPROVAL_TIMEOUT, "approval_timeout", -32003, "no approver acted in time")       \
  XX(APPROVAL_CANCELLED, "approval_cancelled", -32003, "the approval was cancelled")  \
  XX(BUDGET_EXCEEDED, "budget_exceeded", -32003, "the grant's call budget is spent")  \
  XX(AUDIT, "audit_unavailable", -32003, "the audit store cannot record the call")    \
  XX(DOWNSTREAM, "downstream_unavailable", -32002, "downstream server is unavailable") \
  XX(DOWNSTREAM_TIMEOUT, "downstream_timeout", -32002, "downstream server timed out") \
  XX(CATALOG, "catalog_invalid", -32603, "catalog is invalid")                        \
  XX(SCHEMA, "schema_invalid", -32603, "schema cannot be compiled")                   \
  XX(CANCELLED, "cancelled", -32800, "request cancelled")                             \
  XX(SHUTDOWN, "shutting_down", -32002, "gateway is shutting down")                   \
  XX(AUTH, "unauthenticated", -32001, "the bearer token was refused")

typedef enum {
  SG__ERR_FIRST = -1000,
#define XX(name, reason, rpc, msg) SG_E##name,
  SG_ERRNO_MAP(XX)
#undef XX
  SG__ERR_LAST
} sg_errno_t;

/* A static description of err (never NULL). */
const char *sg_strerror(int err);
/* The stable reason code for err, e.g. "not_granted" (never NULL). */
const char *sg_err_reason(int err);
/* The JSON-RPC error code a client receives for err. */
int sg_err_rpc_code(int err);

#endif
