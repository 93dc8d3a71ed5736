/*
 * libFuzzer target for the bytes a client sends: stdio framing, strict JSON parsing
 * with limits, JSON-RPC classification, and for tools/call the pure decision against
 * the example catalog (which runs schema validation on arbitrary arguments). Every
 * refusal must be a clean error; any crash, leak or sanitizer report is a finding.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "json/frame.h"
#include "json/parse.h"
#include "json/rpc.h"
#include "policy/decide.h"

static sg_catalog_t *catalog;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  const char *dir = getenv("SG_FUZZ_CATALOG");
  if (sg_catalog_load(dir ? dir : SG_FUZZ_CATALOG_DIR, &catalog, NULL) != 0) {
    fprintf(stderr, "fuzz_message: cannot load the catalog\n");
    abort();
  }
  return 0;
}

static void one_message(const char *line, size_t len) {
  static const sg_json_limits_t lim = {65536, 32};
  char err[256];
  json_t *msg = NULL;
  if (sg_json_parse(line, len, &lim, &msg, err, sizeof err) != 0) return;
  sg_rpc_msg_t m;
  if (sg_rpc_classify(msg, &m, err, sizeof err) == 0 && m.kind == SG_MSG_REQUEST &&
      strcmp(m.method, "tools/call") == 0) {
    const char *name = json_string_value(json_object_get(m.params, "name"));
    json_t *args = json_object_get(m.params, "arguments");
    if (name && json_is_object(args)) {
      static const sg_principal_t roles[] = {{"f", "viewer", "t", "e"}, {"f", "editor", "t", "e"}};
      for (size_t i = 0; i < 2; i++) {
        sg_decision_t d;
        sg_policy_decide(catalog, &roles[i], name, args, &d);
        sg_decision_release(&d);
      }
    }
  }
  sg_buf_t out;
  sg_buf_init(&out);
  sg_json_dump_line(msg, &out);
  sg_buf_free(&out);
  json_decref(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sg_framer_t f;
  sg_framer_init(&f, 65536);
  /* Feed in two pieces so that framing across reads is exercised too. */
  size_t half = size / 2;
  const char *line;
  size_t len;
  sg_framer_push(&f, (const char *)data, half);
  while (sg_framer_next(&f, &line, &len) > 0) one_message(line, len);
  sg_framer_push(&f, (const char *)data + half, size - half);
  int rc;
  while ((rc = sg_framer_next(&f, &line, &len)) != 0)
    if (rc > 0) one_message(line, len);
  sg_framer_free(&f);
  return 0;
}
