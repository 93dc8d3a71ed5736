/*
 * Strict unpadded base64url (RFC 4648 section 5), as JWS compact serialisation uses it.
 * The decoder accepts exactly one encoding per byte string, so a token cannot be varied
 * without changing the bytes its signature covers.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/internal.h"
#include "core/error.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int value_of(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

int sg__b64url_char(char c) {
  return value_of(c) >= 0;
}

int sg__b64url_decode(const char *in, size_t len, unsigned char **out, size_t *outlen) {
  *out = NULL;
  *outlen = 0;
  /* One leftover character carries only 6 bits: no byte string encodes to that. */
  if (len % 4 == 1) return SG_EINVAL;
  unsigned char *buf = malloc(len / 4 * 3 + 3);
  if (buf == NULL) return SG_ENOMEM;
  size_t n = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len; i++) {
    int v = value_of(in[i]);
    if (v < 0) {
      free(buf);
      return SG_EINVAL;
    }
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      buf[n++] = (unsigned char)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  /* The bits left over pad the last byte and must be zero. */
  if (acc != 0) {
    free(buf);
    return SG_EINVAL;
  }
  buf[n] = '\0';
  *out = buf;
  *outlen = n;
  return 0;
}

char *sg__b64url_encode(const unsigned char *in, size_t len) {
  char *out = malloc(len / 3 * 4 + 4);
  if (out == NULL) return NULL;
  size_t n = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len; i++) {
    acc = (acc << 8) | in[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out[n++] = alphabet[(acc >> bits) & 63];
    }
    acc &= (1u << bits) - 1;
  }
  if (bits > 0) out[n++] = alphabet[(acc << (6 - bits)) & 63];
  out[n] = '\0';
  return out;
}
