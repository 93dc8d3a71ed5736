/*
 * Resource subscriptions, relayed. A client subscribes to a URI its role is granted (the
 * decision is made and audited in access.c, like a read); the gateway keeps one entry per
 * (server, tenant, env, URI) listing the sessions subscribed, so the downstream instance
 * that serves them hears one unsubscribe only when the last of them leaves, by
 * resources/unsubscribe or by disconnecting. Each notifications/resources/updated from an
 * instance goes to the sessions of its entry whose role the current catalog still grants
 * the URI (a session that lost the grant is dropped from the entry). An instance that
 * starts afresh (a restarted process, a new HTTP session, a replacement after a reload) is
 * subscribed again when it is ready, so no subscription is silently lost.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "downstream/pool.h"
#include "json/rpc.h"
#include "mcp/session_internal.h"

struct sg_subscription {
  sg_subscription_t *next;
  char *server, *tenant, *env, *uri;
  unsigned generation; /* the downstream initialization last asked to subscribe */
  int awaiting_first;  /* asked of an instance not yet initialized: its first counts */
  sg_session_t **sessions;
  size_t n, cap;
};

static sg_subscription_t *find(sg_gateway_t *gw, const char *server, const char *tenant,
                               const char *env, const char *uri) {
  for (sg_subscription_t *e = gw->subscriptions; e; e = e->next)
    if (strcmp(e->uri, uri) == 0 && strcmp(e->server, server) == 0 &&
        strcmp(e->tenant, tenant) == 0 && strcmp(e->env, env) == 0)
      return e;
  return NULL;
}

static void entry_free(sg_subscription_t *e) {
  free(e->server);
  free(e->tenant);
  free(e->env);
  free(e->uri);
  free(e->sessions);
  free(e);
}

/* What the downstream answers to the gateway's own (un)subscribe: only worth a log line. */
static void housekeeping_answered(void *ctx, int err, json_t *response, const char *why) {
  char *what = ctx;
  json_t *error = response ? json_object_get(response, "error") : NULL;
  if (err < 0 && err != SG_ESHUTDOWN && err != SG_ECANCELLED)
    sg_warn("%s: %s", what, why ? why : sg_strerror(err));
  else if (error)
    sg_warn("%s: the server refused: %s", what,
            json_string_value(json_object_get(error, "message")) ?: "no message");
  free(what);
}

static void send_housekeeping(sg_downstream_t *ds, const char *method, const char *uri) {
  size_t len = strlen(method) + strlen(uri) + strlen(sg_downstream_name(ds)) + 32;
  char *what = malloc(len);
  if (what == NULL) return;
  snprintf(what, len, "%s %s on server %s", method, uri, sg_downstream_name(ds));
  sg_ds_request_t *handle;
  if (sg_downstream_request(ds, method, json_pack("{s:s}", "uri", uri), housekeeping_answered, NULL,
                            what, &handle) != 0) {
    sg_warn("%s: the server takes no requests now", what);
    free(what);
  }
}

/* Removes the entry from the gateway's list and, when an instance of its server serves
 * its (tenant, env) now, unsubscribes it there. */
static void entry_retire(sg_gateway_t *gw, sg_subscription_t *e) {
  for (sg_subscription_t **p = &gw->subscriptions; *p; p = &(*p)->next)
    if (*p == e) {
      *p = e->next;
      break;
    }
  /* Only the instance that was subscribed needs telling; none is started for it. */
  const sg_server_conf_t *conf = sg_catalog_server(gw->catalog, e->server);
  sg_downstream_t *ds =
      conf && !gw->closing ? sg_pool_find(gw->pool, conf, e->tenant, e->env) : NULL;
  if (ds && e->generation && sg_downstream_generation(ds) == e->generation)
    send_housekeeping(ds, "resources/unsubscribe", e->uri);
  entry_free(e);
}

/* Takes s off e's list; returns whether it was on it. The entry is retired when empty. */
static int entry_leave(sg_gateway_t *gw, sg_subscription_t *e, sg_session_t *s) {
  for (size_t i = 0; i < e->n; i++)
    if (e->sessions[i] == s) {
      e->sessions[i] = e->sessions[--e->n];
      if (e->n == 0) entry_retire(gw, e);
      return 1;
    }
  return 0;
}

int sg__subs_add(sg_session_t *s, const sg_server_conf_t *server, sg_downstream_t *ds,
                 const char *uri) {
  sg_gateway_t *gw = s->gw;
  sg_subscription_t *e = find(gw, server->name, s->principal.tenant, s->principal.env, uri);
  if (e == NULL) {
    e = calloc(1, sizeof *e);
    if (e == NULL) return SG_ENOMEM;
    e->server = strdup(server->name);
    e->tenant = strdup(s->principal.tenant);
    e->env = strdup(s->principal.env);
    e->uri = strdup(uri);
    if (!e->server || !e->tenant || !e->env || !e->uri) {
      entry_free(e);
      return SG_ENOMEM;
    }
    e->next = gw->subscriptions;
    gw->subscriptions = e;
  }
  /* The client's own subscribe is on its way to ds: sent now, or queued until ds is ready.
   * (Queued behind a restart, it may reach the new process after the gateway's own
   * renewal: subscribing twice is harmless.) */
  e->generation = sg_downstream_generation(ds);
  e->awaiting_first = e->generation == 0;
  for (size_t i = 0; i < e->n; i++)
    if (e->sessions[i] == s) return 0;
  if (e->n == e->cap) {
    size_t cap = e->cap ? e->cap * 2 : 4;
    sg_session_t **grown = realloc(e->sessions, cap * sizeof *grown);
    if (grown == NULL) {
      if (e->n == 0) entry_retire(gw, e);
      return SG_ENOMEM;
    }
    e->sessions = grown;
    e->cap = cap;
  }
  e->sessions[e->n++] = s;
  return 0;
}

void sg__subs_unsubscribe(sg_session_t *s, json_t *id, json_t *params) {
  const char *uri = json_string_value(json_object_get(params, "uri"));
  if (uri == NULL) {
    sg__session_send_error(s, id, SG_EBADPARAMS, "resources/unsubscribe needs a \"uri\" string",
                           NULL);
    return;
  }
  /* The session may be subscribed to uri through any server (grants may have moved): take
   * it off every entry for its tenant and env. Unsubscribing from what one never
   * subscribed to is not an error, as with servers that keep a set. */
  int left = 0;
  for (sg_subscription_t *e = s->gw->subscriptions, *next; e; e = next) {
    next = e->next;
    if (strcmp(e->uri, uri) == 0 && strcmp(e->tenant, s->principal.tenant) == 0 &&
        strcmp(e->env, s->principal.env) == 0)
      left |= entry_leave(s->gw, e, s);
  }
  sg_debug("session of %s: unsubscribed from %s%s", s->principal.subject, uri,
           left ? "" : " (was not subscribed)");
  sg__session_send(s, sg_rpc_result(id, json_object()));
}

void sg__subs_drop_session(sg_session_t *s) {
  for (sg_subscription_t *e = s->gw->subscriptions, *next; e; e = next) {
    next = e->next;
    entry_leave(s->gw, e, s);
  }
}

void sg__subs_instance_ready(sg_gateway_t *gw, sg_downstream_t *ds) {
  unsigned now = sg_downstream_generation(ds);
  for (sg_subscription_t *e = gw->subscriptions; e; e = e->next)
    if (e->generation != now && strcmp(e->server, sg_downstream_name(ds)) == 0 &&
        strcmp(e->tenant, sg_downstream_tenant(ds)) == 0 &&
        strcmp(e->env, sg_downstream_env(ds)) == 0) {
      e->generation = now;
      if (e->awaiting_first) {
        e->awaiting_first = 0; /* the client's request is queued for this initialization */
        continue;
      }
      sg_info("downstream %s (tenant %s, env %s) started afresh; subscribing to %s again",
              e->server, e->tenant, e->env, e->uri);
      send_housekeeping(ds, "resources/subscribe", e->uri);
    }
}

void sg_gateway_on_resource_updated(sg_downstream_t *ds, const char *uri, void *arg) {
  sg_gateway_t *gw = arg;
  sg_subscription_t *e =
      find(gw, sg_downstream_name(ds), sg_downstream_tenant(ds), sg_downstream_env(ds), uri);
  if (e == NULL) {
    sg_debug("downstream %s: update of %s, to which no client is subscribed; dropped",
             sg_downstream_name(ds), uri);
    return;
  }
  /* Delivering can retire the entry (a session that lost its grant leaves it): walk from
   * the end, re-reading the count, and stop once the entry is gone. */
  for (size_t i = e->n; i-- > 0;) {
    sg_session_t *s = e->sessions[i];
    const sg_role_t *role = sg_catalog_role(gw->catalog, s->principal.role);
    const sg_server_conf_t *server = sg__access_resource_server(role, &s->principal, uri);
    if (server == NULL || strcmp(server->name, e->server) != 0) {
      sg_info("session of %s no longer has %s granted; its subscription ends", s->principal.subject,
              uri);
      int last = e->n == 1;
      entry_leave(gw, e, s);
      if (last) return;
      continue;
    }
    sg__session_send(
        s, sg_rpc_notification("notifications/resources/updated", json_pack("{s:s}", "uri", uri)));
  }
}
