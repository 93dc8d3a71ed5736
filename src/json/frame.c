/*
 * Incremental line framer. Consumed bytes are compacted away lazily so a burst of
 * small lines costs one memmove, not one per line.
 */
#include "json/frame.h"

#include <string.h>

#include "core/error.h"

void sg_framer_init(sg_framer_t *f, size_t max_line) {
  sg_buf_init(&f->buf);
  f->start = 0;
  f->scanned = 0;
  f->max_line = max_line;
  f->discarding = 0;
}

void sg_framer_free(sg_framer_t *f) { sg_buf_free(&f->buf); }

int sg_framer_push(sg_framer_t *f, const char *data, size_t len) {
  if (f->start > 0 && (f->start == f->buf.len || f->start > f->buf.len / 2)) {
    sg_buf_consume(&f->buf, f->start);
    f->start = 0;
  }
  return sg_buf_append(&f->buf, data, len);
}

int sg_framer_next(sg_framer_t *f, const char **line, size_t *len) {
  for (;;) {
    char *base = f->buf.data + f->start;
    size_t avail = f->buf.len - f->start;
    char *nl = avail > f->scanned ? memchr(base + f->scanned, '\n', avail - f->scanned) : NULL;
    if (nl == NULL) {
      if (f->discarding) {
        f->start = f->buf.len;
        f->scanned = 0;
        return 0;
      }
      f->scanned = avail;
      if (f->max_line && avail > f->max_line) {
        f->discarding = 1;
        f->start = f->buf.len;
        f->scanned = 0;
        return SG_ETOOBIG;
      }
      return 0;
    }
    size_t n = (size_t)(nl - base);
    f->start += n + 1;
    f->scanned = 0;
    if (f->discarding) {
      f->discarding = 0;
      continue;
    }
    if (n > 0 && base[n - 1] == '\r') n--;
    if (f->max_line && n > f->max_line) return SG_ETOOBIG;
    if (n == 0) continue;
    *line = base;
    *len = n;
    return 1;
  }
}
