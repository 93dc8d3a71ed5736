// Human approval for writes and the kill switch, through the official SDK client: a
// write waits until a person acts from the CLI; approved calls run once, denied and
// expired ones fail with their reason, an approval cannot be reused, the kill switch
// refuses writes at once, and the audit chain holds together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeWorld, connect, receivedToolCalls, auditRows, until, refusal, SCOPEGATE } from './peers.mjs';

const cli = (world, ...args) => spawnSync(SCOPEGATE, [...args, '--db', world.db], { encoding: 'utf8' });

function approvalWorld(timeoutSeconds = 60) {
  const world = makeWorld();
  const path = join(world.catalog, 'matrix.json');
  const matrix = JSON.parse(readFileSync(path, 'utf8'));
  matrix.roles.editor.tools.write_file.approval = { mode: 'required', timeout_seconds: timeoutSeconds };
  writeFileSync(path, JSON.stringify(matrix));
  return world;
}

// The id of the approval the gateway is waiting for, from its log.
async function waitingApproval(gw, n = 1) {
  return until(() => {
    const ids = [...gw.log().matchAll(/waits for approval ([0-9a-f]{32})/g)].map((m) => m[1]);
    return ids.length >= n ? ids[n - 1] : null;
  });
}

const write = (gw, content, extra = {}) => gw.client.callTool(
  { name: 'write_file', arguments: { path: 'acme/out.txt', content } }, undefined, { timeout: 120000, ...extra });

test('a held write runs once approved from the CLI, and the approval cannot be used again', async () => {
  const world = approvalWorld();
  const gw = await connect(world, { role: 'editor', subject: 'bob' });
  try {
    const progress = [];
    const call = write(gw, 'approved content', { onprogress: (p) => progress.push(p) });
    const id = await waitingApproval(gw);
    // Not yet: nothing reached the downstream while the call waits.
    assert.equal(receivedToolCalls(world, 'files').length, 0);
    const list = cli(world, 'approvals', 'list', '--json');
    assert.equal(list.status, 0, list.stderr);
    const pending = list.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const mine = pending.find((a) => a.id === id);
    assert.ok(mine, list.stdout);
    assert.equal(mine.tool, 'write_file');
    assert.equal(mine.subject, 'bob');
    assert.equal(mine.arguments.content, 'approved content');
    const ok = cli(world, 'approvals', 'approve', id, '--reason', 'looks right', '--as', 'carol');
    assert.equal(ok.status, 0, ok.stderr);
    const r = await call;
    assert.equal(r.isError ?? false, false, JSON.stringify(r));
    assert.equal(readFileSync(join(world.files, 'acme', 'out.txt'), 'utf8'), 'approved content');
    assert.ok(progress.length >= 1, 'progress while waiting');
    assert.equal(receivedToolCalls(world, 'files').length, 1);
    // Used once: approving it again is refused, and the same call again needs a new approval.
    const again = cli(world, 'approvals', 'approve', id, '--reason', 'again');
    assert.notEqual(again.status, 0);
    assert.match(again.stderr + again.stdout, /used/);
    const second = write(gw, 'approved content');
    const id2 = await waitingApproval(gw, 2);
    assert.notEqual(id2, id);
    cli(world, 'approvals', 'deny', id2, '--reason', 'once is enough');
    const e = await refusal(second);
    assert.equal(e.data.reason, 'approval_denied');
    assert.match(e.message, /once is enough/);
    assert.equal(receivedToolCalls(world, 'files').length, 1);
  } finally {
    await gw.client.close();
  }
});

test('a write nobody approves in time fails with approval_timeout', async () => {
  const world = approvalWorld(2);
  const gw = await connect(world, { role: 'editor' });
  try {
    const e = await refusal(write(gw, 'too late'));
    assert.equal(e.data.reason, 'approval_timeout');
    assert.equal(existsSync(join(world.files, 'acme', 'out.txt')), false);
    const row = await until(() => auditRows(world).find((r) => r.tool === 'write_file' && r.decision === 'allow' && r.outcome));
    assert.equal(row.outcome, 'timeout');
    assert.equal(row.outcome_reason, 'approval_timeout');
  } finally {
    await gw.client.close();
  }
});

test('the kill switch refuses a waiting write and every new write, until it is turned back on', async () => {
  const world = approvalWorld();
  const gw = await connect(world, { role: 'editor' });
  try {
    const call = write(gw, 'should never land');
    await waitingApproval(gw);
    const off = cli(world, 'writes', 'off', '--reason', 'incident 42');
    assert.equal(off.status, 0, off.stderr);
    const started = Date.now();
    const e = await refusal(call);
    assert.equal(e.data.reason, 'writes_disabled');
    assert.ok(Date.now() - started < 1500, 'refused within about a second');
    const fresh = await refusal(write(gw, 'also refused'));
    assert.equal(fresh.data.reason, 'writes_disabled');
    // Reads go on.
    const read = await gw.client.callTool({ name: 'read_file', arguments: { path: 'acme/hello.txt' } });
    assert.match(read.content[0].text, /hello from acme/);
    assert.equal(cli(world, 'writes', 'on', '--reason', 'resolved').status, 0);
    const held = write(gw, 'after the incident');
    const id = await waitingApproval(gw, 2);
    cli(world, 'approvals', 'approve', id, '--reason', 'fine now');
    await held;
    assert.equal(readFileSync(join(world.files, 'acme', 'out.txt'), 'utf8'), 'after the incident');
  } finally {
    await gw.client.close();
  }
  // The whole story is in a chain that verifies, and stops verifying once edited.
  const verify = cli(world, 'audit', 'verify');
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  execFileSync('sqlite3', [world.db, "DROP TRIGGER IF EXISTS audit_events_no_update; UPDATE audit_events SET reason = 'allowed' WHERE seq = (SELECT min(seq) FROM audit_events WHERE reason = 'writes_disabled');"]);
  const broken = cli(world, 'audit', 'verify');
  assert.equal(broken.status, 1);
  assert.match(broken.stdout + broken.stderr, /seq/);
});

test('kill -9 while a write waits: decided rows survive and no approval is usable afterwards', async () => {
  const world = approvalWorld();
  const gw = await connect(world, { role: 'editor' });
  await gw.client.callTool({ name: 'read_file', arguments: { path: 'acme/hello.txt' } });
  const pending = write(gw, 'interrupted').catch((e) => e);
  const id = await waitingApproval(gw);
  gw.transport._process.kill('SIGKILL');
  await pending;
  const rows = auditRows(world);
  assert.ok(rows.some((r) => r.tool === 'read_file' && r.decision === 'allow'));
  assert.ok(rows.some((r) => r.tool === 'write_file' && r.reason === 'approval_required'));
  assert.equal(cli(world, 'audit', 'verify').status, 0);
  // A person approves the orphaned request; a new gateway still cannot use it.
  assert.equal(cli(world, 'approvals', 'approve', id, '--reason', 'late').status, 0);
  const again = await connect(world, { role: 'editor' });
  try {
    const call = write(again, 'interrupted');
    const fresh = await waitingApproval(again);
    assert.notEqual(fresh, id);
    assert.equal(existsSync(join(world.files, 'acme', 'out.txt')), false);
    cli(world, 'approvals', 'deny', fresh, '--reason', 'no');
    assert.equal((await refusal(call)).data.reason, 'approval_denied');
  } finally {
    await again.client.close();
  }
});

test('auto grants spend a per-subject budget, and sensitive arguments never reach the audit', async () => {
  const world = makeWorld();
  const matrixPath = join(world.catalog, 'matrix.json');
  const matrix = JSON.parse(readFileSync(matrixPath, 'utf8'));
  matrix.roles.editor.tools.write_file.approval = { mode: 'auto', budget: { calls: 2, window_seconds: 3600 } };
  writeFileSync(matrixPath, JSON.stringify(matrix));
  const toolPath = join(world.catalog, 'tools', 'write_file.json');
  const tool = JSON.parse(readFileSync(toolPath, 'utf8'));
  tool.sensitive = ['content'];
  writeFileSync(toolPath, JSON.stringify(tool));
  const secret = 'hunter2-very-secret';
  const bob = await connect(world, { role: 'editor', subject: 'bob' });
  try {
    await write(bob, `${secret} 1`);
    await write(bob, `${secret} 2`);
    const e = await refusal(write(bob, `${secret} 3`));
    assert.equal(e.data.reason, 'budget_exceeded');
  } finally {
    await bob.client.close();
  }
  // The budget is per subject: another caller still has its own.
  const dora = await connect(world, { role: 'editor', subject: 'dora' });
  try {
    await write(dora, 'dora writes');
  } finally {
    await dora.client.close();
  }
  assert.equal(receivedToolCalls(world, 'files').length, 3);
  const exported = cli(world, 'audit', 'export', '--jsonl');
  assert.equal(exported.status, 0, exported.stderr);
  assert.doesNotMatch(exported.stdout, /hunter2/);
  assert.match(exported.stdout, /redacted sha256:[0-9a-f]{64}/);
});
