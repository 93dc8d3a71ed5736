/*
 * Verifying one bearer token. The order matters for safety:
 *
 *   1. bound the size and check the shape (three base64url parts) before decoding;
 *   2. decode and read the header ourselves: libjwt 1.10's jwt_decode takes the
 *      algorithm from the header, so handing it a key without checking would let a
 *      token signed "HS256" with an RSA public key's PEM text as the secret pass. The
 *      header's alg must name one accepted algorithm exactly, and it selects keys: by
 *      kid when the header has one (that key's pinned alg must match), otherwise every
 *      key pinned to that alg;
 *   3. check the signature with jwt_decode and the selected key only, then check that
 *      libjwt used the algorithm the key is pinned to;
 *   4. only then look at claims: time, issuer, audience, and the identity.
 *
 * The payload is read by our strict parser (duplicate keys refused), not taken from
 * libjwt, so that the claims used are exactly the bytes the signature covers, read once.
 * Reasons name what is wrong and never quote the token or values taken from it.
 */
#include <errno.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/internal.h"
#include "core/error.h"
#include "json/parse.h"

/* Identity strings end up in logs, the audit and pool keys: keep them short and free of
 * control characters. */
#define MAX_IDENTITY_BYTES 256
#define MAX_ROLES 64

static int refuse(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(char *why, size_t whylen, const char *fmt, ...) {
  if (why && whylen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
  }
  return SG_EAUTH;
}

/* Decodes one part and parses it as a JSON object (a new reference in *out). */
static int decode_json_part(const char *p, size_t len, json_t **out) {
  static const sg_json_limits_t lim = {SG_AUTH_MAX_TOKEN_BYTES, 32};
  unsigned char *raw;
  size_t rawlen;
  *out = NULL;
  int rc = sg__b64url_decode(p, len, &raw, &rawlen);
  if (rc != 0) return rc;
  char err[128];
  rc = sg_json_parse((const char *)raw, rawlen, &lim, out, err, sizeof err);
  free(raw);
  if (rc == 0 && !json_is_object(*out)) {
    json_decref(*out);
    *out = NULL;
    rc = SG_EPARSE;
  }
  return rc;
}

/* The HMAC is compared in constant time here, before libjwt checks it too: libjwt 1.10
 * compares with strcmp (CVE-2024-25189) unless the distribution patched it. */
static int hmac_matches(const sg__auth_key_t *key, const char *signed_part, size_t len,
                        const unsigned char *sig, size_t siglen) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int maclen = 0;
  if (HMAC(EVP_sha256(), key->material, (int)key->len, (const unsigned char *)signed_part, len, mac,
           &maclen) == NULL)
    return 0;
  return maclen == siglen && CRYPTO_memcmp(mac, sig, siglen) == 0;
}

/* 0 when key verifies the token, SG_EAUTH when not, SG_ENOMEM. token is NUL-terminated. */
static int check_signature(const sg__auth_key_t *key, const char *token, size_t signed_len,
                           const unsigned char *sig, size_t siglen) {
  if (siglen != key->sig_len) return SG_EAUTH;
  if (key->alg == SG__AUTH_HS256 && !hmac_matches(key, token, signed_len, sig, siglen))
    return SG_EAUTH;
  jwt_t *jwt = NULL;
  int rc = jwt_decode(&jwt, token, key->material, (int)key->len);
  if (rc == ENOMEM) return SG_ENOMEM;
  int ok = rc == 0 && jwt != NULL && jwt_get_alg(jwt) == sg__auth_jwt_alg(key->alg);
  jwt_free(jwt);
  return ok ? 0 : SG_EAUTH;
}

/* A time claim: absent (0), a number (1, *t set), or not a number (-1). */
static int time_claim(json_t *claims, const char *name, double *t) {
  json_t *v = json_object_get(claims, name);
  if (v == NULL) return 0;
  if (!json_is_number(v)) return -1;
  *t = json_number_value(v);
  return isfinite(*t) ? 1 : -1;
}

static int check_times(const sg_auth_t *a, json_t *claims, int64_t now, int64_t *exp_out, char *why,
                       size_t whylen) {
  double n = (double)now, leeway = (double)a->leeway, t = 0;
  int has = time_claim(claims, "exp", &t);
  if (has == 0) return refuse(why, whylen, "missing claim exp");
  if (has < 0) return refuse(why, whylen, "claim exp is not a number");
  /* RFC 7519: the token must not be accepted on or after exp. */
  if (n >= t + leeway) return refuse(why, whylen, "token expired");
  *exp_out = t >= 9.2e18 ? INT64_MAX : (int64_t)t;
  has = time_claim(claims, "nbf", &t);
  if (has < 0) return refuse(why, whylen, "claim nbf is not a number");
  if (has > 0 && n + leeway < t) return refuse(why, whylen, "token is not valid yet (nbf)");
  has = time_claim(claims, "iat", &t);
  if (has < 0) return refuse(why, whylen, "claim iat is not a number");
  if (has > 0 && t > n + leeway) return refuse(why, whylen, "token issued in the future (iat)");
  return 0;
}

static int check_issuer_audience(const sg_auth_t *a, json_t *claims, char *why, size_t whylen) {
  json_t *iss = json_object_get(claims, "iss");
  if (iss == NULL) return refuse(why, whylen, "missing claim iss");
  if (!json_is_string(iss) || strcmp(json_string_value(iss), a->issuer) != 0)
    return refuse(why, whylen, "issuer mismatch");
  json_t *aud = json_object_get(claims, "aud");
  if (aud == NULL) return refuse(why, whylen, "missing claim aud");
  if (json_is_string(aud))
    return strcmp(json_string_value(aud), a->audience) == 0
               ? 0
               : refuse(why, whylen, "audience mismatch");
  if (!json_is_array(aud))
    return refuse(why, whylen, "claim aud is not a string or an array of strings");
  size_t i;
  json_t *v;
  int found = 0;
  json_array_foreach(aud, i, v) {
    if (!json_is_string(v))
      return refuse(why, whylen, "claim aud is not a string or an array of strings");
    if (strcmp(json_string_value(v), a->audience) == 0) found = 1;
  }
  return found ? 0 : refuse(why, whylen, "audience mismatch");
}

/* Checks an identity string; 0 when usable. */
static int identity_string(json_t *v, const char *name, char *why, size_t whylen) {
  if (!json_is_string(v)) return refuse(why, whylen, "claim %s is not a string", name);
  const char *s = json_string_value(v);
  size_t len = json_string_length(v);
  if (len == 0) return refuse(why, whylen, "claim %s is empty", name);
  if (len > MAX_IDENTITY_BYTES)
    return refuse(why, whylen, "claim %s is longer than %d bytes", name, MAX_IDENTITY_BYTES);
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
      return refuse(why, whylen, "claim %s contains control characters", name);
  return 0;
}

static int take_string(json_t *claims, const char *name, char **out, char *why, size_t whylen) {
  json_t *v = json_object_get(claims, name);
  if (v == NULL) return refuse(why, whylen, "missing claim %s", name);
  int rc = identity_string(v, name, why, whylen);
  if (rc != 0) return rc;
  *out = strdup(json_string_value(v));
  return *out ? 0 : SG_ENOMEM;
}

static int take_roles(json_t *claims, const char *name, sg_identity_t *id, char *why,
                      size_t whylen) {
  json_t *v = json_object_get(claims, name);
  if (v == NULL) return refuse(why, whylen, "missing claim %s", name);
  size_t n = json_is_array(v) ? json_array_size(v) : 1;
  if (!json_is_array(v) && !json_is_string(v))
    return refuse(why, whylen, "claim %s is not a string or an array of strings", name);
  if (n == 0) return refuse(why, whylen, "claim %s names no role", name);
  if (n > MAX_ROLES) return refuse(why, whylen, "claim %s has more than %d roles", name, MAX_ROLES);
  id->roles = calloc(n, sizeof *id->roles);
  if (id->roles == NULL) return SG_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    json_t *r = json_is_array(v) ? json_array_get(v, i) : v;
    int rc = identity_string(r, name, why, whylen);
    if (rc != 0) return rc;
    if ((id->roles[i] = strdup(json_string_value(r))) == NULL) return SG_ENOMEM;
    id->nroles++;
  }
  return 0;
}

static int take_identity(const sg_auth_t *a, json_t *claims, sg_identity_t *id, char *why,
                         size_t whylen) {
  int rc;
  if ((rc = take_string(claims, a->claim_subject, &id->subject, why, whylen)) != 0) return rc;
  if ((rc = take_roles(claims, a->claim_roles, id, why, whylen)) != 0) return rc;
  if ((rc = take_string(claims, a->claim_tenant, &id->tenant, why, whylen)) != 0) return rc;
  return take_string(claims, a->claim_env, &id->env, why, whylen);
}

int sg_auth_verify(const sg_auth_t *a, const char *token, size_t len, int64_t now,
                   sg_identity_t *out, char *why, size_t whylen) {
  memset(out, 0, sizeof *out);
  if (why && whylen) why[0] = '\0';
  if (token == NULL || len == 0) return refuse(why, whylen, "token is empty");
  if (len > SG_AUTH_MAX_TOKEN_BYTES)
    return refuse(why, whylen, "token is longer than %d bytes", SG_AUTH_MAX_TOKEN_BYTES);

  /* 1. Shape: header.payload.signature, base64url only. */
  size_t dots[2], ndots = 0;
  for (size_t i = 0; i < len; i++) {
    if (token[i] == '.') {
      if (ndots == 2) return refuse(why, whylen, "token does not have three parts");
      dots[ndots++] = i;
    } else if (!sg__b64url_char(token[i])) {
      return refuse(why, whylen, "token has characters outside base64url");
    }
  }
  if (ndots != 2) return refuse(why, whylen, "token does not have three parts");
  const char *payload = token + dots[0] + 1, *sigpart = token + dots[1] + 1;
  size_t header_len = dots[0], payload_len = dots[1] - dots[0] - 1;
  size_t sig_len = len - dots[1] - 1;
  if (header_len == 0 || payload_len == 0)
    return refuse(why, whylen, "token header or payload is empty");

  /* 2. Header: algorithm and key selection. */
  json_t *header = NULL, *claims = NULL;
  unsigned char *sig = NULL;
  char *copy = NULL;
  const sg__auth_key_t *cands[64];
  size_t ncands = 0;
  int rc = decode_json_part(token, header_len, &header);
  if (rc == SG_ENOMEM) goto fail;
  if (rc != 0) {
    rc = refuse(why, whylen, "token header is not a base64url-encoded JSON object");
    goto fail;
  }
  json_t *algv = json_object_get(header, "alg");
  if (!json_is_string(algv)) {
    rc = refuse(why, whylen, "token header names no algorithm");
    goto fail;
  }
  if (strcasecmp(json_string_value(algv), "none") == 0) {
    rc = refuse(why, whylen, "algorithm none is not accepted");
    goto fail;
  }
  sg__auth_alg_t alg = sg__auth_alg_parse(json_string_value(algv));
  if (alg == SG__AUTH_NALGS) {
    rc = refuse(why, whylen, "algorithm is not accepted (HS256, RS256 or ES256)");
    goto fail;
  }
  if (json_object_get(header, "crit")) {
    rc = refuse(why, whylen, "critical header parameters are not supported");
    goto fail;
  }
  /* libjwt 1.10 refuses any other typ; say so plainly rather than "signature invalid". */
  json_t *typ = json_object_get(header, "typ");
  if (typ && (!json_is_string(typ) || strcasecmp(json_string_value(typ), "JWT") != 0)) {
    rc = refuse(why, whylen, "token type is not JWT");
    goto fail;
  }
  json_t *kid = json_object_get(header, "kid");
  if (kid && !json_is_string(kid)) {
    rc = refuse(why, whylen, "token key id is not a string");
    goto fail;
  }
  for (size_t i = 0; i < a->nkeys && ncands < sizeof cands / sizeof cands[0]; i++) {
    const sg__auth_key_t *k = &a->keys[i];
    if (kid ? (k->kid && strcmp(k->kid, json_string_value(kid)) == 0) : k->alg == alg)
      cands[ncands++] = k;
  }
  if (ncands == 0) {
    rc = kid ? refuse(why, whylen, "unknown key id")
             : refuse(why, whylen, "no key for algorithm %s", sg__auth_alg_name(alg));
    goto fail;
  }
  if (kid && cands[0]->alg != alg) {
    rc = refuse(why, whylen, "algorithm %s does not match the key, which is pinned to %s",
                sg__auth_alg_name(alg), sg__auth_alg_name(cands[0]->alg));
    goto fail;
  }
  if (sig_len == 0) {
    rc = refuse(why, whylen, "token is not signed");
    goto fail;
  }

  /* The payload is parsed before the signature is checked only so that a malformed one
   * gets its own reason; nothing in it is looked at until the signature holds. */
  rc = decode_json_part(payload, payload_len, &claims);
  if (rc == SG_ENOMEM) goto fail;
  if (rc != 0) {
    rc = refuse(why, whylen, "token payload is not a base64url-encoded JSON object");
    goto fail;
  }
  size_t siglen;
  rc = sg__b64url_decode(sigpart, sig_len, &sig, &siglen);
  if (rc == SG_ENOMEM) goto fail;
  if (rc != 0) {
    rc = refuse(why, whylen, "signature invalid");
    goto fail;
  }

  /* 3. Signature, with the selected keys only. */
  if ((copy = malloc(len + 1)) == NULL) {
    rc = SG_ENOMEM;
    goto fail;
  }
  memcpy(copy, token, len);
  copy[len] = '\0';
  rc = SG_EAUTH;
  for (size_t i = 0; i < ncands && rc == SG_EAUTH; i++)
    rc = check_signature(cands[i], copy, dots[1], sig, siglen);
  if (rc == SG_EAUTH) refuse(why, whylen, "signature invalid");
  if (rc != 0) goto fail;

  /* 4. Claims. */
  if ((rc = check_times(a, claims, now, &out->expires_at, why, whylen)) != 0) goto fail;
  if ((rc = check_issuer_audience(a, claims, why, whylen)) != 0) goto fail;
  if ((rc = take_identity(a, claims, out, why, whylen)) != 0) goto fail;
  out->claims = claims;
  json_decref(header);
  free(sig);
  free(copy);
  return 0;

fail:
  if (rc == SG_ENOMEM) refuse(why, whylen, "out of memory");
  json_decref(header);
  json_decref(claims);
  free(sig);
  free(copy);
  sg_identity_free(out);
  return rc;
}

void sg_identity_free(sg_identity_t *id) {
  if (id == NULL) return;
  free(id->subject);
  for (size_t i = 0; i < id->nroles; i++) free(id->roles[i]);
  free(id->roles);
  free(id->tenant);
  free(id->env);
  json_decref(id->claims);
  memset(id, 0, sizeof *id);
}

int sg_identity_has_role(const sg_identity_t *id, const char *role) {
  for (size_t i = 0; i < id->nroles; i++)
    if (strcmp(id->roles[i], role) == 0) return 1;
  return 0;
}
