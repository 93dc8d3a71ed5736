/*
 * The catalog: downstream servers, public tools with their checked-in input schemas,
 * and the capability matrix (role -> granted tools). It is loaded from a directory,
 * checked as a whole (every problem reported with file and JSON Pointer), compiled
 * (schemas, per-role tool listings) and then never modified: a loaded catalog is
 * immutable and reference-counted, so calls in flight keep the catalog they started
 * with while a new one replaces it.
 *
 * Ownership: the catalog owns every string, schema and JSON value reachable from it;
 * pointers handed out stay valid while the caller holds a reference.
 */
#ifndef SG_CATALOG_CATALOG_H
#define SG_CATALOG_CATALOG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "schema/schema.h"

typedef enum { SG_ACCESS_READ = 0, SG_ACCESS_WRITE } sg_access_t;
typedef enum { SG_APPROVAL_NONE = 0, SG_APPROVAL_AUTO, SG_APPROVAL_REQUIRED } sg_approval_t;

typedef struct {
  char *name;
  char *command;
  char **argv;              /* NULL-terminated; argv[0] is the command */
  char *cwd;                /* absolute */
  char **env;               /* NULL-terminated "KEY=VALUE" entries the catalog adds */
  uint64_t call_timeout_ms; /* a call with no answer by then fails with downstream_timeout */
  uint64_t startup_timeout_ms;
} sg_server_conf_t;

typedef struct {
  char *name;              /* public name clients see and call */
  const sg_server_conf_t *server;
  char *downstream_name;   /* the tool's name on the downstream server */
  sg_access_t access;
  char *description;
  json_t *input_schema;    /* as checked in */
  sg_schema_t *schema;     /* compiled input_schema */
  json_t *listing;         /* the tools/list entry: name, title?, description, inputSchema, annotations */
} sg_tool_t;

typedef struct {
  const sg_tool_t *tool;
  sg_approval_t approval;
} sg_grant_t;

typedef struct {
  char *name;
  sg_grant_t *grants; /* sorted by tool name */
  size_t ngrants;
  json_t *tool_listing; /* array of the granted tools' listings, in name order */
} sg_role_t;

typedef struct sg_catalog {
  int refs;
  char *dir;
  sg_server_conf_t *servers;
  size_t nservers;
  sg_tool_t *tools; /* sorted by name */
  size_t ntools;
  sg_role_t *roles; /* sorted by name */
  size_t nroles;
} sg_catalog_t;

/* Loads dir/servers.json, dir/tools/ *.json and dir/matrix.json. On failure returns
 * SG_ECATALOG and appends one line per problem to errors ("file: /pointer: message"). */
int sg_catalog_load(const char *dir, sg_catalog_t **out, sg_buf_t *errors);
sg_catalog_t *sg_catalog_ref(sg_catalog_t *c);
void sg_catalog_unref(sg_catalog_t *c);

const sg_tool_t *sg_catalog_tool(const sg_catalog_t *c, const char *name);
const sg_role_t *sg_catalog_role(const sg_catalog_t *c, const char *name);
const sg_server_conf_t *sg_catalog_server(const sg_catalog_t *c, const char *name);
const sg_grant_t *sg_role_grant(const sg_role_t *r, const char *tool_name);

#endif
