/*
 * The GETs of a Streamable HTTP link that start later than asked for (see http_int.h):
 *
 * - the session's stream of server-initiated messages (sg_http_link_listen), opened once
 *   the session is initialized and reopened with backoff, after the last event id it
 *   carried, whenever it ends while the link lives; 405 means the server has none;
 * - resumptions of answers whose stream ended before their response (cut, or closed by
 *   a server that polls): GET with Last-Event-ID, RESUME_ATTEMPTS in a row at most
 *   without news, as the 2025-11-25 transport describes.
 *
 * Neither counts as a request of its own: a resumption carries the id of the request
 * it finishes, and closing the link ends both at once. Transfers that wait for their
 * time are "pending": in the link's list, not yet in the multi handle; one timer starts
 * them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "downstream/http_int.h"

static void retry_cb(uv_timer_t *t);

static void arm_retry(sg_http_link_t *l) {
  uint64_t now = uv_now(l->loop), first = UINT64_MAX;
  for (xfer_t *x = l->xfers.next; x != &l->xfers; x = x->next)
    if (x->pending && x->due_ms < first) first = x->due_ms;
  if (first == UINT64_MAX)
    uv_timer_stop(&l->retry_timer);
  else
    uv_timer_start(&l->retry_timer, retry_cb, first > now ? first - now : 0, 0);
}

static void schedule(xfer_t *x, uint64_t delay_ms) {
  x->pending = 1;
  x->due_ms = uv_now(x->link->loop) + delay_ms;
  arm_retry(x->link);
}

/* The delay before a stream is opened again: the server's "retry:" when it gave one
 * (bounded, so that a server cannot make scopegate spin or wait forever), else ours. */
static uint64_t retry_delay(const xfer_t *x, uint64_t ours) {
  long ms = x->events_in.retry_ms;
  if (ms < 0) return ours;
  return ms < 100 ? 100 : (uint64_t)ms > RETRY_MAX_MS ? RETRY_MAX_MS : (uint64_t)ms;
}

/* Asks again for the rest of x's answer (GET with Last-Event-ID) after a delay. Returns
 * -1 when the attempts are spent: RESUME_ATTEMPTS in a row that brought no event. */
int sg__http_resume(xfer_t *x) {
  sg_http_link_t *l = x->link;
  int attempts = x->events > 0 ? 1 : x->attempts + 1;
  if (attempts > RESUME_ATTEMPTS) return -1;
  xfer_t *r = sg__http_xfer_new(l, X_RESUME, x->event_id);
  if (r == NULL) return -1;
  r->has_id = 1;
  r->id = x->id;
  r->attempts = attempts;
  r->events_in.retry_ms = x->events_in.retry_ms; /* a stream's "retry:" holds for its resumption */
  uint64_t delay = retry_delay(x, (uint64_t)RESUME_FIRST_MS << (attempts - 1));
  sg_debug(
      "downstream at %s: the answer to request %lld was cut; resuming after event %s in %llu ms",
      l->url, (long long)x->id, x->event_id, (unsigned long long)delay);
  schedule(r, delay);
  return 0;
}

static void open_listen(sg_http_link_t *l, const char *last_event_id, uint64_t delay_ms) {
  xfer_t *x = sg__http_xfer_new(l, X_LISTEN, last_event_id);
  if (x == NULL) {
    sg_warn("downstream at %s: no memory to open its stream; server-initiated messages are lost",
            l->url);
    return;
  }
  schedule(x, delay_ms);
}

/* The session's stream ended or was refused: reopen it unless the server has none. */
void sg__http_listen_ended(xfer_t *x, CURLcode res, long status) {
  sg_http_link_t *l = x->link;
  if (l->closing || l->failed || !l->listening) return;
  if (res == CURLE_OK && status == 405) {
    sg_debug("downstream at %s offers no stream of its own (HTTP 405 to GET)", l->url);
    l->listening = 0;
    return;
  }
  if (res == CURLE_OK && status == 404 && l->session) {
    char why[300];
    snprintf(why, sizeof why, "ended the session (HTTP 404 from %s to GET)", l->url);
    sg__http_push_event(l, EV_FAILED, NULL, 0, why);
    return;
  }
  if (x->events > 0) {
    l->listen_backoff_ms = LISTEN_FIRST_MS;
    l->listen_warned = 0;
  }
  uint64_t delay = retry_delay(x, l->listen_backoff_ms);
  l->listen_backoff_ms =
      l->listen_backoff_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : l->listen_backoff_ms * 2;
  if (res == CURLE_OK && status >= 300 && !l->listen_warned) {
    l->listen_warned = 1;
    sg_warn("downstream at %s answered HTTP %ld to the GET for its stream; trying again in %llu ms",
            l->url, status, (unsigned long long)delay);
  } else if (x->bad) {
    sg_warn("downstream at %s %s on its stream; reopening it in %llu ms", l->url, x->bad,
            (unsigned long long)delay);
  } else {
    sg_debug("downstream at %s: its stream ended (%s); reopening in %llu ms", l->url,
             res != CURLE_OK ? curl_easy_strerror(res) : "closed by the server",
             (unsigned long long)delay);
  }
  open_listen(l, x->event_id, delay);
}

/* Starts the pending transfers whose time has come. */
static void retry_cb(uv_timer_t *t) {
  sg_http_link_t *l = t->data;
  if (l->closing || l->failed) return;
  uint64_t now = uv_now(l->loop);
  for (xfer_t *x = l->xfers.next, *next; x != &l->xfers; x = next) {
    next = x->next;
    if (!x->pending || x->due_ms > now) continue;
    x->pending = 0;
    if (curl_multi_add_handle(l->multi, x->easy) == CURLM_OK) continue;
    if (x->kind == X_RESUME)
      sg__http_push_event(l, EV_UNANSWERED, NULL, x->id,
                          "cut its answer to the request and it could not be resumed");
    x->pending = 1; /* never added */
    sg__http_xfer_free(x);
  }
  arm_retry(l);
  sg__http_drain(l);
}

void sg_http_link_listen(sg_http_link_t *l) {
  if (l->failed || l->closing || l->listening) return;
  l->listening = 1;
  l->listen_backoff_ms = LISTEN_FIRST_MS;
  open_listen(l, NULL, 0);
}
