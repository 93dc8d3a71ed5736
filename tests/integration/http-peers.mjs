// Plumbing for the Streamable HTTP tests: starting `scopegate serve --listen ...` and
// reading the addresses it prints, the official SDK client over HTTP, and raw HTTP
// (http.request or a bare socket) for what a well-behaved client never sends.
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { ROOT, SCOPEGATE, Client } from './peers.mjs';

const SDK = join(ROOT, 'tools/node_modules/@modelcontextprotocol/sdk/dist/esm');
export const { StreamableHTTPClientTransport } = await import(join(SDK, 'client/streamableHttp.js'));

// Runs `scopegate ARGS...` and resolves, once it has announced n listeners on stderr,
// with the process, its addresses (as printed) and its log so far.
export async function launchGateway(args, n) {
  const child = spawn(SCOPEGATE, args, { stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, SCOPEGATE_LOG: process.env.SCOPEGATE_TEST_LOG ?? 'info' } });
  let log = '';
  const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  const urls = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`scopegate did not start listening:\n${log}`)), 20000);
    child.stderr.on('data', (d) => {
      log += d;
      const found = [...log.matchAll(/listening on (\S+)/g)].map((m) => m[1]);
      if (found.length === n) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    exited.then(({ code }) => reject(new Error(`scopegate exited (${code}) before listening:\n${log}`)));
  });
  return {
    child,
    exited,
    urls,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

// Starts scopegate serving HTTP on the given --listen addresses (default: a free
// loopback port) and resolves once every listener is announced on stderr.
export async function startGateway(world, { listen = ['127.0.0.1:0'], role = 'viewer', tenant = 'acme',
  env = 'test', subject = 'alice', extraArgs = [] } = {}) {
  const args = ['serve', '--catalog', world.catalog, '--db', world.db, '--role', role, '--tenant', tenant,
    '--env', env, '--subject', subject, ...listen.flatMap((l) => ['--listen', l]), ...extraArgs];
  const gw = await launchGateway(args, listen.length);
  const tcp = gw.urls.find((u) => u.startsWith('http://'));
  const unixUrl = gw.urls.find((u) => u.startsWith('unix:'));
  return {
    ...gw,
    url: tcp, // e.g. http://127.0.0.1:40123/mcp
    port: tcp ? Number(new URL(tcp).port) : undefined,
    socketPath: unixUrl?.slice('unix:'.length),
  };
}

// The SDK client over Streamable HTTP.
export async function sdkClient(url, { name = 'scopegate-http-test' } = {}) {
  const transport = new StreamableHTTPClientTransport(new URL(url));
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

// One HTTP request; resolves with { status, headers, body } (body as text). Options:
// port or socketPath, method, path, headers, body, and timeoutMs.
export function httpRequest({ port, socketPath, method = 'POST', path = '/mcp', headers = {}, body, timeoutMs = 15000 }) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, socketPath, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('HTTP request timed out')));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

export const initializeBody = (id = 1, protocolVersion = '2025-11-25') => JSON.stringify({ jsonrpc: '2.0', id,
  method: 'initialize', params: { protocolVersion, capabilities: {}, clientInfo: { name: 'raw-http', version: '1' } } });

// Starts a session with raw requests; resolves with its id.
export async function rawInitialize(target, protocolVersion = '2025-11-25') {
  const r = await httpRequest({ ...target, headers: JSON_HEADERS, body: initializeBody(1, protocolVersion) });
  if (r.status !== 200) throw new Error(`initialize: ${r.status} ${r.body}`);
  const sid = r.headers['mcp-session-id'];
  const n = await httpRequest({ ...target, headers: { ...JSON_HEADERS, 'mcp-session-id': sid },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  if (n.status !== 202) throw new Error(`notifications/initialized: ${n.status}`);
  return sid;
}

// The events of an SSE body, each with its id and JSON-RPC message (undefined for an
// event without data). An unfinished last event is left out.
export function sseEvents(text) {
  const events = [];
  for (const block of text.split('\n\n').slice(0, -1)) {
    let id;
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('id:')) id = line.slice(3).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (id === undefined && data.length === 0) continue;
    const joined = data.join('\n');
    events.push({ id, message: joined ? JSON.parse(joined) : undefined });
  }
  return events;
}

// A bare TCP (or Unix) connection for bytes no HTTP library would send. read() resolves
// with everything received once the server closes the connection (or after timeoutMs).
export function rawSocket({ port, socketPath }) {
  const sock = socketPath ? netConnect(socketPath) : netConnect(port, '127.0.0.1');
  let received = '';
  let closed = false;
  const waiters = [];
  sock.setEncoding('utf8');
  sock.on('data', (d) => {
    received += d;
    for (const w of waiters.splice(0)) w();
  });
  const ended = new Promise((r) => sock.on('close', () => { closed = true; r(); }));
  sock.on('error', () => {});
  const connected = new Promise((r, j) => { sock.once('connect', r); sock.once('error', j); });
  return {
    sock,
    connected,
    write(s) { sock.write(s); },
    received: () => received,
    closed: () => closed,
    // Resolves when the received text satisfies pred.
    async waitFor(pred, timeoutMs = 15000) {
      const end = Date.now() + timeoutMs;
      while (!pred(received)) {
        if (closed) throw new Error(`connection closed; received:\n${received}`);
        const left = end - Date.now();
        if (left <= 0) throw new Error(`timed out; received:\n${received}`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, Math.min(left, 200)); });
      }
      return received;
    },
    async read(timeoutMs = 15000) {
      await Promise.race([ended, new Promise((r) => setTimeout(r, timeoutMs))]);
      return received;
    },
    destroy() { sock.destroy(); },
  };
}
