/*
 * A load client for MCP servers over Streamable HTTP (the session era). It opens
 * --clients keep-alive connections to URL; each one starts its own session (POST
 * initialize, read Mcp-Session-Id, POST notifications/initialized), then sends
 * `tools/call echo` requests one after another and checks that each answer carries the
 * echoed text, whether it comes as application/json or as a short text/event-stream.
 * After --warmup seconds it measures for --duration seconds (or until --calls calls have
 * been measured), ends each session with DELETE, and prints one line of key=value
 * figures: latency percentiles in microseconds, calls per second and errors.
 *
 * It measures microseconds, so it stays out of the way: one thread and one epoll set for
 * all connections, TCP_NODELAY, requests formatted by snprintf into one send(), and a
 * response timed when the read that completed it returned (before it is parsed).
 *
 * Framing follows the incremental habit: a response that is not complete in the
 * connection's buffer leaves the buffer alone and waits for more bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 1024
#define MAX_REPORTED_ERRORS 5
#define READ_CHUNK (64u * 1024)

/*
 * A connection's life. Each arrow is one request and its response, handled by
 * on_response(); a connection never has more than one request in flight.
 *
 *   INIT --200--> NOTIFY --2xx--> CALL --200--> CALL ... --(time is up)--> DELETE --> DONE
 *
 * Any failure before CALL ends the connection (DONE, counted as an error): without a
 * session there is nothing to measure. A failed call is counted and the next one sent;
 * a connection the server closed is reopened, keeping its session.
 */
enum phase { INIT, NOTIFY, CALL, DELETE, DONE };

struct conn {
  int fd;
  enum phase phase;
  char session[256]; /* Mcp-Session-Id, empty if the server gave none */
  char version[32];  /* negotiated protocolVersion */
  uint64_t sent_at;
  uint64_t next_id;
  int measured; /* the call in flight was sent inside the measured window */
  char *buf;    /* received bytes [0, len) */
  size_t cap, len;
  char out[1024]; /* unsent request bytes [out_off, out_len) */
  size_t out_off, out_len;
};

/* One parsed response; body points into the connection's buffer or into `decoded`. */
struct response {
  int status;
  int sse;
  int close;
  const char *session;
  size_t session_len;
  const char *body;
  size_t body_len;
  size_t consumed; /* bytes of the buffer the response took */
};

static struct addrinfo *target;
static char host_header[300];
static char path[512] = "/mcp";
static const char *bearer;
static const char *message = "hello";
static char *message_json;
static int epfd = -1;
static unsigned long errors;
static uint64_t last_progress;

/* The measured window: calls sent in [t_start, t_end) and answered by t_end count. */
static uint64_t t_start, t_end = UINT64_MAX;
static long max_calls; /* 0: measure for the duration */
static long calls_sent_measured;
static uint64_t *lat;
static size_t lat_len, lat_cap;
static uint64_t last_done;

/* Scratch for de-chunked bodies. */
static char *decoded;
static size_t decoded_cap;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fatal(const char *what) {
  fprintf(stderr, "http_load: %s\n", what);
  exit(2);
}

static void report_error(const char *what, const char *text, size_t len) {
  if (++errors > MAX_REPORTED_ERRORS) return;
  if (len > 300) len = 300;
  fprintf(stderr, "http_load: %s%s%.*s\n", what, len > 0 ? ": " : "", (int)len,
          text != NULL ? text : "");
}

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n);
  if (p == NULL) fatal("out of memory");
  return p;
}

static int conn_open(struct conn *c) {
  int fd = socket(target->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  /* A blocking connect: on the loopback it is quick, and it keeps the loop simple. */
  if (connect(fd, target->ai_addr, target->ai_addrlen) < 0 ||
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
    close(fd);
    return -1;
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
    close(fd);
    return -1;
  }
  c->fd = fd;
  c->len = 0;
  c->out_off = c->out_len = 0;
  return 0;
}

static void conn_close(struct conn *c) {
  if (c->fd >= 0) close(c->fd); /* closing removes it from the epoll set */
  c->fd = -1;
}

/* Writes what is pending; asks for EPOLLOUT only when the socket would block. */
static int conn_flush(struct conn *c) {
  while (c->out_off < c->out_len) {
    ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
        return 0;
      }
      return -1;
    }
    c->out_off += (size_t)w;
  }
  return 0;
}

/* Formats a request with the connection's session headers and sends it. */
static int conn_request(struct conn *c, const char *method, const char *body) {
  char extra[512];
  int m = 0;
  if (c->session[0] != '\0')
    m += snprintf(extra + m, sizeof extra - (size_t)m, "Mcp-Session-Id: %s\r\n", c->session);
  if (c->version[0] != '\0')
    m += snprintf(extra + m, sizeof extra - (size_t)m, "MCP-Protocol-Version: %s\r\n", c->version);
  size_t blen = body != NULL ? strlen(body) : 0;
  int n =
      snprintf(c->out, sizeof c->out,
               "%s %s HTTP/1.1\r\nHost: %s\r\n"
               "Accept: application/json, text/event-stream\r\n"
               "%s%s%s%s%s"
               "Content-Length: %zu\r\n\r\n%s",
               method, path, host_header, body != NULL ? "Content-Type: application/json\r\n" : "",
               bearer != NULL ? "Authorization: Bearer " : "", bearer != NULL ? bearer : "",
               bearer != NULL ? "\r\n" : "", extra, blen, body != NULL ? body : "");
  if (n < 0 || (size_t)n >= sizeof c->out) fatal("request too long");
  c->out_off = 0;
  c->out_len = (size_t)n;
  c->sent_at = now_ns();
  return conn_flush(c);
}

static int send_call(struct conn *c) {
  char body[700];
  snprintf(body, sizeof body,
           "{\"jsonrpc\":\"2.0\",\"id\":%" PRIu64
           ",\"method\":\"tools/call\","
           "\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":%s}}}",
           ++c->next_id, message_json);
  c->phase = CALL;
  int r = conn_request(c, "POST", body);
  c->measured = c->sent_at >= t_start && c->sent_at < t_end &&
                (max_calls == 0 || calls_sent_measured < max_calls);
  if (c->measured) calls_sent_measured++;
  return r;
}

/* Ends the session: DELETE when there is one to end, else the connection is done. */
static int send_delete(struct conn *c) {
  if (c->session[0] == '\0') {
    c->phase = DONE;
    conn_close(c);
    return 0;
  }
  c->phase = DELETE;
  return conn_request(c, "DELETE", NULL);
}

static int time_is_up(uint64_t now) {
  if (now >= t_end) return 1;
  return max_calls > 0 && t_start > 0 && calls_sent_measured >= max_calls;
}

static int hex_digit(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  ch |= 0x20;
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  return -1;
}

/*
 * De-chunks the body starting at p (of n bytes available). Returns the bytes the chunked
 * body took, 0 when more are needed, -1 when it is malformed. The decoded body is left in
 * `decoded`, its length in *out_len.
 */
static long dechunk(const char *p, size_t n, size_t *out_len) {
  size_t i = 0, o = 0;
  for (;;) {
    size_t size = 0;
    int digits = 0, d;
    while (i < n && (d = hex_digit((unsigned char)p[i])) >= 0) {
      if (size > (SIZE_MAX >> 5)) return -1;
      size = size * 16 + (size_t)d;
      i++;
      digits++;
    }
    const char *eol = memchr(p + i, '\n', n - i); /* skips chunk extensions */
    if (eol == NULL) return 0;
    if (digits == 0) return -1;
    i = (size_t)(eol - p) + 1;
    if (size == 0) {
      /* Trailers, then an empty line. */
      for (;;) {
        eol = memchr(p + i, '\n', n - i);
        if (eol == NULL) return 0;
        size_t line = (size_t)(eol - (p + i));
        i = (size_t)(eol - p) + 1;
        if (line == 0 || (line == 1 && p[i - 2] == '\r')) break;
      }
      *out_len = o;
      return (long)i;
    }
    if (n - i < size + 2) return 0;
    if (o + size > decoded_cap) {
      decoded_cap = (o + size) * 2;
      decoded = xrealloc(decoded, decoded_cap);
    }
    memcpy(decoded + o, p + i, size);
    o += size;
    i += size;
    if (p[i] == '\r') i++;
    if (i >= n) return 0;
    if (p[i] != '\n') return -1;
    i++;
  }
}

static int header_is(const char *name, size_t len, const char *want) {
  return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

/*
 * Parses one response from the connection's buffer. Returns 1 with *r filled, 0 when
 * more bytes are needed, -1 when the bytes are not HTTP. At end of stream (eof), a body
 * with neither length nor chunking ends there.
 */
static int parse_response(struct conn *c, int eof, struct response *r) {
  const char *b = c->buf, *end = c->buf + c->len;
  const char *hdr_end = memmem(b, c->len, "\r\n\r\n", 4);
  if (hdr_end == NULL) return c->len > 64 * 1024 ? -1 : 0;
  memset(r, 0, sizeof *r);
  if (c->len < 12 || memcmp(b, "HTTP/1.", 7) != 0) return -1;
  r->status = atoi(b + 9);
  long content_length = -1;
  int chunked = 0;
  /* hdr_end points at the CRLF that ends the last header line (or the status line). */
  const char *line = (const char *)memchr(b, '\n', (size_t)(hdr_end + 2 - b)) + 1;
  while (line < hdr_end + 2) {
    const char *eol = memchr(line, '\r', (size_t)(hdr_end + 2 - line));
    if (eol == NULL) break;
    const char *colon = memchr(line, ':', (size_t)(eol - line));
    if (colon != NULL) {
      size_t nlen = (size_t)(colon - line);
      const char *v = colon + 1;
      while (v < eol && (*v == ' ' || *v == '\t')) v++;
      size_t vlen = (size_t)(eol - v);
      while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t')) vlen--;
      if (header_is(line, nlen, "content-length"))
        content_length = strtol(v, NULL, 10);
      else if (header_is(line, nlen, "transfer-encoding"))
        chunked = memmem(v, vlen, "chunked", 7) != NULL;
      else if (header_is(line, nlen, "content-type"))
        r->sse = vlen >= 17 && strncasecmp(v, "text/event-stream", 17) == 0;
      else if (header_is(line, nlen, "mcp-session-id"))
        r->session = v, r->session_len = vlen;
      else if (header_is(line, nlen, "connection"))
        r->close = vlen == 5 && strncasecmp(v, "close", 5) == 0;
    }
    line = eol + 2;
  }
  const char *body = hdr_end + 4;
  size_t avail = (size_t)(end - body);
  if (chunked) {
    long used = dechunk(body, avail, &r->body_len);
    if (used < 0) return -1;
    if (used == 0) return 0;
    r->body = decoded;
    r->consumed = (size_t)(body - b) + (size_t)used;
  } else if (content_length >= 0) {
    if (avail < (size_t)content_length) return 0;
    r->body = body;
    r->body_len = (size_t)content_length;
    r->consumed = (size_t)(body - b) + (size_t)content_length;
  } else if (r->status == 204 || r->status == 304 || r->status == 202 || r->status / 100 == 1) {
    r->body = body;
    r->consumed = (size_t)(body - b);
  } else {
    if (!eof) return 0;
    r->body = body;
    r->body_len = avail;
    r->consumed = c->len;
    r->close = 1;
  }
  return 1;
}

/*
 * Finds the JSON-RPC response with the given id in a body (JSON, or SSE whose events'
 * data lines hold JSON). Returns it (caller owns it) or NULL. Other messages met in an
 * event stream (notifications, server requests) are skipped.
 */
static json_t *find_message(const struct response *r, json_int_t id) {
  if (!r->sse) {
    json_t *msg = json_loadb(r->body, r->body_len, 0, NULL);
    if (json_is_object(msg)) return msg;
    json_decref(msg);
    return NULL;
  }
  char *data = NULL;
  size_t dlen = 0, dcap = 0;
  const char *p = r->body, *end = r->body + r->body_len;
  json_t *found = NULL;
  while (p <= end && found == NULL) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *lend = eol != NULL ? eol : end;
    size_t llen = (size_t)(lend - p);
    if (llen > 0 && p[llen - 1] == '\r') llen--;
    if (llen == 0) { /* a blank line (or the end) dispatches the event */
      if (dlen > 0) {
        json_t *msg = json_loadb(data, dlen, 0, NULL);
        json_t *mid = json_object_get(msg, "id");
        if (json_is_integer(mid) && json_integer_value(mid) == id &&
            json_object_get(msg, "method") == NULL)
          found = msg;
        else
          json_decref(msg);
      }
      dlen = 0;
    } else if (llen >= 5 && memcmp(p, "data:", 5) == 0) {
      const char *v = p + 5;
      size_t vlen = llen - 5;
      if (vlen > 0 && *v == ' ') v++, vlen--;
      if (dlen + vlen + 1 > dcap) {
        dcap = (dlen + vlen + 1) * 2;
        data = xrealloc(data, dcap);
      }
      if (dlen > 0) data[dlen++] = '\n';
      memcpy(data + dlen, v, vlen);
      dlen += vlen;
    }
    if (eol == NULL) {
      if (dlen == 0) break;
      p = end; /* one more pass to dispatch the last event */
      continue;
    }
    p = eol + 1;
  }
  free(data);
  return found;
}

static int result_ok(json_t *msg) {
  json_t *result = json_object_get(msg, "result");
  if (result == NULL || json_is_true(json_object_get(result, "isError"))) return 0;
  json_t *item = json_array_get(json_object_get(result, "content"), 0);
  const char *type = json_string_value(json_object_get(item, "type"));
  const char *text = json_string_value(json_object_get(item, "text"));
  return type != NULL && strcmp(type, "text") == 0 && text != NULL && strcmp(text, message) == 0;
}

static void record(uint64_t ns, uint64_t done_at) {
  if (lat_len == lat_cap) {
    lat_cap = lat_cap ? lat_cap * 2 : 1u << 16;
    lat = xrealloc(lat, lat_cap * sizeof *lat);
  }
  lat[lat_len++] = ns;
  last_done = done_at;
}

/* Acts on a complete response and sends the connection's next request. */
static int on_response(struct conn *c, const struct response *r, uint64_t stamp) {
  static const char initialized[] =
      "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}";
  switch (c->phase) {
    case INIT: {
      json_t *msg = r->status == 200 ? find_message(r, 0) : NULL;
      const char *v =
          json_string_value(json_object_get(json_object_get(msg, "result"), "protocolVersion"));
      if (v == NULL || strlen(v) >= sizeof c->version || r->session_len >= sizeof c->session) {
        char what[64];
        snprintf(what, sizeof what, "initialize failed (HTTP %d)", r->status);
        report_error(what, r->body, r->body_len);
        json_decref(msg);
        c->phase = DONE;
        return -1;
      }
      snprintf(c->version, sizeof c->version, "%s", v);
      json_decref(msg);
      memcpy(c->session, r->session != NULL ? r->session : "", r->session_len);
      c->session[r->session_len] = '\0';
      c->phase = NOTIFY;
      return conn_request(c, "POST", initialized);
    }
    case NOTIFY:
      if (r->status / 100 != 2) {
        char what[64];
        snprintf(what, sizeof what, "notifications/initialized refused (HTTP %d)", r->status);
        report_error(what, r->body, r->body_len);
        c->phase = DONE;
        return -1;
      }
      return time_is_up(now_ns()) ? send_delete(c) : send_call(c);
    case CALL: {
      json_t *msg = r->status == 200 ? find_message(r, (json_int_t)c->next_id) : NULL;
      if (msg == NULL || !result_ok(msg)) {
        char what[64];
        snprintf(what, sizeof what, "unexpected answer (HTTP %d)", r->status);
        report_error(what, r->body, r->body_len);
      } else if (c->measured && stamp <= t_end) {
        record(stamp - c->sent_at, stamp);
      }
      json_decref(msg);
      return time_is_up(now_ns()) ? send_delete(c) : send_call(c);
    }
    case DELETE:
      c->phase = DONE;
      conn_close(c);
      return 0;
    case DONE:
      break;
  }
  return 0;
}

/* Reads what the socket has and handles every complete response in the buffer. */
static void on_readable(struct conn *c) {
  int eof = 0;
  uint64_t stamp = 0;
  for (;;) {
    if (c->cap - c->len < READ_CHUNK / 2) {
      c->cap = c->cap ? c->cap * 2 : READ_CHUNK;
      c->buf = xrealloc(c->buf, c->cap);
    }
    ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
    if (n > 0) {
      c->len += (size_t)n;
      stamp = now_ns();
      if (c->len < c->cap) break; /* a short read: the socket is drained */
      continue;
    }
    if (n == 0) {
      eof = 1;
      stamp = now_ns();
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    eof = 1;
    break;
  }
  while (c->fd >= 0 && c->len > 0) {
    struct response r;
    int got = parse_response(c, eof, &r);
    if (got == 0) break;
    if (got < 0) {
      report_error("not an HTTP response", c->buf, c->len);
      conn_close(c);
      c->phase = DONE;
      return;
    }
    last_progress = stamp;
    if (r.close) {
      /* Nothing follows on this connection: open another before the next request. */
      conn_close(c);
      if (c->phase != DELETE && conn_open(c) < 0) {
        report_error("cannot reconnect", NULL, 0);
        c->phase = DONE;
        return;
      }
      eof = 0;
    }
    int rc = on_response(c, &r, stamp);
    memmove(c->buf, c->buf + r.consumed, c->len - r.consumed);
    c->len -= r.consumed;
    if (rc < 0 || c->phase == DONE) {
      conn_close(c);
      c->phase = DONE;
      return;
    }
    if (r.close) c->len = 0;
  }
  if (!eof) return;
  /* The server closed the connection with a request unanswered. */
  conn_close(c);
  if (c->phase == DONE) return;
  if (c->phase != DELETE)
    report_error("the server closed the connection with a request unanswered", NULL, 0);
  if (c->phase != CALL) {
    c->phase = DONE;
    return;
  }
  /* A call was lost; keep the session on a new connection. */
  if (conn_open(c) < 0 || (time_is_up(now_ns()) ? send_delete(c) : send_call(c)) < 0) {
    conn_close(c);
    c->phase = DONE;
  }
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted values. */
static double percentile_us(const uint64_t *v, size_t n, double p) {
  if (n == 0) return 0;
  size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return (double)v[rank - 1] / 1000.0;
}

/* Splits http://HOST[:PORT][/PATH] and resolves HOST. */
static int parse_url(const char *url) {
  if (strncmp(url, "http://", 7) != 0) return -1;
  const char *h = url + 7, *slash = strchr(h, '/');
  size_t hlen = slash != NULL ? (size_t)(slash - h) : strlen(h);
  if (hlen == 0 || hlen >= sizeof host_header) return -1;
  memcpy(host_header, h, hlen);
  host_header[hlen] = '\0';
  if (slash != NULL) {
    if (strlen(slash) >= sizeof path) return -1;
    snprintf(path, sizeof path, "%s", slash);
  }
  char host[300], port[16] = "80";
  const char *colon;
  if (host_header[0] == '[') {
    const char *close = strchr(host_header, ']');
    if (close == NULL) return -1;
    snprintf(host, sizeof host, "%.*s", (int)(close - host_header - 1), host_header + 1);
    colon = close[1] == ':' ? close + 1 : NULL;
  } else {
    colon = strrchr(host_header, ':');
    snprintf(host, sizeof host, "%.*s", (int)(colon != NULL ? (size_t)(colon - host_header) : hlen),
             host_header);
  }
  if (colon != NULL) snprintf(port, sizeof port, "%s", colon + 1);
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
  return getaddrinfo(host, port, &hints, &target) == 0 ? 0 : -1;
}

static int usage(void) {
  fprintf(stderr,
          "usage: http_load [--clients N] [--warmup S] [--duration S | --calls N]\n"
          "                 [--timeout S] [--message TEXT] [--bearer TOKEN] URL\n"
          "  URL           http://HOST:PORT/PATH of a Streamable HTTP MCP endpoint\n"
          "  --clients N   concurrent connections, each with its own session, 1..%d\n"
          "                (default 1)\n"
          "  --warmup S    seconds of calls before measuring (default 1)\n"
          "  --duration S  seconds to measure (default 5)\n"
          "  --calls N     measure N calls instead of a duration\n"
          "  --timeout S   give up after S seconds without an answer (default 10)\n"
          "  --message T   the text to echo (default \"hello\")\n"
          "  --bearer T    send Authorization: Bearer T (or HTTP_LOAD_BEARER)\n",
          MAX_CLIENTS);
  return 2;
}

static int parse_number(const char *s, double lo, double hi, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno != 0 || *s == '\0' || *end != '\0' || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

int main(int argc, char **argv) {
  double clients = 1, warmup = 1, duration = 5, calls = 0, timeout = 10;
  const char *url = NULL;
  bearer = getenv("HTTP_LOAD_BEARER");
  if (bearer != NULL && *bearer == '\0') bearer = NULL;
  for (int i = 1; i < argc; i++) {
    double *target_num = NULL, lo = 0, hi = 1e9;
    if (strcmp(argv[i], "--clients") == 0)
      target_num = &clients, lo = 1, hi = MAX_CLIENTS;
    else if (strcmp(argv[i], "--warmup") == 0)
      target_num = &warmup, hi = 3600;
    else if (strcmp(argv[i], "--duration") == 0)
      target_num = &duration, lo = 0.01, hi = 86400;
    else if (strcmp(argv[i], "--calls") == 0)
      target_num = &calls, lo = 1;
    else if (strcmp(argv[i], "--timeout") == 0)
      target_num = &timeout, lo = 1, hi = 3600;
    else if (strcmp(argv[i], "--message") == 0 && i + 1 < argc) {
      message = argv[++i];
      continue;
    } else if (strcmp(argv[i], "--bearer") == 0 && i + 1 < argc) {
      bearer = argv[++i];
      continue;
    } else if (argv[i][0] != '-' && url == NULL) {
      url = argv[i];
      continue;
    } else
      return usage();
    if (i + 1 >= argc || parse_number(argv[++i], lo, hi, target_num) < 0) return usage();
  }
  if (url == NULL) return usage();
  if (parse_url(url) < 0) {
    fprintf(stderr, "http_load: cannot use URL %s\n", url);
    return 2;
  }
  max_calls = (long)calls;

  json_t *m = json_string(message);
  message_json = m != NULL ? json_dumps(m, JSON_ENCODE_ANY) : NULL;
  json_decref(m);
  if (message_json == NULL || strlen(message_json) > 512) {
    fprintf(stderr, "http_load: --message must be valid UTF-8 of at most ~500 bytes\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);

  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) fatal("epoll_create1 failed");
  int n = (int)clients;
  struct conn *conns = calloc((size_t)n, sizeof *conns);
  if (conns == NULL) fatal("out of memory");

  static const char init[] =
      "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{"
      "\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
      "\"clientInfo\":{\"name\":\"http_load\",\"version\":\"0.1.0\"}}}";
  uint64_t t0 = now_ns();
  t_start = t0 + (uint64_t)(warmup * 1e9);
  if (max_calls == 0) t_end = t_start + (uint64_t)(duration * 1e9);
  last_progress = t0;
  int live = 0;
  for (int i = 0; i < n; i++) {
    struct conn *c = &conns[i];
    c->fd = -1;
    if (conn_open(c) < 0) {
      fprintf(stderr, "http_load: cannot connect to %s: %s\n", host_header, strerror(errno));
      return 2;
    }
    c->phase = INIT;
    if (conn_request(c, "POST", init) < 0) fatal("cannot send initialize");
    live++;
  }

  struct epoll_event evs[64];
  while (live > 0) {
    int k = epoll_wait(epfd, evs, 64, 1000);
    if (k < 0) {
      if (errno == EINTR) continue;
      fatal("epoll_wait failed");
    }
    for (int e = 0; e < k; e++) {
      struct conn *c = evs[e].data.ptr;
      if (c->fd < 0) continue;
      if (evs[e].events & EPOLLOUT) {
        if (conn_flush(c) < 0) {
          report_error("write to the server failed", NULL, 0);
          conn_close(c);
          c->phase = DONE;
          continue;
        }
        if (c->out_off == c->out_len) {
          struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
          epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
        }
      }
      if (evs[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c);
    }
    live = 0;
    for (int i = 0; i < n; i++) live += conns[i].phase != DONE;
    if (live > 0 && now_ns() - last_progress > (uint64_t)(timeout * 1e9)) {
      fprintf(stderr, "http_load: no answer from the server for %.0f s, giving up\n", timeout);
      return 3;
    }
  }

  uint64_t end = max_calls > 0 ? last_done : t_end;
  double elapsed = end > t_start ? (double)(end - t_start) / 1e9 : 0;
  int sessions = 0;
  for (int i = 0; i < n; i++) sessions += conns[i].next_id > 0;
  qsort(lat, lat_len, sizeof *lat, cmp_u64);
  double sum = 0;
  for (size_t k = 0; k < lat_len; k++) sum += (double)lat[k];
  printf(
      "clients=%d sessions=%d calls=%zu errors=%lu p50_us=%.1f p99_us=%.1f mean_us=%.1f "
      "max_us=%.1f calls_per_s=%.0f\n",
      n, sessions, lat_len, errors, percentile_us(lat, lat_len, 50),
      percentile_us(lat, lat_len, 99), lat_len ? sum / (double)lat_len / 1000.0 : 0,
      lat_len ? (double)lat[lat_len - 1] / 1000.0 : 0, elapsed > 0 ? (double)lat_len / elapsed : 0);
  for (int i = 0; i < n; i++) free(conns[i].buf);
  free(conns);
  free(lat);
  free(decoded);
  free(message_json);
  freeaddrinfo(target);
  close(epfd);
  return errors > 0 || lat_len == 0 ? 1 : 0;
}
