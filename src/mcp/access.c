/*
 * Resources and prompts, with the same default deny as tools: prompts/list and
 * resources/list show only what the caller's role is granted; prompts/get,
 * resources/read and resources/subscribe are decided, audited and only then forwarded,
 * through the same path as tools/call (subscriptions.c keeps what was subscribed).
 *
 * resources/list asks each granted server instance (for the caller's tenant and env) in
 * turn, keeps the resources under the granted prefixes, and answers with all of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "downstream/pool.h"
#include "json/canonical.h"
#include "json/rpc.h"
#include "mcp/session_internal.h"
#include "policy/context.h"
#include "policy/path.h"

#define MAX_LIST_PAGES 50

struct sg_listing {
  sg_listing_t *next;
  sg_session_t *session;
  json_t *client_id;
  const sg_role_t *role;
  sg_catalog_t *catalog;
  size_t grant;        /* the resource grant being asked */
  int pages;
  json_t *resources;   /* collected */
  sg_ds_request_t *req; /* in flight, or NULL */
};

/* The prefix a resource grant gives this caller, or 0 when the context lacks it. */
static int grant_prefix(const sg_resource_grant_t *g, const sg_principal_t *who, char *out,
                        size_t outlen) {
  if (g->ref.kind == 0) {
    snprintf(out, outlen, "%s", g->literal);
    return 1;
  }
  json_t *v = sg_ctx_resolve(&g->ref, who);
  int ok = json_is_string(v) && json_string_length(v) < outlen;
  if (ok) snprintf(out, outlen, "%s", json_string_value(v));
  json_decref(v);
  return ok;
}

/* Whether uri lies under prefix: it starts with it and what follows is a plain path that
 * normalisation leaves unchanged (no "..", no escapes, no look-alikes). */
static int under_prefix(const char *uri, const char *prefix) {
  size_t n = strlen(prefix);
  if (strncmp(uri, prefix, n) != 0) return 0;
  const char *rest = uri + n;
  if (*rest == '\0') return 1;
  char norm[4096];
  const char *why;
  if (sg_path_normalize(rest, strlen(rest), norm, sizeof norm, &why) != 0) return 0;
  return strcmp(norm, rest) == 0;
}

/* ---- resources/list ---- */

static void listing_next(sg_listing_t *ls, const char *cursor);

static void listing_finish(sg_listing_t *ls, int answer) {
  sg_session_t *s = ls->session;
  for (sg_listing_t **p = &s->listings; *p; p = &(*p)->next)
    if (*p == ls) {
      *p = ls->next;
      break;
    }
  if (answer)
    sg__session_send(s, sg_rpc_result(ls->client_id, json_pack("{s:O}", "resources", ls->resources)));
  json_decref(ls->client_id);
  json_decref(ls->resources);
  sg_catalog_unref(ls->catalog);
  free(ls);
}

static void listing_page(void *ctx, int err, json_t *response, const char *why) {
  sg_listing_t *ls = ctx;
  ls->req = NULL;
  if (err == SG_ECANCELLED) {
    listing_finish(ls, 0);
    return;
  }
  const sg_resource_grant_t *g = &ls->role->resources[ls->grant];
  json_t *result = response ? json_object_get(response, "result") : NULL;
  if (err || result == NULL) {
    /* One server failing leaves the others' resources listed; say so in the log. */
    sg_warn("resources/list: server %s: %s", g->server->name,
            why ? why : "answered with an error");
  } else {
    /* Keep what lies under any of the role's grants on this server. */
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(result, "resources"), i, r) {
      const char *uri = json_string_value(json_object_get(r, "uri"));
      for (size_t k = 0; uri && k < ls->role->nresources; k++) {
        char prefix[1024];
        const sg_resource_grant_t *gk = &ls->role->resources[k];
        if (gk->server == g->server &&
            grant_prefix(gk, &ls->session->principal, prefix, sizeof prefix) &&
            under_prefix(uri, prefix)) {
          json_array_append(ls->resources, r);
          break;
        }
      }
    }
    const char *cursor = json_string_value(json_object_get(result, "nextCursor"));
    if (cursor && ++ls->pages < MAX_LIST_PAGES) {
      listing_next(ls, cursor);
      return;
    }
  }
  ls->grant++;
  ls->pages = 0;
  listing_next(ls, NULL);
}

/* Asks the current grant's server for (a page of) its resources, skipping grants whose
 * server cannot be reached; answers when every grant has been asked. */
static void listing_next(sg_listing_t *ls, const char *cursor) {
  sg_session_t *s = ls->session;
  for (; ls->grant < ls->role->nresources; ls->grant++, cursor = NULL) {
    const sg_resource_grant_t *g = &ls->role->resources[ls->grant];
    /* Several grants on one server: ask it once, at its first grant. */
    int asked = 0;
    for (size_t k = 0; k < ls->grant; k++)
      if (ls->role->resources[k].server == g->server) asked = 1;
    if (asked) continue;
    sg_downstream_t *ds;
    char why[256];
    if (sg_pool_get(s->gw->pool, g->server, s->principal.tenant, s->principal.env, &ds, why,
                    sizeof why) != 0) {
      sg_warn("resources/list: %s", why);
      continue;
    }
    json_t *params = cursor ? json_pack("{s:s}", "cursor", cursor) : json_object();
    if (sg_downstream_request(ds, "resources/list", params, listing_page, NULL, ls, &ls->req) == 0)
      return;
    sg_warn("resources/list: server %s cannot take the request", g->server->name);
  }
  listing_finish(ls, 1);
}

static void resources_list(sg_session_t *s, json_t *id, const sg_role_t *role) {
  sg_listing_t *ls = calloc(1, sizeof *ls);
  ls->session = s;
  ls->client_id = json_incref(id);
  ls->role = role;
  ls->catalog = sg_catalog_ref(s->gw->catalog);
  ls->resources = json_array();
  ls->next = s->listings;
  s->listings = ls;
  listing_next(ls, NULL);
}

/* ---- resources/read and prompts/get ---- */

/* Returns 1 when the request was forwarded, 0 when it was refused. */
static int refuse_or_forward(sg_session_t *s, json_t *id, const char *label, int err,
                              const char *message, const char *pointer,
                              const sg_server_conf_t *server, const char *method, json_t *params) {
  char call_id[48];
  sg__call_id(s, call_id);
  char hash[SG_SHA256_HEX_LEN + 1] = "";
  if (params) sg_json_canonical_hash(params, hash);
  sg_downstream_t *ds = NULL;
  char why[256];
  if (err == 0 && sg_pool_get(s->gw->pool, server, s->principal.tenant, s->principal.env, &ds,
                              why, sizeof why) != 0) {
    err = SG_EDOWNSTREAM;
    message = why;
  }
  sg_call_decision_t cd = {call_id, label,  hash,   err == 0, err,
                           message, pointer, NULL,  ds,       method,
                           err == 0 ? params : NULL, NULL};
  if (err) json_decref(params);
  return sg__call_decided(s, id, &cd);
}

const sg_server_conf_t *sg__access_resource_server(const sg_role_t *role,
                                                   const sg_principal_t *who, const char *uri) {
  for (size_t i = 0; role && i < role->nresources; i++) {
    char prefix[1024];
    if (grant_prefix(&role->resources[i], who, prefix, sizeof prefix) && under_prefix(uri, prefix))
      return role->resources[i].server;
  }
  return NULL;
}

/* resources/read and resources/subscribe (what): granted by the same prefixes. A granted
 * subscribe is recorded once forwarded; the downstream's answer goes to the client. */
static void resources_access(sg_session_t *s, json_t *id, const sg_role_t *role, json_t *params,
                             const char *what) {
  int subscribe = strcmp(what, "resources/subscribe") == 0;
  const char *uri = json_string_value(json_object_get(params, "uri"));
  if (uri == NULL) {
    char msg[96];
    snprintf(msg, sizeof msg, "%.40s needs a \"uri\" string", what);
    sg__session_send_error(s, id, SG_EBADPARAMS, msg, NULL);
    return;
  }
  char label[160];
  snprintf(label, sizeof label, "%s:%.148s", subscribe ? "subscribe" : "resource", uri);
  const sg_server_conf_t *server = sg__access_resource_server(role, &s->principal, uri);
  if (server == NULL) {
    char msg[300];
    snprintf(msg, sizeof msg, "resource \"%.200s\" is not granted to role \"%.60s\"", uri,
             s->principal.role);
    refuse_or_forward(s, id, label, SG_ENOT_GRANTED, msg, NULL, NULL, NULL, json_deep_copy(params));
    return;
  }
  if (!refuse_or_forward(s, id, label, 0, NULL, NULL, server, what,
                         json_pack("{s:s}", "uri", uri)) ||
      !subscribe)
    return;
  sg_downstream_t *ds;
  char why[256];
  /* The instance the request was just given to (the pool has it). */
  if (sg_pool_get(s->gw->pool, server, s->principal.tenant, s->principal.env, &ds, why,
                  sizeof why) != 0 ||
      sg__subs_add(s, server, ds, uri) != 0)
    sg_error("could not record the subscription of %s to %s; updates will not reach it",
             s->principal.subject, uri);
}

static void prompts_get(sg_session_t *s, json_t *id, const sg_role_t *role, json_t *params) {
  const char *name = json_string_value(json_object_get(params, "name"));
  json_t *args = json_object_get(params, "arguments");
  if (name == NULL || (args && !json_is_object(args))) {
    sg__session_send_error(s, id, SG_EBADPARAMS,
                           "prompts/get needs a \"name\" string and an \"arguments\" object", NULL);
    return;
  }
  char label[160], msg[300], pointer[160] = "";
  snprintf(label, sizeof label, "prompt:%.150s", name);
  const sg_prompt_t *p = sg_catalog_prompt(s->gw->catalog, name);
  json_t *copy = args ? json_deep_copy(args) : json_object();
  if (p == NULL) {
    snprintf(msg, sizeof msg, "unknown prompt \"%.128s\"", name);
    refuse_or_forward(s, id, label, SG_EUNKNOWN_PROMPT, msg, NULL, NULL, NULL, copy);
    return;
  }
  if (role == NULL || sg_role_prompt(role, name) == NULL) {
    snprintf(msg, sizeof msg, "prompt \"%.128s\" is not granted to role \"%.60s\"", name,
             s->principal.role);
    refuse_or_forward(s, id, label, SG_ENOT_GRANTED, msg, NULL, NULL, NULL, copy);
    return;
  }
  /* Arguments: strings, each declared, every required one present. */
  const char *k;
  json_t *v;
  int bad = 0;
  json_object_foreach(copy, k, v) {
    int declared = 0;
    size_t i;
    json_t *a;
    json_array_foreach(p->arguments, i, a)
      if (strcmp(json_string_value(json_object_get(a, "name")), k) == 0) declared = 1;
    if (!declared || !json_is_string(v)) {
      snprintf(pointer, sizeof pointer, "/%.150s", k);
      snprintf(msg, sizeof msg, "prompt \"%.100s\": argument \"%.100s\" %s", name, k,
               declared ? "must be a string" : "is not declared");
      bad = 1;
      break;
    }
  }
  size_t i;
  json_t *a;
  json_array_foreach(p->arguments, i, a) {
    const char *an = json_string_value(json_object_get(a, "name"));
    if (!bad && json_is_true(json_object_get(a, "required")) && !json_object_get(copy, an)) {
      snprintf(pointer, sizeof pointer, "/%.150s", an);
      snprintf(msg, sizeof msg, "prompt \"%.100s\": argument \"%.100s\" is required", name, an);
      bad = 1;
    }
  }
  if (bad) {
    refuse_or_forward(s, id, label, SG_EINVALID_ARGS, msg, pointer, NULL, NULL, copy);
    return;
  }
  refuse_or_forward(s, id, label, 0, NULL, NULL, p->server, "prompts/get",
                    json_pack("{s:s, s:o}", "name", p->downstream_name, "arguments", copy));
}

int sg__access_request(sg_session_t *s, const char *method, json_t *id, json_t *params) {
  const sg_role_t *role = sg_catalog_role(s->gw->catalog, s->principal.role);
  if (strcmp(method, "prompts/list") == 0) {
    json_t *list = role && role->prompt_listing ? json_incref(role->prompt_listing) : json_array();
    sg__session_send(s, sg_rpc_result(id, json_pack("{s:o}", "prompts", list)));
  } else if (strcmp(method, "prompts/get") == 0) {
    prompts_get(s, id, role, params);
  } else if (strcmp(method, "resources/list") == 0) {
    if (role && role->nresources) resources_list(s, id, role);
    else sg__session_send(s, sg_rpc_result(id, json_pack("{s:[]}", "resources")));
  } else if (strcmp(method, "resources/templates/list") == 0) {
    /* Templates would let a client construct URIs outside its grants' listings; reads
     * are checked either way, and none are offered. */
    sg__session_send(s, sg_rpc_result(id, json_pack("{s:[]}", "resourceTemplates")));
  } else if (strcmp(method, "resources/read") == 0 ||
             (strcmp(method, "resources/subscribe") == 0 && !s->stateless)) {
    resources_access(s, id, role, params, method);
  } else if (strcmp(method, "resources/unsubscribe") == 0 && !s->stateless) {
    sg__subs_unsubscribe(s, id, params);
  } else {
    return 0;
  }
  return 1;
}

void sg__access_cancel_all(sg_session_t *s) {
  while (s->listings) {
    sg_listing_t *ls = s->listings;
    if (ls->req) sg_downstream_cancel(ls->req, "the client disconnected"); /* finishes ls */
    else listing_finish(ls, 0);
  }
}
