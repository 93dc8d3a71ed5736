/*
 * Approvals and switches: the state a person changes while the gateway runs. Each change
 * is one write transaction that updates the row and appends its event to the audit chain
 * (store.h draws the approval state machine and names the function for each transition).
 * Inside the transaction the write lock is held, so the state read before an UPDATE is
 * the state the UPDATE changes; every UPDATE still names the state it leaves, and the
 * approvals_transitions trigger refuses any change the machine does not allow.
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/error.h"
#include "store/internal.h"

#define APPROVAL_COLUMNS                                                                    \
  "id, call_id, tool, args_hash, args_json, tenant, env, subject, role, state, created_at," \
  " expires_at, decided_at, approver, reason, used_at"

/* ---- switches --------------------------------------------------------------------- */

static const struct { const char *name, *dflt; } switches[] = {{"writes", "on"}};

static const char *switch_default(const char *name) {
  for (size_t i = 0; name && i < sizeof switches / sizeof switches[0]; i++)
    if (strcmp(name, switches[i].name) == 0) return switches[i].dflt;
  return NULL;
}

int sg_store_switch_get(sg_store_t *st, const char *name, sg_store_switch_t *out) {
  if (st == NULL || out == NULL) return SG_EINVAL;
  const char *dflt = switch_default(name);
  if (dflt == NULL) return sg__store_fail(st, SG_EINVAL, "no switch named '%s'", name ? name : "");
  memset(out, 0, sizeof *out);
  snprintf(out->value, sizeof out->value, "%s", dflt);
  int err = sg__store_prepare(st, &st->switch_get,
                              "SELECT value, updated_at, actor, reason FROM switches"
                              " WHERE name = ?1");
  if (err != 0) return err;
  sqlite3_stmt *s = st->switch_get;
  sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    const char *v[4];
    for (int i = 0; i < 4; i++) v[i] = (const char *)sqlite3_column_text(s, i);
    snprintf(out->value, sizeof out->value, "%s", v[0] ? v[0] : "off");
    snprintf(out->updated_at, sizeof out->updated_at, "%s", v[1] ? v[1] : "");
    snprintf(out->actor, sizeof out->actor, "%s", v[2] ? v[2] : "");
    snprintf(out->reason, sizeof out->reason, "%s", v[3] ? v[3] : "");
  }
  sqlite3_reset(s);
  if (rc == SQLITE_ROW || rc == SQLITE_DONE) return 0;
  return sg__store_db_fail(st, SG_EIO, "cannot read the switches");
}

int sg_store_writes_enabled(sg_store_t *st, int *on) {
  sg_store_switch_t sw;
  if (on == NULL) return SG_EINVAL;
  *on = 0;
  int rc = sg_store_switch_get(st, "writes", &sw);
  if (rc == 0) *on = strcmp(sw.value, "on") == 0;
  return rc;
}

static int cancel_all(sg_store_t *st, const char *actor, const char *reason, size_t *n);

int sg_store_writes_set(sg_store_t *st, int on, const char *actor, const char *reason,
                        size_t *cancelled) {
  char ts[32], code[16];
  sqlite3_stmt *s = NULL;
  size_t n = 0;
  if (st == NULL) return SG_EINVAL;
  if (actor == NULL || actor[0] == '\0')
    return sg__store_fail(st, SG_EINVAL, "a switch needs an actor");
  sg_wall_iso(ts);
  snprintf(code, sizeof code, "writes=%s", on ? "on" : "off");
  int rc = sg__store_begin(st);
  if (rc == 0 &&
      sqlite3_prepare_v2(st->db,
                         "INSERT INTO switches (name, value, updated_at, actor, reason)"
                         " VALUES ('writes', ?1, ?2, ?3, ?4) ON CONFLICT (name) DO UPDATE SET"
                         " value = excluded.value, updated_at = excluded.updated_at,"
                         " actor = excluded.actor, reason = excluded.reason",
                         -1, &s, NULL) != SQLITE_OK)
    rc = sg__store_db_fail(st, SG_EAUDIT, "cannot set the writes switch");
  if (rc == 0) {
    sqlite3_bind_text(s, 1, on ? "on" : "off", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, ts, -1, SQLITE_STATIC);
    sg__store_bind_text(s, 3, actor, SG_STORE_ACTOR_MAX);
    sg__store_bind_text(s, 4, reason, SG_AUDIT_DETAIL_MAX);
    if (sqlite3_step(s) != SQLITE_DONE)
      rc = sg__store_db_fail(st, SG_EAUDIT, "cannot set the writes switch");
  }
  sqlite3_finalize(s);
  sg__event_t ev = {.ts = ts,
                    .call_id = "-",
                    .event = "switch",
                    .reason = code,
                    .detail = reason,
                    .actor = actor,
                    .latency_us = -1};
  if (rc == 0) rc = sg__store_append(st, &ev);
  if (rc == 0 && !on) rc = cancel_all(st, actor, reason ? reason : "writes were turned off", &n);
  rc = sg__store_end(st, rc);
  if (rc == 0 && cancelled) *cancelled = n;
  return rc;
}

/* ---- reading approvals ------------------------------------------------------------ */

/* Points a's fields at the current row of s (selected with APPROVAL_COLUMNS). */
static void read_row(sqlite3_stmt *s, sg_store_approval_t *a) {
  char **f[] = {&a->id,         &a->call_id,  &a->tool,       &a->args_hash,
                &a->args_json,  &a->tenant,   &a->env,        &a->subject,
                &a->role,       &a->state,    &a->created_at, &a->expires_at,
                &a->decided_at, &a->approver, &a->reason,     &a->used_at};
  for (int i = 0; i < (int)(sizeof f / sizeof f[0]); i++) *f[i] = (char *)sqlite3_column_text(s, i);
}

void sg_store_approval_clear(sg_store_approval_t *a) {
  if (a == NULL) return;
  char *f[] = {a->id,         a->call_id,  a->tool,   a->args_hash, a->args_json,  a->tenant,
               a->env,        a->subject,  a->role,   a->state,     a->created_at, a->expires_at,
               a->decided_at, a->approver, a->reason, a->used_at};
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) free(f[i]);
  memset(a, 0, sizeof *a);
}

/* Replaces each borrowed string of a with a copy. On failure a holds what was copied. */
static int own_row(sg_store_approval_t *a) {
  char **f[] = {&a->id,         &a->call_id,  &a->tool,       &a->args_hash,
                &a->args_json,  &a->tenant,   &a->env,        &a->subject,
                &a->role,       &a->state,    &a->created_at, &a->expires_at,
                &a->decided_at, &a->approver, &a->reason,     &a->used_at};
  int err = 0;
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
    if (*f[i] == NULL) continue;
    if (err != 0 || (*f[i] = strdup(*f[i])) == NULL) {
      *f[i] = NULL;
      err = SG_ENOMEM;
    }
  }
  return err;
}

/* Loads approval id into a (owned). Returns 0, SG_EINVAL when absent, SG_ENOMEM, or err
 * when the database cannot be read. */
static int load(sg_store_t *st, const char *id, sg_store_approval_t *a, int err) {
  sqlite3_stmt *s = NULL;
  memset(a, 0, sizeof *a);
  if (id == NULL) return sg__store_fail(st, SG_EINVAL, "no approval id given");
  if (sqlite3_prepare_v2(st->db, "SELECT " APPROVAL_COLUMNS " FROM approvals WHERE id = ?1", -1, &s,
                         NULL) != SQLITE_OK)
    return sg__store_db_fail(st, err, "cannot read approvals");
  sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  int ret = 0;
  if (rc == SQLITE_ROW) {
    read_row(s, a);
    if ((ret = own_row(a)) != 0) sg__store_fail(st, ret, "out of memory");
  } else if (rc == SQLITE_DONE) {
    ret = sg__store_fail(st, SG_EINVAL, "there is no approval '%.64s'", id);
  } else {
    ret = sg__store_db_fail(st, err, "cannot read approvals");
  }
  sqlite3_finalize(s);
  return ret;
}

int sg_store_approval_get(sg_store_t *st, const char *id, sg_store_approval_t *out) {
  if (st == NULL || out == NULL) return SG_EINVAL;
  return load(st, id, out, SG_EIO);
}

int sg_store_approval_state(sg_store_t *st, const char *id, char state[16]) {
  if (st == NULL || id == NULL || state == NULL) return SG_EINVAL;
  int err = sg__store_prepare(st, &st->approval_state, "SELECT state FROM approvals WHERE id = ?1");
  if (err != 0) return err;
  sqlite3_stmt *s = st->approval_state;
  sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) snprintf(state, 16, "%s", (const char *)sqlite3_column_text(s, 0));
  sqlite3_reset(s);
  if (rc == SQLITE_ROW) return 0;
  if (rc == SQLITE_DONE) return sg__store_fail(st, SG_EINVAL, "there is no approval '%.64s'", id);
  return sg__store_db_fail(st, SG_EIO, "cannot read approvals");
}

int sg_store_approval_list(sg_store_t *st, int all, int limit,
                           void (*fn)(const sg_store_approval_t *a, void *arg), void *arg) {
  sqlite3_stmt *s = NULL;
  if (st == NULL || fn == NULL) return SG_EINVAL;
  const char *sql = all ? "SELECT " APPROVAL_COLUMNS
                          " FROM (SELECT *, rowid AS r FROM approvals"
                          " ORDER BY rowid DESC LIMIT ?1) ORDER BY r"
                        : "SELECT " APPROVAL_COLUMNS
                          " FROM approvals WHERE state = 'pending'"
                          " ORDER BY rowid LIMIT ?1";
  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
    return sg__store_db_fail(st, SG_EIO, "cannot read approvals");
  sqlite3_bind_int(s, 1, limit > 0 ? limit : -1);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    sg_store_approval_t a;
    read_row(s, &a);
    fn(&a, arg);
  }
  if (rc != SQLITE_DONE) sg__store_db_fail(st, SG_EIO, "cannot read approvals");
  sqlite3_finalize(s);
  return rc == SQLITE_DONE ? 0 : SG_EIO;
}

/* ---- changing approvals ----------------------------------------------------------- */

/* Appends the event for approval a, now in state (the event's reason code), in the
 * open transaction. */
static int approval_event(sg_store_t *st, const sg_store_approval_t *a, const char *ts,
                          const char *event, const char *state, const char *actor,
                          const char *detail, const char *args_json) {
  sg__event_t ev = {.ts = ts,
                    .call_id = a->call_id,
                    .event = event,
                    .subject = a->subject,
                    .role = a->role,
                    .tenant = a->tenant,
                    .env = a->env,
                    .tool = a->tool,
                    .args_hash = a->args_hash,
                    .reason = state,
                    .detail = detail,
                    .args_json = args_json,
                    .actor = actor,
                    .approval_id = a->id,
                    .latency_us = -1};
  return sg__store_append(st, &ev);
}

/* Runs an UPDATE of one approval that must change exactly one row. */
static int update_one(sg_store_t *st, sqlite3_stmt *s, const char *what) {
  int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE) return sg__store_db_fail(st, SG_EAUDIT, what);
  if (sqlite3_changes(st->db) != 1)
    return sg__store_fail(st, SG_EAUDIT, "%s in '%s': the approval changed meanwhile", what,
                          st->path);
  return 0;
}

/* Moves a (loaded in this transaction, in state pending or approved) to to ("expired" or
 * "cancelled"), keeping a decision already taken, and appends event. */
static int close_one(sg_store_t *st, sg_store_approval_t *a, const char *to, const char *event,
                     const char *actor, const char *reason) {
  char ts[32];
  sqlite3_stmt *s = NULL;
  sg_wall_iso(ts);
  if (sqlite3_prepare_v2(st->db,
                         "UPDATE approvals SET state = ?2, decided_at = COALESCE(decided_at, ?3),"
                         " approver = COALESCE(approver, ?4), reason = COALESCE(reason, ?5)"
                         " WHERE id = ?1 AND state = ?6",
                         -1, &s, NULL) != SQLITE_OK)
    return sg__store_db_fail(st, SG_EAUDIT, "cannot change an approval");
  sqlite3_bind_text(s, 1, a->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, to, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 3, ts, -1, SQLITE_STATIC);
  sg__store_bind_text(s, 4, actor, SG_STORE_ACTOR_MAX);
  sg__store_bind_text(s, 5, reason, SG_AUDIT_DETAIL_MAX);
  sqlite3_bind_text(s, 6, a->state, -1, SQLITE_STATIC);
  int rc = update_one(st, s, "cannot change an approval");
  sqlite3_finalize(s);
  if (rc == 0) rc = approval_event(st, a, ts, event, to, actor, reason, NULL);
  return rc;
}

/* Collects the ids of the approvals matching where (a condition on pending or approved
 * approvals, with ?1 bound to bind1 when not NULL). *ids is a NULL-terminated array. */
static int open_ids(sg_store_t *st, const char *sql, const char *bind1, char ***ids) {
  sqlite3_stmt *s = NULL;
  size_t n = 0, cap = 0;
  char **v = NULL;
  int err = 0;
  *ids = NULL;
  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
    return sg__store_db_fail(st, SG_EAUDIT, "cannot read approvals");
  if (bind1) sqlite3_bind_text(s, 1, bind1, -1, SQLITE_STATIC);
  int rc;
  while (err == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (n + 1 >= cap) {
      cap = cap ? cap * 2 : 16;
      char **nv = realloc(v, cap * sizeof *nv);
      if (nv == NULL) {
        err = SG_ENOMEM;
        break;
      }
      v = nv;
    }
    if ((v[n] = strdup((const char *)sqlite3_column_text(s, 0))) == NULL)
      err = SG_ENOMEM;
    else
      n++;
    v[n] = NULL;
  }
  if (err == 0 && rc != SQLITE_DONE)
    err = sg__store_db_fail(st, SG_EAUDIT, "cannot read approvals");
  else if (err != 0)
    sg__store_fail(st, err, "out of memory");
  sqlite3_finalize(s);
  *ids = v;
  return err;
}

static void free_ids(char **ids) {
  for (size_t i = 0; ids && ids[i]; i++) free(ids[i]);
  free(ids);
}

/* Closes every approval the query selects, in the open transaction. */
static int close_many(sg_store_t *st, const char *sql, const char *bind1, const char *to,
                      const char *event, const char *actor, const char *reason, size_t *n) {
  char **ids = NULL;
  int rc = open_ids(st, sql, bind1, &ids);
  *n = 0;
  for (size_t i = 0; rc == 0 && ids && ids[i]; i++) {
    sg_store_approval_t a;
    rc = load(st, ids[i], &a, SG_EAUDIT);
    if (rc == 0) rc = close_one(st, &a, to, event, actor, reason);
    sg_store_approval_clear(&a);
    if (rc == 0) (*n)++;
  }
  free_ids(ids);
  return rc;
}

static int cancel_all(sg_store_t *st, const char *actor, const char *reason, size_t *n) {
  return close_many(st,
                    "SELECT id FROM approvals WHERE state IN ('pending', 'approved')"
                    " ORDER BY rowid",
                    NULL, "cancelled", "approval_cancelled", actor, reason, n);
}

static int random_id(char id[SG_APPROVAL_ID_LEN + 1]) {
  unsigned char b[SG_APPROVAL_ID_LEN / 2];
  static const char hex[] = "0123456789abcdef";
  if (RAND_bytes(b, sizeof b) != 1) return SG_EIO;
  for (size_t i = 0; i < sizeof b; i++) {
    id[2 * i] = hex[b[i] >> 4];
    id[2 * i + 1] = hex[b[i] & 15];
  }
  id[SG_APPROVAL_ID_LEN] = '\0';
  return 0;
}

int sg_store_approval_create(sg_store_t *st, const sg_store_approval_request_t *req,
                             char id[SG_APPROVAL_ID_LEN + 1]) {
  char created[32], expires[32], omitted[SG__OMITTED_MAX];
  sqlite3_stmt *s = NULL;
  if (st == NULL || req == NULL || id == NULL) return SG_EINVAL;
  const char *args = sg__store_args_json(req->args_json, omitted);
  if (req->call_id == NULL || req->tool == NULL || req->args_hash == NULL)
    return sg__store_fail(st, SG_EINVAL, "an approval needs a call_id, a tool and an args_hash");
  if (req->ttl_ms <= 0) return sg__store_fail(st, SG_EINVAL, "an approval needs a ttl_ms > 0");
  if (random_id(id) != 0) return sg__store_fail(st, SG_EIO, "cannot draw a random approval id");
  sg_store_time_iso(0, created);
  sg_store_time_iso(req->ttl_ms, expires);

  int rc = sg__store_begin(st);
  if (rc == 0 &&
      sqlite3_prepare_v2(st->db,
                         "INSERT INTO approvals (id, call_id, tool, args_hash, args_json,"
                         " tenant, env, subject, role, state, created_at, expires_at)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending', ?10,"
                         " ?11)",
                         -1, &s, NULL) != SQLITE_OK)
    rc = sg__store_db_fail(st, SG_EAUDIT, "cannot record the approval");
  /* Stored exactly as the audit row stores them, so that the two always agree. */
  sg_store_approval_t a = {.id = id,
                           .call_id = (char *)req->call_id,
                           .tool = (char *)req->tool,
                           .args_hash = (char *)req->args_hash,
                           .tenant = (char *)req->tenant,
                           .env = (char *)req->env,
                           .subject = (char *)req->subject,
                           .role = (char *)req->role,
                           .state = "pending"};
  if (rc == 0) {
    const char *v[] = {id,       req->call_id, req->tool, req->args_hash, args,   req->tenant,
                       req->env, req->subject, req->role, created,        expires};
    for (int i = 0; i < (int)(sizeof v / sizeof v[0]); i++)
      sg__store_bind_text(s, i + 1, v[i], i == 2 ? SG_AUDIT_TOOL_MAX : 0);
    if (sqlite3_step(s) != SQLITE_DONE)
      rc = sg__store_db_fail(st, SG_EAUDIT, "cannot record the approval");
  }
  sqlite3_finalize(s);
  if (rc == 0)
    rc = approval_event(st, &a, created, "approval_requested", "pending", NULL, NULL, args);
  return sg__store_end(st, rc);
}

/* Refuses, naming the state, a change of an approval that is not in one of the states
 * it needs. */
static int wrong_state(sg_store_t *st, const sg_store_approval_t *a, const char *needs) {
  return sg__store_fail(st, SG_EINVAL, "approval %s is %s, not %s", a->id, a->state, needs);
}

/* Loads id inside the open transaction, or sets rc. */
static int open_change(sg_store_t *st, const char *id, sg_store_approval_t *a) {
  int rc = sg__store_begin(st);
  memset(a, 0, sizeof *a);
  if (rc == 0) rc = load(st, id, a, SG_EAUDIT);
  return rc;
}

static int pending_or_approved(const sg_store_approval_t *a) {
  return strcmp(a->state, "pending") == 0 || strcmp(a->state, "approved") == 0;
}

int sg_store_approval_decide(sg_store_t *st, const char *id, int approve, const char *approver,
                             const char *reason) {
  char ts[32], expired_msg[sizeof st->errmsg];
  sqlite3_stmt *s = NULL;
  sg_store_approval_t a;
  if (st == NULL) return SG_EINVAL;
  if (approver == NULL || approver[0] == '\0' || reason == NULL || reason[0] == '\0')
    return sg__store_fail(st, SG_EINVAL,
                          "a decision on an approval needs an approver and a reason");
  sg_wall_iso(ts);
  int rc = open_change(st, id, &a);
  int too_late = 0;
  if (rc == 0 && strcmp(a.state, "pending") != 0) rc = wrong_state(st, &a, "pending");
  if (rc == 0 && strcmp(a.expires_at, ts) <= 0) {
    /* Its gateway has given up (or died): record that, and refuse. */
    too_late = 1;
    snprintf(expired_msg, sizeof expired_msg,
             "approval %s expired at %s; it can no longer be approved or denied", a.id,
             a.expires_at);
    rc = close_one(st, &a, "expired", "approval_expired", NULL, NULL);
  } else if (rc == 0) {
    const char *to = approve ? "approved" : "denied";
    if (sqlite3_prepare_v2(st->db,
                           "UPDATE approvals SET state = ?2, decided_at = ?3, approver = ?4,"
                           " reason = ?5 WHERE id = ?1 AND state = 'pending'",
                           -1, &s, NULL) != SQLITE_OK)
      rc = sg__store_db_fail(st, SG_EAUDIT, "cannot record the decision");
    if (rc == 0) {
      sqlite3_bind_text(s, 1, a.id, -1, SQLITE_STATIC);
      sqlite3_bind_text(s, 2, to, -1, SQLITE_STATIC);
      sqlite3_bind_text(s, 3, ts, -1, SQLITE_STATIC);
      sg__store_bind_text(s, 4, approver, SG_STORE_ACTOR_MAX);
      sg__store_bind_text(s, 5, reason, SG_AUDIT_DETAIL_MAX);
      rc = update_one(st, s, "cannot record the decision");
    }
    sqlite3_finalize(s);
    if (rc == 0)
      rc = approval_event(st, &a, ts, approve ? "approval_granted" : "approval_denied", to,
                          approver, reason, NULL);
  }
  rc = sg__store_end(st, rc);
  sg_store_approval_clear(&a);
  if (rc == 0 && too_late) return sg__store_fail(st, SG_EINVAL, "%s", expired_msg);
  return rc;
}

/* Says why use cannot consume a (which the UPDATE refused). */
static int refuse_use(sg_store_t *st, const sg_store_approval_t *a,
                      const sg_store_approval_use_t *use, const char *now) {
  char tool[SG_AUDIT_TOOL_MAX + 1];
  snprintf(tool, sizeof tool, "%s", use->tool);
  if (strcmp(a->state, "approved") != 0) return wrong_state(st, a, "approved");
  if (strcmp(a->expires_at, now) <= 0)
    return sg__store_fail(st, SG_EINVAL, "approval %s expired at %s", a->id, a->expires_at);
#define DIFFERS(x, y) ((x) == NULL ? (y) != NULL : (y) == NULL || strcmp((x), (y)) != 0)
  const char *what = DIFFERS(a->call_id, use->call_id)       ? "another call"
                     : DIFFERS(a->tool, tool)                ? "another tool"
                     : DIFFERS(a->args_hash, use->args_hash) ? "other arguments"
                     : DIFFERS(a->tenant, use->tenant)       ? "another tenant"
                     : DIFFERS(a->subject, use->subject)     ? "another subject"
                                                             : "a call it does not match";
#undef DIFFERS
  return sg__store_fail(st, SG_EINVAL, "approval %s was granted for %s", a->id, what);
}

int sg_store_approval_consume(sg_store_t *st, const sg_store_approval_use_t *use) {
  char ts[32];
  sqlite3_stmt *s = NULL;
  sg_store_approval_t a;
  if (st == NULL || use == NULL) return SG_EINVAL;
  if (use->id == NULL || use->call_id == NULL || use->tool == NULL || use->args_hash == NULL)
    return sg__store_fail(st, SG_EINVAL,
                          "using an approval needs its id, call_id, tool and"
                          " args_hash");
  sg_wall_iso(ts);
  int rc = open_change(st, use->id, &a);
  /* The one statement that makes an approval usable once: every binding is a condition
   * of the UPDATE itself, not a check made before it. */
  if (rc == 0 && sqlite3_prepare_v2(st->db,
                                    "UPDATE approvals SET state = 'used', used_at = ?2"
                                    " WHERE id = ?1 AND state = 'approved' AND expires_at > ?2"
                                    " AND call_id = ?3 AND tool = ?4 AND args_hash = ?5"
                                    " AND tenant IS ?6 AND subject IS ?7",
                                    -1, &s, NULL) != SQLITE_OK)
    rc = sg__store_db_fail(st, SG_EAUDIT, "cannot use the approval");
  if (rc == 0) {
    sqlite3_bind_text(s, 1, use->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, ts, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, use->call_id, -1, SQLITE_STATIC);
    sg__store_bind_text(s, 4, use->tool, SG_AUDIT_TOOL_MAX);
    sqlite3_bind_text(s, 5, use->args_hash, -1, SQLITE_STATIC);
    sg__store_bind_text(s, 6, use->tenant, 0);
    sg__store_bind_text(s, 7, use->subject, 0);
    if (sqlite3_step(s) != SQLITE_DONE)
      rc = sg__store_db_fail(st, SG_EAUDIT, "cannot use the approval");
    else if (sqlite3_changes(st->db) != 1)
      rc = refuse_use(st, &a, use, ts);
  }
  sqlite3_finalize(s);
  if (rc == 0) rc = approval_event(st, &a, ts, "approval_used", "used", NULL, NULL, NULL);
  rc = sg__store_end(st, rc);
  sg_store_approval_clear(&a);
  return rc;
}

int sg_store_approval_expire(sg_store_t *st, const char *id) {
  sg_store_approval_t a;
  if (st == NULL) return SG_EINVAL;
  int rc = open_change(st, id, &a);
  if (rc == 0 && !pending_or_approved(&a)) rc = wrong_state(st, &a, "pending or approved");
  if (rc == 0) rc = close_one(st, &a, "expired", "approval_expired", NULL, NULL);
  rc = sg__store_end(st, rc);
  sg_store_approval_clear(&a);
  return rc;
}

int sg_store_approval_cancel(sg_store_t *st, const char *id, const char *actor,
                             const char *reason) {
  sg_store_approval_t a;
  if (st == NULL) return SG_EINVAL;
  if (actor == NULL || actor[0] == '\0')
    return sg__store_fail(st, SG_EINVAL, "cancelling an approval needs an actor");
  int rc = open_change(st, id, &a);
  if (rc == 0 && !pending_or_approved(&a)) rc = wrong_state(st, &a, "pending or approved");
  if (rc == 0) rc = close_one(st, &a, "cancelled", "approval_cancelled", actor, reason);
  rc = sg__store_end(st, rc);
  sg_store_approval_clear(&a);
  return rc;
}

int sg_store_approval_cancel_all(sg_store_t *st, const char *actor, const char *reason, size_t *n) {
  size_t count = 0;
  if (st == NULL) return SG_EINVAL;
  if (actor == NULL || actor[0] == '\0')
    return sg__store_fail(st, SG_EINVAL, "cancelling approvals needs an actor");
  int rc = sg__store_begin(st);
  if (rc == 0) rc = cancel_all(st, actor, reason, &count);
  rc = sg__store_end(st, rc);
  if (n) *n = rc == 0 ? count : 0;
  return rc;
}

int sg_store_approval_expire_stale(sg_store_t *st, const char *now_iso, size_t *n) {
  char now[32];
  size_t count = 0;
  if (st == NULL) return SG_EINVAL;
  if (now_iso == NULL) {
    sg_wall_iso(now);
    now_iso = now;
  }
  int rc = sg__store_begin(st);
  if (rc == 0)
    rc = close_many(st,
                    "SELECT id FROM approvals WHERE state IN ('pending', 'approved')"
                    " AND expires_at <= ?1 ORDER BY rowid",
                    now_iso, "expired", "approval_expired", NULL, NULL, &count);
  rc = sg__store_end(st, rc);
  if (n) *n = rc == 0 ? count : 0;
  return rc;
}
