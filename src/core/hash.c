/*
 * SHA-256 through OpenSSL's one-shot EVP digest.
 */
#include "core/hash.h"

#include <openssl/evp.h>

void sg_sha256_hex(const void *data, size_t len, char out[SG_SHA256_HEX_LEN + 1]) {
  /* Fetching the algorithm is a locked registry lookup in OpenSSL 3; done once, it is
   * kept for the life of the process (and the thread, to stay lock-free). */
  static _Thread_local EVP_MD *sha256;
  unsigned char md[32];
  unsigned int mdlen = 0;
  static const char hex[] = "0123456789abcdef";
  if (sha256 == NULL) sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
  EVP_Digest(data, len, md, &mdlen, sha256 ? sha256 : EVP_sha256(), NULL);
  for (unsigned i = 0; i < 32; i++) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 15];
  }
  out[SG_SHA256_HEX_LEN] = '\0';
}
