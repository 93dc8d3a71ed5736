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

/* How scopegate reaches a downstream server: a process it spawns and speaks to over
 * stdio, or an MCP endpoint it speaks to over Streamable HTTP. */
typedef enum { SG_DS_STDIO = 0, SG_DS_HTTP } sg_ds_transport_t;

/* Which era of MCP scopegate speaks to an http server ("protocol" in servers.json): the
 * session era (initialize, the default), the stateless era (2026-07-28: no handshake,
 * every request carries its version and scopegate's capabilities), or whichever the
 * server offers (server/discover first, initialize when the server does not know it). */
typedef enum {
  SG_DS_PROTO_SESSION = 0,
  SG_DS_PROTO_STATELESS,
  SG_DS_PROTO_AUTO
} sg_ds_protocol_t;

/* For an http server the fields that describe a process are reused so that everything
 * comparing two definitions also compares endpoints: command (and argv[0]) hold the URL,
 * env holds the headers the catalog adds as "NAME=VALUE" entries, cwd is the catalog
 * directory, and credentials name the headers each (tenant, env) instance sends. */
typedef struct {
  char *name;
  sg_ds_transport_t transport;
  const char *url;          /* SG_DS_HTTP: the endpoint, the same string as command
                             * (owned through command); NULL for stdio */
  char *command;
  char **argv;              /* NULL-terminated; argv[0] is the command */
  char *cwd;                /* absolute */
  char **env;               /* NULL-terminated "KEY=VALUE" entries the catalog adds */
  uint64_t call_timeout_ms; /* a call with no answer by then fails with downstream_timeout */
  uint64_t startup_timeout_ms;
  char **credentials;       /* NULL-terminated names of the environment variables each
                             * (tenant, env) instance must get from the secrets file */
  sg_ds_protocol_t protocol; /* SG_DS_HTTP only; always SG_DS_PROTO_SESSION for stdio */
} sg_server_conf_t;

typedef struct {
  char *name;              /* public name clients see and call */
  char *file;              /* its definition, relative to the catalog: "tools/x.json" */
  const sg_server_conf_t *server;
  char *downstream_name;   /* the tool's name on the downstream server */
  sg_access_t access;
  char *description;
  json_t *input_schema;    /* as checked in */
  sg_schema_t *schema;     /* compiled input_schema */
  json_t *listing;         /* the tools/list entry: name, title?, description, inputSchema, annotations */
  json_t *pin;             /* what the downstream must advertise: {description, inputSchema};
                            * NULL when the tool is not pinned */
  char **sensitive;        /* NULL-terminated parameters whose values the audit never keeps */
} sg_tool_t;

/* A value taken from the authenticated context rather than from the client: "$subject",
 * "$role", "$tenant", "$env" or "$claims.NAME[.NAME...]", optionally with literal text
 * around it ("$tenant/" is the tenant followed by a slash; "files://$tenant/" puts it in
 * a URI). One reference at most; "$$" stands for a literal "$". */
typedef enum {
  SG_CTX_SUBJECT = 1,
  SG_CTX_ROLE,
  SG_CTX_TENANT,
  SG_CTX_ENV,
  SG_CTX_CLAIM
} sg_ctx_kind_t;

typedef struct {
  sg_ctx_kind_t kind;
  char *claim;  /* SG_CTX_CLAIM: the dotted path below the claims object */
  char *lead;   /* literal text before the reference ("" when none) */
  char *suffix; /* literal text after the reference ("" when none) */
} sg_ctxref_t;

/* One rule of a parameter envelope. Its operand is either a constant (JSON) or a
 * context reference. */
typedef enum {
  SG_RULE_MIN,     /* number >= operand */
  SG_RULE_MAX,     /* number <= operand */
  SG_RULE_XMIN,    /* number > operand ("exclusiveMin") */
  SG_RULE_XMAX,    /* number < operand ("exclusiveMax") */
  SG_RULE_IN,      /* value equals a member of the operand array */
  SG_RULE_PREFIX,  /* string that, as a normalised path, starts with the operand */
  SG_RULE_PATTERN, /* string matching the ECMA-262 pattern (a constant) */
  SG_RULE_EQUALS   /* value equals the operand */
} sg_rule_op_t;

typedef struct {
  sg_rule_op_t op;
  const char *name;  /* as written in the matrix: "max", "in", ... */
  json_t *constant;  /* NULL when the operand is a context reference */
  sg_ctxref_t ref;   /* kind 0 when the operand is a constant */
  void *regex;       /* SG_RULE_PATTERN: the compiled pattern (pcre2_code) */
} sg_rule_t;

typedef struct {
  char *param; /* a top-level parameter of the tool's input */
  sg_rule_t *rules;
  size_t nrules;
} sg_envelope_t;

/* A parameter forced to a context value: filled in when absent, refused when different. */
typedef struct {
  char *param;
  sg_ctxref_t ref;
} sg_binding_t;

typedef struct {
  const sg_tool_t *tool;
  sg_approval_t approval;
  uint64_t approval_timeout_ms; /* required: how long a call waits for a person */
  int64_t budget_calls;         /* auto: at most this many allowed calls per window (0: no budget) */
  int64_t budget_window_s;
  sg_envelope_t *envelope; /* in parameter-name order */
  size_t nenvelope;
  sg_binding_t *bindings;  /* in parameter-name order */
  size_t nbindings;
} sg_grant_t;

/* A public prompt: the catalog's description and arguments, served by a downstream. */
typedef struct {
  char *name; /* public name */
  const sg_server_conf_t *server;
  char *downstream_name;
  char *description;
  json_t *arguments; /* [{name, description?, required?}] as clients see them */
  json_t *listing;   /* the prompts/list entry */
} sg_prompt_t;

/* Resources of one server whose URIs start with a prefix; the prefix may be a context
 * template such as "files://$tenant/", so each tenant reaches only its own. */
typedef struct {
  const sg_server_conf_t *server;
  char *literal;  /* the prefix when it is a constant */
  sg_ctxref_t ref; /* kind 0 when it is a constant */
} sg_resource_grant_t;

typedef struct {
  char *name;
  sg_grant_t *grants; /* sorted by tool name */
  size_t ngrants;
  json_t *tool_listing; /* array of the granted tools' listings, in name order */
  sg_resource_grant_t *resources;
  size_t nresources;
  const sg_prompt_t **prompts; /* granted prompts, sorted by name */
  size_t nprompts;
  json_t *prompt_listing;
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
  sg_prompt_t *prompts; /* sorted by name; from prompts/ *.json, which is optional */
  size_t nprompts;
  int writes_enabled; /* matrix.json "writes_enabled": write tools are off unless true */
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
const sg_prompt_t *sg_catalog_prompt(const sg_catalog_t *c, const char *name);
const sg_prompt_t *sg_role_prompt(const sg_role_t *r, const char *name);

#endif
