/*
 * The admin API, the console's files and /metrics on a listener of their own. A request
 * goes through:
 *
 *   route by path ─▶ /console..., /metrics: answered without a token
 *                 ─▶ /admin/...: bearer token verified (401), role "approver" (403),
 *                    method (405), body (415, 400) ─▶ the store call the CLI makes ─▶ JSON
 *
 * Everything here runs on the loop's thread; the store calls are the short synchronous
 * transactions the CLI makes, on a handle of the admin's own.
 */
#include "admin/admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "admin/metrics.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/log.h"
#include "store/store.h"

#define LIST_ALL_MAX 1000
#define MAX_BODY_BYTES (64u * 1024u)

struct sg_admin {
  sg_gateway_t *gw;
  sg_admin_config_t cfg;
  sg_http_config_t http;
  sg_http_server_t *srv;
  sg_store_t *store;
  void (*done)(void *arg);
  void *done_arg;
};

static const char common_headers[] =
    "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n";

/* ---- configuration ----------------------------------------------------------------- */

int sg_admin_option_listen(sg_admin_config_t *cfg, const char *value, char *err, size_t errlen) {
  if (cfg->nlisten == SG_ADMIN_MAX_LISTENERS) {
    snprintf(err, errlen, "at most %d --admin-listen addresses", SG_ADMIN_MAX_LISTENERS);
    return SG_EINVAL;
  }
  sg_listen_addr_t *a = &cfg->listen[cfg->nlisten];
  if (sg_listen_parse(value, a, err, errlen) != 0) return SG_EINVAL;
  /* Approvals and the kill switch are for the operator's machine: reach them from
   * elsewhere through a tunnel to a loopback port or a Unix socket. */
  if (!sg_listen_is_loopback(a)) {
    snprintf(err, errlen,
             "--admin-listen %s: the admin listener takes a loopback address (127.0.0.1:PORT, "
             "[::1]:PORT) or unix:PATH",
             value);
    return SG_EINVAL;
  }
  cfg->nlisten++;
  return 0;
}

/* ---- answers ----------------------------------------------------------------------- */

static void respond_json(sg_http_request_t *req, int status, json_t *body, const char *extra) {
  static const char oom[] =
      "{\"error\":{\"code\":\"out_of_memory\",\"message\":\"out of memory\"}}";
  sg_buf_t h;
  sg_buf_init(&h);
  sg_buf_append_str(&h, common_headers);
  if (extra) sg_buf_append_str(&h, extra);
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  if (text)
    sg_http_respond(req, status, "application/json", h.data, text, strlen(text));
  else
    sg_http_respond(req, 503, "application/json", h.data, oom, sizeof oom - 1);
  free(text);
  json_decref(body);
  sg_buf_free(&h);
}

static void fail(sg_http_request_t *req, int status, const char *code, const char *message,
                 const char *extra) {
  sg_debug("admin: %s %s -> %d %s: %s", req->method, req->path, status, code, message);
  respond_json(req, status, json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message),
               extra);
}

/* Text from the database as a JSON string, or null. The store keeps what clients sent,
 * which jansson has checked is UTF-8; anything else (a database edited by hand) is shown
 * with its non-ASCII bytes as '?' rather than dropped. */
static json_t *text_value(const char *s) {
  if (s == NULL) return json_null();
  json_t *v = json_string(s);
  if (v) return v;
  char *copy = strdup(s);
  if (copy == NULL) return NULL;
  for (char *c = copy; *c; c++)
    if ((unsigned char)*c >= 0x80) *c = '?';
  v = json_string(copy);
  free(copy);
  return v;
}

/* Seconds since the epoch of a store time, "YYYY-MM-DDTHH:MM:SS.uuuuuuZ"; -1 if it is
 * not one. */
static double store_time(const char *ts) {
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  unsigned us = 0;
  if (ts == NULL || sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d.%6uZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                           &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &us) != 7)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return (double)timegm(&tm) + us / 1e6;
}

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* (admin.h) An approval as the API shows it: every stored field, the redacted arguments parsed
 * ("arguments"; null when they were not recorded), and for a pending one how long it
 * has waited, by the gateway's clock. */
json_t *sg_admin_approval_json(const sg_store_approval_t *a) {
  json_t *o = json_object();
  const struct {
    const char *key, *val;
  } f[] = {
      {"id", a->id},
      {"state", a->state},
      {"tool", a->tool},
      {"subject", a->subject},
      {"role", a->role},
      {"tenant", a->tenant},
      {"env", a->env},
      {"call_id", a->call_id},
      {"args_hash", a->args_hash},
      {"args_json", a->args_json},
      {"created_at", a->created_at},
      {"expires_at", a->expires_at},
      {"decided_at", a->decided_at},
      {"approver", a->approver},
      {"reason", a->reason},
      {"used_at", a->used_at},
  };
  int rc = o ? 0 : -1;
  for (size_t i = 0; rc == 0 && i < sizeof f / sizeof f[0]; i++)
    rc = json_object_set_new(o, f[i].key, text_value(f[i].val));
  json_t *args = a->args_json ? json_loads(a->args_json, JSON_DECODE_ANY, NULL) : NULL;
  if (rc == 0) rc = json_object_set_new(o, "arguments", args ? args : json_null());
  double created = store_time(a->created_at);
  if (rc == 0 && a->state && strcmp(a->state, "pending") == 0 && created >= 0) {
    double waited = now_seconds() - created;
    rc = json_object_set_new(o, "waiting_seconds", json_real(waited > 0 ? waited : 0));
  }
  if (rc != 0) {
    json_decref(o);
    return NULL;
  }
  return o;
}

static json_t *switch_json(const sg_store_switch_t *sw) {
  json_t *o = json_pack("{s:b, s:s}", "enabled", strcmp(sw->value, "on") == 0, "value", sw->value);
  if (o == NULL) return NULL;
  json_object_set_new(o, "updated_at",
                      sw->updated_at[0] ? text_value(sw->updated_at) : json_null());
  json_object_set_new(o, "actor", sw->actor[0] ? text_value(sw->actor) : json_null());
  json_object_set_new(o, "reason", sw->reason[0] ? text_value(sw->reason) : json_null());
  return o;
}

/* ---- identity ---------------------------------------------------------------------- */

/* The token of an "Authorization: Bearer TOKEN" value: 1 with tok and len set, 0 for
 * another scheme, -1 for a malformed Bearer value. */
static int bearer_token(const char *v, const char **tok, size_t *len) {
  while (*v == ' ' || *v == '\t') v++;
  if (strncasecmp(v, "bearer", 6) != 0 || (v[6] != ' ' && v[6] != '\t' && v[6] != '\0')) return 0;
  v += 6;
  while (*v == ' ' || *v == '\t') v++;
  size_t n = strcspn(v, " \t");
  const char *rest = v + n;
  while (*rest == ' ' || *rest == '\t') rest++;
  if (n == 0 || *rest) return -1;
  *tok = v;
  *len = n;
  return 1;
}

/* Verifies the request's bearer token into id and checks the approver role. Returns 0,
 * or -1 after answering 401 or 403. */
static int authenticate(sg_admin_t *a, sg_http_request_t *req, sg_identity_t *id) {
  memset(id, 0, sizeof *id);
  const char *h = sg_http_header(req, "authorization"), *tok = NULL;
  size_t len = 0;
  int bearer = h ? bearer_token(h, &tok, &len) : 0;
  char why[256], extra[400];
  if (bearer <= 0) {
    fail(req, 401, "unauthenticated",
         bearer < 0 ? "the Authorization header is malformed; send Authorization: Bearer TOKEN"
                    : "the admin API needs a bearer token of an approver (Authorization: Bearer "
                      "TOKEN)",
         "WWW-Authenticate: Bearer realm=\"scopegate-admin\"\r\n");
    return -1;
  }
  int rc = sg_auth_verify(a->cfg.auth, tok, len, (int64_t)time(NULL), id, why, sizeof why);
  if (rc == SG_ENOMEM) {
    fail(req, 503, "out_of_memory", "out of memory", "Retry-After: 1\r\n");
    return -1;
  }
  if (rc != 0) {
    /* The reasons name a claim or a check, never the token; keep them a quoted-string. */
    for (char *c = why; *c; c++)
      if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
        *c = '\'';
    snprintf(extra, sizeof extra,
             "WWW-Authenticate: Bearer realm=\"scopegate-admin\", error=\"invalid_token\", "
             "error_description=\"%s\"\r\n",
             why);
    char message[320];
    snprintf(message, sizeof message, "the bearer token is refused: %s", why);
    sg_info("admin: %s %s: bearer token refused: %s", req->method, req->path, why);
    fail(req, 401, "invalid_token", message, extra);
    return -1;
  }
  if (!sg_identity_has_role(id, SG_ADMIN_ROLE)) {
    sg_info("admin: %s %s: subject %s refused: no role \"%s\"", req->method, req->path, id->subject,
            SG_ADMIN_ROLE);
    fail(req, 403, "not_an_approver",
         "the token does not grant role \"" SG_ADMIN_ROLE "\", which the admin API requires", NULL);
    sg_identity_free(id);
    return -1;
  }
  return 0;
}

/* ---- request bodies ---------------------------------------------------------------- */

/* The request's JSON object body, or NULL after answering 415 or 400. Only the fields in
 * allowed (NULL-terminated) may appear. */
static json_t *body_object(sg_http_request_t *req, const char *const *allowed) {
  const char *ct = sg_http_header(req, "content-type");
  if (ct == NULL || !sg_http_content_type_is(ct, "application/json")) {
    fail(req, 415, "unsupported_media_type", "send the body as Content-Type: application/json",
         NULL);
    return NULL;
  }
  json_error_t e;
  json_t *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &e);
  if (!json_is_object(body)) {
    char message[300];
    snprintf(message, sizeof message, "the body must be a JSON object%s%s", body ? "" : ": ",
             body ? "" : e.text);
    json_decref(body);
    fail(req, 400, "invalid_body", message, NULL);
    return NULL;
  }
  const char *key;
  json_t *v;
  json_object_foreach(body, key, v) {
    int known = 0;
    for (const char *const *k = allowed; *k && !known; k++) known = strcmp(*k, key) == 0;
    if (!known) {
      char message[300];
      snprintf(message, sizeof message, "unknown field \"%.100s\" in the body", key);
      json_decref(body);
      fail(req, 400, "invalid_body", message, NULL);
      return NULL;
    }
  }
  return body;
}

/* The body's "reason": a non-empty string, or NULL after answering 400. Borrowed from
 * body. */
static const char *body_reason(sg_http_request_t *req, json_t *body) {
  const char *reason = json_string_value(json_object_get(body, "reason"));
  const char *r = reason;
  while (r && (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r')) r++;
  if (r == NULL || *r == '\0') {
    fail(req, 400, "reason_required",
         "\"reason\" is required: say why, in a non-empty string; it is kept in the audit log",
         NULL);
    return NULL;
  }
  return reason;
}

/* ---- /admin/approvals -------------------------------------------------------------- */

typedef struct {
  json_t *list;
  int failed;
} listing_t;

static void on_listed(const sg_store_approval_t *ap, void *arg) {
  listing_t *l = arg;
  json_t *o = sg_admin_approval_json(ap);
  if (o == NULL || json_array_append_new(l->list, o) != 0) l->failed = 1;
}

/* Whether the query string of target has name set ("name", "name=1", "name=true"). */
static int query_flag(const char *target, const char *name) {
  const char *q = target ? strchr(target, '?') : NULL;
  size_t n = strlen(name);
  while (q && *q) {
    q++;
    size_t len = strcspn(q, "&#");
    if (len >= n && strncmp(q, name, n) == 0) {
      const char *v = q + n;
      size_t vlen = len - n;
      if (vlen == 0) return 1;
      if (*v == '=')
        return (vlen == 2 && v[1] == '1') || (vlen == 5 && strncmp(v + 1, "true", 4) == 0);
    }
    q += len;
    if (*q == '#') break;
  }
  return 0;
}

static void list_approvals(sg_admin_t *a, sg_http_request_t *req) {
  int all = query_flag(req->target, "all");
  listing_t l = {json_array(), 0};
  if (l.list == NULL) {
    fail(req, 503, "out_of_memory", "out of memory", NULL);
    return;
  }
  if (sg_store_approval_list(a->store, all, all ? LIST_ALL_MAX : 0, on_listed, &l) != 0) {
    json_decref(l.list);
    fail(req, 500, "store_error", sg_store_errmsg(a->store), NULL);
    return;
  }
  if (l.failed) {
    json_decref(l.list);
    fail(req, 503, "out_of_memory", "out of memory", NULL);
    return;
  }
  respond_json(req, 200, json_pack("{s:o, s:b}", "approvals", l.list, "all", all), NULL);
}

/* Reads approval id into ap. Returns 0, or -1 after answering 404 or 500. */
static int load_approval(sg_admin_t *a, sg_http_request_t *req, const char *id,
                         sg_store_approval_t *ap) {
  memset(ap, 0, sizeof *ap);
  int rc = sg_store_approval_get(a->store, id, ap);
  if (rc == 0) return 0;
  sg_store_approval_clear(ap);
  if (rc == SG_EINVAL) {
    char message[120];
    snprintf(message, sizeof message, "there is no approval %s", id);
    fail(req, 404, "not_found", message, NULL);
  } else {
    fail(req, 500, "store_error", sg_store_errmsg(a->store), NULL);
  }
  return -1;
}

static void show_approval(sg_admin_t *a, sg_http_request_t *req, const char *id) {
  sg_store_approval_t ap;
  if (load_approval(a, req, id, &ap) != 0) return;
  json_t *o = sg_admin_approval_json(&ap);
  sg_store_approval_clear(&ap);
  if (o == NULL)
    fail(req, 503, "out_of_memory", "out of memory", NULL);
  else
    respond_json(req, 200, o, NULL);
}

static void decide_approval(sg_admin_t *a, sg_http_request_t *req, const sg_identity_t *who,
                            const char *id, int approve) {
  static const char *const fields[] = {"reason", NULL};
  json_t *body = body_object(req, fields);
  if (body == NULL) return;
  const char *reason = body_reason(req, body);
  sg_store_approval_t ap;
  if (reason == NULL || load_approval(a, req, id, &ap) != 0) {
    json_decref(body);
    return;
  }
  char message[700];
  int status = 0;
  const char *code = NULL;
  if (ap.state == NULL || strcmp(ap.state, "pending") != 0) {
    status = 409;
    code = "not_pending";
    snprintf(message, sizeof message,
             "approval %s is %s%s%.256s; only a pending approval can be "
             "decided",
             id, ap.state ? ap.state : "unknown", ap.approver ? " (by " : "",
             ap.approver ? ap.approver : "");
    if (ap.approver) strncat(message, ")", sizeof message - strlen(message) - 1);
  } else if (approve && ap.subject && strcmp(ap.subject, who->subject) == 0) {
    /* Four eyes: whoever made the call does not also approve it. */
    status = 403;
    code = "own_call";
    snprintf(message, sizeof message,
             "approval %s is for a call subject %.256s made; another approver must decide it", id,
             who->subject);
  } else {
    int rc = sg_store_approval_decide(a->store, id, approve, who->subject, reason);
    if (rc == SG_EINVAL) {
      /* It changed meanwhile (another approver, or its time ran out). */
      status = 409;
      code = "not_pending";
      snprintf(message, sizeof message, "%s", sg_store_errmsg(a->store));
    } else if (rc != 0) {
      status = 500;
      code = "store_error";
      snprintf(message, sizeof message, "%s", sg_store_errmsg(a->store));
    }
  }
  sg_store_approval_clear(&ap);
  json_decref(body);
  if (status) {
    fail(req, status, code, message, NULL);
    return;
  }
  sg_info("admin: approval %s %s by %s", id, approve ? "approved" : "denied", who->subject);
  show_approval(a, req, id);
}

/* ---- /admin/writes ----------------------------------------------------------------- */

static void show_writes(sg_admin_t *a, sg_http_request_t *req, size_t *cancelled) {
  sg_store_switch_t sw;
  if (sg_store_switch_get(a->store, "writes", &sw) != 0) {
    fail(req, 500, "store_error", sg_store_errmsg(a->store), NULL);
    return;
  }
  json_t *o = switch_json(&sw);
  if (o && cancelled) json_object_set_new(o, "cancelled", json_integer((json_int_t)*cancelled));
  if (o == NULL)
    fail(req, 503, "out_of_memory", "out of memory", NULL);
  else
    respond_json(req, 200, o, NULL);
}

static void set_writes(sg_admin_t *a, sg_http_request_t *req, const sg_identity_t *who) {
  static const char *const fields[] = {"enabled", "reason", NULL};
  json_t *body = body_object(req, fields);
  if (body == NULL) return;
  json_t *enabled = json_object_get(body, "enabled");
  const char *reason = NULL;
  if (!json_is_boolean(enabled)) {
    fail(req, 400, "invalid_body", "\"enabled\" is required: true or false", NULL);
  } else if ((reason = body_reason(req, body)) != NULL) {
    size_t cancelled = 0;
    int on = json_is_true(enabled);
    if (sg_store_writes_set(a->store, on, who->subject, reason, &cancelled) != 0) {
      fail(req, 500, "store_error", sg_store_errmsg(a->store), NULL);
    } else {
      sg_info("admin: writes switched %s by %s (%zu approvals cancelled)", on ? "on" : "off",
              who->subject, cancelled);
      show_writes(a, req, &cancelled);
    }
  }
  json_decref(body);
}

/* ---- routing ----------------------------------------------------------------------- */

static int is_get(const sg_http_request_t *req) {
  return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
}

static int is_post(const sg_http_request_t *req) {
  return strcmp(req->method, "POST") == 0;
}

static void wrong_method(sg_http_request_t *req, const char *allow) {
  char extra[64], message[80];
  snprintf(extra, sizeof extra, "Allow: %s\r\n", allow);
  snprintf(message, sizeof message, "%s serves %s", req->path, allow);
  fail(req, 405, "method_not_allowed", message, extra);
}

/* An approval id: SG_APPROVAL_ID_LEN lowercase hex digits. */
static int approval_id_ok(const char *s, size_t len) {
  if (len != SG_APPROVAL_ID_LEN) return 0;
  for (size_t i = 0; i < len; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
  return 1;
}

static void route_admin(sg_admin_t *a, sg_http_request_t *req) {
  sg_identity_t who;
  if (authenticate(a, req, &who) != 0) return;
  const char *p = req->path + strlen("/admin/");
  if (strcmp(p, "approvals") == 0) {
    if (is_get(req))
      list_approvals(a, req);
    else
      wrong_method(req, "GET");
  } else if (strncmp(p, "approvals/", 10) == 0) {
    const char *id = p + 10;
    size_t idlen = strcspn(id, "/");
    const char *action = id[idlen] ? id + idlen + 1 : NULL;
    char idbuf[SG_APPROVAL_ID_LEN + 1];
    if (!approval_id_ok(id, idlen) ||
        (action && strcmp(action, "approve") != 0 && strcmp(action, "deny") != 0)) {
      fail(req, 404, "not_found",
           "no such resource: approvals are /admin/approvals/ID, with /approve or /deny to "
           "decide one",
           NULL);
    } else {
      memcpy(idbuf, id, idlen);
      idbuf[idlen] = '\0';
      if (action == NULL) {
        if (is_get(req))
          show_approval(a, req, idbuf);
        else
          wrong_method(req, "GET");
      } else if (is_post(req)) {
        decide_approval(a, req, &who, idbuf, strcmp(action, "approve") == 0);
      } else {
        wrong_method(req, "POST");
      }
    }
  } else if (strcmp(p, "writes") == 0) {
    if (is_get(req))
      show_writes(a, req, NULL);
    else if (is_post(req))
      set_writes(a, req, &who);
    else
      wrong_method(req, "GET, POST");
  } else {
    fail(req, 404, "not_found",
         "no such resource: the admin API has /admin/approvals and /admin/writes", NULL);
  }
  sg_identity_free(&who);
}

static void serve_metrics(sg_admin_t *a, sg_http_request_t *req) {
  sg_buf_t b;
  sg_buf_init(&b);
  int on = 0;
  int known = sg_store_writes_enabled(a->store, &on) == 0;
  int rc = sg_metrics_render(&b);
  if (rc == 0 && known)
    rc = sg_buf_printf(&b,
                       "# HELP scopegate_writes_enabled Whether write tools may run (the kill "
                       "switch is off).\n# TYPE scopegate_writes_enabled gauge\n"
                       "scopegate_writes_enabled %d\n",
                       on);
  if (rc != 0)
    fail(req, 503, "out_of_memory", "out of memory", NULL);
  else
    sg_http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", common_headers, b.data,
                    b.len);
  sg_buf_free(&b);
}

/* The console is a page, a script and a style sheet, all from this listener: the policy
 * lets the page load nothing else, run no inline script, and be framed by nobody. */
static void serve_console(sg_http_request_t *req, const char *file) {
  static const char csp[] =
      "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "
      "connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; "
      "frame-ancestors 'none'\r\n"
      "X-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n"
      "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n";
  const char *type = NULL, *body = NULL;
  if (strcmp(file, "") == 0 || strcmp(file, "/") == 0) {
    type = "text/html; charset=utf-8";
    body = sg_admin_console_html;
  } else if (strcmp(file, "/console.js") == 0) {
    type = "text/javascript; charset=utf-8";
    body = sg_admin_console_js;
  } else if (strcmp(file, "/console.css") == 0) {
    type = "text/css; charset=utf-8";
    body = sg_admin_console_css;
  }
  if (body == NULL) {
    fail(req, 404, "not_found", "the console is at /console", NULL);
    return;
  }
  if (!is_get(req)) {
    wrong_method(req, "GET");
    return;
  }
  sg_http_respond(req, 200, type, csp, body, strlen(body));
}

static void on_request(sg_http_request_t *req, void *arg) {
  sg_admin_t *a = arg;
  if (strncmp(req->path, "/admin/", 7) == 0) {
    route_admin(a, req);
  } else if (strcmp(req->path, "/metrics") == 0) {
    if (is_get(req))
      serve_metrics(a, req);
    else
      wrong_method(req, "GET");
  } else if (strncmp(req->path, "/console", 8) == 0) {
    serve_console(req, req->path + 8);
  } else if (strcmp(req->path, "/favicon.ico") == 0 && is_get(req)) {
    /* Browsers ask for it; the console has none. */
    sg_http_respond(req, 204, NULL, common_headers, NULL, 0);
  } else if (strcmp(req->path, "/") == 0 && is_get(req)) {
    sg_http_respond(req, 302, NULL, "Location: /console\r\n", NULL, 0);
  } else {
    fail(req, 404, "not_found",
         "no such resource: this listener serves /admin/approvals, /admin/writes, /console and "
         "/metrics",
         NULL);
  }
}

/* ---- life -------------------------------------------------------------------------- */

static void server_closed(void *arg) {
  sg_admin_t *a = arg;
  void (*done)(void *) = a->done;
  void *done_arg = a->done_arg;
  sg_store_close(a->store);
  free(a);
  if (done) done(done_arg);
}

int sg_admin_start(sg_gateway_t *gw, const sg_admin_config_t *cfg, sg_admin_t **out, char *err,
                   size_t errlen) {
  if (cfg->auth == NULL || cfg->db == NULL || cfg->nlisten == 0) {
    snprintf(err, errlen, "%s",
             cfg->auth == NULL ? "--admin-listen needs --auth FILE: the admin API takes the bearer "
                                 "tokens of approvers"
                               : "the admin listener needs a database and an address");
    return SG_EINVAL;
  }
  sg_admin_t *a = calloc(1, sizeof *a);
  if (a == NULL) {
    snprintf(err, errlen, "out of memory");
    return SG_ENOMEM;
  }
  a->gw = gw;
  a->cfg = *cfg;
  sg_http_config_default(&a->http);
  a->http.max_body_bytes = MAX_BODY_BYTES;
  /* Never checkpoints on the loop: the gateway's checkpoint worker covers the file. */
  sg_store_options_t opts = {.flags = SG_STORE_MANUAL_CHECKPOINT};
  if (sg_store_open_ex(cfg->db, &opts, &a->store, err, errlen) != 0) {
    free(a);
    return SG_EIO;
  }
  if (sg_http_server_new(gw->loop, &a->http, on_request, a, &a->srv) != 0) {
    sg_store_close(a->store);
    free(a);
    snprintf(err, errlen, "out of memory");
    return SG_ENOMEM;
  }
  for (size_t i = 0; i < cfg->nlisten; i++) {
    char url[160];
    if (sg_http_server_listen(a->srv, &cfg->listen[i], url, sizeof url, err, errlen) != 0) {
      sg_admin_stop(a, NULL, NULL);
      return SG_EIO;
    }
    /* Not a log line: where to connect is printed whatever the log level. */
    if (cfg->listen[i].kind == SG_LISTEN_UNIX)
      fprintf(stderr, "scopegate: admin API on %s\n", url);
    else
      fprintf(stderr, "scopegate: admin API on %s (console at %s/console)\n", url, url);
  }
  sg_info("admin: bearer tokens with role \"%s\" may decide approvals and switch writes",
          SG_ADMIN_ROLE);
  *out = a;
  return 0;
}

void sg_admin_stop(sg_admin_t *a, void (*done)(void *arg), void *arg) {
  a->done = done;
  a->done_arg = arg;
  sg_http_server_close(a->srv, server_closed, a);
}
