// Protocol edge cases a well-behaved SDK never sends, driven over raw stdio lines:
// version negotiation, the handshake order, malformed and hostile input. After each bad
// message the session must keep working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync, readFileSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { makeWorld, rawSession, received, receivedToolCalls, auditRows, SCOPEGATE } from './peers.mjs';

const init = (id, version = '2025-11-25') => JSON.stringify({ jsonrpc: '2.0', id, method: 'initialize',
  params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
const req = (id, method, params) => JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) });

async function opened(world, args) {
  const s = rawSession(world, args);
  s.send(init(0));
  const r = await s.next();
  assert.equal(r.id, 0);
  s.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  return s;
}

async function stillAlive(s, id) {
  s.send(req(id, 'ping'));
  const r = await s.next();
  assert.deepEqual(r, { jsonrpc: '2.0', id, result: {} });
}

test('initialize negotiates a supported version and falls back to the newest', async () => {
  const world = makeWorld();
  for (const [asked, got] of [['2025-03-26', '2025-03-26'], ['2025-06-18', '2025-06-18'],
    ['2025-11-25', '2025-11-25'], ['1999-01-01', '2025-11-25']]) {
    const s = rawSession(world);
    s.send(init(1, asked));
    const r = await s.next();
    assert.equal(r.result.protocolVersion, got);
    assert.equal(r.result.serverInfo.name, 'scopegate');
    assert.deepEqual(r.result.capabilities, {
      tools: { listChanged: false },
      prompts: { listChanged: false }, // the viewer role has prompt and resource grants
      resources: { listChanged: false, subscribe: true },
    });
    s.send(init(2));
    const again = await s.next();
    assert.equal(again.error.code, -32600);
    const { code } = await s.close();
    assert.equal(code, 0);
  }
});

test('only ping and initialize are served before initialize', async () => {
  const world = makeWorld();
  const s = rawSession(world);
  s.send(req(1, 'tools/list'));
  const r = await s.next();
  assert.equal(r.id, 1);
  assert.equal(r.error.data.reason, 'not_initialized');
  s.send(req(2, 'tools/call', { name: 'echo', arguments: { message: 'early' } }));
  assert.equal((await s.next()).error.data.reason, 'not_initialized');
  await stillAlive(s, 3);
  assert.equal(receivedToolCalls(world, 'everything').length, 0);
  await s.close();
});

test('malformed and hostile messages get clear errors and cost nothing else', async () => {
  const world = makeWorld();
  const s = await opened(world, ['--role', 'viewer', '--tenant', 'acme', '--env', 'test', '--max-message', '4096', '--max-depth', '16']);
  const cases = [
    ['{"jsonrpc":"2.0","id":1,"method":"ping"', -32700, 'parse_error'],
    ['{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}', -32700, 'parse_error'],
    ['{"jsonrpc":"2.0","id":1,"method":"p\\u0000ing"}', -32700, 'parse_error'],
    [Buffer.from('{"jsonrpc":"2.0","id":1,"method":"\xff\xfe"}', 'latin1'), -32700, 'parse_error'],
    ['[' + req(1, 'ping') + ']', -32600, 'batch_refused'],
    ['[]', -32600, 'batch_refused'],
    ['{"jsonrpc":"2.0","id":1,"method":"x","params":' + '['.repeat(40) + ']'.repeat(40) + '}', -32600, 'nesting_too_deep'],
    [JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'x'.repeat(5000) } } }), -32600, 'message_too_large'],
    ['{"jsonrpc":"1.0","id":1,"method":"ping"}', -32600, 'invalid_request'],
    ['42', -32600, 'invalid_request'],
  ];
  let n = 100;
  for (const [text, code, reason] of cases) {
    if (Buffer.isBuffer(text)) s.child.stdin.write(Buffer.concat([text, Buffer.from('\n')]));
    else s.send(text);
    const r = await s.next();
    assert.equal(r.error?.code, code, `${String(text).slice(0, 60)} -> ${JSON.stringify(r)}`);
    assert.equal(r.error.data.reason, reason);
    await stillAlive(s, n++);
  }
  s.send(req(7, 'completion/complete', { ref: { type: 'ref/prompt', name: 'city_brief' }, argument: { name: 'city', value: 'P' } }));
  const r = await s.next();
  assert.equal(r.error.code, -32601);
  assert.equal(r.id, 7);
  // logging/setLevel is acknowledged: the gateway sends no log notifications to filter.
  s.send(req(70, 'logging/setLevel', { level: 'debug' }));
  assert.deepEqual((await s.next()).result, {});
  s.send(req(71, 'logging/setLevel', { level: 'loud' }));
  assert.equal((await s.next()).error.code, -32602);
  s.send(req(8, 'tools/call', { name: 'echo', arguments: 'not an object' }));
  const bad = await s.next();
  assert.equal(bad.error.code, -32602);
  assert.equal(bad.error.data.reason, 'invalid_params');
  // A cancellation for a request that does not exist is ignored without a reply.
  s.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 999 } }));
  await stillAlive(s, 9);
  assert.equal(receivedToolCalls(world, 'everything').length, 0);
  const { code: exitCode } = await s.close();
  assert.equal(exitCode, 0);
  assert.ok(auditRows(world).some((row) => row.reason === 'invalid_params'));
});

test('when the audit store cannot record a call, the call is refused', async () => {
  const world = makeWorld();
  const s = await opened(world);
  s.send(req(1, 'tools/call', { name: 'echo', arguments: { message: 'recorded' } }));
  assert.equal((await s.next()).result.content[0].text, 'Echo: recorded');
  // Another process takes the database's write lock and keeps it (waiting for the
  // gateway's own short transactions to finish first).
  const locker = spawn('sqlite3', [world.db], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    locker.stdin.write(".timeout 10000\nBEGIN EXCLUSIVE;\nSELECT 'locked';\n");
    await new Promise((r) => locker.stdout.on('data', (d) => { if (String(d).includes('locked')) r(); }));
    s.send(req(2, 'tools/call', { name: 'echo', arguments: { message: 'unrecorded' } }));
    const r = await s.next(15000);
    assert.equal(r.error?.data?.reason, 'audit_unavailable', JSON.stringify(r));
    locker.stdin.end('COMMIT;\n');
    await new Promise((res) => locker.on('exit', res));
  } finally {
    locker.kill();
  }
  const calls = receivedToolCalls(world, 'everything').map((p) => p.arguments.message);
  assert.deepEqual(calls, ['recorded']);
  s.send(req(3, 'tools/call', { name: 'echo', arguments: { message: 'recorded again' } }));
  assert.equal((await s.next()).result.content[0].text, 'Echo: recorded again');
  await s.close();
});

test('the gateway refuses to start without an identity or on a bad catalog', async () => {
  const world = makeWorld();
  const run = (args) => new Promise((res) => {
    const c = spawn(SCOPEGATE, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => { err += d; });
    c.on('exit', (code) => res({ code, err }));
  });
  let r = await run(['serve', '--catalog', world.catalog, '--db', world.db, '--role', 'viewer']);
  assert.equal(r.code, 2);
  assert.match(r.err, /needs an identity/);
  r = await run(['serve', '--catalog', world.catalog, '--db', world.db, '--role', 'root', '--tenant', 'a', '--env', 'b']);
  assert.equal(r.code, 1);
  assert.match(r.err, /role "root" is not in/);
  r = await run(['serve', '--catalog', '/nonexistent', '--db', world.db, '--role', 'viewer', '--tenant', 'a', '--env', 'b']);
  assert.equal(r.code, 1);
  assert.match(r.err, /catalog directory does not exist/);
});

test('stdin and stdout may be plain files (a session replayed from disk)', async () => {
  const world = makeWorld();
  const input = join(world.dir, 'in.jsonl');
  const output = join(world.dir, 'out.jsonl');
  writeFileSync(input, [init(1, '2025-06-18'), req(2, 'tools/list'), req(3, 'ping'), '{"bad json'].join('\n') + '\n');
  for (let i = 0; i < 3; i++) {
    const inFd = openSync(input, 'r');
    const outFd = openSync(output, 'w');
    const code = await new Promise((res) => {
      const c = spawn(SCOPEGATE, ['serve', '--catalog', world.catalog, '--db', world.db, '--role', 'viewer', '--tenant', 'acme', '--env', 'test'],
        { stdio: [inFd, outFd, 'ignore'] });
      c.on('exit', (code, signal) => res(signal ?? code));
    });
    closeSync(inFd);
    closeSync(outFd);
    assert.equal(code, 0);
    const lines = readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.id), [1, 2, 3, null]);
    assert.equal(lines[1].result.tools.length, 5);
    assert.equal(lines[3].error.code, -32700);
  }
});

test('SIGTERM cancels calls in flight, audits them and exits cleanly', async () => {
  const world = makeWorld();
  const s = await opened(world);
  s.send(req(1, 'tools/call', { name: 'long_operation', arguments: { duration: 30, steps: 30 } }));
  const { until } = await import('./peers.mjs');
  await until(() => receivedToolCalls(world, 'everything').length === 1);
  s.child.kill('SIGTERM');
  const { code, signal } = await s.exited;
  assert.equal(signal, null);
  assert.equal(code, 0);
  const row = auditRows(world).find((r) => r.tool === 'long_operation');
  assert.equal(row.decision, 'allow');
  assert.equal(row.outcome, 'cancelled');
  const cancel = received(world, 'everything').find((m) => m.method === 'notifications/cancelled');
  assert.ok(cancel, 'the downstream was told to cancel');
});

test('the identity may come from SCOPEGATE_* environment variables', async () => {
  const world = makeWorld();
  const child = spawn(SCOPEGATE, ['serve', '--catalog', world.catalog, '--db', world.db], {
    stdio: ['pipe', 'pipe', 'ignore'],
    env: { ...process.env, SCOPEGATE_ROLE: 'editor', SCOPEGATE_TENANT: 'globex', SCOPEGATE_ENV: 'staging', SCOPEGATE_SUBJECT: 'carol' },
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stdin.write(init(1) + '\n' + req(2, 'tools/call', { name: 'long_operation', arguments: {} }) + '\n');
  const { until } = await import('./peers.mjs');
  await until(() => out.split('\n').filter(Boolean).length >= 2);
  child.stdin.end();
  await new Promise((r) => child.on('exit', r));
  const reply = JSON.parse(out.split('\n')[1]);
  assert.equal(reply.error.data.reason, 'not_granted'); // editors have no long_operation
  const row = auditRows(world).at(-1);
  assert.deepEqual([row.subject, row.role, row.tenant, row.env], ['carol', 'editor', 'globex', 'staging']);
});
