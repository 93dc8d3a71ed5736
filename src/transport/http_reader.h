/*
 * Incremental HTTP/1.1 request reading on http-parser, with the server's limits: bytes
 * arrive in pieces, and one whole request (line, headers, body) comes out at a time.
 * The reader knows nothing of sockets, so the fuzzer drives it directly.
 *
 *   IDLE ──first byte──▶ HEADERS ──end of headers──▶ BODY ──end of body──▶ DONE
 *     ▲                                                                      │
 *     └──────────────────────── sg_http_reader_next ◀────────────────────────┘
 *   any state ──malformed, too large──▶ ERROR (status says which HTTP error to answer)
 *
 * sg_http_reader_feed stops at the end of a request and returns how many bytes it used;
 * the rest belongs to the next request and must be fed again after
 * sg_http_reader_next. In ERROR the connection cannot be read further.
 *
 * Ownership: the reader owns every string it hands out (method, target, path, header
 * names and values, body); they stay valid until sg_http_reader_next or _free.
 */
#ifndef SG_TRANSPORT_HTTP_READER_H
#define SG_TRANSPORT_HTTP_READER_H

#include <http_parser.h>
#include <stddef.h>

#include "core/buf.h"

typedef enum {
  SG_HTTP_READ_IDLE,
  SG_HTTP_READ_HEADERS,
  SG_HTTP_READ_BODY,
  SG_HTTP_READ_DONE,
  SG_HTTP_READ_ERROR
} sg_http_read_phase_t;

typedef struct {
  size_t max_header_bytes; /* request line and headers; beyond: 431 */
  size_t max_body_bytes;   /* beyond: 413 */
} sg_http_read_limits_t;

typedef struct {
  const char *name;
  const char *value;
} sg_http_field_t;

typedef struct {
  http_parser parser;
  sg_http_read_limits_t lim;
  sg_http_read_phase_t phase;
  int status;         /* ERROR: the HTTP status to answer (400, 413, 431, 505) */
  const char *reason; /* ERROR: a short static explanation */
  /* Request line and headers as NUL-terminated strings, then the path. */
  sg_buf_t head;
  size_t head_bytes; /* what the limit counts: bytes of the line and headers */
  size_t *offsets;   /* per header: name offset, value offset */
  size_t noffsets, cap_offsets;
  int part; /* what the last callback added to: the URL, a name or a value */
  sg_buf_t body;
  /* DONE (pointers into head): */
  const char *method;
  const char *target; /* as sent */
  const char *path;   /* the target's path, without query or fragment */
  sg_http_field_t *fields;
  size_t nfields;
  int http_minor;      /* 1.x */
  int keep_alive;      /* the connection may carry another request */
  int expect_continue; /* BODY or later: the client waits for "100 Continue" */
} sg_http_reader_t;

void sg_http_reader_init(sg_http_reader_t *r, const sg_http_read_limits_t *lim);
void sg_http_reader_free(sg_http_reader_t *r);
/* Reads from data; returns the bytes used. Afterwards phase says where the request is. */
size_t sg_http_reader_feed(sg_http_reader_t *r, const char *data, size_t len);
/* Forgets the finished request and gets ready for the next one on the connection. */
void sg_http_reader_next(sg_http_reader_t *r);
/* The value of header name (case-insensitive) of a request whose headers are read (BODY
 * or DONE), or NULL. Headers that
 * must not repeat (Host, Origin, Content-Type, Mcp-Session-Id, ...) are refused with 400
 * when they do, so the first one is the only one. */
const char *sg_http_reader_header(const sg_http_reader_t *r, const char *name);

#endif
