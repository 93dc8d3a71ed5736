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
  int templated = (ref->lead && ref->lead[0]) || (ref->suffix && ref->suffix[0]);
  switch (ref->kind) {
    case SG_CTX_SUBJECT: s = who->subject; break;
    case SG_CTX_ROLE: s = who->role; break;
    case SG_CTX_TENANT: s = who->tenant; break;
    case SG_CTX_ENV: s = who->env; break;
    case SG_CTX_CLAIM: {
      json_t *v = claim_at(who->claims, ref->claim);
      if (v == NULL) return NULL;
      if (!templated) return json_incref(v);
      if (!json_is_string(v)) return NULL;
      s = json_string_value(v);
      break;
    }
  }
  if (s == NULL) return NULL;
  if (!templated) return json_string(s);
  const char *lead = ref->lead ? ref->lead : "", *suffix = ref->suffix ? ref->suffix : "";
  size_t a = strlen(lead), b = strlen(s), c = strlen(suffix);
  char buf[1024];
  if (a + b + c + 1 > sizeof buf) return NULL;
  memcpy(buf, lead, a);
  memcpy(buf + a, s, b);
  memcpy(buf + a + b, suffix, c + 1);
  return json_string(buf);
}

void sg_ctx_describe(const sg_ctxref_t *ref, char *out, size_t outlen) {
  static const char *const names[] = {"", "$subject", "$role", "$tenant", "$env", "$claims."};
  snprintf(out, outlen, "%s%s%s%s", ref->lead ? ref->lead : "", names[ref->kind],
           ref->kind == SG_CTX_CLAIM ? ref->claim : "", ref->suffix ? ref->suffix : "");
}
