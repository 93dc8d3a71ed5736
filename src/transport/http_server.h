/*
 * An HTTP/1.1 server on the loop: listeners (TCP and Unix sockets), connections with
 * keep-alive, one request at a time per connection, and the limits that keep one client
 * from costing the others anything:
 *
 *   request line + headers  max_header_bytes   431, then close
 *   body                    max_body_bytes     413, then close
 *   headers arriving        header_timeout_ms  408, then close (slow clients)
 *   body arriving           body_timeout_ms    408, then close
 *   idle between requests   idle_timeout_ms    close
 *   open connections        max_connections    503 to newcomers, then close
 *   unsent response bytes   max_output_bytes   close (a client that stops reading)
 *   malformed HTTP                             400, then close
 *
 * Before a request reaches the handler its Host and Origin are checked against DNS
 * rebinding (403): on TCP, Host must name the listening address or a loopback name with
 * the listener's port, or be in allow_hosts; Origin, when present, must be in
 * allow_origins or be http://localhost, 127.0.0.1 or [::1] with the listener's port.
 * Unix sockets are reached by path, not by name, so only their Origin is checked.
 *
 * A request is answered with sg_http_respond, or streamed with sg_http_stream_begin,
 * _write and _end (chunked, so the connection can carry another request afterwards).
 * If the connection goes away first, the request's on_abort (set by the handler) runs.
 *
 * Ownership: the server owns requests and their strings; a request is the handler's to
 * answer from the handler call until it finishes the response or on_abort runs, after
 * which it must not be touched. The config's strings are borrowed for the server's life.
 */
#ifndef SG_TRANSPORT_HTTP_SERVER_H
#define SG_TRANSPORT_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "transport/listen.h"

typedef struct {
  size_t max_header_bytes;
  size_t max_body_bytes;
  uint64_t header_timeout_ms;
  uint64_t body_timeout_ms;
  uint64_t idle_timeout_ms;
  unsigned max_connections;
  size_t max_output_bytes;
  const char *const *allow_origins; /* exact origins, e.g. "https://app.example" */
  size_t nallow_origins;
  const char *const *allow_hosts; /* "name" (any listening port) or "name:port" */
  size_t nallow_hosts;
} sg_http_config_t;

#define SG_HTTP_DEFAULT_MAX_HEADER_BYTES (16u * 1024u)
#define SG_HTTP_DEFAULT_HEADER_TIMEOUT_MS 10000
#define SG_HTTP_DEFAULT_BODY_TIMEOUT_MS 30000
#define SG_HTTP_DEFAULT_IDLE_TIMEOUT_MS 60000
#define SG_HTTP_DEFAULT_MAX_CONNECTIONS 256
#define SG_HTTP_DEFAULT_MAX_OUTPUT_BYTES (16u * 1024u * 1024u)

/* Fills cfg with the defaults above (max_body_bytes: 4 MiB, no extra origins or hosts). */
void sg_http_config_default(sg_http_config_t *cfg);

typedef struct sg_http_server sg_http_server_t;
typedef struct sg_http_request sg_http_request_t;

struct sg_http_request {
  const char *method; /* "GET", "POST", ... */
  const char *path;   /* the target's path, without query */
  const char *target; /* the request target as sent (path and query) */
  const char *body;   /* NUL-terminated, body_len bytes */
  size_t body_len;
  int unix_socket; /* arrived on a Unix socket */
  /* Set by the handler when it answers later: runs once if the connection closes before
   * the response is finished. */
  void (*on_abort)(sg_http_request_t *req);
  void *data; /* the handler's */
};

typedef void (*sg_http_handler_t)(sg_http_request_t *req, void *arg);

/* Creates a server on loop that passes each request to handler(req, arg). */
int sg_http_server_new(uv_loop_t *loop, const sg_http_config_t *cfg, sg_http_handler_t handler,
                       void *arg, sg_http_server_t **out);
/* Starts accepting on a. url gets what a client connects to (see sg_listen_describe).
 * Returns 0 or SG_EIO with the reason in err. */
int sg_http_server_listen(sg_http_server_t *srv, const sg_listen_addr_t *a, char *url,
                          size_t urllen, char *err, size_t errlen);
/* Stops accepting: listeners close (Unix socket files are removed); connections stay. */
void sg_http_server_stop_accepting(sg_http_server_t *srv);
/* Stops accepting, closes every connection (flushing what was written; requests still
 * unanswered are aborted) and frees the server; then done(arg). */
void sg_http_server_close(sg_http_server_t *srv, void (*done)(void *arg), void *arg);

/* The value of header name (case-insensitive), or NULL. */
const char *sg_http_header(const sg_http_request_t *req, const char *name);
/* True when the Accept value admits media type type ("text/event-stream"), by name or
 * by a wildcard, with a non-zero quality. A missing header admits nothing. */
int sg_http_accepts(const char *accept, const char *type);
/* True when a Content-Type value is type, ignoring parameters and case. */
int sg_http_content_type_is(const char *value, const char *type);

/* The DNS-rebinding checks the server applies (exposed for tests and fuzzing). port is
 * the listener's, listen_host its address literal; a NULL host or origin is allowed. */
int sg_http_host_allowed(const sg_http_config_t *cfg, const char *host, int port,
                         const char *listen_host, int unix_socket);
int sg_http_origin_allowed(const sg_http_config_t *cfg, const char *origin, int port,
                           int unix_socket);

/* Answers req with status, a body of len bytes of content_type (NULL when len is 0) and
 * extra headers (each "Name: value\r\n", or NULL). Finishes the request. Returns 0, or
 * SG_EIO when the connection is gone (the request is finished all the same). */
int sg_http_respond(sg_http_request_t *req, int status, const char *content_type,
                    const char *headers, const char *body, size_t len);
/* Starts a streamed response. Returns 0, or SG_EIO (the request is then finished). */
int sg_http_stream_begin(sg_http_request_t *req, int status, const char *content_type,
                         const char *headers);
/* Sends a piece of a streamed response. Returns 0, or SG_EIO when the client is gone or
 * not reading (the connection is then closing and the request finished: on_abort will
 * not run). */
int sg_http_stream_write(sg_http_request_t *req, const char *data, size_t len);
/* Ends a streamed response and finishes the request. */
void sg_http_stream_end(sg_http_request_t *req);

#endif
