// scopegate over Streamable HTTP in the stateless era (2026-07-28): the official SDK v2
// client (@modelcontextprotocol/client) pinned to 2026-07-28 and in "auto" mode, next to a
// session-era client on the same endpoint; then raw HTTP for what a well-behaved client
// never sends: mirrored headers that disagree with the body, versions the gateway does
// not serve, GET and DELETE, a client that leaves in the middle of a call.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT, makeWorld, receivedToolCalls, received, auditRows, until } from './peers.mjs';
import { startGateway, httpRequest, rawSocket } from './http-peers.mjs';
import { bearerWorld, startBearerGateway } from './bearer-peers.mjs';

const V2 = join(ROOT, 'tools/node_modules/@modelcontextprotocol/client/dist/index.mjs');
const { Client, StreamableHTTPClientTransport, ProtocolError } = await import(V2);

const MODERN = '2026-07-28';
const META = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'raw-http', version: '1' } };

// The headers a conforming client sends for a request: MCP-Protocol-Version, Mcp-Method
// and, where the method has one, Mcp-Name.
const headers = (method, name, extra = {}) => ({ 'content-type': 'application/json',
  accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': method,
  ...(name !== undefined ? { 'mcp-name': name } : {}), ...extra });
const body = (id, method, params = {}, meta = META) =>
  JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, ...(meta ? { _meta: meta } : {}) } });

async function v2Client(url, mode) {
  const client = new Client({ name: 'scopegate-stateless-test', version: '1.0.0' },
    mode === undefined ? {} : { versionNegotiation: { mode } });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  return { client, transport };
}

async function protocolRefusal(promise) {
  try {
    const r = await promise;
    assert.fail(`expected a JSON-RPC error, got the result ${JSON.stringify(r)}`);
  } catch (e) {
    assert.ok(e instanceof ProtocolError, `expected a ProtocolError, got ${e}`);
    return e;
  }
}

describe('the SDK v2 client pinned to 2026-07-28', () => {
  let world, gw, client, transport;
  before(async () => {
    world = makeWorld();
    gw = await startGateway(world);
    ({ client, transport } = await v2Client(gw.url, { pin: MODERN }));
  });
  after(async () => {
    await client?.close();
    const { code } = await gw.stop();
    assert.equal(code, 0, gw.log());
  });

  test('speaks the stateless era: no session, server/discover answered by the gateway', () => {
    assert.equal(client.getProtocolEra(), 'modern');
    assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
    assert.equal(transport.sessionId, undefined);
    const d = client.getDiscoverResult();
    assert.ok(d.supportedVersions.includes(MODERN) && d.supportedVersions.includes('2025-11-25'));
    assert.ok(d.capabilities.tools);
  });

  test('tools/list shows the role\'s catalog tools', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ['add', 'echo', 'list_directory', 'long_operation', 'read_file']);
  });

  test('an allowed call returns the downstream result', async () => {
    const r = await client.callTool({ name: 'echo', arguments: { message: 'stateless' } });
    assert.equal(r.isError ?? false, false);
    assert.equal(r.content[0].text, 'Echo: stateless');
    assert.ok(receivedToolCalls(world, 'everything').some((p) => p.name === 'echo' && p.arguments.message === 'stateless'));
  });

  test('an ungranted call is refused with not_granted and never reaches the downstream', async () => {
    const e = await protocolRefusal(client.callTool({ name: 'write_file', arguments: { path: 'acme/x.txt', content: 'no' } }));
    assert.equal(e.code, -32003);
    assert.equal(e.data.reason, 'not_granted');
    assert.equal(receivedToolCalls(world, 'files').filter((p) => p.name === 'write_file').length, 0);
  });

  test('arguments are checked against the catalog\'s schema, not the downstream\'s', async () => {
    const e = await protocolRefusal(client.callTool({ name: 'add', arguments: { a: 1, b: 1e9 } }));
    assert.equal(e.data.reason, 'invalid_arguments');
    const env = await protocolRefusal(client.callTool({ name: 'read_file', arguments: { path: 'globex/hello.txt' } }));
    assert.equal(env.data.reason, 'outside_envelope');
  });

  test('progress notifications arrive on the call\'s own stream', async () => {
    const seen = [];
    const r = await client.callTool({ name: 'long_operation', arguments: { duration: 1, steps: 3 } },
      { onprogress: (p) => seen.push(p) });
    assert.match(r.content[0].text, /Long running operation completed/);
    assert.deepEqual(seen.map((p) => p.progress), [1, 2, 3]);
  });

  test('prompts and resources go through the same grants', async () => {
    const { prompts } = await client.listPrompts();
    assert.deepEqual(prompts.map((p) => p.name), ['city_brief']);
    const { resources } = await client.listResources();
    assert.ok(resources.length > 0);
    assert.ok(resources.every((r) => r.uri.startsWith('demo://resource/static/document/')), JSON.stringify(resources));
    const read = await client.readResource({ uri: resources[0].uri });
    assert.ok(read.contents.length > 0);
    const e = await protocolRefusal(client.readResource({ uri: 'demo://resource/dynamic/text/1' }));
    assert.equal(e.data.reason, 'not_granted');
  });

  test('a call the client aborts is cancelled downstream and audited as cancelled', async () => {
    const long = () => receivedToolCalls(world, 'everything').filter((p) => p.name === 'trigger-long-running-operation').length;
    const cancels = () => received(world, 'everything').filter((m) => m.method === 'notifications/cancelled').length;
    const [longBefore, cancelsBefore] = [long(), cancels()];
    const ac = new AbortController();
    const call = client.callTool({ name: 'long_operation', arguments: { duration: 10, steps: 5 } }, { signal: ac.signal });
    await until(() => long() > longBefore);
    ac.abort();
    await assert.rejects(call);
    await until(() => cancels() > cancelsBefore);
    await until(() => auditRows(world).find((r) => r.tool === 'long_operation' && r.outcome === 'cancelled'));
    // The next request is served as usual.
    const r = await client.callTool({ name: 'echo', arguments: { message: 'after' } });
    assert.equal(r.content[0].text, 'Echo: after');
  });

  test('calls are audited under the operator\'s identity', async () => {
    const rows = await until(() => {
      const r = auditRows(world);
      return r.some((x) => x.tool === 'echo' && x.outcome === 'ok') ? r : null;
    });
    assert.ok(rows.some((r) => r.tool === 'write_file' && r.reason === 'not_granted'));
    for (const r of rows) assert.deepEqual([r.subject, r.role, r.tenant, r.env], ['alice', 'viewer', 'acme', 'test']);
  });
});

describe('both eras on one endpoint', () => {
  let world, gw;
  before(async () => {
    world = makeWorld();
    gw = await startGateway(world);
  });
  after(async () => {
    const { code } = await gw.stop();
    assert.equal(code, 0, gw.log());
  });

  test('"auto" negotiation chooses the stateless era; no negotiation keeps the session era', async () => {
    const auto = await v2Client(gw.url, 'auto');
    const legacy = await v2Client(gw.url);
    try {
      assert.equal(auto.client.getProtocolEra(), 'modern');
      assert.equal(auto.transport.sessionId, undefined);
      assert.equal(legacy.client.getProtocolEra(), 'legacy');
      assert.equal(legacy.client.getNegotiatedProtocolVersion(), '2025-11-25');
      assert.match(legacy.transport.sessionId, /^[0-9a-f]{32}$/);
      // Interleaved, each in its own era.
      const [a, b] = await Promise.all([
        auto.client.callTool({ name: 'add', arguments: { a: 2, b: 40 } }),
        legacy.client.callTool({ name: 'add', arguments: { a: 1, b: 2 } }),
      ]);
      assert.match(a.content[0].text, /42/);
      assert.match(b.content[0].text, /\b3\b/);
      const e = await protocolRefusal(auto.client.callTool({ name: 'write_file', arguments: { path: 'acme/x', content: 'x' } }));
      assert.equal(e.data.reason, 'not_granted');
    } finally {
      await legacy.transport.terminateSession().catch(() => {});
      await legacy.client.close();
      await auto.client.close();
    }
  });
});

describe('raw HTTP in the stateless era', () => {
  let world, gw;
  before(async () => {
    world = makeWorld();
    gw = await startGateway(world);
  });
  after(async () => {
    const { code } = await gw.stop();
    assert.equal(code, 0, gw.log());
  });
  const post = (h, b) => httpRequest({ port: gw.port, headers: h, body: b });

  test('server/discover: versions of both eras, capabilities, identity, resultType and cache fields', async () => {
    const r = await post(headers('server/discover'), body(1, 'server/discover'));
    assert.equal(r.status, 200);
    assert.equal(r.headers['mcp-session-id'], undefined);
    const { result } = JSON.parse(r.body);
    assert.equal(result.resultType, 'complete');
    assert.deepEqual(result.supportedVersions, [MODERN, '2025-11-25', '2025-06-18', '2025-03-26']);
    assert.deepEqual(result.serverInfo.name, 'scopegate');
    assert.deepEqual(result._meta['io.modelcontextprotocol/serverInfo'], result.serverInfo);
    assert.equal(result.ttlMs, 0);
    assert.equal(result.cacheScope, 'private');
    assert.deepEqual(Object.keys(result.capabilities).sort(), ['prompts', 'resources', 'tools']);
  });

  test('results carry resultType; lists carry the cache fields, calls do not', async () => {
    const list = JSON.parse((await post(headers('tools/list'), body(2, 'tools/list'))).body).result;
    assert.equal(list.resultType, 'complete');
    assert.equal(list.ttlMs, 0);
    assert.equal(list.cacheScope, 'private');
    const r = await post(headers('tools/call', 'echo'), body(3, 'tools/call', { name: 'echo', arguments: { message: 'raw' } }));
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^application\/json/);
    const { id, result } = JSON.parse(r.body);
    assert.equal(id, 3);
    assert.equal(result.resultType, 'complete');
    assert.equal(result.content[0].text, 'Echo: raw');
    assert.equal(result.ttlMs, undefined);
  });

  test('Mcp-Method or Mcp-Name that disagree with the body: 400 with -32020, nothing forwarded', async () => {
    const before = receivedToolCalls(world, 'everything').length;
    // Routed on the header as "echo", executed from the body as "add": refused.
    const name = await post(headers('tools/call', 'echo'), body(4, 'tools/call', { name: 'add', arguments: { a: 1, b: 2 } }));
    assert.equal(name.status, 400);
    const e = JSON.parse(name.body);
    assert.equal(e.id, 4);
    assert.equal(e.error.code, -32020);
    assert.equal(e.error.data.reason, 'header_mismatch');
    const method = await post(headers('tools/list'), body(5, 'tools/call', { name: 'echo', arguments: { message: 'x' } }));
    assert.equal(method.status, 400);
    assert.equal(JSON.parse(method.body).error.code, -32020);
    const missingName = await post(headers('tools/call'), body(6, 'tools/call', { name: 'echo', arguments: { message: 'x' } }));
    assert.equal(JSON.parse(missingName.body).error.code, -32020);
    const { 'mcp-method': _, ...noMethod } = headers('tools/list');
    const missingMethod = await post(noMethod, body(7, 'tools/list'));
    assert.equal(missingMethod.status, 400);
    assert.equal(JSON.parse(missingMethod.body).error.code, -32020);
    const uri = await post(headers('resources/read', 'demo://resource/static/document/architecture.md'),
      body(8, 'resources/read', { uri: 'demo://resource/static/document/other.md' }));
    assert.equal(JSON.parse(uri.body).error.code, -32020);
    const version = await post(headers('tools/list', undefined, { 'mcp-protocol-version': '2099-01-01' }), body(9, 'tools/list'));
    assert.equal(version.status, 400);
    assert.equal(JSON.parse(version.body).error.code, -32020);
    assert.equal(receivedToolCalls(world, 'everything').length, before);
  });

  test('a Base64 sentinel Mcp-Name is decoded before it is compared', async () => {
    const b64 = (s) => `=?base64?${Buffer.from(s).toString('base64')}?=`;
    const ok = await post(headers('tools/call', b64('echo')), body(10, 'tools/call', { name: 'echo', arguments: { message: 'b64' } }));
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body).result.content[0].text, 'Echo: b64');
    const bad = await post(headers('tools/call', b64('add')), body(11, 'tools/call', { name: 'echo', arguments: { message: 'x' } }));
    assert.equal(JSON.parse(bad.body).error.code, -32020);
    const garbled = await post(headers('tools/call', '=?base64?!!!!?='), body(12, 'tools/call', { name: 'echo', arguments: { message: 'x' } }));
    assert.equal(JSON.parse(garbled.body).error.code, -32020);
  });

  test('an unsupported version: 400 with -32022 listing the versions served', async () => {
    const v = '2027-01-01';
    const meta = { ...META, 'io.modelcontextprotocol/protocolVersion': v };
    const r = await post(headers('tools/list', undefined, { 'mcp-protocol-version': v }), body(13, 'tools/list', {}, meta));
    assert.equal(r.status, 400);
    const e = JSON.parse(r.body);
    assert.equal(e.id, 13);
    assert.equal(e.error.code, -32022);
    assert.deepEqual(e.error.data.supported, [MODERN, '2025-11-25', '2025-06-18', '2025-03-26']);
    assert.equal(e.error.data.requested, v);
    // A session-era version in the per-request envelope: served only to sessions.
    const legacyMeta = { ...META, 'io.modelcontextprotocol/protocolVersion': '2025-11-25' };
    const l = await post(headers('tools/list', undefined, { 'mcp-protocol-version': '2025-11-25' }), body(14, 'tools/list', {}, legacyMeta));
    assert.equal(l.status, 400);
    assert.equal(JSON.parse(l.body).error.code, -32022);
  });

  test('a request without the envelope\'s required fields: 400 with -32602', async () => {
    const noCaps = { 'io.modelcontextprotocol/protocolVersion': MODERN };
    const r = await post(headers('tools/list'), body(15, 'tools/list', {}, noCaps));
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body).error.code, -32602);
    const noMeta = await post(headers('tools/list'), body(16, 'tools/list', {}, null));
    assert.equal(noMeta.status, 400);
    assert.equal(JSON.parse(noMeta.body).error.code, -32602);
  });

  test('methods this era does not have: 404 with -32601', async () => {
    for (const [id, method] of [[17, 'initialize'], [18, 'ping'], [19, 'resources/subscribe'], [20, 'no/such']]) {
      const r = await post(headers(method), body(id, method));
      assert.equal(r.status, 404, method);
      const e = JSON.parse(r.body);
      assert.equal(e.id, id);
      assert.equal(e.error.code, -32601);
    }
  });

  test('GET and DELETE: 405', async () => {
    for (const method of ['GET', 'DELETE']) {
      const r = await httpRequest({ port: gw.port, method,
        headers: { accept: 'text/event-stream', 'mcp-protocol-version': MODERN } });
      assert.equal(r.status, 405, method);
      assert.match(r.headers.allow, /POST/);
      assert.doesNotMatch(r.headers.allow, /GET|DELETE/);
    }
  });

  test('a client that leaves during a call cancels it: cancelled downstream and audited', async () => {
    const sock = rawSocket({ port: gw.port });
    await sock.connected;
    const b = body(21, 'tools/call', { name: 'long_operation', arguments: { duration: 10, steps: 5 } });
    const h = headers('tools/call', 'long_operation', { host: `127.0.0.1:${gw.port}`, 'content-length': Buffer.byteLength(b) });
    sock.write(`POST /mcp HTTP/1.1\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${b}`);
    await until(() => receivedToolCalls(world, 'everything').some((p) => p.name === 'trigger-long-running-operation'));
    sock.destroy();
    await until(() => received(world, 'everything').some((m) => m.method === 'notifications/cancelled'));
    const row = await until(() => auditRows(world).find((r) => r.tool === 'long_operation' && r.outcome === 'cancelled'));
    assert.equal(row.decision, 'allow');
  });

  test('the session era is unchanged beside it', async () => {
    const init = await post({ 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }));
    assert.equal(init.status, 200);
    assert.match(init.headers['mcp-session-id'], /^[0-9a-f]{32}$/);
    assert.equal(JSON.parse(init.body).result.protocolVersion, '2025-11-25');
    // Without a session and without the envelope, a request is still the session era's.
    const plain = await post({ 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }));
    assert.equal(plain.status, 400);
    assert.equal(JSON.parse(plain.body).error.data.reason, 'session_required');
  });
});

describe('the stateless era with bearer tokens', () => {
  let world, gw;
  before(async () => {
    world = bearerWorld();
    gw = await startBearerGateway(world);
  });
  after(async () => {
    const { code } = await gw.stop();
    assert.equal(code, 0, gw.log());
  });

  test('each request is authenticated on its own and acts for its own token', async () => {
    const none = await httpRequest({ port: gw.port, headers: headers('tools/list'), body: body(1, 'tools/list') });
    assert.equal(none.status, 401);
    assert.match(none.headers['www-authenticate'], /^Bearer /);
    const bob = world.token({ sub: 'bob', tenant: 'globex' });
    const client = new Client({ name: 'scopegate-stateless-bearer', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: MODERN } } });
    await client.connect(new StreamableHTTPClientTransport(new URL(gw.url),
      { requestInit: { headers: { Authorization: `Bearer ${bob}` } } }));
    try {
      assert.equal(client.getProtocolEra(), 'modern');
      const r = await client.callTool({ name: 'echo', arguments: { message: 'from bob' } });
      assert.equal(r.content[0].text, 'Echo: from bob');
      // The envelope is bound to the tenant's own path prefix, from the token.
      const e = await protocolRefusal(client.callTool({ name: 'read_file', arguments: { path: 'acme/hello.txt' } }));
      assert.equal(e.data.reason, 'outside_envelope');
    } finally {
      await client.close();
    }
    const row = await until(() => auditRows(world).find((x) => x.tool === 'echo' && x.outcome === 'ok'));
    assert.deepEqual([row.subject, row.tenant], ['bob', 'globex']);
  });
});
