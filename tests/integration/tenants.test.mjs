// Two tenants on ONE gateway over Streamable HTTP, each client holding a bearer token for
// its own tenant (same role): each reaches only its own files and resources, a parameter
// bound to the tenant cannot be pointed at the other, and the two never share a
// downstream process or its credentials.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { auditRows, receivedToolCalls, refusal } from './peers.mjs';
import { bearerWorld, startBearerGateway, bearerClient, downstreamPids } from './bearer-peers.mjs';

const SECRETS = { acme: 'acme-test-secret', globex: 'globex-test-secret', document: 'document-test-secret',
  text: 'text-test-secret' };

// The example catalog, plus: a tool whose tenant parameter the gateway binds, a tool that
// shows the downstream's environment, resource grants templated on the tenant, and a
// credential per tenant for the "everything" server.
function tenantsWorld() {
  const world = bearerWorld();
  const servers = JSON.parse(readFileSync(join(world.catalog, 'servers.json'), 'utf8'));
  servers.servers.everything.credentials = ['DEMO_TOKEN'];
  writeFileSync(join(world.catalog, 'servers.json'), JSON.stringify(servers));
  writeFileSync(join(world.catalog, 'tools', 'tenant_echo.json'), JSON.stringify({
    name: 'tenant_echo', server: 'everything', tool: 'echo', access: 'read',
    description: 'Echoes a message on behalf of the caller\'s tenant.',
    inputSchema: { type: 'object', properties: { message: { type: 'string' }, tenant: { type: 'string' } },
      required: ['message', 'tenant'], additionalProperties: false },
  }));
  writeFileSync(join(world.catalog, 'tools', 'show_env.json'), JSON.stringify({
    name: 'show_env', server: 'everything', tool: 'get-env', access: 'read',
    description: 'Shows the environment the downstream server runs with.',
    inputSchema: { type: 'object', additionalProperties: false },
  }));
  const matrix = JSON.parse(readFileSync(join(world.catalog, 'matrix.json'), 'utf8'));
  matrix.roles.viewer.tools.tenant_echo = { bind: { tenant: '$tenant' } };
  matrix.roles.viewer.tools.show_env = {};
  // The reference server's static resources live under .../static/document/ and its
  // templated ones under .../dynamic/text/: tenants named "document" and "text" each
  // own one subtree, acme and globex none.
  matrix.roles.viewer.resources = [
    { server: 'everything', prefix: 'demo://resource/static/$tenant/' },
    { server: 'everything', prefix: 'demo://resource/dynamic/$tenant/' },
  ];
  writeFileSync(join(world.catalog, 'matrix.json'), JSON.stringify(matrix));
  const secrets = join(world.dir, 'secrets.json');
  writeFileSync(secrets, JSON.stringify({ servers: { everything: Object.fromEntries(
    Object.entries(SECRETS).map(([tenant, v]) => [tenant, { test: { env: { DEMO_TOKEN: v } } }])) } }));
  chmodSync(secrets, 0o600);
  return { ...world, secrets };
}

describe('two tenants on one gateway', () => {
  let world, gw;
  const clients = {};
  before(async () => {
    world = tenantsWorld();
    gw = await startBearerGateway(world, { extraArgs: ['--secrets', world.secrets] });
    for (const [tenant, sub] of [['acme', 'alice'], ['globex', 'gina']])
      clients[tenant] = await bearerClient(gw.url, world.token({ sub, tenant, roles: ['viewer'] }), { name: tenant });
  });
  after(async () => {
    for (const { client, transport } of Object.values(clients)) {
      await transport.terminateSession().catch(() => {});
      await client.close();
    }
    const { code } = await gw.stop();
    assert.equal(code, 0, gw.log());
  });

  test('each tenant reads only its own files; the refusal names the parameter', async () => {
    const [mine, theirs] = await Promise.all(['acme', 'globex'].map(async (tenant) => {
      const other = tenant === 'acme' ? 'globex' : 'acme';
      const { client } = clients[tenant];
      const ok = await client.callTool({ name: 'read_file', arguments: { path: `${tenant}/hello.txt` } });
      const e = await refusal(client.callTool({ name: 'read_file', arguments: { path: `${other}/hello.txt` } }));
      const sneaky = await refusal(client.callTool({ name: 'read_file', arguments: { path: `${tenant}/../${other}/hello.txt` } }));
      return [ok, [e, sneaky]];
    })).then((rs) => [rs.map((r) => r[0]), rs.map((r) => r[1])]);
    assert.equal(mine[0].content[0].text, 'hello from acme\n');
    assert.equal(mine[1].content[0].text, 'hello from globex\n');
    for (const e of theirs.flat()) {
      assert.equal(e.data.reason, 'outside_envelope');
      assert.equal(e.data.pointer, '/path');
      assert.match(e.message, /parameter "path" must lie under \$tenant\//);
      assert.doesNotMatch(e.message, /acme|globex/); // the context value is not echoed
    }
    // Only the allowed reads reached the file server.
    const paths = receivedToolCalls(world, 'files').filter((p) => p.name === 'read_text_file').map((p) => p.arguments.path);
    assert.deepEqual(paths.sort(), ['acme/hello.txt', 'globex/hello.txt']);
    // Each decision is audited under the caller's own subject and tenant.
    const rows = auditRows(world).filter((r) => r.tool === 'read_file');
    assert.equal(rows.length, 6);
    for (const r of rows) assert.equal(r.tenant, r.subject === 'alice' ? 'acme' : 'globex');
    assert.deepEqual(rows.filter((r) => r.decision === 'allow').map((r) => r.tenant).sort(), ['acme', 'globex']);
  });

  test('a parameter bound to the tenant is filled in from the token and cannot be overridden', async () => {
    for (const [tenant, other] of [['acme', 'globex'], ['globex', 'acme']]) {
      const { client } = clients[tenant];
      await client.callTool({ name: 'tenant_echo', arguments: { message: `from ${tenant}` } });
      const e = await refusal(client.callTool({ name: 'tenant_echo', arguments: { message: 'spoof', tenant: other } }));
      assert.equal(e.data.reason, 'context_mismatch');
      assert.equal(e.data.pointer, '/tenant');
      assert.match(e.message, /parameter "tenant" is bound to \$tenant/);
    }
    const seen = receivedToolCalls(world, 'everything').filter((p) => p.name === 'echo').map((p) => p.arguments);
    assert.deepEqual(seen, [{ message: 'from acme', tenant: 'acme' }, { message: 'from globex', tenant: 'globex' }]);
  });

  test('the tenants never share a downstream process, nor its credentials', async () => {
    const envs = {};
    for (const tenant of ['acme', 'globex']) {
      const r = await clients[tenant].client.callTool({ name: 'show_env', arguments: {} });
      envs[tenant] = r.content[0].text;
    }
    assert.match(envs.acme, /acme-test-secret/);
    assert.doesNotMatch(envs.acme, /globex-test-secret/);
    assert.match(envs.globex, /globex-test-secret/);
    assert.doesNotMatch(envs.globex, /acme-test-secret/);
    // One process per (server, tenant, env), each started once, none shared.
    const started = downstreamPids(gw.log());
    for (const server of ['files', 'everything']) {
      const [a, g] = ['acme', 'globex'].map((t) => started.filter((d) => d.server === server && d.tenant === t));
      assert.equal(a.length, 1, `${server} for acme: ${JSON.stringify(started)}`);
      assert.equal(g.length, 1, `${server} for globex: ${JSON.stringify(started)}`);
      assert.notEqual(a[0].pid, g[0].pid);
    }
    assert.equal(new Set(started.map((d) => d.pid)).size, started.length);
    // The credential each call saw is in its own tenant's process and in no other: the
    // calls landed on different pids.
    const everything = Object.fromEntries(started.filter((d) => d.server === 'everything').map((d) => [d.tenant, d.pid]));
    const environ = (pid) => readFileSync(`/proc/${pid}/environ`, 'utf8');
    if (existsSync('/proc/self/environ')) {
      assert.match(environ(everything.acme), /DEMO_TOKEN=acme-test-secret/);
      assert.doesNotMatch(environ(everything.acme), /globex-test-secret/);
      assert.match(environ(everything.globex), /DEMO_TOKEN=globex-test-secret/);
      assert.doesNotMatch(environ(everything.globex), /acme-test-secret/);
    }
    assert.doesNotMatch(gw.log(), /test-secret/); // credentials are never logged
  });

  test('resources granted by a tenant template: each lists and reads only its own', async () => {
    const tokens = { document: world.token({ sub: 'dora', tenant: 'document' }), text: world.token({ sub: 'tess', tenant: 'text' }) };
    const doc = await bearerClient(gw.url, tokens.document, { name: 'document' });
    const text = await bearerClient(gw.url, tokens.text, { name: 'text' });
    try {
      const docList = (await doc.client.listResources()).resources;
      assert.ok(docList.length >= 1);
      for (const r of docList) assert.ok(r.uri.startsWith('demo://resource/static/document/'), r.uri);
      const docUri = docList[0].uri;
      const textUri = 'demo://resource/dynamic/text/1';
      assert.equal((await doc.client.readResource({ uri: docUri })).contents[0].uri, docUri);
      assert.equal((await text.client.readResource({ uri: textUri })).contents[0].uri, textUri);
      // Neither lists or reads the other's; acme and globex own none.
      assert.deepEqual((await text.client.listResources()).resources.filter((r) => r.uri.startsWith('demo://resource/static/')), []);
      for (const [c, uri] of [[doc.client, textUri], [text.client, docUri], [clients.acme.client, docUri], [clients.globex.client, textUri]]) {
        const e = await refusal(c.readResource({ uri }));
        assert.equal(e.data.reason, 'not_granted', uri);
      }
      for (const t of ['acme', 'globex'])
        assert.deepEqual((await clients[t].client.listResources()).resources, []);
    } finally {
      for (const c of [doc, text]) {
        await c.transport.terminateSession().catch(() => {});
        await c.client.close();
      }
    }
  });
});
