/*
 * Bearer-token verification: turns a JWT into an identity (subject, roles, tenant,
 * environment and the whole verified payload), so that who is calling comes from a
 * signature the operator's keys vouch for, never from anything a client or a model says.
 *
 * Ownership: sg_auth_load returns an sg_auth_t that the caller releases with
 * sg_auth_free; it is immutable once loaded, so threads may verify with it at once.
 * sg_auth_verify fills an sg_identity_t that owns its strings and one reference to the
 * verified payload; sg_identity_free releases them. A principal borrows from an
 * identity and must not outlive it.
 *
 * The configuration is a JSON file the operator owns:
 *
 *   { "issuer": "https://idp.example.com",   required; iss must equal it
 *     "audience": "scopegate",                required; aud (string or array) must hold it
 *     "leeway_seconds": 30,                   optional, 0..300, default 30
 *     "keys": [ { "kid": "hs-1", "alg": "HS256", "file": "secrets/hs.key" },
 *               { "alg": "RS256", "file": "keys/rs.pub.pem" },
 *               { "alg": "ES256", "file": "keys/es.pub.pem" } ],
 *     "claims": { "subject": "sub", "roles": "roles", "tenant": "tenant", "env": "env" } }
 *
 * Unknown fields and duplicate keys are errors. "kid" is optional; "file" is relative to
 * the configuration file's directory. An HS256 key is the file's bytes exactly (a
 * trailing newline is part of the secret), at least 32 of them, in a file that group and
 * others cannot access. RS256 and ES256 keys are PEM public keys ("BEGIN PUBLIC KEY"):
 * RSA of at least 2048 bits, EC on P-256. "claims" renames the claims the identity is
 * read from (top-level names only).
 */
#ifndef SG_AUTH_AUTH_H
#define SG_AUTH_AUTH_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Tokens longer than this are refused before any decoding. */
#define SG_AUTH_MAX_TOKEN_BYTES 16384

typedef struct sg_auth sg_auth_t;

/* Loads and checks the configuration at config_path and every key it names. On failure
 * returns SG_EIO (a file cannot be read), SG_EPARSE (not JSON, or duplicate keys) or
 * SG_EINVAL, leaves *out NULL and writes into errbuf one line per problem, each naming
 * the file and a JSON Pointer to the field. */
int sg_auth_load(const char *config_path, sg_auth_t **out, char *errbuf, size_t errlen);
void sg_auth_free(sg_auth_t *a);

/* The configured issuer and audience, borrowed from a: what a protected resource's
 * metadata names, and what a token must be issued by and for. */
const char *sg_auth_issuer(const sg_auth_t *a);
const char *sg_auth_audience(const sg_auth_t *a);

typedef struct {
  char *subject;
  char **roles; /* nroles >= 1 */
  size_t nroles;
  char *tenant;
  char *env;
  int64_t expires_at; /* the token's exp, in seconds since the epoch */
  json_t *claims;     /* the whole verified payload (owned reference) */
} sg_identity_t;

/* Verifies token[0..len) at time now (seconds since the epoch; passed in so callers and
 * tests control the clock). Returns 0 and fills *out, or returns SG_EAUTH (SG_ENOMEM
 * when memory runs out) with *out zeroed and a short reason in why that a person can act
 * on, e.g. "token expired" or "missing claim tenant". The reason never quotes the token. */
int sg_auth_verify(const sg_auth_t *a, const char *token, size_t len, int64_t now,
                   sg_identity_t *out, char *why, size_t whylen);

/* Releases what sg_auth_verify put in id and zeroes it; safe on a zeroed identity. */
void sg_identity_free(sg_identity_t *id);

/* Whether role is one of the identity's roles. */
int sg_identity_has_role(const sg_identity_t *id, const char *role);

#endif
