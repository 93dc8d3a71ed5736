/*
 * What the auth layer's files share: the loaded configuration, the accepted algorithms
 * and strict base64url. Not for use outside src/auth, except by its tests and fuzzer.
 */
#ifndef SG_AUTH_INTERNAL_H
#define SG_AUTH_INTERNAL_H

#include <jwt.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"

/* The accepted algorithms. Each key is pinned to exactly one. */
typedef enum { SG__AUTH_HS256 = 0, SG__AUTH_RS256, SG__AUTH_ES256, SG__AUTH_NALGS } sg__auth_alg_t;

typedef struct {
  char *kid; /* NULL when the configuration gives none */
  sg__auth_alg_t alg;
  unsigned char *material; /* the HMAC secret, or the PEM text of a public key */
  size_t len;
  size_t sig_len; /* the length every valid signature has with this key */
} sg__auth_key_t;

struct sg_auth {
  char *issuer;
  char *audience;
  int64_t leeway;
  sg__auth_key_t *keys;
  size_t nkeys;
  char *claim_subject, *claim_roles, *claim_tenant, *claim_env;
};

/* "HS256", "RS256" or "ES256". */
const char *sg__auth_alg_name(sg__auth_alg_t alg);
/* The libjwt algorithm for alg. */
jwt_alg_t sg__auth_jwt_alg(sg__auth_alg_t alg);
/* The algorithm named exactly name (case matters), or SG__AUTH_NALGS. */
sg__auth_alg_t sg__auth_alg_parse(const char *name);

/* Whether c may appear in unpadded base64url. */
int sg__b64url_char(char c);
/* Decodes unpadded base64url in[0..len) into a new buffer (caller frees, NUL-terminated
 * for convenience). Refuses padding, characters outside the alphabet, impossible lengths
 * and non-zero trailing bits, so that every byte string has one encoding. */
int sg__b64url_decode(const char *in, size_t len, unsigned char **out, size_t *outlen);
/* Encodes in[0..len) as unpadded base64url (caller frees), or NULL without memory. */
char *sg__b64url_encode(const unsigned char *in, size_t len);

#endif
