/*
 * stdio transport on libuv. stdin and stdout are pipes or sockets when an MCP client
 * starts the gateway, terminals when a person does, and may be plain files when a
 * session is replayed from disk; each kind gets the libuv handle that fits it (files
 * are read with uv_fs_read and written synchronously).
 */
#include "transport/stdio.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/log.h"
#include "json/frame.h"
#include "json/rpc.h"
#include "transport/write.h"

/* A client that stops reading its responses must not make the gateway buffer without
 * bound: past this much unwritten output the connection is closed. */
#define MAX_PENDING_OUTPUT (64u * 1024u * 1024u)

typedef union {
  uv_pipe_t pipe;
  uv_tty_t tty;
} stream_u;

typedef struct {
  sg_conn_t conn;
  uv_loop_t *loop;
  stream_u in, out;
  int in_is_stream, out_is_stream;
  int open_handles;
  int closed; /* on_closed delivered */
  int closing;
  int fs_reading; /* a uv_fs_read of stdin is in flight */
  uv_fs_t fs_req; /* reading stdin when it is a file */
  char fs_buf[65536];
  sg_framer_t framer;
  void (*done)(void *arg);
  void *done_arg;
} stdio_t;

static void finalize(stdio_t *s);

static void deliver_closed(stdio_t *s) {
  if (s->closed) return;
  s->closed = 1;
  s->conn.handler->on_closed(&s->conn);
}

static void feed(stdio_t *s, const char *data, size_t len) {
  if (sg_framer_push(&s->framer, data, len) != 0) {
    deliver_closed(s);
    return;
  }
  const char *line;
  size_t n;
  int rc;
  while (!s->closed && (rc = sg_framer_next(&s->framer, &line, &n)) != 0) {
    if (rc < 0) s->conn.handler->on_oversized(&s->conn);
    else s->conn.handler->on_message(&s->conn, line, n);
  }
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)suggested;
  stdio_t *s = h->data;
  *buf = uv_buf_init(s->fs_buf, sizeof s->fs_buf);
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  stdio_t *s = st->data;
  if (nread < 0) {
    uv_read_stop(st);
    deliver_closed(s);
    return;
  }
  feed(s, buf->base, (size_t)nread);
}

/* The chain of file reads counts as one open handle while a read is in flight. */
static void fs_read_cb(uv_fs_t *req) {
  stdio_t *s = req->data;
  ssize_t n = req->result;
  uv_fs_req_cleanup(req);
  if (!s->closing && n > 0) {
    feed(s, s->fs_buf, (size_t)n);
    if (!s->closing) {
      uv_buf_t b = uv_buf_init(s->fs_buf, sizeof s->fs_buf);
      if (uv_fs_read(s->loop, &s->fs_req, 0, &b, 1, -1, fs_read_cb) == 0) return;
      n = -1;
    }
  }
  s->fs_reading = 0;
  s->open_handles--;
  if (s->closing) {
    /* Close came while this read was in flight (or while feeding it): finish it. */
    if (s->open_handles == 0) finalize(s);
    return;
  }
  deliver_closed(s); /* end of input or a read error; may close and free s */
}

static void write_failed(uv_stream_t *stream, int status) {
  sg_warn("stdout write failed: %s", uv_strerror(status));
  deliver_closed(stream->data);
}

static int stdio_send(sg_conn_t *c, const json_t *msg) {
  stdio_t *s = sg_container_of(c, stdio_t, conn);
  if (s->closing) return SG_EIO;
  if (!s->out_is_stream) {
    sg_buf_t b;
    sg_buf_init(&b);
    int rc = sg_json_dump_line(msg, &b);
    if (rc) return rc;
    /* A file: synchronous writes are fine and keep ordering trivially. */
    size_t off = 0;
    while (off < b.len) {
      ssize_t n = write(1, b.data + off, b.len - off);
      if (n <= 0) {
        sg_buf_free(&b);
        return SG_EIO;
      }
      off += (size_t)n;
    }
    sg_buf_free(&b);
    return 0;
  }
  uv_stream_t *out = (uv_stream_t *)&s->out;
  if (uv_stream_get_write_queue_size(out) > MAX_PENDING_OUTPUT) {
    sg_error("client is not reading its responses; closing the connection");
    deliver_closed(s);
    return SG_EIO;
  }
  return sg_stream_write_json(out, msg, write_failed);
}

static void finalize(stdio_t *s) {
  sg_framer_free(&s->framer);
  void (*done)(void *) = s->done;
  void *arg = s->done_arg;
  free(s);
  if (done) done(arg);
}

static void handle_closed(uv_handle_t *h) {
  stdio_t *s = h->data;
  if (--s->open_handles == 0) finalize(s);
}

static void shutdown_cb(uv_shutdown_t *req, int status) {
  (void)status;
  uv_close((uv_handle_t *)req->handle, handle_closed);
  free(req);
}

static void stdio_close(sg_conn_t *c, void (*done)(void *arg), void *arg) {
  stdio_t *s = sg_container_of(c, stdio_t, conn);
  s->closing = 1;
  s->closed = 1;
  s->done = done;
  s->done_arg = arg;
  if (s->in_is_stream) uv_close((uv_handle_t *)&s->in, handle_closed);
  else if (s->fs_reading) uv_cancel((uv_req_t *)&s->fs_req);
  if (s->out_is_stream) {
    /* uv_close on a stream cancels queued writes; pending responses must reach the
     * client, so output is closed only after uv_shutdown has drained the queue. */
    uv_shutdown_t *req = malloc(sizeof *req);
    if (req == NULL || uv_shutdown(req, (uv_stream_t *)&s->out, shutdown_cb) < 0) {
      free(req);
      uv_close((uv_handle_t *)&s->out, handle_closed);
    }
  }
  if (s->open_handles == 0) finalize(s);
}

/* Sets *is_stream when fd gets a libuv stream handle (then counted in open_handles, even
 * if opening fails afterwards, so the close path releases it). Files get no handle. */
static int open_stream(uv_loop_t *loop, stream_u *u, int fd, int readable, stdio_t *s,
                       int *is_stream) {
  uv_handle_type t = uv_guess_handle(fd);
  int rc;
  *is_stream = 0;
  if (t == UV_TTY) rc = uv_tty_init(loop, &u->tty, fd, readable);
  else if (t == UV_NAMED_PIPE || t == UV_TCP) rc = uv_pipe_init(loop, &u->pipe, 0);
  else return 0;
  if (rc < 0) return rc;
  ((uv_handle_t *)u)->data = s;
  s->open_handles++;
  *is_stream = 1;
  return t == UV_TTY ? 0 : uv_pipe_open(&u->pipe, fd);
}

int sg_stdio_open(uv_loop_t *loop, size_t max_message, const sg_conn_handler_t *handler,
                  void *data, sg_conn_t **out) {
  stdio_t *s = calloc(1, sizeof *s);
  if (s == NULL) return SG_ENOMEM;
  s->loop = loop;
  s->conn.send = stdio_send;
  s->conn.close = stdio_close;
  s->conn.handler = handler;
  s->conn.data = data;
  sg_framer_init(&s->framer, max_message);
  int rc = open_stream(loop, &s->in, 0, 1, s, &s->in_is_stream);
  if (rc < 0) goto fail;
  rc = open_stream(loop, &s->out, 1, 0, s, &s->out_is_stream);
  if (rc < 0) goto fail;
  if (s->in_is_stream) {
    uv_read_start((uv_stream_t *)&s->in, alloc_cb, read_cb);
  } else {
    s->fs_req.data = s;
    s->open_handles++;
    s->fs_reading = 1;
    uv_buf_t b = uv_buf_init(s->fs_buf, sizeof s->fs_buf);
    rc = uv_fs_read(loop, &s->fs_req, 0, &b, 1, -1, fs_read_cb);
    if (rc < 0) {
      s->open_handles--;
      s->fs_reading = 0;
      goto fail;
    }
  }
  *out = &s->conn;
  return 0;
fail:
  sg_error("cannot use stdin/stdout: %s", uv_strerror(rc));
  stdio_close(&s->conn, NULL, NULL); /* frees s once its handles are closed */
  return SG_EIO;
}
