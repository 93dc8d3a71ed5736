/*
 * The gateway's shared machinery around the audit store: outcomes are queued and
 * written with the next decision's transaction (or by a short timer when no decision
 * follows), so a call costs one transaction, not two; and the WAL is checkpointed every
 * second on a worker thread through a second handle, so the fsyncs a checkpoint needs
 * never stall the loop.
 */
#include "mcp/gateway.h"

#include "core/error.h"
#include "core/log.h"
#include "policy/drift.h"

static void flush_cb(uv_timer_t *t) {
  sg_gateway_t *gw = t->data;
  if (sg_store_flush(gw->store) != 0) {
    sg_error("audit: could not write %zu call outcomes (will retry): %s",
             sg_store_pending(gw->store), sg_store_errmsg(gw->store));
    uv_timer_start(&gw->flush_timer, flush_cb, 100, 0);
  }
}

void sg_gateway_audit_outcome(sg_gateway_t *gw, const char *call_id, const char *tool,
                              const char *outcome, const char *reason, int64_t latency_us,
                              const char *detail) {
  int rc = sg_store_audit_outcome_later(gw->store, call_id, tool, outcome, reason, latency_us,
                                        detail);
  if (rc != 0) {
    sg_error("audit: could not record the outcome of call %s: %s", call_id,
             sg_store_errmsg(gw->store));
    return;
  }
  if (!gw->closing && !uv_is_active((uv_handle_t *)&gw->flush_timer))
    uv_timer_start(&gw->flush_timer, flush_cb, SG_OUTCOME_FLUSH_MS, 0);
}

void sg_gateway_on_tools(sg_downstream_t *ds, json_t *tools, void *arg) {
  sg_gateway_t *gw = arg;
  json_t *drift = sg_drift_check(gw->catalog, sg_downstream_conf(ds), tools);
  const char *tool;
  json_t *why;
  json_object_foreach(drift, tool, why) {
    sg_warn("drift: downstream %s (tenant %s, env %s) tool %s: %s; the tool is quarantined",
            sg_downstream_name(ds), sg_downstream_tenant(ds), sg_downstream_env(ds), tool,
            json_string_value(why));
    if (sg_store_audit_note(gw->store, "drift", sg_downstream_tenant(ds), sg_downstream_env(ds),
                            tool, "tool_drift", json_string_value(why)) != 0)
      sg_error("audit: could not record drift of %s: %s", tool, sg_store_errmsg(gw->store));
  }
  sg_downstream_set_quarantine(ds, drift);
  sg__subs_instance_ready(gw, ds);
}

int sg_gateway_reload(sg_gateway_t *gw, const char *dir) {
  sg_catalog_t *fresh = NULL;
  sg_buf_t errors;
  sg_buf_init(&errors);
  if (sg_catalog_load(dir, &fresh, &errors) != 0) {
    sg_error("catalog reload refused; the current catalog stays:\n%s", errors.data ? errors.data : "");
    if (sg_store_audit_note(gw->store, "catalog_reload", NULL, NULL, NULL, "catalog_refused",
                            errors.data) != 0)
      sg_error("audit: could not record the refused reload: %s", sg_store_errmsg(gw->store));
    sg_buf_free(&errors);
    return SG_ECATALOG;
  }
  sg_buf_free(&errors);
  sg_catalog_t *old = gw->catalog;
  gw->catalog = fresh;
  sg_pool_set_catalog(gw->pool, fresh);
  sg_catalog_unref(old); /* calls in flight hold their own references */
  sg_info("catalog reloaded from %s", dir);
  if (sg_store_audit_note(gw->store, "catalog_reload", NULL, NULL, NULL, "catalog_loaded", dir) != 0)
    sg_error("audit: could not record the reload: %s", sg_store_errmsg(gw->store));
  return 0;
}

static void checkpoint_work(uv_work_t *w) {
  sg_gateway_t *gw = w->data;
  if (sg_store_checkpoint(gw->checkpoint_store) != 0)
    sg_warn("audit: %s", sg_store_errmsg(gw->checkpoint_store));
}

static void maybe_closed(sg_gateway_t *gw) {
  if (!gw->closing || gw->open_handles > 0 || gw->checkpoint_running) return;
  void (*done)(void *) = gw->closed_cb;
  gw->closed_cb = NULL;
  if (done) done(gw->closed_arg);
}

static void checkpoint_done(uv_work_t *w, int status) {
  (void)status;
  sg_gateway_t *gw = w->data;
  gw->checkpoint_running = 0;
  maybe_closed(gw);
}

static void checkpoint_cb(uv_timer_t *t) {
  sg_gateway_t *gw = t->data;
  if (gw->checkpoint_running || gw->checkpoint_store == NULL) return;
  gw->checkpoint_running = 1;
  gw->checkpoint_work.data = gw;
  if (uv_queue_work(gw->loop, &gw->checkpoint_work, checkpoint_work, checkpoint_done) != 0)
    gw->checkpoint_running = 0;
}

void sg_gateway_start(sg_gateway_t *gw) {
  uv_timer_init(gw->loop, &gw->flush_timer);
  uv_timer_init(gw->loop, &gw->checkpoint_timer);
  uv_timer_init(gw->loop, &gw->approval_timer);
  gw->flush_timer.data = gw->checkpoint_timer.data = gw->approval_timer.data = gw;
  gw->open_handles = 3;
  /* Approvals left pending by a gateway that died can never be used; show them expired. */
  size_t stale = 0;
  if (sg_store_approval_expire_stale(gw->store, NULL, &stale) == 0 && stale)
    sg_info("%zu approvals past their time were marked expired", stale);
  uv_timer_start(&gw->checkpoint_timer, checkpoint_cb, SG_CHECKPOINT_INTERVAL_MS,
                 SG_CHECKPOINT_INTERVAL_MS);
}

static void timer_closed(uv_handle_t *h) {
  sg_gateway_t *gw = h->data;
  gw->open_handles--;
  maybe_closed(gw);
}

void sg_gateway_stop(sg_gateway_t *gw, void (*done)(void *arg), void *arg) {
  gw->closing = 1;
  gw->closed_cb = done;
  gw->closed_arg = arg;
  if (sg_store_flush(gw->store) != 0)
    sg_error("audit: could not write %zu call outcomes: %s", sg_store_pending(gw->store),
             sg_store_errmsg(gw->store));
  uv_close((uv_handle_t *)&gw->flush_timer, timer_closed);
  uv_close((uv_handle_t *)&gw->checkpoint_timer, timer_closed);
  uv_close((uv_handle_t *)&gw->approval_timer, timer_closed);
}
