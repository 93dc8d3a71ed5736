// Prompts and resources through the official SDK client: only granted ones are listed,
// reads and gets are decided and audited like tool calls, and resource prefixes can be
// scoped to the caller's tenant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeWorld, connect, received, auditRows, McpError, refusal } from './peers.mjs';


const forwarded = (world, method) => received(world, 'everything').filter((m) => m.method === method).map((m) => m.params);

test('prompts: listed from the catalog, arguments checked, ungranted and unknown ones refused', async () => {
  const world = makeWorld();
  const gw = await connect(world, { role: 'viewer' });
  try {
    const caps = gw.client.getServerCapabilities();
    assert.ok(caps.prompts && caps.resources);
    const { prompts } = await gw.client.listPrompts();
    assert.deepEqual(prompts.map((p) => p.name), ['city_brief']);
    assert.equal(prompts[0].description, 'A short brief about a city.');
    const r = await gw.client.getPrompt({ name: 'city_brief', arguments: { city: 'Lisbon' } });
    assert.match(JSON.stringify(r.messages), /Lisbon/);
    assert.deepEqual(forwarded(world, 'prompts/get'), [{ name: 'args-prompt', arguments: { city: 'Lisbon' } }]);
    let e = await refusal(gw.client.getPrompt({ name: 'city_brief', arguments: {} }));
    assert.equal(e.data.reason, 'invalid_arguments');
    assert.equal(e.data.pointer, '/city');
    e = await refusal(gw.client.getPrompt({ name: 'city_brief', arguments: { city: 'Oslo', country: 'NO' } }));
    assert.equal(e.data.pointer, '/country');
    e = await refusal(gw.client.getPrompt({ name: 'simple-prompt' }));
    assert.equal(e.data.reason, 'unknown_prompt');
    assert.equal(forwarded(world, 'prompts/get').length, 1);
    const rows = auditRows(world).filter((x) => x.tool?.startsWith('prompt:'));
    assert.deepEqual(rows.map((x) => x.reason), ['allowed', 'invalid_arguments', 'invalid_arguments', 'unknown_prompt']);
  } finally {
    await gw.client.close();
  }
  const editor = await connect(world, { role: 'editor' });
  try {
    assert.equal(editor.client.getServerCapabilities().prompts, undefined);
    const e = await refusal(editor.client.getPrompt({ name: 'city_brief', arguments: { city: 'Rome' } }));
    assert.equal(e.data.reason, 'not_granted');
  } finally {
    await editor.client.close();
  }
});

test('resources: only those under a granted prefix are listed or read', async () => {
  const world = makeWorld();
  const gw = await connect(world, { role: 'viewer' });
  try {
    const { resources } = await gw.client.listResources();
    assert.ok(resources.length >= 1);
    for (const r of resources) assert.ok(r.uri.startsWith('demo://resource/static/document/'), r.uri);
    const doc = await gw.client.readResource({ uri: resources[0].uri });
    assert.equal(doc.contents[0].uri, resources[0].uri);
    for (const uri of ['demo://resource/dynamic/text/1', 'demo://resource/static/document/../../dynamic/text/1',
      'demo://resource/static/document/%2e%2e/x', 'demo://resource/static/documentx']) {
      const e = await refusal(gw.client.readResource({ uri }));
      assert.equal(e.data.reason, 'not_granted', uri);
    }
    assert.deepEqual(forwarded(world, 'resources/read').map((p) => p.uri), [resources[0].uri]);
    const { resourceTemplates } = await gw.client.listResourceTemplates();
    assert.deepEqual(resourceTemplates, []);
    assert.ok(auditRows(world).some((x) => x.tool === `resource:${resources[0].uri}` && x.outcome === 'ok'));
  } finally {
    await gw.client.close();
  }
});

test('a resource prefix with $tenant gives each tenant only its own', async () => {
  const world = makeWorld();
  const matrix = JSON.parse(readFileSync(join(world.catalog, 'matrix.json'), 'utf8'));
  matrix.roles.viewer.resources = [{ server: 'everything', prefix: 'demo://resource/static/$tenant/' }];
  writeFileSync(join(world.catalog, 'matrix.json'), JSON.stringify(matrix));
  // The tenant named "document" owns demo://resource/static/document/...; "acme" owns none.
  const doc = await connect(world, { role: 'viewer', tenant: 'document' });
  let uri;
  try {
    const { resources } = await doc.client.listResources();
    assert.ok(resources.length >= 1);
    uri = resources[0].uri;
    await doc.client.readResource({ uri });
  } finally {
    await doc.client.close();
  }
  const acme = await connect(world, { role: 'viewer', tenant: 'acme' });
  try {
    const { resources } = await acme.client.listResources();
    assert.deepEqual(resources, []);
    const e = await refusal(acme.client.readResource({ uri }));
    assert.equal(e.data.reason, 'not_granted');
  } finally {
    await acme.client.close();
  }
});
