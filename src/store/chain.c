/*
 * The audit chain: how a row is serialised and hashed, how rows written before the chain
 * existed join it, and how the chain is checked (scopegate audit verify) and exported.
 *
 * Every row of audit_events carries prev_hash, the hash of the row before it (64 zeros
 * for the first row), and hash, the lowercase hex SHA-256 of this serialisation of the
 * row's other columns, so that an outside tool can recompute it:
 *
 *   the 18 bytes "scopegate-audit-v1", then each of these 19 columns in this order:
 *     seq, ts, call_id, event, subject, role, tenant, env, tool, args_hash, decision,
 *     reason, outcome, latency_us, detail, args_json, actor, approval_id, prev_hash
 *   encoded as
 *     NULL     "N"
 *     integer  "I", its decimal digits (a '-' first if negative), ";"
 *     text     "T", its length in bytes in decimal, ":", its bytes as stored (UTF-8)
 *
 * with nothing between them. In Python, for a row read as a dict:
 *
 *   def enc(v):
 *       if v is None: return b"N"
 *       if isinstance(v, int): return b"I%d;" % v
 *       b = v.encode("utf-8")
 *       return b"T%d:" % len(b) + b
 *   hash = sha256(b"scopegate-audit-v1" + b"".join(enc(row[c]) for c in COLUMNS)).hexdigest()
 *
 * seq is inside the hash, so moving a row changes its hash; prev_hash is inside too, so
 * changing, removing or moving any row breaks the link of the row after it. What the
 * chain cannot show alone is rows cut from its end, or every row from some point on
 * rewritten with fresh hashes: for that, keep the head (seq and hash) that verify prints
 * somewhere else, or ship the log to a collector with the export, and check against it.
 */
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "store/internal.h"

#define SER_PREFIX "scopegate-audit-v1"

static int ser_reserve(sg_store_t *st, size_t need) {
  if (need <= st->ser_cap) return 0;
  size_t cap = st->ser_cap ? st->ser_cap : 1024;
  while (cap < need) cap *= 2;
  unsigned char *p = realloc(st->ser, cap);
  if (p == NULL) return SG_ENOMEM;
  st->ser = p;
  st->ser_cap = cap;
  return 0;
}

/* Writes tag, the decimal digits of v, and end (if not NUL) at p; returns the end. */
static unsigned char *put_num(unsigned char *p, char tag, int64_t v, char end) {
  char digits[24];
  int n = 0;
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  *p++ = (unsigned char)tag;
  if (v < 0) *p++ = '-';
  do {
    digits[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  while (n) *p++ = (unsigned char)digits[--n];
  if (end) *p++ = (unsigned char)end;
  return p;
}

int sg__chain_hash(sg_store_t *st, const sg__value_t v[SG__NCHAINED],
                   char out[SG_SHA256_HEX_LEN + 1]) {
  size_t need = sizeof SER_PREFIX;
  for (int i = 0; i < SG__NCHAINED; i++) need += 32 + (v[i].type == SQLITE_NULL ? 0 : v[i].n);
  if (ser_reserve(st, need) != 0) return SG_ENOMEM;
  unsigned char *p = st->ser;
  memcpy(p, SER_PREFIX, sizeof SER_PREFIX - 1);
  p += sizeof SER_PREFIX - 1;
  for (int i = 0; i < SG__NCHAINED; i++) {
    switch (v[i].type) {
      case SQLITE_NULL:
        *p++ = 'N';
        break;
      case SQLITE_INTEGER:
        p = put_num(p, 'I', v[i].i, ';');
        break;
      default:
        /* Text; anything else (a value an editor stored as a blob or a real) is marked
         * apart so that it never hashes like the text the store wrote. */
        p = put_num(p, v[i].type == SQLITE_TEXT ? 'T' : 'X', (int64_t)v[i].n, ':');
        if (v[i].n) memcpy(p, v[i].p, v[i].n);
        p += v[i].n;
    }
  }
  return sg__sha256_hex(st, st->ser, (size_t)(p - st->ser), out);
}

int sg__sha256_hex(sg_store_t *st, const void *data, size_t len, char out[SG_SHA256_HEX_LEN + 1]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char md[32];
  unsigned int mdlen = 0;
  /* One context per handle, reset for each row: a fresh one costs an allocation and a
   * provider lookup per row. */
  if (st->md == NULL && (st->md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) return SG_ENOMEM;
  if (st->md_ctx == NULL && (st->md_ctx = EVP_MD_CTX_new()) == NULL) return SG_ENOMEM;
  if (EVP_DigestInit_ex2(st->md_ctx, st->md, NULL) != 1 ||
      EVP_DigestUpdate(st->md_ctx, data, len) != 1 ||
      EVP_DigestFinal_ex(st->md_ctx, md, &mdlen) != 1 || mdlen != sizeof md)
    return SG_ENOMEM;
  for (unsigned i = 0; i < sizeof md; i++) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 15];
  }
  out[SG_SHA256_HEX_LEN] = '\0';
  return 0;
}

/* Reads the chained columns of a row selected with SG__AUDIT_COLUMNS into v. */
static void read_values(sqlite3_stmt *s, sg__value_t v[SG__NCHAINED]) {
  for (int i = 0; i < SG__NCHAINED; i++) {
    int type = sqlite3_column_type(s, i);
    v[i] = (sg__value_t){.type = type};
    if (type == SQLITE_INTEGER) {
      v[i].i = sqlite3_column_int64(s, i);
    } else if (type == SQLITE_BLOB) {
      v[i].p = sqlite3_column_blob(s, i);
      v[i].n = (size_t)sqlite3_column_bytes(s, i);
    } else if (type != SQLITE_NULL) {
      v[i].p = (const char *)sqlite3_column_text(s, i);
      v[i].n = (size_t)sqlite3_column_bytes(s, i);
    }
  }
}

/* ---- migration ------------------------------------------------------------------- */

#define MIGRATE_BATCH 1024
#define MIGRATE_BATCH_SQL "1024"

static const char sql_no_update[] =
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events"
    " BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END";

/* Gives the rows written before the chain existed their prev_hash and hash, oldest
 * first, inside the migration's transaction. */
int sg__chain_migrate(sg_store_t *st) {
  sqlite3_stmt *sel = NULL, *upd = NULL;
  int64_t *seqs = malloc(MIGRATE_BATCH * sizeof *seqs);
  char(*hashes)[SG_SHA256_HEX_LEN + 1] = malloc((MIGRATE_BATCH + 1) * sizeof *hashes);
  int64_t last = 0;
  int err = SG_EIO;
  if (seqs == NULL || hashes == NULL) {
    err = sg__store_fail(st, SG_ENOMEM, "out of memory");
    goto done;
  }
  /* The rows gain their hashes through UPDATE, which the append-only trigger exists to
   * refuse; it is dropped inside this transaction and created again before it commits. */
  if (sqlite3_exec(st->db, "DROP TRIGGER audit_events_no_update", NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(st->db,
                         "SELECT " SG__AUDIT_COLUMNS " FROM audit_events WHERE seq > ?1"
                         " ORDER BY seq LIMIT " MIGRATE_BATCH_SQL,
                         -1, &sel, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(st->db, "UPDATE audit_events SET prev_hash = ?1, hash = ?2 WHERE seq = ?3",
                         -1, &upd, NULL) != SQLITE_OK) {
    sg__store_db_fail(st, SG_EIO, "cannot chain the existing audit events");
    goto done;
  }
  /* hashes[0] is the hash the batch's first row follows; hashes[i + 1] is row i's. */
  memcpy(hashes[0], SG__ZERO_HASH, sizeof hashes[0]);
  for (;;) {
    /* A batch is hashed, then written, so that no row changes under a running SELECT. */
    int n = 0, rc;
    sqlite3_bind_int64(sel, 1, last);
    while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
      sg__value_t v[SG__NCHAINED];
      read_values(sel, v);
      v[SG__COL_PREV_HASH] =
          (sg__value_t){.type = SQLITE_TEXT, .p = hashes[n], .n = SG_SHA256_HEX_LEN};
      if (sg__chain_hash(st, v, hashes[n + 1]) != 0) {
        sqlite3_reset(sel);
        err = sg__store_fail(st, SG_ENOMEM, "out of memory");
        goto done;
      }
      seqs[n++] = v[SG__COL_SEQ].i;
    }
    sqlite3_reset(sel);
    if (rc != SQLITE_DONE) {
      sg__store_db_fail(st, SG_EIO, "cannot read the existing audit events");
      goto done;
    }
    for (int i = 0; i < n; i++) {
      sqlite3_bind_text(upd, 1, hashes[i], SG_SHA256_HEX_LEN, SQLITE_STATIC);
      sqlite3_bind_text(upd, 2, hashes[i + 1], SG_SHA256_HEX_LEN, SQLITE_STATIC);
      sqlite3_bind_int64(upd, 3, seqs[i]);
      rc = sqlite3_step(upd);
      sqlite3_reset(upd);
      if (rc != SQLITE_DONE) {
        sg__store_db_fail(st, SG_EIO, "cannot chain the existing audit events");
        goto done;
      }
    }
    if (n < MIGRATE_BATCH) break;
    last = seqs[n - 1];
    memcpy(hashes[0], hashes[n], sizeof hashes[0]);
  }
  if (sqlite3_exec(st->db, sql_no_update, NULL, NULL, NULL) != SQLITE_OK) {
    sg__store_db_fail(st, SG_EIO, "cannot restore the append-only trigger");
    goto done;
  }
  err = 0;
done:
  sqlite3_finalize(sel);
  sqlite3_finalize(upd);
  free(seqs);
  free(hashes);
  return err;
}

/* ---- verify ----------------------------------------------------------------------- */

static const char sql_all[] = "SELECT " SG__AUDIT_COLUMNS " FROM audit_events ORDER BY seq";

static void found(sg_audit_verify_t *out, int64_t seq, const char *problem, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void found(sg_audit_verify_t *out, int64_t seq, const char *problem, const char *fmt, ...) {
  va_list ap;
  out->bad_seq = seq;
  out->problem = problem;
  va_start(ap, fmt);
  vsnprintf(out->message, sizeof out->message, fmt, ap);
  va_end(ap);
}

/* The seq of a row whose stored hash is h, other than the one at seq not, or 0. Scans the
 * table (there is no index on hash): it runs once, on the first broken link. */
static int64_t seq_of_hash(sg_store_t *st, const char *h, size_t n, int64_t not ) {
  sqlite3_stmt *s = NULL;
  int64_t seq = 0;
  if (sqlite3_prepare_v2(st->db,
                         "SELECT seq FROM audit_events WHERE hash = ?1 AND seq <> ?2"
                         " ORDER BY seq LIMIT 1",
                         -1, &s, NULL) != SQLITE_OK)
    return 0;
  sqlite3_bind_text(s, 1, h, (int)n, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, not );
  if (sqlite3_step(s) == SQLITE_ROW) seq = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return seq;
}

/* Checks one row against the one before it (prev_seq, prev_hash: 0 and zeros for the
 * first). Returns 1 and fills out when it finds a problem. */
static int check_row(sg_store_t *st, sqlite3_stmt *s, int64_t prev_seq, const char *prev_hash,
                     sg_audit_verify_t *out) {
  sg__value_t v[SG__NCHAINED];
  char want[SG_SHA256_HEX_LEN + 1];
  read_values(s, v);
  int64_t seq = v[SG__COL_SEQ].i;
  const sg__value_t *link = &v[SG__COL_PREV_HASH];
  const char *stored = (const char *)sqlite3_column_text(s, SG__COL_HASH);

  if (seq != prev_seq + 1) {
    if (seq == prev_seq + 2)
      found(out, seq, "deleted",
            "seq %" PRId64 " is missing: the row before seq %" PRId64 " was deleted", prev_seq + 1,
            seq);
    else
      found(out, seq, "deleted",
            "seqs %" PRId64 " to %" PRId64 " are missing: %" PRId64 " rows before seq %" PRId64
            " were deleted",
            prev_seq + 1, seq - 1, seq - prev_seq - 1, seq);
    return 1;
  }
  int linked = link->type == SQLITE_TEXT && link->n == SG_SHA256_HEX_LEN &&
               memcmp(link->p, prev_hash, SG_SHA256_HEX_LEN) == 0;
  if (!linked) {
    int64_t other = link->type == SQLITE_TEXT ? seq_of_hash(st, link->p, link->n, prev_seq) : 0;
    if (other != 0)
      found(out, seq, "reordered",
            "seq %" PRId64
            " is out of order: in the chain it follows"
            " the row now at seq %" PRId64 ", not seq %" PRId64,
            seq, other, prev_seq);
    else if (prev_seq == 0)
      found(out, seq, "deleted",
            "seq %" PRId64
            " does not start the chain: rows before it"
            " were deleted and the rest renumbered, or it was rewritten",
            seq);
    else
      found(out, seq, "deleted",
            "seq %" PRId64 " does not follow seq %" PRId64
            ": the row"
            " between them was deleted and the rest renumbered, or seq %" PRId64
            " was rewritten with a new hash",
            seq, prev_seq, prev_seq);
    return 1;
  }
  if (sg__chain_hash(st, v, want) != 0) {
    found(out, seq, "edited", "out of memory checking seq %" PRId64, seq);
    return 1;
  }
  if (stored == NULL || strcmp(stored, want) != 0) {
    found(out, seq, "edited",
          "seq %" PRId64
          " was edited: its content no longer matches"
          " its hash",
          seq);
    return 1;
  }
  return 0;
}

static void check_anchor(sg_store_t *st, int64_t seq, const char *hash, sg_audit_verify_t *out) {
  sqlite3_stmt *s = NULL;
  char *have = NULL;
  if (sqlite3_prepare_v2(st->db, "SELECT hash FROM audit_events WHERE seq = ?1", -1, &s, NULL) ==
      SQLITE_OK) {
    sqlite3_bind_int64(s, 1, seq);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
      have = strdup((const char *)sqlite3_column_text(s, 0));
  }
  sqlite3_finalize(s);
  if (have == NULL)
    found(out, seq, "anchor",
          "seq %" PRId64
          " (the anchor) is missing: rows were cut from the"
          " end of the log",
          seq);
  else if (strcmp(have, hash) != 0)
    found(out, seq, "anchor",
          "seq %" PRId64
          " does not have the anchor's hash: the chain was"
          " rewritten at or before it",
          seq);
  free(have);
}

int sg_store_audit_verify(sg_store_t *st, int64_t anchor_seq, const char *anchor_hash,
                          sg_audit_verify_t *out) {
  sqlite3_stmt *s = NULL;
  char prev[SG_SHA256_HEX_LEN + 1] = SG__ZERO_HASH;
  int64_t prev_seq = 0;
  int rc;
  if (st == NULL || out == NULL || (anchor_seq > 0 && anchor_hash == NULL)) return SG_EINVAL;
  memset(out, 0, sizeof *out);
  /* One read transaction: the walk sees one snapshot, whatever writers do meanwhile. */
  if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
    return sg__store_db_fail(st, SG_EIO, "cannot read the audit log");
  if (sqlite3_prepare_v2(st->db, sql_all, -1, &s, NULL) != SQLITE_OK) {
    rc = SQLITE_ERROR;
    goto done;
  }
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    out->rows++;
    if (out->problem == NULL) check_row(st, s, prev_seq, prev, out);
    const char *h = (const char *)sqlite3_column_text(s, SG__COL_HASH);
    prev_seq = sqlite3_column_int64(s, SG__COL_SEQ);
    snprintf(prev, sizeof prev, "%s", h ? h : "");
    out->head_seq = prev_seq;
    snprintf(out->head_hash, sizeof out->head_hash, "%s", h ? h : "");
  }
  if (rc == SQLITE_DONE && out->problem == NULL && anchor_seq > 0)
    check_anchor(st, anchor_seq, anchor_hash, out);
done:
  if (rc != SQLITE_DONE) sg__store_db_fail(st, SG_EIO, "cannot read the audit log");
  sqlite3_finalize(s);
  sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
  return rc == SQLITE_DONE ? 0 : SG_EIO;
}

/* ---- export ----------------------------------------------------------------------- */

int sg_store_audit_export(sg_store_t *st, int64_t after_seq,
                          void (*fn)(const sg_audit_event_t *ev, void *arg), void *arg) {
  sqlite3_stmt *s = NULL;
  int rc;
  if (st == NULL || fn == NULL) return SG_EINVAL;
  if (sqlite3_prepare_v2(st->db,
                         "SELECT " SG__AUDIT_COLUMNS " FROM audit_events WHERE seq > ?1"
                         " ORDER BY seq",
                         -1, &s, NULL) != SQLITE_OK)
    return sg__store_db_fail(st, SG_EIO, "cannot read the audit log");
  sqlite3_bind_int64(s, 1, after_seq);
#define T(i) ((const char *)sqlite3_column_text(s, (i)))
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    sg_audit_event_t ev = {
        .seq = sqlite3_column_int64(s, SG__COL_SEQ),
        .ts = T(SG__COL_TS),
        .call_id = T(SG__COL_CALL_ID),
        .event = T(SG__COL_EVENT),
        .subject = T(SG__COL_SUBJECT),
        .role = T(SG__COL_ROLE),
        .tenant = T(SG__COL_TENANT),
        .env = T(SG__COL_ENV),
        .tool = T(SG__COL_TOOL),
        .args_hash = T(SG__COL_ARGS_HASH),
        .decision = T(SG__COL_DECISION),
        .reason = T(SG__COL_REASON),
        .outcome = T(SG__COL_OUTCOME),
        .latency_us = sqlite3_column_type(s, SG__COL_LATENCY_US) == SQLITE_NULL
                          ? -1
                          : sqlite3_column_int64(s, SG__COL_LATENCY_US),
        .detail = T(SG__COL_DETAIL),
        .args_json = T(SG__COL_ARGS_JSON),
        .actor = T(SG__COL_ACTOR),
        .approval_id = T(SG__COL_APPROVAL_ID),
        .prev_hash = T(SG__COL_PREV_HASH),
        .hash = T(SG__COL_HASH),
    };
    fn(&ev, arg);
  }
#undef T
  if (rc != SQLITE_DONE) sg__store_db_fail(st, SG_EIO, "cannot read the audit log");
  sqlite3_finalize(s);
  return rc == SQLITE_DONE ? 0 : SG_EIO;
}
