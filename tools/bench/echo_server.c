/*
 * A minimal MCP server over stdio with one tool, `echo`, that returns its `message`
 * argument as text. It is the baseline of the benchmark (so it does as little as it can:
 * one large read buffer, one jansson parse per message, one write() per response) and a
 * small, predictable downstream server for tests. Messages are newline-delimited
 * JSON-RPC 2.0, one per line; logs, if any, go to stderr. It exits when stdin closes.
 *
 * Ownership: every json_t built here is owned by the function that built it, except where
 * a `_new` jansson call steals it into a parent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#define READ_CHUNK (1u << 20)
#define LATEST_VERSION "2025-11-25"

#define RPC_PARSE_ERROR (-32700)
#define RPC_INVALID_REQUEST (-32600)
#define RPC_METHOD_NOT_FOUND (-32601)
#define RPC_INVALID_PARAMS (-32602)

static const char *const supported_versions[] = {"2025-03-26", "2025-06-18", LATEST_VERSION};

/* Output scratch space, grown when a response does not fit. */
static char *out_buf;
static size_t out_cap;

static int write_all(const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(STDOUT_FILENO, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Serialises msg (borrowed) compactly, appends a newline and writes it in one call. */
static int send_message(const json_t *msg) {
  size_t n = json_dumpb(msg, out_buf, out_cap, JSON_COMPACT);
  if (n == 0) return -1;
  if (n + 1 > out_cap) {
    size_t cap = out_cap;
    while (cap < n + 1) cap *= 2;
    char *p = realloc(out_buf, cap);
    if (p == NULL) return -1;
    out_buf = p;
    out_cap = cap;
    n = json_dumpb(msg, out_buf, out_cap, JSON_COMPACT);
  }
  out_buf[n] = '\n';
  return write_all(out_buf, n + 1);
}

/* Sends a result; steals result. id is borrowed. */
static int send_result(json_t *id, json_t *result) {
  json_t *msg = json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", result);
  if (msg == NULL) return -1;
  int rc = send_message(msg);
  json_decref(msg);
  return rc;
}

/* Sends an error; id is borrowed and may be NULL (sent as null). */
static int send_error(json_t *id, int code, const char *message) {
  json_t *msg = json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id",
                          id != NULL ? id : json_null(), "error", "code", code,
                          "message", message);
  if (msg == NULL) return -1;
  int rc = send_message(msg);
  json_decref(msg);
  return rc;
}

static int handle_initialize(json_t *id, json_t *params) {
  const char *asked = json_string_value(json_object_get(params, "protocolVersion"));
  const char *version = LATEST_VERSION;
  for (size_t i = 0; asked != NULL && i < sizeof supported_versions / sizeof *supported_versions;
       i++)
    if (strcmp(asked, supported_versions[i]) == 0) version = supported_versions[i];
  return send_result(id, json_pack("{s:s, s:{s:{}}, s:{s:s, s:s}}", "protocolVersion",
                                   version, "capabilities", "tools", "serverInfo", "name",
                                   "bench-echo", "version", "0.1.0"));
}

static int handle_tools_list(json_t *id) {
  return send_result(
      id, json_pack("{s:[{s:s, s:s, s:{s:s, s:{s:{s:s}}, s:[s]}}]}", "tools", "name", "echo",
                    "description", "Echoes back the message it is given.", "inputSchema",
                    "type", "object", "properties", "message", "type", "string",
                    "required", "message"));
}

static json_t *text_content(const char *text, size_t len, int is_error) {
  json_t *result =
      json_pack("{s:[{s:s, s:s%}]}", "content", "type", "text", "text", text, len);
  if (result != NULL && is_error) json_object_set_new(result, "isError", json_true());
  return result;
}

static int handle_tools_call(json_t *id, json_t *params) {
  const char *name = json_string_value(json_object_get(params, "name"));
  if (name == NULL) return send_error(id, RPC_INVALID_PARAMS, "params.name must be a string");
  if (strcmp(name, "echo") != 0) return send_error(id, RPC_INVALID_PARAMS, "Unknown tool");
  json_t *message = json_object_get(json_object_get(params, "arguments"), "message");
  if (!json_is_string(message)) {
    static const char why[] = "arguments.message must be a string";
    return send_result(id, text_content(why, sizeof why - 1, 1));
  }
  return send_result(id,
                     text_content(json_string_value(message), json_string_length(message), 0));
}

/* Handles one line (without its newline). Returns -1 only when stdout is gone. */
static int handle_line(const char *line, size_t len) {
  while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ')) len--;
  if (len == 0) return 0;

  json_error_t err;
  json_t *msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
  if (msg == NULL) return send_error(NULL, RPC_PARSE_ERROR, "Parse error");

  int rc = 0;
  json_t *id = json_object_get(msg, "id");
  json_t *method = json_object_get(msg, "method");
  if (!json_is_object(msg)) {
    rc = send_error(NULL, RPC_INVALID_REQUEST, "Invalid Request");
  } else if (method == NULL) {
    /* A response to a request this server never sends: nothing to do. */
  } else if (!json_is_string(method) ||
             (id != NULL && !json_is_string(id) && !json_is_integer(id))) {
    rc = send_error(json_is_string(id) || json_is_integer(id) ? id : NULL, RPC_INVALID_REQUEST,
                    "Invalid Request");
  } else if (id == NULL) {
    /* Notifications (initialized, cancelled, ...) need no answer. */
  } else {
    const char *m = json_string_value(method);
    json_t *params = json_object_get(msg, "params");
    if (strcmp(m, "tools/call") == 0)
      rc = handle_tools_call(id, params);
    else if (strcmp(m, "initialize") == 0)
      rc = handle_initialize(id, params);
    else if (strcmp(m, "tools/list") == 0)
      rc = handle_tools_list(id);
    else if (strcmp(m, "ping") == 0)
      rc = send_result(id, json_object());
    else
      rc = send_error(id, RPC_METHOD_NOT_FOUND, "Method not found");
  }
  json_decref(msg);
  return rc;
}

int main(void) {
  size_t cap = READ_CHUNK, len = 0;
  char *buf = malloc(cap);
  out_cap = 64 * 1024;
  out_buf = malloc(out_cap);
  if (buf == NULL || out_buf == NULL) return 1;

  for (;;) {
    if (cap - len < READ_CHUNK / 4) {
      char *p = realloc(buf, cap * 2);
      if (p == NULL) return 1;
      buf = p;
      cap *= 2;
    }
    ssize_t n = read(STDIN_FILENO, buf + len, cap - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("echo_server: read");
      return 1;
    }
    if (n == 0) {
      /* A last message without its newline still deserves an answer. */
      if (len > 0) handle_line(buf, len);
      break;
    }

    /* Only the bytes just read can hold a newline that ends a line. */
    size_t start = 0, scan = len;
    len += (size_t)n;
    char *nl;
    while ((nl = memchr(buf + scan, '\n', len - scan)) != NULL) {
      size_t end = (size_t)(nl - buf);
      if (handle_line(buf + start, end - start) < 0) return 0;
      start = scan = end + 1;
    }
    if (start > 0) {
      memmove(buf, buf + start, len - start);
      len -= start;
    }
  }
  free(buf);
  free(out_buf);
  return 0;
}
