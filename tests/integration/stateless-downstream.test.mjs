// Downstream servers of the stateless era (2026-07-28) over Streamable HTTP: a real
// server built on the official server SDK v2 (stateless-downstream.mjs, which refuses
// initialize) behind a catalog entry with "protocol": "2026-07-28" or "auto". scopegate
// sends no initialize and keeps no session; each request carries the era's envelope
// and headers, and what is not granted never reaches the server. With "auto", a
// session-era server (server-everything) is initialized instead.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeWorld, connect, refusal, until, auditRows, ROOT } from './peers.mjs';
import { startEverything } from './http-downstream-peers.mjs';

const SERVER = join(ROOT, 'tests/integration/stateless-downstream.mjs');
const META_VERSION = 'io.modelcontextprotocol/protocolVersion';
const META_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';

// The stateless server on a free port, logging what it receives to log.
async function startStateless(log) {
  const child = spawn(process.execPath, [SERVER, log, '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((r) => child.on('exit', r));
  let out = '';
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (\d+)/);
      if (m) resolve(Number(m[1]));
    });
    exited.then(() => reject(new Error(`the stateless server exited:\n${out}`)));
  });
  return { port, stop: () => { child.kill('SIGTERM'); return exited; } };
}

// What the stateless server received: one { method, headers, body } per HTTP request.
const receivedBy = (log) => existsSync(log)
  ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];

// The example catalog plus server "modern" at url (speaking protocol) and three tools on
// it: modern_echo and modern_add granted to viewers, modern_secret to editors only.
function modernWorld(url, protocol, server = 'modern') {
  const world = makeWorld({ record: false });
  const path = join(world.catalog, 'servers.json');
  const servers = JSON.parse(readFileSync(path, 'utf8'));
  servers.servers[server] = { transport: 'http', url, protocol, call_timeout_ms: 20000, startup_timeout_ms: 10000 };
  writeFileSync(path, JSON.stringify(servers, null, 2));
  const tool = (name, downstream, properties, description) => writeFileSync(join(world.catalog, 'tools', `${name}.json`),
    JSON.stringify({ name, server, tool: downstream, access: 'read', description,
      inputSchema: { type: 'object', properties, required: Object.keys(properties), additionalProperties: false } }));
  tool('modern_echo', 'echo', { message: { type: 'string', maxLength: 100 } }, 'Echoes a message.');
  tool('modern_add', 'add', { a: { type: 'number' }, b: { type: 'number' } }, 'Adds two numbers.');
  tool('modern_secret', 'secret', {}, 'Returns a secret.');
  const matrixPath = join(world.catalog, 'matrix.json');
  const matrix = JSON.parse(readFileSync(matrixPath, 'utf8'));
  matrix.roles.viewer.tools.modern_echo = {};
  matrix.roles.viewer.tools.modern_add = {};
  matrix.roles.editor.tools.modern_secret = {};
  writeFileSync(matrixPath, JSON.stringify(matrix));
  return world;
}

// A stateless server of its own, logging what it receives, and the world of modernWorld
// with "modern" at that server's address.
async function statelessWorld(protocol) {
  const log = join(mkdtempSync(join(tmpdir(), 'sg-stateless-')), 'received.jsonl');
  const server = await startStateless(log);
  return { world: modernWorld(`http://127.0.0.1:${server.port}/mcp`, protocol), log, server };
}

let everything;
before(async () => { everything = await startEverything(); });
after(async () => { await everything?.stop(); });

test('a stateless downstream is called without a handshake, each request in the era\'s envelope and headers', async () => {
  const { world, log, server } = await statelessWorld('2026-07-28');
  const gw = await connect(world, { role: 'viewer' });
  try {
    const { tools } = await gw.client.listTools();
    assert.ok(tools.some((t) => t.name === 'modern_echo'));
    assert.ok(!tools.some((t) => t.name === 'modern_secret'));
    const r = await gw.client.callTool({ name: 'modern_echo', arguments: { message: 'é and "quotes"' } });
    assert.equal(r.content[0].text, 'stateless echo: é and "quotes"');
    assert.equal(r.resultType, undefined); // the client's own era shapes its answer
    const seen = [];
    const sum = await gw.client.callTool({ name: 'modern_add', arguments: { a: 1, b: 2 } }, undefined,
      { onprogress: (p) => seen.push(p.progress) });
    assert.equal(sum.content[0].text, '3');
    assert.deepEqual(seen.slice(0, 1), [1]);

    // Not granted: refused at the gateway, never sent.
    const e = await refusal(gw.client.callTool({ name: 'modern_secret', arguments: {} }));
    assert.equal(e.data.reason, 'not_granted');

    const got = receivedBy(log);
    assert.equal(got[0].body.method, 'server/discover');
    assert.ok(got.every((g) => g.method === 'POST'), 'no GET or DELETE: there is no session');
    assert.ok(!got.some((g) => g.body.method === 'initialize' || g.body.method === 'notifications/initialized'));
    for (const g of got) {
      assert.equal(g.headers['mcp-session-id'], undefined);
      assert.equal(g.headers['mcp-protocol-version'], '2026-07-28');
      assert.equal(g.headers['mcp-method'], g.body.method);
      assert.equal(g.body.params._meta[META_VERSION], '2026-07-28');
      assert.deepEqual(g.body.params._meta[META_CAPABILITIES], {});
    }
    const calls = got.filter((g) => g.body.method === 'tools/call');
    assert.deepEqual(calls.map((g) => g.body.params.name), ['echo', 'add']);
    assert.deepEqual(calls.map((g) => g.headers['mcp-name']), ['echo', 'add']);
    assert.ok(got.some((g) => g.body.method === 'tools/list'));
    const rows = auditRows(world);
    assert.ok(rows.some((x) => x.tool === 'modern_echo' && x.outcome === 'ok'));
    assert.ok(rows.some((x) => x.tool === 'modern_secret' && x.decision === 'deny' && x.reason === 'not_granted'));
  } finally {
    await gw.client.close();
    await server.stop();
  }
});

test('with "auto" a stateless server is discovered and a session-era server is initialized', async () => {
  // Both servers under "auto" in one catalog: "modern" is the SDK v2 server, "everything"
  // is server-everything over streamableHttp, which answers server/discover with 400.
  const { world, log, server } = await statelessWorld('auto');
  const path = join(world.catalog, 'servers.json');
  const servers = JSON.parse(readFileSync(path, 'utf8'));
  servers.servers.everything = { transport: 'http', url: `http://127.0.0.1:${everything.port}/mcp`, protocol: 'auto' };
  writeFileSync(path, JSON.stringify(servers, null, 2));
  const gw = await connect(world, { role: 'viewer' });
  try {
    const r = await gw.client.callTool({ name: 'modern_echo', arguments: { message: 'auto' } });
    assert.equal(r.content[0].text, 'stateless echo: auto');
    assert.ok(!receivedBy(log).some((g) => g.body.method === 'initialize'));
    const ok = await gw.client.callTool({ name: 'echo', arguments: { message: 'a session after all' } });
    assert.equal(ok.content[0].text, 'Echo: a session after all');
    await until(() => /downstream everything: server\/discover: .*initializing a session instead/.test(gw.log()));
  } finally {
    await gw.client.close();
    await server.stop();
  }
});

test('a catalog naming an unknown protocol for a server is refused', async () => {
  const world = modernWorld('http://127.0.0.1:9/mcp', '2026-13-01');
  const { spawnSync } = await import('node:child_process');
  const { SCOPEGATE } = await import('./peers.mjs');
  const r = spawnSync(SCOPEGATE, ['check', world.catalog], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout + r.stderr, /servers\.json: \/servers\/modern\/protocol: must be "2025-11-25" \(sessions, the default\), "2026-07-28" \(stateless\) or "auto"/);
});
