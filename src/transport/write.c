/*
 * JSON-line writes on libuv streams. Most messages are small and the peer is reading,
 * so the line is first offered to uv_try_write straight from a reused buffer; only what
 * the kernel does not take at once is copied to the heap and queued with uv_write
 * (uv_try_write refuses while earlier writes are queued, which keeps the order).
 */
#include "transport/write.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "json/rpc.h"

typedef struct {
  uv_write_t req;
  sg_write_error_cb on_error;
  char data[];
} queued_write_t;

static void write_cb(uv_write_t *req, int status) {
  queued_write_t *w = (queued_write_t *)req;
  if (status < 0 && status != UV_ECANCELED && w->on_error) w->on_error(req->handle, status);
  free(w);
}

/* Offers the line to the kernel, then queues what it did not take. */
static int write_line(uv_stream_t *stream, const char *data, size_t len, sg_write_error_cb on_error) {
  uv_buf_t buf = uv_buf_init((char *)data, (unsigned)len);
  int n = uv_try_write(stream, &buf, 1);
  if (n < 0 && n != UV_EAGAIN) return SG_EIO;
  size_t done = n > 0 ? (size_t)n : 0;
  if (done == len) return 0;
  size_t rest = len - done;
  queued_write_t *w = malloc(sizeof *w + rest);
  if (w == NULL) return SG_ENOMEM;
  memcpy(w->data, data + done, rest);
  w->on_error = on_error;
  buf = uv_buf_init(w->data, (unsigned)rest);
  if (uv_write(&w->req, stream, &buf, 1, write_cb) < 0) {
    free(w);
    return SG_EIO;
  }
  return 0;
}

int sg_stream_write_json(uv_stream_t *stream, const json_t *msg, sg_write_error_cb on_error) {
  /* The loop thread's scratch buffer, reused between calls; one that a large message
   * grew is released rather than kept. */
  static _Thread_local sg_buf_t scratch;
  scratch.len = 0;
  int rc = sg_json_dump_line(msg, &scratch);
  if (rc == 0) rc = write_line(stream, scratch.data, scratch.len, on_error);
  if (scratch.cap > (1u << 20)) sg_buf_free(&scratch);
  return rc;
}
