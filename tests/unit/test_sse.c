/*
 * Unit tests for src/downstream/sse_reader.c: the events a downstream's event stream
 * holds, the same however the bytes are cut, every line end, the fields' rules, and the
 * limits on a line and on an event's data.
 */
#include <string.h>

#include "downstream/sse_reader.h"
#include "runner.h"

/* The events read, each written as "data|id" ("-" for no id, "DROPPED" for dropped data),
 * one per line. */
typedef struct {
  char text[4096];
} record_t;

static void record(void *arg, const sg_sse_event_t *ev) {
  record_t *r = arg;
  size_t at = strlen(r->text);
  snprintf(r->text + at, sizeof r->text - at, "%.*s|%s\n", ev->dropped ? 7 : (int)ev->len,
           ev->dropped ? "DROPPED" : ev->data, ev->last_id ? ev->last_id : "-");
  CHECK(!ev->dropped || ev->data == NULL);
}

/* Reads stream in pieces of at most piece bytes (0: whole), then ends it. */
static int read_stream(const char *stream, size_t piece, size_t max_line, size_t max_data,
                       record_t *out, int finish) {
  sg_sse_reader_t r;
  sg_sse_reader_init(&r, max_line, max_data);
  memset(out, 0, sizeof *out);
  size_t len = strlen(stream), off = 0;
  int rc = 0;
  while (rc == 0 && off < len) {
    size_t n = piece && len - off > piece ? piece : len - off;
    rc = sg_sse_reader_feed(&r, stream + off, n, record, out);
    off += n;
  }
  if (rc == 0 && finish) rc = sg_sse_reader_finish(&r, record, out);
  sg_sse_reader_free(&r);
  return rc;
}

/* Reads stream whole and in pieces of every size up to its length: the same events. */
static void expect_events(const char *stream, const char *want) {
  record_t whole, cut;
  CHECK_INT_EQ(read_stream(stream, 0, 1024, 1024, &whole, 1), 0);
  CHECK_STR_EQ(whole.text, want);
  for (size_t piece = 1; piece <= strlen(stream); piece++) {
    CHECK_INT_EQ(read_stream(stream, piece, 1024, 1024, &cut, 1), 0);
    if (strcmp(cut.text, want) != 0) fprintf(stderr, "in pieces of %zu bytes:\n", piece);
    CHECK_STR_EQ(cut.text, want);
  }
}

static void events_and_ids(void) {
  expect_events("data: {\"a\":1}\n\n", "{\"a\":1}|-\n");
  /* An id becomes the stream's last id and stays; an event with only an id is one. */
  expect_events("id: 7\ndata: x\n\ndata: y\n\nid: 8\n\n", "x|7\ny|7\n|8\n");
  /* Data lines are joined by newlines; one space after the colon is dropped, not two. */
  expect_events("data:a\ndata:  b\ndata\ndata:\n\n", "a\n b\n|-\n");
  /* Comments, "event:" and unknown fields carry nothing; a blank line alone is an
     (empty) end of event, as keep-alives are. */
  expect_events(": ping\nevent: message\nfoo: bar\ndata: z\n\n\n", "z|-\n|-\n");
}

static void line_ends(void) {
  /* CRLF, LF and CR alone end lines, also when a CRLF is cut between pieces (which
     expect_events tries at every position). */
  expect_events("data: a\r\n\r\ndata: b\n\ndata: c\r\rdata: d\r\n\n", "a|-\nb|-\nc|-\nd|-\n");
  /* "\r\n" is one line end: no empty line (no extra event) between. */
  expect_events("data: a\r\ndata: b\r\n\r\n", "a\nb|-\n");
}

static void id_rules(void) {
  char long_id[SG_SSE_MAX_ID + 16];
  memset(long_id, 'i', sizeof long_id);
  long_id[sizeof long_id - 1] = '\0';
  char stream[1024];
  /* Ids that could not be sent back in a header are not kept; the last kept one stays. */
  snprintf(stream, sizeof stream,
           "id: ok1\ndata: a\n\nid: %s\ndata: b\n\nid: bad\x01id\ndata: c\n\nid:\ndata: d\n\n",
           long_id);
  expect_events(stream, "a|ok1\nb|ok1\nc|ok1\nd|ok1\n");
}

static void retry_field(void) {
  const char *cases[][2] = {{"retry: 1500\n", "1500"},
                            {"retry: 15x\n", "-1"},
                            {"retry: 1234567890\n", "-1"},
                            {"retry:\n", "-1"},
                            {"retry: 10\nretry: 2a\n", "10"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sg_sse_reader_t r;
    record_t out = {{0}};
    sg_sse_reader_init(&r, 64, 64);
    CHECK_INT_EQ(sg_sse_reader_feed(&r, cases[i][0], strlen(cases[i][0]), record, &out), 0);
    char got[32];
    snprintf(got, sizeof got, "%ld", r.retry_ms);
    CHECK_STR_EQ(got, cases[i][1]);
    sg_sse_reader_free(&r);
  }
}

static void line_limit(void) {
  record_t out;
  char stream[256];
  memset(stream, 'x', 200);
  memcpy(stream, "data: ", 6);
  stream[200] = '\0';
  /* A line of 200 bytes over a limit of 100, whole or arriving in pieces. */
  CHECK_INT_EQ(read_stream(stream, 0, 100, 1024, &out, 0), -1);
  CHECK_INT_EQ(read_stream(stream, 7, 100, 1024, &out, 0), -1);
  strcat(stream, "\n\n");
  CHECK_INT_EQ(read_stream(stream, 0, 100, 1024, &out, 0), -1);
  CHECK_INT_EQ(read_stream(stream, 9, 100, 1024, &out, 0), -1);
  /* At the limit, it is read. */
  CHECK_INT_EQ(read_stream(stream, 9, 200, 1024, &out, 0), 0);
  CHECK_INT_EQ(strlen(out.text), 194 + strlen("|-\n"));
}

static void data_limit(void) {
  record_t out;
  /* 10 bytes of data per event at most: the second event's data is 11 (with the
     newline), and is dropped; the events around it are read. */
  const char *stream = "data: 12345\ndata: 1234\n\ndata: 12345\ndata: 12345\n\nid: 3\ndata: ok\n\n";
  for (size_t piece = 0; piece <= strlen(stream); piece++) {
    CHECK_INT_EQ(read_stream(stream, piece, 100, 10, &out, 1), 0);
    CHECK_STR_EQ(out.text, "12345\n1234|-\nDROPPED|-\nok|3\n");
  }
}

static void stream_end(void) {
  record_t out;
  /* An event without its blank line, or its last line's end, still ends with the stream. */
  CHECK_INT_EQ(read_stream("data: a\n\ndata: b", 0, 100, 100, &out, 1), 0);
  CHECK_STR_EQ(out.text, "a|-\nb|-\n");
  CHECK_INT_EQ(read_stream("data: a\ndata: b\n", 3, 100, 100, &out, 1), 0);
  CHECK_STR_EQ(out.text, "a\nb|-\n");
  /* Nothing pending: nothing more. */
  CHECK_INT_EQ(read_stream("data: a\n\n", 0, 100, 100, &out, 1), 0);
  CHECK_STR_EQ(out.text, "a|-\n");
  /* Without the end, the unfinished event is not read. */
  CHECK_INT_EQ(read_stream("data: a\n\ndata: b", 0, 100, 100, &out, 0), 0);
  CHECK_STR_EQ(out.text, "a|-\n");
}

const sg_test_t sg_suite_sse[] = {{"events_and_ids", events_and_ids},
                                  {"line_ends", line_ends},
                                  {"id_rules", id_rules},
                                  {"retry_field", retry_field},
                                  {"line_limit", line_limit},
                                  {"data_limit", data_limit},
                                  {"stream_end", stream_end},
                                  SG_SUITE_END};
