// Plumbing for the bearer-token HTTP tests: an auth configuration with an HS256 key,
// tokens signed with it (or deliberately not), a gateway serving Streamable HTTP with
// --auth, and the official SDK client presenting a token.
import { createHmac, randomBytes } from 'node:crypto';
import { writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { makeWorld, Client } from './peers.mjs';
import { StreamableHTTPClientTransport, httpRequest, JSON_HEADERS, initializeBody, launchGateway } from './http-peers.mjs';

export const ISSUER = 'https://idp.test';
export const AUDIENCE = 'scopegate';

const b64 = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

// A world (peers.mjs) with auth.json trusting one HS256 key. token(claims, header) signs
// a token for alice/viewer/acme/test, valid for ten minutes, with claims overridden
// (undefined removes one); sign(payload, header, secret) signs exactly what it is given.
export function bearerWorld(world = makeWorld()) {
  const secret = randomBytes(32);
  writeFileSync(join(world.dir, 'hs.key'), secret);
  chmodSync(join(world.dir, 'hs.key'), 0o600);
  const auth = join(world.dir, 'auth.json');
  writeFileSync(auth, JSON.stringify({ issuer: ISSUER, audience: AUDIENCE,
    keys: [{ kid: 'k1', alg: 'HS256', file: 'hs.key' }] }));
  const sign = (payload, header = { alg: 'HS256', typ: 'JWT', kid: 'k1' }, key = secret) => {
    const body = `${b64(header)}.${b64(payload)}`;
    return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
  };
  const token = (over = {}, header) => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: ISSUER, aud: AUDIENCE, sub: 'alice', roles: ['viewer'], tenant: 'acme', env: 'test',
      iat: now, exp: now + 600, ...over };
    for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
    return sign(claims, header);
  };
  return { ...world, auth, secret, sign, token };
}

// Starts `scopegate serve --auth ... --listen ...` (no operator identity) and resolves
// once it says where it listens. Two gateways at once need a database each.
export async function startBearerGateway(world, { listen = ['127.0.0.1:0'], db = world.db, extraArgs = [] } = {}) {
  const args = ['serve', '--catalog', world.catalog, '--db', db, '--auth', world.auth,
    ...listen.flatMap((l) => ['--listen', l]), ...extraArgs];
  const gw = await launchGateway(args, listen.length);
  const url = gw.urls[0];
  return { ...gw, url, port: Number(new URL(url).port) };
}

// The SDK client over Streamable HTTP, presenting token on every request.
export async function bearerClient(url, token, { name = 'scopegate-bearer-test' } = {}) {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

export const bearer = (token) => ({ ...JSON_HEADERS, authorization: `Bearer ${token}` });

// A session started with raw requests under token; resolves with its id.
export async function bearerInitialize(gw, token) {
  const r = await httpRequest({ port: gw.port, headers: bearer(token), body: initializeBody() });
  if (r.status !== 200) throw new Error(`initialize: ${r.status} ${r.body}`);
  const sid = r.headers['mcp-session-id'];
  const n = await httpRequest({ port: gw.port, headers: { ...bearer(token), 'mcp-session-id': sid },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  if (n.status !== 202) throw new Error(`notifications/initialized: ${n.status}`);
  return sid;
}

// The downstream instances the gateway started, from its log: [{ server, tenant, env, pid }].
export function downstreamPids(log) {
  return [...log.matchAll(/downstream (\S+) \(tenant (\S+), env (\S+)\) started, pid (\d+)/g)]
    .map((m) => ({ server: m[1], tenant: m[2], env: m[3], pid: Number(m[4]) }));
}
