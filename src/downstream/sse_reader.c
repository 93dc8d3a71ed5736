/*
 * Reader of a downstream's event stream (see sse_reader.h). A line is handled where it
 * lies when it arrives whole in one piece; only the start of a line cut between pieces
 * is copied, and its bytes are not scanned again when the rest arrives: each byte is
 * looked at by one search for "\n" and at most one for "\r".
 */
#include "downstream/sse_reader.h"

#include <stdlib.h>
#include <string.h>

void sg_sse_reader_init(sg_sse_reader_t *r, size_t max_line, size_t max_data) {
  memset(r, 0, sizeof *r);
  sg_buf_init(&r->line);
  sg_buf_init(&r->data);
  r->retry_ms = -1;
  r->max_line = max_line;
  r->max_data = max_data;
}

void sg_sse_reader_free(sg_sse_reader_t *r) {
  sg_buf_free(&r->line);
  sg_buf_free(&r->data);
  free(r->last_id);
  r->last_id = NULL;
}

/* The value of a field line of len bytes whose name (with its colon) is nlen long: one
 * space after the colon is not part of it. */
static const char *field_value(const char *line, size_t len, size_t nlen, size_t *vlen) {
  size_t skip = len > nlen && line[nlen] == ' ' ? nlen + 1 : nlen;
  *vlen = len - skip;
  return line + skip;
}

static int is_field(const char *line, size_t len, const char *name, size_t nlen) {
  return len >= nlen && memcmp(line, name, nlen) == 0;
}

static void end_event(sg_sse_reader_t *r, sg_sse_event_fn fn, void *arg) {
  sg_sse_event_t ev = {NULL, 0, r->dropped, r->last_id};
  if (!r->dropped) {
    ev.data = r->data.len ? r->data.data : "";
    ev.len = r->data.len;
  }
  fn(arg, &ev);
  r->data.len = 0;
  r->has_data = 0;
  r->dropped = 0;
}

/* One whole line, without its end. */
static int read_line(sg_sse_reader_t *r, const char *line, size_t len, sg_sse_event_fn fn,
                     void *arg) {
  size_t vlen;
  const char *v;
  if (len == 0) {
    end_event(r, fn, arg);
  } else if (is_field(line, len, "data:", 5)) {
    v = field_value(line, len, 5, &vlen);
    if (r->dropped) return 0;
    size_t extra = vlen + (r->has_data ? 1 : 0);
    if (r->data.len + extra > r->max_data) {
      /* Not kept: the event is dropped when it ends, and its memory is given back now. */
      r->dropped = 1;
      sg_buf_free(&r->data);
      return 0;
    }
    if ((r->has_data && sg_buf_append(&r->data, "\n", 1) != 0) ||
        sg_buf_append(&r->data, v, vlen) != 0)
      return -1;
    r->has_data = 1;
  } else if (is_field(line, len, "id:", 3)) {
    v = field_value(line, len, 3, &vlen);
    int sendable = vlen > 0 && vlen <= SG_SSE_MAX_ID;
    for (size_t i = 0; sendable && i < vlen; i++)
      if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) sendable = 0;
    if (sendable) {
      char *id = strndup(v, vlen);
      if (id == NULL) return -1;
      free(r->last_id);
      r->last_id = id;
    }
  } else if (is_field(line, len, "retry:", 6)) {
    v = field_value(line, len, 6, &vlen);
    long ms = 0;
    size_t i = 0;
    while (i < vlen && i < 9 && v[i] >= '0' && v[i] <= '9') ms = ms * 10 + (v[i++] - '0');
    if (i == vlen && i > 0) r->retry_ms = ms;
  }
  /* "event:", other fields and ":" comments carry nothing used here. */
  return 0;
}

/* Ends the line held in r->line, which is not empty. */
static int read_held_line(sg_sse_reader_t *r, sg_sse_event_fn fn, void *arg) {
  int rc = read_line(r, r->line.data, r->line.len, fn, arg);
  r->line.len = 0;
  return rc;
}

int sg_sse_reader_feed(sg_sse_reader_t *r, const char *bytes, size_t len, sg_sse_event_fn fn,
                       void *arg) {
  size_t pos = 0;
  if (r->cr_pending && len > 0) {
    r->cr_pending = 0;
    if (bytes[0] == '\n') pos = 1; /* the "\n" of a "\r\n" cut between pieces */
  }
  /* The next "\n" at or after pos, found once for all the lines before it: lines ended
     by "\r" alone do not make the search start again. */
  const char *nl = NULL;
  while (pos < len) {
    const char *start = bytes + pos;
    size_t left = len - pos;
    if (nl == NULL || nl < start) {
      nl = memchr(start, '\n', left);
      if (nl == NULL) nl = bytes + len;
    }
    size_t n = (size_t)(nl - start);
    const char *cr = memchr(start, '\r', n);
    if (cr) n = (size_t)(cr - start);
    if (r->line.len + n > r->max_line) return -1;
    /* No line end in this piece: keep the start of the line. */
    if (n == left) return sg_buf_append(&r->line, start, n) != 0 ? -1 : 0;
    int rc = r->line.len
                 ? (sg_buf_append(&r->line, start, n) != 0 ? -1 : read_held_line(r, fn, arg))
                 : read_line(r, start, n, fn, arg);
    if (rc != 0) return -1;
    pos += n + 1;
    if (start[n] == '\r') {
      if (pos == len)
        r->cr_pending = 1;
      else if (bytes[pos] == '\n')
        pos++;
    }
  }
  return 0;
}

int sg_sse_reader_finish(sg_sse_reader_t *r, sg_sse_event_fn fn, void *arg) {
  r->cr_pending = 0;
  int held = r->line.len > 0;
  if (held && read_held_line(r, fn, arg) != 0) return -1;
  if (held || r->has_data || r->dropped) end_event(r, fn, arg);
  return 0;
}
