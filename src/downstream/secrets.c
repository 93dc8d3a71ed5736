/*
 * The operator's secrets file (see secrets.h). Its permissions are checked before a byte
 * is read, and values are never logged.
 */
#include "downstream/secrets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "json/parse.h"

struct sg_secrets {
  json_t *root;
};

int sg_secrets_load(const char *path, sg_secrets_t **out, char *errbuf, size_t errlen) {
  *out = NULL;
  struct stat st;
  if (stat(path, &st) != 0) {
    snprintf(errbuf, errlen, "%s: cannot read the secrets file", path);
    return SG_EIO;
  }
  if (!S_ISREG(st.st_mode)) {
    snprintf(errbuf, errlen, "%s: the secrets file is not a regular file", path);
    return SG_EIO;
  }
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    snprintf(errbuf, errlen,
             "%s: the secrets file is accessible to group or others (mode %03o); "
             "run chmod 600 on it",
             path, (unsigned)(st.st_mode & 0777));
    return SG_EIO;
  }
  if (st.st_uid != geteuid()) {
    snprintf(errbuf, errlen, "%s: the secrets file belongs to another user", path);
    return SG_EIO;
  }
  json_t *root = NULL;
  int rc = sg_json_load_file(path, &root, errbuf, errlen);
  if (rc) return rc;
  json_t *servers = json_object_get(root, "servers");
  if (!json_is_object(root) || json_object_size(root) != 1 || !json_is_object(servers)) {
    snprintf(errbuf, errlen, "%s: expected {\"servers\": {SERVER: {TENANT: {ENV: {\"env\": {...}}}}}}", path);
    json_decref(root);
    return SG_EPARSE;
  }
  /* Every leaf must be a string under .../ENV/env/NAME. */
  const char *server, *tenant, *envname, *name;
  json_t *sv, *tv, *ev, *nv;
  json_object_foreach(servers, server, sv) {
    if (!json_is_object(sv)) {
      snprintf(errbuf, errlen, "%s: /servers/%s must be an object of tenants", path, server);
      json_decref(root);
      return SG_EPARSE;
    }
    json_object_foreach(sv, tenant, tv) {
      if (!json_is_object(tv)) {
        snprintf(errbuf, errlen, "%s: /servers/%s/%s must be an object of environments", path,
                 server, tenant);
        json_decref(root);
        return SG_EPARSE;
      }
      json_object_foreach(tv, envname, ev) {
        json_t *vars = json_object_get(ev, "env");
        if (!json_is_object(ev) || json_object_size(ev) != 1 || !json_is_object(vars)) {
          snprintf(errbuf, errlen, "%s: /servers/%s/%s/%s must be {\"env\": {NAME: VALUE}}", path,
                   server, tenant, envname);
          json_decref(root);
          return SG_EPARSE;
        }
        json_object_foreach(vars, name, nv) {
          if (!json_is_string(nv) || strchr(name, '=') || name[0] == '\0') {
            snprintf(errbuf, errlen, "%s: /servers/%s/%s/%s/env/%s must be a string under a name "
                     "without '='", path, server, tenant, envname, name);
            json_decref(root);
            return SG_EPARSE;
          }
        }
      }
    }
  }
  *out = calloc(1, sizeof **out);
  if (*out == NULL) {
    json_decref(root);
    return SG_ENOMEM;
  }
  (*out)->root = root;
  return 0;
}

void sg_secrets_free(sg_secrets_t *s) {
  if (s == NULL) return;
  json_decref(s->root);
  free(s);
}

int sg_secrets_env(const sg_secrets_t *s, const sg_server_conf_t *conf, const char *tenant,
                   const char *env, char ***out, char *why, size_t whylen) {
  *out = NULL;
  size_t n = 0;
  while (conf->credentials && conf->credentials[n]) n++;
  if (n == 0) return 0;
  json_t *vars = s ? json_object_get(json_object_get(json_object_get(json_object_get(
                                         json_object_get(s->root, "servers"), conf->name),
                                         tenant), env), "env")
                   : NULL;
  char **list = calloc(n + 1, sizeof *list);
  if (list == NULL) return SG_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    const char *value = json_string_value(json_object_get(vars, conf->credentials[i]));
    if (value == NULL) {
      snprintf(why, whylen, "no credential %s for server \"%s\", tenant \"%s\", env \"%s\"",
               conf->credentials[i], conf->name, tenant, env);
      for (size_t k = 0; k < i; k++) free(list[k]);
      free(list);
      return SG_EDOWNSTREAM;
    }
    size_t len = strlen(conf->credentials[i]) + strlen(value) + 2;
    list[i] = malloc(len);
    snprintf(list[i], len, "%s=%s", conf->credentials[i], value);
  }
  *out = list;
  return 0;
}
