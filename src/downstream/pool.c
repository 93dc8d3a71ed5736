/*
 * Downstream pool keyed by (server, tenant, environment). A gateway has a handful of
 * servers and, per instance, few tenants, so a linear array is the right structure.
 */
#include "downstream/pool.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/error.h"

struct sg_pool {
  uv_loop_t *loop;
  const sg_secrets_t *secrets;
  sg_ds_tools_cb on_tools;
  void *on_tools_arg;
  sg_downstream_t **items;
  size_t n, cap;
  size_t closing;
  void (*done)(void *arg);
  void *arg;
};

sg_pool_t *sg_pool_new(uv_loop_t *loop, const sg_secrets_t *secrets, sg_ds_tools_cb on_tools,
                       void *on_tools_arg) {
  sg_pool_t *p = calloc(1, sizeof *p);
  if (p == NULL) return NULL;
  p->loop = loop;
  p->secrets = secrets;
  p->on_tools = on_tools;
  p->on_tools_arg = on_tools_arg;
  return p;
}

int sg_pool_get(sg_pool_t *p, const sg_server_conf_t *conf, const char *tenant, const char *env,
                sg_downstream_t **out, char *why, size_t whylen) {
  if (p->done) {
    snprintf(why, whylen, "the gateway is shutting down");
    return SG_ESHUTDOWN;
  }
  for (size_t i = 0; i < p->n; i++)
    if (sg_downstream_matches(p->items[i], conf, tenant, env)) {
      *out = p->items[i];
      return 0;
    }
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 8;
    sg_downstream_t **items = realloc(p->items, cap * sizeof *items);
    if (items == NULL) return SG_ENOMEM;
    p->items = items;
    p->cap = cap;
  }
  /* Each instance gets the credentials of its own (tenant, env) and no other's. */
  char **creds = NULL;
  int rc = sg_secrets_env(p->secrets, conf, tenant, env, &creds, why, whylen);
  if (rc) return rc;
  rc = sg_downstream_start(p->loop, conf, tenant, env, creds, p->on_tools, p->on_tools_arg, out);
  if (rc == 0) {
    p->items[p->n++] = *out;
    return 0;
  }
  for (char **e = creds; e && *e; e++) free(*e);
  free(creds);
  snprintf(why, whylen, "cannot start server \"%s\"", conf->name);
  return rc;
}

static void one_closed(void *arg) {
  sg_pool_t *p = arg;
  if (--p->closing > 0) return;
  void (*done)(void *) = p->done;
  void *darg = p->arg;
  free(p->items);
  free(p);
  done(darg);
}

void sg_pool_close(sg_pool_t *p, void (*done)(void *arg), void *arg) {
  p->done = done;
  p->arg = arg;
  p->closing = p->n + 1; /* +1 so the pool is not freed while this loop runs */
  for (size_t i = 0; i < p->n; i++) sg_downstream_close(p->items[i], one_closed, p);
  one_closed(p);
}
