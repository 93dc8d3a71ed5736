/*
 * Strict JSON parsing for untrusted bytes. On top of jansson's checks (valid UTF-8, no
 * NUL in strings), duplicate object keys are rejected and the message size and nesting
 * depth are bounded before jansson sees the bytes. The caller owns the returned value.
 */
#ifndef SG_JSON_PARSE_H
#define SG_JSON_PARSE_H

#include <jansson.h>
#include <stddef.h>

typedef struct {
  size_t max_bytes; /* 0: no limit */
  int max_depth;    /* 0: no limit; objects and arrays each count one level */
} sg_json_limits_t;

#define SG_JSON_DEFAULT_MAX_BYTES (4u * 1024u * 1024u)
#define SG_JSON_DEFAULT_MAX_DEPTH 64

/* Parses data[0..len) into *out (a new reference). On failure returns SG_EPARSE,
 * SG_ETOOBIG or SG_ETOODEEP and writes a short reason into errbuf. */
int sg_json_parse(const char *data, size_t len, const sg_json_limits_t *lim, json_t **out,
                  char *errbuf, size_t errlen);

/* Loads a file the operator or catalog author wrote (same strictness, no size limit
 * beyond 16 MiB). errbuf gets "file:line:column: reason". */
int sg_json_load_file(const char *path, json_t **out, char *errbuf, size_t errlen);

#endif
