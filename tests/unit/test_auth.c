/*
 * Unit tests for src/auth: bearer tokens signed with HS256, RS256 and ES256 keys are
 * accepted and give the identity they carry; every way a token can be wrong (time,
 * issuer, audience, algorithm confusion, tampering, unknown key, missing or mistyped
 * claims, malformed bytes) is refused with a reason that does not quote the token; and
 * a configuration with a problem is refused, naming the field. EC keys are generated at
 * test time; the RSA key is a checked-in test key (generating one is slow under
 * valgrind). Tokens are built here by hand (base64url plus libcrypto) so that the broken
 * ones can be built too.
 */
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/auth.h"
#include "core/error.h"
#include "fixtures.h"
#include "runner.h"

#define NOW 1700000000LL
#define ISS "https://idp.example.com"

/* Keys and the configuration directory of one test. */
typedef struct {
  const char *dir;
  unsigned char hs[48];  /* the HMAC secret in hs.key */
  EVP_PKEY *rs, *es;     /* private keys whose public halves are rs.pub.pem, es.pub.pem */
  char *rs_pem, *es_pem; /* the public PEM texts */
} fx_auth_t;

enum { WITH_RS = 1, WITH_ES = 2 };

static char *pem_public(EVP_PKEY *pk) {
  BIO *b = BIO_new(BIO_s_mem());
  CHECK(PEM_write_bio_PUBKEY(b, pk) == 1);
  char *data;
  long n = BIO_get_mem_data(b, &data);
  char *copy = strndup(data, (size_t)n);
  BIO_free(b);
  return copy;
}

/* The checked-in RSA test key (see tests/unit/keys/README.md). */
static EVP_PKEY *rsa_test_key(void) {
  char path[512];
  sg_test_path("unit/keys/rs256-test.pem", path, sizeof path);
  FILE *f = fopen(path, "r");
  CHECK(f != NULL);
  EVP_PKEY *pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
  fclose(f);
  CHECK(pk != NULL);
  return pk;
}

static void write_secret(const char *dir, const char *rel, const void *data, size_t len,
                         mode_t mode) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  CHECK(fwrite(data, 1, len, f) == len);
  fclose(f);
  CHECK(chmod(path, mode) == 0);
}

/* A directory with hs.key (HS256, kid hs-1) and, on request, rs.pub.pem (RS256, kid
 * rs-1) and es.pub.pem (ES256, no kid), and auth.json naming them. */
static fx_auth_t *fx_auth(int with) {
  static fx_auth_t fx;
  memset(&fx, 0, sizeof fx);
  fx.dir = fx_tmpdir();
  for (size_t i = 0; i < sizeof fx.hs; i++) fx.hs[i] = (unsigned char)(i * 37 + 11);
  write_secret(fx.dir, "hs.key", fx.hs, sizeof fx.hs, 0600);
  char keys[1024];
  snprintf(keys, sizeof keys, "{\"kid\":\"hs-1\",\"alg\":\"HS256\",\"file\":\"hs.key\"}");
  if (with & WITH_RS) {
    fx.rs = rsa_test_key();
    CHECK(fx.rs != NULL);
    fx.rs_pem = pem_public(fx.rs);
    fx_write(fx.dir, "rs.pub.pem", fx.rs_pem);
    strcat(keys, ",{\"kid\":\"rs-1\",\"alg\":\"RS256\",\"file\":\"rs.pub.pem\"}");
  }
  if (with & WITH_ES) {
    fx.es = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    CHECK(fx.es != NULL);
    fx.es_pem = pem_public(fx.es);
    fx_write(fx.dir, "es.pub.pem", fx.es_pem);
    strcat(keys, ",{\"alg\":\"ES256\",\"file\":\"es.pub.pem\"}");
  }
  char config[2048];
  snprintf(config, sizeof config,
           "{\"issuer\":\"" ISS "\",\"audience\":\"scopegate\",\"keys\":[%s]}", keys);
  fx_write(fx.dir, "auth.json", config);
  return &fx;
}

static sg_auth_t *load(const char *dir) {
  char path[512], err[1024];
  snprintf(path, sizeof path, "%s/auth.json", dir);
  sg_auth_t *a = NULL;
  int rc = sg_auth_load(path, &a, err, sizeof err);
  if (rc != 0) fprintf(stderr, "%s\n", err);
  CHECK_INT_EQ(rc, 0);
  return a;
}

/* Loads dir/auth.json, expects failure, and returns the problem text (static). */
static const char *load_fails(const char *dir) {
  static char err[2048];
  char path[512];
  snprintf(path, sizeof path, "%s/auth.json", dir);
  sg_auth_t *a = (sg_auth_t *)&err; /* must be reset to NULL */
  CHECK(sg_auth_load(path, &a, err, sizeof err) != 0);
  CHECK(a == NULL);
  return err;
}

static char *b64url(const void *data, size_t len) {
  char *out = malloc(len / 3 * 4 + 8);
  int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
  int j = 0;
  for (int i = 0; i < n; i++) {
    if (out[i] == '=') continue;
    out[j++] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
  }
  out[j] = '\0';
  return out;
}

/* The signature of data: HMAC-SHA256 with secret, or RS256/ES256 with pk. */
static size_t sign(const char *data, const void *secret, size_t secret_len, EVP_PKEY *pk,
                   unsigned char *sig) {
  if (pk == NULL) {
    unsigned int n = 0;
    CHECK(HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)data, strlen(data),
               sig, &n) != NULL);
    return n;
  }
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  unsigned char der[1024];
  size_t n = sizeof der;
  CHECK(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pk) == 1);
  CHECK(EVP_DigestSign(ctx, der, &n, (const unsigned char *)data, strlen(data)) == 1);
  EVP_MD_CTX_free(ctx);
  if (EVP_PKEY_is_a(pk, "RSA")) {
    memcpy(sig, der, n);
    return n;
  }
  /* JWS carries an ECDSA signature as r and s, 32 bytes each, not as DER. */
  const unsigned char *p = der;
  ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)n);
  CHECK(es != NULL);
  CHECK(BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32) == 32);
  CHECK(BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32) == 32);
  ECDSA_SIG_free(es);
  return 64;
}

/* header.payload.signature from the JSON texts given; the caller frees. */
static char *token_raw(const char *header, const char *payload, const void *secret,
                       size_t secret_len, EVP_PKEY *pk) {
  char *h = b64url(header, strlen(header)), *p = b64url(payload, strlen(payload));
  size_t n = strlen(h) + strlen(p) + 400;
  char *tok = malloc(n);
  snprintf(tok, n, "%s.%s", h, p);
  unsigned char sig[512];
  size_t siglen = sign(tok, secret, secret_len, pk, sig);
  char *s = b64url(sig, siglen);
  strcat(tok, ".");
  strcat(tok, s);
  free(h);
  free(p);
  free(s);
  return tok;
}

/* Good claims: subject alice, roles viewer and editor, tenant acme, env prod. */
static json_t *claims(void) {
  return json_pack("{s:s, s:s, s:s, s:[s,s], s:s, s:s, s:I, s:I}", "iss", ISS, "aud", "scopegate",
                   "sub", "alice", "roles", "viewer", "editor", "tenant", "acme", "env", "prod",
                   "exp", (json_int_t)(NOW + 600), "iat", (json_int_t)(NOW - 10));
}

/* A token with header {"alg":alg,"typ":"JWT"[,"kid":kid]} carrying c (stolen). */
static char *mint(const char *alg, const char *kid, json_t *c, const void *secret,
                  size_t secret_len, EVP_PKEY *pk) {
  json_t *h = json_pack("{s:s, s:s}", "alg", alg, "typ", "JWT");
  if (kid) json_object_set_new(h, "kid", json_string(kid));
  char *hs = json_dumps(h, JSON_COMPACT), *ps = json_dumps(c, JSON_COMPACT);
  char *tok = token_raw(hs, ps, secret, secret_len, pk);
  free(hs);
  free(ps);
  json_decref(h);
  json_decref(c);
  return tok;
}

static char *mint_hs(const fx_auth_t *fx, json_t *c) {
  return mint("HS256", "hs-1", c, fx->hs, sizeof fx->hs, NULL);
}

/* Verifies at NOW, expects refusal, checks the reason does not quote the token, and
 * returns the reason (static). */
static const char *refused_at(const sg_auth_t *a, const char *tok, size_t len, int64_t now) {
  static char why[256];
  sg_identity_t id;
  memset(&id, 0xa5, sizeof id);
  int rc = sg_auth_verify(a, tok, len, now, &id, why, sizeof why);
  if (rc == 0) fprintf(stderr, "unexpectedly accepted\n");
  CHECK_INT_EQ(rc, SG_EAUTH);
  CHECK(id.subject == NULL && id.roles == NULL && id.nroles == 0 && id.claims == NULL);
  CHECK(why[0] != '\0');
  /* No run of 8 token characters appears in the reason. */
  for (size_t i = 0; i + 8 <= len && i < 4096; i++) {
    char piece[9];
    memcpy(piece, tok + i, 8);
    piece[8] = '\0';
    if (strlen(piece) == 8 && strchr(piece, '.') == NULL) CHECK(strstr(why, piece) == NULL);
  }
  return why;
}

static const char *refused(const sg_auth_t *a, const char *tok) {
  return refused_at(a, tok, strlen(tok), NOW);
}

#define CHECK_REFUSED(a, tok, reason)                                        \
  do {                                                                       \
    const char *why_ = refused(a, tok);                                      \
    if (strstr(why_, reason) == NULL) fprintf(stderr, "reason: %s\n", why_ ? why_ : ""); \
    CHECK(strstr(why_, reason) != NULL);                                     \
  } while (0)

static void accepted_at(const sg_auth_t *a, const char *tok, int64_t now, sg_identity_t *id) {
  char why[256] = "";
  int rc = sg_auth_verify(a, tok, strlen(tok), now, id, why, sizeof why);
  if (rc != 0) fprintf(stderr, "refused: %s\n", why);
  CHECK_INT_EQ(rc, 0);
}

static void accepted(const sg_auth_t *a, const char *tok) {
  sg_identity_t id;
  accepted_at(a, tok, NOW, &id);
  sg_identity_free(&id);
}

static void check_alice(const sg_identity_t *id) {
  CHECK_STR_EQ(id->subject, "alice");
  CHECK_INT_EQ(id->nroles, 2);
  CHECK_STR_EQ(id->roles[0], "viewer");
  CHECK_STR_EQ(id->roles[1], "editor");
  CHECK_STR_EQ(id->tenant, "acme");
  CHECK_STR_EQ(id->env, "prod");
  CHECK_INT_EQ(id->expires_at, NOW + 600);
  CHECK(json_is_object(id->claims));
  CHECK_STR_EQ(json_string_value(json_object_get(id->claims, "iss")), ISS);
  CHECK(sg_identity_has_role(id, "editor"));
  CHECK(!sg_identity_has_role(id, "admin"));
}

static void hs256_accepted(void) {
  fx_auth_t *fx = fx_auth(0);
  sg_auth_t *a = load(fx->dir);
  json_t *c = claims();
  json_object_set_new(c, "daily_limit", json_integer(500));
  char *tok = mint_hs(fx, c);
  sg_identity_t id;
  accepted_at(a, tok, NOW, &id);
  check_alice(&id);
  CHECK_INT_EQ(json_integer_value(json_object_get(id.claims, "daily_limit")), 500);
  sg_identity_free(&id);
  CHECK(id.subject == NULL && id.claims == NULL);
  sg_identity_free(&id); /* safe twice */
  /* Without a kid, the key is chosen by algorithm. */
  free(tok);
  tok = mint("HS256", NULL, claims(), fx->hs, sizeof fx->hs, NULL);
  accepted(a, tok);
  free(tok);
  sg_auth_free(a);
}

static void rs256_accepted(void) {
  fx_auth_t *fx = fx_auth(WITH_RS);
  sg_auth_t *a = load(fx->dir);
  char *tok = mint("RS256", "rs-1", claims(), NULL, 0, fx->rs);
  sg_identity_t id;
  accepted_at(a, tok, NOW, &id);
  check_alice(&id);
  sg_identity_free(&id);
  free(tok);
  tok = mint("RS256", NULL, claims(), NULL, 0, fx->rs);
  accepted(a, tok);
  free(tok);
  sg_auth_free(a);
}

static void es256_accepted(void) {
  fx_auth_t *fx = fx_auth(WITH_ES);
  sg_auth_t *a = load(fx->dir);
  char *tok = mint("ES256", NULL, claims(), NULL, 0, fx->es);
  sg_identity_t id;
  accepted_at(a, tok, NOW, &id);
  check_alice(&id);
  sg_identity_free(&id);
  free(tok);
  /* The ES key has no kid, so a token naming one does not reach it. */
  tok = mint("ES256", "es-1", claims(), NULL, 0, fx->es);
  CHECK_REFUSED(a, tok, "unknown key id");
  free(tok);
  sg_auth_free(a);
}

static void single_role_and_audience_array(void) {
  fx_auth_t *fx = fx_auth(0);
  sg_auth_t *a = load(fx->dir);
  json_t *c = claims();
  json_object_set_new(c, "roles", json_string("viewer"));
  json_object_set_new(c, "aud", json_pack("[s,s]", "other-api", "scopegate"));
  char *tok = mint_hs(fx, c);
  sg_identity_t id;
  accepted_at(a, tok, NOW, &id);
  CHECK_INT_EQ(id.nroles, 1);
  CHECK_STR_EQ(id.roles[0], "viewer");
  sg_identity_free(&id);
  free(tok);
  sg_auth_free(a);
}

static void time_claims(void) {
  fx_auth_t *fx = fx_auth(0);
  sg_auth_t *a = load(fx->dir);
  json_t *c = claims();
  json_object_set_new(c, "exp", json_integer(NOW - 3600));
  char *tok = mint_hs(fx, c);
  CHECK_REFUSED(a, tok, "token expired");
  free(tok);
  c = claims();
  json_object_set_new(c, "nbf", json_integer(NOW + 3600));
  tok = mint_hs(fx, c);
  CHECK_REFUSED(a, tok, "not valid yet");
  free(tok);
  c = claims();
  json_object_set_new(c, "iat", json_integer(NOW + 3600));
  tok = mint_hs(fx, c);
  CHECK_REFUSED(a, tok, "issued in the future");
  free(tok);
  c = claims();
  json_object_del(c, "exp");
  tok = mint_hs(fx, c);
  CHECK_REFUSED(a, tok, "missing claim exp");
  free(tok);
  c = claims();
  json_object_set_new(c, "exp", json_string("tomorrow"));
  tok = mint_hs(fx, c);
  CHECK_REFUSED(a, tok, "claim exp is not a number");
  free(tok);
  /* Fractional times are NumericDates too. */
  c = claims();
  json_object_set_new(c, "exp", json_real((double)NOW + 0.5));
  json_object_set_new(c, "nbf", json_real((double)NOW - 0.5));
  tok = mint_hs(fx, c);
  accepted(a, tok);
  free(tok);
  sg_auth_free(a);
}

/* The default leeway is 30 seconds: a token is good until exp + 30 and from nbf - 30. */
static void leeway_edges(void) {
  fx_auth_t *fx = fx_auth(0);
  sg_auth_t *a = load(fx->dir);
  json_t *c = claims();
  json_object_set_new(c, "exp", json_integer(NOW - 29));
  char *tok = mint_hs(fx, c);
  accepted(a, tok);
  free(tok);
  c = claims();
  json_object_set_new(c, "exp", json_integer(NOW - 30));
  tok = mint_hs(fx, c);
  CHECK_REFUSED(a, tok, "token expired");
  free(tok);
  c = claims();
  json_object_set_new(c, "nbf", json_integer(NOW + 30));
  json_object_set_new(c, "iat", json_integer(NOW + 30));
  tok = mint_hs(fx, c);
  accepted(a, tok);
  free(tok);
  c = claims();
  json_object_set_new(c, "nbf", json_integer(NOW + 31));
  tok = mint_hs(fx, c);
  CHECK_REFUSED(a, tok, "not valid yet");
  free(tok);
  c = claims();
  json_object_set_new(c, "iat", json_integer(NOW + 31));
  tok = mint_hs(fx, c);
  CHECK_REFUSED(a, tok, "issued in the future");
  free(tok);
  sg_auth_free(a);

  /* With no leeway, exp itself is already too late. */
  fx_write(fx->dir, "auth.json",
           "{\"issuer\":\"" ISS
           "\",\"audience\":\"scopegate\",\"leeway_seconds\":0,"
           "\"keys\":[{\"kid\":\"hs-1\",\"alg\":\"HS256\",\"file\":\"hs.key\"}]}");
  a = load(fx->dir);
  c = claims();
  json_object_set_new(c, "exp", json_integer(NOW));
  tok = mint_hs(fx, c);
  CHECK_REFUSED(a, tok, "token expired");
  sg_identity_t id;
  accepted_at(a, tok, NOW - 1, &id);
  sg_identity_free(&id);
  free(tok);
  sg_auth_free(a);
}

static void issuer_and_audience(void) {
  fx_auth_t *fx = fx_auth(0);
  sg_auth_t *a = load(fx->dir);
  json_t *c = claims();
  json_object_set_new(c, "iss", json_string("https://evil.example.com"));
  char *tok = mint_hs(fx, c);
  CHECK_REFUSED(a, tok, "issuer mismatch");
  free(tok);
  c = claims();
  json_object_set_new(c, "iss", json_string(ISS "/"));
  tok = mint_hs(fx, c);
  CHECK_REFUSED(a, tok, "issuer mismatch");
  free(tok);
  c = claims();
  json_object_del(c, "iss");
  tok = mint_hs(fx, c);
  CHECK_REFUSED(a, tok, "missing claim iss");
  free(tok);
  c = claims();
  json_object_set_new(c, "aud", json_string("other-api"));
  tok = mint_hs(fx, c);
  CHECK_REFUSED(a, tok, "audience mismatch");
  free(tok);
  c = claims();
  json_object_set_new(c, "aud", json_pack("[s,s]", "other-api", "scopegate-admin"));
  tok = mint_hs(fx, c);
  CHECK_REFUSED(a, tok, "audience mismatch");
  free(tok);
  c = claims();
  json_object_set_new(c, "aud", json_array());
  tok = mint_hs(fx, c);
  CHECK_REFUSED(a, tok, "audience mismatch");
  free(tok);
  c = claims();
  json_object_set_new(c, "aud", json_pack("[i,s]", 1, "scopegate"));
  tok = mint_hs(fx, c);
  CHECK_REFUSED(a, tok, "claim aud is not a string or an array of strings");
  free(tok);
  c = claims();
  json_object_del(c, "aud");
  tok = mint_hs(fx, c);
  CHECK_REFUSED(a, tok, "missing claim aud");
  free(tok);
  sg_auth_free(a);
}

/* header.payload.sig from JSON texts and a signature text given as is. */
static char *token_unsigned(const char *header, const char *payload, const char *sig) {
  char *h = b64url(header, strlen(header)), *p = b64url(payload, strlen(payload));
  size_t n = strlen(h) + strlen(p) + strlen(sig) + 3;
  char *tok = malloc(n);
  snprintf(tok, n, "%s.%s.%s", h, p, sig);
  free(h);
  free(p);
  return tok;
}

static char *claims_text(void) {
  json_t *c = claims();
  char *s = json_dumps(c, JSON_COMPACT);
  json_decref(c);
  return s;
}

static void alg_none_refused(void) {
  fx_auth_t *fx = fx_auth(0);
  sg_auth_t *a = load(fx->dir);
  char *ps = claims_text();
  char *tok = token_unsigned("{\"alg\":\"none\"}", ps, "");
  CHECK_REFUSED(a, tok, "algorithm none is not accepted");
  free(tok);
  tok = token_unsigned("{\"alg\":\"None\",\"kid\":\"hs-1\"}", ps, "");
  CHECK_REFUSED(a, tok, "algorithm none is not accepted");
  free(tok);
  /* A valid HMAC does not rescue a header that says none. */
  tok = token_raw("{\"alg\":\"none\",\"kid\":\"hs-1\"}", ps, fx->hs, sizeof fx->hs, NULL);
  CHECK_REFUSED(a, tok, "algorithm none is not accepted");
  free(tok);
  /* HS256 without a signature. */
  tok = token_unsigned("{\"alg\":\"HS256\",\"kid\":\"hs-1\"}", ps, "");
  CHECK_REFUSED(a, tok, "token is not signed");
  free(tok);
  /* The algorithm is matched exactly: libjwt alone would take "hs256" as HS256. */
  tok = token_raw("{\"alg\":\"hs256\",\"kid\":\"hs-1\"}", ps, fx->hs, sizeof fx->hs, NULL);
  CHECK_REFUSED(a, tok, "algorithm is not accepted");
  free(tok);
  tok = token_raw("{\"alg\":\"HS512\"}", ps, fx->hs, sizeof fx->hs, NULL);
  CHECK_REFUSED(a, tok, "algorithm is not accepted");
  free(tok);
  tok = token_raw("{\"kid\":\"hs-1\"}", ps, fx->hs, sizeof fx->hs, NULL);
  CHECK_REFUSED(a, tok, "names no algorithm");
  free(tok);
  tok = token_raw("{\"alg\":[\"HS256\"]}", ps, fx->hs, sizeof fx->hs, NULL);
  CHECK_REFUSED(a, tok, "names no algorithm");
  free(tok);
  free(ps);
  sg_auth_free(a);
}

/* A token that says HS256 and is MACed with the RS public key's PEM text as the secret:
 * a verifier that lets the header choose the algorithm would accept it. */
static void hs_rs_confusion(void) {
  fx_auth_t *fx = fx_auth(WITH_RS);
  sg_auth_t *a = load(fx->dir);
  size_t pemlen = strlen(fx->rs_pem);
  char *tok = mint("HS256", "rs-1", claims(), fx->rs_pem, pemlen, NULL);
  CHECK_REFUSED(a, tok, "algorithm HS256 does not match the key, which is pinned to RS256");
  free(tok);
  /* Without a kid, the HS key is the only candidate, and it does not verify this. */
  tok = mint("HS256", NULL, claims(), fx->rs_pem, pemlen, NULL);
  CHECK_REFUSED(a, tok, "signature invalid");
  free(tok);
  /* The PEM text including or excluding its final newline makes no difference. */
  tok = mint("HS256", NULL, claims(), fx->rs_pem, pemlen - 1, NULL);
  CHECK_REFUSED(a, tok, "signature invalid");
  free(tok);
  /* An RS256 token naming the HMAC key. */
  tok = mint("RS256", "hs-1", claims(), NULL, 0, fx->rs);
  CHECK_REFUSED(a, tok, "algorithm RS256 does not match the key, which is pinned to HS256");
  free(tok);
  sg_auth_free(a);

  /* With only the RS key configured there is no HS256 key at all. */
  fx_write(fx->dir, "auth.json",
           "{\"issuer\":\"" ISS
           "\",\"audience\":\"scopegate\","
           "\"keys\":[{\"alg\":\"RS256\",\"file\":\"rs.pub.pem\"}]}");
  a = load(fx->dir);
  tok = mint("HS256", NULL, claims(), fx->rs_pem, pemlen, NULL);
  CHECK_REFUSED(a, tok, "no key for algorithm HS256");
  free(tok);
  tok = mint("RS256", NULL, claims(), NULL, 0, fx->rs);
  accepted(a, tok);
  free(tok);
  sg_auth_free(a);
}

static void es_hs_confusion(void) {
  fx_auth_t *fx = fx_auth(WITH_ES);
  sg_auth_t *a = load(fx->dir);
  size_t pemlen = strlen(fx->es_pem);
  char *tok = mint("HS256", NULL, claims(), fx->es_pem, pemlen, NULL);
  CHECK_REFUSED(a, tok, "signature invalid");
  free(tok);
  tok = mint("ES256", "hs-1", claims(), NULL, 0, fx->es);
  CHECK_REFUSED(a, tok, "does not match the key");
  free(tok);
  sg_auth_free(a);
  fx_write(fx->dir, "auth.json",
           "{\"issuer\":\"" ISS
           "\",\"audience\":\"scopegate\","
           "\"keys\":[{\"kid\":\"es\",\"alg\":\"ES256\",\"file\":\"es.pub.pem\"}]}");
  a = load(fx->dir);
  tok = mint("HS256", "es", claims(), fx->es_pem, pemlen, NULL);
  CHECK_REFUSED(a, tok, "algorithm HS256 does not match the key, which is pinned to ES256");
  free(tok);
  tok = mint("HS256", NULL, claims(), fx->es_pem, pemlen, NULL);
  CHECK_REFUSED(a, tok, "no key for algorithm HS256");
  free(tok);
  /* An RS256 token for the EC key, by kid and by algorithm. */
  EVP_PKEY *rs = rsa_test_key();
  tok = mint("RS256", "es", claims(), NULL, 0, rs);
  CHECK_REFUSED(a, tok, "does not match the key");
  free(tok);
  tok = mint("RS256", NULL, claims(), NULL, 0, rs);
  CHECK_REFUSED(a, tok, "no key for algorithm RS256");
  free(tok);
  EVP_PKEY_free(rs);
  sg_auth_free(a);
}

/* Replaces the part'th part (0 header, 1 payload, 2 signature) of tok. */
static char *with_part(const char *tok, int part, const char *text) {
  const char *d1 = strchr(tok, '.'), *d2 = strchr(d1 + 1, '.');
  const char *start[3] = {tok, d1 + 1, d2 + 1};
  const char *end[3] = {d1, d2, tok + strlen(tok)};
  size_t n = strlen(tok) + strlen(text) + 1;
  char *out = malloc(n);
  out[0] = '\0';
  for (int i = 0; i < 3; i++) {
    if (i) strcat(out, ".");
    if (i == part)
      strcat(out, text);
    else
      strncat(out, start[i], (size_t)(end[i] - start[i]));
  }
  return out;
}

static void tampering(void) {
  fx_auth_t *fx = fx_auth(WITH_RS | WITH_ES);
  sg_auth_t *a = load(fx->dir);
  json_t *c = claims();
  json_object_set_new(c, "tenant", json_string("globex"));
  char *other = json_dumps(c, JSON_COMPACT);
  json_decref(c);
  char *other64 = b64url(other, strlen(other));
  char *toks[3] = {mint_hs(fx, claims()), mint("RS256", "rs-1", claims(), NULL, 0, fx->rs),
                   mint("ES256", NULL, claims(), NULL, 0, fx->es)};
  for (int i = 0; i < 3; i++) {
    accepted(a, toks[i]);
    /* Another payload under the original signature. */
    char *t = with_part(toks[i], 1, other64);
    CHECK_REFUSED(a, t, "signature invalid");
    free(t);
    /* One bit of the signature flipped (the first character keeps all its bits). */
    t = strdup(toks[i]);
    char *s = strrchr(t, '.') + 1;
    s[0] = s[0] == 'A' ? 'B' : 'A';
    CHECK_REFUSED(a, t, "signature invalid");
    free(t);
    /* A signature cut short, or grown. */
    t = strdup(toks[i]);
    t[strlen(t) - 4] = '\0';
    CHECK_REFUSED(a, t, "signature invalid");
    free(t);
    size_t n = strlen(toks[i]);
    t = malloc(n + 5);
    snprintf(t, n + 5, "%sAAAA", toks[i]);
    CHECK_REFUSED(a, t, "signature invalid");
    free(t);
    free(toks[i]);
  }
  free(other);
  free(other64);
  sg_auth_free(a);
}

static void key_selection(void) {
  fx_auth_t *fx = fx_auth(0);
  sg_auth_t *a = load(fx->dir);
  char *tok = mint("HS256", "hs-2", claims(), fx->hs, sizeof fx->hs, NULL);
  CHECK_REFUSED(a, tok, "unknown key id");
  free(tok);
  char *ps = claims_text();
  tok = token_raw("{\"alg\":\"HS256\",\"kid\":7}", ps, fx->hs, sizeof fx->hs, NULL);
  CHECK_REFUSED(a, tok, "key id is not a string");
  free(tok);
  /* A token MACed with another secret. */
  unsigned char other[48];
  memset(other, 'x', sizeof other);
  tok = mint("HS256", "hs-1", claims(), other, sizeof other, NULL);
  CHECK_REFUSED(a, tok, "signature invalid");
  free(tok);
  sg_auth_free(a);

  /* Two HMAC keys without kids: a token without a kid may be MACed with either. */
  write_secret(fx->dir, "hs2.key", other, sizeof other, 0400);
  fx_write(fx->dir, "auth.json",
           "{\"issuer\":\"" ISS
           "\",\"audience\":\"scopegate\",\"keys\":["
           "{\"alg\":\"HS256\",\"file\":\"hs.key\"},{\"alg\":\"HS256\",\"file\":\"hs2.key\"}]}");
  a = load(fx->dir);
  tok = mint("HS256", NULL, claims(), other, sizeof other, NULL);
  accepted(a, tok);
  free(tok);
  tok = mint("HS256", NULL, claims(), fx->hs, sizeof fx->hs, NULL);
  accepted(a, tok);
  free(tok);
  /* Keys without kids are out of reach of a token that names one. */
  tok = mint("HS256", "hs-1", claims(), fx->hs, sizeof fx->hs, NULL);
  CHECK_REFUSED(a, tok, "unknown key id");
  free(tok);
  free(ps);
  sg_auth_free(a);
}

static void header_parameters(void) {
  fx_auth_t *fx = fx_auth(0);
  sg_auth_t *a = load(fx->dir);
  char *ps = claims_text();
  char *tok = token_raw("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", ps, fx->hs, sizeof fx->hs, NULL);
  CHECK_REFUSED(a, tok, "token type is not JWT");
  free(tok);
  tok = token_raw("{\"alg\":\"HS256\",\"typ\":1}", ps, fx->hs, sizeof fx->hs, NULL);
  CHECK_REFUSED(a, tok, "token type is not JWT");
  free(tok);
  tok = token_raw("{\"alg\":\"HS256\",\"typ\":\"jwt\"}", ps, fx->hs, sizeof fx->hs, NULL);
  accepted(a, tok);
  free(tok);
  tok = token_raw("{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}", ps, fx->hs, sizeof fx->hs,
                  NULL);
  CHECK_REFUSED(a, tok, "critical header parameters are not supported");
  free(tok);
  tok = token_raw("{\"alg\":\"HS256\",\"alg\":\"none\"}", ps, fx->hs, sizeof fx->hs, NULL);
  CHECK_REFUSED(a, tok, "token header is not a base64url-encoded JSON object");
  free(tok);
  free(ps);
  sg_auth_free(a);
}

static void missing_and_mistyped_claims(void) {
  fx_auth_t *fx = fx_auth(0);
  sg_auth_t *a = load(fx->dir);
  static const char *const names[] = {"sub", "roles", "tenant", "env"};
  for (size_t i = 0; i < 4; i++) {
    json_t *c = claims();
    json_object_del(c, names[i]);
    char *tok = mint_hs(fx, c);
    char expect[64];
    snprintf(expect, sizeof expect, "missing claim %s", names[i]);
    CHECK_REFUSED(a, tok, expect);
    free(tok);
  }
  static const struct {
    const char *name, *json, *reason;
  } bad[] = {
      {"tenant", "42", "claim tenant is not a string"},
      {"tenant", "\"\"", "claim tenant is empty"},
      {"tenant", "\"acme\\nx\"", "claim tenant contains control characters"},
      {"env", "null", "claim env is not a string"},
      {"sub", "{\"id\":1}", "claim sub is not a string"},
      {"roles", "[]", "claim roles names no role"},
      {"roles", "[\"viewer\",3]", "claim roles is not a string"},
      {"roles", "[\"\"]", "claim roles is empty"},
      {"roles", "true", "claim roles is not a string or an array of strings"},
      {"iat", "\"now\"", "claim iat is not a number"},
      {"nbf", "[1]", "claim nbf is not a number"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    json_t *c = claims();
    json_object_set_new(c, bad[i].name, json_loads(bad[i].json, JSON_DECODE_ANY, NULL));
    char *tok = mint_hs(fx, c);
    CHECK_REFUSED(a, tok, bad[i].reason);
    free(tok);
  }
  json_t *c = claims();
  char longer[300];
  memset(longer, 'a', sizeof longer - 1);
  longer[sizeof longer - 1] = '\0';
  json_object_set_new(c, "sub", json_string(longer));
  char *tok = mint_hs(fx, c);
  CHECK_REFUSED(a, tok, "claim sub is longer than 256 bytes");
  free(tok);
  /* Duplicate claims are refused even under a good signature: which one would count? */
  char *d = token_raw("{\"alg\":\"HS256\"}",
                      "{\"iss\":\"" ISS
                      "\",\"aud\":\"scopegate\",\"sub\":\"alice\","
                      "\"roles\":\"viewer\",\"tenant\":\"acme\",\"tenant\":\"globex\","
                      "\"env\":\"prod\",\"exp\":1700000600}",
                      fx->hs, sizeof fx->hs, NULL);
  CHECK_REFUSED(a, d, "token payload is not a base64url-encoded JSON object");
  free(d);
  sg_auth_free(a);
}

static void claim_names_from_config(void) {
  fx_auth_t *fx = fx_auth(0);
  fx_write(fx->dir, "auth.json",
           "{\"issuer\":\"" ISS
           "\",\"audience\":\"scopegate\","
           "\"keys\":[{\"kid\":\"hs-1\",\"alg\":\"HS256\",\"file\":\"hs.key\"}],"
           "\"claims\":{\"subject\":\"email\",\"roles\":\"groups\",\"tenant\":\"org\"}}");
  sg_auth_t *a = load(fx->dir);
  json_t *c = claims();
  json_object_set_new(c, "email", json_string("alice@example.com"));
  json_object_set_new(c, "groups", json_pack("[s]", "support"));
  json_object_set_new(c, "org", json_string("initech"));
  char *tok = mint_hs(fx, c);
  sg_identity_t id;
  accepted_at(a, tok, NOW, &id);
  CHECK_STR_EQ(id.subject, "alice@example.com");
  CHECK_INT_EQ(id.nroles, 1);
  CHECK_STR_EQ(id.roles[0], "support");
  CHECK_STR_EQ(id.tenant, "initech");
  CHECK_STR_EQ(id.env, "prod");
  sg_identity_free(&id);
  free(tok);
  c = claims();
  json_object_set_new(c, "email", json_string("alice@example.com"));
  json_object_set_new(c, "groups", json_pack("[s]", "support"));
  tok = mint_hs(fx, c);
  CHECK_REFUSED(a, tok, "missing claim org");
  free(tok);
  sg_auth_free(a);
}

static void malformed_tokens(void) {
  fx_auth_t *fx = fx_auth(0);
  sg_auth_t *a = load(fx->dir);
  char *good = mint_hs(fx, claims());
  accepted(a, good);
  const char *d1 = strchr(good, '.'), *d2 = strchr(d1 + 1, '.');
  char *two = strndup(good, (size_t)(d2 - good));
  CHECK_REFUSED(a, two, "token does not have three parts");
  free(two);
  size_t n = strlen(good);
  char *four = malloc(n + 4);
  snprintf(four, n + 4, "%s.AA", good);
  CHECK_REFUSED(a, four, "token does not have three parts");
  free(four);
  CHECK_REFUSED(a, "abc", "token does not have three parts");
  CHECK_REFUSED(a, "..", "token header or payload is empty");
  refused_at(a, "", 0, NOW);
  CHECK_REFUSED(a, "", "token is empty");
  /* Characters outside base64url: padding, the standard alphabet, spaces, NUL. */
  char *t = strdup(good);
  t[3] = '+';
  CHECK_REFUSED(a, t, "characters outside base64url");
  t[3] = '=';
  CHECK_REFUSED(a, t, "characters outside base64url");
  free(t);
  char *bearer = malloc(n + 8);
  snprintf(bearer, n + 8, "Bearer %s", good);
  CHECK_REFUSED(a, bearer, "characters outside base64url");
  free(bearer);
  char nul[64];
  memcpy(nul, good, 20);
  nul[10] = '\0';
  CHECK(strstr(refused_at(a, nul, 20, NOW), "characters outside base64url") != NULL);
  /* Header decodes but is not JSON, or is JSON but not an object. */
  char *h = b64url("not json", 8);
  t = with_part(good, 0, h);
  CHECK_REFUSED(a, t, "token header is not a base64url-encoded JSON object");
  free(t);
  free(h);
  h = b64url("[\"HS256\"]", 9);
  t = with_part(good, 0, h);
  CHECK_REFUSED(a, t, "token header is not a base64url-encoded JSON object");
  free(t);
  free(h);
  /* An impossible length (one character left over) and non-zero trailing bits. */
  t = with_part(good, 0, "eyJhbGciOiJIUzI1NiJ9A");
  CHECK_REFUSED(a, t, "token header is not a base64url-encoded JSON object");
  free(t);
  /* "eyJhbGciOiJIUzI1NiJ9" is {"alg":"HS256"}; its last character changed keeps the
   * decoded bytes but sets bits that must be zero. */
  t = with_part(good, 0, "eyJhbGciOiJIUzI1NiJ8");
  CHECK_REFUSED(a, t, "token header is not a base64url-encoded JSON object");
  free(t);
  /* Payload that is not JSON, under a good signature. */
  t = token_raw("{\"alg\":\"HS256\"}", "{\"sub\":", fx->hs, sizeof fx->hs, NULL);
  CHECK_REFUSED(a, t, "token payload is not a base64url-encoded JSON object");
  free(t);
  t = token_raw("{\"alg\":\"HS256\"}", "\"alice\"", fx->hs, sizeof fx->hs, NULL);
  CHECK_REFUSED(a, t, "token payload is not a base64url-encoded JSON object");
  free(t);
  /* Signature that is not base64url. */
  t = with_part(good, 2, "A");
  CHECK_REFUSED(a, t, "signature invalid");
  free(t);
  /* Deep nesting in the payload stops at the parser's limit. */
  char deep[512] = "{\"iss\":";
  for (int i = 0; i < 100; i++) strcat(deep, "[");
  for (int i = 0; i < 100; i++) strcat(deep, "]");
  strcat(deep, "}");
  t = token_raw("{\"alg\":\"HS256\"}", deep, fx->hs, sizeof fx->hs, NULL);
  CHECK_REFUSED(a, t, "token payload is not a base64url-encoded JSON object");
  free(t);
  /* A huge token is refused by its size before anything is decoded. */
  size_t huge = SG_AUTH_MAX_TOKEN_BYTES + 1;
  char *big = malloc(huge + 1);
  memset(big, 'A', huge);
  big[huge] = '\0';
  big[10] = big[20] = '.';
  CHECK(strstr(refused_at(a, big, huge, NOW), "token is longer than 16384 bytes") != NULL);
  /* A well-formed token with a big claim just under the limit is still accepted. */
  json_t *c = claims();
  char *pad = malloc(11000);
  memset(pad, 'x', 10999);
  pad[10999] = '\0';
  json_object_set_new(c, "pad", json_string(pad));
  t = mint_hs(fx, c);
  CHECK(strlen(t) < SG_AUTH_MAX_TOKEN_BYTES);
  accepted(a, t);
  free(t);
  free(pad);
  free(big);
  free(good);
  sg_auth_free(a);
}

/* Writes auth.json around one key entry and returns the load problem. */
static const char *config_with_key(const char *dir, const char *key) {
  char config[1024];
  snprintf(config, sizeof config,
           "{\"issuer\":\"" ISS "\",\"audience\":\"scopegate\",\"keys\":[%s]}", key);
  fx_write(dir, "auth.json", config);
  return load_fails(dir);
}

#define CHECK_HAS(text, part)                                             \
  do {                                                                    \
    const char *t_ = (text);                                              \
    if (strstr(t_, part) == NULL) fprintf(stderr, "problems:\n%s\n", t_ ? t_ : ""); \
    CHECK(strstr(t_, part) != NULL);                                      \
  } while (0)

static void config_problems(void) {
  fx_auth_t *fx = fx_auth(0);
  const char *dir = fx->dir;
  fx_write(dir, "auth.json",
           "{\"issuer\":\"" ISS
           "\",\"audience\":\"scopegate\",\"leeway\":30,"
           "\"keys\":[{\"alg\":\"HS256\",\"file\":\"hs.key\",\"use\":\"sig\"}],"
           "\"claims\":{\"subject\":\"sub\",\"role\":\"roles\"}}");
  const char *t = load_fails(dir);
  CHECK_HAS(t, "auth.json: /leeway: unknown field \"leeway\"");
  CHECK_HAS(t, "auth.json: /keys/0/use: unknown field \"use\"");
  CHECK_HAS(t, "auth.json: /claims/role: unknown field \"role\"");

  fx_write(dir, "auth.json",
           "{\"issuer\":\"a\",\"issuer\":\"b\",\"audience\":\"scopegate\","
           "\"keys\":[{\"alg\":\"HS256\",\"file\":\"hs.key\"}]}");
  CHECK_HAS(load_fails(dir), "duplicate");

  fx_write(dir, "auth.json", "{\"audience\":\"\",\"leeway_seconds\":301,\"keys\":[]}");
  t = load_fails(dir);
  CHECK_HAS(t, "(root): missing required field \"issuer\"");
  CHECK_HAS(t, "/audience: must be a non-empty string");
  CHECK_HAS(t, "/leeway_seconds: must be an integer from 0 to 300");
  CHECK_HAS(t, "/keys: must be an array of 1 to 64 keys");

  CHECK_HAS(config_with_key(dir, "{\"alg\":\"HS512\",\"file\":\"hs.key\"}"),
            "/keys/0/alg: algorithm \"HS512\" is not accepted (HS256, RS256 or ES256)");
  CHECK_HAS(config_with_key(dir, "{\"alg\":\"none\",\"file\":\"hs.key\"}"),
            "/keys/0/alg: algorithm \"none\" is not accepted");
  CHECK_HAS(config_with_key(dir, "{\"alg\":\"hs256\",\"file\":\"hs.key\"}"),
            "/keys/0/alg: algorithm \"hs256\" is not accepted");
  CHECK_HAS(config_with_key(dir, "{\"alg\":\"HS256\"}"),
            "/keys/0: missing required field \"file\"");
  CHECK_HAS(config_with_key(dir, "\"hs.key\""), "/keys/0: must be an object");
  CHECK_HAS(config_with_key(dir, "{\"alg\":\"HS256\",\"file\":\"nope.key\"}"),
            "/keys/0/file: cannot open");
  CHECK_HAS(config_with_key(dir,
                            "{\"kid\":\"k\",\"alg\":\"HS256\",\"file\":\"hs.key\"},"
                            "{\"kid\":\"k\",\"alg\":\"HS256\",\"file\":\"hs.key\"}"),
            "/keys/1/kid: key id \"k\" is also used by /keys/0");

  /* HMAC secrets: private to the owner, and long enough. */
  write_secret(dir, "open.key", fx->hs, sizeof fx->hs, 0644);
  CHECK_HAS(config_with_key(dir, "{\"alg\":\"HS256\",\"file\":\"open.key\"}"),
            "mode 0644 lets group or others access it (chmod 600 it)");
  write_secret(dir, "open.key", fx->hs, sizeof fx->hs, 0640);
  CHECK_HAS(config_with_key(dir, "{\"alg\":\"HS256\",\"file\":\"open.key\"}"), "mode 0640");
  write_secret(dir, "short.key", fx->hs, 31, 0600);
  CHECK_HAS(config_with_key(dir, "{\"alg\":\"HS256\",\"file\":\"short.key\"}"),
            "holds a 31-byte HMAC secret; HS256 needs at least 32 bytes");
  write_secret(dir, "empty.key", "", 0, 0600);
  CHECK_HAS(config_with_key(dir, "{\"alg\":\"HS256\",\"file\":\"empty.key\"}"), "is empty");
  CHECK_HAS(config_with_key(dir, "{\"alg\":\"HS256\",\"file\":\".\"}"), "not a regular file");

  /* Public keys: a PEM public key of the right type and size, and nothing private. */
  CHECK_HAS(config_with_key(dir, "{\"alg\":\"RS256\",\"file\":\"hs.key\"}"),
            "is not a PEM public key");
  EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  EVP_PKEY *ec384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
  EVP_PKEY *rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
  char *pem = pem_public(ec);
  fx_write(dir, "ec.pem", pem);
  free(pem);
  CHECK_HAS(config_with_key(dir, "{\"alg\":\"RS256\",\"file\":\"ec.pem\"}"),
            "is not an RSA key, which RS256 needs");
  pem = pem_public(rsa1024);
  fx_write(dir, "rsa1024.pem", pem);
  free(pem);
  CHECK_HAS(config_with_key(dir, "{\"alg\":\"RS256\",\"file\":\"rsa1024.pem\"}"),
            "is a 1024-bit RSA key; RS256 needs at least 2048 bits");
  CHECK_HAS(config_with_key(dir, "{\"alg\":\"ES256\",\"file\":\"rsa1024.pem\"}"),
            "is not an EC key on P-256, which ES256 needs");
  pem = pem_public(ec384);
  fx_write(dir, "ec384.pem", pem);
  free(pem);
  CHECK_HAS(config_with_key(dir, "{\"alg\":\"ES256\",\"file\":\"ec384.pem\"}"),
            "is not an EC key on P-256");
  BIO *b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, ec, NULL, NULL, 0, NULL, NULL);
  PEM_write_bio_PUBKEY(b, ec);
  char *data;
  long n = BIO_get_mem_data(b, &data);
  char *both = strndup(data, (size_t)n);
  BIO_free(b);
  fx_write(dir, "both.pem", both);
  free(both);
  CHECK_HAS(config_with_key(dir, "{\"alg\":\"ES256\",\"file\":\"both.pem\"}"),
            "contains a private key; give the gateway only the public key");
  EVP_PKEY_free(ec);
  EVP_PKEY_free(ec384);
  EVP_PKEY_free(rsa1024);

  CHECK_HAS(load_fails("/nonexistent"), "cannot open");
  fx_write(dir, "auth.json", "[1]");
  CHECK_HAS(load_fails(dir), "auth.json: (root): must be an object");
}

/* Key files are found next to the configuration, whatever the working directory, and
 * an absolute path is taken as is. */
static void key_paths(void) {
  fx_auth_t *fx = fx_auth(0);
  char sub[512];
  snprintf(sub, sizeof sub, "%s/secrets", fx->dir);
  CHECK(mkdir(sub, 0700) == 0);
  write_secret(sub, "hs.key", fx->hs, sizeof fx->hs, 0600);
  char config[1024];
  snprintf(config, sizeof config,
           "{\"issuer\":\"" ISS
           "\",\"audience\":\"scopegate\",\"keys\":["
           "{\"kid\":\"rel\",\"alg\":\"HS256\",\"file\":\"secrets/hs.key\"},"
           "{\"kid\":\"abs\",\"alg\":\"HS256\",\"file\":\"%s/hs.key\"}]}",
           sub);
  fx_write(fx->dir, "auth.json", config);
  CHECK(chdir("/") == 0);
  sg_auth_t *a = load(fx->dir);
  char *tok = mint("HS256", "rel", claims(), fx->hs, sizeof fx->hs, NULL);
  accepted(a, tok);
  free(tok);
  tok = mint("HS256", "abs", claims(), fx->hs, sizeof fx->hs, NULL);
  accepted(a, tok);
  free(tok);
  sg_auth_free(a);
}

const sg_test_t sg_suite_auth[] = {
    {"hs256_accepted", hs256_accepted},
    {"rs256_accepted", rs256_accepted},
    {"es256_accepted", es256_accepted},
    {"single_role_and_audience_array", single_role_and_audience_array},
    {"time_claims", time_claims},
    {"leeway_edges", leeway_edges},
    {"issuer_and_audience", issuer_and_audience},
    {"alg_none_refused", alg_none_refused},
    {"hs_rs_confusion", hs_rs_confusion},
    {"es_hs_confusion", es_hs_confusion},
    {"tampering", tampering},
    {"key_selection", key_selection},
    {"header_parameters", header_parameters},
    {"missing_and_mistyped_claims", missing_and_mistyped_claims},
    {"claim_names_from_config", claim_names_from_config},
    {"malformed_tokens", malformed_tokens},
    {"config_problems", config_problems},
    {"key_paths", key_paths},
    SG_SUITE_END};
