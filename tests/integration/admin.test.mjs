// The admin API with the official SDK client as the caller: a write held for approval is
// listed, shown and approved (or denied) over HTTP by the bearer token of an approver, and
// the call then completes (or fails with approval_denied); tokens without the role get
// 403, requests without a verified token 401, on TCP and on a Unix socket; the kill switch
// flipped over HTTP refuses writes at once; /metrics counts what the calls did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditRows, receivedToolCalls, refusal, until } from './peers.mjs';
import { adminWorld, connectWithAdmin, adminRequest, pendingApprovals, metric } from './admin-peers.mjs';

const write = (gw, content) => gw.client.callTool(
  { name: 'write_file', arguments: { path: 'acme/out.txt', content } }, undefined, { timeout: 120000 });

test('an approver lists, shows and approves a held write over the admin API, and the call completes', async () => {
  const aw = adminWorld();
  const gw = await connectWithAdmin(aw);
  const carol = aw.token();
  try {
    const call = write(gw, 'approved over HTTP');
    const [a] = await pendingApprovals(gw.admin, carol);
    assert.equal(a.state, 'pending');
    assert.equal(a.tool, 'write_file');
    assert.equal(a.subject, 'bob');
    assert.equal(a.tenant, 'acme');
    assert.equal(a.role, 'editor');
    assert.equal(a.arguments.content, 'approved over HTTP');
    assert.equal(a.arguments.path, 'acme/out.txt');
    assert.ok(a.waiting_seconds >= 0 && a.waiting_seconds < 60, String(a.waiting_seconds));
    assert.equal(receivedToolCalls(aw.world, 'files').length, 0, 'nothing forwarded while it waits');

    const shown = await adminRequest(gw.admin, 'GET', `/admin/approvals/${a.id}`, { token: carol });
    assert.equal(shown.status, 200);
    assert.equal(shown.json.id, a.id);
    assert.equal(shown.json.state, 'pending');
    assert.equal((await adminRequest(gw.admin, 'GET', `/admin/approvals/${'0'.repeat(32)}`, { token: carol })).status, 404);

    // A decision needs a reason, in JSON.
    const noReason = await adminRequest(gw.admin, 'POST', `/admin/approvals/${a.id}/approve`, { token: carol, body: {} });
    assert.equal(noReason.status, 400);
    assert.equal(noReason.json.error.code, 'reason_required');
    const notJson = await adminRequest(gw.admin, 'POST', `/admin/approvals/${a.id}/approve`,
      { token: carol, raw: 'reason=ok', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(notJson.status, 415);
    const wrongMethod = await adminRequest(gw.admin, 'GET', `/admin/approvals/${a.id}/approve`, { token: carol });
    assert.equal(wrongMethod.status, 405);

    const ok = await adminRequest(gw.admin, 'POST', `/admin/approvals/${a.id}/approve`,
      { token: carol, body: { reason: 'checked the path' } });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.json.state, 'approved');
    assert.equal(ok.json.approver, 'carol', 'the approver is the token subject');
    assert.equal(ok.json.reason, 'checked the path');

    const r = await call;
    assert.equal(r.isError ?? false, false, JSON.stringify(r));
    assert.equal(readFileSync(join(aw.world.files, 'acme', 'out.txt'), 'utf8'), 'approved over HTTP');
    assert.equal(receivedToolCalls(aw.world, 'files').length, 1);

    // Used once: deciding it again is a conflict, and it is listed only with ?all=1.
    const again = await adminRequest(gw.admin, 'POST', `/admin/approvals/${a.id}/deny`,
      { token: carol, body: { reason: 'too late' } });
    assert.equal(again.status, 409);
    assert.equal(again.json.error.code, 'not_pending');
    assert.match(again.json.error.message, /used/);
    const pending = await adminRequest(gw.admin, 'GET', '/admin/approvals', { token: carol });
    assert.deepEqual(pending.json.approvals, []);
    const all = await adminRequest(gw.admin, 'GET', '/admin/approvals?all=1', { token: carol });
    assert.equal(all.json.approvals.find((x) => x.id === a.id)?.state, 'used');

    // The audit names who approved, and why.
    const row = await until(() => auditRows(aw.world).find((x) => x.tool === 'write_file' && x.outcome));
    assert.equal(row.outcome, 'ok');
    assert.equal(row.actor, 'carol');
  } finally {
    await gw.client.close();
  }
});

test('no token is 401, a refused token is 401, a token without the approver role is 403', async () => {
  const aw = adminWorld();
  const gw = await connectWithAdmin(aw);
  try {
    const call = write(gw, 'must not land').catch((e) => e);
    const [a] = await pendingApprovals(gw.admin, aw.token());
    const paths = [['GET', '/admin/approvals'], ['GET', `/admin/approvals/${a.id}`],
      ['POST', `/admin/approvals/${a.id}/approve`], ['GET', '/admin/writes'], ['POST', '/admin/writes']];
    const body = { reason: 'trust me', enabled: false };
    for (const [method, path] of paths) {
      const none = await adminRequest(gw.admin, method, path, { body: method === 'POST' ? body : undefined });
      assert.equal(none.status, 401, `${method} ${path}`);
      assert.match(none.headers['www-authenticate'], /^Bearer /);
      assert.equal(none.json.error.code, 'unauthenticated');
      const forged = await adminRequest(gw.admin, method, path, { token: aw.forged({ roles: ['approver'] }) });
      assert.equal(forged.status, 401, `${method} ${path}`);
      assert.equal(forged.json.error.code, 'invalid_token');
      const expired = await adminRequest(gw.admin, method, path, { token: aw.token({ exp: Math.floor(Date.now() / 1000) - 3600 }) });
      assert.equal(expired.status, 401);
      assert.match(expired.json.error.message, /expired/);
      const viewer = await adminRequest(gw.admin, method, path,
        { token: aw.token({ sub: 'vic', roles: ['viewer', 'editor'] }), body: method === 'POST' ? body : undefined });
      assert.equal(viewer.status, 403, `${method} ${path}`);
      assert.equal(viewer.json.error.code, 'not_an_approver');
    }
    // Nothing was decided or switched by any of them.
    const still = await adminRequest(gw.admin, 'GET', `/admin/approvals/${a.id}`, { token: aw.token() });
    assert.equal(still.json.state, 'pending');
    const writes = await adminRequest(gw.admin, 'GET', '/admin/writes', { token: aw.token() });
    assert.equal(writes.json.enabled, true);
    // Whoever made the call does not approve it, even holding the role.
    const own = await adminRequest(gw.admin, 'POST', `/admin/approvals/${a.id}/approve`,
      { token: aw.token({ sub: 'bob' }), body: { reason: 'my own' } });
    assert.equal(own.status, 403);
    assert.equal(own.json.error.code, 'own_call');
    // Denied by an approver: the client sees approval_denied with the reason.
    const denied = await adminRequest(gw.admin, 'POST', `/admin/approvals/${a.id}/deny`,
      { token: aw.token(), body: { reason: 'not during the freeze' } });
    assert.equal(denied.status, 200, denied.body);
    assert.equal(denied.json.state, 'denied');
    const e = await call;
    assert.equal(e.data?.reason, 'approval_denied', String(e));
    assert.match(e.message, /not during the freeze/);
    assert.match(e.message, /carol/);
    assert.equal(existsSync(join(aw.world.files, 'acme', 'out.txt')), false);
    assert.equal(receivedToolCalls(aw.world, 'files').length, 0);
  } finally {
    await gw.client.close();
  }
});

test('the kill switch over the admin API (on a Unix socket) refuses a waiting write and new ones', async () => {
  const aw = adminWorld();
  const gw = await connectWithAdmin(aw, { listen: `unix:${join(aw.world.dir, 'admin.sock')}` });
  const carol = aw.token();
  try {
    // The same rules on a Unix socket.
    assert.equal((await adminRequest(gw.admin, 'GET', '/admin/writes')).status, 401);
    assert.equal((await adminRequest(gw.admin, 'GET', '/admin/writes', { token: aw.token({ roles: ['viewer'] }) })).status, 403);
    const before = await adminRequest(gw.admin, 'GET', '/admin/writes', { token: carol });
    assert.equal(before.status, 200);
    assert.equal(before.json.enabled, true);

    const held = write(gw, 'should never land');
    await pendingApprovals(gw.admin, carol);
    const noReason = await adminRequest(gw.admin, 'POST', '/admin/writes', { token: carol, body: { enabled: false } });
    assert.equal(noReason.status, 400);
    const off = await adminRequest(gw.admin, 'POST', '/admin/writes', { token: carol, body: { enabled: false, reason: 'incident 7' } });
    assert.equal(off.status, 200, off.body);
    assert.equal(off.json.enabled, false);
    assert.equal(off.json.actor, 'carol');
    assert.equal(off.json.reason, 'incident 7');
    assert.equal(off.json.cancelled, 1);
    const started = Date.now();
    assert.equal((await refusal(held)).data.reason, 'writes_disabled');
    assert.ok(Date.now() - started < 1500, 'the waiting call is refused within about a second');
    assert.equal((await refusal(write(gw, 'also refused'))).data.reason, 'writes_disabled');
    const read = await gw.client.callTool({ name: 'read_file', arguments: { path: 'acme/hello.txt' } });
    assert.match(read.content[0].text, /hello from acme/);

    const on = await adminRequest(gw.admin, 'POST', '/admin/writes', { token: carol, body: { enabled: true, reason: 'resolved' } });
    assert.equal(on.status, 200);
    assert.equal(on.json.enabled, true);
    const after = write(gw, 'after the incident');
    const [a] = await pendingApprovals(gw.admin, carol);
    await adminRequest(gw.admin, 'POST', `/admin/approvals/${a.id}/approve`, { token: carol, body: { reason: 'fine now' } });
    await after;
    assert.equal(readFileSync(join(aw.world.files, 'acme', 'out.txt'), 'utf8'), 'after the incident');
    // Both flips are in the audit, by carol.
    const flips = auditRows(aw.world).filter((r) => r.event === 'switch');
    assert.deepEqual(flips.map((r) => [r.reason, r.actor]), [['writes=off', 'carol'], ['writes=on', 'carol']]);
  } finally {
    await gw.client.close();
  }
});

test('/metrics counts decisions by tool and reason, denials by subject, latencies and approvals', async () => {
  const aw = adminWorld();
  const gw = await connectWithAdmin(aw);
  const carol = aw.token();
  const scrape = async () => {
    const r = await adminRequest(gw.admin, 'GET', '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    return r.body;
  };
  try {
    await gw.client.callTool({ name: 'echo', arguments: { message: 'one' } });
    await gw.client.callTool({ name: 'echo', arguments: { message: 'two' } });
    await gw.client.callTool({ name: 'add', arguments: { a: 1, b: 2 } });
    assert.equal((await refusal(gw.client.callTool({ name: 'long_operation', arguments: {} }))).data.reason, 'not_granted');
    assert.equal((await refusal(gw.client.callTool({ name: 'no_such_tool_4f1', arguments: {} }))).data.reason, 'unknown_tool');
    assert.equal((await refusal(gw.client.callTool({ name: 'read_file', arguments: { path: 'globex/hello.txt' } }))).data.reason, 'outside_envelope');

    const held = write(gw, 'metered');
    const [a] = await pendingApprovals(gw.admin, carol);
    let text = await scrape();
    assert.equal(metric(text, 'scopegate_approvals_pending'), 1);
    await new Promise((r) => setTimeout(r, 300));
    await adminRequest(gw.admin, 'POST', `/admin/approvals/${a.id}/approve`, { token: carol, body: { reason: 'ok' } });
    await held;
    text = await until(async () => {
      const t = await scrape();
      return metric(t, 'scopegate_call_outcomes_total', { tool: 'write_file', outcome: 'ok' }) === 1 ? t : null;
    });

    assert.equal(metric(text, 'scopegate_calls_total', { tool: 'echo', decision: 'allow', reason: 'allowed' }), 2);
    assert.equal(metric(text, 'scopegate_calls_total', { tool: 'add', decision: 'allow', reason: 'allowed' }), 1);
    assert.equal(metric(text, 'scopegate_calls_total', { tool: 'write_file', decision: 'allow', reason: 'approval_required' }), 1);
    assert.equal(metric(text, 'scopegate_calls_total', { tool: 'long_operation', decision: 'deny', reason: 'not_granted' }), 1);
    assert.equal(metric(text, 'scopegate_calls_total', { tool: 'read_file', decision: 'deny', reason: 'outside_envelope' }), 1);
    // A made-up tool name is not a label of its own.
    assert.equal(metric(text, 'scopegate_calls_total', { tool: '_unknown', decision: 'deny', reason: 'unknown_tool' }), 1);
    assert.doesNotMatch(text, /no_such_tool_4f1/);
    assert.equal(metric(text, 'scopegate_denials_total', { subject: 'bob', reason: 'not_granted' }), 1);
    assert.equal(metric(text, 'scopegate_denials_total', { subject: 'bob', reason: 'outside_envelope' }), 1);
    assert.equal(metric(text, 'scopegate_denials_total', { subject: 'bob', reason: 'unknown_tool' }), 1);
    assert.equal(metric(text, 'scopegate_call_outcomes_total', { tool: 'echo', outcome: 'ok' }), 2);
    assert.equal(metric(text, 'scopegate_call_duration_seconds_count', { tool: 'echo' }), 2);
    assert.equal(metric(text, 'scopegate_call_duration_seconds_bucket', { tool: 'echo', le: '+Inf' }), 2);
    assert.ok(metric(text, 'scopegate_call_duration_seconds_sum', { tool: 'echo' }) > 0);
    // The held write's latency includes its wait.
    assert.equal(metric(text, 'scopegate_call_duration_seconds_bucket', { tool: 'write_file', le: '0.1' }), 0);
    assert.equal(metric(text, 'scopegate_approvals_pending'), 0);
    assert.equal(metric(text, 'scopegate_approval_wait_seconds_count'), 1);
    assert.ok(metric(text, 'scopegate_approval_wait_seconds_sum') >= 0.3);
    assert.equal(metric(text, 'scopegate_writes_enabled'), 1);
    assert.match(text, /# TYPE scopegate_call_duration_seconds histogram/);
  } finally {
    await gw.client.close();
  }
});
