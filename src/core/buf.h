/*
 * A growable byte buffer. The buffer owns its storage; sg_buf_steal hands it to the
 * caller. Used for framing (bytes arrive in pieces) and for building output.
 */
#ifndef SG_CORE_BUF_H
#define SG_CORE_BUF_H

#include <stddef.h>

typedef struct {
  char *data;
  size_t len;
  size_t cap;
} sg_buf_t;

void sg_buf_init(sg_buf_t *b);
void sg_buf_free(sg_buf_t *b);
/* Ensures room for extra more bytes plus a NUL. */
int sg_buf_reserve(sg_buf_t *b, size_t extra);
int sg_buf_append(sg_buf_t *b, const void *data, size_t len);
int sg_buf_append_str(sg_buf_t *b, const char *s);
int sg_buf_printf(sg_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes. */
void sg_buf_consume(sg_buf_t *b, size_t n);
/* Returns the NUL-terminated data (caller frees) and resets the buffer. */
char *sg_buf_steal(sg_buf_t *b, size_t *len);

#endif
