/*
 * libFuzzer target for bearer tokens. Each input is verified twice against one fixed
 * configuration (an HS256 key with a fixed secret, an RS256 and an ES256 key generated
 * at start-up):
 *
 *   - as the token itself, which exercises the size bound, the shape and base64url
 *     checks, header parsing, algorithm pinning, key selection and signature checks;
 *   - as "header\npayload" (or, without a newline, as the payload under a fixed HS256
 *     header), encoded and MACed here with the HS256 secret, so that the checks that
 *     only run once a signature holds (time, issuer, audience, identity claims) see
 *     arbitrary JSON too.
 *
 * Every outcome must be either an identity with all its members, or SG_EAUTH with a
 * reason; any crash, leak or sanitizer report is a finding. Seeds: corpus/jwt/, whose
 * tokens are MACed with the secret below.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/internal.h"
#include "core/error.h"

#define NOW 1700000000
static const char secret[] = "scopegate-fuzz-hmac-secret-0123456789";

static sg_auth_t *auth;

static void write_file(const char *dir, const char *name, const void *data, size_t len) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0 || chmod(path, 0600) != 0)
    abort();
}

static void write_public_pem(const char *dir, const char *name, EVP_PKEY *pk) {
  BIO *b = BIO_new(BIO_s_mem());
  if (b == NULL || PEM_write_bio_PUBKEY(b, pk) != 1) abort();
  char *data;
  long n = BIO_get_mem_data(b, &data);
  write_file(dir, name, data, (size_t)n);
  BIO_free(b);
  EVP_PKEY_free(pk);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  char dir[] = "/tmp/sg-fuzz-jwt-XXXXXX";
  if (mkdtemp(dir) == NULL) abort();
  write_file(dir, "hs.key", secret, sizeof secret - 1);
  write_public_pem(dir, "rs.pem", EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048));
  write_public_pem(dir, "es.pem", EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
  static const char config[] =
      "{\"issuer\":\"https://idp.example.com\",\"audience\":\"scopegate\",\"keys\":["
      "{\"kid\":\"hs-1\",\"alg\":\"HS256\",\"file\":\"hs.key\"},"
      "{\"kid\":\"rs-1\",\"alg\":\"RS256\",\"file\":\"rs.pem\"},"
      "{\"alg\":\"ES256\",\"file\":\"es.pem\"}]}";
  write_file(dir, "auth.json", config, sizeof config - 1);
  char path[512], err[1024];
  snprintf(path, sizeof path, "%s/auth.json", dir);
  if (sg_auth_load(path, &auth, err, sizeof err) != 0) {
    fprintf(stderr, "fuzz_jwt: %s\n", err);
    abort();
  }
  /* The keys are in memory now; the files are not needed. */
  static const char *const names[] = {"hs.key", "rs.pem", "es.pem", "auth.json"};
  for (size_t i = 0; i < 4; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    unlink(path);
  }
  rmdir(dir);
  return 0;
}

static void verify(const char *token, size_t len) {
  sg_identity_t id;
  char why[256];
  int rc = sg_auth_verify(auth, token, len, NOW, &id, why, sizeof why);
  if (rc == 0) {
    if (!id.subject || !id.tenant || !id.env || id.nroles == 0 || !json_is_object(id.claims))
      abort();
    sg_identity_free(&id);
  } else if ((rc != SG_EAUTH && rc != SG_ENOMEM) || why[0] == '\0' || id.claims || id.subject) {
    abort();
  }
}

/* Encodes header and payload, MACs them with the HS256 secret, and verifies. */
static void verify_signed(const uint8_t *header, size_t hlen, const uint8_t *payload, size_t plen) {
  char *h = sg__b64url_encode(header, hlen), *p = sg__b64url_encode(payload, plen);
  size_t n = strlen(h) + strlen(p) + 64;
  char *tok = malloc(n);
  if (!h || !p || !tok) abort();
  int len = snprintf(tok, n, "%s.%s", h, p);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int maclen = 0;
  if (!HMAC(EVP_sha256(), secret, (int)(sizeof secret - 1), (unsigned char *)tok, (size_t)len, mac,
            &maclen))
    abort();
  char *s = sg__b64url_encode(mac, maclen);
  if (s == NULL) abort();
  snprintf(tok + len, n - (size_t)len, ".%s", s);
  verify(tok, strlen(tok));
  free(h);
  free(p);
  free(s);
  free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  verify((const char *)data, size);
  if (size > SG_AUTH_MAX_TOKEN_BYTES) return 0;
  const uint8_t *nl = memchr(data, '\n', size);
  if (nl) {
    verify_signed(data, (size_t)(nl - data), nl + 1, size - (size_t)(nl - data) - 1);
  } else {
    static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"hs-1\"}";
    verify_signed((const uint8_t *)header, sizeof header - 1, data, size);
  }
  return 0;
}
