/*
 * Calls held for a person's approval. The gateway records a pending approval bound to
 * the call (its call id, tool, argument hash, tenant and subject), keeps the client's
 * request open, and watches the store: an approver acts from the CLI, the admin API or
 * the console, possibly through another process, so changes are noticed by polling
 * SQLite's data_version (cheap: it changes only when another connection commits).
 *
 *   held ──approved──▶ consume (binding checked by the store) ──▶ forwarded
 *     │ ──denied────▶ approval_denied
 *     │ ──cancelled─▶ writes_disabled (kill switch) or approval_cancelled
 *     │ ──timeout───▶ expire ──▶ approval_timeout
 *     └ ──withdrawn (client cancel / disconnect)──▶ cancel ──▶ no answer
 *
 * While a call waits, a client that gave a progress token gets a progress notification
 * every few seconds, so that it (and any timeout it keeps) knows the call is alive.
 */
#include <stdio.h>
#include <string.h>

#include "admin/metrics.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "downstream/pool.h"
#include "json/rpc.h"
#include "mcp/call_internal.h"

#define POLL_MS 200
#define PROGRESS_EVERY_US (5u * 1000000u)

static void unlink_waiting(sg_call_t *c) {
  sg_gateway_t *gw = c->session->gw;
  for (sg_call_t **p = &gw->waiting; *p; p = &(*p)->wait_next)
    if (*p == c) {
      *p = c->wait_next;
      sg_metrics_approval_settled((int64_t)(sg_mono_us() - c->start_us));
      break;
    }
  c->wait_next = NULL;
  if (gw->waiting == NULL) uv_timer_stop(&gw->approval_timer);
}

static void progress(sg_call_t *c, uint64_t now) {
  if (c->progress_token == NULL || now < c->next_progress_us) return;
  c->next_progress_us = now + PROGRESS_EVERY_US;
  char msg[120];
  snprintf(msg, sizeof msg, "waiting for approval %s", c->approval_id);
  json_t *p = json_pack("{s:O, s:f, s:s}", "progressToken", c->progress_token, "progress",
                        (double)(now - c->start_us) / 1e6, "message", msg);
  sg__session_send(c->session, sg_rpc_notification("notifications/progress", p));
}

/* The approval is granted: use it (the store checks that it is bound to exactly this
 * call) and forward the call. */
static void approved(sg_call_t *c) {
  sg_session_t *s = c->session;
  sg_store_approval_use_t use = {c->approval_id, c->call_id,         c->label, c->args_hash,
                                 s->principal.tenant, s->principal.subject};
  unlink_waiting(c);
  if (sg_store_approval_consume(s->gw->store, &use) != 0) {
    char why[600];
    snprintf(why, sizeof why, "the approval could not be used: %s", sg_store_errmsg(s->gw->store));
    sg__call_end(c, SG_EAPPROVAL_CANCELLED, "error", why);
    return;
  }
  sg_downstream_t *ds = NULL;
  char why[256];
  if (sg_pool_get(s->gw->pool, c->server, s->principal.tenant, s->principal.env, &ds, why,
                  sizeof why) != 0) {
    sg__call_end(c, SG_EDOWNSTREAM, "error", why);
    return;
  }
  sg__call_forward(c, ds);
}

static void settle(sg_call_t *c, const char *state) {
  char why[600];
  if (strcmp(state, "approved") == 0) {
    approved(c);
  } else if (strcmp(state, "denied") == 0) {
    sg_store_approval_t a;
    memset(&a, 0, sizeof a);
    sg_store_approval_get(c->session->gw->store, c->approval_id, &a);
    snprintf(why, sizeof why, "approval %s was denied by %s: %s", c->approval_id,
             a.approver ? a.approver : "an approver", a.reason ? a.reason : "no reason given");
    sg_store_approval_clear(&a);
    unlink_waiting(c);
    sg__call_end(c, SG_EAPPROVAL_DENIED, "error", why);
  } else if (strcmp(state, "cancelled") == 0) {
    int on = 0;
    int writes_off = sg_store_writes_enabled(c->session->gw->store, &on) != 0 || !on;
    snprintf(why, sizeof why, "approval %s was cancelled%s", c->approval_id,
             writes_off ? ": write tools are switched off by the operator" : "");
    unlink_waiting(c);
    sg__call_end(c, writes_off ? SG_EWRITES_DISABLED : SG_EAPPROVAL_CANCELLED, "error", why);
  } else if (strcmp(state, "expired") == 0) {
    snprintf(why, sizeof why, "approval %s expired: no approver acted in time", c->approval_id);
    unlink_waiting(c);
    sg__call_end(c, SG_EAPPROVAL_TIMEOUT, "timeout", why);
  }
  /* "pending": keep waiting. */
}

static void poll_cb(uv_timer_t *t) {
  sg_gateway_t *gw = t->data;
  uint64_t now = sg_mono_us();
  uint64_t version = 0;
  int changed = sg_store_data_version(gw->store, &version) != 0 || version != gw->data_version;
  gw->data_version = version;
  for (sg_call_t *c = gw->waiting, *next; c; c = next) {
    next = c->wait_next;
    if (now >= c->deadline_us) {
      /* An approval that landed since the last look is honoured; anything else is expired
       * in the store first, so that it cannot become usable afterwards. */
      char state[16] = "";
      if (sg_store_approval_state(gw->store, c->approval_id, state) == 0 &&
          strcmp(state, "pending") != 0) {
        settle(c, state);
        continue;
      }
      sg_store_approval_expire(gw->store, c->approval_id);
      if (sg_store_approval_state(gw->store, c->approval_id, state) != 0) snprintf(state, sizeof state, "expired");
      settle(c, strcmp(state, "pending") == 0 ? "expired" : state);
      continue;
    }
    if (changed) {
      char state[16] = "";
      if (sg_store_approval_state(gw->store, c->approval_id, state) == 0) settle(c, state);
      else continue;
      if (strcmp(state, "pending") != 0) continue;
    }
    progress(c, now);
  }
}

void sg__approval_hold(sg_call_t *c, const sg_grant_t *g, const char *args_json) {
  sg_session_t *s = c->session;
  sg_gateway_t *gw = s->gw;
  sg_store_approval_request_t req = {c->call_id,         c->label,       c->args_hash,
                                     args_json,          s->principal.tenant,
                                     s->principal.env,   s->principal.subject,
                                     s->principal.role,  (int64_t)g->approval_timeout_ms};
  if (sg_store_approval_create(gw->store, &req, c->approval_id) != 0) {
    char why[600];
    snprintf(why, sizeof why, "the approval request could not be recorded: %s",
             sg_store_errmsg(gw->store));
    sg__call_end(c, SG_EAUDIT, "error", why);
    return;
  }
  sg_info("call %s (%s by %s, tenant %s) waits for approval %s", c->call_id, c->label,
          s->principal.subject, s->principal.tenant, c->approval_id);
  uint64_t now = sg_mono_us();
  c->deadline_us = now + g->approval_timeout_ms * 1000u;
  c->next_progress_us = now;
  progress(c, now);
  c->wait_next = gw->waiting;
  gw->waiting = c;
  sg_metrics_approval_held();
  if (!uv_is_active((uv_handle_t *)&gw->approval_timer)) {
    sg_store_data_version(gw->store, &gw->data_version);
    uv_timer_start(&gw->approval_timer, poll_cb, POLL_MS, POLL_MS);
  }
}

void sg__approval_withdraw(sg_call_t *c, const char *why) {
  sg_gateway_t *gw = c->session->gw;
  unlink_waiting(c);
  const char *actor = c->session->principal.subject ? c->session->principal.subject : "gateway";
  if (sg_store_approval_cancel(gw->store, c->approval_id, actor, why) != 0)
    sg_warn("approval %s could not be cancelled: %s", c->approval_id, sg_store_errmsg(gw->store));
  sg__call_end(c, SG_ECANCELLED, "cancelled", why);
}
