/*
 * A small unit-test runner. Each test file exports a suite (an array of named test
 * functions ending with {NULL, NULL}); suites.h lists the suites. Every test runs in a
 * forked child with a time limit, so a crash or a hang fails that test alone.
 * A failed CHECK prints where and why, then ends the child with status 1.
 */
#ifndef SG_TEST_RUNNER_H
#define SG_TEST_RUNNER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*sg_test_fn)(void);

typedef struct {
  const char *name;
  sg_test_fn fn;
} sg_test_t;

#define SG_SUITE_END {NULL, NULL}

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      exit(1);                                                               \
    }                                                                        \
  } while (0)

#define CHECK_INT_EQ(a, b)                                                          \
  do {                                                                              \
    long long a_ = (long long)(a), b_ = (long long)(b);                             \
    if (a_ != b_) {                                                                 \
      fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, \
              #a, #b, a_, b_);                                                      \
      exit(1);                                                                      \
    }                                                                               \
  } while (0)

#define CHECK_STR_EQ(a, b)                                                                  \
  do {                                                                                      \
    const char *a_ = (a), *b_ = (b);                                                        \
    if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {                                  \
      fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, \
              #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                  \
      exit(1);                                                                              \
    }                                                                                       \
  } while (0)

/* Path of a file under tests/ (set by the runner from SG_TEST_DIR or the build). */
const char *sg_test_path(const char *rel, char *out, size_t outlen);

#endif
