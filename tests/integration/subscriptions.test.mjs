// Resource subscriptions through the gateway, with the official SDK client and
// server-everything (whose toggle-subscriber-updates tool makes it send
// notifications/resources/updated for what it was subscribed to): subscribes are decided
// and audited like reads, updates reach only the subscribed sessions of the tenant whose
// instance sent them, the downstream hears unsubscribe from the last subscriber only, and
// a restarted downstream is subscribed again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeWorld, connect, received, auditRows, refusal, until, withUpdateSwitch, resourceUpdates } from './peers.mjs';
import { bearerWorld, startBearerGateway, bearerClient, downstreamPids } from './bearer-peers.mjs';

const sentDownstream = (world, method) => received(world, 'everything').filter((m) => m.method === method).map((m) => m.params.uri);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('updates reach the subscribed sessions of the tenant whose downstream sent them, until they leave', async () => {
  const world = withUpdateSwitch(bearerWorld());
  const gw = await startBearerGateway(world);
  const clients = [];
  try {
    const open = async (over) => {
      const c = await bearerClient(gw.url, world.token(over));
      clients.push(c);
      return c;
    };
    const a1 = await open({ sub: 'alice' });
    const a2 = await open({ sub: 'bob' });
    const g = await open({ sub: 'carol', tenant: 'globex' });
    assert.equal(a1.client.getServerCapabilities().resources.subscribe, true);
    const { resources } = await a1.client.listResources();
    const uri = resources[0].uri;
    const [seenA1, seenA2, seenG] = [a1, a2, g].map((c) => resourceUpdates(c.client));
    for (const c of [a1, a2, g]) assert.deepEqual(await c.client.subscribeResource({ uri }), {});

    // Outside the grants: refused, audited, never forwarded.
    const outside = 'demo://resource/dynamic/text/1';
    const e = await refusal(a1.client.subscribeResource({ uri: outside }));
    assert.equal(e.data.reason, 'not_granted');
    assert.ok(!sentDownstream(world, 'resources/subscribe').includes(outside));

    // acme's instance starts sending updates: both acme sessions get them, globex none.
    await a1.client.callTool({ name: 'toggle_updates', arguments: {} });
    await until(() => seenA1.length >= 1 && seenA2.length >= 1);
    assert.deepEqual([...new Set([...seenA1, ...seenA2])], [uri]);
    await sleep(300);
    assert.deepEqual(seenG, []);

    // One acme session leaves: the downstream keeps its subscription for the other.
    await a1.client.unsubscribeResource({ uri });
    const before = seenA1.length;
    const a2Before = seenA2.length;
    await until(() => seenA2.length > a2Before, { timeoutMs: 12000 }); // the next tick (5 s)
    assert.equal(seenA1.length, before);
    assert.deepEqual(sentDownstream(world, 'resources/unsubscribe'), []);

    // The last acme subscriber ends its session: now the downstream hears unsubscribe.
    await a2.transport.terminateSession();
    await a2.client.close();
    await until(() => sentDownstream(world, 'resources/unsubscribe').includes(uri));
    assert.equal(sentDownstream(world, 'resources/unsubscribe').length, 1);

    const rows = auditRows(world).filter((r) => r.tool?.startsWith('subscribe:'));
    assert.deepEqual(rows.filter((r) => r.decision === 'allow').map((r) => [r.tool, r.tenant]).sort(),
      [[`subscribe:${uri}`, 'acme'], [`subscribe:${uri}`, 'acme'], [`subscribe:${uri}`, 'globex']]);
    assert.ok(rows.some((r) => r.tool === `subscribe:${outside}` && r.reason === 'not_granted'));
  } finally {
    for (const c of clients) await c.client.close().catch(() => {});
    await gw.stop();
  }
});

test('a downstream that restarts is subscribed again', async () => {
  const world = withUpdateSwitch(makeWorld());
  const gw = await connect(world, { role: 'viewer' });
  try {
    const { resources } = await gw.client.listResources();
    const uri = resources[0].uri;
    const seen = resourceUpdates(gw.client);
    await gw.client.subscribeResource({ uri });
    const [first] = await until(() => downstreamPids(gw.log()).filter((d) => d.server === 'everything'));
    assert.deepEqual(sentDownstream(world, 'resources/subscribe'), [uri]);
    process.kill(first.pid, 'SIGKILL');
    // The new process is initialized, then subscribed by the gateway on its own.
    await until(() => sentDownstream(world, 'resources/subscribe').length === 2, { timeoutMs: 20000 });
    const initializes = received(world, 'everything').filter((m) => m.method === 'initialize').length;
    assert.equal(initializes, 2);
    assert.match(gw.log(), /started afresh; subscribing to \S+ again/);
    await gw.client.callTool({ name: 'toggle_updates', arguments: {} });
    await until(() => seen.includes(uri));
  } finally {
    await gw.client.close();
  }
});

test('with --tool-refusals result a refused call is an isError tool result carrying the reason', async () => {
  const world = makeWorld();
  const gw = await connect(world, { role: 'viewer', extraArgs: ['--tool-refusals', 'result'] });
  try {
    let r = await gw.client.callTool({ name: 'no_such_tool', arguments: {} });
    assert.equal(r.isError, true);
    assert.match(r.content[0].text, /no_such_tool.*unknown_tool/);
    assert.equal(r._meta['io.scopegate/refusal'].reason, 'unknown_tool');
    assert.equal(r._meta['io.scopegate/refusal'].code, -32602);
    r = await gw.client.callTool({ name: 'read_file', arguments: { path: 'globex/hello.txt' } });
    assert.equal(r.isError, true);
    assert.equal(r._meta['io.scopegate/refusal'].reason, 'outside_envelope');
    assert.equal(r._meta['io.scopegate/refusal'].pointer, '/path');
    // Granted calls are untouched, and no refused one reached a downstream.
    r = await gw.client.callTool({ name: 'echo', arguments: { message: 'hi' } });
    assert.notEqual(r.isError, true);
    assert.deepEqual(received(world, 'files').filter((m) => m.method === 'tools/call'), []);
    // Other requests keep JSON-RPC errors.
    const e = await refusal(gw.client.readResource({ uri: 'demo://resource/dynamic/text/1' }));
    assert.equal(e.data.reason, 'not_granted');
    const rows = auditRows(world);
    assert.ok(rows.some((x) => x.tool === 'no_such_tool' && x.decision === 'deny' && x.reason === 'unknown_tool'));
    assert.ok(rows.some((x) => x.tool === 'read_file' && x.decision === 'deny' && x.reason === 'outside_envelope'));
  } finally {
    await gw.client.close();
  }
});
