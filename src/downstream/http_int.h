/*
 * The inside of a Streamable HTTP link, shared by http.c (the link, its POSTs and the
 * loop side of libcurl's multi interface) and http_stream.c (the GETs that start later:
 * the session's stream and the resumption of cut answers). Nothing outside
 * src/downstream/http*.c includes it.
 *
 * Ownership: a transfer (xfer_t) belongs to its link's list from sg__http_xfer_new until
 * sg__http_xfer_free; its strings and buffers are its own. An event owns its message
 * and its why.
 */
#ifndef SG_DOWNSTREAM_HTTP_INT_H
#define SG_DOWNSTREAM_HTTP_INT_H

#include <curl/curl.h>
#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "core/buf.h"
#include "downstream/http.h"
#include "downstream/sse_reader.h"

#define MAX_BODY (64u * 1024u * 1024u)
#define MAX_ERROR_BODY 4096u /* enough for a JSON-RPC error in the body */
#define DELETE_TIMEOUT_MS 2000L
/* Spelled without a suffix: the refusal message quotes it (SG_SPELL). */
#define MAX_SESSION_ID 1024
#define SG_SPELL_(x) #x
#define SG_SPELL(x) SG_SPELL_(x)
#define RESUME_ATTEMPTS 4 /* tries to resume one answer without new events */
#define RESUME_FIRST_MS 250u
#define LISTEN_FIRST_MS 500u
#define RETRY_MAX_MS 30000u /* also bounds a server's "retry:" */

/* POST: a message; LISTEN: the session's GET stream; RESUME: a GET continuing the
 * answer to request id after Last-Event-ID; DELETE: ending the session. */
typedef enum { X_POST, X_LISTEN, X_RESUME, X_DELETE } xfer_kind_t;

typedef struct xfer {
  struct xfer *prev, *next;
  sg_http_link_t *link;
  CURL *easy;
  struct curl_slist *headers;
  xfer_kind_t kind;
  int64_t id; /* the request it carries, when has_id */
  int has_id;
  int answered; /* its response has been seen */
  int sse;      /* the answer is an event stream */
  int pending;  /* waits until due_ms (loop time) before it is added to curl */
  uint64_t due_ms;
  int attempts;              /* RESUME: resumptions tried since events last came */
  int events;                /* events dispatched by this transfer */
  char *event_id;            /* SSE: the id of the last event dispatched (or inherited) */
  sg_buf_t body;             /* the answer when not an event stream, or the start of a refusal */
  sg_sse_reader_t events_in; /* SSE: the answer's event stream, and its "retry:" */
  const char *bad;           /* why what the server sent was refused, when it was */
  char errbuf[CURL_ERROR_SIZE];
} xfer_t;

typedef enum { EV_MESSAGE, EV_UNANSWERED, EV_FAILED } ev_kind_t;

typedef struct event {
  struct event *next;
  ev_kind_t kind;
  json_t *msg;
  int64_t id;
  char *why;
} event_t;

typedef struct sock {
  struct sock *next; /* the link's sockets, while their poll is open */
  uv_poll_t poll;
  sg_http_link_t *link;
  curl_socket_t fd;
} sock_t;

struct sg_http_link {
  uv_loop_t *loop;
  CURLM *multi;
  uv_timer_t timer;
  uv_timer_t retry_timer; /* starts pending transfers */
  int open_handles;       /* both timers and every poll */
  char *url;
  char **headers; /* "NAME: value", sent with every request */
  char *session;
  char *protocol;
  uint64_t connect_timeout_ms;
  xfer_t xfers; /* list head */
  sock_t *socks;
  event_t *ev_head, *ev_tail;
  int failed;
  int closing;
  int multi_gone; /* curl_multi_cleanup has been called */
  int listening;  /* the GET stream is wanted */
  int stateless;  /* speaks the 2026-07-28 era: no session, method headers */
  uint64_t listen_backoff_ms;
  int listen_warned; /* its failures were reported once since it last worked */
  sg_http_link_cbs_t cbs;
  void *arg;
};
/* Queues what a transfer yielded, for delivery once curl has returned (steals msg). */
void sg__http_push_event(sg_http_link_t *l, ev_kind_t kind, json_t *msg, int64_t id,
                         const char *why);
/* Delivers queued events; a callback may close the link, which ends delivery. */
void sg__http_drain(sg_http_link_t *l);
/* A transfer of the given kind carrying the link's headers, in the link's list; a GET
 * that continues a stream names the last event seen (last_event_id, may be NULL). */
xfer_t *sg__http_xfer_new(sg_http_link_t *l, xfer_kind_t kind, const char *last_event_id);
void sg__http_xfer_free(xfer_t *x);

/* http_stream.c: asks again for the rest of x's answer after a delay; -1 when the
 * attempts are spent. */
int sg__http_resume(xfer_t *x);
/* http_stream.c: the session's stream x ended (res, HTTP status): reopen it or not. */
void sg__http_listen_ended(xfer_t *x, CURLcode res, long status);

#endif
