// The streams of an http downstream besides the answers to POSTs: the session's GET
// stream, over which server-everything (streamableHttp) sends what it says of its own
// accord, such as notifications/resources/updated, and the resumption of an answer
// whose connection was cut (GET with Last-Event-ID, replayed from its event store).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as netServer, connect as netConnect } from 'node:net';
import { connect, until, auditRows, refusal, withUpdateSwitch, resourceUpdates } from './peers.mjs';
import { startEverything, startProxy, httpWorld } from './http-downstream-peers.mjs';

let everything;
before(async () => { everything = await startEverything(); });
after(async () => { await everything?.stop(); });

test('resource updates an http downstream sends on its GET stream reach the subscribed client', async () => {
  const proxy = await startProxy(everything.port);
  const world = withUpdateSwitch(httpWorld(`http://127.0.0.1:${proxy.port}/mcp`));
  const gw = await connect(world, { role: 'viewer', extraArgs: ['--secrets', world.secrets] });
  try {
    const seen = resourceUpdates(gw.client);
    const { resources } = await gw.client.listResources();
    const uri = resources.find((r) => r.uri.startsWith('demo://resource/static/document/')).uri;
    assert.deepEqual(await gw.client.subscribeResource({ uri }), {});
    const r = await gw.client.callTool({ name: 'toggle_updates', arguments: {} });
    assert.match(r.content[0].text, /Started simulated resource updated notifications/);
    await until(() => seen.length >= 1);
    assert.deepEqual([...new Set(seen)], [uri]);

    // The update came over the session's GET stream, which carried the session, the
    // negotiated version and this tenant's credential, and asked for events only.
    const gets = proxy.seen.filter((s) => s.method === 'GET');
    assert.ok(gets.length >= 1);
    const get = gets.find((s) => s.body.includes('notifications/resources/updated'));
    assert.ok(get, 'the update travelled on a GET stream');
    assert.equal(get.status, 200);
    assert.equal(get.headers.accept, 'text/event-stream');
    assert.equal(get.headers.authorization, 'Bearer acme-downstream');
    assert.equal(get.headers['mcp-protocol-version'], '2025-11-25');
    const init = proxy.seen.find((s) => s.method === 'POST' && s.headers['mcp-session-id'] === undefined);
    assert.ok(init.body.includes('"protocolVersion":"2025-11-25"'));
    assert.equal(get.headers['mcp-session-id'], proxy.seen.find((s) => s.headers['mcp-session-id']).headers['mcp-session-id']);
    // No POST answer carried it: only the GET did.
    assert.ok(proxy.seen.filter((s) => s.method === 'POST').every((s) => !s.body.includes('notifications/resources/updated')));
  } finally {
    await gw.client.close();
    await proxy.stop();
  }
});

// A TCP proxy that cuts, between scopegate and the proxy only, the connection whose
// request names cutTool once cutAfter progress notifications have passed back on it:
// the server keeps the other half and goes on writing its answer, which the proxy reads
// to the end. A GET that resumes with Last-Event-ID is held until the server has
// finished that answer (so that its replay holds the response), then forwarded, or,
// with refuseResume, answered 405 by the proxy itself.
async function startCuttingProxy(target, { cutTool, cutAfter = 2, refuseResume = false }) {
  const state = { cut: false, lastIdBeforeCut: undefined, upstreamDone: false, resumes: [], held: [] };
  const release = () => { for (const go of state.held.splice(0)) go(); };
  const conns = new Set();
  const server = netServer((client) => {
    const up = netConnect(target, '127.0.0.1');
    conns.add(client);
    conns.add(up);
    let watching = false;
    let forwarded = '';
    let afterCut = '';
    let holding = false;
    const toUpstream = (d) => up.write(d);
    client.on('data', (d) => {
      const text = d.toString('latin1');
      if (holding) { state.held.push(() => toUpstream(d)); return; }
      if (/^GET /.test(text) && /\r\nlast-event-id: *([^\r]*)\r\n/i.test(text)) {
        state.resumes.push(text.match(/\r\nlast-event-id: *([^\r]*)\r\n/i)[1]);
        if (refuseResume) {
          client.write('HTTP/1.1 405 Method Not Allowed\r\ncontent-type: text/plain\r\ncontent-length: 15\r\n\r\nno resume here\n');
          return;
        }
        if (!state.upstreamDone) {
          holding = true;
          state.held.push(() => { holding = false; toUpstream(d); });
          return;
        }
      }
      if (!state.cut && text.includes(cutTool)) watching = true;
      toUpstream(d);
    });
    up.on('data', (d) => {
      if (watching && state.cut) {
        afterCut += d;
        if (afterCut.includes('"result"')) { state.upstreamDone = true; release(); }
        return;
      }
      client.write(d);
      if (!watching) return;
      forwarded += d;
      if ((forwarded.match(/notifications\/progress/g) ?? []).length >= cutAfter) {
        state.cut = true;
        const ids = [...forwarded.matchAll(/^id: *(.*)$/gm)].map((m) => m[1].trim());
        state.lastIdBeforeCut = ids.at(-1);
        client.destroy(); // scopegate's side only: the server keeps writing to us
      }
    });
    client.on('close', () => { if (!(watching && state.cut)) up.destroy(); conns.delete(client); });
    up.on('close', () => { client.destroy(); conns.delete(up); });
    client.on('error', () => {});
    up.on('error', () => {});
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    state,
    port: server.address().port,
    stop: () => new Promise((r) => { for (const c of conns) c.destroy(); server.close(r); }),
  };
}

test('a call whose answer stream is cut is resumed after its last event id and completes', async () => {
  const proxy = await startCuttingProxy(everything.port, { cutTool: 'trigger-long-running-operation' });
  const world = httpWorld(`http://127.0.0.1:${proxy.port}/mcp`);
  const gw = await connect(world, { role: 'viewer', extraArgs: ['--secrets', world.secrets] });
  try {
    const steps = [];
    const r = await gw.client.callTool({ name: 'long_operation', arguments: { duration: 2, steps: 5 } },
      undefined, { onprogress: (p) => steps.push(p.progress), timeout: 60000 });
    assert.match(r.content[0].text, /Long running operation completed\. Duration: 2 seconds, Steps: 5/);
    assert.equal(proxy.state.cut, true);
    // Resumed once, after the last event that got through, and nothing came twice (the
    // SDK client may drop progress that arrives together with the result).
    assert.ok(proxy.state.lastIdBeforeCut);
    assert.deepEqual(proxy.state.resumes, [proxy.state.lastIdBeforeCut]);
    assert.deepEqual(steps.slice(0, 2), [1, 2]);
    assert.deepEqual(steps, [...new Set(steps)].sort((a, b) => a - b));
    // The session lived on: no second initialize, and later calls use it.
    const again = await gw.client.callTool({ name: 'echo', arguments: { message: 'still here' } });
    assert.equal(again.content[0].text, 'Echo: still here');
    assert.doesNotMatch(gw.log(), /restarting in/);
    const row = await until(() => auditRows(world).find((x) => x.tool === 'long_operation' && x.outcome));
    assert.equal(row.outcome, 'ok');
  } finally {
    await gw.client.close();
    await proxy.stop();
  }
});

test('an answer cut where the server will not resume it fails the call with downstream_unavailable', async () => {
  const proxy = await startCuttingProxy(everything.port, { cutTool: 'trigger-long-running-operation', refuseResume: true });
  const world = httpWorld(`http://127.0.0.1:${proxy.port}/mcp`);
  const gw = await connect(world, { role: 'viewer', extraArgs: ['--secrets', world.secrets] });
  try {
    const e = await refusal(gw.client.callTool({ name: 'long_operation', arguments: { duration: 2, steps: 5 } },
      undefined, { onprogress: () => {}, timeout: 60000 }));
    assert.equal(e.data.reason, 'downstream_unavailable');
    assert.match(e.message, /downstream server "everything" cut its answer to the request and would not resume it: answered HTTP 405/);
    assert.equal(proxy.state.resumes.length, 1);
    const row = await until(() => auditRows(world).find((x) => x.tool === 'long_operation' && x.outcome));
    assert.equal(row.outcome, 'error');
    assert.equal(row.outcome_reason, 'downstream_unavailable');
  } finally {
    await gw.client.close();
    await proxy.stop();
  }
});

// What a downstream sends is bounded: an event-stream line over 64 MiB ends the answer
// (with no resumption, whose replay would be refused again) and fails the call saying
// so, with nothing of it passed on; the gateway then serves calls again.
test('an answer whose event-stream line passes the limit fails the call, and calls go on', async () => {
  const FLOOD = 'flood-the-gateway';
  const proxy = await startProxy(everything.port, {
    answer(body, res) {
      if (!body.includes(FLOOD)) return false;
      const { id } = JSON.parse(body);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('id: flood-1\ndata: {"jsonrpc":"2.0","id":' + id + ',"result":{"content":[{"type":"text","text":"');
      const mib = 'x'.repeat(1 << 20);
      let sent = 0;
      const more = () => {
        while (sent < 65) {
          sent++;
          if (!res.write(mib)) { res.once('drain', more); return; }
        }
        res.end('"}]}}\n\n');
      };
      res.on('error', () => {});
      more();
      return true;
    },
  });
  const world = httpWorld(`http://127.0.0.1:${proxy.port}/mcp`);
  const gw = await connect(world, { role: 'viewer', extraArgs: ['--secrets', world.secrets] });
  try {
    const e = await refusal(gw.client.callTool({ name: 'echo', arguments: { message: FLOOD } }));
    assert.equal(e.data?.reason, 'downstream_unavailable', JSON.stringify(e));
    assert.match(e.message, /sent an event-stream line longer than the limit/);
    assert.ok(e.message.length < 2000);
    // No GET resumed the refused answer.
    assert.equal(proxy.seen.filter((s) => s.method === 'GET' && s.headers['last-event-id']).length, 0);
    await until(async () => {
      try {
        const r = await gw.client.callTool({ name: 'echo', arguments: { message: 'after the flood' } });
        return r.content[0].text === 'Echo: after the flood';
      } catch { return false; }
    }, { timeoutMs: 30000, stepMs: 250 });
  } finally {
    await gw.client.close();
    await proxy.stop();
  }
});

// A session id MCP does not allow (visible ASCII only) is refused, not sent back altered:
// the downstream is unavailable, saying why.
test('a downstream whose session id is not visible ASCII is refused', async () => {
  const proxy = await startProxy(everything.port, {
    headers: (h) => (h['mcp-session-id'] ? { ...h, 'mcp-session-id': `${h['mcp-session-id']}\tx` } : h),
  });
  const world = httpWorld(`http://127.0.0.1:${proxy.port}/mcp`);
  const gw = await connect(world, { role: 'viewer', extraArgs: ['--secrets', world.secrets] });
  try {
    const e = await refusal(gw.client.callTool({ name: 'echo', arguments: { message: 'hi' } }));
    assert.equal(e.data?.reason, 'downstream_unavailable', JSON.stringify(e));
    assert.match(e.message, /sent an Mcp-Session-Id that is not 1 to 1024 visible ASCII characters/);
    // Nothing was sent with the altered id.
    assert.equal(proxy.seen.filter((s) => s.headers['mcp-session-id']).length, 0);
  } finally {
    await gw.client.close();
    await proxy.stop();
  }
});
