/*
 * The HTTP/1.1 server: listeners, connections and their limits, the DNS-rebinding
 * checks, and writing responses (whole, or streamed with chunked encoding).
 *
 * A connection answers one request at a time. While a request is being answered the
 * connection keeps reading, so that a client that goes away is noticed (an SSE stream
 * must not outlive its client); bytes of a next, pipelined request wait in a small
 * buffer, and reading pauses if that fills.
 *
 * Connection states (transitions performed by the named functions):
 *
 *   READING ── whole request (dispatch) ──▶ BUSY ── response done (finish) ──▶ READING
 *   READING ── malformed, too large, too slow (error_response) ──▶ BUSY ──▶ CLOSING
 *   BUSY ── peer gone, write failed (conn_close: on_abort) ──▶ CLOSING
 *   any ── Connection: close, idle, server closing (conn_close) ──▶ CLOSING
 *   CLOSING ── output flushed, peer's leftovers read for a moment (shutdown_cb) ──▶ freed
 *
 * Closing with a short linger — half-close, then read and discard until the peer closes
 * or LINGER_MS — lets an error response (413 for a body still arriving) reach the
 * client instead of being destroyed by a reset.
 */
#include "transport/http_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/log.h"
#include "json/parse.h"
#include "transport/conn.h"
#include "transport/http_reader.h"

#define LINGER_MS 2000
/* Bytes of a next request accepted while the current one is answered. */
#define MAX_PENDING_INPUT (64u * 1024u)

typedef struct listener {
  sg_listen_handle_t h;
  struct listener *next;
  sg_http_server_t *srv;
  sg_listen_addr_t addr;
  int port;
  int bound; /* listening; its socket file (if any) is ours to remove */
  int open;  /* the handle is not closed yet */
} listener_t;

typedef enum { C_READING, C_BUSY, C_CLOSING } conn_state_t;
typedef enum { T_NONE, T_IDLE, T_HEADERS, T_BODY, T_LINGER } timer_phase_t;

typedef struct conn {
  sg_listen_handle_t h;
  uv_timer_t timer;
  uv_shutdown_t shutdown;
  struct conn *prev, *next;
  sg_http_server_t *srv;
  listener_t *lst;
  sg_http_reader_t rd;
  sg_http_request_t req;
  conn_state_t state;
  timer_phase_t tphase;
  int streaming;     /* BUSY: a streamed response has started */
  int chunked;       /* the stream is chunked (else it ends with the connection) */
  int keep_alive;    /* the connection stays open after this response */
  int sent_continue; /* "100 Continue" went out for this request */
  int in_feed;       /* conn_process is on the stack */
  int reading;
  int eof; /* the peer closed its side */
  int handles_closing;
  int open_handles;
  int rejected;     /* accepted only to be told 503 */
  sg_buf_t pending; /* bytes received while BUSY */
} conn_t;

struct sg_http_server {
  uv_loop_t *loop;
  sg_http_config_t cfg;
  sg_http_handler_t handler;
  void *arg;
  listener_t *listeners;
  conn_t *conns;
  unsigned nconns, nrejecting;
  int open_handles; /* open listeners and live connections */
  int closing;
  void (*done)(void *arg);
  void *done_arg;
  char readbuf[65536]; /* libuv reads into it and the read callback consumes it at once */
};

void sg_http_config_default(sg_http_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->max_header_bytes = SG_HTTP_DEFAULT_MAX_HEADER_BYTES;
  cfg->max_body_bytes = SG_JSON_DEFAULT_MAX_BYTES;
  cfg->header_timeout_ms = SG_HTTP_DEFAULT_HEADER_TIMEOUT_MS;
  cfg->body_timeout_ms = SG_HTTP_DEFAULT_BODY_TIMEOUT_MS;
  cfg->idle_timeout_ms = SG_HTTP_DEFAULT_IDLE_TIMEOUT_MS;
  cfg->max_connections = SG_HTTP_DEFAULT_MAX_CONNECTIONS;
  cfg->max_output_bytes = SG_HTTP_DEFAULT_MAX_OUTPUT_BYTES;
}

/* ---- header helpers ---------------------------------------------------------------- */

static const char *skip_ws(const char *s) {
  while (*s == ' ' || *s == '\t') s++;
  return s;
}

/* Length of s[0..n) without trailing spaces and tabs. */
static size_t trim_len(const char *s, size_t n) {
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
  return n;
}

int sg_http_content_type_is(const char *value, const char *type) {
  if (value == NULL) return 0;
  value = skip_ws(value);
  size_t n = trim_len(value, strcspn(value, ";"));
  return n == strlen(type) && strncasecmp(value, type, n) == 0;
}

/* True when a media range's parameters give it quality zero. */
static int zero_quality(const char *params, size_t n) {
  const char *end = params + n;
  for (const char *p = params; p < end; p++) {
    if (*p != ';') continue;
    const char *q = skip_ws(p + 1);
    if (q + 2 <= end && (q[0] == 'q' || q[0] == 'Q') && q[1] == '=') {
      q += 2;
      if (q < end && *q == '0') {
        q++;
        if (q < end && *q == '.') q++;
        while (q < end && *q == '0') q++;
        q = skip_ws(q);
        return q >= end || *q == ';';
      }
      return 0;
    }
  }
  return 0;
}

int sg_http_accepts(const char *accept, const char *type) {
  if (accept == NULL) return 0;
  const char *slash = strchr(type, '/');
  size_t major = slash ? (size_t)(slash - type) : strlen(type);
  for (const char *p = accept; *p;) {
    size_t n = strcspn(p, ",");
    const char *item = skip_ws(p);
    size_t len = (size_t)(p + n - item);
    size_t range = trim_len(item, strcspn(item, ";") < len ? strcspn(item, ";") : len);
    int match = (range == 3 && strncmp(item, "*/*", 3) == 0) ||
                (range == strlen(type) && strncasecmp(item, type, range) == 0) ||
                (range == major + 2 && strncasecmp(item, type, major) == 0 && item[major] == '/' &&
                 item[major + 1] == '*');
    if (match && !zero_quality(item + range, len - range)) return 1;
    p += n;
    if (*p == ',') p++;
  }
  return 0;
}

/* Splits "name[:port]" / "[v6][:port]": *name_len and *port (-1 when absent). */
static int split_host(const char *host, size_t *name_len, long *port) {
  const char *colon;
  if (host[0] == '[') {
    const char *close = strchr(host, ']');
    if (close == NULL) return -1;
    *name_len = (size_t)(close - host + 1);
    colon = close[1] == ':' ? close + 1 : NULL;
    if (close[1] && colon == NULL) return -1;
  } else {
    colon = strchr(host, ':');
    *name_len = colon ? (size_t)(colon - host) : strlen(host);
    if (colon && strchr(colon + 1, ':')) return -1;
  }
  *port = -1;
  if (colon) {
    const char *d = colon + 1;
    if (*d == '\0' || strlen(d) > 5) return -1;
    long v = 0;
    for (; *d; d++) {
      if (*d < '0' || *d > '9') return -1;
      v = v * 10 + (*d - '0');
    }
    *port = v;
  }
  return *name_len ? 0 : -1;
}

static int name_is(const char *name, size_t n, const char *want) {
  return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

int sg_http_host_allowed(const sg_http_config_t *cfg, const char *host, int port,
                         const char *listen_host, int unix_socket) {
  if (unix_socket || host == NULL) return 1;
  size_t n;
  long hport;
  if (split_host(host, &n, &hport) != 0) return 0;
  if (hport < 0) hport = 80;
  for (size_t i = 0; i < cfg->nallow_hosts; i++) {
    size_t an;
    long aport;
    if (split_host(cfg->allow_hosts[i], &an, &aport) != 0) continue;
    if (an == n && strncasecmp(cfg->allow_hosts[i], host, n) == 0 && (aport < 0 || aport == hport))
      return 1;
  }
  if (hport != port) return 0;
  if (name_is(host, n, "localhost") || name_is(host, n, "127.0.0.1") || name_is(host, n, "[::1]"))
    return 1;
  if (listen_host == NULL) return 0;
  if (strchr(listen_host, ':'))
    return n == strlen(listen_host) + 2 && host[0] == '[' &&
           strncasecmp(host + 1, listen_host, n - 2) == 0;
  return name_is(host, n, listen_host);
}

int sg_http_origin_allowed(const sg_http_config_t *cfg, const char *origin, int port,
                           int unix_socket) {
  if (origin == NULL) return 1;
  for (size_t i = 0; i < cfg->nallow_origins; i++)
    if (strcasecmp(cfg->allow_origins[i], origin) == 0) return 1;
  if (unix_socket || port <= 0) return 0;
  static const char *const local[] = {"localhost", "127.0.0.1", "[::1]"};
  char want[64];
  for (size_t i = 0; i < 3; i++) {
    snprintf(want, sizeof want, "http://%s:%d", local[i], port);
    if (strcasecmp(origin, want) == 0) return 1;
    snprintf(want, sizeof want, "http://%s", local[i]);
    if (port == 80 && strcasecmp(origin, want) == 0) return 1;
  }
  return 0;
}

/* ---- connections ------------------------------------------------------------------- */

static void conn_close(conn_t *c, int graceful);
static void conn_process(conn_t *c, const char *data, size_t len);

static void server_release(sg_http_server_t *srv) {
  if (--srv->open_handles > 0 || !srv->closing) return;
  while (srv->listeners) {
    listener_t *l = srv->listeners;
    srv->listeners = l->next;
    free(l);
  }
  void (*done)(void *) = srv->done;
  void *arg = srv->done_arg;
  free(srv);
  if (done) done(arg);
}

static void handle_closed(uv_handle_t *h) {
  conn_t *c = h->data;
  if (--c->open_handles > 0) return;
  sg_http_server_t *srv = c->srv;
  if (c->prev)
    c->prev->next = c->next;
  else
    srv->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  if (c->rejected)
    srv->nrejecting--;
  else
    srv->nconns--;
  sg_http_reader_free(&c->rd);
  sg_buf_free(&c->pending);
  free(c);
  server_release(srv);
}

static void close_handles(conn_t *c) {
  if (c->handles_closing) return;
  c->handles_closing = 1;
  c->state = C_CLOSING;
  uv_close(&c->h.handle, handle_closed);
  uv_close((uv_handle_t *)&c->timer, handle_closed);
}

static void timer_start(conn_t *c, timer_phase_t phase, uint64_t ms);

typedef struct {
  uv_write_t req;
  conn_t *c;
  char data[];
} queued_write_t;

static void write_cb(uv_write_t *w, int status) {
  queued_write_t *q = (queued_write_t *)w;
  conn_t *c = q->c;
  free(q);
  if (status < 0 && status != UV_ECANCELED) conn_close(c, 0);
}

/* Offers data to the kernel and queues what it does not take at once. */
static int conn_send(conn_t *c, const char *data, size_t len) {
  if (c->state == C_CLOSING || c->handles_closing) return SG_EIO;
  uv_stream_t *s = &c->h.stream;
  if (uv_stream_get_write_queue_size(s) > c->srv->cfg.max_output_bytes) {
    sg_warn("http: a client is not reading its responses; closing its connection");
    return SG_EIO;
  }
  uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
  int n = uv_try_write(s, &b, 1);
  if (n < 0 && n != UV_EAGAIN) return SG_EIO;
  size_t done = n > 0 ? (size_t)n : 0;
  if (done == len) return 0;
  queued_write_t *q = malloc(sizeof *q + (len - done));
  if (q == NULL) return SG_ENOMEM;
  q->c = c;
  memcpy(q->data, data + done, len - done);
  b = uv_buf_init(q->data, (unsigned)(len - done));
  if (uv_write(&q->req, s, &b, 1, write_cb) < 0) {
    free(q);
    return SG_EIO;
  }
  return 0;
}

static void shutdown_cb(uv_shutdown_t *req, int status) {
  conn_t *c = req->data;
  if (status < 0 || c->eof || c->srv->closing || c->handles_closing) {
    close_handles(c);
    return;
  }
  timer_start(c, T_LINGER, LINGER_MS);
}

/* Ends the connection. A request being answered is aborted (its on_abort runs). With
 * graceful, what was written is flushed first and the peer gets a moment to finish. */
static void conn_close(conn_t *c, int graceful) {
  if (c->state == C_CLOSING || c->handles_closing) {
    if (!graceful) close_handles(c);
    return;
  }
  int busy = c->state == C_BUSY;
  c->state = C_CLOSING;
  if (busy && c->req.on_abort) {
    void (*abort_cb)(sg_http_request_t *) = c->req.on_abort;
    c->req.on_abort = NULL;
    abort_cb(&c->req);
  }
  uv_timer_stop(&c->timer);
  c->tphase = T_NONE;
  c->shutdown.data = c;
  if (graceful && uv_shutdown(&c->shutdown, &c->h.stream, shutdown_cb) == 0) return;
  close_handles(c);
}

static void timer_cb(uv_timer_t *t) {
  conn_t *c = t->data;
  timer_phase_t phase = c->tphase;
  c->tphase = T_NONE;
  if (phase == T_LINGER) {
    close_handles(c);
  } else if (c->state == C_READING) {
    if (phase == T_IDLE || c->rd.phase == SG_HTTP_READ_IDLE) {
      conn_close(c, 1);
    } else {
      static const char body[] = "408 Request Timeout: the request took too long to arrive\n";
      c->state = C_BUSY;
      c->keep_alive = 0;
      sg_debug("http: request timed out while %s",
               phase == T_HEADERS ? "reading headers" : "reading the body");
      sg_http_respond(&c->req, 408, "text/plain; charset=utf-8", NULL, body, sizeof body - 1);
    }
  }
}

static void timer_start(conn_t *c, timer_phase_t phase, uint64_t ms) {
  c->tphase = phase;
  uv_timer_start(&c->timer, timer_cb, ms, 0);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  conn_t *c = h->data;
  *buf = uv_buf_init(c->srv->readbuf, sizeof c->srv->readbuf);
}

static void keep_pending(conn_t *c, const char *data, size_t len) {
  if (sg_buf_append(&c->pending, data, len) != 0) {
    conn_close(c, 0);
    return;
  }
  if (c->pending.len > MAX_PENDING_INPUT && c->reading) {
    uv_read_stop(&c->h.stream);
    c->reading = 0;
  }
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  conn_t *c = s->data;
  if (n == 0) return;
  if (n < 0) {
    uv_read_stop(s);
    c->reading = 0;
    c->eof = 1;
    if (c->state == C_CLOSING)
      close_handles(c);
    else
      conn_close(c, c->state == C_READING); /* BUSY: the client has gone */
    return;
  }
  if (c->state == C_CLOSING) return; /* lingering: the rest of the request is dropped */
  if (c->state == C_BUSY)
    keep_pending(c, buf->base, (size_t)n);
  else
    conn_process(c, buf->base, (size_t)n);
}

static void start_reading(conn_t *c) {
  if (c->reading || c->state == C_CLOSING) return;
  if (uv_read_start(&c->h.stream, alloc_cb, read_cb) == 0) c->reading = 1;
}

/* ---- responses --------------------------------------------------------------------- */

static const char *http_date(void) {
  static char date[40];
  static time_t last = -1;
  time_t now = time(NULL);
  if (now != last) {
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    last = now;
  }
  return date;
}

static int build_head(conn_t *c, sg_buf_t *b, int status, const char *content_type,
                      const char *headers, int streaming, size_t len) {
  int rc = sg_buf_printf(b, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status,
                         http_status_str((enum http_status)status), http_date());
  if (rc == 0 && content_type) rc = sg_buf_printf(b, "Content-Type: %s\r\n", content_type);
  if (rc == 0 && streaming && c->chunked)
    rc = sg_buf_append_str(b, "Transfer-Encoding: chunked\r\n");
  if (rc == 0 && !streaming && status != 204 && status != 304)
    rc = sg_buf_printf(b, "Content-Length: %zu\r\n", len);
  if (rc == 0 && !c->keep_alive)
    rc = sg_buf_append_str(b, "Connection: close\r\n");
  else if (rc == 0 && c->rd.http_minor == 0)
    rc = sg_buf_append_str(b, "Connection: keep-alive\r\n");
  if (rc == 0 && headers) rc = sg_buf_append_str(b, headers);
  if (rc == 0) rc = sg_buf_append(b, "\r\n", 2);
  return rc;
}

/* The response is complete (or failed): the connection reads the next request, or
 * closes. */
static void finish(conn_t *c, int failed) {
  c->req.on_abort = NULL;
  c->req.data = NULL;
  c->streaming = 0;
  if (c->state != C_BUSY) return;
  c->state = C_READING;
  if (failed || !c->keep_alive || c->srv->closing) {
    conn_close(c, !failed);
    return;
  }
  sg_http_reader_next(&c->rd);
  c->sent_continue = 0;
  timer_start(c, T_IDLE, c->srv->cfg.idle_timeout_ms);
  start_reading(c);
  if (!c->in_feed && c->pending.len) {
    sg_buf_t p = c->pending;
    sg_buf_init(&c->pending);
    conn_process(c, p.data, p.len);
    sg_buf_free(&p);
  }
}

static conn_t *conn_of(sg_http_request_t *req) {
  return sg_container_of(req, conn_t, req);
}

int sg_http_respond(sg_http_request_t *req, int status, const char *content_type,
                    const char *headers, const char *body, size_t len) {
  conn_t *c = conn_of(req);
  if (c->state != C_BUSY || c->streaming) return SG_EINVAL;
  if (c->srv->closing) c->keep_alive = 0;
  sg_debug("http: %s %s -> %d", c->rd.method ? c->rd.method : "-", c->rd.path ? c->rd.path : "-",
           status);
  sg_buf_t b;
  sg_buf_init(&b);
  int rc = build_head(c, &b, status, len ? content_type : NULL, headers, 0, len);
  /* A response to HEAD describes the body without sending it. */
  int head = c->rd.method && strcmp(c->rd.method, "HEAD") == 0;
  if (rc == 0 && len && !head) rc = sg_buf_append(&b, body, len);
  if (rc == 0) rc = conn_send(c, b.data, b.len);
  sg_buf_free(&b);
  finish(c, rc != 0);
  return rc ? SG_EIO : 0;
}

int sg_http_stream_begin(sg_http_request_t *req, int status, const char *content_type,
                         const char *headers) {
  conn_t *c = conn_of(req);
  if (c->state != C_BUSY || c->streaming) return SG_EINVAL;
  sg_debug("http: %s %s -> %d (stream)", c->rd.method, c->rd.path, status);
  /* HTTP/1.0 has no chunked encoding: the stream ends with the connection. */
  c->chunked = c->rd.http_minor >= 1;
  if (!c->chunked || c->srv->closing) c->keep_alive = 0;
  c->streaming = 1;
  sg_buf_t b;
  sg_buf_init(&b);
  int rc = build_head(c, &b, status, content_type, headers, 1, 0);
  if (rc == 0) rc = conn_send(c, b.data, b.len);
  sg_buf_free(&b);
  if (rc) {
    finish(c, 1);
    return SG_EIO;
  }
  return 0;
}

int sg_http_stream_write(sg_http_request_t *req, const char *data, size_t len) {
  conn_t *c = conn_of(req);
  if (c->state != C_BUSY || !c->streaming) return SG_EIO;
  if (len == 0) return 0;
  int rc;
  if (c->chunked) {
    static _Thread_local sg_buf_t scratch;
    scratch.len = 0;
    rc = sg_buf_printf(&scratch, "%zx\r\n", len);
    if (rc == 0) rc = sg_buf_append(&scratch, data, len);
    if (rc == 0) rc = sg_buf_append(&scratch, "\r\n", 2);
    if (rc == 0) rc = conn_send(c, scratch.data, scratch.len);
    if (scratch.cap > (1u << 20)) sg_buf_free(&scratch);
  } else {
    rc = conn_send(c, data, len);
  }
  if (rc) {
    finish(c, 1);
    return SG_EIO;
  }
  return 0;
}

void sg_http_stream_end(sg_http_request_t *req) {
  conn_t *c = conn_of(req);
  if (c->state != C_BUSY || !c->streaming) return;
  int rc = c->chunked ? conn_send(c, "0\r\n\r\n", 5) : 0;
  finish(c, rc != 0);
}

const char *sg_http_header(const sg_http_request_t *req, const char *name) {
  const conn_t *c = sg_container_of(req, conn_t, req);
  return sg_http_reader_header(&c->rd, name);
}

/* ---- reading requests -------------------------------------------------------------- */

/* Answers with an HTTP error of the server's own (the handler never sees the request)
 * and closes the connection after it. */
static void error_response(conn_t *c, int status, const char *reason) {
  char body[256];
  int n = snprintf(body, sizeof body, "%d %s: %s\n", status,
                   http_status_str((enum http_status)status), reason ? reason : "bad request");
  sg_debug("http: refusing a request: %d %s", status, reason ? reason : "");
  c->state = C_BUSY;
  c->keep_alive = 0;
  sg_http_respond(&c->req, status, "text/plain; charset=utf-8", NULL, body,
                  n > 0 && (size_t)n < sizeof body ? (size_t)n : 0);
}

/* Host and Origin, then the handler. */
static void dispatch(conn_t *c) {
  sg_http_reader_t *rd = &c->rd;
  listener_t *l = c->lst;
  uv_timer_stop(&c->timer);
  c->tphase = T_NONE;
  c->keep_alive = rd->keep_alive;
  c->req = (sg_http_request_t){.method = rd->method,
                               .path = rd->path,
                               .target = rd->target,
                               .body = rd->body.data,
                               .body_len = rd->body.len,
                               .unix_socket = l->addr.kind == SG_LISTEN_UNIX};
  c->state = C_BUSY;
  const char *host = sg_http_reader_header(rd, "host");
  if (host == NULL && rd->http_minor >= 1) {
    c->state = C_READING;
    error_response(c, 400, "HTTP/1.1 requests need a Host header");
    return;
  }
  const char *why = NULL;
  if (!sg_http_host_allowed(&c->srv->cfg, host, l->port, l->addr.host, c->req.unix_socket))
    why = "403 Forbidden: the Host header does not name this server\n";
  else if (!sg_http_origin_allowed(&c->srv->cfg, sg_http_reader_header(rd, "origin"), l->port,
                                   c->req.unix_socket))
    why = "403 Forbidden: requests from this Origin are not allowed\n";
  if (why) {
    sg_info("http: refused %s %s from Host %s, Origin %s: not allowed", rd->method, rd->path,
            host ? host : "-",
            sg_http_reader_header(rd, "origin") ? sg_http_reader_header(rd, "origin") : "-");
    sg_http_respond(&c->req, 403, "text/plain; charset=utf-8", NULL, why, strlen(why));
    return;
  }
  c->srv->handler(&c->req, c->srv->arg);
}

static void conn_process(conn_t *c, const char *data, size_t len) {
  c->in_feed++;
  while (c->state == C_READING) {
    size_t used = sg_http_reader_feed(&c->rd, data, len);
    data += used;
    len -= used;
    sg_http_read_phase_t phase = c->rd.phase;
    if (phase == SG_HTTP_READ_ERROR) {
      error_response(c, c->rd.status, c->rd.reason);
      break;
    }
    if (phase == SG_HTTP_READ_DONE) {
      dispatch(c);
      continue;
    }
    if (phase == SG_HTTP_READ_HEADERS && c->tphase != T_HEADERS)
      timer_start(c, T_HEADERS, c->srv->cfg.header_timeout_ms);
    if (phase == SG_HTTP_READ_BODY && c->tphase != T_BODY) {
      timer_start(c, T_BODY, c->srv->cfg.body_timeout_ms);
      if (c->rd.expect_continue && !c->sent_continue) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        c->sent_continue = 1;
        if (conn_send(c, cont, sizeof cont - 1) != 0) {
          conn_close(c, 0);
          break;
        }
      }
    }
    break;
  }
  if (len && c->state == C_BUSY) keep_pending(c, data, len);
  c->in_feed--;
}

/* ---- listeners --------------------------------------------------------------------- */

static void on_connection(uv_stream_t *server, int status) {
  listener_t *l = server->data;
  sg_http_server_t *srv = l->srv;
  if (status < 0) {
    sg_warn("http: accepting a connection failed: %s", uv_strerror(status));
    return;
  }
  conn_t *c = calloc(1, sizeof *c);
  if (c == NULL) {
    sg_error("http: out of memory accepting a connection");
    return;
  }
  c->srv = srv;
  c->lst = l;
  int rc = sg_listen_accept(srv->loop, &l->addr, server, &c->h);
  uv_timer_init(srv->loop, &c->timer);
  c->h.handle.data = c;
  c->timer.data = c;
  c->open_handles = 2;
  sg_http_read_limits_t lim = {srv->cfg.max_header_bytes, srv->cfg.max_body_bytes};
  sg_http_reader_init(&c->rd, &lim);
  sg_buf_init(&c->pending);
  c->next = srv->conns;
  if (srv->conns) srv->conns->prev = c;
  srv->conns = c;
  srv->open_handles++;
  if (rc < 0 || srv->closing) {
    c->rejected = 1;
    srv->nrejecting++;
    close_handles(c);
    return;
  }
  if (srv->nconns >= srv->cfg.max_connections) {
    /* Refused politely while few are being refused; beyond that, just closed. */
    c->rejected = 1;
    if (++srv->nrejecting > srv->cfg.max_connections) {
      close_handles(c);
      return;
    }
    static const char busy[] =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Length: 42\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
        "503 Service Unavailable: too many clients\n";
    sg_warn("http: %u connections open; refusing a new one", srv->nconns);
    if (conn_send(c, busy, sizeof busy - 1) != 0) {
      close_handles(c);
      return;
    }
    start_reading(c);
    conn_close(c, 1);
    return;
  }
  srv->nconns++;
  start_reading(c);
  /* A new connection must start its request within the header timeout. */
  timer_start(c, T_IDLE, srv->cfg.header_timeout_ms);
}

static void listener_closed(uv_handle_t *h) {
  listener_t *l = h->data;
  server_release(l->srv);
}

int sg_http_server_new(uv_loop_t *loop, const sg_http_config_t *cfg, sg_http_handler_t handler,
                       void *arg, sg_http_server_t **out) {
  sg_http_server_t *srv = calloc(1, sizeof *srv);
  if (srv == NULL) return SG_ENOMEM;
  srv->loop = loop;
  srv->cfg = *cfg;
  srv->handler = handler;
  srv->arg = arg;
  *out = srv;
  return 0;
}

int sg_http_server_listen(sg_http_server_t *srv, const sg_listen_addr_t *a, char *url,
                          size_t urllen, char *err, size_t errlen) {
  listener_t *l = calloc(1, sizeof *l);
  if (l == NULL) {
    snprintf(err, errlen, "out of memory");
    return SG_ENOMEM;
  }
  l->srv = srv;
  l->addr = *a;
  int needs_close = 0;
  int rc = sg_listen_start(srv->loop, a, &l->h, on_connection, &l->port, &needs_close, err, errlen);
  l->h.handle.data = l;
  if (rc != 0 && !needs_close) {
    free(l);
    return rc;
  }
  l->next = srv->listeners;
  srv->listeners = l;
  srv->open_handles++;
  l->open = 1;
  if (rc != 0) {
    l->open = 0;
    uv_close(&l->h.handle, listener_closed);
    return rc;
  }
  l->bound = 1;
  sg_listen_describe(a, l->port, url, urllen);
  return 0;
}

void sg_http_server_stop_accepting(sg_http_server_t *srv) {
  for (listener_t *l = srv->listeners; l; l = l->next) {
    if (!l->open) continue;
    l->open = 0;
    uv_close(&l->h.handle, listener_closed);
    if (l->bound) sg_listen_cleanup(&l->addr);
  }
}

void sg_http_server_close(sg_http_server_t *srv, void (*done)(void *arg), void *arg) {
  srv->closing = 1;
  srv->done = done;
  srv->done_arg = arg;
  srv->open_handles++; /* held while connections are closed below */
  sg_http_server_stop_accepting(srv);
  for (conn_t *c = srv->conns, *next; c; c = next) {
    next = c->next;
    if (c->state == C_CLOSING)
      close_handles(c);
    else
      conn_close(c, c->state == C_READING);
  }
  server_release(srv);
}
