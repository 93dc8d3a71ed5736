/*
 * Listening sockets for the HTTP transport: parsing --listen values, binding TCP
 * (IPv4, IPv6) and Unix sockets, accepting with TCP_NODELAY.
 */
#include "transport/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/error.h"

static int parse_port(const char *s, int *port) {
  if (*s == '\0' || strlen(s) > 5) return -1;
  long v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9') return -1;
    v = v * 10 + (*p - '0');
  }
  if (v > 65535) return -1;
  *port = (int)v;
  return 0;
}

int sg_listen_parse(const char *spec, sg_listen_addr_t *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (strncmp(spec, "unix:", 5) == 0) {
    const char *path = spec + 5;
    if (*path == '\0') {
      snprintf(err, errlen, "\"%s\": a Unix socket needs a path (unix:/path/to.sock)", spec);
      return SG_EINVAL;
    }
    if (strlen(path) >= sizeof out->path) {
      snprintf(err, errlen, "\"%s\": a Unix socket path must be shorter than %zu bytes", spec,
               sizeof out->path);
      return SG_EINVAL;
    }
    out->kind = SG_LISTEN_UNIX;
    snprintf(out->path, sizeof out->path, "%s", path);
    return 0;
  }
  out->kind = SG_LISTEN_TCP;
  char host[64];
  const char *port;
  if (spec[0] == '[') {
    const char *close = strchr(spec, ']');
    if (close == NULL || close[1] != ':' || (size_t)(close - spec - 1) >= sizeof host) goto bad;
    memcpy(host, spec + 1, (size_t)(close - spec - 1));
    host[close - spec - 1] = '\0';
    port = close + 2;
    out->family = AF_INET6;
  } else {
    const char *colon = strrchr(spec, ':');
    if (colon == NULL) {
      /* A bare port. */
      snprintf(host, sizeof host, "127.0.0.1");
      port = spec;
    } else {
      if ((size_t)(colon - spec) >= sizeof host || strchr(spec, ':') != colon) goto bad;
      memcpy(host, spec, (size_t)(colon - spec));
      host[colon - spec] = '\0';
      port = colon + 1;
    }
    if (strcmp(host, "localhost") == 0 || host[0] == '\0') snprintf(host, sizeof host, "127.0.0.1");
    out->family = AF_INET;
  }
  if (parse_port(port, &out->port) != 0) goto bad;
  unsigned char bin[sizeof(struct in6_addr)];
  if (strlen(host) >= sizeof out->host || uv_inet_pton(out->family, host, bin) != 0) goto bad;
  memcpy(out->host, host, strlen(host) + 1);
  return 0;
bad:
  snprintf(err, errlen,
           "\"%s\" is not a listening address: use IPV4:PORT, [IPV6]:PORT, localhost:PORT or "
           "unix:/path",
           spec);
  return SG_EINVAL;
}

int sg_listen_is_loopback(const sg_listen_addr_t *a) {
  if (a->kind == SG_LISTEN_UNIX) return 1;
  if (a->family == AF_INET) return strncmp(a->host, "127.", 4) == 0;
  struct in6_addr v6;
  return uv_inet_pton(AF_INET6, a->host, &v6) == 0 &&
         memcmp(&v6, &in6addr_loopback, sizeof v6) == 0;
}

/* A socket file left behind by a process that died: nobody accepts on it. */
static int unix_path_free(const char *path, char *err, size_t errlen) {
  struct stat st;
  if (lstat(path, &st) != 0) return 0;
  if (!S_ISSOCK(st.st_mode)) {
    snprintf(err, errlen, "%s exists and is not a socket", path);
    return -1;
  }
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  struct sockaddr_un sun = {.sun_family = AF_UNIX};
  snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
  int rc = connect(fd, (struct sockaddr *)&sun, sizeof sun);
  int e = errno;
  close(fd);
  if (rc == 0 || e != ECONNREFUSED) {
    snprintf(err, errlen, "%s is in use by another process", path);
    return -1;
  }
  unlink(path);
  return 0;
}

int sg_listen_start(uv_loop_t *loop, const sg_listen_addr_t *a, sg_listen_handle_t *h,
                    uv_connection_cb cb, int *port, int *needs_close, char *err, size_t errlen) {
  int rc;
  *needs_close = 0;
  *port = 0;
  if (a->kind == SG_LISTEN_UNIX) {
    if (unix_path_free(a->path, err, errlen) != 0) return SG_EIO;
    if ((rc = uv_pipe_init(loop, &h->pipe, 0)) < 0) goto fail;
    *needs_close = 1;
    /* The socket file is the only access control on a Unix socket: owner only. */
    mode_t old = umask(077);
    rc = uv_pipe_bind(&h->pipe, a->path);
    umask(old);
    if (rc < 0) goto fail;
  } else {
    struct sockaddr_storage ss;
    if (a->family == AF_INET6)
      rc = uv_ip6_addr(a->host, a->port, (struct sockaddr_in6 *)&ss);
    else
      rc = uv_ip4_addr(a->host, a->port, (struct sockaddr_in *)&ss);
    if (rc < 0) goto fail;
    if ((rc = uv_tcp_init(loop, &h->tcp)) < 0) goto fail;
    *needs_close = 1;
    rc = uv_tcp_bind(&h->tcp, (struct sockaddr *)&ss, a->family == AF_INET6 ? UV_TCP_IPV6ONLY : 0);
    if (rc < 0) goto fail;
  }
  /* libuv reports some bind errors (EADDRINUSE) only when listening starts. */
  if ((rc = uv_listen(&h->stream, 511, cb)) < 0) goto fail;
  if (a->kind == SG_LISTEN_TCP) {
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if ((rc = uv_tcp_getsockname(&h->tcp, (struct sockaddr *)&ss, &len)) < 0) goto fail;
    *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                           : ((struct sockaddr_in *)&ss)->sin_port);
  }
  return 0;
fail:
  if (a->kind == SG_LISTEN_UNIX)
    snprintf(err, errlen, "cannot listen on unix:%s: %s", a->path, uv_strerror(rc));
  else
    snprintf(err, errlen, "cannot listen on %s%s%s:%d: %s", a->family == AF_INET6 ? "[" : "",
             a->host, a->family == AF_INET6 ? "]" : "", a->port, uv_strerror(rc));
  return SG_EIO;
}

int sg_listen_accept(uv_loop_t *loop, const sg_listen_addr_t *a, uv_stream_t *server,
                     sg_listen_handle_t *client) {
  int rc = a->kind == SG_LISTEN_UNIX ? uv_pipe_init(loop, &client->pipe, 0)
                                     : uv_tcp_init(loop, &client->tcp);
  if (rc < 0) {
    /* The caller closes client whatever happens, so it must be a handle. */
    uv_pipe_init(loop, &client->pipe, 0);
    return rc;
  }
  rc = uv_accept(server, &client->stream);
  if (rc == 0 && a->kind == SG_LISTEN_TCP) uv_tcp_nodelay(&client->tcp, 1);
  return rc;
}

void sg_listen_cleanup(const sg_listen_addr_t *a) {
  if (a->kind == SG_LISTEN_UNIX) unlink(a->path);
}

void sg_listen_describe(const sg_listen_addr_t *a, int port, char *out, size_t outlen) {
  if (a->kind == SG_LISTEN_UNIX)
    snprintf(out, outlen, "unix:%s", a->path);
  else if (a->family == AF_INET6)
    snprintf(out, outlen, "http://[%s]:%d", a->host, port);
  else
    snprintf(out, outlen, "http://%s:%d", a->host, port);
}
