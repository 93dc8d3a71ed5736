// scopegate over Streamable HTTP (session era): the official SDK client over TCP, raw
// HTTP over a Unix socket, and hostile or broken HTTP — after each of which a normal
// client must still be served.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeWorld, receivedToolCalls, auditRows, until, McpError } from './peers.mjs';
import {
  startGateway, sdkClient, httpRequest, rawSocket, rawInitialize, sseEvents, JSON_HEADERS,
  initializeBody,
} from './http-peers.mjs';

const call = (id, name, args, meta) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call',
  params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) } });
const rpc = (id, method, params) => JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) });

async function refusal(promise) {
  try {
    const r = await promise;
    assert.fail(`expected a JSON-RPC error, got result ${JSON.stringify(r)}`);
  } catch (e) {
    assert.ok(e instanceof McpError, `expected McpError, got ${e}`);
    return e;
  }
}

// A whole SDK session: the gateway is still serving normal clients.
async function healthy(gw) {
  const { client, transport } = await sdkClient(gw.url);
  try {
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'echo'));
    const r = await client.callTool({ name: 'echo', arguments: { message: 'still serving' } });
    assert.equal(r.content[0].text, 'Echo: still serving');
  } finally {
    await transport.terminateSession().catch(() => {});
    await client.close();
  }
}

describe('the SDK client over TCP', () => {
  let world, gw, client, transport;
  before(async () => {
    world = makeWorld();
    gw = await startGateway(world);
    ({ client, transport } = await sdkClient(gw.url));
  });
  after(async () => {
    await client?.close();
    const { code } = await gw.stop();
    assert.equal(code, 0, gw.log());
  });

  test('the gateway says where it listens, on loopback with a port of its choosing', () => {
    assert.match(gw.url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    assert.ok(gw.port > 0);
    assert.ok(transport.sessionId.match(/^[0-9a-f]{32}$/), transport.sessionId);
  });

  test('tools/list shows the role\'s catalog tools', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ['add', 'echo', 'list_directory', 'long_operation', 'read_file']);
  });

  test('an allowed call returns the downstream result', async () => {
    const r = await client.callTool({ name: 'echo', arguments: { message: 'over http' } });
    assert.equal(r.isError ?? false, false);
    assert.equal(r.content[0].text, 'Echo: over http');
    assert.ok(receivedToolCalls(world, 'everything').some((p) => p.name === 'echo' && p.arguments.message === 'over http'));
  });

  test('an ungranted call is refused with not_granted and never reaches the downstream', async () => {
    const e = await refusal(client.callTool({ name: 'write_file', arguments: { path: 'acme/x.txt', content: 'no' } }));
    assert.equal(e.code, -32003);
    assert.equal(e.data.reason, 'not_granted');
    assert.equal(receivedToolCalls(world, 'files').filter((p) => p.name === 'write_file').length, 0);
  });

  test('progress notifications arrive on the call\'s stream', async () => {
    const seen = [];
    const r = await client.callTool({ name: 'long_operation', arguments: { duration: 1, steps: 3 } },
      undefined, { onprogress: (p) => seen.push(p) });
    assert.match(r.content[0].text, /Long running operation completed/);
    assert.deepEqual(seen.map((p) => p.progress), [1, 2, 3]);
    assert.ok(seen.every((p) => p.total === 3));
  });

  test('calls are audited under the operator\'s identity', async () => {
    const rows = await until(() => {
      const r = auditRows(world);
      return r.some((x) => x.tool === 'echo' && x.outcome === 'ok') ? r : null;
    });
    assert.ok(rows.some((r) => r.tool === 'write_file' && r.reason === 'not_granted'));
    for (const r of rows) assert.deepEqual([r.subject, r.role, r.tenant, r.env], ['alice', 'viewer', 'acme', 'test']);
  });

  test('DELETE ends the session; its id then gets 404', async () => {
    const sid = transport.sessionId;
    await transport.terminateSession();
    const r = await httpRequest({ port: gw.port, headers: { ...JSON_HEADERS, 'mcp-session-id': sid }, body: rpc(9, 'tools/list') });
    assert.equal(r.status, 404);
    assert.equal(JSON.parse(r.body).error.data.reason, 'session_not_found');
    const d = await httpRequest({ port: gw.port, method: 'DELETE', headers: { 'mcp-session-id': sid } });
    assert.equal(d.status, 404);
  });
});

describe('raw HTTP over a Unix socket', () => {
  let world, gw;
  before(async () => {
    world = makeWorld();
    gw = await startGateway(world, { listen: [`unix:${join(world.dir, 'gw.sock')}`] });
  });
  after(async () => {
    const { code } = await gw.stop();
    assert.equal(code, 0, gw.log());
    assert.equal(existsSync(gw.socketPath), false, 'the socket file is removed at exit');
  });

  test('initialize, tools/list and tools/call', async () => {
    const target = { socketPath: gw.socketPath };
    const sid = await rawInitialize(target, '2025-06-18');
    const headers = { ...JSON_HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' };
    const list = await httpRequest({ ...target, headers, body: rpc(2, 'tools/list') });
    assert.equal(list.status, 200);
    assert.match(list.headers['content-type'], /^application\/json/);
    const names = JSON.parse(list.body).result.tools.map((t) => t.name);
    assert.ok(names.includes('echo') && !names.includes('write_file'));

    const r = await httpRequest({ ...target, headers, body: call(3, 'add', { a: 2, b: 40 }) });
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^text\/event-stream/);
    const events = sseEvents(r.body).filter((e) => e.message);
    assert.equal(events.length, 1);
    assert.equal(events[0].message.id, 3);
    assert.match(events[0].message.result.content[0].text, /42/);

    // A client that does not accept SSE at all is refused, as the transport requires.
    const j = await httpRequest({ ...target, headers: { ...headers, accept: 'application/json' }, body: call(4, 'add', { a: 1, b: 1 }) });
    assert.equal(j.status, 406);
  });
});

describe('bad input costs other clients nothing', () => {
  let world, gw;
  const headerTimeoutMs = 700;
  before(async () => {
    world = makeWorld();
    gw = await startGateway(world, { extraArgs: ['--max-message', '65536', '--header-timeout-ms', String(headerTimeoutMs),
      '--body-timeout-ms', String(headerTimeoutMs), '--idle-timeout-ms', String(headerTimeoutMs)] });
  });
  after(async () => {
    const { code } = await gw.stop();
    assert.equal(code, 0, gw.log());
  });
  const host = () => `127.0.0.1:${gw.port}`;

  test('a malformed request line gets 400 and a closed connection', async () => {
    const s = rawSocket({ port: gw.port });
    s.write('THIS IS NOT HTTP\r\n\r\n');
    const text = await s.read();
    assert.match(text, /^HTTP\/1\.1 400 /);
    assert.ok(s.closed());
    await healthy(gw);
  });

  test('pipelined requests are answered in order on one connection', async () => {
    const s = rawSocket({ port: gw.port });
    const body = initializeBody(1);
    s.write(`HEAD /mcp HTTP/1.1\r\nHost: ${host()}\r\n\r\n`
      + `POST /mcp HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\n`
      + `Accept: application/json, text/event-stream\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
      + `GET /elsewhere HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`);
    const text = await s.read();
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    assert.deepEqual(statuses, [405, 200, 404]);
    assert.ok(s.closed());
  });

  test('oversized headers get 431', async () => {
    const s = rawSocket({ port: gw.port });
    s.write(`GET /mcp HTTP/1.1\r\nHost: ${host()}\r\nX-Padding: ${'a'.repeat(20000)}\r\n\r\n`);
    assert.match(await s.read(), /^HTTP\/1\.1 431 /);
    await healthy(gw);
  });

  test('an oversized body gets 413, announced or chunked', async () => {
    const sid = await rawInitialize({ port: gw.port });
    const big = JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'echo', arguments: { message: 'x'.repeat(70000) } } });
    const r = await httpRequest({ port: gw.port, headers: { ...JSON_HEADERS, 'mcp-session-id': sid }, body: big });
    assert.equal(r.status, 413);
    const s = rawSocket({ port: gw.port });
    s.write(`POST /mcp HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
    for (let i = 0; i < 20; i++) s.write(`1000\r\n${'y'.repeat(4096)}\r\n`);
    assert.match(await s.read(), /^HTTP\/1\.1 413 /);
    assert.equal(receivedToolCalls(world, 'everything').filter((p) => p.arguments?.message?.length > 1000).length, 0);
    await healthy(gw);
  });

  test('trailers after a chunked body are read past, not taken as headers, and count toward the limit', async () => {
    const sid = await rawInitialize({ port: gw.port });
    const head = (extra = '') => `POST /mcp HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\n`
      + `Accept: application/json, text/event-stream\r\nMcp-Session-Id: ${sid}\r\n${extra}Transfer-Encoding: chunked\r\n\r\n`;
    const chunked = (body) => `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n`;
    // Trailers long enough to outgrow the buffer the headers were read into, and ones
    // that would be refused as headers (a foreign Host, a second Content-Type).
    const trailers = `X-Checksum: ${'c'.repeat(1500)}\r\nHost: attacker.example\r\n`
      + `Content-Type: text/plain\r\nX-More: ${'m'.repeat(1500)}\r\n\r\n`;
    const s = rawSocket({ port: gw.port });
    s.write(head('Connection: close\r\n') + chunked(call(41, 'echo', { message: 'after trailers' })) + trailers);
    const text = await s.read();
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.match(text, /Echo: after trailers/);
    assert.doesNotMatch(text, /attacker/);
    // Trailers beyond the header limit are refused like oversized headers.
    const big = rawSocket({ port: gw.port });
    big.write(head() + chunked(call(42, 'echo', { message: 'never' })));
    for (let i = 0; i < 20; i++) big.write(`X-Pad-${i}: ${'p'.repeat(1000)}\r\n`);
    big.write('\r\n');
    assert.match(await big.read(), /^HTTP\/1\.1 431 /);
    assert.equal(receivedToolCalls(world, 'everything').filter((p) => p.arguments?.message === 'never').length, 0);
    await healthy(gw);
  });

  test('headers or a body that arrive too slowly get 408; idle connections are closed', async () => {
    const s = rawSocket({ port: gw.port });
    await s.connected;
    s.write(`POST /mcp HTTP/1.1\r\nHost: ${host()}\r\n`);
    const started = Date.now();
    const text = await s.read(headerTimeoutMs * 10);
    assert.match(text, /^HTTP\/1\.1 408 /);
    assert.ok(s.closed());
    assert.ok(Date.now() - started >= headerTimeoutMs - 100);
    // A connection that never sends anything is closed too.
    const idle = rawSocket({ port: gw.port });
    await idle.read(headerTimeoutMs * 10);
    assert.ok(idle.closed());
    // So is a body that stops arriving, and a kept-alive connection left unused.
    const slowBody = rawSocket({ port: gw.port });
    slowBody.write(`POST /mcp HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"json`);
    assert.match(await slowBody.read(headerTimeoutMs * 10), /^HTTP\/1\.1 408 /);
    const kept = rawSocket({ port: gw.port });
    kept.write(`GET /elsewhere HTTP/1.1\r\nHost: ${host()}\r\n\r\n`);
    await kept.waitFor((t) => t.includes('404 Not Found\n'));
    assert.ok(!kept.closed());
    await kept.read(headerTimeoutMs * 10);
    assert.ok(kept.closed());
    await healthy(gw);
  });

  test('a foreign Origin or Host gets 403; local origins on the port are allowed', async () => {
    const body = initializeBody();
    const evil = await httpRequest({ port: gw.port, headers: { ...JSON_HEADERS, origin: 'http://evil.example' }, body });
    assert.equal(evil.status, 403);
    const nul = await httpRequest({ port: gw.port, headers: { ...JSON_HEADERS, origin: 'null' }, body });
    assert.equal(nul.status, 403);
    const otherPort = await httpRequest({ port: gw.port, headers: { ...JSON_HEADERS, origin: 'http://localhost:1' }, body });
    assert.equal(otherPort.status, 403);
    const rebound = await httpRequest({ port: gw.port, headers: { ...JSON_HEADERS, host: `attacker.example:${gw.port}` }, body });
    assert.equal(rebound.status, 403);
    const local = await httpRequest({ port: gw.port, headers: { ...JSON_HEADERS, origin: `http://localhost:${gw.port}` }, body });
    assert.equal(local.status, 200);
    assert.equal(local.headers['access-control-allow-origin'], `http://localhost:${gw.port}`);
    const byName = await httpRequest({ port: gw.port, headers: { ...JSON_HEADERS, host: `localhost:${gw.port}` }, body });
    assert.equal(byName.status, 200);
    await healthy(gw);
  });

  test('session id and protocol version are checked', async () => {
    const sid = await rawInitialize({ port: gw.port });
    const body = rpc(2, 'tools/list');
    const missing = await httpRequest({ port: gw.port, headers: JSON_HEADERS, body });
    assert.equal(missing.status, 400);
    assert.equal(JSON.parse(missing.body).error.data.reason, 'session_required');
    const unknown = await httpRequest({ port: gw.port, headers: { ...JSON_HEADERS, 'mcp-session-id': 'f'.repeat(32) }, body });
    assert.equal(unknown.status, 404);
    const badVersion = await httpRequest({ port: gw.port, headers: { ...JSON_HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': '1999-01-01' }, body });
    assert.equal(badVersion.status, 400);
    assert.equal(JSON.parse(badVersion.body).error.data.reason, 'unsupported_protocol_version');
    // Another supported version is not refused (only invalid or unsupported ones are),
    // and neither is an absent header.
    const otherVersion = await httpRequest({ port: gw.port, headers: { ...JSON_HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-03-26' }, body });
    assert.equal(otherVersion.status, 200);
    const ok = await httpRequest({ port: gw.port, headers: { ...JSON_HEADERS, 'mcp-session-id': sid }, body });
    assert.equal(ok.status, 200);
    const getNoSession = await httpRequest({ port: gw.port, method: 'GET', headers: { accept: 'text/event-stream' } });
    assert.equal(getNoSession.status, 400);
    const wrongType = await httpRequest({ port: gw.port, headers: { ...JSON_HEADERS, 'content-type': 'text/plain', 'mcp-session-id': sid }, body });
    assert.equal(wrongType.status, 415);
    const put = await httpRequest({ port: gw.port, method: 'PUT', headers: { ...JSON_HEADERS, 'mcp-session-id': sid }, body });
    assert.equal(put.status, 405);
    const elsewhere = await httpRequest({ port: gw.port, path: '/other', headers: JSON_HEADERS, body });
    assert.equal(elsewhere.status, 404);
    // A malformed message in a POST gets 400 with the JSON-RPC error the session gives.
    const garbled = await httpRequest({ port: gw.port, headers: { ...JSON_HEADERS, 'mcp-session-id': sid }, body: '{"jsonrpc":' });
    assert.equal(garbled.status, 400);
    assert.equal(JSON.parse(garbled.body).error.data.reason, 'parse_error');
    const batch = await httpRequest({ port: gw.port, headers: { ...JSON_HEADERS, 'mcp-session-id': sid }, body: `[${body}]` });
    assert.equal(batch.status, 400);
    assert.equal(JSON.parse(batch.body).error.data.reason, 'batch_refused');
    // initialize again on a live session is refused, and the session lives on.
    const again = await httpRequest({ port: gw.port, headers: { ...JSON_HEADERS, 'mcp-session-id': sid }, body: initializeBody(3) });
    assert.equal(JSON.parse(again.body).error.code, -32600);
    assert.equal(again.headers['mcp-session-id'], undefined);
    const still = await httpRequest({ port: gw.port, headers: { ...JSON_HEADERS, 'mcp-session-id': sid }, body });
    assert.equal(still.status, 200);
    await healthy(gw);
  });

  test('one GET stream per session; a dropped one can be opened again', async () => {
    const sid = await rawInitialize({ port: gw.port });
    const get = `GET /mcp HTTP/1.1\r\nHost: ${host()}\r\nAccept: text/event-stream\r\nMcp-Session-Id: ${sid}\r\n\r\n`;
    const first = rawSocket({ port: gw.port });
    first.write(get);
    await first.waitFor((t) => t.includes('\r\n\r\n'));
    assert.match(first.received(), /^HTTP\/1\.1 200 /);
    assert.match(first.received(), /content-type: text\/event-stream/i);
    const second = await httpRequest({ port: gw.port, method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': sid } });
    assert.equal(second.status, 409);
    first.destroy();
    // Once the gateway has seen the connection go, the stream can be opened again.
    await until(async () => {
      const again = rawSocket({ port: gw.port });
      again.write(get);
      await again.waitFor((t) => t.includes('\r\n\r\n'));
      again.destroy();
      return /^HTTP\/1\.1 200 /.test(again.received());
    });
    await healthy(gw);
  });

  test('a call\'s stream dropped mid-way resumes with Last-Event-ID; the call is not cancelled', async () => {
    const sid = await rawInitialize({ port: gw.port });
    const body = call(7, 'long_operation', { duration: 2, steps: 4 }, { progressToken: 'p7' });
    const s = rawSocket({ port: gw.port });
    s.write(`POST /mcp HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\n`
      + `Accept: application/json, text/event-stream\r\nMcp-Session-Id: ${sid}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    await s.waitFor((t) => t.includes('"progress":1'));
    s.destroy(); // abrupt: no FIN handshake with the response
    const lastId = [...s.received().matchAll(/^id: (\S+)$/gm)].map((m) => m[1]).at(-1);
    assert.ok(lastId, s.received());
    // The call goes on; once it is done its stream holds the rest.
    await until(() => auditRows(world).find((r) => r.tool === 'long_operation' && r.outcome), { timeoutMs: 20000 });
    const r = await httpRequest({ port: gw.port, method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'last-event-id': lastId } });
    assert.equal(r.status, 200);
    const messages = sseEvents(r.body).filter((e) => e.message).map((e) => e.message);
    // What arrived before the drop and what the replay brings make the whole stream.
    const before = sseEvents(s.received().slice(s.received().indexOf('\r\n\r\n') + 4).replace(/\r\n[0-9a-f]+\r\n/g, ''))
      .filter((e) => e.message?.method).map((e) => e.message.params.progress);
    assert.deepEqual([...before, ...messages.filter((m) => m.method).map((m) => m.params.progress)], [1, 2, 3, 4]);
    const result = messages.find((m) => m.id === 7);
    assert.match(result.result.content[0].text, /Long running operation completed/);
    const row = auditRows(world).find((x) => x.tool === 'long_operation');
    assert.equal(row.outcome, 'ok');
    await healthy(gw);
  });

  test('notifications/cancelled ends the call and its stream', async () => {
    const sid = await rawInitialize({ port: gw.port });
    const headers = { ...JSON_HEADERS, 'mcp-session-id': sid };
    const pending = httpRequest({ port: gw.port, headers, body: call(8, 'long_operation', { duration: 10, steps: 10 }, { progressToken: 8 }) });
    await until(() => receivedToolCalls(world, 'everything').filter((p) => p.name === 'trigger-long-running-operation' && p.arguments.duration === 10).length);
    const c = await httpRequest({ port: gw.port, headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 8, reason: 'changed my mind' } }) });
    assert.equal(c.status, 202);
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal(sseEvents(r.body).filter((e) => e.message?.id === 8).length, 0);
    await until(() => auditRows(world).find((x) => x.tool === 'long_operation' && x.outcome === 'cancelled'));
  });
});

describe('connection limit', () => {
  test('beyond --max-connections a new client gets 503, and the others are served', async () => {
    const world = makeWorld();
    const gw = await startGateway(world, { extraArgs: ['--max-connections', '3'] });
    try {
      const held = [0, 1, 2].map(() => rawSocket({ port: gw.port }));
      await Promise.all(held.map((s) => s.connected));
      await new Promise((r) => setTimeout(r, 100));
      const c = rawSocket({ port: gw.port });
      assert.match(await c.read(), /^HTTP\/1\.1 503 /);
      assert.ok(held.every((s) => !s.closed()));
      for (const s of held) s.destroy();
      await until(async () => {
        try {
          return (await httpRequest({ port: gw.port, headers: JSON_HEADERS, body: initializeBody() })).status === 200;
        } catch {
          return false;
        }
      });
      await healthy(gw);
    } finally {
      const { code } = await gw.stop();
      assert.equal(code, 0, gw.log());
    }
  });
});

describe('session limit', () => {
  test('at --max-sessions a new session ends the one unused longest', async () => {
    const world = makeWorld();
    const gw = await startGateway(world, { extraArgs: ['--max-sessions', '2'] });
    try {
      const target = { port: gw.port };
      const first = await rawInitialize(target);
      const second = await rawInitialize(target);
      const list = (sid) => httpRequest({ ...target, headers: { ...JSON_HEADERS, 'mcp-session-id': sid }, body: rpc(2, 'tools/list') });
      assert.equal((await list(first)).status, 200); // now the second is the one unused longest
      const third = await rawInitialize(target);
      assert.equal((await list(second)).status, 404);
      assert.equal((await list(first)).status, 200);
      assert.equal((await list(third)).status, 200);
    } finally {
      const { code } = await gw.stop();
      assert.equal(code, 0, gw.log());
    }
  });
});

describe('shutdown', () => {
  test('SIGTERM answers open calls, audits them as cancelled, and exits 0', async () => {
    const world = makeWorld();
    const gw = await startGateway(world, { listen: ['127.0.0.1:0', `unix:${join(world.dir, 'gw.sock')}`] });
    const sid = await rawInitialize({ port: gw.port });
    const pending = httpRequest({ port: gw.port, headers: { ...JSON_HEADERS, 'mcp-session-id': sid },
      body: call(3, 'long_operation', { duration: 20, steps: 20 }, { progressToken: 1 }) });
    await until(() => receivedToolCalls(world, 'everything').some((p) => p.name === 'trigger-long-running-operation'));
    const { code, signal } = await gw.stop();
    assert.equal(code, 0, `${signal} ${gw.log()}`);
    const r = await pending;
    const answer = sseEvents(r.body).find((e) => e.message?.id === 3).message;
    assert.equal(answer.error.data.reason, 'shutting_down');
    const row = auditRows(world).find((x) => x.tool === 'long_operation');
    assert.equal(row.outcome, 'cancelled');
    assert.equal(existsSync(join(world.dir, 'gw.sock')), false);
  });

  test('with --listen and without --stdio, stdin is not read', async () => {
    const world = makeWorld();
    const gw = await startGateway(world);
    gw.child.stdin.end(); // end of input would end a stdio session
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(gw.child.exitCode, null);
    await healthy(gw);
    const { code } = await gw.stop();
    assert.equal(code, 0);
  });
});
