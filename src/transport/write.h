/*
 * Writing one JSON message as a line on a libuv stream, shared by the stdio transport
 * and stdio downstream servers. Ordering is preserved: a message goes out after every
 * message written before it on the same stream.
 */
#ifndef SG_TRANSPORT_WRITE_H
#define SG_TRANSPORT_WRITE_H

#include <jansson.h>
#include <uv.h>

/* Called when a queued write fails (not when it is cancelled by a close). */
typedef void (*sg_write_error_cb)(uv_stream_t *stream, int status);

/* Serialises msg (borrowed) and writes it, with its newline, to stream. Returns 0, or a
 * negative SG_E* code when the message could not be serialised or the stream refused
 * it; on_error (may be NULL) reports failures that happen later. */
int sg_stream_write_json(uv_stream_t *stream, const json_t *msg, sg_write_error_cb on_error);

#endif
