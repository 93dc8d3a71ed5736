/*
 * JSON Pointer (RFC 6901) building: appends one reference token, escaping '~' as "~0"
 * and '/' as "~1".
 */
#ifndef SG_JSON_POINTER_H
#define SG_JSON_POINTER_H

#include <stddef.h>

/* Appends "/" and the escaped token to the NUL-terminated pointer in out (size outlen),
 * truncating safely. Returns 0, or SG_ETOOBIG when it did not fit. */
int sg_json_pointer_append(char *out, size_t outlen, const char *token);
int sg_json_pointer_append_index(char *out, size_t outlen, size_t index);

#endif
