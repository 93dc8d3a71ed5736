// SIGHUP reloads the catalog: a valid new catalog takes effect for new calls, calls in
// flight finish under the catalog they started with, a broken catalog is refused and the
// old one stays, and a server whose definition changed gets a fresh process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeWorld, connect, until, refusal, auditRows } from './peers.mjs';

const pidsOf = (log, server) => [...log.matchAll(new RegExp(`downstream ${server} \\(tenant acme, env test\\) started, pid (\\d+)`, 'g'))].map((m) => Number(m[1]));

test('SIGHUP swaps in a valid catalog and keeps the old one when the new is broken', async () => {
  const world = makeWorld({ record: false });
  const gw = await connect(world, { role: 'viewer' });
  const pid = gw.transport.pid;
  const matrixPath = join(world.catalog, 'matrix.json');
  const original = readFileSync(matrixPath, 'utf8');
  try {
    assert.equal((await gw.client.callTool({ name: 'echo', arguments: { message: 'before' } })).content[0].text, 'Echo: before');
    // A call that outlives the reload.
    const long = gw.client.callTool({ name: 'long_operation', arguments: { duration: 2, steps: 2 } });
    const matrix = JSON.parse(original);
    delete matrix.roles.viewer.tools.echo;
    delete matrix.roles.viewer.tools.long_operation;
    writeFileSync(matrixPath, JSON.stringify(matrix));
    process.kill(pid, 'SIGHUP');
    await until(() => gw.log().includes('catalog reloaded'));
    const e = await refusal(gw.client.callTool({ name: 'echo', arguments: { message: 'after' } }));
    assert.equal(e.data.reason, 'not_granted');
    assert.match((await long).content[0].text, /completed/); // started under the old catalog
    const { tools } = await gw.client.listTools();
    assert.ok(!tools.some((t) => t.name === 'echo'));

    // A broken catalog is refused; the last good one stays.
    writeFileSync(matrixPath, '{"roles": {"viewer": {"tools": {"no_such_tool": {}}}}}');
    process.kill(pid, 'SIGHUP');
    await until(() => gw.log().includes('catalog reload refused'));
    assert.match(gw.log(), /grants unknown tool "no_such_tool"/);
    assert.equal((await refusal(gw.client.callTool({ name: 'echo', arguments: { message: 'x' } }))).data.reason, 'not_granted');
    const sum = await gw.client.callTool({ name: 'add', arguments: { a: 1, b: 2 } });
    assert.match(sum.content[0].text, /3/);
    // Both reloads are in the audit.
    const reloads = auditRows(world).filter((r) => r.event === 'catalog_reload').map((r) => r.reason);
    assert.deepEqual(reloads, ['catalog_loaded', 'catalog_refused']);
  } finally {
    await gw.client.close();
  }
});

test('a server whose definition changed is replaced by a new process after a reload', async () => {
  const world = makeWorld({ record: false });
  const gw = await connect(world, { role: 'viewer' });
  try {
    await gw.client.callTool({ name: 'echo', arguments: { message: 'warm' } });
    const before = pidsOf(gw.log(), 'everything');
    assert.equal(before.length, 1);
    const long = gw.client.callTool({ name: 'long_operation', arguments: { duration: 2, steps: 2 } });
    const serversPath = join(world.catalog, 'servers.json');
    const servers = JSON.parse(readFileSync(serversPath, 'utf8'));
    servers.servers.everything.env = { RELOADED: '1' };
    writeFileSync(serversPath, JSON.stringify(servers));
    process.kill(gw.transport.pid, 'SIGHUP');
    await until(() => gw.log().includes('catalog reloaded'));
    const r = await gw.client.callTool({ name: 'echo', arguments: { message: 'new process' } });
    assert.equal(r.content[0].text, 'Echo: new process');
    const after = pidsOf(gw.log(), 'everything');
    assert.equal(after.length, 2);
    assert.match((await long).content[0].text, /completed/); // the old process finished it
    await until(() => new RegExp(`downstream everything pid ${before[0]} exited`).test(gw.log()));
  } finally {
    await gw.client.close();
  }
});
