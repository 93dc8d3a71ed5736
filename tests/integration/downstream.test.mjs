// Downstream trust: tools whose downstream description or schema drifted from the
// catalog's pin are quarantined; credentials reach exactly the (tenant, env) instance they
// belong to, from an owner-only secrets file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import {
  makeWorld, connect, receivedToolCalls, auditRows, McpError, Client, StdioClientTransport,
  EVERYTHING, SCOPEGATE, refusal } from './peers.mjs';


// What server-everything itself advertises for a tool, asked directly.
async function advertised(name) {
  const client = new Client({ name: 'pin-reader', version: '1' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [EVERYTHING, 'stdio'], stderr: 'pipe' }));
  const { tools } = await client.listTools();
  await client.close();
  return tools.find((t) => t.name === name);
}

function pinTool(world, file, pin) {
  const path = join(world.catalog, 'tools', file);
  const tool = JSON.parse(readFileSync(path, 'utf8'));
  tool.pin = pin;
  writeFileSync(path, JSON.stringify(tool, null, 2));
}

test('a pinned tool works while the downstream matches its pin, and is quarantined when it drifts', async () => {
  const echo = await advertised('echo');
  const sum = await advertised('get-sum');
  const world = makeWorld();
  pinTool(world, 'echo.json', { description: echo.description, inputSchema: echo.inputSchema });
  // get-sum's pin records a description the downstream no longer gives: drift.
  pinTool(world, 'add.json', { description: 'Returns the sum of two numbers.', inputSchema: sum.inputSchema });
  const gw = await connect(world, { role: 'viewer' });
  try {
    const ok = await gw.client.callTool({ name: 'echo', arguments: { message: 'pinned' } });
    assert.equal(ok.content[0].text, 'Echo: pinned');
    const e = await refusal(gw.client.callTool({ name: 'add', arguments: { a: 1, b: 2 } }));
    assert.equal(e.data.reason, 'tool_drift');
    assert.match(e.message, /quarantined: the advertised description differs from the pin/);
    assert.equal(receivedToolCalls(world, 'everything').filter((p) => p.name === 'get-sum').length, 0);
    const rows = auditRows(world);
    const drift = rows.find((r) => r.event === 'drift' && r.tool === 'get-sum');
    assert.ok(drift, 'the drift is in the audit');
    assert.equal(drift.tenant, 'acme');
    assert.equal(drift.reason, 'tool_drift');
    assert.ok(!rows.some((r) => r.event === 'drift' && r.tool === 'echo'));
    const denied = rows.find((r) => r.tool === 'add' && r.decision === 'deny');
    assert.equal(denied.reason, 'tool_drift');
  } finally {
    await gw.client.close();
  }
});

test('a catalog tool the downstream does not advertise is quarantined', async () => {
  const world = makeWorld();
  const path = join(world.catalog, 'tools', 'echo.json');
  const tool = JSON.parse(readFileSync(path, 'utf8'));
  tool.tool = 'echo-that-is-gone';
  writeFileSync(path, JSON.stringify(tool));
  const gw = await connect(world, { role: 'viewer' });
  try {
    const e = await refusal(gw.client.callTool({ name: 'echo', arguments: { message: 'x' } }));
    assert.equal(e.data.reason, 'tool_drift');
    assert.match(e.message, /does not advertise this tool/);
  } finally {
    await gw.client.close();
  }
});

function withCredentials(world) {
  const servers = JSON.parse(readFileSync(join(world.catalog, 'servers.json'), 'utf8'));
  servers.servers.everything.credentials = ['DEMO_TOKEN'];
  writeFileSync(join(world.catalog, 'servers.json'), JSON.stringify(servers));
  writeFileSync(join(world.catalog, 'tools', 'show_env.json'), JSON.stringify({
    name: 'show_env', server: 'everything', tool: 'get-env', access: 'read',
    description: 'Shows the environment the downstream server runs with.',
    inputSchema: { type: 'object', additionalProperties: false },
  }));
  const matrix = JSON.parse(readFileSync(join(world.catalog, 'matrix.json'), 'utf8'));
  matrix.roles.viewer.tools.show_env = {};
  writeFileSync(join(world.catalog, 'matrix.json'), JSON.stringify(matrix));
  const secrets = join(world.dir, 'secrets.json');
  writeFileSync(secrets, JSON.stringify({ servers: { everything: {
    acme: { test: { env: { DEMO_TOKEN: 'acme-test-secret' } } },
    globex: { test: { env: { DEMO_TOKEN: 'globex-test-secret' } } },
  } } }));
  chmodSync(secrets, 0o600);
  return secrets;
}

test('each tenant\'s downstream gets its own credentials and nothing of the gateway\'s environment', async () => {
  const world = makeWorld();
  const secrets = withCredentials(world);
  process.env.SCOPEGATE_TEST_CANARY = 'gateway-only-value';
  const gw = await connect(world, { role: 'viewer', tenant: 'acme', extraArgs: ['--secrets', secrets] });
  delete process.env.SCOPEGATE_TEST_CANARY;
  try {
    const r = await gw.client.callTool({ name: 'show_env', arguments: {} });
    const text = r.content[0].text;
    assert.match(text, /acme-test-secret/);
    assert.doesNotMatch(text, /globex-test-secret/);
    assert.doesNotMatch(text, /gateway-only-value/);
    assert.doesNotMatch(gw.log(), /acme-test-secret/); // never logged
  } finally {
    await gw.client.close();
  }
  // A tenant with no credentials for this server cannot reach it at all.
  const other = await connect(world, { role: 'viewer', tenant: 'initech', extraArgs: ['--secrets', secrets] });
  try {
    const e = await refusal(other.client.callTool({ name: 'show_env', arguments: {} }));
    assert.equal(e.data.reason, 'downstream_unavailable');
    assert.match(e.message, /no credential DEMO_TOKEN for server "everything", tenant "initech"/);
  } finally {
    await other.client.close();
  }
});

test('a secrets file readable by others is refused at start', async () => {
  const world = makeWorld();
  const secrets = withCredentials(world);
  chmodSync(secrets, 0o644);
  const r = await new Promise((res) => {
    const c = spawn(SCOPEGATE, ['serve', '--catalog', world.catalog, '--db', world.db, '--role', 'viewer',
      '--tenant', 'acme', '--env', 'test', '--secrets', secrets], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => { err += d; });
    c.on('exit', (code) => res({ code, err }));
  });
  assert.equal(r.code, 1);
  assert.match(r.err, /accessible to group or others \(mode 644\)/);
});
