// Parameter scope through the official SDK client: tenant-prefixed paths that cannot be
// escaped, a bound tenant parameter that cannot be overridden, and envelope refusals that
// name the parameter. The downstreams' own records show what reached them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeWorld, connect, receivedToolCalls, McpError, refusal } from './peers.mjs';


test('a tenant reads its own files and cannot reach another tenant\'s, however the path is spelt', async () => {
  const world = makeWorld();
  const gw = await connect(world, { role: 'viewer', tenant: 'acme' });
  try {
    const ok = await gw.client.callTool({ name: 'read_file', arguments: { path: 'acme/hello.txt' } });
    assert.equal(ok.content[0].text, 'hello from acme\n');
    const tricks = ['globex/hello.txt', 'acme/../globex/hello.txt', 'acme/./../globex/hello.txt',
      'acme//../globex/hello.txt', '/globex/hello.txt', 'acmex/../globex/hello.txt'];
    for (const path of tricks) {
      const e = await refusal(gw.client.callTool({ name: 'read_file', arguments: { path } }));
      assert.equal(e.data.reason, 'outside_envelope', path);
      assert.equal(e.data.pointer, '/path');
      assert.equal(e.data.keyword, 'prefix');
      assert.match(e.message, /parameter "path" must lie under \$tenant\//);
    }
    // Encoded and look-alike spellings are refused before any prefix comparison (the
    // schema's pattern allows only plain path characters, so they fail there first).
    for (const path of ['acme/%2e%2e/globex/hello.txt', 'acme\uff0f..\uff0fglobex/hello.txt']) {
      const e = await refusal(gw.client.callTool({ name: 'read_file', arguments: { path } }));
      assert.ok(['invalid_arguments', 'outside_envelope'].includes(e.data.reason), path);
    }
    // A path that wanders but stays inside is normalised, and the normalised form is what
    // the downstream receives.
    const wander = await gw.client.callTool({ name: 'read_file', arguments: { path: 'acme/x/../hello.txt' } });
    assert.equal(wander.content[0].text, 'hello from acme\n');
    const paths = receivedToolCalls(world, 'files').map((p) => p.arguments.path);
    assert.deepEqual(paths, ['acme/hello.txt', 'acme/hello.txt']);
  } finally {
    await gw.client.close();
  }
});

test('the same gateway catalog scopes a second tenant to its own folder', async () => {
  const world = makeWorld();
  const gw = await connect(world, { role: 'editor', tenant: 'globex', subject: 'gina' });
  try {
    const r = await gw.client.callTool({ name: 'read_file', arguments: { path: 'globex/hello.txt' } });
    assert.equal(r.content[0].text, 'hello from globex\n');
    const e = await refusal(gw.client.callTool({ name: 'write_file', arguments: { path: 'acme/hello.txt', content: 'defaced' } }));
    assert.equal(e.data.reason, 'outside_envelope');
    assert.equal(readFileSync(join(world.files, 'acme', 'hello.txt'), 'utf8'), 'hello from acme\n');
    assert.equal(receivedToolCalls(world, 'files').filter((p) => p.name === 'write_file').length, 0);
  } finally {
    await gw.client.close();
  }
});

test('a parameter bound to the tenant is filled in and cannot be overridden', async () => {
  const world = makeWorld();
  // A tool whose tenant parameter the gateway owns: the client may omit it or repeat it,
  // never change it.
  writeFileSync(join(world.catalog, 'tools', 'tenant_echo.json'), JSON.stringify({
    name: 'tenant_echo', server: 'everything', tool: 'echo', access: 'read',
    description: 'Echoes a message on behalf of the caller\'s tenant.',
    inputSchema: { type: 'object', properties: { message: { type: 'string' }, tenant: { type: 'string' } },
      required: ['message', 'tenant'], additionalProperties: false },
  }));
  const matrix = JSON.parse(readFileSync(join(world.catalog, 'matrix.json'), 'utf8'));
  matrix.roles.viewer.tools.tenant_echo = { bind: { tenant: '$tenant' } };
  writeFileSync(join(world.catalog, 'matrix.json'), JSON.stringify(matrix));
  const gw = await connect(world, { role: 'viewer', tenant: 'acme' });
  try {
    await gw.client.callTool({ name: 'tenant_echo', arguments: { message: 'one' } });
    await gw.client.callTool({ name: 'tenant_echo', arguments: { message: 'two', tenant: 'acme' } });
    const e = await refusal(gw.client.callTool({ name: 'tenant_echo', arguments: { message: 'three', tenant: 'globex' } }));
    assert.equal(e.data.reason, 'context_mismatch');
    assert.equal(e.data.pointer, '/tenant');
    assert.match(e.message, /parameter "tenant" is bound to \$tenant/);
    const seen = receivedToolCalls(world, 'everything').filter((p) => p.name === 'echo');
    assert.deepEqual(seen.map((p) => p.arguments), [{ message: 'one', tenant: 'acme' }, { message: 'two', tenant: 'acme' }]);
  } finally {
    await gw.client.close();
  }
});
