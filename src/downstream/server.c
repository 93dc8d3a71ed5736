/*
 * A downstream MCP server: spawn or connect, MCP client handshake, request forwarding
 * with gateway-owned ids, progress routing, timeouts, and restart with backoff. See
 * server.h for the state machine. An http server may speak the stateless era instead
 * (era.h): then STARTING is server/discover rather than initialize, every request
 * carries the era's envelope, and with "auto" a server that does not know the era is
 * initialized on the same link instead. The state machine is the same for both transports;
 * only carrying messages differs. A stdio server's process lives in its own child_t,
 * an http server's session in its own sg_http_link_t (http.h), so a restart never waits
 * for the previous process's or session's handles to finish closing.
 */
#include "downstream/server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "downstream/era.h"
#include "downstream/http.h"
#include "json/frame.h"
#include "json/parse.h"
#include "json/rpc.h"
#include "transport/write.h"

#define SWEEP_INTERVAL_MS 250
#define BACKOFF_FIRST_MS 200
#define BACKOFF_MAX_MS 10000
#define STABLE_AFTER_US (10u * 1000000u) /* up this long: the next crash restarts quickly */
#define QUEUE_LIMIT 1024
#define MAX_LINE (64u * 1024u * 1024u)
#define TERM_AFTER_MS 2000
#define KILL_AFTER_MS 4000
#define EOF_GRACE_MS 1000
#define CLIENT_PROTOCOL_VERSION "2025-11-25"

typedef enum { DS_STARTING, DS_LISTING, DS_READY, DS_BACKOFF, DS_CLOSING } ds_state_t;

typedef struct child {
  uv_process_t proc;
  uv_pipe_t in;  /* the child's stdin: we write */
  uv_pipe_t out; /* the child's stdout: we read */
  int open_handles;
  int exited;
  int pid;
  sg_downstream_t *ds;
  sg_framer_t framer;
} child_t;

struct sg_ds_request {
  sg_ds_request_t *prev, *next;
  sg_downstream_t *ds;
  int64_t id;
  char *method;
  json_t *params; /* held until sent */
  sg_ds_response_cb cb;
  sg_ds_progress_cb pcb;
  void *ctx;
  uint64_t deadline_us;
};

struct sg_downstream {
  uv_loop_t *loop;
  const sg_server_conf_t *conf;
  char *tenant;
  char *env;
  char **extra_env; /* owned: credentials for this (tenant, env), "NAME=value" */
  ds_state_t state;
  child_t *child;       /* stdio: the current process, NULL between processes */
  sg_http_link_t *link; /* http: the current session, NULL between sessions */
  int children_open;    /* processes and sessions whose handles are not all closed yet */
  uv_timer_t restart_timer, sweep_timer, kill_timer;
  int timers_open;
  sg_ds_request_t queue;    /* list head: waiting for READY */
  sg_ds_request_t inflight; /* list head: sent, awaiting a response */
  size_t nqueued;
  int64_t next_id;
  int64_t init_id;
  int64_t list_id;            /* the tools/list in flight, 0 when none */
  json_t *listing;            /* the pages received so far */
  int was_ready;              /* has been READY since the last spawn */
  uint64_t listing_deadline_us;
  sg_ds_events_t events;      /* told what the server advertises and announces */
  unsigned generation;        /* the current initialization's number, unique in the process */
  json_t *quarantine;         /* downstream tool name -> why it may not be called */
  uint64_t backoff_ms;
  uint64_t ready_since_us;
  uint64_t startup_deadline_us;
  void (*close_done)(void *arg);
  void *close_arg;
  int retiring; /* replaced by a new definition: stop once idle */
  int stateless;   /* the current http link speaks the stateless era */
  int discovering; /* init_id is a server/discover, not an initialize */
};

/* ---- request lists ---- */

static void list_init(sg_ds_request_t *head) { head->prev = head->next = head; }
static int list_empty(const sg_ds_request_t *head) { return head->next == head; }
static void list_push(sg_ds_request_t *head, sg_ds_request_t *r) {
  r->prev = head->prev;
  r->next = head;
  head->prev->next = r;
  head->prev = r;
}
static void list_remove(sg_ds_request_t *r) {
  r->prev->next = r->next;
  r->next->prev = r->prev;
  r->prev = r->next = r;
}

static void request_free(sg_ds_request_t *r) {
  free(r->method);
  json_decref(r->params);
  free(r);
}

/* Removes r from its list and runs its callback with an error; the callback may submit
 * new requests, so callers iterate by re-reading the list head. */
static void retire_if_idle(sg_downstream_t *ds);

static void request_fail(sg_ds_request_t *r, int err, const char *why) {
  sg_downstream_t *ds = r->ds;
  list_remove(r);
  if (r->params) ds->nqueued--; /* only queued requests still hold their params */
  r->cb(r->ctx, err, NULL, why);
  request_free(r);
  retire_if_idle(ds);
}

static void fail_all(sg_ds_request_t *head, int err, const char *why) {
  while (!list_empty(head)) request_fail(head->next, err, why);
}

/* ---- writing to the child ---- */

static void write_failed(uv_stream_t *stream, int status) {
  child_t *c = stream->data;
  sg_debug("writing to downstream %s failed: %s", c->ds->conf->name, uv_strerror(status));
}

static int child_send(child_t *c, json_t *msg) {
  if (c == NULL || c->exited || uv_is_closing((uv_handle_t *)&c->in)) return SG_EDOWNSTREAM;
  int rc = sg_stream_write_json((uv_stream_t *)&c->in, msg, write_failed);
  return rc == SG_ENOMEM ? rc : rc ? SG_EDOWNSTREAM : 0;
}

/* Sends msg (borrowed) to the current process or session. */
static int ds_send(sg_downstream_t *ds, json_t *msg) {
  if (ds->conf->transport == SG_DS_HTTP) {
    if (ds->link == NULL) return SG_EDOWNSTREAM;
    int rc = sg_http_link_post(ds->link, msg);
    return rc == SG_ENOMEM ? rc : rc ? SG_EDOWNSTREAM : 0;
  }
  return child_send(ds->child, msg);
}

static int send_request(sg_downstream_t *ds, sg_ds_request_t *r) {
  json_t *params = r->params;
  r->params = NULL;
  if (params == NULL) params = json_object();
  if (r->pcb) {
    json_t *meta = json_object_get(params, "_meta");
    if (!json_is_object(meta)) {
      meta = json_object();
      json_object_set_new(params, "_meta", meta);
    }
    json_object_set_new(meta, "progressToken", json_integer(r->id));
  }
  if (ds->stateless && sg__ds_era_envelope(params) != 0) {
    json_decref(params);
    return SG_ENOMEM;
  }
  json_t *id = json_integer(r->id);
  json_t *msg = sg_rpc_request(id, r->method, params);
  int rc = ds_send(ds, msg);
  json_decref(msg);
  json_decref(id);
  return rc;
}

/* ---- process lifecycle ---- */

static void spawn_child(sg_downstream_t *ds);
static void finish_close(sg_downstream_t *ds);

static void child_handle_closed(uv_handle_t *h) {
  child_t *c = h->data;
  if (--c->open_handles > 0) return;
  sg_downstream_t *ds = c->ds;
  sg_framer_free(&c->framer);
  free(c);
  ds->children_open--;
  finish_close(ds);
}

static void child_close(child_t *c) {
  uv_handle_t *hs[] = {(uv_handle_t *)&c->proc, (uv_handle_t *)&c->in, (uv_handle_t *)&c->out};
  for (int i = 0; i < 3; i++)
    if (!uv_is_closing(hs[i])) uv_close(hs[i], child_handle_closed);
}

static void restart_timer_cb(uv_timer_t *t) { spawn_child(t->data); }

static void schedule_restart(sg_downstream_t *ds) {
  ds->state = DS_BACKOFF;
  uv_timer_start(&ds->restart_timer, restart_timer_cb, ds->backoff_ms, 0);
  sg_info("downstream %s (tenant %s, env %s): restarting in %llu ms", ds->conf->name,
          ds->tenant, ds->env, (unsigned long long)ds->backoff_ms);
  ds->backoff_ms = ds->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ds->backoff_ms * 2;
}

/* The current process or session is gone (exited, output ended, the endpoint failed):
 * fail what it was serving and, unless the gateway is closing, restart it. */
static void child_gone(sg_downstream_t *ds, const char *why) {
  child_t *c = ds->child;
  sg_http_link_t *link = ds->link;
  if (c == NULL && link == NULL) return;
  ds->child = NULL;
  ds->link = NULL;
  if (link) sg_http_link_close(link); /* its on_closed counts children_open down */
  if (ds->state == DS_READY && sg_mono_us() - ds->ready_since_us > STABLE_AFTER_US)
    ds->backoff_ms = BACKOFF_FIRST_MS;
  ds->was_ready = 0;
  ds->list_id = 0;
  json_decref(ds->listing);
  ds->listing = NULL;
  char msg[256];
  snprintf(msg, sizeof msg, "downstream server \"%s\" %s", ds->conf->name, why);
  fail_all(&ds->inflight, SG_EDOWNSTREAM, msg);
  if (ds->state != DS_CLOSING) schedule_restart(ds);
}

static void exit_cb(uv_process_t *proc, int64_t status, int signo) {
  child_t *c = proc->data;
  c->exited = 1;
  char why[96];
  if (signo) snprintf(why, sizeof why, "was killed by signal %d", signo);
  else snprintf(why, sizeof why, "exited with status %lld", (long long)status);
  if (c->ds->state == DS_CLOSING) sg_info("downstream %s pid %d %s", c->ds->conf->name, c->pid, why);
  else sg_warn("downstream %s pid %d %s", c->ds->conf->name, c->pid, why);
  if (c->ds->child == c) child_gone(c->ds, why);
  child_close(c);
}

static void handle_line(sg_downstream_t *ds, child_t *c, const char *line, size_t len);

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  (void)suggested;
  static char slab[65536];
  *buf = uv_buf_init(slab, sizeof slab);
}

static void eof_kill_cb(uv_timer_t *t) {
  sg_downstream_t *ds = t->data;
  if (ds->state != DS_CLOSING && ds->child && !ds->child->exited) {
    sg_warn("downstream %s pid %d closed its output but did not exit; killing it",
            ds->conf->name, ds->child->pid);
    uv_process_kill(&ds->child->proc, SIGKILL);
  }
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  child_t *c = s->data;
  if (nread < 0) {
    /* Output ended: a server that stops talking is as good as gone. */
    /* Output ended. Usually the process is exiting and its exit callback, which says
     * why, follows; a process that lives on without output is useless, so it is
     * killed if it has not exited shortly. */
    uv_read_stop(s);
    sg_downstream_t *ds = c->ds;
    if (ds->state != DS_CLOSING && ds->child == c && !c->exited)
      uv_timer_start(&ds->kill_timer, eof_kill_cb, EOF_GRACE_MS, 0);
    return;
  }
  if (sg_framer_push(&c->framer, buf->base, (size_t)nread) != 0) return;
  const char *line;
  size_t len;
  int rc;
  while (c->ds->child == c && (rc = sg_framer_next(&c->framer, &line, &len)) != 0) {
    if (rc < 0) sg_warn("downstream %s sent an oversized message; ignored", c->ds->conf->name);
    else handle_line(c->ds, c, line, len);
  }
}

static char **child_env(const sg_server_conf_t *conf, char **extra) {
  /* Downstreams get a small inherited environment and what the catalog adds, never the
   * gateway's whole environment (which may hold its own secrets). */
  static const char *const inherit[] = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ",
                                        "USER", NULL};
  size_t n = 0;
  for (char **e = conf->env; *e; e++) n++;
  for (char **e = extra; e && *e; e++) n++;
  char **env = calloc(n + 8, sizeof *env);
  size_t i = 0;
  for (const char *const *k = inherit; *k; k++) {
    const char *v = getenv(*k);
    if (v == NULL) continue;
    size_t len = strlen(*k) + strlen(v) + 2;
    env[i] = malloc(len);
    snprintf(env[i++], len, "%s=%s", *k, v);
  }
  for (char **e = conf->env; *e; e++) env[i++] = strdup(*e);
  for (char **e = extra; e && *e; e++) env[i++] = strdup(*e);
  return env;
}

static void send_initialize(sg_downstream_t *ds);
static void send_discover(sg_downstream_t *ds);
static void start_listing(sg_downstream_t *ds);
static void discovered(sg_downstream_t *ds, json_t *result, const char *failure);
static void open_session(sg_downstream_t *ds);

static void spawn_child(sg_downstream_t *ds) {
  if (ds->state == DS_CLOSING) return;
  if (ds->conf->transport == SG_DS_HTTP) {
    open_session(ds);
    return;
  }
  child_t *c = calloc(1, sizeof *c);
  c->ds = ds;
  sg_framer_init(&c->framer, MAX_LINE);
  uv_pipe_init(ds->loop, &c->in, 0);
  uv_pipe_init(ds->loop, &c->out, 0);
  c->proc.data = c->in.data = c->out.data = c;
  c->open_handles = 3;
  ds->children_open++;

  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
  stdio[0].data.stream = (uv_stream_t *)&c->in;
  stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[1].data.stream = (uv_stream_t *)&c->out;
  stdio[2].flags = UV_INHERIT_FD;
  stdio[2].data.fd = 2;
  char **env = child_env(ds->conf, ds->extra_env);
  uv_process_options_t opts;
  memset(&opts, 0, sizeof opts);
  opts.file = ds->conf->command;
  opts.args = ds->conf->argv;
  opts.cwd = ds->conf->cwd;
  opts.env = env;
  opts.stdio = stdio;
  opts.stdio_count = 3;
  opts.exit_cb = exit_cb;
  int rc = uv_spawn(ds->loop, &c->proc, &opts);
  for (char **e = env; *e; e++) {
    memset(*e, 0, strlen(*e));
    free(*e);
  }
  free(env);
  if (rc < 0) {
    sg_error("downstream %s: cannot start \"%s\": %s", ds->conf->name, ds->conf->command,
             uv_strerror(rc));
    c->exited = 1;
    child_close(c);
    schedule_restart(ds);
    return;
  }
  c->pid = c->proc.pid;
  ds->child = c;
  ds->state = DS_STARTING;
  ds->startup_deadline_us = sg_mono_us() + ds->conf->startup_timeout_ms * 1000u;
  uv_read_start((uv_stream_t *)&c->out, alloc_cb, read_cb);
  sg_info("downstream %s (tenant %s, env %s) started, pid %d", ds->conf->name, ds->tenant,
          ds->env, c->pid);
  send_initialize(ds);
}

static void send_initialize(sg_downstream_t *ds) {
  ds->init_id = ds->next_id++;
  json_t *id = json_integer(ds->init_id);
  json_t *msg = sg_rpc_request(
      id, "initialize",
      json_pack("{s:s, s:{}, s:{s:s, s:s}}", "protocolVersion", CLIENT_PROTOCOL_VERSION,
                "capabilities", "clientInfo", "name", "scopegate", "version", "0.1.0"));
  ds_send(ds, msg);
  json_decref(msg);
  json_decref(id);
}

/* ---- http sessions ---- */

static void handle_message(sg_downstream_t *ds, json_t *msg);
static void abandon(sg_downstream_t *ds, int sig, const char *why);

static void link_message(sg_http_link_t *link, json_t *msg, void *arg) {
  sg_downstream_t *ds = arg;
  if (ds->link == link) handle_message(ds, msg);
}

static sg_ds_request_t *find_inflight(sg_downstream_t *ds, json_t *id);

static void link_unanswered(sg_http_link_t *link, int64_t id, const char *cause, void *arg) {
  sg_downstream_t *ds = arg;
  if (ds->link != link) return;
  if (ds->state == DS_STARTING && id == ds->init_id && ds->discovering) {
    discovered(ds, NULL, cause ? cause : "ended its answer without a response");
    return;
  }
  if ((ds->state == DS_STARTING && id == ds->init_id) ||
      (ds->state == DS_LISTING && id == ds->list_id)) {
    abandon(ds, 0, "ended its answer to the handshake without a response");
    return;
  }
  json_t *jid = json_integer(id);
  sg_ds_request_t *r = find_inflight(ds, jid);
  json_decref(jid);
  if (r == NULL) return;
  char why[800];
  snprintf(why, sizeof why, "downstream server \"%s\" %s", ds->conf->name,
           cause ? cause : "ended its answer without a response");
  request_fail(r, SG_EDOWNSTREAM, why);
}

static void link_failed(sg_http_link_t *link, const char *why, void *arg) {
  sg_downstream_t *ds = arg;
  if (ds->link != link) return;
  if (ds->state != DS_CLOSING)
    sg_warn("downstream %s (tenant %s, env %s) %s", ds->conf->name, ds->tenant, ds->env, why);
  /* An endpoint that cannot be reached says so at once, unlike a process that crashes
   * while starting: calls waiting for the first handshake fail now, with the reason,
   * rather than at the startup timeout. */
  int failing_start = !ds->was_ready && ds->state != DS_CLOSING;
  child_gone(ds, why);
  if (failing_start) {
    char msg[600];
    snprintf(msg, sizeof msg, "downstream server \"%s\" %s", ds->conf->name, why);
    fail_all(&ds->queue, SG_EDOWNSTREAM, msg);
  }
}

static void link_closed(void *arg) {
  sg_downstream_t *ds = arg;
  ds->children_open--;
  finish_close(ds);
}

static const sg_http_link_cbs_t link_cbs = {link_message, link_unanswered, link_failed,
                                            link_closed};

/* Opens a new MCP session with an http server: its own Mcp-Session-Id, carrying the
 * catalog's headers and this (tenant, env)'s credentials, and nothing from the client. */
static void open_session(sg_downstream_t *ds) {
  sg_http_link_t *link = NULL;
  int rc = sg_http_link_open(ds->loop, ds->conf->url, ds->conf->env, ds->extra_env,
                             ds->conf->startup_timeout_ms, &link_cbs, ds, &link);
  if (rc < 0) {
    sg_error("downstream %s: cannot open a session with %s: %s", ds->conf->name, ds->conf->url,
             sg_strerror(rc));
    schedule_restart(ds);
    return;
  }
  ds->link = link;
  ds->children_open++;
  ds->state = DS_STARTING;
  ds->startup_deadline_us = sg_mono_us() + ds->conf->startup_timeout_ms * 1000u;
  sg_info("downstream %s (tenant %s, env %s) connecting to %s", ds->conf->name, ds->tenant,
          ds->env, ds->conf->url);
  ds->stateless = 0;
  ds->discovering = ds->conf->protocol != SG_DS_PROTO_SESSION;
  if (ds->discovering) send_discover(ds);
  else send_initialize(ds);
}

/* Asks the server whether it serves the stateless era: server/discover, itself a
 * request of that era. */
static void send_discover(sg_downstream_t *ds) {
  sg_http_link_set_stateless(ds->link, 1);
  sg_http_link_set_protocol(ds->link, SG_DS_STATELESS_VERSION);
  ds->init_id = ds->next_id++;
  json_t *params = json_object();
  sg__ds_era_envelope(params);
  json_t *id = json_integer(ds->init_id);
  json_t *msg = sg_rpc_request(id, "server/discover", params);
  ds_send(ds, msg);
  json_decref(msg);
  json_decref(id);
}

static unsigned initializations;

/* The answer to server/discover: the result (borrowed) when there was one, else why it
 * failed. A server that serves the era is listed at once, with no handshake; one that
 * does not is initialized instead when the catalog says "auto", and given up otherwise. */
static void discovered(sg_downstream_t *ds, json_t *result, const char *failure) {
  ds->discovering = 0;
  if (result && sg__ds_era_offered(result)) {
    ds->stateless = 1;
    ds->generation = ++initializations;
    sg_debug("downstream %s speaks protocol %s (stateless)", ds->conf->name,
             SG_DS_STATELESS_VERSION);
    start_listing(ds);
    return;
  }
  char why[600];
  if (result) snprintf(why, sizeof why, "does not offer protocol %s", SG_DS_STATELESS_VERSION);
  else snprintf(why, sizeof why, "%s", failure);
  if (ds->conf->protocol == SG_DS_PROTO_AUTO) {
    sg_info("downstream %s: server/discover: %s; initializing a session instead",
            ds->conf->name, why);
    sg_http_link_set_stateless(ds->link, 0);
    sg_http_link_set_protocol(ds->link, NULL);
    send_initialize(ds);
    return;
  }
  char full[700];
  snprintf(full, sizeof full, "answered server/discover but %s", why);
  sg_error("downstream %s %s", ds->conf->name, full);
  abandon(ds, 0, full);
}

/* Gives up on the current process (sending it sig) or session. */
static void abandon(sg_downstream_t *ds, int sig, const char *why) {
  if (ds->child && sig) uv_process_kill(&ds->child->proc, sig);
  child_gone(ds, why);
}

static void send_tools_list(sg_downstream_t *ds, const char *cursor) {
  ds->list_id = ds->next_id++;
  json_t *id = json_integer(ds->list_id);
  json_t *params = cursor ? json_pack("{s:s}", "cursor", cursor) : NULL;
  if (ds->stateless) {
    if (params == NULL) params = json_object();
    sg__ds_era_envelope(params);
  }
  json_t *msg = sg_rpc_request(id, "tools/list", params);
  ds_send(ds, msg);
  json_decref(msg);
  json_decref(id);
}

/* Asks the server what it advertises. Calls wait in the queue until the answer has been
 * compared with the catalog, so none reaches a tool that changed unnoticed. */
static void start_listing(sg_downstream_t *ds) {
  ds->state = DS_LISTING;
  json_decref(ds->listing);
  ds->listing = json_array();
  ds->listing_deadline_us =
      sg_mono_us() + (ds->was_ready ? ds->conf->call_timeout_ms : ds->conf->startup_timeout_ms) * 1000u;
  send_tools_list(ds, NULL);
}

static void finish_listing(sg_downstream_t *ds, json_t *tools) {
  ds->list_id = 0;
  if (ds->events.on_tools) ds->events.on_tools(ds, tools, ds->events.arg);
  json_decref(ds->listing);
  ds->listing = NULL;
  if (!ds->was_ready) {
    ds->was_ready = 1;
    ds->ready_since_us = sg_mono_us();
    sg_info("downstream %s ready", ds->conf->name);
  }
  ds->state = DS_READY;
  uint64_t now = sg_mono_us();
  while (!list_empty(&ds->queue)) {
    sg_ds_request_t *r = ds->queue.next;
    list_remove(r);
    ds->nqueued--;
    r->deadline_us = now + ds->conf->call_timeout_ms * 1000u;
    list_push(&ds->inflight, r);
    /* A call that waited while the tools were checked must not reach one that drifted. */
    const char *drift = strcmp(r->method, "tools/call") == 0
                            ? sg_downstream_quarantined(ds, json_string_value(json_object_get(r->params, "name")))
                            : NULL;
    if (drift) {
      json_decref(r->params); /* no longer queued (nqueued was counted down above) */
      r->params = NULL;
      char why[300];
      snprintf(why, sizeof why, "the tool is quarantined: %s", drift);
      request_fail(r, SG_ETOOL_DRIFT, why);
    } else if (send_request(ds, r) != 0) {
      request_fail(r, SG_EDOWNSTREAM, "could not write to the downstream server");
    }
  }
}

/* One page of tools/list: collect it, then ask for the next or finish. */
static void listing_page(sg_downstream_t *ds, json_t *result) {
  json_t *tools = json_object_get(result, "tools");
  const char *cursor = json_string_value(json_object_get(result, "nextCursor"));
  if (!json_is_array(tools) || json_array_size(ds->listing) > 10000) {
    sg_warn("downstream %s sent an unusable tools/list answer", ds->conf->name);
    finish_listing(ds, NULL);
    return;
  }
  json_array_extend(ds->listing, tools);
  if (cursor) send_tools_list(ds, cursor);
  else finish_listing(ds, ds->listing);
}

static void initialized(sg_downstream_t *ds, json_t *result) {
  const char *version = json_string_value(json_object_get(result, "protocolVersion"));
  static const char *const supported[] = {"2025-03-26", "2025-06-18", "2025-11-25", NULL};
  int ok = 0;
  for (const char *const *v = supported; version && *v; v++)
    if (strcmp(version, *v) == 0) ok = 1;
  if (!ok) {
    sg_error("downstream %s answered initialize with unsupported protocol version %s",
             ds->conf->name, version ? version : "(none)");
    abandon(ds, SIGTERM, "speaks an unsupported protocol version");
    return;
  }
  if (ds->link) sg_http_link_set_protocol(ds->link, version);
  json_t *note = sg_rpc_notification("notifications/initialized", NULL);
  ds_send(ds, note);
  json_decref(note);
  /* What the server sends of its own accord (resource updates, list changes) comes on
   * the session's GET stream. */
  if (ds->link) sg_http_link_listen(ds->link);
  sg_debug("downstream %s initialized (protocol %s)", ds->conf->name, version);
  /* Numbered across all instances, so that a number never names two initializations,
   * even of instances that came and went at the same address. */
  ds->generation = ++initializations;
  start_listing(ds);
}

static sg_ds_request_t *find_inflight(sg_downstream_t *ds, json_t *id) {
  if (!json_is_integer(id)) return NULL;
  int64_t want = json_integer_value(id);
  for (sg_ds_request_t *r = ds->inflight.next; r != &ds->inflight; r = r->next)
    if (r->id == want) return r;
  return NULL;
}

static void handle_line(sg_downstream_t *ds, child_t *c, const char *line, size_t len) {
  (void)c;
  sg_json_limits_t lim = {MAX_LINE, 256};
  char err[256];
  json_t *msg = NULL;
  if (sg_json_parse(line, len, &lim, &msg, err, sizeof err) != 0) {
    sg_warn("downstream %s sent invalid JSON (%s); ignored", ds->conf->name, err);
    return;
  }
  handle_message(ds, msg);
  json_decref(msg);
}

/* One message from the server (borrowed), whichever transport carried it. */
static void handle_message(sg_downstream_t *ds, json_t *msg) {
  char err[256];
  sg_rpc_msg_t m;
  if (sg_rpc_classify(msg, &m, err, sizeof err) != 0) {
    sg_warn("downstream %s sent an invalid message (%s); ignored", ds->conf->name, err);
    return;
  }
  switch (m.kind) {
    case SG_MSG_RESULT:
    case SG_MSG_ERROR: {
      if (ds->state == DS_LISTING && json_is_integer(m.id) &&
          json_integer_value(m.id) == ds->list_id) {
        char why[200];
        if (m.kind == SG_MSG_RESULT && ds->stateless &&
            sg__ds_era_take_result(m.result, why, sizeof why) != 0) {
          sg_warn("downstream %s %s to tools/list", ds->conf->name, why);
          finish_listing(ds, NULL);
        } else if (m.kind == SG_MSG_RESULT) {
          listing_page(ds, m.result);
        } else {
          sg_warn("downstream %s refused tools/list", ds->conf->name);
          finish_listing(ds, NULL);
        }
        break;
      }
      if (ds->state == DS_STARTING && json_is_integer(m.id) &&
          json_integer_value(m.id) == ds->init_id) {
        if (ds->discovering) {
          char why[300] = "";
          if (m.kind == SG_MSG_ERROR)
            snprintf(why, sizeof why, "answered with error %lld: %.200s",
                     (long long)json_integer_value(json_object_get(m.error, "code")),
                     json_string_value(json_object_get(m.error, "message"))
                         ? json_string_value(json_object_get(m.error, "message")) : "");
          discovered(ds, m.kind == SG_MSG_RESULT ? m.result : NULL, why);
        } else if (m.kind == SG_MSG_RESULT) {
          initialized(ds, m.result);
        } else {
          sg_error("downstream %s refused initialize", ds->conf->name);
          abandon(ds, SIGTERM, "refused to initialize");
        }
        break;
      }
      sg_ds_request_t *r = find_inflight(ds, m.id);
      if (r == NULL) {
        sg_debug("downstream %s answered unknown id; ignored", ds->conf->name);
        break;
      }
      char why[300], full[400];
      if (m.kind == SG_MSG_RESULT && ds->stateless &&
          sg__ds_era_take_result(m.result, why, sizeof why) != 0) {
        snprintf(full, sizeof full, "downstream server \"%s\" %s", ds->conf->name, why);
        request_fail(r, SG_EDOWNSTREAM, full);
        break;
      }
      list_remove(r);
      r->cb(r->ctx, 0, msg, NULL);
      request_free(r);
      retire_if_idle(ds);
      break;
    }
    case SG_MSG_REQUEST: {
      /* Servers may ping; nothing else is asked of a client that declared no
       * capabilities. */
      json_t *reply = strcmp(m.method, "ping") == 0
                          ? sg_rpc_result(m.id, json_object())
                          : sg_rpc_error(m.id, -32601, "method not found", NULL);
      ds_send(ds, reply);
      json_decref(reply);
      break;
    }
    case SG_MSG_NOTIFICATION:
      if (strcmp(m.method, "notifications/progress") == 0) {
        sg_ds_request_t *r = find_inflight(ds, json_object_get(m.params, "progressToken"));
        if (r && r->pcb) r->pcb(r->ctx, m.params);
      } else if (strcmp(m.method, "notifications/tools/list_changed") == 0) {
        sg_info("downstream %s says its tools changed; checking them again", ds->conf->name);
        if (ds->state == DS_READY) start_listing(ds);
        else if (ds->state == DS_LISTING) {
          json_array_clear(ds->listing);
          send_tools_list(ds, NULL);
        }
      } else if (strcmp(m.method, "notifications/resources/updated") == 0) {
        const char *uri = json_string_value(json_object_get(m.params, "uri"));
        if (uri && ds->events.on_resource_updated)
          ds->events.on_resource_updated(ds, uri, ds->events.arg);
        else if (uri == NULL)
          sg_warn("downstream %s sent resources/updated without a uri; ignored", ds->conf->name);
      } else {
        sg_debug("downstream %s notification %s", ds->conf->name, m.method);
      }
      break;
  }
}

/* Tells the server that request id is no longer wanted. The stateless era has no
 * notification for it: dropping the request's connection (sg_http_link_forget, which
 * the callers do) is how a request of that era is cancelled. */
static void send_cancelled(sg_downstream_t *ds, int64_t id, const char *reason) {
  if (ds->stateless) return;
  json_t *note = sg_rpc_notification(
      "notifications/cancelled",
      json_pack("{s:I, s:s}", "requestId", (json_int_t)id, "reason", reason));
  ds_send(ds, note);
  json_decref(note);
}

/* ---- timers ---- */

static void sweep_cb(uv_timer_t *t) {
  sg_downstream_t *ds = t->data;
  uint64_t now = sg_mono_us();
  char why[256];
  for (sg_ds_request_t *r = ds->queue.next, *next; r != &ds->queue; r = next) {
    next = r->next;
    if (r->deadline_us > now) continue;
    snprintf(why, sizeof why, "downstream server \"%s\" did not become ready within %llu ms",
             ds->conf->name, (unsigned long long)ds->conf->startup_timeout_ms);
    request_fail(r, SG_EDOWNSTREAM, why);
    next = ds->queue.next; /* the callback may have changed the list */
  }
  for (sg_ds_request_t *r = ds->inflight.next, *next; r != &ds->inflight; r = next) {
    next = r->next;
    if (r->deadline_us > now) continue;
    snprintf(why, sizeof why, "downstream server \"%s\" did not answer within %llu ms",
             ds->conf->name, (unsigned long long)ds->conf->call_timeout_ms);
    send_cancelled(ds, r->id, "timed out at the gateway");
    if (ds->link) sg_http_link_forget(ds->link, r->id);
    request_fail(r, SG_EDOWNSTREAM_TIMEOUT, why);
    next = ds->inflight.next;
  }
  if (ds->state == DS_LISTING && (ds->child || ds->link) && now > ds->listing_deadline_us) {
    sg_error("downstream %s did not answer tools/list in time", ds->conf->name);
    if (!ds->was_ready) {
      abandon(ds, SIGKILL, "did not list its tools in time");
    } else {
      finish_listing(ds, NULL);
    }
  }
  if (ds->state == DS_STARTING && (ds->child || ds->link) && now > ds->startup_deadline_us) {
    sg_error("downstream %s did not answer initialize in time", ds->conf->name);
    abandon(ds, SIGKILL, "did not initialize in time");
  }
}

static void kill_cb(uv_timer_t *t) {
  sg_downstream_t *ds = t->data;
  /* Any process not yet exited during close: first a TERM, then a KILL. */
  child_t *c = ds->child;
  if (c == NULL || c->exited) return;
  int sig = uv_timer_get_repeat(t) ? SIGTERM : SIGKILL;
  uv_process_kill(&c->proc, sig);
  if (sig == SIGTERM) {
    uv_timer_stop(t);
    uv_timer_start(t, kill_cb, KILL_AFTER_MS - TERM_AFTER_MS, 0);
  }
}

/* ---- public API ---- */

int sg_downstream_start(uv_loop_t *loop, const sg_server_conf_t *conf, const char *tenant,
                        const char *env, char **extra_env, const sg_ds_events_t *events,
                        sg_downstream_t **out) {
  sg_downstream_t *ds = calloc(1, sizeof *ds);
  if (ds == NULL) return SG_ENOMEM;
  ds->loop = loop;
  ds->conf = conf;
  ds->tenant = strdup(tenant);
  ds->env = strdup(env);
  ds->extra_env = extra_env;
  if (events) ds->events = *events;
  ds->quarantine = json_object();
  list_init(&ds->queue);
  list_init(&ds->inflight);
  ds->next_id = 1;
  ds->backoff_ms = BACKOFF_FIRST_MS;
  uv_timer_init(loop, &ds->restart_timer);
  uv_timer_init(loop, &ds->sweep_timer);
  uv_timer_init(loop, &ds->kill_timer);
  ds->restart_timer.data = ds->sweep_timer.data = ds->kill_timer.data = ds;
  ds->timers_open = 3;
  uv_timer_start(&ds->sweep_timer, sweep_cb, SWEEP_INTERVAL_MS, SWEEP_INTERVAL_MS);
  ds->state = DS_BACKOFF;
  spawn_child(ds);
  *out = ds;
  return 0;
}

int sg_downstream_request(sg_downstream_t *ds, const char *method, json_t *params,
                          sg_ds_response_cb cb, sg_ds_progress_cb pcb, void *ctx,
                          sg_ds_request_t **handle) {
  if (ds->state == DS_CLOSING || ds->retiring) {
    json_decref(params);
    return SG_ESHUTDOWN;
  }
  if (ds->state != DS_READY && ds->nqueued >= QUEUE_LIMIT) {
    json_decref(params);
    return SG_EDOWNSTREAM;
  }
  sg_ds_request_t *r = calloc(1, sizeof *r);
  if (r == NULL) {
    json_decref(params);
    return SG_ENOMEM;
  }
  r->ds = ds;
  r->id = ds->next_id++;
  r->method = strdup(method);
  r->params = params ? params : json_object();
  r->cb = cb;
  r->pcb = pcb;
  r->ctx = ctx;
  uint64_t now = sg_mono_us();
  if (ds->state == DS_READY) {
    r->deadline_us = now + ds->conf->call_timeout_ms * 1000u;
    list_push(&ds->inflight, r);
    if (send_request(ds, r) != 0) {
      list_remove(r);
      request_free(r);
      return SG_EDOWNSTREAM;
    }
  } else {
    r->deadline_us = now + ds->conf->startup_timeout_ms * 1000u;
    list_push(&ds->queue, r);
    ds->nqueued++;
  }
  if (handle) *handle = r;
  return 0;
}

void sg_downstream_cancel(sg_ds_request_t *r, const char *reason) {
  sg_downstream_t *ds = r->ds;
  if (r->params == NULL && (ds->child || ds->link)) {
    send_cancelled(ds, r->id, reason);
    if (ds->link) sg_http_link_forget(ds->link, r->id);
  }
  request_fail(r, SG_ECANCELLED, reason);
}

static void timer_closed(uv_handle_t *h) {
  sg_downstream_t *ds = h->data;
  if (--ds->timers_open > 0) return;
  void (*done)(void *) = ds->close_done;
  void *arg = ds->close_arg;
  free(ds->tenant);
  free(ds->env);
  if (ds->extra_env) {
    for (char **e = ds->extra_env; *e; e++) {
      /* Credentials: wipe before freeing. */
      memset(*e, 0, strlen(*e));
      free(*e);
    }
    free(ds->extra_env);
  }
  json_decref(ds->listing);
  json_decref(ds->quarantine);
  free(ds);
  if (done) done(arg);
}

static void finish_close(sg_downstream_t *ds) {
  if (ds->state != DS_CLOSING || ds->children_open > 0) return;
  if (uv_is_closing((uv_handle_t *)&ds->sweep_timer)) return;
  uv_close((uv_handle_t *)&ds->restart_timer, timer_closed);
  uv_close((uv_handle_t *)&ds->sweep_timer, timer_closed);
  uv_close((uv_handle_t *)&ds->kill_timer, timer_closed);
}

void sg_downstream_close(sg_downstream_t *ds, void (*done)(void *arg), void *arg) {
  if (done || ds->close_done == NULL) {
    ds->close_done = done;
    ds->close_arg = arg;
  }
  if (ds->state == DS_CLOSING) return;
  ds->state = DS_CLOSING;
  uv_timer_stop(&ds->restart_timer);
  uv_timer_stop(&ds->sweep_timer);
  fail_all(&ds->queue, SG_ESHUTDOWN, "the gateway is shutting down");
  fail_all(&ds->inflight, SG_ESHUTDOWN, "the gateway is shutting down");
  child_t *c = ds->child;
  if (c && !c->exited) {
    /* Closing stdin is the polite way to ask an MCP stdio server to exit. */
    if (!uv_is_closing((uv_handle_t *)&c->in)) uv_close((uv_handle_t *)&c->in, child_handle_closed);
    uv_timer_start(&ds->kill_timer, kill_cb, TERM_AFTER_MS, 1);
  }
  if (ds->link) {
    /* Ends the session (DELETE); link_closed counts it down. */
    sg_http_link_t *link = ds->link;
    ds->link = NULL;
    sg_http_link_close(link);
  }
  finish_close(ds);
}

/* A retiring instance stops once nothing is queued or in flight. */
static void retire_if_idle(sg_downstream_t *ds) {
  if (ds->retiring && ds->state != DS_CLOSING && list_empty(&ds->queue) && list_empty(&ds->inflight))
    sg_downstream_close(ds, NULL, NULL);
}

void sg_downstream_retire(sg_downstream_t *ds, void (*done)(void *arg), void *arg) {
  ds->retiring = 1;
  ds->close_done = done;
  ds->close_arg = arg;
  retire_if_idle(ds);
}

void sg_downstream_relist(sg_downstream_t *ds) {
  if (ds->state == DS_READY) start_listing(ds);
}

const char *sg_downstream_name(const sg_downstream_t *ds) { return ds->conf->name; }

const char *sg_downstream_tenant(const sg_downstream_t *ds) { return ds->tenant; }

const char *sg_downstream_env(const sg_downstream_t *ds) { return ds->env; }

const sg_server_conf_t *sg_downstream_conf(const sg_downstream_t *ds) { return ds->conf; }

void sg_downstream_set_quarantine(sg_downstream_t *ds, json_t *quarantine) {
  json_decref(ds->quarantine);
  ds->quarantine = quarantine ? quarantine : json_object();
}

const char *sg_downstream_quarantined(const sg_downstream_t *ds, const char *tool) {
  return json_string_value(json_object_get(ds->quarantine, tool));
}

unsigned sg_downstream_generation(const sg_downstream_t *ds) { return ds->generation; }

int sg_downstream_pid(const sg_downstream_t *ds) { return ds->child ? ds->child->pid : 0; }

int sg_downstream_matches(const sg_downstream_t *ds, const sg_server_conf_t *conf,
                          const char *tenant, const char *env) {
  return strcmp(ds->conf->name, conf->name) == 0 && strcmp(ds->tenant, tenant) == 0 &&
         strcmp(ds->env, env) == 0;
}
