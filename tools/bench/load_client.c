/*
 * A load client for MCP servers over stdio. It starts COMMAND with its stdin and stdout
 * on pipes, performs the initialize handshake, then sends warm-up and measured
 * `tools/call echo` requests, keeping up to --concurrency of them in flight on the one
 * pipe (1 means strictly one after another). Every response must be a result carrying
 * the echoed text; anything else is counted as an error and makes the exit status
 * non-zero. It prints one line of key=value figures: latency percentiles in microseconds
 * and calls per second.
 *
 * It measures microseconds, so it stays out of the way: blocking reads into one large
 * buffer, requests formatted by snprintf, a response timed when the read that completed
 * it returned (before it is parsed), and a no-progress watchdog driven by a timer signal
 * instead of a poll() per call.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define READ_CHUNK (1u << 20)
#define MAX_CONCURRENCY 256
#define MAX_REPORTED_ERRORS 5
#define NOT_IN_FLIGHT UINT64_MAX

static pid_t child = -1;
static int to_child = -1, from_child = -1;

/* Watchdog state: the main loop bumps progress for every message it reads. */
static volatile sig_atomic_t progress;
static int stall_limit = 10;

/* The reader's buffer holds bytes [start, len); stamp is when the last read returned. */
static struct {
  char *buf;
  size_t cap, start, len, scan;
  uint64_t stamp;
} rd;

static const char *message = "hello";
static char *message_json; /* message as a JSON string literal, quotes included */
static unsigned long errors;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_alarm(int sig) {
  static sig_atomic_t last = -1, stalled;
  (void)sig;
  if (progress != last) {
    last = progress;
    stalled = 0;
    return;
  }
  if (++stalled < stall_limit) return;
  static const char msg[] = "load_client: no response from the server, giving up\n";
  ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)ignored;
  if (child > 0) kill(child, SIGKILL);
  _exit(3);
}

static void fatal(const char *what) {
  fprintf(stderr, "load_client: %s\n", what);
  if (child > 0) {
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
  }
  exit(2);
}

static void report_error(const char *what, const char *line, size_t len) {
  if (++errors > MAX_REPORTED_ERRORS) return;
  if (len > 300) len = 300;
  fprintf(stderr, "load_client: %s: %.*s\n", what, (int)len, line);
}

static void send_bytes(const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(to_child, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      fatal(errno == EPIPE ? "the server closed its input" : "write to the server failed");
    }
    p += w;
    n -= (size_t)w;
  }
}

/* Returns the next line (without its newline) in *line, valid until the next call. */
static size_t next_line(const char **line) {
  for (;;) {
    char *nl = memchr(rd.buf + rd.scan, '\n', rd.len - rd.scan);
    if (nl != NULL) {
      *line = rd.buf + rd.start;
      size_t n = (size_t)(nl - *line);
      rd.start = rd.scan = (size_t)(nl - rd.buf) + 1;
      progress++;
      return n;
    }
    rd.scan = rd.len;
    if (rd.start > 0) {
      memmove(rd.buf, rd.buf + rd.start, rd.len - rd.start);
      rd.len -= rd.start;
      rd.scan -= rd.start;
      rd.start = 0;
    }
    if (rd.cap - rd.len < READ_CHUNK / 4) {
      char *p = realloc(rd.buf, rd.cap * 2);
      if (p == NULL) fatal("out of memory");
      rd.buf = p;
      rd.cap *= 2;
    }
    ssize_t r = read(from_child, rd.buf + rd.len, rd.cap - rd.len);
    rd.stamp = now_ns();
    if (r < 0) {
      if (errno == EINTR) continue;
      fatal("read from the server failed");
    }
    if (r == 0) fatal("the server closed its output");
    rd.len += (size_t)r;
  }
}

/* Answers a request the server sent us; we offer no client features beyond ping. */
static void answer_server_request(json_t *msg) {
  json_t *id = json_object_get(msg, "id");
  if (id == NULL) return;
  const char *method = json_string_value(json_object_get(msg, "method"));
  json_t *reply = method != NULL && strcmp(method, "ping") == 0
                      ? json_pack("{s:s, s:O, s:{}}", "jsonrpc", "2.0", "id", id, "result")
                      : json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id,
                                  "error", "code", -32601, "message", "Method not found");
  char *text = reply != NULL ? json_dumps(reply, JSON_COMPACT) : NULL;
  if (text == NULL) fatal("out of memory");
  size_t n = strlen(text);
  text[n] = '\n'; /* overwrites the NUL; the length is known */
  send_bytes(text, n + 1);
  free(text);
  json_decref(reply);
}

/*
 * Reads until a response arrives. Returns the parsed message (caller owns it), with
 * *line and *len describing its text for error reports; server requests and
 * notifications met on the way are handled here.
 */
static json_t *next_response(const char **line, size_t *len) {
  for (;;) {
    *len = next_line(line);
    json_error_t err;
    json_t *msg = json_loadb(*line, *len, 0, &err);
    if (!json_is_object(msg)) {
      report_error("not a JSON-RPC message", *line, *len);
      json_decref(msg);
      continue;
    }
    if (json_object_get(msg, "method") != NULL) {
      answer_server_request(msg);
      json_decref(msg);
      continue;
    }
    return msg;
  }
}

/* A tool result is right when its first content item is the text we sent. */
static int result_ok(json_t *msg) {
  json_t *result = json_object_get(msg, "result");
  if (result == NULL || json_is_true(json_object_get(result, "isError"))) return 0;
  json_t *item = json_array_get(json_object_get(result, "content"), 0);
  const char *type = json_string_value(json_object_get(item, "type"));
  const char *text = json_string_value(json_object_get(item, "text"));
  return type != NULL && strcmp(type, "text") == 0 && text != NULL &&
         strcmp(text, message) == 0;
}

static void send_call(uint64_t id) {
  char req[512 + 64];
  int n = snprintf(req, sizeof req,
                   "{\"jsonrpc\":\"2.0\",\"id\":%" PRIu64 ",\"method\":\"tools/call\","
                   "\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":%s}}}\n",
                   id, message_json);
  send_bytes(req, (size_t)n);
}

/*
 * Sends count calls with ids base..base+count-1, at most concurrency in flight, and
 * waits for all of them. When lat is not NULL it receives each call's latency in ns,
 * indexed by call. sent is scratch space of count entries.
 */
static void run_phase(uint64_t base, size_t count, int concurrency, uint64_t *sent,
                      uint64_t *lat) {
  size_t next = 0, done = 0;
  for (size_t i = 0; i < count; i++) sent[i] = NOT_IN_FLIGHT;
  while (next < count && next < (size_t)concurrency) {
    sent[next] = now_ns();
    send_call(base + next++);
  }
  while (done < count) {
    const char *line;
    size_t len;
    json_t *msg = next_response(&line, &len);
    uint64_t stamp = rd.stamp;
    json_t *id = json_object_get(msg, "id");
    json_int_t k = json_is_integer(id) ? json_integer_value(id) - (json_int_t)base : -1;
    if (k < 0 || (size_t)k >= count || sent[k] == NOT_IN_FLIGHT) {
      report_error("response to no pending call", line, len);
      json_decref(msg);
      continue;
    }
    if (!result_ok(msg)) report_error("unexpected response", line, len);
    if (lat != NULL) lat[k] = stamp - sent[k];
    sent[k] = NOT_IN_FLIGHT;
    json_decref(msg);
    done++;
    if (next < count) {
      sent[next] = now_ns();
      send_call(base + next++);
    }
  }
}

static void handshake(void) {
  static const char init[] =
      "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{"
      "\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
      "\"clientInfo\":{\"name\":\"load_client\",\"version\":\"0.1.0\"}}}\n";
  static const char initialized[] =
      "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n";
  send_bytes(init, sizeof init - 1);
  const char *line;
  size_t len;
  json_t *msg = next_response(&line, &len);
  json_t *id = json_object_get(msg, "id");
  if (!json_is_integer(id) || json_integer_value(id) != 0 ||
      !json_is_string(json_object_get(json_object_get(msg, "result"), "protocolVersion"))) {
    if (len > 300) len = 300;
    fprintf(stderr, "load_client: initialize failed: %.*s\n", (int)len, line);
    fatal("no session");
  }
  json_decref(msg);
  send_bytes(initialized, sizeof initialized - 1);
}

static void spawn(char **argv) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) fatal("pipe failed");
  child = fork();
  if (child < 0) fatal("fork failed");
  if (child == 0) {
    signal(SIGPIPE, SIG_DFL);
    if (dup2(in[0], STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0) _exit(127);
    execvp(argv[0], argv);
    fprintf(stderr, "load_client: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  to_child = in[1];
  from_child = out[0];
}

/* Closes the server's input and waits up to two seconds for it to leave. */
static int reap(void) {
  int status = 0;
  close(to_child);
  for (int i = 0; i < 200; i++) {
    pid_t r = waitpid(child, &status, WNOHANG);
    if (r == child) goto exited;
    if (r < 0 && errno != EINTR) return 0;
    nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
  }
  fprintf(stderr, "load_client: the server did not exit when its input closed; killing it\n");
  kill(child, SIGKILL);
  waitpid(child, &status, 0);
  return 0;
exited:
  if (WIFSIGNALED(status)) {
    fprintf(stderr, "load_client: the server died of signal %d\n", WTERMSIG(status));
    return -1;
  }
  if (WEXITSTATUS(status) != 0)
    fprintf(stderr, "load_client: warning: the server exited with status %d\n",
            WEXITSTATUS(status));
  return 0;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted values. */
static double percentile_us(const uint64_t *v, size_t n, double p) {
  size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return (double)v[rank - 1] / 1000.0;
}

static int usage(void) {
  fprintf(stderr,
          "usage: load_client [--calls N] [--warmup W] [--concurrency C] [--timeout S]\n"
          "                   [--message TEXT] -- COMMAND [ARGS...]\n"
          "  --calls N        measured calls (default 20000)\n"
          "  --warmup W       calls before measuring (default 2000)\n"
          "  --concurrency C  calls in flight, 1..%d (default 1: one after another)\n"
          "  --timeout S      give up after S seconds without a response (default 10)\n"
          "  --message TEXT   the text to echo (default \"hello\")\n",
          MAX_CONCURRENCY);
  return 2;
}

static int parse_count(const char *s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || *s == '\0' || *end != '\0' || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

int main(int argc, char **argv) {
  long calls = 20000, warmup = 2000, concurrency = 1, timeout = 10;
  int i;
  for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
    long *target = NULL, lo = 0, hi = 100000000;
    if (strcmp(argv[i], "--calls") == 0)
      target = &calls, lo = 1;
    else if (strcmp(argv[i], "--warmup") == 0)
      target = &warmup;
    else if (strcmp(argv[i], "--concurrency") == 0)
      target = &concurrency, lo = 1, hi = MAX_CONCURRENCY;
    else if (strcmp(argv[i], "--timeout") == 0)
      target = &timeout, lo = 1, hi = 3600;
    else if (strcmp(argv[i], "--message") == 0 && i + 1 < argc) {
      message = argv[++i];
      continue;
    } else
      return usage();
    if (i + 1 >= argc || parse_count(argv[++i], lo, hi, target) < 0) return usage();
  }
  if (i + 1 >= argc) return usage();
  stall_limit = (int)timeout;

  json_t *m = json_string(message);
  message_json = m != NULL ? json_dumps(m, JSON_ENCODE_ANY) : NULL;
  json_decref(m);
  if (message_json == NULL || strlen(message_json) > 512) {
    fprintf(stderr, "load_client: --message must be valid UTF-8 of at most ~500 bytes\n");
    return 2;
  }
  /*
   * Requests are written without reading in between, so what is in flight must fit in
   * a pipe (64 KiB on Linux); otherwise both sides could block writing to each other.
   */
  if ((size_t)concurrency * (strlen(message_json) + 128) > 48 * 1024) {
    fprintf(stderr, "load_client: --concurrency too high for a message this long\n");
    return 2;
  }

  /* A server that goes away must show up as a write error, not kill us. */
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval tick = {.it_interval = {1, 0}, .it_value = {1, 0}};
  setitimer(ITIMER_REAL, &tick, NULL);

  rd.cap = READ_CHUNK;
  rd.buf = malloc(rd.cap);
  size_t scratch = (size_t)(calls > warmup ? calls : warmup);
  uint64_t *sent = malloc(scratch * sizeof *sent);
  uint64_t *lat = malloc((size_t)calls * sizeof *lat);
  if (rd.buf == NULL || sent == NULL || lat == NULL) fatal("out of memory");

  spawn(argv + i + 1);
  handshake();
  if (warmup > 0) run_phase(1, (size_t)warmup, (int)concurrency, sent, NULL);
  uint64_t t0 = now_ns();
  run_phase(1 + (uint64_t)warmup, (size_t)calls, (int)concurrency, sent, lat);
  uint64_t elapsed = now_ns() - t0;

  struct itimerval off = {0};
  setitimer(ITIMER_REAL, &off, NULL);
  if (reap() < 0) errors++;

  qsort(lat, (size_t)calls, sizeof *lat, cmp_u64);
  double sum = 0;
  for (long k = 0; k < calls; k++) sum += (double)lat[k];
  printf("calls=%ld concurrency=%ld errors=%lu p50_us=%.1f p99_us=%.1f mean_us=%.1f "
         "min_us=%.1f max_us=%.1f calls_per_s=%.0f\n",
         calls, concurrency, errors, percentile_us(lat, (size_t)calls, 50),
         percentile_us(lat, (size_t)calls, 99), sum / (double)calls / 1000.0,
         (double)lat[0] / 1000.0, (double)lat[calls - 1] / 1000.0,
         (double)calls * 1e9 / (double)elapsed);
  free(rd.buf);
  free(sent);
  free(lat);
  free(message_json);
  return errors > 0 ? 1 : 0;
}
