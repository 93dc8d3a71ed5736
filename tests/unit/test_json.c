/*
 * Unit tests for src/json: framing, strict parsing with limits, JSON-RPC
 * classification, canonical hashing and JSON Pointer escaping.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "json/canonical.h"
#include "json/frame.h"
#include "json/parse.h"
#include "json/pointer.h"
#include "json/rpc.h"
#include "runner.h"

static void frame_split_across_pushes(void) {
  sg_framer_t f;
  const char *line;
  size_t len;
  sg_framer_init(&f, 100);
  CHECK_INT_EQ(sg_framer_push(&f, "{\"a\":", 5), 0);
  CHECK_INT_EQ(sg_framer_next(&f, &line, &len), 0);
  CHECK_INT_EQ(sg_framer_push(&f, "1}\r\n\n{\"b\":2}\n{\"c\"", 17), 0);
  CHECK_INT_EQ(sg_framer_next(&f, &line, &len), 1);
  CHECK_INT_EQ(len, 7);
  CHECK(memcmp(line, "{\"a\":1}", 7) == 0);
  CHECK_INT_EQ(sg_framer_next(&f, &line, &len), 1); /* the empty line is skipped */
  CHECK(len == 7 && memcmp(line, "{\"b\":2}", 7) == 0);
  CHECK_INT_EQ(sg_framer_next(&f, &line, &len), 0);
  CHECK_INT_EQ(sg_framer_push(&f, ":3}\n", 4), 0);
  CHECK_INT_EQ(sg_framer_next(&f, &line, &len), 1);
  CHECK(len == 7 && memcmp(line, "{\"c\":3}", 7) == 0);
  sg_framer_free(&f);
}

static void frame_oversized_line_is_skipped_once(void) {
  sg_framer_t f;
  const char *line;
  size_t len;
  char big[64];
  memset(big, 'x', sizeof big);
  sg_framer_init(&f, 16);
  sg_framer_push(&f, big, sizeof big);
  CHECK_INT_EQ(sg_framer_next(&f, &line, &len), SG_ETOOBIG);
  CHECK_INT_EQ(sg_framer_next(&f, &line, &len), 0);
  sg_framer_push(&f, big, 10);
  CHECK_INT_EQ(sg_framer_next(&f, &line, &len), 0);
  sg_framer_push(&f, "xx\n{}\n", 6);
  CHECK_INT_EQ(sg_framer_next(&f, &line, &len), 1);
  CHECK(len == 2 && memcmp(line, "{}", 2) == 0);
  /* A complete line over the limit that arrives in one piece is refused too. */
  sg_framer_push(&f, "yyyyyyyyyyyyyyyyyyyyyyyy\n[]\n", 28);
  CHECK_INT_EQ(sg_framer_next(&f, &line, &len), SG_ETOOBIG);
  CHECK_INT_EQ(sg_framer_next(&f, &line, &len), 1);
  CHECK(len == 2 && memcmp(line, "[]", 2) == 0);
  sg_framer_free(&f);
}

static int parse(const char *text, json_t **out) {
  sg_json_limits_t lim = {1024, 8};
  char err[256];
  return sg_json_parse(text, strlen(text), &lim, out, err, sizeof err);
}

static void parse_rejects_bad_input(void) {
  json_t *v = NULL;
  CHECK_INT_EQ(parse("{\"a\":1,\"a\":2}", &v), SG_EPARSE);
  CHECK_INT_EQ(parse("{\"a\":\"x\\u0000y\"}", &v), SG_EPARSE);
  CHECK_INT_EQ(parse("{\"a\":\"\xc3\x28\"}", &v), SG_EPARSE); /* invalid UTF-8 */
  CHECK_INT_EQ(parse("{\"a\":\"\xed\xa0\x80\"}", &v), SG_EPARSE); /* UTF-16 surrogate */
  CHECK_INT_EQ(parse("{\"a\":1} x", &v), SG_EPARSE);
  CHECK_INT_EQ(parse("[[[[[[[[[1]]]]]]]]]", &v), SG_ETOODEEP);
  CHECK_INT_EQ(parse("{\"a\":\"[[[[[[[[[[[[\"}", &v), 0); /* brackets in strings */
  json_decref(v);
  char big[2048];
  memset(big, ' ', sizeof big - 1);
  big[0] = '1';
  big[sizeof big - 1] = '\0';
  CHECK_INT_EQ(parse(big, &v), SG_ETOOBIG);
  CHECK(v == NULL);
}

static void parse_accepts_valid_unicode(void) {
  json_t *v = NULL;
  CHECK_INT_EQ(parse("{\"k\":\"caf\xc3\xa9 \\ud83d\\ude00\"}", &v), 0);
  CHECK(json_is_string(json_object_get(v, "k")));
  json_decref(v);
}

static sg_rpc_msg_t classify(const char *text, int *rc) {
  json_t *v = NULL;
  sg_rpc_msg_t m;
  char err[128];
  CHECK_INT_EQ(parse(text, &v), 0);
  *rc = sg_rpc_classify(v, &m, err, sizeof err);
  json_decref(v); /* borrowed fields are not used after this */
  return m;
}

static void rpc_classifies_messages(void) {
  int rc;
  sg_rpc_msg_t m = classify("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", &rc);
  CHECK(rc == 0 && m.kind == SG_MSG_REQUEST);
  m = classify("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", &rc);
  CHECK(rc == 0 && m.kind == SG_MSG_NOTIFICATION);
  m = classify("{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{}}", &rc);
  CHECK(rc == 0 && m.kind == SG_MSG_RESULT);
  m = classify("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":1}}", &rc);
  CHECK(rc == 0 && m.kind == SG_MSG_ERROR);
  classify("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", &rc);
  CHECK_INT_EQ(rc, SG_EBATCH);
  classify("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", &rc);
  CHECK_INT_EQ(rc, SG_EBADREQ);
  classify("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", &rc);
  CHECK_INT_EQ(rc, SG_EBADREQ);
  classify("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}", &rc);
  CHECK_INT_EQ(rc, SG_EBADREQ);
  m = classify("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"x\",\"params\":[1]}", &rc);
  CHECK_INT_EQ(rc, SG_EBADREQ);
  CHECK(m.id != NULL); /* still answerable */
  classify("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"error\":{}}", &rc);
  CHECK_INT_EQ(rc, SG_EBADREQ);
  classify("\"hello\"", &rc);
  CHECK_INT_EQ(rc, SG_EBADREQ);
}

static void rpc_builds_one_line(void) {
  json_t *id = json_integer(3);
  json_t *e = sg_rpc_error(id, -32601, "method not found\nreally", json_pack("{s:s}", "reason", "x"));
  sg_buf_t b;
  sg_buf_init(&b);
  CHECK_INT_EQ(sg_json_dump_line(e, &b), 0);
  CHECK(b.data[b.len - 1] == '\n');
  CHECK(memchr(b.data, '\n', b.len - 1) == NULL);
  CHECK(strstr(b.data, "\"code\":-32601") != NULL);
  CHECK(strstr(b.data, "\"id\":3") != NULL);
  sg_buf_free(&b);
  json_decref(e);
  json_decref(id);
}

static void canonical_hash_ignores_key_order_and_space(void) {
  json_t *a = NULL, *b = NULL, *c = NULL;
  CHECK_INT_EQ(parse("{\"b\":[1,2],\"a\":{\"y\":1,\"x\":\"s\"}}", &a), 0);
  CHECK_INT_EQ(parse("{ \"a\" : {\"x\":\"s\", \"y\":1}, \"b\":[1, 2] }", &b), 0);
  CHECK_INT_EQ(parse("{\"a\":{\"x\":\"s\",\"y\":1},\"b\":[2,1]}", &c), 0);
  char ha[65], hb[65], hc[65];
  sg_json_canonical_hash(a, ha);
  sg_json_canonical_hash(b, hb);
  sg_json_canonical_hash(c, hc);
  CHECK_STR_EQ(ha, hb);
  CHECK(strcmp(ha, hc) != 0);
  char *text = sg_json_canonical(a);
  CHECK_STR_EQ(text, "{\"a\":{\"x\":\"s\",\"y\":1},\"b\":[1,2]}");
  free(text);
  json_decref(a);
  json_decref(b);
  json_decref(c);
}

static void pointer_escapes_tokens(void) {
  char p[32] = "";
  CHECK_INT_EQ(sg_json_pointer_append(p, sizeof p, "a/b"), 0);
  CHECK_INT_EQ(sg_json_pointer_append(p, sizeof p, "m~n"), 0);
  CHECK_INT_EQ(sg_json_pointer_append_index(p, sizeof p, 12), 0);
  CHECK_STR_EQ(p, "/a~1b/m~0n/12");
  char small[6] = "";
  CHECK_INT_EQ(sg_json_pointer_append(small, sizeof small, "abcdefgh"), SG_ETOOBIG);
  CHECK(strlen(small) < sizeof small);
}

const sg_test_t sg_suite_json[] = {
    {"frame_split_across_pushes", frame_split_across_pushes},
    {"frame_oversized_line_is_skipped_once", frame_oversized_line_is_skipped_once},
    {"parse_rejects_bad_input", parse_rejects_bad_input},
    {"parse_accepts_valid_unicode", parse_accepts_valid_unicode},
    {"rpc_classifies_messages", rpc_classifies_messages},
    {"rpc_builds_one_line", rpc_builds_one_line},
    {"canonical_hash_ignores_key_order_and_space", canonical_hash_ignores_key_order_and_space},
    {"pointer_escapes_tokens", pointer_escapes_tokens},
    SG_SUITE_END};
