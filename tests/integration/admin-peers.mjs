// Plumbing for the admin API and console tests: a world whose write_file calls wait for a
// person, an HS256 auth configuration with tokens minted for it, a gateway started by the
// SDK client over stdio with --admin-listen, and requests to the admin listener.
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeWorld, connect, until } from './peers.mjs';
import { httpRequest } from './http-peers.mjs';

const b64 = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

export function sign(secret, payload, header = { alg: 'HS256', typ: 'JWT', kid: 'k1' }) {
  const body = `${b64(header)}.${b64(payload)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

// A copy of the example catalog where the editor's write_file needs an approval, and an
// auth configuration; token(claims) mints a token for it (by default carol, an approver).
export function adminWorld({ timeoutSeconds = 60 } = {}) {
  const world = makeWorld();
  const path = join(world.catalog, 'matrix.json');
  const matrix = JSON.parse(readFileSync(path, 'utf8'));
  matrix.roles.editor.tools.write_file.approval = { mode: 'required', timeout_seconds: timeoutSeconds };
  writeFileSync(path, JSON.stringify(matrix));
  const secret = randomBytes(32);
  writeFileSync(join(world.dir, 'hs.key'), secret);
  chmodSync(join(world.dir, 'hs.key'), 0o600);
  const auth = join(world.dir, 'auth.json');
  writeFileSync(auth, JSON.stringify({
    issuer: 'https://idp.test', audience: 'scopegate',
    keys: [{ kid: 'k1', alg: 'HS256', file: 'hs.key' }],
  }));
  const token = (over = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return sign(secret, { iss: 'https://idp.test', aud: 'scopegate', sub: 'carol', roles: ['approver'],
      tenant: 'acme', env: 'test', iat: now, exp: now + 600, ...over });
  };
  return { world, auth, token, forged: (over = {}) => sign(randomBytes(32), { sub: 'mallory', ...over }) };
}

// Starts scopegate (stdio, for the SDK client) with the admin listener on listen, and
// resolves once it says where the admin API is. admin is { url } for TCP or
// { socketPath } for a Unix socket.
export async function connectWithAdmin(aw, { listen = '127.0.0.1:0', role = 'editor', subject = 'bob' } = {}) {
  const gw = await connect(aw.world, { role, subject, extraArgs: ['--auth', aw.auth, '--admin-listen', listen] });
  const where = await until(() => gw.log().match(/admin API on (\S+)/)?.[1]);
  const admin = where.startsWith('unix:') ? { socketPath: where.slice(5) } : { url: where, port: Number(new URL(where).port) };
  return { ...gw, admin };
}

// One request to the admin listener. body (an object) is sent as JSON unless raw is given.
// Resolves with { status, headers, body, json }.
export async function adminRequest(admin, method, path, { token, body, raw, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload = raw;
  if (body !== undefined) {
    payload = JSON.stringify(body);
    h['content-type'] ??= 'application/json';
  }
  const r = await httpRequest({ port: admin.port, socketPath: admin.socketPath, method, path, headers: h, body: payload });
  let json;
  try {
    json = JSON.parse(r.body);
  } catch {
    json = undefined;
  }
  return { ...r, json };
}

// The approvals pending, once there are at least n.
export async function pendingApprovals(admin, token, n = 1) {
  return until(async () => {
    const r = await adminRequest(admin, 'GET', '/admin/approvals', { token });
    if (r.status !== 200) throw new Error(`GET /admin/approvals: ${r.status} ${r.body}`);
    return r.json.approvals.length >= n ? r.json.approvals : null;
  });
}

// The value of one series in a Prometheus text exposition, or undefined.
export function metric(text, name, labels = {}) {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    const have = m[2] ? m[2].match(/[a-zA-Z_]+="(?:[^"\\]|\\.)*"/g) : [];
    if (want.length === have.length && want.every((w) => have.includes(w))) return Number(m[3]);
  }
  return undefined;
}
