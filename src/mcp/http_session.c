/*
 * Streamable HTTP, session era: the /mcp endpoint's POST, GET and DELETE mapped onto
 * sg_session_t. One MCP session spans many HTTP requests; its sg_conn_t is an hsess_t,
 * which routes each message the session sends:
 *
 *   response (id X)              ─▶ the POST of request X: its JSON answer, or the last
 *                                   event of its SSE stream (which then ends)
 *   response (id null) while a   ─▶ that POST, as 400 (the message was refused)
 *     POST is being delivered
 *   notifications/progress for   ─▶ the SSE stream of the request that gave the token
 *     a request's progressToken
 *   anything else                ─▶ the GET stream when one was opened, else dropped
 *
 * SSE streams outlive their HTTP connections: every event is numbered "STREAM-SEQ" and
 * kept in a bounded buffer, so a client whose connection dropped resumes with GET and
 * Last-Event-ID. A POST stream whose response was produced while nobody was attached
 * waits (within the session's stream budget) for that resumption. Losing a connection
 * never cancels a request; notifications/cancelled or DELETE does.
 *
 * A session's life (performed by the named functions):
 *
 *   POST initialize (handle_post) ──result──▶ in the table, id issued ──▶ requests ...
 *                                 ──error───▶ ended at once (no id)
 *   DELETE, idle past session_idle_ms (sweep), making room at the session limit
 *   (session_room), shutdown ──▶ hs_end ──▶ on_closed
 *     (calls cancelled and audited) ──▶ hs_close: open requests answered with an error,
 *     streams ended ──▶ session freed ──▶ hsess_free
 */
#include "mcp/http_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "json/parse.h"
#include "json/rpc.h"
#include "mcp/session.h"
#include "mcp/session_internal.h"
#include "mcp/stateless.h"
#include "transport/sse.h"

#define BUCKETS 256
#define SESSION_ID_HEX 32
#define SWEEP_MS 15000
#define PING_AFTER_MS 15000
#define METADATA_PATH "/.well-known/oauth-protected-resource"

typedef struct hsess hsess_t;
typedef struct post post_t;
typedef struct stream stream_t;
typedef struct subject subject_t;

/* What one subject holds, for the per-subject limits (with bearer authentication only:
 * without it every client is the operator). Lives while the subject has a session. */
struct subject {
  subject_t *next; /* in its bucket */
  unsigned sessions;
  unsigned streams;
  char name[]; /* the subject */
};

/* A request whose response has not been produced yet. */
struct post {
  post_t *next;
  hsess_t *hs;
  json_t *id;
  json_t *progress_token; /* from params._meta, or NULL */
  sg_http_request_t *req; /* answered as JSON: the open request, NULL once it went away */
  stream_t *stream;       /* answered as SSE */
  int initialize;
};

struct stream {
  stream_t *next;
  hsess_t *hs;
  unsigned num;      /* 0: the GET stream; POST streams count from 1 */
  uint64_t next_seq; /* of the next event */
  uint64_t sent_seq; /* the last event written to an attached request */
  sg_sse_ring_t ring;
  sg_http_request_t *req; /* the attached response, or NULL */
  post_t *post;           /* the request it answers, until answered */
  int answered;           /* nothing more will be sent on it */
  uint64_t last_write_ms;
};

struct hsess {
  sg_conn_t conn; /* first: the session sends through it */
  hsess_t *next;  /* in its bucket */
  sg_http_mcp_t *m;
  sg_session_t *session;
  char id[SESSION_ID_HEX + 1];
  char *owner;     /* the principal, "subject\nrole\ntenant\nenv": only it may use the id */
  subject_t *subj; /* counts this session and its streams; NULL without bearer auth */
  char version[16];
  int in_table;
  int init_failed;
  int ending;
  int end_err;
  post_t *posts;
  stream_t *streams;
  unsigned nstreams;
  stream_t *get;
  unsigned next_stream;
  uint64_t last_used_us;         /* fine-grained, to tell the least recently used apart */
  sg_http_request_t *delivering; /* the POST whose body the session is reading */
  int delivered;                 /* ... and it has been answered */
};

struct sg_http_mcp {
  sg_gateway_t *gw;
  sg_http_mcp_config_t cfg;
  sg_http_server_t *srv;
  char *subject, *role, *tenant, *env;
  json_t *claims; /* the operator's token's claims, or NULL */
  hsess_t *buckets[BUCKETS];
  subject_t *subjects[BUCKETS];
  unsigned nsessions;
  uv_timer_t sweep;
  int closing;
  int pending_closes;
  sg_stateless_t *stateless; /* the stateless era's requests */
  void (*done)(void *arg);
  void *done_arg;
};

static uint64_t now_ms(void) {
  return sg_mono_us() / 1000;
}

/* ---- configuration ----------------------------------------------------------------- */

const char sg_http_mcp_usage[] =
    "HTTP (Streamable HTTP, MCP session era):\n"
    "  --listen ADDR          serve on 127.0.0.1:PORT, [::1]:PORT, localhost:PORT or\n"
    "                         unix:/path (repeatable; PORT 0 picks a free port)\n"
    "  --stdio                also serve stdio (the default without --listen)\n"
    "  --http-path PATH       the MCP endpoint (default /mcp)\n"
    "  --allow-origin ORIGIN  accept requests from this Origin (repeatable); without it\n"
    "                         only http://localhost|127.0.0.1|[::1] on the port are\n"
    "  --allow-host NAME      accept this Host, NAME or NAME:PORT (repeatable)\n"
    "  --max-connections N    open connections (default 256)\n"
    "  --max-sessions N       MCP sessions (default 1024); a new one ends the session\n"
    "                         unused longest\n"
    "  --header-timeout-ms MS --body-timeout-ms MS --idle-timeout-ms MS\n"
    "                         request headers, body, keep-alive (10000, 30000, 60000)\n"
    "  --session-idle-ms MS   end a session unused for this long (default 1800000)\n"
    "With --auth, every HTTP request carries Authorization: Bearer JWT (verified as\n"
    "--auth says) and the token is the client's identity; --role, when given, must be\n"
    "among the token's roles, else the token must hold exactly one role of the matrix:\n"
    "  --resource-url URL     the endpoint's public URL for the protected-resource\n"
    "                         metadata (default http://HOST/PATH from the request)\n"
    "  --max-sessions-per-subject N  (default 16) --max-streams-per-subject N  (32)\n"
    "Without --auth every HTTP client acts for the identity above, unauthenticated:\n"
    "  --insecure-no-auth     allow that on a non-loopback address\n";

void sg_http_mcp_config_default(sg_http_mcp_config_t *cfg) {
  memset(cfg, 0, sizeof *cfg);
  sg_http_config_default(&cfg->http);
  cfg->path = "/mcp";
  cfg->max_sessions = 1024;
  cfg->max_streams = 32;
  cfg->session_idle_ms = 30u * 60u * 1000u;
  cfg->replay_events = 256;
  cfg->replay_bytes = 1u << 20;
  cfg->subject_sessions = 16;
  cfg->subject_streams = 32;
}

static int parse_num(const char *v, uint64_t min, uint64_t max, uint64_t *out) {
  char *end;
  if (*v < '0' || *v > '9') return -1;
  unsigned long long n = strtoull(v, &end, 10);
  if (*end || n < min || n > max) return -1;
  *out = n;
  return 0;
}

/* An origin is scheme://host[:port]: nothing after the authority. */
static int origin_ok(const char *v) {
  const char *sep = strstr(v, "://");
  return sep && sep != v && sep[3] && strchr(sep + 3, '/') == NULL;
}

int sg_http_mcp_option(sg_http_mcp_config_t *cfg, const char *name, const char *value, char *err,
                       size_t errlen) {
  uint64_t n;
  if (strcmp(name, "listen") == 0) {
    if (cfg->nlisten == SG_HTTP_MAX_LISTENERS) {
      snprintf(err, errlen, "at most %d --listen addresses", SG_HTTP_MAX_LISTENERS);
      return SG_EINVAL;
    }
    if (sg_listen_parse(value, &cfg->listen[cfg->nlisten], err, errlen) != 0) return SG_EINVAL;
    cfg->nlisten++;
  } else if (strcmp(name, "allow-origin") == 0 || strcmp(name, "allow-host") == 0) {
    int origin = name[6] == 'o';
    size_t *count = origin ? &cfg->norigins : &cfg->nhosts;
    if (*count == SG_HTTP_MAX_ALLOWED) {
      snprintf(err, errlen, "at most %d --%s values", SG_HTTP_MAX_ALLOWED, name);
      return SG_EINVAL;
    }
    if (origin && !origin_ok(value)) {
      snprintf(err, errlen,
               "--allow-origin \"%s\": an origin is scheme://host[:port], without a path", value);
      return SG_EINVAL;
    }
    if (!origin && (*value == '\0' || strpbrk(value, "/ \t"))) {
      snprintf(err, errlen, "--allow-host \"%s\": give a host name, optionally with :PORT", value);
      return SG_EINVAL;
    }
    (origin ? cfg->origins : cfg->hosts)[(*count)++] = value;
  } else if (strcmp(name, "http-path") == 0) {
    if (value[0] != '/' || strpbrk(value, "?# ")) {
      snprintf(err, errlen, "--http-path must start with / and hold no query");
      return SG_EINVAL;
    }
    cfg->path = value;
  } else if (strcmp(name, "resource-url") == 0) {
    /* Quoted into WWW-Authenticate and the metadata: nothing that could end a quoted
     * string or a header. */
    int ok = (strncmp(value, "http://", 7) == 0 || strncmp(value, "https://", 8) == 0) &&
             strpbrk(value, "\"\\ \t?#") == NULL && strchr(strstr(value, "://") + 3, '/');
    for (const char *c = value; ok && *c; c++) ok = *c > 0x20 && *c < 0x7f;
    if (!ok) {
      snprintf(err, errlen,
               "--resource-url must be an http(s) URL with a path, e.g. "
               "https://gw.example.com/mcp, without query or fragment");
      return SG_EINVAL;
    }
    cfg->resource_url = value;
  } else if (strcmp(name, "max-sessions-per-subject") == 0 ||
             strcmp(name, "max-streams-per-subject") == 0) {
    if (parse_num(value, 1, 100000, &n) != 0) {
      snprintf(err, errlen, "--%s must be a number from 1 to 100000", name);
      return SG_EINVAL;
    }
    if (strcmp(name, "max-sessions-per-subject") == 0)
      cfg->subject_sessions = (unsigned)n;
    else
      cfg->subject_streams = (unsigned)n;
  } else if (strcmp(name, "max-connections") == 0 || strcmp(name, "max-sessions") == 0) {
    if (parse_num(value, 1, 1000000, &n) != 0) {
      snprintf(err, errlen, "--%s must be a number from 1 to 1000000", name);
      return SG_EINVAL;
    }
    if (name[4] == 'c')
      cfg->http.max_connections = (unsigned)n;
    else
      cfg->max_sessions = (unsigned)n;
  } else if (strcmp(name, "header-timeout-ms") == 0 || strcmp(name, "body-timeout-ms") == 0 ||
             strcmp(name, "idle-timeout-ms") == 0 || strcmp(name, "session-idle-ms") == 0) {
    if (parse_num(value, 1, 7u * 24u * 3600u * 1000u, &n) != 0) {
      snprintf(err, errlen, "--%s must be a number of milliseconds", name);
      return SG_EINVAL;
    }
    if (name[0] == 'h')
      cfg->http.header_timeout_ms = n;
    else if (name[0] == 'b')
      cfg->http.body_timeout_ms = n;
    else if (name[0] == 'i')
      cfg->http.idle_timeout_ms = n;
    else
      cfg->session_idle_ms = n;
  } else {
    snprintf(err, errlen, "unknown HTTP option --%s", name);
    return SG_EINVAL;
  }
  return 0;
}

/* ---- HTTP answers ------------------------------------------------------------------ */

/* CORS for origins that passed the server's check: browsers need them to read responses
 * and the session id. */
static void cors_headers(sg_http_request_t *req, sg_buf_t *h) {
  const char *origin = sg_http_header(req, "origin");
  if (origin == NULL) return;
  sg_buf_printf(h,
                "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n"
                "Access-Control-Expose-Headers: Mcp-Session-Id, WWW-Authenticate\r\n",
                origin);
}

static int respond_json(sg_http_request_t *req, int status, const json_t *msg, const char *extra) {
  sg_buf_t h;
  sg_buf_init(&h);
  cors_headers(req, &h);
  if (extra) sg_buf_append_str(&h, extra);
  char *body = json_dumps(msg, JSON_COMPACT);
  int rc = body ? sg_http_respond(req, status, "application/json", h.data, body, strlen(body))
                : sg_http_respond(req, 500, NULL, h.data, NULL, 0);
  free(body);
  sg_buf_free(&h);
  return rc;
}

/* A response without a body (202, 204). */
static void respond_empty(sg_http_request_t *req, int status, const char *extra) {
  sg_buf_t h;
  sg_buf_init(&h);
  cors_headers(req, &h);
  if (extra) sg_buf_append_str(&h, extra);
  sg_http_respond(req, status, NULL, h.data, NULL, 0);
  sg_buf_free(&h);
}

/* An HTTP error with a JSON-RPC error body that has no id, as the transport allows. */
static void refuse_code(sg_http_request_t *req, int status, int code, const char *reason,
                        const char *message, const char *extra) {
  sg_debug("http: %s %s refused (%d %s): %s", req->method, req->path, status, reason, message);
  json_t *e = sg_rpc_error(NULL, code, message, json_pack("{s:s}", "reason", reason));
  respond_json(req, status, e, extra);
  json_decref(e);
}

static void refuse(sg_http_request_t *req, int status, const char *reason, const char *message,
                   const char *extra) {
  refuse_code(req, status, -32600, reason, message, extra);
}

/* ---- streams ----------------------------------------------------------------------- */

static int version_at_least(const hsess_t *hs, const char *v) {
  return hs->version[0] && strcmp(hs->version, v) >= 0;
}

static void stream_detach(stream_t *st) {
  if (st->req) {
    st->req->on_abort = NULL;
    st->req->data = NULL;
    st->req = NULL;
  }
}

static void stream_free(stream_t *st) {
  hsess_t *hs = st->hs;
  if (st->req) {
    sg_http_request_t *req = st->req;
    stream_detach(st);
    sg_http_stream_end(req);
  }
  if (st->post) st->post->stream = NULL;
  for (stream_t **pp = &hs->streams; *pp; pp = &(*pp)->next)
    if (*pp == st) {
      *pp = st->next;
      break;
    }
  if (hs->get == st) hs->get = NULL;
  hs->nstreams--;
  if (hs->subj) hs->subj->streams--;
  sg_sse_ring_free(&st->ring);
  free(st);
}

/* Writes bytes to the attached request; a failure means the request is over. */
static int stream_write(stream_t *st, const char *data, size_t len) {
  if (st->req == NULL) return -1;
  if (sg_http_stream_write(st->req, data, len) != 0) {
    st->req = NULL; /* the server finished it; no on_abort follows */
    return -1;
  }
  st->last_write_ms = now_ms();
  return 0;
}

static int replay_one(void *arg, const char *data, size_t len) {
  return stream_write(arg, data, len);
}

/* Sends msg as the stream's next event, keeping a copy for resumption. */
static void stream_emit(stream_t *st, const json_t *msg) {
  char id[48];
  uint64_t seq = st->next_seq++;
  snprintf(id, sizeof id, "%u-%llu", st->num, (unsigned long long)seq);
  sg_buf_t b;
  sg_buf_init(&b);
  if (sg_sse_format(&b, id, msg) == 0) {
    sg_sse_ring_push(&st->ring, seq, b.data, b.len);
    if (stream_write(st, b.data, b.len) == 0) st->sent_seq = seq;
  }
  sg_buf_free(&b);
}

/* The stream has sent its last event: end it if a client is attached; otherwise it waits
 * for a resumption. */
static void stream_done(stream_t *st) {
  st->answered = 1;
  if (st->post) st->post->stream = NULL;
  st->post = NULL;
  if (st->req) stream_free(st);
}

static void stream_aborted(sg_http_request_t *req) {
  stream_t *st = req->data;
  st->req = NULL;
  sg_debug("http: session %.8s: stream %u lost its connection", st->hs->id, st->num);
}

/* Whether the session's subject holds as many streams as it may. */
static int subject_streams_full(const hsess_t *hs) {
  return hs->subj && hs->subj->streams >= hs->m->cfg.subject_streams;
}

/* Makes room for one more stream, within the session's limit and its subject's: the
 * session's oldest stream nobody is attached to goes, preferring one whose request has
 * been answered. (Only the session's own: one session never loses a stream to another.) */
static int stream_room(hsess_t *hs) {
  if (hs->nstreams < hs->m->cfg.max_streams && !subject_streams_full(hs)) return 0;
  stream_t *victim = NULL;
  for (int pass = 0; pass < 2 && victim == NULL; pass++)
    for (stream_t *st = hs->streams; st && victim == NULL; st = st->next)
      if (st->req == NULL && st != hs->get && (pass == 1 || st->answered)) victim = st;
  if (victim == NULL) return -1;
  sg_debug("http: session %.8s: dropping stream %u to make room", hs->id, victim->num);
  stream_free(victim);
  return 0;
}

static stream_t *stream_new(hsess_t *hs, unsigned num) {
  if (stream_room(hs) != 0) return NULL;
  stream_t *st = calloc(1, sizeof *st);
  if (st == NULL) return NULL;
  st->hs = hs;
  st->num = num;
  st->next_seq = 1;
  sg_sse_ring_init(&st->ring, hs->m->cfg.replay_events, hs->m->cfg.replay_bytes);
  /* Newest last, so eviction finds the oldest first. */
  stream_t **pp = &hs->streams;
  while (*pp) pp = &(*pp)->next;
  *pp = st;
  hs->nstreams++;
  if (hs->subj) hs->subj->streams++;
  return st;
}

/* Attaches req to st as an SSE response and sends what followed event after. */
static int stream_attach(stream_t *st, sg_http_request_t *req, uint64_t after) {
  sg_buf_t h;
  sg_buf_init(&h);
  sg_buf_append_str(&h, "Cache-Control: no-cache, no-transform\r\nX-Accel-Buffering: no\r\n");
  cors_headers(req, &h);
  int rc = sg_http_stream_begin(req, 200, "text/event-stream", h.data);
  sg_buf_free(&h);
  if (rc != 0) return -1;
  st->req = req;
  req->data = st;
  req->on_abort = stream_aborted;
  st->last_write_ms = now_ms();
  if (sg_sse_ring_replay(&st->ring, after, replay_one, st) == 0 && st->req)
    st->sent_seq = st->next_seq - 1;
  /* From 2025-11-25 on, an event with an id and no data tells the client it can resume
   * this stream before any message is ready. */
  if (st->req && !st->answered && version_at_least(st->hs, "2025-11-25")) {
    char id[48];
    snprintf(id, sizeof id, "%u-%llu", st->num, (unsigned long long)st->next_seq++);
    sg_buf_t b;
    sg_buf_init(&b);
    if (sg_sse_format_prime(&b, id) == 0) stream_write(st, b.data, b.len);
    sg_buf_free(&b);
  }
  /* Answered and now delivered: the stream is done. (If the replay failed, it stays for
   * another attempt.) */
  if (st->answered && st->req) stream_free(st);
  return 0;
}

static stream_t *find_stream(hsess_t *hs, unsigned num) {
  for (stream_t *st = hs->streams; st; st = st->next)
    if (st->num == num) return st;
  return NULL;
}

/* "STREAM-SEQ", as stream_emit writes them. */
static int parse_event_id(const char *v, unsigned *num, uint64_t *seq) {
  char *end;
  if (*v < '0' || *v > '9') return -1;
  unsigned long n = strtoul(v, &end, 10);
  if (*end != '-' || n > 0xffffffffUL || end[1] < '0' || end[1] > '9') return -1;
  unsigned long long s = strtoull(end + 1, &end, 10);
  if (*end) return -1;
  *num = (unsigned)n;
  *seq = s;
  return 0;
}

/* ---- requests awaiting their response ---------------------------------------------- */

static post_t *find_post(hsess_t *hs, const json_t *id) {
  for (post_t *p = hs->posts; p; p = p->next)
    if (json_equal(p->id, (json_t *)id)) return p;
  return NULL;
}

static post_t *find_post_by_token(hsess_t *hs, const json_t *token) {
  if (token == NULL) return NULL;
  for (post_t *p = hs->posts; p; p = p->next)
    if (p->progress_token && json_equal(p->progress_token, (json_t *)token)) return p;
  return NULL;
}

static void post_aborted(sg_http_request_t *req) {
  post_t *p = req->data;
  p->req = NULL;
}

static void post_free(post_t *p) {
  hsess_t *hs = p->hs;
  for (post_t **pp = &hs->posts; *pp; pp = &(*pp)->next)
    if (*pp == p) {
      *pp = p->next;
      break;
    }
  if (p->req) {
    p->req->on_abort = NULL;
    p->req->data = NULL;
  }
  if (p->stream) p->stream->post = NULL;
  json_decref(p->id);
  json_decref(p->progress_token);
  free(p);
}

static void table_insert(hsess_t *hs);

/* Delivers the response to request p and forgets p. */
static void post_answer(post_t *p, const json_t *msg) {
  hsess_t *hs = p->hs;
  if (p->initialize) {
    json_t *result = json_object_get(msg, "result");
    const char *v = json_string_value(json_object_get(result, "protocolVersion"));
    if (result && v) {
      snprintf(hs->version, sizeof hs->version, "%s", v);
      table_insert(hs);
    } else {
      hs->init_failed = 1;
    }
  }
  if (p->stream) {
    stream_t *st = p->stream;
    stream_emit(st, msg);
    stream_done(st);
  } else if (p->req) {
    sg_http_request_t *req = p->req;
    p->req->on_abort = NULL;
    p->req = NULL;
    char extra[64] = "";
    if (p->initialize && hs->in_table)
      snprintf(extra, sizeof extra, "Mcp-Session-Id: %s\r\n", hs->id);
    if (hs->delivering == req) hs->delivered = 1;
    respond_json(req, 200, msg, extra);
  } else {
    sg_debug("http: session %.8s: the client left before its response; dropped", hs->id);
  }
  post_free(p);
}

/* The client cancelled request p: it gets no response, so its HTTP request ends here. */
static void post_cancelled(post_t *p) {
  if (p->stream) {
    stream_t *st = p->stream;
    st->answered = 1;
    stream_free(st); /* ends the response; nothing is left to resume */
  } else if (p->req) {
    json_t *e =
        sg_rpc_error(p->id, sg_err_rpc_code(SG_ECANCELLED), "request cancelled by the client",
                     json_pack("{s:s}", "reason", sg_err_reason(SG_ECANCELLED)));
    sg_http_request_t *req = p->req;
    p->req->on_abort = NULL;
    p->req = NULL;
    respond_json(req, 200, e, NULL);
    json_decref(e);
  }
  post_free(p);
}

/* ---- the session's connection ------------------------------------------------------ */

static int hs_send(sg_conn_t *c, const json_t *msg) {
  hsess_t *hs = sg_container_of(c, hsess_t, conn);
  json_t *id = json_object_get(msg, "id");
  json_t *method = json_object_get(msg, "method");
  if (method == NULL) {
    post_t *p = id && !json_is_null(id) ? find_post(hs, id) : NULL;
    if (p) {
      post_answer(p, msg);
    } else if (hs->delivering && !hs->delivered) {
      hs->delivered = 1;
      respond_json(hs->delivering, 400, msg, NULL);
    } else {
      sg_debug("http: session %.8s: no open request for a response; dropped", hs->id);
    }
    return 0;
  }
  const char *name = json_string_value(method);
  if (id == NULL && name && strcmp(name, "notifications/progress") == 0) {
    post_t *p =
        find_post_by_token(hs, json_object_get(json_object_get(msg, "params"), "progressToken"));
    if (p) {
      if (p->stream)
        stream_emit(p->stream, msg);
      else
        sg_debug("http: session %.8s: progress for a request answered as JSON; dropped", hs->id);
      return 0;
    }
  }
  if (hs->get) {
    stream_emit(hs->get, msg);
    return 0;
  }
  sg_debug("http: session %.8s: no GET stream for %s; dropped", hs->id, name ? name : "a message");
  return 0;
}

static void hsess_free(void *arg);

/* The session is closing (after on_closed has cancelled its calls): every request still
 * open gets an error, every stream ends. */
static void hs_close(sg_conn_t *c, void (*done)(void *arg), void *arg) {
  hsess_t *hs = sg_container_of(c, hsess_t, conn);
  int err = hs->end_err ? hs->end_err : SG_ESHUTDOWN;
  const char *why = err == SG_ESHUTDOWN ? "the gateway is shutting down" : "the session has ended";
  while (hs->posts) {
    post_t *p = hs->posts;
    json_t *e = sg_rpc_error(p->id, sg_err_rpc_code(err), why,
                             json_pack("{s:s}", "reason", sg_err_reason(err)));
    post_answer(p, e);
    json_decref(e);
  }
  while (hs->streams) stream_free(hs->streams);
  if (done) done(arg);
}

static uint64_t bucket_of(const char *id) {
  unsigned v = 0;
  sscanf(id, "%2x", &v);
  return v % BUCKETS;
}

static void table_insert(hsess_t *hs) {
  if (hs->in_table) return;
  uint64_t b = bucket_of(hs->id);
  hs->next = hs->m->buckets[b];
  hs->m->buckets[b] = hs;
  hs->in_table = 1;
}

static void table_remove(hsess_t *hs) {
  if (!hs->in_table) return;
  for (hsess_t **pp = &hs->m->buckets[bucket_of(hs->id)]; *pp; pp = &(*pp)->next)
    if (*pp == hs) {
      *pp = hs->next;
      break;
    }
  hs->in_table = 0;
}

/* Session ids are secrets: compared in time that does not depend on where they differ. */
static int id_equal(const char *a, const char *b) {
  unsigned char diff = 0;
  for (size_t i = 0; i < SESSION_ID_HEX; i++) diff |= (unsigned char)(a[i] ^ b[i]);
  return diff == 0;
}

static hsess_t *table_find(sg_http_mcp_t *m, const char *id) {
  if (strlen(id) != SESSION_ID_HEX || strspn(id, "0123456789abcdef") != SESSION_ID_HEX) return NULL;
  for (hsess_t *hs = m->buckets[bucket_of(id)]; hs; hs = hs->next)
    if (id_equal(hs->id, id)) return hs;
  return NULL;
}

/* Ends the session: its calls are cancelled and audited (as when a stdio client goes),
 * requests still open get err. hs is freed before this returns. */
static void hs_end(hsess_t *hs, int err) {
  if (hs->ending) return;
  hs->ending = 1;
  hs->end_err = err;
  table_remove(hs);
  sg_info("http: session %.8s ended (%s)", hs->id,
          err == SG_ESHUTDOWN ? "shutdown" : sg_err_reason(err));
  hs->conn.handler->on_closed(&hs->conn);
}

/* ---- subjects ---------------------------------------------------------------------- */

static size_t subject_bucket(const char *name) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (const unsigned char *c = (const unsigned char *)name; *c; c++) h = (h ^ *c) * 16777619u;
  return h % BUCKETS;
}

static subject_t *subject_find(const sg_http_mcp_t *m, const char *name) {
  for (subject_t *u = m->subjects[subject_bucket(name)]; u; u = u->next)
    if (strcmp(u->name, name) == 0) return u;
  return NULL;
}

/* The subject's entry, created when it has none; NULL without memory. */
static subject_t *subject_get(sg_http_mcp_t *m, const char *name) {
  subject_t *u = subject_find(m, name);
  if (u) return u;
  size_t len = strlen(name);
  if ((u = calloc(1, sizeof *u + len + 1)) == NULL) return NULL;
  memcpy(u->name, name, len + 1);
  size_t b = subject_bucket(name);
  u->next = m->subjects[b];
  m->subjects[b] = u;
  return u;
}

/* Forgets u once it holds nothing. */
static void subject_put(sg_http_mcp_t *m, subject_t *u) {
  if (u->sessions || u->streams) return;
  for (subject_t **pp = &m->subjects[subject_bucket(u->name)]; *pp; pp = &(*pp)->next)
    if (*pp == u) {
      *pp = u->next;
      break;
    }
  free(u);
}

static void hsess_free(void *arg) {
  hsess_t *hs = arg;
  sg_http_mcp_t *m = hs->m;
  table_remove(hs);
  if (hs->subj) {
    hs->subj->sessions--;
    subject_put(m, hs->subj);
  }
  free(hs->owner);
  free(hs);
  m->nsessions--;
}

static char *owner_key(const sg_principal_t *who) {
  sg_buf_t b;
  sg_buf_init(&b);
  if (sg_buf_printf(&b, "%s\n%s\n%s\n%s", who->subject, who->role, who->tenant, who->env) != 0) {
    sg_buf_free(&b);
    return NULL;
  }
  return sg_buf_steal(&b, NULL);
}

static hsess_t *hsess_new(sg_http_mcp_t *m, const sg_principal_t *who) {
  hsess_t *hs = calloc(1, sizeof *hs);
  if (hs == NULL) return NULL;
  unsigned char rnd[SESSION_ID_HEX / 2];
  if (uv_random(NULL, NULL, rnd, sizeof rnd, 0, NULL) != 0 ||
      (hs->owner = owner_key(who)) == NULL) {
    free(hs);
    return NULL;
  }
  for (size_t i = 0; i < sizeof rnd; i++) snprintf(hs->id + 2 * i, 3, "%02x", rnd[i]);
  hs->m = m;
  hs->conn.send = hs_send;
  hs->conn.close = hs_close;
  hs->conn.handler = &sg_session_handler;
  hs->next_stream = 1;
  hs->last_used_us = sg_mono_us();
  m->nsessions++;
  if (m->cfg.auth) {
    if ((hs->subj = subject_get(m, who->subject)) == NULL) {
      hsess_free(hs);
      return NULL;
    }
    hs->subj->sessions++;
  }
  hs->session = sg_session_new(m->gw, &hs->conn, who, hsess_free, hs);
  if (hs->session == NULL) {
    hsess_free(hs);
    return NULL;
  }
  return hs;
}

/* ---- identity ---------------------------------------------------------------------- */

/* Who a request acts for. who borrows from tok (a verified bearer token) or from the
 * server (the operator's identity); it need only live while the request is handled: a
 * new session copies its strings, and later requests are matched against the session's
 * owner by value. */
typedef struct {
  sg_identity_t tok;
  sg_principal_t who;
} caller_t;

/* The endpoint's URL as clients name it (the protected resource), and the URL of its
 * metadata. Without --resource-url the host is the request's: on TCP the server has
 * checked it names this gateway; on a Unix socket nothing has, so only a plain host name
 * is taken. */
static void endpoint_urls(const sg_http_mcp_t *m, const sg_http_request_t *req, char *resource,
                          size_t rlen, char *metadata, size_t mlen) {
  if (m->cfg.resource_url) {
    snprintf(resource, rlen, "%s", m->cfg.resource_url);
  } else {
    static const char host_chars[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]";
    const char *host = sg_http_header(req, "host");
    if (host == NULL || *host == '\0' || strlen(host) > 255 ||
        host[strspn(host, host_chars)] != '\0')
      host = "localhost";
    snprintf(resource, rlen, "http://%s%s", host, m->cfg.path);
  }
  const char *authority = strstr(resource, "://") + 3;
  size_t origin = strcspn(authority, "/") + (size_t)(authority - resource);
  snprintf(metadata, mlen, "%.*s%s", (int)origin, resource, METADATA_PATH);
}

/* 401 with the challenge RFC 6750 and RFC 9728 describe: where the metadata is, and,
 * for a token that was presented and refused, why (never quoting the token). */
static void challenge(const sg_http_mcp_t *m, sg_http_request_t *req, const char *why) {
  char resource[600], metadata[600], desc[200], message[900];
  endpoint_urls(m, req, resource, sizeof resource, metadata, sizeof metadata);
  sg_buf_t h;
  sg_buf_init(&h);
  sg_buf_printf(&h, "WWW-Authenticate: Bearer resource_metadata=\"%s\"", metadata);
  if (why) {
    /* A quoted-string holds no quote or backslash unescaped; the reasons have neither,
     * but nothing here relies on that. */
    size_t n = 0;
    for (const char *c = why; *c && n + 1 < sizeof desc; c++)
      desc[n++] = (*c < 0x20 || *c > 0x7e || *c == '"' || *c == '\\') ? '\'' : *c;
    desc[n] = '\0';
    sg_buf_printf(&h, ", error=\"invalid_token\", error_description=\"%s\"", desc);
    snprintf(message, sizeof message, "the bearer token is refused: %s", desc);
    sg_info("http: %s %s: bearer token refused: %s", req->method, req->path, desc);
  } else {
    snprintf(message, sizeof message,
             "a bearer token is required (Authorization: Bearer ...); the protected resource "
             "metadata at %s names the authorization server",
             metadata);
  }
  sg_buf_append_str(&h, "\r\n");
  refuse_code(req, 401, sg_err_rpc_code(SG_EAUTH), why ? "invalid_token" : "unauthenticated",
              message, h.data);
  sg_buf_free(&h);
}

/* The token of an "Authorization: Bearer TOKEN" value. Returns 1 when the scheme is
 * Bearer and a token follows (and nothing after it), 0 for another scheme, -1 for a
 * malformed Bearer value. */
static int bearer_token(const char *v, const char **tok, size_t *len) {
  while (*v == ' ' || *v == '\t') v++;
  if (strncasecmp(v, "bearer", 6) != 0 || (v[6] != ' ' && v[6] != '\t' && v[6] != '\0')) return 0;
  v += 6;
  while (*v == ' ' || *v == '\t') v++;
  size_t n = strcspn(v, " \t");
  const char *rest = v + n;
  while (*rest == ' ' || *rest == '\t') rest++;
  if (n == 0 || *rest) return -1;
  *tok = v;
  *len = n;
  return 1;
}

/* The role a verified token acts in: the configured one, which the token must hold, or
 * else the token's only role that the matrix knows. NULL, with why, when there is none. */
static const char *pick_role(const sg_http_mcp_t *m, const sg_identity_t *id, char *why,
                             size_t whylen) {
  const sg_catalog_t *cat = m->gw->catalog;
  if (m->cfg.role) {
    if (!sg_identity_has_role(id, m->cfg.role)) {
      snprintf(why, whylen, "the token does not grant role \"%s\", which this gateway serves",
               m->cfg.role);
      return NULL;
    }
    if (sg_catalog_role(cat, m->cfg.role) == NULL) {
      snprintf(why, whylen, "role \"%s\" is not in the capability matrix", m->cfg.role);
      return NULL;
    }
    return m->cfg.role;
  }
  const char *found = NULL;
  size_t known = 0;
  for (size_t i = 0; i < id->nroles; i++)
    if (sg_catalog_role(cat, id->roles[i]) && (found == NULL || strcmp(found, id->roles[i]) != 0)) {
      found = id->roles[i];
      known++;
    }
  if (known == 1) return found;
  if (known == 0)
    snprintf(why, whylen, "none of the token's roles is in the capability matrix");
  else
    snprintf(why, whylen,
             "the token holds %zu roles of the capability matrix; the gateway must be "
             "started with --role to choose one",
             known);
  return NULL;
}

/* Establishes who req acts for. Returns 0 (release with caller_free), or -1 after
 * answering: 401 without a token that verifies now, 403 without a usable role. */
static int http_identity(const sg_http_mcp_t *m, sg_http_request_t *req, caller_t *c) {
  memset(c, 0, sizeof *c);
  if (m->cfg.auth == NULL) {
    c->who = (sg_principal_t){m->subject, m->role, m->tenant, m->env, m->claims};
    return 0;
  }
  const char *h = sg_http_header(req, "authorization"), *tok = NULL;
  size_t len = 0;
  int bearer = h ? bearer_token(h, &tok, &len) : 0;
  if (bearer <= 0) {
    challenge(m, req, bearer < 0 ? "malformed Authorization header" : NULL);
    return -1;
  }
  char why[256];
  int rc = sg_auth_verify(m->cfg.auth, tok, len, (int64_t)time(NULL), &c->tok, why, sizeof why);
  if (rc == SG_ENOMEM) {
    refuse(req, 503, "out_of_memory", "out of memory", "Retry-After: 1\r\n");
    return -1;
  }
  if (rc != 0) {
    challenge(m, req, why);
    return -1;
  }
  const char *role = pick_role(m, &c->tok, why, sizeof why);
  if (role == NULL) {
    sg_info("http: %s %s: subject %s refused: %s", req->method, req->path, c->tok.subject, why);
    refuse_code(req, 403, sg_err_rpc_code(SG_ENOT_GRANTED), "role_refused", why, NULL);
    sg_identity_free(&c->tok);
    return -1;
  }
  c->who = (sg_principal_t){c->tok.subject, role, c->tok.tenant, c->tok.env, c->tok.claims};
  return 0;
}

static void caller_free(caller_t *c) {
  sg_identity_free(&c->tok);
}

/* Each request on a session is decided under the claims of the token it carries, so a
 * refreshed token whose claims changed (a lower limit, a shorter list) takes effect at
 * once. Decisions read the claims only while a message is delivered, so swapping them
 * between messages is safe. */
static void session_take_claims(hsess_t *hs, json_t *claims) {
  sg_session_t *s = hs->session;
  if (s == NULL || s->principal.claims == claims) return;
  json_decref(s->principal.claims);
  s->principal.claims = json_incref(claims);
}

/* RFC 9728 protected resource metadata: what a client needs to get a token for this
 * gateway. Served without authentication. */
static void serve_metadata(const sg_http_mcp_t *m, sg_http_request_t *req) {
  if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
    refuse(req, 405, "method_not_allowed", "the metadata is read with GET", "Allow: GET, HEAD\r\n");
    return;
  }
  char resource[600], metadata[600];
  endpoint_urls(m, req, resource, sizeof resource, metadata, sizeof metadata);
  json_t *doc = json_pack("{s:s, s:[s], s:[s], s:[]}", "resource", resource,
                          "authorization_servers", sg_auth_issuer(m->cfg.auth),
                          "bearer_methods_supported", "header", "scopes_supported");
  if (doc == NULL) {
    refuse(req, 503, "out_of_memory", "out of memory", NULL);
    return;
  }
  respond_json(req, 200, doc, "Cache-Control: max-age=300\r\n");
  json_decref(doc);
}

/* ---- the endpoint ------------------------------------------------------------------ */

static int supported_version(const char *v) {
  for (const char *const *s = sg_mcp_session_versions; *s; s++)
    if (strcmp(*s, v) == 0) return 1;
  return 0;
}

static int session_busy(const hsess_t *hs);

/* At the session limit, the session unused the longest with nothing open makes room
 * (of subject u only, when u is given); returns -1 when every candidate is busy. */
static int lru_makes_room(sg_http_mcp_t *m, const subject_t *u) {
  hsess_t *lru = NULL;
  for (size_t b = 0; b < BUCKETS; b++)
    for (hsess_t *hs = m->buckets[b]; hs; hs = hs->next)
      if ((u == NULL || hs->subj == u) && !session_busy(hs) &&
          (lru == NULL || hs->last_used_us < lru->last_used_us))
        lru = hs;
  if (lru == NULL) return -1;
  hs_end(lru, SG_ECANCELLED);
  return 0;
}

static int session_room(sg_http_mcp_t *m) {
  if (m->nsessions < m->cfg.max_sessions) return 0;
  sg_info("http: %u sessions open; ending the one unused longest", m->nsessions);
  return lru_makes_room(m, NULL);
}

/* The same within one subject's sessions, so that a subject at its limit costs only
 * itself. */
static int subject_session_room(sg_http_mcp_t *m, const char *subject) {
  const subject_t *u = m->cfg.auth ? subject_find(m, subject) : NULL;
  if (u == NULL || u->sessions < m->cfg.subject_sessions) return 0;
  sg_info("http: subject %s has %u sessions open; ending its one unused longest", subject,
          u->sessions);
  return lru_makes_room(m, u);
}

static void handle_post(sg_http_mcp_t *m, sg_http_request_t *req, hsess_t *hs,
                        const sg_principal_t *who) {
  if (!sg_http_content_type_is(sg_http_header(req, "content-type"), "application/json")) {
    refuse(req, 415, "unsupported_media_type", "POST bodies must be application/json", NULL);
    return;
  }
  const char *accept = sg_http_header(req, "accept");
  int sse = sg_http_accepts(accept, "text/event-stream");
  if (!sse || !sg_http_accepts(accept, "application/json")) {
    refuse(req, 406, "not_acceptable",
           "the Accept header must list application/json and text/event-stream", NULL);
    return;
  }
  /* Parsed here only to route the answer; the session parses and checks the body
   * itself, exactly as it does a stdio line. */
  char err[256];
  json_t *msg = NULL;
  sg_rpc_msg_t rm;
  int parse_rc = sg_json_parse(req->body, req->body_len, &m->gw->limits, &msg, err, sizeof err);
  int valid = parse_rc == 0 && sg_rpc_classify(msg, &rm, err, sizeof err) == 0;
  int is_init = valid && rm.kind == SG_MSG_REQUEST && strcmp(rm.method, "initialize") == 0;
  hsess_t *created = NULL;
  if (hs == NULL) {
    if (parse_rc != 0) {
      json_t *e = sg_rpc_error(NULL, sg_err_rpc_code(parse_rc), err,
                               json_pack("{s:s}", "reason", sg_err_reason(parse_rc)));
      respond_json(req, 400, e, NULL);
      json_decref(e);
    } else if (!is_init) {
      refuse(req, 400, "session_required",
             "an Mcp-Session-Id header is required (only initialize starts a session)", NULL);
    } else if (subject_session_room(m, who->subject) != 0) {
      char text[200];
      snprintf(text, sizeof text,
               "this subject has %u sessions open, each with a request or stream in progress; "
               "end one (DELETE) or try again later",
               m->cfg.subject_sessions);
      refuse(req, 429, "too_many_sessions", text, "Retry-After: 5\r\n");
    } else if (session_room(m) != 0) {
      refuse(req, 503, "too_many_sessions", "too many sessions are open; try again later",
             "Retry-After: 5\r\n");
    } else if ((hs = created = hsess_new(m, who)) == NULL) {
      refuse(req, 503, "out_of_memory", "cannot start a session", NULL);
    }
    if (hs == NULL) {
      json_decref(msg);
      return;
    }
  }
  if (valid && rm.kind == SG_MSG_REQUEST) {
    if (find_post(hs, rm.id)) {
      refuse(req, 400, "duplicate_id", "a request with this id is still in flight", NULL);
      json_decref(msg);
      return;
    }
    json_t *token = json_object_get(json_object_get(rm.params, "_meta"), "progressToken");
    if (!sg_rpc_valid_id(token)) token = NULL;
    /* SSE for what may send notifications before its response: a tool call, or any
     * request that asks for progress. Past the session's own stream limit the answer
     * comes as JSON instead; past its subject's, the request is refused before anything
     * is decided. */
    int streamed = strcmp(rm.method, "tools/call") == 0 || token;
    stream_t *st = streamed ? stream_new(hs, hs->next_stream) : NULL;
    if (streamed && st == NULL && subject_streams_full(hs)) {
      char text[200];
      snprintf(text, sizeof text,
               "this subject has %u streams open (calls in progress or awaiting resumption); "
               "try again when one ends",
               m->cfg.subject_streams);
      refuse(req, 429, "too_many_streams", text, "Retry-After: 1\r\n");
      json_decref(msg);
      if (created) hs_end(created, SG_ECANCELLED);
      return;
    }
    post_t *p = calloc(1, sizeof *p);
    if (p == NULL) {
      if (st) stream_free(st);
      refuse(req, 503, "out_of_memory", "out of memory", NULL);
      json_decref(msg);
      if (created) hs_end(created, SG_ENOMEM);
      return;
    }
    p->hs = hs;
    p->id = json_incref(rm.id);
    p->initialize = is_init && created; /* a repeated initialize is just refused */
    if (token) p->progress_token = json_incref(token);
    p->next = hs->posts;
    hs->posts = p;
    if (st) {
      hs->next_stream++;
      st->post = p;
      p->stream = st;
      if (stream_attach(st, req, 0) != 0) stream_free(st);
    } else {
      p->req = req;
      req->data = p;
      req->on_abort = post_aborted;
    }
  }
  hs->delivering = req;
  hs->delivered = 0;
  hs->conn.handler->on_message(&hs->conn, req->body, req->body_len);
  hs->delivering = NULL;
  if (!valid) {
    /* The session answered the refusal (routed above as 400); this covers the case
     * where it had nothing to say. */
    if (!hs->delivered) refuse(req, 400, "invalid_request", err, NULL);
  } else if (rm.kind != SG_MSG_REQUEST) {
    if (!hs->delivered) respond_empty(req, 202, NULL);
    if (rm.kind == SG_MSG_NOTIFICATION && strcmp(rm.method, "notifications/cancelled") == 0) {
      post_t *p = find_post(hs, json_object_get(rm.params, "requestId"));
      if (p) post_cancelled(p);
    }
  }
  json_decref(msg);
  if (hs->init_failed) hs_end(hs, SG_EBADREQ);
}

static void handle_get(sg_http_request_t *req, hsess_t *hs) {
  if (!sg_http_accepts(sg_http_header(req, "accept"), "text/event-stream")) {
    refuse(req, 406, "not_acceptable", "a GET stream needs Accept: text/event-stream", NULL);
    return;
  }
  const char *last = sg_http_header(req, "last-event-id");
  unsigned num;
  uint64_t after = 0;
  stream_t *st = NULL;
  if (last && parse_event_id(last, &num, &after) == 0) st = find_stream(hs, num);
  if (st == NULL) {
    /* No id, or one whose stream is gone: the session's GET stream, from what it has
     * not delivered yet. */
    if (hs->get == NULL && (hs->get = stream_new(hs, 0)) == NULL) {
      refuse(req, 429, "too_many_streams",
             subject_streams_full(hs) ? "this subject has too many streams open"
                                      : "this session has too many streams open",
             "Retry-After: 1\r\n");
      return;
    }
    st = hs->get;
    after = st->sent_seq;
  }
  if (st->req) {
    refuse(req, 409, "stream_conflict", "this stream is already open on another connection", NULL);
    return;
  }
  if (stream_attach(st, req, after) != 0 && st == hs->get && st->next_seq == 1) stream_free(st);
}

/* The metadata's paths: the well-known path itself, and (RFC 9728, section 3.1) with the
 * endpoint's path appended, where clients look first for a resource with a path. */
static int is_metadata_path(const sg_http_mcp_t *m, const char *path) {
  size_t n = strlen(METADATA_PATH);
  return strncmp(path, METADATA_PATH, n) == 0 &&
         (path[n] == '\0' || strcmp(path + n, m->cfg.path) == 0);
}

static void on_request(sg_http_request_t *req, void *arg) {
  sg_http_mcp_t *m = arg;
  if (m->cfg.auth && is_metadata_path(m, req->path)) {
    serve_metadata(m, req);
    return;
  }
  if (strcmp(req->path, m->cfg.path) != 0) {
    static const char body[] = "404 Not Found\n";
    sg_http_respond(req, 404, "text/plain; charset=utf-8", NULL, body, sizeof body - 1);
    return;
  }
  if (m->closing) {
    refuse(req, 503, "shutting_down", "the gateway is shutting down", "Connection: close\r\n");
    return;
  }
  int get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0,
      del = strcmp(req->method, "DELETE") == 0;
  if (strcmp(req->method, "OPTIONS") == 0) {
    /* A browser's preflight; the server has already checked the Origin. */
    respond_empty(req, 204,
                  "Allow: GET, POST, DELETE, OPTIONS\r\n"
                  "Access-Control-Allow-Methods: GET, POST, DELETE\r\n"
                  "Access-Control-Allow-Headers: Content-Type, Accept, Authorization, "
                  "Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID\r\n"
                  "Access-Control-Max-Age: 600\r\n");
    return;
  }
  if (!get && !post && !del) {
    refuse(req, 405, "method_not_allowed", "the MCP endpoint serves GET, POST and DELETE",
           "Allow: GET, POST, DELETE, OPTIONS\r\n");
    return;
  }
  caller_t caller;
  if (http_identity(m, req, &caller) != 0) return;
  const sg_principal_t *who = &caller.who;
  /* The stateless era shares the endpoint; stateless.c says which requests are its. */
  if (sg_stateless_owns(m->stateless, req)) {
    sg_stateless_serve(m->stateless, req, who);
    caller_free(&caller);
    return;
  }
  const char *pv = sg_http_header(req, "mcp-protocol-version");
  if (pv && !supported_version(pv)) {
    refuse(req, 400, "unsupported_protocol_version",
           "unsupported MCP-Protocol-Version (2025-11-25, 2025-06-18 and 2025-03-26 are served)",
           NULL);
    caller_free(&caller);
    return;
  }
  const char *sid = sg_http_header(req, "mcp-session-id");
  hsess_t *hs = NULL;
  if (sid) {
    hs = table_find(m, sid);
    char *key = hs ? owner_key(who) : NULL;
    int mine = key && strcmp(key, hs->owner) == 0;
    free(key);
    if (!mine) {
      /* A session of another principal (another subject, tenant, env or role) is, to
       * this one, a session that does not exist: 404 confirms nothing about the id to
       * whoever holds it, and tells a client whose identity changed to start its own
       * session, as the transport prescribes for 404. */
      if (hs)
        sg_warn(
            "http: session %.8s of another principal was presented by subject %s "
            "(tenant %s); refused as unknown",
            hs->id, who->subject, who->tenant);
      refuse(req, 404, "session_not_found", "unknown or ended session; initialize a new one", NULL);
      caller_free(&caller);
      return;
    }
    if (m->cfg.auth) session_take_claims(hs, who->claims);
    /* A supported version other than the negotiated one is not refused: the transport
     * requires 400 only for invalid or unsupported values, and clients exist that send
     * 2025-03-26 whatever they negotiated. The session keeps its negotiated version. */
    if (pv && strcmp(pv, hs->version) != 0)
      sg_debug("http: session %.8s: MCP-Protocol-Version %s, negotiated %s", hs->id, pv,
               hs->version);
    hs->last_used_us = sg_mono_us();
  } else if (!post) {
    refuse(req, 400, "session_required", "an Mcp-Session-Id header is required", NULL);
    caller_free(&caller);
    return;
  }
  if (post) {
    handle_post(m, req, hs, who);
  } else if (get) {
    handle_get(req, hs);
  } else {
    hs_end(hs, SG_ECANCELLED);
    respond_empty(req, 204, NULL);
  }
  caller_free(&caller);
}

/* ---- housekeeping ------------------------------------------------------------------ */

static int session_busy(const hsess_t *hs) {
  if (hs->posts) return 1;
  for (const stream_t *st = hs->streams; st; st = st->next)
    if (st->req) return 1;
  return 0;
}

/* Ends sessions left unused, and keeps quiet streams' connections alive. */
static void sweep_cb(uv_timer_t *t) {
  sg_http_mcp_t *m = t->data;
  uint64_t now = now_ms();
  sg_buf_t ping;
  sg_buf_init(&ping);
  sg_sse_format_ping(&ping);
  for (size_t b = 0; b < BUCKETS; b++) {
    for (hsess_t *hs = m->buckets[b], *next; hs; hs = next) {
      next = hs->next;
      if (!session_busy(hs) && now - hs->last_used_us / 1000 > m->cfg.session_idle_ms) {
        hs_end(hs, SG_ECANCELLED);
        continue;
      }
      for (stream_t *st = hs->streams; st; st = st->next)
        if (st->req && now - st->last_write_ms >= PING_AFTER_MS)
          stream_write(st, ping.data, ping.len);
    }
  }
  sg_buf_free(&ping);
}

static void release(sg_http_mcp_t *m) {
  if (--m->pending_closes > 0) return;
  void (*done)(void *) = m->done;
  void *arg = m->done_arg;
  free(m->subject);
  free(m->role);
  free(m->tenant);
  free(m->env);
  json_decref(m->claims);
  free(m);
  if (done) done(arg);
}

static void sweep_closed(uv_handle_t *h) {
  release(h->data);
}
static void server_closed(void *arg) {
  release(arg);
}
static void stateless_stopped(void *arg) {
  release(arg);
}

int sg_http_mcp_start(sg_gateway_t *gw, const sg_http_mcp_config_t *cfg, const sg_principal_t *who,
                      sg_http_mcp_t **out, char *err, size_t errlen) {
  sg_http_mcp_t *m = calloc(1, sizeof *m);
  if (m == NULL) {
    snprintf(err, errlen, "out of memory");
    return SG_ENOMEM;
  }
  m->gw = gw;
  m->cfg = *cfg;
  m->cfg.http.max_body_bytes = gw->limits.max_bytes;
  m->cfg.http.allow_origins = m->cfg.origins;
  m->cfg.http.nallow_origins = m->cfg.norigins;
  m->cfg.http.allow_hosts = m->cfg.hosts;
  m->cfg.http.nallow_hosts = m->cfg.nhosts;
  if (cfg->auth == NULL) {
    /* Without tokens, whoever reaches the port acts for the operator's identity: only
     * where that is the operator's own machine, unless the operator insists. */
    for (size_t i = 0; i < cfg->nlisten; i++)
      if (!sg_listen_is_loopback(&cfg->listen[i]) && !cfg->insecure_no_auth) {
        snprintf(err, errlen,
                 "refusing to listen on %s without --auth: every HTTP client would act as "
                 "subject %s unauthenticated; give --auth FILE to require bearer tokens, or "
                 "--insecure-no-auth to accept that",
                 cfg->listen[i].host, who->subject);
        free(m);
        return SG_EINVAL;
      }
    m->subject = strdup(who->subject);
    m->role = strdup(who->role);
    m->tenant = strdup(who->tenant);
    m->env = strdup(who->env);
    m->claims = json_incref(who->claims);
  } else {
    m->subject = strdup("");
    m->role = strdup("");
    m->tenant = strdup("");
    m->env = strdup("");
  }
  uv_timer_init(gw->loop, &m->sweep);
  m->sweep.data = m;
  m->pending_closes = 2; /* the server and the sweep timer */
  if (!m->subject || !m->role || !m->tenant || !m->env ||
      sg_http_server_new(gw->loop, &m->cfg.http, on_request, m, &m->srv) != 0) {
    snprintf(err, errlen, "out of memory");
    m->pending_closes = 1;
    uv_close((uv_handle_t *)&m->sweep, sweep_closed);
    return SG_ENOMEM;
  }
  if (sg_stateless_new(gw, &m->stateless) != 0) {
    snprintf(err, errlen, "out of memory");
    sg_http_mcp_stop(m, NULL, NULL);
    return SG_ENOMEM;
  }
  for (size_t i = 0; i < cfg->nlisten; i++) {
    char url[160];
    if (sg_http_server_listen(m->srv, &cfg->listen[i], url, sizeof url, err, errlen) != 0) {
      sg_http_mcp_stop(m, NULL, NULL);
      return SG_EIO;
    }
    /* Not a log line: how to connect is printed whatever the log level. */
    if (cfg->listen[i].kind == SG_LISTEN_UNIX)
      fprintf(stderr, "scopegate: listening on %s (MCP endpoint %s)\n", url, cfg->path);
    else
      fprintf(stderr, "scopegate: listening on %s%s\n", url, cfg->path);
    if (!sg_listen_is_loopback(&cfg->listen[i]))
      sg_warn(cfg->auth ? "%s is not a loopback address: add --allow-host for the names "
                          "clients use"
                        : "%s is not a loopback address: anyone who can reach it can use this "
                          "gateway's identity; add --allow-host for the names clients use",
              cfg->listen[i].host);
  }
  if (cfg->auth) {
    sg_info("http: clients authenticate with bearer tokens from %s for audience %s; %s",
            sg_auth_issuer(cfg->auth), sg_auth_audience(cfg->auth),
            cfg->role ? "they act in the role given" : "each acts in its token's one known role");
    if (cfg->resource_url && strcmp(cfg->resource_url, sg_auth_audience(cfg->auth)) != 0)
      sg_warn(
          "http: the resource URL %s is not the audience %s that tokens must carry; "
          "clients that ask their authorization server for a token for this resource "
          "will be refused",
          cfg->resource_url, sg_auth_audience(cfg->auth));
  } else {
    sg_warn(
        "http: HTTP clients are not authenticated (no --auth): every HTTP client acts as "
        "subject %s, role %s, tenant %s, env %s",
        m->subject, m->role, m->tenant, m->env);
  }
  uv_timer_start(&m->sweep, sweep_cb, SWEEP_MS, SWEEP_MS);
  *out = m;
  return 0;
}

void sg_http_mcp_stop(sg_http_mcp_t *m, void (*done)(void *arg), void *arg) {
  m->closing = 1;
  m->done = done;
  m->done_arg = arg;
  sg_http_server_stop_accepting(m->srv);
  if (m->stateless) {
    m->pending_closes++;
    sg_stateless_stop(m->stateless, stateless_stopped, m);
  }
  uv_timer_stop(&m->sweep);
  uv_close((uv_handle_t *)&m->sweep, sweep_closed);
  for (size_t b = 0; b < BUCKETS; b++)
    while (m->buckets[b]) hs_end(m->buckets[b], SG_ESHUTDOWN);
  sg_http_server_close(m->srv, server_closed, m);
}
