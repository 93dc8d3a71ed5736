/*
 * A client connection, as the MCP layer sees it: something that delivers whole
 * messages and accepts whole messages. Transports (stdio now, HTTP later) embed sg_conn_t
 * as their first member and recover themselves with container_of.
 *
 * Ownership: send borrows msg (the transport serialises it before returning). The
 * handler's on_closed runs once, after which the transport delivers nothing more; the
 * transport frees itself after its close callback.
 */
#ifndef SG_TRANSPORT_CONN_H
#define SG_TRANSPORT_CONN_H

#include <jansson.h>
#include <stddef.h>

typedef struct sg_conn sg_conn_t;

typedef struct {
  /* One framed message, not yet parsed (the bytes are valid only during the call). */
  void (*on_message)(sg_conn_t *c, const char *data, size_t len);
  /* A message exceeded the size limit and was dropped. */
  void (*on_oversized)(sg_conn_t *c);
  /* The peer went away or the connection failed; nothing more will be delivered. */
  void (*on_closed)(sg_conn_t *c);
} sg_conn_handler_t;

struct sg_conn {
  int (*send)(sg_conn_t *c, const json_t *msg);
  /* Flushes what was sent, then releases the connection and calls done. */
  void (*close)(sg_conn_t *c, void (*done)(void *arg), void *arg);
  const sg_conn_handler_t *handler;
  void *data; /* the handler's */
};

#define sg_container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

#endif
