/*
 * SHA-256 as lowercase hex, for canonical-argument hashes and (later) the audit chain.
 */
#ifndef SG_CORE_HASH_H
#define SG_CORE_HASH_H

#include <stddef.h>

#define SG_SHA256_HEX_LEN 64

/* Writes 64 hex digits and a NUL into out. */
void sg_sha256_hex(const void *data, size_t len, char out[SG_SHA256_HEX_LEN + 1]);

#endif
