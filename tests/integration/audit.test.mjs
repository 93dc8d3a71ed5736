// The audit chain, the kill switch and human approvals through the real binary: a gateway
// writes the log, `audit verify` vouches for it and an outside program recomputes every
// hash from `audit export`; someone with the sqlite3 shell edits or deletes a row and
// verify names it; `writes` flips the switch; `approvals` decides approvals prepared
// with the sqlite3 shell exactly as the store writes them.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCOPEGATE, makeWorld, connect, refusal } from './peers.mjs';

function run(args, opts = {}) {
  const r = spawnSync(SCOPEGATE, args, { encoding: 'utf8', ...opts });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout, err: r.stderr, lines: r.stdout.split('\n').filter(Boolean) };
}

const sqlite = (db, sql) => execFileSync('sqlite3', [db, sql], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const jsonLines = (text) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l));

// The serialisation documented in src/store/chain.c, written again from the comment.
const COLUMNS = ['seq', 'ts', 'call_id', 'event', 'subject', 'role', 'tenant', 'env', 'tool',
  'args_hash', 'decision', 'reason', 'outcome', 'latency_us', 'detail', 'args_json', 'actor',
  'approval_id', 'prev_hash'];
function outsideHash(row) {
  const parts = [Buffer.from('scopegate-audit-v1')];
  for (const c of COLUMNS) {
    const v = row[c];
    if (v === null) parts.push(Buffer.from('N'));
    else if (typeof v === 'number') parts.push(Buffer.from(`I${v};`));
    else {
      const b = Buffer.from(v, 'utf8');
      parts.push(Buffer.from(`T${b.length}:`), b);
    }
  }
  return createHash('sha256').update(Buffer.concat(parts)).digest('hex');
}

// The store's time format: YYYY-MM-DDTHH:MM:SS.uuuuuuZ.
const iso = (ms) => new Date(ms).toISOString().replace(/Z$/, '000Z');

// A log with real calls in it: one allowed, one refused.
let world;
before(async () => {
  world = makeWorld({ record: false });
  const gw = await connect(world, { role: 'viewer' });
  await gw.client.callTool({ name: 'echo', arguments: { message: 'for the audit' } });
  await refusal(gw.client.callTool({ name: 'write_file', arguments: { path: 'x', content: 'y' } }));
  await gw.client.callTool({ name: 'add', arguments: { a: 1, b: 2 } });
  await gw.client.close();
});

// A copy of the gateway's log to tamper with.
function copyOfLog() {
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-audit-'));
  const db = join(dir, 'audit.db');
  sqlite(world.db, `VACUUM INTO '${db}'`);
  return db;
}

test('a gateway log verifies, and an outside program recomputes every hash from the export', () => {
  const v = run(['audit', 'verify', '--db', world.db]);
  assert.equal(v.code, 0, v.out + v.err);
  assert.match(v.out, /is intact: \d+ events, seq 1 to \d+/);
  assert.match(v.out, /^head: \d+:[0-9a-f]{64}$/m);

  const rows = jsonLines(run(['audit', 'export', '--jsonl', '--db', world.db]).out);
  assert.ok(rows.length >= 5, `${rows.length} rows`);
  assert.deepEqual(Object.keys(rows[0]), [...COLUMNS.slice(0, 19), 'hash']);
  let prev = '0'.repeat(64);
  rows.forEach((row, i) => {
    assert.equal(row.seq, i + 1);
    assert.equal(row.prev_hash, prev);
    assert.equal(row.hash, outsideHash(row), `seq ${row.seq}`);
    prev = row.hash;
  });
  assert.ok(rows.some((r) => r.event === 'decision' && r.decision === 'deny' && r.reason === 'not_granted'));
  assert.ok(rows.some((r) => r.event === 'outcome' && r.outcome === 'ok'));

  // --since gives the rows after a seq, for a collector that resumes.
  const after2 = jsonLines(run(['audit', 'export', '--db', world.db, '--since', '2']).out);
  assert.deepEqual(after2.map((r) => r.seq), rows.slice(2).map((r) => r.seq));
  assert.equal(run(['audit', 'export', '--db', world.db, '--since', 'x']).code, 2);
});

test('verify names the row edited with the sqlite3 shell, and exits 1', () => {
  const db = copyOfLog();
  const seq = sqlite(db, "SELECT seq FROM audit_events WHERE decision = 'deny' LIMIT 1").trim();
  // Without dropping the trigger the edit is refused.
  assert.throws(() => sqlite(db, `UPDATE audit_events SET decision = 'allow' WHERE seq = ${seq}`));
  sqlite(db, 'DROP TRIGGER audit_events_no_update;' +
    `UPDATE audit_events SET decision = 'allow', reason = 'allowed' WHERE seq = ${seq}`);
  const v = run(['audit', 'verify', '--db', db]);
  assert.equal(v.code, 1, v.out + v.err);
  assert.match(v.out, new RegExp(`NOT intact: seq ${seq} was edited`));
  assert.match(v.out, new RegExp(`first bad row: seq ${seq} \\(edited\\)`));
});

test('verify names a deleted row, and an anchor catches rows cut from the end', () => {
  const db = copyOfLog();
  const head = run(['audit', 'verify', '--db', db]).out.match(/^head: (\d+):([0-9a-f]{64})$/m);
  const last = Number(head[1]);
  assert.equal(run(['audit', 'verify', '--db', db, '--anchor', `${head[1]}:${head[2]}`]).code, 0);

  sqlite(db, 'DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq = 2');
  let v = run(['audit', 'verify', '--db', db]);
  assert.equal(v.code, 1);
  assert.match(v.out, /seq 2 is missing: the row before seq 3 was deleted/);

  const cut = copyOfLog();
  sqlite(cut, `DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq = ${last}`);
  assert.equal(run(['audit', 'verify', '--db', cut]).code, 0, 'a cut tail alone leaves a consistent chain');
  v = run(['audit', 'verify', '--db', cut, '--anchor', `${head[1]}:${head[2]}`]);
  assert.equal(v.code, 1);
  assert.match(v.out, new RegExp(`seq ${last} \\(the anchor\\) is missing`));
  assert.equal(run(['audit', 'verify', '--db', cut, '--anchor', 'nonsense']).code, 2);
});

test('writes off/on/status: recorded with who and why, shown by tail, refused for a missing database', () => {
  const db = copyOfLog();
  let s = run(['writes', 'status', '--db', db]);
  assert.equal(s.code, 0, s.err);
  assert.match(s.out, /^writes are on \(never switched/);

  s = run(['writes', 'off', '--db', db, '--reason', 'incident 42', '--actor', 'ops:carol']);
  assert.equal(s.code, 0, s.err);
  assert.match(s.out, /^writes are off since \S+, by ops:carol: incident 42$/m);
  assert.match(run(['writes', 'status', '--db', db]).out, /^writes are off since .* by ops:carol: incident 42/);

  s = run(['writes', 'on', '--db', db], { env: { ...process.env, USER: 'dave' } });
  assert.equal(s.code, 0, s.err);
  assert.match(s.out, /^writes are on since \S+, by local:dave$/m);

  const flips = jsonLines(run(['audit', 'tail', '--json', '-n', '5', '--db', db]).out)
    .filter((r) => r.event === 'switch');
  assert.deepEqual(flips.map((r) => [r.reason, r.actor, r.detail]),
    [['writes=off', 'ops:carol', 'incident 42'], ['writes=on', 'local:dave', null]]);
  const table = run(['audit', 'tail', '--db', db]).out;
  assert.match(table, /switch\s+writes=off\s.*by ops:carol: incident 42/);
  assert.equal(run(['audit', 'verify', '--db', db]).code, 0);

  const missing = join(mkdtempSync(join(tmpdir(), 'scopegate-audit-')), 'typo.db');
  s = run(['writes', 'off', '--db', missing]);
  assert.equal(s.code, 1);
  assert.match(s.err, /no database at/);
  assert.equal(existsSync(missing), false);
  assert.equal(run(['writes', 'sideways', '--db', db]).code, 2);
});

// Inserts an approval as sg_store_approval_create writes it (the approvals table is not
// part of the chain; only the events about it are).
function prepareApproval(db, { id, callId, tool = 'write_file', subject = 'alice', ttlMs = 3600000, args }) {
  const now = Date.now();
  const q = (s) => `'${String(s).replaceAll("'", "''")}'`;
  sqlite(db, 'INSERT INTO approvals (id, call_id, tool, args_hash, args_json, tenant, env, subject,' +
    ' role, state, created_at, expires_at) VALUES (' +
    [id, callId, tool, 'ab'.repeat(32), JSON.stringify(args), 'acme', 'prod', subject, 'editor',
      'pending', iso(now), iso(now + ttlMs)].map(q).join(', ') + ')');
}

test('approvals list, show, approve and deny; a decided or expired approval cannot be decided again', () => {
  const db = copyOfLog();
  const A = 'a'.repeat(32), B = 'b'.repeat(32), C = 'c'.repeat(32), D = 'd'.repeat(32);
  prepareApproval(db, { id: A, callId: 'gw1-1', args: { content: '[redacted]', path: 'acme/notes.txt' } });
  prepareApproval(db, { id: B, callId: 'gw1-2', subject: 'bob', args: { path: 'acme/\u001b[2Jx' } });
  prepareApproval(db, { id: C, callId: 'gw1-3', ttlMs: -1000, args: {} });
  prepareApproval(db, { id: D, callId: 'gw1-4', args: { path: 'acme/later' } });

  const listed = jsonLines(run(['approvals', 'list', '--json', '--db', db]).out);
  assert.deepEqual(listed.map((a) => [a.id, a.state, a.subject]),
    [[A, 'pending', 'alice'], [B, 'pending', 'bob'], [C, 'pending', 'alice'], [D, 'pending', 'alice']]);
  assert.deepEqual(JSON.parse(listed[0].args_json), { content: '[redacted]', path: 'acme/notes.txt' });
  const table = run(['approvals', 'list', '--db', db]).out;
  assert.match(table, /^ID\s+STATE\s+CREATED \(UTC\)\s+EXPIRES\s+SUBJECT/);
  assert.ok(!table.includes('\u001b'), 'no escape sequence reaches the terminal');

  const show = run(['approvals', 'show', A, '--db', db]);
  assert.equal(show.code, 0, show.err);
  assert.match(show.out, /^state\s+pending$/m);
  assert.match(show.out, /"content": "\[redacted\]"/);
  assert.ok(!run(['approvals', 'show', B, '--db', db]).out.includes('\u001b'));

  let r = run(['approvals', 'approve', A, '--db', db]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--reason is required/);
  r = run(['approvals', 'approve', A, '--db', db, '--reason', 'path checked', '--as', 'ops:erin']);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.trim(), `approval ${A} approved by ops:erin`);
  r = run(['approvals', 'deny', A, '--db', db, '--reason', 'changed my mind']);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`approval ${A} is approved, not pending`));
  r = run(['approvals', 'deny', B, '--db', db, '--reason', 'no'], { env: { ...process.env, USER: 'frank' } });
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /denied by local:frank/);
  r = run(['approvals', 'approve', C, '--db', db, '--reason', 'too late?']);
  assert.equal(r.code, 1);
  assert.match(r.err, /expired at/);
  r = run(['approvals', 'approve', 'f'.repeat(32), '--db', db, '--reason', 'x']);
  assert.equal(r.code, 1);
  assert.match(r.err, /there is no approval/);

  // The kill switch cancels what is still open, approved or not.
  r = run(['writes', 'off', '--db', db, '--reason', 'stop']);
  assert.match(r.out, /^2 approvals cancelled$/m);
  const states = jsonLines(run(['approvals', 'list', '--all', '--json', '--db', db]).out)
    .map((a) => [a.id, a.state, a.approver]);
  assert.deepEqual(states, [[A, 'cancelled', 'ops:erin'], [B, 'denied', 'local:frank'],
    [C, 'expired', null], [D, 'cancelled', states[3][2]]]);
  r = run(['approvals', 'list', '--db', db]);
  assert.equal(r.code, 0);
  assert.match(r.err, /no pending approvals/);

  // Every decision is in the chain, with who made it, and the chain still verifies.
  const events = jsonLines(run(['audit', 'tail', '--json', '-n', '20', '--db', db]).out)
    .filter((e) => e.approval_id).map((e) => [e.event, e.approval_id, e.actor]);
  assert.deepEqual(events.slice(0, 3), [['approval_granted', A, 'ops:erin'],
    ['approval_denied', B, 'local:frank'], ['approval_expired', C, null]]);
  assert.deepEqual(events.slice(3).map((e) => e[0]), ['approval_cancelled', 'approval_cancelled']);
  assert.equal(run(['audit', 'verify', '--db', db]).code, 0);
});
