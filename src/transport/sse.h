/*
 * Server-Sent Events: framing JSON messages as events, and a bounded buffer of a
 * stream's recent events so that a client that lost its connection can ask for what
 * followed the last event it saw (Last-Event-ID).
 *
 * Ownership: the ring owns copies of the events pushed into it; format functions
 * borrow msg.
 */
#ifndef SG_TRANSPORT_SSE_H
#define SG_TRANSPORT_SSE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Appends "id: ID\ndata: <msg as compact JSON>\n\n". JSON text never holds a raw
 * newline, so one data line carries the whole message. */
int sg_sse_format(sg_buf_t *out, const char *id, const json_t *msg);
/* Appends an event with an id and no data: it gives the client an id to resume from
 * before any message is ready, and clients dispatch nothing for it. */
int sg_sse_format_prime(sg_buf_t *out, const char *id);
/* Appends a comment line, which keeps an idle stream's connection alive. */
int sg_sse_format_ping(sg_buf_t *out);

typedef struct sg_sse_event sg_sse_event_t;

typedef struct {
  sg_sse_event_t **ev; /* a circular array of max_events slots */
  size_t max_events, max_bytes;
  size_t first, count, bytes;
} sg_sse_ring_t;

void sg_sse_ring_init(sg_sse_ring_t *r, size_t max_events, size_t max_bytes);
void sg_sse_ring_free(sg_sse_ring_t *r);
/* Keeps a copy of an event's bytes under its sequence number (increasing), dropping the
 * oldest events beyond the limits. */
int sg_sse_ring_push(sg_sse_ring_t *r, uint64_t seq, const char *data, size_t len);
/* Calls fn(arg, data, len) for each kept event whose sequence number is greater than
 * after, oldest first, stopping early when fn returns non-zero (which is returned). */
int sg_sse_ring_replay(const sg_sse_ring_t *r, uint64_t after,
                       int (*fn)(void *arg, const char *data, size_t len), void *arg);

#endif
