/*
 * Schema documents from local files, for $ref to other documents: the one way the CLI and
 * the catalog give the compiler documents beyond the one being compiled. The network is
 * never used.
 *
 * A resolver holds two kinds of rules:
 *   - mappings URI-PREFIX -> DIRECTORY: a URI that starts with the prefix names the file
 *     DIRECTORY/REST, where REST is the rest of the URI, %-decoded;
 *   - allowed directories: a file:// URI names the file at its %-decoded path.
 * Either way the file must be a regular file that is, once every symbolic link and ".." is
 * resolved (realpath), inside the directory of the rule that matched (mappings) or inside
 * one of the allowed directories (file:// URIs). A URI with a query, an empty or absolute
 * REST, a NUL byte, or anything else is unknown: the resolver returns NULL and the
 * compiler reports the $ref as unresolvable. Documents are read strictly: duplicate keys
 * are refused, and files are at most 16 MiB.
 *
 * Ownership: the resolver copies the prefixes and directories it is given.
 * sg_schema_resolver_resolve returns a new reference that the caller (the compiler) owns.
 * A resolver is used by one compilation at a time: it records why the last lookup
 * failed, for sg_schema_resolver_error.
 */
#ifndef SG_SCHEMA_RESOLVER_H
#define SG_SCHEMA_RESOLVER_H

#include <stddef.h>

#include "schema/schema.h"

typedef struct sg_schema_resolver sg_schema_resolver_t;

/* Returns a resolver without rules, or NULL when memory runs out. */
sg_schema_resolver_t *sg_schema_resolver_new(void);
void sg_schema_resolver_free(sg_schema_resolver_t *r);

/* Maps URIs starting with prefix to files under dir. A prefix that does not end in "/"
   matches only as a whole path segment ("https://x/s" matches "https://x/s/a.json", not
   "https://x/sa.json"). Returns 0, SG_EINVAL when prefix is empty or dir is not an
   existing directory, or SG_ENOMEM. */
int sg_schema_resolver_map(sg_schema_resolver_t *r, const char *prefix, const char *dir);

/* Allows file:// URIs (file:///PATH or file://localhost/PATH) naming files under dir.
   Returns 0, SG_EINVAL when dir is not an existing directory, or SG_ENOMEM. */
int sg_schema_resolver_allow(sg_schema_resolver_t *r, const char *dir);

/* An sg_schema_resolve_fn: data is the resolver. */
json_t *sg_schema_resolver_resolve(void *data, const char *uri);

/* Points opts->resolve and opts->resolve_data at r. */
void sg_schema_resolver_use(sg_schema_resolver_t *r, sg_schema_opts_t *opts);

/* Why the last lookup returned NULL ("" when it did not), e.g.
   "file:///srv/x.json: outside the allowed directories". */
const char *sg_schema_resolver_error(const sg_schema_resolver_t *r);

/* Writes the file:// URI of path (made absolute and canonical with realpath; characters
   other than unreserved ones and "/" %-encoded) into out. Returns 0, SG_EIO when path
   does not exist, or SG_EINVAL when out is too small. */
int sg_schema_file_uri(const char *path, char *out, size_t outlen);

/* Self-contained copies (bundle.c). Returns in *out a new copy of schema (borrowed) in
   which each $ref to another document, read through opts->resolve, is replaced by what it
   names, recursively: for clients that cannot read those documents, and for comparing two
   versions of a schema. A $ref alone (or any $ref in draft-07) is replaced by its target;
   a 2020-12 $ref beside other keywords becomes one more "allOf" entry. $refs within the
   document, and to documents the resolver does not know (meta-schemas), stay as they
   are. Returns 0, SG_ENOMEM, or SG_ESCHEMA with err filled (keyword_location is where
   the $ref is) when a referenced document refers into itself or declares identifiers
   ($id below its root, $anchor, $dynamicRef...), so that moving it would change what
   it means, or when references nest more than 16 deep or name more than 256 documents. */
int sg_schema_inline_refs(json_t *schema, const sg_schema_opts_t *opts, json_t **out,
                          sg_schema_error_t *err);

#endif
