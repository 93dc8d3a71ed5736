/*
 * SSE event framing and the per-stream replay buffer.
 */
#include "transport/sse.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "json/rpc.h"

struct sg_sse_event {
  uint64_t seq;
  size_t len;
  char data[];
};

int sg_sse_format(sg_buf_t *out, const char *id, const json_t *msg) {
  int rc = sg_buf_printf(out, "id: %s\ndata: ", id);
  if (rc == 0) rc = sg_json_dump_line(msg, out); /* ends the data line */
  if (rc == 0) rc = sg_buf_append(out, "\n", 1);
  return rc;
}

int sg_sse_format_prime(sg_buf_t *out, const char *id) {
  return sg_buf_printf(out, "id: %s\ndata:\n\n", id);
}

int sg_sse_format_ping(sg_buf_t *out) {
  return sg_buf_append_str(out, ": keep-alive\n\n");
}

void sg_sse_ring_init(sg_sse_ring_t *r, size_t max_events, size_t max_bytes) {
  memset(r, 0, sizeof *r);
  r->max_events = max_events ? max_events : 1;
  r->max_bytes = max_bytes;
}

static void drop_oldest(sg_sse_ring_t *r) {
  sg_sse_event_t *e = r->ev[r->first];
  r->ev[r->first] = NULL;
  r->bytes -= e->len;
  free(e);
  r->first = (r->first + 1) % r->max_events;
  r->count--;
}

void sg_sse_ring_free(sg_sse_ring_t *r) {
  while (r->count) drop_oldest(r);
  free(r->ev);
  r->ev = NULL;
}

int sg_sse_ring_push(sg_sse_ring_t *r, uint64_t seq, const char *data, size_t len) {
  if (r->ev == NULL && (r->ev = calloc(r->max_events, sizeof *r->ev)) == NULL) return SG_ENOMEM;
  /* An event larger than the whole budget is not kept: a replay cannot include it. */
  if (len > r->max_bytes) {
    while (r->count) drop_oldest(r);
    return 0;
  }
  while (r->count && (r->count == r->max_events || r->bytes + len > r->max_bytes)) drop_oldest(r);
  sg_sse_event_t *e = malloc(sizeof *e + len);
  if (e == NULL) return SG_ENOMEM;
  e->seq = seq;
  e->len = len;
  memcpy(e->data, data, len);
  r->ev[(r->first + r->count) % r->max_events] = e;
  r->count++;
  r->bytes += len;
  return 0;
}

int sg_sse_ring_replay(const sg_sse_ring_t *r, uint64_t after,
                       int (*fn)(void *arg, const char *data, size_t len), void *arg) {
  for (size_t i = 0; i < r->count; i++) {
    const sg_sse_event_t *e = r->ev[(r->first + i) % r->max_events];
    if (e->seq <= after) continue;
    int rc = fn(arg, e->data, e->len);
    if (rc) return rc;
  }
  return 0;
}
