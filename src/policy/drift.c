/*
 * Drift detection (see drift.h).
 */
#include "policy/drift.h"

#include <string.h>

#include "json/equal.h"

static json_t *find_advertised(json_t *advertised, const char *name) {
  size_t i;
  json_t *t;
  json_array_foreach(advertised, i, t) {
    const char *n = json_string_value(json_object_get(t, "name"));
    if (n && strcmp(n, name) == 0) return t;
  }
  return NULL;
}

json_t *sg_drift_check(const sg_catalog_t *cat, const sg_server_conf_t *server, json_t *advertised) {
  json_t *drift = json_object();
  for (size_t i = 0; i < cat->ntools; i++) {
    const sg_tool_t *t = &cat->tools[i];
    if (t->server == NULL || strcmp(t->server->name, server->name) != 0) continue;
    const char *why = NULL;
    json_t *seen = advertised ? find_advertised(advertised, t->downstream_name) : NULL;
    if (advertised == NULL) why = "the server did not list its tools";
    else if (seen == NULL) why = "the server does not advertise this tool";
    else if (t->pin) {
      json_t *d = json_object_get(seen, "description");
      json_t *pd = json_object_get(t->pin, "description");
      if (!(d ? sg_json_equal(d, pd) : json_string_length(pd) == 0))
        why = "the advertised description differs from the pin";
      else if (!sg_json_equal(json_object_get(seen, "inputSchema"),
                              json_object_get(t->pin, "inputSchema")))
        why = "the advertised input schema differs from the pin";
    }
    if (why) json_object_set_new(drift, t->downstream_name, json_string(why));
  }
  return drift;
}
