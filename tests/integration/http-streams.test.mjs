// The streams of an http downstream besides the answers to POSTs: the session's GET
// stream, over which server-everything (streamableHttp) sends what it says of its own
// accord, such as notifications/resources/updated, and the resumption of an answer
// whose connection was cut (GET with Last-Event-ID, replayed from its event store).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, until, auditRows } from './peers.mjs';
import { startEverything, startProxy, httpWorld } from './http-downstream-peers.mjs';

const { ResourceUpdatedNotificationSchema } = await import(
  join(process.cwd(), 'tools/node_modules/@modelcontextprotocol/sdk/dist/esm/types.js'));

// A tool for server-everything's update switch, granted to viewers.
function withUpdateSwitch(world) {
  writeFileSync(join(world.catalog, 'tools', 'toggle_updates.json'), JSON.stringify({
    name: 'toggle_updates', server: 'everything', tool: 'toggle-subscriber-updates', access: 'read',
    description: 'Starts or stops simulated resource updates.',
    inputSchema: { type: 'object', additionalProperties: false },
  }));
  const matrixPath = join(world.catalog, 'matrix.json');
  const matrix = JSON.parse(readFileSync(matrixPath, 'utf8'));
  matrix.roles.viewer.tools.toggle_updates = {};
  writeFileSync(matrixPath, JSON.stringify(matrix));
  return world;
}

let everything;
before(async () => { everything = await startEverything(); });
after(async () => { await everything?.stop(); });

test('resource updates an http downstream sends on its GET stream reach the subscribed client', async () => {
  const proxy = await startProxy(everything.port);
  const world = withUpdateSwitch(httpWorld(`http://127.0.0.1:${proxy.port}/mcp`));
  const gw = await connect(world, { role: 'viewer', extraArgs: ['--secrets', world.secrets] });
  try {
    const seen = [];
    gw.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => { seen.push(n.params.uri); });
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
