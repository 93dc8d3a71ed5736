/*
 * libFuzzer target for the bytes an HTTP client sends: the request reader (request
 * line, headers, chunked and sized bodies, pipelined requests, the header and body
 * limits) fed in pieces as reads would deliver them, then, for each whole request, the
 * checks the server and the MCP endpoint make on its headers (Host and Origin against
 * DNS rebinding, Accept, Content-Type), and the SSE replay buffer with the body as an
 * event. Every input must end in whole requests or a clean HTTP error status; any crash,
 * leak or sanitizer report is a finding. Seeds: corpus/http/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transport/http_reader.h"
#include "transport/http_server.h"
#include "transport/listen.h"
#include "transport/sse.h"

static const char *const origins[] = {"https://app.example"};
static const char *const hosts[] = {"gateway.internal", "proxy.example:8443"};

static void check_request(const sg_http_reader_t *r, sg_sse_ring_t *ring, uint64_t seq) {
  static sg_http_config_t cfg;
  if (cfg.max_header_bytes == 0) {
    sg_http_config_default(&cfg);
    cfg.allow_origins = origins;
    cfg.nallow_origins = 1;
    cfg.allow_hosts = hosts;
    cfg.nallow_hosts = 2;
  }
  if (r->method == NULL || r->path == NULL || r->target == NULL) abort();
  const char *host = sg_http_reader_header(r, "host");
  const char *origin = sg_http_reader_header(r, "origin");
  const char *accept = sg_http_reader_header(r, "accept");
  sg_http_host_allowed(&cfg, host, 8787, "127.0.0.1", 0);
  sg_http_host_allowed(&cfg, host, 8787, "::1", 0);
  sg_http_origin_allowed(&cfg, origin, 8787, 0);
  sg_http_accepts(accept, "text/event-stream");
  sg_http_accepts(accept, "application/json");
  sg_http_content_type_is(sg_http_reader_header(r, "content-type"), "application/json");
  for (size_t i = 0; i < r->nfields; i++)
    if (r->fields[i].name == NULL || r->fields[i].value == NULL) abort();
  if (r->body.len && r->body.data[r->body.len] != '\0') abort();
  sg_sse_ring_push(ring, seq, r->body.data, r->body.len);
}

static int count_event(void *arg, const char *data, size_t len) {
  (void)data;
  *(size_t *)arg += len;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const sg_http_read_limits_t lim = {2048, 8192};
  sg_http_reader_t r;
  sg_http_reader_init(&r, &lim);
  sg_sse_ring_t ring;
  sg_sse_ring_init(&ring, 4, 4096);
  /* Feed in three pieces at points the input chooses, as reads would split it. */
  size_t cut1 = size ? data[0] % (size + 1) : 0;
  size_t cut2 = size > 1 ? cut1 + data[1] % (size - cut1 + 1) : size;
  const size_t cuts[] = {cut1, cut2, size};
  size_t off = 0;
  uint64_t seq = 0;
  for (size_t piece = 0; piece < 3 && r.phase != SG_HTTP_READ_ERROR; piece++) {
    while (off < cuts[piece]) {
      size_t used = sg_http_reader_feed(&r, (const char *)data + off, cuts[piece] - off);
      off += used;
      if (r.phase == SG_HTTP_READ_ERROR) {
        if (r.status < 400 || r.status > 599 || r.reason == NULL) abort();
        break;
      }
      if (r.phase != SG_HTTP_READ_DONE) {
        if (used == 0 && off < cuts[piece]) abort(); /* no progress without a request */
        continue;
      }
      check_request(&r, &ring, ++seq);
      if (!r.keep_alive) {
        off = size;
        break;
      }
      sg_http_reader_next(&r);
    }
  }
  size_t replayed = 0;
  sg_sse_ring_replay(&ring, seq > 2 ? seq - 2 : 0, count_event, &replayed);
  if (replayed > 4096) abort();
  sg_sse_ring_free(&ring);
  sg_http_reader_free(&r);

  /* The operator's --listen values are not a client's, but they are text all the same. */
  char spec[128];
  size_t n = size < sizeof spec - 1 ? size : sizeof spec - 1;
  memcpy(spec, data, n);
  spec[n] = '\0';
  sg_listen_addr_t a;
  char err[256];
  sg_listen_parse(spec, &a, err, sizeof err);
  return 0;
}
