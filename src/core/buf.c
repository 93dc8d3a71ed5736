/*
 * Growable byte buffer; always keeps a NUL after the data so it can be read as a string.
 */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

void sg_buf_init(sg_buf_t *b) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

void sg_buf_free(sg_buf_t *b) {
  free(b->data);
  sg_buf_init(b);
}

int sg_buf_reserve(sg_buf_t *b, size_t extra) {
  if (b->len + extra + 1 <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra + 1) cap *= 2;
  char *p = realloc(b->data, cap);
  if (p == NULL) return SG_ENOMEM;
  b->data = p;
  b->cap = cap;
  return 0;
}

int sg_buf_append(sg_buf_t *b, const void *data, size_t len) {
  int rc = sg_buf_reserve(b, len);
  if (rc) return rc;
  if (len) memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
  return 0;
}

int sg_buf_append_str(sg_buf_t *b, const char *s) { return sg_buf_append(b, s, strlen(s)); }

int sg_buf_printf(sg_buf_t *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return SG_EINVAL;
  int rc = sg_buf_reserve(b, (size_t)n);
  if (rc) return rc;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return 0;
}

void sg_buf_consume(sg_buf_t *b, size_t n) {
  if (n >= b->len) {
    b->len = 0;
  } else {
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
  }
  if (b->data) b->data[b->len] = '\0';
}

char *sg_buf_steal(sg_buf_t *b, size_t *len) {
  if (sg_buf_reserve(b, 0)) return NULL;
  char *p = b->data;
  if (len) *len = b->len;
  sg_buf_init(b);
  return p;
}
