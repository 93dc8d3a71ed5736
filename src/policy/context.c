/*
 * Context reference resolution.
 */
#include "policy/context.h"

#include <stdio.h>
#include <string.h>

static json_t *claim_at(json_t *claims, const char *path) {
  json_t *v = claims;
  char seg[128];
  while (v && *path) {
    const char *dot = strchr(path, '.');
    size_t n = dot ? (size_t)(dot - path) : strlen(path);
    if (n >= sizeof seg) return NULL;
    memcpy(seg, path, n);
    seg[n] = '\0';
    v = json_is_object(v) ? json_object_get(v, seg) : NULL;
    path += n + (dot ? 1 : 0);
  }
  return v;
}

json_t *sg_ctx_resolve(const sg_ctxref_t *ref, const sg_principal_t *who) {
  const char *s = NULL;
  switch (ref->kind) {
    case SG_CTX_SUBJECT: s = who->subject; break;
    case SG_CTX_ROLE: s = who->role; break;
    case SG_CTX_TENANT: s = who->tenant; break;
    case SG_CTX_ENV: s = who->env; break;
    case SG_CTX_CLAIM: {
      json_t *v = claim_at(who->claims, ref->claim);
      if (v == NULL) return NULL;
      if (ref->suffix == NULL || ref->suffix[0] == '\0') return json_incref(v);
      if (!json_is_string(v)) return NULL;
      s = json_string_value(v);
      break;
    }
  }
  if (s == NULL) return NULL;
  if (ref->suffix == NULL || ref->suffix[0] == '\0') return json_string(s);
  size_t a = strlen(s), b = strlen(ref->suffix);
  char buf[1024];
  if (a + b + 1 > sizeof buf) return NULL;
  memcpy(buf, s, a);
  memcpy(buf + a, ref->suffix, b + 1);
  return json_string(buf);
}

void sg_ctx_describe(const sg_ctxref_t *ref, char *out, size_t outlen) {
  static const char *const names[] = {"", "$subject", "$role", "$tenant", "$env", "$claims."};
  snprintf(out, outlen, "%s%s%s", names[ref->kind], ref->kind == SG_CTX_CLAIM ? ref->claim : "",
           ref->suffix ? ref->suffix : "");
}
