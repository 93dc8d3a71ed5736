/*
 * The Streamable HTTP link (see http.h). libcurl's multi interface is driven from the
 * libuv loop: curl tells us which sockets to watch (socket_cb, one uv_poll_t each) and
 * when to wake it (timer_cb, one uv_timer_t); both report back through
 * curl_multi_socket_action. libcurl forbids calling multi functions from its own
 * callbacks, and the downstream may send new requests from any message it receives, so
 * what a transfer yields (messages, unanswered requests, failures) is queued as events
 * and delivered only once curl has returned (drain).
 *
 * Handles: the timer and one poll per socket. The link is freed when the last of them
 * is closed, after close() has ended every transfer.
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
#include "json/parse.h"

#define MAX_BODY (64u * 1024u * 1024u)
#define MAX_ERROR_BODY 512u
#define DELETE_TIMEOUT_MS 2000L

typedef struct xfer {
  struct xfer *prev, *next;
  sg_http_link_t *link;
  CURL *easy;
  struct curl_slist *headers;
  int64_t id;       /* the request it carries, when has_id */
  int has_id;
  int answered;     /* its response has been seen */
  int is_delete;
  int sse;          /* the answer is an event stream */
  sg_buf_t body;    /* unparsed bytes received */
  sg_buf_t data;    /* SSE: the data lines of the event being read */
  char errbuf[CURL_ERROR_SIZE];
} xfer_t;

typedef enum { EV_MESSAGE, EV_UNANSWERED, EV_FAILED } ev_kind_t;

typedef struct event {
  struct event *next;
  ev_kind_t kind;
  json_t *msg;
  int64_t id;
  char *why;
} event_t;

typedef struct sock {
  struct sock *next; /* the link's sockets, while their poll is open */
  uv_poll_t poll;
  sg_http_link_t *link;
  curl_socket_t fd;
} sock_t;

struct sg_http_link {
  uv_loop_t *loop;
  CURLM *multi;
  uv_timer_t timer;
  int open_handles;  /* the timer and every poll */
  char *url;
  char **headers;    /* "NAME: value", sent with every request */
  char *session;
  char *protocol;
  uint64_t connect_timeout_ms;
  xfer_t xfers;      /* list head */
  sock_t *socks;
  event_t *ev_head, *ev_tail;
  int failed;
  int closing;
  int multi_gone;    /* curl_multi_cleanup has been called */
  sg_http_link_cbs_t cbs;
  void *arg;
};

/* ---- events ---- */

static void push_event(sg_http_link_t *l, ev_kind_t kind, json_t *msg, int64_t id, const char *why) {
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
  if (l->ev_tail) l->ev_tail->next = e;
  else l->ev_head = e;
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

/* Delivers queued events; a callback may close the link, which ends delivery. */
static void drain(sg_http_link_t *l) {
  while (l->ev_head && !l->closing) {
    event_t *e = l->ev_head;
    l->ev_head = e->next;
    if (l->ev_head == NULL) l->ev_tail = NULL;
    switch (e->kind) {
      case EV_MESSAGE: l->cbs.on_message(l, e->msg, l->arg); break;
      case EV_UNANSWERED: l->cbs.on_unanswered(l, e->id, l->arg); break;
      case EV_FAILED: l->cbs.on_failed(l, e->why, l->arg); break;
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
  size_t n = json_is_array(msg) ? json_array_size(msg) : 1;
  for (size_t i = 0; i < n; i++) {
    json_t *m = json_is_array(msg) ? json_array_get(msg, i) : msg;
    json_t *id = json_object_get(m, "id");
    if (x->has_id && json_object_get(m, "method") == NULL && json_is_integer(id) &&
        json_integer_value(id) == x->id)
      x->answered = 1;
    push_event(x->link, EV_MESSAGE, json_incref(m), 0, NULL);
  }
  json_decref(msg);
}

/* Consumes the whole lines of an event stream; a partial line stays for later. An empty
 * line ends an event; its data lines, joined by newlines, are one message. */
static void parse_sse(xfer_t *x) {
  size_t start = 0;
  for (;;) {
    const char *base = x->body.data + start;
    size_t left = x->body.len - start;
    const char *nl = memchr(base, '\n', left);
    if (nl == NULL) break;
    size_t len = (size_t)(nl - base);
    start += len + 1;
    if (len > 0 && base[len - 1] == '\r') len--;
    if (len == 0) {
      if (x->data.len > 0) got_message(x, x->data.data, x->data.len);
      x->data.len = 0;
    } else if (len >= 5 && memcmp(base, "data:", 5) == 0) {
      size_t skip = len > 5 && base[5] == ' ' ? 6 : 5;
      if (x->data.len > 0) sg_buf_append(&x->data, "\n", 1);
      sg_buf_append(&x->data, base + skip, len - skip);
    }
    /* "event:", "id:", "retry:" and ":" comments carry nothing scopegate uses. */
  }
  sg_buf_consume(&x->body, start);
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
      sg_buf_append(&x->body, ptr, n < MAX_ERROR_BODY - x->body.len ? n : MAX_ERROR_BODY - x->body.len);
    return n;
  }
  if (x->body.len + n > MAX_BODY || sg_buf_append(&x->body, ptr, n) != 0) return 0;
  if (x->sse) parse_sse(x);
  return n;
}

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
    x->link->session = strndup(v, vlen);
  } else if (nlen == 12 && strncasecmp(buf, "content-type", 12) == 0) {
    x->sse = vlen >= 17 && strncasecmp(v, "text/event-stream", 17) == 0;
  }
  return n;
}

/* ---- transfers ---- */

static void xfer_free(xfer_t *x) {
  if (x->easy) {
    if (!x->link->multi_gone) curl_multi_remove_handle(x->link->multi, x->easy);
    curl_easy_cleanup(x->easy);
  }
  x->prev->next = x->next;
  x->next->prev = x->prev;
  curl_slist_free_all(x->headers);
  sg_buf_free(&x->body);
  sg_buf_free(&x->data);
  free(x);
}

static xfer_t *xfer_new(sg_http_link_t *l) {
  xfer_t *x = calloc(1, sizeof *x);
  if (x == NULL) return NULL;
  x->link = l;
  sg_buf_init(&x->body);
  sg_buf_init(&x->data);
  x->easy = curl_easy_init();
  x->prev = l->xfers.prev;
  x->next = &l->xfers;
  l->xfers.prev->next = x;
  l->xfers.prev = x;
  if (x->easy == NULL) {
    xfer_free(x);
    return NULL;
  }
  for (char **h = l->headers; *h; h++) x->headers = curl_slist_append(x->headers, *h);
  char line[512];
  if (l->session) {
    snprintf(line, sizeof line, "Mcp-Session-Id: %s", l->session);
    x->headers = curl_slist_append(x->headers, line);
  }
  if (l->protocol) {
    snprintf(line, sizeof line, "MCP-Protocol-Version: %s", l->protocol);
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
  /* Redirects would carry the credentials elsewhere. */
  curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
  return x;
}

/* A transfer is over: hand on what its body held, then decide whether it failed. */
static void xfer_done(xfer_t *x, CURLcode res) {
  sg_http_link_t *l = x->link;
  long status = status_of(x);
  char why[512];
  if (x->is_delete) {
    if (res != CURLE_OK || (status >= 300 && status != 404 && status != 405))
      sg_debug("downstream at %s: ending the session failed (%s, HTTP %ld)", l->url,
               res != CURLE_OK ? curl_easy_strerror(res) : "ok", status);
    return;
  }
  if (res != CURLE_OK) {
    snprintf(why, sizeof why, "is unreachable at %s: %s", l->url,
             x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
  } else if (status >= 300) {
    sg_buf_append(&x->body, "", 1);
    for (char *p = x->body.data; *p; p++)
      if (*p == '\r' || *p == '\n') *p = ' ';
    if (status == 404 && l->session)
      snprintf(why, sizeof why, "ended the session (HTTP 404 from %s)", l->url);
    else
      snprintf(why, sizeof why, "answered HTTP %ld from %s%s%.200s", status, l->url,
               x->body.data[0] ? ": " : "", x->body.data);
  } else {
    if (x->sse) {
      parse_sse(x);
      /* A stream that ends without a blank line still ends its last event. */
      if (x->body.len > 0 && x->body.len < MAX_BODY) {
        sg_buf_append(&x->body, "\n\n", 2);
        parse_sse(x);
      }
    } else if (x->body.len > 0) {
      got_message(x, x->body.data, x->body.len);
    }
    if (x->has_id && !x->answered) push_event(l, EV_UNANSWERED, NULL, x->id, NULL);
    return;
  }
  if (x->has_id) push_event(l, EV_FAILED, NULL, 0, why);
  else sg_warn("downstream %s", why);
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
    xfer_free(x);
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
  drain(l);
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
  drain(l);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
  (void)multi;
  sg_http_link_t *l = userp;
  if (l->multi_gone) return 0;
  if (timeout_ms < 0) uv_timer_stop(&l->timer);
  else uv_timer_start(&l->timer, timeout_cb, (uint64_t)timeout_ms, 0);
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
  l->headers = calloc(n + 4, sizeof *l->headers);
  l->url = strdup(url);
  l->multi = curl_multi_init();
  if (l->headers == NULL || l->url == NULL || l->multi == NULL) goto fail;
  size_t k = 0;
  l->headers[k++] = strdup("Content-Type: application/json");
  l->headers[k++] = strdup("Accept: application/json, text/event-stream");
  l->headers[k++] = strdup("Expect:"); /* no 100-continue round trip before a body */
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
  l->timer.data = l;
  l->open_handles = 1;
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
  xfer_t *x = xfer_new(l);
  if (x == NULL) {
    free(body);
    return SG_ENOMEM;
  }
  json_t *id = json_object_get(msg, "id");
  if (json_object_get(msg, "method") && json_is_integer(id)) {
    x->has_id = 1;
    x->id = json_integer_value(id);
  }
  curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
  curl_easy_setopt(x->easy, CURLOPT_COPYPOSTFIELDS, body);
  free(body);
  if (curl_multi_add_handle(l->multi, x->easy) != CURLM_OK) {
    curl_easy_cleanup(x->easy);
    x->easy = NULL;
    xfer_free(x);
    return SG_EDOWNSTREAM;
  }
  return 0;
}

void sg_http_link_set_protocol(sg_http_link_t *l, const char *version) {
  free(l->protocol);
  l->protocol = version ? strdup(version) : NULL;
}

void sg_http_link_forget(sg_http_link_t *l, int64_t id) {
  for (xfer_t *x = l->xfers.next; x != &l->xfers; x = x->next)
    if (x->has_id && x->id == id) {
      xfer_free(x);
      return;
    }
}

const char *sg_http_link_session(const sg_http_link_t *l) { return l->session; }

static void handle_gone(sg_http_link_t *l) {
  if (--l->open_handles > 0) return;
  void (*done)(void *) = l->cbs.on_closed;
  void *arg = l->arg;
  free_link(l);
  if (done) done(arg);
}

static void timer_closed(uv_handle_t *h) { handle_gone(h->data); }

/* Every transfer is over: release curl and close the handles. */
static void finish_close(sg_http_link_t *l) {
  l->multi_gone = 1;
  curl_multi_cleanup(l->multi);
  /* curl_multi_cleanup may report the sockets it still watched as removed; the polls it
   * does not report are closed here. */
  while (l->socks) sock_close(l, l->socks);
  uv_timer_stop(&l->timer);
  uv_close((uv_handle_t *)&l->timer, timer_closed);
}

void sg_http_link_close(sg_http_link_t *l) {
  if (l->closing) return;
  l->closing = 1;
  free_events(l);
  while (l->xfers.next != &l->xfers) xfer_free(l->xfers.next);
  if (l->session && !l->failed) {
    /* Tell the server the session is over; finish_close runs when it answers. */
    xfer_t *x = xfer_new(l);
    if (x) {
      x->is_delete = 1;
      curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, "DELETE");
      curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, DELETE_TIMEOUT_MS);
      if (curl_multi_add_handle(l->multi, x->easy) == CURLM_OK) return;
      xfer_free(x);
    }
  }
  finish_close(l);
}
