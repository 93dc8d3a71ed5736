/*
 * Downstream pool keyed by (server, tenant, environment). A gateway has a handful of
 * servers and, per instance, few tenants, so a linear array is the right structure.
 *
 * Each instance keeps a reference to the catalog whose server definition started it.
 * When the catalog is replaced, instances whose definition changed are retired: they
 * take no new calls, finish the ones they have, then stop; the others stay and are asked
 * for their tools again, to be checked against the new pins.
 */
#include "downstream/pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

typedef struct {
  sg_downstream_t *ds;
  sg_catalog_t *catalog; /* the catalog ds->conf belongs to */
  int retired;
} item_t;

struct sg_pool {
  uv_loop_t *loop;
  const sg_secrets_t *secrets;
  sg_ds_events_t events; /* given to every instance */
  sg_catalog_t *catalog; /* current: new instances start from its definitions */
  item_t *items;
  size_t n, cap;
  int closing; /* inside sg_pool_close's loop */
  void (*done)(void *arg);
  void *arg;
};

sg_pool_t *sg_pool_new(uv_loop_t *loop, const sg_secrets_t *secrets, const sg_ds_events_t *events) {
  sg_pool_t *p = calloc(1, sizeof *p);
  if (p == NULL) return NULL;
  p->loop = loop;
  p->secrets = secrets;
  if (events) p->events = *events;
  return p;
}

sg_downstream_t *sg_pool_find(const sg_pool_t *p, const sg_server_conf_t *conf, const char *tenant,
                              const char *env) {
  if (p->done) return NULL;
  for (size_t i = 0; i < p->n; i++)
    if (!p->items[i].retired && sg_downstream_matches(p->items[i].ds, conf, tenant, env))
      return p->items[i].ds;
  return NULL;
}

int sg_pool_get(sg_pool_t *p, const sg_server_conf_t *conf, const char *tenant, const char *env,
                sg_downstream_t **out, char *why, size_t whylen) {
  if (p->done) {
    snprintf(why, whylen, "the gateway is shutting down");
    return SG_ESHUTDOWN;
  }
  if ((*out = sg_pool_find(p, conf, tenant, env)) != NULL) return 0;
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 8;
    item_t *items = realloc(p->items, cap * sizeof *items);
    if (items == NULL) return SG_ENOMEM;
    p->items = items;
    p->cap = cap;
  }
  /* Each instance gets the credentials of its own (tenant, env) and no other's. */
  char **creds = NULL;
  int rc = sg_secrets_env(p->secrets, conf, tenant, env, &creds, why, whylen);
  if (rc) return rc;
  rc = sg_downstream_start(p->loop, conf, tenant, env, creds, &p->events, out);
  if (rc == 0) {
    p->items[p->n++] = (item_t){*out, p->catalog ? sg_catalog_ref(p->catalog) : NULL, 0};
    return 0;
  }
  for (char **e = creds; e && *e; e++) free(*e);
  free(creds);
  snprintf(why, whylen, "cannot start server \"%s\"", conf->name);
  return rc;
}

static void remove_item(sg_pool_t *p, sg_downstream_t *ds) {
  for (size_t i = 0; i < p->n; i++)
    if (p->items[i].ds == ds) {
      sg_catalog_unref(p->items[i].catalog);
      p->items[i] = p->items[--p->n];
      return;
    }
}

/* Frees the pool once it is closing and its last instance has stopped. */
static void maybe_done(sg_pool_t *p) {
  if (p->done == NULL || p->n > 0 || p->closing) return;
  void (*done)(void *) = p->done;
  void *darg = p->arg;
  free(p->items);
  sg_catalog_unref(p->catalog);
  free(p);
  done(darg);
}

typedef struct {
  sg_pool_t *pool;
  sg_downstream_t *ds;
} stopping_t;

static void instance_stopped(void *arg) {
  stopping_t *st = arg;
  sg_pool_t *p = st->pool;
  remove_item(p, st->ds);
  free(st);
  maybe_done(p);
}

static stopping_t *stopping(sg_pool_t *p, sg_downstream_t *ds) {
  stopping_t *st = malloc(sizeof *st);
  st->pool = p;
  st->ds = ds;
  return st;
}

static int same_strv(char **a, char **b) {
  for (; a && b && *a && *b; a++, b++)
    if (strcmp(*a, *b) != 0) return 0;
  return (a == NULL || *a == NULL) && (b == NULL || *b == NULL);
}

/* Whether two definitions of a server start the same process the same way. */
static int same_server(const sg_server_conf_t *a, const sg_server_conf_t *b) {
  return a->transport == b->transport && strcmp(a->command, b->command) == 0 &&
         same_strv(a->argv, b->argv) && strcmp(a->cwd, b->cwd) == 0 && same_strv(a->env, b->env) &&
         same_strv(a->credentials, b->credentials) && a->call_timeout_ms == b->call_timeout_ms &&
         a->startup_timeout_ms == b->startup_timeout_ms && a->protocol == b->protocol;
}

void sg_pool_set_catalog(sg_pool_t *p, sg_catalog_t *cat) {
  sg_catalog_t *old = p->catalog;
  p->catalog = sg_catalog_ref(cat);
  if (old == NULL) return;
  /* Retiring may stop an instance at once, which removes it from the array: walk a
   * snapshot. */
  size_t n = p->n;
  sg_downstream_t **all = malloc((n + 1) * sizeof *all);
  for (size_t i = 0; i < n; i++) all[i] = p->items[i].retired ? NULL : p->items[i].ds;
  for (size_t i = 0; i < n; i++) {
    if (all[i] == NULL) continue;
    const sg_server_conf_t *now = sg_catalog_server(cat, sg_downstream_name(all[i]));
    if (now && same_server(now, sg_downstream_conf(all[i]))) {
      sg_downstream_relist(all[i]);
      continue;
    }
    for (size_t k = 0; k < p->n; k++)
      if (p->items[k].ds == all[i]) p->items[k].retired = 1;
    sg_downstream_retire(all[i], instance_stopped, stopping(p, all[i]));
  }
  free(all);
  sg_catalog_unref(old);
}

void sg_pool_close(sg_pool_t *p, void (*done)(void *arg), void *arg) {
  p->done = done;
  p->arg = arg;
  p->closing = 1; /* so the pool is not freed while this loop runs */
  size_t n = p->n;
  item_t *all = malloc((n + 1) * sizeof *all);
  if (n) memcpy(all, p->items, n * sizeof *all);
  /* Closing ends each instance's calls with SG_ESHUTDOWN; a retiring instance keeps the
   * callback it was given when it was retired. */
  for (size_t i = 0; i < n; i++)
    sg_downstream_close(all[i].ds, all[i].retired ? NULL : instance_stopped,
                        all[i].retired ? NULL : stopping(p, all[i].ds));
  free(all);
  p->closing = 0;
  maybe_done(p);
}
