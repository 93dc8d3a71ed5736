// Bearer tokens on Streamable HTTP: every request to the MCP endpoint carries a JWT that
// the gateway verifies; the token is the session's identity (and what the audit
// records), the RFC 9728 metadata tells clients where tokens come from, a session belongs
// to the principal that started it, one subject's load is bounded without costing the
// others, and the token never reaches a downstream server.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeWorld, auditRows, received, until, McpError, SCOPEGATE, Client } from './peers.mjs';
import {
  httpRequest, rawSocket, JSON_HEADERS, initializeBody, sseEvents, StreamableHTTPClientTransport,
} from './http-peers.mjs';
import {
  bearerWorld, startBearerGateway, bearerClient, bearer, bearerInitialize, ISSUER,
} from './bearer-peers.mjs';

const rpc = (id, method, params) => JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) });
const now = () => Math.floor(Date.now() / 1000);

// A world whose viewer may also see the downstream's environment (get-env), and may add
// numbers only up to the limit its token carries.
function showEnvWorld() {
  const world = bearerWorld();
  writeFileSync(join(world.catalog, 'tools', 'show_env.json'), JSON.stringify({
    name: 'show_env', server: 'everything', tool: 'get-env', access: 'read',
    description: 'Shows the environment the downstream server runs with.',
    inputSchema: { type: 'object', additionalProperties: false },
  }));
  const matrix = JSON.parse(readFileSync(join(world.catalog, 'matrix.json'), 'utf8'));
  matrix.roles.viewer.tools.show_env = {};
  matrix.roles.viewer.tools.add = { envelope: { a: { max: '$claims.limit' } } };
  writeFileSync(join(world.catalog, 'matrix.json'), JSON.stringify(matrix));
  return world;
}

// Parses `Bearer k="v", k2="v2"`.
function challenge(header) {
  assert.ok(header, 'a WWW-Authenticate header');
  assert.match(header, /^Bearer /);
  return Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
}

describe('bearer tokens on one gateway', () => {
  let world, gw;
  before(async () => {
    world = showEnvWorld();
    gw = await startBearerGateway(world);
  });
  after(async () => {
    const { code } = await gw.stop();
    assert.equal(code, 0, gw.log());
  });

  test('without a token: 401 naming the metadata; the SDK client cannot connect', async () => {
    const metadata = `http://127.0.0.1:${gw.port}/.well-known/oauth-protected-resource`;
    for (const headers of [JSON_HEADERS, { ...JSON_HEADERS, authorization: 'Basic YWxpY2U6cHc=' }]) {
      const r = await httpRequest({ port: gw.port, headers, body: initializeBody() });
      assert.equal(r.status, 401);
      const c = challenge(r.headers['www-authenticate']);
      assert.deepEqual(c, { resource_metadata: metadata }); // nothing was presented: no error code
      const body = JSON.parse(r.body);
      assert.equal(body.error.data.reason, 'unauthenticated');
      assert.match(body.error.message, /bearer token is required/);
    }
    // GET and DELETE need a token too.
    for (const method of ['GET', 'DELETE']) {
      const r = await httpRequest({ port: gw.port, method, headers: { accept: 'text/event-stream', 'mcp-session-id': 'x' } });
      assert.equal(r.status, 401, method);
    }
    const bare = new Client({ name: 'no-token', version: '1.0.0' });
    await assert.rejects(bare.connect(new StreamableHTTPClientTransport(new URL(gw.url))), (e) => e.code === 401);
    assert.equal(auditRows(world).length, 0);
  });

  test('the protected resource metadata, without authentication, at both well-known paths', async () => {
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
      const r = await httpRequest({ port: gw.port, method: 'GET', path });
      assert.equal(r.status, 200, path);
      assert.match(r.headers['content-type'], /application\/json/);
      assert.deepEqual(JSON.parse(r.body), {
        resource: gw.url,
        authorization_servers: [ISSUER],
        bearer_methods_supported: ['header'],
        scopes_supported: [],
      });
    }
    const other = await httpRequest({ port: gw.port, method: 'GET', path: '/.well-known/oauth-protected-resource/other' });
    assert.equal(other.status, 404);
  });

  test('tokens that do not verify get 401 with invalid_token and the reason', async () => {
    const { token, sign } = world;
    const claims = { iss: ISSUER, aud: 'scopegate', sub: 'mallory', roles: ['viewer'], tenant: 'acme', env: 'test',
      iat: now(), exp: now() + 600 };
    const unsigned = (h) => `${Buffer.from(JSON.stringify(h)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
    const cases = [
      ['wrong audience', token({ aud: 'another-service' }), /audience mismatch/],
      ['audience list without this gateway', token({ aud: ['a', 'b'] }), /audience mismatch/],
      ['no audience', token({ aud: undefined }), /missing claim aud/],
      ['expired', token({ exp: now() - 3600 }), /expired/],
      ['not yet valid', token({ nbf: now() + 3600 }), /not valid yet/],
      ['wrong issuer', token({ iss: 'https://evil.test' }), /issuer mismatch/],
      ['bad signature', sign(claims, undefined, Buffer.alloc(32, 7)), /signature/],
      ['alg none', unsigned({ alg: 'none', typ: 'JWT' }), /none/],
      ['alg none, signed', sign(claims, { alg: 'none', typ: 'JWT' }), /none/],
      ['not a JWT', 'abc.def', /three parts/],
      ['two tokens', `${token()} ${token()}`, /malformed/],
    ];
    for (const [name, tok, why] of cases) {
      const r = await httpRequest({ port: gw.port, headers: bearer(tok), body: initializeBody() });
      assert.equal(r.status, 401, name);
      const c = challenge(r.headers['www-authenticate']);
      assert.equal(c.resource_metadata, `http://127.0.0.1:${gw.port}/.well-known/oauth-protected-resource`, name);
      assert.equal(c.error, 'invalid_token', name);
      assert.match(c.error_description, why, name);
      const body = JSON.parse(r.body);
      assert.equal(body.error.data.reason, 'invalid_token', name);
      assert.doesNotMatch(r.body, new RegExp(tok.split(' ')[0].slice(-20).replace(/[^\w]/g, '.')), name);
    }
    assert.ok(auditRows(world).every((r) => r.subject !== 'mallory'));
  });

  test('a valid token: tools/list and calls work, audited under the token\'s identity', async () => {
    const tok = world.token({ sub: 'tok-alice', tenant: 'acme', env: 'test' });
    const { client, transport } = await bearerClient(gw.url, tok);
    try {
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'echo'));
      assert.ok(!tools.some((t) => t.name === 'write_file')); // the viewer's grants
      const r = await client.callTool({ name: 'echo', arguments: { message: 'through a token' } });
      assert.equal(r.content[0].text, 'Echo: through a token');
      const e = await client.callTool({ name: 'read_file', arguments: { path: 'globex/hello.txt' } }).catch((x) => x);
      assert.ok(e instanceof McpError);
      assert.equal(e.data.reason, 'outside_envelope');
      const rows = auditRows(world).filter((x) => x.subject === 'tok-alice');
      assert.ok(rows.length >= 2);
      for (const x of rows) assert.deepEqual([x.role, x.tenant, x.env], ['viewer', 'acme', 'test']);
      // The token goes nowhere: not to the downstream, its environment or the log.
      const env = await client.callTool({ name: 'show_env', arguments: {} });
      const signature = tok.split('.')[2];
      assert.doesNotMatch(env.content[0].text, new RegExp(signature));
      assert.doesNotMatch(JSON.stringify(received(world, 'everything')), new RegExp(signature));
      assert.doesNotMatch(gw.log(), new RegExp(signature));
    } finally {
      await transport.terminateSession().catch(() => {});
      await client.close();
    }
  });

  test('a session belongs to its principal: another subject or tenant gets 404; an expired token 401', async () => {
    const alice = world.token({ sub: 'alice' });
    const sid = await bearerInitialize(gw, alice);
    const list = (tok) => httpRequest({ port: gw.port, headers: { ...bearer(tok), 'mcp-session-id': sid }, body: rpc(2, 'tools/list') });
    assert.equal((await list(alice)).status, 200);
    for (const [name, tok] of [['another subject', world.token({ sub: 'bob' })],
      ['another tenant', world.token({ sub: 'alice', tenant: 'globex' })],
      ['another env', world.token({ sub: 'alice', env: 'prod' })]]) {
      const r = await list(tok);
      assert.equal(r.status, 404, name);
      assert.equal(JSON.parse(r.body).error.data.reason, 'session_not_found', name);
      // Nor can it listen on the session's stream or end it.
      const get = await httpRequest({ port: gw.port, method: 'GET', timeoutMs: 3000,
        headers: { accept: 'text/event-stream', authorization: `Bearer ${tok}`, 'mcp-session-id': sid } });
      assert.equal(get.status, 404, name);
      const del = await httpRequest({ port: gw.port, method: 'DELETE', headers: { authorization: `Bearer ${tok}`, 'mcp-session-id': sid } });
      assert.equal(del.status, 404, name);
    }
    assert.match(gw.log(), /of another principal was presented by subject bob/);
    const expired = await list(world.token({ sub: 'alice', exp: now() - 120 }));
    assert.equal(expired.status, 401);
    assert.match(challenge(expired.headers['www-authenticate']).error_description, /expired/);
    // A fresh token for the same principal continues the same session.
    const again = await list(world.token({ sub: 'alice' }));
    assert.equal(again.status, 200);
    assert.ok(JSON.parse(again.body).result.tools.length > 0);
  });

  test('each request is decided under its own token\'s claims', async () => {
    const sid = await bearerInitialize(gw, world.token({ sub: 'carl', limit: 10 }));
    const add = async (limit, a) => {
      const r = await httpRequest({ port: gw.port, headers: { ...bearer(world.token({ sub: 'carl', limit })), 'mcp-session-id': sid },
        body: rpc(3, 'tools/call', { name: 'add', arguments: { a, b: 1 } }) });
      assert.equal(r.status, 200);
      return sseEvents(r.body).find((e) => e.message)?.message;
    };
    assert.match(JSON.stringify((await add(10, 8)).result), /9/);
    // A refreshed token with a lower limit takes effect on the same session at once.
    const refused = await add(5, 8);
    assert.equal(refused.error.data.reason, 'outside_envelope');
    assert.match(refused.error.message, /\$claims\.limit/);
    assert.match(JSON.stringify((await add(5, 4)).result), /5/);
  });
});

describe('roles from tokens', () => {
  let world, gw, editorGw;
  before(async () => {
    world = bearerWorld();
    gw = await startBearerGateway(world);
    editorGw = await startBearerGateway(world, { db: join(world.dir, 'editor.db'), extraArgs: ['--role', 'editor'] });
  });
  after(async () => {
    assert.equal((await gw.stop()).code, 0, gw.log());
    assert.equal((await editorGw.stop()).code, 0, editorGw.log());
  });

  test('without --role the token must hold exactly one role of the matrix', async () => {
    const init = (g, tok) => httpRequest({ port: g.port, headers: bearer(tok), body: initializeBody() });
    for (const [roles, why] of [[['viewer', 'editor'], /holds 2 roles .* --role/], [['auditor'], /none of the token's roles/]]) {
      const r = await init(gw, world.token({ roles }));
      assert.equal(r.status, 403, roles.join());
      const body = JSON.parse(r.body);
      assert.equal(body.error.data.reason, 'role_refused');
      assert.match(body.error.message, why);
    }
    // Roles the matrix does not know are ignored when one known role remains.
    assert.equal((await init(gw, world.token({ roles: ['auditor', 'viewer'] }))).status, 200);
    // With --role, the token must hold that role.
    const r = await init(editorGw, world.token({ roles: ['viewer'] }));
    assert.equal(r.status, 403);
    assert.match(JSON.parse(r.body).error.message, /does not grant role "editor"/);
    const { client, transport } = await bearerClient(editorGw.url, world.token({ sub: 'erin', roles: ['viewer', 'editor'] }));
    try {
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'write_file'));
      await client.callTool({ name: 'echo', arguments: { message: 'as editor' } });
    } finally {
      await transport.terminateSession().catch(() => {});
      await client.close();
    }
    const editorRows = auditRows({ db: join(world.dir, 'editor.db') });
    assert.ok(editorRows.length >= 1);
    for (const x of editorRows) assert.deepEqual([x.subject, x.role, x.tool], ['erin', 'editor', 'echo']);
  });
});

describe('per-subject limits', () => {
  let world, gw;
  before(async () => {
    world = bearerWorld();
    gw = await startBearerGateway(world, { extraArgs: ['--max-sessions-per-subject', '2', '--max-streams-per-subject', '2'] });
  });
  after(async () => {
    assert.equal((await gw.stop()).code, 0, gw.log());
  });

  // Opens the session's GET stream on a socket of its own, which keeps the session busy.
  async function openStream(tok, sid) {
    const s = rawSocket({ port: gw.port });
    s.write(`GET /mcp HTTP/1.1\r\nHost: 127.0.0.1:${gw.port}\r\nAccept: text/event-stream\r\n` +
      `Authorization: Bearer ${tok}\r\nMcp-Session-Id: ${sid}\r\n\r\n`);
    await s.waitFor((t) => t.includes('\r\n\r\n'));
    return s;
  }

  test('a subject whose sessions are all busy gets 429; another subject still gets in', async () => {
    const alice = world.token({ sub: 'alice' });
    const sids = [await bearerInitialize(gw, alice), await bearerInitialize(gw, alice)];
    const streams = [];
    for (const sid of sids) {
      const s = await openStream(alice, sid);
      assert.match(s.received(), /^HTTP\/1\.1 200 /);
      streams.push(s);
    }
    const r = await httpRequest({ port: gw.port, headers: bearer(alice), body: initializeBody() });
    assert.equal(r.status, 429);
    assert.ok(r.headers['retry-after']);
    const body = JSON.parse(r.body);
    assert.equal(body.error.data.reason, 'too_many_sessions');
    assert.match(body.error.message, /this subject has 2 sessions open/);
    // Another subject is served as if nothing happened.
    const { client, transport } = await bearerClient(gw.url, world.token({ sub: 'bob' }));
    const ok = await client.callTool({ name: 'echo', arguments: { message: 'bob is in' } });
    assert.equal(ok.content[0].text, 'Echo: bob is in');
    await transport.terminateSession();
    await client.close();
    // Once one of alice's sessions is idle, a new one takes its place.
    streams[0].destroy();
    await until(async () => (await httpRequest({ port: gw.port, headers: bearer(alice), body: initializeBody() })).status === 200);
    const gone = await httpRequest({ port: gw.port, headers: { ...bearer(alice), 'mcp-session-id': sids[0] }, body: rpc(9, 'tools/list') });
    assert.equal(gone.status, 404);
    streams[1].destroy();
  });

  test('a subject at its stream limit gets 429 for a call, before anything is decided', async () => {
    const carol = world.token({ sub: 'carol' });
    const sid = await bearerInitialize(gw, carol);
    const getStream = await openStream(carol, sid);
    // A long call holds the second stream.
    const long = rawSocket({ port: gw.port });
    const longBody = rpc(5, 'tools/call', { name: 'long_operation', arguments: { duration: 3, steps: 3 } });
    long.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${gw.port}\r\nContent-Type: application/json\r\n` +
      `Accept: application/json, text/event-stream\r\nAuthorization: Bearer ${carol}\r\nMcp-Session-Id: ${sid}\r\n` +
      `Content-Length: ${Buffer.byteLength(longBody)}\r\n\r\n${longBody}`);
    await long.waitFor((t) => t.includes('\r\n\r\n'));
    const before = auditRows(world).length;
    const r = await httpRequest({ port: gw.port, headers: { ...bearer(carol), 'mcp-session-id': sid },
      body: rpc(6, 'tools/call', { name: 'echo', arguments: { message: 'one too many' } }) });
    assert.equal(r.status, 429);
    const body = JSON.parse(r.body);
    assert.equal(body.error.data.reason, 'too_many_streams');
    assert.match(body.error.message, /this subject has 2 streams open/);
    // Requests answered as JSON still work for carol, and dave's calls are unaffected.
    const list = await httpRequest({ port: gw.port, headers: { ...bearer(carol), 'mcp-session-id': sid }, body: rpc(7, 'tools/list') });
    assert.equal(list.status, 200);
    const { client, transport } = await bearerClient(gw.url, world.token({ sub: 'dave' }));
    const ok = await client.callTool({ name: 'echo', arguments: { message: 'dave is in' } });
    assert.equal(ok.content[0].text, 'Echo: dave is in');
    await transport.terminateSession();
    await client.close();
    assert.ok(auditRows(world).every((x) => x.subject !== 'carol' || x.tool !== 'echo'));
    assert.ok(auditRows(world).length >= before);
    // When the long call ends, carol may call again.
    await long.waitFor((t) => t.includes('"id":5'), 20000);
    await until(async () => (await httpRequest({ port: gw.port, headers: { ...bearer(carol), 'mcp-session-id': sid },
      body: rpc(8, 'tools/call', { name: 'echo', arguments: { message: 'room again' } }) })).status === 200);
    long.destroy();
    getStream.destroy();
  });
});

describe('without --auth', () => {
  const run = (world, args) => new Promise((res) => {
    const c = spawn(SCOPEGATE, ['serve', '--catalog', world.catalog, '--db', world.db, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => {
      err += d;
      if (/listening on/.test(err)) c.kill('SIGTERM');
    });
    c.on('exit', (code) => res({ code, err }));
  });
  const operator = ['--role', 'viewer', '--tenant', 'acme', '--env', 'test'];

  test('a non-loopback address is refused unless --insecure-no-auth; clients are unauthenticated', async () => {
    const world = makeWorld();
    const refused = await run(world, [...operator, '--listen', '0.0.0.0:0']);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /refusing to listen on 0\.0\.0\.0 without --auth/);
    const insecure = await run(world, [...operator, '--listen', '0.0.0.0:0', '--insecure-no-auth']);
    assert.match(insecure.err, /listening on/);
    assert.match(insecure.err, /HTTP clients are not authenticated/);
    const local = await run(world, [...operator, '--listen', '127.0.0.1:0']);
    assert.match(local.err, /HTTP clients are not authenticated \(no --auth\): every HTTP client acts as subject \S+, role viewer, tenant acme, env test/);
  });

  test('with --auth and only HTTP, the operator identity flags are refused', async () => {
    const world = bearerWorld();
    const r = await run(world, ['--auth', world.auth, '--listen', '127.0.0.1:0', '--tenant', 'acme']);
    assert.equal(r.code, 2);
    assert.match(r.err, /comes from its own bearer token/);
  });
});
