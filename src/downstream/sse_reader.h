/*
 * Reader of a text/event-stream as a downstream sends it (the EventSource rules MCP's
 * Streamable HTTP uses): bytes arrive in pieces of any size; whole lines are read as
 * "data:", "id:" and "retry:" fields, and an empty line ends an event. The stream is
 * untrusted, so a line longer than max_line fails the stream, and an event whose data
 * grows past max_data is dropped when it ends (its data is no longer kept meanwhile).
 * However the stream is cut, each byte is searched at most twice for a line end.
 */
#ifndef SG_DOWNSTREAM_SSE_READER_H
#define SG_DOWNSTREAM_SSE_READER_H

#include <stddef.h>

#include "core/buf.h"

/* An "id:" value longer than this, or holding control characters, could not be sent back
 * in a Last-Event-ID header, and is not kept. */
#define SG_SSE_MAX_ID 256u

typedef struct {
  const char *data; /* the event's data lines joined by "\n"; NULL when dropped */
  size_t len;
  int dropped;         /* the data passed max_data */
  const char *last_id; /* the last id read on the stream so far, or NULL */
} sg_sse_event_t;

typedef void (*sg_sse_event_fn)(void *arg, const sg_sse_event_t *ev);

typedef struct {
  sg_buf_t line;  /* the start of a line whose end has not arrived */
  int cr_pending; /* line ended in "\r" at the end of a piece: a "\n" may follow */
  sg_buf_t data;  /* the data lines of the event being read */
  int has_data;   /* a data line was read for this event (it may be empty) */
  int dropped;    /* the event's data passed max_data */
  char *last_id;  /* the last "id:" kept, or NULL */
  long retry_ms;  /* the last valid "retry:", -1 when none */
  size_t max_line, max_data;
} sg_sse_reader_t;

void sg_sse_reader_init(sg_sse_reader_t *r, size_t max_line, size_t max_data);
void sg_sse_reader_free(sg_sse_reader_t *r);

/* Reads len bytes, calling fn for each event they end. Returns 0, or -1 when a line is
 * longer than max_line or memory ran out; the stream is then unusable. */
int sg_sse_reader_feed(sg_sse_reader_t *r, const char *bytes, size_t len, sg_sse_event_fn fn,
                       void *arg);

/* The stream ended: a last line without its end is read, and an event without its empty
 * line still ends, so that an answer a server closed the stream after is not lost. */
int sg_sse_reader_finish(sg_sse_reader_t *r, sg_sse_event_fn fn, void *arg);

#endif
