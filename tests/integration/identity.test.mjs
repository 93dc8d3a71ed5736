// The identity of a stdio instance from a verified bearer token: subject, role, tenant
// and env come from the token, its claims drive envelopes, and a bad token stops the
// instance from starting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { makeWorld, connect, auditRows, McpError, SCOPEGATE } from './peers.mjs';

const b64 = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

function sign(secret, payload, header = { alg: 'HS256', typ: 'JWT' }) {
  const body = `${b64(header)}.${b64(payload)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

function authWorld() {
  const world = makeWorld();
  const secret = randomBytes(32);
  writeFileSync(join(world.dir, 'hs.key'), secret);
  chmodSync(join(world.dir, 'hs.key'), 0o600);
  writeFileSync(join(world.dir, 'auth.json'), JSON.stringify({
    issuer: 'https://idp.test', audience: 'scopegate',
    keys: [{ kid: 'k1', alg: 'HS256', file: 'hs.key' }],
  }));
  // The viewer may add numbers only up to the caller's own limit.
  const matrix = JSON.parse(readFileSync(join(world.catalog, 'matrix.json'), 'utf8'));
  matrix.roles.viewer.tools.add = { envelope: { a: { max: '$claims.limit' } } };
  writeFileSync(join(world.catalog, 'matrix.json'), JSON.stringify(matrix));
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: 'https://idp.test', aud: 'scopegate', sub: 'tok-user', roles: ['viewer'],
    tenant: 'acme', env: 'test', limit: 10, iat: now, exp: now + 600 };
  const token = (over = {}, header) => {
    const path = join(world.dir, `token-${randomBytes(4).toString('hex')}`);
    writeFileSync(path, sign(secret, { ...claims, ...over }, header ?? { alg: 'HS256', typ: 'JWT', kid: 'k1' }));
    return path;
  };
  return { world, token, auth: join(world.dir, 'auth.json') };
}

function start(world, args) {
  return new Promise((res) => {
    const c = spawn(SCOPEGATE, ['serve', '--catalog', world.catalog, '--db', world.db, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => { err += d; });
    c.on('exit', (code) => res({ code, err }));
  });
}

test('a verified token is the identity, and its claims bound the envelope', async () => {
  const { world, token, auth } = authWorld();
  const transportArgs = ['--auth', auth, '--token-file', token()];
  const gw = await connect(world, { role: 'viewer', raw: transportArgs });
  try {
    const ok = await gw.client.callTool({ name: 'add', arguments: { a: 10, b: 1 } });
    assert.match(ok.content[0].text, /11/);
    try {
      await gw.client.callTool({ name: 'add', arguments: { a: 11, b: 1 } });
      assert.fail('expected a refusal');
    } catch (e) {
      assert.ok(e instanceof McpError);
      assert.equal(e.data.reason, 'outside_envelope');
      assert.match(e.message, /must be at most \$claims\.limit/);
      assert.doesNotMatch(e.message, /10/);
    }
    const rows = auditRows(world);
    assert.ok(rows.length >= 2);
    for (const r of rows) assert.deepEqual([r.subject, r.role, r.tenant, r.env], ['tok-user', 'viewer', 'acme', 'test']);
  } finally {
    await gw.client.close();
  }
});

test('bad tokens stop the instance before it serves anything', async () => {
  const { world, token, auth } = authWorld();
  const now = Math.floor(Date.now() / 1000);
  const cases = [
    [token({ exp: now - 3600 }), /expired/],
    [token({ iss: 'https://evil.test' }), /issuer/],
    [token({ aud: 'someone-else' }), /audience/],
    [token({}, { alg: 'none', typ: 'JWT' }), /none/],
    [token({ tenant: undefined }), /tenant/],
  ];
  for (const [file, why] of cases) {
    const r = await start(world, ['--auth', auth, '--token-file', file]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, why);
  }
  // The token is the identity: flags cannot override it.
  const r = await start(world, ['--auth', auth, '--token-file', token(), '--tenant', 'globex']);
  assert.equal(r.code, 2);
  // A role the token does not carry cannot be chosen.
  const r2 = await start(world, ['--auth', auth, '--token-file', token(), '--role', 'editor']);
  assert.equal(r2.code, 1);
  assert.match(r2.err, /editor/);
});
