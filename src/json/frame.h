/*
 * Newline-delimited framing for stdio transports: bytes arrive in pieces, whole lines
 * come out. A line longer than the limit is reported once and then skipped up to its
 * newline, so one oversized message costs nothing but its own error.
 */
#ifndef SG_JSON_FRAME_H
#define SG_JSON_FRAME_H

#include <stddef.h>

#include "core/buf.h"

typedef struct {
  sg_buf_t buf;
  size_t start;    /* first unread byte in buf */
  size_t scanned;  /* bytes after start already known to hold no newline */
  size_t max_line;
  int discarding;  /* inside an oversized line: drop bytes until a newline */
} sg_framer_t;

void sg_framer_init(sg_framer_t *f, size_t max_line);
void sg_framer_free(sg_framer_t *f);
/* Appends received bytes. */
int sg_framer_push(sg_framer_t *f, const char *data, size_t len);
/* Returns 1 and sets *line and *len (no newline, a trailing CR removed; valid until the next
 * call) when a whole non-empty line is available, 0 when more bytes are needed, or
 * SG_ETOOBIG once for each line that exceeds the limit. */
int sg_framer_next(sg_framer_t *f, const char **line, size_t *len);

#endif
