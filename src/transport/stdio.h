/*
 * The stdio transport: newline-delimited JSON-RPC on the process's stdin and stdout.
 * Nothing but protocol messages is ever written to stdout.
 */
#ifndef SG_TRANSPORT_STDIO_H
#define SG_TRANSPORT_STDIO_H

#include <uv.h>

#include "transport/conn.h"

/* Starts reading stdin. max_message bounds one line. */
int sg_stdio_open(uv_loop_t *loop, size_t max_message, const sg_conn_handler_t *handler,
                  void *data, sg_conn_t **out);

#endif
