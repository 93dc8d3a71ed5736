// Downstream servers reached over Streamable HTTP: server-everything runs in its
// streamableHttp mode behind a small recording proxy, and the catalog's "everything"
// server is its URL. Calls, progress, refusals and drift behave as with a stdio server;
// each (tenant, env) instance is its own MCP session carrying its own credential header
// and never the client's token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, refusal, until, auditRows } from './peers.mjs';
import { bearerWorld, startBearerGateway, bearerClient } from './bearer-peers.mjs';
import { freePort, startEverything, startProxy, httpWorld } from './http-downstream-peers.mjs';

function pinTool(world, file, pin) {
  const path = join(world.catalog, 'tools', file);
  const tool = JSON.parse(readFileSync(path, 'utf8'));
  tool.pin = pin;
  writeFileSync(path, JSON.stringify(tool, null, 2));
}

let everything;
let proxy;
before(async () => {
  everything = await startEverything();
  proxy = await startProxy(everything.port);
});
after(async () => {
  await proxy?.stop();
  await everything?.stop();
});

test('an http downstream serves listing, calls and progress, and refuses what is not granted', async () => {
  const world = httpWorld(`http://127.0.0.1:${proxy.port}/mcp`);
  const gw = await connect(world, { role: 'viewer', extraArgs: ['--secrets', world.secrets] });
  try {
    const { tools } = await gw.client.listTools();
    assert.ok(tools.some((t) => t.name === 'echo'));
    const r = await gw.client.callTool({ name: 'echo', arguments: { message: 'over http' } });
    assert.equal(r.content[0].text, 'Echo: over http');

    const seen = [];
    const lo = await gw.client.callTool({ name: 'long_operation', arguments: { duration: 1, steps: 3 } },
      undefined, { onprogress: (p) => seen.push(p) });
    assert.match(lo.content[0].text, /Long running operation completed/);
    assert.deepEqual(seen.map((p) => p.progress).slice(0, 2), [1, 2]);
    assert.ok(seen.every((p) => p.total === 3));

    // write_file is not granted to viewers: refused at the gateway.
    const e = await refusal(gw.client.callTool({ name: 'write_file', arguments: { path: 'acme/x.txt', content: 'x' } }));
    assert.equal(e.data.reason, 'not_granted');

    // The session era as a client: initialize without a session, then the session id and
    // the negotiated protocol version on everything after it.
    const mine = proxy.seen.filter((s) => s.headers.authorization === 'Bearer acme-downstream');
    assert.ok(mine.length >= 4);
    assert.equal(mine[0].method, 'POST');
    assert.equal(mine[0].headers['mcp-session-id'], undefined);
    assert.match(mine[0].headers.accept, /application\/json/);
    assert.match(mine[0].headers.accept, /text\/event-stream/);
    const sid = mine[1].headers['mcp-session-id'];
    assert.ok(sid);
    assert.ok(mine.slice(1).every((s) => s.headers['mcp-session-id'] === sid));
    assert.ok(mine.slice(1).every((s) => s.headers['mcp-protocol-version']));
    assert.ok(mine.every((s) => s.headers['x-catalog'] === 'scopegate-test'));
    assert.doesNotMatch(gw.log(), /acme-downstream/); // the credential is never logged
  } finally {
    await gw.client.close();
  }
  // The session is ended when the gateway stops.
  await until(() => proxy.seen.some((s) => s.method === 'DELETE' && s.headers.authorization === 'Bearer acme-downstream'));
});

test('a pinned tool whose http downstream drifted is quarantined', async () => {
  const world = httpWorld(`http://127.0.0.1:${proxy.port}/mcp`);
  pinTool(world, 'add.json', { description: 'Returns the sum of two numbers.', inputSchema: { type: 'object' } });
  const gw = await connect(world, { role: 'viewer', extraArgs: ['--secrets', world.secrets] });
  try {
    const ok = await gw.client.callTool({ name: 'echo', arguments: { message: 'fine' } });
    assert.equal(ok.content[0].text, 'Echo: fine');
    const e = await refusal(gw.client.callTool({ name: 'add', arguments: { a: 1, b: 2 } }));
    assert.equal(e.data.reason, 'tool_drift');
    assert.match(e.message, /quarantined/);
    assert.ok(auditRows(world).some((r) => r.event === 'drift' && r.tool === 'get-sum'));
  } finally {
    await gw.client.close();
  }
});

test('two tenants get two sessions, each with its own credential and never the client token', async () => {
  const world = bearerWorld(httpWorld(`http://127.0.0.1:${proxy.port}/mcp`));
  const gw = await startBearerGateway(world, { extraArgs: ['--secrets', world.secrets] });
  const acmeToken = world.token({ tenant: 'acme' });
  const globexToken = world.token({ tenant: 'globex', sub: 'bob' });
  const a = await bearerClient(gw.url, acmeToken);
  const b = await bearerClient(gw.url, globexToken);
  try {
    const ra = await a.client.callTool({ name: 'echo', arguments: { message: 'from acme' } });
    const rb = await b.client.callTool({ name: 'echo', arguments: { message: 'from globex' } });
    assert.equal(ra.content[0].text, 'Echo: from acme');
    assert.equal(rb.content[0].text, 'Echo: from globex');
    const sessions = (cred) => new Set(proxy.seen.filter((s) => s.headers.authorization === cred &&
      s.headers['mcp-session-id']).map((s) => s.headers['mcp-session-id']));
    const acme = sessions('Bearer acme-downstream');
    const globex = sessions('Bearer globex-downstream');
    assert.equal(acme.size >= 1 && globex.size >= 1, true);
    for (const sid of acme) assert.ok(!globex.has(sid), 'a session is never shared across tenants');
    // No request downstream carried either client's token, in any header.
    for (const s of proxy.seen) {
      const all = JSON.stringify(s.headers);
      assert.ok(!all.includes(acmeToken) && !all.includes(globexToken));
    }
  } finally {
    await a.client.close();
    await b.client.close();
    await gw.stop();
  }
});

test('an unreachable http downstream fails calls with downstream_unavailable, then recovers', async () => {
  const port = await freePort();
  const world = httpWorld(`http://127.0.0.1:${port}/mcp`);
  const gw = await connect(world, { role: 'viewer', extraArgs: ['--secrets', world.secrets] });
  let late;
  try {
    const e = await refusal(gw.client.callTool({ name: 'echo', arguments: { message: 'nobody home' } }));
    assert.equal(e.data.reason, 'downstream_unavailable');
    assert.match(e.message, /downstream server "everything" is unreachable at http:\/\/127\.0\.0\.1/);
    assert.match(gw.log(), /downstream everything .*unreachable at http:\/\/127\.0\.0\.1/);
    // Once something listens there, the instance re-initializes with backoff and calls flow.
    const relay = createServer((req, res) => {
      const up = request({ host: '127.0.0.1', port: everything.port, method: req.method, path: req.url,
        headers: req.headers }, (ur) => { res.writeHead(ur.statusCode, ur.headers); ur.pipe(res); });
      req.pipe(up);
    });
    await new Promise((r) => relay.listen(port, '127.0.0.1', r));
    late = { stop: () => new Promise((r) => { relay.closeAllConnections(); relay.close(r); }) };
    const ok = await until(async () => {
      try {
        return await gw.client.callTool({ name: 'echo', arguments: { message: 'back' } });
      } catch {
        return null;
      }
    }, { timeoutMs: 20000, stepMs: 300 });
    assert.equal(ok.content[0].text, 'Echo: back');
  } finally {
    await gw.client.close();
    await late?.stop();
  }
});
