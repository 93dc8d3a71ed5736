/*
 * Tables derived from SG_ERRNO_MAP: message, reason code and JSON-RPC code per error.
 */
#include "core/error.h"

#include <stddef.h>

struct err_info {
  const char *reason;
  int rpc;
  const char *msg;
};

static const struct err_info infos[] = {
#define XX(name, reason, rpc, msg) {reason, rpc, msg},
    SG_ERRNO_MAP(XX)
#undef XX
};

static const struct err_info *lookup(int err) {
  if (err <= SG__ERR_FIRST || err >= SG__ERR_LAST) return NULL;
  return &infos[err - SG__ERR_FIRST - 1];
}

const char *sg_strerror(int err) {
  const struct err_info *i = lookup(err);
  return i ? i->msg : "unknown error";
}

const char *sg_err_reason(int err) {
  const struct err_info *i = lookup(err);
  return i ? i->reason : "internal_error";
}

int sg_err_rpc_code(int err) {
  const struct err_info *i = lookup(err);
  return i ? i->rpc : -32603;
}
