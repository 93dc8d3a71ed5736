/*
 * Helpers for tests that need files: a scratch directory and small catalogs written
 * into it.
 */
#ifndef SG_TEST_FIXTURES_H
#define SG_TEST_FIXTURES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runner.h"

/* Creates a fresh directory under /tmp and returns its path (static storage). */
static inline const char *fx_tmpdir(void) {
  static char path[64];
  snprintf(path, sizeof path, "/tmp/sg-unit-XXXXXX");
  CHECK(mkdtemp(path) != NULL);
  return path;
}

/* Writes text to dir/rel, creating dir/tools when rel is inside it. */
static inline void fx_write(const char *dir, const char *rel, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/tools", dir);
  mkdir(path, 0700);
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  fputs(text, f);
  fclose(f);
}

/* A minimal valid catalog: one server, a read tool "lookup" and a write tool "store",
 * role "reader" (lookup) and role "writer" (both, store with the given approval). */
static inline const char *fx_small_catalog(const char *approval) {
  const char *dir = fx_tmpdir();
  fx_write(dir, "servers.json",
           "{\"servers\":{\"svc\":{\"transport\":\"stdio\",\"command\":\"true\"}}}");
  fx_write(dir, "tools/lookup.json",
           "{\"name\":\"lookup\",\"server\":\"svc\",\"tool\":\"do-lookup\",\"access\":\"read\","
           "\"description\":\"Looks up.\",\"inputSchema\":{\"type\":\"object\",\"properties\":"
           "{\"q\":{\"type\":\"string\",\"maxLength\":8},\"n\":{\"type\":\"integer\",\"minimum\":1}},"
           "\"required\":[\"q\"],\"additionalProperties\":false}}");
  fx_write(dir, "tools/store.json",
           "{\"name\":\"store\",\"server\":\"svc\",\"tool\":\"do-store\",\"access\":\"write\","
           "\"description\":\"Stores.\",\"inputSchema\":{\"type\":\"object\"}}");
  char matrix[512];
  snprintf(matrix, sizeof matrix,
           "{\"writes_enabled\":true,\"roles\":{\"reader\":{\"tools\":{\"lookup\":{}}},"
           "\"writer\":{\"tools\":{\"lookup\":{},\"store\":{\"approval\":\"%s\"}}}}}",
           approval);
  fx_write(dir, "matrix.json", matrix);
  return dir;
}

#endif
