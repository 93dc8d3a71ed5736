/*
 * URI references for $id and $ref: resolution against a base (RFC 3986, section 5.2),
 * fragments, and JSON Pointer tokens inside fragments. Results are malloc'd strings that
 * the caller frees.
 */
#ifndef SG_SCHEMA_URI_H
#define SG_SCHEMA_URI_H

#include <stddef.h>

/* Resolves ref against the absolute URI base. NULL only when memory runs out. */
char *sg__uri_resolve(const char *base, const char *ref);

/* Splits uri at its fragment: returns the length of the part before "#", and sets *frag
   to the fragment (after "#") or NULL when there is none. */
size_t sg__uri_split(const char *uri, const char **frag);

/* Decodes %XX escapes in place; returns -1 on a malformed escape, else the new length. */
long sg__uri_percent_decode(char *s);

/* Appends the JSON Pointer escape of token (~ as ~0, / as ~1) to out, which has room for
   outlen bytes; always NUL-terminates, truncating if needed. Returns the length it would
   have written, like snprintf. */
size_t sg__ptr_escape(char *out, size_t outlen, const char *token, size_t len);

#endif
