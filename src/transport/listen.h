/*
 * Listening addresses: parsing what the operator writes after --listen, binding it on
 * the loop, and accepting connections from it. Three forms are understood:
 *
 *   127.0.0.1:8787   [::1]:8787   unix:/run/scopegate.sock
 *
 * plus "localhost:PORT" (127.0.0.1) and a bare "PORT" (127.0.0.1). Port 0 asks the
 * kernel for a free port; sg_listen_start reports the one it got. Every accepted TCP
 * socket gets TCP_NODELAY: MCP messages are small, and Nagle's algorithm would hold each
 * one back for up to ~40 ms waiting for the previous one's ACK.
 *
 * Ownership: an sg_listen_addr_t is a plain value. Handles passed in are the caller's
 * memory; the caller closes them (uv_close) and frees them in the close callback.
 */
#ifndef SG_TRANSPORT_LISTEN_H
#define SG_TRANSPORT_LISTEN_H

#include <stddef.h>
#include <uv.h>

typedef enum { SG_LISTEN_TCP, SG_LISTEN_UNIX } sg_listen_kind_t;

typedef struct {
  sg_listen_kind_t kind;
  int family;     /* TCP: AF_INET or AF_INET6 */
  char host[48];  /* TCP: the address literal, IPv6 without brackets */
  int port;       /* TCP: 0 = any free port */
  char path[108]; /* UNIX: the socket's path (sun_path's size) */
} sg_listen_addr_t;

typedef union {
  uv_handle_t handle;
  uv_stream_t stream;
  uv_tcp_t tcp;
  uv_pipe_t pipe;
} sg_listen_handle_t;

/* Parses spec into *out. Returns 0, or SG_EINVAL with the reason in err. */
int sg_listen_parse(const char *spec, sg_listen_addr_t *out, char *err, size_t errlen);

/* True for 127.0.0.0/8, ::1 and Unix sockets. */
int sg_listen_is_loopback(const sg_listen_addr_t *a);

/* Initialises h, binds it to a and starts listening with cb. On success *port is the
 * bound TCP port (0 for Unix sockets). A stale Unix socket file (nobody accepting on it)
 * is replaced; a live one or any other file is an error. The socket file is created
 * readable and writable by the owner only. On failure h may still need closing:
 * *needs_close says so. Returns 0 or SG_EIO with the reason in err. */
int sg_listen_start(uv_loop_t *loop, const sg_listen_addr_t *a, sg_listen_handle_t *h,
                    uv_connection_cb cb, int *port, int *needs_close, char *err, size_t errlen);

/* Initialises client for the listener's kind and accepts a pending connection into it.
 * Returns 0, or a libuv error; in both cases client is initialised and must be closed. */
int sg_listen_accept(uv_loop_t *loop, const sg_listen_addr_t *a, uv_stream_t *server,
                     sg_listen_handle_t *client);

/* Removes a Unix socket's file once its listener is closed (nothing for TCP). */
void sg_listen_cleanup(const sg_listen_addr_t *a);

/* "http://127.0.0.1:8787", "http://[::1]:8787" or "unix:/path" (with the given port
 * for TCP, which may differ from a->port when that was 0). */
void sg_listen_describe(const sg_listen_addr_t *a, int port, char *out, size_t outlen);

#endif
