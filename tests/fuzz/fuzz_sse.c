/*
 * libFuzzer target for the event stream a downstream sends (src/downstream/sse_reader.c):
 * the input is read whole and again in three pieces cut where its first bytes say, with
 * small limits so that they are reached. Both readings must give the same events and the
 * same outcome, every event must respect the limits (data within max_data unless
 * dropped, a kept id short and free of control characters), and any crash, leak or
 * sanitizer report is a finding. Seeds: corpus/sse/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "downstream/sse_reader.h"

enum { MAX_LINE = 512, MAX_DATA = 256 };

/* Appends each event to a buffer: a tag, the data's length and bytes, the id. */
static void record(void *arg, const sg_sse_event_t *ev) {
  sg_buf_t *b = arg;
  if (ev->dropped ? ev->data != NULL : (ev->data == NULL || ev->len > MAX_DATA)) abort();
  if (ev->last_id) {
    size_t n = strlen(ev->last_id);
    if (n == 0 || n > SG_SSE_MAX_ID) abort();
    for (size_t i = 0; i < n; i++)
      if ((unsigned char)ev->last_id[i] < 0x20 || ev->last_id[i] == 0x7f) abort();
  }
  sg_buf_printf(b, "%c%zu:", ev->dropped ? 'X' : 'D', ev->len);
  if (ev->len) sg_buf_append(b, ev->data, ev->len);
  sg_buf_printf(b, "|%s\n", ev->last_id ? ev->last_id : "");
}

/* Reads data in pieces ending at the cuts (the last is its size); returns the outcome, the events
 * in out. */
static int read_all(const uint8_t *data, const size_t *cuts, size_t ncuts, sg_buf_t *out,
                    long *retry) {
  sg_sse_reader_t r;
  sg_sse_reader_init(&r, MAX_LINE, MAX_DATA);
  size_t off = 0;
  int rc = 0;
  for (size_t i = 0; i < ncuts && rc == 0; i++) {
    rc = sg_sse_reader_feed(&r, (const char *)data + off, cuts[i] - off, record, out);
    off = cuts[i];
  }
  if (rc == 0) rc = sg_sse_reader_finish(&r, record, out);
  *retry = r.retry_ms;
  sg_sse_reader_free(&r);
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t cut1 = size ? data[0] % (size + 1) : 0;
  size_t cut2 = size > 1 ? cut1 + data[1] % (size - cut1 + 1) : size;
  const size_t whole[] = {size}, pieces[] = {cut1, cut2, size};
  sg_buf_t a, b;
  sg_buf_init(&a);
  sg_buf_init(&b);
  long ra, rb;
  int rca = read_all(data, whole, 1, &a, &ra);
  int rcb = read_all(data, pieces, 3, &b, &rb);
  /* A failed reading stops where its line passed the limit, so only the outcome is
     compared then; otherwise the events and the retry too. */
  if (rca != rcb) abort();
  if (rca == 0 && (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0) || ra != rb))
    abort();
  sg_buf_free(&a);
  sg_buf_free(&b);
  return 0;
}
