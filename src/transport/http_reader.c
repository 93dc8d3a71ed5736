/*
 * HTTP/1.1 request reader: http-parser callbacks that collect the request line, headers
 * and body under the server's limits, pausing the parser at the end of each request so
 * that a connection answers requests one at a time, in order.
 */
#include "transport/http_reader.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bytes counted per header on top of name and value: ": " and CRLF. */
#define HEADER_OVERHEAD 4

/* Headers that carry one value; a request that repeats one is ambiguous (which Host or
 * session did it mean?) and is refused rather than guessed at. */
static const char *const singletons[] = {"host",           "origin",         "content-type",
                                         "content-length", "mcp-session-id", "mcp-protocol-version",
                                         "last-event-id",  "authorization",  NULL};

enum { PART_URL, PART_FIELD, PART_VALUE };
#define PART(r) ((r)->part)

static int fail(sg_http_reader_t *r, int status, const char *reason) {
  r->status = status;
  r->reason = reason;
  return -1;
}

static int count(sg_http_reader_t *r, size_t n) {
  r->head_bytes += n;
  if (r->head_bytes > r->lim.max_header_bytes)
    return fail(r, 431, "the request's headers are too large");
  return 0;
}

static int append(sg_http_reader_t *r, const char *at, size_t len) {
  return sg_buf_append(&r->head, at, len) == 0 ? 0 : fail(r, 503, "out of memory");
}

static int end_string(sg_http_reader_t *r) {
  return append(r, "", 1);
}

static int new_header(sg_http_reader_t *r) {
  if (r->noffsets + 2 > r->cap_offsets) {
    size_t cap = r->cap_offsets ? r->cap_offsets * 2 : 32;
    size_t *o = realloc(r->offsets, cap * sizeof *o);
    if (o == NULL) return fail(r, 503, "out of memory");
    r->offsets = o;
    r->cap_offsets = cap;
  }
  r->offsets[r->noffsets++] = r->head.len;
  r->offsets[r->noffsets++] = (size_t)-1; /* the value's offset, once it starts */
  return 0;
}

/* Ends whatever string is open: the URL, a header name (its value is then empty), or
 * a value. */
static int close_part(sg_http_reader_t *r) {
  if (end_string(r)) return -1;
  if (PART(r) == PART_FIELD) {
    r->offsets[r->noffsets - 1] = r->head.len;
    if (end_string(r)) return -1;
  }
  return 0;
}

static int on_message_begin(http_parser *p) {
  sg_http_reader_t *r = p->data;
  r->phase = SG_HTTP_READ_HEADERS;
  return 0;
}

static int on_url(http_parser *p, const char *at, size_t len) {
  sg_http_reader_t *r = p->data;
  return count(r, len) || append(r, at, len);
}

/* Trailer fields (after a chunked body) are counted against the header limit but not
 * kept: nothing here reads them, RFC 9110 forbids merging them into the headers, and
 * head must not grow once the field pointers into it have been taken. */
static int in_trailer(const sg_http_reader_t *r) {
  return r->phase == SG_HTTP_READ_BODY;
}

static int on_header_field(http_parser *p, const char *at, size_t len) {
  sg_http_reader_t *r = p->data;
  if (in_trailer(r)) return count(r, len + HEADER_OVERHEAD);
  if (PART(r) != PART_FIELD) {
    if (count(r, HEADER_OVERHEAD) || close_part(r) || new_header(r)) return -1;
    PART(r) = PART_FIELD;
  }
  return count(r, len) || append(r, at, len);
}

static int on_header_value(http_parser *p, const char *at, size_t len) {
  sg_http_reader_t *r = p->data;
  if (in_trailer(r)) return count(r, len);
  if (PART(r) == PART_FIELD) {
    if (end_string(r)) return -1;
    r->offsets[r->noffsets - 1] = r->head.len;
    PART(r) = PART_VALUE;
  }
  return count(r, len) || append(r, at, len);
}

/* Where the target's path lies in it (origin form, or absolute form's path part).
 * Returns -1 when the target has none, which means "/". */
static int path_span(const char *target, size_t *off, size_t *len) {
  if (target[0] == '/' || target[0] == '*') {
    *off = 0;
    *len = strcspn(target, "?#");
    return 0;
  }
  struct http_parser_url u;
  http_parser_url_init(&u);
  if (http_parser_parse_url(target, strlen(target), 0, &u) == 0 && (u.field_set & (1 << UF_PATH))) {
    *off = u.field_data[UF_PATH].off;
    *len = u.field_data[UF_PATH].len;
    return 0;
  }
  return -1;
}

static int on_headers_complete(http_parser *p) {
  sg_http_reader_t *r = p->data;
  if (close_part(r)) return -1;
  if (p->http_major != 1) return fail(r, 505, "only HTTP/1.x is served");
  /* The path is copied after the headers so that every pointer is taken once head
   * stops growing. */
  size_t from, plen;
  int has_path = path_span(r->head.data, &from, &plen) == 0;
  if (!has_path) plen = 1;
  /* Reserved first: the path is copied from head itself, which growing would move. */
  if (sg_buf_reserve(&r->head, plen + 1) != 0) return fail(r, 503, "out of memory");
  size_t path_off = r->head.len;
  if (append(r, has_path ? r->head.data + from : "/", plen) || end_string(r)) return -1;
  r->nfields = r->noffsets / 2;
  r->fields = calloc(r->nfields ? r->nfields : 1, sizeof *r->fields);
  if (r->fields == NULL) return fail(r, 503, "out of memory");
  for (size_t i = 0; i < r->nfields; i++) {
    r->fields[i].name = r->head.data + r->offsets[2 * i];
    r->fields[i].value = r->head.data + r->offsets[2 * i + 1];
  }
  r->target = r->head.data;
  r->path = r->head.data + path_off;
  r->method = http_method_str((enum http_method)p->method);
  r->http_minor = p->http_minor;
  for (const char *const *s = singletons; *s; s++) {
    int n = 0;
    for (size_t i = 0; i < r->nfields; i++) n += strcasecmp(r->fields[i].name, *s) == 0;
    if (n > 1) return fail(r, 400, "a header that must appear once is repeated");
  }
  if ((p->flags & F_CONTENTLENGTH) && p->content_length > r->lim.max_body_bytes)
    return fail(r, 413, "the request body is too large");
  if (p->content_length != ULLONG_MAX && p->content_length > 0 &&
      sg_buf_reserve(&r->body, (size_t)p->content_length) != 0)
    return fail(r, 503, "out of memory");
  const char *expect = sg_http_reader_header(r, "expect");
  r->expect_continue = expect && strcasecmp(expect, "100-continue") == 0 && p->http_minor >= 1;
  r->phase = SG_HTTP_READ_BODY;
  return 0;
}

static int on_body(http_parser *p, const char *at, size_t len) {
  sg_http_reader_t *r = p->data;
  if (r->body.len + len > r->lim.max_body_bytes)
    return fail(r, 413, "the request body is too large");
  return sg_buf_append(&r->body, at, len) == 0 ? 0 : fail(r, 503, "out of memory");
}

static int on_message_complete(http_parser *p) {
  sg_http_reader_t *r = p->data;
  if (sg_buf_append(&r->body, "", 0) != 0)
    return fail(r, 503, "out of memory"); /* NUL-terminates */
  r->keep_alive = http_should_keep_alive(p) && !p->upgrade;
  r->phase = SG_HTTP_READ_DONE;
  http_parser_pause(p, 1);
  return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void reset(sg_http_reader_t *r) {
  r->phase = SG_HTTP_READ_IDLE;
  r->status = 0;
  r->reason = NULL;
  r->head.len = 0;
  r->head_bytes = 0;
  r->noffsets = 0;
  PART(r) = PART_URL;
  /* A large body's buffer is not kept for the connection's next request. */
  if (r->body.cap > 65536) sg_buf_free(&r->body);
  r->body.len = 0;
  free(r->fields);
  r->fields = NULL;
  r->nfields = 0;
  r->method = r->target = r->path = NULL;
  r->keep_alive = 0;
  r->expect_continue = 0;
}

void sg_http_reader_init(sg_http_reader_t *r, const sg_http_read_limits_t *lim) {
  memset(r, 0, sizeof *r);
  r->lim = *lim;
  sg_buf_init(&r->head);
  sg_buf_init(&r->body);
  http_parser_init(&r->parser, HTTP_REQUEST);
  r->parser.data = r;
  reset(r);
}

void sg_http_reader_free(sg_http_reader_t *r) {
  sg_buf_free(&r->head);
  sg_buf_free(&r->body);
  free(r->offsets);
  free(r->fields);
  r->offsets = NULL;
  r->fields = NULL;
}

size_t sg_http_reader_feed(sg_http_reader_t *r, const char *data, size_t len) {
  if (r->phase == SG_HTTP_READ_DONE || r->phase == SG_HTTP_READ_ERROR || len == 0) return 0;
  size_t n = http_parser_execute(&r->parser, &settings, data, len);
  enum http_errno e = HTTP_PARSER_ERRNO(&r->parser);
  if (e == HPE_PAUSED) return n;
  if (e != HPE_OK) {
    r->phase = SG_HTTP_READ_ERROR;
    if (r->status == 0) {
      r->status = e == HPE_HEADER_OVERFLOW ? 431 : 400;
      r->reason = http_errno_description(e);
    }
  } else if (r->parser.upgrade && r->phase != SG_HTTP_READ_DONE) {
    /* http-parser hands the rest of an upgrade to the caller; nothing here upgrades. */
    r->phase = SG_HTTP_READ_ERROR;
    r->status = 400;
    r->reason = "protocol upgrades are not served";
  }
  return n;
}

void sg_http_reader_next(sg_http_reader_t *r) {
  reset(r);
  http_parser_pause(&r->parser, 0);
}

const char *sg_http_reader_header(const sg_http_reader_t *r, const char *name) {
  for (size_t i = 0; i < r->nfields; i++)
    if (strcasecmp(r->fields[i].name, name) == 0) return r->fields[i].value;
  return NULL;
}
