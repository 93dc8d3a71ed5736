// Plumbing for the tests of downstream servers reached over Streamable HTTP:
// server-everything in its streamableHttp mode on a free port, a pass-through proxy that
// records what scopegate sends it (and what comes back), and a world whose "everything"
// server is such a URL with per-tenant credentials.
import { spawn } from 'node:child_process';
import { createServer, request } from 'node:http';
import { createServer as netServer, connect as netConnect } from 'node:net';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { makeWorld, until, EVERYTHING } from './peers.mjs';

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = netServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function canConnect(port) {
  return new Promise((resolve) => {
    const c = netConnect(port, '127.0.0.1');
    c.on('connect', () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  });
}

// server-everything over Streamable HTTP on a free port.
export async function startEverything() {
  const port = await freePort();
  const child = spawn(process.execPath, [EVERYTHING, 'streamableHttp'], {
    env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((r) => child.on('exit', r));
  await until(() => canConnect(port), { timeoutMs: 20000, stepMs: 50 }).catch(() => {
    throw new Error(`server-everything did not listen:\n${log}`);
  });
  return { child, port, stop: () => { child.kill('SIGTERM'); return exited; } };
}

// A pass-through proxy that records each request's method and headers and the text of
// its answer (event streams included, as they are piped back). With answer, a POST
// whose body answer(body, res) takes (it returns true) is answered by the proxy itself;
// with headers, the server's answer headers pass through it.
export async function startProxy(target, { answer, headers = (h) => h } = {}) {
  const seen = [];
  const server = createServer(async (req, res) => {
    const entry = { method: req.method, url: req.url, headers: { ...req.headers }, status: 0, body: '' };
    seen.push(entry);
    let body;
    if (answer && req.method === 'POST') {
      const parts = [];
      for await (const part of req) parts.push(part);
      body = Buffer.concat(parts);
      if (answer(body.toString(), res)) return;
    }
    const up = request({ host: '127.0.0.1', port: target, method: req.method, path: req.url,
      headers: req.headers }, (ur) => {
      entry.status = ur.statusCode;
      res.writeHead(ur.statusCode, headers({ ...ur.headers }));
      ur.on('data', (d) => { entry.body += d; });
      ur.pipe(res);
    });
    up.on('error', () => { res.writeHead(502); res.end(); });
    res.on('close', () => up.destroy());
    if (body) up.end(body);
    else req.pipe(up);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { seen, port: server.address().port, stop: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

// A world whose "everything" server is url, with per-tenant credentials.
export function httpWorld(url, world = makeWorld({ record: false })) {
  const path = join(world.catalog, 'servers.json');
  const servers = JSON.parse(readFileSync(path, 'utf8'));
  servers.servers.everything = { transport: 'http', url, headers: { 'X-Catalog': 'scopegate-test' },
    credentials: ['Authorization'], call_timeout_ms: 20000, startup_timeout_ms: 10000 };
  writeFileSync(path, JSON.stringify(servers, null, 2));
  const secrets = join(world.dir, 'secrets.json');
  writeFileSync(secrets, JSON.stringify({ servers: { everything: {
    acme: { test: { env: { Authorization: 'Bearer acme-downstream' } } },
    globex: { test: { env: { Authorization: 'Bearer globex-downstream' } } },
  } } }));
  chmodSync(secrets, 0o600);
  return { ...world, secrets };
}
