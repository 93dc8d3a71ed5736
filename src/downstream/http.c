/*
 * The Streamable HTTP link (see http.h). libcurl's multi interface is driven from the
 * libuv loop: curl tells us which sockets to watch (socket_cb, one uv_poll_t each) and
 * when to wake it (timer_cb, one uv_timer_t); both report back through
 * curl_multi_socket_action. libcurl forbids calling multi functions from its own
 * callbacks, and the downstream may send new requests from any message it receives, so
 * what a transfer yields (messages, unanswered requests, failures) is queued as events
 * and delivered only once curl has returned (drain).
 *
 * This file holds the link, its POSTs and the end of every transfer; the GETs that
 * start later (the session's stream, resumptions) are in http_stream.c, behind
 * http_int.h.
 *
 * Handles: the curl timer, the retry timer (http_stream.c) and one poll per socket. The
 * link is freed when the last of them is closed, after close() has ended every
 * transfer.
 */
#include "downstream/http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/log.h"
#include "downstream/era.h"
#include "downstream/http_int.h"
#include "downstream/sse_reader.h"
#include "json/parse.h"

/* ---- events ---- */

void sg__http_push_event(sg_http_link_t *l, ev_kind_t kind, json_t *msg, int64_t id,
                         const char *why) {
  if (l->failed || l->closing) {
    json_decref(msg);
    return;
  }
  event_t *e = calloc(1, sizeof *e);
  if (e == NULL) {
    json_decref(msg);
    return;
  }
  e->kind = kind;
  e->msg = msg;
  e->id = id;
  e->why = why ? strdup(why) : NULL;
  if (kind == EV_FAILED) l->failed = 1; /* nothing after a failure is delivered */
  if (l->ev_tail)
    l->ev_tail->next = e;
  else
    l->ev_head = e;
  l->ev_tail = e;
}

static void free_events(sg_http_link_t *l) {
  while (l->ev_head) {
    event_t *e = l->ev_head;
    l->ev_head = e->next;
    json_decref(e->msg);
    free(e->why);
    free(e);
  }
  l->ev_tail = NULL;
}

void sg__http_drain(sg_http_link_t *l) {
  while (l->ev_head && !l->closing) {
    event_t *e = l->ev_head;
    l->ev_head = e->next;
    if (l->ev_head == NULL) l->ev_tail = NULL;
    switch (e->kind) {
      case EV_MESSAGE:
        l->cbs.on_message(l, e->msg, l->arg);
        break;
      case EV_UNANSWERED:
        l->cbs.on_unanswered(l, e->id, e->why, l->arg);
        break;
      case EV_FAILED:
        l->cbs.on_failed(l, e->why, l->arg);
        break;
    }
    json_decref(e->msg);
    free(e->why);
    free(e);
  }
}

/* ---- receiving ---- */

/* One JSON-RPC message (or a batch of them) from the server. */
static void got_message(xfer_t *x, const char *text, size_t len) {
  sg_json_limits_t lim = {MAX_BODY, 256};
  char err[256];
  json_t *msg = NULL;
  if (sg_json_parse(text, len, &lim, &msg, err, sizeof err) != 0) {
    sg_warn("downstream at %s sent invalid JSON (%s); ignored", x->link->url, err);
    return;
  }
  /* A replayed priming event (which carries only an id) arrives as an empty object. */
  if (json_is_object(msg) && json_object_size(msg) == 0) {
    json_decref(msg);
    return;
  }
  size_t n = json_is_array(msg) ? json_array_size(msg) : 1;
  for (size_t i = 0; i < n; i++) {
    json_t *m = json_is_array(msg) ? json_array_get(msg, i) : msg;
    json_t *id = json_object_get(m, "id");
    if (x->has_id && json_object_get(m, "method") == NULL && json_is_integer(id) &&
        json_integer_value(id) == x->id)
      x->answered = 1;
    sg__http_push_event(x->link, EV_MESSAGE, json_incref(m), 0, NULL);
  }
  json_decref(msg);
}

/* An event of the answer's stream (see sse_reader.h). As in EventSource, the last "id:"
 * read becomes the stream's last event id only when its event ends, so that a stream cut
 * inside an event is resumed before that event. */
static void on_sse_event(void *arg, const sg_sse_event_t *ev) {
  xfer_t *x = arg;
  /* Keep-alive comments are not events: only news counts as progress. */
  if (ev->last_id && (x->event_id == NULL || strcmp(ev->last_id, x->event_id) != 0)) {
    free(x->event_id);
    x->event_id = strdup(ev->last_id);
    x->events++;
  } else if (ev->len > 0 || ev->dropped) {
    x->events++;
  }
  if (ev->dropped)
    sg_warn("downstream at %s sent an event larger than %u bytes; dropped", x->link->url, MAX_BODY);
  else if (ev->len > 0)
    got_message(x, ev->data, ev->len);
}

static long status_of(xfer_t *x) {
  long status = 0;
  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata) {
  xfer_t *x = userdata;
  size_t n = size * nmemb;
  long status = status_of(x);
  if (status >= 300) {
    /* Keep the start of an error body for the message. */
    if (x->body.len < MAX_ERROR_BODY)
      sg_buf_append(&x->body, ptr,
                    n < MAX_ERROR_BODY - x->body.len ? n : MAX_ERROR_BODY - x->body.len);
    return n;
  }
  if (x->sse) {
    if (sg_sse_reader_feed(&x->events_in, ptr, n, on_sse_event, x) != 0) {
      x->bad = "sent an event-stream line longer than the limit, or memory ran out";
      return 0;
    }
  } else if (x->body.len + n > MAX_BODY || sg_buf_append(&x->body, ptr, n) != 0) {
    x->bad = "sent a body larger than the limit, or memory ran out";
    return 0;
  }
  /* A resumed answer carries nothing more once its response has come, but a server may
   * keep it open: it is ended here (xfer_done knows an answered stream is complete). */
  if (x->kind == X_RESUME && x->answered) return 0;
  return n;
}

static const char bad_session_id[] =
    "sent an Mcp-Session-Id that is not 1 to " SG_SPELL(MAX_SESSION_ID) " visible ASCII characters";

static size_t header_cb(char *buf, size_t size, size_t nitems, void *userdata) {
  xfer_t *x = userdata;
  size_t n = size * nitems;
  size_t len = n;
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) len--;
  const char *colon = memchr(buf, ':', len);
  if (colon == NULL) return n;
  size_t nlen = (size_t)(colon - buf);
  const char *v = colon + 1;
  while (v < buf + len && (*v == ' ' || *v == '\t')) v++;
  size_t vlen = (size_t)(buf + len - v);
  if (nlen == 14 && strncasecmp(buf, "mcp-session-id", 14) == 0 && vlen > 0 &&
      x->link->session == NULL) {
    /* MCP: visible ASCII only. One that could not be sent back as it came is refused
       rather than sent altered. */
    int usable = vlen <= MAX_SESSION_ID;
    for (size_t i = 0; usable && i < vlen; i++) usable = v[i] >= 0x21 && v[i] <= 0x7e;
    if (!usable) {
      x->bad = bad_session_id;
      return 0;
    }
    x->link->session = strndup(v, vlen);
  } else if (nlen == 12 && strncasecmp(buf, "content-type", 12) == 0) {
    x->sse = vlen >= 17 && strncasecmp(v, "text/event-stream", 17) == 0;
  }
  return n;
}

/* ---- transfers ---- */

void sg__http_xfer_free(xfer_t *x) {
  if (x->easy) {
    if (!x->link->multi_gone && !x->pending) curl_multi_remove_handle(x->link->multi, x->easy);
    curl_easy_cleanup(x->easy);
  }
  x->prev->next = x->next;
  x->next->prev = x->prev;
  curl_slist_free_all(x->headers);
  sg_buf_free(&x->body);
  sg_sse_reader_free(&x->events_in);
  free(x->event_id);
  free(x);
}

xfer_t *sg__http_xfer_new(sg_http_link_t *l, xfer_kind_t kind, const char *last_event_id) {
  xfer_t *x = calloc(1, sizeof *x);
  if (x == NULL) return NULL;
  x->link = l;
  x->kind = kind;
  sg_buf_init(&x->body);
  sg_sse_reader_init(&x->events_in, MAX_BODY, MAX_BODY);
  x->easy = curl_easy_init();
  x->prev = l->xfers.prev;
  x->next = &l->xfers;
  l->xfers.prev->next = x;
  l->xfers.prev = x;
  if (x->easy == NULL || (last_event_id && (x->event_id = strdup(last_event_id)) == NULL)) {
    sg__http_xfer_free(x);
    return NULL;
  }
  if (kind == X_POST) {
    x->headers = curl_slist_append(x->headers, "Content-Type: application/json");
    x->headers = curl_slist_append(x->headers, "Accept: application/json, text/event-stream");
    x->headers = curl_slist_append(x->headers, "Expect:"); /* no 100-continue round trip */
  } else if (kind != X_DELETE) {
    x->headers = curl_slist_append(x->headers, "Accept: text/event-stream");
  }
  for (char **h = l->headers; *h; h++) x->headers = curl_slist_append(x->headers, *h);
  char line[64 + MAX_SESSION_ID];
  if (l->session) {
    snprintf(line, sizeof line, "Mcp-Session-Id: %s", l->session);
    x->headers = curl_slist_append(x->headers, line);
  }
  if (l->protocol) {
    snprintf(line, sizeof line, "MCP-Protocol-Version: %s", l->protocol);
    x->headers = curl_slist_append(x->headers, line);
  }
  if (last_event_id) {
    snprintf(line, sizeof line, "Last-Event-ID: %s", last_event_id);
    x->headers = curl_slist_append(x->headers, line);
  }
  curl_easy_setopt(x->easy, CURLOPT_URL, l->url);
  curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
  curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
  curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)l->connect_timeout_ms);
  /* Streams may be quiet for long; a peer that vanished is noticed by the kernel. */
  if (kind == X_LISTEN || kind == X_RESUME) curl_easy_setopt(x->easy, CURLOPT_TCP_KEEPALIVE, 1L);
  /* Redirects would carry the credentials elsewhere. */
  curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
  return x;
}

/* ---- transfers ending ---- */

/* Completes what a successful transfer's body held. */
static void flush_body(xfer_t *x) {
  if (x->sse) {
    /* A stream that ends without a blank line still ends its last event. */
    sg_sse_reader_finish(&x->events_in, on_sse_event, x);
  } else if (x->body.len > 0) {
    got_message(x, x->body.data, x->body.len);
  }
}

/* Says in why what went wrong with a transfer that failed or was refused. */
static void describe(xfer_t *x, CURLcode res, long status, char *why, size_t size) {
  sg_http_link_t *l = x->link;
  if (res != CURLE_OK && x->bad) {
    snprintf(why, size, "at %s %s", l->url, x->bad);
    return;
  }
  if (res != CURLE_OK) {
    snprintf(why, size, "is unreachable at %s: %s", l->url,
             x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
    return;
  }
  sg_buf_append(&x->body, "", 1);
  for (char *p = x->body.data; *p; p++)
    if (*p == '\r' || *p == '\n') *p = ' ';
  if (status == 404 && l->session)
    snprintf(why, size, "ended the session (HTTP 404 from %s)", l->url);
  else
    snprintf(why, size, "answered HTTP %ld from %s%s%.200s", status, l->url,
             x->body.data[0] ? ": " : "", x->body.data);
}

/* Hands on the JSON-RPC error an HTTP refusal carries as x's answer, when it does. */
static int refusal_answer(xfer_t *x) {
  sg_json_limits_t lim = {MAX_ERROR_BODY, 32};
  char err[128];
  json_t *msg = NULL;
  if (x->body.len == 0 ||
      sg_json_parse(x->body.data, x->body.len, &lim, &msg, err, sizeof err) != 0)
    return 0;
  json_t *id = json_object_get(msg, "id");
  int ok =
      json_is_object(json_object_get(msg, "error")) && json_object_get(msg, "result") == NULL &&
      (id == NULL || json_is_null(id) || (json_is_integer(id) && json_integer_value(id) == x->id));
  if (ok) {
    /* Errors found before the body was read may not name the request. */
    json_object_set_new(msg, "id", json_integer(x->id));
    x->answered = 1;
    sg__http_push_event(x->link, EV_MESSAGE, msg, 0, NULL);
    return 1;
  }
  json_decref(msg);
  return 0;
}

/* A transfer is over: hand on what its body held, then decide what its end means. */
static void xfer_done(xfer_t *x, CURLcode res) {
  sg_http_link_t *l = x->link;
  long status = status_of(x);
  char why[512], msg[700];
  if (x->kind == X_DELETE) {
    if (res != CURLE_OK || (status >= 300 && status != 404 && status != 405))
      sg_debug("downstream at %s: ending the session failed (%s, HTTP %ld)", l->url,
               res != CURLE_OK ? curl_easy_strerror(res) : "ok", status);
    return;
  }
  int refused = res == CURLE_OK && status >= 300;
  if (res == CURLE_OK && status < 300) flush_body(x);
  if (x->kind == X_LISTEN) {
    sg__http_listen_ended(x, res, status);
    return;
  }
  if (x->has_id && x->answered) return; /* how the stream ended after its response is no matter */
  if (refused && l->stateless && x->has_id && refusal_answer(x)) return;
  if (res != CURLE_OK || refused) describe(x, res, status, why, sizeof why);
  if (!x->has_id) {
    if (res != CURLE_OK || refused) sg_warn("downstream %s", why);
    return;
  }
  if (refused && l->stateless) {
    /* The era answers a request it refuses with an HTTP error whose body is the JSON-RPC
     * error (handed on above as the request's answer). Anything else fails that request
     * alone, since there is no session for it to end. */
    sg__http_push_event(l, EV_UNANSWERED, NULL, x->id, why);
    return;
  }
  if (refused) {
    /* A server that will not resume an answer fails that request; one that ended the
     * session fails them all. */
    if (x->kind == X_RESUME && !(status == 404 && l->session)) {
      snprintf(msg, sizeof msg, "cut its answer to the request and would not resume it: %s", why);
      sg__http_push_event(l, EV_UNANSWERED, NULL, x->id, msg);
    } else {
      sg__http_push_event(l, EV_FAILED, NULL, 0, why);
    }
    return;
  }
  /* The stream ended before the response: cut, or closed by the server, which may then
   * replay the rest after the last event id it gave. */
  if (x->event_id && !x->bad && sg__http_resume(x) == 0) return; /* a replay would be refused too */
  if (x->kind == X_RESUME) {
    snprintf(msg, sizeof msg,
             "cut its answer to the request, and %d attempts to resume it failed%s%s",
             RESUME_ATTEMPTS, res != CURLE_OK ? ": " : "", res != CURLE_OK ? why : "");
    sg__http_push_event(l, EV_UNANSWERED, NULL, x->id, msg);
  } else if (res != CURLE_OK) {
    sg__http_push_event(l, EV_FAILED, NULL, 0, why);
  } else {
    sg__http_push_event(l, EV_UNANSWERED, NULL, x->id, NULL);
  }
}

static void finish_close(sg_http_link_t *l);

static void check_done(sg_http_link_t *l) {
  CURLMsg *m;
  int left;
  while (!l->multi_gone && (m = curl_multi_info_read(l->multi, &left)) != NULL) {
    if (m->msg != CURLMSG_DONE) continue;
    xfer_t *x = NULL;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
    CURLcode res = m->data.result;
    xfer_done(x, res);
    sg__http_xfer_free(x);
  }
  if (l->closing && !l->multi_gone && l->xfers.next == &l->xfers) finish_close(l);
}

/* ---- the loop side of the multi interface ---- */

static void handle_gone(sg_http_link_t *l);

static void sock_closed(uv_handle_t *h) {
  sock_t *s = h->data;
  sg_http_link_t *l = s->link;
  free(s);
  handle_gone(l);
}

static void sock_close(sg_http_link_t *l, sock_t *s) {
  for (sock_t **p = &l->socks; *p; p = &(*p)->next)
    if (*p == s) {
      *p = s->next;
      break;
    }
  uv_poll_stop(&s->poll);
  uv_close((uv_handle_t *)&s->poll, sock_closed);
}

static void poll_cb(uv_poll_t *p, int status, int events) {
  sock_t *s = p->data;
  sg_http_link_t *l = s->link;
  int flags = 0;
  if (status < 0) flags = CURL_CSELECT_ERR;
  if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  int running;
  curl_multi_socket_action(l->multi, s->fd, flags, &running);
  check_done(l);
  sg__http_drain(l);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
  (void)easy;
  sg_http_link_t *l = userp;
  sock_t *s = socketp;
  if (what == CURL_POLL_REMOVE) {
    if (s) {
      sock_close(l, s);
      if (!l->multi_gone) curl_multi_assign(l->multi, fd, NULL);
    }
    return 0;
  }
  if (s == NULL) {
    s = calloc(1, sizeof *s);
    if (s == NULL) return -1;
    s->link = l;
    s->fd = fd;
    if (uv_poll_init_socket(l->loop, &s->poll, fd) != 0) {
      free(s);
      return -1;
    }
    s->poll.data = s;
    s->next = l->socks;
    l->socks = s;
    l->open_handles++;
    curl_multi_assign(l->multi, fd, s);
  }
  int events = 0;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) events |= UV_READABLE;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) events |= UV_WRITABLE;
  uv_poll_start(&s->poll, events, poll_cb);
  return 0;
}

static void timeout_cb(uv_timer_t *t) {
  sg_http_link_t *l = t->data;
  int running;
  curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  check_done(l);
  sg__http_drain(l);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
  (void)multi;
  sg_http_link_t *l = userp;
  if (l->multi_gone) return 0;
  if (timeout_ms < 0)
    uv_timer_stop(&l->timer);
  else
    uv_timer_start(&l->timer, timeout_cb, (uint64_t)timeout_ms, 0);
  return 0;
}

/* ---- public API ---- */

static void free_link(sg_http_link_t *l) {
  free(l->url);
  for (char **h = l->headers; h && *h; h++) {
    memset(*h, 0, strlen(*h)); /* may hold credentials */
    free(*h);
  }
  free(l->headers);
  free(l->session);
  free(l->protocol);
  free(l);
}

static int add_headers(char **out, size_t *n, char **in) {
  for (char **e = in; e && *e; e++) {
    const char *eq = strchr(*e, '=');
    if (eq == NULL || strpbrk(*e, "\r\n")) continue; /* a header cannot hold a line break */
    size_t len = strlen(*e) + 2;
    char *h = malloc(len);
    if (h == NULL) return SG_ENOMEM;
    snprintf(h, len, "%.*s: %s", (int)(eq - *e), *e, eq + 1);
    out[(*n)++] = h;
  }
  return 0;
}

int sg_http_link_open(uv_loop_t *loop, const char *url, char **headers, char **more_headers,
                      uint64_t connect_timeout_ms, const sg_http_link_cbs_t *cbs, void *arg,
                      sg_http_link_t **out) {
  static int curl_ready;
  if (!curl_ready) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return SG_EIO;
    curl_ready = 1;
  }
  sg_http_link_t *l = calloc(1, sizeof *l);
  if (l == NULL) return SG_ENOMEM;
  size_t n = 0;
  for (char **e = headers; e && *e; e++) n++;
  for (char **e = more_headers; e && *e; e++) n++;
  l->headers = calloc(n + 1, sizeof *l->headers);
  l->url = strdup(url);
  l->multi = curl_multi_init();
  if (l->headers == NULL || l->url == NULL || l->multi == NULL) goto fail;
  size_t k = 0;
  if (add_headers(l->headers, &k, headers) || add_headers(l->headers, &k, more_headers)) goto fail;
  l->loop = loop;
  l->connect_timeout_ms = connect_timeout_ms;
  l->cbs = *cbs;
  l->arg = arg;
  l->xfers.prev = l->xfers.next = &l->xfers;
  curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
  curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
  curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
  curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
  uv_timer_init(loop, &l->timer);
  uv_timer_init(loop, &l->retry_timer);
  l->timer.data = l->retry_timer.data = l;
  l->open_handles = 2;
  *out = l;
  return 0;
fail:
  if (l->multi) curl_multi_cleanup(l->multi);
  free_link(l);
  return SG_ENOMEM;
}

int sg_http_link_post(sg_http_link_t *l, json_t *msg) {
  if (l->failed || l->closing) return SG_EDOWNSTREAM;
  char *body = json_dumps(msg, JSON_COMPACT);
  if (body == NULL) return SG_ENOMEM;
  xfer_t *x = sg__http_xfer_new(l, X_POST, NULL);
  if (x == NULL) {
    free(body);
    return SG_ENOMEM;
  }
  json_t *id = json_object_get(msg, "id");
  const char *method = json_string_value(json_object_get(msg, "method"));
  if (method && json_is_integer(id)) {
    x->has_id = 1;
    x->id = json_integer_value(id);
  }
  if (l->stateless && method && id) {
    /* The era's requests say on the outside what they are; the server checks that the
     * headers and the body agree. */
    char line[1200], name[1024];
    snprintf(line, sizeof line, "Mcp-Method: %s", method);
    x->headers = curl_slist_append(x->headers, line);
    if (sg__ds_era_name(method, json_object_get(msg, "params"), name, sizeof name) == 0) {
      snprintf(line, sizeof line, "Mcp-Name: %s", name);
      x->headers = curl_slist_append(x->headers, line);
    }
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
  }
  curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
  curl_easy_setopt(x->easy, CURLOPT_COPYPOSTFIELDS, body);
  free(body);
  if (curl_multi_add_handle(l->multi, x->easy) != CURLM_OK) {
    curl_easy_cleanup(x->easy);
    x->easy = NULL;
    sg__http_xfer_free(x);
    return SG_EDOWNSTREAM;
  }
  return 0;
}

void sg_http_link_set_stateless(sg_http_link_t *l, int on) {
  l->stateless = on;
  if (on) return;
  free(l->session); /* whatever a refusal of the other era carried names no session */
  l->session = NULL;
}

void sg_http_link_set_protocol(sg_http_link_t *l, const char *version) {
  free(l->protocol);
  l->protocol = version ? strdup(version) : NULL;
}

void sg_http_link_forget(sg_http_link_t *l, int64_t id) {
  for (xfer_t *x = l->xfers.next; x != &l->xfers; x = x->next)
    if (x->has_id && x->id == id) {
      sg__http_xfer_free(x);
      return;
    }
}

const char *sg_http_link_session(const sg_http_link_t *l) {
  return l->session;
}

static void handle_gone(sg_http_link_t *l) {
  if (--l->open_handles > 0) return;
  void (*done)(void *) = l->cbs.on_closed;
  void *arg = l->arg;
  free_link(l);
  if (done) done(arg);
}

static void timer_closed(uv_handle_t *h) {
  handle_gone(h->data);
}

/* Every transfer is over: release curl and close the handles. */
static void finish_close(sg_http_link_t *l) {
  l->multi_gone = 1;
  curl_multi_cleanup(l->multi);
  /* curl_multi_cleanup may report the sockets it still watched as removed; the polls it
   * does not report are closed here. */
  while (l->socks) sock_close(l, l->socks);
  uv_timer_stop(&l->timer);
  uv_close((uv_handle_t *)&l->timer, timer_closed);
  uv_timer_stop(&l->retry_timer);
  uv_close((uv_handle_t *)&l->retry_timer, timer_closed);
}

void sg_http_link_close(sg_http_link_t *l) {
  if (l->closing) return;
  l->closing = 1;
  uv_timer_stop(&l->retry_timer);
  free_events(l);
  while (l->xfers.next != &l->xfers) sg__http_xfer_free(l->xfers.next);
  if (l->session && !l->failed) {
    /* Tell the server the session is over; finish_close runs when it answers. */
    xfer_t *x = sg__http_xfer_new(l, X_DELETE, NULL);
    if (x) {
      curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, "DELETE");
      curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, DELETE_TIMEOUT_MS);
      if (curl_multi_add_handle(l->multi, x->easy) == CURLM_OK) return;
      sg__http_xfer_free(x);
    }
  }
  finish_close(l);
}
