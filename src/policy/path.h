/*
 * Normalising a path-like argument before a prefix rule looks at it, so that
 * "acme/../globex/x", "acme/%2e%2e/globex/x", "acme/．．/globex" and the like cannot
 * escape a tenant's prefix: the value the rule checks is the value that is forwarded.
 */
#ifndef SG_POLICY_PATH_H
#define SG_POLICY_PATH_H

#include <stddef.h>

/* Normalises in[0..len) into out (NUL-terminated): percent-escapes are decoded once (a
 * second layer of escapes is refused), "." segments and repeated slashes are dropped and
 * ".." segments resolved. Refused, with a reason in *why: control characters, NUL,
 * backslashes, invalid UTF-8 (also after decoding), Unicode look-alikes of '/', '\' and
 * '.', and ".." that climbs above the start. Returns 0, or -1 when refused or when out is
 * too small. */
int sg_path_normalize(const char *in, size_t len, char *out, size_t outlen, const char **why);

#endif
