/*
 * The stateless era toward http servers (see era.h): the request envelope, the Mcp-Name
 * header with its Base64 sentinel, and what scopegate takes from server/discover and from
 * results. The state machine that decides which era an instance speaks is in server.c;
 * the headers are set by the link (http.c).
 */
#include "downstream/era.h"

#include <stdio.h>
#include <string.h>

#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CAPABILITIES "io.modelcontextprotocol/clientCapabilities"
#define META_CLIENT_INFO "io.modelcontextprotocol/clientInfo"
#define B64_PREFIX "=?base64?"
#define B64_SUFFIX "?="

int sg__ds_era_envelope(json_t *params) {
  json_t *meta = json_object_get(params, "_meta");
  if (!json_is_object(meta)) {
    meta = json_object();
    if (json_object_set_new(params, "_meta", meta) != 0) return -1;
  }
  json_t *info = json_pack("{s:s, s:s}", "name", "scopegate", "version", "0.1.0");
  if (json_object_set_new(meta, META_VERSION, json_string(SG_DS_STATELESS_VERSION)) != 0 ||
      json_object_set_new(meta, META_CAPABILITIES, json_object()) != 0 ||
      json_object_set_new(meta, META_CLIENT_INFO, info) != 0)
    return -1;
  return 0;
}

/* A value an HTTP field carries as it is: printable ASCII, not empty, no space at either
 * end (field parsing would strip it), and not itself shaped like the sentinel. */
static int plain_value(const char *v, size_t n) {
  if (n == 0 || v[0] == ' ' || v[n - 1] == ' ') return 0;
  size_t pl = strlen(B64_PREFIX), sl = strlen(B64_SUFFIX);
  if (n >= pl + sl && memcmp(v, B64_PREFIX, pl) == 0 && memcmp(v + n - sl, B64_SUFFIX, sl) == 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e) return 0;
  return 1;
}

static size_t base64(const unsigned char *in, size_t n, char *out) {
  static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                 (i + 2 < n ? in[i + 2] : 0);
    out[o++] = abc[v >> 18 & 63];
    out[o++] = abc[v >> 12 & 63];
    out[o++] = i + 1 < n ? abc[v >> 6 & 63] : '=';
    out[o++] = i + 2 < n ? abc[v & 63] : '=';
  }
  return o;
}

int sg__ds_era_name(const char *method, json_t *params, char *out, size_t size) {
  const char *field = strcmp(method, "tools/call") == 0 || strcmp(method, "prompts/get") == 0
                          ? "name"
                      : strcmp(method, "resources/read") == 0 ? "uri"
                                                              : NULL;
  json_t *value = field ? json_object_get(params, field) : NULL;
  if (!json_is_string(value)) return -1;
  const char *v = json_string_value(value);
  size_t n = json_string_length(value);
  if (plain_value(v, n)) {
    if (n >= size) return -1;
    memcpy(out, v, n + 1);
    return 0;
  }
  size_t need = strlen(B64_PREFIX) + (n + 2) / 3 * 4 + strlen(B64_SUFFIX) + 1;
  if (need > size) return -1;
  size_t o = strlen(B64_PREFIX);
  memcpy(out, B64_PREFIX, o);
  o += base64((const unsigned char *)v, n, out + o);
  memcpy(out + o, B64_SUFFIX, strlen(B64_SUFFIX) + 1);
  return 0;
}

int sg__ds_era_offered(json_t *result) {
  json_t *versions = json_object_get(result, "supportedVersions");
  size_t i;
  json_t *v;
  json_array_foreach(versions, i, v) {
    if (json_is_string(v) && strcmp(json_string_value(v), SG_DS_STATELESS_VERSION) == 0) return 1;
  }
  return 0;
}

int sg__ds_era_take_result(json_t *result, char *why, size_t size) {
  json_t *type = json_object_get(result, "resultType");
  if (type && !(json_is_string(type) && strcmp(json_string_value(type), "complete") == 0)) {
    snprintf(why, size,
             "answered with a result of type %.60s, which asks for input scopegate "
             "does not give",
             json_is_string(type) ? json_string_value(type) : "(not a string)");
    return -1;
  }
  json_object_del(result, "resultType");
  return 0;
}
